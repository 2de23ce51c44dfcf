/*
 * ADD and SUB, int8 and float32, with broadcasting.
 *
 * int8 hand cases use power-of-two scales so every rescale step is exact
 * and the expected bytes follow from the real arithmetic (x.5 rounds half
 * away from zero, TFLite's RoundingDivideByPOT).  Broadcasting is checked
 * against a naive reference that maps each output index to input indices
 * with modulo arithmetic.  Goldens: the three ADDs of the ResNet models,
 * fed TFLite Micro's outputs of their producers.
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

#include "runtime/kernels/add_sub.h"
#include "runtime/quant.h"
#include "op_checks.h"
#include "test_util.h"

enum { ADD = 0, SUB = 41 };

static tml_addsub_params int8_params(int is_sub, float s1, int32_t z1, float s2,
                                     int32_t z2, float so, int32_t zo)
{
    tml_addsub_params p;
    memset(&p, 0, sizeof p);
    assert_int_equal(tml_addsub_quantize(&p, is_sub, s1, z1, s2, z2, so, zo), 0);
    p.act_min = -128;
    p.act_max = 127;
    return p;
}

static void test_quantize_power_of_two_scales(void **state)
{
    (void)state;
    tml_addsub_params p = int8_params(0, 0.5f, 0, 0.25f, 0, 1.0f, 0);
    /* 2 * max scale = 1: input multipliers 0.5 and 0.25, output 2^-20. */
    assert_int_equal(p.input1_multiplier, 1 << 30);
    assert_int_equal(p.input1_shift, 0);
    assert_int_equal(p.input2_multiplier, 1 << 30);
    assert_int_equal(p.input2_shift, -1);
    assert_int_equal(p.output_multiplier, 1 << 30);
    assert_int_equal(p.output_shift, -19);
    assert_int_equal(p.left_shift, 20);

    /* An output scale so small the output multiplier reaches 1. */
    tml_addsub_params q;
    assert_int_equal(tml_addsub_quantize(&q, 0, 1.0f, 0, 1.0f, 0, 1e-7f, 0), -1);
}

static void test_quantize_add_in_double_sub_in_float(void **state)
{
    (void)state;
    /* Expected multipliers computed with numpy: ADD (add_common.cc) forms
     * the real multipliers in double, SUB (sub_common.cc) in float32, so
     * their low bits differ. */
    tml_addsub_params a, s;
    assert_int_equal(tml_addsub_quantize(&a, 0, 0.0123f, 0, 0.0457f, 0, 0.0311f, 0), 0);
    assert_int_equal(tml_addsub_quantize(&s, 1, 0.0123f, 0, 0.0457f, 0, 0.0311f, 0), 0);
    assert_int_equal(a.input1_multiplier, 1155975874);
    assert_int_equal(s.input1_multiplier, 1155975936);
    assert_int_equal(a.input1_shift, -2);
    assert_int_equal(s.input1_shift, -2);
    assert_int_equal(a.input2_multiplier, 1073741824);
    assert_int_equal(s.input2_multiplier, 1073741824);
    assert_int_equal(a.input2_shift, 0);
    assert_int_equal(a.output_multiplier, 1577813539);
    assert_int_equal(s.output_multiplier, 1577813504);
    assert_int_equal(a.output_shift, -18);
    assert_int_equal(s.output_shift, -18);
}

static void test_add_int8(void **state)
{
    (void)state;
    tml_addsub_params p = int8_params(0, 0.5f, 2, 0.25f, -4, 1.0f, -3);
    /* real: 0.5 (x1 - 2) + 0.25 (x2 + 4), output zero point -3 */
    const int8_t a[5] = { 12, 2, 5, -1, 127 };
    const int8_t b[5] = { 4, -4, -4, -4, 127 };
    int8_t y[5];
    tml_addsub_int8(&p, NULL, 5, NULL, a, b, y);
    /* 5 + 2 = 7; 0; 1.5 -> 2; -1.5 -> -2; 62.5 + 32.75 = 95.25 -> 95 */
    const int8_t want[5] = { 4, -3, -1, -5, 92 };
    assert_memory_equal(y, want, sizeof want);
}

