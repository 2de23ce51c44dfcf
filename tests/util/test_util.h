/* Helpers shared by the tests. */
#ifndef TML_TEST_UTIL_H
#define TML_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "tinyml/tinyml.h"
#include "convert/export/tflite_writer.h"
#include "runtime/kernel.h"   /* TML_PAD_*, TML_ACT_* */
#include "runtime/schema.h"   /* TML_OPT_*, TML_F_* */

/* $TINYML_SHARED, else ../shared beside the source tree. */
const char *tml_test_shared_dir(void);
/* Reads $TINYML_SHARED/<rel>; NULL if missing (the caller skips). */
void *tml_test_read_shared(const char *rel, size_t *size);

/* ------------------------------------------------------------------------
 * One-op models, to test a kernel end-to-end through the public API.
 *
 * Describe the op and its tensors; the helper writes a real TFLite file
 * (convert/export/tflite_writer.h) with:
 *   - every input that has `data` as a constant tensor (its own buffer);
 *   - every other input as a subgraph input, in order;
 *   - every output as a subgraph output, in order;
 *   - an `absent` input as -1 (an optional input left out).
 *
 * Example: an int8 CONV_2D, 1x3x3x1 input, one 3x3 filter, per-channel
 * quantized weights, VALID padding, stride 1:
 *
 *   static const int8_t w[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
 *   static const int32_t bias[1] = {10};
 *   static const float wscale[1] = {0.25f};
 *   static const float bscale[1] = {0.125f};   // input scale * wscale
 *   tml_test_op op = {
 *       .builtin = 3,                            // CONV_2D
 *       .options = tml_tfl_conv2d_options(TML_PAD_VALID, 1, 1,
 *                                         TML_ACT_NONE, 1, 1),
 *       .ninputs = 3,
 *       .inputs = {
 *           { .type = TML_INT8, .ndims = 4, .dims = {1, 3, 3, 1},
 *             .scale = 0.5f, .zero_point = -1 },
 *           { .type = TML_INT8, .ndims = 4, .dims = {1, 3, 3, 1},
 *             .channels = 1, .scales = wscale, .data = w },
 *           { .type = TML_INT32, .ndims = 1, .dims = {1},
 *             .channels = 1, .scales = bscale, .data = bias },
 *       },
 *       .noutputs = 1,
 *       .outputs = { { .type = TML_INT8, .ndims = 4, .dims = {1, 1, 1, 1},
 *                      .scale = 1.0f, .zero_point = 0 } },
 *   };
 *   int8_t x[9] = {...}, y[1];
 *   char err[256];
 *   tml_status s = tml_test_run_single_op(&op, (const void *[]){x},
 *                                         (void *[]){y}, err, sizeof err);
 *   assert_int_equal(s, TML_OK);          // else err says why
 *   assert_int_equal(y[0], ...);
 *
 * To test a prepare-time error message, open a runner and look at the
 * status of tml_allocate():
 *
 *   tml_test_runner r;
 *   assert_int_equal(tml_test_runner_open(&r, &op, 0), TML_ERROR_UNSUPPORTED);
 *   assert_string_equal(tml_test_runner_error(&r), "op 0 CONV_2D: ...");
 *   tml_test_runner_close(&r);
 * ---------------------------------------------------------------------- */

#define TML_TEST_MAX_INPUTS 8
#define TML_TEST_MAX_OUTPUTS 4

typedef struct tml_test_tensor {
    const char *name;          /* NULL: "input<i>" / "output<i>" */
    tml_dtype type;
    int32_t ndims;
    int32_t dims[TML_MAX_DIMS];
    /* Per-tensor quantization: written when scale != 0. */
    float scale;
    int32_t zero_point;
    /* Per-channel (or explicit) quantization: written when channels > 0,
     * `channels` scales (and zero points, NULL = all 0) along quant_dim.
     * Takes precedence over scale/zero_point. */
    int32_t channels;
    const float *scales;
    const int64_t *zero_points;
    int32_t quant_dim;
    /* Non-NULL: a constant tensor; elements * dtype size bytes. */
    const void *data;
    /* An optional input left out: written as tensor index -1. */
    int absent;
} tml_test_tensor;

typedef struct tml_test_op {
    int32_t builtin;           /* TFLite BuiltinOperator */
    int32_t version;           /* 0 means 1 */
    tml_tfl_options options;   /* .type 0 = no options table */
    int32_t ninputs, noutputs;
    tml_test_tensor inputs[TML_TEST_MAX_INPUTS];
    tml_test_tensor outputs[TML_TEST_MAX_OUTPUTS];
} tml_test_op;

