/* .npy reader and writer; see npy.h.  Format: NumPy's NEP 1 and
 * numpy/lib/format.py (header = Python dict literal, padded with spaces to
 * a multiple of 64 bytes and ended by '\n'). */
#include "npy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_ALIGN 64
/* numpy.save leaves room for the growth axis to reach 21 digits. */
#define NPY_GROWTH_DIGITS 21

typedef struct dtype_name {
    const char *descr;
    tml_dtype dtype;
    size_t size;
} dtype_name;

/* '|' and '<' both accepted for one-byte types: numpy writes '|', other
 * writers write '<'.  The first name of each dtype is what we write. */
static const dtype_name k_dtypes[] = {
    {"<f4", TML_FLOAT32, 4}, {"<f2", TML_FLOAT16, 2}, {"<i4", TML_INT32, 4},
    {"<i2", TML_INT16, 2},   {"|i1", TML_INT8, 1},    {"<i1", TML_INT8, 1},
    {"|u1", TML_UINT8, 1},   {"<u1", TML_UINT8, 1},   {"<i8", TML_INT64, 8},
};
#define NUM_DTYPES (sizeof k_dtypes / sizeof k_dtypes[0])

const char *tml_npy_descr(tml_dtype dtype)
{
    for (size_t i = 0; i < NUM_DTYPES; i++)
        if (k_dtypes[i].dtype == dtype)
            return k_dtypes[i].descr;
    return NULL;
}

/* Element size of a supported dtype, 0 otherwise (kept here rather than
 * calling the runtime so the reader stands alone). */
static size_t dtype_size(tml_dtype dtype)
{
    for (size_t i = 0; i < NUM_DTYPES; i++)
        if (k_dtypes[i].dtype == dtype)
            return k_dtypes[i].size;
    return 0;
}

static int fail(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- header cursor ---- */

typedef struct cursor {
    const char *p;
    const char *end;
} cursor;

static void skip_ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' ||
                             *c->p == '\r'))
        c->p++;
}

static int peek(const cursor *c) { return c->p < c->end ? (unsigned char)*c->p : -1; }

/* A quoted string without escapes into out (NUL-terminated, truncated to
 * out_size - 1: longer strings are never valid keys or descrs anyway). */
static int parse_string(cursor *c, char *out, size_t out_size)
{
    int q = peek(c);
    if (q != '\'' && q != '"')
        return -1;
    c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        /* No escapes, no control characters: keeps messages one line. */
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '\\' || ch < 0x20 || ch == 0x7f)
            return -1;
        if (n + 1 < out_size)
            out[n++] = *c->p;
        c->p++;
    }
    if (c->p >= c->end)
        return -1;
    c->p++;
    out[n] = '\0';
    return 0;
}

static int match_word(cursor *c, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return 0;
    c->p += n;
    return 1;
}

static void format_shape(const uint64_t *dims, int32_t ndims, char *out,
                         size_t out_size)
{
    size_t len = 0;
    len += (size_t)snprintf(out, out_size, "(");
    for (int32_t i = 0; i < ndims && len < out_size; i++)
        len += (size_t)snprintf(out + len, out_size - len, "%s%llu",
                                i ? ", " : "", (unsigned long long)dims[i]);
    if (len < out_size)
        snprintf(out + len, out_size - len, ndims == 1 ? ",)" : ")");
}

/* '(' [uint {',' uint}] [','] ')'.  A single element needs its comma:
 * "(3)" is the integer 3 in Python, not a tuple. */
static int parse_shape(cursor *c, tml_npy *out, char *err, size_t err_size)
{
    if (peek(c) != '(')
        return fail(err, err_size, "header: 'shape' must be a tuple");
    c->p++;
    int32_t n = 0;
    int trailing_comma = 0;
    for (;;) {
        skip_ws(c);
        if (peek(c) == ')')
            break;
        if (peek(c) < '0' || peek(c) > '9')
            return fail(err, err_size, "header: shape dimension %d is not a "
                        "non-negative integer", (int)n);
        uint64_t v = 0;
        while (peek(c) >= '0' && peek(c) <= '9') {
            unsigned d = (unsigned)(peek(c) - '0');
            if (v > (UINT64_MAX - d) / 10)
                return fail(err, err_size, "header: shape dimension %d is "
                            "too large", (int)n);
            v = v * 10 + d;
            c->p++;
        }
        if (n == TML_NPY_MAX_DIMS)
            return fail(err, err_size, "header: shape has more than %d "
                        "dimensions", TML_NPY_MAX_DIMS);
        out->dims[n++] = v;
        skip_ws(c);
        trailing_comma = 0;
        if (peek(c) == ',') {
            c->p++;
            trailing_comma = 1;
            continue;
        }
        if (peek(c) != ')')
            return fail(err, err_size, "header: expected ',' or ')' in shape");
    }
    c->p++;
    if (n == 1 && !trailing_comma)
        return fail(err, err_size, "header: shape (%llu) is not a tuple "
                    "(a 1-D shape is written (%llu,))",
                    (unsigned long long)out->dims[0],
                    (unsigned long long)out->dims[0]);
    out->ndims = n;
    return 0;
}

