/*
 * Arena planning for a prepared graph; see arena_plan.h.
 *
 * Buffers are shared in two ways before placement:
 *  - a VIEW op's output (RESHAPE, SQUEEZE) is its input's buffer;
 *  - an INPLACE op's output takes the buffer of an input with the same
 *    dtype and byte size when nothing reads that buffer after this op and
 *    it is neither a model output nor a kept model input.
 * Each group of tensors sharing a buffer is one planner item whose life runs
 * from the group's first write to its last read.  Model outputs live to
 * the end; model inputs too unless tml_set_reuse_inputs() was called.
 */
#include "arena_plan.h"

#include <string.h>

#include "planner.h"
#include "registry.h"

#define ALIGN 8u

/* Per-tensor working record.  The working memory is carved from the free
 * middle of the arena and is dead once the offsets are assigned. */
typedef struct slot {
    int32_t root;    /* tensor owning the buffer */
    int32_t first;   /* first op alive (of the group, at its root) */
    int32_t last;    /* last op alive */
    int32_t item;    /* planner item of a root, -1 none */
} slot;

typedef struct work {
    slot *s;              /* ntensors */
    uint8_t *gflags;      /* ntensors: TML_TENSOR_* of every group member */
    tml_plan_item *items; /* non-constant tensors, then scratch buffers */
    int32_t *order;       /* as items */
    int32_t nitems;
    size_t bytes;         /* of this working memory */
} work;

static size_t al(size_t v) { return (v + ALIGN - 1) & ~(size_t)(ALIGN - 1); }

static int is_const(const tml_interpreter *it, int32_t t)
{
    return (it->tensors[t].flags & TML_TENSOR_CONST) != 0;
}

/* Reserves the working memory at the top of the free middle: 16 bytes
 * per tensor (four int32 arrays' worth, each rounded to ALIGN), a flag
 * byte per tensor, and an item and an order entry per non-constant tensor
 * or scratch buffer. */
static tml_status carve(tml_interpreter *it, work *w)
{
    size_t nt = (size_t)it->model.ntensors, ni = 0;
    for (int32_t t = 0; t < it->model.ntensors; t++)
        ni += !is_const(it, t);
    for (int32_t i = 0; i < it->model.nops; i++)
        ni += it->nodes[i].scratch >= 0;
    size_t slots = al(nt * 4) * 4, flags = al(nt), items = al(ni * sizeof(tml_plan_item));
    size_t bytes = slots + flags + items + al(ni * 4);
    size_t free_bytes = it->arena_size - it->persistent_bytes;
    w->bytes = bytes;
    if (bytes > free_bytes) {
        it->needed_bytes = it->persistent_bytes + bytes;
        tml_arena_error(it, "at least ", it->needed_bytes);
        return TML_ERROR_ARENA;
    }
    uint8_t *p = it->arena + free_bytes - bytes;
    w->s = (slot *)(void *)p;
    w->gflags = p + slots;
    w->items = (tml_plan_item *)(void *)(p + slots + flags);
    w->order = (int32_t *)(void *)(p + slots + flags + items);
    w->nitems = 0;
    return TML_OK;
}

/* Per-tensor lifetimes, before any sharing: from the op that writes the
 * tensor (0 for a model input) to the last op that reads it; model outputs,
 * and model inputs that are kept, live to the last op.  The dataflow check
 * (interp.c) proved every tensor is written once, before any read, so one
 * "extend to this op" rule serves reads and the write. */
static void raw_lifetimes(tml_interpreter *it, work *w)
{
    int32_t last_op = it->model.nops - 1;
    for (int32_t t = 0; t < it->model.ntensors; t++) {
        uint8_t f = it->tensors[t].flags;
        slot *s = &w->s[t];
        s->root = t;
        s->item = -1;
        s->first = s->last = (f & TML_TENSOR_INPUT) ? 0 : -1;
        if ((f & TML_TENSOR_OUTPUT) || ((f & TML_TENSOR_INPUT) && !it->reuse_inputs))
            s->last = last_op;
        w->gflags[t] = f;
    }
    for (int32_t i = 0; i < it->model.nops; i++) {
        const tml_node *n = &it->nodes[i];
        for (int k = 0; k < n->ninputs + n->noutputs; k++) {
            int writes = k >= n->ninputs;
            int32_t t = writes ? n->outputs[k - n->ninputs] : n->inputs[k];
            if (t < 0)
                continue;
            if (writes)
                w->s[t].first = i;
            if (w->s[t].last < i)
                w->s[t].last = i;
        }
    }
}

