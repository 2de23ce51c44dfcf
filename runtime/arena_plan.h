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

#endif
