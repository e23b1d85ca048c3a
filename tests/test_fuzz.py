"""Fuzzing the file loaders and the C tokenizer with hypothesis.

Every loader gets random bytes and mutations of valid files (byte flips,
truncations, insertions, deletions, duplicated runs; up to four at once).
The ONLY acceptable outcomes, asserted exactly (any other exception fails):

    loader                                        may raise
    KeyedVectors.load_word2vec_format (bin/text)  sgns.FormatError (path set, file named)
    sgns.persist.load_model / load_keyedvectors   sgns.FormatError
    sgns.formats.read_vocab                       sgns.FormatError
    sgns._tokenize.count_file                     nothing (any bytes are a corpus)
    Word2Vec(corpus_file=...)                     ValueError: 'corpus is empty', or with hs=1
                                                  'hierarchical softmax needs at least 2 words'

UnicodeDecodeError must never escape: undecodable words are FormatErrors
(FormatError subclasses ValueError, but a bare ValueError, KeyError,
IndexError, TypeError, MemoryError, OverflowError ... is a failure). A load
that succeeds must return consistent data (shapes, counts, finite values).

Examples are derandomized (the same cases on every run, so CI is
reproducible); SGNS_FUZZ_SCALE=10 multiplies every max_examples for a longer
local run. The counts (scale 1) are listed in docs/robustness.md.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import struct
import warnings
from collections import Counter

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from conftest import assert_parser_matches_exact, repack_sgns_header, vector_read_outcome  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sgns import FormatError, KeyedVectors, Word2Vec, _tokenize, formats  # noqa: E402
from sgns.formats import TruncationWarning  # noqa: E402
from sgns.persist import (  # noqa: E402
    WrongKindError,
    load_keyedvectors,
    load_model,
    save_keyedvectors,
    save_model,
)

SCALE = float(os.environ.get("SGNS_FUZZ_SCALE", "1"))

# max_examples of each fuzz test at scale 1 (documented in docs/robustness.md).
EXAMPLES = {
    "vectors_random_bytes": 600,
    "vectors_header_and_random_body": 600,
    "vectors_text_like": 500,
    "vectors_mutated": 1200,
    "vectors_compressed_headerless": 400,
    "persist_mutated": 700,
    "persist_header_json": 400,
    "vocab": 500,
    "tokenizer": 500,
    "word2vec_corpus_file": 100,
}


def fuzz(name):
    return settings(
        max_examples=max(1, int(EXAMPLES[name] * SCALE)),
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=True,
        suppress_health_check=list(HealthCheck),
    )


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """One scratch file per test module (hypothesis reruns the test body
    many times; a function-scoped tmp_path is not allowed with @given)."""
    return tmp_path_factory.mktemp("fuzz") / "input"


# ---- valid seed files --------------------------------------------------------------------------

WORDS = ["the", "naïve", "日本語", "x", "a-b"]


def _seed_kv() -> KeyedVectors:
    rng = np.random.default_rng(0)
    return KeyedVectors.from_arrays(
        list(WORDS), rng.standard_normal((5, 3)).astype(np.float32), counts=[50, 40, 30, 20, 10]
    )


def _seed_files(tmp) -> dict[str, bytes]:
    kv = _seed_kv()
    out = {}
    kv.save_word2vec_format(tmp / "v.bin", binary=True)
    out["bin"] = (tmp / "v.bin").read_bytes()
    kv.save_word2vec_format(tmp / "v.txt")
    out["txt"] = (tmp / "v.txt").read_bytes()
    # binary without the newline after each vector (accepted by the loader)
    out["bin-no-newline"] = b"5 3\n" + b"".join(
        w.encode() + b" " + kv[w].astype("<f4").tobytes() for w in WORDS
    )
    formats.write_vocab(tmp / "vocab.txt", WORDS, [50, 40, 30, 20, 10], sentences=7)
    out["vocab"] = (tmp / "vocab.txt").read_bytes()
    sentences = [["a", "b", "c", "d"], ["b", "c", "e"], ["naïve", "日本", "a"]] * 10
    model = Word2Vec(sentences, vector_size=3, min_count=1, workers=1, epochs=1, hs=1, seed=1, sample=0)
    save_model(model, tmp / "m.sgns")
    out["model"] = (tmp / "m.sgns").read_bytes()
    save_keyedvectors(kv, tmp / "kv.sgns")
    out["kv"] = (tmp / "kv.sgns").read_bytes()
    return out


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    return _seed_files(tmp_path_factory.mktemp("seeds"))


# ---- mutations ---------------------------------------------------------------------------------

POS = st.integers(0, 1 << 20)
MUTATION = st.one_of(
    st.tuples(st.just("flip"), POS, st.integers(1, 255)),
    st.tuples(st.just("cut"), POS),
    st.tuples(st.just("insert"), POS, st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("delete"), POS, st.integers(1, 8)),
    st.tuples(st.just("repeat"), POS, st.integers(1, 16)),
)
MUTATIONS = st.lists(MUTATION, min_size=1, max_size=4)


def mutate(data: bytes, ops) -> bytes:
    b = bytearray(data)
    for op in ops:
        i = op[1] % (len(b) + 1)
        if op[0] == "flip" and i < len(b):
            b[i] ^= op[2]
        elif op[0] == "cut":
            del b[i:]
        elif op[0] == "insert":
            b[i:i] = op[2]
        elif op[0] == "delete":
            del b[i : i + op[2]]
        elif op[0] == "repeat":
            b[i:i] = b[i : i + op[2]]
    return bytes(b)


# ---- outcome checks ----------------------------------------------------------------------------


def _format_error_ok(err: FormatError, path) -> None:
    # FormatError itself, or its subclasses that are also gensim's EOFError,
    # UnicodeDecodeError, AttributeError
    assert type(err) in (
        FormatError,
        formats.TruncatedFileError,
        formats.UndecodableWordError,
        WrongKindError,
    )
    assert err.path == os.fspath(path) and err.path in str(err)


def load_vectors_or_format_error(path, binary, **kw):
    """Load; the only acceptable exception is FormatError naming the file
    (a TruncationWarning for a text file without its final newline is an
    allowed outcome of a load). The C row parser, reading the file whole or
    a few bytes at a time, must give what the exact reader alone gives: the
    same words and vector bits, or the same error."""
    assert_parser_matches_exact(path, binary, **kw)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TruncationWarning)
            kv = KeyedVectors.load_word2vec_format(path, binary=binary, **kw)
    except FormatError as err:
        _format_error_ok(err, path)
        return None
    header = open(path, "rb").readline().split()
    n, dim = int(header[0]), int(header[1])
    limit = kw.get("limit")
    assert kv.vectors.shape == (n if limit is None else min(n, limit), dim)
    assert kv.vectors.dtype == np.float32 and np.isfinite(kv.vectors).all()
    assert len(set(kv.index_to_key)) == len(kv)
    return kv


# ---- vector files ------------------------------------------------------------------------------


@fuzz("vectors_random_bytes")
@given(data=st.binary(max_size=400), binary=st.booleans())
def test_vectors_random_bytes(scratch, data, binary):
    scratch.write_bytes(data)
    load_vectors_or_format_error(scratch, binary)


@fuzz("vectors_header_and_random_body")
@given(
    n=st.integers(0, 6),
    dim=st.integers(1, 6),
    body=st.binary(max_size=300),
    binary=st.booleans(),
    errors=st.sampled_from(["strict", "replace", "ignore"]),
)
def test_vectors_valid_header_random_body(scratch, n, dim, body, binary, errors):
    scratch.write_bytes(f"{n} {dim}\n".encode() + body)
    load_vectors_or_format_error(scratch, binary, unicode_errors=errors)


TEXTY = st.text(alphabet=list("0123456789 .-+eEnaif\n\t\rxyz\x00") + ["é", "\udcff"], max_size=200)


@fuzz("vectors_text_like")
@given(n=st.integers(0, 4), dim=st.integers(1, 4), body=TEXTY, limit=st.one_of(st.none(), st.integers(0, 5)))
def test_vectors_text_like_rows(scratch, n, dim, body, limit):
    scratch.write_bytes(f"{n} {dim}\n".encode() + body.encode("utf-8", "surrogateescape"))
    load_vectors_or_format_error(scratch, False, limit=limit)


@fuzz("vectors_mutated")
@given(
    kind=st.sampled_from(["bin", "txt", "bin-no-newline"]),
    ops=MUTATIONS,
    errors=st.sampled_from(["strict", "replace"]),
)
def test_vectors_mutated(scratch, seeds, kind, ops, errors):
    scratch.write_bytes(mutate(seeds[kind], ops))
    load_vectors_or_format_error(scratch, kind != "txt", unicode_errors=errors)


def _same_load(a, b) -> None:
    """Two outcomes of vector_read_outcome: the same words and vector bits, or
    both FormatErrors (messages differ: a compressed file's byte count is not
    known in advance, a headerless file's rows are numbered from 1)."""
    if a[0] == "ok" or b[0] == "ok":
        assert a[:5] == b[:5]
    else:
        assert issubclass(getattr(formats, a[1], FormatError), FormatError), a
        assert issubclass(getattr(formats, b[1], FormatError), FormatError), b


@fuzz("vectors_compressed_headerless")
@given(kind=st.sampled_from(["bin", "txt", "bin-no-newline"]), ops=MUTATIONS)
def test_vectors_compressed_and_headerless(scratch, seeds, kind, ops):
    """A .gz copy of a mutated file, read as a stream, loads as the file does;
    a text file's rows without their header, read with no_header=True, load
    as the rows do under a header "<non-blank lines> <fields of the first
    line - 1>" (the count the reader made before it read to the end instead);
    both through the C parser in small chunks as through the exact reader."""
    binary = kind != "txt"
    data = mutate(seeds[kind], ops)
    scratch.write_bytes(data)
    packed = scratch.with_suffix(".gz")
    packed.write_bytes(gzip.compress(data, mtime=0))
    _same_load(vector_read_outcome(scratch, binary), assert_parser_matches_exact(packed, binary))
    if binary:
        return
    body = data.split(b"\n", 1)[-1]
    scratch.write_bytes(body)
    headerless = assert_parser_matches_exact(scratch, False, no_header=True)
    lines = body.split(b"\n")
    fields = len(lines[0].split()) - 1
    if not lines[0].strip() or fields < 1:
        assert headerless[0] == "error" and headerless[1] == "FormatError", headerless
        return
    scratch.write_bytes(f"{sum(1 for x in lines if x.strip())} {fields}\n".encode() + body)
    _same_load(vector_read_outcome(scratch, False), headerless)


# ---- sgns.persist files ------------------------------------------------------------------------


def load_persist_or_format_error(path, kind, mmap):
    try:
        if kind == "model":
            m = load_model(path, mmap=mmap)
            kv = m.wv
            if m.vocab is not None:
                assert len(m.vocab) == len(kv)
        else:
            kv = load_keyedvectors(path, mmap=mmap)
    except FormatError as err:
        _format_error_ok(err, path)
        return None
    assert kv.vectors.ndim == 2 and kv.vectors.shape[0] == len(kv.index_to_key)
    assert len(kv.key_to_index) == len(kv.index_to_key)
    return kv


@fuzz("persist_mutated")
@given(kind=st.sampled_from(["model", "kv"]), ops=MUTATIONS, mmap=st.sampled_from([None, None, "r"]))
def test_persist_mutated(scratch, seeds, kind, ops, mmap):
    scratch.write_bytes(mutate(seeds[kind], ops))
    load_persist_or_format_error(scratch, "model" if kind == "model" else "kv", mmap)


JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=8),
        st.sampled_from(["<f4", "|u1", "<i8", ">f4", "|O", "<U3", "V8", "keys.utf8", "vectors"]),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


