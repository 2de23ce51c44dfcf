/*
 * Full-integer int8 quantization following the TFLite int8 spec
 * (tensorflow.org/lite/performance/quantization_spec):
 *  - weights: symmetric int8, zero point 0, values in [-127, 127];
 *    per channel for CONV_2D (axis 0 of OHWI) and DEPTHWISE_CONV_2D
 *    (axis 3), per tensor for FULLY_CONNECTED (as TF's converter writes
 *    the MLPerf Tiny models);
 *  - biases: int32, scale input_scale * weight_scale[c], zero point 0;
 *  - activations: asymmetric int8 per tensor from the calibrated range
 *    (tml_q_activation_params: TF's rule);
 *  - fixed output parameters: SOFTMAX and LOGISTIC 1/256 with zero point
 *    -128, TANH 1/128 with 0;
 *  - ops that only move or select values keep their input's parameters
 *    (RESHAPE, SQUEEZE, MAX/AVERAGE_POOL_2D, PAD, TRANSPOSE,
 *    STRIDED_SLICE, RELU6): TFLite Micro's kernels copy bytes or clamp in
 *    the input's domain, so the output must share its scale and zero
 *    point;
 *  - CONCATENATION copies bytes too: every input must carry the output's
 *    parameters.  A producer whose only reader is the concatenation takes
 *    them over; any other input gets a requantizing QUANTIZE op.
 * Graph inputs and outputs become int8 (io_int8), or stay float32 with a
 * QUANTIZE op after each input and a DEQUANTIZE op before each output, as
 * TF's converter does with inference_input_type float32.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert/quantize/qutil.h"
#include "convert/quantize/quantize.h"

typedef struct qctx {
    tml_ir_graph *g;
    char *err;
    size_t n;
} qctx;

enum rule {
    RULE_NONE,     /* no int8 rule: an error */
    RULE_WEIGHTS,  /* CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED */
    RULE_OWN,      /* output parameters from its calibrated range */
    RULE_SAME,     /* output parameters = input 0's */
    RULE_FIXED,    /* the spec's fixed output parameters */
    RULE_CONCAT    /* inputs take the output's parameters */
};

static enum rule rule_of(int32_t builtin)
{
    switch (builtin) {
    case TML_B_CONV_2D:
    case TML_B_DEPTHWISE_CONV_2D:
    case TML_B_FULLY_CONNECTED:
        return RULE_WEIGHTS;
    case TML_B_ADD:
    case TML_B_SUB:
    case TML_B_MUL:
    case TML_B_MEAN:
    case TML_B_RELU:
    case TML_B_LEAKY_RELU:
    case TML_B_HARD_SWISH:
        return RULE_OWN;
    case TML_B_RESHAPE:
    case TML_B_SQUEEZE:
    case TML_B_MAX_POOL_2D:
    case TML_B_AVERAGE_POOL_2D:
    case TML_B_PAD:
    case TML_B_TRANSPOSE:
    case TML_B_STRIDED_SLICE:
    case TML_B_RELU6:
        return RULE_SAME;
    case TML_B_SOFTMAX:
    case TML_B_LOGISTIC:
    case TML_B_TANH:
        return RULE_FIXED;
    case TML_B_CONCATENATION:
        return RULE_CONCAT;
    default:
        return RULE_NONE;
    }
}

int tml_q_output_rule(int32_t builtin)
{
    switch (rule_of(builtin)) {
    case RULE_WEIGHTS:
    case RULE_OWN:
    case RULE_CONCAT:
        return TML_Q_OUT_RANGE;
    case RULE_SAME:
        return TML_Q_OUT_INPUT;
    case RULE_FIXED:
        return TML_Q_OUT_FIXED;
    default:
        return TML_Q_OUT_NONE;
    }
}

static int ir_fail(qctx *q)
{
    return tml_q_ir_error(q->g, q->err, q->n);
}

static int is_quantized_act(const tml_ir_tensor *t)
{
    return t->dtype == TML_INT8 && t->quant.count == 1;
}

/* Makes activation t int8 with per-tensor (scale, zp). */
static int set_int8(qctx *q, int32_t t, float scale, int32_t zp)
{
    int64_t z = zp;
    q->g->tensors[t].dtype = TML_INT8;
    if (tml_ir_set_quant(q->g, t, 1, &scale, &z, 0) < 0)
        return ir_fail(q);
    return 0;
}

static int copy_params(qctx *q, int32_t to, int32_t from)
{
    const tml_ir_quant *s = &q->g->tensors[from].quant;
    return set_int8(q, to, s->scales[0], (int32_t)s->zero_points[0]);
}

