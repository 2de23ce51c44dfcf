/*
 * The runtime built with -DTML_TRUSTED_MODEL (exported device projects,
 * runtime/model.h "verify once"): tests/CMakeLists.txt compiles every
 * runtime source again with the define into tinyml_runtime_trusted and
 * links only that (not tinyml_host, whose runtime verifies).
 *
 * Valid models still load and run byte-exact against the TFLite Micro
 * goldens; the cheap checks tml_create keeps give their one-line errors;
 * tml_verify, which needs the verifier, says it is not built in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tinyml/tinyml.h"
#include "trusted_util.h"

#ifndef TML_TRUSTED_MODEL
#error "build this test with -DTML_TRUSTED_MODEL (tests/CMakeLists.txt)"
#endif

#define ARENA_BYTES (256 * 1024)

static void *new_arena(void)
{
    void *a = aligned_alloc(16, ARENA_BYTES);
    assert_non_null(a);
    return a;
}

/* One golden: create, allocate, set every input, invoke, and compare
 * every output byte with the TFLite Micro reference output. */
static void run_golden(const char *model, const char *seed)
{
    char rel[256];
    snprintf(rel, sizeof rel, "models/mlperf-tiny/%s.tflite", model);
    blob m = trusted_read_shared(rel);
    snprintf(rel, sizeof rel, "goldens/%s/%s.input.bin", model, seed);
    blob in = trusted_read_shared(rel);
    snprintf(rel, sizeof rel, "goldens/%s/%s.output.bin", model, seed);
    blob want = trusted_read_shared(rel);
    void *arena = new_arena();
    tml_interpreter *it = calloc(1, sizeof *it);
    assert_non_null(it);

    tml_status s = tml_create(it, m.data, m.size, arena, ARENA_BYTES);
    if (s == TML_OK)
        s = tml_allocate(it);
    if (s != TML_OK)
        fail_msg("%s: %s", model, tml_error(it));
    size_t off = 0;
    for (int32_t i = 0; i < tml_input_count(it); i++) {
        size_t n = tml_input_bytes(it, i);
        assert_true(off + n <= in.size);
        assert_int_equal(tml_set_input(it, i, in.data + off, n), TML_OK);
        off += n;
    }
    assert_int_equal(off, in.size);
    assert_int_equal(tml_invoke(it), TML_OK);
    off = 0;
    for (int32_t i = 0; i < tml_output_count(it); i++) {
        size_t n = tml_output_bytes(it, i);
        assert_true(off + n <= want.size);
        assert_memory_equal(tml_output_data(it, i), want.data + off, n);
        off += n;
    }
    assert_int_equal(off, want.size);
    free(it);
    free(arena);
    free(m.data);
    free(in.data);
    free(want.data);
}

static void test_ad01_int8_goldens(void **state)
{
    (void)state;
    run_golden("ad01_int8", "seed1");
    run_golden("ad01_int8", "seed2");
}

static void test_kws_goldens(void **state)
{
    (void)state;
    run_golden("kws_ref_model", "seed1");
    run_golden("kws_ref_model", "seed3");
}

/* tml_create on (data, size): the status and the exact message. */
static void expect_create(const void *data, size_t size, tml_status want,
                          const char *msg)
{
    void *arena = new_arena();
    tml_interpreter *it = calloc(1, sizeof *it);
    assert_non_null(it);
    assert_int_equal(tml_create(it, data, size, arena, ARENA_BYTES), want);
    assert_string_equal(tml_error(it), msg);
    assert_null(strchr(tml_error(it), '\n'));
    free(it);
    free(arena);
}

static void test_wrong_magic(void **state)
{
    (void)state;
    blob m = trusted_read_shared("models/mlperf-tiny/ad01_int8.tflite");
    m.data[5] = 'X';    /* "TXL3" */
    expect_create(m.data, m.size, TML_ERROR_MODEL,
                  "not a TFLite model (no \"TFL3\" identifier at offset 4)");
    /* Another blob altogether, e.g. the test input array. */
    blob in = trusted_read_shared("goldens/ad01_int8/seed1.input.bin");
    expect_create(in.data, in.size, TML_ERROR_MODEL,
                  "not a TFLite model (no \"TFL3\" identifier at offset 4)");
    free(m.data);
    free(in.data);
}

static void test_cheap_checks(void **state)
{
    (void)state;
    blob m = trusted_read_shared("models/mlperf-tiny/ad01_int8.tflite");
    expect_create(NULL, m.size, TML_ERROR_ARGUMENT,
                  "tml_create: model is NULL");
    expect_create(m.data, 7, TML_ERROR_MODEL,
                  "model is 7 bytes, expected 8 to 2^31 - 1");

    /* The same bytes 2 bytes off a 4-byte boundary. */
    uint8_t *shifted = aligned_alloc(16, (m.size + 32) & ~(size_t)15);
    assert_non_null(shifted);
    memcpy(shifted + 2, m.data, m.size);
    expect_create(shifted + 2, m.size, TML_ERROR_MODEL,
                  "model data is not 4-byte aligned in memory");
    free(shifted);

    /* Root offset past the end (a truncated copy). */
    uint32_t root = (uint32_t)m.data[0] | (uint32_t)m.data[1] << 8 |
                    (uint32_t)m.data[2] << 16 | (uint32_t)m.data[3] << 24;
    char msg[128];
    snprintf(msg, sizeof msg, "root table: malformed at offset %u (model is "
             "%u bytes)", (unsigned)root, (unsigned)(root + 2));
    expect_create(m.data, root + 2, TML_ERROR_MODEL, msg);

    /* Schema version 2: field 0 of the root table (flatbuffers: the
     * vtable is at root - soffset; its slot 0 follows the two sizes). */
    int32_t soff;
    memcpy(&soff, m.data + root, 4);
    const uint8_t *vt = m.data + (int64_t)root - soff;
    uint16_t vpos = (uint16_t)(vt[4] | vt[5] << 8);
    assert_true(vpos != 0);
    assert_int_equal(m.data[root + vpos], 3);
    m.data[root + vpos] = 2;
    expect_create(m.data, m.size, TML_ERROR_MODEL,
                  "version: is 2, expected 3");
    free(m.data);
}

static void test_verify_not_built_in(void **state)
{
    (void)state;
    blob m = trusted_read_shared("models/mlperf-tiny/ad01_int8.tflite");
    char msg[TML_ERROR_SIZE];
    assert_int_equal(tml_verify(m.data, m.size, msg, sizeof msg),
                     TML_ERROR_UNSUPPORTED);
    assert_string_equal(msg, "tml_verify: this runtime is built with "
                        "TML_TRUSTED_MODEL (no verifier)");
    free(m.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ad01_int8_goldens),
        cmocka_unit_test(test_kws_goldens),
        cmocka_unit_test(test_wrong_magic),
        cmocka_unit_test(test_cheap_checks),
        cmocka_unit_test(test_verify_not_built_in),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
