/*
 * TFLite writer: keeps a copy of the description, then serialises it with
 * the flatbuffer builder in tml_tfl_finish().  Field ids and defaults are
 * TFLite's schema.fbs (runtime/schema.h holds the same numbers).
 */
#include "convert/export/tflite_writer.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime/schema.h"

#define WR_SCHEMA_VERSION 3
#define WR_ERROR_SIZE 192
/* TensorType values run 0..18 (FLOAT32 .. BFLOAT16). */
#define WR_MAX_TYPE 18

typedef struct wr_buffer {
    uint8_t *data;
    size_t size;
} wr_buffer;

typedef struct wr_tensor {
    char *name;
    int32_t type, ndims;
    int32_t *dims;
    uint32_t buffer;
    int32_t nq, qdim;
    float *scales;
    int64_t *zero_points;
    int is_variable;
} wr_tensor;

typedef struct wr_opcode {
    int32_t builtin, version;
    char *custom;            /* CUSTOM ops: the custom_code name */
} wr_opcode;

typedef struct wr_op {
    uint32_t opcode;
    int32_t *inputs, *outputs;
    int32_t ninputs, noutputs;
    tml_tfl_options opts;
    uint8_t *custom_options;
    size_t custom_options_size;
} wr_op;

/* A growable array of fixed-size items. */
typedef struct wr_array {
    void *items;
    size_t count, cap;
} wr_array;

struct tml_tfl_writer {
    tml_fb_allocator alloc;
    wr_array buffers, tensors, opcodes, ops, owned;
    int32_t *inputs, *outputs;
    int32_t ninputs, noutputs;
    char *description;
    char *subgraph_name;
    tml_fb_builder fb;
    int finished;
    int failed;
    char error[WR_ERROR_SIZE];
};

/* ---- options ---- */

void tml_tfl_opt_init(tml_tfl_options *o, int type)
{
    memset(o, 0, sizeof *o);
    o->type = (uint8_t)type;
}

static tml_tfl_field *opt_next(tml_tfl_options *o, int field, int kind)
{
    tml_tfl_field *f;
    if (o->nfields >= TML_TFL_MAX_OPT_FIELDS || field < 0 || field > 255)
        return NULL;
    f = &o->fields[o->nfields++];
    memset(f, 0, sizeof *f);
    f->id = (uint8_t)field;
    f->kind = (uint8_t)kind;
    return f;
}

int tml_tfl_opt_i8(tml_tfl_options *o, int field, int32_t v, int32_t def)
{
    tml_tfl_field *f = opt_next(o, field, TML_TFL_FIELD_I8);
    if (!f)
        return -1;
    f->i = v;
    f->def_i = def;
    return 0;
}

int tml_tfl_opt_bool(tml_tfl_options *o, int field, int v, int def)
{
    tml_tfl_field *f = opt_next(o, field, TML_TFL_FIELD_BOOL);
    if (!f)
        return -1;
    f->i = v != 0;
    f->def_i = def != 0;
    return 0;
}

int tml_tfl_opt_i32(tml_tfl_options *o, int field, int32_t v, int32_t def)
{
    tml_tfl_field *f = opt_next(o, field, TML_TFL_FIELD_I32);
    if (!f)
        return -1;
    f->i = v;
    f->def_i = def;
    return 0;
}

int tml_tfl_opt_f32(tml_tfl_options *o, int field, float v, float def)
{
    tml_tfl_field *f = opt_next(o, field, TML_TFL_FIELD_F32);
    if (!f)
        return -1;
    f->f = v;
    f->def_f = def;
    return 0;
}

int tml_tfl_opt_ints(tml_tfl_options *o, int field, const int32_t *v,
                     int count)
{
    tml_tfl_field *f;
    if (count < 0 || count > TML_TFL_MAX_OPT_INTS)
        return -1;
    f = opt_next(o, field, TML_TFL_FIELD_I32_VECTOR);
    if (!f)
        return -1;
    f->count = (uint8_t)count;
    if (count)
        memcpy(f->ints, v, (size_t)count * sizeof *v);
    return 0;
}

/* Defaults below are schema.fbs's: strides 0, dilations 1, padding SAME
 * (0), activation NONE (0), pot_scale_int16 true. */
tml_tfl_options tml_tfl_conv2d_options(int padding, int stride_w,
                                       int stride_h, int activation,
                                       int dilation_w, int dilation_h)
{
    tml_tfl_options o;
    tml_tfl_opt_init(&o, TML_OPT_CONV_2D);
    tml_tfl_opt_i8(&o, TML_F_CONV_PADDING, padding, 0);
    tml_tfl_opt_i32(&o, TML_F_CONV_STRIDE_W, stride_w, 0);
    tml_tfl_opt_i32(&o, TML_F_CONV_STRIDE_H, stride_h, 0);
    tml_tfl_opt_i8(&o, TML_F_CONV_ACTIVATION, activation, 0);
    tml_tfl_opt_i32(&o, TML_F_CONV_DILATION_W, dilation_w, 1);
    tml_tfl_opt_i32(&o, TML_F_CONV_DILATION_H, dilation_h, 1);
    return o;
}

