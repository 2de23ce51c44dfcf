/*
 * The flatbuffer builder against exact bytes.  The expected arrays are
 * what flatbuffers' own Python Builder (2.0.8) writes for the same calls
 * (generated once with /usr/bin/python3 and checked by hand against the
 * format: root uoffset, soffset to the vtable, vtable entries).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "convert/export/fb_builder.h"

static void assert_bytes(const tml_fb_builder *b, const uint8_t *want,
                         size_t n)
{
    assert_non_null(tml_fb_data(b));
    assert_int_equal(tml_fb_size(b), n);
    assert_memory_equal(tml_fb_data(b), want, n);
}

/* table { a:int } with a = 7. */
static void test_one_int_field(void **state)
{
    static const uint8_t want[] = {
        0x0c, 0x00, 0x00, 0x00,              /* root: table at 12 */
        0x00, 0x00,                          /* pad to the 4-byte multiple */
        0x06, 0x00, 0x08, 0x00, 0x04, 0x00,  /* vtable: 6 bytes, table 8,
                                                field 0 at +4 */
        0x06, 0x00, 0x00, 0x00,              /* soffset: vtable = 12 - 6 */
        0x07, 0x00, 0x00, 0x00               /* a = 7 */
    };
    tml_fb_builder b;
    tml_fb_ref t;
    (void)state;
    tml_fb_init(&b, NULL);
    tml_fb_start_table(&b);
    tml_fb_add_i32(&b, 0, 7, 0);
    t = tml_fb_end_table(&b);
    assert_int_equal(tml_fb_finish(&b, t, NULL), 0);
    assert_bytes(&b, want, sizeof want);
    tml_fb_release(&b);
}

static void test_file_identifier(void **state)
{
    static const uint8_t want[] = {
        0x10, 0x00, 0x00, 0x00, 'T', 'F', 'L', '3',
        0x00, 0x00, 0x06, 0x00, 0x08, 0x00, 0x04, 0x00,
        0x06, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00
    };
    tml_fb_builder b;
    tml_fb_ref t;
    (void)state;
    tml_fb_init(&b, NULL);
    tml_fb_start_table(&b);
    tml_fb_add_i32(&b, 0, 7, 0);
    t = tml_fb_end_table(&b);
    assert_int_equal(tml_fb_finish(&b, t, "TFL3"), 0);
    assert_bytes(&b, want, sizeof want);
    tml_fb_release(&b);
}

/* tml_fb_add_i32_force writes a value equal to the default anyway: the
 * same bytes as a non-default value, with 0 in place of 7. */
static void test_forced_default(void **state)
{
    static const uint8_t want[] = {
        0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x08, 0x00, 0x04,
        0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00
    };
    tml_fb_builder b;
    tml_fb_ref t;
    (void)state;
    tml_fb_init(&b, NULL);
    tml_fb_start_table(&b);
    tml_fb_add_i32_force(&b, 0, 0);
    t = tml_fb_end_table(&b);
    assert_int_equal(tml_fb_finish(&b, t, NULL), 0);
    assert_bytes(&b, want, sizeof want);
    tml_fb_release(&b);
}

/* A field equal to its default is not written: an empty table. */
static void test_default_omitted(void **state)
{
    static const uint8_t want[] = {
        0x08, 0x00, 0x00, 0x00, 0x04, 0x00, 0x04, 0x00,
        0x04, 0x00, 0x00, 0x00
    };
    tml_fb_builder b;
    tml_fb_ref t;
    (void)state;
    tml_fb_init(&b, NULL);
    tml_fb_start_table(&b);
    tml_fb_add_i32(&b, 0, 0, 0);
    t = tml_fb_end_table(&b);
    assert_int_equal(tml_fb_finish(&b, t, NULL), 0);
    assert_bytes(&b, want, sizeof want);
    tml_fb_release(&b);
}

/* root { name:string (0), items:[T] (1) }, T { a:int, b:int }: the
 * second T reuses the first one's vtable (soffset -12).  Vtables are
 * shared only when equal in full, object size included (the C++
 * builder's rule; the Python builder ignores the object size). */
