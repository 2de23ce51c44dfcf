/*
 * IR -> TFLite export (convert/export/ir_export.h): the file loads in the
 * runtime and computes the graph (values checked against a direct
 * computation), tensor i stays tensor i, the bytes are deterministic, op
 * versions follow TFLite's op_version rules, and the flatbuffers Python
 * reader (tests/convert/tflite_dump.py) reads the same model.
 */
#define _GNU_SOURCE   /* popen, mkstemp */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "convert/export/ir_export.h"
#include "test_util.h"
#include "tools/lib/host_interp.h"

enum { CONV_2D = 3, DEPTHWISE_CONV_2D = 4, FULLY_CONNECTED = 9, RESHAPE = 22,
       SOFTMAX = 25, ADD = 0, MUL = 18, DEQUANTIZE = 6, QUANTIZE = 114,
       AVERAGE_POOL_2D = 1, MEAN = 40, RELU = 19 };

/* input [1,4,4,1] -> CONV_2D 2x(3x3), VALID, ReLU -> [1,2,2,2]
 * -> RESHAPE [1,8] -> FULLY_CONNECTED 3 -> SOFTMAX. */
static float g_filter[2 * 9];
static float g_fc[3 * 8];
static const float g_conv_bias[2] = { 0.25f, -0.5f };
static const float g_fc_bias[3] = { 0.1f, -0.2f, 0.3f };

static tml_ir_graph *small_float_graph(void)
{
    for (int i = 0; i < 18; i++)
        g_filter[i] = (float)((i * 7) % 11 - 5) / 8.0f;
    for (int i = 0; i < 24; i++)
        g_fc[i] = (float)((i * 5) % 9 - 4) / 4.0f;
    tml_ir_graph *g = tml_ir_new();
    int32_t x = tml_ir_add_tensor(g, "input", TML_FLOAT32, 4,
                                  (int32_t[]){1, 4, 4, 1});
    int32_t f = tml_ir_add_const(g, "conv/kernel", TML_FLOAT32, 4,
                                 (int32_t[]){2, 3, 3, 1}, g_filter);
    int32_t b = tml_ir_add_const(g, "conv/bias", TML_FLOAT32, 1,
                                 (int32_t[]){2}, g_conv_bias);
    int32_t c = tml_ir_add_tensor(g, "conv", TML_FLOAT32, 4,
                                  (int32_t[]){1, 2, 2, 2});
    int32_t r = tml_ir_add_tensor(g, "flatten", TML_FLOAT32, 2,
                                  (int32_t[]){1, 8});
    int32_t w = tml_ir_add_const(g, "dense/kernel", TML_FLOAT32, 2,
                                 (int32_t[]){3, 8}, g_fc);
    int32_t wb = tml_ir_add_const(g, "dense/bias", TML_FLOAT32, 1,
                                  (int32_t[]){3}, g_fc_bias);
    int32_t d = tml_ir_add_tensor(g, "dense", TML_FLOAT32, 2,
                                  (int32_t[]){1, 3});
    int32_t s = tml_ir_add_tensor(g, "softmax", TML_FLOAT32, 2,
                                  (int32_t[]){1, 3});
    tml_ir_attrs a = tml_ir_default_attrs();
    a.activation = TML_ACT_RELU;
    tml_ir_add_op(g, CONV_2D, (int32_t[]){x, f, b}, 3, &c, 1, &a, "conv");
    a = tml_ir_default_attrs();
    a.nshape = 2;
    a.shape[0] = 1;
    a.shape[1] = 8;
    tml_ir_add_op(g, RESHAPE, &c, 1, &r, 1, &a, "flatten");
    tml_ir_add_op(g, FULLY_CONNECTED, (int32_t[]){r, w, wb}, 3, &d, 1, NULL,
                  "dense");
    tml_ir_add_op(g, SOFTMAX, &d, 1, &s, 1, NULL, "softmax");
    tml_ir_add_input(g, x);
    tml_ir_add_output(g, s);
    assert_string_equal(g->error, "");
    return g;
}