tml_tfl_options tml_tfl_depthwise_options(int padding, int stride_w,
                                          int stride_h, int depth_multiplier,
                                          int activation, int dilation_w,
                                          int dilation_h)
{
    tml_tfl_options o;
    tml_tfl_opt_init(&o, TML_OPT_DEPTHWISE_CONV_2D);
    tml_tfl_opt_i8(&o, TML_F_DW_PADDING, padding, 0);
    tml_tfl_opt_i32(&o, TML_F_DW_STRIDE_W, stride_w, 0);
    tml_tfl_opt_i32(&o, TML_F_DW_STRIDE_H, stride_h, 0);
    tml_tfl_opt_i32(&o, TML_F_DW_DEPTH_MULTIPLIER, depth_multiplier, 0);
    tml_tfl_opt_i8(&o, TML_F_DW_ACTIVATION, activation, 0);
    tml_tfl_opt_i32(&o, TML_F_DW_DILATION_W, dilation_w, 1);
    tml_tfl_opt_i32(&o, TML_F_DW_DILATION_H, dilation_h, 1);
    return o;
}

tml_tfl_options tml_tfl_fully_connected_options(int activation,
                                                int keep_num_dims)
{
    tml_tfl_options o;
    tml_tfl_opt_init(&o, TML_OPT_FULLY_CONNECTED);
    tml_tfl_opt_i8(&o, TML_F_FC_ACTIVATION, activation, 0);
    tml_tfl_opt_bool(&o, TML_F_FC_KEEP_NUM_DIMS, keep_num_dims, 0);
    return o;
}

tml_tfl_options tml_tfl_pool2d_options(int padding, int stride_w,
                                       int stride_h, int filter_w,
                                       int filter_h, int activation)
{
    tml_tfl_options o;
    tml_tfl_opt_init(&o, TML_OPT_POOL_2D);
    tml_tfl_opt_i8(&o, TML_F_POOL_PADDING, padding, 0);
    tml_tfl_opt_i32(&o, TML_F_POOL_STRIDE_W, stride_w, 0);
    tml_tfl_opt_i32(&o, TML_F_POOL_STRIDE_H, stride_h, 0);
    tml_tfl_opt_i32(&o, TML_F_POOL_FILTER_W, filter_w, 0);
    tml_tfl_opt_i32(&o, TML_F_POOL_FILTER_H, filter_h, 0);
    tml_tfl_opt_i8(&o, TML_F_POOL_ACTIVATION, activation, 0);
    return o;
}

tml_tfl_options tml_tfl_softmax_options(float beta)
{
    tml_tfl_options o;
    tml_tfl_opt_init(&o, TML_OPT_SOFTMAX);
    tml_tfl_opt_f32(&o, TML_F_SOFTMAX_BETA, beta, 0.0f);
    return o;
}

tml_tfl_options tml_tfl_concatenation_options(int axis, int activation)
{
    tml_tfl_options o;
    tml_tfl_opt_init(&o, TML_OPT_CONCATENATION);
    tml_tfl_opt_i32(&o, TML_F_CONCAT_AXIS, axis, 0);
    tml_tfl_opt_i8(&o, TML_F_CONCAT_ACTIVATION, activation, 0);
    return o;
}

/* ADD, SUB and MUL options hold only the fused activation (field 0). */
static tml_tfl_options activation_options(int type, int field, int activation)
{
    tml_tfl_options o;
    tml_tfl_opt_init(&o, type);
    tml_tfl_opt_i8(&o, field, activation, 0);
    return o;
}

tml_tfl_options tml_tfl_add_options(int activation)
{
    return activation_options(TML_OPT_ADD, TML_F_ADD_ACTIVATION, activation);
}

tml_tfl_options tml_tfl_sub_options(int activation)
{
    return activation_options(TML_OPT_SUB, TML_F_SUB_ACTIVATION, activation);
}

tml_tfl_options tml_tfl_mul_options(int activation)
{
    return activation_options(TML_OPT_MUL, TML_F_MUL_ACTIVATION, activation);
}

tml_tfl_options tml_tfl_reshape_options(const int32_t *new_shape, int count)
{
    tml_tfl_options o;
    tml_tfl_opt_init(&o, TML_OPT_RESHAPE);
    if (count >= 0 && tml_tfl_opt_ints(&o, TML_F_RESHAPE_NEW_SHAPE,
                                       new_shape, count) != 0)
        o.type = 0xff;  /* too long: tml_tfl_add_op reports it */
    return o;
}

tml_tfl_options tml_tfl_reducer_options(int keep_dims)
{
    tml_tfl_options o;
    tml_tfl_opt_init(&o, TML_OPT_REDUCER);
    tml_tfl_opt_bool(&o, TML_F_REDUCER_KEEP_DIMS, keep_dims, 0);
    return o;
}

