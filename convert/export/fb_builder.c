/*
 * Back-to-front FlatBuffers builder; see fb_builder.h for the layout rules.
 *
 * Positions are measured from the end of the buffer ("size" so far), which
 * is what makes growth cheap: growing moves the bytes to the end of a new,
 * larger allocation and every reference stays valid.
 */
#include "convert/export/fb_builder.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* flatbuffers offsets are 32-bit and soffsets signed: keep under 2 GiB. */
#define FB_MAX_SIZE ((size_t)0x7fffffff)

void *tml_fb_default_alloc(void *user, void *ptr, size_t size)
{
    (void)user;
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    /* aligned_alloc wants a size that is a multiple of the alignment. */
    return aligned_alloc(16, (size + 15) & ~(size_t)15);
}

static void fb_fail(tml_fb_builder *b, const char *fmt, ...)
{
    va_list ap;
    if (b->failed)
        return;
    b->failed = 1;
    va_start(ap, fmt);
    vsnprintf(b->error, sizeof b->error, fmt, ap);
    va_end(ap);
}

void tml_fb_init(tml_fb_builder *b, const tml_fb_allocator *alloc)
{
    memset(b, 0, sizeof *b);
    if (alloc && alloc->fn)
        b->alloc = *alloc;
    else
        b->alloc.fn = tml_fb_default_alloc;
    b->minalign = 1;
    b->max_field = -1;
}

/* One written scalar vector, for sharing. */
struct tml_fb_shared {
    uint32_t hash;
    uint32_t ref;
    uint32_t count;
    uint16_t elem_size, align;
};

void tml_fb_release(tml_fb_builder *b)
{
    if (b->buf)
        b->alloc.fn(b->alloc.user, b->buf, 0);
    if (b->vtables)
        b->alloc.fn(b->alloc.user, b->vtables, 0);
    if (b->shared)
        b->alloc.fn(b->alloc.user, b->shared, 0);
    b->buf = NULL;
    b->vtables = NULL;
    b->shared = NULL;
    b->nshared = b->shared_cap = 0;
    b->cap = b->size = 0;
    b->nvtables = b->vtables_cap = 0;
}

/* Makes room for `need` more bytes in front of the data. */
static int fb_reserve(tml_fb_builder *b, size_t need)
{
    size_t cap;
    uint8_t *nb;
    if (b->failed)
        return -1;
    if (need > FB_MAX_SIZE - b->size) {
        fb_fail(b, "flatbuffer over 2 GiB");
        return -1;
    }
    if (b->cap - b->size >= need)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap - b->size < need)
        cap *= 2;
    nb = b->alloc.fn(b->alloc.user, NULL, cap);
    if (!nb) {
        fb_fail(b, "out of memory growing the flatbuffer to %zu bytes", cap);
        return -1;
    }
    if (b->size)
        memcpy(nb + cap - b->size, b->buf + b->cap - b->size, b->size);
    if (b->buf)
        b->alloc.fn(b->alloc.user, b->buf, 0);
    b->buf = nb;
    b->cap = cap;
    return 0;
}

/* The front of the data (lowest address). */
static uint8_t *fb_front(tml_fb_builder *b)
{
    return b->buf + b->cap - b->size;
}

static void fb_pad(tml_fb_builder *b, size_t n)
{
    if (n == 0 || fb_reserve(b, n) != 0)
        return;
    b->size += n;
    memset(fb_front(b), 0, n);
}

/* Pads so that after writing `extra` more bytes, the size is a multiple of
 * `align` (a power of two), i.e. the thing written is aligned. */
static void fb_prep(tml_fb_builder *b, size_t align, size_t extra)
{
    size_t pad;
    if (align > b->minalign)
        b->minalign = align;
    pad = (align - ((b->size + extra) & (align - 1))) & (align - 1);
    fb_pad(b, pad);
}

