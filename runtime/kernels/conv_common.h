/*
 * The math layer of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED, and
 * the prepare-time helpers the convolutions (and FULLY_CONNECTED) share.
 *
 * Semantics are TFLite Micro's reference kernels (per-channel int8
 * ConvPerChannel / DepthwiseConvPerChannel, int8 FullyConnected and
 * FullyConnectedPerChannel, and the float32 versions), bit for bit for
 * int8:
 *   acc = bias[c] + sum over in-image taps of w * (x + input_offset)
 *   y   = clamp(mul_by_qm(acc, mult[c], shift[c]) + output_offset)
 * Taps that fall in the zero padding are skipped, exactly as TFLite does
 * (so the padding holds the real value 0, not the quantized zero point).
 * Float sums add the taps in TFLite's order (ky, kx, input channel) and
 * the bias last, so float results match TFLite Micro's too.
 *
 * Layouts: activations NHWC, conv filters OHWI, depthwise filters
 * 1HW(C*M), FC weights [out, in].  Weights are symmetric (TFLite int8
 * spec: zero point 0), so there is no weight offset.
 *
 * Speed, without changing a single result:
 * - int8 CONV_2D gathers each output pixel's patch once, as int16
 *   x + input_offset in filter order, with 0 for taps in the padding (so
 *   they add exactly nothing, as TFLite's skip does) and zero-filled to a
 *   multiple of 16; every output channel is then one straight dot product
 *   with its filter, which compilers turn into SIMD multiply-adds.  The
 *   patch lives in the node's scratch buffer (2 bytes per filter tap).
 * - DEPTHWISE_CONV_2D runs 16 (then 8) channels side by side: channels
 *   are contiguous in input, filter and output, and independent.
 * - float sums share input loads across 4 output channels, each channel
 *   keeping its own running sum in TFLite's order.
 * - requantization is the inlined tml_mul_by_qm_inl; parameters are read
 *   into locals because int8 stores may alias them.
 */
#ifndef TML_KERNELS_CONV_COMMON_H
#define TML_KERNELS_CONV_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "kernel.h"
#include "quant.h"

/* A 4-D shape.  Conv filters: n = output channels, c = input channels per
 * group; depthwise filters: n = 1, c = output channels. */
typedef struct tml_shape4 {
    int32_t n, h, w, c;
} tml_shape4;

/* The clamp of a fused activation: first member of every op's params
 * here (through tml_out_stage for the ops with weights). */
typedef struct tml_clamp {
    int32_t act_min, act_max;        /* int8, in the output's units */
    float fact_min, fact_max;        /* float32 */
} tml_clamp;

/* What CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED do after their sums:
 * requantize (int8) and clamp.  First member of each op's params, so one
 * prepare fills it for all of them. */
typedef struct tml_out_stage {
    tml_clamp clamp;
    /* int8 only */
    int32_t input_offset;            /* -input zero point */
    int32_t output_offset;           /* output zero point */
    const int32_t *out_mult;         /* per output channel (FC per-tensor: 1) */
    const int8_t *out_shift;         /* QuantizeMultiplier's shift (>0: left) */
} tml_out_stage;

typedef struct tml_conv_params {
    tml_out_stage q;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_h, pad_w;            /* leading padding (top, left) */
    int32_t depth_multiplier;        /* depthwise only */
} tml_conv_params;

/* CONV_2D.  in->c must be a multiple of filt->c (grouped convolution when
 * larger); out->c = filt->n, a multiple of the group count.  bias may be
 * NULL.  The int8 version needs a scratch `patch` of
 * tml_conv_int8_scratch_bytes(filt) bytes (one output pixel's inputs). */
size_t tml_conv_int8_scratch_bytes(const tml_shape4 *filt);
void tml_conv_int8(const tml_conv_params *p, const tml_shape4 *in,
                   const int8_t *x, const tml_shape4 *filt, const int8_t *w,
                   const int32_t *bias, const tml_shape4 *out, int8_t *y,
                   int16_t *patch);
void tml_conv_f32(const tml_conv_params *p, const tml_shape4 *in,
                  const float *x, const tml_shape4 *filt, const float *w,
                  const float *bias, const tml_shape4 *out, float *y);

/* DEPTHWISE_CONV_2D: out->c = in->c * depth_multiplier = filt->c;
 * output channel ic * depth_multiplier + m reads input channel ic. */
