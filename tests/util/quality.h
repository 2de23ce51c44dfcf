/*
 * Quality of a quantized model against its float reference, as the
 * converter issue measures it: top-1 agreement and output SQNR summed over
 * samples, and the size floor of an int8 file.
 */
#ifndef TML_TEST_QUALITY_H
#define TML_TEST_QUALITY_H

#include <stddef.h>

#include "convert/ir/ir.h"
#include "tools/lib/host_interp.h"

typedef struct tml_quality {
    int agree, total;
    double sig, noise;   /* sum of ref^2, sum of (q - ref)^2 */
} tml_quality;

/* Index of the largest value (the first one on ties). */
int tml_argmax(const float *v, size_t n);

/* Adds one sample: top-1 of q against ref, and its signal and noise. */
void tml_quality_add(tml_quality *s, const float *ref, const float *q, size_t n);

/* 10 log10(signal / noise) in dB; INFINITY when q equals ref. */
double tml_quality_sqnr(const tml_quality *s);

/* The floor: constant data bytes + 12 B (float scale + int64 zero
 * point) per channel of every quantized tensor. */
size_t tml_quality_floor_bytes(const tml_ir_graph *g);

/* Exports g as TFLite and opens it in h; *size: the file's bytes.  A
 * failure fails the running cmocka test. */
void tml_quality_open(const tml_ir_graph *g, tml_host_interp *h, size_t *size);

/* One float sample through h (quantized for an int8 input); writes the
 * first output, dequantized, to y[0..ny). */
void tml_quality_run(tml_host_interp *h, const float *x, float *y, size_t ny);

#endif
