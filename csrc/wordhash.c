#include <stdlib.h>
#include <string.h>
#include "wordhash.h"

#define LEN_MASK ((1ull << SG_WORD_LEN_BITS) - 1)
/* A slot holds offset / 8 + 1 in 32 bits: records start below 32 GiB. */
#define MAX_OFFSET ((((uint64_t)1 << 32) - 2) * 8)
#define REHASH_BATCH 32

/* Bytes a record of a len-byte word takes, padded to 8. */
static inline uint64_t record_size(size_t len)
{
    return (sizeof(sg_record) + (uint64_t)len + 7) & ~(uint64_t)7;
}

static int grow_ids(sg_wordhash *h)
{
    int64_t n = h->n_alloc ? h->n_alloc * 2 : 1024;
    uint64_t *at = (uint64_t *)realloc(h->at, sizeof(uint64_t) * (size_t)n);
    if (!at) return -1;
    h->at = at;
    h->n_alloc = n;
    return 0;
}

/* Rebuild the slots at capacity 2^bits from the records (hashing the arena in
 * id order, which reads it sequentially). */
static int rehash(sg_wordhash *h, int bits)
{
    uint64_t cap = 1ull << bits;
    sg_slot *slots = (sg_slot *)calloc((size_t)cap, sizeof(sg_slot));
    int64_t id;
    if (!slots) return -1;
    free(h->slots);
    h->slots = slots;
    h->cap = cap;
    h->cap_bits = bits;
    for (id = 0; id < h->n; id += REHASH_BATCH) {
        /* A batch's home slots are prefetched before any is written. */
        uint64_t hv[REHASH_BATCH];
        int64_t i, n = h->n - id < REHASH_BATCH ? h->n - id : REHASH_BATCH;
        for (i = 0; i < n; i++) {
            size_t len;
            const char *w = sg_wordhash_word(h, id + i, &len);
            hv[i] = sg_hash_bytes(w, len);
            SG_PREFETCH(&slots[sg_wordhash_home(h, hv[i])]);
        }
        for (i = 0; i < n; i++) {
            uint64_t s = sg_wordhash_home(h, hv[i]);
            while (slots[s].rec) s = (s + 1) & (cap - 1);
            slots[s].tag = (uint32_t)hv[i];
            slots[s].rec = (uint32_t)(h->at[id + i] / 8 + 1);
        }
    }
    return 0;
}

/* Smallest capacity (at least 2^10) holding n words at load 3/4. */
static int bits_for(int64_t n)
{
    int bits = 10;
    while ((int64_t)((3ull << bits) / 4) < n) bits++;
    return bits;
}

int sg_wordhash_init(sg_wordhash *h, int64_t expected)
{
    memset(h, 0, sizeof(*h));
    if (rehash(h, bits_for(expected)) || grow_ids(h)) { sg_wordhash_free(h); return -1; }
    h->arena_cap = 1 << 16;
    h->arena = (char *)malloc((size_t)h->arena_cap);
    if (!h->arena) { sg_wordhash_free(h); return -1; }
    return 0;
}

void sg_wordhash_free(sg_wordhash *h)
{
    free(h->slots);
    free(h->at);
    free(h->arena);
    memset(h, 0, sizeof(*h));
}

/* The record of w or NULL; *slot gets where it is or would go. */
static inline sg_record *lookup(const sg_wordhash *h, const char *w, size_t len, uint64_t hv, uint64_t *slot)
{
    uint64_t s = sg_wordhash_home(h, hv), mask = h->cap - 1;
    uint32_t tag = (uint32_t)hv;
    for (;;) {
        sg_slot e = h->slots[s];
        if (!e.rec) { *slot = s; return NULL; }
        if (e.tag == tag) {
            sg_record *r = sg_wordhash_record(h, (uint64_t)(e.rec - 1) * 8);
            if (r->len == len && memcmp(r + 1, w, len) == 0) { *slot = s; return r; }
        }
        s = (s + 1) & mask;
    }
}

sg_record *sg_wordhash_find_record(const sg_wordhash *h, const char *w, size_t len, uint64_t hv)
{
    uint64_t slot;
    return lookup(h, w, len, hv, &slot);
}

int64_t sg_wordhash_find_hashed(const sg_wordhash *h, const char *w, size_t len, uint64_t hv)
{
    uint64_t slot;
    const sg_record *r = lookup(h, w, len, hv, &slot);
    return r ? (int64_t)r->id : -1;
}

