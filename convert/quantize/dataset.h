/*
 * Representative datasets for calibration: float32 samples for each graph
 * input, loaded from
 *  - a .npy file: N x (input shape without the batch of 1), N x the full
 *    input shape, or N x the flattened input; single-input graphs;
 *  - a .npz file (numpy.savez): one such array per graph input, matched
 *    by input tensor name ("input_1.npy"), else by order;
 *  - a directory of .npy files, one sample each (the input shape, with or
 *    without the batch of 1, or flattened), taken in name order;
 *    single-input graphs.
 * Wrong shapes or dtypes are errors naming what was expected and got.
 */
#ifndef TML_DATASET_H
#define TML_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "convert/ir/ir.h"

typedef struct tml_dataset tml_dataset;

/* Loads `path` for the inputs of g.  Returns 0, or -1 with one line in
 * err (prefixed with the path). */
int tml_dataset_load(const char *path, const tml_ir_graph *g,
                     tml_dataset **out, char *err, size_t n);

/* A dataset from memory (tests, generated data): `count` samples for each
 * of the `ninputs` inputs; data[i] holds count * elements[i] floats and
 * is copied.  NULL when out of memory. */
tml_dataset *tml_dataset_from_floats(int32_t ninputs, int32_t count,
                                     const size_t *elements,
                                     const float *const *data);

void tml_dataset_free(tml_dataset *d);

int32_t tml_dataset_count(const tml_dataset *d);     /* samples */
int32_t tml_dataset_inputs(const tml_dataset *d);
size_t tml_dataset_elements(const tml_dataset *d, int32_t input);
/* Sample i of input `input`: tml_dataset_elements() floats. */
const float *tml_dataset_sample(const tml_dataset *d, int32_t input,
                                int32_t i);

#endif
