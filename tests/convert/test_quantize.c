/*
 * quantize/: float16 conversion arithmetic, TF's activation parameters,
 * symmetric weights; the float16, dynamic-range and int8 transforms on
 * hand-built IR graphs, checked structurally and by running the result in
 * the runtime against the float graph; calibration; dataset loading
 * (.npy, .npz, directory) with its error messages.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <zip.h>

#include "convert/export/ir_export.h"
#include "convert/ir/ir.h"
#include "convert/quantize/qutil.h"
#include "convert/quantize/quantize.h"
#include "quality.h"
#include "test_util.h"
#include "tools/lib/host_interp.h"
#include "tools/lib/npy.h"

/* ------------------------------------------------------------ helpers */

/* Deterministic values in [lo, hi). */
static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s;
}

static float uniform(uint32_t *s, float lo, float hi)
{
    return lo + (hi - lo) * (float)(lcg(s) >> 8) * (1.0f / 16777216.0f);
}

static void fill(float *x, size_t n, uint32_t seed, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = uniform(&seed, lo, hi);
}

/* Exports g and runs it on one input (float32, or int8 when the graph's
 * input is int8: then x is quantized with its parameters), returning the
 * first output as float (dequantized when int8). */
static void run_graph(const tml_ir_graph *g, const float *x, float *y,
                      size_t ny)
{
    uint8_t *bytes = NULL;
    size_t size = 0;
    char err[256];
    int rc = tml_ir_export_tflite(g, &bytes, &size, err, sizeof err);
    if (rc != 0)
        fail_msg("export: %s", err);
    tml_host_interp h;
    if (tml_host_open_bytes(&h, bytes, size, "test", err, sizeof err) !=
        TML_HOST_OK)
        fail_msg("open: %s", err);
    free(bytes);
    tml_tensor_info in, out;
    assert_int_equal(tml_input_details(&h.it, 0, &in), TML_OK);
    size_t nx = in.bytes / tml_dtype_size(in.dtype);
    if (in.dtype == TML_INT8) {
        int8_t *q = malloc(nx);
        for (size_t i = 0; i < nx; i++) {
            float r = roundf(x[i] / in.scale) + (float)in.zero_point;
            q[i] = (int8_t)(r < -128 ? -128 : r > 127 ? 127 : r);
        }
        assert_int_equal(tml_set_input(&h.it, 0, q, nx), TML_OK);
        free(q);
    } else {
        assert_int_equal(in.dtype, TML_FLOAT32);
        assert_int_equal(tml_set_input(&h.it, 0, x, nx * 4), TML_OK);
    }
    if (tml_invoke(&h.it) != TML_OK)
        fail_msg("invoke: %s", tml_error(&h.it));
    assert_int_equal(tml_output_details(&h.it, 0, &out), TML_OK);
    assert_int_equal(out.bytes / tml_dtype_size(out.dtype), ny);
    const void *o = tml_output_data(&h.it, 0);
    for (size_t i = 0; i < ny; i++) {
        if (out.dtype == TML_INT8)
            y[i] = ((float)((const int8_t *)o)[i] - (float)out.zero_point) *
                   out.scale;
        else
            y[i] = ((const float *)o)[i];
    }
    tml_host_close(&h);
}

static int32_t find_tensor(const tml_ir_graph *g, const char *name)
{
    for (int32_t i = 0; i < g->ntensors; i++) {
        if (strcmp(g->tensors[i].name, name) == 0)
            return i;
    }
    return -1;
}

/* x [1,8,8,3] -> CONV_2D 3x3 SAME, 16 filters, RELU (16*3*3*3 = 432
 * weights) -> DEPTHWISE 3x3 (1x3x3x16 = 144) -> CONV_2D 1x1 (64 x 16 =
 * 1024 weights) -> MEAN over H, W -> FULLY_CONNECTED 64 -> 10 -> SOFTMAX. */
static tml_ir_graph *small_cnn(void)
{
    tml_ir_graph *g = tml_ir_new();
    uint32_t s = 7;
    float w1[16 * 27], b1[16], wd[144], bd[16], w2[64 * 16], b2[64];
    float wf[640], bf[10];
    fill(w1, 432, s++, -0.5f, 0.5f);
    fill(b1, 16, s++, -0.1f, 0.1f);
    fill(wd, 144, s++, -0.6f, 0.6f);
    fill(bd, 16, s++, -0.1f, 0.2f);
    fill(w2, 1024, s++, -0.3f, 0.3f);
    fill(b2, 64, s++, -0.1f, 0.1f);
    fill(wf, 640, s++, -0.4f, 0.4f);
    fill(bf, 10, s++, -0.2f, 0.2f);
    int32_t x = tml_ir_add_tensor(g, "x", TML_FLOAT32, 4, (int32_t[]){1, 8, 8, 3});
    int32_t tw1 = tml_ir_add_const(g, "w1", TML_FLOAT32, 4, (int32_t[]){16, 3, 3, 3}, w1);
    int32_t tb1 = tml_ir_add_const(g, "b1", TML_FLOAT32, 1, (int32_t[]){16}, b1);
    int32_t a1 = tml_ir_add_tensor(g, "a1", TML_FLOAT32, 4, (int32_t[]){1, 8, 8, 16});
    int32_t twd = tml_ir_add_const(g, "wd", TML_FLOAT32, 4, (int32_t[]){1, 3, 3, 16}, wd);
    int32_t tbd = tml_ir_add_const(g, "bd", TML_FLOAT32, 1, (int32_t[]){16}, bd);
    int32_t a2 = tml_ir_add_tensor(g, "a2", TML_FLOAT32, 4, (int32_t[]){1, 8, 8, 16});
    int32_t tw2 = tml_ir_add_const(g, "w2", TML_FLOAT32, 4, (int32_t[]){64, 1, 1, 16}, w2);
    int32_t tb2 = tml_ir_add_const(g, "b2", TML_FLOAT32, 1, (int32_t[]){64}, b2);
    int32_t a3 = tml_ir_add_tensor(g, "a3", TML_FLOAT32, 4, (int32_t[]){1, 8, 8, 64});
    int32_t axes = tml_ir_add_const(g, "axes", TML_INT32, 1, (int32_t[]){2},
                                    (int32_t[]){1, 2});
    int32_t a4 = tml_ir_add_tensor(g, "a4", TML_FLOAT32, 2, (int32_t[]){1, 64});
    int32_t twf = tml_ir_add_const(g, "wf", TML_FLOAT32, 2, (int32_t[]){10, 64}, wf);
    int32_t tbf = tml_ir_add_const(g, "bf", TML_FLOAT32, 1, (int32_t[]){10}, bf);
    int32_t a5 = tml_ir_add_tensor(g, "a5", TML_FLOAT32, 2, (int32_t[]){1, 10});
    int32_t y = tml_ir_add_tensor(g, "y", TML_FLOAT32, 2, (int32_t[]){1, 10});

    tml_ir_attrs c = tml_ir_default_attrs();
    c.padding = TML_PAD_SAME;
    c.activation = TML_ACT_RELU;
    tml_ir_add_op(g, TML_B_CONV_2D, (int32_t[]){x, tw1, tb1}, 3, &a1, 1, &c, "conv1");
    tml_ir_attrs d = c;
    d.activation = TML_ACT_RELU6;
    tml_ir_add_op(g, TML_B_DEPTHWISE_CONV_2D, (int32_t[]){a1, twd, tbd}, 3, &a2, 1,
                  &d, "dw");
    tml_ir_attrs p = tml_ir_default_attrs();
    p.activation = TML_ACT_RELU;
    tml_ir_add_op(g, TML_B_CONV_2D, (int32_t[]){a2, tw2, tb2}, 3, &a3, 1, &p, "conv2");
    tml_ir_attrs m = tml_ir_default_attrs();
    m.keep_dims = 0;
    tml_ir_add_op(g, TML_B_MEAN, (int32_t[]){a3, axes}, 2, &a4, 1, &m, "gap");
    tml_ir_add_op(g, TML_B_FULLY_CONNECTED, (int32_t[]){a4, twf, tbf}, 3, &a5, 1,
                  NULL, "fc");
    tml_ir_add_op(g, TML_B_SOFTMAX, &a5, 1, &y, 1, NULL, "softmax");
    tml_ir_add_input(g, x);
    tml_ir_add_output(g, y);
    assert_string_equal(g->error, "");
    return g;
}

#define CNN_IN (8 * 8 * 3)

static tml_dataset *cnn_dataset(int32_t count, uint32_t seed)
{
    float *x = malloc(sizeof(float) * CNN_IN * (size_t)count);
    fill(x, CNN_IN * (size_t)count, seed, -1.0f, 1.0f);
    size_t elems = CNN_IN;
    tml_dataset *d = tml_dataset_from_floats(1, count, &elems,
                                             (const float *const[]){x});
    free(x);
    assert_non_null(d);
    return d;
}

