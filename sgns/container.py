"""The sgns file container: keys, vectors and named arrays with a JSON header,
one file, no pickle. sgns.persist stores whole models in it; KeyedVectors.save
stores vectors.

Layout of format version 1 (integers little-endian)::

    offset  size  field
    0       8     magic b"\\x89SGNS\\r\\n\\x1a"  (a high-bit byte and CR LF catch
                  text-mode or 7-bit corruption, as PNG's signature does)
    8       4     uint32 format version (1)
    12      4     uint32 CRC32 of the header bytes (0: not checked; files
                  written before the CRC existed have 0 here)
    16      8     uint64 H, length of the header
    24      H     header: a UTF-8 JSON object
    ...           zero bytes up to data_start = 24 + H rounded up to 64
    data_start    the arrays, raw C-order little-endian, each at
                  data_start + its "offset" (a multiple of 64, so a memory
                  map of each is aligned)

Header fields: "format" ("sgns"), "version" (1), "kind" ("word2vec" or
"keyedvectors"), "sgns_version", "vector_size", "count" (keys), "attrs"
(per-key attribute names), "file_size" (bytes), "arrays" {name: {"dtype" (numpy
string, e.g. "<f4"), "shape", "offset", "nbytes", "crc32"}}; a model adds its
own fields (see sgns.persist).

Arrays: "keys.utf8" (uint8: each key in UTF-8 with surrogate escapes, the
corpus bytes, followed by one NUL byte), "keys.offsets" (int64, V + 1: key i is
keys.utf8[offsets[i]:offsets[i+1] - 1]), "vectors" (V x D), "attr.<name>" (one
value per key, e.g. attr.count), and a model's own arrays (see sgns.persist).

Readers refuse a version they do not know and ignore fields and arrays they
do not know; a change an old reader could misread gets a new version. The
header and every array carry a CRC32; the header's is always checked, an
array's when the array is read into memory (not when it is memory-mapped:
that would read it all). Every write goes to a temporary
file that is fsynced and renamed over the target.
"""

from __future__ import annotations

import json
import math
import os
import struct
import zlib

import numpy as np

from sgns import padded_rows
from sgns.errors import FormatError
from sgns.outputs import atomic_write
from sgns.textfiles import ENCODING, ERRORS
from sgns.version import __version__

MAGIC = b"\x89SGNS\r\n\x1a"
VERSION = 1
FORMAT = "sgns"
PREAMBLE = struct.Struct("<8sIIQ")
_ALIGN = 64
_CHUNK = 1 << 26  # bytes per write/CRC step
_MAX_HEADER = 1 << 34  # a header this large is corruption


def save_keyedvectors(kv, path: str | os.PathLike) -> None:
    """Write kv (keys, vectors, per-key attributes) to path, atomically."""
    write_file(path, {"kind": "keyedvectors"}, kv_arrays(kv))


def load_keyedvectors(path: str | os.PathLike, mmap: str | None, cls: type):
    """Read keys, vectors and attributes written by save_keyedvectors (or
    the vectors of a model file) into cls.from_arrays. mmap: None reads the
    vectors into memory (CRC-checked); 'r' maps them read-only, 'c'
    copy-on-write ('r+' is refused: see Reader)."""
    with Reader(path, mmap) as r:
        return read_kv(r, cls)


# ---- writing ----------------------------------------------------------------------------------


def kv_arrays(kv) -> dict[str, np.ndarray]:
    keys = kv.index_to_key
    for k in keys:
        if not isinstance(k, str):
            raise TypeError(f"only str keys can be saved, got {k!r}")
    try:
        encoded = [k.encode(ENCODING, ERRORS) for k in keys]
    except UnicodeEncodeError as e:
        bad = next(k for k in keys if not _encodable(k))
        raise ValueError(f"key {bad!r} cannot be stored: {e.reason}") from None
    blob = b"\0".join(encoded) + b"\0" if encoded else b""
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)) + 1
    offsets = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    vectors = np.asarray(kv.vectors)
    if vectors.ndim != 2 or vectors.shape[0] != len(keys):
        raise ValueError("kv.vectors must be a (len(index_to_key), D) matrix")
    arrays: dict[str, np.ndarray] = {
        "keys.utf8": np.frombuffer(blob, dtype=np.uint8),
        "keys.offsets": offsets,
        "vectors": vectors,
    }
    for name, values in kv.expandos.items():
        values = np.asarray(values)
        if values.dtype.kind not in "biuf" or values.shape[:1] != (len(keys),):
            raise ValueError(
                f"per-key attribute {name!r} (dtype {values.dtype}, shape {values.shape}) "
                "cannot be saved: it must be numeric with one value per key"
            )
        arrays["attr." + name] = values
    return arrays


