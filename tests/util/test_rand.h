/*
 * The tests' deterministic pseudo-random numbers: a 32-bit linear
 * congruential generator (Numerical Recipes constants); a seed gives the
 * same sequence on every host, so a randomized case is reproducible.
 */
#ifndef TML_TEST_RAND_H
#define TML_TEST_RAND_H

#include <stdint.h>

/* Next value: the top 24 bits of the new state. */
uint32_t tml_test_lcg(uint32_t *state);

/* lo + (next value mod (hi - lo + 1)): in [lo, hi], hi - lo < 2^31. */
int32_t tml_test_rand_range(uint32_t *state, int32_t lo, int32_t hi);

#endif
