/*
 * FULLY_CONNECTED (int8 per-tensor and per-channel, float32).  Semantics:
 * TFLite Micro fully_connected.cc / fully_connected_common.cc with
 * reference_integer_ops::FullyConnected / FullyConnectedPerChannel and
 * reference_ops::FullyConnected; see conv_common.h.  Prepare is
 * conv_common.c's; hybrid models (float32 input, int8 weights) go to
 * hybrid.c.
 *
 * The input is read as [batches, accum_depth] whatever its rank, the
 * output as [batches, out_depth] (keep_num_dims only changes the output
 * shape the model stores).
 */
#include "conv_common.h"

#include "hybrid.h"
#include "quant.h"

void tml_fc_int8(const tml_fc_params *p, const int8_t *x, const int8_t *w,
                 const int32_t *bias, int8_t *y)
{
    /* Locals: the int8 stores may alias anything behind p. */
    const int32_t depth = p->accum_depth, outs = p->out_depth;
    const int32_t in_off = p->q.input_offset, out_off = p->q.output_offset;
    const int32_t lo = p->q.clamp.act_min, hi = p->q.clamp.act_max;
    const int32_t *mult = p->q.out_mult;
    const int8_t *shift = p->q.out_shift;
    const int32_t step = p->per_channel ? 1 : 0;
    for (int32_t b = 0; b < p->batches; b++) {
        const int8_t *xb = x + (size_t)b * depth;
        for (int32_t oc = 0; oc < outs; oc++) {
            int32_t acc = tml_dot_off_i8(w + (size_t)oc * depth, xb, depth,
                                         in_off);
            if (bias)
                acc = tml_add_wrap(acc, bias[oc]);
            const int32_t q = oc * step;
            *y++ = tml_requant1(acc, mult[q], shift[q], out_off, lo, hi);
        }
    }
}

/* Dot product in 8 interleaved partial sums, added up pairwise at the end.
 * The order is fixed by this code, so every target gives the same bits;
 * compilers turn the lanes into SIMD.  It differs from TFLite's strictly
 * sequential sum only by float rounding (float results are held to 1e-5
 * relative, not bit-exactness). */
static float dot_lanes_f32(const float *w, const float *x, int32_t n)
{
    float lane[8] = { 0, 0, 0, 0, 0, 0, 0, 0 };
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int j = 0; j < 8; j++)
            lane[j] += w[i + j] * x[i + j];
    }
    for (int j = 0; i < n; i++, j++)
        lane[j] += w[i] * x[i];
    return ((lane[0] + lane[4]) + (lane[1] + lane[5])) +
           ((lane[2] + lane[6]) + (lane[3] + lane[7]));
}

void tml_fc_f32(const tml_fc_params *p, const float *x, const float *w,
                const float *bias, float *y)
{
    const int32_t depth = p->accum_depth;
    for (int32_t b = 0; b < p->batches; b++) {
        const float *xb = x + (size_t)b * depth;
        for (int32_t oc = 0; oc < p->out_depth; oc++) {
            const float v = dot_lanes_f32(w + (size_t)oc * depth, xb, depth) +
                            (bias ? bias[oc] : 0.0f);
            *y++ = tml_clamp_f(v, p->q.clamp.fact_min, p->q.clamp.fact_max);
        }
    }
}

/* ------------------------------------------------------ registration */

/* [batches, depth] x [channels, depth] -> [batches, channels]; the input
 * is read as [batches, depth] whatever its rank. */
static tml_status fc_shapes(tml_interpreter *it, tml_node *n, tml_wop *g)
{
    const tml_tensor *in = g->t[0], *w = g->t[1], *out = g->t[3];
    if (TML_VALIDATE && w->ndims != 2)
        return tml_shape_error(it, n, "input 1", w, "rank", 2, w->ndims);
    if (TML_VALIDATE && out->ndims < 1)
        return tml_shape_error(it, n, "output 0", out, "rank >=", 1,
                               out->ndims);
    g->channels = w->dims[0];
    g->depth = w->dims[1];
    if (TML_VALIDATE && (g->channels <= 0 || g->depth <= 0))
        return tml_shape_error(it, n, "input 1", w, "dims >", 0,
                               g->depth < g->channels ? g->depth
                                                      : g->channels);
    const int32_t units = out->dims[out->ndims - 1];
    if (TML_VALIDATE && units != g->channels)
        return tml_shape_error(it, n, "output 0", out, "last dim",
                               g->channels, units);
    g->batches = tml_num_elements(out) / g->channels;
    const int32_t in_elems = tml_num_elements(in);
    const int64_t want = (int64_t)g->batches * g->depth;
    if (TML_VALIDATE && want != in_elems)
        return tml_shape_error(it, n, "input 0", in,
                               "elements (batches * depth)",
                               want > INT32_MAX ? INT32_MAX : (int32_t)want,
                               in_elems);
    return TML_OK;
}

static tml_status fc_prepare(tml_interpreter *it, tml_node *n)
{
#ifndef TML_NO_HYBRID
    if (tml_wop_hybrid(it, n))
        return tml_hybrid_fc_prepare(it, n);
#endif
    tml_wop w;
    void *mem = NULL;
    tml_status st = tml_wop_begin(it, n, TML_WOP_FC, &w);
    if (st == TML_OK)
        st = fc_shapes(it, n, &w);
    if (st == TML_OK)
        st = tml_wop_weights(it, n, &w, sizeof(tml_fc_params), &mem);
    if (st != TML_OK)
        return st;
    tml_fc_params *p = mem;
    p->batches = w.batches;
    p->accum_depth = w.depth;
    p->out_depth = w.channels;
    p->per_channel = w.nmult > 1;
    n->user = p;
    return TML_OK;
}

static tml_status fc_eval(tml_interpreter *it, tml_node *n)
{
    tml_tensor *t[4];
    tml_wop_tensors(it, n, t);
#ifndef TML_NO_HYBRID
    if (t[0]->type == TML_FLOAT32 && t[1]->type == TML_INT8)
        return tml_hybrid_fc_eval(it, n);
#endif
    const tml_fc_params *p = n->user;
    const void *bias = t[2] ? t[2]->data : NULL;
#ifndef TML_NO_FLOAT_KERNELS
    if (t[0]->type == TML_FLOAT32) {
        tml_fc_f32(p, t[0]->data, t[1]->data, bias, t[3]->data);
        return TML_OK;
    }
#endif
    tml_fc_int8(p, t[0]->data, t[1]->data, bias, t[3]->data);
    return TML_OK;
}

/* Versions (TFLite op_version.cc): 1 float, 3 hybrid, 4 int8,
 * 5 keep_num_dims, 6 no bias, 9 hybrid asymmetric, 12 hybrid per-channel.
 * 2 (shuffled weights), 7 / 11 (int16), 8 (sparse) and 10 (int4) fail in
 * prepare or in the model check. */
const tml_kernel tml_kernel_fully_connected = { 9, 1, 12, fc_prepare, fc_eval };
