/* The converter's graph IR; see ir.h for the contracts. */
#include "convert/ir/ir.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_str(const char *s)
{
    size_t n = strlen(s ? s : "") + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s ? s : "", n);
    return p;
}

int tml_ir_fail(tml_ir_graph *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->error, sizeof g->error, fmt, ap);
    va_end(ap);
    return -1;
}

tml_ir_graph *tml_ir_new(void)
{
    return calloc(1, sizeof(tml_ir_graph));
}

static void free_tensor(tml_ir_tensor *t)
{
    free(t->name);
    free(t->data);
    free(t->quant.scales);
    free(t->quant.zero_points);
}

void tml_ir_free(tml_ir_graph *g)
{
    if (!g)
        return;
    for (int32_t i = 0; i < g->ntensors; i++)
        free_tensor(&g->tensors[i]);
    for (int32_t i = 0; i < g->nops; i++)
        free(g->ops[i].origin);
    free(g->tensors);
    free(g->ops);
    free(g);
}

tml_ir_attrs tml_ir_default_attrs(void)
{
    tml_ir_attrs a;
    memset(&a, 0, sizeof a);
    a.padding = 1;   /* TFLite Padding VALID */
    a.stride_w = a.stride_h = 1;
    a.dilation_w = a.dilation_h = 1;
    a.depth_multiplier = 1;
    a.beta = 1.0f;
    return a;
}

size_t tml_ir_elements(const tml_ir_tensor *t)
{
    size_t n = 1;
    for (int32_t i = 0; i < t->ndims; i++)
        n *= (size_t)t->dims[i];
    return n;
}

static int check_shape(tml_ir_graph *g, const char *name, int32_t ndims,
                       const int32_t *dims)
{
    if (ndims < 0 || ndims > TML_MAX_DIMS)
        return tml_ir_fail(g, "tensor '%s': rank %d (at most %d)", name ? name : "",
                           (int)ndims, TML_MAX_DIMS);
    size_t n = 1;
    for (int32_t i = 0; i < ndims; i++) {
        if (dims[i] < 0)
            return tml_ir_fail(g, "tensor '%s': dimension %d is %d", name ? name : "",
                               (int)i, (int)dims[i]);
        n *= (size_t)dims[i];
        if (n > ((size_t)1 << 31))
            return tml_ir_fail(g, "tensor '%s': more than 2^31 elements",
                               name ? name : "");
    }
    return 0;
}

int32_t tml_ir_add_tensor(tml_ir_graph *g, const char *name, tml_dtype dtype,
                          int32_t ndims, const int32_t *dims)
{
    if (check_shape(g, name, ndims, dims) < 0)
        return -1;
    if (g->ntensors == g->tensors_cap) {
        int32_t cap = g->tensors_cap ? g->tensors_cap * 2 : 32;
        tml_ir_tensor *p = realloc(g->tensors, sizeof *p * (size_t)cap);
        if (!p)
            return tml_ir_fail(g, "out of memory adding tensor '%s'", name ? name : "");
        g->tensors = p;
        g->tensors_cap = cap;
    }
    tml_ir_tensor *t = &g->tensors[g->ntensors];
    memset(t, 0, sizeof *t);
    t->name = dup_str(name);
    if (!t->name)
        return tml_ir_fail(g, "out of memory");
    t->dtype = dtype;
    t->ndims = ndims;
    for (int32_t i = 0; i < ndims; i++)
        t->dims[i] = dims[i];
    return g->ntensors++;
}

int tml_ir_set_data(tml_ir_graph *g, int32_t t, tml_dtype dtype,
                    const void *data)
{
    tml_ir_tensor *x = &g->tensors[t];
    size_t bytes = tml_ir_elements(x) * tml_dtype_size(dtype);
    void *copy = malloc(bytes ? bytes : 1);
    if (!copy)
        return tml_ir_fail(g, "out of memory for %zu bytes of '%s'", bytes, x->name);
    if (bytes)
        memcpy(copy, data, bytes);
    free(x->data);
    x->data = copy;
    x->bytes = bytes;
    x->dtype = dtype;
    return 0;
}

int32_t tml_ir_add_const(tml_ir_graph *g, const char *name, tml_dtype dtype,
                         int32_t ndims, const int32_t *dims, const void *data)
{
    int32_t t = tml_ir_add_tensor(g, name, dtype, ndims, dims);
    if (t < 0 || tml_ir_set_data(g, t, dtype, data) < 0)
        return -1;
    return t;
}

int tml_ir_set_quant(tml_ir_graph *g, int32_t t, int32_t count,
                     const float *scales, const int64_t *zero_points,
                     int32_t dim)
{
    tml_ir_quant *q = &g->tensors[t].quant;
    free(q->scales);
    free(q->zero_points);
    memset(q, 0, sizeof *q);
    if (count <= 0)
        return 0;
    q->scales = malloc(sizeof(float) * (size_t)count);
    q->zero_points = calloc((size_t)count, sizeof(int64_t));
    if (!q->scales || !q->zero_points)
        return tml_ir_fail(g, "out of memory");
    memcpy(q->scales, scales, sizeof(float) * (size_t)count);
    if (zero_points)
        memcpy(q->zero_points, zero_points, sizeof(int64_t) * (size_t)count);
    q->count = count;
    q->dim = dim;
    return 0;
}

