/*
 * The SavedModel importer (convert/import/savedmodel.c) and the tensor
 * bundle reader (tf_bundle.c) on SavedModels this test writes itself, so
 * it needs no shared data: saved_model.pb packed with protobuf-c from the
 * importer's proto subset, variables.index written by a LevelDB-table
 * writer of this file's own (prefix-compressed keys, restarts, two data
 * blocks, masked crc32c trailers, footer), variables.data-00000-of-00001
 * raw little-endian floats.
 *
 * The model: Keras 2 Functional, x [None, 4] -> Dense d1 (3, relu) ->
 * BatchNormalization bn -> Dense out (2, linear), its config in the root
 * object's metadata with Keras' SavedModel tuple encoding; the expected
 * output is computed here in double.  Then hostile variants: every
 * truncation of both files, every byte flip of the index, a compressed
 * block, wrong shapes, sizes, dtypes, missing tensors, keys out of order,
 * no header, a big-endian bundle, dangling object references, no Keras
 * metadata -- each -1 with one exact line, never a crash (ASan build).
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

#include "convert/export/ir_export.h"
#include "convert/import/import.h"
#include "convert/import/tf_bundle.h"
#include "convert/import/tf_savedmodel.pb-c.h"
#include "convert/ir/ir.h"
#include "convert/passes/passes.h"
#include "tools/lib/host_interp.h"

/* ------------------------------------------------------------------------
 * Byte buffers
 * ---------------------------------------------------------------------- */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *data, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    if (n)
        memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void put_varint(buf *b, uint64_t v)
{
    do {
        uint8_t c = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            c |= 0x80;
        put(b, &c, 1);
    } while (v);
}

static void put_le32(buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, x, 4);
}

/* ------------------------------------------------------------------------
 * The model
 * ---------------------------------------------------------------------- */

static const float K1[12] = {0.5f, -0.25f, 1.0f, -0.75f, 0.125f, 0.5f,
                             0.25f, 1.5f, -0.5f, -1.0f, 0.75f, 0.25f}; /* [4,3] */
static const float B1[3] = {0.1f, -0.2f, 0.3f};
static const float GAMMA[3] = {1.5f, 0.5f, -2.0f};
static const float BETA[3] = {0.25f, -0.5f, 0.125f};
static const float MEAN[3] = {0.2f, 0.1f, -0.3f};
static const float VAR[3] = {0.5f, 2.0f, 1.25f};
static const float K2[6] = {1.0f, -0.5f, 0.25f, 0.75f, -1.25f, 0.5f}; /* [3,2] */
static const float B2[2] = {0.05f, -0.15f};

static const char CONFIG[] =
    "{\"class_name\": \"Functional\", \"name\": \"m\", \"keras_version\": \"2.4.0\", "
    "\"config\": {\"name\": \"m\", \"layers\": ["
    "{\"class_name\": \"InputLayer\", \"config\": {\"batch_input_shape\": "
    "{\"class_name\": \"__tuple__\", \"items\": [null, 4]}, \"dtype\": \"float32\", "
    "\"name\": \"x\"}, \"name\": \"x\", \"inbound_nodes\": []}, "
    "{\"class_name\": \"Dense\", \"config\": {\"name\": \"d1\", \"units\": %d, "
    "\"activation\": \"relu\", \"use_bias\": true}, \"name\": \"d1\", "
    "\"inbound_nodes\": [[[\"x\", 0, 0, {}]]]}, "
    "{\"class_name\": \"BatchNormalization\", \"config\": {\"name\": \"bn\", \"axis\": [1], "
    "\"epsilon\": 0.001, \"center\": true, \"scale\": true}, \"name\": \"bn\", "
    "\"inbound_nodes\": [[[\"d1\", 0, 0, {}]]]}, "
    "{\"class_name\": \"Dense\", \"config\": {\"name\": \"out\", \"units\": 2, "
    "\"activation\": \"linear\", \"use_bias\": true}, \"name\": \"out\", "
    "\"inbound_nodes\": [[[\"bn\", 0, 0, {}]]]}], "
    "\"input_layers\": [[\"x\", 0, 0]], \"output_layers\": [[\"out\", 0, 0]]}}";

