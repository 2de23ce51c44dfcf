/*
 * AVERAGE_POOL_2D and MAX_POOL_2D, NHWC, int8 and float32; bit-exact with
 * TFLite Micro's reference kernels (reference_integer_ops::AveragePool /
 * MaxPool, reference_ops for float).
 *
 * The math layer takes a fully resolved parameter block (prepare fills it:
 * explicit padding, clamp range) so tests can drive it without a model.
 */
#ifndef TML_KERNELS_POOLING_H
#define TML_KERNELS_POOLING_H

#include <stdint.h>

#include "conv_common.h"

/* tml_pool_params: conv_common.h. */
void tml_avg_pool_int8(const tml_pool_params *p, const int8_t *in, int8_t *out);
void tml_avg_pool_f32(const tml_pool_params *p, const float *in, float *out);
void tml_max_pool_int8(const tml_pool_params *p, const int8_t *in, int8_t *out);
void tml_max_pool_f32(const tml_pool_params *p, const float *in, float *out);

#endif
