/*
 * Every model in $TINYML_SHARED/goldens against TFLite Micro's reference
 * kernels: int8 outputs byte-identical for every seed and every per-op
 * output of seed 1; float32 within 1e-5 relative (max abs diff over max abs
 * reference), as the goldens' README defines it.
 */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "test_util.h"
#include "tools/lib/file_io.h"
#include "tinyml/tinyml.h"

#define ARENA_BYTES (4u << 20)

typedef struct golden {
    const char *name;         /* directory under goldens/ */
    tml_interpreter it;
    uint8_t *arena;
    void *model;
    size_t model_size;
    int op_failures;
    int ops_checked;
    char ops_dir[1024];
} golden;

static void *read_golden(const char *model, const char *file, size_t *size)
{
    char rel[512];
    snprintf(rel, sizeof rel, "goldens/%s/%s", model, file);
    return tml_test_read_shared(rel, size);
}

/* max |a-b| / max |ref| over float32 arrays. */
static double rel_diff(const float *got, const float *ref, size_t n)
{
    double max_diff = 0, max_ref = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)ref[i]);
        if (d > max_diff || isnan(d))
            max_diff = isnan(d) ? INFINITY : d;
        if (fabs((double)ref[i]) > max_ref)
            max_ref = fabs((double)ref[i]);
    }
    return max_ref > 0 ? max_diff / max_ref : max_diff;
}

/* 1 when equal under the golden rule for the dtype. */
static int same(tml_dtype dtype, const void *got, const void *ref, size_t bytes,
                double *rel)
{
    *rel = 0;
    if (dtype != TML_FLOAT32)
        return memcmp(got, ref, bytes) == 0;
    *rel = rel_diff(got, ref, bytes / 4);
    return *rel <= 1e-5;
}

static void check_op(void *user, const tml_interpreter *it, int32_t op)
{
    golden *g = user;
    DIR *d = opendir(g->ops_dir);
    if (!d)
        return;
    char prefix[16];
    snprintf(prefix, sizeof prefix, "op%03d.t", (int)op);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        int tensor = atoi(e->d_name + strlen(prefix));
        char path[1400], err[256];
        snprintf(path, sizeof path, "%s/%s", g->ops_dir, e->d_name);
        size_t size = 0;
        void *ref = tml_read_file(path, &size, err, sizeof err);
        tml_tensor_info info;
        assert_int_equal(tml_tensor_details(it, tensor, &info), TML_OK);
        const void *got = tml_tensor_data(it, tensor);
        double rel = 0;
        g->ops_checked++;
        if (!ref || size != info.bytes || !got ||
            !same(info.dtype, got, ref, size, &rel)) {
            tml_op_info oi;
            tml_op_details(it, op, &oi);
            print_error("%s: op %d %s tensor %d '%s' differs from %s (rel %g)\n",
                        g->name, (int)op, oi.name, tensor, info.name,
                        e->d_name, ref ? rel : -1.0);
            g->op_failures++;
        }
        free(ref);
    }
    closedir(d);
}

static void load(golden *g)
{
    size_t size = 0;
    char *manifest = read_golden(g->name, "manifest.json", &size);
    assert_non_null(manifest);
    cJSON *json = cJSON_ParseWithLength(manifest, size);
    assert_non_null(json);
    const cJSON *model = cJSON_GetObjectItem(json, "model");
    assert_true(cJSON_IsString(model));
    g->model = tml_test_read_shared(model->valuestring, &g->model_size);
    assert_non_null(g->model);
    cJSON_Delete(json);
    free(manifest);
    g->arena = malloc(ARENA_BYTES);
    assert_non_null(g->arena);
    tml_status s = tml_create(&g->it, g->model, g->model_size, g->arena,
                              ARENA_BYTES);
    if (s == TML_OK)
        s = tml_allocate(&g->it);
    if (s != TML_OK)
        print_error("%s: %s\n", g->name, tml_error(&g->it));
    assert_int_equal(s, TML_OK);
}

