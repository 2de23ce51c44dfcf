/* Host interpreter set-up: exact arena, the golden input generator, and
 * the error paths the CLI relies on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"
#include "tools/lib/host_interp.h"

static char g_path[1024];

/* 1 when $TINYML_SHARED/<rel> exists (tests needing it skip otherwise). */
static int have_shared(const char *rel)
{
    size_t n = 0;
    void *p = tml_test_read_shared(rel, &n);
    free(p);
    return p != NULL;
}

static const char *model_path(const char *stem)
{
    snprintf(g_path, sizeof g_path, "%s/models/mlperf-tiny/%s.tflite",
             tml_test_shared_dir(), stem);
    return g_path;
}

/* The generator must reproduce the goldens' seedN.input.bin exactly. */
static void check_random_matches_golden(const char *stem, uint32_t seed)
{
    tml_host_interp h;
    char err[512] = "";
    char rel[256];
    snprintf(rel, sizeof rel, "goldens/%s/seed%u.input.bin", stem,
             (unsigned)seed);
    size_t golden_size = 0;
    uint8_t *golden = tml_test_read_shared(rel, &golden_size);
    if (!golden)
        skip();
    assert_int_equal(tml_host_open(&h, model_path(stem), err, sizeof err),
                     TML_HOST_OK);
    assert_int_equal(tml_host_fill_random(&h.it, seed, err, sizeof err), 0);
    tml_tensor_info info;
    assert_int_equal(tml_input_details(&h.it, 0, &info), TML_OK);
    assert_int_equal(info.bytes, golden_size);
    assert_memory_equal(tml_input_data(&h.it, 0), golden, golden_size);
    free(golden);
    tml_host_close(&h);
}

static void test_random_int8_matches_golden(void **state)
{
    (void)state;
    check_random_matches_golden("kws_ref_model", 1);
    check_random_matches_golden("kws_ref_model", 3);
    check_random_matches_golden("ad01_int8", 2);
}

static void test_random_float_matches_golden(void **state)
{
    (void)state;
    check_random_matches_golden("ad01_fp32", 1);
    check_random_matches_golden("vww_96_float", 2);
}

static void test_first_lcg_values(void **state)
{
    (void)state;
    /* seed 1: state = 1 * 1664525 + 1013904223 = 1015568748 (0x3c88596c)
     * -> int8 0x3c - 128 = -68; next 1015568748 * 1664525 + 1013904223
     * mod 2^32 = 1586005467 (0x5e8885db) -> 0x5e - 128 = -34. */
    tml_host_interp h;
    char err[512] = "";
    if (!have_shared("models/mlperf-tiny/kws_ref_model.tflite"))
        skip();
    assert_int_equal(tml_host_open(&h, model_path("kws_ref_model"), err,
                                   sizeof err), TML_HOST_OK);
    assert_int_equal(tml_host_fill_random(&h.it, 1, err, sizeof err), 0);
    const int8_t *in = tml_input_data(&h.it, 0);
    assert_int_equal(in[0], -68);
    assert_int_equal(in[1], -34);
    tml_host_close(&h);
}

static void test_arena_is_exact(void **state)
{
    (void)state;
    tml_host_interp h;
    char err[512] = "";
    if (!have_shared("models/mlperf-tiny/kws_ref_model.tflite"))
        skip();
    assert_int_equal(tml_host_open(&h, model_path("kws_ref_model"), err,
                                   sizeof err), TML_HOST_OK);
    assert_true(h.arena_size > 0);
    assert_int_equal(h.arena_size, tml_arena_needed(&h.it));
    assert_true(h.arena_size < TML_HOST_ARENA_START);
    /* A model bigger than the first 1 MB arena grows into a proven one. */
    tml_host_interp v;
    assert_int_equal(tml_host_open(&v, model_path("vww_96_float"), err,
                                   sizeof err), TML_HOST_OK);
    assert_int_equal(v.arena_size, tml_arena_needed(&v.it));
    assert_true(v.arena_size > 200000);
    tml_host_close(&v);
    tml_host_close(&h);
}

static void test_errors(void **state)
{
    (void)state;
    tml_host_interp h;
    char err[512] = "";
    assert_int_equal(tml_host_open(&h, "/nonexistent/m.tflite", err,
                                   sizeof err), TML_HOST_INPUT);
    assert_string_equal(err, "/nonexistent/m.tflite: No such file or "
                        "directory");
    assert_null(h.model);
    assert_null(h.arena);
    static const uint8_t junk[64] = {1, 2, 3};
    assert_int_equal(tml_host_open_bytes(&h, junk, sizeof junk, "junk.tflite",
                                         err, sizeof err), TML_HOST_INPUT);
    assert_memory_equal(err, "junk.tflite: ", 13);
    assert_null(strchr(err, '\n'));
    assert_null(h.model);
    tml_host_close(&h);   /* safe on a closed interpreter */
}

static void test_format_helpers(void **state)
{
    (void)state;
    char out[64];
    const int32_t dims[4] = {1, 49, 10, 1};
    tml_host_format_dims(dims, 4, out, sizeof out);
    assert_string_equal(out, "[1, 49, 10, 1]");
    tml_host_format_dims(dims, 0, out, sizeof out);
    assert_string_equal(out, "[]");
    tml_host_format_dims(dims, 4, out, 6);
    assert_string_equal(out, "[1, 4");
    tml_host_sanitize("a\nb\r\x1b[2Jc\x7f", out, sizeof out);
    assert_string_equal(out, "a?b??[2Jc?");
    tml_host_sanitize("abcdef", out, 4);
    assert_string_equal(out, "abc");
    tml_host_sanitize(NULL, out, sizeof out);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_int8_matches_golden),
        cmocka_unit_test(test_random_float_matches_golden),
        cmocka_unit_test(test_first_lcg_values),
        cmocka_unit_test(test_arena_is_exact),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_format_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
