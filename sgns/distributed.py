"""Data-parallel training over MPI (Open MPI, MPICH, ... through mpi4py).

    mpirun -np 4 sgns -train corpus.txt -output vectors.bin ...
    mpirun -np 4 python -c 'import sgns; sgns.Word2Vec(corpus_file="corpus.txt", distributed="mpi")'

N processes ("ranks") train one model. Each rank reads only its own byte
range of the corpus file, [r*size/N, (r+1)*size/N), split further among its
`workers` threads (Hogwild inside the rank, as in single-process training).

Vocabulary: every rank counts its range (C scanner, GIL released), the word
tables are gathered to rank 0 and merged in rank order -- first-seen order
of the whole file, so the vocabulary is the one single-process counting
builds -- filtered by Vocabulary.from_counts and broadcast. Every rank then
initialises the weights from the same seed; a hash of the vocabulary and the
initial weights is compared across ranks (identical init is asserted).

Training runs in rounds: each rank trains `sync_words` words (read, before
subsampling; default 100k for 2 ranks, 40000 / N for more) of its range,
then the ranks combine their models with MPI Allreduce on the float32
matrices, in place, and sum their word counts, so the learning rate follows
the GLOBAL word count. Every rank
cuts its range into the same number of rounds, so the collectives always
match, and after the last round of each epoch every rank holds the same
model.

sync="sum" (default) adds up the ranks' updates since the last
synchronisation, W = S + sum_r (W_r - S): each update counts whole, as the
threads of one process apply theirs (Hogwild, with the other ranks' updates
one round late). The most frequent rows (the vocabulary is sorted by count)
are exchanged after every round, the next ones every second round, and so
on, every row at the end of each epoch (pWord2Vec's schedule; `hot_rows`
rows at every sync). sync="mean" averages whole matrices, W = mean_r W_r
(model averaging): it divides every update by N and measured far worse
(docs/distributed.md). Too long a round makes "sum" diverge for N > 2: N
stale updates of the busiest rows overshoot; the default keeps the words
trained by ALL ranks between two syncs constant (40000) from 3 ranks on.

Errors: a failure that all ranks see alike (an empty vocabulary, a missing
file) is raised on every rank; an unexpected exception in one rank prints a
message and calls comm.Abort, so mpirun never hangs. Ctrl-C (SIGINT) or
SIGTERM or SIGUSR1 in any rank sets a stop flag: that rank's threads stop at
their next sentence, every rank reaches the next synchronisation, all rows
are combined one last time and KeyboardInterrupt is raised on every rank
(the CLI's rank 0 then writes the vectors trained so far). `kill -USR1
<mpirun pid>` reaches every rank (Open MPI forwards SIGUSR1); Ctrl-C on
mpirun itself becomes SIGTERM for every rank and SIGKILL a second later.

mpi4py is optional (pip install 'sgns[mpi]'). Without it, or outside an MPI
launch (COMM_WORLD of size 1), nothing changes: training is single-process.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence

import numpy as np

from sgns import guards, padded_rows, runtime
from sgns._tokenize import WordHash
from sgns.model import TrainingPlan, Word2Vec
from sgns.runtime import EpochReport
from sgns.textfiles import check_corpus_path, compressed_opener
from sgns.threads import run_in_threads, split_range
from sgns.vocab import Vocabulary

logger = logging.getLogger(__name__)

# Words (read, before subsampling) ALL ranks together train between two
# synchronisations: each rank trains DEFAULT_GLOBAL_SYNC_WORDS / N. Measured
# on the benchmark corpus (docs/distributed.md): with 4 ranks, summing the
# ranks' updates matched one process at 10k words per rank and diverged at
# 25k (N stale updates of the busiest rows add up to an overshoot). Two
# ranks overshoot at most 2x, the edge of stability: they never diverged
# (up to 3M words per rank) and matched one process up to 200k.
DEFAULT_GLOBAL_SYNC_WORDS = 40_000
TWO_RANK_SYNC_WORDS = 100_000
MIN_SYNC_WORDS = 1000
# Rows synchronised after every round (pWord2Vec's min-sync-words).
HOT_ROWS = 1024
SYNC_MODES = ("sum", "mean")

# Environment variables that MPI launchers set to the number of processes.
# Read before importing mpi4py, so a plain run never initialises MPI.
_SIZE_ENV = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS")
# Set by launchers that do not say the size before MPI_Init (srun --mpi=pmix
# or pmi2): then mpi4py is asked.
_RANK_ENV = ("PMIX_RANK", "PMI_RANK")
# Elements per Allreduce call: MPI counts are C ints, and smaller messages
# bound the library's temporary buffers.
_ALLREDUCE_CHUNK = 1 << 24


# ---- launch detection --------------------------------------------------------


def default_sync_words(n: int) -> int:
    """Words per rank between synchronisations for n ranks: 100k for 2,
    40000 / n (at least 1000) for more."""
    if n <= 2:
        return TWO_RANK_SYNC_WORDS
    return max(MIN_SYNC_WORDS, DEFAULT_GLOBAL_SYNC_WORDS // n)


def _settable_words_done(trainer) -> bool:
    try:
        trainer.words_done = trainer.words_done
    except AttributeError:  # a read-only property: no setter in this build
        return False
    return True


def launched_size() -> int:
    """Processes in the MPI job this process was started in, from the
    launcher's environment (1 when not started by mpirun/mpiexec/srun)."""
    for name in _SIZE_ENV:
        try:
            n = int(os.environ.get(name, ""))
        except ValueError:
            continue
        if n >= 1:
            return n
    return 1


