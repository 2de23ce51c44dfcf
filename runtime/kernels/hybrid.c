/*
 * Dynamic-range ("hybrid") kernels: float32 activations, int8 weights.
 * See hybrid.h for the contract and hybrid_math.h for the arithmetic.
 *
 * Which input quantization TFLite uses (and so we do):
 *   CONV_2D: symmetric per batch when the filter has one scale (or all its
 *     scales are equal); asymmetric per batch with per-channel scales.
 *   DEPTHWISE_CONV_2D: always the per-channel path, asymmetric.
 *   FULLY_CONNECTED: symmetric, or asymmetric when the option
 *     asymmetric_quantize_inputs is set.
 * The scratch buffer holds, per node: the int8 copy of the input, then the
 * per-batch scales (float) and offsets (int32).
 */
#include <string.h>

#include "hybrid.h"
#include "hybrid_math.h"
#include "quant.h"
#include "schema.h"

/* ------------------------------------------------------------ math layer */

void tml_quantize_symmetric(const float *x, int32_t n, int8_t *q,
                            float *scale)
{
    float lo = n > 0 ? x[0] : 0.0f;
    float hi = lo;
    for (int32_t i = 1; i < n; i++) {
        if (x[i] < lo)
            lo = x[i];
        if (x[i] > hi)
            hi = x[i];
    }
    float alo = lo < 0.0f ? -lo : lo;
    float ahi = hi < 0.0f ? -hi : hi;
    float range = alo > ahi ? alo : ahi;
    if (range == 0.0f) {
        memset(q, 0, (size_t)n);
        *scale = 1.0f;
        return;
    }
    *scale = range / 127.0f;
    const float inv = 127.0f / range;
    for (int32_t i = 0; i < n; i++) {
        float r = tml_clamp_f(tml_roundf(x[i] * inv), -127.0f, 127.0f);
        q[i] = r == r ? (int8_t)(int32_t)r : 0;   /* NaN: 0, not UB */
    }
}

/* std::round on a double in (-2^31, 2^31), half away from zero. */
static double round_d(double v)
{
    double t = (double)(int64_t)v;
    double d = v - t;
    if (d >= 0.5)
        t += 1.0;
    else if (d <= -0.5)
        t -= 1.0;
    return t;
}

void tml_quantize_asymmetric(const float *x, int32_t n, int8_t *q,
                             float *scale, int32_t *offset)
{
    float lo = 0.0f;
    float hi = 0.0f;
    for (int32_t i = 0; i < n; i++) {
        if (x[i] < lo)
            lo = x[i];
        if (x[i] > hi)
            hi = x[i];
    }
    if (lo == hi) {
        memset(q, 0, (size_t)n);
        *scale = 1.0f;
        *offset = 0;
        return;
    }
    /* Per-row parameters in double as TFLite computes them (once per batch
     * row, not per element). */
    const double rmin = lo;
    const double rmax = hi;
    const double s = (rmax - rmin) / 255.0;
    const double zp_min = -128.0 - rmin / s;
    const double zp_max = 127.0 - rmax / s;
    const double err_min = 128.0 + (rmin / s < 0 ? -rmin / s : rmin / s);
    const double err_max = 127.0 + (rmax / s < 0 ? -rmax / s : rmax / s);
    const double zp = err_min < err_max ? zp_min : zp_max;
    int32_t nudged;
    if (zp != zp)
        nudged = 0;   /* non-finite input: keep the cast defined */
    else if (zp <= -128.0)
        nudged = -128;
    else if (zp >= 127.0)
        nudged = 127;
    else
        nudged = (int32_t)round_d(zp);
    *scale = (float)s;
    *offset = nudged;
    const float inv = 1.0f / *scale;
    const float off = (float)nudged;
    for (int32_t i = 0; i < n; i++) {
        float r = tml_clamp_f(tml_roundf(off + x[i] * inv), -128.0f, 127.0f);
        q[i] = r == r ? (int8_t)(int32_t)r : 0;   /* NaN: 0, not UB */
    }
}

