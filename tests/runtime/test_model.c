/*
 * The flatbuffer verifier and model view (runtime/model.c) on the real
 * MLPerf Tiny models, and on hand-corrupted copies of kws_ref_model with
 * the exact error line each must give.
 *
 * Expected counts and values were read from the files independently with
 * the Python flatbuffers package (and /work/shared/goldens/ manifests).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "convert/export/fb_builder.h"
#include "fb.h"
#include "model.h"
#include "schema.h"
#include "test_util.h"

#define KWS "models/mlperf-tiny/kws_ref_model.tflite"

/* ---- helpers: load, navigate and patch a model file ---- */

static uint8_t *load(const char *rel, size_t *size)
{
    uint8_t *buf = tml_test_read_shared(rel, size);
    if (!buf) {
        fprintf(stderr, "missing %s/%s\n", tml_test_shared_dir(), rel);
        skip();
    }
    return buf;
}

static tml_fb fb_over(const uint8_t *buf, size_t size)
{
    tml_fb fb = { buf, (uint32_t)size, 0 };
    return fb;
}

static uint32_t root_of(const uint8_t *buf)
{
    return tml_fb_u32(buf);
}

/* Element i of the vector-of-tables field of a table. */
static uint32_t elem_table(tml_fb *fb, uint32_t table, int field, uint32_t i)
{
    uint32_t n, data, t;
    assert_int_equal(tml_fb_field_vector(fb, table, field, 4, 4, &n, &data),
                     TML_FB_OK);
    assert_true(i < n);
    assert_int_equal(tml_fb_vector_table(fb, data, i, &t), TML_FB_OK);
    return t;
}

/* File offset of the length word of a vector field. */
static uint32_t vec_ref(tml_fb *fb, uint32_t table, int field)
{
    uint32_t ref;
    assert_int_equal(tml_fb_field_ref(fb, table, field, &ref), TML_FB_OK);
    assert_true(ref != 0);
    return ref;
}

/* File offset of element i of a vector field. */
static uint32_t vec_elem(tml_fb *fb, uint32_t table, int field,
                         uint32_t esize, uint32_t i)
{
    uint32_t ref = vec_ref(fb, table, field);
    assert_true(i < tml_fb_u32(fb->base + ref));
    return ref + 4 + esize * i;
}

/* File offset of a scalar field that must be present. */
static uint32_t field_at(tml_fb *fb, uint32_t table, int field, uint32_t size)
{
    uint32_t pos;
    assert_int_equal(tml_fb_field(fb, table, field, size, &pos), TML_FB_OK);
    assert_true(pos != 0);
    return pos;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t subgraph0(tml_fb *fb)
{
    return elem_table(fb, root_of(fb->base), TML_F_MODEL_SUBGRAPHS, 0);
}

static uint32_t tensor_table(tml_fb *fb, uint32_t i)
{
    return elem_table(fb, subgraph0(fb), TML_F_SUBGRAPH_TENSORS, i);
}

static uint32_t op_table(tml_fb *fb, uint32_t i)
{
    return elem_table(fb, subgraph0(fb), TML_F_SUBGRAPH_OPERATORS, i);
}

/* Loads buf and expects failure `status` with exactly `msg`. */
static void expect_error(const uint8_t *buf, size_t size, tml_status status,
                         const char *msg)
{
    tml_model m;
    char err[TML_ERROR_SIZE];
    memset(err, 'x', sizeof err);
    assert_int_equal(tml_model_load(&m, buf, size, err, sizeof err), status);
    assert_string_equal(err, msg);
    /* A failed load leaves no half-filled view behind. */
    assert_null(m.base);
    assert_int_equal(m.ntensors, 0);
}

static void load_ok(tml_model *m, const uint8_t *buf, size_t size)
{
    char err[TML_ERROR_SIZE];
    tml_status st = tml_model_load(m, buf, size, err, sizeof err);
    if (st != TML_OK)
        fprintf(stderr, "load failed: %s\n", err);
    assert_int_equal(st, TML_OK);
    assert_string_equal(err, "");
}

/* ---- the real models ---- */

typedef struct expect {
    const char *file;
    int32_t ntensors, nops, nbuffers, nopcodes, nconst;
    uint32_t const_bytes;
    int32_t op0_builtin, op0_in[3], op0_out;
    int32_t last_builtin, last_in, last_out;
    int32_t in_dtype;
    const char *in_name;
    int32_t in_ndims, in_dims[4];
    float in_scale;
    int64_t in_zp;
    const char *out_name;
    int32_t out_ndims, out_dims[2];
} expect;

static const expect k_models[] = {
    { "ad01_fp32.tflite", 31, 10, 33, 1, 20, 1063456, 9, { 0, 11, 1 }, 21,
      9, 29, 30, TML_FLOAT32, "input_1", 2, { 1, 640 }, 0.0f, 0,
      "Identity", 2, { 1, 640 } },
    { "ad01_int8.tflite", 31, 10, 33, 1, 20, 270880, 9, { 0, 11, 1 }, 21,
      9, 29, 30, TML_INT8, "input_1", 2, { 1, 640 }, 0.3910152316093445f, 89,
      "Identity", 2, { 1, 640 } },
    { "kws_ref_model.tflite", 35, 13, 37, 6, 21, 24376, 3, { 0, 17, 3 }, 22,
      25, 33, 34, TML_INT8, "input_1", 4, { 1, 49, 10, 1 },
      0.5847029089927673f, 83, "Identity", 2, { 1, 12 } },
    { "kws_ref_model_float32.tflite", 35, 13, 37, 6, 21, 33592, 3,
      { 0, 17, 3 }, 22, 25, 33, 34, TML_FLOAT32, "input_1", 4,
      { 1, 49, 10, 1 }, 0.0f, 0, "Identity", 2, { 1, 12 } },
    { "pretrainedResnet.tflite", 38, 16, 40, 6, 21, 310832, 3, { 0, 8, 3 },
      22, 25, 36, 37, TML_FLOAT32, "input_1", 4, { 1, 32, 32, 3 }, 0.0f, 0,
      "Identity", 2, { 1, 10 } },
    { "pretrainedResnet_quant.tflite", 38, 16, 40, 8, 21, 78752, 3,
      { 0, 8, 3 }, 22, 25, 36, 37, TML_INT8, "input_1_int8", 4,
      { 1, 32, 32, 3 }, 1.0f, -128, "Identity_int8", 2, { 1, 10 } },
    { "vww_96_float.tflite", 89, 31, 91, 6, 57, 843408, 3, { 0, 44, 3 }, 58,
      25, 87, 88, TML_FLOAT32, "input_1", 4, { 1, 96, 96, 3 }, 0.0f, 0,
      "Identity", 2, { 1, 2 } },
    { "vww_96_int8.tflite", 89, 31, 91, 8, 57, 219072, 3, { 0, 44, 3 }, 58,
      25, 87, 88, TML_INT8, "input_1_int8", 4, { 1, 96, 96, 3 },
      0.003921568859368563f, -128, "Identity_int8", 2, { 1, 2 } },
};

static void check_model(const expect *e)
{
    char rel[256];
    size_t size;
    tml_model m;
    tml_model_tensor t;
    tml_model_op op;

    snprintf(rel, sizeof rel, "models/mlperf-tiny/%s", e->file);
    uint8_t *buf = load(rel, &size);
    load_ok(&m, buf, size);
    assert_ptr_equal(m.base, buf);
    assert_int_equal(m.size, size);
    assert_int_equal(m.version, 3);
    assert_int_equal(m.ntensors, e->ntensors);
    assert_int_equal(m.nops, e->nops);
    assert_int_equal(m.nbuffers, e->nbuffers);
    assert_int_equal(m.nopcodes, e->nopcodes);
    assert_int_equal(m.ninputs, 1);
    assert_int_equal(m.noutputs, 1);
    assert_string_equal(tml_model_description(&m), "MLIR Converted.");

    /* Constant tensors: data inside the file, exactly shape x dtype. */
    int32_t nconst = 0;
    uint32_t const_bytes = 0;
    for (int32_t i = 0; i < m.ntensors; i++) {
        tml_model_get_tensor(&m, i, &t);
        assert_non_null(t.dims);
        assert_non_null(t.name);
        if (!t.data)
            continue;
        nconst++;
        const_bytes += t.data_size;
        assert_int_equal(t.data_size, t.bytes);
        assert_true(t.data > buf && t.data + t.data_size <= buf + size);
    }
    assert_int_equal(nconst, e->nconst);
    assert_int_equal(const_bytes, e->const_bytes);

    tml_model_get_op(&m, 0, &op);
    assert_int_equal(op.builtin, e->op0_builtin);
    assert_int_equal(op.ninputs, 3);
    assert_memory_equal(op.inputs, e->op0_in, sizeof e->op0_in);
    assert_int_equal(op.noutputs, 1);
    assert_int_equal(op.outputs[0], e->op0_out);
    assert_true(op.version >= 1);
    assert_null(op.custom_name);
    tml_model_get_op(&m, m.nops - 1, &op);
    assert_int_equal(op.builtin, e->last_builtin);
    assert_true(op.ninputs >= 1);
    assert_int_equal(op.inputs[0], e->last_in);
    assert_int_equal(op.outputs[0], e->last_out);

    /* Input and output details, as in the goldens' manifest.json. */
    assert_int_equal(tml_model_inputs(&m)[0], 0);
    tml_model_get_tensor(&m, tml_model_inputs(&m)[0], &t);
    assert_string_equal(t.name, e->in_name);
    assert_int_equal(t.type, e->in_dtype);
    assert_int_equal(t.ndims, e->in_ndims);
    assert_memory_equal(t.dims, e->in_dims, sizeof(int32_t) * e->in_ndims);
    assert_null(t.data);
    if (e->in_scale != 0.0f) {
        assert_int_equal(t.nscales, 1);
        assert_true(t.scales[0] == e->in_scale);
        assert_non_null(t.zero_points);
        assert_int_equal(t.zero_points[0], e->in_zp);
    } else {
        assert_null(t.scales);
        assert_int_equal(t.nscales, 0);
    }
    assert_int_equal(tml_model_outputs(&m)[0], e->last_out);
    tml_model_get_tensor(&m, tml_model_outputs(&m)[0], &t);
    assert_string_equal(t.name, e->out_name);
    assert_int_equal(t.ndims, e->out_ndims);
    assert_memory_equal(t.dims, e->out_dims, sizeof(int32_t) * e->out_ndims);
    free(buf);
}

static void test_all_shared_models_load(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof k_models / sizeof k_models[0]; i++)
        check_model(&k_models[i]);
}

