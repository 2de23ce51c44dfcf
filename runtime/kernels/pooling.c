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

#include "conv_common.h"
#include "kernel.h"
#include "quant.h"

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
    const int32_t depth = p->depth, lo = p->q.act_min, hi = p->q.act_max;
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
    const float lo = p->q.fact_min, hi = p->q.fact_max;
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
    const int32_t depth = p->depth, lo = p->q.act_min, hi = p->q.act_max;
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
    const float lo = p->q.fact_min, hi = p->q.fact_max;
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
    tml_wop w;
    void *mem = NULL;
    tml_status st = tml_wop_begin(it, n, TML_WOP_POOL, &w);
    if (st == TML_OK)
        st = tml_wop_window(it, n, &w);
    if (st == TML_OK)
        st = tml_wop_pool_stage(it, n, &w, sizeof(tml_pool_params), &mem);
    if (st != TML_OK)
        return st;
    const tml_tensor *in = w.t[0];
    tml_pool_params *p = mem;
    p->batches = in->dims[0];
    p->in_h = in->dims[1];
    p->in_w = in->dims[2];
    p->depth = in->dims[3];
    p->out_h = w.out_h;
    p->out_w = w.out_w;
    p->stride_h = w.o[TML_WO_STRIDE_H];
    p->stride_w = w.o[TML_WO_STRIDE_W];
    p->filter_h = w.o[TML_WO_FILTER_H];
    p->filter_w = w.o[TML_WO_FILTER_W];
    p->pad_h = w.pad_h;
    p->pad_w = w.pad_w;
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
