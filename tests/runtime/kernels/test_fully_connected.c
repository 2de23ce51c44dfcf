/*
 * FULLY_CONNECTED: the math layer on hand-computed cases (per-tensor and
 * per-channel int8, float), the optimized paths against a literal
 * transcription of TFLite's reference loops, prepare through one-op models
 * (keep_num_dims, batches, no bias, messages), and every FULLY_CONNECTED of
 * the shared models against TFLite Micro's per-op goldens.
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

#include "op_checks.h"
#include "kernels/conv_common.h"
#include "quant.h"
#include "schema.h"
#include "test_rand.h"
#include "test_util.h"

/* reference_integer_ops::FullyConnected(PerChannel), loop for loop. */
static void naive_fc_int8(const tml_fc_params *p, const int8_t *x,
                          const int8_t *w, const int32_t *bias, int8_t *y)
{
    for (int b = 0; b < p->batches; b++)
        for (int oc = 0; oc < p->out_depth; oc++) {
            int32_t acc = 0;
            for (int d = 0; d < p->accum_depth; d++)
                acc += w[oc * p->accum_depth + d] *
                       (x[b * p->accum_depth + d] + p->q.input_offset);
            if (bias)
                acc += bias[oc];
            const int q = p->per_channel ? oc : 0;
            acc = tml_mul_by_qm(acc, p->q.out_mult[q], p->q.out_shift[q]);
            acc += p->q.output_offset;
            acc = acc < p->q.clamp.act_min ? p->q.clamp.act_min : acc;
            acc = acc > p->q.clamp.act_max ? p->q.clamp.act_max : acc;
            y[oc + p->out_depth * b] = (int8_t)acc;
        }
}

static void naive_fc_f32(const tml_fc_params *p, const float *x,
                         const float *w, const float *bias, float *y)
{
    for (int b = 0; b < p->batches; b++)
        for (int oc = 0; oc < p->out_depth; oc++) {
            float total = 0.0f;
            for (int d = 0; d < p->accum_depth; d++)
                total += x[b * p->accum_depth + d] * w[oc * p->accum_depth + d];
            float v = total + (bias ? bias[oc] : 0.0f);
            v = v < p->q.clamp.fact_min ? p->q.clamp.fact_min : v;
            v = v > p->q.clamp.fact_max ? p->q.clamp.fact_max : v;
            y[oc + p->out_depth * b] = v;
        }
}

static void base_params(tml_fc_params *p, int batches, int depth, int outs)
{
    memset(p, 0, sizeof *p);
    p->batches = batches;
    p->accum_depth = depth;
    p->out_depth = outs;
    p->q.clamp.act_min = -128;
    p->q.clamp.act_max = 127;
    p->q.clamp.fact_min = -3.4028234663852886e38f;
    p->q.clamp.fact_max = 3.4028234663852886e38f;
}

/* x = [1 2 3; 4 5 6] with zero point -1 (x+off = [2 3 4; 5 6 7]),
 * w = [1 0 -1; 2 1 1], bias [5 -5]:
 *   b0: 2 - 4 + 5 = 3, 4 + 3 + 4 - 5 = 6
 *   b1: 5 - 7 + 5 = 3, 10 + 6 + 7 - 5 = 18 */
static const int8_t k_x[6] = { 1, 2, 3, 4, 5, 6 };
static const int8_t k_w[6] = { 1, 0, -1, 2, 1, 1 };
static const int32_t k_bias[2] = { 5, -5 };

static void test_fc_int8_per_tensor(void **state)
{
    (void)state;
    const int32_t mult[1] = { 1 << 30 };
    const int8_t shift[1] = { 1 };   /* real multiplier 1 */
    tml_fc_params p;
    base_params(&p, 2, 3, 2);
    p.q.input_offset = 1;
    p.q.output_offset = -2;
    p.q.out_mult = mult;
    p.q.out_shift = shift;
    int8_t y[4];
    tml_fc_int8(&p, k_x, k_w, k_bias, y);
    const int8_t want[4] = { 1, 4, 1, 16 };
    assert_memory_equal(y, want, sizeof want);
    /* ReLU-like clamp at 2 and no bias: 2-4, 4+3+4 / 5-7, 10+6+7. */
    p.q.clamp.act_min = 2;
    tml_fc_int8(&p, k_x, k_w, NULL, y);
    const int8_t want2[4] = { 2, 9, 2, 21 };
    assert_memory_equal(y, want2, sizeof want2);
}

