#include "op_checks.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tools/lib/file_io.h"

void tml_test_expect_prepare_error(const tml_test_op *op, tml_status status,
                                   const char *message)
{
    tml_test_runner r;
    tml_status got = tml_test_runner_open(&r, op, 0);
    if (got != status)
        print_error("status %d: %s\n", (int)got, tml_test_runner_error(&r));
    assert_int_equal(got, status);
    assert_string_equal(tml_test_runner_error(&r), message);
    tml_test_runner_close(&r);
}

void tml_test_run_op_ok(const tml_test_op *op, const void *x, void *y)
{
    char err[256] = "";
    tml_status s = tml_test_run_single_op(op, (const void *[]){ x },
                                          (void *[]){ y }, err, sizeof err);
    if (s != TML_OK)
        fail_msg("%s", err);
}

void tml_test_set_shape(tml_test_tensor *t, int rank, const int32_t *dims)
{
    t->ndims = rank;
    memcpy(t->dims, dims, (size_t)rank * sizeof(int32_t));
}

tml_test_op tml_test_unary_op(int32_t builtin, int32_t version,
                              tml_dtype in_type, float in_scale,
                              int32_t in_zp, tml_dtype out_type,
                              float out_scale, int32_t out_zp, int32_t count)
{
    tml_test_op op;
    memset(&op, 0, sizeof op);
    op.builtin = builtin;
    op.version = version;
    op.ninputs = 1;
    op.noutputs = 1;
    op.inputs[0] = (tml_test_tensor){ .type = in_type, .ndims = 2,
                                      .dims = { 1, count },
                                      .scale = in_scale, .zero_point = in_zp };
    op.outputs[0] = (tml_test_tensor){ .type = out_type, .ndims = 2,
                                       .dims = { 1, count },
                                       .scale = out_scale,
                                       .zero_point = out_zp };
    return op;
}

double tml_test_requantize_real(double real, double scale, int32_t zp)
{
    double r = real / scale;
    double q = (r < 0 ? -floor(-r + 0.5) : floor(r + 0.5)) + zp;
    return q < -128 ? -128 : (q > 127 ? 127 : q);
}

/* ---------------------------------------------- per-op goldens of a model */

#define GOLDEN_ARENA_BYTES (2u << 20)

typedef struct golden_state {
    const char *model;
    int32_t builtin;
    char ops_dir[1024];
    int checked;
    int failures;
    int missing;
} golden_state;

static double rel_diff(const float *got, const float *ref, size_t n)
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
static void *read_op(const golden_state *s, int32_t op, int32_t tensor,
                     size_t *size)
{
    char path[1200], err[256];
    snprintf(path, sizeof path, "%s/op%03d.t%03d.bin", s->ops_dir, (int)op,
             (int)tensor);
    return tml_read_file(path, size, err, sizeof err);
}

static void golden_observer(void *user, const tml_interpreter *it, int32_t op)
{
    golden_state *s = user;
    tml_op_info oi;
    if (tml_op_details(it, op, &oi) != TML_OK)
        return;
    for (int32_t k = 0; k < oi.noutputs; k++) {
        const int32_t t = oi.outputs[k];
        tml_tensor_info info;
        tml_tensor_details(it, t, &info);
        size_t size = 0;
        void *ref = read_op(s, op, t, &size);
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
                rel = rel_diff(got, ref, size / 4);
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
 * missing files in s).  -1 when the shared data is not there. */
static int check_model(golden_state *s)
{
    char rel[512];
    size_t model_size = 0, in_size = 0;
    snprintf(rel, sizeof rel, "models/mlperf-tiny/%s.tflite", s->model);
    void *bytes = tml_test_read_shared(rel, &model_size);
    snprintf(rel, sizeof rel, "goldens/%s/seed1.input.bin", s->model);
    uint8_t *in = tml_test_read_shared(rel, &in_size);
    if (!bytes || !in) {
        free(bytes);
        free(in);
        return -1;
    }
    snprintf(s->ops_dir, sizeof s->ops_dir, "%s/goldens/%s/seed1.ops",
             tml_test_shared_dir(), s->model);
    uint8_t *arena = malloc(GOLDEN_ARENA_BYTES);
    tml_interpreter *it = malloc(sizeof *it);
    tml_status st = tml_create(it, bytes, model_size, arena,
                               GOLDEN_ARENA_BYTES);
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
        tml_set_observer(it, golden_observer, s);
        st = tml_invoke(it);
    }
    if (st != TML_OK) {
        fprintf(stderr, "%s: %s\n", s->model, tml_error(it));
        s->failures++;
    }
    free(it);
    free(arena);
    free(in);
    free(bytes);
    return s->checked;
}

void tml_test_assert_op_goldens(const char *model, int32_t builtin,
                                int expected_ops)
{
    golden_state s;
    memset(&s, 0, sizeof s);
    s.model = model;
    s.builtin = builtin;
    int checked = check_model(&s);
    if (checked < 0)
        skip();
    assert_int_equal(s.failures, 0);
    assert_int_equal(s.missing, 0);
    assert_int_equal(checked, expected_ops);
}

/* ------------------------------------------------------ one op alone */

static void *read_golden(const char *model, int op, int tensor, size_t *size)
{
    char rel[256];
    snprintf(rel, sizeof rel, "goldens/%s/seed1.ops/op%03d.t%03d.bin", model,
             op, tensor);
    return tml_test_read_shared(rel, size);
}

int tml_test_check_op_golden(const tml_test_op *op, const char *model,
                             const tml_test_golden *in, int nin,
                             tml_test_golden out)
{
    void *x[TML_TEST_MAX_INPUTS] = { NULL };
    size_t want_size = 0;
    void *want = read_golden(model, out.op, out.tensor, &want_size);
    int found = want != NULL && nin <= TML_TEST_MAX_INPUTS;
    for (int k = 0; k < nin && found; k++) {
        size_t size = 0;
        x[k] = read_golden(model, in[k].op, in[k].tensor, &size);
        found = x[k] != NULL;
        if (found)
            assert_int_equal(size, tml_test_tensor_bytes(&op->inputs[k]));
    }
    if (!found) {
        for (int k = 0; k < nin && k < TML_TEST_MAX_INPUTS; k++)
            free(x[k]);
        free(want);
        return 0;
    }
    assert_int_equal(want_size, tml_test_tensor_bytes(&op->outputs[0]));
    void *y = malloc(want_size);
    assert_non_null(y);
    char err[256] = "";
    tml_status s = tml_test_run_single_op(op, (const void *const *)x,
                                          (void *[]){ y }, err, sizeof err);
    if (s != TML_OK)
        fail_msg("%s op %d: %s", model, out.op, err);
    if (op->outputs[0].type == TML_INT8) {
        assert_memory_equal(y, want, want_size);
    } else {
        const float *o = y, *w = want;
        for (size_t i = 0; i < want_size / 4; i++)
            assert_float_equal(o[i], w[i], 1e-5 * fabs(w[i]) + 1e-7);
    }
    free(y);
    for (int k = 0; k < nin; k++)
        free(x[k]);
    free(want);
    return 1;
}