static void test_sub_int8_and_activation(void **state)
{
    (void)state;
    tml_addsub_params p = int8_params(1, 0.5f, 0, 0.25f, 0, 1.0f, 0);
    const int8_t a[4] = { 10, 3, -3, -128 };
    const int8_t b[4] = { 8, 0, 0, 127 };
    int8_t y[4];
    tml_addsub_int8(&p, NULL, 4, NULL, a, b, y);
    /* 5 - 2 = 3; 1.5 -> 2; -1.5 -> -2; -64 - 31.75 = -95.75 -> -96 */
    const int8_t want[4] = { 3, 2, -2, -96 };
    assert_memory_equal(y, want, sizeof want);

    p.act_min = 0;   /* RELU at zero point 0 */
    tml_addsub_int8(&p, NULL, 4, NULL, a, b, y);
    const int8_t want_relu[4] = { 3, 2, 0, 0 };
    assert_memory_equal(y, want_relu, sizeof want_relu);
}

/* TFLite's AddFunc / SUB lambda spelled out with quant.c's plain
 * MultiplyByQuantizedMultiplier, as the reference for the fast paths. */
static int8_t ref_addsub(const tml_addsub_params *p, int8_t x1, int8_t x2)
{
    int32_t a = tml_mul_by_qm((x1 + p->input1_offset) * (1 << 20), p->input1_multiplier,
                              p->input1_shift);
    int32_t b = tml_mul_by_qm((x2 + p->input2_offset) * (1 << 20), p->input2_multiplier,
                              p->input2_shift);
    int32_t v = tml_mul_by_qm(p->is_sub ? a - b : a + b, p->output_multiplier,
                              p->output_shift) + p->output_offset;
    return (int8_t)(v < p->act_min ? p->act_min : (v > p->act_max ? p->act_max : v));
}

static void test_all_int8_pairs_direct_and_tables(void **state)
{
    (void)state;
    static const struct { int sub; float s1, s2, so; int32_t z1, z2, zo, lo; } cases[] = {
        { 0, 0.039393551647663116f, 0.10419496148824692f, 0.050945673137903214f,
          -128, 4, -128, -128 },
        { 1, 0.0123f, 0.0457f, 0.0311f, 17, -3, 5, -128 },
        { 0, 0.5f, 0.5f, 0.01f, 0, 0, 0, 0 },
        { 1, 0.2f, 0.05f, 0.4f, -128, 127, 0, -20 },
    };
    static int8_t a[65536], b[65536], y_direct[65536], y_lut[65536];
    static int32_t lut[TML_ADDSUB_LUT_ENTRIES];
    for (int i = 0; i < 65536; i++) {
        a[i] = (int8_t)(i >> 8);
        b[i] = (int8_t)i;
    }
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        tml_addsub_params p = int8_params(cases[c].sub, cases[c].s1, cases[c].z1,
                                          cases[c].s2, cases[c].z2, cases[c].so,
                                          cases[c].zo);
        p.act_min = cases[c].lo;
        tml_addsub_int8(&p, NULL, 65536, NULL, a, b, y_direct);
        tml_addsub_int8_lut(&p, lut);
        tml_addsub_int8(&p, NULL, 65536, lut, a, b, y_lut);
        for (int i = 0; i < 65536; i++) {
            int8_t want = ref_addsub(&p, a[i], b[i]);
            if (y_direct[i] != want || y_lut[i] != want)
                fail_msg("case %d x1 %d x2 %d: direct %d tables %d reference %d", (int)c,
                         a[i], b[i], y_direct[i], y_lut[i], want);
        }
    }
}

/* Naive broadcast reference: element index -> coordinates -> input index. */
static void naive_bcast(int is_sub, const int32_t *d1, int n1, const float *a,
                        const int32_t *d2, int n2, const float *b,
                        const int32_t *dout, int nout, float *y)
{
    int32_t total = 1;
    for (int i = 0; i < nout; i++)
        total *= dout[i];
    for (int32_t e = 0; e < total; e++) {
        int32_t coord[TML_MAX_DIMS], rest = e;
        for (int i = nout - 1; i >= 0; i--) {
            coord[i] = rest % dout[i];
            rest /= dout[i];
        }
        int32_t ia = 0, ib = 0;
        for (int i = 0; i < n1; i++) {
            int32_t c = coord[nout - n1 + i];
            ia = ia * d1[i] + (d1[i] == 1 ? 0 : c);
        }
        for (int i = 0; i < n2; i++) {
            int32_t c = coord[nout - n2 + i];
            ib = ib * d2[i] + (d2[i] == 1 ? 0 : c);
        }
        y[e] = is_sub ? a[ia] - b[ib] : a[ia] + b[ib];
    }
}

