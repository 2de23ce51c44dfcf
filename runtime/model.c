/*
 * The TFLite flatbuffer verifier and the verified model view (model.h).
 *
 * tml_model_load() checks everything the accessors and the interpreter
 * will later trust: every offset, vector and string of every table the
 * runtime reads, every index, every shape and data size.  The accessors
 * then reuse the same decoding functions (read_tensor, read_op, ...), so
 * what was verified is exactly what is read.
 *
 * Work is bounded by the file size: vector counts are bounded by the bytes
 * left in the file, and a work budget proportional to the size stops files
 * that alias one big vector or table from many places.
 */
#include "model.h"

#include <stdarg.h>
#include <string.h>

#include "fb.h"
#include "format.h"
#include "schema.h"

#define BUILTIN_CUSTOM 32

/* A valid pointer for empty shapes and index lists. */
static const int32_t k_empty[1] = { 0 };

size_t tml_model_dtype_size(int32_t type)
{
    switch (type) {
    case TML_FLOAT32: return 4;
    case TML_FLOAT16: return 2;
    case TML_INT32: return 4;
    case TML_UINT8: return 1;
    case TML_INT64: return 8;
    case TML_BOOL: return 1;
    case TML_INT16: return 2;
    case TML_INT8: return 1;
    default: return 0;
    }
}

/* TensorType names of schema.fbs, for messages about types we reject. */
static const char *type_name(int32_t type)
{
    static const char *const names[] = {
        "FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL",
        "INT16", "COMPLEX64", "INT8", "FLOAT64", "COMPLEX128", "UINT64",
        "RESOURCE", "VARIANT", "UINT32", "UINT16", "INT4", "BFLOAT16",
        "INT2", "UINT4", "FLOAT8_E4M3FN", "FLOAT8_E5M2"
    };
    if (type < 0 || type >= (int32_t)(sizeof names / sizeof names[0]))
        return NULL;
    return names[type];
}

/* ------------------------------------------------------------------ */
/* Decoding shared by the verifier and the accessors                   */
/* ------------------------------------------------------------------ */

static tml_fb fb_of(const tml_model *m)
{
    tml_fb fb;
    fb.base = m->base;
    fb.size = (uint32_t)m->size;
    fb.where = 0;
    return fb;
}

static const char *str_at(const tml_fb *fb, uint32_t off)
{
    return off ? (const char *)(fb->base + off) : "";
}

/* Reads a Tensor table (everything but the buffer's data).  On error
 * *what names the field. */
static int read_tensor(tml_fb *fb, uint32_t t, tml_model_tensor *out,
                       uint32_t *sparsity, const char **what)
{
    uint32_t n, data, name, quant;
    uint8_t u8;
    int rc;

    memset(out, 0, sizeof *out);
    *sparsity = 0;
    *what = "name";
    if ((rc = tml_fb_field_string(fb, t, TML_F_TENSOR_NAME, &name)))
        return rc;
    out->name = str_at(fb, name);
    *what = "shape";
    if ((rc = tml_fb_field_vector(fb, t, TML_F_TENSOR_SHAPE, 4, 4, &n,
                                  &data)))
        return rc;
    out->ndims = (int32_t)n;
    out->dims = n ? (const int32_t *)(const void *)(fb->base + data)
                  : k_empty;
    *what = "type";
    if ((rc = tml_fb_field_u8(fb, t, TML_F_TENSOR_TYPE, 0, &u8)))
        return rc;
    out->type = (int8_t)u8;   /* TensorType is a signed byte */
    *what = "buffer";
    if ((rc = tml_fb_field_u32(fb, t, TML_F_TENSOR_BUFFER, 0, &out->buffer)))
        return rc;
    *what = "is_variable";
    if ((rc = tml_fb_field_u8(fb, t, TML_F_TENSOR_IS_VARIABLE, 0, &u8)))
        return rc;
    out->is_variable = u8 != 0;
    *what = "sparsity";
    if ((rc = tml_fb_field_table(fb, t, TML_F_TENSOR_SPARSITY, sparsity)))
        return rc;
    *what = "quantization";
    if ((rc = tml_fb_field_table(fb, t, TML_F_TENSOR_QUANT, &quant)))
        return rc;
    if (!quant)
        return TML_FB_OK;
    *what = "quantization scale";
    if ((rc = tml_fb_field_vector(fb, quant, TML_F_QUANT_SCALE, 4, 4, &n,
                                  &data)))
        return rc;
    out->nscales = (int32_t)n;
    out->scales = n ? (const float *)(const void *)(fb->base + data) : NULL;
    *what = "quantization zero_point";
    if ((rc = tml_fb_field_vector(fb, quant, TML_F_QUANT_ZERO_POINT, 8, 8, &n,
                                  &data)))
        return rc;
    /* Zero points without scales mean nothing: report "not quantized". */
    out->zero_points = n && out->scales
        ? (const int64_t *)(const void *)(fb->base + data) : NULL;
    *what = "quantized_dimension";
    return tml_fb_field_i32(fb, quant, TML_F_QUANT_DIM, 0, &out->quant_dim);
}

/* Number of zero points of a tensor's quantization (0 when absent). */
static int count_zero_points(tml_fb *fb, uint32_t t, uint32_t *count)
{
    uint32_t quant, data;
    int rc = tml_fb_field_table(fb, t, TML_F_TENSOR_QUANT, &quant);
    *count = 0;
    if (rc || !quant)
        return rc;
    return tml_fb_field_vector(fb, quant, TML_F_QUANT_ZERO_POINT, 8, 8, count,
                               &data);
}

/* Constant data of a Buffer table: inline `data`, or the large-model form
 * (offset from the file start, used when offset > 1, plus size).  On
 * success *off is 0 when the buffer is empty. */
