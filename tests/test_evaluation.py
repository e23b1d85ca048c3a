"""sgns.evaluation: analogies (gensim and word2vec.c semantics) and word pairs.

Known-answer tests on tiny hand-built vectors, then equality with gensim (when
importable) and with word2vec.c's compute-accuracy binary (when found) on
random vectors."""

from __future__ import annotations

import math
import re
import subprocess

import numpy as np
import pytest
from conftest import find_tool

from sgns import evaluation as ev
from sgns.keyedvectors import KeyedVectors

# ---- hand-built vectors ------------------------------------------------------------

# Feature axes: male, female, royal, person, fruit, city, country_a, country_b
AXES = ["male", "female", "royal", "person", "fruit", "city", "ca", "cb"]


def vec(**features) -> np.ndarray:
    v = np.zeros(len(AXES), dtype=np.float32)
    for name, value in features.items():
        v[AXES.index(name)] = value
    return v


def toy_kv(extra: dict[str, np.ndarray] | None = None) -> KeyedVectors:
    words = {
        "man": vec(person=1, male=1),
        "woman": vec(person=1, female=1),
        "king": vec(royal=1, male=1),
        "queen": vec(royal=1, female=1),
        "apple": vec(fruit=1, ca=0.1),
        "pear": vec(fruit=1, cb=0.1),
        "paris": vec(city=1, ca=1),
        "france": vec(ca=1.2),
        "rome": vec(city=1, cb=1),
        "italy": vec(cb=1.2),
    }
    words.update(extra or {})
    return KeyedVectors.from_arrays(list(words), np.vstack(list(words.values())))


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


QUESTIONS = """\
: family
man woman king queen
Man Woman King Queen
man woman apple queen
man woman boy girl
this line has five words
: capitals
paris france rome italy
france paris italy rome
"""


def counts(sections):
    return [(s["section"], len(s["correct"]), len(s["incorrect"])) for s in sections]


def test_analogies_known_answers(tmp_path):
    path = write(tmp_path, "q.txt", QUESTIONS)
    score, sections = ev.evaluate_word_analogies(toy_kv(), path)
    # family: two king/queen questions right; "man woman apple ?" -> pear, wrong;
    # the boy/girl question has unknown words and the 5-word line is invalid: both skipped.
    assert counts(sections) == [("family", 2, 1), ("capitals", 2, 0), ("Total accuracy", 4, 1)]
    assert score == pytest.approx(4 / 5)
    assert sections[0]["correct"] == [("MAN", "WOMAN", "KING", "QUEEN")] * 2
    assert sections[0]["incorrect"] == [("MAN", "WOMAN", "APPLE", "QUEEN")]
    assert sections[-1]["correct"] == sections[0]["correct"] + sections[1]["correct"]


def test_analogies_options(tmp_path):
    path = write(tmp_path, "q.txt", QUESTIONS)
    kv = toy_kv()
    # dummy4unknown: the unknown-word question counts as incorrect, in file order.
    score, sections = ev.evaluate_word_analogies(kv, path, dummy4unknown=True)
    assert counts(sections)[0] == ("family", 2, 2)
    assert sections[0]["incorrect"] == [("MAN", "WOMAN", "APPLE", "QUEEN"), ("MAN", "WOMAN", "BOY", "GIRL")]
    # case sensitive: "Man Woman King Queen" is now out of vocabulary.
    score, sections = ev.evaluate_word_analogies(kv, path, case_insensitive=False)
    assert counts(sections)[0] == ("family", 1, 1)
    assert sections[0]["correct"] == [("man", "woman", "king", "queen")]
    # restrict_vocab=4 keeps man, woman, king, queen only: the capitals vanish.
    score, sections = ev.evaluate_word_analogies(kv, path, restrict_vocab=4)
    assert counts(sections) == [("family", 2, 0), ("capitals", 0, 0), ("Total accuracy", 2, 0)]
    assert score == 1.0
    # restrict_vocab also limits the candidates: with 3 keys nothing can be answered.
    assert (
        ev.evaluate_word_analogies(
            kv, write(tmp_path, "q3.txt", ": s\nman woman king man\n"), restrict_vocab=3
        )[0]
        == 0.0
    )


def test_analogies_blocks_give_the_same_answer(tmp_path):
    path = write(tmp_path, "q.txt", QUESTIONS)
    kv = toy_kv()
    assert ev.evaluate_word_analogies(kv, path, block_size=1) == ev.evaluate_word_analogies(kv, path)