static float w_scale(const float *w_scales, int32_t w_nscales, int32_t c)
{
    return w_nscales > 1 ? w_scales[c] : w_scales[0];
}

/* acc -> float as the TFLite path for this (symmetric or not) does. */
static float dequant_acc(int32_t acc, float s_in, float s_w,
                         const int32_t *in_offset)
{
    if (in_offset == NULL)
        return (float)acc * (s_in * s_w);
    return (float)acc * s_w * s_in;
}

void tml_hybrid_conv(const tml_hybrid_geom *g, const int8_t *q,
                     const float *in_scale, const int32_t *in_offset,
                     const int8_t *w, const float *w_scales,
                     int32_t w_nscales, const float *bias, float *y)
{
    const int32_t row = g->in_h * g->in_w * g->in_c;
    for (int32_t b = 0; b < g->batch; b++) {
        const int8_t *xb = q + (size_t)b * (size_t)row;
        const int32_t zp = in_offset ? in_offset[b] : 0;
        for (int32_t oy = 0; oy < g->out_h; oy++) {
            const int32_t y0 = oy * g->stride_h - g->pad_h;
            for (int32_t ox = 0; ox < g->out_w; ox++) {
                const int32_t x0 = ox * g->stride_w - g->pad_w;
                for (int32_t oc = 0; oc < g->out_c; oc++) {
                    const int8_t *wc = w + (size_t)oc * (size_t)(g->k_h *
                                        g->k_w * g->in_c);
                    int32_t acc = 0;
                    for (int32_t ky = 0; ky < g->k_h; ky++) {
                        const int32_t iy = y0 + ky * g->dil_h;
                        if (iy < 0 || iy >= g->in_h)
                            continue;
                        for (int32_t kx = 0; kx < g->k_w; kx++) {
                            const int32_t ix = x0 + kx * g->dil_w;
                            if (ix < 0 || ix >= g->in_w)
                                continue;
                            const int8_t *xp = xb + ((size_t)iy * g->in_w +
                                                     ix) * g->in_c;
                            const int8_t *wp = wc + ((size_t)ky * g->k_w +
                                                     kx) * g->in_c;
                            for (int32_t ic = 0; ic < g->in_c; ic++)
                                acc += wp[ic] * (xp[ic] - zp);
                        }
                    }
                    float v = dequant_acc(acc, in_scale[b],
                                          w_scale(w_scales, w_nscales, oc),
                                          in_offset);
                    if (bias)
                        v += bias[oc];
                    *y++ = tml_clamp_f(v, g->act_min, g->act_max);
                }
            }
        }
    }
}

void tml_hybrid_depthwise(const tml_hybrid_geom *g, const int8_t *q,
                          const float *in_scale, const int32_t *in_offset,
                          const int8_t *w, const float *w_scales,
                          int32_t w_nscales, const float *bias, float *y)
{
    const int32_t row = g->in_h * g->in_w * g->in_c;
    const int32_t m = g->depth_multiplier;
    for (int32_t b = 0; b < g->batch; b++) {
        const int8_t *xb = q + (size_t)b * (size_t)row;
        const int32_t zp = in_offset ? in_offset[b] : 0;
        for (int32_t oy = 0; oy < g->out_h; oy++) {
            const int32_t y0 = oy * g->stride_h - g->pad_h;
            for (int32_t ox = 0; ox < g->out_w; ox++) {
                const int32_t x0 = ox * g->stride_w - g->pad_w;
                for (int32_t oc = 0; oc < g->out_c; oc++) {
                    const int32_t ic = oc / m;
                    int32_t acc = 0;
                    for (int32_t ky = 0; ky < g->k_h; ky++) {
                        const int32_t iy = y0 + ky * g->dil_h;
                        if (iy < 0 || iy >= g->in_h)
                            continue;
                        for (int32_t kx = 0; kx < g->k_w; kx++) {
                            const int32_t ix = x0 + kx * g->dil_w;
                            if (ix < 0 || ix >= g->in_w)
                                continue;
                            int32_t xv = xb[((size_t)iy * g->in_w + ix) *
                                            g->in_c + ic];
                            int32_t wv = w[((size_t)ky * g->k_w + kx) *
                                           g->out_c + oc];
                            acc += wv * (xv - zp);
                        }
                    }
                    /* TFLite: acc * (s_w[c] * s_in) */
                    float v = (float)acc *
                              (w_scale(w_scales, w_nscales, oc) * in_scale[b]);
                    if (bias)
                        v += bias[oc];
                    *y++ = tml_clamp_f(v, g->act_min, g->act_max);
                }
            }
        }
    }
}