static int from_range(qctx *q, int32_t t, const char *origin)
{
    const tml_ir_tensor *x = &q->g->tensors[t];
    if (!x->has_range)
        return tml_q_fail(q->err, q->n, "%s: tensor '%s' has no calibration "
                          "range (run the calibration first)", origin, x->name);
    float scale;
    int32_t zp;
    tml_q_activation_params(x->min, x->max, &scale, &zp);
    return set_int8(q, t, scale, zp);
}

/* A float constant read as an activation (ADD/MUL operand, concatenated
 * table): int8 with the given parameters, or with its own range when
 * scale is 0. */
static int quantize_const(qctx *q, int32_t t, float scale, int32_t zp)
{
    tml_ir_tensor *x = &q->g->tensors[t];
    size_t count = tml_ir_elements(x);
    const float *v = x->data;
    if (scale == 0.0f) {
        float lo = 0.0f, hi = 0.0f;
        for (size_t i = 0; i < count; i++) {
            lo = fminf(lo, v[i]);
            hi = fmaxf(hi, v[i]);
        }
        tml_q_activation_params(lo, hi, &scale, &zp);
    }
    int8_t *d = malloc(count ? count : 1);
    if (!d)
        return tml_q_fail(q->err, q->n, "out of memory");
    for (size_t i = 0; i < count; i++) {
        float r = roundf(v[i] / scale) + (float)zp;
        d[i] = (int8_t)(r < -128.0f ? -128 : r > 127.0f ? 127 : (int)r);
    }
    int rc = tml_ir_set_data(q->g, t, TML_INT8, d);
    free(d);
    if (rc < 0)
        return ir_fail(q);
    return set_int8(q, t, scale, zp);
}

/* ------------------------------------------------- weights and biases */

/* The smallest weight scale per channel that keeps the int32 bias in
 * range: |bias| / (input_scale * weight_scale) <= 2^30 (half the int32
 * range, headroom for the accumulation).  BN folding leaves channels whose
 * weights are ~1e-30 but whose bias is not; their max|w| / 127 scale would
 * push the bias far past int32 (TF's converter raises such weight scales
 * the same way).  0 where there is no bias. */
static void bias_min_scales(const qctx *q, const tml_ir_op *op,
                            int32_t channels, float *min_scales)
{
    for (int32_t c = 0; c < channels; c++)
        min_scales[c] = 0.0f;
    if (op->ninputs < 3 || op->inputs[2] < 0)
        return;
    const tml_ir_tensor *b = &q->g->tensors[op->inputs[2]];
    if (b->data == NULL || b->dtype != TML_FLOAT32)
        return;
    float in_scale = q->g->tensors[op->inputs[0]].quant.scales[0];
    size_t count = tml_ir_elements(b);
    const float *v = b->data;
    for (size_t i = 0; i < count; i++) {
        int32_t c = channels == 1 ? 0 : (int32_t)i;
        if (c >= channels)
            break;
        float need = (float)((double)fabsf(v[i]) /
                             ((double)in_scale * 1073741824.0));
        if (need > min_scales[c])
            min_scales[c] = need;
    }
}

static int quantize_weights(qctx *q, const tml_ir_op *op)
{
    int32_t t = op->inputs[1];
    tml_ir_tensor *w = &q->g->tensors[t];
    if (w->dtype == TML_INT8 && w->quant.count > 0)
        return 0;   /* shared with an op quantized before */
    if (w->data == NULL || w->dtype != TML_FLOAT32)
        return tml_q_fail(q->err, q->n, "%s: %s weights '%s' must be a float32 "
                          "constant for int8 quantization", op->origin,
                          tml_op_name(op->builtin), w->name);
    int per_channel = op->builtin != TML_B_FULLY_CONNECTED;
    int32_t axis = op->builtin == TML_B_DEPTHWISE_CONV_2D ? 3 : 0;
    if (w->ndims <= axis)
        return tml_q_fail(q->err, q->n, "%s: weights '%s' have rank %d",
                          op->origin, w->name, (int)w->ndims);
    int32_t channels = per_channel ? w->dims[axis] : 1;
    size_t count = tml_ir_elements(w);
    int8_t *d = malloc(count ? count : 1);
    float *scales = malloc(sizeof(float) * (size_t)(channels ? channels : 1));
    float *mins = malloc(sizeof(float) * (size_t)(channels ? channels : 1));
    int rc = 0;
    if (!d || !scales || !mins) {
        rc = tml_q_fail(q->err, q->n, "out of memory");
    } else {
        bias_min_scales(q, op, channels, mins);
        tml_q_symmetric(w->data, w->dims, w->ndims, axis, per_channel, mins,
                        d, scales);
        if (tml_ir_set_data(q->g, t, TML_INT8, d) < 0 ||
            tml_ir_set_quant(q->g, t, channels, scales, NULL,
                             per_channel ? axis : 0) < 0)
            rc = ir_fail(q);
    }
    free(d);
    free(scales);
    free(mins);
    return rc;
}

