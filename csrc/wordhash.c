#include <stdlib.h>
#include <string.h>
#include "wordhash.h"

/* FNV-1a over 8-byte blocks then a final avalanche: fast for short words. */
static uint64_t hash_bytes(const char *w, size_t n)
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

static int grow_entries(sg_wordhash *h)
{
    int64_t n = h->n_alloc ? h->n_alloc * 2 : 1024;
    void *a = realloc(h->hashes, sizeof(uint64_t) * (size_t)n);
    if (!a) return -1;
    h->hashes = (uint64_t *)a;
    a = realloc(h->offsets, sizeof(uint64_t) * (size_t)n);
    if (!a) return -1;
    h->offsets = (uint64_t *)a;
    a = realloc(h->lengths, sizeof(uint32_t) * (size_t)n);
    if (!a) return -1;
    h->lengths = (uint32_t *)a;
    a = realloc(h->counts, sizeof(int64_t) * (size_t)n);
    if (!a) return -1;
    h->counts = (int64_t *)a;
    h->n_alloc = n;
    return 0;
}

static int rehash(sg_wordhash *h, uint64_t cap)
{
    uint32_t *slots = (uint32_t *)calloc((size_t)cap, sizeof(uint32_t));
    int64_t id;
    if (!slots) return -1;
    for (id = 0; id < h->n; id++) {
        uint64_t s = h->hashes[id] & (cap - 1);
        while (slots[s]) s = (s + 1) & (cap - 1);
        slots[s] = (uint32_t)(id + 1);
    }
    free(h->slots);
    h->slots = slots;
    h->cap = cap;
    return 0;
}

int sg_wordhash_init(sg_wordhash *h, int64_t expected)
{
    uint64_t cap = 1024;
    memset(h, 0, sizeof(*h));
    while ((int64_t)(cap / 2) < expected) cap *= 2;
    if (rehash(h, cap) || grow_entries(h)) { sg_wordhash_free(h); return -1; }
    h->arena_cap = 1 << 16;
    h->arena = (char *)malloc((size_t)h->arena_cap);
    if (!h->arena) { sg_wordhash_free(h); return -1; }
    return 0;
}

void sg_wordhash_free(sg_wordhash *h)
{
    free(h->slots); free(h->hashes); free(h->offsets); free(h->lengths);
    free(h->counts); free(h->arena);
    memset(h, 0, sizeof(*h));
}

static int64_t lookup(const sg_wordhash *h, const char *w, size_t len, uint64_t hv, uint64_t *slot)
{
    uint64_t s = hv & (h->cap - 1);
    for (;;) {
        uint32_t e = h->slots[s];
        if (!e) { *slot = s; return -1; }
        if (h->hashes[e - 1] == hv && h->lengths[e - 1] == len &&
            memcmp(h->arena + h->offsets[e - 1], w, len) == 0) {
            *slot = s;
            return (int64_t)e - 1;
        }
        s = (s + 1) & (h->cap - 1);
    }
}

int64_t sg_wordhash_find(const sg_wordhash *h, const char *w, size_t len)
{
    uint64_t slot;
    return lookup(h, w, len, hash_bytes(w, len), &slot);
}

int64_t sg_wordhash_add(sg_wordhash *h, const char *w, size_t len, int64_t count)
{
    uint64_t slot, hv = hash_bytes(w, len);
    int64_t id = lookup(h, w, len, hv, &slot);
    if (id >= 0) { h->counts[id] += count; return id; }
    if (h->n >= 0xFFFFFFFEll || len > 0xFFFFFFFFull) return -1;
    if (h->n == h->n_alloc && grow_entries(h)) return -1;
    while (h->arena_len + len > h->arena_cap) {
        char *a = (char *)realloc(h->arena, (size_t)(h->arena_cap * 2));
        if (!a) return -1;
        h->arena = a;
        h->arena_cap *= 2;
    }
    id = h->n++;
    memcpy(h->arena + h->arena_len, w, len);
    h->offsets[id] = h->arena_len;
    h->lengths[id] = (uint32_t)len;
    h->hashes[id] = hv;
    h->counts[id] = count;
    h->arena_len += len;
    h->slots[slot] = (uint32_t)(id + 1);
    /* Keep the load factor under 1/2. */
    if ((uint64_t)h->n * 2 > h->cap && rehash(h, h->cap * 2)) { h->n--; h->slots[slot] = 0; return -1; }
    return id;
}

int sg_wordhash_prune(sg_wordhash *h, int64_t min_count)
{
    int64_t src, dst = 0;
    uint64_t alen = 0;
    for (src = 0; src < h->n; src++) {
        if (h->counts[src] < min_count) continue;
        if (h->offsets[src] != alen)
            memmove(h->arena + alen, h->arena + h->offsets[src], h->lengths[src]);
        h->offsets[dst] = alen;
        h->lengths[dst] = h->lengths[src];
        h->hashes[dst] = h->hashes[src];
        h->counts[dst] = h->counts[src];
        alen += h->lengths[src];
        dst++;
    }
    h->n = dst;
    h->arena_len = alen;
    return rehash(h, h->cap);
}
