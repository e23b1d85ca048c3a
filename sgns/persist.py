"""Saving and loading whole models and KeyedVectors: one file, no pickle.

Layout of format version 1 (integers little-endian):

    offset  size  field
    0       8     magic b"\\x89SGNS\\r\\n\\x1a"  (a high-bit byte and CR LF catch
                  text-mode or 7-bit corruption, as PNG's signature does)
    8       4     uint32 format version (1)
    12      4     uint32 CRC32 of the header bytes (0: not checked; files
                  written before the CRC existed have 0 here)
    16      8     uint64 H, length of the header
    24      H     header: a UTF-8 JSON object
    ...           zero bytes up to data_start = 24 + H rounded up to 64
    data_start    the arrays, raw C-order little-endian, each at
                  data_start + its "offset" (a multiple of 64, so a memory
                  map of each is aligned)

Header fields: "format" ("sgns"), "version" (1), "kind" ("word2vec" or
"keyedvectors"), "sgns_version", "vector_size", "count" (keys), "attrs"
(per-key attribute names), "file_size" (bytes), "arrays" {name: {"dtype" (numpy
string, e.g. "<f4"), "shape", "offset", "nbytes", "crc32"}}; for "word2vec"
also "params" (constructor arguments), "vocab" {"corpus_words",
"corpus_sentences", "effective_min_count"} and "state" {"words_done",
"total_train_words", "epochs_done", "epoch_reports", "interrupted", ...}.

Arrays: "keys.utf8" (uint8: each key in UTF-8 with surrogate escapes, the
corpus bytes, followed by one NUL byte), "keys.offsets" (int64, V + 1: key i is
keys.utf8[offsets[i]:offsets[i+1] - 1]), "vectors" (V x D), "attr.<name>" (one
value per key, e.g. attr.count), and for a model "vocab.counts" (int64) and
"syn1neg" (V x D float32).

Readers refuse a version they do not know and ignore fields and arrays they
do not know; a change an old reader could misread gets a new version. The
header and every array carry a CRC32; the header's is always checked, an
array's when the array is read into memory (not when it is memory-mapped:
that would read it all). Every write goes to a temporary
file that is fsynced and renamed over the target.
"""

from __future__ import annotations

import inspect
import json
import logging
import math
import os
import struct
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sgns.formats import FormatError, atomic_write
from sgns.keyedvectors import KeyedVectors
from sgns.vocab import ENCODING, ERRORS, Vocabulary

if TYPE_CHECKING:
    from sgns.model import Word2Vec

logger = logging.getLogger(__name__)

MAGIC = b"\x89SGNS\r\n\x1a"
VERSION = 1
FORMAT = "sgns"
_PREAMBLE = struct.Struct("<8sIIQ")
_ALIGN = 64
_CHUNK = 1 << 26  # bytes per write/CRC step
_MAX_HEADER = 1 << 34  # a header this large is corruption
# Constructor arguments that are data or live objects, not settings.
_NOT_PARAMS = {"self", "sentences", "corpus_file", "corpus_iterable", "callbacks", "progress"}
# Output-layer matrices saved with a model when present: syn1neg has a row
# per word (negative sampling), syn1 one per inner Huffman node (V - 1, hs).
_MODEL_MATRICES = ("syn1neg", "syn1")
# Training state: model attributes saved when present.
_STATE = ("words_done", "total_train_words", "interrupted", "epoch_words")


def _matrix_rows(name: str, vocab_size: int) -> int:
    return max(vocab_size - 1, 0) if name == "syn1" else vocab_size


# ---- public API -------------------------------------------------------------------------------


def save_keyedvectors(kv: KeyedVectors, path: str | os.PathLike) -> None:
    """Write kv (keys, vectors, per-key attributes) to path, atomically."""
    header = {"kind": "keyedvectors"}
    _write(path, header, _kv_arrays(kv))


def load_keyedvectors(
    path: str | os.PathLike, mmap: str | None = None, cls: type = KeyedVectors
) -> KeyedVectors:
    """Read KeyedVectors written by save_keyedvectors, or the vectors of a
    model written by save_model. mmap: None reads the vectors into memory
    (CRC-checked); 'r' maps them read-only, 'c' copy-on-write, 'r+'
    read-write (changes go to the file)."""
    with _Reader(path, mmap) as r:
        return _read_kv(r, cls)


