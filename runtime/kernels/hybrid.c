/* Dynamic-range kernels (see hybrid.h).  Being implemented. */
#include "hybrid.h"

tml_status tml_hybrid_conv_prepare(tml_interpreter *it, tml_node *node)
{
    return tml_kernel_error(it, node, TML_ERROR_UNSUPPORTED,
                            "hybrid CONV_2D not implemented yet");
}

tml_status tml_hybrid_conv_eval(tml_interpreter *it, tml_node *node)
{
    (void)it;
    (void)node;
    return TML_ERROR_EVAL;
}

tml_status tml_hybrid_depthwise_prepare(tml_interpreter *it, tml_node *node)
{
    return tml_kernel_error(it, node, TML_ERROR_UNSUPPORTED,
                            "hybrid DEPTHWISE_CONV_2D not implemented yet");
}

tml_status tml_hybrid_depthwise_eval(tml_interpreter *it, tml_node *node)
{
    (void)it;
    (void)node;
    return TML_ERROR_EVAL;
}

tml_status tml_hybrid_fc_prepare(tml_interpreter *it, tml_node *node)
{
    return tml_kernel_error(it, node, TML_ERROR_UNSUPPORTED,
                            "hybrid FULLY_CONNECTED not implemented yet");
}

tml_status tml_hybrid_fc_eval(tml_interpreter *it, tml_node *node)
{
    (void)it;
    (void)node;
    return TML_ERROR_EVAL;
}
