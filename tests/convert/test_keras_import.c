/*
 * Keras importer (convert/import/import.h) against:
 *  - fixtures of our own (tests/convert/keras/make_fixtures.py, h5py +
 *    numpy, generated into the build dir here): every supported layer in
 *    Keras 2 .h5 and, for a subset, Keras 3 .keras layout.  Each must
 *    import to exactly the expected TFLite ops, in topological order, and
 *    (exported with tml_ir_export_tflite and run in the runtime, both as
 *    imported and after the standard passes) reproduce the independent
 *    numpy implementation within 1e-5 relative;
 *  - malformed files: each is one exact line of error, never a crash;
 *  - the real MLPerf Tiny Keras 2.4 models: op counts, shapes, and outputs
 *    against the golden outputs of TensorFlow's own float conversion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cJSON.h>
#include <math.h>

#include "convert/export/ir_export.h"
#include "convert/import/import.h"
#include "convert/passes/passes.h"
#include "test_util.h"
#include "tools/lib/file_io.h"
#include "tools/lib/host_interp.h"
#include "tools/lib/npy.h"

static char g_dir[1024];
static cJSON *g_manifest;

static int setup(void **state)
{
    (void)state;
    const char *build = getenv("TINYML_BUILD");
    snprintf(g_dir, sizeof g_dir, "%s/keras_fixtures", build && *build ? build : ".");
    char cmd[3000];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 '%s/tests/convert/keras/make_fixtures.py' '%s' '%s' >/dev/null",
             TML_SOURCE_DIR, g_dir, tml_test_shared_dir());
    if (system(cmd) != 0) {
        fprintf(stderr, "fixture generator failed: %s\n", cmd);
        return -1;
    }
    char path[1200], err[256];
    snprintf(path, sizeof path, "%s/manifest.json", g_dir);
    size_t size;
    char *text = tml_read_file(path, &size, err, sizeof err);
    if (!text) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    g_manifest = cJSON_ParseWithLength(text, size);
    free(text);
    return g_manifest ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    cJSON_Delete(g_manifest);
    return 0;
}

/* ---- helpers ---- */

static int load_npy(const char *path, float **data, size_t *count, int32_t *ndims,
                    int32_t *dims)
{
    char err[256];
    size_t size;
    void *buf = tml_read_file(path, &size, err, sizeof err);
    if (!buf) {
        print_message("%s\n", err);
        return -1;
    }
    tml_npy npy;
    if (tml_npy_parse(buf, size, &npy, err, sizeof err) < 0 || npy.dtype != TML_FLOAT32) {
        print_message("%s: %s\n", path, err);
        free(buf);
        return -1;
    }
    *data = malloc(npy.data_bytes ? npy.data_bytes : 4);
    memcpy(*data, npy.data, npy.data_bytes);
    *count = npy.count;
    if (ndims) {
        *ndims = npy.ndims;
        for (int32_t i = 0; i < npy.ndims && i < TML_MAX_DIMS; i++)
            dims[i] = (int32_t)npy.dims[i];
    }
    free(buf);
    return 0;
}

/* max |got - want| / max(1, max |want|) */
static double rel_diff(const float *got, const float *want, size_t n)
{
    double d = 0.0, m = 1.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - (double)want[i]);
        if (e > d || isnan(e))
            d = isnan(e) ? INFINITY : e;
        if (fabs((double)want[i]) > m)
            m = fabs((double)want[i]);
    }
    return d / m;
}

/* Exports g, runs it once on inputs, copies the outputs (malloc'd float
 * arrays, counts) out.  0 or -1 (message printed). */