/* Pushes n bytes of little-endian scalar v (no alignment). */
static void fb_push_le(tml_fb_builder *b, uint64_t v, size_t n)
{
    uint8_t *p;
    size_t i;
    if (fb_reserve(b, n) != 0)
        return;
    b->size += n;
    p = fb_front(b);
    for (i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Aligned scalar push; returns its position (distance from the end). */
static uint32_t fb_push_scalar(tml_fb_builder *b, uint64_t v, size_t n)
{
    fb_prep(b, n, 0);
    fb_push_le(b, v, n);
    return (uint32_t)b->size;
}

/* Pushes a uoffset that refers to `ref` from where it is written. */
static void fb_push_ref(tml_fb_builder *b, tml_fb_ref ref)
{
    fb_prep(b, 4, 0);
    if (b->failed)
        return;
    if (ref == 0 || ref > b->size) {
        fb_fail(b, "reference %u is not an object built before", ref);
        return;
    }
    fb_push_le(b, (uint32_t)(b->size + 4 - ref), 4);
}

static int fb_check_leaf(tml_fb_builder *b, const char *what)
{
    if (b->failed)
        return -1;
    if (b->finished) {
        fb_fail(b, "%s after finish", what);
        return -1;
    }
    if (b->in_table) {
        fb_fail(b, "%s inside a table (finish the table first)", what);
        return -1;
    }
    return 0;
}

tml_fb_ref tml_fb_create_string(tml_fb_builder *b, const char *s, size_t len)
{
    if (fb_check_leaf(b, "string") != 0)
        return 0;
    if (len > FB_MAX_SIZE) {
        fb_fail(b, "string of %zu bytes is too long", len);
        return 0;
    }
    fb_prep(b, 4, len + 1);
    fb_pad(b, 1);                       /* the terminating 0 */
    if (fb_reserve(b, len) != 0)
        return 0;
    b->size += len;
    if (len)
        memcpy(fb_front(b), s, len);
    fb_push_le(b, (uint32_t)len, 4);
    return b->failed ? 0 : (tml_fb_ref)b->size;
}

tml_fb_ref tml_fb_create_cstring(tml_fb_builder *b, const char *s)
{
    return tml_fb_create_string(b, s ? s : "", s ? strlen(s) : 0);
}

/* Copies one element, converting host order to little-endian. */
static void fb_store_le(uint8_t *dst, const uint8_t *src, size_t n)
{
    const uint16_t probe = 1;
    size_t i;
    if (*(const uint8_t *)&probe == 1) {
        memcpy(dst, src, n);
        return;
    }
    for (i = 0; i < n; i++)
        dst[i] = src[n - 1 - i];
}

void tml_fb_share_vectors(tml_fb_builder *b, int on)
{
    b->share_vectors = on != 0;
}

/* FNV-1a over the elements' little-endian bytes. */
static uint32_t fb_hash(const void *elems, size_t elem_size, size_t count)
{
    uint32_t h = 2166136261u;
    uint8_t le[8];
    for (size_t i = 0; i < count; i++) {
        fb_store_le(le, (const uint8_t *)elems + i * elem_size, elem_size);
        for (size_t k = 0; k < elem_size; k++)
            h = (h ^ le[k]) * 16777619u;
    }
    return h;
}

/* The ref of an equal vector written before, or 0. */
static tml_fb_ref fb_find_shared(const tml_fb_builder *b, uint32_t hash,
                                 const void *elems, size_t elem_size,
                                 size_t count, size_t align)
{
    uint8_t le[8];
    for (size_t i = 0; i < b->nshared; i++) {
        const struct tml_fb_shared *v = &b->shared[i];
        if (v->hash != hash || v->count != count || v->elem_size != elem_size ||
            v->align != align)
            continue;
        /* The elements follow the uint32 length, `ref` bytes from the end. */
        const uint8_t *data = b->buf + b->cap - v->ref + 4;
        size_t k = 0;
        for (; k < count; k++) {
            fb_store_le(le, (const uint8_t *)elems + k * elem_size, elem_size);
            if (memcmp(le, data + k * elem_size, elem_size) != 0)
                break;
        }
        if (k == count)
            return v->ref;
    }
    return 0;
}

static void fb_remember_shared(tml_fb_builder *b, uint32_t hash, tml_fb_ref ref,
                               size_t elem_size, size_t count, size_t align)
{
    if (b->nshared == b->shared_cap) {
        /* The hook never resizes: allocate, copy, free. */
        size_t cap = b->shared_cap ? b->shared_cap * 2 : 64;
        struct tml_fb_shared *p = b->alloc.fn(b->alloc.user, NULL, cap * sizeof *p);
        if (!p)
            return;   /* sharing is an optimisation: carry on without it */
        if (b->nshared)
            memcpy(p, b->shared, b->nshared * sizeof *p);
        if (b->shared)
            b->alloc.fn(b->alloc.user, b->shared, 0);
        b->shared = p;
        b->shared_cap = cap;
    }
    struct tml_fb_shared *v = &b->shared[b->nshared++];
    v->hash = hash;
    v->ref = ref;
    v->count = (uint32_t)count;
    v->elem_size = (uint16_t)elem_size;
    v->align = (uint16_t)align;
}

static tml_fb_ref fb_write_vector(tml_fb_builder *b, const void *elems,
                                  size_t elem_size, size_t count, size_t align);

tml_fb_ref tml_fb_create_vector(tml_fb_builder *b, const void *elems,
                                size_t elem_size, size_t count, size_t align)
{
    if (!b->share_vectors || b->failed || b->in_table || b->finished ||
        count > 0xffffffffu / (elem_size ? elem_size : 1))
        return fb_write_vector(b, elems, elem_size, count, align);
    size_t a = align ? align : elem_size;
    uint32_t hash = fb_hash(elems, elem_size, count);
    tml_fb_ref ref = fb_find_shared(b, hash, elems, elem_size, count, a);
    if (ref)
        return ref;
    ref = fb_write_vector(b, elems, elem_size, count, align);
    if (ref)
        fb_remember_shared(b, hash, ref, elem_size, count, a);
    return ref;
}

static tml_fb_ref fb_write_vector(tml_fb_builder *b, const void *elems,
                                  size_t elem_size, size_t count, size_t align)
{
    size_t bytes, i;
    uint8_t *p;
    if (fb_check_leaf(b, "vector") != 0)
        return 0;
    if (elem_size != 1 && elem_size != 2 && elem_size != 4 && elem_size != 8) {
        fb_fail(b, "vector element size %zu is not 1, 2, 4 or 8", elem_size);
        return 0;
    }
    if (align == 0)
        align = elem_size;
    if (align < elem_size || (align & (align - 1)) != 0 || align > 256) {
        fb_fail(b, "vector alignment %zu is not a power of two >= %zu",
                align, elem_size);
        return 0;
    }
    if (count > FB_MAX_SIZE / elem_size) {
        fb_fail(b, "vector of %zu elements is too long", count);
        return 0;
    }
    bytes = count * elem_size;
    /* The length prefix is a uint32 right before the first element; the
     * elements start at an `align` boundary (flatbuffers StartVector). */
    fb_prep(b, 4, bytes);
    fb_prep(b, align, bytes);
    if (fb_reserve(b, bytes) != 0)
        return 0;
    b->size += bytes;
    p = fb_front(b);
    for (i = 0; i < count; i++)
        fb_store_le(p + i * elem_size,
                    (const uint8_t *)elems + i * elem_size, elem_size);
    fb_push_le(b, (uint32_t)count, 4);
    return b->failed ? 0 : (tml_fb_ref)b->size;
}

tml_fb_ref tml_fb_create_ref_vector(tml_fb_builder *b, const tml_fb_ref *refs,
                                    size_t count)
{
    size_t i;
    if (fb_check_leaf(b, "vector") != 0)
        return 0;
    if (count > FB_MAX_SIZE / 4) {
        fb_fail(b, "vector of %zu elements is too long", count);
        return 0;
    }
    fb_prep(b, 4, count * 4);
    for (i = count; i-- > 0;)
        fb_push_ref(b, refs[i]);
    fb_push_le(b, (uint32_t)count, 4);
    return b->failed ? 0 : (tml_fb_ref)b->size;
}

void tml_fb_start_table(tml_fb_builder *b)
{
    if (fb_check_leaf(b, "table") != 0)
        return;
    b->in_table = 1;
    b->table_start = b->size;
    b->max_field = -1;
    memset(b->field_ref, 0, sizeof b->field_ref);
}

static int fb_check_field(tml_fb_builder *b, int field)
{
    if (b->failed)
        return -1;
    if (!b->in_table) {
        fb_fail(b, "field %d outside a table", field);
        return -1;
    }
    if (field < 0 || field >= TML_FB_MAX_FIELDS) {
        fb_fail(b, "field id %d out of range 0..%d", field,
                TML_FB_MAX_FIELDS - 1);
        return -1;
    }
    if (b->field_ref[field]) {
        fb_fail(b, "field %d set twice", field);
        return -1;
    }
    return 0;
}

static void fb_add_field(tml_fb_builder *b, int field, uint64_t v, size_t n)
{
    uint32_t pos;
    if (fb_check_field(b, field) != 0)
        return;
    pos = fb_push_scalar(b, v, n);
    if (b->failed)
        return;
    b->field_ref[field] = pos;
    if (field > b->max_field)
        b->max_field = field;
}

void tml_fb_add_u8(tml_fb_builder *b, int field, uint8_t v, uint8_t def)
{
    if (v != def)
        fb_add_field(b, field, v, 1);
}

void tml_fb_add_i8(tml_fb_builder *b, int field, int8_t v, int8_t def)
{
    if (v != def)
        fb_add_field(b, field, (uint8_t)v, 1);
}

void tml_fb_add_bool(tml_fb_builder *b, int field, int v, int def)
{
    if ((v != 0) != (def != 0))
        fb_add_field(b, field, v != 0, 1);
}

void tml_fb_add_i16(tml_fb_builder *b, int field, int16_t v, int16_t def)
{
    if (v != def)
        fb_add_field(b, field, (uint16_t)v, 2);
}

void tml_fb_add_i32(tml_fb_builder *b, int field, int32_t v, int32_t def)
{
    if (v != def)
        fb_add_field(b, field, (uint32_t)v, 4);
}

void tml_fb_add_i32_force(tml_fb_builder *b, int field, int32_t v)
{
    fb_add_field(b, field, (uint32_t)v, 4);
}

void tml_fb_add_u32(tml_fb_builder *b, int field, uint32_t v, uint32_t def)
{
    if (v != def)
        fb_add_field(b, field, v, 4);
}

void tml_fb_add_i64(tml_fb_builder *b, int field, int64_t v, int64_t def)
{
    if (v != def)
        fb_add_field(b, field, (uint64_t)v, 8);
}

void tml_fb_add_u64(tml_fb_builder *b, int field, uint64_t v, uint64_t def)
{
    if (v != def)
        fb_add_field(b, field, v, 8);
}

void tml_fb_add_f32(tml_fb_builder *b, int field, float v, float def)
{
    uint32_t bv, bd;
    memcpy(&bv, &v, 4);
    memcpy(&bd, &def, 4);
    if (bv != bd)
        fb_add_field(b, field, bv, 4);
}

void tml_fb_add_offset(tml_fb_builder *b, int field, tml_fb_ref ref)
{
    if (ref == 0)
        return;
    if (fb_check_field(b, field) != 0)
        return;
    fb_push_ref(b, ref);
    if (b->failed)
        return;
    b->field_ref[field] = (uint32_t)b->size;
    if (field > b->max_field)
        b->max_field = field;
}

/* Position of an already written vtable equal to vt[0..len), or 0. */
static uint32_t fb_find_vtable(tml_fb_builder *b, const uint8_t *vt,
                               size_t len)
{
    size_t i;
    for (i = 0; i < b->nvtables; i++) {
        uint32_t pos = b->vtables[i];
        const uint8_t *old = b->buf + b->cap - pos;
        size_t old_len = (size_t)old[0] | ((size_t)old[1] << 8);
        if (old_len == len && memcmp(old, vt, len) == 0)
            return pos;
    }
    return 0;
}

static int fb_remember_vtable(tml_fb_builder *b, uint32_t pos)
{
    if (b->nvtables == b->vtables_cap) {
        size_t ncap = b->vtables_cap ? b->vtables_cap * 2 : 16;
        uint32_t *nv = b->alloc.fn(b->alloc.user, NULL, ncap * sizeof *nv);
        if (!nv) {
            fb_fail(b, "out of memory for the vtable list");
            return -1;
        }
        if (b->nvtables)
            memcpy(nv, b->vtables, b->nvtables * sizeof *nv);
        if (b->vtables)
            b->alloc.fn(b->alloc.user, b->vtables, 0);
        b->vtables = nv;
        b->vtables_cap = ncap;
    }
    b->vtables[b->nvtables++] = pos;
    return 0;
}

tml_fb_ref tml_fb_end_table(tml_fb_builder *b)
{
    uint8_t vt[4 + 2 * TML_FB_MAX_FIELDS];
    size_t nfields, vt_len, obj_size, i;
    uint32_t table, vt_pos;
    int32_t soff;
    if (b->failed)
        return 0;
    if (!b->in_table) {
        fb_fail(b, "end_table without start_table");
        return 0;
    }
    /* The soffset to the vtable opens the table; patched below. */
    table = fb_push_scalar(b, 0, 4);
    if (b->failed)
        return 0;
    b->in_table = 0;
    nfields = (size_t)(b->max_field + 1);
    vt_len = 4 + 2 * nfields;
    obj_size = table - b->table_start;
    if (obj_size > 0xffff) {
        fb_fail(b, "table inline data of %zu bytes exceeds 65535", obj_size);
        return 0;
    }
    vt[0] = (uint8_t)vt_len;
    vt[1] = (uint8_t)(vt_len >> 8);
    vt[2] = (uint8_t)obj_size;
    vt[3] = (uint8_t)(obj_size >> 8);
    for (i = 0; i < nfields; i++) {
        /* A field's vtable entry is its offset from the table start. */
        uint32_t f = b->field_ref[i] ? table - b->field_ref[i] : 0;
        vt[4 + 2 * i] = (uint8_t)f;
        vt[5 + 2 * i] = (uint8_t)(f >> 8);
    }
    vt_pos = fb_find_vtable(b, vt, vt_len);
    if (vt_pos == 0) {
        /* A new vtable goes right before the table (int16 aligned, which
         * the table's 4-byte start already gives). */
        if (fb_reserve(b, vt_len) != 0)
            return 0;
        b->size += vt_len;
        memcpy(fb_front(b), vt, vt_len);
        vt_pos = (uint32_t)b->size;
        if (fb_remember_vtable(b, vt_pos) != 0)
            return 0;
    }
    /* vtable address = table address - soffset; addresses grow as the
     * distance from the end shrinks. */
    soff = (int32_t)((int64_t)vt_pos - (int64_t)table);
    {
        uint8_t *p = b->buf + b->cap - table;
        uint32_t u = (uint32_t)soff;
        p[0] = (uint8_t)u;
        p[1] = (uint8_t)(u >> 8);
        p[2] = (uint8_t)(u >> 16);
        p[3] = (uint8_t)(u >> 24);
    }
    return (tml_fb_ref)table;
}

int tml_fb_finish(tml_fb_builder *b, tml_fb_ref root, const char *file_id)
{
    size_t idlen = file_id ? 4 : 0;
    if (b->failed)
        return -1;
    if (b->in_table) {
        fb_fail(b, "finish inside a table");
        return -1;
    }
    if (b->finished) {
        fb_fail(b, "finish called twice");
        return -1;
    }
    if (file_id && strlen(file_id) != 4) {
        fb_fail(b, "file identifier '%s' is not 4 characters", file_id);
        return -1;
    }
    /* Root offset + identifier, padded so the whole buffer is a multiple
     * of the largest alignment (flatbuffers Finish). */
    fb_prep(b, b->minalign > 4 ? b->minalign : 4, 4 + idlen);
    if (file_id) {
        if (fb_reserve(b, 4) != 0)
            return -1;
        b->size += 4;
        memcpy(fb_front(b), file_id, 4);
    }
    fb_push_ref(b, root);
    if (b->failed)
        return -1;
    b->finished = 1;
    return 0;
}

const uint8_t *tml_fb_data(const tml_fb_builder *b)
{
    if (!b->finished || b->failed)
        return NULL;
    return b->buf + b->cap - b->size;
}

size_t tml_fb_size(const tml_fb_builder *b)
{
    return b->finished && !b->failed ? b->size : 0;
}

const char *tml_fb_error(const tml_fb_builder *b)
{
    return b->error;
}