/* Calibrates g on count samples of elems floats each (data, row-major) and
 * returns its int8 quantization (a clone; g keeps its float weights). */
static tml_ir_graph *calibrated_int8(tml_ir_graph *g, const float *data,
                                     int32_t count, size_t elems, int io_int8)
{
    tml_dataset *d = tml_dataset_from_floats(1, count, &elems,
                                             (const float *const[]){data});
    assert_non_null(d);
    char err[256] = "";
    if (tml_calibrate(g, d, 0, 0, err, sizeof err) != 0)
        fail_msg("calibrate: %s", err);
    tml_dataset_free(d);
    tml_ir_graph *q = tml_ir_clone(g);
    if (tml_quantize_int8(q, io_int8, err, sizeof err) != 0)
        fail_msg("%s", err);
    return q;
}

/* ------------------------------------------------------ arithmetic */

static void test_f16_bits(void **state)
{
    (void)state;
    assert_int_equal(tml_q_f32_to_f16(1.0f), 0x3c00);
    assert_int_equal(tml_q_f32_to_f16(-2.0f), 0xc000);
    assert_int_equal(tml_q_f32_to_f16(0.1f), 0x2e66);
    assert_int_equal(tml_q_f32_to_f16(65504.0f), 0x7bff);
    assert_int_equal(tml_q_f32_to_f16(65520.0f), 0x7c00);    /* rounds to inf */
    assert_int_equal(tml_q_f32_to_f16(1e6f), 0x7c00);
    assert_int_equal(tml_q_f32_to_f16(ldexpf(1.0f, -24)), 0x0001);  /* min subnormal */
    assert_int_equal(tml_q_f32_to_f16(ldexpf(1.0f, -25)), 0x0000);  /* tie -> even 0 */
    assert_int_equal(tml_q_f32_to_f16(ldexpf(3.0f, -25)), 0x0002);  /* tie -> even 2 */
    assert_int_equal(tml_q_f32_to_f16(ldexpf(1.0f, -14)), 0x0400);  /* min normal */
    /* 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even (1). */
    assert_int_equal(tml_q_f32_to_f16(1.0f + ldexpf(1.0f, -11)), 0x3c00);
    assert_int_equal(tml_q_f32_to_f16(1.0f + ldexpf(3.0f, -11)), 0x3c02);
    assert_int_equal(tml_q_f32_to_f16(-0.0f), 0x8000);
    assert_int_equal(tml_q_f32_to_f16(INFINITY), 0x7c00);
    assert_true((tml_q_f32_to_f16(NAN) & 0x7c00) == 0x7c00 &&
                (tml_q_f32_to_f16(NAN) & 0x3ff) != 0);
    assert_true(tml_q_f16_to_f32(0x2e66) == 0.0999755859375f);
    assert_true(tml_q_f16_to_f32(0x0001) == ldexpf(1.0f, -24));
    assert_true(tml_q_f16_to_f32(0xc000) == -2.0f);
    /* Every finite half survives the round trip. */
    for (uint32_t h = 0; h < 0x10000u; h++) {
        if ((h & 0x7c00u) == 0x7c00u)
            continue;
        assert_int_equal(tml_q_f32_to_f16(tml_q_f16_to_f32((uint16_t)h)), h);
    }
}

static void test_activation_params(void **state)
{
    (void)state;
    float s;
    int32_t z;
    tml_q_activation_params(-1.0f, 1.0f, &s, &z);
    assert_true(s == (float)(2.0 / 255.0));
    assert_int_equal(z, -1);   /* -128 + 127.5 rounds away from zero */
    tml_q_activation_params(0.0f, 6.0f, &s, &z);
    assert_true(s == (float)(6.0 / 255.0));
    assert_int_equal(z, -128);
    tml_q_activation_params(2.0f, 5.0f, &s, &z);   /* widened to [0, 5] */
    assert_true(s == (float)(5.0 / 255.0));
    assert_int_equal(z, -128);
    tml_q_activation_params(-4.0f, -1.0f, &s, &z);  /* widened to [-4, 0] */
    assert_true(s == (float)(4.0 / 255.0));
    assert_int_equal(z, 127);
    tml_q_activation_params(-3.0f, 1.0f, &s, &z);
    assert_true(s == (float)(4.0 / 255.0));
    assert_int_equal(z, 63);   /* -128 + 191.25 */
    tml_q_activation_params(0.0f, 0.0f, &s, &z);
    assert_true(s == 1.0f);
    assert_int_equal(z, 0);
}

static void test_symmetric_weights(void **state)
{
    (void)state;
    /* [2, 1, 1, 3] per channel along axis 0 and per tensor. */
    const float w[6] = { 0.5f, -1.0f, 0.25f, 0.0f, 0.0f, 0.0f };
    int8_t q[6];
    float sc[2];
    tml_q_symmetric(w, (int32_t[]){2, 1, 1, 3}, 4, 0, 1, NULL, q, sc);
    assert_true(sc[0] == 1.0f / 127.0f);
    assert_true(sc[1] == 1.0f);   /* all-zero channel */
    assert_int_equal(q[0], 64);   /* 63.5 rounds away from zero */
    assert_int_equal(q[1], -127);
    assert_int_equal(q[2], 32);   /* 31.75 */
    assert_int_equal(q[3], 0);
    /* Per channel along the last axis ([1, 2, 3]: channels of 2). */
    const float d[6] = { 1.0f, 2.0f, -4.0f, -1.0f, 1.0f, 2.0f };
    float sd[3];
    tml_q_symmetric(d, (int32_t[]){1, 2, 3}, 3, 2, 1, NULL, q, sd);
    assert_true(sd[0] == 1.0f / 127.0f && sd[1] == 2.0f / 127.0f &&
                sd[2] == 4.0f / 127.0f);
    const int8_t want[6] = { 127, 127, -127, -127, 64, 64 };
    assert_memory_equal(q, want, 6);
    float st;
    tml_q_symmetric(d, (int32_t[]){1, 2, 3}, 3, 0, 0, NULL, q, &st);
    assert_true(st == 4.0f / 127.0f);
    assert_int_equal(q[2], -127);
    assert_int_equal(q[0], 32);
}

/* --------------------------------------------------------- float16 */

static void test_float16_structure_and_run(void **state)
{
    (void)state;
    tml_ir_graph *g = small_cnn();
    tml_ir_graph *f = tml_ir_clone(g);
    int32_t nops = g->nops;
    char err[256] = "";
    assert_int_equal(tml_quantize_float16(f, err, sizeof err), 0);
    /* 8 float constants (4 weights, 4 biases): 8 DEQUANTIZE ops first, in
     * tensor order; the int32 axes stay as they are. */
    assert_int_equal(f->nops, nops + 8);
    for (int32_t i = 0; i < 8; i++) {
        const tml_ir_op *op = &f->ops[i];
        assert_int_equal(op->builtin, TML_B_DEQUANTIZE);
        assert_int_equal(f->tensors[op->inputs[0]].dtype, TML_FLOAT16);
        assert_non_null(f->tensors[op->inputs[0]].data);
        assert_int_equal(f->tensors[op->outputs[0]].dtype, TML_FLOAT32);
        assert_null(f->tensors[op->outputs[0]].data);
    }
    assert_string_equal(f->tensors[f->ops[0].inputs[0]].name, "w1_fp16");
    assert_string_equal(f->tensors[f->ops[0].outputs[0]].name, "w1");
    int32_t w1 = find_tensor(f, "w1_fp16");
    assert_int_equal(f->tensors[w1].bytes, 432 * 2);
    const uint16_t *h = f->tensors[w1].data;
    const float *orig = g->tensors[find_tensor(g, "w1")].data;
    for (int i = 0; i < 432; i++)
        assert_int_equal(h[i], tml_q_f32_to_f16(orig[i]));
    /* The conv now reads the DEQUANTIZE output. */
    assert_int_equal(f->ops[8].builtin, TML_B_CONV_2D);
    assert_int_equal(f->ops[8].inputs[1], f->ops[0].outputs[0]);
    assert_int_equal(f->tensors[find_tensor(f, "axes")].dtype, TML_INT32);

    float x[CNN_IN], yf[10], yh[10];
    fill(x, CNN_IN, 99, -1.0f, 1.0f);
    run_graph(g, x, yf, 10);
    run_graph(f, x, yh, 10);
    for (int i = 0; i < 10; i++)
        assert_true(fabsf(yf[i] - yh[i]) <= 2e-3f * fmaxf(fabsf(yf[i]), 0.01f));
    tml_ir_free(g);
    tml_ir_free(f);
}

/* ---------------------------------------------------- dynamic range */