void tml_hybrid_fc(int32_t batch, int32_t depth, int32_t units,
                   const int8_t *q, const float *in_scale,
                   const int32_t *in_offset, const int8_t *w,
                   const float *w_scales, int32_t w_nscales,
                   const int32_t *row_sums, const float *bias,
                   float act_min, float act_max, float *y)
{
    for (int32_t b = 0; b < batch; b++) {
        const int8_t *xb = q + (size_t)b * (size_t)depth;
        for (int32_t u = 0; u < units; u++) {
            const int8_t *wu = w + (size_t)u * (size_t)depth;
            int32_t acc = 0;
            for (int32_t i = 0; i < depth; i++)
                acc += wu[i] * xb[i];
            if (in_offset)
                acc -= row_sums[u] * in_offset[b];
            /* TFLite starts from the bias and accumulates into it. */
            float v = bias ? bias[u] : 0.0f;
            v += (float)acc * (in_scale[b] * w_scale(w_scales, w_nscales, u));
            *y++ = tml_clamp_f(v, act_min, act_max);
        }
    }
}

/* ------------------------------------------------------------ registration */

enum { KIND_CONV, KIND_DEPTHWISE, KIND_FC };

typedef struct hybrid_op {
    tml_hybrid_geom g;
    int32_t kind;
    int32_t asymmetric;       /* per-batch offsets are used */
    int32_t row;              /* input elements per batch row */
    int32_t units, depth;     /* FC */
    const float *w_scales;
    int32_t w_nscales;
    int32_t *row_sums;        /* FC asymmetric */
    size_t scales_at, offsets_at;   /* byte offsets into the scratch */
} hybrid_op;

static const char *const kind_name[] = { "CONV_2D", "DEPTHWISE_CONV_2D",
                                         "FULLY_CONNECTED" };

static tml_status check_tensors(tml_interpreter *it, tml_node *n,
                                const tml_tensor *in, const tml_tensor *w,
                                const tml_tensor *bias,
                                const tml_tensor *out, int ndims)
{
    /* Only checks of the model. */
    if (!TML_VALIDATE)
        return TML_OK;
    if (in->type != TML_FLOAT32 || out->type != TML_FLOAT32)
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
            "hybrid: input 0 and output 0 must be float32, got %s and %s",
            tml_dtype_name((tml_dtype)in->type),
            tml_dtype_name((tml_dtype)out->type));
    if (w->type != TML_INT8)
        return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "input 1", w,
                                "hybrid weights must be int8, got %s",
                                tml_dtype_name((tml_dtype)w->type));
    if (!(w->flags & TML_TENSOR_CONST))
        return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "input 1", w,
                                "hybrid weights must be constant");
    if (bias != NULL && bias->type != TML_FLOAT32)
        return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "input 2", bias,
                                "hybrid bias must be float32, got %s",
                                tml_dtype_name((tml_dtype)bias->type));
    if (ndims > 0 && (in->ndims != ndims || w->ndims != ndims ||
                      out->ndims != ndims))
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
            "input, filter and output must be %dD, got %dD, %dD and %dD",
            ndims, (int)in->ndims, (int)w->ndims, (int)out->ndims);
    return TML_OK;
}

