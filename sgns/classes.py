"""Word classes: word2vec.c's ``-classes K`` k-means over the word vectors.

word2vec.c's variant of k-means, reproduced here with numpy matrix products:

* word i starts in class i % K (round robin over the vocabulary order);
* each of `iterations` rounds (word2vec.c: 10) computes every class's
  centroid as the mean of its members' raw vectors, scales it to unit length,
  and moves every word to the class whose centroid has the largest dot
  product with the word's raw (unnormalised) vector: spherical k-means on
  the centroid side only;
* ties go to the lowest class number; a class left empty has no centroid
  (word2vec.c divides 0 by 0) and attracts no word until the end; a word
  whose best dot product is <= -10 goes to class 0 (word2vec.c's starting
  threshold).

There is no convergence test: the result is the assignment after the last
round. Dot products and centroids are computed in float64, so on exact
ties in float32 arithmetic the result may differ from word2vec.c's (which
sums in float32).

The output file has one ``"<word> <class>\\n"`` line per word in vocabulary
order, as word2vec.c writes it with -classes instead of the vectors.
"""

from __future__ import annotations

import os

import numpy as np

from sgns import formats

__all__ = ["read_classes", "word_classes", "write_classes"]

# Bytes of the (words x classes) score block held at once.
_BLOCK_BYTES = 64 << 20


def word_classes(kv, k: int, iterations: int = 10) -> np.ndarray:
    """Class number (0..k-1) of every word of `kv` (anything with a
    `vectors` (V, D) array, e.g. sgns.KeyedVectors), word2vec.c's k-means.
    Returns an int32 array of length V in vocabulary order."""
    vectors = np.asarray(kv.vectors)
    if vectors.ndim != 2:
        raise ValueError("kv.vectors must be a (V, D) matrix")
    k, iterations = int(k), int(iterations)
    if k < 1:
        raise ValueError(f"the number of classes must be >= 1, got {k}")
    if iterations < 0:
        raise ValueError(f"iterations must be >= 0, got {iterations}")
    n, dim = vectors.shape
    # Classes n.. start empty and stay empty: computing with n of them gives
    # the same answer without k x D centroids (-classes 10**12 fits).
    k = min(k, max(n, 1))
    x = vectors.astype(np.float64)
    classes = (np.arange(n) % k).astype(np.int32)
    block = max(1, _BLOCK_BYTES // (8 * k))
    for _ in range(iterations):
        sums = np.zeros((k, dim), dtype=np.float64)
        np.add.at(sums, classes, x)
        # word2vec.c's counts start at 1; the scale cancels in the normalisation.
        centroids = sums / (np.bincount(classes, minlength=k) + 1)[:, None]
        norms = np.sqrt(np.einsum("ij,ij->i", centroids, centroids))
        with np.errstate(invalid="ignore", divide="ignore"):
            centroids /= norms[:, None]  # an empty class: NaN, never chosen
        empty = ~np.isfinite(centroids).all(axis=1)
        centroids[empty] = 0.0
        for start in range(0, n, block):
            scores = x[start : start + block] @ centroids.T
            scores[:, empty] = -np.inf
            best = np.argmax(scores, axis=1)  # first maximum: the lowest class
            low = scores[np.arange(len(best)), best] <= -10.0
            best[low] = 0
            classes[start : start + block] = best
    return classes


def write_classes(path: str | os.PathLike, kv, classes: np.ndarray) -> None:
    """Write ``"<word> <class>\\n"`` per word of kv.index_to_key, in order,
    atomically (sgns.formats.write_classes)."""
    words = list(kv.index_to_key)
    classes = np.asarray(classes)
    if classes.shape != (len(words),):
        raise ValueError(f"need one class per word: {len(words)} words, classes of shape {classes.shape}")
    formats.write_classes(path, words, classes)


def read_classes(path: str | os.PathLike) -> tuple[list[str], np.ndarray]:
    """Read a classes file (sgns's or word2vec.c's). Returns (words, classes)."""
    return formats.read_classes(path)
