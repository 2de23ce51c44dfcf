/*
 * RELU, RELU6, LEAKY_RELU, HARD_SWISH: float32, int8 (and int16 for RELU,
 * RELU6, LEAKY_RELU), bit-exact with TFLite Micro's reference kernels.
 *
 * int8 eval is one table lookup per element: prepare fills a 256-entry
 * table (persistent, 256 bytes per op) by running the exact integer
 * reference function on every int8 input, so the table gives the very same
 * bits as the reference loop.  RELU6 int8 is a plain clamp (no table).
 */
#include "kernels/activations.h"

#include <string.h>

#include "kernel.h"
#include "quant.h"
#include "schema.h"

/* ================================================================ math */

void tml_relu_f32(const float *in, float *out, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        float v = in[i];
        out[i] = v < 0.0f ? 0.0f : v;   /* NaN passes, as ReluFloat */
    }
}

void tml_relu6_f32(const float *in, float *out, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        float v = in[i];
        out[i] = v > 6.0f ? 6.0f : (v < 0.0f ? 0.0f : v);
    }
}

void tml_leaky_relu_f32(float alpha, const float *in, float *out, int32_t n)
{
    /* alpha may be > 1 or < 0, so this is not max(v, alpha * v). */
    for (int32_t i = 0; i < n; i++) {
        float v = in[i];
        out[i] = v > 0.0f ? v : v * alpha;
    }
}

void tml_hard_swish_f32(const float *in, float *out, int32_t n)
{
    /* reference HardSwish<float>: in * min(6, max(0, in + 3)) / 6, with
     * std::max/std::min's argument order (a NaN input stays NaN). */
    for (int32_t i = 0; i < n; i++) {
        float v = in[i];
        float r = v + 3.0f;
        r = 0.0f < r ? r : 0.0f;
        r = r < 6.0f ? r : 6.0f;
        out[i] = v * r / 6.0f;
    }
}

int tml_relu_q_init(tml_relu_params *p, float in_scale, int32_t in_zp,
                    float out_scale, int32_t out_zp, int32_t type_min,
                    int32_t type_max)
{
    int shift = 0;
    /* CalculateReluOpData: the ratio is taken in float, then widened. */
    const tml_real ratio = tml_real_from_float(in_scale / out_scale);
    const int ok = tml_ratio_supported(ratio);
    p->multiplier = 0;
    if (ok)
        tml_quantize_multiplier_real(ratio, &p->multiplier, &shift);
    p->shift = shift;
    p->in_zp = in_zp;
    p->out_zp = out_zp;
    /* act_min = max(type_min, out_zp + round(0 / scale)); act_max is
     * +infinity for RELU, so the type's maximum. */
    p->act_min = out_zp > type_min ? out_zp : type_min;
    p->act_max = type_max;
    return ok ? 0 : -1;
}

int32_t tml_relu_q(const tml_relu_params *p, int32_t x)
{
    int32_t v = p->out_zp +
                tml_mul_by_qm(x - p->in_zp, p->multiplier, p->shift);
    return tml_clamp_i32(v, p->act_min, p->act_max);
}

/* TFLite Micro FloatToQuantizedType: round(value / scale) + zero_point,
 * clamped to the type. */
static int32_t float_to_quantized(float value, float scale, int32_t zp,
                                  int32_t type_min, int32_t type_max)
{
    float r = tml_roundf(value / scale);
    if (!(r > -2147483648.0f))   /* also NaN: no such scale in a model */
        return type_min;
    if (!(r < 2147483648.0f))
        return type_max;
    /* Through int32 (r is integral and inside it): float -> int64 is
     * __aeabi_f2lz on 32-bit ARM, done in soft double by libgcc. */
    int64_t q = (int64_t)(int32_t)r + zp;
    return q < type_min ? type_min : (q > type_max ? type_max : (int32_t)q);
}

void tml_relu6_q_init(tml_relu6_params *p, float in_scale, int32_t in_zp,
                      int32_t type_min, int32_t type_max)
{
    p->lower = in_zp;
    p->upper = float_to_quantized(6.0f, in_scale, in_zp, type_min, type_max);
}

