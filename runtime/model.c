/*
 * The TFLite flatbuffer verifier and the verified model view (model.h).
 *
 * The verifier is table-driven: k_fields describes every field of every
 * schema table the file may hold (Model, OperatorCode, Buffer, SubGraph,
 * Tensor, QuantizationParameters, Operator and the metadata/signature
 * tables), and one walker checks each field by its kind: scalars in their
 * table's inline data, offsets, vectors (length and alignment), strings
 * (NUL), sub-tables (recursively), index fields and index vectors against
 * the count of what they index.  After a table's fields, a per-table check
 * (check_table) looks at what the schema cannot say: types, shapes, data
 * sizes, quantization.  It reads the table with the same unchecked
 * decoders (decode_*) the accessors use, so what was verified is exactly
 * what is read later.
 *
 * Messages are one line: the path from the root ("subgraphs[0]: tensors[12]
 * 'conv1/out': buffer: "), built from the walker's frames and the field
 * names, then what is wrong with expected vs got.
 *
 * Work is bounded by the file size: vector counts are bounded by the bytes
 * left in the file, and a work budget proportional to the size stops files
 * that alias one big vector or table from many places. *
 * With -DTML_TRUSTED_MODEL (exported device projects, see model.h) the
 * schema tables and the whole verifier are compiled out; tml_model_load
 * then checks only size, the "TFL3" identifier, alignment, the root
 * table, the schema version and that a subgraph exists, and the same
 * decoders and accessors read the rest.
 */
#include "model.h"

#include <stdarg.h>
#include <string.h>

#include "fb.h"
#include "format.h"
#include "schema.h"

#define BUILTIN_CUSTOM 32
#define NO_INDEX 0xffffffffu
#define MAX_BYTES 0x7fffffffu

/* A valid pointer for empty shapes and index lists. */
static const int32_t k_empty[1] = { 0 };

size_t tml_model_dtype_size(int32_t type)
{
    /* Element bytes by TensorType, 0 = not a type tinyml computes with
     * (STRING, COMPLEX64, FLOAT64, ...). */
    static const uint8_t sizes[10] = { 4, 2, 4, 1, 8, 0, 1, 2, 0, 1 };
    return type >= 0 && type < 10 ? sizes[type] : 0;
}

#ifndef TML_TRUSTED_MODEL
/* ------------------------------------------------------------------ */
/* The schema, as data                                                 */
/* ------------------------------------------------------------------ */

/* Tables, in the order of k_first. */
enum { S_MODEL, S_OPCODE, S_BUFFER, S_SUBGRAPH, S_TENSOR, S_QUANT, S_OP,
       S_METADATA, S_SIGNATURE, S_TENSORMAP, S_EXT_GROUP, S_EXT_BUFFER,
       S_COUNT };

/* Field kinds.  Scalars first, then offsets to vectors, then to tables. */
enum {
    K_U8, K_U32, K_U64,
    K_INDEX,        /* uint32 index into the vector of tables `sub` */
    K_STRING,
    K_NAME,         /* string without control bytes, shown in messages */
    K_BYTES,
    K_INTS,         /* int32 or float32 elements */
    K_INT64S,
    K_SCALES,       /* float32, walked by check_tensor: charged */
    K_INDICES,      /* int32 indices into the vector of tables `sub` */
    K_OPT_INDICES,  /* the same, -1 allowed (optional operator input) */
    K_TABLES,       /* vector of tables of schema `sub` */
    K_TABLE,        /* table of schema `sub` */
    K_OPAQUE        /* table checked for structure only (options) */
};

/* A field: its id in the table (< 16), kind and sub-table schema, packed
 * in 12 bits. */
#define FIELD(id, kind, sub) (uint16_t)((id) | (kind) << 4 | (sub) << 8)
#define FIELD_ID(f) (k_fields[f] & 15)
#define FIELD_KIND(f) (k_fields[f] >> 4 & 15)
#define FIELD_SUB(f) (k_fields[f] >> 8)

/* Indices into k_fields (and k_names) that the checks refer to. */
enum {
    F_VERSION = 0, F_OPCODES = 1, F_BUFFERS = 2, F_SUBGRAPHS = 3,
    F_DESCRIPTION = 4,
    F_DEPRECATED_CODE = 10, F_CUSTOM_CODE = 11, F_OPCODE_VERSION = 12,
    F_BUILTIN_CODE = 13,
    F_DATA = 14, F_OFFSET = 15, F_SIZE = 16,
    F_TENSORS = 17, F_SG_INPUTS = 18, F_SG_OUTPUTS = 19, F_OPERATORS = 20,
    F_NAME = 22, F_SHAPE = 23, F_TYPE = 24, F_BUFFER = 25, F_QUANT = 26,
    F_IS_VARIABLE = 27, F_SPARSITY = 28,
    F_SCALE = 32, F_ZERO_POINT = 33, F_QDIM = 35,
    F_OPCODE_INDEX = 36, F_INPUTS = 37, F_OUTPUTS = 38, F_OPTIONS_TYPE = 39,
    F_OPTIONS = 40, F_LARGE_OFFSET = 44,
    F_ROOT = 55
};

/* Every field of every table the file may hold, table by table.  The
 * Model's buffers and operator codes come before its subgraphs so that
 * tensors and operators can be checked against them. */