static void test_fc_int8_per_channel(void **state)
{
    (void)state;
    const int32_t mult[2] = { 1 << 30, 1 << 30 };
    const int8_t shift[2] = { 1, 0 };   /* 1 and 0.5 */
    tml_fc_params p;
    base_params(&p, 2, 3, 2);
    p.q.input_offset = 1;
    p.q.out_mult = mult;
    p.q.out_shift = shift;
    p.per_channel = 1;
    int8_t y[4];
    tml_fc_int8(&p, k_x, k_w, k_bias, y);
    const int8_t want[4] = { 3, 3, 3, 9 };
    assert_memory_equal(y, want, sizeof want);
}

static void test_fc_f32_hand(void **state)
{
    (void)state;
    const float x[3] = { 1, -2, 0.5f };
    const float w[6] = { 1, 1, 1, 0.5f, -0.25f, 4 };
    const float bias[2] = { -0.5f, 0.25f };
    tml_fc_params p;
    base_params(&p, 1, 3, 2);
    float y[2];
    tml_fc_f32(&p, x, w, bias, y);
    assert_true(y[0] == -1.0f);   /* 1 - 2 + 0.5 - 0.5 */
    assert_true(y[1] == 3.25f);   /* 0.5 + 0.5 + 2 + 0.25 */
    p.q.clamp.fact_min = 0.0f;            /* RELU6 */
    p.q.clamp.fact_max = 6.0f;
    tml_fc_f32(&p, x, w, bias, y);
    assert_true(y[0] == 0.0f);
    assert_true(y[1] == 3.25f);
}

static void run_random_case(int batches, int depth, int outs, int per_channel,
                            uint32_t seed)
{
    uint32_t s = seed;
    tml_fc_params p;
    base_params(&p, batches, depth, outs);
    const size_t nx = (size_t)batches * depth, nw = (size_t)outs * depth,
                 ny = (size_t)batches * outs;
    int8_t *x = malloc(nx), *w = malloc(nw), *y = malloc(ny), *y_ref = malloc(ny);
    int32_t *bias = malloc(sizeof(int32_t) * outs);
    int32_t *mult = malloc(sizeof(int32_t) * outs);
    int8_t *shift = malloc((size_t)outs);
    for (size_t i = 0; i < nx; i++)
        x[i] = (int8_t)tml_test_rand_range(&s, -128, 127);
    for (size_t i = 0; i < nw; i++)
        w[i] = (int8_t)tml_test_rand_range(&s, -127, 127);
    for (int c = 0; c < outs; c++) {
        bias[c] = tml_test_rand_range(&s, -20000, 20000);
        int sh;
        const double real = 0.0001 * (double)tml_test_rand_range(&s, 1, 50);
        tml_quantize_multiplier(real, &mult[c], &sh);
        shift[c] = (int8_t)sh;
    }
    p.per_channel = per_channel;
    p.q.out_mult = mult;
    p.q.out_shift = shift;
    p.q.input_offset = -tml_test_rand_range(&s, -128, 127);
    p.q.output_offset = tml_test_rand_range(&s, -30, 30);
    tml_fc_int8(&p, x, w, seed & 1 ? bias : NULL, y);
    naive_fc_int8(&p, x, w, seed & 1 ? bias : NULL, y_ref);
    if (memcmp(y, y_ref, ny) != 0)
        fail_msg("int8 mismatch: batches %d depth %d outs %d per_channel %d",
                 batches, depth, outs, per_channel);

    float *xf = malloc(nx * 4), *wf = malloc(nw * 4), *yf = malloc(ny * 4),
          *yf_ref = malloc(ny * 4), *bf = malloc(sizeof(float) * outs);
    for (size_t i = 0; i < nx; i++)
        xf[i] = (float)x[i] / 31.0f;
    for (size_t i = 0; i < nw; i++)
        wf[i] = (float)w[i] / 127.0f;
    for (int c = 0; c < outs; c++)
        bf[c] = (float)bias[c] / 3000.0f;
    tml_fc_f32(&p, xf, wf, seed & 1 ? bf : NULL, yf);
    naive_fc_f32(&p, xf, wf, seed & 1 ? bf : NULL, yf_ref);
    /* Float sums run in 8 lanes, not TFLite's sequential order: held to
     * the float contract, 1e-5 of the largest reference magnitude. */
    double max_ref = 0, max_diff = 0;
    for (size_t i = 0; i < ny; i++) {
        double r = fabs((double)yf_ref[i]), d = fabs((double)yf[i] - yf_ref[i]);
        max_ref = r > max_ref ? r : max_ref;
        max_diff = d > max_diff ? d : max_diff;
    }
    if (max_diff > 1e-5 * max_ref)
        fail_msg("float mismatch: max diff %g, max ref %g", max_diff, max_ref);

    free(x); free(w); free(y); free(y_ref); free(bias); free(mult);
    free(shift); free(xf); free(wf); free(yf); free(yf_ref); free(bf);
}