static void test_dynamic_structure_and_run(void **state)
{
    (void)state;
    tml_ir_graph *g = small_cnn();
    tml_ir_graph *dq = tml_ir_clone(g);
    char err[256] = "";
    assert_int_equal(tml_quantize_dynamic(dq, err, sizeof err), 0);
    assert_int_equal(dq->nops, g->nops);
    /* w1 (432), wd (144), wf (640) are below 1024 elements: float. */
    assert_int_equal(dq->tensors[find_tensor(dq, "w1")].dtype, TML_FLOAT32);
    assert_int_equal(dq->tensors[find_tensor(dq, "wd")].dtype, TML_FLOAT32);
    assert_int_equal(dq->tensors[find_tensor(dq, "wf")].dtype, TML_FLOAT32);
    /* w2: 64 x 16 = 1024 elements, one scale (TF's hybrid conv), zero
     * point 0. */
    const tml_ir_tensor *w2 = &dq->tensors[find_tensor(dq, "w2")];
    assert_int_equal(w2->dtype, TML_INT8);
    assert_int_equal(w2->bytes, 1024);
    assert_int_equal(w2->quant.count, 1);
    assert_int_equal(w2->quant.zero_points[0], 0);
    const float *orig = g->tensors[find_tensor(g, "w2")].data;
    const int8_t *q = w2->data;
    float m = 0;
    for (int i = 0; i < 1024; i++)
        m = fmaxf(m, fabsf(orig[i]));
    assert_true(w2->quant.scales[0] == m / 127.0f);
    for (int i = 0; i < 1024; i++) {
        assert_true(fabsf(q[i] * w2->quant.scales[0] - orig[i]) <=
                    0.5f * w2->quant.scales[0] + 1e-7f);
        assert_int_equal(q[i], (int)roundf(orig[i] * (1.0f / w2->quant.scales[0])));
    }
    assert_int_equal(dq->tensors[find_tensor(dq, "b2")].dtype, TML_FLOAT32);

    float x[CNN_IN], yf[10], yd[10];
    fill(x, CNN_IN, 5, -1.0f, 1.0f);
    run_graph(g, x, yf, 10);
    run_graph(dq, x, yd, 10);
    for (int i = 0; i < 10; i++)
        assert_true(fabsf(yf[i] - yd[i]) <= 0.02f);
    assert_int_equal(tml_argmax(yf, 10), tml_argmax(yd, 10));
    tml_ir_free(g);
    tml_ir_free(dq);
}

/* Large DW and FC weights: DW per channel along axis 3, FC per tensor. */
static void test_dynamic_depthwise_and_fc(void **state)
{
    (void)state;
    tml_ir_graph *g = tml_ir_new();
    float *wd = malloc(sizeof(float) * 3 * 3 * 128);
    float *wf = malloc(sizeof(float) * 8 * 128);
    fill(wd, 1152, 3, -1.0f, 1.0f);
    fill(wf, 1024, 4, -2.0f, 1.0f);
    float bd[128] = { 0 }, bf[8] = { 0 };
    int32_t x = tml_ir_add_tensor(g, "x", TML_FLOAT32, 4, (int32_t[]){1, 3, 3, 128});
    int32_t twd = tml_ir_add_const(g, "wd", TML_FLOAT32, 4, (int32_t[]){1, 3, 3, 128}, wd);
    int32_t tbd = tml_ir_add_const(g, "bd", TML_FLOAT32, 1, (int32_t[]){128}, bd);
    int32_t a = tml_ir_add_tensor(g, "a", TML_FLOAT32, 4, (int32_t[]){1, 1, 1, 128});
    int32_t r = tml_ir_add_tensor(g, "r", TML_FLOAT32, 2, (int32_t[]){1, 128});
    int32_t twf = tml_ir_add_const(g, "wf", TML_FLOAT32, 2, (int32_t[]){8, 128}, wf);
    int32_t tbf = tml_ir_add_const(g, "bf", TML_FLOAT32, 1, (int32_t[]){8}, bf);
    int32_t y = tml_ir_add_tensor(g, "y", TML_FLOAT32, 2, (int32_t[]){1, 8});
    tml_ir_add_op(g, TML_B_DEPTHWISE_CONV_2D, (int32_t[]){x, twd, tbd}, 3, &a, 1,
                  NULL, "dw");
    tml_ir_attrs rs = tml_ir_default_attrs();
    rs.nshape = 2;
    rs.shape[0] = 1;
    rs.shape[1] = 128;
    tml_ir_add_op(g, TML_B_RESHAPE, &a, 1, &r, 1, &rs, "flatten");
    tml_ir_add_op(g, TML_B_FULLY_CONNECTED, (int32_t[]){r, twf, tbf}, 3, &y, 1,
                  NULL, "fc");
    tml_ir_add_input(g, x);
    tml_ir_add_output(g, y);
    tml_ir_graph *dq = tml_ir_clone(g);
    char err[256] = "";
    assert_int_equal(tml_quantize_dynamic(dq, err, sizeof err), 0);
    const tml_ir_tensor *qd = &dq->tensors[twd];
    assert_int_equal(qd->dtype, TML_INT8);
    assert_int_equal(qd->quant.count, 128);
    assert_int_equal(qd->quant.dim, 3);
    const tml_ir_tensor *qf = &dq->tensors[twf];
    assert_int_equal(qf->dtype, TML_INT8);
    assert_int_equal(qf->quant.count, 1);
    float m = 0;
    for (int i = 0; i < 1024; i++)
        m = fmaxf(m, fabsf(wf[i]));
    assert_true(qf->quant.scales[0] == m / 127.0f);

    float xin[1152], yf[8], yd[8];
    fill(xin, 1152, 11, -1.0f, 1.0f);
    run_graph(g, xin, yf, 8);
    run_graph(dq, xin, yd, 8);
    /* Weights and (on the fly) inputs round to 8 bits twice: the outputs
     * (|y| ~ 10) keep a signal-to-noise ratio above 30 dB. */
    double sig = 0, noise = 0;
    for (int i = 0; i < 8; i++) {
        sig += (double)yf[i] * yf[i];
        noise += (double)(yf[i] - yd[i]) * (yf[i] - yd[i]);
    }
    if (!(10.0 * log10(sig / noise) > 30.0))
        fail_msg("SQNR %.1f dB", 10.0 * log10(sig / noise));
    free(wd);
    free(wf);
    tml_ir_free(g);
    tml_ir_free(dq);
}

/* ----------------------------------------------------- calibration */

static void test_calibrate_ranges(void **state)
{
    (void)state;
    tml_ir_graph *g = small_cnn();
    tml_dataset *d = cnn_dataset(16, 1234);
    char err[256] = "";
    assert_int_equal(tml_calibrate(g, d, 10, 0, err, sizeof err), 0);
    /* The input's range is the first 10 samples' range. */
    const tml_ir_tensor *x = &g->tensors[find_tensor(g, "x")];
    float lo = INFINITY, hi = -INFINITY;
    for (int s = 0; s < 10; s++) {
        const float *v = tml_dataset_sample(d, 0, s);
        for (int i = 0; i < CNN_IN; i++) {
            lo = fminf(lo, v[i]);
            hi = fmaxf(hi, v[i]);
        }
    }
    assert_true(x->has_range && x->min == lo && x->max == hi);
    /* Every activation has a range; RELU outputs start at 0 or above;
     * softmax stays in [0, 1]; constants have none. */
    for (int32_t t = 0; t < g->ntensors; t++) {
        const tml_ir_tensor *v = &g->tensors[t];
        assert_int_equal(v->has_range, v->data == NULL);
    }
    assert_true(g->tensors[find_tensor(g, "a1")].min >= 0.0f);
    assert_true(g->tensors[find_tensor(g, "a2")].max <= 6.0f);
    const tml_ir_tensor *y = &g->tensors[find_tensor(g, "y")];
    assert_true(y->min >= 0.0f && y->max <= 1.0f && y->max > y->min);

    /* The output's max over 10 samples is the max of the float runs. */
    float ymax = 0.0f;
    for (int s = 0; s < 10; s++) {
        float out[10];
        run_graph(g, tml_dataset_sample(d, 0, s), out, 10);
        for (int i = 0; i < 10; i++)
            ymax = fmaxf(ymax, out[i]);
    }
    assert_true(y->max == ymax);
    tml_dataset_free(d);
    tml_ir_free(g);
}

static void test_calibrate_errors(void **state)
{
    (void)state;
    tml_ir_graph *g = small_cnn();
    size_t elems = 5;
    float v[5] = { 0 };
    tml_dataset *d = tml_dataset_from_floats(1, 1, &elems,
                                             (const float *const[]){v});
    char err[256] = "";
    assert_int_equal(tml_calibrate(g, d, 0, 0, err, sizeof err), -1);
    assert_string_equal(err, "input 'x': samples of 5 values, expected 192");
    tml_dataset_free(d);
    tml_ir_free(g);
}