/* Filter scales: one, or one per output channel along `dim`; symmetric
 * (TFLite int8 spec: weight zero points are 0). */
static tml_status read_scales(tml_interpreter *it, tml_node *n,
                              const tml_tensor *w, int32_t channels,
                              int32_t dim, hybrid_op *op)
{
    tml_quant q;
    tml_tensor_quant(it, w, &q);
    int ok = q.scales != NULL && (q.count == 1 ||
                                  (q.count == channels && q.dim == dim));
    if (TML_VALIDATE && !ok)
        return tml_tensor_error(it, n, TML_ERROR_MODEL, "input 1", w,
                                "expected 1 or %d scales along axis %d, got %d",
                                (int)channels, (int)dim,
                                q.scales ? (int)q.count : 0);
    for (int32_t c = 0; TML_VALIDATE && c < q.count; c++) {
        if (q.zero_points != NULL && q.zero_points[c] != 0)
            return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "input 1", w,
                                    "hybrid weights must be symmetric, zero "
                                    "point %ld at channel %d",
                                    (long)q.zero_points[c], (int)c);
    }
    op->w_scales = q.scales;
    op->w_nscales = q.count;
    return TML_OK;
}

static int scales_differ(const hybrid_op *op)
{
    for (int32_t c = 1; c < op->w_nscales; c++) {
        if (op->w_scales[c] != op->w_scales[0])
            return 1;
    }
    return 0;
}

/* Scratch: int8 input copy, then per-batch float scales, int32 offsets. */
static tml_status request_scratch(tml_interpreter *it, tml_node *n,
                                  hybrid_op *op, int32_t batch)
{
    size_t q_bytes = (size_t)batch * (size_t)op->row;
    op->scales_at = (q_bytes + 7u) & ~(size_t)7u;
    op->offsets_at = op->scales_at + sizeof(float) * (size_t)batch;
    size_t total = op->offsets_at + sizeof(int32_t) * (size_t)batch;
    return tml_request_scratch(it, n, total);
}

static int32_t same_pad(int32_t in, int32_t out, int32_t k, int32_t stride,
                        int32_t dil)
{
    int32_t total = (out - 1) * stride + (k - 1) * dil + 1 - in;
    return total > 0 ? total / 2 : 0;
}

/* Output size TFLite computes for SAME/VALID. */
static int32_t out_size(int padding, int32_t in, int32_t k, int32_t stride,
                        int32_t dil)
{
    int32_t eff = (k - 1) * dil + 1;
    if (padding == TML_PAD_SAME)
        return (in + stride - 1) / stride;
    return (in - eff + stride) / stride;
}