static int run_graph(const tml_ir_graph *g, float *const *inputs, float **outs,
                     size_t *counts, const char *label)
{
    uint8_t *bytes = NULL;
    size_t size = 0;
    char err[512];
    if (tml_ir_export_tflite(g, &bytes, &size, err, sizeof err) < 0) {
        print_message("%s: export: %s\n", label, err);
        return -1;
    }
    tml_host_interp h;
    int rc = -1;
    if (tml_host_open_bytes(&h, bytes, size, label, err, sizeof err) != TML_HOST_OK) {
        print_message("%s: %s\n", label, err);
        free(bytes);
        return -1;
    }
    free(bytes);
    for (int32_t i = 0; i < g->ninputs; i++) {
        tml_tensor_info info;
        if (tml_input_details(&h.it, i, &info) != TML_OK ||
            tml_set_input(&h.it, i, inputs[i], info.bytes) != TML_OK) {
            print_message("%s: set input %d: %s\n", label, (int)i, tml_error(&h.it));
            goto out;
        }
    }
    if (tml_invoke(&h.it) != TML_OK) {
        print_message("%s: invoke: %s\n", label, tml_error(&h.it));
        goto out;
    }
    for (int32_t i = 0; i < g->noutputs; i++) {
        tml_tensor_info info;
        tml_output_details(&h.it, i, &info);
        outs[i] = malloc(info.bytes);
        counts[i] = info.bytes / sizeof(float);
        tml_get_output(&h.it, i, outs[i], info.bytes);
    }
    rc = 0;
out:
    tml_host_close(&h);
    return rc;
}

/* Every op input is a constant, a graph input or an earlier op's output. */
static int topological(const tml_ir_graph *g)
{
    for (int32_t o = 0; o < g->nops; o++) {
        const tml_ir_op *op = &g->ops[o];
        for (int32_t i = 0; i < op->ninputs; i++) {
            int32_t t = op->inputs[i];
            if (t < 0 || g->tensors[t].data)
                continue;
            int32_t p = tml_ir_producer(g, t);
            int is_input = 0;
            for (int32_t k = 0; k < g->ninputs; k++)
                is_input |= g->inputs[k] == t;
            if (!is_input && (p < 0 || p >= o))
                return 0;
        }
    }
    return 1;
}

static int32_t find_tensor(const tml_ir_graph *g, const char *name)
{
    for (int32_t i = 0; i < g->ntensors; i++)
        if (strcmp(g->tensors[i].name, name) == 0)
            return i;
    return -1;
}

static tml_ir_graph *import_fixture(const char *file)
{
    char path[1200], err[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, file);
    tml_ir_graph *g = tml_ir_new();
    if (tml_import_file(path, g, err, sizeof err) < 0) {
        print_message("%s: %s\n", file, err);
        tml_ir_free(g);
        return NULL;
    }
    return g;
}

/* Runs graph g (as imported, then after the passes) on the case's inputs
 * and compares with numpy's outputs.  Returns the number of failures. */
static int check_outputs(tml_ir_graph *g, const cJSON *c)
{
    const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
    const char *fmt = cJSON_GetObjectItem(c, "format")->valuestring;
    const char *file = cJSON_GetObjectItem(c, "file")->valuestring;
    int nin = cJSON_GetObjectItem(c, "inputs")->valueint;
    int nout = cJSON_GetObjectItem(c, "outputs")->valueint;
    float *ins[8] = {0}, *want[8] = {0};
    size_t wcount[8] = {0};
    int fails = 0;
    char path[1200];
    for (int i = 0; i < nin; i++) {
        size_t n;
        int32_t nd, dims[TML_MAX_DIMS];
        snprintf(path, sizeof path, "%s/%s.in%d.npy", g_dir, name, i);
        if (load_npy(path, &ins[i], &n, &nd, dims) < 0)
            return 1;
        const tml_ir_tensor *t = &g->tensors[g->inputs[i]];
        if (t->ndims != nd || memcmp(t->dims, dims, (size_t)nd * sizeof *dims) != 0) {
            print_message("%s: input %d shape differs from the npy\n", file, i);
            fails++;
        }
    }
    for (int i = 0; i < nout; i++) {
        snprintf(path, sizeof path, "%s/%s.%s.out%d.npy", g_dir, name, fmt, i);
        if (load_npy(path, &want[i], &wcount[i], NULL, NULL) < 0)
            fails++;
    }
    for (int pass = 0; pass < 2 && !fails; pass++) {
        tml_ir_graph *run = pass ? tml_ir_clone(g) : g;
        if (pass && tml_passes_run(run) < 0) {
            print_message("%s: passes: %s\n", file, run->error);
            fails++;
        } else {
            float *got[8] = {0};
            size_t gcount[8] = {0};
            if (run_graph(run, ins, got, gcount, file) < 0) {
                fails++;
            } else {
                for (int i = 0; i < nout; i++) {
                    double d = gcount[i] == wcount[i] ? rel_diff(got[i], want[i], wcount[i])
                                                      : INFINITY;
                    if (!(d <= 1e-5)) {
                        print_message("%s%s: output %d differs from numpy by %g (relative)\n",
                                      file, pass ? " (after passes)" : "", i, d);
                        fails++;
                    }
                    free(got[i]);
                }
            }
        }
        if (pass)
            tml_ir_free(run);
    }
    for (int i = 0; i < 8; i++) {
        free(ins[i]);
        free(want[i]);
    }
    return fails;
}