static int fill_op(tml_ir_graph *g, tml_ir_op *op, int32_t builtin,
                   const int32_t *inputs, int32_t ninputs,
                   const int32_t *outputs, int32_t noutputs,
                   const tml_ir_attrs *attrs, const char *origin)
{
    if (ninputs < 0 || ninputs > TML_IR_MAX_INPUTS || noutputs < 1 ||
        noutputs > TML_IR_MAX_OUTPUTS)
        return tml_ir_fail(g, "%s: op %s with %d inputs, %d outputs",
                           origin ? origin : "?", tml_op_name(builtin),
                           (int)ninputs, (int)noutputs);
    for (int32_t i = 0; i < ninputs; i++) {
        if (inputs[i] < -1 || inputs[i] >= g->ntensors)
            return tml_ir_fail(g, "%s: input %d is tensor %d, out of range",
                               origin ? origin : "?", (int)i, (int)inputs[i]);
    }
    for (int32_t i = 0; i < noutputs; i++) {
        if (outputs[i] < 0 || outputs[i] >= g->ntensors)
            return tml_ir_fail(g, "%s: output %d is tensor %d, out of range",
                               origin ? origin : "?", (int)i, (int)outputs[i]);
    }
    memset(op, 0, sizeof *op);
    op->builtin = builtin;
    op->ninputs = ninputs;
    op->noutputs = noutputs;
    memcpy(op->inputs, inputs, sizeof(int32_t) * (size_t)ninputs);
    memcpy(op->outputs, outputs, sizeof(int32_t) * (size_t)noutputs);
    op->attrs = attrs ? *attrs : tml_ir_default_attrs();
    op->origin = dup_str(origin);
    return op->origin ? 0 : tml_ir_fail(g, "out of memory");
}

static int grow_ops(tml_ir_graph *g)
{
    if (g->nops < g->ops_cap)
        return 0;
    int32_t cap = g->ops_cap ? g->ops_cap * 2 : 32;
    tml_ir_op *p = realloc(g->ops, sizeof *p * (size_t)cap);
    if (!p)
        return tml_ir_fail(g, "out of memory adding an op");
    g->ops = p;
    g->ops_cap = cap;
    return 0;
}

int32_t tml_ir_insert_op(tml_ir_graph *g, int32_t at, int32_t builtin,
                         const int32_t *inputs, int32_t ninputs,
                         const int32_t *outputs, int32_t noutputs,
                         const tml_ir_attrs *attrs, const char *origin)
{
    if (at < 0 || at > g->nops)
        return tml_ir_fail(g, "insert position %d out of range", (int)at);
    tml_ir_op op;
    if (fill_op(g, &op, builtin, inputs, ninputs, outputs, noutputs, attrs,
                origin) < 0 || grow_ops(g) < 0) {
        return -1;
    }
    memmove(&g->ops[at + 1], &g->ops[at], sizeof op * (size_t)(g->nops - at));
    g->ops[at] = op;
    g->nops++;
    return at;
}

int32_t tml_ir_add_op(tml_ir_graph *g, int32_t builtin, const int32_t *inputs,
                      int32_t ninputs, const int32_t *outputs,
                      int32_t noutputs, const tml_ir_attrs *attrs,
                      const char *origin)
{
    return tml_ir_insert_op(g, g->nops, builtin, inputs, ninputs, outputs,
                            noutputs, attrs, origin);
}

static int add_io(tml_ir_graph *g, int32_t *list, int32_t *n, int32_t t)
{
    if (t < 0 || t >= g->ntensors)
        return tml_ir_fail(g, "graph input/output tensor %d out of range", (int)t);
    if (*n >= TML_IR_MAX_IO)
        return tml_ir_fail(g, "more than %d graph inputs/outputs", TML_IR_MAX_IO);
    list[(*n)++] = t;
    return 0;
}

int tml_ir_add_input(tml_ir_graph *g, int32_t t)
{
    return add_io(g, g->inputs, &g->ninputs, t);
}

int tml_ir_add_output(tml_ir_graph *g, int32_t t)
{
    return add_io(g, g->outputs, &g->noutputs, t);
}

int32_t tml_ir_producer(const tml_ir_graph *g, int32_t t)
{
    for (int32_t i = 0; i < g->nops; i++) {
        const tml_ir_op *op = &g->ops[i];
        if (op->builtin == TML_IR_DEAD)
            continue;
        for (int32_t k = 0; k < op->noutputs; k++) {
            if (op->outputs[k] == t)
                return i;
        }
    }
    return -1;
}

int32_t tml_ir_consumer_count(const tml_ir_graph *g, int32_t t)
{
    int32_t n = 0;
    for (int32_t i = 0; i < g->nops; i++) {
        const tml_ir_op *op = &g->ops[i];
        if (op->builtin == TML_IR_DEAD)
            continue;
        for (int32_t k = 0; k < op->ninputs; k++)
            n += op->inputs[k] == t;
    }
    return n;
}

