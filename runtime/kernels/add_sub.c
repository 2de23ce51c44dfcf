/*
 * ADD and SUB (see add_sub.h).
 *
 * Versions (TFLite op_version.cc): ADD 1 float32, 2 int8; SUB 1 float32,
 * 2 int8, 3 broadcast over more than 4 dims.  int16 / int32 / int64 are
 * not supported.
 */
#include "add_sub.h"

#include "kernel.h"
#include "quant.h"
#include "real.h"
#include "schema.h"

int tml_bcast_init(tml_bcast *b, const int32_t *dims1, int nd1,
                   const int32_t *dims2, int nd2, const int32_t *dimso, int ndo)
{
    int nd = ndo;
    nd = nd1 > nd ? nd1 : nd;
    nd = nd2 > nd ? nd2 : nd;
    if (nd > TML_MAX_DIMS)
        return -1;
    int32_t shape[TML_MAX_DIMS], s1[TML_MAX_DIMS], s2[TML_MAX_DIMS];
    int32_t acc1 = 1, acc2 = 1;
    /* Right-align the shapes (missing leading dims are 1); walk from the
     * innermost axis so each input's contiguous stride accumulates. */
    for (int i = nd - 1; i >= 0; i--) {
        int32_t d1 = i - (nd - nd1) >= 0 ? dims1[i - (nd - nd1)] : 1;
        int32_t d2 = i - (nd - nd2) >= 0 ? dims2[i - (nd - nd2)] : 1;
        int32_t dout = i - (nd - ndo) >= 0 ? dimso[i - (nd - ndo)] : 1;
        if (dout != (d1 == 1 ? d2 : d1) || (d2 != 1 && d2 != dout))
            return -1;
        shape[i] = dout;
        s1[i] = (d1 == 1 && dout != 1) ? 0 : acc1;
        s2[i] = (d2 == 1 && dout != 1) ? 0 : acc2;
        acc1 *= d1;
        acc2 *= d2;
    }
    /* Drop unit axes, then fuse neighbours with the same broadcast pattern:
     * for contiguous inputs their strides chain (outer = inner * size). */
    int k = 0;
    for (int i = 0; i < nd; i++) {
        if (shape[i] == 1)
            continue;
        if (k > 0 && (b->stride1[k - 1] == 0) == (s1[i] == 0) &&
            (b->stride2[k - 1] == 0) == (s2[i] == 0)) {
            b->shape[k - 1] *= shape[i];
            b->stride1[k - 1] = s1[i];
            b->stride2[k - 1] = s2[i];
            continue;
        }
        b->shape[k] = shape[i];
        b->stride1[k] = s1[i];
        b->stride2[k] = s2[i];
        k++;
    }
    if (k == 0) {   /* every axis is 1: one element */
        b->shape[0] = 1;
        b->stride1[0] = 1;
        b->stride2[0] = 1;
        k = 1;
    }
    b->ndims = k;
    return 0;
}

/* C99 twin of TFLite's QuantizeMultiplierSmallerThanOneExp: 0 < real < 1
 * and a shift <= 0 (a real within 2^-32 of 1 rounds up to shift 1, which
 * TFLite's CHECK rejects too). */
static int quantize_smaller_than_one(tml_real real, int32_t *m, int32_t *shift)
{
    /* 0 < real < 1: nonzero, positive, and m * 2^e < 2^(e + 53) <= 1
     * (the invalid value has e = INT32_MAX). */
    if (real.m == 0 || real.neg || real.e > -53)
        return -1;
    int s;
    tml_quantize_multiplier_real(real, m, &s);
    if (s > 0)
        return -1;
    *shift = s;
    return 0;
}

