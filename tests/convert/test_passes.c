/*
 * Graph passes (convert/passes/): each on a tiny hand-built graph with the
 * resulting ops, attributes and constant values checked exactly, the cases
 * a pass must leave alone, and the whole list run on a conv + BN + ReLU
 * model whose exported file computes the same outputs as the unfused one.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "convert/export/ir_export.h"
#include "convert/passes/passes.h"
#include "test_util.h"
#include "tools/lib/host_interp.h"

enum { ADD = 0, CONCATENATION = 2, CONV_2D = 3, DEPTHWISE_CONV_2D = 4,
       FULLY_CONNECTED = 9, MUL = 18, RELU = 19, RELU6 = 21, RESHAPE = 22,
       TANH = 28, TRANSPOSE = 39, SUB = 41 };

static int32_t find_tensor(const tml_ir_graph *g, const char *name)
{
    for (int32_t i = 0; i < g->ntensors; i++) {
        if (strcmp(g->tensors[i].name, name) == 0)
            return i;
    }
    fail_msg("no tensor '%s'", name);
    return -1;
}

static const float *fdata(const tml_ir_graph *g, int32_t t)
{
    assert_non_null(g->tensors[t].data);
    return (const float *)g->tensors[t].data;
}

static void assert_floats(const float *got, const float *want, int n)
{
    for (int i = 0; i < n; i++) {
        if (got[i] != want[i])
            fail_msg("element %d: %.9g, want %.9g", i, (double)got[i],
                     (double)want[i]);
    }
}

static tml_ir_attrs act_attrs(int act)
{
    tml_ir_attrs a = tml_ir_default_attrs();
    a.activation = act;
    return a;
}

/* input [1,2,2,1] -> CONV_2D 1x1 (2 filters) -> MUL [2] -> ADD [2] -> out */
static tml_ir_graph *conv_bn_graph(int with_bias)
{
    tml_ir_graph *g = tml_ir_new();
    int32_t x = tml_ir_add_tensor(g, "x", TML_FLOAT32, 4, (int32_t[]){1, 2, 2, 1});
    int32_t w = tml_ir_add_const(g, "w", TML_FLOAT32, 4, (int32_t[]){2, 1, 1, 1},
                                 (float[]){2.0f, 3.0f});
    int32_t b = tml_ir_add_const(g, "b", TML_FLOAT32, 1, (int32_t[]){2},
                                 (float[]){1.0f, -1.0f});
    int32_t c = tml_ir_add_tensor(g, "conv", TML_FLOAT32, 4, (int32_t[]){1, 2, 2, 2});
    int32_t s = tml_ir_add_const(g, "scale", TML_FLOAT32, 1, (int32_t[]){2},
                                 (float[]){0.5f, 4.0f});
    int32_t m = tml_ir_add_tensor(g, "bn_mul", TML_FLOAT32, 4, (int32_t[]){1, 2, 2, 2});
    int32_t o = tml_ir_add_const(g, "offset", TML_FLOAT32, 4, (int32_t[]){1, 1, 1, 2},
                                 (float[]){10.0f, 20.0f});
    int32_t y = tml_ir_add_tensor(g, "bn_add", TML_FLOAT32, 4, (int32_t[]){1, 2, 2, 2});
    tml_ir_add_op(g, CONV_2D, (int32_t[]){x, w, b}, with_bias ? 3 : 2, &c, 1,
                  NULL, "conv");
    tml_ir_add_op(g, MUL, (int32_t[]){s, c}, 2, &m, 1, NULL, "bn");
    tml_ir_add_op(g, ADD, (int32_t[]){m, o}, 2, &y, 1, NULL, "bn");
    tml_ir_add_input(g, x);
    tml_ir_add_output(g, y);
    return g;
}

/* ---- fold_batchnorm ---- */

static void test_fold_bn_into_conv(void **state)
{
    (void)state;
    tml_ir_graph *g = conv_bn_graph(1);
    assert_int_equal(tml_pass_fold_batchnorm(g), 0);
    assert_int_equal(g->nops, 1);
    assert_int_equal(g->ops[0].builtin, CONV_2D);
    assert_int_equal(g->ops[0].outputs[0], find_tensor(g, "bn_add"));
    assert_int_equal(g->outputs[0], find_tensor(g, "bn_add"));
    /* w * s, b * s + o */
    assert_floats(fdata(g, g->ops[0].inputs[1]), (float[]){1.0f, 12.0f}, 2);
    assert_floats(fdata(g, g->ops[0].inputs[2]), (float[]){10.5f, 16.0f}, 2);
    assert_int_equal(g->ntensors, 4);   /* x, w, b, bn_add */
    tml_ir_free(g);
}