static void test_fc_random_vs_reference(void **state)
{
    (void)state;
    const int shapes[][3] = {
        { 1, 640, 128 }, { 1, 128, 8 }, { 1, 8, 128 }, { 3, 17, 5 },
        { 2, 16, 3 }, { 4, 15, 9 }, { 1, 1, 4 }, { 2, 33, 7 }, { 1, 256, 2 },
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        for (int pc = 0; pc < 2; pc++) {
            run_random_case(shapes[i][0], shapes[i][1], shapes[i][2], pc,
                            31u + 2u * (uint32_t)i + (uint32_t)pc);
            run_random_case(shapes[i][0], shapes[i][1], shapes[i][2], pc,
                            500u + 7u * (uint32_t)i + (uint32_t)pc);
        }
    }
}

/* ------------------------------------------------ prepare through models */

static const float k_wscale[1] = { 0.25f };
static const float k_bscale[1] = { 0.125f };

/* The per-tensor hand case as a model: scales 0.5 * 0.25 / 0.125 = 1. */
static tml_test_op int8_fc_op(void)
{
    tml_test_op op = {
        .builtin = 9,
        .version = 4,
        .options = tml_tfl_fully_connected_options(TML_ACT_NONE, 0),
        .ninputs = 3,
        .inputs = {
            { .type = TML_INT8, .ndims = 2, .dims = { 2, 3 },
              .scale = 0.5f, .zero_point = -1 },
            { .type = TML_INT8, .ndims = 2, .dims = { 2, 3 },
              .channels = 1, .scales = k_wscale, .data = k_w },
            { .type = TML_INT32, .ndims = 1, .dims = { 2 },
              .channels = 1, .scales = k_bscale, .data = k_bias },
        },
        .noutputs = 1,
        .outputs = { { .type = TML_INT8, .ndims = 2, .dims = { 2, 2 },
                       .scale = 0.125f, .zero_point = 0 } },
    };
    return op;
}

static void test_fc_one_op_models(void **state)
{
    (void)state;
    int8_t y[4];
    tml_test_op op = int8_fc_op();
    tml_test_run_op_ok(&op, k_x, y);
    const int8_t want[4] = { 3, 6, 3, 18 };
    assert_memory_equal(y, want, sizeof want);

    /* keep_num_dims: input [1, 2, 3] -> output [1, 2, 2], same numbers. */
    op = int8_fc_op();
    op.version = 5;
    op.options = tml_tfl_fully_connected_options(TML_ACT_NONE, 1);
    op.inputs[0].ndims = 3;
    op.inputs[0].dims[0] = 1;
    op.inputs[0].dims[1] = 2;
    op.inputs[0].dims[2] = 3;
    op.outputs[0].ndims = 3;
    op.outputs[0].dims[0] = 1;
    op.outputs[0].dims[1] = 2;
    op.outputs[0].dims[2] = 2;
    tml_test_run_op_ok(&op, k_x, y);
    assert_memory_equal(y, want, sizeof want);

    /* No bias (version 6), RELU: 2-4 -> 0, 11 / 5-7 -> 0, 23. */
    op = int8_fc_op();
    op.version = 6;
    op.options = tml_tfl_fully_connected_options(TML_ACT_RELU, 0);
    op.ninputs = 2;
    tml_test_run_op_ok(&op, k_x, y);
    const int8_t want_nb[4] = { 0, 11, 0, 23 };
    assert_memory_equal(y, want_nb, sizeof want_nb);

    /* Per-channel weights: scales 0.25 and 0.125 -> multipliers 1, 0.5. */
    static const float wsc[2] = { 0.25f, 0.125f };
    static const float bsc[2] = { 0.125f, 0.0625f };
    op = int8_fc_op();
    op.inputs[1].channels = 2;
    op.inputs[1].scales = wsc;
    op.inputs[2].channels = 2;
    op.inputs[2].scales = bsc;
    tml_test_run_op_ok(&op, k_x, y);
    const int8_t want_pc[4] = { 3, 3, 3, 9 };
    assert_memory_equal(y, want_pc, sizeof want_pc);

    /* Float. */
    static const float wf[6] = { 1, 0, -1, 2, 1, 1 };
    static const float bf[2] = { 0.5f, -0.5f };
    tml_test_op fop = {
        .builtin = 9,
        .options = tml_tfl_fully_connected_options(TML_ACT_NONE, 0),
        .ninputs = 3,
        .inputs = {
            { .type = TML_FLOAT32, .ndims = 2, .dims = { 2, 3 } },
            { .type = TML_FLOAT32, .ndims = 2, .dims = { 2, 3 }, .data = wf },
            { .type = TML_FLOAT32, .ndims = 1, .dims = { 2 }, .data = bf },
        },
        .noutputs = 1,
        .outputs = { { .type = TML_FLOAT32, .ndims = 2, .dims = { 2, 2 } } },
    };
    const float xf[6] = { 1, 2, 3, 4, 5, 6 };
    float yf[4];
    tml_test_run_op_ok(&fop, xf, yf);
    const float want_f[4] = { -1.5f, 6.5f, -1.5f, 18.5f };
    for (int i = 0; i < 4; i++)
        assert_true(yf[i] == want_f[i]);
}

