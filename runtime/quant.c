/* Shared quantized arithmetic; see quant.h for the contracts. */
#include "quant.h"

#include <string.h>

#include "kernel.h"

int32_t tml_srdhm(int32_t a, int32_t b)
{
    /* gemmlowp: the only overflow case is INT32_MIN * INT32_MIN. */
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    int64_t ab = (int64_t)a * (int64_t)b;
    int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    /* Division (not shift) truncates toward zero, as gemmlowp does. */
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

int32_t tml_rdbpot(int32_t x, int exponent)
{
    int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

int32_t tml_mul_by_qm(int32_t x, int32_t multiplier, int shift)
{
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    /* x * 2^left is done in unsigned to keep wrap-around defined, as
     * TFLite's int multiply does on every target it runs on. */
    int32_t shifted = (int32_t)((uint32_t)x << left);
    return tml_rdbpot(tml_srdhm(shifted, multiplier), right);
}

uint64_t tml_udivmod64(uint64_t n, uint32_t d, uint32_t *rem)
{
    /* Long division, one numerator bit at a time; r < 2 * d < 2^33. */
    uint64_t q = 0, r = 0;
    for (int i = 0; i < 64; i++) {
        r = (r << 1) | (n >> 63);
        n <<= 1;
        q <<= 1;
        if (r >= d) {
            r -= d;
            q |= 1;
        }
    }
    if (rem)
        *rem = (uint32_t)r;
    return q;
}

double tml_frexp(double v, int *e)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    int exp = (int)((bits >> 52) & 0x7ff);
    if (v == 0.0 || exp == 0x7ff) {   /* zero, inf, nan: as frexp */
        *e = 0;
        return v;
    }
    if (exp == 0) {                    /* subnormal: scale up first */
        double r = tml_frexp(v * 18014398509481984.0 /* 2^54 */, e);
        *e -= 54;
        return r;
    }
    *e = exp - 1022;
    bits = (bits & ~((uint64_t)0x7ff << 52)) | ((uint64_t)1022 << 52);
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* std::round: half away from zero. */
static int64_t round_half_away(double v)
{
    return v >= 0 ? (int64_t)(v + 0.5) : -(int64_t)(-v + 0.5);
}

void tml_quantize_multiplier(double real, int32_t *multiplier, int *shift)
{
    /* Not finite (a hostile scale ratio overflowed) or zero: no multiplier,
     * rather than undefined float-to-int conversions.  Kernels reject such
     * scales in prepare; this keeps the arithmetic defined regardless. */
    if (real == 0.0 || real != real || real > 1e300 || real < -1e300) {
        *multiplier = 0;
        *shift = 0;
        return;
    }
    double q = tml_frexp(real, shift);
    int64_t q_fixed = round_half_away(q * (double)((int64_t)1 << 31));
    if (q_fixed == ((int64_t)1 << 31)) {
        q_fixed /= 2;
        ++*shift;
    }
    if (*shift < -31) {
        *shift = 0;
        q_fixed = 0;
    }
    *multiplier = (int32_t)q_fixed;
}

/* TFLite Quantize() in kernel_util.cc: zero_point + round(v / scale),
 * in float; a result past int32 (degenerate scale) saturates. */
static int32_t quantize_real(float scale, int32_t zero_point, float v)
{
    float t = tml_roundf(v / scale);
    if (!(t > -2147483648.0f))
        return INT32_MIN;
    if (!(t < 2147483648.0f))
        return INT32_MAX;
    /* Through int32 (t is integral and inside it): a float -> int64
     * conversion is __aeabi_f2lz on 32-bit ARM, which libgcc does in soft
     * double. */
    int64_t q = (int64_t)zero_point + (int32_t)t;
    return (int32_t)(q < INT32_MIN ? INT32_MIN : (q > INT32_MAX ? INT32_MAX : q));
}

void tml_activation_range_q(int activation, float scale, int32_t zero_point,
                            int32_t qmin, int32_t qmax, int32_t *out_min,
                            int32_t *out_max)
{
    int32_t lo = qmin, hi = qmax;
    if (activation == TML_ACT_RELU) {
        int32_t z = quantize_real(scale, zero_point, 0.0f);
        lo = z > lo ? z : lo;
    } else if (activation == TML_ACT_RELU6) {
        int32_t z = quantize_real(scale, zero_point, 0.0f);
        int32_t six = quantize_real(scale, zero_point, 6.0f);
        lo = z > lo ? z : lo;
        hi = six < hi ? six : hi;
    } else if (activation == TML_ACT_RELU_N1_TO_1) {
        int32_t m1 = quantize_real(scale, zero_point, -1.0f);
        int32_t p1 = quantize_real(scale, zero_point, 1.0f);
        lo = m1 > lo ? m1 : lo;
        hi = p1 < hi ? p1 : hi;
    }
    *out_min = lo;
    *out_max = hi;
}

void tml_activation_range_f(int activation, float *out_min, float *out_max)
{
    *out_min = -3.4028234663852886e38f;
    *out_max = 3.4028234663852886e38f;
    if (activation == TML_ACT_RELU) {
        *out_min = 0.0f;
    } else if (activation == TML_ACT_RELU6) {
        *out_min = 0.0f;
        *out_max = 6.0f;
    } else if (activation == TML_ACT_RELU_N1_TO_1) {
        *out_min = -1.0f;
        *out_max = 1.0f;
    }
}

/* ---- gemmlowp fixed-point math (see quant.h) ---- */

/* gemmlowp's int32 Add/Sub/Neg; done in unsigned so that wrap-around is
 * defined in C (the reference never overflows on valid inputs). */
static int32_t fp_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static int32_t fp_sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }
static int32_t fp_neg(int32_t a) { return (int32_t)(0u - (uint32_t)a); }

int tml_clz32(uint32_t x)
{
    if (x == 0)
        return 32;
    int n = 0;
    if (x <= 0x0000ffffu) { n += 16; x <<= 16; }
    if (x <= 0x00ffffffu) { n += 8; x <<= 8; }
    if (x <= 0x0fffffffu) { n += 4; x <<= 4; }
    if (x <= 0x3fffffffu) { n += 2; x <<= 2; }
    if (x <= 0x7fffffffu) { n += 1; }
    return n;
}

int32_t tml_fp_mul_pot(int32_t x, int exponent)
{
    if (exponent < 0)
        return tml_rdbpot(x, -exponent);
    if (exponent == 0)
        return x;
    /* gemmlowp: saturate when |x| would pass 2^(31 - exponent) - 1. */
    int32_t threshold = (int32_t)(((int64_t)1 << (31 - exponent)) - 1);
    if (x > threshold)
        return INT32_MAX;
    if (x < -threshold)
        return INT32_MIN;
    return (int32_t)((uint32_t)x << exponent);
}

int32_t tml_fp_rounding_half_sum(int32_t a, int32_t b)
{
    int64_t sum = (int64_t)a + (int64_t)b;
    int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2);   /* C division truncates, as C++ */
}