static void test_fold_bn_creates_missing_bias(void **state)
{
    (void)state;
    tml_ir_graph *g = conv_bn_graph(0);
    assert_int_equal(tml_pass_fold_batchnorm(g), 0);
    assert_int_equal(g->nops, 1);
    assert_int_equal(g->ops[0].ninputs, 3);
    assert_floats(fdata(g, g->ops[0].inputs[2]), (float[]){10.0f, 20.0f}, 2);
    tml_ir_free(g);
}

/* The rounding is float32 per step, as TFLite's converter folds. */
static void test_fold_bn_rounding(void **state)
{
    (void)state;
    tml_ir_graph *g = conv_bn_graph(1);
    float w[2] = { 0.1f, 1.0f / 3.0f }, s[2] = { 0.7f, 1.0f / 7.0f };
    float o[2] = { 1e-3f, 123.456f }, b[2] = { 0.2f, -0.3f };
    tml_ir_set_data(g, find_tensor(g, "w"), TML_FLOAT32, w);
    tml_ir_set_data(g, find_tensor(g, "b"), TML_FLOAT32, b);
    tml_ir_set_data(g, find_tensor(g, "scale"), TML_FLOAT32, s);
    tml_ir_set_data(g, find_tensor(g, "offset"), TML_FLOAT32, o);
    assert_int_equal(tml_pass_fold_batchnorm(g), 0);
    volatile float w0 = w[0] * s[0], w1 = w[1] * s[1];
    volatile float b0 = b[0] * s[0], b1 = b[1] * s[1];
    volatile float c0 = b0 + o[0], c1 = b1 + o[1];
    assert_floats(fdata(g, g->ops[0].inputs[1]), (float[]){w0, w1}, 2);
    assert_floats(fdata(g, g->ops[0].inputs[2]), (float[]){c0, c1}, 2);
    tml_ir_free(g);
}

static void test_fold_bn_dense_and_depthwise_layouts(void **state)
{
    (void)state;
    /* FULLY_CONNECTED [out=2, in=3]: the channel leads. */
    tml_ir_graph *g = tml_ir_new();
    int32_t x = tml_ir_add_tensor(g, "x", TML_FLOAT32, 2, (int32_t[]){1, 3});
    int32_t w = tml_ir_add_const(g, "w", TML_FLOAT32, 2, (int32_t[]){2, 3},
                                 (float[]){1, 2, 3, 4, 5, 6});
    int32_t b = tml_ir_add_const(g, "b", TML_FLOAT32, 1, (int32_t[]){2},
                                 (float[]){1, 1});
    int32_t d = tml_ir_add_tensor(g, "d", TML_FLOAT32, 2, (int32_t[]){1, 2});
    int32_t s = tml_ir_add_const(g, "s", TML_FLOAT32, 1, (int32_t[]){2},
                                 (float[]){2, -1});
    int32_t y = tml_ir_add_tensor(g, "y", TML_FLOAT32, 2, (int32_t[]){1, 2});
    tml_ir_add_op(g, FULLY_CONNECTED, (int32_t[]){x, w, b}, 3, &d, 1, NULL, "fc");
    tml_ir_add_op(g, MUL, (int32_t[]){d, s}, 2, &y, 1, NULL, "bn");
    tml_ir_add_input(g, x);
    tml_ir_add_output(g, y);
    assert_int_equal(tml_pass_fold_batchnorm(g), 0);
    assert_int_equal(g->nops, 1);
    assert_floats(fdata(g, g->ops[0].inputs[1]),
                  (float[]){2, 4, 6, -4, -5, -6}, 6);
    assert_floats(fdata(g, g->ops[0].inputs[2]), (float[]){2, -1}, 2);
    tml_ir_free(g);

    /* DEPTHWISE_CONV_2D [1, 1, 2, C=3]: the channel trails; SUB of a
     * constant folds as a negative offset. */
    g = tml_ir_new();
    x = tml_ir_add_tensor(g, "x", TML_FLOAT32, 4, (int32_t[]){1, 1, 2, 3});
    w = tml_ir_add_const(g, "w", TML_FLOAT32, 4, (int32_t[]){1, 1, 2, 3},
                         (float[]){1, 2, 3, 4, 5, 6});
    b = tml_ir_add_const(g, "b", TML_FLOAT32, 1, (int32_t[]){3},
                         (float[]){0, 0, 0});
    d = tml_ir_add_tensor(g, "d", TML_FLOAT32, 4, (int32_t[]){1, 1, 1, 3});
    s = tml_ir_add_const(g, "s", TML_FLOAT32, 1, (int32_t[]){3},
                         (float[]){1, 10, 100});
    int32_t m = tml_ir_add_tensor(g, "m", TML_FLOAT32, 4, (int32_t[]){1, 1, 1, 3});
    int32_t o = tml_ir_add_const(g, "o", TML_FLOAT32, 1, (int32_t[]){3},
                                 (float[]){1, 2, 3});
    y = tml_ir_add_tensor(g, "y", TML_FLOAT32, 4, (int32_t[]){1, 1, 1, 3});
    tml_ir_add_op(g, DEPTHWISE_CONV_2D, (int32_t[]){x, w, b}, 3, &d, 1, NULL, "dw");
    tml_ir_add_op(g, MUL, (int32_t[]){d, s}, 2, &m, 1, NULL, "bn");
    tml_ir_add_op(g, SUB, (int32_t[]){m, o}, 2, &y, 1, NULL, "bn");
    tml_ir_add_input(g, x);
    tml_ir_add_output(g, y);
    assert_int_equal(tml_pass_fold_batchnorm(g), 0);
    assert_int_equal(g->nops, 1);
    assert_floats(fdata(g, g->ops[0].inputs[1]),
                  (float[]){1, 20, 300, 4, 50, 600}, 6);
    assert_floats(fdata(g, g->ops[0].inputs[2]), (float[]){-1, -2, -3}, 3);
    tml_ir_free(g);
}

