/*
 * The interpreter: builds tensor and operator tables from the verified
 * model, prepares kernels, plans the arena and runs the operators.
 *
 * Arena layout (one caller buffer, no malloc):
 *
 *   bottom                                                       top
 *   [ activations + scratch (planned) ......... | persistent data ]
 *
 * Persistent data (tensor table, node table, kernels' op data) grows down
 * from the top during tml_create() and prepare; the planner then places
 * activation and scratch buffers from the bottom.  While planning, the free
 * middle of the arena serves as the planner's working memory.
 */
#include <stdarg.h>
#include <string.h>

#include "format.h"
#include "kernel.h"
#include "model.h"
#include "planner.h"
#include "arena_plan.h"
#include "registry.h"

enum { STATE_EMPTY = 0, STATE_CREATED = 1, STATE_ALLOCATED = 2 };

#define TML_ALIGN 8u   /* int64/double alignment for every arena buffer */

static size_t align_up(size_t v) { return (v + TML_ALIGN - 1) & ~(size_t)(TML_ALIGN - 1); }

static tml_status fail(tml_interpreter *it, tml_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tml_vformat(it->error, sizeof it->error, fmt, ap);
    va_end(ap);
    return status;
}

/* ---------------------------------------------------------------- arena */

tml_status tml_arena_error(tml_interpreter *it, const char *more, size_t needed)
{
    return fail(it, TML_ERROR_ARENA, "arena too small: needs %s%zu bytes, "
                "has %zu", more, needed, it->arena_size);
}

void *tml_alloc_persistent(tml_interpreter *it, size_t bytes)
{
    size_t need = align_up(bytes);
    if (need < bytes || need > it->arena_size - it->persistent_bytes) {
        tml_arena_error(it, "at least ", it->persistent_bytes + need);
        return NULL;
    }
    it->persistent_bytes += need;
    uint8_t *p = it->arena + it->arena_size - it->persistent_bytes;
    memset(p, 0, need);
    return p;
}

tml_status tml_request_scratch(tml_interpreter *it, tml_node *n, size_t bytes)
{
    if (bytes > 0x7fffffffu)
        return tml_kernel_error(it, n, TML_ERROR_ARENA,
                                "scratch of %zu bytes is too large", bytes);
    /* Until planning, node->scratch holds the size; then the offset. */
    n->scratch = (int32_t)bytes;
    return TML_OK;
}

void *tml_scratch(tml_interpreter *it, const tml_node *n)
{
    return n->scratch < 0 ? NULL : it->arena + n->scratch;
}

/* ---------------------------------------------------------- kernel aids */

tml_tensor *tml_node_input(tml_interpreter *it, const tml_node *n, int i)
{
    if (i < 0 || i >= n->ninputs || n->inputs[i] < 0)
        return NULL;
    return &it->tensors[n->inputs[i]];
}

tml_tensor *tml_node_output(tml_interpreter *it, const tml_node *n, int i)
{
    if (i < 0 || i >= n->noutputs)
        return NULL;
    return &it->tensors[n->outputs[i]];
}

int32_t tml_tensor_index(const tml_interpreter *it, const tml_tensor *t)
{
    return (int32_t)(t - it->tensors);
}

const char *tml_tensor_name(const tml_interpreter *it, const tml_tensor *t)
{
    tml_model_tensor mt;
    tml_model_get_tensor(&it->model, tml_tensor_index(it, t), &mt);
    return mt.name;
}

void tml_tensor_quant(const tml_interpreter *it, const tml_tensor *t,
                      tml_quant *out)
{
    tml_model_tensor mt;
    tml_model_get_tensor(&it->model, tml_tensor_index(it, t), &mt);
    out->scales = mt.scales;
    out->zero_points = mt.zero_points;
    out->count = mt.scales ? mt.nscales : 0;
    out->dim = mt.quant_dim;
}

/* it->error = "op N NAME: ", then "SLOT tensor IDX 'TNAME': " when t is
 * given, then fmt; truncated to the buffer. */
