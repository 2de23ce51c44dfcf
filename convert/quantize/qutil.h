/*
 * Quantization arithmetic shared by the quantize/ modes (internal).
 */
#ifndef TML_QUANTIZE_QUTIL_H
#define TML_QUANTIZE_QUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "convert/ir/ir.h"

/* IEEE binary16 bits of f, round to nearest even (overflow -> inf). */
uint16_t tml_q_f32_to_f16(float f);
float tml_q_f16_to_f32(uint16_t h);

/* Symmetric int8 weights (TFLite int8 spec: zero point 0, values in
 * [-127, 127]).  Per channel along `axis` of the ndims/dims shape when
 * per_channel, else one scale: scales gets dims[axis] or 1 entries.
 * A channel of zeros gets scale 1 (any scale represents it exactly).
 * min_scales (NULL = none; one entry per scale) raises a scale to at least
 * that value (int8 keeps the int32 bias of a near-dead channel in range). */
void tml_q_symmetric(const float *w, const int32_t *dims, int32_t ndims,
                     int32_t axis, int per_channel, const float *min_scales,
                     int8_t *q, float *scales);

/* TF's asymmetric int8 activation parameters for an observed [min, max]:
 * the range is widened to include 0 (so 0 is exact, padding needs it),
 * scale = (max - min) / 255, zero point = round(-128 - min / scale)
 * clamped to [-128, 127].  A zero-width range gets scale 1. */
void tml_q_activation_params(float min, float max, float *scale,
                             int32_t *zero_point);

/* Where tml_quantize_int8() takes an op's output parameters from
 * (calibration asks which activation ranges matter). */
enum {
    TML_Q_OUT_NONE,    /* no int8 rule for the op */
    TML_Q_OUT_RANGE,   /* the output's calibrated range */
    TML_Q_OUT_INPUT,   /* input 0's parameters (values only move) */
    TML_Q_OUT_FIXED    /* the spec's fixed parameters (SOFTMAX, ...) */
};
int tml_q_output_rule(int32_t builtin);

/* Copies the graph's one-line error into err (n bytes); returns -1. */
int tml_q_ir_error(const tml_ir_graph *g, char *err, size_t n);

/* snprintf into err; returns -1. */
int tml_q_fail(char *err, size_t n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Builtin codes used by the quantizer (TFLite BuiltinOperator). */
enum {
    TML_B_ADD = 0, TML_B_AVERAGE_POOL_2D = 1, TML_B_CONCATENATION = 2,
    TML_B_CONV_2D = 3, TML_B_DEPTHWISE_CONV_2D = 4, TML_B_DEQUANTIZE = 6,
    TML_B_FULLY_CONNECTED = 9, TML_B_LOGISTIC = 14, TML_B_MAX_POOL_2D = 17,
    TML_B_MUL = 18, TML_B_RELU = 19, TML_B_RELU6 = 21, TML_B_RESHAPE = 22,
    TML_B_SOFTMAX = 25, TML_B_TANH = 28, TML_B_PAD = 34,
    TML_B_TRANSPOSE = 39, TML_B_MEAN = 40, TML_B_SUB = 41,
    TML_B_SQUEEZE = 43, TML_B_STRIDED_SLICE = 45, TML_B_LEAKY_RELU = 98,
    TML_B_QUANTIZE = 114, TML_B_HARD_SWISH = 117
};

#endif
