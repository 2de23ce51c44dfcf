/*
 * IR -> TFLite flatbuffer (schema version 3) through tflite_writer.h.
 *
 * CONTRACT: exported tensor i is IR tensor i (same order, same count), so
 * the quantizer's calibration can map the runtime observer's tensor
 * indices back to IR tensors.  Ops keep the IR order (dead ops skipped).
 *
 * What is written:
 *   - every IR tensor: name, dtype, shape, quantization (scale and zero
 *     point arrays, quantized dimension), and for constants a buffer with
 *     their bytes (16-byte aligned, by the writer);
 *   - every live op with its builtin options built from tml_ir_attrs, at
 *     op->version when set, else the version TFLite's op_version logic
 *     gives for the features used (tml_ir_op_version);
 *   - graph inputs and outputs, the description "tinyml".
 * The bytes are deterministic: the same graph gives the same bytes.
 */
#ifndef TML_IR_EXPORT_H
#define TML_IR_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "convert/ir/ir.h"

/* On success *out is malloc'ed (free with free()) and 0 is returned; on
 * failure -1 with one line in err. */
int tml_ir_export_tflite(const tml_ir_graph *g, uint8_t **out, size_t *size,
                         char *err, size_t err_size);

/* The operator version TFLite's converter would record for op (dtypes of
 * its input 0, input 1 and output 0, per-channel weights, dilation,
 * keep_num_dims, rank...).  Ignores op->version. */
int32_t tml_ir_op_version(const tml_ir_graph *g, const tml_ir_op *op);

#endif
