/*
 * Keras model config -> IR.
 *
 * The model config (Keras 2 `model_config` attribute, Keras 3
 * config.json) lists the layers with their options and, for Functional
 * models, who feeds whom.  Each layer becomes TFLite ops in TFLite's
 * layouts (see convert/ir/ir.h); weights come from the HDF5 file through
 * keras_h5.c.  Layers are translated once all their inputs exist, so the
 * IR's ops come out in topological order.
 *
 * Naming: a layer's result tensor carries the layer's name; the tensors it
 * needs on the way are "<layer>/<what>" (e.g. "conv2d/kernel").
 */
#include "convert/import/import.h"
#include "convert/import/keras_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cJSON.h>

#include "runtime/kernel.h"   /* TML_PAD_*, TML_ACT_* */

/* TFLite BuiltinOperator codes (schema.fbs) the importer emits. */
enum {
    OP_ADD = 0,
    OP_AVERAGE_POOL_2D = 1,
    OP_CONCATENATION = 2,
    OP_CONV_2D = 3,
    OP_DEPTHWISE_CONV_2D = 4,
    OP_FULLY_CONNECTED = 9,
    OP_LOGISTIC = 14,
    OP_MAX_POOL_2D = 17,
    OP_MUL = 18,
    OP_RELU = 19,
    OP_RELU6 = 21,
    OP_RESHAPE = 22,
    OP_SOFTMAX = 25,
    OP_TANH = 28,
    OP_PAD = 34,
    OP_TRANSPOSE = 39,
    OP_MEAN = 40,
    OP_SUB = 41,
    OP_LEAKY_RELU = 98,
    OP_ELU = 111,
    OP_HARD_SWISH = 117
};

#define MAX_LAYER_INPUTS 16

typedef struct kmap {
    char *name;
    int32_t tensor;
} kmap;

typedef struct kctx {
    tml_ir_graph *g;
    const keras_weights *src;
    int layout;
    int keras3;
    char *err;
    size_t n;
    kmap *map;          /* layer name -> its output tensor */
    int nmap, cap;
    char **keys;        /* Keras 3 weight keys by config layer index */
    int nkeys;
} kctx;

typedef struct klayer {
    const char *name;
    const char *cls;
    const cJSON *cfg;
    int32_t in[MAX_LAYER_INPUTS];
    int nin;
    /* Where the weights file keeps this layer's weights: the layer name
     * (Keras 2 layout) or its Keras 3 object path key (see store_keys). */
    const char *store;
} klayer;

/* ------------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------- */

static int cfail(kctx *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static int cfail(kctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->n, fmt, ap);
    va_end(ap);
    return -1;
}

/* "layer 'conv3' (Conv2D): <message>" */
static int lfail(kctx *c, const klayer *L, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static int lfail(kctx *c, const klayer *L, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->n, "layer '%s' (%s): %s", L->name, L->cls, msg);
    return -1;
}

static const char *fmt_shape(char *buf, size_t n, int32_t ndims, const int32_t *dims)
{
    size_t at = 0;
    buf[0] = '\0';
    at += (size_t)snprintf(buf, n, "[");
    for (int32_t i = 0; i < ndims && at < n; i++) {
        if (dims[i] < 0)
            at += (size_t)snprintf(buf + at, n - at, "%s?", i ? "," : "");
        else
            at += (size_t)snprintf(buf + at, n - at, "%s%d", i ? "," : "", (int)dims[i]);
    }
    if (at < n)
        snprintf(buf + at, n - at, "]");
    return buf;
}

/* ------------------------------------------------------------------------
 * Config access
 * ---------------------------------------------------------------------- */

static const cJSON *cfg_get(const klayer *L, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(L->cfg, key);
}

static int is_null(const cJSON *v)
{
    return !v || cJSON_IsNull(v);
}

static int cfg_bool(const klayer *L, const char *key, int def)
{
    const cJSON *v = cfg_get(L, key);
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v);
    return def;
}

/* A number option: 0, or -1 when present but not a number. */
static int cfg_num(kctx *c, const klayer *L, const char *key, double def, double *out)
{
    const cJSON *v = cfg_get(L, key);
    *out = def;
    if (is_null(v))
        return 0;
    if (!cJSON_IsNumber(v))
        return lfail(c, L, "option '%s' is not a number", key);
    *out = v->valuedouble;
    return 0;
}

static const char *cfg_str(const klayer *L, const char *key, const char *def)
{
    const cJSON *v = cfg_get(L, key);
    if (cJSON_IsString(v))
        return v->valuestring;
    return def;
}

static int json_int(const cJSON *v, int32_t *out)
{
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
        v->valuedouble < -1e9 || v->valuedouble > 1e9)
        return -1;
    *out = (int32_t)v->valuedouble;
    return 0;
}

/* An int option given as one int or a list of `count` ints (kernel_size,
 * strides, ...).  Missing or null -> def (NULL: the option is required). */
static int cfg_ints(kctx *c, const klayer *L, const char *key, int count,
                    int32_t *out, const int32_t *def)
{
    const cJSON *v = cfg_get(L, key);
    if (is_null(v)) {
        if (!def)
            return lfail(c, L, "option '%s' is missing", key);
        memcpy(out, def, (size_t)count * sizeof *out);
        return 0;
    }
    if (cJSON_IsNumber(v)) {
        int32_t x;
        if (json_int(v, &x) < 0)
            return lfail(c, L, "option '%s' is not an integer", key);
        for (int i = 0; i < count; i++)
            out[i] = x;
        return 0;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != count)
        return lfail(c, L, "option '%s' must be an integer or a list of %d", key, count);
    for (int i = 0; i < count; i++)
        if (json_int(cJSON_GetArrayItem(v, i), &out[i]) < 0)
            return lfail(c, L, "option '%s' is not a list of integers", key);
    return 0;
}

static int check_channels_last(kctx *c, const klayer *L)
{
    const char *df = cfg_str(L, "data_format", "channels_last");
    if (strcmp(df, "channels_last") != 0)
        return lfail(c, L, "data_format '%s' is not supported", df);
    return 0;
}

static int cfg_padding(kctx *c, const klayer *L, int32_t *pad)
{
    const char *p = cfg_str(L, "padding", "valid");
    if (strcmp(p, "same") == 0)
        *pad = TML_PAD_SAME;
    else if (strcmp(p, "valid") == 0)
        *pad = TML_PAD_VALID;
    else
        return lfail(c, L, "padding '%s' is not supported", p);
    return 0;
}

/* ------------------------------------------------------------------------
 * Graph building
 * ---------------------------------------------------------------------- */

static const tml_ir_tensor *ten(kctx *c, int32_t t)
{
    return &c->g->tensors[t];
}

static int ir_fail(kctx *c, const klayer *L)
{
    return lfail(c, L, "%s", c->g->error);
}

static int32_t new_act(kctx *c, const klayer *L, const char *what, int32_t ndims,
                       const int32_t *dims)
{
    char name[300];
    snprintf(name, sizeof name, "%s/%s", L->name, what);
    int32_t t = tml_ir_add_tensor(c->g, name, TML_FLOAT32, ndims, dims);
    if (t < 0)
        ir_fail(c, L);
    return t;
}

static int32_t new_const(kctx *c, const klayer *L, const char *what, tml_dtype dt,
                         int32_t ndims, const int32_t *dims, const void *data)
{
    char name[300];
    snprintf(name, sizeof name, "%s/%s", L->name, what);
    int32_t t = tml_ir_add_const(c->g, name, dt, ndims, dims, data);
    if (t < 0)
        ir_fail(c, L);
    return t;
}

/* Appends op(ins) -> a new float tensor "<layer>/<what>" of shape dims. */
static int32_t emit(kctx *c, const klayer *L, int32_t builtin, const int32_t *ins,
                    int32_t nin, int32_t ndims, const int32_t *dims,
                    const tml_ir_attrs *a, const char *what)
{
    int32_t out = new_act(c, L, what, ndims, dims);
    if (out < 0)
        return -1;
    if (tml_ir_add_op(c->g, builtin, ins, nin, &out, 1, a, L->name) < 0)
        return ir_fail(c, L);
    return out;
}

/* Same shape as x. */
static int32_t emit_like(kctx *c, const klayer *L, int32_t builtin, const int32_t *ins,
                         int32_t nin, int32_t x, const tml_ir_attrs *a, const char *what)
{
    int32_t dims[TML_MAX_DIMS];
    int32_t nd = ten(c, x)->ndims;
    memcpy(dims, ten(c, x)->dims, sizeof dims);
    return emit(c, L, builtin, ins, nin, nd, dims, a, what);
}

/* x * k (+ b): a MUL with constant k and, if b is given, an ADD with b;
 * both constants of shape [count] (broadcast along the last axis). */
static int32_t mul_add(kctx *c, const klayer *L, int32_t x, int32_t count,
                       const float *k, const float *b, const char *what)
{
    char name[64];
    int32_t d[1] = {count};
    snprintf(name, sizeof name, "%s_scale", what);
    int32_t kt = new_const(c, L, name, TML_FLOAT32, 1, d, k);
    if (kt < 0)
        return -1;
    snprintf(name, sizeof name, "%s_mul", what);
    int32_t y = emit_like(c, L, OP_MUL, (int32_t[]){x, kt}, 2, x, NULL, name);
    if (y < 0 || !b)
        return y;
    snprintf(name, sizeof name, "%s_offset", what);
    int32_t bt = new_const(c, L, name, TML_FLOAT32, 1, d, b);
    if (bt < 0)
        return -1;
    snprintf(name, sizeof name, "%s_add", what);
    return emit_like(c, L, OP_ADD, (int32_t[]){y, bt}, 2, y, NULL, name);
}

static int32_t reshape(kctx *c, const klayer *L, int32_t x, int32_t ndims,
                       const int32_t *dims, const char *what)
{
    char name[64];
    snprintf(name, sizeof name, "%s_shape", what);
    int32_t d[1] = {ndims};
    int32_t st = new_const(c, L, name, TML_INT32, 1, d, dims);
    if (st < 0)
        return -1;
    tml_ir_attrs a = tml_ir_default_attrs();
    a.nshape = ndims;
    memcpy(a.shape, dims, (size_t)ndims * sizeof *dims);
    return emit(c, L, OP_RESHAPE, (int32_t[]){x, st}, 2, ndims, dims, &a, what);
}

