"""Command line: word2vec.c's training flags, plus subcommands.

sgns -train data.txt -output vec.bin -size 100 -window 5 -negative 5 -binary 1
sgns demo
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sgns.model import Word2Vec

USAGE = """sgns {version}: skip-gram word vectors, word2vec.c-compatible

Usage: sgns -train <file> -output <file> [options]     (word2vec.c flags)
       sgns demo [-epochs N] [-threads N]               (train on a bundled King James Bible)
       sgns plot VEC word... [-output out.png]          (2-D PCA picture of some words)
       sgns distance VEC | sgns analogy VEC             (word2vec.c's distance / word-analogy)
       sgns accuracy VEC QUESTIONS [threshold]          (word2vec.c's compute-accuracy)

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
                       (HogBatch; default); 0: word2vec.c's fresh negatives per pair.
                       Negative sampling only: -hs 1 always updates per pair
  -ns-exponent <float> noise distribution exponent; default 0.75
Under mpirun -np N (needs mpi4py: pip install 'sgns[mpi]'; see sgns.distributed):
  -sync-words <int>    words each process trains between synchronisations;
                       default 100000 for 2 processes, 40000 / N for more
  -sync sum|mean       add up (default) or average the processes' updates
  -hot-rows <int>      most frequent rows exchanged after every round; default 1024
"""


class UsageError(Exception):
    pass


@dataclass
class Flag:
    kind: type
    default: object


FLAGS = {
    "train": Flag(str, None),
    "output": Flag(str, None),
    "size": Flag(int, 100),
    "window": Flag(int, 5),
    "sample": Flag(float, 1e-3),
    "hs": Flag(int, 0),
    "negative": Flag(int, 5),
    "threads": Flag(int, None),
    "iter": Flag(int, 5),
    "min-count": Flag(int, 5),
    "alpha": Flag(float, None),
    "classes": Flag(int, 0),
    "debug": Flag(int, 2),
    "binary": Flag(int, 0),
    "save-vocab": Flag(str, None),
    "read-vocab": Flag(str, None),
    "cbow": Flag(int, 0),
    "min-alpha": Flag(float, 1e-4),
    "seed": Flag(int, 1),
    "shared-negatives": Flag(int, 1),
    "ns-exponent": Flag(float, 0.75),
}


def parse_flags(argv: list[str], allowed=None) -> dict:
    """word2vec.c style: '-name value' pairs. Unknown flags are errors."""
    allowed = FLAGS if allowed is None else allowed
    opts = {name: f.default for name, f in allowed.items()}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("-") or arg in ("-", "--"):
            raise UsageError(f"unexpected argument {arg!r}: options are '-name value' pairs")
        name = arg.lstrip("-")
        if name not in allowed:
            raise UsageError(f"unknown option {arg!r} (see 'sgns -h')")
        if i + 1 >= len(argv):
            raise UsageError(f"option {arg!r} needs a value")
        value = argv[i + 1]
        try:
            opts[name] = allowed[name].kind(value)
        except ValueError:
            raise UsageError(
                f"option {arg!r} needs {allowed[name].kind.__name__} value, got {value!r}"
            ) from None
        i += 2
    return opts


def _refuse_unsupported(opts: dict) -> None:
    if opts["cbow"] not in (0, 1):
        raise UsageError("-cbow must be 0 or 1")
    if opts["hs"] not in (0, 1):
        raise UsageError("-hs must be 0 or 1")
    if opts["classes"] < 0:
        raise UsageError("-classes must be >= 0")
    if opts["negative"] < 0 or (opts["negative"] == 0 and opts["hs"] == 0):
        raise UsageError("-negative must be >= 1, or 0 with -hs 1")
    if opts["binary"] not in (0, 1):
        raise UsageError("-binary must be 0 or 1")
    if opts["shared-negatives"] not in (0, 1):
        raise UsageError("-shared-negatives must be 0 or 1")
    check_output_paths(opts)


def check_output_paths(opts: dict) -> None:
    """Refuse an output path that cannot be written, or that names an input,
    now rather than after hours of training."""
    from sgns.outputs import check_output

    if (
        opts["output"]
        and opts["save-vocab"]
        and os.path.realpath(opts["output"]) == os.path.realpath(opts["save-vocab"])
    ):
        raise UsageError("-output and -save-vocab name the same file")
    inputs = (opts["train"], opts["read-vocab"])
    for flag in ("save-vocab", "output"):
        if opts[flag]:
            try:
                check_output(opts[flag], label=f"-{flag}", inputs=inputs)
            except OSError as e:
                raise UsageError(e.strerror) from None
            except ValueError as e:
                raise UsageError(str(e)) from None


class _ProgressLine:
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


def model_from_flags(opts: dict) -> "Word2Vec":
    """The untrained Word2Vec that parsed word2vec.c flags describe."""
    from sgns.model import Word2Vec

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
        shared_negatives=bool(opts["shared-negatives"]),
        ns_exponent=opts["ns-exponent"],
    )


def train_command(argv: list[str]) -> int:
    from sgns import formats
    from sgns.vocab import Vocabulary

    opts = parse_flags(argv)
    _refuse_unsupported(opts)
    if not opts["train"]:
        raise UsageError("-train <file> is required")
    debug = opts["debug"]
    err = sys.stderr
    model = model_from_flags(opts)
    corpus = opts["train"]
    if debug > 0:
        err.write(f"Starting training using file {corpus}\n")
    if opts["read-vocab"]:
        words, counts, sentences = formats.read_vocab(opts["read-vocab"])
        vocab = Vocabulary.from_counts(words, counts, min_count=opts["min-count"], corpus_sentences=sentences)
        if not os.path.exists(corpus):
            raise FileNotFoundError(f"corpus file not found: {corpus!r}")
        model.build_vocab(vocab=vocab)
    else:
        model.build_vocab(corpus_file=corpus)
    vocab = model.vocab
    if debug > 0:
        err.write(f"Vocab size: {len(vocab)}\nWords in train file: {vocab.total_words}\n")
    if opts["save-vocab"]:
        formats.write_vocab(opts["save-vocab"], vocab.words, vocab.counts.tolist(), vocab.corpus_sentences)
    if not opts["output"]:
        return 0
    # On a terminal, a tqdm bar when tqdm is installed; otherwise (or with
    # output to a file or pipe) word2vec.c's progress line.
    line = _ProgressLine(err) if debug > 1 else None
    bar = debug > 1 and err.isatty() and _have_tqdm()
    t0 = time.perf_counter()
    status = 0
    try:
        model.train(corpus_file=corpus, progress=True if bar else (line or False))
    except KeyboardInterrupt:
        status = 130
        if line:
            line.end()
        err.write(
            f"interrupted: writing the vectors trained so far "
            f"({100.0 * model.words_done / max(1, model.total_train_words):.1f}% of training)\n"
        )
    else:
        if line:
            line.end()
    if opts["classes"]:
        # word2vec.c: with -classes K the output holds "word class" lines, not vectors.
        from sgns.classes import word_classes, write_classes

        write_classes(opts["output"], model.wv, word_classes(model.wv, opts["classes"]))
    else:
        model.wv.save_word2vec_format(opts["output"], binary=bool(opts["binary"]))
    if debug > 0:
        words = sum(r.words for r in model.epoch_reports)
        secs = time.perf_counter() - t0
        err.write(
            f"Trained {words} words in {secs:.2f}s ({words / max(secs, 1e-9):,.0f} words/s); "
            f"wrote {opts['output']}\n"
        )
    return status


def demo_command(argv: list[str]) -> int:
    """Train on the bundled King James Bible and show nearest neighbours."""
    from importlib import resources

    from sgns.model import Word2Vec

    opts = parse_flags(
        argv,
        {"epochs": Flag(int, 5), "threads": Flag(int, None), "size": Flag(int, 100), "seed": Flag(int, 1)},
    )
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
    "plot": lambda argv: __import__("sgns.plot").plot.plot_command(argv),
    "distance": lambda argv: __import__("sgns.tools").tools.distance_command(argv),
    "analogy": lambda argv: __import__("sgns.tools").tools.analogy_command(argv),
    "accuracy": lambda argv: __import__("sgns.tools").tools.accuracy_command(argv),
}


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one line for people, not a source location."""
    print(f"sgns: warning: {message}", file=sys.stderr if file is None else file)


def main(argv: list[str] | None = None) -> int:
    from sgns import __version__

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
            from sgns import distributed

            if distributed.world_size() > 1:  # started by mpirun -np N (N > 1) with mpi4py
                return distributed.train_command(argv)
            return train_command(argv)
    except UsageError as e:
        print(f"sgns: {e}", file=sys.stderr)
        return 2
    except (OSError, ValueError, NotImplementedError) as e:
        print(f"sgns: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("sgns: interrupted", file=sys.stderr)
        return 130
