/*
 * LOGISTIC and TANH: float32 and int8, bit-exact with TFLite Micro
 * (logistic_common.cc, tanh.cc, reference/logistic.h, reference/tanh.h,
 * reference/integer_ops/{logistic,tanh}.h).
 *
 * int8 eval is a table lookup: prepare runs the exact fixed-point
 * reference on all 256 inputs into a persistent 256-byte table.
 */
#include "kernels/logistic_tanh.h"

#include <math.h>

#include "kernel.h"
#include "kernels/activations.h"
#include "quant.h"
#include "real.h"

/* ================================================================ math */

void tml_logistic_f32(const float *in, float *out, int32_t n)
{
    /* reference_ops::Logistic: exact 1 above the upper cutoff, exp(x)
     * below the lower one (1 / (1 + e^-x) ~ e^x there). */
    const float cutoff_upper = 16.619047164916992188f;
    const float cutoff_lower = -9.0f;
    for (int32_t i = 0; i < n; i++) {
        float v = in[i];
        if (v > cutoff_upper)
            out[i] = 1.0f;
        else if (v < cutoff_lower)
            out[i] = expf(v);
        else
            out[i] = 1.0f / (1.0f + expf(-v));
    }
}

void tml_tanh_f32(const float *in, float *out, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        out[i] = tanhf(in[i]);
}

/* The input is brought to Q4.27 (4 integer bits: |x| < 16). */
enum { INPUT_INTEGER_BITS = 4 };

int tml_sigmoid_params_init(tml_sigmoid_params *p, float in_scale,
                            int32_t in_zp)
{
    /* real multiplier = (double)scale * 2^(31 - 4) (exact); its frexp
     * gives the Q31 multiplier and a LEFT shift (MultiplyByQuantizedMultiplier's
     * shift).  In tml_real it is m * 2^e, m in [2^52, 2^53): frexp's
     * fraction is m / 2^53 and its exponent e + 53. */
    tml_real real = tml_real_mul(tml_real_from_float(in_scale),
                                 tml_real_from_int((int32_t)1 << (31 - INPUT_INTEGER_BITS)));
    int shift = 0;
    p->in_zp = in_zp;
    p->multiplier = 0;
    if (real.m != 0 && !tml_real_is_invalid(real)) {
        /* The fraction has the 24-bit mantissa of a float scale, so
         * fraction * 2^31 = m / 2^22 is an integer below 2^31: the
         * reference's TfLiteRound is exact here. */
        int32_t q = (int32_t)(real.m >> 22);
        p->multiplier = real.neg ? -q : q;
        shift = (int)real.e + 53;
    }
    p->left_shift = shift;
    p->range_radius = 0;
    if (shift < 0)
        return -1;
    /* CalculateInputRadius(4, shift, 31): floor((2^4 - 1) * 2^27 / 2^shift),
     * exact as an integer shift.  Radius 0 (shift > 30) saturates every
     * input, so the multiply never sees a shift past 30. */
    if (shift <= 40)
        p->range_radius = (int32_t)(((int64_t)((1 << INPUT_INTEGER_BITS) - 1)
                                     << (31 - INPUT_INTEGER_BITS)) >> shift);
    return 0;
}

/* Q4.27 input of a value strictly inside the radius. */
static int32_t input_q4(const tml_sigmoid_params *p, int32_t centered)
{
    return tml_mul_by_qm(centered, p->multiplier, p->left_shift);
}

int8_t tml_logistic_s8(const tml_sigmoid_params *p, int8_t x)
{
    const int32_t centered = (int32_t)x - p->in_zp;
    if (centered <= -p->range_radius)
        return INT8_MIN;
    if (centered >= p->range_radius)
        return INT8_MAX;
    int32_t q0 = tml_fp_logistic(input_q4(p, centered), INPUT_INTEGER_BITS);
    /* Q0.31 -> the output's Q0.8 (scale 1/256), zero point -128. */
    int32_t v = tml_rdbpot(q0, 31 - 8) - 128;
    return (int8_t)tml_clamp_i32(v, INT8_MIN, INT8_MAX);
}