def save_model(model: "Word2Vec", path: str | os.PathLike) -> None:
    """Write a whole Word2Vec model to path, atomically: hyperparameters,
    vocabulary with counts and corpus statistics, input and output weights,
    learning-rate position and per-epoch history. Training can continue
    after load_model. Not saved: callbacks and progress (live objects)."""
    vocab = model.vocab
    arrays = _kv_arrays(model.wv)
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
    for name in _MODEL_MATRICES:
        m = getattr(model, name, None)
        if isinstance(m, np.ndarray) and m.ndim == 2:
            arrays[name] = m
    state: dict[str, Any] = {name: _jsonable(getattr(model, name)) for name in _STATE if hasattr(model, name)}
    reports = getattr(model, "epoch_reports", [])
    state["epochs_done"] = len(reports)
    state["epoch_reports"] = [{k: _jsonable(v) for k, v in vars(r).items()} for r in reports]
    header["state"] = state
    _write(path, header, arrays)


def load_model(path: str | os.PathLike, mmap: str | None = None, cls: type | None = None) -> "Word2Vec":
    """Read a model written by save_model. mmap: None reads the weights into
    memory; 'r' maps them read-only (queries only: training needs writable
    weights); 'c' maps them copy-on-write (training works, the file is not
    changed)."""
    from sgns.model import EpochReport, Word2Vec

    cls = Word2Vec if cls is None else cls
    with _Reader(path, mmap) as r:
        if r.header.get("kind") != "word2vec":
            raise FormatError(
                r.path,
                f"the file holds {r.header.get('kind')!r}, not a Word2Vec model; use KeyedVectors.load()",
            )
        saved = r.header.get("params")
        if not isinstance(saved, dict):
            raise FormatError(r.path, "header has no 'params' object")
        accepted = _param_names(cls)
        unknown = sorted(set(saved) - accepted)
        if unknown:
            logger.warning("%s: ignoring parameters this sgns does not know: %s", r.path, unknown)
        try:
            model = cls(**{k: v for k, v in saved.items() if k in accepted})
        except (TypeError, ValueError, NotImplementedError) as e:
            raise FormatError(r.path, f"cannot rebuild the model from its saved parameters: {e}") from e
        wv = _read_kv(r, KeyedVectors)
        if "vocab.counts" in r.arrays:
            counts = r.array("vocab.counts", mmap=False)
            if counts.shape != (len(wv),):
                raise FormatError(r.path, "array 'vocab.counts' does not have one entry per key")
            meta = _header_dict(r, "vocab")
            try:
                model.vocab = Vocabulary(
                    wv.index_to_key,
                    counts,
                    corpus_words=int(meta.get("corpus_words", counts.sum())),
                    corpus_sentences=int(meta.get("corpus_sentences", 0)),
                    effective_min_count=int(meta.get("effective_min_count", 1)),
                )
            except (TypeError, ValueError) as e:
                raise FormatError(r.path, f"bad vocabulary: {e}") from None
        model.wv = wv
        for name in _MODEL_MATRICES:
            if name in r.arrays:
                m = r.array(name)
                rows = _matrix_rows(name, len(wv))
                if m.ndim != 2 or m.shape[1] != wv.vector_size or m.shape[0] not in (0, rows):
                    raise FormatError(
                        r.path,
                        f"array {name!r} has shape {m.shape}, expected "
                        f"({rows}, {wv.vector_size}) or (0, {wv.vector_size})",
                    )
                setattr(model, name, m)
        if getattr(model, "hs", 0) and model.vocab is not None and hasattr(model, "_huffman"):
            model._huffman = model.vocab.huffman()  # a function of the counts: rebuilt, not stored
        state = _header_dict(r, "state")
        reports = state.get("epoch_reports", [])
        if not isinstance(reports, list) or not all(isinstance(rep, dict) for rep in reports):
            raise FormatError(r.path, "corrupt header: 'state.epoch_reports' is not a list of objects")
        try:
            for name in _STATE:
                if name in state:
                    setattr(model, name, _from_json(state[name]))
            model.epoch_reports = [
                EpochReport(**{k: _from_json(v) for k, v in rep.items()}) for rep in reports
            ]
        except TypeError as e:
            raise FormatError(r.path, f"bad training state: {e}") from None
        wv.norms = None
        return model


