"""KeyedVectors: every query against gensim 4 on the same arrays, the
deliberate differences, mutation, and concurrent queries."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

from sgns import KeyedVectors

D = 16
N = 200


def make_arrays(seed=0, n=N, dim=D):
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    vectors *= rng.uniform(0.2, 5.0, size=(n, 1)).astype(np.float32)  # unequal norms matter
    keys = [f"w{i}" for i in range(n)]
    return keys, vectors


@pytest.fixture
def pair():
    """(ours, gensim's) over the same keys and vectors."""
    gensim_models = pytest.importorskip("gensim.models")
    keys, vectors = make_arrays()
    theirs = gensim_models.KeyedVectors(D)
    theirs.add_vectors(keys, vectors.copy())
    return KeyedVectors.from_arrays(keys, vectors.copy()), theirs


@pytest.fixture
def kv():
    keys, vectors = make_arrays()
    return KeyedVectors.from_arrays(keys, vectors)


def same(ours, ref, atol=1e-5):
    assert [k for k, _ in ours] == [k for k, _ in ref]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in ref], atol=atol)
    assert all(type(k) is str and type(s) is float for k, s in ours)


# ---- against gensim ---------------------------------------------------------------------------


def test_get_vector_and_normed_vectors_match_gensim(pair):
    ours, theirs = pair
    for key in ("w0", "w17", "w199"):
        np.testing.assert_array_equal(ours.get_vector(key), theirs.get_vector(key))
        np.testing.assert_allclose(
            ours.get_vector(key, norm=True), theirs.get_vector(key, norm=True), rtol=1e-6
        )
        np.testing.assert_array_equal(ours[key], theirs[key])
    np.testing.assert_allclose(ours.get_normed_vectors(), theirs.get_normed_vectors(), rtol=1e-6)
    np.testing.assert_array_equal(ours[["w3", "w1"]], theirs[["w3", "w1"]])
    # int row numbers are accepted as keys, as in gensim
    np.testing.assert_array_equal(ours[5], theirs[5])
    assert ours.get_index(7) == theirs.get_index(7) == 7


@pytest.mark.parametrize(
    "query",
    [
        dict(positive="w0"),
        dict(positive=["w0"]),
        dict(positive=["w0", "w1"], negative=["w2"]),
        dict(positive=["w0", "w1", "w5"], negative=["w2", "w9"]),
        dict(negative=["w3"]),
        dict(positive=[("w0", 2.0), "w1"], negative=["w2"]),
        dict(positive=[("w0", 0.5), ("w1", 1.5)], negative=[("w2", -0.25)]),
        dict(positive=["w4"], negative=[("w8", 1.0)]),  # a pair's weight is used as given
        dict(positive=["w0"], restrict_vocab=50),
        dict(positive=["w0", "w1"], negative=["w2"], restrict_vocab=120),
        dict(positive=["w0"], topn=3),
        dict(positive=["w0"], topn=N + 10),
    ],
)
def test_most_similar_matches_gensim(pair, query):
    ours, theirs = pair
    same(ours.most_similar(**query), theirs.most_similar(**query))


def test_most_similar_accepts_any_iterable(pair):
    ours, theirs = pair
    same(
        ours.most_similar(positive=("w10", "w11"), negative=iter(["w3"])),
        theirs.most_similar(positive=["w10", "w11"], negative=["w3"]),
    )


def test_bytes_are_one_key_not_row_numbers(kv):
    """b"w1" is a key (absent: keys are str), not the rows 119 and 49."""
    for query in (kv.most_similar, kv.most_similar_cosmul):
        with pytest.raises(KeyError):
            query(b"w1")
        with pytest.raises(KeyError):
            query(positive=["w1"], negative=bytearray(b"w2"))


