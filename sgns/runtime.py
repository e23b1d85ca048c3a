"""What every training run needs around the kernel, shared by Word2Vec and
the MPI backend: worker threads that stop cleanly on Ctrl-C, progress
reports and callbacks, per-part seeds, corpus-file helpers (decompression,
parallel counting, byte-range shards) and per-epoch reports.

Nothing here knows a model class: functions take the arrays, trainers and
callables they work on.
"""

from __future__ import annotations

import functools
import importlib
import logging
import math
import os
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sgns._tokenize import CountFilter, count_file, count_filtered, filter_file
from sgns._train import encode_file
from sgns.textfiles import ENCODING, ERRORS, decode_word
from sgns.threads import run_in_threads, split_range

logger = logging.getLogger(__name__)

# A worker's result: (words, examples, loss, stopped), an exception, or None.
PartResult = Any


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
    effective_words: int = 0  # words kept by subsampling (gensim's "effective words")
    raw_words: int = 0  # tokens read, in or out of the vocabulary (sentences only; 0 for files)


@dataclass
class Progress:
    """Passed to a `progress` callable about twice a second while training."""

    epoch: int
    epochs: int
    fraction: float  # of the whole run, 0..1
    alpha: float
    words_per_sec: float
    words_per_thread_per_sec: float


# ---- seeds ----------------------------------------------------------------------


def part_seed(seed: int, epoch: int, part: int) -> int:
    """A well-mixed 64-bit seed per (run seed, epoch, part of the corpus)."""
    x = seed * 0x9E3779B97F4A7C15 + epoch * 0xBF58476D1CE4E5B9 + part * 0x94D049BB133111EB + 1
    x &= 0xFFFFFFFFFFFFFFFF
    x ^= x >> 31
    return (x * 0xD6E8FEB86659FD93) & 0xFFFFFFFFFFFFFFFF


# ---- threads and Ctrl-C -----------------------------------------------------------


def put_job(q: queue.Queue, item, trainer, force: bool = False) -> None:
    """Put item on q unless the trainer has stopped; force: put it anyway
    (a sentinel), making room if the workers are gone."""
    while True:
        if trainer.stopped and not force:
            return
        try:
            q.put(item, timeout=0.1)
            return
        except queue.Full:
            if force and trainer.stopped:
                try:
                    q.get_nowait()
                except queue.Empty:
                    pass


def check_sentence(sentence) -> None:
    """A sentence is a sequence of str tokens: a str or bytes would be
    iterated as characters or integers."""
    if isinstance(sentence, (str, bytes, bytearray)):
        kind = type(sentence).__name__
        raise TypeError(
            f"each sentence must be a list of str tokens, got a {kind} "
            "(split your lines, decode bytes, or use corpus_file)"
        )


def check_epoch_words(report: EpochReport, first_words: int | None) -> int:
    """An iterable whose __iter__ does not really start over (a shared file
    handle, a generator kept in an attribute) yields nothing, or much less,
    in later passes: refuse instead of training on nothing. Returns the
    first epoch's word count."""
    words = report.words
    if words == 0 and report.raw_words > 0 and not first_words:
        # gensim's online training: a batch with no vocabulary word trains nothing
        logger.warning(
            "epoch %d read %d words, none in the vocabulary: nothing to train", report.epoch, report.raw_words
        )
        return 0
    if words == 0:
        raise ValueError(
            f"epoch {report.epoch} read no vocabulary words from the corpus iterable: its __iter__ "
            "must start over on every call (not return a shared file handle or iterator), and "
            "its tokens must be the vocabulary's str words"
        )
    if first_words is not None and words < first_words // 2:
        raise ValueError(
            f"epoch {report.epoch} read {words} words, epoch 1 read {first_words}: the corpus "
            "iterable's __iter__ does not start over on every call"
        )
    return words if first_words is None else first_words


# Below this many words, a schedule that is off is not worth a warning (online
# training on small batches estimates words from sentences, not exactly).
_SCHEDULE_SLACK_WORDS = 1000