static tml_status conv_geometry(tml_interpreter *it, tml_node *n,
                                const tml_tensor *in, const tml_tensor *w,
                                const tml_tensor *out, int depthwise,
                                hybrid_op *op)
{
    tml_hybrid_geom *g = &op->g;
    int padding, act;
    if (depthwise) {
        padding = tml_opt_int(it, n, TML_F_DW_PADDING, 1, TML_PAD_SAME);
        g->stride_w = tml_opt_int(it, n, TML_F_DW_STRIDE_W, 4, 1);
        g->stride_h = tml_opt_int(it, n, TML_F_DW_STRIDE_H, 4, 1);
        act = tml_opt_int(it, n, TML_F_DW_ACTIVATION, 1, TML_ACT_NONE);
        g->dil_w = tml_opt_int(it, n, TML_F_DW_DILATION_W, 4, 1);
        g->dil_h = tml_opt_int(it, n, TML_F_DW_DILATION_H, 4, 1);
    } else {
        padding = tml_opt_int(it, n, TML_F_CONV_PADDING, 1, TML_PAD_SAME);
        g->stride_w = tml_opt_int(it, n, TML_F_CONV_STRIDE_W, 4, 1);
        g->stride_h = tml_opt_int(it, n, TML_F_CONV_STRIDE_H, 4, 1);
        act = tml_opt_int(it, n, TML_F_CONV_ACTIVATION, 1, TML_ACT_NONE);
        g->dil_w = tml_opt_int(it, n, TML_F_CONV_DILATION_W, 4, 1);
        g->dil_h = tml_opt_int(it, n, TML_F_CONV_DILATION_H, 4, 1);
    }
    if (TML_VALIDATE &&
        (g->stride_w < 1 || g->stride_h < 1 || g->dil_w < 1 || g->dil_h < 1))
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
            "strides and dilations must be >= 1, got %d,%d and %d,%d",
            (int)g->stride_h, (int)g->stride_w, (int)g->dil_h,
            (int)g->dil_w);
    if (TML_VALIDATE && act != TML_ACT_NONE && act != TML_ACT_RELU &&
        act != TML_ACT_RELU_N1_TO_1 && act != TML_ACT_RELU6)
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
            "fused activation %d: expected none, relu, relu_n1_to_1 or "
            "relu6", act);
    tml_activation_range_f(act, &g->act_min, &g->act_max);
    g->batch = in->dims[0];
    g->in_h = in->dims[1];
    g->in_w = in->dims[2];
    g->in_c = in->dims[3];
    g->k_h = w->dims[1];
    g->k_w = w->dims[2];
    g->out_h = out->dims[1];
    g->out_w = out->dims[2];
    g->out_c = out->dims[3];
    int32_t want_h = out_size(padding, g->in_h, g->k_h, g->stride_h,
                              g->dil_h);
    int32_t want_w = out_size(padding, g->in_w, g->k_w, g->stride_w,
                              g->dil_w);
    if (TML_VALIDATE &&
        (out->dims[0] != g->batch || g->out_h != want_h || g->out_w != want_w))
        return tml_tensor_error(it, n, TML_ERROR_MODEL, "output 0", out,
                                "expected [%d, %d, %d, _], got [%d, %d, %d, _]",
                                (int)g->batch, (int)want_h, (int)want_w,
                                (int)out->dims[0], (int)g->out_h,
                                (int)g->out_w);
    if (padding == TML_PAD_SAME) {
        g->pad_h = same_pad(g->in_h, g->out_h, g->k_h, g->stride_h, g->dil_h);
        g->pad_w = same_pad(g->in_w, g->out_w, g->k_w, g->stride_w, g->dil_w);
    }
    op->row = g->in_h * g->in_w * g->in_c;
    return TML_OK;
}

static tml_status finish(tml_interpreter *it, tml_node *n, hybrid_op *op,
                         int32_t batch)
{
    tml_status s = request_scratch(it, n, op, batch);
    if (s != TML_OK)
        return s;
    n->user = op;
    return TML_OK;
}

static tml_status check_bias(tml_interpreter *it, tml_node *n,
                             const tml_tensor *bias, int32_t channels)
{
    if (!TML_VALIDATE || bias == NULL || tml_num_elements(bias) == channels)
        return TML_OK;
    return tml_tensor_error(it, n, TML_ERROR_MODEL, "input 2", bias,
                            "expected %d bias values, got %d", (int)channels,
                            (int)tml_num_elements(bias));
}