/* An op the runtime lacks (ELU): the importer still emits it, the
 * exporter writes it, and the runtime names it when loading. */
static int check_unsupported(const tml_ir_graph *g, const char *file)
{
    uint8_t *bytes = NULL;
    size_t size = 0;
    char err[512];
    if (tml_ir_export_tflite(g, &bytes, &size, err, sizeof err) < 0) {
        print_message("%s: export: %s\n", file, err);
        return 1;
    }
    tml_host_interp h;
    tml_host_status st = tml_host_open_bytes(&h, bytes, size, file, err, sizeof err);
    free(bytes);
    if (st == TML_HOST_OK) {
        tml_host_close(&h);
        print_message("%s: the runtime accepted an op it should not have\n", file);
        return 1;
    }
    if (!strstr(err, "op ELU (builtin 111) version 1 is not supported")) {
        print_message("%s: unexpected error \"%s\"\n", file, err);
        return 1;
    }
    return 0;
}

/* ---- fixtures: ops, order, shapes, numbers ---- */

static void test_fixtures(void **state)
{
    (void)state;
    int fails = 0, cases = 0, runs = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(g_manifest, "cases"))
    {
        if (cJSON_GetObjectItem(c, "error"))
            continue;
        const char *file = cJSON_GetObjectItem(c, "file")->valuestring;
        cases++;
        tml_ir_graph *g = import_fixture(file);
        if (!g) {
            fails++;
            continue;
        }
        const cJSON *ops = cJSON_GetObjectItem(c, "ops");
        int ok = cJSON_GetArraySize(ops) == g->nops;
        for (int32_t i = 0; ok && i < g->nops; i++)
            ok = g->ops[i].builtin == cJSON_GetArrayItem(ops, i)->valueint;
        if (!ok) {
            char got[256] = "";
            for (int32_t i = 0; i < g->nops; i++)
                snprintf(got + strlen(got), sizeof got - strlen(got), " %d",
                         (int)g->ops[i].builtin);
            print_message("%s: ops%s differ from the expected list\n", file, got);
            fails++;
        }
        if (!topological(g)) {
            print_message("%s: ops are not in topological order\n", file);
            fails++;
        }
        if (g->ninputs != cJSON_GetObjectItem(c, "inputs")->valueint ||
            g->noutputs != cJSON_GetObjectItem(c, "outputs")->valueint) {
            print_message("%s: %d inputs, %d outputs\n", file, (int)g->ninputs,
                          (int)g->noutputs);
            fails++;
        }
        if (ok && cJSON_IsTrue(cJSON_GetObjectItem(c, "run"))) {
            fails += check_outputs(g, c);
            runs++;
        } else if (ok) {
            fails += check_unsupported(g, file);
        }
        tml_ir_free(g);
    }
    print_message("%d fixtures imported, %d run and compared with numpy\n", cases, runs);
    assert_true(cases >= 60);
    assert_true(runs >= 55);
    assert_int_equal(fails, 0);
}