static int read_buffer(tml_fb *fb, uint32_t b, uint32_t *off, uint32_t *size,
                       int *both, const char **what)
{
    uint32_t n, data;
    uint64_t xoff, xsize;
    int rc;

    *off = 0;
    *size = 0;
    *both = 0;
    *what = "data";
    if ((rc = tml_fb_field_vector(fb, b, TML_F_BUFFER_DATA, 1, 1, &n, &data)))
        return rc;
    *what = "offset";
    if ((rc = tml_fb_field_u64(fb, b, TML_F_BUFFER_OFFSET, 0, &xoff)))
        return rc;
    *what = "size";
    if ((rc = tml_fb_field_u64(fb, b, TML_F_BUFFER_SIZE, 0, &xsize)))
        return rc;
    if (xoff > 1) {
        *what = "offset/size";
        if (!tml_fb_in(fb, xoff, xsize)) {
            fb->where = xoff > 0xffffffffu ? 0xffffffffu : (uint32_t)xoff;
            return TML_FB_BOUNDS;
        }
        *both = n > 0;
        *off = xsize ? (uint32_t)xoff : 0;
        *size = (uint32_t)xsize;
        return TML_FB_OK;
    }
    *off = n ? data : 0;
    *size = n;
    return TML_FB_OK;
}

/* Builtin code, version and custom name of an OperatorCode table. */
static int read_opcode(tml_fb *fb, uint32_t oc, int32_t *builtin,
                       int32_t *version, uint32_t *custom, const char **what)
{
    uint8_t dep;
    int32_t code;
    int rc;

    *what = "deprecated_builtin_code";
    if ((rc = tml_fb_field_u8(fb, oc, TML_F_OPCODE_DEPRECATED_BUILTIN, 0,
                              &dep)))
        return rc;
    *what = "builtin_code";
    if ((rc = tml_fb_field_i32(fb, oc, TML_F_OPCODE_BUILTIN, 0, &code)))
        return rc;
    *what = "version";
    if ((rc = tml_fb_field_i32(fb, oc, TML_F_OPCODE_VERSION, 1, version)))
        return rc;
    *what = "custom_code";
    if ((rc = tml_fb_field_string(fb, oc, TML_F_OPCODE_CUSTOM, custom)))
        return rc;
    /* TFLite's rule (schema_utils GetBuiltinCode): codes < 127 may live
     * in either field, so the larger of the two is the real one. */
    *builtin = (int8_t)dep > code ? (int8_t)dep : code;
    return TML_FB_OK;
}

/* An Operator table's own fields (not its opcode). */
static int read_op(tml_fb *fb, uint32_t op, uint32_t *opcode_index,
                   tml_model_op *out, const char **what)
{
    uint32_t n, data;
    int rc;

    memset(out, 0, sizeof *out);
    *what = "opcode_index";
    if ((rc = tml_fb_field_u32(fb, op, TML_F_OP_OPCODE_INDEX, 0,
                               opcode_index)))
        return rc;
    *what = "inputs";
    if ((rc = tml_fb_field_vector(fb, op, TML_F_OP_INPUTS, 4, 4, &n, &data)))
        return rc;
    out->ninputs = (int32_t)n;
    out->inputs = n ? (const int32_t *)(const void *)(fb->base + data)
                    : k_empty;
    *what = "outputs";
    if ((rc = tml_fb_field_vector(fb, op, TML_F_OP_OUTPUTS, 4, 4, &n, &data)))
        return rc;
    out->noutputs = (int32_t)n;
    out->outputs = n ? (const int32_t *)(const void *)(fb->base + data)
                     : k_empty;
    *what = "builtin_options_type";
    if ((rc = tml_fb_field_u8(fb, op, TML_F_OP_OPTIONS_TYPE, 0,
                              &out->options_type)))
        return rc;
    *what = "builtin_options";
    if ((rc = tml_fb_field_table(fb, op, TML_F_OP_OPTIONS, &out->options)))
        return rc;
    /* A union whose type is NONE has no value, whatever the table says. */
    if (out->options_type == TML_OPT_NONE)
        out->options = 0;
    return TML_FB_OK;
}

/* The BuiltinOptions type each op tinyml runs expects (schema.fbs), so a
 * kernel never reads its fields from another op's options table.  0 for
 * ops without options or that tinyml does not run. */
