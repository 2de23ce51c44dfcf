/*
 * fold_constants: an op whose inputs are all constants is computed now and
 * its output becomes a constant (the op goes).  Evaluated:
 *   - RESHAPE, SQUEEZE: the same bytes with the output's shape;
 *   - TRANSPOSE: by its constant permutation;
 *   - float32 ADD, SUB, MUL: with numpy broadcasting and the fused
 *     activation, in float32 as TFLite's kernels compute them.
 * Other ops are left alone, and so are outputs that are graph outputs (a
 * model's output must be computed by an op).  QUANTIZE / DEQUANTIZE are
 * never folded: a float16 or int8 constant feeding DEQUANTIZE is how a
 * quantized model stores its weights.
 */
#include <stdlib.h>
#include <string.h>

#include "convert/passes/pass_util.h"
#include "convert/passes/passes.h"
#include "runtime/kernel.h"

enum { OP_ADD = 0, OP_MUL = 18, OP_RESHAPE = 22, OP_TRANSPOSE = 39,
       OP_SUB = 41, OP_SQUEEZE = 43 };

static int all_inputs_const(const tml_ir_graph *g, const tml_ir_op *op)
{
    if (op->ninputs < 1 || op->noutputs != 1)
        return 0;
    for (int32_t k = 0; k < op->ninputs; k++) {
        if (op->inputs[k] >= 0 && g->tensors[op->inputs[k]].data == NULL)
            return 0;
    }
    return op->inputs[0] >= 0;
}

/* Row-major strides of a shape. */
static void strides_of(const int32_t *dims, int32_t ndims, size_t *strides)
{
    size_t s = 1;
    for (int32_t d = ndims - 1; d >= 0; d--) {
        strides[d] = s;
        s *= (size_t)dims[d];
    }
}

/* Element offset in `t` (broadcast to out's rank) of the output element
 * with coordinates idx. */
static size_t broadcast_offset(const tml_ir_tensor *t, int32_t out_rank,
                               const int32_t *idx)
{
    size_t strides[TML_MAX_DIMS];
    strides_of(t->dims, t->ndims, strides);
    size_t off = 0;
    int32_t shift = out_rank - t->ndims;
    for (int32_t d = 0; d < t->ndims; d++) {
        if (t->dims[d] != 1)
            off += (size_t)idx[d + shift] * strides[d];
    }
    return off;
}

static int broadcastable(const tml_ir_tensor *a, const tml_ir_tensor *out)
{
    if (a->ndims > out->ndims)
        return 0;
    int32_t shift = out->ndims - a->ndims;
    for (int32_t d = 0; d < a->ndims; d++) {
        if (a->dims[d] != 1 && a->dims[d] != out->dims[d + shift])
            return 0;
    }
    return 1;
}

static float activate(float v, int act)
{
    switch (act) {
    case TML_ACT_RELU:
        return v < 0.0f ? 0.0f : v;
    case TML_ACT_RELU6:
        return v < 0.0f ? 0.0f : v > 6.0f ? 6.0f : v;
    case TML_ACT_RELU_N1_TO_1:
        return v < -1.0f ? -1.0f : v > 1.0f ? 1.0f : v;
    default:
        return v;
    }
}

/* Next coordinates in row-major order. */
static void advance(int32_t *idx, const int32_t *dims, int32_t rank)
{
    for (int32_t d = rank - 1; d >= 0; d--) {
        if (++idx[d] < dims[d])
            return;
        idx[d] = 0;
    }
}

/* float32 a (op) b into out (n elements); 0, or 1 when not foldable. */
static int eval_binary(const tml_ir_graph *g, const tml_ir_op *op, float *out)
{
    const tml_ir_tensor *a = &g->tensors[op->inputs[0]];
    const tml_ir_tensor *b = &g->tensors[op->inputs[1]];
    const tml_ir_tensor *o = &g->tensors[op->outputs[0]];
    if (a->dtype != TML_FLOAT32 || b->dtype != TML_FLOAT32 ||
        o->dtype != TML_FLOAT32 || !broadcastable(a, o) ||
        !broadcastable(b, o) || op->attrs.activation > TML_ACT_RELU6)
        return 1;
    const float *av = (const float *)a->data, *bv = (const float *)b->data;
    int32_t idx[TML_MAX_DIMS] = { 0 };
    size_t n = tml_ir_elements(o);
    for (size_t i = 0; i < n; i++) {
        float x = av[broadcast_offset(a, o->ndims, idx)];
        float y = bv[broadcast_offset(b, o->ndims, idx)];
        float r = op->builtin == OP_ADD ? x + y
                  : op->builtin == OP_SUB ? x - y
                                          : x * y;
        out[i] = activate(r, op->attrs.activation);
        advance(idx, o->dims, o->ndims);
    }
    return 0;
}