static void test_kws_details(void **state)
{
    size_t size;
    tml_model m;
    tml_model_tensor t;
    tml_model_op op;
    (void)state;
    uint8_t *buf = load(KWS, &size);
    load_ok(&m, buf, size);

    tml_model_get_tensor(&m, 0, &t);
    assert_int_equal(t.bytes, 490);
    assert_true(t.scales[0] == 0.5847029089927673f);
    assert_int_equal(t.quant_dim, 0);
    assert_int_equal(t.is_variable, 0);

    /* Per-channel conv weights: 64 scales along dim 0 (OHWI). */
    tml_model_get_tensor(&m, 17, &t);
    assert_string_equal(t.name, "functional_1/conv2d/Conv2D");
    int32_t dims17[4] = { 64, 10, 4, 1 };
    assert_int_equal(t.ndims, 4);
    assert_memory_equal(t.dims, dims17, sizeof dims17);
    assert_int_equal(t.type, TML_INT8);
    assert_int_equal(t.buffer, 18);
    assert_int_equal(t.data_size, 2560);
    assert_int_equal(t.nscales, 64);
    assert_int_equal(t.quant_dim, 0);
    assert_true(t.scales[0] == 0.0013318449491634965f);
    assert_true(t.scales[1] == 0.0007400733884423971f);
    assert_int_equal(t.zero_points[63], 0);

    /* Depthwise weights 1HWC: quantized along dim 3. */
    tml_model_get_tensor(&m, 5, &t);
    assert_int_equal(t.nscales, 64);
    assert_int_equal(t.quant_dim, 3);
    assert_int_equal(t.data_size, 576);

    /* int32 bias, 4-aligned in the file. */
    tml_model_get_tensor(&m, 1, &t);
    assert_int_equal(t.type, TML_INT32);
    assert_int_equal(t.data_size, 48);
    assert_int_equal((uintptr_t)t.data % 4, 0);

    /* Operator codes: CONV_2D v3, DEPTHWISE_CONV_2D v3, AVERAGE_POOL_2D
     * v2, RESHAPE v1, FULLY_CONNECTED v4, SOFTMAX v2. */
    static const int32_t builtins[13] = { 3, 4, 3, 4, 3, 4, 3, 4, 3, 1, 22,
                                          9, 25 };
    static const int32_t versions[13] = { 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 1,
                                          4, 2 };
    static const uint8_t opt_types[13] = { 1, 2, 1, 2, 1, 2, 1, 2, 1, 5, 0,
                                           8, 9 };
    for (int32_t i = 0; i < 13; i++) {
        tml_model_get_op(&m, i, &op);
        assert_int_equal(op.builtin, builtins[i]);
        assert_int_equal(op.version, versions[i]);
        assert_int_equal(op.options_type, opt_types[i]);
    }
    tml_model_get_op(&m, 10, &op);   /* RESHAPE: no options table */
    assert_int_equal(op.options, 0);
    int32_t in10[2] = { 31, 2 };
    assert_int_equal(op.ninputs, 2);
    assert_memory_equal(op.inputs, in10, sizeof in10);

    /* Conv options: padding SAME (absent = default 0), stride 2x2, RELU. */
    tml_model_get_op(&m, 0, &op);
    assert_true(op.options != 0);
    assert_null(tml_model_table_field(&m, op.options, TML_F_CONV_PADDING, 1));
    const uint8_t *p = tml_model_table_field(&m, op.options,
                                             TML_F_CONV_STRIDE_W, 4);
    assert_non_null(p);
    assert_int_equal(tml_fb_u32(p), 2);
    p = tml_model_table_field(&m, op.options, TML_F_CONV_STRIDE_H, 4);
    assert_int_equal(tml_fb_u32(p), 2);
    p = tml_model_table_field(&m, op.options, TML_F_CONV_ACTIVATION, 1);
    assert_int_equal(p[0], 1);
    /* A read past the table's inline data is refused. */
    assert_null(tml_model_table_field(&m, op.options, TML_F_CONV_STRIDE_W,
                                      4096));
    /* Field ids beyond the vtable are absent. */
    assert_null(tml_model_table_field(&m, op.options, 40, 4));
    const int32_t *vec = NULL;
    assert_int_equal(tml_model_table_int_vector(&m, op.options, 0, &vec), 0);

    /* Pool options: VALID, stride 5x25, filter 5x25. */
    tml_model_get_op(&m, 9, &op);
    p = tml_model_table_field(&m, op.options, TML_F_POOL_PADDING, 1);
    assert_int_equal(p[0], 1);
    p = tml_model_table_field(&m, op.options, TML_F_POOL_FILTER_H, 4);
    assert_int_equal(tml_fb_u32(p), 25);
    /* Softmax beta 1.0f. */
    tml_model_get_op(&m, 12, &op);
    p = tml_model_table_field(&m, op.options, TML_F_SOFTMAX_BETA, 4);
    assert_int_equal(tml_fb_u32(p), 0x3f800000u);

    /* Out-of-range accessor calls give empty views, not crashes. */
    tml_model_get_tensor(&m, 35, &t);
    assert_int_equal(t.ndims, 0);
    assert_string_equal(t.name, "");
    tml_model_get_op(&m, -1, &op);
    assert_int_equal(op.ninputs, 0);
    assert_null(tml_model_table_field(&m, 0, 0, 4));
    free(buf);
}