int tml_addsub_quantize(tml_addsub_params *p, int is_sub, float scale1,
                        int32_t zp1, float scale2, int32_t zp2,
                        float scale_out, int32_t zp_out)
{
    tml_real real1, real2, real_out;
    float max_scale = scale1 > scale2 ? scale1 : scale2;
    p->left_shift = 20;
    if (is_sub) {
        /* sub_common.cc computes these in float, then widens. */
        float twice_max = 2.0f * max_scale;
        float r1 = scale1 / twice_max;
        float r2 = scale2 / twice_max;
        float denom = (float)(1 << 20) * scale_out;
        float ro = twice_max / denom;
        real1 = tml_real_from_float(r1);
        real2 = tml_real_from_float(r2);
        real_out = tml_real_from_float(ro);
    } else {
        /* add_common.cc: in double (exactly, in tml_real):
         * twice_max = 2 * (double)max; real_i = (double)scale_i / twice_max;
         * real_out = twice_max / ((1 << 20) * (double)scale_out). */
        tml_real twice_max = tml_real_mul(tml_real_from_int(2),
                                          tml_real_from_float(max_scale));
        real1 = tml_real_div(tml_real_from_float(scale1), twice_max);
        real2 = tml_real_div(tml_real_from_float(scale2), twice_max);
        real_out = tml_real_div(twice_max,
                                tml_real_mul(tml_real_from_int(1 << 20),
                                             tml_real_from_float(scale_out)));
    }
    if (quantize_smaller_than_one(real1, &p->input1_multiplier, &p->input1_shift) ||
        quantize_smaller_than_one(real2, &p->input2_multiplier, &p->input2_shift) ||
        quantize_smaller_than_one(real_out, &p->output_multiplier, &p->output_shift))
        return -1;
    p->input1_offset = -zp1;
    p->input2_offset = -zp2;
    p->output_offset = zp_out;
    p->is_sub = is_sub;
    return 0;
}

/* A rounding right shift by r >= 0 (RoundingDivideByPOT), with its two
 * loop-invariant constants: round = 2^(r-1) (0 for r = 0), neg = r > 0. */
typedef struct rshift {
    int r;
    int64_t round, neg;
} rshift;

static rshift make_rshift(int shift)
{
    rshift s;
    s.r = shift < 0 ? -shift : 0;
    s.round = ((int64_t)1 << s.r) >> 1;
    s.neg = s.r > 0;
    return s;
}

/* MBQM((x - zp) << 20, m, -r): the << 20 folds into the SRDHM divisor,
 * floor((d * 2^20 * m + 2^30) / 2^31) = floor((d * m + 2^10) / 2^11), and
 * the rounding shift is floor((v + round - [v < 0]) / 2^r) (see quant.h). */
static inline int32_t scale_input(int32_t d, int32_t m, rshift s)
{
    int64_t v = ((int64_t)d * m + 1024) >> 11;
    return (int32_t)((v + s.round - (s.neg & (v < 0))) >> s.r);
}

/* Loop-invariant constants of the int8 element function. */
typedef struct addsub_k {
    int32_t off1, off2, m1, m2, mo, zo, lo, hi, sign;
    rshift r1, r2, ro;
} addsub_k;

static addsub_k make_k(const tml_addsub_params *p)
{
    addsub_k k;
    k.off1 = p->input1_offset;
    k.off2 = p->input2_offset;
    k.m1 = p->input1_multiplier;
    k.m2 = p->input2_multiplier;
    k.mo = p->output_multiplier;
    k.zo = p->output_offset;
    k.lo = p->act_min;
    k.hi = p->act_max;
    k.sign = p->is_sub ? -1 : 1;
    k.r1 = make_rshift(p->input1_shift);
    k.r2 = make_rshift(p->input2_shift);
    k.ro = make_rshift(p->output_shift);
    return k;
}

/* Output stage from the two scaled inputs: MBQM(a +/- b, out) + zp, clamp. */
static inline int8_t combine(const addsub_k *k, int32_t a, int32_t b)
{
    int64_t t = ((int64_t)(a + k->sign * b) * k->mo + ((int64_t)1 << 30)) >> 31;
    int32_t v = (int32_t)((t + k->ro.round - (k->ro.neg & (t < 0))) >> k->ro.r) + k->zo;
    return (int8_t)(v < k->lo ? k->lo : (v > k->hi ? k->hi : v));
}

/* What one innermost int8 run needs: the constants and, optionally, the
 * two tables of scaled inputs (lut1[x + 128] = MBQM((x - zp1) << 20, m1),
 * lut2 likewise), which turn two of the three MBQMs into loads. */
typedef struct int8_ctx {
    const tml_addsub_params *p;
    const int32_t *lut1, *lut2;   /* both NULL: compute directly */
} int8_ctx;

