/*
 * The contract between the interpreter and the kernels.
 *
 * A kernel is a const registration {builtin code, versions, prepare, eval}
 * (one file per op family under kernels/, listed in ops.def).
 *
 * prepare(it, node): runs once, in tml_allocate(), before memory is
 *   planned, so tensor->data of non-constant tensors is NOT valid yet.
 *   It checks dtypes, shapes and options and reports any problem with
 *   tml_kernel_error(); it precomputes what eval needs (multipliers,
 *   shifts, LUTs, parsed options) into tml_alloc_persistent() memory kept in
 *   node->user; it may ask for one scratch buffer with tml_request_scratch().
 *   Output shapes come from the model (TFLite stores them); prepare checks
 *   they are what the op produces.
 * eval(it, node): computes.  Every tensor's data is valid; the scratch
 *   buffer is tml_scratch(it, node).  Never re-checks what prepare checked.
 *
 * Layouts are TFLite's: activations NHWC, CONV_2D filters OHWI, depthwise
 * filters 1HW(C*M), FULLY_CONNECTED weights [out, in].
 */
#ifndef TML_KERNEL_H
#define TML_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "tinyml/tinyml.h"

enum {
    TML_TENSOR_CONST = 1,    /* data points into a model buffer */
    TML_TENSOR_INPUT = 2,    /* a subgraph input */
    TML_TENSOR_OUTPUT = 4,   /* a subgraph output */
    TML_TENSOR_VARIABLE = 8
};

/* One tensor; 32 bytes on 64-bit hosts, 24 on Cortex-M. Name and
 * per-channel parameters stay in the model (tml_tensor_quant()). */
typedef struct tml_tensor {
    void *data;
    const int32_t *dims;      /* into the model; ndims entries */
    float scale;              /* first per-tensor scale, 0 if none */
    int32_t zero_point;
    uint32_t bytes;
    uint8_t type;             /* tml_dtype */
    uint8_t ndims;
    uint8_t flags;            /* TML_TENSOR_* */
    uint8_t pad_;
} tml_tensor;

struct tml_kernel;

typedef struct tml_node {
    const struct tml_kernel *kernel;
    const int32_t *inputs;    /* into the model; -1 = optional, absent */
    const int32_t *outputs;
    void *user;               /* persistent op data from prepare */
    uint32_t options;         /* offset of the builtin options table, 0 = none */
    int32_t scratch;          /* scratch buffer id, -1 = none */
    uint8_t ninputs, noutputs;
    uint8_t options_type;     /* BuiltinOptions union type */
    uint8_t version;
    int16_t builtin;
    uint8_t flags;            /* TML_KERNEL_* of the op (ops.def) */
} tml_node;

typedef tml_status (*tml_prepare_fn)(tml_interpreter *it, tml_node *node);
typedef tml_status (*tml_eval_fn)(tml_interpreter *it, tml_node *node);

typedef struct tml_kernel {
    int32_t builtin;          /* TFLite BuiltinOperator */
    uint8_t min_version, max_version;
    tml_prepare_fn prepare;
    tml_eval_fn eval;
} tml_kernel;

/* TML_TRUSTED_MODEL: the model was verified and prepared on the host
 * (tinyml export ran tml_create + tml_allocate, so every prepare, on these
 * exact bytes); model-validation checks in prepare compile out.  Written
 *   if (TML_VALIDATE && bad) return tml_..._error(...);
 * so the compiler drops the test and its message.  Checks of run-time
 * state (arena, scratch, API misuse) and of the build's configuration
 * (TML_NO_FLOAT_KERNELS, TML_NO_HYBRID) are never written this way. */
#ifdef TML_TRUSTED_MODEL
#define TML_VALIDATE 0
#else
#define TML_VALIDATE 1
#endif

/* ---- services the interpreter gives kernels (interp.c) ---- */

/* Tensor of input/output slot i; NULL if the slot is absent (-1) or i is
 * past the op's count. */
tml_tensor *tml_node_input(tml_interpreter *it, const tml_node *n, int i);
tml_tensor *tml_node_output(tml_interpreter *it, const tml_node *n, int i);

