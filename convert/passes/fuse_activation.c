/*
 * fuse_activation: a RELU, RELU6 or RELU_N1_TO_1 right after an op with a
 * fused_activation_function field becomes that field, as TFLite's
 * converter does (TFLite fuses only these three clamps; TANH stays an op).
 *
 * Producers: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD, SUB, MUL,
 * AVERAGE_POOL_2D, MAX_POOL_2D.  CONCATENATION has the field too, but
 * TFLite Micro (and our runtime, bit-exact with it) refuses a fused
 * activation there, so it keeps its RELU op.
 * The producer's output must have no other reader and not be a graph
 * output, and the producer must have no activation yet.
 */
#include "convert/passes/pass_util.h"
#include "convert/passes/passes.h"
#include "runtime/kernel.h"

enum { OP_ADD = 0, OP_AVERAGE_POOL_2D = 1, OP_CONV_2D = 3,
       OP_DEPTHWISE_CONV_2D = 4, OP_FULLY_CONNECTED = 9, OP_MAX_POOL_2D = 17,
       OP_MUL = 18, OP_RELU = 19, OP_RELU_N1_TO_1 = 20, OP_RELU6 = 21,
       OP_SUB = 41 };

static int activation_of(int32_t builtin)
{
    switch (builtin) {
    case OP_RELU:
        return TML_ACT_RELU;
    case OP_RELU6:
        return TML_ACT_RELU6;
    case OP_RELU_N1_TO_1:
        return TML_ACT_RELU_N1_TO_1;
    default:
        return -1;
    }
}

static int has_activation_field(int32_t builtin)
{
    switch (builtin) {
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
    case OP_CONV_2D:
    case OP_DEPTHWISE_CONV_2D:
    case OP_FULLY_CONNECTED:
    case OP_AVERAGE_POOL_2D:
    case OP_MAX_POOL_2D:
        return 1;
    default:
        return 0;
    }
}

int tml_pass_fuse_activation(tml_ir_graph *g)
{
    for (int32_t i = 0; i < g->nops; i++) {
        tml_ir_op *act = &g->ops[i];
        int a = activation_of(act->builtin);
        if (a < 0 || act->ninputs != 1 || act->noutputs != 1)
            continue;
        int32_t t = act->inputs[0];
        int32_t p = tml_ir_producer(g, t);
        if (p < 0 || tml_pass_is_graph_io(g, t) ||
            tml_pass_sole_consumer(g, t) != i)
            continue;
        tml_ir_op *prod = &g->ops[p];
        if (!has_activation_field(prod->builtin) || prod->noutputs != 1 ||
            prod->attrs.activation != TML_ACT_NONE)
            continue;
        /* The clamp's output dtype is the producer's; a quantized
         * intermediate would take the clamp's scale, so only float (not yet
         * quantized) graphs fuse. */
        if (g->tensors[act->outputs[0]].dtype != g->tensors[t].dtype ||
            g->tensors[t].quant.count != 0)
            continue;
        prod->attrs.activation = a;
        prod->outputs[0] = act->outputs[0];
        act->builtin = TML_IR_DEAD;
    }
    return tml_ir_compact(g);
}