int32_t tml_relu6_q(const tml_relu6_params *p, int32_t x)
{
    return x > p->upper ? p->upper : (x < p->lower ? p->lower : x);
}

int tml_leaky_q_init(tml_leaky_params *p, float in_scale, int32_t in_zp,
                     float out_scale, int32_t out_zp, float alpha,
                     int32_t type_min, int32_t type_max)
{
    int shift = 0;
    int32_t mult = 0;
    /* CalculateOpDataLeakyRelu: both ratios in float, then widened. */
    const tml_real alpha_ratio = tml_real_from_float(in_scale * alpha / out_scale);
    const tml_real identity_ratio = tml_real_from_float(in_scale / out_scale);
    const int ok = tml_ratio_supported(alpha_ratio) &&
                   tml_ratio_supported(identity_ratio);
    if (ok)
        tml_quantize_multiplier_real(alpha_ratio, &mult, &shift);
    p->alpha_negative = mult < 0;
    /* Negation as unsigned keeps INT32_MIN defined (it stays INT32_MIN,
     * as the reference's int negation does on its targets). */
    p->mult_alpha = mult < 0 ? (int32_t)(0u - (uint32_t)mult) : mult;
    p->shift_alpha = shift;
    if (ok)
        tml_quantize_multiplier_real(identity_ratio, &mult, &shift);
    p->mult_identity = mult;
    p->shift_identity = shift;
    p->in_zp = in_zp;
    p->out_zp = out_zp;
    p->type_min = type_min;
    p->type_max = type_max;
    return ok ? 0 : -1;
}

int32_t tml_leaky_q(const tml_leaky_params *p, int32_t x)
{
    int32_t v = x - p->in_zp;
    int32_t out = p->out_zp;
    if (v >= 0) {
        out += tml_mul_by_qm(v, p->mult_identity, p->shift_identity);
    } else {
        int32_t s = tml_mul_by_qm(v, p->mult_alpha, p->shift_alpha);
        out += p->alpha_negative ? -s : s;
    }
    return tml_clamp_i32(out, p->type_min, p->type_max);
}

/* ---- 16-bit fixed point of HARD_SWISH ---- */

int16_t tml_downscale_multiplier16(int32_t m)
{
    if (m >= INT32_MAX - (1 << 15))
        return INT16_MAX;
    return (int16_t)((m + (1 << 15)) >> 16);
}

/* gemmlowp SaturatingRoundingDoublingHighMul on int16. */
static int16_t srdhm16(int16_t a, int16_t b)
{
    if (a == INT16_MIN && b == INT16_MIN)
        return INT16_MAX;
    int32_t ab = (int32_t)a * (int32_t)b;
    int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
    return (int16_t)((ab + nudge) / (1 << 15));   /* truncating division */
}

/* hard_swish.h SaturatingDoublingHighMul: the same without the rounding
 * nudge, which cancels the bias of the rounding one (see its comment). */
static int16_t sdhm16(int16_t a, int16_t b)
{
    if (a == INT16_MIN && b == INT16_MIN)
        return INT16_MAX;
    return (int16_t)(((int32_t)a * (int32_t)b) / (1 << 15));
}

/* gemmlowp RoundingDivideByPOT<int16_t>, every step in int16 as there
 * (for exponents >= 16 the mask truncates to -1, as it does there). */
static int16_t rdbpot16(int16_t x, int exponent)
{
    int16_t mask = (int16_t)(((int64_t)1 << exponent) - 1);
    int16_t remainder = (int16_t)(x & mask);
    int16_t threshold = (int16_t)((mask >> 1) + (x < 0 ? 1 : 0));
    return (int16_t)((x >> exponent) + (remainder > threshold ? 1 : 0));
}

/* hard_swish.h SaturatingLeftShift. */
static int16_t sat_left_shift16(int16_t v, int amount)
{
    if (amount > 40)
        amount = 40;   /* the reference's 1 << amount is undefined past 30 */
    int64_t r = (int64_t)v * ((int64_t)1 << amount);
    return (int16_t)(r > INT16_MAX ? INT16_MAX : (r < INT16_MIN ? INT16_MIN : r));
}

