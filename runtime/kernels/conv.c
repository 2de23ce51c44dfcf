/*
 * CONV_2D (int8 per-channel and float32), and the prepare code it shares
 * with DEPTHWISE_CONV_2D.  Semantics: TFLite Micro conv.cc / conv_common.cc
 * with reference_integer_ops::ConvPerChannel and reference_ops::Conv; see
 * conv_common.h.  Hybrid models (float32 input, int8 filter) go to
 * hybrid.c.
 */
#include "conv_common.h"

#include "hybrid.h"
#include "quant.h"
#include "schema.h"

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
    const int16_t off = (int16_t)p->input_offset;
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
        if (p->dilation_w == 1) {
            /* The valid taps of a row are one contiguous run of input. */
            const int8_t *src = xr + (size_t)(ix0 + kx0) * in->c;
            if (cf == in->c) {
                const int32_t run = (kx1 - kx0) * cf;
                widen_offset(dst, src, run, off);
                dst += run;
            } else {
                for (int32_t kx = kx0; kx < kx1; kx++, src += in->c) {
                    widen_offset(dst, src, cf, off);
                    dst += cf;
                }
            }
        } else {
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
    const int32_t *mult = p->out_mult;
    const int8_t *shift = p->out_shift;
    const int32_t out_off = p->output_offset;
    const int32_t lo = p->act_min, hi = p->act_max;

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
                        acc = tml_mul_by_qm_inl(acc, mult[oc], shift[oc]);
                        y[oc] = (int8_t)tml_clamp_i32(tml_add_wrap(acc, out_off), lo, hi);
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
                        y[oc] = tml_clamp_f(v, p->fact_min, p->fact_max);
                    }
                }
                y += cout;
            }
        }
    }
}

/* ------------------------------------------------- shared prepare code */

int tml_conv_out_size(int padding, int32_t in_size, int32_t filter_size,
                      int32_t stride, int32_t dilation, int32_t *out_size,
                      int32_t *pad)
{
    if (in_size < 0 || filter_size <= 0 || stride <= 0 || dilation <= 0)
        return -1;
    int64_t eff = (int64_t)(filter_size - 1) * dilation + 1;
    int64_t out;
    if (padding == TML_PAD_SAME)
        out = ((int64_t)in_size + stride - 1) / stride;
    else if (padding == TML_PAD_VALID)
        out = ((int64_t)in_size + stride - eff) / stride;
    else
        return -1;
    if (out < 0 || out > INT32_MAX)
        return -1;
    /* padding.h: total = (out - 1) * stride + effective filter - in, >= 0;
     * the leading side gets the smaller half. */
    int64_t total = (out - 1) * stride + eff - in_size;
    if (total < 0)
        total = 0;
    if (total / 2 > INT32_MAX)
        return -1;
    *out_size = (int32_t)out;
    *pad = (int32_t)(total / 2);
    return 0;
}

void tml_conv_multipliers(float input_scale, const float *filter_scales,
                          int32_t nscales, float output_scale,
                          int32_t channels, int32_t *mult, int8_t *shift)
{
    for (int32_t c = 0; c < channels; c++) {
        const float fs = nscales > 1 ? filter_scales[c] : filter_scales[0];
        const double real = (double)input_scale * (double)fs /
                            (double)output_scale;
        int s;
        tml_quantize_multiplier(real, &mult[c], &s);
        shift[c] = (int8_t)s;
    }
}

typedef struct conv_options {
    int32_t padding, stride_h, stride_w, dilation_h, dilation_w;
    int32_t activation, depth_multiplier;
} conv_options;