_COMM = None
_COMM_DONE = False


def get_comm():
    """MPI.COMM_WORLD when this process is one of several MPI ranks, else
    None (not launched by MPI, a job of one process, or mpi4py missing --
    the last logged as a warning when the launcher says N > 1)."""
    global _COMM, _COMM_DONE
    if _COMM_DONE:
        return _COMM
    _COMM_DONE = True
    size = launched_size()
    if size <= 1 and not (
        any(name in os.environ for name in _RANK_ENV) and not any(name in os.environ for name in _SIZE_ENV)
    ):
        return None
    try:
        from mpi4py import MPI
    except ImportError:
        logger.warning(
            "started by an MPI launcher%s, but mpi4py is not installed "
            "(pip install 'sgns[mpi]'): every process trains on its own",
            f" with {size} processes" if size > 1 else "",
        )
        return None
    comm = MPI.COMM_WORLD
    _COMM = comm if comm.Get_size() > 1 else None
    return _COMM


def world_size() -> int:
    """Ranks that would train together (1 when not distributed)."""
    comm = get_comm()
    return comm.Get_size() if comm is not None else 1


def rank() -> int:
    comm = get_comm()
    return comm.Get_rank() if comm is not None else 0


def is_root() -> bool:
    """True on rank 0, and in a process that is not distributed."""
    return rank() == 0


def require_comm(comm=None):
    """The communicator to train over: `comm`, or COMM_WORLD of the MPI
    launch. Raises if none (distributed='mpi' outside mpirun is allowed by
    the Word2Vec hook, which checks world_size() first)."""
    if comm is not None:
        return comm
    comm = get_comm()
    if comm is None:
        if launched_size() > 1:
            raise ImportError(
                f"distributed='mpi' under an MPI launch of {launched_size()} "
                "processes needs mpi4py: pip install 'sgns[mpi]'"
            )
        raise RuntimeError(
            "distributed training needs an MPI launch of 2 or more processes (mpirun -np N ...)"
        )
    return comm


# ---- error handling ----------------------------------------------------------


