/*
 * MUL, int8 and float32, with broadcasting.
 *
 * int8 hand cases use power-of-two scales, so the real product is exact
 * and TFLite's MultiplyByQuantizedMultiplier only rounds at .5 (half away
 * from zero).  A sweep with arbitrary scales checks every int8 pair lands
 * within 0.51 of the float model's unrounded value.
 * (No mlperf-tiny golden has MUL.)
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

#include "runtime/kernels/mul.h"
#include "runtime/quant.h"
#include "op_checks.h"
#include "test_util.h"

enum { MUL = 18 };

static tml_mul_params int8_params(float s1, int32_t z1, float s2, int32_t z2, float so,
                                  int32_t zo)
{
    tml_mul_params p;
    memset(&p, 0, sizeof p);
    tml_mul_quantize(&p, s1, z1, s2, z2, so, zo);
    p.act_min = -128;
    p.act_max = 127;
    return p;
}

static void test_quantize(void **state)
{
    (void)state;
    tml_mul_params p = int8_params(0.5f, 1, 0.5f, -1, 1.0f, 3);
    assert_int_equal(p.output_multiplier, 1 << 30);   /* 0.25 */
    assert_int_equal(p.output_shift, -1);
    assert_int_equal(p.input1_offset, -1);
    assert_int_equal(p.input2_offset, 1);
    assert_int_equal(p.output_offset, 3);
    p = int8_params(0.5f, 0, 0.25f, 0, 0.125f, 0);
    assert_int_equal(p.output_multiplier, 1 << 30);   /* 1.0: version 3 */
    assert_int_equal(p.output_shift, 1);
}

static void test_int8_rounding_and_saturation(void **state)
{
    (void)state;
    /* real = 0.25 (x1 - 1)(x2 + 1) */
    tml_mul_params p = int8_params(0.5f, 1, 0.5f, -1, 1.0f, 0);
    const int8_t a[6] = { 5, 3, -1, 127, -128, 1 };
    const int8_t b[6] = { 3, 0, 0, 127, 127, -128 };
    int8_t y[6];
    tml_mul_int8(&p, NULL, 6, a, b, y);
    /* 4; 0.5 -> 1; -0.5 -> -1; 4032 -> 127; -4128 -> -128; 0 */
    const int8_t want[6] = { 4, 1, -1, 127, -128, 0 };
    assert_memory_equal(y, want, sizeof want);

    p.act_min = 0;   /* RELU6 at scale 1, zero point 0 */
    p.act_max = 6;
    tml_mul_int8(&p, NULL, 6, a, b, y);
    const int8_t want_relu6[6] = { 4, 1, 0, 6, 0, 0 };
    assert_memory_equal(y, want_relu6, sizeof want_relu6);
}

static void test_int8_multiplier_above_one(void **state)
{
    (void)state;
    tml_mul_params p = int8_params(0.5f, 0, 0.25f, 0, 0.125f, -5);
    const int8_t a[3] = { 3, -7, 11 };
    const int8_t b[3] = { -4, -2, 11 };
    int8_t y[3];
    tml_mul_int8(&p, NULL, 3, a, b, y);
    const int8_t want[3] = { -17, 9, 116 };   /* x1 * x2 - 5 */
    assert_memory_equal(y, want, sizeof want);
}

static void test_int8_near_float_model(void **state)
{
    (void)state;
    const float s1 = 0.0371f, s2 = 0.0213f, so = 0.0517f;
    const int32_t z1 = -7, z2 = 12, zo = 3;
    tml_mul_params p = int8_params(s1, z1, s2, z2, so, zo);
    int8_t a[256], b[256], y[256];
    double worst = 0;
    for (int i = 0; i < 256; i++)
        a[i] = (int8_t)(i - 128);
    for (int j = 0; j < 256; j++) {
        memset(b, (int8_t)(j - 128), sizeof b);
        tml_mul_int8(&p, NULL, 256, a, b, y);
        for (int i = 0; i < 256; i++) {
            double real = (double)s1 * (a[i] - z1) * (double)s2 * (b[i] - z2);
            double q = real / so + zo;
            q = q < -128 ? -128 : (q > 127 ? 127 : q);
            double d = fabs(y[i] - q);
            worst = d > worst ? d : worst;
        }
    }
    /* Correct rounding would stay within 0.5; TFLite's double rounding
     * (rounded high product, then rounded shift) reaches 0.5077 here. */
    assert_true(worst <= 0.51);
    assert_true(worst >= 0.5);
}

