/*
 * Calibration: the float graph is exported to TFLite (ir_export.h keeps
 * tensor i of the file == IR tensor i), run through the tinyml runtime
 * over the representative samples, and an observer called after every op
 * records the min/max of each float output.  Graph inputs get the range
 * of the samples themselves.  The other methods (quantize.h) narrow the
 * min/max ranges of the inner activations afterwards.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "convert/export/ir_export.h"
#include "convert/quantize/qutil.h"
#include "convert/quantize/quantize.h"
#include "tools/lib/host_interp.h"

/* Histogram bins per tensor for the percentile method (TensorRT's
 * histogram calibrators use 2048). */
enum { HIST_BINS = 2048 };

typedef struct ranges {
    int32_t ntensors;
    float *min, *max;
    uint8_t *seen;
    /* Second pass (percentile): HIST_BINS counts per tensor over its
     * first-pass [min, max]. */
    uint32_t *hist;
} ranges;

static void observe_hist(ranges *r, int32_t t, const float *x, size_t count)
{
    if (t < 0 || t >= r->ntensors || !r->seen[t])
        return;
    float lo = r->min[t], hi = r->max[t];
    if (!(hi > lo))
        return;
    uint32_t *h = r->hist + (size_t)t * HIST_BINS;
    float k = (float)HIST_BINS / (hi - lo);
    for (size_t i = 0; i < count; i++) {
        float v = x[i];
        if (v != v)
            continue;
        float f = (v - lo) * k;
        int b = f <= 0.0f ? 0 : f >= (float)(HIST_BINS - 1) ? HIST_BINS - 1
                : (int)f;
        h[b]++;
    }
}

static void observe(ranges *r, int32_t t, const float *x, size_t count)
{
    if (t < 0 || t >= r->ntensors)
        return;
    float lo = r->seen[t] ? r->min[t] : INFINITY;
    float hi = r->seen[t] ? r->max[t] : -INFINITY;
    for (size_t i = 0; i < count; i++) {
        /* fminf/fmaxf skip NaN: a NaN says nothing about the range. */
        lo = fminf(lo, x[i]);
        hi = fmaxf(hi, x[i]);
    }
    if (lo <= hi) {
        r->min[t] = lo;
        r->max[t] = hi;
        r->seen[t] = 1;
    }
}

static void observe_any(ranges *r, int32_t t, const float *x, size_t count)
{
    if (r->hist)
        observe_hist(r, t, x, count);
    else
        observe(r, t, x, count);
}

static void observer(void *user, const tml_interpreter *it, int32_t op_index)
{
    ranges *r = user;
    tml_op_info op;
    if (tml_op_details(it, op_index, &op) != TML_OK)
        return;
    for (int32_t k = 0; k < op.noutputs; k++) {
        tml_tensor_info ti;
        int32_t t = op.outputs[k];
        if (tml_tensor_details(it, t, &ti) != TML_OK ||
            ti.dtype != TML_FLOAT32)
            continue;
        const float *x = tml_tensor_data(it, t);
        if (x)
            observe_any(r, t, x, ti.bytes / sizeof(float));
    }
}

