"""KeyedVectors: word -> vector lookups and similarity queries, with gensim's
names and semantics, over a float32 matrix."""
from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Union

import numpy as np

from sgns import formats

Key = str
PositiveNegative = Union[Key, np.ndarray, Sequence[Union[Key, np.ndarray]], None]


class KeyedVectors:
    """A vocabulary of keys and one vector per key.

    vectors: (len(index_to_key), vector_size) float32 array; row i belongs to
    index_to_key[i]; key_to_index maps back. Per-key attributes such as the
    corpus count are kept with set_vecattr/get_vecattr (gensim's names).
    """

    def __init__(self, vector_size: int, count: int = 0, dtype=np.float32):
        self.vector_size = int(vector_size)
        self.index_to_key: list[Key] = []
        self.key_to_index: dict[Key, int] = {}
        self.vectors = np.zeros((count, self.vector_size), dtype=dtype)
        self.expandos: dict[str, np.ndarray] = {}
        self._norms: np.ndarray | None = None
        self._norms_lock = threading.Lock()

    @classmethod
    def from_arrays(cls, keys: Sequence[Key], vectors: np.ndarray,
                    counts: Sequence[int] | None = None) -> "KeyedVectors":
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or vectors.shape[0] != len(keys):
            raise ValueError("vectors must be a (len(keys), D) matrix")
        kv = cls(vectors.shape[1])
        kv.vectors = vectors
        kv.index_to_key = list(keys)
        kv.key_to_index = dict(zip(kv.index_to_key, range(len(kv.index_to_key))))
        if len(kv.key_to_index) != len(kv.index_to_key):
            raise ValueError("duplicate keys")
        if counts is not None:
            kv.expandos["count"] = np.asarray(counts, dtype=np.int64)
        return kv

    # ---- lookups ------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, key: Key) -> bool:
        return key in self.key_to_index

    def has_index_for(self, key: Key) -> bool:
        return key in self.key_to_index

    def get_index(self, key: Key, default: int | None = None) -> int:
        i = self.key_to_index.get(key)
        if i is not None:
            return i
        if default is not None:
            return default
        raise KeyError(f"Key '{key}' not present")

    def get_vector(self, key: Key, norm: bool = False) -> np.ndarray:
        """The vector of key (a copy-free row view); unit length if norm."""
        i = self.get_index(key)
        if norm:
            return self.vectors[i] / self._row_norms()[i]
        return self.vectors[i]

    def __getitem__(self, key_or_keys):
        if isinstance(key_or_keys, str):
            return self.get_vector(key_or_keys)
        return np.vstack([self.get_vector(k) for k in key_or_keys])

    def get_vecattr(self, key: Key, attr: str):
        return self.expandos[attr][self.get_index(key)].item()

    def set_vecattr(self, key: Key, attr: str, value) -> None:
        if attr not in self.expandos:
            self.expandos[attr] = np.zeros(len(self), dtype=np.asarray(value).dtype)
        self.expandos[attr][self.get_index(key)] = value

    # ---- similarity ---------------------------------------------------------

    def _row_norms(self) -> np.ndarray:
        with self._norms_lock:
            if self._norms is None or self._norms.shape[0] != self.vectors.shape[0]:
                norms = np.linalg.norm(self.vectors, axis=1)
                norms[norms == 0] = 1.0  # a zero vector stays zero
                self._norms = norms.astype(self.vectors.dtype)
            return self._norms

    def fill_norms(self, force: bool = False) -> None:
        if force:
            self._norms = None
        self._row_norms()

    def get_normed_vectors(self) -> np.ndarray:
        return self.vectors / self._row_norms()[:, None]

    def _mean_of(self, positive, negative) -> tuple[np.ndarray, set[int]]:
        def as_list(x):
            if x is None:
                return []
            if isinstance(x, (str, np.ndarray)):
                return [x]
            return list(x)

        terms, used = [], set()
        for items, sign in ((as_list(positive), 1.0), (as_list(negative), -1.0)):
            for item in items:
                if isinstance(item, tuple):  # gensim allows (key, weight)
                    item, w = item
                    w = sign * w
                else:
                    w = sign
                if isinstance(item, np.ndarray):
                    terms.append(w * item / (np.linalg.norm(item) or 1.0))
                else:
                    i = self.get_index(item)
                    used.add(i)
                    terms.append(w * self.get_vector(item, norm=True))
        if not terms:
            raise ValueError("cannot compute similarity with no input")
        mean = np.mean(np.asarray(terms, dtype=np.float64), axis=0)
        return mean / (np.linalg.norm(mean) or 1.0), used

    def most_similar(self, positive: PositiveNegative = None, negative: PositiveNegative = None,
                     topn: int | None = 10, restrict_vocab: int | None = None,
                     indexer=None) -> list[tuple[Key, float]] | np.ndarray:
        """Keys closest by cosine to the mean of the unit-length positive
        vectors minus the negative ones (3CosAdd). Input keys are excluded.
        topn=None returns the similarities to all keys as an array."""
        mean, used = self._mean_of(positive, negative)
        limit = len(self) if restrict_vocab is None else min(int(restrict_vocab), len(self))
        vecs = self.vectors[:limit]
        sims = (vecs @ mean.astype(vecs.dtype)) / self._row_norms()[:limit]
        if topn is None:
            return sims
        return self._top(sims, topn, used)

    def _top(self, sims: np.ndarray, topn: int, exclude: set[int]) -> list[tuple[Key, float]]:
        k = min(len(sims), topn + len(exclude))
        if k <= 0:
            return []
        best = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
        best = best[np.argsort(-sims[best], kind="stable")]
        return [(self.index_to_key[i], float(sims[i])) for i in best if i not in exclude][:topn]

    def similar_by_vector(self, vector: np.ndarray, topn: int = 10,
                          restrict_vocab: int | None = None) -> list[tuple[Key, float]]:
        return self.most_similar(positive=[vector], topn=topn, restrict_vocab=restrict_vocab)

    def similar_by_word(self, word: Key, topn: int = 10,
                        restrict_vocab: int | None = None) -> list[tuple[Key, float]]:
        return self.most_similar(positive=[word], topn=topn, restrict_vocab=restrict_vocab)

    def similarity(self, w1: Key, w2: Key) -> float:
        return float(np.dot(self.get_vector(w1, norm=True), self.get_vector(w2, norm=True)))

    def n_similarity(self, ws1: Iterable[Key], ws2: Iterable[Key]) -> float:
        ws1, ws2 = list(ws1), list(ws2)
        if not ws1 or not ws2:
            raise ZeroDivisionError("At least one of the passed list is empty.")
        a = np.mean([self.get_vector(w, norm=True) for w in ws1], axis=0)
        b = np.mean([self.get_vector(w, norm=True) for w in ws2], axis=0)
        return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))

    def distance(self, w1: Key, w2: Key) -> float:
        return 1.0 - self.similarity(w1, w2)

    # ---- evaluation (sgns.evaluation does the work, batched) ---------------

    def evaluate_word_analogies(self, analogies, restrict_vocab: int | None = 300000,
                                case_insensitive: bool = True, dummy4unknown: bool = False):
        """gensim's analogy evaluation (3CosAdd, top-1). Returns (score, sections)."""
        from sgns.evaluation import evaluate_word_analogies
        return evaluate_word_analogies(self, analogies, restrict_vocab=restrict_vocab,
                                       case_insensitive=case_insensitive,
                                       dummy4unknown=dummy4unknown)

    def evaluate_word_pairs(self, pairs, delimiter: str = "\t", restrict_vocab: int | None = 300000,
                            case_insensitive: bool = True, dummy4unknown: bool = False):
        """gensim's word-pair evaluation. Returns (pearson, spearman, oov_percent)."""
        from sgns.evaluation import evaluate_word_pairs
        return evaluate_word_pairs(self, pairs, delimiter=delimiter, restrict_vocab=restrict_vocab,
                                   case_insensitive=case_insensitive, dummy4unknown=dummy4unknown)

    # ---- files --------------------------------------------------------------

    def save_word2vec_format(self, fname, binary: bool = False) -> None:
        """Write the vectors in word2vec.c's text or binary format (atomic)."""
        formats.write_vectors(fname, self.index_to_key, self.vectors, binary=binary)

    @classmethod
    def load_word2vec_format(cls, fname, binary: bool = False, limit: int | None = None,
                             unicode_errors: str = "strict", encoding: str = "utf-8",
                             datatype=np.float32, fvocab=None) -> "KeyedVectors":
        """Load vectors written by word2vec.c, gensim, fastText (.vec) or sgns.

        fvocab: optional word2vec.c vocabulary file giving the counts."""
        words, vectors = formats.read_vectors(fname, binary=binary, limit=limit,
                                              unicode_errors=unicode_errors,
                                              encoding=encoding, datatype=datatype)
        counts = None
        if fvocab is not None:
            vwords, vcounts, _ = formats.read_vocab(fvocab)
            lookup = dict(zip(vwords, vcounts))
            counts = [lookup.get(w, 0) for w in words]
        try:
            return cls.from_arrays(words, vectors, counts)
        except ValueError as e:
            raise formats.FormatError(fname, str(e)) from None
