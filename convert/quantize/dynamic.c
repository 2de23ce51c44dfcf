/*
 * Dynamic-range quantization (TF's Optimize.DEFAULT without a dataset):
 * the weights of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED become
 * symmetric int8 (zero point 0), activations and biases stay float32.
 * The runtime's hybrid kernels quantize each input row on the fly.
 *
 * As TF's converter writes it (kws_ref_model_float32.tflite, TF's
 * dynamic-range conversion of the MLPerf KWS model, has exactly this):
 *  - CONV_2D and FULLY_CONNECTED weights per tensor (one scale): a
 *    per-channel scale and zero point would cost 12 bytes per output
 *    channel (VWW: 3.18x smaller than float instead of 3.40x) and the
 *    hybrid conv is no more accurate for it (its per-channel path
 *    quantizes the input asymmetrically);
 *  - DEPTHWISE_CONV_2D per channel (axis 3 of [1, H, W, C*M]): TFLite's
 *    hybrid depthwise kernel is per-channel only, and one scale for all
 *    channels loses too much (VWW output SQNR 38 dB instead of 51);
 *  - weights with fewer than TML_DYNAMIC_MIN_ELEMENTS (1024) elements stay
 *    float (TF's weights_min_num_elements): they save little and their
 *    ops then run the exact float kernels.
 */
#include <stdlib.h>

#include "convert/quantize/qutil.h"
#include "convert/quantize/quantize.h"

static int weight_axis(int32_t builtin, int *per_channel)
{
    *per_channel = builtin == TML_B_DEPTHWISE_CONV_2D;
    return builtin == TML_B_DEPTHWISE_CONV_2D ? 3 : 0;
}

static int quantize_weight(tml_ir_graph *g, const tml_ir_op *op, char *err,
                           size_t n)
{
    int32_t t = op->inputs[1];
    tml_ir_tensor *w = &g->tensors[t];
    if (w->data == NULL || w->dtype != TML_FLOAT32 ||
        tml_ir_elements(w) < TML_DYNAMIC_MIN_ELEMENTS)
        return 0;   /* computed, already quantized, or too small */
    int per_channel;
    int32_t axis = weight_axis(op->builtin, &per_channel);
    if (w->ndims <= axis)
        return tml_q_fail(err, n, "%s: weights '%s' have rank %d, expected "
                          "an axis %d", op->origin, w->name, (int)w->ndims,
                          (int)axis);
    int32_t channels = per_channel ? w->dims[axis] : 1;
    size_t count = tml_ir_elements(w);
    int8_t *q = malloc(count);
    float *scales = malloc(sizeof(float) * (size_t)(channels ? channels : 1));
    if (!q || !scales) {
        free(q);
        free(scales);
        return tml_q_fail(err, n, "out of memory quantizing '%s'", w->name);
    }
    tml_q_symmetric(w->data, w->dims, w->ndims, axis, per_channel, NULL, q,
                    scales);
    int rc = tml_ir_set_data(g, t, TML_INT8, q);
    if (rc == 0)
        rc = tml_ir_set_quant(g, t, channels, scales, NULL,
                              per_channel ? axis : 0);
    free(q);
    free(scales);
    return rc < 0 ? tml_q_ir_error(g, err, n) : 0;
}

int tml_quantize_dynamic(tml_ir_graph *g, char *err, size_t n)
{
    for (int32_t i = 0; i < g->nops; i++) {
        const tml_ir_op *op = &g->ops[i];
        int hybrid = op->builtin == TML_B_CONV_2D ||
                     op->builtin == TML_B_DEPTHWISE_CONV_2D ||
                     op->builtin == TML_B_FULLY_CONNECTED;
        if (!hybrid || op->ninputs < 2 || op->inputs[1] < 0)
            continue;
        if (g->tensors[op->inputs[0]].dtype != TML_FLOAT32)
            continue;
        if (quantize_weight(g, op, err, n) < 0)
            return -1;
    }
    return 0;
}
