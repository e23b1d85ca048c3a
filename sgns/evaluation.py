"""Intrinsic evaluation of word vectors: analogies and word-pair similarity.

Three evaluators, all pure numpy and batched (one matrix product per block of
questions, never a Python loop over the vocabulary per question):

evaluate_word_analogies(kv, path, ...)
    gensim 4.4's ``KeyedVectors.evaluate_word_analogies``: same arguments,
    same return value ``(score, sections)``, same counts.
evaluate_word_pairs(kv, path, ...)
    gensim 4.4's ``KeyedVectors.evaluate_word_pairs``: Pearson and Spearman
    correlation with human judgements (e.g. WordSim-353) and the OOV ratio.
compute_accuracy(kv, path, threshold=30000)
    word2vec.c's ``compute-accuracy`` tool: the analogy metric of the
    project's benchmarks, returned as an :class:`AccuracyResult`.

`kv` is anything with ``index_to_key`` (list of str, most frequent first) and
``vectors`` (V x D float array), such as :class:`sgns.KeyedVectors` or a
gensim ``KeyedVectors``.

The two analogy evaluators differ on purpose, as their originals do:

=========================  ==================================  ==================================
                           evaluate_word_analogies (gensim)    compute_accuracy (word2vec.c)
=========================  ==================================  ==================================
vocabulary                 first ``restrict_vocab`` keys       first ``threshold`` keys
case                       ``str.upper()`` (Unicode) if asked  ASCII upper-casing, always
query                      unit(mean(b̂, ĉ, -â))                b̂ - â + ĉ
excluded answers           a, b, c and their case variants     the rows of a, b, c only
prediction counted if      always (top-1)                      its cosine is > 0
=========================  ==================================  ==================================

Exactness. The batched float32 products round differently from the
originals' one-question-at-a-time arithmetic (by about 1e-7). A question whose
best and second-best candidates are closer than that tolerance (``_TIE_TOL``),
or that needs gensim's case-variant handling, is re-solved alone with the
original's arithmetic and tie-breaking, so the counts agree with gensim; they
agree with word2vec.c up to its own float32 rounding on near-ties (ties are
re-solved in float64; exact ties go to the most frequent word, as in
word2vec.c).

Correlations (evaluate_word_pairs) are computed here with numpy, Spearman's
with average ranks for ties (as scipy.stats.spearmanr). The two-sided
p-values use Student's t with n-2 degrees of freedom (scipy's formulas for
both pearsonr and spearmanr), through a regularized incomplete beta function
implemented below, so scipy is not needed; they match scipy to about 1e-10.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

import numpy as np

logger = logging.getLogger(__name__)

__all__ = [
    "AccuracyResult",
    "AnalogySection",
    "compute_accuracy",
    "evaluate_word_analogies",
    "evaluate_word_pairs",
    "pearson",
    "spearman",
]

# Questions whose two best scores differ by no more than this are re-solved
# one at a time with the reference arithmetic (see the module docstring).
_TIE_TOL = 1e-5
# Bytes of scores (questions x vocabulary) held at once.
_BLOCK_BYTES = 64 << 20


def _block_rows(n_cols: int, itemsize: int, block_size: int | None) -> int:
    if block_size:
        return max(1, int(block_size))
    return int(max(1, min(512, _BLOCK_BYTES // max(1, n_cols * itemsize))))


def _vectors(kv) -> np.ndarray:
    vectors = np.asarray(kv.vectors)
    if vectors.ndim != 2 or vectors.shape[0] != len(kv.index_to_key):
        raise ValueError("kv.vectors must be a (len(kv.index_to_key), D) matrix")
    if not np.issubdtype(vectors.dtype, np.floating):
        vectors = vectors.astype(np.float32)
    return vectors


def _top1(scores: np.ndarray, rows: np.ndarray, exclude: list[np.ndarray]):
    """Best column of each row of `scores` (modified in place) with the given
    columns excluded; returns (best, margin over the runner-up). A NaN or
    non-finite best gives a NaN margin."""
    for cols in exclude:
        scores[rows, cols] = -np.inf
    best = np.argmax(scores, axis=1)
    first = scores[rows, best]
    scores[rows, best] = -np.inf
    second = scores.max(axis=1)
    with np.errstate(invalid="ignore"):
        margin = np.where(np.isfinite(first), first - second, np.nan)
    return best, first, margin


# ---- gensim's evaluate_word_analogies ----------------------------------------------


def _ok_vocab(keys: list[str], restrict_vocab: int | None, case_insensitive: bool):
    """gensim's restricted lookup: form(key) -> index of its first (most
    frequent) occurrence among the first restrict_vocab keys."""
    ok_keys = keys[:restrict_vocab]
    forms = [k.upper() for k in ok_keys] if case_insensitive else list(ok_keys)
    lookup: dict[str, int] = {}
    for i, form in enumerate(forms):
        lookup.setdefault(form, i)
    return forms, lookup


def _section_score(section: dict) -> float:
    correct, incorrect = len(section["correct"]), len(section["incorrect"])
    if correct + incorrect == 0:
        return 0.0
    score = correct / (correct + incorrect)
    logger.info("%s: %.1f%% (%i/%i)", section["section"], 100.0 * score, correct, correct + incorrect)
    return score


def evaluate_word_analogies(
    kv,
    analogies_path: str | os.PathLike,
    restrict_vocab: int | None = 300000,
    case_insensitive: bool = True,
    dummy4unknown: bool = False,
    similarity_function: str = "most_similar",
    *,
    block_size: int | None = None,
) -> tuple[float, list[dict[str, Any]]]:
    """Top-1 accuracy on an analogy file, exactly as gensim 4.4's
    ``KeyedVectors.evaluate_word_analogies`` (batched): the answer (3CosAdd) is the
    candidate most cosine-similar to unit(b̂ + ĉ - â), a, b, c (and case variants) excluded.

    Parameters
    ----------
    analogies_path
        Lines "a b c expected", grouped by ": section name" lines (questions-words.txt).
        Lines without exactly four words are skipped; a question before the first
        section line raises ValueError.
    restrict_vocab
        Only the first (most frequent) keys are used, as words and answers. None: all.
    case_insensitive
        Compare upper-cased words (str.upper()); a word's first (most frequent) case
        variant gives the vector.
    dummy4unknown
        Count questions with an unknown word as incorrect instead of skipping them.
    similarity_function
        "most_similar" (3CosAdd) or "most_similar_cosmul" (3CosMul).
    block_size
        Questions per matrix product (default: up to 512, the scores under 64 MB).

    Returns
    -------
    (score, sections)
        The overall accuracy (0.0 when no question was evaluated) and, in file order,
        dicts ``{'section': name, 'correct': [(a, b, c, expected), ...], 'incorrect':
        [...]}`` with the words as compared, then a ``'Total accuracy'`` section.
    """
    keys = list(kv.index_to_key)
    vectors = _vectors(kv)
    forms, ok_vocab = _ok_vocab(keys, restrict_vocab, case_insensitive)
    n_ok = len(forms)
    _check_analogy_run(similarity_function, restrict_vocab, analogies_path)

    sections, items, quads, idx, oov, n_quadruplets = _read_analogies(
        analogies_path, ok_vocab, case_insensitive, dummy4unknown
    )
    if similarity_function == "most_similar_cosmul":
        correct = _solve_cosmul(vectors, forms, quads, idx, n_ok, block_size)
    else:
        correct = _solve_gensim(
            vectors, keys, forms, Counter(forms), quads, idx, n_ok, case_insensitive, block_size
        )
    total = _fill_sections(sections, items, quads, correct)
    if n_quadruplets:
        logger.info("Quadruplets with out-of-vocabulary words: %.1f%%", 100.0 * oov / n_quadruplets)
    score = _section_score(total)
    sections.append(total)
    return score, sections


def _check_analogy_run(similarity_function: str, restrict_vocab, analogies_path) -> None:
    if similarity_function not in ("most_similar", "most_similar_cosmul"):
        raise ValueError(
            "similarity_function must be 'most_similar' or 'most_similar_cosmul', "
            f"got {similarity_function!r}"
        )
    logger.info(
        "Evaluating word analogies for top %s words in the model on %s",
        restrict_vocab,
        os.fspath(analogies_path),
    )


def _read_analogies(analogies_path, ok_vocab: dict[str, int], case_insensitive: bool, dummy4unknown: bool):
    """Parse an analogy file: its sections (dicts to fill), each section's
    items in file order (("q", question id) or ("oov", quad)), the questions
    (quads) and their (a, b, c) rows, and the out-of-vocabulary and total
    question counts."""
    sections: list[dict[str, Any]] = []
    items: list[list[tuple[Any, ...]]] = []  # per section: ("q", question id) or ("oov", quad)
    quads: list[tuple[str, str, str, str]] = []
    idx: list[tuple[int, int, int]] = []
    oov = n_quadruplets = 0
    with open(analogies_path, "rb") as fin:
        for line_no, raw in enumerate(fin):
            line = raw.decode("utf-8")
            if line.startswith(": "):
                sections.append({"section": line.lstrip(": ").strip(), "correct": [], "incorrect": []})
                items.append([])
                continue
            if not sections:
                raise ValueError(
                    f"Missing section header before line #{line_no} in {os.fspath(analogies_path)}"
                )
            words = line.split()
            if len(words) != 4:
                logger.info("Skipping invalid line #%i in %s", line_no, os.fspath(analogies_path))
                continue
            if case_insensitive:
                words = [w.upper() for w in words]
            quad = (words[0], words[1], words[2], words[3])
            n_quadruplets += 1
            if any(w not in ok_vocab for w in quad):
                oov += 1
                if dummy4unknown:
                    items[-1].append(("oov", quad))
                continue
            items[-1].append(("q", len(quads)))
            quads.append(quad)
            idx.append((ok_vocab[quad[0]], ok_vocab[quad[1]], ok_vocab[quad[2]]))

    return sections, items, quads, idx, oov, n_quadruplets


def _fill_sections(sections: list[dict[str, Any]], items, quads, correct) -> dict[str, Any]:
    """Sort each section's questions into correct and incorrect (OOV ones
    incorrect) and return the "Total accuracy" section."""
    for section, section_items in zip(sections, items):
        for kind, value in section_items:
            if kind == "oov":
                section["incorrect"].append(value)
            elif correct[value]:
                section["correct"].append(quads[value])
            else:
                section["incorrect"].append(quads[value])
        _section_score(section)

    total = {
        "section": "Total accuracy",
        "correct": list(itertools.chain.from_iterable(s["correct"] for s in sections)),
        "incorrect": list(itertools.chain.from_iterable(s["incorrect"] for s in sections)),
    }
    return total


def _gensim_query(vectors, norms, ia, ib, ic) -> np.ndarray:
    """gensim's most_similar(positive=[b, c], negative=[a]) query vector,
    with its arithmetic: unit rows summed in the vectors' dtype in the order
    b, c, -a, divided by 3 in float64, scaled to unit length, cast to float32."""
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = vectors[ib] / norms[ib, None]
        mean = mean + vectors[ic] / norms[ic, None]
        mean = mean - vectors[ia] / norms[ia, None]
        mean = mean.astype(np.float64) / 3.0
        length = np.linalg.norm(mean, axis=-1, keepdims=True)
        mean = np.where(length > 0, mean * (1.0 / np.where(length > 0, length, 1.0)), mean)
    return mean.astype(np.float32)


def _solve_gensim(vectors, keys, forms, variants, quads, idx, n_ok, case_insensitive, block_size):
    n = len(quads)
    correct = np.zeros(n, dtype=bool)
    if n == 0:
        return correct
    norms = np.linalg.norm(vectors, axis=1)
    ia, ib, ic = (np.fromiter((t[k] for t in idx), dtype=np.intp, count=n) for k in range(3))
    queries = _gensim_query(vectors, norms, ia, ib, ic)
    # Questions gensim answers with its case-variant rule go to the slow path.
    has_variant = np.fromiter(
        (variants[q[0]] > 1 or variants[q[1]] > 1 or variants[q[2]] > 1 for q in quads), dtype=bool, count=n
    )
    expected = [q[3] for q in quads]
    cand = vectors[:n_ok]
    cand_norms = norms[:n_ok]
    slow = list(np.flatnonzero(has_variant))
    step = _block_rows(n_ok, cand.dtype.itemsize, block_size)
    for start in range(0, n, step):
        stop = min(n, start + step)
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = queries[start:stop].astype(cand.dtype, copy=False) @ cand.T
            scores /= cand_norms
        rows = np.arange(stop - start)
        best, _, margin = _top1(scores, rows, [ia[start:stop], ib[start:stop], ic[start:stop]])
        for r in range(stop - start):
            q = start + r
            if has_variant[q]:
                continue
            if not margin[r] > _TIE_TOL:
                slow.append(q)
            else:
                correct[q] = forms[best[r]] == expected[q]
    for q in sorted(set(slow)):
        correct[q] = _gensim_one(vectors, norms, n_ok, forms, queries[q], idx[q], quads[q])
    if slow:
        logger.debug(
            "%d of %d analogy questions re-solved one at a time (near-ties or case variants)",
            len(set(slow)),
            n,
        )
    return correct


def _solve_cosmul(vectors, forms, quads, idx, n_ok, block_size) -> np.ndarray:
    """3CosMul answers, a block of questions per matrix product: of the 8 best
    candidates, inputs (by row) dropped, the first whose form is no input's."""
    correct = np.zeros(len(quads), dtype=bool)
    if not quads:
        return correct
    norms = np.linalg.norm(vectors, axis=1)
    norms[norms == 0] = 1.0
    units = vectors / norms[:, None]
    cand = units[:n_ok]
    step = _block_rows(n_ok, 3 * cand.dtype.itemsize, block_size)
    rows = np.asarray(idx, dtype=np.intp)
    for start in range(0, len(quads), step):
        block = rows[start : start + step]
        shifted = [(1.0 + units[block[:, k]] @ cand.T) / 2.0 for k in range(3)]
        scores = shifted[1] * shifted[2] / (shifted[0] + 1e-6)
        top = (
            np.argpartition(-scores, 8, axis=1)[:, :8]
            if n_ok > 8
            else np.tile(np.arange(n_ok), (len(block), 1))
        )
        top = np.take_along_axis(top, np.argsort(-np.take_along_axis(scores, top, 1), axis=1), 1)
        for r, q in enumerate(range(start, start + len(block))):
            inputs, ignore = set(idx[q]), set(quads[q][:3])
            answers = [forms[i] for i in top[r] if i not in inputs]
            predicted = next((a for a in answers if a not in ignore), answers[-1] if answers else None)
            correct[q] = predicted == quads[q][3]
    return correct


