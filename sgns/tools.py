"""word2vec.c's companion tools as sgns subcommands.

    sgns distance VECTORS [-binary 0|1]
    sgns analogy  VECTORS [-binary 0|1]
    sgns accuracy VECTORS QUESTIONS [THRESHOLD] [-binary 0|1]

distance and analogy read queries from stdin, one per line. On a terminal
they prompt ("Enter word or sentence (EXIT to break): ", "Enter three words
(EXIT to break): ") as word2vec.c's tools do; reading from a pipe or a file
they print no prompt, so their output is word2vec.c's minus the prompts.
A line "EXIT" or the end of the input stops them.

The semantics are word2vec.c's ``distance``, ``word-analogy`` and
``compute-accuracy``: every vector is normalised to unit length; distance
ranks words by cosine with the normalised sum of the query words' unit
vectors, analogy ("a b c") with unit(b - a + c); the query words are never
answers; the 40 best are printed as ``"%50s\\t\\t%f"`` (word right-aligned
in 50 bytes), best first, ties in file order. Words are matched exactly
(bytes, case-sensitive). accuracy is word2vec.c's compute-accuracy (see
sgns.evaluation.compute_accuracy, which does the counting): the first
THRESHOLD words of the file (default 0 = all, as compute-accuracy), ASCII
case-insensitive, and its output layout byte for byte, quirks included (a
section in which no question could be asked prints "(0 / 1)", and an
accuracy over no questions prints "-nan").

Where sgns differs, on purpose:

* Both vector formats are read. The format is detected from the first row
  after the header: a text file's row is the word and D numbers; anything
  else is binary. ``-binary 1`` or ``-binary 0`` skips the detection.
* accuracy reads the questions from a file argument ("-" for stdin) where
  compute-accuracy reads stdin only.
* A query line is split on any whitespace (word2vec.c splits on single
  spaces, so two spaces make an empty, unknown word); an empty line is
  skipped.
* An unknown word's position is printed as -1 by both tools (word-analogy
  prints 0, and also treats the file's first word as unknown; sgns does not).
* Fewer than 40 candidates print fewer lines (word2vec.c pads with empty
  words); analogy shows only positive cosines and distance cosines above
  -1, as word2vec.c's initial thresholds do. A zero vector is never an
  answer (word2vec.c divides it by zero).
* The end of the input ends the tools (word2vec.c's distance and
  word-analogy loop forever at end of file).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from typing import IO

import numpy as np

from sgns import formats
from sgns.evaluation import compute_accuracy
from sgns.flags import PROJECTOR_USAGE, parse_accuracy_args, parse_tool_args
from sgns.formats import is_binary_file
from sgns.outputs import scratch_copy
from sgns.textfiles import ENCODING, ERRORS

__all__ = [
    "TOP_N",
    "Vectors",
    "accuracy_command",
    "analogy_command",
    "distance_command",
    "is_binary_file",
    "load_vectors",
]

TOP_N = 40
DISTANCE_PROMPT = "Enter word or sentence (EXIT to break): "
ANALOGY_PROMPT = "Enter three words (EXIT to break): "
_RULE = b"-" * 72 + b"\n"
_DISTANCE_HEADER = b"\n" + b" " * 46 + b"Word       Cosine distance\n" + _RULE
_ANALOGY_HEADER = b"\n" + b" " * 46 + b"Word              Distance\n" + _RULE


# ---- reading vector files ----------------------------------------------------


class Vectors:
    """A vector file as the tools see it: words (str, surrogate-escaped
    bytes), their raw vectors, their unit vectors (float32; zero rows stay
    zero and are flagged in `zero`), and a word -> first row lookup (as
    word2vec.c's linear search).

    Cosines are float32 matrix products, so they can differ from
    word2vec.c's (whose summation order depends on how it was compiled) in
    the sixth printed decimal, and near-ties can swap places.
    """

    def __init__(self, words: list[str], vectors: np.ndarray):
        self.index_to_key = words
        self.vectors = vectors
        norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors, dtype=np.float64))
        self.zero = norms == 0
        norms[self.zero] = 1.0
        self.unit = (vectors / norms[:, None]).astype(np.float32)
        self.index: dict[str, int] = {}
        for i, w in enumerate(words):
            self.index.setdefault(w, i)

    def __len__(self) -> int:
        return len(self.index_to_key)


def load_vectors(path, binary: bool | None = None, limit: int | None = None) -> Vectors:
    """Read a word2vec-format file (binary None: detect the format)."""
    if binary is None:
        binary = is_binary_file(path)
    words, vectors = formats.read_vectors(
        path, binary=binary, limit=limit, unicode_errors=ERRORS, datatype=np.float32
    )
    return Vectors(words, vectors)


# ---- the query loops -----------------------------------------------------------


def _enc(word: str) -> bytes:
    return word.encode(ENCODING, ERRORS)


def _queries(stdin, stdout, prompt: str):
    """Yield query lines (str) until EXIT or end of input; prompt on a terminal."""
    interactive = _isatty(stdin)
    use_input = interactive and stdin is sys.stdin.buffer and stdout is sys.stdout.buffer
    while True:
        if use_input:
            try:
                line = input(prompt)
            except EOFError:
                stdout.write(b"\n")
                return
            line = line.encode(ENCODING, ERRORS).decode(ENCODING, ERRORS)
        else:
            if interactive:
                stdout.write(prompt.encode())
                stdout.flush()
            raw = stdin.readline()
            if not raw:
                return
            line = raw.rstrip(b"\r\n").decode(ENCODING, ERRORS)
        if line.strip() == "EXIT":
            return
        if not line.strip():
            continue
        yield line


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, io.UnsupportedOperation):
        return False


def _lookup(vec: Vectors, words: list[str], out: IO[bytes]) -> list[int] | None:
    """word2vec.c's "Word: ... Position in vocabulary: ..." lines; None
    (after "Out of dictionary word!") at the first unknown word."""
    rows = []
    for w in words:
        i = vec.index.get(w, -1)
        out.write(b"\nWord: " + _enc(w) + b"  Position in vocabulary: " + str(i).encode() + b"\n")
        if i < 0:
            out.write(b"Out of dictionary word!\n")
            return None
        rows.append(i)
    return rows


def _best(vec: Vectors, query: np.ndarray, exclude: list[int], floor: float, topn: int = TOP_N):
    """(row, cosine) of the topn rows with cosine > floor, best first, ties in
    row order; the rows in exclude and zero vectors left out."""
    if not np.any(query):
        return []  # a zero query: word2vec.c's NaN matches nothing
    scores = vec.unit @ query
    scores[vec.zero] = np.nan
    scores[exclude] = np.nan
    ok = np.flatnonzero(scores > floor)  # NaN compares False
    if len(ok) > topn:
        part = np.argpartition(-scores[ok], topn - 1)[:topn]
        cut = scores[ok][part].min()
        ok = ok[scores[ok] >= cut]  # keep every tie at the cut
    order = ok[np.argsort(-scores[ok], kind="stable")][:topn]
    return [(int(i), float(scores[i])) for i in order]


def _print_best(vec: Vectors, best, out: IO[bytes]) -> None:
    for i, score in best:
        word = _enc(vec.index_to_key[i])
        out.write(b" " * max(0, 50 - len(word)) + word + b"\t\t" + (b"%f" % score) + b"\n")


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.sqrt(np.dot(v.astype(np.float64), v.astype(np.float64)))
    return (v / n).astype(np.float32) if n > 0 else v


def run_distance(vec: Vectors, stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """word2vec.c distance over the query lines of stdin."""
    for line in _queries(stdin, stdout, DISTANCE_PROMPT):
        rows = _lookup(vec, line.split(), stdout)
        if rows is not None:
            stdout.write(_DISTANCE_HEADER)
            query = _unit(vec.unit[rows].sum(axis=0, dtype=np.float32))
            _print_best(vec, _best(vec, query, rows, -1.0), stdout)
        stdout.flush()


def run_analogy(vec: Vectors, stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """word2vec.c word-analogy ("a b c": b - a + c) over the query lines of stdin."""
    for line in _queries(stdin, stdout, ANALOGY_PROMPT):
        words = line.split()
        if len(words) < 3:
            stdout.write(
                b"Only %d words were entered.. three words are needed at the input "
                b"to perform the calculation\n" % len(words)
            )
        else:
            rows = _lookup(vec, words, stdout)
            if rows is not None:
                stdout.write(_ANALOGY_HEADER)
                u = vec.unit
                query = _unit((u[rows[1]] - u[rows[0]]) + u[rows[2]])
                _print_best(vec, _best(vec, query, rows, 0.0), stdout)
        stdout.flush()


# ---- compute-accuracy ------------------------------------------------------------


def run_accuracy(vectors_path, questions_path, threshold: int = 0, binary: bool | None = None):
    """Load the first `threshold` vectors (0: all) and count with
    sgns.evaluation.compute_accuracy. Returns its AccuracyResult."""
    vec = load_vectors(vectors_path, binary=binary, limit=threshold or None)
    return compute_accuracy(vec, questions_path, threshold=threshold)


# ---- command line ---------------------------------------------------------------


def projector_command(argv: list[str], stdout: IO[bytes] | None = None) -> int:
    """sgns projector VECTORS PREFIX [-binary 0|1]."""
    (vectors_path, prefix), binary = parse_tool_args(argv, 2, 2, PROJECTOR_USAGE)
    vectors = load_vectors(vectors_path, binary)
    tensor, metadata = formats.write_projector(prefix, vectors.index_to_key, vectors.vectors)
    _, stdout = _streams(None, stdout)
    stdout.write(f"{tensor}\n{metadata}\n".encode(ENCODING, ERRORS))
    stdout.flush()
    return 0


def _streams(stdin, stdout):
    return (
        stdin if stdin is not None else sys.stdin.buffer,
        stdout if stdout is not None else sys.stdout.buffer,
    )


def _quiet_broken_pipe(command):
    """`sgns distance v.bin < q | head`: stop quietly when the reader goes away."""

    def run(argv, stdin=None, stdout=None) -> int:
        try:
            return command(argv, stdin, stdout)
        except BrokenPipeError:
            if stdout is None:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)
            return 0

    run.__name__, run.__doc__ = command.__name__, command.__doc__
    return run


def _query_command(argv, stdin, stdout, usage: str, run) -> int:
    """Load VECTORS, then answer the query lines of stdin with run(vec, stdin, stdout)."""
    (path,), binary = parse_tool_args(argv, 1, 1, usage)
    vec = load_vectors(path, binary=binary)
    stdin, stdout = _streams(stdin, stdout)
    run(vec, stdin, stdout)
    stdout.flush()
    return 0


@_quiet_broken_pipe
def distance_command(argv: list[str], stdin: IO[bytes] | None = None, stdout: IO[bytes] | None = None) -> int:
    """sgns distance VECTORS [-binary 0|1]: nearest words to a word or sentence."""
    usage = (
        "usage: sgns distance VECTORS [-binary 0|1]\n"
        "  nearest words (cosine) to each query line's words; EXIT ends"
    )
    return _query_command(argv, stdin, stdout, usage, run_distance)


@_quiet_broken_pipe
def analogy_command(argv: list[str], stdin: IO[bytes] | None = None, stdout: IO[bytes] | None = None) -> int:
    """sgns analogy VECTORS [-binary 0|1]: "a b c" -> words closest to b - a + c."""
    usage = (
        "usage: sgns analogy VECTORS [-binary 0|1]\n  query lines 'a b c' (a is to b as c is to ?); EXIT ends"
    )
    return _query_command(argv, stdin, stdout, usage, run_analogy)


@_quiet_broken_pipe
def accuracy_command(argv: list[str], stdin: IO[bytes] | None = None, stdout: IO[bytes] | None = None) -> int:
    """sgns accuracy VECTORS QUESTIONS [THRESHOLD] [-binary 0|1]."""
    (vectors, questions), threshold, binary = parse_accuracy_args(argv)
    stdin, stdout = _streams(stdin, stdout)
    if questions == "-":
        with scratch_copy(lambda: contextlib.nullcontext(stdin), prefix="sgns-questions-") as copy:
            result = run_accuracy(vectors, copy, threshold, binary)
    else:
        result = run_accuracy(vectors, questions, threshold, binary)
    stdout.write(result.report().encode(ENCODING, "replace"))
    stdout.flush()
    return 0