static void test_vtable_dedupe_string_and_table_vector(void **state)
{
    static const uint8_t want[] = {
        0x0c, 0x00, 0x00, 0x00, 0x08, 0x00, 0x0c, 0x00, 0x04, 0x00, 0x08,
        0x00, 0x08, 0x00, 0x00, 0x00, 0x34, 0x00, 0x00, 0x00, 0x04, 0x00,
        0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00, 0x04,
        0x00, 0x00, 0x00, 0xf4, 0xff, 0xff, 0xff, 0x14, 0x00, 0x00, 0x00,
        0x02, 0x00, 0x00, 0x00, 0x08, 0x00, 0x0c, 0x00, 0x08, 0x00, 0x04,
        0x00, 0x08, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x00,
        0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x68, 0x69, 0x00, 0x00
    };
    tml_fb_builder b;
    tml_fb_ref s, t[2], v, root;
    int i;
    (void)state;
    tml_fb_init(&b, NULL);
    s = tml_fb_create_cstring(&b, "hi");
    for (i = 0; i < 2; i++) {
        tml_fb_start_table(&b);
        tml_fb_add_i32(&b, 0, i + 1, 0);
        tml_fb_add_i32(&b, 1, 10 * (i + 1), 0);
        t[i] = tml_fb_end_table(&b);
    }
    v = tml_fb_create_ref_vector(&b, t, 2);
    tml_fb_start_table(&b);
    tml_fb_add_offset(&b, 1, v);
    tml_fb_add_offset(&b, 0, s);
    root = tml_fb_end_table(&b);
    assert_int_equal(tml_fb_finish(&b, root, NULL), 0);
    assert_bytes(&b, want, sizeof want);
    assert_int_equal(b.nvtables, 2);     /* T's and root's, not three */
    tml_fb_release(&b);
}

/* force_align 16 byte data, an int64 vector, a float and a bool; the
 * bool at field 4 leaves field 3 absent (entry 0). */
static void test_force_align_int64_float_bool(void **state)
{
    static const uint8_t want[] = {
        0x20, 0x00, 0x00, 0x00, 0x54, 0x46, 0x4c, 0x33, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x14, 0x00,
        0x10, 0x00, 0x0c, 0x00, 0x08, 0x00, 0x00, 0x00, 0x07, 0x00, 0x0e,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0xc0, 0x3f,
        0x08, 0x00, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
        0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x05, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
        0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00
    };
    static const uint8_t data[3] = {1, 2, 3};
    static const int64_t longs[2] = {-1, 5};
    tml_fb_builder b;
    tml_fb_ref dv, lv, t;
    (void)state;
    tml_fb_init(&b, NULL);
    dv = tml_fb_create_vector(&b, data, 1, 3, 16);
    lv = tml_fb_create_vector(&b, longs, 8, 2, 0);
    tml_fb_start_table(&b);
    tml_fb_add_offset(&b, 0, dv);
    tml_fb_add_offset(&b, 1, lv);
    tml_fb_add_f32(&b, 2, 1.5f, 0.0f);
    tml_fb_add_bool(&b, 4, 1, 0);
    t = tml_fb_end_table(&b);
    assert_int_equal(tml_fb_finish(&b, t, "TFL3"), 0);
    assert_bytes(&b, want, sizeof want);
    /* The data (after its length) is 16-aligned from the start. */
    assert_int_equal(80 % 16, 0);
    assert_memory_equal(tml_fb_data(&b) + 80, data, 3);
    assert_int_equal(((uintptr_t)tml_fb_data(&b)) % 16, 0);
    tml_fb_release(&b);
}

/* Every scalar size in one table, each aligned to its size with zero
 * padding, plus an empty string, an odd-length string, an int16 vector
 * and an empty vector. */
