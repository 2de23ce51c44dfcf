/*
 * Seeded random models, written by the TFLite writer and read back by the
 * runtime's verifier (runtime/model.c): every model loads, and every
 * tensor and operator reads back exactly as described.  A fixed xorshift
 * seed makes each run the same.
 */
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

enum { MODELS = 300, MAX_T = 24, MAX_OPS = 12, MAX_IO = 5 };

static uint32_t rnd(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

static int pick(uint32_t *s, int n)
{
    return (int)(rnd(s) % (uint32_t)n);
}

typedef struct spec {
    char name[16];
    int32_t type, ndims, dims[5];
    uint32_t buffer;
    uint8_t data[256];
    size_t data_size;
    int32_t nq, qdim;
    float scales[4];
    int64_t zps[4];
    int is_variable;
    int unnamed;
} spec;

typedef struct op_spec {
    int32_t builtin, version;
    int32_t in[MAX_IO], out[MAX_IO];
    int32_t nin, nout;
    tml_tfl_options opts;
} op_spec;

static const int32_t k_types[] = {TML_FLOAT32, TML_INT8, TML_INT32, TML_UINT8,
                                  TML_INT16, TML_INT64, TML_BOOL};
static const int32_t k_builtins[] = {0, 3, 4, 9, 17, 22, 25, 34, 98, 150};

static size_t type_size(int32_t t)
{
    switch (t) {
    case TML_FLOAT32: case TML_INT32: return 4;
    case TML_INT16: return 2;
    case TML_INT64: return 8;
    default: return 1;
    }
}

static void random_tensor(uint32_t *s, spec *t, int index)
{
    size_t elems = 1;
    int32_t d;
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "t%d_%u", index, rnd(s) % 1000u);
    t->type = k_types[pick(s, 7)];
    t->ndims = pick(s, 6);
    for (d = 0; d < t->ndims; d++) {
        t->dims[d] = 1 + pick(s, 4);
        elems *= (size_t)t->dims[d];
    }
    t->unnamed = pick(s, 8) == 0;
    if (pick(s, 3) == 0 && elems * type_size(t->type) <= sizeof t->data) {
        size_t i;
        t->data_size = elems * type_size(t->type);
        for (i = 0; i < t->data_size; i++)
            t->data[i] = (uint8_t)rnd(s);
        if (t->type == TML_BOOL)
            for (i = 0; i < t->data_size; i++)
                t->data[i] &= 1;
    }
    switch (pick(s, 3)) {
    case 0:
        break;
    case 1:
        t->nq = 1;
        t->scales[0] = (float)(1 + pick(s, 1000)) / 1024.0f;
        t->zps[0] = pick(s, 256) - 128;
        break;
    default:
        if (t->ndims == 0)
            break;
        t->qdim = pick(s, t->ndims);
        t->nq = t->dims[t->qdim];
        for (d = 0; d < t->nq; d++) {
            t->scales[d] = (float)(1 + pick(s, 1000)) / 4096.0f;
            t->zps[d] = 0;
        }
        break;
    }
}

static tml_tfl_options random_options(uint32_t *s, int32_t builtin)
{
    const int32_t shape[3] = {1, pick(s, 9), 2};
    switch (builtin) {
    case 3:
        return tml_tfl_conv2d_options(pick(s, 2), 1 + pick(s, 2),
                                      1 + pick(s, 2), pick(s, 4),
                                      1 + pick(s, 2), 1 + pick(s, 2));
    case 4:
        return tml_tfl_depthwise_options(pick(s, 2), 1, 2, 1 + pick(s, 3),
                                         pick(s, 4), 1, 1 + pick(s, 2));
    case 9:
        return tml_tfl_fully_connected_options(pick(s, 4), pick(s, 2));
    case 17:
        return tml_tfl_pool2d_options(pick(s, 2), 2, 2, 1 + pick(s, 3), 2,
                                      pick(s, 2));
    case 22:
        return tml_tfl_reshape_options(shape, pick(s, 4) - 1);
    case 25:
        return tml_tfl_softmax_options((float)pick(s, 4) * 0.5f);
    case 34:
        return tml_tfl_empty_options(TML_OPT_PAD);
    case 98:
        return tml_tfl_leaky_relu_options((float)pick(s, 8) / 8.0f);
    default:
        return tml_tfl_add_options(pick(s, 4));
    }
}

/* Reads option field f of op back and compares it with the description. */
static void check_field(const tml_model *m, const tml_model_op *op,
                        const tml_tfl_field *f)
{
    const uint8_t *p;
    int32_t iv;
    float fv;
    if (f->kind == TML_TFL_FIELD_I32_VECTOR) {
        const int32_t *v;
        int32_t n = tml_model_table_int_vector(m, op->options, f->id, &v);
        assert_int_equal(n, f->count);
        if (n > 0)
            assert_memory_equal(v, f->ints, (size_t)n * 4);
        return;
    }
    if (f->kind == TML_TFL_FIELD_F32) {
        p = tml_model_table_field(m, op->options, f->id, 4);
        if (f->f == f->def_f) {
            assert_null(p);
            return;
        }
        assert_non_null(p);
        memcpy(&fv, p, 4);
        assert_true(fv == f->f);
        return;
    }
    p = tml_model_table_field(m, op->options, f->id,
                              f->kind == TML_TFL_FIELD_I32 ? 4 : 1);
    if (f->i == f->def_i) {
        assert_null(p);      /* defaults are left out */
        return;
    }
    assert_non_null(p);
    if (f->kind == TML_TFL_FIELD_I32)
        memcpy(&iv, p, 4);
    else
        iv = (int8_t)p[0];
    assert_int_equal(iv, f->i);
}

