/*
 * SOFTMAX: int8 (TFLite Micro's gemmlowp path) and float32.
 *
 * Hand cases: expected bytes from a float model (round(256 * p) - 128,
 * clamped), cross-checked by tracing TFLite's fixed-point steps (an
 * independent transcription gave the same bytes for every case below).
 * Goldens: the SOFTMAX of each mlperf-tiny model, fed the TFLite Micro
 * output of the op before it, must reproduce TFLite Micro's bytes.
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

#include "runtime/kernels/softmax.h"
#include "runtime/quant.h"
#include "op_checks.h"
#include "test_util.h"

/* ---- quant.h gemmlowp fixed-point helpers (also used by LOGISTIC/TANH) ----
 * Exact values from a second, independent transcription of gemmlowp's
 * fixedpoint.h (in Python); each is also within a few ulps of libm. */

static void test_fp_primitives(void **state)
{
    (void)state;
    assert_int_equal(tml_clz32(0), 32);
    assert_int_equal(tml_clz32(1), 31);
    assert_int_equal(tml_clz32(0x80000000u), 0);
    assert_int_equal(tml_clz32(3u << 19), 11);
    /* SaturatingRoundingMultiplyByPOT: saturate past 2^(31-e) - 1 */
    assert_int_equal(tml_fp_mul_pot((1 << 29) - 1, 2), INT32_MAX - 3);   /* 2^31 - 4 */
    assert_int_equal(tml_fp_mul_pot(1 << 29, 2), INT32_MAX);
    assert_int_equal(tml_fp_mul_pot(-(1 << 29), 2), INT32_MIN);
    assert_int_equal(tml_fp_mul_pot(5, -1), 3);    /* 2.5 -> 3 */
    assert_int_equal(tml_fp_mul_pot(-5, -1), -3);  /* -2.5 -> -3 */
    assert_int_equal(tml_fp_mul_pot(77, 0), 77);
    assert_int_equal(tml_fp_rounding_half_sum(1, 2), 2);
    assert_int_equal(tml_fp_rounding_half_sum(-1, -2), -2);
    assert_int_equal(tml_fp_rounding_half_sum(INT32_MAX, INT32_MAX), INT32_MAX);
}

static void test_fp_exp(void **state)
{
    (void)state;
    assert_int_equal(tml_fp_exp_on_negative_values(0, 5), INT32_MAX);
    /* -1.0 in Q5.26; exp(-1) * 2^31 = 790015084.4 */
    assert_int_equal(tml_fp_exp_on_negative_values(-(1 << 26), 5), 790015308);
    /* -0.1 in Q0 (the quarter-interval polynomial twice) */
    assert_int_equal(tml_fp_exp_on_negative_values(-214748365, 0), 1943123559);
    /* Q6: -20 -> 4 (exp(-20) * 2^31 = 4.4); below -32 clamps to 0 */
    assert_int_equal(tml_fp_exp_on_negative_values(-20 * (1 << 25), 6), 4);
    assert_int_equal(tml_fp_exp_on_negative_values(-40 * (1 << 25), 6), 0);
    for (int ib = 0; ib <= 6; ib++) {
        double lim = ldexp(1.0, ib), unit = ldexp(1.0, 31 - ib);
        for (double v = -lim + 0.01; v < 0; v += lim / 997) {
            int32_t a = (int32_t)lround(v * unit);
            double got = tml_fp_exp_on_negative_values(a, ib) / 2147483648.0;
            assert_true(fabs(got - exp(a / unit)) < 1e-6);
        }
    }
}

static void test_fp_division_logistic_tanh(void **state)
{
    (void)state;
    assert_int_equal(tml_fp_one_over_one_plus_x(0), INT32_MAX);
    assert_int_equal(tml_fp_one_over_one_plus_x(1 << 30), 1431655762);  /* 2/3 */
    assert_int_equal(tml_fp_one_minus_x_over_one_plus_x(1 << 30), 715827876); /* 1/3 */
    /* Q4 inputs: logistic(+-1), tanh(+-0.5) */
    assert_int_equal(tml_fp_logistic(0, 4), 1 << 30);
    assert_int_equal(tml_fp_logistic(1 << 27, 4), 1569936226);
    assert_int_equal(tml_fp_logistic(-(1 << 27), 4), 577547421);
    assert_int_equal(tml_fp_tanh(0, 4), 0);
    assert_int_equal(tml_fp_tanh(1 << 26, 4), 992388804);
    assert_int_equal(tml_fp_tanh(-(1 << 26), 4), -992388804);
    for (double v = -15.0; v < 15.0; v += 0.0137) {
        int32_t a = (int32_t)lround(v * (1 << 27));
        double x = a / 134217728.0;
        assert_true(fabs(tml_fp_logistic(a, 4) / 2147483648.0 - 1.0 / (1.0 + exp(-x))) < 1e-6);
        assert_true(fabs(tml_fp_tanh(a, 4) / 2147483648.0 - tanh(x)) < 1e-6);
    }
    /* GetReciprocal of 3.0 in Q12.19: 2/3 in Q0 with one bit over unit */
    int bits = -1;
    assert_int_equal(tml_fp_get_reciprocal(3 << 19, 12, &bits), 1431655762);
    assert_int_equal(bits, 1);
}

