/* Quantized-vs-float quality measures shared by the converter tests. */
#include "quality.h"

#include <math.h>

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