int tml_ir_is_graph_output(const tml_ir_graph *g, int32_t t)
{
    for (int32_t i = 0; i < g->noutputs; i++) {
        if (g->outputs[i] == t)
            return 1;
    }
    return 0;
}

void tml_ir_replace_uses(tml_ir_graph *g, int32_t from, int32_t to)
{
    for (int32_t i = 0; i < g->nops; i++) {
        tml_ir_op *op = &g->ops[i];
        for (int32_t k = 0; k < op->ninputs; k++) {
            if (op->inputs[k] == from)
                op->inputs[k] = to;
        }
    }
    for (int32_t i = 0; i < g->noutputs; i++) {
        if (g->outputs[i] == from)
            g->outputs[i] = to;
    }
}

/* Marks tensors referenced by live ops or graph I/O. */
static void mark_used(const tml_ir_graph *g, uint8_t *used)
{
    for (int32_t i = 0; i < g->nops; i++) {
        const tml_ir_op *op = &g->ops[i];
        if (op->builtin == TML_IR_DEAD)
            continue;
        for (int32_t k = 0; k < op->ninputs; k++) {
            if (op->inputs[k] >= 0)
                used[op->inputs[k]] = 1;
        }
        for (int32_t k = 0; k < op->noutputs; k++)
            used[op->outputs[k]] = 1;
    }
    for (int32_t i = 0; i < g->ninputs; i++)
        used[g->inputs[i]] = 1;
    for (int32_t i = 0; i < g->noutputs; i++)
        used[g->outputs[i]] = 1;
}

static void renumber(tml_ir_graph *g, const int32_t *map)
{
    for (int32_t i = 0; i < g->nops; i++) {
        tml_ir_op *op = &g->ops[i];
        for (int32_t k = 0; k < op->ninputs; k++) {
            if (op->inputs[k] >= 0)
                op->inputs[k] = map[op->inputs[k]];
        }
        for (int32_t k = 0; k < op->noutputs; k++)
            op->outputs[k] = map[op->outputs[k]];
    }
    for (int32_t i = 0; i < g->ninputs; i++)
        g->inputs[i] = map[g->inputs[i]];
    for (int32_t i = 0; i < g->noutputs; i++)
        g->outputs[i] = map[g->outputs[i]];
}

int tml_ir_compact(tml_ir_graph *g)
{
    int32_t live = 0;
    for (int32_t i = 0; i < g->nops; i++) {
        if (g->ops[i].builtin == TML_IR_DEAD)
            free(g->ops[i].origin);
        else
            g->ops[live++] = g->ops[i];
    }
    g->nops = live;
    uint8_t *used = calloc((size_t)g->ntensors + 1, 1);
    int32_t *map = malloc(sizeof(int32_t) * ((size_t)g->ntensors + 1));
    if (!used || !map) {
        free(used);
        free(map);
        return tml_ir_fail(g, "out of memory compacting the graph");
    }
    mark_used(g, used);
    int32_t kept = 0;
    for (int32_t t = 0; t < g->ntensors; t++) {
        if (!used[t]) {
            free_tensor(&g->tensors[t]);
            map[t] = -1;
            continue;
        }
        map[t] = kept;
        g->tensors[kept++] = g->tensors[t];
    }
    g->ntensors = kept;
    renumber(g, map);
    free(used);
    free(map);
    return 0;
}

static int copy_tensor(tml_ir_graph *dst, const tml_ir_tensor *t)
{
    int32_t i = t->data ? tml_ir_add_const(dst, t->name, t->dtype, t->ndims,
                                           t->dims, t->data)
                        : tml_ir_add_tensor(dst, t->name, t->dtype, t->ndims,
                                            t->dims);
    if (i < 0)
        return -1;
    if (t->quant.count &&
        tml_ir_set_quant(dst, i, t->quant.count, t->quant.scales,
                         t->quant.zero_points, t->quant.dim) < 0)
        return -1;
    dst->tensors[i].has_range = t->has_range;
    dst->tensors[i].min = t->min;
    dst->tensors[i].max = t->max;
    return 0;
}

tml_ir_graph *tml_ir_clone(const tml_ir_graph *g)
{
    tml_ir_graph *c = tml_ir_new();
    if (!c)
        return NULL;
    for (int32_t i = 0; i < g->ntensors; i++) {
        if (copy_tensor(c, &g->tensors[i]) < 0)
            goto fail;
    }
    for (int32_t i = 0; i < g->nops; i++) {
        const tml_ir_op *op = &g->ops[i];
        if (tml_ir_add_op(c, op->builtin, op->inputs, op->ninputs, op->outputs,
                          op->noutputs, &op->attrs, op->origin) < 0)
            goto fail;
        c->ops[c->nops - 1].version = op->version;
    }
    memcpy(c->inputs, g->inputs, sizeof g->inputs);
    memcpy(c->outputs, g->outputs, sizeof g->outputs);
    c->ninputs = g->ninputs;
    c->noutputs = g->noutputs;
    return c;
fail:
    tml_ir_free(c);
    return NULL;
}