/* ------------------------------------------------------------------------
 * Small graphs: several ops sharing tensors (chains, fan-out, planner
 * tests).  Tensors are listed once; ops and the subgraph inputs/outputs
 * refer to them by index (-1 in an op's inputs = absent).  Unnamed
 * tensors are called "t<i>".  Example, CONV_2D then RELU:
 *
 *   tml_test_graph g = {
 *       .ntensors = 4,
 *       .tensors = {
 *           { .type = TML_FLOAT32, .ndims = 4, .dims = {1, 4, 4, 1} },
 *           { .type = TML_FLOAT32, .ndims = 4, .dims = {1, 1, 1, 1},
 *             .data = (const float[]){2.0f} },
 *           { .type = TML_FLOAT32, .ndims = 4, .dims = {1, 4, 4, 1} },
 *           { .type = TML_FLOAT32, .ndims = 4, .dims = {1, 4, 4, 1} },
 *       },
 *       .nops = 2,
 *       .ops = {
 *           { .builtin = 3, .ninputs = 3, .inputs = {0, 1, -1},
 *             .noutputs = 1, .outputs = {2},
 *             .options = tml_tfl_conv2d_options(TML_PAD_VALID, 1, 1,
 *                                               TML_ACT_NONE, 1, 1) },
 *           { .builtin = 19, .ninputs = 1, .inputs = {2},
 *             .noutputs = 1, .outputs = {3} },
 *       },
 *       .ninputs = 1, .inputs = {0},
 *       .noutputs = 1, .outputs = {3},
 *   };
 *   tml_test_runner r;
 *   assert_int_equal(tml_test_runner_open_graph(&r, &g, 0), TML_OK);
 *   ... tml_set_input(&r.it, ...), tml_invoke(&r.it), ...
 *   tml_test_runner_close(&r);
 * ---------------------------------------------------------------------- */

#define TML_TEST_MAX_TENSORS 32
#define TML_TEST_MAX_OPS 16

typedef struct tml_test_graph_op {
    int32_t builtin;
    int32_t version;           /* 0 means 1 */
    tml_tfl_options options;
    int32_t ninputs, noutputs;
    int32_t inputs[TML_TEST_MAX_INPUTS];
    int32_t outputs[TML_TEST_MAX_OUTPUTS];
} tml_test_graph_op;

typedef struct tml_test_graph {
    int32_t ntensors;
    tml_test_tensor tensors[TML_TEST_MAX_TENSORS];   /* `absent` unused */
    int32_t nops;
    tml_test_graph_op ops[TML_TEST_MAX_OPS];
    int32_t ninputs, noutputs;                       /* up to 8 each */
    int32_t inputs[TML_TEST_MAX_INPUTS];
    int32_t outputs[TML_TEST_MAX_INPUTS];
} tml_test_graph;

/* As tml_test_build_single_op, for a graph. */
uint8_t *tml_test_build_graph(const tml_test_graph *g, size_t *size,
                              char *err, size_t err_size);

/* Bytes of a spec's data: elements * dtype size. */
size_t tml_test_tensor_bytes(const tml_test_tensor *t);

/* The model bytes, 16-byte aligned (free() them), or NULL with one line in
 * err. */
uint8_t *tml_test_build_single_op(const tml_test_op *op, size_t *size,
                                  char *err, size_t err_size);

/* A built model with an interpreter over a heap arena. */
typedef struct tml_test_runner {
    uint8_t *model;
    size_t model_size;
    uint8_t *arena;
    size_t arena_size;
    tml_interpreter it;
    char build_error[256];     /* set when the model could not be built */
} tml_test_runner;

/* Builds the model, then tml_create() and tml_allocate() with an arena of
 * arena_size bytes (0 = 256 KiB).  Returns the first failing status (a
 * build failure is TML_ERROR_ARGUMENT).  Always close the runner. */
tml_status tml_test_runner_open(tml_test_runner *r, const tml_test_op *op,
                                size_t arena_size);
/* The same for a graph. */
tml_status tml_test_runner_open_graph(tml_test_runner *r,
                                      const tml_test_graph *g,
                                      size_t arena_size);
/* The build error, or tml_error() of the interpreter. */
const char *tml_test_runner_error(const tml_test_runner *r);
void tml_test_runner_close(tml_test_runner *r);

/* Build, create, allocate, set inputs, invoke, copy outputs, in one go.
 * inputs[k] is the data of the k-th subgraph input (the non-constant,
 * non-absent inputs in order); outputs[k] receives output k (its size is
 * that of the spec).  err gets one line on failure (may be NULL). */
tml_status tml_test_run_single_op(const tml_test_op *op,
                                  const void *const *inputs,
                                  void *const *outputs, char *err,
                                  size_t err_size);

/* Quantize like TFLite: round half away from zero, then clamp. */
int8_t tml_test_quantize_i8(float x, float scale, int32_t zero_point);
float tml_test_dequantize_i8(int8_t q, float scale, int32_t zero_point);

#endif
