/* STRIDED_SLICE through the public API (one-op models). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "op_checks.h"
#include "test_util.h"
#include "kernels/movement.h"

typedef struct spec {
    int n;
    int32_t begin[8], end[8], strides[8];
    int begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_mask;
    int offset;
} spec;

static tml_test_op slice_op(tml_dtype type, int rank, const int32_t *in_dims,
                            int out_rank, const int32_t *out_dims,
                            const spec *s)
{
    tml_test_op op = { .builtin = 45, .ninputs = 4, .noutputs = 1 };
    op.options = tml_tfl_strided_slice_options(s->begin_mask, s->end_mask,
                                               s->ellipsis_mask,
                                               s->new_axis_mask,
                                               s->shrink_mask, s->offset);
    op.inputs[0].type = type;
    tml_test_set_shape(&op.inputs[0], rank, in_dims);
    const int32_t *data[3] = { s->begin, s->end, s->strides };
    for (int i = 1; i <= 3; i++) {
        op.inputs[i].type = TML_INT32;
        op.inputs[i].ndims = 1;
        op.inputs[i].dims[0] = s->n;
        op.inputs[i].data = data[i - 1];
    }
    op.outputs[0].type = type;
    tml_test_set_shape(&op.outputs[0], out_rank, out_dims);
    if (type == TML_INT8) {
        op.inputs[0].scale = op.outputs[0].scale = 0.5f;
        op.inputs[0].zero_point = op.outputs[0].zero_point = 1;
        op.version = 2;
    }
    return op;
}

static const float ramp[24] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                23 };

static void test_slice_1d_strides(void **state)
{
    (void)state;
    spec s = { .n = 1, .begin = { 1 }, .end = { 8 }, .strides = { 3 } };
    tml_test_op op = slice_op(TML_FLOAT32, 1, (const int32_t[]){ 10 }, 1,
                              (const int32_t[]){ 3 }, &s);
    float y[3];
    tml_test_run_op_ok(&op, ramp, y);
    assert_memory_equal(y, ((const float[]){ 1, 4, 7 }), sizeof y);

    /* negative stride from the end: start 5, stop 0 exclusive */
    spec r = { .n = 1, .begin = { -1 }, .end = { 0 }, .strides = { -2 } };
    op = slice_op(TML_FLOAT32, 1, (const int32_t[]){ 6 }, 1,
                  (const int32_t[]){ 3 }, &r);
    tml_test_run_op_ok(&op, ramp, y);
    assert_memory_equal(y, ((const float[]){ 5, 3, 1 }), sizeof y);

    /* out-of-range begin/end clamp: [-100, 100) is the whole axis */
    spec c = { .n = 1, .begin = { -100 }, .end = { 100 }, .strides = { 2 } };
    op = slice_op(TML_FLOAT32, 1, (const int32_t[]){ 5 }, 1,
                  (const int32_t[]){ 3 }, &c);
    tml_test_run_op_ok(&op, ramp, y);
    assert_memory_equal(y, ((const float[]){ 0, 2, 4 }), sizeof y);
}

/* [3,4]: begin_mask/end_mask on axis 0 take every row; cols 1..2. */
static void test_slice_masks_2d(void **state)
{
    (void)state;
    spec s = { .n = 2, .begin = { 2, 1 }, .end = { 1, 3 },
               .strides = { 1, 1 }, .begin_mask = 1, .end_mask = 1 };
    tml_test_op op = slice_op(TML_FLOAT32, 2, (const int32_t[]){ 3, 4 }, 2,
                              (const int32_t[]){ 3, 2 }, &s);
    float y[6];
    tml_test_run_op_ok(&op, ramp, y);
    assert_memory_equal(y, ((const float[]){ 1, 2, 5, 6, 9, 10 }),
                        sizeof y);
    /* reversed rows with masks: stride -1 starts at the last row */
    spec r = { .n = 2, .begin = { 0, 0 }, .end = { 0, 4 },
               .strides = { -1, 3 }, .begin_mask = 1, .end_mask = 1 };
    op = slice_op(TML_FLOAT32, 2, (const int32_t[]){ 3, 4 }, 2,
                  (const int32_t[]){ 3, 2 }, &r);
    tml_test_run_op_ok(&op, ramp, y);
    assert_memory_equal(y, ((const float[]){ 8, 11, 4, 7, 0, 3 }),
                        sizeof y);
}

/* shrink_axis drops axis 0; begin -1 is the last row. */
static void test_slice_shrink_axis(void **state)
{
    (void)state;
    spec s = { .n = 2, .begin = { -1, 1 }, .end = { 0, 4 },
               .strides = { 1, 2 }, .shrink_mask = 1 };
    tml_test_op op = slice_op(TML_INT8, 2, (const int32_t[]){ 3, 4 }, 1,
                              (const int32_t[]){ 2 }, &s);
    const int8_t x[12] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, -11 };
    int8_t y[2];
    tml_test_run_op_ok(&op, x, y);
    assert_int_equal(y[0], 9);
    assert_int_equal(y[1], -11);
}