static tml_status read_options(tml_interpreter *it, tml_node *n, int depthwise,
                               conv_options *o)
{
    const int want = depthwise ? TML_OPT_DEPTHWISE_CONV_2D : TML_OPT_CONV_2D;
    if (n->options && n->options_type != want)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "builtin options type %d, expected %d",
                                (int)n->options_type, want);
    if (depthwise) {
        o->padding = tml_opt_int(it, n, TML_F_DW_PADDING, 1, TML_PAD_SAME);
        o->stride_w = tml_opt_int(it, n, TML_F_DW_STRIDE_W, 4, 0);
        o->stride_h = tml_opt_int(it, n, TML_F_DW_STRIDE_H, 4, 0);
        o->depth_multiplier = tml_opt_int(it, n, TML_F_DW_DEPTH_MULTIPLIER, 4, 0);
        o->activation = tml_opt_int(it, n, TML_F_DW_ACTIVATION, 1, TML_ACT_NONE);
        o->dilation_w = tml_opt_int(it, n, TML_F_DW_DILATION_W, 4, 1);
        o->dilation_h = tml_opt_int(it, n, TML_F_DW_DILATION_H, 4, 1);
    } else {
        o->padding = tml_opt_int(it, n, TML_F_CONV_PADDING, 1, TML_PAD_SAME);
        o->stride_w = tml_opt_int(it, n, TML_F_CONV_STRIDE_W, 4, 0);
        o->stride_h = tml_opt_int(it, n, TML_F_CONV_STRIDE_H, 4, 0);
        o->activation = tml_opt_int(it, n, TML_F_CONV_ACTIVATION, 1, TML_ACT_NONE);
        o->dilation_w = tml_opt_int(it, n, TML_F_CONV_DILATION_W, 4, 1);
        o->dilation_h = tml_opt_int(it, n, TML_F_CONV_DILATION_H, 4, 1);
        o->depth_multiplier = 1;
    }
    if (o->padding != TML_PAD_SAME && o->padding != TML_PAD_VALID)
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
                                "padding %d, expected SAME (0) or VALID (1)",
                                (int)o->padding);
    if (o->stride_h <= 0 || o->stride_w <= 0)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "strides must be >= 1, got h %d w %d",
                                (int)o->stride_h, (int)o->stride_w);
    if (o->dilation_h <= 0 || o->dilation_w <= 0)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "dilations must be >= 1, got h %d w %d",
                                (int)o->dilation_h, (int)o->dilation_w);
    /* TFLite Micro treats TANH / SIGN_BIT as no clamp at all; refuse them
     * rather than silently compute something else than TFLite. */
    if (o->activation < TML_ACT_NONE || o->activation > TML_ACT_RELU6)
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
                                "fused activation %d not supported "
                                "(NONE, RELU, RELU_N1_TO_1, RELU6)",
                                (int)o->activation);
    return TML_OK;
}