static void test_optional_input_allowed(void **state)
{
    size_t size;
    tml_model m;
    tml_model_op op;
    (void)state;
    uint8_t *buf = load(KWS, &size);
    tml_fb fb = fb_over(buf, size);
    /* Bias of op 0 marked optional (-1): valid for inputs. */
    put32(buf + vec_elem(&fb, op_table(&fb, 0), TML_F_OP_INPUTS, 4, 2),
          0xffffffffu);
    load_ok(&m, buf, size);
    tml_model_get_op(&m, 0, &op);
    assert_int_equal(op.inputs[2], -1);
    free(buf);
}

/* ---- corrupted copies: exact messages ---- */

static void test_truncated(void **state)
{
    size_t size;
    (void)state;
    uint8_t *buf = load(KWS, &size);
    expect_error(buf, 5, TML_ERROR_MODEL,
                 "model is 5 bytes, expected 8 to 2^31 - 1");
    expect_error(buf, 0, TML_ERROR_MODEL,
                 "model is 0 bytes, expected 8 to 2^31 - 1");
    /* Cut in the middle: the root table's vtable or a vector runs past
     * the end. */
    tml_model m;
    char err[TML_ERROR_SIZE];
    assert_int_equal(tml_model_load(&m, buf, size / 2, err, sizeof err),
                     TML_ERROR_MODEL);
    assert_non_null(strstr(err, "out of bounds"));
    free(buf);
}

static void test_bad_root_offset(void **state)
{
    size_t size;
    (void)state;
    uint8_t *buf = load(KWS, &size);
    put32(buf, 0x100000);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "root table: out of bounds at offset 0 (model is 53936 "
                 "bytes)");
    put32(buf, 6);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "root table: misaligned at offset 6 (model is 53936 bytes)");
    free(buf);
}

static void test_wrong_version(void **state)
{
    size_t size;
    (void)state;
    uint8_t *buf = load(KWS, &size);
    tml_fb fb = fb_over(buf, size);
    put32(buf + field_at(&fb, root_of(buf), TML_F_MODEL_VERSION, 4), 2);
    expect_error(buf, size, TML_ERROR_MODEL, "version: is 2, expected 3");
    free(buf);
}

static void test_buffer_index_out_of_range(void **state)
{
    size_t size;
    (void)state;
    uint8_t *buf = load(KWS, &size);
    tml_fb fb = fb_over(buf, size);
    put32(buf + field_at(&fb, tensor_table(&fb, 12), TML_F_TENSOR_BUFFER, 4),
          40);
    /* Names are cut to 40 bytes in messages. */
    expect_error(buf, size, TML_ERROR_MODEL,
                 "subgraphs[0]: tensors[12] "
                 "'functional_1/activation_6/Relu;functiona': buffer: is 40, "
                 "expected an index below 37");
    free(buf);
}

static void test_op_tensor_index_out_of_range(void **state)
{
    size_t size;
    (void)state;
    uint8_t *buf = load(KWS, &size);
    tml_fb fb = fb_over(buf, size);
    uint32_t op3 = op_table(&fb, 3);
    put32(buf + vec_elem(&fb, op3, TML_F_OP_INPUTS, 4, 2), 99);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "subgraphs[0]: operators[3]: inputs[2]: is 99, expected an "
                 "index below 35");
    put32(buf + vec_elem(&fb, op3, TML_F_OP_INPUTS, 4, 2), 7);
    /* -1 means "optional, absent" for inputs only. */
    put32(buf + vec_elem(&fb, op3, TML_F_OP_OUTPUTS, 4, 0), 0xffffffffu);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "subgraphs[0]: operators[3]: outputs[0]: is -1, expected an "
                 "index below 35");
    free(buf);
}

static void test_opcode_index_out_of_range(void **state)
{
    size_t size;
    (void)state;
    uint8_t *buf = load(KWS, &size);
    tml_fb fb = fb_over(buf, size);
    put32(buf + field_at(&fb, op_table(&fb, 5), TML_F_OP_OPCODE_INDEX, 4), 6);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "subgraphs[0]: operators[5]: opcode_index: is 6, expected an "
                 "index below 6");
    free(buf);
}

static void test_subgraph_io_out_of_range(void **state)
{
    size_t size;
    (void)state;
    uint8_t *buf = load(KWS, &size);
    tml_fb fb = fb_over(buf, size);
    put32(buf + vec_elem(&fb, subgraph0(&fb), TML_F_SUBGRAPH_OUTPUTS, 4, 0),
          35);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "subgraphs[0]: outputs[0]: is 35, expected an index below "
                 "35");
    free(buf);
}

static void test_negative_dim(void **state)
{
    size_t size;
    (void)state;
    uint8_t *buf = load(KWS, &size);
    tml_fb fb = fb_over(buf, size);
    put32(buf + vec_elem(&fb, tensor_table(&fb, 0), TML_F_TENSOR_SHAPE, 4, 1),
          (uint32_t)-5);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "subgraphs[0]: tensors[0] 'input_1': shape[1]: is -5, expected "
                 ">= 0");
    free(buf);
}

static void test_bytes_mismatch(void **state)
{
    size_t size;
    (void)state;
    uint8_t *buf = load(KWS, &size);
    tml_fb fb = fb_over(buf, size);
    /* FC weights [12, 64] int8 in 768 bytes; claim 13 rows. */
    put32(buf + vec_elem(&fb, tensor_table(&fb, 16), TML_F_TENSOR_SHAPE, 4, 0),
          13);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "subgraphs[0]: tensors[16] 'functional_1/dense/MatMul': "
                 "buffer: buffer 17 holds 768 bytes, expected 832");
    free(buf);
}

static void test_huge_shape(void **state)
{
    size_t size;
    (void)state;
    uint8_t *buf = load(KWS, &size);
    tml_fb fb = fb_over(buf, size);
    uint32_t t0 = tensor_table(&fb, 0);
    put32(buf + vec_elem(&fb, t0, TML_F_TENSOR_SHAPE, 4, 1), 0x7fffffff);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "subgraphs[0]: tensors[0] 'input_1': shape: needs more than "
                 "2^31 - 1 bytes");
    /* Four dims of 2^31 - 1: the bytes pass 2^31 - 1 at dim 2. */
    for (uint32_t d = 0; d < 4; d++)
        put32(buf + vec_elem(&fb, t0, TML_F_TENSOR_SHAPE, 4, d), 0x7fffffff);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "subgraphs[0]: tensors[0] 'input_1': shape: needs more than "
                 "2^31 - 1 bytes");
    /* A zero dim makes the tensor empty whatever the others say. */
    put32(buf + vec_elem(&fb, t0, TML_F_TENSOR_SHAPE, 4, 0), 0);
    tml_model m;
    load_ok(&m, buf, size);
    free(buf);
}

static void test_rank_and_types(void **state)
{
    size_t size;
    (void)state;
    uint8_t *buf = load(KWS, &size);
    tml_fb fb = fb_over(buf, size);
    uint32_t t0 = tensor_table(&fb, 0);
    uint32_t shape = vec_ref(&fb, t0, TML_F_TENSOR_SHAPE);
    put32(buf + shape, 7);
    expect_error(buf, size, TML_ERROR_UNSUPPORTED,
                 "subgraphs[0]: tensors[0] 'input_1': shape count: is 7, "
                 "expected at most 6");
    put32(buf + shape, 4);
    uint8_t *type = buf + field_at(&fb, t0, TML_F_TENSOR_TYPE, 1);
    *type = TML_STRING;
    expect_error(buf, size, TML_ERROR_UNSUPPORTED,
                 "subgraphs[0]: tensors[0] 'input_1': type: 5 is not "
                 "supported");
    *type = 8;
    expect_error(buf, size, TML_ERROR_UNSUPPORTED,
                 "subgraphs[0]: tensors[0] 'input_1': type: 8 is not "
                 "supported");
    *type = 100;
    expect_error(buf, size, TML_ERROR_MODEL,
                 "subgraphs[0]: tensors[0] 'input_1': type: 100 is not a "
                 "TensorType");
    *type = 0xff;
    expect_error(buf, size, TML_ERROR_MODEL,
                 "subgraphs[0]: tensors[0] 'input_1': type: -1 is not a "
                 "TensorType");
    free(buf);
}

