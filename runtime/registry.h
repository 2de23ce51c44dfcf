/* Kernel lookup by TFLite builtin code (the table expands from ops.def). */
#ifndef TML_REGISTRY_H
#define TML_REGISTRY_H

#include "kernel.h"

/* Op properties the planner uses (the 4th column of ops.def). */
enum {
    /* Output 0 is a view of input 0 (same bytes, other shape): the planner
     * gives both one buffer and eval must do nothing when
     * output->data == input->data (RESHAPE, SQUEEZE). */
    TML_KERNEL_VIEW = 1,
    /* Elementwise: output 0 may share the buffer of an input of the same
     * byte size whose life ends at this op; eval reads element i of every
     * input before writing element i of the output. */
    TML_KERNEL_INPLACE = 2
};

/* The op's kernel, NULL when tinyml has none; *flags (when flags is not
 * NULL) gets the op's TML_KERNEL_* flags if it has one. */
const tml_kernel *tml_find_kernel(int32_t builtin, uint8_t *flags);

#endif
