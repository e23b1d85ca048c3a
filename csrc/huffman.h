/* word2vec.c's Huffman tree for hierarchical softmax, built in O(V) with two
 * queues over counts sorted in descending order.
 *
 * Nodes 0..v-1 are the words, v..2v-2 the inner nodes in creation order (the
 * root is 2v-2). Word i's path from the root is points[offsets[i] ..
 * offsets[i+1]) (inner-node indices minus v, so 0..v-2) with codes[...] the
 * branch taken at each step (0 or 1). */
#ifndef SGNS_HUFFMAN_H
#define SGNS_HUFFMAN_H
#include <stdint.h>

/* Build the tree (parent[2v-1], branch[2v-1]) over counts[v] (v >= 2, at
 * most 2^30) and fill offsets[v+1] with each word's path start. Returns the
 * total path length offsets[v], or -1 when out of memory. */
int64_t sg_huffman_lengths(const int64_t *counts, int64_t v, int32_t *parent, uint8_t *branch,
                           int64_t *offsets);
/* Write every word's path (points, codes: offsets[v] entries each). */
void sg_huffman_paths(const int32_t *parent, const uint8_t *branch, const int64_t *offsets, int64_t v,
                      int32_t *points, uint8_t *codes);
#endif
