/* MEAN through the public API (one-op models).  int8 expectations follow
 * TFLite's QuantizedMeanOrSum (1/count folded into the multiplier, then
 * gemmlowp's two roundings), worked out by hand below. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "op_checks.h"
#include "test_util.h"
#include "kernels/movement.h"

static tml_test_op mean_op(tml_dtype type, int rank, const int32_t *in_dims,
                           int out_rank, const int32_t *out_dims,
                           const int32_t *axes, int naxes, int keep)
{
    tml_test_op op = { .builtin = 40,
                       .version = type == TML_INT8 ? 2 : 1,
                       .options = tml_tfl_reducer_options(keep),
                       .ninputs = 2, .noutputs = 1 };
    op.inputs[0].type = type;
    tml_test_set_shape(&op.inputs[0], rank, in_dims);
    op.inputs[1].type = TML_INT32;
    op.inputs[1].ndims = naxes < 0 ? 0 : 1;   /* < 0: a scalar axis */
    op.inputs[1].dims[0] = naxes < 0 ? 0 : naxes;
    op.inputs[1].data = axes;
    op.outputs[0].type = type;
    tml_test_set_shape(&op.outputs[0], out_rank, out_dims);
    return op;
}

/* [2,3,2] over the last axis, listed twice (TFLite ignores duplicates),
 * keep_dims: [2,3,1]. */
static void test_mean_float_last_axis_keep_dims(void **state)
{
    (void)state;
    static const int32_t axes[2] = { 2, -1 };
    tml_test_op op = mean_op(TML_FLOAT32, 3, (const int32_t[]){ 2, 3, 2 }, 3,
                             (const int32_t[]){ 2, 3, 1 }, axes, 2, 1);
    const float x[12] = { 1, 2, 3, 5, -1, -2, 0.5f, 0.25f, 8, 8, -3, 4 };
    const float want[6] = { 1.5f, 4, -1.5f, 0.375f, 8, 0.5f };
    float y[6];
    tml_test_run_op_ok(&op, x, y);
    assert_memory_equal(y, want, sizeof want);
}

/* Axes 0 and 2 of [2,3,2], dropped: [3]; each output averages 4 values. */
static void test_mean_float_two_apart_axes(void **state)
{
    (void)state;
    static const int32_t axes[2] = { 0, 2 };
    tml_test_op op = mean_op(TML_FLOAT32, 3, (const int32_t[]){ 2, 3, 2 }, 1,
                             (const int32_t[]){ 3 }, axes, 2, 0);
    const float x[12] = { 1, 2, 3, 5, -1, -2, 0.5f, 0.25f, 8, 8, -3, 4 };
    /* (1+2+0.5+0.25)/4, (3+5+8+8)/4, (-1-2-3+4)/4 */
    const float want[3] = { 0.9375f, 6, -0.5f };
    float y[3];
    tml_test_run_op_ok(&op, x, y);
    assert_memory_equal(y, want, sizeof want);
}

/* The 4D H,W mean of a pooling head (TFLM's special case), scalar-free. */
static void test_mean_float_hw(void **state)
{
    (void)state;
    static const int32_t axes[2] = { 1, 2 };
    tml_test_op op = mean_op(TML_FLOAT32, 4, (const int32_t[]){ 1, 2, 2, 2 },
                             4, (const int32_t[]){ 1, 1, 1, 2 }, axes, 2, 1);
    const float x[8] = { 1, 10, 2, 20, 3, 30, 4, 41 };
    const float want[2] = { 2.5f, 25.25f };
    float y[2];
    tml_test_run_op_ok(&op, x, y);
    assert_memory_equal(y, want, sizeof want);
}

/* in scale = out scale, zero points 0, count 4: QuantizeMultiplier(1.0)
 * = (2^30, 1); folding 1/4: shift 2, multiplier 2^30, shift -1.  So
 * y = RDBPOT(SRDHM(sum, 2^30), 1) = two roundings of sum/2:
 *   sum  5: SRDHM 2.5 -> 3, RDBPOT 1.5 -> 2   (1.25 gives 2)
 *   sum -5: SRDHM -2.5 -> -2, RDBPOT -1 -> -1 (-1.25 gives -1)
 *   sum  6: 3 -> 2;  sum -7: -3.5 -> -3 (nudge 1-2^30), -1.5 -> -2. */
static void test_mean_int8_hw_double_rounding(void **state)
{
    (void)state;
    static const int32_t axes[2] = { 1, 2 };
    tml_test_op op = mean_op(TML_INT8, 4, (const int32_t[]){ 1, 2, 2, 4 }, 4,
                             (const int32_t[]){ 1, 1, 1, 4 }, axes, 2, 1);
    op.inputs[0].scale = op.outputs[0].scale = 0.5f;
    const int8_t x[16] = { 1, -1, 1, -1,
                           1, -1, 1, -2,
                           1, -1, 2, -2,
                           2, -2, 2, -2 };
    const int8_t want[4] = { 2, -1, 2, -2 };
    int8_t y[4];
    tml_test_run_op_ok(&op, x, y);
    assert_memory_equal(y, want, sizeof want);
}