def _gensim_one(vectors, norms, n_ok, forms, query, qidx, quad) -> bool:
    """One question with gensim's own arithmetic and selection: scores by a
    matrix-vector product, the top (5 + 3) by argpartition + argsort, inputs
    dropped by index, then the first of the next 5 whose form is not an input."""
    with np.errstate(divide="ignore", invalid="ignore"):
        dists = np.dot(vectors[:n_ok], query.astype(vectors.dtype, copy=False)) / norms[:n_ok]
    topn = 5 + len(qidx)
    neg = -dists
    if topn >= neg.size:
        order = np.argsort(neg)[:topn]
    else:
        part = np.argpartition(neg, topn)[:topn]
        order = part.take(np.argsort(neg.take(part)))
    ignore = set(quad[:3])
    predicted = None
    for i in [i for i in order if i not in qidx][:5]:
        predicted = forms[i]
        if predicted not in ignore:
            break
    return predicted == quad[3]


# ---- gensim's evaluate_word_pairs -------------------------------------------------


def _betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta function I_x(a, b) (continued fraction,
    modified Lentz; Numerical Recipes 6.4)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def _betacf(a: float, b: float, x: float) -> float:
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return h


def _correlation_pvalue(r: float, n: int) -> float:
    """Two-sided p-value of a correlation r over n pairs under the null
    (Student's t with n-2 degrees of freedom): I_{1-r^2}((n-2)/2, 1/2)."""
    if n < 3 or not math.isfinite(r):
        return float("nan")
    if abs(r) >= 1.0:
        return 0.0
    df = n - 2
    return min(1.0, max(0.0, _betainc(df / 2.0, 0.5, 1.0 - r * r)))