/* ---- malformed files ---- */

static void test_errors(void **state)
{
    (void)state;
    int fails = 0, cases = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(g_manifest, "cases"))
    {
        const cJSON *want = cJSON_GetObjectItem(c, "error");
        if (!want)
            continue;
        cases++;
        const char *file = cJSON_GetObjectItem(c, "file")->valuestring;
        char path[1200], err[512] = "";
        snprintf(path, sizeof path, "%s/%s", g_dir, file);
        tml_ir_graph *g = tml_ir_new();
        int rc = tml_import_file(path, g, err, sizeof err);
        tml_ir_free(g);
        int exact = cJSON_IsTrue(cJSON_GetObjectItem(c, "exact"));
        int match = exact ? strcmp(err, want->valuestring) == 0
                          : strstr(err, want->valuestring) != NULL;
        if (rc != -1 || !match || strchr(err, '\n') || !err[0]) {
            print_message("%s: rc %d, error \"%s\", expected %s\"%s\"\n", file, rc, err,
                          exact ? "" : "to contain ", want->valuestring);
            fails++;
        }
    }
    assert_true(cases >= 19);
    assert_int_equal(fails, 0);
}

static void test_missing_file(void **state)
{
    (void)state;
    char err[512];
    tml_ir_graph *g = tml_ir_new();
    assert_int_equal(tml_import_file("/nonexistent/m.h5", g, err, sizeof err), -1);
    assert_string_equal(err, "cannot open '/nonexistent/m.h5'");
    assert_int_equal(tml_import_file("/nonexistent/m.onnx", g, err, sizeof err), -1);
    assert_string_equal(err, "cannot open '/nonexistent/m.onnx'");
    assert_int_equal(tml_import_file(g_dir, g, err, sizeof err), -1);
    assert_non_null(strstr(err, "is a directory (a SavedModel? save the Keras model with "
                                "model.save('m.h5') or 'm.keras')"));
    tml_ir_free(g);
}

/* Every prefix of a few fixtures (about 150 cut points each): one line
 * of error, never a crash or a partial success. */
static void test_truncations(void **state)
{
    (void)state;
    static const char *const files[] = {"conv2d_same.h5", "seq_cnn.h5", "merge.keras"};
    char path[1200], cut[1200], err[512];
    int tried = 0, fails = 0;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t size;
        snprintf(path, sizeof path, "%s/%s", g_dir, files[f]);
        uint8_t *bytes = tml_read_file(path, &size, err, sizeof err);
        assert_non_null(bytes);
        snprintf(cut, sizeof cut, "%s/cut_%s", g_dir, files[f]);
        size_t step = size / 150 ? size / 150 : 1;
        for (size_t n = 0; n < size; n += step) {
            FILE *out = fopen(cut, "wb");
            assert_non_null(out);
            assert_int_equal(fwrite(bytes, 1, n, out), n);
            fclose(out);
            tml_ir_graph *g = tml_ir_new();
            err[0] = '\0';
            int rc = tml_import_file(cut, g, err, sizeof err);
            tml_ir_free(g);
            tried++;
            if (rc != -1 || !err[0] || strchr(err, '\n')) {
                print_message("%s cut at %zu: rc %d, \"%s\"\n", files[f], n, rc, err);
                fails++;
            }
        }
        remove(cut);
        free(bytes);
    }
    assert_true(tried >= 300);
    assert_int_equal(fails, 0);
}

/* make_fixtures.py build_mutants: hostile edits of valid configs.  Each
 * imports, or fails with one line; what imports also exports and loads
 * (or is refused by the runtime with a message) without a crash. */
