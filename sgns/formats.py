"""word2vec.c file formats: vectors (text and binary), vocabulary and word
classes files.

The only module that knows their byte layout. Every write goes through
sgns.outputs.atomic_write: a regular file is replaced atomically (a crash or a
full disk never leaves a half-written file in place of a good one); devices,
FIFOs and /dev/stdout are written directly.

Vector files (word2vec.c, gensim, fastText .vec)::

    header  b"<vocab size> <dimension>\\n"
    text    b"<word> <v1> <v2> ... <vD>\\n"   (word2vec.c writes "%lf " per value)
    binary  b"<word> " + D little-endian float32 + b"\\n"

Vocabulary files (word2vec.c -save-vocab): b"<word> <count>\\n" per word.
Word classes files (word2vec.c -classes): b"<word> <class>\\n" per word.
Compressed text files (.gz, .bz2, .xz) are recognised by their extension.
"""

from __future__ import annotations

import bz2
import codecs
import contextlib
import gzip
import io
import itertools
import lzma
import os
import shutil
import sys
import warnings
import zlib
from collections.abc import Iterator, Sequence
from typing import IO

import numpy as np

from sgns._tokenize import ROWS_FULL, ROWS_SLOW, vector_file_rows, vector_rows
from sgns.errors import FormatError
from sgns.outputs import atomic_write
from sgns.textfiles import ERRORS, compressed_opener, open_maybe_compressed
from sgns.vocab import MAX_COUNT, SENTENCE_TOKEN

# A header or text row longer than this is corrupt, not a vector.
_MAX_HEADER = 1 << 10
_MAX_TEXT_ROW_PER_DIM = 64
# Vector files are read this many bytes at a time by the C row parser.
_READ_CHUNK = 1 << 24
# A headerless text file's first row, which gives D.
_MAX_FIRST_ROW = 1 << 24
# Encodings in which every ASCII byte stands for itself: a chunk's words,
# joined by newlines, decode in one call and split back into the same words,
# and a text row's numbers are written as ASCII bytes after the word's.
_ASCII_COMPATIBLE = frozenset({"utf-8", "ascii", "latin-1", "iso8859-1", "cp1252"})


