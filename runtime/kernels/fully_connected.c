/*
 * FULLY_CONNECTED (int8 per-tensor and per-channel, float32).  Semantics:
 * TFLite Micro fully_connected.cc / fully_connected_common.cc with
 * reference_integer_ops::FullyConnected / FullyConnectedPerChannel and
 * reference_ops::FullyConnected; see conv_common.h.  Hybrid models
 * (float32 input, int8 weights) go to hybrid.c.
 *
 * The input is read as [batches, accum_depth] whatever its rank, the
 * output as [batches, out_depth] (keep_num_dims only changes the output
 * shape the model stores).
 */
#include "conv_common.h"

#include "hybrid.h"
#include "quant.h"
#include "schema.h"

void tml_fc_int8(const tml_fc_params *p, const int8_t *x, const int8_t *w,
                 const int32_t *bias, int8_t *y)
{
    /* Locals: the int8 stores may alias anything behind p. */
    const int32_t depth = p->accum_depth, outs = p->out_depth;
    const int32_t in_off = p->input_offset, out_off = p->output_offset;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t *mult = p->out_mult;
    const int8_t *shift = p->out_shift;
    const int32_t step = p->per_channel ? 1 : 0;
    for (int32_t b = 0; b < p->batches; b++) {
        const int8_t *xb = x + (size_t)b * depth;
        for (int32_t oc = 0; oc < outs; oc++) {
            int32_t acc = tml_dot_off_i8(w + (size_t)oc * depth, xb, depth,
                                         in_off);
            if (bias)
                acc = tml_add_wrap(acc, bias[oc]);
            const int32_t q = oc * step;
            acc = tml_mul_by_qm_inl(acc, mult[q], shift[q]);
            *y++ = (int8_t)tml_clamp_i32(tml_add_wrap(acc, out_off), lo, hi);
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
            *y++ = tml_clamp_f(v, p->fact_min, p->fact_max);
        }
    }
}

/* ------------------------------------------------------------ prepare */

static tml_status read_options(tml_interpreter *it, tml_node *n,
                               int32_t *activation)
{
    if (n->options && n->options_type != TML_OPT_FULLY_CONNECTED)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "builtin options type %d, expected %d",
                                (int)n->options_type, TML_OPT_FULLY_CONNECTED);
    const int32_t format = tml_opt_int(it, n, TML_F_FC_WEIGHTS_FORMAT, 1, 0);
    if (format != 0)
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
                                "weights_format %d not supported (DEFAULT only)",
                                (int)format);
    *activation = tml_opt_int(it, n, TML_F_FC_ACTIVATION, 1, TML_ACT_NONE);
    /* TFLite Micro treats TANH / SIGN_BIT as no clamp; refuse them. */
    if (*activation < TML_ACT_NONE || *activation > TML_ACT_RELU6)
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
                                "fused activation %d not supported "
                                "(NONE, RELU, RELU_N1_TO_1, RELU6)",
                                (int)*activation);
    return TML_OK;
}

/* [batches, accum_depth] x [out_depth, accum_depth] -> [batches, out_depth] */
static tml_status check_shapes(tml_interpreter *it, tml_node *n,
                               const tml_tensor *in, const tml_tensor *w,
                               const tml_tensor *bias, const tml_tensor *out,
                               tml_fc_params *p)
{
    if (w->ndims != 2)
        return tml_shape_error(it, n, "input 1", w, "rank", 2, w->ndims);
    if (out->ndims < 1)
        return tml_shape_error(it, n, "output 0", out, "rank >=", 1,
                               out->ndims);
    p->out_depth = w->dims[0];
    p->accum_depth = w->dims[1];
    const int32_t units = out->dims[out->ndims - 1];
    if (units != p->out_depth)
        return tml_shape_error(it, n, "output 0", out, "last dim", p->out_depth,
                               units);
    if (p->accum_depth <= 0 || p->out_depth <= 0)
        return tml_shape_error(it, n, "input 1", w, "dims >", 0,
                               p->accum_depth < p->out_depth ? p->accum_depth
                                                             : p->out_depth);
    if (w->type == TML_INT8 && p->accum_depth > TML_MAX_ACCUM_DEPTH)
        return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "weights", w,
                                "%d products per output, at most %d",
                                (int)p->accum_depth, TML_MAX_ACCUM_DEPTH);
    p->batches = tml_num_elements(out) / p->out_depth;
    const int32_t in_elems = tml_num_elements(in);
    const int64_t want = (int64_t)p->batches * p->accum_depth;
    if (want != in_elems)
        return tml_shape_error(it, n, "input 0", in,
                               "elements (batches * depth)",
                               want > INT32_MAX ? INT32_MAX : (int32_t)want,
                               in_elems);
    if (bias && tml_num_elements(bias) != p->out_depth)
        return tml_shape_error(it, n, "input 2", bias, "elements", p->out_depth,
                               tml_num_elements(bias));
    return TML_OK;
}

/* Multipliers as CalculateOpDataFullyConnected: per-channel
 * (double)in * (double)filter[c] / out; per-tensor goes through
 * GetQuantizedConvolutionMultipler, which multiplies the input and filter
 * scales in float first. */
