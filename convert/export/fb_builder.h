/*
 * A small, deterministic FlatBuffers builder (host side).
 *
 * It builds back to front, like the official flatbuffers builder: every
 * object is finished before the object that refers to it, and a reference
 * (tml_fb_ref) is the object's distance from the END of the buffer, so it
 * stays valid while the buffer grows downwards.  The bytes it produces are
 * what flatbuffers' own builder would lay out for the same calls:
 *
 *   - scalars are little-endian and aligned to their size;
 *   - a vector's elements are aligned to the element size (or to a larger
 *     force_align, e.g. 16 for TFLite's `Buffer.data`), its uint32 length
 *     sits right before the first element;
 *   - strings are length-prefixed and zero-terminated;
 *   - a table starts with an int32 soffset to its vtable
 *     (vtable = table - soffset); vtables are shared between tables with
 *     identical vtables (deduplicated);
 *   - a scalar field equal to its schema default is left out (the reader
 *     returns the default), unless the caller forces it;
 *   - the root: uint32 offset to the root table, then the optional 4-byte
 *     file identifier ("TFL3" for TFLite); the finished size is a multiple
 *     of the largest alignment used, so the buffer placed at an address
 *     aligned to that keeps every alignment.
 *
 * Padding bytes are zero, so the same calls always give the same bytes.
 *
 * Errors never abort: the first error (allocation failure, a call out of
 * order, a size over 2 GiB) is remembered, later calls do nothing and
 * return 0, and tml_fb_finish() reports it with a one-line message.
 *
 * Usage:
 *   tml_fb_builder b;
 *   tml_fb_init(&b, NULL);
 *   tml_fb_ref name = tml_fb_create_string(&b, "conv", 4);
 *   tml_fb_start_table(&b);
 *   tml_fb_add_u32(&b, 2, 7, 0);        // field 2 = 7 (default 0)
 *   tml_fb_add_offset(&b, 3, name);     // field 3 = "conv"
 *   tml_fb_ref t = tml_fb_end_table(&b);
 *   if (tml_fb_finish(&b, t, "TFL3") == 0) use(tml_fb_data(&b), tml_fb_size(&b));
 *   tml_fb_release(&b);
 */
#ifndef TML_FB_BUILDER_H
#define TML_FB_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The one allocation hook, realloc-shaped: fn(user, NULL, n) allocates n
 * bytes aligned to 16 (NULL on failure); fn(user, p, 0) frees p.  The
 * builder never asks to resize in place. */
typedef void *(*tml_fb_alloc_fn)(void *user, void *ptr, size_t size);
typedef struct tml_fb_allocator {
    tml_fb_alloc_fn fn;
    void *user;
} tml_fb_allocator;

/* The default hook: aligned_alloc(16, ...) / free. */
void *tml_fb_default_alloc(void *user, void *ptr, size_t size);

/* Distance of an object from the end of the buffer; 0 means "none". */
typedef uint32_t tml_fb_ref;

/* More fields than any table we write (TFLite's largest has 13). */
#define TML_FB_MAX_FIELDS 64
#define TML_FB_ERROR_SIZE 128

typedef struct tml_fb_builder {
    tml_fb_allocator alloc;
    uint8_t *buf;           /* data lives in buf[cap - size, cap) */
    size_t cap;
    size_t size;
    size_t minalign;        /* largest alignment used so far */
    uint32_t *vtables;      /* refs of the vtables written, for dedupe */
    size_t nvtables, vtables_cap;
    /* Scalar vectors written, when sharing identical ones is on. */
    int share_vectors;
    struct tml_fb_shared *shared;
    size_t nshared, shared_cap;
    /* the table being built */
    int in_table;
    size_t table_start;
    int max_field;          /* highest field id set, -1 = none */
    uint32_t field_ref[TML_FB_MAX_FIELDS];   /* 0 = absent */
    int finished;
    int failed;
    char error[TML_FB_ERROR_SIZE];
} tml_fb_builder;

/* alloc may be NULL for the default hook. */
void tml_fb_init(tml_fb_builder *b, const tml_fb_allocator *alloc);
/* Frees everything; the builder may be initialised again. */
void tml_fb_release(tml_fb_builder *b);

/* From now on, a scalar vector equal to one already written (same element
 * size, count, alignment and bytes) is not written again: its first copy
 * is referenced.  Valid flatbuffers (offsets may share a target); TFLite
 * files repeat many (all-zero zero points, shapes). Off by default, so the
 * bytes match the reference builder's. */
void tml_fb_share_vectors(tml_fb_builder *b, int on);

/* ---- leaf objects (not inside a table) ---- */

/* A string of len bytes (need not be terminated; the builder adds the 0). */
tml_fb_ref tml_fb_create_string(tml_fb_builder *b, const char *s, size_t len);
tml_fb_ref tml_fb_create_cstring(tml_fb_builder *b, const char *s);

/* A vector of count scalars of elem_size bytes (1, 2, 4 or 8), given in
 * host byte order; written little-endian.  align is 0 (the element size)
 * or a power of two >= elem_size for force_align (16 for Buffer.data). */
tml_fb_ref tml_fb_create_vector(tml_fb_builder *b, const void *elems,
                                size_t elem_size, size_t count, size_t align);

/* A vector of references to tables or strings made earlier. */
tml_fb_ref tml_fb_create_ref_vector(tml_fb_builder *b, const tml_fb_ref *refs,
                                    size_t count);

/* ---- tables ---- */

void tml_fb_start_table(tml_fb_builder *b);
/* Scalars: written only when value != def (or force is set, through the
 * *_force variants).  field is the field id (0-based, declaration order;
 * a union takes two ids: its _type then its value). */
void tml_fb_add_u8(tml_fb_builder *b, int field, uint8_t v, uint8_t def);
void tml_fb_add_i8(tml_fb_builder *b, int field, int8_t v, int8_t def);
void tml_fb_add_bool(tml_fb_builder *b, int field, int v, int def);
void tml_fb_add_i16(tml_fb_builder *b, int field, int16_t v, int16_t def);
void tml_fb_add_i32(tml_fb_builder *b, int field, int32_t v, int32_t def);
void tml_fb_add_u32(tml_fb_builder *b, int field, uint32_t v, uint32_t def);
void tml_fb_add_i64(tml_fb_builder *b, int field, int64_t v, int64_t def);
void tml_fb_add_u64(tml_fb_builder *b, int field, uint64_t v, uint64_t def);
/* Floats compare bitwise with def (so -0.0 differs from 0.0). */
void tml_fb_add_f32(tml_fb_builder *b, int field, float v, float def);
/* Always writes the field, whatever its value. */
void tml_fb_add_i32_force(tml_fb_builder *b, int field, int32_t v);
/* A reference field (string, vector, table); ref 0 leaves it absent. */
void tml_fb_add_offset(tml_fb_builder *b, int field, tml_fb_ref ref);
tml_fb_ref tml_fb_end_table(tml_fb_builder *b);

/* ---- the root ---- */

/* Writes the root offset and the file identifier (4 chars, or NULL for
 * none).  Returns 0, or -1 with the first error in tml_fb_error(). */
int tml_fb_finish(tml_fb_builder *b, tml_fb_ref root, const char *file_id);

/* The finished bytes (valid until release).  In memory they are aligned
 * to the largest alignment used (16 once a force_align 16 vector exists). */
const uint8_t *tml_fb_data(const tml_fb_builder *b);
size_t tml_fb_size(const tml_fb_builder *b);
/* "" when there was no error. */
const char *tml_fb_error(const tml_fb_builder *b);

#ifdef __cplusplus
}
#endif
#endif
