/*
 * The interpreter API: call order, argument checks and their messages,
 * arena sizing, input persistence, unsupported ops, the observer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schema.h"
#include "test_util.h"
#include "tinyml/tinyml.h"

/* y = a + b, float32 [1, 4], no activation. */
static tml_test_op add_op(void)
{
    tml_test_op op = {
        .builtin = 0,
        .options = tml_tfl_add_options(0),
        .ninputs = 2,
        .inputs = {
            { .name = "a", .type = TML_FLOAT32, .ndims = 2, .dims = { 1, 4 } },
            { .name = "b", .type = TML_FLOAT32, .ndims = 2, .dims = { 1, 4 } },
        },
        .noutputs = 1,
        .outputs = { { .name = "y", .type = TML_FLOAT32, .ndims = 2, .dims = { 1, 4 } } },
    };
    return op;
}

static void test_set_input_checks_size_and_dtype(void **state)
{
    (void)state;
    tml_test_op op = add_op();
    tml_test_runner r;
    assert_int_equal(tml_test_runner_open(&r, &op, 0), TML_OK);
    float a[4] = { 1, 2, 3, 4 };
    assert_int_equal(tml_set_input(&r.it, 0, a, 12), TML_ERROR_INPUT);
    assert_string_equal(tml_error(&r.it),
                        "input 0: tensor 0 'a' (float32) has 16 bytes, got 12");
    assert_int_equal(tml_set_input_typed(&r.it, 1, TML_INT8, a, 16), TML_ERROR_INPUT);
    assert_string_equal(tml_error(&r.it), "input 1: tensor 1 'b' is float32, got int8");
    assert_int_equal(tml_set_input(&r.it, 2, a, 16), TML_ERROR_ARGUMENT);
    assert_string_equal(tml_error(&r.it), "input: index 2 out of range");
    float y[3];
    assert_int_equal(tml_get_output(&r.it, 0, y, sizeof y), TML_ERROR_INPUT);
    assert_string_equal(tml_error(&r.it),
                        "output 0: tensor 2 'y' (float32) has 16 bytes, got 12");
    tml_test_runner_close(&r);
}

static void test_inputs_keep_data_across_invokes(void **state)
{
    (void)state;
    tml_test_op op = add_op();
    tml_test_runner r;
    assert_int_equal(tml_test_runner_open(&r, &op, 0), TML_OK);
    float a[4] = { 1, 2, 3, 4 }, b[4] = { 10, 20, 30, 40 }, y[4];
    assert_int_equal(tml_set_input(&r.it, 0, a, sizeof a), TML_OK);
    assert_int_equal(tml_set_input(&r.it, 1, b, sizeof b), TML_OK);
    assert_int_equal(tml_invoke(&r.it), TML_OK);
    assert_int_equal(tml_invoke(&r.it), TML_OK);   /* inputs not set again */
    assert_int_equal(tml_get_output(&r.it, 0, y, sizeof y), TML_OK);
    assert_true(y[0] == 11 && y[1] == 22 && y[2] == 33 && y[3] == 44);
    assert_memory_equal(tml_input_data(&r.it, 0), a, sizeof a);
    assert_memory_equal(tml_output_data(&r.it, 0), y, sizeof y);
    tml_test_runner_close(&r);
}

static void test_call_order(void **state)
{
    (void)state;
    tml_test_op op = add_op();
    size_t size;
    char err[256];
    uint8_t *model = tml_test_build_single_op(&op, &size, err, sizeof err);
    assert_non_null(model);
    static uint8_t arena[4096];
    tml_interpreter it;
    assert_int_equal(tml_create(&it, model, size, arena, sizeof arena), TML_OK);
    assert_int_equal(tml_invoke(&it), TML_ERROR_STATE);
    assert_string_equal(tml_error(&it), "tml_invoke: call tml_allocate first");
    float a[4] = { 0 };
    assert_int_equal(tml_set_input(&it, 0, a, sizeof a), TML_ERROR_STATE);
    assert_string_equal(tml_error(&it), "input: call tml_allocate first");
    assert_int_equal(tml_input_bytes(&it, 0), 0);   /* not allocated yet */
    assert_int_equal(tml_allocate(&it), TML_OK);
    assert_int_equal(tml_allocate(&it), TML_OK);   /* idempotent */
    assert_int_equal(tml_create(&it, NULL, size, arena, sizeof arena), TML_ERROR_ARGUMENT);
    assert_string_equal(tml_error(&it), "tml_create: model is NULL");
    assert_int_equal(tml_allocate(&it), TML_ERROR_STATE);
    assert_string_equal(tml_error(&it), "tml_allocate: call tml_create first");
    /* An arena that cannot hold one aligned record. */
    assert_int_equal(tml_create(&it, model, size, arena + 1, 8), TML_ERROR_ARENA);
    assert_string_equal(tml_error(&it), "arena too small: needs more than 8 bytes, has 8");
    free(model);
}

