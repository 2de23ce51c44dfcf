/*
 * MEAN (TFLite Micro's reduce.cc, EvalMeanHelper): average over the axes
 * listed in a constant int32 tensor (negative counts from the end,
 * duplicates ignored), keep_dims keeps them as size 1.
 *
 * float32: each output is the float sum of its inputs in row-major input
 * order, divided by the count (reference_ops::Mean; TFLM's 4D H,W special
 * case sums in the same order and divides by the same float, so one loop
 * covers both).
 * int8: reference_ops::QuantizedMeanOrSum: int32 sums of the raw values,
 * minus zp_in * count, rescaled by in_scale / out_scale with 1/count folded
 * into the multiplier (fewer rounding steps than dividing), plus zp_out,
 * saturated.  TFLM has no separate int8 H,W path.
 */
#include <string.h>

#include "kernel.h"
#include "movement.h"
#include "quant.h"
#include "real.h"
#include "schema.h"

/* Output stride of each input axis: 0 for reduced axes, else the
 * row-major stride among the kept axes. */
static void out_strides(const tml_mean_params *p, int64_t *stride)
{
    int64_t s = 1;
    for (int d = p->rank - 1; d >= 0; d--) {
        stride[d] = p->reduce[d] ? 0 : s;
        if (!p->reduce[d])
            s *= p->dims[d];
    }
}

static int64_t in_count(const tml_mean_params *p)
{
    int64_t total = 1;
    for (int d = 0; d < p->rank; d++)
        total *= p->dims[d];
    return total;
}

/* Advances the input index (last axis fastest) and the matching output
 * offset. */
static int64_t step(const tml_mean_params *p, const int64_t *stride,
                    int32_t *idx, int64_t at)
{
    for (int d = p->rank - 1; d >= 0; d--) {
        if (++idx[d] < p->dims[d])
            return at + stride[d];
        at -= stride[d] * (p->dims[d] - 1);
        idx[d] = 0;
    }
    return at;
}

void tml_mean_f32(const tml_mean_params *p, const float *in, float *out)
{
    int64_t stride[TML_MAX_DIMS] = { 0 };
    int32_t idx[TML_MAX_DIMS] = { 0 };
    out_strides(p, stride);
    for (int32_t o = 0; o < p->out_count; o++)
        out[o] = 0.0f;
    int64_t total = in_count(p);
    int64_t at = 0;
    for (int64_t i = 0; i < total; i++) {
        out[at] += in[i];
        at = step(p, stride, idx, at);
    }
    if (p->count <= 0)
        return;
    for (int32_t o = 0; o < p->out_count; o++)
        out[o] = out[o] / (float)p->count;
}

void tml_mean_int8_rescale(int32_t multiplier, int shift, int32_t count,
                           int32_t *out_multiplier, int *out_shift)
{
    /* shift = floor(log2(count)), capped so the product stays in int64 and
     * the final shift stays >= -31 (TFLite's clamps). */
    int s = 0;
    while (s < 62 && ((int64_t)1 << (s + 1)) <= count)
        s++;
    if (s > 32)
        s = 32;
    if (s > 31 + shift)
        s = 31 + shift;
    if (s < 0)
        s = 0;   /* only for absurd scale ratios; keeps the shift defined */
    /* (multiplier << s) / count, truncating toward zero as C's division,
     * on the magnitude without a 64-bit `/` (libgcc's __aeabi_ldivmod on
     * 32-bit ARM).  2^s <= count, so the quotient's magnitude is at most
     * |multiplier|. */
    uint64_t mag = (uint64_t)(multiplier < 0 ? -(int64_t)multiplier
                                             : (int64_t)multiplier) << s;
    int64_t q = (int64_t)tml_udivmod64(mag, (uint32_t)count, NULL);
    *out_multiplier = (int32_t)(multiplier < 0 ? -q : q);
    *out_shift = shift - s;
}

void tml_mean_int8(const tml_mean_params *p, const int8_t *in, int8_t *out,
                   int32_t *acc)
{
    int64_t stride[TML_MAX_DIMS] = { 0 };
    int32_t idx[TML_MAX_DIMS] = { 0 };
    out_strides(p, stride);
    for (int32_t o = 0; o < p->out_count; o++)
        acc[o] = 0;
    int64_t total = in_count(p);
    int64_t at = 0;
    for (int64_t i = 0; i < total; i++) {
        acc[at] += in[i];
        at = step(p, stride, idx, at);
    }
    for (int32_t o = 0; o < p->out_count; o++) {
        if (total == 0 || p->count == 0) {
            out[o] = 0;   /* TFLite leaves the zeroed output */
            continue;
        }
        /* int32 wrap-around as TFLite's int32 subtraction */
        int32_t shifted = (int32_t)((uint32_t)acc[o] -
                                    (uint32_t)p->input_zp * (uint32_t)p->count);
        int32_t v = tml_mul_by_qm(shifted, p->multiplier, p->shift) +
                    p->output_zp;
        out[o] = (int8_t)tml_clamp_i32(v, -128, 127);
    }
}