/* Shapes: rank 4 everywhere, output size from padding, channel counts. */
static tml_status check_shapes(tml_interpreter *it, tml_node *n, int depthwise,
                               const conv_options *o, const tml_tensor *in,
                               const tml_tensor *filt, const tml_tensor *out,
                               tml_conv_params *p)
{
    if (in->ndims != 4)
        return tml_shape_error(it, n, "input 0", in, "rank", 4, in->ndims);
    if (filt->ndims != 4)
        return tml_shape_error(it, n, "input 1", filt, "rank", 4, filt->ndims);
    if (out->ndims != 4)
        return tml_shape_error(it, n, "output 0", out, "rank", 4, out->ndims);
    tml_shape4 si, sf, so;
    tml_shape4_of(in, &si);
    tml_shape4_of(filt, &sf);
    tml_shape4_of(out, &so);
    if (so.n != si.n)
        return tml_shape_error(it, n, "output 0", out, "batch", si.n, so.n);
    /* Keeps every tap offset (k - 1) * dilation well inside int32. */
    if ((int64_t)(sf.h - 1) * o->dilation_h > (1 << 30) ||
        (int64_t)(sf.w - 1) * o->dilation_w > (1 << 30))
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
                                "dilated filter span too large");
    int32_t oh, ow;
    if (tml_conv_out_size(o->padding, si.h, sf.h, o->stride_h, o->dilation_h,
                          &oh, &p->pad_h) != 0 ||
        tml_conv_out_size(o->padding, si.w, sf.w, o->stride_w, o->dilation_w,
                          &ow, &p->pad_w) != 0)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "filter %dx%d does not fit input %dx%d",
                                (int)sf.h, (int)sf.w, (int)si.h, (int)si.w);
    if (so.h != oh)
        return tml_shape_error(it, n, "output 0", out, "height", oh, so.h);
    if (so.w != ow)
        return tml_shape_error(it, n, "output 0", out, "width", ow, so.w);
    if (depthwise) {
        if (sf.n != 1)
            return tml_shape_error(it, n, "input 1", filt, "dim 0", 1, sf.n);
        if (sf.c != so.c)
            return tml_shape_error(it, n, "input 1", filt, "channels", so.c,
                                   sf.c);
        /* TFLite Micro loops depth_multiplier times per input channel; a
         * value that does not match the shapes would leave outputs unset. */
        if (si.c <= 0 || (int64_t)so.c != (int64_t)si.c * o->depth_multiplier)
            return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                    "output channels %d != input channels %d "
                                    "* depth_multiplier %d", (int)so.c,
                                    (int)si.c, (int)o->depth_multiplier);
        return TML_OK;
    }
    if (sf.n != so.c)
        return tml_shape_error(it, n, "input 1", filt, "output channels", so.c,
                               sf.n);
    if (sf.c <= 0 || si.c < sf.c || si.c % sf.c != 0)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "input channels %d not a multiple of filter "
                                "channels %d", (int)si.c, (int)sf.c);
    if (so.c % (si.c / sf.c) != 0)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "output channels %d not a multiple of the %d "
                                "groups", (int)so.c, (int)(si.c / sf.c));
    return TML_OK;
}

static tml_status check_bias(tml_interpreter *it, tml_node *n,
                             const tml_tensor *bias, int quantized,
                             int32_t channels)
{
    if (!bias)
        return TML_OK;
    const tml_dtype want = quantized ? TML_INT32 : TML_FLOAT32;
    if (bias->type != want)
        return tml_dtype_error(it, n, "input 2", bias,
                               quantized ? "int32" : "float32");
    if (tml_num_elements(bias) != channels)
        return tml_shape_error(it, n, "input 2", bias, "elements", channels,
                               tml_num_elements(bias));
    return TML_OK;
}

/* An int8 tensor's zero point must be an int8 value (TFLite int8 spec);
 * the kernels' 16-bit intermediates rely on it. */
static tml_status check_zero_point(tml_interpreter *it, tml_node *n,
                                   const char *slot, const tml_tensor *t)
{
    if (t->zero_point >= -128 && t->zero_point <= 127)
        return TML_OK;
    return tml_tensor_error(it, n, TML_ERROR_MODEL, slot, t,
                            "zero point %d outside int8", (int)t->zero_point);
}

tml_status tml_conv_check_zero_points(tml_interpreter *it, tml_node *n,
                                      const tml_tensor *in,
                                      const tml_tensor *out)
{
    tml_status st = check_zero_point(it, n, "input 0", in);
    return st != TML_OK ? st : check_zero_point(it, n, "output 0", out);
}

tml_status tml_conv_check_weight_zero_points(tml_interpreter *it, tml_node *n,
                                             const tml_tensor *w,
                                             const tml_quant *q)
{
    /* TFLite int8 spec: weights symmetric, zero point 0. */
    for (int32_t c = 0; q->zero_points && c < q->count; c++) {
        if (q->zero_points[c] != 0)
            return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "input 1",
                                    w, "weight zero point %d at channel %d, "
                                    "the int8 spec needs 0",
                                    (int)q->zero_points[c], (int)c);
    }
    return TML_OK;
}

