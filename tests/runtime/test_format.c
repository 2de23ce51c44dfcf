/*
 * The runtime's formatter (runtime/format.h) against the C library's
 * snprintf for every conversion it supports, truncation, and its own
 * rules for NULL strings and unknown conversions.  The file is compiled a
 * second time (narrow_format) with native division only up to 2^32 - 1, as
 * on a 32-bit target, so the long-division path for wider values runs here
 * too.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "format.h"

#define TML_FORMAT_NATIVE_MAX 0xffffffffu
#define tml_vformat narrow_vformat
#define tml_format narrow_format
#include "../../runtime/format.c"
#undef tml_vformat
#undef tml_format

/* Both builds of the formatter must print what snprintf prints. */
#define EXPECT_SAME(...)                                                  \
    do {                                                                  \
        char want[128], got[128], narrow[128];                            \
        int n = snprintf(want, sizeof want, __VA_ARGS__);                 \
        assert_int_equal(tml_format(got, sizeof got, __VA_ARGS__), n);    \
        assert_string_equal(got, want);                                   \
        assert_int_equal(narrow_format(narrow, sizeof narrow, __VA_ARGS__), n); \
        assert_string_equal(narrow, want);                                \
    } while (0)

static void test_conversions_match_snprintf(void **state)
{
    (void)state;
    EXPECT_SAME("op %d %s: tensor %d '%s'", 3, "CONV_2D", -1, "");
    EXPECT_SAME("%d %d %d %i", 0, INT_MIN, INT_MAX, -42);
    EXPECT_SAME("%u %x %x", 4000000000u, 0xdeadbeefu, 0u);
    EXPECT_SAME("%ld %ld %lu %lu", LONG_MIN, LONG_MAX, ULONG_MAX, 0ul);
    EXPECT_SAME("%lld %lld %llu", LLONG_MIN, LLONG_MAX, ULLONG_MAX);
    EXPECT_SAME("%llu %llu %llu", 4294967295ull, 4294967296ull,
                10000000000000000000ull);
    EXPECT_SAME("%zu %zu", (size_t)0, (size_t)-1);
    EXPECT_SAME("%c%c %% 100%%", 'o', 'k');
}

static void test_wide_values_match_snprintf(void **state)
{
    (void)state;
    uint64_t x = 88172645463325252ull;   /* xorshift64 */
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        unsigned long long v = x >> (i % 64);
        EXPECT_SAME("%llu %lld %llx", v, (long long)v, v);
    }
}

static void test_own_rules(void **state)
{
    (void)state;
    char buf[32];
    /* NULL strings, unknown conversions as written, a lone '%' ends. */
    assert_int_equal(tml_format(buf, sizeof buf, "%s|%q|%", (const char *)NULL), 10);
    assert_string_equal(buf, "(null)|%q|");
    /* Truncation: always terminated; the return is the full length. */
    assert_int_equal(tml_format(buf, 5, "abc%dxyz", 12345), 11);
    assert_string_equal(buf, "abc1");
    assert_int_equal(narrow_format(buf, 5, "%llu", 18446744073709551615ull), 20);
    assert_string_equal(buf, "1844");
    assert_int_equal(tml_format(buf, 0, "abc"), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conversions_match_snprintf),
        cmocka_unit_test(test_wide_values_match_snprintf),
        cmocka_unit_test(test_own_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
