# Type stubs for the _train extension (sgns/_train.pyx): the training loop
# over the C kernels, and single-step entry points for tests.

import os
from collections.abc import Callable, Iterator
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from sgns._tokenize import WordHash

_Path: TypeAlias = str | bytes | os.PathLike[str] | os.PathLike[bytes]
_F32: TypeAlias = npt.NDArray[np.float32]

KERNELS: tuple[str, ...]
MAX_NEGATIVE: int

def supported_kernels() -> tuple[str, ...]: ...
def active_kernels() -> str: ...
def prefetches_for_writing() -> bool: ...
def select_kernels(name: str = "auto") -> str: ...

class Trainer:
    def __init__(
        self,
        syn0: _F32,
        syn1neg: _F32 | None,
        keep_prob: npt.ArrayLike | None,
        noise_prob: npt.ArrayLike,
        *,
        window: int,
        negative: int,
        alpha: float,
        min_alpha: float,
        total_words: int,
        syn1: _F32 | None = None,
        huffman: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
        sg: bool = True,
        cbow_mean: bool = True,
        shared_negatives: bool = False,
        compute_loss: bool = False,
        max_sentence: int = 10000,
        words_done: int = 0,
        shrink_windows: bool = True,
        lockf: npt.NDArray[np.float32] | None = None,
        split_cbow_error: bool = False,
        private_top_nodes: int = 0,
        centres_per_draw: int = 1,
        private_noise_rows: int = 0,
        zero_padding: bool = False,
    ) -> None: ...
    @property
    def words_done(self) -> int: ...
    @words_done.setter
    def words_done(self, value: int) -> None: ...
    @property
    def alpha(self) -> float: ...
    @property
    def stop_flag(self) -> npt.NDArray[np.int32]: ...
    @property
    def stopped(self) -> bool: ...
    def request_stop(self) -> None: ...
    def train_ids(self, ids: npt.NDArray[np.int32], seed: int) -> tuple[int, int, float, bool]: ...
    def train_file(
        self, path: _Path, start: int, end: int, vocab: WordHash, seed: int
    ) -> tuple[int, int, float, bool]: ...

def encode_file(
    path: _Path,
    start: int,
    end: int,
    vocab: WordHash,
    max_sentence: int = 10000,
    stop: npt.NDArray[np.int32] | None = None,
) -> npt.NDArray[np.int32] | None: ...
def encode_sentences(
    sentences: Iterator[Any],
    index: dict[str, int],
    max_sentence: int,
    chunk: int,
    check: Callable[[Any], None],
    stop: npt.NDArray[np.int32] | None = None,
) -> tuple[npt.NDArray[np.int32], int, bool]: ...
def sigmoid(x: float) -> float: ...
def log_sigmoid(x: float) -> float: ...
def pair_update(
    v: _F32, out: _F32, alpha: float, labels: npt.ArrayLike | None = None, compute_loss: bool = True
) -> float: ...
def batch_update(
    inp: _F32,
    out: _F32,
    alpha: float,
    weight: npt.ArrayLike | None = None,
    labels: npt.ArrayLike | None = None,
    compute_loss: bool = True,
) -> float: ...
def counts_update(
    inp: _F32,
    out: _F32,
    alpha: float,
    pos: npt.ArrayLike,
    neg: npt.ArrayLike,
    compute_loss: bool = True,
) -> float: ...
def cbow_update(
    inp: _F32,
    out: _F32,
    alpha: float,
    mean: bool = True,
    labels: npt.ArrayLike | None = None,
    compute_loss: bool = True,
) -> float: ...
def alias_draws(p: npt.ArrayLike, n: int, seed: int = 1) -> npt.NDArray[np.int32]: ...
def subsample(
    ids: npt.ArrayLike, keep: npt.ArrayLike | None, seed: int, max_len: int
) -> tuple[list[list[int]], int, int]: ...
