/*
 * CONV_2D: the math layer on hand-computed cases, the optimized int8 and
 * float paths against a literal transcription of TFLite's reference loops
 * on many random shapes, prepare's checks and messages through one-op
 * models, and every CONV_2D of the shared models against TFLite Micro's
 * per-op goldens.
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

/* ---------------------------------------------------------------- helpers */

/* TFLite's ConvPerChannel, loop for loop (reference_integer_ops/conv.h). */
static void naive_conv_int8(const tml_conv_params *p, const tml_shape4 *in,
                            const int8_t *x, const tml_shape4 *f,
                            const int8_t *w, const int32_t *bias,
                            const tml_shape4 *out, int8_t *y)
{
    const int groups = in->c / f->c, per_group = out->c / groups;
    for (int b = 0; b < out->n; b++)
        for (int oy = 0; oy < out->h; oy++)
            for (int ox = 0; ox < out->w; ox++)
                for (int oc = 0; oc < out->c; oc++) {
                    const int g = oc / per_group;
                    int32_t acc = 0;
                    for (int ky = 0; ky < f->h; ky++)
                        for (int kx = 0; kx < f->w; kx++) {
                            const int iy = oy * p->stride_h - p->pad_h + ky * p->dilation_h;
                            const int ix = ox * p->stride_w - p->pad_w + kx * p->dilation_w;
                            if (iy < 0 || iy >= in->h || ix < 0 || ix >= in->w)
                                continue;
                            for (int ic = 0; ic < f->c; ic++) {
                                int32_t xv = x[((b * in->h + iy) * in->w + ix) * in->c + g * f->c + ic];
                                int32_t wv = w[((oc * f->h + ky) * f->w + kx) * f->c + ic];
                                acc += wv * (xv + p->q.input_offset);
                            }
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

/* TFLite's reference_ops::Conv for float. */
static void naive_conv_f32(const tml_conv_params *p, const tml_shape4 *in,
                           const float *x, const tml_shape4 *f, const float *w,
                           const float *bias, const tml_shape4 *out, float *y)
{
    const int groups = in->c / f->c, per_group = out->c / groups;
    for (int b = 0; b < out->n; b++)
        for (int oy = 0; oy < out->h; oy++)
            for (int ox = 0; ox < out->w; ox++)
                for (int oc = 0; oc < out->c; oc++) {
                    const int g = oc / per_group;
                    float total = 0.0f;
                    for (int ky = 0; ky < f->h; ky++)
                        for (int kx = 0; kx < f->w; kx++) {
                            const int iy = oy * p->stride_h - p->pad_h + ky * p->dilation_h;
                            const int ix = ox * p->stride_w - p->pad_w + kx * p->dilation_w;
                            if (iy < 0 || iy >= in->h || ix < 0 || ix >= in->w)
                                continue;
                            for (int ic = 0; ic < f->c; ic++)
                                total += x[((b * in->h + iy) * in->w + ix) * in->c + g * f->c + ic] *
                                         w[((oc * f->h + ky) * f->w + kx) * f->c + ic];
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

/* ------------------------------------------------------ padding and sizes */

static void test_out_size_same_valid(void **state)
{
    (void)state;
    int32_t out, pad;
    /* SAME: ceil(in / stride); total padding (out-1)*s + k - in. */
    assert_int_equal(tml_conv_out_size(TML_PAD_SAME, 5, 3, 1, 1, &out, &pad), 0);
    assert_int_equal(out, 5);
    assert_int_equal(pad, 1);
    assert_int_equal(tml_conv_out_size(TML_PAD_SAME, 49, 10, 2, 1, &out, &pad), 0);
    assert_int_equal(out, 25);   /* KWS first layer: total 9, leading 4 */
    assert_int_equal(pad, 4);
    assert_int_equal(tml_conv_out_size(TML_PAD_SAME, 96, 3, 2, 1, &out, &pad), 0);
    assert_int_equal(out, 48);   /* total 1: the extra row goes at the end */
    assert_int_equal(pad, 0);
    /* VALID: (in - effective filter) / stride + 1. */
    assert_int_equal(tml_conv_out_size(TML_PAD_VALID, 7, 3, 2, 1, &out, &pad), 0);
    assert_int_equal(out, 3);
    assert_int_equal(pad, 0);
    /* Dilation 2 makes a 3-tap filter span 5. */
    assert_int_equal(tml_conv_out_size(TML_PAD_VALID, 7, 3, 1, 2, &out, &pad), 0);
    assert_int_equal(out, 3);
    assert_int_equal(tml_conv_out_size(TML_PAD_SAME, 7, 3, 1, 2, &out, &pad), 0);
    assert_int_equal(out, 7);
    assert_int_equal(pad, 2);
    /* Invalid arguments. */
    assert_int_equal(tml_conv_out_size(TML_PAD_SAME, 7, 3, 0, 1, &out, &pad), -1);
    assert_int_equal(tml_conv_out_size(2, 7, 3, 1, 1, &out, &pad), -1);
    /* VALID with a filter past the input: C's truncating division gives 0
     * while -stride < in + stride - span < 0 (TFLite's ComputeOutSize),
     * and no size below that. */
    assert_int_equal(tml_conv_out_size(TML_PAD_VALID, 2, 5, 2, 1, &out, &pad), 0);
    assert_int_equal(out, 0);
    assert_int_equal(tml_conv_out_size(TML_PAD_VALID, 2, 6, 2, 1, &out, &pad), -1);
    /* Spans up to 2^30 + 1 are taken, longer ones refused (int32 taps);
     * sizes near INT32_MAX stay exact (32-bit unsigned arithmetic). */
    assert_int_equal(tml_conv_out_size(TML_PAD_SAME, 8, 2, 1, 1 << 30, &out, &pad), 0);
    assert_int_equal(out, 8);
    assert_int_equal(pad, 1 << 29);
    assert_int_equal(tml_conv_out_size(TML_PAD_SAME, 8, 3, 1, 1 << 30, &out, &pad), -1);
    assert_int_equal(tml_conv_out_size(TML_PAD_SAME, INT32_MAX, 3, INT32_MAX, 1, &out, &pad), 0);
    assert_int_equal(out, 1);
    assert_int_equal(pad, 0);
    assert_int_equal(tml_conv_out_size(TML_PAD_VALID, INT32_MAX, 1, 1, 1, &out, &pad), 0);
    assert_int_equal(out, INT32_MAX);
    assert_int_equal(pad, 0);
}

static void test_multipliers(void **state)
{
    (void)state;
    int32_t mult[2];
    int8_t shift[2];
    const float fs[2] = { 0.25f, 0.75f };
    /* 0.5 * 0.25 / 1 = 0.125 = 0.5 * 2^-2; 0.5 * 0.75 = 0.375 = 0.75 * 2^-1 */
    tml_conv_multipliers(0.5f, fs, 2, 1.0f, 2, mult, shift);
    assert_int_equal(mult[0], 1 << 30);
    assert_int_equal(shift[0], -2);
    assert_int_equal(mult[1], 1610612736);   /* 0.75 * 2^31 */
    assert_int_equal(shift[1], -1);
    /* One scale is broadcast to every channel. */
    tml_conv_multipliers(0.5f, fs, 1, 0.25f, 2, mult, shift);
    assert_int_equal(mult[0], 1 << 30);
    assert_int_equal(shift[0], 0);
    assert_int_equal(mult[1], 1 << 30);
    assert_int_equal(shift[1], 0);
}

/* ---------------------------------------------------- hand-computed cases */

/* Input 1x3x3x1 (values 1..9, zero point 1 so x+off = 0..8), two 2x2
 * filters, VALID, stride 1.  Channel 0 has real multiplier 1 (2^30, shift
 * 1), channel 1 has 0.5 (2^30, shift 0); output zero point -3.
 *   x+off = 0 1 2 / 3 4 5 / 6 7 8
 *   f0 = 1 0 / 0 1  -> windows: 0+4, 1+5, 3+7, 4+8 = 4 6 10 12, +bias 2
 *   f1 = 1 1 / 1 1  -> 8 12 20 24, +bias -4 -> 4 8 16 20, * 0.5 -> 2 4 8 10
 */
static void test_conv_int8_valid_per_channel(void **state)
{
    (void)state;
    const int8_t x[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    const int8_t w[8] = { 1, 0, 0, 1, 1, 1, 1, 1 };
    const int32_t bias[2] = { 2, -4 };
    const int32_t mult[2] = { 1 << 30, 1 << 30 };
    const int8_t shift[2] = { 1, 0 };
    tml_conv_params p;
    base_params(&p);
    p.q.input_offset = -1;
    p.q.output_offset = -3;
    p.q.out_mult = mult;
    p.q.out_shift = shift;
    const tml_shape4 in = { 1, 3, 3, 1 }, f = { 2, 2, 2, 1 }, out = { 1, 2, 2, 2 };
    int16_t patch[16];
    int8_t y[8];
    tml_conv_int8(&p, &in, x, &f, w, bias, &out, y, patch);
    const int8_t want[8] = { 3, -1, 5, 1, 9, 5, 11, 7 };
    assert_memory_equal(y, want, sizeof want);
}

/* SAME padding, stride 2, clamp: the padded taps add nothing (not even
 * the input offset).  Input 1x4x4x1 all 5 with zero point 2 (x+off = 3),
 * one 3x3 filter of ones, real multiplier 1, no bias.  Out 2x2; total
 * padding 1 goes after the image (leading 0), so the windows hold 9, 6, 6
 * and 4 taps: 27 18 18 12, clamped to [0, 20]. */
static void test_conv_int8_same_stride_clamp(void **state)
{
    (void)state;
    int8_t x[16];
    memset(x, 5, sizeof x);
    int8_t w[9];
    memset(w, 1, sizeof w);
    const int32_t mult[1] = { 1 << 30 };
    const int8_t shift[1] = { 1 };
    tml_conv_params p;
    base_params(&p);
    p.stride_h = p.stride_w = 2;
    int32_t oh, ow;
    assert_int_equal(tml_conv_out_size(TML_PAD_SAME, 4, 3, 2, 1, &oh, &p.pad_h), 0);
    assert_int_equal(tml_conv_out_size(TML_PAD_SAME, 4, 3, 2, 1, &ow, &p.pad_w), 0);
    assert_int_equal(oh, 2);
    assert_int_equal(p.pad_h, 0);
    p.q.input_offset = -2;
    p.q.clamp.act_min = 0;
    p.q.clamp.act_max = 20;
    p.q.out_mult = mult;
    p.q.out_shift = shift;
    const tml_shape4 in = { 1, 4, 4, 1 }, f = { 1, 3, 3, 1 }, out = { 1, 2, 2, 1 };
    int16_t patch[16];
    int8_t y[4];
    tml_conv_int8(&p, &in, x, &f, w, NULL, &out, y, patch);
    const int8_t want[4] = { 20, 18, 18, 12 };
    assert_memory_equal(y, want, sizeof want);
}

/* Dilation 2 on a 1x5x5x1 input, 2x2 filter, VALID: out 3x3, each output
 * reads x[oy][ox], x[oy][ox+2], x[oy+2][ox], x[oy+2][ox+2].  Input value
 * 10*r + c, offset 0, filter 1 2 / 3 4, multiplier 1. */
static void test_conv_int8_dilation(void **state)
{
    (void)state;
    int8_t x[25];
    for (int r = 0; r < 5; r++)
        for (int c = 0; c < 5; c++)
            x[r * 5 + c] = (int8_t)(10 * r + c);
    const int8_t w[4] = { 1, 2, 3, 4 };
    const int32_t mult[1] = { 1 << 30 };
    const int8_t shift[1] = { 1 };
    tml_conv_params p;
    base_params(&p);
    p.dilation_h = p.dilation_w = 2;
    p.q.out_mult = mult;
    p.q.out_shift = shift;
    const tml_shape4 in = { 1, 5, 5, 1 }, f = { 1, 2, 2, 1 }, out = { 1, 3, 3, 1 };
    int16_t patch[16];
    int8_t y[9];
    tml_conv_int8(&p, &in, x, &f, w, NULL, &out, y, patch);
    /* v(r,c) = x + 2(x+2) + 3(x+20) + 4(x+22) = 10x + 152, x = 10r + c:
     * 152 already exceeds int8 -> use the clamp to check the low ones */
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) {
            int v = 10 * (10 * r + c) + 152;
            assert_int_equal(y[r * 3 + c], v > 127 ? 127 : v);
        }
    /* With output offset -128 and multiplier 0.5 everything fits. */
    const int32_t half[1] = { 1 << 30 };
    const int8_t s0[1] = { 0 };
    p.q.out_mult = half;
    p.q.out_shift = s0;
    p.q.output_offset = -128;
    tml_conv_int8(&p, &in, x, &f, w, NULL, &out, y, patch);
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++)
            assert_int_equal(y[r * 3 + c], (10 * (10 * r + c) + 152) / 2 - 128);
}

static void test_conv_f32_hand(void **state)
{
    (void)state;
    /* 1x2x2x2 input, one 1x1 filter (2 inputs) per output, 2 outputs. */
    const float x[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    const float w[4] = { 0.5f, -1, 2, 0.25f };
    const float bias[2] = { 1, -1 };
    tml_conv_params p;
    base_params(&p);
    p.q.clamp.fact_min = 0.0f;   /* ReLU */
    const tml_shape4 in = { 1, 2, 2, 2 }, f = { 2, 1, 1, 2 }, out = { 1, 2, 2, 2 };
    float y[8];
    tml_conv_f32(&p, &in, x, &f, w, bias, &out, y);
    const float want[8] = { 0, 1.5f, 0, 6, 0, 10.5f, 0, 15 };
    for (int i = 0; i < 8; i++)
        assert_true(y[i] == want[i]);
}

/* --------------------------------------- optimized vs literal reference */

typedef struct conv_case {
    int n, h, w, cin, cout, kh, kw, sh, sw, dh, dw, groups, same;
} conv_case;

static void run_random_case(const conv_case *cc, uint32_t seed)
{
    uint32_t s = seed;
    const int cf = cc->cin / cc->groups;
    tml_conv_params p;
    base_params(&p);
    p.stride_h = cc->sh;
    p.stride_w = cc->sw;
    p.dilation_h = cc->dh;
    p.dilation_w = cc->dw;
    int32_t oh, ow;
    const int pad = cc->same ? TML_PAD_SAME : TML_PAD_VALID;
    assert_int_equal(tml_conv_out_size(pad, cc->h, cc->kh, cc->sh, cc->dh, &oh, &p.pad_h), 0);
    assert_int_equal(tml_conv_out_size(pad, cc->w, cc->kw, cc->sw, cc->dw, &ow, &p.pad_w), 0);
    const tml_shape4 in = { cc->n, cc->h, cc->w, cc->cin };
    const tml_shape4 f = { cc->cout, cc->kh, cc->kw, cf };
    const tml_shape4 out = { cc->n, oh, ow, cc->cout };
    const size_t nx = (size_t)cc->n * cc->h * cc->w * cc->cin;
    const size_t nw = (size_t)cc->cout * cc->kh * cc->kw * cf;
    const size_t ny = (size_t)cc->n * oh * ow * cc->cout;
    int8_t *x = malloc(nx), *w = malloc(nw), *y = malloc(ny), *y_ref = malloc(ny);
    int32_t *bias = malloc(sizeof(int32_t) * cc->cout);
    int32_t *mult = malloc(sizeof(int32_t) * cc->cout);
    int8_t *shift = malloc((size_t)cc->cout);
    float scales[64];
    for (size_t i = 0; i < nx; i++)
        x[i] = (int8_t)tml_test_rand_range(&s, -128, 127);
    for (size_t i = 0; i < nw; i++)
        w[i] = (int8_t)tml_test_rand_range(&s, -127, 127);
    for (int c = 0; c < cc->cout; c++) {
        bias[c] = tml_test_rand_range(&s, -5000, 5000);
        scales[c] = 0.0005f + 0.0001f * (float)tml_test_rand_range(&s, 0, 40);
    }
    tml_conv_multipliers(0.05f, scales, cc->cout, 0.1f, cc->cout, mult, shift);
    p.q.out_mult = mult;
    p.q.out_shift = shift;
    p.q.input_offset = -tml_test_rand_range(&s, -128, 127);
    p.q.output_offset = tml_test_rand_range(&s, -20, 20);
    p.q.clamp.act_min = tml_test_rand_range(&s, -128, -100);
    p.q.clamp.act_max = tml_test_rand_range(&s, 100, 127);
    int16_t *patch = malloc(tml_conv_int8_scratch_bytes(&f));
    tml_conv_int8(&p, &in, x, &f, w, seed & 1 ? bias : NULL, &out, y, patch);
    naive_conv_int8(&p, &in, x, &f, w, seed & 1 ? bias : NULL, &out, y_ref);
    if (memcmp(y, y_ref, ny) != 0)
        fail_msg("int8 mismatch: %dx%dx%dx%d k%dx%d s%d,%d d%d,%d g%d same %d",
                 cc->n, cc->h, cc->w, cc->cin, cc->kh, cc->kw, cc->sh, cc->sw,
                 cc->dh, cc->dw, cc->groups, cc->same);

    float *xf = malloc(nx * 4), *wf = malloc(nw * 4), *yf = malloc(ny * 4),
          *yf_ref = malloc(ny * 4), *bf = malloc(sizeof(float) * cc->cout);
    for (size_t i = 0; i < nx; i++)
        xf[i] = (float)x[i] / 37.0f;
    for (size_t i = 0; i < nw; i++)
        wf[i] = (float)w[i] / 53.0f;
    for (int c = 0; c < cc->cout; c++)
        bf[c] = (float)bias[c] / 1000.0f;
    p.q.clamp.fact_min = -3.0f;
    p.q.clamp.fact_max = 3.4028234663852886e38f;
    tml_conv_f32(&p, &in, xf, &f, wf, bf, &out, yf);
    naive_conv_f32(&p, &in, xf, &f, wf, bf, &out, yf_ref);
    /* Same summation order: identical floats. */
    assert_memory_equal(yf, yf_ref, ny * 4);

    free(x); free(w); free(y); free(y_ref); free(bias); free(mult);
    free(shift); free(patch); free(xf); free(wf); free(yf); free(yf_ref);
    free(bf);
}

static void test_conv_random_vs_reference(void **state)
{
    (void)state;
    const conv_case cases[] = {
        /* n  h   w  cin cout kh kw sh sw dh dw g same */
        { 1, 49, 10,  1, 16, 10, 4, 2, 2, 1, 1, 1, 1 },   /* KWS first layer */
        { 1,  9,  9,  3,  8,  3, 3, 2, 2, 1, 1, 1, 1 },   /* VWW first layer */
        { 1,  6,  5, 16, 24,  1, 1, 1, 1, 1, 1, 1, 1 },   /* pointwise */
        { 2,  7,  6,  8, 12,  3, 3, 1, 1, 1, 1, 1, 1 },   /* batch 2, cin 8 */
        { 1,  8,  8, 32, 20,  3, 3, 2, 2, 1, 1, 1, 0 },   /* VALID stride 2 */
        { 1,  9,  7,  5,  6,  3, 2, 1, 2, 2, 3, 1, 1 },   /* dilation */
        { 1,  9,  7,  5,  6,  3, 2, 1, 1, 2, 2, 1, 0 },
        { 1,  6,  6, 12,  6,  3, 3, 1, 1, 1, 1, 3, 1 },   /* 3 groups */
        { 1,  5,  5,  8,  8,  2, 2, 2, 1, 1, 2, 2, 1 },   /* groups + dilation */
        { 1,  4,  4, 17, 33,  5, 5, 1, 1, 1, 1, 1, 1 },   /* filter > input */
        { 1,  3,  3, 40,  3,  1, 1, 3, 3, 1, 1, 1, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_random_case(&cases[i], 11u + (uint32_t)i);
        run_random_case(&cases[i], 1000u + 2u * (uint32_t)i);
    }
}

/* ------------------------------------------------ prepare through models */

static const int8_t k_w9[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
static const float k_wscale[1] = { 0.25f };
static const float k_bscale[1] = { 0.125f };
static const int32_t k_bias1[1] = { 10 };

static tml_test_op int8_conv_op(void)
{
    tml_test_op op = {
        .builtin = 3,
        .version = 3,
        .options = tml_tfl_conv2d_options(TML_PAD_VALID, 1, 1, TML_ACT_NONE, 1, 1),
        .ninputs = 3,
        .inputs = {
            { .type = TML_INT8, .ndims = 4, .dims = { 1, 3, 3, 1 },
              .scale = 0.5f, .zero_point = -1 },
            { .type = TML_INT8, .ndims = 4, .dims = { 1, 3, 3, 1 },
              .channels = 1, .scales = k_wscale, .data = k_w9 },
            { .type = TML_INT32, .ndims = 1, .dims = { 1 },
              .channels = 1, .scales = k_bscale, .data = k_bias1 },
        },
        .noutputs = 1,
        .outputs = { { .type = TML_INT8, .ndims = 4, .dims = { 1, 1, 1, 1 },
                       .scale = 1.0f, .zero_point = 3 } },
    };
    return op;
}

/* End to end through the public API: 0.5 * 0.25 / 1 = 0.125.
 * x = 1..9 with zp -1 -> x+1 = 2..10; sum w*(x+1) = sum k*(k+1) = 330,
 * + 10 = 340, * 0.125 = 42.5 -> 43 (round half up for positives), + 3. */
static void test_conv_one_op_model(void **state)
{
    (void)state;
    tml_test_op op = int8_conv_op();
    int8_t x[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, y[1];
    tml_test_run_op_ok(&op, x, y);
    assert_int_equal(y[0], 46);
}

static void test_conv_prepare_errors(void **state)
{
    (void)state;
    tml_test_op op = int8_conv_op();
    op.inputs[0].type = TML_INT16;
    op.outputs[0].type = TML_INT16;
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 CONV_2D: input 0 tensor 0 'input0': expected "
                                  "int8 or float32, got int16");

    op = int8_conv_op();
    op.outputs[0].type = TML_FLOAT32;
    op.outputs[0].scale = 0;
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 CONV_2D: output 0 tensor 3 'output0': expected "
                                  "int8, got float32");

    op = int8_conv_op();
    op.inputs[2].type = TML_FLOAT32;
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 CONV_2D: input 2 tensor 2 'input2': expected "
                                  "int32, got float32");

    op = int8_conv_op();
    op.outputs[0].dims[1] = 2;
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 CONV_2D: output 0 tensor 3 'output0': expected "
                                  "height 1, got 2");

    op = int8_conv_op();
    op.options = tml_tfl_conv2d_options(TML_PAD_VALID, 0, 1, TML_ACT_NONE, 1, 1);
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 CONV_2D: option stride_w 0, expected >= 1");

    op = int8_conv_op();
    op.options = tml_tfl_conv2d_options(TML_PAD_VALID, 1, 1, TML_ACT_TANH, 1, 1);
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 CONV_2D: option fused_activation_function 4, "
                                  "expected 0..3");

    /* TFLite int8 spec: weights symmetric. */
    static const int64_t zp[1] = { 3 };
    op = int8_conv_op();
    op.inputs[1].zero_points = zp;
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 CONV_2D: input 1 tensor 1 'input1': expected zero "
                                  "point 0, got 3 at channel 0");

    /* No input channels: zero groups (a division by zero if let through). */
    op = int8_conv_op();
    op.inputs[0].dims[3] = 0;
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 CONV_2D: input 0 tensor 0 'input0': expected "
                                  "channels multiple of 1, got 0");

    /* A hostile dilation: tap offsets would leave int32. */
    op = int8_conv_op();
    op.options = tml_tfl_conv2d_options(TML_PAD_SAME, 1, 1, TML_ACT_NONE,
                                        1, 1 << 30);
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 CONV_2D: filter 3x3 (dilation 1073741824x1) does not "
                                  "fit input 3x3");

    op = int8_conv_op();
    op.outputs[0].zero_point = 200;
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 CONV_2D: output 0 tensor 3 'output0': expected an "
                                  "int8 zero point, got 200");

    static const int8_t w18[18] = { 0 };
    op = int8_conv_op();
    op.inputs[1].dims[3] = 2;
    op.inputs[1].data = w18;
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 CONV_2D: input 0 tensor 0 'input0': expected "
                                  "channels multiple of 2, got 1");
}

