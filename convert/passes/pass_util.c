/* Small graph helpers shared by the passes. */
#include "convert/passes/pass_util.h"

int32_t tml_pass_sole_consumer(const tml_ir_graph *g, int32_t t)
{
    int32_t found = -1;
    for (int32_t i = 0; i < g->nops; i++) {
        const tml_ir_op *op = &g->ops[i];
        if (op->builtin == TML_IR_DEAD)
            continue;
        for (int32_t k = 0; k < op->ninputs; k++) {
            if (op->inputs[k] != t)
                continue;
            if (found >= 0)
                return -1;
            found = i;
        }
    }
    return found;
}

int tml_pass_is_f32_const(const tml_ir_graph *g, int32_t t)
{
    return t >= 0 && t < g->ntensors && g->tensors[t].data != NULL &&
           g->tensors[t].dtype == TML_FLOAT32 && g->tensors[t].quant.count == 0;
}

int tml_pass_same_shape(const tml_ir_tensor *a, const tml_ir_tensor *b)
{
    if (a->ndims != b->ndims)
        return 0;
    for (int32_t d = 0; d < a->ndims; d++) {
        if (a->dims[d] != b->dims[d])
            return 0;
    }
    return 1;
}

int32_t tml_pass_private_const(tml_ir_graph *g, int32_t op, int k)
{
    int32_t t = g->ops[op].inputs[k];
    if (tml_ir_consumer_count(g, t) <= 1 && !tml_pass_is_graph_io(g, t))
        return t;
    /* Copy the shape out: adding a tensor may move g->tensors. */
    tml_ir_tensor src = g->tensors[t];
    int32_t dims[TML_MAX_DIMS];
    for (int32_t d = 0; d < src.ndims; d++)
        dims[d] = src.dims[d];
    int32_t c = tml_ir_add_const(g, src.name, src.dtype, src.ndims, dims,
                                 src.data);
    if (c < 0)
        return -1;
    g->ops[op].inputs[k] = c;
    return c;
}

int tml_pass_is_graph_io(const tml_ir_graph *g, int32_t t)
{
    for (int32_t i = 0; i < g->ninputs; i++) {
        if (g->inputs[i] == t)
            return 1;
    }
    return tml_ir_is_graph_output(g, t);
}