static void test_fold_bn_leaves_alone(void **state)
{
    (void)state;
    /* The conv output has a second reader: nothing folds. */
    tml_ir_graph *g = conv_bn_graph(1);
    tml_ir_add_output(g, find_tensor(g, "conv"));
    assert_int_equal(tml_pass_fold_batchnorm(g), 0);
    assert_int_equal(g->nops, 3);
    assert_floats(fdata(g, find_tensor(g, "w")), (float[]){2.0f, 3.0f}, 2);
    tml_ir_free(g);

    /* The conv has a fused activation: the BN cannot move before it. */
    g = conv_bn_graph(1);
    g->ops[0].attrs.activation = TML_ACT_RELU;
    assert_int_equal(tml_pass_fold_batchnorm(g), 0);
    assert_int_equal(g->nops, 3);
    tml_ir_free(g);

    /* A lone BN (after the graph input) stays MUL + ADD. */
    g = tml_ir_new();
    int32_t x = tml_ir_add_tensor(g, "x", TML_FLOAT32, 2, (int32_t[]){1, 2});
    int32_t s = tml_ir_add_const(g, "s", TML_FLOAT32, 1, (int32_t[]){2},
                                 (float[]){2, 3});
    int32_t m = tml_ir_add_tensor(g, "m", TML_FLOAT32, 2, (int32_t[]){1, 2});
    int32_t o = tml_ir_add_const(g, "o", TML_FLOAT32, 1, (int32_t[]){2},
                                 (float[]){1, 1});
    int32_t y = tml_ir_add_tensor(g, "y", TML_FLOAT32, 2, (int32_t[]){1, 2});
    tml_ir_add_op(g, MUL, (int32_t[]){x, s}, 2, &m, 1, NULL, "bn");
    tml_ir_add_op(g, ADD, (int32_t[]){m, o}, 2, &y, 1, NULL, "bn");
    tml_ir_add_input(g, x);
    tml_ir_add_output(g, y);
    assert_int_equal(tml_pass_fold_batchnorm(g), 0);
    assert_int_equal(g->nops, 2);
    tml_ir_free(g);

    /* A MUL by a full-size tensor (not per channel) stays. */
    g = conv_bn_graph(1);
    int32_t big = tml_ir_add_const(g, "big", TML_FLOAT32, 4,
                                   (int32_t[]){1, 2, 2, 2},
                                   (float[]){1, 2, 3, 4, 5, 6, 7, 8});
    g->ops[1].inputs[0] = big;
    assert_int_equal(tml_pass_fold_batchnorm(g), 0);
    assert_int_equal(g->nops, 3);
    tml_ir_free(g);
}

