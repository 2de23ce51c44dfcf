/*
 * The prepare of CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and the 2-D
 * pools, written once: these ops check the same things (input count,
 * dtypes, fused activation, window geometry, output shape, bias, zero
 * points, scales) and end in the same output stage (per-channel
 * requantization, clamp).  Semantics: TFLite Micro conv_common.cc,
 * depthwise_conv_common.cc, fully_connected_common.cc, pooling_common.cc
 * and kernel_util.cc (PopulateConvolutionQuantizationParams,
 * GetQuantizedConvolutionMultipler, CalculateActivationRangeQuantized).
 *
 * Every failure is one line naming the tensor (or option) with what was
 * expected and what was found; the wording is shared by the four ops.
 * The multipliers are computed with runtime/real.h, TFLite's double
 * arithmetic emulated exactly, so no soft-double code is linked.
 */
#include "conv_common.h"

#include "hybrid.h"
#include "quant.h"
#include "real.h"
#include "schema.h"

static const char *const k_slot[4] = { "input 0", "input 1", "input 2",
                                       "output 0" };

/* ------------------------------------------------------------ geometry */

int tml_conv_out_size(int padding, int32_t in_size, int32_t filter_size,
                      int32_t stride, int32_t dilation, int32_t *out_size,
                      int32_t *pad)
{
    if (in_size < 0 || filter_size <= 0 || stride <= 0 || dilation <= 0 ||
        (padding != TML_PAD_SAME && padding != TML_PAD_VALID))
        return -1;
    /* A span past 2^30 + 1 is refused: tap offsets stay inside int32. */
    const int64_t eff = (int64_t)(filter_size - 1) * dilation + 1;
    if (eff > (1 << 30) + 1)
        return -1;
    /* SAME: ceil(in / stride); VALID: (in + stride - span) / stride with
     * C's truncation, so 0 while -stride < numerator < 0. */
    const int64_t num = (int64_t)in_size + stride -
                        (padding == TML_PAD_SAME ? 1 : eff);
    if (num <= -(int64_t)stride)
        return -1;
    /* 0 <= num < 2^32: unsigned 32-bit division (no 64-bit routine). */
    const int32_t out = num < 0 ? 0 : (int32_t)((uint32_t)num / (uint32_t)stride);
    /* padding.h: total = (out - 1) * stride + span - in, at least 0, below
     * the span (so below 2^30 + 2); the leading side gets the smaller
     * half. */
    const int64_t total = ((int64_t)out - 1) * stride + eff - in_size;
    *out_size = out;
    *pad = total > 0 ? (int32_t)(total >> 1) : 0;
    return 0;
}

void tml_conv_multipliers(float input_scale, const float *filter_scales,
                          int32_t nscales, float output_scale,
                          int32_t channels, int32_t *mult, int8_t *shift)
{
    for (int32_t c = 0; c < channels; c++) {
        int s;
        tml_quantize_ratio(input_scale, filter_scales[nscales > 1 ? c : 0],
                           output_scale, &mult[c], &s);
        shift[c] = (int8_t)s;
    }
}

int8_t tml_requant1_call(int32_t acc, int32_t mult, int shift,
                         int32_t out_off, int32_t lo, int32_t hi)
{
    const int32_t v = tml_mul_by_qm(acc, mult, shift);
    return (int8_t)tml_clamp_i32(tml_add_wrap(v, out_off), lo, hi);
}

void tml_tap_range_call(int32_t origin, int32_t dilation, int32_t taps,
                        int32_t size, int32_t *lo, int32_t *hi)
{
    tml_tap_range_inl(origin, dilation, taps, size, lo, hi);
}

/* ------------------------------------------------------------- options */

static const char *const k_opt_name[TML_WO_COUNT] = {
    "padding", "stride_w", "stride_h", "fused_activation_function",
    "dilation_w_factor", "dilation_h_factor", "depth_multiplier",
    "filter_width", "filter_height", "weights_format"
};

