/* Greedy arena planner; see planner.h for the algorithm and guarantees. */
#include "planner.h"

/* The orders the planner tries, each a full greedy placement. */
enum { BY_SIZE, BY_FIRST_USE, BY_LIFETIME, BY_AREA, STRATEGIES };

/* Sort key of an item in a strategy (descending): a 64-bit product fits
 * size x life. */
static uint64_t key(const tml_plan_item *a, int strategy)
{
    uint64_t life = (uint64_t)(a->last - a->first + 1);
    if (strategy == BY_FIRST_USE)
        return (uint64_t)(0x7fffffff - a->first);
    /* BY_SIZE: size, BY_LIFETIME: life, BY_AREA: life x size. */
    uint64_t size = strategy == BY_LIFETIME ? 1 : a->size;
    return (strategy == BY_SIZE ? 1 : life) * size;
}

static int goes_before(const tml_plan_item *a, int32_t ia,
                       const tml_plan_item *b, int32_t ib, int strategy)
{
    uint64_t ka = key(a, strategy), kb = key(b, strategy);
    if (ka != kb)
        return ka > kb;
    if (a->size != b->size)
        return a->size > b->size;
    if (a->first != b->first)
        return a->first < b->first;
    return ia < ib;
}

static void sort_order(const tml_plan_item *items, int32_t n, int32_t *order,
                       int strategy)
{
    for (int32_t i = 0; i < n; i++)
        order[i] = i;
    /* Insertion sort: n is the number of tensors, tens to a few hundred. */
    for (int32_t i = 1; i < n; i++) {
        int32_t v = order[i];
        int32_t j = i;
        while (j > 0 && goes_before(&items[v], v, &items[order[j - 1]],
                                    order[j - 1], strategy)) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
}

static int lifetimes_overlap(const tml_plan_item *a, const tml_plan_item *b)
{
    return a->first <= b->last && b->first <= a->last;
}

/* Lowest offset >= 0 where `it` fits among the placed items order[0..k). */
static uint32_t lowest_fit(const tml_plan_item *items, const int32_t *order,
                           int32_t k, const tml_plan_item *it)
{
    uint32_t offset = 0;
    int moved = 1;
    /* Each pass pushes the candidate past one conflicting buffer; it stops
     * when a pass finds no conflict.  At most k passes. */
    while (moved) {
        moved = 0;
        for (int32_t j = 0; j < k; j++) {
            const tml_plan_item *p = &items[order[j]];
            if (!lifetimes_overlap(p, it) || p->size == 0)
                continue;
            if (offset < p->offset + p->size && p->offset < offset + it->size) {
                offset = p->offset + p->size;
                moved = 1;
            }
        }
    }
    return offset;
}

static size_t place(tml_plan_item *items, int32_t n, int32_t *order,
                    int strategy)
{
    sort_order(items, n, order, strategy);
    size_t total = 0;
    for (int32_t k = 0; k < n; k++) {
        tml_plan_item *it = &items[order[k]];
        it->offset = it->size ? lowest_fit(items, order, k, it) : 0;
        if (it->offset + (size_t)it->size > total)
            total = it->offset + (size_t)it->size;
    }
    return total;
}

size_t tml_plan(tml_plan_item *items, int32_t n, int32_t *order,
                uint32_t align)
{
    for (int32_t i = 0; i < n; i++)
        items[i].size = (items[i].size + align - 1) & ~(align - 1);
    /* Greedy placement is order-sensitive: try each order, keep the
     * smallest (ties: the earlier strategy, TFLM's size order first). */
    int best = BY_SIZE;
    size_t best_total = (size_t)-1;
    for (int s = 0; s < STRATEGIES; s++) {
        size_t total = place(items, n, order, s);
        if (total < best_total) {
            best_total = total;
            best = s;
        }
    }
    return place(items, n, order, best);
}
