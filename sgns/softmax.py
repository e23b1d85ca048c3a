"""Full-softmax skip-gram: the textbook model that SGNS approximates.

    P(c | w) = exp(v_w . u_c) / sum_k exp(v_w . u_k)

v_w is the input ("centre") vector of w, u_c the output vector of c. The
loss of a (centre, context) pair is the cross-entropy -log P(c | w); its
gradient touches every output vector u_k, which is why the model costs
O(V D) per pair where SGNS costs O(K D) (see bench/bottleneck.py).

Training is plain minibatch SGD with matrix products (numpy BLAS). For a
batch of B pairs with centre vectors V_b (B x D) and one-hot targets Y:

    logits = V_b @ U.T                          (B x V)
    P      = softmax(logits)                    (row-wise, via a stable log-softmax)
    grad_U = (P - Y).T @ V_b                    (V x D)
    grad_V = (P - Y) @ U                        (B x D, scattered back to the centres)

These are the gradients of the batch's *summed* loss, and every step is
``W -= alpha * grad``: each pair contributes with learning rate alpha, as in
word2vec.c's per-pair SGD, except that the B pairs of a batch are applied
together from the same (old) weights. alpha decays linearly from `alpha` to
`min_alpha` over all epochs, by corpus position (word2vec.c's schedule).

Pairs come from word2vec.c's reduced window: each centre word draws its
radius uniformly from 1..window and pairs with every word of its sentence
within that radius (both sides, itself excluded). Unlike word2vec.c there
is no subsampling, the centre word is the input (word2vec.c's skip-gram
trains the context word's vector against the centre's output vector; the
pairs are the same in distribution), and the pairs of each chunk of up to
`chunk_words` centre positions are shuffled before batching, as usual for
minibatch SGD.

Memory is O(V D) for the weights plus O(B V) per batch, and time is
O(V D) per pair: this is for small vocabularies. Above `max_vocab` words
(default 50,000) training is refused with the memory and work it would take.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Sequence

import numpy as np

from sgns.keyedvectors import KeyedVectors
from sgns.vocab import Vocabulary

logger = logging.getLogger(__name__)

__all__ = ["SoftmaxSkipGram", "batch_loss_and_grads", "sgd_step", "skipgram_pairs"]

_CHUNK_WORDS = 1 << 20


def batch_loss_and_grads(
    v_batch: np.ndarray, out: np.ndarray, contexts: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Summed cross-entropy of a batch of pairs and its full gradient.

    v_batch: (B, D) centre (input) vectors; out: (V, D) output vectors U;
    contexts: (B,) the target word of each row. Returns (loss, grad_v,
    grad_out): loss = sum_b -log softmax(v_b U^T)[c_b] as a Python float
    (accumulated in float64), grad_v (B, D) the gradient with respect to
    each row of v_batch, grad_out (V, D) with respect to U. Computed in the
    dtype of the inputs.
    """
    contexts = np.asarray(contexts, dtype=np.intp)
    rows = np.arange(len(contexts))
    g = v_batch @ out.T  # logits, then shifted, then P - Y
    g -= g.max(axis=1, keepdims=True)
    target = g[rows, contexts].astype(np.float64)
    np.exp(g, out=g)
    z = g.sum(axis=1, keepdims=True)
    loss = float(np.sum(np.log(z[:, 0].astype(np.float64)) - target))
    g /= z
    g[rows, contexts] -= 1
    # numpy's matmul has no BLAS path for an inner dimension of 1: np.outer is 4x faster there
    grad_out = np.outer(g[0], v_batch[0]) if len(g) == 1 else g.T @ v_batch
    return loss, g @ out, grad_out