/* Per-channel requantization, as PopulateConvolutionQuantizationParams. */
static tml_status quant_params(tml_interpreter *it, tml_node *n, int depthwise,
                               const tml_tensor *in, const tml_tensor *filt,
                               const tml_tensor *out, int32_t activation,
                               tml_conv_params *p)
{
    const int32_t channels = depthwise ? filt->dims[3] : filt->dims[0];
    const int qdim = depthwise ? 3 : 0;
    tml_quant q;
    tml_tensor_quant(it, filt, &q);
    if (!(in->scale > 0.0f))
        return tml_tensor_error(it, n, TML_ERROR_MODEL, "input 0", in,
                                "int8 needs a scale");
    if (!(out->scale > 0.0f))
        return tml_tensor_error(it, n, TML_ERROR_MODEL, "output 0", out,
                                "int8 needs a scale");
    if (!q.scales || (q.count != 1 && q.count != channels))
        return tml_shape_error(it, n, "input 1", filt, "scales (1 or channels)",
                               channels, q.count);
    if (q.count > 1 && q.dim != qdim)
        return tml_shape_error(it, n, "input 1", filt, "quantized_dimension",
                               qdim, q.dim);
    tml_status st = tml_conv_check_weight_zero_points(it, n, filt, &q);
    if (st != TML_OK)
        return st;
    int32_t *mult = (int32_t *)(p + 1);
    int8_t *shift = (int8_t *)(mult + channels);
    tml_conv_multipliers(in->scale, q.scales, q.count, out->scale, channels,
                         mult, shift);
    for (int32_t c = 0; c < channels; c++) {
        if (mult[c] < 0)
            return tml_tensor_error(it, n, TML_ERROR_MODEL, "input 1", filt,
                                    "negative scale at channel %d", (int)c);
        if (shift[c] > 30)
            return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
                                    "channel %d: output multiplier too large "
                                    "(input*filter/output scale >= 2^31)",
                                    (int)c);
    }
    p->out_mult = mult;
    p->out_shift = shift;
    st = tml_conv_check_zero_points(it, n, in, out);
    if (st != TML_OK)
        return st;
    p->input_offset = -in->zero_point;
    p->output_offset = out->zero_point;
    tml_activation_range_q(activation, out->scale, out->zero_point, -128, 127,
                           &p->act_min, &p->act_max);
    return TML_OK;
}

tml_status tml_conv_prepare_common(tml_interpreter *it, tml_node *n,
                                   int depthwise)
{
    if (n->ninputs < 2 || n->ninputs > 3 || n->noutputs != 1)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "expected 2 or 3 inputs and 1 output, got %d "
                                "and %d", (int)n->ninputs, (int)n->noutputs);
    tml_tensor *in = tml_node_input(it, n, 0);
    tml_tensor *filt = tml_node_input(it, n, 1);
    tml_tensor *bias = tml_node_input(it, n, 2);
    tml_tensor *out = tml_node_output(it, n, 0);
    if (!in || !filt)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "input and filter are required");
#ifdef TML_NO_HYBRID
    /* Deployment build without hybrid.c (tinyml export, no hybrid op). */
    if (in->type == TML_FLOAT32 && filt->type == TML_INT8)
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
                                "hybrid (float32 input, int8 filter) kernels "
                                "are not built in (TML_NO_HYBRID)");
#else
    if (in->type == TML_FLOAT32 && filt->type == TML_INT8)
        return depthwise ? tml_hybrid_depthwise_prepare(it, n)
                         : tml_hybrid_conv_prepare(it, n);
#endif
    if (in->type != TML_INT8 && in->type != TML_FLOAT32)
        return tml_dtype_error(it, n, "input 0", in, "int8 or float32");
#ifdef TML_NO_FLOAT_KERNELS
    /* Deployment build for int8 models (tinyml export): no float32 path. */
    if (in->type == TML_FLOAT32)
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
                                "float32 kernels are not built in "
                                "(TML_NO_FLOAT_KERNELS)");
