/* The .npy reader/writer: numpy's own bytes for each version, and hostile
 * headers that must fail with an exact message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tools/lib/npy.h"

/* Builds magic + version + length + header + data (header used as is, so
 * tests control every byte). */
static size_t make_npy(uint8_t *out, int major, int minor, const char *header,
                       const void *data, size_t data_bytes)
{
    size_t hlen = strlen(header);
    size_t n = 0;
    memcpy(out, "\x93NUMPY", 6);
    out[6] = (uint8_t)major;
    out[7] = (uint8_t)minor;
    n = 8;
    int len_bytes = major == 1 ? 2 : 4;
    for (int i = 0; i < len_bytes; i++)
        out[n++] = (uint8_t)(hlen >> (8 * i));
    memcpy(out + n, header, hlen);
    n += hlen;
    memcpy(out + n, data, data_bytes);
    return n + data_bytes;
}

static uint8_t g_buf[4096];
static char g_err[256];

static int parse_header(const char *header, size_t data_bytes, tml_npy *out)
{
    static const uint8_t zeros[64];
    size_t n = make_npy(g_buf, 1, 0, header, zeros, data_bytes);
    g_err[0] = '\0';
    return tml_npy_parse(g_buf, n, out, g_err, sizeof g_err);
}

static void expect_error(const char *header, size_t data_bytes,
                         const char *message)
{
    tml_npy a;
    assert_int_equal(parse_header(header, data_bytes, &a), -1);
    assert_string_equal(g_err, message);
}

/* numpy.save(np.arange(12, dtype=np.float32).reshape(1, 12)) header. */
#define F4_1x12 "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 12), }"

static void test_v1_float32(void **state)
{
    (void)state;
    float values[12];
    for (int i = 0; i < 12; i++)
        values[i] = (float)i * 0.5f;
    char header[128];
    snprintf(header, sizeof header, "%s%57s\n", F4_1x12, "");
    assert_int_equal(strlen(header), 118);
    size_t n = make_npy(g_buf, 1, 0, header, values, sizeof values);
    assert_int_equal(n, 176);
    tml_npy a;
    assert_int_equal(tml_npy_parse(g_buf, n, &a, g_err, sizeof g_err), 0);
    assert_int_equal(a.major, 1);
    assert_int_equal(a.dtype, TML_FLOAT32);
    assert_int_equal(a.ndims, 2);
    assert_int_equal(a.dims[0], 1);
    assert_int_equal(a.dims[1], 12);
    assert_int_equal(a.count, 12);
    assert_int_equal(a.elem_size, 4);
    assert_int_equal(a.data_bytes, 48);
    assert_ptr_equal(a.data, g_buf + 128);
    assert_memory_equal(a.data, values, sizeof values);
}

static void test_v2_v3_int8(void **state)
{
    (void)state;
    const int8_t v[2] = {-128, 127};
    const char *h = "{'descr': '|i1', 'fortran_order': False, 'shape': (2,), }"
                    "                    \n";
    for (int major = 2; major <= 3; major++) {
        size_t n = make_npy(g_buf, major, 0, h, v, 2);
        tml_npy a;
        assert_int_equal(tml_npy_parse(g_buf, n, &a, g_err, sizeof g_err), 0);
        assert_int_equal(a.major, major);
        assert_int_equal(a.dtype, TML_INT8);
        assert_int_equal(a.ndims, 1);
        assert_int_equal(a.dims[0], 2);
        assert_int_equal(a.count, 2);
        assert_int_equal((int8_t)a.data[0], -128);
        assert_int_equal((int8_t)a.data[1], 127);
    }
}

static void test_every_dtype_and_key_order(void **state)
{
    (void)state;
    static const struct { const char *descr; tml_dtype t; size_t size; } k[] = {
        {"<f4", TML_FLOAT32, 4}, {"<f2", TML_FLOAT16, 2}, {"<i4", TML_INT32, 4},
        {"<i2", TML_INT16, 2},   {"|i1", TML_INT8, 1},    {"<i1", TML_INT8, 1},
        {"|u1", TML_UINT8, 1},   {"<u1", TML_UINT8, 1},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        char h[128];
        /* Keys in another order, double quotes, no trailing comma. */
        snprintf(h, sizeof h, "{\"shape\": (3, 2), \"descr\": \"%s\", "
                 "\"fortran_order\": False}\n", k[i].descr);
        tml_npy a;
        assert_int_equal(parse_header(h, 6 * k[i].size, &a), 0);
        assert_int_equal(a.dtype, k[i].t);
        assert_int_equal(a.elem_size, k[i].size);
        assert_int_equal(a.count, 6);
    }
}

