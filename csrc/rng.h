/* Per-thread random numbers: splitmix64, a few cycles a draw, 2^64 period,
 * and every seed (0 included) gives a good stream. */
#ifndef SGNS_RNG_H
#define SGNS_RNG_H
#include <stdint.h>

/* The state's step per draw. */
#define SG_RNG_STEP 0x9E3779B97F4A7C15ULL

/* The draw of a state just stepped: splitmix64's output function. */
static inline uint64_t sg_rng_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline uint64_t sg_rng_next(uint64_t *state)
{
    return sg_rng_mix(*state += SG_RNG_STEP);
}

/* Uniform integer in [0, n) from the top 32 bits (Lemire's multiply-shift). */
static inline uint32_t sg_rng_below(uint64_t *state, uint32_t n)
{
    return (uint32_t)(((sg_rng_next(state) >> 32) * (uint64_t)n) >> 32);
}
#endif
