/* Subsampling of frequent words (word2vec.c's -sample): one sentence's words,
 * each kept with its own probability. */
#ifndef SGNS_SUBSAMPLE_H
#define SGNS_SUBSAMPLE_H
#include <stdint.h>
#include "rng.h"

/* keep[w] of a word kept without a random draw. */
#define SG_KEEP_ALWAYS 0xFFFFFFFFu

/* Copy the kept words of ids[*pos..n) into out, at most max_len of them,
 * stopping after a negative id (a sentence's end, consumed) or at n. Word w is
 * kept when the low 32 bits of the next draw of *rng are below keep[w]; a word
 * with SG_KEEP_ALWAYS (or keep NULL) is kept and takes no draw. Advances *pos
 * past what it read and adds the words read (not the end marker) to *seen.
 * Returns how many words it kept.
 *
 * The same draws and results as testing each word with a branch, without
 * the branch: about half the frequent words are dropped at random, and each
 * mispredicted drop cost as much as the rest of the word's work. */
static inline int64_t sg_subsample(const int32_t *ids, int64_t n, int64_t *pos, const uint32_t *keep,
                                   int64_t max_len, uint64_t *rng, int32_t *out, int64_t *seen)
{
    int64_t i = *pos, start = i, kept = 0, ended = 0;
    uint64_t s = *rng;
    if (keep == NULL) {
        for (; i < n && kept < max_len; i++) {
            if (ids[i] < 0) {
                ended = 1;
                break;
            }
            out[kept++] = ids[i];
        }
    } else {
        for (; i < n && kept < max_len; i++) {
            int32_t word = ids[i];
            uint32_t k;
            uint64_t draws;
            if (word < 0) {
                ended = 1;
                break;
            }
            k = keep[word];
            draws = (uint64_t)(k != SG_KEEP_ALWAYS);
            /* sg_rng_next, the state stepped only for a word that draws. */
            s += (0u - draws) & SG_RNG_STEP;
            out[kept] = word;
            kept += (int64_t)(((uint32_t)sg_rng_mix(s) < k) | (draws ^ 1u));
        }
    }
    *seen += i - start;
    *pos = i + ended; /* past the end marker */
    *rng = s;
    return kept;
}
#endif