/* The innermost run of n int8 outputs; s1 / s2 are 0 (broadcast) or 1.
 * Per element, TFLite's AddFunc (or the SUB lambda):
 *   out = clamp(MBQM(MBQM(x1') +/- MBQM(x2'), out) + zp_out),
 * x' = (x - zp) << 20; every shift is <= 0 (prepare checked each real
 * multiplier < 1).  The constants live in a local struct: int8 stores may
 * alias anything, which would force reloads of *p inside the loop.  A
 * broadcast side is scaled once per run. */
static void run_int8(const int8_ctx *c, int32_t n, const int8_t *in1, int32_t s1,
                     const int8_t *in2, int32_t s2, int8_t *out)
{
    const addsub_k k = make_k(c->p);
    const int32_t *lut1 = c->lut1, *lut2 = c->lut2;
    if (s1 == 0) {
        const int32_t a = scale_input(in1[0] + k.off1, k.m1, k.r1);
        for (int32_t i = 0; i < n; i++)
            out[i] = combine(&k, a, scale_input(in2[i] + k.off2, k.m2, k.r2));
    } else if (s2 == 0) {
        const int32_t b = scale_input(in2[0] + k.off2, k.m2, k.r2);
        for (int32_t i = 0; i < n; i++)
            out[i] = combine(&k, scale_input(in1[i] + k.off1, k.m1, k.r1), b);
    } else if (lut1) {
        for (int32_t i = 0; i < n; i++)
            out[i] = combine(&k, lut1[in1[i] + 128], lut2[in2[i] + 128]);
    } else {
        for (int32_t i = 0; i < n; i++)
            out[i] = combine(&k, scale_input(in1[i] + k.off1, k.m1, k.r1),
                             scale_input(in2[i] + k.off2, k.m2, k.r2));
    }
}

static void run_f32(const tml_addsub_params *p, int32_t n, const float *in1,
                    int32_t s1, const float *in2, int32_t s2, float *out)
{
    const float lo = p->act_min_f, hi = p->act_max_f;
    if (p->is_sub) {
        for (int32_t i = 0; i < n; i++)
            out[i] = tml_clamp_f(in1[i * s1] - in2[i * s2], lo, hi);
    } else {
        for (int32_t i = 0; i < n; i++)
            out[i] = tml_clamp_f(in1[i * s1] + in2[i * s2], lo, hi);
    }
}

void tml_bcast_walk(const tml_bcast *b, size_t elem_size, const void *ctx,
                    const void *in1, const void *in2, void *out, tml_bcast_run run)
{
    const uint8_t *a = in1, *c = in2;
    uint8_t *o = out;
    int32_t idx[TML_MAX_DIMS] = { 0 };
    const int32_t last = b->ndims - 1;
    const int32_t inner = b->shape[last];
    int32_t outer = 1;
    for (int32_t d = 0; d < last; d++)
        outer *= b->shape[d];
    /* Odometer over every axis but the innermost, which run() covers. */
    for (int32_t k = 0; k < outer; k++, o += (size_t)inner * elem_size) {
        run(ctx, inner, a, b->stride1[last], c, b->stride2[last], o);
        for (int32_t d = last - 1; d >= 0; d--) {
            a += (size_t)b->stride1[d] * elem_size;
            c += (size_t)b->stride2[d] * elem_size;
            if (++idx[d] < b->shape[d])
                break;
            a -= (size_t)b->stride1[d] * (size_t)b->shape[d] * elem_size;
            c -= (size_t)b->stride2[d] * (size_t)b->shape[d] * elem_size;
            idx[d] = 0;
        }
    }
}

static void run_int8_cb(const void *ctx, int32_t n, const void *in1, int32_t s1,
                        const void *in2, int32_t s2, void *out)
{
    run_int8(ctx, n, in1, s1, in2, s2, out);
}

void tml_addsub_int8_lut(const tml_addsub_params *p, int32_t *lut)
{
    const addsub_k k = make_k(p);
    for (int32_t x = -128; x < 128; x++) {
        lut[x + 128] = scale_input(x + k.off1, k.m1, k.r1);
        lut[x + 384] = scale_input(x + k.off2, k.m2, k.r2);
    }
}

static void run_f32_cb(const void *ctx, int32_t n, const void *in1, int32_t s1,
                       const void *in2, int32_t s2, void *out)
{
    run_f32(ctx, n, in1, s1, in2, s2, out);
}