class AbortOnError:
    """On an exception in one rank, print it and end the whole job with
    comm.Abort: the other ranks would otherwise wait in a collective forever
    (and MPI_Finalize may wait for them too). _Agreed errors, raised by every
    rank alike, pass through. A KeyboardInterrupt here is one rank's alone
    (training turns Ctrl-C into a coordinated stop outside these blocks):
    it aborts with status 130."""

    def __init__(self, comm, what: str):
        self.comm = comm
        self.what = what

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is None or issubclass(kind, (_Agreed, GeneratorExit)):
            return False
        r, n = self.comm.Get_rank(), self.comm.Get_size()
        code = 130 if issubclass(kind, KeyboardInterrupt) else 1
        try:
            if code == 130:
                sys.stderr.write(f"sgns: rank {r} of {n}: interrupted during {self.what}\n")
            else:
                sys.stderr.write(
                    f"sgns: rank {r} of {n}: error during {self.what}: {kind.__name__}: {value}\n"
                )
                sys.stderr.write("".join(traceback.format_exception(kind, value, tb)))
            sys.stderr.write(f"sgns: rank {r}: aborting all {n} MPI processes\n")
            sys.stderr.flush()
        finally:
            self.comm.Abort(code)
        return False


class _Agreed(Exception):
    """Wraps an error that every rank raises at the same point."""

    def __init__(self, error: BaseException):
        super().__init__(str(error))
        self.error = error


def _agree(comm, error: BaseException | None) -> None:
    """Collective: if any rank has an error, every rank raises the first
    one (by rank) -- a missing file on one node stops all, cleanly."""
    errors = comm.allgather(None if error is None else (type(error), str(error)))
    for r, e in enumerate(errors):
        if e is not None:
            kind, message = e
            if not (isinstance(kind, type) and issubclass(kind, Exception)):
                kind = RuntimeError
            try:
                exc = kind(f"rank {r}: {message}" if r != comm.Get_rank() or error is None else message)
            except Exception:  # noqa: BLE001 (a kind that cannot be rebuilt from its message)
                exc = RuntimeError(f"rank {r}: {message}")
            raise _Agreed(exc)


def _unwrap(fn):
    """Turn _Agreed back into the error it carries, for the caller."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except _Agreed as e:
            raise e.error from None

    return run


# ---- vocabulary --------------------------------------------------------------


def _rank_range(size: int, r: int, n: int) -> tuple[int, int]:
    return size * r // n, size * (r + 1) // n


def _check_corpus(comm, corpus_file) -> str:
    """Collective: every rank sees the same plain file of the same size."""
    path = os.fspath(corpus_file)
    error = None
    size = -1
    try:
        check_corpus_path(path)
        if compressed_opener(path) is not None:
            raise ValueError(
                f"distributed training reads byte ranges of a plain text file; "
                f"decompress {os.fsdecode(path)!r} first"
            )
        size = os.path.getsize(path)
    except Exception as e:  # noqa: BLE001 (raised on every rank by _agree)
        error = e
    _agree(comm, error)
    sizes = comm.allgather(size)
    if len(set(sizes)) != 1:
        _agree(
            comm,
            ValueError(
                f"the ranks see different sizes of {os.fsdecode(path)!r}: "
                f"{sizes} (every node needs the same file)"
            ),
        )
    return path


def _pack_words(words: list[bytes]) -> bytes:
    # Corpus words never contain NUL (a separator for the tokenizer).
    return b"\0".join(words)


def _unpack_words(blob: bytes, n: int) -> list[bytes]:
    return blob.split(b"\0") if n else []


@_unwrap
def build_vocab(model, corpus_file, *, comm=None):
    """Collective: count each rank's byte range, merge on rank 0 in rank
    order, filter (model.min_count, model.max_final_vocab), broadcast, and
    initialise model's weights identically on every rank. Returns model."""
    comm = require_comm(comm)
    with AbortOnError(comm, "vocabulary building"):
        path = _check_corpus(comm, corpus_file)
        r, n = comm.Get_rank(), comm.Get_size()
        size = os.path.getsize(path)
        start, end = _rank_range(size, r, n)
        t0 = time.perf_counter()
        if end > start:
            table, tokens, lines, _ = runtime.count_file_parallel(
                path,
                model.workers,
                model.max_vocab_size or 0,
                start,
                end,
                sentence_words=model.max_sentence_length,
            )
        else:
            table, tokens, lines = WordHash(), 0, 0
        local = (_pack_words(table.words()), table.counts(), len(table), tokens, lines)
        del table
        t_count = time.perf_counter() - t0
        parts = comm.gather(local, root=0)
        del local
        payload = None
        if r == 0:
            payload = _merge_and_filter(model, path, size, parts)
            del parts
        payload = comm.bcast(payload, root=0)
        if payload[0] == "error":
            raise _Agreed(ValueError(payload[1]))
        _, words, counts, corpus_words, sentences, effective = payload
        vocab = Vocabulary(
            words,
            counts,
            corpus_words=corpus_words,
            corpus_sentences=sentences,
            effective_min_count=effective,
        )
        model.build_vocab(vocab=vocab)
        _assert_identical(comm, model, "initial weights")
        if r == 0:
            logger.info(
                "distributed vocabulary over %d ranks: counted %d bytes per rank in %.2fs; %d words",
                n,
                end - start,
                t_count,
                len(vocab),
            )
        return model