def test_most_similar_vectors_as_input_match_gensim(pair):
    ours, theirs = pair
    keys, vectors = make_arrays()
    raw = vectors[30] * 3.0
    for query in (
        dict(positive=[raw]),
        dict(positive=raw),
        dict(positive=["w0", raw]),
        dict(positive=["w0", (raw, 0.5)], negative=["w1"]),
        dict(positive=vectors[[3, 4]]),  # a 2-D array is a list of vectors
        dict(positive=[vectors[3]], negative=[vectors[4]]),
    ):
        same(ours.most_similar(**query), theirs.most_similar(**query))
    # a vector input is not excluded from the answer; a key is
    assert ours.most_similar(positive=[vectors[30]], topn=1)[0][0] == "w30"
    assert "w30" not in [k for k, _ in ours.most_similar("w30")]


def test_most_similar_topn_none_and_zero_match_gensim(pair):
    ours, theirs = pair
    for query in (dict(positive=["w0"]), dict(positive=["w0", "w1"], negative=["w2"], restrict_vocab=40)):
        all_ours = ours.most_similar(topn=None, **query)
        all_theirs = theirs.most_similar(topn=None, **query)
        assert isinstance(all_ours, np.ndarray) and all_ours.shape == all_theirs.shape
        np.testing.assert_allclose(all_ours, all_theirs, atol=1e-6)
    assert ours.most_similar("w0", topn=0) == theirs.most_similar("w0", topn=0) == []
    assert ours.most_similar("w0", topn=-3) == theirs.most_similar("w0", topn=-3) == []


def test_most_similar_clip_matches_gensim(pair):
    ours, theirs = pair
    same(
        ours.most_similar("w0", clip_start=20, clip_end=90),
        theirs.most_similar("w0", clip_start=20, clip_end=90),
    )
    same(
        ours.most_similar("w50", clip_start=20, clip_end=90),  # the input inside the clip
        theirs.most_similar("w50", clip_start=20, clip_end=90),
    )


def test_most_similar_errors(kv):
    with pytest.raises(KeyError, match="nope"):
        kv.most_similar("nope")
    with pytest.raises(KeyError):
        kv.most_similar(positive=["w0"], negative=["nope"])
    with pytest.raises(ValueError, match="no input"):
        kv.most_similar()
    with pytest.raises(ValueError, match="shape"):
        kv.most_similar(positive=[np.ones(D + 1, np.float32)])


def test_indexer_is_used_as_in_gensim(kv):
    class Indexer:
        def most_similar(self, vector, topn):
            self.got = (vector.copy(), topn)
            return [("answer", 1.0)]

    ind = Indexer()
    assert kv.most_similar(positive=["w1", "w2"], topn=4, indexer=ind) == [("answer", 1.0)]
    expected = kv.get_mean_vector(["w1", "w2"], post_normalize=True)
    np.testing.assert_allclose(ind.got[0], expected, rtol=1e-6)
    assert ind.got[1] == 4


@pytest.mark.parametrize(
    "query",
    [
        dict(positive=["w0", "w1"], negative=["w2"]),
        dict(positive=["w0"]),
        dict(positive=["w0", "w1", "w3"]),
        dict(positive=["w0", "w5"], negative=["w2", "w7"], topn=5),
        dict(positive="w4", negative="w6"),
    ],
)
def test_most_similar_cosmul_matches_gensim(pair, query):
    ours, theirs = pair
    same(ours.most_similar_cosmul(**query), theirs.most_similar_cosmul(**query))
    query = dict(query, topn=None)
    np.testing.assert_allclose(
        ours.most_similar_cosmul(**query), theirs.most_similar_cosmul(**query), rtol=1e-5
    )


