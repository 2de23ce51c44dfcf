/*
 * Internals of the Keras importer (convert/import/keras*.c): the HDF5
 * reader (keras_h5.c), the .keras zip reader (keras_zip.c) and the
 * config -> IR translation (keras.c).
 */
#ifndef TML_KERAS_INTERNAL_H
#define TML_KERAS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "convert/ir/ir.h"

/* ---- HDF5 (keras_h5.c) ---- */
typedef struct keras_h5 keras_h5;

/* Where a file keeps its weights. */
enum {
    /* Keras 2 model.save('m.h5'): model_weights/<layer>/<name> for each
     * name in the group's weight_names attribute, in order. */
    KERAS_WEIGHTS_LEGACY = 0,
    /* Keras 3 model.weights.h5: layers/<key>/vars/<i>, key = the snake_case
     * class name numbered per class (dense, dense_1, ...) in model.layers
     * order, i in the layer's order (trainable, then non-trainable). */
    KERAS_WEIGHTS_V3 = 1
};

keras_h5 *keras_h5_open_file(const char *path, char *err, size_t n);
/* Opens an HDF5 image held in memory (copied); label names it in errors. */
keras_h5 *keras_h5_open_memory(const void *buf, size_t size, const char *label,
                               char *err, size_t n);
void keras_h5_close(keras_h5 *h);

/* A string attribute of the root group into a malloc'd string: 1 found,
 * 0 absent (*out NULL), -1 error. */
int keras_h5_root_attr(keras_h5 *h, const char *name, char **out, char *err,
                       size_t n);

typedef struct keras_array {
    float *data;              /* malloc'd, float32 */
    int32_t ndims;
    int32_t dims[8];
    size_t count;
} keras_array;

/* Reads one weight of a layer as float32.  layer: its name (legacy) or
 * its key (V3).  names: '|'-separated names it
 * may carry (legacy layout: matched against the weight_names entries with
 * their scope and ":0" removed); index: its position among the layer's
 * weights (used by the V3 layout, and by the legacy one when no name
 * matches).  1 found, 0 absent (message in err), -1 error. */
int keras_h5_weight(keras_h5 *h, int layout, const char *layer,
                    const char *names, int index, keras_array *out,
                    char *err, size_t n);
void keras_array_free(keras_array *a);

/* ---- weight sources ---- */
/* Reads one weight of a layer as float32, with keras_h5_weight's contract
 * (layer: the layer's name, or its Keras 3 key; names: '|'-separated
 * names; index: its position among the layer's weights): 1 found, 0
 * absent (message in err), -1 error. */
typedef int (*keras_weight_fn)(void *ctx, const char *layer, const char *names, int index,
                               keras_array *out, char *err, size_t n);

typedef struct keras_weights {
    keras_weight_fn read;
    void *ctx;
    int layout;      /* KERAS_WEIGHTS_*: how layers are keyed */
} keras_weights;

/* ---- .keras zip (keras_zip.c) ---- */
/* Reads config.json (NUL-terminated), model.weights.h5 and, when present,
 * metadata.json (NUL-terminated; *metadata NULL when absent) from a .keras
 * archive into malloc'd buffers.  0 or -1. */
int keras_zip_read(const char *path, char **config, void **weights,
                   size_t *weights_size, char **metadata, char *err, size_t n);

/* ---- translation (keras.c) ---- */
/* keras3: Keras 3 semantics (hard_sigmoid = relu6(x + 3) / 6, ...). */
int keras_import_config(const char *json, keras_h5 *weights, int layout,
                        int keras3, tml_ir_graph *g, char *err, size_t n);
/* The same with weights from any source (the SavedModel importer reads
 * them from a TensorFlow checkpoint). */
int keras_import_config_src(const char *json, const keras_weights *src, int keras3,
                            tml_ir_graph *g, char *err, size_t n);

#endif
