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
    if (real == 0.0) {
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
    int64_t q = (int64_t)zero_point + (int64_t)t;
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
