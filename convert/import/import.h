/*
 * Model importers: read a trained model file into the converter's IR
 * (convert/ir/ir.h), in TFLite's vocabulary and layouts.
 *
 * The importers emit "plain" ops and leave optimization to the passes:
 * BatchNormalization as MUL + ADD with per-channel constants, activations
 * as separate ops (RELU, RELU6, LOGISTIC, TANH, SOFTMAX, LEAKY_RELU,
 * HARD_SWISH, ...), Dropout / GaussianNoise dropped, Flatten as RESHAPE.
 * Every conv / dense gets a bias tensor (zeros when use_bias is false).
 * Graph inputs are float32 with batch 1 (a None batch becomes 1).
 *
 * Errors: -1 with one line in err (no trailing newline, no file path for
 * errors inside the model: the caller names the file), e.g.
 *   layer 'conv3' (Conv2D): data_format 'channels_first' is not supported
 */
#ifndef TML_IMPORT_H
#define TML_IMPORT_H

#include <stddef.h>

#include "convert/ir/ir.h"

/* Keras 2.x HDF5 (model.save('m.h5')) or Keras 3 .keras (zip); g is an
 * empty graph from tml_ir_new().  0 or -1. */
int tml_import_keras(const char *path, tml_ir_graph *g, char *err, size_t err_size);

/* A TensorFlow SavedModel directory (saved_model.pb + variables/) written
 * by Keras 2 (model.save('dir') / tf.saved_model.save): the Keras model
 * config from the object graph's metadata, the weights from the
 * checkpoint.  SavedModels without Keras metadata are refused.  0 or -1. */
int tml_import_savedmodel(const char *dir, tml_ir_graph *g, char *err, size_t err_size);

/* 1 when path is a SavedModel: a directory holding saved_model.pb, or that
 * file itself; dir gets the directory. */
int tml_savedmodel_dir(const char *path, char *dir, size_t dir_size);

/* Dispatches on a SavedModel directory, then on the file's magic bytes
 * (HDF5 signature, zip "PK"), then on its extension. 0 or -1. */
int tml_import_file(const char *path, tml_ir_graph *g, char *err, size_t err_size);

#endif