static void test_mutants(void **state)
{
    (void)state;
    int imported = 0, refused = 0, fails = 0;
    for (int n = 0; n < 200; n++) {
        char path[1200], err[512] = "";
        snprintf(path, sizeof path, "%s/mut_%03d.h5", g_dir, n);
        tml_ir_graph *g = tml_ir_new();
        int rc = tml_import_file(path, g, err, sizeof err);
        if (rc != 0) {
            refused++;
            if (rc != -1 || !err[0] || strchr(err, '\n')) {
                print_message("mut_%03d.h5: rc %d, \"%s\"\n", n, rc, err);
                fails++;
            }
            tml_ir_free(g);
            continue;
        }
        imported++;
        uint8_t *bytes = NULL;
        size_t size = 0;
        if (tml_ir_export_tflite(g, &bytes, &size, err, sizeof err) == 0) {
            tml_host_interp h;
            if (tml_host_open_bytes(&h, bytes, size, "mutant", err, sizeof err) == TML_HOST_OK)
                tml_host_close(&h);
            free(bytes);
        }
        tml_ir_free(g);
    }
    print_message("mutants: %d imported, %d refused\n", imported, refused);
    assert_true(refused >= 100);
    assert_int_equal(fails, 0);
}

/* ---- layouts and attributes, checked directly in the IR ---- */

static const float *tensor_f32(const tml_ir_graph *g, const char *name, int32_t ndims,
                               const int32_t *dims)
{
    int32_t t = find_tensor(g, name);
    assert_true(t >= 0);
    const tml_ir_tensor *x = &g->tensors[t];
    assert_non_null(x->data);
    assert_int_equal(x->ndims, ndims);
    for (int32_t i = 0; i < ndims; i++)
        assert_int_equal(x->dims[i], dims[i]);
    return x->data;
}

static float *fixture_npy(const char *name, size_t *count)
{
    char path[1200];
    float *d;
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    assert_int_equal(load_npy(path, &d, count, NULL, NULL), 0);
    return d;
}

static void test_dense_layout(void **state)
{
    (void)state;
    tml_ir_graph *g = import_fixture("dense_relu.h5");
    assert_non_null(g);
    size_t n;
    float *k = fixture_npy("dense_relu.kernel.npy", &n);   /* Keras [in 6, out 4] */
    assert_int_equal(n, 24);
    const float *w = tensor_f32(g, "fc/kernel", 2, (int32_t[]){4, 6});
    for (int o = 0; o < 4; o++)
        for (int i = 0; i < 6; i++)
            assert_true(w[o * 6 + i] == k[i * 4 + o]);
    assert_int_equal(g->ops[0].builtin, 9);
    assert_int_equal(g->ops[0].ninputs, 3);
    assert_string_equal(g->tensors[g->ops[1].outputs[0]].name, "fc");
    assert_string_equal(g->tensors[g->inputs[0]].name, "x");
    free(k);
    tml_ir_free(g);
}

static void test_conv_layout(void **state)
{
    (void)state;
    tml_ir_graph *g = import_fixture("conv2d_same.h5");
    assert_non_null(g);
    size_t n;
    float *k = fixture_npy("conv2d_same.kernel.npy", &n);   /* HWIO [3,3,3,4] */
    assert_int_equal(n, 108);
    const float *w = tensor_f32(g, "conv/kernel", 4, (int32_t[]){4, 3, 3, 3});
    for (int o = 0; o < 4; o++)
        for (int h = 0; h < 3; h++)
            for (int x = 0; x < 3; x++)
                for (int i = 0; i < 3; i++)
                    assert_true(w[((o * 3 + h) * 3 + x) * 3 + i] ==
                                k[((h * 3 + x) * 3 + i) * 4 + o]);
    const tml_ir_op *op = &g->ops[0];
    assert_int_equal(op->attrs.padding, TML_PAD_SAME);
    assert_int_equal(op->attrs.stride_h, 1);
    assert_int_equal(op->attrs.dilation_w, 1);
    assert_int_equal(g->tensors[op->outputs[0]].dims[3], 4);
    free(k);
    tml_ir_free(g);

    g = import_fixture("conv2d_valid_s2.h5");
    assert_non_null(g);
    op = &g->ops[0];
    assert_int_equal(op->attrs.padding, TML_PAD_VALID);
    assert_int_equal(op->attrs.stride_h, 2);
    assert_int_equal(op->attrs.stride_w, 2);
    /* 9x8 input, 3x2 kernel, stride 2, VALID -> 4x4; use_bias False ->
     * zeros. */
    const tml_ir_tensor *y = &g->tensors[op->outputs[0]];
    assert_int_equal(y->dims[1], 4);
    assert_int_equal(y->dims[2], 4);
    const float *b = tensor_f32(g, "conv/bias", 1, (int32_t[]){5});
    for (int i = 0; i < 5; i++)
        assert_true(b[i] == 0.0f);
    tml_ir_free(g);

    g = import_fixture("conv2d_dilated.h5");
    assert_non_null(g);
    assert_int_equal(g->ops[0].attrs.dilation_h, 2);
    assert_int_equal(g->ops[0].attrs.dilation_w, 2);
    tml_ir_free(g);
}

