/*
 * Math layers of the data-movement kernels (pad.c, concatenation.c,
 * mean.c, strided_slice.c, transpose.c): pure functions on shapes and
 * pointers, no interpreter, so tests can drive them directly.
 */
#ifndef TML_KERNELS_MOVEMENT_H
#define TML_KERNELS_MOVEMENT_H

#include <stddef.h>
#include <stdint.h>

#include "tinyml/tinyml.h"

/* ---- PAD ---- */
typedef struct tml_pad_params {
    int32_t rank;
    int32_t in_dims[TML_MAX_DIMS];
    int32_t before[TML_MAX_DIMS];
    int32_t after[TML_MAX_DIMS];
} tml_pad_params;

/* Elements of `elem_size` bytes; cells outside the input get *pad_value. */
void tml_pad(const tml_pad_params *p, size_t elem_size, const void *in,
             const void *pad_value, void *out);

/* ---- CONCATENATION ---- */
/* outer: product of the dims before the axis; each input i contributes
 * chunk[i] contiguous bytes (its dims from the axis on, times elem size)
 * per outer step. */
void tml_concat(int32_t ninputs, const void *const *inputs,
                const size_t *chunk, int64_t outer, void *out);

/* ---- TRANSPOSE ---- */
/* out[o] = in[i] where axis d of the output is axis perm[d] of the input. */
void tml_transpose(int32_t rank, const int32_t *in_dims, const int32_t *perm,
                   size_t elem_size, const void *in, void *out);

/* ---- MEAN ---- */
/* The reduction as three nested extents: the input viewed as
 * [outer, reduced, inner] is not general enough (axes may be apart), so
 * the shape is kept whole and reduce[d] marks reduced axes. */
typedef struct tml_mean_params {
    int32_t rank;
    int32_t dims[TML_MAX_DIMS];
    uint8_t reduce[TML_MAX_DIMS];
    int32_t count;            /* elements summed into each output */
    int32_t out_count;        /* output elements */
    /* int8 only (TFLite QuantizedMeanOrSum with 1/count folded in) */
    int32_t input_zp, output_zp;
    int32_t multiplier;
    int shift;
} tml_mean_params;

/* Output in the input's row-major order with reduced axes dropped. */
void tml_mean_f32(const tml_mean_params *p, const float *in, float *out);
/* acc: out_count int32 of scratch. */
void tml_mean_int8(const tml_mean_params *p, const int8_t *in, int8_t *out,
                   int32_t *acc);
/* Folds 1/count into the rescale as TFLite does (prepare-time). */
void tml_mean_int8_rescale(int32_t multiplier, int shift, int32_t count,
                           int32_t *out_multiplier, int *out_shift);

/* ---- STRIDED_SLICE ---- */
typedef struct tml_slice_params {
    int32_t rank;                  /* of the input */
    int32_t dims[TML_MAX_DIMS];
    int32_t start[TML_MAX_DIMS];   /* resolved, per input axis */
    int32_t stop[TML_MAX_DIMS];
    int32_t stride[TML_MAX_DIMS];
} tml_slice_params;

/* Extent of one resolved axis: ceil((stop - start) / stride), >= 0. */
int32_t tml_slice_extent(int32_t start, int32_t stop, int32_t stride);
void tml_strided_slice(const tml_slice_params *p, size_t elem_size,
                       const void *in, void *out);

#endif