enum { KEY_DESCR = 1, KEY_FORTRAN = 2, KEY_SHAPE = 4 };

static int parse_value(cursor *c, int key, tml_npy *out, int *fortran,
                       char *err, size_t err_size)
{
    if (key == KEY_SHAPE)
        return parse_shape(c, out, err, err_size);
    if (key == KEY_FORTRAN) {
        if (match_word(c, "True"))
            *fortran = 1;
        else if (match_word(c, "False"))
            *fortran = 0;
        else
            return fail(err, err_size,
                        "header: 'fortran_order' must be True or False");
        return 0;
    }
    char descr[16];
    if (parse_string(c, descr, sizeof descr) != 0)
        return fail(err, err_size, "header: 'descr' must be a quoted string "
                    "(structured dtypes are not supported)");
    for (size_t i = 0; i < NUM_DTYPES; i++) {
        if (strcmp(descr, k_dtypes[i].descr) == 0) {
            out->dtype = k_dtypes[i].dtype;
            return 0;
        }
    }
    return fail(err, err_size, "header: unsupported dtype '%s' (supported: "
                "<f4 <f2 <i4 <i2 |i1 <i1 |u1 <u1 <i8)", descr);
}

static int parse_dict(cursor *c, tml_npy *out, int *fortran, char *err,
                      size_t err_size)
{
    static const char *const names[] = {"descr", "fortran_order", "shape"};
    static const int keys[] = {KEY_DESCR, KEY_FORTRAN, KEY_SHAPE};
    int seen = 0;
    skip_ws(c);
    if (peek(c) != '{')
        return fail(err, err_size, "header: expected '{' at the start of the "
                    "dictionary");
    c->p++;
    for (;;) {
        skip_ws(c);
        if (peek(c) == '}')
            break;
        char name[32];
        if (parse_string(c, name, sizeof name) != 0)
            return fail(err, err_size, "header: expected a quoted key");
        int key = 0;
        for (int i = 0; i < 3; i++)
            if (strcmp(name, names[i]) == 0)
                key = keys[i];
        if (!key)
            return fail(err, err_size, "header: unexpected key '%s'", name);
        if (seen & key)
            return fail(err, err_size, "header: duplicate key '%s'", name);
        seen |= key;
        skip_ws(c);
        if (peek(c) != ':')
            return fail(err, err_size, "header: expected ':' after '%s'", name);
        c->p++;
        skip_ws(c);
        if (parse_value(c, key, out, fortran, err, err_size) != 0)
            return -1;
        skip_ws(c);
        if (peek(c) == ',') {
            c->p++;
            continue;
        }
        if (peek(c) != '}')
            return fail(err, err_size, "header: expected ',' or '}' after "
                        "'%s'", name);
    }
    c->p++;
    skip_ws(c);
    if (c->p != c->end)
        return fail(err, err_size, "header: unexpected characters after the "
                    "dictionary");
    for (int i = 0; i < 3; i++)
        if (!(seen & keys[i]))
            return fail(err, err_size, "header: missing key '%s'", names[i]);
    return 0;
}

