/*
 * TFLite model writer (schema version 3, file identifier "TFL3").
 *
 * Describe one subgraph -- buffers, tensors, operators, inputs, outputs --
 * and get the flatbuffer bytes.  The output is deterministic: the same
 * calls give the same bytes.  Layout and field ids follow TFLite's
 * schema.fbs; the runtime's copy of the numbers is runtime/schema.h.
 *
 *   tml_tfl_writer *w = tml_tfl_writer_new(NULL);
 *   int32_t wb = tml_tfl_add_buffer(w, weights, sizeof weights);
 *   float s = 0.05f; int64_t z = -3;
 *   tml_tfl_tensor in = { .name = "x", .type = TML_INT8, .ndims = 2,
 *                         .dims = (int32_t[]){1, 4},
 *                         .quant = { 1, &s, &z, 0 } };
 *   int32_t x = tml_tfl_add_tensor(w, &in);
 *   ...
 *   tml_tfl_options o = tml_tfl_fully_connected_options(TML_ACT_NONE, 0);
 *   tml_tfl_add_op(w, 9, 1, (int32_t[]){x, wt, -1}, 3, (int32_t[]){y}, 1, &o);
 *   tml_tfl_set_inputs(w, (int32_t[]){x}, 1);
 *   tml_tfl_set_outputs(w, (int32_t[]){y}, 1);
 *   const uint8_t *bytes; size_t n;
 *   if (tml_tfl_finish(w, &bytes, &n) != 0) puts(tml_tfl_error(w));
 *   ... write bytes ...
 *   tml_tfl_writer_free(w);          // bytes die with the writer
 *
 * What it writes:
 *   - Model.version = 3; buffer 0 is the empty sentinel buffer; tensors
 *     without data use buffer 0 unless told otherwise;
 *   - Buffer.data aligned to 16 (schema: force_align 16), so a file with
 *     any constant data is a multiple of 16 bytes and every buffer is
 *     16-aligned when the file is (tml_tfl_finish's bytes are);
 *   - one OperatorCode per distinct (builtin, version), in order of first
 *     use, with BOTH deprecated_builtin_code = min(code, 127) and
 *     builtin_code (schema: codes >= 127 live only in builtin_code);
 *   - quantization: scale[] and zero_point[] (int64) with
 *     quantized_dimension; per-tensor = one scale;
 *   - CUSTOM ops with their custom_code name and custom_options bytes;
 *   - one subgraph (named "main" unless set), and the description
 *     (default "tinyml").
 *
 * Every add_* validates its arguments (indices in range, buffer size equal
 * to the tensor's byte size, per-channel counts equal to the quantized
 * dimension) and on failure returns -1 and keeps a one-line message in
 * tml_tfl_error(); the writer then refuses further work.
 */
#ifndef TML_TFLITE_WRITER_H
#define TML_TFLITE_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "convert/export/fb_builder.h"
#include "runtime/schema.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- builtin options ---- */

enum {
    TML_TFL_FIELD_I8 = 1,    /* byte, ubyte, and enums stored as bytes */
    TML_TFL_FIELD_BOOL,
    TML_TFL_FIELD_I32,
    TML_TFL_FIELD_F32,
    TML_TFL_FIELD_I32_VECTOR
};

#define TML_TFL_MAX_OPT_FIELDS 12
#define TML_TFL_MAX_OPT_INTS 8

typedef struct tml_tfl_field {
    uint8_t id;              /* field id in the options table */
    uint8_t kind;            /* TML_TFL_FIELD_* */
    uint8_t count;           /* I32_VECTOR: number of ints */
    int32_t i, def_i;        /* I8 / BOOL / I32: value and schema default */
    float f, def_f;          /* F32 */
    int32_t ints[TML_TFL_MAX_OPT_INTS];
} tml_tfl_field;

/* A builtin options table: its union type (TML_OPT_* of runtime/schema.h)
 * and its fields.  type 0 = the operator has no options table.  A scalar
 * equal to its default is left out of the file, as flatbuffers does. */
typedef struct tml_tfl_options {
    uint8_t type;
    uint8_t nfields;
    tml_tfl_field fields[TML_TFL_MAX_OPT_FIELDS];
} tml_tfl_options;

/* Generic setters, for fields the helpers below do not cover (or to write
 * odd values in tests).  They return 0, or -1 when the table is full or
 * the vector too long. */
void tml_tfl_opt_init(tml_tfl_options *o, int type);
int tml_tfl_opt_i8(tml_tfl_options *o, int field, int32_t v, int32_t def);
int tml_tfl_opt_bool(tml_tfl_options *o, int field, int v, int def);
int tml_tfl_opt_i32(tml_tfl_options *o, int field, int32_t v, int32_t def);
int tml_tfl_opt_f32(tml_tfl_options *o, int field, float v, float def);
int tml_tfl_opt_ints(tml_tfl_options *o, int field, const int32_t *v,
                     int count);

/* Helpers for the options the runtime kernels read.  padding is
 * TML_PAD_SAME / TML_PAD_VALID, activation TML_ACT_* (runtime/kernel.h). */
tml_tfl_options tml_tfl_conv2d_options(int padding, int stride_w,
                                       int stride_h, int activation,
                                       int dilation_w, int dilation_h);
tml_tfl_options tml_tfl_depthwise_options(int padding, int stride_w,
                                          int stride_h, int depth_multiplier,
                                          int activation, int dilation_w,
                                          int dilation_h);