static size_t io_bytes(const tml_interpreter *it, int inputs)
{
    size_t total = 0;
    int32_t n = inputs ? tml_input_count(it) : tml_output_count(it);
    for (int32_t i = 0; i < n; i++) {
        tml_tensor_info info;
        if (inputs)
            tml_input_details(it, i, &info);
        else
            tml_output_details(it, i, &info);
        total += info.bytes;
    }
    return total;
}

static void run_seed(golden *g, int seed)
{
    char name[64];
    size_t in_size = 0, out_size = 0;
    snprintf(name, sizeof name, "seed%d.input.bin", seed);
    uint8_t *in = read_golden(g->name, name, &in_size);
    snprintf(name, sizeof name, "seed%d.output.bin", seed);
    uint8_t *ref = read_golden(g->name, name, &out_size);
    assert_non_null(in);
    assert_non_null(ref);
    assert_int_equal(in_size, io_bytes(&g->it, 1));
    assert_int_equal(out_size, io_bytes(&g->it, 0));

    size_t off = 0;
    for (int32_t i = 0; i < tml_input_count(&g->it); i++) {
        tml_tensor_info info;
        tml_input_details(&g->it, i, &info);
        assert_int_equal(tml_set_input(&g->it, i, in + off, info.bytes), TML_OK);
        off += info.bytes;
    }
    if (seed == 1) {
        snprintf(g->ops_dir, sizeof g->ops_dir, "%s/goldens/%s/seed1.ops",
                 tml_test_shared_dir(), g->name);
        tml_set_observer(&g->it, check_op, g);
    }
    tml_status s = tml_invoke(&g->it);
    tml_set_observer(&g->it, NULL, NULL);
    if (s != TML_OK)
        print_error("%s seed %d: %s\n", g->name, seed, tml_error(&g->it));
    assert_int_equal(s, TML_OK);

    off = 0;
    for (int32_t i = 0; i < tml_output_count(&g->it); i++) {
        tml_tensor_info info;
        tml_output_details(&g->it, i, &info);
        const void *got = tml_output_data(&g->it, i);
        double rel = 0;
        int ok = same(info.dtype, got, ref + off, info.bytes, &rel);
        if (!ok)
            print_error("%s seed %d: output %d differs (rel %g)\n", g->name,
                        seed, (int)i, rel);
        assert_true(ok);
        off += info.bytes;
    }
    free(in);
    free(ref);
}

static void check_model(const char *name, int expect_ops_checked)
{
    golden *g = calloc(1, sizeof *g);
    assert_non_null(g);
    g->name = name;
    load(g);
    for (int seed = 1; seed <= 3; seed++)
        run_seed(g, seed);
    /* Every operator's golden output was looked at, and all matched. */
    assert_int_equal(g->ops_checked, expect_ops_checked);
    assert_int_equal(g->op_failures, 0);
    free(g->model);
    free(g->arena);
    free(g);
}

static void test_kws_ref_model(void **state) { (void)state; check_model("kws_ref_model", 13); }
static void test_ad01_int8(void **state) { (void)state; check_model("ad01_int8", 10); }
static void test_ad01_fp32(void **state) { (void)state; check_model("ad01_fp32", 10); }
static void test_resnet_int8(void **state) { (void)state; check_model("pretrainedResnet_quant", 16); }
static void test_resnet_float(void **state) { (void)state; check_model("pretrainedResnet", 16); }
static void test_vww_int8(void **state) { (void)state; check_model("vww_96_int8", 31); }
static void test_vww_float(void **state) { (void)state; check_model("vww_96_float", 31); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kws_ref_model),
        cmocka_unit_test(test_ad01_int8),
        cmocka_unit_test(test_ad01_fp32),
        cmocka_unit_test(test_resnet_int8),
        cmocka_unit_test(test_resnet_float),
        cmocka_unit_test(test_vww_int8),
        cmocka_unit_test(test_vww_float),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