@_unwrap
def build_vocab_from(model, corpus_file, load_vocab: Callable[[], Vocabulary], *, comm=None):
    """Collective: the vocabulary from load_vocab() on every rank (say, from
    a -read-vocab file) instead of counting corpus_file; an OSError or
    ValueError in any rank is raised on every rank. Initialises model's
    weights identically on every rank. Returns model."""
    comm = require_comm(comm)
    with AbortOnError(comm, "reading the vocabulary"):
        error = vocab = None
        try:
            vocab = load_vocab()
        except (OSError, ValueError) as e:
            error = e
        _agree(comm, error)
        _check_corpus(comm, corpus_file)
        model.build_vocab(vocab=vocab)
        _assert_identical(comm, model, "initial weights")
        return model


def _merge_and_filter(model, path, size, parts):
    table = WordHash(1 << 16)
    tokens = lines = 0
    for blob, counts, n_words, part_tokens, part_lines in parts:  # rank order: the file's first-seen order
        for w, c in zip(_unpack_words(blob, n_words), counts.tolist()):
            table.add(w, c)
        tokens += part_tokens
        lines += part_lines
    if len(table) == 0:
        return ("error", f"the corpus is empty: no words in {os.fsdecode(path)!r}")
    sentences = runtime.sentence_count(path, size, lines)
    vocab = Vocabulary.from_counts(
        runtime.DecodedWords(table),
        table.counts(),
        min_count=model.min_count,
        max_final_vocab=model.max_final_vocab,
        corpus_words=tokens,
        corpus_sentences=sentences,
    )
    if len(vocab) == 0:
        return (
            "error",
            (
                f"empty vocabulary: no word occurs at least min_count="
                f"{vocab.effective_min_count} times (the corpus has {tokens} words); lower min_count"
            ),
        )
    return (
        "ok",
        vocab.words,
        vocab.counts,
        vocab.corpus_words,
        vocab.corpus_sentences,
        vocab.effective_min_count,
    )


def model_digest(model) -> str:
    """Hash of the vocabulary and every weight matrix (hex)."""
    h = hashlib.blake2b(digest_size=16)
    h.update("\n".join(model.wv.index_to_key).encode("utf-8", "surrogateescape"))
    for a in (model.wv.vectors, model.syn1neg, model.syn1):
        for rows in padded_rows.row_blocks(a):
            h.update(np.ascontiguousarray(a[rows]).view(np.uint8).data)
    return h.hexdigest()


def _assert_identical(comm, model, what: str) -> None:
    digests = comm.allgather(model_digest(model))
    if len(set(digests)) != 1:
        raise _Agreed(
            RuntimeError(
                f"the ranks' {what} differ (digests {digests}); "
                "same seed, same vocabulary should give identical weights"
            )
        )


# ---- synchronisation ---------------------------------------------------------


