"""sgns.gensim: gensim 4.4's names, defaults and semantics over sgns.

Where gensim is installed, answers are compared with gensim's own on the
same weights; every test fails when the feature it names is removed.
"""

from __future__ import annotations

import copy
import gzip
import inspect
import logging
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import child_env

import sgns
import sgns.gensim as sg
from sgns import formats

gensim = pytest.importorskip("gensim")
from gensim.models import keyedvectors as g_kv  # noqa: E402
from gensim.models import word2vec as g_w2v  # noqa: E402

TEXTS = [
    ["human", "interface", "computer"],
    ["survey", "user", "computer", "system", "response", "time"],
    ["eps", "user", "interface", "system"],
    ["system", "human", "system", "eps"],
    ["user", "response", "time"],
    ["trees"],
    ["graph", "trees"],
    ["graph", "minors", "trees"],
    ["graph", "minors", "survey"],
]


def small_model(**kw) -> sg.Word2Vec:
    params = {"vector_size": 8, "min_count": 1, "workers": 1, "seed": 3, "epochs": 3, "sample": 0}
    params.update(kw)
    return sg.Word2Vec(TEXTS, **params)


# ---- signatures and defaults -----------------------------------------------------------------


def _names(fn) -> list[str]:
    return [p for p in inspect.signature(fn).parameters if p not in ("self", "cls", "kwargs", "args")]


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (sg.Word2Vec.__init__, g_w2v.Word2Vec.__init__),
        (sg.Word2Vec.train, g_w2v.Word2Vec.train),
        (sg.Word2Vec.build_vocab, g_w2v.Word2Vec.build_vocab),
        (sg.Word2Vec.build_vocab_from_freq, g_w2v.Word2Vec.build_vocab_from_freq),
        (sg.Word2Vec.scan_vocab, g_w2v.Word2Vec.scan_vocab),
        (sg.Word2Vec.prepare_vocab, g_w2v.Word2Vec.prepare_vocab),
        (sg.Word2Vec.predict_output_word, g_w2v.Word2Vec.predict_output_word),
        (sg.Word2Vec.score, g_w2v.Word2Vec.score),
        (sg.KeyedVectors.most_similar, g_kv.KeyedVectors.most_similar),
        (sg.KeyedVectors.most_similar_cosmul, g_kv.KeyedVectors.most_similar_cosmul),
        (sg.KeyedVectors.load_word2vec_format.__func__, g_kv.KeyedVectors.load_word2vec_format.__func__),
        (sg.KeyedVectors.save_word2vec_format, g_kv.KeyedVectors.save_word2vec_format),
        (sg.KeyedVectors.evaluate_word_pairs, g_kv.KeyedVectors.evaluate_word_pairs),
        (sg.KeyedVectors.evaluate_word_analogies, g_kv.KeyedVectors.evaluate_word_analogies),
        (sg.KeyedVectors.vectors_for_all, g_kv.KeyedVectors.vectors_for_all),
        (sg.KeyedVectors.wmdistance, g_kv.KeyedVectors.wmdistance),
        (sg.LineSentence.__init__, g_w2v.LineSentence.__init__),
        (sg.PathLineSentences.__init__, g_w2v.PathLineSentences.__init__),
    ],
)
def test_parameters_in_gensims_positional_order(ours, theirs):
    assert _names(ours)[: len(_names(theirs))] == _names(theirs)


def test_defaults_are_gensims():
    ours = inspect.signature(sg.Word2Vec.__init__).parameters
    theirs = inspect.signature(g_w2v.Word2Vec.__init__).parameters
    for name, p in theirs.items():
        if name != "self":
            assert ours[name].default == p.default, name
    model = sg.Word2Vec()
    assert (model.sg, model.workers, model.hs, model.negative) == (0, 3, 0, 5)
    assert sgns.Word2Vec().sg == 1  # sgns keeps its own default


# ---- vector files ------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix, magic", [(".gz", b"\x1f\x8b"), (".bz2", b"BZh")])
@pytest.mark.parametrize("binary", [True, False])
def test_compressed_vector_files_by_name(tmp_path, suffix, magic, binary):
    kv = small_model().wv
    path = tmp_path / f"v.bin{suffix}"
    kv.save_word2vec_format(path, binary=binary)
    assert path.read_bytes()[: len(magic)] == magic
    back = sg.KeyedVectors.load_word2vec_format(path, binary=binary)
    assert back.index_to_key == kv.index_to_key
    assert np.array_equal(back.vectors, kv.vectors)  # every float32 digit, also in text
    theirs = g_kv.KeyedVectors.load_word2vec_format(str(path), binary=binary)
    assert np.array_equal(theirs.vectors, kv.vectors)


def test_gensims_compressed_file_loads(tmp_path):
    kv = small_model().wv
    theirs = g_kv.KeyedVectors(kv.vector_size)
    theirs.add_vectors(kv.index_to_key, kv.vectors)
    path = tmp_path / "g.bin.gz"
    theirs.save_word2vec_format(str(path), binary=True)
    back = sgns.KeyedVectors.load_word2vec_format(path, binary=True)
    assert np.array_equal(back.vectors, kv.vectors)