/* Percentile: 100 keeps min/max exactly; a lower percentile narrows
 * inner activations only, and only inside the min/max range. */
static void test_calibrate_percentile(void **state)
{
    (void)state;
    tml_dataset *d = cnn_dataset(16, 1234);
    char err[256] = "";
    tml_ir_graph *mm = small_cnn(), *p100 = small_cnn(), *p90 = small_cnn();
    assert_int_equal(tml_calibrate(mm, d, 0, 0, err, sizeof err), 0);
    assert_int_equal(tml_calibrate_method(p100, d, 0, 0, TML_CALIB_PERCENTILE,
                                          100.0, err, sizeof err), 0);
    assert_int_equal(tml_calibrate_method(p90, d, 0, 0, TML_CALIB_PERCENTILE,
                                          90.0, err, sizeof err), 0);
    for (int32_t t = 0; t < mm->ntensors; t++) {
        const tml_ir_tensor *a = &mm->tensors[t], *b = &p100->tensors[t],
                            *c = &p90->tensors[t];
        assert_int_equal(b->has_range, a->has_range);
        assert_int_equal(c->has_range, a->has_range);
        if (!a->has_range)
            continue;
        assert_true(b->min == a->min && b->max == a->max);
        assert_true(c->min >= a->min && c->max <= a->max && c->max > c->min);
    }
    /* The model's input and output keep min/max; the first ReLU's top 5%
     * (of 16 x 1024 values) is clipped. */
    int32_t x = find_tensor(mm, "x"), y = find_tensor(mm, "y");
    int32_t a1 = find_tensor(mm, "a1");
    assert_true(p90->tensors[x].min == mm->tensors[x].min &&
                p90->tensors[x].max == mm->tensors[x].max);
    assert_true(p90->tensors[y].min == mm->tensors[y].min &&
                p90->tensors[y].max == mm->tensors[y].max);
    assert_true(p90->tensors[a1].max < 0.9f * mm->tensors[a1].max);
    assert_int_equal(tml_calibrate_method(p90, d, 0, 0, TML_CALIB_PERCENTILE,
                                          40.0, err, sizeof err), -1);
    assert_string_equal(err, "percentile 40 is not in (50, 100]");
    tml_ir_free(mm);
    tml_ir_free(p100);
    tml_ir_free(p90);
    tml_dataset_free(d);
}

static double int8_output_error(const tml_ir_graph *g, const tml_dataset *d)
{
    tml_ir_graph *q = tml_ir_clone(g);
    char err[256] = "";
    if (tml_quantize_int8(q, 0, err, sizeof err) != 0)
        fail_msg("%s", err);
    double e = 0.0;
    for (int32_t s = 0; s < tml_dataset_count(d); s++) {
        float yf[10], yq[10];
        run_graph(g, tml_dataset_sample(d, 0, s), yf, 10);
        run_graph(q, tml_dataset_sample(d, 0, s), yq, 10);
        for (int i = 0; i < 10; i++)
            e += (double)(yq[i] - yf[i]) * (yq[i] - yf[i]);
    }
    tml_ir_free(q);
    return e;
}

/* Search (the default, simulated int8, budgeted) and search-full (real
 * int8 runs): every inner range is min/max scaled by one of the
 * candidate fractions, inputs and outputs keep min/max, and the int8
 * model's output error on the calibration samples is at most that of
 * min/max (the search starts there and accepts only improvements; the
 * small CNN fits the budget, so each activation gets its own fraction). */
static void check_search(tml_calib_method method)
{
    tml_dataset *d = cnn_dataset(16, 99);
    char err[256] = "";
    tml_ir_graph *mm = small_cnn(), *se = small_cnn();
    assert_int_equal(tml_calibrate(mm, d, 0, 0, err, sizeof err), 0);
    assert_int_equal(tml_calibrate_method(se, d, 0, 0, method, 0.0,
                                          err, sizeof err), 0);
    static const float fractions[] = { 1.0f, 0.9f, 0.8f, 0.7f, 0.6f, 0.5f,
                                       0.4f, 0.3f, 0.2f };
    int narrowed = 0;
    for (int32_t t = 0; t < mm->ntensors; t++) {
        const tml_ir_tensor *a = &mm->tensors[t], *b = &se->tensors[t];
        assert_int_equal(b->has_range, a->has_range);
        if (!a->has_range)
            continue;
        int found = 0;
        for (size_t f = 0; f < sizeof fractions / sizeof fractions[0]; f++)
            found |= b->min == a->min * fractions[f] &&
                     b->max == a->max * fractions[f];
        if (!found)
            fail_msg("%s: [%g, %g] is not a fraction of [%g, %g]", a->name,
                     b->min, b->max, a->min, a->max);
        narrowed += b->max != a->max;
    }
    int32_t x = find_tensor(mm, "x"), y = find_tensor(mm, "y");
    assert_true(se->tensors[x].max == mm->tensors[x].max);
    assert_true(se->tensors[y].max == mm->tensors[y].max);
    double e_mm = int8_output_error(mm, d), e_se = int8_output_error(se, d);
    if (narrowed > 0 ? !(e_se < e_mm) : e_se != e_mm)
        fail_msg("%d narrowed, error %g vs min/max %g", narrowed, e_se, e_mm);
    tml_ir_free(mm);
    tml_ir_free(se);
    tml_dataset_free(d);
}

static void test_calibrate_search(void **state)
{
    (void)state;
    check_search(TML_CALIB_SEARCH);
}

static void test_calibrate_search_full(void **state)
{
    (void)state;
    check_search(TML_CALIB_SEARCH_FULL);
}

/* The search's budget (quantize.h): a small model gets every activation
 * its own fraction on up to 100 samples; a vww_96-sized one (7.7 M
 * multiply-accumulates per run, 28 searched activations) 4 groups on 12
 * samples; a huge one one group on 12; fewer samples than 100 are all
 * used when they fit. */
static void test_search_plan(void **state)
{
    (void)state;
    int32_t groups = 0, samples = 0;
    tml_calib_search_plan(2.7e5, 9, 100, &groups, &samples);
    assert_int_equal(groups, 9);
    assert_int_equal(samples, 100);
    tml_calib_search_plan(2.7e5, 9, 500, &groups, &samples);
    assert_int_equal(groups, 9);
    assert_int_equal(samples, 100);
    tml_calib_search_plan(2.7e5, 9, 30, &groups, &samples);
    assert_int_equal(groups, 9);
    assert_int_equal(samples, 30);
    tml_calib_search_plan(7.72e6, 28, 100, &groups, &samples);
    assert_int_equal(groups, 4);
    assert_int_equal(samples, 12);
    tml_calib_search_plan(1e10, 50, 100, &groups, &samples);
    assert_int_equal(groups, 1);
    assert_int_equal(samples, 12);
    tml_calib_search_plan(1e5, 0, 100, &groups, &samples);
    assert_int_equal(groups, 0);
}

/* ------------------------------------------------------------ int8 */

static void check_int8_cnn(const tml_ir_graph *q, int io_int8)
{
    /* Every activation is int8 per tensor, weights per channel (FC per
     * tensor), biases int32 with scale input scale * weight scale. */
    for (int32_t i = 0; i < q->nops; i++) {
        const tml_ir_op *op = &q->ops[i];
        if (op->builtin != TML_B_CONV_2D &&
            op->builtin != TML_B_DEPTHWISE_CONV_2D &&
            op->builtin != TML_B_FULLY_CONNECTED)
            continue;
        const tml_ir_tensor *in = &q->tensors[op->inputs[0]];
        const tml_ir_tensor *w = &q->tensors[op->inputs[1]];
        const tml_ir_tensor *b = &q->tensors[op->inputs[2]];
        assert_int_equal(in->dtype, TML_INT8);
        assert_int_equal(w->dtype, TML_INT8);
        assert_int_equal(b->dtype, TML_INT32);
        int32_t ch = op->builtin == TML_B_FULLY_CONNECTED ? 1
                   : op->builtin == TML_B_CONV_2D ? w->dims[0] : w->dims[3];
        assert_int_equal(w->quant.count, ch);
        assert_int_equal(w->quant.dim, op->builtin == TML_B_DEPTHWISE_CONV_2D ? 3 : 0);
        assert_int_equal(b->quant.count, ch);
        for (int32_t c = 0; c < ch; c++) {
            assert_int_equal(w->quant.zero_points[c], 0);
            assert_true(b->quant.scales[c] == in->quant.scales[0] * w->quant.scales[c]);
        }
    }
    const tml_ir_tensor *y = &q->tensors[q->ops[q->nops - (io_int8 ? 1 : 2)].outputs[0]];
    assert_int_equal(y->dtype, TML_INT8);
    assert_true(y->quant.scales[0] == 1.0f / 256.0f);
    assert_int_equal(y->quant.zero_points[0], -128);
}

