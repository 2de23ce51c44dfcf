/*
 * AVERAGE_POOL_2D and MAX_POOL_2D (see pooling.h).
 *
 * TFLite Micro semantics: the window is clipped to the input (padding
 * cells are not counted), the int8 average rounds half away from zero with
 * C's truncating division, and the fused activation clamps the result.
 * Versions: 1 float32, 2 int8 (TFLite op_version.cc); int16 (v3) is not
 * supported.
 */
#include "pooling.h"

#include "kernel.h"
#include "quant.h"
#include "schema.h"

int32_t tml_pool_out_size(int padding, int32_t in, int32_t filter,
                          int32_t stride, int32_t *pad)
{
    if (stride <= 0 || filter <= 0 || in < 0)
        return -1;
    int64_t out;
    if (padding == TML_PAD_SAME)
        out = ((int64_t)in + stride - 1) / stride;
    else if (padding == TML_PAD_VALID)
        out = ((int64_t)in + stride - filter) / stride;
    else
        return -1;
    if (out < 0)
        out = 0;
    int64_t total = (out - 1) * stride + filter - in;
    *pad = (int32_t)(total > 0 ? total / 2 : 0);
    return (int32_t)out;
}

/* The input window of one output position, clipped to the input. */
typedef struct pool_window {
    int32_t y0, y1, x0, x1;        /* input rows [y0, y1), columns [x0, x1) */
} pool_window;

static pool_window window_at(const tml_pool_params *p, int32_t oy, int32_t ox)
{
    pool_window w;
    int32_t iy = oy * p->stride_h - p->pad_h;
    int32_t ix = ox * p->stride_w - p->pad_w;
    int32_t fy1 = p->filter_h < p->in_h - iy ? p->filter_h : p->in_h - iy;
    int32_t fx1 = p->filter_w < p->in_w - ix ? p->filter_w : p->in_w - ix;
    w.y0 = iy + (iy < 0 ? -iy : 0);
    w.x0 = ix + (ix < 0 ? -ix : 0);
    w.y1 = iy + fy1;
    w.x1 = ix + fx1;
    return w;
}

void tml_avg_pool_int8(const tml_pool_params *p, const int8_t *in, int8_t *out)
{
    /* Locals: int8 stores may alias *p and would force reloads. */
    const int32_t depth = p->depth, lo = p->act_min, hi = p->act_max;
    const int32_t row = p->in_w * depth;
    for (int32_t b = 0; b < p->batches; b++) {
        const int8_t *img = in + (size_t)b * p->in_h * row;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                pool_window w = window_at(p, oy, ox);
                int32_t count = (w.y1 - w.y0) * (w.x1 - w.x0);
                int32_t half = count / 2;
                if (count <= 0)   /* impossible for a checked shape */
                    count = 1;
                const int8_t *base = img + (size_t)w.y0 * row + (size_t)w.x0 * depth;
                for (int32_t c = 0; c < depth; c++) {
                    int32_t acc = 0;
                    const int8_t *r = base + c;
                    for (int32_t y = w.y0; y < w.y1; y++, r += row) {
                        const int8_t *q = r;
                        for (int32_t x = w.x0; x < w.x1; x++, q += depth)
                            acc += *q;
                    }
                    /* TFLite: round half away from zero, then truncate. */
                    acc = acc > 0 ? (acc + half) / count : (acc - half) / count;
                    *out++ = (int8_t)tml_clamp_i32(acc, lo, hi);
                }
            }
        }
    }
}

void tml_avg_pool_f32(const tml_pool_params *p, const float *in, float *out)
{
    const int32_t depth = p->depth;
    const float lo = p->act_min_f, hi = p->act_max_f;
    const int32_t row = p->in_w * depth;
    for (int32_t b = 0; b < p->batches; b++) {
        const float *img = in + (size_t)b * p->in_h * row;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                pool_window w = window_at(p, oy, ox);
                float count = (float)((w.y1 - w.y0) * (w.x1 - w.x0));
                const float *base = img + (size_t)w.y0 * row + (size_t)w.x0 * depth;
                for (int32_t c = 0; c < depth; c++) {
                    /* Same summation order as TFLite: rows, then columns. */
                    float total = 0.0f;
                    const float *r = base + c;
                    for (int32_t y = w.y0; y < w.y1; y++, r += row) {
                        const float *q = r;
                        for (int32_t x = w.x0; x < w.x1; x++, q += depth)
                            total += *q;
                    }
                    *out++ = tml_clamp_f(total / count, lo, hi);
                }
            }
        }
    }
}

