"""Shared fixtures for the sgns test suite.

* ``kernel``: runs a test once per kernel set (generic, avx2, avx512, neon),
  skipping the ones this CPU cannot run, and restores the default selection.
* ``planted``: a synthetic corpus with a known cluster structure.
* ``word2vec_bin`` / ``word2vec_tool``: word2vec.c executables for interop
  tests (env SGNS_WORD2VEC_BIN, then PATH, then beside the Python running
  the tests), skipped when absent.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import struct
import subprocess
import sys
import textwrap
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import sgns
from sgns import _train

# The directory holding the sgns under test: child processes import it from there.
PKG_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(sgns.__file__)))

# Optional data from outside the repository, named by environment variables
# (.ci/run sets them): the shared benchmark corpus's small8 and eval files.
SMALL8 = Path(os.environ.get("SGNS_SMALL8", "") or "/nonexistent/small8")
SHARED = os.environ.get("SGNS_SHARED", "")
QUESTIONS = os.environ.get("SGNS_QUESTIONS") or os.path.join(
    SHARED or "/nonexistent", "eval", "questions-words.txt"
)


def _default_kernels() -> str:
    return os.environ.get("SGNS_KERNELS") or "auto"


@pytest.fixture(params=_train.KERNELS)
def kernel(request):
    """Select one kernel set for the test; restore the default afterwards."""
    name = request.param
    if name not in _train.supported_kernels():
        pytest.skip(f"this CPU cannot run the {name} kernels")
    assert _train.select_kernels(name) == name
    assert _train.active_kernels() == name
    try:
        yield name
    finally:
        _train.select_kernels(_default_kernels())


@pytest.fixture
def restore_kernels():
    """For tests that switch kernel sets themselves."""
    try:
        yield
    finally:
        _train.select_kernels(_default_kernels())


# ---- planted-structure corpus -----------------------------------------------


@dataclass
class Planted:
    groups: list[list[str]]
    sentences: list[list[str]]
    path: Path

    def group_of(self, word: str) -> int:
        return int(word[1 : word.index("w")])

    def precision(self, wv, topn: int = 7) -> float:
        """Fraction of each word's topn neighbours that are in its own group."""
        hits = total = 0
        for group in self.groups:
            members = set(group)
            for word in group:
                neighbours = [w for w, _ in wv.most_similar(word, topn=topn)]
                assert len(neighbours) == topn
                assert word not in neighbours
                hits += sum(w in members for w in neighbours)
                total += topn
        return hits / total


def make_planted(n_groups=6, group_size=8, n_sentences=3000, length=10, seed=0):
    rng = np.random.default_rng(seed)
    groups = [[f"g{g}w{w}" for w in range(group_size)] for g in range(n_groups)]
    sentences = []
    for _ in range(n_sentences):
        g = int(rng.integers(n_groups))
        sentences.append([groups[g][i] for i in rng.integers(0, group_size, size=length)])
    return groups, sentences


@pytest.fixture(scope="session")
def planted(tmp_path_factory) -> Planted:
    """6 groups x 8 words; each sentence draws its words from one group only,
    so words co-occur only with their own group."""
    groups, sentences = make_planted()
    path = tmp_path_factory.mktemp("planted") / "planted.txt"
    path.write_text("".join(" ".join(s) + "\n" for s in sentences), encoding="utf-8")
    return Planted(groups, sentences, path)


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory) -> Path:
    """~40k words of natural text: the head of small8 when present, else
    the bundled KJV demo corpus."""
    path = tmp_path_factory.mktemp("small") / "small.txt"
    if SMALL8.exists():
        data = SMALL8.read_bytes()[:250_000]
        data = data[: data.rindex(b" ")]
        # Make lines (sentences) of ~40 words so there are newlines too.
        words = data.split()
        lines = [b" ".join(words[i : i + 40]) for i in range(0, len(words), 40)]
        path.write_bytes(b"\n".join(lines) + b"\n")
    else:
        import gzip
        from importlib import resources

        with resources.as_file(resources.files("sgns") / "data" / "kjv.txt.gz") as p:
            text = gzip.open(p, "rb").read()
        path.write_bytes(b"\n".join(text.splitlines()[:3000]) + b"\n")
    return path


# ---- word2vec.c executables ---------------------------------------------------