static void test_fc_prepare_errors(void **state)
{
    (void)state;
    tml_test_op op = int8_fc_op();
    op.options = tml_tfl_fully_connected_options(TML_ACT_NONE, 0);
    tml_tfl_opt_i8(&op.options, TML_F_FC_WEIGHTS_FORMAT, 1, 0);
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 FULLY_CONNECTED: option weights_format 1, expected "
                                  "0..0");

    /* GetQuantizedConvolutionMultipler: bias scale must be in * w. */
    static const float bad_bscale[1] = { 0.5f };
    op = int8_fc_op();
    op.inputs[2].scales = bad_bscale;
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 FULLY_CONNECTED: input 2 tensor 2 'input2': expected "
                                  "scale in * weight scale, got another");

    /* The 2% bound is TFLite's double arithmetic, exactly: with input *
     * weight scale 0.125, bias scale 0.1275f (|diff| / 0.125 just under
     * 0.02 in double) passes and the next float up does not. */
    static const float edge_ok[1] = { 0.1275f };
    static float edge_bad[1];
    edge_bad[0] = nextafterf(0.1275f, 1.0f);
    op = int8_fc_op();
    op.inputs[2].scales = edge_ok;
    int8_t y_edge[4];
    tml_test_run_op_ok(&op, k_x, y_edge);
    op.inputs[2].scales = edge_bad;
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 FULLY_CONNECTED: input 2 tensor 2 'input2': "
                                  "expected scale in * weight scale, got another");

    op = int8_fc_op();
    op.inputs[0].dims[1] = 4;
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 FULLY_CONNECTED: input 0 tensor 0 'input0': "
                                  "expected elements (batches * depth) 6, got 8");

    op = int8_fc_op();
    op.outputs[0].dims[1] = 3;
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 FULLY_CONNECTED: output 0 tensor 3 'output0': "
                                  "expected last dim 2, got 3");

    op = int8_fc_op();
    op.inputs[0].type = TML_INT16;
    op.outputs[0].type = TML_INT16;
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 FULLY_CONNECTED: input 0 tensor 0 'input0': "
                                  "expected int8 or float32, got int16");

    op = int8_fc_op();
    op.inputs[0].zero_point = -129;
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 FULLY_CONNECTED: input 0 tensor 0 'input0': expected "
                                  "an int8 zero point, got -129");

    op = int8_fc_op();
    op.inputs[2].type = TML_INT8;
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 FULLY_CONNECTED: input 2 tensor 2 'input2': "
                                  "expected int32, got int8");
}

static void test_golden_ad_int8(void **state) { (void)state; tml_test_assert_op_goldens("ad01_int8", 9, 10); }
static void test_golden_ad_float(void **state) { (void)state; tml_test_assert_op_goldens("ad01_fp32", 9, 10); }
static void test_golden_kws(void **state) { (void)state; tml_test_assert_op_goldens("kws_ref_model", 9, 1); }
static void test_golden_vww_int8(void **state) { (void)state; tml_test_assert_op_goldens("vww_96_int8", 9, 1); }
static void test_golden_resnet_int8(void **state) { (void)state; tml_test_assert_op_goldens("pretrainedResnet_quant", 9, 1); }
static void test_golden_vww_float(void **state) { (void)state; tml_test_assert_op_goldens("vww_96_float", 9, 1); }
static void test_golden_resnet_float(void **state) { (void)state; tml_test_assert_op_goldens("pretrainedResnet", 9, 1); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fc_int8_per_tensor),
        cmocka_unit_test(test_fc_int8_per_channel),
        cmocka_unit_test(test_fc_f32_hand),
        cmocka_unit_test(test_fc_random_vs_reference),
        cmocka_unit_test(test_fc_one_op_models),
        cmocka_unit_test(test_fc_prepare_errors),
        cmocka_unit_test(test_golden_ad_int8),
        cmocka_unit_test(test_golden_ad_float),
        cmocka_unit_test(test_golden_kws),
        cmocka_unit_test(test_golden_vww_int8),
        cmocka_unit_test(test_golden_resnet_int8),
        cmocka_unit_test(test_golden_vww_float),
        cmocka_unit_test(test_golden_resnet_float),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
