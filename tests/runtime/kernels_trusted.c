/*
 * The kernels built with -DTML_TRUSTED_MODEL (kernel.h TML_VALIDATE 0:
 * the model-validation checks of every prepare compile out, because
 * `tinyml export` ran the same prepares on the same bytes on the host).
 * What prepare still computes (options, output sizes and padding,
 * multipliers, clamps, softmax parameters, scratch sizes) must be exactly
 * what the checking build computes: every int8 golden model of the KWS,
 * AD, VWW and IC benchmarks, every seed, gives TFLite Micro's bytes, and
 * so does every per-op output of seed 1; the float32 models (the float
 * paths of the same prepares) stay within the goldens' 1e-5 relative
 * (max |diff| over max |reference|).
 *
 * Built by tests/CMakeLists.txt against tinyml_runtime_trusted (every
 * runtime source compiled again with the define) and nothing else: the
 * host library's runtime is the checking one.
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

#include <cmocka.h>

#include "tinyml/tinyml.h"
#include "trusted_util.h"

#ifndef TML_TRUSTED_MODEL
#error "build this test with -DTML_TRUSTED_MODEL (tests/CMakeLists.txt)"
#endif

#define ARENA_BYTES (1u << 20)

static blob read_golden(const char *model, const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/goldens/%s/%s", trusted_shared_dir(), model, file);
    return trusted_read_path(path);
}

/* The goldens' rule: int8 byte-exact; float32 max |got - ref| over
 * max |ref| at most 1e-5. */
static int same(tml_dtype dtype, const void *got, const void *ref,
                size_t bytes)
{
    if (dtype != TML_FLOAT32)
        return memcmp(got, ref, bytes) == 0;
    const float *g = got, *r = ref;
    double max_diff = 0, max_ref = 0;
    for (size_t i = 0; i < bytes / 4; i++) {
        const double d = fabs((double)g[i] - (double)r[i]);
        if (!(d <= max_diff))
            max_diff = isnan(d) ? INFINITY : d;
        if (fabs((double)r[i]) > max_ref)
            max_ref = fabs((double)r[i]);
    }
    return (max_ref > 0 ? max_diff / max_ref : max_diff) <= 1e-5;
}

/* Seed 1's per-op outputs: every opNNN.tMMM.bin of the op just run. */
typedef struct op_check {
    const char *model;
    char dir[1024];
    int checked, failed;
} op_check;

static void check_op(void *user, const tml_interpreter *it, int32_t op)
{
    op_check *c = user;
    DIR *d = opendir(c->dir);
    assert_non_null(d);
    char prefix[16];
    snprintf(prefix, sizeof prefix, "op%03d.t", (int)op);
    const struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        const int32_t tensor = atoi(e->d_name + strlen(prefix));
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", c->dir, e->d_name);
        blob want = trusted_read_path(path);
        tml_tensor_info info;
        assert_int_equal(tml_tensor_details(it, tensor, &info), TML_OK);
        const void *got = tml_tensor_data(it, tensor);
        c->checked++;
        if (!got || info.bytes != want.size ||
            !same(info.dtype, got, want.data, want.size)) {
            print_error("%s: op %d tensor %d '%s' differs from %s\n",
                        c->model, (int)op, (int)tensor, info.name,
                        e->d_name);
            c->failed++;
        }
        free(want.data);
    }
    closedir(d);
}

/* One seed: set every input, invoke, compare every output byte. */
static void run_seed(tml_interpreter *it, const char *model, int seed,
                     op_check *ops)
{
    char name[64];
    snprintf(name, sizeof name, "seed%d.input.bin", seed);
    blob in = read_golden(model, name);
    snprintf(name, sizeof name, "seed%d.output.bin", seed);
    blob want = read_golden(model, name);
    size_t off = 0;
    for (int32_t i = 0; i < tml_input_count(it); i++) {
        const size_t n = tml_input_bytes(it, i);
        assert_true(off + n <= in.size);
        assert_int_equal(tml_set_input(it, i, in.data + off, n), TML_OK);
        off += n;
    }
    assert_int_equal(off, in.size);
    tml_set_observer(it, ops ? check_op : NULL, ops);
    const tml_status s = tml_invoke(it);
    tml_set_observer(it, NULL, NULL);
    if (s != TML_OK)
        fail_msg("%s seed %d: %s", model, seed, tml_error(it));
    off = 0;
    for (int32_t i = 0; i < tml_output_count(it); i++) {
        tml_tensor_info info;
        assert_int_equal(tml_output_details(it, i, &info), TML_OK);
        const size_t n = info.bytes;
        assert_true(off + n <= want.size);
        if (info.dtype == TML_FLOAT32)
            assert_true(same(info.dtype, tml_output_data(it, i),
                             want.data + off, n));
        else
            assert_memory_equal(tml_output_data(it, i), want.data + off, n);
        off += n;
    }
    assert_int_equal(off, want.size);
    free(in.data);
    free(want.data);
}

/* Create and allocate (every prepare, unchecked), then seeds 1..3;
 * seed 1 also op by op. */
static void check_model(const char *model)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/models/mlperf-tiny/%s.tflite",
             trusted_shared_dir(), model);
    blob m = trusted_read_path(path);
    void *arena = aligned_alloc(16, ARENA_BYTES);
    tml_interpreter *it = calloc(1, sizeof *it);
    assert_non_null(arena);
    assert_non_null(it);
    tml_status s = tml_create(it, m.data, m.size, arena, ARENA_BYTES);
    if (s == TML_OK)
        s = tml_allocate(it);
    if (s != TML_OK)
        fail_msg("%s: %s", model, tml_error(it));

    op_check ops = { model, "", 0, 0 };
    snprintf(ops.dir, sizeof ops.dir, "%s/goldens/%s/seed1.ops", trusted_shared_dir(),
             model);
    for (int seed = 1; seed <= 3; seed++)
        run_seed(it, model, seed, seed == 1 ? &ops : NULL);
    /* At least one golden per op was compared, and all matched. */
    assert_true(ops.checked >= tml_op_count(it));
    assert_int_equal(ops.failed, 0);
    free(it);
    free(arena);
    free(m.data);
}

static void test_kws(void **state)
{
    (void)state;
    check_model("kws_ref_model");
}

static void test_ad01(void **state)
{
    (void)state;
    check_model("ad01_int8");
}

static void test_vww(void **state)
{
    (void)state;
    check_model("vww_96_int8");
}

static void test_resnet(void **state)
{
    (void)state;
    check_model("pretrainedResnet_quant");
}

static void test_float_models(void **state)
{
    (void)state;
    check_model("ad01_fp32");
    check_model("vww_96_float");
    check_model("pretrainedResnet");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kws),
        cmocka_unit_test(test_ad01),
        cmocka_unit_test(test_vww),
        cmocka_unit_test(test_resnet),
        cmocka_unit_test(test_float_models),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
