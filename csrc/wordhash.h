/* Open-addressing hash table from byte strings to dense ids (insertion
 * order) with an int64 count per id. Used to count a corpus and, rebuilt from
 * the final vocabulary, to turn tokens into ids. */
#ifndef SGNS_WORDHASH_H
#define SGNS_WORDHASH_H
#include <stdint.h>
#include <stddef.h>

typedef struct {
    uint32_t *slots;     /* id + 1, or 0 for empty; capacity is a power of two */
    uint64_t cap;
    int64_t n;           /* number of words */
    int64_t n_alloc;
    uint64_t *hashes;    /* per id */
    uint64_t *offsets;   /* per id: start in arena */
    uint32_t *lengths;   /* per id */
    int64_t *counts;     /* per id */
    char *arena;
    uint64_t arena_len, arena_cap;
} sg_wordhash;

int sg_wordhash_init(sg_wordhash *h, int64_t expected);
void sg_wordhash_free(sg_wordhash *h);
/* Add `count` to word w, inserting it if new. Returns its id, or -1 when out
 * of memory (or past 2^32-2 words). */
int64_t sg_wordhash_add(sg_wordhash *h, const char *w, size_t len, int64_t count);
/* Id of w, or -1. */
int64_t sg_wordhash_find(const sg_wordhash *h, const char *w, size_t len);
/* Drop every word whose count is below min_count, keeping insertion order of
 * the rest (gensim-style vocabulary pruning). Returns 0 or -1 (no memory). */
int sg_wordhash_prune(sg_wordhash *h, int64_t min_count);

static inline const char *sg_wordhash_word(const sg_wordhash *h, int64_t id, size_t *len)
{
    *len = h->lengths[id];
    return h->arena + h->offsets[id];
}
#endif