/* An activation fused into the folded op moves to the producer, and the
 * folding stops there (nothing can follow an activation). */
static void test_fold_bn_takes_the_activation(void **state)
{
    (void)state;
    tml_ir_graph *g = conv_bn_graph(1);
    g->ops[1].attrs.activation = TML_ACT_RELU6;   /* the MUL */
    assert_int_equal(tml_pass_fold_batchnorm(g), 0);
    assert_int_equal(g->nops, 2);
    assert_int_equal(g->ops[0].builtin, CONV_2D);
    assert_int_equal(g->ops[0].attrs.activation, TML_ACT_RELU6);
    assert_int_equal(g->ops[0].outputs[0], find_tensor(g, "bn_mul"));
    assert_int_equal(g->ops[1].builtin, ADD);
    assert_floats(fdata(g, g->ops[0].inputs[1]), (float[]){1.0f, 12.0f}, 2);
    assert_floats(fdata(g, g->ops[0].inputs[2]), (float[]){0.5f, -4.0f}, 2);
    tml_ir_free(g);
}

/* Two convs share one weight tensor; only the one followed by BN changes. */
static void test_fold_bn_shared_weights_copied(void **state)
{
    (void)state;
    tml_ir_graph *g = conv_bn_graph(1);
    int32_t x = find_tensor(g, "x"), w = find_tensor(g, "w");
    int32_t b = find_tensor(g, "b");
    int32_t c2 = tml_ir_add_tensor(g, "conv2", TML_FLOAT32, 4,
                                   (int32_t[]){1, 2, 2, 2});
    tml_ir_add_op(g, CONV_2D, (int32_t[]){x, w, b}, 3, &c2, 1, NULL, "conv2");
    tml_ir_add_output(g, c2);
    assert_int_equal(tml_pass_fold_batchnorm(g), 0);
    assert_int_equal(g->nops, 2);
    assert_floats(fdata(g, g->ops[0].inputs[1]), (float[]){1.0f, 12.0f}, 2);
    assert_floats(fdata(g, g->ops[1].inputs[1]), (float[]){2.0f, 3.0f}, 2);
    assert_floats(fdata(g, g->ops[1].inputs[2]), (float[]){1.0f, -1.0f}, 2);
    tml_ir_free(g);
}

/* ---- fuse_activation ---- */

static void test_fuse_relu_into_conv_and_relu6_into_add(void **state)
{
    (void)state;
    tml_ir_graph *g = conv_bn_graph(1);
    int32_t y = find_tensor(g, "bn_add");
    int32_t r = tml_ir_add_tensor(g, "relu6", TML_FLOAT32, 4, (int32_t[]){1, 2, 2, 2});
    tml_ir_add_op(g, RELU6, &y, 1, &r, 1, NULL, "relu6");
    g->outputs[0] = r;
    assert_int_equal(tml_pass_fuse_activation(g), 0);
    assert_int_equal(g->nops, 3);
    assert_int_equal(g->ops[2].builtin, ADD);
    assert_int_equal(g->ops[2].attrs.activation, TML_ACT_RELU6);
    assert_int_equal(g->ops[2].outputs[0], find_tensor(g, "relu6"));
    assert_int_equal(g->outputs[0], find_tensor(g, "relu6"));
    tml_ir_free(g);

    g = tml_ir_new();
    int32_t x = tml_ir_add_tensor(g, "x", TML_FLOAT32, 2, (int32_t[]){1, 2});
    int32_t w = tml_ir_add_const(g, "w", TML_FLOAT32, 2, (int32_t[]){2, 2},
                                 (float[]){1, 0, 0, 1});
    int32_t d = tml_ir_add_tensor(g, "d", TML_FLOAT32, 2, (int32_t[]){1, 2});
    int32_t o = tml_ir_add_tensor(g, "o", TML_FLOAT32, 2, (int32_t[]){1, 2});
    tml_ir_add_op(g, FULLY_CONNECTED, (int32_t[]){x, w, -1}, 3, &d, 1, NULL, "fc");
    tml_ir_add_op(g, RELU, &d, 1, &o, 1, NULL, "relu");
    tml_ir_add_input(g, x);
    tml_ir_add_output(g, o);
    assert_int_equal(tml_pass_fuse_activation(g), 0);
    assert_int_equal(g->nops, 1);
    assert_int_equal(g->ops[0].attrs.activation, TML_ACT_RELU);
    assert_int_equal(g->ntensors, 3);
    tml_ir_free(g);
}

