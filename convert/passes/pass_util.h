/* Small graph helpers shared by the passes (not part of the IR API). */
#ifndef TML_PASS_UTIL_H
#define TML_PASS_UTIL_H

#include "convert/ir/ir.h"

/* The only live op reading tensor t, or -1 when none or several. */
int32_t tml_pass_sole_consumer(const tml_ir_graph *g, int32_t t);

/* 1 when tensor t is a float32 constant. */
int tml_pass_is_f32_const(const tml_ir_graph *g, int32_t t);

/* 1 when both tensors have the same shape. */
int tml_pass_same_shape(const tml_ir_tensor *a, const tml_ir_tensor *b);

/* Makes constant t private to op `op` input `k`: when another op also
 * reads it, the op gets a copy (so in-place edits touch only this op).
 * Returns the tensor index now used, or -1. */
int32_t tml_pass_private_const(tml_ir_graph *g, int32_t op, int k);

/* A graph input or output: passes never remove these tensors. */
int tml_pass_is_graph_io(const tml_ir_graph *g, int32_t t);

#endif