def extend_vocab(
    model: "Word2Vec", words: Sequence[str], counts, *, corpus_words: int, corpus_sentences: int
) -> dict[str, int]:
    """Merge the counts of a new corpus into a trained model's vocabulary:
    the work of build_vocab(corpus, update=True).

    words, counts: the new corpus's word types (first-seen order; a sequence
    of str, or any object with take(ids) -> list[str]) and their counts.
    Words already known keep their row and vectors and add the new counts.
    New words counted at least min_count times are appended, most frequent
    first (ties in first-seen order), with input vectors uniform in
    ±1/vector_size and zero output vectors. max_final_vocab caps the final
    vocabulary: new words then need a higher count, words tied at the cut all
    stay out. corpus_words/corpus_sentences describe the new corpus (gensim's
    corpus_total_words/corpus_count). Sets model.epoch_words, the in-vocabulary
    words of the new corpus: the words per epoch of the next train().

    Returns {"new_words", "updated_words", "dropped_words", "epoch_words"}.
    """
    vocab = model.vocab
    if vocab is None or len(vocab) == 0:
        raise RuntimeError(
            "cannot update the vocabulary of a model that has none: "
            "call build_vocab() without update=True first"
        )
    if len(model.wv) != len(vocab):
        raise RuntimeError("model.wv and model.vocab differ in size; cannot update")
    counts = np.asarray(counts, dtype=np.int64)
    n = len(counts)
    if len(words) != n:
        raise ValueError("words and counts differ in length")
    types = words.take(list(range(n))) if hasattr(words, "take") else list(words)
    old_index = vocab.index
    pos = np.fromiter((old_index.get(w, -1) for w in types), dtype=np.int64, count=n)
    known = pos >= 0
    merged = vocab.counts.copy()
    np.add.at(merged, pos[known], counts[known])

    min_count = max(int(model.min_count), 1)
    candidates = np.flatnonzero(~known & (counts >= min_count))
    cap = model.max_final_vocab
    if cap is not None and len(vocab) + len(candidates) > cap:
        room = max(0, cap - len(vocab))
        ranked = np.sort(counts[candidates])[::-1]
        min_count = int(ranked[room]) + 1 if room < len(ranked) else min_count
        candidates = candidates[counts[candidates] >= min_count]
    order = candidates[np.argsort(-counts[candidates], kind="stable")]
    new_words = [types[i] for i in order]
    new_counts = counts[order]

    n_old, dim = len(vocab), model.vector_size
    rng = np.random.default_rng(np.random.SeedSequence([int(model.seed) & (2**64 - 1), n_old]))
    rows = rng.random((len(new_words), dim), dtype=np.float32)
    rows *= np.float32(2.0)
    rows -= np.float32(1.0)
    rows /= np.float32(dim)
    wv = model.wv
    wv.add_vectors(new_words, rows)
    wv.expandos["count"] = np.concatenate([merged, new_counts])
    n_new = n_old + len(new_words)
    for name in _MODEL_MATRICES:
        m = getattr(model, name, None)
        if isinstance(m, np.ndarray) and m.ndim == 2 and 0 < m.shape[0] == _matrix_rows(name, n_old):
            pad = np.zeros((_matrix_rows(name, n_new) - m.shape[0], m.shape[1]), dtype=m.dtype)
            setattr(model, name, np.vstack([m, pad]))
    if not wv.vectors.flags.c_contiguous or not wv.vectors.flags.writeable:
        wv.vectors = np.array(wv.vectors, order="C")
    model.vocab = Vocabulary(
        vocab.words + new_words,
        wv.expandos["count"],
        corpus_words=int(corpus_words),
        corpus_sentences=int(corpus_sentences),
        effective_min_count=min_count,
    )
    if getattr(model, "hs", 0) and hasattr(model, "_huffman"):
        model._huffman = model.vocab.huffman()  # the tree changes: inner-node rows are reassigned
    epoch_words = int(counts[known].sum() + new_counts.sum())
    model.epoch_words = epoch_words
    summary = {
        "new_words": len(new_words),
        "updated_words": int(known.sum()),
        "dropped_words": int(n - known.sum() - len(new_words)),
        "epoch_words": epoch_words,
    }
    logger.info(
        "vocabulary update: %d new words, %d known words counted again, %d dropped "
        "(fewer than %d occurrences); %d words in the vocabulary",
        summary["new_words"],
        summary["updated_words"],
        summary["dropped_words"],
        min_count,
        len(model.vocab),
    )
    return summary