static int need_rank(kctx *c, const klayer *L, int32_t x, int32_t rank)
{
    char s[96];
    const tml_ir_tensor *t = ten(c, x);
    if (t->ndims != rank)
        return lfail(c, L, "expects a rank-%d input (batch included), got %s", (int)rank,
                     fmt_shape(s, sizeof s, t->ndims, t->dims));
    return 0;
}

static int32_t last_dim(kctx *c, int32_t x)
{
    const tml_ir_tensor *t = ten(c, x);
    return t->ndims ? t->dims[t->ndims - 1] : 1;
}

/* ------------------------------------------------------------------------
 * Weights
 * ---------------------------------------------------------------------- */

/* Reads a weight and checks its shape (expect[i] < 0 = any). */
static int weight(kctx *c, const klayer *L, const char *names, int index,
                  int32_t ndims, const int32_t *expect, keras_array *w)
{
    char msg[256];
    int rc = c->src->read(c->src->ctx, L->store, names, index, w, msg, sizeof msg);
    if (rc <= 0)
        return lfail(c, L, "%s", msg);
    int ok = w->ndims == ndims;
    for (int32_t i = 0; ok && i < ndims; i++)
        ok = expect[i] < 0 || w->dims[i] == expect[i];
    if (!ok) {
        char got[96], want[96];
        fmt_shape(got, sizeof got, w->ndims, w->dims);
        fmt_shape(want, sizeof want, ndims, expect);
        keras_array_free(w);
        return lfail(c, L, "weight '%.*s' has shape %s, expected %s",
                     (int)strcspn(names, "|"), names, got, want);
    }
    return 0;
}

/* The bias constant: the stored one, or zeros when use_bias is false. */
static int32_t bias_const(kctx *c, const klayer *L, const char *names, int index,
                          int32_t count)
{
    int32_t d[1] = {count};
    if (!cfg_bool(L, "use_bias", 1)) {
        float *z = calloc((size_t)count ? (size_t)count : 1, sizeof *z);
        if (!z)
            return cfail(c, "out of memory");
        int32_t t = new_const(c, L, "bias", TML_FLOAT32, 1, d, z);
        free(z);
        return t;
    }
    keras_array b;
    if (weight(c, L, names, index, 1, d, &b) < 0)
        return -1;
    int32_t t = new_const(c, L, "bias", TML_FLOAT32, 1, d, b.data);
    keras_array_free(&b);
    return t;
}

/* ------------------------------------------------------------------------
 * Activations
 * ---------------------------------------------------------------------- */

/* Keras hard_sigmoid: Keras 2 clip(0.2 x + 0.5, 0, 1), Keras 3
 * relu6(x + 3) / 6.  Both as relu6(a x + 3) / 6 (a = 1.2 or 1), which
 * uses only ops the runtime has (TFLite lowers the clip to MINIMUM /
 * MAXIMUM, which it lacks). */
static int32_t hard_sigmoid(kctx *c, const klayer *L, int32_t x)
{
    float a = c->keras3 ? 1.0f : 1.2f, three = 3.0f, sixth = 1.0f / 6.0f;
    int32_t y = mul_add(c, L, x, 1, &a, &three, "hsig");
    if (y < 0)
        return -1;
    y = emit_like(c, L, OP_RELU6, &y, 1, y, NULL, "hsig_relu6");
    if (y < 0)
        return -1;
    return mul_add(c, L, y, 1, &sixth, NULL, "hsig_div6");
}

static int32_t activation(kctx *c, const klayer *L, int32_t x, const cJSON *act)
{
    if (is_null(act))
        return x;
    if (!cJSON_IsString(act))
        return lfail(c, L, "only named activations are supported");
    const char *a = act->valuestring;
    if (strcmp(a, "linear") == 0)
        return x;
    if (strcmp(a, "relu") == 0)
        return emit_like(c, L, OP_RELU, &x, 1, x, NULL, "relu");
    if (strcmp(a, "relu6") == 0)
        return emit_like(c, L, OP_RELU6, &x, 1, x, NULL, "relu6");
    if (strcmp(a, "sigmoid") == 0)
        return emit_like(c, L, OP_LOGISTIC, &x, 1, x, NULL, "sigmoid");
    if (strcmp(a, "tanh") == 0)
        return emit_like(c, L, OP_TANH, &x, 1, x, NULL, "tanh");
    if (strcmp(a, "softmax") == 0)
        return emit_like(c, L, OP_SOFTMAX, &x, 1, x, NULL, "softmax");
    if (strcmp(a, "swish") == 0 || strcmp(a, "silu") == 0) {
        int32_t s = emit_like(c, L, OP_LOGISTIC, &x, 1, x, NULL, "swish_sigmoid");
        if (s < 0)
            return -1;
        return emit_like(c, L, OP_MUL, (int32_t[]){x, s}, 2, x, NULL, "swish");
    }
    if (strcmp(a, "hard_sigmoid") == 0)
        return hard_sigmoid(c, L, x);
    if (strcmp(a, "hard_swish") == 0 || strcmp(a, "hard_silu") == 0)
        return emit_like(c, L, OP_HARD_SWISH, &x, 1, x, NULL, "hard_swish");
    if (strcmp(a, "elu") == 0)
        return emit_like(c, L, OP_ELU, &x, 1, x, NULL, "elu");
    if (strcmp(a, "leaky_relu") == 0) {
        /* Keras (2 and 3) activation leaky_relu: negative slope 0.2. */
        tml_ir_attrs at = tml_ir_default_attrs();
        at.alpha = 0.2f;
        return emit_like(c, L, OP_LEAKY_RELU, &x, 1, x, &at, "leaky_relu");
    }
    return lfail(c, L, "activation '%s' is not supported", a);
}

/* ------------------------------------------------------------------------
 * Layers
 * ---------------------------------------------------------------------- */

static int32_t conv_out(int32_t in, int32_t k, int32_t stride, int32_t dil, int32_t pad)
{
    if (pad == TML_PAD_SAME)
        return (int32_t)(((int64_t)in + stride - 1) / stride);
    /* In 64 bits: kernel_size and dilation_rate are each up to 65536. */
    int64_t eff = (int64_t)(k - 1) * dil + 1;
    return in < eff ? 0 : (int32_t)((in - eff) / stride + 1);
}

static int positive(kctx *c, const klayer *L, const char *what, const int32_t *v, int n)
{
    for (int i = 0; i < n; i++)
        if (v[i] <= 0 || v[i] > 65536)
            return lfail(c, L, "option '%s' must be positive, got %d", what, (int)v[i]);
    return 0;
}

static int32_t layer_dense(kctx *c, klayer *L)
{
    int32_t x = L->in[0], units;
    if (cfg_ints(c, L, "units", 1, &units, NULL) < 0 || positive(c, L, "units", &units, 1) < 0)
        return -1;
    /* Copy the input's shape now: adding tensors may move c->g->tensors. */
    int32_t dims[TML_MAX_DIMS];
    int32_t nd = ten(c, x)->ndims;
    memcpy(dims, ten(c, x)->dims, sizeof dims);
    if (nd < 2)
        return lfail(c, L, "expects an input of rank 2 or more");
    int32_t in = dims[nd - 1];
    keras_array k;
    if (weight(c, L, "kernel", 0, 2, (int32_t[]){in, units}, &k) < 0)
        return -1;
    /* Keras kernel [in, out] -> TFLite FULLY_CONNECTED weights [out, in]. */
    float *w = malloc(k.count * sizeof *w);
    if (!w) {
        keras_array_free(&k);
        return cfail(c, "out of memory");
    }
    for (int32_t i = 0; i < in; i++)
        for (int32_t o = 0; o < units; o++)
            w[(size_t)o * in + i] = k.data[(size_t)i * units + o];
    keras_array_free(&k);
    int32_t wt = new_const(c, L, "kernel", TML_FLOAT32, 2, (int32_t[]){units, in}, w);
    free(w);
    if (wt < 0)
        return -1;
    int32_t bt = bias_const(c, L, "bias", 1, units);
    if (bt < 0)
        return -1;
    tml_ir_attrs a = tml_ir_default_attrs();
    a.keep_dims = nd > 2;
    dims[nd - 1] = units;
    int32_t y = emit(c, L, OP_FULLY_CONNECTED, (int32_t[]){x, wt, bt}, 3, nd, dims, &a,
                     "fc");
    if (y < 0)
        return -1;
    return activation(c, L, y, cfg_get(L, "activation"));
}

/* Keras kernel [kh, kw, in, out] (HWIO) -> TFLite OHWI. */
static float *hwio_to_ohwi(const keras_array *k)
{
    int32_t kh = k->dims[0], kw = k->dims[1], ci = k->dims[2], co = k->dims[3];
    float *w = malloc(k->count ? k->count * sizeof *w : sizeof *w);
    if (!w)
        return NULL;
    for (int32_t h = 0; h < kh; h++)
        for (int32_t x = 0; x < kw; x++)
            for (int32_t i = 0; i < ci; i++)
                for (int32_t o = 0; o < co; o++)
                    w[(((size_t)o * kh + h) * kw + x) * ci + i] =
                        k->data[(((size_t)h * kw + x) * ci + i) * co + o];
    return w;
}

typedef struct conv_opts {
    int32_t k[2], s[2], d[2], pad;
    int32_t groups;           /* Conv1D/2D: TFLite infers it from the filter */
} conv_opts;

/* kernel_size / strides / dilation_rate / padding / data_format, for
 * `rank` spatial dims (1 or 2). */
static int conv_options(kctx *c, const klayer *L, int rank, conv_opts *o)
{
    static const int32_t one[2] = {1, 1};
    if (check_channels_last(c, L) < 0 ||
        cfg_ints(c, L, "kernel_size", rank, o->k, NULL) < 0 ||
        cfg_ints(c, L, "strides", rank, o->s, one) < 0 ||
        cfg_ints(c, L, "dilation_rate", rank, o->d, one) < 0 ||
        positive(c, L, "kernel_size", o->k, rank) < 0 ||
        positive(c, L, "strides", o->s, rank) < 0 ||
        positive(c, L, "dilation_rate", o->d, rank) < 0)
        return -1;
    if (cfg_ints(c, L, "groups", 1, &o->groups, one) < 0 ||
        positive(c, L, "groups", &o->groups, 1) < 0)
        return -1;
    if (rank == 1 && strcmp(cfg_str(L, "padding", "valid"), "causal") == 0)
        return lfail(c, L, "padding 'causal' is not supported");
    if (cfg_padding(c, L, &o->pad) < 0)
        return -1;
    if (rank == 1) {
        /* A 1D conv runs as 2D over a [1, 1, W, C] view. */
        o->k[1] = o->k[0], o->k[0] = 1;
        o->s[1] = o->s[0], o->s[0] = 1;
        o->d[1] = o->d[0], o->d[0] = 1;
    }
    return 0;
}

