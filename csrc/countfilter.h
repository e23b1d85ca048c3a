/* An exact pre-filter for vocabulary counting with a min_count.
 *
 * Most word types of a large corpus occur fewer than min_count times, yet an
 * exact count needs a table entry for each of them. A first pass over the
 * corpus counts every token into a count-min sketch with conservative
 * update: byte counters that saturate at `cap` (min_count, at most 255) and
 * never fall below min(true count, cap) for any word. A second pass then
 * tables only the words whose sketch estimate reaches cap; every word that
 * can reach min_count is among them, so the counts stay exact and the table
 * holds the kept words plus a few collisions. Two counters per word, in one
 * 64-byte block, so an update costs one cache miss. */
#ifndef SGNS_COUNTFILTER_H
#define SGNS_COUNTFILTER_H
#include <stdint.h>
#include "reader.h"
#include "wordhash.h"

typedef struct {
    uint8_t *cells;      /* n_blocks * 64 counters, 64-byte aligned */
    void *mem;           /* what to free */
    int block_bits;      /* n_blocks = 2^block_bits */
    uint8_t cap;
} sg_countfilter;

/* A filter of at least `bytes` bytes (rounded to a power of two, 4 KiB at
 * least) whose counters stop at cap (1..255). Returns 0 or -1 (no memory). */
int sg_countfilter_init(sg_countfilter *f, uint64_t bytes, int cap);
void sg_countfilter_free(sg_countfilter *f);
/* dst += src, counter by counter (saturating): the filter of both ranges.
 * Both must have the same size and cap. */
void sg_countfilter_merge(sg_countfilter *dst, const sg_countfilter *src);

/* Pass 1: every token of the reader's range into f; *tokens, *lines count
 * tokens and newlines. Returns the reader's last status (SG_TOK_END,
 * SG_TOK_STOP or SG_TOK_ERROR). */
int sg_countfilter_pass(sg_reader *r, sg_countfilter *f, int64_t *tokens, int64_t *lines);
/* Pass 2: count each token whose estimate in f reaches f->cap into h (with f
 * NULL: every token, the one pass of counting without a min_count); *tokens,
 * *lines count tokens and newlines. Returns the reader's last status, or
 * SG_TOK_ERROR with *nomem = 1 when the table cannot grow. */
int sg_countfilter_count(sg_reader *r, const sg_countfilter *f, sg_wordhash *h, int64_t *tokens,
                         int64_t *lines, int *nomem);
#endif