static int expected_options(int32_t builtin)
{
    static const struct { uint8_t builtin, type; } map[] = {
        { 0, TML_OPT_ADD }, { 1, TML_OPT_POOL_2D },
        { 2, TML_OPT_CONCATENATION }, { 3, TML_OPT_CONV_2D },
        { 4, TML_OPT_DEPTHWISE_CONV_2D }, { 6, TML_OPT_DEQUANTIZE },
        { 9, TML_OPT_FULLY_CONNECTED }, { 17, TML_OPT_POOL_2D },
        { 18, TML_OPT_MUL }, { 22, TML_OPT_RESHAPE },
        { 25, TML_OPT_SOFTMAX }, { 34, TML_OPT_PAD },
        { 39, TML_OPT_TRANSPOSE }, { 40, TML_OPT_REDUCER },
        { 41, TML_OPT_SUB }, { 43, TML_OPT_SQUEEZE },
        { 45, TML_OPT_STRIDED_SLICE }, { 98, TML_OPT_LEAKY_RELU },
        { 114, TML_OPT_QUANTIZE }, { 117, TML_OPT_HARD_SWISH }
    };
    for (size_t k = 0; k < sizeof map / sizeof map[0]; k++)
        if (map[k].builtin == builtin)
            return map[k].type;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The verifier                                                        */
/* ------------------------------------------------------------------ */

typedef struct ver {
    tml_fb fb;
    char *err;
    size_t err_size;
    char sg[24];            /* "" for subgraph 0, else "subgraph N: " */
    char where[112];        /* prefix of the current message */
    uint32_t opcodes, buffers;
    int32_t nopcodes, nbuffers;
    uint64_t budget;        /* work units left (see charge) */
} ver;

static tml_status fail(ver *v, tml_status st, const char *fmt, ...)
{
    va_list ap;
    size_t n;

    if (!v->err || !v->err_size)
        return st;
    n = tml_format(v->err, v->err_size, "%s", v->where);
    if (n + 1 < v->err_size) {
        va_start(ap, fmt);
        tml_vformat(v->err + n, v->err_size - n, fmt, ap);
        va_end(ap);
    }
    return st;
}

static tml_status fb_fail(ver *v, int rc, const char *what)
{
    /* The file size helps tell a truncated file from a bad offset. */
    if (rc == TML_FB_BOUNDS || rc == TML_FB_VTABLE_BOUNDS ||
        rc == TML_FB_INLINE_SIZE)
        return fail(v, TML_ERROR_MODEL,
                    "%s: %s at offset %u (model is %u bytes)", what,
                    tml_fb_error_text(rc), v->fb.where, v->fb.size);
    /* Alignment is checked on real addresses: a file that is fine at a
     * 16-aligned address can fail at a 4-aligned one. */
    if (rc == TML_FB_ALIGN && (uintptr_t)v->fb.base % 16)
        return fail(v, TML_ERROR_MODEL,
                    "%s: %s at offset %u (the model's address is not "
                    "16-byte aligned)", what, tml_fb_error_text(rc),
                    v->fb.where);
    return fail(v, TML_ERROR_MODEL, "%s: %s at offset %u", what,
                tml_fb_error_text(rc), v->fb.where);
}

static void set_where(ver *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tml_vformat(v->where, sizeof v->where, fmt, ap);
    va_end(ap);
}

/* A name safe to print in a one-line message: at most 40 bytes, control
 * and non-ASCII bytes replaced (a hostile name could hold a newline). */
static void safe_name(char *dst, size_t cap, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[i] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
    }
    dst[i] = '\0';
}

/* Every element the verifier walks costs one unit; a well-formed file
 * spends at most one unit per 4 bytes, so size units leave 4x slack while
 * a file aliasing one vector from many tables is stopped early. */
static int charge(ver *v, uint64_t units)
{
    if (units > v->budget)
        return 0;
    v->budget -= units;
    return 1;
}

static tml_status over_budget(ver *v)
{
    return fail(v, TML_ERROR_MODEL,
                "references more elements than a %u-byte file can hold "
                "(aliased vectors)", v->fb.size);
}

/* Names end up in every later message (kernels name their tensors), so a
 * control byte such as a newline would break the one-line rule anywhere
 * downstream: refuse them here, once.  UTF-8 is fine. */
static tml_status check_text(ver *v, const char *s, const char *what)
{
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (c < 0x20 || c == 0x7f)
            return fail(v, TML_ERROR_MODEL,
                        "%s has control byte 0x%x at index %zu", what,
                        (unsigned)c, n);
    }
    if (!charge(v, n / 4))
        return over_budget(v);
    return TML_OK;
}

static tml_status check_header(ver *v, const void *data, size_t size,
                               uint32_t *root)
{
    if (size < 8)
        return fail(v, TML_ERROR_MODEL,
                    "truncated: model is %zu bytes, need at least 8", size);
    if (size > TML_FB_MAX_SIZE)
        return fail(v, TML_ERROR_UNSUPPORTED,
                    "model is %zu bytes, more than the 2 GiB limit", size);
    if ((uintptr_t)data % 4)
        return fail(v, TML_ERROR_MODEL,
                    "model data is not 4-byte aligned in memory "
                    "(address mod 4 = %u)", (unsigned)((uintptr_t)data % 4));
    *root = tml_fb_u32(v->fb.base);
    if ((uint64_t)*root + 4 > size)
        return fail(v, TML_ERROR_MODEL,
                    "root table offset %u out of range (model is %zu bytes)",
                    *root, size);
    int rc = tml_fb_table(&v->fb, *root);
    if (rc)
        return fb_fail(v, rc, "root table");
    return TML_OK;
}

static tml_status verify_opcodes(ver *v, uint32_t root)
{
    uint32_t n, data;
    int rc = tml_fb_field_vector(&v->fb, root, TML_F_MODEL_OPCODES, 4, 4, &n,
                                 &data);
    if (rc)
        return fb_fail(v, rc, "operator_codes");
    if (!charge(v, n))
        return over_budget(v);
    v->opcodes = data;
    v->nopcodes = (int32_t)n;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t oc, custom;
        int32_t builtin, version;
        const char *what = "table";
        set_where(v, "operator code %u: ", i);
        rc = tml_fb_vector_table(&v->fb, data, i, &oc);
        if (!rc)
            rc = read_opcode(&v->fb, oc, &builtin, &version, &custom, &what);
        if (rc)
            return fb_fail(v, rc, what);
        if (builtin < 0)
            return fail(v, TML_ERROR_MODEL, "builtin code %d is negative",
                        (int)builtin);
        if (version < 1)
            return fail(v, TML_ERROR_MODEL, "version %d, must be >= 1",
                        (int)version);
        if (builtin == BUILTIN_CUSTOM && !custom)
            return fail(v, TML_ERROR_MODEL,
                        "CUSTOM operator without a custom_code name");
        if (custom) {
            tml_status st = check_text(v, (const char *)(v->fb.base + custom),
                                       "custom_code");
            if (st != TML_OK)
                return st;
        }
    }
    v->where[0] = '\0';
    return TML_OK;
}

