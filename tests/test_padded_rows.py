"""Weight rows padded to whole cache lines (sgns.padded_rows): the layout,
and that training, saving and copying give the same numbers whatever the
layout of the matrices handed in."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from sgns import KeyedVectors, Word2Vec, _train, container, guards, padded_rows
from sgns._train import Trainer

TEXTS = [
    ["human", "interface", "computer"],
    ["survey", "user", "computer", "system", "response", "time"],
] * 40


@pytest.mark.parametrize(
    "dim, ld", [(1, 1), (8, 8), (16, 16), (17, 17), (50, 50), (72, 80), (100, 112), (128, 128), (300, 304)]
)
def test_rows_start_on_lines(dim, ld):
    m = padded_rows.zeros(5, dim)
    assert m.shape == (5, dim) and m.dtype == np.float32 and not m.any()
    assert padded_rows.row_floats(dim) == ld and m.strides == (4 * ld, 4)
    assert m.ctypes.data % 64 == 0 and padded_rows.is_padded(m)
    assert padded_rows.nbytes(5, dim) == 5 * ld * 4
    assert m.flags.c_contiguous == (dim == ld)  # a multiple of 16 floats needs no padding


def test_padded_copies_only_what_needs_it():
    a = np.arange(7 * 100, dtype=np.float32).reshape(7, 100)
    p = padded_rows.padded(a, max_bytes=3 * 400)  # several blocks (3 rows each)
    assert padded_rows.is_padded(p) and np.array_equal(p, a) and not np.shares_memory(p, a)
    assert padded_rows.padded(p) is p
    ro = p.copy()
    ro.flags.writeable = False
    assert padded_rows.is_padded(padded_rows.padded(ro))  # a read-only matrix is copied (training writes)
    assert np.array_equal(padded_rows.padded(np.zeros((0, 100), np.float32)), np.zeros((0, 100)))


def test_a_grown_vocabulary_keeps_the_layout():
    m = Word2Vec(TEXTS, vector_size=100, min_count=1, workers=1, epochs=1, seed=3)
    m.build_vocab([["brand", "new", "words"]] * 3, update=True)
    vectors = m.wv.vectors
    assert padded_rows.is_padded(vectors) and padded_rows.is_padded(m.syn1neg) and "brand" in m.wv
    m.train([["brand", "new", "words"]] * 3, total_examples=3, epochs=1)
    assert m.wv.vectors is vectors  # trained in place: no copy at train time


def test_a_new_model_trains_padded_rows():
    m = Word2Vec(TEXTS, vector_size=100, min_count=1, workers=2, epochs=1, hs=1, negative=5, seed=3)
    for a in (m.wv.vectors, m.syn1neg, m.syn1):
        assert padded_rows.is_padded(a) and a.shape[1] == 100
        assert padded_rows.padding_is_zero(a)  # training kept it zero


@pytest.mark.parametrize("sg, hs, negative", [(1, 0, 5), (0, 0, 5), (1, 1, 0)])
def test_training_is_the_same_on_contiguous_rows(sg, hs, negative):
    """Contiguous matrices (a loaded model, arrays a user assigned) are
    padded when training starts and train to the very same numbers."""
    kw = dict(vector_size=100, min_count=1, workers=1, epochs=2, sg=sg, hs=hs, negative=negative, seed=5)
    a, b = Word2Vec(**kw), Word2Vec(**kw)
    for m in (a, b):
        m.build_vocab(TEXTS)
    b.wv.vectors = np.ascontiguousarray(b.wv.vectors)
    b.syn1neg = np.ascontiguousarray(b.syn1neg)
    b.syn1 = np.ascontiguousarray(b.syn1)
    assert not padded_rows.is_padded(b.wv.vectors)
    for m in (a, b):
        m.train(TEXTS, total_examples=len(TEXTS), epochs=2)
    assert padded_rows.is_padded(b.wv.vectors)
    assert np.array_equal(a.wv.vectors, b.wv.vectors)
    assert np.array_equal(a.syn1neg, b.syn1neg) and np.array_equal(a.syn1, b.syn1)


def _tree(v):
    """A made-up Huffman tree: two inner nodes on every word's path."""
    offsets = np.arange(v + 1, dtype=np.int64) * 2
    return offsets, (np.arange(2 * v) % (v - 1)).astype(np.int32), np.arange(2 * v) % 2


def _train_in_place(syn0, out, mode, ids, seed, **extra):
    """One Trainer call over ids: syn0 and out (mode's output matrix) change in place."""
    v, hs = syn0.shape[0], mode == "hs"
    Trainer(
        syn0,
        None if hs else out,
        None,
        np.ones(v),
        window=3,
        negative=0 if hs else 4,
        alpha=0.05,
        min_alpha=0.05,
        total_words=len(ids),
        sg=mode != "cbow",
        shared_negatives=mode in ("shared", "groups"),
        centres_per_draw=3 if mode == "groups" else 1,
        syn1=out if hs else None,
        huffman=_tree(v) if hs else None,
        **extra,
    ).train_ids(ids, seed)


