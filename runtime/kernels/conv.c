/*
 * CONV_2D (int8 per-channel and float32).  Semantics: TFLite Micro
 * conv.cc / conv_common.cc with reference_integer_ops::ConvPerChannel and
 * reference_ops::Conv; see conv_common.h.  Prepare is conv_common.c's;
 * hybrid models (float32 input, int8 filter) go to hybrid.c.
 */
#include "conv_common.h"

#include "hybrid.h"
#include "quant.h"

/* ------------------------------------------------------------ the math */

size_t tml_conv_int8_scratch_bytes(const tml_shape4 *filt)
{
    return (size_t)tml_conv_patch_len(filt) * sizeof(int16_t);
}

/* dst[i] = src[i] + off for n values.  restrict and fixed 16-wide blocks
 * let the compiler use SIMD without alias checks. */
static void widen_offset(int16_t *restrict dst, const int8_t *restrict src,
                         int32_t n, int16_t off)
{
    int32_t i = 0;
    for (; i + 16 <= n; i += 16) {
        for (int j = 0; j < 16; j++)
            dst[i + j] = (int16_t)(src[i + j] + off);
    }
    for (; i < n; i++)
        dst[i] = (int16_t)(src[i] + off);
}

/* One output pixel's input patch for group g, in filter order (ky, kx, ic),
 * as int16 x + input_offset; taps in the padding are 0 so they add nothing,
 * exactly as TFLite skips them.  Zero-filled up to a multiple of 16. */
static void gather_patch(const tml_conv_params *p, const tml_shape4 *in,
                         const int8_t *xb, const tml_shape4 *filt, int32_t g,
                         int32_t iy0, int32_t ix0, int16_t *patch)
{
    const int32_t cf = filt->c, kw = filt->w;
    const int16_t off = (int16_t)p->q.input_offset;
    int32_t ky0, ky1, kx0, kx1;
    tml_tap_range(iy0, p->dilation_h, filt->h, in->h, &ky0, &ky1);
    tml_tap_range(ix0, p->dilation_w, kw, in->w, &kx0, &kx1);
    const int32_t len = tml_conv_patch_len(filt);
    int16_t *dst = patch;
    /* Rows above the image, and the left padding of the first row. */
    int32_t zeros = (ky0 * kw + kx0) * cf;
    for (int32_t ky = ky0; ky < ky1; ky++) {
        for (int32_t i = 0; i < zeros; i++)
            *dst++ = 0;
        const int8_t *xr = xb + ((size_t)(iy0 + ky * p->dilation_h) * in->w)
                                    * in->c + (size_t)g * cf;
        if (p->dilation_w == 1 && cf == in->c) {
            /* The valid taps of a row are one contiguous run of input. */
            const int32_t run = (kx1 - kx0) * cf;
            widen_offset(dst, xr + (size_t)(ix0 + kx0) * in->c, run, off);
            dst += run;
        } else {
            /* Groups or dilation: cf inputs per tap. */
            for (int32_t kx = kx0; kx < kx1; kx++) {
                const int8_t *src = xr + (size_t)(ix0 + kx * p->dilation_w) * in->c;
                widen_offset(dst, src, cf, off);
                dst += cf;
            }
        }
        /* Right padding of this row and left padding of the next. */
        zeros = (kw - kx1 + kx0) * cf;
    }
    while (dst < patch + len)
        *dst++ = 0;
}

void tml_conv_int8(const tml_conv_params *p, const tml_shape4 *in,
                   const int8_t *x, const tml_shape4 *filt, const int8_t *w,
                   const int32_t *bias, const tml_shape4 *out, int8_t *y,
                   int16_t *patch)
{
    const int32_t cout = out->c;
    const int32_t groups = in->c / filt->c;
    const int32_t per_group = cout / groups;
    const int32_t taps = filt->h * filt->w * filt->c;   /* one filter */
    const int32_t len = tml_conv_patch_len(filt);      /* taps rounded up */
    const int8_t *w_end = w + (size_t)cout * taps;
    /* Locals: the int8 stores below may alias anything behind p. */
    const int32_t *mult = p->q.out_mult;
    const int8_t *shift = p->q.out_shift;
    const int32_t out_off = p->q.output_offset;
    const int32_t lo = p->q.clamp.act_min, hi = p->q.clamp.act_max;

    for (int32_t b = 0; b < out->n; b++) {
        const int8_t *xb = x + (size_t)b * in->h * in->w * in->c;
        for (int32_t oy = 0; oy < out->h; oy++) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (int32_t ox = 0; ox < out->w; ox++) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                int32_t oc = 0;
                for (int32_t g = 0; g < groups; g++) {
                    gather_patch(p, in, xb, filt, g, iy0, ix0, patch);
                    for (int32_t k = 0; k < per_group; k++, oc++) {
                        const int8_t *wc = w + (size_t)oc * taps;
                        /* The padded patch is zero past `taps`, so reading
                         * on into the next filter adds nothing; only the
                         * last filter must stop at its end. */
                        int32_t acc = wc + len <= w_end
                                          ? tml_dot_i8_i16(wc, patch, len)
                                          : tml_dot_i8_i16_tail(wc, patch, taps);
                        if (bias)
                            acc = tml_add_wrap(acc, bias[oc]);
                        y[oc] = tml_requant1(acc, mult[oc], shift[oc], out_off,
                                             lo, hi);
                    }
                }
                y += cout;
            }
        }
    }
}

