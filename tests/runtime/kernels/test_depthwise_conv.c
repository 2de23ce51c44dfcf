/*
 * DEPTHWISE_CONV_2D: the math layer on hand-computed cases, the optimized
 * int8 and float paths against a literal transcription of TFLite's
 * reference loops on many random shapes, prepare's checks and messages
 * through one-op models, and every DEPTHWISE_CONV_2D of the shared models
 * against TFLite Micro's per-op goldens.
 */
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
#include "test_rand.h"
#include "test_util.h"

/* TFLite's DepthwiseConvPerChannel, loop for loop. */
static void naive_dw_int8(const tml_conv_params *p, const tml_shape4 *in,
                          const int8_t *x, const tml_shape4 *f,
                          const int8_t *w, const int32_t *bias,
                          const tml_shape4 *out, int8_t *y)
{
    for (int b = 0; b < out->n; b++)
        for (int oy = 0; oy < out->h; oy++)
            for (int ox = 0; ox < out->w; ox++)
                for (int ic = 0; ic < in->c; ic++)
                    for (int m = 0; m < p->depth_multiplier; m++) {
                        const int oc = m + ic * p->depth_multiplier;
                        int32_t acc = 0;
                        for (int ky = 0; ky < f->h; ky++)
                            for (int kx = 0; kx < f->w; kx++) {
                                const int ix = ox * p->stride_w - p->pad_w + p->dilation_w * kx;
                                const int iy = oy * p->stride_h - p->pad_h + p->dilation_h * ky;
                                if (ix < 0 || ix >= in->w || iy < 0 || iy >= in->h)
                                    continue;
                                int32_t xv = x[((b * in->h + iy) * in->w + ix) * in->c + ic];
                                int32_t wv = w[(ky * f->w + kx) * f->c + oc];
                                acc += wv * (xv + p->q.input_offset);
                            }
                        if (bias)
                            acc += bias[oc];
                        acc = tml_mul_by_qm(acc, p->q.out_mult[oc], p->q.out_shift[oc]);
                        acc += p->q.output_offset;
                        acc = acc < p->q.clamp.act_min ? p->q.clamp.act_min : acc;
                        acc = acc > p->q.clamp.act_max ? p->q.clamp.act_max : acc;
                        y[((b * out->h + oy) * out->w + ox) * out->c + oc] = (int8_t)acc;
                    }
}

static void naive_dw_f32(const tml_conv_params *p, const tml_shape4 *in,
                         const float *x, const tml_shape4 *f, const float *w,
                         const float *bias, const tml_shape4 *out, float *y)
{
    for (int b = 0; b < out->n; b++)
        for (int oy = 0; oy < out->h; oy++)
            for (int ox = 0; ox < out->w; ox++)
                for (int ic = 0; ic < in->c; ic++)
                    for (int m = 0; m < p->depth_multiplier; m++) {
                        const int oc = m + ic * p->depth_multiplier;
                        float total = 0.0f;
                        for (int ky = 0; ky < f->h; ky++)
                            for (int kx = 0; kx < f->w; kx++) {
                                const int ix = ox * p->stride_w - p->pad_w + p->dilation_w * kx;
                                const int iy = oy * p->stride_h - p->pad_h + p->dilation_h * ky;
                                if (ix < 0 || ix >= in->w || iy < 0 || iy >= in->h)
                                    continue;
                                total += x[((b * in->h + iy) * in->w + ix) * in->c + ic] *
                                         w[(ky * f->w + kx) * f->c + oc];
                            }
                        float v = total + (bias ? bias[oc] : 0.0f);
                        v = v < p->q.clamp.fact_min ? p->q.clamp.fact_min : v;
                        v = v > p->q.clamp.fact_max ? p->q.clamp.fact_max : v;
                        y[((b * out->h + oy) * out->w + ox) * out->c + oc] = v;
                    }
}