/* ---- math layer ---- */

static void test_params_for_scale_one_sixteenth(void **state)
{
    (void)state;
    /* beta * scale * 2^26 = 2^22 = 0.5 * 2^23: multiplier 2^30, shift 23;
     * radius floor(31 * 2^26 / 2^23) = 248. */
    tml_softmax_params p;
    tml_softmax_params_int8(1.0, 1.0 / 16.0, &p);
    assert_int_equal(p.input_multiplier, 1 << 30);
    assert_int_equal(p.input_left_shift, 23);
    assert_int_equal(p.diff_min, -248);
}

static void run_int8(const int8_t *in, int32_t rows, int32_t depth, float scale,
                     float beta, int8_t *out)
{
    tml_softmax_params p;
    tml_softmax_params_int8(beta, scale, &p);
    tml_softmax_int8(&p, rows, depth, in, out);
}

static void test_int8_equal_inputs_split_evenly(void **state)
{
    (void)state;
    const int8_t in[2] = { 5, 5 };
    int8_t out[2];
    run_int8(in, 1, 2, 0.1, 1.0, out);
    /* p = 0.5 -> 128 - 128 = 0 */
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 0);
}

static void test_int8_single_element_saturates(void **state)
{
    (void)state;
    const int8_t in[1] = { 3 };
    int8_t out[1];
    run_int8(in, 1, 1, 0.5, 1.0, out);
    /* p = 1 -> 256 - 128 = 128, clamped to 127 */
    assert_int_equal(out[0], 127);
}

static void test_int8_below_diff_min_is_zero(void **state)
{
    (void)state;
    /* scale 1/16: diff -250 < diff_min -248, so that exp is skipped */
    const int8_t in[2] = { 127, -123 };
    int8_t out[2];
    run_int8(in, 1, 2, 1.0 / 16.0, 1.0, out);
    assert_int_equal(out[0], 127);
    assert_int_equal(out[1], -128);
}

static void test_int8_rows(void **state)
{
    (void)state;
    /* scale 1/16: row 0 is exp(0, -1, -2, -3); row 1 equal values. */
    const int8_t in[8] = { 0, -16, -32, -48, 7, 7, 7, 7 };
    int8_t out[8];
    run_int8(in, 2, 4, 1.0 / 16.0, 1.0, out);
    /* p = 0.6439, 0.2369, 0.0871, 0.0321 -> 164.8, 60.6, 22.3, 8.2 */
    const int8_t want[8] = { 37, -67, -106, -120, -64, -64, -64, -64 };
    assert_memory_equal(out, want, sizeof want);
}

static void test_int8_mixed(void **state)
{
    (void)state;
    const int8_t in[6] = { 10, -3, 7, 0, -20, 1 };
    int8_t out[6];
    run_int8(in, 1, 6, 0.25, 1.0, out);
    const int8_t want[6] = { 23, -122, -57, -116, -128, -112 };
    assert_memory_equal(out, want, sizeof want);

    const int8_t in2[4] = { -128, 127, 0, 64 };
    int8_t out2[4];
    run_int8(in2, 1, 4, 0.05, 1.0, out2);
    const int8_t want2[4] = { -128, 117, -128, -117 };
    assert_memory_equal(out2, want2, sizeof want2);
}

static void test_int8_two_elements_hand_traced(void **state)
{
    (void)state;
    /* scale 1/16, diff -16 -> exactly -1.0 in Q5.26 (-2^26).
     * exp: -1 = -3/4 - 1/4: exp(-1/4 interval) * exp(-1/4) * exp(-1/2).
     * p = 1 / (1 + e^-1) = 0.7311 -> 187.2 -> 59; 0.2689 -> 68.8 -> -59. */
    const int8_t in[2] = { 0, -16 };
    int8_t out[2];
    run_int8(in, 1, 2, 1.0 / 16.0, 1.0, out);
    assert_int_equal(out[0], 59);
    assert_int_equal(out[1], -59);
}

