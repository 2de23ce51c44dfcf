/*
 * make_example_model: writes the example models tinyml ships, built by the
 * project itself (no training framework needed):
 *
 *   tiny_int8.tflite   int8 in, int8 out, per-channel conv weights
 *   tiny_float.tflite  the same network in float32
 *   stroke_vertical.npy, stroke_horizontal.npy, stroke_diagonal.npy,
 *   stroke_antidiagonal.npy   sample inputs, float32 [1,8,8,1]
 *                             (`tinyml run MODEL --input FILE.npy`)
 *
 * The network classifies an 8x8 grey image (values 0..1) holding one
 * stroke into 4 classes: 0 vertical '|', 1 horizontal '-', 2 diagonal '\',
 * 3 anti-diagonal '/'.
 *
 *   input [1,8,8,1]
 *   CONV_2D 3x3, 4 filters, SAME, stride 1, ReLU  -> [1,8,8,4]
 *   MAX_POOL_2D 2x2, stride 2                      -> [1,4,4,4]
 *   RESHAPE                                        -> [1,64]
 *   FULLY_CONNECTED 64 -> 4                        -> [1,4]
 *   SOFTMAX                                        -> [1,4]
 *
 * The weights are hand-designed, so the outputs mean something: each conv
 * filter is a line detector for one direction, and class c's dense weights
 * add up detector c over the image and subtract a quarter of the others.
 *
 * Quantization follows TFLite's int8 spec: weights symmetric (zero point
 * 0), conv weights per output channel, biases int32 with scale
 * input_scale * weight_scale; activations asymmetric with ranges measured
 * by running the float network over a calibration set (every stroke at
 * every position, plus seeded noise images); max-pool and reshape keep
 * their input's parameters; softmax output scale 1/256, zero point -128.
 *
 * The output is deterministic: the same program writes the same bytes
 * (tests/convert/test_example_model.sh checks the checked-in copies).
 *
 * usage: make_example_model OUT_DIR
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert/export/tflite_writer.h"
#include "runtime/kernel.h"
#include "tools/lib/file_io.h"
#include "tools/lib/npy.h"

enum { H = 8, W = 8, C = 4, PH = 4, PW = 4, FLAT = PH * PW * C, K = 4 };

/* ---- the float network ---- */

static float g_conv_w[C][3][3];     /* OHWI with I = 1 */
static float g_conv_b[C];
static float g_fc_w[K][FLAT];
static float g_fc_b[K];

static void design_weights(void)
{
    /* Line detectors: +2 on the line, -1 beside it (zero-sum, so a flat
     * image gives 0). */
    static const float v[3][3] = {{-1, 2, -1}, {-1, 2, -1}, {-1, 2, -1}};
    static const float d[3][3] = {{2, -1, -1}, {-1, 2, -1}, {-1, -1, 2}};
    /* Each detector gets its own gain (undone by the dense weights), so
     * the four conv channels really need four per-channel scales. */
    static const float gain[C] = {1.0f, 0.8f, 1.25f, 0.9f};
    int c, y, x, k, p;
    for (y = 0; y < 3; y++) {
        for (x = 0; x < 3; x++) {
            g_conv_w[0][y][x] = v[y][x];
            g_conv_w[1][y][x] = v[x][y];           /* horizontal */
            g_conv_w[2][y][x] = d[y][x];
            g_conv_w[3][y][x] = d[y][2 - x];       /* anti-diagonal */
        }
    }
    for (c = 0; c < C; c++) {
        for (y = 0; y < 3; y++)
            for (x = 0; x < 3; x++)
                g_conv_w[c][y][x] *= gain[c];
        g_conv_b[c] = -0.5f * gain[c];  /* ignore weak, partial responses */
    }
    for (k = 0; k < K; k++) {
        for (p = 0; p < PH * PW; p++)
            for (c = 0; c < C; c++)
                g_fc_w[k][p * C + c] = (c == k ? 0.25f : -0.0625f) / gain[c];
        g_fc_b[k] = 0.1f * (float)k - 0.15f;   /* small, nonzero biases */
    }
}

