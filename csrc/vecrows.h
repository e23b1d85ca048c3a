/* Rows of word2vec vector files, parsed from a buffer in C, and written.
 *
 * A file of a few million vectors holds hundreds of millions of values: read
 * one row at a time in Python, it loads at a few MB/s. These functions take
 * the rows of a buffer that are plainly well formed and stop at the first
 * row they are unsure of, leaving it to the caller's exact reader (which
 * also words every error). So they never decide a malformed case; they only
 * have to agree with that reader on the rows they do take:
 *
 *   binary  separators " \n\r\t" before the word; the word runs to the next
 *           space, within 100000 bytes, is not empty and holds no NUL or
 *           newline; then dim little-endian float32.
 *   text    a line of at most max_row bytes with its newline; fields split
 *           on ASCII whitespace (space \t \v \f \r, as bytes.split()); the
 *           word, then exactly dim numbers that the fast path below reads
 *           exactly as Python's float() followed by a cast to float32.
 *
 * A row taken writes its vector to vectors[rows * dim ...], its word and a
 * '\n' to words (so the caller decodes them in one call; neither format lets
 * a word hold a newline) and the word's offset in buf to word_at[rows]. */
#ifndef SGNS_VECROWS_H
#define SGNS_VECROWS_H
#include <stddef.h>
#include <stdint.h>

enum {
    SG_ROWS_DONE = 0, /* max_rows rows taken */
    SG_ROWS_MORE = 1, /* the next row may continue past the buffer: read more */
    SG_ROWS_SLOW = 2, /* the row at *pos is for the exact reader */
    SG_ROWS_FULL = 3  /* words has no room for the next row's word: call again */
};

/* The longest binary word searched for a space (the Python reader's bound). */
#define SG_ROWS_MAX_BINARY_WORD 100000

typedef struct {
    float *vectors;   /* max_rows * dim floats */
    char *words;      /* words_cap bytes */
    size_t words_cap;
    size_t words_len; /* bytes written to words */
    int64_t *word_at; /* max_rows offsets */
    int64_t rows;     /* rows taken */
} sg_rows_out;

/* Rows from buf[*pos, len) until max_rows are taken (SG_ROWS_DONE) or the
 * next one is incomplete (SG_ROWS_MORE; with final set, the buffer holds the
 * rest of the file and it is SG_ROWS_SLOW instead) or not plainly well formed
 * (SG_ROWS_SLOW) or its word does not fit in words (SG_ROWS_FULL). *pos
 * ends at the first row not taken. out->rows and out->words_len count from 0
 * per call. */
int sg_binary_rows(const char *buf, size_t len, size_t *pos, int dim, int64_t max_rows, int final,
                   sg_rows_out *out);
int sg_text_rows(const char *buf, size_t len, size_t *pos, int dim, int64_t max_rows, size_t max_row,
                 int final, sg_rows_out *out);

/* The text reader's numbers: s[0, n) of the form [+-] digits [. digits]
 * [(e|E) [+-] digits], with at least one digit before the exponent, read to
 * the double that float() gives and cast to float32 as numpy casts. With at
 * most 19 significant digits, their integer at most 2^53 and a power of ten
 * within 1e-22..1e22 the double is one correctly rounded operation away
 * (Clinger's fast path); other such numbers (under 64 bytes) go to strtod,
 * correctly rounded as float() is. Returns 1 and sets *out, or 0 for
 * anything else (then float() decides). */
int sg_parse_float(const char *s, size_t n, float *out);

/* The longest text value sg_write_row writes: sign, 13 integer digits, the
 * point, 6 decimals and the space after it. */
#define SG_ROW_MAX_TEXT_VALUE 22

/* One row of a vector file into out: the word's word_len bytes, a space, the
 * dim values of v and a newline. binary: little-endian float32; text: each
 * value as word2vec.c's printf("%f ") writes it (exactly: the value's binary
 * expansion rounded to 6 decimals, halves to even), for finite values under
 * 2^43 in magnitude. A NaN or infinity (either layout) or a text value of
 * 2^43 or more makes it return 0 (the caller formats or refuses the row).
 * Else returns the bytes written: at most word_len + 2 + dim * 4 (binary) or
 * word_len + 2 + dim * SG_ROW_MAX_TEXT_VALUE (text). */
size_t sg_write_row(char *out, const char *word, size_t word_len, const float *v, int dim, int binary);

#endif
