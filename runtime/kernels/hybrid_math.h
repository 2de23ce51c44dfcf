/*
 * Math layer of the dynamic-range kernels (hybrid.c): pure functions on
 * shapes and pointers, driven directly by the tests.  Semantics are full
 * TFLite's (tensor_utils and the reference hybrid kernels):
 *
 *   symmetric input quantization (SymmetricQuantizeFloats):
 *     r = max|x|; r == 0 -> q = 0, scale 1; else scale = r / 127,
 *     q = clamp(round(x * (127 / r)), -127, 127)
 *   asymmetric (AsymmetricQuantizeFloats): range [min(0, min x),
 *     max(0, max x)] onto -128..127, nudged zero point = offset.
 *   per-tensor CONV_2D / FULLY_CONNECTED: y = acc * (s_in * s_w) + bias
 *   per-channel CONV_2D: y = acc * s_w[c] * s_in + bias, taps minus offset
 *   DEPTHWISE_CONV_2D: y = acc * (s_w[c] * s_in) + bias, taps minus offset
 *   FULLY_CONNECTED: y = bias + (acc - row_sum[c] * offset) * (s_in * s_w[c])
 * then the fused activation clamp.  Padding taps are skipped (real 0).
 */
#ifndef TML_KERNELS_HYBRID_MATH_H
#define TML_KERNELS_HYBRID_MATH_H

#include <stdint.h>

void tml_quantize_symmetric(const float *x, int32_t n, int8_t *q,
                            float *scale);
void tml_quantize_asymmetric(const float *x, int32_t n, int8_t *q,
                             float *scale, int32_t *offset);

typedef struct tml_hybrid_geom {
    int32_t batch, in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w, dil_h, dil_w;
    int32_t pad_h, pad_w;          /* top, left */
    int32_t depth_multiplier;      /* depthwise */
    float act_min, act_max;
} tml_hybrid_geom;

/* q: batch rows of in_h*in_w*in_c int8; in_scale/in_offset: per batch
 * (in_offset NULL = symmetric, then w_scales has one entry folded as
 * s_in * s_w).  w: OHWI. w_scales: out_c entries, or 1 when w_nscales 1. */
void tml_hybrid_conv(const tml_hybrid_geom *g, const int8_t *q,
                     const float *in_scale, const int32_t *in_offset,
                     const int8_t *w, const float *w_scales,
                     int32_t w_nscales, const float *bias, float *y);
/* w: 1HW(C*M). */
void tml_hybrid_depthwise(const tml_hybrid_geom *g, const int8_t *q,
                          const float *in_scale, const int32_t *in_offset,
                          const int8_t *w, const float *w_scales,
                          int32_t w_nscales, const float *bias, float *y);
/* batch rows of `depth` inputs, w [units, depth]; row_sums needed when
 * in_offset is not NULL. */
void tml_hybrid_fc(int32_t batch, int32_t depth, int32_t units,
                   const int8_t *q, const float *in_scale,
                   const int32_t *in_offset, const int8_t *w,
                   const float *w_scales, int32_t w_nscales,
                   const int32_t *row_sums, const float *bias,
                   float act_min, float act_max, float *y);

#endif