/* The -Os (deployment) copies of the output stage and the tap range are
 * what only the Cortex-M builds call: they must equal the inlined ones the
 * host runs, on hostile values too. */
static uint32_t rand32(uint32_t *s)
{
    return (tml_test_lcg(s) << 16) ^ tml_test_lcg(s);
}

static void test_size_variants_match(void **state)
{
    (void)state;
    uint32_t s = 77;
    for (int round = 0; round < 2000; round++) {
        for (int j = 0; j < 16; j++) {
            int32_t mult = (int32_t)(rand32(&s) & 0x7fffffffu);
            if (round % 7 == 0)
                mult = j & 1 ? 1 << 30 : INT32_MAX;
            const int shift = tml_test_rand_range(&s, -31, 30);
            const int32_t acc = (int32_t)rand32(&s);
            const int32_t off = tml_test_rand_range(&s, -128, 127);
            const int32_t lo = tml_test_rand_range(&s, -128, 0);
            const int32_t hi = tml_test_rand_range(&s, 0, 127);
            assert_int_equal(tml_requant1_inl(acc, mult, shift, off, lo, hi),
                             tml_requant1_call(acc, mult, shift, off, lo, hi));
        }

        int32_t origin = (int32_t)rand32(&s);
        if (round % 5 == 0)
            origin %= 64;   /* near the image too */
        if (origin == INT32_MIN)
            origin = -INT32_MAX;   /* prepare guarantees >= -INT32_MAX */
        const int32_t dil = tml_test_rand_range(&s, 1, round % 3 ? 4 : 1 << 20);
        const int32_t taps = tml_test_rand_range(&s, 1, (1 << 30) / dil + 1);
        const int32_t size = round % 5 == 0 ? tml_test_rand_range(&s, 0, 64)
                                            : (int32_t)(rand32(&s) >> 1);
        int32_t lo1, hi1, lo2, hi2;
        tml_tap_range_inl(origin, dil, taps, size, &lo1, &hi1);
        tml_tap_range_call(origin, dil, taps, size, &lo2, &hi2);
        assert_int_equal(lo1, lo2);
        assert_int_equal(hi1, hi2);
        /* The range itself: every tap inside is in the image. */
        assert_true(lo1 >= 0 && lo1 <= hi1 && hi1 <= taps);
        if (hi1 > lo1) {
            assert_true((int64_t)origin + (int64_t)lo1 * dil >= 0);
            assert_true((int64_t)origin + (int64_t)(hi1 - 1) * dil < size);
        }
    }
    /* Small exact cases: origin -3, dilation 2, 5 taps over size 4:
     * positions -3 -1 1 3 5 -> taps 2, 3 inside. */
    int32_t lo, hi;
    tml_tap_range_call(-3, 2, 5, 4, &lo, &hi);
    assert_int_equal(lo, 2);
    assert_int_equal(hi, 4);
    tml_tap_range_inl(10, 1, 3, 4, &lo, &hi);
    assert_int_equal(hi - lo, 0);
}

