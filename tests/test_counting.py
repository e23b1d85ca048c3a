"""Vocabulary counting at scale: the exact two-pass count with a count filter
(csrc/countfilter.c), the compact word table, and the Huffman tree in C."""

from __future__ import annotations

import heapq
from collections import Counter

import numpy as np
import pytest

from sgns import KeyedVectors, Vocabulary, Word2Vec, _tokenize, _train, runtime


def zipf_text(rng, n_tokens: int, n_types: int, line: int = 50) -> bytes:
    """Zipf-distributed words w0, w1, ..., `line` words a line."""
    p = 1.0 / np.arange(1, n_types + 1)
    ids = rng.choice(n_types, size=n_tokens, p=p / p.sum())
    words = [b"w%d" % i for i in ids]
    return b"\n".join(b" ".join(words[i : i + line]) for i in range(0, n_tokens, line)) + b"\n"


def first_seen_counts(data: bytes) -> dict[bytes, int]:
    """Word -> count in first-seen order (Python 3.7+ dicts keep insertion order)."""
    return dict(Counter(data.split()))


def filtered(path, cap: int, nbytes: int, bounds: list[int]):
    """The two passes over path cut at bounds; returns (table before pruning, tokens, lines)."""
    f = _tokenize.CountFilter(nbytes, cap)
    scans = []
    filters = [_tokenize.CountFilter(nbytes, cap) for _ in bounds[1:-1]]
    for k, into in enumerate([f] + filters):
        scans.append(_tokenize.filter_file(path, bounds[k], bounds[k + 1], into))
    for other in filters:
        f.merge(other)
    table = _tokenize.count_filtered(path, bounds[0], bounds[1], f)
    for k in range(1, len(bounds) - 1):
        table.merge(_tokenize.count_filtered(path, bounds[k], bounds[k + 1], f))
    return table, sum(s[0] for s in scans), sum(s[1] for s in scans)