static void int8_cnn(int io_int8)
{
    tml_ir_graph *g = small_cnn();
    tml_dataset *cal = cnn_dataset(64, 1);
    char err[256] = "";
    assert_int_equal(tml_calibrate(g, cal, 0, 0, err, sizeof err), 0);
    tml_ir_graph *q = tml_ir_clone(g);
    int32_t nops = g->nops;
    if (tml_quantize_int8(q, io_int8, err, sizeof err) != 0)
        fail_msg("%s", err);
    if (io_int8) {
        assert_int_equal(q->nops, nops);
        assert_int_equal(q->tensors[q->inputs[0]].dtype, TML_INT8);
        assert_int_equal(q->tensors[q->outputs[0]].dtype, TML_INT8);
    } else {
        assert_int_equal(q->nops, nops + 2);
        assert_int_equal(q->ops[0].builtin, TML_B_QUANTIZE);
        assert_int_equal(q->ops[q->nops - 1].builtin, TML_B_DEQUANTIZE);
        assert_int_equal(q->tensors[q->inputs[0]].dtype, TML_FLOAT32);
        assert_string_equal(q->tensors[q->inputs[0]].name, "x");
        assert_string_equal(q->tensors[q->outputs[0]].name, "y");
        assert_int_equal(q->tensors[q->outputs[0]].dtype, TML_FLOAT32);
        assert_int_equal(q->tensors[q->outputs[0]].quant.count, 0);
    }
    check_int8_cnn(q, io_int8);
    /* Input parameters come from the calibrated input range. */
    const tml_ir_tensor *xq = &q->tensors[io_int8 ? q->inputs[0] : q->ops[0].outputs[0]];
    float s;
    int32_t z;
    tml_q_activation_params(g->tensors[g->inputs[0]].min,
                            g->tensors[g->inputs[0]].max, &s, &z);
    assert_true(xq->quant.scales[0] == s);
    assert_int_equal(xq->quant.zero_points[0], z);

    /* On fresh samples, the int8 model agrees with the float one. */
    tml_dataset *ev = cnn_dataset(20, 777);
    int agree = 0;
    float maxdiff = 0.0f;
    for (int i = 0; i < 20; i++) {
        float yf[10], yq[10];
        run_graph(g, tml_dataset_sample(ev, 0, i), yf, 10);
        run_graph(q, tml_dataset_sample(ev, 0, i), yq, 10);
        agree += tml_argmax(yf, 10) == tml_argmax(yq, 10);
        for (int k = 0; k < 10; k++)
            maxdiff = fmaxf(maxdiff, fabsf(yf[k] - yq[k]));
    }
    assert_true(agree >= 18);
    assert_true(maxdiff < 0.03f);
    tml_dataset_free(cal);
    tml_dataset_free(ev);
    tml_ir_free(g);
    tml_ir_free(q);
}

static void test_int8_float_io(void **state)
{
    (void)state;
    int8_cnn(0);
}

static void test_int8_int8_io(void **state)
{
    (void)state;
    int8_cnn(1);
}

static void test_int8_needs_calibration(void **state)
{
    (void)state;
    tml_ir_graph *g = small_cnn();
    char err[256] = "";
    assert_int_equal(tml_quantize_int8(g, 0, err, sizeof err), -1);
    assert_string_equal(err, "graph input: tensor 'x' has no calibration "
                             "range (run the calibration first)");
    tml_ir_free(g);
}

/* Two branches concatenated: a conv whose only reader is the concat takes
 * the concat's parameters; the graph input (also read by the conv) gets a
 * requantizing QUANTIZE.  Then MAX_POOL and RESHAPE keep their input's
 * parameters, TANH and LOGISTIC get the fixed ones. */
static void test_int8_concat_and_fixed(void **state)
{
    (void)state;
    tml_ir_graph *g = tml_ir_new();
    float w[4 * 2], b[4];
    fill(w, 8, 21, -3.0f, 3.0f);
    fill(b, 4, 22, -0.5f, 0.5f);
    int32_t x = tml_ir_add_tensor(g, "x", TML_FLOAT32, 4, (int32_t[]){1, 4, 4, 2});
    int32_t tw = tml_ir_add_const(g, "w", TML_FLOAT32, 4, (int32_t[]){4, 1, 1, 2}, w);
    int32_t tb = tml_ir_add_const(g, "b", TML_FLOAT32, 1, (int32_t[]){4}, b);
    int32_t c = tml_ir_add_tensor(g, "c", TML_FLOAT32, 4, (int32_t[]){1, 4, 4, 4});
    int32_t cat = tml_ir_add_tensor(g, "cat", TML_FLOAT32, 4, (int32_t[]){1, 4, 4, 6});
    int32_t mp = tml_ir_add_tensor(g, "mp", TML_FLOAT32, 4, (int32_t[]){1, 2, 2, 6});
    int32_t th = tml_ir_add_tensor(g, "th", TML_FLOAT32, 4, (int32_t[]){1, 2, 2, 6});
    int32_t rs = tml_ir_add_tensor(g, "rs", TML_FLOAT32, 2, (int32_t[]){1, 24});
    int32_t y = tml_ir_add_tensor(g, "y", TML_FLOAT32, 2, (int32_t[]){1, 24});
    tml_ir_add_op(g, TML_B_CONV_2D, (int32_t[]){x, tw, tb}, 3, &c, 1, NULL, "conv");
    tml_ir_attrs ca = tml_ir_default_attrs();
    ca.axis = 3;
    tml_ir_add_op(g, TML_B_CONCATENATION, (int32_t[]){x, c}, 2, &cat, 1, &ca, "cat");
    tml_ir_attrs pa = tml_ir_default_attrs();
    pa.filter_w = pa.filter_h = pa.stride_w = pa.stride_h = 2;
    tml_ir_add_op(g, TML_B_MAX_POOL_2D, &cat, 1, &mp, 1, &pa, "pool");
    tml_ir_add_op(g, TML_B_TANH, &mp, 1, &th, 1, NULL, "tanh");
    tml_ir_attrs ra = tml_ir_default_attrs();
    ra.nshape = 2;
    ra.shape[0] = 1;
    ra.shape[1] = 24;
    tml_ir_add_op(g, TML_B_RESHAPE, &th, 1, &rs, 1, &ra, "flatten");
    tml_ir_add_op(g, TML_B_LOGISTIC, &rs, 1, &y, 1, NULL, "sigmoid");
    tml_ir_add_input(g, x);
    tml_ir_add_output(g, y);

    float *data = malloc(sizeof(float) * 32 * 40);
    fill(data, 32 * 40, 8, -1.0f, 1.0f);
    tml_ir_graph *q = calibrated_int8(g, data, 40, 32, 1);
    /* ops: conv, QUANTIZE (x requantized), concat, pool, tanh, reshape,
     * logistic. */
    assert_int_equal(q->nops, 7);
    assert_int_equal(q->ops[1].builtin, TML_B_QUANTIZE);
    assert_int_equal(q->ops[1].inputs[0], x);
    const tml_ir_tensor *tcat = &q->tensors[cat];
    const tml_ir_tensor *rq = &q->tensors[q->ops[1].outputs[0]];
    assert_int_equal(q->ops[2].inputs[0], q->ops[1].outputs[0]);
    assert_string_equal(rq->name, "x_rq1");
    float s;
    int32_t z;
    tml_q_activation_params(g->tensors[cat].min, g->tensors[cat].max, &s, &z);
    assert_true(tcat->quant.scales[0] == s && tcat->quant.zero_points[0] == z);
    assert_true(rq->quant.scales[0] == s && rq->quant.zero_points[0] == z);
    assert_true(q->tensors[c].quant.scales[0] == s && q->tensors[c].quant.zero_points[0] == z);
    assert_true(q->tensors[mp].quant.scales[0] == s && q->tensors[mp].quant.zero_points[0] == z);
    assert_true(q->tensors[th].quant.scales[0] == 1.0f / 128.0f);
    assert_int_equal(q->tensors[th].quant.zero_points[0], 0);
    assert_true(q->tensors[rs].quant.scales[0] == 1.0f / 128.0f);
    assert_true(q->tensors[y].quant.scales[0] == 1.0f / 256.0f);
    assert_int_equal(q->tensors[y].quant.zero_points[0], -128);

    for (int i = 0; i < 5; i++) {
        float yf[24], yq[24];
        run_graph(g, data + 32 * i, yf, 24);
        run_graph(q, data + 32 * i, yq, 24);
        for (int k = 0; k < 24; k++)
            assert_true(fabsf(yf[k] - yq[k]) < 0.02f);
    }
    free(data);
    tml_ir_free(g);
    tml_ir_free(q);
}

