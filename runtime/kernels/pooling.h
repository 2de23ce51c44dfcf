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

typedef struct tml_pool_params {
    int32_t batches, in_h, in_w, depth, out_h, out_w;
    int32_t stride_h, stride_w, filter_h, filter_w;
    int32_t pad_h, pad_w;          /* top / left padding (TFLite's values) */
    int32_t act_min, act_max;      /* int8 clamp */
    float act_min_f, act_max_f;    /* float clamp */
} tml_pool_params;

/* Output size and top/left padding of one spatial axis, as TFLite's
 * ComputeOutSize + ComputePaddingWithOffset (dilation 1).  Returns -1 for
 * a non-positive stride or filter or an unknown padding. */
int32_t tml_pool_out_size(int padding, int32_t in, int32_t filter,
                          int32_t stride, int32_t *pad);

void tml_avg_pool_int8(const tml_pool_params *p, const int8_t *in, int8_t *out);
void tml_avg_pool_f32(const tml_pool_params *p, const float *in, float *out);
void tml_max_pool_int8(const tml_pool_params *p, const int8_t *in, int8_t *out);
void tml_max_pool_f32(const tml_pool_params *p, const float *in, float *out);

#endif