def warn_schedule_mismatch(report: EpochReport, per_epoch: int) -> None:
    """The learning rate falls over per_epoch words an epoch (from
    total_words / total_examples, or the corpus build_vocab counted). An epoch
    that reads far more or fewer (a wrong count, another corpus) decays it too
    fast (the rest at min_alpha) or too little: say so, as gensim does."""
    words = report.words
    if words and abs(words - per_epoch) > max(0.1 * max(words, per_epoch), _SCHEDULE_SLACK_WORDS):
        logger.warning(
            "epoch %d read %d vocabulary words, but the learning-rate schedule counts %d an epoch "
            "(total_words / total_examples, or the corpus build_vocab counted): the rate %s; give "
            "this corpus's total_words or total_examples",
            report.epoch,
            words,
            per_epoch,
            "reaches min_alpha early" if words > per_epoch else "never falls to min_alpha",
        )


def check_reiterable(corpus) -> None:
    if iter(corpus) is corpus:
        raise TypeError(
            "the corpus must be re-iterable (a list, or an object whose __iter__ "
            "starts over), not a one-shot iterator or generator"
        )


# ---- progress, callbacks and reports --------------------------------------------------


def make_reporter(progress, workers: int):
    """The callable that shows Progress: `progress` itself if callable, a
    tqdm bar if True (and tqdm is installed), else None."""
    if callable(progress):
        return progress
    if not progress:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        logger.warning("progress=True needs tqdm (pip install tqdm); logging only")
        return None
    bar = tqdm(total=100, unit="%", bar_format="{l_bar}{bar}| {n:.1f}/100% [{elapsed}<{remaining}{postfix}]")

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


class ProgressTicker:
    """Calls `report` (a Progress callable or None) about twice a second and
    logs gensim's "EPOCH n - PROGRESS" line once a second. Rates count the
    words since `start_words` was read at construction."""

    def __init__(self, report, epochs: int, total_words: int, threads: int, start_words: int = 0):
        self.report = report
        self.epochs = epochs
        self.total_words = total_words
        self.threads = threads
        self.t0 = time.perf_counter()
        self.w0 = start_words
        self.next_report = self.t0 + 0.5
        self.next_log = self.t0 + 1.0

    def progress(self, epoch: int, words_done: int, alpha: float) -> Progress:
        rate = (words_done - self.w0) / max(time.perf_counter() - self.t0, 1e-9)
        fraction = min(1.0, words_done / max(1, self.total_words))
        return Progress(epoch + 1, self.epochs, fraction, alpha, rate, rate / self.threads)

    def __call__(self, epoch: int, words_done: int, alpha: float, force: bool = False) -> None:
        """force: report now (the end of a run), without a log line."""
        now = time.perf_counter()
        if self.report is not None and (force or now >= self.next_report):
            self.report(self.progress(epoch, words_done, alpha))
            self.next_report = now + 0.5
        if not force and now >= self.next_log:
            p = self.progress(epoch, words_done, alpha)
            logger.info(
                "EPOCH %d - PROGRESS: at %.2f%% examples, %.0f words/s, alpha %.6f",
                epoch + 1,
                100.0 * p.fraction,
                p.words_per_sec,
                p.alpha,
            )
            self.next_log = now + 1.0


def call_callbacks(model, callbacks, event: str) -> None:
    """Call event(model) on every callback that defines it."""
    for cb in callbacks:
        fn = getattr(cb, event, None)
        if fn is not None:
            fn(model)


def collect(epoch: int, results) -> EpochReport:
    """Sum the workers' (words, examples, loss, stopped, kept) results into
    the report of `epoch` (0-based); re-raise the first worker exception."""
    report = EpochReport(epoch + 1)
    for r in results:
        if isinstance(r, BaseException):
            raise r
        if r is None:
            continue
        words, examples, loss, _, kept = r
        report.words += words
        report.effective_words += kept
        report.examples += examples
        report.loss += loss  # Python floats: float64 sums of float64 partials
    return report


def log_epoch(report: EpochReport, compute_loss: bool, where: str = "") -> None:
    logger.info(
        "EPOCH %d: training on %d words (%d examples)%s took %.1fs, %.0f words/s%s",
        report.epoch,
        report.words,
        report.examples,
        where,
        report.seconds,
        report.words / max(report.seconds, 1e-9),
        f", loss {report.loss:.6g}" if compute_loss else "",
    )