# ---- writing ----------------------------------------------------------------------------------


def _kv_arrays(kv: KeyedVectors) -> dict[str, np.ndarray]:
    keys = kv.index_to_key
    for k in keys:
        if not isinstance(k, str):
            raise TypeError(f"only str keys can be saved, got {k!r}")
    try:
        encoded = [k.encode(ENCODING, ERRORS) for k in keys]
    except UnicodeEncodeError as e:
        bad = next(k for k in keys if not _encodable(k))
        raise ValueError(f"key {bad!r} cannot be stored: {e.reason}") from None
    blob = b"\0".join(encoded) + b"\0" if encoded else b""
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)) + 1
    offsets = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    vectors = np.asarray(kv.vectors)
    if vectors.ndim != 2 or vectors.shape[0] != len(keys):
        raise ValueError("kv.vectors must be a (len(index_to_key), D) matrix")
    arrays = {"keys.utf8": np.frombuffer(blob, dtype=np.uint8), "keys.offsets": offsets, "vectors": vectors}
    for name, values in kv.expandos.items():
        values = np.asarray(values)
        if values.dtype.kind not in "biuf" or values.shape[:1] != (len(keys),):
            raise ValueError(
                f"per-key attribute {name!r} (dtype {values.dtype}, shape {values.shape}) "
                "cannot be saved: it must be numeric with one value per key"
            )
        arrays["attr." + name] = values
    return arrays


def _encodable(key: str) -> bool:
    try:
        key.encode(ENCODING, ERRORS)
        return True
    except UnicodeEncodeError:
        return False


def _write(path, header: dict, arrays: dict[str, np.ndarray]) -> None:
    from sgns import __version__

    kv_rows, dim = arrays["vectors"].shape
    table: dict[str, dict] = {}
    offset = 0
    prepared: list[tuple[int, np.ndarray]] = []
    for name, arr in arrays.items():
        arr = np.ascontiguousarray(arr)
        if arr.dtype != arr.dtype.newbyteorder("<"):
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"array {name!r} has dtype {arr.dtype}; only numbers can be saved")
        raw = _bytes_view(arr)
        table[name] = {
            "dtype": arr.dtype.str,
            "shape": list(arr.shape),
            "offset": offset,
            "nbytes": len(raw),
            "crc32": _crc32(raw),
        }
        prepared.append((offset, arr))
        offset = _align(offset + len(raw))
    full = {
        "format": FORMAT,
        "version": VERSION,
        "kind": header["kind"],
        "sgns_version": __version__,
        "vector_size": int(dim),
        "count": int(kv_rows),
        "attrs": sorted(n[5:] for n in arrays if n.startswith("attr.")),
    }
    full.update({k: v for k, v in header.items() if k != "kind"})
    full["arrays"] = table
    # file_size depends on the header's own length: settle it in two passes.
    full["file_size"] = 0
    while True:  # sizes only grow, so this settles (in two rounds, in practice)
        text = json.dumps(full, allow_nan=False, separators=(",", ":")).encode("ascii")
        size = _align(_PREAMBLE.size + len(text)) + offset
        if full["file_size"] == size:
            break
        full["file_size"] = size
    data_start = _align(_PREAMBLE.size + len(text))
    with atomic_write(path) as f:
        f.write(_PREAMBLE.pack(MAGIC, VERSION, zlib.crc32(text), len(text)))
        f.write(text)
        f.write(b"\0" * (data_start - _PREAMBLE.size - len(text)))
        written = 0
        for off, arr in prepared:
            f.write(b"\0" * (off - written))
            raw = _bytes_view(arr)
            for start in range(0, len(raw), _CHUNK):
                f.write(raw[start : start + _CHUNK])
            written = off + len(raw)
        f.write(b"\0" * (offset - written))


def _bytes_view(arr: np.ndarray) -> memoryview:
    if arr.size == 0:
        return memoryview(b"")
    return memoryview(arr.reshape(-1)).cast("B")


def _crc32(raw: memoryview) -> int:
    crc = 0
    for start in range(0, len(raw), _CHUNK):
        crc = zlib.crc32(raw[start : start + _CHUNK], crc)
    return crc