static void test_quantization_consistency(void **state)
{
    size_t size;
    (void)state;
    uint8_t *buf = load(KWS, &size);
    tml_fb fb = fb_over(buf, size);
    uint32_t quant;
    assert_int_equal(tml_fb_field_table(&fb, tensor_table(&fb, 17),
                                        TML_F_TENSOR_QUANT, &quant), 0);
    uint32_t scales = vec_ref(&fb, quant, TML_F_QUANT_SCALE);
    put32(buf + scales, 63);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "subgraphs[0]: tensors[17] 'functional_1/conv2d/Conv2D': "
                 "zero_point count: is 64, expected 63");
    put32(buf + scales, 64);

    /* Depthwise weights [1,3,3,64], quantized_dimension 3. */
    assert_int_equal(tml_fb_field_table(&fb, tensor_table(&fb, 5),
                                        TML_F_TENSOR_QUANT, &quant), 0);
    uint8_t *qdim = buf + field_at(&fb, quant, TML_F_QUANT_DIM, 4);
    put32(qdim, 2);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "subgraphs[0]: tensors[5] "
                 "'functional_1/batch_normalization_1/Fused': scale count: is "
                 "64, expected 3");
    put32(qdim, 4);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "subgraphs[0]: tensors[5] "
                 "'functional_1/batch_normalization_1/Fused': "
                 "quantized_dimension: is 4, expected an index below 4");
    put32(qdim, 3);

    /* NaN and infinite scales. */
    uint32_t q0;
    assert_int_equal(tml_fb_field_table(&fb, tensor_table(&fb, 0),
                                        TML_F_TENSOR_QUANT, &q0), 0);
    uint32_t s0 = vec_elem(&fb, q0, TML_F_QUANT_SCALE, 4, 0);
    put32(buf + s0, 0x7f800000u);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "subgraphs[0]: tensors[0] 'input_1': scale[0]: is not finite");
    put32(buf + s0, 0xffc00000u);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "subgraphs[0]: tensors[0] 'input_1': scale[0]: is not finite");
    put32(buf + s0, 0x3f000000u);   /* 0.5: fine */
    tml_model m;
    load_ok(&m, buf, size);

    put32(qdim, (uint32_t)-1);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "subgraphs[0]: tensors[5] "
                 "'functional_1/batch_normalization_1/Fused': "
                 "quantized_dimension: is -1, expected an index below 4");
    free(buf);
}

static void test_options_type(void **state)
{
    size_t size;
    tml_model m;
    tml_model_op op;
    (void)state;
    uint8_t *buf = load(KWS, &size);
    tml_fb fb = fb_over(buf, size);
    /* CONV_2D claiming SoftmaxOptions: its kernel would read the wrong
     * table. */
    uint8_t *type = buf + field_at(&fb, op_table(&fb, 0),
                                   TML_F_OP_OPTIONS_TYPE, 1);
    *type = TML_OPT_SOFTMAX;
    expect_error(buf, size, TML_ERROR_MODEL,
                 "subgraphs[0]: operators[0]: builtin_options_type: is 9, "
                 "expected 1");
    /* Union type NONE: the table is not an options table any more. */
    *type = TML_OPT_NONE;
    load_ok(&m, buf, size);
    tml_model_get_op(&m, 0, &op);
    assert_int_equal(op.options_type, 0);
    assert_int_equal(op.options, 0);
    free(buf);
}

static void test_zero_point_range(void **state)
{
    size_t size;
    tml_model m;
    (void)state;
    uint8_t *buf = load(KWS, &size);
    tml_fb fb = fb_over(buf, size);
    uint32_t q0;
    assert_int_equal(tml_fb_field_table(&fb, tensor_table(&fb, 0),
                                        TML_F_TENSOR_QUANT, &q0), 0);
    uint8_t *zp = buf + vec_elem(&fb, q0, TML_F_QUANT_ZERO_POINT, 8, 0);
    assert_int_equal(tml_fb_u64(zp), 83);
    /* Out of int8 range is the kernels' to report (they name the op). */
    put32(zp, 200);
    load_ok(&m, buf, size);
    /* Beyond int32, or INT32_MIN: no kernel can use it. */
    put32(zp + 4, 1);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "subgraphs[0]: tensors[0] 'input_1': zero_point[0]: is "
                 "4294967496, outside int32");
    put32(zp, 0x80000000u);
    put32(zp + 4, 0xffffffffu);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "subgraphs[0]: tensors[0] 'input_1': zero_point[0]: is "
                 "-2147483648, outside int32");
    put32(zp, 0x80000001u);
    load_ok(&m, buf, size);
    free(buf);
}

static void test_no_subgraphs(void **state)
{
    size_t size;
    (void)state;
    uint8_t *buf = load(KWS, &size);
    tml_fb fb = fb_over(buf, size);
    put32(buf + vec_ref(&fb, root_of(buf), TML_F_MODEL_SUBGRAPHS), 0);
    expect_error(buf, size, TML_ERROR_MODEL, "subgraphs count: is 0, expected >= 1");
    free(buf);
}

static void test_structural_errors(void **state)
{
    size_t size;
    char msg[TML_ERROR_SIZE];
    (void)state;
    uint8_t *buf = load(KWS, &size);
    tml_fb fb = fb_over(buf, size);
    uint32_t t0 = tensor_table(&fb, 0);

    /* Name without its NUL. */
    uint32_t name = vec_ref(&fb, t0, TML_F_TENSOR_NAME);
    assert_int_equal(tml_fb_u32(buf + name), 7);   /* "input_1" */
    buf[name + 4 + 7] = 'X';
    snprintf(msg, sizeof msg,
             "subgraphs[0]: tensors[0]: name: string not NUL-terminated at "
             "offset %u (model is 53936 bytes)", name);
    expect_error(buf, size, TML_ERROR_MODEL, msg);
    buf[name + 4 + 7] = 0;

    /* Shape vector longer than the file. */
    uint32_t shape = vec_ref(&fb, t0, TML_F_TENSOR_SHAPE);
    put32(buf + shape, 0x40000000u);
    snprintf(msg, sizeof msg,
             "subgraphs[0]: tensors[0] 'input_1': shape: out of bounds at "
             "offset %u (model is 53936 bytes)", shape);
    expect_error(buf, size, TML_ERROR_MODEL, msg);
    put32(buf + shape, 4);

    /* Tensor table whose vtable lies before the file start. */
    uint8_t saved[4];
    memcpy(saved, buf + t0, 4);
    put32(buf + t0, 0x7ffffff0u);
    snprintf(msg, sizeof msg,
             "subgraphs[0]: tensors[0]: vtable out of bounds at offset %u "
             "(model is 53936 bytes)", t0);
    expect_error(buf, size, TML_ERROR_MODEL, msg);
    memcpy(buf + t0, saved, 4);

    /* Odd vtable size. */
    int32_t soff = (int32_t)tml_fb_u32(buf + t0);
    uint32_t vt = (uint32_t)((int64_t)t0 - soff);
    uint8_t vsize = buf[vt];
    buf[vt] = 5;
    snprintf(msg, sizeof msg,
             "subgraphs[0]: tensors[0]: vtable size is odd or < 4 at offset "
             "%u (model is 53936 bytes)", vt);
    expect_error(buf, size, TML_ERROR_MODEL, msg);
    buf[vt] = vsize;

    /* Inline size too small for the fields the vtable lists. */
    uint8_t isize[2] = { buf[vt + 2], buf[vt + 3] };
    tml_model m;
    char err[TML_ERROR_SIZE];
    buf[vt + 2] = 4;
    buf[vt + 3] = 0;
    assert_int_equal(tml_model_load(&m, buf, size, err, sizeof err),
                     TML_ERROR_MODEL);
    assert_non_null(strstr(err, "field extends past its table"));
    buf[vt + 2] = isize[0];
    buf[vt + 3] = isize[1];
    load_ok(&m, buf, size);
    free(buf);
}