def test_truncated_compressed_file_is_a_format_error_and_eoferror(tmp_path):
    kv = small_model().wv
    full = tmp_path / "full.bin"
    kv.save_word2vec_format(full, binary=True)
    cut = tmp_path / "cut.bin.gz"
    cut.write_bytes(gzip.compress(full.read_bytes()[:-40]))
    with pytest.raises(formats.TruncatedFileError) as e:
        sgns.KeyedVectors.load_word2vec_format(cut, binary=True)
    assert isinstance(e.value, EOFError) and isinstance(e.value, sgns.FormatError)
    bad = tmp_path / "bad.bin.bz2"
    bad.write_bytes(b"BZh9 not really")
    with pytest.raises(sgns.FormatError, match="decompress"):
        sgns.KeyedVectors.load_word2vec_format(bad, binary=True)


def test_no_header_write_header_prefix_total_vec(tmp_path):
    kv = small_model().wv
    glove = tmp_path / "glove.txt"
    kv.save_word2vec_format(glove, write_header=False)
    assert glove.read_text().split("\n", 1)[0].split()[0] == kv.index_to_key[0]
    back = sg.KeyedVectors.load_word2vec_format(glove, no_header=True)
    assert back.index_to_key == kv.index_to_key and np.array_equal(back.vectors, kv.vectors)
    assert len(sg.KeyedVectors.load_word2vec_format(glove, no_header=True, limit=3)) == 3
    with pytest.raises(NotImplementedError):
        sg.KeyedVectors.load_word2vec_format(glove, binary=True, no_header=True)
    pre = tmp_path / "pre.txt"
    kv.save_word2vec_format(pre, prefix="w_", total_vec=99)
    assert pre.read_text().startswith(f"99 {kv.vector_size}\nw_{kv.index_to_key[0]} ")


def test_append_builds_one_file(tmp_path):
    kv = small_model().wv
    half = len(kv) // 2
    first = kv.vectors_for_all(kv.index_to_key[:half], copy_vecattrs=True)
    second = kv.vectors_for_all(kv.index_to_key[half:], copy_vecattrs=True)
    path = tmp_path / "joined.bin.gz"
    first.save_word2vec_format(path, binary=True, total_vec=len(kv))
    second.save_word2vec_format(path, binary=True, write_header=False, append=True)
    back = sgns.KeyedVectors.load_word2vec_format(path, binary=True)
    assert back.index_to_key == first.index_to_key + second.index_to_key
    assert np.array_equal(back.vectors, np.vstack([first.vectors, second.vectors]))


def test_fvocab_and_sort_attr(tmp_path):
    kv = small_model().wv
    kv.set_vecattr(kv.index_to_key[-1], "rank", 100)  # others 0: this key sorts first
    vec, voc = tmp_path / "v.txt", tmp_path / "v.vocab"
    kv.save_word2vec_format(vec, fvocab=voc, sort_attr="rank")
    back = sgns.KeyedVectors.load_word2vec_format(vec)
    assert back.index_to_key[0] == kv.index_to_key[-1]
    assert voc.read_text().splitlines()[0] == f"{kv.index_to_key[-1]} 100"
    kv.save_word2vec_format(vec, fvocab=voc)  # by count
    back = sg.KeyedVectors.load_word2vec_format(vec, voc)
    assert [back.get_vecattr(k, "count") for k in back.index_to_key] == list(kv.expandos["count"])
    with pytest.raises(ValueError, match="no per-key attribute"):
        kv.save_word2vec_format(vec, fvocab=voc, sort_attr="nothing")


def test_undecodable_word_is_gensims_unicode_error(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"1 2\n\xff\xfe 1.0 2.0\n")
    with pytest.raises(UnicodeDecodeError) as e:
        sg.KeyedVectors.load_word2vec_format(path)
    assert isinstance(e.value, sgns.FormatError) and "line 2" in str(e.value)
    assert sg.KeyedVectors.load_word2vec_format(path, unicode_errors="replace").index_to_key == [
        "\ufffd\ufffd"
    ]


def test_made_up_counts_without_fvocab(tmp_path):
    kv = small_model().wv
    path = tmp_path / "v.bin"
    kv.save_word2vec_format(path, binary=True)
    back = sgns.KeyedVectors.load_word2vec_format(path, binary=True)
    theirs = g_kv.KeyedVectors.load_word2vec_format(str(path), binary=True)
    assert [back.get_vecattr(k, "count") for k in back.index_to_key] == [
        theirs.get_vecattr(k, "count") for k in theirs.index_to_key
    ]


# ---- pickle and deepcopy --------------------------------------------------------------------


@pytest.mark.parametrize("cls", [sgns.Word2Vec, sg.Word2Vec])
def test_pickle_and_deepcopy(cls):
    model = cls(TEXTS, vector_size=8, min_count=1, workers=1, epochs=2)
    model.wv.most_similar("graph")  # fills the norms cache
    for other in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert type(other) is cls and other.wv is not model.wv
        assert np.array_equal(other.wv.vectors, model.wv.vectors)
        assert other.wv.most_similar("graph") == model.wv.most_similar("graph")
        other.train(TEXTS, total_examples=len(TEXTS), epochs=1)
        assert not np.array_equal(other.wv.vectors, model.wv.vectors)
    kv = pickle.loads(pickle.dumps(model.wv))
    assert kv.index_to_key == model.wv.index_to_key and kv.norms is None