int8_t tml_tanh_s8(const tml_sigmoid_params *p, int8_t x)
{
    const int32_t centered = (int32_t)x - p->in_zp;
    if (centered <= -p->range_radius)
        return INT8_MIN;
    if (centered >= p->range_radius)
        return INT8_MAX;
    int32_t q0 = tml_fp_tanh(input_q4(p, centered), INPUT_INTEGER_BITS);
    /* Q0.31 -> the output's Q0.7 (scale 1/128), zero point 0. */
    int32_t v = tml_rdbpot(q0, 31 - 7);
    return (int8_t)tml_clamp_i32(v, INT8_MIN, INT8_MAX);
}

/* ======================================================== registration */

typedef int8_t (*s8_fn)(const tml_sigmoid_params *, int8_t);

/* out_scale/out_zp: the int8 spec's fixed output quantization. */
static tml_status prepare_common(tml_interpreter *it, tml_node *n,
                                 float out_scale, int32_t out_zp,
                                 const char *out_scale_text, s8_fn fn)
{
    tml_tensor *in, *out;
    tml_status s = tml_unary_tensors(it, n, 1, &in, &out);
    if (s != TML_OK)
        return s;
    if (in->type == TML_FLOAT32)
        return TML_OK;
    if (TML_VALIDATE && in->type != TML_INT8)
        return tml_dtype_error(it, n, "input 0", in, "float32 or int8");
    if (TML_VALIDATE && (s = tml_check_quant(it, n, "input 0", in)) != TML_OK)
        return s;
    if (TML_VALIDATE && (s = tml_check_quant(it, n, "output 0", out)) != TML_OK)
        return s;
    /* The reference writes its result in this quantization whatever the
     * tensor says; a model that says otherwise would be misread. */
    if (TML_VALIDATE && (out->scale != out_scale || out->zero_point != out_zp))
        return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "output 0", out,
                                "int8 needs scale %s and zero point %d "
                                "(TFLite int8 spec), got scale %s and zero "
                                "point %d", out_scale_text, (int)out_zp,
                                out->scale == out_scale ? out_scale_text
                                                        : "another",
                                (int)out->zero_point);
    tml_sigmoid_params p;
    if (tml_sigmoid_params_init(&p, in->scale, in->zero_point) != 0 &&
        TML_VALIDATE)
        return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "input 0", in,
                                "input scale below 2^-28 is not supported");
    int8_t *lut = tml_alloc_persistent(it, 256);
    if (!lut)
        return TML_ERROR_ARENA;
    for (int32_t x = INT8_MIN; x <= INT8_MAX; x++)
        lut[(uint8_t)x] = fn(&p, (int8_t)x);
    n->user = lut;
    return TML_OK;
}

static tml_status logistic_prepare(tml_interpreter *it, tml_node *n)
{
    return prepare_common(it, n, 1.0f / 256.0f, -128, "1/256",
                          tml_logistic_s8);
}

static tml_status tanh_prepare(tml_interpreter *it, tml_node *n)
{
    return prepare_common(it, n, 1.0f / 128.0f, 0, "1/128", tml_tanh_s8);
}

static tml_status logistic_eval(tml_interpreter *it, tml_node *n)
{
    return tml_lut_or_f32_eval(it, n, tml_logistic_f32);
}

static tml_status tanh_eval(tml_interpreter *it, tml_node *n)
{
    return tml_lut_or_f32_eval(it, n, tml_tanh_f32);
}

/* Versions (TFLite op_version.cc): 1 float32, 2 int8 (3 is int16, which
 * needs TFLite's int16 sigmoid table and is not supported). */
const tml_kernel tml_kernel_logistic = { 14, 1, 2, logistic_prepare,
                                         logistic_eval };
const tml_kernel tml_kernel_tanh = { 28, 1, 2, tanh_prepare, tanh_eval };
