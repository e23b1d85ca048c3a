"""Full-softmax skip-gram (sgns.softmax): the gradient against finite
differences and an explicit per-pair loop, the reduced-window pairs, and
training on a planted-structure corpus."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sgns.softmax import SoftmaxSkipGram, batch_loss_and_grads, sgd_step, skipgram_pairs


def _problem(seed=0, b=5, v=7, d=4, scale=0.7):
    rng = np.random.default_rng(seed)
    vb = rng.normal(0, scale, (b, d))
    out = rng.normal(0, scale, (v, d))
    ctx = rng.integers(0, v, size=b)
    return vb, out, ctx


def _loss64(vb, out, ctx) -> float:
    """Summed cross-entropy, written independently (log-sum-exp per row)."""
    total = 0.0
    for row, c in zip(vb, ctx):
        logits = out @ row
        m = logits.max()
        total += m + math.log(np.exp(logits - m).sum()) - logits[c]
    return total


def test_gradient_matches_central_differences():
    vb, out, ctx = _problem()
    ctx[1] = ctx[0]  # a repeated target in the batch
    loss, grad_v, grad_out = batch_loss_and_grads(vb.copy(), out.copy(), ctx)
    assert loss == pytest.approx(_loss64(vb, out, ctx), rel=1e-13)
    eps = 1e-6
    for name, x, grad in (("v", vb, grad_v), ("U", out, grad_out)):
        numeric = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            old = x[idx]
            x[idx] = old + eps
            up = _loss64(vb, out, ctx)
            x[idx] = old - eps
            down = _loss64(vb, out, ctx)
            x[idx] = old
            numeric[idx] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grad, numeric, rtol=1e-7, atol=1e-9, err_msg=name)
    # Every output row gets a gradient (the full softmax), not only the targets.
    assert np.all(np.abs(grad_out).sum(axis=1) > 0)


def test_gradient_formula_equals_per_pair_loop():
    """(P - Y).T @ V_b and (P - Y) @ U against the per-pair chain rule,
    summed pair by pair. Equal to float64 rounding (1e-12): the matrix
    products add the same terms in a different order."""
    vb, out, ctx = _problem(seed=3, b=4, v=5, d=3)
    ctx[2] = ctx[0]
    loss, grad_v, grad_out = batch_loss_and_grads(vb.copy(), out.copy(), ctx)
    loop_loss, loop_v, loop_out = 0.0, np.zeros_like(vb), np.zeros_like(out)
    for b in range(len(vb)):
        logits = np.array([sum(vb[b, j] * out[k, j] for j in range(vb.shape[1])) for k in range(len(out))])
        p = np.exp(logits - logits.max())
        p /= p.sum()
        loop_loss += -math.log(p[ctx[b]])
        for k in range(len(out)):
            err = p[k] - (1.0 if k == ctx[b] else 0.0)
            loop_out[k] += err * vb[b]
            loop_v[b] += err * out[k]
    assert loss == pytest.approx(loop_loss, rel=1e-12)
    np.testing.assert_allclose(grad_v, loop_v, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grad_out, loop_out, rtol=1e-12, atol=1e-15)


def test_sgd_step_sums_repeated_centres_and_uses_old_weights():
    vb, out, ctx = _problem(seed=5, b=4, v=6, d=3)
    vin = vb[:3].copy()
    centres = np.array([0, 2, 0, 1])
    alpha = 0.1
    loss, grad_v, grad_out = batch_loss_and_grads(vin[centres], out.copy(), ctx)
    expect_in = vin.copy()
    for b, c in enumerate(centres):
        expect_in[c] -= alpha * grad_v[b]
    expect_out = out - alpha * grad_out
    w_in, w_out = vin.copy(), out.copy()
    assert sgd_step(w_in, w_out, centres, ctx, alpha) == pytest.approx(loss, rel=1e-14)
    np.testing.assert_allclose(w_in, expect_in, rtol=1e-14)
    np.testing.assert_allclose(w_out, expect_out, rtol=1e-14)


def test_pairs_follow_the_reduced_window():
    ids = np.array([0, 1, 2, 3, -1, 4, 5, -1, 6], dtype=np.int32)
    c, x = skipgram_pairs(ids, 1, np.random.default_rng(0))
    got = sorted(zip(c.tolist(), x.tolist()))
    assert got == sorted([(0, 1), (1, 0), (1, 2), (2, 1), (2, 3), (3, 2), (4, 5), (5, 4)])

    rng = np.random.default_rng(1)
    ids = np.arange(20000, dtype=np.int32)  # id == position
    window = 4
    c, x = skipgram_pairs(ids, window, rng)
    dist = np.abs(c.astype(int) - x)
    assert dist.min() == 1 and dist.max() == window
    # radius r ~ U{1..w}: a pair at offset o exists with probability (w - o + 1) / w per side
    for off in range(1, window + 1):
        expect = 2 * len(ids) * (window - off + 1) / window
        assert abs(np.count_nonzero(dist == off) - expect) < 0.03 * expect
    # Each centre's contexts are symmetric: one radius per centre, both sides.
    left = np.bincount(c[x < c], minlength=len(ids))[window:-window]
    right = np.bincount(c[x > c], minlength=len(ids))[window:-window]
    np.testing.assert_array_equal(left, right)


def test_chunked_pairs_equal_whole():
    ids = np.random.default_rng(2).integers(-1, 30, size=1000).astype(np.int32)
    whole = sorted(zip(*(a.tolist() for a in skipgram_pairs(ids, 1, np.random.default_rng(0)))))
    parts = []
    for start in range(0, len(ids), 97):
        c, x = skipgram_pairs(ids, 1, np.random.default_rng(0), start, start + 97)
        parts += zip(c.tolist(), x.tolist())
    assert sorted(parts) == whole


def test_loss_decreases_and_planted_groups_are_recovered(planted):
    model = SoftmaxSkipGram(
        vector_size=20, window=3, min_count=1, epochs=4, alpha=0.05, batch_size=64, seed=1
    )
    model.build_vocab(planted.sentences)
    before = model.loss(planted.sentences)
    assert before == pytest.approx(math.log(48), rel=1e-6)  # zero outputs: uniform softmax
    model.train(planted.sentences)
    hist = model.loss_history
    assert len(hist) == 4 and all(isinstance(h, float) for h in hist)
    assert all(b < a for a, b in zip(hist, hist[1:]))
    # The best possible loss is the entropy of a uniform pick among a group's 8 words.
    assert math.log(8) < model.loss(planted.sentences) < hist[0] < before
    assert model.loss(planted.sentences) < math.log(8) + 0.05
    assert planted.precision(model.wv, topn=7) >= 0.95
    assert model.wv.vectors.dtype == np.float32 and model.pairs_trained > 0


def test_ids_input_equals_sentences_input(planted):
    sentences = planted.sentences[:300]
    kw = dict(vector_size=8, window=2, min_count=1, epochs=2, batch_size=32, seed=7, dtype=np.float64)
    a = SoftmaxSkipGram(sentences, **kw)
    b = SoftmaxSkipGram(**kw).build_vocab(sentences)
    b.train(ids=b.encode(sentences))
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)
    np.testing.assert_array_equal(a.output_vectors, b.output_vectors)
    assert a.loss_history == b.loss_history


def test_refuses_large_vocabulary():
    sentences = [[f"w{i}" for i in range(60)]]
    with pytest.raises(ValueError, match=r"refused .*MB"):
        SoftmaxSkipGram(sentences, min_count=1, max_vocab=50)
    SoftmaxSkipGram(sentences, min_count=1, max_vocab=None, epochs=1, vector_size=4)


def test_bad_arguments():
    with pytest.raises(ValueError):
        SoftmaxSkipGram(window=0)
    with pytest.raises(ValueError):
        SoftmaxSkipGram(alpha=0.01, min_alpha=0.1)
    model = SoftmaxSkipGram(min_count=1).build_vocab([["a", "b", "c"]])
    with pytest.raises(ValueError, match="ids must be"):
        model.train(ids=np.array([0, 5], dtype=np.int32))
    with pytest.raises(TypeError):
        model.train(["a b c"])