def _allreduce_sum(comm, a: np.ndarray) -> None:
    """In-place sum over ranks of an array, in chunks. Rows with a stride
    wider than the row (weights padded to cache lines, sgns.padded_rows) go
    through a contiguous copy of a block of rows at a time: reshape would
    copy the whole matrix and the sum would never reach it."""
    from mpi4py import MPI

    if a.flags.c_contiguous:
        flat = a.reshape(-1)
        for s in range(0, flat.size, _ALLREDUCE_CHUNK):
            comm.Allreduce(MPI.IN_PLACE, flat[s : s + _ALLREDUCE_CHUNK], op=MPI.SUM)
        return
    for rows in padded_rows.row_blocks(a, _ALLREDUCE_CHUNK * a.itemsize):
        block = np.ascontiguousarray(a[rows])
        comm.Allreduce(MPI.IN_PLACE, block, op=MPI.SUM)
        a[rows] = block


class _Sync:
    """Combines the ranks' weight matrices after each round.

    sum (default): W = S + sum over ranks of (W_r - S), S the rows as of
        their last synchronisation: every rank's update is applied whole, as
        the threads of one process apply theirs (Hogwild, with the other
        ranks' updates arriving one round late). Needs a snapshot S of the
        matrices (twice the memory). Rows are synchronised on pWord2Vec's
        schedule: the `hot_rows` most frequent rows (the vocabulary is sorted
        by count) after every round, twice as many every second round, four
        times as many every fourth, ..., and every row at the end of each
        epoch. The frequent rows change fastest; the rare rows, updated
        rarely, can wait.
    mean: W = (sum over ranks of W_r) / N, all rows, every round (model
        averaging; every update is divided by N -- measured much worse).

    bytes: matrix bytes each rank put into the Allreduces (a ring allreduce
    sends 2(N-1)/N of that per rank)."""

    def __init__(self, comm, model, mode: str, hot_rows: int):
        self.comm = comm
        self.n = comm.Get_size()
        self.mode = mode
        self.hot_rows = max(1, int(hot_rows))
        # (matrix, hot end): output rows of hierarchical softmax are tree
        # nodes, the busiest (nearest the root) at the end.
        self.parts = [
            (m, end)
            for m, end in ((model.wv.vectors, "head"), (model.syn1neg, "head"), (model.syn1, "tail"))
            if m.size
        ]
        self.snapshots = [m.copy() for m, _ in self.parts] if mode == "sum" else None
        self.syncs = 0
        self.bytes = 0
        self.rows = 0  # rows exchanged
        self.rows_total = 0  # rows a full sync exchanges
        self.seconds = 0.0

    def __call__(self, full: bool) -> None:
        t0 = time.perf_counter()
        self.syncs += 1
        level = (self.syncs & -self.syncs).bit_length() - 1  # trailing zeros: 0,1,0,2,0,1,0,3..
        for i, (m, end) in enumerate(self.parts):
            v = m.shape[0]
            rows = v if full or self.mode == "mean" else min(v, self.hot_rows << min(level, 40))
            block = m[:rows] if end == "head" else m[v - rows :]
            if self.mode == "mean":
                _allreduce_sum(self.comm, block)
                block *= np.float32(1.0 / self.n)
            else:
                snap = self.snapshots[i]  # type: ignore[index]  # set for mode "sum"
                base = snap[:rows] if end == "head" else snap[v - rows :]
                block -= base  # this rank's update since the last sync
                _allreduce_sum(self.comm, block)
                block += base
                np.copyto(base, block)
            self.bytes += block.nbytes
            self.rows += rows
            self.rows_total += v
        self.seconds += time.perf_counter() - t0

    def stats(self) -> dict:
        return {
            "mode": self.mode,
            "syncs": self.syncs,
            "bytes": self.bytes,
            "bytes_per_sync": self.bytes / max(1, self.syncs),
            "row_fraction": self.rows / max(1, self.rows_total),
            "seconds": self.seconds,
            "wire_bytes_per_rank": self.bytes * 2 * (self.n - 1) / self.n,
        }


# ---- training ----------------------------------------------------------------


