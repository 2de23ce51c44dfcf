/*
 * Per-op golden checks for one kernel family, shared by test_conv.c,
 * test_depthwise_conv.c and test_fully_connected.c (static functions:
 * each test includes this once).
 *
 * Runs a shared model on goldens/<model>/seed1.input.bin and, after each
 * operator, compares the output of every op with the builtin under test to
 * TFLite Micro's seed1.ops/opNNN.tMMM.bin (int8 byte for byte, float32
 * within 1e-5 relative).  After every op -- ours or not -- the golden
 * output is written over the op's output, so each op under test sees
 * exactly TFLite Micro's input and a bug elsewhere cannot hide or fake a
 * result here.
 */
#ifndef TML_TEST_KERNEL_GOLDENS_H
#define TML_TEST_KERNEL_GOLDENS_H

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "tinyml/tinyml.h"
#include "tools/lib/file_io.h"

#define KG_ARENA_BYTES (2u << 20)

typedef struct kg_state {
    const char *model;
    int32_t builtin;
    char ops_dir[1024];
    int checked;
    int failures;
    int missing;
} kg_state;

static double kg_rel_diff(const float *got, const float *ref, size_t n)
{
    double max_diff = 0, max_ref = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)ref[i]);
        if (isnan(d))
            d = INFINITY;
        if (d > max_diff)
            max_diff = d;
        if (fabs((double)ref[i]) > max_ref)
            max_ref = fabs((double)ref[i]);
    }
    return max_ref > 0 ? max_diff / max_ref : max_diff;
}

/* Reads goldens/<model>/seed1.ops/opNNN.tMMM.bin for output `tensor`. */
static void *kg_read_op(const kg_state *s, int32_t op, int32_t tensor,
                        size_t *size)
{
    char path[1200], err[256];
    snprintf(path, sizeof path, "%s/op%03d.t%03d.bin", s->ops_dir, (int)op,
             (int)tensor);
    return tml_read_file(path, size, err, sizeof err);
}

static void kg_observer(void *user, const tml_interpreter *it, int32_t op)
{
    kg_state *s = user;
    tml_op_info oi;
    if (tml_op_details(it, op, &oi) != TML_OK)
        return;
    for (int32_t k = 0; k < oi.noutputs; k++) {
        const int32_t t = oi.outputs[k];
        tml_tensor_info info;
        tml_tensor_details(it, t, &info);
        size_t size = 0;
        void *ref = kg_read_op(s, op, t, &size);
        /* The arena is ours to write in a test: tml_tensor_data() gives
         * the op's output buffer. */
        void *got = (void *)(uintptr_t)tml_tensor_data(it, t);
        if (!ref || size != info.bytes || !got) {
            s->missing++;
            free(ref);
            continue;
        }
        if (oi.builtin == s->builtin) {
            int ok;
            double rel = 0;
            if (info.dtype == TML_FLOAT32) {
                rel = kg_rel_diff(got, ref, size / 4);
                ok = rel <= 1e-5;
            } else {
                ok = memcmp(got, ref, size) == 0;
            }
            s->checked++;
            if (!ok) {
                s->failures++;
                fprintf(stderr, "%s: op %d %s tensor %d '%s' differs (rel %g)\n",
                        s->model, (int)op, oi.name, (int)t, info.name, rel);
            }
        }
        memcpy(got, ref, size);
        free(ref);
    }
}

/* Runs the checks; returns the number of ops compared (failures and
 * missing files in *failures / *missing).  -1 when the shared data is not
 * there. */
static int kg_check_model(const char *model, int32_t builtin, int *failures,
                          int *missing)
{
    char rel[512];
    size_t model_size = 0, in_size = 0;
    snprintf(rel, sizeof rel, "models/mlperf-tiny/%s.tflite", model);
    void *bytes = tml_test_read_shared(rel, &model_size);
    snprintf(rel, sizeof rel, "goldens/%s/seed1.input.bin", model);
    uint8_t *in = tml_test_read_shared(rel, &in_size);
    if (!bytes || !in) {
        free(bytes);
        free(in);
        return -1;
    }
    kg_state s;
    memset(&s, 0, sizeof s);
    s.model = model;
    s.builtin = builtin;
    snprintf(s.ops_dir, sizeof s.ops_dir, "%s/goldens/%s/seed1.ops",
             tml_test_shared_dir(), model);
    uint8_t *arena = malloc(KG_ARENA_BYTES);
    tml_interpreter *it = malloc(sizeof *it);
    tml_status st = tml_create(it, bytes, model_size, arena, KG_ARENA_BYTES);
    if (st == TML_OK)
        st = tml_allocate(it);
    size_t off = 0;
    for (int32_t i = 0; st == TML_OK && i < tml_input_count(it); i++) {
        tml_tensor_info info;
        tml_input_details(it, i, &info);
        if (off + info.bytes > in_size) {
            st = TML_ERROR_INPUT;
            break;
        }
        st = tml_set_input(it, i, in + off, info.bytes);
        off += info.bytes;
    }
    if (st == TML_OK) {
        tml_set_observer(it, kg_observer, &s);
        st = tml_invoke(it);
    }
    if (st != TML_OK) {
        fprintf(stderr, "%s: %s\n", model, tml_error(it));
        s.failures++;
    }
    free(it);
    free(arena);
    free(in);
    free(bytes);
    *failures = s.failures;
    *missing = s.missing;
    return s.checked;
}

#endif
