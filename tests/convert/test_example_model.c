/*
 * The checked-in example models (examples/models/, written by
 * examples/make_example_model.c) run through the public API and classify
 * the strokes they were designed for; the int8 model agrees with the
 * float32 twin to within int8 resolution.  Regenerating them gives the
 * same bytes: test_example_model.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"
#include "tools/lib/file_io.h"

enum { N = 8, K = 4 };

static void *read_example(const char *file, size_t *size)
{
    const char *src = getenv("TINYML_SOURCE");
    char path[1024], err[256];
    void *data;
    snprintf(path, sizeof path, "%s/examples/models/%s",
             src && *src ? src : ".", file);
    data = tml_read_file(path, size, err, sizeof err);
    if (!data)
        fail_msg("%s", err);
    return data;
}

/* The generator's strokes, centred: class 0 '|', 1 '-', 2 '\', 3 '/'. */
static void stroke(float img[N][N], int k)
{
    int i;
    memset(img, 0, sizeof(float) * N * N);
    for (i = 0; i < N; i++) {
        if (k == 0) img[i][3] = 1.0f;
        if (k == 1) img[4][i] = 1.0f;
        if (k == 2) img[i][i] = 1.0f;
        if (k == 3) img[i][N - 1 - i] = 1.0f;
    }
}

typedef struct runner {
    void *model;
    uint8_t arena[32 * 1024];
    tml_interpreter it;
} runner;

static void open_model(runner *r, const char *file)
{
    size_t size;
    char msg[256];
    r->model = read_example(file, &size);
    if (tml_create(&r->it, r->model, size, r->arena, sizeof r->arena) !=
            TML_OK ||
        tml_allocate(&r->it) != TML_OK) {
        snprintf(msg, sizeof msg, "%s: %s", file, tml_error(&r->it));
        fail_msg("%s", msg);
    }
}

static void test_int8_details(void **state)
{
    runner *r = malloc(sizeof *r);
    tml_tensor_info in, out;
    (void)state;
    open_model(r, "tiny_int8.tflite");
    assert_int_equal(tml_input_count(&r->it), 1);
    assert_int_equal(tml_output_count(&r->it), 1);
    assert_int_equal(tml_op_count(&r->it), 5);
    assert_int_equal(tml_input_details(&r->it, 0, &in), TML_OK);
    assert_int_equal(in.dtype, TML_INT8);
    assert_int_equal(in.ndims, 4);
    assert_int_equal(in.dims[1], 8);
    assert_true(in.scale == 1.0f / 255.0f);
    assert_int_equal(in.zero_point, -128);
    assert_int_equal(tml_output_details(&r->it, 0, &out), TML_OK);
    assert_int_equal(out.dtype, TML_INT8);
    assert_int_equal(out.dims[1], 4);
    assert_true(out.scale == 1.0f / 256.0f);
    assert_int_equal(out.zero_point, -128);
    free(r->model);
    free(r);
}

static void test_strokes_classified_and_int8_matches_float(void **state)
{
    runner *ri = malloc(sizeof *ri), *rf = malloc(sizeof *rf);
    int k, c;
    (void)state;
    open_model(ri, "tiny_int8.tflite");
    open_model(rf, "tiny_float.tflite");
    for (k = 0; k < K; k++) {
        float img[N][N], pf[K];
        int8_t q[N * N], pq[K];
        int best_f = 0, best_q = 0;
        stroke(img, k);
        for (c = 0; c < N * N; c++)
            q[c] = tml_test_quantize_i8(img[c / N][c % N], 1.0f / 255.0f,
                                        -128);
        assert_int_equal(tml_set_input(&ri->it, 0, q, sizeof q), TML_OK);
        assert_int_equal(tml_set_input(&rf->it, 0, img, sizeof img), TML_OK);
        assert_int_equal(tml_invoke(&ri->it), TML_OK);
        assert_int_equal(tml_invoke(&rf->it), TML_OK);
        assert_int_equal(tml_get_output(&ri->it, 0, pq, sizeof pq), TML_OK);
        assert_int_equal(tml_get_output(&rf->it, 0, pf, sizeof pf), TML_OK);
        for (c = 0; c < K; c++) {
            float deq = tml_test_dequantize_i8(pq[c], 1.0f / 256.0f, -128);
            printf("stroke %d class %d: float %.5f int8 %d (%.5f)\n", k, c,
                   (double)pf[c], pq[c], (double)deq);
            /* int8 within a few output steps of the float twin */
            assert_true(deq - pf[c] < 4.0f / 256.0f &&
                        pf[c] - deq < 4.0f / 256.0f);
            if (pf[c] > pf[best_f])
                best_f = c;
            if (pq[c] > pq[best_q])
                best_q = c;
        }
        assert_int_equal(best_f, k);
        assert_int_equal(best_q, k);
        assert_true(pf[k] > 0.9f);
    }
    free(ri->model);
    free(rf->model);
    free(ri);
    free(rf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int8_details),
        cmocka_unit_test(test_strokes_classified_and_int8_matches_float),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
