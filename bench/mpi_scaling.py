"""Distributed (MPI) training: measured quality and throughput on one
machine, and a modelled scaling table for a cluster.

    # 1 process x 2 threads vs mpirun -np 2 x 1 thread, same settings
    # (bench/compare.py's: skip-gram, size 100, window 5, negative 5,
    # sample 1e-4, min-count 5, 5 epochs), trained and evaluated in turn:
    python bench/mpi_scaling.py compare --corpus /work/data/corpus/corpus8.1k --repeat 2

    # quality and time against the synchronisation interval and mode
    python bench/mpi_scaling.py sweep --corpus /work/data/corpus/corpus8.1k \\
        --sync-words 20000,100000,500000 --sync sum,mean

    # Allreduce time for the model's matrices between the local ranks
    python bench/mpi_scaling.py allreduce --vocab 44875 --size 100

    # the modelled table (bytes and seconds of synchronisation per epoch at
    # 10 and 100 Gbit/s for N = 2..64 nodes) from a measured throughput
    python bench/mpi_scaling.py model --words-per-sec 1.8e6 --vocab 44875 --size 100 \\
        --epoch-words 5.4e6 --row-fraction 0.09

Every run is a fresh process (`python bench/mpi_scaling.py _run ...`, under
mpirun for the distributed rows); rank 0 writes the vectors and a JSON
line with its timings; this script evaluates the vectors afterwards
(analogy: word2vec.c compute-accuracy, threshold 30000; WS353 Spearman).
Results go to --out (JSON) and stdout (Markdown).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("SGNS_SHARED", "/work/shared"))
if str(HERE.parent) not in sys.path:  # run from a checkout: its sgns (built in place)
    sys.path.insert(0, str(HERE.parent))
SETTINGS = dict(
    sg=1, hs=0, vector_size=100, window=5, negative=5, sample=1e-4, min_count=5, epochs=5, alpha=0.025
)


def mpirun_prefix(n: int) -> list[str]:
    mpirun = shutil.which("mpirun") or shutil.which("mpiexec")
    if mpirun is None:
        sys.exit("mpirun not found: apt-get install openmpi-bin libopenmpi-dev (or your MPI)")
    cmd = [mpirun, "-np", str(n), "--oversubscribe"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    # Open MPI binds each rank to a core by default; with threads per rank
    # that pins all of a rank's threads to one core.
    cmd += ["--bind-to", "none"]
    return cmd


def loadavg() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


# ---- one training run (child process) -------------------------------------------


def run_child(args) -> None:
    import sgns
    from sgns import distributed

    comm = distributed.get_comm()
    rank = comm.Get_rank() if comm is not None else 0
    kwargs = dict(SETTINGS, workers=args.threads, seed=args.seed)
    if args.epochs:
        kwargs["epochs"] = args.epochs
    model = sgns.Word2Vec(**kwargs)
    t0 = time.perf_counter()
    if comm is None:
        model.build_vocab(corpus_file=args.corpus)
    else:
        distributed.build_vocab(model, args.corpus)
    t1 = time.perf_counter()
    if comm is None:
        model.train(corpus_file=args.corpus)
    else:
        distributed.train(model, args.corpus, sync_words=args.sync_words, sync=args.sync)
    t2 = time.perf_counter()
    if rank == 0:
        model.wv.save_word2vec_format(args.vectors, binary=True)
        out = {
            "ranks": comm.Get_size() if comm is not None else 1,
            "threads": args.threads,
            "vocab_s": t1 - t0,
            "train_s": t2 - t1,
            "total_s": t2 - t0,
            "words": sum(r.words for r in model.epoch_reports),
            "corpus_tokens": model.corpus_total_words,
            "epochs": model.epochs,
            "V": len(model.wv),
            "D": model.vector_size,
            "sync": getattr(model, "sync_stats", None),
            "sync_words": args.sync_words,
            "digest": distributed.model_digest(model),
        }
        if comm is not None:
            out["digests_equal"] = len(set(comm.gather(out["digest"], root=0))) == 1
        Path(args.result).write_text(json.dumps(out))
    elif comm is not None:
        comm.gather(distributed.model_digest(model), root=0)


# ---- parent helpers ----------------------------------------------------------


def evaluate(vectors: Path) -> dict:
    from sgns import KeyedVectors, evaluation

    kv = KeyedVectors.load_word2vec_format(str(vectors), binary=True)
    out = {}
    q = SHARED / "eval" / "questions-words.txt"
    ws = SHARED / "eval" / "wordsim353.tsv"
    if q.is_file():
        res = evaluation.compute_accuracy(kv, str(q), 30000)
        out["analogy"] = res.accuracy
    if ws.is_file():
        out["ws353"] = kv.evaluate_word_pairs(str(ws))[1][0]
    return out


def one_run(
    corpus: str,
    ranks: int,
    threads: int,
    workdir: Path,
    seed: int = 1,
    sync_words: int | None = None,
    sync: str = "sum",
    epochs: int | None = None,
    log: Path | None = None,
) -> dict:
    tag = f"r{ranks}t{threads}-{sync}-{sync_words}-s{seed}"
    vectors = workdir / f"{tag}.bin"
    result = workdir / f"{tag}.json"
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "_run",
        "--corpus",
        corpus,
        "--threads",
        str(threads),
        "--seed",
        str(seed),
        "--vectors",
        str(vectors),
        "--result",
        str(result),
        "--sync",
        sync,
    ]
    if sync_words:
        cmd += ["--sync-words", str(sync_words)]
    if epochs:
        cmd += ["--epochs", str(epochs)]
    if ranks > 1:
        cmd = mpirun_prefix(ranks) + cmd
    env = dict(os.environ)
    extra = [env["PYTHONPATH"]] if env.get("PYTHONPATH") else []
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent)] + extra)
    load0 = loadavg()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if log is not None:
        with open(log, "a") as f:
            f.write(f"$ {' '.join(cmd)}\n{proc.stdout}{proc.stderr}\n")
    if proc.returncode != 0:
        raise SystemExit(f"run failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    row = json.loads(result.read_text())
    row.update(evaluate(vectors), wall_s=wall, load_before=load0, load_after=loadavg(), command=" ".join(cmd))
    row["words_per_s"] = row["words"] / row["train_s"]
    row["tokens_per_s_e2e"] = row["epochs"] * row["corpus_tokens"] / row["total_s"]
    vectors.unlink()
    return row


def fmt_row(r: dict) -> str:
    s = r.get("sync") or {}
    sync = (
        f"{r['sync_words'] or 'default'} / {s.get('mode')}: {s.get('syncs')} syncs, "
        f"{s.get('bytes_per_sync', 0) / 1e6:.1f} MB each, {s.get('seconds', 0):.2f}s"
        if s
        else "–"
    )
    nan = float("nan")
    return (
        f"| {r['ranks']} × {r['threads']} | {sync} | {r['train_s']:.1f} | {r['words_per_s']:,.0f} | "
        f"{r['total_s']:.1f} | {r.get('analogy', nan):.3f} | {r.get('ws353', nan):.3f} | "
        f"{r['load_before']:.1f}/{r['load_after']:.1f} |"
    )


HEADER = (
    "| ranks × threads | sync (words/rank, mode: count, size, time) | train s | words/s (trained) | "
    "vocab+train s | analogy | WS353 | load before/after |\n|---|---|---|---|---|---|---|---|"
)


def compare(args) -> None:
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="sgns-mpi-"))
    workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    configs = [(1, 2, None, "mean"), (2, 1, args.sync_words, args.sync)]
    for rep in range(args.repeat):
        for ranks, threads, sw, sync in configs if rep % 2 == 0 else configs[::-1]:
            row = one_run(
                args.corpus,
                ranks,
                threads,
                workdir,
                seed=args.seed,
                sync_words=sw,
                sync=sync,
                log=workdir / "runs.log",
            )
            row["repeat"] = rep
            rows.append(row)
            print(fmt_row(row), flush=True)
    print("\n" + HEADER)
    for row in rows:
        print(fmt_row(row))
    if args.out:
        Path(args.out).write_text(json.dumps({"command": " ".join(sys.argv), "rows": rows}, indent=1))


def sweep(args) -> None:
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="sgns-mpi-"))
    workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for sync in args.sync.split(","):
        for sw in [int(float(x)) for x in args.sync_words.split(",")]:
            row = one_run(
                args.corpus,
                args.ranks,
                args.threads,
                workdir,
                seed=args.seed,
                sync_words=sw,
                sync=sync,
                log=workdir / "runs.log",
            )
            rows.append(row)
            print(fmt_row(row), flush=True)
    print("\n" + HEADER)
    for row in rows:
        print(fmt_row(row))
    if args.out:
        Path(args.out).write_text(json.dumps({"command": " ".join(sys.argv), "rows": rows}, indent=1))


# ---- Allreduce timing ------------------------------------------------------------


def allreduce_child(args) -> None:
    import numpy as np
    from mpi4py import MPI

    from sgns import distributed

    comm = MPI.COMM_WORLD
    a = np.random.default_rng(comm.Get_rank()).random((args.vocab, args.size), dtype=np.float32)
    b = a.copy()
    times = []
    for _ in range(args.reps):
        comm.Barrier()
        t0 = time.perf_counter()
        distributed._allreduce_sum(comm, a)
        a *= np.float32(1 / comm.Get_size())
        distributed._allreduce_sum(comm, b)
        b *= np.float32(1 / comm.Get_size())
        times.append(time.perf_counter() - t0)
    if comm.Get_rank() == 0:
        nbytes = a.nbytes + b.nbytes
        best = min(times)
        print(
            json.dumps(
                {
                    "ranks": comm.Get_size(),
                    "bytes": nbytes,
                    "best_s": best,
                    "median_s": sorted(times)[len(times) // 2],
                    "algbw_GBps": nbytes / best / 1e9,
                }
            )
        )


def allreduce(args) -> None:
    cmd = mpirun_prefix(args.ranks) + [
        sys.executable,
        str(Path(__file__).resolve()),
        "_allreduce",
        "--vocab",
        str(args.vocab),
        "--size",
        str(args.size),
        "--reps",
        str(args.reps),
    ]
    env = dict(os.environ, PYTHONPATH=str(HERE.parent))
    print(subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout.strip())


# ---- the model ------------------------------------------------------------------

NODES = (2, 4, 8, 16, 32, 64)


def _sync_seconds(nbytes: float, n: int, gbit: float, efficiency: float, latency_s: float) -> float:
    """One allreduce of nbytes per node: ring bandwidth term 2(N-1)/N x bytes
    at efficiency x link rate, plus 2 log2(N) message latencies."""
    import math

    return nbytes * 2 * (n - 1) / n / (efficiency * gbit * 1e9 / 8) + 2 * math.log2(n) * latency_s


def scaling_table(
    words_per_sec: float,
    vocab: int,
    size: int,
    epoch_words: float,
    global_sync_words,
    row_fraction=1.0,
    round_overhead_s: float = 1e-3,
    nodes=NODES,
    gbits=(10, 100),
    efficiency: float = 0.8,
    latency_s: float = 5e-6,
) -> str:
    """Synchronous rounds. Per epoch and node:

      compute  = epoch_words / (N x words_per_sec)       (measured single-node rate)
      syncs    = epoch_words / global_sync_words          (the same for every N: the
                 words ALL ranks train between syncs are bounded, see docs)
      bytes    = syncs x row_fraction x 2 matrices x V x D x 4 x 2(N-1)/N
      sync s   = syncs x (allreduce time of row_fraction x 2VD4 + round overhead)
      speed-up = (epoch_words / words_per_sec) / (compute + sync s)

    global_sync_words and row_fraction may be functions of N.
    """
    full = 2 * vocab * size * 4
    one = epoch_words / words_per_sec
    head = (
        "| N | compute s | syncs | GB/node | "
        + " | ".join(f"sync s @{g}G | speed-up @{g}G" for g in gbits)
        + " |"
    )
    lines = [head, "|" + "---|" * (4 + 2 * len(gbits))]
    for n in nodes:
        compute = one / n
        gsw = global_sync_words(n) if callable(global_sync_words) else global_sync_words
        frac = row_fraction(n) if callable(row_fraction) else row_fraction
        syncs = epoch_words / gsw
        sent = syncs * frac * full * 2 * (n - 1) / n
        cells = []
        for g in gbits:
            t = syncs * (_sync_seconds(frac * full, n, g, efficiency, latency_s) + round_overhead_s)
            cells.append(f"{t:.2f} | {one / (compute + t):.1f}x")
        lines.append(f"| {n} | {compute:.3f} | {syncs:.0f} | {sent / 1e9:.2f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def model_cmd(args) -> None:
    full = 2 * args.vocab * args.size * 4
    print(
        f"single node: {args.words_per_sec:,.0f} words/s; V={args.vocab:,}, D={args.size}: "
        f"{full / 1e6:.1f} MB of weights (syn0 + syn1neg); {args.epoch_words:,.0f} words per epoch; "
        f"a sync every {args.global_sync_words:,.0f} words (all ranks together); "
        f"{args.efficiency:.0%} of the link rate, {args.latency_us:g} us per message, "
        f"{args.round_overhead_ms:g} ms fixed cost per round\n"
    )
    print("Every sync sends whole matrices (bytes per node = 2 x V x D x 4 x syncs x 2(N-1)/N):\n")
    print(
        scaling_table(
            args.words_per_sec,
            args.vocab,
            args.size,
            args.epoch_words,
            args.global_sync_words,
            1.0,
            args.round_overhead_ms / 1e3,
            efficiency=args.efficiency,
            latency_s=args.latency_us / 1e6,
        )
    )

    def gsw(n):  # sgns's defaults: 100k words per rank for 2 ranks
        return args.two_rank_sync_words * 2 if n == 2 else args.global_sync_words

    def frac(n):
        return args.two_rank_row_fraction if n == 2 else args.row_fraction

    print(
        f"\nsgns's defaults: hot rows every round, all rows once per epoch ({args.row_fraction:.1%} "
        f"of the rows per sync on average, measured; N = 2: {args.two_rank_sync_words:,.0f} words "
        f"per rank between syncs, {args.two_rank_row_fraction:.1%}):\n"
    )
    print(
        scaling_table(
            args.words_per_sec,
            args.vocab,
            args.size,
            args.epoch_words,
            gsw,
            frac,
            args.round_overhead_ms / 1e3,
            efficiency=args.efficiency,
            latency_s=args.latency_us / 1e6,
        )
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compare")
    c.add_argument("--corpus", default="/work/data/corpus/corpus8.1k")
    c.add_argument("--repeat", type=int, default=2)
    c.add_argument("--seed", type=int, default=1)
    c.add_argument("--sync-words", type=int, default=None)
    c.add_argument("--sync", default="sum")
    c.add_argument("--workdir")
    c.add_argument("--out")
    s = sub.add_parser("sweep")
    s.add_argument("--corpus", default="/work/data/corpus/corpus8.1k")
    s.add_argument("--ranks", type=int, default=2)
    s.add_argument("--threads", type=int, default=1)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--sync-words", default="100000,300000,1000000,3000000")
    s.add_argument("--sync", default="sum")
    s.add_argument("--workdir")
    s.add_argument("--out")
    a = sub.add_parser("allreduce")
    a.add_argument("--ranks", type=int, default=2)
    a.add_argument("--vocab", type=int, default=44875)
    a.add_argument("--size", type=int, default=100)
    a.add_argument("--reps", type=int, default=10)
    m = sub.add_parser("model")
    m.add_argument("--words-per-sec", type=float, required=True, help="measured single-node rate")
    m.add_argument("--vocab", type=int, required=True)
    m.add_argument("--size", type=int, default=100)
    m.add_argument("--epoch-words", type=float, required=True)
    m.add_argument("--global-sync-words", type=float, default=40000)
    m.add_argument("--row-fraction", type=float, default=0.089, help="measured sync_stats row_fraction")
    m.add_argument("--two-rank-sync-words", type=float, default=100000)
    m.add_argument("--two-rank-row-fraction", type=float, default=0.117)
    m.add_argument("--round-overhead-ms", type=float, default=1.0)
    m.add_argument("--latency-us", type=float, default=5.0)
    m.add_argument("--efficiency", type=float, default=0.8)
    r = sub.add_parser("_run")
    r.add_argument("--corpus", required=True)
    r.add_argument("--threads", type=int, default=1)
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--epochs", type=int, default=None)
    r.add_argument("--sync-words", type=int, default=None)
    r.add_argument("--sync", default="sum")
    r.add_argument("--vectors", required=True)
    r.add_argument("--result", required=True)
    ar = sub.add_parser("_allreduce")
    ar.add_argument("--vocab", type=int, required=True)
    ar.add_argument("--size", type=int, required=True)
    ar.add_argument("--reps", type=int, default=10)
    args = p.parse_args()
    {
        "compare": compare,
        "sweep": sweep,
        "allreduce": allreduce,
        "model": model_cmd,
        "_run": run_child,
        "_allreduce": allreduce_child,
    }[args.cmd](args)


if __name__ == "__main__":
    main()