static tml_status prepare_conv_like(tml_interpreter *it, tml_node *n,
                                    int kind)
{
    tml_tensor *in = tml_node_input(it, n, 0);
    tml_tensor *w = tml_node_input(it, n, 1);
    tml_tensor *bias = tml_node_input(it, n, 2);
    tml_tensor *out = tml_node_output(it, n, 0);
    if (TML_VALIDATE && (in == NULL || w == NULL || out == NULL))
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
            "%s needs an input, a filter and an output", kind_name[kind]);
    tml_status s = check_tensors(it, n, in, w, bias, out, 4);
    if (s != TML_OK)
        return s;
    hybrid_op *op = tml_alloc_persistent(it, sizeof *op);
    if (op == NULL)
        return TML_ERROR_ARENA;
    op->kind = kind;
    int dw = kind == KIND_DEPTHWISE;
    s = conv_geometry(it, n, in, w, out, dw, op);
    if (s != TML_OK)
        return s;
    tml_hybrid_geom *g = &op->g;
    if (dw) {
        if (TML_VALIDATE && (w->dims[0] != 1 || w->dims[3] != g->out_c ||
                             g->in_c == 0 || g->out_c % g->in_c != 0))
            return tml_tensor_error(it, n, TML_ERROR_MODEL, "input 1", w,
                                    "expected filter [1, kh, kw, %d] with %d "
                                    "a multiple of the %d input channels",
                                    (int)g->out_c, (int)g->out_c, (int)g->in_c);
        g->depth_multiplier = g->out_c / g->in_c;
        s = read_scales(it, n, w, g->out_c, 3, op);
        /* TFLite's hybrid depthwise is always the per-channel path. */
        op->asymmetric = 1;
    } else {
        if (TML_VALIDATE && (w->dims[0] != g->out_c || w->dims[3] != g->in_c))
            return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "input 1", w,
                                    "expected filter [%d, kh, kw, %d] "
                                    "(grouped hybrid convolution is not "
                                    "supported)", (int)g->out_c, (int)g->in_c);
        s = read_scales(it, n, w, g->out_c, 0, op);
        /* TFLite: per-channel path (asymmetric input) only when the
         * channel scales actually differ. */
        op->asymmetric = scales_differ(op);
        if (!op->asymmetric)
            op->w_nscales = 1;
    }
    if (s != TML_OK)
        return s;
    s = check_bias(it, n, bias, g->out_c);
    if (s != TML_OK)
        return s;
    return finish(it, n, op, g->batch);
}

tml_status tml_hybrid_conv_prepare(tml_interpreter *it, tml_node *node)
{
    return prepare_conv_like(it, node, KIND_CONV);
}

tml_status tml_hybrid_depthwise_prepare(tml_interpreter *it, tml_node *node)
{
    return prepare_conv_like(it, node, KIND_DEPTHWISE);
}

tml_status tml_hybrid_fc_prepare(tml_interpreter *it, tml_node *n)
{
    tml_tensor *in = tml_node_input(it, n, 0);
    tml_tensor *w = tml_node_input(it, n, 1);
    tml_tensor *bias = tml_node_input(it, n, 2);
    tml_tensor *out = tml_node_output(it, n, 0);
    if (TML_VALIDATE && (in == NULL || w == NULL || out == NULL))
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
            "FULLY_CONNECTED needs an input, weights and an output");
    tml_status s = check_tensors(it, n, in, w, bias, out, 0);
    if (s != TML_OK)
        return s;
    if (TML_VALIDATE && (w->ndims != 2 || w->dims[1] <= 0))
        return tml_tensor_error(it, n, TML_ERROR_MODEL, "input 1", w,
                                "expected 2D weights [units, depth]");
    if (TML_VALIDATE && tml_opt_int(it, n, TML_F_FC_WEIGHTS_FORMAT, 1, 0) != 0)
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
            "weights_format: only DEFAULT is supported");
    hybrid_op *op = tml_alloc_persistent(it, sizeof *op);
    if (op == NULL)
        return TML_ERROR_ARENA;
    op->kind = KIND_FC;
    op->units = w->dims[0];
    op->depth = w->dims[1];
    op->row = op->depth;
    int32_t total = tml_num_elements(in);
    int32_t batch = total / op->depth;
    if (TML_VALIDATE && (batch * op->depth != total ||
                         tml_num_elements(out) != batch * op->units))
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
            "input 0 has %d elements and output 0 %d: expected a multiple "
            "of %d and %d per batch row", (int)total,
            (int)tml_num_elements(out), (int)op->depth, (int)op->units);
    op->g.batch = batch;
    int act = tml_opt_int(it, n, TML_F_FC_ACTIVATION, 1, TML_ACT_NONE);
    if (TML_VALIDATE && act != TML_ACT_NONE && act != TML_ACT_RELU &&
        act != TML_ACT_RELU_N1_TO_1 && act != TML_ACT_RELU6)
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
            "fused activation %d: expected none, relu, relu_n1_to_1 or "
            "relu6", act);
    tml_activation_range_f(act, &op->g.act_min, &op->g.act_max);
    s = read_scales(it, n, w, op->units, 0, op);
    if (s != TML_OK)
        return s;
    s = check_bias(it, n, bias, op->units);
    if (s != TML_OK)
        return s;
    op->asymmetric = tml_opt_int(it, n, TML_F_FC_ASYMMETRIC_INPUTS, 1, 0) != 0;
    if (op->asymmetric) {
        /* The weights are constant: their row sums are too. */
        op->row_sums = tml_alloc_persistent(it, sizeof(int32_t) *
                                                (size_t)op->units);
        if (op->row_sums == NULL)
            return TML_ERROR_ARENA;
        const int8_t *wd = w->data;
        for (int32_t u = 0; u < op->units; u++) {
            int32_t sum = 0;
            for (int32_t i = 0; i < op->depth; i++)
                sum += wd[(size_t)u * (size_t)op->depth + (size_t)i];
            op->row_sums[u] = sum;
        }
    }
    return finish(it, n, op, batch);
}

