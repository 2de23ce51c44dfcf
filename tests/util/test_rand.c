#include "test_rand.h"

uint32_t tml_test_lcg(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

int32_t tml_test_rand_range(uint32_t *state, int32_t lo, int32_t hi)
{
    return lo + (int32_t)(tml_test_lcg(state) % (uint32_t)(hi - lo + 1));
}