static void test_custom_without_name(void **state)
{
    size_t size;
    (void)state;
    uint8_t *buf = load(KWS, &size);
    tml_fb fb = fb_over(buf, size);
    /* Operator code 0 is CONV_2D in builtin_code and in the deprecated
     * field; make both say CUSTOM (32). */
    uint32_t oc = elem_table(&fb, root_of(buf), TML_F_MODEL_OPCODES, 0);
    uint32_t pos;
    assert_int_equal(tml_fb_field(&fb, oc, TML_F_OPCODE_DEPRECATED_BUILTIN, 1,
                                  &pos), 0);
    if (pos)
        buf[pos] = 32;
    assert_int_equal(tml_fb_field(&fb, oc, TML_F_OPCODE_BUILTIN, 4, &pos), 0);
    if (pos)
        put32(buf + pos, 32);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "operator_codes[0]: custom_code: missing for a CUSTOM "
                 "operator");
    /* builtin = max(deprecated, builtin_code): 127 wins over 32. */
    if (pos) {
        put32(buf + pos, 0);
        uint32_t dep;
        assert_int_equal(tml_fb_field(&fb, oc, TML_F_OPCODE_DEPRECATED_BUILTIN,
                                      1, &dep), 0);
        if (dep) {
            buf[dep] = 3;
            tml_model m;
            tml_model_op op;
            load_ok(&m, buf, size);
            tml_model_get_op(&m, 0, &op);
            assert_int_equal(op.builtin, 3);
        }
    }
    free(buf);
}

static void test_opcode_version_zero(void **state)
{
    size_t size;
    (void)state;
    uint8_t *buf = load(KWS, &size);
    tml_fb fb = fb_over(buf, size);
    uint32_t oc = elem_table(&fb, root_of(buf), TML_F_MODEL_OPCODES, 1);
    put32(buf + field_at(&fb, oc, TML_F_OPCODE_VERSION, 4), 0);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "operator_codes[1]: version: is 0, expected >= 1");
    free(buf);
}

static void test_arguments_and_alignment(void **state)
{
    size_t size;
    tml_model m;
    char err[TML_ERROR_SIZE];
    (void)state;
    uint8_t *buf = load(KWS, &size);
    assert_int_equal(tml_model_load(&m, NULL, size, err, sizeof err),
                     TML_ERROR_ARGUMENT);
    assert_string_equal(err, "model or model data is NULL");
    assert_int_equal(tml_model_load(NULL, buf, size, err, sizeof err),
                     TML_ERROR_ARGUMENT);
    /* No message buffer: still a status, no write. */
    assert_int_equal(tml_model_load(&m, buf, 3, NULL, 0), TML_ERROR_MODEL);

    uint8_t *shifted = malloc(size + 16);
    assert_non_null(shifted);
    uint8_t *at2 = shifted + ((16 - (uintptr_t)shifted % 16) % 16) + 2;
    memcpy(at2, buf, size);
    expect_error(at2, size, TML_ERROR_MODEL,
                 "root table: misaligned at offset 0 (model is 53936 bytes, "
                 "not 16-byte aligned in memory)");
    /* At 4 mod 16 the header is fine but int64 zero points are not
     * 8-aligned in memory. */
    uint8_t *at4 = shifted + ((16 - (uintptr_t)shifted % 16) % 16) + 4;
    memcpy(at4, buf, size);
    tml_model m4;
    assert_int_equal(tml_model_load(&m4, at4, size, err, sizeof err),
                     TML_ERROR_MODEL);
    assert_non_null(strstr(err, "quantization: zero_point: misaligned at "
                                "offset "));
    assert_non_null(strstr(err, "bytes, not 16-byte aligned in "
                                "memory)"));
    free(shifted);

    /* A short error buffer still gets a NUL-terminated prefix. */
    char small[8];
    assert_int_equal(tml_model_load(&m, buf, 5, small, sizeof small),
                     TML_ERROR_MODEL);
    assert_string_equal(small, "model i");
    free(buf);
}


/* ---- models built field by field (convert/export/fb_builder.h) ---- */

/* A 3-tensor model: in (float32 [1,4]) op w (const [4], buffer 1) -> out,
 * with knobs for the cases the MLPerf files do not cover. */
typedef struct spec {
    int32_t wtype;            /* type of tensor 1 */
    int inline_data;          /* buffer 1 holds its 4 elements inline */
    uint64_t xoff, xsize;     /* buffer 1 large-model offset/size fields */
    uint32_t sentinel_bytes;  /* data in buffer 0 */
    const char *name0;        /* name of tensor 0 */
    int subgraphs;            /* 1 or 2 */
    int bad_subgraph1;        /* subgraph 1's op reads tensor 5 */
    const char *custom;       /* the op is CUSTOM with this name */
    int omit_custom_code;
    int32_t builtin_code, deprecated_code;
    int32_t alias_ops;        /* extra ops sharing one 1000-entry inputs */
} spec;

static spec default_spec(void)
{
    spec s;
    memset(&s, 0, sizeof s);
    s.wtype = TML_FLOAT32;
    s.inline_data = 1;
    s.name0 = "in";
    s.subgraphs = 1;
    s.builtin_code = 0;       /* ADD */
    s.deprecated_code = 0;
    return s;
}

static tml_fb_ref b_ints(tml_fb_builder *b, const int32_t *v, size_t n)
{
    return tml_fb_create_vector(b, v, 4, n, 0);
}

static tml_fb_ref b_tensor(tml_fb_builder *b, const char *name, int32_t type,
                           const int32_t *dims, size_t ndims, uint32_t buffer)
{
    tml_fb_ref shape = b_ints(b, dims, ndims);
    tml_fb_ref nm = tml_fb_create_cstring(b, name);
    tml_fb_start_table(b);
    tml_fb_add_offset(b, TML_F_TENSOR_SHAPE, shape);
    tml_fb_add_i8(b, TML_F_TENSOR_TYPE, (int8_t)type, 0);
    tml_fb_add_u32(b, TML_F_TENSOR_BUFFER, buffer, 0);
    tml_fb_add_offset(b, TML_F_TENSOR_NAME, nm);
    return tml_fb_end_table(b);
}

static tml_fb_ref b_subgraph(tml_fb_builder *b, const spec *s, int bad)
{
    static const int32_t d14[2] = { 1, 4 }, d4[1] = { 4 };
    tml_fb_ref t[3];
    t[0] = b_tensor(b, s->name0, TML_FLOAT32, d14, 2, 0);
    t[1] = b_tensor(b, "w", s->wtype, d4, 1, 1);
    t[2] = b_tensor(b, "out", TML_FLOAT32, d14, 2, 0);
    tml_fb_ref tensors = tml_fb_create_ref_vector(b, t, 3);
    int32_t ins[2] = { 0, bad ? 5 : 1 }, outs[1] = { 2 };
    int32_t in0[1] = { 0 };
    tml_fb_ref nops = 1 + (tml_fb_ref)s->alias_ops;
    tml_fb_ref *ops = calloc(nops, sizeof *ops);
    assert_non_null(ops);
    tml_fb_ref big = 0;
    if (s->alias_ops) {
        int32_t *zeros = calloc(1000, sizeof *zeros);
        assert_non_null(zeros);
        big = b_ints(b, zeros, 1000);
        free(zeros);
    }
    for (tml_fb_ref k = 0; k < nops; k++) {
        tml_fb_ref vin = k ? big : b_ints(b, ins, 2);
        tml_fb_ref vout = b_ints(b, outs, 1);
        tml_fb_start_table(b);
        tml_fb_add_offset(b, TML_F_OP_INPUTS, vin);
        tml_fb_add_offset(b, TML_F_OP_OUTPUTS, vout);
        ops[k] = tml_fb_end_table(b);
    }
    tml_fb_ref vops = tml_fb_create_ref_vector(b, ops, nops);
    free(ops);
    tml_fb_ref vin = b_ints(b, in0, 1), vout = b_ints(b, outs, 1);
    tml_fb_start_table(b);
    tml_fb_add_offset(b, TML_F_SUBGRAPH_TENSORS, tensors);
    tml_fb_add_offset(b, TML_F_SUBGRAPH_INPUTS, vin);
    tml_fb_add_offset(b, TML_F_SUBGRAPH_OUTPUTS, vout);
    tml_fb_add_offset(b, TML_F_SUBGRAPH_OPERATORS, vops);
    return tml_fb_end_table(b);
}