/* The same computation, directly. */
static void reference(const float *x, float *out)
{
    float conv[8];   /* NHWC [1,2,2,2] */
    for (int oy = 0; oy < 2; oy++)
        for (int ox = 0; ox < 2; ox++)
            for (int o = 0; o < 2; o++) {
                float acc = g_conv_bias[o];
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++)
                        acc += x[(oy + ky) * 4 + ox + kx] *
                               g_filter[o * 9 + ky * 3 + kx];
                conv[(oy * 2 + ox) * 2 + o] = acc < 0.0f ? 0.0f : acc;
            }
    float logits[3], mx = -INFINITY, sum = 0.0f;
    for (int o = 0; o < 3; o++) {
        float acc = g_fc_bias[o];
        for (int i = 0; i < 8; i++)
            acc += conv[i] * g_fc[o * 8 + i];
        logits[o] = acc;
        mx = acc > mx ? acc : mx;
    }
    for (int o = 0; o < 3; o++)
        sum += (out[o] = expf(logits[o] - mx));
    for (int o = 0; o < 3; o++)
        out[o] /= sum;
}

static void test_float_graph_runs(void **state)
{
    (void)state;
    tml_ir_graph *g = small_float_graph();
    uint8_t *bytes;
    size_t n;
    char err[256] = "";
    assert_int_equal(tml_ir_export_tflite(g, &bytes, &n, err, sizeof err), 0);
    assert_int_equal(n % 16, 0);
    assert_int_equal(tml_verify(bytes, n, err, sizeof err), TML_OK);

    tml_host_interp h;
    assert_int_equal(tml_host_open_bytes(&h, bytes, n, "exported", err,
                                         sizeof err), TML_HOST_OK);
    /* CONTRACT: tensor i is IR tensor i. */
    assert_int_equal(tml_tensor_count(&h.it), g->ntensors);
    for (int32_t i = 0; i < g->ntensors; i++) {
        tml_tensor_info info;
        assert_int_equal(tml_tensor_details(&h.it, i, &info), TML_OK);
        assert_string_equal(info.name, g->tensors[i].name);
        assert_int_equal(info.is_constant, g->tensors[i].data != NULL);
    }
    float x[16], y[3], want[3];
    for (int i = 0; i < 16; i++)
        x[i] = (float)(i % 5) - 1.5f;
    reference(x, want);
    assert_int_equal(tml_set_input(&h.it, 0, x, sizeof x), TML_OK);
    assert_int_equal(tml_invoke(&h.it), TML_OK);
    assert_int_equal(tml_get_output(&h.it, 0, y, sizeof y), TML_OK);
    for (int i = 0; i < 3; i++)
        assert_true(fabsf(y[i] - want[i]) <= 1e-6f);
    /* The options from the attributes. */
    tml_op_info op;
    assert_int_equal(tml_op_details(&h.it, 0, &op), TML_OK);
    assert_int_equal(op.builtin, CONV_2D);
    assert_int_equal(op.version, 1);
    tml_host_close(&h);
    free(bytes);
    tml_ir_free(g);
}

static void test_deterministic(void **state)
{
    (void)state;
    tml_ir_graph *g = small_float_graph();
    tml_ir_graph *c = tml_ir_clone(g);
    uint8_t *a, *b;
    size_t na, nb;
    char err[256];
    assert_int_equal(tml_ir_export_tflite(g, &a, &na, err, sizeof err), 0);
    assert_int_equal(tml_ir_export_tflite(c, &b, &nb, err, sizeof err), 0);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    free(a);
    free(b);
    tml_ir_free(g);
    tml_ir_free(c);
}

/* Dead ops (not yet compacted) are skipped; every tensor is still
 * written, so tensor i stays tensor i. */
static void test_dead_ops_skipped_tensors_kept(void **state)
{
    (void)state;
    tml_ir_graph *g = small_float_graph();
    /* Bypass the SOFTMAX: the FC output becomes the graph output. */
    g->ops[3].builtin = TML_IR_DEAD;
    g->outputs[0] = g->ops[2].outputs[0];
    uint8_t *bytes;
    size_t n;
    char err[256];
    assert_int_equal(tml_ir_export_tflite(g, &bytes, &n, err, sizeof err), 0);
    tml_host_interp h;
    assert_int_equal(tml_host_open_bytes(&h, bytes, n, "exported", err,
                                         sizeof err), TML_HOST_OK);
    assert_int_equal(tml_op_count(&h.it), 3);
    assert_int_equal(tml_tensor_count(&h.it), g->ntensors);
    tml_tensor_info out;
    assert_int_equal(tml_output_details(&h.it, 0, &out), TML_OK);
    assert_string_equal(out.name, "dense");
    assert_int_equal(out.index, 7);
    tml_host_close(&h);
    free(bytes);
    tml_ir_free(g);
}

