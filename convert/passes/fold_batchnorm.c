/*
 * fold_batchnorm: BatchNormalization after a conv or dense layer goes into
 * the layer's weights and bias, as TFLite's converter does.
 *
 * The importers emit inference-mode BatchNormalization as
 *     y = x * scale + offset      (MUL, then ADD, per-channel constants)
 * When x is the output of a CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED
 * (no fused activation) that nothing else reads, then
 *     (conv(x, w) + b) * s + o  ==  conv(x, w * s) + (b * s + o)
 * per output channel.  Each MUL / ADD / SUB(x - c) by a per-channel
 * constant is folded on its own, in the order the graph has them, so the
 * rounding is TFLite's: one float32 rounding per multiply and per add (the
 * product of two floats is exact in double, so computing in double and
 * rounding once gives the same float).
 *
 * A BatchNormalization after anything else stays a MUL + ADD pair.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert/passes/pass_util.h"
#include "convert/passes/passes.h"
#include "runtime/kernel.h"

enum { OP_ADD = 0, OP_CONV_2D = 3, OP_DEPTHWISE_CONV_2D = 4,
       OP_FULLY_CONNECTED = 9, OP_MUL = 18, OP_SUB = 41 };

static int is_foldable_producer(const tml_ir_op *op)
{
    return (op->builtin == OP_CONV_2D || op->builtin == OP_DEPTHWISE_CONV_2D ||
            op->builtin == OP_FULLY_CONNECTED) &&
           op->ninputs >= 2 && op->noutputs == 1;
}

/* Channels of the producer's output (its last dimension), or -1. */
static int32_t channels_of(const tml_ir_tensor *t)
{
    return t->ndims >= 1 ? t->dims[t->ndims - 1] : -1;
}

/* A float32 constant of one value, or of `channels` values along the last
 * axis (every other dimension 1), of rank at most `rank`. */
static int is_per_channel(const tml_ir_graph *g, int32_t c, int32_t channels,
                          int32_t rank)
{
    if (!tml_pass_is_f32_const(g, c))
        return 0;
    const tml_ir_tensor *t = &g->tensors[c];
    if (t->ndims > rank)
        return 0;
    for (int32_t d = 0; d + 1 < t->ndims; d++) {
        if (t->dims[d] != 1)
            return 0;
    }
    size_t n = tml_ir_elements(t);
    return n == 1 || n == (size_t)channels;
}

/* Weight element i's output channel in the TFLite layouts: OHWI conv and
 * [out, in] dense filters lead with it, [1, H, W, C*M] depthwise trail. */
static int32_t weight_channel(const tml_ir_op *op, const tml_ir_tensor *w,
                              size_t i, int32_t channels)
{
    if (op->builtin == OP_DEPTHWISE_CONV_2D)
        return (int32_t)(i % (size_t)channels);
    size_t per = tml_ir_elements(w) / (size_t)channels;
    return (int32_t)(i / per);
}

static float param(const tml_ir_tensor *c, int32_t ch)
{
    const float *v = (const float *)c->data;
    return tml_ir_elements(c) == 1 ? v[0] : v[ch];
}

/* Makes sure the op has its own float32 bias of `channels` values
 * (creating zeros when it has none); returns its index or -1. */
static int32_t own_bias(tml_ir_graph *g, int32_t p, int32_t channels)
{
    tml_ir_op *op = &g->ops[p];
    if (op->ninputs >= 3 && op->inputs[2] >= 0) {
        int32_t b = op->inputs[2];
        if (!tml_pass_is_f32_const(g, b) ||
            tml_ir_elements(&g->tensors[b]) != (size_t)channels)
            return -1;
        return tml_pass_private_const(g, p, 2);
    }
    float *zeros = calloc((size_t)channels, sizeof(float));
    if (!zeros)
        return tml_ir_fail(g, "out of memory folding a bias");
    char name[64];
    snprintf(name, sizeof name, "%s/bias", op->origin ? op->origin : "op");
    int32_t b = tml_ir_add_const(g, name, TML_FLOAT32, 1, &channels, zeros);
    free(zeros);
    if (b < 0)
        return -1;
    op = &g->ops[p];
    op->inputs[2] = b;
    if (op->ninputs < 3)
        op->ninputs = 3;
    return b;
}