/* Table field i of each op's options is option id k_fields[kind][i]
 * (schema.fbs Conv2DOptions, DepthwiseConv2DOptions,
 * FullyConnectedOptions, Pool2DOptions). */
static const uint8_t k_fields[4][7] = {
    { TML_WO_PADDING, TML_WO_STRIDE_W, TML_WO_STRIDE_H, TML_WO_ACT, TML_WO_DIL_W, TML_WO_DIL_H, TML_WO_END },
    { TML_WO_PADDING, TML_WO_STRIDE_W, TML_WO_STRIDE_H, TML_WO_DEPTH_MULT, TML_WO_ACT, TML_WO_DIL_W,
      TML_WO_DIL_H },
    { TML_WO_ACT, TML_WO_WEIGHTS_FORMAT, TML_WO_END, TML_WO_END, TML_WO_END, TML_WO_END, TML_WO_END },
    { TML_WO_PADDING, TML_WO_STRIDE_W, TML_WO_STRIDE_H, TML_WO_FILTER_W, TML_WO_FILTER_H, TML_WO_ACT,
      TML_WO_END },
};

/* Allowed values of an option: >= 1, or 0..hi (padding SAME / VALID,
 * activations NONE..RELU6, weights_format DEFAULT). */
static int32_t opt_max(int id)
{
    return id == TML_WO_PADDING ? TML_PAD_VALID
         : id == TML_WO_ACT ? TML_ACT_RELU6
         : id == TML_WO_WEIGHTS_FORMAT ? 0 : -1;
}

/* Reads and range-checks the op's options into o[TML_WO_COUNT]; fields the
 * table lacks take the schema defaults (dilations 1, others 0).  TFLite
 * Micro treats TANH / SIGN_BIT as no clamp at all: they are refused
 * rather than silently computing something else than TFLite. */
static tml_status read_options(tml_interpreter *it, tml_node *n, int kind,
                               int32_t o[TML_WO_COUNT])
{
    for (int i = 0; i < TML_WO_COUNT; i++)
        o[i] = i == TML_WO_DIL_W || i == TML_WO_DIL_H;
    for (int f = 0; f < 7; f++) {
        const int id = k_fields[kind][f];
        if (id >= TML_WO_COUNT)    /* TML_WO_END */
            break;
        const int32_t hi = opt_max(id);
        const int32_t v = tml_opt_int(it, n, f, hi < 0 ? 4 : 1, o[id]);
        if (TML_VALIDATE && (hi < 0 ? v < 1 : (v < 0 || v > hi)))
            return tml_kernel_error(it, n, hi < 0 ? TML_ERROR_MODEL
                                                  : TML_ERROR_UNSUPPORTED,
                                    hi < 0 ? "option %s %d, expected >= 1"
                                           : "option %s %d, expected 0..%d",
                                    k_opt_name[id], (int)v, (int)hi);
        o[id] = v;
    }
    return TML_OK;
}

/* ------------------------------------------------------------- shapes */

/* CONV_2D, DEPTHWISE_CONV_2D and pools: rank 4, the window's output size
 * (TFLite's padding.h), the output shape, channel counts. */
