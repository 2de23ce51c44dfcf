/*
 * Hostile inputs: gen_malformed (fuzz/gen_malformed.c) writes ~1000
 * corrupted variants of kws_ref_model and ad01_int8 into a temporary
 * directory; every one goes through tml_model_load and tml_verify.
 *
 * Must hold for every file (CI runs this under ASan/UBSan):
 *   - no crash, no out-of-bounds read;
 *   - bad_* files are rejected (TML_ERROR_MODEL or TML_ERROR_UNSUPPORTED);
 *     maybe_* files (flipped bytes, which may hit a weight) may load;
 *   - a rejection comes with exactly one non-empty line;
 *   - a file that loads can be walked through every accessor, and runs
 *     through tml_create/tml_allocate/tml_invoke without crashing.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "model.h"
#include "schema.h"
#include "test_util.h"
#include "tinyml/tinyml.h"
#include "tools/lib/file_io.h"

typedef struct counts {
    int files, bad, maybe, loaded, rejected, invoked;
} counts;

static void check_line(const char *file, const char *msg)
{
    size_t n = strlen(msg);
    if (n == 0 || strchr(msg, '\n') || strchr(msg, '\r'))
        fail_msg("%s: message is not one non-empty line: '%s'", file, msg);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)msg[i] < 0x20)
            fail_msg("%s: control byte in message '%s'", file, msg);
}

/* Reads everything the accessors expose, as the interpreter would. */
static void walk(const tml_model *m)
{
    volatile uint64_t sink = 0;
    for (int32_t i = 0; i < m->ntensors; i++) {
        tml_model_tensor t;
        tml_model_get_tensor(m, i, &t);
        sink += strlen(t.name);
        for (int32_t d = 0; d < t.ndims; d++)
            sink += (uint32_t)t.dims[d];
        for (int32_t c = 0; t.scales && c < t.nscales; c++)
            sink += (uint64_t)(t.scales[c] != 0.0f) +
                    (t.zero_points ? (uint64_t)t.zero_points[c] : 0);
        if (t.data && t.data_size)
            sink += t.data[0] + t.data[t.data_size - 1];
    }
    for (int32_t i = 0; i < m->nops; i++) {
        tml_model_op op;
        tml_model_get_op(m, i, &op);
        for (int32_t k = 0; k < op.ninputs; k++)
            sink += (uint32_t)op.inputs[k];
        for (int32_t k = 0; k < op.noutputs; k++)
            sink += (uint32_t)op.outputs[k];
        if (op.custom_name)
            sink += strlen(op.custom_name);
        for (int f = 0; op.options && f < 8; f++) {
            const uint8_t *p = tml_model_table_field(m, op.options, f, 4);
            const int32_t *v;
            int32_t n = tml_model_table_int_vector(m, op.options, f, &v);
            sink += p ? p[0] : 0;
            for (int32_t k = 0; k < n; k++)
                sink += (uint32_t)v[k];
        }
    }
    for (int32_t i = 0; i < m->ninputs; i++)
        sink += (uint32_t)tml_model_inputs(m)[i];
    for (int32_t i = 0; i < m->noutputs; i++)
        sink += (uint32_t)tml_model_outputs(m)[i];
    sink += strlen(tml_model_description(m));
    (void)sink;
}

/* A loadable file also goes through the interpreter: create, allocate
 * and one invoke on zero inputs.  Kernels must refuse in prepare what
 * their eval cannot do. */
static int run_interpreter(const char *file, const void *data, size_t size)
{
    static tml_interpreter it;
    static _Alignas(16) uint8_t arena[512 * 1024];
    tml_status st = tml_create(&it, data, size, arena, sizeof arena);
    if (st == TML_OK)
        st = tml_allocate(&it);
    for (int32_t i = 0; st == TML_OK && i < tml_input_count(&it); i++) {
        tml_tensor_info info;
        st = tml_input_details(&it, i, &info);
        void *in = tml_input_data(&it, i);
        if (st == TML_OK && in)
            memset(in, 0, info.bytes);
    }
    if (st == TML_OK)
        st = tml_invoke(&it);
    if (st != TML_OK)
        check_line(file, tml_error(&it));
    return st == TML_OK;
}