# ---- training semantics ---------------------------------------------------------------------


def test_train_schedule_follows_total_examples_and_returns_gensims_counts():
    model = sg.Word2Vec(vector_size=8, min_count=1, workers=1, sample=0)
    model.build_vocab(TEXTS)
    tokens = sum(map(len, TEXTS))
    effective, raw = model.train(TEXTS, total_examples=len(TEXTS), epochs=2)
    assert (effective, raw) == (2 * tokens, 2 * tokens)  # sample=0: every word is trained
    assert model.total_train_words == 2 * tokens
    model.train(TEXTS, total_examples=2 * len(TEXTS), epochs=1)  # the schedule spans twice the corpus
    assert model.total_train_words == 2 * tokens
    model.train(TEXTS[:3], total_words=tokens // 2, epochs=1)  # raw tokens, as gensim counts them
    assert model.total_train_words == tokens // 2
    with pytest.raises(ValueError, match="epochs"):
        model.train(TEXTS, total_examples=len(TEXTS))
    with pytest.raises(ValueError, match="total_examples"):
        model.train(TEXTS, epochs=1)


def test_effective_words_count_subsampling():
    model = sg.Word2Vec(vector_size=8, min_count=1, workers=1, sample=1e-3)
    model.build_vocab(TEXTS * 50)
    effective, raw = model.train(TEXTS * 50, total_examples=model.corpus_count, epochs=1)
    assert raw == model.corpus_total_words and 0 < effective < raw


def test_loss_accumulates_over_one_train_call():
    deltas, previous = [], [0.0]

    class Delta:
        def on_epoch_end(self, model):
            deltas.append(model.get_latest_training_loss() - previous[0])
            previous[0] = model.get_latest_training_loss()

    model = sg.Word2Vec(vector_size=8, min_count=1, workers=1, epochs=4, compute_loss=True)
    model.build_vocab(TEXTS)
    model.train(TEXTS, total_examples=len(TEXTS), epochs=4, compute_loss=True, callbacks=[Delta()])
    assert model.running_training_loss == pytest.approx(sum(r.loss for r in model.epoch_reports[-4:]))
    assert model.get_latest_training_loss() == model.running_training_loss > 0
    first = model.running_training_loss
    model.train(TEXTS, total_examples=len(TEXTS), epochs=1, compute_loss=True)
    assert model.get_latest_training_loss() < first  # reset by each train() call
    assert model.min_alpha_yet_reached == model.min_alpha


def test_alpha_rising_again_is_warned(caplog):
    model = small_model()
    model.alpha = 0.05
    with caplog.at_level(logging.WARNING):
        model.train(TEXTS, total_examples=len(TEXTS), epochs=1)
    assert "higher than previous training cycles" in caplog.text


def test_wv_stays_the_same_object():
    model = sg.Word2Vec(vector_size=8, min_count=1, workers=1)
    wv = model.wv
    model.build_vocab(TEXTS)
    model.train(TEXTS, total_examples=len(TEXTS), epochs=1)
    assert model.wv is wv and len(wv) == 12 and wv.vectors.any()
    core = sgns.Word2Vec(vector_size=8, min_count=1, workers=1)
    wv = core.wv
    core.build_vocab(TEXTS)
    assert core.wv is wv and len(wv) == 12


def test_shrink_windows_false_trains_differently():
    a = small_model(shrink_windows=True, window=4)
    b = small_model(shrink_windows=False, window=4)
    c = small_model(shrink_windows=False, window=4)
    assert not np.array_equal(a.wv.vectors, b.wv.vectors)
    assert np.array_equal(b.wv.vectors, c.wv.vectors)


def test_vectors_lockf_freezes_words():
    model = sg.Word2Vec(vector_size=8, min_count=1, workers=1, sg=1, sample=0)
    model.build_vocab(TEXTS)
    start = model.wv.vectors.copy()
    model.wv.vectors_lockf = np.ones(len(model.wv), dtype=np.float32)
    model.wv.vectors_lockf[[0, 3]] = 0.0
    model.train(TEXTS, total_examples=len(TEXTS), epochs=5)
    assert np.array_equal(model.wv.vectors[[0, 3]], start[[0, 3]])
    assert not np.array_equal(model.wv.vectors[1], start[1])
    free = sg.Word2Vec(vector_size=8, min_count=1, workers=1, sg=1, sample=0)
    free.build_vocab(TEXTS)
    free.wv.vectors_lockf = np.ones(len(free.wv), dtype=np.float32)  # all 1: the ordinary update
    free.train(TEXTS, total_examples=len(TEXTS), epochs=5)
    plain = sg.Word2Vec(vector_size=8, min_count=1, workers=1, sg=1, sample=0)
    plain.build_vocab(TEXTS)
    plain.train(TEXTS, total_examples=len(TEXTS), epochs=5)
    assert np.array_equal(free.wv.vectors, plain.wv.vectors)


# ---- vocabulary -------------------------------------------------------------------------------


def test_trim_rule_keep_raw_vocab_null_word_sorted_vocab():
    def rule(word, count, min_count):
        return sg.RULE_DISCARD if word == "system" else sg.RULE_DEFAULT

    model = sg.Word2Vec(TEXTS, min_count=1, trim_rule=rule, vector_size=8)
    assert "system" not in model.wv and "graph" in model.wv

    def keep(word, count, min_count):
        return sg.RULE_KEEP if word == "minors" else sg.RULE_DEFAULT

    model = sg.Word2Vec(vector_size=8, min_count=3)
    model.build_vocab(TEXTS, trim_rule=keep, keep_raw_vocab=True)
    assert "minors" in model.wv and "trees" in model.wv and "eps" not in model.wv
    assert model.raw_vocab["eps"] == 2
    model = sg.Word2Vec(TEXTS, min_count=1, null_word=1, vector_size=8)
    assert "\0" in model.wv and model.wv.get_vecattr("\0", "count") == 1
    model = sg.Word2Vec(TEXTS, min_count=1, sorted_vocab=0, vector_size=8)
    assert model.wv.index_to_key[:3] == ["human", "interface", "computer"]


def test_scan_prepare_and_from_freq_match_gensim():
    for max_final_vocab, min_count in ((4, 2), (None, 3)):
        ours = sg.Word2Vec(vector_size=8, max_final_vocab=max_final_vocab, min_count=min_count, sample=1e-2)
        theirs = g_w2v.Word2Vec(
            vector_size=8, max_final_vocab=max_final_vocab, min_count=min_count, sample=1e-2
        )
        assert ours.scan_vocab(TEXTS) == theirs.scan_vocab(TEXTS)
        assert ours.prepare_vocab() == theirs.prepare_vocab()
        assert ours.wv.index_to_key == theirs.wv.index_to_key
    freq = {"a": 5, "b": 3, "c": 1}
    ours, theirs = sg.Word2Vec(vector_size=4, min_count=2), g_w2v.Word2Vec(vector_size=4, min_count=2)
    ours.build_vocab_from_freq(freq, corpus_count=7)
    theirs.build_vocab_from_freq(freq, corpus_count=7)
    assert ours.wv.index_to_key == theirs.wv.index_to_key and ours.corpus_count == 7


def test_empty_vocabulary_fails_at_train_as_in_gensim():
    with pytest.raises(RuntimeError, match="build vocabulary"):
        sg.Word2Vec(TEXTS, min_count=100)


def test_string_sentences_are_characters_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        model = sg.Word2Vec(["abc", "abd"], min_count=1, vector_size=4)
    assert sorted(model.wv.index_to_key) == ["a", "b", "c", "d"]
    assert "should be a list of words" in caplog.text
    with pytest.raises(TypeError):
        sgns.Word2Vec(["abc", "abd"], min_count=1)  # sgns itself refuses


def test_cum_table_layer1_effective_min_count_estimate_memory_reset_from():
    ours = small_model(min_count=2)
    theirs = g_w2v.Word2Vec(TEXTS, vector_size=8, min_count=2, workers=1)
    assert ours.wv.index_to_key == theirs.wv.index_to_key
    assert np.abs(ours.cum_table.astype(np.int64) - theirs.cum_table.astype(np.int64)).max() <= 1
    assert ours.layer1_size == 8 and ours.effective_min_count == 2
    memory = ours.estimate_memory()
    assert memory["vectors"] == 4 * 8 * len(ours.wv) and memory["total"] == sum(
        v for k, v in memory.items() if k != "total"
    )
    other = sg.Word2Vec([["x", "y"], ["y", "z"]], min_count=1, vector_size=8)
    ours.reset_from(other)
    assert ours.wv.index_to_key == other.wv.index_to_key and ours.wv is not other.wv


def test_init_sims_is_deprecated_but_works():
    model = small_model()
    with pytest.warns(DeprecationWarning):
        model.init_sims(replace=True)
    assert np.allclose(np.linalg.norm(model.wv.vectors, axis=1), 1.0)


# ---- the output layer -------------------------------------------------------------------------


def _gensim_copy(model: sg.Word2Vec) -> g_w2v.Word2Vec:
    """A gensim model over the same corpus (so the same vocabulary order)
    holding our model's weights."""
    theirs = g_w2v.Word2Vec(
        vector_size=model.vector_size, min_count=model.min_count, hs=model.hs, negative=model.negative,
        sg=model.sg, window=model.window, cbow_mean=model.cbow_mean,
    )  # fmt: skip
    theirs.build_vocab(TEXTS)
    assert theirs.wv.index_to_key == model.wv.index_to_key
    theirs.wv.vectors[:] = model.wv.vectors
    if model.negative:
        theirs.syn1neg[:] = model.syn1neg
    return theirs


@pytest.mark.parametrize("cbow_mean", [0, 1])
def test_predict_output_word_matches_gensim(cbow_mean):
    model = small_model(negative=5, cbow_mean=cbow_mean)
    theirs = _gensim_copy(model)
    ours = model.predict_output_word(["system", "human"], topn=4)
    expected = theirs.predict_output_word(["system", "human"], topn=4)
    assert [w for w, _ in ours] == [w for w, _ in expected]
    assert np.allclose([p for _, p in ours], [p for _, p in expected], rtol=1e-4)
    assert model.predict_output_word(["nothing", "known"]) is None
    with pytest.raises(RuntimeError):
        small_model(hs=1, negative=0).predict_output_word(["system"])


def _reference_score(model, sentence) -> float:
    """log p of a sentence under hierarchical softmax, in float64, from the
    tree and weights (skip-gram: each word from each neighbour; CBOW: each
    word from its window's mean)."""
    ids = [model.wv.key_to_index[w] for w in sentence if w in model.wv.key_to_index]
    offsets, points, codes = model.huffman_tree()
    total = 0.0
    for i, word in enumerate(ids):
        path = range(offsets[word], offsets[word + 1])
        near = [
            ids[j] for j in range(max(0, i - model.window), min(len(ids), i + model.window + 1)) if j != i
        ]
        inputs = (
            [model.wv.vectors[j].astype(np.float64) for j in near]
            if model.sg
            else [
                np.mean([model.wv.vectors[j] for j in near], axis=0) if near else np.zeros(model.vector_size)
            ]
        )
        for v in inputs:
            for p in path:
                f = (1 - 2 * int(codes[p])) * float(v @ model.syn1[points[p]])
                total += -np.logaddexp(0.0, -f)
    return total


@pytest.mark.parametrize("sg_flag", [0, 1])
def test_score_is_the_log_probability_under_the_tree(tmp_path, sg_flag):
    theirs = g_w2v.Word2Vec(TEXTS, vector_size=8, min_count=1, hs=1, negative=0, sg=sg_flag, workers=1)
    path = tmp_path / "g.model"
    theirs.save(str(path))
    ours = sg.Word2Vec.load(path)  # gensim's weights and tree
    scores = ours.score(TEXTS, total_sentences=len(TEXTS))
    expected = [_reference_score(ours, s) for s in TEXTS]
    assert np.allclose(scores, expected, rtol=1e-5, atol=1e-5)
    # gensim reads log sigmoid from a 1000-entry table and skips |x| >= 6: close, not equal
    assert np.allclose(scores, theirs.score(TEXTS, total_sentences=len(TEXTS)), rtol=0.05, atol=0.2)
    assert len(ours.score(TEXTS, total_sentences=4)) == 4
    with pytest.raises(RuntimeError):
        small_model(hs=0).score(TEXTS)


# ---- migration from gensim's save() ------------------------------------------------------------


@pytest.mark.parametrize("hs, negative", [(0, 5), (1, 0)])
def test_gensim_model_migrates_trains_and_saves_in_sgns_format(tmp_path, hs, negative):
    theirs = g_w2v.Word2Vec(TEXTS, vector_size=8, min_count=1, hs=hs, negative=negative, workers=1, epochs=3)
    path = tmp_path / "g.model"
    theirs.save(str(path))
    ours = sg.Word2Vec.load(path)
    assert type(ours) is sg.Word2Vec and ours.wv.index_to_key == theirs.wv.index_to_key
    assert np.array_equal(ours.wv.vectors, theirs.wv.vectors)
    assert (ours.hs, ours.negative, ours.sg, ours.epochs) == (hs, negative, 0, 3)
    if negative:
        assert np.array_equal(ours.syn1neg, theirs.syn1neg)
    else:
        assert np.array_equal(ours.syn1, theirs.syn1)
        assert list(ours.wv.get_vecattr("system", "code")) == list(theirs.wv.get_vecattr("system", "code"))
    ours.build_vocab([["brand", "new", "words", "system"]] * 5, update=True)
    ours.train([["brand", "new", "words", "system"]] * 5, total_examples=5, epochs=1)
    out = tmp_path / "sgns.model"
    ours.save(out)
    with open(out, "rb") as f:
        assert f.read(8) == b"\x89SGNS\r\n\x1a"
    back = sg.Word2Vec.load(out)
    assert np.array_equal(back.wv.vectors, ours.wv.vectors) and "brand" in back.wv
    if hs:  # the tree is stored: syn1's rows keep their meaning after a round trip
        assert all(np.array_equal(a, b) for a, b in zip(back.huffman_tree(), ours.huffman_tree()))


def test_gensim_keyed_vectors_migrate(tmp_path):
    theirs = g_w2v.Word2Vec(TEXTS, vector_size=8, min_count=1, workers=1).wv
    path = tmp_path / "g.kv"
    theirs.save(str(path))
    ours = sg.KeyedVectors.load(path)
    assert ours.index_to_key == theirs.index_to_key and np.array_equal(ours.vectors, theirs.vectors)
    assert ours.get_vecattr("system", "count") == theirs.get_vecattr("system", "count")
    with pytest.raises(sgns.FormatError, match="sgns.gensim"):
        sgns.KeyedVectors.load(path)  # sgns itself never unpickles


def test_load_is_a_class_method_only(tmp_path):
    model = small_model()
    model.save(tmp_path / "m")
    with pytest.raises(AttributeError):
        model.load(tmp_path / "m")
    model.wv.save(tmp_path / "kv")
    with pytest.raises(AttributeError):  # gensim raises AttributeError for the wrong kind
        sg.Word2Vec.load(tmp_path / "kv")


def test_migration_without_gensim_says_so(tmp_path):
    theirs = g_w2v.Word2Vec(TEXTS, vector_size=8, min_count=1, workers=1)
    path = tmp_path / "g.model"
    theirs.save(str(path))
    code = (
        "import sys; sys.modules['gensim'] = None\n"
        "import sgns.gensim\n"
        "try:\n    sgns.gensim.Word2Vec.load(sys.argv[1])\n"
        "except ImportError as e:\n    print('ImportError:', e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        check=False,
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=tmp_path,
    )
    assert "ImportError:" in out.stdout and "pip install gensim" in out.stdout, out.stderr


# ---- beyond gensim: in+out vectors, projector ---------------------------------------------------


def test_in_plus_out_vectors(tmp_path):
    model = small_model(negative=5)
    path = tmp_path / "wc.txt"
    model.save_word2vec_format(path, vectors="in+out")
    back = sgns.KeyedVectors.load_word2vec_format(path)
    assert np.array_equal(back.vectors, model.wv.vectors + model.syn1neg)
    assert np.array_equal(model.keyed_vectors("out").vectors, model.syn1neg)
    with pytest.raises(ValueError, match="negative"):
        small_model(hs=1, negative=0).keyed_vectors("in+out")


def test_projector_export_python_and_cli(tmp_path):
    kv = small_model().wv
    tensor, metadata = kv.save_projector(tmp_path / "p_")
    rows = [line.split("\t") for line in Path(tensor).read_text().splitlines()]
    assert np.array_equal(np.array(rows, dtype=np.float32), kv.vectors)
    assert Path(metadata).read_text().splitlines() == kv.index_to_key
    vec = tmp_path / "v.bin"
    kv.save_word2vec_format(vec, binary=True)
    out = tmp_path / "out"
    out.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "sgns", "projector", str(vec), str(out)],
        check=False, capture_output=True, text=True, env=child_env(), cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (out / "metadata.tsv").read_text().splitlines() == kv.index_to_key
    bad = subprocess.run(
        [sys.executable, "-m", "sgns", "projector", str(vec)],
        check=False,
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=tmp_path,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("sgns: usage")


# ---- KeyedVectors additions -------------------------------------------------------------------


def test_keyed_vector_additions_match_gensim():
    model = small_model()
    theirs = _gensim_copy(model).wv
    kv = model.wv
    assert kv.n_similarity(["graph", "nope"], ["trees"]) == pytest.approx(
        float(theirs.n_similarity(["graph", "nope"], ["trees"])), abs=1e-6
    )
    assert kv.distance("graph", "graph") == 0.0
    assert np.array_equal(kv.word_vec("graph"), kv["graph"])
    sub = kv.vectors_for_all(["graph", "nope", "graph", "trees"])
    assert sub.index_to_key == ["graph", "trees"] and np.array_equal(sub["trees"], kv["trees"])
    pairs = kv.evaluate_word_pairs(_pairs_file(kv))
    assert pairs[0].statistic == pairs[0][0] and 0 <= pairs[1].pvalue <= 1


def _pairs_file(kv) -> str:
    import tempfile

    fd, path = tempfile.mkstemp(suffix=".tsv")
    with os.fdopen(fd, "w") as f:
        for a, b, s in (
            ("graph", "trees", 8),
            ("user", "system", 5),
            ("human", "eps", 1),
            ("time", "minors", 2),
        ):
            f.write(f"{a}\t{b}\t{s}\n")
    return path


def test_wmdistance_matches_gensim():
    pytest.importorskip("ot")
    model = small_model()
    theirs = _gensim_copy(model).wv
    d1, d2 = ["human", "interface", "computer"], ["survey", "user", "computer", "system", "response"]
    assert model.wv.wmdistance(d1, d2) == pytest.approx(theirs.wmdistance(d1, d2), rel=1e-5)
    assert model.wv.wmdistance(d1, ["nothing"]) == float("inf")


def test_sort_and_resize_vectors():
    kv = sgns.KeyedVectors.from_arrays(["a", "b", "c"], np.eye(3, dtype=np.float32), counts=[1, 5, 3])
    kv.sort_by_descending_frequency()
    assert kv.index_to_key == ["b", "c", "a"] and kv.get_index("c") == 1
    assert np.array_equal(kv["b"], [0, 1, 0])
    kv.index_to_key.append("d")
    kv.key_to_index["d"] = 3
    added = kv.resize_vectors(seed=1)
    assert kv.vectors.shape == (4, 3) and added.shape == (1, 3) and np.abs(kv["d"]).max() <= 1 / 3


def test_analogies_cosmul_scores(tmp_path):
    kv = sgns.KeyedVectors.from_arrays(
        ["a", "b", "c", "d", "e"],
        np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1], [1, 0, 1]], dtype=np.float32),
    )
    path = tmp_path / "q.txt"
    path.write_text(": s\na b c d\n")
    score, _ = kv.evaluate_word_analogies(path, similarity_function="most_similar_cosmul")
    expected = kv.most_similar_cosmul(positive=["b", "c"], negative=["a"], topn=1)[0][0] == "d"
    assert score == float(expected)
    with pytest.raises(ValueError, match="similarity_function"):
        kv.evaluate_word_analogies(path, similarity_function="nope")