/* A residual block with a lone batch norm (MUL + ADD by per-channel
 * constants), PAD, AVERAGE_POOL, RELU and RELU6: the float constants
 * become int8 with their own range, ADD/MUL/RELU outputs get their own
 * parameters, PAD / AVERAGE_POOL / RELU6 keep their input's. */
static void test_int8_residual_and_constants(void **state)
{
    (void)state;
    tml_ir_graph *g = tml_ir_new();
    float w[4 * 4], b[4], gamma[4] = { 0.5f, 2.0f, -1.0f, 1.5f };
    float beta[4] = { 0.1f, -0.2f, 0.3f, 0.0f };
    fill(w, 16, 31, -1.0f, 1.0f);
    fill(b, 4, 32, -0.2f, 0.2f);
    const int32_t d4[4] = { 1, 4, 4, 4 };
    int32_t x = tml_ir_add_tensor(g, "x", TML_FLOAT32, 4, d4);
    int32_t tw = tml_ir_add_const(g, "w", TML_FLOAT32, 4, (int32_t[]){4, 1, 1, 4}, w);
    int32_t tb = tml_ir_add_const(g, "b", TML_FLOAT32, 1, (int32_t[]){4}, b);
    int32_t c = tml_ir_add_tensor(g, "c", TML_FLOAT32, 4, d4);
    int32_t s = tml_ir_add_tensor(g, "s", TML_FLOAT32, 4, d4);
    int32_t tg = tml_ir_add_const(g, "gamma", TML_FLOAT32, 1, (int32_t[]){4}, gamma);
    int32_t m = tml_ir_add_tensor(g, "m", TML_FLOAT32, 4, d4);
    int32_t tbe = tml_ir_add_const(g, "beta", TML_FLOAT32, 1, (int32_t[]){4}, beta);
    int32_t bn = tml_ir_add_tensor(g, "bn", TML_FLOAT32, 4, d4);
    int32_t pads = tml_ir_add_const(g, "pads", TML_INT32, 2, (int32_t[]){4, 2},
                                    (int32_t[]){0, 0, 1, 1, 1, 1, 0, 0});
    int32_t p = tml_ir_add_tensor(g, "p", TML_FLOAT32, 4, (int32_t[]){1, 6, 6, 4});
    int32_t ap = tml_ir_add_tensor(g, "ap", TML_FLOAT32, 4, (int32_t[]){1, 3, 3, 4});
    int32_t r = tml_ir_add_tensor(g, "r", TML_FLOAT32, 4, (int32_t[]){1, 3, 3, 4});
    int32_t y = tml_ir_add_tensor(g, "y", TML_FLOAT32, 4, (int32_t[]){1, 3, 3, 4});
    tml_ir_add_op(g, TML_B_CONV_2D, (int32_t[]){x, tw, tb}, 3, &c, 1, NULL, "conv");
    tml_ir_add_op(g, TML_B_ADD, (int32_t[]){c, x}, 2, &s, 1, NULL, "residual");
    tml_ir_add_op(g, TML_B_MUL, (int32_t[]){s, tg}, 2, &m, 1, NULL, "bn_mul");
    tml_ir_add_op(g, TML_B_ADD, (int32_t[]){m, tbe}, 2, &bn, 1, NULL, "bn_add");
    tml_ir_add_op(g, TML_B_PAD, (int32_t[]){bn, pads}, 2, &p, 1, NULL, "pad");
    tml_ir_attrs pa = tml_ir_default_attrs();
    pa.filter_w = pa.filter_h = pa.stride_w = pa.stride_h = 2;
    tml_ir_add_op(g, TML_B_AVERAGE_POOL_2D, &p, 1, &ap, 1, &pa, "pool");
    tml_ir_add_op(g, TML_B_RELU, &ap, 1, &r, 1, NULL, "relu");
    tml_ir_add_op(g, TML_B_RELU6, &r, 1, &y, 1, NULL, "relu6");
    tml_ir_add_input(g, x);
    tml_ir_add_output(g, y);
    assert_string_equal(g->error, "");

    float *data = malloc(sizeof(float) * 64 * 50);
    fill(data, 64 * 50, 41, -2.0f, 2.0f);
    tml_ir_graph *q = calibrated_int8(g, data, 50, 64, 0);
    /* gamma: int8 over its own range [-1, 2] (widened to include 0). */
    const tml_ir_tensor *qg = &q->tensors[tg];
    assert_int_equal(qg->dtype, TML_INT8);
    assert_int_equal(qg->quant.count, 1);
    float sc;
    int32_t zp;
    tml_q_activation_params(-1.0f, 2.0f, &sc, &zp);
    assert_true(qg->quant.scales[0] == sc);
    assert_int_equal(qg->quant.zero_points[0], zp);
    const int8_t *gq = qg->data;
    for (int i = 0; i < 4; i++)
        assert_int_equal(gq[i], (int)roundf(gamma[i] / sc) + zp);
    assert_int_equal(q->tensors[pads].dtype, TML_INT32);
    /* Own parameters from the calibrated ranges. */
    const int32_t own[4] = { c, s, m, r };
    for (int i = 0; i < 4; i++) {
        tml_q_activation_params(g->tensors[own[i]].min, g->tensors[own[i]].max,
                                &sc, &zp);
        assert_true(q->tensors[own[i]].quant.scales[0] == sc);
        assert_int_equal(q->tensors[own[i]].quant.zero_points[0], zp);
    }
    /* Shared with the input. */
    const int32_t same[3][2] = { { p, bn }, { ap, bn }, { q->ops[q->nops - 1].inputs[0], r } };
    for (int i = 0; i < 3; i++) {
        const tml_ir_tensor *a = &q->tensors[same[i][0]];
        const tml_ir_tensor *bq = &q->tensors[same[i][1]];
        assert_true(a->quant.scales[0] == bq->quant.scales[0]);
        assert_int_equal(a->quant.zero_points[0], bq->quant.zero_points[0]);
    }
    for (int i = 0; i < 5; i++) {
        float yf[36], yq[36];
        run_graph(g, data + 64 * i, yf, 36);
        run_graph(q, data + 64 * i, yq, 36);
        for (int k = 0; k < 36; k++) {
            if (!(fabsf(yf[k] - yq[k]) < 0.1f))
                fail_msg("sample %d output %d: float %g int8 %g", i, k, yf[k],
                         yq[k]);
        }
    }
    free(data);
    tml_ir_free(g);
    tml_ir_free(q);
}

static int same_quant(const tml_ir_tensor *a, const tml_ir_tensor *b)
{
    return a->quant.count == 1 && b->quant.count == 1 &&
           a->quant.scales[0] == b->quant.scales[0] &&
           a->quant.zero_points[0] == b->quant.zero_points[0];
}

/* Nested concatenations: the inner one cannot take the outer one's
 * parameters (its inputs already carry its own), so it is requantized;
 * the convs feeding only a concatenation take its parameters. */
static void test_int8_nested_concat(void **state)
{
    (void)state;
    tml_ir_graph *g = tml_ir_new();
    const int32_t d4[4] = { 1, 3, 3, 2 };
    int32_t x = tml_ir_add_tensor(g, "x", TML_FLOAT32, 4, d4);
    int32_t outs[3];
    for (int k = 0; k < 3; k++) {
        float w[4], b[2];
        fill(w, 4, 50u + (uint32_t)k, -2.0f * (float)(k + 1), 2.0f);
        fill(b, 2, 60u + (uint32_t)k, -0.5f, 0.5f);
        char name[8];
        snprintf(name, sizeof name, "w%d", k);
        int32_t tw = tml_ir_add_const(g, name, TML_FLOAT32, 4, (int32_t[]){2, 1, 1, 2}, w);
        snprintf(name, sizeof name, "b%d", k);
        int32_t tb = tml_ir_add_const(g, name, TML_FLOAT32, 1, (int32_t[]){2}, b);
        snprintf(name, sizeof name, "c%d", k);
        outs[k] = tml_ir_add_tensor(g, name, TML_FLOAT32, 4, d4);
        tml_ir_add_op(g, TML_B_CONV_2D, (int32_t[]){x, tw, tb}, 3, &outs[k], 1,
                      NULL, name);
    }
    tml_ir_attrs ca = tml_ir_default_attrs();
    ca.axis = 3;
    int32_t cat1 = tml_ir_add_tensor(g, "cat1", TML_FLOAT32, 4, (int32_t[]){1, 3, 3, 4});
    int32_t cat2 = tml_ir_add_tensor(g, "cat2", TML_FLOAT32, 4, (int32_t[]){1, 3, 3, 6});
    tml_ir_add_op(g, TML_B_CONCATENATION, outs, 2, &cat1, 1, &ca, "cat1");
    tml_ir_add_op(g, TML_B_CONCATENATION, (int32_t[]){cat1, outs[2]}, 2, &cat2,
                  1, &ca, "cat2");
    tml_ir_add_input(g, x);
    tml_ir_add_output(g, cat2);

    float *data = malloc(sizeof(float) * 18 * 30);
    fill(data, 18 * 30, 70, -1.0f, 1.0f);
    tml_ir_graph *q = calibrated_int8(g, data, 30, 18, 1);
    /* conv0, conv1, conv2, cat1, QUANTIZE (cat1 requantized), cat2. */
    assert_int_equal(q->nops, 6);
    assert_int_equal(q->ops[4].builtin, TML_B_QUANTIZE);
    assert_int_equal(q->ops[4].inputs[0], cat1);
    for (int32_t i = 0; i < q->nops; i++) {
        const tml_ir_op *op = &q->ops[i];
        if (op->builtin != TML_B_CONCATENATION)
            continue;
        for (int32_t k = 0; k < op->ninputs; k++)
            assert_true(same_quant(&q->tensors[op->inputs[k]],
                                   &q->tensors[op->outputs[0]]));
    }
    assert_false(same_quant(&q->tensors[cat1], &q->tensors[cat2]));
    for (int i = 0; i < 5; i++) {
        float yf[54], yq[54];
        run_graph(g, data + 18 * i, yf, 54);
        run_graph(q, data + 18 * i, yq, 54);
        float step = q->tensors[cat2].quant.scales[0];
        for (int k = 0; k < 54; k++)
            assert_true(fabsf(yf[k] - yq[k]) <= 3.0f * step);
    }
    free(data);
    tml_ir_free(g);
    tml_ir_free(q);
}