static tml_status check_output(tml_interpreter *it, tml_node *n,
                               const tml_tensor *in, const tml_tensor *out,
                               const tml_mean_params *p)
{
    const int keep = tml_opt_int(it, n, TML_F_REDUCER_KEEP_DIMS, 1, 0) != 0;
    int od = 0;
    int ok = 1;
    for (int d = 0; d < in->ndims && ok; d++) {
        if (p->reduce[d] && !keep)
            continue;
        int32_t want = p->reduce[d] ? 1 : in->dims[d];
        ok = od < out->ndims && out->dims[od] == want;
        od++;
    }
    if (ok && od == out->ndims)
        return TML_OK;
    return tml_tensor_error(it, n, TML_ERROR_MODEL, "output 0", out,
                            "shape does not match the input reduced over the "
                            "axes (keep_dims %d)", keep);
}

static tml_status mean_types(tml_interpreter *it, tml_node *n,
                             const tml_tensor *in, const tml_tensor *out)
{
    if (in->type != TML_FLOAT32 && in->type != TML_INT8)
        return tml_dtype_error(it, n, "input 0", in, "float32 or int8");
    if (out->type != in->type)
        return tml_tensor_error(it, n, TML_ERROR_MODEL, "output 0", out,
                                "expected %s as the input, got %s",
                                tml_dtype_name((tml_dtype)in->type),
                                tml_dtype_name((tml_dtype)out->type));
    if (in->type == TML_INT8 && (in->scale <= 0.0f || out->scale <= 0.0f))
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
            "int8 input and output need a positive scale, got %s tensor %d",
            in->scale <= 0.0f ? "input" : "output",
            (int)tml_tensor_index(it, in->scale <= 0.0f ? in : out));
    return TML_OK;
}

static tml_status mean_prepare(tml_interpreter *it, tml_node *n)
{
    tml_tensor *in = tml_node_input(it, n, 0);
    tml_tensor *axes = tml_node_input(it, n, 1);
    tml_tensor *out = tml_node_output(it, n, 0);
    if (TML_VALIDATE && (in == NULL || axes == NULL || out == NULL ||
                         n->ninputs != 2 || n->noutputs != 1))
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
            "expected 2 inputs and 1 output, got %d and %d",
            (int)n->ninputs, (int)n->noutputs);
    tml_status s;
    if (TML_VALIDATE && (s = mean_types(it, n, in, out)) != TML_OK)
        return s;
    if (TML_VALIDATE && !(axes->flags & TML_TENSOR_CONST))
        return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "input 1 (axis)",
                                axes,
                                "expected a constant tensor, got one "
                                "computed at run time");
    if (TML_VALIDATE && (axes->type != TML_INT32 || axes->ndims > 1))
        return tml_tensor_error(it, n, TML_ERROR_MODEL, "input 1 (axis)", axes,
                                "expected an int32 vector");
    tml_mean_params *p = tml_alloc_persistent(it, sizeof *p);
    if (p == NULL)
        return TML_ERROR_ARENA;
    p->rank = in->ndims;
    for (int d = 0; d < in->ndims; d++)
        p->dims[d] = in->dims[d];
    const int32_t *ax = axes->data;
    int32_t nax = tml_num_elements(axes);
    for (int32_t i = 0; i < nax; i++) {
        int32_t a = ax[i] < 0 ? ax[i] + p->rank : ax[i];
        if (TML_VALIDATE && (a < 0 || a >= p->rank))
            return tml_tensor_error(it, n, TML_ERROR_MODEL, "input 1 (axis)",
                                    axes, "axis %d is out of range for rank %d",
                                    (int)ax[i], (int)p->rank);
        p->reduce[a] = 1;
    }
    p->count = 1;
    for (int d = 0; d < p->rank; d++) {
        if (p->reduce[d])
            p->count *= p->dims[d];
    }
    p->out_count = tml_num_elements(out);
    if (TML_VALIDATE && (s = check_output(it, n, in, out, p)) != TML_OK)
        return s;
    if (in->type == TML_INT8) {
        int32_t m;
        int sh;
        /* reduce_common.cc: (double)in_scale / (double)out_scale. */
        tml_quantize_multiplier_real(tml_real_div(tml_real_from_float(in->scale),
                                                  tml_real_from_float(out->scale)),
                                     &m, &sh);
        p->input_zp = in->zero_point;
        p->output_zp = out->zero_point;
        p->multiplier = m;
        p->shift = sh;
        if (p->count > 0)
            tml_mean_int8_rescale(m, sh, p->count, &p->multiplier, &p->shift);
        s = tml_request_scratch(it, n,
                                sizeof(int32_t) * (size_t)p->out_count);
        if (s != TML_OK)
            return s;
    }
    n->user = p;
    return TML_OK;
}

static tml_status mean_eval(tml_interpreter *it, tml_node *n)
{
    const tml_tensor *in = tml_node_input(it, n, 0);
    tml_tensor *out = tml_node_output(it, n, 0);
    const tml_mean_params *p = n->user;
    if (in->type == TML_FLOAT32)
        tml_mean_f32(p, in->data, out->data);
    else
        tml_mean_int8(p, in->data, out->data, tml_scratch(it, n));
    return TML_OK;
}

/* Version 1 float32, 2 int8/uint8 (3 is int16, not run). */
const tml_kernel tml_kernel_mean = { 40, 1, 2, mean_prepare, mean_eval };