static void base_params(tml_conv_params *p)
{
    memset(p, 0, sizeof *p);
    p->stride_h = p->stride_w = 1;
    p->dilation_h = p->dilation_w = 1;
    p->depth_multiplier = 1;
    p->q.clamp.act_min = -128;
    p->q.clamp.act_max = 127;
    p->q.clamp.fact_min = -3.4028234663852886e38f;
    p->q.clamp.fact_max = 3.4028234663852886e38f;
}

/* Input 1x2x2x1 = 1 2 / 3 4 with zero point -1 (x+off = 2 3 / 4 5), depth
 * multiplier 2, 2x2 filters oc0 = 1 0 / 0 0, oc1 = 1 1 / 1 1, SAME stride
 * 1 (total padding 1, all after the image), bias 10 and -1, multiplier 1:
 *   (0,0): oc0 2, oc1 2+3+4+5 = 14;  (0,1): 3, 3+5 = 8
 *   (1,0): 4, 4+5 = 9;               (1,1): 5, 5
 * plus bias: 12 13 / 13 7 / 14 8 / 15 4. */
static void test_dw_int8_multiplier2_same(void **state)
{
    (void)state;
    const int8_t x[4] = { 1, 2, 3, 4 };
    const int8_t w[8] = { 1, 1, 0, 1, 0, 1, 0, 1 };
    const int32_t bias[2] = { 10, -1 };
    const int32_t mult[2] = { 1 << 30, 1 << 30 };
    const int8_t shift[2] = { 1, 1 };
    tml_conv_params p;
    base_params(&p);
    p.depth_multiplier = 2;
    int32_t oh;
    assert_int_equal(tml_conv_out_size(TML_PAD_SAME, 2, 2, 1, 1, &oh, &p.pad_h), 0);
    assert_int_equal(oh, 2);
    assert_int_equal(p.pad_h, 0);
    p.q.input_offset = 1;
    p.q.out_mult = mult;
    p.q.out_shift = shift;
    const tml_shape4 in = { 1, 2, 2, 1 }, f = { 1, 2, 2, 2 }, out = { 1, 2, 2, 2 };
    int8_t y[8];
    tml_depthwise_int8(&p, &in, x, &f, w, bias, &out, y);
    const int8_t want[8] = { 12, 13, 13, 7, 14, 8, 15, 4 };
    assert_memory_equal(y, want, sizeof want);
}

/* 18 channels (a 16-channel block and a 2-channel rest), 1x1 input, 3x3
 * filter, SAME: only the centre tap is inside.  Channel c has x = c, zero
 * point 0, centre weight c - 9 -> acc = c * (c - 9); multiplier 1, output
 * offset 5, clamp [-20, 20]. */
static void test_dw_int8_block_and_rest(void **state)
{
    (void)state;
    int8_t x[18], w[9 * 18];
    int32_t mult[18];
    int8_t shift[18];
    memset(w, 100, sizeof w);   /* taps in the padding must not count */
    for (int c = 0; c < 18; c++) {
        x[c] = (int8_t)c;
        w[4 * 18 + c] = (int8_t)(c - 9);
        mult[c] = 1 << 30;
        shift[c] = 1;
    }
    tml_conv_params p;
    base_params(&p);
    p.pad_h = p.pad_w = 1;
    p.q.output_offset = 5;
    p.q.clamp.act_min = -20;
    p.q.clamp.act_max = 20;
    p.q.out_mult = mult;
    p.q.out_shift = shift;
    const tml_shape4 in = { 1, 1, 1, 18 }, f = { 1, 3, 3, 18 }, out = { 1, 1, 1, 18 };
    int8_t y[18];
    tml_depthwise_int8(&p, &in, x, &f, w, NULL, &out, y);
    for (int c = 0; c < 18; c++) {
        int v = c * (c - 9) + 5;
        v = v < -20 ? -20 : (v > 20 ? 20 : v);
        assert_int_equal(y[c], v);
    }
}

