/*
 * AVERAGE_POOL_2D and MAX_POOL_2D, int8 and float32.
 *
 * Hand case: a 4x4 image with 2 channels (channel 1 = -channel 0), 3x3
 * filter, stride 2, SAME padding -> 2x2 output; TFLite pads 0 before and 1
 * after, so the windows hold 9, 6, 6 and 4 cells (padding never counts).
 * Goldens: each model's pooling op, fed TFLite Micro's output of the op
 * before it, must reproduce TFLite Micro's bytes.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/kernels/pooling.h"
#include "op_checks.h"
#include "test_util.h"

enum { AVG = 1, MAX = 17 };

static void test_out_size(void **state)
{
    (void)state;
    int32_t pad = -1, out = -1;
    assert_int_equal(tml_conv_out_size(TML_PAD_SAME, 5, 3, 2, 1, &out, &pad), 0);
    assert_int_equal(out, 3);
    assert_int_equal(pad, 1);   /* (3-1)*2 + 3 - 5 = 2 -> 1 before */
    assert_int_equal(tml_conv_out_size(TML_PAD_VALID, 5, 3, 2, 1, &out, &pad), 0);
    assert_int_equal(out, 2);
    assert_int_equal(pad, 0);
    assert_int_equal(tml_conv_out_size(TML_PAD_SAME, 4, 3, 2, 1, &out, &pad), 0);
    assert_int_equal(out, 2);
    assert_int_equal(pad, 0);   /* total 1: 0 before, 1 after */
    assert_int_equal(tml_conv_out_size(TML_PAD_VALID, 25, 25, 25, 1, &out, &pad), 0);
    assert_int_equal(out, 1);
    assert_int_equal(tml_conv_out_size(TML_PAD_SAME, 4, 3, 0, 1, &out, &pad), -1);
    assert_int_equal(tml_conv_out_size(7, 4, 3, 1, 1, &out, &pad), -1);
}

/* The 4x4x2 hand image. */
static void hand_input_i8(int8_t *x)
{
    for (int i = 0; i < 16; i++) {
        x[2 * i] = (int8_t)(i + 1);
        x[2 * i + 1] = (int8_t)-(i + 1);
    }
}

static tml_pool_params hand_params(void)
{
    tml_pool_params p;
    memset(&p, 0, sizeof p);
    p.batches = 1;
    p.in_h = p.in_w = 4;
    p.depth = 2;
    p.filter_h = p.filter_w = 3;
    p.stride_h = p.stride_w = 2;
    tml_conv_out_size(TML_PAD_SAME, 4, 3, 2, 1, &p.out_h, &p.pad_h);
    tml_conv_out_size(TML_PAD_SAME, 4, 3, 2, 1, &p.out_w, &p.pad_w);
    p.q.act_min = -128;
    p.q.act_max = 127;
    p.q.fact_min = -INFINITY;
    p.q.fact_max = INFINITY;
    return p;
}

static void test_avg_int8_rounds_half_away_from_zero(void **state)
{
    (void)state;
    int8_t x[32], y[8];
    hand_input_i8(x);
    tml_pool_params p = hand_params();
    tml_avg_pool_int8(&p, x, y);
    /* ch0 sums 54/9 = 6, 45/6 = 7.5 -> 8, 72/6 = 12, 54/4 = 13.5 -> 14;
     * ch1 the negatives, rounding away from zero. */
    const int8_t want[8] = { 6, -6, 8, -8, 12, -12, 14, -14 };
    assert_memory_equal(y, want, sizeof want);
}

static void test_avg_int8_activation_clamps(void **state)
{
    (void)state;
    int8_t x[32], y[8];
    hand_input_i8(x);
    tml_pool_params p = hand_params();
    p.q.act_min = -10;   /* RELU6 at scale 0.5, zero point -10: [-10, 2] */
    p.q.act_max = 2;
    tml_avg_pool_int8(&p, x, y);
    const int8_t want[8] = { 2, -6, 2, -8, 2, -10, 2, -10 };
    assert_memory_equal(y, want, sizeof want);
}

static void test_max_int8(void **state)
{
    (void)state;
    int8_t x[32], y[8];
    hand_input_i8(x);
    tml_pool_params p = hand_params();
    tml_max_pool_int8(&p, x, y);
    const int8_t want[8] = { 11, -1, 12, -3, 15, -9, 16, -11 };
    assert_memory_equal(y, want, sizeof want);
}

