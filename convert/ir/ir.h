/*
 * The converter's graph IR: what importers build, passes rewrite, the
 * quantizer annotates and the exporter writes.
 *
 * Its vocabulary is TFLite's, so every stage speaks one language:
 *  - ops are TFLite builtin operators (op->builtin, e.g. 3 = CONV_2D), with
 *    their attributes in tml_ir_attrs;
 *  - layouts are TFLite's: activations NHWC, CONV_2D filters OHWI,
 *    DEPTHWISE_CONV_2D filters [1, H, W, C*M], FULLY_CONNECTED weights
 *    [out, in], biases [out];
 *  - dtypes are tml_dtype (TFLite TensorType values).
 * Importers translate their format's layouts (Keras HWIO kernels, ONNX
 * NCHW, ...) into these when they build the graph.
 *
 * Ownership: the graph owns every string, shape and constant buffer; the
 * add functions copy what they are given.  Ops are kept in execution
 * (topological) order.  Tensors and ops are addressed by index; passes
 * that delete mark ops dead (builtin = TML_IR_DEAD) and call
 * tml_ir_compact(), which renumbers.
 *
 * Errors: functions that can fail return -1 (or NULL) and leave one line
 * in g->error.
 */
#ifndef TML_IR_H
#define TML_IR_H

#include <stddef.h>
#include <stdint.h>

#include "tinyml/tinyml.h"

#define TML_IR_MAX_INPUTS 8
#define TML_IR_MAX_OUTPUTS 2
#define TML_IR_MAX_IO 8
#define TML_IR_DEAD (-1)

typedef struct tml_ir_quant {
    int32_t count;            /* number of scales; 0 = not quantized */
    float *scales;            /* owned */
    int64_t *zero_points;     /* owned, count entries */
    int32_t dim;              /* quantized dimension when count > 1 */
} tml_ir_quant;

typedef struct tml_ir_tensor {
    char *name;               /* owned, never NULL */
    tml_dtype dtype;
    int32_t ndims;
    int32_t dims[TML_MAX_DIMS];
    void *data;               /* constant data, owned; NULL = activation */
    size_t bytes;             /* of data: elements * dtype size */
    tml_ir_quant quant;
    /* Calibration range observed for an activation (quantize/). */
    int has_range;
    float min, max;
} tml_ir_tensor;

/* Attributes of every op kind in one struct; each op reads its own. */
typedef struct tml_ir_attrs {
    int32_t padding;          /* TML_PAD_SAME / TML_PAD_VALID */
    int32_t stride_w, stride_h;
    int32_t dilation_w, dilation_h;
    int32_t filter_w, filter_h;   /* pools */
    int32_t depth_multiplier;
    int32_t activation;       /* fused TML_ACT_* */
    int32_t axis;             /* CONCATENATION */
    int32_t keep_dims;        /* MEAN; FULLY_CONNECTED keep_num_dims */
    float alpha;              /* LEAKY_RELU */
    float beta;               /* SOFTMAX */
    int32_t nshape;           /* RESHAPE new_shape, SQUEEZE squeeze_dims */
    int32_t shape[TML_MAX_DIMS];
} tml_ir_attrs;

typedef struct tml_ir_op {
    int32_t builtin;          /* TFLite BuiltinOperator, or TML_IR_DEAD */
    int32_t version;          /* 0 = let the exporter choose */
    int32_t ninputs, noutputs;
    int32_t inputs[TML_IR_MAX_INPUTS];    /* tensor index, -1 = absent */
    int32_t outputs[TML_IR_MAX_OUTPUTS];
    tml_ir_attrs attrs;
    char *origin;             /* owned: source layer/node name for messages */
} tml_ir_op;

typedef struct tml_ir_graph {
    tml_ir_tensor *tensors;
    int32_t ntensors, tensors_cap;
    tml_ir_op *ops;
    int32_t nops, ops_cap;
    int32_t ninputs, noutputs;
    int32_t inputs[TML_IR_MAX_IO];
    int32_t outputs[TML_IR_MAX_IO];
    char error[256];
} tml_ir_graph;

tml_ir_graph *tml_ir_new(void);
void tml_ir_free(tml_ir_graph *g);

/* Defaults: strides/dilations/depth multiplier 1, beta 1, VALID, NONE. */
tml_ir_attrs tml_ir_default_attrs(void);

/* An activation tensor; returns its index or -1. */
int32_t tml_ir_add_tensor(tml_ir_graph *g, const char *name, tml_dtype dtype,
                          int32_t ndims, const int32_t *dims);
/* A constant: copies elements * dtype size bytes from data. */
int32_t tml_ir_add_const(tml_ir_graph *g, const char *name, tml_dtype dtype,
                         int32_t ndims, const int32_t *dims, const void *data);
/* Replaces a tensor's constant data (and dtype, for quantization); the
 * byte count follows from dims and dtype.  Copies data. */
int tml_ir_set_data(tml_ir_graph *g, int32_t t, tml_dtype dtype,
                    const void *data);
/* Per-tensor (count 1) or per-channel quantization; copies the arrays
 * (zero_points NULL = all 0). */
int tml_ir_set_quant(tml_ir_graph *g, int32_t t, int32_t count,
                     const float *scales, const int64_t *zero_points,
                     int32_t dim);

/* Appends an op (attrs NULL = defaults); returns its index or -1. */
int32_t tml_ir_add_op(tml_ir_graph *g, int32_t builtin, const int32_t *inputs,
                      int32_t ninputs, const int32_t *outputs,
                      int32_t noutputs, const tml_ir_attrs *attrs,
                      const char *origin);
/* Inserts an op before position `at` (0..nops); later ops shift by one. */
int32_t tml_ir_insert_op(tml_ir_graph *g, int32_t at, int32_t builtin,
                         const int32_t *inputs, int32_t ninputs,
                         const int32_t *outputs, int32_t noutputs,
                         const tml_ir_attrs *attrs, const char *origin);

int tml_ir_add_input(tml_ir_graph *g, int32_t t);
int tml_ir_add_output(tml_ir_graph *g, int32_t t);

/* Drops dead ops and tensors nothing references (not inputs/outputs),
 * renumbering tensor indices everywhere. */
int tml_ir_compact(tml_ir_graph *g);

/* Graph queries. */
size_t tml_ir_elements(const tml_ir_tensor *t);
int32_t tml_ir_producer(const tml_ir_graph *g, int32_t t);   /* op or -1 */
int32_t tml_ir_consumer_count(const tml_ir_graph *g, int32_t t);
int tml_ir_is_graph_output(const tml_ir_graph *g, int32_t t);
/* Replaces every use of tensor `from` (op inputs, graph outputs) by `to`. */
void tml_ir_replace_uses(tml_ir_graph *g, int32_t from, int32_t to);

/* Sets g->error (printf format) and returns -1. */
int tml_ir_fail(tml_ir_graph *g, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* A deep copy (for converting one import several ways). */
tml_ir_graph *tml_ir_clone(const tml_ir_graph *g);

#endif