static void node_error(tml_interpreter *it, const tml_node *n,
                       const char *slot, const tml_tensor *t,
                       const char *fmt, va_list ap)
{
    int32_t op = (int32_t)(n - it->nodes);
    size_t len = tml_format(it->error, sizeof it->error, "op %d %s: ",
                            (int)op, tml_op_name(n->builtin));
    if (t && len < sizeof it->error)
        len += tml_format(it->error + len, sizeof it->error - len,
                          "%s tensor %d '%s': ", slot,
                          (int)tml_tensor_index(it, t),
                          tml_tensor_name(it, t));
    if (len < sizeof it->error)
        tml_vformat(it->error + len, sizeof it->error - len, fmt, ap);
}

tml_status tml_kernel_error(tml_interpreter *it, const tml_node *n,
                            tml_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    node_error(it, n, NULL, NULL, fmt, ap);
    va_end(ap);
    return status;
}

tml_status tml_tensor_error(tml_interpreter *it, const tml_node *n,
                            tml_status status, const char *slot,
                            const tml_tensor *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    node_error(it, n, slot, t, fmt, ap);
    va_end(ap);
    return status;
}

tml_status tml_dtype_error(tml_interpreter *it, const tml_node *n,
                           const char *slot, const tml_tensor *t,
                           const char *expected)
{
    return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, slot, t,
                            "expected %s, got %s", expected,
                            tml_dtype_name((tml_dtype)t->type));
}

tml_status tml_shape_error(tml_interpreter *it, const tml_node *n,
                           const char *slot, const tml_tensor *t,
                           const char *what, int32_t expected, int32_t got)
{
    return tml_tensor_error(it, n, TML_ERROR_MODEL, slot, t,
                            "expected %s %d, got %d", what, (int)expected,
                            (int)got);
}

