"""KeyedVectors: key -> vector lookups and similarity queries over a float32
matrix, with gensim 4's names and semantics.

Where sgns deliberately differs from gensim 4.4 (each difference is a gensim
quirk that would give a silently wrong answer):

* A zero vector has norm 1 in `norms`, so it stays zero when normalised and
  has cosine 0 with everything (gensim divides by 0 and returns NaN).
* most_similar_cosmul normalises vectors given as input (the formula is on
  cosines; gensim uses them unnormalised) and honours restrict_vocab (gensim
  ignores it).
* add_vector returns the existing index for a key already present (gensim
  returns a wrong index).

Queries are safe to run from many threads at once: the norms cache is built
once, under a lock, and never mutated afterwards. Code that changes `vectors`
in place must set `norms = None` (or call fill_norms(force=True)); training
does it inside `changing()`, during which every query computes fresh norms
(a progress callback's most_similar sees the vectors as they are then).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np

from sgns import container, formats, padded_rows

logger = logging.getLogger(__name__)

Key = str
_KEY_TYPES = (str, int, np.integer)
Item = Key | int | np.ndarray
WeightedItem = Item | tuple[Item, float]
PositiveNegative = Item | Sequence[WeightedItem] | np.ndarray | None


def _as_items(value) -> list:
    """gensim's convention: one key or 1-D vector -> [it]; a 2-D array -> its
    rows; None -> []; any other iterable -> list(it)."""
    if value is None:
        return []
    if isinstance(value, (*_KEY_TYPES, bytes, bytearray)):  # bytes: one key (not found), not its byte values
        return [value]
    if isinstance(value, np.ndarray):
        if value.ndim == 1:
            return [value]
        if value.ndim == 2:
            return list(value)
        raise ValueError(f"expected a 1-D vector or a 2-D array of vectors, got shape {value.shape}")
    return list(value)


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v)
    return v / n if n > 0 else v


class KeyedVectors:
    """A vocabulary of keys and one vector per key.

    vectors: (len(index_to_key), vector_size) array (float32 by default);
    row i belongs to index_to_key[i] and key_to_index maps back. Per-key
    attributes such as the corpus count live in `expandos` and are read and
    written with get_vecattr/set_vecattr (gensim's names).
    """

    def __init__(self, vector_size: int, count: int = 0, dtype=np.float32):
        """An empty set of vectors, or (count > 0, gensim's preallocation)
        count empty slots (key None, zero vector) that add_vector fills in order."""
        self.vector_size = int(vector_size)
        self.index_to_key: list[Key] = [None] * int(count)  # type: ignore[list-item]  # empty slots
        self.key_to_index: dict[Key, int] = {}
        self.next_index = 0  # the next preallocated slot add_vector fills
        self.vectors = np.zeros((count, self.vector_size), dtype=dtype)
        self.expandos: dict[str, np.ndarray] = {}
        self._norms: np.ndarray | None = None
        self._norms_lock = threading.Lock()
        self._changing = 0  # > 0 while someone changes `vectors` in place

    def __getstate__(self) -> dict:
        """Pickle support (copy.deepcopy too): everything but the lock and
        the norms cache, which are rebuilt."""
        state = self.__dict__.copy()
        del state["_norms_lock"]
        state["_norms"] = None
        # A copy keeps the rows' layout: queries over padded rows (a trained
        # model's, sgns.padded_rows) can round differently in the last bit.
        state["_padded_rows"] = padded_rows.is_padded(np.asarray(self.vectors))
        return state

    def __setstate__(self, state: dict) -> None:
        padded = state.pop("_padded_rows", False)
        self.__dict__.update(state)
        self.__dict__.setdefault("next_index", len(self.index_to_key))
        self._norms_lock = threading.Lock()
        if padded:
            self.vectors = padded_rows.padded(self.vectors)

    def replace_contents(self, other: KeyedVectors) -> None:
        """Take over other's keys, vectors and attributes, keeping this
        object's identity (a model's `wv` stays the same object when its
        vocabulary is rebuilt)."""
        self.vector_size = other.vector_size
        self.index_to_key = other.index_to_key
        self.key_to_index = other.key_to_index
        self.next_index = other.next_index
        self.vectors = other.vectors
        self.expandos = other.expandos
        self.norms = None

    @classmethod
    def from_arrays(
        cls,
        keys: Sequence[Key],
        vectors: np.ndarray,
        counts: Sequence[int] | np.ndarray | None = None,
        index: dict[Key, int] | None = None,
    ) -> KeyedVectors:
        """Wrap a (len(keys), D) matrix without copying it. counts: optional
        per-key corpus counts (the "count" vecattr). index: keys' {key: row}
        if the caller has it (copied, which is faster and smaller than
        rebuilding it for millions of keys)."""
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or vectors.shape[0] != len(keys):
            raise ValueError("vectors must be a (len(keys), D) matrix")
        kv = cls(vectors.shape[1])
        kv.vectors = vectors
        kv.index_to_key = list(keys)
        kv.next_index = len(kv.index_to_key)
        if index is not None and len(index) == len(keys):
            kv.key_to_index = dict(index)
        else:
            kv.key_to_index = dict(zip(kv.index_to_key, range(len(kv.index_to_key))))
        if len(kv.key_to_index) != len(kv.index_to_key):
            raise ValueError("duplicate keys")
        if counts is not None:
            count_array = np.asarray(counts, dtype=np.int64)
            if count_array.shape != (len(keys),):
                raise ValueError("counts must have one entry per key")
            kv.expandos["count"] = count_array
        return kv

    def __repr__(self) -> str:
        return f"KeyedVectors<vector_size={self.vector_size}, {len(self)} keys>"

    # ---- lookups ------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, key) -> bool:
        return self.has_index_for(key)

    def has_index_for(self, key) -> bool:
        """True if get_index(key) would succeed (a key, or an int row number)."""
        return self.get_index(key, -1) >= 0

    def get_index(self, key, default: int | None = None) -> int:
        """Row of key. As in gensim, an int that is not itself a key is taken
        as a row number if it is in range. Missing: default, else KeyError."""
        # An int key is looked up too (gensim allows int keys), then taken as a row number.
        lookup: dict = self.key_to_index
        i = lookup.get(key, -1) if isinstance(key, (str, int, np.integer)) else -1
        if i >= 0:
            return i
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool) and 0 <= key < len(self):
            return int(key)
        if default is not None:
            return default
        raise KeyError(f"Key '{key}' not present")

    def get_vector(self, key, norm: bool = False) -> np.ndarray:
        """The vector of key: a read-only view of its row (norm=False) or a
        new unit-length copy (norm=True; a zero vector stays zero)."""
        i = self.get_index(key)
        if norm:
            return self.vectors[i] / self._row_norms()[i]
        result = self.vectors[i]
        result.setflags(write=False)  # writing through it would leave the norms stale
        return result

    def __getitem__(self, key_or_keys):
        """kv[key] -> 1-D vector; kv[[k1, k2, ...]] -> 2-D array of rows."""
        if isinstance(key_or_keys, _KEY_TYPES):
            return self.get_vector(key_or_keys)
        return np.vstack([self.get_vector(k) for k in key_or_keys])

    def __setitem__(self, keys, weights) -> None:
        """kv[key] = vector, or kv[[k1, k2]] = 2-D array: add or replace."""
        if not isinstance(keys, list):
            keys = [keys]
            weights = np.asarray(weights).reshape(1, -1)
        self.add_vectors(keys, weights, replace=True)

    def get_vecattr(self, key, attr: str):
        """Per-key attribute (e.g. "count") as a Python scalar."""
        return self.expandos[attr][self.get_index(key)].item()

    def set_vecattr(self, key, attr: str, value) -> None:
        """Set a per-key attribute (its array is created, or grown to
        len(self), on first use; None is stored as 0)."""
        value = 0 if value is None else value
        self.allocate_vecattrs([attr], [np.asarray(value).dtype])
        self.expandos[attr][self.get_index(key)] = value

    def allocate_vecattrs(self, attrs=None, types=None) -> None:
        """Make the arrays of attrs (default: every attribute) exactly
        len(self) long, creating missing ones with the given dtypes."""
        if attrs is None:
            attrs = list(self.expandos)
            types = [self.expandos[a].dtype for a in attrs]
        for attr, dtype in zip(attrs, types):
            dtype = np.int64 if dtype is int else dtype
            old = self.expandos.get(attr)
            if old is not None and len(old) == len(self):
                continue
            grown = np.zeros(len(self), dtype=dtype if old is None else old.dtype)
            if old is not None:
                grown[: min(len(old), len(self))] = old[: len(self)]
            self.expandos[attr] = grown

    def word_vec(self, key, norm: bool = False) -> np.ndarray:
        """gensim 3 name of get_vector."""
        return self.get_vector(key, norm=norm)

    def vectors_for_all(
        self, keys: Iterable[Key], allow_inference: bool = True, copy_vecattrs: bool = False
    ) -> KeyedVectors:
        """A new KeyedVectors holding the vectors of those keys that are
        present (each once, first-seen order). copy_vecattrs: copy their
        per-key attributes too; otherwise "count" is made up (len - row), as
        for vector files without counts. allow_inference is accepted for
        gensim's signature: plain word vectors cannot infer a missing key."""
        chosen = list(dict.fromkeys(k for k in keys if self.has_index_for(k)))
        rows = [self.get_index(k) for k in chosen]
        counts = None if copy_vecattrs else np.arange(len(rows), 0, -1)
        kv = type(self).from_arrays(chosen, np.array(self.vectors[rows]), counts)
        if copy_vecattrs:
            kv.expandos = {name: np.array(arr[rows]) for name, arr in self.expandos.items()}
        return kv

    def sort_by_descending_frequency(self) -> None:
        """Reorder the keys (vectors and attributes with them) by descending
        "count", ties keeping their order."""
        if not len(self):
            return
        order = np.lexsort((np.arange(len(self)), -np.asarray(self.expandos["count"], dtype=np.int64)))
        self.index_to_key = [self.index_to_key[i] for i in order]
        self.key_to_index = {k: i for i, k in enumerate(self.index_to_key)}
        self.expandos = {name: arr[order] for name, arr in self.expandos.items()}
        if len(self.vectors):
            self.vectors = self.vectors[order]
        self.norms = None

    def resize_vectors(self, seed: int = 0) -> np.ndarray:
        """Make `vectors` one row per key: existing rows kept, new rows
        uniform in ±1/vector_size from seed. Returns the rows that were added."""
        n_old = min(len(self.vectors), len(self))
        fresh = np.random.default_rng(seed).random((len(self) - n_old, self.vector_size), dtype=np.float32)
        fresh = ((fresh * 2 - 1) / self.vector_size).astype(self.vectors.dtype)
        self.vectors = np.vstack([self.vectors[:n_old], fresh])
        self.allocate_vecattrs()
        self.norms = None
        return fresh

    # ---- adding vectors -----------------------------------------------------

    def add_vector(self, key: Key, vector: np.ndarray) -> int:
        """Append one key and its vector; returns its row. A key already
        present keeps its vector (use kv[key] = vector to replace). Adding
        many keys one at a time copies the matrix each time: use add_vectors."""
        i = self.key_to_index.get(key)
        if i is not None:
            return i
        slot = self.next_index
        if slot < len(self) and self.index_to_key[slot] is None:  # a preallocated slot
            self.index_to_key[slot] = key
            self.key_to_index[key] = slot
            self.vectors[slot] = np.asarray(vector).reshape(-1)
            self.next_index = slot + 1
            self.norms = None
            return slot
        self.add_vectors([key], np.asarray(vector).reshape(1, -1))
        self.next_index = len(self)
        return len(self) - 1

    def add_vectors(
        self, keys: Sequence[Key] | Key, weights, extras: dict | None = None, replace: bool = False
    ) -> None:
        """Append keys and their vectors (a list of 1-D vectors or a 2-D
        array, cast to vectors.dtype). Keys already present keep their vector
        unless replace=True. extras: {attr: array with one value per key}.
        Other per-key attributes of new keys are 0."""
        if isinstance(keys, _KEY_TYPES):
            keys = [keys]
            weights = np.asarray(weights).reshape(1, -1)
        keys = list(keys)
        weights = np.asarray(weights)
        if weights.ndim == 1 and len(keys) == 1:
            weights = weights.reshape(1, -1)
        if weights.ndim != 2 or weights.shape != (len(keys), self.vector_size):
            raise ValueError(
                f"weights must be a ({len(keys)}, {self.vector_size}) array, got shape {weights.shape}"
            )
        extras = {name: np.asarray(v) for name, v in (extras or {}).items()}
        for name, v in extras.items():
            if v.shape[:1] != (len(keys),):
                raise ValueError(f"extras[{name!r}] must have one value per key")
        if len(set(keys)) != len(keys):
            raise ValueError("duplicate keys in add_vectors")
        present = np.array([k in self.key_to_index for k in keys], dtype=bool)
        new = np.flatnonzero(~present)
        n0 = len(self)
        for name, v in extras.items():
            if name not in self.expandos:
                self.expandos[name] = np.zeros(n0, dtype=v.dtype)
        if len(new):
            new_keys = [keys[j] for j in new]
            for j, key in enumerate(new_keys):
                self.key_to_index[key] = n0 + j
            self.index_to_key.extend(new_keys)
            if padded_rows.is_padded(self.vectors):  # a model's: keep the trainer's layout, one copy
                more = padded_rows.grown(self.vectors, n0 + len(new))
                more[n0:] = weights[new]
                self.vectors = more
            else:
                self.vectors = np.vstack([self.vectors, weights[new].astype(self.vectors.dtype)])
            for name, arr in list(self.expandos.items()):
                grown = np.zeros(n0 + len(new), dtype=arr.dtype)
                grown[:n0] = arr
                if name in extras:
                    grown[n0:] = extras[name][new]
                self.expandos[name] = grown
        if replace and present.any():
            rows = [self.key_to_index[keys[j]] for j in np.flatnonzero(present)]
            if not self.vectors.flags.writeable:
                self.vectors = np.array(self.vectors)
            self.vectors[rows] = weights[present]
            for name, v in extras.items():
                self.expandos[name][rows] = v[present]
        self.norms = None

    # ---- norms --------------------------------------------------------------

    @property
    def norms(self) -> np.ndarray | None:
        """Cached L2 norm of every row (zero rows: 1.0), or None until
        fill_norms() or a query computes it. Set to None after changing
        `vectors` in place."""
        return self._norms

    @norms.setter
    def norms(self, value) -> None:
        with self._norms_lock:
            self._norms = None if value is None else np.asarray(value)

    @contextmanager
    def changing(self) -> Iterator[KeyedVectors]:
        """While the block runs (e.g. training, which writes `vectors` in
        place from other threads), queries compute the norms afresh instead
        of caching them; the cache is dropped at both ends."""
        with self._norms_lock:
            self._changing += 1
            self._norms = None
        try:
            yield self
        finally:
            with self._norms_lock:
                self._changing -= 1
                self._norms = None

    def _compute_norms(self) -> np.ndarray:
        norms = np.linalg.norm(self.vectors, axis=1).astype(self.vectors.dtype, copy=False)
        norms[norms == 0] = 1.0  # a zero vector stays zero
        return norms

    def _row_norms(self) -> np.ndarray:
        if self._changing:
            return self._compute_norms()
        norms = self._norms  # one read: another thread may reset it meanwhile
        if norms is not None and norms.shape[0] == self.vectors.shape[0]:
            return norms
        with self._norms_lock:
            norms = self._norms
            if norms is None or norms.shape[0] != self.vectors.shape[0]:
                norms = self._compute_norms()
                if not self._changing:
                    self._norms = norms
            return norms

    def fill_norms(self, force: bool = False) -> None:
        """Compute the row norms now (force: recompute even if cached)."""
        if force:
            self.norms = None
        self._row_norms()

    def get_normed_vectors(self) -> np.ndarray:
        """All vectors scaled to unit length, as a new (V, D) array."""
        return self.vectors / self._row_norms()[:, None]

    def unit_normalize_all(self) -> None:
        """Scale every vector to unit length, in place (a read-only or
        memory-mapped matrix is replaced by a normalised copy). Training
        cannot sensibly continue afterwards."""
        norms = self._row_norms()
        if self.vectors.flags.writeable and not isinstance(self.vectors, np.memmap):
            self.vectors /= norms[:, None]
        else:
            self.vectors = self.vectors / norms[:, None]
        self.norms = np.ones(len(self.vectors), dtype=self.vectors.dtype)

    def init_sims(self, replace: bool = False) -> None:
        """gensim 3 compatibility: fill_norms(), and unit_normalize_all() if replace."""
        self.fill_norms()
        if replace:
            self.unit_normalize_all()

    # ---- similarity ---------------------------------------------------------

    def get_mean_vector(
        self,
        keys: Sequence[Item],
        weights=None,
        pre_normalize: bool = True,
        post_normalize: bool = False,
        ignore_missing: bool = True,
    ) -> np.ndarray:
        """Weighted mean ``sum(w_i x_i) / sum(|w_i|)`` of the vectors of keys
        (unit length first if pre_normalize; arrays given in keys are used as
        they are), unit length at the end if post_normalize. Missing keys are
        skipped unless ignore_missing=False (then KeyError)."""
        if len(keys) == 0:
            raise ValueError("cannot compute mean with no input")
        dtype = self.vectors.dtype
        weights = np.ones(len(keys), dtype=dtype) if weights is None else np.asarray(weights, dtype=dtype)
        if weights.shape != (len(keys),):
            raise ValueError("keys and weights array must have same number of elements")
        mean = np.zeros(self.vector_size, dtype=dtype)
        total = 0.0
        for key, w in zip(keys, weights):
            if isinstance(key, np.ndarray):
                if key.shape != (self.vector_size,):
                    raise ValueError(f"vector of shape {key.shape} given, expected ({self.vector_size},)")
                mean += w * key
            elif self.has_index_for(key):
                mean += w * self.get_vector(key, norm=pre_normalize)
            elif not ignore_missing:
                raise KeyError(f"Key '{key}' not present in vocabulary")
            else:
                continue
            total += abs(w)
        if total > 0:
            mean = mean / dtype.type(total)
        if post_normalize:
            mean = _unit(mean).astype(dtype, copy=False)
        return mean

    def _clip(self, restrict_vocab, clip_start: int = 0, clip_end: int | None = None) -> tuple[int, int]:
        if restrict_vocab:
            return 0, min(int(restrict_vocab), len(self))
        return int(clip_start), min(len(self), int(clip_end)) if clip_end else len(self)

    def most_similar(
        self,
        positive: PositiveNegative = None,
        negative: PositiveNegative = None,
        topn: int | None = 10,
        clip_start: int = 0,
        clip_end: int | None = None,
        restrict_vocab: int | None = None,
        indexer=None,
    ) -> list[tuple[Key, float]] | np.ndarray:
        """Keys closest by cosine to the weighted mean of the inputs (3CosAdd).

        positive, negative: keys, vectors, or (key or vector, weight) pairs;
        a bare item weighs +1 in positive and -1 in negative, and a pair's
        weight is used as given (gensim's rule: give negative weights in
        `negative`). Keys are unit-normalised first, vectors used as given.
        Input keys are left out of the answer. topn: number of results; 0 or
        less: []; None: the cosine to every key as an array.
        clip_start, clip_end: search only rows clip_start..clip_end-1.
        restrict_vocab: search only the first N keys (the most frequent;
        overrides the clip range).
        indexer: an object with most_similar(vector, topn) (e.g. an ANN index)
        that answers instead, as in gensim.
        """
        if isinstance(topn, Integral) and topn < 1:
            return []
        items = [(x, 1.0) for x in _as_items(positive)] + [(x, -1.0) for x in _as_items(negative)]
        keys, weights = [], []
        for item, default in items:
            if isinstance(item, tuple):
                if len(item) != 2 or not isinstance(item[1], Real):
                    raise ValueError(f"expected a key, a vector or a (key, weight) pair, got {item!r}")
                keys.append(item[0])
                weights.append(float(item[1]))
            else:
                keys.append(item)
                weights.append(default)
        mean = self.get_mean_vector(
            keys, weights, pre_normalize=True, post_normalize=True, ignore_missing=False
        )
        if indexer is not None and isinstance(topn, int):
            return indexer.most_similar(mean, topn)
        start, stop = self._clip(restrict_vocab, clip_start, clip_end)
        sims = (self.vectors[start:stop] @ mean) / self._row_norms()[start:stop]
        if not topn:
            return sims
        exclude = {self.get_index(k) for k in keys if not isinstance(k, np.ndarray)}
        return self._top(sims, topn, exclude, start)

    def _top(self, sims: np.ndarray, topn: int, exclude: set[int], start: int = 0) -> list[tuple[Key, float]]:
        """The topn highest of sims (row start + j for entry j), leaving out
        the rows in exclude; ties in row order."""
        topn = int(topn)
        k = min(len(sims), topn + len(exclude))
        if k <= 0:
            return []
        best = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
        best = best[np.argsort(-sims[best], kind="stable")]
        return [(self.index_to_key[j + start], float(sims[j])) for j in best if j + start not in exclude][
            :topn
        ]

    def most_similar_cosmul(
        self,
        positive: PositiveNegative = None,
        negative: PositiveNegative = None,
        topn: int | None = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[Key, float]] | np.ndarray:
        """3CosMul (Levy & Goldberg 2014): rank keys x by
        prod_p s(x, p) / (prod_n s(x, n) + 1e-6) with s = (1 + cos) / 2, the
        cosine shifted into [0, 1]. Inputs are keys or vectors (normalised);
        input keys are left out. topn and restrict_vocab as in most_similar.
        most_similar_cosmul('a', 'b') means positive=['a'], negative=['b']."""
        if isinstance(topn, Integral) and topn < 1:
            return []
        pos, neg = _as_items(positive), _as_items(negative)
        if not pos:
            raise ValueError("cannot compute similarity with no input")
        exclude = {self.get_index(k) for k in pos + neg if not isinstance(k, np.ndarray)}

        def unit(item) -> np.ndarray:
            if isinstance(item, np.ndarray):
                return _unit(item.astype(self.vectors.dtype, copy=False))
            return self.get_vector(item, norm=True)

        start, stop = self._clip(restrict_vocab)
        vecs, norms = self.vectors[start:stop], self._row_norms()[start:stop]

        def shifted(terms) -> np.ndarray:
            """prod over terms of (1 + cos) / 2, in the vectors' precision (as gensim)."""
            product = None
            for term in terms:  # one matrix-vector product per term: faster than one GEMM here
                factor = vecs @ unit(term)
                factor /= norms
                factor += 1.0
                factor *= 0.5
                product = factor if product is None else product * factor
            return product  # type: ignore[return-value]  # keys are never empty here

        sims = shifted(pos) / ((shifted(neg) if neg else 1.0) + 1e-6)
        if not topn:
            return sims
        return self._top(sims, topn, exclude, start)

    def similar_by_key(
        self, key: Key, topn: int | None = 10, restrict_vocab: int | None = None
    ) -> list[tuple[Key, float]] | np.ndarray:
        """most_similar(positive=[key], ...)."""
        return self.most_similar(positive=[key], topn=topn, restrict_vocab=restrict_vocab)

    def similar_by_word(
        self, word: Key, topn: int | None = 10, restrict_vocab: int | None = None
    ) -> list[tuple[Key, float]] | np.ndarray:
        """most_similar(positive=[word], ...)."""
        return self.similar_by_key(word, topn=topn, restrict_vocab=restrict_vocab)

    def similar_by_vector(
        self, vector: np.ndarray, topn: int | None = 10, restrict_vocab: int | None = None
    ) -> list[tuple[Key, float]] | np.ndarray:
        """Keys closest by cosine to a vector (no key is excluded)."""
        return self.most_similar(positive=[np.asarray(vector)], topn=topn, restrict_vocab=restrict_vocab)

    def most_similar_to_given(self, key1: Key, keys_list: Sequence[Key]) -> Key:
        """The key of keys_list with the highest cosine to key1."""
        return keys_list[int(np.argmax([self.similarity(key1, k) for k in keys_list]))]

    def similarity(self, w1: Key, w2: Key) -> float:
        """Cosine similarity of two keys (exactly 1.0 for a key with itself,
        unless its vector is zero)."""
        i1, i2 = self.get_index(w1), self.get_index(w2)
        if i1 == i2 and self.vectors[i1].any():
            return 1.0
        # The rows' own norms, not the cached ones (as gensim): a row changed in
        # place since fill_norms() still gives a cosine within [-1, 1].
        return float(np.dot(_unit(self.vectors[i1]), _unit(self.vectors[i2])))

    def distance(self, w1: Key, w2: Key) -> float:
        """Cosine distance, 1 - similarity(w1, w2)."""
        return 1.0 - self.similarity(w1, w2)

    def n_similarity(self, ws1: Iterable[Key], ws2: Iterable[Key]) -> float:
        """Cosine between the means of the raw vectors of two key sets (gensim's
        definition). Missing keys are skipped, as in gensim; ZeroDivisionError
        if a set is empty."""
        ws1, ws2 = list(ws1), list(ws2)
        if not ws1 or not ws2:
            raise ZeroDivisionError("At least one of the passed list is empty.")
        a = self.get_mean_vector(ws1, pre_normalize=False)
        b = self.get_mean_vector(ws2, pre_normalize=False)
        return float(np.dot(_unit(a), _unit(b)))

    @staticmethod
    def cosine_similarities(vector_1: np.ndarray, vectors_all: np.ndarray) -> np.ndarray:
        """Cosine of vector_1 (D,) with each row of vectors_all (N, D); zero vectors give 0."""
        norm = np.linalg.norm(vector_1)
        all_norms = np.linalg.norm(vectors_all, axis=1)
        all_norms[all_norms == 0] = 1.0
        return (vectors_all @ vector_1) / (all_norms * (norm if norm > 0 else 1.0))

    def distances(self, word_or_vector: Key | np.ndarray, other_words: Iterable[Key] = ()) -> np.ndarray:
        """Cosine distances (1 - cos) from a key or vector to each of
        other_words, or to every key (itself included) if other_words is empty."""
        if isinstance(word_or_vector, _KEY_TYPES):
            v = self.get_vector(word_or_vector, norm=True)
        else:
            v = _unit(np.asarray(word_or_vector))
        other_words = list(other_words or ())
        if not other_words:
            return 1.0 - (self.vectors @ v.astype(self.vectors.dtype, copy=False)) / self._row_norms()
        rows = [self.get_index(w) for w in other_words]
        return 1.0 - (self.vectors[rows] @ v.astype(self.vectors.dtype, copy=False)) / self._row_norms()[rows]

    def closer_than(self, key1: Key, key2: Key) -> list[Key]:
        """Keys strictly closer (by cosine) to key1 than key2 is, in row order."""
        d = self.distances(key1)
        i1, i2 = self.get_index(key1), self.get_index(key2)
        return [self.index_to_key[i] for i in np.flatnonzero(d < d[i2]) if i != i1]

    def words_closer_than(self, word1: Key, word2: Key) -> list[Key]:
        """Alias of closer_than (gensim 3 name)."""
        return self.closer_than(word1, word2)

    def rank(self, key1: Key, key2: Key) -> int:
        """1 + the number of keys closer to key1 than key2 is (1: nearest)."""
        return len(self.closer_than(key1, key2)) + 1

    def rank_by_centrality(self, words: Sequence[Key], use_norm: bool = True) -> list[tuple[float, Key]]:
        """(cosine to the centroid, key) for the keys present, highest first.
        Missing keys are skipped with a warning."""
        used = [w for w in words if w in self]
        if len(used) != len(words):
            logger.warning(
                "vectors for words %s are not present in the model, ignoring these words",
                sorted(set(words) - set(used)),
            )
        if not used:
            raise ValueError("cannot select a word from an empty list")
        vecs = np.vstack([self.get_vector(w, norm=use_norm) for w in used])
        mean = _unit(vecs.mean(axis=0))
        return sorted(zip((float(x) for x in vecs @ mean), used), reverse=True)

    def doesnt_match(self, words: Sequence[Key]) -> Key:
        """The key farthest (by cosine) from the centroid of the unit vectors."""
        return self.rank_by_centrality(words)[-1][1]

    def relative_cosine_similarity(self, wa: Key, wb: Key, topn: int = 10) -> float:
        """similarity(wa, wb) / sum of wa's topn neighbour similarities
        (Leeuwenberg et al. 2016)."""
        sims = self.similar_by_word(wa, topn)
        if not sims:
            raise ValueError("Cannot calculate relative cosine similarity without any similar words.")
        return self.similarity(wa, wb) / sum(s for _, s in sims)

    def wmdistance(self, document1: Sequence[Key], document2: Sequence[Key], norm: bool = True) -> float:
        """Word Mover's Distance (Kusner et al. 2015) between two token lists:
        the least total Euclidean distance (between unit vectors if norm)
        that moves one bag of words onto the other. Missing keys are dropped;
        inf when a document has none left or every distance is zero, 0.0 when
        both hold only one and the same word. Needs POT (pip install POT)."""
        try:
            from ot import emd2
        except ImportError:
            raise ImportError("wmdistance needs the POT package: pip install POT") from None
        doc1 = [w for w in document1 if self.has_index_for(w)]
        doc2 = [w for w in document2 if self.has_index_for(w)]
        if not doc1 or not doc2:
            logger.warning("wmdistance: a document has no word in the vocabulary")
            return float("inf")
        words = list(dict.fromkeys(doc1 + doc2))
        if len(words) == 1:
            return 0.0
        column = {w: j for j, w in enumerate(words)}
        vecs = np.array([self.get_vector(w, norm=norm) for w in words], dtype=np.float64)
        cost = np.zeros((len(words), len(words)))
        in1, in2 = sorted({column[w] for w in doc1}), sorted({column[w] for w in doc2})
        cost[np.ix_(in1, in2)] = np.linalg.norm(vecs[in1][:, None, :] - vecs[in2][None, :, :], axis=2)
        if abs(cost.sum()) < 1e-8:
            return float("inf")

        def bag(doc) -> np.ndarray:
            weights = np.zeros(len(words))
            for w in doc:
                weights[column[w]] += 1.0 / len(doc)
            return weights

        return float(emd2(bag(doc1), bag(doc2), cost))

    # ---- evaluation (sgns.evaluation does the work, batched) ---------------

    def evaluate_word_analogies(
        self,
        analogies,
        restrict_vocab: int | None = 300000,
        case_insensitive: bool = True,
        dummy4unknown: bool = False,
        similarity_function: str = "most_similar",
    ):
        """gensim's analogy evaluation (top-1; similarity_function
        "most_similar" is 3CosAdd, "most_similar_cosmul" 3CosMul). Returns
        (score, sections)."""
        from sgns.evaluation import evaluate_word_analogies

        return evaluate_word_analogies(
            self, analogies, restrict_vocab, case_insensitive, dummy4unknown, similarity_function
        )

    def evaluate_word_pairs(
        self,
        pairs,
        delimiter: str = "\t",
        encoding: str = "utf-8",
        restrict_vocab: int | None = 300000,
        case_insensitive: bool = True,
        dummy4unknown: bool = False,
    ):
        """gensim's word-pair evaluation. Returns (pearson, spearman,
        oov_percent); the first two are (statistic, pvalue) tuples with those
        attribute names, as scipy's results."""
        from sgns.evaluation import evaluate_word_pairs

        return evaluate_word_pairs(
            self,
            pairs,
            delimiter=delimiter,
            restrict_vocab=restrict_vocab,
            case_insensitive=case_insensitive,
            dummy4unknown=dummy4unknown,
            encoding=encoding,
        )

    # ---- files --------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        """Write keys, vectors and per-key attributes to one file in sgns's
        versioned binary format (no pickle; see sgns.container). Atomic."""
        container.save_keyedvectors(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike, mmap: str | None = None) -> KeyedVectors:
        """Read a file written by KeyedVectors.save or Word2Vec.save (then its
        vectors). mmap='r' maps the vectors read-only instead of reading them
        (fast, shared between processes); 'c' maps them copy-on-write."""
        return container.load_keyedvectors(path, mmap, cls)

    # Text vectors: word2vec.c's "%f " (six decimals, byte-compatible). The
    # gensim layer writes every float32 digit instead, as gensim does.
    text_float_format = "%f "

    def save_word2vec_format(
        self,
        fname,
        fvocab=None,
        binary: bool = False,
        total_vec: int | None = None,
        write_header: bool = True,
        prefix: str = "",
        append: bool = False,
        sort_attr: str = "count",
    ) -> None:
        """Write the vectors in word2vec.c's text or binary format (atomic;
        .gz/.bz2 compressed by name), in descending order of the per-key
        attribute sort_attr when there is one (ties and otherwise: row order).

        fvocab: also write "<word> <count>" lines (sort_attr's values) there.
        total_vec: the count the header declares (default: the keys written).
        write_header=False: no "<V> <D>" line (GloVe's layout). prefix: put
        before every word. append: add to the end of existing files."""
        order = np.arange(len(self))
        attr = self.expandos.get(sort_attr)
        if attr is not None:
            order = np.argsort(-np.asarray(attr), kind="stable")
        elif fvocab is not None:
            raise ValueError(f"cannot write fvocab: there is no per-key attribute {sort_attr!r}")
        keys = [self.index_to_key[i] for i in order]
        vectors = self.vectors if attr is None or (order[1:] > order[:-1]).all() else self.vectors[order]
        # The vectors first: a failure there (the large file: a full disk) leaves both old files.
        formats.write_vectors(
            fname,
            keys,
            vectors,
            binary=binary,
            header=write_header,
            total_vec=total_vec,
            prefix=prefix,
            append=append,
            float_format=self.text_float_format,
        )
        if fvocab is not None:
            formats.write_vocab(fvocab, keys, attr[order], sentences=None, prefix=prefix, append=append)  # type: ignore[index,arg-type]

    def save_projector(self, prefix) -> tuple[str, str]:
        """Export for the TensorBoard Embedding Projector: `<prefix>tensor.tsv`
        (one tab-separated vector per line) and `<prefix>metadata.tsv` (the
        keys, one per line, in the same order). prefix may be a directory
        ending in a separator. Returns the two paths."""
        prefix = os.fspath(prefix)
        return formats.write_projector(prefix, self.index_to_key, self.vectors)

    @classmethod
    def load_word2vec_format(
        cls,
        fname,
        fvocab=None,
        binary: bool = False,
        encoding: str = "utf-8",
        unicode_errors: str = "strict",
        limit: int | None = None,
        datatype=np.float32,
        no_header: bool = False,
    ) -> KeyedVectors:
        """Load vectors written by word2vec.c, gensim, fastText (.vec) or sgns
        (gensim's positional order; .gz/.bz2 decompressed by name).

        fvocab: word2vec.c vocabulary file giving the counts; without it, the
        "count" attribute is made up as len - row (most frequent first, as
        gensim does). no_header: a text file without the "<V> <D>" line."""
        words, vectors = formats.read_vectors(
            fname,
            binary=binary,
            limit=limit,
            unicode_errors=unicode_errors,
            encoding=encoding,
            datatype=datatype,
            no_header=no_header,
        )
        counts = np.arange(len(words), 0, -1)
        if fvocab is not None:
            vwords, vcounts, _ = formats.read_vocab(fvocab, unicode_errors=unicode_errors)
            lookup = dict(zip(vwords, vcounts))
            counts = [lookup.get(w, 0) for w in words]  # type: ignore[assignment]
        try:
            return cls.from_arrays(words, vectors, counts)
        except ValueError as e:
            raise formats.FormatError(fname, str(e)) from None


__all__ = ["KeyedVectors"]
