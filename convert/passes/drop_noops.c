/*
 * drop_noops: ops that pass their input through unchanged disappear.
 *   - RESHAPE and SQUEEZE whose output has the input's shape;
 *   - TRANSPOSE by the identity permutation (a constant perm 0, 1, ...);
 *   - PAD by constant all-zero paddings;
 *   - float MUL by a constant 1 and ADD / SUB of a constant 0, with no
 *     fused activation, when the output has the other operand's shape.
 * Readers of the output then read the input.  When the output is a graph
 * output, the op producing the input writes the output instead (if that
 * input has no other reader and is not a graph input); otherwise the op
 * stays.
 */
#include <string.h>

#include "convert/passes/pass_util.h"
#include "convert/passes/passes.h"
#include "runtime/kernel.h"

enum { OP_ADD = 0, OP_MUL = 18, OP_RESHAPE = 22, OP_PAD = 34,
       OP_TRANSPOSE = 39, OP_SUB = 41, OP_SQUEEZE = 43 };

static int all_int32(const tml_ir_tensor *t, int identity)
{
    const int32_t *v = (const int32_t *)t->data;
    size_t n = tml_ir_elements(t);
    for (size_t i = 0; i < n; i++) {
        int32_t want = identity ? (int32_t)i : 0;
        if (v[i] != want)
            return 0;
    }
    return 1;
}

static int is_const_i32(const tml_ir_graph *g, int32_t t)
{
    return t >= 0 && g->tensors[t].data && g->tensors[t].dtype == TML_INT32;
}

static int all_f32(const tml_ir_tensor *t, float value)
{
    const float *v = (const float *)t->data;
    size_t n = tml_ir_elements(t);
    for (size_t i = 0; i < n; i++) {
        if (v[i] != value)
            return 0;
    }
    return 1;
}

/* For an identity binary op: the index of the passed-through input, or -1. */
static int identity_operand(const tml_ir_graph *g, const tml_ir_op *op)
{
    if (op->ninputs != 2 || op->attrs.activation != TML_ACT_NONE)
        return -1;
    const tml_ir_tensor *out = &g->tensors[op->outputs[0]];
    if (out->dtype != TML_FLOAT32 || out->quant.count)
        return -1;
    float neutral = op->builtin == OP_MUL ? 1.0f : 0.0f;
    for (int k = 0; k < 2; k++) {
        int32_t c = op->inputs[1 - k];
        if (op->builtin == OP_SUB && k == 1)
            break;   /* 0 - x is not x */
        if (tml_pass_is_f32_const(g, c) && all_f32(&g->tensors[c], neutral) &&
            tml_pass_same_shape(&g->tensors[op->inputs[k]], out))
            return k;
    }
    return -1;
}

/* The input index an op passes through unchanged, or -1. */
static int passthrough_input(const tml_ir_graph *g, const tml_ir_op *op)
{
    if (op->noutputs != 1 || op->ninputs < 1 || op->inputs[0] < 0)
        return -1;
    const tml_ir_tensor *in = &g->tensors[op->inputs[0]];
    const tml_ir_tensor *out = &g->tensors[op->outputs[0]];
    switch (op->builtin) {
    case OP_RESHAPE:
    case OP_SQUEEZE:
        return tml_pass_same_shape(in, out) ? 0 : -1;
    case OP_TRANSPOSE:
        return op->ninputs == 2 && is_const_i32(g, op->inputs[1]) &&
                       all_int32(&g->tensors[op->inputs[1]], 1) &&
                       tml_pass_same_shape(in, out)
                   ? 0
                   : -1;
    case OP_PAD:
        return op->ninputs == 2 && is_const_i32(g, op->inputs[1]) &&
                       all_int32(&g->tensors[op->inputs[1]], 0) &&
                       tml_pass_same_shape(in, out)
                   ? 0
                   : -1;
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
        return identity_operand(g, op);
    default:
        return -1;
    }
}

/* Removes op i passing input k through; 1 when removed, 0 when kept. */
static int bypass(tml_ir_graph *g, int32_t i, int k)
{
    tml_ir_op *op = &g->ops[i];
    int32_t in = op->inputs[k], out = op->outputs[0];
    const tml_ir_tensor *ti = &g->tensors[in], *to = &g->tensors[out];
    if (ti->dtype != to->dtype || ti->quant.count != to->quant.count)
        return 0;
    if (!tml_ir_is_graph_output(g, out)) {
        op->builtin = TML_IR_DEAD;
        tml_ir_replace_uses(g, out, in);
        return 1;
    }
    /* A graph output keeps its tensor: the producer of the input writes it
     * directly, when nothing else needs the input. */
    int32_t p = tml_ir_producer(g, in);
    if (p < 0 || tml_pass_is_graph_io(g, in) ||
        tml_pass_sole_consumer(g, in) != i)
        return 0;
    for (int32_t m = 0; m < g->ops[p].noutputs; m++) {
        if (g->ops[p].outputs[m] == in)
            g->ops[p].outputs[m] = out;
    }
    op->builtin = TML_IR_DEAD;
    return 1;
}

int tml_pass_drop_noops(tml_ir_graph *g)
{
    for (int32_t i = 0; i < g->nops; i++) {
        if (g->ops[i].builtin == TML_IR_DEAD)
            continue;
        int k = passthrough_input(g, &g->ops[i]);
        if (k >= 0)
            bypass(g, i, k);
    }
    return tml_ir_compact(g);
}
