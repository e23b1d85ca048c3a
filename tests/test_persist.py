"""sgns.persist: the model/KeyedVectors file format, its round trips, its
errors, continuing training after a load, and vocabulary updates."""

from __future__ import annotations

import json
import logging
import os
import pickle
import struct
import zlib
from collections import Counter

import numpy as np
import pytest

from sgns import FormatError, KeyedVectors, Word2Vec, container
from sgns.model import extend_vocab
from sgns.persist import MAGIC, load_keyedvectors, load_model, save_keyedvectors, save_model

PARAMS = (
    "vector_size",
    "alpha",
    "min_alpha",
    "window",
    "min_count",
    "max_vocab_size",
    "max_final_vocab",
    "sample",
    "seed",
    "workers",
    "sg",
    "hs",
    "negative",
    "ns_exponent",
    "epochs",
    "shared_negatives",
    "compute_loss",
    "max_sentence_length",
    "corpus_cache_mb",
)


def trained(planted, **kw):
    args = dict(
        corpus_file=planted.path,
        vector_size=12,
        window=3,
        min_count=1,
        workers=1,
        epochs=2,
        seed=7,
        compute_loss=True,
        sample=1e-3,
    )
    args.update(kw)
    return Word2Vec(**args)


@pytest.fixture(scope="module")
def model(planted):
    return trained(planted)


def sample_kv():
    keys = ["king", "naïve", "日本", "bad\udcff\udcfe", "x" * 300, "tab\there", "nl\nx", "nul\0x"]
    rng = np.random.default_rng(0)
    kv = KeyedVectors.from_arrays(
        keys, rng.standard_normal((len(keys), 5)).astype(np.float32), counts=np.arange(len(keys), 0, -1)
    )
    kv.set_vecattr("king", "weight", np.float32(0.5))
    return kv


