/* IR -> TFLite bytes; see ir_export.h for the contract. */
#include "convert/export/ir_export.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert/export/tflite_writer.h"
#include "runtime/kernel.h"

/* TFLite builtin operator codes the exporter treats specially. */
enum {
    OP_ADD = 0, OP_AVERAGE_POOL_2D = 1, OP_CONCATENATION = 2, OP_CONV_2D = 3,
    OP_DEPTHWISE_CONV_2D = 4, OP_DEQUANTIZE = 6, OP_FULLY_CONNECTED = 9,
    OP_L2_POOL_2D = 12, OP_LOGISTIC = 14, OP_MAX_POOL_2D = 17, OP_MUL = 18,
    OP_RELU = 19, OP_RELU6 = 21, OP_RESHAPE = 22, OP_SOFTMAX = 25,
    OP_TANH = 28, OP_PAD = 34, OP_TRANSPOSE = 39, OP_MEAN = 40, OP_SUB = 41,
    OP_SQUEEZE = 43, OP_STRIDED_SLICE = 45, OP_SUM = 74, OP_REDUCE_MAX = 82,
    OP_LEAKY_RELU = 98, OP_QUANTIZE = 114, OP_HARD_SWISH = 117
};

/* Tensors longer than this keep only their first characters: the issue
 * wants short names (TFLite's long ';'-joined names cost kilobytes). */
#define MAX_NAME 64