/* conv (SAME, zero padding) + ReLU, max-pool, dense: the logits. */
static void forward(const float in[H][W], float conv[H][W][C],
                    float logits[K])
{
    float pool[FLAT];
    int y, x, c, i, j, k;
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++)
            for (c = 0; c < C; c++) {
                float s = g_conv_b[c];
                for (i = 0; i < 3; i++)
                    for (j = 0; j < 3; j++) {
                        int yy = y + i - 1, xx = x + j - 1;
                        if (yy >= 0 && yy < H && xx >= 0 && xx < W)
                            s += g_conv_w[c][i][j] * in[yy][xx];
                    }
                conv[y][x][c] = s > 0 ? s : 0;
            }
    for (y = 0; y < PH; y++)
        for (x = 0; x < PW; x++)
            for (c = 0; c < C; c++) {
                float m = conv[2 * y][2 * x][c];
                for (i = 0; i < 2; i++)
                    for (j = 0; j < 2; j++)
                        if (conv[2 * y + i][2 * x + j][c] > m)
                            m = conv[2 * y + i][2 * x + j][c];
                pool[(y * PW + x) * C + c] = m;
            }
    for (k = 0; k < K; k++) {
        float s = g_fc_b[k];
        for (i = 0; i < FLAT; i++)
            s += g_fc_w[k][i] * pool[i];
        logits[k] = s;
    }
}

/* One stroke of class k through (or near) position `at`. */
static void draw_stroke(float img[H][W], int k, int at)
{
    int i;
    memset(img, 0, sizeof(float) * H * W);
    for (i = 0; i < 8; i++) {
        switch (k) {
        case 0: img[i][at] = 1.0f; break;
        case 1: img[at][i] = 1.0f; break;
        case 2: if (i + at - 4 >= 0 && i + at - 4 < W) img[i][i + at - 4] = 1.0f; break;
        default: if (7 - i + at - 4 >= 0 && 7 - i + at - 4 < W) img[i][7 - i + at - 4] = 1.0f; break;
        }
    }
}

/* xorshift32: a fixed, portable sequence for the noise images. */
static uint32_t next_random(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

typedef struct ranges {
    float conv_max;
    float logit_min, logit_max;
} ranges;

static void observe(ranges *r, const float img[H][W])
{
    float conv[H][W][C], logits[K];
    int y, x, c;
    forward(img, conv, logits);
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++)
            for (c = 0; c < C; c++)
                if (conv[y][x][c] > r->conv_max)
                    r->conv_max = conv[y][x][c];
    for (c = 0; c < K; c++) {
        if (logits[c] < r->logit_min)
            r->logit_min = logits[c];
        if (logits[c] > r->logit_max)
            r->logit_max = logits[c];
    }
}

static ranges calibrate(void)
{
    ranges r = {0.0f, 0.0f, 0.0f};
    float img[H][W];
    uint32_t seed = 12345u;
    int k, at, n, y, x;
    for (k = 0; k < K; k++)
        for (at = 1; at < 7; at++) {
            draw_stroke(img, k, at);
            observe(&r, img);
        }
    for (n = 0; n < 32; n++) {
        for (y = 0; y < H; y++)
            for (x = 0; x < W; x++)
                img[y][x] = (float)(next_random(&seed) % 256u) / 255.0f;
        observe(&r, img);
    }
    return r;
}

/* ---- writing ---- */

/* TFLite rounds half away from zero (std::round). */
static int32_t round_i32(double v)
{
    return (int32_t)(v < 0 ? -floor(-v + 0.5) : floor(v + 0.5));
}

static int8_t quantize_weight(float w, float scale)
{
    int32_t q = round_i32((double)w / scale);
    return (int8_t)(q > 127 ? 127 : q < -127 ? -127 : q);
}

typedef struct qparams {
    float scale;
    int64_t zero_point;
} qparams;

/* Asymmetric int8 parameters for [lo, hi] (the range is widened to hold
 * 0, so 0 is exact, as TFLite's converter does). */
static qparams asym(float lo, float hi)
{
    qparams q;
    if (lo > 0)
        lo = 0;
    if (hi < 0)
        hi = 0;
    q.scale = (hi - lo) / 255.0f;
    q.zero_point = round_i32(-128.0 - (double)lo / q.scale);
    return q;
}

static int add_act(tml_tfl_writer *w, const char *name, int int8,
                   const int32_t *dims, int32_t ndims, const qparams *q)
{
    tml_tfl_tensor t;
    memset(&t, 0, sizeof t);
    t.name = name;
    t.type = int8 ? TML_INT8 : TML_FLOAT32;
    t.ndims = ndims;
    t.dims = dims;
    if (int8) {
        t.quant.count = 1;
        t.quant.scales = &q->scale;
        t.quant.zero_points = &q->zero_point;
    }
    return tml_tfl_add_tensor(w, &t);
}

