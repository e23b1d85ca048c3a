/* Tokens read a batch at a time for the passes that look every token up in a
 * large table (the count filter's two passes, the trainer's encoding of a
 * file): hashing a batch prefetches the memory each token will touch, and a
 * second stage each tag match's record, so a batch's cache misses overlap
 * instead of stalling one after another (the tables are far larger than the
 * caches). */
#ifndef SGNS_TOKENBATCH_H
#define SGNS_TOKENBATCH_H
#include <stdint.h>
#include <string.h>
#include "reader.h"
#include "wordhash.h"

#define SG_TOKENS_MAX 64
#define SG_TOKENS_NEWLINE UINT32_MAX  /* the len of a newline kept as an entry */

typedef struct {
    char bytes[SG_TOKENS_MAX * SG_MAX_WORD];  /* the tokens' bytes, back to back */
    uint32_t off[SG_TOKENS_MAX], len[SG_TOKENS_MAX];
    uint64_t hv[SG_TOKENS_MAX];
    int64_t at[SG_TOKENS_MAX];  /* after sg_tokens_match: a tag match's arena offset, or -1 */
    int n;
} sg_token_batch;

/* Read up to limit (<= SG_TOKENS_MAX) entries into b, the tokens' bytes too
 * if copy, and prefetch where(hv, ctx) for each token. Newlines are counted
 * in *lines, or, with lines NULL, kept in order as entries of length
 * SG_TOKENS_NEWLINE. Returns SG_TOK_WORD when the batch is full, else the
 * reader's last status. */
static inline int sg_tokens_fill(sg_reader *r, sg_token_batch *b, int limit, int copy, int64_t *lines,
                                 const void *(*where)(uint64_t, const void *), const void *ctx)
{
    const char *tok;
    size_t len, used = 0;
    b->n = 0;
    while (b->n < limit) {
        int t = sg_reader_next(r, &tok, &len);
        if (t == SG_TOK_WORD) {
            uint64_t hv = sg_hash_bytes(tok, len);
            SG_PREFETCH(where(hv, ctx));
            if (copy) {
                memcpy(b->bytes + used, tok, len);
                b->off[b->n] = (uint32_t)used;
                b->len[b->n] = (uint32_t)len;
                used += len;
            }
            b->hv[b->n++] = hv;
        } else if (t == SG_TOK_NEWLINE) {
            if (lines) ++*lines;
            else b->len[b->n++] = SG_TOKENS_NEWLINE;
        } else {
            return t;
        }
    }
    return SG_TOK_WORD;
}

/* Where a token's probe of h starts: the `where` of sg_tokens_fill. */
static inline const void *sg_tokens_home_slot(uint64_t hv, const void *h)
{
    return &((const sg_wordhash *)h)->slots[sg_wordhash_home((const sg_wordhash *)h, hv)];
}

/* The second stage: each token's tag match in h into b->at, its record
 * prefetched; for a token with none, where(hv, ctx) when where is given. */
static inline void sg_tokens_match(sg_token_batch *b, const sg_wordhash *h,
                                   const void *(*where)(uint64_t, const void *), const void *ctx)
{
    int i;
    for (i = 0; i < b->n; i++) {
        if (b->len[i] == SG_TOKENS_NEWLINE) continue;
        b->at[i] = sg_wordhash_tag_match(h, b->hv[i]);
        if (b->at[i] >= 0) SG_PREFETCH(h->arena + b->at[i]);
        else if (where) SG_PREFETCH(where(b->hv[i], ctx));
    }
}
#endif