void tml_depthwise_int8(const tml_conv_params *p, const tml_shape4 *in,
                        const int8_t *x, const tml_shape4 *filt,
                        const int8_t *w, const int32_t *bias,
                        const tml_shape4 *out, int8_t *y);
void tml_depthwise_f32(const tml_conv_params *p, const tml_shape4 *in,
                       const float *x, const tml_shape4 *filt, const float *w,
                       const float *bias, const tml_shape4 *out, float *y);

typedef struct tml_fc_params {
    tml_out_stage q;
    int32_t batches, accum_depth, out_depth;
    int32_t per_channel;             /* int8: one multiplier per output */
} tml_fc_params;

/* FULLY_CONNECTED: x is [batches, accum_depth], w [out_depth, accum_depth],
 * y [batches, out_depth]; bias may be NULL. */
void tml_fc_int8(const tml_fc_params *p, const int8_t *x, const int8_t *w,
                 const int32_t *bias, int8_t *y);
void tml_fc_f32(const tml_fc_params *p, const float *x, const float *w,
                const float *bias, float *y);

/* AVERAGE_POOL_2D / MAX_POOL_2D (pooling.h). */
/* Output
 * size and padding as TFLite's ComputeOutSize / ComputePaddingWithOffset
 * (tml_conv_out_size with dilation 1). */
typedef struct tml_pool_params {
    tml_clamp q;
    int32_t batches, in_h, in_w, depth, out_h, out_w;
    int32_t stride_h, stride_w, filter_h, filter_w;
    int32_t pad_h, pad_w;          /* top / left padding (TFLite's values) */
} tml_pool_params;

/* The int8 output stage of one sum (TFLite's per-channel requantize):
 *   clamp(mul_by_qm(acc, mult, shift) + out_off, lo, hi). */
static inline int8_t tml_requant1_inl(int32_t acc, int32_t mult, int shift,
                                      int32_t out_off, int32_t lo,
                                      int32_t hi)
{
    const int32_t v = tml_mul_by_qm_inl(acc, mult, shift);
    return (int8_t)tml_clamp_i32(tml_add_wrap(v, out_off), lo, hi);
}

/* The same, out of line (conv_common.c), through quant.c's tml_mul_by_qm
 * (equal to tml_mul_by_qm_inl for multipliers >= 0, which prepare
 * guarantees). */
int8_t tml_requant1_call(int32_t acc, int32_t mult, int shift,
                         int32_t out_off, int32_t lo, int32_t hi);

/* What CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED call per output:
 * inlined where the compiler optimizes for speed, one shared copy where it
 * optimizes for size (-Os, as deployment builds are).  Same results. */
static inline int8_t tml_requant1(int32_t acc, int32_t mult, int shift,
                                  int32_t out_off, int32_t lo, int32_t hi)
{
#ifdef __OPTIMIZE_SIZE__
    return tml_requant1_call(acc, mult, shift, out_off, lo, hi);
#else
    return tml_requant1_inl(acc, mult, shift, out_off, lo, hi);
#endif
}

/* ---- prepare (conv_common.c) ----
 * The steps CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and the pools
 * share, each a function of its own so that a build with only some of
 * these ops links only the steps they use.  Every failure is one line
 * naming the tensor (or option) with what was expected and what was got. */

/* The ops whose prepare steps are here. */
enum { TML_WOP_CONV, TML_WOP_DEPTHWISE, TML_WOP_FC, TML_WOP_POOL };

/* Builtin options, by these ids whatever the op's table field numbers. */
enum {
    TML_WO_PADDING, TML_WO_STRIDE_W, TML_WO_STRIDE_H, TML_WO_ACT,
    TML_WO_DIL_W, TML_WO_DIL_H, TML_WO_DEPTH_MULT, TML_WO_FILTER_W,
    TML_WO_FILTER_H, TML_WO_WEIGHTS_FORMAT, TML_WO_COUNT, TML_WO_END = 0xff
};

/* What one prepare step hands the next. */
typedef struct tml_wop {
    tml_tensor *t[4];                /* input 0, 1, 2, output 0 (or NULL) */
    int32_t o[TML_WO_COUNT];         /* options (schema defaults if absent) */
    int32_t channels;                /* output channels */
    int32_t depth;                   /* products summed per output */
    int32_t out_h, out_w, pad_h, pad_w;
    int32_t batches;                 /* FULLY_CONNECTED */
    int32_t nmult;                   /* int8 multipliers stored */
    int kind;
} tml_wop;

