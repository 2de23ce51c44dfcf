/* Minimal formatter; see format.h.  Every piece of output (a literal
 * character, a string argument or a number's digits) becomes one
 * NUL-terminated string that a single loop copies: small code, since this
 * is linked into every device build. */
#include "format.h"

#include <limits.h>

/* The argument of an integer conversion with `longs` 'l's (3: 'z'), read
 * with its own type and widened; for a negative signed value *negative is
 * set and the magnitude returned. */
static unsigned long long int_arg(va_list *ap, int longs, int is_signed,
                                  int *negative)
{
    *negative = 0;
    if (longs == 3)
        return va_arg(*ap, size_t);
    if (!is_signed) {
        if (longs == 2)
            return va_arg(*ap, unsigned long long);
        if (longs == 1)
            return va_arg(*ap, unsigned long);
        return va_arg(*ap, unsigned);
    }
    long long v = longs == 2 ? va_arg(*ap, long long)
                : longs == 1 ? va_arg(*ap, long) : va_arg(*ap, int);
    if (v >= 0)
        return (unsigned long long)v;
    *negative = 1;
    return (unsigned long long)(-(v + 1)) + 1u;
}

/* Values up to this divide natively (tests/runtime/test_format.c lowers
 * it to run the other path on a 64-bit host). */
#ifndef TML_FORMAT_NATIVE_MAX
#define TML_FORMAT_NATIVE_MAX ULONG_MAX
#endif

/* v / base, the remainder in *rem.  A value wider than long (only %lld and
 * %llu on 32-bit targets) takes bit-by-bit long division: a 64-bit '/'
 * would link the C library's 64-bit division (~750 bytes on Cortex-M),
 * which nothing else in a device build needs. */
static unsigned long long div_base(unsigned long long v, unsigned base,
                                   unsigned *rem)
{
    if (v <= TML_FORMAT_NATIVE_MAX) {
        *rem = (unsigned)((unsigned long)v % base);
        return (unsigned long)v / base;
    }
    unsigned r = 0;
    for (int i = 0; i < 64; i++) {   /* v becomes the quotient */
        r = (r << 1) | (unsigned)(v >> 63);
        v <<= 1;
        if (r >= base) {
            r -= base;
            v |= 1u;
        }
    }
    *rem = r;
    return v;
}

size_t tml_vformat(char *dst, size_t cap, const char *fmt, va_list ap)
{
    size_t len = 0;
    va_list copy;
    va_copy(copy, ap);
    for (const char *f = fmt; *f; f++) {
        char tmp[24];   /* 20 digits of 2^64 - 1, '-', NUL */
        const char *s = tmp;
        tmp[0] = *f;
        tmp[1] = '\0';
        if (*f == '%') {
            int longs = 0, negative;
            while (*++f == 'l')
                longs++;
            if (*f == 'z') {
                longs = 3;
                f++;
            }
            char c = *f;
            if (!c)
                break;   /* a lone '%' ends the format */
            if (c == 's') {
                s = va_arg(copy, const char *);
                s = s ? s : "(null)";
            } else if (c == 'd' || c == 'i' || c == 'u' || c == 'x') {
                unsigned base = c == 'x' ? 16 : 10;
                unsigned long long v = int_arg(&copy, longs, c == 'd' || c == 'i',
                                               &negative);
                char *p = tmp + sizeof tmp - 1;
                *p = '\0';
                do {
                    unsigned digit;
                    v = div_base(v, base, &digit);
                    *--p = "0123456789abcdef"[digit];
                } while (v);
                if (negative)
                    *--p = '-';
                s = p;
            } else if (c == 'c') {
                tmp[0] = (char)va_arg(copy, int);
            } else if (c != '%') {
                tmp[1] = c;   /* unknown conversions print as written */
                tmp[2] = '\0';
            }
        }
        for (; *s; s++) {
            if (len + 1 < cap)
                dst[len] = *s;
            len++;
        }
    }
    va_end(copy);
    if (cap)
        dst[len < cap ? len : cap - 1] = '\0';
    return len;
}

size_t tml_format(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = tml_vformat(dst, cap, fmt, ap);
    va_end(ap);
    return n;
}
