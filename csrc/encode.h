/* Tokens of a file range -> word ids, for the trainer. */
#ifndef SGNS_ENCODE_H
#define SGNS_ENCODE_H
#include <stdint.h>
#include <string.h>
#include "reader.h"
#include "wordhash.h"

/* Tokens are looked up a batch at a time: reading the batch prefetches each
 * word's slot, then each tag match's record, so the cache misses of a batch
 * overlap instead of stalling one after another (a vocabulary of 100k words
 * and up is far larger than the caches). */
#define SG_ENCODE_BATCH 32
#define SG_ENC_NEWLINE (-1)
#define SG_ENC_UNKNOWN (-2)

/* A reader's tokens, read ahead and looked up, not yet written; and the
 * length of the current sentence. Carried from one chunk to the next. */
typedef struct {
    int64_t sent_len;
    int pending, next;  /* events looked up, and the next to write */
    int last;           /* the reader's status after them: SG_TOK_WORD while more */
    int32_t event[SG_ENCODE_BATCH];  /* an id, SG_ENC_NEWLINE or SG_ENC_UNKNOWN */
    uint64_t hv[SG_ENCODE_BATCH];
    uint32_t off[SG_ENCODE_BATCH], len[SG_ENCODE_BATCH];
    char bytes[SG_ENCODE_BATCH * SG_MAX_WORD];  /* the words' bytes, back to back */
} sg_encoder;

static inline void sg_encoder_init(sg_encoder *e)
{
    e->sent_len = 0;
    e->pending = e->next = 0;
    e->last = SG_TOK_WORD;
}

/* Read up to SG_ENCODE_BATCH tokens and newlines into e and look the words up. */
static inline void sg_encoder_fill(sg_encoder *e, sg_reader *r, const sg_wordhash *h)
{
    const char *tok;
    size_t len, used = 0;
    int n = 0, i;
    int64_t at[SG_ENCODE_BATCH];
    while (n < SG_ENCODE_BATCH) {
        int t = sg_reader_next(r, &tok, &len);
        if (t == SG_TOK_WORD) {
            uint64_t hv = sg_hash_bytes(tok, len);
            SG_PREFETCH(&h->slots[sg_wordhash_home(h, hv)]);
            memcpy(e->bytes + used, tok, len);
            e->off[n] = (uint32_t)used;
            e->len[n] = (uint32_t)len;
            e->hv[n] = hv;
            e->event[n++] = 0;
            used += len;
        } else if (t == SG_TOK_NEWLINE) {
            e->event[n++] = SG_ENC_NEWLINE;
        } else {
            e->last = t;
            break;
        }
    }
    for (i = 0; i < n; i++) {
        if (e->event[i] == SG_ENC_NEWLINE) continue;
        at[i] = sg_wordhash_tag_match(h, e->hv[i]);
        if (at[i] >= 0) SG_PREFETCH(h->arena + at[i]);
    }
    for (i = 0; i < n; i++) {
        const char *w = e->bytes + e->off[i];
        const sg_record *rec;
        int64_t id;
        if (e->event[i] == SG_ENC_NEWLINE) continue;
        if (at[i] < 0) { e->event[i] = SG_ENC_UNKNOWN; continue; }  /* an empty slot came first */
        rec = sg_wordhash_record(h, (uint64_t)at[i]);
        if (rec->len == e->len[i] && memcmp(rec + 1, w, e->len[i]) == 0) id = rec->id;
        else id = sg_wordhash_find_hashed(h, w, e->len[i], e->hv[i]);  /* a tag collision */
        e->event[i] = id >= 0 ? (int32_t)id : SG_ENC_UNKNOWN;
    }
    e->pending = n;
    e->next = 0;
}

/* Fill out[0..cap) with the ids of in-vocabulary tokens, writing -1 at each
 * newline and after every max_sentence ids of one line (word2vec.c's
 * sentence cut). Words not in h are dropped. Stops at the end of the range
 * or, once fewer than max_sentence + 1 slots are left, at the next -1, so a
 * chunk never splits a sentence. *status gets the reader's last result
 * (SG_TOK_END, SG_TOK_ERROR, SG_TOK_STOP, or SG_TOK_WORD if the chunk filled
 * up). cap must exceed max_sentence + 1. e (sg_encoder_init'ed before the
 * first chunk) carries what was read ahead from one call to the next. */
static inline int64_t sg_encode_chunk(sg_reader *r, const sg_wordhash *h, sg_encoder *e, int32_t *out,
                                      int64_t cap, int64_t max_sentence, int *status)
{
    int64_t n = 0;
    for (;;) {
        int32_t ev;
        if (n > 0 && out[n - 1] < 0 && n >= cap - max_sentence - 1) { *status = SG_TOK_WORD; return n; }
        if (e->next == e->pending) {
            if (e->last != SG_TOK_WORD) { *status = e->last; return n; }
            sg_encoder_fill(e, r, h);
            continue;
        }
        ev = e->event[e->next++];
        if (ev >= 0) {
            out[n++] = ev;
            if (++e->sent_len >= max_sentence) { out[n++] = -1; e->sent_len = 0; }
        } else if (ev == SG_ENC_NEWLINE) {
            out[n++] = -1;
            e->sent_len = 0;
        }
    }
}
#endif