def log_done(words: int, elapsed: float) -> None:
    logger.info(
        "training on %d words took %.1fs, %.0f effective words/s", words, elapsed, words / max(elapsed, 1e-9)
    )


# ---- corpus files ---------------------------------------------------------------------


def sentence_count(path, size: int, lines: int) -> int:
    """Sentences of a file of `size` bytes with `lines` newlines: a last
    line without "\\n" is still a sentence."""
    if not size:
        return lines
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return lines + (f.read(1) != b"\n")


class DecodedWords:
    """The words of a C word table as str, decoded only when indexed."""

    def __init__(self, table):
        self.table = table

    def __len__(self) -> int:
        return len(self.table)

    def __getitem__(self, i: int) -> str:
        return decode_word(self.table.word(i))

    def take(self, ids) -> list[str]:
        return self.table.words_at(ids, ENCODING, ERRORS)


def count_file_parallel(
    path,
    workers: int,
    max_vocab_size: int,
    start: int = 0,
    end: int | None = None,
    min_count: int = 1,
    sentence_words: int = 10000,
):
    """Count the words of path[start:end) (end None: the whole file) in byte
    ranges on up to `workers` threads (the C scanner releases the GIL), then
    merge in first-seen order. Ctrl-C stops every scanner within ~1 MiB of
    input and re-raises KeyboardInterrupt once they have all returned.
    Returns (word table, tokens, lines, pruned). max_vocab_size prunes after
    each sentence: a line, or sentence_words words of a longer one.

    When counts_filtered(min_count, max_vocab_size), the table holds only
    the words counted at least min_count times, counted exactly in two
    passes: a count filter first rules out the many rare words, so no table
    ever holds them (csrc/countfilter.h)."""
    if end is None:
        end = os.path.getsize(path)
    n = 1 if max_vocab_size or end - start < (8 << 20) else max(1, min(workers, 8))
    bounds = split_range(start, end, n)
    if counts_filtered(min_count, max_vocab_size):
        return _count_filtered(path, bounds, min_count)
    results = _in_ranges(
        lambda k, stop: count_file(
            path,
            bounds[k],
            bounds[k + 1],
            None,
            max_vocab_size if n == 1 else 0,
            stop=stop,
            sentence_words=sentence_words,
        ),
        n,
    )
    table, tokens, lines, pruned = results[0]
    for other, t2, l2, _ in results[1:]:
        table.merge(other)
        tokens += t2
        lines += l2
    return table, tokens, lines, pruned


def counts_filtered(min_count: int, max_vocab_size: int | None) -> bool:
    """Whether count_file_parallel returns only the words counted at least
    min_count times."""
    return min_count > 1 and not max_vocab_size


# Count-filter memory of all counting threads together.
_FILTER_BYTES = 64 << 20