static void expected(const float *x, double *y)
{
    double h[3];
    for (int j = 0; j < 3; j++) {
        double a = B1[j];
        for (int i = 0; i < 4; i++)
            a += (double)x[i] * K1[i * 3 + j];
        a = a > 0 ? a : 0;
        h[j] = (a - MEAN[j]) / sqrt((double)VAR[j] + 1e-3) * GAMMA[j] + BETA[j];
    }
    for (int k = 0; k < 2; k++) {
        y[k] = B2[k];
        for (int j = 0; j < 3; j++)
            y[k] += h[j] * K2[j * 2 + k];
    }
}

/* What to break while writing. */
typedef struct variant {
    int d1_units;               /* config's d1 units (3) */
    int32_t kernel_dims[2];     /* d1 kernel's stored shape (4, 3) */
    int64_t kernel_size_delta;  /* added to d1 kernel's byte size */
    int32_t kernel_dtype;       /* 1 = float */
    int drop_bias;              /* d1 bias missing from the checkpoint */
    int no_header;
    int big_endian;
    int swap_keys;              /* two entries out of order */
    int compressed;             /* first data block's type byte = 1 */
    int no_metadata;            /* root without its Keras user object */
    int dangling_child;         /* a child id past the node list */
    int flip_data;              /* a bit of d1's kernel in the data file */
} variant;

static variant normal(void)
{
    variant v;
    memset(&v, 0, sizeof v);
    v.d1_units = 3;
    v.kernel_dims[0] = 4;
    v.kernel_dims[1] = 3;
    v.kernel_dtype = TF_DT_FLOAT;
    return v;
}

/* ---- saved_model.pb ---- */

#define NNODES 15
typedef struct edge {
    int from, to;
    const char *name;
} edge;

/* 0 root; 1 x; 2 d1; 3 bn; 4 out; 5 a "variables" list (as Keras adds
 * one to the root); 6.. variables.  The list reaches d1's variables at the
 * same depth as the layer does, but later in breadth-first order, so their
 * checkpoint keys go through "layer_with_weights-0" (as TF names them),
 * not "variables/0". */
static const edge EDGES[] = {
    {0, 1, "layer-0"},
    {0, 2, "layer_with_weights-0"}, {0, 2, "layer-1"},
    {0, 3, "layer_with_weights-1"}, {0, 3, "layer-2"},
    {0, 4, "layer_with_weights-2"}, {0, 4, "layer-3"},
    {0, 5, "variables"},
    {2, 6, "kernel"}, {2, 7, "bias"},
    {3, 8, "gamma"}, {3, 9, "beta"}, {3, 10, "moving_mean"}, {3, 11, "moving_variance"},
    {4, 12, "kernel"}, {4, 13, "bias"},
    {5, 6, "0"}, {5, 7, "1"}, {5, 14, "2"},
};