# ---- corpus readers ---------------------------------------------------------------------------


def test_line_sentence_splits_like_str_split(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("a\u00a0b c\u3000d\ne\u2003f\n", encoding="utf-8")
    assert list(sg.LineSentence(path)) == [["a", "b", "c", "d"], ["e", "f"]]
    assert list(sgns.LineSentence(path)) == [["a\u00a0b", "c\u3000d"], ["e\u2003f"]]
    assert list(sg.PathLineSentences(path)) == [["a", "b", "c", "d"], ["e", "f"]]
    assert list(sg.Text8Corpus(path)) == [["a", "b", "c", "d", "e", "f"]]


def test_brown_corpus_matches_gensim(tmp_path):
    (tmp_path / "ca01").write_text("The/at Fulton/np-tl said/vbd ./. x/y/z\n\n ./.\nrun/vb-hl\n")
    (tmp_path / "ca02").write_text("no/tags here\nA/at b/nn\n")
    (tmp_path / "sub").mkdir()
    ours = list(sg.BrownCorpus(tmp_path))
    theirs = list(g_w2v.BrownCorpus(str(tmp_path)))
    assert sorted(map(tuple, ours)) == sorted(map(tuple, theirs))
    assert ours[0] == ["the/at", "fulton/np", "said/vb"]


def test_core_train_honours_total_examples():
    model = sgns.Word2Vec(TEXTS, vector_size=8, min_count=1, workers=1, sample=0, epochs=1)
    tokens = sum(map(len, TEXTS))
    model.train(TEXTS[:3], total_examples=3, epochs=2)
    assert model.total_train_words == 2 * round(3 * tokens / len(TEXTS))
    model.train(TEXTS, epochs=1)
    assert model.total_train_words == tokens


def test_vocabulary_and_initial_vectors_are_gensims():
    ours = sg.Word2Vec(vector_size=8, min_count=1, seed=7)
    ours.build_vocab(TEXTS)
    theirs = g_w2v.Word2Vec(vector_size=8, min_count=1, seed=7)
    theirs.build_vocab(TEXTS)
    assert ours.wv.index_to_key == theirs.wv.index_to_key
    assert np.array_equal(ours.wv.vectors, theirs.wv.vectors)


def test_cbow_sum_shares_the_error_as_gensim():
    def vectors(split: bool, cbow_mean: int):
        model = sg.Word2Vec(vector_size=8, min_count=1, workers=1, sg=0, sample=0, cbow_mean=cbow_mean)
        model.split_cbow_error = split  # False: word2vec.c's update, sgns.Word2Vec's
        model.build_vocab(TEXTS)
        model.train(TEXTS, total_examples=len(TEXTS), epochs=3)
        return model.wv.vectors

    assert sg.Word2Vec.split_cbow_error and not sgns.Word2Vec.split_cbow_error
    assert not np.array_equal(vectors(True, 0), vectors(False, 0))  # gensim: a 1/n share of a sum's error
    assert np.array_equal(vectors(True, 1), vectors(False, 1))  # means: the whole error in both


# ---- found by a user-flow review: callbacks, loss in callbacks, online train, settings ---------


def _lee_sentences():
    from gensim.test.utils import datapath

    return list(g_w2v.LineSentence(datapath("lee_background.cor")))


class _Events:
    """A gensim callback recording the events it sees, and the loss at each epoch's end."""

    def __init__(self):
        self.events: list[str] = []
        self.losses: list[float] = []

    def on_train_begin(self, model):
        self.events.append("train_begin")

    def on_epoch_begin(self, model):
        self.events.append("epoch_begin")

    def on_epoch_end(self, model):
        self.events.append("epoch_end")
        self.losses.append(model.get_latest_training_loss())

    def on_train_end(self, model):
        self.events.append("train_end")


@pytest.mark.parametrize("module", [g_w2v, sg])
def test_constructor_callbacks_run_once_and_not_in_later_train(module):
    """gensim's train() runs the callbacks given to it; the constructor gives
    its own to its train(). They ran twice here (the model's list and the
    argument), and again in every later train() without callbacks; the loss
    read in on_epoch_end was 0 (set only after train() returned)."""
    sentences = _lee_sentences()
    seen = _Events()
    model = module.Word2Vec(
        sentences, vector_size=16, min_count=2, epochs=3, compute_loss=True, callbacks=[seen]
    )
    assert seen.events == ["train_begin"] + ["epoch_begin", "epoch_end"] * 3 + ["train_end"]
    assert 0 < seen.losses[0] < seen.losses[1] < seen.losses[2]  # the call's loss so far
    model.train(sentences, total_examples=model.corpus_count, epochs=2)
    assert len(seen.events) == 8 and model.epochs == 2  # train(epochs=) is the model's setting now


@pytest.mark.parametrize("module", [g_w2v, sg])
def test_online_batch_without_vocabulary_words_trains_nothing(module):
    """gensim's Word2Vec docstring example: train() on a batch none of whose
    words is in the vocabulary returns (0, 2) (it raised ValueError here)."""
    from gensim.test.utils import common_texts

    model = module.Word2Vec(common_texts, vector_size=8, min_count=1)
    before = model.wv.vectors.copy()
    assert model.train([["hello", "world"]], total_examples=1, epochs=1) == (0, 2)
    assert np.array_equal(model.wv.vectors, before)


def test_boolean_flags_are_taken_as_gensim_takes_them():
    from gensim.test.utils import common_texts

    ours = sg.Word2Vec(
        common_texts, vector_size=8, min_count=1, sg=True, hs=True, negative=0, cbow_mean=False
    )
    theirs = g_w2v.Word2Vec(
        common_texts, vector_size=8, min_count=1, sg=True, hs=True, negative=0, cbow_mean=False
    )
    assert (ours.sg, ours.hs, ours.cbow_mean) == (1, 1, 0) == (theirs.sg, theirs.hs, theirs.cbow_mean)


def test_similarity_reads_the_rows_as_they_are_now():
    """gensim's similarity() normalises the current rows; with norms cached
    before a row was scaled in place it returned 9.9988 here."""
    keys = ["a", "b"]
    vectors = np.array([[1.0, 0.2], [0.9, 0.3]], dtype=np.float32)
    ours = sgns.KeyedVectors.from_arrays(keys, vectors.copy())
    theirs = g_kv.KeyedVectors(2)
    theirs.add_vectors(keys, vectors.copy())
    for kv in (ours, theirs):
        kv.fill_norms()
        kv.vectors[0] *= 10
    assert ours.similarity("a", "b") == pytest.approx(theirs.similarity("a", "b"), abs=1e-6)
    assert ours.similarity("a", "b") <= 1.0


def test_update_adds_counts_of_every_known_word_as_gensim():
    """gensim 4.4's build_vocab(update=True) adds the batch's counts to every
    word already known, whether or not the batch alone reaches min_count
    ("a" 20 -> 21 here; it stayed 20)."""
    counts = []
    for module in (g_w2v, sg):
        m = module.Word2Vec([["a", "b", "c", "a"]] * 10, min_count=5, vector_size=4, workers=1)
        m.build_vocab([["a", "x", "y", "y", "y", "y", "y"]], update=True)
        counts.append({w: int(m.wv.get_vecattr(w, "count")) for w in m.wv.index_to_key})
    assert counts[0] == counts[1] == {"a": 21, "b": 10, "c": 10, "y": 5}


def test_lifecycle_events_are_recorded():
    from gensim.test.utils import common_texts

    events = []
    for module in (g_w2v, sg):
        m = module.Word2Vec(common_texts, min_count=1, vector_size=4, workers=1)
        m.build_vocab([["new", "words"]], update=True)
        events.append([e["event"] for e in m.lifecycle_events if e["event"] != "prepare_vocab"])
        assert all("datetime" in e and "python" in e for e in m.lifecycle_events)
    assert events[0] == events[1] == ["build_vocab", "train", "train", "created", "build_vocab"]


def test_intersect_word2vec_format_starts_from_pretrained_rows(tmp_path):
    """gensim's pretrained-initialisation recipe: the shared keys take the
    file's vectors and lockf; training then leaves those rows (lockf 0.0)
    and moves the others. The merged rows equal gensim's."""
    from gensim.test.utils import common_texts

    rng = np.random.default_rng(0)
    pretrained = ["human", "computer", "zebra"]
    path = tmp_path / "pre.txt"
    formats.write_vectors(
        path, pretrained, rng.standard_normal((3, 8)).astype(np.float32), float_format="%.9g "
    )
    ours = sg.Word2Vec(common_texts, vector_size=8, min_count=1, workers=1, seed=1, sample=0)
    theirs = g_w2v.Word2Vec(common_texts, vector_size=8, min_count=1, workers=1, seed=1, sample=0)
    theirs.wv.vectors_lockf = np.ones(len(theirs.wv), dtype=np.float32)  # gensim's recipe needs one per word
    for m in (ours, theirs):
        m.wv.intersect_word2vec_format(str(path), lockf=0.0)
    for key in ("human", "computer"):
        assert np.array_equal(ours.wv[key], theirs.wv[key])
    assert ours.wv.vectors_lockf.tolist() == theirs.wv.vectors_lockf.tolist()
    frozen, free = ours.wv["human"].copy(), ours.wv["graph"].copy()
    ours.train(common_texts, total_examples=len(common_texts), epochs=5)
    assert np.array_equal(ours.wv["human"], frozen) and not np.array_equal(ours.wv["graph"], free)
    with pytest.raises(ValueError, match="incompatible vector size"):
        sg.Word2Vec(common_texts, vector_size=4, min_count=1).wv.intersect_word2vec_format(str(path))