tml_status tml_wop_window(tml_interpreter *it, tml_node *n, tml_wop *g)
{
    tml_tensor *const *t = g->t;
    const int32_t *o = g->o;
    const int kind = g->kind;
    static const char *const dim_name[4] = { "batch", "height", "width",
                                             "channels" };
    const tml_tensor *in = t[0], *w = t[1], *out = t[3];
    for (int i = 0; i < 4; i++) {
        if (TML_VALIDATE && t[i] && i != 2 && t[i]->ndims != 4)
            return tml_shape_error(it, n, k_slot[i], t[i], "rank", 4,
                                   t[i]->ndims);
    }
    const int32_t cin = in->dims[3];
    int32_t fh = o[TML_WO_FILTER_H], fw = o[TML_WO_FILTER_W];
    g->channels = cin;
    g->depth = 1;
    if (kind != TML_WOP_POOL) {
        fh = w->dims[1];
        fw = w->dims[2];
        g->channels = kind == TML_WOP_CONV ? w->dims[0] : w->dims[3];
        g->depth = kind == TML_WOP_CONV ? w->dims[3] : 1;
    }
    /* TML_VALIDATE last: the sizes are computed either way. */
    if ((tml_conv_out_size(o[TML_WO_PADDING], in->dims[1], fh, o[TML_WO_STRIDE_H],
                           o[TML_WO_DIL_H], &g->out_h, &g->pad_h) != 0 ||
         tml_conv_out_size(o[TML_WO_PADDING], in->dims[2], fw, o[TML_WO_STRIDE_W],
                           o[TML_WO_DIL_W], &g->out_w, &g->pad_w) != 0) &&
        TML_VALIDATE)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "filter %dx%d (dilation %dx%d) does not fit "
                                "input %dx%d", (int)fh, (int)fw,
                                (int)o[TML_WO_DIL_H], (int)o[TML_WO_DIL_W],
                                (int)in->dims[1], (int)in->dims[2]);
    const int32_t want[4] = { in->dims[0], g->out_h, g->out_w, g->channels };
    for (int i = 0; i < 4; i++) {
        if (TML_VALIDATE && out->dims[i] != want[i])
            return tml_shape_error(it, n, k_slot[3], out, dim_name[i],
                                   want[i], out->dims[i]);
    }
    const int64_t depth = (int64_t)g->depth * fh * fw;
    g->depth = depth > INT32_MAX ? INT32_MAX : (int32_t)depth;
    if (kind == TML_WOP_DEPTHWISE) {
        if (TML_VALIDATE && w->dims[0] != 1)
            return tml_shape_error(it, n, k_slot[1], w, "dim 0", 1,
                                   w->dims[0]);
        /* TFLite Micro loops depth_multiplier times per input channel; a
         * value that does not match the shapes would leave outputs unset. */
        if (TML_VALIDATE &&
            (int64_t)g->channels != (int64_t)cin * o[TML_WO_DEPTH_MULT])
            return tml_shape_error(it, n, k_slot[3], out,
                                   "channels (in * depth_multiplier)",
                                   (int32_t)((int64_t)cin * o[TML_WO_DEPTH_MULT]),
                                   g->channels);
    } else if (kind == TML_WOP_CONV) {
        const int32_t cf = w->dims[3];
        if (TML_VALIDATE && (cf <= 0 || cin < cf || cin % cf != 0))
            return tml_shape_error(it, n, k_slot[0], in,
                                   "channels multiple of", cf, cin);
        if (TML_VALIDATE && g->channels % (cin / cf) != 0)
            return tml_shape_error(it, n, k_slot[3], out,
                                   "channels multiple of", cin / cf,
                                   g->channels);
    }
    return TML_OK;
}

/* ------------------------------------------------------------- int8 */

/* Zero points within int8 (TFLite int8 spec; the 16-bit intermediates rely
 * on it), then the offsets and the clamp of the fused activation. */
static tml_status int8_stage(tml_interpreter *it, tml_node *n,
                             tml_tensor *const t[4], int32_t activation,
                             tml_clamp *c)
{
    for (int i = 0; i < 4; i += 3) {
        if (TML_VALIDATE &&
            (t[i]->zero_point < -128 || t[i]->zero_point > 127))
            return tml_tensor_error(it, n, TML_ERROR_MODEL, k_slot[i], t[i],
                                    "expected an int8 zero point, got %d",
                                    (int)t[i]->zero_point);
    }
    tml_activation_range_q(activation, t[3]->scale, t[3]->zero_point, -128,
                           127, &c->act_min, &c->act_max);
    return TML_OK;
}

/* |(double)in * (double)w - (double)bias| / (double)out <= 0.02, as
 * GetQuantizedConvolutionMultipler checks a per-tensor bias scale. */
