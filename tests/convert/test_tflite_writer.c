/*
 * The TFLite writer: exact bytes of the smallest model, a round trip
 * through the runtime's verifier (runtime/model.c), option tables read back
 * field by field, validation messages, determinism, and end-to-end runs
 * of one-op models through the public API (tests/util single-op helper).
 */
#define _GNU_SOURCE   /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "convert/export/tflite_writer.h"
#include "model.h"
#include "test_util.h"

static int32_t rd_i32(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

static float rd_f32(const uint8_t *p)
{
    float v;
    memcpy(&v, p, 4);
    return v;
}

/* The smallest model: no tensors, no operators.  Expected bytes are what
 * flatbuffers' Python Builder (2.0.8) writes for the same sequence of
 * calls; note the Model table sharing the SubGraph's vtable (soffset -50:
 * both have five offset-sized fields at the same places). */
/* Sharing on (the default): the two empty int vectors (subgraph inputs and
 * outputs) are one, so the file is 4 bytes shorter, and still loads. */
static void test_shared_vectors_shrink_the_file(void **state)
{
    (void)state;
    tml_tfl_writer *w = tml_tfl_writer_new(NULL);
    const uint8_t *bytes;
    size_t shared_n, plain_n;
    assert_int_equal(tml_tfl_finish(w, &bytes, &shared_n), 0);
    char msg[256];
    assert_int_equal(tml_verify(bytes, shared_n, msg, sizeof msg), TML_OK);
    tml_tfl_writer_free(w);
    w = tml_tfl_writer_new(NULL);
    tml_tfl_writer_share_vectors(w, 0);
    assert_int_equal(tml_tfl_finish(w, &bytes, &plain_n), 0);
    tml_tfl_writer_free(w);
    assert_int_equal(plain_n - shared_n, 4);
}

static void test_empty_model_exact_bytes(void **state)
{
    static const uint8_t want[] = {
        0x08, 0x00, 0x00, 0x00, 0x54, 0x46, 0x4c, 0x33, 0xce, 0xff, 0xff, 0xff,
        0x70, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00,
        0x14, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00,
        0x74, 0x69, 0x6e, 0x79, 0x6d, 0x6c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x00,
        0x18, 0x00, 0x14, 0x00, 0x10, 0x00, 0x0c, 0x00, 0x08, 0x00, 0x04, 0x00,
        0x0e, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x24, 0x00, 0x00, 0x00,
        0x18, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00,
        0x04, 0x00, 0x00, 0x00, 0x6d, 0x61, 0x69, 0x6e, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00,
        0x04, 0x00, 0x04, 0x00, 0x04, 0x00, 0x00, 0x00,
    };
    tml_tfl_writer *w = tml_tfl_writer_new(NULL);
    const uint8_t *bytes;
    size_t n;
    (void)state;
    assert_non_null(w);
    /* Byte-exact with the reference builder, which shares no vectors. */
    tml_tfl_writer_share_vectors(w, 0);
    assert_int_equal(tml_tfl_finish(w, &bytes, &n), 0);
    assert_int_equal(n, sizeof want);
    assert_memory_equal(bytes, want, n);
    tml_tfl_writer_free(w);
}

/* A two-op model with every feature the writer has. */
static const int8_t k_filter[2 * 1 * 1 * 3] = {1, -2, 3, -4, 5, -6};
static const int32_t k_bias[2] = {100, -200};
static const float k_wscales[2] = {0.25f, 0.5f};
static const float k_bscales[2] = {0.025f, 0.05f};

static int build_model(tml_tfl_writer *w)
{
    const int32_t in_dims[4] = {1, 2, 2, 3}, w_dims[4] = {2, 1, 1, 3};
    const int32_t b_dims[1] = {2}, out_dims[4] = {1, 2, 2, 2};
    const int32_t flat_dims[2] = {1, 8}, new_shape[2] = {1, 8};
    float s_in = 0.1f, s_out = 0.2f;
    int64_t z_in = -5, z_out = 3;
    tml_tfl_tensor t;
    tml_tfl_options conv, rs;
    int32_t x, wt, bt, y, z;

    memset(&t, 0, sizeof t);
    t = (tml_tfl_tensor){ .name = "x", .type = TML_INT8, .ndims = 4,
                          .dims = in_dims, .quant = {1, &s_in, &z_in, 0} };
    x = tml_tfl_add_tensor(w, &t);
    t = (tml_tfl_tensor){ .name = "w", .type = TML_INT8, .ndims = 4,
                          .dims = w_dims, .quant = {2, k_wscales, NULL, 0} };
    wt = tml_tfl_add_const_tensor(w, &t, k_filter, sizeof k_filter);
    t = (tml_tfl_tensor){ .name = "b", .type = TML_INT32, .ndims = 1,
                          .dims = b_dims, .quant = {2, k_bscales, NULL, 0} };
    bt = tml_tfl_add_const_tensor(w, &t, k_bias, sizeof k_bias);
    t = (tml_tfl_tensor){ .name = "y", .type = TML_INT8, .ndims = 4,
                          .dims = out_dims, .quant = {1, &s_out, &z_out, 0} };
    y = tml_tfl_add_tensor(w, &t);
    t.name = "z";
    t.ndims = 2;
    t.dims = flat_dims;
    z = tml_tfl_add_tensor(w, &t);
    conv = tml_tfl_conv2d_options(TML_PAD_VALID, 1, 2, TML_ACT_RELU6, 1, 3);
    rs = tml_tfl_reshape_options(new_shape, 2);
    if (x != 0 || wt != 1 || bt != 2 || y != 3 || z != 4)
        return -1;
    if (tml_tfl_add_op(w, 3, 3, (const int32_t[]){x, wt, bt}, 3,
                       (const int32_t[]){y}, 1, &conv) != 0 ||
        tml_tfl_add_op(w, 22, 1, (const int32_t[]){y, -1}, 2,
                       (const int32_t[]){z}, 1, &rs) != 1 ||
        /* A code past 127 (GELU is 150) and a repeated (code, version). */
        tml_tfl_add_op(w, 150, 1, (const int32_t[]){z}, 1,
                       (const int32_t[]){z}, 1, NULL) != 2 ||
        tml_tfl_add_op(w, 3, 3, (const int32_t[]){x, wt, bt}, 3,
                       (const int32_t[]){y}, 1, &conv) != 3)
        return -1;
    if (tml_tfl_set_inputs(w, &x, 1) != 0 ||
        tml_tfl_set_outputs(w, &z, 1) != 0 ||
        tml_tfl_set_description(w, "writer test") != 0)
        return -1;
    return 0;
}

static void test_round_trip_through_verifier(void **state)
{
    tml_tfl_writer *w = tml_tfl_writer_new(NULL);
    const uint8_t *bytes;
    const uint8_t *f;
    const int32_t *vec;
    size_t n;
    tml_model m;
    tml_model_tensor t;
    tml_model_op op;
    char err[256];
    (void)state;
    assert_int_equal(build_model(w), 0);
    assert_int_equal(tml_tfl_finish(w, &bytes, &n), 0);
    assert_int_equal(n % 16, 0);
    assert_int_equal(((uintptr_t)bytes) % 16, 0);
    assert_int_equal(tml_model_load(&m, bytes, n, err, sizeof err), TML_OK);

    assert_int_equal(m.ntensors, 5);
    assert_int_equal(m.nops, 4);
    assert_int_equal(m.nopcodes, 3);   /* (3,3), (22,1), (150,1) */
    assert_int_equal(m.nbuffers, 3);   /* sentinel, filter, bias */
    assert_string_equal(tml_model_description(&m), "writer test");
    assert_int_equal(m.ninputs, 1);
    assert_int_equal(tml_model_inputs(&m)[0], 0);
    assert_int_equal(tml_model_outputs(&m)[0], 4);

    tml_model_get_tensor(&m, 0, &t);
    assert_string_equal(t.name, "x");
    assert_int_equal(t.type, TML_INT8);
    assert_int_equal(t.ndims, 4);
    assert_int_equal(t.dims[3], 3);
    assert_null(t.data);
    assert_int_equal(t.nscales, 1);
    assert_true(t.scales[0] == 0.1f);
    assert_int_equal(t.zero_points[0], -5);

    tml_model_get_tensor(&m, 1, &t);
    assert_string_equal(t.name, "w");
    assert_int_equal(t.buffer, 1);
    assert_non_null(t.data);
    assert_int_equal(((uintptr_t)t.data) % 16, 0);  /* force_align 16 */
    assert_int_equal(t.data_size, sizeof k_filter);
    assert_memory_equal(t.data, k_filter, sizeof k_filter);
    assert_int_equal(t.nscales, 2);
    assert_true(t.scales[1] == 0.5f);
    assert_int_equal(t.zero_points[0], 0);
    assert_int_equal(t.zero_points[1], 0);
    assert_int_equal(t.quant_dim, 0);

    tml_model_get_tensor(&m, 2, &t);
    assert_int_equal(t.type, TML_INT32);
    assert_memory_equal(t.data, k_bias, sizeof k_bias);

    tml_model_get_op(&m, 0, &op);
    assert_int_equal(op.builtin, 3);
    assert_int_equal(op.version, 3);
    assert_int_equal(op.ninputs, 3);
    assert_int_equal(op.inputs[2], 2);
    assert_int_equal(op.options_type, TML_OPT_CONV_2D);
    f = tml_model_table_field(&m, op.options, TML_F_CONV_PADDING, 1);
    assert_non_null(f);
    assert_int_equal(f[0], TML_PAD_VALID);
    assert_int_equal(rd_i32(tml_model_table_field(&m, op.options,
                                                  TML_F_CONV_STRIDE_W, 4)), 1);
    assert_int_equal(rd_i32(tml_model_table_field(&m, op.options,
                                                  TML_F_CONV_STRIDE_H, 4)), 2);
    assert_int_equal(*tml_model_table_field(&m, op.options,
                                            TML_F_CONV_ACTIVATION, 1),
                     TML_ACT_RELU6);
    /* Defaults are left out: dilation_w 1 is absent, dilation_h 3 set. */
    assert_null(tml_model_table_field(&m, op.options, TML_F_CONV_DILATION_W,
                                      4));
    assert_int_equal(rd_i32(tml_model_table_field(
                         &m, op.options, TML_F_CONV_DILATION_H, 4)), 3);

    tml_model_get_op(&m, 1, &op);
    assert_int_equal(op.builtin, 22);
    assert_int_equal(op.inputs[1], -1);
    assert_int_equal(op.options_type, TML_OPT_RESHAPE);
    assert_int_equal(tml_model_table_int_vector(&m, op.options,
                                                TML_F_RESHAPE_NEW_SHAPE, &vec),
                     2);
    assert_int_equal(vec[0], 1);
    assert_int_equal(vec[1], 8);

    tml_model_get_op(&m, 2, &op);
    assert_int_equal(op.builtin, 150);
    assert_int_equal(op.options_type, 0);
    assert_int_equal(op.options, 0);
    tml_tfl_writer_free(w);
}

/* OperatorCode keeps both fields: deprecated = min(code, 127). */
static void test_opcode_fields(void **state)
{
    tml_tfl_writer *w = tml_tfl_writer_new(NULL);
    const uint8_t *bytes;
    size_t n;
    tml_model m;
    char err[256];
    uint32_t codes, oc;
    int k;
    static const int32_t want_dep[3] = {3, 22, 127};
    static const int32_t want_code[3] = {3, 22, 150};
    (void)state;
    assert_int_equal(build_model(w), 0);
    assert_int_equal(tml_tfl_finish(w, &bytes, &n), 0);
    assert_int_equal(tml_model_load(&m, bytes, n, err, sizeof err), TML_OK);
    codes = m.opcodes;
    for (k = 0; k < 3; k++) {
        const uint8_t *dep, *code;
        /* m.opcodes is the first element of the vector of uoffsets */
        oc = codes + 4 * (uint32_t)k;
        oc += (uint32_t)rd_i32(bytes + oc);
        dep = tml_model_table_field(&m, oc, TML_F_OPCODE_DEPRECATED_BUILTIN,
                                    1);
        code = tml_model_table_field(&m, oc, TML_F_OPCODE_BUILTIN, 4);
        assert_non_null(dep);
        assert_non_null(code);
        assert_int_equal((int8_t)dep[0], want_dep[k]);
        assert_int_equal(rd_i32(code), want_code[k]);
    }
    tml_tfl_writer_free(w);
}

static void test_deterministic(void **state)
{
    tml_tfl_writer *a = tml_tfl_writer_new(NULL);
    tml_tfl_writer *b = tml_tfl_writer_new(NULL);
    const uint8_t *ba, *bb;
    size_t na, nb;
    (void)state;
    assert_int_equal(build_model(a), 0);
    assert_int_equal(build_model(b), 0);
    assert_int_equal(tml_tfl_finish(a, &ba, &na), 0);
    assert_int_equal(tml_tfl_finish(b, &bb, &nb), 0);
    assert_int_equal(na, nb);
    assert_memory_equal(ba, bb, na);
    tml_tfl_writer_free(a);
    tml_tfl_writer_free(b);
}

static void test_option_helpers(void **state)
{
    const int32_t sq[2] = {1, 2};
    tml_tfl_options o;
    (void)state;
    o = tml_tfl_depthwise_options(TML_PAD_SAME, 2, 2, 1, TML_ACT_RELU, 1, 1);
    assert_int_equal(o.type, TML_OPT_DEPTHWISE_CONV_2D);
    assert_int_equal(o.nfields, 7);
    assert_int_equal(o.fields[3].id, TML_F_DW_DEPTH_MULTIPLIER);
    assert_int_equal(o.fields[3].i, 1);
    o = tml_tfl_add_options(TML_ACT_NONE);
    assert_int_equal(o.type, TML_OPT_ADD);
    o = tml_tfl_softmax_options(1.0f);
    assert_int_equal(o.fields[0].kind, TML_TFL_FIELD_F32);
    assert_true(o.fields[0].f == 1.0f);
    o = tml_tfl_squeeze_options(sq, 2);
    assert_int_equal(o.type, TML_OPT_SQUEEZE);
    assert_int_equal(o.fields[0].count, 2);
    o = tml_tfl_squeeze_options(sq, TML_TFL_MAX_OPT_INTS + 1);
    assert_int_equal(o.type, 0xff);     /* rejected by tml_tfl_add_op */
    o = tml_tfl_reshape_options(NULL, -1);
    assert_int_equal(o.type, TML_OPT_RESHAPE);
    assert_int_equal(o.nfields, 0);
    o = tml_tfl_empty_options(TML_OPT_PAD);
    assert_int_equal(o.type, TML_OPT_PAD);
    assert_int_equal(o.nfields, 0);
}

/* Option values read back through the interpreter's own accessors. */
static void test_softmax_and_leaky_options_in_file(void **state)
{
    tml_tfl_writer *w = tml_tfl_writer_new(NULL);
    const int32_t dims[2] = {1, 4};
    tml_tfl_tensor t = { .name = "a", .type = TML_FLOAT32, .ndims = 2,
                         .dims = dims };
    tml_tfl_options sm = tml_tfl_softmax_options(0.5f);
    tml_tfl_options lr = tml_tfl_leaky_relu_options(0.125f);
    const uint8_t *bytes;
    size_t n;
    tml_model m;
    tml_model_op op;
    char err[256];
    (void)state;
    assert_int_equal(tml_tfl_add_tensor(w, &t), 0);
    assert_int_equal(tml_tfl_add_tensor(w, &t), 1);
    assert_int_equal(tml_tfl_add_tensor(w, &t), 2);
    assert_int_equal(tml_tfl_add_op(w, 25, 1, (const int32_t[]){0}, 1,
                                    (const int32_t[]){1}, 1, &sm), 0);
    assert_int_equal(tml_tfl_add_op(w, 98, 1, (const int32_t[]){1}, 1,
                                    (const int32_t[]){2}, 1, &lr), 1);
    assert_int_equal(tml_tfl_finish(w, &bytes, &n), 0);
    assert_int_equal(tml_model_load(&m, bytes, n, err, sizeof err), TML_OK);
    tml_model_get_op(&m, 0, &op);
    assert_int_equal(op.options_type, TML_OPT_SOFTMAX);
    assert_true(rd_f32(tml_model_table_field(&m, op.options,
                                             TML_F_SOFTMAX_BETA, 4)) == 0.5f);
    tml_model_get_op(&m, 1, &op);
    assert_int_equal(op.options_type, TML_OPT_LEAKY_RELU);
    assert_true(rd_f32(tml_model_table_field(&m, op.options,
                                             TML_F_LEAKY_RELU_ALPHA, 4)) ==
                0.125f);
    tml_tfl_writer_free(w);
}

/* CUSTOM ops: named OperatorCodes shared per (name, version), options
 * bytes kept as given. */
static void test_custom_op(void **state)
{
    tml_tfl_writer *w = tml_tfl_writer_new(NULL);
    const int32_t dims[1] = {4};
    tml_tfl_tensor t = { .name = "a", .type = TML_FLOAT32, .ndims = 1,
                         .dims = dims };
    static const uint8_t opts[3] = {7, 8, 9};
    const uint8_t *bytes;
    size_t n;
    tml_model m;
    tml_model_op op;
    char err[256];
    (void)state;
    assert_int_equal(tml_tfl_add_tensor(w, &t), 0);
    assert_int_equal(tml_tfl_add_tensor(w, &t), 1);
    assert_int_equal(tml_tfl_add_custom_op(w, "MyOp", 1, (const int32_t[]){0},
                                           1, (const int32_t[]){1}, 1, opts,
                                           sizeof opts), 0);
    assert_int_equal(tml_tfl_add_custom_op(w, "MyOp", 1, (const int32_t[]){1},
                                           1, (const int32_t[]){0}, 1, NULL,
                                           0), 1);
    assert_int_equal(tml_tfl_add_custom_op(w, "Other", 1,
                                           (const int32_t[]){1}, 1,
                                           (const int32_t[]){0}, 1, NULL, 0),
                     2);
    assert_int_equal(tml_tfl_set_subgraph_name(w, "serving"), 0);
    assert_int_equal(tml_tfl_finish(w, &bytes, &n), 0);
    assert_int_equal(tml_model_load(&m, bytes, n, err, sizeof err), TML_OK);
    assert_int_equal(m.nopcodes, 2);
    tml_model_get_op(&m, 0, &op);
    assert_int_equal(op.builtin, 32);
    assert_string_equal(op.custom_name, "MyOp");
    tml_model_get_op(&m, 2, &op);
    assert_string_equal(op.custom_name, "Other");
    /* The options bytes follow their uint32 length somewhere in the file,
     * and so does the subgraph name. */
    assert_non_null(memmem(bytes, n, "\x03\0\0\0\x07\x08\x09", 7));
    assert_non_null(memmem(bytes, n, "\x07\0\0\0serving\0", 12));
    tml_tfl_writer_free(w);

    w = tml_tfl_writer_new(NULL);
    assert_int_equal(tml_tfl_add_tensor(w, &t), 0);
    assert_int_equal(tml_tfl_add_op(w, 32, 1, (const int32_t[]){0}, 1,
                                    (const int32_t[]){0}, 1, NULL), -1);
    assert_string_equal(tml_tfl_error(w), "builtin 32 (CUSTOM) needs a name: "
                        "use tml_tfl_add_custom_op");
    tml_tfl_writer_free(w);
}

static void test_validation_messages(void **state)
{
    const int32_t dims[2] = {2, 3};
    const int8_t six[6] = {0};
    const float scales[3] = {1, 1, 1};
    tml_tfl_tensor t = { .name = "k", .type = TML_INT8, .ndims = 2,
                         .dims = dims };
    tml_tfl_writer *w;
    const uint8_t *bytes;
    size_t n;
    (void)state;

    w = tml_tfl_writer_new(NULL);
    assert_int_equal(tml_tfl_add_const_tensor(w, &t, six, 5), -1);
    assert_string_equal(tml_tfl_error(w),
                        "tensor 0 'k': buffer 1 has 5 bytes, the tensor "
                        "needs 6");
    /* The writer refuses further work after an error. */
    assert_int_equal(tml_tfl_finish(w, &bytes, &n), -1);
    tml_tfl_writer_free(w);

    w = tml_tfl_writer_new(NULL);
    t.buffer = 7;
    assert_int_equal(tml_tfl_add_tensor(w, &t), -1);
    assert_string_equal(tml_tfl_error(w),
                        "tensor 0 'k': buffer 7 out of range (1 buffers)");
    tml_tfl_writer_free(w);

    w = tml_tfl_writer_new(NULL);
    t.buffer = 0;
    t.quant = (tml_tfl_quant){3, scales, NULL, 0};
    assert_int_equal(tml_tfl_add_tensor(w, &t), -1);
    assert_string_equal(tml_tfl_error(w),
                        "tensor 0 'k': 3 scales but dimension 0 has 2 "
                        "channels");
    tml_tfl_writer_free(w);

    w = tml_tfl_writer_new(NULL);
    t.quant = (tml_tfl_quant){3, scales, NULL, 1};
    assert_int_equal(tml_tfl_add_tensor(w, &t), 0);
    assert_int_equal(tml_tfl_add_op(w, 0, 1, (const int32_t[]){0, 1}, 2,
                                    (const int32_t[]){0}, 1, NULL), -1);
    assert_string_equal(tml_tfl_error(w),
                        "operator 0: input 1 is tensor 1, out of range "
                        "(1 tensors)");
    tml_tfl_writer_free(w);

    w = tml_tfl_writer_new(NULL);
    assert_int_equal(tml_tfl_add_tensor(w, &t), 0);
    assert_int_equal(tml_tfl_add_op(w, 0, 0, (const int32_t[]){0}, 1,
                                    (const int32_t[]){0}, 1, NULL), -1);
    assert_string_equal(tml_tfl_error(w), "builtin 0: version 0 < 1");
    tml_tfl_writer_free(w);

    w = tml_tfl_writer_new(NULL);
    assert_int_equal(tml_tfl_set_outputs(w, (const int32_t[]){0}, 1), -1);
    assert_string_equal(tml_tfl_error(w),
                        "subgraph output 0: tensor 0 out of range (0 "
                        "tensors)");
    tml_tfl_writer_free(w);

    w = tml_tfl_writer_new(NULL);
    assert_int_equal(tml_tfl_finish(w, &bytes, &n), 0);
    assert_int_equal(tml_tfl_add_buffer(w, six, 6), -1);
    assert_string_equal(tml_tfl_error(w), "the model is already finished");
    tml_tfl_writer_free(w);
}

/* ---- end to end through the public API with the single-op helper ---- */

/* int8 ADD, same scales in and out: y = x1 + x2 - zp adjustments. */
static void test_single_op_add_int8_runs(void **state)
{
    tml_test_op op = {
        .builtin = 0,
        .options = tml_tfl_add_options(TML_ACT_NONE),
        .ninputs = 2,
        .inputs = {
            { .type = TML_INT8, .ndims = 2, .dims = {1, 4}, .scale = 0.5f },
            { .type = TML_INT8, .ndims = 2, .dims = {1, 4}, .scale = 0.5f },
        },
        .noutputs = 1,
        .outputs = { { .type = TML_INT8, .ndims = 2, .dims = {1, 4},
                       .scale = 0.5f } },
    };
    const int8_t a[4] = {1, 2, -3, 100};
    const int8_t b[4] = {10, -20, 30, 100};
    int8_t y[4] = {0};
    char err[256] = "";
    tml_status s;
    (void)state;
    s = tml_test_run_single_op(&op, (const void *[]){a, b}, (void *[]){y},
                               err, sizeof err);
    assert_string_equal(err, "");
    assert_int_equal(s, TML_OK);
    /* Real values add exactly here; 200 saturates to 127. */
    assert_int_equal(y[0], 11);
    assert_int_equal(y[1], -18);
    assert_int_equal(y[2], 27);
    assert_int_equal(y[3], 127);
}

/* float FULLY_CONNECTED with constant weights and bias:
 * y = W x + b with W = [[1,2],[3,4],[5,6]], b = [0.5, -1, 2]. */
static void test_single_op_fc_float_constants(void **state)
{
    static const float wts[6] = {1, 2, 3, 4, 5, 6};
    static const float bias[3] = {0.5f, -1, 2};
    tml_test_op op = {
        .builtin = 9,
        .options = tml_tfl_fully_connected_options(TML_ACT_NONE, 0),
        .ninputs = 3,
        .inputs = {
            { .type = TML_FLOAT32, .ndims = 2, .dims = {1, 2} },
            { .type = TML_FLOAT32, .ndims = 2, .dims = {3, 2}, .data = wts },
            { .type = TML_FLOAT32, .ndims = 1, .dims = {3}, .data = bias },
        },
        .noutputs = 1,
        .outputs = { { .type = TML_FLOAT32, .ndims = 2, .dims = {1, 3} } },
    };
    const float x[2] = {1.0f, -2.0f};
    float y[3];
    char err[256] = "";
    (void)state;
    assert_int_equal(tml_test_run_single_op(&op, (const void *[]){x},
                                            (void *[]){y}, err, sizeof err),
                     TML_OK);
    assert_true(y[0] == -2.5f);   /* 1 - 4 + 0.5 */
    assert_true(y[1] == -6.0f);   /* 3 - 8 - 1 */
    assert_true(y[2] == -5.0f);   /* 5 - 12 + 2 */
}

/* An optional input left out (.absent): FULLY_CONNECTED without bias. */
static void test_single_op_absent_bias(void **state)
{
    static const float wts[4] = {1, -1, 2, 0.5f};
    tml_test_op op = {
        .builtin = 9,
        .options = tml_tfl_fully_connected_options(TML_ACT_RELU, 0),
        .ninputs = 3,
        .inputs = {
            { .type = TML_FLOAT32, .ndims = 2, .dims = {1, 2} },
            { .type = TML_FLOAT32, .ndims = 2, .dims = {2, 2}, .data = wts },
            { .absent = 1 },
        },
        .noutputs = 1,
        .outputs = { { .type = TML_FLOAT32, .ndims = 2, .dims = {1, 2} } },
    };
    const float x[2] = {3.0f, 4.0f};
    float y[2];
    tml_test_runner r;
    tml_op_info info;
    (void)state;
    assert_int_equal(tml_test_runner_open(&r, &op, 0), TML_OK);
    assert_int_equal(tml_op_details(&r.it, 0, &info), TML_OK);
    assert_int_equal(info.ninputs, 3);
    assert_int_equal(info.inputs[2], -1);
    assert_int_equal(tml_set_input(&r.it, 0, x, sizeof x), TML_OK);
    assert_int_equal(tml_invoke(&r.it), TML_OK);
    assert_int_equal(tml_get_output(&r.it, 0, y, sizeof y), TML_OK);
    assert_true(y[0] == 0.0f);    /* relu(3 - 4) */
    assert_true(y[1] == 8.0f);    /* 6 + 2 */
    tml_test_runner_close(&r);
}

/* The runner exposes create/allocate errors, and build errors. */
static void test_runner_reports_errors(void **state)
{
    tml_test_op op = {
        .builtin = 0,
        .ninputs = 2,
        .inputs = {
            { .type = TML_INT8, .ndims = 2, .dims = {1, 4}, .scale = 0.5f },
            { .type = TML_INT8, .ndims = 2, .dims = {1, 4}, .scale = 0.5f },
        },
        .noutputs = 1,
        .outputs = { { .type = TML_INT8, .ndims = 2, .dims = {1, 4},
                       .scale = 0.5f } },
    };
    tml_test_runner r;
    (void)state;
    /* An int8 per-channel spec whose count does not match the dim. */
    op.inputs[1].channels = 3;
    op.inputs[1].scales = (const float[]){1, 1, 1};
    op.inputs[1].quant_dim = 1;
    assert_int_equal(tml_test_runner_open(&r, &op, 0), TML_ERROR_ARGUMENT);
    assert_string_equal(tml_test_runner_error(&r),
                        "building the model: tensor 1 'input1': 3 scales "
                        "but dimension 1 has 4 channels");
    tml_test_runner_close(&r);

    /* An op the runtime does not run fails in tml_create. */
    op.inputs[1].channels = 0;
    op.builtin = 150;
    assert_int_equal(tml_test_runner_open(&r, &op, 0), TML_ERROR_UNSUPPORTED);
    assert_string_equal(tml_test_runner_error(&r),
                        "operator 0: op GELU (builtin 150) version 1 is not "
                        "supported");
    tml_test_runner_close(&r);
}

/* `--write FILE`: write build_model() plus a custom op, for the Python
 * cross-check in test_writer_python.sh, instead of running the tests. */
static int write_features_model(const char *path)
{
    tml_tfl_writer *w = tml_tfl_writer_new(NULL);
    const uint8_t *bytes;
    size_t n;
    FILE *f;
    int ok;
    static const uint8_t custom[3] = {7, 8, 9};
    if (!w || build_model(w) != 0 ||
        tml_tfl_add_custom_op(w, "MyOp", 2, (const int32_t[]){4}, 1,
                              (const int32_t[]){4}, 1, custom,
                              sizeof custom) != 4 ||
        tml_tfl_finish(w, &bytes, &n) != 0) {
        fprintf(stderr, "write: %s\n", w ? tml_tfl_error(w) : "no memory");
        tml_tfl_writer_free(w);
        return 1;
    }
    f = fopen(path, "wb");
    ok = f && fwrite(bytes, 1, n, f) == n;
    if (f && fclose(f) != 0)
        ok = 0;
    tml_tfl_writer_free(w);
    if (!ok)
        fprintf(stderr, "write: cannot write %s\n", path);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write") == 0)
        return write_features_model(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_model_exact_bytes),
        cmocka_unit_test(test_shared_vectors_shrink_the_file),
        cmocka_unit_test(test_round_trip_through_verifier),
        cmocka_unit_test(test_opcode_fields),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_option_helpers),
        cmocka_unit_test(test_softmax_and_leaky_options_in_file),
        cmocka_unit_test(test_custom_op),
        cmocka_unit_test(test_validation_messages),
        cmocka_unit_test(test_single_op_add_int8_runs),
        cmocka_unit_test(test_single_op_fc_float_constants),
        cmocka_unit_test(test_single_op_absent_bias),
        cmocka_unit_test(test_runner_reports_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
