/*
 * The MLPerf Tiny KWS model as a TensorFlow SavedModel
 * ($TINYML_SHARED/models/mlperf-tiny/kws_ref_model/: Keras 2.4 DS-CNN,
 * saved_model.pb + variables/) through the SavedModel importer, quantized
 * every way, against TensorFlow's own conversions of KWS:
 * kws_ref_model_float32.tflite (TF's dynamic-range conversion: int8
 * conv weights, float activations) and kws_ref_model.tflite (TF's int8).
 *
 * TF's two .tflite files were converted from another training run than
 * the SavedModel (their weights agree with each other, not with the
 * checkpoint: tests/convert/test_savedmodel_cli.sh measures it), so
 * outputs are not comparable element by element; what is compared is
 * what the issue asks of every model: the int8 model's top-1 agreement
 * with its float model and its SQNR, ours (int8 from our float import)
 * vs TF's (int8 vs its float32 file), and the int8 file size rule.
 *
 * Inputs: (1) the KWS goldens' distribution -- int8 values from the
 * goldens' 32-bit LCG (manifest.json), dequantized with the model input's
 * scale 0.5847029 and zero point 83 (TF's int8 input range); (2) smooth,
 * spectrogram-like inputs over the same range (a coarse grid of such
 * values, one per 4 frames x 2 coefficients, bilinearly interpolated).
 * For each: calibration on 100 samples (seeds 1000..), evaluation on 100
 * others (seeds 5000..), plus the three golden inputs for (1).
 *
 * Measured (printed):
 *   goldens': ours 103/103, 48.2 dB; TF 32/103, -0.9 dB
 *   smooth:   ours 100/100, 48.4 dB; TF 58/100,  2.2 dB
 *   (TF's int8 file, calibrated on real speech features, saturates on
 *   these synthetic inputs where its dynamic-range file does not.)
 *   int8 33,776 B (our floor 38,392 B: the writer shares identical
 *   zero-point vectors; TF 53,936 B); dynamic 37,040 B (2.53x; TF leaves
 *   depthwise and the 768-weight FC in float too), float16 50,416 B.
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

#include <cmocka.h>

#include "convert/export/ir_export.h"
#include "convert/import/import.h"
#include "convert/ir/ir.h"
#include "convert/passes/passes.h"
#include "convert/quantize/quantize.h"
#include "quality.h"
#include "test_util.h"
#include "tools/lib/host_interp.h"

#define IN_SCALE 0.5847029089927673f
#define IN_ZP 83
#define NCAL 100
#define NEVAL 100
/* TF's int8 file and the floor the issue measured for it. */
#define TF_INT8_BYTES 53936u
#define KWS_FLOOR 38408u

static char *path_of(const char *rel)
{
    static char buf[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tml_test_shared_dir(), rel);
    return buf[k];
}

static int exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

/* The goldens' int8 generator, dequantized with the input's parameters. */
static void kws_sample(uint32_t seed, float *x, size_t n)
{
    uint32_t s = seed;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        int8_t q = (int8_t)((int32_t)(s >> 24) - 128);
        x[i] = (float)((int32_t)q - IN_ZP) * IN_SCALE;
    }
}

/* Smooth like a spectrogram, same value range: a coarse grid of the same
 * dequantized LCG values (one per 4 frames x 2 coefficients) bilinearly
 * interpolated over the 49 x 10 input. */
static void kws_smooth_sample(uint32_t seed, float *x)
{
    enum { GH = 49 / 4 + 2, GW = 10 / 2 + 2 };
    float grid[GH * GW];
    kws_sample(seed, grid, GH * GW);
    for (int y = 0; y < 49; y++) {
        int y0 = y / 4;
        float ay = (float)(y % 4) / 4.0f;
        for (int c = 0; c < 10; c++) {
            int c0 = c / 2;
            float ac = (float)(c % 2) / 2.0f;
            float top = grid[y0 * GW + c0] * (1 - ac) + grid[y0 * GW + c0 + 1] * ac;
            float bot = grid[(y0 + 1) * GW + c0] * (1 - ac) + grid[(y0 + 1) * GW + c0 + 1] * ac;
            x[y * 10 + c] = top * (1 - ay) + bot * ay;
        }
    }
}