static void check_bcast(int is_sub, const int32_t *d1, int n1, const int32_t *d2,
                        int n2, const int32_t *dout, int nout)
{
    float a[256], b[256], y[256], want[256];
    for (int i = 0; i < 256; i++) {
        a[i] = (float)(i * 3 % 17) - 8.0f;
        b[i] = (float)(i * 7 % 13) * 0.5f;
    }
    tml_bcast bc;
    assert_int_equal(tml_bcast_init(&bc, d1, n1, d2, n2, dout, nout), 0);
    tml_addsub_params p;
    memset(&p, 0, sizeof p);
    p.is_sub = is_sub;
    p.act_min_f = -INFINITY;
    p.act_max_f = INFINITY;
    int32_t total = 1;
    for (int i = 0; i < nout; i++)
        total *= dout[i];
    assert_true(total <= 256);
    tml_addsub_f32(&p, &bc, total, a, b, y);
    naive_bcast(is_sub, d1, n1, a, d2, n2, b, dout, nout, want);
    assert_memory_equal(y, want, (size_t)total * sizeof(float));
}

static void test_broadcast_shapes(void **state)
{
    (void)state;
    /* per-channel vector over NHWC */
    check_bcast(0, (int32_t[]){ 1, 2, 2, 3 }, 4, (int32_t[]){ 3 }, 1,
                (int32_t[]){ 1, 2, 2, 3 }, 4);
    /* scalar first, SUB order matters */
    check_bcast(1, (int32_t[]){ 1 }, 1, (int32_t[]){ 2, 3 }, 2, (int32_t[]){ 2, 3 }, 2);
    /* column against row: both broadcast */
    check_bcast(1, (int32_t[]){ 4, 1 }, 2, (int32_t[]){ 1, 5 }, 2, (int32_t[]){ 4, 5 }, 2);
    /* 6-D alternating pattern (no axes fuse) */
    check_bcast(0, (int32_t[]){ 2, 1, 2, 1, 2, 1 }, 6, (int32_t[]){ 1, 2, 1, 2, 1, 2 }, 6,
                (int32_t[]){ 2, 2, 2, 2, 2, 2 }, 6);
    /* 5-D with fusable runs and a unit axis */
    check_bcast(1, (int32_t[]){ 2, 3, 1, 1, 4 }, 5, (int32_t[]){ 3, 2, 1 }, 3,
                (int32_t[]){ 2, 3, 3, 2, 4 }, 5);
    /* equal shapes through the broadcast path */
    check_bcast(0, (int32_t[]){ 3, 4 }, 2, (int32_t[]){ 3, 4 }, 2, (int32_t[]){ 3, 4 }, 2);
}

static void test_broadcast_plan(void **state)
{
    (void)state;
    tml_bcast bc;
    /* [1,2,2,3] + [3]: H and W fuse into one axis of 4 */
    assert_int_equal(tml_bcast_init(&bc, (int32_t[]){ 1, 2, 2, 3 }, 4, (int32_t[]){ 3 }, 1,
                                    (int32_t[]){ 1, 2, 2, 3 }, 4), 0);
    assert_int_equal(bc.ndims, 2);
    assert_int_equal(bc.shape[0], 4);
    assert_int_equal(bc.shape[1], 3);
    assert_int_equal(bc.stride1[0], 3);
    assert_int_equal(bc.stride2[0], 0);
    assert_int_equal(bc.stride1[1], 1);
    assert_int_equal(bc.stride2[1], 1);
    /* incompatible */
    assert_int_equal(tml_bcast_init(&bc, (int32_t[]){ 2, 3 }, 2, (int32_t[]){ 4 }, 1,
                                    (int32_t[]){ 2, 3 }, 2), -1);
    /* output shape not the broadcast one */
    assert_int_equal(tml_bcast_init(&bc, (int32_t[]){ 2, 1 }, 2, (int32_t[]){ 1, 3 }, 2,
                                    (int32_t[]){ 2, 4 }, 2), -1);
    assert_int_equal(tml_bcast_init(&bc, (int32_t[]){ 1, 1, 1, 1, 1, 1, 2 }, 7,
                                    (int32_t[]){ 2 }, 1, (int32_t[]){ 2 }, 1), -1);
}

static void test_float_activation(void **state)
{
    (void)state;
    tml_addsub_params p;
    memset(&p, 0, sizeof p);
    p.act_min_f = 0.0f;
    p.act_max_f = 6.0f;
    const float a[4] = { 1.0f, -5.0f, 4.0f, 2.5f };
    const float b[4] = { 2.0f, 1.0f, 4.0f, 0.25f };
    float y[4];
    tml_addsub_f32(&p, NULL, 4, a, b, y);
    const float want[4] = { 3.0f, 0.0f, 6.0f, 2.75f };
    assert_memory_equal(y, want, sizeof want);
    p.is_sub = 1;
    tml_addsub_f32(&p, NULL, 4, a, b, y);
    const float want_sub[4] = { 0.0f, 0.0f, 0.0f, 2.25f };
    assert_memory_equal(y, want_sub, sizeof want_sub);
}