static void test_depthwise_layout(void **state)
{
    (void)state;
    tml_ir_graph *g = import_fixture("depthwise.h5");
    assert_non_null(g);
    size_t n;
    float *k = fixture_npy("depthwise.kernel.npy", &n);   /* [3,3,3 in,2 mult] */
    const float *w = tensor_f32(g, "dw/depthwise_kernel", 4, (int32_t[]){1, 3, 3, 6});
    assert_int_equal(n, 54);
    for (int h = 0; h < 3; h++)
        for (int x = 0; x < 3; x++)
            for (int c = 0; c < 3; c++)
                for (int m = 0; m < 2; m++)
                    assert_true(w[(h * 3 + x) * 6 + c * 2 + m] ==
                                k[((h * 3 + x) * 3 + c) * 2 + m]);
    assert_int_equal(g->ops[0].attrs.depth_multiplier, 2);
    assert_int_equal(g->ops[0].attrs.stride_h, 2);
    assert_int_equal(g->ops[0].attrs.padding, TML_PAD_SAME);
    free(k);
    tml_ir_free(g);
}

static void test_shape_ops(void **state)
{
    (void)state;
    tml_ir_graph *g = import_fixture("flatten.h5");
    assert_non_null(g);
    const tml_ir_op *op = &g->ops[0];
    assert_int_equal(op->attrs.nshape, 2);
    assert_int_equal(op->attrs.shape[0], 1);
    assert_int_equal(op->attrs.shape[1], 24);
    const tml_ir_tensor *s = &g->tensors[op->inputs[1]];
    assert_int_equal(s->dtype, TML_INT32);
    assert_int_equal(((const int32_t *)s->data)[1], 24);
    tml_ir_free(g);

    g = import_fixture("reshape.h5");
    assert_non_null(g);
    assert_int_equal(g->ops[0].attrs.nshape, 3);
    assert_int_equal(g->ops[0].attrs.shape[2], 8);   /* -1 resolved */
    tml_ir_free(g);

    g = import_fixture("gap2d.h5");
    assert_non_null(g);
    op = &g->ops[0];
    assert_int_equal(op->attrs.keep_dims, 0);
    s = &g->tensors[op->inputs[1]];
    assert_int_equal(s->dtype, TML_INT32);
    assert_int_equal(((const int32_t *)s->data)[0], 1);
    assert_int_equal(((const int32_t *)s->data)[1], 2);
    assert_int_equal(g->tensors[op->outputs[0]].ndims, 2);
    tml_ir_free(g);

    g = import_fixture("zeropad2d.h5");
    assert_non_null(g);
    s = &g->tensors[g->ops[0].inputs[1]];
    static const int32_t pads[8] = {0, 0, 1, 2, 0, 1, 0, 0};
    assert_memory_equal(s->data, pads, sizeof pads);
    assert_int_equal(g->tensors[g->ops[0].outputs[0]].dims[1], 6);
    tml_ir_free(g);

    g = import_fixture("permute.h5");
    assert_non_null(g);
    static const int32_t perm[4] = {0, 2, 1, 3};
    assert_memory_equal(g->tensors[g->ops[0].inputs[1]].data, perm, sizeof perm);
    tml_ir_free(g);

    g = import_fixture("avgpool2d_same.h5");
    assert_non_null(g);
    op = &g->ops[0];
    assert_int_equal(op->attrs.filter_h, 3);
    assert_int_equal(op->attrs.filter_w, 3);
    assert_int_equal(op->attrs.stride_w, 2);
    assert_int_equal(op->attrs.padding, TML_PAD_SAME);
    tml_ir_free(g);

    g = import_fixture("leaky_relu.keras");
    assert_non_null(g);
    assert_true(g->ops[0].attrs.alpha == 0.25f);
    tml_ir_free(g);
}

