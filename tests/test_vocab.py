"""Vocabulary: ordering, min_count, max_final_vocab, and the two probability
tables (subsampling keep-probabilities, noise weights)."""

from __future__ import annotations

import numpy as np
import pytest

from sgns import Vocabulary, Word2Vec


def test_sorted_by_descending_count_ties_first_seen():
    words = ["c", "a", "b", "d", "e"]
    counts = [2, 5, 2, 5, 1]
    v = Vocabulary.from_counts(words, counts, min_count=1)
    assert v.words == ["a", "d", "c", "b", "e"]
    assert v.counts.tolist() == [5, 5, 2, 2, 1]
    assert v.index == {"a": 0, "d": 1, "c": 2, "b": 3, "e": 4}
    assert v.counts.dtype == np.int64


def test_ties_keep_first_seen_order_with_many_ties():
    # Counts cycle 3,1,2; each tie class must keep its input order.
    words = [f"w{i:03d}" for i in range(300)]
    counts = [(3, 1, 2)[i % 3] for i in range(300)]
    v = Vocabulary.from_counts(words, counts, min_count=1)
    assert v.words == (
        [w for w, c in zip(words, counts) if c == 3]
        + [w for w, c in zip(words, counts) if c == 2]
        + [w for w, c in zip(words, counts) if c == 1]
    )


def test_min_count_filters_and_totals():
    words = ["x", "y", "z", "w"]
    counts = [4, 1, 3, 2]
    v = Vocabulary.from_counts(words, counts, min_count=3, corpus_sentences=7)
    assert v.words == ["x", "z"]
    assert v.total_words == 7
    assert v.corpus_words == 10  # every token, in the vocabulary or not
    assert v.corpus_sentences == 7
    assert v.effective_min_count == 3
    assert len(v) == 2
    # min_count 0 keeps everything (but never words of count 0)
    v0 = Vocabulary.from_counts(words + ["never"], counts + [0], min_count=0)
    assert v0.words == ["x", "z", "w", "y"]


@pytest.mark.parametrize(
    "max_final, min_count, expected, effective",
    [
        # counts: a10 b8 c8 d5 e3 f3 g1
        (None, 1, ["a", "b", "c", "d", "e", "f", "g"], 1),
        (7, 1, ["a", "b", "c", "d", "e", "f", "g"], 1),
        (10, 1, ["a", "b", "c", "d", "e", "f", "g"], 1),
        (6, 1, ["a", "b", "c", "d", "e", "f"], 2),  # cut below e/f: g goes
        (5, 1, ["a", "b", "c", "d"], 4),  # e,f tie at the cut: both go
        (4, 1, ["a", "b", "c", "d"], 4),
        (3, 1, ["a", "b", "c"], 6),
        (2, 1, ["a"], 9),  # b,c tie at the cut: both go
        (1, 1, ["a"], 9),
        (5, 6, ["a", "b", "c"], 6),  # min_count already stricter
        (2, 9, ["a"], 9),
    ],
)
def test_max_final_vocab_raises_min_count(max_final, min_count, expected, effective):
    """gensim semantics: min_count is raised to (count of the word at rank
    max_final_vocab) + 1, so at most max_final_vocab words remain and all
    words tied at the cut are dropped."""
    words = ["a", "b", "c", "d", "e", "f", "g"]
    counts = [10, 8, 8, 5, 3, 3, 1]
    v = Vocabulary.from_counts(words, counts, min_count=min_count, max_final_vocab=max_final)
    assert v.words == expected
    assert v.effective_min_count == effective
    if max_final is not None:
        assert len(v) <= max_final


def test_keep_probabilities_formula():
    """word2vec.c: keep a word of frequency f with probability
    sqrt(t/f) + t/f, capped at 1."""
    counts = np.array([1000, 300, 100, 10, 1], dtype=np.int64)
    v = Vocabulary([f"w{i}" for i in range(5)], counts)
    total = counts.sum()
    for t in (1e-3, 1e-2, 0.05):
        f = counts / total
        expected = np.minimum(1.0, np.sqrt(t / f) + t / f)
        got = v.keep_probabilities(t)
        np.testing.assert_allclose(got, expected, rtol=1e-12)
        assert (got <= 1.0).all() and (got > 0).all()
    # spot value: t = 0.01, f = 1000/1411
    f0 = 1000 / 1411
    assert v.keep_probabilities(0.01)[0] == pytest.approx((0.01 / f0) ** 0.5 + 0.01 / f0)
    assert v.keep_probabilities(0.01)[0] < 0.2
    # rare words are always kept
    assert v.keep_probabilities(0.01)[-1] == 1.0
    assert v.keep_probabilities(0) is None
    assert v.keep_probabilities(0.0) is None


def test_noise_weights_are_count_to_the_075():
    counts = np.array([81, 16, 1, 7], dtype=np.int64)
    v = Vocabulary(["a", "b", "c", "d"], counts)
    np.testing.assert_allclose(v.noise_weights(0.75), counts.astype(float) ** 0.75, rtol=1e-12)
    assert v.noise_weights(0.75)[:3].tolist() == pytest.approx([27.0, 8.0, 1.0])
    np.testing.assert_allclose(v.noise_weights(1.0), counts)
    np.testing.assert_allclose(v.noise_weights(0.0), 1.0)


def test_duplicate_or_mismatched_words_rejected():
    with pytest.raises(ValueError):
        Vocabulary(["a", "a"], [1, 2])
    with pytest.raises(ValueError):
        Vocabulary(["a", "b"], [1])


# ---- through Word2Vec.build_vocab ------------------------------------------------

