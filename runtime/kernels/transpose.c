/*
 * TRANSPOSE (TFLite Micro's transpose.cc): output axis d is input axis
 * perm[d]; perm is a constant int32 vector, a permutation of 0..rank-1.
 * Up to 6 dimensions; float32, int8, int16, int32 (a pure copy, so any
 * element size works).
 */
#include <string.h>

#include "kernel.h"
#include "movement.h"

void tml_transpose(int32_t rank, const int32_t *in_dims, const int32_t *perm,
                   size_t elem_size, const void *in, void *out)
{
    int64_t in_stride[TML_MAX_DIMS];
    int64_t step[TML_MAX_DIMS];     /* input stride of each output axis */
    int32_t out_dims[TML_MAX_DIMS];
    int32_t idx[TML_MAX_DIMS] = { 0 };
    int64_t total = 1;
    int64_t s = 1;
    for (int d = rank - 1; d >= 0; d--) {
        in_stride[d] = s;
        s *= in_dims[d];
    }
    for (int d = 0; d < rank; d++) {
        out_dims[d] = in_dims[perm[d]];
        step[d] = in_stride[perm[d]];
        total *= out_dims[d];
    }
    const uint8_t *src = in;
    uint8_t *dst = out;
    int64_t at = 0;   /* input element of the current output index */
    for (int64_t o = 0; o < total; o++) {
        memcpy(dst + (size_t)o * elem_size, src + (size_t)at * elem_size,
               elem_size);
        /* Odometer increment over the output index, last axis fastest. */
        for (int d = rank - 1; d >= 0; d--) {
            if (++idx[d] < out_dims[d]) {
                at += step[d];
                break;
            }
            at -= step[d] * (out_dims[d] - 1);
            idx[d] = 0;
        }
    }
}

typedef struct transpose_op {
    int32_t perm[TML_MAX_DIMS];
} transpose_op;

static tml_status transpose_prepare(tml_interpreter *it, tml_node *n)
{
    tml_tensor *in = tml_node_input(it, n, 0);
    tml_tensor *perm = tml_node_input(it, n, 1);
    tml_tensor *out = tml_node_output(it, n, 0);
    if (TML_VALIDATE && (in == NULL || perm == NULL || out == NULL ||
                         n->ninputs != 2 || n->noutputs != 1))
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
            "expected 2 inputs and 1 output, got %d and %d",
            (int)n->ninputs, (int)n->noutputs);
    if (TML_VALIDATE && in->type != TML_FLOAT32 && in->type != TML_INT8 &&
        in->type != TML_INT16 && in->type != TML_INT32)
        return tml_dtype_error(it, n, "input 0", in,
                               "float32, int8, int16 or int32");
    if (TML_VALIDATE && out->type != in->type)
        return tml_tensor_error(it, n, TML_ERROR_MODEL, "output 0", out,
                                "expected %s as the input, got %s",
                                tml_dtype_name((tml_dtype)in->type),
                                tml_dtype_name((tml_dtype)out->type));
    if (TML_VALIDATE && !(perm->flags & TML_TENSOR_CONST))
        return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "input 1 (perm)",
                                perm,
                                "expected a constant tensor, got one "
                                "computed at run time");
    int rank = in->ndims;
    if (TML_VALIDATE &&
        (perm->type != TML_INT32 || perm->ndims != 1 || perm->dims[0] != rank))
        return tml_tensor_error(it, n, TML_ERROR_MODEL, "input 1 (perm)", perm,
                                "expected int32 [%d]", rank);
    if (TML_VALIDATE && out->ndims != rank)
        return tml_shape_error(it, n, "output 0", out, "rank", rank,
                               out->ndims);
    transpose_op *op = tml_alloc_persistent(it, sizeof *op);
    if (op == NULL)
        return TML_ERROR_ARENA;
    const int32_t *p = perm->data;
    int seen[TML_MAX_DIMS] = { 0 };
    for (int d = 0; d < rank; d++) {
        if (TML_VALIDATE && (p[d] < 0 || p[d] >= rank || seen[p[d]]))
            return tml_tensor_error(it, n, TML_ERROR_MODEL, "input 1 (perm)",
                                    perm,
                                    "expected a permutation of 0..%d, got %d "
                                    "at %d", rank - 1, (int)p[d], d);
        seen[p[d]] = 1;
        if (TML_VALIDATE && out->dims[d] != in->dims[p[d]])
            return tml_tensor_error(it, n, TML_ERROR_MODEL, "output 0", out,
                                    "axis %d: expected %d, got %d", d,
                                    (int)in->dims[p[d]], (int)out->dims[d]);
        op->perm[d] = p[d];
    }
    n->user = op;
    return TML_OK;
}

static tml_status transpose_eval(tml_interpreter *it, tml_node *n)
{
    const tml_tensor *in = tml_node_input(it, n, 0);
    const transpose_op *op = n->user;
    tml_transpose(in->ndims, in->dims, op->perm,
                  tml_dtype_size((tml_dtype)in->type), in->data,
                  tml_node_output(it, n, 0)->data);
    return TML_OK;
}

/* Versions 1-6: dtypes (int8, bool, int16) and rank (5D, 6D). */
const tml_kernel tml_kernel_transpose = { 39, 1, 6, transpose_prepare,
                                          transpose_eval };