def test_most_similar_cosmul_formula(kv):
    """3CosMul by hand: (1+cos)/2 per term, product over positives over
    (product over negatives + 1e-6)."""
    unit = kv.get_normed_vectors().astype(np.float64)
    a, b, c = (kv.get_index(k) for k in ("w0", "w1", "w2"))
    s = (1 + unit @ unit.T) / 2
    expected = s[:, a] * s[:, b] / (s[:, c] + 1e-6)
    got = kv.most_similar_cosmul(positive=["w0", "w1"], negative=["w2"], topn=None)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    expected[[a, b, c]] = -np.inf
    top = [kv.index_to_key[i] for i in np.argsort(-expected)[:5]]
    assert [k for k, _ in kv.most_similar_cosmul(positive=["w0", "w1"], negative=["w2"], topn=5)] == top
    assert kv.most_similar_cosmul(positive=["w0"], topn=0) == []
    with pytest.raises(ValueError):
        kv.most_similar_cosmul(negative=["w0"])


def test_most_similar_cosmul_unit_vectors_match_gensim(pair):
    """gensim uses a vector input as it is; with a unit vector the two agree."""
    ours, theirs = pair
    v = ours.get_vector("w9", norm=True)
    same(
        ours.most_similar_cosmul(positive=["w0", v], negative=["w2"]),
        theirs.most_similar_cosmul(positive=["w0", v], negative=["w2"]),
    )


def test_most_similar_cosmul_normalises_vectors_and_honours_restrict_vocab(kv):
    """Deliberate differences from gensim 4.4 (which uses raw vectors as if
    unit length, and ignores restrict_vocab)."""
    v = kv["w9"]
    assert kv.most_similar_cosmul(positive=["w0", 7.0 * v], topn=5) == kv.most_similar_cosmul(
        positive=["w0", kv.get_vector("w9", norm=True)], topn=5
    )
    full = kv.most_similar_cosmul(positive=["w0", "w1"], negative=["w2"], topn=None)
    limited = kv.most_similar_cosmul(positive=["w0", "w1"], negative=["w2"], topn=None, restrict_vocab=30)
    np.testing.assert_allclose(limited, full[:30])
    got = kv.most_similar_cosmul(positive=["w0", "w1"], negative=["w2"], restrict_vocab=30, topn=50)
    assert len(got) == 27 and all(int(k[1:]) < 30 for k, _ in got)


def test_similar_by_word_key_vector_match_gensim(pair):
    ours, theirs = pair
    same(ours.similar_by_word("w3", topn=7), theirs.similar_by_word("w3", topn=7))
    same(
        ours.similar_by_key("w3", topn=7, restrict_vocab=60),
        theirs.similar_by_key("w3", topn=7, restrict_vocab=60),
    )
    v = ours["w44"] * 2.5
    same(ours.similar_by_vector(v, topn=6), theirs.similar_by_vector(v, topn=6))
    assert ours.similar_by_vector(v, topn=1)[0][0] == "w44"
    np.testing.assert_allclose(
        ours.similar_by_vector(v, topn=None), theirs.similar_by_vector(v, topn=None), atol=1e-6
    )


def test_doesnt_match_and_rank_by_centrality_match_gensim(pair):
    ours, theirs = pair
    rng = np.random.default_rng(3)
    for _ in range(20):
        words = [f"w{i}" for i in rng.choice(N, size=int(rng.integers(2, 8)), replace=False)]
        assert ours.doesnt_match(words) == theirs.doesnt_match(words)
        r_ours, r_theirs = ours.rank_by_centrality(words), theirs.rank_by_centrality(words)
        assert [w for _, w in r_ours] == [w for _, w in r_theirs]
        np.testing.assert_allclose([s for s, _ in r_ours], [s for s, _ in r_theirs], atol=1e-5)
    # missing words are skipped (gensim logs a warning), all missing raises
    assert ours.doesnt_match(["w1", "w2", "w3", "nope"]) == theirs.doesnt_match(["w1", "w2", "w3", "nope"])
    with pytest.raises(ValueError):
        ours.doesnt_match(["nope", "nada"])


