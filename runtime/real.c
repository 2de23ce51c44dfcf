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

/* Rounds (m + sticky fraction) * 2^e to nearest-even at `bits` of
 * precision, with the least significant bit's exponent at least `emin`
 * (gradual underflow) and the value below 2^emax (else overflow).
 * sticky != 0 means nonzero bits below m's LSB; callers pass it only with
 * m >= 2^54, so it always lies below the rounding position.  The result is
 * normalised to m in [2^52, 2^53) whatever `bits` is (binary64 holds any
 * binary32 exactly).  Bit-serial on purpose: one-bit shifts are a couple
 * of instructions on Thumb, variable 64-bit shifts many. */
static tml_real round_pack(int32_t neg, uint64_t m, int32_t e, int sticky,
                           int bits, int32_t emin, int32_t emax)
{
    tml_real r = {0, 0, neg};
    if (m == 0)
        return r;
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
        return r;
    while (m >> 53) {   /* rounding carried out to 2^53: low bit is 0 */
        m >>= 1;
        e++;
    }
    while (!(m >> 52)) {
        m <<= 1;
        e--;
    }
    if (e + 53 > emax)
        return invalid(neg);
    r.m = m;
    r.e = e;
    return r;
}

static tml_real round_double(int32_t neg, uint64_t m, int32_t e, int sticky)
{
    return round_pack(neg, m, e, sticky, 53, -1074, 1024);
}

tml_real tml_real_from_float(float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    int32_t neg = (int32_t)(bits >> 31);
    int32_t exp = (int32_t)((bits >> 23) & 0xff);
    uint32_t frac = bits & 0x7fffff;
    if (exp == 0xff)
        return invalid(neg);
    if (exp == 0)
        return round_double(neg, frac, -149, 0);   /* subnormal (or 0) */
    return round_double(neg, frac | 0x800000, exp - 150, 0);
}

tml_real tml_real_from_int(int64_t v)
{
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    return round_double(v < 0, u, 0, 0);
}

tml_real tml_real_mul(tml_real a, tml_real b)
{
    int32_t neg = a.neg ^ b.neg;
    if (tml_real_is_invalid(a) || tml_real_is_invalid(b))
        return invalid(neg);
    if (a.m == 0 || b.m == 0) {
        tml_real z = {0, 0, neg};
        return z;
    }
    /* 53 x 53 -> 106 bits from four 32 x 32 -> 64 products. */
    uint64_t al = (uint32_t)a.m, ah = a.m >> 32;
    uint64_t bl = (uint32_t)b.m, bh = b.m >> 32;
    uint64_t lo = al * bl;
    uint64_t mid1 = al * bh, mid2 = ah * bl;
    uint64_t hi = ah * bh;
    uint64_t mid = (lo >> 32) + (uint32_t)mid1 + (uint32_t)mid2;
    hi += (mid1 >> 32) + (mid2 >> 32) + (mid >> 32);
    lo = (lo & 0xffffffffu) | (mid << 32);
    /* product < 2^106: keep its top 64 bits (hi:lo >> 42) + sticky. */
    uint64_t top = (hi << 22) | (lo >> 42);
    return round_double(neg, top, a.e + b.e + 42, (lo << 22) != 0);
}

tml_real tml_real_div(tml_real a, tml_real b)
{
    int32_t neg = a.neg ^ b.neg;
    if (tml_real_is_invalid(a) || tml_real_is_invalid(b) || b.m == 0)
        return invalid(neg);
    if (a.m == 0) {
        tml_real z = {0, 0, neg};
        return z;
    }
    /* Restoring division: q = floor(a.m * 2^55 / b.m) in [2^54, 2^56);
     * the remainder r < 2 * b.m < 2^54 never overflows. */
    uint64_t r = a.m, q = 0;
    for (int i = 0; i < 56; i++) {
        q <<= 1;
        if (r >= b.m) {
            r -= b.m;
            q |= 1;
        }
        r <<= 1;
    }
    return round_double(neg, q, a.e - b.e - 55, r != 0);
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
    uint64_t ma = a.m << 10, mb = b.m << 10;
    int sticky = 0;
    for (int32_t d = a.e - b.e; d > 0 && mb; d--) {
        sticky |= (int)(mb & 1);
        mb >>= 1;
    }
    if (a.neg == b.neg)
        return round_double(a.neg, ma + mb, a.e - 10, sticky);
    /* ma - (mb + fraction) = (ma - mb - 1) + (1 - fraction).  A sticky
     * bit means b moved by >= 2, so the difference stays >= 2^61. */
    uint64_t s = ma - mb - (uint64_t)sticky;
    if (s == 0) {
        tml_real z = {0, 0, 0};   /* x - x = +0 when rounding to nearest */
        return z;
    }
    return round_double(a.neg, s, a.e - 10, sticky);
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
        r = round_pack(a.neg, a.m, a.e, 0, 24, -149, 128);
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