static void test_no_outputs_is_an_error(void **state)
{
    (void)state;
    tml_ir_graph *g = tml_ir_new();
    int32_t x = tml_ir_add_tensor(g, "x", TML_FLOAT32, 1, (int32_t[]){4});
    tml_ir_add_input(g, x);
    uint8_t *bytes = (uint8_t *)1;
    size_t n = 7;
    char err[256];
    assert_int_equal(tml_ir_export_tflite(g, &bytes, &n, err, sizeof err), -1);
    assert_null(bytes);
    assert_int_equal(n, 0);
    assert_string_equal(err, "export: the graph has 1 inputs and 0 outputs "
                             "(needs at least one of each)");
    tml_ir_free(g);
}

static void test_writer_errors_name_the_tensor(void **state)
{
    (void)state;
    tml_ir_graph *g = tml_ir_new();
    int32_t x = tml_ir_add_tensor(g, "x", TML_FLOAT32, 1, (int32_t[]){4});
    int32_t y = tml_ir_add_tensor(g, "y", TML_INT8, 2, (int32_t[]){2, 3});
    /* Three scales along dimension 0 of size 2: refused by the writer. */
    tml_ir_set_quant(g, y, 3, (float[]){1, 2, 3}, NULL, 0);
    tml_ir_add_op(g, RELU, &x, 1, &y, 1, NULL, "r");
    tml_ir_add_input(g, x);
    tml_ir_add_output(g, y);
    uint8_t *bytes;
    size_t n;
    char err[256];
    assert_int_equal(tml_ir_export_tflite(g, &bytes, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "export: tensor 1 'y': "));
    assert_null(strchr(err, '\n'));
    tml_ir_free(g);
}

/* ---- op versions ---- */

typedef struct vcase {
    int32_t builtin;
    tml_dtype in, w, out;
    int per_channel;      /* input 1 gets 2 scales */
    int ninputs;
    int dilation, keep_dims;
    int32_t want;
} vcase;

static int32_t version_of(const vcase *c)
{
    tml_ir_graph *g = tml_ir_new();
    int32_t x = tml_ir_add_tensor(g, "x", c->in, 4, (int32_t[]){1, 4, 4, 2});
    int32_t w = tml_ir_add_tensor(g, "w", c->w, 4, (int32_t[]){2, 1, 1, 2});
    int32_t b = tml_ir_add_tensor(g, "b", TML_INT32, 1, (int32_t[]){2});
    int32_t y = tml_ir_add_tensor(g, "y", c->out, 4, (int32_t[]){1, 4, 4, 2});
    if (c->per_channel)
        tml_ir_set_quant(g, w, 2, (float[]){0.5f, 0.25f}, NULL, 0);
    tml_ir_attrs a = tml_ir_default_attrs();
    a.dilation_w = a.dilation_h = c->dilation ? 2 : 1;
    a.keep_dims = c->keep_dims;
    int32_t ins[3] = { x, w, b };
    int32_t op = tml_ir_add_op(g, c->builtin, ins, c->ninputs, &y, 1, &a, "op");
    int32_t v = tml_ir_op_version(g, &g->ops[op]);
    tml_ir_free(g);
    return v;
}

