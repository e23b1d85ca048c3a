"""Phrase counting and rewriting of corpus files in C: byte ranges counted on
worker threads (the GIL released), files rewritten as a stream into a
temporary that is renamed over the target.

Two rule sets share the C table:
- word2phrase's (`learn_word2phrase`, `rewrite_word2phrase`): output byte
  for byte what word2vec.c's word2phrase writes;
- gensim's Phrases (`count_file`, `rewrite_file`): the counting and analysis
  behind sgns.Phrases, over text tokenised as Word2Vec(corpus_file=...) does.
"""

from __future__ import annotations

import os
from array import array
from dataclasses import dataclass

from sgns._phrases import Counter, Interrupted, PhraseTable, Text, w2p_learn, w2p_transform
from sgns.outputs import atomic_write
from sgns.textfiles import plain_file
from sgns.threads import run_in_threads, split_range

# word2phrase prunes when its table passes 0.7 x its 500M hash slots.
WORD2PHRASE_MAX_VOCAB = 350_000_000
MIN_RANGE_BYTES = 4 << 20  # a smaller file (or part) is counted by one thread
ROUND_BYTES = 16 << 20  # text a rewriting thread takes at a time (held in memory until written)


@dataclass
class Counts:
    """What a learning pass found: the table, corpus words, and the next
    pruning level (1 + the number of prunings, gensim's min_reduce)."""

    table: PhraseTable
    words: int
    min_reduce: int
    distinct: int = 0  # keys before a final cut to min_count