def _pearson_r(x: np.ndarray, y: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    dx, dy = x - x.mean(), y - y.mean()
    denominator = math.sqrt(float(dx @ dx) * float(dy @ dy))
    if denominator == 0.0:
        return float("nan")
    return max(-1.0, min(1.0, float(dx @ dy) / denominator))


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n, tied values sharing the mean of their ranks."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
    ends = np.r_[starts[1:], len(xs)]
    mean_rank = (starts + ends + 1) / 2.0  # mean of ranks start+1 .. end
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


class Correlation(NamedTuple):
    """A correlation and its two-sided p-value: a (statistic, pvalue) tuple
    with scipy's attribute names."""

    statistic: float
    pvalue: float

    @property
    def correlation(self) -> float:
        return self.statistic


def pearson(x, y) -> Correlation:
    """Pearson's r and its two-sided p-value."""
    r = _pearson_r(x, y)
    return Correlation(r, _correlation_pvalue(r, len(x)))


def spearman(x, y) -> Correlation:
    """Spearman's rho (average ranks for ties) and its two-sided p-value."""
    rho = _pearson_r(_average_ranks(x), _average_ranks(y))
    return Correlation(rho, _correlation_pvalue(rho, len(x)))


def evaluate_word_pairs(
    kv,
    pairs_path: str | os.PathLike,
    delimiter: str = "\t",
    restrict_vocab: int | None = 300000,
    case_insensitive: bool = True,
    dummy4unknown: bool = False,
    encoding: str = "utf-8",
) -> tuple[tuple[float, float], tuple[float, float], float]:
    """Correlation of cosine similarities with human judgements, as gensim
    4.4's ``KeyedVectors.evaluate_word_pairs``.

    Parameters
    ----------
    pairs_path
        Lines "word1<delimiter>word2<delimiter>score"; lines starting with
        '#' and lines that do not parse (such as a header) are skipped.
    restrict_vocab, case_insensitive
        As in evaluate_word_analogies.
    dummy4unknown
        Give pairs with an unknown word similarity 0.0 instead of skipping them.

    Returns
    -------
    ((pearson_r, p), (spearman_rho, p), oov_ratio)
        oov_ratio is the percentage of pairs with an unknown word (of the
        pairs used, with dummy4unknown). p-values are two-sided (see the
        module docstring). Raises ValueError if no pair could be used.
    """
    keys = list(kv.index_to_key)
    vectors = _vectors(kv)
    _, ok_vocab = _ok_vocab(keys, restrict_vocab, case_insensitive)
    gold, rows, oov = _read_pairs(pairs_path, delimiter, ok_vocab, case_insensitive, dummy4unknown, encoding)
    if not gold:
        raise ValueError(
            f"No valid similarity judgements found in {os.fspath(pairs_path)}: either "
            "invalid format or all are out-of-vocabulary"
        )
    model = _pair_cosines(vectors, rows)
    gold_arr = np.asarray(gold, dtype=np.float64)
    result_pearson = pearson(gold_arr, model)
    result_spearman = spearman(gold_arr, model)
    oov_ratio = 100.0 * oov / (len(gold) if dummy4unknown else len(gold) + oov)
    logger.info("Pearson correlation coefficient against %s: %.4f", os.fspath(pairs_path), result_pearson[0])
    logger.info(
        "Spearman rank-order correlation coefficient against %s: %.4f",
        os.fspath(pairs_path),
        result_spearman[0],
    )
    logger.info("Pairs with unknown words ratio: %.1f%%", oov_ratio)
    return result_pearson, result_spearman, oov_ratio


def _read_pairs(pairs_path, delimiter, ok_vocab, case_insensitive, dummy4unknown, encoding):
    """The human scores, the (a, b) rows of each pair ((-1, -1) for a dummy)
    and the number of pairs with an unknown word."""
    gold: list[float] = []
    rows: list[tuple[int, int]] = []  # (-1, -1) for a dummy pair
    oov = 0
    with open(pairs_path, encoding=encoding) as fin:
        for line_no, line in enumerate(fin):
            if not line or line.startswith("#"):
                continue
            try:
                fields = line.split(delimiter)
                if case_insensitive:
                    fields = [f.upper() for f in fields]
                a, b, score = fields
                score = float(score)
            except (ValueError, TypeError):
                logger.info("Skipping invalid line #%d in %s", line_no, os.fspath(pairs_path))
                continue
            if a not in ok_vocab or b not in ok_vocab:
                oov += 1
                if dummy4unknown:
                    gold.append(score)
                    rows.append((-1, -1))
                else:
                    logger.debug("Skipping line #%d with OOV words: %s", line_no, line.strip())
                continue
            gold.append(score)
            rows.append((ok_vocab[a], ok_vocab[b]))
    return gold, rows, oov


def _pair_cosines(vectors: np.ndarray, rows: list[tuple[int, int]]) -> np.ndarray:
    """Cosine of each (a, b) pair of rows; 0.0 for a dummy (-1, -1) pair."""
    pairs = np.asarray(rows, dtype=np.intp).reshape(-1, 2)
    known = pairs[:, 0] >= 0
    model = np.zeros(len(pairs), dtype=np.float64)
    if known.any():
        ia, ib = pairs[known, 0], pairs[known, 1]
        va, vb = vectors[ia], vectors[ib]
        with np.errstate(divide="ignore", invalid="ignore"):
            va = va / np.linalg.norm(va, axis=1, keepdims=True)
            vb = vb / np.linalg.norm(vb, axis=1, keepdims=True)
        model[known] = np.einsum("ij,ij->i", va, vb)
    return model


# ---- word2vec.c's compute-accuracy ----------------------------------------------

# word2vec.c counts its first five sections as semantic (capital-common-countries,
# capital-world, currency, city-in-state, family in questions-words.txt).
_SEMANTIC_SECTIONS = 5


@dataclass
class AnalogySection:
    """One section of an analogy file. seen: questions whose four words are
    all in the vocabulary (the ones asked); total: questions in the file."""

    name: str
    semantic: bool
    correct: int = 0
    seen: int = 0
    total: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.seen if self.seen else 0.0


@dataclass
class AccuracyResult:
    """compute_accuracy's result. accuracy = correct / seen over all
    sections ("Total accuracy" of word2vec.c); semantic and syntactic split
    as word2vec.c does (first five sections semantic)."""

    threshold: int
    sections: list[AnalogySection] = field(default_factory=list)

    def _sum(self, attr: str, semantic: bool | None = None) -> int:
        return sum(getattr(s, attr) for s in self.sections if semantic is None or s.semantic == semantic)

    @property
    def correct(self) -> int:
        return self._sum("correct")

    @property
    def seen(self) -> int:
        return self._sum("seen")

    @property
    def total(self) -> int:
        return self._sum("total")

    @property
    def accuracy(self) -> float:
        return self.correct / self.seen if self.seen else 0.0

    @property
    def semantic_accuracy(self) -> float:
        seen = self._sum("seen", True)
        return self._sum("correct", True) / seen if seen else 0.0

    @property
    def syntactic_accuracy(self) -> float:
        seen = self._sum("seen", False)
        return self._sum("correct", False) / seen if seen else 0.0

    @property
    def seen_ratio(self) -> float:
        """Questions seen / total ("Questions seen / total" of word2vec.c)."""
        return self.seen / self.total if self.total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "accuracy": self.accuracy,
            "correct": self.correct,
            "seen": self.seen,
            "total": self.total,
            "semantic_accuracy": self.semantic_accuracy,
            "syntactic_accuracy": self.syntactic_accuracy,
            "sections": [dict(asdict(s), accuracy=s.accuracy) for s in self.sections],
        }

    def report(self) -> str:
        """word2vec.c compute-accuracy's stdout, byte for byte, quirks
        included: percentages computed in float32, a section in which no
        question could be asked prints "(0 / 1)", an accuracy over no
        questions prints "-nan", questions before the first section header
        are counted but get no lines of their own."""
        lines = []
        correct = seen = sem_c = sem_s = syn_c = syn_s = 0
        for k, s in enumerate(self.sections):
            correct += s.correct
            seen += s.seen
            if s.semantic:
                sem_c, sem_s = sem_c + s.correct, sem_s + s.seen
            else:
                syn_c, syn_s = syn_c + s.correct, syn_s + s.seen
            if k == 0 and s.name == "":
                continue  # questions before the first header: counted, never printed
            asked = s.seen or 1  # compute-accuracy's guard against 0 / 0
            lines.append(f"{s.name}:")
            lines.append(f"ACCURACY TOP1: {_f32_pct(s.correct, asked)} %  ({s.correct} / {asked})")
            lines.append(
                f"Total accuracy: {_f32_pct(correct, seen)} %   Semantic accuracy: "
                f"{_f32_pct(sem_c, sem_s)} %   Syntactic accuracy: {_f32_pct(syn_c, syn_s)} % "
            )
        lines.append(
            f"Questions seen / total: {self.seen} {self.total}   {_f32_pct(self.seen, self.total)} % "
        )
        return "\n".join(lines) + "\n"


