/*
 * CONCATENATION (TFLite Micro's concatenation.cc): inputs joined along one
 * axis (negative counts from the end).  As TFLM, int8 inputs must share the
 * output's scale and zero point (no requantization: the op is a copy), no
 * fused activation, at most 10 inputs.
 */
#include <string.h>

#include "kernel.h"
#include "movement.h"
#include "schema.h"

enum { MAX_INPUTS = 10 };   /* TFLM kMaxInputNum */

void tml_concat(int32_t ninputs, const void *const *inputs,
                const size_t *chunk, int64_t outer, void *out)
{
    uint8_t *dst = out;
    for (int64_t o = 0; o < outer; o++) {
        for (int32_t i = 0; i < ninputs; i++) {
            const uint8_t *src = inputs[i];
            memcpy(dst, src + (size_t)o * chunk[i], chunk[i]);
            dst += chunk[i];
        }
    }
}

typedef struct concat_op {
    int64_t outer;
    size_t chunk[MAX_INPUTS];
} concat_op;

static int supported_type(int t)
{
    return t == TML_FLOAT32 || t == TML_INT8 || t == TML_INT16 ||
           t == TML_INT32 || t == TML_INT64 || t == TML_BOOL;
}

static tml_status check_input(tml_interpreter *it, tml_node *n, int i,
                              const tml_tensor *in, const tml_tensor *out,
                              int axis)
{
    /* Only checks of the model. */
    if (!TML_VALIDATE)
        return TML_OK;
    if (in->type != out->type)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
            "input %d tensor %d '%s': expected %s as the output, got %s", i,
            (int)tml_tensor_index(it, in), tml_tensor_name(it, in),
            tml_dtype_name((tml_dtype)out->type),
            tml_dtype_name((tml_dtype)in->type));
    if (in->ndims != out->ndims)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
            "input %d tensor %d '%s': expected rank %d, got %d", i,
            (int)tml_tensor_index(it, in), tml_tensor_name(it, in),
            (int)out->ndims, (int)in->ndims);
    for (int d = 0; d < out->ndims; d++) {
        if (d != axis && in->dims[d] != out->dims[d])
            return tml_kernel_error(it, n, TML_ERROR_MODEL,
                "input %d tensor %d '%s': axis %d: expected %d, got %d", i,
                (int)tml_tensor_index(it, in), tml_tensor_name(it, in), d,
                (int)out->dims[d], (int)in->dims[d]);
    }
    /* TFLM: "no re-scaling needed for Int8 quantized kernel". */
    if (in->type == TML_INT8 &&
        (in->scale != out->scale || in->zero_point != out->zero_point))
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
            "input %d tensor %d '%s': int8 inputs must have the output's "
            "scale and zero point (no requantization)", i,
            (int)tml_tensor_index(it, in), tml_tensor_name(it, in));
    if (in->type == TML_INT16 && in->zero_point != 0)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
            "input %d tensor %d '%s': int16 zero point must be 0, got %d", i,
            (int)tml_tensor_index(it, in), tml_tensor_name(it, in),
            (int)in->zero_point);
    return TML_OK;
}

static tml_status concat_prepare(tml_interpreter *it, tml_node *n)
{
    tml_tensor *out = tml_node_output(it, n, 0);
    if (TML_VALIDATE && (out == NULL || n->noutputs != 1 || n->ninputs < 1 ||
                         n->ninputs > MAX_INPUTS))
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
            "expected 1 to %d inputs and 1 output, got %d and %d",
            MAX_INPUTS, (int)n->ninputs, (int)n->noutputs);
    if (TML_VALIDATE && !supported_type(out->type))
        return tml_dtype_error(it, n, "output 0", out,
                               "float32, int8, int16, int32, int64 or bool");
    int act = TML_VALIDATE ? tml_opt_int(it, n, TML_F_CONCAT_ACTIVATION, 1,
                                         TML_ACT_NONE)
                           : TML_ACT_NONE;
    if (TML_VALIDATE && act != TML_ACT_NONE)
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
            "fused activation %d: expected none", act);
    int rank = out->ndims;
    int32_t axis = tml_opt_int(it, n, TML_F_CONCAT_AXIS, 4, 0);
    int32_t a = axis < 0 ? axis + rank : axis;
    if (TML_VALIDATE && (a < 0 || a >= rank))
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
            "axis %d: expected -%d..%d", (int)axis, rank, rank - 1);
    concat_op *op = tml_alloc_persistent(it, sizeof *op);
    if (op == NULL)
        return TML_ERROR_ARENA;
    size_t elem = tml_dtype_size((tml_dtype)out->type);
    op->outer = 1;
    for (int d = 0; d < a; d++)
        op->outer *= out->dims[d];
    int64_t total = 0;
    for (int i = 0; i < n->ninputs; i++) {
        tml_tensor *in = tml_node_input(it, n, i);
        if (TML_VALIDATE && in == NULL)
            return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                    "input %d is absent", i);
        tml_status s = check_input(it, n, i, in, out, a);
        if (s != TML_OK)
            return s;
        size_t chunk = elem;
        for (int d = a; d < rank; d++)
            chunk *= (size_t)in->dims[d];
        op->chunk[i] = chunk;
        total += in->dims[a];
    }
    if (TML_VALIDATE && total != out->dims[a])
        return tml_tensor_error(it, n, TML_ERROR_MODEL, "output 0", out,
                                "axis %d: expected %ld (the inputs' sum), got "
                                "%d", (int)a, (long)total, (int)out->dims[a]);
    n->user = op;
    return TML_OK;
}

static tml_status concat_eval(tml_interpreter *it, tml_node *n)
{
    const concat_op *op = n->user;
    const void *inputs[MAX_INPUTS];
    for (int i = 0; i < n->ninputs; i++)
        inputs[i] = tml_node_input(it, n, i)->data;
    tml_concat(n->ninputs, inputs, op->chunk, op->outer,
               tml_node_output(it, n, 0)->data);
    return TML_OK;
}

/* Versions 1-4: float, int8/uint8, int16, uint32 are dtypes; checked here. */
const tml_kernel tml_kernel_concatenation = { 2, 1, 4, concat_prepare,
                                              concat_eval };
