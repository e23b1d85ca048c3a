"""The phrases model file: sgns.Phrases / FrozenPhrases .save() writes it,
.load() reads it. No pickle: a custom scoring function is stored by name.

Layout of version 2 (integers little-endian):

    offset  size  field
    0       8     magic b"\\x89SGNSPH\\n"
    8       4     uint32 format version (2)
    12      4     uint32 CRC32 of the header bytes
    16      8     uint64 H, length of the header
    24      H     header: a UTF-8 JSON object
    24 + H  P     the table: per key, int64 value, uint32 length L, L bytes of
                  UTF-8 (surrogate escapes for bytes that are not UTF-8), zero
                  bytes up to a multiple of 8 (the table's memory, copied as is)

Version 1 (still read) differs only in the table: per key, uint32 length L,
L bytes, int64 value, no padding.

Header fields: "format" ("sgns-phrases"), "version" (2), "kind" ("phrases":
values are unigram and phrase counts; "frozen": values are the IEEE-754
binary64 bits of phrase scores), "entries" (keys in the table), "table_bytes"
(P), "table_crc32", and "params": min_count, threshold, delimiter,
connector_words (a list), scoring ("default", "npmi" or "module:qualified.name"
of a function), and for "phrases" also max_vocab_size, progress_per,
corpus_word_count, min_reduce. Readers refuse other versions and ignore
fields they do not know. Writes are atomic (temporary file, fsync, rename).
"""

from __future__ import annotations

import json
import struct
import zlib

from sgns.errors import FormatError
from sgns.outputs import atomic_write

MAGIC = b"\x89SGNSPH\n"
VERSION = 2
READ_VERSIONS = (1, 2)
FORMAT = "sgns-phrases"
KINDS = ("phrases", "frozen")
_PREAMBLE = struct.Struct("<8sIIQ")
_MAX_HEADER = 1 << 24


def is_phrases_file(path) -> bool:
    with open(path, "rb") as f:
        return f.read(len(MAGIC)) == MAGIC


def write(path, kind: str, params: dict, entries: int, table: bytes | memoryview) -> None:
    header = {
        "format": FORMAT,
        "version": VERSION,
        "kind": kind,
        "entries": entries,
        "table_bytes": len(table),
        "table_crc32": zlib.crc32(table),
        "params": params,
    }
    text = json.dumps(header, sort_keys=True).encode("utf-8")
    with atomic_write(path) as f:
        f.write(_PREAMBLE.pack(MAGIC, VERSION, zlib.crc32(text), len(text)))
        f.write(text)
        f.write(table)


def read(path) -> tuple[dict, bytes]:
    """(header, table bytes) of a phrases file; FormatError if it is not one
    or is damaged. header["version"] says the table's layout."""
    with open(path, "rb") as f:
        head = f.read(_PREAMBLE.size)
        if len(head) < _PREAMBLE.size or head[:8] != MAGIC:
            raise FormatError(path, "not an sgns phrases file (bad magic)", 0)
        _, version, crc, hlen = _PREAMBLE.unpack(head)
        if version not in READ_VERSIONS:
            raise FormatError(path, f"phrases file version {version}; this sgns reads {READ_VERSIONS}", 8)
        if hlen > _MAX_HEADER:
            raise FormatError(path, f"corrupt header length {hlen}", 16)
        text = f.read(hlen)
        if len(text) != hlen or zlib.crc32(text) != crc:
            raise FormatError(path, "corrupt header (CRC32 mismatch or truncated)", _PREAMBLE.size)
        header = _parse_header(path, text)
        if header.get("version") != version:
            raise FormatError(path, f"header says version {header.get('version')}, preamble {version}")
        table = f.read(header["table_bytes"] + 1)
    if len(table) != header["table_bytes"]:
        raise FormatError(path, f"table has {len(table)} bytes, header says {header['table_bytes']}")
    if zlib.crc32(table) != header["table_crc32"]:
        raise FormatError(path, "corrupt table (CRC32 mismatch)", _PREAMBLE.size + hlen)
    return header, table


def _parse_header(path, text: bytes) -> dict:
    try:
        header = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise FormatError(path, f"corrupt header: {e}", _PREAMBLE.size) from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise FormatError(path, "header is not an sgns phrases header", _PREAMBLE.size)
    if header.get("kind") not in KINDS or not isinstance(header.get("params"), dict):
        raise FormatError(path, "header lacks a known 'kind' or a 'params' object", _PREAMBLE.size)
    for key in ("entries", "table_bytes", "table_crc32"):
        if not isinstance(header.get(key), int) or header[key] < 0:
            raise FormatError(path, f"header field {key!r} is not a non-negative integer", _PREAMBLE.size)
    return header