tml_tfl_options tml_tfl_squeeze_options(const int32_t *dims, int count)
{
    tml_tfl_options o;
    tml_tfl_opt_init(&o, TML_OPT_SQUEEZE);
    if (tml_tfl_opt_ints(&o, TML_F_SQUEEZE_DIMS, dims, count) != 0)
        o.type = 0xff;
    return o;
}

tml_tfl_options tml_tfl_strided_slice_options(int begin_mask, int end_mask,
                                              int ellipsis_mask,
                                              int new_axis_mask,
                                              int shrink_axis_mask,
                                              int offset)
{
    tml_tfl_options o;
    tml_tfl_opt_init(&o, TML_OPT_STRIDED_SLICE);
    tml_tfl_opt_i32(&o, TML_F_SS_BEGIN_MASK, begin_mask, 0);
    tml_tfl_opt_i32(&o, TML_F_SS_END_MASK, end_mask, 0);
    tml_tfl_opt_i32(&o, TML_F_SS_ELLIPSIS_MASK, ellipsis_mask, 0);
    tml_tfl_opt_i32(&o, TML_F_SS_NEW_AXIS_MASK, new_axis_mask, 0);
    tml_tfl_opt_i32(&o, TML_F_SS_SHRINK_AXIS_MASK, shrink_axis_mask, 0);
    tml_tfl_opt_bool(&o, TML_F_SS_OFFSET, offset, 0);
    return o;
}

tml_tfl_options tml_tfl_leaky_relu_options(float alpha)
{
    tml_tfl_options o;
    tml_tfl_opt_init(&o, TML_OPT_LEAKY_RELU);
    tml_tfl_opt_f32(&o, TML_F_LEAKY_RELU_ALPHA, alpha, 0.0f);
    return o;
}

tml_tfl_options tml_tfl_empty_options(int type)
{
    tml_tfl_options o;
    tml_tfl_opt_init(&o, type);
    return o;
}

/* ---- writer state ---- */

static int wr_fail(tml_tfl_writer *w, const char *fmt, ...)
{
    va_list ap;
    if (w->failed)
        return -1;
    w->failed = 1;
    va_start(ap, fmt);
    vsnprintf(w->error, sizeof w->error, fmt, ap);
    va_end(ap);
    return -1;
}

static int wr_usable(tml_tfl_writer *w)
{
    if (!w)
        return 0;
    if (w->failed)
        return 0;
    if (w->finished) {
        wr_fail(w, "the model is already finished");
        return 0;
    }
    return 1;
}

/* Room for one more item; returns it (zeroed) or NULL. */
static void *wr_push(tml_tfl_writer *w, wr_array *a, size_t item)
{
    uint8_t *slot;
    if (a->count == a->cap) {
        size_t ncap = a->cap ? a->cap * 2 : 16;
        void *n = w->alloc.fn(w->alloc.user, NULL, ncap * item);
        if (!n) {
            wr_fail(w, "out of memory");
            return NULL;
        }
        if (a->count)
            memcpy(n, a->items, a->count * item);
        if (a->items)
            w->alloc.fn(w->alloc.user, a->items, 0);
        a->items = n;
        a->cap = ncap;
    }
    slot = (uint8_t *)a->items + a->count * item;
    memset(slot, 0, item);
    a->count++;
    return slot;
}

/* A copy of n bytes owned by the writer, zeros when src is NULL (n 0
 * gives a valid pointer). */
static void *wr_dup(tml_tfl_writer *w, const void *src, size_t n)
{
    void **slot;
    void *p = w->alloc.fn(w->alloc.user, NULL, n ? n : 1);
    if (!p) {
        wr_fail(w, "out of memory copying %zu bytes", n);
        return NULL;
    }
    if (n && src)
        memcpy(p, src, n);
    else if (n)
        memset(p, 0, n);
    slot = wr_push(w, &w->owned, sizeof *slot);
    if (!slot) {
        w->alloc.fn(w->alloc.user, p, 0);
        return NULL;
    }
    *slot = p;
    return p;
}

static char *wr_strdup(tml_tfl_writer *w, const char *s)
{
    return s ? wr_dup(w, s, strlen(s) + 1) : NULL;
}

tml_tfl_writer *tml_tfl_writer_new(const tml_fb_allocator *alloc)
{
    tml_fb_allocator a;
    tml_tfl_writer *w;
    wr_buffer *sentinel;
    a.fn = alloc && alloc->fn ? alloc->fn : tml_fb_default_alloc;
    a.user = alloc && alloc->fn ? alloc->user : NULL;
    w = a.fn(a.user, NULL, sizeof *w);
    if (!w)
        return NULL;
    memset(w, 0, sizeof *w);
    w->alloc = a;
    tml_fb_init(&w->fb, &a);
    /* TFLite files repeat many small vectors (all-zero zero points, equal
     * shapes and scales): write each once. */
    tml_fb_share_vectors(&w->fb, 1);
    /* Buffer 0: the empty sentinel every TFLite file starts with. */
    sentinel = wr_push(w, &w->buffers, sizeof *sentinel);
    (void)sentinel;
    return w;
}