/* Adds the taps of one output pixel to the sums of `count` (1..4) output
 * channels whose filters start at wc, `taps` floats apart.  Each sum runs
 * in TFLite's order (ky, kx, ic); the channels share the input loads. */
static void conv_f32_taps(const tml_conv_params *p, const tml_shape4 *in,
                          const float *xg, const tml_shape4 *filt,
                          const float *wc, int32_t taps, int32_t iy0,
                          int32_t ix0, int32_t count, float acc[4])
{
    const int32_t cf = filt->c, kw = filt->w;
    int32_t ky0, ky1, kx0, kx1;
    tml_tap_range(iy0, p->dilation_h, filt->h, in->h, &ky0, &ky1);
    tml_tap_range(ix0, p->dilation_w, kw, in->w, &kx0, &kx1);
    /* With dilation 1 and no groups a filter row reads one input run. */
    const int row_run = p->dilation_w == 1 && cf == in->c;
    for (int32_t ky = ky0; ky < ky1; ky++) {
        const float *xr = xg + (size_t)(iy0 + ky * p->dilation_h) * in->w * in->c;
        const float *wr = wc + (size_t)ky * kw * cf;
        if (row_run) {
            tml_dot4_f32(acc, count, wr + kx0 * cf, taps,
                         xr + (size_t)(ix0 + kx0) * in->c, (kx1 - kx0) * cf);
            continue;
        }
        for (int32_t kx = kx0; kx < kx1; kx++) {
            const int32_t ix = ix0 + kx * p->dilation_w;
            tml_dot4_f32(acc, count, wr + kx * cf, taps,
                         xr + (size_t)ix * in->c, cf);
        }
    }
}

void tml_conv_f32(const tml_conv_params *p, const tml_shape4 *in,
                  const float *x, const tml_shape4 *filt, const float *w,
                  const float *bias, const tml_shape4 *out, float *y)
{
    const int32_t cout = out->c, cf = filt->c;
    const int32_t groups = in->c / cf;
    const int32_t per_group = cout / groups;
    const int32_t taps = filt->h * filt->w * cf;

    for (int32_t b = 0; b < out->n; b++) {
        const float *xb = x + (size_t)b * in->h * in->w * in->c;
        for (int32_t oy = 0; oy < out->h; oy++) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (int32_t ox = 0; ox < out->w; ox++) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                for (int32_t oc = 0; oc < cout;) {
                    const int32_t g = oc / per_group;
                    const int32_t group_end = (g + 1) * per_group;
                    const int32_t count = group_end - oc < 4 ? group_end - oc : 4;
                    float acc[4] = { 0.0f, 0.0f, 0.0f, 0.0f };
                    conv_f32_taps(p, in, xb + (size_t)g * cf, filt,
                                  w + (size_t)oc * taps, taps, iy0, ix0, count,
                                  acc);
                    for (int32_t j = 0; j < count; j++, oc++) {
                        /* TFLite adds the bias after the taps. */
                        const float v = acc[j] + (bias ? bias[oc] : 0.0f);
                        y[oc] = tml_clamp_f(v, p->q.clamp.fact_min, p->q.clamp.fact_max);
                    }
                }
                y += cout;
            }
        }
    }
}

/* ------------------------------------------------------ registration */

static tml_status conv_prepare(tml_interpreter *it, tml_node *n)
{
#ifndef TML_NO_HYBRID
    if (tml_wop_hybrid(it, n))
        return tml_hybrid_conv_prepare(it, n);
#endif
    return tml_wop_conv_prepare(it, n, TML_WOP_CONV);
}

static tml_status conv_eval(tml_interpreter *it, tml_node *n)
{
    tml_tensor *t[4];
    tml_shape4 s[3];
    tml_wop_shapes(it, n, t, s);
#ifndef TML_NO_HYBRID
    if (t[0]->type == TML_FLOAT32 && t[1]->type == TML_INT8)
        return tml_hybrid_conv_eval(it, n);
#endif
    const tml_conv_params *p = n->user;
    const void *bias = t[2] ? t[2]->data : NULL;
#ifndef TML_NO_FLOAT_KERNELS
    if (t[0]->type == TML_FLOAT32) {
        tml_conv_f32(p, &s[0], t[0]->data, &s[1], t[1]->data, bias, &s[2],
                     t[3]->data);
        return TML_OK;
    }
#endif
    tml_conv_int8(p, &s[0], t[0]->data, &s[1], t[1]->data, bias, &s[2],
                  t[3]->data, tml_scratch(it, n));
    return TML_OK;
}

/* Versions (TFLite op_version.cc): 1 float, 2 hybrid, 3 int8, 5 hybrid
 * per-channel, 6 grouped.  4 (int16) and 7 (int4) fail in prepare. */
const tml_kernel tml_kernel_conv_2d = { 3, 1, 6, conv_prepare, conv_eval };
