#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "phrases.h"
#include "reader.h"
#include "atomics.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif
#ifdef _WIN32
#include <io.h>
#define sp_dup _dup
#define sp_fdopen _fdopen
#define sp_seek _fseeki64
#else
#include <unistd.h>
#define sp_dup dup
#define sp_fdopen fdopen
#define sp_seek fseeko
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SP_PREFETCH(p) __builtin_prefetch(p)
#else
#define SP_PREFETCH(p) ((void)0)
#endif

#define SP_MAX_ARENA ((((uint64_t)1 << 32) - 2) * 8) /* offset/8 + 1 fits a slot's 32 bits */
#define SP_BUF (1 << 20)

/* ---- the table ----------------------------------------------------------- */

static uint32_t load32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Multiply-xorshift over 8-byte blocks: cheap for short words, well mixed.
 * A tail of 1-7 bytes is read as two overlapping 4-byte loads (or 3 single
 * bytes), without a call to memcpy. Hashes live only in memory (files hold
 * records; tables are re-indexed on load), so this may change freely. */
static uint64_t sp_hash(const char *p, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)n * 0xff51afd7ed558ccdULL);
    while (n >= 8) {
        uint64_t k;
        memcpy(&k, p, 8);
        h = (h ^ k) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
        p += 8;
        n -= 8;
    }
    if (n) {
        uint64_t k;
        if (n >= 4) k = (uint64_t)load32(p) | (uint64_t)load32(p + n - 4) << 32;
        else k = (uint64_t)(unsigned char)p[0] | (uint64_t)(unsigned char)p[n / 2] << 8 |
                 (uint64_t)(unsigned char)p[n - 1] << 16;
        h = (h ^ k) * 0x94d049bb133111ebULL;
        h ^= h >> 29;
    }
    h *= 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 32);
}

/* Ask for transparent huge pages over a large block: the table is probed at
 * random, and with 4 KiB pages nearly every probe would also miss the TLB. */
static void want_huge_pages(void *p, size_t n)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)1 << 21;
    uintptr_t start = ((uintptr_t)p + huge - 1) & ~(huge - 1), end = ((uintptr_t)p + n) & ~(huge - 1);
    if (n >= 2 * huge && end > start) madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}

