"""Saving and loading whole models: one file in the sgns container (its byte
layout is in sgns.container), no pickle.

A model file's header has "kind": "word2vec" and, besides the container's
fields, "params" (constructor arguments), "vocab" {"corpus_words",
"corpus_sentences", "effective_min_count"} and "state" {"words_done",
"total_train_words", "epochs_done", "epoch_reports", "interrupted", ...}.
Besides the keys, vectors and per-key attributes it holds the arrays
"vocab.counts" (int64), "syn1neg" (V x D float32, negative sampling) and
"syn1" (V x D float32, hierarchical softmax: V - 1 tree nodes and gensim's
unused last row; files of sgns 0.1 hold V - 1 rows) and the Huffman tree
"huffman.offsets", "huffman.points", "huffman.codes" (files without it get
the tree the counts give; a tree from gensim need not be that one).
"""

from __future__ import annotations

import inspect
import logging
import math
import os
from typing import Any

import numpy as np

from sgns import container
from sgns.container import MAGIC, Reader, header_dict
from sgns.errors import FormatError
from sgns.keyedvectors import KeyedVectors
from sgns.runtime import EpochReport
from sgns.vocab import Vocabulary

__all__ = [
    "MAGIC",
    "MODEL_CLASSES",
    "MODEL_MATRICES",
    "WrongKindError",
    "load_keyedvectors",
    "load_model",
    "matrix_rows",
    "save_keyedvectors",
    "save_model",
]

logger = logging.getLogger(__name__)

# Constructor arguments that are data or live objects, not settings.
_NOT_PARAMS = {
    "self", "sentences", "corpus_file", "corpus_iterable", "callbacks", "progress", "hashfxn", "trim_rule"
}  # fmt: skip
# Output-layer matrices saved with a model when present: syn1neg has a row
# per word (negative sampling), syn1 one per inner Huffman node (V - 1, hs)
# and gensim's unused last row.
MODEL_MATRICES = ("syn1neg", "syn1")
# Training state: model attributes saved when present.
_STATE = ("words_done", "total_train_words", "interrupted", "epoch_words")
_TREE = ("huffman.offsets", "huffman.points", "huffman.codes")
# The class load_model builds for a file's "kind" when not given one;
# sgns.model registers Word2Vec.
MODEL_CLASSES: dict[str, type] = {}


def matrix_rows(name: str, vocab_size: int) -> int:
    """Rows of output matrix `name` for a vocabulary of vocab_size words."""
    return vocab_size


class WrongKindError(FormatError, AttributeError):
    """An sgns file of another kind than asked for (vectors loaded as a
    model); also the AttributeError gensim raises for it."""


# ---- public API -------------------------------------------------------------------------------


def save_keyedvectors(kv: KeyedVectors, path: str | os.PathLike) -> None:
    """Write kv (keys, vectors, per-key attributes) to path, atomically."""
    container.save_keyedvectors(kv, path)


def load_keyedvectors(
    path: str | os.PathLike, mmap: str | None = None, cls: type = KeyedVectors
) -> KeyedVectors:
    """Read KeyedVectors written by save_keyedvectors, or the vectors of a
    model written by save_model. mmap: None reads the vectors into memory
    (CRC-checked); 'r' maps them read-only, 'c' copy-on-write. ('r+' is
    refused: changes written through the map would not update the file's
    CRC32s, so the next normal load would call the file corrupt.)"""
    return container.load_keyedvectors(path, mmap, cls)


def save_model(model, path: str | os.PathLike) -> None:
    """Write a whole Word2Vec model to path, atomically: hyperparameters,
    vocabulary with counts and corpus statistics, input and output weights,
    learning-rate position and per-epoch history. Training can continue
    after load_model. Not saved: callbacks and progress (live objects)."""
    vocab = model.vocab
    arrays = container.kv_arrays(model.wv)
    header: dict[str, Any] = {"kind": "word2vec", "params": _params(model)}
    if vocab is not None:
        if len(vocab) != len(model.wv) or vocab.words != model.wv.index_to_key:
            raise ValueError(
                "model.vocab and model.wv hold different words; cannot save a "
                "model whose vectors were added to outside build_vocab"
            )
        arrays["vocab.counts"] = np.asarray(vocab.counts, dtype=np.int64)
        header["vocab"] = {
            "corpus_words": int(vocab.corpus_words),
            "corpus_sentences": int(vocab.corpus_sentences),
            "effective_min_count": int(vocab.effective_min_count),
        }
    for name in MODEL_MATRICES:
        m = getattr(model, name, None)
        if isinstance(m, np.ndarray) and m.ndim == 2:
            arrays[name] = m
    if getattr(model, "hs", 0) and vocab is not None and len(vocab) > 1:
        arrays.update(zip(_TREE, model.huffman_tree()))
    state: dict[str, Any] = {name: _jsonable(getattr(model, name)) for name in _STATE if hasattr(model, name)}
    reports = getattr(model, "epoch_reports", [])
    state["epochs_done"] = len(reports)
    state["epoch_reports"] = [{k: _jsonable(v) for k, v in vars(r).items()} for r in reports]
    header["state"] = state
    container.write_file(path, header, arrays)


