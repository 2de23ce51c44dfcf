/*
 * gen_malformed <valid.tflite> <outdir>
 *
 * Writes a corpus of hostile variants of a valid TFLite model into outdir
 * and prints the number of files written (one number on stdout).
 *
 * File names say what the verifier must do with them:
 *   bad_<kind>_NNNN.tflite    invalid: loading must fail with one line
 *   maybe_<kind>_NNNN.tflite  may still be valid (e.g. a flipped weight
 *                             byte): loading may succeed or fail
 * Kinds: trunc (truncations, incl. every length 0..64), flip (flipped
 * bytes, deterministic PRNG), random (random bytes), garbage (a valid
 * header then random bytes), huge (a dim patched to 0x7fffffff), index
 * (buffer/opcode/tensor indices out of range), version (schema version
 * != 3), quant (NaN/Inf scales, zero points beyond int32), struct (broken
 * vtables, vector lengths, strings, offsets, names, options types).
 *
 * Deterministic: the same input always gives the same corpus.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fb.h"
#include "model.h"
#include "schema.h"
#include "tools/lib/file_io.h"

/* At most this many tensors/operators get per-item variants. */
#define MAX_ITEMS 48
#define NUM_TRUNC 200
#define NUM_FLIP 240
#define NUM_RANDOM 24
#define NUM_GARBAGE 16

typedef struct gen {
    const char *dir;
    const uint8_t *src;
    size_t size;
    uint8_t *tmp;           /* size bytes, 16-aligned */
    tml_fb fb;
    tml_model m;
    uint32_t rng;
    int count;
    int failed;
} gen;

static uint32_t next_rand(gen *g)
{
    /* xorshift32: deterministic, no libc rand() state. */
    uint32_t x = g->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    g->rng = x;
    return x;
}

static void emit(gen *g, int maybe, const char *kind, const uint8_t *data,
                 size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s_%s_%04d.tflite", g->dir,
             maybe ? "maybe" : "bad", kind, g->count);
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
        fprintf(stderr, "gen_malformed: %s: %s\n", path, strerror(errno));
        g->failed = 1;
        return;
    }
    g->count++;
}

static void reset(gen *g)
{
    memcpy(g->tmp, g->src, g->size);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* A copy of the model with the 32-bit word at pos replaced. */
static void emit_patch32(gen *g, int maybe, const char *kind, uint32_t pos,
                         uint32_t value)
{
    if (!pos || pos + 4 > g->size)
        return;
    reset(g);
    put32(g->tmp + pos, value);
    emit(g, maybe, kind, g->tmp, g->size);
}

static void emit_patch8(gen *g, int maybe, const char *kind, uint32_t pos,
                        uint8_t value)
{
    if (!pos || pos >= g->size)
        return;
    reset(g);
    g->tmp[pos] = value;
    emit(g, maybe, kind, g->tmp, g->size);
}

/* ---- navigation (the input is verified, so these cannot fail) ---- */

static uint32_t field_pos(gen *g, uint32_t table, int field, uint32_t size)
{
    uint32_t pos = 0;
    if (tml_fb_field(&g->fb, table, field, size, &pos))
        return 0;
    return pos;
}

static uint32_t field_ref(gen *g, uint32_t table, int field)
{
    uint32_t ref = 0;
    if (tml_fb_field_ref(&g->fb, table, field, &ref))
        return 0;
    return ref;
}

static uint32_t elem_table(gen *g, uint32_t vec_data, uint32_t i)
{
    uint32_t t = 0;
    if (tml_fb_vector_table(&g->fb, vec_data, i, &t))
        return 0;
    return t;
}

/* ---- the variants ---- */

static void gen_truncations(gen *g)
{
    /* Every length 0..64 (headers, root table, first vtable), then the
     * rest spread evenly over the file. */
    size_t n = 0;
    for (; n <= 64 && n < g->size; n++)
        emit(g, 0, "trunc", g->src, n);
    size_t rest = NUM_TRUNC - 65;
    for (size_t k = 1; k <= rest; k++) {
        size_t cut = 64 + (g->size - 64) * k / (rest + 1);
        if (cut >= g->size)
            break;
        emit(g, 0, "trunc", g->src, cut);
    }
    /* The last byte too. */
    emit(g, 0, "trunc", g->src, g->size - 1);
}

/* Marks the bytes of constant tensor data: flips there change weights,
 * not structure, so most structural flips go elsewhere. */
static void mark_data(gen *g, uint8_t *is_data)
{
    memset(is_data, 0, g->size);
    for (int32_t i = 0; i < g->m.ntensors; i++) {
        tml_model_tensor t;
        tml_model_get_tensor(&g->m, i, &t);
        if (t.data)
            memset(is_data + (t.data - g->src), 1, t.data_size);
    }
}

static void gen_flips(gen *g)
{
    uint8_t *is_data = malloc(g->size);
    if (!is_data) {
        g->failed = 1;
        return;
    }
    mark_data(g, is_data);
    for (int k = 0; k < NUM_FLIP; k++) {
        reset(g);
        int nflips = 1 + (int)(next_rand(g) % 4);
        for (int f = 0; f < nflips; f++) {
            size_t pos = next_rand(g) % g->size;
            /* Three in four flips go to structure, not weights. */
            for (int tries = 0; k % 4 && is_data[pos] && tries < 64; tries++)
                pos = next_rand(g) % g->size;
            uint8_t mask = (uint8_t)(1u << (next_rand(g) % 8));
            if (k % 8 == 7)
                mask = (uint8_t)(next_rand(g) | 1u);
            g->tmp[pos] ^= mask;
        }
        emit(g, 1, "flip", g->tmp, g->size);
    }
    free(is_data);
}

static void gen_random(gen *g)
{
    uint8_t *buf = malloc(4096);
    if (!buf) {
        g->failed = 1;
        return;
    }
    for (int k = 0; k < NUM_RANDOM; k++) {
        size_t n = next_rand(g) % 4096;
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)next_rand(g);
        if (k % 2 && n >= 8)
            memcpy(buf + 4, "TFL3", 4);   /* plausible identifier */
        emit(g, 0, "random", buf, n);
    }
    free(buf);
}