int tml_hard_swish_q_init(tml_hard_swish_params *p, float in_scale, int32_t in_zp,
                          float out_scale, int32_t out_zp)
{
    /* HardSwishPrepare: the input on a 2^7 finer scale, and 3.0 on the
     * "reluish" scale as 32768; the ratios in float, then widened. */
    const float hires_input_scale = (1.0f / 128.0f) * in_scale;
    const float reluish_scale = 3.0f / 32768.0f;
    const float out_ratio = hires_input_scale / out_scale;
    const float reluish_ratio = hires_input_scale / reluish_scale;
    int32_t m;
    int shift;
    memset(p, 0, sizeof *p);
    p->in_zp = in_zp;
    p->out_zp = out_zp;
    /* A ratio >= 1 has exponent >= 1 (refused below anyway); checking first
     * keeps an infinite ratio away from the multiplier. */
    if (!(out_ratio < 1.0f)) {
        p->output_exponent = 1;
        return -1;
    }
    if (!(reluish_ratio < 2147483648.0f))
        return -2;
    tml_quantize_multiplier_real(tml_real_from_float(out_ratio), &m, &shift);
    p->output_mult16 = tml_downscale_multiplier16(m);
    p->output_exponent = shift;
    tml_quantize_multiplier_real(tml_real_from_float(reluish_ratio), &m,
                                 &shift);
    p->reluish_mult16 = tml_downscale_multiplier16(m);
    p->reluish_exponent = shift;
    return p->output_exponent <= 0 ? 0 : -1;
}

int32_t tml_hard_swish_q(const tml_hard_swish_params *p, int32_t x)
{
    const int16_t v = (int16_t)(x - p->in_zp);
    const int16_t hires = (int16_t)(v * (1 << 7));
    /* x on the output scale, before the final right shift. */
    const int16_t preshift_out = srdhm16(hires, p->output_mult16);
    /* relu6(x + 3) / 6 as a Q15 value in [0, 1]: first x / 3 in [-1, 1]
     * (saturating), the left shift split so that saturation only happens
     * in its last bit. */
    int16_t reluish = hires;
    if (p->reluish_exponent > 0)
        reluish = sat_left_shift16(reluish, p->reluish_exponent - 1);
    reluish = srdhm16(reluish, p->reluish_mult16);
    if (p->reluish_exponent > 0)
        reluish = sat_left_shift16(reluish, 1);
    if (p->reluish_exponent < 0)
        reluish = rdbpot16(reluish, -p->reluish_exponent);
    reluish = (int16_t)((reluish + (1 << 15)) >> 1);
    const int16_t preshift = sdhm16(reluish, preshift_out);
    int16_t out = rdbpot16(preshift, -p->output_exponent);
    out = (int16_t)(out + p->out_zp);
    return tml_clamp_i32(out, INT8_MIN, INT8_MAX);
}

void tml_lut_s8(const int8_t *lut, const int8_t *in, int8_t *out, int32_t n)
{
    const uint8_t *u = (const uint8_t *)in;
    for (int32_t i = 0; i < n; i++)
        out[i] = lut[u[i]];
}

/* ======================================================== registration */

tml_status tml_unary_tensors(tml_interpreter *it, tml_node *n,
                             int same_dtype, tml_tensor **in,
                             tml_tensor **out)
{
    if (TML_VALIDATE && (n->ninputs != 1 || n->noutputs != 1))
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "expected 1 input and 1 output, got %d and %d",
                                (int)n->ninputs, (int)n->noutputs);
    *in = tml_node_input(it, n, 0);
    *out = tml_node_output(it, n, 0);
    if (TML_VALIDATE && (!*in || !*out))
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "input 0 or output 0 is absent");
    if (TML_VALIDATE && same_dtype && (*out)->type != (*in)->type)
        return tml_tensor_error(it, n, TML_ERROR_MODEL, "output 0", *out,
                                "expected %s (the dtype of input 0), got %s",
                                tml_dtype_name((*in)->type),
                                tml_dtype_name((*out)->type));
    if (TML_VALIDATE && tml_num_elements(*out) != tml_num_elements(*in))
        return tml_tensor_error(it, n, TML_ERROR_MODEL, "output 0", *out,
                                "expected %d elements (as input 0), got %d",
                                (int)tml_num_elements(*in),
                                (int)tml_num_elements(*out));
    return TML_OK;
}

