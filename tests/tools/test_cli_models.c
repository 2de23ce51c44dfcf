/* The CLI on models the shared set lacks: a two-input model (raw input of
 * all inputs concatenated, .npy refused, --random across inputs).  The
 * model is written with the test helpers; the CLI runs as a process
 * ($TINYML_BIN). */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "kernel.h"
#include "test_util.h"
#include "tools/lib/file_io.h"
#include "tools/lib/npy.h"

static char g_dir[256];
static char g_model[512];

/* Runs `$TINYML_BIN args` with stdout and stderr into files; returns the
 * exit code (-1 on a signal) and the captured text (free()). */
static int cli(const char *args, char **out, char **err)
{
    const char *bin = getenv("TINYML_BIN");
    assert_non_null(bin);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' %s >'%s/out' 2>'%s/err'", bin, args,
             g_dir, g_dir);
    int status = system(cmd);
    char path[512], e[256];
    size_t n = 0;
    snprintf(path, sizeof path, "%s/out", g_dir);
    char *o = tml_read_file(path, &n, e, sizeof e);
    assert_non_null(o);
    o[n] = '\0';
    snprintf(path, sizeof path, "%s/err", g_dir);
    char *r = tml_read_file(path, &n, e, sizeof e);
    assert_non_null(r);
    r[n] = '\0';
    *out = o;
    *err = r;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void write_file(const char *name, const void *data, size_t size)
{
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    assert_int_equal(tml_write_file_atomic(path, data, size, err, sizeof err),
                     0);
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/tml_cli_models_XXXXXX");
    if (!mkdtemp(g_dir))
        return -1;
    /* ADD of two float32 [1, 4] inputs. */
    tml_test_op op = {
        .builtin = 0,
        .options = tml_tfl_add_options(TML_ACT_NONE),
        .ninputs = 2,
        .inputs = {
            { .type = TML_FLOAT32, .ndims = 2, .dims = {1, 4} },
            { .type = TML_FLOAT32, .ndims = 2, .dims = {1, 4} },
        },
        .noutputs = 1,
        .outputs = { { .type = TML_FLOAT32, .ndims = 2, .dims = {1, 4} } },
    };
    char err[256];
    size_t size = 0;
    uint8_t *model = tml_test_build_single_op(&op, &size, err, sizeof err);
    if (!model)
        return -1;
    write_file("add2.tflite", model, size);
    free(model);
    snprintf(g_model, sizeof g_model, "%s/add2.tflite", g_dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_inspect_two_inputs(void **state)
{
    (void)state;
    char args[1024], *out, *err;
    snprintf(args, sizeof args, "inspect '%s'", g_model);
    assert_int_equal(cli(args, &out, &err), 0);
    assert_string_equal(err, "");
    assert_non_null(strstr(out, "inputs (2):\n  0: 'input0' (tensor "));
    assert_non_null(strstr(out, "): float32 [1, 4], not quantized\n  1: "
                                "'input1' (tensor "));
    assert_non_null(strstr(out, "outputs (1):\n  0: 'output0' (tensor "));
    free(out);
    free(err);
}

static void test_raw_input_of_both(void **state)
{
    (void)state;
    const float in[8] = {1, 2, 3, 4, 10, 20, 30, 40};
    write_file("in.bin", in, sizeof in);
    char args[2048], *out, *err;
    snprintf(args, sizeof args, "run '%s' --input '%s/in.bin' --output "
             "'%s/out.bin'", g_model, g_dir, g_dir);
    assert_int_equal(cli(args, &out, &err), 0);
    assert_string_equal(err, "");
    assert_non_null(strstr(out, "output 0 'output0'"));
    free(out);
    free(err);
    char path[512], e[256];
    size_t n = 0;
    snprintf(path, sizeof path, "%s/out.bin", g_dir);
    float *y = tml_read_file(path, &n, e, sizeof e);
    assert_non_null(y);
    assert_int_equal(n, 16);
    const float want[4] = {11, 22, 33, 44};
    assert_memory_equal(y, want, sizeof want);
    free(y);

    /* Half the bytes: the message names both sizes. */
    write_file("half.bin", in, 16);
    snprintf(args, sizeof args, "run '%s' --input '%s/half.bin'", g_model,
             g_dir);
    assert_int_equal(cli(args, &out, &err), 2);
    char want_err[1024];
    snprintf(want_err, sizeof want_err, "tinyml: %s/half.bin: 16 bytes, "
             "expected 32 (all 2 inputs concatenated in model dtype)\n",
             g_dir);
    assert_string_equal(err, want_err);
    free(out);
    free(err);
}

static void test_npy_refused_for_two_inputs(void **state)
{
    (void)state;
    const float x[4] = {1, 2, 3, 4};
    const int32_t dims[1] = {4};
    size_t size = 0;
    char e[256];
    void *npy = tml_npy_write(TML_FLOAT32, dims, 1, x, &size, e, sizeof e);
    assert_non_null(npy);
    write_file("x.npy", npy, size);
    free(npy);
    char args[2048], *out, *err;
    snprintf(args, sizeof args, "run '%s' --input '%s/x.npy'", g_model, g_dir);
    assert_int_equal(cli(args, &out, &err), 2);
    char want[1024];
    snprintf(want, sizeof want, "tinyml: %s/x.npy: the model has 2 inputs "
             "and a .npy file holds one: give a raw file of all inputs "
             "concatenated\n", g_dir);
    assert_string_equal(err, want);
    free(out);
    free(err);
}

/* --random continues one LCG across the inputs, in order. */
static void test_random_spans_inputs(void **state)
{
    (void)state;
    char args[2048], *out, *err;
    snprintf(args, sizeof args, "run '%s' --random --seed 5 --output "
             "'%s/r.bin'", g_model, g_dir);
    assert_int_equal(cli(args, &out, &err), 0);
    free(out);
    free(err);
    float v[8];
    uint32_t s = 5;
    for (int k = 0; k < 8; k++) {
        s = s * 1664525u + 1013904223u;
        v[k] = (float)(s >> 8) * (1.0f / 8388608.0f) - 1.0f;
    }
    char path[512], e[256];
    size_t n = 0;
    snprintf(path, sizeof path, "%s/r.bin", g_dir);
    float *y = tml_read_file(path, &n, e, sizeof e);
    assert_non_null(y);
    assert_int_equal(n, 16);
    for (int k = 0; k < 4; k++)
        assert_true(y[k] == v[k] + v[k + 4]);
    free(y);
}

int main(void)
{
    if (!getenv("TINYML_BIN")) {
        fprintf(stderr, "TINYML_BIN not set\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inspect_two_inputs),
        cmocka_unit_test(test_raw_input_of_both),
        cmocka_unit_test(test_npy_refused_for_two_inputs),
        cmocka_unit_test(test_random_spans_inputs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
