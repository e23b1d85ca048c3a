"""Models and vectors written by gensim's save() (Python pickles), brought
over to sgns objects.

gensim itself reads the pickle (its loader also up-converts files of older
gensim versions, and reads arrays stored beside the main file); this module
then copies the settings, vocabulary, counts and weight matrices into sgns's
classes. Without gensim installed such a file cannot be read, and the error
says so. sgns never unpickles anything itself.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

import numpy as np

from sgns.vocab import Vocabulary

# gensim's own classes, recorded when sgns's are bound to gensim's names
# (sgns.gensim.use_in_gensim): gensim's loader needs its own back meanwhile.
_ORIGINALS: dict[tuple[object, str], object] = {}
_LOCK = threading.Lock()

# gensim settings copied to the sgns model (when the gensim object has them).
_SETTINGS = (
    "alpha", "window", "min_count", "max_vocab_size", "sample", "seed", "workers", "min_alpha", "sg",
    "hs", "negative", "ns_exponent", "cbow_mean", "epochs", "max_final_vocab", "compute_loss",
    "null_word", "sorted_vocab", "batch_words", "comment", "shrink_windows",
)  # fmt: skip


def is_pickle(path) -> bool:
    """True when path starts like a Python pickle (what gensim's save() writes)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        return False
    with open(path, "rb") as f:
        head = f.read(2)
    return head[:1] == b"\x80" or head in (b"(d", b"(l", b"cc", b"(i", b"cg")


def rebind(module, name: str, value) -> None:
    """Set module.name = value, remembering the first original."""
    _ORIGINALS.setdefault((module, name), getattr(module, name))
    setattr(module, name, value)


@contextlib.contextmanager
def _originals_restored() -> Iterator[None]:
    current = [(module, name, getattr(module, name)) for module, name in _ORIGINALS]
    for (module, name), original in _ORIGINALS.items():
        setattr(module, name, original)
    try:
        yield
    finally:
        for module, name, value in current:
            setattr(module, name, value)


def load_gensim(path, kind: str, mmap: str | None = None):
    """Let gensim read a file its save() wrote: kind "Word2Vec" or "KeyedVectors"."""
    try:
        from gensim.models import keyedvectors, word2vec
    except ImportError:
        raise ImportError(
            f"{os.fsdecode(os.fspath(path))} was written by gensim's save() (a pickle); converting "
            "it needs gensim installed (pip install gensim), or save it from gensim with "
            "model.wv.save_word2vec_format(path, binary=True)"
        ) from None
    with _LOCK, _originals_restored():
        loader = word2vec.Word2Vec if kind == "Word2Vec" else keyedvectors.KeyedVectors
        if not hasattr(loader, "_load_specials"):
            raise RuntimeError(
                f"gensim's {kind} was replaced by another class without sgns.gensim.use_in_gensim(): "
                "cannot reach gensim's loader"
            )
        return loader.load(os.fspath(path), mmap=mmap)


def keyed_vectors(gensim_kv, cls):
    """A cls (sgns KeyedVectors class) holding gensim_kv's keys, vectors and
    numeric per-key attributes."""
    keys = [str(k) for k in gensim_kv.index_to_key]
    vectors = np.ascontiguousarray(gensim_kv.vectors, dtype=np.float32)
    kv = cls.from_arrays(keys, vectors)
    for name, values in getattr(gensim_kv, "expandos", {}).items():
        values = np.asarray(values)
        if values.dtype.kind in "biuf" and values.shape[:1] == (len(keys),):
            kv.expandos[name] = values.astype(np.int64) if values.dtype.kind in "biu" else values
    return kv


def word2vec(gensim_model, cls):
    """A cls (sgns Word2Vec class) with gensim_model's settings, vocabulary,
    counts and weights; hierarchical softmax keeps gensim's tree."""
    g = gensim_model
    settings = {name: getattr(g, name) for name in _SETTINGS if hasattr(g, name)}
    model = cls(vector_size=int(g.wv.vector_size), **settings)
    kv = keyed_vectors(g.wv, cls.keyed_vectors_class)
    counts = kv.expandos.get("count")
    if counts is None:
        counts = kv.expandos["count"] = np.arange(len(kv), 0, -1, dtype=np.int64)
    corpus_words, corpus_sentences = getattr(g, "corpus_total_words", None), getattr(g, "corpus_count", None)
    model.vocab = Vocabulary(
        kv.index_to_key,
        counts,
        corpus_words=corpus_words or int(counts.sum()),
        corpus_sentences=corpus_sentences or 0,
        effective_min_count=getattr(g, "effective_min_count", None) or max(1, int(model.min_count)),
    )
    model.wv.replace_contents(kv)
    empty = np.zeros((0, kv.vector_size), dtype=np.float32)
    model.syn1neg = np.array(g.syn1neg, dtype=np.float32, order="C") if model.negative else empty
    if model.hs:
        model.syn1 = _rows(np.array(g.syn1, dtype=np.float32, order="C"), len(kv))
        model.set_huffman_tree(_gensim_tree(g.wv, len(kv)))
    lockf = getattr(g.wv, "vectors_lockf", None)
    if lockf is not None and np.ndim(lockf) == 1 and len(lockf) == len(kv):
        model.wv.vectors_lockf = np.array(lockf, dtype=np.float32)
    model.epoch_words = model.vocab.total_words
    model.corpus_count, model.corpus_total_words = corpus_sentences, corpus_words
    model.running_training_loss = float(getattr(g, "running_training_loss", 0.0) or 0.0)
    model.min_alpha_yet_reached = float(getattr(g, "min_alpha_yet_reached", model.alpha))
    return model


def _rows(matrix: np.ndarray, n: int) -> np.ndarray:
    """matrix with exactly n rows (zero rows appended, or extra rows cut)."""
    if matrix.shape[0] >= n:
        return np.ascontiguousarray(matrix[:n])
    return np.vstack([matrix, np.zeros((n - matrix.shape[0], matrix.shape[1]), dtype=matrix.dtype)])


def _gensim_tree(gensim_kv, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """gensim's Huffman tree (per-word 'code' and 'point' arrays) in sgns's
    (offsets, points, codes) layout, so syn1's rows keep their meaning."""
    codes = [np.asarray(gensim_kv.get_vecattr(k, "code"), dtype=np.uint8) for k in gensim_kv.index_to_key[:n]]
    points = [
        np.asarray(gensim_kv.get_vecattr(k, "point"), dtype=np.int32) for k in gensim_kv.index_to_key[:n]
    ]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum([len(c) for c in codes], out=offsets[1:])
    return offsets, np.concatenate(points).astype(np.int32), np.concatenate(codes).astype(np.uint8)


__all__ = ["is_pickle", "keyed_vectors", "load_gensim", "rebind", "word2vec"]