static tml_ir_attrs conv_attrs(const conv_opts *o)
{
    tml_ir_attrs a = tml_ir_default_attrs();
    a.padding = o->pad;
    a.stride_h = o->s[0], a.stride_w = o->s[1];
    a.dilation_h = o->d[0], a.dilation_w = o->d[1];
    return a;
}

static int out_hw(kctx *c, const klayer *L, int32_t x, const conv_opts *o, int32_t *oh,
                  int32_t *ow)
{
    const tml_ir_tensor *t = ten(c, x);
    *oh = conv_out(t->dims[1], o->k[0], o->s[0], o->d[0], o->pad);
    *ow = conv_out(t->dims[2], o->k[1], o->s[1], o->d[1], o->pad);
    if (*oh <= 0 || *ow <= 0)
        return lfail(c, L, "the kernel is larger than the input (%dx%d)", (int)t->dims[1],
                     (int)t->dims[2]);
    return 0;
}

/* Grouped convolution: TFLite's CONV_2D takes groups = input channels /
 * filter channels, so the filter keeps in / groups channels. */
static int group_channels(kctx *c, const klayer *L, int32_t cin, int32_t filters,
                          const conv_opts *o, int32_t *per_group)
{
    if (cin % o->groups != 0 || filters % o->groups != 0)
        return lfail(c, L, "groups %d does not divide the %d input channels and %d filters",
                     (int)o->groups, (int)cin, (int)filters);
    *per_group = cin / o->groups;
    return 0;
}

/* CONV_2D of a rank-4 x with a Keras HWIO kernel given as
 * [kh, kw, in / groups, out]. */
static int32_t conv2d_core(kctx *c, const klayer *L, int32_t x, const conv_opts *o,
                           int32_t filters, const char *what)
{
    int32_t cin = 0, oh = 0, ow = 0;
    if (group_channels(c, L, last_dim(c, x), filters, o, &cin) < 0 ||
        out_hw(c, L, x, o, &oh, &ow) < 0)
        return -1;
    keras_array k;
    if (weight(c, L, "kernel", 0, 4, (int32_t[]){o->k[0], o->k[1], cin, filters}, &k) < 0)
        return -1;
    float *w = hwio_to_ohwi(&k);
    keras_array_free(&k);
    if (!w)
        return cfail(c, "out of memory");
    int32_t wt = new_const(c, L, "kernel", TML_FLOAT32, 4,
                           (int32_t[]){filters, o->k[0], o->k[1], cin}, w);
    free(w);
    if (wt < 0)
        return -1;
    int32_t bt = bias_const(c, L, "bias", 1, filters);
    if (bt < 0)
        return -1;
    tml_ir_attrs a = conv_attrs(o);
    return emit(c, L, OP_CONV_2D, (int32_t[]){x, wt, bt}, 3, 4,
                (int32_t[]){1, oh, ow, filters}, &a, what);
}

static int32_t layer_conv2d(kctx *c, klayer *L)
{
    conv_opts o = {{1, 1}, {1, 1}, {1, 1}, TML_PAD_VALID, 1};
    int32_t filters, x = L->in[0];
    if (need_rank(c, L, x, 4) < 0 || conv_options(c, L, 2, &o) < 0 ||
        cfg_ints(c, L, "filters", 1, &filters, NULL) < 0 ||
        positive(c, L, "filters", &filters, 1) < 0)
        return -1;
    int32_t y = conv2d_core(c, L, x, &o, filters, "conv");
    if (y < 0)
        return -1;
    return activation(c, L, y, cfg_get(L, "activation"));
}

static int32_t layer_conv1d(kctx *c, klayer *L)
{
    conv_opts o = {{1, 1}, {1, 1}, {1, 1}, TML_PAD_VALID, 1};
    int32_t filters, x = L->in[0];
    if (need_rank(c, L, x, 3) < 0 || conv_options(c, L, 1, &o) < 0 ||
        cfg_ints(c, L, "filters", 1, &filters, NULL) < 0 ||
        positive(c, L, "filters", &filters, 1) < 0)
        return -1;
    int32_t w = ten(c, x)->dims[1], cin = 0;
    if (group_channels(c, L, ten(c, x)->dims[2], filters, &o, &cin) < 0)
        return -1;
    int32_t x4 = reshape(c, L, x, 4, (int32_t[]){1, 1, w, ten(c, x)->dims[2]}, "to2d");
    if (x4 < 0)
        return -1;
    /* Keras Conv1D kernel [k, in, out] is HWIO with H = 1 dropped. */
    int32_t oh, ow;
    if (out_hw(c, L, x4, &o, &oh, &ow) < 0)
        return -1;
    keras_array k;
    if (weight(c, L, "kernel", 0, 3, (int32_t[]){o.k[1], cin, filters}, &k) < 0)
        return -1;
    k.ndims = 4;
    k.dims[0] = 1, k.dims[1] = o.k[1], k.dims[2] = cin, k.dims[3] = filters;
    float *wd = hwio_to_ohwi(&k);
    keras_array_free(&k);
    if (!wd)
        return cfail(c, "out of memory");
    int32_t wt = new_const(c, L, "kernel", TML_FLOAT32, 4, (int32_t[]){filters, 1, o.k[1], cin},
                           wd);
    free(wd);
    if (wt < 0)
        return -1;
    int32_t bt = bias_const(c, L, "bias", 1, filters);
    if (bt < 0)
        return -1;
    tml_ir_attrs a = conv_attrs(&o);
    int32_t y = emit(c, L, OP_CONV_2D, (int32_t[]){x4, wt, bt}, 3, 4,
                     (int32_t[]){1, 1, ow, filters}, &a, "conv");
    if (y < 0)
        return -1;
    y = reshape(c, L, y, 3, (int32_t[]){1, ow, filters}, "to1d");
    if (y < 0)
        return -1;
    return activation(c, L, y, cfg_get(L, "activation"));
}

/* DEPTHWISE_CONV_2D with the Keras kernel [kh, kw, in, mult]; its memory
 * order is already TFLite's [1, kh, kw, in * mult]. */
static int32_t depthwise_core(kctx *c, const klayer *L, int32_t x, const conv_opts *o,
                              int32_t mult, const char *kernel_names, int with_bias,
                              const char *what)
{
    int32_t cin = last_dim(c, x), oh, ow;
    if (out_hw(c, L, x, o, &oh, &ow) < 0)
        return -1;
    keras_array k;
    if (weight(c, L, kernel_names, 0, 4, (int32_t[]){o->k[0], o->k[1], cin, mult}, &k) < 0)
        return -1;
    int32_t wt = new_const(c, L, "depthwise_kernel", TML_FLOAT32, 4,
                           (int32_t[]){1, o->k[0], o->k[1], cin * mult}, k.data);
    keras_array_free(&k);
    if (wt < 0)
        return -1;
    int32_t bt;
    if (with_bias) {
        bt = bias_const(c, L, "bias", 1, cin * mult);
    } else {
        float *z = calloc((size_t)(cin * mult), sizeof *z);
        if (!z)
            return cfail(c, "out of memory");
        bt = new_const(c, L, "depthwise_bias", TML_FLOAT32, 1, (int32_t[]){cin * mult}, z);
        free(z);
    }
    if (bt < 0)
        return -1;
    tml_ir_attrs a = conv_attrs(o);
    a.depth_multiplier = mult;
    return emit(c, L, OP_DEPTHWISE_CONV_2D, (int32_t[]){x, wt, bt}, 3, 4,
                (int32_t[]){1, oh, ow, cin * mult}, &a, what);
}

static int32_t layer_depthwise(kctx *c, klayer *L)
{
    conv_opts o = {{1, 1}, {1, 1}, {1, 1}, TML_PAD_VALID, 1};
    int32_t mult, x = L->in[0];
    static const int32_t one = 1;
    if (need_rank(c, L, x, 4) < 0 || conv_options(c, L, 2, &o) < 0 ||
        cfg_ints(c, L, "depth_multiplier", 1, &mult, &one) < 0 ||
        positive(c, L, "depth_multiplier", &mult, 1) < 0)
        return -1;
    int32_t y = depthwise_core(c, L, x, &o, mult, "depthwise_kernel|kernel", 1, "dwconv");
    if (y < 0)
        return -1;
    return activation(c, L, y, cfg_get(L, "activation"));
}

/* SeparableConv2D = DEPTHWISE_CONV_2D (zero bias) + 1x1 CONV_2D. */
static int32_t layer_separable(kctx *c, klayer *L)
{
    conv_opts o = {{1, 1}, {1, 1}, {1, 1}, TML_PAD_VALID, 1};
    int32_t mult, filters, x = L->in[0];
    static const int32_t one = 1;
    if (need_rank(c, L, x, 4) < 0 || conv_options(c, L, 2, &o) < 0 ||
        cfg_ints(c, L, "depth_multiplier", 1, &mult, &one) < 0 ||
        cfg_ints(c, L, "filters", 1, &filters, NULL) < 0 ||
        positive(c, L, "depth_multiplier", &mult, 1) < 0 ||
        positive(c, L, "filters", &filters, 1) < 0)
        return -1;
    int32_t cin = last_dim(c, x);
    int32_t dw = depthwise_core(c, L, x, &o, mult, "depthwise_kernel", 0, "depthwise");
    if (dw < 0)
        return -1;
    keras_array k;
    if (weight(c, L, "pointwise_kernel", 1, 4, (int32_t[]){1, 1, cin * mult, filters}, &k) < 0)
        return -1;
    float *w = hwio_to_ohwi(&k);
    keras_array_free(&k);
    if (!w)
        return cfail(c, "out of memory");
    int32_t wt = new_const(c, L, "pointwise_kernel", TML_FLOAT32, 4,
                           (int32_t[]){filters, 1, 1, cin * mult}, w);
    free(w);
    if (wt < 0)
        return -1;
    int32_t bt = bias_const(c, L, "bias", 2, filters);
    if (bt < 0)
        return -1;
    tml_ir_attrs a = tml_ir_default_attrs();
    const tml_ir_tensor *t = ten(c, dw);
    int32_t y = emit(c, L, OP_CONV_2D, (int32_t[]){dw, wt, bt}, 3, 4,
                     (int32_t[]){1, t->dims[1], t->dims[2], filters}, &a, "pointwise");
    if (y < 0)
        return -1;
    return activation(c, L, y, cfg_get(L, "activation"));
}

