/*
 * From the prepared graph to arena offsets: tensor lifetimes, buffer
 * sharing (view ops, in-place elementwise ops) and the greedy placement of
 * planner.h.  Sets every non-constant tensor's data pointer and every
 * scratch offset, and it->planned_bytes / it->needed_bytes.
 */
#ifndef TML_ARENA_PLAN_H
#define TML_ARENA_PLAN_H

#include "kernel.h"

tml_status tml_plan_arena(tml_interpreter *it);

/* Sets "arena too small: needs MORE<needed> bytes, has <arena>" (MORE "",
 * "at least " or "more than ") and returns TML_ERROR_ARENA (interp.c). */
tml_status tml_arena_error(tml_interpreter *it, const char *more,
                           size_t needed);

#endif