tml_tfl_options tml_tfl_fully_connected_options(int activation,
                                                int keep_num_dims);
/* For AVERAGE_POOL_2D and MAX_POOL_2D. */
tml_tfl_options tml_tfl_pool2d_options(int padding, int stride_w,
                                       int stride_h, int filter_w,
                                       int filter_h, int activation);
tml_tfl_options tml_tfl_softmax_options(float beta);
tml_tfl_options tml_tfl_concatenation_options(int axis, int activation);
tml_tfl_options tml_tfl_add_options(int activation);
tml_tfl_options tml_tfl_sub_options(int activation);
tml_tfl_options tml_tfl_mul_options(int activation);
/* count < 0 leaves new_shape out (the shape then comes from input 1). */
tml_tfl_options tml_tfl_reshape_options(const int32_t *new_shape, int count);
/* For MEAN (and the other reducers). */
tml_tfl_options tml_tfl_reducer_options(int keep_dims);
tml_tfl_options tml_tfl_squeeze_options(const int32_t *dims, int count);
tml_tfl_options tml_tfl_strided_slice_options(int begin_mask, int end_mask,
                                              int ellipsis_mask,
                                              int new_axis_mask,
                                              int shrink_axis_mask,
                                              int offset);
tml_tfl_options tml_tfl_leaky_relu_options(float alpha);
/* An empty table of the given type (PAD, TRANSPOSE, QUANTIZE, DEQUANTIZE,
 * HARD_SWISH: TFLite's converter writes one). */
tml_tfl_options tml_tfl_empty_options(int type);

/* ---- the model ---- */

typedef struct tml_tfl_quant {
    int32_t count;                /* number of scales; 0 = not quantized */
    const float *scales;
    const int64_t *zero_points;   /* count entries; NULL = all 0 */
    int32_t quantized_dimension;  /* the channel axis when count > 1 */
} tml_tfl_quant;

typedef struct tml_tfl_tensor {
    const char *name;             /* NULL = no name */
    int32_t type;                 /* tml_dtype (TFLite TensorType) */
    int32_t ndims;
    const int32_t *dims;
    uint32_t buffer;              /* 0 = no data */
    tml_tfl_quant quant;
    int is_variable;
} tml_tfl_tensor;

typedef struct tml_tfl_writer tml_tfl_writer;

/* alloc NULL = the default hook.  NULL when out of memory. */
tml_tfl_writer *tml_tfl_writer_new(const tml_fb_allocator *alloc);
void tml_tfl_writer_free(tml_tfl_writer *w);

/* Identical scalar vectors (zero points, shapes, scales) are written once
 * and shared (on by default: smaller files, still standard flatbuffers).
 * Off gives the same bytes as the reference flatbuffers builder. */
void tml_tfl_writer_share_vectors(tml_tfl_writer *w, int on);

/* Each returns the new index, or -1 (see tml_tfl_error()). */
/* A buffer holding a copy of size bytes; size 0 returns 0 (the sentinel). */
int32_t tml_tfl_add_buffer(tml_tfl_writer *w, const void *data, size_t size);
int32_t tml_tfl_add_tensor(tml_tfl_writer *w, const tml_tfl_tensor *t);
/* A constant: adds a buffer with data (t->buffer is ignored) and the
 * tensor that uses it. */
int32_t tml_tfl_add_const_tensor(tml_tfl_writer *w, const tml_tfl_tensor *t,
                                 const void *data, size_t size);
/* The OperatorCode index for (builtin, version), added on first use
 * (not for CUSTOM, which needs a name: tml_tfl_add_custom_op). */
int32_t tml_tfl_opcode(tml_tfl_writer *w, int32_t builtin, int32_t version);
/* inputs may hold -1 (an absent optional input); opts NULL = none. */
int32_t tml_tfl_add_op(tml_tfl_writer *w, int32_t builtin, int32_t version,
                       const int32_t *inputs, int32_t ninputs,
                       const int32_t *outputs, int32_t noutputs,
                       const tml_tfl_options *opts);

/* A CUSTOM (32) operator named custom_code, with its custom_options bytes
 * copied as they are (TFLite's converter writes flexbuffers there; size
 * 0 = none).  Its OperatorCode is shared by ops of the same name and
 * version. */
int32_t tml_tfl_add_custom_op(tml_tfl_writer *w, const char *custom_code,
                              int32_t version, const int32_t *inputs,
                              int32_t ninputs, const int32_t *outputs,
                              int32_t noutputs, const void *custom_options,
                              size_t custom_options_size);

int tml_tfl_set_inputs(tml_tfl_writer *w, const int32_t *idx, int32_t n);
int tml_tfl_set_outputs(tml_tfl_writer *w, const int32_t *idx, int32_t n);
int tml_tfl_set_description(tml_tfl_writer *w, const char *text);
/* The subgraph's name (default "main"). */
int tml_tfl_set_subgraph_name(tml_tfl_writer *w, const char *name);

int32_t tml_tfl_tensor_count(const tml_tfl_writer *w);
int32_t tml_tfl_buffer_count(const tml_tfl_writer *w);

/* Serialises the model.  *data stays valid until tml_tfl_writer_free().
 * Returns 0 or -1 with a message.  After finish the writer is frozen. */
int tml_tfl_finish(tml_tfl_writer *w, const uint8_t **data, size_t *size);

/* The first error, "" when none. */
const char *tml_tfl_error(const tml_tfl_writer *w);

#ifdef __cplusplus
}
#endif
#endif