static void check_file(const char *dir, const char *name, counts *c)
{
    /* Room for a 4095-byte dir, '/', a 255-byte name and the NUL. */
    char path[4096 + 257], err[TML_ERROR_SIZE], msg[TML_ERROR_SIZE];
    size_t size;
    tml_model m;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    void *data = tml_read_file(path, &size, err, sizeof err);
    if (!data)
        fail_msg("%s", err);
    int maybe = strncmp(name, "maybe_", 6) == 0;
    c->files++;
    c->maybe += maybe;
    c->bad += !maybe;

    memset(err, 'x', sizeof err);
    tml_status st = tml_model_load(&m, data, size, err, sizeof err);
    if (st == TML_OK) {
        if (!maybe)
            fail_msg("%s: invalid file loaded", name);
        assert_string_equal(err, "");
        walk(&m);
        c->loaded++;
    } else {
        if (st != TML_ERROR_MODEL && st != TML_ERROR_UNSUPPORTED)
            fail_msg("%s: status %d", name, (int)st);
        check_line(name, err);
        c->rejected++;
    }

    /* tml_verify = load + kernel support: never OK when load failed, and
     * the same line when it is the loader's. */
    memset(msg, 'x', sizeof msg);
    tml_status vs = tml_verify(data, size, msg, sizeof msg);
    if (st != TML_OK) {
        assert_int_equal(vs, st);
        assert_string_equal(msg, err);
    } else if (vs != TML_OK) {
        check_line(name, msg);
    } else {
        c->invoked += run_interpreter(name, data, size);
    }
    free(data);
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static void run_corpus(const char *model_rel, int min_files)
{
    char model[4096], dir[4096], cmd[9000];
    const char *build = getenv("TINYML_BUILD");
    if (!build || !*build)
        fail_msg("TINYML_BUILD is not set (run through ctest)");
    snprintf(model, sizeof model, "%s/%s", tml_test_shared_dir(), model_rel);
    if (access(model, R_OK) != 0) {
        fprintf(stderr, "missing %s\n", model);
        skip();
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tml_corpus_XXXXXX", tmp && *tmp ? tmp
                                                                  : "/tmp");
    assert_non_null(mkdtemp(dir));

    snprintf(cmd, sizeof cmd, "'%s/gen_malformed' '%s' '%s'", build, model,
             dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    int written = -1;
    if (fscanf(p, "%d", &written) != 1)
        written = -1;
    int rc = pclose(p);
    if (rc != 0 || written < min_files) {
        remove_dir(dir);
        fail_msg("%s failed (exit %d, %d files)", cmd, rc, written);
    }

    counts c;
    memset(&c, 0, sizeof c);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        check_file(dir, e->d_name, &c);
    }
    closedir(d);
    remove_dir(dir);

    printf("%s: %d files (%d bad, %d maybe): %d rejected, %d loaded, %d "
           "invoked\n", model_rel, c.files, c.bad, c.maybe, c.rejected,
           c.loaded, c.invoked);
    assert_int_equal(c.files, written);
    /* Every bad file was rejected (checked per file); most flips hit
     * structure and are rejected too. */
    assert_true(c.rejected >= c.bad);
}

static void test_corpus_kws(void **state)
{
    (void)state;
    run_corpus("models/mlperf-tiny/kws_ref_model.tflite", 800);
}

static void test_corpus_ad01(void **state)
{
    (void)state;
    run_corpus("models/mlperf-tiny/ad01_int8.tflite", 600);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus_kws),
        cmocka_unit_test(test_corpus_ad01),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
