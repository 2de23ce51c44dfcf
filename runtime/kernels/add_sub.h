/*
 * ADD and SUB, int8 and float32, with NumPy-style broadcasting up to
 * TML_MAX_DIMS; bit-exact with TFLite Micro's reference kernels.
 *
 * int8 (reference_integer_ops::AddFunc / reference_ops SubElementwise):
 *   a = (x1 - zp1) << 20, b = (x2 - zp2) << 20,
 *   a' = MBQM(a, m1, s1), b' = MBQM(b, m2, s2)        (each scale / 2max)
 *   out = MBQM(a' +/- b', mo, so) + zp_out             (2max / (2^20 so))
 * clamped to the fused activation.  MBQM: tml_mul_by_qm.
 */
#ifndef TML_KERNELS_ADD_SUB_H
#define TML_KERNELS_ADD_SUB_H

#include <stddef.h>
#include <stdint.h>

#include "tinyml/tinyml.h"

/* Broadcast iteration: the output shape and each input's element strides
 * (0 along a broadcast axis), right-aligned to TML_MAX_DIMS, with adjacent
 * axes of the same broadcast pattern fused.  The last axis is innermost. */
typedef struct tml_bcast {
    int32_t ndims;                 /* 1 .. TML_MAX_DIMS after fusing */
    int32_t shape[TML_MAX_DIMS];
    int32_t stride1[TML_MAX_DIMS];
    int32_t stride2[TML_MAX_DIMS];
} tml_bcast;

/* Fills *b from the two input shapes and the output shape; returns 0, or
 * -1 when the shapes do not broadcast to the output. */
int tml_bcast_init(tml_bcast *b, const int32_t *dims1, int nd1,
                   const int32_t *dims2, int nd2, const int32_t *dimso, int ndo);

typedef struct tml_addsub_params {
    int32_t input1_offset, input2_offset, output_offset;   /* -zp1, -zp2, zpo */
    int32_t input1_multiplier, input2_multiplier, output_multiplier;
    int32_t input1_shift, input2_shift, output_shift;
    int32_t left_shift;            /* 20 for int8 */
    int32_t act_min, act_max;
    float act_min_f, act_max_f;
    int32_t is_sub;
} tml_addsub_params;

/* TFLite's CalculateOpDataAdd / CalculateOpDataSub multipliers (ADD
 * computes them in double, SUB partly in float, as TFLite does).  Returns
 * -1 when a multiplier is >= 1 (TFLite's SmallerThanOneExp check fails). */
int tml_addsub_quantize(tml_addsub_params *p, int is_sub, float scale1,
                        int32_t zp1, float scale2, int32_t zp2,
                        float scale_out, int32_t zp_out);

/* Fills lut[0..511] with the scaled inputs of every int8 value
 * (input 1 at [x + 128], input 2 at [x + 384]). */
#define TML_ADDSUB_LUT_ENTRIES 512
void tml_addsub_int8_lut(const tml_addsub_params *p, int32_t *lut);

/* Elementwise when b is NULL (all three have n elements), else broadcast.
 * lut: NULL, or filled by tml_addsub_int8_lut() (same results, fewer
 * multiplies on runs where neither input is broadcast). */
void tml_addsub_int8(const tml_addsub_params *p, const tml_bcast *b, int32_t n,
                     const int32_t *lut, const int8_t *in1, const int8_t *in2,
                     int8_t *out);
void tml_addsub_f32(const tml_addsub_params *p, const tml_bcast *b, int32_t n,
                    const float *in1, const float *in2, float *out);

/* Broadcast driver shared with MUL: calls run() for each innermost run of
 * b->shape[last] outputs; s1 / s2 are 0 (that input is broadcast along the
 * run) or 1. */
typedef void (*tml_bcast_run)(const void *ctx, int32_t n, const void *in1,
                              int32_t s1, const void *in2, int32_t s2, void *out);
void tml_bcast_walk(const tml_bcast *b, size_t elem_size, const void *ctx,
                    const void *in1, const void *in2, void *out, tml_bcast_run run);

/* prepare shared by ADD, SUB and MUL: checks two inputs of one dtype (int8
 * or float32), an output of that dtype, the options type, a supported fused
 * activation (returned), positive int8 scales, and shapes that broadcast to
 * the output; *bcast is a persistent plan, NULL for equal input shapes. */
struct tml_node;
tml_status tml_binary_prepare(tml_interpreter *it, struct tml_node *n,
                              int options_type, int activation_field,
                              int *activation, tml_bcast **bcast);

#endif
