"""Word2Vec: hyperparameters, vocabulary building and multi-threaded
training. The weight matrices are float32 numpy arrays; the C kernels train
them in place, one GIL-free call per worker per epoch (corpus files) or per
chunk of sentences (Python iterables)."""

from __future__ import annotations

import bz2
import contextlib
import functools
import gzip
import logging
import lzma
import math
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from sgns import _tokenize, _train
from sgns.keyedvectors import KeyedVectors
from sgns.outputs import scratch_copy
from sgns.vocab import Vocabulary, decode_word

logger = logging.getLogger(__name__)

# Chunk of sentence ids handed to a worker in iterable mode.
_ITER_CHUNK = 1 << 16
_COMPRESSED = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


@dataclass
class EpochReport:
    """What one epoch did. words: in-vocabulary words read (before
    subsampling); examples: (input row, output set) updates; loss: summed
    SGNS loss in float64 (only with compute_loss); seconds: wall time."""

    epoch: int
    words: int = 0
    examples: int = 0
    loss: float = 0.0
    seconds: float = 0.0


@dataclass
class Progress:
    """Passed to a `progress` callable about twice a second while training."""

    epoch: int
    epochs: int
    fraction: float  # of the whole run, 0..1
    alpha: float
    words_per_sec: float
    words_per_thread_per_sec: float