/* offset: end is relative to begin (end = begin + end). */
static void test_slice_offset(void **state)
{
    (void)state;
    spec s = { .n = 1, .begin = { 2 }, .end = { 3 }, .strides = { 1 },
               .offset = 1 };
    tml_test_op op = slice_op(TML_FLOAT32, 1, (const int32_t[]){ 10 }, 1,
                              (const int32_t[]){ 3 }, &s);
    float y[3];
    tml_test_run_op_ok(&op, ramp, y);
    assert_memory_equal(y, ((const float[]){ 2, 3, 4 }), sizeof y);
}

/* ellipsis spans the leading axes: x[..., 1:3] of [2,3,4] is [2,3,2]. */
static void test_slice_ellipsis(void **state)
{
    (void)state;
    spec s = { .n = 2, .begin = { 0, 1 }, .end = { 0, 3 },
               .strides = { 1, 1 }, .ellipsis_mask = 1 };
    tml_test_op op = slice_op(TML_FLOAT32, 3, (const int32_t[]){ 2, 3, 4 }, 3,
                              (const int32_t[]){ 2, 3, 2 }, &s);
    float y[12];
    tml_test_run_op_ok(&op, ramp, y);
    const float want[12] = { 1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22 };
    assert_memory_equal(y, want, sizeof want);
}

/* new axis in front: x[None, 1:2] of [3,2] is [1,1,2]. */
static void test_slice_new_axis(void **state)
{
    (void)state;
    spec s = { .n = 2, .begin = { 0, 1 }, .end = { 0, 2 },
               .strides = { 1, 1 }, .new_axis_mask = 1 };
    tml_test_op op = slice_op(TML_INT32, 2, (const int32_t[]){ 3, 2 }, 3,
                              (const int32_t[]){ 1, 1, 2 }, &s);
    const int32_t x[6] = { 10, 11, 12, 13, 14, 15 };
    int32_t y[2];
    tml_test_run_op_ok(&op, x, y);
    assert_int_equal(y[0], 12);
    assert_int_equal(y[1], 13);
}

/* 4D int8 as TFLM's tests shape them: [1,2,3,2] -> [1,1,2,2]. */
static void test_slice_4d_int8(void **state)
{
    (void)state;
    spec s = { .n = 4, .begin = { 0, 1, 0, 0 }, .end = { 1, 2, 3, 2 },
               .strides = { 1, 1, 2, 1 } };
    tml_test_op op = slice_op(TML_INT8, 4, (const int32_t[]){ 1, 2, 3, 2 }, 4,
                              (const int32_t[]){ 1, 1, 2, 2 }, &s);
    int8_t x[12];
    for (int i = 0; i < 12; i++)
        x[i] = (int8_t)(i * 10 - 60);
    int8_t y[4];
    tml_test_run_op_ok(&op, x, y);
    /* elements 6,7 and 10,11 */
    assert_memory_equal(y, ((const int8_t[]){ 0, 10, 40, 50 }), sizeof y);
}

static void test_slice_extent_math(void **state)
{
    (void)state;
    assert_int_equal(tml_slice_extent(1, 8, 3), 3);
    assert_int_equal(tml_slice_extent(5, -1, -2), 3);
    assert_int_equal(tml_slice_extent(3, 3, 1), 0);
    assert_int_equal(tml_slice_extent(4, 1, 1), 0);
    assert_int_equal(tml_slice_extent(1, 4, -1), 0);
}

static void test_slice_errors(void **state)
{
    (void)state;
    spec s = { .n = 1, .begin = { 1 }, .end = { 8 }, .strides = { 3 } };
    tml_test_op op = slice_op(TML_FLOAT32, 1, (const int32_t[]){ 10 }, 1,
                              (const int32_t[]){ 3 }, &s);
    op.inputs[2].data = NULL;
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                                  "op 0 STRIDED_SLICE: input 2 (end) tensor 2 'input2': "
                                  "expected a constant tensor, got one computed at run time");
    op = slice_op(TML_FLOAT32, 1, (const int32_t[]){ 10 }, 1,
                  (const int32_t[]){ 4 }, &s);
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 STRIDED_SLICE: output 0 tensor 4 'output0': expected "
                                  "shape [3], got [4]");
    spec z = { .n = 1, .begin = { 1 }, .end = { 8 }, .strides = { 0 } };
    op = slice_op(TML_FLOAT32, 1, (const int32_t[]){ 10 }, 1,
                  (const int32_t[]){ 3 }, &z);
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 STRIDED_SLICE: strides[0] is 0: stride value has to "
                                  "be non-zero");
    spec k = { .n = 1, .begin = { 10 }, .end = { 11 }, .strides = { 1 },
               .shrink_mask = 1 };
    op = slice_op(TML_FLOAT32, 1, (const int32_t[]){ 10 }, 0,
                  (const int32_t[]){ 0 }, &k);
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                                  "op 0 STRIDED_SLICE: begin[0] = 10 is outside axis 0 of "
                                  "size 10, which shrink_axis_mask removes");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slice_1d_strides),
        cmocka_unit_test(test_slice_masks_2d),
        cmocka_unit_test(test_slice_shrink_axis),
        cmocka_unit_test(test_slice_offset),
        cmocka_unit_test(test_slice_ellipsis),
        cmocka_unit_test(test_slice_new_axis),
        cmocka_unit_test(test_slice_4d_int8),
        cmocka_unit_test(test_slice_extent_math),
        cmocka_unit_test(test_slice_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
