"""Robustness: bad input gets a clear error and loses nothing.

What is tried and what happens is summarised in docs/robustness.md. Sections:

1. vector files (KeyedVectors.load_word2vec_format, binary and text): every
   truncation, header garbage, wrong counts, bad numbers, NaN/inf, invalid
   UTF-8, empty/directory/missing, huge declared sizes;
   sgns.persist model files: every truncation, byte flips (CRC32);
   word2vec.c vocabulary files.
2. corpora (Word2Vec(corpus_file=...), sgns._tokenize.count_file): NUL, CRLF,
   invalid UTF-8 round trips, long lines (peak RSS), long words, empty and
   missing files, files changing while they are read.
3. faults: SIGKILL during a save, a full disk (RLIMIT_FSIZE), Ctrl-C.
4. concurrency (most_similar from 8 threads is in test_keyedvectors.py).

Every bug these tests found in the library is fixed; each test fails if
its bug comes back.

The fuzz tests (hypothesis) are in test_fuzz.py. scripts/memcheck.sh runs
these tests against a bounds-checked, AddressSanitizer build.
"""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time
import warnings
from collections import Counter

import numpy as np
import pytest
from conftest import child_env, repack_sgns_header, run_child

from sgns import FormatError, KeyedVectors, Word2Vec, _tokenize, formats
from sgns.persist import load_keyedvectors, load_model, save_keyedvectors, save_model

# Under AddressSanitizer (scripts/memcheck.sh) the address space and RSS are
# the sanitizer's: the tests that limit or measure them skip themselves.
UNDER_ASAN = "asan" in os.environ.get("LD_PRELOAD", "")
# scripts/memcheck.sh runs the suite on -O0 bounds-checked (and ASan) builds:
# time limits stretch by this factor there.
SLOWDOWN = 10.0 if os.environ.get("SGNS_MEMCHECK") else 1.0
LINUX = sys.platform.startswith("linux")

WORDS = ["the", "naïve", "日本語", "x"]


def small_kv(d: int = 3, seed: int = 0) -> KeyedVectors:
    rng = np.random.default_rng(seed)
    return KeyedVectors.from_arrays(
        list(WORDS), rng.standard_normal((len(WORDS), d)).astype(np.float32), counts=[40, 30, 20, 10]
    )


def load_vec(path, binary, **kw):
    return KeyedVectors.load_word2vec_format(path, binary=binary, **kw)


def expect_format_error(path, fn, *args, match=None, position=True, **kw) -> FormatError:
    """fn(*args, **kw) raises FormatError naming `path` (and a position)."""
    with pytest.raises(FormatError, match=match) as info:
        fn(*args, **kw)
    err = info.value
    assert err.path == os.fsdecode(os.fspath(path))
    assert err.path in str(err)
    if position:
        assert err.position is not None, f"no position in: {err}"
    return err


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def binary_rows(words, vectors, newline=True) -> bytes:
    return b"".join(
        w + b" " + np.asarray(v, "<f4").tobytes() + (b"\n" if newline else b"")
        for w, v in zip(words, vectors)
    )


# =============================================================================================
# 1. vector files
# =============================================================================================


def test_binary_truncated_at_every_offset(tmp_path):
    """Cut a binary file after every byte: only the whole file and the file
    without its optional final newline load; every other cut is a
    FormatError naming the file and a byte offset inside what is left."""
    kv = small_kv()
    full = tmp_path / "full.bin"
    kv.save_word2vec_format(full, binary=True)
    data = full.read_bytes()
    path = tmp_path / "cut.bin"
    messages = Counter()
    for cut in range(len(data) + 1):
        path.write_bytes(data[:cut])
        if cut >= len(data) - 1:
            back = load_vec(path, True)
            assert back.index_to_key == kv.index_to_key
            assert np.array_equal(back.vectors, kv.vectors)
            continue
        err = expect_format_error(path, load_vec, path, True)
        assert 0 <= err.position <= cut, (cut, str(err))
        messages[re.sub(r"\d+|\(.*\)", "#", str(err).split(": ", 1)[1])] += 1
    assert sum(messages.values()) == len(data) - 1
    assert len(messages) >= 5  # header, "file ends", "no space", "truncated" ...


def test_text_truncated_at_every_offset(tmp_path):
    """Cut a text file after every byte: a FormatError naming the file and a
    line, except for cuts inside the very last number (which warn: see below)."""
    kv = small_kv()
    full = tmp_path / "full.txt"
    kv.save_word2vec_format(full)
    data = full.read_bytes()
    last_number = data.rstrip().rindex(b" ") + 1  # start of the last value of the last row
    path = tmp_path / "cut.txt"
    loaded = []
    for cut in range(len(data) + 1):
        path.write_bytes(data[:cut])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", formats.TruncationWarning)
                back = load_vec(path, False)
        except FormatError as err:
            assert err.path == str(path) and str(path) in str(err)
            assert err.position is not None
            continue
        loaded.append(cut)
        assert back.index_to_key == kv.index_to_key
        np.testing.assert_allclose(back.vectors[:-1], kv.vectors[:-1], atol=1e-6)
    assert set(loaded) <= set(range(last_number + 1, len(data) + 1))
    assert {len(data) - 2, len(data) - 1, len(data)} <= set(loaded)


def test_text_cut_inside_last_number_warns(tmp_path):
    """A cut inside the last number still parses (0.123456 -> 0.123): the
    only sign is the missing final newline, which every writer adds, so the
    loader warns (an error would refuse hand-made files without it)."""
    kv = small_kv()
    full = tmp_path / "full.txt"
    kv.save_word2vec_format(full)
    data = full.read_bytes()
    path = tmp_path / "cut.txt"
    path.write_bytes(data[:-5])  # "... -0.123456 \n" -> "... -0.123"
    with pytest.warns(formats.TruncationWarning, match=r"cut\.txt at line 5: the last row has no newline"):
        back = load_vec(path, False)
    assert back.index_to_key == kv.index_to_key