static void test_all_int8_pairs_vs_reference(void **state)
{
    (void)state;
    /* TFLite's MulElementwise spelled out with quant.c's plain
     * MultiplyByQuantizedMultiplier; shifts < 0, 0 and > 0 (version 3). */
    static const struct { float s1, s2, so; int32_t z1, z2, zo; } cases[] = {
        { 0.0371f, 0.0213f, 0.0517f, -7, 12, 3 },
        { 0.5f, 0.25f, 0.125f, 0, 0, -5 },
        { 0.9f, 0.8f, 0.05f, -128, 127, 0 },
        { 0.003f, 0.002f, 0.5f, 100, -100, -128 },
    };
    static int8_t a[65536], b[65536], y[65536];
    for (int i = 0; i < 65536; i++) {
        a[i] = (int8_t)(i >> 8);
        b[i] = (int8_t)i;
    }
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        tml_mul_params p = int8_params(cases[c].s1, cases[c].z1, cases[c].s2, cases[c].z2,
                                       cases[c].so, cases[c].zo);
        tml_mul_int8(&p, NULL, 65536, a, b, y);
        for (int i = 0; i < 65536; i++) {
            int32_t prod = (a[i] + p.input1_offset) * (b[i] + p.input2_offset);
            int32_t v = tml_mul_by_qm(prod, p.output_multiplier, p.output_shift) +
                        p.output_offset;
            int8_t want = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
            if (y[i] != want)
                fail_msg("case %d x1 %d x2 %d: got %d want %d", (int)c, a[i], b[i], y[i],
                         want);
        }
    }
}

static void test_float_broadcast(void **state)
{
    (void)state;
    tml_mul_params p;
    memset(&p, 0, sizeof p);
    p.act_min_f = -1.0f;   /* RELU_N1_TO_1 */
    p.act_max_f = 1.0f;
    tml_bcast bc;
    assert_int_equal(tml_bcast_init(&bc, (int32_t[]){ 2, 3 }, 2, (int32_t[]){ 2, 1 }, 2,
                                    (int32_t[]){ 2, 3 }, 2), 0);
    const float a[6] = { 0.5f, -0.25f, 3.0f, 0.125f, 2.0f, -8.0f };
    const float b[2] = { 0.5f, -0.25f };
    float y[6];
    tml_mul_f32(&p, &bc, 6, a, b, y);
    const float want[6] = { 0.25f, -0.125f, 1.0f, -0.03125f, -0.5f, 1.0f };
    assert_memory_equal(y, want, sizeof want);
}

/* ---- through the interpreter ---- */

static tml_test_op mul_op(tml_dtype type, int activation)
{
    tml_test_op op;
    memset(&op, 0, sizeof op);
    op.builtin = MUL;
    op.version = type == TML_INT8 ? 2 : 1;
    op.options = tml_tfl_mul_options(activation);
    op.ninputs = 2;
    op.noutputs = 1;
    op.inputs[0].type = op.inputs[1].type = op.outputs[0].type = type;
    return op;
}

static void test_op_int8_broadcast(void **state)
{
    (void)state;
    tml_test_op op = mul_op(TML_INT8, TML_ACT_NONE);
    tml_test_set_shape(&op.inputs[0], 4, (int32_t[]){ 1, 2, 1, 2 });
    tml_test_set_shape(&op.inputs[1], 4, (int32_t[]){ 1, 1, 2, 1 });
    tml_test_set_shape(&op.outputs[0], 4, (int32_t[]){ 1, 2, 2, 2 });
    op.inputs[0].scale = 0.5f;
    op.inputs[0].zero_point = 1;
    op.inputs[1].scale = 0.5f;
    op.inputs[1].zero_point = -1;
    op.outputs[0].scale = 1.0f;
    op.outputs[0].zero_point = 0;
    const int8_t a[4] = { 5, 3, -1, 1 };   /* x1 - 1: 4, 2, -2, 0 */
    const int8_t b[2] = { 3, 0 };          /* x2 + 1: 4, 1 */
    int8_t y[8];
    char err[256] = "";
    tml_status s = tml_test_run_single_op(&op, (const void *[]){ a, b },
                                          (void *[]){ y }, err, sizeof err);
    assert_int_equal(s, TML_OK);
    /* out[h][w][c] = 0.25 (a[h][c] - 1)(b[w] + 1) */
    const int8_t want[8] = { 4, 2, 1, 1, -2, 0, -1, 0 };
    assert_memory_equal(y, want, sizeof want);
}

