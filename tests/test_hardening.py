"""Hardening, round two (issue 14, families 2-4): runaway values refused up
front with the memory they imply, divergence detected, bad keys refused at
the door, callbacks that fail or query while training, iterables that do not
start over, corpus caches bounded by the corpus actually read, FIFOs, and
mmap='r+'. What each case does now is in docs/robustness.md ("Runaway values, callbacks, special inputs")."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import tracemalloc

import numpy as np
import pytest
from conftest import child_env, run_child

import sgns
from sgns import KeyedVectors, Word2Vec, formats
from sgns.cli import main

QUIET = ["-debug", "0"]
LINUX = sys.platform.startswith("linux")


def sgns_process(*argv, cwd, env=None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sgns", *map(str, argv)],
        cwd=cwd,
        env=env or child_env(),
        capture_output=True,
        text=True,
        timeout=kwargs.pop("timeout", 120),
        **kwargs,
    )


def cli_args(corpus, output, *extra):
    return ["-train", str(corpus), "-output", str(output), "-size", "12", "-iter", "1", *QUIET, *extra]


def assert_cli_error(capsys, rc, *needles):
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.splitlines()[-1].startswith("sgns: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err
    return err


def sgns_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("sgns-")]


# ---- family 2: values refused up front, with the flag and the memory -------------


@pytest.mark.parametrize(
    "flags, needles",
    [
        (["-size", "2147483648"], ["-size", "GiB"]),
        (["-size", "300000000"], ["-size", "GiB"]),
        (["-window", "100000000"], ["-window"]),
        (["-iter", "4611686018427387904"], ["-iter"]),
        (["-seed", "-1"], ["-seed"]),
        (["-threads", "-3"], ["-threads"]),
        (["-threads", "100000"], ["-threads"]),
        (["-min-count", "-1"], ["-min-count"]),
        (["-sample", "-1"], ["-sample"]),
        (["-alpha", "inf"], ["-alpha"]),
        (["-alpha", "0"], ["-alpha"]),
        (["-min-alpha", "nan"], ["-min-alpha"]),
        (["-ns-exponent", "1e6"], ["-ns-exponent"]),
        (["-negative", "100"], ["-negative"]),
    ],
)
def test_cli_refuses_runaway_values_naming_the_flag(tmp_path, small_corpus, capsys, flags, needles):
    out = tmp_path / "vec.txt"
    vocab = tmp_path / "vocab.txt"
    rc = main(cli_args(small_corpus, out, "-save-vocab", vocab, *flags))
    assert_cli_error(capsys, rc, *needles)
    assert not out.exists() and not vocab.exists()  # refused before anything was done


def test_cli_refuses_more_classes_than_words_before_training(tmp_path, small_corpus, capsys):
    out = tmp_path / "classes.txt"
    rc = main(cli_args(small_corpus, out, "-classes", "100000", "-debug", "1"))
    err = assert_cli_error(capsys, rc, "-classes 100000", "vocabulary")
    assert "Trained" not in err and not out.exists()


def test_word_classes_with_absurdly_many_classes():
    """More classes than words is word2vec.c's rule (the extra classes stay
    empty); 10**12 of them must not allocate 10**12 centroids."""
    from sgns.classes import word_classes

    kv = KeyedVectors.from_arrays(["a", "b", "c"], np.eye(3, dtype=np.float32))
    assert word_classes(kv, 10**12).tolist() == word_classes(kv, 3).tolist() == [0, 1, 2]


def test_cli_memory_figure_for_a_large_model(tmp_path, small_corpus, capsys):
    """-size whose weights exceed the machine's memory: refused after counting
    the vocabulary with the figure, before any weight is allocated."""
    out = tmp_path / "vec.txt"
    rc = main(cli_args(small_corpus, out, "-size", "5000000", "-window", "1", "-threads", "1"))
    err = assert_cli_error(capsys, rc, "-size", "words")
    assert "memory" in err


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"vector_size": 2**31}, "vector_size"),
        ({"window": 10**8}, "window"),
        ({"window": 2**31}, "window"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**64}, "seed"),
        ({"workers": 10**6}, "workers"),
        ({"epochs": 2**63}, "epochs"),
        ({"corpus_cache_mb": float("inf")}, "corpus_cache_mb"),
        ({"corpus_cache_mb": float("nan")}, "corpus_cache_mb"),
        ({"max_sentence_length": 2**40}, "max_sentence_length"),
        ({"ns_exponent": 1e6}, "ns_exponent"),
    ],
)
def test_constructor_refuses_runaway_values(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        Word2Vec(**kwargs)


def test_epochs_times_corpus_must_fit_the_word_counter(small_corpus):
    with pytest.raises(ValueError, match="epochs"):
        Word2Vec(vector_size=8, epochs=2**50)
    m = Word2Vec(vector_size=8, min_count=1)
    m.build_vocab(corpus_file=small_corpus)
    with pytest.raises(ValueError, match="epochs .*64-bit word counter"):
        m.train(corpus_file=small_corpus, epochs=2**30, total_words=2**40)


def test_memory_estimate_names_the_figure(small_corpus):
    m = Word2Vec(vector_size=5_000_000, min_count=1, window=1, workers=1)
    with pytest.raises(
        MemoryError, match=r"vector_size is too large: 5000000 dimensions .* [0-9.]+ [GT]iB of memory"
    ):
        m.build_vocab(corpus_file=small_corpus)
    assert len(m.wv) == 0  # nothing allocated, the model is unchanged


@pytest.mark.parametrize(
    "override",
    [
        {"start_alpha": float("inf")},
        {"start_alpha": float("nan")},
        {"start_alpha": -1.0},
        {"end_alpha": float("nan")},
        {"epochs": True},
        {"epochs": 0},
        {"total_words": -5},
        {"total_words": 2**63},
    ],
)
def test_train_overrides_are_validated_like_the_constructor(small_corpus, override):
    m = Word2Vec(vector_size=8, min_count=1)
    m.build_vocab(corpus_file=small_corpus)
    before = m.wv.vectors.copy()
    name = next(iter(override))
    with pytest.raises(ValueError, match=name):
        m.train(corpus_file=small_corpus, **override)
    assert (m.wv.vectors == before).all()


@pytest.mark.parametrize("flags", [["-alpha", "1"], ["-cbow", "1", "-alpha", "2"]], ids=["skip-gram", "cbow"])
def test_cli_divergence_is_an_error_naming_the_learning_rate(tmp_path, small_corpus, capsys, flags):
    out = tmp_path / "vec.txt"
    rc = main(["-train", str(small_corpus), "-output", str(out), "-iter", "2", *QUIET, *flags])
    err = assert_cli_error(capsys, rc, "diverged", "-alpha")
    assert not out.exists(), err


def test_divergence_raises_naming_the_learning_rate(small_corpus):
    m = Word2Vec(vector_size=100, alpha=0.5, min_count=5, workers=2)
    m.build_vocab(corpus_file=small_corpus)
    with pytest.raises(sgns.DivergenceError, match=r"alpha is too high for this data \(0.5\)") as info:
        m.train(corpus_file=small_corpus)
    assert isinstance(info.value, ValueError) and info.value.param == "alpha"
    assert sgns_threads() == []
    with pytest.raises(sgns.DivergenceError, match="start_alpha"):
        m.train(corpus_file=small_corpus, start_alpha=0.5)


def test_divergence_check_covers_every_row(tmp_path, small_corpus):
    """One bad row of a rare word (beyond the rows sampled at progress ticks)
    is caught by the end-of-epoch check of every row: at alpha=0.2 one row
    in 1,465 of a word2vec-style run went NaN and was written out."""
    other = tmp_path / "other.txt"
    other.write_text(small_corpus.read_text() + "zzrare " * 10 + "\n")
    m = Word2Vec(vector_size=16, min_count=5, workers=2)
    m.build_vocab(corpus_file=other)
    row = m.wv.key_to_index["zzrare"]
    assert row >= 64

    class Poison:
        def on_epoch_begin(self, model):
            model.wv.vectors[row, 3] = np.nan  # a row small_corpus never updates

    with pytest.raises(sgns.DivergenceError, match=f"row {row} of vectors"):
        m.train(corpus_file=small_corpus, callbacks=[Poison()])
    assert sgns_threads() == []


def test_sound_training_is_not_flagged(small_corpus):
    m = Word2Vec(corpus_file=small_corpus, vector_size=16, min_count=3, workers=2, compute_loss=True)
    assert np.isfinite(m.wv.vectors).all() and all(np.isfinite(m.loss_history))


def test_read_vocab_counts_summing_past_int64(tmp_path, small_corpus, capsys):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text(f"</s> 1\nthe {2**62}\nof {2**62}\nand {2**62}\n")
    with pytest.raises(formats.FormatError, match="line 3"):  # </s> counts too
        formats.read_vocab(vocab)
    rc = main(cli_args(small_corpus, tmp_path / "v.txt", "-read-vocab", vocab))
    assert_cli_error(capsys, rc, str(vocab), "64")
    assert not (tmp_path / "v.txt").exists()


def test_vocabulary_counts_summing_past_int64():
    with pytest.raises(ValueError, match="2\\*\\*63"):
        sgns.Vocabulary.from_counts(["a", "b"], [2**62 + 5, 2**62 + 5], min_count=1)


@pytest.mark.parametrize(
    "sentences, needle",
    [
        ([[b"a", b"b"], [b"b", b"a"]] * 20, "b'a'"),
        ([b"hello world"] * 20, "bytes"),
        ([[1, 2, 3]] * 20, "int"),
    ],
    ids=["bytes-tokens", "bytes-sentence", "int-tokens"],
)
def test_non_str_tokens_are_refused_at_the_door(sentences, needle):
    with pytest.raises(TypeError, match=needle):
        Word2Vec(sentences, vector_size=8, min_count=1)


def test_non_str_tokens_refused_in_vocabulary_update():
    m = Word2Vec([["a", "b"]] * 20, vector_size=8, min_count=1)
    with pytest.raises(TypeError, match="bytes"):
        m.build_vocab([[b"c", b"d"]] * 20, update=True)
    assert m.wv.index_to_key == ["a", "b"]


@pytest.mark.parametrize(
    "bad", ["\udcc3\udca9", "x\ud800"], ids=["escaped-utf8-of-e-acute", "lone-surrogate"]
)
def test_keys_that_cannot_round_trip_through_bytes_are_refused(bad):
    sentences = [["é", bad, "a"]] * 20
    with pytest.raises(ValueError, match="surrogate"):
        Word2Vec(sentences, vector_size=8, min_count=1)


def test_surrogate_escaped_invalid_bytes_still_train_and_round_trip(tmp_path):
    """Keys from invalid UTF-8 (e.g. Latin-1 'caf\\xe9') are canonical
    surrogate escapes: accepted, saved and loaded unchanged."""
    sentences = [["caf\udce9", "é", "a"]] * 20
    m = Word2Vec(sentences, vector_size=8, min_count=1)
    path = tmp_path / "v.bin"
    m.wv.save_word2vec_format(path, binary=True)
    kv = KeyedVectors.load_word2vec_format(path, binary=True, unicode_errors="surrogateescape")
    assert set(kv.index_to_key) == {"caf\udce9", "é", "a"}


def test_literal_sentence_token_keeps_save_vocab_readable(tmp_path, small_corpus, capsys):
    corpus = tmp_path / "c.txt"
    text = small_corpus.read_text()
    corpus.write_text(text.replace(" of ", " </s> ", 300))
    vocab = tmp_path / "vocab.txt"
    assert main(cli_args(corpus, tmp_path / "a.txt", "-save-vocab", vocab, "-min-count", "1")) == 0
    words, _counts, sentences = formats.read_vocab(vocab)
    assert "</s>" not in words and sentences == text.count("\n")
    assert main(cli_args(corpus, tmp_path / "b.txt", "-read-vocab", vocab, "-min-count", "1")) == 0
    kv = KeyedVectors.load_word2vec_format(tmp_path / "b.txt")
    # once: the output's own first row (word2vec.c's layout), never the corpus's token
    assert kv.index_to_key[0] == "</s>" and kv.index_to_key[1:] == words


def test_literal_sentence_token_in_sentences_is_not_a_word():
    m = Word2Vec([["a", "</s>", "b"]] * 20, vector_size=8, min_count=1)
    assert "</s>" not in m.wv and len(m.wv) == 2
    m.build_vocab([["c", "</s>", "d"]] * 20, update=True)
    assert "</s>" not in m.wv and set(m.wv.index_to_key) == {"a", "b", "c", "d"}


@pytest.mark.parametrize("value", ["", "bogus", "avx512", "neon", "generic"])
def test_sgns_kernels_variable_never_breaks_import(tmp_path, value, restore_kernels):
    """Empty: auto, silently. Unknown, or a set this CPU lacks (neon on
    x86, avx512 on older x86 or ARM): a warning and the best set."""
    from sgns import _train

    if value in _train.supported_kernels() and value != "generic":
        pytest.skip(f"this CPU runs {value}: nothing to fall back from")
    best = _train.select_kernels("auto")
    proc = subprocess.run(
        [sys.executable, "-c", "import sgns, sgns._train as t; print(t.active_kernels())"],
        cwd=tmp_path,
        env=child_env(SGNS_KERNELS=value),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ("generic" if value == "generic" else best)
    if value in ("bogus", "avx512", "neon"):
        assert "SGNS_KERNELS" in proc.stderr and repr(best) in proc.stderr
    else:
        assert proc.stderr == ""
    version = sgns_process("--version", cwd=tmp_path, env=child_env(SGNS_KERNELS=value))
    assert version.returncode == 0 and version.stdout.startswith("sgns "), version.stderr


# ---- family 3: callbacks and queries while training --------------------------------


class GatedSentences:
    """Re-iterable sentences whose first pass waits, halfway through, until
    `gate` is set (by a progress callable or log handler): the workers are
    provably still running when the callable runs."""

    def __init__(self, sentences, gate: threading.Event):
        self.sentences = sentences
        self.gate = gate
        self.passes = 0

    def __iter__(self):
        self.passes += 1
        gated = self.passes == 2  # pass 1 is build_vocab's scan
        half = len(self.sentences) // 2
        for i, s in enumerate(self.sentences):
            if gated and i == half:
                self.gate.wait(30)
            yield s


def _gated_model(planted, gate):
    corpus = GatedSentences(planted.sentences * 6, gate)
    m = Word2Vec(vector_size=16, min_count=1, workers=2, epochs=2, seed=3)
    m.build_vocab(corpus)
    return m, corpus


def _assert_stopped_and_still(m):
    assert sgns_threads() == []
    before = m.wv.vectors.copy()
    time.sleep(0.3)
    assert (m.wv.vectors == before).all()


def test_progress_exception_stops_workers_before_raising(planted):
    gate = threading.Event()
    m, corpus = _gated_model(planted, gate)

    def progress(p):
        gate.set()  # let the producer go on: the workers would keep training
        raise RuntimeError("progress display broke")

    with pytest.raises(RuntimeError, match="progress display broke"):
        m.train(corpus, progress=progress)
    _assert_stopped_and_still(m)


def test_log_handler_exception_stops_workers_before_raising(planted):
    import logging

    gate = threading.Event()
    m, corpus = _gated_model(planted, gate)

    class Broken(logging.Handler):
        def emit(self, record):
            if "PROGRESS" in record.getMessage():
                gate.set()
                raise OSError("log disk full")

    handler = Broken(level=logging.INFO)
    logger = logging.getLogger("sgns")
    old_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        with pytest.raises(OSError, match="log disk full"):
            m.train(corpus)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    _assert_stopped_and_still(m)


def test_most_similar_from_a_progress_callable_is_correct(planted):
    gate = threading.Event()
    m, corpus = _gated_model(planted, gate)
    seen = []

    def progress(p):
        sims = m.wv.most_similar(planted.groups[0][0], topn=5)
        seen.append(max(s for _, s in sims))
        gate.set()

    m.train(corpus, progress=progress)
    assert len(seen) >= 2
    assert max(seen) <= 1.0 + 1e-4, seen


def test_cli_keeps_training_when_stderr_is_closed(tmp_path, small_corpus):
    """`sgns ... 2>&1 | head -1`: the reader is gone before the first
    progress line; the run still trains and writes its vectors."""
    out = tmp_path / "vec.txt"
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "sgns", "-train", small_corpus, "-output", out, "-size", "12"],
            cwd=tmp_path,
            env=child_env(),
            stdout=write_end,
            stderr=write_end,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 0
    kv = KeyedVectors.load_word2vec_format(out)
    assert len(kv) > 100 and np.isfinite(kv.vectors).all()


@pytest.mark.skipif(not LINUX, reason="POSIX shell")
def test_cli_runs_with_stderr_closed(tmp_path, small_corpus):
    """`sgns ... 2>&-`: no descriptor 2 at all (sys.stderr is None)."""
    out = tmp_path / "vec.txt"
    script = 'exec "$0" -m sgns -train "$1" -output "$2" -size 12 2>&-'
    proc = subprocess.run(
        ["sh", "-c", script, sys.executable, str(small_corpus), str(out)],
        cwd=tmp_path,
        env=child_env(),
        capture_output=False,
        stdout=subprocess.PIPE,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout
    assert len(KeyedVectors.load_word2vec_format(out)) > 100


class SharedHandle:
    """__iter__ reads one shared file handle: the second pass yields nothing."""

    def __init__(self, path):
        self.f = open(path, encoding="utf-8")

    def __iter__(self):
        return (line.split() for line in self.f)


def test_iterable_that_does_not_start_over_is_an_error(small_corpus):
    corpus = SharedHandle(small_corpus)
    with pytest.raises(ValueError, match="__iter__"):
        Word2Vec(corpus, vector_size=8, min_count=1)
    corpus.f.close()


class Shrinking:
    def __init__(self, sentences):
        self.sentences = sentences
        self.passes = 0

    def __iter__(self):  # a generator: a pass counts once it really starts
        self.passes += 1
        yield from self.sentences if self.passes <= 2 else self.sentences[:10]


def test_iterable_yielding_far_fewer_words_later_is_an_error(planted):
    with pytest.raises(ValueError, match="epoch 2"):
        Word2Vec(Shrinking(planted.sentences), vector_size=8, min_count=1, epochs=3)


# ---- family 4: memory and special inputs --------------------------------------------


def test_corpus_cache_is_bounded_by_the_corpus_actually_trained(tmp_path):
    """The vocabulary comes from a 40-word sample; the trained file holds 4M
    words (16 MB of ids). corpus_cache_mb=1 must hold."""
    sample = tmp_path / "sample.txt"
    words = [f"w{i}" for i in range(40)]
    sample.write_text(" ".join(words) + "\n")
    big = tmp_path / "big.txt"
    line = " ".join(words * 25) + "\n"  # 1000 words
    with open(big, "w") as f:
        f.writelines(line for _ in range(4000))
    m = Word2Vec(vector_size=4, min_count=1, workers=2, epochs=2, corpus_cache_mb=1, sample=0, window=1)
    m.build_vocab(corpus_file=sample)
    tracemalloc.start()
    try:
        m.train(corpus_file=big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert m.epoch_reports[-1].words == 4_000_000
    assert peak < 6 * 2**20, f"peak {peak / 2**20:.1f} MiB of numpy arrays against a 1 MB cache"


def test_corpus_cache_still_used_when_it_fits(tmp_path, small_corpus):
    """The bound does not change results: cached and streamed epochs of the
    same file train identically with one worker (same ids, same seeds)."""
    res = []
    for mb in (0, 64):
        m = Word2Vec(vector_size=8, min_count=3, workers=1, epochs=2, seed=5, corpus_cache_mb=mb)
        m.build_vocab(corpus_file=small_corpus)
        m.train(corpus_file=small_corpus)
        res.append(m.wv.vectors.copy())
    assert (res[0] == res[1]).all()


@pytest.mark.skipif(not LINUX, reason="mkfifo")
def test_fifo_corpus_is_refused_at_once(tmp_path):
    """No writer ever opens the FIFO: both refuse at once (before, both hung
    in fopen holding the GIL, deaf to Ctrl-C)."""
    fifo = tmp_path / "corpus.fifo"
    os.mkfifo(fifo)
    code = """
        import sys, sgns
        try:
            sgns.Word2Vec(corpus_file=sys.argv[1], vector_size=8)
        except ValueError as e:
            print(e)
    """
    proc = run_child(code, fifo, cwd=tmp_path, timeout=60)
    assert "regular file" in proc.stdout, proc.stderr
    proc = sgns_process("-train", fifo, "-output", tmp_path / "v.txt", cwd=tmp_path, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines()[-1].startswith("sgns: ") and "regular file" in proc.stderr
    assert not (tmp_path / "v.txt").exists()


def test_mmap_r_plus_is_refused(tmp_path, small_corpus):
    m = Word2Vec(corpus_file=small_corpus, vector_size=8, min_count=3, workers=1, epochs=1)
    path = tmp_path / "m.sgns"
    m.save(path)
    with pytest.raises(ValueError, match="r\\+"):
        Word2Vec.load(path, mmap="r+")
    with pytest.raises(ValueError, match="r\\+"):
        KeyedVectors.load(path, mmap="r+")
    Word2Vec.load(path)  # the file is untouched and loads with its checksums
