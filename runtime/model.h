/*
 * The verified view of a TFLite flatbuffer (schema version 3).
 *
 * tml_model_load() walks the whole file once: every offset, vector length,
 * string, table and index.  After it succeeds the accessors below read the
 * file without further checks ("verify once, trust after").  Builtin option
 * tables are verified structurally (vtable and inline size in bounds); their
 * fields are read through bounds-checked accessors because their layout
 * depends on the op.
 *
 * The file is little-endian and must be 4-byte aligned; int32/float vectors
 * must be 4-byte aligned and int64 vectors 8-byte aligned in memory (the
 * flatbuffers builder guarantees both), so the accessors hand out pointers
 * into the file.
 *
 * Only subgraph 0 is read; other subgraphs are verified and ignored.
 *
 * Verify once.  A model is verified once, where it enters the system:
 *   - on the host, always: tinyml inspect/run/convert/export, tml_verify()
 *     and the fuzzers use the verifying build (the default);
 *   - on the device only when the model arrives at run time (a file,
 *     a radio, an update partition): keep the verifying build there.
 * An exported project (`tinyml export --project`) embeds bytes that the
 * exporter has just verified in full, as const data next to exactly that
 * model's kernels, so by default it is built with -DTML_TRUSTED_MODEL:
 * the verifier (the table-driven walker, the semantic checks, their field
 * names and messages) is compiled out and tml_model_load() trusts the
 * bytes, as TFLite Micro's GetModel() does.  It still refuses, with one
 * line, what is cheap to catch: NULL or fewer than 8 bytes, no "TFL3"
 * identifier at offset 4 (the wrong array), data not 4-byte aligned, a
 * root table, version field or subgraph vector outside the file, a schema
 * version other than 3, no subgraph.  Anything else in a malformed file is
 * undefined behaviour in that build.  Decoding and the accessors below are
 * the same code in both builds; kernels still read option fields through
 * the bounds-checked tml_model_table_* helpers.  tml_verify() needs the
 * verifier: in a TML_TRUSTED_MODEL build it returns TML_ERROR_UNSUPPORTED.
 * Host tools must never be built with TML_TRUSTED_MODEL (they #error).
 */
#ifndef TML_MODEL_H
#define TML_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "tinyml/tinyml.h"

/* Fills *m (without TML_TRUSTED_MODEL: after verifying the whole file;
 * with it: after the cheap checks above).  On failure returns TML_ERROR_MODEL (or TML_ERROR_UNSUPPORTED
 * for a well-formed file we cannot read, e.g. rank > TML_MAX_DIMS, string
 * tensors) and writes one line to err, e.g.
 *   "subgraphs[0]: tensors[12] 'conv1/out': buffer: is 40, expected an
 *   index below 37" (the path from the root table, the field, got vs
 *   expected). */
tml_status tml_model_load(tml_model *m, const void *data, size_t size,
                          char *err, size_t err_size);

typedef struct tml_model_tensor {
    const int32_t *dims;      /* never NULL; ndims entries, all >= 0 */
    int32_t ndims;
    int32_t type;             /* tml_dtype */
    uint32_t buffer;
    const char *name;         /* never NULL ("" when absent) */
    const uint8_t *data;      /* constant data, NULL when the buffer is empty */
    uint32_t data_size;       /* == elements * dtype size when data != NULL */
    uint32_t bytes;           /* elements * dtype size */
    const float *scales;      /* NULL when not quantized */
    const int64_t *zero_points; /* NULL or nscales entries */
    int32_t nscales;
    int32_t quant_dim;
    int is_variable;
} tml_model_tensor;

typedef struct tml_model_op {
    int32_t builtin;          /* max(deprecated_builtin_code, builtin_code) */
    int32_t version;          /* >= 1 */
    const char *custom_name;  /* NULL unless builtin == CUSTOM (32) */
    const int32_t *inputs;    /* each -1 or a valid tensor index */
    int32_t ninputs;
    const int32_t *outputs;   /* each a valid tensor index */
    int32_t noutputs;
    uint32_t options;         /* file offset of the options table, 0 = none */
    uint8_t options_type;     /* BuiltinOptions union type */
} tml_model_op;

void tml_model_get_tensor(const tml_model *m, int32_t i, tml_model_tensor *out);
void tml_model_get_op(const tml_model *m, int32_t i, tml_model_op *out);
const int32_t *tml_model_inputs(const tml_model *m);   /* m->ninputs */
const int32_t *tml_model_outputs(const tml_model *m);  /* m->noutputs */
/* Model description string, "" when absent. */
const char *tml_model_description(const tml_model *m);

/* Field `field` of the table at file offset `table`: returns a pointer to
 * its `size` bytes, or NULL when absent or when it would lie outside the
 * table's inline data. */
const uint8_t *tml_model_table_field(const tml_model *m, uint32_t table,
                                     int field, size_t size);

/* Vector of int32 in field `field` of a table: count (0 when absent) and
 * *out pointing at the elements, or -1 when the vector is out of bounds or
 * misaligned. */
int32_t tml_model_table_int_vector(const tml_model *m, uint32_t table,
                                   int field, const int32_t **out);

/* Bytes of one element of a tml_dtype, 0 for unknown/STRING. */
size_t tml_model_dtype_size(int32_t type);

#endif