/* TRANSPOSE: out[idx] = in[idx permuted back]. */
static int eval_transpose(const tml_ir_graph *g, const tml_ir_op *op,
                          uint8_t *out)
{
    const tml_ir_tensor *in = &g->tensors[op->inputs[0]];
    const tml_ir_tensor *o = &g->tensors[op->outputs[0]];
    if (op->ninputs != 2 || op->inputs[1] < 0)
        return 1;
    const tml_ir_tensor *p = &g->tensors[op->inputs[1]];
    if (p->dtype != TML_INT32 || tml_ir_elements(p) != (size_t)in->ndims ||
        o->ndims != in->ndims)
        return 1;
    const int32_t *perm = (const int32_t *)p->data;
    for (int32_t d = 0; d < o->ndims; d++) {
        if (perm[d] < 0 || perm[d] >= in->ndims ||
            o->dims[d] != in->dims[perm[d]])
            return 1;
    }
    size_t es = tml_dtype_size(in->dtype);
    size_t strides[TML_MAX_DIMS];
    strides_of(in->dims, in->ndims, strides);
    int32_t idx[TML_MAX_DIMS] = { 0 };
    size_t n = tml_ir_elements(o);
    for (size_t i = 0; i < n; i++) {
        size_t src = 0;
        for (int32_t d = 0; d < o->ndims; d++)
            src += (size_t)idx[d] * strides[perm[d]];
        memcpy(out + i * es, (const uint8_t *)in->data + src * es, es);
        advance(idx, o->dims, o->ndims);
    }
    return 0;
}

/* Computes op i's output into a new buffer; 0 done, 1 not foldable, -1. */
static int fold_op(tml_ir_graph *g, int32_t i)
{
    const tml_ir_op *op = &g->ops[i];
    int32_t t = op->outputs[0];
    const tml_ir_tensor *in = &g->tensors[op->inputs[0]];
    const tml_ir_tensor *o = &g->tensors[t];
    if (in->quant.count || o->quant.count || tml_pass_is_graph_io(g, t))
        return 1;
    size_t bytes = tml_ir_elements(o) * tml_dtype_size(o->dtype);
    uint8_t *buf = malloc(bytes ? bytes : 1);
    if (!buf)
        return tml_ir_fail(g, "out of memory folding constants");
    int rc = 1;
    switch (op->builtin) {
    case OP_RESHAPE:
    case OP_SQUEEZE:
        if (in->dtype == o->dtype && in->bytes == bytes) {
            memcpy(buf, in->data, bytes);
            rc = 0;
        }
        break;
    case OP_TRANSPOSE:
        rc = in->dtype == o->dtype ? eval_transpose(g, op, buf) : 1;
        break;
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
        rc = op->ninputs == 2 && op->inputs[1] >= 0
                 ? eval_binary(g, op, (float *)buf)
                 : 1;
        break;
    default:
        break;
    }
    if (rc == 0) {
        rc = tml_ir_set_data(g, t, g->tensors[t].dtype, buf);
        if (rc == 0)
            g->ops[i].builtin = TML_IR_DEAD;
    }
    free(buf);
    return rc;
}

int tml_pass_fold_constants(tml_ir_graph *g)
{
    /* Ops are in execution order, so one sweep folds whole chains. */
    for (int32_t i = 0; i < g->nops; i++) {
        if (g->ops[i].builtin == TML_IR_DEAD || !all_inputs_const(g, &g->ops[i]))
            continue;
        if (fold_op(g, i) < 0)
            return -1;
    }
    return tml_ir_compact(g);
}
