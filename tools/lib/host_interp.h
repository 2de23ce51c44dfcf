/*
 * Host-side interpreter set-up for the CLI and tests: read a model file,
 * create and allocate an interpreter in a malloc'd arena that grows until
 * the model fits, then shrink it to exactly tml_arena_needed() bytes (and
 * allocate again there) so the figure reported is proven, and so that
 * AddressSanitizer sees any write past the planned arena.
 */
#ifndef TML_HOST_INTERP_H
#define TML_HOST_INTERP_H

#include <stddef.h>
#include <stdint.h>

#include "tinyml/tinyml.h"

#define TML_HOST_ARENA_START ((size_t)1 << 20)   /* 1 MB */
#define TML_HOST_ARENA_MAX ((size_t)1 << 30)     /* 1 GB */

typedef struct tml_host_interp {
    void *model;             /* the file, 16-byte aligned (free()) */
    size_t model_size;
    void *arena;             /* exactly arena_size bytes (free()) */
    size_t arena_size;
    tml_interpreter it;
} tml_host_interp;

/* What failed, so the CLI can choose its exit code. */
typedef enum tml_host_status {
    TML_HOST_OK = 0,
    TML_HOST_RUN,        /* the model could not be run (arena > 1 GB, or the
                            runtime contradicts its own arena figure) */
    TML_HOST_INPUT       /* the file is unreadable, malformed or unsupported */
} tml_host_status;

/* Loads `path` and makes h->it ready for tml_set_input/tml_invoke.  On
 * failure writes one line to err, prefixed with the path, and leaves h
 * empty (tml_host_close is still safe). */
tml_host_status tml_host_open(tml_host_interp *h, const char *path, char *err,
                              size_t err_size);

/* Same from bytes already in memory (copied; `name` prefixes messages). */
tml_host_status tml_host_open_bytes(tml_host_interp *h, const void *bytes,
                                    size_t size, const char *name, char *err,
                                    size_t err_size);

void tml_host_close(tml_host_interp *h);

/* The arena the model needs when the planner may reuse input memory after
 * its last reader (tml_set_reuse_inputs: TFLite Micro's semantics), for
 * comparing with TFLM's figures; 0 if it cannot be computed. */
size_t tml_host_arena_reusing_inputs(const tml_host_interp *h);

/* The golden manifests' input generator: a 32-bit LCG, state = seed, and
 * before each value state = state * 1664525 + 1013904223 (mod 2^32);
 * int8: (int8)((state >> 24) - 128); float32: (state >> 8) * 2^-23 - 1.
 * Fills every input in order, flat, row-major.  Returns 0, or -1 with one
 * line in err when an input is another dtype. */
int tml_host_fill_random(tml_interpreter *it, uint32_t seed, char *err,
                         size_t err_size);

/* Writes "[1, 49, 10, 1]" into out. */
void tml_host_format_dims(const int32_t *dims, int32_t ndims, char *out,
                          size_t out_size);

/* Copies s into out replacing control characters by '?', so that names
 * from a hostile model cannot break a one-line message. */
void tml_host_sanitize(const char *s, char *out, size_t out_size);

#endif