static void test_op_versions(void **state)
{
    (void)state;
    const vcase cases[] = {
        { CONV_2D, TML_FLOAT32, TML_FLOAT32, TML_FLOAT32, 0, 3, 0, 0, 1 },
        { CONV_2D, TML_INT8, TML_INT8, TML_INT8, 1, 3, 0, 0, 3 },
        { CONV_2D, TML_FLOAT32, TML_INT8, TML_FLOAT32, 0, 3, 0, 0, 2 },
        { CONV_2D, TML_FLOAT32, TML_INT8, TML_FLOAT32, 1, 3, 0, 0, 5 },
        { CONV_2D, TML_INT16, TML_INT8, TML_INT16, 1, 3, 0, 0, 4 },
        { DEPTHWISE_CONV_2D, TML_FLOAT32, TML_FLOAT32, TML_FLOAT32, 0, 3, 0, 0, 1 },
        { DEPTHWISE_CONV_2D, TML_FLOAT32, TML_FLOAT32, TML_FLOAT32, 0, 3, 1, 0, 2 },
        { DEPTHWISE_CONV_2D, TML_INT8, TML_INT8, TML_INT8, 1, 3, 1, 0, 3 },
        { DEPTHWISE_CONV_2D, TML_FLOAT32, TML_INT8, TML_FLOAT32, 1, 3, 0, 0, 6 },
        { DEPTHWISE_CONV_2D, TML_FLOAT32, TML_INT8, TML_FLOAT32, 0, 3, 0, 0, 4 },
        { FULLY_CONNECTED, TML_FLOAT32, TML_FLOAT32, TML_FLOAT32, 0, 3, 0, 0, 1 },
        { FULLY_CONNECTED, TML_INT8, TML_INT8, TML_INT8, 1, 3, 0, 0, 4 },
        { FULLY_CONNECTED, TML_FLOAT32, TML_FLOAT32, TML_FLOAT32, 0, 3, 0, 1, 5 },
        { FULLY_CONNECTED, TML_FLOAT32, TML_FLOAT32, TML_FLOAT32, 0, 2, 0, 0, 6 },
        { FULLY_CONNECTED, TML_FLOAT32, TML_INT8, TML_FLOAT32, 0, 3, 0, 0, 3 },
        { FULLY_CONNECTED, TML_FLOAT32, TML_INT8, TML_FLOAT32, 1, 3, 0, 0, 12 },
        { SOFTMAX, TML_INT8, TML_INT8, TML_INT8, 0, 1, 0, 0, 2 },
        { SOFTMAX, TML_FLOAT32, TML_FLOAT32, TML_FLOAT32, 0, 1, 0, 0, 1 },
        { ADD, TML_INT8, TML_INT8, TML_INT8, 0, 2, 0, 0, 2 },
        { ADD, TML_FLOAT32, TML_FLOAT32, TML_FLOAT32, 0, 2, 0, 0, 1 },
        { AVERAGE_POOL_2D, TML_INT8, TML_INT8, TML_INT8, 0, 1, 0, 0, 2 },
        { MEAN, TML_INT8, TML_INT32, TML_INT8, 0, 2, 0, 0, 2 },
        { DEQUANTIZE, TML_FLOAT16, TML_FLOAT32, TML_FLOAT32, 0, 1, 0, 0, 3 },
        { DEQUANTIZE, TML_INT8, TML_FLOAT32, TML_FLOAT32, 0, 1, 0, 0, 2 },
        { QUANTIZE, TML_FLOAT32, TML_FLOAT32, TML_INT8, 0, 1, 0, 0, 1 },
        { RELU, TML_INT8, TML_INT8, TML_INT8, 0, 1, 0, 0, 2 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int32_t v = version_of(&cases[i]);
        if (v != cases[i].want)
            fail_msg("case %zu (%s): version %d, want %d", i,
                     tml_op_name(cases[i].builtin), (int)v,
                     (int)cases[i].want);
    }
}

/* DEQUANTIZE of per-channel int8 is v5; MUL whose rescale is >= 1 is v3. */
static void test_versions_from_quantization(void **state)
{
    (void)state;
    tml_ir_graph *g = tml_ir_new();
    int32_t q = tml_ir_add_tensor(g, "q", TML_INT8, 2, (int32_t[]){2, 3});
    int32_t f = tml_ir_add_tensor(g, "f", TML_FLOAT32, 2, (int32_t[]){2, 3});
    tml_ir_set_quant(g, q, 2, (float[]){0.5f, 0.25f}, NULL, 0);
    int32_t dq = tml_ir_add_op(g, DEQUANTIZE, &q, 1, &f, 1, NULL, "dq");
    assert_int_equal(tml_ir_op_version(g, &g->ops[dq]), 5);

    int32_t a = tml_ir_add_tensor(g, "a", TML_INT8, 1, (int32_t[]){4});
    int32_t b = tml_ir_add_tensor(g, "b", TML_INT8, 1, (int32_t[]){4});
    int32_t y = tml_ir_add_tensor(g, "y", TML_INT8, 1, (int32_t[]){4});
    tml_ir_set_quant(g, a, 1, (float[]){0.5f}, NULL, 0);
    tml_ir_set_quant(g, b, 1, (float[]){0.5f}, NULL, 0);
    tml_ir_set_quant(g, y, 1, (float[]){0.25f}, NULL, 0);
    int32_t m = tml_ir_add_op(g, MUL, (int32_t[]){a, b}, 2, &y, 1, NULL, "m");
    assert_int_equal(tml_ir_op_version(g, &g->ops[m]), 3);   /* 1.0 */
    tml_ir_set_quant(g, y, 1, (float[]){0.5f}, NULL, 0);
    assert_int_equal(tml_ir_op_version(g, &g->ops[m]), 2);   /* 0.5 */
    tml_ir_free(g);
}

/* op->version, when set, is written as it is. */
static void test_explicit_version_kept(void **state)
{
    (void)state;
    tml_ir_graph *g = small_float_graph();
    g->ops[0].version = 2;
    uint8_t *bytes;
    size_t n;
    char err[256];
    assert_int_equal(tml_ir_export_tflite(g, &bytes, &n, err, sizeof err), 0);
    tml_host_interp h;
    assert_int_equal(tml_host_open_bytes(&h, bytes, n, "exported", err,
                                         sizeof err), TML_HOST_OK);
    tml_op_info op;
    assert_int_equal(tml_op_details(&h.it, 0, &op), TML_OK);
    assert_int_equal(op.version, 2);
    tml_host_close(&h);
    free(bytes);
    tml_ir_free(g);
}

/* ---- the independent reader ---- */

static int dump_has(const char *dump, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = dump; (p = strstr(p, line)) != NULL; p++) {
        if ((p == dump || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return 1;
    }
    return 0;
}

static void test_python_reader(void **state)
{
    (void)state;
    const char *src = getenv("TINYML_SOURCE");
    if (!src || access("/usr/bin/python3", X_OK) != 0)
        skip();
    tml_ir_graph *g = small_float_graph();
    uint8_t *bytes;
    size_t n;
    char err[256];
    assert_int_equal(tml_ir_export_tflite(g, &bytes, &n, err, sizeof err), 0);
    char path[] = "/tmp/tml_ir_export_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, n), (ssize_t)n);
    close(fd);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/convert/tflite_dump.py %s",
             src, path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    static char dump[16384];
    size_t got = fread(dump, 1, sizeof dump - 1, p);
    dump[got] = '\0';
    assert_int_equal(pclose(p), 0);
    unlink(path);
    const char *want[] = {
        "identifier TFL3",
        "size_mod16 0",
        "version 3",
        "description tinyml",
        "opcode 0 deprecated 3 builtin 3 version 1",
        "opcode 1 deprecated 22 builtin 22 version 1",
        "opcode 2 deprecated 9 builtin 9 version 1",
        "opcode 3 deprecated 25 builtin 25 version 1",
        "tensor 0 input type 0 shape [1, 4, 4, 1] buffer 0 scales None zps None qdim None",
        "tensor 1 conv/kernel type 0 shape [2, 3, 3, 1] buffer 1 scales None zps None qdim None",
        "op 0 opcode 0 in [0, 1, 2] out [3] options_type 1 options_fields [True, True, True, True, False, False, False, False]",
        "op 0 options padding=1 stride_w=1 stride_h=1 act=1 dilation_w=1 dilation_h=1",
        "op 1 options new_shape=[1, 8]",
        "inputs [0]",
        "outputs [8]",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (!dump_has(dump, want[i]))
            fail_msg("dump lacks line: %s\n%s", want[i], dump);
    }
    free(bytes);
    tml_ir_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_graph_runs),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_dead_ops_skipped_tensors_kept),
        cmocka_unit_test(test_no_outputs_is_an_error),
        cmocka_unit_test(test_writer_errors_name_the_tensor),
        cmocka_unit_test(test_op_versions),
        cmocka_unit_test(test_versions_from_quantization),
        cmocka_unit_test(test_explicit_version_kept),
        cmocka_unit_test(test_python_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