def read_layout(path):
    """An independent reader of the documented layout."""
    data = open(path, "rb").read()
    magic, version, header_crc, hlen = struct.unpack_from("<8sIIQ", data, 0)
    assert (magic, version) == (MAGIC, 1)
    assert header_crc == zlib.crc32(data[24 : 24 + hlen])
    header = json.loads(data[24 : 24 + hlen].decode("utf-8"))
    start = -(-(24 + hlen) // 64) * 64
    assert set(data[24 + hlen : start]) <= {0}
    arrays = {}
    for name, spec in header["arrays"].items():
        assert spec["offset"] % 64 == 0
        raw = data[start + spec["offset"] : start + spec["offset"] + spec["nbytes"]]
        assert zlib.crc32(raw) == spec["crc32"]
        arrays[name] = np.frombuffer(raw, dtype=np.dtype(spec["dtype"])).reshape(spec["shape"])
    assert header["file_size"] == len(data)
    return header, arrays


def repack(path, mutate_header=None, mutate_arrays=None):
    """Rewrite a file with a changed header (data section moved as needed)."""
    data = open(path, "rb").read()
    _, version, _, hlen = struct.unpack_from("<8sIIQ", data, 0)
    header = json.loads(data[24 : 24 + hlen])
    start = -(-(24 + hlen) // 64) * 64
    body = data[start:]
    if mutate_header:
        mutate_header(header)
    text = json.dumps(header).encode()
    new_start = -(-(24 + len(text)) // 64) * 64
    header["file_size"] = new_start + len(body)
    text = json.dumps(header).encode()
    new_start = -(-(24 + len(text)) // 64) * 64
    out = struct.pack("<8sIIQ", MAGIC, version, 0, len(text)) + text
    open(path, "wb").write(out + b"\0" * (new_start - len(out)) + body)


# ---- KeyedVectors ----------------------------------------------------------------------------


def test_keyedvectors_round_trip(tmp_path):
    kv = sample_kv()
    path = tmp_path / "kv.sgns"
    kv.save(path)
    back = KeyedVectors.load(path)
    assert back.index_to_key == kv.index_to_key
    assert back.key_to_index == kv.key_to_index
    np.testing.assert_array_equal(back.vectors, kv.vectors)
    assert back.vectors.dtype == np.float32 and back.vectors.flags.writeable
    assert back.get_vecattr("king", "count") == len(kv)
    assert back.get_vecattr("king", "weight") == 0.5 and back.expandos["weight"].dtype == np.float32
    assert back.most_similar("king", topn=3) == kv.most_similar("king", topn=3)


def test_keyedvectors_layout_is_as_documented(tmp_path):
    kv = sample_kv()
    path = tmp_path / "kv.sgns"
    save_keyedvectors(kv, path)
    header, arrays = read_layout(path)
    assert header["format"] == "sgns" and header["version"] == 1 and header["kind"] == "keyedvectors"
    assert header["vector_size"] == 5 and header["count"] == len(kv)
    assert header["attrs"] == ["count", "weight"]
    blob, offsets = arrays["keys.utf8"].tobytes(), arrays["keys.offsets"]
    keys = [blob[a : b - 1].decode("utf-8", "surrogateescape") for a, b in zip(offsets[:-1], offsets[1:])]
    assert keys == kv.index_to_key
    assert blob[offsets[3] : offsets[4] - 1] == b"bad\xff\xfe"  # the corpus bytes, not escapes
    np.testing.assert_array_equal(arrays["vectors"], kv.vectors)
    np.testing.assert_array_equal(arrays["attr.count"], kv.expandos["count"])


@pytest.mark.parametrize("mode", ["r", "c"])
def test_keyedvectors_mmap(tmp_path, mode):
    kv = sample_kv()
    path = tmp_path / "kv.sgns"
    kv.save(path)
    before = path.read_bytes()
    back = KeyedVectors.load(path, mmap=mode)
    assert isinstance(back.vectors.base, np.memmap) or isinstance(back.vectors, np.memmap)
    assert back.vectors.flags.writeable == (mode == "c")
    np.testing.assert_array_equal(back.vectors, kv.vectors)
    assert back.most_similar("king", topn=3) == kv.most_similar("king", topn=3)
    back.unit_normalize_all()
    np.testing.assert_allclose(np.linalg.norm(back.vectors, axis=1), 1.0, rtol=1e-6)
    assert path.read_bytes() == before  # neither mode writes to the file


def test_keyedvectors_float64_and_empty(tmp_path):
    kv = KeyedVectors.from_arrays(["a", "b"], np.array([[1.0, 2.0], [3.0, 4.5]]))
    kv.save(tmp_path / "f64")
    back = KeyedVectors.load(tmp_path / "f64")
    assert back.vectors.dtype == np.float64
    np.testing.assert_array_equal(back.vectors, kv.vectors)
    empty = KeyedVectors(7)
    empty.save(tmp_path / "empty")
    for mmap in (None, "r"):
        back = KeyedVectors.load(tmp_path / "empty", mmap=mmap)
        assert len(back) == 0 and back.vector_size == 7


def test_keyedvectors_unsavable(tmp_path):
    kv = KeyedVectors.from_arrays(["ok", "\ud800"], np.ones((2, 2), np.float32))
    with pytest.raises(ValueError, match="cannot be stored"):
        kv.save(tmp_path / "x")
    kv = KeyedVectors.from_arrays(["a"], np.ones((1, 2), np.float32))
    kv.expandos["obj"] = np.array([object()], dtype=object)
    with pytest.raises(ValueError, match="obj"):
        kv.save(tmp_path / "x")
    assert not os.listdir(tmp_path)  # nothing left behind


# ---- models ----------------------------------------------------------------------------------


def test_model_round_trip(tmp_path, model):
    path = tmp_path / "model.sgns"
    save_model(model, path)
    back = load_model(path)
    assert type(back) is Word2Vec
    for name in PARAMS:
        assert getattr(back, name) == getattr(model, name), name
    assert back.wv.index_to_key == model.wv.index_to_key
    np.testing.assert_array_equal(back.wv.vectors, model.wv.vectors)
    np.testing.assert_array_equal(back.syn1neg, model.syn1neg)
    assert back.vocab.words == model.vocab.words
    np.testing.assert_array_equal(back.vocab.counts, model.vocab.counts)
    assert (back.vocab.corpus_words, back.vocab.corpus_sentences, back.vocab.effective_min_count) == (
        model.vocab.corpus_words,
        model.vocab.corpus_sentences,
        model.vocab.effective_min_count,
    )
    assert back.corpus_count == model.corpus_count and back.corpus_total_words == model.corpus_total_words
    assert (back.words_done, back.total_train_words) == (model.words_done, model.total_train_words)
    assert back.epoch_reports == model.epoch_reports
    assert back.loss_history == model.loss_history and len(back.loss_history) == 2
    assert back.wv.get_vecattr("g0w0", "count") == model.wv.get_vecattr("g0w0", "count")
    for word in ("g0w0", "g3w5"):
        assert back.wv.most_similar(word) == model.wv.most_similar(word)
    header, _ = read_layout(path)
    assert header["kind"] == "word2vec" and header["state"]["epochs_done"] == 2
    assert header["params"]["vector_size"] == 12


def test_save_is_deterministic(tmp_path, model):
    save_model(model, tmp_path / "a")
    save_model(model, tmp_path / "b")
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()


@pytest.mark.parametrize(
    "kw",
    [dict(), dict(shared_negatives=False, sample=0), dict(hs=1, negative=0), dict(sg=0, hs=1, negative=3)],
)
def test_training_continues_as_if_never_saved(tmp_path, planted, kw):
    """save -> load -> train gives bit for bit what train on the original
    gives (workers=1): everything training depends on is in the file."""
    try:
        original = trained(planted, **kw)
    except NotImplementedError as e:
        pytest.skip(str(e))
    path = tmp_path / "m.sgns"
    save_model(original, path)
    loaded = load_model(path)
    original.train(corpus_file=planted.path, epochs=1)
    loaded.train(corpus_file=planted.path, epochs=1)
    np.testing.assert_array_equal(loaded.wv.vectors, original.wv.vectors)
    np.testing.assert_array_equal(loaded.syn1neg, original.syn1neg)
    np.testing.assert_array_equal(getattr(loaded, "syn1", 0), getattr(original, "syn1", 0))
    assert loaded.loss_history == original.loss_history and len(loaded.loss_history) == 3
    assert not np.array_equal(loaded.wv.vectors, load_model(path).wv.vectors)  # it did train


def test_training_after_load_from_iterable(tmp_path, planted, model):
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    loaded.train(planted.sentences, epochs=1)
    assert planted.precision(loaded.wv) > 0.9


def test_mmap_model(tmp_path, planted, model):
    path = tmp_path / "m.sgns"
    save_model(model, path)
    before = path.read_bytes()
    ro = load_model(path, mmap="r")
    assert ro.wv.most_similar("g0w0") == model.wv.most_similar("g0w0")
    with pytest.raises(ValueError):
        ro.train(corpus_file=planted.path, epochs=1)  # read-only weights
    cow = load_model(path, mmap="c")
    cow.train(corpus_file=planted.path, epochs=1)
    assert not np.array_equal(cow.wv.vectors, model.wv.vectors)
    assert path.read_bytes() == before
    with pytest.raises(ValueError, match="mmap"):
        load_model(path, mmap="w")


def test_keyedvectors_load_reads_a_model_file(tmp_path, model):
    save_model(model, tmp_path / "m")
    kv = KeyedVectors.load(tmp_path / "m", mmap="r")
    assert kv.index_to_key == model.wv.index_to_key
    np.testing.assert_array_equal(kv.vectors, model.wv.vectors)
    save_keyedvectors(model.wv, tmp_path / "kv")
    with pytest.raises(FormatError, match="KeyedVectors.load"):
        load_model(tmp_path / "kv")


def test_unknown_parameter_is_ignored_with_warning(tmp_path, model, caplog):
    path = tmp_path / "m"
    save_model(model, path)
    repack(path, lambda h: h["params"].update(future_knob=3))
    with caplog.at_level(logging.WARNING, logger="sgns.persist"):
        back = load_model(path)
    assert "future_knob" in caplog.text
    np.testing.assert_array_equal(back.wv.vectors, model.wv.vectors)


def test_extra_array_is_ignored(tmp_path, model):
    path = tmp_path / "m"
    save_model(model, path)
    repack(path, lambda h: h["arrays"].update({"future": dict(h["arrays"]["keys.offsets"])}))
    np.testing.assert_array_equal(load_model(path).wv.vectors, model.wv.vectors)


def test_atomic_overwrite(tmp_path, model, monkeypatch):
    path = tmp_path / "m"
    save_model(model, path)
    good = path.read_bytes()
    calls = []

    def failing(arr):
        calls.append(1)
        if len(calls) > 3:  # after the first arrays are written
            raise OSError("disk full")
        return memoryview(arr.reshape(-1)).cast("B") if arr.size else memoryview(b"")

    monkeypatch.setattr(container, "_bytes_view", failing)
    with pytest.raises(OSError, match="disk full"):
        save_model(model, path)
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["m"]


def test_arrays_changing_while_saved_give_a_file_that_loads(tmp_path, model, monkeypatch):
    """save() from another thread while training runs: the rows change while
    they are written. The CRCs now cover the bytes written (taken of a copy of
    each chunk), so the file loads with the rows as they were copied; before,
    a CRC pass and a write pass saw different rows and the file failed its
    own check."""
    chunks = container._byte_chunks

    def changing(arr):
        for raw in chunks(arr):
            yield raw
            if arr.flags.writeable and arr.dtype.kind == "f":
                arr += 1.0  # as a worker would, right after this chunk

    before = model.wv.vectors.copy()
    monkeypatch.setattr(container, "_byte_chunks", changing)
    save_model(model, tmp_path / "m")
    monkeypatch.undo()
    loaded = load_model(tmp_path / "m")
    assert np.array_equal(loaded.wv.vectors, before)  # the rows as they were written
    assert not np.array_equal(model.wv.vectors, before)


def test_save_from_another_thread_during_training(tmp_path, planted):
    """The user's flow behind the test above, for real: every file saved
    while a worker trains loads (most failed their CRC before)."""
    import threading

    m = Word2Vec(corpus_file=planted.path, vector_size=64, min_count=1, workers=1, epochs=1, seed=1)
    done = threading.Event()
    trainer = threading.Thread(target=lambda: (m.train(corpus_file=planted.path, epochs=100), done.set()))
    trainer.start()
    saved = 0
    try:
        while not done.is_set() and saved < 20:
            save_model(m, tmp_path / f"m{saved}")
            m.wv.save(str(tmp_path / f"kv{saved}"))
            saved += 1
    finally:
        trainer.join(120)
    for k in range(saved):
        load_model(tmp_path / f"m{k}")
        KeyedVectors.load(str(tmp_path / f"kv{k}"))
    assert saved > 0


# ---- errors ----------------------------------------------------------------------------------


def write(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty file"),
        (pickle.dumps({"a": 1}, protocol=4), "pickle"),
        (b"3 2\nthe 1 2\n", "word2vec vector file"),
        (b"PK\x03\x04rest", "npz"),
        (b"hello world, some text", "bad magic"),
        (MAGIC[:5], "truncated"),
        (MAGIC + b"\x01\x00", "truncated"),
    ],
)
def test_not_a_model_file(tmp_path, data, message):
    path = write(tmp_path / "f", data)
    for load in (load_model, load_keyedvectors):
        with pytest.raises(FormatError, match=message):
            load(path)


def test_errors_name_the_file(tmp_path):
    path = write(tmp_path / "vectors.bin", b"xx")
    with pytest.raises(FormatError) as e:
        load_model(path)
    assert str(path) in str(e.value) and e.value.path == str(path)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing")
    with pytest.raises(IsADirectoryError):
        load_model(tmp_path)


@pytest.mark.parametrize("version", [0, 2, 77])
def test_unknown_version(tmp_path, model, version):
    path = tmp_path / "m"
    save_model(model, path)
    data = bytearray(path.read_bytes())
    data[8:12] = struct.pack("<I", version)
    write(path, bytes(data))
    with pytest.raises(FormatError, match=f"version {version}" + (".*newer" if version > 1 else "")):
        load_model(path)


def test_header_version_disagrees(tmp_path, model):
    path = tmp_path / "m"
    save_model(model, path)
    repack(path, lambda h: h.update(version=2))
    with pytest.raises(FormatError, match="disagrees"):
        load_model(path)


def test_truncated_anywhere(tmp_path, model):
    path = tmp_path / "m"
    save_model(model, path)
    data = path.read_bytes()
    for size in (20, 24, 100, len(data) // 2, len(data) - 1):
        write(tmp_path / "t", data[:size])
        for mmap in (None, "r"):
            with pytest.raises(FormatError, match="truncated"):
                load_model(tmp_path / "t", mmap=mmap)


def test_corrupt_bytes_are_detected(tmp_path, model):
    path = tmp_path / "m"
    save_model(model, path)
    header, _ = read_layout(path)
    hlen = struct.unpack_from("<Q", path.read_bytes(), 16)[0]
    start = -(-(24 + hlen) // 64) * 64
    for name in ("vectors", "syn1neg", "keys.utf8", "vocab.counts"):
        data = bytearray(path.read_bytes())
        data[start + header["arrays"][name]["offset"] + 3] ^= 0x10
        write(tmp_path / "c", bytes(data))
        with pytest.raises(FormatError, match=f"'{name}' is corrupt"):
            load_model(tmp_path / "c")
    data = bytearray(path.read_bytes())
    data[30] = ord("}")  # inside the JSON header
    write(tmp_path / "c", bytes(data))
    with pytest.raises(FormatError, match="corrupt header"):
        load_model(tmp_path / "c")


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda h: h["arrays"].pop("vectors"), "'vectors' is missing"),
        (lambda h: h["arrays"]["vectors"].update(dtype="|O"), "unsupported dtype"),
        (lambda h: h["arrays"]["vectors"].update(shape=[3, 3]), "corrupt header"),
        (lambda h: h["arrays"]["syn1neg"].update(shape=[1, 12], nbytes=48), "syn1neg"),
        (lambda h: h["arrays"]["vectors"].update(offset=10**12), "truncated"),
        (lambda h: h.pop("arrays"), "arrays"),
        (lambda h: h.update(format="other"), "not an sgns header"),
        (lambda h: h["params"].update(vector_size="big"), "cannot rebuild"),
    ],
)
def test_inconsistent_header(tmp_path, model, mutate, message):
    path = tmp_path / "m"
    save_model(model, path)
    repack(path, mutate)
    with pytest.raises(FormatError, match=message):
        load_model(path)


# ---- vocabulary update -----------------------------------------------------------------------


def counts_of(sentences):
    c = Counter(w for s in sentences for w in s)
    return list(c), np.array(list(c.values()), dtype=np.int64)


def test_extend_vocab(planted):
    model = trained(planted, corpus_file=None, sentences=planted.sentences, min_count=2)
    old_words = list(model.wv.index_to_key)
    old_vectors = model.wv.vectors.copy()
    old_syn1neg = model.syn1neg.copy()
    old_counts = model.vocab.counts.copy()
    more = [["g0w0", "new_a", "new_b", "new_a"], ["new_c", "g1w1", "new_a", "new_b"], ["rare", "g0w0"]] * 5
    more += [["rare2"]]
    words, counts = counts_of(more)
    summary = extend_vocab(model, words, counts, corpus_words=sum(map(len, more)), corpus_sentences=len(more))
    assert summary == {
        "new_words": 4,
        "updated_words": 2,
        "dropped_words": 1,
        "epoch_words": sum(map(len, more)) - 1,
    }
    assert model.epoch_words == summary["epoch_words"]
    n = len(old_words)
    assert model.wv.index_to_key[:n] == old_words
    assert model.wv.index_to_key[n:] == ["new_a", "new_b", "new_c", "rare"]  # by count, ties first-seen
    assert model.vocab.words == model.wv.index_to_key
    np.testing.assert_array_equal(model.wv.vectors[:n], old_vectors)
    np.testing.assert_array_equal(model.syn1neg[:n], old_syn1neg)
    assert not model.syn1neg[n:].any()
    assert np.abs(model.wv.vectors[n:]).max() <= 1.0 / model.vector_size and model.wv.vectors[n:].any()
    expected = old_counts.copy()
    expected[model.wv.get_index("g0w0")] += 10
    expected[model.wv.get_index("g1w1")] += 5
    np.testing.assert_array_equal(model.vocab.counts[:n], expected)
    np.testing.assert_array_equal(model.vocab.counts[n:], [15, 10, 5, 5])
    np.testing.assert_array_equal(model.wv.expandos["count"], model.vocab.counts)
    assert model.corpus_count == len(more)
    fresh = model.wv.vectors[n:].copy()
    model.train(more, total_words=model.epoch_words, epochs=2)
    assert (model.wv.vectors[n:] != fresh).any(axis=1).all()  # every new word was trained
    assert model.wv.most_similar("new_a", topn=3)


def test_extend_vocab_matches_gensim_words_and_counts(planted):
    gensim = pytest.importorskip("gensim")
    base = planted.sentences[:600]
    more = [s + [f"n{len(s) % 3}", "n9"] for s in planted.sentences[600:900]] + [["solo"]]
    theirs = gensim.models.Word2Vec(base, vector_size=8, min_count=3, sg=1, workers=1, epochs=1)
    theirs.build_vocab(more, update=True)
    ours = Word2Vec(base, vector_size=8, min_count=3, workers=1, epochs=1)
    extend_vocab(ours, *counts_of(more), corpus_words=0, corpus_sentences=len(more))
    assert set(ours.wv.index_to_key) == set(theirs.wv.index_to_key)
    for w in ours.wv.index_to_key:
        assert ours.wv.get_vecattr(w, "count") == theirs.wv.get_vecattr(w, "count"), w


def test_extend_vocab_max_final_vocab_and_errors(planted):
    model = Word2Vec(planted.sentences, vector_size=8, min_count=1, max_final_vocab=50, workers=1, epochs=1)
    assert len(model.wv) == 48
    words, counts = ["a", "b", "c", "d"], [9, 5, 5, 3]
    extend_vocab(model, words, counts, corpus_words=22, corpus_sentences=1)
    assert model.wv.index_to_key[48:] == ["a"]  # b and c tie at the cut: both stay out
    with pytest.raises(RuntimeError, match="build_vocab"):
        extend_vocab(Word2Vec(vector_size=4), ["a"], [3], corpus_words=3, corpus_sentences=1)
    with pytest.raises(ValueError):
        extend_vocab(model, ["a", "b"], [3], corpus_words=3, corpus_sentences=1)


def test_extend_vocab_hierarchical_softmax(planted):
    try:
        model = Word2Vec(planted.sentences, vector_size=8, min_count=1, hs=1, negative=0, workers=1, epochs=1)
    except NotImplementedError as e:
        pytest.skip(str(e))
    extend_vocab(model, ["zz", "g0w0"], [7, 2], corpus_words=9, corpus_sentences=2)
    assert model.syn1.shape == (len(model.wv), 8)  # gensim's shape: V - 1 inner nodes and an unused row
    model.train([["zz", "g0w0", "zz"]] * 3, total_words=model.epoch_words, epochs=1)
    assert model.syn1[-2].any()  # the root


def test_untrained_model_and_non_contiguous_vectors(tmp_path):
    m = Word2Vec(vector_size=7, window=2, seed=5, min_count=1)
    save_model(m, tmp_path / "u")
    back = load_model(tmp_path / "u")
    assert back.vocab is None and len(back.wv) == 0
    assert (back.window, back.seed, back.vector_size) == (2, 5, 7)
    back.build_vocab([["a", "b"]] * 10)
    back.train([["a", "b"]] * 10)
    big = np.random.default_rng(0).standard_normal((5, 20)).astype(np.float32)
    kv = KeyedVectors.from_arrays(list("abcde"), big[:, ::2])
    kv.save(tmp_path / "nc")
    np.testing.assert_array_equal(KeyedVectors.load(tmp_path / "nc").vectors, big[:, ::2])