static void test_scalar_and_empty(void **state)
{
    (void)state;
    tml_npy a;
    assert_int_equal(parse_header("{'descr': '|u1', 'fortran_order': False, "
                                  "'shape': (), }\n", 1, &a), 0);
    assert_int_equal(a.ndims, 0);
    assert_int_equal(a.count, 1);
    assert_int_equal(parse_header("{'descr': '<f4', 'fortran_order': False, "
                                  "'shape': (0, 3), }\n", 0, &a), 0);
    assert_int_equal(a.ndims, 2);
    assert_int_equal(a.count, 0);
    assert_int_equal(a.data_bytes, 0);
}

static void test_hostile_prefix(void **state)
{
    (void)state;
    tml_npy a;
    assert_int_equal(tml_npy_parse("\x93NUMP", 5, &a, g_err, sizeof g_err), -1);
    assert_string_equal(g_err, "not a .npy file (no \\x93NUMPY magic)");
    assert_int_equal(tml_npy_parse("PK\3\4xxxxxxxxxxx", 16, &a, g_err,
                                   sizeof g_err), -1);
    assert_string_equal(g_err, "not a .npy file (no \\x93NUMPY magic)");
    assert_int_equal(tml_npy_parse("\x93NUMPY\4\0\0\0", 10, &a, g_err,
                                   sizeof g_err), -1);
    assert_string_equal(g_err, "unsupported .npy format version 4.0 "
                        "(supported: 1.0, 2.0, 3.0)");
    assert_int_equal(tml_npy_parse("\x93NUMPY\1\1\0\0", 10, &a, g_err,
                                   sizeof g_err), -1);
    assert_string_equal(g_err, "unsupported .npy format version 1.1 "
                        "(supported: 1.0, 2.0, 3.0)");
    assert_int_equal(tml_npy_parse("\x93NUMPY\2\0\1\0", 10, &a, g_err,
                                   sizeof g_err), -1);
    assert_string_equal(g_err, "file ends inside the header length "
                        "(10 bytes)");
    /* Header length beyond the end of the file. */
    assert_int_equal(tml_npy_parse("\x93NUMPY\1\0\xff\0{}", 12, &a, g_err,
                                   sizeof g_err), -1);
    assert_string_equal(g_err, "header length 255 exceeds the file "
                        "(2 bytes after the length field)");
    /* A 4 GB header length in a version 2.0 file. */
    assert_int_equal(tml_npy_parse("\x93NUMPY\2\0\xff\xff\xff\xff{}", 14, &a,
                                   g_err, sizeof g_err), -1);
    assert_string_equal(g_err, "header length 4294967295 exceeds the limit "
                        "of 65536 bytes");
}

static void test_hostile_dict(void **state)
{
    (void)state;
    expect_error("{'descr': '<f4', 'fortran_order': True, 'shape': (3, 2), }\n",
                 24, "header: fortran_order True is not supported (C order "
                 "only)");
    expect_error("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }\n",
                 8, "header: unsupported dtype '>f4' (supported: <f4 <f2 <i4 "
                 "<i2 |i1 <i1 |u1 <u1 <i8)");
    expect_error("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n",
                 16, "header: unsupported dtype '<f8' (supported: <f4 <f2 <i4 "
                 "<i2 |i1 <i1 |u1 <u1 <i8)");
    expect_error("{'descr': [('a', '<f4')], 'fortran_order': False, "
                 "'shape': (2,), }\n", 8, "header: 'descr' must be a quoted "
                 "string (structured dtypes are not supported)");
    expect_error("{'descr': '<f4', 'shape': (2,), }\n", 8,
                 "header: missing key 'fortran_order'");
    expect_error("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), "
                 "'shape': (2,), }\n", 8, "header: duplicate key 'shape'");
    expect_error("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), "
                 "'extra': 1}\n", 8, "header: unexpected key 'extra'");
    expect_error("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}\n", 8,
                 "header: 'fortran_order' must be True or False");
    expect_error("{'descr': '<f4', 'fortran_order': False, 'shape': [2]}\n",
                 8, "header: 'shape' must be a tuple");
    expect_error("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1)}\n",
                 8, "header: shape dimension 1 is not a non-negative integer");
    expect_error("{'descr': '<f4', 'fortran_order': False, 'shape': (3)}\n",
                 12, "header: shape (3) is not a tuple (a 1-D shape is written "
                 "(3,))");
    expect_error("{'descr': '<f4', 'fortran_order': False, 'shape': (2 2)}\n",
                 8, "header: expected ',' or ')' in shape");
    expect_error("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)",
                 8, "header: expected ',' or '}' after 'shape'");
    expect_error("{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}\n",
                 8, "header: unsupported dtype '<f4, ' (supported: <f4 <f2 "
                 "<i4 <i2 |i1 <i1 |u1 <u1 <i8)");
    expect_error("{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}\n",
                 8, "header: expected ',' or '}' after 'descr'");
    /* Control characters never reach an error message. */
    expect_error("{'descr': '\r\x1b[2J', 'fortran_order': False}\n", 8,
                 "header: 'descr' must be a quoted string (structured dtypes "
                 "are not supported)");
    expect_error("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x\n",
                 8, "header: unexpected characters after the dictionary");
    expect_error("'descr': '<f4'\n", 8, "header: expected '{' at the start of "
                 "the dictionary");
    expect_error("{descr: '<f4'}\n", 8, "header: expected a quoted key");
    expect_error("{'descr' '<f4'}\n", 8, "header: expected ':' after 'descr'");
    expect_error("{'descr': 'a\\'b'}\n", 8, "header: 'descr' must be a quoted "
                 "string (structured dtypes are not supported)");
}

