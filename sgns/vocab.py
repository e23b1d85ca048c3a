"""The vocabulary: word counts -> a sorted index, and the two probability
tables the trainer needs (subsampling keep-probabilities and the noise
distribution). This is the only module that turns counts into probabilities.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from sgns._tokenize import huffman as huffman_tree
from sgns.textfiles import decode_word, encode_word

# word2vec.c's sentence token: the first entry of a vocabulary file, counting
# sentences. It is never a vocabulary word (a literal "</s>" in a corpus is
# skipped), so a saved vocabulary file always reads back.
SENTENCE_TOKEN = "</s>"
# Counts and their sum live in int64 (the trainer's word counter too).
MAX_COUNT = 2**63 - 1


def check_keys(words: Iterable) -> None:
    """Refuse keys that cannot be saved and loaded back unchanged: non-str
    tokens (bytes, numbers), and str keys whose surrogates do not stand for
    invalid bytes -- "\\udcc3\\udca9" is the escaped form of the valid UTF-8
    of "é" (the two would be one word in a file), "\\ud800" has no bytes at all."""
    for w in words:
        if not isinstance(w, str):
            hint = f" (decode it first: {w!r}.decode('utf-8'))" if isinstance(w, (bytes, bytearray)) else ""
            raise TypeError(f"tokens must be str, got {type(w).__name__} {w!r}{hint}")
        if w.isascii():
            continue
        try:
            same = decode_word(encode_word(w)) == w
        except UnicodeEncodeError:
            same = False
        if not same:
            raise ValueError(
                f"key {w!r} contains surrogates that are not the escapes of invalid UTF-8 bytes, "
                "so it cannot be saved and read back; decode your text with "
                "errors='surrogateescape' (or 'strict'), not by hand"
            )


def check_total(counts: np.ndarray) -> int:
    """The sum of non-negative int64 counts, refused past 2**63 - 1 (numpy
    would wrap it around)."""
    total = float(counts.sum(dtype=np.float64)) if len(counts) else 0.0
    exact = int(sum(counts.tolist())) if total >= 2.0**62 else int(counts.sum())
    if exact > MAX_COUNT:
        raise ValueError(f"the word counts add up to {exact}, more than 2**63 - 1")
    return exact


def keep_probabilities(counts: np.ndarray, sample: float, total: int | None = None) -> np.ndarray | None:
    """Subsampling keep-probability of each count: sqrt(t/f) + t/f capped at
    1, f = count / total (default: the sum of counts), t = sample. None if
    sample <= 0."""
    if sample <= 0 or len(counts) == 0:
        return None
    threshold = sample * float(np.sum(counts) if total is None else total)
    c = np.asarray(counts, dtype=np.float64)
    return np.minimum(1.0, (np.sqrt(c / threshold) + 1.0) * threshold / c)


class Vocabulary:
    """Words sorted by descending count (ties keep first-seen order).

    Attributes:
        words: index -> word.
        counts: raw corpus count of each word (int64).
        index: word -> index.
        corpus_words: tokens in the corpus, in or out of the vocabulary.
        corpus_sentences: sentences (lines) in the corpus.
        effective_min_count: the min_count finally applied.
    """

    def __init__(
        self,
        words: Sequence[str],
        counts: np.ndarray,
        *,
        corpus_words: int = 0,
        corpus_sentences: int = 0,
        effective_min_count: int = 1,
    ):
        self.words = list(words)
        self.counts = np.asarray(counts, dtype=np.int64)
        if len(self.words) != len(self.counts):
            raise ValueError("words and counts differ in length")
        check_total(self.counts)
        self.index = dict(zip(self.words, range(len(self.words))))
        if len(self.index) != len(self.words):
            raise ValueError("duplicate words in vocabulary")
        self.corpus_words = int(corpus_words)
        self.corpus_sentences = int(corpus_sentences)
        self.effective_min_count = int(effective_min_count)

    @classmethod
    def from_counts(
        cls,
        words: Sequence[str],
        counts: Iterable[int],
        *,
        min_count: int = 5,
        max_final_vocab: int | None = None,
        corpus_words: int | None = None,
        corpus_sentences: int = 0,
    ) -> Vocabulary:
        """Sort and filter raw counts given in first-seen order.

        max_final_vocab raises min_count (as gensim does) until at most that
        many words remain; words tied at the cut all go.
        """
        counts = np.asarray(list(counts) if not isinstance(counts, np.ndarray) else counts, dtype=np.int64)
        raw_total = check_total(counts)
        order = np.argsort(-counts, kind="stable")
        sorted_counts = counts[order]
        effective = max(int(min_count), 1)
        if max_final_vocab is not None and np.count_nonzero(sorted_counts >= effective) > max_final_vocab:
            effective = max(effective, int(sorted_counts[max_final_vocab]) + 1)
        keep = order[sorted_counts >= effective]
        total = raw_total if corpus_words is None else int(corpus_words)
        # (indexing an object array creates no int object per word)
        kept = words.take(keep) if hasattr(words, "take") else np.array(words, dtype=object)[keep].tolist()
        kept = list(kept)
        if SENTENCE_TOKEN in kept:  # a literal "</s>" of the corpus: not a word
            at = kept.index(SENTENCE_TOKEN)
            kept, keep = kept[:at] + kept[at + 1 :], np.delete(keep, at)
        return cls(
            kept,
            counts[keep],
            corpus_words=total,
            corpus_sentences=corpus_sentences,
            effective_min_count=effective,
        )

    def __len__(self) -> int:
        return len(self.words)

    @property
    def total_words(self) -> int:
        """In-vocabulary tokens of the corpus: the words one epoch trains on."""
        return int(self.counts.sum())

    def keep_probabilities(self, sample: float) -> np.ndarray | None:
        """word2vec.c's subsampling: keep a word of frequency f = count/total
        with probability sqrt(t/f) + t/f (capped at 1). None if sample <= 0."""
        return keep_probabilities(self.counts, sample, self.total_words)

    def noise_weights(self, ns_exponent: float) -> np.ndarray:
        """Unnormalised noise distribution count^ns_exponent."""
        return np.power(self.counts.astype(np.float64), ns_exponent)

    def huffman(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """word2vec.c's Huffman tree over the counts, for hierarchical softmax.

        Returns (offsets, points, codes): word i's path from the root is
        points[offsets[i]:offsets[i+1]] (inner-node indices, 0..V-2, the root
        is V-2) and codes[...] the branch taken at each (0 or 1). Built with
        the two-queue method on the descending counts, in C: O(V).
        """
        if len(self) < 2:
            raise ValueError("hierarchical softmax needs at least 2 words in the vocabulary")
        return huffman_tree(self.counts)

    def raw_words(self) -> list[bytes]:
        return [encode_word(w) for w in self.words]