static void progress(int shown, const char *what, int32_t done, int32_t total)
{
    /* Redraw only when the percentage moves: a large dataset would
     * otherwise spend its time writing to the terminal. */
    if (!shown || (done != total && done > 1 &&
                   (int64_t)done * 100 / total ==
                       (int64_t)(done - 1) * 100 / total))
        return;
    enum { WIDTH = 30 };
    int filled = total ? (int)((int64_t)done * WIDTH / total) : WIDTH;
    char bar[WIDTH + 1];
    for (int i = 0; i < WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[WIDTH] = '\0';
    fprintf(stderr, "\r%s [%s] %d/%d", what, bar, (int)done, (int)total);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

static int check_dataset(const tml_ir_graph *g, const tml_dataset *d,
                         char *err, size_t n)
{
    if (tml_dataset_inputs(d) != g->ninputs)
        return tml_q_fail(err, n, "calibration data has %d inputs, the model "
                          "%d", (int)tml_dataset_inputs(d), (int)g->ninputs);
    for (int32_t i = 0; i < g->ninputs; i++) {
        const tml_ir_tensor *t = &g->tensors[g->inputs[i]];
        if (t->dtype != TML_FLOAT32)
            return tml_q_fail(err, n, "input '%s' is %s: calibration runs a "
                              "float32 model", t->name,
                              tml_dtype_name(t->dtype));
        if (tml_dataset_elements(d, i) != tml_ir_elements(t))
            return tml_q_fail(err, n, "input '%s': samples of %zu values, "
                              "expected %zu", t->name,
                              tml_dataset_elements(d, i), tml_ir_elements(t));
    }
    if (tml_dataset_count(d) < 1)
        return tml_q_fail(err, n, "calibration data has no samples");
    return 0;
}

static int run_samples(tml_host_interp *h, const tml_ir_graph *g,
                       const tml_dataset *d, int32_t count, int shown,
                       ranges *r, char *err, size_t n)
{
    tml_set_observer(&h->it, observer, r);
    for (int32_t s = 0; s < count; s++) {
        for (int32_t i = 0; i < g->ninputs; i++) {
            const float *x = tml_dataset_sample(d, i, s);
            size_t elems = tml_dataset_elements(d, i);
            observe_any(r, g->inputs[i], x, elems);
            if (tml_set_input(&h->it, i, x, elems * sizeof(float)) != TML_OK)
                return tml_q_fail(err, n, "%s", tml_error(&h->it));
        }
        if (tml_invoke(&h->it) != TML_OK)
            return tml_q_fail(err, n, "sample %d: %s", (int)s,
                              tml_error(&h->it));
        progress(shown, "Calibrating", s + 1, count);
    }
    return 0;
}

/* Percentile method: the narrowest [lo, hi] that keeps all but a
 * (1 - pct/100) / 2 share of the observed values on each side (bin edges
 * of the first-pass histogram, never narrower than one bin). */
static void percentile_range(const ranges *r, int32_t t, double pct,
                             float *lo, float *hi)
{
    const uint32_t *h = r->hist + (size_t)t * HIST_BINS;
    double total = 0.0;
    for (int b = 0; b < HIST_BINS; b++)
        total += h[b];
    if (total <= 0.0)
        return;
    double tail = total * (100.0 - pct) / 200.0;
    float a = r->min[t], w = (r->max[t] - a) / (float)HIST_BINS;
    int first = 0, last = HIST_BINS - 1;
    double acc = 0.0;
    while (first < last && acc + h[first] <= tail)
        acc += h[first++];
    acc = 0.0;
    while (last > first && acc + h[last] <= tail)
        acc += h[last--];
    if (first > 0)
        *lo = a + w * (float)first;
    if (last < HIST_BINS - 1)
        *hi = a + w * (float)(last + 1);
}

/* Graph inputs keep their full range (the samples are the data, and an
 * int8 model input must represent them); graph outputs too (the values
 * the user reads are never clipped). */
static int keep_minmax(const tml_ir_graph *g, int32_t t)
{
    for (int32_t i = 0; i < g->ninputs; i++) {
        if (g->inputs[i] == t)
            return 1;
    }
    for (int32_t i = 0; i < g->noutputs; i++) {
        if (g->outputs[i] == t)
            return 1;
    }
    return 0;
}

static void clip_ranges(const tml_ir_graph *g, ranges *r,
                        tml_calib_method method, double pct)
{
    for (int32_t t = 0; t < g->ntensors; t++) {
        if (!r->seen[t] || keep_minmax(g, t) || !(r->max[t] > r->min[t]))
            continue;
        float lo = r->min[t], hi = r->max[t];
        if (method == TML_CALIB_PERCENTILE)
            percentile_range(r, t, pct, &lo, &hi);
        r->min[t] = lo;
        r->max[t] = hi;
    }
}

/* ------------------------------ output-aware search on real int8 runs */

/* The SEARCH_FULL method (and the final check of SEARCH) scores a set of
 * ranges by quantizing a copy of the graph with them and measuring the
 * squared error of its (float) outputs against the float model's over
 * the first `count` samples. */
typedef struct search {
    const tml_ir_graph *g;
    const tml_dataset *d;
    int32_t count;
    float *ref;               /* count x nout float outputs */
    size_t nout;
    int shown;                /* progress bar on stderr */
} search;

/* Copies the float outputs of an open model, one after another, into y
 * (at most nout floats); returns the count written. */
static size_t read_outputs(const tml_interpreter *it, float *y, size_t nout)
{
    size_t k = 0;
    for (int32_t o = 0; o < tml_output_count(it); o++) {
        tml_tensor_info ti;
        if (tml_output_details(it, o, &ti) != TML_OK ||
            ti.dtype != TML_FLOAT32)
            continue;
        const float *x = tml_output_data(it, o);
        size_t n = ti.bytes / sizeof(float);
        for (size_t i = 0; i < n && k < nout; i++)
            y[k++] = x[i];
    }
    return k;
}

static int feed(tml_host_interp *h, const search *s, int32_t sample,
                char *err, size_t n)
{
    for (int32_t i = 0; i < s->g->ninputs; i++) {
        const float *x = tml_dataset_sample(s->d, i, sample);
        size_t elems = tml_dataset_elements(s->d, i);
        if (tml_set_input(&h->it, i, x, elems * sizeof(float)) != TML_OK)
            return tml_q_fail(err, n, "%s", tml_error(&h->it));
    }
    if (tml_invoke(&h->it) != TML_OK)
        return tml_q_fail(err, n, "sample %d: %s", (int)sample,
                          tml_error(&h->it));
    return 0;
}

static int search_init(search *s, tml_host_interp *h, char *err, size_t n)
{
    s->nout = 0;
    for (int32_t o = 0; o < s->g->noutputs; o++)
        s->nout += tml_ir_elements(&s->g->tensors[s->g->outputs[o]]);
    s->ref = malloc(sizeof(float) * (s->nout * (size_t)s->count + 1));
    if (!s->ref)
        return tml_q_fail(err, n, "out of memory");
    tml_set_observer(&h->it, NULL, NULL);
    for (int32_t k = 0; k < s->count; k++) {
        if (feed(h, s, k, err, n) < 0)
            return -1;
        read_outputs(&h->it, s->ref + s->nout * (size_t)k, s->nout);
    }
    return 0;
}

static int score(const search *s, const ranges *r, double *noise, char *err,
                 size_t n)
{
    tml_ir_graph *q = tml_ir_clone(s->g);
    if (!q)
        return tml_q_fail(err, n, "out of memory");
    for (int32_t t = 0; t < q->ntensors; t++) {
        if (!r->seen[t])
            continue;
        q->tensors[t].has_range = 1;
        q->tensors[t].min = r->min[t];
        q->tensors[t].max = r->max[t];
    }
    uint8_t *bytes = NULL;
    size_t size = 0;
    int rc = tml_quantize_int8(q, 0, err, n);
    if (rc == 0 && tml_ir_export_tflite(q, &bytes, &size, err, n) < 0)
        rc = -1;
    tml_ir_free(q);
    tml_host_interp h;
    if (rc == 0 && tml_host_open_bytes(&h, bytes, size, "int8 model", err,
                                       n) != TML_HOST_OK)
        rc = -1;
    free(bytes);
    if (rc < 0)
        return -1;
    float *y = malloc(sizeof(float) * (s->nout + 1));
    rc = y ? 0 : tml_q_fail(err, n, "out of memory");
    double e = 0.0;
    for (int32_t k = 0; rc == 0 && k < s->count; k++) {
        rc = feed(&h, s, k, err, n);
        if (rc < 0)
            break;
        read_outputs(&h.it, y, s->nout);
        const float *ref = s->ref + s->nout * (size_t)k;
        for (size_t i = 0; i < s->nout; i++)
            e += (double)(y[i] - ref[i]) * (double)(y[i] - ref[i]);
    }
    free(y);
    tml_host_close(&h);
    *noise = e;
    return rc;
}

/* Greedy, in graph order: each activation's range is narrowed to the
 * fraction of its observed range (both ends alike) that gives the least
 * output error with the ranges chosen so far; ties keep the wider one. */
static int search_ranges(search *s, ranges *r, char *err, size_t n)
{
    static const float fractions[] = { 0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.4f,
                                       0.3f, 0.2f };
    enum { NF = sizeof fractions / sizeof fractions[0] };
    int32_t total = 0, done = 0;
    for (int32_t o = 0; o < s->g->nops; o++) {
        for (int32_t k = 0; k < s->g->ops[o].noutputs; k++) {
            int32_t t = s->g->ops[o].outputs[k];
            total += t >= 0 && r->seen[t] && !keep_minmax(s->g, t) &&
                     r->max[t] > r->min[t];
        }
    }
    double best;
    if (score(s, r, &best, err, n) < 0)
        return -1;
    for (int32_t o = 0; o < s->g->nops; o++) {
        const tml_ir_op *op = &s->g->ops[o];
        for (int32_t k = 0; k < op->noutputs; k++) {
            int32_t t = op->outputs[k];
            if (t < 0 || !r->seen[t] || keep_minmax(s->g, t) ||
                !(r->max[t] > r->min[t]))
                continue;
            float lo = r->min[t], hi = r->max[t];
            float best_lo = lo, best_hi = hi;
            for (int f = 0; f < NF; f++) {
                double e;
                r->min[t] = lo * fractions[f];
                r->max[t] = hi * fractions[f];
                if (score(s, r, &e, err, n) < 0)
                    return -1;
                if (e < best) {
                    best = e;
                    best_lo = r->min[t];
                    best_hi = r->max[t];
                }
            }
            r->min[t] = best_lo;
            r->max[t] = best_hi;
            progress(s->shown, "Searching ranges", ++done, total);
        }
    }
    return 0;
}

/* ------------------------------- simulated output-aware search (default) */

/* The int8 model is simulated by the float runtime: a copy of the graph
 * whose weights and biases are their int8 / int32 values dequantized, run
 * with an observer that rounds every activation onto its int8 grid
 * (quantize, clamp, dequantize with the tensor's scale and zero point)
 * right after the op that writes it.  A candidate range then costs no
 * re-quantization, export or interpreter set-up: only its tensor's scale
 * and zero point change between runs.  (The int8 kernels' requantization
 * rounding is not simulated; it is far below one step of the grid.) */
typedef struct sim {
    const tml_ir_graph *g;
    int32_t ntensors;
    float *scale;
    int32_t *zp;
    uint8_t *active;          /* round this tensor onto its grid */
    tml_host_interp h;
    int open;
    int32_t count;            /* samples scored */
    float **inputs;           /* count x ninputs, rounded like the input */
    float *ref;               /* count x nout float outputs */
    float *y;                 /* one sample's simulated outputs */
    float *dst;               /* where the observers copy the outputs */
    size_t nout;
} sim;

/* Output-aware search, as SEARCH_FULL, within a fixed amount of work:
 * SEARCH_BUDGET multiply-accumulates (plus one per activation value
 * rounded) of simulated runs: ~1 s of one core here (vww_96: 7.7 M per
 * sample, 4 groups of its 28 activations on 12 samples). */
#define SEARCH_BUDGET 3.2e9
/* The fractions of the observed range tried (as SEARCH_FULL). */
static const float search_fractions[] = { 0.9f, 0.8f, 0.7f, 0.6f, 0.5f,
                                          0.4f, 0.3f, 0.2f };
enum { NFRACTIONS = sizeof search_fractions / sizeof search_fractions[0] };
/* The relative error drop a narrower range must bring to be taken. */
#define SEARCH_MIN_GAIN 0.01
/* Samples of the final check against min/max (real int8 runs). */
enum { SEARCH_CHECK_SAMPLES = 16 };
/* Never fewer samples than this while groups can still grow. */
enum { SEARCH_MIN_SAMPLES = 12, SEARCH_MAX_SAMPLES = 100 };

static void fake_quant(float *x, size_t count, float scale, int32_t zp)
{
    float inv = 1.0f / scale, lo = (float)(-128 - zp), hi = (float)(127 - zp);
    for (size_t i = 0; i < count; i++) {
        /* Clamp first, then round to nearest by the float adder
         * (|q| < 2^22): no libm call in the hottest loop. */
        float q = x[i] * inv;
        q = q < lo ? lo : q > hi ? hi : q;
        q = (q + 12582912.0f) - 12582912.0f;
        x[i] = q * scale;
    }
}

/* Copies graph output data into s->dst at its place. */
static void capture(const sim *s, int32_t t, const float *x, size_t count)
{
    size_t off = 0;
    for (int32_t i = 0; i < s->g->noutputs; i++) {
        int32_t o = s->g->outputs[i];
        size_t want = tml_ir_elements(&s->g->tensors[o]);
        if (o == t)
            memcpy(s->dst + off, x, sizeof(float) *
                   (count < want ? count : want));
        off += want;
    }
}

/* rounding: 1 for the simulation (round, then capture), 0 for the float
 * reference (capture only). */
static void sim_visit(sim *s, const tml_interpreter *it, int32_t op_index,
                      int rounding)
{
    tml_op_info op;
    if (tml_op_details(it, op_index, &op) != TML_OK)
        return;
    for (int32_t k = 0; k < op.noutputs; k++) {
        tml_tensor_info ti;
        int32_t t = op.outputs[k];
        if (t < 0 || t >= s->ntensors ||
            tml_tensor_details(it, t, &ti) != TML_OK ||
            ti.dtype != TML_FLOAT32)
            continue;
        /* The arena is ours (tml_host_interp mallocs it): the next op
         * reads the rounded values. */
        float *x = (float *)(uintptr_t)tml_tensor_data(it, t);
        if (!x)
            continue;
        size_t count = ti.bytes / sizeof(float);
        if (rounding && s->active[t])
            fake_quant(x, count, s->scale[t], s->zp[t]);
        capture(s, t, x, count);
    }
}

static void sim_observer(void *user, const tml_interpreter *it,
                         int32_t op_index)
{
    sim_visit(user, it, op_index, 1);
}

static void ref_observer(void *user, const tml_interpreter *it,
                         int32_t op_index)
{
    sim_visit(user, it, op_index, 0);
}

/* Dequantizes constant c of the quantized graph (int8 weights, int32
 * bias, int8 operand) into the float tensor t of the simulation graph. */
static int dequantize_const(tml_ir_graph *sg, int32_t t,
                            const tml_ir_tensor *c, char *err, size_t n)
{
    size_t count = tml_ir_elements(c);
    size_t inner = 1;
    int32_t channels = c->quant.count;
    if (channels > 1) {
        for (int32_t d = c->quant.dim + 1; d < c->ndims; d++)
            inner *= (size_t)c->dims[d];
    }
    float *v = malloc(sizeof(float) * (count ? count : 1));
    if (!v)
        return tml_q_fail(err, n, "out of memory");
    for (size_t i = 0; i < count; i++) {
        int32_t ch = channels > 1 ? (int32_t)((i / inner) % (size_t)channels)
                                  : 0;
        double q = c->dtype == TML_INT8 ? ((const int8_t *)c->data)[i]
                                        : ((const int32_t *)c->data)[i];
        v[i] = (float)((q - (double)c->quant.zero_points[ch]) *
                       (double)c->quant.scales[ch]);
    }
    int rc = tml_ir_set_data(sg, t, TML_FLOAT32, v);
    free(v);
    return rc < 0 ? tml_q_ir_error(sg, err, n) : 0;
}

static void set_ranges(tml_ir_graph *q, const ranges *r)
{
    for (int32_t t = 0; t < q->ntensors && t < r->ntensors; t++) {
        if (!r->seen[t])
            continue;
        q->tensors[t].has_range = 1;
        q->tensors[t].min = r->min[t];
        q->tensors[t].max = r->max[t];
    }
}

/* Quantizes a copy of g with the ranges r, keeps each activation's
 * parameters, and opens the simulation graph. */
static int sim_open(sim *s, const ranges *r, char *err, size_t n)
{
    const tml_ir_graph *g = s->g;
    tml_ir_graph *q = tml_ir_clone(g);
    tml_ir_graph *sg = tml_ir_clone(g);
    int rc = q && sg ? 0 : tml_q_fail(err, n, "out of memory");
    if (rc == 0) {
        set_ranges(q, r);
        rc = tml_quantize_int8(q, 1, err, n);
    }
    /* Tensor indices survive quantization (it only appends tensors). */
    for (int32_t t = 0; rc == 0 && t < g->ntensors; t++) {
        const tml_ir_tensor *qt = &q->tensors[t];
        if (qt->quant.count < 1 || g->tensors[t].dtype != TML_FLOAT32)
            continue;
        if (g->tensors[t].data == NULL) {
            s->active[t] = qt->dtype == TML_INT8 && qt->quant.count == 1;
            s->scale[t] = qt->quant.scales[0];
            s->zp[t] = (int32_t)qt->quant.zero_points[0];
        } else if (qt->data != NULL && (qt->dtype == TML_INT8 ||
                                        qt->dtype == TML_INT32)) {
            rc = dequantize_const(sg, t, qt, err, n);
        }
    }
    uint8_t *bytes = NULL;
    size_t size = 0;
    if (rc == 0 && tml_ir_export_tflite(sg, &bytes, &size, err, n) < 0)
        rc = -1;
    if (rc == 0 && tml_host_open_bytes(&s->h, bytes, size, "simulated int8",
                                       err, n) != TML_HOST_OK)
        rc = -1;
    free(bytes);
    tml_ir_free(q);
    tml_ir_free(sg);
    if (rc < 0)
        return -1;
    s->open = 1;
    tml_set_observer(&s->h.it, sim_observer, s);
    return 0;
}

/* Squared error of the simulated outputs against the float ones over
 * the scored samples; -1 on a runtime error. */
static double sim_score(sim *s, char *err, size_t n)
{
    double e = 0.0;
    s->dst = s->y;
    for (int32_t k = 0; k < s->count; k++) {
        for (int32_t i = 0; i < s->g->ninputs; i++) {
            size_t elems = tml_ir_elements(&s->g->tensors[s->g->inputs[i]]);
            if (tml_set_input(&s->h.it, i, s->inputs[k * s->g->ninputs + i],
                              elems * sizeof(float)) != TML_OK)
                return tml_q_fail(err, n, "%s", tml_error(&s->h.it));
        }
        if (tml_invoke(&s->h.it) != TML_OK)
            return tml_q_fail(err, n, "simulated int8: %s",
                              tml_error(&s->h.it));
        const float *ref = s->ref + s->nout * (size_t)k;
        for (size_t i = 0; i < s->nout; i++)
            e += (double)(s->y[i] - ref[i]) * (double)(s->y[i] - ref[i]);
    }
    return e;
}

/* Sets tensor t's parameters, and those of the tensors that copy them
 * (outputs of ops that only move values: tml_q_output_rule). */
static void sim_set(sim *s, int32_t t, float scale, int32_t zp, int depth)
{
    s->scale[t] = scale;
    s->zp[t] = zp;
    if (depth > 64)
        return;
    for (int32_t o = 0; o < s->g->nops; o++) {
        const tml_ir_op *op = &s->g->ops[o];
        if (op->builtin == TML_IR_DEAD || op->ninputs < 1 ||
            op->inputs[0] != t || op->noutputs < 1 ||
            tml_q_output_rule(op->builtin) != TML_Q_OUT_INPUT)
            continue;
        int32_t u = op->outputs[0];
        if (u >= 0 && s->active[u])
            sim_set(s, u, scale, zp, depth + 1);
    }
}

/* Does t's range decide its int8 parameters: produced by an op whose
 * output parameters come from its range, not a graph input or output,
 * and not retargeted to a concatenation's parameters? */
static int range_matters(const sim *s, const ranges *r, int32_t t)
{
    if (t < 0 || !r->seen[t] || !s->active[t] || keep_minmax(s->g, t) ||
        !(r->max[t] > r->min[t]))
        return 0;
    int32_t p = tml_ir_producer(s->g, t);
    if (p < 0 || tml_q_output_rule(s->g->ops[p].builtin) != TML_Q_OUT_RANGE)
        return 0;
    float scale;
    int32_t zp;
    tml_q_activation_params(r->min[t], r->max[t], &scale, &zp);
    return scale == s->scale[t] && zp == s->zp[t];
}

/* Work of one simulated run: multiply-accumulates of the weighted ops
 * plus one per activation value. */
static double run_cost(const tml_ir_graph *g)
{
    double c = 0.0;
    for (int32_t o = 0; o < g->nops; o++) {
        const tml_ir_op *op = &g->ops[o];
        if (op->builtin == TML_IR_DEAD || op->noutputs < 1 ||
            op->outputs[0] < 0)
            continue;
        const tml_ir_tensor *y = &g->tensors[op->outputs[0]];
        double elems = (double)tml_ir_elements(y);
        c += elems;
        if (tml_q_output_rule(op->builtin) == TML_Q_OUT_RANGE &&
            op->ninputs > 1 && op->inputs[1] >= 0 && y->ndims > 0 &&
            y->dims[y->ndims - 1] > 0 && g->tensors[op->inputs[1]].data) {
            /* Each output value reads (weights / output channels) of
             * them: kh*kw*cin (conv), kh*kw (depthwise), in (dense). */
            c += elems * (double)tml_ir_elements(&g->tensors[op->inputs[1]]) /
                 (double)y->dims[y->ndims - 1];
        }
    }
    return c;
}

/* How much search the budget buys (quantize.h): activations lose their
 * own fraction first (groups halve down to 4), then samples go (by a
 * quarter, down to SEARCH_MIN_SAMPLES), then groups (down to 1). */
void tml_calib_search_plan(double run_cost, int32_t ntensors, int32_t count,
                           int32_t *groups, int32_t *samples)
{
    int32_t gr = ntensors, sm = count < SEARCH_MAX_SAMPLES ? count
                                                          : SEARCH_MAX_SAMPLES;
    while (gr > 0) {
        double work = (double)(1 + gr * NFRACTIONS) * (double)sm * run_cost;
        if (work <= SEARCH_BUDGET)
            break;
        if (gr > 4)
            gr = gr / 2 > 4 ? gr / 2 : 4;
        else if (sm > SEARCH_MIN_SAMPLES)
            sm = sm * 3 / 4 > SEARCH_MIN_SAMPLES ? sm * 3 / 4
                                                 : SEARCH_MIN_SAMPLES;
        else if (gr > 1)
            gr--;
        else
            break;
    }
    *groups = gr;
    *samples = sm;
}

static void sim_apply(sim *s, ranges *r, const int32_t *list, int32_t a,
                      int32_t b, float f, int keep)
{
    for (int32_t j = a; j < b; j++) {
        int32_t t = list[j];
        float lo = r->min[t] * f, hi = r->max[t] * f;
        float scale;
        int32_t zp;
        tml_q_activation_params(lo, hi, &scale, &zp);
        sim_set(s, t, scale, zp, 0);
        if (keep) {
            r->min[t] = lo;
            r->max[t] = hi;
        }
    }
}

/* Greedy, in graph order: each group's ranges are scaled by the fraction
 * that gives the least output error given the fractions chosen before
 * it; ties keep the wider range. */
static int sim_search(sim *s, ranges *r, const int32_t *list,
                      int32_t ntensors, int32_t groups, int shown,
                      char *err, size_t n)
{
    double best = sim_score(s, err, n);
    if (best < 0)
        return -1;
    for (int32_t gi = 0; gi < groups; gi++) {
        int32_t a = (int32_t)((int64_t)gi * ntensors / groups);
        int32_t b = (int32_t)((int64_t)(gi + 1) * ntensors / groups);
        float best_f = 1.0f;
        for (int f = 0; f < NFRACTIONS; f++) {
            sim_apply(s, r, list, a, b, search_fractions[f], 0);
            double e = sim_score(s, err, n);
            if (e < 0)
                return -1;
            /* A candidate must beat the best by SEARCH_MIN_GAIN: the
             * simulation is not bit-exact, a near tie is no evidence. */
            if (e < best * (1.0 - SEARCH_MIN_GAIN)) {
                best = e;
                best_f = search_fractions[f];
            }
        }
        sim_apply(s, r, list, a, b, best_f, 1);
        progress(shown, "Searching ranges", gi + 1, groups);
    }
    return 0;
}

static void sim_free(sim *s)
{
    if (s->open)
        tml_host_close(&s->h);
    if (s->inputs) {
        for (int32_t k = 0; k < s->count * s->g->ninputs; k++)
            free(s->inputs[k]);
    }
    free(s->inputs);
    free(s->ref);
    free(s->y);
    free(s->scale);
    free(s->zp);
    free(s->active);
}

/* Float reference outputs and rounded inputs of the scored samples
 * (spread evenly over the calibration set). */
static int sim_samples(sim *s, tml_host_interp *fh, const tml_dataset *d,
                       int32_t count, char *err, size_t n)
{
    const tml_ir_graph *g = s->g;
    s->inputs = calloc((size_t)(s->count * g->ninputs) + 1, sizeof(float *));
    s->ref = malloc(sizeof(float) * (s->nout * (size_t)s->count + 1));
    s->y = malloc(sizeof(float) * (s->nout + 1));
    if (!s->inputs || !s->ref || !s->y)
        return tml_q_fail(err, n, "out of memory");
    tml_set_observer(&fh->it, ref_observer, s);
    for (int32_t k = 0; k < s->count; k++) {
        int32_t pick = (int32_t)((int64_t)k * count / s->count);
        s->dst = s->ref + s->nout * (size_t)k;
        for (int32_t i = 0; i < g->ninputs; i++) {
            const float *x = tml_dataset_sample(d, i, pick);
            size_t elems = tml_dataset_elements(d, i);
            if (tml_set_input(&fh->it, i, x, elems * sizeof(float)) != TML_OK)
                return tml_q_fail(err, n, "%s", tml_error(&fh->it));
            float *c = malloc(sizeof(float) * (elems ? elems : 1));
            if (!c)
                return tml_q_fail(err, n, "out of memory");
            memcpy(c, x, sizeof(float) * elems);
            int32_t t = g->inputs[i];
            if (s->active[t])
                fake_quant(c, elems, s->scale[t], s->zp[t]);
            s->inputs[k * g->ninputs + i] = c;
        }
        if (tml_invoke(&fh->it) != TML_OK)
            return tml_q_fail(err, n, "sample %d: %s", (int)pick,
                              tml_error(&fh->it));
    }
    tml_set_observer(&fh->it, NULL, NULL);
    return 0;
}

/* The search's result, as a real int8 model, must not be worse than
 * min/max (orig_min/orig_max) on the first samples of the set (another
 * subset than the scored one, when the set is larger): otherwise min/max
 * is kept. */
static int check_real(const tml_ir_graph *g, tml_host_interp *fh,
                      const tml_dataset *d, int32_t count, ranges *r,
                      const float *orig_min, const float *orig_max,
                      char *err, size_t n)
{
    search sr;
    memset(&sr, 0, sizeof sr);
    sr.g = g;
    sr.d = d;
    sr.count = count < SEARCH_CHECK_SAMPLES ? count : SEARCH_CHECK_SAMPLES;
    ranges mm = *r;
    mm.min = malloc(sizeof(float) * ((size_t)r->ntensors + 1));
    mm.max = malloc(sizeof(float) * ((size_t)r->ntensors + 1));
    int rc = mm.min && mm.max ? 0 : tml_q_fail(err, n, "out of memory");
    if (rc == 0) {
        memcpy(mm.min, orig_min, sizeof(float) * (size_t)r->ntensors);
        memcpy(mm.max, orig_max, sizeof(float) * (size_t)r->ntensors);
        rc = search_init(&sr, fh, err, n);
    }
    double e_mm = 0.0, e_se = 0.0;
    if (rc == 0)
        rc = score(&sr, &mm, &e_mm, err, n);
    if (rc == 0)
        rc = score(&sr, r, &e_se, err, n);
    if (rc == 0 && e_se > e_mm) {
        memcpy(r->min, orig_min, sizeof(float) * (size_t)r->ntensors);
        memcpy(r->max, orig_max, sizeof(float) * (size_t)r->ntensors);
    }
    free(sr.ref);
    free(mm.min);
    free(mm.max);
    return rc;
}

static int search_budgeted(const tml_ir_graph *g, tml_host_interp *fh,
                           const tml_dataset *d, int32_t count, ranges *r,
                           int shown, char *err, size_t n)
{
    sim s;
    memset(&s, 0, sizeof s);
    s.g = g;
    s.ntensors = g->ntensors;
    for (int32_t o = 0; o < g->noutputs; o++)
        s.nout += tml_ir_elements(&g->tensors[g->outputs[o]]);
    s.scale = calloc((size_t)g->ntensors + 1, sizeof(float));
    s.zp = calloc((size_t)g->ntensors + 1, sizeof(int32_t));
    s.active = calloc((size_t)g->ntensors + 1, 1);
    int32_t *list = calloc((size_t)g->ntensors + 1, sizeof(int32_t));
    float *orig_min = malloc(sizeof(float) * ((size_t)g->ntensors + 1));
    float *orig_max = malloc(sizeof(float) * ((size_t)g->ntensors + 1));
    int rc = s.scale && s.zp && s.active && list && orig_min && orig_max ? 0
             : tml_q_fail(err, n, "out of memory");
    if (rc == 0) {
        memcpy(orig_min, r->min, sizeof(float) * (size_t)g->ntensors);
        memcpy(orig_max, r->max, sizeof(float) * (size_t)g->ntensors);
    }
    if (rc == 0)
        rc = sim_open(&s, r, err, n);
    /* The searchable tensors in graph order (each op's outputs). */
    int32_t m = 0;
    for (int32_t o = 0; rc == 0 && o < g->nops; o++) {
        for (int32_t k = 0; k < g->ops[o].noutputs; k++) {
            if (range_matters(&s, r, g->ops[o].outputs[k]))
                list[m++] = g->ops[o].outputs[k];
        }
    }
    int32_t groups = 0;
    if (rc == 0 && m > 0) {
        tml_calib_search_plan(run_cost(g), m, count, &groups, &s.count);
        rc = sim_samples(&s, fh, d, count, err, n);
        if (rc == 0)
            rc = sim_search(&s, r, list, m, groups, shown, err, n);
    }
    sim_free(&s);
    int changed = 0;
    for (int32_t j = 0; rc == 0 && j < m; j++)
        changed |= r->min[list[j]] != orig_min[list[j]] ||
                   r->max[list[j]] != orig_max[list[j]];
    if (rc == 0 && changed)
        rc = check_real(g, fh, d, count, r, orig_min, orig_max, err, n);
    free(list);
    free(orig_min);
    free(orig_max);
    return rc;
}

int tml_calibrate(tml_ir_graph *g, const tml_dataset *d, int samples,
                  int show_progress, char *err, size_t n)
{
    return tml_calibrate_method(g, d, samples, show_progress,
                                TML_CALIB_MINMAX, 0.0, err, n);
}

int tml_calibrate_method(tml_ir_graph *g, const tml_dataset *d, int samples,
                         int show_progress, tml_calib_method method,
                         double percentile, char *err, size_t n)
{
    if (method == TML_CALIB_PERCENTILE &&
        !(percentile > 50.0 && percentile <= 100.0))
        return tml_q_fail(err, n, "percentile %g is not in (50, 100]",
                          percentile);
    if (check_dataset(g, d, err, n) < 0)
        return -1;
    int32_t count = tml_dataset_count(d);
    if (samples > 0 && samples < count)
        count = samples;

    uint8_t *bytes = NULL;
    size_t size = 0;
    char msg[256];
    if (tml_ir_export_tflite(g, &bytes, &size, msg, sizeof msg) < 0)
        return tml_q_fail(err, n, "exporting the float model: %s",
                          msg);
    tml_host_interp h;
    tml_host_status hs = tml_host_open_bytes(&h, bytes, size, "float model",
                                             msg, sizeof msg);
    free(bytes);
    if (hs != TML_HOST_OK)
        return tml_q_fail(err, n, "%s", msg);

    ranges r;
    memset(&r, 0, sizeof r);
    r.ntensors = g->ntensors;
    r.min = calloc((size_t)g->ntensors + 1, sizeof(float));
    r.max = calloc((size_t)g->ntensors + 1, sizeof(float));
    r.seen = calloc((size_t)g->ntensors + 1, 1);
    int rc = r.min && r.max && r.seen ? 0
             : tml_q_fail(err, n, "out of memory");
    if (rc == 0 && tml_tensor_count(&h.it) != g->ntensors)
        rc = tml_q_fail(err, n, "the exported model has %d tensors, "
                        "the graph %d", (int)tml_tensor_count(&h.it),
                        (int)g->ntensors);
    int shown = show_progress && isatty(STDERR_FILENO);
    if (rc == 0)
        rc = run_samples(&h, g, d, count, shown, &r, err, n);
    /* Percentile needs the distribution, not only the extremes: a second
     * pass fills a histogram over each tensor's first-pass range. */
    if (rc == 0 && method == TML_CALIB_PERCENTILE) {
        r.hist = calloc((size_t)g->ntensors * HIST_BINS + 1,
                        sizeof(uint32_t));
        if (!r.hist)
            rc = tml_q_fail(err, n, "out of memory");
        if (rc == 0)
            rc = run_samples(&h, g, d, count, shown, &r, err, n);
        if (rc == 0)
            clip_ranges(g, &r, method, percentile);
    }
    if (rc == 0 && method == TML_CALIB_SEARCH) {
        rc = search_budgeted(g, &h, d, count, &r, shown, err, n);
    } else if (rc == 0 && method == TML_CALIB_SEARCH_FULL) {
        search sr;
        sr.g = g;
        sr.d = d;
        sr.count = count;
        sr.ref = NULL;
        sr.shown = shown;
        rc = search_init(&sr, &h, err, n);
        if (rc == 0)
            rc = search_ranges(&sr, &r, err, n);
        free(sr.ref);
    }
    if (rc < 0 && shown)
        fputc('\n', stderr);
    for (int32_t t = 0; rc == 0 && t < g->ntensors; t++) {
        if (!r.seen[t])
            continue;
        g->tensors[t].has_range = 1;
        g->tensors[t].min = r.min[t];
        g->tensors[t].max = r.max[t];
    }
    free(r.hist);
    free(r.min);
    free(r.max);
    free(r.seen);
    tml_host_close(&h);
    return rc;
}