static const uint16_t k_fields[] = {
    /* Model */
    FIELD(TML_F_MODEL_VERSION, K_U32, 0),
    FIELD(TML_F_MODEL_OPCODES, K_TABLES, S_OPCODE),
    FIELD(TML_F_MODEL_BUFFERS, K_TABLES, S_BUFFER),
    FIELD(TML_F_MODEL_SUBGRAPHS, K_TABLES, S_SUBGRAPH),
    FIELD(TML_F_MODEL_DESCRIPTION, K_STRING, 0),
    FIELD(TML_F_MODEL_METADATA_BUFFER, K_INDICES, S_BUFFER),
    FIELD(TML_F_MODEL_METADATA, K_TABLES, S_METADATA),
    FIELD(TML_F_MODEL_SIGNATURE_DEFS, K_TABLES, S_SIGNATURE),
    FIELD(TML_F_MODEL_EXTERNAL_BUFFER_GROUPS, K_TABLES, S_EXT_GROUP),
    FIELD(TML_F_MODEL_EXTERNAL_BUFFERS, K_TABLES, S_EXT_BUFFER),
    /* OperatorCode */
    FIELD(TML_F_OPCODE_DEPRECATED_BUILTIN, K_U8, 0),
    FIELD(TML_F_OPCODE_CUSTOM, K_NAME, 0),
    FIELD(TML_F_OPCODE_VERSION, K_U32, 0),
    FIELD(TML_F_OPCODE_BUILTIN, K_U32, 0),
    /* Buffer */
    FIELD(TML_F_BUFFER_DATA, K_BYTES, 0),
    FIELD(TML_F_BUFFER_OFFSET, K_U64, 0),
    FIELD(TML_F_BUFFER_SIZE, K_U64, 0),
    /* SubGraph: tensors first, the index vectors need their count */
    FIELD(TML_F_SUBGRAPH_TENSORS, K_TABLES, S_TENSOR),
    FIELD(TML_F_SUBGRAPH_INPUTS, K_INDICES, S_TENSOR),
    FIELD(TML_F_SUBGRAPH_OUTPUTS, K_INDICES, S_TENSOR),
    FIELD(TML_F_SUBGRAPH_OPERATORS, K_TABLES, S_OP),
    FIELD(TML_F_SUBGRAPH_NAME, K_STRING, 0),
    /* Tensor: the name first, so later messages can show it */
    FIELD(TML_F_TENSOR_NAME, K_NAME, 0),
    FIELD(TML_F_TENSOR_SHAPE, K_INTS, 0),
    FIELD(TML_F_TENSOR_TYPE, K_U8, 0),
    FIELD(TML_F_TENSOR_BUFFER, K_INDEX, S_BUFFER),
    FIELD(TML_F_TENSOR_QUANT, K_TABLE, S_QUANT),
    FIELD(TML_F_TENSOR_IS_VARIABLE, K_U8, 0),
    FIELD(TML_F_TENSOR_SPARSITY, K_OPAQUE, 0),
    FIELD(TML_F_TENSOR_SHAPE_SIGNATURE, K_INTS, 0),
    /* QuantizationParameters */
    FIELD(TML_F_QUANT_MIN, K_INTS, 0),
    FIELD(TML_F_QUANT_MAX, K_INTS, 0),
    FIELD(TML_F_QUANT_SCALE, K_SCALES, 0),
    FIELD(TML_F_QUANT_ZERO_POINT, K_INT64S, 0),
    FIELD(TML_F_QUANT_DETAILS, K_OPAQUE, 0),
    FIELD(TML_F_QUANT_DIM, K_U32, 0),
    /* Operator */
    FIELD(TML_F_OP_OPCODE_INDEX, K_INDEX, S_OPCODE),
    FIELD(TML_F_OP_INPUTS, K_OPT_INDICES, S_TENSOR),
    FIELD(TML_F_OP_OUTPUTS, K_INDICES, S_TENSOR),
    FIELD(TML_F_OP_OPTIONS_TYPE, K_U8, 0),
    FIELD(TML_F_OP_OPTIONS, K_OPAQUE, 0),
    FIELD(TML_F_OP_CUSTOM_OPTIONS, K_BYTES, 0),
    FIELD(TML_F_OP_MUTATING_VARIABLE_INPUTS, K_BYTES, 0),
    FIELD(TML_F_OP_INTERMEDIATES, K_INDICES, S_TENSOR),
    FIELD(TML_F_OP_LARGE_CUSTOM_OPTIONS_OFFSET, K_U64, 0),
    FIELD(TML_F_OP_LARGE_CUSTOM_OPTIONS_SIZE, K_U64, 0),
    FIELD(TML_F_OP_OPTIONS_2, K_OPAQUE, 0),
    /* Metadata */
    FIELD(TML_F_METADATA_NAME, K_STRING, 0),
    FIELD(TML_F_METADATA_BUFFER, K_INDEX, S_BUFFER),
    /* SignatureDef */
    FIELD(TML_F_SIGNATURE_INPUTS, K_TABLES, S_TENSORMAP),
    FIELD(TML_F_SIGNATURE_OUTPUTS, K_TABLES, S_TENSORMAP),
    FIELD(TML_F_SIGNATURE_KEY, K_STRING, 0),
    /* TensorMap */
    FIELD(TML_F_TENSORMAP_NAME, K_STRING, 0),
    /* ExternalBufferGroup */
    FIELD(TML_F_EXTERNAL_GROUP_NAME, K_STRING, 0),
    /* ExternalBuffer */
    FIELD(TML_F_EXTERNAL_BUFFER_PACKING, K_STRING, 0),
};

/* First field of each table in k_fields; the last entry ends the list. */
static const uint8_t k_first[S_COUNT + 1] = {
    0, 10, 14, 17, 22, 30, 36, 47, 49, 52, 53, 54, 55
};

/* schema.fbs names of k_fields, in the same order, then F_ROOT.
 * Deployment builds (-DTML_NO_OP_NAMES, where only the ops the build runs
 * have names) keep only the names of the fields the runtime reads: the
 * others, reached only in files with broken metadata, signatures or
 * options, print as "field <id>" (`tinyml inspect` on the host names
 * them). */