void tml_addsub_int8(const tml_addsub_params *p, const tml_bcast *b, int32_t n,
                     const int32_t *lut, const int8_t *in1, const int8_t *in2,
                     int8_t *out)
{
    int8_ctx c;
    c.p = p;
    c.lut1 = lut;
    c.lut2 = lut ? lut + 256 : NULL;
    if (!b)
        run_int8(&c, n, in1, 1, in2, 1, out);
    else
        tml_bcast_walk(b, 1, &c, in1, in2, out, run_int8_cb);
}

void tml_addsub_f32(const tml_addsub_params *p, const tml_bcast *b, int32_t n,
                    const float *in1, const float *in2, float *out)
{
    if (!b)
        run_f32(p, n, in1, 1, in2, 1, out);
    else
        tml_bcast_walk(b, sizeof(float), p, in1, in2, out, run_f32_cb);
}

/* ---------------------------------------------------------- registration */

/* Op data: the parameters and, when the inputs' shapes differ, the
 * broadcast plan (NULL otherwise). */
typedef struct addsub_data {
    tml_addsub_params p;
    tml_bcast *bcast;
    int32_t use_lut;   /* the node's scratch holds the int8 tables */
} addsub_data;

/* int8 runs of at least this many elements use the 2 KB input tables in
 * scratch: building them costs 512 rescales, each element then saves two.
 * Scratch lives only during the op; at that point a residual ADD's live
 * set is smaller than at the op producing its input, so the arena peak
 * does not grow. */
enum { LUT_MIN_ELEMENTS = 2048 };

/* Shared by ADD, SUB and MUL: two inputs of one dtype (int8 or float32),
 * an output of the same dtype, a known fused activation, and shapes that
 * broadcast to the output.  *bcast is NULL for equal input shapes. */
tml_status tml_binary_prepare(tml_interpreter *it, tml_node *n, int options_type,
                              int activation_field, int *activation,
                              tml_bcast **bcast)
{
    tml_tensor *in1 = tml_node_input(it, n, 0);
    tml_tensor *in2 = tml_node_input(it, n, 1);
    tml_tensor *out = tml_node_output(it, n, 0);
    if (TML_VALIDATE &&
        (!in1 || !in2 || !out || n->ninputs != 2 || n->noutputs != 1))
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "expected 2 inputs and 1 output, got %d and %d",
                                (int)n->ninputs, (int)n->noutputs);
    if (TML_VALIDATE && in1->type != TML_INT8 && in1->type != TML_FLOAT32)
        return tml_dtype_error(it, n, "input 0", in1, "int8 or float32");
#ifdef TML_NO_FLOAT_KERNELS
    /* Deployment build for int8 models (tinyml export): no float32 path. */
    if (in1->type == TML_FLOAT32)
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
                                "float32 kernels are not built in "
                                "(TML_NO_FLOAT_KERNELS)");
#endif
    const char *want = in1->type == TML_INT8 ? "int8 like input 0" : "float32 like input 0";
    if (TML_VALIDATE && in2->type != in1->type)
        return tml_dtype_error(it, n, "input 1", in2, want);
    if (TML_VALIDATE && out->type != in1->type)
        return tml_dtype_error(it, n, "output 0", out, want);
    if (TML_VALIDATE && n->options_type != options_type &&
        n->options_type != TML_OPT_NONE)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "expected options type %d, got %d",
                                options_type, (int)n->options_type);
    *activation = tml_opt_int(it, n, activation_field, 1, TML_ACT_NONE);
    if (TML_VALIDATE && *activation != TML_ACT_NONE &&
        *activation != TML_ACT_RELU && *activation != TML_ACT_RELU6 &&
        *activation != TML_ACT_RELU_N1_TO_1)
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
                                "fused activation %d is not supported", *activation);
    if (TML_VALIDATE && in1->type == TML_INT8) {
        const tml_tensor *ts[3] = { in1, in2, out };
        static const char *const slot[3] = { "input 0", "input 1",
                                             "output 0" };
        for (int i = 0; i < 3; i++) {
            if (!(ts[i]->scale > 0.0f))
                return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, slot[i],
                                        ts[i], "int8 needs a positive "
                                        "per-tensor scale");
        }
    }

    *bcast = NULL;
    if (tml_same_shape(in1, in2)) {
        if (TML_VALIDATE && tml_num_elements(out) != tml_num_elements(in1))
            return tml_tensor_error(it, n, TML_ERROR_MODEL, "output 0", out,
                                    "expected %d elements like the inputs, "
                                    "got %d", (int)tml_num_elements(in1),
                                    (int)tml_num_elements(out));
        return TML_OK;
    }
    tml_bcast b;
    /* TML_VALIDATE last: b is computed either way. */
    if (tml_bcast_init(&b, in1->dims, in1->ndims, in2->dims, in2->ndims,
                       out->dims, out->ndims) != 0 && TML_VALIDATE)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "input shapes (rank %d and %d) do not broadcast to "
                                "output 0 tensor %d '%s'",
                                (int)in1->ndims, (int)in2->ndims,
                                (int)tml_tensor_index(it, out), tml_tensor_name(it, out));
    *bcast = tml_alloc_persistent(it, sizeof b);
    if (!*bcast)
        return TML_ERROR_ARENA;
    **bcast = b;
    return TML_OK;
}