/* 1 for a hybrid node (float32 input, int8 weights): hybrid.c's. */
static inline int tml_wop_hybrid(tml_interpreter *it, const tml_node *n)
{
    const tml_tensor *in = tml_node_input(it, n, 0);
    const tml_tensor *w = tml_node_input(it, n, 1);
    return in && w && in->type == TML_FLOAT32 && w->type == TML_INT8;
}

/* Step 1: input / output counts, dtypes, options (range-checked). */
tml_status tml_wop_begin(tml_interpreter *it, tml_node *n, int kind,
                         tml_wop *w);
/* Step 2 of the windowed ops: rank 4, output size and padding (TFLite's
 * padding.h), output shape, channel counts; sets channels, depth, out_h,
 * out_w, pad_h, pad_w. */
tml_status tml_wop_window(tml_interpreter *it, tml_node *n, tml_wop *w);
/* Last step of the ops with weights: bias elements, sum depth, weight
 * quantization, then `head` bytes of params (starting with tml_out_stage)
 * and the int8 multipliers after them, in *params. */
tml_status tml_wop_weights(tml_interpreter *it, tml_node *n, tml_wop *w,
                           size_t head, void **params);
/* Last step of the pools: `head` bytes of params (starting with
 * tml_clamp) in *params; int8 output quantized as the input. */
tml_status tml_wop_pool_stage(tml_interpreter *it, tml_node *n,
                              const tml_wop *w, size_t head, void **params);
/* The whole prepare of CONV_2D / DEPTHWISE_CONV_2D (not hybrid): params
 * in node->user, the int8 CONV_2D patch scratch requested. */
tml_status tml_wop_conv_prepare(tml_interpreter *it, tml_node *n, int kind);

/* An op's input 0, 1, 2 and output 0 (NULL when absent), for eval. */
void tml_wop_tensors(tml_interpreter *it, const tml_node *n, tml_tensor *t[4]);
/* The same and the NHWC shapes of input 0, input 1 and output 0. */
void tml_wop_shapes(tml_interpreter *it, const tml_node *n, tml_tensor *t[4],
                    tml_shape4 s[3]);

/* TFLite's output size and leading padding for one spatial dimension
 * (padding.h ComputeOutSize / ComputePaddingWithOffset).  Returns 0 and
 * sets *out_size and *pad, or -1 when the arguments are invalid or the
 * dilated filter spans more than 2^30 + 1 (the kernels' int32 tap offsets
 * rely on it). */
int tml_conv_out_size(int padding, int32_t in_size, int32_t filter_size,
                      int32_t stride, int32_t dilation, int32_t *out_size,
                      int32_t *pad);

/* Per-channel output multipliers of a quantized convolution, as TFLite's
 * PopulateConvolutionQuantizationParams: for each channel c,
 *   real = (double)input_scale * (double)filter_scale[c] / output_scale
 * (a single filter scale is broadcast).  Writes channels entries. */
void tml_conv_multipliers(float input_scale, const float *filter_scales,
                          int32_t nscales, float output_scale,
                          int32_t channels, int32_t *mult, int8_t *shift);

/* The NHWC shape of a rank-4 tensor. */
static inline void tml_shape4_of(const tml_tensor *t, tml_shape4 *s)
{
    s->n = t->dims[0];
    s->h = t->dims[1];
    s->w = t->dims[2];
    s->c = t->dims[3];
}

/* Valid tap range [lo, hi) of one spatial dimension: taps k with
 * 0 <= origin + k * dilation < size.  TFLite skips the others (zero
 * padding contributes nothing, not even the input offset).  Prepare
 * guarantees origin >= -INT32_MAX and (taps - 1) * dilation <= 2^30, so
 * the divisions are 32-bit (no 64-bit division routine on Cortex-M). */