#ifdef TML_NO_OP_NAMES
#define UNREAD(name) ""
#else
#define UNREAD(name) name
#endif
static const char k_names[] =
    "version\0operator_codes\0buffers\0subgraphs\0"
    UNREAD("description") "\0" UNREAD("metadata_buffer") "\0"
    UNREAD("metadata") "\0" UNREAD("signature_defs") "\0"
    UNREAD("external_buffer_groups") "\0" UNREAD("external_buffers") "\0"
    "deprecated_builtin_code\0custom_code\0version\0builtin_code\0"
    "data\0offset\0size\0"
    "tensors\0inputs\0outputs\0operators\0" UNREAD("name") "\0"
    "name\0shape\0type\0buffer\0quantization\0is_variable\0sparsity\0"
    UNREAD("shape_signature") "\0"
    UNREAD("min") "\0" UNREAD("max") "\0"
    "scale\0zero_point\0" UNREAD("details") "\0quantized_dimension\0"
    "opcode_index\0inputs\0outputs\0builtin_options_type\0builtin_options\0"
    UNREAD("custom_options") "\0" UNREAD("mutating_variable_inputs") "\0"
    UNREAD("intermediates") "\0"
    "large_custom_options_offset\0large_custom_options_size\0"
    UNREAD("builtin_options_2") "\0"
    UNREAD("name") "\0" UNREAD("buffer") "\0"
    UNREAD("inputs") "\0" UNREAD("outputs") "\0"
    UNREAD("signature_key") "\0"
    UNREAD("name") "\0" UNREAD("name") "\0" UNREAD("packing") "\0"
    "root table";
#endif /* !TML_TRUSTED_MODEL */

/* ------------------------------------------------------------------ */
/* Unchecked decoding, shared by the checks and the accessors          */
/* ------------------------------------------------------------------ */

/* Target of an offset field, 0 when absent. */
static uint32_t fref(const uint8_t *b, uint32_t t, int id)
{
    uint32_t p = tml_fb_pos(b, t, id);
    return p ? p + tml_fb_u32(b + p) : 0;
}

/* Vector field: element count, *data the first element (0 if absent). */
static uint32_t fvec(const uint8_t *b, uint32_t t, int id, uint32_t *data)
{
    uint32_t r = fref(b, t, id);
    *data = r ? r + 4 : 0;
    return r ? tml_fb_u32(b + r) : 0;
}

static const void *vec_ptr(const uint8_t *b, uint32_t n, uint32_t data)
{
    return n ? (const void *)(b + data) : (const void *)k_empty;
}

/* Scalar field of 1 (signed byte) or 4 bytes, `def` when absent. */
static int32_t fint(const uint8_t *b, uint32_t t, int id, int bytes,
                    int32_t def)
{
    uint32_t p = tml_fb_pos(b, t, id);
    if (!p)
        return def;
    return bytes == 1 ? (int8_t)b[p] : (int32_t)tml_fb_u32(b + p);
}

static uint64_t fu64(const uint8_t *b, uint32_t t, int id)
{
    uint32_t p = tml_fb_pos(b, t, id);
    return p ? tml_fb_u64(b + p) : 0;
}

/* Table i of the vector of tables whose first element is at `data`. */
static uint32_t elem(const uint8_t *b, uint32_t data, uint32_t i)
{
    uint32_t p = data + 4 * i;
    return p + tml_fb_u32(b + p);
}

/* Everything of a Tensor but its buffer's data; *quant is its
 * QuantizationParameters table (0 when absent). */
static void decode_tensor(const uint8_t *b, uint32_t t, tml_model_tensor *o,
                          uint32_t *quant)
{
    uint32_t n, data, q, name = fref(b, t, TML_F_TENSOR_NAME);

    memset(o, 0, sizeof *o);
    o->name = name ? (const char *)b + name + 4 : "";
    o->ndims = (int32_t)fvec(b, t, TML_F_TENSOR_SHAPE, &data);
    o->dims = vec_ptr(b, (uint32_t)o->ndims, data);
    o->type = fint(b, t, TML_F_TENSOR_TYPE, 1, 0);
    o->buffer = (uint32_t)fint(b, t, TML_F_TENSOR_BUFFER, 4, 0);
    o->is_variable = fint(b, t, TML_F_TENSOR_IS_VARIABLE, 1, 0) != 0;
    *quant = q = fref(b, t, TML_F_TENSOR_QUANT);
    if (!q)
        return;
    n = fvec(b, q, TML_F_QUANT_SCALE, &data);
    o->nscales = (int32_t)n;
    o->scales = n ? (const float *)(const void *)(b + data) : NULL;
    /* Zero points without scales mean nothing: "not quantized". */
    n = fvec(b, q, TML_F_QUANT_ZERO_POINT, &data);
    o->zero_points = n && o->scales
        ? (const int64_t *)(const void *)(b + data) : NULL;
    o->quant_dim = fint(b, q, TML_F_QUANT_DIM, 4, 0);
}

/* Elements times element size, or MAX_BYTES + 1 as soon as the product
 * of the dims so far passes MAX_BYTES: a shape whose dims overflow before
 * a zero dim is refused too (kernels multiply dims). */
static uint32_t tensor_bytes(const tml_model_tensor *t)
{
    uint64_t bytes = tml_model_dtype_size(t->type);
    for (int32_t d = 0; d < t->ndims; d++) {
        bytes *= (uint32_t)t->dims[d];
        if (bytes > MAX_BYTES)
            return MAX_BYTES + 1u;
    }
    return (uint32_t)bytes;
}