static uint8_t *pack_saved_model(const variant *v, size_t *size)
{
    static const char *const layer_meta[] = {
        NULL,
        "{\"class_name\": \"InputLayer\", \"name\": \"x\"}",
        "{\"class_name\": \"Dense\", \"name\": \"d1\"}",
        "{\"class_name\": \"BatchNormalization\", \"name\": \"bn\"}",
        "{\"class_name\": \"Dense\", \"name\": \"out\"}",
    };
    char config[4096];
    snprintf(config, sizeof config, CONFIG, v->d1_units);
    Tmltf__SavedObject nodes[NNODES], *np[NNODES];
    Tmltf__SavedUserObject users[NNODES];
    Tmltf__SavedVariable vars[NNODES];
    enum { NEDGES = sizeof EDGES / sizeof EDGES[0] };
    Tmltf__ObjectReference refs[NEDGES], *rp[NNODES][NEDGES];
    for (int i = 0; i < NNODES; i++) {
        tmltf__saved_object__init(&nodes[i]);
        np[i] = &nodes[i];
        nodes[i].children = rp[i];
        if (i >= 1 && i <= 4) {
            tmltf__saved_user_object__init(&users[i]);
            users[i].identifier = (char *)"_tf_keras_layer";
            users[i].metadata = (char *)layer_meta[i];
            nodes[i].user_object = &users[i];
        }
        if (i >= 6) {
            tmltf__saved_variable__init(&vars[i]);
            vars[i].dtype = TF_DT_FLOAT;
            nodes[i].variable = &vars[i];
        }
    }
    if (!v->no_metadata) {
        tmltf__saved_user_object__init(&users[0]);
        users[0].identifier = (char *)"_tf_keras_network";
        users[0].metadata = config;
        nodes[0].user_object = &users[0];
    }
    for (int e = 0; e < NEDGES; e++) {
        tmltf__object_reference__init(&refs[e]);
        refs[e].node_id = EDGES[e].to;
        refs[e].local_name = (char *)EDGES[e].name;
        Tmltf__SavedObject *from = &nodes[EDGES[e].from];
        from->children[from->n_children++] = &refs[e];
    }
    if (v->dangling_child)
        refs[NEDGES - 1].node_id = NNODES + 5;
    Tmltf__SavedObjectGraph og;
    tmltf__saved_object_graph__init(&og);
    og.n_nodes = NNODES;
    og.nodes = np;
    Tmltf__MetaGraphDef mg, *mgp = &mg;
    tmltf__meta_graph_def__init(&mg);
    mg.object_graph_def = &og;
    Tmltf__SavedModel sm;
    tmltf__saved_model__init(&sm);
    sm.saved_model_schema_version = 1;
    sm.n_meta_graphs = 1;
    sm.meta_graphs = &mgp;
    *size = tmltf__saved_model__get_packed_size(&sm);
    uint8_t *out = malloc(*size);
    assert_non_null(out);
    assert_int_equal(tmltf__saved_model__pack(&sm, out), *size);
    return out;
}

/* ---- the checkpoint ---- */

typedef struct kv {
    char key[128];
    buf value;
} kv;

static int kv_cmp(const void *a, const void *b)
{
    return strcmp(((const kv *)a)->key, ((const kv *)b)->key);
}

static void entry_value(buf *out, int32_t dtype, int32_t ndims, const int32_t *dims,
                        uint64_t offset, uint64_t size, uint32_t crc)
{
    Tmltf__BundleEntryProto e;
    Tmltf__TensorShapeProto shape;
    Tmltf__TensorShapeProto__Dim dim[4], *dp[4];
    tmltf__bundle_entry_proto__init(&e);
    tmltf__tensor_shape_proto__init(&shape);
    for (int32_t i = 0; i < ndims; i++) {
        tmltf__tensor_shape_proto__dim__init(&dim[i]);
        dim[i].size = dims[i];
        dp[i] = &dim[i];
    }
    shape.n_dim = (size_t)ndims;
    shape.dim = dp;
    e.dtype = dtype;
    e.shape = &shape;
    e.offset = (int64_t)offset;
    e.size = (int64_t)size;
    e.crc32c = crc;
    uint8_t tmp[256];
    size_t n = tmltf__bundle_entry_proto__pack(&e, tmp);
    put(out, tmp, n);
}

typedef struct handle {
    uint64_t offset, size;
} handle;

/* A block of entries (prefix-compressed, a restart every 3), its trailer. */
static handle write_block(buf *file, const kv *e, int count, uint8_t type)
{
    buf b = {0};
    uint32_t restarts[64];
    int nr = 0;
    for (int i = 0; i < count; i++) {
        size_t shared = 0, len = strlen(e[i].key);
        if (i % 3 == 0) {
            restarts[nr++] = (uint32_t)b.n;
        } else {
            const char *prev = e[i - 1].key;
            while (prev[shared] && prev[shared] == e[i].key[shared])
                shared++;
        }
        put_varint(&b, shared);
        put_varint(&b, len - shared);
        put_varint(&b, e[i].value.n);
        put(&b, e[i].key + shared, len - shared);
        put(&b, e[i].value.p, e[i].value.n);
    }
    if (nr == 0)
        restarts[nr++] = 0;
    for (int r = 0; r < nr; r++)
        put_le32(&b, restarts[r]);
    put_le32(&b, (uint32_t)nr);
    handle h = {file->n, b.n};
    put(file, b.p, b.n);
    put(file, &type, 1);
    uint32_t crc = tf_crc32c(0, b.p, b.n);
    crc = tf_crc32c(crc, &type, 1);
    put_le32(file, tf_crc32c_mask(crc));
    free(b.p);
    return h;
}

