/* Streaming whitespace tokenizer over a byte range of a file.
 *
 * Tokens are maximal runs of bytes other than ASCII whitespace and NUL.
 * '\n' ends a sentence. A token belongs to the range holding its first byte,
 * so ranges [0,a) [a,b) [b,size) split a file without losing or doubling a
 * token. Tokens longer than SG_MAX_WORD bytes are cut at a UTF-8 character
 * boundary (the rest is skipped). Memory is bounded by the buffer size,
 * whatever the line length. */
#ifndef SGNS_READER_H
#define SGNS_READER_H
#include <stdint.h>
#include <stdio.h>
#include <stddef.h>

#define SG_MAX_WORD 1000
#define SG_READ_BUF (1 << 20)

enum { SG_TOK_END = 0, SG_TOK_WORD = 1, SG_TOK_NEWLINE = 2, SG_TOK_STOP = 3, SG_TOK_ERROR = -1 };

typedef struct {
    FILE *f;
    char *buf;
    size_t len;        /* valid bytes in buf */
    size_t i;          /* scan position in buf */
    int64_t buf_pos;   /* file offset of buf[0] */
    int64_t end;       /* tokens must start before this offset (-1: none) */
    int at_eof;
    int err;           /* errno of a failed read, or 0 */
    const int32_t *stop; /* optional: when *stop != 0 the next buffer refill
                          * fails and the reader reports SG_TOK_STOP, so a
                          * scan of text without tokens can be cancelled */
    int stopped;
    char word[SG_MAX_WORD]; /* the kept prefix of an over-long word */
} sg_reader;

/* Open path on [start, end) (end < 0: to end of file). Returns 0 or an errno. */
int sg_reader_open(sg_reader *r, const char *path, int64_t start, int64_t end);
/* Next token: SG_TOK_WORD (*tok, *len set; valid until the next call),
 * SG_TOK_NEWLINE, SG_TOK_END, SG_TOK_STOP (r->stop was raised; checked once
 * per buffer refill, i.e. every SG_READ_BUF bytes) or SG_TOK_ERROR (r->err
 * set). */
int sg_reader_next(sg_reader *r, const char **tok, size_t *len);
void sg_reader_close(sg_reader *r);

#endif