def _f32_pct(a: int, b: int) -> str:
    """compute-accuracy's `a / (float)b * 100` in float32, printed "%.2f"."""
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.float32(a) / np.float32(b) * np.float32(100)
    return "-nan" if np.isnan(x) else f"{float(x):.2f}"


def compute_accuracy(
    kv, questions_path: str | os.PathLike, threshold: int | None = 30000, *, block_size: int | None = None
) -> AccuracyResult:
    """Analogy accuracy with word2vec.c ``compute-accuracy`` semantics (the
    benchmark metric): ``compute-accuracy VECTORS THRESHOLD < questions``.

    - The vocabulary is the first `threshold` keys of kv (0 or None: all),
      upper-cased byte-wise in ASCII (C's toupper); a word's first occurrence
      wins. With a word2vec.c file the first key is "</s>", which counts.
    - The questions file is read as a stream of whitespace-separated tokens:
      a token ":" (or, as in word2vec.c, "EXIT") starts a section, whose name
      is the next token; otherwise four tokens make a question. Tokens are
      upper-cased the same way.
    - A question is asked ("seen") when its four words are in the vocabulary.
      The answer is the row with the largest dot product with
      b̂ - â + ĉ (rows normalised to unit length), excluding the rows of a, b
      and c; it counts as correct when that dot product is > 0 and the row's
      word equals the expected one.
    - The first five sections are semantic, the others syntactic.
    """
    keys = list(kv.index_to_key)
    vectors = _vectors(kv)
    n_vocab = len(keys) if not threshold else min(int(threshold), len(keys))
    forms = [k.encode("utf-8", "surrogateescape").upper() for k in keys[:n_vocab]]
    lookup: dict[bytes, int] = {}
    for i, form in enumerate(forms):
        lookup.setdefault(form, i)

    result = AccuracyResult(threshold=int(threshold or 0))
    quads, owner = _read_questions(questions_path, lookup, result.sections)
    correct = _solve_w2v(vectors[:n_vocab], forms, quads, block_size)
    for sec, ok in zip(owner, correct):
        sec.correct += int(ok)
    for s in result.sections:
        logger.info("%s: %.2f%% (%d / %d)", s.name, 100 * s.accuracy, s.correct, s.seen)
    logger.info(
        "compute-accuracy (threshold %d): total %.2f%% (%d / %d), questions seen %d of %d",
        result.threshold,
        100 * result.accuracy,
        result.correct,
        result.seen,
        result.seen,
        result.total,
    )
    return result


