/*
 * Little-endian FlatBuffers primitives (the subset the TFLite schema needs):
 * tables with vtables, vectors, strings.
 *
 * Checked helpers return TML_FB_OK or an error code and, on error, leave the
 * offending file offset in fb->where for the caller's message.  Offsets are
 * relative to fb->base; arithmetic is done in uint64 so a hostile offset or
 * length cannot wrap.  The file size is limited to TML_FB_MAX_SIZE
 * (FlatBuffers' own 2 GiB limit), so every in-bounds offset fits in uint32.
 *
 * Unchecked helpers (tml_fb_u16/u32/u64, tml_fb_pos) read a file that a
 * verifier has already walked ("verify once, then trust").
 */
#ifndef TML_FB_H
#define TML_FB_H

#include <stddef.h>
#include <stdint.h>

#define TML_FB_MAX_SIZE 0x7fffffffu

typedef struct tml_fb {
    const uint8_t *base;
    uint32_t size;
    uint32_t where;         /* offset named by the last error */
} tml_fb;

enum {
    TML_FB_OK = 0,
    TML_FB_BOUNDS,          /* object or element past the end of the file */
    TML_FB_ALIGN,           /* misaligned offset or vector */
    TML_FB_VTABLE_BOUNDS,   /* vtable outside the file */
    TML_FB_VTABLE_SIZE,     /* vtable size odd or < 4 */
    TML_FB_INLINE_SIZE,     /* table inline size < 4 or past the file end */
    TML_FB_FIELD,           /* field extends past the table's inline data */
    TML_FB_NUL              /* string without its terminating NUL */
};

/* A short phrase for an error code: "out of bounds". */
const char *tml_fb_error_text(int rc);

/* String k (from 0) of a list of NUL-terminated strings stored back to back
 * ("a\0b\0"): one const blob instead of an array of pointers. */
const char *tml_fb_nth(const char *list, unsigned k);

/* Unchecked reads: the caller guarantees the bytes are in the file. */
static inline uint16_t tml_fb_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t tml_fb_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}
static inline uint64_t tml_fb_u64(const uint8_t *p)
{
    return (uint64_t)tml_fb_u32(p) | ((uint64_t)tml_fb_u32(p + 4) << 32);
}

/* Position of field `field` of a table that passed tml_fb_table, 0 when
 * absent; no bounds checks (the field's bytes were checked when the file
 * was verified). */
uint32_t tml_fb_pos(const uint8_t *base, uint32_t table, int field);

/* 1 when [off, off + len) lies inside the file. */
int tml_fb_in(const tml_fb *fb, uint64_t off, uint64_t len);

/* Checks the table at `table`: 4-aligned, its soffset and its vtable
 * (2-aligned, even size >= 4) inside the file, inline size >= 4 and inside
 * the file. */
int tml_fb_table(tml_fb *fb, uint32_t table);

/* Position of field `field` (id) of a table that passed tml_fb_table, 0
 * when absent.  An error when the field's `size` bytes would leave the
 * table's inline data. */
int tml_fb_field(tml_fb *fb, uint32_t table, int field, uint32_t size,
                 uint32_t *pos);

/* Follows the uoffset stored at `pos` (4 bytes inside the file): *target
 * is the absolute offset, checked to be in the file with 4 bytes after it
 * and not `pos` itself (a uoffset of 0 is never valid). */
int tml_fb_deref(tml_fb *fb, uint32_t pos, uint32_t *target);

/* The vector whose length word is at `ref`: *count elements of elem_size
 * bytes starting at *data, all inside the file; the length word must be
 * 4-aligned and the first element aligned in memory to `align`. */
int tml_fb_vector(tml_fb *fb, uint32_t ref, uint32_t elem_size,
                  uint32_t align, uint32_t *count, uint32_t *data);

/* The string whose length word is at `ref`: *data is its first byte,
 * NUL-terminated inside the file. */
int tml_fb_string(tml_fb *fb, uint32_t ref, uint32_t *data);

/* Conveniences over the above for tools and tests: a field's uoffset
 * target, vector, string (offset of its first byte) or table (checked),
 * 0 / count 0 when absent; element i of a vector of tables. */
int tml_fb_field_u32(tml_fb *fb, uint32_t table, int field, uint32_t def,
                     uint32_t *out);
int tml_fb_field_ref(tml_fb *fb, uint32_t table, int field, uint32_t *target);
int tml_fb_field_vector(tml_fb *fb, uint32_t table, int field,
                        uint32_t elem_size, uint32_t align, uint32_t *count,
                        uint32_t *data);
int tml_fb_field_string(tml_fb *fb, uint32_t table, int field,
                        uint32_t *data);
int tml_fb_field_table(tml_fb *fb, uint32_t table, int field,
                       uint32_t *out);
int tml_fb_vector_table(tml_fb *fb, uint32_t data, uint32_t i,
                        uint32_t *table);

#endif
