/* Minimal formatter; see format.h. */
#include "format.h"

#include <stdint.h>

typedef struct out {
    char *dst;
    size_t cap, len;
} out;

static void put(out *o, char c)
{
    if (o->len + 1 < o->cap)
        o->dst[o->len] = c;
    o->len++;
}

static void put_str(out *o, const char *s)
{
    if (!s)
        s = "(null)";
    while (*s)
        put(o, *s++);
}

static void put_unsigned(out *o, unsigned long long v, unsigned base)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v && n < (int)sizeof tmp);
    while (n)
        put(o, tmp[--n]);
}

static void put_signed(out *o, long long v)
{
    if (v < 0) {
        put(o, '-');
        put_unsigned(o, (unsigned long long)(-(v + 1)) + 1u, 10);
        return;
    }
    put_unsigned(o, (unsigned long long)v, 10);
}

/* Handles one conversion after '%'; returns the next fmt position. */
static const char *convert(out *o, const char *f, va_list *ap)
{
    int longs = 0, size = 0;
    while (*f == 'l') {
        longs++;
        f++;
    }
    if (*f == 'z') {
        size = 1;
        f++;
    }
    switch (*f) {
    case 'd':
    case 'i':
        if (size)
            put_signed(o, (long long)va_arg(*ap, size_t));
        else if (longs >= 2)
            put_signed(o, va_arg(*ap, long long));
        else if (longs == 1)
            put_signed(o, va_arg(*ap, long));
        else
            put_signed(o, va_arg(*ap, int));
        break;
    case 'u':
    case 'x':
        if (size)
            put_unsigned(o, va_arg(*ap, size_t), *f == 'x' ? 16 : 10);
        else if (longs >= 2)
            put_unsigned(o, va_arg(*ap, unsigned long long), *f == 'x' ? 16 : 10);
        else if (longs == 1)
            put_unsigned(o, va_arg(*ap, unsigned long), *f == 'x' ? 16 : 10);
        else
            put_unsigned(o, va_arg(*ap, unsigned), *f == 'x' ? 16 : 10);
        break;
    case 's':
        put_str(o, va_arg(*ap, const char *));
        break;
    case 'c':
        put(o, (char)va_arg(*ap, int));
        break;
    case '%':
        put(o, '%');
        break;
    case '\0':
        return f;
    default:
        put(o, '%');
        put(o, *f);
        break;
    }
    return f + 1;
}

size_t tml_vformat(char *dst, size_t cap, const char *fmt, va_list ap)
{
    out o = { dst, cap, 0 };
    va_list copy;
    va_copy(copy, ap);
    const char *f = fmt;
    while (*f) {
        if (*f != '%') {
            put(&o, *f++);
            continue;
        }
        f = convert(&o, f + 1, &copy);
    }
    va_end(copy);
    if (cap)
        dst[o.len < cap ? o.len : cap - 1] = '\0';
    return o.len;
}

size_t tml_format(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = tml_vformat(dst, cap, fmt, ap);
    va_end(ap);
    return n;
}
