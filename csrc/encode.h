/* Tokens of a file range -> word ids, for the trainer. */
#ifndef SGNS_ENCODE_H
#define SGNS_ENCODE_H
#include <stdint.h>
#include "reader.h"
#include "tokenbatch.h"
#include "wordhash.h"

/* Tokens are read ahead and looked up a batch of SG_ENCODE_BATCH entries
 * (tokens and newlines) at a time (csrc/tokenbatch.h). */
#define SG_ENCODE_BATCH 32
#define SG_ENC_NEWLINE (-1)
#define SG_ENC_UNKNOWN (-2)

/* A reader's entries, read ahead and looked up, not yet written; and the
 * length of the current sentence. Carried from one chunk to the next. */
typedef struct {
    int64_t sent_len;
    int pending, next;  /* entries looked up, and the next to write */
    int last;           /* the reader's status after them: SG_TOK_WORD while more */
    int32_t event[SG_ENCODE_BATCH];  /* an id, SG_ENC_NEWLINE or SG_ENC_UNKNOWN */
    sg_token_batch b;
} sg_encoder;

static inline void sg_encoder_init(sg_encoder *e)
{
    e->sent_len = 0;
    e->pending = e->next = 0;
    e->last = SG_TOK_WORD;
}

/* Read the next batch of entries into e and look its words up. */
static inline void sg_encoder_fill(sg_encoder *e, sg_reader *r, const sg_wordhash *h)
{
    sg_token_batch *b = &e->b;
    int i, t = sg_tokens_fill(r, b, SG_ENCODE_BATCH, 1, NULL, sg_tokens_home_slot, h);
    if (t != SG_TOK_WORD) e->last = t;
    sg_tokens_match(b, h, NULL, NULL);
    for (i = 0; i < b->n; i++) {
        const sg_record *rec;
        if (b->len[i] == SG_TOKENS_NEWLINE) { e->event[i] = SG_ENC_NEWLINE; continue; }
        /* No tag match: an empty slot came first, so the word is not in h. */
        rec = b->at[i] < 0 ? NULL
                           : sg_wordhash_confirm(h, b->at[i], b->bytes + b->off[i], b->len[i], b->hv[i]);
        e->event[i] = rec ? (int32_t)rec->id : SG_ENC_UNKNOWN;
    }
    e->pending = b->n;
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
