"""Corpus readers: the C reader's tokenisation, gensim's sentence rules,
bounded memory, compression, file objects, and a model trained from them."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import tracemalloc
from collections import Counter

import numpy as np
import pytest

from sgns import LineSentence, PathLineSentences, Text8Corpus, Word2Vec, _tokenize, _train, corpus, runtime

PIECES = [
    b"a",
    b"b",
    b"ab",
    "é".encode(),
    "日".encode(),
    b"\xff",
    b"\xe6\x97",
    b"longerword",
    b" ",
    b"  ",
    b"\n",
    b"\t",
    b"\r\n",
    b"\x00",
    b"\x0b",
    b"\x0c",
    b"\x1c",
    "\u00a0".encode(),
    "\u2003".encode(),
    "\x85".encode(),
]


def c_sentences(path, max_sentence):
    """The sentences the C reader sees: every token in the vocabulary, cut
    at newlines and every max_sentence tokens."""
    table, _, _, _ = _tokenize.count_file(str(path))
    words = table.words()
    ids = _train.encode_file(str(path), 0, -1, _tokenize.WordHash.from_words(words), max_sentence)
    out, cur = [], []
    for i in ids.tolist():
        if i < 0:
            if cur:
                out.append(cur)
            cur = []
        else:
            cur.append(words[i].decode("utf-8", "surrogateescape"))
    return out + ([cur] if cur else [])


def c_counts(path):
    table, tokens, _, _ = _tokenize.count_file(str(path))
    return [w.decode("utf-8", "surrogateescape") for w in table.words()], table.counts().tolist(), tokens


def random_text(rng, n=3000, long_words=True):
    parts = [PIECES[i] for i in rng.integers(0, len(PIECES), size=n)]
    if long_words:
        for _ in range(3):  # tokens over the C reader's 1000-byte limit, cut mid-character
            k = int(rng.integers(0, n))
            parts.insert(k, b" " + b"x" * int(rng.integers(995, 1001)) + "é日".encode() * 5 + b" ")
    return b"".join(parts) + b"\n"  # (the C reader mis-reads a last word with no separator after it)


@pytest.fixture(params=[5, 64, 1 << 20], ids=["block5", "block64", "block1M"])
def block(request, monkeypatch):
    monkeypatch.setattr(corpus, "_BLOCK", request.param)
    return request.param


@pytest.mark.parametrize("seed", range(4))
def test_line_sentence_tokens_match_the_c_reader(tmp_path, block, seed):
    rng = np.random.default_rng(seed)
    data = random_text(rng)
    path = tmp_path / "c.txt"
    path.write_bytes(data)
    for max_len in (3, 10000):
        assert list(LineSentence(path, max_sentence_length=max_len)) == c_sentences(path, max_len)
    words, counts, tokens = c_counts(path)
    ours = Counter(w for s in LineSentence(path) for w in s)
    assert list(ours) == words and list(ours.values()) == counts and sum(counts) == tokens


def test_text8_tokens_match_the_c_reader(tmp_path, block):
    """Text8Corpus reads newlines as spaces: one stream, cut every N tokens."""
    data = random_text(np.random.default_rng(9)).replace(b"\n", b" ") + b"\n"
    path = tmp_path / "t8"
    path.write_bytes(data)
    for max_len in (1, 7, 10000):
        assert list(Text8Corpus(path, max_sentence_length=max_len)) == c_sentences(path, max_len)


def test_special_characters(tmp_path):
    path = tmp_path / "s.txt"
    path.write_bytes(b"a\x00b c\x1cd e\xc2\xa0f\r\n\n\x0bg\xffh \xe2\x80\x83 i\n" + b"z" * 1005 + b"\n")
    got = list(LineSentence(path))
    assert got == [["a", "b", "c\x1cd", "e\xa0f"], ["g\udcffh", "\u2003", "i"], ["z" * 1000]]
    assert got == c_sentences(path, 10000)
    cut = "x" * 998 + "é"  # 1000 bytes exactly
    path.write_bytes(("x" * 998 + "éé tail\n").encode())
    assert list(LineSentence(path)) == [[cut, "tail"]] == c_sentences(path, 10000)


def test_line_sentence_rules_match_gensim(tmp_path, block):
    gensim_w2v = pytest.importorskip("gensim.models.word2vec")
    lines = ["the quick brown fox", "", "  jumps   over\tthe lazy dog  ", "a " * 23, "end of file"]
    path = tmp_path / "g.txt"
    path.write_text("\n".join(lines), encoding="utf-8")  # no newline at the end
    for max_len in (4, 10000):
        for limit in (None, 0, 2, 4):
            ours = list(LineSentence(path, max_sentence_length=max_len, limit=limit))
            theirs = list(gensim_w2v.LineSentence(str(path), max_sentence_length=max_len, limit=limit))
            assert ours == theirs, (max_len, limit)
    # gensim's Text8Corpus: the whole file as one stream of words
    for max_len in (5, 10000):
        assert list(Text8Corpus(path, max_sentence_length=max_len)) == list(
            gensim_w2v.Text8Corpus(str(path), max_sentence_length=max_len)
        )


def test_long_line_is_cut(tmp_path, block):
    path = tmp_path / "long.txt"
    words = [f"w{i}" for i in range(25)]
    path.write_text(" ".join(words) + "\nshort line\n")
    assert list(LineSentence(path, max_sentence_length=10)) == [
        words[:10],
        words[10:20],
        words[20:],
        ["short", "line"],
    ]
    assert list(Text8Corpus(path, max_sentence_length=10)) == [
        words[:10],
        words[10:20],
        words[20:] + ["short", "line"],
    ]


@pytest.mark.parametrize("suffix, opener", [(".gz", gzip.open), (".bz2", bz2.open), (".xz", lzma.open)])
def test_compressed(tmp_path, suffix, opener):
    data = "one two\nthree é\n".encode()
    with opener(tmp_path / f"c.txt{suffix}", "wb") as f:
        f.write(data)
    (tmp_path / "plain.txt").write_bytes(data)
    assert list(LineSentence(tmp_path / f"c.txt{suffix}")) == [["one", "two"], ["three", "é"]]
    assert list(Text8Corpus(tmp_path / f"c.txt{suffix}")) == [["one", "two", "three", "é"]]
    assert list(PathLineSentences(tmp_path)) == [["one", "two"], ["three", "é"]] * 2


def test_reiterable_and_file_objects(tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes("a b\nc d é\n".encode())
    expected = [["a", "b"], ["c", "d", "é"]]
    ls = LineSentence(str(path))
    assert list(ls) == list(ls) == expected
    assert iter(ls) is not ls
    with open(path, "rb") as f:
        fs = LineSentence(f)
        assert list(fs) == list(fs) == expected
    with open(path, encoding="utf-8") as f:
        assert list(LineSentence(f)) == expected
    assert list(LineSentence(io.BytesIO(b"x y\nz"))) == [["x", "y"], ["z"]]
    assert list(LineSentence(io.StringIO("x y\nz"))) == [["x", "y"], ["z"]]

    class OneShot(io.RawIOBase):
        def __init__(self, data):
            self.buf = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, b):
            return self.buf.readinto(b)

    once = LineSentence(io.BufferedReader(OneShot(b"p q\n")))
    assert list(once) == [["p", "q"]]
    with pytest.raises(TypeError, match="only once"):
        list(once)


def test_argument_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        LineSentence(tmp_path / "missing.txt")
    with pytest.raises(IsADirectoryError, match="PathLineSentences"):
        LineSentence(tmp_path)
    (tmp_path / "f").write_text("a")
    with pytest.raises(ValueError):
        LineSentence(tmp_path / "f", max_sentence_length=0)
    with pytest.raises(ValueError):
        LineSentence(tmp_path / "f", limit=-1)
    with pytest.raises(FileNotFoundError):
        PathLineSentences(tmp_path / "nothing")
    os.mkdir(tmp_path / "empty")
    with pytest.raises(ValueError, match="no files"):
        PathLineSentences(tmp_path / "empty")


def test_path_line_sentences(tmp_path):
    (tmp_path / "b.txt").write_text("b1 b2\nb3\n")
    (tmp_path / "a.txt").write_text("a1\n" * 3)
    (tmp_path / "c.txt").write_text("c1 c2 c3 c4 c5")
    os.mkdir(tmp_path / "sub")
    (tmp_path / "sub" / "z.txt").write_text("never read\n")
    pls = PathLineSentences(tmp_path, max_sentence_length=2, limit=2)
    assert [os.path.basename(p) for p in pls.input_files] == ["a.txt", "b.txt", "c.txt"]
    expected = [["a1"], ["a1"], ["b1", "b2"], ["b3"], ["c1", "c2"], ["c3", "c4"], ["c5"]]
    assert list(pls) == list(pls) == expected
    assert list(PathLineSentences(tmp_path / "b.txt")) == [["b1", "b2"], ["b3"]]


def test_text8_memory_is_bounded(tmp_path, monkeypatch):
    """A 3 MB file on one line is read in blocks, never all at once."""
    monkeypatch.setattr(corpus, "_BLOCK", 1 << 14)
    rng = np.random.default_rng(0)
    vocab = np.array([f"word{i}" for i in range(5000)])
    path = tmp_path / "text8"
    with open(path, "w") as f:
        for _ in range(6):
            f.write(" ".join(vocab[rng.integers(0, 5000, size=60000)]) + " ")
    size = os.path.getsize(path)
    assert size > 3_000_000
    for reader in (Text8Corpus(path, max_sentence_length=1000), LineSentence(path, max_sentence_length=1000)):
        tracemalloc.start()
        n = 0
        try:
            for sentence in reader:
                assert len(sentence) <= 1000
                n += len(sentence)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert n == 6 * 60000
        assert peak < size / 5, peak  # reading it whole would take more than size


def test_model_from_line_sentence_equals_corpus_file(planted):
    """Same vocabulary, same sentences, same seed, one worker: identical
    vectors from the Python iterable path and the C file path (for a corpus
    of one iterable chunk: see the report on larger corpora)."""
    kw = dict(vector_size=16, window=3, min_count=2, workers=1, epochs=2, seed=5)
    from_file = Word2Vec(corpus_file=planted.path, **kw)
    from_lines = Word2Vec(LineSentence(planted.path), **kw)
    assert from_lines.wv.index_to_key == from_file.wv.index_to_key
    np.testing.assert_array_equal(from_lines.vocab.counts, from_file.vocab.counts)
    assert from_lines.corpus_count == from_file.corpus_count
    np.testing.assert_array_equal(from_lines.wv.vectors, from_file.wv.vectors)
    np.testing.assert_array_equal(from_lines.syn1neg, from_file.syn1neg)
    assert planted.precision(from_lines.wv) > 0.9


def test_model_from_unicode_corpus_has_the_same_keys(tmp_path):
    data = random_text(np.random.default_rng(3), n=20000)
    path = tmp_path / "u.txt"
    path.write_bytes(data)
    kw = dict(vector_size=8, min_count=1, workers=1, epochs=1, seed=1)
    a = Word2Vec(corpus_file=path, **kw)
    b = Word2Vec(LineSentence(path), **kw)
    assert a.wv.index_to_key == b.wv.index_to_key
    np.testing.assert_array_equal(a.vocab.counts, b.vocab.counts)


@pytest.mark.parametrize("max_sentence", [7, 10000])
def test_encode_file_across_chunks_matches_reference(tmp_path, max_sentence):
    """Over a million ids, so the encoder's read-ahead (tokens looked up in
    batches) carries over the trainer's 2^20-id chunks: the ids of a file are
    its known words in order, -1 at each newline and after every
    max_sentence ids of a line."""
    rng = np.random.default_rng(max_sentence)
    words = [f"w{i}" for i in range(5000)]
    known = {w.encode(): i for i, w in enumerate(words[:4000])}  # a fifth of the types unknown
    lines, n = [], 0
    while n < 1_300_000:
        k = int(rng.integers(0, 300))
        lines.append(" ".join(words[i] for i in rng.integers(0, 5000, size=k)).encode())
        n += k
    path = tmp_path / "big.txt"
    path.write_bytes(b"\n".join(lines) + b"\n")
    want = []
    for line in lines:
        run = 0
        for w in line.split():
            if w in known:
                want.append(known[w])
                run += 1
                if run >= max_sentence:
                    want.append(-1)
                    run = 0
        want.append(-1)
    table = _tokenize.WordHash.from_words(list(known))
    ids = _train.encode_file(str(path), 0, -1, table, max_sentence)
    assert len(ids) > (1 << 20)
    np.testing.assert_array_equal(ids, np.array(want, dtype=np.int32))


# ---- Python sentences to ids (the trainer's producer for corpus_iterable) ----


def reference_ids(sentences, index, max_sentence):
    """Unknown words dropped, -1 after each sentence and after every
    max_sentence kept words of a longer one (an empty sentence: a lone -1)."""
    out = []
    for s in sentences:
        ids = [index[w] for w in s if w in index]
        for start in range(0, max(len(ids), 1), max_sentence):
            out.extend(ids[start : start + max_sentence])
            out.append(-1)
    return out


@pytest.mark.parametrize("max_sentence", [1, 3, 4, 10000])
def test_encode_sentences_matches_reference(max_sentence):
    rng = np.random.default_rng(max_sentence)
    vocab = [f"w{i}" for i in range(50)]
    index = {w: i for i, w in enumerate(vocab)}
    word_lists = []
    for _ in range(400):
        n = int(rng.integers(0, 14))
        word_lists.append([vocab[i] if i < 50 else f"oov{i}" for i in rng.integers(0, 70, size=n)])
    word_lists.append(["w1"] * (3 * max_sentence if max_sentence < 100 else 5))  # an exact multiple
    want = reference_ids(word_lists, index, max_sentence)
    # lists, tuples and now and then a generator of tokens
    sentences = [tuple(w) if k % 7 == 0 else iter(w) if k % 11 == 0 else w for k, w in enumerate(word_lists)]
    got, raw, ended = [], 0, False
    it = iter(sentences)
    while not ended:
        ids, r, ended = _train.encode_sentences(it, index, max_sentence, 64, runtime.check_sentence)
        assert ids.dtype == np.int32
        got.extend(ids.tolist())
        raw += r
    assert got == want
    assert raw == sum(len(w) for w in word_lists)


def test_encode_sentences_chunks_stop_and_errors():
    index = {"a": 0, "b": 1}
    it = iter([["a", "b"]] * 10)
    ids, raw, ended = _train.encode_sentences(it, index, 100, 5, runtime.check_sentence)
    # whole sentences until at least 5 ids: two of three ids each
    assert ids.tolist() == [0, 1, -1, 0, 1, -1] and raw == 4 and not ended
    stop = np.ones(1, dtype=np.int32)
    ids, raw, ended = _train.encode_sentences(it, index, 100, 1000, runtime.check_sentence, stop)
    assert ids.tolist() == [0, 1, -1] and not ended  # the stop flag ends the pull after a sentence
    ids, raw, ended = _train.encode_sentences(it, index, 100, 1000, runtime.check_sentence)
    assert len(ids) == 7 * 3 and ended
    with pytest.raises(TypeError, match="list of str tokens"):
        _train.encode_sentences(iter([["a"], "a b"]), index, 100, 1000, runtime.check_sentence)
    with pytest.raises(TypeError, match="unhashable"):
        _train.encode_sentences(iter([["a", ["b"]]]), index, 100, 1000, runtime.check_sentence)
    with pytest.raises(TypeError, match="iterable of str tokens"):
        _train.encode_sentences(iter([["a"], 5]), index, 100, 1000, runtime.check_sentence)


def test_strings_as_sentences_rejected_in_training():
    model = Word2Vec(vector_size=8, min_count=1, workers=1)
    model.build_vocab(corpus_iterable=[["a", "b", "c"]])
    with pytest.raises(TypeError, match="list of str tokens"):
        model.train(corpus_iterable=[["a", "b"], "a b c"], total_examples=2, epochs=1)
