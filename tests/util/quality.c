/* Quantized-vs-float quality measures shared by the converter tests. */
#include "quality.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "convert/export/ir_export.h"

int tml_argmax(const float *v, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++) {
        if (v[i] > v[best])
            best = i;
    }
    return (int)best;
}

void tml_quality_add(tml_quality *s, const float *ref, const float *q, size_t n)
{
    s->agree += tml_argmax(ref, n) == tml_argmax(q, n);
    s->total++;
    for (size_t i = 0; i < n; i++) {
        s->sig += (double)ref[i] * ref[i];
        s->noise += (double)(q[i] - ref[i]) * (q[i] - ref[i]);
    }
}

double tml_quality_sqnr(const tml_quality *s)
{
    return s->noise > 0 ? 10.0 * log10(s->sig / s->noise) : INFINITY;
}

size_t tml_quality_floor_bytes(const tml_ir_graph *g)
{
    size_t n = 0;
    for (int32_t t = 0; t < g->ntensors; t++) {
        n += g->tensors[t].data ? g->tensors[t].bytes : 0;
        n += 12u * (size_t)g->tensors[t].quant.count;
    }
    return n;
}

void tml_quality_open(const tml_ir_graph *g, tml_host_interp *h, size_t *size)
{
    uint8_t *bytes = NULL;
    char err[512];
    if (tml_ir_export_tflite(g, &bytes, size, err, sizeof err) != 0)
        fail_msg("export: %s", err);
    if (tml_host_open_bytes(h, bytes, *size, "converted", err, sizeof err) !=
        TML_HOST_OK)
        fail_msg("open: %s", err);
    free(bytes);
}

void tml_quality_run(tml_host_interp *h, const float *x, float *y, size_t ny)
{
    tml_tensor_info in, out;
    assert_int_equal(tml_input_details(&h->it, 0, &in), TML_OK);
    size_t nx = in.bytes / tml_dtype_size(in.dtype);
    void *dst = tml_input_data(&h->it, 0);
    if (in.dtype == TML_INT8) {
        int8_t *q = dst;
        for (size_t i = 0; i < nx; i++) {
            float r = roundf(x[i] / in.scale) + (float)in.zero_point;
            q[i] = (int8_t)(r < -128.0f ? -128 : r > 127.0f ? 127 : (int)r);
        }
    } else {
        memcpy(dst, x, nx * sizeof(float));
    }
    if (tml_invoke(&h->it) != TML_OK)
        fail_msg("invoke: %s", tml_error(&h->it));
    assert_int_equal(tml_output_details(&h->it, 0, &out), TML_OK);
    assert_int_equal(out.bytes / tml_dtype_size(out.dtype), ny);
    const void *o = tml_output_data(&h->it, 0);
    for (size_t i = 0; i < ny; i++)
        y[i] = out.dtype == TML_INT8
                   ? ((float)((const int8_t *)o)[i] - (float)out.zero_point) *
                         out.scale
                   : ((const float *)o)[i];
}
