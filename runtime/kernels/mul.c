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

const tml_kernel tml_kernel_mul = { 18, 1, 1, stub_prepare, stub_eval };