static void test_fuse_leaves_alone(void **state)
{
    (void)state;
    tml_ir_graph *g = tml_ir_new();
    int32_t a = tml_ir_add_tensor(g, "a", TML_FLOAT32, 2, (int32_t[]){1, 2});
    int32_t b = tml_ir_add_tensor(g, "b", TML_FLOAT32, 2, (int32_t[]){1, 2});
    int32_t cat = tml_ir_add_tensor(g, "cat", TML_FLOAT32, 2, (int32_t[]){1, 4});
    int32_t r1 = tml_ir_add_tensor(g, "r1", TML_FLOAT32, 2, (int32_t[]){1, 4});
    int32_t s = tml_ir_add_tensor(g, "sum", TML_FLOAT32, 2, (int32_t[]){1, 2});
    int32_t t = tml_ir_add_tensor(g, "tanh", TML_FLOAT32, 2, (int32_t[]){1, 2});
    int32_t m = tml_ir_add_tensor(g, "m", TML_FLOAT32, 2, (int32_t[]){1, 2});
    int32_t r2 = tml_ir_add_tensor(g, "r2", TML_FLOAT32, 2, (int32_t[]){1, 2});
    int32_t u = tml_ir_add_tensor(g, "u", TML_FLOAT32, 2, (int32_t[]){1, 2});
    int32_t r3 = tml_ir_add_tensor(g, "r3", TML_FLOAT32, 2, (int32_t[]){1, 2});
    tml_ir_attrs ax = tml_ir_default_attrs();
    ax.axis = 1;
    /* CONCATENATION -> RELU: TFLite Micro refuses a fused activation. */
    tml_ir_add_op(g, CONCATENATION, (int32_t[]){a, b}, 2, &cat, 1, &ax, "cat");
    tml_ir_add_op(g, RELU, &cat, 1, &r1, 1, NULL, "relu1");
    /* ADD -> TANH: TFLite does not fuse TANH. */
    tml_ir_add_op(g, ADD, (int32_t[]){a, b}, 2, &s, 1, NULL, "add");
    tml_ir_add_op(g, TANH, &s, 1, &t, 1, NULL, "tanh");
    /* MUL whose output is also a graph output. */
    tml_ir_add_op(g, MUL, (int32_t[]){a, b}, 2, &m, 1, NULL, "mul");
    tml_ir_add_op(g, RELU, &m, 1, &r2, 1, NULL, "relu2");
    /* SUB that already has an activation. */
    tml_ir_attrs a6 = act_attrs(TML_ACT_RELU6);
    tml_ir_add_op(g, SUB, (int32_t[]){a, b}, 2, &u, 1, &a6, "sub");
    tml_ir_add_op(g, RELU, &u, 1, &r3, 1, NULL, "relu3");
    tml_ir_add_input(g, a);
    tml_ir_add_input(g, b);
    tml_ir_add_output(g, r1);
    tml_ir_add_output(g, t);
    tml_ir_add_output(g, m);
    tml_ir_add_output(g, r2);
    tml_ir_add_output(g, r3);
    assert_int_equal(tml_pass_fuse_activation(g), 0);
    assert_int_equal(g->nops, 8);
    assert_int_equal(g->ops[0].attrs.activation, TML_ACT_NONE);
    assert_int_equal(g->ops[2].attrs.activation, TML_ACT_NONE);
    assert_int_equal(g->ops[4].attrs.activation, TML_ACT_NONE);
    assert_int_equal(g->ops[6].attrs.activation, TML_ACT_RELU6);
    tml_ir_free(g);
}

/* ---- drop_noops ---- */