static tml_status verify_buffers(ver *v, uint32_t root)
{
    uint32_t n, data;
    int rc = tml_fb_field_vector(&v->fb, root, TML_F_MODEL_BUFFERS, 4, 4, &n,
                                 &data);
    if (rc)
        return fb_fail(v, rc, "buffers");
    if (!charge(v, n))
        return over_budget(v);
    v->buffers = data;
    v->nbuffers = (int32_t)n;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t b, off, size;
        int both;
        const char *what = "table";
        set_where(v, "buffer %u: ", i);
        rc = tml_fb_vector_table(&v->fb, data, i, &b);
        if (!rc)
            rc = read_buffer(&v->fb, b, &off, &size, &both, &what);
        if (rc)
            return fb_fail(v, rc, what);
        if (both)
            return fail(v, TML_ERROR_MODEL,
                        "has both inline data and an offset");
        /* TFLite convention: buffer 0 is the empty sentinel that every
         * non-constant tensor points at. */
        if (i == 0 && size)
            return fail(v, TML_ERROR_MODEL,
                        "the empty sentinel holds %u bytes", size);
    }
    v->where[0] = '\0';
    return TML_OK;
}

/* Elements and bytes of a shape: bytes must fit in 2^31 - 1. */
static tml_status check_size(ver *v, const tml_model_tensor *t,
                             uint32_t *bytes)
{
    uint64_t elems = 1, esize = tml_model_dtype_size(t->type);
    for (int32_t d = 0; d < t->ndims; d++) {
        uint64_t dim = (uint64_t)t->dims[d];
        if (dim && elems > UINT64_MAX / dim)
            return fail(v, TML_ERROR_MODEL,
                        "element count overflows at dim %d (%d)", (int)d,
                        (int)t->dims[d]);
        elems *= dim;
    }
    if (elems > 0x7fffffffu / esize)
        return fail(v, TML_ERROR_MODEL,
                    "%llu elements of %u bytes, more than 2^31 - 1 bytes",
                    (unsigned long long)elems, (unsigned)esize);
    *bytes = (uint32_t)(elems * esize);
    return TML_OK;
}

static tml_status check_type(ver *v, int32_t type)
{
    const char *name = type_name(type);
    if (tml_model_dtype_size(type))
        return TML_OK;
    if (type == TML_STRING)
        return fail(v, TML_ERROR_UNSUPPORTED,
                    "STRING tensors are not supported");
    if (name)
        return fail(v, TML_ERROR_UNSUPPORTED,
                    "type %s (%d) is not supported", name, (int)type);
    return fail(v, TML_ERROR_MODEL, "unknown tensor type %d", (int)type);
}

static tml_status check_data(ver *v, const tml_model_tensor *t,
                             uint32_t bytes)
{
    uint32_t b, off, size;
    int both;
    const char *what;
    size_t esize = tml_model_dtype_size(t->type);
    int rc = tml_fb_vector_table(&v->fb, v->buffers, t->buffer, &b);
    if (!rc)
        rc = read_buffer(&v->fb, b, &off, &size, &both, &what);
    if (rc)
        return fb_fail(v, rc, "buffer");
    if (!off)
        return TML_OK;
    if (size != bytes)
        return fail(v, TML_ERROR_MODEL,
                    "buffer %u holds %u bytes, shape and type need %u",
                    t->buffer, size, bytes);
    /* Kernels read constants in place as their element type. */
    if ((uintptr_t)(v->fb.base + off) % esize)
        return fail(v, TML_ERROR_MODEL,
                    "buffer %u data at offset %u is not %u-byte aligned "
                    "for %s", t->buffer, off, (unsigned)esize,
                    type_name(t->type));
    return TML_OK;
}

static tml_status check_quant(ver *v, uint32_t table,
                              const tml_model_tensor *t)
{
    uint32_t nzp;
    int rc = count_zero_points(&v->fb, table, &nzp);
    if (rc)
        return fb_fail(v, rc, "quantization zero_point");
    if (!t->scales)
        return TML_OK;
    if (!charge(v, (uint64_t)t->nscales))
        return over_budget(v);
    for (int32_t c = 0; c < t->nscales; c++) {
        /* A NaN or infinite scale is never meaningful, and would poison
         * every multiplier computed from it. */
        uint32_t bits;
        memcpy(&bits, &t->scales[c], sizeof bits);
        if (((bits >> 23) & 0xffu) == 0xffu)
            return fail(v, TML_ERROR_MODEL,
                        "quantization scale %d is not finite", (int)c);
    }
    if (nzp && nzp != (uint32_t)t->nscales)
        return fail(v, TML_ERROR_MODEL,
                    "%d quantization scales but %u zero points",
                    (int)t->nscales, nzp);
    /* Kernels check zero points against their dtype (with the op in the
     * message); here only what no kernel could handle: values beyond
     * int32, and INT32_MIN, whose negation (input offset) overflows. */
    for (int32_t c = 0; t->zero_points && c < t->nscales; c++)
        if (t->zero_points[c] < -2147483647 ||
            t->zero_points[c] > 2147483647)
            return fail(v, TML_ERROR_MODEL,
                        "zero point %d is %lld, outside int32", (int)c,
                        (long long)t->zero_points[c]);
    if (t->quant_dim < 0 ||
        (t->quant_dim > 0 && t->quant_dim >= t->ndims) ||
        (t->nscales > 1 && t->quant_dim >= t->ndims))
        return fail(v, TML_ERROR_MODEL,
                    "quantized_dimension %d out of range (rank %d)",
                    (int)t->quant_dim, (int)t->ndims);
    if (t->nscales > 1 && t->nscales != t->dims[t->quant_dim])
        return fail(v, TML_ERROR_MODEL,
                    "%d quantization scales, dim %d is %d", (int)t->nscales,
                    (int)t->quant_dim, (int)t->dims[t->quant_dim]);
    return TML_OK;
}