/* 8-byte aligned, zeroed, lives as long as the interpreter.  NULL (and the
 * error is set) when the arena is exhausted. */
void *tml_alloc_persistent(tml_interpreter *it, size_t bytes);

/* One scratch buffer per node, valid during its eval only. */
tml_status tml_request_scratch(tml_interpreter *it, tml_node *n, size_t bytes);
void *tml_scratch(tml_interpreter *it, const tml_node *n);

/* Sets the message "op N NAME: <formatted>" and returns status.
 * Format as format.h: %d %u %x %ld %zu %s %c %%.  Name tensors with
 * tml_tensor_name() and dtypes with tml_dtype_name(), e.g.
 *   tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
 *       "input 0 tensor %d '%s': expected int8 or float32, got %s",
 *       (int)idx, tml_tensor_name(it, t), tml_dtype_name(t->type)); */
tml_status tml_kernel_error(tml_interpreter *it, const tml_node *n,
                            tml_status status, const char *fmt, ...);

/* The same about one tensor, with the prefix every prepare-time message
 * about a tensor starts with: "op N NAME: SLOT tensor IDX 'TNAME': <fmt>",
 * SLOT being its role ("input 1", "output 0"). */
tml_status tml_tensor_error(tml_interpreter *it, const tml_node *n,
                            tml_status status, const char *slot,
                            const tml_tensor *t, const char *fmt, ...);
/* TML_ERROR_UNSUPPORTED "... SLOT tensor IDX 'TNAME': expected EXPECTED,
 * got DTYPE" (EXPECTED e.g. "int8 or float32"). */
tml_status tml_dtype_error(tml_interpreter *it, const tml_node *n,
                           const char *slot, const tml_tensor *t,
                           const char *expected);
/* TML_ERROR_MODEL "... SLOT tensor IDX 'TNAME': expected WHAT E, got G"
 * (WHAT e.g. "rank", "elements", "output channels"). */
tml_status tml_shape_error(tml_interpreter *it, const tml_node *n,
                           const char *slot, const tml_tensor *t,
                           const char *what, int32_t expected, int32_t got);

/* Index of a tensor pointer in the table, and its name, for messages. */
int32_t tml_tensor_index(const tml_interpreter *it, const tml_tensor *t);
const char *tml_tensor_name(const tml_interpreter *it, const tml_tensor *t);

/* Per-channel quantization of a tensor, read from the verified model. */
typedef struct tml_quant {
    const float *scales;      /* NULL when the tensor has none */
    const int64_t *zero_points;
    int32_t count;            /* number of scales */
    int32_t dim;              /* quantized_dimension */
} tml_quant;
void tml_tensor_quant(const tml_interpreter *it, const tml_tensor *t,
                      tml_quant *out);

/* ---- builtin options (bounds-checked reads of the op's table) ---- */
/* A field that is absent, or would read past the table, gives `def`. */
int32_t tml_opt_int(const tml_interpreter *it, const tml_node *n, int field,
                    int size, int32_t def);   /* size 1 (byte/bool) or 4 */
float tml_opt_float(const tml_interpreter *it, const tml_node *n, int field,
                    float def);
/* Vector of int32 field: *out points into the model (aligned); returns
 * count, 0 if absent, -1 if malformed. */
int32_t tml_opt_int_vector(const tml_interpreter *it, const tml_node *n,
                           int field, const int32_t **out);

/* ---- small helpers ---- */
static inline int32_t tml_dim(const tml_tensor *t, int i) { return t->dims[i]; }
int32_t tml_num_elements(const tml_tensor *t);
int tml_same_shape(const tml_tensor *a, const tml_tensor *b);

/* TFLite ActivationFunctionType */
enum {
    TML_ACT_NONE = 0,
    TML_ACT_RELU = 1,
    TML_ACT_RELU_N1_TO_1 = 2,
    TML_ACT_RELU6 = 3,
    TML_ACT_TANH = 4,
    TML_ACT_SIGN_BIT = 5
};

/* TFLite Padding */
enum { TML_PAD_SAME = 0, TML_PAD_VALID = 1 };

#endif