def test_similarity_distance_n_similarity_match_gensim(pair):
    ours, theirs = pair
    for a, b in (("w0", "w1"), ("w5", "w5"), ("w10", "w150")):
        assert ours.similarity(a, b) == pytest.approx(float(theirs.similarity(a, b)), abs=1e-6)
        assert ours.distance(a, b) == pytest.approx(float(theirs.distance(a, b)), abs=1e-6)
    for ws1, ws2 in ((["w0", "w1"], ["w2"]), (["w3"], ["w3"]), (["w4", "w5", "w6"], ["w7", "w8"])):
        assert ours.n_similarity(ws1, ws2) == pytest.approx(float(theirs.n_similarity(ws1, ws2)), abs=1e-6)
    with pytest.raises(ZeroDivisionError):
        ours.n_similarity([], ["w1"])
    # a missing key is skipped, as gensim 4 does
    assert ours.n_similarity(["w1", "nope"], ["w2"]) == pytest.approx(ours.similarity("w1", "w2"), abs=1e-6)
    assert ours.n_similarity(["w1", "nope"], ["w2"]) == pytest.approx(
        float(theirs.n_similarity(["w1", "nope"], ["w2"])), abs=1e-6
    )
    assert ours.similarity("w5", "w5") == 1.0  # exactly, like distance("w5", "w5") == 0


def test_distances_match_gensim(pair):
    ours, theirs = pair
    np.testing.assert_allclose(ours.distances("w3"), theirs.distances("w3"), atol=1e-6)
    np.testing.assert_allclose(
        ours.distances("w3", ["w1", "w9", "w3"]), theirs.distances("w3", ["w1", "w9", "w3"]), atol=1e-6
    )
    v = ours["w8"] * 4.0
    np.testing.assert_allclose(ours.distances(v), theirs.distances(v), atol=1e-6)
    np.testing.assert_allclose(ours.distances(v, ("w2", "w8")), theirs.distances(v, ("w2", "w8")), atol=1e-6)
    assert ours.distances("w3")[3] == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(KeyError):
        ours.distances("w3", ["nope"])
    keys, vectors = make_arrays()
    np.testing.assert_allclose(
        KeyedVectors.cosine_similarities(vectors[0], vectors[:5]),
        type(theirs).cosine_similarities(vectors[0], vectors[:5]),
        rtol=1e-6,
    )


def test_rank_closer_than_match_gensim(pair):
    ours, theirs = pair
    for a, b in (("w0", "w1"), ("w2", "w100"), ("w7", "w7")):
        assert ours.closer_than(a, b) == theirs.closer_than(a, b)
        assert ours.rank(a, b) == theirs.rank(a, b)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            assert ours.words_closer_than(a, b) == theirs.words_closer_than(a, b)
    # rank by hand: the nearest neighbour has rank 1
    nearest = ours.most_similar("w0", topn=1)[0][0]
    assert ours.rank("w0", nearest) == 1
    assert ours.closer_than("w0", nearest) == []
    assert ours.rank("w0", ours.most_similar("w0", topn=5)[-1][0]) == 5


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(pre_normalize=False),
        dict(post_normalize=True),
        dict(weights=[1.0, -2.0, 0.5]),
        dict(weights=np.array([0.1, 0.2, 0.3]), pre_normalize=False, post_normalize=True),
    ],
)
def test_get_mean_vector_matches_gensim(pair, kwargs):
    ours, theirs = pair
    keys = ["w1", "w20", "w3"]
    np.testing.assert_allclose(
        ours.get_mean_vector(keys, **kwargs), theirs.get_mean_vector(keys, **kwargs), rtol=1e-5, atol=1e-7
    )
    v = ours["w4"] * 2.0
    np.testing.assert_allclose(
        ours.get_mean_vector(["w1", v, "missing"], **{k: x for k, x in kwargs.items() if k != "weights"}),
        theirs.get_mean_vector(["w1", v, "missing"], **{k: x for k, x in kwargs.items() if k != "weights"}),
        rtol=1e-5,
        atol=1e-7,
    )


