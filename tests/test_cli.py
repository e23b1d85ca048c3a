"""The command line: word2vec.c's flags (sgns -train ... -output ...), the
demo, and word2vec.c vocabulary-file interop."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from sgns import KeyedVectors, __version__, formats
from sgns.cli import main

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUIET = ["-debug", "0"]


def _counts(path):
    return Counter(open(path, "rb").read().split())


def train_args(corpus, output, *extra):
    return [
        "-train",
        str(corpus),
        "-output",
        str(output),
        "-size",
        "12",
        "-window",
        "3",
        "-negative",
        "3",
        "-min-count",
        "3",
        "-iter",
        "1",
        "-threads",
        "2",
        *extra,
    ]


@pytest.mark.parametrize("binary", [0, 1])
def test_train_writes_loadable_vectors(tmp_path, small_corpus, capsys, binary):
    out = tmp_path / "vec"
    rc = main(
        train_args(small_corpus, out, "-binary", str(binary), "-sample", "1e-3", "-alpha", "0.05", *QUIET)
    )
    assert rc == 0
    kv = KeyedVectors.load_word2vec_format(out, binary=bool(binary))
    counts = _counts(small_corpus)
    expected = {w.decode() for w, c in counts.items() if c >= 3}
    # word2vec.c's layout: its newline token first, then the most frequent word
    assert kv.index_to_key[0] == "</s>" and set(kv.index_to_key[1:]) == expected
    assert kv.vectors.shape == (len(expected) + 1, 12)
    assert np.isfinite(kv.vectors).all() and np.abs(kv.vectors).max() > 0
    assert kv.index_to_key[1] == counts.most_common(1)[0][0].decode()
    assert out.read_bytes().startswith(f"{len(expected) + 1} 12\n</s> ".encode())


def test_train_reports_progress_on_stderr(tmp_path, small_corpus, capsys):
    out = tmp_path / "vec.txt"
    assert main(train_args(small_corpus, out)) == 0  # default -debug 2
    err = capsys.readouterr().err
    assert f"Starting training using file {small_corpus}" in err
    assert "Vocab size:" in err and "Words in train file:" in err
    assert "Alpha:" in err and "Progress: 100.00%" in err
    assert f"wrote {out}" in err


@pytest.mark.parametrize(
    "flags, message",
    [
        (["-classes", "-1"], "-classes must be >= 0"),
        (["-cbow", "2"], "-cbow must be 0 or 1"),
        (["-hs", "2"], "-hs must be 0 or 1"),
        (["-negative", "0"], "-negative"),
        (["-negative", "-1"], "-negative"),
        (["-binary", "2"], "-binary"),
        (["-shared-negatives", "17"], "-shared-negatives must be 0..16"),
        (["-shared-negatives", "-1"], "-shared-negatives must be 0..16"),
    ],
)
def test_unsupported_options_exit_2(tmp_path, small_corpus, capsys, flags, message):
    out = tmp_path / "vec.txt"
    rc = main(train_args(small_corpus, out, *flags, *QUIET))
    assert rc == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.startswith("sgns: ")
    assert not out.exists()


@pytest.mark.parametrize(
    "flags",
    [["-cbow", "1"], ["-hs", "1", "-negative", "0"], ["-cbow", "1", "-hs", "1"]],
    ids=["cbow", "hs", "cbow-hs"],
)
def test_cbow_and_hs_flags_train(tmp_path, small_corpus, flags):
    """(The issue asked for -cbow 1 / -hs 1 to exit 2; both have been
    implemented since, so they must now train.)"""
    out = tmp_path / "vec.txt"
    assert main(train_args(small_corpus, out, *flags, *QUIET)) == 0
    kv = KeyedVectors.load_word2vec_format(out)
    assert kv.vector_size == 12 and len(kv) > 100
    assert np.isfinite(kv.vectors).all()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["-train", "x", "-frobnicate", "1"], "unknown option '-frobnicate'"),
        (["-output", "x.txt"], "-train"),
        (["-train"], "needs a value"),
        (["-train", "x", "-size", "ten"], "int"),
        (["-train", "x", "stray"], "unexpected argument"),
    ],
)
def test_usage_errors_exit_2(capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_missing_corpus_exits_2(tmp_path, capsys):
    missing = tmp_path / "no-such-corpus.txt"
    rc = main(["-train", str(missing), "-output", str(tmp_path / "v.txt"), *QUIET])
    assert rc == 2
    err = capsys.readouterr().err
    assert "error" in err and str(missing) in err
    assert not (tmp_path / "v.txt").exists()


def test_empty_vocabulary_exits_2(tmp_path, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c\n")
    assert main(["-train", str(corpus), "-output", str(tmp_path / "v.txt"), *QUIET]) == 2
    assert "min_count" in capsys.readouterr().err


def test_help_and_version(capsys):
    assert main(["-h"]) == 0
    out = capsys.readouterr().out
    assert "-train <file>" in out and "-save-vocab" in out
    assert main([]) == 1
    assert "Usage" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"sgns {__version__}"


def test_save_vocab_writes_word2vec_c_format(tmp_path, small_corpus):
    vocab = tmp_path / "vocab.txt"
    rc = main(["-train", str(small_corpus), "-save-vocab", str(vocab), "-min-count", "3", *QUIET])
    assert rc == 0
    lines = vocab.read_bytes().split(b"\n")
    assert lines[-1] == b""
    lines = lines[:-1]
    n_sentences = small_corpus.read_bytes().count(b"\n")
    assert lines[0] == f"</s> {n_sentences}".encode()
    counts = _counts(small_corpus)
    pairs = [line.split(b" ") for line in lines[1:]]
    assert all(len(p) == 2 for p in pairs)
    assert {w: int(c) for w, c in pairs} == {w: c for w, c in counts.items() if c >= 3}
    got = [int(c) for _, c in pairs]
    assert got == sorted(got, reverse=True)


def test_read_vocab_is_used(tmp_path, small_corpus):
    """-read-vocab takes the vocabulary from the file: the same words, and
    only them (here a file cut down to 50 words)."""
    vocab = tmp_path / "vocab.txt"
    assert main(["-train", str(small_corpus), "-save-vocab", str(vocab), "-min-count", "3", *QUIET]) == 0
    out_full = tmp_path / "full.txt"
    assert main(train_args(small_corpus, out_full, "-read-vocab", str(vocab), *QUIET)) == 0
    words, counts, _ = formats.read_vocab(vocab)
    kv = KeyedVectors.load_word2vec_format(out_full)
    assert kv.index_to_key == ["</s>", *words]

    cut = tmp_path / "cut.txt"
    formats.write_vocab(cut, words[:50], counts[:50], 0)
    out_cut = tmp_path / "cut_vec.txt"
    assert main(train_args(small_corpus, out_cut, "-read-vocab", str(cut), *QUIET)) == 0
    kv = KeyedVectors.load_word2vec_format(out_cut)
    assert kv.index_to_key == ["</s>", *words[:50]]


def test_read_vocab_applies_min_count(tmp_path, small_corpus):
    vocab = tmp_path / "vocab.txt"
    formats.write_vocab(vocab, ["the", "of", "zzz"], [100, 50, 2], 7)
    out = tmp_path / "v.txt"
    assert main(train_args(small_corpus, out, "-read-vocab", str(vocab), "-min-count", "5", *QUIET)) == 0
    assert KeyedVectors.load_word2vec_format(out).index_to_key == ["</s>", "the", "of"]


def test_read_vocab_with_missing_corpus_exits_2(tmp_path, capsys):
    vocab = tmp_path / "vocab.txt"
    formats.write_vocab(vocab, ["a"], [10], 1)
    missing = tmp_path / "missing.txt"
    assert (
        main(["-train", str(missing), "-read-vocab", str(vocab), "-output", str(tmp_path / "v.txt"), *QUIET])
        == 2
    )
    assert str(missing) in capsys.readouterr().err


def test_python_dash_m_sgns(tmp_path, small_corpus):
    out = tmp_path / "vec.bin"
    # Run the same sgns this test imported (installed wheel in CI, in-place
    # build in development), from a directory outside the source tree.
    import sgns

    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(sgns.__file__)))
    env = dict(os.environ, PYTHONPATH=pkg_parent + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, "-m", "sgns", *train_args(small_corpus, out, "-binary", "1")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Vocab size:" in proc.stderr
    kv = KeyedVectors.load_word2vec_format(out, binary=True)
    assert kv.vector_size == 12 and len(kv) > 100

    classes = tmp_path / "classes.txt"
    proc = subprocess.run(
        [sys.executable, "-m", "sgns", *train_args(small_corpus, classes, "-classes", "5")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in classes.read_text().splitlines()]
    assert len(rows) == len(kv) and all(len(r) == 2 and 0 <= int(r[1]) < 5 for r in rows)


@pytest.mark.slow
def test_demo(capsys):
    assert main(["demo", "-epochs", "1", "-size", "30"]) == 0
    out = capsys.readouterr().out
    assert "King James Bible" in out
    assert "vocabulary" in out and "trained 1 epochs" in out
    neighbour_lines = [line for line in out.splitlines() if line.strip().startswith(("god:", "king:"))]
    assert len(neighbour_lines) == 2
    for line in neighbour_lines:
        assert len(line.split(":", 1)[1].split(",")) == 6
    assert "king - man + woman" in out


def test_demo_rejects_training_flags(capsys):
    assert main(["demo", "-train", "x"]) == 2
    assert "unknown option" in capsys.readouterr().err


# ---- word2vec.c vocabulary files --------------------------------------------------------


def _run_word2vec(word2vec_bin, *args, cwd):
    proc = subprocess.run([word2vec_bin, *args], capture_output=True, text=True, cwd=cwd, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_word2vec_c_vocab_read_by_sgns(tmp_path, small_corpus, word2vec_bin):
    vocab = tmp_path / "w2v_vocab.txt"
    _run_word2vec(
        word2vec_bin,
        "-train",
        str(small_corpus),
        "-save-vocab",
        str(vocab),
        "-min-count",
        "3",
        "-output",
        str(tmp_path / "w2v.txt"),
        "-size",
        "4",
        "-iter",
        "1",
        "-threads",
        "1",
        "-cbow",
        "0",
        "-debug",
        "0",
        cwd=tmp_path,
    )
    first = vocab.read_bytes().split(b"\n", 1)[0]
    assert first.startswith(b"</s> ")
    w2v_words, w2v_counts, _ = formats.read_vocab(vocab)

    out = tmp_path / "sgns.txt"
    assert main(train_args(small_corpus, out, "-read-vocab", str(vocab), *QUIET)) == 0
    kv = KeyedVectors.load_word2vec_format(out)
    assert kv.index_to_key[0] == "</s>" and set(kv.index_to_key[1:]) == set(w2v_words)
    assert len(kv) == len(w2v_words) + 1
    # and counting the corpus ourselves gives word2vec.c's vocabulary and counts
    own = tmp_path / "own_vocab.txt"
    assert main(["-train", str(small_corpus), "-save-vocab", str(own), "-min-count", "3", *QUIET]) == 0
    own_words, own_counts, _ = formats.read_vocab(own)
    assert dict(zip(own_words, own_counts)) == dict(zip(w2v_words, w2v_counts))


@pytest.mark.parametrize("flags", [("-binary", "0"), ("-binary", "1"), ("-classes", "5")])
def test_output_layout_is_word2vec_c(tmp_path, small_corpus, word2vec_bin, flags):
    """The same words in the same order as word2vec.c's file, its "</s>"
    row first and counted in the header (word2vec.c's word-analogy reads row 0
    as "not found": without it the most frequent word could not be asked);
    text rows end in "%f " + newline, binary rows in 4 x D bytes + newline."""
    common = ("-size", "4", "-iter", "1", "-threads", "1", "-cbow", "0", "-min-count", "3", *flags)
    theirs, ours = tmp_path / "w2v.out", tmp_path / "sgns.out"
    _run_word2vec(
        word2vec_bin,
        "-train",
        str(small_corpus),
        "-output",
        str(theirs),
        "-debug",
        "0",
        *common,
        cwd=tmp_path,
    )
    assert main(["-train", str(small_corpus), "-output", str(ours), *common, *QUIET]) == 0

    def layout(path):
        data = path.read_bytes()
        if flags[0] == "-classes":
            return [line.split(b" ")[0] for line in data.splitlines()], None
        header, rest = data.split(b"\n", 1)
        words, pos = [], 0
        while pos < len(rest):
            space = rest.index(b" ", pos)
            words.append(rest[pos:space])
            if flags[1] == "1":
                pos = space + 1 + 16
                assert rest[pos : pos + 1] == b"\n"
                pos += 1
            else:
                end = rest.index(b"\n", space)
                assert rest[end - 1 : end] == b" " and len(rest[space + 1 : end - 1].split(b" ")) == 4
                pos = end + 1
        return words, header

    assert layout(ours) == layout(theirs)
    assert layout(ours)[0][0] == b"</s>"


def test_sgns_vocab_read_by_word2vec_c(tmp_path, small_corpus, word2vec_bin):
    vocab = tmp_path / "sgns_vocab.txt"
    assert main(["-train", str(small_corpus), "-save-vocab", str(vocab), "-min-count", "3", *QUIET]) == 0
    words, _, _ = formats.read_vocab(vocab)
    out = tmp_path / "w2v.txt"
    _run_word2vec(
        word2vec_bin,
        "-train",
        str(small_corpus),
        "-read-vocab",
        str(vocab),
        "-output",
        str(out),
        "-size",
        "4",
        "-iter",
        "1",
        "-threads",
        "1",
        "-cbow",
        "0",
        "-min-count",
        "3",
        "-binary",
        "0",
        "-debug",
        "0",
        cwd=tmp_path,
    )
    kv = KeyedVectors.load_word2vec_format(out)
    assert kv.index_to_key[0] == "</s>"
    assert set(kv.index_to_key[1:]) == set(words)
    assert len(kv) == len(words) + 1


@pytest.mark.parametrize(
    "flags, message",
    [
        (["-size", "7_0"], "needs int value, got '7_0'"),
        (["-size", " 7"], "needs int value, got ' 7'"),
        (["-alpha", "0_1"], "needs float value"),
    ],
)
def test_loose_numbers_are_refused(tmp_path, small_corpus, capsys, flags, message):
    """word2vec.c's atoi reads '7_0' as 7, Python's int() as 70: refused."""
    out = tmp_path / "v.txt"
    assert main(["-train", str(small_corpus), "-output", str(out), *flags, *QUIET]) == 2
    assert message in capsys.readouterr().err and not out.exists()


def test_repeated_flag_takes_the_last_value_with_a_note(tmp_path, small_corpus, capsys):
    out = tmp_path / "v.txt"
    assert main(train_args(small_corpus, out, "-size", "5", "-size", "7", *QUIET)) == 0
    assert out.read_text().split("\n", 1)[0].endswith(" 7")
    assert "-size is given more than once; the last value counts (word2vec.c takes the first)" in (
        capsys.readouterr().err
    )
