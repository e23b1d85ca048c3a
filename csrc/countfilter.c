#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "countfilter.h"
#include "tokenbatch.h"

int sg_countfilter_init(sg_countfilter *f, uint64_t bytes, int cap)
{
    int bits = 6;  /* 64 blocks of 64 bytes: 4 KiB */
    memset(f, 0, sizeof(*f));
    if (cap < 1 || cap > 255) return -1;
    while ((64ull << bits) < bytes && bits < 40) bits++;
    f->mem = calloc((size_t)(64ull << bits) + 64, 1);
    if (!f->mem) return -1;
    f->cells = (uint8_t *)(((uintptr_t)f->mem + 63) & ~(uintptr_t)63);
    f->block_bits = bits;
    f->cap = (uint8_t)cap;
    return 0;
}

void sg_countfilter_free(sg_countfilter *f)
{
    free(f->mem);
    memset(f, 0, sizeof(*f));
}

/* The two counters of a hash: one block from the top bits, two distinct
 * bytes in it from the low bits. */
static inline uint8_t *counters(const sg_countfilter *f, uint64_t hv, uint8_t **second)
{
    uint8_t *block = f->cells + ((hv >> (64 - f->block_bits)) << 6);
    unsigned a = (unsigned)(hv & 63), b = (a + 1 + (unsigned)((hv >> 6) % 63)) & 63;
    *second = block + b;
    return block + a;
}

static inline void add(sg_countfilter *f, uint64_t hv)
{
    uint8_t *b, *a = counters(f, hv, &b);
    uint8_t m = *a < *b ? *a : *b;
    /* Conservative update: raise only the counters at the minimum. */
    if (m >= f->cap) return;
    if (*a == m) *a = (uint8_t)(m + 1);
    if (*b == m) *b = (uint8_t)(m + 1);
}

static inline int passes(const sg_countfilter *f, uint64_t hv)
{
    uint8_t *b, *a = counters(f, hv, &b);
    return *a >= f->cap && *b >= f->cap;
}

void sg_countfilter_merge(sg_countfilter *dst, const sg_countfilter *src)
{
    size_t i, n = (size_t)64 << dst->block_bits;
    unsigned cap = dst->cap;
    for (i = 0; i < n; i++) {
        unsigned s = (unsigned)dst->cells[i] + src->cells[i];
        dst->cells[i] = (uint8_t)(s < cap ? s : cap);
    }
}

static inline const void *filter_block(uint64_t hv, const void *f)
{
    uint8_t *second;
    return counters((const sg_countfilter *)f, hv, &second);
}

int sg_countfilter_pass(sg_reader *r, sg_countfilter *f, int64_t *tokens, int64_t *lines)
{
    sg_token_batch *b = (sg_token_batch *)malloc(sizeof(sg_token_batch));
    int t, i;
    if (!b) { r->err = ENOMEM; return SG_TOK_ERROR; }
    do {
        t = sg_tokens_fill(r, b, SG_TOKENS_MAX, 0, lines, filter_block, f);
        for (i = 0; i < b->n; i++) add(f, b->hv[i]);
        *tokens += b->n;
    } while (t == SG_TOK_WORD);
    free(b);
    return t;
}

/* Count token i of b into h: its record (its tag match when the bytes agree,
 * else a full lookup: an earlier token of the batch may have inserted it),
 * or an insertion when the filter passes it (or, without a filter, always).
 * Returns 0 or -1 (no memory). */
static int count_token(const sg_token_batch *b, int i, const sg_countfilter *f, sg_wordhash *h)
{
    const char *w = b->bytes + b->off[i];
    sg_record *r = sg_wordhash_confirm(h, b->at[i], w, b->len[i], b->hv[i]);
    if (r) { r->count++; return 0; }
    if (f && !passes(f, b->hv[i])) return 0;
    return sg_wordhash_add_hashed(h, w, b->len[i], b->hv[i], 1) < 0 ? -1 : 0;
}

int sg_countfilter_count(sg_reader *r, const sg_countfilter *f, sg_wordhash *h, int64_t *tokens,
                         int64_t *lines, int *nomem)
{
    sg_token_batch *b = (sg_token_batch *)malloc(sizeof(sg_token_batch));
    int t, i;
    if (!b) { *nomem = 1; return SG_TOK_ERROR; }
    do {
        /* Stage 1 (while reading): prefetch each token's home slot. Stage 2:
         * find a tag match and prefetch its record (or, for a likely new
         * word, its filter counters). Stage 3: count, in token order. An
         * offset stays valid when the arena grows; a pointer would not. */
        t = sg_tokens_fill(r, b, SG_TOKENS_MAX, 1, lines, sg_tokens_home_slot, h);
        *tokens += b->n;
        sg_tokens_match(b, h, f ? filter_block : NULL, f);
        for (i = 0; i < b->n; i++) {
            if (count_token(b, i, f, h)) { *nomem = 1; free(b); return SG_TOK_ERROR; }
        }
    } while (t == SG_TOK_WORD);
    free(b);
    return t;
}