def test_get_mean_vector_errors(kv):
    with pytest.raises(KeyError):
        kv.get_mean_vector(["w1", "nope"], ignore_missing=False)
    with pytest.raises(ValueError):
        kv.get_mean_vector([])
    with pytest.raises(ValueError):
        kv.get_mean_vector(["w1", "w2"], weights=[1.0])


def test_unit_normalize_all_and_fill_norms_match_gensim(pair):
    ours, theirs = pair
    ours.fill_norms()
    theirs.fill_norms()
    np.testing.assert_allclose(ours.norms, theirs.norms, rtol=1e-6)
    ours.unit_normalize_all()
    theirs.unit_normalize_all()
    np.testing.assert_allclose(ours.vectors, theirs.vectors, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(ours.vectors, axis=1), 1.0, rtol=1e-6)
    same(ours.most_similar("w0"), theirs.most_similar("w0"))


def test_contains_len_repr(kv):
    assert len(kv) == N
    assert "w0" in kv and "nope" not in kv and ["w0"] not in kv
    assert 5 in kv and N not in kv  # int row numbers, as gensim
    assert repr(kv) == f"KeyedVectors<vector_size={D}, {N} keys>"


def test_get_vector_is_read_only_view(kv):
    v = kv.get_vector("w1")
    assert np.shares_memory(v, kv.vectors)
    with pytest.raises(ValueError):
        v[0] = 1.0
    u = kv.get_vector("w1", norm=True)
    assert not np.shares_memory(u, kv.vectors)
    assert np.linalg.norm(u) == pytest.approx(1.0, rel=1e-6)


# ---- mutation ---------------------------------------------------------------------------------


def test_add_vectors_matches_gensim_and_refreshes_norms(pair):
    ours, theirs = pair
    ours.most_similar("w0")  # fill the norms cache before growing
    rng = np.random.default_rng(9)
    new = rng.standard_normal((3, D)).astype(np.float32)
    new_keys = ["x0", "w1", "x2"]  # w1 exists: kept unless replace
    ours.add_vectors(new_keys, new)
    theirs.add_vectors(new_keys, new)
    assert ours.index_to_key == list(theirs.index_to_key)
    np.testing.assert_array_equal(ours.vectors, theirs.vectors)
    same(ours.most_similar("x0"), theirs.most_similar("x0"))
    same(ours.most_similar(positive=[new[2]], topn=3), theirs.most_similar(positive=[new[2]], topn=3))
    ours.add_vectors(["w1"], new[1:2], replace=True)
    theirs.add_vectors(["w1"], new[1:2], replace=True)
    np.testing.assert_array_equal(ours["w1"], theirs["w1"])
    same(ours.most_similar("w1"), theirs.most_similar("w1"))  # stale norms would break this


def test_add_vector_and_setitem(kv):
    kv.set_vecattr("w0", "count", 7)
    v = np.arange(D, dtype=np.float64)
    i = kv.add_vector("new", v)
    assert i == N and kv.index_to_key[i] == "new" and kv.get_index("new") == i
    assert kv.vectors.dtype == np.float32 and len(kv) == N + 1
    np.testing.assert_array_equal(kv["new"], v.astype(np.float32))
    assert kv.get_vecattr("new", "count") == 0 and kv.get_vecattr("w0", "count") == 7
    assert kv.add_vector("new", np.zeros(D)) == i  # present: index, vector kept
    np.testing.assert_array_equal(kv["new"], v.astype(np.float32))
    kv["new"] = np.ones(D)
    np.testing.assert_array_equal(kv["new"], np.ones(D, np.float32))
    kv[["a", "b"]] = np.full((2, D), 2.0)
    assert kv.index_to_key[-2:] == ["a", "b"]
    assert kv.most_similar(positive=[np.ones(D)], topn=3)[0][1] == pytest.approx(1.0)
    kv.add_vectors(["c"], np.ones((1, D)), extras={"count": np.array([42])})
    assert kv.get_vecattr("c", "count") == 42
    with pytest.raises(ValueError):
        kv.add_vectors(["d"], np.ones((1, D + 1)))
    with pytest.raises(ValueError):
        kv.add_vectors(["d", "d"], np.ones((2, D)))