/* Builds the model into a 16-aligned buffer with `extra` zero bytes after
 * it; *size is the flatbuffer's own size. */
static uint8_t *build_model(const spec *s, size_t extra, size_t *size)
{
    tml_fb_builder b;
    static const float w[4] = { 1.0f, 2.0f, 3.0f, 4.0f };
    static const uint8_t junk[4] = { 9, 9, 9, 9 };
    tml_fb_init(&b, NULL);

    /* Buffers. */
    tml_fb_ref bufs[2];
    tml_fb_ref d0 = s->sentinel_bytes
        ? tml_fb_create_vector(&b, junk, 1, s->sentinel_bytes, 16) : 0;
    tml_fb_start_table(&b);
    tml_fb_add_offset(&b, TML_F_BUFFER_DATA, d0);
    bufs[0] = tml_fb_end_table(&b);
    size_t wbytes = tml_model_dtype_size(s->wtype) * 4;
    tml_fb_ref d1 = s->inline_data
        ? tml_fb_create_vector(&b, w, 1, wbytes <= 16 ? wbytes : 16, 16) : 0;
    tml_fb_start_table(&b);
    tml_fb_add_offset(&b, TML_F_BUFFER_DATA, d1);
    tml_fb_add_u64(&b, TML_F_BUFFER_OFFSET, s->xoff, 0);
    tml_fb_add_u64(&b, TML_F_BUFFER_SIZE, s->xsize, 0);
    bufs[1] = tml_fb_end_table(&b);
    tml_fb_ref vbufs = tml_fb_create_ref_vector(&b, bufs, 2);

    /* Operator code. */
    tml_fb_ref cc = s->custom && !s->omit_custom_code
        ? tml_fb_create_cstring(&b, s->custom) : 0;
    tml_fb_start_table(&b);
    tml_fb_add_i8(&b, TML_F_OPCODE_DEPRECATED_BUILTIN,
                  (int8_t)(s->custom ? 32 : s->deprecated_code), 0);
    tml_fb_add_offset(&b, TML_F_OPCODE_CUSTOM, cc);
    tml_fb_add_i32(&b, TML_F_OPCODE_BUILTIN, s->custom ? 32 : s->builtin_code,
                   0);
    tml_fb_ref oc = tml_fb_end_table(&b);
    tml_fb_ref vcodes = tml_fb_create_ref_vector(&b, &oc, 1);

    tml_fb_ref sgs[2];
    sgs[0] = b_subgraph(&b, s, 0);
    if (s->subgraphs > 1)
        sgs[1] = b_subgraph(&b, s, s->bad_subgraph1);
    tml_fb_ref vsgs = tml_fb_create_ref_vector(&b, sgs, (size_t)s->subgraphs);
    tml_fb_ref desc = tml_fb_create_cstring(&b, "built");

    tml_fb_start_table(&b);
    tml_fb_add_u32(&b, TML_F_MODEL_VERSION, 3, 0);
    tml_fb_add_offset(&b, TML_F_MODEL_OPCODES, vcodes);
    tml_fb_add_offset(&b, TML_F_MODEL_SUBGRAPHS, vsgs);
    tml_fb_add_offset(&b, TML_F_MODEL_DESCRIPTION, desc);
    tml_fb_add_offset(&b, TML_F_MODEL_BUFFERS, vbufs);
    tml_fb_ref root = tml_fb_end_table(&b);
    assert_int_equal(tml_fb_finish(&b, root, "TFL3"), 0);

    *size = tml_fb_size(&b);
    uint8_t *out = aligned_alloc(16, (*size + extra + 15) & ~(size_t)15);
    assert_non_null(out);
    memset(out, 0, *size + extra);
    memcpy(out, tml_fb_data(&b), *size);
    tml_fb_release(&b);
    return out;
}

static void test_built_model_loads(void **state)
{
    size_t size;
    tml_model m;
    tml_model_tensor t;
    tml_model_op op;
    (void)state;
    spec s = default_spec();
    uint8_t *buf = build_model(&s, 0, &size);
    load_ok(&m, buf, size);
    assert_int_equal(m.ntensors, 3);
    assert_int_equal(m.nops, 1);
    assert_string_equal(tml_model_description(&m), "built");
    tml_model_get_tensor(&m, 1, &t);
    assert_int_equal(t.data_size, 16);
    float w[4];
    memcpy(w, t.data, 16);
    assert_true(w[3] == 4.0f);
    tml_model_get_op(&m, 0, &op);
    assert_int_equal(op.builtin, 0);
    assert_int_equal(op.version, 1);   /* absent: schema default 1 */
    assert_int_equal(op.options, 0);
    free(buf);
}

static void test_large_model_buffer_offset(void **state)
{
    size_t size;
    tml_model m;
    tml_model_tensor t;
    char msg[TML_ERROR_SIZE];
    static const float w[4] = { 5.0f, 6.0f, 7.0f, 8.0f };
    (void)state;
    spec s = default_spec();
    s.inline_data = 0;
    s.xoff = 0x7fffffff;      /* placeholder: same layout, learn the size */
    s.xsize = 16;
    free(build_model(&s, 0, &size));

    /* Data appended after the flatbuffer, 16-aligned. */
    size_t at = (size + 15) & ~(size_t)15;
    s.xoff = at;
    size_t built;
    uint8_t *buf = build_model(&s, at - size + 16, &built);
    assert_int_equal(built, size);
    memcpy(buf + at, w, 16);
    load_ok(&m, buf, at + 16);
    tml_model_get_tensor(&m, 1, &t);
    assert_ptr_equal(t.data, buf + at);
    assert_int_equal(t.data_size, 16);

    /* Offset past the end of the file. */
    snprintf(msg, sizeof msg,
             "buffers[1]: offset: out of bounds at offset %zu (model is %zu "
             "bytes)", at, at + 8);
    expect_error(buf, at + 8, TML_ERROR_MODEL, msg);

    /* Offsets 0 and 1 mean "not used": no data at all. */
    free(buf);
    s.xoff = 1;
    buf = build_model(&s, 0, &size);
    load_ok(&m, buf, size);
    tml_model_get_tensor(&m, 1, &t);
    assert_null(t.data);
    free(buf);

    /* Both inline data and an offset. */
    s.inline_data = 1;
    s.xoff = 8;
    buf = build_model(&s, 0, &size);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "buffers[1]: offset: set together with inline data");
    free(buf);
}

