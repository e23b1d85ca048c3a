"""The gensim tutorial flows, timed with gensim and with sgns.gensim.

The same code runs twice; only the module the classes come from differs
(`gensim.models` or `sgns.gensim`), as for a user who changes one import:

  1. train  Word2Vec(sentences, ...) on an in-memory list of short sentences
            (gensim's defaults: CBOW, negative 5, window 5, min_count 5)
  2. query  most_similar(word) for the most frequent words, then similarity()
  3. cosmul most_similar_cosmul(positive=[b, c], negative=[a]) analogies
  4. eval   evaluate_word_analogies(questions-words.txt) and
            evaluate_word_pairs(wordsim353.tsv)

    python bench/gensim_flows.py --corpus CORPUS --shared SHARED [--words N] [--workers N]

CORPUS: whitespace-tokenised text (e.g. the shared corpus8.1k), cut into
sentences of 5-20 words (seeded); SHARED: the directory holding
eval/questions-words.txt and eval/wordsim353.tsv. --words limits the corpus
(default 2,000,000 words). Prints wall and CPU seconds per step (CPU: of
the whole process, all threads; the fairer figure on a loaded machine), the
ratios gensim / sgns (above 1: sgns is faster), and the two models' quality.
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import os
import sys
import time

import numpy as np


def sentences_of(path: str, words: int, seed: int = 0) -> list[list[str]]:
    with open(path, "rb") as f:
        tokens = f.read(words * 12).decode("utf-8", "replace").split()[:words]
    rng = np.random.default_rng(seed)
    lengths = rng.integers(5, 21, size=len(tokens) // 5 + 1)
    cuts = np.cumsum(lengths)
    return [tokens[a:b] for a, b in zip(np.concatenate([[0], cuts[:-1]]), cuts) if a < len(tokens)]


def timed(results: dict, step: str, fn):
    """Run fn, adding its (wall, CPU) seconds to results[step]."""
    t0, c0 = time.perf_counter(), time.process_time()
    value = fn()
    wall, cpu = results.get(step, (0.0, 0.0))
    results[step] = (wall + time.perf_counter() - t0, cpu + time.process_time() - c0)
    return value


def flow(module_name: str, sentences, eval_dir: str, workers: int) -> tuple[dict, dict]:
    """The tutorial, with Word2Vec from module_name. Returns (seconds per step, quality)."""
    models = importlib.import_module(module_name)
    seconds: dict[str, float] = {}
    model = timed(seconds, "train", lambda: models.Word2Vec(sentences, workers=workers, seed=1))
    wv = model.wv
    top = wv.index_to_key[:300]

    def query():
        for w in top:
            wv.most_similar(w, topn=10)
        return [wv.similarity(a, b) for a, b in itertools.pairwise(top)]

    timed(seconds, "query", query)
    triples = [(top[i], top[i + 1], top[i + 2]) for i in range(0, 297, 3)]
    timed(
        seconds,
        "cosmul",
        lambda: [wv.most_similar_cosmul(positive=[b, c], negative=[a], topn=5) for a, b, c in triples],
    )
    questions = os.path.join(eval_dir, "questions-words.txt")
    pairs = os.path.join(eval_dir, "wordsim353.tsv")
    analogy = timed(seconds, "eval", lambda: wv.evaluate_word_analogies(questions)[0])
    spearman = timed(seconds, "eval", lambda: wv.evaluate_word_pairs(pairs)[1][0])
    seconds["total"] = tuple(sum(v[i] for v in seconds.values()) for i in (0, 1))
    return seconds, {"analogy": float(analogy), "ws353": float(spearman), "vocab": len(wv)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", default=os.environ.get("SGNS_CORPUS"), required="SGNS_CORPUS" not in os.environ
    )
    parser.add_argument(
        "--shared", default=os.environ.get("SGNS_SHARED"), required="SGNS_SHARED" not in os.environ
    )
    parser.add_argument("--words", type=int, default=2_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    eval_dir = os.path.join(args.shared, "eval")
    if not os.path.isfile(args.corpus) or not os.path.isdir(eval_dir):
        parser.error("--corpus must be a file and --shared a directory holding eval/")
    sentences = sentences_of(args.corpus, args.words)
    print(
        f"{sum(map(len, sentences)):,} words in {len(sentences):,} sentences, {args.workers} workers",
        flush=True,
    )
    runs = {name: flow(name, sentences, eval_dir, args.workers) for name in ("gensim.models", "sgns.gensim")}
    (g_sec, g_q), (s_sec, s_q) = runs["gensim.models"], runs["sgns.gensim"]
    print(
        f"{'step':<8} {'gensim wall':>11} {'sgns wall':>10} {'ratio':>7}   {'gensim CPU':>10} {'sgns CPU':>9} {'ratio':>7}"
    )
    for step in g_sec:
        (gw, gc), (sw, sc) = g_sec[step], s_sec[step]
        print(
            f"{step:<8} {gw:>11.2f} {sw:>10.2f} {gw / max(sw, 1e-9):>6.2f}x   "
            f"{gc:>10.2f} {sc:>9.2f} {gc / max(sc, 1e-9):>6.2f}x"
        )
    for name, q in (("gensim", g_q), ("sgns", s_q)):
        print(f"{name:<7} analogy {q['analogy']:.3f}  WS353 {q['ws353']:.3f}  vocabulary {q['vocab']:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