static void test_batches(void **state)
{
    (void)state;
    /* Two images: the hand image and the same plus 10 (channel 0) / minus
     * 10 (channel 1); each batch pools on its own. */
    int8_t x[64], y[16];
    hand_input_i8(x);
    for (int i = 0; i < 32; i++)
        x[32 + i] = (int8_t)(x[i] + (i % 2 ? -10 : 10));
    tml_pool_params p = hand_params();
    p.batches = 2;
    tml_max_pool_int8(&p, x, y);
    const int8_t want_max[16] = { 11, -1, 12, -3, 15, -9, 16, -11,
                                  21, -11, 22, -13, 25, -19, 26, -21 };
    assert_memory_equal(y, want_max, sizeof want_max);
    tml_avg_pool_int8(&p, x, y);
    const int8_t want_avg[16] = { 6, -6, 8, -8, 12, -12, 14, -14,
                                  16, -16, 18, -18, 22, -22, 24, -24 };
    assert_memory_equal(y, want_avg, sizeof want_avg);
}

static void test_float(void **state)
{
    (void)state;
    float x[32], y[8];
    for (int i = 0; i < 16; i++) {
        x[2 * i] = (float)(i + 1);
        x[2 * i + 1] = -(float)(i + 1);
    }
    tml_pool_params p = hand_params();
    tml_avg_pool_f32(&p, x, y);
    const float want_avg[8] = { 6, -6, 7.5f, -7.5f, 12, -12, 13.5f, -13.5f };
    assert_memory_equal(y, want_avg, sizeof want_avg);
    tml_max_pool_f32(&p, x, y);
    const float want_max[8] = { 11, -1, 12, -3, 15, -9, 16, -11 };
    assert_memory_equal(y, want_max, sizeof want_max);
    p.q.fact_min = 0.0f;   /* RELU6 */
    p.q.fact_max = 6.0f;
    tml_avg_pool_f32(&p, x, y);
    const float want_relu6[8] = { 6, 0, 6, 0, 6, 0, 6, 0 };
    assert_memory_equal(y, want_relu6, sizeof want_relu6);
}

/* ---- through the interpreter ---- */

static tml_test_op pool_op(int builtin, tml_dtype type, const int32_t in_dims[4],
                           const int32_t out_dims[4], int padding, int stride,
                           int filter_w, int filter_h, int activation, float scale,
                           int32_t zp)
{
    tml_test_op op;
    memset(&op, 0, sizeof op);
    op.builtin = builtin;
    op.version = type == TML_INT8 ? 2 : 1;
    op.options = tml_tfl_pool2d_options(padding, stride, stride, filter_w, filter_h,
                                        activation);
    op.ninputs = 1;
    op.noutputs = 1;
    op.inputs[0].type = type;
    op.inputs[0].ndims = 4;
    memcpy(op.inputs[0].dims, in_dims, 4 * sizeof(int32_t));
    op.inputs[0].scale = scale;
    op.inputs[0].zero_point = zp;
    op.outputs[0] = op.inputs[0];
    memcpy(op.outputs[0].dims, out_dims, 4 * sizeof(int32_t));
    return op;
}

static void test_op_avg_and_max_int8(void **state)
{
    (void)state;
    const int32_t in_dims[4] = { 1, 4, 4, 2 }, out_dims[4] = { 1, 2, 2, 2 };
    int8_t x[32], y[8];
    hand_input_i8(x);
    tml_test_op op = pool_op(AVG, TML_INT8, in_dims, out_dims, TML_PAD_SAME, 2, 3, 3,
                             TML_ACT_RELU6, 0.5f, -10);
    tml_test_run_op_ok(&op, x, y);
    const int8_t want_avg[8] = { 2, -6, 2, -8, 2, -10, 2, -10 };
    assert_memory_equal(y, want_avg, sizeof want_avg);

    op = pool_op(MAX, TML_INT8, in_dims, out_dims, TML_PAD_SAME, 2, 3, 3,
                 TML_ACT_NONE, 0.5f, -10);
    tml_test_run_op_ok(&op, x, y);
    const int8_t want_max[8] = { 11, -1, 12, -3, 15, -9, 16, -11 };
    assert_memory_equal(y, want_max, sizeof want_max);
}

