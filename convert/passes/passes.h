/*
 * Graph passes: rewrite a float IR (as the importers build it) into the
 * shape TFLite's converter gives the same model.  Each pass is one file,
 * returns 0 or -1 (one line in g->error), and leaves the graph compacted
 * (tml_ir_compact) so indices are dense for the next stage.
 *
 * tml_passes_run applies the standard list, in this order (the one place
 * that lists them):
 *   1. fold_constants  ops whose inputs are all constant become constants
 *                      (RESHAPE, SQUEEZE, TRANSPOSE, float ADD/SUB/MUL);
 *   2. drop_noops      identity ops: RESHAPE/SQUEEZE to the same shape,
 *                      TRANSPOSE by the identity, PAD by zeros, float MUL
 *                      by 1 and ADD/SUB of 0;
 *   3. fold_batchnorm  MUL and ADD by per-channel constants right after a
 *                      CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED go
 *                      into its weights and bias (a lone BatchNormalization
 *                      stays a MUL + ADD pair);
 *   4. fuse_activation RELU / RELU6 / RELU_N1_TO_1 after an op that has a
 *                      fused activation field become that field.
 * Shapes come from the importers (every IR tensor carries its shape); no
 * pass changes a shape, so there is no separate shape inference.
 */
#ifndef TML_PASSES_H
#define TML_PASSES_H

#include "convert/ir/ir.h"

int tml_passes_run(tml_ir_graph *g);

int tml_pass_fold_constants(tml_ir_graph *g);
int tml_pass_drop_noops(tml_ir_graph *g);
int tml_pass_fold_batchnorm(tml_ir_graph *g);
int tml_pass_fuse_activation(tml_ir_graph *g);

#endif