void tml_tfl_writer_share_vectors(tml_tfl_writer *w, int on)
{
    tml_fb_share_vectors(&w->fb, on);
}

static void wr_array_free(tml_tfl_writer *w, wr_array *a)
{
    if (a->items)
        w->alloc.fn(w->alloc.user, a->items, 0);
    a->items = NULL;
    a->count = a->cap = 0;
}

void tml_tfl_writer_free(tml_tfl_writer *w)
{
    size_t i;
    if (!w)
        return;
    for (i = 0; i < w->owned.count; i++)
        w->alloc.fn(w->alloc.user, ((void **)w->owned.items)[i], 0);
    wr_array_free(w, &w->owned);
    wr_array_free(w, &w->buffers);
    wr_array_free(w, &w->tensors);
    wr_array_free(w, &w->opcodes);
    wr_array_free(w, &w->ops);
    tml_fb_release(&w->fb);
    w->alloc.fn(w->alloc.user, w, 0);
}

const char *tml_tfl_error(const tml_tfl_writer *w)
{
    return w ? w->error : "no writer";
}

int32_t tml_tfl_tensor_count(const tml_tfl_writer *w)
{
    return (int32_t)w->tensors.count;
}

int32_t tml_tfl_buffer_count(const tml_tfl_writer *w)
{
    return (int32_t)w->buffers.count;
}

int32_t tml_tfl_add_buffer(tml_tfl_writer *w, const void *data, size_t size)
{
    wr_buffer *b;
    uint8_t *copy;
    if (!wr_usable(w))
        return -1;
    if (size == 0)
        return 0;
    if (!data)
        return wr_fail(w, "buffer %zu: NULL data for %zu bytes",
                       w->buffers.count, size);
    if (size > 0x7fff0000u)
        return wr_fail(w, "buffer %zu: %zu bytes is over the 2 GiB "
                       "flatbuffer limit", w->buffers.count, size);
    copy = wr_dup(w, data, size);
    if (!copy)
        return -1;
    b = wr_push(w, &w->buffers, sizeof *b);
    if (!b)
        return -1;
    b->data = copy;
    b->size = size;
    return (int32_t)(w->buffers.count - 1);
}

/* Bytes of one element of a TensorType; 0 when not fixed (STRING, INT4,
 * RESOURCE, VARIANT). */
static size_t wr_type_size(int32_t type)
{
    static const uint8_t sizes[WR_MAX_TYPE + 1] = {
        4, 2, 4, 1, 8, 0, 1, 2, 8, 1, 8, 16, 8, 0, 0, 4, 2, 0, 2
    };
    return type >= 0 && type <= WR_MAX_TYPE ? sizes[type] : 0;
}

static const char *wr_name(const tml_tfl_tensor *t)
{
    return t->name ? t->name : "";
}

static int wr_check_quant(tml_tfl_writer *w, const tml_tfl_tensor *t,
                          size_t index)
{
    const tml_tfl_quant *q = &t->quant;
    if (q->count < 0)
        return wr_fail(w, "tensor %zu '%s': negative scale count %d", index,
                       wr_name(t), (int)q->count);
    if (q->count == 0)
        return 0;
    if (!q->scales)
        return wr_fail(w, "tensor %zu '%s': %d scales but scales is NULL",
                       index, wr_name(t), (int)q->count);
    if (q->count == 1)
        return 0;
    if (q->quantized_dimension < 0 || q->quantized_dimension >= t->ndims)
        return wr_fail(w, "tensor %zu '%s': quantized_dimension %d out of "
                       "range for rank %d", index, wr_name(t),
                       (int)q->quantized_dimension, (int)t->ndims);
    if (t->dims[q->quantized_dimension] != q->count)
        return wr_fail(w, "tensor %zu '%s': %d scales but dimension %d has "
                       "%d channels", index, wr_name(t), (int)q->count,
                       (int)q->quantized_dimension,
                       (int)t->dims[q->quantized_dimension]);
    return 0;
}

static int wr_check_tensor(tml_tfl_writer *w, const tml_tfl_tensor *t,
                           size_t index)
{
    const wr_buffer *bufs = w->buffers.items;
    uint64_t elems = 1;
    int32_t i;
    if (t->type < 0 || t->type > WR_MAX_TYPE)
        return wr_fail(w, "tensor %zu '%s': unknown type %d", index,
                       wr_name(t), (int)t->type);
    if (t->ndims < 0 || (t->ndims > 0 && !t->dims))
        return wr_fail(w, "tensor %zu '%s': bad rank %d", index, wr_name(t),
                       (int)t->ndims);
    for (i = 0; i < t->ndims; i++) {
        if (t->dims[i] < 0)
            return wr_fail(w, "tensor %zu '%s': dimension %d is %d", index,
                           wr_name(t), (int)i, (int)t->dims[i]);
        elems *= (uint64_t)t->dims[i];
    }
    if (t->buffer >= w->buffers.count)
        return wr_fail(w, "tensor %zu '%s': buffer %u out of range (%zu "
                       "buffers)", index, wr_name(t), t->buffer,
                       w->buffers.count);
    if (bufs[t->buffer].size && wr_type_size(t->type) &&
        bufs[t->buffer].size != elems * wr_type_size(t->type))
        return wr_fail(w, "tensor %zu '%s': buffer %u has %zu bytes, the "
                       "tensor needs %llu", index, wr_name(t), t->buffer,
                       bufs[t->buffer].size,
                       (unsigned long long)(elems * wr_type_size(t->type)));
    return wr_check_quant(w, t, index);
}