/* TFLite int8 spec: int32 bias, scale input_scale * weight_scale[c] (a
 * float product, as TF computes it), zero point 0. */
static int quantize_bias(qctx *q, const tml_ir_op *op)
{
    if (op->ninputs < 3 || op->inputs[2] < 0)
        return 0;
    int32_t t = op->inputs[2];
    tml_ir_tensor *b = &q->g->tensors[t];
    const tml_ir_quant *wq = &q->g->tensors[op->inputs[1]].quant;
    float in_scale = q->g->tensors[op->inputs[0]].quant.scales[0];
    if (b->data == NULL || b->dtype != TML_FLOAT32)
        return tml_q_fail(q->err, q->n, "%s: bias '%s' must be a float32 "
                          "constant for int8 quantization", op->origin,
                          b->name);
    size_t count = tml_ir_elements(b);
    if (wq->count != 1 && (size_t)wq->count != count)
        return tml_q_fail(q->err, q->n, "%s: bias '%s' has %zu values for %d "
                          "weight channels", op->origin, b->name, count,
                          (int)wq->count);
    int32_t nscales = wq->count;
    int32_t *d = malloc(sizeof(int32_t) * (count ? count : 1));
    float *scales = malloc(sizeof(float) * (size_t)nscales);
    if (!d || !scales) {
        free(d);
        free(scales);
        return tml_q_fail(q->err, q->n, "out of memory");
    }
    const float *v = b->data;
    for (int32_t c = 0; c < nscales; c++)
        scales[c] = in_scale * wq->scales[c];
    for (size_t i = 0; i < count; i++) {
        double r = round((double)v[i] / (double)scales[nscales == 1 ? 0 : i]);
        d[i] = r > 2147483647.0 ? INT32_MAX
             : r < -2147483648.0 ? INT32_MIN : (int32_t)r;
    }
    int rc = 0;
    if (tml_ir_set_data(q->g, t, TML_INT32, d) < 0 ||
        tml_ir_set_quant(q->g, t, nscales, scales, NULL, 0) < 0)
        rc = ir_fail(q);
    free(d);
    free(scales);
    return rc;
}

/* --------------------------------------------------------------- ops */

/* Every activation input must be int8 by now (ops are in topological
 * order); float constants are quantized with their own range. */
static int check_inputs(qctx *q, const tml_ir_op *op, int32_t first,
                        int32_t last)
{
    for (int32_t k = first; k < last && k < op->ninputs; k++) {
        int32_t t = op->inputs[k];
        if (t < 0)
            continue;
        tml_ir_tensor *x = &q->g->tensors[t];
        if (is_quantized_act(x) || x->dtype != TML_FLOAT32)
            continue;
        if (x->data != NULL) {
            if (quantize_const(q, t, 0.0f, 0) < 0)
                return -1;
            continue;
        }
        return tml_q_fail(q->err, q->n, "%s: input %d '%s' of %s is not "
                          "quantized", op->origin, (int)k, x->name,
                          tml_op_name(op->builtin));
    }
    return 0;
}

static int quantize_output(qctx *q, const tml_ir_op *op, enum rule r)
{
    int32_t out = op->outputs[0];
    if (q->g->tensors[out].dtype != TML_FLOAT32)
        return tml_q_fail(q->err, q->n, "%s: output '%s' is %s, expected "
                          "float32", op->origin, q->g->tensors[out].name,
                          tml_dtype_name(q->g->tensors[out].dtype));
    switch (r) {
    case RULE_SAME:
        return copy_params(q, out, op->inputs[0]);
    case RULE_FIXED:
        if (op->builtin == TML_B_TANH)
            return set_int8(q, out, 1.0f / 128.0f, 0);
        return set_int8(q, out, 1.0f / 256.0f, -128);
    default:
        return from_range(q, out, op->origin);
    }
}

static int same_params(const tml_ir_tensor *a, const tml_ir_tensor *b)
{
    return a->quant.scales[0] == b->quant.scales[0] &&
           a->quant.zero_points[0] == b->quant.zero_points[0];
}

/* May this tensor's parameters change without touching anything else:
 * produced by an op whose output parameters are free (not fixed, not tied
 * to its input; a nested CONCATENATION is tied to its inputs too), read
 * only by the concatenation, and not a graph output? */