SENTENCES = [["the", "cat", "sat"], ["on", "the", "mat"], ["the", "dog", "sat", "on", "cat"], ["zebra"]]


def _file(tmp_path, sentences, name="c.txt"):
    p = tmp_path / name
    p.write_text("".join(" ".join(s) + "\n" for s in sentences), encoding="utf-8")
    return p


def test_build_vocab_from_sentences_and_file_agree(tmp_path):
    m1 = Word2Vec(vector_size=4, min_count=1, workers=1)
    m1.build_vocab(SENTENCES)
    m2 = Word2Vec(vector_size=4, min_count=1, workers=1)
    m2.build_vocab(corpus_file=_file(tmp_path, SENTENCES))
    # the 3, cat 2, sat 2, on 2 (first-seen: cat, sat, on), then mat dog zebra
    expected = ["the", "cat", "sat", "on", "mat", "dog", "zebra"]
    assert m1.vocab.words == expected
    assert m2.vocab.words == expected
    assert m1.vocab.counts.tolist() == m2.vocab.counts.tolist() == [3, 2, 2, 2, 1, 1, 1]
    assert m1.vocab.corpus_sentences == m2.vocab.corpus_sentences == 4
    assert m1.vocab.corpus_words == m2.vocab.corpus_words == 12
    assert m1.wv.index_to_key == expected
    assert m1.wv.get_vecattr("the", "count") == 3
    assert m1.wv.vectors.shape == (7, 4)
    assert m1.syn1neg.shape == (7, 4) and not m1.syn1neg.any()  # output vectors start at 0
    # input vectors uniform in ±1/vector_size (word2vec.c: ±0.5/vector_size)
    assert np.abs(m1.wv.vectors).max() <= 1 / 4
    assert np.abs(m1.wv.vectors).max() > 0.5 / 4


def test_build_vocab_min_count_and_max_final_vocab(tmp_path):
    m = Word2Vec(vector_size=4, min_count=2, workers=1)
    m.build_vocab(SENTENCES)
    assert m.vocab.words == ["the", "cat", "sat", "on"]
    m = Word2Vec(vector_size=4, min_count=1, max_final_vocab=3, workers=1)
    m.build_vocab(corpus_file=_file(tmp_path, SENTENCES))
    assert m.vocab.words == ["the"]  # cat/sat/on tie at the cut
    assert m.vocab.effective_min_count == 3


@pytest.mark.slow
def test_parallel_file_count_keeps_first_seen_order(tmp_path):
    """Files of 8 MB or more are counted in byte ranges on several threads;
    merging must keep global first-seen order and exact counts."""
    rng = np.random.default_rng(0)
    filler = [f"f{i}" for i in range(500)]
    lines = []
    ties = [f"tie{k}" for k in range(12)]
    tie_at = {int(x): ties[k] for k, x in enumerate(np.linspace(10, 179_000, 12))}
    for i in range(180_000):
        words = [filler[j] for j in rng.integers(0, 500, size=11)]
        if i in tie_at:
            words.insert(3, tie_at[i])
        lines.append(words)
    path = _file(tmp_path, lines)
    assert path.stat().st_size >= 8 << 20
    m_file = Word2Vec(vector_size=4, min_count=1, workers=4)
    m_file.build_vocab(corpus_file=path)
    m_iter = Word2Vec(vector_size=4, min_count=1, workers=1)
    m_iter.build_vocab(lines)
    assert m_file.vocab.words == m_iter.vocab.words
    assert m_file.vocab.counts.tolist() == m_iter.vocab.counts.tolist()
    assert m_file.vocab.words[-12:] == ties
    assert m_file.vocab.corpus_words == m_iter.vocab.corpus_words
    assert m_file.vocab.corpus_sentences == 180_000


# ---- max_vocab_size (gensim-style pruning while counting) ------------------------------

# Regression: count_file once pruned after every token instead of every sentence.


def test_max_vocab_size_prunes_per_sentence_like_gensim():
    """After each sentence, if more than max_vocab_size words are held, drop
    those seen fewer than min_reduce times, then min_reduce += 1."""
    sentences = [["a", "a", "b"], ["c"], ["a", "d"], ["b", "b", "b"]]
    m = Word2Vec(vector_size=4, min_count=1, max_vocab_size=2, workers=1)
    m.build_vocab(sentences)
    # after ["c"]: 3 words > 2, nothing below 1, min_reduce -> 2
    # after ["a","d"]: {a3 b1 c1 d1}, drop counts < 2 -> {a3}, min_reduce -> 3
    assert dict(zip(m.vocab.words, m.vocab.counts.tolist())) == {"a": 3, "b": 3}


def _zipf_corpus(tmp_path, n=3000, vocab=2000, seed=0):
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, vocab + 1)
    p /= p.sum()
    sentences = [[f"w{i}" for i in rng.choice(vocab, size=10, p=p)] for _ in range(n)]
    return sentences, _file(tmp_path, sentences)


@pytest.mark.parametrize("max_vocab_size", [100, 500])
def test_max_vocab_size_same_for_file_and_sentences(tmp_path, max_vocab_size):
    sentences, path = _zipf_corpus(tmp_path)
    a = Word2Vec(vector_size=4, min_count=1, max_vocab_size=max_vocab_size, workers=1)
    a.build_vocab(sentences)
    b = Word2Vec(vector_size=4, min_count=1, max_vocab_size=max_vocab_size, workers=1)
    b.build_vocab(corpus_file=path)
    assert dict(zip(b.vocab.words, b.vocab.counts.tolist())) == dict(
        zip(a.vocab.words, a.vocab.counts.tolist())
    )