/* Tensor fields the runtime does not use, checked for bounds. */
static int check_tensor_extras(tml_fb *fb, uint32_t t, const char **what)
{
    uint32_t n, data, quant, details;
    int rc;

    *what = "shape_signature";
    if ((rc = tml_fb_field_vector(fb, t, TML_F_TENSOR_SHAPE_SIGNATURE, 4, 4,
                                  &n, &data)))
        return rc;
    *what = "quantization";
    if ((rc = tml_fb_field_table(fb, t, TML_F_TENSOR_QUANT, &quant)) ||
        !quant)
        return rc;
    *what = "quantization min";
    if ((rc = tml_fb_field_vector(fb, quant, TML_F_QUANT_MIN, 4, 4, &n,
                                  &data)))
        return rc;
    *what = "quantization max";
    if ((rc = tml_fb_field_vector(fb, quant, TML_F_QUANT_MAX, 4, 4, &n,
                                  &data)))
        return rc;
    *what = "quantization details";
    return tml_fb_field_table(fb, quant, TML_F_QUANT_DETAILS, &details);
}

static tml_status verify_tensor(ver *v, uint32_t tensors, uint32_t i)
{
    tml_model_tensor t;
    uint32_t table, sparsity, bytes = 0;
    const char *what = "table";
    char name[41];
    tml_status st;

    memset(&t, 0, sizeof t);
    set_where(v, "%stensor %u: ", v->sg, i);
    int rc = tml_fb_vector_table(&v->fb, tensors, i, &table);
    if (!rc)
        rc = read_tensor(&v->fb, table, &t, &sparsity, &what);
    if (!rc)
        rc = check_tensor_extras(&v->fb, table, &what);
    if (rc && t.name) {
        /* The name is read first: show it when a later field failed. */
        safe_name(name, sizeof name, t.name);
        set_where(v, "%stensor %u '%s': ", v->sg, i, name);
    }
    if (rc)
        return fb_fail(v, rc, what);
    if ((st = check_text(v, t.name, "name")) != TML_OK)
        return st;
    safe_name(name, sizeof name, t.name);
    set_where(v, "%stensor %u '%s': ", v->sg, i, name);
    if (t.ndims > TML_MAX_DIMS)
        return fail(v, TML_ERROR_UNSUPPORTED, "rank %d, at most %d supported",
                    (int)t.ndims, TML_MAX_DIMS);
    for (int32_t d = 0; d < t.ndims; d++)
        if (t.dims[d] < 0)
            return fail(v, TML_ERROR_MODEL, "dim %d is %d, must be >= 0",
                        (int)d, (int)t.dims[d]);
    if ((st = check_type(v, t.type)) != TML_OK)
        return st;
    if ((st = check_size(v, &t, &bytes)) != TML_OK)
        return st;
    if (t.buffer >= (uint32_t)v->nbuffers)
        return fail(v, TML_ERROR_MODEL, "buffer %u out of range (model has %d)",
                    t.buffer, (int)v->nbuffers);
    if ((st = check_data(v, &t, bytes)) != TML_OK)
        return st;
    if ((st = check_quant(v, table, &t)) != TML_OK)
        return st;
    if (sparsity)
        return fail(v, TML_ERROR_UNSUPPORTED,
                    "sparse tensors are not supported");
    return TML_OK;
}

/* Tensor index lists: each entry in [0, ntensors), or -1 if optional. */
static tml_status check_indices(ver *v, const char *what, const int32_t *idx,
                                int32_t n, int32_t ntensors, int optional)
{
    for (int32_t k = 0; k < n; k++) {
        int32_t x = idx[k];
        if (x == -1 && optional)
            continue;
        if (x < 0 || x >= ntensors)
            return fail(v, TML_ERROR_MODEL,
                        "%s %d is tensor %d, out of range (subgraph has %d "
                        "tensors)", what, (int)k, (int)x, (int)ntensors);
    }
    return TML_OK;
}

/* Fields of an Operator the runtime does not use: checked for bounds. */
static tml_status verify_op_extras(ver *v, uint32_t op, int32_t ntensors)
{
    uint32_t n, data, t2;
    uint64_t xoff, xsize;
    int rc;

    if ((rc = tml_fb_field_vector(&v->fb, op, TML_F_OP_CUSTOM_OPTIONS, 1, 1,
                                  &n, &data)))
        return fb_fail(v, rc, "custom_options");
    if ((rc = tml_fb_field_vector(&v->fb, op,
                                  TML_F_OP_MUTATING_VARIABLE_INPUTS, 1, 1, &n,
                                  &data)))
        return fb_fail(v, rc, "mutating_variable_inputs");
    if ((rc = tml_fb_field_table(&v->fb, op, TML_F_OP_OPTIONS_2, &t2)))
        return fb_fail(v, rc, "builtin_options_2");
    if ((rc = tml_fb_field_u64(&v->fb, op,
                               TML_F_OP_LARGE_CUSTOM_OPTIONS_OFFSET, 0,
                               &xoff)) ||
        (rc = tml_fb_field_u64(&v->fb, op, TML_F_OP_LARGE_CUSTOM_OPTIONS_SIZE,
                               0, &xsize)))
        return fb_fail(v, rc, "large_custom_options");
    if (xoff > 1 && !tml_fb_in(&v->fb, xoff, xsize))
        return fail(v, TML_ERROR_MODEL,
                    "large custom options (offset %llu, %llu bytes) outside "
                    "the file", (unsigned long long)xoff,
                    (unsigned long long)xsize);
    if ((rc = tml_fb_field_vector(&v->fb, op, TML_F_OP_INTERMEDIATES, 4, 4,
                                  &n, &data)))
        return fb_fail(v, rc, "intermediates");
    if (!charge(v, n))
        return over_budget(v);
    return check_indices(v, "intermediate",
                         n ? (const int32_t *)(const void *)(v->fb.base + data)
                           : k_empty,
                         (int32_t)n, ntensors, 0);
}