/* May op n (index op) write its output into the buffer of input `in`? */
static int can_share_inplace(const tml_interpreter *it, const work *w,
                             const tml_node *n, int32_t op, int32_t in)
{
    int32_t r = w->s[in].root;
    const tml_tensor *a = &it->tensors[in], *out = &it->tensors[n->outputs[0]];
    if (is_const(it, r) || a->type != out->type || a->bytes != out->bytes)
        return 0;
    if (w->gflags[r] & TML_TENSOR_OUTPUT)
        return 0;
    if ((w->gflags[r] & TML_TENSOR_INPUT) && !it->reuse_inputs)
        return 0;
    return w->s[r].last == op;   /* nothing reads the buffer after this op */
}

/* Chooses the buffer each op output writes to, in op order. */
static void group_buffers(tml_interpreter *it, work *w)
{
    for (int32_t i = 0; i < it->model.nops; i++) {
        const tml_node *n = &it->nodes[i];
        if (n->noutputs < 1)
            continue;
        int32_t out = n->outputs[0];
        int32_t r = -1;
        if ((n->flags & TML_KERNEL_VIEW) && n->ninputs >= 1 && n->inputs[0] >= 0)
            r = w->s[n->inputs[0]].root;
        for (int k = 0; r < 0 && (n->flags & TML_KERNEL_INPLACE) && k < n->ninputs; k++) {
            if (n->inputs[k] >= 0 && can_share_inplace(it, w, n, i, n->inputs[k]))
                r = w->s[n->inputs[k]].root;
        }
        if (r < 0)
            continue;
        w->s[out].root = r;
        if (is_const(it, r))
            continue;
        w->gflags[r] |= it->tensors[out].flags;
        if (w->s[out].last > w->s[r].last)
            w->s[r].last = w->s[out].last;
    }
}

static tml_plan_item *new_item(work *w, uint32_t size, int32_t first,
                               int32_t last)
{
    tml_plan_item *item = &w->items[w->nitems++];
    item->size = size;
    item->first = first;
    item->last = last;
    return item;
}

static void make_items(tml_interpreter *it, work *w)
{
    for (int32_t t = 0; t < it->model.ntensors; t++) {
        slot *s = &w->s[t];
        if (s->root != t || is_const(it, t) || s->first < 0)
            continue;   /* shares a buffer, constant, or never written */
        s->item = w->nitems;
        new_item(w, it->tensors[t].bytes, s->first, s->last);
    }
    for (int32_t i = 0; i < it->model.nops; i++) {
        if (it->nodes[i].scratch >= 0)
            new_item(w, (uint32_t)it->nodes[i].scratch, i, i);
    }
}

/* Data pointers and scratch offsets from the placed items: the scratch
 * items follow the tensor items, in op order. */
static void assign(tml_interpreter *it, const work *w)
{
    int32_t k = 0;
    for (int32_t t = 0; t < it->model.ntensors; t++) {
        k += w->s[t].item >= 0;
        if (is_const(it, t))
            continue;
        int32_t r = w->s[t].root, item = w->s[r].item;
        if (is_const(it, r))
            it->tensors[t].data = it->tensors[r].data;
        else
            it->tensors[t].data = item >= 0 ? it->arena + w->items[item].offset : NULL;
    }
    for (int32_t i = 0; i < it->model.nops; i++) {
        if (it->nodes[i].scratch >= 0)
            it->nodes[i].scratch = (int32_t)w->items[k++].offset;
    }
}

tml_status tml_plan_arena(tml_interpreter *it)
{
    work w;
    if (carve(it, &w) != TML_OK)
        return TML_ERROR_ARENA;
    raw_lifetimes(it, &w);
    group_buffers(it, &w);
    make_items(it, &w);
    size_t planned = tml_plan(w.items, w.nitems, w.order, ALIGN);
    it->planned_bytes = planned;
    /* The planner's working memory must fit too, while it runs. */
    it->needed_bytes = it->persistent_bytes + (planned > w.bytes ? planned : w.bytes);
    if (it->needed_bytes > it->arena_size)
        return tml_arena_error(it, "", it->needed_bytes);
    assign(it, &w);
    return TML_OK;
}