static inline void tml_tap_range_inl(int32_t origin, int32_t dilation,
                                     int32_t taps, int32_t size,
                                     int32_t *lo, int32_t *hi)
{
    const uint32_t d = (uint32_t)dilation;
    uint32_t a = 0, b = (uint32_t)taps;
    if (origin < 0)
        a = ((uint32_t)-origin + d - 1u) / d;
    if (a > b)
        a = b;
    /* The last tap can pass int32 on a hostile model: compare in int64. */
    if (origin + (int64_t)(taps - 1) * dilation >= size) {
        /* Then 0 < room <= (taps - 1) * dilation <= 2^30, or room <= 0. */
        const int64_t room = (int64_t)size - origin;
        b = room <= 0 ? 0u : ((uint32_t)room + d - 1u) / d;
    }
    if (b < a)
        b = a;
    *lo = (int32_t)a;
    *hi = (int32_t)b;
}

/* The same, out of line (conv_common.c). */
void tml_tap_range_call(int32_t origin, int32_t dilation, int32_t taps,
                        int32_t size, int32_t *lo, int32_t *hi);

/* What CONV_2D and DEPTHWISE_CONV_2D call per output pixel: inlined when
 * optimizing for speed, one shared copy under -Os (deployment builds). */
static inline void tml_tap_range(int32_t origin, int32_t dilation,
                                 int32_t taps, int32_t size, int32_t *lo,
                                 int32_t *hi)
{
#ifdef __OPTIMIZE_SIZE__
    tml_tap_range_call(origin, dilation, taps, size, lo, hi);
#else
    tml_tap_range_inl(origin, dilation, taps, size, lo, hi);
#endif
}

/* ---- inner products shared by the kernels ---- */

/* sum w[i] * (x[i] + off) in int32.  |off| <= 128 (an int8 zero point), so
 * x + off fits int16. */
static inline int32_t tml_dot_off_i8(const int8_t *w, const int8_t *x,
                                     int32_t n, int32_t off)
{
    int32_t acc = 0;
    int32_t i = 0;
    const int16_t o = (int16_t)off;
    /* Fixed 16-wide blocks: GCC vectorizes these wherever the dot is
     * inlined (a masked loop bound is not always enough here). */
    for (; i + 16 <= n; i += 16) {
        int32_t blk = 0;
        for (int j = 0; j < 16; j++)
            blk += (int32_t)w[i + j] * (int16_t)(x[i + j] + o);
        acc += blk;
    }
    for (; i < n; i++)
        acc += w[i] * (x[i] + off);
    return acc;
}

/* Elements of one filter's patch, rounded up to a multiple of 16. */
static inline int32_t tml_conv_patch_len(const tml_shape4 *filt)
{
    return (filt->h * filt->w * filt->c + 15) & ~15;
}

/* sum w[i] * x[i] for n a multiple of 16: the masked bound tells the
 * compiler so, which lets it keep the sum in SIMD registers throughout. */
static inline int32_t tml_dot_i8_i16(const int8_t *w, const int16_t *x,
                                     int32_t n)
{
    int32_t acc = 0;
    const int32_t n16 = n & ~15;
    for (int32_t i = 0; i < n16; i++)
        acc += (int32_t)w[i] * x[i];
    return acc;
}

/* The same for any n. */
static inline int32_t tml_dot_i8_i16_tail(const int8_t *w, const int16_t *x,
                                          int32_t n)
{
    int32_t acc = tml_dot_i8_i16(w, x, n);
    for (int32_t i = n & ~15; i < n; i++)
        acc += (int32_t)w[i] * x[i];
    return acc;
}

/* For each of `count` (1..4) rows w + j * stride:
 * acc[j] += x[0]*w[0] + x[1]*w[1] + ... in this order (TFLite's), the rows
 * sharing the loads of x. */
static inline void tml_dot4_f32(float acc[4], int32_t count, const float *w,
                                int32_t stride, const float *x, int32_t n)
{
    const float *w1 = w + stride, *w2 = w1 + stride, *w3 = w2 + stride;
    float a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    if (count == 4) {
        for (int32_t i = 0; i < n; i++) {
            const float xv = x[i];
            a0 += xv * w[i];
            a1 += xv * w1[i];
            a2 += xv * w2[i];
            a3 += xv * w3[i];
        }
    } else {
        for (int32_t i = 0; i < n; i++) {
            const float xv = x[i];
            a0 += xv * w[i];
            if (count > 1)
                a1 += xv * w1[i];
            if (count > 2)
                a2 += xv * w2[i];
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* acc + w[0]*x[0] + w[1]*x[1] + ... in this order (TFLite's). */
static inline float tml_dot_f32(float acc, const float *w, const float *x,
                                int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        acc += x[i] * w[i];
    return acc;
}

#endif