static int fail(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    if (err && n) {
        va_start(ap, fmt);
        vsnprintf(err, n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- operator versions (TFLite's op_version rules for our ops) ---- */

static const tml_ir_tensor *in_tensor(const tml_ir_graph *g,
                                      const tml_ir_op *op, int k)
{
    if (k >= op->ninputs || op->inputs[k] < 0 || op->inputs[k] >= g->ntensors)
        return NULL;
    return &g->tensors[op->inputs[k]];
}

static int dtype_of(const tml_ir_tensor *t)
{
    return t ? (int)t->dtype : -1;
}

static int per_channel(const tml_ir_tensor *t)
{
    return t && t->quant.count > 1;
}

static int32_t conv_version(const tml_ir_graph *g, const tml_ir_op *op,
                            int in, int w, int out)
{
    const tml_ir_tensor *x = in_tensor(g, op, 0), *f = in_tensor(g, op, 1);
    /* Grouped convolution: the filter sees fewer channels than the input. */
    if (x && f && x->ndims == 4 && f->ndims == 4 && f->dims[3] > 0 &&
        x->dims[3] != f->dims[3])
        return 6;
    if (in == TML_INT16 && w == TML_INT8 && out == TML_INT16)
        return 4;
    if (in == TML_INT8 && w == TML_INT8 && out == TML_INT8)
        return 3;
    if (in == TML_FLOAT32 && w == TML_INT8 && out == TML_FLOAT32)
        return per_channel(f) ? 5 : 2;   /* hybrid */
    return 1;
}

static int32_t depthwise_version(const tml_ir_graph *g, const tml_ir_op *op,
                                 int in, int w, int out)
{
    if (in == TML_INT16 && w == TML_INT8 && out == TML_INT16)
        return 5;
    if (in == TML_FLOAT32 && w == TML_INT8 && out == TML_FLOAT32)
        return per_channel(in_tensor(g, op, 1)) ? 6 : 4;
    if (in == TML_INT8 && w == TML_INT8 && out == TML_INT8)
        return 3;
    if (op->attrs.dilation_w != 1 || op->attrs.dilation_h != 1)
        return 2;
    return 1;
}

static int32_t fully_connected_version(const tml_ir_graph *g,
                                       const tml_ir_op *op, int in, int w,
                                       int out)
{
    if (in == TML_FLOAT32 && w == TML_INT8 && out == TML_FLOAT32 &&
        per_channel(in_tensor(g, op, 1)))
        return 12;
    if (in == TML_INT16 && w == TML_INT16 && out == TML_INT16)
        return 7;
    if (op->ninputs == 2)
        return 6;        /* no bias input at all */
    if (op->attrs.keep_dims)
        return 5;
    if (in == TML_INT8 && w == TML_INT8 && out == TML_INT8)
        return 4;
    if (in == TML_FLOAT32 && w == TML_INT8 && out == TML_FLOAT32)
        return 3;        /* hybrid */
    return 1;
}

/* MUL version 3: a rescale input1_scale * input2_scale / output_scale of
 * at least 1. */
static int32_t mul_version(const tml_ir_graph *g, const tml_ir_op *op,
                           int in)
{
    const tml_ir_tensor *a = in_tensor(g, op, 0), *b = in_tensor(g, op, 1);
    const tml_ir_tensor *o = &g->tensors[op->outputs[0]];
    if (in == TML_INT16)
        return 4;
    if (a && b && a->quant.count && b->quant.count && o->quant.count &&
        a->quant.scales[0] != 0.0f && b->quant.scales[0] != 0.0f &&
        o->quant.scales[0] != 0.0f &&
        (double)a->quant.scales[0] * b->quant.scales[0] /
                o->quant.scales[0] >= 1.0)
        return 3;
    return in == TML_INT8 ? 2 : 1;
}

static int32_t sub_version(const tml_ir_graph *g, const tml_ir_op *op, int in)
{
    const tml_ir_tensor *a = in_tensor(g, op, 0), *b = in_tensor(g, op, 1);
    if (in == TML_INT64)
        return 4;
    if (a && b) {
        int same = a->ndims == b->ndims;
        for (int32_t d = 0; same && d < a->ndims; d++)
            same = a->dims[d] == b->dims[d];
        if (!same && (a->ndims > 4 || b->ndims > 4))
            return 3;
    }
    return in == TML_INT8 ? 2 : 1;
}

/* int16 -> v3, int8 -> v2, else v1: SOFTMAX, MEAN, RELU6, TANH, LOGISTIC,
 * CONCATENATION, pools, RELU (RELU also counts uint8). */
static int32_t int16_3_int8_2(int in)
{
    if (in == TML_INT16)
        return 3;
    return in == TML_INT8 ? 2 : 1;
}

int32_t tml_ir_op_version(const tml_ir_graph *g, const tml_ir_op *op)
{
    const tml_ir_tensor *x = in_tensor(g, op, 0);
    const tml_ir_tensor *o = op->noutputs > 0 ? &g->tensors[op->outputs[0]]
                                              : NULL;
    int in = dtype_of(x), w = dtype_of(in_tensor(g, op, 1));
    int out = dtype_of(o);
    int rank = x ? x->ndims : 0;
    switch (op->builtin) {
    case OP_CONV_2D:
        return conv_version(g, op, in, w, out);
    case OP_DEPTHWISE_CONV_2D:
        return depthwise_version(g, op, in, w, out);
    case OP_FULLY_CONNECTED:
        return fully_connected_version(g, op, in, w, out);
    case OP_MUL:
        return mul_version(g, op, in);
    case OP_SUB:
        return sub_version(g, op, in);
    case OP_ADD:
        if (in == TML_INT64)
            return 4;
        return in == TML_INT8 ? 2 : 1;
    case OP_AVERAGE_POOL_2D:
    case OP_MAX_POOL_2D:
    case OP_SOFTMAX:
    case OP_MEAN:
    case OP_RELU6:
    case OP_TANH:
    case OP_LOGISTIC:
    case OP_CONCATENATION:
    case OP_REDUCE_MAX:
        return int16_3_int8_2(in);
    case OP_RELU:
        if (in == TML_UINT8)
            return 2;
        return int16_3_int8_2(in);
    case OP_TRANSPOSE:
        if (rank > 5)
            return 6;
        if (in == TML_INT16)
            return 5;
        if (rank > 4)
            return 4;
        if (in == TML_BOOL)
            return 3;
        return in == TML_INT8 ? 2 : 1;
    case OP_PAD:
        if (rank > 4)
            return 4;
        return int16_3_int8_2(in);
    case OP_STRIDED_SLICE:
        if (rank > 4)
            return 4;
        if (in == TML_BOOL)
            return 3;
        return in == TML_INT8 ? 2 : 1;
    case OP_DEQUANTIZE:
        if (in == TML_INT16 || in == TML_FLOAT16)
            return 3;
        if (in == TML_INT8)
            return per_channel(x) ? 5 : 2;
        return 1;
    case OP_QUANTIZE:
        if (per_channel(o))
            return 3;
        return out == TML_INT16 ? 2 : 1;
    case OP_LEAKY_RELU:
        return in == TML_INT16 ? 2 : 1;
    case OP_SUM:
        return in == TML_INT8 ? 2 : 1;
    default:
        return 1;
    }
}

/* ---- builtin options from the IR attributes ---- */

static tml_tfl_options reshape_options(const tml_ir_graph *g,
                                       const tml_ir_op *op)
{
    /* TFLite's converter passes the shape as a constant input 1 and writes
     * no options; with a single input, full TFLite reads new_shape. */
    if (op->ninputs >= 2 && op->inputs[1] >= 0)
        return tml_tfl_empty_options(0);
    if (op->attrs.nshape > 0)
        return tml_tfl_reshape_options(op->attrs.shape, op->attrs.nshape);
    const tml_ir_tensor *o = &g->tensors[op->outputs[0]];
    return tml_tfl_reshape_options(o->dims, o->ndims);
}

static tml_tfl_options op_options(const tml_ir_graph *g, const tml_ir_op *op)
{
    const tml_ir_attrs *a = &op->attrs;
    switch (op->builtin) {
    case OP_CONV_2D:
        return tml_tfl_conv2d_options(a->padding, a->stride_w, a->stride_h,
                                      a->activation, a->dilation_w,
                                      a->dilation_h);
    case OP_DEPTHWISE_CONV_2D:
        return tml_tfl_depthwise_options(a->padding, a->stride_w,
                                         a->stride_h, a->depth_multiplier,
                                         a->activation, a->dilation_w,
                                         a->dilation_h);
    case OP_FULLY_CONNECTED:
        return tml_tfl_fully_connected_options(a->activation, a->keep_dims);
    case OP_AVERAGE_POOL_2D:
    case OP_MAX_POOL_2D:
    case OP_L2_POOL_2D:
        return tml_tfl_pool2d_options(a->padding, a->stride_w, a->stride_h,
                                      a->filter_w, a->filter_h,
                                      a->activation);
    case OP_SOFTMAX:
        return tml_tfl_softmax_options(a->beta);
    case OP_CONCATENATION:
        return tml_tfl_concatenation_options(a->axis, a->activation);
    case OP_ADD:
        return tml_tfl_add_options(a->activation);
    case OP_SUB:
        return tml_tfl_sub_options(a->activation);
    case OP_MUL:
        return tml_tfl_mul_options(a->activation);
    case OP_RESHAPE:
        return reshape_options(g, op);
    case OP_MEAN:
    case OP_SUM:
    case OP_REDUCE_MAX:
        return tml_tfl_reducer_options(a->keep_dims);
    case OP_SQUEEZE:
        return tml_tfl_squeeze_options(a->shape, a->nshape);
    case OP_STRIDED_SLICE:
        return tml_tfl_strided_slice_options(0, 0, 0, 0, 0, 0);
    case OP_LEAKY_RELU:
        return tml_tfl_leaky_relu_options(a->alpha);
    case OP_PAD:
        return tml_tfl_empty_options(TML_OPT_PAD);
    case OP_TRANSPOSE:
        return tml_tfl_empty_options(TML_OPT_TRANSPOSE);
    case OP_QUANTIZE:
        return tml_tfl_empty_options(TML_OPT_QUANTIZE);
    case OP_DEQUANTIZE:
        return tml_tfl_empty_options(TML_OPT_DEQUANTIZE);
    case OP_HARD_SWISH:
        return tml_tfl_empty_options(TML_OPT_HARD_SWISH);
    default:
        return tml_tfl_empty_options(0);   /* RELU, LOGISTIC, TANH, ... */
    }
}

/* ---- the model ---- */

static int add_tensor(tml_tfl_writer *w, const tml_ir_tensor *t)
{
    char name[MAX_NAME + 1];
    size_t len = strlen(t->name);
    if (len > MAX_NAME)
        len = MAX_NAME;
    memcpy(name, t->name, len);
    name[len] = '\0';
    tml_tfl_tensor d;
    memset(&d, 0, sizeof d);
    d.name = name;
    d.type = (int32_t)t->dtype;
    d.ndims = t->ndims;
    d.dims = t->dims;
    d.quant.count = t->quant.count;
    d.quant.scales = t->quant.scales;
    d.quant.zero_points = t->quant.zero_points;
    d.quant.quantized_dimension = t->quant.count > 1 ? t->quant.dim : 0;
    if (t->data)
        return tml_tfl_add_const_tensor(w, &d, t->data, t->bytes);
    return tml_tfl_add_tensor(w, &d);
}

static int add_op(tml_tfl_writer *w, const tml_ir_graph *g,
                  const tml_ir_op *op)
{
    int32_t version = op->version > 0 ? op->version : tml_ir_op_version(g, op);
    tml_tfl_options o = op_options(g, op);
    return tml_tfl_add_op(w, op->builtin, version, op->inputs, op->ninputs,
                          op->outputs, op->noutputs,
                          o.type == 0 && o.nfields == 0 ? NULL : &o) < 0
               ? -1
               : 0;
}

static int build(tml_tfl_writer *w, const tml_ir_graph *g, char *err,
                 size_t n)
{
    for (int32_t i = 0; i < g->ntensors; i++) {
        int32_t k = add_tensor(w, &g->tensors[i]);
        if (k < 0)
            return fail(err, n, "export: tensor %d '%s': %s", (int)i,
                        g->tensors[i].name, tml_tfl_error(w));
        if (k != i)   /* the index contract (calibration relies on it) */
            return fail(err, n, "export: tensor %d '%s' was written as %d",
                        (int)i, g->tensors[i].name, (int)k);
    }
    for (int32_t i = 0; i < g->nops; i++) {
        const tml_ir_op *op = &g->ops[i];
        if (op->builtin == TML_IR_DEAD)
            continue;
        if (add_op(w, g, op) < 0)
            return fail(err, n, "export: op %d %s (%s): %s", (int)i,
                        tml_op_name(op->builtin),
                        op->origin ? op->origin : "?", tml_tfl_error(w));
    }
    if (tml_tfl_set_inputs(w, g->inputs, g->ninputs) < 0 ||
        tml_tfl_set_outputs(w, g->outputs, g->noutputs) < 0 ||
        tml_tfl_set_description(w, "tinyml") < 0)
        return fail(err, n, "export: %s", tml_tfl_error(w));
    return 0;
}

int tml_ir_export_tflite(const tml_ir_graph *g, uint8_t **out, size_t *size,
                         char *err, size_t err_size)
{
    *out = NULL;
    *size = 0;
    if (g->ninputs == 0 || g->noutputs == 0)
        return fail(err, err_size, "export: the graph has %d inputs and %d "
                    "outputs (needs at least one of each)", (int)g->ninputs,
                    (int)g->noutputs);
    tml_tfl_writer *w = tml_tfl_writer_new(NULL);
    if (!w)
        return fail(err, err_size, "export: out of memory");
    const uint8_t *bytes = NULL;
    size_t n = 0;
    int rc = build(w, g, err, err_size);
    if (rc == 0 && tml_tfl_finish(w, &bytes, &n) != 0)
        rc = fail(err, err_size, "export: %s", tml_tfl_error(w));
    if (rc == 0) {
        *out = malloc(n ? n : 1);
        if (!*out)
            rc = fail(err, err_size, "export: out of memory for %zu bytes", n);
        else
            memcpy(*out, bytes, n);
        *size = *out ? n : 0;
    }
    tml_tfl_writer_free(w);
    return rc;
}