static uint8_t *write_index(const variant *v, buf *data, size_t *size)
{
    struct {
        const char *key;
        const float *w;
        int32_t ndims, dims[2];
    } t[] = {
        {"layer_with_weights-0/kernel", K1, 2, {4, 3}},
        {"layer_with_weights-0/bias", B1, 1, {3, 0}},
        {"layer_with_weights-1/gamma", GAMMA, 1, {3, 0}},
        {"layer_with_weights-1/beta", BETA, 1, {3, 0}},
        {"layer_with_weights-1/moving_mean", MEAN, 1, {3, 0}},
        {"layer_with_weights-1/moving_variance", VAR, 1, {3, 0}},
        {"layer_with_weights-2/kernel", K2, 2, {3, 2}},
        {"layer_with_weights-2/bias", B2, 1, {2, 0}},
    };
    kv e[16];
    int n = 0;
    memset(e, 0, sizeof e);
    if (!v->no_header) {
        Tmltf__BundleHeaderProto h;
        tmltf__bundle_header_proto__init(&h);
        h.num_shards = 1;
        h.endianness = v->big_endian;
        uint8_t tmp[64];
        put(&e[n].value, tmp, tmltf__bundle_header_proto__pack(&h, tmp));
        n++;
    }
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (v->drop_bias && i == 1)
            continue;
        int first = i == 0;
        size_t count = (size_t)t[i].dims[0] * (t[i].ndims == 2 ? (size_t)t[i].dims[1] : 1);
        size_t off = data->n;
        for (size_t k = 0; k < count; k++) {
            uint32_t bits;
            memcpy(&bits, &t[i].w[k], 4);
            put_le32(data, bits);
        }
        /* The checksum covers the bytes the entry claims. */
        int64_t sz = (int64_t)count * 4 + (first ? v->kernel_size_delta : 0);
        size_t covered = sz < (int64_t)count * 4 ? (size_t)sz : count * 4;
        uint32_t crc = tf_crc32c_mask(tf_crc32c(0, data->p + off, covered));
        if (first && v->flip_data)
            data->p[off + 5] ^= 0x10;
        snprintf(e[n].key, sizeof e[n].key, "%s/.ATTRIBUTES/VARIABLE_VALUE", t[i].key);
        entry_value(&e[n].value, first ? v->kernel_dtype : TF_DT_FLOAT, t[i].ndims,
                    first ? v->kernel_dims : t[i].dims, off, (uint64_t)sz, crc);
        n++;
    }
    qsort(e, (size_t)n, sizeof e[0], kv_cmp);
    if (v->swap_keys) {
        kv tmp = e[2];
        e[2] = e[3];
        e[3] = tmp;
    }
    buf file = {0};
    int half = n / 2;
    handle d0 = write_block(&file, e, half, v->compressed ? 1 : 0);
    handle d1 = write_block(&file, e + half, n - half, 0);
    kv idx[2];
    memset(idx, 0, sizeof idx);
    snprintf(idx[0].key, sizeof idx[0].key, "%s", e[half - 1].key);
    snprintf(idx[1].key, sizeof idx[1].key, "%s", e[n - 1].key);
    put_varint(&idx[0].value, d0.offset);
    put_varint(&idx[0].value, d0.size);
    put_varint(&idx[1].value, d1.offset);
    put_varint(&idx[1].value, d1.size);
    handle meta = write_block(&file, NULL, 0, 0);
    handle index = write_block(&file, idx, 2, 0);
    buf foot = {0};
    put_varint(&foot, meta.offset);
    put_varint(&foot, meta.size);
    put_varint(&foot, index.offset);
    put_varint(&foot, index.size);
    while (foot.n < 40)
        put(&foot, "", 1);
    put_le32(&foot, 0x8b80fb57u);
    put_le32(&foot, 0xdb477524u);
    put(&file, foot.p, foot.n);
    free(foot.p);
    for (int i = 0; i < n; i++)
        free(e[i].value.p);
    free(idx[0].value.p);
    free(idx[1].value.p);
    *size = file.n;
    return file.p;
}

