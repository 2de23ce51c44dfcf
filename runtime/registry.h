/* Kernel lookup by TFLite builtin code (the table expands from ops.def). */
#ifndef TML_REGISTRY_H
#define TML_REGISTRY_H

#include "kernel.h"

/* NULL when tinyml has no kernel for the op. */
const tml_kernel *tml_find_kernel(int32_t builtin);

#endif