def sgd_step(
    vin: np.ndarray, out: np.ndarray, centres: np.ndarray, contexts: np.ndarray, alpha: float
) -> float:
    """One SGD step in place on a batch of (centre, context) pairs: the
    gradients of the summed loss, both from the weights before the step,
    times alpha. A centre repeated in the batch gets the sum of its rows'
    gradients. Returns the batch's summed loss before the step."""
    centres = np.asarray(centres, dtype=np.intp)
    loss, grad_v, grad_out = batch_loss_and_grads(vin[centres], out, contexts)
    step = out.dtype.type(alpha)
    grad_out *= step
    out -= grad_out
    grad_v *= step
    np.subtract.at(vin, centres, grad_v)
    return loss


def skipgram_pairs(
    ids: np.ndarray, window: int, rng: np.random.Generator, start: int = 0, stop: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(centres, contexts) of word2vec.c's reduced window over an id array.

    ids: 1-D integer array of word ids, -1 marking sentence ends (pairs never
    cross one). Centre positions start..stop-1 each draw a radius uniformly
    from 1..window; contexts may lie outside [start, stop). Pairs are in
    order of offset, not of position. Returns two int32 arrays.
    """
    n = len(ids)
    stop = n if stop is None else min(stop, n)
    lo, hi = max(0, start - window), min(n, stop + window)
    seg = np.asarray(ids[lo:hi])
    sent = np.cumsum(seg < 0)  # sentence number of each position
    radius = np.zeros(hi - lo, dtype=np.int64)
    radius[start - lo : stop - lo] = window - rng.integers(0, window, size=stop - start)
    valid = seg >= 0
    centres, contexts = [], []
    for off in range(1, window + 1):
        if off >= hi - lo:
            break
        same = (sent[:-off] == sent[off:]) & valid[:-off] & valid[off:]
        right = same & (radius[:-off] >= off)  # centre i, context i + off
        left = same & (radius[off:] >= off)  # centre i + off, context i
        centres += [seg[:-off][right], seg[off:][left]]
        contexts += [seg[off:][right], seg[:-off][left]]
    if not centres:
        empty = np.zeros(0, dtype=np.int32)
        return empty, empty.copy()
    return (
        np.concatenate(centres).astype(np.int32, copy=False),
        np.concatenate(contexts).astype(np.int32, copy=False),
    )


def memory_bytes(n_words: int, vector_size: int, batch_size: int, itemsize: int = 4) -> int:
    """Approximate peak memory of training: input, output and gradient
    matrices (3 V D) plus about two (B, V) batch arrays."""
    return itemsize * (3 * n_words * vector_size + 2 * batch_size * n_words)


class SoftmaxSkipGram:
    """Skip-gram with a full softmax output layer, trained by minibatch SGD.

    After training: `wv` (KeyedVectors of the input vectors, most frequent
    word first), `output_vectors` (V x D), `vocab` (Vocabulary),
    `loss_history` (mean cross-entropy per pair of each epoch, float64, in
    nats, each pair's loss taken before its step) and `pairs_trained`.

    Parameters
    ----------
    sentences
        Optional re-iterable of token lists; given, the model is built and
        trained at once (as Word2Vec).
    vector_size
        Dimensions D (100).
    window
        Maximum radius (5), reduced per centre word as in word2vec.c.
    min_count
        Drop rarer words (5).
    epochs
        Passes over the corpus (5).
    alpha, min_alpha
        Learning rate per pair, linear decay over all epochs (0.025 -> 0.0001).
    batch_size
        Pairs per SGD step (128).
    seed
        RNG seed (1); training is deterministic for a given seed.
    dtype
        float32 (default, fast) or float64.
    max_vocab
        Refuse vocabularies larger than this (50,000); None: no limit.

    """

    def __init__(
        self,
        sentences: Iterable[Sequence[str]] | None = None,
        *,
        vector_size: int = 100,
        window: int = 5,
        min_count: int = 5,
        epochs: int = 5,
        alpha: float = 0.025,
        min_alpha: float = 0.0001,
        batch_size: int = 128,
        seed: int = 1,
        dtype=np.float32,
        max_vocab: int | None = 50_000,
        chunk_words: int = _CHUNK_WORDS,
    ):
        for name, value, least in (
            ("vector_size", vector_size, 1),
            ("window", window, 1),
            ("min_count", min_count, 0),
            ("epochs", epochs, 1),
            ("batch_size", batch_size, 1),
            ("chunk_words", chunk_words, 1),
        ):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < least:
                raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
        if not (math.isfinite(alpha) and alpha > 0 and 0 <= min_alpha <= alpha):
            raise ValueError(f"need alpha > 0 and 0 <= min_alpha <= alpha, got {alpha}, {min_alpha}")
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError("dtype must be float32 or float64")
        self.vector_size = int(vector_size)
        self.window = int(window)
        self.min_count = int(min_count)
        self.epochs = int(epochs)
        self.alpha = float(alpha)
        self.min_alpha = float(min_alpha)
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.max_vocab = max_vocab
        self.chunk_words = int(chunk_words)
        self.vocab: Vocabulary | None = None
        self.wv = KeyedVectors(self.vector_size)
        self.output_vectors = np.zeros((0, self.vector_size), dtype=self.dtype)
        self.loss_history: list[float] = []
        self.pairs_trained = 0
        if sentences is not None:
            self.build_vocab(sentences)
            self.train(sentences)

    # ---- vocabulary -----------------------------------------------------------

    def build_vocab(
        self, sentences: Iterable[Sequence[str]] | None = None, *, vocab: Vocabulary | None = None
    ) -> SoftmaxSkipGram:
        """Count the sentences (or take `vocab`) and initialise the weights:
        input vectors uniform in ±1/D (as sgns.Word2Vec), outputs zero."""
        if vocab is None:
            if sentences is None:
                raise TypeError("give sentences or vocab")
            counts: dict[str, int] = {}
            n_tokens = n_sentences = 0
            for sentence in sentences:
                if isinstance(sentence, str):
                    raise TypeError("sentences must be lists of tokens, not strings")
                n_sentences += 1
                for w in sentence:
                    counts[w] = counts.get(w, 0) + 1
                n_tokens += len(sentence)
            vocab = Vocabulary.from_counts(
                list(counts),
                list(counts.values()),
                min_count=self.min_count,
                corpus_words=n_tokens,
                corpus_sentences=n_sentences,
            )
        n = len(vocab)
        if n < 2:
            raise ValueError(f"the softmax needs at least 2 words in the vocabulary, got {n}")
        if self.max_vocab is not None and n > self.max_vocab:
            need = memory_bytes(n, self.vector_size, self.batch_size, self.dtype.itemsize)
            raise ValueError(
                f"full softmax over {n:,} words is refused (max_vocab={self.max_vocab:,}): it would "
                f"need about {need / 2**20:,.0f} MB and {6 * n * self.vector_size / 1e6:,.1f} "
                f"MFLOP per training pair (SGNS with 5 negatives: "
                f"{36 * self.vector_size / 1e6:.4f}); raise min_count, or pass max_vocab=None"
            )
        self.vocab = vocab
        rng = np.random.default_rng(self.seed)
        vin = rng.random((n, self.vector_size)).astype(self.dtype)
        vin = (2 * vin - 1) / self.dtype.type(self.vector_size)
        self.wv = KeyedVectors.from_arrays(vocab.words, vin.astype(self.dtype, copy=False), vocab.counts)
        self.output_vectors = np.zeros((n, self.vector_size), dtype=self.dtype)
        self.loss_history = []
        self.pairs_trained = 0
        return self

    def encode(self, sentences: Iterable[Sequence[str]]) -> np.ndarray:
        """Sentences -> one int32 id array, -1 after each sentence; words
        not in the vocabulary are dropped (before windowing, as word2vec.c)."""
        if self.vocab is None:
            raise RuntimeError("build_vocab() first")
        index = self.vocab.index
        parts: list[int] = []
        for sentence in sentences:
            if isinstance(sentence, str):
                raise TypeError("sentences must be lists of tokens, not strings")
            parts.extend(index[w] for w in sentence if w in index)
            parts.append(-1)
        return np.asarray(parts, dtype=np.int32)

    # ---- training -----------------------------------------------------------

    def train(
        self,
        sentences: Iterable[Sequence[str]] | None = None,
        *,
        ids: np.ndarray | None = None,
        epochs: int | None = None,
    ) -> SoftmaxSkipGram:
        """Train on sentences (token lists) or on `ids`, a 1-D array of this
        model's vocabulary ids with -1 between sentences. Appends one mean
        loss per epoch to loss_history."""
        if self.vocab is None:
            if sentences is None:
                raise RuntimeError("build_vocab() first (or pass sentences)")
            self.build_vocab(sentences)
        if (sentences is None) == (ids is None):
            raise TypeError("give exactly one of sentences or ids")
        if sentences is not None:
            ids = self.encode(sentences)
        ids = np.asarray(ids)
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError("ids must be a 1-D integer array")
        n_words = len(self.vocab) if self.vocab is not None else 0
        if len(ids) and (ids.min() < -1 or ids.max() >= n_words):
            raise ValueError(f"ids must be in -1..{n_words - 1}")
        epochs = self.epochs if epochs is None else int(epochs)
        vin, out = self.wv.vectors, self.output_vectors
        n = len(ids)
        total = max(1, epochs * n)
        rng = np.random.default_rng(self.seed + 1)
        for epoch in range(epochs):
            t0 = time.perf_counter()
            loss_sum, pairs = 0.0, 0
            for start in range(0, n, self.chunk_words):
                stop = min(n, start + self.chunk_words)
                centres, contexts = skipgram_pairs(ids, self.window, rng, start, stop)
                order = rng.permutation(len(centres))
                centres, contexts = centres[order], contexts[order]
                for b in range(0, len(centres), self.batch_size):
                    # linear decay by corpus position, interpolated inside the chunk
                    frac = (epoch * n + start + (stop - start) * b / max(1, len(centres))) / total
                    alpha = self.alpha - (self.alpha - self.min_alpha) * frac
                    loss_sum += sgd_step(
                        vin, out, centres[b : b + self.batch_size], contexts[b : b + self.batch_size], alpha
                    )
                pairs += len(centres)
            self.wv.norms = None
            mean = loss_sum / pairs if pairs else float("nan")
            self.loss_history.append(mean)
            self.pairs_trained += pairs
            secs = time.perf_counter() - t0
            logger.info(
                "softmax skip-gram epoch %d/%d: %d pairs, mean loss %.4f nats/pair, %.1fs (%.0f pairs/s)",
                epoch + 1,
                epochs,
                pairs,
                mean,
                secs,
                pairs / max(secs, 1e-9),
            )
        return self

    def loss(
        self,
        sentences: Iterable[Sequence[str]] | None = None,
        *,
        ids: np.ndarray | None = None,
        seed: int = 0,
    ) -> float:
        """Mean cross-entropy per pair of the current weights over one pass
        of pairs drawn from the corpus (reduced window with `seed`), no update."""
        if (sentences is None) == (ids is None):
            raise TypeError("give exactly one of sentences or ids")
        ids = self.encode(sentences) if sentences is not None else np.asarray(ids)
        centres, contexts = skipgram_pairs(ids, self.window, np.random.default_rng(seed))
        total = 0.0
        for b in range(0, len(centres), self.batch_size):
            c = centres[b : b + self.batch_size].astype(np.intp)
            logits = self.wv.vectors[c] @ self.output_vectors.T
            m = logits.max(axis=1)
            lse = m + np.log(np.exp(logits - m[:, None]).sum(axis=1))
            total += float(
                np.sum(lse.astype(np.float64) - logits[np.arange(len(c)), contexts[b : b + self.batch_size]])
            )
        return total / len(centres) if len(centres) else float("nan")

    def __repr__(self) -> str:
        n = len(self.vocab) if self.vocab is not None else 0
        return (
            f"SoftmaxSkipGram<vocab={n}, vector_size={self.vector_size}, window={self.window}, "
            f"epochs={self.epochs}, batch_size={self.batch_size}>"
        )