static void test_hostile_shape_sizes(void **state)
{
    (void)state;
    expect_error("{'descr': '<f4', 'fortran_order': False, "
                 "'shape': (99999999999999999999,)}\n", 0,
                 "header: shape dimension 0 is too large");
    expect_error("{'descr': '|i1', 'fortran_order': False, "
                 "'shape': (4294967296, 4294967296, 2)}\n", 0,
                 "header: shape (4294967296, 4294967296, 2) has too many "
                 "elements");
    expect_error("{'descr': '<f4', 'fortran_order': False, "
                 "'shape': (4611686018427387904,)}\n", 0,
                 "header: shape (4611686018427387904,) has too many bytes");
    /* A zero dimension makes any other dimension harmless. */
    tml_npy a;
    assert_int_equal(parse_header("{'descr': '<f4', 'fortran_order': False, "
                                  "'shape': (0, 18446744073709551615)}\n", 0,
                                  &a), 0);
    assert_int_equal(a.count, 0);
    char h[512];
    int n = snprintf(h, sizeof h, "{'descr': '|i1', 'fortran_order': False, "
                     "'shape': (");
    for (int i = 0; i < 33; i++)
        n += snprintf(h + n, sizeof h - (size_t)n, "1, ");
    snprintf(h + n, sizeof h - (size_t)n, ")}\n");
    expect_error(h, 1, "header: shape has more than 32 dimensions");
    expect_error("{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3)}\n",
                 11, "data is 11 bytes, expected 12 (shape (2, 3) of <i2)");
    expect_error("{'descr': '<i2', 'fortran_order': False, 'shape': (5,)}\n",
                 12, "data is 12 bytes, expected 10 (shape (5,) of <i2)");
}

static void test_writer_matches_numpy(void **state)
{
    (void)state;
    float values[12];
    for (int i = 0; i < 12; i++)
        values[i] = (float)i;
    int32_t dims[2] = {1, 12};
    size_t n = 0;
    uint8_t *out = tml_npy_write(TML_FLOAT32, dims, 2, values, &n, g_err,
                                 sizeof g_err);
    assert_non_null(out);
    /* numpy 1.24 numpy.save: 176 bytes, header length 0x76. */
    assert_int_equal(n, 176);
    assert_memory_equal(out, "\x93NUMPY\x01\x00\x76\x00", 10);
    assert_memory_equal(out + 10, F4_1x12, strlen(F4_1x12));
    for (size_t i = 10 + strlen(F4_1x12); i < 127; i++)
        assert_int_equal(out[i], ' ');
    assert_int_equal(out[127], '\n');
    assert_memory_equal(out + 128, values, sizeof values);
    tml_npy a;
    assert_int_equal(tml_npy_parse(out, n, &a, g_err, sizeof g_err), 0);
    assert_int_equal(a.count, 12);
    free(out);

    /* 1-D int8 and 0-D uint8, as numpy.save writes them. */
    int8_t v[3] = {1, -2, 3};
    int32_t d1 = 3;
    out = tml_npy_write(TML_INT8, &d1, 1, v, &n, g_err, sizeof g_err);
    assert_non_null(out);
    assert_int_equal(n, 131);
    const char *h1 = "{'descr': '|i1', 'fortran_order': False, 'shape': (3,), }";
    assert_memory_equal(out + 10, h1, strlen(h1));
    assert_int_equal(out[127], '\n');
    assert_memory_equal(out + 128, v, 3);
    free(out);
    uint8_t s = 7;
    out = tml_npy_write(TML_UINT8, NULL, 0, &s, &n, g_err, sizeof g_err);
    assert_non_null(out);
    assert_int_equal(n, 129);
    const char *h0 = "{'descr': '|u1', 'fortran_order': False, 'shape': (), }";
    assert_memory_equal(out + 10, h0, strlen(h0));
    assert_int_equal(out[10 + strlen(h0)], ' ');
    assert_int_equal(out[128], 7);
    free(out);
}