int64_t sg_wordhash_find(const sg_wordhash *h, const char *w, size_t len)
{
    return sg_wordhash_find_hashed(h, w, len, sg_hash_bytes(w, len));
}

static int grow_arena(sg_wordhash *h, uint64_t need)
{
    while (h->arena_len + need > h->arena_cap) {
        char *a = (char *)realloc(h->arena, (size_t)(h->arena_cap * 2));
        if (!a) return -1;
        h->arena = a;
        h->arena_cap *= 2;
    }
    return 0;
}

int64_t sg_wordhash_add_hashed(sg_wordhash *h, const char *w, size_t len, uint64_t hv, int64_t count)
{
    uint64_t slot, size = record_size(len), off = h->arena_len;
    sg_record *r = lookup(h, w, len, hv, &slot);
    int64_t id;
    if (r) { r->count += count; return r->id; }
    if (h->n >= 0xFFFFFFFEll || len > LEN_MASK || off > MAX_OFFSET) return -1;
    if (h->n == h->n_alloc && grow_ids(h)) return -1;
    if (grow_arena(h, size)) return -1;
    id = h->n++;
    r = sg_wordhash_record(h, off);
    r->count = count;
    r->id = (uint32_t)id;
    r->len = (uint32_t)len;
    memcpy(r + 1, w, len);
    h->at[id] = off;
    h->arena_len = off + size;
    h->slots[slot].tag = (uint32_t)hv;
    h->slots[slot].rec = (uint32_t)(off / 8 + 1);
    /* Keep the load factor at most 3/4. */
    if ((uint64_t)h->n * 4 > h->cap * 3 && rehash(h, h->cap_bits + 1)) {
        h->n--;
        h->arena_len = off;
        h->slots[slot].rec = 0;
        return -1;
    }
    return id;
}

int64_t sg_wordhash_add(sg_wordhash *h, const char *w, size_t len, int64_t count)
{
    return sg_wordhash_add_hashed(h, w, len, sg_hash_bytes(w, len), count);
}

/* Words of src are merged in batches: the dst slots and records each will
 * touch are prefetched a stage ahead, so the cache misses of a batch overlap
 * (both tables are far larger than the caches). The prefetches are only
 * hints: an insertion that grows dst mid-batch changes nothing else. */
#define MERGE_BATCH 32

int sg_wordhash_merge(sg_wordhash *dst, const sg_wordhash *src)
{
    uint64_t hv[MERGE_BATCH];
    int64_t i0, i, n;
    for (i0 = 0; i0 < src->n; i0 += n) {
        n = src->n - i0 < MERGE_BATCH ? src->n - i0 : MERGE_BATCH;
        for (i = 0; i < n; i++) {
            size_t len;
            const char *w = sg_wordhash_word(src, i0 + i, &len);
            hv[i] = sg_hash_bytes(w, len);
            SG_PREFETCH(&dst->slots[sg_wordhash_home(dst, hv[i])]);
        }
        for (i = 0; i < n; i++) {
            int64_t at = sg_wordhash_tag_match(dst, hv[i]);
            if (at >= 0) SG_PREFETCH(dst->arena + at);
        }
        for (i = 0; i < n; i++) {
            size_t len;
            const char *w = sg_wordhash_word(src, i0 + i, &len);
            if (sg_wordhash_add_hashed(dst, w, len, hv[i], sg_wordhash_count(src, i0 + i)) < 0) return -1;
        }
    }
    return 0;
}

int sg_wordhash_prune(sg_wordhash *h, int64_t min_count)
{
    int64_t src, dst = 0;
    uint64_t alen = 0;
    /* Records follow id order, so each kept one moves down (or stays). */
    for (src = 0; src < h->n; src++) {
        sg_record *r = sg_wordhash_record(h, h->at[src]);
        uint64_t size = record_size(r->len);
        if (r->count < min_count) continue;
        if (h->at[src] != alen) memmove(h->arena + alen, r, (size_t)size);
        sg_wordhash_record(h, alen)->id = (uint32_t)dst;
        h->at[dst++] = alen;
        alen += size;
    }
    h->n = dst;
    h->arena_len = alen;
    return rehash(h, bits_for(dst * 2));
}
