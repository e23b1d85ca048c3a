"""Every command-line argument of sgns is parsed here: word2vec.c's
'-name value' training flags (and the MPI ones), the tools' VECTORS
[-binary 0|1] arguments, and `sgns plot`'s words and options. A bad
argument raises UsageError, which the commands print as "sgns: ..." and
exit with status 2. NumPy-free at import (`sgns phrase` needs no trainer):
what the training flags check against is imported when they are parsed."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from sgns.outputs import check_output
from sgns.phrasecount import WORD2PHRASE_MAX_VOCAB


class UsageError(Exception):
    """A command line that cannot be run (printed as `sgns: message`, exit 2)."""


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


def mpi_flags() -> dict:
    """Accepted only under mpirun -np N (N > 1). -sync-words None: the default for N ranks."""
    from sgns.distributed import HOT_ROWS

    return {
        "sync-words": Flag(int, None),
        "sync": Flag(str, "sum"),
        "hot-rows": Flag(int, HOT_ROWS),
    }


DEMO_FLAGS = {
    "epochs": Flag(int, 5),
    "threads": Flag(int, None),
    "size": Flag(int, 100),
    "seed": Flag(int, 1),
}


# Word2Vec's parameter names as the training flags that set them, so that a
# refused value is reported under the flag the user typed.
PARAM_FLAGS = {
    "vector_size": "-size",
    "window": "-window",
    "sample": "-sample",
    "hs": "-hs",
    "negative": "-negative",
    "workers": "-threads",
    "epochs": "-iter",
    "min_count": "-min-count",
    "alpha": "-alpha",
    "min_alpha": "-min-alpha",
    "seed": "-seed",
    "ns_exponent": "-ns-exponent",
    "sync_words": "-sync-words",
}


def error_text(e: BaseException) -> str:
    """The message of an error raised while running a command: a refused
    parameter under its flag's name (`-size is too large: ...`)."""
    from sgns.guards import ParameterError

    if isinstance(e, ParameterError) and e.param in PARAM_FLAGS:
        return f"{PARAM_FLAGS[e.param]} {e.reason}"
    return f"error: {e}"


def parse_flags(argv: list[str], allowed=None, help_command: str = "sgns -h") -> dict:
    """word2vec.c style: '-name value' pairs. Unknown flags are errors. A flag
    given twice takes its last value (an override appended to a command line),
    with a note on stderr: word2vec.c takes the first."""
    allowed = FLAGS if allowed is None else allowed
    opts = {name: f.default for name, f in allowed.items()}
    seen: set[str] = set()
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("-") or arg in ("-", "--"):
            raise UsageError(f"unexpected argument {arg!r}: options are '-name value' pairs")
        name = arg.lstrip("-")
        if name not in allowed:
            raise UsageError(f"unknown option {arg!r} (see '{help_command}')")
        if name in seen:
            print(
                f"sgns: note: -{name} is given more than once; the last value counts "
                "(word2vec.c takes the first)",
                file=sys.stderr,
            )
        seen.add(name)
        if i + 1 >= len(argv):
            raise UsageError(f"option {arg!r} needs a value")
        value = argv[i + 1]
        try:
            opts[name] = _number(allowed[name].kind, value)
        except ValueError:
            raise UsageError(
                f"option {arg!r} needs {allowed[name].kind.__name__} value, got {value!r}"
            ) from None
        i += 2
    return opts


def _number(kind: type, value: str):
    """kind(value), as plain digits: Python's int() and float() also take
    '7_0' and ' 7', which word2vec.c's atoi/atof read as 7 and 7."""
    if kind in (int, float) and (value != value.strip() or "_" in value):
        raise ValueError(value)
    return kind(value)


def parse_train_flags(argv: list[str], mpi: bool = False) -> dict:
    """The training flags (and with mpi, the MPI ones), checked."""
    opts = parse_flags(argv, dict(FLAGS, **mpi_flags()) if mpi else FLAGS)
    check_train_flags(opts)
    if mpi:
        check_mpi_flags(opts)
    return opts


def check_train_flags(opts: dict) -> None:
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
    from sgns.guards import MAX_SHARED_CENTRES

    if not 0 <= opts["shared-negatives"] <= MAX_SHARED_CENTRES:
        raise UsageError(f"-shared-negatives must be 0..{MAX_SHARED_CENTRES}")
    check_output_paths(opts)
    if not opts["train"]:
        raise UsageError("-train <file> is required")


def check_output_paths(opts: dict) -> None:
    """Refuse an output path that cannot be written, or that names an input,
    now rather than after hours of training."""
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


def check_mpi_flags(opts: dict) -> None:
    from sgns.distributed import SYNC_MODES

    if opts["sync-words"] is not None and opts["sync-words"] < 1:
        raise UsageError("-sync-words must be >= 1")
    if opts["hot-rows"] < 1:
        raise UsageError("-hot-rows must be >= 1")
    if opts["sync"] not in SYNC_MODES:
        raise UsageError(f"-sync must be one of {', '.join(SYNC_MODES)}")


# ---- the tools: VECTORS ... [-binary 0|1] ----------------------------------------------------


def parse_tool_args(argv: list[str], n_min: int, n_max: int, usage: str) -> tuple[list[str], bool | None]:
    """Positional arguments (n_min..n_max of them) and -binary (None: not given)."""
    positional, binary = [], None
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-h", "--help", "-help"):
            raise UsageError(usage)
        if arg == "-binary":
            if i + 1 >= len(argv) or argv[i + 1] not in ("0", "1"):
                raise UsageError("-binary needs 0 or 1\n" + usage)
            binary = argv[i + 1] == "1"
            i += 2
            continue
        if arg.startswith("-") and arg != "-":
            raise UsageError(f"unknown option {arg!r}\n" + usage)
        positional.append(arg)
        i += 1
    if not n_min <= len(positional) <= n_max:
        raise UsageError(usage)
    return positional, binary


