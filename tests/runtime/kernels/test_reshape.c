/* RESHAPE and SQUEEZE through the public API (one-op models). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "op_checks.h"
#include "test_util.h"

static tml_test_op reshape_op(tml_dtype type, int const_shape)
{
    static const int32_t shape[2] = { 3, -1 };
    tml_test_op op = {
        .builtin = 22,
        .options = tml_tfl_reshape_options(NULL, -1),
        .ninputs = 2,
        .inputs = {
            { .type = type, .ndims = 3, .dims = { 1, 2, 3 } },
            { .type = TML_INT32, .ndims = 1, .dims = { 2 },
              .data = const_shape ? shape : NULL },
        },
        .noutputs = 1,
        .outputs = { { .type = type, .ndims = 2, .dims = { 3, 2 } } },
    };
    return op;
}

static void test_reshape_float_copies_bytes(void **state)
{
    (void)state;
    tml_test_op op = reshape_op(TML_FLOAT32, 1);
    const float x[6] = { 1.5f, -2.0f, 3.25f, 0.0f, -0.5f, 1e30f };
    float y[6] = { 0 };
    tml_test_run_op_ok(&op, x, y);
    assert_memory_equal(x, y, sizeof x);
}

static void test_reshape_int8_with_options_only(void **state)
{
    (void)state;
    static const int32_t new_shape[2] = { 3, 2 };
    tml_test_op op = {
        .builtin = 22,
        .version = 2,
        .options = tml_tfl_reshape_options(new_shape, 2),
        .ninputs = 1,
        .inputs = { { .type = TML_INT8, .ndims = 2, .dims = { 2, 3 },
                      .scale = 0.5f, .zero_point = -3 } },
        .noutputs = 1,
        .outputs = { { .type = TML_INT8, .ndims = 2, .dims = { 3, 2 },
                       .scale = 0.5f, .zero_point = -3 } },
    };
    const int8_t x[6] = { -128, 127, 0, 1, -1, 42 };
    int8_t y[6] = { 0 };
    tml_test_run_op_ok(&op, x, y);
    assert_memory_equal(x, y, sizeof x);
}

/* A constant input: the output may alias the model's buffer (view) and
 * eval must then leave it alone. */
static void test_reshape_of_constant(void **state)
{
    (void)state;
    static const int32_t x[4] = { 7, -8, 9, 100000 };
    tml_test_op op = {
        .builtin = 22,
        .options = tml_tfl_reshape_options(NULL, -1),
        .ninputs = 1,
        .inputs = { { .type = TML_INT32, .ndims = 1, .dims = { 4 },
                      .data = x } },
        .noutputs = 1,
        .outputs = { { .type = TML_INT32, .ndims = 2, .dims = { 2, 2 } } },
    };
    int32_t y[4] = { 0 };
    tml_test_run_op_ok(&op, NULL, y);
    assert_memory_equal(x, y, sizeof x);
}

static void test_reshape_rejects_runtime_shape(void **state)
{
    (void)state;
    tml_test_op op = reshape_op(TML_FLOAT32, 0);
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 RESHAPE: input 1 tensor 1 'input1': expected a "
                                  "constant shape, got a computed one");
}

static void test_reshape_rejects_element_count(void **state)
{
    (void)state;
    tml_test_op op = reshape_op(TML_FLOAT32, 1);
    op.outputs[0].dims[1] = 3;
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 RESHAPE: output 0 tensor 2 'output0': expected "
                                  "elements (the input's) 6, got 9");
}

static void test_reshape_rejects_dtype_change(void **state)
{
    (void)state;
    tml_test_op op = reshape_op(TML_FLOAT32, 1);
    op.outputs[0].type = TML_INT32;
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 RESHAPE: output 0 tensor 2 'output0': expected "
                                  "float32 (the input's), got int32");
}

static tml_test_op squeeze_op(const int32_t *dims, int count)
{
    tml_test_op op = {
        .builtin = 43,
        .options = tml_tfl_squeeze_options(dims, count),
        .ninputs = 1,
        .inputs = { { .type = TML_INT8, .ndims = 4, .dims = { 1, 3, 1, 2 },
                      .scale = 1.0f } },
        .noutputs = 1,
        .outputs = { { .type = TML_INT8, .ndims = 2, .dims = { 3, 2 },
                       .scale = 1.0f } },
    };
    return op;
}

static void test_squeeze_listed_and_all(void **state)
{
    (void)state;
    static const int32_t axes[2] = { 0, -2 };
    const int8_t x[6] = { 1, 2, 3, 4, 5, 6 };
    for (int listed = 0; listed < 2; listed++) {
        tml_test_op op = squeeze_op(listed ? axes : NULL, listed ? 2 : 0);
        int8_t y[6] = { 0 };
        tml_test_run_op_ok(&op, x, y);
        assert_memory_equal(x, y, sizeof x);
    }
}

static void test_squeeze_keeps_unlisted_ones(void **state)
{
    (void)state;
    static const int32_t axes[1] = { 2 };
    tml_test_op op = squeeze_op(axes, 1);
    op.outputs[0].ndims = 3;
    op.outputs[0].dims[0] = 1;
    op.outputs[0].dims[1] = 3;
    op.outputs[0].dims[2] = 2;
    const int8_t x[6] = { -1, -2, -3, -4, -5, -6 };
    int8_t y[6] = { 0 };
    tml_test_run_op_ok(&op, x, y);
    assert_memory_equal(x, y, sizeof x);
}

static void test_squeeze_rejects_axis_not_one(void **state)
{
    (void)state;
    static const int32_t axes[1] = { 1 };
    tml_test_op op = squeeze_op(axes, 1);
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 SQUEEZE: squeeze_dims[0] = 1: expected an axis of "
                                  "size 1 of the rank-4 input");
}

static void test_squeeze_rejects_wrong_output(void **state)
{
    (void)state;
    tml_test_op op = squeeze_op(NULL, 0);
    op.outputs[0].ndims = 3;
    op.outputs[0].dims[0] = 3;
    op.outputs[0].dims[1] = 1;
    op.outputs[0].dims[2] = 2;
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 SQUEEZE: output 0 tensor 1 'output0': does not match "
                                  "the squeezed input shape at input axis 3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reshape_float_copies_bytes),
        cmocka_unit_test(test_reshape_int8_with_options_only),
        cmocka_unit_test(test_reshape_of_constant),
        cmocka_unit_test(test_reshape_rejects_runtime_shape),
        cmocka_unit_test(test_reshape_rejects_element_count),
        cmocka_unit_test(test_reshape_rejects_dtype_change),
        cmocka_unit_test(test_squeeze_listed_and_all),
        cmocka_unit_test(test_squeeze_keeps_unlisted_ones),
        cmocka_unit_test(test_squeeze_rejects_axis_not_one),
        cmocka_unit_test(test_squeeze_rejects_wrong_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