def test_analogies_header_required(tmp_path):
    with pytest.raises(ValueError, match="Missing section header"):
        ev.evaluate_word_analogies(toy_kv(), write(tmp_path, "q.txt", "man woman king queen\n"))


def test_analogies_case_variants_of_inputs_are_ignored(tmp_path):
    # "KING" is the closest row to the query but is a case variant of the input
    # "king": gensim skips it, word2vec.c's compute-accuracy does not.
    kv = toy_kv({"KING": vec(royal=1, female=1), "queen": vec(royal=1, female=1, person=0.3)})
    path = write(tmp_path, "q.txt", ": family\nman woman king queen\n")
    score, sections = ev.evaluate_word_analogies(kv, path)
    assert score == 1.0
    result = ev.compute_accuracy(kv, path, threshold=0)
    assert (result.correct, result.seen) == (0, 1)


def test_compute_accuracy_known_answers(tmp_path):
    # word2vec.c reads a stream of tokens, not lines: a 5-word line would shift the rest.
    path = write(tmp_path, "q.txt", QUESTIONS.replace("this line has five words\n", "this line is odd\n"))
    result = ev.compute_accuracy(toy_kv(), path, threshold=30000)
    assert [(s.name, s.correct, s.seen, s.total, s.semantic) for s in result.sections] == [
        ("family", 2, 3, 5, True),
        ("capitals", 2, 2, 2, True),
    ]
    assert result.accuracy == pytest.approx(4 / 5)
    assert result.semantic_accuracy == pytest.approx(4 / 5)
    assert result.syntactic_accuracy == 0.0
    assert result.to_dict()["sections"][1]["accuracy"] == 1.0
    assert "Questions seen / total: 5 7" in result.report()


def test_compute_accuracy_semantics(tmp_path):
    kv = toy_kv()
    # threshold: only the first 4 keys form the vocabulary.
    result = ev.compute_accuracy(
        kv, write(tmp_path, "q.txt", ": s\nman woman king queen\n: t\nparis france rome italy\n"), threshold=4
    )
    assert [(s.correct, s.seen, s.total) for s in result.sections] == [(1, 1, 1), (0, 0, 1)]
    # sections after the fifth are syntactic.
    text = "".join(f": s{i}\nman woman king queen\n" for i in range(7))
    result = ev.compute_accuracy(kv, write(tmp_path, "q7.txt", text))
    assert [s.semantic for s in result.sections] == [True] * 5 + [False] * 2
    assert result.syntactic_accuracy == 1.0
    # Only an answer with a positive dot product counts.
    a, b, c = np.eye(3, dtype=np.float32)
    neg = KeyedVectors.from_arrays(["a", "b", "c", "d"], np.vstack([a, b, c, -(b - a + c)]))
    q = write(tmp_path, "qn.txt", ": s\na b c d\n")
    assert ev.compute_accuracy(neg, q).correct == 0
    assert ev.evaluate_word_analogies(neg, q)[0] == 1.0  # gensim's top-1 has no such condition


def test_compute_accuracy_exact_ties_go_to_the_first_row(tmp_path):
    a, b, c, z = np.eye(4, dtype=np.float32)
    tied = b - a + c + z
    kv = KeyedVectors.from_arrays(["a", "b", "c", "x", "y"], np.vstack([a, b, c, tied, tied]))
    path = write(tmp_path, "q.txt", ": s\na b c x\n: t\na b c y\n")
    result = ev.compute_accuracy(kv, path)
    assert [(s.correct, s.seen) for s in result.sections] == [(1, 1), (0, 1)]


# ---- word pairs ------------------------------------------------------------------

PAIRS = """\
# comment
# Word 1\tWord 2\tHuman (mean)
king\tqueen\t8.5
man\twoman\t8.3
king\tapple\t1.0
paris\trome\t6.0
paris\tfrance\t9.0
apple\tpear\t7.0
dragon\tking\t5.0
Paris\tFRANCE\t9.0
"""


