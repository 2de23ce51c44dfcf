/*
 * Prepare-time reals: IEEE-754 binary64 arithmetic emulated exactly in
 * integers (round to nearest, ties to even, gradual underflow), so that
 * kernel prepare code reproduces TFLite's `double` multiplier derivations
 * bit for bit without linking the soft-double routines (__aeabi_dmul,
 * __aeabi_ddiv, ...) on FPU-less or single-precision-FPU targets.
 *
 * A value is (neg ? -1 : 1) * m * 2^e with m in [2^52, 2^53), or zero
 * (m == 0; neg keeps the sign of zero as double does).  Infinity and NaN
 * are one "invalid" value, m == TML_REAL_INVALID_M and e == INT32_MAX, neg
 * its sign: it compares as +-infinity, every operation on it is invalid,
 * and tml_real_to_float() makes it +-infinity.  Overflow and division by
 * zero give it.  Not for hot paths: the loops are bit-serial.
 */
#ifndef TML_REAL_H
#define TML_REAL_H

#include <stdint.h>

typedef struct {
    uint64_t m;
    int32_t e;
    int32_t neg;
} tml_real;

#define TML_REAL_INVALID_M UINT64_MAX

static inline int tml_real_is_invalid(tml_real a)
{
    return a.m == TML_REAL_INVALID_M;
}

tml_real tml_real_from_float(float f);          /* exact, like (double)f */
tml_real tml_real_from_int(int64_t v);          /* like (double)v */
tml_real tml_real_mul(tml_real a, tml_real b);  /* a * b in double */
tml_real tml_real_div(tml_real a, tml_real b);  /* a / b in double */
tml_real tml_real_add(tml_real a, tml_real b);  /* a + b in double */
tml_real tml_real_sub(tml_real a, tml_real b);  /* a - b in double */
int tml_real_cmp(tml_real a, tml_real b);       /* -1, 0, 1 */
float tml_real_to_float(tml_real a);            /* (float)a */

/* tml_quantize_multiplier((double)real) bit for bit, including its
 * zero / non-finite / |real| > 1e300 / shift < -31 answers. */
void tml_quantize_multiplier_real(tml_real real, int32_t *multiplier,
                                  int *shift);

/* The commonest call: QuantizeMultiplier((double)a * (double)b / (double)c),
 * evaluated left to right as TFLite writes it. */
void tml_quantize_ratio(float a, float b, float c, int32_t *multiplier,
                        int *shift);

#endif