@fuzz("persist_header_json")
@given(
    kind=st.sampled_from(["model", "kv"]),
    which=st.integers(0, 10**6),
    value=JSON_VALUES,
    delete=st.booleans(),
)
def test_persist_header_fields_replaced(scratch, seeds, kind, which, value, delete):
    """Replace (or delete) one node of the JSON header by an arbitrary JSON
    value and re-pack the file consistently: a FormatError or a load."""
    data = seeds[kind]
    hlen = struct.unpack_from("<Q", data, 16)[0]
    header = json.loads(data[24 : 24 + hlen])
    paths = list(_paths(header))[1:]
    path = paths[which % len(paths)]
    parent = header
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    scratch.write_bytes(repack_sgns_header(data, header, fix_size=path != ("file_size",)))
    load_persist_or_format_error(scratch, "model" if kind == "model" else "kv", None)


# ---- vocabulary files --------------------------------------------------------------------------


@fuzz("vocab")
@given(data=st.one_of(st.binary(max_size=200), st.tuples(st.just("mutate"), MUTATIONS)))
def test_vocab_random_and_mutated(scratch, seeds, data):
    if isinstance(data, tuple):
        data = mutate(seeds["vocab"], data[1])
    scratch.write_bytes(data)
    try:
        words, counts, sentences = formats.read_vocab(scratch)
    except FormatError as err:
        _format_error_ok(err, scratch)
        return
    assert len(words) == len(counts)
    assert all(isinstance(c, int) and c >= 0 for c in counts) and sentences >= 0
    for w in words:
        raw = w.encode("utf-8", "surrogateescape")
        assert raw and not re.search(rb"[ \t\n\r\v\f]", raw)