static void check_model(const uint8_t *bytes, size_t n, const spec *ts,
                        int nt, const op_spec *ops, int nops)
{
    tml_model m;
    char err[256];
    int i, k;
    tml_status st = tml_model_load(&m, bytes, n, err, sizeof err);
    if (st != TML_OK)
        fail_msg("verifier rejected a written model: %s", err);
    assert_int_equal(m.ntensors, nt);
    assert_int_equal(m.nops, nops);
    for (i = 0; i < nt; i++) {
        tml_model_tensor t;
        tml_model_get_tensor(&m, i, &t);
        assert_string_equal(t.name, ts[i].unnamed ? "" : ts[i].name);
        assert_int_equal(t.is_variable, ts[i].is_variable);
        assert_int_equal(t.type, ts[i].type);
        assert_int_equal(t.ndims, ts[i].ndims);
        if (ts[i].ndims)
            assert_memory_equal(t.dims, ts[i].dims, (size_t)t.ndims * 4);
        assert_int_equal(t.buffer, ts[i].buffer);
        if (ts[i].data_size) {
            assert_non_null(t.data);
            assert_int_equal(((uintptr_t)t.data) % 16, 0);
            assert_int_equal(t.data_size, ts[i].data_size);
            assert_memory_equal(t.data, ts[i].data, ts[i].data_size);
        } else {
            assert_null(t.data);
        }
        assert_int_equal(t.nscales, ts[i].nq);
        for (k = 0; k < ts[i].nq; k++) {
            assert_true(t.scales[k] == ts[i].scales[k]);
            assert_int_equal(t.zero_points[k], ts[i].zps[k]);
        }
        if (ts[i].nq)
            assert_int_equal(t.quant_dim, ts[i].qdim);
    }
    for (i = 0; i < nops; i++) {
        tml_model_op op;
        tml_model_get_op(&m, i, &op);
        assert_int_equal(op.builtin, ops[i].builtin);
        assert_int_equal(op.version, ops[i].version);
        assert_int_equal(op.ninputs, ops[i].nin);
        assert_int_equal(op.noutputs, ops[i].nout);
        if (op.ninputs)
            assert_memory_equal(op.inputs, ops[i].in, (size_t)op.ninputs * 4);
        assert_memory_equal(op.outputs, ops[i].out, (size_t)op.noutputs * 4);
        assert_int_equal(op.options_type, ops[i].opts.type);
        for (k = 0; k < ops[i].opts.nfields; k++)
            check_field(&m, &op, &ops[i].opts.fields[k]);
    }
}

static void test_random_models_round_trip(void **state)
{
    uint32_t seed = 0x9e3779b9u;
    spec *ts = malloc(sizeof(spec) * MAX_T);
    op_spec ops[MAX_OPS];
    int model;
    (void)state;
    for (model = 0; model < MODELS; model++) {
        tml_tfl_writer *w = tml_tfl_writer_new(NULL);
        int nt = 1 + pick(&seed, MAX_T), nops = pick(&seed, MAX_OPS + 1);
        int i, k;
        const uint8_t *bytes;
        size_t n;
        int32_t io[2];
        for (i = 0; i < nt; i++) {
            tml_tfl_tensor t;
            random_tensor(&seed, &ts[i], i);
            memset(&t, 0, sizeof t);
            t.name = ts[i].unnamed ? NULL : ts[i].name;
            ts[i].is_variable = !ts[i].data_size && pick(&seed, 6) == 0;
            t.is_variable = ts[i].is_variable;
            t.type = ts[i].type;
            t.ndims = ts[i].ndims;
            t.dims = ts[i].dims;
            t.quant.count = ts[i].nq;
            t.quant.scales = ts[i].scales;
            t.quant.zero_points = ts[i].zps;
            t.quant.quantized_dimension = ts[i].qdim;
            if (ts[i].data_size) {
                assert_int_equal(tml_tfl_add_const_tensor(
                                     w, &t, ts[i].data, ts[i].data_size), i);
                ts[i].buffer = (uint32_t)tml_tfl_buffer_count(w) - 1;
            } else {
                assert_int_equal(tml_tfl_add_tensor(w, &t), i);
            }
        }
        for (i = 0; i < nops; i++) {
            op_spec *o = &ops[i];
            o->builtin = k_builtins[pick(&seed, 10)];
            o->version = 1 + pick(&seed, 4);
            o->nin = pick(&seed, MAX_IO + 1);
            o->nout = 1 + pick(&seed, MAX_IO);
            for (k = 0; k < o->nin; k++)
                o->in[k] = pick(&seed, 5) == 0 ? -1 : pick(&seed, nt);
            for (k = 0; k < o->nout; k++)
                o->out[k] = pick(&seed, nt);
            o->opts = pick(&seed, 4) == 0
                          ? tml_tfl_empty_options(0)
                          : random_options(&seed, o->builtin);
            if (tml_tfl_add_op(w, o->builtin, o->version, o->in, o->nin,
                               o->out, o->nout,
                               o->opts.type ? &o->opts : NULL) != i)
                fail_msg("model %d op %d: %s", model, i, tml_tfl_error(w));
        }
        io[0] = 0;
        io[1] = nt - 1;
        assert_int_equal(tml_tfl_set_inputs(w, io, 1), 0);
        assert_int_equal(tml_tfl_set_outputs(w, io + 1, 1), 0);
        if (tml_tfl_finish(w, &bytes, &n) != 0)
            fail_msg("model %d: %s", model, tml_tfl_error(w));
        /* force_align 16 data makes the file a multiple of 16; without
         * data, of the largest scalar (8 with int64 zero points). */
        assert_int_equal(n % (tml_tfl_buffer_count(w) > 1 ? 16 : 4), 0);
        check_model(bytes, n, ts, nt, ops, nops);
        tml_tfl_writer_free(w);
    }
    free(ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_models_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