static int bias_scale_ok(float in, float w, float bias, float out)
{
    tml_real d = tml_real_sub(tml_real_mul(tml_real_from_float(in),
                                           tml_real_from_float(w)),
                              tml_real_from_float(bias));
    d.neg = 0;
    d = tml_real_div(d, tml_real_from_float(out));
    /* The double literal 0.02: 0x147AE147AE147B * 2^-58 (real.h's form). */
    const tml_real limit = { 0x147AE147AE147Bu, -58, 0 };
    return !tml_real_is_invalid(d) && tml_real_cmp(d, limit) <= 0;
}

/* Output multipliers, as PopulateConvolutionQuantizationParams (per
 * channel, a single filter scale broadcast) or, for a per-tensor
 * FULLY_CONNECTED, GetQuantizedConvolutionMultipler (input and filter
 * scales multiplied in float first). */
static tml_status multipliers(tml_interpreter *it, tml_node *n, int kind,
                              tml_tensor *const t[4], const tml_quant *q,
                              int32_t count, int32_t *mult, int8_t *shift)
{
    const tml_tensor *in = t[0], *w = t[1], *bias = t[2], *out = t[3];
    if (kind == TML_WOP_FC && q->count == 1) {
        if (TML_VALIDATE && bias && !bias_scale_ok(in->scale, q->scales[0], bias->scale,
                                   out->scale))
            return tml_tensor_error(it, n, TML_ERROR_MODEL, k_slot[2], bias,
                                    "expected scale in * weight scale, got "
                                    "another");
        tml_conv_multipliers(in->scale * q->scales[0], (const float[]){ 1.0f },
                             1, out->scale, 1, mult, shift);
    } else {
        tml_conv_multipliers(in->scale, q->scales, q->count, out->scale,
                             count, mult, shift);
    }
    for (int32_t c = 0; c < count; c++) {
        if (TML_VALIDATE && (mult[c] < 0 || shift[c] > 30))
            return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, k_slot[1],
                                    w, "expected in * w / out scale in "
                                    "[0, 2^31) at channel %d, got %s", (int)c,
                                    mult[c] < 0 ? "< 0" : ">= 2^31");
    }
    return TML_OK;
}

/* The weights' quantization: scales (one, or one per output channel on
 * quantized_dimension qdim), symmetric (TFLite int8 spec: zero point 0);
 * input and output scales.  Returns the multiplier count in *count. */
static tml_status weight_quant(tml_interpreter *it, tml_node *n, int kind,
                               tml_tensor *const t[4], int32_t channels,
                               tml_quant *q, int32_t *count)
{
    const tml_tensor *w = t[1];
    const int qdim = kind == TML_WOP_DEPTHWISE ? 3 : 0;
    for (int i = 0; i < 4; i += 3) {
        if (TML_VALIDATE && !(t[i]->scale > 0.0f))
            return tml_tensor_error(it, n, TML_ERROR_MODEL, k_slot[i], t[i],
                                    "expected a scale > 0, got none or <= 0");
    }
    tml_tensor_quant(it, w, q);
    if (TML_VALIDATE &&
        (!q->scales || (q->count != 1 && q->count != channels)))
        return tml_shape_error(it, n, k_slot[1], w,
                               "scales (1 or output channels)", channels,
                               q->count);
    if (TML_VALIDATE && q->count > 1 && q->dim != qdim)
        return tml_shape_error(it, n, k_slot[1], w, "quantized_dimension",
                               qdim, q->dim);
    for (int32_t c = 0; TML_VALIDATE && q->zero_points && c < q->count; c++) {
        if (q->zero_points[c] != 0)
            return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, k_slot[1],
                                    w, "expected zero point 0, got %d at "
                                    "channel %d",
                                    (int)q->zero_points[c], (int)c);
    }
    /* A per-tensor FULLY_CONNECTED keeps one multiplier; the convolutions
     * broadcast it to every channel. */
    *count = kind == TML_WOP_FC && q->count == 1 ? 1 : channels;
    return TML_OK;
}