static uint32_t read_le(const uint8_t *p, int bytes)
{
    uint32_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

int tml_npy_parse(const void *buf, size_t size, tml_npy *out, char *err,
                  size_t err_size)
{
    const uint8_t *b = buf;
    memset(out, 0, sizeof *out);
    if (size < NPY_MAGIC_LEN + 2 || memcmp(b, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return fail(err, err_size, "not a .npy file (no \\x93NUMPY magic)");
    out->major = b[6];
    out->minor = b[7];
    if (out->major < 1 || out->major > 3 || out->minor != 0)
        return fail(err, err_size, "unsupported .npy format version %d.%d "
                    "(supported: 1.0, 2.0, 3.0)", out->major, out->minor);
    int len_bytes = out->major == 1 ? 2 : 4;
    size_t prefix = NPY_MAGIC_LEN + 2 + (size_t)len_bytes;
    if (size < prefix)
        return fail(err, err_size, "file ends inside the header length "
                    "(%zu bytes)", size);
    uint32_t hlen = read_le(b + NPY_MAGIC_LEN + 2, len_bytes);
    if (hlen > TML_NPY_MAX_HEADER)
        return fail(err, err_size, "header length %lu exceeds the limit of "
                    "%d bytes", (unsigned long)hlen, TML_NPY_MAX_HEADER);
    if (hlen > size - prefix)
        return fail(err, err_size, "header length %lu exceeds the file "
                    "(%zu bytes after the length field)", (unsigned long)hlen,
                    size - prefix);

    cursor c = {(const char *)b + prefix, (const char *)b + prefix + hlen};
    int fortran = 0;
    if (parse_dict(&c, out, &fortran, err, err_size) != 0)
        return -1;
    if (fortran)
        return fail(err, err_size, "header: fortran_order True is not "
                    "supported (C order only)");

    out->elem_size = dtype_size(out->dtype);
    size_t count = 1;
    for (int32_t i = 0; i < out->ndims; i++) {
        uint64_t d = out->dims[i];
        if (d > SIZE_MAX || (d != 0 && count > SIZE_MAX / (size_t)d)) {
            char shape[256];
            format_shape(out->dims, out->ndims, shape, sizeof shape);
            return fail(err, err_size, "header: shape %s has too many "
                        "elements", shape);
        }
        count *= (size_t)d;
    }
    if (count > SIZE_MAX / out->elem_size) {
        char shape[256];
        format_shape(out->dims, out->ndims, shape, sizeof shape);
        return fail(err, err_size, "header: shape %s has too many bytes",
                    shape);
    }
    out->count = count;
    out->data_bytes = count * out->elem_size;
    size_t have = size - prefix - hlen;
    if (have != out->data_bytes) {
        char shape[256];
        format_shape(out->dims, out->ndims, shape, sizeof shape);
        return fail(err, err_size, "data is %zu bytes, expected %zu (shape "
                    "%s of %s)", have, out->data_bytes, shape,
                    tml_npy_descr(out->dtype));
    }
    out->data = b + prefix + hlen;
    return 0;
}

/* ---- writer ---- */

void *tml_npy_write(tml_dtype dtype, const int32_t *dims, int32_t ndims,
                    const void *data, size_t *out_size, char *err,
                    size_t err_size)
{
    const char *descr = tml_npy_descr(dtype);
    if (!descr) {
        fail(err, err_size, "cannot write dtype %d to .npy (supported: "
             "float32 float16 int32 int16 int8 uint8 int64)", (int)dtype);
        return NULL;
    }
    if (ndims < 0 || ndims > TML_NPY_MAX_DIMS) {
        fail(err, err_size, "cannot write %d dimensions to .npy", (int)ndims);
        return NULL;
    }
    size_t count = 1;
    for (int32_t i = 0; i < ndims; i++) {
        if (dims[i] < 0 || (dims[i] && count > SIZE_MAX / (size_t)dims[i])) {
            fail(err, err_size, "bad dimension %d: %d", (int)i, (int)dims[i]);
            return NULL;
        }
        count *= (size_t)dims[i];
    }
    size_t elem = dtype_size(dtype);
    if (count > SIZE_MAX / elem) {
        fail(err, err_size, "array too large");
        return NULL;
    }
    size_t bytes = count * elem;

    /* The dict exactly as numpy.save writes it (keys sorted). */
    char header[TML_NPY_MAX_DIMS * 14 + 160];
    size_t n = (size_t)snprintf(header, sizeof header,
                                "{'descr': '%s', 'fortran_order': False, "
                                "'shape': (", descr);
    for (int32_t i = 0; i < ndims; i++)
        n += (size_t)snprintf(header + n, sizeof header - n, "%s%d",
                              i ? ", " : "", (int)dims[i]);
    n += (size_t)snprintf(header + n, sizeof header - n, "%s), }",
                          ndims == 1 ? "," : "");
    if (ndims > 0) {
        char first[16];
        int digits = snprintf(first, sizeof first, "%d", (int)dims[0]);
        for (int i = digits; i < NPY_GROWTH_DIGITS; i++)
            header[n++] = ' ';
    }
    /* Pad with spaces so that magic + version + length + header + '\n'
     * is a multiple of 64. */
    int major = 1;
    size_t prefix = NPY_MAGIC_LEN + 2 + 2;
    size_t hlen = n + 1;
    size_t pad = NPY_ALIGN - (prefix + hlen) % NPY_ALIGN;
    if (hlen + pad > 65535) {
        major = 2;
        prefix = NPY_MAGIC_LEN + 2 + 4;
        pad = NPY_ALIGN - (prefix + hlen) % NPY_ALIGN;
    }
    hlen += pad;
    if (bytes > SIZE_MAX - prefix - hlen) {
        fail(err, err_size, "array too large");
        return NULL;
    }
    size_t total = prefix + hlen + bytes;
    uint8_t *out = malloc(total ? total : 1);
    if (!out) {
        fail(err, err_size, "out of memory for %zu bytes", total);
        return NULL;
    }
    memcpy(out, NPY_MAGIC, NPY_MAGIC_LEN);
    out[6] = (uint8_t)major;
    out[7] = 0;
    for (size_t i = 0; i < prefix - NPY_MAGIC_LEN - 2; i++)
        out[NPY_MAGIC_LEN + 2 + i] = (uint8_t)(hlen >> (8 * i));
    memcpy(out + prefix, header, n);
    memset(out + prefix + n, ' ', hlen - n - 1);
    out[prefix + hlen - 1] = '\n';
    if (bytes)
        memcpy(out + prefix + hlen, data, bytes);
    *out_size = total;
    return out;
}