static void test_dw_f32_hand(void **state)
{
    (void)state;
    /* 1x1x3x2 input, 1x1x2 filter (one tap row of 2), VALID -> 1x1x2x2. */
    const float x[6] = { 1, -2, 3, 4, 5, 6 };
    const float w[4] = { 0.5f, 2, -1, 0.25f };
    const float bias[2] = { 0.5f, -0.5f };
    tml_conv_params p;
    base_params(&p);
    p.q.clamp.fact_min = -1.0f;   /* RELU_N1_TO_1 */
    p.q.clamp.fact_max = 1.0f;
    const tml_shape4 in = { 1, 1, 3, 2 }, f = { 1, 1, 2, 2 }, out = { 1, 1, 2, 2 };
    float y[4];
    tml_depthwise_f32(&p, &in, x, &f, w, bias, &out, y);
    /* ox 0: c0 1*0.5 + 3*-1 + 0.5 = -2 -> -1; c1 -2*2 + 4*0.25 - 0.5 = -3.5 -> -1
     * ox 1: c0 3*0.5 + 5*-1 + 0.5 = -3 -> -1; c1 4*2 + 6*0.25 - 0.5 = 9 -> 1 */
    const float want[4] = { -1, -1, -1, 1 };
    for (int i = 0; i < 4; i++)
        assert_true(y[i] == want[i]);
    p.q.clamp.fact_min = -100.0f;
    p.q.clamp.fact_max = 100.0f;
    tml_depthwise_f32(&p, &in, x, &f, w, bias, &out, y);
    const float want2[4] = { -2, -3.5f, -3, 9 };
    for (int i = 0; i < 4; i++)
        assert_true(y[i] == want2[i]);
}

typedef struct dw_case {
    int n, h, w, cin, m, kh, kw, sh, sw, dh, dw, same;
} dw_case;

static void run_random_case(const dw_case *dc, uint32_t seed)
{
    uint32_t s = seed;
    const int cout = dc->cin * dc->m;
    tml_conv_params p;
    base_params(&p);
    p.stride_h = dc->sh;
    p.stride_w = dc->sw;
    p.dilation_h = dc->dh;
    p.dilation_w = dc->dw;
    p.depth_multiplier = dc->m;
    int32_t oh, ow;
    const int pad = dc->same ? TML_PAD_SAME : TML_PAD_VALID;
    assert_int_equal(tml_conv_out_size(pad, dc->h, dc->kh, dc->sh, dc->dh, &oh, &p.pad_h), 0);
    assert_int_equal(tml_conv_out_size(pad, dc->w, dc->kw, dc->sw, dc->dw, &ow, &p.pad_w), 0);
    const tml_shape4 in = { dc->n, dc->h, dc->w, dc->cin };
    const tml_shape4 f = { 1, dc->kh, dc->kw, cout };
    const tml_shape4 out = { dc->n, oh, ow, cout };
    const size_t nx = (size_t)dc->n * dc->h * dc->w * dc->cin;
    const size_t nw = (size_t)dc->kh * dc->kw * cout;
    const size_t ny = (size_t)dc->n * oh * ow * cout;
    int8_t *x = malloc(nx), *w = malloc(nw), *y = malloc(ny), *y_ref = malloc(ny);
    int32_t *bias = malloc(sizeof(int32_t) * cout);
    int32_t *mult = malloc(sizeof(int32_t) * cout);
    int8_t *shift = malloc((size_t)cout);
    float *scales = malloc(sizeof(float) * cout);
    for (size_t i = 0; i < nx; i++)
        x[i] = (int8_t)tml_test_rand_range(&s, -128, 127);
    for (size_t i = 0; i < nw; i++)
        w[i] = (int8_t)tml_test_rand_range(&s, -127, 127);
    for (int c = 0; c < cout; c++) {
        bias[c] = tml_test_rand_range(&s, -3000, 3000);
        scales[c] = 0.001f + 0.0005f * (float)tml_test_rand_range(&s, 0, 40);
    }
    tml_conv_multipliers(0.05f, scales, cout, 0.2f, cout, mult, shift);
    p.q.out_mult = mult;
    p.q.out_shift = shift;
    p.q.input_offset = -tml_test_rand_range(&s, -128, 127);
    p.q.output_offset = tml_test_rand_range(&s, -20, 20);
    p.q.clamp.act_min = tml_test_rand_range(&s, -128, -90);
    p.q.clamp.act_max = tml_test_rand_range(&s, 90, 127);
    tml_depthwise_int8(&p, &in, x, &f, w, seed & 1 ? bias : NULL, &out, y);
    naive_dw_int8(&p, &in, x, &f, w, seed & 1 ? bias : NULL, &out, y_ref);
    if (memcmp(y, y_ref, ny) != 0)
        fail_msg("int8 mismatch: %dx%dx%dx%d m%d k%dx%d s%d,%d d%d,%d same %d",
                 dc->n, dc->h, dc->w, dc->cin, dc->m, dc->kh, dc->kw, dc->sh,
                 dc->sw, dc->dh, dc->dw, dc->same);

    float *xf = malloc(nx * 4), *wf = malloc(nw * 4), *yf = malloc(ny * 4),
          *yf_ref = malloc(ny * 4), *bf = malloc(sizeof(float) * cout);
    for (size_t i = 0; i < nx; i++)
        xf[i] = (float)x[i] / 29.0f;
    for (size_t i = 0; i < nw; i++)
        wf[i] = (float)w[i] / 61.0f;
    for (int c = 0; c < cout; c++)
        bf[c] = (float)bias[c] / 700.0f;
    p.q.clamp.fact_min = 0.0f;
    p.q.clamp.fact_max = 6.0f;
    tml_depthwise_f32(&p, &in, xf, &f, wf, seed & 1 ? bf : NULL, &out, yf);
    naive_dw_f32(&p, &in, xf, &f, wf, seed & 1 ? bf : NULL, &out, yf_ref);
    assert_memory_equal(yf, yf_ref, ny * 4);

    free(x); free(w); free(y); free(y_ref); free(bias); free(mult);
    free(shift); free(scales); free(xf); free(wf); free(yf); free(yf_ref);
    free(bf);
}