/* The bytes tml_arena_needed() reports are exactly enough. */
static void test_arena_needed_is_exact(void **state)
{
    (void)state;
    tml_test_op op = add_op();
    tml_test_runner r;
    assert_int_equal(tml_test_runner_open(&r, &op, 0), TML_OK);
    size_t needed = tml_arena_needed(&r.it);
    /* Three live float[4] buffers (16 B each, 8-aligned), plus tables. */
    assert_true(needed >= 48);
    static uint8_t arena[1 << 16] __attribute__((aligned(16)));
    tml_interpreter it;
    assert_int_equal(tml_create(&it, r.model, r.model_size, arena, needed), TML_OK);
    assert_int_equal(tml_allocate(&it), TML_OK);
    assert_int_equal(tml_arena_needed(&it), needed);

    assert_int_equal(tml_create(&it, r.model, r.model_size, arena, needed - 8), TML_OK);
    assert_int_equal(tml_allocate(&it), TML_ERROR_ARENA);
    /* (Here the planner's working memory is the larger part: its size is
     * known before planning, as a lower bound.) */
    char expected[96];
    snprintf(expected, sizeof expected, "arena too small: needs at least %zu "
             "bytes, has %zu", needed, needed - 8);
    assert_string_equal(tml_error(&it), expected);
    assert_int_equal(tml_arena_needed(&it), needed);
    /* Too small for the tables tml_create builds: a lower bound. */
    assert_int_equal(tml_create(&it, r.model, r.model_size, arena, 16), TML_ERROR_ARENA);
    assert_non_null(strstr(tml_error(&it), "arena too small: needs at least "));
    assert_non_null(strstr(tml_error(&it), " bytes, has 16"));
    tml_test_runner_close(&r);
}

static void test_unsupported_op_fails_at_create(void **state)
{
    (void)state;
    tml_test_op op = add_op();
    op.builtin = 36;   /* GATHER: tinyml has no kernel for it */
    op.options.type = 0;
    tml_test_runner r;
    assert_int_equal(tml_test_runner_open(&r, &op, 0), TML_ERROR_UNSUPPORTED);
    assert_string_equal(tml_test_runner_error(&r),
                        "operator 0: op GATHER (builtin 36) version 1 is not supported");
    tml_test_runner_close(&r);

    op = add_op();
    op.version = 99;
    assert_int_equal(tml_test_runner_open(&r, &op, 0), TML_ERROR_UNSUPPORTED);
    assert_non_null(strstr(tml_test_runner_error(&r),
                           "operator 0: op ADD (builtin 0) version 99 is not "
                           "supported (tinyml runs versions 1-"));
    tml_test_runner_close(&r);

    char msg[256];
    size_t size;
    uint8_t *model = tml_test_build_single_op(&op, &size, msg, sizeof msg);
    assert_non_null(model);
    assert_int_equal(tml_verify(model, size, msg, sizeof msg), TML_ERROR_UNSUPPORTED);
    assert_non_null(strstr(msg, "version 99"));
    /* Reported before an arena too small for the tables. */
    static uint8_t small[64] __attribute__((aligned(8)));
    tml_interpreter it;
    assert_int_equal(tml_create(&it, model, size, small, sizeof small),
                     TML_ERROR_UNSUPPORTED);
    assert_non_null(strstr(tml_error(&it), "operator 0: op ADD (builtin 0) version 99"));
    assert_int_equal(tml_create(&it, model, size, small, 4), TML_ERROR_ARENA);
    assert_string_equal(tml_error(&it), "arena too small: needs more than 4 bytes, has 4");
    free(model);
}

static void count_ops(void *user, const tml_interpreter *it, int32_t op)
{
    int *calls = user;
    /* The op's output is readable inside the observer. */
    const float *y = tml_tensor_data(it, 2);
    assert_true(y[0] == 3.0f);
    assert_int_equal(op, *calls);
    (*calls)++;
}

static void test_observer_sees_each_op(void **state)
{
    (void)state;
    tml_test_op op = add_op();
    tml_test_runner r;
    assert_int_equal(tml_test_runner_open(&r, &op, 0), TML_OK);
    float a[4] = { 1, 1, 1, 1 }, b[4] = { 2, 2, 2, 2 };
    tml_set_input(&r.it, 0, a, sizeof a);
    tml_set_input(&r.it, 1, b, sizeof b);
    int calls = 0;
    tml_set_observer(&r.it, count_ops, &calls);
    assert_int_equal(tml_invoke(&r.it), TML_OK);
    assert_int_equal(calls, 1);
    tml_test_runner_close(&r);
}