static tml_ir_graph *import_kws(void)
{
    tml_ir_graph *g = tml_ir_new();
    char err[512];
    const char *dir = path_of("models/mlperf-tiny/kws_ref_model");
    if (tml_import_file(dir, g, err, sizeof err) != 0)
        fail_msg("%s: %s", dir, err);
    if (tml_passes_run(g) != 0)
        fail_msg("passes: %s", g->error);
    return g;
}

enum dist { DIST_GOLDEN, DIST_SMOOTH };

static void make_sample(enum dist d, uint32_t seed, float *x, size_t n)
{
    if (d == DIST_SMOOTH)
        kws_smooth_sample(seed, x);
    else
        kws_sample(seed, x, n);
}

typedef struct result {
    tml_quality ours, tf, dyn, f16, cross;
    size_t float_size, int8_size, dyn_size, f16_size, floor;
} result;

/* Calibrates on NCAL samples of the distribution, evaluates on NEVAL
 * others (plus, for the goldens' distribution, the three golden inputs). */
static void evaluate(enum dist dist, result *r)
{
    memset(r, 0, sizeof *r);
    tml_ir_graph *g = import_kws();
    assert_int_equal(g->ninputs, 1);
    const tml_ir_tensor *tin = &g->tensors[g->inputs[0]];
    assert_int_equal(tin->ndims, 4);
    assert_int_equal(tin->dims[1], 49);
    assert_int_equal(tin->dims[2], 10);
    assert_int_equal(tin->dims[3], 1);
    size_t nx = tml_ir_elements(tin), ny = 12;
    char err[512];

    float *cal = malloc(sizeof(float) * nx * NCAL);
    assert_non_null(cal);
    for (int s = 0; s < NCAL; s++)
        make_sample(dist, 1000u + (uint32_t)s, cal + nx * (size_t)s, nx);
    tml_dataset *d = tml_dataset_from_floats(1, NCAL, &nx, (const float *const[]){cal});
    free(cal);
    tml_ir_graph *q = tml_ir_clone(g), *dyn = tml_ir_clone(g), *f16 = tml_ir_clone(g);
    if (tml_calibrate(q, d, 0, 0, err, sizeof err) != 0 ||
        tml_quantize_int8(q, 1, err, sizeof err) != 0)
        fail_msg("int8: %s", err);
    tml_dataset_free(d);
    if (tml_quantize_dynamic(dyn, err, sizeof err) != 0 ||
        tml_quantize_float16(f16, err, sizeof err) != 0)
        fail_msg("%s", err);

    tml_host_interp of, oq, od, oh, tfd, tfq;
    tml_quality_open(g, &of, &r->float_size);
    tml_quality_open(q, &oq, &r->int8_size);
    tml_quality_open(dyn, &od, &r->dyn_size);
    tml_quality_open(f16, &oh, &r->f16_size);
    if (tml_host_open(&tfd, path_of("models/mlperf-tiny/kws_ref_model_float32.tflite"), err,
                      sizeof err) != TML_HOST_OK ||
        tml_host_open(&tfq, path_of("models/mlperf-tiny/kws_ref_model.tflite"), err,
                      sizeof err) != TML_HOST_OK)
        fail_msg("%s", err);
    r->floor = tml_quality_floor_bytes(q);

    float *x = malloc(sizeof(float) * nx);
    float yf[12], yq[12], yd[12], yh[12], tf_d[12], tf_q[12];
    assert_non_null(x);
    int total = NEVAL + (dist == DIST_GOLDEN ? 3 : 0);
    for (int s = 0; s < total; s++) {
        /* The evaluation samples, then the three golden inputs. */
        make_sample(dist, s < NEVAL ? 5000u + (uint32_t)s : (uint32_t)(s - NEVAL + 1), x, nx);
        tml_quality_run(&of, x, yf, ny);
        tml_quality_run(&oq, x, yq, ny);
        tml_quality_run(&od, x, yd, ny);
        tml_quality_run(&oh, x, yh, ny);
        tml_quality_run(&tfd, x, tf_d, ny);
        tml_quality_run(&tfq, x, tf_q, ny);
        tml_quality_add(&r->ours, yf, yq, ny);
        tml_quality_add(&r->dyn, yf, yd, ny);
        tml_quality_add(&r->f16, yf, yh, ny);
        tml_quality_add(&r->tf, tf_d, tf_q, ny);
        tml_quality_add(&r->cross, tf_d, yd, ny);
    }
    free(x);
    tml_host_close(&of);
    tml_host_close(&oq);
    tml_host_close(&od);
    tml_host_close(&oh);
    tml_host_close(&tfd);
    tml_host_close(&tfq);
    tml_ir_free(g);
    tml_ir_free(q);
    tml_ir_free(dyn);
    tml_ir_free(f16);
}