/* Scales 0.1 -> 0.3, zero points -10 -> 5, count 3 over axis 1 of
 * [1,3,5], keep_dims false: [1,5].  Real means (x+10)*0.1/0.3 + 5 are
 * 8.22, 15.11, 5.11, 50.67, -34.33; TFLite's integer path gives
 * 8, 15, 5, 51, -34. */
static void test_mean_int8_rescaled_zero_points(void **state)
{
    (void)state;
    static const int32_t axes[1] = { 1 };
    tml_test_op op = mean_op(TML_INT8, 3, (const int32_t[]){ 1, 3, 5 }, 2,
                             (const int32_t[]){ 1, 5 }, axes, 1, 0);
    op.inputs[0].scale = 0.1f;
    op.inputs[0].zero_point = -10;
    op.outputs[0].scale = 0.3f;
    op.outputs[0].zero_point = 5;
    const int8_t x[15] = { -128, 10, -10, 127, -128,
                           127, 20, -10, 127, -128,
                           0, 31, -9, 127, -128 };
    const int8_t want[5] = { 8, 15, 5, 51, -34 };
    int8_t y[5];
    tml_test_run_op_ok(&op, x, y);
    assert_memory_equal(y, want, sizeof want);
}

/* Output saturates at the int8 range. */
static void test_mean_int8_saturates(void **state)
{
    (void)state;
    static const int32_t axes[1] = { 0 };
    tml_test_op op = mean_op(TML_INT8, 1, (const int32_t[]){ 2 }, 1,
                             (const int32_t[]){ 1 }, axes, -1, 1);
    op.inputs[0].scale = 1.0f;
    op.outputs[0].scale = 0.25f;
    const int8_t x[2] = { 100, 120 };
    int8_t y[1];
    tml_test_run_op_ok(&op, x, y);
    assert_int_equal(y[0], 127);
    const int8_t xn[2] = { -100, -120 };
    tml_test_run_op_ok(&op, xn, y);
    assert_int_equal(y[0], -128);
}

/* The rescale fold directly: TFLite caps the shift at 31 + shift. */
static void test_mean_rescale_fold(void **state)
{
    (void)state;
    int32_t m;
    int s;
    tml_mean_int8_rescale(1 << 30, 1, 4, &m, &s);
    assert_int_equal(m, 1 << 30);
    assert_int_equal(s, -1);
    tml_mean_int8_rescale(1518500250, -30, 100, &m, &s);
    /* shift = floor(log2 100) = 6, capped at 31 - 30 = 1 */
    assert_int_equal(s, -31);
    assert_int_equal(m, (int32_t)(((int64_t)1518500250 << 1) / 100));
    tml_mean_int8_rescale(1 << 30, 0, 1250, &m, &s);
    /* floor(log2 1250) = 10 */
    assert_int_equal(s, -10);
    assert_int_equal(m, (int32_t)(((int64_t)1 << 40) / 1250));
}

static void test_mean_errors(void **state)
{
    (void)state;
    tml_test_op op = mean_op(TML_FLOAT32, 2, (const int32_t[]){ 2, 3 }, 1,
                             (const int32_t[]){ 2 }, NULL, 1, 0);
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 MEAN: input 1 (axis) tensor 1 'input1': expected a "
                                  "constant tensor, got one computed at run time");
    static const int32_t bad_axis[1] = { 2 };
    op = mean_op(TML_FLOAT32, 2, (const int32_t[]){ 2, 3 }, 1,
                 (const int32_t[]){ 2 }, bad_axis, 1, 0);
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 MEAN: input 1 (axis) tensor 1 'input1': axis 2 is out "
                                  "of range for rank 2");
    static const int32_t axis1[1] = { 1 };
    op = mean_op(TML_FLOAT32, 2, (const int32_t[]){ 2, 3 }, 2,
                 (const int32_t[]){ 2, 3 }, axis1, 1, 1);
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 MEAN: output 0 tensor 2 'output0': shape does not "
                                  "match the input reduced over the axes (keep_dims 1)");
    op = mean_op(TML_INT32, 2, (const int32_t[]){ 2, 3 }, 1,
                 (const int32_t[]){ 2 }, axis1, 1, 0);
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 MEAN: input 0 tensor 0 'input0': expected float32 or "
                                  "int8, got int32");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mean_float_last_axis_keep_dims),
        cmocka_unit_test(test_mean_float_two_apart_axes),
        cmocka_unit_test(test_mean_float_hw),
        cmocka_unit_test(test_mean_int8_hw_double_rounding),
        cmocka_unit_test(test_mean_int8_rescaled_zero_points),
        cmocka_unit_test(test_mean_int8_saturates),
        cmocka_unit_test(test_mean_rescale_fold),
        cmocka_unit_test(test_mean_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
