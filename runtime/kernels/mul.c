/*
 * MUL (see mul.h).  Versions (TFLite op_version.cc): 1 float32, 2 int8,
 * 3 int8 whose rescale multiplier is >= 1.  int16 / int32 are not
 * supported.
 */
#include "mul.h"

#include "kernel.h"
#include "quant.h"
#include "real.h"
#include "schema.h"

void tml_mul_quantize(tml_mul_params *p, float scale1, int32_t zp1, float scale2,
                      int32_t zp2, float scale_out, int32_t zp_out)
{
    /* mul_common.cc: (double)s1 * (double)s2 / (double)s_out, here in exact
     * integer double arithmetic; QuantizeMultiplier allows shift > 0. */
    int shift;
    tml_quantize_ratio(scale1, scale2, scale_out, &p->output_multiplier, &shift);
    p->output_shift = shift;
    p->input1_offset = -zp1;
    p->input2_offset = -zp2;
    p->output_offset = zp_out;
}

static void run_int8(const tml_mul_params *p, int32_t n, const int8_t *in1,
                     int32_t s1, const int8_t *in2, int32_t s2, int8_t *out)
{
    /* Locals: int8 stores may alias *p and would force reloads. */
    const int32_t off1 = p->input1_offset, off2 = p->input2_offset;
    const int32_t m = p->output_multiplier, sh = p->output_shift;
    const int32_t zo = p->output_offset, lo = p->act_min, hi = p->act_max;
    for (int32_t i = 0; i < n; i++) {
        int32_t prod = (in1[i * s1] + off1) * (in2[i * s2] + off2);
        int32_t v = tml_mul_by_qm_inl(prod, m, sh) + zo;
        out[i] = (int8_t)tml_clamp_i32(v, lo, hi);
    }
}

static void run_f32(const tml_mul_params *p, int32_t n, const float *in1,
                    int32_t s1, const float *in2, int32_t s2, float *out)
{
    const float lo = p->act_min_f, hi = p->act_max_f;
    for (int32_t i = 0; i < n; i++)
        out[i] = tml_clamp_f(in1[i * s1] * in2[i * s2], lo, hi);
}

static void run_int8_cb(const void *ctx, int32_t n, const void *in1, int32_t s1,
                        const void *in2, int32_t s2, void *out)
{
    run_int8(ctx, n, in1, s1, in2, s2, out);
}

static void run_f32_cb(const void *ctx, int32_t n, const void *in1, int32_t s1,
                       const void *in2, int32_t s2, void *out)
{
    run_f32(ctx, n, in1, s1, in2, s2, out);
}

void tml_mul_int8(const tml_mul_params *p, const tml_bcast *b, int32_t n,
                  const int8_t *in1, const int8_t *in2, int8_t *out)
{
    if (!b)
        run_int8(p, n, in1, 1, in2, 1, out);
    else
        tml_bcast_walk(b, 1, p, in1, in2, out, run_int8_cb);
}

void tml_mul_f32(const tml_mul_params *p, const tml_bcast *b, int32_t n,
                 const float *in1, const float *in2, float *out)
{
    if (!b)
        run_f32(p, n, in1, 1, in2, 1, out);
    else
        tml_bcast_walk(b, sizeof(float), p, in1, in2, out, run_f32_cb);
}

/* ---------------------------------------------------------- registration */

typedef struct mul_data {
    tml_mul_params p;
    tml_bcast *bcast;   /* NULL for equal input shapes */
} mul_data;

static tml_status mul_prepare(tml_interpreter *it, tml_node *n)
{
    int activation;
    tml_bcast *bcast;
    tml_status s = tml_binary_prepare(it, n, TML_OPT_MUL, TML_F_MUL_ACTIVATION,
                                      &activation, &bcast);
    if (s != TML_OK)
        return s;
    mul_data *d = tml_alloc_persistent(it, sizeof *d);
    if (!d)
        return TML_ERROR_ARENA;
    d->bcast = bcast;
    const tml_tensor *in1 = tml_node_input(it, n, 0);
    const tml_tensor *in2 = tml_node_input(it, n, 1);
    const tml_tensor *out = tml_node_output(it, n, 0);
    if (in1->type == TML_INT8) {
        tml_mul_quantize(&d->p, in1->scale, in1->zero_point, in2->scale,
                         in2->zero_point, out->scale, out->zero_point);
        /* A product of two int8 differences needs 17 bits: a left shift
         * past 14 overflows int32 for any real data (and past 31 is
         * undefined); TFLite has the same limits without checking them. */
        if (TML_VALIDATE && d->p.output_shift > 14)
            return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "output 0",
                                    out,
                                    "rescale multiplier scale1 * scale2 / "
                                    "scale_out is 2^%d or more",
                                    (int)d->p.output_shift - 1);
        tml_activation_range_q(activation, out->scale, out->zero_point, -128, 127,
                               &d->p.act_min, &d->p.act_max);
    } else {
        tml_activation_range_f(activation, &d->p.act_min_f, &d->p.act_max_f);
    }
    n->user = d;
    return TML_OK;
}

static tml_status mul_eval(tml_interpreter *it, tml_node *n)
{
    const mul_data *d = n->user;
    const tml_tensor *in1 = tml_node_input(it, n, 0);
    const tml_tensor *in2 = tml_node_input(it, n, 1);
    tml_tensor *out = tml_node_output(it, n, 0);
    int32_t count = tml_num_elements(out);
    if (count == 0)   /* an empty tensor may have no data pointer */
        return TML_OK;
#ifndef TML_NO_FLOAT_KERNELS
    if (in1->type == TML_FLOAT32) {
        tml_mul_f32(&d->p, d->bcast, count, in1->data, in2->data, out->data);
        return TML_OK;
    }
#endif
    tml_mul_int8(&d->p, d->bcast, count, in1->data, in2->data, out->data);
    return TML_OK;
}

const tml_kernel tml_kernel_mul = { 18, 1, 3, mul_prepare, mul_eval };