def thread_count(workers: int | None, amount: int, per_thread: int) -> int:
    """Threads for a job: `workers` (None: one per CPU), at most 8, and at
    most one per `per_thread` units of the job's `amount` (at least one)."""
    return max(1, min(workers or os.cpu_count() or 1, 8, amount // per_thread or 1))


def byte_ranges(path, workers: int | None) -> list[int]:
    """Boundaries of up to `workers` byte ranges of the file (one for a small file)."""
    size = os.path.getsize(path)
    return split_range(0, size, thread_count(workers, size, MIN_RANGE_BYTES))


def initial_keys(range_bytes: int, bound: int) -> int:
    """Keys a counting table starts with room for: about one per 8 bytes of
    text (so it rarely grows), within the bound, and at most 4M (64 MiB of
    slots) however large the file: beyond that it grows as it fills."""
    return min(range_bytes // 8, bound or range_bytes, 1 << 22)


def run_parallel(jobs) -> None:
    """Run each job(stop) on its own thread; stop is an int32 flag (array of one
    'i') the C scans poll. Ctrl-C raises it, waits for every thread and raises
    KeyboardInterrupt; the first error of a job is re-raised here."""
    stop = array("i", [0])
    errors: list[BaseException | None] = [None] * len(jobs)

    def task(k: int):
        def run() -> None:
            try:
                jobs[k](stop)
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
                errors[k] = e

        return run

    tasks = [(f"sgns-phrases-{k}", task(k)) for k in range(len(jobs))]

    def raise_stop() -> None:
        stop[0] = 1

    if run_in_threads(tasks, on_interrupt=raise_stop):
        raise KeyboardInterrupt
    for e in errors:
        if isinstance(e, Interrupted):
            raise KeyboardInterrupt
        if e is not None:
            raise e


def count_file(path, connectors, delimiter: bytes, max_vocab_size: int, workers: int | None) -> Counts:
    """gensim's learning pass over a corpus file, a sentence per line. Each of
    the n threads keeps its table under max_vocab_size / n entries (pruning
    as gensim does after a sentence), so memory stays bounded in total.
    A .gz/.bz2/.xz file is read from a decompressed temporary copy."""
    with plain_file(path) as plain:
        return _count_plain(plain, connectors, delimiter, max_vocab_size, workers)


def _count_plain(path, connectors, delimiter: bytes, max_vocab_size: int, workers: int | None) -> Counts:
    bounds = byte_ranges(path, workers)
    n = len(bounds) - 1
    bound = max(1, max_vocab_size // n) if max_vocab_size else 0
    tables = [PhraseTable(initial_keys(bounds[1], bound)) for _ in range(n)]
    counters = [Counter(t, connectors, delimiter, bound) for t in tables]

    def job(k: int):
        return lambda stop: counters[k].count_file(path, bounds[k], bounds[k + 1], k + 1 < n, stop)

    run_parallel([job(k) for k in range(n)])
    for t in tables[1:]:
        tables[0].merge(t)
    min_reduce = max(c.min_reduce for c in counters)
    if max_vocab_size and len(tables[0]) > max_vocab_size:
        tables[0].prune(min_reduce)
        min_reduce += 1
    return Counts(tables[0], sum(c.words for c in counters), min_reduce)


MIN_PART_KEYS = 1 << 18  # a table with fewer keys a thread is scanned by fewer threads


def candidates(scorer, table: PhraseTable, scored: bool, workers: int | None):
    """scorer.candidates(scored) (gensim's export_phrases in C) over parts of
    the table's records on up to `workers` threads, results in table order."""
    n = thread_count(workers, len(table), MIN_PART_KEYS)
    cuts = table.parts(n)
    found: list = [None] * n

    def job(k: int):
        def run(stop) -> None:  # a scan of memory, too short to need the stop flag
            found[k] = scorer.candidates(scored, cuts[k], cuts[k + 1])

        return run

    run_parallel([job(k) for k in range(n)])
    keys, *arrays = found[0]
    for more_keys, *more in found[1:]:
        keys += more_keys
        arrays = [a + b for a, b in zip(arrays, more)]
    return (keys, *arrays)


def rewrite_file(scorer, src, dst, workers: int | None = None) -> None:
    """Rewrite src into dst with a model's analysis (atomically), on up to
    `workers` threads: each round, the first thread writes its part of the
    file to dst and the others hold theirs in memory until it is done."""
    with plain_file(src) as plain, atomic_write(dst) as f:
        fd = f.fileno()
        for parts in rewrite_rounds(plain, workers):
            texts = [Text() for _ in parts[1:]]
            run_parallel(
                [rewrite_job(scorer, plain, fd, part, text) for part, text in zip(parts, [None, *texts])]
            )
            for text in texts:
                text.write_to(fd)


def rewrite_job(scorer, path, fd: int, part: tuple[int, int], into):
    """A thread's rewriting of path[part] to fd, or into a Text when one is given."""
    return lambda stop: scorer.transform_file(path, fd, stop, part[0], part[1], into)


def rewrite_rounds(path, workers: int | None) -> list[list[tuple[int, int]]]:
    """The byte ranges the rewriting threads take, up to `workers` a round
    and at most ROUND_BYTES each (the text held in memory), every range from
    the start of a line (a sentence is never split) to the next one's start."""
    size = os.path.getsize(path)
    threads = thread_count(workers, size, MIN_RANGE_BYTES)
    step = max(1, min(ROUND_BYTES, -(-size // threads)))
    starts = [0]
    with open(path, "rb") as f:
        for point in range(step, size, step):
            if point > starts[-1]:
                starts.append(next_line_start(f, point, size))
    ranges = [(a, b) for a, b in zip(starts, [*starts[1:], size]) if a < b] or [(0, size)]
    return [ranges[k : k + threads] for k in range(0, len(ranges), threads)]


def next_line_start(f, pos: int, size: int) -> int:
    """The first offset >= pos that starts a line (follows a newline), or size."""
    f.seek(pos - 1)
    while pos < size:
        block = f.read(min(1 << 16, size - pos + 1))
        newline = block.find(b"\n")
        if newline >= 0:
            return pos + newline
        if not block:
            break
        pos += len(block)
    return size


def learn_word2phrase(
    path, min_count: int, threads: int | None, max_vocab: int = WORD2PHRASE_MAX_VOCAB
) -> Counts:
    """word2phrase's counting of unigrams and joined pairs (pairs run across
    newlines), cut to min_count as its SortVocab does. The threads share
    max_vocab (word2phrase's pruning rule)."""
    with plain_file(path) as plain:
        return _learn_plain(plain, min_count, threads, max_vocab)


def _learn_plain(path, min_count: int, threads: int | None, max_vocab: int) -> Counts:
    bounds = byte_ranges(path, threads)
    n = len(bounds) - 1
    tables = [PhraseTable(initial_keys(bounds[1], max_vocab // n)) for _ in range(n)]
    found: list = [None] * n

    def job(k: int):
        def run(stop):
            found[k] = w2p_learn(
                tables[k], path, bounds[k], bounds[k + 1], k + 1 < n, max(1, max_vocab // n), stop
            )

        return run

    run_parallel([job(k) for k in range(n)])
    for t in tables[1:]:
        tables[0].merge(t)
    distinct = len(tables[0])
    tables[0].prune(min_count)
    return Counts(tables[0], sum(w for w, _ in found), 1 + max(r for _, r in found), distinct)


def word2phrase_vocab_size(counts: Counts) -> int:
    """The "Vocab size" word2phrase prints: its SortVocab loop stops halfway
    through the keys below min_count (its table also holds "</s>" and the
    pair of the first word with uninitialised memory)."""
    return counts.distinct + 1 - (counts.distinct - len(counts.table) + 1) // 2


def rewrite_word2phrase(counts: Counts, src, dst, min_count: int, threshold: float) -> None:
    """word2phrase's output for src (counted by learn_word2phrase), written to
    dst atomically."""
    with plain_file(src) as plain, atomic_write(dst) as f:
        run_parallel(
            [
                lambda stop: w2p_transform(
                    counts.table, plain, f.fileno(), min_count, threshold, counts.words, stop
                )
            ]
        )
