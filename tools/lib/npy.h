/*
 * A small .npy reader and writer for the CLI and the tests.
 *
 * Reads NumPy format versions 1.0, 2.0 and 3.0 (NEP 1: magic "\x93NUMPY",
 * major, minor, a little-endian header length of 2 bytes (1.0) or 4 bytes
 * (2.0, 3.0), then a Python dict literal with exactly the keys 'descr',
 * 'fortran_order' and 'shape').  Every byte is treated as hostile: the
 * header is parsed by a bounded cursor, shapes are overflow-checked, and
 * the data must be exactly elements * element size bytes.
 *
 * Supported dtypes (little-endian host): <f4 <f2 <i4 <i2 <i1 |i1 <u1 |u1
 * <i8 (numpy's default integer, for labels).
 * Only C order: fortran_order True is an error.
 */
#ifndef TML_NPY_H
#define TML_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "tinyml/tinyml.h"

#define TML_NPY_MAX_DIMS 32
/* Larger headers are refused: NumPy itself caps them (10000 bytes). */
#define TML_NPY_MAX_HEADER 65536

typedef struct tml_npy {
    tml_dtype dtype;           /* FLOAT32 FLOAT16 INT32 INT16 INT8 UINT8 INT64 */
    int32_t ndims;             /* 0 for a scalar */
    uint64_t dims[TML_NPY_MAX_DIMS];
    size_t count;              /* product of dims (1 for a scalar) */
    size_t elem_size;
    const uint8_t *data;       /* into the parsed buffer; maybe unaligned:
                                  read it with memcpy */
    size_t data_bytes;         /* count * elem_size */
    int major, minor;          /* format version */
} tml_npy;

/* Parses a whole .npy file held in buf.  Returns 0, or -1 with one line in
 * err (no file name: the caller prefixes it), e.g.
 *   "header: fortran_order True is not supported (C order only)". */
int tml_npy_parse(const void *buf, size_t size, tml_npy *out, char *err,
                  size_t err_size);

/* Serializes an array as a version 1.0 .npy file (2.0 when the header does
 * not fit), byte-identical to numpy.save.  Returns malloc'd bytes (free())
 * and their size, or NULL with one line in err. */
void *tml_npy_write(tml_dtype dtype, const int32_t *dims, int32_t ndims,
                    const void *data, size_t *out_size, char *err,
                    size_t err_size);

/* NumPy's name of a dtype ("<f4", "|i1"), or NULL when not supported. */
const char *tml_npy_descr(tml_dtype dtype);

#endif
