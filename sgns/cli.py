"""Command line: word2vec.c's training flags, plus subcommands.

sgns -train data.txt -output vec.bin -size 100 -window 5 -negative 5 -binary 1
sgns demo

This module dispatches: each command's module is imported when it runs, so
a command that needs no trainer (`sgns phrase`) starts without NumPy and
the training code. The training command itself (one process or the ranks
of mpirun) and `sgns demo` are in sgns.train_command.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings

from sgns.flags import UsageError, error_text
from sgns.version import __version__

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


# Subcommand -> "module:function", imported when that command runs.
COMMANDS = {
    "demo": "sgns.train_command:demo_command",
    "plot": "sgns.plot:plot_command",
    "distance": "sgns.tools:distance_command",
    "analogy": "sgns.tools:analogy_command",
    "accuracy": "sgns.tools:accuracy_command",
    "phrase": "sgns.phrase_command:phrase_command",
    "projector": "sgns.tools:projector_command",
}
TRAIN = "sgns.train_command:train_command"


def _command(argv0: str):
    """The function that runs a command line starting with argv0: its
    subcommand's, else the training command's."""
    module, function = COMMANDS.get(argv0, TRAIN).split(":")
    return getattr(importlib.import_module(module), function)


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
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return _command(argv[0])(argv[1:] if argv[0] in COMMANDS else argv)
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
