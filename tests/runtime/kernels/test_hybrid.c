/* Dynamic-range (hybrid) kernels: the input quantizers directly, and
 * CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED with float32 activations
 * and int8 weights through one-op models (conv.c, depthwise_conv.c and
 * fully_connected.c hand them to hybrid.c).  Inputs are chosen so the
 * quantized values are exact and every output can be worked out by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "op_checks.h"
#include "test_util.h"
#include "kernels/hybrid_math.h"

static void test_symmetric_quantize(void **state)
{
    (void)state;
    /* range 127: scale 1, values round half away from zero */
    const float x[6] = { 127, 0.5f, -0.5f, 1.5f, -2.5f, -126.4f };
    int8_t q[6];
    float scale = 0;
    tml_quantize_symmetric(x, 6, q, &scale);
    assert_true(scale == 1.0f);
    assert_memory_equal(q, ((const int8_t[]){ 127, 1, -1, 2, -3, -126 }), 6);
    /* range 254 from a negative value: scale 2, clamped to -127..127 */
    const float y[3] = { -254, 3, 100 };
    tml_quantize_symmetric(y, 3, q, &scale);
    assert_true(scale == 2.0f);
    assert_memory_equal(q, ((const int8_t[]){ -127, 2, 50 }), 3);
    /* all zero: scale 1 (TFLite), zeros */
    const float z[2] = { 0, 0 };
    q[0] = q[1] = 9;
    tml_quantize_symmetric(z, 2, q, &scale);
    assert_true(scale == 1.0f);
    assert_int_equal(q[0], 0);
    assert_int_equal(q[1], 0);
}

static void test_asymmetric_quantize(void **state)
{
    (void)state;
    /* [-2, 253]: scale 1; zero point from min -126 (error 130 < 380) */
    const float x[4] = { -2, 253, 0.5f, 0 };
    int8_t q[4];
    float scale = 0;
    int32_t offset = 0;
    tml_quantize_asymmetric(x, 4, q, &scale, &offset);
    assert_true(scale == 1.0f);
    assert_int_equal(offset, -126);
    assert_memory_equal(q, ((const int8_t[]){ -128, 127, -126, -126 }), 4);
    /* [-128, 127]: zero point 0 */
    const float y[2] = { -128, 127 };
    tml_quantize_asymmetric(y, 2, q, &scale, &offset);
    assert_true(scale == 1.0f);
    assert_int_equal(offset, 0);
    assert_int_equal(q[0], -128);
    assert_int_equal(q[1], 127);
    /* only positives: the range still includes 0, zero point -128 */
    const float p[2] = { 255, 51 };
    tml_quantize_asymmetric(p, 2, q, &scale, &offset);
    assert_true(scale == 1.0f);
    assert_int_equal(offset, -128);
    assert_int_equal(q[0], 127);
    assert_int_equal(q[1], -77);
    /* constant zero: scale 1, offset 0 */
    const float z[1] = { 0 };
    tml_quantize_asymmetric(z, 1, q, &scale, &offset);
    assert_true(scale == 1.0f);
    assert_int_equal(offset, 0);
    assert_int_equal(q[0], 0);
}

static tml_test_op fc_op(const int8_t *w, const float *bias, int act)
{
    tml_test_op op = {
        .builtin = 9,
        .version = 3,
        .options = tml_tfl_fully_connected_options(act, 0),
        .ninputs = 3,
        .inputs = {
            { .type = TML_FLOAT32, .ndims = 2, .dims = { 1, 4 } },
            { .type = TML_INT8, .ndims = 2, .dims = { 2, 4 }, .scale = 0.5f,
              .data = w },
            { .type = TML_FLOAT32, .ndims = 1, .dims = { 2 }, .data = bias },
        },
        .noutputs = 1,
        .outputs = { { .type = TML_FLOAT32, .ndims = 2, .dims = { 1, 2 } } },
    };
    return op;
}

static const int8_t fc_w[8] = { 1, 1, 1, 1, 2, -1, 0, 3 };
static const float fc_bias[2] = { 0.25f, -0.5f };

/* Symmetric: x = {127, -63.5, 0, 1} quantizes with scale 1 to
 * {127, -64, 0, 1}; acc = {64, 321}; y = bias + acc * 0.5. */
static void test_fc_symmetric(void **state)
{
    (void)state;
    tml_test_op op = fc_op(fc_w, fc_bias, TML_ACT_NONE);
    const float x[4] = { 127, -63.5f, 0, 1 };
    float y[2];
    tml_test_run_op_ok(&op, x, y);
    assert_true(y[0] == 32.25f);
    assert_true(y[1] == 160.0f);
    op = fc_op(fc_w, fc_bias, TML_ACT_RELU6);
    tml_test_run_op_ok(&op, x, y);
    assert_true(y[0] == 6.0f);
    assert_true(y[1] == 6.0f);
}

/* asymmetric_quantize_inputs: x = {-2, 253, 0.5, 0} -> scale 1, offset
 * -126, q = {-128, 127, -126, -126}; acc - row_sum * offset =
 * {251, -257}; y = bias + acc * 0.5. */