/* The layer's axis option must name the last axis of x. */
static int last_axis_only(kctx *c, const klayer *L, int32_t x, const char *key,
                          int required)
{
    const cJSON *v = cfg_get(L, key);
    int32_t rank = ten(c, x)->ndims, axis;
    if (is_null(v))
        return required ? lfail(c, L, "option '%s' is missing", key) : 0;
    if (cJSON_IsArray(v)) {
        if (cJSON_GetArraySize(v) != 1)
            return lfail(c, L, "%s over several axes is not supported", key);
        v = cJSON_GetArrayItem(v, 0);
    }
    if (json_int(v, &axis) < 0)
        return lfail(c, L, "option '%s' is not an integer", key);
    if (axis != -1 && axis != rank - 1)
        return lfail(c, L, "%s %d is not supported (only the last axis)", key, (int)axis);
    return 0;
}

static int32_t layer_batchnorm(kctx *c, klayer *L)
{
    int32_t x = L->in[0];
    if (ten(c, x)->ndims < 2)
        return lfail(c, L, "expects an input of rank 2 or more");
    if (last_axis_only(c, L, x, "axis", 0) < 0)
        return -1;
    if (cfg_bool(L, "renorm", 0))
        return lfail(c, L, "renorm is not supported");
    double eps;
    if (cfg_num(c, L, "epsilon", 1e-3, &eps) < 0)
        return -1;
    int center = cfg_bool(L, "center", 1), scale = cfg_bool(L, "scale", 1);
    int32_t ch = last_dim(c, x);
    int32_t d[1] = {ch};
    /* Variables in creation order: gamma (scale), beta (center),
     * moving_mean, moving_variance. */
    keras_array gamma = {0}, beta = {0}, mean = {0}, var = {0};
    int idx = 0, rc = -1;
    if (scale && weight(c, L, "gamma", idx++, 1, d, &gamma) < 0)
        goto done;
    if (center && weight(c, L, "beta", idx++, 1, d, &beta) < 0)
        goto done;
    if (weight(c, L, "moving_mean", idx, 1, d, &mean) < 0 ||
        weight(c, L, "moving_variance", idx + 1, 1, d, &var) < 0)
        goto done;
    float *k = malloc(2 * (size_t)ch * sizeof *k);
    if (!k) {
        cfail(c, "out of memory");
        goto done;
    }
    float *b = k + ch;
    for (int32_t i = 0; i < ch; i++) {
        /* In double, rounded once to float. */
        double g = scale ? (double)gamma.data[i] : 1.0;
        double s = g / sqrt((double)var.data[i] + eps);
        double off = (center ? (double)beta.data[i] : 0.0) - (double)mean.data[i] * s;
        k[i] = (float)s;
        b[i] = (float)off;
    }
    rc = mul_add(c, L, x, ch, k, b, "bn");
    free(k);
done:
    keras_array_free(&gamma);
    keras_array_free(&beta);
    keras_array_free(&mean);
    keras_array_free(&var);
    return rc;
}

static int32_t layer_activation(kctx *c, klayer *L)
{
    const cJSON *a = cfg_get(L, "activation");
    if (is_null(a))
        return lfail(c, L, "option 'activation' is missing");
    return activation(c, L, L->in[0], a);
}

static int32_t layer_relu(kctx *c, klayer *L)
{
    double maxv, slope, thr;
    int32_t x = L->in[0];
    if (cfg_num(c, L, "negative_slope", 0.0, &slope) < 0 ||
        cfg_num(c, L, "threshold", 0.0, &thr) < 0 ||
        cfg_num(c, L, "max_value", -1.0, &maxv) < 0)
        return -1;
    int has_max = !is_null(cfg_get(L, "max_value"));
    if (thr != 0.0)
        return lfail(c, L, "threshold %g is not supported (only 0)", thr);
    if (slope == 0.0 && !has_max)
        return emit_like(c, L, OP_RELU, &x, 1, x, NULL, "relu");
    if (slope == 0.0 && maxv == 6.0)
        return emit_like(c, L, OP_RELU6, &x, 1, x, NULL, "relu6");
    if (has_max)
        return lfail(c, L, "max_value %g is not supported (only none, or 6 with negative_slope 0)",
                     maxv);
    tml_ir_attrs a = tml_ir_default_attrs();
    a.alpha = (float)slope;
    return emit_like(c, L, OP_LEAKY_RELU, &x, 1, x, &a, "leaky_relu");
}

static int32_t layer_leaky_relu(kctx *c, klayer *L)
{
    double alpha;
    int32_t x = L->in[0];
    /* Keras 2 calls it alpha, Keras 3 negative_slope; default 0.3. */
    const char *key = is_null(cfg_get(L, "negative_slope")) ? "alpha" : "negative_slope";
    if (cfg_num(c, L, key, 0.3, &alpha) < 0)
        return -1;
    tml_ir_attrs a = tml_ir_default_attrs();
    a.alpha = (float)alpha;
    return emit_like(c, L, OP_LEAKY_RELU, &x, 1, x, &a, "leaky_relu");
}

static int32_t layer_softmax(kctx *c, klayer *L)
{
    int32_t x = L->in[0];
    if (last_axis_only(c, L, x, "axis", 0) < 0)
        return -1;
    return emit_like(c, L, OP_SOFTMAX, &x, 1, x, NULL, "softmax");
}

/* MaxPooling / AveragePooling, 1D (rank 1) or 2D. */
static int32_t layer_pool(kctx *c, klayer *L, int32_t builtin, int rank)
{
    int32_t x = L->in[0], k[2], s[2], pad = TML_PAD_VALID;
    static const int32_t two[2] = {2, 2};
    if (need_rank(c, L, x, rank + 2) < 0 || check_channels_last(c, L) < 0 ||
        cfg_ints(c, L, "pool_size", rank, k, two) < 0 || positive(c, L, "pool_size", k, rank) < 0 ||
        cfg_ints(c, L, "strides", rank, s, k) < 0 || positive(c, L, "strides", s, rank) < 0 ||
        cfg_padding(c, L, &pad) < 0)
        return -1;
    int32_t ch = last_dim(c, x), x4 = x;
    if (rank == 1) {
        k[1] = k[0], k[0] = 1;
        s[1] = s[0], s[0] = 1;
        x4 = reshape(c, L, x, 4, (int32_t[]){1, 1, ten(c, x)->dims[1], ch}, "to2d");
        if (x4 < 0)
            return -1;
    }
    conv_opts o = {{k[0], k[1]}, {s[0], s[1]}, {1, 1}, pad, 1};
    int32_t oh, ow;
    if (out_hw(c, L, x4, &o, &oh, &ow) < 0)
        return -1;
    tml_ir_attrs a = conv_attrs(&o);
    a.filter_h = k[0], a.filter_w = k[1];
    int32_t y = emit(c, L, builtin, &x4, 1, 4, (int32_t[]){1, oh, ow, ch}, &a, "pool");
    if (y < 0 || rank == 2)
        return y;
    return reshape(c, L, y, 3, (int32_t[]){1, ow, ch}, "to1d");
}

/* GlobalAveragePooling1D/2D: MEAN over the spatial axes, as TF emits. */
static int32_t layer_global_avg(kctx *c, klayer *L, int rank)
{
    int32_t x = L->in[0];
    if (need_rank(c, L, x, rank + 2) < 0 || check_channels_last(c, L) < 0)
        return -1;
    int keep = cfg_bool(L, "keepdims", 0);
    int32_t ch = last_dim(c, x);
    int32_t axes[2] = {1, 2};
    int32_t at = new_const(c, L, "axes", TML_INT32, 1, (int32_t[]){rank}, axes);
    if (at < 0)
        return -1;
    tml_ir_attrs a = tml_ir_default_attrs();
    a.keep_dims = keep;
    int32_t dims[4] = {1, 1, 1, 1};
    int32_t nd = keep ? rank + 2 : 2;
    dims[nd - 1] = ch;
    return emit(c, L, OP_MEAN, (int32_t[]){x, at}, 2, nd, dims, &a, "mean");
}

/* GlobalMaxPooling1D/2D: MAX_POOL_2D over the whole map, then RESHAPE. */
static int32_t layer_global_max(kctx *c, klayer *L, int rank)
{
    int32_t x = L->in[0];
    if (need_rank(c, L, x, rank + 2) < 0 || check_channels_last(c, L) < 0)
        return -1;
    int keep = cfg_bool(L, "keepdims", 0);
    int32_t ch = last_dim(c, x), x4 = x;
    if (rank == 1) {
        x4 = reshape(c, L, x, 4, (int32_t[]){1, 1, ten(c, x)->dims[1], ch}, "to2d");
        if (x4 < 0)
            return -1;
    }
    tml_ir_attrs a = tml_ir_default_attrs();
    a.filter_h = ten(c, x4)->dims[1], a.filter_w = ten(c, x4)->dims[2];
    int32_t y = emit(c, L, OP_MAX_POOL_2D, &x4, 1, 4, (int32_t[]){1, 1, 1, ch}, &a, "pool");
    if (y < 0 || (keep && rank == 2))
        return y;
    int32_t dims[3] = {1, 1, 1};
    int32_t nd = keep ? 3 : 2;
    dims[nd - 1] = ch;
    return reshape(c, L, y, nd, dims, "reshape");
}

static int32_t layer_flatten(kctx *c, klayer *L)
{
    int32_t x = L->in[0];
    if (check_channels_last(c, L) < 0)
        return -1;
    int32_t n = (int32_t)tml_ir_elements(ten(c, x));
    return reshape(c, L, x, 2, (int32_t[]){1, n}, "reshape");
}

