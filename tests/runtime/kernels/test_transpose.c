/* TRANSPOSE through the public API (one-op models) and its math layer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "op_checks.h"
#include "test_util.h"
#include "kernels/movement.h"

static tml_test_op transpose_op(tml_dtype type, int rank,
                                const int32_t *in_dims, const int32_t *perm)
{
    tml_test_op op = { .builtin = 39,
                       .options = tml_tfl_empty_options(TML_OPT_TRANSPOSE),
                       .ninputs = 2, .noutputs = 1 };
    op.inputs[0].type = type;
    op.inputs[0].ndims = rank;
    op.inputs[1].type = TML_INT32;
    op.inputs[1].ndims = 1;
    op.inputs[1].dims[0] = rank;
    op.inputs[1].data = perm;
    op.outputs[0].type = type;
    op.outputs[0].ndims = rank;
    for (int d = 0; d < rank; d++) {
        op.inputs[0].dims[d] = in_dims[d];
        op.outputs[0].dims[d] = in_dims[perm ? perm[d] : d];
    }
    if (type == TML_INT8) {
        op.inputs[0].scale = op.outputs[0].scale = 0.5f;
        op.inputs[0].zero_point = op.outputs[0].zero_point = -1;
    }
    return op;
}

static void test_transpose_float_2d(void **state)
{
    (void)state;
    static const int32_t perm[2] = { 1, 0 };
    tml_test_op op = transpose_op(TML_FLOAT32, 2, (const int32_t[]){ 2, 3 },
                                  perm);
    const float x[6] = { 1, 2, 3, 4, 5, 6 };
    const float want[6] = { 1, 4, 2, 5, 3, 6 };
    float y[6];
    tml_test_run_op_ok(&op, x, y);
    assert_memory_equal(y, want, sizeof want);
}

/* NHWC -> NCHW on int8 [1,2,2,3]: element (h,w,c) = 100*h + 10*w + c. */
static void test_transpose_int8_nhwc_to_nchw(void **state)
{
    (void)state;
    static const int32_t perm[4] = { 0, 3, 1, 2 };
    tml_test_op op = transpose_op(TML_INT8, 4, (const int32_t[]){ 1, 2, 2, 3 },
                                  perm);
    int8_t x[12];
    for (int h = 0; h < 2; h++)
        for (int w = 0; w < 2; w++)
            for (int c = 0; c < 3; c++)
                x[(h * 2 + w) * 3 + c] = (int8_t)(50 * h + 10 * w + c);
    const int8_t want[12] = { 0, 10, 50, 60, 1, 11, 51, 61, 2, 12, 52, 62 };
    int8_t y[12];
    tml_test_run_op_ok(&op, x, y);
    assert_memory_equal(y, want, sizeof want);
}

/* A 6D permutation checked against the definition, element by element. */
static void test_transpose_int32_6d(void **state)
{
    (void)state;
    static const int32_t dims[6] = { 2, 1, 3, 2, 1, 2 };
    static const int32_t perm[6] = { 5, 2, 0, 4, 3, 1 };
    tml_test_op op = transpose_op(TML_INT32, 6, dims, perm);
    op.version = 6;
    int32_t x[24], y[24];
    for (int i = 0; i < 24; i++)
        x[i] = 1000 + i;
    tml_test_run_op_ok(&op, x, y);
    /* out[a5][a2][a0][a4][a3][a1] = in[a0][a1][a2][a3][a4][a5] */
    int o = 0;
    for (int a5 = 0; a5 < 2; a5++)
        for (int a2 = 0; a2 < 3; a2++)
            for (int a0 = 0; a0 < 2; a0++)
                for (int a4 = 0; a4 < 1; a4++)
                    for (int a3 = 0; a3 < 2; a3++)
                        for (int a1 = 0; a1 < 1; a1++) {
                            int i = ((((a0 * 1 + a1) * 3 + a2) * 2 + a3) * 1 +
                                     a4) * 2 + a5;
                            assert_int_equal(y[o], x[i]);
                            o++;
                        }
    assert_int_equal(o, 24);
}

static void test_transpose_math_identity_and_3d(void **state)
{
    (void)state;
    const int16_t x[6] = { 1, 2, 3, 4, 5, 6 };
    int16_t y[6];
    tml_transpose(3, (const int32_t[]){ 1, 2, 3 }, (const int32_t[]){ 0, 1, 2 },
                  sizeof x[0], x, y);
    assert_memory_equal(y, x, sizeof x);
    tml_transpose(3, (const int32_t[]){ 1, 2, 3 }, (const int32_t[]){ 2, 0, 1 },
                  sizeof x[0], x, y);
    const int16_t want[6] = { 1, 4, 2, 5, 3, 6 };
    assert_memory_equal(y, want, sizeof want);
}

static void test_transpose_errors(void **state)
{
    (void)state;
    tml_test_op op = transpose_op(TML_FLOAT32, 2, (const int32_t[]){ 2, 3 },
                                  NULL);
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 TRANSPOSE: input 1 (perm) tensor 1 'input1': expected "
                                  "a constant tensor, got one computed at run time");
    static const int32_t dup[2] = { 1, 1 };
    op = transpose_op(TML_FLOAT32, 2, (const int32_t[]){ 2, 3 }, dup);
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 TRANSPOSE: input 1 (perm) tensor 1 'input1': expected "
                                  "a permutation of 0..1, got 1 at 1");
    static const int32_t swap[2] = { 1, 0 };
    op = transpose_op(TML_FLOAT32, 2, (const int32_t[]){ 2, 3 }, swap);
    op.outputs[0].dims[0] = 2;
    op.outputs[0].dims[1] = 3;
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 TRANSPOSE: output 0 tensor 2 'output0': axis 0: "
                                  "expected 3, got 2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transpose_float_2d),
        cmocka_unit_test(test_transpose_int8_nhwc_to_nchw),
        cmocka_unit_test(test_transpose_int32_6d),
        cmocka_unit_test(test_transpose_math_identity_and_3d),
        cmocka_unit_test(test_transpose_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
