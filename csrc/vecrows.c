#include "vecrows.h"

#include <stdlib.h>
#include <string.h>

/* 10^0 .. 10^22: every one an exact double. */
static const double POW10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* bytes.split()'s whitespace, less the newline that ends a text row. */
static inline int is_field_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

static inline unsigned digit(char c) { return (unsigned)(unsigned char)c - '0'; }

/* The number at s (before end) up to the first byte that cannot continue it:
 * returns that byte's address with *out set, or NULL where float() must
 * decide. Digits are counted with their leading zeros, so up to 19 fit m. */
static inline const char *parse_number(const char *s, const char *end, float *out)
{
    const char *start = s, *digits_from;
    uint64_t m = 0;
    int neg = 0, exp10 = 0, n_digits;
    double v;
    if (s < end && (*s == '+' || *s == '-')) neg = *s++ == '-';
    digits_from = s;
    for (; s < end && digit(*s) < 10; s++) m = m * 10 + digit(*s);
    n_digits = (int)(s - digits_from);
    if (s < end && *s == '.') {
        const char *frac = ++s;
        for (; s < end && digit(*s) < 10; s++) m = m * 10 + digit(*s);
        exp10 = -(int)(s - frac);
        n_digits += (int)(s - frac);
    }
    if (n_digits == 0) return NULL;
    if (s < end && (*s == 'e' || *s == 'E')) {
        int e = 0, eneg = 0;
        const char *e_digits;
        s++;
        if (s < end && (*s == '+' || *s == '-')) eneg = *s++ == '-';
        for (e_digits = s; s < end && digit(*s) < 10; s++)
            if (e < 100000) e = e * 10 + (int)digit(*s);
        if (s == e_digits) return NULL;
        exp10 += eneg ? -e : e;
    }
    if (n_digits <= 19 && m <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
        /* m is exact (19 digits cannot overflow it), and so is 10^|exp10|. */
        v = exp10 < 0 ? (double)m / POW10[-exp10] : (double)m * POW10[exp10];
        *out = (float)(neg ? -v : v);
        return s;
    }
    {
        /* Checked to be a plain decimal above: strtod rounds it correctly, as
         * float() does. It must read all of it (a locale whose decimal point
         * is not '.' stops it early: then float() decides). */
        char copy[64], *stop;
        size_t n = (size_t)(s - start);
        if (n >= sizeof(copy)) return NULL;
        memcpy(copy, start, n);
        copy[n] = '\0';
        v = strtod(copy, &stop);
        if (stop != copy + n) return NULL;
        *out = (float)v;
        return s;
    }
}

int sg_parse_float(const char *s, size_t n, float *out) { return parse_number(s, s + n, out) == s + n; }

static inline void take_word(sg_rows_out *out, const char *buf, size_t at, size_t n)
{
    memcpy(out->words + out->words_len, buf + at, n);
    out->words[out->words_len + n] = '\n';
    out->words_len += n + 1;
    out->word_at[out->rows] = (int64_t)at;
}

static inline void load_le32(float *dst, const char *src, int dim)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    int k;
    for (k = 0; k < dim; k++) {
        const unsigned char *b = (const unsigned char *)src + 4 * k;
        uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        memcpy(dst + k, &u, 4);
    }
#else
    memcpy(dst, src, 4 * (size_t)dim);
#endif
}

int sg_binary_rows(const char *buf, size_t len, size_t *pos, int dim, int64_t max_rows, int final,
                   sg_rows_out *out)
{
    size_t p = *pos, row_bytes = 4 * (size_t)dim;
    int status = SG_ROWS_DONE;
    out->rows = 0;
    out->words_len = 0;
    while (out->rows < max_rows) {
        size_t q = p, reach;
        const char *space;
        while (q < len && (buf[q] == ' ' || buf[q] == '\n' || buf[q] == '\r' || buf[q] == '\t')) q++;
        if (q == len) {
            status = final ? SG_ROWS_SLOW : SG_ROWS_MORE;
            break;
        }
        reach = len - q < SG_ROWS_MAX_BINARY_WORD ? len - q : SG_ROWS_MAX_BINARY_WORD;
        space = memchr(buf + q, ' ', reach);
        if (space == NULL) {
            status = final || reach == SG_ROWS_MAX_BINARY_WORD ? SG_ROWS_SLOW : SG_ROWS_MORE;
            break;
        }
        if (space == buf + q || memchr(buf + q, '\0', (size_t)(space - (buf + q))) != NULL ||
            memchr(buf + q, '\n', (size_t)(space - (buf + q))) != NULL) {
            status = SG_ROWS_SLOW;
            break;
        }
        if ((size_t)(space - buf) + 1 + row_bytes > len) {
            status = final ? SG_ROWS_SLOW : SG_ROWS_MORE;
            break;
        }
        if (out->words_len + (size_t)(space - (buf + q)) + 1 > out->words_cap) {
            status = SG_ROWS_FULL;
            break;
        }
        load_le32(out->vectors + out->rows * dim, space + 1, dim);
        take_word(out, buf, q, (size_t)(space - (buf + q)));
        out->rows++;
        p = (size_t)(space - buf) + 1 + row_bytes;
    }
    *pos = p;
    return status;
}