@pytest.mark.parametrize("mode", ["shared", "exact", "groups", "cbow", "hs"])
def test_the_kernel_trains_the_same_numbers_in_either_layout(mode):
    """The trainer addresses rows by their stride: padded and contiguous
    matrices of the same values end with the same values (one worker, one
    seed), private row copies included."""
    rng = np.random.default_rng(1)
    v, d = 40, 100
    ids = rng.integers(0, v, 3000).astype(np.int32)
    start = rng.random((v, d), dtype=np.float32) - np.float32(0.5)
    results = []
    for layout in (np.ascontiguousarray, padded_rows.padded):
        syn0, out = layout(start.copy()), layout(start[::-1].copy())
        _train_in_place(syn0, out, mode, ids, 7, private_top_nodes=5, private_noise_rows=6)
        results.append((np.array(syn0), np.array(out)))
    assert not np.array_equal(results[0][0], start)
    assert np.array_equal(results[0][0], results[1][0]) and np.array_equal(results[0][1], results[1][1])


def test_padding_is_zero_only_when_it_is():
    a = padded_rows.zeros(9, 100)
    assert padded_rows.padding_is_zero(a) and padded_rows.padding_is_zero(padded_rows.zeros(3, 64))
    wide = np.lib.stride_tricks.as_strided(a, shape=(9, 112), strides=a.strides)
    wide[8, 111] = 1.0  # the last row's last padding float
    assert not padded_rows.padding_is_zero(a)
    full = padded_rows.zeros(9, 112)
    full[:] = 1.0
    view = full[:, :100]  # the same stride and alignment, but the "padding" is a user's data
    assert padded_rows.is_padded(view) and not padded_rows.padding_is_zero(view)
    assert not padded_rows.padding_is_zero(np.zeros((9, 100), np.float32))


@pytest.fixture(params=_train.supported_kernels())
def kernels(request):
    before = _train.active_kernels()
    yield _train.select_kernels(request.param)
    _train.select_kernels(before)


@pytest.mark.parametrize("mode", ["shared", "exact", "groups", "cbow", "hs"])
@pytest.mark.parametrize("d", [100, 72, 37])
def test_kernels_across_zero_padding(kernels, mode, d):
    """zero_padding: the kernels take whole vectors across the padding; the
    result is the masked one's up to float rounding, and the padding stays zero."""
    rng = np.random.default_rng(1)
    v = 40
    ids = rng.integers(0, v, 2000).astype(np.int32)
    start = rng.random((v, d), dtype=np.float32) - np.float32(0.5)
    results = []
    for zero_padding in (False, True):
        syn0, out = padded_rows.padded(start.copy()), padded_rows.padded(start[::-1].copy())
        _train_in_place(syn0, out, mode, ids, 3, zero_padding=zero_padding)
        assert padded_rows.padding_is_zero(syn0) and padded_rows.padding_is_zero(out)
        results.append((syn0, out))
    (a0, a1), (b0, b1) = results
    assert not np.array_equal(a0, start)
    np.testing.assert_allclose(a0, b0, rtol=0, atol=1e-5)
    np.testing.assert_allclose(a1, b1, rtol=0, atol=1e-5)


def test_trainer_checks_the_row_layout():
    rng = np.random.default_rng(0)
    syn0 = padded_rows.padded(rng.random((6, 100), dtype=np.float32))
    keep, noise = np.ones(6), np.ones(6)
    kw = dict(window=2, negative=2, alpha=0.025, min_alpha=0.0001, total_words=10)
    Trainer(syn0, padded_rows.zeros(6, 100), keep, noise, **kw)
    with pytest.raises(ValueError, match="row stride"):
        Trainer(syn0, np.zeros((6, 100), np.float32), keep, noise, **kw)
    with pytest.raises(ValueError, match="contiguous"):
        Trainer(np.zeros((6, 20), np.float32)[:, ::2], np.zeros((6, 10), np.float32), keep, noise, **kw)