static void test_int8_long_flat_row(void **state)
{
    (void)state;
    /* 1000 equal values: the sum of exps is 1000 >= 512, where TFLite Micro
     * aborts (exponent 32 > 31).  tinyml extends the rounding shift: each
     * p = 0.001 -> 0.256 -> 0, i.e. -128.  With one value 5 higher at
     * scale 1 the row is peaked: p_max = e^5 / (e^5 + 999) = 0.129 -> 33
     * -> -95, the rest 0.00087 -> 0.22 -> -128. */
    static int8_t in[1000], out[1000];
    memset(in, 3, sizeof in);
    run_int8(in, 1, 1000, 0.5, 1.0, out);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(out[i], -128);
    in[500] = 8;
    run_int8(in, 1, 1000, 1.0, 1.0, out);
    assert_int_equal(out[500], -95);
    assert_int_equal(out[0], -128);
    assert_int_equal(out[999], -128);
}

static void test_f32(void **state)
{
    (void)state;
    tml_softmax_params p = { 0, 0, 0, 1.0f };
    const float in[6] = { 1.0f, 2.0f, 3.0f, -1.0f, -1.0f, -1.0f };
    float out[6];
    tml_softmax_f32(&p, 2, 3, in, out);
    double s = exp(-2.0) + exp(-1.0) + 1.0;
    assert_float_equal(out[0], exp(-2.0) / s, 1e-7);
    assert_float_equal(out[1], exp(-1.0) / s, 1e-7);
    assert_float_equal(out[2], 1.0 / s, 1e-7);
    for (int i = 3; i < 6; i++)
        assert_float_equal(out[i], 1.0 / 3.0, 1e-7);

    p.beta = 0.5f;   /* exp(beta * (x - max)) */
    tml_softmax_f32(&p, 1, 3, in, out);
    s = exp(-1.0) + exp(-0.5) + 1.0;
    assert_float_equal(out[0], exp(-1.0) / s, 1e-7);
    assert_float_equal(out[2], 1.0 / s, 1e-7);
}

/* ---- through the interpreter (one-op models) ---- */

static tml_test_op softmax_op(tml_dtype type, int32_t depth, float in_scale,
                              int32_t in_zp, float out_scale, int32_t out_zp,
                              float beta)
{
    tml_test_op op;
    memset(&op, 0, sizeof op);
    op.builtin = 25;
    op.version = type == TML_INT8 ? 2 : 1;
    op.options = tml_tfl_softmax_options(beta);
    op.ninputs = 1;
    op.noutputs = 1;
    op.inputs[0].type = type;
    op.inputs[0].ndims = 2;
    op.inputs[0].dims[0] = 1;
    op.inputs[0].dims[1] = depth;
    op.inputs[0].scale = in_scale;
    op.inputs[0].zero_point = in_zp;
    op.outputs[0] = op.inputs[0];
    op.outputs[0].scale = out_scale;
    op.outputs[0].zero_point = out_zp;
    return op;
}

static void test_op_int8(void **state)
{
    (void)state;
    tml_test_op op = softmax_op(TML_INT8, 4, 1.0f / 16.0f, 3, 1.0f / 256.0f, -128, 1.0f);
    const int8_t in[4] = { 3, -13, -29, -45 };   /* zp 3: 0, -1, -2, -3 */
    int8_t out[4];
    tml_test_run_op_ok(&op, in, out);
    const int8_t want[4] = { 37, -67, -106, -120 };
    assert_memory_equal(out, want, sizeof want);
}

static void test_op_rejects_bad_output_quantization(void **state)
{
    (void)state;
    tml_test_op op = softmax_op(TML_INT8, 4, 0.1f, 0, 1.0f / 128.0f, -128, 1.0f);
    tml_test_runner r;
    assert_int_equal(tml_test_runner_open(&r, &op, 0), TML_ERROR_UNSUPPORTED);
    assert_string_equal(tml_test_runner_error(&r),
                        "op 0 SOFTMAX: output 0 tensor 1 'output0': int8 softmax "
                        "needs scale 1/256 (float bits 0x3b800000), got 0x3c000000");
    tml_test_runner_close(&r);
}

