/* The kernel table, expanded from ops.def.  A deployment may compile this
 * file with -DTML_OPS_FILE='"my_ops.def"' listing only the ops its model
 * uses, so the linker drops every other kernel. */
#include "registry.h"

#ifndef TML_OPS_FILE
#define TML_OPS_FILE "ops.def"
#endif

#define TML_OP(name, code, sym, flags) extern const tml_kernel sym;
#include TML_OPS_FILE
#undef TML_OP

static const tml_kernel *const kernels[] = {
#define TML_OP(name, code, sym, flags) &sym,
#include TML_OPS_FILE
#undef TML_OP
};

/* Each registration must carry the code its ops.def line names. */
static const int32_t codes[] = {
#define TML_OP(name, code, sym, flags) code,
#include TML_OPS_FILE
#undef TML_OP
};

static const uint8_t op_flags[] = {
#define TML_OP(name, code, sym, flags) flags,
#include TML_OPS_FILE
#undef TML_OP
};

const tml_kernel *tml_find_kernel(int32_t builtin, uint8_t *flags)
{
    for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++) {
        if (codes[i] == builtin) {
            if (flags)
                *flags = op_flags[i];
            return kernels[i];
        }
    }
    return NULL;
}