/* ------------------------------------------------------------ prepare */

/* Counts, presence, dtypes.  Hybrid nodes (float32 input, int8 weights)
 * were handed to hybrid.c by the op (tml_wop_hybrid) unless it is left
 * out of the build. */
static tml_status check_io(tml_interpreter *it, tml_node *n, int kind,
                           tml_tensor *t[4])
{
    const int weighted = kind != TML_WOP_POOL;
    const int lo = weighted ? 2 : 1, hi = weighted ? 3 : 1;
    tml_wop_tensors(it, n, t);
    if (TML_VALIDATE &&
        (n->ninputs < lo || n->ninputs > hi || n->noutputs != 1 || !t[0] ||
         (weighted && !t[1])))
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "expected %d..%d inputs and 1 output, got "
                                "%d and %d", lo, hi, (int)n->ninputs,
                                (int)n->noutputs);
    const tml_tensor *in = t[0];
#ifdef TML_NO_HYBRID
    /* Deployment build without hybrid.c (tinyml export). */
    if (weighted && in->type == TML_FLOAT32 && t[1]->type == TML_INT8)
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
                                "hybrid (float32 input, int8 filter) kernels "
                                "are not built in (TML_NO_HYBRID)");
#endif
    if (TML_VALIDATE && in->type != TML_INT8 && in->type != TML_FLOAT32)
        return tml_dtype_error(it, n, k_slot[0], in, "int8 or float32");
#ifdef TML_NO_FLOAT_KERNELS
    /* Deployment build for int8 models (tinyml export): no float32 path. */
    if (in->type == TML_FLOAT32)
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
                                "float32 kernels are not built in "
                                "(TML_NO_FLOAT_KERNELS)");
#endif
    /* Weights and output like the input; bias int32 (int8) or float32. */
    for (int i = 1; i < 4; i++) {
        const int want = i != 2 ? in->type
                       : in->type == TML_INT8 ? TML_INT32 : TML_FLOAT32;
        if (TML_VALIDATE && t[i] && t[i]->type != want)
            return tml_dtype_error(it, n, k_slot[i], t[i],
                                   tml_dtype_name((tml_dtype)want));
    }
    return TML_OK;
}

void tml_wop_tensors(tml_interpreter *it, const tml_node *n, tml_tensor *t[4])
{
    for (int i = 0; i < 3; i++)
        t[i] = tml_node_input(it, n, i);
    t[3] = tml_node_output(it, n, 0);
}

void tml_wop_shapes(tml_interpreter *it, const tml_node *n, tml_tensor *t[4],
                    tml_shape4 s[3])
{
    tml_wop_tensors(it, n, t);
    tml_shape4_of(t[0], &s[0]);
    tml_shape4_of(t[1], &s[1]);
    tml_shape4_of(t[3], &s[2]);
}

tml_status tml_wop_begin(tml_interpreter *it, tml_node *n, int kind,
                         tml_wop *w)
{
    w->kind = kind;
    w->nmult = 0;
    tml_status st = check_io(it, n, kind, w->t);
    return st != TML_OK ? st : read_options(it, n, kind, w->o);
}

/* The clamp every params struct starts with (tml_out_stage's first member
 * for the ops with weights); int8: zero points and the quantized clamp. */
static tml_status clamp_stage(tml_interpreter *it, tml_node *n,
                              const tml_wop *w, void *mem)
{
    tml_clamp *c = mem;
#ifndef TML_NO_FLOAT_KERNELS
    tml_activation_range_f(w->o[TML_WO_ACT], &c->fact_min, &c->fact_max);
#endif
    return w->t[0]->type == TML_INT8
               ? int8_stage(it, n, w->t, w->o[TML_WO_ACT], c)
               : TML_OK;
}