static void test_writer_errors(void **state)
{
    (void)state;
    size_t n = 0;
    int32_t d = 2;
    assert_null(tml_npy_write(TML_BOOL, &d, 1, "", &n, g_err, sizeof g_err));
    assert_string_equal(g_err, "cannot write dtype 6 to .npy (supported: "
                        "float32 float16 int32 int16 int8 uint8 int64)");
    d = -1;
    assert_null(tml_npy_write(TML_INT8, &d, 1, "", &n, g_err, sizeof g_err));
    assert_string_equal(g_err, "bad dimension 0: -1");
}

/* Seeded mutations and truncations of valid files: the parser returns 0
 * or -1, never reads outside the buffer (ASan builds check that), and on
 * success its view is consistent with the buffer. */
static void test_mutations_never_escape(void **state)
{
    (void)state;
    static const char *headers[] = {
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }    \n",
        "{'descr': '|i1', 'fortran_order': False, 'shape': (24,), }\n",
        "{'shape': (), 'descr': '<i2', 'fortran_order': False}\n",
    };
    static const char alphabet[] = "(){}[],:' \"0123456789-TrueFals\n\\<|fiu";
    uint32_t rng = 12345;
    uint8_t src[512], buf[512];
    uint8_t data[24] = {0};
    int parsed = 0;
    for (int iter = 0; iter < 60000; iter++) {
        const char *h = headers[iter % 3];
        int major = 1 + (iter / 3) % 3;
        size_t n = make_npy(src, major, 0, h, data,
                            iter % 3 == 2 ? 2 : 24);
        memcpy(buf, src, n);
        rng = rng * 1664525u + 1013904223u;
        int mutations = 1 + (int)((rng >> 28) & 3);
        for (int k = 0; k < mutations; k++) {
            rng = rng * 1664525u + 1013904223u;
            size_t off = (rng >> 8) % n;
            rng = rng * 1664525u + 1013904223u;
            buf[off] = (rng >> 31) ? (uint8_t)(rng >> 16)
                                   : (uint8_t)alphabet[(rng >> 16) %
                                                       (sizeof alphabet - 1)];
        }
        rng = rng * 1664525u + 1013904223u;
        size_t len = (rng >> 30) == 0 ? (rng >> 8) % (n + 1) : n;
        /* An exact-size heap copy, so that ASan sees any overread. */
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, buf, len);
        tml_npy a;
        int r = tml_npy_parse(copy, len, &a, g_err, sizeof g_err);
        assert_true(r == 0 || r == -1);
        if (r == 0) {
            parsed++;
            assert_true(a.data >= copy && a.data + a.data_bytes == copy + len);
            assert_int_equal(a.data_bytes, a.count * a.elem_size);
        } else {
            assert_true(g_err[0] != '\0');
            assert_null(strchr(g_err, '\n'));
        }
        free(copy);
    }
    /* Some mutations only touch padding or data: those still parse. */
    assert_true(parsed > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_float32),
        cmocka_unit_test(test_v2_v3_int8),
        cmocka_unit_test(test_every_dtype_and_key_order),
        cmocka_unit_test(test_scalar_and_empty),
        cmocka_unit_test(test_hostile_prefix),
        cmocka_unit_test(test_hostile_dict),
        cmocka_unit_test(test_hostile_shape_sizes),
        cmocka_unit_test(test_writer_matches_numpy),
        cmocka_unit_test(test_writer_errors),
        cmocka_unit_test(test_mutations_never_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
