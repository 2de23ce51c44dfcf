/* Prepare-time reals; see real.h.  Every operation forms the exact result
 * (or its leading 55+ bits and a sticky bit for the rest) in integers and
 * rounds it once in round_pack(), as an IEEE-754 unit does.  No 64-bit
 * `/` or `%` (they pull __udivmoddi4 on 32-bit ARM). */
#include "real.h"

#include <string.h>

#define TOP ((uint64_t)1 << 63)

static tml_real invalid(int32_t neg)
{
    tml_real r = {TML_REAL_INVALID_M, INT32_MAX, neg};
    return r;
}

/* Rounds r->m * 2^r->e (+ a sticky fraction of its LSB) in place, to
 * nearest-even at binary64 precision, or binary32 with to_float: 53 (24)
 * bits, the least significant bit's exponent at least -1074 (-149),
 * gradual underflow, and the value below 2^1024 (2^128), else the invalid
 * value (overflow).  sticky != 0 means nonzero bits below m's LSB; callers
 * pass it only with m >= 2^54, so it lies below the rounding position.  The
 * result is normalised to m in [2^52, 2^53) either way (binary64 holds
 * any binary32 exactly).  Bit-serial on purpose: one-bit shifts are a
 * couple of instructions on Thumb, variable 64-bit shifts many. */
static void round_pack(tml_real *r, int sticky, int to_float)
{
    const int bits = to_float ? 24 : 53;
    const int32_t emin = to_float ? -149 : -1074;
    uint64_t m = r->m;
    int32_t e = r->e;
    r->m = 0;
    r->e = 0;
    if (m == 0)
        return;
    while (!(m & TOP)) {
        m <<= 1;
        e--;
    }
    /* Drop low bits into guard (the half bit) and sticky (the rest). */
    int guard = 0;
    for (int n = 64; n > bits || e < emin; n--) {
        sticky |= guard;
        guard = (int)(m & 1);
        m >>= 1;
        e++;
    }
    if (guard && (sticky || (m & 1)))
        m++;
    if (m == 0)
        return;
    while (m >> 53) {   /* rounding carried out to 2^53: low bit is 0 */
        m >>= 1;
        e++;
    }
    while (!(m >> 52)) {
        m <<= 1;
        e--;
    }
    if (e + 53 > (to_float ? 128 : 1024)) {
        m = TML_REAL_INVALID_M;
        e = INT32_MAX;
    }
    r->m = m;
    r->e = e;
}

tml_real tml_real_from_float(float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    int32_t exp = (int32_t)((bits >> 23) & 0xff);
    /* Subnormal (or 0): frac * 2^-149; normal: (2^23 + frac) * 2^(exp-150). */
    tml_real r = {bits & 0x7fffff, exp ? exp - 150 : -149,
                  (int32_t)(bits >> 31)};
    if (exp == 0xff)
        return invalid(r.neg);
    if (exp)
        r.m |= 0x800000;
    round_pack(&r, 0, 0);
    return r;
}

tml_real tml_real_from_int(int64_t v)
{
    tml_real r = {v < 0 ? 0 - (uint64_t)v : (uint64_t)v, 0, v < 0};
    round_pack(&r, 0, 0);
    return r;
}

tml_real tml_real_mul(tml_real a, tml_real b)
{
    int32_t neg = a.neg ^ b.neg;
    if (tml_real_is_invalid(a) || tml_real_is_invalid(b))
        return invalid(neg);
    /* 53 x 53 -> 106 bits from four 32 x 32 -> 64 products (a zero
     * operand gives 0, rounded to a zero of the right sign). */
    uint64_t al = (uint32_t)a.m, ah = a.m >> 32;
    uint64_t bl = (uint32_t)b.m, bh = b.m >> 32;
    uint64_t lo = al * bl;
    uint64_t mid1 = al * bh, mid2 = ah * bl;
    uint64_t hi = ah * bh;
    uint64_t mid = (lo >> 32) + (uint32_t)mid1 + (uint32_t)mid2;
    hi += (mid1 >> 32) + (mid2 >> 32) + (mid >> 32);
    lo = (lo & 0xffffffffu) | (mid << 32);
    /* product < 2^106: keep its top 64 bits (hi:lo >> 42) + sticky. */
    tml_real r = {(hi << 22) | (lo >> 42), a.e + b.e + 42, neg};
    round_pack(&r, (lo << 22) != 0, 0);
    return r;
}

tml_real tml_real_div(tml_real a, tml_real b)
{
    int32_t neg = a.neg ^ b.neg;
    if (tml_real_is_invalid(a) || tml_real_is_invalid(b) || b.m == 0)
        return invalid(neg);
    /* Restoring division: q = floor(a.m * 2^55 / b.m) in [2^54, 2^56)
     * (0 for a zero a); the remainder rem < 2 * b.m < 2^54 never
     * overflows. */
    uint64_t rem = a.m;
    tml_real r = {0, a.e - b.e - 55, neg};
    for (int i = 0; i < 56; i++) {
        r.m <<= 1;
        if (rem >= b.m) {
            rem -= b.m;
            r.m |= 1;
        }
        rem <<= 1;
    }
    round_pack(&r, rem != 0, 0);
    return r;
}

