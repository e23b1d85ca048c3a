"""Word classes (sgns.classes): word2vec.c's -classes k-means."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest
from conftest import find_tool

from sgns import KeyedVectors
from sgns.classes import read_classes, word_classes, write_classes


def _kv(vectors, words=None):
    vectors = np.asarray(vectors, dtype=np.float32)
    words = words or [f"w{i}" for i in range(len(vectors))]
    return KeyedVectors.from_arrays(words, vectors)


def test_planted_clusters_are_recovered():
    """Eight well-separated groups, 16 classes. word2vec.c's k-means starts
    every centroid near the global mean (round robin), so with exactly one
    class per group it often splits one group and merges two (a local
    optimum); with twice as many classes every class lies within one group."""
    rng = np.random.default_rng(0)
    n_groups, size, dim = 8, 30, 64
    centres = rng.normal(size=(n_groups, dim))
    group = np.arange(n_groups * size) % n_groups
    rng.shuffle(group)  # the round-robin start mixes the groups
    vectors = centres[group] + 0.5 * rng.normal(size=(len(group), dim))
    vectors *= rng.uniform(0.5, 2.0, size=(len(group), 1))  # lengths vary; directions matter
    classes = word_classes(_kv(vectors), 2 * n_groups)
    assert classes.dtype == np.int32 and classes.shape == group.shape
    owner = {}
    for g, c in zip(group.tolist(), classes.tolist()):
        assert owner.setdefault(c, g) == g, f"class {c} mixes groups {owner[c]} and {g}"
    assert set(owner.values()) == set(range(n_groups))
    start = word_classes(_kv(vectors), 2 * n_groups, iterations=0)
    assert len(set(zip(group.tolist(), start.tolist()))) > 2 * n_groups  # the start was mixed


def test_rules_of_word2vec_c():
    # iterations=0: the round-robin start, word i in class i % k.
    kv = _kv(np.eye(5)[[0, 1, 2, 3, 4, 0, 1]])
    np.testing.assert_array_equal(word_classes(kv, 3, iterations=0), [0, 1, 2, 0, 1, 2, 0])
    # More classes than words: classes 5.. start empty and stay empty.
    kv = _kv([[1, 0], [0, 1], [-1, 0], [0, -1], [1, 1]])
    c = word_classes(kv, 8)
    assert c.max() < 5
    # Centroids are unit length but words are not: the long word wins its
    # own class even against a closer direction. Words 0, 1 start in classes 0, 1.
    kv = _kv([[1.0, 0.0], [0.0, 1.0], [3.0, 2.9]])
    # round 1: class 0 = unit(w0 + w2), class 1 = w1; w1 . c0 < 1 -> w1 stays in 1
    c = word_classes(kv, 2, iterations=1)
    assert c.tolist() == [0, 1, 0]
    # An exact tie goes to the lower class.
    kv = _kv([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert word_classes(kv, 2, iterations=1)[2] == 0
    # Every dot product <= -10: class 0 (word2vec.c's starting threshold).
    kv = _kv([[1.0, 0.0], [0.0, 1.0], [-20.0, -20.0]])
    assert word_classes(kv, 2, iterations=1)[2] == 0


def test_write_and_read_classes(tmp_path):
    words = ["the", "caf\u00e9", "bad\udcff", "x"]
    kv = _kv(np.arange(8).reshape(4, 2), words)
    path = tmp_path / "classes.txt"
    write_classes(path, kv, np.array([3, 0, 2, 10]))
    assert path.read_bytes() == b"the 3\ncaf\xc3\xa9 0\nbad\xff 2\nx 10\n"
    w, c = read_classes(path)
    assert w == words and c.tolist() == [3, 0, 2, 10]
    assert os.listdir(tmp_path) == ["classes.txt"]  # no temporary file left
    with pytest.raises(ValueError, match="one class per word"):
        write_classes(path, kv, np.array([1, 2]))
    assert path.read_bytes().startswith(b"the 3\n")  # untouched by the failed write


def test_bad_arguments():
    kv = _kv(np.eye(3))
    with pytest.raises(ValueError):
        word_classes(kv, 0)
    with pytest.raises(ValueError):
        word_classes(kv, 2, iterations=-1)


def _word2vec() -> str | None:
    return find_tool("word2vec")


@pytest.mark.parametrize("k", [7, 400])
def test_same_classes_as_word2vec_c(tmp_path, small_corpus, k):
    """word2vec.c with one thread is deterministic: train once writing the
    vectors, once writing the classes; our k-means on its vectors must give
    its classes."""
    exe = _word2vec()
    if exe is None:
        pytest.skip("word2vec.c binary not found (set SGNS_WORD2VEC_BIN)")
    args = [
        exe,
        "-train",
        str(small_corpus),
        "-size",
        "16",
        "-window",
        "3",
        "-negative",
        "3",
        "-hs",
        "0",
        "-sample",
        "0",
        "-threads",
        "1",
        "-iter",
        "1",
        "-cbow",
        "0",
        "-min-count",
        "3",
        "-debug",
        "0",
    ]
    vec, cls = tmp_path / "v.bin", tmp_path / "c.txt"
    subprocess.run(args + ["-output", str(vec), "-binary", "1"], check=True, capture_output=True)
    subprocess.run(args + ["-output", str(cls), "-classes", str(k)], check=True, capture_output=True)
    kv = KeyedVectors.load_word2vec_format(vec, binary=True)
    words, expected = read_classes(cls)
    assert words == kv.index_to_key
    got = word_classes(kv, k)
    assert np.count_nonzero(got != expected) == 0
    out = tmp_path / "ours.txt"
    write_classes(out, kv, got)
    assert out.read_bytes() == cls.read_bytes()
