/* Open-addressing hash table from byte strings to dense ids (insertion
 * order) with an int64 count per id. Used to count a corpus and, rebuilt from
 * the final vocabulary, to turn tokens into ids.
 *
 * Compact layout: an 8-byte slot (32 hash bits + where the word's record is)
 * per table position, and one arena of records, each a word's count, id and
 * length followed by its bytes. A lookup touches the slot and the record: two
 * cache lines for most words (a third when the record straddles a line). */
#ifndef SGNS_WORDHASH_H
#define SGNS_WORDHASH_H
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#define SG_WORD_LEN_BITS 24  /* longest storable word: 16 MiB - 1 bytes */

typedef struct {
    uint32_t tag;        /* low 32 bits of the word's hash */
    uint32_t rec;        /* its record's arena offset / 8 + 1, or 0 for an empty slot */
} sg_slot;

/* A record, 8-byte aligned in the arena; the word's bytes follow it. */
typedef struct {
    int64_t count;
    uint32_t id;
    uint32_t len;
} sg_record;

typedef struct {
    sg_slot *slots;      /* capacity is a power of two; slot = top hash bits */
    uint64_t cap;
    int cap_bits;
    int64_t n;           /* number of words */
    int64_t n_alloc;
    uint64_t *at;        /* per id: its record's arena offset (records follow id order) */
    char *arena;
    uint64_t arena_len, arena_cap;
} sg_wordhash;

/* The hash every table (and the count filter) uses: FNV-1a over 8-byte
 * blocks then a final avalanche, fast for short words. */
static inline uint64_t sg_hash_bytes(const char *w, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t k;
        memcpy(&k, w + i, 8);
        h = (h ^ k) * 0x100000001b3ULL;
        h ^= h >> 29;
    }
    for (; i < n; i++) h = (h ^ (unsigned char)w[i]) * 0x100000001b3ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

/* Prefetch the line at p for writing (a hint; nothing where unsupported). */
#if defined(__GNUC__) || defined(__clang__)
#define SG_PREFETCH(p) __builtin_prefetch((p), 1, 3)
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <xmmintrin.h>
#define SG_PREFETCH(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)
#else
#define SG_PREFETCH(p) ((void)(p))
#endif

int sg_wordhash_init(sg_wordhash *h, int64_t expected);
void sg_wordhash_free(sg_wordhash *h);
/* Add `count` to word w (whose sg_hash_bytes is hv), inserting it if new.
 * Returns its id, or -1 when out of memory, past 2^32-2 words or when w is
 * too long to store. */
int64_t sg_wordhash_add_hashed(sg_wordhash *h, const char *w, size_t len, uint64_t hv, int64_t count);
int64_t sg_wordhash_add(sg_wordhash *h, const char *w, size_t len, int64_t count);
/* Id of w, or -1. */
int64_t sg_wordhash_find_hashed(const sg_wordhash *h, const char *w, size_t len, uint64_t hv);
/* The record of w, or NULL. */
sg_record *sg_wordhash_find_record(const sg_wordhash *h, const char *w, size_t len, uint64_t hv);
int64_t sg_wordhash_find(const sg_wordhash *h, const char *w, size_t len);
/* Drop every word whose count is below min_count, keeping insertion order of
 * the rest (gensim-style vocabulary pruning). Returns 0 or -1 (no memory). */
int sg_wordhash_prune(sg_wordhash *h, int64_t min_count);
/* Add every word of src to dst (words new to dst keep src's order).
 * Returns 0 or -1 (no memory). */
int sg_wordhash_merge(sg_wordhash *dst, const sg_wordhash *src);

static inline sg_record *sg_wordhash_record(const sg_wordhash *h, uint64_t offset)
{
    return (sg_record *)(void *)(h->arena + offset);
}

static inline const char *sg_wordhash_word(const sg_wordhash *h, int64_t id, size_t *len)
{
    const sg_record *r = sg_wordhash_record(h, h->at[id]);
    *len = r->len;
    return (const char *)(r + 1);
}

/* The slot where the probe for hash hv starts: its top bits, so the low 32
 * bits kept as the tag are independent of the position. */
static inline uint64_t sg_wordhash_home(const sg_wordhash *h, uint64_t hv)
{
    return hv >> (64 - h->cap_bits);
}

/* The arena offset of the record whose slot tag matches hv on the probe
 * path, or -1 (an empty slot first): a likely match, to be confirmed by
 * comparing the bytes. */
static inline int64_t sg_wordhash_tag_match(const sg_wordhash *h, uint64_t hv)
{
    uint64_t s = sg_wordhash_home(h, hv), mask = h->cap - 1;
    for (;; s = (s + 1) & mask) {
        sg_slot e = h->slots[s];
        if (!e.rec) return -1;
        if (e.tag == (uint32_t)hv) return (int64_t)(e.rec - 1) * 8;
    }
}

/* The record of w (hash hv) given at, its tag match found earlier: that
 * record when its bytes are w's, else a full lookup (another word shares the
 * tag, or w came in since). NULL when w is not in h. */
static inline sg_record *sg_wordhash_confirm(const sg_wordhash *h, int64_t at, const char *w, size_t len,
                                             uint64_t hv)
{
    if (at >= 0) {
        sg_record *r = sg_wordhash_record(h, (uint64_t)at);
        if (r->len == len && memcmp(r + 1, w, len) == 0) return r;
    }
    return sg_wordhash_find_record(h, w, len, hv);
}

static inline int64_t sg_wordhash_count(const sg_wordhash *h, int64_t id)
{
    return sg_wordhash_record(h, h->at[id])->count;
}
#endif