/* ------------------------------------------------------------- goldens */

static void test_golden_kws(void **state) { (void)state; tml_test_assert_op_goldens("kws_ref_model", 3, 5); }
static void test_golden_vww_int8(void **state) { (void)state; tml_test_assert_op_goldens("vww_96_int8", 3, 14); }
static void test_golden_resnet_int8(void **state) { (void)state; tml_test_assert_op_goldens("pretrainedResnet_quant", 3, 9); }
static void test_golden_vww_float(void **state) { (void)state; tml_test_assert_op_goldens("vww_96_float", 3, 14); }
static void test_golden_resnet_float(void **state) { (void)state; tml_test_assert_op_goldens("pretrainedResnet", 3, 9); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_size_same_valid),
        cmocka_unit_test(test_multipliers),
        cmocka_unit_test(test_conv_int8_valid_per_channel),
        cmocka_unit_test(test_conv_int8_same_stride_clamp),
        cmocka_unit_test(test_conv_int8_dilation),
        cmocka_unit_test(test_conv_f32_hand),
        cmocka_unit_test(test_conv_random_vs_reference),
        cmocka_unit_test(test_conv_one_op_model),
        cmocka_unit_test(test_conv_prepare_errors),
        cmocka_unit_test(test_size_variants_match),
        cmocka_unit_test(test_golden_kws),
        cmocka_unit_test(test_golden_vww_int8),
        cmocka_unit_test(test_golden_resnet_int8),
        cmocka_unit_test(test_golden_vww_float),
        cmocka_unit_test(test_golden_resnet_float),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
