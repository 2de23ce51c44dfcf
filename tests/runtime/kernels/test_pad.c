/* PAD through the public API (one-op models), hand-computed outputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "op_checks.h"
#include "test_util.h"

static tml_test_op pad_op(tml_dtype type, int rank, const int32_t *in_dims,
                          const int32_t *out_dims, const int32_t *paddings)
{
    tml_test_op op = {
        .builtin = 34,
        .options = tml_tfl_empty_options(TML_OPT_PAD),
        .ninputs = 2,
        .noutputs = 1,
    };
    op.inputs[0].type = type;
    tml_test_set_shape(&op.inputs[0], rank, in_dims);
    op.inputs[1].type = TML_INT32;
    tml_test_set_shape(&op.inputs[1], 2, (const int32_t[]){ rank, 2 });
    op.inputs[1].data = paddings;
    op.outputs[0].type = type;
    tml_test_set_shape(&op.outputs[0], rank, out_dims);
    return op;
}

static void test_pad_float_2d(void **state)
{
    (void)state;
    static const int32_t pads[4] = { 1, 0, 0, 2 };
    tml_test_op op = pad_op(TML_FLOAT32, 2, (const int32_t[]){ 2, 3 },
                            (const int32_t[]){ 3, 5 }, pads);
    const float x[6] = { 1, 2, 3, 4, 5, 6 };
    const float want[15] = { 0, 0, 0, 0, 0,
                             1, 2, 3, 0, 0,
                             4, 5, 6, 0, 0 };
    float y[15];
    memset(y, 0xff, sizeof y);
    tml_test_run_op_ok(&op, x, y);
    assert_memory_equal(y, want, sizeof want);
}

/* TFLite int8: padded cells hold the output zero point (real 0). */
static void test_pad_int8_image_uses_zero_point(void **state)
{
    (void)state;
    static const int32_t pads[8] = { 0, 0, 1, 1, 1, 1, 0, 0 };
    tml_test_op op = pad_op(TML_INT8, 4, (const int32_t[]){ 1, 2, 2, 1 },
                            (const int32_t[]){ 1, 4, 4, 1 }, pads);
    op.inputs[0].scale = 0.25f;
    op.inputs[0].zero_point = -5;
    op.outputs[0].scale = 0.25f;
    op.outputs[0].zero_point = -5;
    const int8_t x[4] = { 10, -128, 127, 0 };
    const int8_t want[16] = { -5, -5, -5, -5,
                              -5, 10, -128, -5,
                              -5, 127, 0, -5,
                              -5, -5, -5, -5 };
    int8_t y[16];
    tml_test_run_op_ok(&op, x, y);
    assert_memory_equal(y, want, sizeof want);
}

static void test_pad_int8_channels_and_batch(void **state)
{
    (void)state;
    static const int32_t pads[8] = { 1, 0, 0, 0, 0, 1, 1, 1 };
    tml_test_op op = pad_op(TML_INT8, 4, (const int32_t[]){ 1, 1, 1, 2 },
                            (const int32_t[]){ 2, 1, 2, 4 }, pads);
    op.inputs[0].scale = 1.0f;
    op.inputs[0].zero_point = 3;
    op.outputs[0].scale = 1.0f;
    op.outputs[0].zero_point = 3;
    const int8_t x[2] = { -7, 8 };
    const int8_t want[16] = { 3, 3, 3, 3, 3, 3, 3, 3,
                              3, -7, 8, 3, 3, 3, 3, 3 };
    int8_t y[16];
    tml_test_run_op_ok(&op, x, y);
    assert_memory_equal(y, want, sizeof want);
}