/* ---- through the interpreter ---- */

static tml_test_op binary_op(int builtin, tml_dtype type, int activation)
{
    tml_test_op op;
    memset(&op, 0, sizeof op);
    op.builtin = builtin;
    op.version = type == TML_INT8 ? 2 : 1;
    op.options = builtin == ADD ? tml_tfl_add_options(activation)
                                : tml_tfl_sub_options(activation);
    op.ninputs = 2;
    op.noutputs = 1;
    op.inputs[0].type = op.inputs[1].type = op.outputs[0].type = type;
    return op;
}

static void test_op_add_int8_broadcast_relu(void **state)
{
    (void)state;
    tml_test_op op = binary_op(ADD, TML_INT8, TML_ACT_RELU);
    tml_test_set_shape(&op.inputs[0], 4, (int32_t[]){ 1, 1, 2, 2 });
    tml_test_set_shape(&op.inputs[1], 1, (int32_t[]){ 2 });
    tml_test_set_shape(&op.outputs[0], 4, (int32_t[]){ 1, 1, 2, 2 });
    op.inputs[0].scale = 0.5f;
    op.inputs[0].zero_point = 2;
    op.inputs[1].scale = 0.25f;
    op.inputs[1].zero_point = -4;
    op.outputs[0].scale = 1.0f;
    op.outputs[0].zero_point = -3;
    const int8_t a[4] = { 12, 2, 5, -9 };
    const int8_t b[2] = { 4, -4 };   /* real 2, 0 */
    int8_t y[4];
    char err[256] = "";
    tml_status s = tml_test_run_single_op(&op, (const void *[]){ a, b },
                                          (void *[]){ y }, err, sizeof err);
    assert_int_equal(s, TML_OK);
    /* 5 + 2 = 7; 0 + 0; 1.5 + 2 = 3.5 -> 4; -5.5 -> RELU 0 (zero point -3) */
    const int8_t want[4] = { 4, -3, 1, -3 };
    assert_memory_equal(y, want, sizeof want);
}

static void test_op_sub_float_5d(void **state)
{
    (void)state;
    tml_test_op op = binary_op(SUB, TML_FLOAT32, TML_ACT_NONE);
    op.version = 3;   /* broadcast over more than 4 dims */
    tml_test_set_shape(&op.inputs[0], 5, (int32_t[]){ 2, 1, 1, 1, 2 });
    tml_test_set_shape(&op.inputs[1], 5, (int32_t[]){ 1, 1, 1, 2, 1 });
    tml_test_set_shape(&op.outputs[0], 5, (int32_t[]){ 2, 1, 1, 2, 2 });
    const float a[4] = { 1, 2, 3, 4 };
    const float b[2] = { 10, 20 };
    float y[8];
    char err[256] = "";
    tml_status s = tml_test_run_single_op(&op, (const void *[]){ a, b },
                                          (void *[]){ y }, err, sizeof err);
    assert_int_equal(s, TML_OK);
    const float want[8] = { -9, -8, -19, -18, -7, -6, -17, -16 };
    assert_memory_equal(y, want, sizeof want);
}