static void gen_garbage_after_header(gen *g)
{
    static const size_t keep[NUM_GARBAGE] = { 8, 12, 16, 20, 24, 28, 32, 40,
                                              48, 64, 80, 96, 128, 160, 192,
                                              256 };
    for (int k = 0; k < NUM_GARBAGE; k++) {
        if (keep[k] >= g->size)
            break;
        reset(g);
        for (size_t i = keep[k]; i < g->size; i++)
            g->tmp[i] = (uint8_t)next_rand(g);
        emit(g, 0, "garbage", g->tmp, g->size);
    }
}

static void gen_version(gen *g)
{
    uint32_t root = tml_fb_u32(g->src);
    uint32_t pos = field_pos(g, root, TML_F_MODEL_VERSION, 4);
    static const uint32_t versions[] = { 0, 1, 2, 4, 0xffffffffu };
    for (size_t k = 0; k < sizeof versions / sizeof versions[0]; k++)
        emit_patch32(g, 0, "version", pos, versions[k]);
}

static void gen_tensor_variants(gen *g, uint32_t tensors, int32_t ntensors)
{
    int32_t n = ntensors < MAX_ITEMS ? ntensors : MAX_ITEMS;
    for (int32_t i = 0; i < n; i++) {
        tml_model_tensor t;
        uint32_t table = elem_table(g, tensors, (uint32_t)i);
        tml_model_get_tensor(&g->m, i, &t);

        /* Huge dims: invalid when the bytes reach 2^31 or the tensor has
         * constant data (its size then no longer matches). */
        uint32_t shape = field_ref(g, table, TML_F_TENSOR_SHAPE);
        for (int32_t d = 0; shape && d < t.ndims && d < 2; d++) {
            unsigned long long bytes = tml_model_dtype_size(t.type);
            for (int32_t e = 0; e < t.ndims; e++)
                bytes *= e == d ? 0x7fffffffull : (unsigned long long)t.dims[e];
            int maybe = !t.data && bytes < 0x80000000ull;
            emit_patch32(g, maybe, "huge", shape + 4 + 4 * (uint32_t)d,
                         0x7fffffffu);
            emit_patch32(g, 0, "huge", shape + 4 + 4 * (uint32_t)d,
                         0x80000000u);
        }
        /* Rank and vector length. */
        if (shape) {
            emit_patch32(g, 0, "struct", shape, 0x3fffffffu);
            if (t.ndims <= TML_MAX_DIMS)
                emit_patch32(g, 0, "struct", shape, TML_MAX_DIMS + 1);
        }
        /* Buffer index out of range. */
        uint32_t buf = field_pos(g, table, TML_F_TENSOR_BUFFER, 4);
        emit_patch32(g, 0, "index", buf, (uint32_t)g->m.nbuffers);
        emit_patch32(g, 0, "index", buf, 0xffffffffu);
        /* Types: STRING, out of the enum. */
        uint32_t type = field_pos(g, table, TML_F_TENSOR_TYPE, 1);
        emit_patch8(g, 0, "struct", type, TML_STRING);
        emit_patch8(g, 0, "struct", type, 0x7f);
        /* Name without its NUL. */
        uint32_t name = field_ref(g, table, TML_F_TENSOR_NAME);
        if (name)
            emit_patch8(g, 0, "struct", name + 4 + tml_fb_u32(g->src + name),
                        'X');
        /* Table soffset pointing outside the file, and a misaligned
         * table offset in the tensors vector. */
        emit_patch32(g, 0, "struct", table, 0x80000000u);
        emit_patch32(g, 0, "struct", tensors + 4 * (uint32_t)i,
                     tml_fb_u32(g->src + tensors + 4 * (uint32_t)i) + 1);
        /* A control byte in the name (would break one-line messages). */
        if (name && tml_fb_u32(g->src + name) > 0)
            emit_patch8(g, 0, "struct", name + 4, '\n');
        /* Quantization: count mismatch, NaN scale, zero point past int32. */
        uint32_t quant = 0;
        if (t.nscales > 0 && !tml_fb_field_table(&g->fb, table,
                                                 TML_F_TENSOR_QUANT, &quant) &&
            quant) {
            uint32_t scales = field_ref(g, quant, TML_F_QUANT_SCALE);
            if (t.nscales > 1)
                emit_patch32(g, 0, "struct", scales, (uint32_t)t.nscales - 1);
            emit_patch32(g, 0, "quant", scales + 4, 0x7fc00000u);
            emit_patch32(g, 0, "quant", scales + 4, 0xff800000u);
            uint32_t zps = field_ref(g, quant, TML_F_QUANT_ZERO_POINT);
            if (zps && tml_fb_u32(g->src + zps) > 0)
                emit_patch32(g, 0, "quant", zps + 8, 0x00000001u);
        }
    }
}