/* Quantizes every batch row of the float input into the scratch. */
static void quantize_rows(const hybrid_op *op, const float *x,
                          uint8_t *scratch)
{
    int8_t *q = (int8_t *)scratch;
    float *scales = (float *)(void *)(scratch + op->scales_at);
    int32_t *offsets = (int32_t *)(void *)(scratch + op->offsets_at);
    for (int32_t b = 0; b < op->g.batch; b++) {
        size_t at = (size_t)b * (size_t)op->row;
        if (op->asymmetric)
            tml_quantize_asymmetric(x + at, op->row, q + at, &scales[b],
                                    &offsets[b]);
        else
            tml_quantize_symmetric(x + at, op->row, q + at, &scales[b]);
    }
}

static tml_status eval_any(tml_interpreter *it, tml_node *n)
{
    const hybrid_op *op = n->user;
    const tml_tensor *in = tml_node_input(it, n, 0);
    const tml_tensor *w = tml_node_input(it, n, 1);
    const tml_tensor *bias = tml_node_input(it, n, 2);
    tml_tensor *out = tml_node_output(it, n, 0);
    uint8_t *scratch = tml_scratch(it, n);
    quantize_rows(op, in->data, scratch);
    const int8_t *q = (const int8_t *)scratch;
    const float *scales = (const float *)(const void *)(scratch +
                                                        op->scales_at);
    const int32_t *offsets = op->asymmetric ?
        (const int32_t *)(const void *)(scratch + op->offsets_at) : NULL;
    const float *b = bias ? bias->data : NULL;
    if (op->kind == KIND_CONV)
        tml_hybrid_conv(&op->g, q, scales, offsets, w->data, op->w_scales,
                        op->w_nscales, b, out->data);
    else if (op->kind == KIND_DEPTHWISE)
        tml_hybrid_depthwise(&op->g, q, scales, offsets, w->data,
                             op->w_scales, op->w_nscales, b, out->data);
    else
        tml_hybrid_fc(op->g.batch, op->depth, op->units, q, scales, offsets,
                      w->data, op->w_scales, op->w_nscales, op->row_sums, b,
                      op->g.act_min, op->g.act_max, out->data);
    return TML_OK;
}

tml_status tml_hybrid_conv_eval(tml_interpreter *it, tml_node *node)
{
    return eval_any(it, node);
}

tml_status tml_hybrid_depthwise_eval(tml_interpreter *it, tml_node *node)
{
    return eval_any(it, node);
}

tml_status tml_hybrid_fc_eval(tml_interpreter *it, tml_node *node)
{
    return eval_any(it, node);
}
