"""word2vec.c file formats: vectors (text and binary) and vocabulary files."""

from __future__ import annotations

import gzip
import math
import os
import stat
import tracemalloc

import numpy as np
import pytest
from conftest import assert_parser_matches_exact

import sgns
from sgns import FormatError, KeyedVectors, formats, textfiles

WORDS = ["the", "naïve", "日本語", "emoji😀", "x", "a-b_c.d"]


def make_kv(n=len(WORDS), d=7, seed=0, words=None):
    rng = np.random.default_rng(seed)
    vectors = (rng.standard_normal((n, d)) * 0.7).astype(np.float32)
    return KeyedVectors.from_arrays(words or WORDS[:n], vectors, list(range(n, 0, -1)))


# ---- round trips ---------------------------------------------------------------


def test_binary_round_trip_is_exact(tmp_path):
    kv = make_kv()
    kv.vectors[0, :3] = [np.float32(1e-30), np.float32(-3.4e38), np.float32(2.0**-149)]
    path = tmp_path / "v.bin"
    kv.save_word2vec_format(path, binary=True)
    back = KeyedVectors.load_word2vec_format(path, binary=True)
    assert back.index_to_key == kv.index_to_key
    assert back.vectors.dtype == np.float32
    assert np.array_equal(back.vectors, kv.vectors)
    assert back.vector_size == 7


def test_binary_layout(tmp_path):
    """b"V D\\n" then per word: word, b" ", D little-endian float32, b"\\n"."""
    kv = KeyedVectors.from_arrays(["ab", "ç"], np.array([[1.0, -2.0], [0.5, 3.0]], np.float32))
    path = tmp_path / "v.bin"
    kv.save_word2vec_format(path, binary=True)
    expected = (
        b"2 2\n"
        b"ab "
        + np.array([1.0, -2.0], "<f4").tobytes()
        + b"\n"
        + "ç".encode()
        + b" "
        + np.array([0.5, 3.0], "<f4").tobytes()
        + b"\n"
    )
    assert path.read_bytes() == expected


def test_text_round_trip(tmp_path):
    kv = make_kv()
    path = tmp_path / "v.txt"
    kv.save_word2vec_format(path, binary=False)
    back = KeyedVectors.load_word2vec_format(path, binary=False)
    assert back.index_to_key == kv.index_to_key
    np.testing.assert_allclose(back.vectors, kv.vectors, atol=1e-6, rtol=0)
    assert not np.array_equal(back.vectors, np.zeros_like(back.vectors))


def test_text_layout_is_word2vec_c_byte_for_byte(tmp_path):
    """word2vec.c: fprintf("%lld %lld\\n"), then per word fprintf("%s ") and
    fprintf("%lf ") per value, then "\\n" (so a trailing space)."""
    vectors = np.array([[0.5, -0.25, 1e-7], [123.456789, 0.0, -1.0]], dtype=np.float32)
    kv = KeyedVectors.from_arrays(["king", "naïve"], vectors)
    path = tmp_path / "v.txt"
    kv.save_word2vec_format(path)
    expected = (
        "2 3\n"
        "king 0.500000 -0.250000 0.000000 \n"
        "naïve " + "%f " % np.float64(np.float32(123.456789)) + "0.000000 -1.000000 \n"
    )
    assert path.read_bytes() == expected.encode("utf-8")
    assert b"123.456787 " in path.read_bytes()  # float32 value printed with %f


@pytest.mark.parametrize("binary", [False, True])
def test_limit(tmp_path, binary):
    kv = make_kv()
    path = tmp_path / "v"
    kv.save_word2vec_format(path, binary=binary)
    back = KeyedVectors.load_word2vec_format(path, binary=binary, limit=3)
    assert back.index_to_key == kv.index_to_key[:3]
    assert back.vectors.shape == (3, 7)
    np.testing.assert_allclose(back.vectors, kv.vectors[:3], atol=1e-6)
    big = KeyedVectors.load_word2vec_format(path, binary=binary, limit=100)
    assert len(big) == len(kv)
    # gensim's rule: limit=0 reads every vector (it read none); a negative one is refused clearly
    assert len(KeyedVectors.load_word2vec_format(path, binary=binary, limit=0)) == len(kv)
    with pytest.raises(ValueError, match="limit must be an integer >= 0"):
        KeyedVectors.load_word2vec_format(path, binary=binary, limit=-1)


