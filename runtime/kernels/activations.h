/*
 * Math layer of RELU, RELU6, LEAKY_RELU and HARD_SWISH (activations.c),
 * bit-exact with TFLite Micro's reference kernels (activations_common.cc,
 * leaky_relu_common.cc, hard_swish_common.cc, reference/leaky_relu.h,
 * reference/hard_swish.h).
 *
 * The *_init functions run in prepare (exact double math in tml_real,
 * runtime/real.h); the per-value
 * functions are the exact integer reference, used to fill int8 lookup
 * tables in prepare and directly for int16.
 */
#ifndef TML_KERNELS_ACTIVATIONS_H
#define TML_KERNELS_ACTIVATIONS_H

#include <stdint.h>

#include "kernel.h"
#include "real.h"

/* ---- float32 ---- */
void tml_relu_f32(const float *in, float *out, int32_t n);
void tml_relu6_f32(const float *in, float *out, int32_t n);
void tml_leaky_relu_f32(float alpha, const float *in, float *out, int32_t n);
void tml_hard_swish_f32(const float *in, float *out, int32_t n);

/* ---- RELU on int8/int16: requantize to the output scale, clamp at the
 * output's zero point (TFLite Micro ReluQuantized). ---- */
typedef struct tml_relu_params {
    int32_t in_zp, out_zp;
    int32_t multiplier, shift;
    int32_t act_min, act_max;
} tml_relu_params;

/* TFLite's double-rounding MultiplyByQuantizedMultiplier shifts left by
 * the multiplier's exponent, undefined past 30 (a scale ratio >= 2^30, or
 * an infinite one).  The *_init functions refuse such ratios (return -1,
 * prepare reports it); no real model has them. */
static inline int tml_ratio_supported(tml_real real)
{
    /* |real| < 2^30: m * 2^e < 2^(e + 53) with m normalised; false for
     * the invalid value (e = INT32_MAX). */
    return real.m == 0 || real.e <= 30 - 53;
}

/* type_min/type_max: the dtype's range (-128/127 or -32768/32767).
 * Returns 0, or -1 for an unsupported scale ratio. */
int tml_relu_q_init(tml_relu_params *p, float in_scale, int32_t in_zp,
                     float out_scale, int32_t out_zp, int32_t type_min,
                     int32_t type_max);
int32_t tml_relu_q(const tml_relu_params *p, int32_t x);

/* ---- RELU6 on int8/int16: TFLite Micro clamps the input to
 * [input zero point, quantized 6.0] on the INPUT's scale and does not
 * requantize (Relu6Prepare/Relu6Quantized). ---- */
typedef struct tml_relu6_params {
    int32_t lower, upper;
} tml_relu6_params;

void tml_relu6_q_init(tml_relu6_params *p, float in_scale, int32_t in_zp,
                      int32_t type_min, int32_t type_max);
int32_t tml_relu6_q(const tml_relu6_params *p, int32_t x);

/* ---- LEAKY_RELU on int8/int16: two multipliers, identity (x >= 0) and
 * alpha (x < 0); a negative alpha keeps its sign outside the multiplier
 * (reference QuantizeLeakyRelu). ---- */
typedef struct tml_leaky_params {
    int32_t in_zp, out_zp;
    int32_t mult_identity, shift_identity;
    int32_t mult_alpha, shift_alpha;    /* mult_alpha >= 0 */
    int32_t alpha_negative;
    int32_t type_min, type_max;
} tml_leaky_params;

/* Returns 0, or -1 for an unsupported scale ratio. */
int tml_leaky_q_init(tml_leaky_params *p, float in_scale, int32_t in_zp,
                      float out_scale, int32_t out_zp, float alpha,
                      int32_t type_min, int32_t type_max);
int32_t tml_leaky_q(const tml_leaky_params *p, int32_t x);

/* ---- HARD_SWISH on int8: 16-bit fixed point with the "reluish" and
 * output multipliers (HardSwishPrepare / reference HardSwish<int8_t>). ---- */
typedef struct tml_hard_swish_params {
    int32_t in_zp, out_zp;
    int32_t reluish_exponent, output_exponent;
    int16_t reluish_mult16, output_mult16;
} tml_hard_swish_params;

/* Returns 0; -1 when the output multiplier needs a left shift
 * (output_exponent > 0), which TFLite Micro rejects; -2 when the input
 * scale is so large (>= 2^31 * 3 / 32768 * 128) that the reluish
 * multiplier would be undefined. */
int tml_hard_swish_q_init(tml_hard_swish_params *p, float in_scale, int32_t in_zp,
                          float out_scale, int32_t out_zp);
int32_t tml_hard_swish_q(const tml_hard_swish_params *p, int32_t x);

/* TFLite DownScaleInt32ToInt16Multiplier: round a Q31 multiplier to Q15. */
int16_t tml_downscale_multiplier16(int32_t m);

/* out[i] = lut[(uint8_t)in[i]]: the int8 eval of every activation whose
 * table prepare filled from the exact reference function.  Reads in[i]
 * before writing out[i], so in == out is fine. */
void tml_lut_s8(const int8_t *lut, const int8_t *in, int8_t *out, int32_t n);

/* ---- registration helpers shared by activations.c, logistic_tanh.c and
 * quantize.c ---- */

/* Eval of an op whose float32 path is f32 and whose int8 path is the
 * 256-entry table prepare left in node->user (HARD_SWISH, LOGISTIC, TANH). */
tml_status tml_lut_or_f32_eval(tml_interpreter *it, tml_node *n,
                               void (*f32)(const float *, float *, int32_t));

/* One input and one output, both present, the same element count and,
 * when same_dtype, the same dtype; otherwise sets the error. */
tml_status tml_unary_tensors(tml_interpreter *it, tml_node *n,
                             int same_dtype, tml_tensor **in,
                             tml_tensor **out);

/* A quantized tensor must have one finite scale > 0 (per-tensor); role
 * names it in the message ("input 0"). */
tml_status tml_check_quant(tml_interpreter *it, tml_node *n,
                           const char *role, const tml_tensor *t);

#endif