def test_word_pairs_known_answers(tmp_path):
    kv = toy_kv()
    path = write(tmp_path, "ws.tsv", PAIRS)
    (r, p_r), (rho, p_rho), oov = ev.evaluate_word_pairs(kv, path)
    gold = np.array([8.5, 8.3, 1.0, 6.0, 9.0, 7.0, 9.0])
    model = np.array(
        [
            kv.similarity(a, b)
            for a, b in [
                ("king", "queen"),
                ("man", "woman"),
                ("king", "apple"),
                ("paris", "rome"),
                ("paris", "france"),
                ("apple", "pear"),
                ("paris", "france"),
            ]
        ]
    )
    assert r == pytest.approx(np.corrcoef(gold, model)[0, 1], abs=1e-6)
    assert oov == pytest.approx(100 / 8)
    assert 0 < p_r < 1 and 0 < p_rho < 1
    # dummy4unknown: the dragon pair is kept with similarity 0; the ratio is over pairs used.
    _, _, oov = ev.evaluate_word_pairs(kv, path, dummy4unknown=True)
    assert oov == pytest.approx(100 / 8)
    _, _, oov = ev.evaluate_word_pairs(kv, path, case_insensitive=False)
    assert oov == pytest.approx(200 / 8)
    with pytest.raises(ValueError, match="No valid similarity"):
        ev.evaluate_word_pairs(kv, write(tmp_path, "none.tsv", "x\ty\t1.0\n"))


def test_spearman_average_ranks():
    assert ev._average_ranks([10, 20, 20, 5, 20]).tolist() == [2.0, 4.0, 4.0, 1.0, 4.0]
    rho, _ = ev.spearman([1, 2, 3, 4], [10, 20, 30, 40])
    assert rho == pytest.approx(1.0)
    rho, p = ev.spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])
    # ranks y: 1, 2, 3.5, 5, 3.5 -> Pearson of ranks
    assert rho == pytest.approx(np.corrcoef([1, 2, 3, 4, 5], [1, 2, 3.5, 5, 3.5])[0, 1])
    assert math.isnan(ev.pearson([1, 1, 1], [1, 2, 3])[0])


def test_pvalues_match_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    for n in (3, 5, 30, 353, 2000):
        x = rng.normal(size=n)
        for y in (x + rng.normal(size=n), rng.normal(size=n), np.round(x + rng.normal(size=n))):
            r, p = ev.pearson(x, y)
            ref = stats.pearsonr(x, y)
            assert r == pytest.approx(ref[0], abs=1e-12)
            assert p == pytest.approx(ref[1], rel=1e-8, abs=1e-300)
            rho, p = ev.spearman(x, y)
            ref = stats.spearmanr(x, y)
            assert rho == pytest.approx(ref[0], abs=1e-12)
            assert p == pytest.approx(ref[1], rel=1e-8, abs=1e-300)


# ---- equality with gensim on random vectors -----------------------------------------


def random_model(seed: int, n: int = 400, dim: int = 12):
    """Random vectors with traps: case variants of keys (w5 / W5) and exact
    duplicate rows (exact score ties)."""
    rng = np.random.default_rng(seed)
    keys = [f"w{i}" for i in range(n)]
    for i in (5, 17, 60, 200):
        keys[i + 1] = keys[i].upper()  # "W5" right after "w5": a case variant
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    for i in (30, 90, 150):
        vectors[i + 1] = vectors[i]  # duplicate vectors: tied candidates
    return keys, vectors


def random_questions(keys, rng, n_questions: int, answer=None) -> str:
    lines = []
    for s in range(3):
        lines.append(f": section-{s}\n")
        for _ in range(n_questions):
            pool = keys + ["unknown1", "Unknown2"]
            a, b, c = (pool[i] for i in rng.integers(0, len(pool), 3))
            d = pool[rng.integers(0, len(pool))]
            if answer is not None and rng.random() < 0.6:
                d = answer(a, b, c) or d
            if rng.random() < 0.2:
                a, d = a.upper(), d.capitalize()
            lines.append(f"{a} {b} {c} {d}\n")
        lines.append("too few words\n")
    return "".join(lines)


