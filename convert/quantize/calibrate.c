/*
 * Calibration: the float graph is exported to TFLite (ir_export.h keeps
 * tensor i of the file == IR tensor i), run through the tinyml runtime
 * over the representative samples, and an observer called after every op
 * records the min/max of each float output.  Graph inputs get the range
 * of the samples themselves.
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

typedef struct ranges {
    int32_t ntensors;
    float *min, *max;
    uint8_t *seen;
} ranges;

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
            observe(r, t, x, ti.bytes / sizeof(float));
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
            observe(r, g->inputs[i], x, elems);
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

int tml_calibrate(tml_ir_graph *g, const tml_dataset *d, int samples,
                  int show_progress, char *err, size_t n)
{
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
    if (rc < 0 && shown)
        fputc('\n', stderr);
    for (int32_t t = 0; rc == 0 && t < g->ntensors; t++) {
        if (!r.seen[t])
            continue;
        g->tensors[t].has_range = 1;
        g->tensors[t].min = r.min[t];
        g->tensors[t].max = r.max[t];
    }
    free(r.min);
    free(r.max);
    free(r.seen);
    tml_host_close(&h);
    return rc;
}