static int retargetable(const tml_ir_graph *g, int32_t t)
{
    int32_t p = tml_ir_producer(g, t);
    if (p < 0 || tml_ir_consumer_count(g, t) != 1 ||
        tml_ir_is_graph_output(g, t))
        return 0;
    enum rule r = rule_of(g->ops[p].builtin);
    return r == RULE_WEIGHTS || r == RULE_OWN;
}

/* Inserts a requantizing QUANTIZE before op `at` for input k; returns 1
 * (one op inserted) or -1. */
static int requantize_input(qctx *q, int32_t at, int32_t k, int32_t out)
{
    tml_ir_graph *g = q->g;
    int32_t src = g->ops[at].inputs[k];
    char name[256];
    snprintf(name, sizeof name, "%s_rq%d", g->tensors[src].name, (int)at);
    int32_t dims[TML_MAX_DIMS];
    memcpy(dims, g->tensors[src].dims, sizeof dims);
    int32_t t = tml_ir_add_tensor(g, name, TML_INT8, g->tensors[src].ndims,
                                  dims);
    if (t < 0 || copy_params(q, t, out) < 0)
        return t < 0 ? ir_fail(q) : -1;
    const char *origin = g->ops[at].origin;
    char *keep = malloc(strlen(origin) + 1);
    if (!keep)
        return tml_q_fail(q->err, q->n, "out of memory");
    strcpy(keep, origin);
    int32_t idx = tml_ir_insert_op(g, at, TML_B_QUANTIZE, &src, 1, &t, 1,
                                   NULL, keep);
    free(keep);
    if (idx < 0)
        return ir_fail(q);
    g->ops[at + 1].inputs[k] = t;
    return 1;
}

/* CONCATENATION: output from its range; inputs made to match. */
static int quantize_concat(qctx *q, int32_t at)
{
    tml_ir_graph *g = q->g;
    int32_t out = g->ops[at].outputs[0];
    if (quantize_output(q, &g->ops[at], RULE_CONCAT) < 0)
        return -1;
    int inserted = 0;
    int32_t ninputs = g->ops[at].ninputs;
    for (int32_t k = 0; k < ninputs; k++) {
        int32_t cur = at + inserted;
        int32_t t = g->ops[cur].inputs[k];
        tml_ir_tensor *x = &g->tensors[t];
        float s = g->tensors[out].quant.scales[0];
        int32_t zp = (int32_t)g->tensors[out].quant.zero_points[0];
        if (x->data != NULL && x->dtype == TML_FLOAT32) {
            if (quantize_const(q, t, s, zp) < 0)
                return -1;
            continue;
        }
        if (!is_quantized_act(x))
            return tml_q_fail(q->err, q->n, "%s: input %d '%s' of "
                              "CONCATENATION is not quantized",
                              g->ops[cur].origin, (int)k, x->name);
        if (same_params(x, &g->tensors[out]))
            continue;
        if (retargetable(g, t)) {
            if (copy_params(q, t, out) < 0)
                return -1;
            continue;
        }
        int r = requantize_input(q, cur, k, out);
        if (r < 0)
            return -1;
        inserted += r;
    }
    return inserted;
}

/* Quantizes op `at`; returns the number of ops inserted before it. */
static int quantize_op(qctx *q, int32_t at)
{
    tml_ir_op *op = &q->g->ops[at];
    enum rule r = rule_of(op->builtin);
    if (r == RULE_NONE)
        return tml_q_fail(q->err, q->n, "%s: %s has no int8 quantization "
                          "rule", op->origin, tml_op_name(op->builtin));
    if (op->noutputs != 1)
        return tml_q_fail(q->err, q->n, "%s: %s with %d outputs", op->origin,
                          tml_op_name(op->builtin), (int)op->noutputs);
    if (r == RULE_CONCAT)
        return quantize_concat(q, at);
    if (r == RULE_WEIGHTS) {
        if (op->ninputs < 2 || op->inputs[1] < 0)
            return tml_q_fail(q->err, q->n, "%s: %s without weights",
                              op->origin, tml_op_name(op->builtin));
        if (check_inputs(q, op, 0, 1) < 0 || quantize_weights(q, op) < 0 ||
            quantize_bias(q, op) < 0)
            return -1;
    } else if (r == RULE_SAME) {
        /* Only input 0 carries values; the rest are int32 shapes/axes. */
        if (check_inputs(q, op, 0, 1) < 0)
            return -1;
    } else if (check_inputs(q, op, 0, op->ninputs) < 0) {
        return -1;
    }
    return quantize_output(q, op, r) < 0 ? -1 : 0;
}