static void report(const char *name, const result *r)
{
    size_t limit = (size_t)((double)r->floor * 1.03) + 1024;
    printf("KWS SavedModel, %s inputs: %d calibration / %d evaluation samples\n", name, NCAL,
           r->ours.total);
    printf("  int8: ours %d/%d agree, SQNR %.2f dB; TF %d/%d agree, SQNR %.2f dB\n",
           r->ours.agree, r->ours.total, tml_quality_sqnr(&r->ours), r->tf.agree, r->tf.total,
           tml_quality_sqnr(&r->tf));
    printf("  int8 file %zu B, our floor %zu B, limit %zu B; issue's floor %u B "
           "(limit %zu B); TF %u B\n", r->int8_size, r->floor, limit, KWS_FLOOR,
           (size_t)((double)KWS_FLOOR * 1.03) + 1024, TF_INT8_BYTES);
    printf("  float %zu B; dynamic %zu B (%.2fx, SQNR %.2f dB vs our float, %d/%d agree); "
           "float16 %zu B (%.2fx, SQNR %.2f dB)\n", r->float_size, r->dyn_size,
           (double)r->float_size / (double)r->dyn_size, tml_quality_sqnr(&r->dyn), r->dyn.agree,
           r->dyn.total, r->f16_size, (double)r->float_size / (double)r->f16_size,
           tml_quality_sqnr(&r->f16));
    printf("  our dynamic vs TF's dynamic (other weights): top-1 %d/%d, SQNR %.2f dB\n",
           r->cross.agree, r->cross.total, tml_quality_sqnr(&r->cross));
    fflush(stdout);
}

static void check(const result *r)
{
    /* The bar: at least TF's int8 model, in both. */
    assert_true(r->ours.agree >= r->tf.agree);
    assert_true(tml_quality_sqnr(&r->ours) >= tml_quality_sqnr(&r->tf));
    /* Size rule against our own floor and the KWS floor. */
    assert_true(r->int8_size <= (size_t)((double)r->floor * 1.03) + 1024);
    assert_true(r->int8_size <= (size_t)((double)KWS_FLOOR * 1.03) + 1024);
    assert_true(r->int8_size < TF_INT8_BYTES);
    /* Dynamic range: conv weights int8 (the small FC and the depthwise
     * filters stay float, as TF leaves them), so ~2.5x; float16 halves the
     * weights. */
    assert_true((double)r->float_size / (double)r->dyn_size > 2.3);
    assert_true((double)r->float_size / (double)r->f16_size > 1.8);
    assert_true(tml_quality_sqnr(&r->dyn) > 30.0);
    assert_true(tml_quality_sqnr(&r->f16) > 40.0);
    assert_int_equal(r->dyn.agree, r->dyn.total);
    assert_int_equal(r->f16.agree, r->f16.total);
}

static void test_kws_golden(void **state)
{
    (void)state;
    if (!exists(path_of("models/mlperf-tiny/kws_ref_model/saved_model.pb")))
        skip();
    result r;
    evaluate(DIST_GOLDEN, &r);
    report("goldens' (uniform int8 LCG, dequantized)", &r);
    check(&r);
}

static void test_kws_smooth(void **state)
{
    (void)state;
    if (!exists(path_of("models/mlperf-tiny/kws_ref_model/saved_model.pb")))
        skip();
    result r;
    evaluate(DIST_SMOOTH, &r);
    report("smooth (interpolated LCG grid)", &r);
    check(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kws_golden),
        cmocka_unit_test(test_kws_smooth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