static void test_fc_asymmetric(void **state)
{
    (void)state;
    tml_test_op op = fc_op(fc_w, fc_bias, TML_ACT_NONE);
    tml_tfl_opt_bool(&op.options, TML_F_FC_ASYMMETRIC_INPUTS, 1, 0);
    const float x[4] = { -2, 253, 0.5f, 0 };
    float y[2];
    tml_test_run_op_ok(&op, x, y);
    assert_true(y[0] == 125.75f);
    assert_true(y[1] == -129.0f);
}

/* Per-channel weight scales {0.5, 0.25}, no bias. */
static void test_fc_per_channel_no_bias(void **state)
{
    (void)state;
    static const float scales[2] = { 0.5f, 0.25f };
    tml_test_op op = fc_op(fc_w, NULL, TML_ACT_NONE);
    op.inputs[1].scale = 0;
    op.inputs[1].channels = 2;
    op.inputs[1].scales = scales;
    op.inputs[2].absent = 1;
    const float x[4] = { 127, -63.5f, 0, 1 };
    float y[2];
    tml_test_run_op_ok(&op, x, y);
    assert_true(y[0] == 32.0f);
    assert_true(y[1] == 80.25f);
}

/* Per-tensor filter -> symmetric input.  x = 1..8, 127 (scale 1); a 2x2
 * diagonal filter, VALID: x[i][j] + x[i+1][j+1], * 0.5 + 1. */
static void test_conv_symmetric_valid(void **state)
{
    (void)state;
    static const int8_t w[4] = { 1, 0, 0, 1 };
    static const float bias[1] = { 1 };
    tml_test_op op = {
        .builtin = 3,
        .version = 2,
        .options = tml_tfl_conv2d_options(TML_PAD_VALID, 1, 1, TML_ACT_NONE,
                                          1, 1),
        .ninputs = 3,
        .inputs = {
            { .type = TML_FLOAT32, .ndims = 4, .dims = { 1, 3, 3, 1 } },
            { .type = TML_INT8, .ndims = 4, .dims = { 1, 2, 2, 1 },
              .scale = 0.5f, .data = w },
            { .type = TML_FLOAT32, .ndims = 1, .dims = { 1 }, .data = bias },
        },
        .noutputs = 1,
        .outputs = { { .type = TML_FLOAT32, .ndims = 4,
                       .dims = { 1, 2, 2, 1 } } },
    };
    const float x[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 127 };
    float y[4];
    tml_test_run_op_ok(&op, x, y);
    assert_memory_equal(y, ((const float[]){ 4, 5, 7, 67 }), sizeof y);
}

/* SAME padding: a 3x3 all-ones filter over a 2x2 image sees the whole
 * image at every position (padding taps are skipped, real 0). */
