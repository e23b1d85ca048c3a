/* Subsampling of frequent words (word2vec.c's -sample): one sentence's words,
 * each kept with its own probability. */
#ifndef SGNS_SUBSAMPLE_H
#define SGNS_SUBSAMPLE_H
#include <stdint.h>

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
    int64_t i = *pos, kept = 0, start;
    uint64_t s = *rng;
    if (keep == NULL) {
        for (; i < n && kept < max_len; i++) {
            if (ids[i] < 0) {
                *seen += i - *pos;
                *pos = i + 1;
                return kept;
            }
            out[kept++] = ids[i];
        }
        *seen += i - *pos;
        *pos = i;
        return kept;
    }
    start = i;
    for (; i < n && kept < max_len; i++) {
        int32_t word = ids[i];
        uint32_t k;
        uint64_t draws, z;
        if (word < 0) {
            *seen += i - start;
            *pos = i + 1;
            *rng = s;
            return kept;
        }
        k = keep[word];
        draws = (uint64_t)(k != SG_KEEP_ALWAYS);
        /* sg_rng_next, advanced only for a word that draws. */
        s += (0u - draws) & 0x9E3779B97F4A7C15ULL;
        z = (s ^ (s >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
        out[kept] = word;
        kept += (int64_t)(((uint32_t)z < k) | (draws ^ 1u));
    }
    *seen += i - start;
    *pos = i;
    *rng = s;
    return kept;
}
#endif