/* ------------------------------------------------------- graph edges */

/* Points every op input reading `from` at `to` (graph outputs stay). */
static void replace_op_inputs(tml_ir_graph *g, int32_t from, int32_t to)
{
    for (int32_t k = 0; k < g->nops; k++) {
        for (int32_t j = 0; j < g->ops[k].ninputs; j++) {
            if (g->ops[k].inputs[j] == from)
                g->ops[k].inputs[j] = to;
        }
    }
}

/* A new int8 activation "<name of t>_int8" with t's shape; -1 on error. */
static int32_t add_int8_twin(qctx *q, int32_t t)
{
    tml_ir_graph *g = q->g;
    char name[256];
    snprintf(name, sizeof name, "%s_int8", g->tensors[t].name);
    int32_t dims[TML_MAX_DIMS];
    memcpy(dims, g->tensors[t].dims, sizeof dims);
    int32_t twin = tml_ir_add_tensor(g, name, TML_INT8, g->tensors[t].ndims,
                                     dims);
    if (twin < 0)
        ir_fail(q);
    return twin;
}

/* Float inputs: a QUANTIZE at the start writes an int8 twin that the
 * graph's ops read instead. */
static int quantize_input(qctx *q, int32_t t, int32_t at)
{
    tml_ir_graph *g = q->g;
    if (from_range(q, t, "graph input") < 0)   /* checks the range */
        return -1;
    int32_t twin = add_int8_twin(q, t);
    if (twin < 0 || copy_params(q, twin, t) < 0)
        return -1;
    g->tensors[t].dtype = TML_FLOAT32;
    if (tml_ir_set_quant(g, t, 0, NULL, NULL, 0) < 0)
        return ir_fail(q);
    replace_op_inputs(g, t, twin);
    if (tml_ir_insert_op(g, at, TML_B_QUANTIZE, &t, 1, &twin, 1, NULL,
                         "input") < 0)
        return ir_fail(q);
    return 0;
}

static int quantize_inputs(qctx *q, int io_int8, int32_t *inserted)
{
    tml_ir_graph *g = q->g;
    *inserted = 0;
    for (int32_t i = 0; i < g->ninputs; i++) {
        int32_t t = g->inputs[i];
        if (g->tensors[t].dtype != TML_FLOAT32)
            return tml_q_fail(q->err, q->n, "input '%s' is %s, expected "
                              "float32", g->tensors[t].name,
                              tml_dtype_name(g->tensors[t].dtype));
        if (io_int8) {
            if (from_range(q, t, "graph input") < 0)
                return -1;
            continue;
        }
        if (quantize_input(q, t, *inserted) < 0)
            return -1;
        (*inserted)++;
    }
    return 0;
}

/* Float outputs: the producer writes an int8 twin that a DEQUANTIZE at
 * the end turns back into the float32 graph output. */
static int dequantize_output(qctx *q, int32_t t)
{
    tml_ir_graph *g = q->g;
    int32_t p = tml_ir_producer(g, t);
    if (p < 0 || !is_quantized_act(&g->tensors[t]))
        return 0;   /* a graph input or constant passed through */
    int32_t twin = add_int8_twin(q, t);
    if (twin < 0 || copy_params(q, twin, t) < 0)
        return -1;
    for (int32_t k = 0; k < g->ops[p].noutputs; k++) {
        if (g->ops[p].outputs[k] == t)
            g->ops[p].outputs[k] = twin;
    }
    replace_op_inputs(g, t, twin);
    g->tensors[t].dtype = TML_FLOAT32;
    if (tml_ir_set_quant(g, t, 0, NULL, NULL, 0) < 0 ||
        tml_ir_add_op(g, TML_B_DEQUANTIZE, &twin, 1, &t, 1, NULL, "output") < 0)
        return ir_fail(q);
    return 0;
}

static int dequantize_outputs(qctx *q)
{
    for (int32_t i = 0; i < q->g->noutputs; i++) {
        if (dequantize_output(q, q->g->outputs[i]) < 0)
            return -1;
    }
    return 0;
}

int tml_quantize_int8(tml_ir_graph *g, int io_int8, char *err, size_t n)
{
    qctx q = { g, err, n };
    int32_t at = 0;
    if (quantize_inputs(&q, io_int8, &at) < 0)
        return -1;
    while (at < g->nops) {
        if (g->ops[at].builtin == TML_IR_DEAD) {
            at++;
            continue;
        }
        int inserted = quantize_op(&q, at);
        if (inserted < 0)
            return -1;
        at += inserted + 1;
    }
    return io_int8 ? 0 : dequantize_outputs(&q);
}