static void test_drop_noops(void **state)
{
    (void)state;
    tml_ir_graph *g = tml_ir_new();
    int32_t x = tml_ir_add_tensor(g, "x", TML_FLOAT32, 2, (int32_t[]){2, 3});
    int32_t r = tml_ir_add_tensor(g, "same", TML_FLOAT32, 2, (int32_t[]){2, 3});
    int32_t one = tml_ir_add_const(g, "one", TML_FLOAT32, 1, (int32_t[]){1},
                                   (float[]){1.0f});
    int32_t m = tml_ir_add_tensor(g, "times1", TML_FLOAT32, 2, (int32_t[]){2, 3});
    int32_t perm = tml_ir_add_const(g, "perm", TML_INT32, 1, (int32_t[]){2},
                                    (int32_t[]){0, 1});
    int32_t t = tml_ir_add_tensor(g, "transposed", TML_FLOAT32, 2, (int32_t[]){2, 3});
    int32_t y = tml_ir_add_tensor(g, "relu", TML_FLOAT32, 2, (int32_t[]){2, 3});
    int32_t f = tml_ir_add_tensor(g, "flat", TML_FLOAT32, 2, (int32_t[]){1, 6});
    int32_t z = tml_ir_add_tensor(g, "out", TML_FLOAT32, 2, (int32_t[]){1, 6});
    tml_ir_add_op(g, RESHAPE, &x, 1, &r, 1, NULL, "reshape_same");
    tml_ir_add_op(g, MUL, (int32_t[]){one, r}, 2, &m, 1, NULL, "times_one");
    tml_ir_add_op(g, TRANSPOSE, (int32_t[]){m, perm}, 2, &t, 1, NULL, "transpose_id");
    tml_ir_add_op(g, RELU, &t, 1, &y, 1, NULL, "relu");
    tml_ir_add_op(g, RESHAPE, &y, 1, &f, 1, NULL, "flatten");     /* kept */
    tml_ir_add_op(g, RESHAPE, &f, 1, &z, 1, NULL, "reshape_out"); /* output */
    tml_ir_add_input(g, x);
    tml_ir_add_output(g, z);
    assert_int_equal(tml_pass_drop_noops(g), 0);
    assert_int_equal(g->nops, 2);
    assert_int_equal(g->ops[0].builtin, RELU);
    assert_int_equal(g->ops[0].inputs[0], find_tensor(g, "x"));
    assert_int_equal(g->ops[1].builtin, RESHAPE);
    assert_string_equal(g->ops[1].origin, "flatten");
    /* The graph output keeps its tensor; "flatten" now writes it. */
    assert_int_equal(g->ops[1].outputs[0], find_tensor(g, "out"));
    assert_int_equal(g->outputs[0], find_tensor(g, "out"));
    assert_int_equal(g->ntensors, 3);   /* x, relu, out */
    tml_ir_free(g);
}

/* x -> RESHAPE(same) -> output: nothing produces x, so the op stays. */
static void test_drop_noops_keeps_input_to_output(void **state)
{
    (void)state;
    tml_ir_graph *g = tml_ir_new();
    int32_t x = tml_ir_add_tensor(g, "x", TML_FLOAT32, 1, (int32_t[]){3});
    int32_t y = tml_ir_add_tensor(g, "y", TML_FLOAT32, 1, (int32_t[]){3});
    tml_ir_add_op(g, RESHAPE, &x, 1, &y, 1, NULL, "r");
    tml_ir_add_input(g, x);
    tml_ir_add_output(g, y);
    assert_int_equal(tml_pass_drop_noops(g), 0);
    assert_int_equal(g->nops, 1);
    tml_ir_free(g);
}

/* ---- fold_constants ---- */

static void test_fold_constants(void **state)
{
    (void)state;
    tml_ir_graph *g = tml_ir_new();
    int32_t x = tml_ir_add_tensor(g, "x", TML_FLOAT32, 2, (int32_t[]){3, 2});
    int32_t c = tml_ir_add_const(g, "c", TML_FLOAT32, 2, (int32_t[]){2, 3},
                                 (float[]){1, -2, 3, -4, 5, -6});
    int32_t perm = tml_ir_add_const(g, "perm", TML_INT32, 1, (int32_t[]){2},
                                    (int32_t[]){1, 0});
    int32_t ct = tml_ir_add_tensor(g, "ct", TML_FLOAT32, 2, (int32_t[]){3, 2});
    int32_t row = tml_ir_add_const(g, "row", TML_FLOAT32, 1, (int32_t[]){2},
                                   (float[]){10, 0.5f});
    int32_t sum = tml_ir_add_tensor(g, "sum", TML_FLOAT32, 2, (int32_t[]){3, 2});
    int32_t flat = tml_ir_add_tensor(g, "flat", TML_FLOAT32, 1, (int32_t[]){6});
    int32_t xf = tml_ir_add_tensor(g, "xf", TML_FLOAT32, 1, (int32_t[]){6});
    int32_t y = tml_ir_add_tensor(g, "y", TML_FLOAT32, 1, (int32_t[]){6});
    tml_ir_attrs relu = act_attrs(TML_ACT_RELU);
    tml_ir_add_op(g, TRANSPOSE, (int32_t[]){c, perm}, 2, &ct, 1, NULL, "t");
    tml_ir_add_op(g, SUB, (int32_t[]){ct, row}, 2, &sum, 1, &relu, "sub");
    tml_ir_add_op(g, RESHAPE, &sum, 1, &flat, 1, NULL, "r");
    tml_ir_add_op(g, RESHAPE, &x, 1, &xf, 1, NULL, "rx");   /* not constant */
    tml_ir_add_op(g, ADD, (int32_t[]){xf, flat}, 2, &y, 1, NULL, "add");
    tml_ir_add_input(g, x);
    tml_ir_add_output(g, y);
    assert_int_equal(tml_pass_fold_constants(g), 0);
    assert_int_equal(g->nops, 2);
    assert_int_equal(g->ops[0].builtin, RESHAPE);
    assert_int_equal(g->ops[1].builtin, ADD);
    int32_t f = find_tensor(g, "flat");
    assert_int_equal(g->ops[1].inputs[1], f);
    /* transpose [[1,-2,3],[-4,5,-6]] -> [[1,-4],[-2,5],[3,-6]];
     * minus [10, 0.5] with ReLU -> [0,0, 0,4.5, 0,0] */
    assert_floats(fdata(g, f), (float[]){0, 0, 0, 4.5f, 0, 0}, 6);
    assert_int_equal(g->tensors[f].bytes, 24);
    tml_ir_free(g);
}