static void test_op_errors(void **state)
{
    (void)state;
    tml_test_op op = binary_op(ADD, TML_FLOAT32, TML_ACT_NONE);
    tml_test_set_shape(&op.inputs[0], 2, (int32_t[]){ 2, 3 });
    tml_test_set_shape(&op.inputs[1], 1, (int32_t[]){ 4 });
    tml_test_set_shape(&op.outputs[0], 2, (int32_t[]){ 2, 3 });
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 ADD: input shapes (rank 2 and 1) do not broadcast to output 0 "
                                  "tensor 2 'output0'");

    op = binary_op(SUB, TML_INT8, TML_ACT_NONE);
    tml_test_set_shape(&op.inputs[0], 1, (int32_t[]){ 4 });
    tml_test_set_shape(&op.inputs[1], 1, (int32_t[]){ 4 });
    tml_test_set_shape(&op.outputs[0], 1, (int32_t[]){ 4 });
    op.inputs[0].scale = op.outputs[0].scale = 0.5f;
    op.inputs[1].type = TML_FLOAT32;
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 SUB: input 1 tensor 1 'input1': expected int8 like input 0, got "
                                  "float32");

    op.inputs[1].type = TML_INT8;
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 SUB: input 1 tensor 1 'input1': int8 needs a positive per-tensor "
                                  "scale");

    op.inputs[1].scale = 0.5f;
    op.outputs[0].scale = 1e-7f;
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 SUB: output 0 tensor 2 'output0': scale too small for the int8 "
                                  "SUB (rescale multiplier >= 1)");

    op = binary_op(ADD, TML_INT32, TML_ACT_NONE);
    tml_test_set_shape(&op.inputs[0], 1, (int32_t[]){ 4 });
    tml_test_set_shape(&op.inputs[1], 1, (int32_t[]){ 4 });
    tml_test_set_shape(&op.outputs[0], 1, (int32_t[]){ 4 });
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 ADD: input 0 tensor 0 'input0': expected int8 or float32, got int32");

    op = binary_op(ADD, TML_FLOAT32, TML_ACT_SIGN_BIT);
    tml_test_set_shape(&op.inputs[0], 1, (int32_t[]){ 4 });
    tml_test_set_shape(&op.inputs[1], 1, (int32_t[]){ 4 });
    tml_test_set_shape(&op.outputs[0], 1, (int32_t[]){ 4 });
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 ADD: fused activation 5 is not supported");
}

/* ---- TFLite Micro goldens ---- */

typedef struct add_golden {
    int op;
    int a_op, a_tensor, b_op, b_tensor, out_tensor;
    int32_t h, w, c;
    float sa, sb, so;
    int32_t za, zb, zo;
} add_golden;

/* The residual ADDs of pretrainedResnet(_quant), all with fused RELU. */
static const add_golden resnet_adds[] = {
    { 3, 0, 22, 2, 24, 25, 32, 32, 16,
      0.039393551647663116f, 0.10419496148824692f, 0.050945673137903214f, -128, 4, -128 },
    { 7, 6, 28, 5, 27, 29, 16, 16, 32,
      0.044761426746845245f, 0.11311884224414825f, 0.0532362163066864f, -17, 4, -128 },
    { 11, 10, 32, 9, 31, 33, 8, 8, 64,
      0.08385830372571945f, 0.21724364161491394f, 0.1270691454410553f, 38, -2, -128 },
};

static int check_golden(const char *model, const add_golden *g, tml_dtype type)
{
    tml_test_op op = binary_op(ADD, type, TML_ACT_RELU);
    const int32_t dims[4] = { 1, g->h, g->w, g->c };
    tml_test_set_shape(&op.inputs[0], 4, dims);
    tml_test_set_shape(&op.inputs[1], 4, dims);
    tml_test_set_shape(&op.outputs[0], 4, dims);
    if (type == TML_INT8) {
        op.inputs[0].scale = g->sa;
        op.inputs[0].zero_point = g->za;
        op.inputs[1].scale = g->sb;
        op.inputs[1].zero_point = g->zb;
        op.outputs[0].scale = g->so;
        op.outputs[0].zero_point = g->zo;
    }
    const tml_test_golden in[2] = { { g->a_op, g->a_tensor },
                                    { g->b_op, g->b_tensor } };
    const tml_test_golden out = { g->op, g->out_tensor };
    return tml_test_check_op_golden(&op, model, in, 2, out);
}

static void test_goldens(void **state)
{
    (void)state;
    int checked = 0;
    for (int i = 0; i < 3; i++) {
        checked += check_golden("pretrainedResnet_quant", &resnet_adds[i], TML_INT8);
        checked += check_golden("pretrainedResnet", &resnet_adds[i], TML_FLOAT32);
    }
    if (checked == 0)
        skip();
    assert_int_equal(checked, 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantize_power_of_two_scales),
        cmocka_unit_test(test_quantize_add_in_double_sub_in_float),
        cmocka_unit_test(test_add_int8),
        cmocka_unit_test(test_sub_int8_and_activation),
        cmocka_unit_test(test_all_int8_pairs_direct_and_tables),
        cmocka_unit_test(test_broadcast_shapes),
        cmocka_unit_test(test_broadcast_plan),
        cmocka_unit_test(test_float_activation),
        cmocka_unit_test(test_op_add_int8_broadcast_relu),
        cmocka_unit_test(test_op_sub_float_5d),
        cmocka_unit_test(test_op_errors),
        cmocka_unit_test(test_goldens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
