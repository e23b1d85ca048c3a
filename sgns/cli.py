"""Command line: word2vec.c's training flags, plus subcommands.

sgns -train data.txt -output vec.bin -size 100 -window 5 -negative 5 -binary 1
sgns demo

One training command for one process or many: under mpirun -np N (N > 1,
with mpi4py) the ranks train together through sgns.distributed, and rank 0
prints and writes the outputs.
"""

from __future__ import annotations

import os
import sys
import time
import warnings

from sgns import distributed, formats, phrase_command, plot, tools
from sgns.classes import word_classes, write_classes
from sgns.flags import DEMO_FLAGS, UsageError, error_text, parse_flags, parse_train_flags
from sgns.model import Word2Vec
from sgns.textfiles import check_corpus_path
from sgns.version import __version__
from sgns.vocab import Vocabulary

USAGE = """sgns {version}: skip-gram word vectors, word2vec.c-compatible

Usage: sgns -train <file> -output <file> [options]     (word2vec.c flags)
       sgns demo [-epochs N] [-threads N]               (train on a bundled King James Bible)
       sgns plot VEC word... [-output out.png]          (2-D PCA picture of some words)
       sgns distance VEC | sgns analogy VEC             (word2vec.c's distance / word-analogy)
       sgns accuracy VEC QUESTIONS [threshold]          (word2vec.c's compute-accuracy)
       sgns phrase -train <file> -output <file> [...]   (word2vec.c's word2phrase)
       sgns projector VEC PREFIX                        (TensorBoard projector tensor.tsv + metadata.tsv)

Training options (word2vec.c names and defaults, except -cbow 0 and -threads):
  -train <file>        text corpus, whitespace-separated words, one sentence a line
                       (.gz, .bz2, .xz are decompressed to a temporary file)
  -output <file>       write the word vectors here
  -size <int>          dimensions of the vectors; default 100
  -window <int>        maximum skip length between words; default 5
  -sample <float>      subsampling threshold for frequent words; default 1e-3 (0 = off)
  -hs <int>            1: hierarchical softmax (alone with -negative 0, or with it); default 0
  -negative <int>      number of negative examples; default 5
  -threads <int>       training threads; default {cpus} (the number of CPUs)
  -iter <int>          training epochs; default 5
  -min-count <int>     discard words that appear fewer times; default 5
  -alpha <float>       starting learning rate; default 0.025
  -classes <int>       write K k-means word classes ("word class" lines) instead of vectors
  -debug <int>         0 quiet, 1 summary, 2 progress (default 2)
  -binary <int>        1 writes the binary format; default 0 (text)
  -save-vocab <file>   write the vocabulary (word count per line)
  -read-vocab <file>   read the vocabulary from a file instead of counting the corpus
  -cbow <int>          1: CBOW (default alpha 0.05), 0: skip-gram; default 0
sgns extras:
  -min-alpha <float>   final learning rate; default 0.0001 (alpha 1e-4 x -alpha in word2vec.c)
  -seed <int>          random seed; default 1 (with -threads 1, runs are repeatable)
  -shared-negatives <int>  1: one set of negatives per centre word for its whole window
                       (HogBatch; default); 0: word2vec.c's fresh negatives per pair;
                       N (2..16, skip-gram): N consecutive centre words share one set.
                       Negative sampling only: -hs 1 always updates per pair
  -ns-exponent <float> noise distribution exponent; default 0.75
Under mpirun -np N (needs mpi4py: pip install 'sgns[mpi]'; see sgns.distributed):
  -sync-words <int>    words each process trains between synchronisations;
                       default 100000 for 2 processes, 40000 / N for more
  -sync sum|mean       add up (default) or average the processes' updates
  -hot-rows <int>      most frequent rows exchanged after every round; default 1024
"""


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
        err.write(f"Vocab size: {len(vocab)}\nWords in train file: {vocab.total_words}\n")
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
    if opts["classes"]:
        # word2vec.c: with -classes K the output holds "word class" lines, not vectors.
        write_classes(opts["output"], model.wv, word_classes(model.wv, opts["classes"]))
    else:
        model.wv.save_word2vec_format(opts["output"], binary=bool(opts["binary"]))


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


COMMANDS = {
    "demo": demo_command,
    "plot": plot.plot_command,
    "distance": tools.distance_command,
    "analogy": tools.analogy_command,
    "accuracy": tools.accuracy_command,
    "phrase": phrase_command.phrase_command,
    "projector": tools.projector_command,
}


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one line for people, not a source location."""
    print(f"sgns: warning: {message}", file=sys.stderr if file is None else file)


class _SurvivingStream:
    """stderr for a run: once a write fails (the reader went away, as in
    `sgns ... 2>&1 | head -4`), the descriptor is pointed at /dev/null and
    the run goes on, so a lost progress line never costs the output."""

    def __init__(self, stream):
        self.stream = stream

    def __getattr__(self, name):
        return getattr(self.stream, name)

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except (OSError, ValueError):
            self._silence()
            return len(text)

    def flush(self) -> None:
        try:
            self.stream.flush()
        except (OSError, ValueError):
            self._silence()

    def _silence(self) -> None:
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self.stream.fileno())
            os.close(null)
        except (OSError, ValueError, AttributeError):
            pass  # not a file descriptor (e.g. captured by a test): nothing to redirect


def main(argv: list[str] | None = None) -> int:
    stderr = sys.stderr
    # None when started with descriptor 2 closed (2>&-): messages go nowhere.
    sys.stderr = _SurvivingStream(stderr if stderr is not None else open(os.devnull, "w"))  # noqa: SIM115
    try:
        return _main(argv)
    finally:
        if stderr is None:
            sys.stderr.stream.close()
        sys.stderr = stderr


def _main(argv: list[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "-help", "help"):
        print(USAGE.format(version=__version__, cpus=os.cpu_count()), end="")
        return 0 if argv else 1
    if argv[0] in ("-V", "--version"):
        print(f"sgns {__version__}")
        return 0
    command = COMMANDS.get(argv[0])
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            if command is not None:
                return command(argv[1:])
            return train_command(argv)
    except UsageError as e:
        print(f"sgns: {e}", file=sys.stderr)
        return 2
    except (OSError, ValueError, MemoryError, NotImplementedError) as e:
        print(f"sgns: {error_text(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sgns: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 -- a command line shows one line, never a traceback
        print(f"sgns: error: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
