/*
 * tinyml runtime: run a TFLite flatbuffer model from a caller-supplied arena.
 *
 * The shape follows tf.lite.Interpreter:
 *
 *   static tml_interpreter it;                  // caller owns it (no malloc)
 *   static uint8_t arena[32 * 1024];
 *   tml_create(&it, model_bytes, model_len, arena, sizeof arena);   // verify
 *   tml_allocate(&it);                           // prepare kernels, plan memory
 *   tml_input_details(&it, 0, &info);
 *   tml_set_input(&it, 0, data, info.bytes);
 *   tml_invoke(&it);
 *   tml_get_output(&it, 0, out, info.bytes);
 *
 * Every call returns a tml_status; on failure tml_error() gives one line
 * with context (operator index and op name, tensor index and name,
 * expected vs got).  The model bytes are read in place (they may live in
 * flash) and must stay valid and unchanged while the interpreter is used.
 * The model must be 4-byte aligned (16 recommended, as TFLite's converter
 * aligns buffers to 16).
 *
 * C99; no malloc, no stdio.
 */
#ifndef TINYML_TINYML_H
#define TINYML_TINYML_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TML_MAX_DIMS 6
#define TML_ERROR_SIZE 192

typedef enum tml_status {
    TML_OK = 0,
    TML_ERROR_ARGUMENT,    /* bad call: NULL pointer, index out of range */
    TML_ERROR_MODEL,       /* the model bytes are malformed */
    TML_ERROR_UNSUPPORTED, /* a valid model that uses an op, version or
                              type this runtime does not run */
    TML_ERROR_ARENA,       /* the arena is too small */
    TML_ERROR_INPUT,       /* set_input: wrong dtype or byte size */
    TML_ERROR_STATE,       /* call out of order (invoke before allocate) */
    TML_ERROR_EVAL         /* a kernel failed during invoke */
} tml_status;

/* Values are TFLite's TensorType (schema.fbs), so they convert freely. */
typedef enum tml_dtype {
    TML_FLOAT32 = 0,
    TML_FLOAT16 = 1,
    TML_INT32 = 2,
    TML_UINT8 = 3,
    TML_INT64 = 4,
    TML_STRING = 5,
    TML_BOOL = 6,
    TML_INT16 = 7,
    TML_INT8 = 9
} tml_dtype;

/* What tf.lite.Interpreter.get_input_details() says of one tensor. */
typedef struct tml_tensor_info {
    const char *name;          /* from the model; "" when it has none */
    int32_t index;             /* tensor index in the subgraph */
    tml_dtype dtype;
    int32_t ndims;
    int32_t dims[TML_MAX_DIMS];
    size_t bytes;
    int is_constant;           /* data comes from a model buffer */
    /* Per-tensor quantization; scale 0 means not quantized. */
    float scale;
    int32_t zero_point;
    /* Per-channel quantization: channels > 1 then scales[c] and
     * tml_zero_point_at(info, c) hold each channel's parameters along
     * quantized_dimension.  Pointers into the model. */
    int32_t channels;
    int32_t quantized_dimension;
    const float *scales;
    const int64_t *zero_points;
} tml_tensor_info;

typedef struct tml_op_info {
    int32_t builtin;           /* TFLite BuiltinOperator code */
    int32_t version;
    const char *name;          /* "CONV_2D" */
    int32_t ninputs, noutputs;
    const int32_t *inputs;     /* tensor indices; -1 = optional, absent */
    const int32_t *outputs;
} tml_op_info;

/* ---- private types: their fields are not part of the API ---- */
struct tml_tensor;
struct tml_node;

typedef struct tml_model {
    const uint8_t *base;
    size_t size;
    uint32_t opcodes, buffers, tensors, operators, inputs, outputs;
    int32_t nopcodes, nbuffers, ntensors, nops, ninputs, noutputs;
    uint32_t subgraph;
    uint32_t version;
} tml_model;

struct tml_interpreter;
/* Called after every operator of tml_invoke(): the op's output tensors
 * are readable there with tml_tensor_data(). */
typedef void (*tml_observer)(void *user, const struct tml_interpreter *it,
                             int32_t op_index);