class Word2Vec:
    """Skip-gram with negative sampling (SGNS), word2vec.c semantics.

    Skip-gram is the default (sg=1; gensim defaults to CBOW). sg=0 trains
    CBOW (cbow_mean=1: mean of the context vectors, 0: their sum); hs=1 adds
    hierarchical softmax over word2vec.c's Huffman tree (alone with
    negative=0, or together with negative sampling, as word2vec.c allows).

    Main parameters (gensim's names, word2vec.c's meaning):
        sentences / corpus_iterable: re-iterable of token lists.
        corpus_file: path to a whitespace-tokenised text file, one sentence a
            line (the fast path: read and tokenised in C; .gz/.bz2/.xz are
            decompressed to a temporary file first).
        vector_size: dimensions. window: maximum context radius (the radius
            is drawn uniformly from 1..window for each word, as word2vec.c).
        min_count: drop words rarer than this. max_final_vocab: raise
            min_count until at most this many words remain.
        max_vocab_size: bound the word table while counting (gensim-style
            pruning of rare words), None for no bound.
        sample: subsampling threshold t; a word of frequency f is kept with
            probability sqrt(t/f) + t/f. 0 disables.
        negative: noise words per positive pair, drawn from unigram^ns_exponent.
        alpha, min_alpha: learning rate, decayed linearly over all epochs by a
            word counter shared by all threads.
        epochs: passes over the corpus. workers: threads (default: CPUs).
        seed: random seed; with workers=1 training is bit-for-bit repeatable.
        shared_negatives: True (default): draw one set of negatives per centre
            word and update all its context words against it in one dense
            block (pWord2Vec's "HogBatch"): about 2x faster, and on the
            benchmark corpus as good as or better than the per-pair update.
            False: word2vec.c's update, fresh negatives for every pair.
            Negative sampling only: with hs=1 every pair is updated on its
            own, as word2vec.c does (sharing the window's update cost SG+HS
            about 0.02 analogy accuracy on the benchmark corpus).
        compute_loss: accumulate the SGNS loss per epoch (float64).
        max_sentence_length: longer sentences are cut into pieces (10000).
        corpus_cache_mb: a corpus_file whose word ids (4 bytes a word) fit in
            this many MB is read once and kept in memory as ids; a larger one
            is streamed from disk every epoch in bounded memory. 0: always stream.
        callbacks: objects with optional on_train_begin(model),
            on_epoch_begin(model), on_epoch_end(model), on_train_end(model).
        distributed: "mpi" trains a corpus_file across the processes of an
            MPI launch (mpirun -np N python ...; needs mpi4py: sgns[mpi]);
            every rank returns the same model. Outside mpirun, or without
            mpi4py, training is single-process as usual. See sgns.distributed.
        sync_words: with distributed="mpi", words each process trains
            between synchronisations (default: 100000 for 2 processes,
            40000 / processes for more).
    """

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
        shared_negatives: bool = True,
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
        self.shared_negatives = bool(shared_negatives)
        self.compute_loss = bool(compute_loss)
        self.max_sentence_length = max_sentence_length
        self.corpus_cache_mb = corpus_cache_mb
        self.callbacks = list(callbacks)
        self.progress = progress
        self.distributed = distributed
        self.sync_words = sync_words
        self._validate()

        self.vocab: Vocabulary | None = None
        self.wv = KeyedVectors(vector_size)
        self.syn1neg = np.zeros((0, vector_size), dtype=np.float32)  # negative-sampling outputs
        self.syn1 = np.zeros((0, vector_size), dtype=np.float32)  # hierarchical-softmax nodes
        self._huffman = None
        self.words_done = 0  # learning-rate position, in words
        self.epoch_words = 0  # in-vocabulary words per epoch of the corpus last counted
        self.total_train_words = 0  # words the schedule spans
        self.epoch_reports: list[EpochReport] = []
        self.interrupted = False

        if sentences is not None and corpus_iterable is not None:
            raise ValueError("give sentences or corpus_iterable, not both")
        corpus_iterable = corpus_iterable if corpus_iterable is not None else sentences
        if corpus_iterable is not None or corpus_file is not None:
            self.build_vocab(corpus_iterable=corpus_iterable, corpus_file=corpus_file)
            self.train(corpus_iterable=corpus_iterable, corpus_file=corpus_file)

    # ---- validation ---------------------------------------------------------

    def _validate(self) -> None:
        def need(ok: bool, message: str) -> None:
            if not ok:
                raise ValueError(message)

        def is_int(x) -> bool:
            return isinstance(x, (int, np.integer)) and not isinstance(x, bool)

        need(self.sg in (0, 1), f"sg must be 0 (CBOW) or 1 (skip-gram), got {self.sg!r}")
        need(self.hs in (0, 1), f"hs must be 0 or 1, got {self.hs!r}")
        need(self.cbow_mean in (0, 1), f"cbow_mean must be 0 or 1, got {self.cbow_mean!r}")
        need(
            is_int(self.vector_size) and self.vector_size >= 1,
            f"vector_size must be an integer >= 1, got {self.vector_size!r}",
        )
        need(is_int(self.window) and self.window >= 1, f"window must be an integer >= 1, got {self.window!r}")
        need(
            is_int(self.min_count) and self.min_count >= 0,
            f"min_count must be an integer >= 0, got {self.min_count!r}",
        )
        need(
            is_int(self.negative) and 0 <= self.negative <= _train.MAX_NEGATIVE,
            f"negative must be an integer in 0..{_train.MAX_NEGATIVE}, got {self.negative!r}",
        )
        need(
            self.negative > 0 or self.hs == 1,
            "nothing to train: negative=0 needs hs=1 (hierarchical softmax)",
        )
        need(is_int(self.epochs) and self.epochs >= 1, f"epochs must be an integer >= 1, got {self.epochs!r}")
        need(
            is_int(self.workers) and self.workers >= 1,
            f"workers must be an integer >= 1, got {self.workers!r}",
        )
        need(is_int(self.seed), f"seed must be an integer, got {self.seed!r}")
        need(
            isinstance(self.corpus_cache_mb, (int, float)) and self.corpus_cache_mb >= 0,
            f"corpus_cache_mb must be a number >= 0, got {self.corpus_cache_mb!r}",
        )
        need(
            is_int(self.max_sentence_length) and self.max_sentence_length >= 1,
            "max_sentence_length must be an integer >= 1",
        )
        for name in ("alpha", "min_alpha", "sample", "ns_exponent"):
            v = getattr(self, name)
            need(
                isinstance(v, (int, float, np.floating)) and not isinstance(v, bool) and math.isfinite(v),
                f"{name} must be a finite number, got {v!r}",
            )
        need(self.alpha > 0, f"alpha must be > 0, got {self.alpha}")
        need(0 <= self.min_alpha <= self.alpha, f"min_alpha must be in [0, alpha], got {self.min_alpha}")
        need(self.sample >= 0, f"sample must be >= 0, got {self.sample}")
        need(
            self.distributed in (None, "mpi"), f"distributed must be None or 'mpi', got {self.distributed!r}"
        )
        need(
            self.sync_words is None or (is_int(self.sync_words) and self.sync_words >= 1),
            f"sync_words must be None or an integer >= 1, got {self.sync_words!r}",
        )
        for name in ("max_vocab_size", "max_final_vocab"):
            v = getattr(self, name)
            need(v is None or (is_int(v) and v >= 1), f"{name} must be None or an integer >= 1, got {v!r}")

    # ---- vocabulary ---------------------------------------------------------

    @property
    def window_batched(self) -> bool:
        """Whether skip-gram updates a centre word's window as one block with
        shared negatives: shared_negatives with negative sampling alone
        (hierarchical softmax is always updated per pair, measured better)."""
        return self.shared_negatives and self.negative > 0 and not self.hs

    def build_vocab(
        self,
        corpus_iterable: Iterable[Sequence[str]] | None = None,
        corpus_file: str | os.PathLike | None = None,
        *,
        vocab: Vocabulary | None = None,
        update: bool = False,
    ) -> "Word2Vec":
        """Count the corpus (or take `vocab`), sort and filter the words, and
        initialise the weights: input vectors uniform in ±1/vector_size (as
        gensim; word2vec.c uses ±0.5/vector_size, which measured about 0.5
        point worse on analogies and 1 point on WS353), output vectors zero.

        update=True adds the words of a new corpus to a trained model (their
        vectors start random, existing ones keep theirs) for further training."""
        if update:
            if vocab is not None:
                raise TypeError("update=True counts a corpus; it does not take vocab=")
            if self.vocab is None:
                raise RuntimeError("update=True needs a model with a vocabulary; call build_vocab() first")
            from sgns.persist import extend_vocab

            raw_words, counts, n_tokens, n_sentences = self._scan(corpus_iterable, corpus_file)
            extend_vocab(self, raw_words, counts, corpus_words=n_tokens, corpus_sentences=n_sentences)
            return self
        if vocab is None and self._mpi(corpus_file):
            from sgns import distributed

            return distributed.build_vocab(self, corpus_file)
        if vocab is None:
            raw_words, counts, n_tokens, n_sentences = self._scan(corpus_iterable, corpus_file)
            if len(raw_words) == 0:
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
                "collected %d word types from a corpus of %d raw words and %d sentences",
                len(raw_words),
                n_tokens,
                n_sentences,
            )
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
        self.vocab = vocab
        rng = np.random.default_rng(self.seed)
        syn0 = rng.random((len(vocab), self.vector_size), dtype=np.float32)
        syn0 *= np.float32(2.0)
        syn0 -= np.float32(1.0)
        syn0 /= np.float32(self.vector_size)
        self.wv = KeyedVectors.from_arrays(vocab.words, syn0, vocab.counts)
        self.syn1neg = np.zeros_like(syn0) if self.negative else np.zeros((0, self.vector_size), np.float32)
        self._huffman = vocab.huffman() if self.hs else None
        self.syn1 = (
            np.zeros((len(vocab) - 1, self.vector_size), dtype=np.float32)
            if self.hs
            else np.zeros((0, self.vector_size), dtype=np.float32)
        )
        self.words_done = 0
        self.epoch_words = vocab.total_words
        self.epoch_reports = []
        return self

    def _mpi(self, corpus_file) -> bool:
        """True when this process is one of 2+ MPI ranks training together."""
        if getattr(self, "distributed", None) != "mpi":
            return False
        from sgns import distributed

        if distributed.world_size() < 2:
            return False
        if corpus_file is None:
            raise NotImplementedError(
                "distributed='mpi' trains from a corpus_file (each rank "
                "reads its own byte range), not from sentences"
            )
        return True

    @staticmethod
    def _describe(corpus_iterable, corpus_file) -> str:
        return repr(os.fspath(corpus_file)) if corpus_file is not None else "the sentences given"

    def _scan(self, corpus_iterable, corpus_file):
        if (corpus_iterable is None) == (corpus_file is None):
            raise TypeError("give exactly one of corpus_iterable (sentences) or corpus_file")
        if corpus_file is not None:
            with _plain_file(corpus_file) as path:
                t0 = time.perf_counter()
                table, tokens, lines, pruned = _count_file_parallel(
                    path, self.workers, self.max_vocab_size or 0
                )
                words = _DecodedWords(table)  # decoded on access: only the kept words
                counts = table.counts()
                size = os.path.getsize(path)
                logger.info(
                    "scanned %s: %d bytes in %.2fs (%.0f MB/s)",
                    os.fspath(corpus_file),
                    size,
                    time.perf_counter() - t0,
                    size / 1e6 / max(1e-9, time.perf_counter() - t0),
                )
                # A last line without "\n" is still a sentence.
                sentences = lines + (1 if size and not _ends_with_newline(path) else 0)
                return words, counts, tokens, sentences
        _check_reiterable(corpus_iterable)
        counts: dict[str, int] = {}
        tokens = sentences = 0
        min_reduce = 1
        for sentence in corpus_iterable:
            if isinstance(sentence, str):
                raise TypeError(
                    "each sentence must be a list of str tokens, got a str "
                    "(split your lines, or use corpus_file)"
                )
            sentences += 1
            for w in sentence:
                counts[w] = counts.get(w, 0) + 1
            tokens += len(sentence)
            if self.max_vocab_size and len(counts) > self.max_vocab_size:
                counts = {w: c for w, c in counts.items() if c >= min_reduce}
                min_reduce += 1
        return (
            list(counts),
            np.fromiter(counts.values(), dtype=np.int64, count=len(counts)),
            tokens,
            sentences,
        )

    # ---- training -----------------------------------------------------------

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
        (min_alpha) over epochs x total_words words (default: the
        vocabulary's in-vocabulary word count). On Ctrl-C every worker stops
        at its next sentence, the model stays consistent and usable, and
        KeyboardInterrupt is re-raised.
        """
        if self.vocab is None:
            raise RuntimeError("call build_vocab() before train()")
        corpus_iterable = corpus_iterable if corpus_iterable is not None else sentences
        if (corpus_iterable is None) == (corpus_file is None):
            raise TypeError("give exactly one of corpus_iterable (sentences) or corpus_file")
        if self._mpi(corpus_file):
            from sgns import distributed

            return distributed.train(
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
        epochs = self.epochs if epochs is None else epochs
        if not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}")
        alpha0 = self.alpha if start_alpha is None else start_alpha
        alpha1 = self.min_alpha if end_alpha is None else end_alpha
        if not (alpha0 > 0 and 0 <= alpha1 <= alpha0):
            raise ValueError("need start_alpha > 0 and 0 <= end_alpha <= start_alpha")
        compute_loss = self.compute_loss if compute_loss is None else compute_loss
        progress = self.progress if progress is None else progress
        callbacks = self.callbacks + list(callbacks)
        per_epoch = (
            int(total_words) if total_words is not None else (self.epoch_words or self.vocab.total_words)
        )
        if not self.wv.vectors.flags.writeable:
            raise ValueError(
                "the vectors are read-only (loaded with mmap='r'); load with mmap=None or 'c' to train"
            )
        self.total_train_words = per_epoch * epochs
        self.interrupted = False
        if corpus_iterable is not None:
            _check_reiterable(corpus_iterable)

        trainer = _train.Trainer(
            self.wv.vectors,
            self.syn1neg if self.negative else None,
            self.vocab.keep_probabilities(self.sample),
            self.vocab.noise_weights(self.ns_exponent),
            window=self.window,
            negative=self.negative,
            alpha=alpha0,
            min_alpha=alpha1,
            total_words=self.total_train_words,
            syn1=self.syn1 if self.hs else None,
            huffman=self._huffman,
            sg=bool(self.sg),
            cbow_mean=bool(self.cbow_mean),
            shared_negatives=self.window_batched,
            compute_loss=compute_loss,
            max_sentence=self.max_sentence_length,
        )
        logger.info(
            "training on %d words per epoch for %d epochs: %d workers, kernels %s, "
            "%s hs=%d negative=%d window=%d sample=%g alpha=%g%s",
            per_epoch,
            epochs,
            self.workers,
            _train.active_kernels(),
            "skip-gram" if self.sg else "CBOW",
            self.hs,
            self.negative,
            self.window,
            self.sample,
            alpha0,
            ", shared negatives" if self.window_batched and self.sg else "",
        )
        self._call(callbacks, "on_train_begin")
        examples = words = 0
        t_start = time.perf_counter()
        with contextlib.nullcontext() if corpus_file is None else _plain_file(corpus_file) as path:
            vocab_table = _tokenize.WordHash.from_words(self.vocab.raw_words()) if path else None
            # The ids of each worker's byte range, kept after the first epoch if they fit.
            ids_bytes = 4 * (per_epoch + self.vocab.corpus_sentences)
            cache: list | None = (
                [None] * self.workers
                if (path is not None and epochs > 1 and ids_bytes <= self.corpus_cache_mb * 2**20)
                else None
            )
            try:
                for epoch in range(epochs):
                    if trainer.stopped:
                        break
                    self._call(callbacks, "on_epoch_begin")
                    t0 = time.perf_counter()
                    if path is not None:
                        report = self._epoch_file(trainer, path, vocab_table, epoch, epochs, progress, cache)
                    else:
                        report = self._epoch_iterable(trainer, corpus_iterable, epoch, epochs, progress)
                    report.seconds = time.perf_counter() - t0
                    self.epoch_reports.append(report)
                    examples += report.examples
                    words += report.words
                    self.words_done = trainer.words_done
                    logger.info(
                        "EPOCH %d: training on %d words (%d examples) took %.1fs, %.0f words/s%s",
                        epoch + 1,
                        report.words,
                        report.examples,
                        report.seconds,
                        report.words / max(report.seconds, 1e-9),
                        f", loss {report.loss:.6g}" if compute_loss else "",
                    )
                    self.wv.norms = None  # the vectors moved: cached norms are stale
                    if trainer.stopped:
                        break
                    self._call(callbacks, "on_epoch_end")
            except KeyboardInterrupt:
                # Outside the wait for workers (no worker is running here).
                self.interrupted = True
                trainer.request_stop()
            finally:
                self.words_done = trainer.words_done
                self.wv.norms = None
        elapsed = time.perf_counter() - t_start
        if self.interrupted:
            logger.warning(
                "training interrupted after %d words (%.1f%% of the schedule); the model "
                "holds the vectors trained so far",
                self.words_done,
                100.0 * self.words_done / max(1, self.total_train_words),
            )
            raise KeyboardInterrupt
        logger.info(
            "training on %d words took %.1fs, %.0f effective words/s",
            words,
            elapsed,
            words / max(elapsed, 1e-9),
        )
        self._call(callbacks, "on_train_end")
        return examples, words

    def _epoch_file(self, trainer, path, vocab_table, epoch, epochs, progress, cache) -> EpochReport:
        size = os.path.getsize(path)
        n = max(1, min(self.workers, size // 4096 or 1))
        bounds = [size * k // n for k in range(n + 1)]
        results: list = [None] * n

        def work(k: int) -> None:
            try:
                seed = _seed(self.seed, epoch, k)
                if cache is None:
                    results[k] = trainer.train_file(path, bounds[k], bounds[k + 1], vocab_table, seed)
                    return
                if cache[k] is None:
                    ids = _train.encode_file(
                        path,
                        bounds[k],
                        bounds[k + 1],
                        vocab_table,
                        self.max_sentence_length,
                        stop=trainer.stop_flag,
                    )
                    if ids is None:  # stopped while encoding: nothing trained, nothing cached
                        results[k] = (0, 0, 0.0, True)
                        return
                    cache[k] = ids
                results[k] = trainer.train_ids(cache[k], seed)
            except BaseException as e:  # reported by the main thread
                results[k] = e
                trainer.request_stop()

        tasks = [(f"sgns-worker-{k}", functools.partial(work, k)) for k in range(n)]
        self._run_threads(tasks, trainer, epoch, epochs, progress)
        return self._collect(epoch, results)

    def _epoch_iterable(self, trainer, corpus_iterable, epoch, epochs, progress) -> EpochReport:
        index = self.vocab.index
        limit = self.max_sentence_length
        jobs: queue.Queue = queue.Queue(maxsize=2 * self.workers)
        results: list = []
        lock = threading.Lock()
        producer_error: list = []

        def produce() -> None:
            try:
                buf: list[int] = []
                chunk_no = 0
                for sentence in corpus_iterable:
                    if trainer.stopped:
                        break
                    if isinstance(sentence, str):
                        raise TypeError("each sentence must be a list of str tokens, got a str")
                    ids = [i for i in map(index.get, sentence) if i is not None]
                    # Cut long sentences where the C encoder cuts a file's lines.
                    for start in range(0, max(len(ids), 1), limit):
                        buf.extend(ids[start : start + limit])
                        buf.append(-1)
                    if len(buf) >= _ITER_CHUNK:
                        _put(jobs, (chunk_no, np.array(buf, dtype=np.int32)), trainer)
                        chunk_no += 1
                        buf = []
                if buf and not trainer.stopped:
                    _put(jobs, (chunk_no, np.array(buf, dtype=np.int32)), trainer)
            except BaseException as e:
                producer_error.append(e)
                trainer.request_stop()
            finally:
                for _ in range(self.workers):
                    _put(jobs, None, trainer, force=True)

        def work() -> None:
            while True:
                job = jobs.get()
                if job is None:
                    return
                chunk_no, ids = job
                try:
                    r = trainer.train_ids(ids, _seed(self.seed, epoch, chunk_no))
                except BaseException as e:
                    r = e
                    trainer.request_stop()
                with lock:
                    results.append(r)

        tasks = [("sgns-producer", produce)] + [(f"sgns-worker-{k}", work) for k in range(self.workers)]
        self._run_threads(tasks, trainer, epoch, epochs, progress)
        if producer_error:
            raise producer_error[0]
        return self._collect(epoch, results)

    def _run_threads(self, tasks, trainer, epoch, epochs, progress) -> None:
        """Run each (name, fn) of tasks in its own thread and wait, reporting
        progress. On Ctrl-C, stop every worker and wait until all have really
        returned, so no thread writes the weights after train() has raised."""
        t0 = time.perf_counter()
        w0 = trainer.words_done
        state = {"report": None, "next_report": t0 + 0.5, "next_log": t0 + 1.0}

        def progress_now():
            done = trainer.words_done
            rate = (done - w0) / max(time.perf_counter() - t0, 1e-9)
            return Progress(
                epoch + 1,
                epochs,
                min(1.0, done / max(1, self.total_train_words)),
                trainer.alpha,
                rate,
                rate / self.workers,
            )

        def start():
            state["report"] = _make_reporter(progress, self.workers)

        def tick():
            now = time.perf_counter()
            if state["report"] is not None and now >= state["next_report"]:
                state["report"](progress_now())
                state["next_report"] = now + 0.5
            if now >= state["next_log"]:
                p = progress_now()
                logger.info(
                    "EPOCH %d - PROGRESS: at %.2f%% examples, %.0f words/s, alpha %.6f",
                    epoch + 1,
                    100.0 * p.fraction,
                    p.words_per_sec,
                    p.alpha,
                )
                state["next_log"] = now + 1.0

        def stop():
            self.interrupted = True
            trainer.request_stop()

        if not _run_in_threads(tasks, tick=tick, on_interrupt=stop, before=start):
            if state["report"] is not None:
                state["report"](progress_now())

    @staticmethod
    def _collect(epoch: int, results) -> EpochReport:
        report = EpochReport(epoch + 1)
        for r in results:
            if isinstance(r, BaseException):
                raise r
            if r is None:
                continue
            words, examples, loss, _ = r
            report.words += words
            report.examples += examples
            report.loss += loss  # Python floats: float64 sums of float64 partials
        return report

    def _call(self, callbacks, event: str) -> None:
        for cb in callbacks:
            fn = getattr(cb, event, None)
            if fn is not None:
                fn(self)

    # ---- persistence --------------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        """Write the whole model (both weight matrices, vocabulary with counts,
        hyperparameters, learning-rate position) to one file: sgns format v1,
        no pickle (see sgns.persist). Atomic."""
        from sgns.persist import save_model

        save_model(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike, mmap: str | None = None) -> "Word2Vec":
        """Read a model written by save(). mmap='r': read-only weights
        (queries only); 'c': copy-on-write."""
        from sgns.persist import load_model

        return load_model(path, mmap=mmap, cls=cls)

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


# ---- helpers ------------------------------------------------------------------


class _DecodedWords:
    """The words of a C word table as str, decoded only when indexed."""

    def __init__(self, table):
        self.table = table

    def __len__(self) -> int:
        return len(self.table)

    def __getitem__(self, i: int) -> str:
        return decode_word(self.table.word(i))

    def take(self, ids) -> list[str]:
        return [decode_word(w) for w in self.table.words_at(ids)]


def _seed(seed: int, epoch: int, part: int) -> int:
    """A well-mixed 64-bit seed per (run seed, epoch, part of the corpus)."""
    x = seed * 0x9E3779B97F4A7C15 + epoch * 0xBF58476D1CE4E5B9 + part * 0x94D049BB133111EB + 1
    x &= 0xFFFFFFFFFFFFFFFF
    x ^= x >> 31
    return (x * 0xD6E8FEB86659FD93) & 0xFFFFFFFFFFFFFFFF


def _run_in_threads(tasks, tick=None, on_interrupt=None, before=None) -> bool:
    """Run each (name, fn) of tasks in its own daemon thread and wait until
    all have returned, calling tick() every 0.1 s meanwhile (before() first,
    inside the same Ctrl-C guard). Returns False, or True after a Ctrl-C:
    then on_interrupt() is called (it should make the threads return) and
    every started thread is waited for, so none still writes shared state.

    Completion is tracked with an Event set in each thread's `finally` (not
    Thread.join, which CPython <= 3.12 can report as finished once a
    KeyboardInterrupt has interrupted it)."""
    started: list[threading.Event] = []

    def signalling(fn, event):
        def run():
            try:
                fn()
            finally:
                event.set()

        return run

    try:
        if before is not None:
            before()
        for name, fn in tasks:
            event = threading.Event()
            threading.Thread(target=signalling(fn, event), daemon=True, name=name).start()
            started.append(event)
        for event in started:
            while not event.wait(0.1):
                if tick is not None:
                    tick()
    except KeyboardInterrupt:
        if on_interrupt is not None:
            on_interrupt()
        _wait_all(started, timeout=60.0)
        return True
    return False


def _wait_all(events, timeout: float) -> None:
    """Wait until every event is set (or timeout s), riding out further Ctrl-C."""
    deadline = time.perf_counter() + timeout
    for event in events:
        while not event.is_set() and time.perf_counter() < deadline:
            try:
                event.wait(0.1)
            except KeyboardInterrupt:
                pass


def _put(q: queue.Queue, item, trainer, force: bool = False) -> None:
    while True:
        if trainer.stopped and not force:
            return
        try:
            q.put(item, timeout=0.1)
            return
        except queue.Full:
            if force and trainer.stopped:
                # Workers may be gone; make room for the sentinel.
                try:
                    q.get_nowait()
                except queue.Empty:
                    pass


def _check_reiterable(corpus) -> None:
    if iter(corpus) is corpus:
        raise TypeError(
            "the corpus must be re-iterable (a list, or an object whose __iter__ "
            "starts over), not a one-shot iterator or generator"
        )


def _make_reporter(progress, workers):
    if callable(progress):
        return progress
    if progress:
        try:
            from tqdm import tqdm
        except ImportError:
            logger.warning("progress=True needs tqdm (pip install tqdm); logging only")
            return None
        bar = tqdm(
            total=100, unit="%", bar_format="{l_bar}{bar}| {n:.1f}/100% [{elapsed}<{remaining}{postfix}]"
        )

        def show(p: Progress) -> None:
            bar.n = round(100 * p.fraction, 1)
            bar.set_postfix_str(
                f"epoch {p.epoch}/{p.epochs}, alpha {p.alpha:.5f}, {p.words_per_sec / 1000:.0f}k words/s",
                refresh=False,
            )
            bar.refresh()
            if p.fraction >= 1.0:
                bar.close()

        return show
    return None


def _ends_with_newline(path) -> bool:
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def _count_file_parallel(path, workers: int, max_vocab_size: int, start: int = 0, end: int | None = None):
    """Count the words of path[start:end) (end None: the whole file) in byte
    ranges on up to `workers` threads (the C scanner releases the GIL), then
    merge in first-seen order. Ctrl-C stops every scanner within ~1 MiB of
    input and re-raises KeyboardInterrupt once they have all returned."""
    if end is None:
        end = os.path.getsize(path)
    n = 1 if max_vocab_size or end - start < (8 << 20) else max(1, min(workers, 8))
    bounds = [start + (end - start) * k // n for k in range(n + 1)]
    results: list = [None] * n
    stop = np.zeros(1, dtype=np.int32)

    def work(k: int) -> None:
        try:
            results[k] = _tokenize.count_file(
                path, bounds[k], bounds[k + 1], None, max_vocab_size if n == 1 else 0, stop=stop
            )
        except BaseException as e:  # re-raised below
            results[k] = e

    tasks = [(f"sgns-count-{k}", functools.partial(work, k)) for k in range(n)]
    if _run_in_threads(tasks, on_interrupt=lambda: stop.fill(1)):
        raise KeyboardInterrupt
    for r in results:
        if isinstance(r, BaseException):
            raise r
    table, tokens, lines, pruned = results[0]
    for other, t2, l2, _ in results[1:]:
        table.merge(other)
        tokens += t2
        lines += l2
    return table, tokens, lines, pruned


@contextmanager
def _plain_file(corpus_file):
    """Yield a path the C reader can read: the file itself, or a temporary
    decompressed copy of a .gz/.bz2/.xz file."""
    path = os.fspath(corpus_file)
    if not os.path.exists(path):
        raise FileNotFoundError(f"corpus file not found: {os.fsdecode(path)!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"corpus path is a directory: {os.fsdecode(path)!r}")
    opener = _COMPRESSED.get(os.path.splitext(os.fsdecode(path))[1].lower())
    if opener is None:
        yield path
        return
    with scratch_copy(lambda: opener(path, "rb"), prefix="sgns-corpus-") as tmp:
        yield tmp