/* ---- the real MLPerf Tiny models ---- */

typedef struct real_model {
    const char *name, *golden;
    int32_t in_dims[4], in_ndims;
    int32_t out_dims[2];
    int32_t counts[5][2];   /* builtin, count */
    /* TF's ad01_fp32.tflite folded each BatchNormalization into the Dense
     * before it as if the Dense bias were 0 (its biases are exactly
     * beta - mean * scale): the TF 2.2-2.4 converter's invalid MatMul+Mul
     * fusion (tensorflow/tensorflow#39572, fixed by PR #41790).  We keep
     * Keras' semantics; to compare with TF's file, zero those biases. */
    int zero_dense_bias_for_tf;
} real_model;

static int count_ops(const tml_ir_graph *g, int32_t builtin)
{
    int n = 0;
    for (int32_t i = 0; i < g->nops; i++)
        n += g->ops[i].builtin == builtin;
    return n;
}

static void zero_fc_bias_before_mul(tml_ir_graph *g)
{
    for (int32_t i = 0; i + 1 < g->nops; i++) {
        if (g->ops[i].builtin != 9 || g->ops[i + 1].builtin != 18)
            continue;
        tml_ir_tensor *b = &g->tensors[g->ops[i].inputs[2]];
        memset(b->data, 0, b->bytes);
    }
}

/* max relative diff of g's output on golden input `seed` vs want. */
static double run_real(tml_ir_graph *g, const real_model *m, int seed, const float *want,
                       size_t count, int passes)
{
    char rel[256];
    size_t size;
    snprintf(rel, sizeof rel, "goldens/%s/seed%d.input.bin", m->golden, seed);
    float *x = tml_test_read_shared(rel, &size);
    assert_non_null(x);
    assert_int_equal(size, tml_ir_elements(&g->tensors[g->inputs[0]]) * sizeof(float));
    tml_ir_graph *run = passes ? tml_ir_clone(g) : g;
    if (passes)
        assert_int_equal(tml_passes_run(run), 0);
    float *got[1] = {0};
    size_t gcount[1];
    assert_int_equal(run_graph(run, &x, got, gcount, m->name), 0);
    assert_int_equal(gcount[0], count);
    double d = rel_diff(got[0], want, count);
    free(got[0]);
    free(x);
    if (passes)
        tml_ir_free(run);
    return d;
}