/* A graph output stays computed by its op. */
static void test_fold_constants_keeps_graph_output(void **state)
{
    (void)state;
    tml_ir_graph *g = tml_ir_new();
    int32_t x = tml_ir_add_tensor(g, "x", TML_FLOAT32, 1, (int32_t[]){2});
    int32_t c = tml_ir_add_const(g, "c", TML_FLOAT32, 1, (int32_t[]){2},
                                 (float[]){1, 2});
    int32_t y = tml_ir_add_tensor(g, "y", TML_FLOAT32, 2, (int32_t[]){1, 2});
    int32_t z = tml_ir_add_tensor(g, "z", TML_FLOAT32, 1, (int32_t[]){2});
    tml_ir_add_op(g, RESHAPE, &c, 1, &y, 1, NULL, "r");
    tml_ir_add_op(g, RELU, &x, 1, &z, 1, NULL, "relu");
    tml_ir_add_input(g, x);
    tml_ir_add_output(g, y);
    tml_ir_add_output(g, z);
    assert_int_equal(tml_pass_fold_constants(g), 0);
    assert_int_equal(g->nops, 2);
    assert_null(g->tensors[find_tensor(g, "y")].data);
    tml_ir_free(g);
}

/* ---- the whole list, end to end through the runtime ---- */

static void run_graph(const tml_ir_graph *g, const float *x, size_t nx,
                      float *y, size_t ny)
{
    uint8_t *bytes;
    size_t n;
    char err[256] = "";
    if (tml_ir_export_tflite(g, &bytes, &n, err, sizeof err) != 0)
        fail_msg("%s", err);
    tml_host_interp h;
    if (tml_host_open_bytes(&h, bytes, n, "model", err, sizeof err) !=
        TML_HOST_OK)
        fail_msg("%s", err);
    assert_int_equal(tml_set_input(&h.it, 0, x, nx * sizeof(float)), TML_OK);
    assert_int_equal(tml_invoke(&h.it), TML_OK);
    assert_int_equal(tml_get_output(&h.it, 0, y, ny * sizeof(float)), TML_OK);
    tml_host_close(&h);
    free(bytes);
}

