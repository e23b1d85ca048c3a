#!/usr/bin/env python
"""Centre groups (shared_negatives=N): training time and quality per N.

For every vector size, N and seed it trains sgns on the corpus with the
settings of the shared BENCHMARKS.md (skip-gram, window 5, negative 5,
sample 1e-4, min-count 5, alpha 0.025, 5 epochs, 2 workers) and prints the
time of the whole constructor (vocabulary and training), analogy accuracy
(word2vec.c compute-accuracy semantics over the 30,000 most frequent words)
and WS353 Spearman, then the mean over the seeds per (D, N). With --epoch it
prints instead the best of three one-epoch train() calls with one worker
(the update's own speed, without the threads' sharing).

    python bench/groups.py --corpus corpus8.1k --sizes 100,300 --groups 1,2,3,4 --seeds 1,2,3
    python bench/groups.py --corpus corpus8.1k --groups 1,3 --epoch

The evaluation files come from --shared (default $SGNS_SHARED)/eval. Each
line names the kernel set; run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import sgns
from sgns import _train, evaluation

SETTINGS = dict(window=5, negative=5, sample=1e-4, min_count=5, alpha=0.025)


def quality(corpus: str, size: int, n: int, seed: int, eval_dir: Path) -> tuple[float, float, float]:
    t0 = time.perf_counter()
    m = sgns.Word2Vec(
        corpus_file=corpus, vector_size=size, epochs=5, workers=2, shared_negatives=n, seed=seed, **SETTINGS
    )
    seconds = time.perf_counter() - t0
    analogy = evaluation.compute_accuracy(m.wv, eval_dir / "questions-words.txt", threshold=30000).accuracy
    ws353 = evaluation.evaluate_word_pairs(m.wv, eval_dir / "wordsim353.tsv")[1][0]
    return seconds, analogy, ws353


def epoch_time(corpus: str, size: int, n: int) -> tuple[float, int]:
    m = sgns.Word2Vec(vector_size=size, epochs=1, workers=1, shared_negatives=n, seed=1, **SETTINGS)
    m.build_vocab(corpus_file=corpus)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        m.train(corpus_file=corpus, total_words=m.corpus_total_words, epochs=1)
        best = min(best, time.perf_counter() - t0)
    return best, m.epoch_reports[-1].examples


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", required=True)
    p.add_argument("--sizes", default="100")
    p.add_argument("--groups", default="1,2,3")
    p.add_argument("--seeds", default="1")
    p.add_argument("--epoch", action="store_true", help="one-epoch train() time with one worker instead")
    p.add_argument("--shared", default=os.environ.get("SGNS_SHARED"), help="directory with eval/")
    args = p.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",")]
    groups = [int(x) for x in args.groups.split(",")]
    seeds = [int(x) for x in args.seeds.split(",")]
    kernels = _train.active_kernels()
    if args.epoch:
        for size in sizes:
            for n in groups:
                seconds, examples = epoch_time(args.corpus, size, n)
                print(
                    f"{kernels} D={size} N={n}: one epoch {seconds:.2f} s (1 worker), {examples} examples",
                    flush=True,
                )
        return 0
    if not args.shared:
        p.error("--shared (or $SGNS_SHARED) is needed for the evaluation files")
    eval_dir = Path(args.shared) / "eval"
    for size in sizes:
        for n in groups:
            rows = []
            for seed in seeds:
                rows.append(quality(args.corpus, size, n, seed, eval_dir))
                s, a, w = rows[-1]
                print(
                    f"{kernels} D={size} N={n} seed={seed}: {s:.1f} s, analogy {a:.3f}, WS353 {w:.3f}",
                    flush=True,
                )
            s, a, w = (statistics.mean(col) for col in zip(*rows))
            print(
                f"{kernels} D={size} N={n} mean of {len(rows)}: {s:.1f} s, analogy {a:.3f}, WS353 {w:.3f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