/* Constant data of a Buffer table: inline `data`, or the large-model form
 * (offset from the file start, used when offset > 1, plus size).  Returns
 * the data's file offset, 0 when the buffer is empty. */
static uint32_t decode_buffer(const uint8_t *b, uint32_t t, uint32_t *size)
{
    uint32_t data;
    uint64_t xoff = fu64(b, t, TML_F_BUFFER_OFFSET);
    *size = fvec(b, t, TML_F_BUFFER_DATA, &data);
    if (xoff > 1) {
        *size = (uint32_t)fu64(b, t, TML_F_BUFFER_SIZE);
        data = (uint32_t)xoff;
    }
    return *size ? data : 0;
}

/* Builtin code, version and custom name of an OperatorCode table. */
static void decode_opcode(const uint8_t *b, uint32_t oc, tml_model_op *o)
{
    int32_t dep = fint(b, oc, TML_F_OPCODE_DEPRECATED_BUILTIN, 1, 0);
    int32_t code = fint(b, oc, TML_F_OPCODE_BUILTIN, 4, 0);
    uint32_t custom = fref(b, oc, TML_F_OPCODE_CUSTOM);
    /* TFLite's rule (schema_utils GetBuiltinCode): codes < 127 may live
     * in either field, so the larger of the two is the real one. */
    o->builtin = dep > code ? dep : code;
    o->version = fint(b, oc, TML_F_OPCODE_VERSION, 4, 1);
    o->custom_name = o->builtin == BUILTIN_CUSTOM && custom
        ? (const char *)b + custom + 4 : NULL;
}

/* An Operator table and its OperatorCode (from the vector at opcodes). */
static void decode_op(const uint8_t *b, uint32_t opcodes, uint32_t t,
                      tml_model_op *o)
{
    uint32_t n, data;

    memset(o, 0, sizeof *o);
    n = fvec(b, t, TML_F_OP_INPUTS, &data);
    o->ninputs = (int32_t)n;
    o->inputs = vec_ptr(b, n, data);
    n = fvec(b, t, TML_F_OP_OUTPUTS, &data);
    o->noutputs = (int32_t)n;
    o->outputs = vec_ptr(b, n, data);
    o->options_type = (uint8_t)fint(b, t, TML_F_OP_OPTIONS_TYPE, 1, 0);
    /* A union whose type is NONE has no value, whatever the table says. */
    o->options = o->options_type ? fref(b, t, TML_F_OP_OPTIONS) : 0;
    decode_opcode(b, elem(b, opcodes, (uint32_t)fint(b, t,
                         TML_F_OP_OPCODE_INDEX, 4, 0)), o);
}

/* The model view of a file whose root table is at `root` and whose first
 * subgraph exists (both load paths establish that).  Only subgraph 0 is
 * read. */
static void fill_model(tml_model *m, const uint8_t *b, size_t size,
                       uint32_t root)
{
    uint32_t sgs, sg;

    fvec(b, root, TML_F_MODEL_SUBGRAPHS, &sgs);
    sg = elem(b, sgs, 0);
    m->base = b;
    m->size = size;
    m->nopcodes = (int32_t)fvec(b, root, TML_F_MODEL_OPCODES, &m->opcodes);
    m->nbuffers = (int32_t)fvec(b, root, TML_F_MODEL_BUFFERS, &m->buffers);
    m->subgraph = sg;
    m->ntensors = (int32_t)fvec(b, sg, TML_F_SUBGRAPH_TENSORS, &m->tensors);
    m->ninputs = (int32_t)fvec(b, sg, TML_F_SUBGRAPH_INPUTS, &m->inputs);
    m->noutputs = (int32_t)fvec(b, sg, TML_F_SUBGRAPH_OUTPUTS, &m->outputs);
    m->nops = (int32_t)fvec(b, sg, TML_F_SUBGRAPH_OPERATORS, &m->operators);
    m->version = 3;
}

#ifndef TML_TRUSTED_MODEL
/* The BuiltinOptions type each op tinyml runs expects (schema.fbs), so a
 * kernel never reads its fields from another op's options table.  0 for
 * ops without options or that tinyml does not run. */