/* w *= s and b *= s per channel. */
static int fold_scale(tml_ir_graph *g, int32_t p, int32_t c, int32_t channels)
{
    int32_t wi = tml_pass_private_const(g, p, 1);
    if (wi < 0)
        return -1;
    int32_t bi = own_bias(g, p, channels);
    if (bi < 0)
        return -1;
    const tml_ir_tensor *s = &g->tensors[c];
    tml_ir_tensor *w = &g->tensors[wi];
    float *wv = (float *)w->data;
    size_t n = tml_ir_elements(w);
    for (size_t i = 0; i < n; i++) {
        int32_t ch = weight_channel(&g->ops[p], w, i, channels);
        wv[i] = (float)((double)wv[i] * (double)param(s, ch));
    }
    float *bv = (float *)g->tensors[bi].data;
    for (int32_t ch = 0; ch < channels; ch++)
        bv[ch] = (float)((double)bv[ch] * (double)param(s, ch));
    return 0;
}

/* b += sign * o per channel. */
static int fold_offset(tml_ir_graph *g, int32_t p, int32_t c,
                       int32_t channels, double sign)
{
    int32_t bi = own_bias(g, p, channels);
    if (bi < 0)
        return -1;
    const tml_ir_tensor *o = &g->tensors[c];
    float *bv = (float *)g->tensors[bi].data;
    for (int32_t ch = 0; ch < channels; ch++)
        bv[ch] = (float)((double)bv[ch] + sign * (double)param(o, ch));
    return 0;
}

/* The per-channel constant operand of consumer op q reading t, or -1.
 * *sign: -1 for SUB (t - c); SUB with t second is not a fold. */
static int32_t folding_operand(const tml_ir_graph *g, const tml_ir_op *q,
                               int32_t t, int32_t channels, int32_t rank,
                               double *sign)
{
    if ((q->builtin != OP_MUL && q->builtin != OP_ADD &&
         q->builtin != OP_SUB) || q->ninputs != 2 || q->noutputs != 1)
        return -1;
    if (!tml_pass_same_shape(&g->tensors[q->outputs[0]], &g->tensors[t]))
        return -1;   /* the constant would broadcast the output bigger */
    int k = q->inputs[0] == t ? 1 : 0;
    if (q->inputs[1 - k] != t || q->inputs[k] == t)
        return -1;
    if (q->builtin == OP_SUB && k != 1)
        return -1;
    *sign = q->builtin == OP_SUB ? -1.0 : 1.0;
    return is_per_channel(g, q->inputs[k], channels, rank) ? q->inputs[k]
                                                           : -1;
}

/* Folds what follows producer p, one op at a time; returns how many ops
 * were folded, or -1. */
static int fold_after(tml_ir_graph *g, int32_t p)
{
    int folded = 0;
    for (;;) {
        tml_ir_op *op = &g->ops[p];
        int32_t t = op->outputs[0];
        if (op->attrs.activation != TML_ACT_NONE ||
            !tml_pass_is_f32_const(g, op->inputs[1]) ||
            tml_pass_is_graph_io(g, t))
            return folded;
        int32_t qi = tml_pass_sole_consumer(g, t);
        if (qi < 0)
            return folded;
        const tml_ir_tensor *out = &g->tensors[t];
        int32_t channels = channels_of(out);
        double sign = 1.0;
        int32_t c = folding_operand(g, &g->ops[qi], t, channels, out->ndims,
                                    &sign);
        if (c < 0 || channels <= 0)
            return folded;
        int rc = g->ops[qi].builtin == OP_MUL
                     ? fold_scale(g, p, c, channels)
                     : fold_offset(g, p, c, channels, sign);
        if (rc < 0)
            return g->error[0] ? -1 : folded;  /* unusable bias: stop */
        tml_ir_op *q = &g->ops[qi];
        g->ops[p].outputs[0] = q->outputs[0];
        g->ops[p].attrs.activation = q->attrs.activation;
        q->builtin = TML_IR_DEAD;
        folded++;
    }
}

int tml_pass_fold_batchnorm(tml_ir_graph *g)
{
    g->error[0] = '\0';
    for (int32_t i = 0; i < g->nops; i++) {
        if (g->ops[i].builtin == TML_IR_DEAD ||
            !is_foldable_producer(&g->ops[i]))
            continue;
        if (fold_after(g, i) < 0)
            return -1;
    }
    return tml_ir_compact(g);
}