static tml_status check_options_type(ver *v, uint32_t opcode_index,
                                     const tml_model_op *op)
{
    uint32_t oc, custom;
    int32_t builtin, version;
    const char *what;
    int rc = tml_fb_vector_table(&v->fb, v->opcodes, opcode_index, &oc);
    if (!rc)
        rc = read_opcode(&v->fb, oc, &builtin, &version, &custom, &what);
    if (rc)
        return fb_fail(v, rc, "operator code");
    int want = expected_options(builtin);
    if (!want || op->options_type == TML_OPT_NONE ||
        op->options_type == want)
        return TML_OK;
    return fail(v, TML_ERROR_MODEL,
                "%s has builtin options of type %d, expected %d",
                tml_op_name(builtin), (int)op->options_type, want);
}

static tml_status verify_op(ver *v, uint32_t ops, uint32_t i,
                            int32_t ntensors)
{
    tml_model_op op;
    uint32_t table, opcode_index;
    const char *what = "table";
    tml_status st;

    set_where(v, "%soperator %u: ", v->sg, i);
    int rc = tml_fb_vector_table(&v->fb, ops, i, &table);
    if (!rc)
        rc = read_op(&v->fb, table, &opcode_index, &op, &what);
    if (rc)
        return fb_fail(v, rc, what);
    if (opcode_index >= (uint32_t)v->nopcodes)
        return fail(v, TML_ERROR_MODEL,
                    "opcode index %u out of range (model has %d operator "
                    "codes)", opcode_index, (int)v->nopcodes);
    if ((st = check_options_type(v, opcode_index, &op)) != TML_OK)
        return st;
    if (!charge(v, (uint64_t)op.ninputs + (uint64_t)op.noutputs))
        return over_budget(v);
    if ((st = check_indices(v, "input", op.inputs, op.ninputs, ntensors, 1)))
        return st;
    if ((st = check_indices(v, "output", op.outputs, op.noutputs, ntensors,
                            0)))
        return st;
    return verify_op_extras(v, table, ntensors);
}

typedef struct sg_view {
    uint32_t tensors, inputs, outputs, ops;
    int32_t ntensors, ninputs, noutputs, nops;
} sg_view;

static int read_subgraph(tml_fb *fb, uint32_t s, sg_view *out,
                         const char **what)
{
    uint32_t n, name;
    int rc;

    *what = "tensors";
    if ((rc = tml_fb_field_vector(fb, s, TML_F_SUBGRAPH_TENSORS, 4, 4, &n,
                                  &out->tensors)))
        return rc;
    out->ntensors = (int32_t)n;
    *what = "inputs";
    if ((rc = tml_fb_field_vector(fb, s, TML_F_SUBGRAPH_INPUTS, 4, 4, &n,
                                  &out->inputs)))
        return rc;
    out->ninputs = (int32_t)n;
    *what = "outputs";
    if ((rc = tml_fb_field_vector(fb, s, TML_F_SUBGRAPH_OUTPUTS, 4, 4, &n,
                                  &out->outputs)))
        return rc;
    out->noutputs = (int32_t)n;
    *what = "operators";
    if ((rc = tml_fb_field_vector(fb, s, TML_F_SUBGRAPH_OPERATORS, 4, 4, &n,
                                  &out->ops)))
        return rc;
    out->nops = (int32_t)n;
    *what = "name";
    return tml_fb_field_string(fb, s, TML_F_SUBGRAPH_NAME, &name);
}

static const int32_t *ints_at(const tml_fb *fb, uint32_t off)
{
    return off ? (const int32_t *)(const void *)(fb->base + off) : k_empty;
}

static tml_status verify_subgraph(ver *v, uint32_t table, uint32_t s,
                                  sg_view *sg)
{
    const char *what;
    tml_status st;

    tml_format(v->sg, sizeof v->sg, s ? "subgraph %u: " : "", s);
    set_where(v, "subgraph %u: ", s);
    int rc = read_subgraph(&v->fb, table, sg, &what);
    if (rc)
        return fb_fail(v, rc, what);
    if (!charge(v, (uint64_t)sg->ntensors + (uint64_t)sg->nops +
                       (uint64_t)sg->ninputs + (uint64_t)sg->noutputs))
        return over_budget(v);
    if ((st = check_indices(v, "input", ints_at(&v->fb, sg->inputs),
                            sg->ninputs, sg->ntensors, 0)))
        return st;
    if ((st = check_indices(v, "output", ints_at(&v->fb, sg->outputs),
                            sg->noutputs, sg->ntensors, 0)))
        return st;
    for (int32_t i = 0; i < sg->ntensors; i++)
        if ((st = verify_tensor(v, sg->tensors, (uint32_t)i)) != TML_OK)
            return st;
    for (int32_t i = 0; i < sg->nops; i++)
        if ((st = verify_op(v, sg->ops, (uint32_t)i, sg->ntensors)) != TML_OK)
            return st;
    v->where[0] = '\0';
    return TML_OK;
}