static int expected_options(int32_t builtin)
{
    static const uint8_t map[][2] = {
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
        if (map[k][0] == builtin)
            return map[k][1];
    return 0;
}

/* ------------------------------------------------------------------ */
/* The verifier                                                        */
/* ------------------------------------------------------------------ */

/* One table on the path from the root: the field that led to it, its
 * index in that vector (NO_INDEX for a single table), its name. */
typedef struct frame {
    int field;
    uint32_t index;
    uint32_t name;          /* file offset of a checked name, 0 = none */
} frame;

typedef struct ver {
    tml_fb fb;
    char *err;
    size_t err_size;
    uint64_t budget;        /* work units left (see charge) */
    int depth;
    int field;              /* field being checked, -1 = the table itself */
    uint32_t index;         /* element of that field, NO_INDEX = all */
    frame path[4];
    /* The last vector of tables of each schema: first element, count, and
     * the field that holds it (named in index messages). */
    uint32_t vec[S_COUNT], count[S_COUNT];
    uint8_t vec_field[S_COUNT];
} ver;

static const char k_unsupported[] = "not supported";
static const char k_holds[] = "buffer %u holds %u bytes, expected %u";

/* An index for at() that names a vector's element count. */
#define COUNT 0xfffffffeu

/* How bad() words the expected value: "is 7, expected at most 6". */
enum { R_EQ, R_MIN, R_RANGE, R_MAX };
static const char k_rel[] = "\0>= \0an index below \0at most ";

/* Appends to the message; keeps n < cap so later appends stay inside. */
static size_t put(ver *v, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    n += tml_vformat(v->err + n, v->err_size - n, fmt, ap);
    va_end(ap);
    return n < v->err_size ? n : v->err_size - 1;
}

/* Prefix "field[index] 'name': " of one step of the path. */
static size_t put_step(ver *v, size_t n, int field, uint32_t index,
                       uint32_t name)
{
    char safe[41];
    size_t k = 0;
    if (field < 0)
        return n;
    const char *fname = tml_fb_nth(k_names, (unsigned)field);
    n = *fname ? put(v, n, "%s", fname)
               : put(v, n, "field %u", (unsigned)FIELD_ID(field));
    if (index == COUNT)
        n = put(v, n, " count");
    else if (index != NO_INDEX)
        n = put(v, n, "[%u]", index);
    if (name) {
        /* At most 40 bytes; names hold no control bytes (check_name),
         * non-ASCII bytes print as '?'. */
        const uint8_t *s = v->fb.base + name;
        for (; s[k] && k + 1 < sizeof safe; k++)
            safe[k] = s[k] < 0x7f ? (char)s[k] : '?';
        safe[k] = '\0';
        n = put(v, n, " '%s'", safe);
    }
    return put(v, n, ": ");
}

static tml_status fail(ver *v, tml_status st, const char *fmt, ...)
{
    va_list ap;
    size_t n = 0;

    if (!v->err_size)
        return st;
    for (int k = 0; k < v->depth; k++)
        n = put_step(v, n, v->path[k].field, v->path[k].index,
                     v->path[k].name);
    n = put_step(v, n, v->field, v->index, 0);
    va_start(ap, fmt);
    tml_vformat(v->err + n, v->err_size - n, fmt, ap);
    va_end(ap);
    return st;
}

static tml_status fb_fail(ver *v, int rc)
{
    /* Alignment is checked on real addresses: a file that is fine at a
     * 16-aligned address can fail at a 4-aligned one. */
    return fail(v, TML_ERROR_MODEL, "%s at offset %u (model is %u bytes%s)",
                tml_fb_error_text(rc), v->fb.where, v->fb.size,
                rc == TML_FB_ALIGN && (uintptr_t)v->fb.base % 16
                    ? ", not 16-byte aligned in memory" : "");
}

/* Points messages at a field (and an element of it). */
static ver *at(ver *v, int field, uint32_t index)
{
    v->field = field;
    v->index = index;
    return v;
}

/* Field `field` (element `index`, or COUNT) is `got`, expected `want`
 * (rel: exactly, at least, 0 <= got < want, at most).  "At most" is a limit of
 * tinyml (TML_MAX_DIMS), not of the format: unsupported. */
static tml_status bad(ver *v, int field, uint32_t index, int rel,
                      int32_t got, int32_t want)
{
    return fail(at(v, field, index),
                rel == R_MAX ? TML_ERROR_UNSUPPORTED : TML_ERROR_MODEL,
                "is %d, expected %s%d", (int)got,
                tml_fb_nth(k_rel, (unsigned)rel), (int)want);
}

/* Every element the verifier walks costs one unit; a well-formed file
 * spends at most one unit per 4 bytes, so size units leave 4x slack while
 * a file aliasing one vector from many tables is stopped early. */
static tml_status charge(ver *v, uint64_t units)
{
    if (units <= v->budget) {
        v->budget -= units;
        return TML_OK;
    }
    return fail(v, TML_ERROR_MODEL,
                "references more elements than a %u-byte file can hold "
                "(aliased vectors)", v->fb.size);
}

/* Index x into the vector of tables of schema s. */
static tml_status check_index(ver *v, int s, int32_t x, int optional)
{
    if ((uint32_t)x < v->count[s] || (x == -1 && optional))
        return TML_OK;
    return bad(v, v->field, v->index, R_RANGE, x, (int32_t)v->count[s]);
}

/* Names end up in every later message (kernels name their tensors), so a
 * control byte such as a newline would break the one-line rule anywhere
 * downstream: refuse them here, once.  UTF-8 is fine. */
static tml_status check_name(ver *v, uint32_t str)
{
    const uint8_t *s = v->fb.base + str;
    uint32_t n = 0;
    for (; s[n]; n++)
        if (s[n] < 0x20 || s[n] == 0x7f)
            return fail(at(v, v->field, n), TML_ERROR_MODEL,
                        "is control byte 0x%x", (unsigned)s[n]);
    v->path[v->depth - 1].name = str;
    return charge(v, n / 4);
}

/* A (file offset, size) pair: field f and f + 1. */
static tml_status check_span(ver *v, uint32_t t, int f)
{
    uint64_t off = fu64(v->fb.base, t, FIELD_ID(f));
    uint64_t size = fu64(v->fb.base, t, FIELD_ID(f + 1));
    if (off < 2 || tml_fb_in(&v->fb, off, size))
        return TML_OK;
    v->fb.where = off > 0xffffffffu ? 0xffffffffu : (uint32_t)off;
    return fb_fail(at(v, f, NO_INDEX), TML_FB_BOUNDS);
}

static tml_status check_opcode(ver *v, uint32_t t)
{
    tml_model_op op;
    decode_opcode(v->fb.base, t, &op);
    if (op.builtin < 0)
        return bad(v, F_BUILTIN_CODE, NO_INDEX, R_MIN, op.builtin, 0);
    if (op.version < 1)
        return bad(v, F_OPCODE_VERSION, NO_INDEX, R_MIN, op.version, 1);
    if (op.builtin == BUILTIN_CUSTOM && !op.custom_name)
        return fail(at(v, F_CUSTOM_CODE, NO_INDEX), TML_ERROR_MODEL,
                    "missing for a CUSTOM operator");
    return TML_OK;
}

static tml_status check_buffer(ver *v, uint32_t t, uint32_t index)
{
    uint32_t size, data;
    tml_status st = check_span(v, t, F_OFFSET);
    if (st)
        return st;
    if (fu64(v->fb.base, t, TML_F_BUFFER_OFFSET) > 1 &&
        fvec(v->fb.base, t, TML_F_BUFFER_DATA, &data))
        return fail(at(v, F_OFFSET, NO_INDEX), TML_ERROR_MODEL,
                    "set together with inline data");
    decode_buffer(v->fb.base, t, &size);
    /* TFLite convention: buffer 0 is the empty sentinel that every
     * non-constant tensor points at. */
    if (index == 0 && size)
        return fail(at(v, -1, NO_INDEX), TML_ERROR_MODEL, k_holds, 0u, size,
                    0u);
    return TML_OK;
}

static tml_status check_quant(ver *v, uint32_t q, const tml_model_tensor *t)
{
    uint32_t data, nzp = fvec(v->fb.base, q, TML_F_QUANT_ZERO_POINT, &data);
    int32_t qd = t->quant_dim;

    if (!t->scales)
        return TML_OK;
    for (int32_t c = 0; c < t->nscales; c++) {
        /* A NaN or infinite scale is never meaningful, and would poison
         * every multiplier computed from it. */
        uint32_t bits;
        memcpy(&bits, &t->scales[c], sizeof bits);
        if (((bits >> 23) & 0xffu) == 0xffu)
            return fail(at(v, F_SCALE, (uint32_t)c), TML_ERROR_MODEL,
                        "is not finite");
    }
    if (nzp && nzp != (uint32_t)t->nscales)
        return bad(v, F_ZERO_POINT, COUNT, R_EQ, (int32_t)nzp, t->nscales);
    /* Kernels check zero points against their dtype (with the op in the
     * message); here only what no kernel could handle: values beyond
     * int32, and INT32_MIN, whose negation (input offset) overflows. */
    for (int32_t c = 0; t->zero_points && c < t->nscales; c++)
        if (t->zero_points[c] < -2147483647 ||
            t->zero_points[c] > 2147483647)
            return fail(at(v, F_ZERO_POINT, (uint32_t)c), TML_ERROR_MODEL,
                        "is %lld, outside int32",
                        (long long)t->zero_points[c]);
    if (qd < 0 || (qd >= t->ndims && (qd > 0 || t->nscales > 1)))
        return bad(v, F_QDIM, NO_INDEX, R_RANGE, qd, t->ndims);
    if (t->nscales > 1 && t->nscales != t->dims[qd])
        return bad(v, F_SCALE, COUNT, R_EQ, t->nscales, t->dims[qd]);
    return TML_OK;
}

static tml_status check_tensor(ver *v, uint32_t table)
{
    const uint8_t *b = v->fb.base;
    tml_model_tensor t;
    uint32_t q, off, size, bytes;
    int32_t type;
    size_t esize;

    decode_tensor(b, table, &t, &q);
    type = t.type;
    esize = tml_model_dtype_size(type);
    if (t.ndims > TML_MAX_DIMS)
        return bad(v, F_SHAPE, COUNT, R_MAX, t.ndims, TML_MAX_DIMS);
    for (int32_t d = 0; d < t.ndims; d++)
        if (t.dims[d] < 0)
            return bad(v, F_SHAPE, (uint32_t)d, R_MIN, t.dims[d], 0);
    /* Types of schema.fbs (0..22) we cannot run are unsupported; other
     * numbers are not TFLite types at all. */
    if (!esize)
        return fail(at(v, F_TYPE, NO_INDEX),
                    type >= 0 && type <= 22 ? TML_ERROR_UNSUPPORTED
                                            : TML_ERROR_MODEL,
                    "%d is %s", (int)type, type >= 0 && type <= 22
                        ? k_unsupported : "not a TensorType");
    bytes = tensor_bytes(&t);
    if (bytes > MAX_BYTES)
        return fail(at(v, F_SHAPE, NO_INDEX), TML_ERROR_MODEL,
                    "needs more than 2^31 - 1 bytes");
    off = decode_buffer(b, elem(b, v->vec[S_BUFFER], t.buffer), &size);
    at(v, F_BUFFER, NO_INDEX);
    if (off && size != bytes)
        return fail(v, TML_ERROR_MODEL, k_holds, t.buffer, size, bytes);
    /* Kernels read constants in place as their element type. */
    if (off && (uintptr_t)(b + off) % esize)
        return fail(v, TML_ERROR_MODEL,
                    "buffer %u data at offset %u is not %u-byte aligned",
                    t.buffer, off, (unsigned)esize);
    if (q && check_quant(v, q, &t))
        return TML_ERROR_MODEL;
    if (fref(b, table, TML_F_TENSOR_SPARSITY))
        return fail(at(v, F_SPARSITY, NO_INDEX), TML_ERROR_UNSUPPORTED,
                    k_unsupported);
    return TML_OK;
}

static tml_status check_op(ver *v, uint32_t t)
{
    tml_model_op op;
    decode_op(v->fb.base, v->vec[S_OPCODE], t, &op);
    int want = expected_options(op.builtin);
    if (want && op.options_type && op.options_type != want)
        return bad(v, F_OPTIONS_TYPE, NO_INDEX, R_EQ, op.options_type, want);
    return check_span(v, t, F_LARGE_OFFSET);
}

/* What the schema cannot say about a table whose fields all passed. */
static tml_status check_table(ver *v, uint32_t t, int s, uint32_t index)
{
    uint32_t version;
    switch (s) {
    case S_MODEL:
        version = (uint32_t)fint(v->fb.base, t, TML_F_MODEL_VERSION, 4, 0);
        if (version != 3)
            return bad(v, F_VERSION, NO_INDEX, R_EQ, (int32_t)version, 3);
        if (!v->count[S_SUBGRAPH])
            return bad(v, F_SUBGRAPHS, COUNT, R_MIN, 0, 1);
        return TML_OK;
    case S_OPCODE: return check_opcode(v, t);
    case S_BUFFER: return check_buffer(v, t, index);
    case S_TENSOR: return check_tensor(v, t);
    case S_OP: return check_op(v, t);
    default: return TML_OK;
    }
}

static tml_status walk(ver *v, uint32_t t, int s);

/* Table t of schema s, reached through `field` (element `index`). */
static tml_status enter(ver *v, uint32_t t, int s, int field, uint32_t index)
{
    frame *f = &v->path[v->depth++];
    tml_status st;
    int rc;

    f->field = field;
    f->index = index;
    f->name = 0;
    at(v, -1, NO_INDEX);
    rc = tml_fb_table(&v->fb, t);
    st = rc ? fb_fail(v, rc) : walk(v, t, s);
    if (!st)
        st = check_table(v, t, s, index);
    v->depth--;
    at(v, field, NO_INDEX);
    return st;
}

/* Offset field of kind k at pos: the vector, string or table it names. */
static tml_status walk_ref(ver *v, uint32_t pos, int kind, int sub)
{
    const uint8_t *b = v->fb.base;
    uint32_t ref, n = 0, data, esize = kind == K_INT64S ? 8
                                      : kind <= K_BYTES ? 1 : 4;
    tml_status st = TML_OK;
    int rc = tml_fb_deref(&v->fb, pos, &ref);

    if (!rc && kind == K_OPAQUE)
        rc = tml_fb_table(&v->fb, ref);
    else if (!rc && kind < K_TABLE)
        rc = tml_fb_vector(&v->fb, ref, esize, esize, &n, &data);
    /* Strings are byte vectors followed by a NUL inside the file. */
    if (!rc && kind <= K_NAME &&
        (!tml_fb_in(&v->fb, (uint64_t)data + n, 1) || b[data + n])) {
        v->fb.where = ref;
        rc = TML_FB_NUL;
    }
    if (rc)
        return fb_fail(v, rc);
    if (kind == K_TABLE)
        return enter(v, ref, sub, v->field, NO_INDEX);
    if (kind == K_NAME)
        return check_name(v, data);
    if (kind >= K_SCALES && kind <= K_TABLES)
        st = charge(v, n);
    if (kind == K_TABLES) {
        v->vec[sub] = data;
        v->count[sub] = n;
    }
    for (uint32_t i = 0; !st && i < n && kind >= K_INDICES &&
                         kind <= K_TABLES; i++) {
        uint32_t p = data + 4 * i;
        if (kind != K_TABLES)
            st = check_index(at(v, v->field, i), sub,
                             (int32_t)tml_fb_u32(b + p),
                             kind == K_OPT_INDICES);
        else if ((rc = tml_fb_deref(&v->fb, p, &ref)))
            st = fb_fail(v, rc);
        else
            st = enter(v, ref, sub, v->field, i);
    }
    return st;
}

/* Every field of table t (schema s), in k_fields order. */
static tml_status walk(ver *v, uint32_t t, int s)
{
    for (int f = k_first[s]; f < k_first[s + 1]; f++) {
        int kind = FIELD_KIND(f), sub = FIELD_SUB(f);
        uint32_t pos;
        tml_status st = TML_OK;
        int rc;

        at(v, f, NO_INDEX);
        if (kind == K_TABLES) {
            v->count[sub] = 0;
            v->vec_field[sub] = (uint8_t)f;
        }
        rc = tml_fb_field(&v->fb, t, FIELD_ID(f),
                          kind == K_U8 ? 1 : kind == K_U64 ? 8 : 4, &pos);
        if (rc)
            return fb_fail(v, rc);
        /* An absent index is index 0, which must exist too. */
        if (kind == K_INDEX)
            st = check_index(v, sub,
                             pos ? (int32_t)tml_fb_u32(v->fb.base + pos) : 0,
                             0);
        else if (pos && kind > K_INDEX)
            st = walk_ref(v, pos, kind, sub);
        if (st)
            return st;
    }
    at(v, -1, NO_INDEX);
    return TML_OK;
}

tml_status tml_model_load(tml_model *m, const void *data, size_t size,
                          char *err, size_t err_size)
{
    ver v;
    const uint8_t *b = (const uint8_t *)data;
    uint32_t root;
    tml_status st;
    int rc;

    memset(&v, 0, sizeof v);
    v.err = err;
    v.err_size = err ? err_size : 0;
    v.field = -1;
    v.index = NO_INDEX;
    if (v.err_size)
        err[0] = '\0';
    if (!m || !data)
        return fail(&v, TML_ERROR_ARGUMENT, "model or model data is NULL");
    memset(m, 0, sizeof *m);
    v.fb.base = b;
    v.fb.size = (uint32_t)size;
    v.budget = size;
    if (size < 8 || size > TML_FB_MAX_SIZE)
        return fail(&v, size < 8 ? TML_ERROR_MODEL : TML_ERROR_UNSUPPORTED,
                    "model is %zu bytes, expected 8 to 2^31 - 1", size);
    at(&v, F_ROOT, NO_INDEX);
    /* The root table at offset 0 is read in place: "misaligned at offset
     * 0 (..., not 16-byte aligned in memory)". */
    if ((uintptr_t)data % 4)
        return fb_fail(&v, TML_FB_ALIGN);
    if ((rc = tml_fb_deref(&v.fb, 0, &root)) ||
        (rc = tml_fb_table(&v.fb, root)))
        return fb_fail(&v, rc);
    if ((st = walk(&v, root, S_MODEL)) ||
        (st = check_table(&v, root, S_MODEL, NO_INDEX)))
        return st;
    /* Only subgraph 0 is read; the others were verified all the same. */
    fill_model(m, b, size, root);
    return TML_OK;
}

#else /* TML_TRUSTED_MODEL */

/* ------------------------------------------------------------------ */
/* The trusted load (model.h): no verifier, only what is cheap          */
/* ------------------------------------------------------------------ */

static tml_status load_fail(char *err, size_t err_size, tml_status st,
                            const char *fmt, ...)
{
    va_list ap;
    if (!err || !err_size)
        return st;
    va_start(ap, fmt);
    tml_vformat(err, err_size, fmt, ap);
    va_end(ap);
    return st;
}

tml_status tml_model_load(tml_model *m, const void *data, size_t size,
                          char *err, size_t err_size)
{
    const uint8_t *b = (const uint8_t *)data;
    tml_fb fb;
    uint32_t root, version, n, sgs;

    if (err && err_size)
        err[0] = '\0';
    if (!m || !data)
        return load_fail(err, err_size, TML_ERROR_ARGUMENT,
                         "model or model data is NULL");
    memset(m, 0, sizeof *m);
    if (size < 8 || size > TML_FB_MAX_SIZE)
        return load_fail(err, err_size, TML_ERROR_MODEL,
                         "model is %zu bytes, expected 8 to 2^31 - 1", size);
    /* The wrong array (another blob, a truncated or shifted copy) fails
     * here with one line instead of sending the decoders astray: TFLite
     * files carry "TFL3" at offset 4 (tinyml export checks it). */
    if (memcmp(b + 4, "TFL3", 4) != 0)
        return load_fail(err, err_size, TML_ERROR_MODEL,
                         "not a TFLite model (no \"TFL3\" identifier at "
                         "offset 4)");
    if ((uintptr_t)data % 4)
        return load_fail(err, err_size, TML_ERROR_MODEL,
                         "model data is not 4-byte aligned in memory");
    fb.base = b;
    fb.size = (uint32_t)size;
    root = tml_fb_u32(b);
    if (tml_fb_table(&fb, root) ||
        tml_fb_field_u32(&fb, root, TML_F_MODEL_VERSION, 0, &version) ||
        tml_fb_field_vector(&fb, root, TML_F_MODEL_SUBGRAPHS, 4, 4, &n,
                            &sgs) ||
        (n && tml_fb_vector_table(&fb, sgs, 0, &sgs)))
        return load_fail(err, err_size, TML_ERROR_MODEL,
                         "root table: malformed at offset %u (model is %u "
                         "bytes)", fb.where, fb.size);
    if (version != 3)
        return load_fail(err, err_size, TML_ERROR_MODEL,
                         "version: is %u, expected 3", version);
    if (!n)
        return load_fail(err, err_size, TML_ERROR_MODEL,
                         "subgraphs count: is 0, expected >= 1");
    fill_model(m, b, size, root);
    return TML_OK;
}

#endif /* TML_TRUSTED_MODEL */

/* ------------------------------------------------------------------ */
/* Accessors: the model is verified, so decoding cannot fail here.     */
/* ------------------------------------------------------------------ */

void tml_model_get_tensor(const tml_model *m, int32_t i, tml_model_tensor *out)
{
    const uint8_t *b = m->base;
    uint32_t quant, off, size;

    if (i < 0 || i >= m->ntensors) {
        memset(out, 0, sizeof *out);
        out->dims = k_empty;
        out->name = "";
        return;
    }
    decode_tensor(b, elem(b, m->tensors, (uint32_t)i), out, &quant);
    out->bytes = tensor_bytes(out);
    off = decode_buffer(b, elem(b, m->buffers, out->buffer), &size);
    if (off) {
        out->data = b + off;
        out->data_size = size;
    }
}

void tml_model_get_op(const tml_model *m, int32_t i, tml_model_op *out)
{
    if (i < 0 || i >= m->nops) {
        memset(out, 0, sizeof *out);
        out->inputs = k_empty;
        out->outputs = k_empty;
        return;
    }
    decode_op(m->base, m->opcodes, elem(m->base, m->operators, (uint32_t)i),
              out);
}

const int32_t *tml_model_inputs(const tml_model *m)
{
    return vec_ptr(m->base, (uint32_t)m->ninputs, m->inputs);
}

const int32_t *tml_model_outputs(const tml_model *m)
{
    return vec_ptr(m->base, (uint32_t)m->noutputs, m->outputs);
}

const char *tml_model_description(const tml_model *m)
{
    uint32_t s = m->base ? fref(m->base, tml_fb_u32(m->base),
                                TML_F_MODEL_DESCRIPTION) : 0;
    return s ? (const char *)m->base + s + 4 : "";
}

/* Options tables were only checked for structure: their fields are read
 * through the checked helpers, since their layout depends on the op. */
static tml_fb fb_of(const tml_model *m)
{
    tml_fb fb;
    fb.base = m->base;
    fb.size = (uint32_t)m->size;
    fb.where = 0;
    return fb;
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
    uint32_t pos, ref, n, data;
    *out = NULL;
    if (!table)
        return 0;
    if (tml_fb_field(&fb, table, field, 4, &pos))
        return -1;
    if (!pos)
        return 0;
    if (tml_fb_deref(&fb, pos, &ref) ||
        tml_fb_vector(&fb, ref, 4, 4, &n, &data))
        return -1;
    /* n * 4 bytes fit in the file, so n fits in int32. */
    *out = n ? (const int32_t *)(const void *)(fb.base + data) : NULL;
    return (int32_t)n;
}
