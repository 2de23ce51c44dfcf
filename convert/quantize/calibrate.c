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

static void progress(int shown, int32_t done, int32_t total)
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
    fprintf(stderr, "\rCalibrating [%s] %d/%d", bar, (int)done, (int)total);
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
        progress(shown, s + 1, count);
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

/* ------------------------------------------- output-aware search */

/* The SEARCH method scores a set of ranges by quantizing a copy of the
 * graph with them and measuring the squared error of its (float) outputs
 * against the float model's over the first `count` samples. */
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
            progress(s->shown, ++done, total);
        }
    }
    return 0;
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