def test_datatype_and_fvocab(tmp_path):
    kv = make_kv()
    vec, voc = tmp_path / "v.bin", tmp_path / "vocab.txt"
    kv.save_word2vec_format(vec, binary=True)
    formats.write_vocab(voc, kv.index_to_key, [kv.get_vecattr(w, "count") for w in kv.index_to_key], 3)
    back = KeyedVectors.load_word2vec_format(vec, binary=True, datatype=np.float64, fvocab=voc)
    assert back.vectors.dtype == np.float64
    assert np.array_equal(back.vectors, kv.vectors.astype(np.float64))
    assert [back.get_vecattr(w, "count") for w in back.index_to_key] == list(range(6, 0, -1))


def test_failed_vector_save_keeps_the_old_fvocab(tmp_path, monkeypatch):
    """save_word2vec_format(fvocab=) writes the vectors first: when that fails
    (a full disk) the old vocabulary file still matches the old vectors."""
    kv = make_kv()
    vec, voc = tmp_path / "v.bin", tmp_path / "vocab.txt"
    kv.save_word2vec_format(vec, fvocab=voc, binary=True)
    old_vec, old_voc = vec.read_bytes(), voc.read_bytes()
    kv.set_vecattr(kv.index_to_key[0], "count", 999)

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(formats, "write_vectors", full_disk)
    with pytest.raises(OSError, match="No space"):
        kv.save_word2vec_format(vec, fvocab=voc, binary=True)
    assert vec.read_bytes() == old_vec and voc.read_bytes() == old_voc


# ---- binary newline variants and awkward bytes -------------------------------------


def _binary_file(words, vectors, newline=True):
    out = [f"{len(words)} {vectors.shape[1]}\n".encode()]
    for w, v in zip(words, vectors):
        out.append(w + b" " + np.asarray(v, "<f4").tobytes() + (b"\n" if newline else b""))
    return b"".join(out)


@pytest.mark.parametrize("newline", [True, False])
def test_binary_with_and_without_newline_after_vectors(tmp_path, newline):
    vectors = np.arange(12, dtype=np.float32).reshape(4, 3) - 5.5
    words = [b"alpha", b"beta", "gämma".encode(), b"delta"]
    path = tmp_path / "v.bin"
    path.write_bytes(_binary_file(words, vectors, newline))
    kv = KeyedVectors.load_word2vec_format(path, binary=True)
    assert kv.index_to_key == ["alpha", "beta", "gämma", "delta"]
    assert np.array_equal(kv.vectors, vectors)


@pytest.mark.parametrize("newline", [True, False])
def test_binary_vectors_containing_whitespace_bytes(tmp_path, newline):
    """Float bytes that happen to be b' ', b'\\n', b'\\t' must not confuse the reader."""
    raw = np.frombuffer(b" \n \n\t\n\r " * 4, dtype="<f4").reshape(4, 2).copy()
    words = [b"w1", b"w2", b"w3", b"w4"]
    path = tmp_path / "v.bin"
    path.write_bytes(_binary_file(words, raw, newline))
    kv = KeyedVectors.load_word2vec_format(path, binary=True)
    assert kv.index_to_key == ["w1", "w2", "w3", "w4"]
    assert np.array_equal(kv.vectors.view(np.uint32), raw.view(np.uint32))


# ---- unicode errors -------------------------------------------------------------------

BAD_WORD = b"caf\xe9"  # latin-1, not valid UTF-8


def _bad_text_file(path):
    path.write_bytes(b"2 2\ngood 1.0 2.0 \n" + BAD_WORD + b" 3.0 4.0 \n")


def _bad_binary_file(path):
    path.write_bytes(_binary_file([b"good", BAD_WORD], np.array([[1, 2], [3, 4]], np.float32)))


@pytest.mark.parametrize("binary", [False, True])
def test_unicode_errors(tmp_path, binary):
    path = tmp_path / ("bad.bin" if binary else "bad.txt")
    (_bad_binary_file if binary else _bad_text_file)(path)
    with pytest.raises(FormatError) as e:
        KeyedVectors.load_word2vec_format(path, binary=binary)
    assert str(path) in str(e.value)
    assert "unicode_errors" in str(e.value)
    kv = KeyedVectors.load_word2vec_format(path, binary=binary, unicode_errors="replace")
    assert kv.index_to_key == ["good", "caf\ufffd"]
    assert kv["caf\ufffd"].tolist() == [3.0, 4.0]
    kv = KeyedVectors.load_word2vec_format(path, binary=binary, unicode_errors="ignore")
    assert kv.index_to_key == ["good", "caf"]


