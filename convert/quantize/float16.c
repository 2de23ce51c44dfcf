/*
 * float16 quantization, as TF's converter with supported_types =
 * [tf.float16]: every float32 constant an op reads (weights, biases, other
 * float constants) is stored as float16, and a DEQUANTIZE op at the start
 * of the graph turns it back into the float32 tensor its consumers read.
 * The file holds half the weight bytes; the computation stays float32.
 */
#include <stdlib.h>
#include <string.h>

#include "convert/quantize/qutil.h"
#include "convert/quantize/quantize.h"

static int is_float_const_input(const tml_ir_graph *g, int32_t t)
{
    if (t < 0)
        return 0;
    const tml_ir_tensor *x = &g->tensors[t];
    return x->data != NULL && x->dtype == TML_FLOAT32 &&
           tml_ir_consumer_count(g, t) > 0;
}

/* Rewrites constant t into float16 data (keeping its index) and a new
 * float32 activation tensor its consumers read; returns the new tensor's
 * index or -1. */
static int32_t to_float16(tml_ir_graph *g, int32_t t)
{
    size_t count = tml_ir_elements(&g->tensors[t]);
    uint16_t *half = malloc(count ? count * sizeof *half : 1);
    if (!half)
        return tml_ir_fail(g, "out of memory converting '%s' to float16",
                           g->tensors[t].name);
    const float *src = g->tensors[t].data;
    for (size_t i = 0; i < count; i++)
        half[i] = tml_q_f32_to_f16(src[i]);

    /* The float32 tensor takes the constant's name (what the model calls
     * that weight); the float16 constant is a new, suffixed name. */
    char *name = malloc(strlen(g->tensors[t].name) + 6);
    if (!name) {
        free(half);
        return tml_ir_fail(g, "out of memory");
    }
    strcpy(name, g->tensors[t].name);
    strcat(name, "_fp16");
    int32_t dims[TML_MAX_DIMS];
    int32_t ndims = g->tensors[t].ndims;
    memcpy(dims, g->tensors[t].dims, sizeof dims);
    int32_t f32 = tml_ir_add_tensor(g, g->tensors[t].name, TML_FLOAT32, ndims,
                                    dims);
    int rc = f32 < 0 ? -1 : tml_ir_set_data(g, t, TML_FLOAT16, half);
    free(half);
    if (rc == 0) {
        free(g->tensors[t].name);
        g->tensors[t].name = name;
        name = NULL;
        tml_ir_replace_uses(g, t, f32);
    }
    free(name);
    return rc < 0 ? -1 : f32;
}

int tml_quantize_float16(tml_ir_graph *g, char *err, size_t n)
{
    int32_t placed = 0;   /* DEQUANTIZE ops go first, in tensor order */
    int32_t ntensors = g->ntensors;
    for (int32_t t = 0; t < ntensors; t++) {
        if (!is_float_const_input(g, t))
            continue;
        int32_t f32 = to_float16(g, t);
        if (f32 < 0)
            return tml_q_ir_error(g, err, n);
        if (tml_ir_insert_op(g, placed, TML_B_DEQUANTIZE, &t, 1, &f32, 1, NULL,
                             g->tensors[f32].name) < 0)
            return tml_q_ir_error(g, err, n);
        placed++;
    }
    return 0;
}