static int32_t layer_reshape(kctx *c, klayer *L)
{
    int32_t x = L->in[0];
    const cJSON *ts = cfg_get(L, "target_shape");
    int nt = cJSON_IsArray(ts) ? cJSON_GetArraySize(ts) : -1;
    if (nt < 0 || nt + 1 > TML_MAX_DIMS)
        return lfail(c, L, "option 'target_shape' must be a list of at most %d ints",
                     TML_MAX_DIMS - 1);
    int32_t dims[TML_MAX_DIMS];
    int32_t unknown = -1;
    size_t known = 1, total = tml_ir_elements(ten(c, x));
    dims[0] = 1;
    for (int i = 0; i < nt; i++) {
        if (json_int(cJSON_GetArrayItem(ts, i), &dims[i + 1]) < 0)
            return lfail(c, L, "option 'target_shape' is not a list of integers");
        if (dims[i + 1] == -1 && unknown < 0)
            unknown = i + 1;
        else if (dims[i + 1] <= 0)
            return lfail(c, L, "target_shape entry %d is not supported", (int)dims[i + 1]);
        else
            known *= (size_t)dims[i + 1];
    }
    if (unknown >= 0 && known && total % known == 0)
        dims[unknown] = (int32_t)(total / known), known = total;
    if (known != total) {
        char s[96];
        return lfail(c, L, "cannot reshape %s into target_shape of %zu elements",
                     fmt_shape(s, sizeof s, ten(c, x)->ndims, ten(c, x)->dims), known);
    }
    return reshape(c, L, x, nt + 1, dims, "reshape");
}

/* numpy broadcasting of two shapes into out; -1 if incompatible. */
static int broadcast(const tml_ir_tensor *a, const tml_ir_tensor *b, int32_t *nd,
                     int32_t *out)
{
    int32_t n = a->ndims > b->ndims ? a->ndims : b->ndims;
    for (int32_t i = 0; i < n; i++) {
        int32_t ia = a->ndims - n + i, ib = b->ndims - n + i;
        int32_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return -1;
        out[i] = da == 1 ? db : da;
    }
    *nd = n;
    return 0;
}

/* Add / Subtract / Multiply: a chain of binary ops. */
static int32_t layer_merge(kctx *c, klayer *L, int32_t builtin, int exactly_two)
{
    if (L->nin < 2 || (exactly_two && L->nin != 2))
        return lfail(c, L, "expects %s inputs, got %d", exactly_two ? "2" : "2 or more",
                     L->nin);
    int32_t acc = L->in[0];
    for (int i = 1; i < L->nin; i++) {
        int32_t dims[TML_MAX_DIMS], nd;
        if (broadcast(ten(c, acc), ten(c, L->in[i]), &nd, dims) < 0) {
            char s1[96], s2[96];
            return lfail(c, L, "input shapes %s and %s do not broadcast",
                         fmt_shape(s1, sizeof s1, ten(c, acc)->ndims, ten(c, acc)->dims),
                         fmt_shape(s2, sizeof s2, ten(c, L->in[i])->ndims,
                                   ten(c, L->in[i])->dims));
        }
        char what[32];
        snprintf(what, sizeof what, "op%d", i);
        acc = emit(c, L, builtin, (int32_t[]){acc, L->in[i]}, 2, nd, dims, NULL, what);
        if (acc < 0)
            return -1;
    }
    return acc;
}

static int32_t layer_concat(kctx *c, klayer *L)
{
    if (L->nin < 1 || L->nin > TML_IR_MAX_INPUTS)
        return lfail(c, L, "expects 1 to %d inputs, got %d", TML_IR_MAX_INPUTS, L->nin);
    const tml_ir_tensor *t0 = ten(c, L->in[0]);
    int32_t axis;
    static const int32_t minus1 = -1;
    if (cfg_ints(c, L, "axis", 1, &axis, &minus1) < 0)
        return -1;
    int32_t rank = t0->ndims;
    if (axis < 0)
        axis += rank;
    if (axis < 1 || axis >= rank)
        return lfail(c, L, "axis %d is not supported for rank-%d inputs", (int)axis, (int)rank);
    int32_t dims[TML_MAX_DIMS];
    memcpy(dims, t0->dims, sizeof dims);
    dims[axis] = 0;
    for (int i = 0; i < L->nin; i++) {
        const tml_ir_tensor *t = ten(c, L->in[i]);
        int ok = t->ndims == rank;
        for (int32_t d = 0; ok && d < rank; d++)
            ok = d == axis || t->dims[d] == t0->dims[d];
        if (!ok) {
            char s1[96], s2[96];
            return lfail(c, L, "input shapes %s and %s differ outside axis %d",
                         fmt_shape(s1, sizeof s1, t0->ndims, t0->dims),
                         fmt_shape(s2, sizeof s2, t->ndims, t->dims), (int)axis);
        }
        dims[axis] += t->dims[axis];
    }
    tml_ir_attrs a = tml_ir_default_attrs();
    a.axis = axis;
    return emit(c, L, OP_CONCATENATION, L->in, L->nin, rank, dims, &a, "concat");
}

static int32_t layer_zeropad2d(kctx *c, klayer *L)
{
    int32_t x = L->in[0], p[4];   /* top, bottom, left, right */
    if (need_rank(c, L, x, 4) < 0 || check_channels_last(c, L) < 0)
        return -1;
    const cJSON *v = cfg_get(L, "padding");
    int32_t one;
    if (json_int(v, &one) == 0) {
        p[0] = p[1] = p[2] = p[3] = one;
    } else if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2) {
        for (int i = 0; i < 2; i++) {
            const cJSON *e = cJSON_GetArrayItem(v, i);
            if (json_int(e, &one) == 0) {
                p[2 * i] = p[2 * i + 1] = one;
            } else if (cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2 &&
                       json_int(cJSON_GetArrayItem(e, 0), &p[2 * i]) == 0 &&
                       json_int(cJSON_GetArrayItem(e, 1), &p[2 * i + 1]) == 0) {
            } else {
                return lfail(c, L, "option 'padding' is malformed");
            }
        }
    } else {
        return lfail(c, L, "option 'padding' is malformed");
    }
    for (int i = 0; i < 4; i++)
        if (p[i] < 0 || p[i] > 65536)
            return lfail(c, L, "padding %d is not supported", (int)p[i]);
    /* The output shape before adding tensors (which may move them). */
    const int32_t *in = ten(c, x)->dims;
    int32_t out[4] = {1, in[1] + p[0] + p[1], in[2] + p[2] + p[3], in[3]};
    int32_t pads[8] = {0, 0, p[0], p[1], p[2], p[3], 0, 0};
    int32_t pt = new_const(c, L, "paddings", TML_INT32, 2, (int32_t[]){4, 2}, pads);
    if (pt < 0)
        return -1;
    return emit(c, L, OP_PAD, (int32_t[]){x, pt}, 2, 4, out, NULL, "pad");
}

static int32_t layer_permute(kctx *c, klayer *L)
{
    int32_t x = L->in[0];
    const tml_ir_tensor *t = ten(c, x);
    const cJSON *v = cfg_get(L, "dims");
    int32_t rank = t->ndims, perm[TML_MAX_DIMS], dims[TML_MAX_DIMS], seen = 0;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != rank - 1)
        return lfail(c, L, "option 'dims' must list %d axes", (int)rank - 1);
    perm[0] = 0;
    for (int32_t i = 1; i < rank; i++) {
        if (json_int(cJSON_GetArrayItem(v, i - 1), &perm[i]) < 0 || perm[i] < 1 ||
            perm[i] >= rank || (seen & (1 << perm[i])))
            return lfail(c, L, "option 'dims' is not a permutation of 1..%d", (int)rank - 1);
        seen |= 1 << perm[i];
    }
    for (int32_t i = 0; i < rank; i++)
        dims[i] = t->dims[perm[i]];
    int32_t pt = new_const(c, L, "perm", TML_INT32, 1, (int32_t[]){rank}, perm);
    if (pt < 0)
        return -1;
    return emit(c, L, OP_TRANSPOSE, (int32_t[]){x, pt}, 2, rank, dims, NULL, "transpose");
}

static int32_t layer_rescaling(kctx *c, klayer *L)
{
    double s, o;
    if (!is_null(cfg_get(L, "scale")) && !cJSON_IsNumber(cfg_get(L, "scale")))
        return lfail(c, L, "only a scalar scale is supported");
    if (!is_null(cfg_get(L, "offset")) && !cJSON_IsNumber(cfg_get(L, "offset")))
        return lfail(c, L, "only a scalar offset is supported");
    if (cfg_num(c, L, "scale", 1.0, &s) < 0 || cfg_num(c, L, "offset", 0.0, &o) < 0)
        return -1;
    float k = (float)s, b = (float)o;
    return mul_add(c, L, L->in[0], 1, &k, o != 0.0 ? &b : NULL, "rescale");
}

/* mean / variance for Normalization: from the config when given there,
 * else the adapted weights.  Fills out[ch] (a scalar broadcasts). */
static int norm_stat(kctx *c, const klayer *L, const char *key, const char *names, int idx,
                     int32_t ch, double *out)
{
    const cJSON *v = cfg_get(L, key);
    if (cJSON_IsNumber(v)) {
        for (int32_t i = 0; i < ch; i++)
            out[i] = v->valuedouble;
        return 0;
    }
    if (cJSON_IsArray(v)) {
        int n = cJSON_GetArraySize(v);
        if (n != 1 && n != ch)
            return lfail(c, L, "option '%s' has %d values for %d channels", key, n, (int)ch);
        for (int32_t i = 0; i < ch; i++) {
            const cJSON *e = cJSON_GetArrayItem(v, n == 1 ? 0 : i);
            if (!cJSON_IsNumber(e))
                return lfail(c, L, "option '%s' is not a list of numbers", key);
            out[i] = e->valuedouble;
        }
        return 0;
    }
    char msg[256];
    keras_array w;
    if (c->src->read(c->src->ctx, L->store, names, idx, &w, msg, sizeof msg) <= 0)
        return lfail(c, L, "%s", msg);
    if (w.count != 1 && w.count != (size_t)ch) {
        keras_array_free(&w);
        return lfail(c, L, "weight '%s' has %zu values for %d channels", key, w.count, (int)ch);
    }
    for (int32_t i = 0; i < ch; i++)
        out[i] = w.data[w.count == 1 ? 0 : i];
    keras_array_free(&w);
    return 0;
}

