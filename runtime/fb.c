/* Bounds-checked FlatBuffers primitives; see fb.h. */
#include "fb.h"

const char *tml_fb_error_text(int rc)
{
    switch (rc) {
    case TML_FB_OK: return "ok";
    case TML_FB_BOUNDS: return "out of bounds";
    case TML_FB_ALIGN: return "misaligned";
    case TML_FB_VTABLE_BOUNDS: return "vtable out of bounds";
    case TML_FB_VTABLE_SIZE: return "vtable size is odd or < 4";
    case TML_FB_INLINE_SIZE: return "table inline size out of bounds";
    case TML_FB_FIELD: return "field extends past its table";
    case TML_FB_NUL: return "string not NUL-terminated";
    default: return "malformed";
    }
}

int tml_fb_in(const tml_fb *fb, uint64_t off, uint64_t len)
{
    return off <= fb->size && len <= (uint64_t)fb->size - off;
}

static int fail(tml_fb *fb, int rc, uint64_t where)
{
    fb->where = where > 0xffffffffu ? 0xffffffffu : (uint32_t)where;
    return rc;
}

int tml_fb_table(tml_fb *fb, uint32_t table)
{
    /* FlatBuffers tables start with a 4-byte soffset to their vtable;
     * the builder aligns them to 4 and the verifier insists on it. */
    if (!tml_fb_in(fb, table, 4))
        return fail(fb, TML_FB_BOUNDS, table);
    if (table % 4)
        return fail(fb, TML_FB_ALIGN, table);
    int32_t soff = (int32_t)tml_fb_u32(fb->base + table);
    int64_t vt = (int64_t)table - (int64_t)soff;
    if (vt < 0 || !tml_fb_in(fb, (uint64_t)vt, 4))
        return fail(fb, TML_FB_VTABLE_BOUNDS, table);
    if (vt % 2)
        return fail(fb, TML_FB_ALIGN, (uint64_t)vt);
    const uint8_t *v = fb->base + vt;
    uint16_t vsize = tml_fb_u16(v), isize = tml_fb_u16(v + 2);
    if (vsize < 4 || vsize % 2)
        return fail(fb, TML_FB_VTABLE_SIZE, (uint64_t)vt);
    if (!tml_fb_in(fb, (uint64_t)vt, vsize))
        return fail(fb, TML_FB_VTABLE_BOUNDS, (uint64_t)vt);
    if (isize < 4 || !tml_fb_in(fb, table, isize))
        return fail(fb, TML_FB_INLINE_SIZE, table);
    return TML_FB_OK;
}

int tml_fb_field(tml_fb *fb, uint32_t table, int field, uint32_t size,
                 uint32_t *pos)
{
    *pos = 0;
    /* Re-derive the vtable; callers pass tables checked by tml_fb_table,
     * and the checks here are cheap enough to repeat for safety. */
    int rc = tml_fb_table(fb, table);
    if (rc)
        return rc;
    int32_t soff = (int32_t)tml_fb_u32(fb->base + table);
    const uint8_t *v = fb->base + ((int64_t)table - (int64_t)soff);
    uint16_t vsize = tml_fb_u16(v), isize = tml_fb_u16(v + 2);
    if (field < 0 || (uint32_t)(4 + 2 * field + 2) > vsize)
        return TML_FB_OK;
    uint16_t off = tml_fb_u16(v + 4 + 2 * field);
    if (off == 0)
        return TML_FB_OK;
    if ((uint32_t)off + size > isize)
        return fail(fb, TML_FB_FIELD, (uint64_t)table + off);
    *pos = table + off;
    return TML_FB_OK;
}

int tml_fb_field_u8(tml_fb *fb, uint32_t table, int field, uint8_t def,
                    uint8_t *out)
{
    uint32_t pos;
    int rc = tml_fb_field(fb, table, field, 1, &pos);
    *out = rc || !pos ? def : fb->base[pos];
    return rc;
}

int tml_fb_field_i32(tml_fb *fb, uint32_t table, int field, int32_t def,
                     int32_t *out)
{
    uint32_t pos;
    int rc = tml_fb_field(fb, table, field, 4, &pos);
    *out = rc || !pos ? def : (int32_t)tml_fb_u32(fb->base + pos);
    return rc;
}