static void check_real(const real_model *m)
{
    char path[1200], err[512];
    size_t size;
    snprintf(path, sizeof path, "%s/models/mlperf-tiny/%s.h5", tml_test_shared_dir(), m->name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        print_message("%s missing: skipped\n", path);
        skip();
    }
    fclose(f);
    tml_ir_graph *g = tml_ir_new();
    assert_int_equal(tml_import_file(path, g, err, sizeof err), 0);
    assert_int_equal(g->ninputs, 1);
    assert_int_equal(g->noutputs, 1);
    const tml_ir_tensor *in = &g->tensors[g->inputs[0]];
    assert_int_equal(in->ndims, m->in_ndims);
    assert_memory_equal(in->dims, m->in_dims, (size_t)m->in_ndims * sizeof(int32_t));
    const tml_ir_tensor *out = &g->tensors[g->outputs[0]];
    assert_int_equal(out->ndims, 2);
    assert_memory_equal(out->dims, m->out_dims, sizeof m->out_dims);
    for (int i = 0; i < 5 && m->counts[i][1]; i++) {
        if (count_ops(g, m->counts[i][0]) != m->counts[i][1])
            print_message("%s: builtin %d: %d ops, expected %d\n", m->name,
                          (int)m->counts[i][0], count_ops(g, m->counts[i][0]),
                          (int)m->counts[i][1]);
        assert_int_equal(count_ops(g, m->counts[i][0]), m->counts[i][1]);
    }
    assert_true(topological(g));
    size_t count = (size_t)m->out_dims[0] * (size_t)m->out_dims[1];

    for (int seed = 1; seed <= 3; seed++) {
        /* 1. The Keras semantics: an independent numpy evaluation of the
         *    .h5 (make_fixtures.py eval_keras2). */
        char npy[1200];
        float *ref;
        size_t n;
        snprintf(npy, sizeof npy, "%s/real_%s.seed%d.out.npy", g_dir, m->name, seed);
        assert_int_equal(load_npy(npy, &ref, &n, NULL, NULL), 0);
        assert_int_equal(n, count);
        for (int passes = 0; passes < 2; passes++) {
            double d = run_real(g, m, seed, ref, count, passes);
            print_message("%s seed %d%s: vs numpy on the .h5 %.3g\n", m->name, seed,
                          passes ? " (passes)" : "", d);
            assert_true(d <= 1e-5);
        }
        free(ref);

        /* 2. TensorFlow's own float conversion (its golden outputs). */
        char rel[256];
        snprintf(rel, sizeof rel, "goldens/%s/seed%d.output.bin", m->golden, seed);
        float *want = tml_test_read_shared(rel, &size);
        assert_non_null(want);
        assert_int_equal(size, count * sizeof(float));
        tml_ir_graph *tf = tml_ir_clone(g);
        if (m->zero_dense_bias_for_tf)
            zero_fc_bias_before_mul(tf);
        for (int passes = 0; passes < 2; passes++) {
            double d = run_real(tf, m, seed, want, count, passes);
            print_message("%s seed %d%s: vs TF's float .tflite%s %.3g\n", m->name, seed,
                          passes ? " (passes)" : "",
                          m->zero_dense_bias_for_tf ? " (Dense biases zeroed)" : "", d);
            assert_true(d <= 1e-4);
        }
        tml_ir_free(tf);
        free(want);
    }
    tml_ir_free(g);
}

static void test_real_ad01(void **state)
{
    (void)state;
    static const real_model m = {
        "ad01", "ad01_fp32", {1, 640}, 2, {1, 640},
        {{9, 10}, {18, 9}, {0, 9}, {19, 9}, {0, 0}}, 1};
    check_real(&m);
}

static void test_real_resnet(void **state)
{
    (void)state;
    static const real_model m = {
        "pretrainedResnet", "pretrainedResnet", {1, 32, 32, 3}, 4, {1, 10},
        /* 7 BN -> 7 MUL + 7 ADD, plus 3 Add layers */
        {{3, 9}, {18, 7}, {0, 10}, {19, 7}, {1, 1}}, 0};
    check_real(&m);
}

static void test_real_vww(void **state)
{
    (void)state;
    static const real_model m = {
        "vww_96", "vww_96_float", {1, 96, 96, 3}, 4, {1, 2},
        {{3, 14}, {4, 13}, {18, 27}, {0, 27}, {19, 27}}, 0};
    check_real(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures),     cmocka_unit_test(test_errors),
        cmocka_unit_test(test_missing_file), cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_mutants), cmocka_unit_test(test_dense_layout),
        cmocka_unit_test(test_conv_layout),  cmocka_unit_test(test_depthwise_layout),
        cmocka_unit_test(test_shape_ops),    cmocka_unit_test(test_real_ad01),
        cmocka_unit_test(test_real_resnet),  cmocka_unit_test(test_real_vww),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