static tml_status verify_subgraphs(ver *v, uint32_t root, tml_model *m)
{
    uint32_t n, data;
    tml_status st;
    int rc = tml_fb_field_vector(&v->fb, root, TML_F_MODEL_SUBGRAPHS, 4, 4, &n,
                                 &data);
    if (rc)
        return fb_fail(v, rc, "subgraphs");
    if (n == 0)
        return fail(v, TML_ERROR_MODEL, "model has no subgraphs");
    if (!charge(v, n))
        return over_budget(v);
    for (uint32_t s = 0; s < n; s++) {
        uint32_t table;
        sg_view sg;
        set_where(v, "subgraph %u: ", s);
        rc = tml_fb_vector_table(&v->fb, data, s, &table);
        if (rc)
            return fb_fail(v, rc, "table");
        if ((st = verify_subgraph(v, table, s, &sg)) != TML_OK)
            return st;
        if (s == 0) {
            m->subgraph = table;
            m->tensors = sg.tensors;
            m->ntensors = sg.ntensors;
            m->inputs = sg.inputs;
            m->ninputs = sg.ninputs;
            m->outputs = sg.outputs;
            m->noutputs = sg.noutputs;
            m->operators = sg.ops;
            m->nops = sg.nops;
        }
    }
    return TML_OK;
}

/* A vector of TensorMap tables {name, tensor_index}. */
static int check_tensor_maps(ver *v, uint32_t sig, int field)
{
    uint32_t n, data, t, str;
    int rc = tml_fb_field_vector(&v->fb, sig, field, 4, 4, &n, &data);
    if (rc)
        return rc;
    if (!charge(v, n)) {
        v->fb.where = sig;   /* aliased vectors: report as out of bounds */
        return TML_FB_BOUNDS;
    }
    for (uint32_t i = 0; i < n; i++)
        if ((rc = tml_fb_vector_table(&v->fb, data, i, &t)) ||
            (rc = tml_fb_field_string(&v->fb, t, TML_F_TENSORMAP_NAME, &str)))
            return rc;
    return TML_FB_OK;
}

static int verify_signature_def(ver *v, uint32_t sig, const char **what)
{
    uint32_t str;
    int rc;
    *what = "inputs";
    if ((rc = check_tensor_maps(v, sig, TML_F_SIGNATURE_INPUTS)))
        return rc;
    *what = "outputs";
    if ((rc = check_tensor_maps(v, sig, TML_F_SIGNATURE_OUTPUTS)))
        return rc;
    *what = "signature_key";
    return tml_fb_field_string(&v->fb, sig, TML_F_SIGNATURE_KEY, &str);
}

/* external_buffer_groups [{name}] and external_buffers [{..., packing}]. */
static tml_status verify_external_buffers(ver *v, uint32_t root)
{
    static const int fields[2] = { TML_F_MODEL_EXTERNAL_BUFFER_GROUPS,
                                   TML_F_MODEL_EXTERNAL_BUFFERS };
    static const int strings[2] = { TML_F_EXTERNAL_GROUP_NAME,
                                    TML_F_EXTERNAL_BUFFER_PACKING };
    static const char *const names[2] = { "external_buffer_groups",
                                          "external_buffers" };
    for (int k = 0; k < 2; k++) {
        uint32_t n, data, t, str;
        int rc = tml_fb_field_vector(&v->fb, root, fields[k], 4, 4, &n,
                                     &data);
        if (rc)
            return fb_fail(v, rc, names[k]);
        if (!charge(v, n))
            return over_budget(v);
        for (uint32_t i = 0; i < n; i++)
            if ((rc = tml_fb_vector_table(&v->fb, data, i, &t)) ||
                (rc = tml_fb_field_string(&v->fb, t, strings[k], &str)))
                return fb_fail(v, rc, names[k]);
    }
    return TML_OK;
}

/* Model fields the runtime does not read: description, metadata and
 * signature tables, checked for bounds. */
static tml_status verify_model_extras(ver *v, uint32_t root)
{
    uint32_t n, data, str;
    int rc;

    if ((rc = tml_fb_field_string(&v->fb, root, TML_F_MODEL_DESCRIPTION,
                                  &str)))
        return fb_fail(v, rc, "description");
    if ((rc = tml_fb_field_vector(&v->fb, root, TML_F_MODEL_METADATA_BUFFER,
                                  4, 4, &n, &data)))
        return fb_fail(v, rc, "metadata_buffer");
    if (!charge(v, n))
        return over_budget(v);
    for (uint32_t i = 0; i < n; i++) {
        int32_t b = (int32_t)tml_fb_u32(v->fb.base + data + 4 * i);
        if (b < 0 || b >= v->nbuffers)
            return fail(v, TML_ERROR_MODEL,
                        "metadata_buffer %u: buffer %d out of range (model "
                        "has %d)", i, (int)b, (int)v->nbuffers);
    }
    if ((rc = tml_fb_field_vector(&v->fb, root, TML_F_MODEL_METADATA, 4, 4,
                                  &n, &data)))
        return fb_fail(v, rc, "metadata");
    if (!charge(v, n))
        return over_budget(v);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t t, b;
        set_where(v, "metadata %u: ", i);
        if ((rc = tml_fb_vector_table(&v->fb, data, i, &t)) ||
            (rc = tml_fb_field_string(&v->fb, t, TML_F_METADATA_NAME, &str)) ||
            (rc = tml_fb_field_u32(&v->fb, t, TML_F_METADATA_BUFFER, 0, &b)))
            return fb_fail(v, rc, "table");
        if (b >= (uint32_t)v->nbuffers)
            return fail(v, TML_ERROR_MODEL,
                        "buffer %u out of range (model has %d)", b,
                        (int)v->nbuffers);
    }
    v->where[0] = '\0';
    if ((rc = tml_fb_field_vector(&v->fb, root, TML_F_MODEL_SIGNATURE_DEFS, 4,
                                  4, &n, &data)))
        return fb_fail(v, rc, "signature_defs");
    if (!charge(v, n))
        return over_budget(v);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t t;
        const char *what = "table";
        set_where(v, "signature_def %u: ", i);
        if ((rc = tml_fb_vector_table(&v->fb, data, i, &t)) ||
            (rc = verify_signature_def(v, t, &what)))
            return fb_fail(v, rc, what);
    }
    v->where[0] = '\0';
    return verify_external_buffers(v, root);
}

