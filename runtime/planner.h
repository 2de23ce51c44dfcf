/*
 * Arena planning: give every buffer (activation tensor or scratch) an
 * offset so that two buffers alive at the same time never share a byte.
 *
 * Algorithm: greedy placement as TFLite Micro's planner does it — take the
 * buffers in some order and put each at the lowest offset that does not
 * overlap any already placed buffer whose lifetime [first, last]
 * intersects its own — run for several orders (largest first, as TFLM;
 * first use; longest life; size x life), keeping the smallest result.
 * Ties break on size, first use, then index, so the plan is deterministic.
 * Not optimal in general (the problem is NP-hard), but never worse than
 * TFLM's order alone.  O(n^3) in the number of buffers (n ~ 100).
 */
#ifndef TML_PLANNER_H
#define TML_PLANNER_H

#include <stddef.h>
#include <stdint.h>

typedef struct tml_plan_item {
    uint32_t size;    /* bytes, rounded up to the alignment by the planner */
    int32_t first;    /* first op that uses it (writes it) */
    int32_t last;     /* last op that uses it (reads it) */
    uint32_t offset;  /* out */
} tml_plan_item;

/* order: caller-provided scratch of n int32.  Returns the bytes needed
 * (the end of the highest buffer), a multiple of align (a power of two). */
size_t tml_plan(tml_plan_item *items, int32_t n, int32_t *order,
                uint32_t align);

#endif