tml_status tml_check_quant(tml_interpreter *it, tml_node *n,
                           const char *role, const tml_tensor *t)
{
    /* Only a check of the model. */
    if (!TML_VALIDATE)
        return TML_OK;
    tml_quant q;
    tml_tensor_quant(it, t, &q);
    if (q.count > 1)
        return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, role, t,
                                "expected per-tensor quantization, got %d "
                                "scales", (int)q.count);
    if (!(t->scale > 0.0f) || t->scale > 3.0e38f)
        return tml_tensor_error(it, n, TML_ERROR_MODEL, role, t,
                                "%s needs a finite quantization scale > 0",
                                tml_dtype_name(t->type));
    return TML_OK;
}

static tml_status check_quant_pair(tml_interpreter *it, tml_node *n,
                                   const tml_tensor *in, const tml_tensor *out)
{
    if (!TML_VALIDATE)
        return TML_OK;
    tml_status s = tml_check_quant(it, n, "input 0", in);
    return s != TML_OK ? s : tml_check_quant(it, n, "output 0", out);
}

static tml_status int16_zero_points(tml_interpreter *it, tml_node *n,
                                    const tml_tensor *in,
                                    const tml_tensor *out)
{
    /* TFLite int16 activations are symmetric (zero point 0). */
    const tml_tensor *t = in->zero_point != 0 ? in : out;
    if (!TML_VALIDATE || t->zero_point == 0)
        return TML_OK;
    return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED,
                            t == in ? "input 0" : "output 0", t,
                            "int16 needs zero point 0, got %d",
                            (int)t->zero_point);
}

/* The scale ratio refused by the *_init functions (tml_ratio_supported). */
static tml_status bad_ratio(tml_interpreter *it, tml_node *n,
                            const tml_tensor *out, const char *factor)
{
    return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "output 0", out,
                            "input scale%s / output scale must be below 2^30",
                            factor);
}

static void *alloc_user(tml_interpreter *it, tml_node *n, size_t bytes)
{
    n->user = tml_alloc_persistent(it, bytes);
    return n->user;
}

/* ---- RELU ---- */

static tml_status relu_prepare(tml_interpreter *it, tml_node *n)
{
    tml_tensor *in, *out;
    tml_status s = tml_unary_tensors(it, n, 1, &in, &out);
    if (s != TML_OK)
        return s;
    if (in->type == TML_FLOAT32)
        return TML_OK;
    if (TML_VALIDATE && in->type != TML_INT8 && in->type != TML_INT16)
        return tml_dtype_error(it, n, "input 0", in, "float32, int8 or int16");
    if ((s = check_quant_pair(it, n, in, out)) != TML_OK)
        return s;
    tml_relu_params p;
    if (in->type == TML_INT16) {
        if ((s = int16_zero_points(it, n, in, out)) != TML_OK)
            return s;
        tml_relu_params *user = alloc_user(it, n, sizeof *user);
        if (!user)
            return TML_ERROR_ARENA;
        if (tml_relu_q_init(user, in->scale, in->zero_point, out->scale,
                            out->zero_point, INT16_MIN, INT16_MAX) != 0 &&
            TML_VALIDATE)
            return bad_ratio(it, n, out, "");
        return TML_OK;
    }
    if (tml_relu_q_init(&p, in->scale, in->zero_point, out->scale,
                        out->zero_point, INT8_MIN, INT8_MAX) != 0 &&
        TML_VALIDATE)
        return bad_ratio(it, n, out, "");
    int8_t *lut = alloc_user(it, n, 256);
    if (!lut)
        return TML_ERROR_ARENA;
    for (int32_t x = INT8_MIN; x <= INT8_MAX; x++)
        lut[(uint8_t)x] = (int8_t)tml_relu_q(&p, x);
    return TML_OK;
}