static void test_details(void **state)
{
    (void)state;
    size_t size;
    void *model = tml_test_read_shared("models/mlperf-tiny/kws_ref_model.tflite", &size);
    assert_non_null(model);
    static uint8_t arena[64 * 1024];
    tml_interpreter it;
    assert_int_equal(tml_create(&it, model, size, arena, sizeof arena), TML_OK);
    assert_int_equal(tml_allocate(&it), TML_OK);
    tml_tensor_info in, out;
    assert_int_equal(tml_input_details(&it, 0, &in), TML_OK);
    assert_string_equal(in.name, "input_1");
    assert_int_equal(in.dtype, TML_INT8);
    assert_int_equal(in.ndims, 4);
    assert_int_equal(in.dims[1], 49);
    assert_int_equal(in.bytes, 490);
    assert_int_equal(in.zero_point, 83);
    assert_true(in.scale > 0.5847f && in.scale < 0.5848f);
    assert_int_equal(tml_output_details(&it, 0, &out), TML_OK);
    assert_string_equal(out.name, "Identity");
    assert_int_equal(out.index, 34);
    assert_int_equal(out.zero_point, -128);
    assert_true(out.scale == 0.00390625f);
    assert_int_equal(tml_output_details(&it, 1, &out), TML_ERROR_ARGUMENT);
    /* The device program's accessors agree with the details. */
    assert_int_equal(tml_input_bytes(&it, 0), 490);
    assert_int_equal(tml_output_bytes(&it, 0), 12);
    assert_int_equal(tml_input_bytes(&it, 1), 0);
    assert_int_equal(tml_output_bytes(&it, -1), 0);
    assert_int_equal(tml_input_bytes(NULL, 0), 0);
    tml_op_info oi;
    assert_int_equal(tml_op_details(&it, 0, &oi), TML_OK);
    assert_string_equal(oi.name, "CONV_2D");
    assert_int_equal(tml_op_count(&it), 13);
    assert_int_equal(tml_tensor_count(&it), 35);

    /* Reusing the input buffer (TFLM semantics) gives a smaller arena and
     * the same output. */
    size_t kept = tml_arena_needed(&it);
    int8_t x[490], y1[12], y2[12];
    for (int i = 0; i < 490; i++)
        x[i] = (int8_t)(i * 7);
    tml_set_input(&it, 0, x, sizeof x);
    assert_int_equal(tml_invoke(&it), TML_OK);
    tml_get_output(&it, 0, y1, sizeof y1);
    assert_int_equal(tml_create(&it, model, size, arena, sizeof arena), TML_OK);
    tml_set_reuse_inputs(&it, 1);
    assert_int_equal(tml_allocate(&it), TML_OK);
    assert_true(tml_arena_needed(&it) < kept);
    tml_set_input(&it, 0, x, sizeof x);
    assert_int_equal(tml_invoke(&it), TML_OK);
    tml_get_output(&it, 0, y2, sizeof y2);
    assert_memory_equal(y1, y2, sizeof y1);
    free(model);
}

/* tml_create checks the dataflow: every tensor is written once, before any
 * op reads it, and every model output is written. */
static void expect_dataflow_error(const tml_test_graph *g, const char *msg)
{
    size_t size;
    char err[256];
    uint8_t *model = tml_test_build_graph(g, &size, err, sizeof err);
    assert_non_null(model);
    static uint8_t arena[4096];
    tml_interpreter it;
    assert_int_equal(tml_create(&it, model, size, arena, sizeof arena), TML_ERROR_MODEL);
    assert_string_equal(tml_error(&it), msg);
    free(model);
}

static void test_dataflow_errors(void **state)
{
    (void)state;
    /* op 0 reads a, which op 1 writes later. */
    tml_test_graph g = {
        .ntensors = 3,
        .tensors = {
            { .name = "x", .type = TML_FLOAT32, .ndims = 2, .dims = { 1, 4 } },
            { .name = "a", .type = TML_FLOAT32, .ndims = 2, .dims = { 1, 4 } },
            { .name = "y", .type = TML_FLOAT32, .ndims = 2, .dims = { 1, 4 } },
        },
        .nops = 2,
        .ops = {
            { .builtin = 19, .ninputs = 1, .inputs = { 1 }, .noutputs = 1, .outputs = { 2 } },
            { .builtin = 19, .ninputs = 1, .inputs = { 0 }, .noutputs = 1, .outputs = { 1 } },
        },
        .ninputs = 1, .inputs = { 0 },
        .noutputs = 1, .outputs = { 2 },
    };
    expect_dataflow_error(&g, "op 0 RELU: input tensor 1 'a': read before it is written");
    g.ops[0].inputs[0] = 0;
    g.ops[1].outputs[0] = 2;   /* both write y */
    expect_dataflow_error(&g, "op 1 RELU: output tensor 2 'y': constant, a model "
                              "input or written before");
    /* One op x -> a; model outputs a and y: nothing writes y. */
    g.nops = 1;
    g.ops[0].outputs[0] = 1;
    g.noutputs = 2;
    g.outputs[0] = 1;
    g.outputs[1] = 2;
    expect_dataflow_error(&g, "model output 1: tensor 2 'y' is never written");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_input_checks_size_and_dtype),
        cmocka_unit_test(test_inputs_keep_data_across_invokes),
        cmocka_unit_test(test_call_order),
        cmocka_unit_test(test_arena_needed_is_exact),
        cmocka_unit_test(test_unsupported_op_fails_at_create),
        cmocka_unit_test(test_observer_sees_each_op),
        cmocka_unit_test(test_details),
        cmocka_unit_test(test_dataflow_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