@pytest.mark.parametrize("cap", [2, 5, 37, 255])
@pytest.mark.parametrize("nbytes", [1, 1 << 16, 1 << 20])
@pytest.mark.parametrize("parts", [1, 3])
def test_filtered_counts_are_exact_and_in_first_seen_order(tmp_path, cap, nbytes, parts):
    """Every word counted at least cap times is in the table with its exact
    count, in first-seen order, whatever the filter size (a 4 KiB filter
    saturates and passes nearly everything; a large one passes few rare
    words) and however the file is cut."""
    data = zipf_text(np.random.default_rng(cap + parts), 60_000, 20_000)
    path = tmp_path / "c.txt"
    path.write_bytes(data)
    size = len(data)
    bounds = [size * k // parts for k in range(parts + 1)]
    table, tokens, lines = filtered(path, cap, nbytes, bounds)
    full = first_seen_counts(data)
    assert (tokens, lines) == (len(data.split()), data.count(b"\n"))
    got = dict(zip(table.words(), table.counts().tolist()))
    for w, c in got.items():  # false positives may remain, with exact counts
        assert c == full[w]
    table.prune(cap)
    assert table.words() == [w for w, c in full.items() if c >= cap]
    assert table.counts().tolist() == [c for c in full.values() if c >= cap]


def test_the_filter_keeps_rare_words_out_of_the_table(tmp_path):
    """The point of the filter: a corpus of mostly rare words leaves a table
    of about the kept words, not of every word type."""
    data = zipf_text(np.random.default_rng(0), 100_000, 200_000)
    path = tmp_path / "c.txt"
    path.write_bytes(data)
    full = first_seen_counts(data)
    kept = sum(c >= 5 for c in full.values())
    table, _, _ = filtered(path, 5, 1 << 20, [0, len(data)])
    assert len(full) > 10 * kept
    assert kept <= len(table) < 1.1 * kept


def test_filter_counters_saturate_at_cap_and_merge_saturating(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes(b"a " * 300 + b"b b\n")
    f = _tokenize.CountFilter(1 << 16, 3)
    assert _tokenize.filter_file(path, 0, -1, f) == (302, 1)
    # b (2 < 3) stays out, a passes
    assert _tokenize.count_filtered(path, 0, -1, f).words() == [b"a"]
    g = _tokenize.CountFilter(1 << 16, 3)
    _tokenize.filter_file(path, 0, -1, g)
    f.merge(g)  # b: 2 + 2 >= 3 over both "corpora"
    assert _tokenize.count_filtered(path, 0, -1, f).words() == [b"a", b"b"]
    with pytest.raises(ValueError, match="differ"):
        f.merge(_tokenize.CountFilter(1 << 20, 3))
    with pytest.raises(ValueError, match="cap"):
        _tokenize.CountFilter(1 << 16, 256)
    assert _tokenize.CountFilter(100, 5).nbytes == 4096


def test_filtered_counting_stops_on_the_flag(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes(b"a b c\n" * 400_000)  # 2.4 MB: more than one 1 MiB buffer
    raised = np.ones(1, dtype=np.int32)
    f = _tokenize.CountFilter(1 << 16, 2)
    tokens, _ = _tokenize.filter_file(path, 0, -1, f, stop=raised)
    assert tokens < 1_200_000
    assert _tokenize.filter_file(path, 0, -1, f, stop=np.zeros(1, np.int32))[0] == 1_200_000
    table = _tokenize.count_filtered(path, 0, -1, f, stop=raised)
    assert table.counts().sum() < 1_200_000


AWKWARD = (
    b"x" * 1500 + b" " + "é".encode() * 700 + b" " + b"x" * 1200 + b"\n"  # cut to the same 1000 bytes
    b"caf\xe9 \xff\xfe caf\xe9\x00caf\xe9\r\n\xff\xfe abcdefgh\x01ijklmnop abcdefgh\x01ijklmnop\n"
)


def test_build_vocab_from_a_file_equals_counting_every_word(tmp_path):
    """Word2Vec.build_vocab (filtered counting) gives the vocabulary that
    counting every word and filtering afterwards gives: same words, counts
    and order, for awkward bytes (cut long words, invalid UTF-8, NUL, control
    characters inside words) and a corpus cut into several ranges."""
    rng = np.random.default_rng(5)
    data = AWKWARD * 3 + zipf_text(rng, 1_900_000, 300_000)  # > 8 MiB: counted on 3 threads
    path = tmp_path / "c.txt"
    path.write_bytes(data)
    assert len(data) > 8 << 20
    whole, tokens, lines, _ = _tokenize.count_file(path)
    for min_count in (2, 3, 6):
        m = Word2Vec(vector_size=4, min_count=min_count, workers=3).build_vocab(corpus_file=path)
        want = Vocabulary.from_counts(
            [w.decode("utf-8", "surrogateescape") for w in whole.words()],
            whole.counts(),
            min_count=min_count,
            corpus_words=tokens,
            corpus_sentences=lines,
        )
        assert m.vocab.words == want.words
        assert m.vocab.counts.tolist() == want.counts.tolist()
        assert (m.vocab.corpus_words, m.vocab.corpus_sentences) == (tokens, lines)
        assert m.wv.key_to_index == want.index


def test_word_table_merge_prune_and_lookups():
    a = _tokenize.WordHash()
    b = _tokenize.WordHash()
    for i in range(5000):
        a.add(b"a%d" % i, i % 7)
        b.add(b"a%d" % (i + 2500), 1)
    a.merge(b)
    assert len(a) == 7500
    assert a.find(b"a2500") == 2500 and a.find(b"a7499") == 7499 and a.find(b"zzz") == -1
    assert a.counts()[2500] == 2500 % 7 + 1
    a.prune(6)
    assert a.words() == [b"a%d" % i for i in range(5000) if i % 7 + (i >= 2500) >= 6]
    assert all(a.find(w) == i for i, w in enumerate(a.words()))
    assert a.words_at(np.array([1, 0]), "utf-8") == [a.word(1).decode(), a.word(0).decode()]


def test_word_table_tag_collisions_compare_the_bytes(tmp_path):
    """Two words whose hashes share the 32 bits a slot keeps and the home slot
    of a 1024-slot table: a lookup that meets the other word's tag first must
    still compare the bytes, in the batched counting and encoding too."""
    a, b = b"c5Vkvaa", b"cZ1pDaa"  # found by searching 16M seven-byte words
    ha, hb = _tokenize.word_hash(a), _tokenize.word_hash(b)
    assert ha != hb and ha & 0xFFFFFFFF == hb & 0xFFFFFFFF and ha >> 54 == hb >> 54
    table = _tokenize.WordHash.from_words([a])
    assert table.find(a) == 0 and table.find(b) == -1
    path = tmp_path / "collide.txt"
    path.write_bytes(b"%s %s %s\n%s\n" % (b, a, b, b))
    assert _train.encode_file(str(path), 0, -1, table, 10000).tolist() == [0, -1, -1]
    counted, tokens, lines, _ = _tokenize.count_file(str(path), table=_tokenize.WordHash.from_words([a]))
    assert counted.words() == [a, b] and counted.counts().tolist() == [2, 3] and (tokens, lines) == (4, 2)
    merged = _tokenize.WordHash.from_words([a])
    merged.merge(_tokenize.count_file(str(path))[0])
    assert merged.words() == [a, b] and merged.counts().tolist() == [2, 3]


def test_word_table_refuses_words_beyond_its_limit():
    t = _tokenize.WordHash()
    longest = b"x" * _tokenize.MAX_TABLE_WORD_BYTES
    assert t.add(longest) == 0 and t.find(longest) == 0
    with pytest.raises(ValueError, match="longer than the word table's limit"):
        t.add(longest + b"x")
    with pytest.raises(ValueError, match="longer than the word table's limit"):
        _tokenize.WordHash.from_words([b"a", longest + b"x"])


def reference_huffman(counts):
    """word2vec.c's two-queue construction, written plainly."""
    v = len(counts)
    cnt = list(counts) + [0] * (v - 1)
    par, bit = [0] * (2 * v - 1), [0] * (2 * v - 1)
    leaf, inner = v - 1, v
    for a in range(v - 1):
        picks = []
        for _ in range(2):
            if leaf >= 0 and (inner >= v + a or cnt[leaf] < cnt[inner]):
                picks.append(leaf)
                leaf -= 1
            else:
                picks.append(inner)
                inner += 1
        cnt[v + a] = cnt[picks[0]] + cnt[picks[1]]
        par[picks[0]] = par[picks[1]] = v + a
        bit[picks[1]] = 1
    paths = []
    for i in range(v):
        p, c, node = [], [], i
        while node != 2 * v - 2:
            c.append(bit[node])
            node = par[node]
            p.append(node - v)
        paths.append((p[::-1], c[::-1]))
    return paths


@pytest.mark.parametrize("v", [2, 3, 17, 2000])
def test_huffman_in_c_matches_the_reference_and_is_optimal(v):
    rng = np.random.default_rng(v)
    counts = np.sort(rng.integers(1, 50, size=v))[::-1].copy()  # many ties
    offsets, points, codes = Vocabulary([f"w{i}" for i in range(v)], counts).huffman()
    for i, (p, c) in enumerate(reference_huffman(counts.tolist())):
        assert points[offsets[i] : offsets[i + 1]].tolist() == p
        assert codes[offsets[i] : offsets[i + 1]].tolist() == c
    # optimal: the weighted path length equals Huffman's cost (sum of merges)
    heap = counts.tolist()
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        s = heapq.heappop(heap) + heapq.heappop(heap)
        cost += s
        heapq.heappush(heap, s)
    assert int((np.diff(offsets) * counts).sum()) == cost
    assert points.dtype == np.int32 and codes.dtype == np.uint8 and offsets.dtype == np.int64


def test_keyed_vectors_reuse_a_given_index():
    index = {"b": 0, "a": 1}
    kv = KeyedVectors.from_arrays(["b", "a"], np.zeros((2, 3), np.float32), index=index)
    assert kv.key_to_index == index and kv.key_to_index is not index
    assert kv.index_to_key == ["b", "a"]


# ---- Python sentences (build_vocab(corpus_iterable=...)) ---------------------


def reference_sentence_counts(sentences, max_vocab_size):
    """The plain-Python count: first-seen order, pruned after a sentence that
    leaves more than max_vocab_size types (min_reduce 1, 2, ...)."""
    counts: dict = {}
    min_reduce = 1
    tokens = 0
    for s in sentences:
        for w in s:
            counts[w] = counts.get(w, 0) + 1
        tokens += len(s)
        if max_vocab_size and len(counts) > max_vocab_size:
            counts = {w: c for w, c in counts.items() if c >= min_reduce}
            min_reduce += 1
    return list(counts), list(counts.values()), tokens


@pytest.mark.parametrize("max_vocab_size", [0, 5, 40, 300])
def test_count_sentences_matches_plain_python(max_vocab_size):
    rng = np.random.default_rng(max_vocab_size)
    p = 1.0 / np.arange(1, 2001)
    word_lists = [
        [f"w{i}" for i in rng.choice(2000, size=int(rng.integers(0, 30)), p=p / p.sum())] for _ in range(3000)
    ]
    want_words, want_counts, want_tokens = reference_sentence_counts(word_lists, max_vocab_size)
    # lists, tuples and now and then a generator of tokens
    sentences = [tuple(w) if k % 5 == 0 else iter(w) if k % 7 == 0 else w for k, w in enumerate(word_lists)]
    words, counts, tokens, n = _tokenize.count_sentences(sentences, runtime.check_sentence, max_vocab_size)
    assert words == want_words
    assert counts.dtype == np.int64 and counts.tolist() == want_counts
    assert tokens == want_tokens and n == len(word_lists)


def test_count_sentences_refuses_strings_and_unhashable_tokens():
    with pytest.raises(TypeError, match="list of str tokens"):
        _tokenize.count_sentences([["a"], "a b"], runtime.check_sentence)
    with pytest.raises(TypeError, match="unhashable"):
        _tokenize.count_sentences([["a", ["b"]]], runtime.check_sentence)
    with pytest.raises(TypeError, match="iterable of str tokens"):
        _tokenize.count_sentences([["a"], 5], runtime.check_sentence)
    words, counts, tokens, n = _tokenize.count_sentences([], runtime.check_sentence)
    assert words == [] and counts.tolist() == [] and (tokens, n) == (0, 0)