int tml_fb_field_u32(tml_fb *fb, uint32_t table, int field, uint32_t def,
                     uint32_t *out)
{
    uint32_t pos;
    int rc = tml_fb_field(fb, table, field, 4, &pos);
    *out = rc || !pos ? def : tml_fb_u32(fb->base + pos);
    return rc;
}

int tml_fb_field_u64(tml_fb *fb, uint32_t table, int field, uint64_t def,
                     uint64_t *out)
{
    uint32_t pos;
    int rc = tml_fb_field(fb, table, field, 8, &pos);
    *out = rc || !pos ? def : tml_fb_u64(fb->base + pos);
    return rc;
}

int tml_fb_field_ref(tml_fb *fb, uint32_t table, int field, uint32_t *target)
{
    uint32_t pos;
    *target = 0;
    int rc = tml_fb_field(fb, table, field, 4, &pos);
    if (rc || !pos)
        return rc;
    uint64_t t = (uint64_t)pos + tml_fb_u32(fb->base + pos);
    /* A uoffset of 0 would point at itself: never valid. */
    if (t == pos || !tml_fb_in(fb, t, 4))
        return fail(fb, TML_FB_BOUNDS, pos);
    *target = (uint32_t)t;
    return TML_FB_OK;
}

int tml_fb_vector(tml_fb *fb, uint32_t ref, uint32_t elem_size,
                  uint32_t align, uint32_t *count, uint32_t *data)
{
    *count = 0;
    *data = 0;
    if (!tml_fb_in(fb, ref, 4))
        return fail(fb, TML_FB_BOUNDS, ref);
    if (ref % 4)
        return fail(fb, TML_FB_ALIGN, ref);
    uint32_t n = tml_fb_u32(fb->base + ref);
    uint64_t start = (uint64_t)ref + 4;
    /* The count is bounded by the bytes left in the file, so a hostile
     * length can never make a caller loop past the end. */
    if (!tml_fb_in(fb, start, (uint64_t)n * elem_size))
        return fail(fb, TML_FB_BOUNDS, ref);
    /* Pointers to the elements are handed out, so alignment is checked
     * on the real address, not just the offset. */
    if (align > 1 && n > 0 &&
        (uintptr_t)(fb->base + start) % align != 0)
        return fail(fb, TML_FB_ALIGN, start);
    *count = n;
    *data = (uint32_t)start;
    return TML_FB_OK;
}

int tml_fb_field_vector(tml_fb *fb, uint32_t table, int field,
                        uint32_t elem_size, uint32_t align, uint32_t *count,
                        uint32_t *data)
{
    uint32_t ref;
    *count = 0;
    *data = 0;
    int rc = tml_fb_field_ref(fb, table, field, &ref);
    if (rc || !ref)
        return rc;
    return tml_fb_vector(fb, ref, elem_size, align, count, data);
}

int tml_fb_field_string(tml_fb *fb, uint32_t table, int field,
                        uint32_t *data)
{
    uint32_t ref, n, start;
    *data = 0;
    int rc = tml_fb_field_ref(fb, table, field, &ref);
    if (rc || !ref)
        return rc;
    rc = tml_fb_vector(fb, ref, 1, 1, &n, &start);
    if (rc)
        return rc;
    if (!tml_fb_in(fb, (uint64_t)start + n, 1) || fb->base[start + n] != 0)
        return fail(fb, TML_FB_NUL, ref);
    *data = start;
    return TML_FB_OK;
}

int tml_fb_vector_table(tml_fb *fb, uint32_t data, uint32_t i,
                        uint32_t *table)
{
    uint64_t pos = (uint64_t)data + 4u * (uint64_t)i;
    *table = 0;
    if (!tml_fb_in(fb, pos, 4))
        return fail(fb, TML_FB_BOUNDS, pos);
    uint64_t t = pos + tml_fb_u32(fb->base + pos);
    if (t == pos || !tml_fb_in(fb, t, 4))
        return fail(fb, TML_FB_BOUNDS, pos);
    int rc = tml_fb_table(fb, (uint32_t)t);
    if (rc)
        return rc;
    *table = (uint32_t)t;
    return TML_FB_OK;
}

int tml_fb_field_table(tml_fb *fb, uint32_t table, int field, uint32_t *out)
{
    uint32_t ref;
    *out = 0;
    int rc = tml_fb_field_ref(fb, table, field, &ref);
    if (rc || !ref)
        return rc;
    rc = tml_fb_table(fb, ref);
    if (rc)
        return rc;
    *out = ref;
    return TML_FB_OK;
}