/* Normalization: (x - mean) / max(sqrt(variance), 1e-7) as MUL + ADD. */
static int32_t layer_normalization(kctx *c, klayer *L)
{
    int32_t x = L->in[0];
    if (cfg_bool(L, "invert", 0))
        return lfail(c, L, "invert is not supported");
    if (last_axis_only(c, L, x, "axis", 0) < 0)
        return -1;
    int32_t ch = last_dim(c, x);
    double *st = malloc(2 * (size_t)ch * sizeof *st);
    float *kb = malloc(2 * (size_t)ch * sizeof *kb);
    int32_t rc = -1;
    if (!st || !kb) {
        cfail(c, "out of memory");
        goto done;
    }
    if (norm_stat(c, L, "mean", "mean|adapt_mean", 0, ch, st) < 0 ||
        norm_stat(c, L, "variance", "variance|adapt_variance", 1, ch, st + ch) < 0)
        goto done;
    for (int32_t i = 0; i < ch; i++) {
        /* keras backend.epsilon() = 1e-7 guards zero variance. */
        double sd = sqrt(st[ch + i] > 0 ? st[ch + i] : 0.0);
        double k = 1.0 / (sd > 1e-7 ? sd : 1e-7);
        kb[i] = (float)k;
        kb[ch + i] = (float)(-st[i] * k);
    }
    rc = mul_add(c, L, x, ch, kb, kb + ch, "norm");
done:
    free(st);
    free(kb);
    return rc;
}

static int is_identity(const char *cls)
{
    static const char *const ids[] = {
        "Dropout",     "SpatialDropout1D", "SpatialDropout2D",      "SpatialDropout3D",
        "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (strcmp(cls, ids[i]) == 0)
            return 1;
    return 0;
}

/* Keras 3 quantized layers (dtype policy "int8_from_float32", ...) store
 * integer kernels plus scales: refuse them rather than misread. */
static int check_dtype_policy(kctx *c, const klayer *L)
{
    const cJSON *dt = cfg_get(L, "dtype");
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(dt, "class_name");
    if (cJSON_IsObject(dt))
        dt = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(dt, "config"),
                                              "name");
    int quantized = cJSON_IsString(cls) && strstr(cls->valuestring, "Quantized") != NULL;
    if (cJSON_IsString(dt) && (strstr(dt->valuestring, "int8") || strstr(dt->valuestring, "int4") ||
                               strstr(dt->valuestring, "float8")))
        quantized = 1;
    if (quantized)
        return lfail(c, L, "quantized Keras layers (dtype '%s') are not supported",
                     cJSON_IsString(dt) ? dt->valuestring : "?");
    return 0;
}

static int32_t translate(kctx *c, klayer *L)
{
    const char *k = L->cls;
    if (L->nin < 1)
        return lfail(c, L, "has no input");
    if (check_dtype_policy(c, L) < 0)
        return -1;
    if (is_identity(k))
        return L->in[0];
    if (strcmp(k, "Add") == 0)
        return layer_merge(c, L, OP_ADD, 0);
    if (strcmp(k, "Subtract") == 0)
        return layer_merge(c, L, OP_SUB, 1);
    if (strcmp(k, "Multiply") == 0)
        return layer_merge(c, L, OP_MUL, 0);
    if (strcmp(k, "Concatenate") == 0)
        return layer_concat(c, L);
    if (L->nin != 1)
        return lfail(c, L, "expects 1 input, got %d", L->nin);
    if (strcmp(k, "Dense") == 0)
        return layer_dense(c, L);
    if (strcmp(k, "Conv2D") == 0 || strcmp(k, "Convolution2D") == 0)
        return layer_conv2d(c, L);
    if (strcmp(k, "Conv1D") == 0 || strcmp(k, "Convolution1D") == 0)
        return layer_conv1d(c, L);
    if (strcmp(k, "DepthwiseConv2D") == 0)
        return layer_depthwise(c, L);
    if (strcmp(k, "SeparableConv2D") == 0 || strcmp(k, "SeparableConvolution2D") == 0)
        return layer_separable(c, L);
    if (strcmp(k, "BatchNormalization") == 0)
        return layer_batchnorm(c, L);
    if (strcmp(k, "Activation") == 0)
        return layer_activation(c, L);
    if (strcmp(k, "ReLU") == 0)
        return layer_relu(c, L);
    if (strcmp(k, "LeakyReLU") == 0)
        return layer_leaky_relu(c, L);
    if (strcmp(k, "Softmax") == 0)
        return layer_softmax(c, L);
    if (strcmp(k, "MaxPooling2D") == 0 || strcmp(k, "MaxPool2D") == 0)
        return layer_pool(c, L, OP_MAX_POOL_2D, 2);
    if (strcmp(k, "AveragePooling2D") == 0 || strcmp(k, "AvgPool2D") == 0)
        return layer_pool(c, L, OP_AVERAGE_POOL_2D, 2);
    if (strcmp(k, "MaxPooling1D") == 0 || strcmp(k, "MaxPool1D") == 0)
        return layer_pool(c, L, OP_MAX_POOL_2D, 1);
    if (strcmp(k, "AveragePooling1D") == 0 || strcmp(k, "AvgPool1D") == 0)
        return layer_pool(c, L, OP_AVERAGE_POOL_2D, 1);
    if (strcmp(k, "GlobalAveragePooling2D") == 0 || strcmp(k, "GlobalAvgPool2D") == 0)
        return layer_global_avg(c, L, 2);
    if (strcmp(k, "GlobalAveragePooling1D") == 0 || strcmp(k, "GlobalAvgPool1D") == 0)
        return layer_global_avg(c, L, 1);
    if (strcmp(k, "GlobalMaxPooling2D") == 0 || strcmp(k, "GlobalMaxPool2D") == 0)
        return layer_global_max(c, L, 2);
    if (strcmp(k, "GlobalMaxPooling1D") == 0 || strcmp(k, "GlobalMaxPool1D") == 0)
        return layer_global_max(c, L, 1);
    if (strcmp(k, "Flatten") == 0)
        return layer_flatten(c, L);
    if (strcmp(k, "Reshape") == 0)
        return layer_reshape(c, L);
    if (strcmp(k, "ZeroPadding2D") == 0)
        return layer_zeropad2d(c, L);
    if (strcmp(k, "Permute") == 0)
        return layer_permute(c, L);
    if (strcmp(k, "Rescaling") == 0)
        return layer_rescaling(c, L);
    if (strcmp(k, "Normalization") == 0)
        return layer_normalization(c, L);
    if (strcmp(k, "Functional") == 0 || strcmp(k, "Sequential") == 0 ||
        strcmp(k, "Model") == 0)
        return lfail(c, L, "nested models are not supported");
    return lfail(c, L, "layer class '%s' is not supported", k);
}

/* ------------------------------------------------------------------------
 * Layer bookkeeping
 * ---------------------------------------------------------------------- */

static int32_t lookup(const kctx *c, const char *name)
{
    for (int i = 0; i < c->nmap; i++)
        if (strcmp(c->map[i].name, name) == 0)
            return c->map[i].tensor;
    return -1;
}

static int remember(kctx *c, const char *name, int32_t t)
{
    if (c->nmap == c->cap) {
        int cap = c->cap ? 2 * c->cap : 32;
        kmap *m = realloc(c->map, (size_t)cap * sizeof *m);
        if (!m)
            return cfail(c, "out of memory");
        c->map = m;
        c->cap = cap;
    }
    size_t len = strlen(name) + 1;
    char *s = malloc(len);
    if (!s)
        return cfail(c, "out of memory");
    memcpy(s, name, len);
    c->map[c->nmap].name = s;
    c->map[c->nmap].tensor = t;
    c->nmap++;
    return 0;
}

/* Keras' naming.to_snake_case: drop non-word characters, then "_" before
 * each capitalized word ("(.)([A-Z][a-z]+)") and between a lowercase and
 * an uppercase letter ("([a-z])([A-Z])"), both non-overlapping, then lower
 * case: Conv2D -> conv2d, BatchNormalization -> batch_normalization,
 * ReLU -> re_lu. */
static void snake_case(const char *cls, char *out, size_t n)
{
    char a[128], b[256];
    size_t la = 0, lb = 0;
    for (const char *p = cls; *p && la + 1 < sizeof a; p++)
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '_')
            a[la++] = *p;
    a[la] = '\0';
#define UP(ch) ((ch) >= 'A' && (ch) <= 'Z')
#define LO(ch) ((ch) >= 'a' && (ch) <= 'z')
    for (size_t i = 0; i < la && lb + 3 < sizeof b;) {
        /* (.)([A-Z][a-z]+) matching at i */
        if (i + 2 < la + 0 && UP(a[i + 1]) && LO(a[i + 2])) {
            b[lb++] = a[i];
            b[lb++] = '_';
            size_t j = i + 1;
            b[lb++] = a[j++];
            while (j < la && LO(a[j]) && lb + 1 < sizeof b)
                b[lb++] = a[j++];
            i = j;
        } else {
            b[lb++] = a[i++];
        }
    }
    b[lb] = '\0';
    size_t lo = 0;
    for (size_t i = 0; i < lb && lo + 3 < n;) {
        if (i + 1 < lb && LO(b[i]) && UP(b[i + 1])) {
            out[lo++] = b[i];
            out[lo++] = '_';
            out[lo++] = b[i + 1];
            i += 2;
        } else {
            out[lo++] = b[i++];
        }
    }
#undef UP
#undef LO
    out[lo] = '\0';
    for (size_t i = 0; i < lo; i++)
        if (out[i] >= 'A' && out[i] <= 'Z')
            out[i] = (char)(out[i] - 'A' + 'a');
}

/* Keras 3 stores a model's layers under layers/<key>, where key is the
 * snake_case class name, numbered from the second layer of a class on
 * (dense, dense_1, ...) in model.layers order, never the layer's name
 * (saving_lib: "names are usually autogenerated and thus not
 * reproducible").  keys[i] for config layer i (NULL: not in model.layers,
 * the InputLayer of a Sequential model). */
static char **store_keys(kctx *c, const cJSON *layers, int sequential)
{
    int n = cJSON_GetArraySize(layers);
    char **keys = calloc((size_t)n + 1, sizeof *keys);
    if (!keys) {
        cfail(c, "out of memory");
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        const cJSON *cls = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(layers, i),
                                                            "class_name");
        const char *k = cJSON_IsString(cls) ? cls->valuestring : "";
        if (sequential && strcmp(k, "InputLayer") == 0)
            continue;
        char base[128], key[160];
        snake_case(k, base, sizeof base);
        int same = 0;
        for (int j = 0; j < i; j++) {
            const cJSON *cj = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(layers, j),
                                                               "class_name");
            char other[128];
            snake_case(cJSON_IsString(cj) ? cj->valuestring : "", other, sizeof other);
            same += keys[j] && strcmp(other, base) == 0;
        }
        if (same)
            snprintf(key, sizeof key, "%s_%d", base, same);
        else
            snprintf(key, sizeof key, "%s", base);
        keys[i] = malloc(strlen(key) + 1);
        if (!keys[i]) {
            cfail(c, "out of memory");
            for (int j = 0; j < i; j++)
                free(keys[j]);
            free(keys);
            return NULL;
        }
        strcpy(keys[i], key);
    }
    return keys;
}