def load_model(path: str | os.PathLike, mmap: str | None = None, cls: type | None = None):
    """Read a model written by save_model (as cls, default Word2Vec). mmap:
    None reads the weights into memory; 'r' maps them read-only (queries
    only: training needs writable weights); 'c' maps them copy-on-write
    (training works, the file is not changed)."""
    with Reader(path, mmap) as r:
        if r.header.get("kind") != "word2vec":
            raise WrongKindError(
                r.path,
                f"the file holds {r.header.get('kind')!r}, not a Word2Vec model; use KeyedVectors.load()",
            )
        model = _new_model(r, MODEL_CLASSES["word2vec"] if cls is None else cls)
        wv = container.read_kv(r, getattr(model, "keyed_vectors_class", KeyedVectors))
        if "vocab.counts" in r.arrays:
            model.vocab = _read_vocab(r, wv)
        model.wv = wv
        for name in MODEL_MATRICES:
            if name in r.arrays:
                setattr(model, name, _read_matrix(r, name, wv))
        if model.vocab is not None and all(name in r.arrays for name in _TREE):
            _read_tree(r, model)
        _read_state(r, model)
        wv.norms = None
        if mmap is None and hasattr(model, "_pad_rows"):
            model._pad_rows()  # the saved model's layout: queries round as they did before saving
        return model


def _read_tree(r: Reader, model) -> None:
    tree = tuple(r.array(name, mmap=False) for name in _TREE)
    try:
        model.set_huffman_tree(tree)
    except ValueError as e:
        raise FormatError(r.path, f"bad Huffman tree: {e}") from None


def _new_model(r: Reader, cls: type):
    """cls built from the file's saved parameters (unknown ones ignored)."""
    saved = r.header.get("params")
    if not isinstance(saved, dict):
        raise FormatError(r.path, "header has no 'params' object")
    accepted = _param_names(cls)
    unknown = sorted(set(saved) - accepted)
    if unknown:
        logger.warning("%s: ignoring parameters this sgns does not know: %s", r.path, unknown)
    try:
        return cls(**{k: v for k, v in saved.items() if k in accepted})
    except (TypeError, ValueError, NotImplementedError) as e:
        raise FormatError(r.path, f"cannot rebuild the model from its saved parameters: {e}") from e


def _read_vocab(r: Reader, wv: KeyedVectors) -> Vocabulary:
    counts = r.array("vocab.counts", mmap=False)
    if counts.shape != (len(wv),):
        raise FormatError(r.path, "array 'vocab.counts' does not have one entry per key")
    meta = header_dict(r, "vocab")
    try:
        return Vocabulary(
            wv.index_to_key,
            counts,
            corpus_words=int(meta.get("corpus_words", counts.sum())),
            corpus_sentences=int(meta.get("corpus_sentences", 0)),
            effective_min_count=int(meta.get("effective_min_count", 1)),
        )
    except (TypeError, ValueError) as e:
        raise FormatError(r.path, f"bad vocabulary: {e}") from None


def _read_matrix(r: Reader, name: str, wv: KeyedVectors) -> np.ndarray:
    m = r.array(name)
    rows = matrix_rows(name, len(wv))
    if name == "syn1" and m.ndim == 2 and m.shape[0] == rows - 1 > 0:  # written by sgns 0.1
        m = np.vstack([m, np.zeros((1, m.shape[1]), dtype=m.dtype)])
    if m.ndim != 2 or m.shape[1] != wv.vector_size or m.shape[0] not in (0, rows):
        raise FormatError(
            r.path,
            f"array {name!r} has shape {m.shape}, expected "
            f"({rows}, {wv.vector_size}) or (0, {wv.vector_size})",
        )
    return m


def _read_state(r: Reader, model) -> None:
    state = header_dict(r, "state")
    reports = state.get("epoch_reports", [])
    if not isinstance(reports, list) or not all(isinstance(rep, dict) for rep in reports):
        raise FormatError(r.path, "corrupt header: 'state.epoch_reports' is not a list of objects")
    try:
        for name in _STATE:
            if name in state:
                setattr(model, name, _from_json(state[name]))
        model.epoch_reports = [EpochReport(**{k: _from_json(v) for k, v in rep.items()}) for rep in reports]
    except TypeError as e:
        raise FormatError(r.path, f"bad training state: {e}") from None


def _param_names(cls) -> set[str]:
    """The constructor's keyword arguments that are settings."""
    return {
        name
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if name not in _NOT_PARAMS and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


def _params(model) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _param_names(type(model)):
        if not hasattr(model, name):
            continue
        value = getattr(model, name)
        if isinstance(value, (bool, np.bool_)):
            out[name] = bool(value)
        elif isinstance(value, (int, np.integer)):
            out[name] = int(value)
        elif isinstance(value, (float, np.floating)):
            out[name] = float(value)
        elif value is None or isinstance(value, str):
            out[name] = value
        else:
            logger.warning("not saving parameter %s=%r: not a number or string", name, value)
    return dict(sorted(out.items()))


def _jsonable(value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else repr(value)  # "nan", "inf": strict JSON
    return value


def _from_json(value):
    if isinstance(value, str) and value in ("nan", "inf", "-inf"):
        return float(value)
    return value