static uint64_t load64(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* memcmp(a, b, n) == 0 inlined for short keys: 8-byte words, the last one
 * overlapping; never reads outside either key. */
static int same_bytes(const char *a, const char *b, size_t n)
{
    size_t i;
    if (n >= 8) {
        for (i = 0; i + 8 < n; i += 8)
            if (load64(a + i) != load64(b + i)) return 0;
        return load64(a + n - 8) == load64(b + n - 8);
    }
    if (n >= 4) return load32(a) == load32(b) && load32(a + n - 4) == load32(b + n - 4);
    for (i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

static size_t rec_size(size_t n) { return (12 + n + 7) & ~(size_t)7; }

static int64_t probe(const sp_table *t, const char *w, size_t n, uint64_t h, uint64_t *slot)
{
    uint64_t mask = t->cap - 1, s = h & mask;
    uint32_t fp = (uint32_t)(h >> 32);
    for (;;) {
        uint64_t e = t->slots[s];
        if (!e) { *slot = s; return -1; }
        if ((uint32_t)(e >> 32) == fp) {
            int64_t off = (int64_t)(((e & 0xffffffffu) - 1) * 8);
            if (sp_len(t, off) == n && same_bytes(sp_key(t, off), w, n)) { *slot = s; return off; }
        }
        s = (s + 1) & mask;
    }
}

static int rehash(sp_table *t, uint64_t cap)
{
    uint64_t *slots = (uint64_t *)calloc((size_t)cap, sizeof(uint64_t)), *old = t->slots;
    int64_t off;
    if (!slots) return SP_ENOMEM;
    want_huge_pages(slots, (size_t)cap * sizeof(uint64_t));
    t->slots = slots;
    t->cap = cap;
    for (off = t->n ? 0 : -1; off >= 0; off = sp_next(t, off)) {
        uint64_t h = sp_hash(sp_key(t, off), sp_len(t, off)), s = h & (cap - 1);
        while (slots[s]) s = (s + 1) & (cap - 1);
        slots[s] = (h >> 32) << 32 | ((uint64_t)off / 8 + 1);
    }
    free(old);
    return SP_OK;
}

int sp_init(sp_table *t, int64_t expected)
{
    uint64_t cap = 256;
    memset(t, 0, sizeof(*t));
    while ((int64_t)(cap / 2) < expected) cap *= 2;
    t->size = 1 << 12;
    t->arena = (unsigned char *)malloc((size_t)t->size);
    if (!t->arena || rehash(t, cap)) { sp_free(t); return SP_ENOMEM; }
    return SP_OK;
}

void sp_free(sp_table *t)
{
    free(t->slots);
    free(t->arena);
    memset(t, 0, sizeof(*t));
}

int64_t sp_next(const sp_table *t, int64_t off)
{
    off += (int64_t)rec_size(sp_len(t, off));
    return (uint64_t)off < t->used ? off : -1;
}

int64_t sp_find(const sp_table *t, const char *w, size_t n)
{
    uint64_t slot;
    return probe(t, w, n, sp_hash(w, n), &slot);
}

static int64_t insert_hashed(sp_table *t, const char *w, size_t n, uint64_t h)
{
    uint64_t slot, need = rec_size(n);
    int64_t off = probe(t, w, n, h, &slot);
    uint32_t n32 = (uint32_t)n;
    if (off >= 0) return off;
    if (n > 0xffffffffu || t->used + need > SP_MAX_ARENA) return SP_ENOMEM;
    if (t->used + need > t->size) {
        uint64_t size = t->size * 2;
        unsigned char *a;
        while (size < t->used + need) size *= 2;
        if (size > SP_MAX_ARENA + 64) size = SP_MAX_ARENA + 64;
        a = (unsigned char *)realloc(t->arena, (size_t)size);
        if (!a) return SP_ENOMEM;
        want_huge_pages(a, (size_t)size);
        t->arena = a;
        t->size = size;
    }
    off = (int64_t)t->used;
    memset(t->arena + off, 0, need);
    memcpy(t->arena + off + 8, &n32, 4);
    memcpy(t->arena + off + 12, w, n);
    t->used += need;
    t->n++;
    t->slots[slot] = (h >> 32) << 32 | ((uint64_t)off / 8 + 1);
    /* Load factor at most 0.6: linear probing stays short. */
    if ((uint64_t)t->n * 5 > t->cap * 3 && rehash(t, t->cap * 2)) {
        t->slots[slot] = 0;
        t->n--;
        t->used -= need;
        return SP_ENOMEM;
    }
    return off;
}

int64_t sp_insert(sp_table *t, const char *w, size_t n) { return insert_hashed(t, w, n, sp_hash(w, n)); }

/* Add v[i] (v NULL: 1) to key i (p[i], n[i]) for i < count <= SP_BATCH, misses overlapped:
 * every slot is prefetched, then a few keys ahead the record a slot names. */
static int add_many(sp_table *t, const char *const *p, const uint32_t *n, const int64_t *v, int count)
{
    uint64_t h[SP_BATCH];
    int i;
    for (i = 0; i < count; i++) {
        h[i] = sp_hash(p[i], n[i]);
        SP_PREFETCH(&t->slots[h[i] & (t->cap - 1)]);
    }
    for (i = 0; i < count; i++) {
        int64_t off;
        if (i + 8 < count) {
            uint64_t e = t->slots[h[i + 8] & (t->cap - 1)];
            if (e) SP_PREFETCH(t->arena + ((e & 0xffffffffu) - 1) * 8);
        }
        off = insert_hashed(t, p[i], n[i], h[i]);
        if (off < 0) return SP_ENOMEM;
        *sp_value(t, off) += v ? v[i] : 1;
    }
    return SP_OK;
}

int sp_batch_flush(sp_table *t, sp_batch *b)
{
    const char *p[SP_BATCH];
    int i, rc;
    for (i = 0; i < b->count; i++) p[i] = b->buf + b->off[i];
    rc = add_many(t, p, b->n, NULL, b->count);
    b->count = 0;
    b->len = 0;
    return rc;
}

int sp_batch_push(sp_table *t, sp_batch *b, const char *w, size_t n)
{
    if (n > 0xffffffffu) return SP_ENOMEM;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        char *q;
        while (cap < b->len + n) cap *= 2;
        q = (char *)realloc(b->buf, cap);
        if (!q) return SP_ENOMEM;
        b->buf = q;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, w, n);
    b->off[b->count] = b->len;
    b->n[b->count] = (uint32_t)n;
    b->len += n;
    return ++b->count == SP_BATCH ? sp_batch_flush(t, b) : SP_OK;
}

void sp_batch_free(sp_batch *b)
{
    free(b->buf);
    memset(b, 0, sizeof(*b));
}

int sp_prune(sp_table *t, int64_t below)
{
    uint64_t src = 0, dst = 0, cap;
    int64_t kept = 0;
    while (src < t->used) {
        size_t sz = rec_size(sp_len(t, (int64_t)src));
        if (*sp_value(t, (int64_t)src) >= below) {
            if (dst != src) memmove(t->arena + dst, t->arena + src, sz);
            dst += sz;
            kept++;
        }
        src += sz;
    }
    t->used = dst;
    t->n = kept;
    cap = 256; /* shrink: a sparse table wastes cache */
    while ((uint64_t)kept * 5 > cap * 3) cap *= 2;
    return rehash(t, cap);
}

int sp_merge(sp_table *dst, const sp_table *src)
{
    const char *p[SP_BATCH];
    uint32_t n[SP_BATCH];
    int64_t v[SP_BATCH], off;
    int k = 0;
    for (off = src->n ? 0 : -1; off >= 0; off = sp_next(src, off)) {
        p[k] = sp_key(src, off);
        n[k] = sp_len(src, off);
        v[k] = *sp_value(src, off);
        if (++k == SP_BATCH) {
            if (add_many(dst, p, n, v, k)) return SP_ENOMEM;
            k = 0;
        }
    }
    return add_many(dst, p, n, v, k);
}

uint64_t sp_dump_size(const sp_table *t)
{
    uint64_t total = 0;
    int64_t off;
    for (off = t->n ? 0 : -1; off >= 0; off = sp_next(t, off)) total += 12 + sp_len(t, off);
    return total;
}

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
    int i;
    for (i = 0; i < bytes; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    int i;
    for (i = 0; i < bytes; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

void sp_dump(const sp_table *t, unsigned char *out)
{
    int64_t off;
    for (off = t->n ? 0 : -1; off >= 0; off = sp_next(t, off)) {
        uint32_t n = sp_len(t, off);
        put_le(out, n, 4);
        memcpy(out + 4, sp_key(t, off), n);
        put_le(out + 4 + n, (uint64_t)*sp_value(t, off), 8);
        out += 12 + n;
    }
}

int sp_load(sp_table *t, const unsigned char *buf, uint64_t len)
{
    const char *p[SP_BATCH];
    uint32_t n[SP_BATCH];
    int64_t v[SP_BATCH], before;
    uint64_t i = 0;
    int k = 0;
    while (i < len || k) {
        if (i < len) {
            uint64_t kn;
            if (len - i < 12) return SP_EFORMAT;
            kn = get_le(buf + i, 4);
            if (kn > len - i - 12) return SP_EFORMAT;
            p[k] = (const char *)buf + i + 4;
            n[k] = (uint32_t)kn;
            v[k] = (int64_t)get_le(buf + i + 4 + kn, 8);
            i += 12 + kn;
            if (++k < SP_BATCH && i < len) continue;
        }
        before = t->n;
        if (add_many(t, p, n, v, k)) return SP_ENOMEM;
        if (t->n - before != k) return SP_EFORMAT; /* a repeated key */
        k = 0;
    }
    return SP_OK;
}

static int little_endian(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

/* A record's value and length between host order and little-endian (a no-op
 * on little-endian hosts); `native` says which order a's lengths are in now. */
static void swap_records(unsigned char *a, uint64_t used, int native)
{
    uint64_t off = 0;
    if (little_endian()) return;
    while (off + 12 <= used) {
        uint64_t v;
        uint32_t n;
        memcpy(&v, a + off, 8);
        memcpy(&n, a + off + 8, 4);
        if (!native) n = (uint32_t)get_le(a + off + 8, 4);
        put_le(a + off, v, 8);
        if (native) put_le(a + off + 8, n, 4);
        else memcpy(a + off + 8, &n, 4);
        if (n > used - off - 12) return; /* malformed: the caller's walk refuses it */
        off += rec_size(n);
    }
}

void sp_dump_arena(const sp_table *t, unsigned char *out)
{
    memcpy(out, t->arena, (size_t)t->used);
    swap_records(out, t->used, 1);
}

/* The slot of each record of t->arena from byte `from` on (records checked
 * first); new keys only. */
static int index_records(sp_table *t, uint64_t len)
{
    uint64_t from = t->used, off[SP_BATCH], h[SP_BATCH];
    while (from < len) {
        int k, count = 0;
        for (; count < SP_BATCH && from < len; count++) {
            uint32_t n;
            uint64_t rs, i;
            if (len - from < 12) return SP_EFORMAT;
            memcpy(&n, t->arena + from + 8, 4);
            if (n > len - from - 12 || (rs = rec_size(n)) > len - from) return SP_EFORMAT;
            for (i = 12 + n; i < rs; i++)
                if (t->arena[from + i]) return SP_EFORMAT;
            off[count] = from;
            h[count] = sp_hash(sp_key(t, (int64_t)from), n);
            SP_PREFETCH(&t->slots[h[count] & (t->cap - 1)]);
            from += rs;
        }
        for (k = 0; k < count; k++) {
            uint64_t slot;
            if (probe(t, sp_key(t, (int64_t)off[k]), sp_len(t, (int64_t)off[k]), h[k], &slot) >= 0) return SP_EFORMAT;
            t->slots[slot] = (h[k] >> 32) << 32 | (off[k] / 8 + 1);
            t->n++;
            t->used = off[k] + rec_size(sp_len(t, (int64_t)off[k]));
            if ((uint64_t)t->n * 5 > t->cap * 3 && rehash(t, t->cap * 2)) return SP_ENOMEM;
        }
    }
    return SP_OK;
}

int sp_load_arena(sp_table *t, const unsigned char *buf, uint64_t len)
{
    int rc;
    if (t->n || len % 8) return SP_EFORMAT;
    if (len > SP_MAX_ARENA) return SP_ENOMEM;
    if (len > t->size) {
        unsigned char *a = (unsigned char *)realloc(t->arena, (size_t)len);
        if (!a) return SP_ENOMEM;
        t->arena = a;
        t->size = len;
    }
    memcpy(t->arena, buf, (size_t)len);
    swap_records(t->arena, len, 0);
    rc = index_records(t, len);
    if (rc) { /* leave an empty table */
        memset(t->slots, 0, (size_t)t->cap * sizeof(uint64_t));
        t->n = 0;
        t->used = 0;
    }
    return rc;
}

/* ---- buffered output to a descriptor -------------------------------------- */

typedef struct {
    FILE *f;            /* NULL: the text goes to mem */
    sp_text *mem;
    char *buf;
    size_t len;
    int err;
} sp_out;

/* Output to descriptor fd, or with fd < 0 appended to *mem. */
static int out_open(sp_out *o, int fd, sp_text *mem)
{
    memset(o, 0, sizeof(*o));
    o->mem = mem;
    if (fd >= 0) {
        int d = sp_dup(fd);
        if (d < 0) return errno ? errno : EBADF;
        o->f = sp_fdopen(d, "wb");
        if (!o->f) return errno ? errno : ENOMEM;
    }
    o->buf = (char *)malloc(SP_BUF);
    if (!o->buf) {
        if (o->f) fclose(o->f);
        return ENOMEM;
    }
    return 0;
}

static void out_flush(sp_out *o)
{
    if (!o->len || o->err) {
        o->len = 0;
        return;
    }
    if (o->f) {
        if (fwrite(o->buf, 1, o->len, o->f) != o->len) o->err = errno ? errno : EIO;
    } else {
        sp_text *t = o->mem;
        if (t->len + o->len > t->cap) {
            size_t cap = t->cap ? t->cap : SP_BUF;
            char *p;
            while (cap < t->len + o->len) cap *= 2;
            if (!(p = (char *)realloc(t->p, cap))) {
                o->err = ENOMEM;
                o->len = 0;
                return;
            }
            t->p = p;
            t->cap = cap;
        }
        memcpy(t->p + t->len, o->buf, o->len);
        t->len += o->len;
    }
    o->len = 0;
}

static void out_put(sp_out *o, const char *p, size_t n)
{
    while (n) {
        size_t k = SP_BUF - o->len < n ? SP_BUF - o->len : n;
        memcpy(o->buf + o->len, p, k);
        o->len += k;
        p += k;
        n -= k;
        if (o->len == SP_BUF) out_flush(o);
    }
}

static int out_close(sp_out *o)
{
    out_flush(o);
    if (o->f) {
        if (fflush(o->f) != 0 && !o->err) o->err = errno ? errno : EIO;
        fclose(o->f);
    }
    free(o->buf);
    return o->err;
}

void sp_text_free(sp_text *t)
{
    free(t->p);
    memset(t, 0, sizeof(*t));
}

int sp_text_write(int fd, const sp_text *t)
{
    sp_out o;
    int e = out_open(&o, fd, NULL);
    if (e) return e;
    if (t->len && fwrite(t->p, 1, t->len, o.f) != t->len) o.err = errno ? errno : EIO;
    return out_close(&o);
}

/* ---- gensim's scoring, learning and analysis ------------------------------ */

double sp_score(const sp_model *m, int64_t ca, int64_t cb, int64_t cab)
{
    if (m->scoring == SP_SCORE_NPMI) {
        double total = (double)m->corpus_words, pa, pb, pab, ratio;
        if ((double)cab < m->min_count) return -INFINITY;
        pa = (double)ca / total;
        pb = (double)cb / total;
        pab = (double)cab / total;
        ratio = pab / (pa * pb);
        if (!(ratio > 0) || !(pab > 0)) return -INFINITY; /* log's domain error */
        return log(ratio) / -log(pab);
    } else {
        double denom = (ca != 0 && cb > INT64_MAX / ca) ? (double)ca * (double)cb : (double)(ca * cb);
        if (denom == 0) return -INFINITY;
        return ((double)cab - m->min_count) / denom * (double)m->vocab->n;
    }
}

static int is_connector(const sp_table *conn, const char *w, size_t n)
{
    return conn && conn->n && sp_find(conn, w, n) >= 0;
}

static int buf_reserve(char **buf, size_t *cap, size_t need)
{
    if (need > *cap) {
        size_t c = *cap ? *cap : 256;
        char *b;
        while (c < need) c *= 2;
        b = (char *)realloc(*buf, c);
        if (!b) return SP_ENOMEM;
        *buf = b;
        *cap = c;
    }
    return SP_OK;
}

void sp_counter_init(sp_counter *c, sp_table *t, const sp_table *connectors, const char *delim,
                     size_t dlen, int64_t bound)
{
    memset(c, 0, sizeof(*c));
    c->t = t;
    c->connectors = connectors;
    c->delim = delim;
    c->dlen = dlen;
    c->bound = bound;
    c->min_reduce = 1;
}

void sp_counter_free(sp_counter *c)
{
    free(c->buf);
    c->buf = NULL;
    sp_batch_free(&c->batch);
}

/* Append delim + w to the phrase being built. */
static int grow_phrase(sp_counter *c, const char *w, size_t n)
{
    if (buf_reserve(&c->buf, &c->cap, c->len + c->dlen + n)) return SP_ENOMEM;
    memcpy(c->buf + c->len, c->delim, c->dlen);
    memcpy(c->buf + c->len + c->dlen, w, n);
    c->len += c->dlen + n;
    return SP_OK;
}

int sp_count_word(sp_counter *c, const char *w, size_t n)
{
    c->words++;
    if (is_connector(c->connectors, w, n)) return c->has_start ? grow_phrase(c, w, n) : SP_OK;
    if (sp_batch_push(c->t, &c->batch, w, n)) return SP_ENOMEM;
    if (c->has_start && (grow_phrase(c, w, n) || sp_batch_push(c->t, &c->batch, c->buf, c->len))) return SP_ENOMEM;
    if (buf_reserve(&c->buf, &c->cap, n)) return SP_ENOMEM;
    memcpy(c->buf, w, n);
    c->len = n;
    c->has_start = 1;
    return SP_OK;
}

int sp_count_end(sp_counter *c)
{
    c->has_start = 0;
    if (sp_batch_flush(c->t, &c->batch)) return SP_ENOMEM;
    if (c->bound > 0 && c->t->n > c->bound) {
        if (sp_prune(c->t, c->min_reduce)) return SP_ENOMEM;
        c->min_reduce++;
    }
    return SP_OK;
}

int sp_count_batch(sp_counter *c, const char *arena, const int64_t *lens, int64_t n)
{
    int64_t i;
    for (i = 0; i < n; i++) {
        int rc = lens[i] < 0 ? sp_count_end(c) : sp_count_word(c, arena, (size_t)lens[i]);
        if (rc) return rc;
        if (lens[i] > 0) arena += lens[i];
    }
    return sp_batch_flush(c->t, &c->batch);
}

static int reader_status(const sg_reader *r, int t, int *err)
{
    if (t == SG_TOK_ERROR) { *err = r->err; return SP_EIO; }
    return t == SG_TOK_STOP ? SP_ESTOP : SP_OK;
}

/* After the range: the phrase of a sentence that crosses into the next range
 * closes at its first non-connector word (connectors grow it). */
static int count_peek(sp_counter *c, sg_reader *r, int *err)
{
    const char *tok;
    size_t n;
    int t;
    r->end = -1;
    while (c->has_start && (t = sg_reader_next(r, &tok, &n)) == SG_TOK_WORD) {
        if (is_connector(c->connectors, tok, n)) {
            if (grow_phrase(c, tok, n)) return SP_ENOMEM;
            continue;
        }
        if (grow_phrase(c, tok, n) || sp_batch_push(c->t, &c->batch, c->buf, c->len)) return SP_ENOMEM;
        return SP_OK;
    }
    return c->has_start ? reader_status(r, t, err) : SP_OK;
}

int sp_count_file(sp_counter *c, const char *path, int64_t start, int64_t end, int peek,
                  const int32_t *stop, int *err)
{
    sg_reader r;
    const char *tok;
    size_t n;
    int t, rc = SP_OK;
    *err = sg_reader_open(&r, path, start, end);
    if (*err) return SP_EIO;
    r.stop = stop;
    while (rc == SP_OK) {
        t = sg_reader_next(&r, &tok, &n);
        if (t == SG_TOK_WORD) rc = sp_count_word(c, tok, n);
        else if (t == SG_TOK_NEWLINE) rc = sp_count_end(c);
        else break;
    }
    if (rc == SP_OK) rc = reader_status(&r, t, err);
    if (rc == SP_OK && t == SG_TOK_END && peek) rc = count_peek(c, &r, err);
    if (rc == SP_OK) rc = sp_count_end(c);
    sg_reader_close(&r);
    return rc;
}

/* The candidate (tokens first..k) scored as a phrase ending at token k. */
static int score_phrase(const sp_model *m, const char *a, size_t an, const char *b, size_t bn,
                        const char *phrase, size_t pn, double *score)
{
    int64_t off, ca, cb, cab;
    if (m->frozen) {
        off = sp_find(m->vocab, phrase, pn);
        if (off < 0) return 0;
        memcpy(score, sp_value(m->vocab, off), 8);
        return *score > m->threshold;
    }
    off = sp_find(m->vocab, a, an);
    if (off < 0 || (ca = *sp_value(m->vocab, off)) <= 0) return 0;
    off = sp_find(m->vocab, b, bn);
    if (off < 0 || (cb = *sp_value(m->vocab, off)) <= 0) return 0;
    off = sp_find(m->vocab, phrase, pn);
    if (off < 0 || (cab = *sp_value(m->vocab, off)) <= 0) return 0;
    *score = sp_score(m, ca, cb, cab);
    return !(*score <= m->threshold);
}

/* The words a frozen model's phrases can start with, as a Bloom filter: every
 * prefix of a phrase that a delimiter follows. A candidate whose first word
 * is not in it cannot be a phrase, so rewriting skips joining and looking it
 * up (most words start no phrase). */
typedef struct {
    uint64_t *bits;
    uint64_t mask; /* bits - 1, a power of two minus one */
} sp_starts;

static void starts_add(sp_starts *f, uint64_t h)
{
    uint64_t a = h & f->mask, b = (h >> 32) & f->mask;
    f->bits[a >> 6] |= (uint64_t)1 << (a & 63);
    f->bits[b >> 6] |= (uint64_t)1 << (b & 63);
}

static int starts_may_hold(const sp_starts *f, const char *w, size_t n)
{
    uint64_t h = sp_hash(w, n);
    uint64_t a = h & f->mask, b = (h >> 32) & f->mask;
    return (f->bits[a >> 6] >> (a & 63) & 1) && (f->bits[b >> 6] >> (b & 63) & 1);
}

static int starts_build(sp_starts *f, const sp_model *m)
{
    const sp_table *t = m->vocab;
    uint64_t nbits = 1 << 12;
    int64_t off;
    while (nbits < (uint64_t)t->n * 16) nbits *= 2; /* ~16 bits a phrase: few false positives */
    f->mask = nbits - 1;
    f->bits = (uint64_t *)calloc((size_t)(nbits / 64), sizeof(uint64_t));
    if (!f->bits) return SP_ENOMEM;
    for (off = t->n ? 0 : -1; off >= 0; off = sp_next(t, off)) {
        const char *w = sp_key(t, off);
        size_t n = sp_len(t, off), i;
        for (i = 1; i + m->dlen <= n; i++)
            if (memcmp(w + i, m->delim, m->dlen) == 0) starts_add(f, sp_hash(w, i));
    }
    return SP_OK;
}

/* gensim's analysis as a state machine over tokens: a candidate starts at a
 * non-empty non-connector word, takes connectors, and ends at the next
 * non-connector word, which either completes a phrase or starts anew. */
typedef struct {
    const sp_model *m;
    const sp_starts *starts; /* NULL: try every candidate */
    char *buf;          /* the candidate joined so far */
    size_t len, cap, start_len;
    int64_t first, count; /* its first token's index; tokens in it */
    void (*emit)(void *ctx, int64_t s, int64_t e, double score, const char *p, size_t n);
    void *ctx;
    int64_t *piece;     /* (offset, length) of each token of the candidate in buf */
    int64_t piece_cap;
} sp_analyzer;

static int push_piece(sp_analyzer *a, const char *w, size_t n)
{
    size_t at = a->count ? a->len + a->m->dlen : 0;
    if (buf_reserve(&a->buf, &a->cap, at + n)) return SP_ENOMEM;
    if (a->count >= a->piece_cap) {
        int64_t cap = a->piece_cap ? a->piece_cap * 2 : 16, *p;
        p = (int64_t *)realloc(a->piece, (size_t)cap * 2 * sizeof(int64_t));
        if (!p) return SP_ENOMEM;
        a->piece = p;
        a->piece_cap = cap;
    }
    if (a->count) memcpy(a->buf + a->len, a->m->delim, a->m->dlen);
    memcpy(a->buf + at, w, n);
    a->piece[2 * a->count] = (int64_t)at;
    a->piece[2 * a->count + 1] = (int64_t)n;
    a->len = at + n;
    a->count++;
    return SP_OK;
}

static void dissolve(sp_analyzer *a)
{
    int64_t k;
    for (k = 0; k < a->count; k++)
        a->emit(a->ctx, a->first + k, a->first + k + 1, NAN, a->buf + a->piece[2 * k], (size_t)a->piece[2 * k + 1]);
    a->count = 0;
    a->len = 0;
}

static int analyze_word(sp_analyzer *a, int64_t i, const char *w, size_t n)
{
    const sp_model *m = a->m;
    double score;
    if (is_connector(m->connectors, w, n)) {
        if (a->count) return push_piece(a, w, n);
        a->emit(a->ctx, i, i + 1, NAN, w, n);
        return SP_OK;
    }
    if (a->count && a->starts && !starts_may_hold(a->starts, a->buf, (size_t)a->piece[1])) {
        dissolve(a); /* no phrase starts with this candidate's first word */
    } else if (a->count) {
        size_t before = a->len;
        int64_t pieces = a->count;
        if (push_piece(a, w, n)) return SP_ENOMEM;
        if (score_phrase(m, a->buf, (size_t)a->piece[1], w, n, a->buf, a->len, &score)) {
            a->emit(a->ctx, a->first, i + 1, score, a->buf, a->len);
            a->count = 0;
            a->len = 0;
            return SP_OK;
        }
        a->count = pieces;
        a->len = before;
        dissolve(a);
    }
    if (n == 0) return SP_OK; /* gensim tests a start word's truth: an empty one is dropped */
    a->first = i;
    return push_piece(a, w, n);
}

static void analyzer_init(sp_analyzer *a, const sp_model *m)
{
    memset(a, 0, sizeof(*a));
    a->m = m;
}

static void analyzer_free(sp_analyzer *a)
{
    free(a->buf);
    free(a->piece);
}

typedef struct {
    int64_t *s, *e, k;
    double *score;
} span_sink;

static void emit_span(void *ctx, int64_t s, int64_t e, double score, const char *p, size_t n)
{
    span_sink *o = (span_sink *)ctx;
    (void)p;
    (void)n;
    o->s[o->k] = s;
    o->e[o->k] = e;
    o->score[o->k] = score;
    o->k++;
}

int64_t sp_analyze(const sp_model *m, const char *arena, const int64_t *lens, int64_t n, int64_t *s,
                   int64_t *e, double *score)
{
    sp_analyzer a;
    span_sink o = {s, e, 0, score};
    int64_t i;
    analyzer_init(&a, m);
    a.emit = emit_span;
    a.ctx = &o;
    for (i = 0; i < n; i++) {
        if (analyze_word(&a, i, arena, (size_t)lens[i])) { analyzer_free(&a); return SP_ENOMEM; }
        arena += lens[i];
    }
    dissolve(&a);
    analyzer_free(&a);
    return o.k;
}

typedef struct {
    sp_out *out;
    int at_start;
} text_sink;

static void emit_text(void *ctx, int64_t s, int64_t e, double score, const char *p, size_t n)
{
    text_sink *o = (text_sink *)ctx;
    (void)s;
    (void)e;
    (void)score;
    if (!o->at_start) out_put(o->out, " ", 1);
    out_put(o->out, p, n);
    o->at_start = 0;
}

int sp_transform_file(const sp_model *m, const char *path, int64_t start, int64_t end, int fd, sp_text *mem,
                      const int32_t *stop, int *err)
{
    sg_reader r;
    sp_out out;
    sp_analyzer a;
    sp_starts starts = {NULL, 0};
    text_sink o;
    const char *tok;
    size_t n;
    int t, rc = SP_OK;
    int64_t i = 0;
    if (m->frozen && starts_build(&starts, m)) return SP_ENOMEM;
    if ((*err = sg_reader_open(&r, path, start, end)) != 0) { free(starts.bits); return SP_EIO; }
    if ((*err = out_open(&out, fd, mem)) != 0) { sg_reader_close(&r); free(starts.bits); return SP_EIO; }
    r.stop = stop;
    analyzer_init(&a, m);
    a.starts = m->frozen ? &starts : NULL;
    o.out = &out;
    o.at_start = 1;
    a.emit = emit_text;
    a.ctx = &o;
    while (rc == SP_OK && (t = sg_reader_next(&r, &tok, &n)) != SG_TOK_END) {
        if (t == SG_TOK_WORD) {
            rc = analyze_word(&a, i++, tok, n);
        } else if (t == SG_TOK_NEWLINE) {
            dissolve(&a);
            out_put(&out, "\n", 1);
            o.at_start = 1;
        } else {
            rc = reader_status(&r, t, err);
        }
    }
    dissolve(&a);
    if (!o.at_start) out_put(&out, "\n", 1); /* a last line without newline gets one */
    analyzer_free(&a);
    free(starts.bits);
    sg_reader_close(&r);
    if ((t = out_close(&out)) != 0 && rc == SP_OK) { *err = t; rc = SP_EIO; }
    return rc;
}

/* A record split at the first and last delimiter, its parts' hashes computed. */
typedef struct {
    int64_t off;
    const char *a, *b;
    size_t an, bn;
    uint64_t ha, hb;
} sp_split;

static int split_record(const sp_model *m, int64_t off, sp_split *c)
{
    const sp_table *t = m->vocab;
    const char *w = sp_key(t, off), *first = NULL, *last = NULL, *p = w;
    size_t n = sp_len(t, off);
    if (m->dlen == 0 || n < m->dlen || *sp_value(t, off) <= 0) return 0;
    /* Left to right, not overlapping (as str.split): memchr finds each
     * occurrence of the delimiter's first byte. */
    while ((size_t)(w + n - p) >= m->dlen &&
           (p = (const char *)memchr(p, m->delim[0], (size_t)(w + n - p) - m->dlen + 1)) != NULL) {
        if (m->dlen > 1 && memcmp(p + 1, m->delim + 1, m->dlen - 1) != 0) {
            p++;
            continue;
        }
        if (!first) first = p;
        last = p;
        p += m->dlen;
    }
    if (!first) return 0;
    c->off = off;
    c->a = w;
    c->an = (size_t)(first - w);
    c->b = last + m->dlen;
    c->bn = (size_t)(w + n - c->b);
    c->ha = sp_hash(c->a, c->an);
    c->hb = sp_hash(c->b, c->bn);
    SP_PREFETCH(&t->slots[c->ha & (t->cap - 1)]);
    SP_PREFETCH(&t->slots[c->hb & (t->cap - 1)]);
    return 1;
}

/* Prefetch the record the first slot for hash h names, if its fingerprint matches. */
static void prefetch_record(const sp_table *t, uint64_t h)
{
    uint64_t e = t->slots[h & (t->cap - 1)];
    if (e && (uint32_t)(e >> 32) == (uint32_t)(h >> 32)) SP_PREFETCH(t->arena + ((e & 0xffffffffu) - 1) * 8);
}

int64_t sp_record_near(const sp_table *t, int64_t from, uint64_t byte)
{
    int64_t off = (uint64_t)from < t->used ? from : -1;
    while (off >= 0 && (uint64_t)off < byte) off = sp_next(t, off);
    return off < 0 ? (int64_t)t->used : off;
}

int64_t sp_candidates(const sp_model *m, int scored, int64_t from, int64_t to, int64_t cap, int64_t *offs,
                      int64_t *ca, int64_t *cb, double *scores)
{
    const sp_table *t = m->vocab;
    sp_split c[SP_BATCH];
    int64_t off = from < to && (uint64_t)from < t->used ? from : -1, k = 0;
    int count = 0, j;
    for (;;) {
        if (off >= 0) {
            count += split_record(m, off, &c[count]);
            off = sp_next(t, off);
            if (off >= to) off = -1;
            if (count < SP_BATCH && off >= 0) continue;
        }
        for (j = 0; j < count; j++) { /* the parts' slots were prefetched: now their records */
            prefetch_record(t, c[j].ha);
            prefetch_record(t, c[j].hb);
        }
        for (j = 0; j < count; j++) {
            uint64_t slot;
            int64_t fa = probe(t, c[j].a, c[j].an, c[j].ha, &slot), fb, a, b;
            double score = 0;
            fb = probe(t, c[j].b, c[j].bn, c[j].hb, &slot);
            if (fa < 0 || fb < 0 || (a = *sp_value(t, fa)) <= 0 || (b = *sp_value(t, fb)) <= 0) continue;
            if (scored && (score = sp_score(m, a, b, *sp_value(t, c[j].off))) <= m->threshold) continue;
            if (k < cap) {
                offs[k] = c[j].off;
                ca[k] = a;
                cb[k] = b;
                if (scores) scores[k] = score;
            }
            k++;
        }
        count = 0;
        if (off < 0) return k;
    }
}

/* ---- word2phrase ------------------------------------------------------------ */

enum { W2P_WORD = 1, W2P_NEWLINE = 2, W2P_END = 0 };

/* word2phrase's ReadWord over a byte range: a run of bytes other than space,
 * tab and newline is a word (CR bytes inside it are dropped; a run of only
 * CRs is nothing); it keeps its first 58 bytes and ends at a NUL byte (C
 * strings); "</s>" reads as a newline; a run that reaches end of file
 * without a separator is lost. A run belongs to the range of its first byte. */
typedef struct {
    FILE *f;
    unsigned char *buf;
    size_t len, i;
    int64_t pos, end;   /* file offset of buf[0]; runs must start before end (-1: none) */
    int err, stopped;
    const int32_t *stop;
} w2p_reader;

static int is_sep(int c) { return c == ' ' || c == '\t' || c == '\n'; }

static int w2p_fill(w2p_reader *r)
{
    if (r->stop && sg_atomic_load32(r->stop)) { r->stopped = 1; return 0; }
    r->pos += (int64_t)r->len;
    r->i = 0;
    r->len = fread(r->buf, 1, SP_BUF, r->f);
    if (r->len == 0 && ferror(r->f)) r->err = errno ? errno : EIO;
    return r->len > 0;
}

static int w2p_open(w2p_reader *r, const char *path, int64_t start, int64_t end, const int32_t *stop)
{
    memset(r, 0, sizeof(*r));
    r->end = end;
    r->stop = stop;
    r->f = fopen(path, "rb");
    if (!r->f) return errno ? errno : ENOENT;
    r->buf = (unsigned char *)malloc(SP_BUF);
    if (!r->buf) { fclose(r->f); return ENOMEM; }
    if (start > 0) {
        /* From the byte before start: a run under way belongs to the previous range. */
        if (sp_seek(r->f, start - 1, SEEK_SET) != 0) { fclose(r->f); free(r->buf); return errno ? errno : EIO; }
        r->pos = start - 1;
        if (w2p_fill(r)) {
            if (!is_sep(r->buf[0])) {
                for (;;) {
                    while (r->i < r->len && !is_sep(r->buf[r->i])) r->i++;
                    if (r->i < r->len || !w2p_fill(r)) break;
                }
            } else {
                r->i = 1;
            }
        }
    }
    return 0;
}

static void w2p_close(w2p_reader *r)
{
    fclose(r->f);
    free(r->buf);
}

static int w2p_next(w2p_reader *r, char *word, size_t *len)
{
    for (;;) {
        size_t n = 0;
        int any = 0;
        for (;;) {
            int c;
            if (r->i == r->len && !w2p_fill(r)) return W2P_END;
            c = r->buf[r->i];
            if (r->end >= 0 && r->pos + (int64_t)r->i >= r->end) return W2P_END;
            if (c == ' ' || c == '\t') { r->i++; continue; }
            if (c == '\n') { r->i++; return W2P_NEWLINE; }
            break;
        }
        for (;;) {
            int c;
            if (r->i == r->len && !w2p_fill(r)) return W2P_END; /* the run is lost */
            c = r->buf[r->i];
            if (is_sep(c)) break;
            r->i++;
            if (c == '\r') continue;
            any = 1;
            if (n < SP_W2P_WORD) word[n++] = (char)c;
        }
        if (!any) continue;
        {
            const char *z = (const char *)memchr(word, 0, n);
            *len = z ? (size_t)(z - word) : n;
        }
        if (*len == 4 && memcmp(word, "</s>", 4) == 0) return W2P_NEWLINE;
        return W2P_WORD;
    }
}

static int w2p_status(const w2p_reader *r, int *err)
{
    if (r->err) { *err = r->err; return SP_EIO; }
    return r->stopped ? SP_ESTOP : SP_OK;
}

/* "a_b" cut to word2phrase's 59 bytes. */
static size_t w2p_pair(char *out, const char *a, size_t an, const char *b, size_t bn)
{
    size_t n = an + 1 + bn;
    memcpy(out, a, an);
    out[an] = '_';
    memcpy(out + an + 1, b, bn);
    return n > SP_W2P_PAIR ? SP_W2P_PAIR : n;
}

int sp_w2p_learn(sp_table *t, const char *path, int64_t start, int64_t end, int peek, int64_t bound,
                 int64_t *min_reduce, int64_t *words, const int32_t *stop, int *err)
{
    w2p_reader r;
    char word[SP_W2P_WORD + 1], last[SP_W2P_WORD + 1], pair[2 * SP_W2P_WORD + 2];
    size_t n, last_n = 0;
    int k, have_last = 0, eos = 1, rc = SP_OK;
    sp_batch b;
    memset(&b, 0, sizeof(b));
    if ((*err = w2p_open(&r, path, start, end, stop)) != 0) return SP_EIO;
    while ((k = w2p_next(&r, word, &n)) != W2P_END) {
        size_t pn;
        if (k == W2P_NEWLINE) continue; /* pairs run across lines */
        pn = have_last ? w2p_pair(pair, last, last_n, word, n) : 0;
        ++*words;
        memcpy(last, word, n);
        last_n = n;
        /* Batched while the batch cannot take the table past the bound. */
        if (bound <= 0 || t->n + eos + 2 * SP_BATCH < bound) {
            if (sp_batch_push(t, &b, word, n) || (have_last && sp_batch_push(t, &b, pair, pn))) { rc = SP_ENOMEM; break; }
            have_last = 1;
            continue;
        }
        if (sp_batch_flush(t, &b) || sp_add(t, word, n, 1) < 0 || (have_last && sp_add(t, pair, pn, 1) < 0)) {
            rc = SP_ENOMEM;
            break;
        }
        have_last = 1;
        /* word2phrase's table also holds "</s>" until the first reduction. */
        if (t->n + eos > bound) {
            if (sp_prune(t, *min_reduce + 1)) { rc = SP_ENOMEM; break; }
            ++*min_reduce;
            eos = 0;
        }
    }
    if (rc == SP_OK && sp_batch_flush(t, &b)) rc = SP_ENOMEM;
    if (rc == SP_OK) rc = w2p_status(&r, err);
    if (rc == SP_OK && peek && have_last) {
        r.end = -1;
        while ((k = w2p_next(&r, word, &n)) == W2P_NEWLINE) continue;
        if (k == W2P_WORD && sp_add(t, pair, w2p_pair(pair, last, last_n, word, n), 1) < 0) rc = SP_ENOMEM;
        if (rc == SP_OK) rc = w2p_status(&r, err);
    }
    sp_batch_free(&b);
    w2p_close(&r);
    return rc;
}

/* word2phrase's TrainModel loop, including its quirks: the first word after
 * a newline pairs with "</s>"; a count of a word missing from the table is
 * the last one found; a word just joined cannot start the next phrase. */
int sp_w2p_transform(const sp_table *t, const char *path, int fd, int64_t min_count, float threshold,
                     int64_t train_words, const int32_t *stop, int *err)
{
    w2p_reader r;
    sp_out out;
    char word[SP_W2P_WORD + 1], last[SP_W2P_WORD + 1], pair[2 * SP_W2P_WORD + 2];
    size_t n, last_n = 0;
    int64_t pa = 0, pb = 0, pab = 0, off;
    int k, rc, prev_found = 0;
    if ((*err = w2p_open(&r, path, 0, -1, stop)) != 0) return SP_EIO;
    if ((*err = out_open(&out, fd, NULL)) != 0) { w2p_close(&r); return SP_EIO; }
    while ((k = w2p_next(&r, word, &n)) != W2P_END) {
        int oov = 0, found;
        float score = 0;
        if (k == W2P_NEWLINE) {
            out_put(&out, "\n", 1);
            memcpy(last, "</s>", 4);
            last_n = 4;
            continue;
        }
        off = sp_find(t, word, n);
        found = off >= 0;
        if (found) pb = *sp_value(t, off); else oov = 1;
        if (!prev_found) oov = 1;
        prev_found = found;
        off = sp_find(t, pair, w2p_pair(pair, last, last_n, word, n));
        if (off < 0) oov = 1; else pab = *sp_value(t, off);
        if (pa < min_count || pb < min_count) oov = 1;
        if (!oov) score = (float)(pab - min_count) / (float)pa / (float)pb * (float)train_words;
        if (score > threshold) {
            out_put(&out, "_", 1);
            pb = 0;
        } else {
            out_put(&out, " ", 1);
        }
        out_put(&out, word, n);
        pa = pb;
        memcpy(last, word, n);
        last_n = n;
    }
    rc = w2p_status(&r, err);
    w2p_close(&r);
    if ((k = out_close(&out)) != 0 && rc == SP_OK) { *err = k; rc = SP_EIO; }
    return rc;
}