int32_t tml_tfl_add_tensor(tml_tfl_writer *w, const tml_tfl_tensor *t)
{
    size_t index;
    wr_tensor *r;
    const tml_tfl_quant *q;
    if (!wr_usable(w))
        return -1;
    index = w->tensors.count;
    if (wr_check_tensor(w, t, index) != 0)
        return -1;
    r = wr_push(w, &w->tensors, sizeof *r);
    if (!r)
        return -1;
    q = &t->quant;
    r->name = wr_strdup(w, t->name);
    r->type = t->type;
    r->ndims = t->ndims;
    r->dims = wr_dup(w, t->dims, (size_t)t->ndims * sizeof(int32_t));
    r->buffer = t->buffer;
    r->is_variable = t->is_variable;
    r->nq = q->count;
    r->qdim = q->quantized_dimension;
    if (q->count) {
        r->scales = wr_dup(w, q->scales, (size_t)q->count * sizeof(float));
        /* No zero points given means all zero (symmetric). */
        r->zero_points = wr_dup(w, q->zero_points,
                                (size_t)q->count * sizeof(int64_t));
    }
    if (w->failed)
        return -1;
    return (int32_t)index;
}

int32_t tml_tfl_add_const_tensor(tml_tfl_writer *w, const tml_tfl_tensor *t,
                                 const void *data, size_t size)
{
    tml_tfl_tensor c = *t;
    int32_t b = tml_tfl_add_buffer(w, data, size);
    if (b < 0)
        return -1;
    c.buffer = (uint32_t)b;
    return tml_tfl_add_tensor(w, &c);
}

#define WR_BUILTIN_CUSTOM 32