static void test_op_errors(void **state)
{
    (void)state;
    const int32_t in_dims[4] = { 1, 4, 4, 2 }, out_dims[4] = { 1, 2, 2, 2 };
    const int32_t bad_dims[4] = { 1, 1, 1, 2 };
    tml_test_op op = pool_op(AVG, TML_INT8, in_dims, bad_dims, TML_PAD_SAME, 2, 3, 3,
                             TML_ACT_NONE, 0.5f, 0);
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 AVERAGE_POOL_2D: output 0 tensor 1 'output0': "
                                  "expected height 2, got 1");

    op = pool_op(MAX, TML_INT8, in_dims, out_dims, TML_PAD_SAME, 2, 3, 3,
                 TML_ACT_NONE, 0.5f, 0);
    op.outputs[0].scale = 0.25f;
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 MAX_POOL_2D: output 0 tensor 1 'output0': expected "
                                  "the input's quantization, got another");

    op = pool_op(AVG, TML_FLOAT32, in_dims, out_dims, TML_PAD_SAME, 2, 3, 3,
                 TML_ACT_TANH, 0.0f, 0);
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 AVERAGE_POOL_2D: option fused_activation_function 4, "
                                  "expected 0..3");

    op = pool_op(AVG, TML_FLOAT32, in_dims, out_dims, TML_PAD_SAME, 0, 3, 3,
                 TML_ACT_NONE, 0.0f, 0);
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 AVERAGE_POOL_2D: option stride_w 0, expected >= 1");

    op = pool_op(AVG, TML_INT8, in_dims, out_dims, TML_PAD_SAME, 2, 3, 3,
                 TML_ACT_NONE, 0.5f, 0);
    op.outputs[0].type = TML_FLOAT32;
    op.outputs[0].scale = 0.0f;
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 AVERAGE_POOL_2D: output 0 tensor 1 'output0': "
                                  "expected int8, got float32");

    op = pool_op(MAX, TML_FLOAT32, in_dims, out_dims, TML_PAD_SAME, 2, 3, 3,
                 TML_ACT_NONE, 0.0f, 0);
    op.inputs[0].ndims = 3;
    op.outputs[0].ndims = 3;
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 MAX_POOL_2D: input 0 tensor 0 'input0': expected "
                                  "rank 4, got 3");
}

/* ---- TFLite Micro goldens ---- */

typedef struct pool_golden {
    const char *model;
    tml_dtype type;
    int32_t h, w, c;              /* input; VALID, filter = stride = h x w */
    float scale;
    int32_t zp;
    int in_op, in_tensor, op, out_tensor;
} pool_golden;

static const pool_golden goldens[] = {
    { "kws_ref_model", TML_INT8, 25, 5, 64, 0.08023615926504135f, -128, 8, 30, 9, 31 },
    { "pretrainedResnet_quant", TML_INT8, 8, 8, 64, 0.1270691454410553f, -128, 11, 33, 12, 34 },
    { "vww_96_int8", TML_INT8, 3, 3, 256, 0.015656912699341774f, -128, 26, 84, 27, 85 },
    { "pretrainedResnet", TML_FLOAT32, 8, 8, 64, 0.0f, 0, 11, 33, 12, 34 },
    { "vww_96_float", TML_FLOAT32, 3, 3, 256, 0.0f, 0, 26, 84, 27, 85 },
};

static void test_goldens(void **state)
{
    (void)state;
    int checked = 0;
    for (size_t g = 0; g < sizeof goldens / sizeof goldens[0]; g++) {
        const pool_golden *pg = &goldens[g];
        const int32_t in_dims[4] = { 1, pg->h, pg->w, pg->c };
        const int32_t out_dims[4] = { 1, 1, 1, pg->c };
        tml_test_op op = pool_op(AVG, pg->type, in_dims, out_dims, TML_PAD_VALID,
                                 0, pg->w, pg->h, TML_ACT_NONE, pg->scale, pg->zp);
        op.options = tml_tfl_pool2d_options(TML_PAD_VALID, pg->w, pg->h, pg->w,
                                            pg->h, TML_ACT_NONE);
        const tml_test_golden in = { pg->in_op, pg->in_tensor };
        const tml_test_golden out = { pg->op, pg->out_tensor };
        checked += tml_test_check_op_golden(&op, pg->model, &in, 1, out);
    }
    if (checked == 0)
        skip();
    assert_int_equal(checked, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_size),
        cmocka_unit_test(test_avg_int8_rounds_half_away_from_zero),
        cmocka_unit_test(test_avg_int8_activation_clamps),
        cmocka_unit_test(test_max_int8),
        cmocka_unit_test(test_batches),
        cmocka_unit_test(test_float),
        cmocka_unit_test(test_op_avg_and_max_int8),
        cmocka_unit_test(test_op_errors),
        cmocka_unit_test(test_goldens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
