"""Word2Vec: hyperparameters, vocabulary building (and updating) and
multi-threaded training. The weight matrices are float32 numpy arrays; the C
kernels train them in place, one GIL-free call per worker per epoch (corpus
files) or per chunk of sentences (Python iterables). Threads, progress,
seeds and corpus-file helpers live in sgns.runtime."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from sgns import guards, padded_rows, persist, runtime
from sgns._tokenize import WordHash, count_sentences
from sgns._train import MAX_NEGATIVE, Trainer, active_kernels, encode_sentences
from sgns.keyedvectors import KeyedVectors
from sgns.runtime import EpochReport, Progress
from sgns.textfiles import plain_file
from sgns.threads import run_in_threads, split_range
from sgns.vocab import SENTENCE_TOKEN, Vocabulary, check_keys

logger = logging.getLogger(__name__)

__all__ = ["EpochReport", "Progress", "TrainingPlan", "Word2Vec", "extend_vocab", "uniform_rows"]

# Chunk of sentence ids handed to a worker in iterable mode.
_ITER_CHUNK = 1 << 16
# Rows of each matrix checked for NaN at every progress tick (0.1 s, ~5 us).
_WATCHED_ROWS = 64
# Hierarchical softmax with several workers: inner nodes nearest the root that
# each worker trains on its own copy, merged every few hundred centre words
# (shared, they are written by every worker on every pair: 2 workers ran slower than 1).
HS_PRIVATE_TOP_NODES = 64
# The same for negative sampling: the output rows of the most frequent words
# (vocabulary order), which every worker writes as noise rows all the time
# (2 workers, corpus8.1k, 1 epoch: -8% train time at D = 100 and 300, -12% in
# the exact mode; 1024 rows cost more to merge than they save).
NS_PRIVATE_ROWS = 64


# Bytes uniform_rows draws at a time: under glibc's initial mmap threshold
# (128 KiB), so the temporary is reused from the heap. A freed block above
# it raises the threshold, and later large buffers (the cached ids) then stay
# in the heap after use: 12 MB more peak RSS on corpus8.1k at D = 100.
_INIT_BLOCK_BYTES = 96 << 10

# The models inside train() or build_vocab(): id(model) -> (the call, its thread).
_BUSY: dict[int, tuple[str, int]] = {}
_BUSY_LOCK = threading.Lock()


@contextlib.contextmanager
def _exclusive(model, call: str):
    """One train() or build_vocab() at a time per model. Another one from a
    second thread (or a callback) would share the workers' state or swap the
    arrays they write for new ones, and its training would be lost. The same
    call may nest in its own thread (a subclass calling super(), the MPI
    backend calling build_vocab)."""
    me = (call, threading.get_ident())
    with _BUSY_LOCK:
        busy = _BUSY.get(id(model))
        if busy is not None and busy != me:
            raise RuntimeError(
                f"{call} called while {busy[0]} runs on this model; "
                f"wait for {busy[0]} to return (one train() or build_vocab() at a time)"
            )
        _BUSY[id(model)] = me
    try:
        yield
    finally:
        if busy is None:
            with _BUSY_LOCK:
                del _BUSY[id(model)]


def _one_at_a_time(method):
    """Run the method inside _exclusive(model, "name()")."""
    call = f"{method.__name__}()"

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        with _exclusive(self, call):
            return method(self, *args, **kwargs)

    return guarded


def uniform_rows(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    """Initial input vectors: float32 uniform in ±1/dim (as gensim; word2vec.c
    uses ±0.5/dim, which measured about 0.5 point worse on analogies and 1
    point on WS353). Rows padded to whole cache lines (sgns.padded_rows), drawn a
    block at a time: the same numbers as one draw of the whole matrix."""
    out = padded_rows.zeros(n, dim)
    step = max(1, _INIT_BLOCK_BYTES // (4 * dim))
    for s in range(0, n, step):
        block = rng.random((min(step, n - s), dim), dtype=np.float32)
        block *= np.float32(2.0)
        block -= np.float32(1.0)
        block /= np.float32(dim)
        out[s : s + len(block)] = block
    return out


@dataclass
class TrainingPlan:
    """The resolved arguments of one train() call: words per epoch, epochs,
    learning-rate range, loss, progress, callbacks, and the subsampling and
    noise tables the kernel needs."""

    per_epoch: int
    epochs: int
    alpha0: float
    alpha1: float
    compute_loss: bool
    progress: object
    callbacks: list = field(default_factory=list)
    keep: np.ndarray | None = None
    alpha_param: str = "alpha"  # the argument that set alpha0, named when training diverges
    noise: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def total_words(self) -> int:
        return self.per_epoch * self.epochs


class Word2Vec:
    """Skip-gram with negative sampling (SGNS), word2vec.c semantics.

    Skip-gram is the default (sg=1; gensim defaults to CBOW). sg=0 trains
    CBOW (cbow_mean=1: mean of the context vectors, 0: their sum); hs=1 adds
    hierarchical softmax over word2vec.c's Huffman tree (alone with
    negative=0, or together with negative sampling, as word2vec.c allows).
    The parameters have gensim's names and word2vec.c's meaning.

    Parameters
    ----------
    sentences, corpus_iterable
        A re-iterable of token lists.
    corpus_file
        Path to a whitespace-tokenised text file, one sentence a line (the
        fast path: read and tokenised in C; .gz/.bz2/.xz are decompressed to
        a temporary file first).
    vector_size
        Dimensions.
    window
        Maximum context radius (the radius is drawn uniformly from
        1..window for each word, as word2vec.c).
    min_count
        Drop words rarer than this.
    max_final_vocab
        Raise min_count until at most this many words remain.
    max_vocab_size
        Bound the word table while counting (gensim-style pruning of rare
        words), None for no bound.
    sample
        Subsampling threshold t; a word of frequency f is kept with
        probability sqrt(t/f) + t/f. 0 disables.
    negative
        Noise words per positive pair, drawn from unigram^ns_exponent.
    alpha, min_alpha
        Learning rate, decayed linearly over all epochs by a word counter
        shared by all threads.
    epochs
        Passes over the corpus.
    workers
        Threads (default: the number of CPUs).
    seed
        Random seed; with workers=1 training is bit-for-bit repeatable.
    shared_negatives
        True or 1 (default): draw one set of negatives per centre word and
        update all its context words against it in one dense block
        (pWord2Vec's "HogBatch"): about 2x faster, and on the benchmark corpus
        as good as or better than the per-pair update. False or 0: word2vec.c's
        update, fresh negatives for every pair. An integer N >= 2 (skip-gram,
        up to 16): N consecutive centre words share one draw
        and one block of their overlapping windows, so each noise row and each
        input row is read once for all of them (every pair still meets
        `negative` noise words; they are shared by more pairs). Faster; its
        measured speed and quality are in bench/README.md. Negative sampling
        only: with hs=1 every pair is updated on its own, as word2vec.c does
        (sharing the window's update cost SG+HS about 0.02 analogy accuracy on
        the benchmark corpus).
    compute_loss
        Accumulate the SGNS loss per epoch (float64).
    max_sentence_length
        Longer sentences are cut into pieces (10000).
    corpus_cache_mb
        A corpus_file whose word ids (4 bytes a word) fit in this many MB is
        read once and kept in memory as ids; a larger one is streamed from
        disk every epoch in bounded memory. 0: always stream.
    callbacks
        Objects with optional on_train_begin(model), on_epoch_begin(model),
        on_epoch_end(model), on_train_end(model).
    progress
        True for a tqdm bar, or a callable receiving a Progress about twice
        a second.
    distributed
        "mpi" trains a corpus_file across the processes of an MPI launch
        (mpirun -np N python ...; needs mpi4py: sgns[mpi]); every rank
        returns the same model. Outside mpirun, or without mpi4py, training
        is single-process as usual. See sgns.distributed.
    sync_words
        With distributed="mpi", words each process trains between
        synchronisations (default: 100000 for 2 processes, 40000 / processes
        for more).
    """

    # train() runs the model's own callbacks (given to the constructor) before
    # its own; gensim's runs only those given to it (sgns.gensim sets False).
    _train_runs_model_callbacks = True

    keyed_vectors_class = KeyedVectors  # the class of model.wv
    # CBOW over the sum (cbow_mean=0): each context row gets the whole error
    # (word2vec.c) or a 1/n share (gensim 4: True).
    split_cbow_error = False

    def __init__(
        self,
        sentences: Iterable[Sequence[str]] | None = None,
        corpus_file: str | os.PathLike | None = None,
        vector_size: int = 100,
        alpha: float = 0.025,
        window: int = 5,
        min_count: int = 5,
        max_vocab_size: int | None = None,
        sample: float = 1e-3,
        seed: int = 1,
        workers: int | None = None,
        min_alpha: float = 0.0001,
        sg: int = 1,
        hs: int = 0,
        negative: int = 5,
        ns_exponent: float = 0.75,
        cbow_mean: int = 1,
        epochs: int = 5,
        max_final_vocab: int | None = None,
        shared_negatives: bool | int = True,
        compute_loss: bool = False,
        max_sentence_length: int = 10000,
        corpus_cache_mb: float = 2048,
        callbacks: Sequence = (),
        progress: bool | Callable[[Progress], None] = False,
        corpus_iterable: Iterable[Sequence[str]] | None = None,
        distributed: str | None = None,
        sync_words: int | None = None,
    ):
        self.vector_size = vector_size
        self.alpha = alpha
        self.min_alpha = min_alpha
        self.window = window
        self.min_count = min_count
        self.max_vocab_size = max_vocab_size
        self.max_final_vocab = max_final_vocab
        self.sample = sample
        self.seed = seed
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        self.sg = sg
        self.hs = hs
        self.cbow_mean = cbow_mean
        self.negative = negative
        self.ns_exponent = ns_exponent
        self.epochs = epochs
        self.shared_negatives = shared_negatives
        self.compute_loss = bool(compute_loss)
        self.max_sentence_length = max_sentence_length
        self.corpus_cache_mb = corpus_cache_mb
        self.callbacks = list(callbacks)
        self.progress = progress
        self.distributed = distributed
        self.sync_words = sync_words
        self._validate()
        self._init_state()
        self._train_now(sentences, corpus_iterable, corpus_file)

    def _train_now(self, sentences, corpus_iterable, corpus_file) -> None:
        """The constructor's corpus, if one was given: build the vocabulary and train."""
        if sentences is not None and corpus_iterable is not None:
            raise ValueError("give sentences or corpus_iterable, not both")
        corpus_iterable = corpus_iterable if corpus_iterable is not None else sentences
        if corpus_iterable is not None or corpus_file is not None:
            self.build_vocab(corpus_iterable=corpus_iterable, corpus_file=corpus_file)
            self.train(corpus_iterable=corpus_iterable, corpus_file=corpus_file)

    def _init_state(self) -> None:
        vector_size = self.vector_size
        self.vocab: Vocabulary | None = None
        self.wv = self.keyed_vectors_class(vector_size)
        self.syn1neg = np.zeros((0, vector_size), dtype=np.float32)  # negative-sampling outputs
        self.syn1 = np.zeros((0, vector_size), dtype=np.float32)  # hierarchical-softmax nodes
        self._huffman: tuple | None = None  # (tree, the vocabulary it was built for)
        self.words_done = 0  # learning-rate position, in words
        self.epoch_words = 0  # in-vocabulary words per epoch of the corpus last counted
        self.total_train_words = 0  # words the schedule spans
        self.epoch_reports: list[EpochReport] = []
        self.interrupted = False
        self._watch: Callable[..., None] | None = None  # while training: the weights stay finite
        self._raw_words_read = 0  # tokens the last epoch over sentences read

    # ---- validation ---------------------------------------------------------

    def _validate(self) -> None:
        """Every setting against its bounds, and the memory the workers'
        buffers imply, before any corpus is read (guards.ParameterError)."""
        self._plain_numbers()
        for name in ("sg", "hs", "cbow_mean"):
            guards.check_int(name, getattr(self, name), 0, 1)
        guards.check_int("vector_size", self.vector_size, 1)
        guards.check_int("window", self.window, 1)
        guards.check_int("min_count", self.min_count, 0)
        guards.check_int("negative", self.negative, 0, MAX_NEGATIVE)
        if not isinstance(self.shared_negatives, bool):
            guards.check_int("shared_negatives", self.shared_negatives, 0, guards.MAX_SHARED_CENTRES)
        if self.negative == 0 and self.hs != 1:
            raise guards.ParameterError("negative", "is 0: nothing to train (negative=0 needs hs=1)")
        guards.check_int("epochs", self.epochs, 1, guards.MAX_EPOCHS)
        guards.check_int("workers", self.workers, 1, guards.MAX_WORKERS)
        guards.check_int("seed", self.seed, 0, guards.MAX_SEED)
        guards.check_number("corpus_cache_mb", self.corpus_cache_mb, 0)
        guards.check_int("max_sentence_length", self.max_sentence_length, 1)
        self._validate_rates()
        if self.distributed not in (None, "mpi"):
            raise guards.ParameterError("distributed", f"must be None or 'mpi', got {self.distributed!r}")
        for name in ("sync_words", "max_vocab_size", "max_final_vocab"):
            if getattr(self, name) is not None:
                guards.check_int(name, getattr(self, name), 1)
        guards.check_worker_memory(
            self.workers, self.vector_size, self.window, self.negative, self.hs, self.max_sentence_length
        )
        # After the memory check, whose message has the figure: the kernels'
        # int arithmetic bounds what a machine with that much memory may ask.
        guards.check_int("vector_size", self.vector_size, 1, guards.MAX_C_INT_PARAM)
        guards.check_int("window", self.window, 1, guards.MAX_C_INT_PARAM)

    _INT_SETTINGS = (
        "sg", "hs", "cbow_mean", "vector_size", "window", "min_count", "negative", "shared_negatives",
        "epochs", "workers", "seed", "max_sentence_length", "sync_words", "max_vocab_size", "max_final_vocab",
    )  # fmt: skip
    _FLOAT_SETTINGS = ("alpha", "min_alpha", "sample", "ns_exponent", "corpus_cache_mb")
    _FLAG_SETTINGS = ("sg", "hs", "cbow_mean")  # 0 or 1: True and False are taken too

    def _plain_numbers(self) -> None:
        """numpy scalars given as settings become Python numbers: a uint8
        epochs or window overflowed in the memory check's arithmetic, and an
        int32 window wrapped around it."""
        for name in self._INT_SETTINGS:
            value = getattr(self, name, None)
            if isinstance(value, np.integer) or (name in self._FLAG_SETTINGS and isinstance(value, bool)):
                setattr(self, name, int(value))  # sg=True is gensim's sg=1
        for name in self._FLOAT_SETTINGS:
            value = getattr(self, name, None)
            if isinstance(value, np.floating):
                setattr(self, name, float(value))

    def _validate_rates(self) -> None:
        for name in ("alpha", "min_alpha", "sample"):
            guards.check_number(name, getattr(self, name))
        guards.check_number("alpha", self.alpha, 0, above=True)
        guards.check_number("min_alpha", self.min_alpha, 0, self.alpha)
        guards.check_number("sample", self.sample, 0)
        limit = guards.MAX_NS_EXPONENT
        guards.check_number("ns_exponent", self.ns_exponent, -limit, limit)

    # ---- vocabulary ---------------------------------------------------------

    @property
    def negatives_shared(self) -> bool:
        """shared_negatives as training applies it: True when shared_negatives
        is asked for and negative sampling is the only output layer
        (hierarchical softmax is always updated per pair, measured better)."""
        return bool(self.shared_negatives) and self.negative > 0 and not self.hs

    @property
    def centres_per_draw(self) -> int:
        """How many consecutive centre words share one draw of negatives as
        training applies it: shared_negatives >= 2 in skip-gram with shared
        negatives, else 1."""
        return int(self.shared_negatives) if self.negatives_shared and self.sg else 1

    @_one_at_a_time
    def build_vocab(
        self,
        corpus_iterable: Iterable[Sequence[str]] | None = None,
        corpus_file: str | os.PathLike | None = None,
        *,
        vocab: Vocabulary | None = None,
        update: bool = False,
    ) -> Word2Vec:
        """Count the corpus (or take `vocab`), sort and filter the words, and
        initialise the weights: input vectors uniform in ±1/vector_size (see
        uniform_rows), output vectors zero.

        update=True adds the words of a new corpus to a trained model (their
        vectors start random, existing ones keep theirs) for further training."""
        if update:
            if vocab is not None:
                raise TypeError("update=True counts a corpus; it does not take vocab=")
            if self.vocab is None:
                raise RuntimeError("update=True needs a model with a vocabulary; call build_vocab() first")
            raw_words, counts, n_tokens, n_sentences = self.scan_corpus(corpus_iterable, corpus_file)
            extend_vocab(self, raw_words, counts, corpus_words=n_tokens, corpus_sentences=n_sentences)
            return self
        if vocab is None:
            backend = self._backend(corpus_file)
            if backend is not None:
                return backend.build_vocab(self, corpus_file)
            vocab = self._count_vocab(corpus_iterable, corpus_file)
        if len(vocab) == 0:
            raise ValueError(
                f"empty vocabulary: no word occurs at least min_count="
                f"{vocab.effective_min_count} times "
                f"(the corpus has {vocab.corpus_words} words); lower min_count"
            )
        kept = vocab.total_words
        logger.info(
            "min_count=%d leaves %d unique words (%d of %d words, %.2f%%)",
            vocab.effective_min_count,
            len(vocab),
            kept,
            vocab.corpus_words,
            100.0 * kept / max(1, vocab.corpus_words),
        )
        self._init_weights(vocab)
        return self

    def _count_vocab(self, corpus_iterable, corpus_file) -> Vocabulary:
        raw_words, counts, n_tokens, n_sentences = self.scan_corpus(
            corpus_iterable, corpus_file, min_count=self.min_count
        )
        if n_tokens == 0:
            raise ValueError(
                f"the corpus is empty: no words in {self._describe(corpus_iterable, corpus_file)}"
            )
        vocab = Vocabulary.from_counts(
            raw_words,
            counts,
            min_count=self.min_count,
            max_final_vocab=self.max_final_vocab,
            corpus_words=n_tokens,
            corpus_sentences=n_sentences,
        )
        logger.info(
            "collected %d word types (of those counted at least min_count times when counting a "
            "file) from a corpus of %d raw words and %d sentences",
            len(raw_words),
            n_tokens,
            n_sentences,
        )
        return vocab

    def _init_weights(self, vocab: Vocabulary) -> None:
        self._check_capacity(len(vocab), vocab.total_words)
        self.vocab = vocab
        syn0 = uniform_rows(np.random.default_rng(self.seed), len(vocab), self.vector_size)
        # The same wv object, refilled: references to model.wv stay valid.
        self.wv.replace_contents(
            self.keyed_vectors_class.from_arrays(vocab.words, syn0, vocab.counts, index=vocab.index)
        )
        # np.zeros, not zeros_like: the zero pages are only mapped when training writes them.
        self.syn1neg = (
            padded_rows.zeros(*syn0.shape) if self.negative else np.zeros((0, self.vector_size), np.float32)
        )
        self.syn1 = (  # V rows as gensim's (the tree uses V - 1)
            padded_rows.zeros(len(vocab), self.vector_size)
            if self.hs
            else np.zeros((0, self.vector_size), dtype=np.float32)
        )
        self.words_done = 0
        self.epoch_words = vocab.total_words
        self.epoch_reports = []

    def _check_capacity(self, words: int, words_per_epoch: int) -> None:
        """Before the weights of `words` words exist: the run must fit in
        memory and its epochs x words in the 64-bit word counter."""
        guards.check_model_memory(
            words,
            self.vector_size,
            self.negative,
            self.hs,
            self.workers,
            self.max_sentence_length,
            self.window,
        )
        guards.check_run_length(self.epochs, words_per_epoch)

    def require_vocab(self) -> Vocabulary:
        """The vocabulary; RuntimeError if build_vocab() has not run."""
        if self.vocab is None:
            raise RuntimeError("the model has no vocabulary: call build_vocab() first")
        return self.vocab

    def huffman_tree(self):
        """word2vec.c's Huffman tree of the vocabulary for hierarchical softmax,
        (offsets, points, codes) of Vocabulary.huffman(): a function of the
        counts, built when first needed after the vocabulary changes."""
        if self._huffman is None or self._huffman[1] is not self.vocab:
            self._huffman = (self.require_vocab().huffman(), self.vocab)
        return self._huffman[0]

    def set_huffman_tree(self, tree) -> None:
        """Train with another tree over the current vocabulary (a model
        brought over from gensim keeps gensim's, so that syn1's rows keep
        their meaning); replaced by the counts' tree when the vocabulary changes."""
        offsets, points, codes = (np.asarray(a) for a in tree)
        n = len(self.require_vocab())
        if offsets.shape != (n + 1,) or points.shape != codes.shape or points.shape[0] != offsets[-1]:
            raise ValueError("a Huffman tree needs offsets of len(vocab) + 1 and as many points as codes")
        if points.size and (points.min() < 0 or points.max() >= n - 1):
            raise ValueError(f"tree points must lie in 0..{n - 2}")
        tree = (offsets.astype(np.int64), points.astype(np.int32), codes.astype(np.uint8))
        self._huffman = (tree, self.vocab)

    def _backend(self, corpus_file):
        """The active training backend named by `distributed` (the MPI one
        when this process is one of 2+ ranks), or None: train here."""
        if getattr(self, "distributed", None) is None:
            return None
        backend = runtime.backend(self.distributed)
        if backend is None or not backend.active():
            return None
        if corpus_file is None:
            raise NotImplementedError(
                "distributed='mpi' trains from a corpus_file (each rank "
                "reads its own byte range), not from sentences"
            )
        return backend

    @staticmethod
    def _describe(corpus_iterable, corpus_file) -> str:
        return repr(os.fspath(corpus_file)) if corpus_file is not None else "the sentences given"

    def scan_corpus(self, corpus_iterable=None, corpus_file=None, min_count: int = 1):
        """Count the words of a corpus: (word types in first-seen order, their
        counts, tokens, sentences); max_vocab_size prunes as it counts. A
        corpus file's words may be limited to those counted at least
        min_count times (exact counts either way)."""
        if (corpus_iterable is None) == (corpus_file is None):
            raise TypeError("give exactly one of corpus_iterable (sentences) or corpus_file")
        if corpus_file is not None:
            return self._scan_file(corpus_file, min_count)
        runtime.check_reiterable(corpus_iterable)
        words, counts, tokens, sentences = count_sentences(
            corpus_iterable, runtime.check_sentence, self.max_vocab_size or 0
        )
        check_keys(words)  # str keys that survive saving, checked once per distinct word
        return words, counts, tokens, sentences

    def _scan_file(self, corpus_file, min_count: int):
        with plain_file(corpus_file) as path:
            t0 = time.perf_counter()
            table, tokens, lines, _ = runtime.count_file_parallel(
                path,
                self.workers,
                self.max_vocab_size or 0,
                min_count=min_count,
                sentence_words=self.max_sentence_length,
            )
            counts = table.counts()
            # Decoded on access: only the words kept, once, in the vocabulary's order.
            words = runtime.DecodedWords(table)
            size = os.path.getsize(path)
            logger.info(
                "scanned %s: %d bytes in %.2fs (%.0f MB/s)",
                os.fspath(corpus_file),
                size,
                time.perf_counter() - t0,
                size / 1e6 / max(1e-9, time.perf_counter() - t0),
            )
            return words, counts, tokens, runtime.sentence_count(path, size, lines)

    # ---- training -----------------------------------------------------------

    @_one_at_a_time
    def train(
        self,
        corpus_iterable: Iterable[Sequence[str]] | None = None,
        corpus_file: str | os.PathLike | None = None,
        total_examples: int | None = None,
        total_words: int | None = None,
        epochs: int | None = None,
        start_alpha: float | None = None,
        end_alpha: float | None = None,
        compute_loss: bool | None = None,
        callbacks: Sequence = (),
        progress: bool | Callable[[Progress], None] | None = None,
        sentences: Iterable[Sequence[str]] | None = None,
    ) -> tuple[int, int]:
        """Train on the corpus. Returns (examples trained, words read).

        The learning rate falls linearly from start_alpha (alpha) to end_alpha
        (min_alpha) over epochs x total_words in-vocabulary words, or over
        epochs x total_examples sentences (see words_per_epoch); default: the
        in-vocabulary words of the corpus last counted. On Ctrl-C every worker stops
        at its next sentence, the model stays consistent and usable, and
        KeyboardInterrupt is re-raised.
        """
        if self.vocab is None:
            raise RuntimeError("call build_vocab() before train()")
        corpus_iterable = corpus_iterable if corpus_iterable is not None else sentences
        if (corpus_iterable is None) == (corpus_file is None):
            raise TypeError("give exactly one of corpus_iterable (sentences) or corpus_file")
        backend = self._backend(corpus_file)
        if backend is not None:
            return backend.train(
                self,
                corpus_file,
                total_words=total_words,
                epochs=epochs,
                start_alpha=start_alpha,
                end_alpha=end_alpha,
                compute_loss=compute_loss,
                callbacks=callbacks,
                progress=progress,
            )
        plan = self.training_plan(
            total_words, epochs, start_alpha, end_alpha, compute_loss, progress, callbacks, total_examples
        )
        self.total_train_words = plan.total_words
        self.interrupted = False
        if corpus_iterable is not None:
            runtime.check_reiterable(corpus_iterable)
        trainer = self.make_trainer(plan, self.total_train_words)
        self._log_start(plan)
        runtime.call_callbacks(self, plan.callbacks, "on_train_begin")
        t_start = time.perf_counter()
        examples, words = self._run_epochs(plan, trainer, corpus_iterable, corpus_file)
        elapsed = time.perf_counter() - t_start
        if self.interrupted:
            self._warn_interrupted()
            raise KeyboardInterrupt
        runtime.log_done(words, elapsed)
        runtime.call_callbacks(self, plan.callbacks, "on_train_end")
        return examples, words

    def _warn_interrupted(self) -> None:
        logger.warning(
            "training interrupted after %d words (%.1f%% of the schedule); the model "
            "holds the vectors trained so far",
            self.words_done,
            100.0 * self.words_done / max(1, self.total_train_words),
        )

    def training_plan(
        self,
        total_words: int | None = None,
        epochs: int | None = None,
        start_alpha: float | None = None,
        end_alpha: float | None = None,
        compute_loss: bool | None = None,
        progress=None,
        callbacks: Sequence = (),
        total_examples: int | None = None,
    ) -> TrainingPlan:
        """train()'s arguments checked and resolved against the model's
        settings (None: the model's value). Used by every backend."""
        vocab = self.require_vocab()
        epochs = self.epochs if epochs is None else epochs
        guards.check_int("epochs", epochs, 1, guards.MAX_EPOCHS)
        alpha0 = self.alpha if start_alpha is None else start_alpha
        alpha1 = self.min_alpha if end_alpha is None else end_alpha
        guards.check_number("start_alpha", alpha0, 0, above=True)
        guards.check_number("end_alpha", alpha1, 0, alpha0)
        if total_words is not None:
            guards.check_int("total_words", total_words, 0, guards.MAX_RUN_WORDS)
        per_epoch = int(total_words) if total_words is not None else self.words_per_epoch(total_examples)
        guards.check_run_length(epochs, per_epoch)
        if not self.wv.vectors.flags.writeable:
            raise ValueError(
                "the vectors are read-only (loaded with mmap='r'); load with mmap=None or 'c' to train"
            )
        return TrainingPlan(
            per_epoch=per_epoch,
            epochs=epochs,
            alpha_param="alpha" if start_alpha is None else "start_alpha",
            alpha0=alpha0,
            alpha1=alpha1,
            compute_loss=self.compute_loss if compute_loss is None else compute_loss,
            progress=self.progress if progress is None else progress,
            callbacks=(self.callbacks if self._train_runs_model_callbacks else []) + list(callbacks),
            keep=vocab.keep_probabilities(self.sample),
            noise=vocab.noise_weights(self.ns_exponent),
        )

    def private_top_nodes(self) -> int:
        """Inner nodes of the Huffman tree each worker trains on its own copy
        (merged every few hundred centre words): HS_PRIVATE_TOP_NODES with
        hierarchical softmax and several workers, else 0 (one worker trains
        exactly as word2vec.c)."""
        return HS_PRIVATE_TOP_NODES if self.hs and self.workers > 1 else 0

    def private_noise_rows(self) -> int:
        """Output rows of the most frequent words (drawn as noise words on
        nearly every centre word) each worker trains on its own copy, merged
        every few hundred centre words: NS_PRIVATE_ROWS with negative
        sampling and several workers, else 0."""
        return NS_PRIVATE_ROWS if self.negative and self.workers > 1 else 0

    def make_trainer(self, plan: TrainingPlan, total_words: int, words_done: int = 0):
        """A kernel trainer over this model's weights: its learning rate falls
        from plan.alpha0 to plan.alpha1 over total_words, from words_done."""
        self._pad_rows()
        return Trainer(
            self.wv.vectors,
            self.syn1neg if self.negative else None,
            plan.keep,
            plan.noise,
            window=self.window,
            negative=self.negative,
            alpha=plan.alpha0,
            min_alpha=plan.alpha1,
            total_words=total_words,
            syn1=self.syn1 if self.hs else None,
            huffman=self.huffman_tree() if self.hs else None,
            sg=bool(self.sg),
            cbow_mean=bool(self.cbow_mean),
            shared_negatives=self.negatives_shared,
            compute_loss=plan.compute_loss,
            max_sentence=self.max_sentence_length,
            words_done=words_done,
            shrink_windows=getattr(self, "shrink_windows", True),
            lockf=self._lock_factors(),
            split_cbow_error=self.split_cbow_error,
            private_top_nodes=self.private_top_nodes(),
            centres_per_draw=self.centres_per_draw,
            private_noise_rows=self.private_noise_rows(),
            zero_padding=all(padded_rows.padding_is_zero(m) for m in self.weight_matrices().values()),
        )

    def _pad_rows(self) -> None:
        """Give the trained matrices the kernel's layout (sgns.padded_rows) where they
        lack it: a loaded model, a grown vocabulary or arrays a user assigned
        are copied once, then trained in place as before."""
        for name, matrix in self.weight_matrices().items():
            setattr(self.wv if name == "vectors" else self, name, padded_rows.padded(matrix))

    def words_per_epoch(self, total_examples: int | None = None, raw_words: int | None = None) -> int:
        """In-vocabulary words (what the learning-rate schedule counts) in
        total_examples sentences or in raw_words tokens, at the rate of the
        corpus last counted; with neither, that corpus's in-vocabulary words."""
        in_vocab = self.epoch_words or self.require_vocab().total_words
        if raw_words is not None:
            return max(1, round(int(raw_words) * in_vocab / max(1, self.corpus_total_words or in_vocab)))
        if total_examples is not None and self.corpus_count:
            return max(1, round(int(total_examples) * in_vocab / self.corpus_count))
        return in_vocab

    def _lock_factors(self) -> np.ndarray | None:
        """wv.vectors_lockf (gensim's per-word factor on input-vector
        updates, 0 freezes a word) when it is one value per word and not all
        1; otherwise None (train every word)."""
        lockf = getattr(self.wv, "vectors_lockf", None)
        if lockf is None or np.ndim(lockf) != 1 or len(lockf) != len(self.wv) or np.all(lockf == 1):
            return None
        return np.asarray(lockf, dtype=np.float32)

    def _log_start(self, plan: TrainingPlan) -> None:
        logger.info(
            "training on %d words per epoch for %d epochs: %d workers, kernels %s, "
            "%s hs=%d negative=%d window=%d sample=%g alpha=%g%s",
            plan.per_epoch,
            plan.epochs,
            self.workers,
            active_kernels(),
            "skip-gram" if self.sg else "CBOW",
            self.hs,
            self.negative,
            self.window,
            self.sample,
            plan.alpha0,
            ", shared negatives" if self.negatives_shared and self.sg else "",
        )

    def _run_epochs(self, plan: TrainingPlan, trainer, corpus_iterable, corpus_file) -> tuple[int, int]:
        examples = words = 0
        first_words = None  # of an iterable's first epoch
        self._watch = functools.partial(
            guards.check_finite_weights, self.weight_matrices(), plan.alpha_param, plan.alpha0
        )
        with (
            contextlib.nullcontext() if corpus_file is None else plain_file(corpus_file) as path,
            self.wv.changing(),  # queries from callbacks see the vectors as they are
        ):
            vocab_table = WordHash.from_words(self.require_vocab().raw_words()) if path else None
            cache = self._shard_cache(plan, path)
            try:
                for epoch in range(plan.epochs):
                    if trainer.stopped:
                        break
                    runtime.call_callbacks(self, plan.callbacks, "on_epoch_begin")
                    t0 = time.perf_counter()
                    if path is not None:
                        report = self._epoch_file(plan, trainer, path, vocab_table, cache, epoch)
                    else:
                        report = self._epoch_iterable(plan, trainer, corpus_iterable, epoch)
                    report.seconds = time.perf_counter() - t0
                    self.epoch_reports.append(report)
                    examples += report.examples
                    words += report.words
                    self.words_done = trainer.words_done
                    runtime.log_epoch(report, plan.compute_loss)
                    if trainer.stopped:
                        break
                    self._watch(epoch + 1)  # every row: one bad word is caught too
                    runtime.warn_schedule_mismatch(report, plan.per_epoch)
                    if path is None:
                        first_words = runtime.check_epoch_words(report, first_words)
                    runtime.call_callbacks(self, plan.callbacks, "on_epoch_end")
            except KeyboardInterrupt:
                # Outside the wait for workers (no worker is running here).
                self.interrupted = True
                trainer.request_stop()
            finally:
                self.words_done = trainer.words_done
                self._watch = None
        return examples, words

    def _shard_cache(self, plan: TrainingPlan, path) -> list | None:
        """The ids of each worker's byte range, kept after the first epoch
        while within corpus_cache_mb: FileShards enforces the bound on the
        ids actually read; the vocabulary's estimate only skips a doomed
        attempt. None: stream every epoch."""
        ids_bytes = 4 * (plan.per_epoch + self.require_vocab().corpus_sentences)
        if path is None or plan.epochs < 2 or not 0 < ids_bytes <= self.corpus_cache_mb * 2**20:
            return None
        return [None] * self.workers

    def weight_matrices(self) -> dict[str, np.ndarray]:
        """The matrices training writes, by name: vectors, syn1neg, syn1."""
        matrices = {"vectors": self.wv.vectors}
        if self.negative:
            matrices["syn1neg"] = self.syn1neg
        if self.hs:
            matrices["syn1"] = self.syn1
        return matrices

    def _epoch_file(self, plan: TrainingPlan, trainer, path, vocab_table, cache, epoch: int) -> EpochReport:
        # The file is measured every epoch: it may have changed (cached ids are kept).
        size = os.path.getsize(path)
        n = max(1, min(self.workers, size // 4096 or 1))
        shards = runtime.FileShards(
            path,
            vocab_table,
            split_range(0, size, n),
            self.max_sentence_length,
            cache,
            self.corpus_cache_mb * 2**20,
        )
        tasks, results = shards.tasks(
            trainer, lambda k: runtime.part_seed(self.seed, epoch, k), "sgns-worker"
        )
        self._run_threads(plan, tasks, trainer, epoch)
        return runtime.collect(epoch, results)

    def _epoch_iterable(self, plan: TrainingPlan, trainer, corpus_iterable, epoch: int) -> EpochReport:
        jobs: queue.Queue = queue.Queue(maxsize=2 * self.workers)
        results: list = []
        lock = threading.Lock()
        producer_error: list = []

        def produce() -> None:
            try:
                self._produce_chunks(corpus_iterable, jobs, trainer)
            except BaseException as e:  # noqa: BLE001 (re-raised by the main thread)
                producer_error.append(e)
                trainer.request_stop()
            finally:
                for _ in range(self.workers):
                    runtime.put_job(jobs, None, trainer, force=True)

        def work() -> None:
            while True:
                job = jobs.get()
                if job is None:
                    return
                chunk_no, ids = job
                try:
                    r = trainer.train_ids(ids, runtime.part_seed(self.seed, epoch, chunk_no))
                except BaseException as e:  # noqa: BLE001 (re-raised by runtime.collect)
                    r = e
                    trainer.request_stop()
                with lock:
                    results.append(r)

        tasks = [("sgns-producer", produce)] + [(f"sgns-worker-{k}", work) for k in range(self.workers)]
        self._run_threads(plan, tasks, trainer, epoch)
        if producer_error:
            raise producer_error[0]
        report = runtime.collect(epoch, results)
        report.raw_words = self._raw_words_read
        return report

    def _produce_chunks(self, corpus_iterable, jobs: queue.Queue, trainer) -> None:
        """Put (chunk number, word ids with -1 after each sentence) on jobs;
        count the tokens read in self._raw_words_read."""
        index = self.require_vocab().index
        sentences = iter(corpus_iterable)
        chunk_no = 0
        self._raw_words_read = 0
        ended = False
        # The ids are looked up in C (holding the GIL, as any reading of a
        # Python iterable must): long sentences are cut where the C encoder
        # cuts a file's lines.
        while not ended and not trainer.stopped:
            ids, raw, ended = encode_sentences(
                sentences,
                index,
                self.max_sentence_length,
                _ITER_CHUNK,
                runtime.check_sentence,
                trainer.stop_flag,
            )
            self._raw_words_read += raw
            if len(ids) and not trainer.stopped:
                runtime.put_job(jobs, (chunk_no, ids), trainer)
                chunk_no += 1

    def _run_threads(self, plan: TrainingPlan, tasks, trainer, epoch: int) -> None:
        """Run each (name, fn) of tasks in its own thread and wait, reporting
        progress. On Ctrl-C, stop every worker and wait until all have really
        returned, so no thread writes the weights after train() has raised."""
        ticker = runtime.ProgressTicker(
            None, plan.epochs, self.total_train_words, self.workers, trainer.words_done
        )

        def start():
            ticker.report = runtime.make_reporter(plan.progress, self.workers)

        def stop():
            self.interrupted = True
            trainer.request_stop()

        def tick():
            if self._watch is not None:
                # The most frequent rows move most: a NaN shows there first.
                self._watch(epoch + 1, rows=_WATCHED_ROWS)
            ticker(epoch, trainer.words_done, trainer.alpha)

        if not run_in_threads(tasks, tick=tick, on_interrupt=stop, before=start):
            ticker(epoch, trainer.words_done, trainer.alpha, force=True)

    # ---- persistence --------------------------------------------------------

    def keyed_vectors(self, vectors: str = "in") -> KeyedVectors:
        """The word vectors: "in" (wv, the input vectors), "out" (the
        negative-sampling output vectors syn1neg) or "in+out" (their sum,
        Levy, Goldberg & Dagan 2015's w+c), as KeyedVectors with the counts."""
        if vectors == "in":
            return self.wv
        if vectors not in ("out", "in+out"):
            raise ValueError(f"vectors must be 'in', 'out' or 'in+out', got {vectors!r}")
        if not self.negative or len(self.syn1neg) != len(self.wv):
            raise ValueError(
                f"vectors={vectors!r} needs the output vectors of negative sampling (negative > 0)"
            )
        matrix = self.syn1neg if vectors == "out" else self.wv.vectors + self.syn1neg
        kv = self.keyed_vectors_class.from_arrays(self.wv.index_to_key, matrix)
        kv.expandos = {name: arr.copy() for name, arr in self.wv.expandos.items()}
        return kv

    def save_word2vec_format(self, fname, fvocab=None, binary: bool = False, vectors: str = "in", **kwargs):
        """Write keyed_vectors(vectors) in word2vec.c's format; fvocab, binary
        and kwargs as KeyedVectors.save_word2vec_format."""
        self.keyed_vectors(vectors).save_word2vec_format(fname, fvocab, binary, **kwargs)

    def save(self, path: str | os.PathLike) -> None:
        """Write the whole model (both weight matrices, vocabulary with counts,
        hyperparameters, learning-rate position) to one file: sgns format v1,
        no pickle (see sgns.persist). Atomic."""
        persist.save_model(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike, mmap: str | None = None) -> Word2Vec:
        """Read a model written by save(). mmap='r': read-only weights
        (queries only); 'c': copy-on-write."""
        return persist.load_model(path, mmap=mmap, cls=cls)

    # ---- results ------------------------------------------------------------

    @property
    def corpus_count(self) -> int:
        """Sentences in the corpus the vocabulary was built from (gensim's name)."""
        return self.vocab.corpus_sentences if self.vocab is not None else 0

    @property
    def corpus_total_words(self) -> int:
        """Tokens in that corpus, in or out of the vocabulary (gensim's name)."""
        return self.vocab.corpus_words if self.vocab is not None else 0

    @property
    def loss_history(self) -> list[float]:
        """SGNS loss of each epoch trained (with compute_loss=True)."""
        return [r.loss for r in self.epoch_reports]

    def get_latest_training_loss(self) -> float:
        """Loss of the last epoch (float64, summed over all workers)."""
        return self.epoch_reports[-1].loss if self.epoch_reports else 0.0

    def __repr__(self) -> str:
        return (
            f"Word2Vec<vocab={len(self.wv)}, vector_size={self.vector_size}, "
            f"window={self.window}, negative={self.negative}, alpha={self.alpha}>"
        )


persist.MODEL_CLASSES["word2vec"] = Word2Vec


# ---- vocabulary update ----------------------------------------------------------------


def extend_vocab(
    model: Word2Vec, words: Sequence[str], counts, *, corpus_words: int, corpus_sentences: int
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
    order, min_count = _new_word_order(model, len(vocab), counts, known)
    order = [i for i in order if types[i] != SENTENCE_TOKEN]  # word2vec.c's sentence token
    new_words = [types[i] for i in order]
    new_counts = counts[order]
    model._check_capacity(len(vocab) + len(new_words), int(counts[known].sum() + new_counts.sum()))
    _append_rows(model, new_words, np.concatenate([merged, new_counts]))
    model.vocab = Vocabulary(
        vocab.words + new_words,
        model.wv.expandos["count"],
        corpus_words=int(corpus_words),
        corpus_sentences=int(corpus_sentences),
        effective_min_count=min_count,
    )
    epoch_words = int(counts[known].sum() + new_counts.sum())
    model.epoch_words = epoch_words
    summary = {
        "new_words": len(new_words),
        "updated_words": int(known.sum()),
        "dropped_words": int(n - known.sum() - len(new_words)),
        "epoch_words": epoch_words,
    }
    _log_update(summary, min_count, len(model.vocab))
    return summary


def _log_update(summary: dict[str, int], min_count: int, vocab_size: int) -> None:
    logger.info(
        "vocabulary update: %d new words, %d known words counted again, %d dropped "
        "(fewer than %d occurrences); %d words in the vocabulary",
        summary["new_words"],
        summary["updated_words"],
        summary["dropped_words"],
        min_count,
        vocab_size,
    )


def _new_word_order(model: Word2Vec, n_old: int, counts: np.ndarray, known: np.ndarray):
    """Indices of the new words to add, most frequent first (ties in
    first-seen order), and the min_count that admitted them."""
    min_count = max(int(model.min_count), 1)
    candidates = np.flatnonzero(~known & (counts >= min_count))
    cap = model.max_final_vocab
    if cap is not None and n_old + len(candidates) > cap:
        room = max(0, cap - n_old)
        ranked = np.sort(counts[candidates])[::-1]
        min_count = int(ranked[room]) + 1 if room < len(ranked) else min_count
        candidates = candidates[counts[candidates] >= min_count]
    return candidates[np.argsort(-counts[candidates], kind="stable")], min_count


def _append_rows(model: Word2Vec, new_words: list[str], all_counts: np.ndarray) -> None:
    """Add the new words' rows: random input vectors, zero output rows."""
    n_old, dim = len(model.wv), model.vector_size
    rng = np.random.default_rng(np.random.SeedSequence([int(model.seed) & (2**64 - 1), n_old]))
    wv = model.wv
    wv.add_vectors(new_words, uniform_rows(rng, len(new_words), dim))
    wv.expandos["count"] = all_counts
    n_new = n_old + len(new_words)
    for name in persist.MODEL_MATRICES:
        m = getattr(model, name, None)
        if isinstance(m, np.ndarray) and m.ndim == 2 and 0 < m.shape[0] == persist.matrix_rows(name, n_old):
            setattr(model, name, padded_rows.grown(m, persist.matrix_rows(name, n_new)))
    # The grown matrices in the trainer's layout now (the input vectors if
    # add_vectors could not keep it): the arrays build_vocab leaves are the
    # ones training writes (references to them stay valid).
    model._pad_rows()