static void test_mixed_scalars_strings_vectors(void **state)
{
    static const uint8_t want[] = {
        0x1c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x30, 0x00,
        0x2f, 0x00, 0x24, 0x00, 0x22, 0x00, 0x14, 0x00, 0x10, 0x00, 0x0c, 0x00,
        0x08, 0x00, 0x04, 0x00, 0x14, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00,
        0x2c, 0x00, 0x00, 0x00, 0x34, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x00,
        0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0xd4, 0xfe, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
        0x00, 0x00, 0x00, 0xfe, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
        0x01, 0x00, 0xfe, 0xff, 0x03, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00,
        0x61, 0x62, 0x63, 0x64, 0x65, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00,
    };
    static const int16_t v[3] = {1, -2, 3};
    tml_fb_builder b;
    tml_fb_ref e, str, v16, ev, t;
    (void)state;
    tml_fb_init(&b, NULL);
    e = tml_fb_create_string(&b, "", 0);
    str = tml_fb_create_cstring(&b, "abcde");
    v16 = tml_fb_create_vector(&b, v, 2, 3, 0);
    ev = tml_fb_create_vector(&b, NULL, 4, 0, 0);
    tml_fb_start_table(&b);
    tml_fb_add_i8(&b, 0, -2, 0);
    tml_fb_add_i64(&b, 1, 0x0102030405060708LL, 0);
    tml_fb_add_i16(&b, 2, -300, 0);
    tml_fb_add_u64(&b, 3, 0xfffffffffffffffeULL, 0);
    tml_fb_add_offset(&b, 4, e);
    tml_fb_add_offset(&b, 5, str);
    tml_fb_add_offset(&b, 6, v16);
    tml_fb_add_offset(&b, 7, ev);
    t = tml_fb_end_table(&b);
    assert_int_equal(tml_fb_finish(&b, t, NULL), 0);
    assert_bytes(&b, want, sizeof want);
    tml_fb_release(&b);
}

/* Growth from 256 bytes through several doublings keeps every
 * reference: a 5000-byte vector then a table pointing at it. */