static void test_pad_int32_1d_and_int16_5d(void **state)
{
    (void)state;
    static const int32_t pads1[2] = { 2, 1 };
    tml_test_op op = pad_op(TML_INT32, 1, (const int32_t[]){ 2 },
                            (const int32_t[]){ 5 }, pads1);
    const int32_t x[2] = { -100000, 7 };
    const int32_t want[5] = { 0, 0, -100000, 7, 0 };
    int32_t y[5];
    tml_test_run_op_ok(&op, x, y);
    assert_memory_equal(y, want, sizeof want);

    static const int32_t pads5[10] = { 0, 0, 0, 1, 0, 0, 0, 0, 1, 0 };
    tml_test_op op5 = pad_op(TML_INT16, 5,
                             (const int32_t[]){ 1, 1, 1, 1, 2 },
                             (const int32_t[]){ 1, 2, 1, 1, 3 }, pads5);
    op5.inputs[0].scale = 0.5f;
    op5.outputs[0].scale = 0.5f;
    const int16_t x5[2] = { -300, 301 };
    const int16_t want5[6] = { 0, -300, 301, 0, 0, 0 };
    int16_t y5[6];
    tml_test_run_op_ok(&op5, x5, y5);
    assert_memory_equal(y5, want5, sizeof want5);
}

static void test_pad_rejects_runtime_paddings(void **state)
{
    (void)state;
    tml_test_op op = pad_op(TML_FLOAT32, 2, (const int32_t[]){ 2, 3 },
                            (const int32_t[]){ 3, 5 }, NULL);
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 PAD: input 1 (paddings) tensor 1 'input1': expected a "
                                  "constant tensor, got one computed at run time");
}

static void test_pad_rejects_wrong_output(void **state)
{
    (void)state;
    static const int32_t pads[4] = { 1, 0, 0, 2 };
    tml_test_op op = pad_op(TML_FLOAT32, 2, (const int32_t[]){ 2, 3 },
                            (const int32_t[]){ 3, 4 }, pads);
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 PAD: output 0 tensor 2 'output0': axis 1: expected 5, "
                                  "got 4");
}

static void test_pad_rejects_negative_and_bad_shape(void **state)
{
    (void)state;
    static const int32_t neg[4] = { 0, 0, -1, 0 };
    tml_test_op op = pad_op(TML_FLOAT32, 2, (const int32_t[]){ 2, 3 },
                            (const int32_t[]){ 2, 2 }, neg);
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 PAD: input 1 (paddings) tensor 1 'input1': axis 1: "
                                  "expected non-negative paddings, got -1, 0");
    static const int32_t pads[6] = { 0, 0, 0, 0, 0, 0 };
    tml_test_op bad = pad_op(TML_FLOAT32, 2, (const int32_t[]){ 2, 3 },
                             (const int32_t[]){ 2, 3 }, pads);
    bad.inputs[1].dims[0] = 3;
    tml_test_expect_prepare_error(&bad, TML_ERROR_MODEL,
                                  "op 0 PAD: input 1 (paddings) tensor 1 'input1': expected "
                                  "int32 [2, 2]");
}

static void test_pad_rejects_uint8(void **state)
{
    (void)state;
    static const int32_t pads[2] = { 1, 1 };
    tml_test_op op = pad_op(TML_UINT8, 1, (const int32_t[]){ 2 },
                            (const int32_t[]){ 4 }, pads);
    op.inputs[0].scale = 1.0f;
    op.outputs[0].scale = 1.0f;
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 PAD: input 0 tensor 0 'input0': expected float32, "
                                  "int8, int16 or int32, got uint8");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pad_float_2d),
        cmocka_unit_test(test_pad_int8_image_uses_zero_point),
        cmocka_unit_test(test_pad_int8_channels_and_batch),
        cmocka_unit_test(test_pad_int32_1d_and_int16_5d),
        cmocka_unit_test(test_pad_rejects_runtime_paddings),
        cmocka_unit_test(test_pad_rejects_wrong_output),
        cmocka_unit_test(test_pad_rejects_negative_and_bad_shape),
        cmocka_unit_test(test_pad_rejects_uint8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