def _read_questions(questions_path, lookup: dict[bytes, int], sections: list[AnalogySection]):
    """compute-accuracy's reading of a questions file: append its sections
    to `sections` and return the questions asked, (a, b, c rows, expected
    form), with the section each belongs to."""
    with open(questions_path, "rb") as f:
        raw_tokens = f.read().split()  # C's isspace: bytes.split() splits on ASCII whitespace
    tokens = [t.upper() for t in raw_tokens]  # C's toupper: ASCII only, as bytes.upper()
    section = AnalogySection(name="", semantic=True)  # questions before any header
    open_section = True  # False after a header with no name at the very end
    n_headers = 0
    quads: list[tuple[int, int, int, bytes]] = []
    owner: list[AnalogySection] = []
    pos, n_tokens = 0, len(tokens)
    while pos < n_tokens:
        token = tokens[pos]
        if token == b":" or token == b"EXIT":
            if section.total or n_headers:
                sections.append(section)
            n_headers += 1
            if pos + 1 >= n_tokens:
                open_section = False
                break
            section = AnalogySection(
                name=raw_tokens[pos + 1].decode("utf-8", "replace"), semantic=n_headers <= _SEMANTIC_SECTIONS
            )
            pos += 2
            continue
        if pos + 4 > n_tokens:
            logger.info("%s: ignoring %d trailing tokens", os.fspath(questions_path), n_tokens - pos)
            break
        a, b, c, d = tokens[pos : pos + 4]
        pos += 4
        section.total += 1
        ia, ib, ic = lookup.get(a), lookup.get(b), lookup.get(c)
        if ia is None or ib is None or ic is None or d not in lookup:
            continue
        section.seen += 1
        quads.append((ia, ib, ic, d))
        owner.append(section)
    if open_section and (section.total or n_headers):
        sections.append(section)
    return quads, owner


