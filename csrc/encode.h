/* Tokens of a file range -> word ids, for the trainer. */
#ifndef SGNS_ENCODE_H
#define SGNS_ENCODE_H
#include <stdint.h>
#include "reader.h"
#include "wordhash.h"

/* Fill out[0..cap) with the ids of in-vocabulary tokens, writing -1 at each
 * newline and after every max_sentence ids of one line (word2vec.c's
 * sentence cut). Words not in h are dropped. Stops at the end of the range
 * or, once fewer than max_sentence + 1 slots are left, at the next -1, so a
 * chunk never splits a sentence. *status gets the reader's last result
 * (SG_TOK_END, SG_TOK_ERROR, or SG_TOK_WORD if the chunk filled up).
 * cap must exceed max_sentence + 1. *sent_len carries the length of the
 * current sentence between calls. */
static inline int64_t sg_encode_chunk(sg_reader *r, const sg_wordhash *h, int32_t *out,
                                      int64_t cap, int64_t max_sentence,
                                      int64_t *sent_len, int *status)
{
    int64_t n = 0;
    const char *tok;
    size_t len;
    for (;;) {
        int t;
        if (n > 0 && out[n - 1] < 0 && n >= cap - max_sentence - 1) { *status = SG_TOK_WORD; return n; }
        t = sg_reader_next(r, &tok, &len);
        if (t == SG_TOK_WORD) {
            int64_t id = sg_wordhash_find(h, tok, len);
            if (id < 0) continue;
            out[n++] = (int32_t)id;
            if (++*sent_len >= max_sentence) { out[n++] = -1; *sent_len = 0; }
        } else if (t == SG_TOK_NEWLINE) {
            out[n++] = -1;
            *sent_len = 0;
        } else {
            *status = t;
            return n;
        }
    }
}
#endif