static tml_status quant_params(tml_interpreter *it, tml_node *n,
                               const tml_tensor *in, const tml_tensor *w,
                               const tml_tensor *bias, const tml_tensor *out,
                               int32_t activation, tml_fc_params *p)
{
    tml_quant q;
    tml_tensor_quant(it, w, &q);
    if (!(in->scale > 0.0f) || !(out->scale > 0.0f) || !q.scales)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "int8 input, weights and output need scales");
    tml_status st = tml_conv_check_weight_zero_points(it, n, w, &q);
    if (st != TML_OK)
        return st;
    p->per_channel = q.count > 1;
    if (p->per_channel && (q.count != p->out_depth || q.dim != 0))
        return tml_shape_error(it, n, "input 1", w,
                               "per-channel scales on dim 0", p->out_depth,
                               q.count);
    const int32_t count = p->per_channel ? p->out_depth : 1;
    int32_t *mult = tml_alloc_persistent(it, (size_t)count * 5);
    if (!mult)
        return TML_ERROR_ARENA;
    int8_t *shift = (int8_t *)(mult + count);
    if (p->per_channel) {
        tml_conv_multipliers(in->scale, q.scales, q.count, out->scale, count,
                             mult, shift);
    } else {
        const double product = (double)(in->scale * q.scales[0]);
        if (bias) {
            /* GetQuantizedConvolutionMultipler: the bias scale must be
             * input scale * filter scale to 2% of an output step. */
            const double diff = product - (double)bias->scale;
            const double rel = (diff < 0 ? -diff : diff) / (double)out->scale;
            if (!(rel <= 0.02))
                return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                        "bias scale does not match input "
                                        "scale * weight scale");
        }
        int s;
        tml_quantize_multiplier(product / (double)out->scale, &mult[0], &s);
        shift[0] = (int8_t)s;
    }
    for (int32_t c = 0; c < count; c++) {
        if (shift[c] > 30)
            return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
                                    "channel %d: output multiplier too large",
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

static tml_status fc_prepare(tml_interpreter *it, tml_node *n)
{
    if (n->ninputs < 2 || n->ninputs > 3 || n->noutputs != 1)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "expected 2 or 3 inputs and 1 output, got %d "
                                "and %d", (int)n->ninputs, (int)n->noutputs);
    tml_tensor *in = tml_node_input(it, n, 0);
    tml_tensor *w = tml_node_input(it, n, 1);
    tml_tensor *bias = tml_node_input(it, n, 2);
    tml_tensor *out = tml_node_output(it, n, 0);
    if (!in || !w)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "input and weights are required");
#ifdef TML_NO_HYBRID
    /* Deployment build without hybrid.c (tinyml export, no hybrid op). */
    if (in->type == TML_FLOAT32 && w->type == TML_INT8)
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
                                "hybrid (float32 input, int8 weights) "
                                "kernels are not built in (TML_NO_HYBRID)");
#else
    if (in->type == TML_FLOAT32 && w->type == TML_INT8)
        return tml_hybrid_fc_prepare(it, n);
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
    if (w->type != in->type)
        return tml_dtype_error(it, n, "input 1", w, want);
    if (out->type != in->type)
        return tml_dtype_error(it, n, "output 0", out, want);
    if (bias && bias->type != (quantized ? TML_INT32 : TML_FLOAT32))
        return tml_dtype_error(it, n, "input 2", bias,
                               quantized ? "int32" : "float32");

    int32_t activation = TML_ACT_NONE;
    tml_status st = read_options(it, n, &activation);
    if (st != TML_OK)
        return st;
    tml_fc_params *p = tml_alloc_persistent(it, sizeof *p);
    if (!p)
        return TML_ERROR_ARENA;
    st = check_shapes(it, n, in, w, bias, out, p);
    if (st != TML_OK)
        return st;
    tml_activation_range_f(activation, &p->fact_min, &p->fact_max);
    if (quantized) {
        st = quant_params(it, n, in, w, bias, out, activation, p);
        if (st != TML_OK)
            return st;
    }
    n->user = p;
    return TML_OK;
}

static tml_status fc_eval(tml_interpreter *it, tml_node *n)
{
    const tml_tensor *in = tml_node_input(it, n, 0);
    const tml_tensor *w = tml_node_input(it, n, 1);
    const tml_tensor *bias = tml_node_input(it, n, 2);
    tml_tensor *out = tml_node_output(it, n, 0);
#ifndef TML_NO_HYBRID
    if (in->type == TML_FLOAT32 && w->type == TML_INT8)
        return tml_hybrid_fc_eval(it, n);
#endif
    const tml_fc_params *p = n->user;
#ifndef TML_NO_FLOAT_KERNELS
    if (in->type == TML_FLOAT32) {
        tml_fc_f32(p, in->data, w->data, bias ? bias->data : NULL, out->data);
        return TML_OK;
    }
#endif
    tml_fc_int8(p, in->data, w->data, bias ? bias->data : NULL, out->data);
    return TML_OK;
}

/* Versions (TFLite op_version.cc): 1 float, 3 hybrid, 4 int8,
 * 5 keep_num_dims, 6 no bias, 9 hybrid asymmetric, 12 hybrid per-channel.
 * 2 (shuffled weights), 7 / 11 (int16), 8 (sparse) and 10 (int4) fail in
 * prepare or in the model check. */
const tml_kernel tml_kernel_fully_connected = { 9, 1, 12, fc_prepare, fc_eval };