tml_status tml_wop_weights(tml_interpreter *it, tml_node *n, tml_wop *w,
                           size_t head, void **params)
{
    tml_tensor *const *t = w->t;
    const int quantized = t[0]->type == TML_INT8;
    if (TML_VALIDATE && t[2] && tml_num_elements(t[2]) != w->channels)
        return tml_shape_error(it, n, k_slot[2], t[2], "elements", w->channels,
                               tml_num_elements(t[2]));
    tml_quant q;
    int32_t count = 0;
    if (quantized) {
        if (TML_VALIDATE && w->depth > TML_MAX_ACCUM_DEPTH)
            return tml_shape_error(it, n, k_slot[1], t[1],
                                   "products per output <=",
                                   TML_MAX_ACCUM_DEPTH, w->depth);
        tml_status st = weight_quant(it, n, w->kind, t, w->channels, &q,
                                     &count);
        if (st != TML_OK)
            return st;
    }
    uint8_t *mem = tml_alloc_persistent(it, head + (size_t)count * 5);
    if (!mem)
        return TML_ERROR_ARENA;
    tml_status st = clamp_stage(it, n, w, mem);
    if (st != TML_OK || !quantized) {
        *params = mem;
        return st;
    }
    int32_t *mult = (int32_t *)(void *)(mem + head);
    int8_t *shift = (int8_t *)(mult + count);
    st = multipliers(it, n, w->kind, t, &q, count, mult, shift);
    if (st != TML_OK)
        return st;
    tml_out_stage *s = (tml_out_stage *)(void *)mem;
    s->input_offset = -t[0]->zero_point;
    s->output_offset = t[3]->zero_point;
    s->out_mult = mult;
    s->out_shift = shift;
    w->nmult = count;
    *params = mem;
    return TML_OK;
}

tml_status tml_wop_pool_stage(tml_interpreter *it, tml_node *n,
                              const tml_wop *w, size_t head, void **params)
{
    void *mem = tml_alloc_persistent(it, head);
    if (!mem)
        return TML_ERROR_ARENA;
    *params = mem;
    tml_status st = clamp_stage(it, n, w, mem);
    const tml_tensor *in = w->t[0], *out = w->t[3];
    if (st != TML_OK || in->type != TML_INT8)
        return st;
    /* TFLite Micro: pooling keeps its input's quantization; the float
     * |scale difference| must be <= 1e-6 as a double, which for a float is
     * exactly > 1e-6f (1e-6f < 1e-6). */
    const float ds = in->scale - out->scale;
    if (TML_VALIDATE &&
        (ds > 1.0e-6f || -ds > 1.0e-6f || in->zero_point != out->zero_point))
        return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, k_slot[3], out,
                                "expected the input's quantization, got "
                                "another");
    return TML_OK;
}

tml_status tml_wop_conv_prepare(tml_interpreter *it, tml_node *n, int kind)
{
    tml_wop w;
    void *mem = NULL;
    tml_status st = tml_wop_begin(it, n, kind, &w);
    if (st == TML_OK)
        st = tml_wop_window(it, n, &w);
    if (st == TML_OK)
        st = tml_wop_weights(it, n, &w, sizeof(tml_conv_params), &mem);
    if (st != TML_OK)
        return st;
    tml_conv_params *p = mem;
    p->stride_h = w.o[TML_WO_STRIDE_H];
    p->stride_w = w.o[TML_WO_STRIDE_W];
    p->dilation_h = w.o[TML_WO_DIL_H];
    p->dilation_w = w.o[TML_WO_DIL_W];
    p->pad_h = w.pad_h;
    p->pad_w = w.pad_w;
    p->depth_multiplier = kind == TML_WOP_DEPTHWISE
                              ? w.o[TML_WO_DEPTH_MULT] : 1;
    n->user = p;
    /* int8 CONV_2D: one output pixel's patch, 16-bit, in whole blocks of 16
     * (tml_conv_int8_scratch_bytes; depth = filter H x W x C). */
    if (kind == TML_WOP_CONV && w.t[0]->type == TML_INT8)
        return tml_request_scratch(it, n, (size_t)((w.depth + 15) & ~15) * 2u);
    return TML_OK;
}