/* exp(a) for a in [-1/4, 0), Q0 in and out: Taylor series around -1/8
 * (gemmlowp exp_on_interval_between_negative_one_quarter_and_0_excl). */
static int32_t exp_on_quarter_interval(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668;   /* exp(-1/8) Q0 */
    const int32_t one_third = 715827883;                /* 1/3 Q0 */
    int32_t x = fp_add(a, (int32_t)1 << 28);            /* a + 1/8 */
    int32_t x2 = tml_srdhm(x, x);
    int32_t x3 = tml_srdhm(x2, x);
    int32_t x4 = tml_srdhm(x2, x2);
    int32_t x4_over_4 = tml_rdbpot(x4, 2);
    int32_t poly = tml_rdbpot(
        fp_add(tml_srdhm(fp_add(x4_over_4, x3), one_third), x2), 1);
    return fp_add(exp_minus_one_eighth,
                  tml_srdhm(exp_minus_one_eighth, fp_add(x, poly)));
}

int32_t tml_fp_exp_on_negative_values(int32_t a, int integer_bits)
{
    /* exp(-2^k) in Q0 for k = -2 .. 4, gemmlowp's barrel-shifter table. */
    static const int32_t exp_neg_pot[7] = {
        1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242
    };
    const int frac_bits = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)1 << (frac_bits - 2);
    const int32_t mask = one_quarter - 1;
    int32_t a_mod_quarter_minus_quarter = fp_sub(a & mask, one_quarter);
    int32_t result = exp_on_quarter_interval(
        tml_fp_mul_pot(a_mod_quarter_minus_quarter, integer_bits));
    int32_t remainder = fp_sub(a_mod_quarter_minus_quarter, a);
    for (int k = 0; k < 7; k++) {
        int exponent = k - 2;
        if (integer_bits <= exponent)
            break;
        int shift = frac_bits + exponent;
        if (remainder & ((int32_t)1 << shift))
            result = tml_srdhm(result, exp_neg_pot[k]);
    }
    if (integer_bits > 5) {
        /* Below -32 the result is 0 (gemmlowp clamps; the table stops). */
        int32_t clamp = -((int32_t)1 << (36 - integer_bits));
        if (a < clamp)
            result = 0;
    }
    if (a == 0)
        result = INT32_MAX;   /* Q0 "one" */
    return result;
}