void tml_max_pool_int8(const tml_pool_params *p, const int8_t *in, int8_t *out)
{
    /* Locals: int8 stores may alias *p and would force reloads. */
    const int32_t depth = p->depth, lo = p->act_min, hi = p->act_max;
    const int32_t row = p->in_w * depth;
    for (int32_t b = 0; b < p->batches; b++) {
        const int8_t *img = in + (size_t)b * p->in_h * row;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                pool_window w = window_at(p, oy, ox);
                const int8_t *base = img + (size_t)w.y0 * row + (size_t)w.x0 * depth;
                for (int32_t c = 0; c < depth; c++) {
                    int32_t m = -128;
                    const int8_t *r = base + c;
                    for (int32_t y = w.y0; y < w.y1; y++, r += row) {
                        const int8_t *q = r;
                        for (int32_t x = w.x0; x < w.x1; x++, q += depth)
                            m = *q > m ? *q : m;
                    }
                    *out++ = (int8_t)tml_clamp_i32(m, lo, hi);
                }
            }
        }
    }
}

void tml_max_pool_f32(const tml_pool_params *p, const float *in, float *out)
{
    const int32_t depth = p->depth;
    const float lo = p->act_min_f, hi = p->act_max_f;
    const int32_t row = p->in_w * depth;
    for (int32_t b = 0; b < p->batches; b++) {
        const float *img = in + (size_t)b * p->in_h * row;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                pool_window w = window_at(p, oy, ox);
                const float *base = img + (size_t)w.y0 * row + (size_t)w.x0 * depth;
                for (int32_t c = 0; c < depth; c++) {
                    float m = -3.4028234663852886e38f;   /* lowest() */
                    const float *r = base + c;
                    for (int32_t y = w.y0; y < w.y1; y++, r += row) {
                        const float *q = r;
                        /* std::max(m, v): v only when m < v (NaN kept out). */
                        for (int32_t x = w.x0; x < w.x1; x++, q += depth)
                            m = m < *q ? *q : m;
                    }
                    *out++ = tml_clamp_f(m, lo, hi);
                }
            }
        }
    }
}

/* ---------------------------------------------------------- registration */

static tml_status pool_prepare(tml_interpreter *it, tml_node *n)
{
    tml_tensor *in = tml_node_input(it, n, 0);
    tml_tensor *out = tml_node_output(it, n, 0);
    if (!in || !out || n->ninputs != 1 || n->noutputs != 1)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "expected 1 input and 1 output, got %d and %d",
                                (int)n->ninputs, (int)n->noutputs);
    if (in->type != TML_INT8 && in->type != TML_FLOAT32)
        return tml_dtype_error(it, n, "input 0", in, "int8 or float32");
#ifdef TML_NO_FLOAT_KERNELS
    /* Deployment build for int8 models (tinyml export): no float32 path. */
    if (in->type == TML_FLOAT32)
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
                                "float32 kernels are not built in "
                                "(TML_NO_FLOAT_KERNELS)");
