/*
 * A small printf for error messages (the runtime has no stdio).
 * Conversions: %d %i %u %x (int), %ld %lu (long), %lld %llu (long long),
 * %zu (size_t), %s (NULL prints "(null)"), %c, %%.  Width/precision are not
 * supported; an unknown conversion prints as written.  Always NUL-terminates
 * when cap > 0; truncates silently; returns the untruncated length.  Uses no
 * 64-bit division on 32-bit targets (see format.c).
 */
#ifndef TML_FORMAT_H
#define TML_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

size_t tml_vformat(char *dst, size_t cap, const char *fmt, va_list ap);
size_t tml_format(char *dst, size_t cap, const char *fmt, ...);

#endif
