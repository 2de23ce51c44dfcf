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
 * multiplier in [2^30, 2^31) or 0.  Uses frexp semantics in double.
 * Host and hybrid code only: int8/int16 kernels derive their multipliers
 * with tml_quantize_multiplier_real / tml_quantize_ratio (real.h), the
 * same results without linking soft-double routines on the MCU. */
void tml_quantize_multiplier(double real, int32_t *multiplier, int *shift);

/* Clamp range of a fused activation on a quantized output
 * (TFLite CalculateActivationRangeQuantized). qmin/qmax: the dtype's. */
void tml_activation_range_q(int activation, float scale, int32_t zero_point,
                            int32_t qmin, int32_t qmax, int32_t *out_min,
                            int32_t *out_max);

/* Clamp range of a fused activation on float (CalculateActivationRange). */
void tml_activation_range_f(int activation, float *out_min, float *out_max);

/* n / d (and n % d into *rem when rem is not NULL) for d > 0, without
 * C's 64-bit `/`, which on 32-bit ARM links libgcc's __aeabi_uldivmod /
 * __udivmoddi4 (~0.7 KB): restoring shift-subtract, 64 one-bit steps.
 * For prepare-time and message code, not hot loops. */
uint64_t tml_udivmod64(uint64_t n, uint32_t d, uint32_t *rem);

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

/* ---- gemmlowp FixedPoint<int32_t, N> math (fixedpoint.h) ----
 * A Q-format value with N integer bits is an int32 raw x meaning
 * x / 2^(31 - N).  Products of Qa and Qb values are tml_srdhm() in Q(a+b).
 * Sums are plain (wrapping) adds, as gemmlowp's Add on int32. */

/* Number of leading zero bits of x; 32 for 0 (CountLeadingZeros). */
int tml_clz32(uint32_t x);

/* gemmlowp SaturatingRoundingMultiplyByPOT: exponent > 0 shifts left and
 * saturates to [INT32_MIN, INT32_MAX]; exponent < 0 is tml_rdbpot. */
int32_t tml_fp_mul_pot(int32_t x, int exponent);

/* gemmlowp RoundingHalfSum: (a + b) / 2 rounded half away from zero. */
int32_t tml_fp_rounding_half_sum(int32_t a, int32_t b);

/* gemmlowp exp_on_negative_values: exp(a) for a <= 0 given in
 * Q(integer_bits) (0 <= integer_bits <= 26), result in Q0. */
int32_t tml_fp_exp_on_negative_values(int32_t a, int integer_bits);

/* gemmlowp one_over_one_plus_x_for_x_in_0_1: 1 / (1 + a), a in [0, 1) Q0,
 * result Q0 (Newton-Raphson, 3 steps). */
int32_t tml_fp_one_over_one_plus_x(int32_t a);

/* gemmlowp one_minus_x_over_one_plus_x_for_x_in_0_1: (1 - a) / (1 + a). */
int32_t tml_fp_one_minus_x_over_one_plus_x(int32_t a);

/* gemmlowp logistic / tanh of a Q(integer_bits) value; result Q0. */
int32_t tml_fp_logistic(int32_t a, int integer_bits);
int32_t tml_fp_tanh(int32_t a, int integer_bits);

/* TFLite GetReciprocal (kernels/internal/common.h): for x > 0 in
 * Q(x_integer_digits), returns 1/x scaled into Q0 as
 * 1/x = result * 2^-num_bits_over_unit. */
int32_t tml_fp_get_reciprocal(int32_t x, int x_integer_digits,
                              int *num_bits_over_unit);

/* tml_mul_by_qm for hot loops: the same result, inlined, for a
 * multiplier >= 0 (as every TFLite quantized multiplier is).
 * SRDHM without saturation (impossible for multiplier >= 0) is
 * floor((x * m + 2^30) / 2^31): gemmlowp's nudge-and-truncate rounds half
 * up, which is what the floor of the half-up sum gives for both signs.
 * RoundingDivideByPOT by r >= 1 is floor((v + 2^(r-1) - [v < 0]) / 2^r). */
static inline int32_t tml_mul_by_qm_inl(int32_t x, int32_t multiplier, int shift)
{
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    int64_t x_shifted = (int32_t)((uint32_t)x << left);
    int64_t hi = (x_shifted * multiplier + ((int64_t)1 << 30)) >> 31;
    int64_t round = ((int64_t)1 << right) >> 1;
    int64_t neg = right > 0 ? (hi < 0) : 0;
    return (int32_t)((hi + round - neg) >> right);
}

/* The most products an int8 dot product may sum: 65536 x 128 x 255 <
 * 2^31, so the int32 accumulator cannot overflow.  Kernels reject deeper
 * sums in prepare (real models stay far below: 3x3x1024 = 9216). */
#define TML_MAX_ACCUM_DEPTH 65536

/* a + b with two's-complement wrap-around, as TFLite's int32 adds behave on
 * every target it runs on, without C's undefined signed overflow (a hostile
 * bias can reach it). */
static inline int32_t tml_add_wrap(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

#endif