def test_add_to_empty_keyedvectors():
    kv = KeyedVectors(3)
    assert len(kv) == 0
    kv.add_vectors(["a", "b", "c"], np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 0, 1]], np.float32))
    assert kv.most_similar("a", topn=1)[0][0] == "b"


def test_norms_reset_after_in_place_change(kv):
    before = kv.most_similar("w0", topn=3)
    kv.vectors[int(before[0][0][1:])] *= -1  # flip the nearest neighbour
    kv.norms = None
    assert kv.most_similar("w0", topn=3)[0][0] != before[0][0]
    kv.fill_norms(force=True)
    np.testing.assert_allclose(kv.norms, np.linalg.norm(kv.vectors, axis=1), rtol=1e-6)


def test_zero_vector_is_harmless():
    """A zero vector has cosine 0 with everything (gensim: NaN)."""
    kv = KeyedVectors.from_arrays(["a", "b", "zero"], np.array([[1, 0], [0.8, 0.6], [0, 0]], np.float32))
    assert kv.similarity("a", "zero") == 0.0
    np.testing.assert_array_equal(kv.get_vector("zero", norm=True), [0, 0])
    assert [k for k, _ in kv.most_similar("a")] == ["b", "zero"]
    assert np.isfinite(kv.most_similar_cosmul(positive=["a"], topn=None)).all()
    assert np.isfinite(kv.distances("zero")).all()
    kv.unit_normalize_all()
    np.testing.assert_array_equal(kv["zero"], [0, 0])


def test_memory_mapped_like_read_only_vectors():
    keys, vectors = make_arrays(n=20)
    vectors.setflags(write=False)
    kv = KeyedVectors.from_arrays(keys, vectors)
    assert kv.most_similar("w1", topn=2)
    kv.unit_normalize_all()  # replaced by a normalised copy
    np.testing.assert_allclose(np.linalg.norm(kv.vectors, axis=1), 1.0, rtol=1e-6)
    kv2 = KeyedVectors.from_arrays(keys, vectors)
    kv2["w1"] = np.ones(D)
    np.testing.assert_array_equal(kv2["w1"], np.ones(D))


# ---- threads ----------------------------------------------------------------------------------


def test_concurrent_queries_match_single_thread():
    """8 threads x 60 queries each on a fresh object (the norms cache is
    built while they race) give exactly the single-threaded answers."""
    keys, vectors = make_arrays(seed=5, n=3000, dim=32)
    rng = np.random.default_rng(1)
    queries = [
        ([keys[i] for i in rng.choice(3000, 2, replace=False)], [keys[int(rng.integers(3000))]])
        for _ in range(60)
    ]
    reference = KeyedVectors.from_arrays(keys, vectors)
    expected = [reference.most_similar(positive=p, negative=n, topn=10) for p, n in queries]
    expected_mul = [reference.most_similar_cosmul(positive=p, negative=n, topn=5) for p, n in queries[:10]]

    for _ in range(3):
        kv = KeyedVectors.from_arrays(keys, vectors)
        barrier = threading.Barrier(8)
        results: list = [None] * 8
        errors: list = []

        def work(t):
            try:
                barrier.wait()
                order = list(range(len(queries)))[t % 3 : :] + list(range(len(queries)))[: t % 3]
                got = {}
                for q in order:
                    got[q] = kv.most_similar(positive=queries[q][0], negative=queries[q][1], topn=10)
                mul = [kv.most_similar_cosmul(positive=p, negative=n, topn=5) for p, n in queries[:10]]
                results[t] = ([got[q] for q in range(len(queries))], mul)
            except BaseException as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        for got, mul in results:
            assert got == expected
            assert mul == expected_mul
