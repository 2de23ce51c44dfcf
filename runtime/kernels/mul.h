/*
 * MUL, int8 and float32, with broadcasting (add_sub.h's tml_bcast);
 * bit-exact with TFLite Micro's reference kernels.
 *
 * int8 (reference_integer_ops::MulElementwise):
 *   out = MBQM((x1 - zp1) * (x2 - zp2), m, s) + zp_out, clamped,
 * with m, s = QuantizeMultiplier(scale1 * scale2 / scale_out) in double.
 */
#ifndef TML_KERNELS_MUL_H
#define TML_KERNELS_MUL_H

#include <stdint.h>

#include "add_sub.h"

typedef struct tml_mul_params {
    int32_t input1_offset, input2_offset, output_offset;   /* -zp1, -zp2, zpo */
    int32_t output_multiplier, output_shift;
    int32_t act_min, act_max;
    float act_min_f, act_max_f;
} tml_mul_params;

void tml_mul_quantize(tml_mul_params *p, float scale1, int32_t zp1, float scale2,
                      int32_t zp2, float scale_out, int32_t zp_out);

/* Elementwise when b is NULL (all three have n elements), else broadcast. */
void tml_mul_int8(const tml_mul_params *p, const tml_bcast *b, int32_t n,
                  const int8_t *in1, const int8_t *in2, int8_t *out);
void tml_mul_f32(const tml_mul_params *p, const tml_bcast *b, int32_t n,
                 const float *in1, const float *in2, float *out);

#endif