class _StopFlag:
    """SIGINT/SIGTERM/SIGUSR1 -> stop flag (+ stop the running trainer),
    instead of an exception at an arbitrary point; restored on exit. Open
    MPI's mpirun forwards SIGUSR1 to every rank (and turns its own SIGINT
    into SIGTERM, then SIGKILL a second later)."""

    SIGNALS = ("SIGINT", "SIGTERM", "SIGUSR1")

    def __init__(self):
        self.set = False
        self.trainer = None
        self.previous: dict = {}

    def _handle(self, signum, frame) -> None:
        self.set = True
        t = self.trainer
        if t is not None:
            t.request_stop()

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for name in self.SIGNALS:
                sig = getattr(signal, name, None)
                if sig is not None:
                    self.previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        return False


@_unwrap
def train(
    model,
    corpus_file,
    *,
    comm=None,
    total_words: int | None = None,
    epochs: int | None = None,
    start_alpha: float | None = None,
    end_alpha: float | None = None,
    compute_loss: bool | None = None,
    callbacks: Sequence = (),
    progress: bool | Callable | None = None,
    sync_words: int | None = None,
    sync: str | None = None,
    hot_rows: int | None = None,
) -> tuple[int, int]:
    """Collective: train model (vocabulary built by build_vocab above) on
    corpus_file across the ranks of comm. Same arguments and result as
    Word2Vec.train ((examples, words), summed over ranks).

    sync_words: words (read, before subsampling) each rank trains between
    synchronisations; default default_sync_words(N): 100k for 2 ranks,
    40000 / N for more. sync: "sum" (default) or "mean". hot_rows: rows
    synchronised after every round (default HOT_ROWS). Each defaults to the
    model's attribute of the same name when it is set.
    model.sync_stats reports the traffic."""
    comm = require_comm(comm)
    if model.vocab is None:
        raise RuntimeError("call build_vocab() before train()")
    plan = model.training_plan(total_words, epochs, start_alpha, end_alpha, compute_loss, progress, callbacks)
    settings = _sync_settings(model, comm.Get_size(), sync_words, sync, hot_rows)
    with AbortOnError(comm, "training"):
        path = _check_corpus(comm, corpus_file)
        _assert_identical(comm, model, "models before training")
        run = _Run(comm, model, plan, path, *settings)
        examples, words, stopped, elapsed = run.train()
    if stopped:
        model.interrupted = True
        if run.r == 0:
            logger.warning(
                "training interrupted after %d words (%.1f%% of the schedule); every "
                "rank holds the same vectors, trained so far",
                run.global_done,
                100.0 * run.global_done / max(1, plan.total_words),
            )
        raise KeyboardInterrupt
    if run.r == 0:
        runtime.log_done(words, elapsed)
    runtime.call_callbacks(model, plan.callbacks, "on_train_end")
    return examples, words


def _sync_settings(model, n: int, sync_words, sync, hot_rows) -> tuple[int, str, int]:
    """(sync_words, sync, hot_rows): the arguments, else the model's
    attributes, else the defaults for n ranks; checked."""
    sync_words = int(sync_words or getattr(model, "sync_words", None) or default_sync_words(n))
    if sync_words < 1:
        raise ValueError(f"sync_words must be >= 1, got {sync_words}")
    sync = sync or getattr(model, "sync", None) or "sum"
    if sync not in SYNC_MODES:
        raise ValueError(f"sync must be one of {', '.join(SYNC_MODES)}, got {sync!r}")
    hot_rows = int(hot_rows or getattr(model, "hot_rows", None) or HOT_ROWS)
    if hot_rows < 1:
        raise ValueError(f"hot_rows must be >= 1, got {hot_rows}")
    return sync_words, sync, hot_rows