static void test_misaligned_constant(void **state)
{
    size_t size, built;
    char msg[TML_ERROR_SIZE];
    (void)state;
    spec s = default_spec();
    s.inline_data = 0;
    s.xoff = 0x7fffffff;
    s.xsize = 16;
    free(build_model(&s, 0, &size));
    size_t at = ((size + 15) & ~(size_t)15) + 2;
    s.xoff = at;
    uint8_t *buf = build_model(&s, at - size + 16, &built);
    snprintf(msg, sizeof msg,
             "subgraphs[0]: tensors[1] 'w': buffer: buffer 1 data at offset "
             "%zu is not 4-byte aligned", at);
    expect_error(buf, at + 16, TML_ERROR_MODEL, msg);
    free(buf);

    /* int64 data must be 8-aligned: 4 mod 8 is not enough. */
    s.wtype = TML_INT64;
    s.xoff = 0x7fffffff;
    s.xsize = 32;
    free(build_model(&s, 0, &size));
    at = ((size + 15) & ~(size_t)15) + 4;
    s.xoff = at;
    buf = build_model(&s, at - size + 32, &built);
    snprintf(msg, sizeof msg,
             "subgraphs[0]: tensors[1] 'w': buffer: buffer 1 data at offset "
             "%zu is not 8-byte aligned", at);
    expect_error(buf, at + 32, TML_ERROR_MODEL, msg);
    free(buf);
}

static void test_sentinel_buffer_must_be_empty(void **state)
{
    size_t size;
    (void)state;
    spec s = default_spec();
    s.sentinel_bytes = 4;
    uint8_t *buf = build_model(&s, 0, &size);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "buffers[0]: buffer 0 holds 4 bytes, expected 0");
    free(buf);
}

static void test_second_subgraph_verified(void **state)
{
    size_t size;
    tml_model m;
    (void)state;
    spec s = default_spec();
    s.subgraphs = 2;
    uint8_t *buf = build_model(&s, 0, &size);
    load_ok(&m, buf, size);
    assert_int_equal(m.ntensors, 3);
    free(buf);
    s.bad_subgraph1 = 1;
    buf = build_model(&s, 0, &size);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "subgraphs[1]: operators[0]: inputs[1]: is 5, expected an "
                 "index below 3");
    free(buf);
}

static void test_custom_op_name(void **state)
{
    size_t size;
    tml_model m;
    tml_model_op op;
    (void)state;
    spec s = default_spec();
    s.custom = "MyOp";
    uint8_t *buf = build_model(&s, 0, &size);
    load_ok(&m, buf, size);
    tml_model_get_op(&m, 0, &op);
    assert_int_equal(op.builtin, 32);
    assert_string_equal(op.custom_name, "MyOp");
    free(buf);
    s.omit_custom_code = 1;
    buf = build_model(&s, 0, &size);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "operator_codes[0]: custom_code: missing for a CUSTOM "
                 "operator");
    free(buf);
}

static void test_builtin_code_rule(void **state)
{
    size_t size;
    tml_model m;
    tml_model_op op;
    (void)state;
    /* Codes >= 127 live only in builtin_code; deprecated says 127. */
    spec s = default_spec();
    s.deprecated_code = 127;
    s.builtin_code = 150;
    uint8_t *buf = build_model(&s, 0, &size);
    load_ok(&m, buf, size);
    tml_model_get_op(&m, 0, &op);
    assert_int_equal(op.builtin, 150);
    free(buf);
    /* Old files: only the deprecated field (builtin_code absent = 0). */
    s.deprecated_code = 9;
    s.builtin_code = 0;
    buf = build_model(&s, 0, &size);
    load_ok(&m, buf, size);
    tml_model_get_op(&m, 0, &op);
    assert_int_equal(op.builtin, 9);
    free(buf);
    /* max(-3, 0) = 0 (ADD) is fine; both negative is not. */
    s.deprecated_code = -3;
    buf = build_model(&s, 0, &size);
    load_ok(&m, buf, size);
    free(buf);
    s.builtin_code = -5;
    buf = build_model(&s, 0, &size);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "operator_codes[0]: builtin_code: is -3, expected >= 0");
    free(buf);
}

static void test_hostile_name_stays_one_line(void **state)
{
    size_t size;
    (void)state;
    /* Control bytes in names would break every later one-line message
     * (kernels print tensor names): refused at load. */
    spec s = default_spec();
    s.name0 = "evil\nname";
    uint8_t *buf = build_model(&s, 0, &size);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "subgraphs[0]: tensors[0]: name[4]: is control byte 0xa");
    free(buf);
    s.name0 = "del\x7f";
    buf = build_model(&s, 0, &size);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "subgraphs[0]: tensors[0]: name[3]: is control byte 0x7f");
    free(buf);
    s.name0 = "ok";
    s.custom = "My\tOp";
    buf = build_model(&s, 0, &size);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "operator_codes[0]: custom_code[2]: is control byte 0x9");
    free(buf);
    /* UTF-8 names load; messages show their bytes as '?'. */
    s = default_spec();
    s.name0 = "caf\xc3\xa9";
    buf = build_model(&s, 0, &size);
    tml_model m;
    load_ok(&m, buf, size);
    tml_fb fb = fb_over(buf, size);
    put32(buf + vec_elem(&fb, tensor_table(&fb, 0), TML_F_TENSOR_SHAPE, 4, 0),
          (uint32_t)-1);
    expect_error(buf, size, TML_ERROR_MODEL,
                 "subgraphs[0]: tensors[0] 'caf?\?': shape[0]: is -1, expected "
                 ">= 0");
    free(buf);
}

static void test_aliased_vectors_bounded(void **state)
{
    size_t size;
    char err[TML_ERROR_SIZE];
    tml_model m;
    (void)state;
    /* 300 operators all pointing at one 1000-entry inputs vector: a few
     * KB of file asking for 300000 index checks. */
    spec s = default_spec();
    s.alias_ops = 300;
    uint8_t *buf = build_model(&s, 0, &size);
    assert_true(size < 20000);
    assert_int_equal(tml_model_load(&m, buf, size, err, sizeof err),
                     TML_ERROR_MODEL);
    assert_non_null(strstr(err, "references more elements than a"));
    assert_non_null(strstr(err, "(aliased vectors)"));
    assert_true(strncmp(err, "subgraphs[0]: operators[", 24) == 0);
    free(buf);
    /* A few aliases stay within the budget. */
    s.alias_ops = 2;
    buf = build_model(&s, 0, &size);
    assert_int_equal(tml_model_load(&m, buf, size, err, sizeof err), TML_OK);
    free(buf);
}