/* Ops whose options type the verifier checks (tinyml runs them). */
static int is_known_op(int32_t builtin)
{
    static const int32_t ops[] = { 0, 1, 2, 3, 4, 6, 9, 17, 18, 22, 25, 34,
                                   39, 40, 41, 43, 45, 98, 114, 117 };
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
        if (ops[k] == builtin)
            return 1;
    return 0;
}

static void gen_op_variants(gen *g, uint32_t ops, int32_t nops,
                            int32_t ntensors)
{
    int32_t n = nops < MAX_ITEMS ? nops : MAX_ITEMS;
    for (int32_t i = 0; i < n; i++) {
        uint32_t table = elem_table(g, ops, (uint32_t)i);
        uint32_t oc = field_pos(g, table, TML_F_OP_OPCODE_INDEX, 4);
        emit_patch32(g, 0, "index", oc, (uint32_t)g->m.nopcodes);
        uint32_t in = field_ref(g, table, TML_F_OP_INPUTS);
        if (in && tml_fb_u32(g->src + in) > 0) {
            emit_patch32(g, 0, "index", in + 4, (uint32_t)ntensors);
            emit_patch32(g, 0, "index", in + 4, (uint32_t)-2);
            emit_patch32(g, 0, "struct", in, 0x40000000u);
        }
        uint32_t out = field_ref(g, table, TML_F_OP_OUTPUTS);
        if (out && tml_fb_u32(g->src + out) > 0) {
            emit_patch32(g, 0, "index", out + 4, (uint32_t)ntensors);
            emit_patch32(g, 0, "index", out + 4, 0xffffffffu);
        }
        /* Options table with a vtable outside the file; options of
         * another op's type (CONV_2D's or, for CONV_2D, SOFTMAX's). */
        uint32_t opt = 0;
        tml_model_op op;
        tml_model_get_op(&g->m, i, &op);
        if (!tml_fb_field_table(&g->fb, table, TML_F_OP_OPTIONS, &opt) && opt)
            emit_patch32(g, 0, "struct", opt, 0x7ffffff0u);
        uint32_t otype = field_pos(g, table, TML_F_OP_OPTIONS_TYPE, 1);
        if (otype && op.options_type != TML_OPT_NONE && is_known_op(op.builtin))
            emit_patch8(g, 0, "struct", otype,
                        op.options_type == TML_OPT_CONV_2D ? TML_OPT_SOFTMAX
                                                           : TML_OPT_CONV_2D);
    }
}

