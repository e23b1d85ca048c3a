"""Guards that keep a training run sane: parameter bounds, the memory a run
implies (estimated, then refused with the figure before anything is
allocated), and finite weights (divergence).

Errors are ParameterError, a ValueError that names the parameter, so the
command line can name its flag instead (-size for vector_size)."""

from __future__ import annotations

import math
import os

import numpy as np

from sgns import padded_rows

# The kernel's word counter and learning-rate schedule are int64; keep
# headroom for the counter running past the schedule.
MAX_RUN_WORDS = 2**62
# The C kernels size per-worker buffers with `int` arithmetic (2 * window,
# 2 * dim): both must stay below 2**30.
MAX_C_INT_PARAM = 2**30 - 1
MAX_WORKERS = 1024
MAX_EPOCHS = 2**31 - 1
MAX_SEED = 2**64 - 1
# count ** ns_exponent stays finite and non-zero in float64 for every int64
# count (and their sum over any vocabulary) within this bound.
MAX_NS_EXPONENT = 10.0
# Most consecutive centre words that may share one draw of negatives
# (shared_negatives = N; their block grows with N).
MAX_SHARED_CENTRES = 16
# Reader buffer and id chunk of a worker streaming a corpus file
# (SG_READ_BUF, CHUNK_IDS in the extensions), and its noise batch.
_FILE_WORKER_BYTES = (1 << 20) + 4 * (1 << 20) + 4 * 2048
# Vocabulary bookkeeping per word: Python str, list and dict entries, the C
# word table, counts, keep probabilities, alias table, noise weights.
_PER_WORD_BYTES = 256


class ParameterError(ValueError):
    """A parameter value refused; `param` is its Python name and `reason`
    the message without it (str(e) is "<param> <reason>")."""

    def __init__(self, param: str, reason: str):
        super().__init__(f"{param} {reason}")
        self.param = param
        self.reason = reason


class MemoryLimitError(ParameterError, MemoryError):
    """The memory a parameter implies exceeds what this process can use."""


def is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def check_int(param: str, value, lo: int, hi: int | None = None) -> None:
    """value is an integer in lo..hi (hi None: no upper bound)."""
    if is_int(value) and value >= lo and (hi is None or value <= hi):
        return
    bound = f">= {lo}" if hi is None else f"in {lo}..{_short(hi)}"
    raise ParameterError(param, f"must be an integer {bound}, got {value!r}")


def check_number(param: str, value, lo: float | None = None, hi: float | None = None, above=False) -> None:
    """value is a finite real number, >= lo (> lo with above=True), <= hi."""
    real = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not real or not math.isfinite(value):
        raise ParameterError(param, f"must be a finite number, got {value!r}")
    if lo is not None and (value <= lo if above else value < lo):
        raise ParameterError(param, f"must be {'>' if above else '>='} {lo}, got {value!r}")
    if hi is not None and value > hi:
        raise ParameterError(param, f"must be <= {hi}, got {value!r}")


def check_run_length(epochs: int, words_per_epoch: int, param: str = "epochs") -> None:
    """epochs x words must fit the kernel's 64-bit word counter."""
    if epochs * max(1, words_per_epoch) > MAX_RUN_WORDS:
        raise ParameterError(
            param,
            f"is too large: {epochs} epochs x {words_per_epoch} words per epoch exceed the "
            f"64-bit word counter of the learning-rate schedule (2**62 words)",
        )


def _short(n: int) -> str:
    """2**k - 1 as such (the bounds of C integer types), other numbers as digits."""
    for k in range(16, 65):
        if n == 2**k - 1:
            return f"2**{k}-1"
    return str(n)


# ---- memory ----------------------------------------------------------------------------


def available_memory() -> int | None:
    """Bytes this process may use at most: physical memory, a cgroup limit,
    RLIMIT_AS / RLIMIT_DATA, whichever is smallest (None if none is known)."""
    limits = []
    try:
        limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        pass
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                text = f.read().strip()
        except OSError:
            continue
        if text.isdigit():
            limits.append(int(text))
    try:
        import resource

        for which in (resource.RLIMIT_AS, resource.RLIMIT_DATA):
            soft = resource.getrlimit(which)[0]
            if soft != resource.RLIM_INFINITY and soft > 0:
                limits.append(soft)
    except (ImportError, AttributeError, ValueError, OSError):
        pass
    return min(limits) if limits else None