def test_complete_text_file_does_not_warn(tmp_path):
    import warnings

    kv = small_kv()
    path = tmp_path / "full.txt"
    kv.save_word2vec_format(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_vec(path, False)
        load_vec(path, False, limit=2)


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
@pytest.mark.parametrize(
    "header",
    [
        b"abc def\n",
        b"4\n",
        b"4 3 1\n",
        b"-4 3\n",
        b"4 -3\n",
        b"4 0\n",
        b"4 3.0\n",
        b"0x4 3\n",
        b"4e0 3\n",
        b"\xef\xbb\xbf4 3\n",  # UTF-8 byte-order mark
        "٤ ٣\n".encode(),  # Arabic-Indic digits (str.isdigit() is true for them)
        b"\n",
        b"   \n",
        b"4 3",  # no newline at all
        b"4" * 2000 + b" 3\n",  # longer than the header limit
        b"\x00\x00\x00\x00\n",
        b"\x89SGNS\r\n\x1a\x01\x00\x00\x00",  # an sgns model file
    ],
    ids=lambda h: repr(h[:12]),
)
def test_bad_header(tmp_path, header, binary):
    path = tmp_path / "v"
    path.write_bytes(header + b"a 1 2 3\nb 1 2 3\nc 1 2 3\nd 1 2 3\n" if header.endswith(b"\n") else header)
    err = expect_format_error(path, load_vec, path, binary)
    assert err.position == 0


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_fewer_rows_than_declared(tmp_path, binary):
    kv = small_kv()
    full = tmp_path / "full"
    kv.save_word2vec_format(full, binary=binary)
    data = full.read_bytes()
    path = tmp_path / "short"
    path.write_bytes(b"9" + data[1:])  # "4 3" -> "9 3"
    err = expect_format_error(path, load_vec, path, binary)
    assert "9" in str(err)  # "file ends after 4 of 9 vectors" or the size check's "declares 9 vectors"


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_more_rows_than_declared(tmp_path, binary):
    kv = small_kv()
    full = tmp_path / "full"
    kv.save_word2vec_format(full, binary=binary)
    data = full.read_bytes()
    path = tmp_path / "long"
    path.write_bytes(b"2" + data[1:])  # "4 3" -> "2 3": two rows too many
    expect_format_error(path, load_vec, path, binary, match="2")


def test_more_text_rows_after_a_blank_line(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(b"2 2\na 1 2\nb 3 4\n\nc 5 6\n")
    expect_format_error(path, load_vec, path, False)


def test_trailing_blank_lines_are_fine(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(b"2 2\na 1 2\nb 3 4\n\n  \r\n")
    assert load_vec(path, False).index_to_key == ["a", "b"]


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_more_rows_than_declared_with_limit_is_fine(tmp_path, binary):
    """limit= reads a prefix on purpose: the rest is not an error."""
    kv = small_kv()
    path = tmp_path / "v"
    kv.save_word2vec_format(path, binary=binary)
    back = load_vec(path, binary, limit=2)
    assert back.index_to_key == kv.index_to_key[:2]


def test_text_wrong_dimension(tmp_path):
    path = tmp_path / "v.txt"
    for header in (b"2 2\n", b"2 4\n"):
        path.write_bytes(header + b"a 1 2 3\nb 4 5 6\n")
        err = expect_format_error(path, load_vec, path, False, match="fields")
        assert err.position == 2


def test_binary_declared_dimension_too_large(tmp_path):
    path = tmp_path / "v.bin"
    path.write_bytes(b"3 4\n" + binary_rows([b"a", b"b", b"c"], np.ones((3, 3))))
    expect_format_error(path, load_vec, path, True)


def test_binary_declared_dimension_too_small(tmp_path):
    path = tmp_path / "v.bin"
    path.write_bytes(b"3 2\n" + binary_rows([b"a", b"b", b"c"], [[0.0, 1.0, 2.0]] * 3))
    expect_format_error(path, load_vec, path, True)


@pytest.mark.parametrize(
    "value", [b"abc", b"1.0.0", b"0x10", b"--1", b"1e", b"1,5", b"\xd9\xa3", b"\xff", b"1.0\x00"]
)
def test_non_numeric_text_values(tmp_path, value):
    path = tmp_path / "v.txt"
    path.write_bytes(b"2 2\na 0.5 0.25\nb 1.0 " + value + b"\n")
    err = expect_format_error(path, load_vec, path, False, match="non-numeric")
    assert err.position == 3


@pytest.mark.parametrize(
    "row", [b"b nan 1\n", b"b 1 NaN\n", b"b inf 1\n", b"b -Infinity 1\n", b"b 1e39 1\n", b"b 1 -1e39\n"]
)
def test_nan_inf_and_float32_overflow_in_text(tmp_path, row):
    path = tmp_path / "v.txt"
    path.write_bytes(b"2 2\na 0.5 0.25\n" + row)
    with np.errstate(over="ignore"):  # 1e39 -> float32 inf: numpy warns about the cast
        expect_format_error(path, load_vec, path, False, match="NaN or infinity", position=False)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_nan_inf_in_binary(tmp_path, value):
    path = tmp_path / "v.bin"
    path.write_bytes(b"2 2\n" + binary_rows([b"a", b"b"], [[1, 2], [3, value]]))
    expect_format_error(path, load_vec, path, True, match="NaN or infinity", position=False)


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_nan_error_names_the_position(tmp_path, binary):
    path = tmp_path / "v"
    if binary:
        path.write_bytes(b"2 2\n" + binary_rows([b"a", b"b"], [[1, 2], [3, float("nan")]]))
    else:
        path.write_bytes(b"2 2\na 1 2\nb 3 nan\n")
    err = expect_format_error(path, load_vec, path, binary, match="NaN")
    if binary:
        assert 15 <= err.position < 26  # the row of "b": bytes 15..25
    else:
        assert err.position == 3


INVALID_UTF8 = {
    "latin1": b"caf\xe9",
    "ff": b"\xff",
    "overlong": b"\xc0\xaf",
    "surrogate": b"\xed\xa0\x80",
    "cut-multibyte": "日本".encode()[:-1],
    "lone-continuation": b"\x80abc",
}


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
@pytest.mark.parametrize("kind", list(INVALID_UTF8))
def test_invalid_utf8_word(tmp_path, kind, binary):
    raw = INVALID_UTF8[kind]
    path = tmp_path / "v"
    if binary:
        path.write_bytes(b"2 2\n" + binary_rows([b"good", raw], [[1, 2], [3, 4]]))
    else:
        path.write_bytes(b"2 2\ngood 1 2\n" + raw + b" 3 4\n")
    err = expect_format_error(path, load_vec, path, binary, match="unicode_errors")
    assert err.position == (18 if binary else 3)
    kv = load_vec(path, binary, unicode_errors="replace")
    assert kv.index_to_key[0] == "good" and "\ufffd" in kv.index_to_key[1]
    assert kv.vectors[1].tolist() == [3.0, 4.0]
    kv = load_vec(path, binary, unicode_errors="ignore")
    assert kv.index_to_key[1] == raw.decode("utf-8", "ignore")  # may be "" (an empty key)
    kv = load_vec(path, binary, unicode_errors="surrogateescape")
    assert kv.index_to_key[1].encode("utf-8", "surrogateescape") == raw


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_empty_directory_missing(tmp_path, binary):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    err = expect_format_error(empty, load_vec, empty, binary, match="empty file")
    assert err.position == 0
    with pytest.raises(IsADirectoryError, match=re.escape(str(tmp_path))):
        load_vec(tmp_path, binary)
    with pytest.raises(FileNotFoundError) as e:
        load_vec(tmp_path / "missing", binary)
    assert e.value.filename == str(tmp_path / "missing")


HUGE_HEADERS = [
    b"999999999999 100\n",
    b"100000000 100\n",
    b"10000000 100\n",
    b"1 999999999999\n",
    b"2 100000000000\n",
]

_HUGE_CHILD = r"""
import json, os, resource, sys
import sgns
sgns.KeyedVectors  # loaded before the baseline below (sgns imports its modules on first use)
# Allow 512 MiB of address space beyond what the interpreter already maps.
vm = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmSize:")][0] * 1024
resource.setrlimit(resource.RLIMIT_AS, (vm + (512 << 20), resource.RLIM_INFINITY))
def peak_kb():  # VmHWM: ru_maxrss is inherited from the parent over fork/exec
    return [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
rss0 = peak_kb()
out = []
for i, header in enumerate(json.loads(sys.argv[1])):
    for binary in (False, True):
        path = f"huge{i}"
        with open(path, "wb") as f:
            f.write(header.encode() + b"a 1 2\n")
        try:
            sgns.KeyedVectors.load_word2vec_format(path, binary=binary)
            out.append(["loaded", header, binary, ""])
        except BaseException as e:
            out.append([type(e).__name__, header, binary, str(e)])
growth = peak_kb() - rss0
print(json.dumps({"results": out, "rss_growth_kb": growth}))
"""


def _huge_results(tmp_path):
    r = run_child(_HUGE_CHILD, json.dumps([h.decode() for h in HUGE_HEADERS]), cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    return last_json(r.stdout)


@pytest.mark.skipif(not LINUX or UNDER_ASAN, reason="needs /proc and RLIMIT_AS (not under ASan)")
def test_huge_declared_sizes_do_not_crash_or_commit_memory(tmp_path):
    """'999999999999 100' etc.: in a process limited to 512 MiB more address
    space, every load fails with an exception (no crash), and no memory is
    committed (peak RSS grows by less than 16 MiB)."""
    res = _huge_results(tmp_path)
    for kind, header, binary, message in res["results"]:
        assert kind in ("FormatError", "MemoryError"), (kind, header, binary, message)
    assert res["rss_growth_kb"] < 16 * 1024


@pytest.mark.skipif(not LINUX or UNDER_ASAN, reason="needs /proc and RLIMIT_AS (not under ASan)")
def test_huge_declared_sizes_are_format_errors(tmp_path):
    res = _huge_results(tmp_path)
    for i, (kind, header, binary, message) in enumerate(res["results"]):
        assert kind == "FormatError", (kind, header, binary, message)
        assert f"huge{i // 2}" in message


# ---- word2vec.c vocabulary files ------------------------------------------------------------


def test_vocab_file_truncated_at_every_offset(tmp_path):
    """A cut vocabulary file is a FormatError ('<word>' without a count) or
    reads a prefix whose last count may itself be cut (undetectable:
    a truncated count is still a number)."""
    words, counts = ["the", "naïve", "日本語", "x"], [1234, 567, 89, 1]
    full = tmp_path / "vocab.txt"
    formats.write_vocab(full, words, counts, sentences=42)
    data = full.read_bytes()
    path = tmp_path / "cut.txt"
    for cut in range(len(data) + 1):
        path.write_bytes(data[:cut])
        try:
            w, c, s = formats.read_vocab(path)
        except FormatError as err:
            assert err.path == str(path) and err.position is not None
            continue
        assert w == words[: len(w)] and len(c) == len(w)
        if c:
            assert c[:-1] == counts[: len(c) - 1]
            assert str(counts[len(c) - 1]).startswith(str(c[-1]))


@pytest.mark.parametrize(
    "line", [b"a\n", b"a b\n", b"a 1 2\n", b"a -1\n", b"a 1.5\n", b"a 0x10\n", b"a \xd9\xa3\n"]
)
def test_vocab_bad_lines(tmp_path, line):
    path = tmp_path / "vocab.txt"
    path.write_bytes(b"</s> 0\nok 5\n" + line)
    err = expect_format_error(path, formats.read_vocab, path, match="word> <count")
    assert err.position == 3


def test_vocab_odd_but_valid(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_bytes(b"")
    assert formats.read_vocab(path) == ([], [], 0)
    path.write_bytes(b"caf\xe9 3\r\n\n  x\t2  \nnul\x00in 1")
    words, counts, _ = formats.read_vocab(path)
    assert [w.encode("utf-8", "surrogateescape") for w in words] == [b"caf\xe9", b"x", b"nul\x00in"]
    assert counts == [3, 2, 1]
    with pytest.raises(IsADirectoryError):
        formats.read_vocab(tmp_path)
    with pytest.raises(FileNotFoundError):
        formats.read_vocab(tmp_path / "missing")


def test_vocab_count_overflow(tmp_path):
    kv = small_kv()
    vec, voc = tmp_path / "v.bin", tmp_path / "vocab.txt"
    kv.save_word2vec_format(vec, binary=True)
    voc.write_bytes(b"</s> 1\nthe 99999999999999999999999\nx 2\n")
    expect_format_error(voc, load_vec, vec, True, fvocab=voc)


def test_vocab_duplicate_word(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_bytes(b"</s> 1\nthe 5\nx 2\nthe 7\n")
    err = expect_format_error(path, formats.read_vocab, path)
    assert err.position == 4


# ---- sgns.persist model files ---------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_model():
    sentences = [["a", "b", "c", "d"], ["b", "c", "e"], ["naïve", "日本", "a"]] * 20
    return Word2Vec(sentences, vector_size=4, min_count=1, workers=1, epochs=1, hs=1, seed=1, sample=0)


def _layout(data: bytes):
    hlen = struct.unpack_from("<Q", data, 16)[0]
    header = json.loads(data[24 : 24 + hlen])
    start = -(-(24 + hlen) // 64) * 64
    return hlen, header, start


def _same_model(a, b) -> bool:
    from sgns.persist import _params

    return (
        a.wv.index_to_key == b.wv.index_to_key
        and _params(a) == _params(b)
        and all(np.array_equal(getattr(a, n), getattr(b, n)) for n in ("syn1neg", "syn1"))
        and np.array_equal(a.wv.vectors, b.wv.vectors)
        and (a.vocab is None) == (b.vocab is None)
        and (a.vocab is None or a.vocab.counts.tolist() == b.vocab.counts.tolist())
        and a.words_done == b.words_done
    )


@pytest.mark.parametrize("kind", ["model", "keyedvectors"])
def test_persist_truncated_at_every_offset(tmp_path, tiny_model, kind):
    path = tmp_path / "m"
    (save_model(tiny_model, path) if kind == "model" else save_keyedvectors(tiny_model.wv, path))
    data = path.read_bytes()
    cut_path = tmp_path / "cut"
    load = load_model if kind == "model" else load_keyedvectors
    for cut in range(len(data)):
        cut_path.write_bytes(data[:cut])
        for mmap in (None, "r") if cut % 5 == 0 else (None,):
            expect_format_error(cut_path, load, cut_path, mmap=mmap, position=False)


def test_persist_every_array_byte_flip_is_caught_by_crc(tmp_path, tiny_model):
    """Invert each byte of the data region in turn: a byte inside an array
    is a FormatError ('... is corrupt (CRC32 mismatch)'); a byte of the zero
    padding between arrays is never read, and the model loads unchanged."""
    path = tmp_path / "m"
    save_model(tiny_model, path)
    data = path.read_bytes()
    _, header, start = _layout(data)
    extents = [
        (start + s["offset"], start + s["offset"] + s["nbytes"], name) for name, s in header["arrays"].items()
    ]
    flipped = tmp_path / "flipped"
    caught = padding = 0
    for i in range(start, len(data)):
        corrupt = bytearray(data)
        corrupt[i] ^= 0xFF
        flipped.write_bytes(corrupt)
        inside = [name for a, b, name in extents if a <= i < b]
        if inside:
            expect_format_error(flipped, load_model, flipped, match=f"'{inside[0]}' is corrupt")
            caught += 1
        else:
            assert _same_model(load_model(flipped), tiny_model)
            padding += 1
    assert caught == sum(s["nbytes"] for s in header["arrays"].values())
    assert caught and padding


def test_persist_memory_map_skips_crc_as_documented(tmp_path, tiny_model):
    """mmap='r' maps the vectors without reading them, so their CRC is not
    checked (sgns.persist's documented trade-off); reading them in is."""
    path = tmp_path / "m"
    save_keyedvectors(tiny_model.wv, path)
    data = bytearray(path.read_bytes())
    _, header, start = _layout(bytes(data))
    data[start + header["arrays"]["vectors"]["offset"] + 1] ^= 0x40
    path.write_bytes(bytes(data))
    mapped = load_keyedvectors(path, mmap="r")
    assert not np.array_equal(mapped.vectors, tiny_model.wv.vectors)
    expect_format_error(path, load_keyedvectors, path, match="CRC32")


@pytest.fixture(scope="module")
def header_flips(tmp_path_factory, tiny_model):
    return _header_flip_outcomes(tmp_path_factory.mktemp("flips"), tiny_model)


def _header_flip_outcomes(tmp_path, model):
    import logging

    path = tmp_path / "m"
    save_model(model, path)
    data = path.read_bytes()
    hlen, _, _ = _layout(data)
    flipped = tmp_path / "flipped"
    outcomes = Counter()
    different = []
    logging.disable(logging.WARNING)  # "ignoring parameters this sgns does not know"
    try:
        for i in range(24 + hlen):
            for bit in (0x01, 0x20):
                corrupt = bytearray(data)
                corrupt[i] ^= bit
                flipped.write_bytes(corrupt)
                try:
                    back = load_model(flipped)
                except FormatError as err:
                    assert err.path == str(flipped)
                    outcomes["FormatError"] += 1
                    continue
                if _same_model(back, model):
                    outcomes["same"] += 1
                else:
                    outcomes["different"] += 1
                    different.append((i, bit, bytes(data[max(24, i - 12) : i + 12])))
    finally:
        logging.disable(logging.NOTSET)
    return outcomes, different


def test_persist_header_bit_flips_never_crash(header_flips):
    """Flip two bits (0x01, 0x20) of every byte of the preamble and JSON
    header: the only outcomes are FormatError or a load (any other exception
    fails)."""
    outcomes, _ = header_flips
    print(f"\nheader bit flips: {dict(outcomes)}")
    assert set(outcomes) <= {"FormatError", "same", "different"}
    assert outcomes["FormatError"] > 0.5 * sum(outcomes.values())


def test_persist_header_bit_flips_are_detected_or_harmless(header_flips):
    """The header's CRC32 (preamble offset 12) catches every flip that would
    change the model; flips of fields that are never read may load."""
    outcomes, different = header_flips
    assert not different, (outcomes, different[:10])


def test_persist_header_crc_mismatch_and_legacy_zero(tmp_path, tiny_model):
    """A header changed by one byte (valid JSON, plausible value) is refused
    with its CRC; a file whose CRC field is 0 (written before the CRC
    existed) is read without the check."""
    path = tmp_path / "m"
    save_model(tiny_model, path)
    data = bytearray(path.read_bytes())
    hlen, header, _ = _layout(bytes(data))
    text = data[24 : 24 + hlen]
    where = text.index(b'"window":') + len(b'"window":')
    tampered = bytearray(data)
    tampered[24 + where] = ord("9") if text[where : where + 1] != b"9" else ord("8")
    path.write_bytes(tampered)
    err = expect_format_error(path, load_model, path, match="CRC32")
    assert err.position == 24
    legacy = bytearray(data)
    legacy[12:16] = b"\0\0\0\0"
    path.write_bytes(legacy)
    assert load_model(path).window == tiny_model.window


@pytest.mark.parametrize(
    "mutate",
    [
        lambda h: h.update(vocab=[1, 2]),
        lambda h: h.update(vocab=3.5),
        lambda h: h.update(state=[1, 2]),
        lambda h: h["state"].update(epoch_reports=[[1, 2]]),
    ],
    ids=["vocab-list", "vocab-number", "state-list", "epoch-report-list"],
)
def test_persist_header_with_wrong_json_types(tmp_path, tiny_model, mutate):
    path = tmp_path / "m"
    save_model(tiny_model, path)
    data = path.read_bytes()
    _, header, _ = _layout(data)
    mutate(header)
    path.write_bytes(repack_sgns_header(data, header))
    expect_format_error(path, load_model, path, position=False)


# =============================================================================================
# 2. corpora
# =============================================================================================

SEPARATORS = b"\x00\t\n\v\f\r "


def ref_cut(word: bytes) -> bytes:
    """reader.c's rule for words over 1000 bytes: keep 1000 bytes, backed
    off (at most 3) so as not to end inside a UTF-8 sequence."""
    if len(word) <= 1000:
        return word
    k = 1000
    while k > 997 and word[k] & 0xC0 == 0x80:
        k -= 1
    return word[:1000] if word[k] & 0xC0 == 0x80 else word[:k]


def ref_count(data: bytes) -> tuple[Counter, int, int]:
    tokens = [ref_cut(t) for t in re.split(rb"[\x00\t\n\v\f\r ]+", data) if t]
    return Counter(tokens), len(tokens), data.count(b"\n")


def c_count(path) -> tuple[Counter, int, int]:
    table, tokens, lines, _ = _tokenize.count_file(path)
    return Counter(dict(zip(table.words(), table.counts().tolist()))), tokens, lines


AWKWARD = {
    "nul": b"a\x00b\x00\x00c\n\x00",
    "crlf": b"alpha beta\r\ngamma\r\n\r\n",
    "tabs-vt-ff": b"a\tb\vc\fd \t \n",
    "invalid-utf8": b"caf\xe9 \xff\xfe \xc0\xaf \xed\xa0\x80 ok\n\x80\n",
    "no-final-newline": b"one two\nthree",
    "only-separators": b" \t\r\n\x00\v\f\n",
    "high-bytes-not-separators": "a\u00a0b\u2003c\u3000d".encode(),  # Unicode spaces are word bytes
    # bytes below 0x21 that are not separators, inside words longer than the 8-byte scan step
    "control-chars-in-words": b"abcdefgh\x01ijklmnop\x1fq rstuvwxyz\x0e0123456789 \x7f\x80\x1b[0m\x08\n",
    "long-words": b"x" * 1500 + b" " + "é".encode() * 700 + b" a" + "日".encode() * 400 + b"\n",
}


@pytest.mark.parametrize("name", list(AWKWARD))
def test_count_file_awkward_bytes(tmp_path, name):
    path = tmp_path / "c.txt"
    path.write_bytes(AWKWARD[name])
    assert c_count(path) == ref_count(AWKWARD[name])


def test_word_longer_than_the_read_buffer(tmp_path):
    """3 MiB words (the read buffer is 1 MiB): kept as their first 1000
    bytes, cut at a UTF-8 boundary; bytes that are not UTF-8 are cut at 1000."""
    data = (
        b"start "
        + "é".encode() * (3 << 19)
        + b" mid "
        + b"\x80" * (3 << 20)
        + b" "
        + "😀".encode() * (1 << 19)
        + b" end\n"
    )
    path = tmp_path / "c.txt"
    path.write_bytes(data)
    counts, tokens, lines = c_count(path)
    assert counts == Counter(
        {b"start": 1, "é".encode() * 500: 1, b"mid": 1, b"\x80" * 1000: 1, "😀".encode() * 250: 1, b"end": 1}
    )
    assert (tokens, lines) == (6, 1)


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_invalid_utf8_corpus_round_trips_bytes(tmp_path, binary):
    """Corpus words that are not UTF-8 become str keys with surrogate
    escapes; save_word2vec_format writes the original bytes; the vectors load
    back (surrogateescape) to the same keys; a strict load is a FormatError
    naming the file; the model file keeps them too."""
    odd = [b"caf\xe9", b"\xff\xfe", b"\xc0\xaf", "naïve".encode(), b"\xed\xa0\x80"]
    corpus = tmp_path / "c.txt"
    corpus.write_bytes(b"".join(b" ".join(odd[i:] + odd[:i]) + b"\n" for i in range(5)) * 20)
    m = Word2Vec(corpus_file=corpus, vector_size=8, min_count=1, workers=2, epochs=1, seed=3)
    keys = {k.encode("utf-8", "surrogateescape") for k in m.wv.index_to_key}
    assert keys == set(odd)
    assert "caf\udce9" in m.wv and "naïve" in m.wv
    vec = tmp_path / "v"
    m.wv.save_word2vec_format(vec, binary=binary)
    raw = vec.read_bytes()
    for word in odd:
        assert (b"\n" + word + b" ") in raw
    back = load_vec(vec, binary, unicode_errors="surrogateescape")
    assert back.index_to_key == m.wv.index_to_key
    assert np.allclose(back.vectors, m.wv.vectors, atol=1e-6)
    expect_format_error(vec, load_vec, vec, binary, match="not valid utf-8")
    m.save(tmp_path / "m.sgns")
    assert Word2Vec.load(tmp_path / "m.sgns").wv.index_to_key == m.wv.index_to_key


@pytest.mark.parametrize("content", [b"", b"\n", b"\n\n\n", b" \t\r\n\v\f", b"\x00" * 1000, b"\r\n" * 50])
def test_empty_or_whitespace_only_corpus(tmp_path, content):
    path = tmp_path / "c.txt"
    path.write_bytes(content)
    assert c_count(path)[1] == 0
    with pytest.raises(ValueError, match="empty") as e:
        Word2Vec(corpus_file=path, min_count=1, workers=2)
    assert path.name in str(e.value)


def test_missing_and_directory_corpus(tmp_path):
    missing = tmp_path / "missing.txt"
    with pytest.raises(FileNotFoundError, match=re.escape(missing.name)):
        Word2Vec(corpus_file=missing, min_count=1)
    with pytest.raises(FileNotFoundError) as e:
        _tokenize.count_file(missing)
    assert e.value.errno == errno.ENOENT and e.value.filename == str(missing)
    with pytest.raises(IsADirectoryError, match=re.escape(tmp_path.name)):
        Word2Vec(corpus_file=tmp_path, min_count=1)
    with pytest.raises(IsADirectoryError):
        _tokenize.count_file(tmp_path)


_RSS_CHILD = r"""
import json, resource, sys, time
import sgns
from sgns import _tokenize
sgns.Word2Vec  # loaded before the baseline (sgns imports its modules on first use)
path = sys.argv[1]
def peak():
    # Peak RSS of this process in MiB. VmHWM, not getrusage's ru_maxrss:
    # Linux carries ru_maxrss over fork and exec, so a child of a big pytest
    # process starts with the parent's peak.
    try:
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
base = peak()
t0 = time.perf_counter()
table, tokens, lines, _ = _tokenize.count_file(path)
after_count = peak()
m = sgns.Word2Vec(vector_size=8, window=2, negative=1, min_count=1, workers=2, epochs=1, sample=1e-4,
                  corpus_cache_mb=0)
m.build_vocab(corpus_file=path)
m.train(corpus_file=path)
print(json.dumps({"tokens": tokens, "lines": lines, "words_done": m.words_done, "base_mb": base,
                  "count_growth_mb": after_count - base, "growth_mb": peak() - base,
                  "seconds": time.perf_counter() - t0}))
"""


def _long_line_rss(tmp_path, path):
    r = run_child(_RSS_CHILD, path, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    res = last_json(r.stdout)
    print(
        f"\n{os.path.getsize(path) / 2**20:.0f} MiB single line: peak RSS growth {res['growth_mb']:.1f} MiB "
        f"(counting alone {res['count_growth_mb']:.1f} MiB), {res['tokens']} tokens, "
        f"{res['seconds']:.1f}s"
    )
    return res


@pytest.mark.skipif(not LINUX or UNDER_ASAN, reason="Linux peak RSS (VmHWM), sparse files; not under ASan")
def test_200mb_sparse_single_line_bounded_memory(tmp_path):
    """A 200 MiB file of NUL bytes (separators: one 'line', no newline) with
    a word at every MiB, written sparse: counted and trained in bounded memory."""
    path = tmp_path / "sparse.txt"
    with open(path, "wb") as f:
        for k in range(200):
            f.seek(k << 20)
            f.write(b"w%d" % (k % 7))
        f.truncate(200 << 20)
    res = _long_line_rss(tmp_path, path)
    assert (res["tokens"], res["lines"], res["words_done"]) == (200, 0, 200)
    assert res["growth_mb"] < 32


@pytest.mark.slow
@pytest.mark.skipif(not LINUX or UNDER_ASAN, reason="Linux peak RSS (VmHWM); not under ASan")
@pytest.mark.parametrize("mib", [64, 1024], ids=["64MiB", "1GiB"])
def test_dense_single_line_bounded_memory(tmp_path, mib):
    """64 MiB and 1 GiB of words without a newline (13.8M / 221M tokens):
    counting and streaming training (corpus_cache_mb=0) keep peak RSS growth
    far below the file size (the reader holds one 1 MiB buffer per thread)."""
    rng = np.random.default_rng(0)
    vocab = np.array([f"w{i}" for i in range(1000)])
    block = (" ".join(vocab[rng.integers(0, 1000, 200_000)]) + " ").encode()
    path = tmp_path / "dense.txt"
    with open(path, "wb") as f:
        for _ in range((mib << 20) // len(block) + 1):
            f.write(block)
    try:
        res = _long_line_rss(tmp_path, path)
    finally:
        path.unlink()
    assert res["lines"] == 0 and res["tokens"] == res["words_done"] > 13_000_000 * mib // 64
    assert res["growth_mb"] < 32


def _corpus_bytes(n_lines=5_000, seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    words = np.array([f"w{i}" for i in range(300)])
    return ("\n".join(" ".join(words[rng.integers(0, 300, 12)]) for _ in range(n_lines)) + "\n").encode()


@pytest.mark.parametrize("change", ["shrink", "empty", "append", "replace"])
@pytest.mark.parametrize("cache", [0, 2048])
def test_corpus_changed_between_epochs(tmp_path, change, cache):
    """The corpus file changes after epoch 1. Streaming (corpus_cache_mb=0):
    each epoch re-reads the file as it is then (fewer or more words; words
    not in the vocabulary are skipped), with no error or warning. Cached:
    later epochs train on ids read in epoch 1, but the byte ranges are
    recomputed from the file's new size, so a file shrunk below 8 KiB trains
    only the first worker's cached ids (docs/robustness.md)."""
    data = _corpus_bytes()
    path = tmp_path / "c.txt"
    path.write_bytes(data)
    m = Word2Vec(
        vector_size=8,
        window=2,
        negative=2,
        min_count=1,
        workers=2,
        epochs=3,
        sample=0,
        corpus_cache_mb=cache,
        seed=1,
    )
    m.build_vocab(corpus_file=path)

    class Change:
        def on_epoch_end(self, model):
            if len(model.epoch_reports) != 1:
                return
            if change == "shrink":
                os.truncate(path, len(data) // 2)
            elif change == "empty":
                os.truncate(path, 0)
            elif change == "append":
                with open(path, "ab") as f:
                    f.write(data)
            else:
                (tmp_path / "new").write_bytes(b"unknown words only\n" * 100)
                os.replace(tmp_path / "new", path)

    m.train(corpus_file=path, callbacks=[Change()])
    words = [r.words for r in m.epoch_reports]
    total = 12 * 5_000
    assert words[0] == total
    expected_later = (
        {
            "shrink": (0.45 * total, 0.55 * total),
            "empty": (0, 0),
            "append": (2 * total, 2 * total),
            "replace": (0, 0),
        }[change]
        if cache == 0
        else (0.4 * total, total)
    )
    for w in words[1:]:
        assert expected_later[0] <= w <= expected_later[1], (change, cache, words)
    assert np.isfinite(m.wv.vectors).all()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX semantics for files open elsewhere")
def test_corpus_rewritten_while_being_read(tmp_path):
    """A thread truncates, rewrites and appends to the corpus file every few
    milliseconds while count_file runs and while two workers train on it
    (streaming and cached): no crash, no exception, finite vectors."""
    data = _corpus_bytes()
    path = tmp_path / "c.txt"
    path.write_bytes(data)
    m = Word2Vec(vector_size=8, window=2, negative=2, min_count=1, workers=2, epochs=2, sample=0, seed=1)
    m.build_vocab(corpus_file=path)
    stop = threading.Event()
    changes = [0]

    def thrash():
        rng = np.random.default_rng(1)
        while not stop.is_set():
            op = int(rng.integers(3))
            if op == 0:
                os.truncate(path, int(rng.integers(0, len(data))))
            elif op == 1:
                path.write_bytes(data)
            else:
                with open(path, "ab") as f:
                    f.write(data[: int(rng.integers(1, 50_000))])
            changes[0] += 1
            time.sleep(0.002)

    t = threading.Thread(target=thrash)
    t.start()
    try:
        for _ in range(20):
            counts, tokens, lines = c_count(path)
            assert tokens >= 0 and lines >= 0
        for cache in (0, 2048):
            m.corpus_cache_mb = cache
            m.train(corpus_file=path)
            assert np.isfinite(m.wv.vectors).all()
        # On a loaded machine the rewriter may not have had many turns yet:
        # keep reading until the file has changed under us often enough.
        deadline = time.monotonic() + 60
        while changes[0] <= 10 and time.monotonic() < deadline:
            c_count(path)
            time.sleep(0.01)
    finally:
        stop.set()
        t.join()
    assert changes[0] > 10


def test_large_max_sentence_length_with_cached_corpus_file(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes(b"a b " * 1_200_000)  # 2.4M ids in one line
    r = run_child(
        """
        import sys, sgns
        m = sgns.Word2Vec(corpus_file=sys.argv[1], vector_size=4, window=1, negative=1, min_count=1,
                          workers=1, epochs=2, sample=0, max_sentence_length=5_000_000)
        print(m.words_done)
    """,
        path,
        cwd=tmp_path,
    )
    assert r.returncode == 0, f"child died with {r.returncode}: {r.stderr[-2000:]}"
    assert int(r.stdout.split()[-1]) == 2 * 2_400_000


# =============================================================================================
# 3. faults
# =============================================================================================

_SAVER = r"""
import sys, numpy as np, sgns
target, kind = sys.argv[1], sys.argv[2]
n, d = 5000, 50
kvs = [sgns.KeyedVectors.from_arrays([f"w{s}_{i}" for i in range(n)],
                                     np.random.default_rng(s).standard_normal((n, d)).astype(np.float32))
       for s in (1, 2)]
print("READY", flush=True)
i = 0
while True:
    kv = kvs[i % 2]
    if kind == "bin":
        kv.save_word2vec_format(target, binary=True)
    elif kind == "txt":
        kv.save_word2vec_format(target)
    else:
        kv.save(target)
    i += 1
"""


def _versions(kind, tmp_path) -> dict[bytes, str]:
    n, d = 5000, 50
    out = {}
    for s in (1, 2):
        kv = KeyedVectors.from_arrays(
            [f"w{s}_{i}" for i in range(n)],
            np.random.default_rng(s).standard_normal((n, d)).astype(np.float32),
        )
        p = tmp_path / f"ref{s}"
        if kind == "bin":
            kv.save_word2vec_format(p, binary=True)
        elif kind == "txt":
            kv.save_word2vec_format(p)
        else:
            kv.save(p)
        out[p.read_bytes()] = f"version {s}"
        p.unlink()
    return out


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["bin", "txt", "sgns"])
def test_sigkill_during_save_leaves_old_or_new_file(tmp_path, kind):
    """A process saving in a loop (two alternating versions, ~1-5 MB) is
    SIGKILLed at random moments: the target is always one complete version;
    the only other files are the killed writer's .sgns-*.tmp temporaries."""
    import random

    versions = _versions(kind, tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    target = work / f"target.{kind}"
    target.write_bytes(next(iter(versions)))  # an old file to protect from the start
    script = tmp_path / "saver.py"
    script.write_text(_SAVER)
    rng = random.Random(kind)
    seen = Counter()
    for _ in range(5):
        p = subprocess.Popen(
            [sys.executable, str(script), str(target), kind],
            stdout=subprocess.PIPE,
            text=True,
            env=child_env(),
            cwd=tmp_path,
        )
        assert p.stdout.readline().strip() == "READY"
        time.sleep(rng.uniform(0.02, 0.6))
        p.kill()
        p.wait()
        p.stdout.close()
        content = target.read_bytes()
        assert content in versions, f"target is neither version ({len(content)} bytes)"
        seen[versions[content]] += 1
    leftovers = sorted(set(os.listdir(work)) - {target.name})
    assert all(re.fullmatch(r"\.sgns-.*\.tmp", f) for f in leftovers), leftovers
    assert len(leftovers) <= 5
    print(f"\n{kind}: 5 kills, target was {dict(seen)}, {len(leftovers)} temporaries left by killed writers")


_FULL_DISK = r"""
import json, os, resource, signal, sys
import numpy as np
import sgns
from sgns import formats
d = sys.argv[1]
small = sgns.KeyedVectors.from_arrays(["a", "b"], np.ones((2, 4), np.float32))
big = sgns.KeyedVectors.from_arrays([f"w{i}" for i in range(20000)], np.ones((20000, 50), np.float32))
sentences = [["a", "b", "c"], ["b", "c", "d"]] * 50
model = sgns.Word2Vec(sentences, vector_size=4, min_count=1, workers=1, epochs=1)
big_model = sgns.Word2Vec(vector_size=50, min_count=1, workers=1)
big_model.build_vocab([[f"w{i}" for i in range(20000)]])
writers = {
    "vectors.bin": (lambda p: small.save_word2vec_format(p, binary=True),
                    lambda p: big.save_word2vec_format(p, binary=True)),
    "vectors.txt": (lambda p: small.save_word2vec_format(p), lambda p: big.save_word2vec_format(p)),
    "kv.sgns": (small.save, big.save),
    "model.sgns": (model.save, big_model.save),
    "vocab.txt": (lambda p: formats.write_vocab(p, ["a", "b"], [2, 1], 1),
                  lambda p: formats.write_vocab(p, big.index_to_key * 10, list(range(200000)), 1)),
}
old = {}
for name, (write_small, _) in writers.items():
    write_small(os.path.join(d, name))
    old[name] = open(os.path.join(d, name), "rb").read()
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
out = {}
for name, (_, write_big) in writers.items():
    path = os.path.join(d, name)
    try:
        write_big(path)
        out[name] = {"error": None}
    except BaseException as e:
        out[name] = {"error": type(e).__name__, "errno": getattr(e, "errno", None), "message": str(e),
                     "filename": getattr(e, "filename", None)}
    out[name]["old_intact"] = open(path, "rb").read() == old[name]
out["files"] = sorted(os.listdir(d))
print(json.dumps(out))
"""


@pytest.mark.skipif(not LINUX, reason="RLIMIT_FSIZE semantics are Linux's")
def test_full_disk_leaves_old_file_and_no_temporaries(tmp_path):
    """RLIMIT_FSIZE = 1 MiB with SIGXFSZ ignored: every writer (vectors
    binary/text, KeyedVectors.save, Word2Vec.save, vocabulary) raises
    OSError(EFBIG) naming the target, the previous file is intact and no
    temporary is left."""
    d = tmp_path / "out"
    d.mkdir()
    r = run_child(_FULL_DISK, d, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    res = last_json(r.stdout)
    names = ["kv.sgns", "model.sgns", "vectors.bin", "vectors.txt", "vocab.txt"]
    assert res.pop("files") == names
    for name in names:
        assert res[name]["error"] == "OSError", res[name]
        assert res[name]["errno"] == errno.EFBIG, res[name]
        assert "File too large" in res[name]["message"] and name in res[name]["message"]
        assert res[name]["filename"] == str(d / name)
        assert res[name]["old_intact"], name


_CTRL_C_CHILD = r"""
import json, os, signal, sys, threading, time
import numpy as np
import sgns
# A shell running us in the background may have left SIGINT ignored, and
# Python then installs no KeyboardInterrupt handler: a terminal's Ctrl-C is
# what is tested here.
signal.signal(signal.SIGINT, signal.default_int_handler)
path, out_dir, mode = sys.argv[1], sys.argv[2], sys.argv[3]
m = sgns.Word2Vec(vector_size=100, workers=2, epochs=1000, min_count=1, seed=1, sample=0,
                  shared_negatives=(mode == "shared"), corpus_cache_mb=0 if mode == "stream" else 2048)
m.build_vocab(corpus_file=path)
class Ready:
    def on_train_begin(self, model):
        print("TRAINING", flush=True)
t_raise = None
try:
    m.train(corpus_file=path, callbacks=[Ready()])
except KeyboardInterrupt:
    t_raise = time.monotonic()
# A worker that has returned (and set its done event) may still be listed
# by threading.enumerate for a moment while its thread winds down.
deadline = time.monotonic() + 0.5
while time.monotonic() < deadline and any(t.name.startswith("sgns-") for t in threading.enumerate()):
    time.sleep(0.01)
alive = [t.name for t in threading.enumerate() if t.name.startswith("sgns-")]
snapshot = m.wv.vectors.copy()
time.sleep(0.3)
moved = not np.array_equal(snapshot, m.wv.vectors)
vec = os.path.join(out_dir, "v.bin")
m.wv.save_word2vec_format(vec, binary=True)
kv = sgns.KeyedVectors.load_word2vec_format(vec, binary=True)
m.save(os.path.join(out_dir, "m.sgns"))
m2 = sgns.Word2Vec.load(os.path.join(out_dir, "m.sgns"))
sims = m.wv.most_similar(m.wv.index_to_key[0], topn=3)
words_done = m.words_done
m.train(corpus_file=sys.argv[4], epochs=1)  # a short corpus: training resumes
print(json.dumps({"t_raise": t_raise, "alive": alive, "moved_after": moved,
                  "interrupted": m2.interrupted, "words_done": words_done, "total": m2.total_train_words,
                  "finite": bool(np.isfinite(snapshot).all()),
                  "vec_roundtrip": bool(np.array_equal(kv.vectors, snapshot)),
                  "model_roundtrip": bool(np.array_equal(m2.wv.vectors, snapshot)),
                  "sims": len(sims), "trained_again": m.interrupted is False}))
"""


@pytest.mark.slow
@pytest.mark.skipif(not LINUX, reason="POSIX signals")
@pytest.mark.parametrize("mode", ["per-pair", "shared", "stream"])
def test_sigint_stops_workers_within_a_second(tmp_path, mode):
    """A real SIGINT (as from a terminal's Ctrl-C) sent to a process training
    with workers=2 on 10000-word sentences (max_sentence_length, the worst case):
    train() raises KeyboardInterrupt within a second, no worker thread is
    left, the weights no longer move, and the model saves, loads, answers
    most_similar and trains again."""
    rng = np.random.default_rng(0)
    vocab = np.array([f"w{i}" for i in range(2000)])
    path = tmp_path / "c.txt"
    # Lines of 25000 words, cut into sentences of max_sentence_length=10000
    # words: the stop flag is checked between sentences, so this is the
    # default worst case.
    path.write_text("\n".join(" ".join(vocab[rng.integers(0, 2000, 25_000)]) for _ in range(8)) + "\n")
    short = tmp_path / "short.txt"
    short.write_text(" ".join(vocab[:500]) + "\n")
    script = tmp_path / "child.py"
    script.write_text(_CTRL_C_CHILD)
    latencies = []
    for delay in (0.2, 0.7, 1.3):
        p = subprocess.Popen(
            [sys.executable, str(script), str(path), str(tmp_path), mode, str(short)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
            cwd=tmp_path,
        )
        try:
            assert p.stdout.readline().strip() == "TRAINING"
            time.sleep(delay)
            sent = time.monotonic()
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=120 * SLOWDOWN)
        finally:
            if p.poll() is None:  # failed or timed out: do not leave it training
                p.kill()
                p.communicate()
        assert p.returncode == 0, err[-3000:]
        res = last_json(out)
        assert res["t_raise"] is not None, "training ended before the SIGINT"
        latencies.append(res["t_raise"] - sent)
        assert res["alive"] == [] and not res["moved_after"]
        assert res["interrupted"] and 0 < res["words_done"] < res["total"]
        assert res["finite"] and res["vec_roundtrip"] and res["model_roundtrip"]
        assert res["sims"] == 3 and res["trained_again"]
    print(f"\n{mode}: SIGINT -> KeyboardInterrupt in " + ", ".join(f"{x * 1000:.0f} ms" for x in latencies))
    assert max(latencies) < 1.0 * SLOWDOWN, latencies


_SCAN_CHILD = r"""
import json, signal, sys, time
import sgns
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in _CTRL_C_CHILD
small, big, phase = sys.argv[1], sys.argv[2], sys.argv[3]
m = sgns.Word2Vec(vector_size=8, workers=2, epochs=2, min_count=1, seed=1,
                  corpus_cache_mb=0 if phase == "streaming" else 2048)
m.build_vocab(corpus_file=small)
before = m.wv.vectors.copy()
class Ready:
    def on_train_begin(self, model):
        print("TRAINING", flush=True)
try:
    if phase == "vocab-scan":
        print("TRAINING", flush=True)
        m.build_vocab(corpus_file=big, update=True)
    else:
        m.train(corpus_file=big, callbacks=[Ready()])
    print(json.dumps({"finished": True}), flush=True)
except KeyboardInterrupt:
    t = time.monotonic()
    ok = (m.wv.vectors.shape == before.shape and bool((m.wv.vectors == before).all())
          and len(m.wv.most_similar("a", topn=2)) == 2)
    print(json.dumps({"t_raise": t, "unchanged": ok}), flush=True)
"""


@pytest.mark.slow
@pytest.mark.skipif(not LINUX, reason="POSIX signals, sparse files")
@pytest.mark.parametrize("phase", ["cached-first-epoch", "streaming", "vocab-scan"])
def test_sigint_while_scanning_text_without_vocabulary_words(tmp_path, phase):
    """A 4 GiB sparse file (NUL separators, no word: cheap to make, ~20 s to
    scan) trained with a vocabulary from another file, or counted by
    build_vocab: SIGINT must stop the scan within a second (the C reader
    checks the stop flag at every 1 MiB refill) and leave the model as it
    was (nothing trained, no vocabulary change)."""
    small = tmp_path / "small.txt"
    small.write_text("a b c d e\n" * 100)
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:
        f.truncate(4 << 30)
    script = tmp_path / "child.py"
    script.write_text(_SCAN_CHILD)
    p = subprocess.Popen(
        [sys.executable, str(script), str(small), str(big), phase],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
        cwd=tmp_path,
    )
    try:
        assert p.stdout.readline().strip() == "TRAINING"
        time.sleep(0.3)
        sent = time.monotonic()
        p.send_signal(signal.SIGINT)
        try:
            out, err = p.communicate(timeout=1.0 * SLOWDOWN)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {SLOWDOWN:g} s after SIGINT")
        assert time.monotonic() - sent < 1.0 * SLOWDOWN
        res = last_json(out)
        assert "t_raise" in res, err[-2000:]
        print(f"\n{phase}: SIGINT -> KeyboardInterrupt in {(res['t_raise'] - sent) * 1000:.0f} ms")
        assert res["unchanged"]
    finally:
        if p.poll() is None:
            p.kill()
        p.communicate()


def test_stop_flag_cancels_encoding_and_counting(tmp_path):
    """encode_file and count_file return at once when their stop flag is
    already raised (the reader checks it before every refill), and read the
    whole range when it is not."""
    from sgns import _train

    path = tmp_path / "c.txt"
    path.write_bytes(b"a b c\n" * 400_000)  # 2.4 MB: more than one 1 MiB buffer
    table, tokens, lines, _ = _tokenize.count_file(path)
    assert (tokens, lines) == (1_200_000, 400_000)
    raised = np.ones(1, dtype=np.int32)
    lowered = np.zeros(1, dtype=np.int32)
    _, tokens, _, _ = _tokenize.count_file(path, stop=raised)
    assert tokens < 1_200_000  # at most the first buffer
    assert _tokenize.count_file(path, stop=lowered)[1] == 1_200_000
    assert _train.encode_file(path, 0, -1, table, stop=raised) is None
    ids = _train.encode_file(path, 0, -1, table, stop=lowered)
    assert len(ids) == 1_600_000 and (ids == -1).sum() == 400_000


# =============================================================================================
# 4. concurrency (most_similar from 8 threads: tests/test_keyedvectors.py)
# =============================================================================================


def test_trainings_in_parallel_threads_match_sequential(tmp_path):
    """Two single-worker models trained at once in two threads (C reader,
    word tables and kernels shared by the process) equal the same models
    trained one after the other: no hidden global state."""
    path = tmp_path / "c.txt"
    path.write_bytes(_corpus_bytes())
    kw = dict(vector_size=16, window=3, min_count=1, workers=1, epochs=2, sample=1e-3)
    configs = [dict(seed=1, corpus_file=path), dict(seed=2, corpus_file=path, hs=1, sg=0)]
    sequential = [Word2Vec(**kw, **c).wv.vectors for c in configs]
    results: list = [None, None]

    def run(i):
        results[i] = Word2Vec(**kw, **configs[i]).wv.vectors

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for a, b in zip(sequential, results):
        assert np.array_equal(a, b)


def test_second_train_or_build_vocab_during_training_is_refused(tmp_path):
    """While train() runs, another thread's train() (which shared the
    workers' state and died in a TypeError) or build_vocab(update=True)
    (which swapped the arrays the workers wrote: the rest of the training was
    lost) is refused with a clear error; the running training ends normally
    and the model takes both calls afterwards."""
    path = tmp_path / "c.txt"
    path.write_bytes(_corpus_bytes())
    more = tmp_path / "more.txt"
    more.write_text("brandnew words " * 50 + "\n")
    model = Word2Vec(corpus_file=path, vector_size=16, window=3, min_count=1, workers=1, epochs=1, seed=1)
    started, release = threading.Event(), threading.Event()

    class Hold:  # holds the training between two epochs until the main thread has tried
        def on_epoch_end(self, m):
            started.set()
            release.wait(30)

    errors: list = []
    trainer = threading.Thread(
        target=lambda: errors.append(model.train(corpus_file=path, epochs=2, callbacks=[Hold()]))
    )
    trainer.start()
    try:
        assert started.wait(60)
        before = model.wv.vectors
        with pytest.raises(RuntimeError, match=r"train\(\) called while train\(\) runs"):
            model.train(corpus_file=path, epochs=1)
        with pytest.raises(RuntimeError, match=r"build_vocab\(\) called while train\(\) runs"):
            model.build_vocab(corpus_file=more, update=True)
        assert model.wv.vectors is before and "brandnew" not in model.wv
    finally:
        release.set()
        trainer.join(60)
    assert len(errors) == 1 and errors[0][1] > 0  # the first training returned its (examples, words)
    model.build_vocab(corpus_file=more, update=True)
    model.train(corpus_file=more, epochs=1)
    assert "brandnew" in model.wv


def test_loading_from_8_threads(tmp_path):
    kv = small_kv(d=50)
    paths = {True: tmp_path / "v.bin", False: tmp_path / "v.txt"}
    for binary, p in paths.items():
        kv.save_word2vec_format(p, binary=binary)
    save_keyedvectors(kv, tmp_path / "v.sgns")
    errors, results = [], []
    barrier = threading.Barrier(8)

    def work(t):
        try:
            barrier.wait()
            for _ in range(20):
                results.append(load_vec(paths[t % 2 == 0], t % 2 == 0).vectors)
                results.append(load_keyedvectors(tmp_path / "v.sgns").vectors)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 8 * 40
    for v in results:
        np.testing.assert_allclose(v, kv.vectors, atol=1e-6)
