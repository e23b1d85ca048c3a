"""Weight matrices laid out for training: every row starts on a cache line.

A row of D float32 values is padded to whole 64-byte lines (D = 100 takes
112 floats' room, D = 300 takes 304; D a multiple of 16 needs no padding;
where padding would add more than an eighth, rows are not padded) and the
first row starts on a line. The matrix is the (rows, D) view of that
buffer: numpy code sees the usual shape, only its row stride is wider.

Why: with rows 400 bytes apart, three rows in four straddle lines, so the
kernels' vector loads and stores split across two lines, and two threads
updating neighbouring rows write the same line (measured: one epoch of
corpus8.1k, avx512, one worker D = 100 1.50 -> 1.36 s, D = 300 3.00 -> 2.68 s;
two workers D = 100 0.94 -> 0.83 s). Training keeps the padding zero: the
kernels may take a row's last vector across it instead of masking it
(padding_is_zero says when they may).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

LINE = 64  # bytes: the cache line of every x86-64 and Arm64 core the wheels target
_F32 = np.dtype(np.float32)
BLOCK_BYTES = 16 << 20  # a block of rows walked at a time (copies, checks)


def row_floats(dim: int) -> int:
    """Floats from one row to the next: dim rounded up to whole lines when
    that adds at most an eighth (D = 100: 112, 300: 304, 72: 80), else dim
    itself (D = 50 would take 64: 28% more memory; D = 1 sixteen times as
    much; such rows still start the matrix on a line)."""
    per_line = LINE // _F32.itemsize
    padded = max(1, -(-int(dim) // per_line)) * per_line
    return padded if 8 * padded <= 9 * int(dim) else int(dim)


def zeros(rows: int, dim: int) -> np.ndarray:
    """A (rows, dim) float32 matrix of zeros with padded, line-aligned rows.
    Its pages are only mapped when written (np.zeros of the whole buffer)."""
    ld = row_floats(dim)
    slack = LINE // _F32.itemsize
    buf = np.zeros(rows * ld + slack, dtype=_F32)
    start = (-buf.ctypes.data % LINE) // _F32.itemsize
    return buf[start : start + rows * ld].reshape(rows, ld)[:, :dim]


def is_padded(a: np.ndarray) -> bool:
    """True if a is a writable float32 matrix in this module's layout."""
    return (
        a.ndim == 2
        and a.dtype == _F32
        and a.flags.writeable
        and a.ctypes.data % LINE == 0
        and (a.shape[1] <= 1 or a.strides[1] == _F32.itemsize)
        and (a.shape[0] <= 1 or a.strides[0] == row_floats(a.shape[1]) * _F32.itemsize)
    )


def row_blocks(a: np.ndarray, max_bytes: int = BLOCK_BYTES) -> Iterator[slice]:
    """Slices of a's rows of about max_bytes each (at least one row): a big
    matrix walked a block at a time, so that a padded one is never copied
    whole (np.ascontiguousarray(a[s]) copies one block)."""
    row_bytes = a.itemsize * int(np.prod(a.shape[1:], dtype=np.int64))
    step = max(1, max_bytes // max(1, row_bytes))
    return (slice(s, s + step) for s in range(0, a.shape[0], step))


def padded(a: np.ndarray, max_bytes: int = BLOCK_BYTES) -> np.ndarray:
    """a itself if it is already laid out so, else a padded float32 copy
    (filled a block of rows at a time: no second full-size temporary)."""
    return a if is_padded(a) else grown(a, a.shape[0], max_bytes)


def grown(a: np.ndarray, rows: int, max_bytes: int = BLOCK_BYTES) -> np.ndarray:
    """A padded float32 (rows, D) matrix (rows >= a's) starting with a's rows,
    zeros after them: padded(np.vstack([a, zeros])) in one copy."""
    out = zeros(rows, a.shape[1])
    head = out[: a.shape[0]]
    for s in row_blocks(a, max_bytes):
        head[s] = a[s]
    return out


def padding_is_zero(a: np.ndarray) -> bool:
    """True if a is padded (is_padded), its buffer holds every row's padding
    and all of it is zero: then the kernels may take whole vectors across
    the padding (no masked tail) and leave it zero. Reads one line per row."""
    if not is_padded(a):
        return False
    ld = row_floats(a.shape[1])
    if a.shape[0] == 0 or a.shape[1] == ld:
        return True  # no padding
    owner = a.base  # numpy points a view at the array that holds its memory
    if not isinstance(owner, np.ndarray):
        return False
    start, end = a.ctypes.data, a.ctypes.data + a.shape[0] * ld * _F32.itemsize
    if start < owner.ctypes.data or end > owner.ctypes.data + owner.nbytes:
        return False  # not a buffer this module made: the last row's padding may not exist
    wide = np.lib.stride_tricks.as_strided(a, shape=(a.shape[0], ld), strides=a.strides, writeable=False)
    return not any(wide[s, a.shape[1] :].any() for s in row_blocks(wide))


def nbytes(rows: int, dim: int) -> int:
    """Bytes a padded (rows, dim) matrix occupies."""
    return rows * row_floats(dim) * _F32.itemsize