static int describe(tml_tfl_writer *w, int int8)
{
    static const int32_t in_dims[4] = {1, H, W, 1};
    static const int32_t conv_dims[4] = {1, H, W, C};
    static const int32_t pool_dims[4] = {1, PH, PW, C};
    static const int32_t flat_dims[2] = {1, FLAT};
    static const int32_t out_dims[2] = {1, K};
    static const int32_t filt_dims[4] = {C, 3, 3, 1};
    static const int32_t cbias_dims[1] = {C};
    static const int32_t fcw_dims[2] = {K, FLAT};
    static const int32_t fcb_dims[1] = {K};
    static const int32_t shape_dims[1] = {2};
    static const int32_t new_shape[2] = {1, FLAT};
    ranges r = calibrate();
    qparams q_in = {1.0f / 255.0f, -128};     /* [0, 1] */
    qparams q_conv = asym(0.0f, r.conv_max);
    qparams q_logit = asym(r.logit_min, r.logit_max);
    qparams q_prob = {1.0f / 256.0f, -128};   /* TFLite softmax int8 */
    float wscale[C], bscale[C], fc_wscale[1], fc_bscale[1];
    int8_t qfilt[C * 9], qfc[K * FLAT];
    int32_t qcb[C], qfb[K];
    float fmax;
    tml_tfl_tensor t;
    tml_tfl_options o;
    int32_t x, filt, cb, conv, pool, shape, flat, fcw, fcb, logits, prob;
    int c, i, k;

    /* constants */
    memset(&t, 0, sizeof t);
    t.name = "conv/filter";
    t.type = int8 ? TML_INT8 : TML_FLOAT32;
    t.ndims = 4;
    t.dims = filt_dims;
    if (int8) {
        for (c = 0; c < C; c++) {
            float m = 0;
            for (i = 0; i < 9; i++)
                if (fabsf(g_conv_w[c][i / 3][i % 3]) > m)
                    m = fabsf(g_conv_w[c][i / 3][i % 3]);
            wscale[c] = m / 127.0f;
            bscale[c] = q_in.scale * wscale[c];
            for (i = 0; i < 9; i++)
                qfilt[c * 9 + i] = quantize_weight(g_conv_w[c][i / 3][i % 3],
                                                   wscale[c]);
            qcb[c] = round_i32((double)g_conv_b[c] / bscale[c]);
        }
        /* per output channel: quantized_dimension 0 of OHWI */
        t.quant = (tml_tfl_quant){C, wscale, NULL, 0};
        filt = tml_tfl_add_const_tensor(w, &t, qfilt, sizeof qfilt);
    } else {
        filt = tml_tfl_add_const_tensor(w, &t, g_conv_w, sizeof g_conv_w);
    }
    t.name = "conv/bias";
    t.type = int8 ? TML_INT32 : TML_FLOAT32;
    t.ndims = 1;
    t.dims = cbias_dims;
    if (int8) {
        t.quant = (tml_tfl_quant){C, bscale, NULL, 0};
        cb = tml_tfl_add_const_tensor(w, &t, qcb, sizeof qcb);
    } else {
        cb = tml_tfl_add_const_tensor(w, &t, g_conv_b, sizeof g_conv_b);
    }
    memset(&t, 0, sizeof t);
    t.name = "flatten/shape";
    t.type = TML_INT32;
    t.ndims = 1;
    t.dims = shape_dims;
    shape = tml_tfl_add_const_tensor(w, &t, new_shape, sizeof new_shape);
    t.name = "dense/weights";
    t.type = int8 ? TML_INT8 : TML_FLOAT32;
    t.ndims = 2;
    t.dims = fcw_dims;
    if (int8) {
        fmax = 0;
        for (k = 0; k < K; k++)
            for (i = 0; i < FLAT; i++)
                if (fabsf(g_fc_w[k][i]) > fmax)
                    fmax = fabsf(g_fc_w[k][i]);
        fc_wscale[0] = fmax / 127.0f;
        fc_bscale[0] = q_conv.scale * fc_wscale[0];
        for (k = 0; k < K; k++) {
            for (i = 0; i < FLAT; i++)
                qfc[k * FLAT + i] = quantize_weight(g_fc_w[k][i],
                                                    fc_wscale[0]);
            qfb[k] = round_i32((double)g_fc_b[k] / fc_bscale[0]);
        }
        t.quant = (tml_tfl_quant){1, fc_wscale, NULL, 0};
        fcw = tml_tfl_add_const_tensor(w, &t, qfc, sizeof qfc);
    } else {
        fcw = tml_tfl_add_const_tensor(w, &t, g_fc_w, sizeof g_fc_w);
    }
    t.name = "dense/bias";
    t.type = int8 ? TML_INT32 : TML_FLOAT32;
    t.ndims = 1;
    t.dims = fcb_dims;
    if (int8) {
        t.quant = (tml_tfl_quant){1, fc_bscale, NULL, 0};
        fcb = tml_tfl_add_const_tensor(w, &t, qfb, sizeof qfb);
    } else {
        fcb = tml_tfl_add_const_tensor(w, &t, g_fc_b, sizeof g_fc_b);
    }

    /* activations */
    x = add_act(w, "input", int8, in_dims, 4, &q_in);
    conv = add_act(w, "conv/Relu", int8, conv_dims, 4, &q_conv);
    pool = add_act(w, "pool/MaxPool", int8, pool_dims, 4, &q_conv);
    flat = add_act(w, "flatten/Reshape", int8, flat_dims, 2, &q_conv);
    logits = add_act(w, "dense/BiasAdd", int8, out_dims, 2, &q_logit);
    prob = add_act(w, "softmax", int8, out_dims, 2, &q_prob);
    if (prob < 0)
        return -1;

    /* Versions as TFLite's converter sets them for these types. */
    o = tml_tfl_conv2d_options(TML_PAD_SAME, 1, 1, TML_ACT_RELU, 1, 1);
    if (tml_tfl_add_op(w, 3, int8 ? 3 : 1, (const int32_t[]){x, filt, cb}, 3,
                       &conv, 1, &o) < 0)
        return -1;
    o = tml_tfl_pool2d_options(TML_PAD_VALID, 2, 2, 2, 2, TML_ACT_NONE);
    if (tml_tfl_add_op(w, 17, int8 ? 2 : 1, &conv, 1, &pool, 1, &o) < 0)
        return -1;
    o = tml_tfl_reshape_options(new_shape, 2);
    if (tml_tfl_add_op(w, 22, 1, (const int32_t[]){pool, shape}, 2, &flat, 1,
                       &o) < 0)
        return -1;
    o = tml_tfl_fully_connected_options(TML_ACT_NONE, 0);
    if (tml_tfl_add_op(w, 9, int8 ? 4 : 1, (const int32_t[]){flat, fcw, fcb},
                       3, &logits, 1, &o) < 0)
        return -1;
    o = tml_tfl_softmax_options(1.0f);
    if (tml_tfl_add_op(w, 25, int8 ? 2 : 1, &logits, 1, &prob, 1, &o) < 0)
        return -1;
    if (tml_tfl_set_inputs(w, &x, 1) != 0 ||
        tml_tfl_set_outputs(w, &prob, 1) != 0)
        return -1;
    return tml_tfl_set_description(
        w, int8 ? "tinyml example: 8x8 stroke classifier (| - \\ /), int8"
                : "tinyml example: 8x8 stroke classifier (| - \\ /), float32");
}