# ---- the C tokenizer ---------------------------------------------------------------------------


def ref_cut(word: bytes) -> bytes:
    if len(word) <= 1000:
        return word
    k = 1000
    while k > 997 and word[k] & 0xC0 == 0x80:
        k -= 1
    return word[:1000] if word[k] & 0xC0 == 0x80 else word[:k]


def ref_count(data: bytes):
    tokens = [ref_cut(t) for t in re.split(rb"[\x00\t\n\v\f\r ]+", data) if t]
    return Counter(tokens), len(tokens), data.count(b"\n")


LONG_RUN = st.builds(
    lambda unit, n: unit * n,
    st.sampled_from([b"a", "é".encode(), "日".encode(), "😀".encode(), b"\x80", b"\xff"]),
    st.integers(240, 1100),
)
SEGMENT = st.one_of(
    st.sampled_from([b"a", b"bb", b"the", "naïve".encode(), b"caf\xe9"]),
    st.sampled_from([b" ", b"\n", b"\t", b"\r\n", b"\x00", b"\v\f", b"  \n "]),
    st.binary(min_size=1, max_size=12),
    LONG_RUN,
)


@fuzz("tokenizer")
@given(parts=st.lists(SEGMENT, max_size=30))
def test_count_file_matches_reference(scratch, parts):
    """count_file on arbitrary bytes (NUL, CR, invalid UTF-8, words around
    the 1000-byte limit, multi-byte characters cut at the limit) counts
    exactly what a Python reference tokenizer counts."""
    data = b"".join(parts)
    scratch.write_bytes(data)
    table, tokens, lines, _ = _tokenize.count_file(scratch)
    got = Counter(dict(zip(table.words(), table.counts().tolist())))
    assert (got, tokens, lines) == ref_count(data)


@fuzz("word2vec_corpus_file")
@given(parts=st.lists(SEGMENT, max_size=25), sg=st.integers(0, 1), hs=st.integers(0, 1), shared=st.booleans())
def test_word2vec_trains_on_any_bytes(scratch, parts, sg, hs, shared):
    """Any file trains (two workers) or is refused: empty, or a one-word
    vocabulary with hierarchical softmax (no tree to build)."""
    data = b"".join(parts)
    scratch.write_bytes(data)
    try:
        m = Word2Vec(
            corpus_file=scratch,
            vector_size=4,
            window=2,
            min_count=1,
            workers=2,
            epochs=2,
            sg=sg,
            hs=hs,
            negative=2,
            shared_negatives=shared,
            seed=1,
        )
    except ValueError as err:
        words = ref_count(data)[0]
        if "empty" in str(err):
            assert not words
        else:
            assert hs and len(words) == 1 and "at least 2 words" in str(err), str(err)
        return
    assert np.isfinite(m.wv.vectors).all()
    assert {w.encode("utf-8", "surrogateescape") for w in m.wv.index_to_key} == set(ref_count(data)[0])
