# Type stubs for the _tokenize extension (sgns/_tokenize.pyx): the C word
# table and the byte-range word counter.

import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

MAX_WORD_BYTES: int
MAX_TABLE_WORD_BYTES: int

def word_hash(word: bytes) -> int: ...

class WordHash:
    def __new__(cls, expected: int = 0) -> WordHash: ...
    @staticmethod
    def from_words(words: Sequence[bytes]) -> WordHash: ...
    def __len__(self) -> int: ...
    def add(self, word: bytes, count: int = 1) -> int: ...
    def merge(self, other: WordHash) -> None: ...
    def find(self, word: bytes) -> int: ...
    def prune(self, min_count: int) -> None: ...
    def word(self, i: int) -> bytes: ...
    def words_at(
        self, ids: Iterable[int] | npt.ArrayLike, encoding: str | None = None, errors: str = "strict"
    ) -> list[bytes] | list[str]: ...
    def words(self) -> list[bytes]: ...
    def counts(self) -> npt.NDArray[np.int64]: ...

def count_file(
    path: str | bytes | os.PathLike[str] | os.PathLike[bytes],
    start: int = 0,
    end: int = -1,
    table: WordHash | None = None,
    max_vocab_size: int = 0,
    stop: npt.NDArray[np.int32] | None = None,
    sentence_words: int = 10000,
) -> tuple[WordHash, int, int, int]: ...

class CountFilter:
    def __new__(cls, nbytes: int, cap: int) -> CountFilter: ...
    @property
    def nbytes(self) -> int: ...
    def merge(self, other: CountFilter) -> None: ...

def filter_file(
    path: str | bytes | os.PathLike[str] | os.PathLike[bytes],
    start: int,
    end: int,
    into: CountFilter,
    stop: npt.NDArray[np.int32] | None = None,
) -> tuple[int, int]: ...
def count_filtered(
    path: str | bytes | os.PathLike[str] | os.PathLike[bytes],
    start: int,
    end: int,
    through: CountFilter,
    stop: npt.NDArray[np.int32] | None = None,
) -> WordHash: ...
def count_sentences(
    sentences: Iterable[Any], check: Callable[[Any], None], max_vocab_size: int = 0
) -> tuple[list[Any], npt.NDArray[np.int64], int, int]: ...
def huffman(
    counts: npt.ArrayLike,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.uint8]]: ...

ROWS_DONE: int
ROWS_MORE: int
ROWS_SLOW: int
ROWS_FULL: int

def vector_rows(
    binary: bool,
    data: bytes | bytearray | memoryview,
    pos: int,
    dim: int,
    vectors: npt.NDArray[np.float32],
    row: int,
    max_rows: int,
    max_row: int = 0,
    final: bool = False,
) -> tuple[int, int, int, bytearray, npt.NDArray[np.int64]]: ...
def parse_float(s: bytes) -> float | None: ...
def vector_file_rows(
    binary: bool, words: list[bytes], block: npt.NDArray[np.float32], out: bytearray
) -> int: ...