/* ---- files ---- */

static char g_root[256];

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

typedef struct model_files {
    char dir[512];
    uint8_t *pb, *index;
    size_t pb_size, index_size;
    buf data;
} model_files;

static void write_model(const char *name, const variant *v, model_files *m)
{
    char path[700];
    snprintf(m->dir, sizeof m->dir, "%s/%s", g_root, name);
    mkdir(m->dir, 0755);
    snprintf(path, sizeof path, "%s/variables", m->dir);
    mkdir(path, 0755);
    memset(&m->data, 0, sizeof m->data);
    m->pb = pack_saved_model(v, &m->pb_size);
    m->index = write_index(v, &m->data, &m->index_size);
    snprintf(path, sizeof path, "%s/saved_model.pb", m->dir);
    write_file(path, m->pb, m->pb_size);
    snprintf(path, sizeof path, "%s/variables/variables.index", m->dir);
    write_file(path, m->index, m->index_size);
    snprintf(path, sizeof path, "%s/variables/variables.data-00000-of-00001", m->dir);
    write_file(path, m->data.p, m->data.n);
}

static void free_model(model_files *m)
{
    free(m->pb);
    free(m->index);
    free(m->data.p);
}

static int import_dir(const char *dir, char *err, size_t n)
{
    tml_ir_graph *g = tml_ir_new();
    int rc = tml_import_file(dir, g, err, n);
    tml_ir_free(g);
    return rc;
}

/* -1 with exactly `want` in err. */
static void expect_error(const variant *v, const char *want)
{
    model_files m;
    char err[512] = "";
    write_model("bad", v, &m);
    int rc = import_dir(m.dir, err, sizeof err);
    free_model(&m);
    if (rc != -1 || strcmp(err, want) != 0)
        fail_msg("rc %d, err '%s'\n  expected '%s'", rc, err, want);
}

static int one_line(const char *s)
{
    return s[0] && !strchr(s, '\n') && !strchr(s, '\r');
}

/* ------------------------------------------------------------------------
 * Tests
 * ---------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    snprintf(g_root, sizeof g_root, "/tmp/tml_savedmodel_XXXXXX");
    return mkdtemp(g_root) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_root);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_crc32c(void **state)
{
    (void)state;
    /* The CRC-32C check value (RFC 3720, B.4: "123456789"). */
    assert_int_equal(tf_crc32c(0, "123456789", 9), 0xe3069283u);
    /* Incremental = whole. */
    assert_int_equal(tf_crc32c(tf_crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);
    /* LevelDB's mask: rotate right 15, add 0xa282ead8. */
    assert_int_equal(tf_crc32c_mask(0), 0xa282ead8u);
    assert_int_equal(tf_crc32c_mask(0x00008000u), 0xa282ead9u);
}

/* Imports, exports and runs the model; outputs equal the double
 * reference to float rounding. */