static void test_op_version3_float(void **state)
{
    (void)state;
    tml_test_op op = mul_op(TML_FLOAT32, TML_ACT_RELU);
    op.version = 3;
    tml_test_set_shape(&op.inputs[0], 1, (int32_t[]){ 3 });
    tml_test_set_shape(&op.inputs[1], 1, (int32_t[]){ 3 });
    tml_test_set_shape(&op.outputs[0], 1, (int32_t[]){ 3 });
    const float a[3] = { 1.5f, -2.0f, 4.0f }, b[3] = { 2.0f, 3.0f, 0.25f };
    float y[3];
    char err[256] = "";
    assert_int_equal(tml_test_run_single_op(&op, (const void *[]){ a, b },
                                            (void *[]){ y }, err, sizeof err),
                     TML_OK);
    const float want[3] = { 3.0f, 0.0f, 1.0f };
    assert_memory_equal(y, want, sizeof want);
}

static void test_op_errors(void **state)
{
    (void)state;
    tml_test_op op = mul_op(TML_INT8, TML_ACT_NONE);
    tml_test_set_shape(&op.inputs[0], 1, (int32_t[]){ 3 });
    tml_test_set_shape(&op.inputs[1], 1, (int32_t[]){ 3 });
    tml_test_set_shape(&op.outputs[0], 1, (int32_t[]){ 3 });
    op.inputs[0].scale = op.inputs[1].scale = 0.5f;
    op.outputs[0].type = TML_FLOAT32;
    tml_test_runner r;
    assert_int_equal(tml_test_runner_open(&r, &op, 0), TML_ERROR_UNSUPPORTED);
    assert_string_equal(tml_test_runner_error(&r),
                        "op 0 MUL: output 0 tensor 2 'output0': expected int8 like input "
                        "0, got float32");
    tml_test_runner_close(&r);

    op.outputs[0].type = TML_INT8;
    op.outputs[0].scale = 1.0f / 65536.0f;   /* 0.25 * 65536 = 2^14 */
    assert_int_equal(tml_test_runner_open(&r, &op, 0), TML_ERROR_UNSUPPORTED);
    assert_string_equal(tml_test_runner_error(&r),
                        "op 0 MUL: output 0 tensor 2 'output0': rescale multiplier "
                        "scale1 * scale2 / scale_out is 2^14 or more");
    tml_test_runner_close(&r);

    op = mul_op(TML_FLOAT32, TML_ACT_NONE);
    tml_test_set_shape(&op.inputs[0], 2, (int32_t[]){ 2, 3 });
    tml_test_set_shape(&op.inputs[1], 2, (int32_t[]){ 3, 1 });
    tml_test_set_shape(&op.outputs[0], 2, (int32_t[]){ 2, 3 });
    assert_int_equal(tml_test_runner_open(&r, &op, 0), TML_ERROR_MODEL);
    assert_string_equal(tml_test_runner_error(&r),
                        "op 0 MUL: input shapes (rank 2 and 2) do not broadcast to output "
                        "0 tensor 2 'output0'");
    tml_test_runner_close(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantize),
        cmocka_unit_test(test_int8_rounding_and_saturation),
        cmocka_unit_test(test_int8_multiplier_above_one),
        cmocka_unit_test(test_int8_near_float_model),
        cmocka_unit_test(test_all_int8_pairs_vs_reference),
        cmocka_unit_test(test_float_broadcast),
        cmocka_unit_test(test_op_int8_broadcast),
        cmocka_unit_test(test_op_version3_float),
        cmocka_unit_test(test_op_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
