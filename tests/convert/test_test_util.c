/*
 * The test helpers of tests/util: graphs of several ops, and the
 * quantize/dequantize helpers.  (Single-op models are exercised in
 * test_tflite_writer.c and by every kernel test.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

/* The example of test_util.h, as written there: acc = sum((1 - -1) * w)
 * + bias = 90 + 10 = 100, times 0.5 * 0.25 / 1 = 12.5, rounded half away
 * from zero = 13. */
static void test_header_example_conv(void **state)
{
    static const int8_t w[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    static const int32_t bias[1] = {10};
    static const float wscale[1] = {0.25f};
    static const float bscale[1] = {0.125f};   /* input scale * wscale */
    tml_test_op op = {
        .builtin = 3,                            /* CONV_2D */
        .options = tml_tfl_conv2d_options(TML_PAD_VALID, 1, 1,
                                          TML_ACT_NONE, 1, 1),
        .ninputs = 3,
        .inputs = {
            { .type = TML_INT8, .ndims = 4, .dims = {1, 3, 3, 1},
              .scale = 0.5f, .zero_point = -1 },
            { .type = TML_INT8, .ndims = 4, .dims = {1, 3, 3, 1},
              .channels = 1, .scales = wscale, .data = w },
            { .type = TML_INT32, .ndims = 1, .dims = {1},
              .channels = 1, .scales = bscale, .data = bias },
        },
        .noutputs = 1,
        .outputs = { { .type = TML_INT8, .ndims = 4, .dims = {1, 1, 1, 1},
                       .scale = 1.0f, .zero_point = 0 } },
    };
    int8_t x[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, y[1] = {0};
    char err[256] = "";
    tml_status s;
    (void)state;
    s = tml_test_run_single_op(&op, (const void *[]){x}, (void *[]){y}, err,
                               sizeof err);
    assert_string_equal(err, "");
    assert_int_equal(s, TML_OK);
    assert_int_equal(y[0], 13);
}

/* y = relu(2 * x) through CONV_2D (1x1 filter 2, no bias) then RELU; x
 * also feeds an ADD (x + x), a second output: fan-out of one tensor. */
static void test_graph_chain_and_fan_out(void **state)
{
    static const float two[1] = {2.0f};
    tml_test_graph g = {
        .ntensors = 5,
        .tensors = {
            { .name = "x", .type = TML_FLOAT32, .ndims = 4,
              .dims = {1, 2, 2, 1} },
            { .type = TML_FLOAT32, .ndims = 4, .dims = {1, 1, 1, 1},
              .data = two },
            { .type = TML_FLOAT32, .ndims = 4, .dims = {1, 2, 2, 1} },
            { .name = "y", .type = TML_FLOAT32, .ndims = 4,
              .dims = {1, 2, 2, 1} },
            { .name = "sum", .type = TML_FLOAT32, .ndims = 4,
              .dims = {1, 2, 2, 1} },
        },
        .nops = 3,
        .ops = {
            { .builtin = 3, .ninputs = 3, .inputs = {0, 1, -1},
              .noutputs = 1, .outputs = {2},
              .options = tml_tfl_conv2d_options(TML_PAD_VALID, 1, 1,
                                                TML_ACT_NONE, 1, 1) },
            { .builtin = 19, .ninputs = 1, .inputs = {2},
              .noutputs = 1, .outputs = {3} },
            { .builtin = 0, .ninputs = 2, .inputs = {0, 0},
              .noutputs = 1, .outputs = {4},
              .options = tml_tfl_add_options(TML_ACT_NONE) },
        },
        .ninputs = 1, .inputs = {0},
        .noutputs = 2, .outputs = {3, 4},
    };
    const float x[4] = {1.5f, -1.0f, 0.25f, -3.0f};
    float y[4], sum[4];
    tml_test_runner r;
    tml_tensor_info info;
    (void)state;
    assert_int_equal(tml_test_runner_open_graph(&r, &g, 0), TML_OK);
    assert_int_equal(tml_op_count(&r.it), 3);
    assert_int_equal(tml_output_details(&r.it, 0, &info), TML_OK);
    assert_string_equal(info.name, "y");
    assert_int_equal(tml_tensor_details(&r.it, 2, &info), TML_OK);
    assert_string_equal(info.name, "t2");
    assert_int_equal(tml_set_input(&r.it, 0, x, sizeof x), TML_OK);
    assert_int_equal(tml_invoke(&r.it), TML_OK);
    assert_int_equal(tml_get_output(&r.it, 0, y, sizeof y), TML_OK);
    assert_int_equal(tml_get_output(&r.it, 1, sum, sizeof sum), TML_OK);
    assert_true(y[0] == 3.0f && y[1] == 0.0f && y[2] == 0.5f && y[3] == 0.0f);
    assert_true(sum[0] == 3.0f && sum[1] == -2.0f && sum[2] == 0.5f &&
                sum[3] == -6.0f);
    tml_test_runner_close(&r);
}

static void test_graph_build_errors(void **state)
{
    tml_test_graph g = {
        .ntensors = 1,
        .tensors = { { .type = TML_FLOAT32, .ndims = 1, .dims = {4} } },
        .nops = 1,
        .ops = { { .builtin = 19, .ninputs = 1, .inputs = {3},
                   .noutputs = 1, .outputs = {0} } },
        .ninputs = 1, .inputs = {0},
        .noutputs = 1, .outputs = {0},
    };
    tml_test_runner r;
    char err[256];
    size_t n;
    (void)state;
    assert_int_equal(tml_test_runner_open_graph(&r, &g, 0),
                     TML_ERROR_ARGUMENT);
    assert_string_equal(tml_test_runner_error(&r),
                        "building the model: operator 0: input 0 is tensor "
                        "3, out of range (1 tensors)");
    tml_test_runner_close(&r);
    g.ntensors = TML_TEST_MAX_TENSORS + 1;
    assert_null(tml_test_build_graph(&g, &n, err, sizeof err));
    assert_string_equal(err, "building the model: bad tensor, op, input or "
                        "output count");
}

/* TFLite rounding: half away from zero, then clamp to int8. */
static void test_quantize_helpers(void **state)
{
    (void)state;
    assert_int_equal(tml_test_quantize_i8(0.25f, 0.5f, 0), 1);    /* 0.5 */
    assert_int_equal(tml_test_quantize_i8(-0.25f, 0.5f, 0), -1);  /* -0.5 */
    assert_int_equal(tml_test_quantize_i8(1.0f, 0.5f, -3), -1);
    assert_int_equal(tml_test_quantize_i8(100.0f, 0.5f, 0), 127);
    assert_int_equal(tml_test_quantize_i8(-100.0f, 0.5f, 0), -128);
    assert_true(tml_test_dequantize_i8(-1, 0.5f, -3) == 1.0f);
    assert_true(tml_test_dequantize_i8(-128, 0.25f, -128) == 0.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_example_conv),
        cmocka_unit_test(test_graph_chain_and_fan_out),
        cmocka_unit_test(test_graph_build_errors),
        cmocka_unit_test(test_quantize_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