def _solve_w2v(vectors, forms, quads, block_size) -> np.ndarray:
    n = len(quads)
    correct = np.zeros(n, dtype=bool)
    if n == 0:
        return correct
    with np.errstate(divide="ignore", invalid="ignore"):
        unit = vectors / np.sqrt(np.einsum("ij,ij->i", vectors, vectors))[:, None]
    ia, ib, ic = (np.fromiter((q[k] for q in quads), dtype=np.intp, count=n) for k in range(3))
    expected = [q[3] for q in quads]
    queries = (unit[ib] - unit[ia]) + unit[ic]
    step = _block_rows(len(unit), unit.dtype.itemsize, block_size)
    n_slow = 0
    for start in range(0, n, step):
        stop = min(n, start + step)
        with np.errstate(invalid="ignore"):
            scores = queries[start:stop] @ unit.T
        rows = np.arange(stop - start)
        best, first, margin = _top1(scores, rows, [ia[start:stop], ib[start:stop], ic[start:stop]])
        for r in range(stop - start):
            q = start + r
            if margin[r] > _TIE_TOL and abs(first[r]) > _TIE_TOL:
                correct[q] = first[r] > 0 and forms[best[r]] == expected[q]
                continue
            # Near-tie (or a best score near 0): re-score in float64 the candidates
            # that float32 rounding could have reordered (all of them after a NaN).
            n_slow += 1
            if np.isfinite(first[r]):
                cands = np.union1d(np.flatnonzero(scores[r] >= first[r] - 2 * _TIE_TOL), [best[r]])
            else:
                cands = np.setdiff1d(np.arange(len(unit)), [ia[q], ib[q], ic[q]])
            with np.errstate(invalid="ignore"):
                dists = unit[cands].astype(np.float64) @ queries[q].astype(np.float64)
            dists[np.isnan(dists)] = -np.inf
            if len(cands) == 0:
                continue
            k = int(np.argmax(dists))  # the first of equal maxima (lowest row), as word2vec.c's strict '>'
            correct[q] = bool(dists[k] > 0) and forms[cands[k]] == expected[q]
    if n_slow:
        logger.debug("%d of %d analogy questions re-scored in float64 (near-ties)", n_slow, n)
    return correct