static tml_status relu_eval(tml_interpreter *it, tml_node *n)
{
    const tml_tensor *in = tml_node_input(it, n, 0);
    tml_tensor *out = tml_node_output(it, n, 0);
    const int32_t count = tml_num_elements(in);
    if (in->type == TML_FLOAT32) {
        tml_relu_f32(in->data, out->data, count);
    } else if (in->type == TML_INT8) {
        tml_lut_s8(n->user, in->data, out->data, count);
    } else {
        const tml_relu_params *p = n->user;
        const int16_t *x = in->data;
        int16_t *y = out->data;
        for (int32_t i = 0; i < count; i++)
            y[i] = (int16_t)tml_relu_q(p, x[i]);
    }
    return TML_OK;
}

/* ---- RELU6 ---- */

static tml_status relu6_prepare(tml_interpreter *it, tml_node *n)
{
    tml_tensor *in, *out;
    tml_status s = tml_unary_tensors(it, n, 1, &in, &out);
    if (s != TML_OK)
        return s;
    if (in->type == TML_FLOAT32)
        return TML_OK;
    if (TML_VALIDATE && in->type != TML_INT8 && in->type != TML_INT16)
        return tml_dtype_error(it, n, "input 0", in, "float32, int8 or int16");
    if (TML_VALIDATE && (s = tml_check_quant(it, n, "input 0", in)) != TML_OK)
        return s;
    tml_relu6_params *p = alloc_user(it, n, sizeof *p);
    if (!p)
        return TML_ERROR_ARENA;
    if (in->type == TML_INT8)
        tml_relu6_q_init(p, in->scale, in->zero_point, INT8_MIN, INT8_MAX);
    else
        tml_relu6_q_init(p, in->scale, in->zero_point, INT16_MIN, INT16_MAX);
    return TML_OK;
}

static tml_status relu6_eval(tml_interpreter *it, tml_node *n)
{
    const tml_tensor *in = tml_node_input(it, n, 0);
    tml_tensor *out = tml_node_output(it, n, 0);
    const int32_t count = tml_num_elements(in);
    const tml_relu6_params *p = n->user;
    if (in->type == TML_FLOAT32) {
        tml_relu6_f32(in->data, out->data, count);
    } else if (in->type == TML_INT8) {
        const int8_t lo = (int8_t)p->lower, hi = (int8_t)p->upper;
        const int8_t *x = in->data;
        int8_t *y = out->data;
        for (int32_t i = 0; i < count; i++)
            y[i] = x[i] > hi ? hi : (x[i] < lo ? lo : x[i]);
    } else {
        const int16_t lo = (int16_t)p->lower, hi = (int16_t)p->upper;
        const int16_t *x = in->data;
        int16_t *y = out->data;
        for (int32_t i = 0; i < count; i++)
            y[i] = x[i] > hi ? hi : (x[i] < lo ? lo : x[i]);
    }
    return TML_OK;
}

/* ---- LEAKY_RELU ---- */

static tml_status leaky_prepare(tml_interpreter *it, tml_node *n)
{
    tml_tensor *in, *out;
    tml_status s = tml_unary_tensors(it, n, 1, &in, &out);
    if (s != TML_OK)
        return s;
    /* LeakyReluOptions.alpha; TFLite's parser reads 0 when the op has no
     * LeakyReluOptions table (absent, or another union type). */
    const float alpha = n->options_type == TML_OPT_LEAKY_RELU
                            ? tml_opt_float(it, n, TML_F_LEAKY_RELU_ALPHA, 0.0f)
                            : 0.0f;
    if (in->type == TML_FLOAT32) {
        float *a = alloc_user(it, n, sizeof *a);
        if (!a)
            return TML_ERROR_ARENA;
        *a = alpha;
        return TML_OK;
    }
    if (TML_VALIDATE && in->type != TML_INT8 && in->type != TML_INT16)
        return tml_dtype_error(it, n, "input 0", in, "float32, int8 or int16");
    if ((s = check_quant_pair(it, n, in, out)) != TML_OK)
        return s;
    if (in->type == TML_INT16) {
        tml_leaky_params *p = alloc_user(it, n, sizeof *p);
        if (!p)
            return TML_ERROR_ARENA;
        if (tml_leaky_q_init(p, in->scale, in->zero_point, out->scale,
                             out->zero_point, alpha, INT16_MIN,
                             INT16_MAX) != 0 && TML_VALIDATE)
            return bad_ratio(it, n, out, " (times |alpha|)");
        return TML_OK;
    }
    tml_leaky_params p;
    if (tml_leaky_q_init(&p, in->scale, in->zero_point, out->scale,
                         out->zero_point, alpha, INT8_MIN, INT8_MAX) != 0 &&
        TML_VALIDATE)
        return bad_ratio(it, n, out, " (times |alpha|)");
    int8_t *lut = alloc_user(it, n, 256);
    if (!lut)
        return TML_ERROR_ARENA;
    for (int32_t x = INT8_MIN; x <= INT8_MAX; x++)
        lut[(uint8_t)x] = (int8_t)tml_leaky_q(&p, x);
    return TML_OK;
}

