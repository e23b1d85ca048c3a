/* O(1) sampling from a discrete distribution (Walker/Vose alias method):
 * one random 64-bit draw and one 8-byte table entry per sample. For a 45k-word
 * vocabulary the table is 360 KB, against word2vec.c's 400 MB unigram table. */
#ifndef SGNS_NOISE_H
#define SGNS_NOISE_H
#include <stdint.h>
#include "rng.h"

typedef struct {
    uint32_t threshold; /* keep this bucket if the low 32 random bits < threshold */
    int32_t alias;      /* otherwise take this index */
} sg_alias_entry;

/* Build the table for weights p[0..n) (not necessarily normalised, all >= 0,
 * sum > 0). table must hold n entries. Returns 0, or -1 if out of memory or
 * the weights are unusable. */
int sg_alias_build(const double *p, int32_t n, sg_alias_entry *table);

static inline int32_t sg_alias_draw(const sg_alias_entry *table, uint32_t n, uint64_t *rng)
{
    uint64_t r = sg_rng_next(rng);
    uint32_t i = (uint32_t)(((r >> 32) * (uint64_t)n) >> 32);
    sg_alias_entry e = table[i];
    /* Select without a branch: the outcome is random, and a mispredicted
     * branch would wait for this (often missed) table entry before the
     * next draw's load could start. */
    uint32_t keep = 0u - (uint32_t)((uint32_t)r < e.threshold);
    return (int32_t)((i & keep) | ((uint32_t)e.alias & ~keep));
}
#endif
