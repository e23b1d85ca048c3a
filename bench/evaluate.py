#!/usr/bin/env python
"""Evaluate word2vec-format vector files with sgns.evaluation.

    python bench/evaluate.py VEC.bin [VEC2.bin ...] --questions questions-words.txt --ws353 wordsim353.tsv
    python bench/evaluate.py VEC.bin --questions q.txt --gensim --verbose   # gensim's method too
    python bench/evaluate.py VEC.txt --text ...                             # text format

For each file: compute-accuracy (word2vec.c semantics, --threshold, default
30000), gensim's evaluate_word_analogies (--restrict-vocab, default 300000)
and evaluate_word_pairs (Spearman, Pearson, OOV %), with the seconds each took.
--gensim also runs gensim's own evaluate_word_analogies on the same file (if
gensim is importable) to compare counts and time. --json prints JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

try:
    import sgns  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sgns import evaluation
from sgns.keyedvectors import KeyedVectors


def evaluate_file(path: str, args) -> dict:
    t0 = time.perf_counter()
    kv = KeyedVectors.load_word2vec_format(path, binary=not args.text)
    out: dict = {"file": path, "vocab": len(kv), "dim": kv.vector_size, "load_s": time.perf_counter() - t0}
    if args.questions:
        t0 = time.perf_counter()
        acc = evaluation.compute_accuracy(kv, args.questions, threshold=args.threshold)
        out["compute_accuracy"] = dict(acc.to_dict(), seconds=time.perf_counter() - t0)
        if args.verbose:
            print(acc.report(), end="", file=sys.stderr)
        t0 = time.perf_counter()
        score, sections = evaluation.evaluate_word_analogies(
            kv, args.questions, restrict_vocab=args.restrict_vocab
        )
        total = sections[-1]
        out["evaluate_word_analogies"] = {
            "score": score,
            "correct": len(total["correct"]),
            "evaluated": len(total["correct"]) + len(total["incorrect"]),
            "seconds": time.perf_counter() - t0,
        }
        if args.gensim:
            try:
                from gensim.models import KeyedVectors as GensimKeyedVectors
            except ImportError:
                out["gensim"] = "gensim is not importable"
            else:
                gkv = GensimKeyedVectors.load_word2vec_format(path, binary=not args.text)
                t0 = time.perf_counter()
                g_score, g_sections = gkv.evaluate_word_analogies(
                    args.questions, restrict_vocab=args.restrict_vocab
                )
                seconds = time.perf_counter() - t0
                out["gensim"] = {
                    "score": g_score,
                    "correct": len(g_sections[-1]["correct"]),
                    "seconds": seconds,
                    "identical_sections": g_sections == sections,
                    "speedup": seconds / out["evaluate_word_analogies"]["seconds"],
                }
    if args.ws353:
        t0 = time.perf_counter()
        (r, p_r), (rho, p_rho), oov = evaluation.evaluate_word_pairs(
            kv, args.ws353, restrict_vocab=args.restrict_vocab
        )
        out["evaluate_word_pairs"] = {
            "pearson": r,
            "pearson_p": p_r,
            "spearman": rho,
            "spearman_p": p_rho,
            "oov_percent": oov,
            "seconds": time.perf_counter() - t0,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("vectors", nargs="+", help="word2vec-format vector files (binary unless --text)")
    parser.add_argument("--text", action="store_true", help="the files are in the text format")
    parser.add_argument("--questions", help="analogy file (questions-words.txt)")
    parser.add_argument("--ws353", help="word-pair similarity file (wordsim353.tsv)")
    parser.add_argument("--threshold", type=int, default=30000, help="compute-accuracy vocabulary (30000)")
    parser.add_argument("--restrict-vocab", type=int, default=300000, help="gensim's restrict_vocab (300000)")
    parser.add_argument("--gensim", action="store_true", help="also time gensim's evaluate_word_analogies")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--verbose", action="store_true", help="print compute-accuracy's per-section report")
    args = parser.parse_args(argv)
    if not args.questions and not args.ws353:
        parser.error("give --questions and/or --ws353")
    results = [evaluate_file(path, args) for path in args.vectors]
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for res in results:
        print(f"{res['file']}: {res['vocab']} words x {res['dim']}")
        if "compute_accuracy" in res:
            a = res["compute_accuracy"]
            print(
                f"  compute-accuracy (top {a['threshold']}): {a['accuracy']:.4f} ({a['correct']}/{a['seen']} seen, "
                f"{a['total']} questions; semantic {a['semantic_accuracy']:.4f}, "
                f"syntactic {a['syntactic_accuracy']:.4f})  {a['seconds']:.2f}s"
            )
            w = res["evaluate_word_analogies"]
            print(
                f"  evaluate_word_analogies: {w['score']:.4f} ({w['correct']}/{w['evaluated']})  {w['seconds']:.2f}s"
            )
        if isinstance(res.get("gensim"), dict):
            g = res["gensim"]
            print(
                f"  gensim's evaluate_word_analogies: {g['score']:.4f} ({g['correct']})  {g['seconds']:.2f}s  "
                f"identical: {g['identical_sections']}  speed-up {g['speedup']:.1f}x"
            )
        elif "gensim" in res:
            print(f"  gensim: {res['gensim']}")
        if "evaluate_word_pairs" in res:
            p = res["evaluate_word_pairs"]
            print(
                f"  word pairs: Spearman {p['spearman']:.4f} (p={p['spearman_p']:.2g}), Pearson "
                f"{p['pearson']:.4f}, OOV {p['oov_percent']:.1f}%  {p['seconds']:.2f}s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