def _encodable(key: str) -> bool:
    try:
        key.encode(ENCODING, ERRORS)
        return True
    except UnicodeEncodeError:
        return False


def write_file(path, header: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write header (its "kind" and any other fields) and arrays to path, atomically.

    Each array's CRC is taken of the bytes written: the data go first (a copy of
    each chunk is checksummed and written), the header after them, into room
    kept for its longest form. Arrays that change while they are written (a
    save() from another thread during training) then give a file that loads,
    holding the rows as each chunk was copied, not one that fails its own CRC.
    An output that cannot seek (a pipe) gets the CRCs from a first pass."""
    kv_rows, dim = arrays["vectors"].shape
    table: dict[str, dict] = {}
    offset = 0
    prepared: list[tuple[str, int, np.ndarray]] = []
    for name, arr in arrays.items():
        arr = np.asarray(arr)
        if arr.dtype != arr.dtype.newbyteorder("<"):
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"array {name!r} has dtype {arr.dtype}; only numbers can be saved")
        table[name] = {
            "dtype": arr.dtype.str,
            "shape": list(arr.shape),
            "offset": offset,
            "nbytes": arr.nbytes,
            "crc32": _MAX_CRC,  # the longest value: the header's room
        }
        prepared.append((name, offset, arr))
        offset = _align(offset + arr.nbytes)
    full = {
        "format": FORMAT,
        "version": VERSION,
        "kind": header["kind"],
        "sgns_version": __version__,
        "vector_size": int(dim),
        "count": int(kv_rows),
        "attrs": sorted(n[5:] for n in arrays if n.startswith("attr.")),
    }
    full.update({k: v for k, v in header.items() if k != "kind"})
    full["arrays"] = table
    # file_size depends on the header's own length: settle it in two passes.
    full["file_size"] = 0
    while True:  # sizes only grow, so this settles (in two rounds, in practice)
        room = len(_header_text(full))
        size = _align(PREAMBLE.size + room) + offset
        if full["file_size"] == size:
            break
        full["file_size"] = size
    data_start = _align(PREAMBLE.size + room)
    with atomic_write(path) as f:
        header_last = _can_write_header_last(f)
        if header_last:
            f.seek(data_start)
        else:
            for name, _, arr in prepared:
                table[name]["crc32"] = _crc_of_chunks(_byte_chunks(arr))
            _write_header(f, full, room)
            f.write(b"\0" * (data_start - PREAMBLE.size - room))
        written = 0
        for name, off, arr in prepared:
            f.write(b"\0" * (off - written))
            crc = 0
            for raw in _byte_chunks(arr):
                if header_last:  # the CRC covers the bytes written: a copy the workers cannot change
                    raw = bytes(raw)
                    crc = zlib.crc32(raw, crc)
                f.write(raw)
            if header_last:
                table[name]["crc32"] = crc
            written = off + arr.nbytes
        f.write(b"\0" * (offset - written))
        if header_last:
            f.seek(0)
            _write_header(f, full, room)


_MAX_CRC = 0xFFFFFFFF


def _can_write_header_last(f) -> bool:
    """f is a fresh file we may seek back in: not a pipe, and not opened for
    appending (a shell's >> to /dev/stdout), where writes ignore the seek."""
    try:
        if not f.seekable() or f.tell() != 0:
            return False
        import fcntl  # POSIX only; Windows files have no O_APPEND to inherit here
    except ImportError:
        return True
    except (OSError, ValueError):
        return False
    return not fcntl.fcntl(f.fileno(), fcntl.F_GETFL) & os.O_APPEND


def _header_text(full: dict) -> bytes:
    return json.dumps(full, allow_nan=False, separators=(",", ":")).encode("ascii")


def _write_header(f, full: dict, room: int) -> None:
    """The preamble and the header, padded with spaces (JSON whitespace) to room bytes."""
    text = _header_text(full).ljust(room)
    f.write(PREAMBLE.pack(MAGIC, VERSION, zlib.crc32(text), len(text)))
    f.write(text)


def _crc_of_chunks(chunks) -> int:
    crc = 0
    for raw in chunks:
        crc = zlib.crc32(raw, crc)
    return crc


def _bytes_view(arr: np.ndarray) -> memoryview:
    """The bytes of a C-contiguous array."""
    if arr.size == 0:
        return memoryview(b"")
    return memoryview(arr.reshape(-1)).cast("B")  # type: ignore[arg-type]  # numpy arrays are buffers


def _byte_chunks(arr: np.ndarray):
    """arr's bytes in C order, about _CHUNK at a time. A matrix whose rows
    are padded (sgns.padded_rows) is copied a block of rows at a time, never
    whole."""
    if arr.size == 0:
        return
    if arr.flags.c_contiguous:
        raw = _bytes_view(arr)
        for start in range(0, len(raw), _CHUNK):
            yield raw[start : start + _CHUNK]
        return
    for rows in padded_rows.row_blocks(arr, _CHUNK):
        yield _bytes_view(np.ascontiguousarray(arr[rows]))


def _crc32(raw: memoryview) -> int:
    return _crc_of_chunks(raw[start : start + _CHUNK] for start in range(0, len(raw), _CHUNK))


def _align(n: int) -> int:
    return -(-n // _ALIGN) * _ALIGN


# ---- reading ----------------------------------------------------------------------------------


class Reader:
    """An open model file with its header checked; arrays on demand."""

    def __init__(self, path, mmap: str | None):
        if mmap == "r+":
            raise ValueError(
                "mmap='r+' is not supported: writes through the map would leave the file's CRC32s "
                "stale (the next load would report it corrupt); use mmap='c' (copy-on-write) and save()"
            )
        if mmap not in (None, "r", "c"):
            raise ValueError(f"mmap must be None, 'r' or 'c', got {mmap!r}")
        self.path = os.fsdecode(os.fspath(path))
        self.mmap = mmap
        if os.path.isdir(self.path):
            raise IsADirectoryError(f"{self.path}: is a directory, not an sgns model file")
        self.f = open(self.path, "rb")  # noqa: SIM115 (closed by __exit__)
        try:
            self._read_header()
        except BaseException:
            self.f.close()
            raise

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc) -> None:
        self.f.close()

    def _read_header(self) -> None:
        size = os.fstat(self.f.fileno()).st_size
        head = self.f.read(PREAMBLE.size)
        if not head.startswith(MAGIC):
            raise FormatError(self.path, _not_ours(head), 0)
        if len(head) < PREAMBLE.size:
            raise FormatError(self.path, f"truncated: {size} bytes, too short for the file header", 0)
        _, version, header_crc, hlen = PREAMBLE.unpack(head)
        if version != VERSION:
            newer = " (written by a newer sgns: upgrade sgns to read it)" if version > VERSION else ""
            raise FormatError(
                self.path,
                f"unknown sgns format version {version}; this sgns reads version {VERSION}{newer}",
                8,
            )
        if hlen > min(size - PREAMBLE.size, _MAX_HEADER):
            raise FormatError(
                self.path, f"truncated or corrupt: header of {hlen} bytes in a file of {size} bytes", 16
            )
        text = self.f.read(hlen)
        if header_crc and zlib.crc32(text) != header_crc:
            raise FormatError(self.path, "corrupt header (CRC32 mismatch)", PREAMBLE.size)
        try:
            header = json.loads(text.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise FormatError(self.path, f"corrupt header ({e})", PREAMBLE.size) from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise FormatError(self.path, "corrupt header: not an sgns header", PREAMBLE.size)
        if header.get("version") != version:
            raise FormatError(
                self.path,
                f"corrupt header: version {header.get('version')!r} disagrees with the file's {version}",
                PREAMBLE.size,
            )
        self.header = header
        self.data_start = _align(PREAMBLE.size + hlen)
        expected = header.get("file_size")
        if isinstance(expected, int) and size < expected:
            raise FormatError(self.path, f"truncated: {size} of {expected} bytes", size)
        arrays = header.get("arrays")
        if not isinstance(arrays, dict):
            raise FormatError(self.path, "corrupt header: no 'arrays' table", PREAMBLE.size)
        self.arrays: dict[str, tuple[np.dtype, tuple[int, ...], int, int, int | None]] = {}
        self._read_array_table(arrays, size)

    def _read_array_table(self, arrays: dict, size: int) -> None:
        for name, spec in arrays.items():
            try:
                dtype = np.dtype(spec["dtype"])
                shape = tuple(int(x) for x in spec["shape"])
                offset, nbytes = int(spec["offset"]), int(spec["nbytes"])
                crc = spec.get("crc32")
            except (KeyError, TypeError, ValueError) as e:
                raise FormatError(
                    self.path, f"corrupt header: bad entry for array {name!r} ({e})", PREAMBLE.size
                ) from None
            if dtype.kind not in "biuf" or dtype.byteorder == ">" or any(x < 0 for x in shape):
                raise FormatError(
                    self.path, f"array {name!r}: unsupported dtype {dtype.str} or shape {shape}"
                )
            if math.prod(shape) * dtype.itemsize != nbytes or offset < 0 or offset % _ALIGN:
                raise FormatError(
                    self.path,
                    f"corrupt header: array {name!r} has shape {shape}, dtype "
                    f"{dtype.str}, {nbytes} bytes at offset {offset}",
                )
            end = self.data_start + offset + nbytes
            if end > size:
                raise FormatError(
                    self.path,
                    f"truncated: array {name!r} ends at byte {end}, the file has {size} bytes",
                    size,
                )
            self.arrays[name] = (dtype, shape, offset, nbytes, crc)

    def need(self, name: str) -> None:
        if name not in self.arrays:
            raise FormatError(self.path, f"array {name!r} is missing")

    def array(self, name: str, mmap: bool = True) -> np.ndarray:
        """The named array: memory-mapped if the reader maps and mmap, else
        read and CRC-checked."""
        self.need(name)
        dtype, shape, offset, nbytes, crc = self.arrays[name]
        where = self.data_start + offset
        if mmap and self.mmap is not None and nbytes > 0:
            return np.memmap(self.path, dtype=dtype, mode=self.mmap, offset=where, shape=shape)  # type: ignore[call-overload]
        out = np.empty(shape, dtype=dtype)
        view = _bytes_view(out)
        self.f.seek(where)
        got = 0
        while got < nbytes:
            n = self.f.readinto(view[got:])
            if not n:
                raise FormatError(
                    self.path, f"truncated: array {name!r} stops after {got} of {nbytes} bytes", where + got
                )
            got += n
        if crc is not None and _crc32(view) != crc:
            raise FormatError(self.path, f"array {name!r} is corrupt (CRC32 mismatch)", where)
        return out


def header_dict(r: Reader, name: str) -> dict:
    """The header's object `name` ({} when absent)."""
    value = r.header.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FormatError(r.path, f"corrupt header: {name!r} is a {type(value).__name__}, not an object")
    return value


def _not_ours(head: bytes) -> str:
    if not head:
        return "empty file, not an sgns model file"
    if head[:1] == b"\x80" or head[:2] in (b"(d", b"(l", b"cc"):
        return (
            "not an sgns model file: it looks like a Python pickle (gensim's save()). sgns "
            "never unpickles; sgns.gensim.Word2Vec.load(path) (or sgns.gensim.KeyedVectors.load) "
            "converts it with gensim's help when gensim is installed; or, in gensim, call "
            "model.wv.save_word2vec_format(path, binary=True) "
            "and load that with sgns.KeyedVectors.load_word2vec_format(path, binary=True)"
        )
    if head[:2] == b"PK" or head[:6] == b"\x93NUMPY":
        return "not an sgns model file: it looks like a NumPy .npz/.npy file"
    first = head.split(b"\n", 1)[0].split()
    if len(first) == 2 and all(x.isdigit() for x in first):
        return (
            "not an sgns model file: it looks like a word2vec vector file; use "
            "KeyedVectors.load_word2vec_format()"
        )
    if MAGIC.startswith(head):
        return f"truncated: {len(head)} bytes, too short for the file header"
    return "not an sgns model file (bad magic bytes)"


def read_kv(r: Reader, cls):
    """Keys, vectors and per-key attributes of r as cls.from_arrays(keys, vectors)."""
    for name in ("keys.utf8", "keys.offsets", "vectors"):
        r.need(name)
    blob = r.array("keys.utf8", mmap=False).tobytes()
    offsets = r.array("keys.offsets", mmap=False)
    n = offsets.shape[0] - 1
    if (
        offsets.ndim != 1
        or n < 0
        or offsets[0] != 0
        or offsets[-1] != len(blob)
        or (n and np.any(np.diff(offsets) < 1))
    ):
        raise FormatError(r.path, "corrupt key table (keys.offsets)")
    if n == 0:
        keys = []
    elif blob.count(b"\0") == n and blob.endswith(b"\0"):  # no key holds a NUL: split at once
        keys = blob.decode(ENCODING, ERRORS).split("\0")[:-1]
    else:  # slice by offsets
        ends = offsets[1:] - 1
        if np.any(np.frombuffer(blob, dtype=np.uint8)[ends] != 0):
            raise FormatError(r.path, "corrupt key table: a key is not NUL-terminated")
        keys = [blob[a:b].decode(ENCODING, ERRORS) for a, b in zip(offsets[:-1].tolist(), ends.tolist())]
    if len(keys) != n:
        raise FormatError(r.path, "corrupt key table: key count differs from keys.offsets")
    vectors = r.array("vectors")
    if vectors.ndim != 2 or vectors.shape[0] != n:
        raise FormatError(r.path, f"array 'vectors' has shape {vectors.shape}, expected ({n}, D)")
    try:
        kv = cls.from_arrays(keys, vectors)
    except ValueError as e:
        raise FormatError(r.path, f"corrupt key table: {e}") from None
    for name in r.arrays:
        if name.startswith("attr."):
            values = r.array(name, mmap=False)
            if values.shape[:1] != (n,):
                raise FormatError(r.path, f"array {name!r} does not have one value per key")
            kv.expandos[name[5:]] = values
    return kv