static void gen_model_variants(gen *g)
{
    uint32_t root = tml_fb_u32(g->src);
    /* Root offset out of range, misaligned, or at the vtable. */
    static const uint32_t roots[3] = { 0, 0xfffffffcu, 2 };
    for (int k = 0; k < 3; k++) {
        reset(g);
        put32(g->tmp, k == 0 ? (uint32_t)g->size : k == 1 ? roots[1]
                                                         : root + roots[2]);
        emit(g, 0, "struct", g->tmp, g->size);
    }
    /* No subgraphs; absurd vector lengths. */
    uint32_t sgs = field_ref(g, root, TML_F_MODEL_SUBGRAPHS);
    emit_patch32(g, 0, "struct", sgs, 0);
    emit_patch32(g, 0, "struct", sgs, 0x7fffffffu);
    emit_patch32(g, 0, "struct", field_ref(g, root, TML_F_MODEL_BUFFERS),
                 0x20000000u);
    emit_patch32(g, 0, "struct", field_ref(g, root, TML_F_MODEL_OPCODES),
                 0xffffffffu);
    /* Opcode versions 0. */
    uint32_t n, data;
    if (!tml_fb_field_vector(&g->fb, root, TML_F_MODEL_OPCODES, 4, 4, &n,
                             &data))
        for (uint32_t i = 0; i < n && i < MAX_ITEMS; i++) {
            uint32_t oc = elem_table(g, data, i);
            emit_patch32(g, 0, "struct",
                         field_pos(g, oc, TML_F_OPCODE_VERSION, 4), 0);
        }
    /* Subgraph input index out of range. */
    uint32_t sg = elem_table(g, tml_fb_u32(g->src + sgs) ? sgs + 4 : 0, 0);
    uint32_t in = sg ? field_ref(g, sg, TML_F_SUBGRAPH_INPUTS) : 0;
    if (in && tml_fb_u32(g->src + in) > 0)
        emit_patch32(g, 0, "index", in + 4, (uint32_t)g->m.ntensors);
    /* Root vtable: odd size, inline size past the end. */
    int32_t soff = (int32_t)tml_fb_u32(g->src + root);
    uint32_t vt = (uint32_t)((int64_t)root - soff);
    emit_patch8(g, 0, "struct", vt, 3);
    if (vt + 4 <= g->size) {
        reset(g);
        g->tmp[vt + 2] = 0xff;
        g->tmp[vt + 3] = 0xff;
        /* Only invalid when the table's end passes the file end. */
        emit(g, (uint64_t)root + 0xffff <= g->size, "struct", g->tmp,
             g->size);
    }
}

int main(int argc, char **argv)
{
    gen g;
    char err[256];

    if (argc != 3) {
        fprintf(stderr, "usage: gen_malformed <valid.tflite> <outdir>\n"
                        "writes bad_*.tflite (must be rejected) and "
                        "maybe_*.tflite (may load) into outdir and prints "
                        "the number of files\n");
        return 2;
    }
    memset(&g, 0, sizeof g);
    g.dir = argv[2];
    g.src = tml_read_file(argv[1], &g.size, err, sizeof err);
    if (!g.src) {
        fprintf(stderr, "gen_malformed: %s\n", err);
        return 1;
    }
    if (tml_model_load(&g.m, g.src, g.size, err, sizeof err) != TML_OK) {
        fprintf(stderr, "gen_malformed: %s: not a valid model: %s\n",
                argv[1], err);
        return 1;
    }
    if (mkdir(g.dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "gen_malformed: %s: %s\n", g.dir, strerror(errno));
        return 1;
    }
    g.tmp = aligned_alloc(16, (g.size + 16) & ~(size_t)15);
    if (!g.tmp) {
        fprintf(stderr, "gen_malformed: out of memory\n");
        return 1;
    }
    g.fb.base = g.src;
    g.fb.size = (uint32_t)g.size;
    g.rng = 0x9e3779b9u ^ (uint32_t)g.size;

    gen_truncations(&g);
    gen_flips(&g);
    gen_random(&g);
    gen_garbage_after_header(&g);
    gen_version(&g);
    gen_tensor_variants(&g, g.m.tensors, g.m.ntensors);
    gen_op_variants(&g, g.m.operators, g.m.nops, g.m.ntensors);
    gen_model_variants(&g);

    free(g.tmp);
    free((void *)g.src);
    if (g.failed)
        return 1;
    printf("%d\n", g.count);
    return 0;
}