ACCURACY_USAGE = (
    "usage: sgns accuracy VECTORS QUESTIONS [THRESHOLD] [-binary 0|1]\n"
    "  word2vec.c compute-accuracy: QUESTIONS is a file ('-' for stdin); THRESHOLD "
    "(default 0 = all, as compute-accuracy; its demo script gives 30000) limits the vocabulary to the "
    "most frequent words"
)


def parse_accuracy_args(argv: list[str]) -> tuple[tuple[str, str], int, bool | None]:
    """`sgns accuracy`'s ((VECTORS, QUESTIONS), THRESHOLD, -binary)."""
    args, binary = parse_tool_args(argv, 2, 3, ACCURACY_USAGE)
    try:
        threshold = int(args[2]) if len(args) > 2 else 0
    except ValueError:
        raise UsageError(f"THRESHOLD must be an integer, got {args[2]!r}\n" + ACCURACY_USAGE) from None
    if threshold < 0:
        raise UsageError("THRESHOLD must be >= 0")
    return (args[0], args[1]), threshold, binary


PROJECTOR_USAGE = (
    "usage: sgns projector VECTORS PREFIX [-binary 0|1]\n"
    "  writes PREFIXtensor.tsv (the vectors, tab-separated) and PREFIXmetadata.tsv (the words) "
    "for the TensorBoard Embedding Projector; PREFIX may be a directory"
)


# ---- sgns plot -------------------------------------------------------------------------------

PLOT_USAGE = """Usage: sgns plot VEC word... [-output words.png] [-binary 0|1] [-analogy a:b,c:d] [-raw 1]
  VEC         vectors: word2vec text or binary file, or a file written by save()
  word...     words to show
  -output     PNG to write; default words.png
  -binary     1: VEC is word2vec binary; 0: text; default: guessed from the file
  -analogy    comma-separated pairs a:b, drawn as arrows a -> b (their words are added)
  -raw        1: PCA of the raw vectors instead of unit-length ones
"""


@dataclass
class PlotArgs:
    vectors: str
    words: list[str]
    output: str
    binary: bool | None
    pairs: list[tuple[str, str]]
    raw: bool


def parse_plot_args(argv: list[str]) -> PlotArgs:
    """`sgns plot VEC word... [options]`; '--' makes the rest words."""
    opts: dict[str, str | None] = {"output": "words.png", "binary": None, "analogy": "", "raw": "0"}
    positional: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":  # everything after is a word, even "-x"
            positional.extend(argv[i + 1 :])
            break
        if arg.startswith("-") and len(arg) > 1 and not _is_number(arg):
            name = arg.lstrip("-")
            if name not in opts:
                raise UsageError(f"unknown option {arg!r} for 'sgns plot'\n{PLOT_USAGE}")
            if i + 1 >= len(argv):
                raise UsageError(f"option {arg!r} needs a value")
            opts[name] = argv[i + 1]
            i += 2
        else:
            positional.append(arg)
            i += 1
    if not positional:
        raise UsageError(f"give a vector file and words\n{PLOT_USAGE}")
    for flag in ("binary", "raw"):
        if opts[flag] not in (None, "0", "1"):
            raise UsageError(f"-{flag} must be 0 or 1")
    pairs = _analogy_pairs(opts["analogy"] or "")
    if len(positional) - 1 + 2 * len(pairs) < 2:
        raise UsageError("give at least two words (or an -analogy pair)")
    binary = None if opts["binary"] is None else opts["binary"] == "1"
    return PlotArgs(positional[0], positional[1:], str(opts["output"]), binary, pairs, opts["raw"] == "1")


def _analogy_pairs(spec: str) -> list[tuple[str, str]]:
    pairs = []
    for item in filter(None, spec.split(",")):
        a, sep, b = item.partition(":")
        if not sep or not a or not b:
            raise UsageError(f"-analogy takes pairs a:b separated by commas, got {item!r}")
        pairs.append((a, b))
    return pairs


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


# ---- sgns phrase (word2vec.c's word2phrase) ------------------------------------------------

PHRASE_FLAGS = {
    "train": Flag(str, None),
    "output": Flag(str, None),
    "min-count": Flag(int, 5),
    "threshold": Flag(float, 100.0),
    "debug": Flag(int, 2),
    "threads": Flag(int, None),
    "max-vocab": Flag(int, WORD2PHRASE_MAX_VOCAB),
}


def parse_phrase_flags(argv: list[str]) -> dict:
    """`sgns phrase`'s flags (word2phrase's, plus -threads and -max-vocab), checked."""
    opts = parse_flags(argv, PHRASE_FLAGS, help_command="sgns phrase -h")
    for name in ("train", "output"):
        if not opts[name]:
            raise UsageError(f"-{name} <file> is required (see 'sgns phrase -h')")
    if opts["threads"] is not None and opts["threads"] < 1:
        raise UsageError("-threads must be at least 1")
    if opts["max-vocab"] < 1:
        raise UsageError("-max-vocab must be at least 1")
    check_output_paths(
        {"output": opts["output"], "save-vocab": None, "train": opts["train"], "read-vocab": None}
    )
    return opts
