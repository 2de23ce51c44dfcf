/*
 * Dynamic-range ("hybrid") CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED:
 * float32 activations, int8 weights (symmetric, per-tensor or per-channel),
 * float32 bias.  Full TFLite's hybrid semantics (TFLite Micro has none):
 * each batch row of the float input is quantized on the fly to int8
 * (symmetric, scale max|x|/127; FULLY_CONNECTED may ask for asymmetric
 * input quantization), products are accumulated in int32, and
 *   out = acc * input_scale * filter_scale[c] + bias[c]
 * then the fused activation is applied in float.
 *
 * The owners of conv.c, depthwise_conv.c and fully_connected.c call these
 * from their prepare/eval when the input is float32 and the filter int8.
 * prepare stores its op data in node->user and asks for the node's one
 * scratch buffer (quantized input + per-row scaling factors/offsets).
 */
#ifndef TML_KERNELS_HYBRID_H
#define TML_KERNELS_HYBRID_H

#include "kernel.h"

tml_status tml_hybrid_conv_prepare(tml_interpreter *it, tml_node *node);
tml_status tml_hybrid_conv_eval(tml_interpreter *it, tml_node *node);

tml_status tml_hybrid_depthwise_prepare(tml_interpreter *it, tml_node *node);
tml_status tml_hybrid_depthwise_eval(tml_interpreter *it, tml_node *node);

tml_status tml_hybrid_fc_prepare(tml_interpreter *it, tml_node *node);
tml_status tml_hybrid_fc_eval(tml_interpreter *it, tml_node *node);

#endif
