/*
 * PAD (TFLite Micro's pad.cc / reference_ops::Pad): paddings is a constant
 * int32 [rank, 2] tensor of (before, after) counts per axis; padded cells
 * hold 0, which for int8 is the output zero point (TFLite int8 spec: the
 * real value 0 is exactly representable).  Types: float32, int8, int16,
 * int32.  PADV2 (explicit pad value) is not registered.
 */
#include <string.h>

#include "kernel.h"
#include "movement.h"

/* Fills `count` elements of `elem_size` bytes with one value. */
static uint8_t *fill(uint8_t *dst, const void *value, size_t elem_size,
                     int64_t count)
{
    for (int64_t i = 0; i < count; i++) {
        memcpy(dst, value, elem_size);
        dst += elem_size;
    }
    return dst;
}

/* Writes the padded block of axis `axis` and below; returns the end of what
 * it wrote. `in` advances through the input in row-major order, because the
 * input elements appear in the output in the same order. */
static uint8_t *pad_axis(const tml_pad_params *p, int axis, size_t elem_size,
                         const uint8_t **in, const void *pad_value,
                         uint8_t *out)
{
    /* Elements in one output block below this axis. */
    int64_t inner = 1;
    for (int d = axis + 1; d < p->rank; d++)
        inner *= (int64_t)p->before[d] + p->in_dims[d] + p->after[d];
    out = fill(out, pad_value, elem_size, inner * p->before[axis]);
    if (axis == p->rank - 1) {
        size_t bytes = (size_t)p->in_dims[axis] * elem_size;
        memcpy(out, *in, bytes);
        *in += bytes;
        out += bytes;
    } else {
        for (int32_t i = 0; i < p->in_dims[axis]; i++)
            out = pad_axis(p, axis + 1, elem_size, in, pad_value, out);
    }
    return fill(out, pad_value, elem_size, inner * p->after[axis]);
}

void tml_pad(const tml_pad_params *p, size_t elem_size, const void *in,
             const void *pad_value, void *out)
{
    const uint8_t *src = in;
    if (p->rank == 0) {
        memcpy(out, in, elem_size);
        return;
    }
    pad_axis(p, 0, elem_size, &src, pad_value, out);
}

typedef struct pad_op {
    tml_pad_params params;
    uint8_t value[8];   /* the pad value in the tensor's dtype */
} pad_op;

static tml_status pad_prepare(tml_interpreter *it, tml_node *n)
{
    tml_tensor *in = tml_node_input(it, n, 0);
    tml_tensor *pads = tml_node_input(it, n, 1);
    tml_tensor *out = tml_node_output(it, n, 0);
    if (TML_VALIDATE && (in == NULL || pads == NULL || out == NULL ||
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
    if (TML_VALIDATE && !(pads->flags & TML_TENSOR_CONST))
        return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED,
                                "input 1 (paddings)", pads,
                                "expected a constant tensor, got one "
                                "computed at run time");
    int rank = in->ndims;
    if (TML_VALIDATE && (pads->type != TML_INT32 || pads->ndims != 2 ||
                         pads->dims[0] != rank || pads->dims[1] != 2))
        return tml_tensor_error(it, n, TML_ERROR_MODEL, "input 1 (paddings)",
                                pads, "expected int32 [%d, 2]", rank);
    if (TML_VALIDATE && out->ndims != rank)
        return tml_shape_error(it, n, "output 0", out, "rank", rank,
                               out->ndims);
    pad_op *op = tml_alloc_persistent(it, sizeof *op);
    if (op == NULL)
        return TML_ERROR_ARENA;
    const int32_t *pd = pads->data;
    op->params.rank = rank;
    for (int d = 0; d < rank; d++) {
        if (TML_VALIDATE && (pd[2 * d] < 0 || pd[2 * d + 1] < 0))
            return tml_tensor_error(it, n, TML_ERROR_MODEL,
                                    "input 1 (paddings)", pads,
                                    "axis %d: expected non-negative paddings, "
                                    "got %d, %d", d, (int)pd[2 * d],
                                    (int)pd[2 * d + 1]);
        int64_t want = (int64_t)in->dims[d] + pd[2 * d] + pd[2 * d + 1];
        if (TML_VALIDATE && out->dims[d] != want)
            return tml_tensor_error(it, n, TML_ERROR_MODEL, "output 0", out,
                                    "axis %d: expected %ld, got %d", d,
                                    (long)want, (int)out->dims[d]);
        op->params.in_dims[d] = in->dims[d];
        op->params.before[d] = pd[2 * d];
        op->params.after[d] = pd[2 * d + 1];
    }
    /* The pad value is 0 in real terms; for int8 that is the zero point
     * (TFLM PadPrepare), for int16 the zero point is 0 by the spec. */
    if (in->type == TML_INT8) {
        int8_t z = (int8_t)out->zero_point;
        if (TML_VALIDATE && (out->zero_point < -128 || out->zero_point > 127))
            return tml_tensor_error(it, n, TML_ERROR_MODEL, "output 0", out,
                                    "zero point %d is outside int8",
                                    (int)out->zero_point);
        memcpy(op->value, &z, 1);
    } else if (in->type == TML_INT16) {
        int16_t z = (int16_t)out->zero_point;
        memcpy(op->value, &z, 2);
    }   /* float 0.0f and int32 0 are all-zero bytes: left as allocated */
    n->user = op;
    return TML_OK;
}

static tml_status pad_eval(tml_interpreter *it, tml_node *n)
{
    const tml_tensor *in = tml_node_input(it, n, 0);
    tml_tensor *out = tml_node_output(it, n, 0);
    const pad_op *op = n->user;
    tml_pad(&op->params, tml_dtype_size((tml_dtype)in->type), in->data,
            op->value, out->data);
    return TML_OK;
}

/* Versions 1-4: float, int8, >4D, int16. PADV2 (34 -> 60) is not run. */
const tml_kernel tml_kernel_pad = { 34, 1, 4, pad_prepare, pad_eval };