int32_t tml_opt_int(const tml_interpreter *it, const tml_node *n, int field,
                    int size, int32_t def)
{
    if (!n->options)
        return def;
    const uint8_t *p = tml_model_table_field(&it->model, n->options, field,
                                             (size_t)size);
    if (!p)
        return def;
    if (size == 1)
        return (int8_t)p[0];
    if (size == 2)
        return (int16_t)(p[0] | (p[1] << 8));
    /* Little-endian file, little-endian targets (x86, Arm Cortex-M). */
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

float tml_opt_float(const tml_interpreter *it, const tml_node *n, int field,
                    float def)
{
    if (!n->options)
        return def;
    const uint8_t *p = tml_model_table_field(&it->model, n->options, field, 4);
    if (!p)
        return def;
    float v;
    memcpy(&v, p, sizeof v);
    return v;
}

int32_t tml_opt_int_vector(const tml_interpreter *it, const tml_node *n,
                           int field, const int32_t **out)
{
    *out = NULL;
    if (!n->options)
        return 0;
    return tml_model_table_int_vector(&it->model, n->options, field, out);
}

int32_t tml_num_elements(const tml_tensor *t)
{
    int32_t count = 1;
    for (int i = 0; i < t->ndims; i++)
        count *= t->dims[i];   /* the verifier bounded the product */
    return count;
}

int tml_same_shape(const tml_tensor *a, const tml_tensor *b)
{
    if (a->ndims != b->ndims)
        return 0;
    for (int i = 0; i < a->ndims; i++) {
        if (a->dims[i] != b->dims[i])
            return 0;
    }
    return 1;
}

/* -------------------------------------------------------------- create */

/* Can this runtime run op i, found as kernel k (NULL: none)?  If not,
 * writes "operator I: op NAME (builtin B) version V is not supported" to
 * msg, with " (tinyml runs versions MIN-MAX)" for a known op. */
static tml_status check_op(const tml_model_op *op, int32_t i,
                           const tml_kernel *k, char *msg, size_t cap)
{
    if (op->custom_name) {
        tml_format(msg, cap, "operator %d: custom op '%s' is not supported",
                   (int)i, op->custom_name);
        return TML_ERROR_UNSUPPORTED;
    }
    if (k && op->version >= k->min_version && op->version <= k->max_version)
        return TML_OK;
    size_t len = tml_format(msg, cap, "operator %d: op %s (builtin %d) "
                            "version %d is not supported", (int)i,
                            tml_op_name(op->builtin), (int)op->builtin,
                            (int)op->version);
    if (k && len < cap)
        tml_format(msg + len, cap - len, " (tinyml runs versions %d-%d)",
                   (int)k->min_version, (int)k->max_version);
    return TML_ERROR_UNSUPPORTED;
}

tml_status tml_verify(const void *model, size_t size, char *msg,
                      size_t msg_size)
{
#ifdef TML_TRUSTED_MODEL
    /* The verifier is compiled out (model.h, "verify once"): say so
     * rather than pass a model nobody checked. */
    (void)model;
    (void)size;
    tml_format(msg, msg_size, "tml_verify: this runtime is built with "
               "TML_TRUSTED_MODEL (no verifier)");
    return TML_ERROR_UNSUPPORTED;
#else
    tml_model m;
    tml_status s = tml_model_load(&m, model, size, msg, msg_size);
    for (int32_t i = 0; s == TML_OK && i < m.nops; i++) {
        tml_model_op op;
        tml_model_get_op(&m, i, &op);
        s = check_op(&op, i, tml_find_kernel(op.builtin, NULL), msg, msg_size);
    }
    return s;
#endif
}

static tml_status build_tensors(tml_interpreter *it)
{
    const tml_model *m = &it->model;
    it->tensors = tml_alloc_persistent(it, sizeof(tml_tensor) * (size_t)m->ntensors);
    if (!it->tensors && m->ntensors)
        return TML_ERROR_ARENA;
    const int32_t *ins = tml_model_inputs(m), *outs = tml_model_outputs(m);
    for (int32_t i = 0; i < m->ntensors; i++) {
        tml_model_tensor mt;
        tml_model_get_tensor(m, i, &mt);
        tml_tensor *t = &it->tensors[i];
        if (mt.is_variable)
            return fail(it, TML_ERROR_UNSUPPORTED, "tensor %d '%s': variable "
                        "tensors are not supported", (int)i, mt.name);
        t->dims = mt.dims;
        t->ndims = (uint8_t)mt.ndims;
        t->type = (uint8_t)mt.type;
        t->bytes = mt.bytes;
        t->scale = mt.scales ? mt.scales[0] : 0.0f;
        t->zero_point = mt.zero_points ? (int32_t)mt.zero_points[0] : 0;
        t->data = (void *)(uintptr_t)mt.data;   /* kernels never write it */
        t->flags = mt.data ? TML_TENSOR_CONST : 0;
    }
    /* The verifier checked that these indices are in range. */
    for (int32_t i = 0; i < m->ninputs; i++)
        it->tensors[ins[i]].flags |= TML_TENSOR_INPUT;
    for (int32_t i = 0; i < m->noutputs; i++)
        it->tensors[outs[i]].flags |= TML_TENSOR_OUTPUT;
    return TML_OK;
}

static tml_status build_nodes(tml_interpreter *it)
{
    const tml_model *m = &it->model;
    it->nodes = tml_alloc_persistent(it, sizeof(tml_node) * (size_t)m->nops);
    /* Without room for the table, still check every op: an op this
     * runtime cannot run is reported before a too small arena. */
    tml_node spare;
    for (int32_t i = 0; i < m->nops; i++) {
        tml_model_op op;
        tml_model_get_op(m, i, &op);
        tml_node *n = it->nodes ? &it->nodes[i] : &spare;
        n->kernel = tml_find_kernel(op.builtin, &n->flags);
        tml_status s = check_op(&op, i, n->kernel, it->error, sizeof it->error);
        if (s != TML_OK)
            return s;
        if (!it->nodes)
            continue;
        if (op.ninputs > 255 || op.noutputs > 255)
            return fail(it, TML_ERROR_UNSUPPORTED, "operator %d: more than "
                        "255 inputs or outputs", (int)i);
        n->inputs = op.inputs;
        n->outputs = op.outputs;
        n->ninputs = (uint8_t)op.ninputs;
        n->noutputs = (uint8_t)op.noutputs;
        n->options = op.options;
        n->options_type = op.options_type;
        n->version = (uint8_t)(op.version > 255 ? 255 : op.version);
        n->builtin = (int16_t)op.builtin;
        n->scratch = -1;
    }
    return it->nodes || !m->nops ? TML_OK : TML_ERROR_ARENA;
}

/* Dataflow sanity: every tensor an op reads exists by then, every
 * non-constant tensor is written once, and nothing writes a constant or a
 * model input.  Uses the planner's future space as a written-flag array. */
static tml_status check_dataflow(tml_interpreter *it)
{
    const tml_model *m = &it->model;
    size_t free_bytes = it->arena_size - it->persistent_bytes;
    if ((size_t)m->ntensors > free_bytes)
        return tml_arena_error(it, "at least ",
                               it->persistent_bytes + (size_t)m->ntensors);
    uint8_t *written = it->arena;
    for (int32_t i = 0; i < m->ntensors; i++)
        written[i] = (it->tensors[i].flags & (TML_TENSOR_CONST | TML_TENSOR_INPUT)) != 0;
    for (int32_t i = 0; i < m->nops; i++) {
        const tml_node *n = &it->nodes[i];
        for (int k = 0; k < n->ninputs; k++) {
            int32_t t = n->inputs[k];
            if (t >= 0 && !written[t])
                return tml_tensor_error(it, n, TML_ERROR_MODEL, "input",
                                        &it->tensors[t], "read before it is "
                                        "written");
        }
        for (int k = 0; k < n->noutputs; k++) {
            int32_t t = n->outputs[k];
            if (written[t])
                return tml_tensor_error(it, n, TML_ERROR_MODEL, "output",
                                        &it->tensors[t], "constant, a model "
                                        "input or written before");
            written[t] = 1;
        }
    }
    const int32_t *outs = tml_model_outputs(m);
    for (int32_t i = 0; i < m->noutputs; i++) {
        if (!written[outs[i]])
            return fail(it, TML_ERROR_MODEL, "model output %d: tensor %d "
                        "'%s' is never written", (int)i, (int)outs[i],
                        tml_tensor_name(it, &it->tensors[outs[i]]));
    }
    return TML_OK;
}

tml_status tml_create(tml_interpreter *it, const void *model, size_t size,
                      void *arena, size_t arena_size)
{
    if (!it)
        return TML_ERROR_ARGUMENT;
    memset(it, 0, sizeof *it);
    if (!model || !arena)
        return fail(it, TML_ERROR_ARGUMENT, "tml_create: %s is NULL",
                    model ? "arena" : "model");
    /* Align the arena start; the slack is not counted as needed bytes. */
    uintptr_t base = (uintptr_t)arena;
    uintptr_t aligned = (base + TML_ALIGN - 1) & ~(uintptr_t)(TML_ALIGN - 1);
    it->arena_size = arena_size;
    if (arena_size < aligned - base + TML_ALIGN)
        return tml_arena_error(it, "more than ", arena_size);
    it->arena = (uint8_t *)aligned;
    it->arena_size = (arena_size - (aligned - base)) & ~(size_t)(TML_ALIGN - 1);

    tml_status s = tml_model_load(&it->model, model, size, it->error,
                                  sizeof it->error);
    /* Nodes first: an op this runtime cannot run is the first thing to
     * report (such models often have variable tensors too). */
    if (s == TML_OK)
        s = build_nodes(it);
    if (s == TML_OK)
        s = build_tensors(it);
    if (s == TML_OK)
        s = check_dataflow(it);
    if (s != TML_OK)
        return s;
    it->state = STATE_CREATED;
    return TML_OK;
}

/* ------------------------------------------------------------ allocate */

static tml_status prepare_all(tml_interpreter *it)
{
    for (int32_t i = 0; i < it->model.nops; i++) {
        tml_node *n = &it->nodes[i];
        it->current_op = i;
        tml_status s = n->kernel->prepare(it, n);
        if (s != TML_OK)
            return s;
        if (n->flags & TML_KERNEL_VIEW) {
            const tml_tensor *in = tml_node_input(it, n, 0);
            const tml_tensor *out = tml_node_output(it, n, 0);
            if (!in || !out || in->bytes != out->bytes)
                return tml_kernel_error(it, n, TML_ERROR_MODEL, "a view "
                                        "needs its input's bytes");
        }
    }
    return TML_OK;
}

tml_status tml_allocate(tml_interpreter *it)
{
    if (!it)
        return TML_ERROR_ARGUMENT;
    if (it->state == STATE_ALLOCATED)
        return TML_OK;
    if (it->state != STATE_CREATED)
        return fail(it, TML_ERROR_STATE, "tml_allocate: call tml_create first");
    tml_status s = prepare_all(it);
    if (s != TML_OK)
        return s;
    s = tml_plan_arena(it);
    if (s != TML_OK)
        return s;
    it->state = STATE_ALLOCATED;
    return TML_OK;
}

void tml_set_reuse_inputs(tml_interpreter *it, int reuse)
{
    if (it && it->state == STATE_CREATED)
        it->reuse_inputs = reuse != 0;
}

size_t tml_arena_needed(const tml_interpreter *it)
{
    return it ? it->needed_bytes : 0;
}

/* -------------------------------------------------------------- invoke */

tml_status tml_invoke(tml_interpreter *it)
{
    if (!it)
        return TML_ERROR_ARGUMENT;
    if (it->state != STATE_ALLOCATED)
        return fail(it, TML_ERROR_STATE, "tml_invoke: call tml_allocate first");
    for (int32_t i = 0; i < it->model.nops; i++) {
        tml_node *n = &it->nodes[i];
        it->current_op = i;
        tml_status s = n->kernel->eval(it, n);
        if (s != TML_OK) {
            if (!it->error[0])
                tml_kernel_error(it, n, s, "eval failed");
            return s;
        }
        if (it->observer)
            it->observer(it->observer_user, it, i);
    }
    return TML_OK;
}

void tml_set_observer(tml_interpreter *it, tml_observer fn, void *user)
{
    if (!it)
        return;
    it->observer = fn;
    it->observer_user = user;
}

/* ------------------------------------------------------------- details */

int32_t tml_input_count(const tml_interpreter *it) { return it->state ? it->model.ninputs : 0; }
int32_t tml_output_count(const tml_interpreter *it) { return it->state ? it->model.noutputs : 0; }
int32_t tml_tensor_count(const tml_interpreter *it) { return it->state ? it->model.ntensors : 0; }
int32_t tml_op_count(const tml_interpreter *it) { return it->state ? it->model.nops : 0; }

tml_status tml_tensor_details(const tml_interpreter *it, int32_t tensor,
                              tml_tensor_info *out)
{
    if (!it || !out || !it->state || tensor < 0 || tensor >= it->model.ntensors)
        return TML_ERROR_ARGUMENT;
    tml_model_tensor mt;
    tml_model_get_tensor(&it->model, tensor, &mt);
    memset(out, 0, sizeof *out);
    out->name = mt.name;
    out->index = tensor;
    out->dtype = (tml_dtype)mt.type;
    out->ndims = mt.ndims;
    for (int32_t i = 0; i < mt.ndims; i++)
        out->dims[i] = mt.dims[i];
    out->bytes = mt.bytes;
    out->is_constant = mt.data != NULL;
    if (mt.scales) {
        out->scale = mt.scales[0];
        out->zero_point = mt.zero_points ? (int32_t)mt.zero_points[0] : 0;
        out->channels = mt.nscales;
        out->quantized_dimension = mt.quant_dim;
        out->scales = mt.scales;
        out->zero_points = mt.zero_points;
    }
    return TML_OK;
}

static tml_status io_details(const tml_interpreter *it, const int32_t *list,
                             int32_t count, int32_t i, tml_tensor_info *out)
{
    if (i < 0 || i >= count)
        return TML_ERROR_ARGUMENT;
    return tml_tensor_details(it, list[i], out);
}

tml_status tml_input_details(const tml_interpreter *it, int32_t i,
                             tml_tensor_info *out)
{
    if (!it || !it->state)
        return TML_ERROR_ARGUMENT;
    return io_details(it, tml_model_inputs(&it->model), it->model.ninputs, i, out);
}

tml_status tml_output_details(const tml_interpreter *it, int32_t i,
                              tml_tensor_info *out)
{
    if (!it || !it->state)
        return TML_ERROR_ARGUMENT;
    return io_details(it, tml_model_outputs(&it->model), it->model.noutputs, i, out);
}

tml_status tml_op_details(const tml_interpreter *it, int32_t op,
                          tml_op_info *out)
{
    if (!it || !out || !it->state || op < 0 || op >= it->model.nops)
        return TML_ERROR_ARGUMENT;
    tml_model_op mo;
    tml_model_get_op(&it->model, op, &mo);
    out->builtin = mo.builtin;
    out->version = mo.version;
    out->name = tml_op_name(mo.builtin);
    out->ninputs = mo.ninputs;
    out->noutputs = mo.noutputs;
    out->inputs = mo.inputs;
    out->outputs = mo.outputs;
    return TML_OK;
}

/* ------------------------------------------------------------- data I/O */

static tml_tensor *io_tensor(const tml_interpreter *it, int input, int32_t i)
{
    if (!it || it->state != STATE_ALLOCATED)
        return NULL;
    int32_t count = input ? it->model.ninputs : it->model.noutputs;
    if (i < 0 || i >= count)
        return NULL;
    const int32_t *list = input ? tml_model_inputs(&it->model)
                                : tml_model_outputs(&it->model);
    return &it->tensors[list[i]];
}

static tml_status check_io(tml_interpreter *it, const tml_tensor *t,
                           const char *what, int32_t i, const void *data,
                           size_t bytes)
{
    if (it->state != STATE_ALLOCATED)
        return fail(it, TML_ERROR_STATE, "%s: call tml_allocate first", what);
    if (!t)
        return fail(it, TML_ERROR_ARGUMENT, "%s: index %d out of range", what, (int)i);
    if (!data && bytes)
        return fail(it, TML_ERROR_ARGUMENT, "%s: data is NULL", what);
    if (bytes != t->bytes)
        return fail(it, TML_ERROR_INPUT, "%s %d: tensor %d '%s' (%s) has %u "
                    "bytes, got %zu", what, (int)i, (int)tml_tensor_index(it, t),
                    tml_tensor_name(it, t), tml_dtype_name((tml_dtype)t->type),
                    (unsigned)t->bytes, bytes);
    return TML_OK;
}

tml_status tml_set_input(tml_interpreter *it, int32_t i, const void *data,
                         size_t bytes)
{
    if (!it)
        return TML_ERROR_ARGUMENT;
    tml_tensor *t = io_tensor(it, 1, i);
    tml_status s = check_io(it, t, "input", i, data, bytes);
    if (s != TML_OK)
        return s;
    if (bytes)
        memcpy(t->data, data, bytes);
    return TML_OK;
}

tml_status tml_set_input_typed(tml_interpreter *it, int32_t i, tml_dtype dtype,
                               const void *data, size_t bytes)
{
    if (!it)
        return TML_ERROR_ARGUMENT;
    tml_tensor *t = io_tensor(it, 1, i);
    if (t && (tml_dtype)t->type != dtype)
        return fail(it, TML_ERROR_INPUT, "input %d: tensor %d '%s' is %s, got %s",
                    (int)i, (int)tml_tensor_index(it, t), tml_tensor_name(it, t),
                    tml_dtype_name((tml_dtype)t->type), tml_dtype_name(dtype));
    return tml_set_input(it, i, data, bytes);
}

tml_status tml_get_output(const tml_interpreter *it, int32_t i, void *out,
                          size_t bytes)
{
    if (!it)
        return TML_ERROR_ARGUMENT;
    tml_tensor *t = io_tensor(it, 0, i);
    /* The message buffer is the only thing written on a const object's
     * failure path; cast as SQLite does for its error slot. */
    tml_status s = check_io((tml_interpreter *)(uintptr_t)it, t, "output", i,
                            out, bytes);
    if (s != TML_OK)
        return s;
    if (bytes)
        memcpy(out, t->data, bytes);
    return TML_OK;
}

void *tml_input_data(tml_interpreter *it, int32_t i)
{
    tml_tensor *t = io_tensor(it, 1, i);
    return t ? t->data : NULL;
}

const void *tml_output_data(const tml_interpreter *it, int32_t i)
{
    tml_tensor *t = io_tensor(it, 0, i);
    return t ? t->data : NULL;
}

size_t tml_input_bytes(const tml_interpreter *it, int32_t i)
{
    tml_tensor *t = io_tensor(it, 1, i);
    return t ? t->bytes : 0;
}

size_t tml_output_bytes(const tml_interpreter *it, int32_t i)
{
    tml_tensor *t = io_tensor(it, 0, i);
    return t ? t->bytes : 0;
}

const void *tml_tensor_data(const tml_interpreter *it, int32_t tensor)
{
    if (!it || it->state != STATE_ALLOCATED || tensor < 0 ||
        tensor >= it->model.ntensors)
        return NULL;
    return it->tensors[tensor].data;
}

const char *tml_error(const tml_interpreter *it)
{
    return it ? it->error : "interpreter is NULL";
}