static int wr_same_custom(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

/* Index of the OperatorCode (builtin, version, custom name); added on
 * first use. */
static int32_t wr_find_opcode(tml_tfl_writer *w, int32_t builtin,
                              int32_t version, const char *custom)
{
    wr_opcode *codes, *c;
    size_t i;
    if (!wr_usable(w))
        return -1;
    if (builtin < 0)
        return wr_fail(w, "negative builtin code %d", (int)builtin);
    if (version < 1)
        return wr_fail(w, "builtin %d: version %d < 1", (int)builtin,
                       (int)version);
    codes = w->opcodes.items;
    for (i = 0; i < w->opcodes.count; i++)
        if (codes[i].builtin == builtin && codes[i].version == version &&
            wr_same_custom(codes[i].custom, custom))
            return (int32_t)i;
    c = wr_push(w, &w->opcodes, sizeof *c);
    if (!c)
        return -1;
    c->builtin = builtin;
    c->version = version;
    c->custom = wr_strdup(w, custom);
    return w->failed ? -1 : (int32_t)(w->opcodes.count - 1);
}

int32_t tml_tfl_opcode(tml_tfl_writer *w, int32_t builtin, int32_t version)
{
    if (w && !w->failed && builtin == WR_BUILTIN_CUSTOM)
        return wr_fail(w, "builtin 32 (CUSTOM) needs a name: use "
                       "tml_tfl_add_custom_op");
    return wr_find_opcode(w, builtin, version, NULL);
}

static int wr_check_indices(tml_tfl_writer *w, size_t op, const char *what,
                            const int32_t *idx, int32_t n, int allow_absent)
{
    int32_t i;
    if (n < 0 || (n > 0 && !idx))
        return wr_fail(w, "operator %zu: bad %s count %d", op, what, (int)n);
    for (i = 0; i < n; i++) {
        if (idx[i] == -1 && allow_absent)
            continue;
        if (idx[i] < 0 || (size_t)idx[i] >= w->tensors.count)
            return wr_fail(w, "operator %zu: %s %d is tensor %d, out of "
                           "range (%zu tensors)", op, what, (int)i,
                           (int)idx[i], w->tensors.count);
    }
    return 0;
}

int32_t tml_tfl_add_op(tml_tfl_writer *w, int32_t builtin, int32_t version,
                       const int32_t *inputs, int32_t ninputs,
                       const int32_t *outputs, int32_t noutputs,
                       const tml_tfl_options *opts)
{
    size_t index;
    int32_t code;
    wr_op *op;
    if (!wr_usable(w))
        return -1;
    index = w->ops.count;
    if (wr_check_indices(w, index, "input", inputs, ninputs, 1) != 0 ||
        wr_check_indices(w, index, "output", outputs, noutputs, 0) != 0)
        return -1;
    if (opts && opts->type == 0xff)
        return wr_fail(w, "operator %zu: options vector longer than %d",
                       index, TML_TFL_MAX_OPT_INTS);
    if (opts && opts->nfields > TML_TFL_MAX_OPT_FIELDS)
        return wr_fail(w, "operator %zu: %d option fields", index,
                       (int)opts->nfields);
    code = tml_tfl_opcode(w, builtin, version);
    if (code < 0)
        return -1;
    op = wr_push(w, &w->ops, sizeof *op);
    if (!op)
        return -1;
    op->opcode = (uint32_t)code;
    op->ninputs = ninputs;
    op->noutputs = noutputs;
    op->inputs = wr_dup(w, inputs, (size_t)ninputs * sizeof(int32_t));
    op->outputs = wr_dup(w, outputs, (size_t)noutputs * sizeof(int32_t));
    if (opts)
        op->opts = *opts;
    if (w->failed)
        return -1;
    return (int32_t)index;
}

int32_t tml_tfl_add_custom_op(tml_tfl_writer *w, const char *custom_code,
                              int32_t version, const int32_t *inputs,
                              int32_t ninputs, const int32_t *outputs,
                              int32_t noutputs, const void *custom_options,
                              size_t custom_options_size)
{
    size_t index;
    int32_t code;
    wr_op *op;
    if (!wr_usable(w))
        return -1;
    index = w->ops.count;
    if (!custom_code || !*custom_code)
        return wr_fail(w, "operator %zu: custom op without a name", index);
    if (custom_options_size && !custom_options)
        return wr_fail(w, "operator %zu: NULL custom options of %zu bytes",
                       index, custom_options_size);
    if (wr_check_indices(w, index, "input", inputs, ninputs, 1) != 0 ||
        wr_check_indices(w, index, "output", outputs, noutputs, 0) != 0)
        return -1;
    code = wr_find_opcode(w, WR_BUILTIN_CUSTOM, version, custom_code);
    if (code < 0)
        return -1;
    op = wr_push(w, &w->ops, sizeof *op);
    if (!op)
        return -1;
    op->opcode = (uint32_t)code;
    op->ninputs = ninputs;
    op->noutputs = noutputs;
    op->inputs = wr_dup(w, inputs, (size_t)ninputs * sizeof(int32_t));
    op->outputs = wr_dup(w, outputs, (size_t)noutputs * sizeof(int32_t));
    if (custom_options_size) {
        op->custom_options = wr_dup(w, custom_options, custom_options_size);
        op->custom_options_size = custom_options_size;
    }
    return w->failed ? -1 : (int32_t)index;
}

static int wr_set_io(tml_tfl_writer *w, const char *what, const int32_t *idx,
                     int32_t n, int32_t **dst, int32_t *ndst)
{
    int32_t i;
    if (!wr_usable(w))
        return -1;
    if (n < 0 || (n > 0 && !idx))
        return wr_fail(w, "subgraph %s: bad count %d", what, (int)n);
    for (i = 0; i < n; i++)
        if (idx[i] < 0 || (size_t)idx[i] >= w->tensors.count)
            return wr_fail(w, "subgraph %s %d: tensor %d out of range (%zu "
                           "tensors)", what, (int)i, (int)idx[i],
                           w->tensors.count);
    *dst = wr_dup(w, idx, (size_t)n * sizeof(int32_t));
    *ndst = n;
    return w->failed ? -1 : 0;
}

int tml_tfl_set_inputs(tml_tfl_writer *w, const int32_t *idx, int32_t n)
{
    return w ? wr_set_io(w, "input", idx, n, &w->inputs, &w->ninputs) : -1;
}

int tml_tfl_set_outputs(tml_tfl_writer *w, const int32_t *idx, int32_t n)
{
    return w ? wr_set_io(w, "output", idx, n, &w->outputs, &w->noutputs)
             : -1;
}

int tml_tfl_set_description(tml_tfl_writer *w, const char *text)
{
    if (!wr_usable(w))
        return -1;
    w->description = wr_strdup(w, text ? text : "");
    return w->failed ? -1 : 0;
}

int tml_tfl_set_subgraph_name(tml_tfl_writer *w, const char *name)
{
    if (!wr_usable(w))
        return -1;
    w->subgraph_name = wr_strdup(w, name ? name : "");
    return w->failed ? -1 : 0;
}

/* ---- serialisation (children before parents: back to front) ---- */

static tml_fb_ref ser_ints(tml_fb_builder *b, const int32_t *v, int32_t n)
{
    return tml_fb_create_vector(b, v, sizeof *v, (size_t)n, 0);
}

static tml_fb_ref ser_buffer(tml_fb_builder *b, const wr_buffer *buf)
{
    tml_fb_ref data = 0;
    if (buf->size)
        data = tml_fb_create_vector(b, buf->data, 1, buf->size, 16);
    tml_fb_start_table(b);
    tml_fb_add_offset(b, TML_F_BUFFER_DATA, data);
    return tml_fb_end_table(b);
}

static tml_fb_ref ser_quant(tml_fb_builder *b, const wr_tensor *t)
{
    tml_fb_ref scale, zp;
    if (t->nq == 0)
        return 0;
    scale = tml_fb_create_vector(b, t->scales, sizeof(float), (size_t)t->nq,
                                 0);
    zp = tml_fb_create_vector(b, t->zero_points, sizeof(int64_t),
                              (size_t)t->nq, 0);
    tml_fb_start_table(b);
    tml_fb_add_offset(b, TML_F_QUANT_SCALE, scale);
    tml_fb_add_offset(b, TML_F_QUANT_ZERO_POINT, zp);
    tml_fb_add_i32(b, TML_F_QUANT_DIM, t->qdim, 0);
    return tml_fb_end_table(b);
}

static tml_fb_ref ser_tensor(tml_fb_builder *b, const wr_tensor *t)
{
    tml_fb_ref shape = ser_ints(b, t->dims, t->ndims);
    tml_fb_ref name = t->name ? tml_fb_create_cstring(b, t->name) : 0;
    tml_fb_ref quant = ser_quant(b, t);
    tml_fb_start_table(b);
    tml_fb_add_offset(b, TML_F_TENSOR_SHAPE, shape);
    tml_fb_add_u32(b, TML_F_TENSOR_BUFFER, t->buffer, 0);
    tml_fb_add_offset(b, TML_F_TENSOR_NAME, name);
    tml_fb_add_offset(b, TML_F_TENSOR_QUANT, quant);
    tml_fb_add_i8(b, TML_F_TENSOR_TYPE, (int8_t)t->type, 0);
    tml_fb_add_bool(b, TML_F_TENSOR_IS_VARIABLE, t->is_variable, 0);
    return tml_fb_end_table(b);
}

static tml_fb_ref ser_options(tml_fb_builder *b, const tml_tfl_options *o)
{
    tml_fb_ref vec[TML_TFL_MAX_OPT_FIELDS];
    int i;
    /* Vectors first: nothing may be built while a table is open. */
    for (i = 0; i < o->nfields; i++) {
        const tml_tfl_field *f = &o->fields[i];
        vec[i] = 0;
        if (f->kind == TML_TFL_FIELD_I32_VECTOR)
            vec[i] = ser_ints(b, f->ints, f->count);
    }
    tml_fb_start_table(b);
    for (i = 0; i < o->nfields; i++) {
        const tml_tfl_field *f = &o->fields[i];
        switch (f->kind) {
        case TML_TFL_FIELD_I8:
            tml_fb_add_i8(b, f->id, (int8_t)f->i, (int8_t)f->def_i);
            break;
        case TML_TFL_FIELD_BOOL:
            tml_fb_add_bool(b, f->id, f->i, f->def_i);
            break;
        case TML_TFL_FIELD_I32:
            tml_fb_add_i32(b, f->id, f->i, f->def_i);
            break;
        case TML_TFL_FIELD_F32:
            tml_fb_add_f32(b, f->id, f->f, f->def_f);
            break;
        case TML_TFL_FIELD_I32_VECTOR:
            tml_fb_add_offset(b, f->id, vec[i]);
            break;
        default:
            break;
        }
    }
    return tml_fb_end_table(b);
}

static tml_fb_ref ser_op(tml_fb_builder *b, const wr_op *op)
{
    tml_fb_ref in = ser_ints(b, op->inputs, op->ninputs);
    tml_fb_ref out = ser_ints(b, op->outputs, op->noutputs);
    tml_fb_ref opts = op->opts.type ? ser_options(b, &op->opts) : 0;
    tml_fb_ref custom = 0;
    if (op->custom_options_size)
        custom = tml_fb_create_vector(b, op->custom_options, 1,
                                      op->custom_options_size, 0);
    tml_fb_start_table(b);
    tml_fb_add_u32(b, TML_F_OP_OPCODE_INDEX, op->opcode, 0);
    tml_fb_add_offset(b, TML_F_OP_INPUTS, in);
    tml_fb_add_offset(b, TML_F_OP_OUTPUTS, out);
    tml_fb_add_offset(b, TML_F_OP_OPTIONS, opts);
    tml_fb_add_offset(b, TML_F_OP_CUSTOM_OPTIONS, custom);
    tml_fb_add_u8(b, TML_F_OP_OPTIONS_TYPE, op->opts.type, 0);
    return tml_fb_end_table(b);
}

static tml_fb_ref ser_opcode(tml_fb_builder *b, const wr_opcode *c)
{
    /* Codes past 126 only fit builtin_code; the deprecated byte then says
     * PLACEHOLDER_FOR_GREATER_OP_CODES (127), as the schema asks. */
    int32_t dep = c->builtin < TML_PLACEHOLDER_FOR_GREATER_OP_CODES
                      ? c->builtin : TML_PLACEHOLDER_FOR_GREATER_OP_CODES;
    tml_fb_ref custom = c->custom ? tml_fb_create_cstring(b, c->custom) : 0;
    tml_fb_start_table(b);
    tml_fb_add_offset(b, TML_F_OPCODE_CUSTOM, custom);
    tml_fb_add_i32(b, TML_F_OPCODE_VERSION, c->version, 1);
    tml_fb_add_i32(b, TML_F_OPCODE_BUILTIN, c->builtin, 0);
    tml_fb_add_i8(b, TML_F_OPCODE_DEPRECATED_BUILTIN, (int8_t)dep, 0);
    return tml_fb_end_table(b);
}

/* A vector of tables, each made by fn from item i of a. */
typedef tml_fb_ref (*ser_fn)(tml_fb_builder *b, const void *item);

static tml_fb_ref ser_table_vector(tml_tfl_writer *w, const wr_array *a,
                                   size_t item, ser_fn fn)
{
    tml_fb_ref *refs, v;
    size_t i;
    refs = w->alloc.fn(w->alloc.user, NULL, (a->count ? a->count : 1) *
                                                sizeof *refs);
    if (!refs) {
        wr_fail(w, "out of memory");
        return 0;
    }
    for (i = 0; i < a->count; i++)
        refs[i] = fn(&w->fb, (const uint8_t *)a->items + i * item);
    v = tml_fb_create_ref_vector(&w->fb, refs, a->count);
    w->alloc.fn(w->alloc.user, refs, 0);
    return v;
}

static tml_fb_ref ser_buffer_item(tml_fb_builder *b, const void *p)
{
    return ser_buffer(b, p);
}

static tml_fb_ref ser_tensor_item(tml_fb_builder *b, const void *p)
{
    return ser_tensor(b, p);
}

static tml_fb_ref ser_op_item(tml_fb_builder *b, const void *p)
{
    return ser_op(b, p);
}

static tml_fb_ref ser_opcode_item(tml_fb_builder *b, const void *p)
{
    return ser_opcode(b, p);
}

static tml_fb_ref ser_model(tml_tfl_writer *w)
{
    tml_fb_builder *b = &w->fb;
    tml_fb_ref buffers, tensors, ops, inputs, outputs, name, subgraph;
    tml_fb_ref subgraphs, opcodes, desc;
    /* Buffers first, so the (large) constant data ends up at the end of
     * the file, as TFLite's converter lays it out. */
    buffers = ser_table_vector(w, &w->buffers, sizeof(wr_buffer),
                               ser_buffer_item);
    tensors = ser_table_vector(w, &w->tensors, sizeof(wr_tensor),
                               ser_tensor_item);
    ops = ser_table_vector(w, &w->ops, sizeof(wr_op), ser_op_item);
    inputs = ser_ints(b, w->inputs, w->ninputs);
    outputs = ser_ints(b, w->outputs, w->noutputs);
    name = tml_fb_create_cstring(b, w->subgraph_name ? w->subgraph_name
                                                     : "main");
    tml_fb_start_table(b);
    tml_fb_add_offset(b, TML_F_SUBGRAPH_TENSORS, tensors);
    tml_fb_add_offset(b, TML_F_SUBGRAPH_INPUTS, inputs);
    tml_fb_add_offset(b, TML_F_SUBGRAPH_OUTPUTS, outputs);
    tml_fb_add_offset(b, TML_F_SUBGRAPH_OPERATORS, ops);
    tml_fb_add_offset(b, TML_F_SUBGRAPH_NAME, name);
    subgraph = tml_fb_end_table(b);
    subgraphs = tml_fb_create_ref_vector(b, &subgraph, 1);
    opcodes = ser_table_vector(w, &w->opcodes, sizeof(wr_opcode),
                               ser_opcode_item);
    desc = tml_fb_create_cstring(b, w->description ? w->description
                                                   : "tinyml");
    tml_fb_start_table(b);
    tml_fb_add_u32(b, TML_F_MODEL_VERSION, WR_SCHEMA_VERSION, 0);
    tml_fb_add_offset(b, TML_F_MODEL_OPCODES, opcodes);
    tml_fb_add_offset(b, TML_F_MODEL_SUBGRAPHS, subgraphs);
    tml_fb_add_offset(b, TML_F_MODEL_DESCRIPTION, desc);
    tml_fb_add_offset(b, TML_F_MODEL_BUFFERS, buffers);
    return tml_fb_end_table(b);
}

int tml_tfl_finish(tml_tfl_writer *w, const uint8_t **data, size_t *size)
{
    tml_fb_ref root;
    if (!wr_usable(w))
        return -1;
    root = ser_model(w);
    if (w->failed)
        return -1;
    if (tml_fb_finish(&w->fb, root, "TFL3") != 0)
        return wr_fail(w, "flatbuffer: %s", tml_fb_error(&w->fb));
    w->finished = 1;
    *data = tml_fb_data(&w->fb);
    *size = tml_fb_size(&w->fb);
    return 0;
}