class _Run:
    """One distributed train() on this rank: its byte range cut into one
    shard per thread, trained in rounds with a synchronisation after each.
    Every rank cuts its range into the same number of rounds, so the
    collectives always match."""

    def __init__(self, comm, model, plan: TrainingPlan, path, sync_words: int, sync: str, hot_rows: int):
        self.comm, self.model, self.plan = comm, model, plan
        self.r, self.n = comm.Get_rank(), comm.Get_size()
        self.sync_words, self.sync, self.hot_rows = sync_words, sync, hot_rows
        model.total_train_words = plan.total_words
        model.interrupted = False
        self.rounds = max(1, round(plan.per_epoch / (self.n * sync_words)))
        size = os.path.getsize(path)
        start, end = _rank_range(size, self.r, self.n)
        threads = max(1, min(model.workers, (end - start) // 4096 or 1))
        ids_bytes = 4 * (plan.per_epoch + model.vocab.corpus_sentences) / self.n
        cached = plan.epochs > 1 and ids_bytes <= model.corpus_cache_mb * 2**20
        self.shards = runtime.FileShards(
            path,
            WordHash.from_words(model.vocab.raw_words()),
            split_range(start, end, threads),
            model.max_sentence_length,
            [None] * threads if cached else None,
            model.corpus_cache_mb * 2**20,
        )
        # The trainer of a round sees 1/N of the schedule: its counter starts
        # at global/N and counts this rank's words, so its learning rate is
        # alpha0 - (alpha0 - min_alpha) * (global + N * local) / total.
        self.sched_total = max(1, -(-plan.total_words // self.n))
        self.trainer = model.make_trainer(plan, self.sched_total)
        # After the trainer: making it may give the matrices their padded
        # layout (new arrays), and the syncer must hold the trained ones.
        self.syncer = _Sync(comm, model, sync, hot_rows)
        self.settable = _settable_words_done(self.trainer)
        report = runtime.make_reporter(plan.progress, model.workers) if self.r == 0 else None
        self.ticker = runtime.ProgressTicker(report, plan.epochs, plan.total_words, self.n * model.workers)
        self.global_done = 0

    def tick(self, epoch: int, global_words: int, alpha: float, force: bool = False) -> None:
        """Progress reports and log lines, on rank 0 only."""
        if self.r == 0:
            self.ticker(epoch, global_words, alpha, force)

    def round_trainer(self):
        """The trainer for the next round, its counter at global/N: set in
        place when Trainer.words_done has a setter, else a new Trainer
        (which rebuilds the noise table: O(V) per round)."""
        if self.settable:
            self.trainer.words_done = self.global_done // self.n
            return self.trainer
        return self.model.make_trainer(self.plan, self.sched_total, self.global_done // self.n)

    def train(self) -> tuple[int, int, bool, float]:
        """Every epoch, every round; returns (examples, words, stopped, seconds)."""
        model, plan = self.model, self.plan
        if self.r == 0:
            self._log_start()
        runtime.call_callbacks(model, plan.callbacks, "on_train_begin")
        examples = words = 0
        stopped = False
        t_start = time.perf_counter()
        with _StopFlag() as stop:
            for epoch in range(plan.epochs):
                runtime.call_callbacks(model, plan.callbacks, "on_epoch_begin")
                ep, stopped = self._epoch(epoch, stop)
                examples += ep.examples
                words += ep.words
                if stopped:
                    break
                runtime.call_callbacks(model, plan.callbacks, "on_epoch_end")
        if not stopped:
            self.tick(plan.epochs - 1, self.global_done, plan.alpha1, force=True)
        model.sync_stats = self.syncer.stats()
        elapsed = time.perf_counter() - t_start
        if self.r == 0:
            self._log_sync(elapsed)
        return examples, words, stopped, elapsed

    def _epoch(self, epoch: int, stop) -> tuple[EpochReport, bool]:
        t0 = time.perf_counter()
        ep = EpochReport(epoch + 1)
        loss = 0.0
        stopped = False
        for rnd in range(self.rounds):
            counts, round_loss = self._round(epoch, rnd, stop)
            loss += round_loss
            ep.words += int(counts[0])
            ep.examples += int(counts[1])
            if counts[2]:
                stopped = True
                break
        if not stopped:
            # Every row is synchronised at the end of an epoch: all ranks hold
            # the same weights, so all of them raise here together.
            try:
                guards.check_finite_weights(
                    self.model.weight_matrices(), self.plan.alpha_param, self.plan.alpha0, epoch + 1
                )
            except guards.DivergenceError as e:
                raise _Agreed(e) from None
        self.model.wv.norms = None
        if self.plan.compute_loss:
            lossbuf = np.array([loss], dtype=np.float64)
            _allreduce_sum(self.comm, lossbuf)
            ep.loss = float(lossbuf[0])
        ep.seconds = time.perf_counter() - t0
        self.model.epoch_reports.append(ep)
        self.model.words_done = self.global_done
        if self.r == 0:
            runtime.log_epoch(ep, self.plan.compute_loss, f" over {self.n} ranks")
        return ep, stopped

    def _round(self, epoch: int, rnd: int, stop) -> tuple[np.ndarray, float]:
        """This rank's threads train round `rnd` of their shards, then the
        ranks add up their counts and synchronise the weights. Returns the
        global (words, examples, stop) counts and this rank's loss."""
        trainer = self.round_trainer()
        stop.trainer = trainer
        if stop.set:
            trainer.request_stop()
        first = self.r * self.shards.threads
        tasks, results = self.shards.tasks(
            trainer,
            lambda k: runtime.part_seed(self.model.seed, epoch, (first + k) * self.rounds + rnd),
            f"sgns-rank{self.r}-worker",
            rnd,
            self.rounds,
        )
        # The counter holds global/N + this rank's words of the round; the other
        # ranks go about as fast. A Ctrl-C lands here only when no handler could
        # be installed (not the main thread).
        run_in_threads(
            tasks,
            tick=lambda: self.tick(epoch, self.n * trainer.words_done, trainer.alpha),
            on_interrupt=trainer.request_stop,
        )
        local = runtime.collect(epoch, results)
        stop.trainer = None
        counts = np.array([local.words, local.examples, int(stop.set or trainer.stopped)], dtype=np.int64)
        _allreduce_sum(self.comm, counts)
        self.syncer(full=rnd == self.rounds - 1 or bool(counts[2]))
        self.global_done += int(counts[0])
        self.tick(epoch, self.global_done, trainer.alpha)
        return counts, local.loss

    def _log_start(self) -> None:
        logger.info(
            "distributed training over %d ranks x %d threads: %d words per epoch, "
            "%d epochs, %d rounds per epoch (sync every ~%d words per rank, "
            "sync=%s, %d hot rows, %.1f MB of weights)",
            self.n,
            self.model.workers,
            self.plan.per_epoch,
            self.plan.epochs,
            self.rounds,
            self.sync_words,
            self.sync,
            self.hot_rows,
            sum(m.nbytes for m, _ in self.syncer.parts) / 1e6,
        )

    def _log_sync(self, elapsed: float) -> None:
        s = self.model.sync_stats
        logger.info(
            "synchronised %d times: %.1f MB per sync (%.0f%% of the rows), %.2fs in "
            "collectives (%.0f%% of %.1fs)",
            s["syncs"],
            s["bytes_per_sync"] / 1e6,
            100 * s["row_fraction"],
            s["seconds"],
            100 * s["seconds"] / max(elapsed, 1e-9),
            elapsed,
        )


def fit(
    corpus_file,
    *,
    comm=None,
    sync_words: int | None = None,
    sync: str | None = None,
    hot_rows: int | None = None,
    **kwargs,
):
    """``Word2Vec(corpus_file=..., **kwargs)`` trained across the MPI ranks of
    comm (default COMM_WORLD); every rank returns the same model. Outside an
    MPI launch it is plain single-process Word2Vec."""
    if comm is None and get_comm() is None:
        return Word2Vec(corpus_file=corpus_file, **kwargs)
    model = Word2Vec(**kwargs)
    build_vocab(model, corpus_file, comm=comm)
    train(model, corpus_file, comm=comm, sync_words=sync_words, sync=sync, hot_rows=hot_rows)
    return model


def active() -> bool:
    """Whether this process is one of 2+ MPI ranks (then Word2Vec(distributed="mpi") trains here)."""
    return world_size() >= 2


runtime.register_backend("mpi", sys.modules[__name__])
