/*
 * SOFTMAX over the last axis, int8 -> int8 and float32; bit-exact with
 * TFLite Micro's reference kernels.
 *
 * int8 follows reference_ops::Softmax<int8_t, int8_t> (the gemmlowp path,
 * not a LUT): differences to the row maximum are scaled by beta * scale into
 * Q5.26, exponentiated with exp_on_negative_values, summed in Q12.19, and
 * each exp is multiplied by the Q0 reciprocal of the sum.  The output must
 * have scale 1/256 and zero point -128 (TFLite's int8 softmax contract).
 */
#ifndef TML_KERNELS_SOFTMAX_H
#define TML_KERNELS_SOFTMAX_H

#include <stdint.h>

typedef struct tml_softmax_params {
    int32_t input_multiplier;  /* beta * input_scale * 2^26, quantized */
    int32_t input_left_shift;
    int32_t diff_min;          /* differences below it give exp == 0 */
    float beta;                /* float32 path */
} tml_softmax_params;

/* TFLite CalculateSoftmaxParams for int8 (PreprocessSoftmaxScaling and
 * CalculateInputRadius with 5 integer bits). */
void tml_softmax_params_int8(float beta, float input_scale,
                             tml_softmax_params *p);

void tml_softmax_int8(const tml_softmax_params *p, int32_t rows, int32_t depth,
                      const int8_t *in, int8_t *out);
void tml_softmax_f32(const tml_softmax_params *p, int32_t rows, int32_t depth,
                     const float *in, float *out);

#endif