def _ascii_compatible(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name in _ASCII_COMPATIBLE
    except LookupError:
        return False  # encoding a word raises it


class TruncatedFileError(FormatError, EOFError):
    """A file that ends before the data its header declares (also an
    EOFError, as gensim raises for it)."""


class UndecodableWordError(UnicodeDecodeError, FormatError):
    """A word that is not valid in the file's encoding (also the
    UnicodeDecodeError gensim raises for it)."""

    def __init__(self, path, error: UnicodeDecodeError, message: str, position: int, unit: str):
        UnicodeDecodeError.__init__(self, error.encoding, error.object, error.start, error.end, error.reason)
        self.path = os.fsdecode(path)
        self.position = position
        self.message = f"{self.path} at {unit} {position}: {message}"

    def __str__(self) -> str:
        return self.message


class TruncationWarning(UserWarning):
    """A file that loads but may have been cut short."""


# ---- vectors ----------------------------------------------------------------


# Writers of the compressed formats COMPRESSED_OPENERS reads, over an open binary file.
_COMPRESSORS = {
    ".gz": lambda raw: gzip.GzipFile(fileobj=raw, mode="wb"),
    ".bz2": lambda raw: bz2.BZ2File(raw, "wb"),
    ".xz": lambda raw: lzma.LZMAFile(raw, "wb"),  # noqa: SIM115 (entered by open_for_writing)
}


def compression_of(path) -> str | None:
    """ ".gz", ".bz2" or ".xz" when path names a compressed file (by its suffix)."""
    suffix = os.path.splitext(os.fsdecode(os.fspath(path)))[1].lower()
    return suffix if suffix in _COMPRESSORS else None


@contextlib.contextmanager
def open_for_writing(path, append: bool = False) -> Iterator[IO]:
    """atomic_write(path), compressing by suffix (.gz, .bz2, .xz). append=True
    starts the new file with the old one's bytes (a compressed file gets a
    second stream, which gzip and bzip2 readers concatenate)."""
    with atomic_write(path) as raw:
        if append and os.path.isfile(path):
            with open(path, "rb") as old:
                shutil.copyfileobj(old, raw, 1 << 20)
        kind = compression_of(path)
        if kind is None:
            yield raw
            return
        with _COMPRESSORS[kind](raw) as f:
            yield f  # type: ignore[misc]  # gzip/bz2/lzma files are binary streams


def write_vectors(
    path,
    words: Sequence[str],
    vectors: np.ndarray,
    binary: bool = False,
    encoding: str = "utf-8",
    *,
    header: bool = True,
    total_vec: int | None = None,
    prefix: str = "",
    append: bool = False,
    float_format: str = "%f ",
    first_row: tuple[str, np.ndarray] | None = None,
) -> None:
    """Write `vectors` (V x D) for `words` in word2vec.c's layout (compressed
    when path ends in .gz, .bz2 or .xz).

    header: write the "<V> <D>" line (total_vec instead of V if given).
    prefix: written before every word. append: add to the end of an existing
    file. float_format: how a text value is written ("%f " is word2vec.c's
    six decimals; "%.9g " keeps every float32 bit). first_row: a (word,
    vector) written before the others and counted in the header (word2vec.c's
    "</s>" row), without copying `vectors`."""
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise ValueError("vectors must be a (len(words), D) matrix")
    n, dim = vectors.shape
    lead: list[tuple[Sequence[str], np.ndarray]] = []  # the first_row, as a block of its own
    if first_row is not None:
        lead.append(([first_row[0]], np.asarray(first_row[1], dtype=vectors.dtype).reshape(1, dim)))
    for w in itertools.chain(*(block_words for block_words, _ in lead), words):
        if not w or any(c in w for c in " \t\n\r\v\f\x00"):
            raise ValueError(f"word {w!r} cannot be stored: empty or contains whitespace")
    # The C writer: binary rows, and text rows in word2vec.c's "%f " of
    # float32 values; -1 for a block it leaves to Python's formatting.
    fast = binary or (float_format == "%f " and vectors.dtype == np.float32 and _ascii_compatible(encoding))
    step = 256 if fast else 4096  # the C writer's buffer stays in cache
    blocks_of_rows = itertools.chain(
        lead, ((words[start : start + step], vectors[start : start + step]) for start in range(0, n, step))
    )
    python_rows = _binary_rows if binary else _text_rows
    out = bytearray()
    with open_for_writing(path, append) as f:
        if header:
            f.write(f"{n + len(lead) if total_vec is None else int(total_vec)} {dim}\n".encode())
        for block_words, block in blocks_of_rows:
            written = -1
            if fast:
                encoded = [(prefix + w).encode(encoding, ERRORS) for w in block_words]
                written = vector_file_rows(
                    binary, encoded, np.ascontiguousarray(block, dtype=np.float32), out
                )
            if written < 0:  # the C writer leaves NaN and infinity here too
                _check_finite(block_words, block)
                f.write(python_rows(block_words, block, prefix, encoding, float_format))
                continue
            with memoryview(out) as view, view[:written] as rows:
                f.write(rows)


def _check_finite(words, block) -> None:
    """The reader refuses NaN and infinity (a file holding them is corrupt or
    diverged), so the writer does too, before the target is replaced."""
    bad = ~np.isfinite(block).all(axis=1)
    if bad.any():
        word = words[int(np.argmax(bad))]
        raise ValueError(
            f"the vector of {word!r} contains NaN or infinity: a vector file cannot hold it "
            "(load_word2vec_format refuses such files); replace or drop the row first"
        )


def _binary_rows(words, block, prefix: str, encoding: str, float_format: str) -> bytes:
    data = np.ascontiguousarray(block, dtype="<f4")
    return b"".join(
        (prefix + w).encode(encoding, ERRORS) + b" " + data[i].tobytes() + b"\n" for i, w in enumerate(words)
    )


def _text_rows(words, block, prefix: str, encoding: str, float_format: str) -> bytes:
    # word2vec.c: fprintf("%lf ") for every value, then "\n".
    row_format = float_format * block.shape[1]
    values = block.astype(np.float64).tolist()
    return "".join(prefix + w + " " + row_format % tuple(v) + "\n" for w, v in zip(words, values)).encode(
        encoding, ERRORS
    )


def write_projector(prefix: str, words: Sequence[str], vectors: np.ndarray) -> tuple[str, str]:
    """TensorBoard Embedding Projector files: prefix + "tensor.tsv" (one
    vector per line, values tab-separated, every float32 digit) and prefix +
    "metadata.tsv" (one word per line, no header: a single column); a
    directory as prefix puts them inside it. A word holding a tab or newline
    cannot be written. Returns the two paths."""
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise ValueError("vectors must be a (len(words), D) matrix")
    for w in words:
        if any(c in w for c in "\t\n\r"):
            raise ValueError(f"word {w!r} cannot be stored in metadata.tsv: it holds a tab or newline")
    prefix = os.path.join(prefix, "") if os.path.isdir(prefix) else prefix
    tensor_path, metadata_path = prefix + "tensor.tsv", prefix + "metadata.tsv"
    row_format = "\t".join(["%.9g"] * vectors.shape[1]) + "\n"
    with atomic_write(tensor_path) as f:
        for start in range(0, len(words), 4096):
            block = vectors[start : start + 4096].astype(np.float64).tolist()
            f.write("".join(row_format % tuple(v) for v in block).encode())
    with atomic_write(metadata_path) as f:
        f.write("".join(w + "\n" for w in words).encode("utf-8", ERRORS))
    return tensor_path, metadata_path


def _parse_header(path, line: bytes) -> tuple[int, int]:
    parts = line.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise FormatError(path, f"header must be '<vocab size> <dimension>', got {line[:80]!r}", 0)
    n, dim = int(parts[0]), int(parts[1])
    if dim < 1:
        raise FormatError(path, f"dimension must be >= 1, got {dim}", 0)
    return n, dim


def read_vectors(
    path,
    binary: bool = False,
    limit: int | None = None,
    unicode_errors: str = "strict",
    encoding: str = "utf-8",
    datatype=np.float32,
    *,
    no_header: bool = False,
) -> tuple[list[str], np.ndarray]:
    """Read a word2vec-format file (.gz/.bz2/.xz decompressed by suffix).
    Returns (words, vectors).

    limit: read only the first `limit` vectors (None or 0: all, as gensim;
    a negative limit is a ValueError). unicode_errors: how to decode
    words that are not valid `encoding` ('strict', 'replace', 'ignore',
    'surrogateescape'). no_header: a text file without the "<V> <D>" line
    (GloVe); V and D are taken from the rows. Files with or without the
    newline after each binary vector are accepted. Raises FormatError naming
    the file and position on any inconsistency (truncation: its subclass
    TruncatedFileError; bad numbers, NaN/inf, wrong counts).
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{os.fsdecode(path)}: is a directory, not a vector file")
    if no_header and binary:
        raise NotImplementedError(
            "no_header works for text files only: a binary row's length needs the header"
        )
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 0
    ):
        raise ValueError(f"limit must be an integer >= 0 (0 or None: every vector), got {limit!r}")
    with _open_for_reading(path) as f:
        if no_header:
            n, dim, header_len = None, _first_row_dim(path, f), 0  # rows until the file ends
        else:
            n, dim, header_len = _read_header(path, f)
        declared = n
        if limit:  # gensim's test: 0 and None read every vector
            n = int(limit) if n is None else min(n, int(limit))
        # Never allocate more rows than the file can hold: a corrupt header
        # must not reserve terabytes (a short file then fails at its end).
        # A decompressing stream's length is unknown: its array grows with
        # the rows read. A plain headerless file has at most a row per line.
        min_row = _min_row(dim, binary)
        size = _plain_size(f)
        bound = n if n is not None else sys.maxsize if size is None else _lines_at_most(f)
        if size is not None:
            remaining = size - header_len
            if bound > 0 and min_row > remaining + 1:
                raise FormatError(
                    path,
                    f"header declares vectors of dimension {dim}, but the file "
                    f"has only {remaining} bytes after the header",
                    0,
                )
            bound = min(bound, remaining // min_row + 1)
        rows = _Rows(dim, binary, 0 if size is None else bound, bound)
        check_end = n == declared
        if binary:
            assert n is not None
            words = _read_binary(path, f, rows, n, unicode_errors, encoding, check_end)
        else:
            first_line = 1 if no_header else 2
            words = _read_text(path, f, rows, n, unicode_errors, encoding, check_end, first_line)
    return words, rows.trimmed(len(words)).astype(datatype, copy=False)


@contextlib.contextmanager
def _open_for_reading(path) -> Iterator[IO[bytes]]:
    """The file, or for .gz/.bz2/.xz a stream of its decompressed bytes
    (read a chunk at a time: a large file is never held whole)."""
    opener = compressed_opener(path)
    if opener is None:
        with open(path, "rb") as f:
            yield f
        return
    with opener(path, "rb") as packed:
        yield _Decompressed(path, packed)  # type: ignore[misc]


def _plain_size(f) -> int | None:
    """The length of a plain file; None for a decompressing stream."""
    if isinstance(f, _Decompressed):
        return None
    position = f.tell()
    size = f.seek(0, io.SEEK_END)
    f.seek(position)
    return size


def _lines_at_most(f) -> int:
    """1 + the newlines from f's position on (f's position is kept)."""
    position, lines = f.tell(), 1
    while chunk := f.read(_READ_CHUNK):
        lines += chunk.count(b"\n")
    f.seek(position)
    return lines


class _Decompressed:
    """A compressed file's decompressed bytes, its decompressor's errors
    (corrupt or cut data) raised as FormatError when they are met."""

    def __init__(self, path, packed):
        self.path, self.packed = path, packed

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (OSError, EOFError, ValueError, lzma.LZMAError, zlib.error) as e:
            kind = (compression_of(self.path) or "")[1:]
            raise FormatError(self.path, f"cannot decompress ({kind}): {e}") from None

    def read(self, size: int = -1) -> bytes:
        with self._errors():
            return self.packed.read(size)

    def readline(self, limit: int = -1) -> bytes:
        with self._errors():
            return self.packed.readline(limit)

    def tell(self) -> int:
        return self.packed.tell()

    def seek(self, offset: int) -> int:
        """Only back to the start (the stream is decompressed again)."""
        if offset != 0:
            raise io.UnsupportedOperation("a decompressing stream seeks back to its start only")
        with self._errors():
            return self.packed.seek(0)

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line


def _min_row(dim: int, binary: bool) -> int:
    """The fewest bytes a row of dimension dim can take: word, separators, values."""
    return 4 * dim + 2 if binary else 2 * dim + 1


class _Rows:
    """The vectors array being filled: allocated for the rows the file can
    hold, or, when that is unknown (a decompressing stream), grown as rows
    arrive, never past bound rows. A binary file's rows also keep each
    word's byte offset (starts), for errors."""

    def __init__(self, dim: int, binary: bool, capacity: int, bound: int):
        self.vectors, self.bound = np.empty((capacity, dim), dtype=np.float32), bound
        self.binary, self.min_row = binary, _min_row(dim, binary)
        self.starts = np.empty(capacity if binary else 0, dtype=np.int64)

    def room(self, rows: int) -> bool:
        """Make room for rows rows (at most bound); False if that is not
        possible. Callers ask only for rows whose bytes they hold: a corrupt
        header's dimension must not allocate what the file does not have."""
        have = len(self.vectors)
        if rows <= have:
            return True
        if have >= self.bound:
            return False
        grown = min(self.bound, max(rows, have + have // 4))
        # In place where the allocator can (a large block is remapped, not
        # copied); numpy zero-fills the new rows, so they grow by a quarter.
        self.vectors.resize((grown, self.vectors.shape[1]), refcheck=False)
        if self.binary:
            self.starts.resize(grown, refcheck=False)
        return True

    def can_grow(self) -> bool:
        return len(self.vectors) < self.bound

    def trimmed(self, rows: int) -> np.ndarray:
        if rows < len(self.vectors):
            self.vectors.resize((rows, self.vectors.shape[1]), refcheck=False)
        return self.vectors


def _read_header(path, f) -> tuple[int, int, int]:
    """(V, D, header length in bytes) from the first line."""
    header = f.readline(_MAX_HEADER)
    if not header:
        raise FormatError(path, "empty file, expected a '<vocab size> <dimension>' header", 0)
    if not header.endswith(b"\n"):
        raise FormatError(path, "header line is not terminated", 0)
    n, dim = _parse_header(path, header)
    return n, dim, len(header)


def _first_row_dim(path, f) -> int:
    """D of a text file without a header: the fields of its first row after
    the word. The file is rewound."""
    first = f.readline(_MAX_FIRST_ROW)
    if not first.strip():
        raise FormatError(path, "no vector on the first line of a file read with no_header=True", 1, "line")
    if len(first) >= _MAX_FIRST_ROW and not first.endswith(b"\n"):
        raise FormatError(path, "row is too long to be a vector", 1, "line")
    dim = len(first.split()) - 1
    if dim < 1:
        raise FormatError(path, "the first line holds a word but no numbers", 1, "line")
    f.seek(0)
    return dim


def _first_nonfinite(vectors: np.ndarray) -> int:
    """Index of the first row holding NaN or infinity, or -1. A block of rows
    at a time: a mask of a million vectors at once is a large new array."""
    step = max(1, (1 << 22) // max(1, vectors.shape[1]))
    for start in range(0, len(vectors), step):
        bad = ~np.isfinite(vectors[start : start + step]).all(axis=1)
        if bad.any():
            return start + int(np.argmax(bad))
    return -1


def _decode(path, raw: bytes, errors: str, encoding: str, position: int, unit: str) -> str:
    try:
        return raw.decode(encoding, errors)
    except UnicodeDecodeError as e:
        raise UndecodableWordError(
            path,
            e,
            f"word {raw!r} is not valid {encoding} ({e.reason}); "
            "pass unicode_errors='replace' or 'ignore' to load anyway",
            position,
            unit,
        ) from None


def _read_binary(path, f, rows: _Rows, n: int, errors: str, encoding: str, check_end: bool) -> list[str]:
    words: list[str] = []
    reader = _RowReader(path, f, errors, encoding)
    done = reader.parse(True, 0, n, rows, words)
    if done == n:
        if check_end:
            _check_binary_end(path, reader, n)
    else:
        # The exact reader takes the row the parser left, and every one after
        # it: a malformed file gets its error here.
        offset, rest = reader.tell(), reader.rest()
        rows.room(min(n, done + len(rest) // rows.min_row))
        _read_binary_rows(
            path, rest, offset, done, n, rows.vectors, words, rows.starts, errors, encoding, check_end
        )
    bad = _first_nonfinite(rows.vectors[:n])
    if bad >= 0:
        raise FormatError(
            path, f"vector {bad} ({words[bad]!r}) contains NaN or infinity", int(rows.starts[bad])
        )
    return words


def _read_binary_rows(path, data, offset, first, n, vectors, words, starts, errors, encoding, check_end):
    """Rows first..n from data (the file from byte offset on), one at a time."""
    dim = vectors.shape[1]
    row_bytes = 4 * dim
    pos, end = 0, len(data)
    for i in range(first, n):
        # Skip the separator(s) before the word (word2vec.c writes "\n").
        while pos < end and data[pos] in b" \n\r\t":
            pos += 1
        space = data.find(b" ", pos, pos + 100_000)
        if space < 0:
            if pos >= end:
                raise TruncatedFileError(path, f"file ends after {i} of {n} vectors", offset + pos)
            raise FormatError(path, f"vector {i}: no space after the word", offset + pos)
        if space == pos:
            raise FormatError(path, f"vector {i}: empty word", offset + pos)
        if data.find(b"\0", pos, space) >= 0 or data.find(b"\n", pos, space) >= 0:
            raise FormatError(
                path,
                f"vector {i}: the word contains a NUL or newline byte (wrong dimension in the header?)",
                offset + pos,
            )
        if i < len(starts):
            starts[i] = offset + pos
        words.append(_decode(path, data[pos:space], errors, encoding, offset + pos, "byte"))
        pos = space + 1
        if pos + row_bytes > end:
            raise TruncatedFileError(
                path,
                f"vector {i} ({words[-1]!r}) is truncated: {end - pos} of {row_bytes} bytes",
                offset + pos,
            )
        if i >= len(vectors):
            raise TruncatedFileError(path, f"file ends after {i} of {n} vectors", offset + pos)
        vectors[i] = np.frombuffer(data, dtype="<f4", count=dim, offset=pos)
        pos += row_bytes
    if check_end and data[pos:].strip():
        raise FormatError(path, f"more data after the {n} vectors the header declares", offset + pos)


def _check_binary_end(path, rows: _RowReader, n: int) -> None:
    """After the declared vectors, only whitespace."""
    offset, chunk = rows.tell(), rows.data[rows.pos :]
    while not chunk.strip():
        chunk = rows.f.read(_READ_CHUNK)
        if not chunk:
            return
    raise FormatError(path, f"more data after the {n} vectors the header declares", offset)


class _RowReader:
    """A vector file's rows from f's position on, read a chunk at a time:
    plainly well-formed rows parsed in C (sgns._tokenize.vector_rows), any
    other row left to the exact reader through readline() or rest()."""

    def __init__(self, path, f, errors: str, encoding: str, first_line: int = 2):
        self.path, self.f, self.errors, self.encoding, self.first_line = path, f, errors, encoding, first_line
        self.newline_safe = _ascii_compatible(encoding)
        self.base = f.tell()  # file offset of data[0]
        self.data, self.pos, self.final = b"", 0, False

    def tell(self) -> int:
        return self.base + self.pos

    def _more(self) -> bool:
        """Append a chunk of the file to the unread bytes; False at its end."""
        chunk = self.f.read(_READ_CHUNK)
        self.final = not chunk
        self.base += self.pos
        self.data, self.pos = self.data[self.pos :] + chunk, 0
        return bool(chunk)

    def parse(self, binary: bool, row: int, n: int, rows: _Rows, words: list, max_row: int = 0) -> int:
        """Rows row.. until n are taken, rows is full or a row needs the exact
        reader. Appends the words (and, for a binary file, each word's byte
        offset to rows.starts). Returns the rows taken in all."""
        dim, min_row = rows.vectors.shape[1], rows.min_row
        while row < n:
            rows.room(min(n, row + (len(self.data) - self.pos) // min_row))
            status, taken, self.pos, raw, at = vector_rows(
                binary, self.data, self.pos, dim, rows.vectors, row, n - row, max_row, self.final
            )
            if taken:
                if binary:
                    rows.starts[row : row + taken] = self.base + at
                    positions, unit = self.base + at, "byte"
                else:
                    positions, unit = range(row + self.first_line, row + taken + self.first_line), "line"
                words += self._decode_words(raw, taken, positions, unit)
                row += taken
            if status == ROWS_FULL:
                continue
            if status == ROWS_SLOW or self.final or (row >= len(rows.vectors) and not rows.can_grow()):
                break  # (ROWS_MORE at the file's end would be the parser's slip: the exact reader decides)
            self._more()
        return row

    def _decode_words(self, raw: bytearray, count: int, positions, unit: str) -> list[str]:
        """The count words in raw (each followed by a newline): in one call where
        the encoding allows it, else (or to name an undecodable word) one by one."""
        if self.newline_safe:
            try:
                words = str(raw, self.encoding, self.errors).split("\n")
            except UnicodeDecodeError:
                pass
            else:
                words.pop()  # after the last newline
                if len(words) == count:
                    return words
        return [
            _decode(self.path, word, self.errors, self.encoding, int(position), unit)
            for word, position in zip(bytes(raw).split(b"\n"), positions)
        ]

    def readline(self, limit: int) -> bytes:
        """The next line as f.readline(limit) would give it."""
        while True:
            end = self.data.find(b"\n", self.pos, self.pos + limit)
            if end >= 0 or len(self.data) - self.pos >= limit or not self._more():
                break
        stop = end + 1 if end >= 0 else min(len(self.data), self.pos + limit)
        line = self.data[self.pos : stop]
        self.pos = stop
        return line

    def rest(self) -> bytes:
        """Every byte not yet taken."""
        rest = self.data[self.pos :] + self.f.read()
        self.base, self.data, self.pos = self.tell(), b"", 0
        return rest


def _read_text(
    path,
    f,
    rows: _Rows,
    n: int | None,
    errors: str,
    encoding: str,
    check_end: bool = True,
    first_line: int = 2,
) -> list[str]:
    """The words of n text rows, their vectors into rows; n None: the rows
    until the file ends (a headerless file, which only blank lines may end)."""
    dim = rows.vectors.shape[1]
    words: list[str] = []
    max_row = 1024 + _MAX_TEXT_ROW_PER_DIM * dim
    reader = _RowReader(path, f, errors, encoding, first_line)
    want = sys.maxsize if n is None else n
    line = b"\n"  # the last row read (the parser takes rows with their newline only)
    i = 0
    while True:
        taken = reader.parse(False, i, want, rows, words, max_row=max_row)
        if taken > i:
            i, line = taken, b"\n"
        if i >= want:
            break
        # The row the parser left, read exactly: a malformed row gets its error here.
        line_no = i + first_line
        row = reader.readline(max_row)
        if not row and n is None:
            break
        if not row:
            raise TruncatedFileError(path, f"file ends after {i} of {n} vectors", line_no, "line")
        line = row
        if len(line) >= max_row and not line.endswith(b"\n"):
            raise FormatError(path, "row is too long to be a vector", line_no, "line")
        parts = line.split()
        if not parts and n is None and _only_blank_lines_follow(reader, max_row):
            line = b"\n"
            break
        if len(parts) != dim + 1:
            raise FormatError(
                path, f"expected a word and {dim} numbers, found {len(parts)} fields", line_no, "line"
            )
        words.append(_decode(path, parts[0], errors, encoding, line_no, "line"))
        if not rows.room(i + 1):
            raise TruncatedFileError(path, f"file ends after {i} of {n} vectors", line_no, "line")
        try:
            rows.vectors[i] = [float(x) for x in parts[1:]]
        except ValueError:
            raise FormatError(
                path, f"non-numeric value in the vector of {words[-1]!r}", line_no, "line"
            ) from None
        i += 1
    bad = _first_nonfinite(rows.vectors[:i])
    if bad >= 0:
        raise FormatError(
            path, f"vector {bad} ({words[bad]!r}) contains NaN or infinity", bad + first_line, "line"
        )
    if check_end and n is not None:
        _check_text_end(path, reader, n, max_row)
    if i and not line.endswith(b"\n"):
        # Every writer (word2vec.c, gensim, fastText, sgns) ends rows with a
        # newline: without it the file may have been cut inside its last
        # number, which would still parse. Not an error: hand-made files
        # often lack the final newline.
        warnings.warn(
            f"{os.fsdecode(path)} at line {i + first_line - 1}: the last row has no newline; if the "
            "file was cut short, its last value may be incomplete",
            TruncationWarning,
            stacklevel=4,
        )
    return words


def _only_blank_lines_follow(reader: _RowReader, max_row: int) -> bool:
    """Whether the rest of the file is blank lines (reading it)."""
    while line := reader.readline(max_row):
        if line.strip():
            return False
    return True


def _check_text_end(path, f: _RowReader, n: int, max_row: int) -> None:
    """After the declared rows, only blank lines may follow."""
    line_no = n + 1
    while True:
        line = f.readline(max_row)
        if not line:
            return
        line_no += 1
        if line.strip():
            raise FormatError(path, f"more rows than the {n} the header declares", line_no, "line")


# ---- vocabulary files ---------------------------------------------------------


def write_vocab(
    path,
    words: Sequence[str],
    counts: Sequence[int],
    sentences: int | None = 0,
    prefix: str = "",
    append: bool = False,
) -> None:
    """word2vec.c -save-vocab layout. Its first entry is "</s>" (the newline
    token, counted per sentence), which word2vec.c expects at index 0;
    sentences=None leaves it out (gensim's layout). prefix: written before
    every word; append: add to an existing file (compressed by suffix)."""
    with open_for_writing(path, append) as f:
        if sentences is not None:
            f.write(f"{SENTENCE_TOKEN} {int(sentences)}\n".encode())
        _write_word_ints(f, words, counts, prefix)


def read_vocab(path, unicode_errors: str = ERRORS) -> tuple[list[str], list[int], int]:
    """Read a word2vec.c vocabulary file (.gz/.bz2/.xz by suffix). Returns
    (words, counts, sentences), "</s>" taken out as the sentence count. A
    word listed twice or a count that does not fit in int64, or counts adding
    up past it, is a FormatError naming the line. unicode_errors: how words
    that are not UTF-8 are decoded."""
    words, counts, sentences, total = [], [], 0, 0
    first_seen: dict[bytes, int] = {}
    for line_no, raw, count in _word_int_rows(path, "count"):
        if count > MAX_COUNT:
            raise FormatError(path, f"count {count} of {raw!r} does not fit in 64 bits", line_no, "line")
        total += count
        if total > MAX_COUNT:
            raise FormatError(path, "the counts add up to more than 2**63 - 1 (64 bits)", line_no, "line")
        if raw in first_seen:
            raise FormatError(
                path, f"word {raw!r} is listed twice (first at line {first_seen[raw]})", line_no, "line"
            )
        first_seen[raw] = line_no
        word = raw.decode("utf-8", unicode_errors)
        if word == SENTENCE_TOKEN:
            sentences = count
            continue
        words.append(word)
        counts.append(count)
    return words, counts, sentences


# ---- word classes files (word2vec.c -classes) -----------------------------------


def write_classes(path, words: Sequence[str], classes: Sequence[int] | np.ndarray) -> None:
    """``"<word> <class>\\n"`` per word, in order, atomically."""
    with atomic_write(path) as f:
        _write_word_ints(f, words, classes)


def read_classes(path) -> tuple[list[str], np.ndarray]:
    """Read a classes file (sgns's or word2vec.c's). Returns (words, int32 classes)."""
    words, classes = [], []
    for _, raw, value in _word_int_rows(path, "class"):
        words.append(raw.decode("utf-8", ERRORS))
        classes.append(value)
    return words, np.asarray(classes, dtype=np.int32)


def _write_word_ints(f, words: Sequence[str], values, prefix: str = "") -> None:
    for start in range(0, len(words), 8192):
        f.write(
            "".join(
                f"{prefix}{w} {int(v)}\n"
                for w, v in zip(words[start : start + 8192], values[start : start + 8192])
            ).encode("utf-8", ERRORS)
        )


def _word_int_rows(path, what: str) -> Iterator[tuple[int, bytes, int]]:
    """(line number, word, value) of each non-empty "<word> <what>" line
    (.gz/.bz2/.xz by suffix)."""
    with _open_for_reading(path) as f:
        for line_no, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 2 or not parts[1].isdigit():
                raise FormatError(path, f"expected '<word> <{what}>'", line_no, "line")
            yield line_no, parts[0], int(parts[1])


# ---- format detection --------------------------------------------------------


def is_binary_file(path) -> bool:
    """True if `path` looks like a binary word2vec file, False for text.

    Reads the header and the first row: in the text format that row is
    a word followed by exactly D numbers on one line. The D float32 values
    of a binary row essentially never look like that (they would have to
    spell D decimal numbers separated by whitespace and end in a newline).
    """
    with open_maybe_compressed(path) as f:
        n, dim = _parse_header(path, f.readline(_MAX_HEADER))
        if n == 0:
            return False
        row = f.readline(1024 + 64 * dim)
    fields = row.split()
    if not row.endswith(b"\n") or len(fields) != dim + 1:
        return True
    try:
        [float(x) for x in fields[1:]]
    except ValueError:
        return True
    return False
