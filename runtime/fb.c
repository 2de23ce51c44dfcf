/* FlatBuffers primitives; see fb.h. */
#include "fb.h"

const char *tml_fb_nth(const char *list, unsigned k)
{
    while (k--)
        while (*list++)
            ;
    return list;
}

const char *tml_fb_error_text(int rc)
{
    if (rc < 0 || rc > TML_FB_NUL)
        return "malformed";
    return tml_fb_nth("ok\0out of bounds\0misaligned\0vtable out of bounds\0"
                      "vtable size is odd or < 4\0"
                      "table inline size out of bounds\0"
                      "field extends past its table\0"
                      "string not NUL-terminated", (unsigned)rc);
}

static const uint8_t *vtable_of(const uint8_t *base, uint32_t table)
{
    /* vtable = table - soffset; verified tables keep it inside the file,
     * and unsigned arithmetic wraps to the same offset. */
    return base + (table - tml_fb_u32(base + table));
}

uint32_t tml_fb_pos(const uint8_t *base, uint32_t table, int field)
{
    const uint8_t *v = vtable_of(base, table);
    uint32_t k = (uint32_t)field;
    /* (vsize - 4) / 2 slots follow the two size words (vsize >= 4). */
    uint32_t off = k < (tml_fb_u16(v) - 4u) / 2 ? tml_fb_u16(v + 4 + 2 * k)
                                                : 0;
    return off ? table + off : 0;
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
    int64_t vt = (int64_t)table - (int32_t)tml_fb_u32(fb->base + table);
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
    uint32_t p = tml_fb_pos(fb->base, table, field);
    *pos = 0;
    /* p - table is the field's 16-bit offset inside the table. */
    if (p && p - table + (uint64_t)size >
                 tml_fb_u16(vtable_of(fb->base, table) + 2))
        return fail(fb, TML_FB_FIELD, p);
    *pos = p;
    return TML_FB_OK;
}

int tml_fb_deref(tml_fb *fb, uint32_t pos, uint32_t *target)
{
    uint64_t t = (uint64_t)pos + tml_fb_u32(fb->base + pos);
    *target = 0;
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
    uint32_t start = ref + 4;
    /* The count is bounded by the bytes left in the file, so a hostile
     * length can never make a caller loop past the end. */
    if (!tml_fb_in(fb, start, (uint64_t)n * elem_size))
        return fail(fb, TML_FB_BOUNDS, ref);
    /* Pointers to the elements are handed out, so alignment is checked
     * on the real address, not just the offset. */
    if (n && (uintptr_t)(fb->base + start) % align)
        return fail(fb, TML_FB_ALIGN, start);
    *count = n;
    *data = start;
    return TML_FB_OK;
}

int tml_fb_string(tml_fb *fb, uint32_t ref, uint32_t *data)
{
    uint32_t n;
    int rc = tml_fb_vector(fb, ref, 1, 1, &n, data);
    if (!rc && (!tml_fb_in(fb, (uint64_t)*data + n, 1) ||
                fb->base[*data + n] != 0))
        rc = fail(fb, TML_FB_NUL, ref);
    if (rc)
        *data = 0;
    return rc;
}

int tml_fb_field_u32(tml_fb *fb, uint32_t table, int field, uint32_t def,
                     uint32_t *out)
{
    uint32_t pos;
    int rc = tml_fb_field(fb, table, field, 4, &pos);
    *out = pos ? tml_fb_u32(fb->base + pos) : def;
    return rc;
}

int tml_fb_field_ref(tml_fb *fb, uint32_t table, int field, uint32_t *target)
{
    uint32_t pos;
    int rc = tml_fb_field(fb, table, field, 4, &pos);
    *target = 0;
    if (rc || !pos)
        return rc;
    return tml_fb_deref(fb, pos, target);
}

int tml_fb_field_vector(tml_fb *fb, uint32_t table, int field,
                        uint32_t elem_size, uint32_t align, uint32_t *count,
                        uint32_t *data)
{
    uint32_t ref;
    int rc = tml_fb_field_ref(fb, table, field, &ref);
    *count = 0;
    *data = 0;
    if (rc || !ref)
        return rc;
    return tml_fb_vector(fb, ref, elem_size, align, count, data);
}

int tml_fb_field_string(tml_fb *fb, uint32_t table, int field,
                        uint32_t *data)
{
    uint32_t ref;
    int rc = tml_fb_field_ref(fb, table, field, &ref);
    *data = 0;
    if (rc || !ref)
        return rc;
    return tml_fb_string(fb, ref, data);
}

int tml_fb_field_table(tml_fb *fb, uint32_t table, int field, uint32_t *out)
{
    uint32_t ref;
    int rc = tml_fb_field_ref(fb, table, field, &ref);
    *out = 0;
    if (rc || !ref)
        return rc;
    rc = tml_fb_table(fb, ref);
    *out = rc ? 0 : ref;
    return rc;
}

int tml_fb_vector_table(tml_fb *fb, uint32_t data, uint32_t i,
                        uint32_t *table)
{
    uint64_t pos = (uint64_t)data + 4u * (uint64_t)i;
    int rc;
    *table = 0;
    if (!tml_fb_in(fb, pos, 4))
        return fail(fb, TML_FB_BOUNDS, pos);
    if ((rc = tml_fb_deref(fb, (uint32_t)pos, table)) ||
        (rc = tml_fb_table(fb, *table)))
        *table = 0;
    return rc;
}
