/* The standard pass list (see passes.h for what each pass does). */
#include "convert/passes/passes.h"

typedef int (*pass_fn)(tml_ir_graph *g);

int tml_passes_run(tml_ir_graph *g)
{
    /* Order matters: constants first (so BatchNormalization parameters
     * computed from constants are constants), no-ops next (an identity
     * RESHAPE between a conv and its BN would hide the pattern), then BN
     * folding, and activations last (the BN sits between the conv and its
     * ReLU). */
    static const pass_fn k_passes[] = {
        tml_pass_fold_constants,
        tml_pass_drop_noops,
        tml_pass_fold_batchnorm,
        tml_pass_fuse_activation,
    };
    for (size_t i = 0; i < sizeof k_passes / sizeof k_passes[0]; i++) {
        if (k_passes[i](g) < 0)
            return -1;
    }
    return 0;
}