static void free_keys(char **keys, int n)
{
    if (!keys)
        return;
    for (int i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
}

/* Runs one layer and records its output, named after the layer when the
 * layer made it. */
static int run_layer(kctx *c, klayer *L)
{
    if (lookup(c, L->name) >= 0)
        return lfail(c, L, "a second layer has this name");
    int32_t first = c->g->ntensors;
    int32_t y = translate(c, L);
    if (y < 0)
        return -1;
    tml_ir_tensor *t = &c->g->tensors[y];
    if (y >= first && !t->data) {
        size_t len = strlen(L->name) + 1;
        char *s = malloc(len);
        if (!s)
            return cfail(c, "out of memory");
        memcpy(s, L->name, len);
        free(t->name);
        t->name = s;
    }
    return remember(c, L->name, y);
}

static int layer_fields(kctx *c, const cJSON *layer, int idx, klayer *L)
{
    memset(L, 0, sizeof *L);
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(layer, "class_name");
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(layer, "config");
    if (!cJSON_IsString(cls) || !cJSON_IsObject(cfg))
        return cfail(c, "layer %d of the model config has no class_name/config", idx);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(cfg, "name");
    if (!cJSON_IsString(name))
        name = cJSON_GetObjectItemCaseSensitive(layer, "name");
    if (!cJSON_IsString(name) || !name->valuestring[0])
        return cfail(c, "layer %d (%s) of the model config has no name", idx, cls->valuestring);
    L->name = name->valuestring;
    L->cls = cls->valuestring;
    L->cfg = cfg;
    L->store = c->keys && idx < c->nkeys && c->keys[idx] ? c->keys[idx] : L->name;
    return 0;
}

/* The input shape of an InputLayer (batch_input_shape in Keras 2,
 * batch_shape in Keras 3) or of a Sequential model's first layer. */
static const cJSON *input_shape_of(const cJSON *layer, const cJSON *cfg)
{
    static const char *const keys[] = {"batch_input_shape", "batch_shape"};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, keys[i]);
        if (cJSON_IsArray(v))
            return v;
    }
    const cJSON *bc = cJSON_GetObjectItemCaseSensitive(layer, "build_config");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(bc, "input_shape");
    return cJSON_IsArray(v) ? v : NULL;
}

/* A float32 graph input of the given Keras shape (batch None -> 1). */
static int32_t make_input(kctx *c, const klayer *L, const cJSON *shape)
{
    int nd = cJSON_IsArray(shape) ? cJSON_GetArraySize(shape) : -1;
    if (nd < 2 || nd > TML_MAX_DIMS)
        return lfail(c, L, "input shape must have 2 to %d dims (batch included)", TML_MAX_DIMS);
    int32_t dims[TML_MAX_DIMS];
    for (int i = 0; i < nd; i++) {
        const cJSON *v = cJSON_GetArrayItem(shape, i);
        if (i == 0 && cJSON_IsNull(v)) {
            dims[0] = 1;
            continue;
        }
        if (cJSON_IsNull(v))
            return lfail(c, L, "input dimension %d is unknown (None); give the model a fixed "
                               "input shape", i);
        if (json_int(v, &dims[i]) < 0 || dims[i] <= 0)
            return lfail(c, L, "input dimension %d is not a positive integer", i);
    }
    if (dims[0] != 1)
        return lfail(c, L, "batch size %d is not supported (use None or 1)", (int)dims[0]);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(L->cfg, "dtype");
    if (cJSON_IsObject(dt))   /* Keras 3 DTypePolicy {"config": {"name": ...}} */
        dt = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(dt, "config"),
                                              "name");
    if (cJSON_IsString(dt) && strcmp(dt->valuestring, "float32") != 0)
        return lfail(c, L, "input dtype '%s' is not supported (only float32)", dt->valuestring);
    int32_t t = tml_ir_add_tensor(c->g, L->name, TML_FLOAT32, nd, dims);
    if (t < 0)
        return ir_fail(c, L);
    return t;
}

/* ------------------------------------------------------------------------
 * Sequential
 * ---------------------------------------------------------------------- */

static int import_sequential(kctx *c, const cJSON *config, const cJSON *model)
{
    const cJSON *layers = cJSON_IsArray(config)
                              ? config
                              : cJSON_GetObjectItemCaseSensitive(config, "layers");
    int n = cJSON_IsArray(layers) ? cJSON_GetArraySize(layers) : 0;
    if (n == 0)
        return cfail(c, "the Sequential model has no layers");
    if (c->layout == KERAS_WEIGHTS_V3) {
        c->keys = store_keys(c, layers, 1);
        c->nkeys = n;
        if (!c->keys)
            return -1;
    }
    klayer L;
    int start = 0;
    int32_t x;
    if (layer_fields(c, cJSON_GetArrayItem(layers, 0), 0, &L) < 0)
        return -1;
    if (strcmp(L.cls, "InputLayer") == 0) {
        x = make_input(c, &L, input_shape_of(cJSON_GetArrayItem(layers, 0), L.cfg));
        if (x < 0 || remember(c, L.name, x) < 0)
            return -1;
        start = 1;
    } else {
        /* No InputLayer: the first layer (or the model) carries the shape. */
        const cJSON *shape = input_shape_of(cJSON_GetArrayItem(layers, 0), L.cfg);
        if (!shape)
            shape = cJSON_GetObjectItemCaseSensitive(config, "build_input_shape");
        if (!shape)
            shape = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(model, "build_config"), "input_shape");
        if (!cJSON_IsArray(shape))
            return lfail(c, &L, "the Sequential model has no input shape");
        klayer in = L;
        char name[300];
        snprintf(name, sizeof name, "%s_input", L.name);
        in.name = name;
        in.cls = "InputLayer";
        x = make_input(c, &in, shape);
        if (x < 0)
            return -1;
    }
    if (tml_ir_add_input(c->g, x) < 0)
        return cfail(c, "%s", c->g->error);
    for (int i = start; i < n; i++) {
        if (layer_fields(c, cJSON_GetArrayItem(layers, i), i, &L) < 0)
            return -1;
        if (strcmp(L.cls, "InputLayer") == 0)
            return lfail(c, &L, "an InputLayer inside a Sequential model is not supported");
        L.in[0] = x;
        L.nin = 1;
        if (run_layer(c, &L) < 0)
            return -1;
        x = lookup(c, L.name);
    }
    if (tml_ir_add_output(c->g, x) < 0)
        return cfail(c, "%s", c->g->error);
    return 0;
}

/* ------------------------------------------------------------------------
 * Functional
 * ---------------------------------------------------------------------- */

typedef struct kref {
    const char *layer;
    int32_t tensor_index;
} kref;

/* ["name", node_index, tensor_index, ...] -> ref; -1 if not that shape. */
static int parse_ref(const cJSON *v, kref *r)
{
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 3)
        return -1;
    const cJSON *name = cJSON_GetArrayItem(v, 0);
    if (!cJSON_IsString(name) || json_int(cJSON_GetArrayItem(v, 2), &r->tensor_index) < 0)
        return -1;
    r->layer = name->valuestring;
    return 0;
}

/* Keras 3 node args: collect every __keras_tensor__'s keras_history. */
static int collect_v3(kctx *c, const klayer *L, const cJSON *v, kref *refs, int *n)
{
    if (cJSON_IsArray(v)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, v) if (collect_v3(c, L, e, refs, n) < 0) return -1;
        return 0;
    }
    if (!cJSON_IsObject(v))
        return 0;
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(v, "class_name");
    if (!cJSON_IsString(cls) || strcmp(cls->valuestring, "__keras_tensor__") != 0)
        return 0;
    const cJSON *hist = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(v, "config"), "keras_history");
    if (*n >= MAX_LAYER_INPUTS)
        return lfail(c, L, "more than %d inputs are not supported", MAX_LAYER_INPUTS);
    if (parse_ref(hist, &refs[*n]) < 0)
        return lfail(c, L, "an inbound tensor has no valid keras_history");
    (*n)++;
    return 0;
}

/* The layer's inputs from its inbound_nodes (Keras 2 list format or
 * Keras 3 {"args", "kwargs"} format).  One node only: a layer called
 * twice is a shared layer. */
static int parse_inbound(kctx *c, const klayer *L, const cJSON *layer, kref *refs, int *n)
{
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(layer, "inbound_nodes");
    *n = 0;
    if (is_null(nodes))
        return 0;
    if (!cJSON_IsArray(nodes))
        return lfail(c, L, "inbound_nodes is malformed");
    int nn = cJSON_GetArraySize(nodes);
    if (nn == 0)
        return 0;
    if (nn > 1)
        return lfail(c, L, "shared layers (called %d times) are not supported", nn);
    const cJSON *node = cJSON_GetArrayItem(nodes, 0);
    if (cJSON_IsObject(node))
        return collect_v3(c, L, cJSON_GetObjectItemCaseSensitive(node, "args"), refs, n);
    if (!cJSON_IsArray(node))
        return lfail(c, L, "inbound_nodes is malformed");
    const cJSON *e;
    cJSON_ArrayForEach(e, node)
    {
        if (*n >= MAX_LAYER_INPUTS)
            return lfail(c, L, "more than %d inputs are not supported", MAX_LAYER_INPUTS);
        if (parse_ref(e, &refs[*n]) < 0)
            return lfail(c, L, "inbound_nodes is malformed");
        (*n)++;
    }
    return 0;
}

/* input_layers / output_layers: [[name, 0, 0], ...] or one [name, 0, 0]. */
static int parse_ref_list(kctx *c, const cJSON *config, const char *key, kref *refs, int *n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(config, key);
    *n = 0;
    if (parse_ref(v, &refs[0]) == 0) {
        *n = 1;
        return 0;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
        return cfail(c, "the model config has no valid '%s'", key);
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        if (*n >= TML_IR_MAX_IO)
            return cfail(c, "more than %d model %s are not supported", TML_IR_MAX_IO,
                         strcmp(key, "input_layers") == 0 ? "inputs" : "outputs");
        if (parse_ref(e, &refs[*n]) < 0)
            return cfail(c, "the model config has a malformed '%s'", key);
        (*n)++;
    }
    return 0;
}