static void test_dw_random_vs_reference(void **state)
{
    (void)state;
    const dw_case cases[] = {
        /* n  h   w  cin m kh kw sh sw dh dw same */
        { 1, 25,  5, 64, 1, 3, 3, 1, 1, 1, 1, 1 },   /* KWS */
        { 1, 12, 12, 16, 1, 3, 3, 2, 2, 1, 1, 1 },   /* VWW stride 2 */
        { 2,  7,  6, 20, 1, 3, 3, 1, 1, 1, 1, 1 },   /* block + rest, batch 2 */
        { 1,  9,  8,  3, 1, 5, 3, 1, 2, 1, 1, 0 },
        { 1,  9,  9, 18, 1, 3, 3, 1, 1, 2, 3, 1 },   /* dilation */
        { 1,  6,  7,  5, 2, 3, 3, 1, 1, 1, 1, 1 },   /* multiplier 2 */
        { 1,  6,  7,  4, 3, 2, 3, 2, 1, 2, 1, 0 },   /* multiplier 3 */
        { 1,  5,  5,  2, 20, 3, 3, 1, 1, 1, 1, 1 },  /* multiplier 16 + 4 */
        { 1,  3,  3, 33, 1, 5, 5, 1, 1, 1, 1, 1 },   /* filter > input */
        { 1, 10,  9,  8, 1, 3, 3, 2, 2, 1, 1, 1 },   /* one 8-block (VWW) */
        { 1,  6,  6, 29, 1, 3, 3, 1, 1, 1, 1, 0 },   /* 16 + 8 + 5 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_random_case(&cases[i], 21u + (uint32_t)i);
        run_random_case(&cases[i], 2000u + 2u * (uint32_t)i);
    }
}

/* ------------------------------------------------ prepare through models */

static const int8_t k_w[8] = { 1, 1, 0, 1, 0, 1, 0, 1 };
static const float k_wscale[2] = { 0.25f, 0.5f };
static const float k_bscale[2] = { 0.125f, 0.25f };
static const int32_t k_bias[2] = { 10, -1 };

/* The hand case above as a model: input scale 0.5, weights 0.25 / 0.5,
 * output scale 0.125 / 0.25 ... chosen so both multipliers are 1. */
static tml_test_op int8_dw_op(void)
{
    tml_test_op op = {
        .builtin = 4,
        .version = 3,
        .options = tml_tfl_depthwise_options(TML_PAD_SAME, 1, 1, 2,
                                             TML_ACT_NONE, 1, 1),
        .ninputs = 3,
        .inputs = {
            { .type = TML_INT8, .ndims = 4, .dims = { 1, 2, 2, 1 },
              .scale = 0.5f, .zero_point = -1 },
            { .type = TML_INT8, .ndims = 4, .dims = { 1, 2, 2, 2 },
              .channels = 2, .scales = k_wscale, .quant_dim = 3, .data = k_w },
            { .type = TML_INT32, .ndims = 1, .dims = { 2 },
              .channels = 2, .scales = k_bscale, .data = k_bias },
        },
        .noutputs = 1,
        .outputs = { { .type = TML_INT8, .ndims = 4, .dims = { 1, 2, 2, 2 },
                       .scale = 0.125f, .zero_point = 0 } },
    };
    return op;
}

/* Output scale 0.125: channel 0 multiplier 0.5*0.25/0.125 = 1, channel 1
 * 0.5*0.5/0.125 = 2: 12 13*2 / 13 7*2 / 14 8*2 / 15 4*2. */
static void test_dw_one_op_model(void **state)
{
    (void)state;
    tml_test_op op = int8_dw_op();
    int8_t x[4] = { 1, 2, 3, 4 }, y[8];
    tml_test_run_op_ok(&op, x, y);
    const int8_t want[8] = { 12, 26, 13, 14, 14, 16, 15, 8 };
    assert_memory_equal(y, want, sizeof want);
}

static void test_dw_prepare_errors(void **state)
{
    (void)state;
    tml_test_op op = int8_dw_op();
    op.options = tml_tfl_depthwise_options(TML_PAD_SAME, 1, 1, 3, TML_ACT_NONE,
                                           1, 1);
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 DEPTHWISE_CONV_2D: output 0 tensor 3 'output0': "
                                  "expected channels (in * depth_multiplier) 3, got 2");

    op = int8_dw_op();
    op.options = tml_tfl_depthwise_options(TML_PAD_SAME, 1, 1, 2, TML_ACT_NONE,
                                           0, 1);
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 DEPTHWISE_CONV_2D: option dilation_w_factor 0, "
                                  "expected >= 1");

    op = int8_dw_op();
    op.inputs[0].type = TML_INT16;
    op.outputs[0].type = TML_INT16;
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 DEPTHWISE_CONV_2D: input 0 tensor 0 'input0': "
                                  "expected int8 or float32, got int16");

    op = int8_dw_op();
    op.outputs[0].dims[3] = 4;
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 DEPTHWISE_CONV_2D: output 0 tensor 3 'output0': "
                                  "expected channels 2, got 4");

    op = int8_dw_op();
    op.inputs[2].dims[0] = 1;
    op.inputs[2].channels = 1;
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 DEPTHWISE_CONV_2D: input 2 tensor 2 'input2': "
                                  "expected elements 2, got 1");
}

static void test_golden_kws(void **state) { (void)state; tml_test_assert_op_goldens("kws_ref_model", 4, 4); }
static void test_golden_vww_int8(void **state) { (void)state; tml_test_assert_op_goldens("vww_96_int8", 4, 13); }
static void test_golden_vww_float(void **state) { (void)state; tml_test_assert_op_goldens("vww_96_float", 4, 13); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dw_int8_multiplier2_same),
        cmocka_unit_test(test_dw_int8_block_and_rest),
        cmocka_unit_test(test_dw_f32_hand),
        cmocka_unit_test(test_dw_random_vs_reference),
        cmocka_unit_test(test_dw_one_op_model),
        cmocka_unit_test(test_dw_prepare_errors),
        cmocka_unit_test(test_golden_kws),
        cmocka_unit_test(test_golden_vww_int8),
        cmocka_unit_test(test_golden_vww_float),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