/* a + (negate ? -b : b). */
static tml_real add_signed(const tml_real *pa, const tml_real *pb, int negate)
{
    tml_real a = *pa, b = *pb;
    b.neg ^= negate;
    if (tml_real_is_invalid(a) || tml_real_is_invalid(b))
        return invalid(tml_real_is_invalid(a) ? a.neg : b.neg);
    if (b.m == 0) {
        if (a.m == 0)
            a.neg &= b.neg;   /* -0 + -0 = -0; otherwise +0 */
        return a;
    }
    if (a.m == 0)
        return b;
    if (a.e < b.e || (a.e == b.e && a.m < b.m)) {   /* |a| >= |b| */
        tml_real t = a;
        a = b;
        b = t;
    }
    /* 10 guard bits (values < 2^63), then b aligned to a's exponent; the
     * bits shifted out of b become the sticky bit. */
    uint64_t mb = b.m << 10;
    int sticky = 0;
    for (int32_t d = a.e - b.e; d > 0 && mb; d--) {
        sticky |= (int)(mb & 1);
        mb >>= 1;
    }
    a.m <<= 10;
    a.e -= 10;
    if (a.neg == b.neg) {
        a.m += mb;
    } else {
        /* ma - (mb + fraction) = (ma - mb - 1) + (1 - fraction).  A sticky
         * bit means b moved by >= 11, so the difference stays >= 2^61;
         * an exact 0 is +0 when rounding to nearest (x - x = +0). */
        a.m -= mb + (uint64_t)sticky;
        if (a.m == 0)
            a.neg = 0;
    }
    round_pack(&a, sticky, 0);
    return a;
}

tml_real tml_real_add(tml_real a, tml_real b)
{
    return add_signed(&a, &b, 0);
}

tml_real tml_real_sub(tml_real a, tml_real b)
{
    return add_signed(&a, &b, 1);
}

int tml_real_cmp(tml_real a, tml_real b)
{
    int sa = a.m == 0 ? 0 : (a.neg ? -1 : 1);   /* -0 counts as +0 */
    int sb = b.m == 0 ? 0 : (b.neg ? -1 : 1);
    if (sa != sb)
        return sa < sb ? -1 : 1;
    /* Same sign, both nonzero: normalised, so exponent then mantissa
     * (the invalid value's e = INT32_MAX puts it above every number). */
    int mag = 0;
    if (a.e != b.e)
        mag = a.e > b.e ? 1 : -1;
    else if (a.m != b.m)
        mag = a.m > b.m ? 1 : -1;
    return sa * mag;
}

float tml_real_to_float(tml_real a)
{
    uint32_t bits = (uint32_t)(a.neg ? 1u : 0u) << 31;
    tml_real r = a;
    if (!tml_real_is_invalid(a))
        round_pack(&r, 0, 1);
    if (tml_real_is_invalid(r)) {
        bits |= 0x7f800000u;
    } else if (r.m != 0) {
        /* r = r.m * 2^r.e with r.m in [2^52, 2^53): the value's binary
         * exponent is r.e + 52; its float field is biased by 127. */
        int32_t be = r.e + 52 + 127;
        if (be > 0)
            bits |= ((uint32_t)be << 23) | ((uint32_t)(r.m >> 29) & 0x7fffff);
        else   /* subnormal: the LSB exponent is >= -149 by rounding */
            bits |= (uint32_t)(r.m >> (-149 - r.e));
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

void tml_quantize_multiplier_real(tml_real real, int32_t *multiplier,
                                  int *shift)
{
    /* tml_quantize_multiplier's guard |real| > 1e300, the double nearest
     * 1e300 being 0x17e43c8800759c * 2^944 (the invalid value's
     * e = INT32_MAX is above it too). */
    const uint64_t big_m = 0x17e43c8800759cu;
    *multiplier = 0;
    *shift = 0;
    if (real.m == 0 || real.e > 944 || (real.e == 944 && real.m > big_m))
        return;   /* zero, inf, nan, |real| > 1e300 */
    /* frexp: real = (m / 2^53) * 2^(e + 53); the Q31 fraction is
     * round-half-away(m / 2^22). */
    int32_t s = real.e + 53;
    uint64_t q = (real.m + ((uint64_t)1 << 21)) >> 22;
    if (q == ((uint64_t)1 << 31) && !real.neg) {
        /* As TFLite: only a positive 2^31 is renormalised; a negative
         * one stays -2^31 (INT32_MIN). */
        q >>= 1;
        s++;
    }
    if (s < -31)
        return;
    *multiplier = (int32_t)(real.neg ? -(int64_t)q : (int64_t)q);
    *shift = (int)s;
}

void tml_quantize_ratio(float a, float b, float c, int32_t *multiplier,
                        int *shift)
{
    tml_real r = tml_real_mul(tml_real_from_float(a), tml_real_from_float(b));
    tml_quantize_multiplier_real(tml_real_div(r, tml_real_from_float(c)),
                                 multiplier, shift);
}
