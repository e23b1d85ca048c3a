#include <stdlib.h>
#include "huffman.h"

int64_t sg_huffman_lengths(const int64_t *counts, int64_t v, int32_t *parent, uint8_t *branch,
                           int64_t *offsets)
{
    int64_t nodes = 2 * v - 1, leaf = v - 1, inner = v, a, i;
    int64_t *inner_count = (int64_t *)malloc(sizeof(int64_t) * (size_t)(v - 1));
    int32_t *depth = (int32_t *)malloc(sizeof(int32_t) * (size_t)nodes);
    if (!inner_count || !depth) { free(inner_count); free(depth); return -1; }
    for (i = 0; i < nodes; i++) branch[i] = 0;
    parent[nodes - 1] = -1;
    /* The smallest unused leaf is the last one (counts descend); inner nodes
     * are created in ascending count order, so each queue's head is its
     * smallest. Ties go to the inner node, as in word2vec.c. */
    for (a = 0; a < v - 1; a++) {
        int64_t pick[2], sum = 0;
        int k;
        for (k = 0; k < 2; k++) {
            if (leaf >= 0 && (inner >= v + a || counts[leaf] < inner_count[inner - v])) {
                pick[k] = leaf--;
                sum += counts[pick[k]];
            } else {
                pick[k] = inner++;
                sum += inner_count[pick[k] - v];
            }
        }
        inner_count[a] = sum;
        parent[pick[0]] = parent[pick[1]] = (int32_t)(v + a);
        branch[pick[1]] = 1;
    }
    /* A parent is always created after its children: fill depths top down. */
    depth[nodes - 1] = 0;
    for (i = nodes - 2; i >= 0; i--) depth[i] = depth[parent[i]] + 1;
    offsets[0] = 0;
    for (i = 0; i < v; i++) offsets[i + 1] = offsets[i] + depth[i];
    free(inner_count);
    free(depth);
    return offsets[v];
}

void sg_huffman_paths(const int32_t *parent, const uint8_t *branch, const int64_t *offsets, int64_t v,
                      int32_t *points, uint8_t *codes)
{
    int64_t i, root = 2 * v - 2;
    for (i = 0; i < v; i++) {
        int64_t k = offsets[i + 1], node = i;
        while (node != root) {
            k--;
            codes[k] = branch[node];
            node = parent[node];
            points[k] = (int32_t)(node - v);
        }
    }
}
