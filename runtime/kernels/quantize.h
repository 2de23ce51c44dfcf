/*
 * Math layer of QUANTIZE and DEQUANTIZE (quantize.c), bit-exact with
 * TFLite Micro (quantize_common.cc, dequantize_common.cc,
 * reference/{quantize,dequantize,requantize}.h), plus float16 -> float32
 * for DEQUANTIZE of float16 weights (full TFLite; TFLite Micro has none).
 */
#ifndef TML_KERNELS_QUANTIZE_H
#define TML_KERNELS_QUANTIZE_H

#include <stdint.h>

/* AffineQuantize of one value: round(v / scale) half away from zero, in
 * float, plus zero_point, clamped to [qmin, qmax] (8- or 16-bit ranges).
 * Infinities and values past int32 clamp too, and NaN gives zero_point
 * (TFLite's float->int conversion is undefined there). */
int32_t tml_quantize_value(float v, float scale, int32_t zero_point,
                           int32_t qmin, int32_t qmax);
void tml_quantize_f32_s8(const float *in, int8_t *out, int32_t n,
                         float scale, int32_t zero_point);
void tml_quantize_f32_s16(const float *in, int16_t *out, int32_t n,
                          float scale, int32_t zero_point);

/* reference Requantize: (x - in_zp) * (in_scale / out_scale) rounded as
 * MultiplyByQuantizedMultiplier, plus out_zp, clamped to the output type. */
typedef struct tml_requant_params {
    int32_t in_zp, out_zp;
    int32_t multiplier, shift;
    int32_t qmin, qmax;
} tml_requant_params;

/* Returns 0, or -1 when in_scale / out_scale is not below 2^30
 * (tml_ratio_supported). */
int tml_requant_init(tml_requant_params *p, float in_scale, int32_t in_zp,
                      float out_scale, int32_t out_zp, int32_t qmin,
                      int32_t qmax);
int32_t tml_requant(const tml_requant_params *p, int32_t x);

/* reference Dequantize: scale * (x - zero_point).  TFLite computes it in
 * double and rounds to float once; the product of a float scale and an
 * integer below 2^24 is exact in double, so one float multiply (also
 * correctly rounded) gives the same bits. */
void tml_dequantize_s8(const int8_t *in, float *out, int32_t n, float scale,
                       int32_t zero_point);
void tml_dequantize_u8(const uint8_t *in, float *out, int32_t n, float scale,
                       int32_t zero_point);
void tml_dequantize_s16(const int16_t *in, float *out, int32_t n, float scale,
                        int32_t zero_point);

/* Per-channel int8 (full TFLite PerChannelDequantize; TFLite Micro has
 * none): the tensor seen as [outer, channels, inner] with the channel axis
 * the quantized dimension; scale[c] * (x - zero_point[c]) in float (the
 * same bits as TFLite's float-times-int).  zero_points: NULL = all 0, else
 * `channels` int64 as stored in the model, read bytewise (the model may
 * leave them unaligned). */
void tml_dequantize_s8_per_channel(const int8_t *in, float *out,
                                   int32_t outer, int32_t channels,
                                   int32_t inner, const float *scales,
                                   const void *zero_points);

/* IEEE half (binary16) bits -> float, exactly: subnormals normalised,
 * infinities kept, NaN payloads kept (shifted into the float mantissa). */
float tml_half_to_float(uint16_t h);
void tml_dequantize_f16(const uint16_t *in, float *out, int32_t n);

#endif
