/*
 * Buffer sharing in the arena: RESHAPE views, in-place elementwise ops,
 * input reuse; checked through data pointers and results.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"
#include "tinyml/tinyml.h"

/* x -> ADD(x, c) -> t1 -> RELU -> t2 -> RESHAPE -> t3 -> ADD(t3, t3b)...
 * Kept simple: x[1,4] + c -> t1; RELU(t1) -> t2; RESHAPE(t2) -> y[4]. */
static tml_test_graph chain(void)
{
    static const float c[4] = { -5, 1, -1, 2 };
    static const int32_t shape[1] = { 4 };
    tml_test_graph g = {
        .ntensors = 5,
        .tensors = {
            { .name = "x", .type = TML_FLOAT32, .ndims = 2, .dims = { 1, 4 } },
            { .name = "c", .type = TML_FLOAT32, .ndims = 2, .dims = { 1, 4 }, .data = c },
            { .name = "t1", .type = TML_FLOAT32, .ndims = 2, .dims = { 1, 4 } },
            { .name = "t2", .type = TML_FLOAT32, .ndims = 2, .dims = { 1, 4 } },
            { .name = "y", .type = TML_FLOAT32, .ndims = 1, .dims = { 4 } },
        },
        .nops = 3,
        .ops = {
            { .builtin = 0, .ninputs = 2, .inputs = { 0, 1 }, .noutputs = 1,
              .outputs = { 2 }, .options = tml_tfl_add_options(0) },
            { .builtin = 19, .ninputs = 1, .inputs = { 2 }, .noutputs = 1,
              .outputs = { 3 } },
            { .builtin = 22, .ninputs = 1, .inputs = { 3 }, .noutputs = 1,
              .outputs = { 4 }, .options = tml_tfl_reshape_options(shape, 1) },
        },
        .ninputs = 1, .inputs = { 0 },
        .noutputs = 1, .outputs = { 4 },
    };
    return g;
}

static void test_inplace_and_view_share_one_buffer(void **state)
{
    (void)state;
    tml_test_graph g = chain();
    tml_test_runner r;
    assert_int_equal(tml_test_runner_open_graph(&r, &g, 0), TML_OK);
    /* ADD may not write over x (a kept input): t1 has its own buffer; RELU
     * runs in place on t1; RESHAPE is a view of t2. */
    const void *x = tml_tensor_data(&r.it, 0);
    const void *t1 = tml_tensor_data(&r.it, 2);
    assert_ptr_not_equal(x, t1);
    assert_ptr_equal(tml_tensor_data(&r.it, 3), t1);
    assert_ptr_equal(tml_tensor_data(&r.it, 4), t1);
    /* Two buffers of 16 bytes: x and the shared t1/t2/y. */
    assert_int_equal(r.it.planned_bytes, 32);

    float in[4] = { 1, 2, 3, 4 }, y[4];
    assert_int_equal(tml_set_input(&r.it, 0, in, sizeof in), TML_OK);
    assert_int_equal(tml_invoke(&r.it), TML_OK);
    assert_int_equal(tml_get_output(&r.it, 0, y, sizeof y), TML_OK);
    assert_true(y[0] == 0 && y[1] == 3 && y[2] == 2 && y[3] == 6);
    /* x kept its data. */
    assert_memory_equal(tml_input_data(&r.it, 0), in, sizeof in);
    tml_test_runner_close(&r);
}

static void test_reused_input_takes_the_chain(void **state)
{
    (void)state;
    tml_test_graph g = chain();
    size_t size;
    char err[256];
    uint8_t *model = tml_test_build_graph(&g, &size, err, sizeof err);
    assert_non_null(model);
    static uint8_t arena[8192];
    tml_interpreter it;
    assert_int_equal(tml_create(&it, model, size, arena, sizeof arena), TML_OK);
    tml_set_reuse_inputs(&it, 1);
    assert_int_equal(tml_allocate(&it), TML_OK);
    /* Now ADD writes over x: one 16-byte buffer for the whole model. */
    assert_ptr_equal(tml_tensor_data(&it, 2), tml_tensor_data(&it, 0));
    assert_int_equal(it.planned_bytes, 16);
    float in[4] = { 1, 2, 3, 4 }, y[4];
    tml_set_input(&it, 0, in, sizeof in);
    assert_int_equal(tml_invoke(&it), TML_OK);
    tml_get_output(&it, 0, y, sizeof y);
    assert_true(y[0] == 0 && y[1] == 3 && y[2] == 2 && y[3] == 6);
    free(model);
}

/* A tensor read after the elementwise op must not be overwritten. */
static void test_no_inplace_when_input_read_later(void **state)
{
    (void)state;
    tml_test_graph g = {
        .ntensors = 4,
        .tensors = {
            { .name = "x", .type = TML_FLOAT32, .ndims = 2, .dims = { 1, 4 } },
            { .name = "a", .type = TML_FLOAT32, .ndims = 2, .dims = { 1, 4 } },
            { .name = "b", .type = TML_FLOAT32, .ndims = 2, .dims = { 1, 4 } },
            { .name = "y", .type = TML_FLOAT32, .ndims = 2, .dims = { 1, 4 } },
        },
        .nops = 3,
        .ops = {
            { .builtin = 0, .ninputs = 2, .inputs = { 0, 0 }, .noutputs = 1,
              .outputs = { 1 }, .options = tml_tfl_add_options(0) },      /* a = 2x */
            { .builtin = 19, .ninputs = 1, .inputs = { 1 }, .noutputs = 1,
              .outputs = { 2 } },                                          /* b = relu(a) */
            { .builtin = 41, .ninputs = 2, .inputs = { 2, 1 }, .noutputs = 1,
              .outputs = { 3 }, .options = tml_tfl_sub_options(0) },      /* y = b - a */
        },
        .ninputs = 1, .inputs = { 0 },
        .noutputs = 1, .outputs = { 3 },
    };
    tml_test_runner r;
    assert_int_equal(tml_test_runner_open_graph(&r, &g, 0), TML_OK);
    assert_ptr_not_equal(tml_tensor_data(&r.it, 2), tml_tensor_data(&r.it, 1));
    /* SUB may write over b or a: both die there. */
    const void *y = tml_tensor_data(&r.it, 3);
    assert_true(y == tml_tensor_data(&r.it, 2) || y == tml_tensor_data(&r.it, 1));
    float in[4] = { -1, 2, -3, 4 }, out[4];
    tml_set_input(&r.it, 0, in, sizeof in);
    assert_int_equal(tml_invoke(&r.it), TML_OK);
    tml_get_output(&r.it, 0, out, sizeof out);
    /* relu(2x) - 2x = 2, 0, 6, 0 */
    assert_true(out[0] == 2 && out[1] == 0 && out[2] == 6 && out[3] == 0);
    tml_test_runner_close(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inplace_and_view_share_one_buffer),
        cmocka_unit_test(test_reused_input_takes_the_chain),
        cmocka_unit_test(test_no_inplace_when_input_read_later),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