static int32_t ref_tensor(kctx *c, const kref *r, const char *what)
{
    if (r->tensor_index != 0)
        return cfail(c, "%s '%s' uses output %d of a layer (only single-output layers are "
                        "supported)", what, r->layer, (int)r->tensor_index);
    int32_t t = lookup(c, r->layer);
    if (t < 0)
        return cfail(c, "%s '%s' is not a layer of the model", what, r->layer);
    return t;
}

static int import_functional(kctx *c, const cJSON *config)
{
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(config, "layers");
    int n = cJSON_IsArray(layers) ? cJSON_GetArraySize(layers) : 0;
    if (n == 0)
        return cfail(c, "the model config has no layers");
    if (c->layout == KERAS_WEIGHTS_V3) {
        c->keys = store_keys(c, layers, 0);
        c->nkeys = n;
        if (!c->keys)
            return -1;
    }
    char *done = calloc((size_t)n, 1);
    if (!done)
        return cfail(c, "out of memory");
    int remaining = n, rc = -1;
    /* Layers run once all their inputs exist (Keras lists them by depth,
     * so this usually takes one sweep). */
    while (remaining > 0) {
        int progress = 0;
        const cJSON *layer;
        int i = -1;
        cJSON_ArrayForEach(layer, layers)
        {
            i++;
            if (done[i])
                continue;
            klayer L;
            kref refs[MAX_LAYER_INPUTS];
            int nref;
            if (layer_fields(c, layer, i, &L) < 0 || parse_inbound(c, &L, layer, refs, &nref) < 0)
                goto out;
            int ready = 1;
            for (int r = 0; r < nref && ready; r++)
                ready = lookup(c, refs[r].layer) >= 0;
            if (!ready)
                continue;
            if (strcmp(L.cls, "InputLayer") == 0) {
                int32_t x = make_input(c, &L, input_shape_of(layer, L.cfg));
                if (x < 0 || remember(c, L.name, x) < 0)
                    goto out;
            } else {
                if (nref == 0) {
                    lfail(c, &L, "has no inbound nodes");
                    goto out;
                }
                for (int r = 0; r < nref; r++) {
                    if (refs[r].tensor_index != 0) {
                        lfail(c, &L, "uses output %d of layer '%s' (only single-output layers "
                                     "are supported)", (int)refs[r].tensor_index, refs[r].layer);
                        goto out;
                    }
                    L.in[r] = lookup(c, refs[r].layer);
                }
                L.nin = nref;
                if (run_layer(c, &L) < 0)
                    goto out;
            }
            done[i] = 1;
            remaining--;
            progress = 1;
        }
        if (!progress) {
            i = 0;
            while (done[i])
                i++;
            klayer L;
            kref refs[MAX_LAYER_INPUTS];
            int nref = 0;
            layer_fields(c, cJSON_GetArrayItem(layers, i), i, &L);
            parse_inbound(c, &L, cJSON_GetArrayItem(layers, i), refs, &nref);
            const char *missing = "?";
            for (int r = 0; r < nref; r++)
                if (lookup(c, refs[r].layer) < 0)
                    missing = refs[r].layer;
            lfail(c, &L, "its input '%s' is not produced by any layer (missing layer or cycle)",
                  missing);
            goto out;
        }
    }
    kref io[TML_IR_MAX_IO];
    int nio;
    if (parse_ref_list(c, config, "input_layers", io, &nio) < 0)
        goto out;
    for (int i = 0; i < nio; i++) {
        int32_t t = ref_tensor(c, &io[i], "model input");
        if (t < 0)
            goto out;
        if (c->g->tensors[t].data || tml_ir_producer(c->g, t) >= 0) {
            cfail(c, "model input '%s' is not an InputLayer", io[i].layer);
            goto out;
        }
        if (tml_ir_add_input(c->g, t) < 0) {
            cfail(c, "%s", c->g->error);
            goto out;
        }
    }
    if (parse_ref_list(c, config, "output_layers", io, &nio) < 0)
        goto out;
    for (int i = 0; i < nio; i++) {
        int32_t t = ref_tensor(c, &io[i], "model output");
        if (t < 0)
            goto out;
        if (tml_ir_add_output(c->g, t) < 0) {
            cfail(c, "%s", c->g->error);
            goto out;
        }
    }
    rc = 0;
out:
    free(done);
    return rc;
}

/* ------------------------------------------------------------------------
 * Entry points
 * ---------------------------------------------------------------------- */

int keras_import_config_src(const char *json, const keras_weights *src, int keras3,
                            tml_ir_graph *g, char *err, size_t n)
{
    kctx c;
    memset(&c, 0, sizeof c);
    c.g = g;
    c.src = src;
    c.layout = src->layout;
    c.keras3 = keras3;
    c.err = err;
    c.n = n;
    cJSON *root = cJSON_Parse(json);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= json ? (size_t)(at - json) : 0;
        snprintf(err, n, "the model config is not valid JSON (near byte %zu)", off);
        return -1;
    }
    int rc = -1;
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(root, "class_name");
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(root, "config");
    if (!cJSON_IsString(cls) || (!cJSON_IsObject(config) && !cJSON_IsArray(config))) {
        cfail(&c, "the model config has no class_name/config");
    } else if (strcmp(cls->valuestring, "Sequential") == 0) {
        rc = import_sequential(&c, config, root);
    } else if (strcmp(cls->valuestring, "Functional") == 0 ||
               strcmp(cls->valuestring, "Model") == 0) {
        rc = import_functional(&c, config);
    } else {
        cfail(&c, "model class '%s' is not supported (only Sequential and Functional)",
              cls->valuestring);
    }
    for (int i = 0; i < c.nmap; i++)
        free(c.map[i].name);
    free(c.map);
    free_keys(c.keys, c.nkeys);
    cJSON_Delete(root);
    return rc;
}

/* The HDF5 files' weights (keras_h5_weight) as a weight source. */
typedef struct h5_source {
    keras_h5 *h;
    int layout;
} h5_source;

static int h5_read(void *ctx, const char *layer, const char *names, int index,
                   keras_array *out, char *err, size_t n)
{
    const h5_source *s = ctx;
    return keras_h5_weight(s->h, s->layout, layer, names, index, out, err, n);
}

int keras_import_config(const char *json, keras_h5 *weights, int layout, int keras3,
                        tml_ir_graph *g, char *err, size_t n)
{
    h5_source s = {weights, layout};
    keras_weights src = {h5_read, &s, layout};
    return keras_import_config_src(json, &src, keras3, g, err, n);
}

static int import_h5(const char *path, tml_ir_graph *g, char *err, size_t n)
{
    keras_h5 *h = keras_h5_open_file(path, err, n);
    if (!h)
        return -1;
    char *cfg = NULL, *ver = NULL;
    int rc = keras_h5_root_attr(h, "model_config", &cfg, err, n);
    if (rc == 0)
        snprintf(err, n, "'%s' has no 'model_config' attribute (a weights-only file? save "
                         "the whole model with model.save)", path);
    if (rc > 0)
        rc = keras_h5_root_attr(h, "keras_version", &ver, err, n) < 0 ? -1 : 1;
    if (rc > 0) {
        int keras3 = ver && ver[0] == '3';
        rc = keras_import_config(cfg, h, KERAS_WEIGHTS_LEGACY, keras3, g, err, n);
    } else {
        rc = -1;
    }
    free(cfg);
    free(ver);
    keras_h5_close(h);
    return rc;
}

/* Keras 3 semantics unless metadata.json says keras_version 2.x (tf-keras
 * 2.13+ writes .keras archives too). */
static int zip_is_keras3(const char *metadata)
{
    cJSON *m = metadata ? cJSON_Parse(metadata) : NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, "keras_version");
    int k3 = !(cJSON_IsString(v) && v->valuestring[0] == '2');
    cJSON_Delete(m);
    return k3;
}

static int import_zip(const char *path, tml_ir_graph *g, char *err, size_t n)
{
    char *cfg, *meta;
    void *w;
    size_t wsize;
    if (keras_zip_read(path, &cfg, &w, &wsize, &meta, err, n) < 0)
        return -1;
    char label[300];
    snprintf(label, sizeof label, "%s:model.weights.h5", path);
    keras_h5 *h = keras_h5_open_memory(w, wsize, label, err, n);
    free(w);
    int rc = -1;
    if (h)
        rc = keras_import_config(cfg, h, KERAS_WEIGHTS_V3, zip_is_keras3(meta), g, err, n);
    keras_h5_close(h);
    free(cfg);
    free(meta);
    return rc;
}

/* 1 HDF5, 2 zip, 0 neither, -1 unreadable. */
static int sniff(const char *path, char *err, size_t n)
{
    unsigned char head[8] = {0};
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, n, "'%s' is a directory (a SavedModel? save the Keras model with "
                         "model.save('m.h5') or 'm.keras')", path);
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, n, "cannot open '%s'", path);
        return -1;
    }
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    if (got == 8 && memcmp(head, "\x89HDF\r\n\x1a\n", 8) == 0)
        return 1;
    if (got >= 4 && memcmp(head, "PK\x03\x04", 4) == 0)
        return 2;
    return 0;
}

static int has_ext(const char *path, const char *ext)
{
    size_t lp = strlen(path), le = strlen(ext);
    if (lp < le)
        return 0;
    for (size_t i = 0; i < le; i++) {
        char a = path[lp - le + i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (a != ext[i])
            return 0;
    }
    return 1;
}

int tml_import_keras(const char *path, tml_ir_graph *g, char *err, size_t err_size)
{
    int kind = sniff(path, err, err_size);
    if (kind == 1)
        return import_h5(path, g, err, err_size);
    if (kind == 2)
        return import_zip(path, g, err, err_size);
    if (kind == 0)
        snprintf(err, err_size, "'%s' is neither a Keras HDF5 file nor a .keras archive", path);
    return -1;
}

int tml_import_file(const char *path, tml_ir_graph *g, char *err, size_t err_size)
{
    char dir[4096];
    if (tml_savedmodel_dir(path, dir, sizeof dir))
        return tml_import_savedmodel(dir, g, err, err_size);
    int kind = sniff(path, err, err_size);
    if (kind < 0)
        return -1;
    if (kind > 0 || has_ext(path, ".h5") || has_ext(path, ".hdf5") || has_ext(path, ".keras"))
        return tml_import_keras(path, g, err, err_size);
    if (has_ext(path, ".tflite"))
        snprintf(err, err_size, "'%s' is already a TFLite model", path);
    else
        snprintf(err, err_size,
                 "cannot tell the format of '%s' (supported: Keras .h5 and .keras, SavedModel "
                 "directories)", path);
    return -1;
}