static void test_conv_same_padding(void **state)
{
    (void)state;
    static const int8_t w[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
    tml_test_op op = {
        .builtin = 3,
        .version = 2,
        .options = tml_tfl_conv2d_options(TML_PAD_SAME, 1, 1, TML_ACT_RELU,
                                          1, 1),
        .ninputs = 3,
        .inputs = {
            { .type = TML_FLOAT32, .ndims = 4, .dims = { 1, 2, 2, 1 } },
            { .type = TML_INT8, .ndims = 4, .dims = { 1, 3, 3, 1 },
              .scale = 1.0f, .data = w },
            { .absent = 1 },
        },
        .noutputs = 1,
        .outputs = { { .type = TML_FLOAT32, .ndims = 4,
                       .dims = { 1, 2, 2, 1 } } },
    };
    const float x[4] = { 1, 2, 3, 127 };
    float y[4];
    tml_test_run_op_ok(&op, x, y);
    assert_memory_equal(y, ((const float[]){ 133, 133, 133, 133 }),
                        sizeof y);
    const float neg[4] = { -1, -2, -3, -127 };
    tml_test_run_op_ok(&op, neg, y);   /* RELU */
    assert_memory_equal(y, ((const float[]){ 0, 0, 0, 0 }), sizeof y);
}

/* Differing per-channel scales -> TFLite's per-channel path with an
 * asymmetric input: x = {-2, 253, 0, 1} (scale 1, offset -126), 1x1
 * filter {2, 4} with scales {0.5, 0.25}: both channels give x back. */
static void test_conv_per_channel_asymmetric(void **state)
{
    (void)state;
    static const int8_t w[2] = { 2, 4 };
    static const float scales[2] = { 0.5f, 0.25f };
    tml_test_op op = {
        .builtin = 3,
        .version = 5,
        .options = tml_tfl_conv2d_options(TML_PAD_VALID, 1, 1, TML_ACT_NONE,
                                          1, 1),
        .ninputs = 3,
        .inputs = {
            { .type = TML_FLOAT32, .ndims = 4, .dims = { 1, 2, 2, 1 } },
            { .type = TML_INT8, .ndims = 4, .dims = { 2, 1, 1, 1 },
              .channels = 2, .scales = scales, .data = w },
            { .absent = 1 },
        },
        .noutputs = 1,
        .outputs = { { .type = TML_FLOAT32, .ndims = 4,
                       .dims = { 1, 2, 2, 2 } } },
    };
    const float x[4] = { -2, 253, 0, 1 };
    float y[8];
    tml_test_run_op_ok(&op, x, y);
    assert_memory_equal(y, ((const float[]){ -2, -2, 253, 253, 0, 0, 1, 1 }),
                        sizeof y);
}

/* Depthwise (always asymmetric input in TFLite): [1,2,2,2] input, 1x1
 * filter {2, 4} with scales {0.5, 0.25}, bias {0.5, -1}: x + bias. */
static void test_depthwise_per_channel(void **state)
{
    (void)state;
    static const int8_t w[2] = { 2, 4 };
    static const float scales[2] = { 0.5f, 0.25f };
    static const float bias[2] = { 0.5f, -1 };
    tml_test_op op = {
        .builtin = 4,
        .version = 4,
        .options = tml_tfl_depthwise_options(TML_PAD_VALID, 1, 1, 1,
                                             TML_ACT_NONE, 1, 1),
        .ninputs = 3,
        .inputs = {
            { .type = TML_FLOAT32, .ndims = 4, .dims = { 1, 2, 2, 2 } },
            { .type = TML_INT8, .ndims = 4, .dims = { 1, 1, 1, 2 },
              .channels = 2, .scales = scales, .quant_dim = 3, .data = w },
            { .type = TML_FLOAT32, .ndims = 1, .dims = { 2 }, .data = bias },
        },
        .noutputs = 1,
        .outputs = { { .type = TML_FLOAT32, .ndims = 4,
                       .dims = { 1, 2, 2, 2 } } },
    };
    const float x[8] = { -2, 4, 253, 8, 0, 12, 1, 16 };
    float y[8];
    tml_test_run_op_ok(&op, x, y);
    const float want[8] = { -1.5f, 3, 253.5f, 7, 0.5f, 11, 1.5f, 15 };
    assert_memory_equal(y, want, sizeof want);
}

/* Depth multiplier 2, 2x2 filter over a 2x2 image (VALID, one output). */
static void test_depthwise_multiplier(void **state)
{
    (void)state;
    /* filter [1,2,2,2]: tap (ky,kx) holds {m0, m1} */
    static const int8_t w[8] = { 1, 0, 0, 1, 0, -1, 1, 2 };
    tml_test_op op = {
        .builtin = 4,
        .version = 4,
        .options = tml_tfl_depthwise_options(TML_PAD_VALID, 1, 1, 2,
                                             TML_ACT_NONE, 1, 1),
        .ninputs = 3,
        .inputs = {
            { .type = TML_FLOAT32, .ndims = 4, .dims = { 1, 2, 2, 1 } },
            { .type = TML_INT8, .ndims = 4, .dims = { 1, 2, 2, 2 },
              .scale = 1.0f, .data = w },
            { .absent = 1 },
        },
        .noutputs = 1,
        .outputs = { { .type = TML_FLOAT32, .ndims = 4,
                       .dims = { 1, 1, 1, 2 } } },
    };
    /* [-128, 127] quantizes to itself (scale 1, offset 0) */
    const float x[4] = { -128, 127, 5, -7 };
    float y[2];
    tml_test_run_op_ok(&op, x, y);
    /* m0: -128*1 + 127*0 + 5*0 + -7*1 = -135;
     * m1: -128*0 + 127*1 + 5*-1 + -7*2 = 108 */
    assert_true(y[0] == -135.0f);
    assert_true(y[1] == 108.0f);
}

static void test_hybrid_rejects_asymmetric_weights(void **state)
{
    (void)state;
    tml_test_op op = fc_op(fc_w, fc_bias, TML_ACT_NONE);
    op.inputs[1].zero_point = 3;
    tml_test_runner r;
    assert_int_equal(tml_test_runner_open(&r, &op, 0), TML_ERROR_UNSUPPORTED);
    assert_string_equal(tml_test_runner_error(&r),
                        "op 0 FULLY_CONNECTED: input 1 tensor 1 'input1': "
                        "hybrid weights must be symmetric, zero point 3 at "
                        "channel 0");
    tml_test_runner_close(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_symmetric_quantize),
        cmocka_unit_test(test_asymmetric_quantize),
        cmocka_unit_test(test_fc_symmetric),
        cmocka_unit_test(test_fc_asymmetric),
        cmocka_unit_test(test_fc_per_channel_no_bias),
        cmocka_unit_test(test_conv_symmetric_valid),
        cmocka_unit_test(test_conv_same_padding),
        cmocka_unit_test(test_conv_per_channel_asymmetric),
        cmocka_unit_test(test_depthwise_per_channel),
        cmocka_unit_test(test_depthwise_multiplier),
        cmocka_unit_test(test_hybrid_rejects_asymmetric_weights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