def find_tool(name: str) -> str | None:
    env = {"word2vec": "SGNS_WORD2VEC_BIN"}.get(name)
    if env and os.environ.get(env):
        p = os.environ[env]
        return p if os.path.isfile(p) and os.access(p, os.X_OK) else None
    if env is None and os.environ.get("SGNS_WORD2VEC_BIN"):
        # Other word2vec.c tools are expected beside the word2vec binary.
        p = os.path.join(os.path.dirname(os.environ["SGNS_WORD2VEC_BIN"]), name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    found = shutil.which(name)
    if found:
        return found
    p = os.path.join(os.path.dirname(sys.executable), name)
    return p if os.path.isfile(p) and os.access(p, os.X_OK) else None


@pytest.fixture(scope="session")
def word2vec_bin() -> str:
    path = find_tool("word2vec")
    if path is None:
        pytest.skip("word2vec.c binary not found (set SGNS_WORD2VEC_BIN)")
    return path


@pytest.fixture(scope="session")
def word2vec_distance() -> str:
    path = find_tool("word2vec-distance") or find_tool("distance")
    if path is None:
        pytest.skip("word2vec.c distance tool not found")
    return path


# ---- child processes ---------------------------------------------------------


def child_env(**extra) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = PKG_ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    return env


def run_child(code: str, *args, cwd, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter importing the sgns under test."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
        cwd=cwd,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        **kw,
    )


# ---- sgns model files --------------------------------------------------------


def repack_sgns_header(data: bytes, header: dict, fix_size: bool = True) -> bytes:
    """The sgns file `data` with `header` as its JSON header (and its CRC32),
    the arrays moved to the new 64-byte-aligned start and, with fix_size,
    file_size updated to match: what a consistent writer would produce, so the
    reader gets past its size check to the field under test."""
    hlen = struct.unpack_from("<Q", data, 16)[0]
    start = -(-(24 + hlen) // 64) * 64
    while True:
        text = json.dumps(header, separators=(",", ":")).encode()
        new_start = -(-(24 + len(text)) // 64) * 64
        size = new_start + len(data) - start
        if not fix_size or header.get("file_size") == size:
            break
        header["file_size"] = size
    return (
        data[:12]
        + struct.pack("<IQ", zlib.crc32(text), len(text))
        + text
        + b"\0" * (new_start - 24 - len(text))
        + data[start:]
    )


@contextlib.contextmanager
def exact_vector_reader():
    """sgns.formats with its C row parser taking no row: every row of a
    vector file goes to the exact Python reader, the reference the parser
    must agree with."""
    from sgns import _tokenize, formats

    def no_rows(binary, data, pos, dim, vectors, row, max_rows, max_row=0, final=False):
        return _tokenize.ROWS_SLOW, 0, pos, bytearray(), np.empty(0, dtype=np.int64)

    parse = formats.vector_rows
    formats.vector_rows = no_rows
    try:
        yield
    finally:
        formats.vector_rows = parse


def vector_read_outcome(path, binary, exact=False, chunk=None, **kw):
    """What formats.read_vectors makes of a file, comparable with ==: ("ok",
    words, the vectors' bytes, warnings) or ("error", exception type, message).
    exact: through the exact reader alone; chunk: read this many bytes at a time."""
    from sgns import formats

    saved = formats._READ_CHUNK
    if chunk is not None:
        formats._READ_CHUNK = chunk
    try:
        with (
            warnings.catch_warnings(record=True) as seen,
            exact_vector_reader() if exact else contextlib.nullcontext(),
        ):
            warnings.simplefilter("always")
            try:
                words, vectors = formats.read_vectors(path, binary=binary, **kw)
            except Exception as e:  # compared, not judged: the callers say which are allowed
                return ("error", type(e).__name__, str(e))
        return (
            "ok",
            words,
            vectors.dtype.str,
            vectors.shape,
            vectors.tobytes(),
            [str(w.message) for w in seen],
        )
    finally:
        formats._READ_CHUNK = saved


def assert_parser_matches_exact(path, binary, chunks=(None, 1, 7), **kw):
    """The C row parser, reading chunks bytes at a time (None: formats' own
    size), gives what the exact reader alone gives; returns that outcome."""
    exact = vector_read_outcome(path, binary, exact=True, **kw)
    for chunk in chunks:
        assert vector_read_outcome(path, binary, chunk=chunk, **kw) == exact, chunk
    return exact