static void test_import_and_run(void **state)
{
    (void)state;
    model_files m;
    variant v = normal();
    write_model("good", &v, &m);
    char err[512] = "", dir[600];
    assert_int_equal(tml_savedmodel_dir(m.dir, dir, sizeof dir), 1);
    assert_string_equal(dir, m.dir);
    for (int pass = 0; pass < 2; pass++) {
        tml_ir_graph *g = tml_ir_new();
        if (tml_import_file(m.dir, g, err, sizeof err) != 0)
            fail_msg("import: %s", err);
        assert_int_equal(g->ninputs, 1);
        assert_int_equal(g->tensors[g->inputs[0]].ndims, 2);
        assert_int_equal(g->tensors[g->inputs[0]].dims[0], 1);
        assert_int_equal(g->tensors[g->inputs[0]].dims[1], 4);
        if (pass)
            assert_int_equal(tml_passes_run(g), 0);
        uint8_t *bytes;
        size_t size;
        assert_int_equal(tml_ir_export_tflite(g, &bytes, &size, err, sizeof err), 0);
        tml_host_interp h;
        assert_int_equal(tml_host_open_bytes(&h, bytes, size, "m", err, sizeof err),
                         TML_HOST_OK);
        free(bytes);
        static const float xs[3][4] = {{1.0f, -2.0f, 0.5f, 3.0f},
                                       {-0.25f, 0.75f, 1.5f, -1.0f},
                                       {0.0f, 0.0f, 0.0f, 0.0f}};
        for (int s = 0; s < 3; s++) {
            double want[2];
            expected(xs[s], want);
            assert_int_equal(tml_set_input(&h.it, 0, xs[s], sizeof xs[s]), TML_OK);
            assert_int_equal(tml_invoke(&h.it), TML_OK);
            float got[2];
            assert_int_equal(tml_get_output(&h.it, 0, got, sizeof got), TML_OK);
            for (int k = 0; k < 2; k++)
                if (fabs(got[k] - want[k]) > 1e-5 * (1.0 + fabs(want[k])))
                    fail_msg("pass %d sample %d out %d: %.7g vs %.7g", pass, s, k, got[k],
                             want[k]);
        }
        tml_host_close(&h);
        tml_ir_free(g);
    }
    /* The saved_model.pb path names the SavedModel too. */
    char pb[700];
    snprintf(pb, sizeof pb, "%s/saved_model.pb", m.dir);
    assert_int_equal(tml_savedmodel_dir(pb, dir, sizeof dir), 1);
    assert_string_equal(dir, m.dir);
    assert_int_equal(import_dir(pb, err, sizeof err), 0);
    assert_int_equal(tml_savedmodel_dir(g_root, dir, sizeof dir), 0);
    snprintf(pb, sizeof pb, "%s/variables/variables.index", m.dir);
    assert_int_equal(tml_savedmodel_dir(pb, dir, sizeof dir), 0);
    free_model(&m);
}

static void test_bundle_reader(void **state)
{
    (void)state;
    variant v = normal();
    buf data = {0};
    size_t size;
    uint8_t *index = write_index(&v, &data, &size);
    tf_bundle b;
    char err[256] = "";
    assert_int_equal(tf_bundle_parse(index, size, &b, err, sizeof err), 0);
    assert_int_equal(b.count, 8);
    assert_int_equal(b.num_shards, 1);
    for (int32_t i = 1; i < b.count; i++)
        assert_true(strcmp(b.entries[i - 1].key, b.entries[i].key) < 0);
    const tf_bundle_entry *e =
        tf_bundle_find(&b, "layer_with_weights-2/kernel/.ATTRIBUTES/VARIABLE_VALUE");
    assert_non_null(e);
    assert_int_equal(e->ndims, 2);
    assert_int_equal(e->dims[0], 3);
    assert_int_equal(e->dims[1], 2);
    assert_int_equal(tf_bundle_elements(e), 6);
    float w[6];
    assert_int_equal(tf_bundle_read_float(e, data.p, data.n, w, err, sizeof err), 0);
    assert_memory_equal(w, K2, sizeof w);
    assert_null(tf_bundle_find(&b, "layer_with_weights-2/kernel"));
    assert_null(tf_bundle_find(&b, ""));
    /* The data file one byte short of the tensor. */
    assert_int_equal(tf_bundle_read_float(e, data.p, (size_t)(e->offset + e->size - 1), w, err,
                                          sizeof err), -1);
    assert_string_equal(err, "tensor 'layer_with_weights-2/kernel/.ATTRIBUTES/VARIABLE_VALUE': "
                             "bytes [108, +24) lie outside its 131-byte data file");
    tf_bundle_free(&b);
    /* Every prefix of the table: the footer's magic is gone (or the
     * table is shorter than the footer). */
    for (size_t cut = 0; cut < size; cut++) {
        int rc = tf_bundle_parse(index, cut, &b, err, sizeof err);
        assert_int_equal(rc, -1);
        assert_true(one_line(err));
    }
    assert_int_equal(tf_bundle_parse(index, 47, &b, err, sizeof err), -1);
    assert_string_equal(err, "the table is 47 bytes, shorter than its 48-byte footer");
    /* Every single-byte change: a block's content or trailer fails its
     * checksum; the footer's handles point elsewhere (or nowhere); only
     * the metaindex block (unread) and the footer padding may change
     * unnoticed, and then the result is the same. */
    int rejected = 0;
    for (size_t at = 0; at < size; at++) {
        for (int bit = 0; bit < 8; bit += 3) {
            index[at] ^= (uint8_t)(1u << bit);
            int rc = tf_bundle_parse(index, size, &b, err, sizeof err);
            index[at] ^= (uint8_t)(1u << bit);
            if (rc == 0) {
                assert_int_equal(b.count, 8);
                tf_bundle_free(&b);
            } else {
                assert_int_equal(rc, -1);
                assert_true(one_line(err));
                rejected++;
            }
        }
    }
    /* At least every byte of the data and index blocks (all but the
     * footer and the 13-byte metaindex block, x 3 bits). */
    assert_true(rejected >= 3 * ((int)size - 48 - 13));
    free(index);
    free(data.p);
}