static int write_model(const char *dir, const char *file, int int8)
{
    char path[1024], err[256];
    const uint8_t *bytes;
    size_t n;
    int rc = -1;
    tml_tfl_writer *w = tml_tfl_writer_new(NULL);
    if (!w) {
        fprintf(stderr, "make_example_model: out of memory\n");
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (describe(w, int8) != 0 || tml_tfl_finish(w, &bytes, &n) != 0) {
        fprintf(stderr, "make_example_model: %s: %s\n", file,
                tml_tfl_error(w));
    } else if (tml_write_file_atomic(path, bytes, n, err, sizeof err) != 0) {
        fprintf(stderr, "make_example_model: %s\n", err);
    } else {
        printf("wrote %s (%zu bytes)\n", path, n);
        rc = 0;
    }
    tml_tfl_writer_free(w);
    return rc;
}

/* One centred stroke of each class as float32 .npy. */
static int write_samples(const char *dir)
{
    static const char *const names[K] = {"vertical", "horizontal",
                                         "diagonal", "antidiagonal"};
    static const int32_t dims[4] = {1, H, W, 1};
    char path[1024], err[256];
    float img[H][W];
    int k;
    for (k = 0; k < K; k++) {
        size_t n;
        void *npy;
        int rc;
        draw_stroke(img, k, k == 0 ? 3 : 4);
        npy = tml_npy_write(TML_FLOAT32, dims, 4, img, &n, err, sizeof err);
        if (!npy) {
            fprintf(stderr, "make_example_model: %s\n", err);
            return -1;
        }
        snprintf(path, sizeof path, "%s/stroke_%s.npy", dir, names[k]);
        rc = tml_write_file_atomic(path, npy, n, err, sizeof err);
        free(npy);
        if (rc != 0) {
            fprintf(stderr, "make_example_model: %s\n", err);
            return -1;
        }
        printf("wrote %s (%zu bytes)\n", path, n);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_example_model OUT_DIR\n");
        return 2;
    }
    design_weights();
    if (write_model(argv[1], "tiny_int8.tflite", 1) != 0 ||
        write_model(argv[1], "tiny_float.tflite", 0) != 0 ||
        write_samples(argv[1]) != 0)
        return 1;
    return 0;
}