#endif
    const int quantized = in->type == TML_INT8;
    const char *want = quantized ? "int8" : "float32";
    if (filt->type != in->type)
        return tml_dtype_error(it, n, "input 1", filt, want);
    if (out->type != in->type)
        return tml_dtype_error(it, n, "output 0", out, want);

    conv_options o = { 0, 0, 0, 0, 0, 0, 0 };
    tml_status st = read_options(it, n, depthwise, &o);
    if (st != TML_OK)
        return st;
    tml_conv_params shape_p = { 0 };
    st = check_shapes(it, n, depthwise, &o, in, filt, out, &shape_p);
    if (st != TML_OK)
        return st;
    st = check_bias(it, n, bias, quantized, out->dims[3]);
    if (st != TML_OK)
        return st;
    /* Sums per output: filter taps (depthwise: H x W; conv: H x W x C). */
    const int64_t depth = (int64_t)filt->dims[1] * filt->dims[2] *
                          (depthwise ? 1 : filt->dims[3]);
    if (quantized && depth > TML_MAX_ACCUM_DEPTH)
        return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "filter", filt,
                                "%ld products per output, at most %d",
                                (long)depth, TML_MAX_ACCUM_DEPTH);

    const int32_t channels = out->dims[3];
    size_t bytes = sizeof(tml_conv_params);
    if (quantized)
        bytes += (size_t)channels * (sizeof(int32_t) + sizeof(int8_t));
    tml_conv_params *p = tml_alloc_persistent(it, bytes);
    if (!p)
        return TML_ERROR_ARENA;
    p->stride_h = o.stride_h;
    p->stride_w = o.stride_w;
    p->dilation_h = o.dilation_h;
    p->dilation_w = o.dilation_w;
    p->pad_h = shape_p.pad_h;
    p->pad_w = shape_p.pad_w;
    p->depth_multiplier = o.depth_multiplier;
    tml_activation_range_f(o.activation, &p->fact_min, &p->fact_max);
    if (quantized) {
        st = quant_params(it, n, depthwise, in, filt, out, o.activation, p);
        if (st != TML_OK)
            return st;
    }
    n->user = p;
    return TML_OK;
}

/* ------------------------------------------------------ registration */

static tml_status conv_prepare(tml_interpreter *it, tml_node *n)
{
    tml_status st = tml_conv_prepare_common(it, n, 0);
    if (st != TML_OK)
        return st;
    const tml_tensor *in = tml_node_input(it, n, 0);
    const tml_tensor *filt = tml_node_input(it, n, 1);
    if (in->type != TML_INT8)
        return TML_OK;
    tml_shape4 sf;
    tml_shape4_of(filt, &sf);
    return tml_request_scratch(it, n, tml_conv_int8_scratch_bytes(&sf));
}

static tml_status conv_eval(tml_interpreter *it, tml_node *n)
{
    const tml_tensor *in = tml_node_input(it, n, 0);
    const tml_tensor *filt = tml_node_input(it, n, 1);
    const tml_tensor *bias = tml_node_input(it, n, 2);
    tml_tensor *out = tml_node_output(it, n, 0);
#ifndef TML_NO_HYBRID
    if (in->type == TML_FLOAT32 && filt->type == TML_INT8)
        return tml_hybrid_conv_eval(it, n);
#endif
    const tml_conv_params *p = n->user;
    tml_shape4 si, sf, so;
    tml_shape4_of(in, &si);
    tml_shape4_of(filt, &sf);
    tml_shape4_of(out, &so);
#ifndef TML_NO_FLOAT_KERNELS
    if (in->type == TML_FLOAT32) {
        tml_conv_f32(p, &si, in->data, &sf, filt->data,
                     bias ? bias->data : NULL, &so, out->data);
        return TML_OK;
    }
#endif
    tml_conv_int8(p, &si, in->data, &sf, filt->data, bias ? bias->data : NULL,
                  &so, out->data, tml_scratch(it, n));
    return TML_OK;
}

/* Versions (TFLite op_version.cc): 1 float, 2 hybrid, 3 int8, 5 hybrid
 * per-channel, 6 grouped.  4 (int16) and 7 (int4) fail in prepare. */
const tml_kernel tml_kernel_conv_2d = { 3, 1, 6, conv_prepare, conv_eval };
