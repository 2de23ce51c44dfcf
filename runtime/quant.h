/*
 * Integer arithmetic shared by the quantized kernels, written to match
 * TFLite's reference semantics bit for bit (gemmlowp fixed point, double
 * rounding: TFLite Micro builds without TFLITE_SINGLE_ROUNDING).
 */
#ifndef TML_QUANT_H
#define TML_QUANT_H

#include <stdint.h>

/* gemmlowp SaturatingRoundingDoublingHighMul: (a*b*2 + 2^31) >> 32 with
 * round-half-away-from-zero; INT32_MIN*INT32_MIN saturates. */
int32_t tml_srdhm(int32_t a, int32_t b);

/* gemmlowp RoundingDivideByPOT: x / 2^exponent, rounding half away from
 * zero.  0 <= exponent <= 31. */
int32_t tml_rdbpot(int32_t x, int exponent);

/* TFLite MultiplyByQuantizedMultiplier: x * multiplier * 2^(shift - 31). */
int32_t tml_mul_by_qm(int32_t x, int32_t multiplier, int shift);

/* TFLite QuantizeMultiplier: real = multiplier * 2^(shift - 31),
 * multiplier in [2^30, 2^31) or 0.  Uses frexp semantics in double. */
void tml_quantize_multiplier(double real, int32_t *multiplier, int *shift);

/* Clamp range of a fused activation on a quantized output
 * (TFLite CalculateActivationRangeQuantized). qmin/qmax: the dtype's. */
void tml_activation_range_q(int activation, float scale, int32_t zero_point,
                            int32_t qmin, int32_t qmax, int32_t *out_min,
                            int32_t *out_max);

/* Clamp range of a fused activation on float (CalculateActivationRange). */
void tml_activation_range_f(int activation, float *out_min, float *out_max);

/* The frexp of a double without libm: m in [0.5, 1), v = m * 2^e. */
double tml_frexp(double v, int *e);

/* std::round for float (half away from zero) without libm. */
static inline float tml_roundf(float v)
{
    if (!(v > -8388608.0f && v < 8388608.0f))
        return v;   /* |v| >= 2^23 is integral already; NaN passes */
    float t = (float)(int32_t)v;
    float d = v - t;   /* exact for |v| < 2^23 */
    if (d >= 0.5f)
        t += 1.0f;
    else if (d <= -0.5f)
        t -= 1.0f;
    return t;
}

static inline int32_t tml_clamp_i32(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

static inline float tml_clamp_f(float v, float lo, float hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

#endif