@pytest.mark.parametrize("binary", [False, True])
def test_undecodable_word_round_trips_bytes(tmp_path, binary):
    """A corpus word that is not UTF-8 reaches the model through surrogate
    escapes; it is written back as its original bytes."""
    word = BAD_WORD.decode("utf-8", "surrogateescape")
    kv = KeyedVectors.from_arrays(["ok", word], np.array([[1, 2], [3, 4]], np.float32))
    path = tmp_path / "v"
    kv.save_word2vec_format(path, binary=binary)
    assert BAD_WORD + b" " in path.read_bytes()
    back = KeyedVectors.load_word2vec_format(path, binary=binary, unicode_errors="surrogateescape")
    assert back.index_to_key == ["ok", word]


# ---- malformed files ------------------------------------------------------------------


def _assert_format_error(path, binary, match=None):
    with pytest.raises(FormatError, match=match) as e:
        KeyedVectors.load_word2vec_format(path, binary=binary)
    assert os.fspath(path) in str(e.value)
    assert e.value.path == os.fspath(path)
    return e.value


@pytest.mark.parametrize("cut", [2, 5, 10, 30, 33])  # 1 would only drop the optional final newline
def test_truncated_binary_file(tmp_path, cut):
    kv = make_kv()
    full = tmp_path / "full.bin"
    kv.save_word2vec_format(full, binary=True)
    path = tmp_path / "cut.bin"
    path.write_bytes(full.read_bytes()[:-cut])
    err = _assert_format_error(path, True)
    assert err.position is not None


def test_binary_fewer_vectors_than_header(tmp_path):
    path = tmp_path / "short.bin"
    path.write_bytes(b"3 2\n" + _binary_file([b"a", b"b"], np.ones((2, 2), np.float32))[4:])
    _assert_format_error(path, True, match="2 of 3")


@pytest.mark.parametrize(
    "header", [b"abc def\n", b"3\n", b"3 2 1\n", b"-3 2\n", b"3 0\n", b"3 2.5\n", b"3 2"]
)
@pytest.mark.parametrize("binary", [False, True])
def test_wrong_header(tmp_path, header, binary):
    path = tmp_path / "h"
    path.write_bytes(header + b"a 1 2 \nb 1 2 \nc 1 2 \n" if header.endswith(b"\n") else header)
    _assert_format_error(path, binary)


@pytest.mark.parametrize("binary", [False, True])
def test_empty_vector_file(tmp_path, binary):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    _assert_format_error(path, binary, match="empty")


@pytest.mark.parametrize(
    "row, match",
    [
        (b"b 1.0 abc \n", "non-numeric"),
        (b"b 1.0 \n", "fields"),
        (b"b 1.0 2.0 3.0 \n", "fields"),
        (b"b 1.0 nan \n", "NaN"),
        (b"b inf 1.0 \n", "NaN or infinity"),
        (b"b -inf 1.0 \n", "NaN or infinity"),
    ],
)
def test_bad_text_rows(tmp_path, row, match):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"2 2\na 0.5 0.25 \n" + row)
    _assert_format_error(path, False, match=match)


def test_text_fewer_rows_than_header(tmp_path):
    path = tmp_path / "short.txt"
    path.write_bytes(b"3 2\na 1 2\nb 3 4\n")
    err = _assert_format_error(path, False, match="2 of 3")
    assert err.position == 4  # line 4: the missing third vector


def test_nan_in_binary_file(tmp_path):
    path = tmp_path / "nan.bin"
    path.write_bytes(_binary_file([b"a", b"b"], np.array([[1, 2], [np.nan, 0]], np.float32)))
    _assert_format_error(path, True, match="NaN")


def test_duplicate_words_in_file(tmp_path):
    path = tmp_path / "dup.txt"
    path.write_bytes(b"2 2\na 1 2\na 3 4\n")
    _assert_format_error(path, False, match="duplicate")


def test_directory_is_not_a_vector_file(tmp_path):
    with pytest.raises(IsADirectoryError):
        KeyedVectors.load_word2vec_format(tmp_path)


def test_missing_vector_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        KeyedVectors.load_word2vec_format(tmp_path / "nope.bin", binary=True)


def test_format_error_is_a_value_error():
    assert issubclass(sgns.FormatError, ValueError)


# ---- writing ----------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["two words", "tab\there", "", "new\nline"])
def test_unstorable_words_rejected(tmp_path, bad):
    kv = KeyedVectors.from_arrays(["ok", bad], np.ones((2, 2), np.float32))
    with pytest.raises(ValueError):
        kv.save_word2vec_format(tmp_path / "v.txt")
    assert not (tmp_path / "v.txt").exists()


