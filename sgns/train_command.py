"""The training command, `sgns -train ...` with word2vec.c's flags, in one
process or across the ranks of mpirun -np N (N > 1, with mpi4py: they train
together through sgns.distributed and rank 0 prints and writes the
outputs), and `sgns demo`. sgns.cli dispatches to them."""

from __future__ import annotations

import os
import sys
import time
from types import SimpleNamespace

import numpy as np

from sgns import distributed, formats
from sgns.classes import word_classes
from sgns.flags import DEMO_FLAGS, UsageError, error_text, parse_flags, parse_train_flags
from sgns.model import Word2Vec, uniform_rows
from sgns.textfiles import check_corpus_path
from sgns.vocab import SENTENCE_TOKEN, Vocabulary


class ProgressLine:
    """word2vec.c's progress line on stderr: redrawn in place on a terminal,
    one line every 10% otherwise."""

    def __init__(self, stream):
        self.stream = stream
        self.tty = stream.isatty()
        self.next_mark = 0.1

    def __call__(self, p) -> None:
        text = (
            f"Alpha: {p.alpha:f}  Progress: {100 * p.fraction:.2f}%  "
            f"Words/thread/sec: {p.words_per_thread_per_sec / 1000:.2f}k  "
        )
        if self.tty:
            self.stream.write("\r" + text)
            self.stream.flush()
        elif p.fraction >= self.next_mark or p.fraction >= 1.0:
            self.stream.write(text + "\n")
            self.stream.flush()
            while self.next_mark <= p.fraction:
                self.next_mark += 0.1

    def end(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _have_tqdm() -> bool:
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


def model_from_flags(opts: dict) -> Word2Vec:
    """The untrained Word2Vec that parsed word2vec.c flags describe."""
    threads = opts["threads"] or os.cpu_count() or 1
    # word2vec.c: CBOW's default learning rate is 0.05, skip-gram's 0.025.
    alpha = opts["alpha"] if opts["alpha"] is not None else (0.05 if opts["cbow"] else 0.025)
    return Word2Vec(
        sg=1 - opts["cbow"],
        hs=opts["hs"],
        vector_size=opts["size"],
        window=opts["window"],
        sample=opts["sample"],
        negative=opts["negative"],
        workers=threads,
        epochs=opts["iter"],
        min_count=opts["min-count"],
        alpha=alpha,
        min_alpha=min(opts["min-alpha"], alpha),
        seed=opts["seed"],
        shared_negatives=opts["shared-negatives"],
        ns_exponent=opts["ns-exponent"],
    )


class _OneProcess:
    """The training command's steps in a single process."""

    ranks = 1
    root = True

    def __init__(self, err):
        self.err = err

    def parse(self, argv: list[str]) -> dict:
        return parse_train_flags(argv)

    def where(self, model) -> str:
        return ""

    def build_vocab(self, model, opts: dict) -> None:
        corpus = opts["train"]
        if not opts["read-vocab"]:
            model.build_vocab(corpus_file=corpus)
            return
        vocab = _read_vocab(opts)
        if not os.path.exists(corpus):
            raise FileNotFoundError(f"corpus file not found: {corpus!r}")
        model.build_vocab(vocab=vocab)

    def on_root(self, what: str, fn) -> None:
        fn()

    def barrier(self) -> None:
        pass

    def train(self, model, opts: dict, progress) -> None:
        model.train(corpus_file=opts["train"], progress=progress)

    def summary(self, model) -> str:
        """The end of the closing parenthesis of the "Trained ..." line."""
        return ")"


class _Ranks(_OneProcess):
    """The training command's steps on each rank of an MPI launch: collective
    vocabulary and training, rank 0 prints and writes."""

    def __init__(self, comm):
        self.comm = comm
        self.ranks = comm.Get_size()
        self.root = comm.Get_rank() == 0
        super().__init__(sys.stderr if self.root else open(os.devnull, "w"))  # noqa: SIM115 (closed by train_command)

    def parse(self, argv: list[str]) -> dict:
        return parse_train_flags(argv, mpi=True)

    def where(self, model) -> str:
        return f" on {self.ranks} MPI ranks x {model.workers} threads"

    def build_vocab(self, model, opts: dict) -> None:
        if opts["read-vocab"]:
            distributed.build_vocab_from(model, opts["train"], lambda: _read_vocab(opts), comm=self.comm)
        else:
            distributed.build_vocab(model, opts["train"], comm=self.comm)

    def on_root(self, what: str, fn) -> None:
        if self.root:
            with distributed.AbortOnError(self.comm, what):
                fn()

    def barrier(self) -> None:
        self.comm.Barrier()

    def train(self, model, opts: dict, progress) -> None:
        distributed.train(
            model,
            opts["train"],
            comm=self.comm,
            progress=progress,
            sync_words=opts["sync-words"],
            sync=opts["sync"],
            hot_rows=opts["hot-rows"],
        )

    def summary(self, model) -> str:
        s = model.sync_stats
        return (
            f", {self.ranks} ranks); {s['syncs']} syncs of {s['bytes_per_sync'] / 1e6:.1f} MB, "
            f"{s['seconds']:.2f}s in collectives"
        )


def _read_vocab(opts: dict) -> Vocabulary:
    words, counts, sentences = formats.read_vocab(opts["read-vocab"])
    return Vocabulary.from_counts(words, counts, min_count=opts["min-count"], corpus_sentences=sentences)


def train_command(argv: list[str]) -> int:
    """`sgns -train ...`: in this process, or across the ranks of mpirun -np N."""
    comm = distributed.get_comm()  # None unless started by mpirun -np N (N > 1) with mpi4py
    if comm is None:
        return _train(_OneProcess(sys.stderr), argv)
    run = _Ranks(comm)
    try:
        return _train_ranks(run, argv)
    finally:
        if run.err is not sys.stderr:
            run.err.close()


def _train_ranks(run: _Ranks, argv: list[str]) -> int:
    """Every rank parses the same argv, so a usage error is the same
    everywhere; so is an error raised by a collective step: every rank
    returns the same status, rank 0 prints."""
    try:
        return _train(run, argv)
    except UsageError as e:
        if run.root:
            print(f"sgns: {e}", file=sys.stderr)
        return 2
    except (OSError, ValueError, MemoryError, RuntimeError) as e:
        if run.root:
            print(f"sgns: {error_text(e)}", file=sys.stderr)
        return 2


def _train(run: _OneProcess, argv: list[str]) -> int:
    opts = run.parse(argv)
    model = model_from_flags(opts)
    check_corpus_path(opts["train"])  # a FIFO or a missing file: before any output
    debug, err = opts["debug"], run.err
    if debug > 0:
        err.write(f"Starting training using file {opts['train']}{run.where(model)}\n")
    run.build_vocab(model, opts)
    vocab = model.require_vocab()
    if debug > 0:
        # word2vec.c's figures count its "</s>" token: one more word, and every newline.
        words = vocab.total_words + vocab.corpus_sentences
        err.write(f"Vocab size: {len(vocab) + 1}\nWords in train file: {words}\n")
    if opts["classes"] > len(vocab):
        raise UsageError(f"-classes {opts['classes']} is more than the {len(vocab)} words of the vocabulary")
    if opts["save-vocab"]:
        run.on_root(
            "writing the vocabulary",
            lambda: formats.write_vocab(
                opts["save-vocab"], vocab.words, vocab.counts.tolist(), vocab.corpus_sentences
            ),
        )
    if not opts["output"]:
        run.barrier()
        return 0
    t0 = time.perf_counter()
    status = _train_until_done_or_interrupted(run, model, opts)
    run.on_root("writing the output", lambda: _write_output(model, opts))
    run.barrier()  # nobody exits before the file is in place (mpirun returns when all have)
    if debug > 0:
        words = sum(r.words for r in model.epoch_reports)
        secs = time.perf_counter() - t0
        rate = f"{words / max(secs, 1e-9):,.0f} words/s"
        err.write(
            f"Trained {words} words in {secs:.2f}s ({rate}{run.summary(model)}; wrote {opts['output']}\n"
        )
    return status


def _train_until_done_or_interrupted(run: _OneProcess, model, opts: dict) -> int:
    """Train with word2vec.c's progress line (or, on a terminal with tqdm, a
    bar); on Ctrl-C keep what was trained. Returns 0, or 130 if interrupted."""
    err, debug = run.err, opts["debug"]
    line = ProgressLine(err) if debug > 1 and run.root else None
    bar = run.ranks == 1 and debug > 1 and err.isatty() and _have_tqdm()
    try:
        run.train(model, opts, True if bar else (line or False))
    except KeyboardInterrupt:
        if line:
            line.end()
        err.write(
            f"interrupted: writing the vectors trained so far "
            f"({100.0 * model.words_done / max(1, model.total_train_words):.1f}% of training)\n"
        )
        return 130
    if line:
        line.end()
    return 0


def _write_output(model, opts: dict) -> None:
    """word2vec.c's output: its newline token "</s>" is the first row (its
    index 0) of the vector and class files, so the header counts it and
    word2vec.c's own tools, which read row 0 as "not found", can query every
    word. "</s>" never trains as an input word there: its vector is a random
    start (here sgns's, uniform in ±1/D from the seed)."""
    wv = model.wv
    start = uniform_rows(np.random.default_rng([model.seed, 1]), 1, wv.vector_size)[0]
    if opts["classes"]:
        # With -classes K the output holds "word class" lines; k-means runs over
        # every row, "</s>" too, so the classes are word2vec.c's.
        rows = SimpleNamespace(vectors=np.vstack([start[None, :], wv.vectors]))
        words = [SENTENCE_TOKEN, *wv.index_to_key]
        formats.write_classes(opts["output"], words, word_classes(rows, opts["classes"]))
    else:
        formats.write_vectors(
            opts["output"],
            wv.index_to_key,
            wv.vectors,
            binary=bool(opts["binary"]),
            first_row=(SENTENCE_TOKEN, start),
        )


def demo_command(argv: list[str]) -> int:
    """Train on the bundled King James Bible and show nearest neighbours."""
    from importlib import resources

    opts = parse_flags(argv, DEMO_FLAGS)
    data = resources.files("sgns") / "data" / "kjv.txt.gz"
    print("sgns demo: skip-gram with negative sampling on the King James Bible (31,102 verses, 790k words)")
    with resources.as_file(data) as path:
        t0 = time.perf_counter()
        model = Word2Vec(
            corpus_file=path,
            vector_size=opts["size"],
            window=5,
            min_count=5,
            sample=1e-3,
            negative=5,
            epochs=opts["epochs"],
            workers=opts["threads"] or os.cpu_count() or 1,
            seed=opts["seed"],
        )
        secs = time.perf_counter() - t0
    words = sum(r.words for r in model.epoch_reports)
    print(
        f"vocabulary {len(model.wv)} words; trained {opts['epochs']} epochs in {secs:.2f}s "
        f"({words / max(secs, 1e-9):,.0f} words/s)\n"
    )
    for word in ("god", "jesus", "king", "water", "sheep", "gold", "david"):
        if word in model.wv:
            near = ", ".join(f"{w} {s:.2f}" for w, s in model.wv.most_similar(word, topn=6))
            print(f"  {word:>6}: {near}")
    if all(w in model.wv for w in ("king", "man", "woman")):
        ans = model.wv.most_similar(positive=["king", "woman"], negative=["man"], topn=3)
        print("\n  king - man + woman = " + ", ".join(f"{w} {s:.2f}" for w, s in ans))
    return 0
