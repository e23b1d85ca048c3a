#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "reader.h"
#include "atomics.h"

#ifdef _WIN32
#define sg_fseek _fseeki64
#else
#define sg_fseek fseeko
#endif

/* 1 for token separators: ASCII whitespace and NUL. */
static const unsigned char SEP[256] = {
    [0] = 1, ['\t'] = 1, ['\n'] = 1, ['\v'] = 1, ['\f'] = 1, ['\r'] = 1, [' '] = 1,
};

/* Index of the lowest set bit of m != 0, and whether 8 loaded bytes have
 * the first one in their low bits. */
#if defined(__GNUC__) || defined(__clang__)
#define lowest_bit(m) __builtin_ctzll(m)
#define SG_LITTLE_ENDIAN (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_ARM64))
#include <intrin.h>
static inline int lowest_bit(uint64_t m) { unsigned long i; _BitScanForward64(&i, m); return (int)i; }
#define SG_LITTLE_ENDIAN 1
#else
static inline int lowest_bit(uint64_t m) { int i = 0; while (!(m & 1)) { m >>= 1; i++; } return i; }
#define SG_LITTLE_ENDIAN 0  /* unknown byte order: the byte-by-byte loop */
#endif

/* The first separator in buf[e, lim), or lim. Eight bytes at a time: the
 * lowest flagged byte of (x - 0x21..) & ~x & 0x80.. is the first byte below
 * 0x21, which is a separator unless it is another control character. */
static inline size_t scan_word(const char *buf, size_t e, size_t lim)
{
    if (SG_LITTLE_ENDIAN) {
        while (e + 8 <= lim) {
            uint64_t x, m;
            memcpy(&x, buf + e, 8);
            m = (x - 0x2121212121212121ULL) & ~x & 0x8080808080808080ULL;
            if (!m) { e += 8; continue; }
            e += (size_t)(lowest_bit(m) >> 3);
            if (SEP[(unsigned char)buf[e]]) return e;
            e++;
        }
    }
    while (e < lim && !SEP[(unsigned char)buf[e]]) e++;
    return e;
}

/* Refill keeping buf[keep_from..len) at the start. Returns bytes added. */
static size_t refill(sg_reader *r, size_t keep_from)
{
    size_t keep = r->len - keep_from, got;
    if (r->at_eof || r->stopped) return 0;
    if (r->stop && sg_atomic_load32(r->stop)) { r->stopped = 1; return 0; }
    if (keep && keep_from) memmove(r->buf, r->buf + keep_from, keep);
    r->buf_pos += (int64_t)keep_from;
    r->i -= keep_from;
    r->len = keep;
    got = fread(r->buf + keep, 1, SG_READ_BUF - keep, r->f);
    if (got == 0) {
        if (ferror(r->f)) r->err = errno ? errno : EIO;
        r->at_eof = 1;
    }
    r->len += got;
    return got;
}

int sg_reader_open(sg_reader *r, const char *path, int64_t start, int64_t end)
{
    memset(r, 0, sizeof(*r));
    r->end = end;
    r->f = fopen(path, "rb");
    if (!r->f) return errno ? errno : ENOENT;
    r->buf = (char *)malloc(SG_READ_BUF);
    if (!r->buf) { fclose(r->f); r->f = NULL; return ENOMEM; }
    if (start > 0) {
        /* Start one byte early: if that byte is part of a word, the word
         * belongs to the previous range and is skipped. */
        if (sg_fseek(r->f, (int64_t)(start - 1), SEEK_SET) != 0) {
            int e = errno; sg_reader_close(r); return e ? e : EIO;
        }
        r->buf_pos = start - 1;
        refill(r, 0);
        if (r->len > 0 && !SEP[(unsigned char)r->buf[0]]) {
            for (;;) {
                while (r->i < r->len && !SEP[(unsigned char)r->buf[r->i]]) r->i++;
                if (r->i < r->len || !refill(r, r->i)) break;
            }
        } else if (r->len > 0) {
            r->i = 1;
        }
    }
    return 0;
}

void sg_reader_close(sg_reader *r)
{
    if (r->f) fclose(r->f);
    free(r->buf);
    r->f = NULL;
    r->buf = NULL;
}

/* Why a refill gave nothing. */
static int no_more(const sg_reader *r)
{
    return r->err ? SG_TOK_ERROR : r->stopped ? SG_TOK_STOP : SG_TOK_END;
}

/* Cut a word of more than SG_MAX_WORD bytes: w[SG_MAX_WORD] exists. Back off
 * so that the cut does not fall inside a UTF-8 sequence. */
static size_t utf8_cut(const char *w)
{
    size_t k = SG_MAX_WORD;
    while (k > SG_MAX_WORD - 3 && ((unsigned char)w[k] & 0xC0) == 0x80) k--;
    return ((unsigned char)w[k] & 0xC0) == 0x80 ? SG_MAX_WORD : k;
}

int sg_reader_next(sg_reader *r, const char **tok, size_t *len)
{
    for (;;) {
        size_t s, e;
        /* Skip separators; report newlines. */
        while (r->i < r->len) {
            unsigned char c = (unsigned char)r->buf[r->i];
            if (!SEP[c]) break;
            if (r->end >= 0 && r->buf_pos + (int64_t)r->i >= r->end) return SG_TOK_END;
            r->i++;
            if (c == '\n') return SG_TOK_NEWLINE;
        }
        if (r->i >= r->len) {
            if (!refill(r, r->len)) return no_more(r);
            continue;
        }
        if (r->end >= 0 && r->buf_pos + (int64_t)r->i >= r->end) return SG_TOK_END;
        /* A word starts at r->i: bring up to SG_MAX_WORD + 1 of its bytes
         * into the buffer (sliding it down when the buffer ends inside it). */
        s = r->i;
        e = s;
        for (;;) {
            int64_t before;
            size_t got, shift;
            e = scan_word(r->buf, e, r->len < s + SG_MAX_WORD + 1 ? r->len : s + SG_MAX_WORD + 1);
            if (e < r->len || e - s > SG_MAX_WORD) break;
            /* The buffer ends inside the word: slide it to the front and read
             * more. The slide happens even when the read hits end of file. */
            r->i = s;
            before = r->buf_pos;
            got = refill(r, s);
            shift = (size_t)(r->buf_pos - before);
            s -= shift;
            e -= shift;
            if (!got) break;
        }
        if (r->stopped) return SG_TOK_STOP;  /* the word may be incomplete */
        if (e - s <= SG_MAX_WORD) {
            r->i = e;
            *tok = r->buf + s;
            *len = e - s;
            return SG_TOK_WORD;
        }
        /* Too long: keep a UTF-8-clean prefix, skip the rest of the word. */
        *len = utf8_cut(r->buf + s);
        memcpy(r->word, r->buf + s, *len);
        *tok = r->word;
        r->i = e;
        for (;;) {
            while (r->i < r->len && !SEP[(unsigned char)r->buf[r->i]]) r->i++;
            if (r->i < r->len || !refill(r, r->i)) break;
        }
        if (r->stopped) return SG_TOK_STOP;
        return r->err ? SG_TOK_ERROR : SG_TOK_WORD;
    }
}