int sg_text_rows(const char *buf, size_t len, size_t *pos, int dim, int64_t max_rows, size_t max_row,
                 int final, sg_rows_out *out)
{
    size_t p = *pos;
    int status = SG_ROWS_DONE;
    out->rows = 0;
    out->words_len = 0;
    while (out->rows < max_rows) {
        size_t reach = len - p < max_row ? len - p : max_row, q, word_at, word_len;
        const char *nl = reach ? memchr(buf + p, '\n', reach) : NULL, *line_end;
        float *row = out->vectors + out->rows * dim;
        int k;
        if (nl == NULL) {
            /* Too long, the last line without its newline, or cut by the buffer. */
            status = final || reach == max_row ? SG_ROWS_SLOW : SG_ROWS_MORE;
            break;
        }
        line_end = nl;
        q = p;
        while (buf + q < line_end && is_field_space(buf[q])) q++;
        word_at = q;
        while (buf + q < line_end && !is_field_space(buf[q])) q++;
        word_len = q - word_at;
        if (word_len == 0) {
            status = SG_ROWS_SLOW;
            break;
        }
        for (k = 0; k < dim; k++) {
            const char *after;
            while (buf + q < line_end && is_field_space(buf[q])) q++;
            after = parse_number(buf + q, line_end, row + k);
            /* A number must end its field. */
            if (after == NULL || (after != line_end && !is_field_space(*after))) break;
            q = (size_t)(after - buf);
        }
        while (buf + q < line_end && is_field_space(buf[q])) q++;
        if (k < dim || buf + q != line_end) { /* fewer or more fields, or a number for float() */
            status = SG_ROWS_SLOW;
            break;
        }
        if (out->words_len + word_len + 1 > out->words_cap) {
            status = SG_ROWS_FULL;
            break;
        }
        take_word(out, buf, word_at, word_len);
        out->rows++;
        p = (size_t)(nl - buf) + 1;
    }
    *pos = p;
    return status;
}

/* ---- writing ------------------------------------------------------------- */

static inline void store_le32(char *dst, const float *src, int dim)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    int k;
    for (k = 0; k < dim; k++) {
        uint32_t u;
        unsigned char *b = (unsigned char *)dst + 4 * k;
        memcpy(&u, src + k, 4);
        b[0] = (unsigned char)u, b[1] = (unsigned char)(u >> 8);
        b[2] = (unsigned char)(u >> 16), b[3] = (unsigned char)(u >> 24);
    }
#else
    memcpy(dst, src, 4 * (size_t)dim);
#endif
}

/* Whether no value of v is NaN or infinite (exponent bits all set), in a
 * loop compilers vectorise. */
static inline int all_finite(const float *v, int dim)
{
    int k, bad = 0;
    for (k = 0; k < dim; k++) {
        uint32_t u;
        memcpy(&u, v + k, 4);
        bad |= (u & 0x7f800000u) == 0x7f800000u;
    }
    return !bad;
}

/* "00" "01" ... "99" */
static const char PAIRS[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                            "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                            "8081828384858687888990919293949596979899";

/* "%f " of x into out, or 0 if x is not finite or |x| >= 2^43. x is m * 2^e
 * exactly (m < 2^24), so x * 10^6 = m * 10^6 * 2^e is an integer shifted by
 * e, and rounding it to the nearest, halves to even, is what printf and
 * Python's '%f' do with the exact binary value. */
static size_t fixed6(float x, char *out)
{
    uint32_t bits, biased, frac;
    uint64_t m, q, whole;
    int e;
    size_t n;
    memcpy(&bits, &x, 4);
    biased = (bits >> 23) & 0xFF;
    if (biased >= 127 + 43) return 0; /* also NaN and infinity (255) */
    m = bits & 0x7FFFFF;
    if (biased) m |= 0x800000;
    e = (biased ? (int)biased : 1) - 150;
    m *= 1000000u; /* < 2^44 */
    if (e >= 0) {
        q = m << e; /* e <= 19 */
    } else if (-e >= 46) {
        q = 0; /* below half a millionth */
    } else {
        uint64_t rest = m & ((UINT64_C(1) << -e) - 1), half = UINT64_C(1) << (-e - 1);
        q = m >> -e;
        q += (uint64_t)((rest > half) | ((rest == half) & (int)(q & 1)));
    }
    /* Rounding and sign without branches: both are a coin toss per value. */
    out[0] = '-'; /* kept for a negative value, -0.000000 too, as printf writes it */
    n = bits >> 31;
    whole = q / 1000000u;
    frac = (uint32_t)(q - whole * 1000000u);
    if (whole < 10) {
        out[n++] = (char)('0' + whole);
    } else {
        char digits[16];
        size_t k = 0;
        for (; whole; whole /= 10) digits[k++] = (char)('0' + whole % 10);
        while (k) out[n++] = digits[--k];
    }
    out[n++] = '.';
    memcpy(out + n, PAIRS + 2 * (frac / 10000), 2);
    memcpy(out + n + 2, PAIRS + 2 * (frac / 100 % 100), 2);
    memcpy(out + n + 4, PAIRS + 2 * (frac % 100), 2);
    out[n + 6] = ' ';
    return n + 7;
}

size_t sg_write_row(char *out, const char *word, size_t word_len, const float *v, int dim, int binary)
{
    size_t n = word_len + 1;
    int k;
    memcpy(out, word, word_len);
    out[word_len] = ' ';
    if (binary) {
        if (!all_finite(v, dim)) return 0;
        store_le32(out + n, v, dim);
        n += 4 * (size_t)dim;
    } else {
        for (k = 0; k < dim; k++) {
            size_t w = fixed6(v[k], out + n);
            if (w == 0) return 0;
            n += w;
        }
    }
    out[n++] = '\n';
    return n;
}
