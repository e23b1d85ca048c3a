#!/usr/bin/env python
"""Why word2vec approximates the softmax: the cost of ONE training pair as
the vocabulary grows, for the three output layers.

For V = 10^3, 10^4, 10^5, 10^6 words and D = 100 dimensions (float32), each
number is microseconds per (centre, context) pair, amortised over many:

  softmax minibatch
                  sgns.softmax.sgd_step (numpy + BLAS): logits over all V
                  words, log-softmax, full gradient, update of all V output
                  rows; one step on a minibatch of B = --batch (256) pairs,
                  divided by B. B is halved until the step fits --max-mem-mb.
  softmax B=1     the same step with one pair.
  HS kernel       sgns._train.pair_update on ceil(log2 V) labelled output
                  rows: sgns's hierarchical-softmax kernel on the path a
                  *balanced* binary tree would have (a contiguous block of
                  rows at a random offset); the Python call overhead
                  (measured, see the notes) is subtracted. Called once per
                  pair from Python, so cold-cache misses are included that
                  the training loop hides by prefetching.
  HS train        sgns's training loop (Trainer.train_ids, one thread) with
                  hierarchical softmax only (negative=0) over word2vec.c's
                  Huffman tree, on a synthetic corpus of Zipf-distributed word
                  ids (p(rank r) ~ 1/r); Huffman paths of frequent words are
                  short, so this is below log2 V rows per pair.
  SGNS kernel     pair_update with 1 + 5 rows (K = 5 negatives), overhead
                  subtracted as for HS.
  SGNS train      the training loop with negative=5 on the same corpus:
                  word2vec.c's per-pair update (fresh negatives per pair).
  SGNS shared     the same with shared negatives (sgns's default).

Times are CPU seconds of this process (time.process_time), so a busy
machine slows the run but not the numbers much. The training-loop columns
are time / pairs trained for one pass over
--tokens words (window 5, no subsampling). A second table times one epoch
of real runs (sgns.Word2Vec on --corpus, one worker) per pair.

numpy's BLAS is limited to --threads threads (default 1, set before numpy
is imported) so every column is one core. Writes bottleneck.csv,
bottleneck.md and bottleneck.png (log-log; matplotlib is imported only for
the plot) to --out (default bench/out) and prints the markdown.

    python bench/bottleneck.py                       # V = 1e3 .. 1e6 (a few minutes)
    python bench/bottleneck.py --sizes 1e3,1e4 --tokens 50000   # quick
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import time
from pathlib import Path


def _early_threads() -> None:
    threads = "1"
    for i, a in enumerate(sys.argv):
        if a == "--threads" and i + 1 < len(sys.argv):
            threads = sys.argv[i + 1]
        elif a.startswith("--threads="):
            threads = a.split("=", 1)[1]
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = threads


_early_threads()

REPO = Path(__file__).resolve().parent.parent
try:
    import sgns  # noqa: F401
except ImportError:  # not installed: the source tree, built in place
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from sgns import _train  # noqa: E402
from sgns.softmax import memory_bytes, sgd_step  # noqa: E402
from sgns.vocab import Vocabulary  # noqa: E402

# CPU seconds of this process: every timed part runs on this thread (BLAS
# limited to one thread, the Trainer called directly), so this is the cost of
# the work, not of waiting for a core on a shared machine.
_clock = time.process_time

COLUMNS = [
    ("softmax_b256", "softmax minibatch"),
    ("softmax_b1", "softmax B=1"),
    ("hs_kernel", "HS kernel"),
    ("hs_train", "HS train"),
    ("sgns_kernel", "SGNS kernel"),
    ("sgns_train", "SGNS train"),
    ("sgns_shared", "SGNS shared"),
]


def timed(fn, min_time: float, min_calls: int = 2) -> float:
    """Seconds per call of fn(): one warm-up call, then calls until
    min_time has passed (at least min_calls)."""
    fn()
    calls, t0 = 0, _clock()
    while True:
        fn()
        calls += 1
        spent = _clock() - t0
        if calls >= min_calls and spent >= min_time:
            return spent / calls


def softmax_per_pair(n: int, dim: int, batch: int, rng, min_time: float) -> float:
    vin = ((rng.random((n, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    out = ((rng.random((n, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    centres = rng.integers(0, n, size=(64, batch))
    contexts = rng.integers(0, n, size=(64, batch))
    k = [0]

    def step():
        i = k[0] % 64
        k[0] += 1
        sgd_step(vin, out, centres[i], contexts[i], 0.025)

    return timed(step, min_time) / batch


def call_overhead(rng, calls: int) -> float:
    """Seconds per pair_update call on a 1 x 1 problem: the Python part."""
    v = np.zeros(1, np.float32)
    out = np.zeros((1, 1), np.float32)
    update = _train.pair_update
    best = math.inf
    for _ in range(3):
        t0 = _clock()
        for _ in range(calls):
            update(v, out, 0.025, None, False)
        best = min(best, (_clock() - t0) / calls)
    return best


def kernel_per_call(n_rows_total: int, n_out: int, dim: int, labelled: bool, rng, calls: int) -> float:
    """Seconds per pair_update call: one input row against n_out contiguous
    output rows at a random offset in an (n_rows_total, dim) matrix."""
    out = ((rng.random((n_rows_total, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    vin = ((rng.random((1024, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    starts = rng.integers(0, max(1, n_rows_total - n_out), size=calls)
    rows = rng.integers(0, 1024, size=calls)
    labels = (rng.random(n_out) < 0.5).astype(np.float32) if labelled else None
    views = [out[s : s + n_out] for s in starts]
    ins = [vin[r] for r in rows]
    update = _train.pair_update
    best = math.inf
    for _ in range(3):
        t0 = _clock()
        for v, o in zip(ins, views):
            update(v, o, 0.025, labels, False)
        best = min(best, (_clock() - t0) / calls)
    return best


def zipf_corpus(n: int, tokens: int, rng, sentence: int = 1000):
    """Zipf (s = 1) counts over n words and an id array of `tokens` draws
    from them, -1 after every `sentence` words."""
    weights = 1.0 / np.arange(1, n + 1)
    counts = np.maximum(1, np.round(weights / weights.sum() * max(tokens, 10 * n))).astype(np.int64)
    ids = rng.choice(n, size=tokens, p=weights / weights.sum()).astype(np.int32)
    cut = np.arange(sentence, tokens, sentence)
    ids = np.insert(ids, cut, -1).astype(np.int32)
    return counts, ids


def train_loop_per_pair(
    n: int, dim: int, ids, counts, *, hs: bool, negative: int, shared: bool, huffman=None, seed: int = 1
) -> tuple[float, float]:
    """(seconds per pair, pairs) of one Trainer.train_ids pass, one thread."""
    rng = np.random.default_rng(seed)
    syn0 = ((rng.random((n, dim), dtype=np.float32) * 2 - 1) / dim).astype(np.float32)
    syn1neg = np.zeros((n, dim), np.float32) if negative else None
    syn1 = np.zeros((n - 1, dim), np.float32) if hs else None
    words = int(np.count_nonzero(ids >= 0))
    trainer = _train.Trainer(
        syn0,
        syn1neg,
        None,
        counts.astype(np.float64) ** 0.75,
        window=5,
        negative=negative,
        alpha=0.025,
        min_alpha=0.0001,
        total_words=words,
        syn1=syn1,
        huffman=huffman if hs else None,
        sg=True,
        shared_negatives=shared,
        compute_loss=False,
    )
    t0 = _clock()
    _, examples, _, _ = trainer.train_ids(ids, seed)
    secs = _clock() - t0
    return secs / max(1, examples), examples


def real_runs(corpus: str, dim: int) -> list[dict]:
    from sgns import Word2Vec

    rows = []
    for label, kw in (
        ("HS (negative=0)", dict(hs=1, negative=0)),
        ("SGNS per-pair", dict(negative=5, shared_negatives=False)),
        ("SGNS shared", dict(negative=5, shared_negatives=True)),
    ):
        model = Word2Vec(
            vector_size=dim, window=5, min_count=5, sample=1e-3, epochs=1, workers=1, seed=1, **kw
        )
        model.build_vocab(corpus_file=corpus)
        t0 = _clock()
        model.train(corpus_file=corpus)
        secs = _clock() - t0
        r = model.epoch_reports[-1]
        rows.append(
            {
                "run": label,
                "vocab": len(model.wv),
                "pairs": r.examples,
                "seconds": secs,
                "us_per_pair": 1e6 * secs / max(1, r.examples),
            }
        )
    return rows


def fmt(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if x >= 1000:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.3f}"


def plot(rows: list[dict], path: Path, dim: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5))
    styles = {
        "softmax_b256": ("C3", "o", "-"),
        "softmax_b1": ("C3", "s", ":"),
        "hs_kernel": ("C0", "^", ":"),
        "hs_train": ("C0", "^", "-"),
        "sgns_kernel": ("C2", "D", ":"),
        "sgns_train": ("C2", "D", "-"),
        "sgns_shared": ("C1", "v", "-"),
    }
    for key, label in COLUMNS:
        pts = [(r["V"], r[key]) for r in rows if r.get(key) is not None and r[key] > 0]
        if pts:
            color, marker, ls = styles[key]
            ax.plot(*zip(*pts), color=color, marker=marker, linestyle=ls, label=label)
    vs = [r["V"] for r in rows]
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("vocabulary size V (words)")
    ax.set_ylabel("µs per training pair (one core)")
    ax.set_title(
        f"Cost of one skip-gram pair, D={dim}: full softmax O(V·D), HS O(log V·D), SGNS O(K·D)", fontsize=10
    )
    ax.set_xticks(vs)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.text(
        0.01,
        0.01,
        "kernel = sgns._train.pair_update, Python call overhead subtracted; "
        "HS kernel: ceil(log2 V) rows (balanced tree); train = sgns training loop, "
        "Zipf corpus",
        fontsize=6.5,
        alpha=0.8,
    )
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1e3,1e4,1e5,1e6", help="vocabulary sizes (comma-separated)")
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--batch", type=int, default=256, help="softmax minibatch")
    ap.add_argument(
        "--max-mem-mb",
        type=float,
        default=2500,
        help="memory budget of one softmax step; the batch is halved to fit",
    )
    ap.add_argument("--softmax-max-v", type=float, default=1e6, help="largest V for the softmax")
    ap.add_argument("--tokens", type=int, default=300_000, help="synthetic corpus for the training loop")
    ap.add_argument("--calls", type=int, default=20_000, help="pair_update calls per kernel timing")
    ap.add_argument("--min-time", type=float, default=0.5, help="seconds per softmax timing")
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads (set before numpy loads)")
    ap.add_argument(
        "--corpus",
        default=os.environ.get("SGNS_SMALL8", ""),
        help="real corpus for the real-run table (default: $SGNS_SMALL8; unset or '' skips it)",
    )
    ap.add_argument("--out", default=str(REPO / "bench" / "out"))
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)
    if args.corpus and not os.path.isfile(args.corpus):
        ap.error(f"--corpus {args.corpus!r} is not a file")

    sizes = [int(float(s)) for s in args.sizes.split(",") if s]
    dim = args.dim
    rng = np.random.default_rng(0)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    log = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731

    overhead = call_overhead(rng, args.calls)
    log(
        f"kernels {_train.active_kernels()}; BLAS threads {os.environ['OPENBLAS_NUM_THREADS']}; "
        f"pair_update call overhead {1e6 * overhead:.3f} us"
    )
    rows = []
    for n in sizes:
        row: dict = {"V": n}
        depth = max(1, math.ceil(math.log2(n)))
        # (a) full softmax
        batch = args.batch
        while batch > 1 and memory_bytes(n, dim, batch) > args.max_mem_mb * 2**20:
            batch //= 2
        row["softmax_batch"] = batch
        if n <= args.softmax_max_v and memory_bytes(n, dim, batch) <= args.max_mem_mb * 2**20:
            log(f"V={n}: softmax B={batch}")
            row["softmax_b256"] = 1e6 * softmax_per_pair(n, dim, batch, rng, args.min_time)
            log(f"V={n}: softmax B=1")
            row["softmax_b1"] = 1e6 * softmax_per_pair(n, dim, 1, rng, args.min_time)
        # (b), (c) kernels
        log(f"V={n}: kernels")
        row["hs_rows"] = depth
        row["hs_kernel"] = 1e6 * max(
            0.0, kernel_per_call(max(n - 1, depth), depth, dim, True, rng, args.calls) - overhead
        )
        row["sgns_kernel"] = 1e6 * max(0.0, kernel_per_call(n, 6, dim, False, rng, args.calls) - overhead)
        # training loops on a Zipf corpus
        counts, ids = zipf_corpus(n, args.tokens, rng)
        log(f"V={n}: Huffman tree")
        vocab = Vocabulary([f"w{i}" for i in range(n)], counts)
        huffman = vocab.huffman()
        lengths = np.diff(huffman[0])
        row["hs_mean_path"] = float(lengths[ids[ids >= 0]].mean())
        del vocab
        log(f"V={n}: training loops")
        row["hs_train"] = (
            1e6
            * train_loop_per_pair(n, dim, ids, counts, hs=True, negative=0, shared=False, huffman=huffman)[0]
        )
        row["sgns_train"] = (
            1e6 * train_loop_per_pair(n, dim, ids, counts, hs=False, negative=5, shared=False)[0]
        )
        row["sgns_shared"] = (
            1e6 * train_loop_per_pair(n, dim, ids, counts, hs=False, negative=5, shared=True)[0]
        )
        rows.append(row)
        log("  " + ", ".join(f"{k}={fmt(v) if isinstance(v, float) else v}" for k, v in row.items()))

    real = []
    if args.corpus:
        log(f"real runs on {args.corpus}")
        real = real_runs(args.corpus, dim)

    keys = ["V"] + [k for k, _ in COLUMNS] + ["softmax_batch", "hs_rows", "hs_mean_path"]
    with open(out_dir / "bottleneck.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in keys})

    md = [
        f"CPU microseconds per training pair (one core, D={dim}, float32; lower is better)",
        "",
        "| V | " + " | ".join(label for _, label in COLUMNS) + " | softmax ÷ SGNS train |",
        "|---:|" + "---:|" * (len(COLUMNS) + 1),
    ]
    for r in rows:
        ratio = (r["softmax_b256"] / r["sgns_train"]) if r.get("softmax_b256") else None
        md.append(
            f"| {r['V']:,} | "
            + " | ".join(fmt(r.get(k)) for k, _ in COLUMNS)
            + f" | {fmt(ratio) + '×' if ratio else '—'} |"
        )
    md += [
        "",
        "| V | softmax batch used | HS kernel rows (ceil log2 V) | HS mean Huffman path (corpus) |",
        "|---:|---:|---:|---:|",
    ]
    for r in rows:
        md.append(f"| {r['V']:,} | {r['softmax_batch']} | {r['hs_rows']} | {r['hs_mean_path']:.2f} |")
    md += [
        "",
        "Notes:",
        f"- softmax: sgns.softmax.sgd_step in numpy (BLAS threads: {os.environ['OPENBLAS_NUM_THREADS']}); "
        f"minibatch = one step on B={args.batch} pairs / B (B halved to fit --max-mem-mb, see the batch column); "
        "every step touches all V output rows.",
        f"- HS kernel: sgns has a hierarchical-softmax kernel (hs=1); timed here as "
        f"_train.pair_update on ceil(log2 V) labelled rows, the path of a balanced tree, "
        f"minus the measured Python call overhead ({1e6 * overhead:.3f} µs per call). "
        "HS train uses word2vec.c's Huffman tree on a Zipf corpus, whose mean path is shorter.",
        "- SGNS kernel: pair_update with 1 positive + 5 negative rows, overhead subtracted.",
        "- kernel columns call the kernel once per pair from Python on rows at random offsets: "
        "cold cache and TLB misses included, which the training loop hides by prefetching the "
        "next centre's rows; they are noisier and higher than the train columns.",
        f"- train columns: Trainer.train_ids, one thread, window 5, no subsampling, "
        f"{args.tokens:,} Zipf-distributed tokens; time / pairs.",
        f"- kernels: {_train.active_kernels()}.",
    ]
    if real:
        md += [
            "",
            f"Real runs: sgns.Word2Vec on {args.corpus}, 1 epoch, 1 worker, min_count 5, "
            "sample 1e-3, window 5",
            "",
            "| run | vocab | pairs | CPU seconds | µs per pair |",
            "|---|---:|---:|---:|---:|",
        ]
        for r in real:
            md.append(
                f"| {r['run']} | {r['vocab']:,} | {r['pairs']:,} | {r['seconds']:.2f} | "
                f"{r['us_per_pair']:.3f} |"
            )
    text = "\n".join(md) + "\n"
    (out_dir / "bottleneck.md").write_text(text)
    if not args.no_plot:
        try:
            plot(rows, out_dir / "bottleneck.png", dim)
        except ImportError:
            log("matplotlib is not installed: no plot (pip install matplotlib)")
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
