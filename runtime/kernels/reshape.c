/*
 * RESHAPE and SQUEEZE: views.  The data of the output is the data of the
 * input, byte for byte, with another shape.  The memory planner aliases the
 * output onto the input, so eval usually has nothing to do; when it did
 * not alias (e.g. the input is a constant or a subgraph input) eval copies.
 *
 * As TFLite Micro, the output shape is the one stored in the model; prepare
 * only checks that it holds as many elements as the input.
 */
#include <string.h>

#include "kernel.h"
#include "schema.h"

/* Pure math layer: the copy a view does when it was not aliased. */
static void view_copy(void *out, const void *in, size_t bytes)
{
    if (out == in || bytes == 0)
        return;
    /* memmove: an aliasing planner may hand out overlapping buffers. */
    memmove(out, in, bytes);
}

static tml_status check_view(tml_interpreter *it, tml_node *n,
                             const tml_tensor *in, const tml_tensor *out)
{
    if (in->type != out->type)
        return tml_tensor_error(it, n, TML_ERROR_MODEL, "output 0", out,
                                "expected %s (the input's), got %s",
                                tml_dtype_name((tml_dtype)in->type),
                                tml_dtype_name((tml_dtype)out->type));
    const int32_t want = tml_num_elements(in), got = tml_num_elements(out);
    return want == got ? TML_OK
                       : tml_shape_error(it, n, "output 0", out,
                                         "elements (the input's)", want, got);
}

static tml_status reshape_prepare(tml_interpreter *it, tml_node *n)
{
    /* A view has nothing to prepare: everything here checks the model. */
    if (!TML_VALIDATE)
        return TML_OK;
    tml_tensor *in = tml_node_input(it, n, 0);
    tml_tensor *out = tml_node_output(it, n, 0);
    if (in == NULL || out == NULL || n->ninputs > 2 || n->noutputs != 1)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "expected %d..%d inputs and 1 output, got "
                                "%d and %d", 1, 2, (int)n->ninputs,
                                (int)n->noutputs);
    /* The optional shape input must be known before planning: a shape
     * computed at run time would change the planned sizes. */
    tml_tensor *shape = tml_node_input(it, n, 1);
    if (shape != NULL && !(shape->flags & TML_TENSOR_CONST))
        return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "input 1",
                                shape, "expected a constant shape, got a "
                                "computed one");
    return check_view(it, n, in, out);
}

static tml_status view_eval(tml_interpreter *it, tml_node *n)
{
    const tml_tensor *in = tml_node_input(it, n, 0);
    tml_tensor *out = tml_node_output(it, n, 0);
    view_copy(out->data, in->data, out->bytes);
    return TML_OK;
}

/* TFLite's squeeze_dims: listed axes (negative counts from the end), each
 * of size 1; none listed means every axis of size 1. */
static tml_status squeeze_prepare(tml_interpreter *it, tml_node *n)
{
    /* A view has nothing to prepare: everything here checks the model. */
    if (!TML_VALIDATE)
        return TML_OK;
    tml_tensor *in = tml_node_input(it, n, 0);
    tml_tensor *out = tml_node_output(it, n, 0);
    if (in == NULL || out == NULL || n->ninputs != 1 || n->noutputs != 1)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
            "expected 1 input and 1 output, got %d and %d",
            (int)n->ninputs, (int)n->noutputs);
    const int32_t *axes = NULL;
    int32_t naxes = tml_opt_int_vector(it, n, TML_F_SQUEEZE_DIMS, &axes);
    if (naxes < 0)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "squeeze_dims: malformed vector");
    int squeeze[TML_MAX_DIMS] = { 0 };
    int rank = in->ndims;
    for (int32_t i = 0; i < naxes; i++) {
        int32_t a = axes[i] < 0 ? axes[i] + rank : axes[i];
        if (a < 0 || a >= rank || in->dims[a] != 1)
            return tml_kernel_error(it, n, TML_ERROR_MODEL,
                "squeeze_dims[%d] = %d: expected an axis of size 1 of the "
                "rank-%d input", (int)i, (int)axes[i], rank);
        squeeze[a] = 1;
    }
    int kept = 0;
    for (int d = 0; d < rank; d++) {
        if (naxes == 0 && in->dims[d] == 1)
            squeeze[d] = 1;
        if (squeeze[d])
            continue;
        if (kept >= out->ndims || out->dims[kept] != in->dims[d])
            return tml_tensor_error(it, n, TML_ERROR_MODEL, "output 0", out,
                                    "does not match the squeezed input shape "
                                    "at input axis %d", d);
        kept++;
    }
    if (kept != out->ndims)
        return tml_shape_error(it, n, "output 0", out, "rank", kept,
                               out->ndims);
    return check_view(it, n, in, out);
}

/* Versions: later versions add dtypes (int8, int16, bool); the view is
 * dtype-agnostic.  The VIEW property is in ops.def (TML_KERNEL_VIEW). */
const tml_kernel tml_kernel_reshape = { 22, 1, 3, reshape_prepare,
                                       view_eval };
const tml_kernel tml_kernel_squeeze = { 43, 1, 2, squeeze_prepare,
                                       view_eval };