/* ---- the flatbuffer primitives (runtime/fb.c) on hand-made bytes ---- */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void test_fb_tables(void **state)
{
    _Alignas(16) uint8_t b[32];
    tml_fb fb = { b, sizeof b, 0 };
    uint32_t pos;
    (void)state;
    memset(b, 0, sizeof b);
    /* vtable at 0: size 8, inline size 8, field 0 at +4, field 1 absent;
     * table at 8 (soffset 8 -> vtable 0), field 0 = 0x11223344. */
    put16(b + 0, 8);
    put16(b + 2, 8);
    put16(b + 4, 4);
    put16(b + 6, 0);
    put32(b + 8, 8);
    put32(b + 12, 0x11223344u);
    assert_int_equal(tml_fb_table(&fb, 8), TML_FB_OK);
    assert_int_equal(tml_fb_field(&fb, 8, 0, 4, &pos), TML_FB_OK);
    assert_int_equal(pos, 12);
    uint32_t u;
    assert_int_equal(tml_fb_field_u32(&fb, 8, 0, 7, &u), TML_FB_OK);
    assert_int_equal(u, 0x11223344u);
    /* Absent, and past the vtable: the default. */
    assert_int_equal(tml_fb_field_u32(&fb, 8, 1, 7, &u), TML_FB_OK);
    assert_int_equal(u, 7);
    assert_int_equal(tml_fb_field_u32(&fb, 8, 30, 9, &u), TML_FB_OK);
    assert_int_equal(u, 9);
    /* Ids whose slot offset would wrap 32 bits, and negative ids. */
    assert_int_equal(tml_fb_field(&fb, 8, 0x7fffffff, 4, &pos), TML_FB_OK);
    assert_int_equal(pos, 0);
    assert_int_equal(tml_fb_field(&fb, 8, -1, 4, &pos), TML_FB_OK);
    assert_int_equal(pos, 0);
    assert_int_equal(tml_fb_pos(b, 8, 0), 12);
    assert_int_equal(tml_fb_pos(b, 8, 1), 0);
    /* 8 bytes at +4 pass the 8-byte inline data. */
    assert_int_equal(tml_fb_field(&fb, 8, 0, 8, &pos), TML_FB_FIELD);
    assert_int_equal(fb.where, 12);
    /* Placement. */
    assert_int_equal(tml_fb_table(&fb, 6), TML_FB_ALIGN);
    /* soffset 0 at 28: the vtable is the table itself, size 0. */
    assert_int_equal(tml_fb_table(&fb, 28), TML_FB_VTABLE_SIZE);
    assert_int_equal(tml_fb_table(&fb, 32), TML_FB_BOUNDS);
    assert_int_equal(tml_fb_table(&fb, 0xfffffffcu), TML_FB_BOUNDS);
    /* vtable before the file start, and past its end. */
    put32(b + 8, 12);
    assert_int_equal(tml_fb_table(&fb, 8), TML_FB_VTABLE_BOUNDS);
    put32(b + 8, (uint32_t)-30);
    assert_int_equal(tml_fb_table(&fb, 8), TML_FB_VTABLE_BOUNDS);
    put32(b + 8, 7);
    assert_int_equal(tml_fb_table(&fb, 8), TML_FB_ALIGN);   /* vtable at 1 */
    put32(b + 8, 8);
    /* vtable size odd / too small / longer than the file. */
    put16(b + 0, 7);
    assert_int_equal(tml_fb_table(&fb, 8), TML_FB_VTABLE_SIZE);
    put16(b + 0, 2);
    assert_int_equal(tml_fb_table(&fb, 8), TML_FB_VTABLE_SIZE);
    put16(b + 0, 40);
    assert_int_equal(tml_fb_table(&fb, 8), TML_FB_VTABLE_BOUNDS);
    put16(b + 0, 8);
    /* Inline size < 4 or past the end. */
    put16(b + 2, 2);
    assert_int_equal(tml_fb_table(&fb, 8), TML_FB_INLINE_SIZE);
    put16(b + 2, 25);
    assert_int_equal(tml_fb_table(&fb, 8), TML_FB_INLINE_SIZE);
    put16(b + 2, 24);
    assert_int_equal(tml_fb_table(&fb, 8), TML_FB_OK);
}

static void test_fb_vectors_and_strings(void **state)
{
    _Alignas(16) uint8_t b[32];
    tml_fb fb = { b, sizeof b, 0 };
    uint32_t n, data, t;
    (void)state;
    memset(b, 0, sizeof b);
    /* Vector at 16: 3 int32 fill the file exactly. */
    put32(b + 16, 3);
    assert_int_equal(tml_fb_vector(&fb, 16, 4, 4, &n, &data), TML_FB_OK);
    assert_int_equal(n, 3);
    assert_int_equal(data, 20);
    put32(b + 16, 4);
    assert_int_equal(tml_fb_vector(&fb, 16, 4, 4, &n, &data), TML_FB_BOUNDS);
    assert_int_equal(n, 0);
    /* A count whose byte size wraps 32 bits. */
    put32(b + 16, 0x40000001u);
    assert_int_equal(tml_fb_vector(&fb, 16, 4, 4, &n, &data), TML_FB_BOUNDS);
    put32(b + 16, 1);
    assert_int_equal(tml_fb_vector(&fb, 18, 1, 1, &n, &data), TML_FB_ALIGN);
    /* int64 elements at 20 are only 4-aligned in memory. */
    assert_int_equal(tml_fb_vector(&fb, 16, 8, 8, &n, &data), TML_FB_ALIGN);
    assert_int_equal(fb.where, 20);
    put32(b + 16, 0);
    assert_int_equal(tml_fb_vector(&fb, 16, 8, 8, &n, &data), TML_FB_OK);
    assert_int_equal(n, 0);
    assert_int_equal(tml_fb_vector(&fb, 32, 1, 1, &n, &data), TML_FB_BOUNDS);

    /* String field: table at 8 (vtable at 0, field 0 at +4) whose uoffset
     * points at a string at 16. */
    put16(b + 0, 6);
    put16(b + 2, 8);
    put16(b + 4, 4);
    put32(b + 8, 8);
    put32(b + 12, 4);            /* 12 + 4 = 16 */
    put32(b + 16, 3);
    memcpy(b + 20, "abc", 4);
    assert_int_equal(tml_fb_field_string(&fb, 8, 0, &data), TML_FB_OK);
    assert_string_equal((const char *)b + data, "abc");
    b[23] = 'd';
    assert_int_equal(tml_fb_field_string(&fb, 8, 0, &data), TML_FB_NUL);
    assert_int_equal(data, 0);
    /* The NUL would be the byte after the file. */
    put32(b + 16, 12);
    memset(b + 20, 'x', 12);
    assert_int_equal(tml_fb_field_string(&fb, 8, 0, &data), TML_FB_NUL);
    /* A uoffset of 0 points at itself. */
    put32(b + 12, 0);
    assert_int_equal(tml_fb_field_string(&fb, 8, 0, &data), TML_FB_BOUNDS);
    assert_int_equal(tml_fb_vector_table(&fb, 12, 0, &t), TML_FB_BOUNDS);
    /* A uoffset past the end. */
    put32(b + 12, 0xfffffff0u);
    assert_int_equal(tml_fb_field_string(&fb, 8, 0, &data), TML_FB_BOUNDS);
    assert_int_equal(tml_fb_vector_table(&fb, 8, 1, &t), TML_FB_BOUNDS);

    assert_true(tml_fb_in(&fb, 0, 32));
    assert_false(tml_fb_in(&fb, 1, 32));
    assert_false(tml_fb_in(&fb, 0xffffffffffffffffull, 2));
    assert_false(tml_fb_in(&fb, 4, 0xfffffffffffffffeull));
    assert_string_equal(tml_fb_error_text(TML_FB_NUL),
                        "string not NUL-terminated");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fb_tables),
        cmocka_unit_test(test_fb_vectors_and_strings),
        cmocka_unit_test(test_all_shared_models_load),
        cmocka_unit_test(test_kws_details),
        cmocka_unit_test(test_optional_input_allowed),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_bad_root_offset),
        cmocka_unit_test(test_wrong_version),
        cmocka_unit_test(test_buffer_index_out_of_range),
        cmocka_unit_test(test_op_tensor_index_out_of_range),
        cmocka_unit_test(test_opcode_index_out_of_range),
        cmocka_unit_test(test_subgraph_io_out_of_range),
        cmocka_unit_test(test_negative_dim),
        cmocka_unit_test(test_bytes_mismatch),
        cmocka_unit_test(test_huge_shape),
        cmocka_unit_test(test_rank_and_types),
        cmocka_unit_test(test_quantization_consistency),
        cmocka_unit_test(test_options_type),
        cmocka_unit_test(test_zero_point_range),
        cmocka_unit_test(test_no_subgraphs),
        cmocka_unit_test(test_structural_errors),
        cmocka_unit_test(test_custom_without_name),
        cmocka_unit_test(test_opcode_version_zero),
        cmocka_unit_test(test_arguments_and_alignment),
        cmocka_unit_test(test_built_model_loads),
        cmocka_unit_test(test_large_model_buffer_offset),
        cmocka_unit_test(test_misaligned_constant),
        cmocka_unit_test(test_sentinel_buffer_must_be_empty),
        cmocka_unit_test(test_second_subgraph_verified),
        cmocka_unit_test(test_custom_op_name),
        cmocka_unit_test(test_builtin_code_rule),
        cmocka_unit_test(test_hostile_name_stays_one_line),
        cmocka_unit_test(test_aliased_vectors_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
