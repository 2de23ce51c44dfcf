/* STUB: replaced by the real kernel. */
#include "kernel.h"

static tml_status stub_prepare(tml_interpreter *it, tml_node *n)
{
    return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED, "not implemented yet");
}

static tml_status stub_eval(tml_interpreter *it, tml_node *n)
{
    (void)it;
    (void)n;
    return TML_ERROR_EVAL;
}

const tml_kernel tml_kernel_relu = { 19, 1, 1, stub_prepare, stub_eval };
const tml_kernel tml_kernel_relu6 = { 21, 1, 1, stub_prepare, stub_eval };
const tml_kernel tml_kernel_leaky_relu = { 98, 1, 1, stub_prepare, stub_eval };
const tml_kernel tml_kernel_hard_swish = { 117, 1, 1, stub_prepare, stub_eval };