def _align(n: int) -> int:
    return -(-n // _ALIGN) * _ALIGN


def _param_names(cls) -> set[str]:
    """The constructor's keyword arguments that are settings."""
    return {
        name
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if name not in _NOT_PARAMS and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


def _params(model) -> dict[str, Any]:
    out = {}
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


# ---- reading ----------------------------------------------------------------------------------


class _Reader:
    """An open model file with its header checked; arrays on demand."""

    def __init__(self, path, mmap: str | None):
        if mmap not in (None, "r", "r+", "c"):
            raise ValueError(f"mmap must be None, 'r', 'r+' or 'c', got {mmap!r}")
        self.path = os.fsdecode(os.fspath(path))
        self.mmap = mmap
        if os.path.isdir(self.path):
            raise IsADirectoryError(f"{self.path}: is a directory, not an sgns model file")
        self.f = open(self.path, "rb")
        try:
            self._read_header()
        except BaseException:
            self.f.close()
            raise

    def __enter__(self) -> "_Reader":
        return self

    def __exit__(self, *exc) -> None:
        self.f.close()

    def _read_header(self) -> None:
        size = os.fstat(self.f.fileno()).st_size
        head = self.f.read(_PREAMBLE.size)
        if not head.startswith(MAGIC):
            raise FormatError(self.path, _not_ours(head), 0)
        if len(head) < _PREAMBLE.size:
            raise FormatError(self.path, f"truncated: {size} bytes, too short for the file header", 0)
        _, version, header_crc, hlen = _PREAMBLE.unpack(head)
        if version != VERSION:
            newer = " (written by a newer sgns: upgrade sgns to read it)" if version > VERSION else ""
            raise FormatError(
                self.path,
                f"unknown sgns format version {version}; this sgns reads version {VERSION}{newer}",
                8,
            )
        if hlen > min(size - _PREAMBLE.size, _MAX_HEADER):
            raise FormatError(
                self.path, f"truncated or corrupt: header of {hlen} bytes in a file of {size} bytes", 16
            )
        text = self.f.read(hlen)
        if header_crc and zlib.crc32(text) != header_crc:
            raise FormatError(self.path, "corrupt header (CRC32 mismatch)", _PREAMBLE.size)
        try:
            header = json.loads(text.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise FormatError(self.path, f"corrupt header ({e})", _PREAMBLE.size) from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise FormatError(self.path, "corrupt header: not an sgns header", _PREAMBLE.size)
        if header.get("version") != version:
            raise FormatError(
                self.path,
                f"corrupt header: version {header.get('version')!r} disagrees with the file's {version}",
                _PREAMBLE.size,
            )
        self.header = header
        self.data_start = _align(_PREAMBLE.size + hlen)
        expected = header.get("file_size")
        if isinstance(expected, int) and size < expected:
            raise FormatError(self.path, f"truncated: {size} of {expected} bytes", size)
        arrays = header.get("arrays")
        if not isinstance(arrays, dict):
            raise FormatError(self.path, "corrupt header: no 'arrays' table", _PREAMBLE.size)
        self.arrays: dict[str, tuple[np.dtype, tuple[int, ...], int, int, int | None]] = {}
        for name, spec in arrays.items():
            try:
                dtype = np.dtype(spec["dtype"])
                shape = tuple(int(x) for x in spec["shape"])
                offset, nbytes = int(spec["offset"]), int(spec["nbytes"])
                crc = spec.get("crc32")
            except (KeyError, TypeError, ValueError) as e:
                raise FormatError(
                    self.path, f"corrupt header: bad entry for array {name!r} ({e})", _PREAMBLE.size
                ) from None
            if dtype.kind not in "biuf" or dtype.byteorder == ">" or any(x < 0 for x in shape):
                raise FormatError(
                    self.path, f"array {name!r}: unsupported dtype {dtype.str} or shape {shape}"
                )
            if math.prod(shape) * dtype.itemsize != nbytes or offset < 0 or offset % _ALIGN:
                raise FormatError(
                    self.path,
                    f"corrupt header: array {name!r} has shape {shape}, dtype "
                    f"{dtype.str}, {nbytes} bytes at offset {offset}",
                )
            end = self.data_start + offset + nbytes
            if end > size:
                raise FormatError(
                    self.path,
                    f"truncated: array {name!r} ends at byte {end}, the file has {size} bytes",
                    size,
                )
            self.arrays[name] = (dtype, shape, offset, nbytes, crc)

    def need(self, name: str) -> None:
        if name not in self.arrays:
            raise FormatError(self.path, f"array {name!r} is missing")

    def array(self, name: str, mmap: bool = True) -> np.ndarray:
        """The named array: memory-mapped if the reader maps and mmap, else
        read and CRC-checked."""
        self.need(name)
        dtype, shape, offset, nbytes, crc = self.arrays[name]
        where = self.data_start + offset
        if mmap and self.mmap is not None and nbytes > 0:
            return np.memmap(self.path, dtype=dtype, mode=self.mmap, offset=where, shape=shape)
        out = np.empty(shape, dtype=dtype)
        view = _bytes_view(out)
        self.f.seek(where)
        got = 0
        while got < nbytes:
            n = self.f.readinto(view[got:])
            if not n:
                raise FormatError(
                    self.path, f"truncated: array {name!r} stops after {got} of {nbytes} bytes", where + got
                )
            got += n
        if crc is not None and _crc32(view) != crc:
            raise FormatError(self.path, f"array {name!r} is corrupt (CRC32 mismatch)", where)
        return out


def _header_dict(r: _Reader, name: str) -> dict:
    """The header's object `name` ({} when absent)."""
    value = r.header.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FormatError(r.path, f"corrupt header: {name!r} is a {type(value).__name__}, not an object")
    return value


def _not_ours(head: bytes) -> str:
    if not head:
        return "empty file, not an sgns model file"
    if head[:1] == b"\x80" or head[:2] in (b"(d", b"(l", b"cc"):
        return (
            "not an sgns model file: it looks like a Python pickle (gensim's save()). sgns "
            "never loads pickles; in gensim, call model.wv.save_word2vec_format(path, binary=True) "
            "and load that with sgns.KeyedVectors.load_word2vec_format(path, binary=True)"
        )
    if head[:2] == b"PK" or head[:6] == b"\x93NUMPY":
        return "not an sgns model file: it looks like a NumPy .npz/.npy file"
    first = head.split(b"\n", 1)[0].split()
    if len(first) == 2 and all(x.isdigit() for x in first):
        return (
            "not an sgns model file: it looks like a word2vec vector file; use "
            "KeyedVectors.load_word2vec_format()"
        )
    if MAGIC.startswith(head):
        return f"truncated: {len(head)} bytes, too short for the file header"
    return "not an sgns model file (bad magic bytes)"


def _read_kv(r: _Reader, cls) -> KeyedVectors:
    for name in ("keys.utf8", "keys.offsets", "vectors"):
        r.need(name)
    blob = r.array("keys.utf8", mmap=False).tobytes()
    offsets = r.array("keys.offsets", mmap=False)
    n = offsets.shape[0] - 1
    if (
        offsets.ndim != 1
        or n < 0
        or offsets[0] != 0
        or offsets[-1] != len(blob)
        or (n and np.any(np.diff(offsets) < 1))
    ):
        raise FormatError(r.path, "corrupt key table (keys.offsets)")
    if n == 0:
        keys = []
    elif blob.count(b"\0") == n and blob.endswith(b"\0"):  # no key holds a NUL: split at once
        keys = blob.decode(ENCODING, ERRORS).split("\0")[:-1]
    else:  # slice by offsets
        ends = offsets[1:] - 1
        if np.any(np.frombuffer(blob, dtype=np.uint8)[ends] != 0):
            raise FormatError(r.path, "corrupt key table: a key is not NUL-terminated")
        keys = [blob[a:b].decode(ENCODING, ERRORS) for a, b in zip(offsets[:-1].tolist(), ends.tolist())]
    if len(keys) != n:
        raise FormatError(r.path, "corrupt key table: key count differs from keys.offsets")
    vectors = r.array("vectors")
    if vectors.ndim != 2 or vectors.shape[0] != n:
        raise FormatError(r.path, f"array 'vectors' has shape {vectors.shape}, expected ({n}, D)")
    try:
        kv = cls.from_arrays(keys, vectors)
    except ValueError as e:
        raise FormatError(r.path, f"corrupt key table: {e}") from None
    for name in r.arrays:
        if name.startswith("attr."):
            values = r.array(name, mmap=False)
            if values.shape[:1] != (n,):
                raise FormatError(r.path, f"array {name!r} does not have one value per key")
            kv.expandos[name[5:]] = values
    return kv
