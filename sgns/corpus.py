"""Corpus readers: re-iterable streams of sentences (lists of str tokens)
for Word2Vec(sentences=...), with gensim's names.

They tokenise exactly as the C reader behind corpus_file= does, so a model
built from LineSentence(path) has the same vocabulary as one built from
corpus_file=path: tokens are maximal runs of bytes other than ASCII
whitespace (space, \\t, \\n, \\v, \\f, \\r) and NUL; a token longer than 1000
bytes keeps its first 1000 (cut back to a UTF-8 character boundary); bytes
are decoded as UTF-8 with surrogate escapes (sgns.textfiles.ENCODING/ERRORS), so
invalid bytes survive as '\\udcXX' characters. Unicode spaces such as U+00A0
are part of a token, as in the C reader.

Memory is bounded whatever the line length: files are read in blocks of
1 MiB and a long line is yielded in pieces of max_sentence_length tokens.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import IO, TypeGuard, cast

from sgns._tokenize import MAX_WORD_BYTES
from sgns.textfiles import ENCODING, ERRORS, open_maybe_compressed

Source = str | os.PathLike | IO

_BLOCK = 1 << 20
_WS = b" \t\n\v\f\r"  # bytes.split() separators; NUL is mapped to a space
# Characters str.split() treats as whitespace but the C reader does not.
_ASCII_OTHER_SPACE = (b"\x1c", b"\x1d", b"\x1e", b"\x1f")
_UNICODE_SPACE = re.compile("[\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")


def open_corpus(path: str | bytes | os.PathLike) -> IO[bytes]:
    """Open a corpus file for binary reading; .gz, .bz2 and .xz are
    decompressed on the fly (by extension)."""
    return open_maybe_compressed(path)


def _cut(raw: bytes) -> bytes:
    """The C reader's cut of an over-long token: its first MAX_WORD_BYTES bytes,
    backed off (by at most 3) to a UTF-8 character boundary."""
    k = MAX_WORD_BYTES
    while k > MAX_WORD_BYTES - 3 and (raw[k] & 0xC0) == 0x80:
        k -= 1
    return raw[:MAX_WORD_BYTES] if (raw[k] & 0xC0) == 0x80 else raw[:k]


def _tokens(data: bytes) -> list[str]:
    """Tokens of a run of complete tokens (data neither starts nor ends
    inside a token)."""
    if b"\0" in data:
        data = data.replace(b"\0", b" ")
    text = data.decode(ENCODING, ERRORS)
    if (
        not any(c in data for c in _ASCII_OTHER_SPACE)
        if text.isascii()
        else _UNICODE_SPACE.search(text) is None
    ):
        tokens = text.split()  # same split as the bytes: no other whitespace present
    else:
        tokens = [t.decode(ENCODING, ERRORS) for t in data.split()]
    if len(data) > MAX_WORD_BYTES // 4 and tokens and max(map(len, tokens)) > MAX_WORD_BYTES // 4:
        for i, t in enumerate(tokens):
            if len(t) > MAX_WORD_BYTES // 4:
                raw = t.encode(ENCODING, ERRORS)
                if len(raw) > MAX_WORD_BYTES:
                    tokens[i] = _cut(raw).decode(ENCODING, ERRORS)
    return tokens


def _str_split_tokens(data: bytes) -> list[str]:
    """gensim's tokens: str.split() of the decoded text (Unicode whitespace
    separates; no length cut)."""
    return data.decode(ENCODING, ERRORS).split()


def _sentences(
    f: IO, max_len: int, lines: bool, limit: int | None, str_split: bool = False
) -> Iterator[list[str]]:
    """Sentences of an open file: one per line (lines=True; empty lines give
    none) or one stream cut every max_len tokens (lines=False). At most
    `limit` lines are read. str_split: tokens as str.split() makes them
    instead of as the C reader does."""
    tokenize = _str_split_tokens if str_split else _tokens
    max_word = float("inf") if str_split else MAX_WORD_BYTES
    read = f.readline if lines else f.read
    carry = b""  # a token cut by the block boundary
    skipping = False  # inside a token already longer than the C reader keeps
    sentence: list[str] = []
    n_lines = 0
    while limit is None or n_lines < limit:
        chunk = read(_BLOCK)
        if isinstance(chunk, str):  # a file object opened in text mode
            chunk = chunk.encode(ENCODING, ERRORS)
        if not chunk:
            break
        if skipping:
            ws = min((p for p in map(chunk.find, (bytes([c]) for c in _WS + b"\0")) if p >= 0), default=-1)
            if ws < 0:
                continue
            chunk = chunk[ws:]
            skipping = False
        data = carry + chunk if carry else chunk
        end_of_line = lines and data.endswith(b"\n")
        carry = b""
        if not end_of_line and data[-1] not in _WS and data[-1] != 0:
            cut = max(data.rfind(bytes([c])) for c in _WS + b"\0") + 1
            carry, data = data[cut:], data[:cut]
            if len(carry) > max_word:
                carry, skipping = carry[: MAX_WORD_BYTES + 1], True
        tokens = tokenize(data)
        if sentence:
            sentence.extend(tokens)
        else:
            sentence = tokens
        if len(sentence) >= max_len:
            full = len(sentence) - len(sentence) % max_len
            for start in range(0, full, max_len):
                yield sentence[start : start + max_len]
            sentence = sentence[full:]
        if end_of_line:
            n_lines += 1
            if sentence:
                yield sentence
                sentence = []
    if carry:
        sentence.extend(tokenize(carry))
    for start in range(0, len(sentence), max_len):
        yield sentence[start : start + max_len]


class LineSentence:
    """Sentences of a text file, one per line, tokens separated by
    whitespace (see the module docstring for the exact rule).

    source: a path (.gz, .bz2, .xz decompressed by extension) or a file
    object (binary or text; it is rewound with seek(0) at each pass, so it
    must be seekable to be read more than once). max_sentence_length: a line
    of more tokens is yielded in pieces of this many (10000). limit: read
    only the first `limit` lines (None: all). Empty lines yield nothing.
    Re-iterable: each iteration reads the source again.
    """

    # True: split tokens as str.split() does (gensim's rule) instead of as the C reader.
    str_split = False

    def __init__(self, source: Source, max_sentence_length: int = 10000, limit: int | None = None):
        if not isinstance(max_sentence_length, int) or max_sentence_length < 1:
            raise ValueError(f"max_sentence_length must be an integer >= 1, got {max_sentence_length!r}")
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise ValueError(f"limit must be None or an integer >= 0, got {limit!r}")
        self.source = source
        self.max_sentence_length = max_sentence_length
        self.limit = limit
        self._passes = 0
        if _is_path(source):
            path = os.fspath(source)
            if not os.path.exists(path):
                raise FileNotFoundError(f"corpus file not found: {os.fsdecode(path)!r}")
            if os.path.isdir(path):
                raise IsADirectoryError(f"{os.fsdecode(path)!r} is a directory: use PathLineSentences")

    def __iter__(self) -> Iterator[list[str]]:
        lines = self._lines_mode()
        if _is_path(self.source):
            with open_corpus(self.source) as f:
                yield from _sentences(f, self.max_sentence_length, lines, self.limit, self.str_split)
            return
        f = cast(IO, self.source)  # not a path: a file object
        if self._passes and not _seekable(f):
            raise TypeError(
                "this file object cannot be rewound (not seekable), so it can be read "
                "only once; pass a path, or a seekable file"
            )
        self._passes += 1
        if _seekable(f):
            f.seek(0)
        yield from _sentences(f, self.max_sentence_length, lines, self.limit, self.str_split)

    def _lines_mode(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.source!r}, max_sentence_length={self.max_sentence_length})"


class Text8Corpus(LineSentence):
    """The text8 corpus (or any file read as one stream of words): newlines
    are ordinary whitespace and the words are yielded in sentences of
    max_sentence_length (10000) tokens, the last one shorter. The file is read
    in 1 MiB blocks: memory stays bounded although text8 is a single 100 MB
    line. source: a path (.gz/.bz2/.xz by extension) or a file object."""

    def __init__(self, source: Source, max_sentence_length: int = 10000):
        super().__init__(source, max_sentence_length=max_sentence_length)

    def _lines_mode(self) -> bool:
        return False


class PathLineSentences:
    """LineSentence over every regular file of a directory, in sorted file
    name order (or over one file, if source is a file). Subdirectories are
    not entered. max_sentence_length and limit (lines per file) as in
    LineSentence. Re-iterable; the directory is listed once, here."""

    line_sentence = LineSentence  # the reader of each file

    def __init__(self, source: str | os.PathLike, max_sentence_length: int = 10000, limit: int | None = None):
        path = os.fspath(source)
        self.source = path
        self.max_sentence_length = max_sentence_length
        self.limit = limit
        if os.path.isfile(path):
            self.input_files = [path]
        elif os.path.isdir(path):
            names = sorted(os.listdir(path))
            self.input_files = [os.path.join(path, n) for n in names if os.path.isfile(os.path.join(path, n))]
            if not self.input_files:
                raise ValueError(f"no files in the directory {os.fsdecode(path)!r}")
        else:
            raise FileNotFoundError(f"corpus path not found: {os.fsdecode(path)!r}")
        # Validate the arguments once.
        self.line_sentence(self.input_files[0], max_sentence_length, limit)

    def __iter__(self) -> Iterator[list[str]]:
        for path in self.input_files:
            yield from self.line_sentence(path, self.max_sentence_length, self.limit)

    def __repr__(self) -> str:
        return f"PathLineSentences({self.source!r}, {len(self.input_files)} files)"


class BrownCorpus:
    """The Brown corpus as distributed by NLTK: every file of a directory
    (sorted names), one sentence per line of "word/tag" tokens. Yields, per
    line with at least one, the tokens "word/TT" (word lower-cased, the tag's
    first two characters), keeping only tokens with exactly one "/" and a
    tag whose first two characters are letters."""

    def __init__(self, dirname: str | os.PathLike):
        self.dirname = os.fspath(dirname)
        if not os.path.isdir(self.dirname):
            raise NotADirectoryError(f"BrownCorpus needs a directory, got {os.fsdecode(self.dirname)!r}")

    def __iter__(self) -> Iterator[list[str]]:
        for name in sorted(os.listdir(self.dirname)):
            path = os.path.join(self.dirname, name)
            if not os.path.isfile(path):
                continue
            with open_corpus(path) as f:
                for raw in f:
                    words = []
                    for token in raw.decode(ENCODING, ERRORS).split():
                        parts = token.split("/")
                        if len(parts) == 2 and parts[1][:2].isalpha():
                            words.append(f"{parts[0].lower()}/{parts[1][:2]}")
                    if words:
                        yield words

    def __repr__(self) -> str:
        return f"BrownCorpus({self.dirname!r})"


def _is_path(source) -> TypeGuard[str | bytes | os.PathLike]:
    return isinstance(source, (str, bytes, os.PathLike))


def _seekable(f) -> bool:
    try:
        return bool(f.seekable())
    except (AttributeError, ValueError, OSError):
        return hasattr(f, "seek")


__all__ = ["BrownCorpus", "LineSentence", "PathLineSentences", "Text8Corpus", "open_corpus"]