def _count_filtered(path, bounds: list[int], min_count: int):
    n = len(bounds) - 1
    # About one counter byte per 4 input bytes: a few per word type.
    size = max(1, min((bounds[-1] - bounds[0]) // (4 * n), _FILTER_BYTES // n))
    filters = [CountFilter(size, min(min_count, 255)) for _ in range(n)]
    scans = _in_ranges(lambda k, stop: filter_file(path, bounds[k], bounds[k + 1], filters[k], stop=stop), n)
    through = filters.pop(0)
    while filters:  # freeing each filter once merged
        through.merge(filters.pop(0))
    tables = _in_ranges(
        lambda k, stop, f=through: count_filtered(path, bounds[k], bounds[k + 1], f, stop=stop), n
    )
    del through  # the lambda, its last other holder, is gone
    table = tables.pop(0)
    while tables:
        table.merge(tables.pop(0))
    table.prune(min_count)
    return table, sum(s[0] for s in scans), sum(s[1] for s in scans), 0


def _in_ranges(count: Callable, n: int) -> list:
    """[count(k, stop) for k in range(n)], each on its own thread; stop is the
    int32 flag that Ctrl-C raises (then KeyboardInterrupt once all returned).
    The first exception of a thread is re-raised."""
    results: list = [None] * n
    stop = np.zeros(1, dtype=np.int32)

    def work(k: int) -> None:
        try:
            results[k] = count(k, stop)
        except BaseException as e:  # noqa: BLE001 (re-raised below)
            results[k] = e

    tasks = [(f"sgns-count-{k}", functools.partial(work, k)) for k in range(n)]
    if run_in_threads(tasks, on_interrupt=lambda: stop.fill(1)):
        raise KeyboardInterrupt
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results


# A shard's cache entry once its ids outgrew its share of the budget: the
# shard is streamed from the file every epoch instead.
STREAM = "stream"
# Bytes of text encoded at a time while caching a shard.
_PIECE_MIN, _PIECE_MAX = 64 << 10, 64 << 20


@dataclass
class FileShards:
    """A corpus file cut into one byte range per worker thread, and the word
    ids of each range once encoded (cache, or None to stream every epoch)."""

    path: str | bytes
    vocab_table: Any
    bounds: list[int]
    max_sentence: int
    cache: list | None
    cache_bytes: float = math.inf  # the cache's budget, shared equally by the shards

    @property
    def threads(self) -> int:
        return len(self.bounds) - 1

    def train(self, trainer, k: int, seed: int, rnd: int = 0, rounds: int = 1) -> PartResult:
        """Train shard k's round `rnd` of `rounds` (equal slices of its bytes,
        or of its cached ids) with `seed`; a tuple of the trainer's counts."""
        a, b = self.bounds[k], self.bounds[k + 1]
        if self.cache is not None and self.cache[k] is None:
            self.cache[k] = self.encode_within(a, b, trainer.stop_flag, self.cache_bytes / self.threads)
            if self.cache[k] is None:  # stopped while encoding: nothing trained, nothing cached
                return (0, 0, 0.0, True, 0)
        if self.cache is None or self.cache[k] is STREAM:
            lo, hi = a + (b - a) * rnd // rounds, a + (b - a) * (rnd + 1) // rounds
            return trainer.train_file(self.path, lo, hi, self.vocab_table, seed)
        ids = self.cache[k]
        if rounds == 1:
            return trainer.train_ids(ids, seed)
        return trainer.train_ids(ids[len(ids) * rnd // rounds : len(ids) * (rnd + 1) // rounds], seed)

    def encode_within(self, start: int, end: int, stop, budget: float):
        """The ids of path[start:end) if they fit in `budget` bytes, else
        STREAM; None if stopped. Encoded piece by piece, so a corpus bigger
        than its vocabulary suggested costs at most about the budget (+ one
        piece) before caching is given up. With one piece (the usual case)
        the ids are those of one encode_file call: training is unchanged."""
        piece = int(min(_PIECE_MAX, max(_PIECE_MIN, budget // 4)))
        parts, used = [], 0
        for a in range(start, end, piece):
            ids = encode_file(
                self.path, a, min(end, a + piece), self.vocab_table, self.max_sentence, stop=stop
            )
            if ids is None:
                return None
            used += ids.nbytes
            if used > budget:
                return STREAM
            parts.append(ids)
        if len(parts) == 1:
            return parts[0]
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int32)

    def tasks(self, trainer, seed_of: Callable[[int], int], name: str, rnd: int = 0, rounds: int = 1):
        """(thread name, function) per shard, for run_in_threads, and the
        list their results land in (an exception stops the trainer)."""
        results: list = [None] * self.threads

        def work(k: int) -> None:
            try:
                results[k] = self.train(trainer, k, seed_of(k), rnd, rounds)
            except BaseException as e:  # noqa: BLE001 (re-raised by collect in the main thread)
                results[k] = e
                trainer.request_stop()

        return [(f"{name}-{k}", functools.partial(work, k)) for k in range(self.threads)], results


# ---- backends -------------------------------------------------------------------------

# Training backends that take over build_vocab/train of a model when active
# (name -> object with active(), build_vocab(model, corpus_file) and
# train(model, corpus_file, **train_arguments)); sgns.distributed adds "mpi".
BACKENDS: dict[str, Any] = {}
# The module that registers a backend, imported when the backend is first
# asked for (so `import sgns` does not load the MPI code).
BACKEND_MODULES = {"mpi": "sgns.distributed"}


def register_backend(name: str, backend) -> None:
    BACKENDS[name] = backend


def backend(name: str):
    """The backend registered as `name`, or None."""
    if name not in BACKENDS and name in BACKEND_MODULES:
        importlib.import_module(BACKEND_MODULES[name])
    return BACKENDS.get(name)