static void test_truncated_files(void **state)
{
    (void)state;
    model_files m;
    variant v = normal();
    write_model("trunc", &v, &m);
    char path[700], err[512];
    snprintf(path, sizeof path, "%s/saved_model.pb", m.dir);
    for (size_t cut = 0; cut < m.pb_size; cut += 7) {
        write_file(path, m.pb, cut);
        err[0] = '\0';
        assert_int_equal(import_dir(m.dir, err, sizeof err), -1);
        assert_true(one_line(err));
    }
    /* Every byte of saved_model.pb changed (one bit): imports or fails in
     * one line (flips inside the JSON or names may still import). */
    int failed = 0;
    for (size_t at = 0; at < m.pb_size; at++) {
        m.pb[at] ^= 0x04;
        write_file(path, m.pb, m.pb_size);
        m.pb[at] ^= 0x04;
        err[0] = '\0';
        int rc = import_dir(m.dir, err, sizeof err);
        if (rc != 0) {
            assert_int_equal(rc, -1);
            assert_true(one_line(err));
            failed++;
        }
    }
    assert_true(failed > 0);
    write_file(path, m.pb, m.pb_size / 2);
    assert_int_equal(import_dir(m.dir, err, sizeof err), -1);
    assert_string_equal(err, "saved_model.pb is not a valid SavedModel (truncated or corrupt "
                             "protobuf)");
    write_file(path, m.pb, 0);
    assert_int_equal(import_dir(m.dir, err, sizeof err), -1);
    assert_string_equal(err, "saved_model.pb has no MetaGraphDef");
    write_file(path, m.pb, m.pb_size);
    snprintf(path, sizeof path, "%s/variables/variables.data-00000-of-00001", m.dir);
    for (size_t cut = 0; cut < m.data.n; cut += 5) {
        write_file(path, m.data.p, cut);
        assert_int_equal(import_dir(m.dir, err, sizeof err), -1);
        assert_true(one_line(err));
        assert_non_null(strstr(err, "variables/variables.data-00000-of-00001: tensor '"));
    }
    unlink(path);
    assert_int_equal(import_dir(m.dir, err, sizeof err), -1);
    assert_string_equal(err, "layer 'd1' (Dense): variables/variables.data-00000-of-00001: "
                             "cannot read it");
    snprintf(path, sizeof path, "%s/variables/variables.index", m.dir);
    unlink(path);
    assert_int_equal(import_dir(m.dir, err, sizeof err), -1);
    assert_string_equal(err, "variables/variables.index: cannot read it (no variables "
                             "directory?)");
    free_model(&m);
}