/* A channel whose weights BN folding left at ~1e-30 but whose bias is
 * 0.75: max|w| / 127 as its scale would need a bias of ~1e36 steps; the
 * scale is raised so the int32 bias holds 0.75, and the channel outputs
 * its bias. */
static void test_int8_dead_channel_bias(void **state)
{
    (void)state;
    tml_ir_graph *g = tml_ir_new();
    const float w[4] = { 1e-30f, -2e-30f, 0.5f, -1.5f };
    const float b[2] = { 0.75f, 0.1f };
    int32_t x = tml_ir_add_tensor(g, "x", TML_FLOAT32, 4, (int32_t[]){1, 2, 2, 2});
    int32_t tw = tml_ir_add_const(g, "w", TML_FLOAT32, 4, (int32_t[]){2, 1, 1, 2}, w);
    int32_t tb = tml_ir_add_const(g, "b", TML_FLOAT32, 1, (int32_t[]){2}, b);
    int32_t y = tml_ir_add_tensor(g, "y", TML_FLOAT32, 4, (int32_t[]){1, 2, 2, 2});
    tml_ir_add_op(g, TML_B_CONV_2D, (int32_t[]){x, tw, tb}, 3, &y, 1, NULL, "conv");
    tml_ir_add_input(g, x);
    tml_ir_add_output(g, y);
    float data[8 * 20];
    fill(data, 160, 80, -1.0f, 1.0f);
    tml_ir_graph *q = calibrated_int8(g, data, 20, 8, 0);
    const tml_ir_tensor *qw = &q->tensors[tw];
    const tml_ir_tensor *qb = &q->tensors[tb];
    float in_scale = q->tensors[q->ops[0].outputs[0]].quant.scales[0];
    assert_true(qw->quant.scales[0] >= 0.75f / (in_scale * 1073741824.0f) * 0.999f);
    assert_true(qw->quant.scales[1] == 1.5f / 127.0f);
    const int32_t *bq = qb->data;
    assert_true(fabsf((float)bq[0] * qb->quant.scales[0] - 0.75f) < 1e-6f);
    float yf[8], yq[8];
    run_graph(g, data, yf, 8);
    run_graph(q, data, yq, 8);
    float step = q->tensors[y].quant.count ? q->tensors[y].quant.scales[0]
                                           : q->tensors[q->ops[1].inputs[0]].quant.scales[0];
    for (int k = 0; k < 8; k += 2) {
        assert_true(fabsf(yq[k] - 0.75f) <= step);
        assert_true(fabsf(yf[k + 1] - yq[k + 1]) <= 2.0f * step);
    }
    tml_ir_free(g);
    tml_ir_free(q);
}

static void test_int8_unsupported_op(void **state)
{
    (void)state;
    tml_ir_graph *g = tml_ir_new();
    int32_t x = tml_ir_add_tensor(g, "x", TML_FLOAT32, 2, (int32_t[]){1, 4});
    int32_t y = tml_ir_add_tensor(g, "y", TML_FLOAT32, 2, (int32_t[]){1, 4});
    tml_ir_add_op(g, 47 /* EXP */, &x, 1, &y, 1, NULL, "exp_layer");
    tml_ir_add_input(g, x);
    tml_ir_add_output(g, y);
    for (int32_t t = 0; t < 2; t++) {
        g->tensors[t].has_range = 1;
        g->tensors[t].min = -1.0f;
        g->tensors[t].max = 1.0f;
    }
    char err[256] = "";
    assert_int_equal(tml_quantize_int8(g, 1, err, sizeof err), -1);
    assert_string_equal(err, "exp_layer: EXP has no int8 quantization rule");
    tml_ir_free(g);
}

/* --------------------------------------------------------- datasets */

static char tmpdir[256];

static void write_npy(const char *path, tml_dtype dt, const int32_t *dims,
                      int32_t ndims, const void *data)
{
    size_t size;
    char err[256];
    void *b = tml_npy_write(dt, dims, ndims, data, &size, err, sizeof err);
    assert_non_null(b);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, size, f), size);
    fclose(f);
    free(b);
}

static void *npy_bytes(tml_dtype dt, const int32_t *dims, int32_t ndims,
                       const void *data, size_t *size)
{
    char err[256];
    void *b = tml_npy_write(dt, dims, ndims, data, size, err, sizeof err);
    assert_non_null(b);
    return b;
}

static tml_ir_graph *two_input_graph(void)
{
    tml_ir_graph *g = tml_ir_new();
    int32_t a = tml_ir_add_tensor(g, "a", TML_FLOAT32, 3, (int32_t[]){1, 2, 3});
    int32_t b = tml_ir_add_tensor(g, "b", TML_FLOAT32, 2, (int32_t[]){1, 6});
    int32_t r = tml_ir_add_tensor(g, "r", TML_FLOAT32, 2, (int32_t[]){1, 6});
    int32_t y = tml_ir_add_tensor(g, "y", TML_FLOAT32, 2, (int32_t[]){1, 6});
    tml_ir_attrs ra = tml_ir_default_attrs();
    ra.nshape = 2;
    ra.shape[0] = 1;
    ra.shape[1] = 6;
    tml_ir_add_op(g, TML_B_RESHAPE, &a, 1, &r, 1, &ra, "flat");
    tml_ir_add_op(g, TML_B_ADD, (int32_t[]){r, b}, 2, &y, 1, NULL, "add");
    tml_ir_add_input(g, a);
    tml_ir_add_input(g, b);
    tml_ir_add_output(g, y);
    return g;
}

static tml_ir_graph *one_input_graph(void)
{
    tml_ir_graph *g = tml_ir_new();
    int32_t a = tml_ir_add_tensor(g, "a", TML_FLOAT32, 4, (int32_t[]){1, 2, 3, 1});
    int32_t y = tml_ir_add_tensor(g, "y", TML_FLOAT32, 4, (int32_t[]){1, 2, 3, 1});
    tml_ir_add_op(g, TML_B_RELU, &a, 1, &y, 1, NULL, "relu");
    tml_ir_add_input(g, a);
    tml_ir_add_output(g, y);
    return g;
}

