#include "test_util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/lib/file_io.h"

const char *tml_test_shared_dir(void)
{
    const char *d = getenv("TINYML_SHARED");
    /* Default: ../shared beside the checkout, wherever the test runs. */
    return d && *d ? d : TML_SOURCE_DIR "/../shared";
}

void *tml_test_read_shared(const char *rel, size_t *size)
{
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/%s", tml_test_shared_dir(), rel);
    return tml_read_file(path, size, err, sizeof err);
}

/* ---- one-op models ---- */

static void set_err(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    if (!err || err_size == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
}

static size_t dtype_bytes(tml_dtype t)
{
    switch (t) {
    case TML_FLOAT32: case TML_INT32: return 4;
    case TML_FLOAT16: case TML_INT16: return 2;
    case TML_UINT8: case TML_INT8: case TML_BOOL: return 1;
    case TML_INT64: return 8;
    default: return 0;
    }
}

size_t tml_test_tensor_bytes(const tml_test_tensor *t)
{
    size_t n = dtype_bytes(t->type);
    int32_t i;
    for (i = 0; i < t->ndims && i < TML_MAX_DIMS; i++)
        n *= (size_t)(t->dims[i] < 0 ? 0 : t->dims[i]);
    return n;
}

/* Adds one spec as a tensor; returns its index or -1. */
static int32_t add_spec(tml_tfl_writer *w, const tml_test_tensor *s,
                        const char *role, int k)
{
    char name[32];
    float scale = s->scale;
    int64_t zp = s->zero_point;
    tml_tfl_tensor t;
    memset(&t, 0, sizeof t);
    snprintf(name, sizeof name, "%s%d", role, k);
    t.name = s->name ? s->name : name;
    t.type = s->type;
    t.ndims = s->ndims;
    t.dims = s->dims;
    if (s->channels > 0) {
        t.quant.count = s->channels;
        t.quant.scales = s->scales;
        t.quant.zero_points = s->zero_points;
        t.quant.quantized_dimension = s->quant_dim;
    } else if (s->scale != 0.0f) {
        t.quant.count = 1;
        t.quant.scales = &scale;
        t.quant.zero_points = &zp;
    }
    if (s->data)
        return tml_tfl_add_const_tensor(w, &t, s->data,
                                        tml_test_tensor_bytes(s));
    return tml_tfl_add_tensor(w, &t);
}

static int describe(tml_tfl_writer *w, const tml_test_op *op)
{
    int32_t in[TML_TEST_MAX_INPUTS], out[TML_TEST_MAX_OUTPUTS];
    int32_t sg_in[TML_TEST_MAX_INPUTS];
    int32_t nsg_in = 0, i;
    if (op->ninputs < 0 || op->ninputs > TML_TEST_MAX_INPUTS ||
        op->noutputs < 0 || op->noutputs > TML_TEST_MAX_OUTPUTS)
        return -1;
    for (i = 0; i < op->ninputs; i++) {
        const tml_test_tensor *s = &op->inputs[i];
        if (s->absent) {
            in[i] = -1;
            continue;
        }
        in[i] = add_spec(w, s, "input", (int)i);
        if (in[i] < 0)
            return -1;
        if (!s->data)
            sg_in[nsg_in++] = in[i];
    }
    for (i = 0; i < op->noutputs; i++) {
        out[i] = add_spec(w, &op->outputs[i], "output", (int)i);
        if (out[i] < 0)
            return -1;
    }
    if (tml_tfl_add_op(w, op->builtin, op->version ? op->version : 1, in,
                       op->ninputs, out, op->noutputs,
                       op->options.type ? &op->options : NULL) < 0)
        return -1;
    if (tml_tfl_set_inputs(w, sg_in, nsg_in) != 0 ||
        tml_tfl_set_outputs(w, out, op->noutputs) != 0)
        return -1;
    return tml_tfl_set_description(w, "tinyml single-op test");
}

static int describe_graph(tml_tfl_writer *w, const tml_test_graph *g)
{
    int32_t i;
    if (g->ntensors < 0 || g->ntensors > TML_TEST_MAX_TENSORS ||
        g->nops < 0 || g->nops > TML_TEST_MAX_OPS ||
        g->ninputs < 0 || g->ninputs > TML_TEST_MAX_INPUTS ||
        g->noutputs < 0 || g->noutputs > TML_TEST_MAX_INPUTS)
        return -1;
    for (i = 0; i < g->ntensors; i++)
        if (add_spec(w, &g->tensors[i], "t", (int)i) != i)
            return -1;
    for (i = 0; i < g->nops; i++) {
        const tml_test_graph_op *op = &g->ops[i];
        if (op->ninputs < 0 || op->ninputs > TML_TEST_MAX_INPUTS ||
            op->noutputs < 0 || op->noutputs > TML_TEST_MAX_OUTPUTS)
            return -1;
        if (tml_tfl_add_op(w, op->builtin, op->version ? op->version : 1,
                           op->inputs, op->ninputs, op->outputs,
                           op->noutputs,
                           op->options.type ? &op->options : NULL) < 0)
            return -1;
    }
    if (tml_tfl_set_inputs(w, g->inputs, g->ninputs) != 0 ||
        tml_tfl_set_outputs(w, g->outputs, g->noutputs) != 0)
        return -1;
    return tml_tfl_set_description(w, "tinyml test graph");
}

typedef int (*describe_fn)(tml_tfl_writer *w, const void *what);

static int describe_op_cb(tml_tfl_writer *w, const void *what)
{
    return describe(w, what);
}

static int describe_graph_cb(tml_tfl_writer *w, const void *what)
{
    return describe_graph(w, what);
}

static uint8_t *build_with(describe_fn fn, const void *what, size_t *size,
                           char *err, size_t err_size)
{
    tml_tfl_writer *w = tml_tfl_writer_new(NULL);
    const uint8_t *bytes;
    uint8_t *copy = NULL;
    size_t n;
    if (!w) {
        set_err(err, err_size, "out of memory");
        return NULL;
    }
    if (fn(w, what) != 0 || tml_tfl_finish(w, &bytes, &n) != 0) {
        set_err(err, err_size, "building the model: %s",
                *tml_tfl_error(w) ? tml_tfl_error(w)
                                  : "bad tensor, op, input or output count");
        tml_tfl_writer_free(w);
        return NULL;
    }
    copy = aligned_alloc(16, (n + 15) & ~(size_t)15);
    if (copy) {
        memcpy(copy, bytes, n);
        *size = n;
    } else {
        set_err(err, err_size, "out of memory");
    }
    tml_tfl_writer_free(w);
    return copy;
}

uint8_t *tml_test_build_single_op(const tml_test_op *op, size_t *size,
                                  char *err, size_t err_size)
{
    return build_with(describe_op_cb, op, size, err, err_size);
}

uint8_t *tml_test_build_graph(const tml_test_graph *g, size_t *size,
                              char *err, size_t err_size)
{
    return build_with(describe_graph_cb, g, size, err, err_size);
}

static tml_status runner_start(tml_test_runner *r, size_t arena_size)
{
    tml_status s;
    if (!r->model)
        return TML_ERROR_ARGUMENT;
    r->arena_size = arena_size ? arena_size : 256 * 1024;
    r->arena = aligned_alloc(16, (r->arena_size + 15) & ~(size_t)15);
    if (!r->arena) {
        snprintf(r->build_error, sizeof r->build_error, "out of memory");
        return TML_ERROR_ARGUMENT;
    }
    s = tml_create(&r->it, r->model, r->model_size, r->arena, r->arena_size);
    if (s != TML_OK)
        return s;
    return tml_allocate(&r->it);
}

tml_status tml_test_runner_open(tml_test_runner *r, const tml_test_op *op,
                                size_t arena_size)
{
    memset(r, 0, sizeof *r);
    r->model = tml_test_build_single_op(op, &r->model_size, r->build_error,
                                        sizeof r->build_error);
    return runner_start(r, arena_size);
}

tml_status tml_test_runner_open_graph(tml_test_runner *r,
                                      const tml_test_graph *g,
                                      size_t arena_size)
{
    memset(r, 0, sizeof *r);
    r->model = tml_test_build_graph(g, &r->model_size, r->build_error,
                                    sizeof r->build_error);
    return runner_start(r, arena_size);
}

const char *tml_test_runner_error(const tml_test_runner *r)
{
    if (r->build_error[0])
        return r->build_error;
    return tml_error(&r->it);
}

void tml_test_runner_close(tml_test_runner *r)
{
    free(r->model);
    free(r->arena);
    r->model = NULL;
    r->arena = NULL;
}

static tml_status run_io(tml_test_runner *r, const tml_test_op *op,
                         const void *const *inputs, void *const *outputs)
{
    tml_status s;
    int32_t i, k = 0;
    for (i = 0; i < op->ninputs; i++) {
        const tml_test_tensor *t = &op->inputs[i];
        if (t->absent || t->data)
            continue;
        s = tml_set_input(&r->it, k, inputs[k], tml_test_tensor_bytes(t));
        if (s != TML_OK)
            return s;
        k++;
    }
    s = tml_invoke(&r->it);
    if (s != TML_OK)
        return s;
    for (i = 0; i < op->noutputs; i++) {
        s = tml_get_output(&r->it, i, outputs[i],
                           tml_test_tensor_bytes(&op->outputs[i]));
        if (s != TML_OK)
            return s;
    }
    return TML_OK;
}

tml_status tml_test_run_single_op(const tml_test_op *op,
                                  const void *const *inputs,
                                  void *const *outputs, char *err,
                                  size_t err_size)
{
    tml_test_runner r;
    tml_status s = tml_test_runner_open(&r, op, 0);
    if (s == TML_OK)
        s = run_io(&r, op, inputs, outputs);
    if (s != TML_OK)
        set_err(err, err_size, "%s", tml_test_runner_error(&r));
    tml_test_runner_close(&r);
    return s;
}

int8_t tml_test_quantize_i8(float x, float scale, int32_t zero_point)
{
    long q = lroundf(x / scale) + zero_point;
    if (q < -128)
        q = -128;
    if (q > 127)
        q = 127;
    return (int8_t)q;
}

float tml_test_dequantize_i8(int8_t q, float scale, int32_t zero_point)
{
    return ((float)q - (float)zero_point) * scale;
}