@pytest.mark.parametrize("seed", [0, 1])
def test_analogies_equal_gensim(tmp_path, seed):
    gensim_kv = pytest.importorskip("gensim.models.keyedvectors")
    keys, vectors = random_model(seed)
    gkv = gensim_kv.KeyedVectors(vectors.shape[1])
    gkv.add_vectors(keys, vectors)
    kv = KeyedVectors.from_arrays(keys, vectors)

    def answer(a, b, c):
        if not all(w in gkv.key_to_index for w in (a, b, c)):
            return None
        return gkv.most_similar(positive=[b, c], negative=[a], topn=1)[0][0]

    path = write(tmp_path, "q.txt", random_questions(keys, np.random.default_rng(seed), 150, answer))
    n_correct = 0
    for restrict in (300000, 150, None):
        for case_insensitive in (True, False):
            for dummy in (False, True):
                args = dict(restrict_vocab=restrict, case_insensitive=case_insensitive, dummy4unknown=dummy)
                expected = gkv.evaluate_word_analogies(str(path), **args)
                for block in (None, 7):
                    got = ev.evaluate_word_analogies(kv, path, block_size=block, **args)
                    assert got[0] == pytest.approx(expected[0], abs=0)
                    assert got[1] == expected[1], args
                n_correct += len(expected[1][-1]["correct"])
    assert n_correct > 100  # the comparison is not vacuous


def test_word_pairs_equal_gensim(tmp_path):
    gensim_kv = pytest.importorskip("gensim.models.keyedvectors")
    keys, vectors = random_model(3)
    gkv = gensim_kv.KeyedVectors(vectors.shape[1])
    gkv.add_vectors(keys, vectors)
    kv = KeyedVectors.from_arrays(keys, vectors)
    rng = np.random.default_rng(3)
    pool = keys + ["nope", "Nada"]
    text = (
        "# header\n"
        + "".join(
            f"{pool[rng.integers(len(pool))]}\t{pool[rng.integers(len(pool))]}\t{rng.integers(0, 20) / 2}\n"
            for _ in range(300)
        )
        + "bad line\n"
    )
    path = write(tmp_path, "ws.tsv", text)
    for restrict in (300000, 100):
        for case_insensitive in (True, False):
            for dummy in (False, True):
                args = dict(restrict_vocab=restrict, case_insensitive=case_insensitive, dummy4unknown=dummy)
                (r, pr), (rho, prho), oov = ev.evaluate_word_pairs(kv, path, **args)
                (gr, gpr), (grho, gprho), goov = gkv.evaluate_word_pairs(str(path), **args)
                assert r == pytest.approx(gr, abs=1e-6)
                assert rho == pytest.approx(grho, abs=1e-6)
                assert pr == pytest.approx(gpr, rel=1e-4)
                assert prho == pytest.approx(gprho, rel=1e-4)
                assert oov == goov


# ---- equality with word2vec.c's compute-accuracy ---------------------------------------


@pytest.mark.parametrize("threshold", [0, 300, 1000])
def test_compute_accuracy_equals_word2vec_c(tmp_path, threshold):
    binary = find_tool("word2vec-compute-accuracy") or find_tool("compute-accuracy")
    if not binary:
        pytest.skip("word2vec.c's compute-accuracy not found (set SGNS_WORD2VEC_BIN)")
    keys, vectors = random_model(7, n=800, dim=10)
    keys = ["</s>"] + keys[1:]
    kv = KeyedVectors.from_arrays(keys, vectors)
    vec_path = tmp_path / "v.bin"
    kv.save_word2vec_format(vec_path, binary=True)
    rng = np.random.default_rng(7)

    def answer(a, b, c):
        lookup = {k.upper(): i for i, k in reversed(list(enumerate(keys)))}
        if not all(w.upper() in lookup for w in (a, b, c)):
            return None
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        ia, ib, ic = (lookup[w.upper()] for w in (a, b, c))
        scores = unit @ (unit[ib] - unit[ia] + unit[ic])
        scores[[ia, ib, ic]] = -np.inf
        return keys[int(np.argmax(scores))]

    text = "".join(random_questions(keys[:280], rng, 120, answer) for _ in range(3))
    text = text.replace("too few words\n", "")  # word2vec.c reads tokens, not lines
    q_path = write(tmp_path, "q.txt", text)
    with open(q_path, "rb") as stdin:
        out = subprocess.run(
            [binary, str(vec_path), str(threshold)], stdin=stdin, capture_output=True, check=True
        ).stdout.decode()
    c_sections = [(int(a), int(b)) for a, b in re.findall(r"ACCURACY TOP1: \S+ %\s+\((\d+) / (\d+)\)", out)]
    seen, total = map(int, re.search(r"Questions seen / total: (\d+) (\d+)", out).groups())
    result = ev.compute_accuracy(kv, q_path, threshold=threshold)
    # word2vec.c prints an empty section as "(0 / 1)".
    assert [(s.correct, s.seen or 1) for s in result.sections] == c_sections
    assert (result.seen, result.total) == (seen, total)
    assert result.correct > 20