static void test_passes_run_end_to_end(void **state)
{
    (void)state;
    /* conv 3x3 (4 filters, SAME) -> BN -> RELU -> RESHAPE(same) -> out */
    tml_ir_graph *g = tml_ir_new();
    float w[4 * 9 * 2], s[4], o[4], b[4];
    for (int i = 0; i < 72; i++)
        w[i] = (float)((i * 13) % 17 - 8) / 7.0f;
    for (int i = 0; i < 4; i++) {
        s[i] = 0.3f + 0.37f * (float)i;
        o[i] = 0.11f * (float)i - 0.2f;
        b[i] = 0.05f * (float)i;
    }
    int32_t x = tml_ir_add_tensor(g, "x", TML_FLOAT32, 4, (int32_t[]){1, 5, 5, 2});
    int32_t wt = tml_ir_add_const(g, "w", TML_FLOAT32, 4, (int32_t[]){4, 3, 3, 2}, w);
    int32_t bt = tml_ir_add_const(g, "b", TML_FLOAT32, 1, (int32_t[]){4}, b);
    int32_t c = tml_ir_add_tensor(g, "conv", TML_FLOAT32, 4, (int32_t[]){1, 5, 5, 4});
    int32_t st = tml_ir_add_const(g, "s", TML_FLOAT32, 1, (int32_t[]){4}, s);
    int32_t m = tml_ir_add_tensor(g, "m", TML_FLOAT32, 4, (int32_t[]){1, 5, 5, 4});
    int32_t ot = tml_ir_add_const(g, "o", TML_FLOAT32, 1, (int32_t[]){4}, o);
    int32_t a = tml_ir_add_tensor(g, "a", TML_FLOAT32, 4, (int32_t[]){1, 5, 5, 4});
    int32_t r = tml_ir_add_tensor(g, "r", TML_FLOAT32, 4, (int32_t[]){1, 5, 5, 4});
    int32_t y = tml_ir_add_tensor(g, "y", TML_FLOAT32, 4, (int32_t[]){1, 5, 5, 4});
    tml_ir_attrs same = tml_ir_default_attrs();
    same.padding = TML_PAD_SAME;
    tml_ir_add_op(g, CONV_2D, (int32_t[]){x, wt, bt}, 3, &c, 1, &same, "conv");
    tml_ir_add_op(g, MUL, (int32_t[]){c, st}, 2, &m, 1, NULL, "bn");
    tml_ir_add_op(g, ADD, (int32_t[]){m, ot}, 2, &a, 1, NULL, "bn");
    tml_ir_add_op(g, RELU, &a, 1, &r, 1, NULL, "relu");
    tml_ir_add_op(g, RESHAPE, &r, 1, &y, 1, NULL, "reshape");
    tml_ir_add_input(g, x);
    tml_ir_add_output(g, y);

    float in[50], want[100], got[100];
    for (int i = 0; i < 50; i++)
        in[i] = (float)((i * 7) % 10) / 5.0f - 1.0f;
    run_graph(g, in, 50, want, 100);
    assert_int_equal(tml_passes_run(g), 0);
    assert_int_equal(g->nops, 1);
    assert_int_equal(g->ops[0].builtin, CONV_2D);
    assert_int_equal(g->ops[0].attrs.activation, TML_ACT_RELU);
    assert_int_equal(g->ntensors, 4);
    run_graph(g, in, 50, got, 100);
    /* The list is idempotent: a second run changes nothing. */
    uint8_t *once, *twice;
    size_t n1, n2;
    char err[256];
    assert_int_equal(tml_ir_export_tflite(g, &once, &n1, err, sizeof err), 0);
    assert_int_equal(tml_passes_run(g), 0);
    assert_int_equal(tml_ir_export_tflite(g, &twice, &n2, err, sizeof err), 0);
    assert_int_equal(n1, n2);
    assert_memory_equal(once, twice, n1);
    free(once);
    free(twice);
    float peak = 0.0f, diff = 0.0f;
    for (int i = 0; i < 100; i++) {
        peak = fmaxf(peak, fabsf(want[i]));
        diff = fmaxf(diff, fabsf(want[i] - got[i]));
    }
    assert_true(peak > 1.0f);
    if (diff > 1e-6f * peak)
        fail_msg("max diff %g (peak %g)", (double)diff, (double)peak);
    tml_ir_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold_bn_into_conv),
        cmocka_unit_test(test_fold_bn_creates_missing_bias),
        cmocka_unit_test(test_fold_bn_rounding),
        cmocka_unit_test(test_fold_bn_dense_and_depthwise_layouts),
        cmocka_unit_test(test_fold_bn_leaves_alone),
        cmocka_unit_test(test_fold_bn_takes_the_activation),
        cmocka_unit_test(test_fold_bn_shared_weights_copied),
        cmocka_unit_test(test_fuse_relu_into_conv_and_relu6_into_add),
        cmocka_unit_test(test_fuse_leaves_alone),
        cmocka_unit_test(test_drop_noops),
        cmocka_unit_test(test_drop_noops_keeps_input_to_output),
        cmocka_unit_test(test_fold_constants),
        cmocka_unit_test(test_fold_constants_keeps_graph_output),
        cmocka_unit_test(test_passes_run_end_to_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
