/*
 * cmocka checks and one-op builders shared by the kernel tests
 * (tests/runtime/kernels): one op's prepare error or successful run, and
 * the per-op goldens of TFLite Micro.  The checks assert with cmocka, so
 * call them from inside a test.
 */
#ifndef TML_TEST_OP_CHECKS_H
#define TML_TEST_OP_CHECKS_H

#include <stdint.h>

#include "test_util.h"
#include "tinyml/tinyml.h"

/* Builds the one-op model, creates and allocates it: the status must be
 * `status` and the interpreter's message exactly `message` (on a wrong
 * status the message is printed first). */
void tml_test_expect_prepare_error(const tml_test_op *op, tml_status status,
                                   const char *message);

/* Runs a one-op model whose only subgraph input is x; its output goes to
 * y.  The run must succeed (else the test fails with the interpreter's
 * message). */
void tml_test_run_op_ok(const tml_test_op *op, const void *x, void *y);

/* t's rank and dims (rank entries copied from dims). */
void tml_test_set_shape(tml_test_tensor *t, int rank, const int32_t *dims);

/* A one-input one-output op (builtin, version) on [1, count] tensors with
 * the given dtypes and quantization, no options. */
tml_test_op tml_test_unary_op(int32_t builtin, int32_t version,
                              tml_dtype in_type, float in_scale,
                              int32_t in_zp, tml_dtype out_type,
                              float out_scale, int32_t out_zp, int32_t count);

/* real / scale rounded half away from zero, plus zp, clamped to int8, in
 * double: the exact value an int8 kernel approximates (tests allow one
 * step). */
double tml_test_requantize_real(double real, double scale, int32_t zp);

/* Runs models/mlperf-tiny/<model>.tflite on goldens/<model>/seed1.input.bin
 * and, after each operator, compares the output of every op with `builtin`
 * to TFLite Micro's seed1.ops/opNNN.tMMM.bin (int8 byte for byte, float32
 * within 1e-5 relative to the tensor's largest value).  After every op --
 * ours or not -- the golden output is written over the op's output, so each
 * op under test sees exactly TFLite Micro's input and a bug elsewhere
 * cannot hide or fake a result here.  Asserts no failure, no missing
 * golden and exactly `expected_ops` ops compared; skips the test when the
 * shared data is not there. */
void tml_test_assert_op_goldens(const char *model, int32_t builtin,
                                int expected_ops);

/* goldens/<model>/seed1.ops/opNNN.tMMM.bin: tensor MMM as op NNN of
 * TFLite Micro wrote it. */
typedef struct tml_test_golden {
    int op, tensor;
} tml_test_golden;

/* One op alone on TFLite Micro's outputs of earlier ops: runs `op` with
 * its input k (k < nin, the first nin inputs, none constant) set to the
 * golden in[k] and compares its output 0 with the golden `out` (int8 byte
 * for byte, float32 element-wise within 1e-5 relative + 1e-7).  The files
 * must have the sizes of those tensors.  Returns 0 (nothing checked) when
 * a golden is not there, else 1. */
int tml_test_check_op_golden(const tml_test_op *op, const char *model,
                             const tml_test_golden *in, int nin,
                             tml_test_golden out);

#endif
