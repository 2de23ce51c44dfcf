/*
 * Math layer of LOGISTIC and TANH (logistic_tanh.c), bit-exact with
 * TFLite Micro: float32 as reference_ops::Logistic / Tanh, int8 as
 * reference_integer_ops::Logistic / Tanh (input rescaled to Q4.27, gemmlowp
 * fixed-point logistic/tanh, output Q0.7 with the int8 spec's fixed output
 * quantization: LOGISTIC scale 1/256 zero point -128, TANH 1/128 and 0).
 */
#ifndef TML_KERNELS_LOGISTIC_TANH_H
#define TML_KERNELS_LOGISTIC_TANH_H

#include <stdint.h>

void tml_logistic_f32(const float *in, float *out, int32_t n);
void tml_tanh_f32(const float *in, float *out, int32_t n);

/* Input rescaling shared by int8 LOGISTIC and TANH (CalculateArithmetic-
 * OpData / CalculateArithmeticOpDataLogistic): input - zero_point times
 * multiplier * 2^left_shift is the input in Q4.27; inputs at or past
 * +-range_radius saturate. */
typedef struct tml_sigmoid_params {
    int32_t in_zp;
    int32_t range_radius;
    int32_t multiplier;
    int32_t left_shift;
} tml_sigmoid_params;

/* Returns 0, or -1 when the input scale is below 2^-28 (its left shift
 * would be negative, where the reference shifts by a negative amount). */
int tml_sigmoid_params_init(tml_sigmoid_params *p, float in_scale,
                            int32_t in_zp);

/* The exact integer reference for one int8 input value. */
int8_t tml_logistic_s8(const tml_sigmoid_params *p, int8_t x);
int8_t tml_tanh_s8(const tml_sigmoid_params *p, int8_t x);

#endif