/* Newton-Raphson for 1 / half_denominator in Q2; shared by the two
 * gemmlowp division helpers.  Returns x ~ 1 / (2 * half_denominator). */
static int32_t newton_reciprocal_q2(int32_t half_denominator)
{
    const int32_t c48_over_17 = 1515870810;        /* 48/17 in Q2 */
    const int32_t c_neg_32_over_17 = -1010580540;  /* -32/17 in Q2 */
    const int32_t one_q2 = (int32_t)1 << 29;
    int32_t x = fp_add(c48_over_17, tml_srdhm(half_denominator, c_neg_32_over_17));
    for (int i = 0; i < 3; i++) {
        int32_t half_denominator_times_x = tml_srdhm(half_denominator, x);
        int32_t one_minus = fp_sub(one_q2, half_denominator_times_x);
        /* x * one_minus is Q4; Rescale<2> multiplies by 4, saturating. */
        x = fp_add(x, tml_fp_mul_pot(tml_srdhm(x, one_minus), 2));
    }
    return x;
}

int32_t tml_fp_one_over_one_plus_x(int32_t a)
{
    int32_t half_denominator = tml_fp_rounding_half_sum(a, INT32_MAX);
    int32_t x = newton_reciprocal_q2(half_denominator);
    /* ExactMulByPot<-1> makes it Q1; Rescale<0> is a saturating << 1. */
    return tml_fp_mul_pot(x, 1);
}

int32_t tml_fp_one_minus_x_over_one_plus_x(int32_t a)
{
    int32_t half_denominator = tml_fp_rounding_half_sum(a, INT32_MAX);
    int32_t x = newton_reciprocal_q2(half_denominator);
    return tml_fp_mul_pot(fp_sub(x, (int32_t)1 << 29), 2);
}

int32_t tml_fp_logistic(int32_t a, int integer_bits)
{
    if (a == 0)
        return (int32_t)1 << 30;   /* 0.5 */
    int32_t abs_a = a > 0 ? a : fp_neg(a);
    int32_t pos = tml_fp_one_over_one_plus_x(
        tml_fp_exp_on_negative_values(fp_neg(abs_a), integer_bits));
    return a > 0 ? pos : fp_sub(INT32_MAX, pos);
}

int32_t tml_fp_tanh(int32_t a, int integer_bits)
{
    if (a == 0)
        return 0;
    int32_t n = a < 0 ? a : fp_neg(a);
    /* ExactMulByPot<1>: the same raw read with one more integer bit. */
    int32_t t = tml_fp_one_minus_x_over_one_plus_x(
        tml_fp_exp_on_negative_values(n, integer_bits + 1));
    return a < 0 ? fp_neg(t) : t;
}

int32_t tml_fp_get_reciprocal(int32_t x, int x_integer_digits,
                              int *num_bits_over_unit)
{
    int headroom_plus_one = tml_clz32((uint32_t)x);
    *num_bits_over_unit = x_integer_digits - headroom_plus_one;
    if (headroom_plus_one >= 32)   /* x == 0: undefined upstream; saturate */
        return INT32_MAX;
    int32_t shifted_minus_one = (int32_t)(((uint32_t)x << headroom_plus_one)
                                          - ((uint32_t)1 << 31));
    return tml_fp_one_over_one_plus_x(shifted_minus_one);
}