static tml_status leaky_eval(tml_interpreter *it, tml_node *n)
{
    const tml_tensor *in = tml_node_input(it, n, 0);
    tml_tensor *out = tml_node_output(it, n, 0);
    const int32_t count = tml_num_elements(in);
    if (in->type == TML_FLOAT32) {
        tml_leaky_relu_f32(*(const float *)n->user, in->data, out->data,
                           count);
    } else if (in->type == TML_INT8) {
        tml_lut_s8(n->user, in->data, out->data, count);
    } else {
        const tml_leaky_params *p = n->user;
        const int16_t *x = in->data;
        int16_t *y = out->data;
        for (int32_t i = 0; i < count; i++)
            y[i] = (int16_t)tml_leaky_q(p, x[i]);
    }
    return TML_OK;
}

/* ---- HARD_SWISH ---- */

static tml_status hard_swish_prepare(tml_interpreter *it, tml_node *n)
{
    tml_tensor *in, *out;
    tml_status s = tml_unary_tensors(it, n, 1, &in, &out);
    if (s != TML_OK)
        return s;
    if (in->type == TML_FLOAT32)
        return TML_OK;
    if (TML_VALIDATE && in->type != TML_INT8)
        return tml_dtype_error(it, n, "input 0", in, "float32 or int8");
    if ((s = check_quant_pair(it, n, in, out)) != TML_OK)
        return s;
    tml_hard_swish_params p;
    const int init = tml_hard_swish_q_init(&p, in->scale, in->zero_point,
                                           out->scale, out->zero_point);
    if (TML_VALIDATE && init == -2)
        return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "input 0", in,
                                "scale too large for the 16-bit multipliers "
                                "(expected < 25165824)");
    if (TML_VALIDATE && init != 0)
        return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "output 0", out,
                                "expected a scale > input scale / 128 (output "
                                "multiplier exponent <= 0), got exponent %d",
                                (int)p.output_exponent);
    int8_t *lut = alloc_user(it, n, 256);
    if (!lut)
        return TML_ERROR_ARENA;
    for (int32_t x = INT8_MIN; x <= INT8_MAX; x++)
        lut[(uint8_t)x] = (int8_t)tml_hard_swish_q(&p, x);
    return TML_OK;
}

tml_status tml_lut_or_f32_eval(tml_interpreter *it, tml_node *n,
                               void (*f32)(const float *, float *, int32_t))
{
    const tml_tensor *in = tml_node_input(it, n, 0);
    tml_tensor *out = tml_node_output(it, n, 0);
    const int32_t count = tml_num_elements(in);
    if (in->type == TML_FLOAT32)
        f32(in->data, out->data, count);
    else
        tml_lut_s8(n->user, in->data, out->data, count);
    return TML_OK;
}

static tml_status hard_swish_eval(tml_interpreter *it, tml_node *n)
{
    return tml_lut_or_f32_eval(it, n, tml_hard_swish_f32);
}

/* Versions (TFLite op_version.cc): RELU and RELU6 1 float32, 2 int8,
 * 3 int16; LEAKY_RELU 1 float32/int8, 2 int16; HARD_SWISH 1. */
const tml_kernel tml_kernel_relu = { 19, 1, 3, relu_prepare, relu_eval };
const tml_kernel tml_kernel_relu6 = { 21, 1, 3, relu6_prepare, relu6_eval };
const tml_kernel tml_kernel_leaky_relu = { 98, 1, 2, leaky_prepare,
                                           leaky_eval };
const tml_kernel tml_kernel_hard_swish = { 117, 1, 1, hard_swish_prepare,
                                           hard_swish_eval };