static void test_hostile_bundles(void **state)
{
    (void)state;
    const char *kernel = "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE";
    char want[512];
    variant v = normal();
    v.kernel_dims[1] = 2;
    v.kernel_size_delta = -16;
    expect_error(&v, "layer 'd1' (Dense): weight 'kernel' has shape [4,2], expected [4,3]");

    v = normal();
    v.kernel_size_delta = -4;
    snprintf(want, sizeof want, "layer 'd1' (Dense): variables/variables.data-00000-of-00001: "
                                "tensor '%s': 44 bytes for its shape", kernel);
    expect_error(&v, want);

    v = normal();
    v.kernel_dtype = TF_DT_INT32;
    snprintf(want, sizeof want, "layer 'd1' (Dense): variables/variables.data-00000-of-00001: "
                                "tensor '%s' has dtype int32 (3), only float32 is supported",
             kernel);
    expect_error(&v, want);

    v = normal();
    v.flip_data = 1;
    snprintf(want, sizeof want, "layer 'd1' (Dense): variables/variables.data-00000-of-00001: "
                                "tensor '%s': checksum mismatch (corrupt data file)", kernel);
    expect_error(&v, want);

    v = normal();
    v.drop_bias = 1;
    expect_error(&v, "layer 'd1' (Dense): the checkpoint has no tensor "
                     "'layer_with_weights-0/bias/.ATTRIBUTES/VARIABLE_VALUE'");

    v = normal();
    v.d1_units = 5;
    expect_error(&v, "layer 'd1' (Dense): weight 'kernel' has shape [4,3], expected [4,5]");

    v = normal();
    v.compressed = 1;
    expect_error(&v, "variables/variables.index: data block at offset 0 is compressed (type 1); "
                     "only uncompressed tables are supported");

    v = normal();
    v.swap_keys = 1;
    expect_error(&v, "variables/variables.index: table keys are out of order at "
                     "'layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE'");

    v = normal();
    v.no_header = 1;
    expect_error(&v, "variables/variables.index: the bundle has no header entry");

    v = normal();
    v.big_endian = 1;
    expect_error(&v, "variables/variables.index: big-endian bundles are not supported");
}

static void test_hostile_object_graphs(void **state)
{
    (void)state;
    variant v = normal();
    v.no_metadata = 1;
    expect_error(&v, "SavedModel without Keras metadata is not supported yet (graph import)");

    v = normal();
    v.dangling_child = 1;
    expect_error(&v, "saved_model.pb: object 5 has a child 20 outside the 15 objects");

    /* A SavedModel without an object graph (TF1 style). */
    model_files m;
    v = normal();
    write_model("tf1", &v, &m);
    Tmltf__SavedModel sm;
    Tmltf__MetaGraphDef mg, *mgp = &mg;
    tmltf__saved_model__init(&sm);
    tmltf__meta_graph_def__init(&mg);
    sm.n_meta_graphs = 1;
    sm.meta_graphs = &mgp;
    uint8_t pb[64];
    size_t n = tmltf__saved_model__pack(&sm, pb);
    char path[700], err[512];
    snprintf(path, sizeof path, "%s/saved_model.pb", m.dir);
    write_file(path, pb, n);
    assert_int_equal(import_dir(m.dir, err, sizeof err), -1);
    assert_string_equal(err, "SavedModel without Keras metadata is not supported yet "
                             "(graph import)");
    /* Random bytes as saved_model.pb. */
    uint32_t s = 7;
    for (int trial = 0; trial < 200; trial++) {
        uint8_t junk[300];
        size_t len = 1 + (size_t)trial % sizeof junk;
        for (size_t i = 0; i < len; i++) {
            s = s * 1664525u + 1013904223u;
            junk[i] = (uint8_t)(s >> 24);
        }
        write_file(path, junk, len);
        err[0] = '\0';
        assert_int_equal(import_dir(m.dir, err, sizeof err), -1);
        assert_true(one_line(err));
    }
    free_model(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test(test_import_and_run),
        cmocka_unit_test(test_bundle_reader),
        cmocka_unit_test(test_truncated_files),
        cmocka_unit_test(test_hostile_bundles),
        cmocka_unit_test(test_hostile_object_graphs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
