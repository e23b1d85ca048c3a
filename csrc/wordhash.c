#include <stdlib.h>
#include <string.h>
#include "wordhash.h"

#define LEN_MASK ((1ull << SG_WORD_LEN_BITS) - 1)
#define MAX_OFFSET (1ull << (64 - SG_WORD_LEN_BITS))

static int grow_entries(sg_wordhash *h)
{
    int64_t n = h->n_alloc ? h->n_alloc * 2 : 1024;
    sg_entry *e = (sg_entry *)realloc(h->entries, sizeof(sg_entry) * (size_t)n);
    if (!e) return -1;
    h->entries = e;
    h->n_alloc = n;
    return 0;
}

#define REHASH_BATCH 32

/* Rebuild the slots at capacity 2^bits from the entries (hashing the arena in
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
            while (slots[s].id1) s = (s + 1) & (cap - 1);
            slots[s].tag = (uint32_t)hv[i];
            slots[s].id1 = (uint32_t)(id + i + 1);
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
    if (rehash(h, bits_for(expected)) || grow_entries(h)) { sg_wordhash_free(h); return -1; }
    h->arena_cap = 1 << 16;
    h->arena = (char *)malloc((size_t)h->arena_cap);
    if (!h->arena) { sg_wordhash_free(h); return -1; }
    return 0;
}

void sg_wordhash_free(sg_wordhash *h)
{
    free(h->slots);
    free(h->entries);
    free(h->arena);
    memset(h, 0, sizeof(*h));
}

/* Id of w or -1; *slot gets where it is or would go. */
static inline int64_t lookup(const sg_wordhash *h, const char *w, size_t len, uint64_t hv, uint64_t *slot)
{
    uint64_t s = sg_wordhash_home(h, hv), mask = h->cap - 1;
    uint32_t tag = (uint32_t)hv;
    for (;;) {
        sg_slot e = h->slots[s];
        if (!e.id1) { *slot = s; return -1; }
        if (e.tag == tag) {
            size_t n;
            const char *p = sg_wordhash_word(h, e.id1 - 1, &n);
            if (n == len && memcmp(p, w, len) == 0) { *slot = s; return (int64_t)e.id1 - 1; }
        }
        s = (s + 1) & mask;
    }
}

int64_t sg_wordhash_find_hashed(const sg_wordhash *h, const char *w, size_t len, uint64_t hv)
{
    uint64_t slot;
    return lookup(h, w, len, hv, &slot);
}

int64_t sg_wordhash_find(const sg_wordhash *h, const char *w, size_t len)
{
    return sg_wordhash_find_hashed(h, w, len, sg_hash_bytes(w, len));
}

static int grow_arena(sg_wordhash *h, size_t len)
{
    while (h->arena_len + len > h->arena_cap) {
        char *a = (char *)realloc(h->arena, (size_t)(h->arena_cap * 2));
        if (!a) return -1;
        h->arena = a;
        h->arena_cap *= 2;
    }
    return 0;
}

int64_t sg_wordhash_add_hashed(sg_wordhash *h, const char *w, size_t len, uint64_t hv, int64_t count)
{
    uint64_t slot;
    int64_t id = lookup(h, w, len, hv, &slot);
    if (id >= 0) { h->entries[id].count += count; return id; }
    if (h->n >= 0xFFFFFFFEll || len > LEN_MASK || h->arena_len + len >= MAX_OFFSET) return -1;
    if (h->n == h->n_alloc && grow_entries(h)) return -1;
    if (grow_arena(h, len)) return -1;
    id = h->n++;
    memcpy(h->arena + h->arena_len, w, len);
    h->entries[id].count = count;
    h->entries[id].where = h->arena_len << SG_WORD_LEN_BITS | (uint64_t)len;
    h->arena_len += len;
    h->slots[slot].tag = (uint32_t)hv;
    h->slots[slot].id1 = (uint32_t)(id + 1);
    /* Keep the load factor at most 3/4. */
    if ((uint64_t)h->n * 4 > h->cap * 3 && rehash(h, h->cap_bits + 1)) {
        h->n--;
        h->arena_len -= len;
        h->slots[slot].id1 = 0;
        return -1;
    }
    return id;
}

int64_t sg_wordhash_add(sg_wordhash *h, const char *w, size_t len, int64_t count)
{
    return sg_wordhash_add_hashed(h, w, len, sg_hash_bytes(w, len), count);
}

/* Words of src are merged in batches: the dst slots, entries and bytes each
 * will touch are prefetched a stage ahead, so the cache misses of a batch
 * overlap (both tables are far larger than the caches). The prefetches are
 * only hints: an insertion that grows dst mid-batch changes nothing else. */
#define MERGE_BATCH 32

int sg_wordhash_merge(sg_wordhash *dst, const sg_wordhash *src)
{
    uint64_t hv[MERGE_BATCH];
    int64_t at[MERGE_BATCH];
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
            at[i] = sg_wordhash_tag_match(dst, hv[i]);
            if (at[i] >= 0) SG_PREFETCH(&dst->entries[at[i]]);
        }
        for (i = 0; i < n; i++) {
            size_t len;
            if (at[i] >= 0) SG_PREFETCH(sg_wordhash_word(dst, at[i], &len));
        }
        for (i = 0; i < n; i++) {
            size_t len;
            const char *w = sg_wordhash_word(src, i0 + i, &len);
            if (sg_wordhash_add_hashed(dst, w, len, hv[i], src->entries[i0 + i].count) < 0) return -1;
        }
    }
    return 0;
}

int sg_wordhash_prune(sg_wordhash *h, int64_t min_count)
{
    int64_t src, dst = 0;
    uint64_t alen = 0;
    for (src = 0; src < h->n; src++) {
        size_t len;
        const char *w;
        if (h->entries[src].count < min_count) continue;
        w = sg_wordhash_word(h, src, &len);
        if (w != h->arena + alen) memmove(h->arena + alen, w, len);
        h->entries[dst].count = h->entries[src].count;
        h->entries[dst].where = alen << SG_WORD_LEN_BITS | (uint64_t)len;
        alen += len;
        dst++;
    }
    h->n = dst;
    h->arena_len = alen;
    return rehash(h, bits_for(dst * 2));
}
