/* CONCATENATION through the public API (one-op models). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "op_checks.h"
#include "test_util.h"

static void set_tensor(tml_test_tensor *t, tml_dtype type, int rank,
                       const int32_t *dims)
{
    t->type = type;
    t->ndims = rank;
    for (int d = 0; d < rank; d++)
        t->dims[d] = dims[d];
    if (type == TML_INT8) {
        t->scale = 0.125f;
        t->zero_point = 4;
    }
}

static void run(const tml_test_op *op, const void *const *x, void *y)
{
    char err[256];
    tml_status s = tml_test_run_single_op(op, x, (void *[]){ y }, err,
                                          sizeof err);
    if (s != TML_OK)
        fail_msg("%s", err);
}

/* [2,2] ++ [2,1] along the last axis, given as -1. */
static void test_concat_float_negative_axis(void **state)
{
    (void)state;
    tml_test_op op = { .builtin = 2,
                       .options = tml_tfl_concatenation_options(-1,
                                                                TML_ACT_NONE),
                       .ninputs = 2, .noutputs = 1 };
    set_tensor(&op.inputs[0], TML_FLOAT32, 2, (const int32_t[]){ 2, 2 });
    set_tensor(&op.inputs[1], TML_FLOAT32, 2, (const int32_t[]){ 2, 1 });
    set_tensor(&op.outputs[0], TML_FLOAT32, 2, (const int32_t[]){ 2, 3 });
    const float a[4] = { 1, 2, 3, 4 };
    const float b[2] = { -5, -6 };
    const float want[6] = { 1, 2, -5, 3, 4, -6 };
    float y[6];
    run(&op, (const void *[]){ a, b }, y);
    assert_memory_equal(y, want, sizeof want);
}

/* Three int8 [1,2,1,2] tensors along axis 1 (H), one of them constant. */
static void test_concat_int8_axis1_three_inputs(void **state)
{
    (void)state;
    static const int8_t c[2 * 2] = { 100, 101, 102, 103 };
    tml_test_op op = { .builtin = 2, .version = 2,
                       .options = tml_tfl_concatenation_options(1,
                                                                TML_ACT_NONE),
                       .ninputs = 3, .noutputs = 1 };
    set_tensor(&op.inputs[0], TML_INT8, 4, (const int32_t[]){ 1, 2, 1, 2 });
    set_tensor(&op.inputs[1], TML_INT8, 4, (const int32_t[]){ 1, 2, 1, 2 });
    op.inputs[1].data = c;
    set_tensor(&op.inputs[2], TML_INT8, 4, (const int32_t[]){ 1, 1, 1, 2 });
    set_tensor(&op.outputs[0], TML_INT8, 4, (const int32_t[]){ 1, 5, 1, 2 });
    const int8_t a[4] = { -128, 127, 0, 1 };
    const int8_t b[2] = { -1, -2 };
    const int8_t want[10] = { -128, 127, 0, 1, 100, 101, 102, 103, -1, -2 };
    int8_t y[10];
    run(&op, (const void *[]){ a, b }, y);
    assert_memory_equal(y, want, sizeof want);
}

/* int32 along axis 0 of [1,3] and [2,3]; and the middle axis of a 3D. */
static void test_concat_int32_axis0_and_middle(void **state)
{
    (void)state;
    tml_test_op op = { .builtin = 2,
                       .options = tml_tfl_concatenation_options(0,
                                                                TML_ACT_NONE),
                       .ninputs = 2, .noutputs = 1 };
    set_tensor(&op.inputs[0], TML_INT32, 2, (const int32_t[]){ 1, 3 });
    set_tensor(&op.inputs[1], TML_INT32, 2, (const int32_t[]){ 2, 3 });
    set_tensor(&op.outputs[0], TML_INT32, 2, (const int32_t[]){ 3, 3 });
    const int32_t a[3] = { 1, 2, 3 };
    const int32_t b[6] = { 4, 5, 6, 7, 8, 9 };
    const int32_t want[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    int32_t y[9];
    run(&op, (const void *[]){ a, b }, y);
    assert_memory_equal(y, want, sizeof want);

    tml_test_op mid = { .builtin = 2,
                        .options = tml_tfl_concatenation_options(-2,
                                                                 TML_ACT_NONE),
                        .ninputs = 2, .noutputs = 1 };
    set_tensor(&mid.inputs[0], TML_INT32, 3, (const int32_t[]){ 2, 1, 2 });
    set_tensor(&mid.inputs[1], TML_INT32, 3, (const int32_t[]){ 2, 2, 2 });
    set_tensor(&mid.outputs[0], TML_INT32, 3, (const int32_t[]){ 2, 3, 2 });
    const int32_t m0[4] = { 1, 2, 3, 4 };
    const int32_t m1[8] = { 10, 11, 12, 13, 14, 15, 16, 17 };
    const int32_t mwant[12] = { 1, 2, 10, 11, 12, 13,
                                3, 4, 14, 15, 16, 17 };
    int32_t my[12];
    run(&mid, (const void *[]){ m0, m1 }, my);
    assert_memory_equal(my, mwant, sizeof mwant);
}

static tml_test_op int8_pair(void)
{
    tml_test_op op = { .builtin = 2, .version = 2,
                       .options = tml_tfl_concatenation_options(1,
                                                                TML_ACT_NONE),
                       .ninputs = 2, .noutputs = 1 };
    set_tensor(&op.inputs[0], TML_INT8, 2, (const int32_t[]){ 1, 2 });
    set_tensor(&op.inputs[1], TML_INT8, 2, (const int32_t[]){ 1, 2 });
    set_tensor(&op.outputs[0], TML_INT8, 2, (const int32_t[]){ 1, 4 });
    return op;
}

/* TFLM requires int8 inputs to share the output's quantization. */
static void test_concat_int8_rejects_rescale(void **state)
{
    (void)state;
    tml_test_op op = int8_pair();
    op.inputs[1].scale = 0.25f;
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 CONCATENATION: input 1 tensor 1 'input1': int8 inputs "
                                  "must have the output's scale and zero point (no "
                                  "requantization)");
    op = int8_pair();
    op.inputs[0].zero_point = 5;
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 CONCATENATION: input 0 tensor 0 'input0': int8 inputs "
                                  "must have the output's scale and zero point (no "
                                  "requantization)");
}

static void test_concat_rejects_bad_shapes_axis_activation(void **state)
{
    (void)state;
    tml_test_op op = int8_pair();
    op.outputs[0].dims[1] = 5;
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 CONCATENATION: output 0 tensor 2 'output0': axis 1: "
                                  "expected 4 (the inputs' sum), got 5");
    op = int8_pair();
    op.inputs[1].dims[0] = 2;
    op.outputs[0].dims[1] = 2;
    op.options = tml_tfl_concatenation_options(1, TML_ACT_NONE);
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 CONCATENATION: input 1 tensor 1 'input1': axis 0: "
                                  "expected 1, got 2");
    op = int8_pair();
    op.options = tml_tfl_concatenation_options(2, TML_ACT_NONE);
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 CONCATENATION: axis 2: expected -2..1");
    op = int8_pair();
    op.options = tml_tfl_concatenation_options(1, TML_ACT_RELU);
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 CONCATENATION: fused activation 1: expected none");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concat_float_negative_axis),
        cmocka_unit_test(test_concat_int8_axis1_three_inputs),
        cmocka_unit_test(test_concat_int32_axis0_and_middle),
        cmocka_unit_test(test_concat_int8_rejects_rescale),
        cmocka_unit_test(test_concat_rejects_bad_shapes_axis_activation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