tml_status tml_model_load(tml_model *m, const void *data, size_t size,
                          char *err, size_t err_size)
{
    ver v;
    uint32_t root = 0, version;
    tml_status st;
    int rc;

    if (err && err_size)
        err[0] = '\0';
    memset(&v, 0, sizeof v);
    v.err = err;
    v.err_size = err_size;
    if (!m || !data) {
        fail(&v, TML_ERROR_ARGUMENT, "model or model data is NULL");
        return TML_ERROR_ARGUMENT;
    }
    memset(m, 0, sizeof *m);
    v.fb.base = (const uint8_t *)data;
    v.fb.size = size > TML_FB_MAX_SIZE ? 0 : (uint32_t)size;
    v.budget = size;
    if ((st = check_header(&v, data, size, &root)) != TML_OK)
        return st;
    if ((rc = tml_fb_field_u32(&v.fb, root, TML_F_MODEL_VERSION, 0,
                               &version)))
        return fb_fail(&v, rc, "version");
    if (version != 3)
        return fail(&v, TML_ERROR_MODEL, "schema version %u, expected 3",
                    version);
    if ((st = verify_opcodes(&v, root)) != TML_OK ||
        (st = verify_buffers(&v, root)) != TML_OK ||
        (st = verify_subgraphs(&v, root, m)) != TML_OK ||
        (st = verify_model_extras(&v, root)) != TML_OK) {
        memset(m, 0, sizeof *m);
        return st;
    }
    m->base = v.fb.base;
    m->size = size;
    m->opcodes = v.opcodes;
    m->nopcodes = v.nopcodes;
    m->buffers = v.buffers;
    m->nbuffers = v.nbuffers;
    m->version = version;
    return TML_OK;
}

/* ------------------------------------------------------------------ */
/* Accessors: the model is verified, so decoding cannot fail here.     */
/* ------------------------------------------------------------------ */

void tml_model_get_tensor(const tml_model *m, int32_t i, tml_model_tensor *out)
{
    tml_fb fb = fb_of(m);
    uint32_t table, sparsity, b, off, size;
    int both;
    const char *what;

    memset(out, 0, sizeof *out);
    out->dims = k_empty;
    out->name = "";
    if (i < 0 || i >= m->ntensors ||
        tml_fb_vector_table(&fb, m->tensors, (uint32_t)i, &table) ||
        read_tensor(&fb, table, out, &sparsity, &what))
        return;
    out->bytes = (uint32_t)tml_model_dtype_size(out->type);
    for (int32_t d = 0; d < out->ndims; d++)
        out->bytes *= (uint32_t)out->dims[d];
    if (tml_fb_vector_table(&fb, m->buffers, out->buffer, &b) ||
        read_buffer(&fb, b, &off, &size, &both, &what) || !off)
        return;
    out->data = fb.base + off;
    out->data_size = size;
}

void tml_model_get_op(const tml_model *m, int32_t i, tml_model_op *out)
{
    tml_fb fb = fb_of(m);
    uint32_t table, opcode_index, oc, custom;
    const char *what;

    memset(out, 0, sizeof *out);
    out->inputs = k_empty;
    out->outputs = k_empty;
    if (i < 0 || i >= m->nops ||
        tml_fb_vector_table(&fb, m->operators, (uint32_t)i, &table) ||
        read_op(&fb, table, &opcode_index, out, &what) ||
        tml_fb_vector_table(&fb, m->opcodes, opcode_index, &oc) ||
        read_opcode(&fb, oc, &out->builtin, &out->version, &custom, &what))
        return;
    out->custom_name = out->builtin == BUILTIN_CUSTOM
        ? (const char *)(fb.base + custom) : NULL;
}

const int32_t *tml_model_inputs(const tml_model *m)
{
    return m->ninputs ? (const int32_t *)(const void *)(m->base + m->inputs)
                      : k_empty;
}

const int32_t *tml_model_outputs(const tml_model *m)
{
    return m->noutputs ? (const int32_t *)(const void *)(m->base + m->outputs)
                       : k_empty;
}

const char *tml_model_description(const tml_model *m)
{
    tml_fb fb = fb_of(m);
    uint32_t str;
    if (!m->base || tml_fb_field_string(&fb, tml_fb_u32(m->base),
                                        TML_F_MODEL_DESCRIPTION, &str))
        return "";
    return str_at(&fb, str);
}

const uint8_t *tml_model_table_field(const tml_model *m, uint32_t table,
                                     int field, size_t size)
{
    tml_fb fb = fb_of(m);
    uint32_t pos;
    if (!table || size > 0xffff ||
        tml_fb_field(&fb, table, field, (uint32_t)size, &pos) || !pos)
        return NULL;
    return fb.base + pos;
}

int32_t tml_model_table_int_vector(const tml_model *m, uint32_t table,
                                   int field, const int32_t **out)
{
    tml_fb fb = fb_of(m);
    uint32_t n, data;
    *out = NULL;
    if (!table)
        return 0;
    if (tml_fb_field_vector(&fb, table, field, 4, 4, &n, &data))
        return -1;
    if (n > 0x7fffffffu)
        return -1;
    *out = n ? (const int32_t *)(const void *)(fb.base + data) : NULL;
    return (int32_t)n;
}