@pytest.mark.parametrize("binary", [False, True])
def test_failed_write_leaves_old_file_and_no_temporaries(tmp_path, binary):
    """Writes are atomic: an error half-way leaves the previous file as it was."""
    path = tmp_path / "v"
    make_kv().save_word2vec_format(path, binary=binary)
    before = path.read_bytes()
    # A lone surrogate cannot be encoded even with surrogateescape: the
    # encoder fails while the file is being written.
    kv = KeyedVectors.from_arrays(["fine", "bad\ud800"], np.ones((2, 7), np.float32))
    with pytest.raises(UnicodeEncodeError):
        kv.save_word2vec_format(path, binary=binary)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["v"]


# ---- vocabulary files ---------------------------------------------------------------


def test_vocab_file_round_trip(tmp_path):
    words = ["the", "naïve", "日本語", "x"]
    counts = [100, 7, 7, 1]
    path = tmp_path / "vocab.txt"
    formats.write_vocab(path, words, counts, sentences=42)
    assert path.read_bytes() == "</s> 42\nthe 100\nnaïve 7\n日本語 7\nx 1\n".encode()
    w, c, s = formats.read_vocab(path)
    assert (w, c, s) == (words, counts, 42)


def test_read_vocab_without_sentence_token_and_blank_lines(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_bytes(b"a 3\n\nb 2\r\n")
    assert formats.read_vocab(path) == (["a", "b"], [3, 2], 0)


@pytest.mark.parametrize("line", [b"a\n", b"a b\n", b"a 1 2\n", b"a -1\n"])
def test_read_vocab_rejects_bad_lines(tmp_path, line):
    path = tmp_path / "vocab.txt"
    path.write_bytes(b"</s> 0\nok 5\n" + line)
    with pytest.raises(FormatError) as e:
        formats.read_vocab(path)
    assert str(path) in str(e.value)
    assert e.value.position == 3


def test_text_reader_accepts_other_writers_layouts(tmp_path):
    """gensim writes no trailing space; fastText .vec has one; CRLF files exist."""
    path = tmp_path / "v.txt"
    path.write_bytes(b"3 2\r\na 1 2\r\nb 3.5e-1 -4\nc  5   6 \n")
    kv = KeyedVectors.load_word2vec_format(path)
    assert kv.index_to_key == ["a", "b", "c"]
    np.testing.assert_allclose(kv.vectors, [[1, 2], [0.35, -4], [5, 6]], rtol=1e-7)
    assert math.isclose(kv["b"][0], 0.35, rel_tol=1e-7)


def test_written_files_get_normal_permissions(tmp_path, monkeypatch):
    """A written file has the permissions open() would give (umask), or
    keeps those of the file it replaces; the umask is never read with
    os.umask (that changes it for every thread for a moment)."""
    kv = KeyedVectors.from_arrays(["a", "b"], np.ones((2, 3), dtype=np.float32))
    old = os.umask(0o022)

    def no_umask(*_):
        raise AssertionError("atomic_write called os.umask")

    monkeypatch.setattr(os, "umask", no_umask)
    try:
        path = tmp_path / "v.bin"
        kv.save_word2vec_format(path, binary=True)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
        os.chmod(path, 0o640)
        kv.save_word2vec_format(path, binary=True)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    finally:
        monkeypatch.undo()
        os.umask(old)


# ---- the C row parser (csrc/vecrows.c) against the exact reader -------------------


def _decimal_strings(rng, count):
    """Decimal numbers of many shapes: 1..25 digits, the point anywhere or
    nowhere, leading zeros, exponents near and far from 0, either sign."""
    out = []
    for _ in range(count):
        digits = "".join(rng.choice(list("0123456789"), size=int(rng.integers(1, 26))))
        if rng.random() < 0.3:
            digits = "0" * int(rng.integers(1, 12)) + digits
        point = int(rng.integers(-1, len(digits) + 1))
        s = digits if point < 0 else digits[:point] + "." + digits[point:]
        if rng.random() < 0.5:
            e = int(rng.choice([rng.integers(-25, 26), rng.integers(-330, 330)]))
            s += rng.choice(["e", "E"]) + (rng.choice(["", "+"]) if e >= 0 else "") + str(e)
        out.append(rng.choice(["", "-", "+"]) + s)
    return out


def test_parse_float_is_float_then_float32():
    """Every plain decimal reads to the bits of np.float32(float(s)), by the
    fast path or strtod; any other text is left to float() (None)."""
    from sgns import _tokenize

    rng = np.random.default_rng(7)
    np_errors = np.errstate(over="ignore")  # numbers past float32's range are inf, either way
    np_errors.__enter__()
    for s in _decimal_strings(rng, 60_000) + [
        "0",
        "-0",
        "-0.0e5",
        "0e999",
        ".5",
        "5.",
        "1e22",
        "9007199254740993",
        "9007199254740992e-22",
        "1.17549435e-38",
        "1.4e-45",
        "3.4028236e38",
    ]:
        got = _tokenize.parse_float(s.encode())
        if len(s) >= 64:
            assert got is None or np.float32(got).tobytes() == np.float32(float(s)).tobytes(), s
            continue
        assert got is not None, s
        assert np.float32(got).tobytes() == np.float32(float(s)).tobytes(), s
    for s in [
        "",
        "-",
        "+",
        ".",
        "-.",
        "e5",
        "1e",
        "1e+",
        "1.5.2",
        "1_000",
        "nan",
        "inf",
        "-Infinity",
        "0x1p3",
        " 1",
        "1 ",
        "1,5",
        "١",
    ]:
        assert _tokenize.parse_float(s.encode()) is None, s
    np_errors.__exit__(None, None, None)


def _vector_file(path, rows, dim, binary, separator=b"\n", header=None):
    head = header if header is not None else f"{len(rows)} {dim}\n".encode()
    body = b""
    for word, values in rows:
        if binary:
            body += word + b" " + np.asarray(values, dtype="<f4").tobytes() + separator
        else:
            body += word + b" " + b" ".join(values) + separator
    path.write_bytes(head + body)
    return path


@pytest.mark.parametrize("binary", [True, False])
def test_row_parser_takes_well_formed_rows(tmp_path, binary):
    """Not a test of agreement only: the parser itself takes every row of a
    plain file (an exact reader doing all the work would pass the others)."""
    from sgns import _tokenize

    rng = np.random.default_rng(1)
    values = rng.standard_normal((50, 9)).astype(np.float32)
    rows = [
        (f"w{i}é".encode(), values[i] if binary else [repr(float(v)).encode() for v in values[i]])
        for i in range(50)
    ]
    data = _vector_file(tmp_path / "v", rows, 9, binary).read_bytes()
    start = data.index(b"\n") + 1
    out = np.zeros((50, 9), dtype=np.float32)
    status, taken, pos, words, at = _tokenize.vector_rows(
        binary, data, start, 9, out, 0, 50, 1024 + 64 * 9, True
    )
    # A binary row ends with its vector; the separator is the next row's to skip.
    assert (status, taken, pos) == (_tokenize.ROWS_DONE, 50, len(data) - binary)
    assert words.decode().split("\n")[:-1] == [f"w{i}é" for i in range(50)]
    assert np.array_equal(out, values if binary else np.float32([[float(v) for v in r] for _, r in rows]))
    assert [data[a : a + 2] for a in at[:3]] == [b"w0", b"w1", b"w2"]


def _same_through_parser(path, binary, **kw):
    return assert_parser_matches_exact(path, binary, (1, 2, 3, 17, 64, 4096, None), **kw)


@pytest.mark.parametrize("separator", [b"\n", b"", b"\r\n", b" \t"])
def test_row_parser_matches_exact_reader_binary(tmp_path, separator):
    rng = np.random.default_rng(2)
    words = [b"a", b"tab\there", b"cr\rword", "naïve".encode(), b"\xff\xfe", b"x" * 300] + [
        f"w{i}".encode() for i in range(200)
    ]
    values = rng.standard_normal((len(words), 5)).astype(np.float32)
    values[3, 1] = np.float32(2.0**-149)
    values[4] = np.frombuffer(
        b"\n\n\n\n \r\t \n\x00\x00\x00" + b"\x0a" * 8, dtype="<f4"
    )  # separator bytes inside
    path = _vector_file(tmp_path / "v.bin", list(zip(words, values)), 5, True, separator)
    for errors in ("strict", "replace", "ignore"):
        outcome = _same_through_parser(path, True, unicode_errors=errors)
        assert outcome[0] == ("error" if errors == "strict" else "ok")
    assert _same_through_parser(path, True, unicode_errors="replace", limit=3)[0] == "ok"
    assert _same_through_parser(path, True, encoding="latin-1")[0] == "ok"
    assert _same_through_parser(path, True, encoding="utf-16", unicode_errors="replace")[0] == "ok"


def test_row_parser_matches_exact_reader_text(tmp_path):
    """Numbers for the fast path, for strtod and for float() alone (underscores,
    nan), words float() never sees, CR LF endings and a last row without its
    newline: the same words, bits, warnings and errors as the exact reader."""
    rng = np.random.default_rng(3)
    numbers = [s for s in _decimal_strings(rng, 1000) if abs(float(s)) < 3e38][:400]  # finite as float32
    rows = []
    for i in range(100):
        fields = [s.encode() for s in numbers[4 * i : 4 * i + 4]]
        if i % 17 == 5:
            fields[1] = b"1_000.5"
        rows.append((f"w{i}".encode(), fields))
    rows[7] = ("日本語".encode(), rows[7][1])
    rows[9] = (b"\xe9t\xe9", rows[9][1])
    path = _vector_file(tmp_path / "v.txt", rows, 4, False, b"\r\n")
    outcome = _same_through_parser(path, False, unicode_errors="replace")
    assert outcome[0] == "ok" and outcome[1][7] == "日本語"
    assert _same_through_parser(path, False)[0] == "error"  # b"\xe9t\xe9" is not UTF-8
    assert _same_through_parser(path, False, encoding="latin-1")[1][9] == "été"
    path.write_bytes(path.read_bytes().rstrip(b"\r\n"))
    assert _same_through_parser(path, False, encoding="latin-1")[-1]  # the missing newline's warning
    for bad, what in [
        (b"1.5 nan 2 3", "NaN"),
        (b"1 2 3", "fields"),
        (b"1 2 3 4 5", "fields"),
        (b"1 2 x 4", "non-numeric"),
        (b"1 2 3 4" + b" " * 4000, "too long"),
    ]:
        broken = list(rows)
        broken[40] = (b"bad", [bad])
        _vector_file(path, broken, 4, False)
        outcome = _same_through_parser(path, False, encoding="latin-1")
        assert outcome[0] == "error" and "line 42" in outcome[2] and what in outcome[2], outcome


# ---- compressed and headerless files: read as streams, the array grown with the rows -------------

OPENERS = textfiles.COMPRESSED_OPENERS


def _random_kv(rows: int, dim: int, seed: int = 4) -> KeyedVectors:
    # multiples of 1/64: exact in the text format's "%f" too
    vectors = np.round(np.random.default_rng(seed).standard_normal((rows, dim)) * 64).astype(np.float32) / 64
    return KeyedVectors.from_arrays([f"w{i}" for i in range(rows)], vectors)


@pytest.mark.parametrize("suffix", sorted(OPENERS))
@pytest.mark.parametrize("binary", [True, False])
def test_compressed_vector_file_is_read_a_chunk_at_a_time(tmp_path, monkeypatch, suffix, binary):
    """The decompressed bytes are never asked for whole (a 3.6 GB GoogleNews
    .bin.gz held in memory beside its vectors doubled the peak), and the
    result is the plain file's, through the parser and the exact reader."""
    kv = _random_kv(3000, 12)
    plain = tmp_path / "v.bin"
    kv.save_word2vec_format(plain, binary=binary)
    packed = tmp_path / f"v.bin{suffix}"
    kv.save_word2vec_format(packed, binary=binary)
    sizes = []

    class Recording:
        def __init__(self, path, mode):
            self.f = OPENERS[suffix](path, mode)

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def read(self, size=-1):
            sizes.append(size)
            return self.f.read(size)

    monkeypatch.setattr(formats, "compressed_opener", lambda path: Recording)
    monkeypatch.setattr(formats, "_READ_CHUNK", 4096)
    words, vectors = formats.read_vectors(packed, binary=binary)
    assert words == kv.index_to_key and np.array_equal(vectors, kv.vectors)
    assert len(sizes) > plain.stat().st_size // 4096 and all(0 < s <= 4096 for s in sizes), sizes[:5]
    assert_parser_matches_exact(packed, binary, (None, 1, 4096))


def test_compressed_text_file_peak_memory_is_its_vectors(tmp_path, monkeypatch):
    """tracemalloc's peak while reading a .gz text file (its decompressed
    bytes 2.4 times its vectors') stays well below the decompressed size."""
    kv = _random_kv(5000, 100)
    packed = tmp_path / "v.txt.gz"
    kv.save_word2vec_format(packed, binary=False)
    with gzip.open(packed) as f:
        text_bytes = len(f.read())
    assert text_bytes > 2.3 * kv.vectors.nbytes
    monkeypatch.setattr(formats, "_READ_CHUNK", 1 << 16)
    tracemalloc.start()
    try:
        words, vectors = formats.read_vectors(packed)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.array_equal(vectors, kv.vectors)
    assert peak < text_bytes * 0.7, (peak, text_bytes, kv.vectors.nbytes)


@pytest.mark.parametrize("binary", [True, False])
def test_compressed_file_with_a_huge_header_allocates_nothing_large(tmp_path, binary):
    """A corrupt header in a compressed file (whose length is unknown until it
    is read) gets a FormatError, not a terabyte allocation."""
    packed = tmp_path / "v.bin.gz"
    packed.write_bytes(gzip.compress(b"3000000000 1000000000\nword " + b"\x01" * 64))
    tracemalloc.start()
    try:
        with pytest.raises(FormatError, match="truncated|found 2 fields"):
            formats.read_vectors(packed, binary=binary)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 26  # a 16 MB read buffer; one row would take 4 GB


@pytest.mark.parametrize("suffix", sorted(OPENERS))
def test_corrupt_compressed_data_is_a_format_error(tmp_path, monkeypatch, suffix):
    """Damage found while streaming is a FormatError ("cannot decompress" where
    the format checks its data as it goes; bzip2 checks a block's CRC only at
    its end, after handing out its bytes: then the garbage's own error); a
    limit= that stops before the damage loads."""
    kv = _random_kv(2000, 8)
    packed = tmp_path / f"v.bin{suffix}"
    kv.save_word2vec_format(packed, binary=True)
    data = bytearray(packed.read_bytes())
    for i in range(len(data) * 3 // 4, len(data) * 3 // 4 + 64):
        data[i] ^= 0x5A
    packed.write_bytes(bytes(data))
    monkeypatch.setattr(formats, "_READ_CHUNK", 4096)
    with pytest.raises(FormatError, match=r"cannot decompress \(" if suffix != ".bz2" else None):
        formats.read_vectors(packed, binary=True)
    if suffix != ".bz2":
        words, _ = formats.read_vectors(packed, binary=True, limit=5)
        assert words == kv.index_to_key[:5]


def _headerless(path, kv, tail=b""):
    kv.save_word2vec_format(path, write_header=False)
    path.write_bytes(path.read_bytes() + tail)
    return path


def test_headerless_file_is_read_to_its_end_without_counting_first(tmp_path, monkeypatch):
    """no_header=True reads the rows to the end of the file (no longer counted
    first), the array grown as they arrive, compressed or not; trailing blank
    lines end it; the C parser takes every row."""
    kv = _random_kv(5000, 7)
    path = _headerless(tmp_path / "glove.txt", kv, b"\n  \n\r\n")
    packed = tmp_path / "glove.txt.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    for p in (path, packed):
        outcome = assert_parser_matches_exact(p, False, (None, 1, 4096), no_header=True)
        assert outcome[0] == "ok" and outcome[1] == kv.index_to_key
        assert np.frombuffer(outcome[4], np.float32).tolist() == kv.vectors.ravel().tolist()
        assert outcome[5] == []
        limited = assert_parser_matches_exact(p, False, (None, 7), no_header=True, limit=3)
        assert limited[1] == kv.index_to_key[:3]
    lines = []
    monkeypatch.setattr(formats._RowReader, "readline", lambda self, limit: lines.append(1) or b"")
    formats.read_vectors(path, no_header=True)
    assert len(lines) == 1  # the parser took every row; the reader only asked once whether the end was there


@pytest.mark.parametrize(
    "body, match",
    [
        (b"a 1 2\n\nb 3 4\n", "line 2: expected a word and 2 numbers, found 0 fields"),
        (b"a 1 2\nb 3\n", "line 2: expected a word and 2 numbers, found 2 fields"),
        (b"\na 1 2\n", "line 1: no vector on the first line"),
        (b"word\nb 3 4\n", "line 1: the first line holds a word but no numbers"),
        (b"a 1 nan\n", "contains NaN"),
        (b"", "line 1: no vector on the first line"),
    ],
)
def test_headerless_file_errors(tmp_path, body, match):
    path = tmp_path / "glove.txt"
    path.write_bytes(body)
    outcome = assert_parser_matches_exact(path, False, (None, 1), no_header=True)
    assert outcome[0] == "error" and match in outcome[2], outcome


def test_headerless_endless_first_line_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(formats, "_MAX_FIRST_ROW", 1000)
    path = tmp_path / "glove.txt"
    path.write_bytes(b"w" + b" 1.5" * 1000)
    with pytest.raises(FormatError, match="line 1: row is too long"):
        formats.read_vectors(path, no_header=True)


def test_headerless_last_row_without_newline_warns(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_bytes(b"a 1 2\nb 3 4")
    with pytest.warns(formats.TruncationWarning, match="line 2: the last row has no newline"):
        words, vectors = formats.read_vectors(path, no_header=True)
    assert words == ["a", "b"] and vectors.tolist() == [[1, 2], [3, 4]]


# ---- the C row writer ------------------------------------------------------------------------------


def _python_fixed6(values) -> bytes:
    return "".join("%f " % float(v) for v in values).encode()


def _hard_float32s() -> np.ndarray:
    """Values where "%f" is easy to get wrong: halves of a millionth (ties,
    rounded to even), carries into the integer part, subnormals, signed
    zeros, the edge of the C path (2^43) and random bit patterns."""
    rng = np.random.default_rng(5)
    ties = [k / 2.0**s for s in range(1, 25) for k in (1, 3, 5, 7, 2**s - 1)]
    carries = [0.9999995, 0.99999949, 9.9999995, 999999.9999995, 0.0000005, 0.00000049999997, 1.5e-6, 2.5e-6]
    edges = [2.0**43 - 2.0**19, 2.0**42, 2.0**43, 2.0**44, 8796093022207.5, 3.4e38, 1e-45, 1.17549435e-38]
    bits = rng.integers(0, 0x7F7FFFFF, 20000, dtype=np.uint32).view(np.float32)  # every finite magnitude
    small = rng.standard_normal(20000).astype(np.float32) * np.float32(10.0) ** rng.integers(-8, 6, 20000)
    values = np.concatenate([np.float32(ties + carries + edges + [0.0]), bits, small])
    return np.concatenate([values, -values]).astype(np.float32)


def test_row_writer_formats_like_printf():
    from sgns._tokenize import vector_file_rows

    values = _hard_float32s()
    out, taken = bytearray(), 0
    for v in values:
        n = vector_file_rows(False, [b"w"], np.float32([[v]]), out)
        if abs(float(v)) >= 2.0**43:
            assert n == -1, v  # for Python's formatting
            continue
        assert bytes(out[:n]) == b"w " + _python_fixed6([v]) + b"\n", (float(v), bytes(out[:n]))
        taken += 1
    assert taken > 30000
    assert vector_file_rows(False, [b"w"], np.float32([[np.nan]]), out) == -1
    assert vector_file_rows(False, [b"w"], np.float32([[-np.inf]]), out) == -1


@pytest.mark.parametrize("binary", [True, False])
def test_row_writer_takes_plain_blocks(binary):
    """Not agreement only: the C writer itself writes a plain block (the
    Python rows doing all the work would pass the comparison below)."""
    from sgns._tokenize import vector_file_rows

    block = np.random.default_rng(6).standard_normal((300, 5)).astype(np.float32)
    words = [f"wörd{i}".encode() for i in range(300)]
    out = bytearray(10)
    n = vector_file_rows(binary, words, block, out)
    expected = b"".join(
        w + b" " + (row.astype("<f4").tobytes() if binary else _python_fixed6(row)) + b"\n"
        for w, row in zip(words, block)
    )
    assert bytes(out[:n]) == expected and len(out) >= n


@pytest.mark.parametrize("binary", [True, False])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_infinity_is_not_written(tmp_path, binary, bad):
    """The reader refuses NaN and infinity, so the writer does too: the error
    names the word and the old file stays (it wrote a file it then refused)."""
    path = tmp_path / "v.bin"
    words = [f"w{i}" for i in range(600)]
    vectors = np.ones((600, 4), dtype=np.float32)
    formats.write_vectors(path, words, vectors, binary)
    old = path.read_bytes()
    vectors[417, 2] = bad
    with pytest.raises(ValueError, match="the vector of 'w417' contains NaN or infinity"):
        formats.write_vectors(path, words, vectors, binary)
    kv = KeyedVectors.from_arrays(words, vectors)
    with pytest.raises(ValueError, match="'w417'"):
        kv.save_word2vec_format(path, binary=binary)
    assert path.read_bytes() == old and os.listdir(tmp_path) == ["v.bin"]


@pytest.mark.parametrize("binary", [True, False])
@pytest.mark.parametrize("name", ["v.txt", "v.txt.gz"])
@pytest.mark.parametrize("encoding", ["utf-8", "latin-1", "utf-16"])
def test_row_writer_matches_python_rows(tmp_path, monkeypatch, binary, name, encoding):
    """write_vectors with the C writer gives the bytes of the Python rows alone:
    blocks holding values past 2^43 (left to Python), words beyond ASCII, a
    prefix, every encoding, compressed or not, float64 input."""
    rng = np.random.default_rng(7)
    words = [f"mot{i}é" for i in range(700)]
    vectors = rng.standard_normal((700, 6)).astype(np.float32)
    vectors[3, 2] = 2.0**43
    vectors[600, 0] = 1e20
    vectors[650, 1] = -3e15
    for data in (vectors, vectors.astype(np.float64) / 3):
        fast, slow = tmp_path / ("fast_" + name), tmp_path / ("slow_" + name)
        formats.write_vectors(fast, words, data, binary, encoding, prefix="p_")
        with monkeypatch.context() as m:
            m.setattr(formats, "vector_file_rows", lambda *args: -1)
            formats.write_vectors(slow, words, data, binary, encoding, prefix="p_")
        opener = gzip.open if name.endswith(".gz") else open
        with opener(fast, "rb") as a, opener(slow, "rb") as b:
            assert a.read() == b.read()