def format_bytes(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def worker_bytes(vector_size: int, window: int, negative: int, hs: int, max_sentence_length: int) -> int:
    """Buffers one training worker allocates (a corpus-file worker's
    reader and id chunk included): the sentence, two batches of window
    pointers and labels, the block-update scratch."""
    stride = (negative + 1 if negative else 0) + (64 if hs else 0)  # hs: deepest tree path, bounded
    batches = 2 * (2 * window * (8 + 12 * stride + 4) + 8 * stride)
    scratch = 4 * 2 * window * (stride + vector_size)
    sentence = 4 * max_sentence_length * 2  # the sentence and its room in the id chunk
    return batches + scratch + sentence + 8 * vector_size + _FILE_WORKER_BYTES


def check_memory(param: str, needed: int, what: str) -> None:
    """Refuse `needed` bytes beyond what this process can use."""
    limit = available_memory()
    if limit is not None and needed > limit:
        raise MemoryLimitError(
            param,
            f"is too large: {what} need {format_bytes(needed)} of memory, more than the "
            f"{format_bytes(limit)} this process can use",
        )


def check_worker_memory(
    workers: int, vector_size: int, window: int, negative: int, hs: int, max_sentence_length: int
) -> None:
    """Before any corpus is read: the workers' buffers (and one word's rows)
    must fit. The message names the parameter whose term dominates."""
    needed = workers * worker_bytes(vector_size, window, negative, hs, max_sentence_length) + 12 * vector_size
    # The window buffers grow with window x (vector_size + outputs): blame
    # whichever of the two is further above its default (5, 100).
    stride = (negative + 1 if negative else 0) + (64 if hs else 0)
    if 8 * max_sentence_length > 8 * window * (vector_size + stride):
        param, value = "max_sentence_length", max_sentence_length
    elif window / 5 >= vector_size / 100:
        param, value = "window", window
    else:
        param, value = "vector_size", vector_size
    check_memory(param, needed, f"{value}: {workers} workers' buffers")


def check_model_memory(
    words: int, vector_size: int, negative: int, hs: int, workers: int, max_sentence_length: int, window: int
) -> None:
    """Once the vocabulary is known, before the weights are allocated: the
    weight matrices, the tables and the workers' buffers must fit."""
    matrices = 1 + (1 if negative else 0) + (1 if hs else 0)
    weights = padded_rows.nbytes(words, vector_size) * matrices  # rows padded to cache lines
    needed = (
        weights
        + _PER_WORD_BYTES * words
        + workers * worker_bytes(vector_size, window, negative, hs, max_sentence_length)
    )
    check_memory(
        "vector_size",
        needed,
        f"{vector_size} dimensions (padded to {padded_rows.row_floats(vector_size)}) x {words} words x "
        f"{matrices} weight matrices "
        f"({format_bytes(weights)}) and the tables",
    )


# ---- divergence ------------------------------------------------------------------------


def first_nonfinite_row(matrix: np.ndarray, rows: int | None = None) -> int:
    """Index of the first row (of the first `rows`, None: all) holding a NaN
    or infinity, or -1. Reads the matrix once, a block of rows at a time (a
    bounded temporary, whatever the matrix)."""
    n = matrix.shape[0] if rows is None else min(rows, matrix.shape[0])
    head = matrix[:n]
    for s in padded_rows.row_blocks(head):
        block = head[s]
        if not np.isfinite(block).all():  # the whole block first: twice as fast as per row
            return s.start + int(np.argmin(np.isfinite(block).all(axis=1)))
    return -1


class DivergenceError(ParameterError):
    """Training made the weights NaN or infinite: the learning rate named by
    `param` is too high for the data."""


def check_finite_weights(
    matrices: dict[str, np.ndarray], param: str, value: float, epoch: int, rows: int | None = None
) -> None:
    """DivergenceError if a row (of the first `rows`; None: all) of any
    matrix holds a NaN or infinity. epoch is 1-based, for the message."""
    for name, matrix in matrices.items():
        bad = first_nonfinite_row(matrix, rows)
        if bad >= 0:
            raise DivergenceError(
                param,
                f"is too high for this data ({value:g}): training diverged in epoch {epoch} "
                f"(row {bad} of {name} became NaN or infinite); lower it "
                "(word2vec.c's defaults: 0.025 for skip-gram, 0.05 for CBOW)",
            )