def test_saved_files_do_not_depend_on_the_layout(tmp_path):
    m = Word2Vec(TEXTS, vector_size=100, min_count=1, workers=1, epochs=1, seed=2)
    m.save(str(tmp_path / "padded.model"))
    m.wv.vectors = np.ascontiguousarray(m.wv.vectors)
    m.syn1neg = np.ascontiguousarray(m.syn1neg)
    m.save(str(tmp_path / "plain.model"))
    assert (tmp_path / "padded.model").read_bytes() == (tmp_path / "plain.model").read_bytes()
    back = Word2Vec.load(str(tmp_path / "padded.model"))
    assert padded_rows.is_padded(back.wv.vectors) and np.array_equal(back.wv.vectors, m.wv.vectors)
    assert back.wv.most_similar("computer") == Word2Vec.load(str(tmp_path / "plain.model")).wv.most_similar(
        "computer"
    )


def test_byte_chunks_of_padded_rows_are_the_rows():
    a = padded_rows.padded(np.arange(50 * 100, dtype=np.float32).reshape(50, 100))
    assert not a.flags.c_contiguous
    old = container._CHUNK
    container._CHUNK = 1000  # several rows per chunk, several chunks
    try:
        got = b"".join(bytes(c) for c in container._byte_chunks(a))
    finally:
        container._CHUNK = old
    assert got == np.ascontiguousarray(a).tobytes()


def test_copies_keep_the_layout():
    m = Word2Vec(TEXTS, vector_size=100, min_count=1, workers=1, epochs=1, seed=2)
    for other in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m)):
        assert padded_rows.is_padded(other.wv.vectors)
        assert other.wv.most_similar("computer") == m.wv.most_similar("computer")


def test_the_model_vouches_for_zero_padding_only_when_it_holds(monkeypatch):
    from sgns import model as model_module

    seen = []
    real = model_module.Trainer

    def spy(*args, **kw):
        seen.append(kw["zero_padding"])
        return real(*args, **kw)

    monkeypatch.setattr(model_module, "Trainer", spy)
    m = Word2Vec(TEXTS, vector_size=100, min_count=1, workers=1, epochs=1, seed=2)
    assert seen and all(seen)
    wide = np.lib.stride_tricks.as_strided(m.syn1neg, shape=(len(m.wv), 112), strides=m.syn1neg.strides)
    wide[0, 111] = 1.0  # someone wrote into the padding
    m.train(TEXTS, total_examples=len(TEXTS), epochs=1)
    assert seen[-1] is False


@pytest.mark.parametrize("dim", [1, 100, 300])
def test_initial_vectors_are_one_draw_in_blocks(dim):
    """uniform_rows fills the padded rows a small block at a time: the same
    numbers as one draw of the whole matrix (seeded models stay as before)."""
    from sgns.model import uniform_rows

    got = uniform_rows(np.random.default_rng(5), 3000, dim)  # several blocks
    whole = np.random.default_rng(5).random((3000, dim), dtype=np.float32)
    whole *= np.float32(2.0)
    whole -= np.float32(1.0)
    whole /= np.float32(dim)
    assert padded_rows.is_padded(got) and np.array_equal(got, whole)


def test_first_nonfinite_row_walks_blocks_of_any_layout():
    # 20 MB of rows: more than one block of padded_rows.BLOCK_BYTES.
    rows = 5_000_000
    m = padded_rows.zeros(rows, 1)
    assert guards.first_nonfinite_row(m) == -1
    m[4_500_000, 0] = np.inf
    m[4_700_000, 0] = np.nan
    assert guards.first_nonfinite_row(m) == 4_500_000
    assert guards.first_nonfinite_row(m, rows=4_500_000) == -1
    assert guards.first_nonfinite_row(m, rows=4_500_001) == 4_500_000
    v = padded_rows.zeros(40, 100)
    v[37, 99] = np.nan
    assert guards.first_nonfinite_row(v) == 37


def test_grown_is_the_rows_then_zeros_in_one_padded_copy():
    a = np.arange(7 * 100, dtype=np.float64).reshape(7, 100)
    g = padded_rows.grown(a, 10, max_bytes=3 * 800)  # blocks of 3 rows: the last one short
    assert padded_rows.is_padded(g) and padded_rows.padding_is_zero(g)
    np.testing.assert_array_equal(g, np.vstack([a, np.zeros((3, 100))]).astype(np.float32))
    np.testing.assert_array_equal(padded_rows.padded(a), a.astype(np.float32))


def test_add_vectors_keeps_a_models_layout():
    kv = KeyedVectors(100)
    kv.add_vectors(["a", "b"], np.ones((2, 100), dtype=np.float32))
    kv.vectors = padded_rows.padded(kv.vectors)
    kv.add_vectors(["c", "a"], np.full((2, 100), 2.0, dtype=np.float32))
    assert padded_rows.is_padded(kv.vectors) and kv.vectors.shape == (3, 100)
    np.testing.assert_array_equal(kv["c"], np.full(100, 2.0, dtype=np.float32))
    np.testing.assert_array_equal(kv["a"], np.ones(100, dtype=np.float32))