typedef struct tml_interpreter {
    tml_model model;
    uint8_t *arena;
    size_t arena_size;
    size_t persistent_bytes;    /* used from the top of the arena */
    size_t planned_bytes;       /* activations + scratch, from the bottom */
    size_t needed_bytes;        /* known after tml_allocate() */
    struct tml_tensor *tensors;
    struct tml_node *nodes;
    int32_t state;
    int32_t current_op;         /* for error messages */
    int32_t reuse_inputs;       /* see tml_set_reuse_inputs() */
    tml_observer observer;
    void *observer_user;
    char error[TML_ERROR_SIZE];
} tml_interpreter;

/* ---- the API ---- */

/* Verify the whole model and build the tensor and operator tables in the
 * arena.  An unsupported op or op version is reported here. */
tml_status tml_create(tml_interpreter *it, const void *model, size_t size,
                      void *arena, size_t arena_size);

/* Prepare every kernel and plan tensor memory.  On TML_ERROR_ARENA the
 * message names the bytes needed, and tml_arena_needed() returns them when
 * they are known (0 otherwise). */
tml_status tml_allocate(tml_interpreter *it);

/* Bytes of arena the model needs (persistent + planned); after allocate. */
size_t tml_arena_needed(const tml_interpreter *it);

/* Before tml_allocate(): let the planner reuse an input tensor's memory
 * after the last operator that reads it, as TFLite Micro does.  The arena
 * shrinks (by up to the input's size), but inputs no longer keep their data
 * across invokes: set them again before every tml_invoke().  Default 0:
 * inputs are kept, as in tf.lite.Interpreter. */
void tml_set_reuse_inputs(tml_interpreter *it, int reuse);

int32_t tml_input_count(const tml_interpreter *it);
int32_t tml_output_count(const tml_interpreter *it);
int32_t tml_tensor_count(const tml_interpreter *it);
int32_t tml_op_count(const tml_interpreter *it);

tml_status tml_input_details(const tml_interpreter *it, int32_t i,
                             tml_tensor_info *out);
tml_status tml_output_details(const tml_interpreter *it, int32_t i,
                              tml_tensor_info *out);
tml_status tml_tensor_details(const tml_interpreter *it, int32_t tensor,
                              tml_tensor_info *out);
tml_status tml_op_details(const tml_interpreter *it, int32_t op,
                          tml_op_info *out);

/* Copies `bytes` into input i; bytes must equal the tensor's size.
 * Inputs keep their data across invokes. */
tml_status tml_set_input(tml_interpreter *it, int32_t i, const void *data,
                         size_t bytes);
/* As tml_set_input, and the dtype must be the tensor's (tf.lite's
 * set_tensor checks the numpy dtype the same way). */
tml_status tml_set_input_typed(tml_interpreter *it, int32_t i, tml_dtype dtype,
                               const void *data, size_t bytes);
tml_status tml_invoke(tml_interpreter *it);
tml_status tml_get_output(const tml_interpreter *it, int32_t i, void *out,
                          size_t bytes);

/* Direct pointers (NULL when out of range or not allocated).  An
 * intermediate tensor's data is valid only inside the observer of the op
 * that wrote it: the planner reuses its memory afterwards. */
void *tml_input_data(tml_interpreter *it, int32_t i);
const void *tml_output_data(const tml_interpreter *it, int32_t i);
const void *tml_tensor_data(const tml_interpreter *it, int32_t tensor);
/* Byte sizes of input / output i (0 when out of range or not allocated):
 * what a device program needs without tml_tensor_info. */
size_t tml_input_bytes(const tml_interpreter *it, int32_t i);
size_t tml_output_bytes(const tml_interpreter *it, int32_t i);

void tml_set_observer(tml_interpreter *it, tml_observer fn, void *user);

const char *tml_error(const tml_interpreter *it);

/* Verify model bytes without an arena: TML_OK or TML_ERROR_MODEL /
 * TML_ERROR_UNSUPPORTED with one line in msg. */
tml_status tml_verify(const void *model, size_t size, char *msg,
                      size_t msg_size);

int64_t tml_zero_point_at(const tml_tensor_info *info, int32_t channel);
const char *tml_dtype_name(tml_dtype t);
size_t tml_dtype_size(tml_dtype t);    /* 0 for STRING and unknown */
const char *tml_op_name(int32_t builtin); /* "UNKNOWN" when not known */
const char *tml_status_name(tml_status s);

#ifdef __cplusplus
}
#endif
#endif