static tml_status addsub_prepare(tml_interpreter *it, tml_node *n, int is_sub)
{
    int activation;
    tml_bcast *bcast;
    tml_status s = tml_binary_prepare(it, n, is_sub ? TML_OPT_SUB : TML_OPT_ADD,
                                      is_sub ? TML_F_SUB_ACTIVATION : TML_F_ADD_ACTIVATION,
                                      &activation, &bcast);
    if (s != TML_OK)
        return s;
    addsub_data *d = tml_alloc_persistent(it, sizeof *d);
    if (!d)
        return TML_ERROR_ARENA;
    d->bcast = bcast;
    d->p.is_sub = is_sub;
    const tml_tensor *in1 = tml_node_input(it, n, 0);
    const tml_tensor *in2 = tml_node_input(it, n, 1);
    const tml_tensor *out = tml_node_output(it, n, 0);
    if (in1->type == TML_INT8) {
        if (tml_addsub_quantize(&d->p, is_sub, in1->scale, in1->zero_point,
                                in2->scale, in2->zero_point, out->scale,
                                out->zero_point) != 0 && TML_VALIDATE)
            return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "output 0",
                                    out,
                                    "scale too small for the int8 %s (rescale "
                                    "multiplier >= 1)", is_sub ? "SUB" : "ADD");
        tml_activation_range_q(activation, out->scale, out->zero_point, -128, 127,
                               &d->p.act_min, &d->p.act_max);
        /* Tables pay off only on runs where neither input is broadcast. */
        int32_t last = bcast ? bcast->ndims - 1 : 0;
        int full_runs = !bcast || (bcast->stride1[last] && bcast->stride2[last]);
        if (full_runs && tml_num_elements(out) >= LUT_MIN_ELEMENTS) {
            s = tml_request_scratch(it, n, TML_ADDSUB_LUT_ENTRIES * sizeof(int32_t));
            if (s != TML_OK)
                return s;
            d->use_lut = 1;
        }
    } else {
        tml_activation_range_f(activation, &d->p.act_min_f, &d->p.act_max_f);
    }
    n->user = d;
    return TML_OK;
}

static tml_status add_prepare(tml_interpreter *it, tml_node *n)
{
    return addsub_prepare(it, n, 0);
}

static tml_status sub_prepare(tml_interpreter *it, tml_node *n)
{
    return addsub_prepare(it, n, 1);
}

static tml_status addsub_eval(tml_interpreter *it, tml_node *n)
{
    const addsub_data *d = n->user;
    const tml_tensor *in1 = tml_node_input(it, n, 0);
    const tml_tensor *in2 = tml_node_input(it, n, 1);
    tml_tensor *out = tml_node_output(it, n, 0);
    int32_t count = tml_num_elements(out);
    if (count == 0)   /* an empty tensor may have no data pointer */
        return TML_OK;
#ifndef TML_NO_FLOAT_KERNELS
    if (in1->type == TML_FLOAT32) {
        tml_addsub_f32(&d->p, d->bcast, count, in1->data, in2->data, out->data);
        return TML_OK;
    }
#endif
    int32_t *lut = d->use_lut ? tml_scratch(it, n) : NULL;
    if (lut)
        tml_addsub_int8_lut(&d->p, lut);
    tml_addsub_int8(&d->p, d->bcast, count, lut, in1->data, in2->data, out->data);
    return TML_OK;
}

const tml_kernel tml_kernel_add = { 0, 1, 2, add_prepare, addsub_eval };
const tml_kernel tml_kernel_sub = { 41, 1, 3, sub_prepare, addsub_eval };
