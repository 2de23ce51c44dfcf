/*
 * runtime/real.c against the host's native IEEE-754 double: every
 * operation on millions of deterministic pseudo-random operands (full
 * float and double exponent ranges, subnormals, zeros, both signs, sparse
 * mantissas that make exact ties), results compared bit for bit, plus
 * hand-picked edge cases with their known answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "quant.h"
#include "real.h"

/* splitmix64: deterministic, and every bit pattern is reachable. */
static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint64_t dbits(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

static double from_dbits(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

static uint32_t fbits(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

static float from_fbits(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

static int is_finite(double d)
{
    return ((dbits(d) >> 52) & 0x7ff) != 0x7ff;
}

/* The tml_real holding a finite double, built from its bits (independent
 * of real.c). */
static tml_real real_of(double d)
{
    uint64_t b = dbits(d);
    tml_real r = {0, 0, (int32_t)(b >> 63)};
    int32_t exp = (int32_t)((b >> 52) & 0x7ff);
    uint64_t frac = b & (((uint64_t)1 << 52) - 1);
    if (exp == 0 && frac == 0)
        return r;
    r.m = exp ? frac | ((uint64_t)1 << 52) : frac;
    r.e = exp ? exp - 1075 : -1074;
    while (!(r.m >> 52)) {
        r.m <<= 1;
        r.e--;
    }
    return r;
}

/* The double bits a tml_real stands for; for the invalid value, the bits
 * of +-infinity.  Fails the test on a malformed (unnormalised or
 * inexact-as-double) value. */
static uint64_t bits_of(tml_real r)
{
    uint64_t sign = (uint64_t)(r.neg ? 1 : 0) << 63;
    assert_true(r.neg == 0 || r.neg == 1);
    if (tml_real_is_invalid(r))
        return sign | ((uint64_t)0x7ff << 52);
    if (r.m == 0) {
        assert_int_equal(r.e, 0);
        return sign;
    }
    assert_true(r.m >> 52 == 1);
    int32_t be = r.e + 52 + 1023;
    if (be >= 1) {
        assert_true(be < 0x7ff);
        return sign | ((uint64_t)be << 52) | (r.m & (((uint64_t)1 << 52) - 1));
    }
    int32_t sh = -1074 - r.e;
    assert_true(sh > 0 && sh <= 52);
    assert_true((r.m & (((uint64_t)1 << sh) - 1)) == 0);
    return sign | (r.m >> sh);
}

/* Expected bits of a native result: nan and +-inf both map to the
 * invalid value (nan's sign is not kept). */
static void expect_same(double want, tml_real got, const char *what,
                        double x, double y)
{
    if (want != want) {
        if (!tml_real_is_invalid(got))
            fail_msg("%s(%a, %a): want nan, got m=%llx e=%d", what, x, y,
                     (unsigned long long)got.m, (int)got.e);
        return;
    }
    if (bits_of(got) != dbits(want))
        fail_msg("%s(%a, %a): want %a, got %a (m=%llx e=%d neg=%d)", what, x,
                 y, want, from_dbits(bits_of(got)), (unsigned long long)got.m,
                 (int)got.e, (int)got.neg);
}

/* A finite double from one of several shapes:
 * 0 any finite bit pattern (full range, subnormals included),
 * 1 exponent within +-60 of 1 (no overflow/underflow in one op),
 * 2 as 1 but a sparse mantissa (few set bits: products/sums tie exactly),
 * 3 a float widened (the values prepare code starts from),
 * 4 a small integer or power of two, 5 zero. */
static double gen_double(uint64_t *s)
{
    uint64_t r = next(s);
    uint64_t sign = r & ((uint64_t)1 << 63);
    switch (next(s) % 12) {
    case 0:
    case 1: {
        uint64_t b = next(s) & ~((uint64_t)1 << 63);
        if ((b >> 52) == 0x7ff)
            b &= ~((uint64_t)1 << 62);
        return from_dbits(b | sign);
    }
    case 2:
    case 3:
    case 4: {
        uint64_t exp = 1023 - 60 + next(s) % 121;
        return from_dbits(sign | (exp << 52) | (r & (((uint64_t)1 << 52) - 1)));
    }
    case 5:
    case 6:
    case 7: {
        uint64_t exp = 1023 - 60 + next(s) % 121;
        uint64_t frac = r & next(s) & next(s) & next(s);
        if (next(s) & 1)
            frac &= ~(((uint64_t)1 << (next(s) % 52)) - 1);
        return from_dbits(sign | (exp << 52) | (frac & (((uint64_t)1 << 52) - 1)));
    }
    case 8:
    case 9: {
        uint32_t b = (uint32_t)next(s);
        if (((b >> 23) & 0xff) == 0xff)
            b &= ~((uint32_t)1 << 30);
        return (double)from_fbits(b);
    }
    case 10:
        if (r & 2)
            return (double)(int32_t)(next(s) % 2001 - 1000);
        return from_dbits(sign | ((1023 - 200 + next(s) % 401) << 52));
    default:
        return sign ? -0.0 : 0.0;
    }
}

enum { N_RANDOM = 2000000 };

static void test_mul_random(void **state)
{
    (void)state;
    uint64_t s = 1;
    for (int i = 0; i < N_RANDOM; i++) {
        double x = gen_double(&s), y = gen_double(&s);
        expect_same(x * y, tml_real_mul(real_of(x), real_of(y)), "mul", x, y);
    }
}

static void test_div_random(void **state)
{
    (void)state;
    uint64_t s = 2;
    for (int i = 0; i < N_RANDOM; i++) {
        double x = gen_double(&s), y = gen_double(&s);
        if (y == 0.0) {   /* x/0 is inf or nan: invalid either way */
            assert_true(tml_real_is_invalid(tml_real_div(real_of(x), real_of(y))));
            continue;
        }
        expect_same(x / y, tml_real_div(real_of(x), real_of(y)), "div", x, y);
    }
}

static void test_add_sub_random(void **state)
{
    (void)state;
    uint64_t s = 3;
    for (int i = 0; i < N_RANDOM; i++) {
        double x = gen_double(&s), y = gen_double(&s);
        if (next(&s) & 1) {   /* near-equal operands: cancellation */
            uint64_t b = dbits(x) + (next(&s) % 5) - 2;
            if (is_finite(from_dbits(b)))
                y = from_dbits(b);
        }
        expect_same(x + y, tml_real_add(real_of(x), real_of(y)), "add", x, y);
        expect_same(x - y, tml_real_sub(real_of(x), real_of(y)), "sub", x, y);
    }
}

static void test_cmp_random(void **state)
{
    (void)state;
    uint64_t s = 4;
    for (int i = 0; i < N_RANDOM; i++) {
        double x = gen_double(&s), y = gen_double(&s);
        if (next(&s) & 1)
            y = (next(&s) & 1) ? x : -x;
        int want = x < y ? -1 : (x > y ? 1 : 0);
        int got = tml_real_cmp(real_of(x), real_of(y));
        if (got != want)
            fail_msg("cmp(%a, %a): want %d got %d", x, y, want, got);
    }
}

static void test_from_float_every_exponent(void **state)
{
    (void)state;
    uint64_t s = 5;
    /* Every exponent field value (0 = zero/subnormal) with random
     * mantissas, both signs. */
    for (uint32_t exp = 0; exp < 255; exp++)
        for (int i = 0; i < 4000; i++) {
            uint32_t b = (uint32_t)next(&s);
            b = (b & 0x807fffffu) | (exp << 23);
            float f = from_fbits(b);
            expect_same((double)f, tml_real_from_float(f), "from_float", f, 0);
        }
    assert_true(tml_real_is_invalid(tml_real_from_float(from_fbits(0x7f800000u))));
    assert_true(tml_real_is_invalid(tml_real_from_float(from_fbits(0x7fc00000u))));
    assert_int_equal(tml_real_from_float(from_fbits(0xff800000u)).neg, 1);
}

static void test_from_int_random(void **state)
{
    (void)state;
    uint64_t s = 6;
    for (int i = 0; i < N_RANDOM; i++) {
        int64_t v = (int64_t)(next(&s) >> (next(&s) % 64));
        if (next(&s) & 1)
            v = -v;
        if (i % 7 == 0)   /* 2^53 + k around the first inexact integers */
            v = ((int64_t)1 << (53 + next(&s) % 10)) + (int64_t)(next(&s) % 64) - 32;
        expect_same((double)v, tml_real_from_int(v), "from_int", (double)v, 0);
    }
    expect_same((double)INT64_MIN, tml_real_from_int(INT64_MIN), "from_int", 0, 0);
    expect_same((double)INT64_MAX, tml_real_from_int(INT64_MAX), "from_int", 0, 0);
    expect_same(0.0, tml_real_from_int(0), "from_int", 0, 0);
}

static void test_to_float_random(void **state)
{
    (void)state;
    uint64_t s = 7;
    for (int i = 0; i < N_RANDOM; i++) {
        double x = gen_double(&s);
        if (i % 3 == 0) {   /* the float range, subnormals and overflow */
            uint64_t exp = 1023 - 160 + next(&s) % 300;
            x = from_dbits((next(&s) & ~((uint64_t)0x7ff << 52)) | (exp << 52));
            if (i % 2 == 0) {   /* the 29 bits a float drops: 0 or a tie */
                uint64_t b = dbits(x) & ~(((uint64_t)1 << 29) - 1);
                x = from_dbits(b | ((next(&s) & 1) << 28));
            }
        }
        float want = (float)x;
        float got = tml_real_to_float(real_of(x));
        if (fbits(got) != fbits(want))
            fail_msg("to_float(%a): want %a got %a", x, (double)want, (double)got);
    }
}

static void check_qm(double x)
{
    int32_t wm, gm;
    int ws, gs;
    tml_quantize_multiplier(x, &wm, &ws);
    tml_quantize_multiplier_real(real_of(x), &gm, &gs);
    if (wm != gm || ws != gs)
        fail_msg("quantize_multiplier(%a): want %d,%d got %d,%d", x, (int)wm,
                 ws, (int)gm, gs);
}

static void test_quantize_multiplier_random(void **state)
{
    (void)state;
    uint64_t s = 8;
    for (int i = 0; i < N_RANDOM; i++) {
        double x = gen_double(&s);
        if (i % 2 == 0) {   /* mantissas at the Q31 rounding boundary */
            uint64_t b = dbits(x) & ~(((uint64_t)1 << 22) - 1);
            b |= (next(&s) & 1) ? ((uint64_t)1 << 21) : (((uint64_t)1 << 22) - 1);
            if (is_finite(from_dbits(b)))
                x = from_dbits(b);
        }
        check_qm(x);
    }
}

/* Prepare-time scales: products and ratios of floats of every size. */
static float gen_scale(uint64_t *s)
{
    uint32_t b = (uint32_t)next(s);
    switch (next(s) % 4) {
    case 0:   /* any finite float (subnormals, huge, zero) */
        if (((b >> 23) & 0xff) == 0xff)
            b &= ~((uint32_t)1 << 30);
        return from_fbits(b);
    case 1:   /* typical quantisation scales 2^-20 .. 2^4 */
        return from_fbits((b & 0x807fffffu) | ((uint32_t)(127 - 20 + next(s) % 25) << 23));
    case 2:   /* sparse mantissa */
        return from_fbits((b & (uint32_t)next(s) & 0x807fffffu) |
                          ((uint32_t)(127 - 20 + next(s) % 25) << 23));
    default:
        return (float)(int32_t)(next(s) % 512) / 256.0f;
    }
}

static void test_quantize_ratio_random(void **state)
{
    (void)state;
    uint64_t s = 9;
    for (int i = 0; i < N_RANDOM; i++) {
        float a = gen_scale(&s), b = gen_scale(&s), c = gen_scale(&s);
        int32_t wm, gm;
        int ws, gs;
        tml_quantize_multiplier((double)a * (double)b / (double)c, &wm, &ws);
        tml_quantize_ratio(a, b, c, &gm, &gs);
        if (wm != gm || ws != gs)
            fail_msg("quantize_ratio(%a, %a, %a): want %d,%d got %d,%d",
                     (double)a, (double)b, (double)c, (int)wm, ws, (int)gm, gs);
    }
}

static double pow2(int k)
{
    return from_dbits((uint64_t)(1023 + k) << 52);
}

static void test_edge_cases(void **state)
{
    (void)state;
    const double eps = pow2(-52);
    const double min_sub = from_dbits(1);
    const double max = from_dbits(0x7fefffffffffffffu);
    /* Ties to even in add: 1 + 2^-53 -> 1, (1 + 2^-52) + 2^-53 -> 1 + 2^-51. */
    expect_same(1.0, tml_real_add(real_of(1.0), real_of(pow2(-53))), "add", 1, 0);
    expect_same(1.0 + 2 * eps,
                tml_real_add(real_of(1.0 + eps), real_of(pow2(-53))), "add", 1, 0);
    assert_true(1.0 + eps + pow2(-53) == 1.0 + 2 * eps);
    /* Just above the tie rounds up. */
    expect_same(1.0 + eps,
                tml_real_add(real_of(1.0), real_of(pow2(-53) + pow2(-105))),
                "add", 1, 0);
    /* 2 - 2^-53 ties between 2 - 2^-52 and 2: the even one is 2; a bit
     * more (a sticky borrow) goes down to 2 - 2^-52. */
    expect_same(2.0, tml_real_sub(real_of(2.0), real_of(pow2(-53))), "sub", 2, 0);
    expect_same(2.0 - eps,
                tml_real_sub(real_of(2.0), real_of(pow2(-53) + pow2(-100))),
                "sub", 2, 0);
    /* x - x = +0; -0 + -0 = -0; -0 + +0 = +0. */
    assert_int_equal(bits_of(tml_real_sub(real_of(0.1), real_of(0.1))), 0);
    assert_int_equal(bits_of(tml_real_add(real_of(-0.0), real_of(-0.0))),
                     dbits(-0.0));
    assert_int_equal(bits_of(tml_real_add(real_of(-0.0), real_of(0.0))), 0);
    /* (1 + 2^-52)^2 = 1 + 2^-51 + 2^-104 rounds down to 1 + 2^-51. */
    expect_same(1.0 + 2 * eps,
                tml_real_mul(real_of(1.0 + eps), real_of(1.0 + eps)), "mul", 1, 1);
    /* Overflow and underflow. */
    assert_true(tml_real_is_invalid(tml_real_mul(real_of(max), real_of(2.0))));
    assert_true(tml_real_is_invalid(tml_real_add(real_of(max), real_of(max))));
    assert_int_equal(tml_real_mul(real_of(-max), real_of(2.0)).neg, 1);
    expect_same(min_sub, tml_real_mul(real_of(min_sub), real_of(1.0)), "mul", 0, 0);
    /* min_sub / 2 ties to 0 (even); 3 * min_sub / 2 ties to 2 * min_sub. */
    expect_same(0.0, tml_real_div(real_of(min_sub), real_of(2.0)), "div", 0, 0);
    expect_same(2 * min_sub, tml_real_div(real_of(3 * min_sub), real_of(2.0)),
                "div", 0, 0);
    expect_same(-0.0, tml_real_mul(real_of(-pow2(-600)), real_of(pow2(-600))),
                "mul", 0, 0);
    /* Division: 1/3, 2/3, 1/10 against the known doubles. */
    expect_same(0x1.5555555555555p-2, tml_real_div(real_of(1), real_of(3)), "div", 1, 3);
    expect_same(0x1.5555555555555p-1, tml_real_div(real_of(2), real_of(3)), "div", 2, 3);
    expect_same(0x1.999999999999ap-4, tml_real_div(real_of(1), real_of(10)), "div", 1, 10);
    assert_true(tml_real_is_invalid(tml_real_div(real_of(1), real_of(0))));
    assert_true(tml_real_is_invalid(tml_real_div(real_of(0), real_of(0))));
    /* Invalid propagates and compares as infinity. */
    tml_real inf = tml_real_div(real_of(1), real_of(0));
    assert_true(tml_real_is_invalid(tml_real_add(inf, real_of(1))));
    assert_int_equal(tml_real_cmp(inf, real_of(max)), 1);
    assert_int_equal(tml_real_cmp(real_of(-0.0), real_of(0.0)), 0);
    assert_true(fbits(tml_real_to_float(inf)) == 0x7f800000u);
    /* to_float: ties at float precision, float subnormal, overflow. */
    assert_true(tml_real_to_float(real_of(1.0 + pow2(-24))) == 1.0f);
    assert_true(tml_real_to_float(real_of(1.0 + 3 * pow2(-24))) == 1.0f + 0x1p-22f);
    assert_true(fbits(tml_real_to_float(real_of(pow2(-150)))) == 0);
    assert_true(fbits(tml_real_to_float(real_of(pow2(-150) + pow2(-200)))) == 1);
    assert_true(fbits(tml_real_to_float(real_of(0x1.ffffffp127))) == 0x7f800000u);
    assert_true(fbits(tml_real_to_float(real_of(0x1.fffffefffp127))) == 0x7f7fffffu);
    /* The 0.1 * 0.2 / 0.3 of scales (float inputs, double math). */
    int32_t m;
    int sh;
    tml_quantize_ratio(0.1f, 0.2f, 0.3f, &m, &sh);
    assert_int_equal(m, 1145324601);   /* 0x1.111110e38e391p-4 */
    assert_int_equal(sh, -3);
    /* Quantize-multiplier edge cases: 1.0, 2^-31 (shift -30), 2^-32
     * (shift -31 kept), 2^-33 (shift -32 -> 0), round-up to 2^31, negative
     * round-up that stays INT32_MIN, the 1e300 guard. */
    check_qm(1.0);
    check_qm(pow2(-31));
    check_qm(pow2(-32));
    check_qm(pow2(-33));
    check_qm(1.0 - pow2(-40));
    check_qm(-(1.0 - pow2(-40)));
    check_qm(-0.75);
    check_qm(1e300);
    check_qm(from_dbits(dbits(1e300) + 1));
    check_qm(-from_dbits(dbits(1e300) + 1));
    check_qm(min_sub);
    check_qm(0.0);
    tml_quantize_multiplier_real(real_of(1.0 - pow2(-40)), &m, &sh);
    assert_int_equal(m, 1 << 30);
    assert_int_equal(sh, 1);
    tml_quantize_multiplier_real(real_of(-(1.0 - pow2(-40))), &m, &sh);
    assert_int_equal(m, INT32_MIN);
    assert_int_equal(sh, 0);
    tml_quantize_multiplier_real(real_of(pow2(-32)), &m, &sh);
    assert_int_equal(m, 1 << 30);
    assert_int_equal(sh, -31);
    tml_quantize_multiplier_real(real_of(pow2(-33)), &m, &sh);
    assert_int_equal(m, 0);
    assert_int_equal(sh, 0);
    tml_quantize_multiplier_real(inf, &m, &sh);
    assert_int_equal(m, 0);
    assert_int_equal(sh, 0);
    tml_quantize_multiplier_real(real_of(from_dbits(dbits(1e300) + 1)), &m, &sh);
    assert_int_equal(m, 0);
    tml_quantize_multiplier_real(real_of(1e300), &m, &sh);
    assert_int_equal(sh, 997);
}

/* quant.c's tml_udivmod64 (no libgcc 64-bit division) against C's. */
static void test_udivmod64(void **state)
{
    (void)state;
    uint64_t s = 10;
    for (int i = 0; i < N_RANDOM / 4; i++) {
        uint64_t n = next(&s) >> (next(&s) % 64);
        uint32_t d = (uint32_t)(next(&s) >> (32 + next(&s) % 32));
        if (d == 0)
            d = 1 + (uint32_t)(next(&s) % 16);
        uint32_t rem = 0;
        uint64_t q = tml_udivmod64(n, d, &rem);
        if (q != n / d || rem != n % d)
            fail_msg("udivmod64(%llu, %u): want %llu r %u, got %llu r %u",
                     (unsigned long long)n, (unsigned)d,
                     (unsigned long long)(n / d), (unsigned)(n % d),
                     (unsigned long long)q, (unsigned)rem);
    }
    uint32_t rem = 0;
    assert_true(tml_udivmod64(UINT64_MAX, 10, &rem) == 1844674407370955161u);
    assert_int_equal(rem, 5);
    assert_true(tml_udivmod64(UINT64_MAX, UINT32_MAX, &rem) == 4294967297u);
    assert_int_equal(rem, 0);
    assert_true(tml_udivmod64(12345, 1, NULL) == 12345);
    assert_true(tml_udivmod64(0, 7, &rem) == 0);
    assert_int_equal(rem, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_from_float_every_exponent),
        cmocka_unit_test(test_from_int_random),
        cmocka_unit_test(test_mul_random),
        cmocka_unit_test(test_div_random),
        cmocka_unit_test(test_add_sub_random),
        cmocka_unit_test(test_cmp_random),
        cmocka_unit_test(test_to_float_random),
        cmocka_unit_test(test_quantize_multiplier_random),
        cmocka_unit_test(test_quantize_ratio_random),
        cmocka_unit_test(test_udivmod64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