static void test_dataset_npy(void **state)
{
    (void)state;
    tml_ir_graph *g = one_input_graph();
    float v[4 * 6];
    for (int i = 0; i < 24; i++)
        v[i] = (float)i;
    char path[512], err[1200];
    tml_dataset *d = NULL;
    /* N x sample shape, N x full shape, N x flattened: all accepted. */
    const int32_t shapes[3][5] = { {4, 2, 3, 1}, {4, 1, 2, 3, 1}, {4, 6} };
    const int32_t ranks[3] = { 4, 5, 2 };
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "%s/cal%d.npy", tmpdir, k);
        write_npy(path, TML_FLOAT32, shapes[k], ranks[k], v);
        assert_int_equal(tml_dataset_load(path, g, &d, err, sizeof err), 0);
        assert_int_equal(tml_dataset_count(d), 4);
        assert_int_equal(tml_dataset_elements(d, 0), 6);
        assert_true(tml_dataset_sample(d, 0, 3)[5] == 23.0f);
        tml_dataset_free(d);
    }
    /* Wrong shape and wrong dtype name expected vs got. */
    snprintf(path, sizeof path, "%s/bad.npy", tmpdir);
    write_npy(path, TML_FLOAT32, (int32_t[]){4, 3, 2}, 3, v);
    assert_int_equal(tml_dataset_load(path, g, &d, err, sizeof err), -1);
    assert_null(d);
    char want[1400];
    snprintf(want, sizeof want, "%s: input 'a': expected N x [2, 3, 1] (or 6 "
             "flattened) float32, got [4, 3, 2] <f4", path);
    assert_string_equal(err, want);
    int8_t b8[24] = { 0 };
    write_npy(path, TML_INT8, (int32_t[]){4, 2, 3, 1}, 4, b8);
    assert_int_equal(tml_dataset_load(path, g, &d, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: input 'a': expected float32 (<f4) "
             "samples, got |i1", path);
    assert_string_equal(err, want);
    /* float64 (the reader does not know it): expected vs got too. */
    static const uint8_t f8[] = "\x93NUMPY\x01\x00\x76\x00{'descr': '<f8', "
        "'fortran_order': False, 'shape': (1, 6), }";
    FILE *f = fopen(path, "wb");
    fwrite(f8, 1, 10, f);
    fprintf(f, "%-117s\n", (const char *)f8 + 10);
    for (int i = 0; i < 6; i++) {
        double z = 0.0;
        fwrite(&z, sizeof z, 1, f);
    }
    fclose(f);
    assert_int_equal(tml_dataset_load(path, g, &d, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: input 'a': expected float32 (<f4) "
             "samples, got <f8", path);
    assert_string_equal(err, want);
    /* Missing file; unknown extension. */
    snprintf(path, sizeof path, "%s/none.npy", tmpdir);
    assert_int_equal(tml_dataset_load(path, g, &d, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: No such file or directory", path);
    assert_string_equal(err, want);
    assert_int_equal(tml_dataset_load("x.csv", g, &d, err, sizeof err), -1);
    assert_string_equal(err, "x.csv: No such file or directory");
    tml_ir_free(g);
}

static void write_npz(const char *path, const char *const *names,
                      void *const *bufs, const size_t *sizes, int n)
{
    int zerr;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    assert_non_null(z);
    for (int i = 0; i < n; i++) {
        zip_source_t *s = zip_source_buffer(z, bufs[i], sizes[i], 0);
        assert_non_null(s);
        assert_true(zip_file_add(z, names[i], s, ZIP_FL_OVERWRITE) >= 0);
    }
    assert_int_equal(zip_close(z), 0);
}

static void test_dataset_npz(void **state)
{
    (void)state;
    tml_ir_graph *g = two_input_graph();
    float va[3 * 6], vb[3 * 6];
    for (int i = 0; i < 18; i++) {
        va[i] = (float)i;
        vb[i] = (float)(100 + i);
    }
    size_t sa, sb;
    void *ba = npy_bytes(TML_FLOAT32, (int32_t[]){3, 2, 3}, 3, va, &sa);
    void *bb = npy_bytes(TML_FLOAT32, (int32_t[]){3, 6}, 2, vb, &sb);
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/cal.npz", tmpdir);
    /* By name, whatever the member order. */
    write_npz(path, (const char *const[]){"b.npy", "a.npy"},
              (void *const[]){bb, ba}, (size_t[]){sb, sa}, 2);
    tml_dataset *d = NULL;
    assert_int_equal(tml_dataset_load(path, g, &d, err, sizeof err), 0);
    assert_int_equal(tml_dataset_inputs(d), 2);
    assert_int_equal(tml_dataset_count(d), 3);
    assert_true(tml_dataset_sample(d, 0, 1)[0] == 6.0f);
    assert_true(tml_dataset_sample(d, 1, 2)[5] == 117.0f);
    tml_dataset_free(d);
    /* By order (numpy.savez's arr_0, arr_1). */
    write_npz(path, (const char *const[]){"arr_0.npy", "arr_1.npy"},
              (void *const[]){ba, bb}, (size_t[]){sa, sb}, 2);
    assert_int_equal(tml_dataset_load(path, g, &d, err, sizeof err), 0);
    assert_true(tml_dataset_sample(d, 1, 0)[0] == 100.0f);
    tml_dataset_free(d);
    /* Sample counts must agree. */
    size_t sc;
    void *bc = npy_bytes(TML_FLOAT32, (int32_t[]){2, 6}, 2, vb, &sc);
    write_npz(path, (const char *const[]){"a.npy", "b.npy"},
              (void *const[]){ba, bc}, (size_t[]){sa, sc}, 2);
    assert_int_equal(tml_dataset_load(path, g, &d, err, sizeof err), -1);
    char want[1400];
    snprintf(want, sizeof want, "%s: input 'b': 2 samples, but input 0 has 3",
             path);
    assert_string_equal(err, want);
    /* Too few arrays. */
    write_npz(path, (const char *const[]){"a.npy"}, (void *const[]){ba},
              (size_t[]){sa}, 1);
    assert_int_equal(tml_dataset_load(path, g, &d, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: 1 arrays for 2 model inputs", path);
    assert_string_equal(err, want);
    /* Not a zip. */
    snprintf(path, sizeof path, "%s/notzip.npz", tmpdir);
    write_npy(path, TML_FLOAT32, (int32_t[]){3, 6}, 2, vb);
    assert_int_equal(tml_dataset_load(path, g, &d, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: not a readable .npz (zip): Not a zip archive",
             path);
    assert_string_equal(err, want);
    /* A .npy cannot feed two inputs. */
    assert_int_equal(tml_dataset_load(path, g, &d, err, sizeof err), -1);
    free(ba);
    free(bb);
    free(bc);
    tml_ir_free(g);
}

static void test_dataset_directory(void **state)
{
    (void)state;
    tml_ir_graph *g = one_input_graph();
    char dir[512], path[600], err[700];
    snprintf(dir, sizeof dir, "%s/samples", tmpdir);
    mkdir(dir, 0700);
    /* Written out of order; read in name order. */
    const char *names[3] = { "s2.npy", "s0.npy", "s1.npy" };
    for (int k = 0; k < 3; k++) {
        float v[6];
        for (int i = 0; i < 6; i++)
            v[i] = (float)(10 * (names[k][1] - '0') + i);
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        write_npy(path, TML_FLOAT32, (int32_t[]){2, 3, 1}, 3, v);
    }
    snprintf(path, sizeof path, "%s/readme.txt", dir);
    FILE *f = fopen(path, "w");
    fputs("not a sample\n", f);
    fclose(f);
    tml_dataset *d = NULL;
    assert_int_equal(tml_dataset_load(dir, g, &d, err, sizeof err), 0);
    assert_int_equal(tml_dataset_count(d), 3);
    assert_true(tml_dataset_sample(d, 0, 0)[0] == 0.0f);
    assert_true(tml_dataset_sample(d, 0, 1)[0] == 10.0f);
    assert_true(tml_dataset_sample(d, 0, 2)[5] == 25.0f);
    tml_dataset_free(d);
    /* One bad sample names itself. */
    float v[5] = { 0 };
    snprintf(path, sizeof path, "%s/s3.npy", dir);
    write_npy(path, TML_FLOAT32, (int32_t[]){5}, 1, v);
    assert_int_equal(tml_dataset_load(dir, g, &d, err, sizeof err), -1);
    char want[1400];
    snprintf(want, sizeof want, "%s: s3.npy: input 'a': expected [2, 3, 1] (or "
             "6 flattened) float32, got [5] <f4", dir);
    assert_string_equal(err, want);
    tml_ir_free(g);
}

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tml_quantize_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f16_bits),
        cmocka_unit_test(test_activation_params),
        cmocka_unit_test(test_symmetric_weights),
        cmocka_unit_test(test_float16_structure_and_run),
        cmocka_unit_test(test_dynamic_structure_and_run),
        cmocka_unit_test(test_dynamic_depthwise_and_fc),
        cmocka_unit_test(test_calibrate_ranges),
        cmocka_unit_test(test_calibrate_errors),
        cmocka_unit_test(test_int8_float_io),
        cmocka_unit_test(test_int8_int8_io),
        cmocka_unit_test(test_int8_needs_calibration),
        cmocka_unit_test(test_int8_concat_and_fixed),
        cmocka_unit_test(test_int8_residual_and_constants),
        cmocka_unit_test(test_int8_nested_concat),
        cmocka_unit_test(test_int8_dead_channel_bias),
        cmocka_unit_test(test_calibrate_percentile),
        cmocka_unit_test(test_calibrate_search),
        cmocka_unit_test(test_calibrate_search_full),
        cmocka_unit_test(test_search_plan),
        cmocka_unit_test(test_int8_unsupported_op),
        cmocka_unit_test(test_dataset_npy),
        cmocka_unit_test(test_dataset_npz),
        cmocka_unit_test(test_dataset_directory),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