#endif
    if (out->type != in->type)
        return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "output 0", out,
                                "expected %s like the input, got %s",
                                tml_dtype_name((tml_dtype)in->type),
                                tml_dtype_name((tml_dtype)out->type));
    if (in->ndims != 4 || out->ndims != 4)
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
                                "expected 4-D NHWC input and output, got %d-D and %d-D",
                                (int)in->ndims, (int)out->ndims);
    if (n->options_type != TML_OPT_POOL_2D)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "expected Pool2DOptions, got options type %d",
                                (int)n->options_type);

    int padding = tml_opt_int(it, n, TML_F_POOL_PADDING, 1, TML_PAD_SAME);
    int32_t stride_w = tml_opt_int(it, n, TML_F_POOL_STRIDE_W, 4, 0);
    int32_t stride_h = tml_opt_int(it, n, TML_F_POOL_STRIDE_H, 4, 0);
    int32_t filter_w = tml_opt_int(it, n, TML_F_POOL_FILTER_W, 4, 0);
    int32_t filter_h = tml_opt_int(it, n, TML_F_POOL_FILTER_H, 4, 0);
    int activation = tml_opt_int(it, n, TML_F_POOL_ACTIVATION, 1, TML_ACT_NONE);
    if (padding != TML_PAD_SAME && padding != TML_PAD_VALID)
        return tml_kernel_error(it, n, TML_ERROR_MODEL, "unknown padding %d", padding);
    if (stride_w <= 0 || stride_h <= 0 || filter_w <= 0 || filter_h <= 0)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "stride %dx%d and filter %dx%d must be positive",
                                (int)stride_h, (int)stride_w, (int)filter_h, (int)filter_w);
    if (activation != TML_ACT_NONE && activation != TML_ACT_RELU &&
        activation != TML_ACT_RELU6 && activation != TML_ACT_RELU_N1_TO_1)
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
                                "fused activation %d is not supported", activation);

    tml_pool_params *p = tml_alloc_persistent(it, sizeof *p);
    if (!p)
        return TML_ERROR_ARENA;
    p->batches = tml_dim(in, 0);
    p->in_h = tml_dim(in, 1);
    p->in_w = tml_dim(in, 2);
    p->depth = tml_dim(in, 3);
    p->stride_h = stride_h;
    p->stride_w = stride_w;
    p->filter_h = filter_h;
    p->filter_w = filter_w;
    p->out_h = tml_pool_out_size(padding, p->in_h, filter_h, stride_h, &p->pad_h);
    p->out_w = tml_pool_out_size(padding, p->in_w, filter_w, stride_w, &p->pad_w);
    if (tml_dim(out, 0) != p->batches || tml_dim(out, 1) != p->out_h ||
        tml_dim(out, 2) != p->out_w || tml_dim(out, 3) != p->depth)
        return tml_tensor_error(it, n, TML_ERROR_MODEL, "output 0", out,
                                "expected shape [%d,%d,%d,%d], got "
                                "[%d,%d,%d,%d]", (int)p->batches, (int)p->out_h,
                                (int)p->out_w, (int)p->depth,
                                (int)tml_dim(out, 0), (int)tml_dim(out, 1),
                                (int)tml_dim(out, 2), (int)tml_dim(out, 3));
    if (p->out_h <= 0 || p->out_w <= 0)
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
                                "empty output %dx%d", (int)p->out_h, (int)p->out_w);

    if (in->type == TML_INT8) {
        /* TFLite Micro: pooling keeps the quantization of its input. */
        /* |scale difference| in float, compared in double, as TFLite. */
        float ds = in->scale - out->scale;
        double diff = (double)(ds < 0.0f ? -ds : ds);
        if (diff > 1.0e-6 || in->zero_point != out->zero_point)
            return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "output 0",
                                    out,
                                    "expected the input's quantization, got "
                                    "a different scale or zero point");
        tml_activation_range_q(activation, out->scale, out->zero_point, -128, 127,
                               &p->act_min, &p->act_max);
    } else {
        tml_activation_range_f(activation, &p->act_min_f, &p->act_max_f);
    }
    n->user = p;
    return TML_OK;
}

static tml_status avg_eval(tml_interpreter *it, tml_node *n)
{
    const tml_tensor *in = tml_node_input(it, n, 0);
    tml_tensor *out = tml_node_output(it, n, 0);
#ifndef TML_NO_FLOAT_KERNELS
    if (in->type == TML_FLOAT32) {
        tml_avg_pool_f32(n->user, in->data, out->data);
        return TML_OK;
    }
#endif
    tml_avg_pool_int8(n->user, in->data, out->data);
    return TML_OK;
}

static tml_status max_eval(tml_interpreter *it, tml_node *n)
{
    const tml_tensor *in = tml_node_input(it, n, 0);
    tml_tensor *out = tml_node_output(it, n, 0);
#ifndef TML_NO_FLOAT_KERNELS
    if (in->type == TML_FLOAT32) {
        tml_max_pool_f32(n->user, in->data, out->data);
        return TML_OK;
    }
#endif
    tml_max_pool_int8(n->user, in->data, out->data);
    return TML_OK;
}

const tml_kernel tml_kernel_average_pool_2d = { 1, 1, 2, pool_prepare, avg_eval };
const tml_kernel tml_kernel_max_pool_2d = { 17, 1, 2, pool_prepare, max_eval };