static void test_op_rejects_extreme_beta_scale(void **state)
{
    (void)state;
    tml_test_op op = softmax_op(TML_INT8, 4, 1.0f, 0, 1.0f / 256.0f, -128, 1e-9f);
    tml_test_runner r;
    assert_int_equal(tml_test_runner_open(&r, &op, 0), TML_ERROR_UNSUPPORTED);
    assert_string_equal(tml_test_runner_error(&r),
                        "op 0 SOFTMAX: input 0 tensor 0 'input0': beta * scale is too "
                        "small for the int8 softmax (TFLite needs > 2^-26)");
    tml_test_runner_close(&r);
    op = softmax_op(TML_INT8, 4, 40.0f, 0, 1.0f / 256.0f, -128, 1.0f);
    assert_int_equal(tml_test_runner_open(&r, &op, 0), TML_ERROR_UNSUPPORTED);
    assert_string_equal(tml_test_runner_error(&r),
                        "op 0 SOFTMAX: input 0 tensor 0 'input0': beta * scale is too "
                        "large for the int8 softmax (must be < 32)");
    tml_test_runner_close(&r);
}

static void test_op_rejects_int16(void **state)
{
    (void)state;
    tml_test_op op = softmax_op(TML_INT16, 4, 0.1f, 0, 1.0f / 32768.0f, 0, 1.0f);
    op.version = 3;
    tml_test_runner r;
    tml_status s = tml_test_runner_open(&r, &op, 0);
    assert_int_not_equal(s, TML_OK);
    /* Version 3 (int16) is outside the kernel's range: refused at create. */
    assert_non_null(strstr(tml_test_runner_error(&r), "SOFTMAX"));
    tml_test_runner_close(&r);

    op.version = 2;
    assert_int_equal(tml_test_runner_open(&r, &op, 0), TML_ERROR_UNSUPPORTED);
    assert_string_equal(tml_test_runner_error(&r),
                        "op 0 SOFTMAX: input 0 tensor 0 'input0': expected int8 "
                        "or float32, got int16");
    tml_test_runner_close(&r);
}

/* ---- TFLite Micro goldens ---- */

typedef struct softmax_golden {
    const char *model;
    tml_dtype type;
    int32_t depth;
    float in_scale;
    int32_t in_zp;
    int in_op, in_tensor, op, out_tensor;
} softmax_golden;

static const softmax_golden goldens[] = {
    { "kws_ref_model", TML_INT8, 12, 0.14469251036643982f, 14, 11, 33, 12, 34 },
    { "pretrainedResnet_quant", TML_INT8, 10, 0.17185351252555847f, 24, 14, 36, 15, 37 },
    { "vww_96_int8", TML_INT8, 2, 0.014636218547821045f, -5, 29, 87, 30, 88 },
    { "pretrainedResnet", TML_FLOAT32, 10, 0.0f, 0, 14, 36, 15, 37 },
    { "vww_96_float", TML_FLOAT32, 2, 0.0f, 0, 29, 87, 30, 88 },
};

static void test_goldens(void **state)
{
    (void)state;
    int checked = 0;
    for (size_t g = 0; g < sizeof goldens / sizeof goldens[0]; g++) {
        const softmax_golden *sg = &goldens[g];
        int int8 = sg->type == TML_INT8;
        tml_test_op op = softmax_op(sg->type, sg->depth, sg->in_scale, sg->in_zp,
                                    int8 ? 0.00390625f : 0.0f, int8 ? -128 : 0, 1.0f);
        const tml_test_golden in = { sg->in_op, sg->in_tensor };
        const tml_test_golden out = { sg->op, sg->out_tensor };
        checked += tml_test_check_op_golden(&op, sg->model, &in, 1, out);
    }
    if (checked == 0)
        skip();
    assert_int_equal(checked, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fp_primitives),
        cmocka_unit_test(test_fp_exp),
        cmocka_unit_test(test_fp_division_logistic_tanh),
        cmocka_unit_test(test_params_for_scale_one_sixteenth),
        cmocka_unit_test(test_int8_equal_inputs_split_evenly),
        cmocka_unit_test(test_int8_single_element_saturates),
        cmocka_unit_test(test_int8_below_diff_min_is_zero),
        cmocka_unit_test(test_int8_rows),
        cmocka_unit_test(test_int8_mixed),
        cmocka_unit_test(test_int8_two_elements_hand_traced),
        cmocka_unit_test(test_int8_long_flat_row),
        cmocka_unit_test(test_f32),
        cmocka_unit_test(test_op_int8),
        cmocka_unit_test(test_op_rejects_bad_output_quantization),
        cmocka_unit_test(test_op_rejects_extreme_beta_scale),
        cmocka_unit_test(test_op_rejects_int16),
        cmocka_unit_test(test_goldens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