static void test_growth_keeps_references(void **state)
{
    uint8_t big[5000];
    tml_fb_builder b;
    tml_fb_ref v, t;
    const uint8_t *d;
    uint32_t root, vt_entry, field_pos, vec_pos, len;
    size_t i;
    (void)state;
    for (i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    tml_fb_init(&b, NULL);
    v = tml_fb_create_vector(&b, big, 1, sizeof big, 16);
    tml_fb_start_table(&b);
    tml_fb_add_offset(&b, 0, v);
    t = tml_fb_end_table(&b);
    assert_int_equal(tml_fb_finish(&b, t, NULL), 0);
    d = tml_fb_data(&b);
    memcpy(&root, d, 4);
    {
        int32_t soff;
        uint16_t entry;
        memcpy(&soff, d + root, 4);
        memcpy(&entry, d + root - soff + 4, 2);
        vt_entry = entry;
    }
    field_pos = root + vt_entry;
    memcpy(&vec_pos, d + field_pos, 4);
    vec_pos += field_pos;
    memcpy(&len, d + vec_pos, 4);
    assert_int_equal(len, sizeof big);
    assert_int_equal((vec_pos + 4) % 16, 0);
    assert_memory_equal(d + vec_pos + 4, big, sizeof big);
    tml_fb_release(&b);
}

static void test_errors_are_reported_not_fatal(void **state)
{
    tml_fb_builder b;
    tml_fb_ref t;
    (void)state;

    tml_fb_init(&b, NULL);
    tml_fb_start_table(&b);
    assert_int_equal(tml_fb_create_cstring(&b, "x"), 0);
    assert_int_equal(tml_fb_finish(&b, 0, NULL), -1);
    assert_string_equal(tml_fb_error(&b),
                        "string inside a table (finish the table first)");
    assert_null(tml_fb_data(&b));
    assert_int_equal(tml_fb_size(&b), 0);
    tml_fb_release(&b);

    tml_fb_init(&b, NULL);
    tml_fb_start_table(&b);
    tml_fb_add_i32(&b, 2, 1, 0);
    tml_fb_add_i32(&b, 2, 5, 0);
    t = tml_fb_end_table(&b);
    assert_int_equal(t, 0);
    assert_int_equal(tml_fb_finish(&b, t, NULL), -1);
    assert_string_equal(tml_fb_error(&b), "field 2 set twice");
    tml_fb_release(&b);

    tml_fb_init(&b, NULL);
    tml_fb_start_table(&b);
    t = tml_fb_end_table(&b);
    assert_int_equal(tml_fb_finish(&b, t, "TFL"), -1);
    assert_string_equal(tml_fb_error(&b),
                        "file identifier 'TFL' is not 4 characters");
    tml_fb_release(&b);

    tml_fb_init(&b, NULL);
    assert_int_equal(tml_fb_create_vector(&b, "abc", 3, 1, 0), 0);
    assert_string_equal(tml_fb_error(&b),
                        "vector element size 3 is not 1, 2, 4 or 8");
    tml_fb_release(&b);

    tml_fb_init(&b, NULL);
    assert_int_equal(tml_fb_create_vector(&b, "abcd", 4, 1, 2), 0);
    assert_string_equal(tml_fb_error(&b),
                        "vector alignment 2 is not a power of two >= 4");
    tml_fb_release(&b);

    tml_fb_init(&b, NULL);
    tml_fb_start_table(&b);
    tml_fb_add_offset(&b, 0, 999);
    assert_string_equal(tml_fb_error(&b),
                        "reference 999 is not an object built before");
    tml_fb_release(&b);
}

/* An allocation hook that fails after `left` allocations. */
typedef struct counting_alloc {
    int left;
    int live;
} counting_alloc;

static void *counting_fn(void *user, void *ptr, size_t size)
{
    counting_alloc *c = user;
    if (size == 0) {
        if (ptr)
            c->live--;
        free(ptr);
        return NULL;
    }
    if (c->left == 0)
        return NULL;
    c->left--;
    c->live++;
    return aligned_alloc(16, (size + 15) & ~(size_t)15);
}

static void test_allocation_failure(void **state)
{
    uint8_t big[1000] = {0};
    counting_alloc c = {1, 0};
    tml_fb_allocator a = {counting_fn, &c};
    tml_fb_builder b;
    (void)state;
    tml_fb_init(&b, &a);
    /* The first allocation (256 bytes) succeeds, growth to 1024 fails. */
    assert_int_not_equal(tml_fb_create_cstring(&b, "x"), 0);
    assert_int_equal(tml_fb_create_vector(&b, big, 1, sizeof big, 0), 0);
    assert_string_equal(tml_fb_error(&b),
                        "out of memory growing the flatbuffer to 1024 bytes");
    assert_int_equal(tml_fb_finish(&b, 1, NULL), -1);
    tml_fb_release(&b);
    assert_int_equal(c.live, 0);
}

/* Same calls, same bytes; the hook sees every allocation freed. */
static void test_deterministic_and_no_leaks(void **state)
{
    counting_alloc c = {1000, 0};
    tml_fb_allocator a = {counting_fn, &c};
    tml_fb_builder b1, b2;
    int k;
    (void)state;
    tml_fb_init(&b1, &a);
    tml_fb_init(&b2, &a);
    for (k = 0; k < 2; k++) {
        tml_fb_builder *b = k ? &b2 : &b1;
        tml_fb_ref refs[40], v, t;
        int i;
        for (i = 0; i < 40; i++) {
            tml_fb_start_table(b);
            tml_fb_add_i32(b, i % 3, i, 0);
            tml_fb_add_i32(b, 3, i & 1, 0);
            refs[i] = tml_fb_end_table(b);
        }
        v = tml_fb_create_ref_vector(b, refs, 40);
        tml_fb_start_table(b);
        tml_fb_add_offset(b, 0, v);
        t = tml_fb_end_table(b);
        assert_int_equal(tml_fb_finish(b, t, "TEST"), 0);
    }
    assert_int_equal(tml_fb_size(&b1), tml_fb_size(&b2));
    assert_memory_equal(tml_fb_data(&b1), tml_fb_data(&b2),
                        tml_fb_size(&b1));
    /* 8 field layouts: the empty one (i = 0: both values 0, omitted),
     * (field 0|1|2) x (field 3 present or not), and the root's.  A layout
     * can appear twice when padding changes its inline size, but 41
     * tables share far fewer vtables. */
    assert_true(b1.nvtables >= 8 && b1.nvtables <= 12);
    tml_fb_release(&b1);
    tml_fb_release(&b2);
    assert_int_equal(c.live, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_int_field),
        cmocka_unit_test(test_file_identifier),
        cmocka_unit_test(test_default_omitted),
        cmocka_unit_test(test_forced_default),
        cmocka_unit_test(test_vtable_dedupe_string_and_table_vector),
        cmocka_unit_test(test_force_align_int64_float_bool),
        cmocka_unit_test(test_mixed_scalars_strings_vectors),
        cmocka_unit_test(test_growth_keeps_references),
        cmocka_unit_test(test_errors_are_reported_not_fatal),
        cmocka_unit_test(test_allocation_failure),
        cmocka_unit_test(test_deterministic_and_no_leaks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
