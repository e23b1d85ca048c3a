"""Text files as bytes, without NumPy: how a word (str) is stored as bytes,
compressed files by extension, and corpus paths the C reader can read."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from sgns.outputs import scratch_copy

# Corpus files are bytes; words that are not valid UTF-8 keep their bytes
# through surrogate escapes, so every file round-trips byte for byte.
ENCODING = "utf-8"
ERRORS = "surrogateescape"


def encode_word(word: str) -> bytes:
    return word.encode(ENCODING, ERRORS)


def decode_word(raw: bytes) -> str:
    return raw.decode(ENCODING, ERRORS)


# ---- compressed files --------------------------------------------------------

# The one table of compressed formats the corpus readers and the trainer accept.
COMPRESSED_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def compressed_opener(path):
    """The function that opens `path` decompressed (gzip.open, ...), or None
    for a plain file; by extension, case-insensitive."""
    return COMPRESSED_OPENERS.get(os.path.splitext(os.fsdecode(os.fspath(path)))[1].lower())


def open_maybe_compressed(path) -> IO[bytes]:
    """Open `path` for binary reading, decompressing .gz, .bz2 and .xz."""
    return (compressed_opener(path) or open)(path, "rb")


def check_corpus_path(path) -> None:
    """FileNotFoundError / IsADirectoryError / ValueError naming a corpus path
    that is not a regular file. A corpus is read once to count it, then once
    per epoch, in byte ranges per thread: a FIFO, pipe, socket or device
    cannot be (and opening a FIFO without a writer blocks for ever), so it
    is refused before anything opens it."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"corpus file not found: {os.fsdecode(path)!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"corpus path is a directory: {os.fsdecode(path)!r}")
    mode = os.stat(path).st_mode
    if stat.S_ISREG(mode):
        return
    kinds = [(stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device")]
    kind = next((name for test, name in kinds if test(mode)), "not a regular file")
    raise ValueError(
        f"corpus {os.fsdecode(path)!r} is {kind}: training needs a regular file (it is read once "
        "to count the words, then once per epoch, in byte ranges per thread); save the stream to "
        "a file first (e.g. cat > corpus.txt)"
    )


@contextmanager
def plain_file(corpus_file) -> Iterator[str | bytes]:
    """Yield a path the C reader can read: the file itself, or a temporary
    decompressed copy of a .gz/.bz2/.xz file."""
    path = os.fspath(corpus_file)
    check_corpus_path(path)
    opener = compressed_opener(path)
    if opener is None:
        yield path
        return
    with scratch_copy(lambda: opener(path, "rb"), prefix="sgns-corpus-") as tmp:
        yield tmp
