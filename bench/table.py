#!/usr/bin/env python
"""The whole performance table: trainer x model x vector size x corpus x kernel set.

For every (corpus, model, size) it runs, one after another in separate
processes, with the settings of the shared BENCHMARKS.md (window 5, negative
5, sample 1e-4, min-count 5, 2 threads; alpha 0.025, CBOW 0.05):

  sgns         the default update, once per kernel set asked for (SGNS_KERNELS)
  sgns exact   skip-gram with negatives only: word2vec.c's per-pair update
  sgns groups N  (--groups N) shared_negatives=N: N centre words share one
               draw of negatives (a speed/quality trade-off; no FLOP column:
               the FLOP model below is the per-centre update's)
  gensim       Word2Vec(corpus_file=...) with the same model and settings
  word2vec.c   the same flags

Models: sg (skip-gram, negative sampling), cbow (negative sampling), sg-hs
(skip-gram, hierarchical softmax, no negatives).

Columns: wall s (whole process), peak RSS, analogy and WS353 (one evaluator
for all, see compare.py), speed ratios to gensim and word2vec.c from the same
run, and for sgns skip-gram with negatives the arithmetic rate of training:
6 x D x (1 + negative) FLOP per (input row, output set) example -- a dot
product, the gradient into the input and into each output row -- over the
training seconds and threads, against this core's FMA peak for the kernel set
measured by bench/fma_peak.c (compiled here with target attributes; read before
and after the runs, the best reading divides).

    python bench/table.py --corpus corpus8.1k --sizes 100,300 --models sg,cbow,sg-hs --markdown
    python bench/table.py --corpus small8 --models sg --kernels all --epochs 1
    python bench/table.py --corpus corpus8.1k --models sg --groups 2,3 --no-exact

The table goes to stdout, progress to stderr. Run it on a quiet machine:
other jobs skew the ratios by tens of percent.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import compare
from compare import log

from sgns import _train

MODELS = ("sg", "cbow", "sg-hs")
SGNS_SCRIPT = r"""
import json, sys, time
import sgns
from sgns import _train
corpus, out, stats, model, size, epochs, threads, shared = sys.argv[1:9]
size, epochs, threads, shared = int(size), int(epochs), int(threads), int(shared)
m = sgns.Word2Vec(sg=int(model != "cbow"), hs=int(model == "sg-hs"), negative=0 if model == "sg-hs" else 5,
                  vector_size=size, window=5, sample=1e-4, min_count=5, epochs=epochs, workers=threads,
                  alpha=0.05 if model == "cbow" else 0.025, shared_negatives=shared, seed=1)
m.build_vocab(corpus_file=corpus)
t0 = time.perf_counter()
m.train(corpus_file=corpus)
train_s = time.perf_counter() - t0
m.wv.save_word2vec_format(out, binary=True)
examples = sum(r.examples for r in m.epoch_reports)
json.dump({"train_s": train_s, "examples": examples, "kernels": _train.active_kernels()}, open(stats, "w"))
"""
GENSIM_SCRIPT = r"""
import sys
from gensim.models import Word2Vec
corpus, out, model, size, epochs, threads = sys.argv[1], sys.argv[2], sys.argv[3], *map(int, sys.argv[4:7])
m = Word2Vec(corpus_file=corpus, sg=int(model != "cbow"), hs=int(model == "sg-hs"),
             negative=0 if model == "sg-hs" else 5, vector_size=size, window=5, sample=1e-4, min_count=5,
             epochs=epochs, workers=threads, alpha=0.05 if model == "cbow" else 0.025)
m.wv.save_word2vec_format(out, binary=True)
"""


@dataclass
class Run:
    corpus: str
    model: str
    size: int
    trainer: str  # sgns | sgns exact | gensim | word2vec.c
    kernels: str = ""
    command: list[str] = field(default_factory=list)
    env: dict | None = None
    out: str = ""
    stats: str = ""
    status: str = "ok"
    wall_s: float | None = None
    cpu_s: float | None = None
    peak_rss_mb: float | None = None
    analogy: float | None = None
    ws353: float | None = None
    train_s: float | None = None
    gflops_core: float | None = None
    of_peak: float | None = None
    vs_gensim: float | None = None
    vs_word2vec: float | None = None
    load: float | None = None


class FmaPeaks:
    """This core's FMA peak per kernel set (bench/fma_peak.c), read when asked.

    A benchmark reads it before and after its runs and divides by the best
    reading: the peak is a property of the core, and a reading taken while a
    shared host is busy comes out low, which would overstate every fraction
    of it (seen on a 2-vCPU VM: one reading of 68.5 GFLOP/s among 88.6-91.1
    in the same hour). The note under a table gives every reading."""

    def __init__(self, sets: list[str], workdir: Path):
        self.sets = sets
        self.readings: list[dict[str, float]] = []
        self.exe: Path | None = workdir / "fma_peak"
        src = Path(__file__).resolve().parent / "fma_peak.c"
        try:
            subprocess.run(
                [os.environ.get("CC", "cc"), "-O2", "-o", str(self.exe), str(src)],
                check=True,
                capture_output=True,
            )
        except (OSError, subprocess.CalledProcessError) as e:
            log(f"fma_peak: cannot build ({e}); no peak column")
            self.exe = None

    def read(self) -> None:
        """One more reading of every set (a set this CPU cannot run has none)."""
        if self.exe is None:
            return
        try:
            text = subprocess.run(
                [str(self.exe), *self.sets], check=True, capture_output=True, text=True
            ).stdout
        except (OSError, subprocess.CalledProcessError) as e:
            log(f"fma_peak: cannot run ({e})")
            return
        reading = {}
        for line in text.splitlines():
            name, value = line.split()
            if value != "unsupported":
                reading[name] = float(value)
        self.readings.append(reading)
        log(f"FMA peak of one core, GFLOP/s: {reading}")

    @property
    def best(self) -> dict[str, float]:
        """Per set, the highest reading so far."""
        out: dict[str, float] = {}
        for reading in self.readings:
            for k, v in reading.items():
                out[k] = max(v, out.get(k, 0.0))
        return out

    def note(self) -> str:
        """The line under a table that names the peaks its fractions are of."""
        parts = []
        for k, v in self.best.items():
            seen = [f"{r[k]:.1f}" for r in self.readings if k in r]
            parts.append(f"{k} {v:.1f}" + (f" (readings {', '.join(seen)})" if len(seen) > 1 else ""))
        when = "best of the readings before and after the runs" if len(self.readings) > 1 else "one reading"
        return f"\nFMA peak of one core (bench/fma_peak.c, {when}), GFLOP/s: " + "; ".join(parts)


def w2v_flags(corpus: Path, out: Path, model: str, size: int, args) -> list[str]:
    flags = {
        "train": corpus,
        "output": out,
        "cbow": int(model == "cbow"),
        "hs": int(model == "sg-hs"),
        "negative": 0 if model == "sg-hs" else 5,
        "size": size,
        "window": 5,
        "sample": "1e-4",
        "min-count": 5,
        "iter": args.epochs,
        "threads": args.threads,
        "alpha": 0.05 if model == "cbow" else 0.025,
        "binary": 1,
    }
    return [str(x) for k, v in flags.items() for x in (f"-{k}", v)]


def sgns_env(kernels: str) -> dict:
    env = dict(os.environ, SGNS_KERNELS=kernels)
    root = str(Path(_train.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([root] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


def plan(args, corpora, peer_python, word2vec, workdir: Path) -> list[Run]:
    runs = []
    for corpus in corpora:
        for model in args.models:
            for size in args.sizes:
                tag = f"{corpus.name}-{model}-{size}"
                kernel_sets = args.kernels if model == "sg" else args.kernels[:1]
                modes = [("sgns", 1, k) for k in kernel_sets]
                if model == "sg" and not args.no_exact:
                    modes.append(("sgns exact", 0, args.kernels[0]))
                if model == "sg":
                    modes += [(f"sgns groups {n}", n, args.kernels[0]) for n in args.groups]
                for trainer, shared, kernels in modes:
                    name = f"{tag}-{trainer.replace(' ', '_')}-{kernels}"
                    out, stats = workdir / f"{name}.bin", workdir / f"{name}.json"
                    cmd = [sys.executable, "-c", SGNS_SCRIPT, str(corpus), str(out), str(stats), model]
                    cmd += [str(size), str(args.epochs), str(args.threads), str(int(shared))]
                    runs.append(
                        Run(
                            corpus.name,
                            model,
                            size,
                            trainer,
                            kernels,
                            cmd,
                            sgns_env(kernels),
                            str(out),
                            str(stats),
                        )
                    )
                run = Run(corpus.name, model, size, "gensim", out=str(workdir / f"{tag}-gensim.bin"))
                if peer_python:
                    run.command = [peer_python, "-c", GENSIM_SCRIPT, str(corpus), run.out, model]
                    run.command += [str(size), str(args.epochs), str(args.threads)]
                else:
                    run.status = "not available: no python with gensim"
                runs.append(run)
                run = Run(corpus.name, model, size, "word2vec.c", out=str(workdir / f"{tag}-w2v.bin"))
                if word2vec:
                    run.command = [word2vec, *w2v_flags(corpus, Path(run.out), model, size, args)]
                else:
                    run.status = "not available: no word2vec binary"
                runs.append(run)
    return runs


def measure(run: Run, workdir: Path, questions, ws353, threads: int) -> None:
    log(f"{run.corpus} {run.model} D={run.size} {run.trainer} {run.kernels}: running")
    logfile = workdir / (Path(run.out).stem + ".log")
    before = compare.loadavg()
    sample = compare.run_measured(run.command, logfile, run.env)
    run.load = max(x for x in (before, compare.loadavg(), 0.0) if x is not None)
    if sample.code != 0 or not Path(run.out).is_file():
        run.status = f"failed (exit {sample.code}), see {logfile}"
        log(run.status)
        return
    compare.evaluate(sample, Path(run.out), questions, ws353)
    run.wall_s, run.cpu_s, run.peak_rss_mb = sample.wall_s, sample.cpu_s, sample.peak_rss_mb
    run.analogy, run.ws353 = sample.analogy, sample.ws353
    if run.stats:
        stats = json.loads(Path(run.stats).read_text())
        run.train_s, run.kernels = stats["train_s"], stats["kernels"]
        if run.model == "sg" and not run.trainer.startswith("sgns groups"):
            flop = 6.0 * run.size * (1 + 5) * stats["examples"]
            run.gflops_core = flop / run.train_s / threads / 1e9
    log(
        f"  {run.wall_s:.1f}s wall, {run.peak_rss_mb:.0f} MB, analogy {compare.fmt(run.analogy, '.3f')}, "
        f"WS353 {compare.fmt(run.ws353, '.3f')}, load {run.load:.1f}"
    )


def add_ratios(runs: list[Run]) -> None:
    walls = {(r.corpus, r.model, r.size, r.trainer): r.wall_s for r in runs if r.wall_s}
    for r in runs:
        if r.wall_s:
            gensim = walls.get((r.corpus, r.model, r.size, "gensim"))
            w2v = walls.get((r.corpus, r.model, r.size, "word2vec.c"))
            r.vs_gensim = gensim / r.wall_s if gensim else None
            r.vs_word2vec = w2v / r.wall_s if w2v else None


HEADER = [
    "corpus",
    "model",
    "D",
    "trainer",
    "kernels",
    "wall s",
    "peak RSS MB",
    "analogy",
    "WS353",
    "vs gensim",
    "vs word2vec.c",
    "GFLOP/s/core",
    "of FMA peak",
    "load",
]


def cells(r: Run) -> list[str]:
    f = compare.fmt
    head = [r.corpus, r.model, str(r.size), r.trainer, r.kernels or "–"]
    if r.status != "ok" or r.wall_s is None:
        return head + [r.status] + [""] * (len(HEADER) - 6)
    return head + [
        f(r.wall_s, ".1f"),
        f(r.peak_rss_mb, ".0f"),
        f(r.analogy, ".3f"),
        f(r.ws353, ".3f"),
        f(r.vs_gensim, ".2f", "–") + ("×" if r.vs_gensim else ""),
        f(r.vs_word2vec, ".2f", "–") + ("×" if r.vs_word2vec else ""),
        f(r.gflops_core, ".1f", "–"),
        f(None if r.of_peak is None else 100 * r.of_peak, ".0f", "–") + ("%" if r.of_peak else ""),
        f(r.load, ".1f"),
    ]


def render(runs: list[Run], markdown: bool) -> str:
    rows = [cells(r) for r in runs]
    if markdown:
        out = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        return "\n".join(out + ["| " + " | ".join(c) + " |" for c in rows])
    widths = [max([len(h)] + [len(c[i]) for c in rows]) for i, h in enumerate(HEADER)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(HEADER, widths))]
    return "\n".join(lines + ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows])


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", action="append", required=True, help="a corpus file (repeat for more)")
    p.add_argument("--sizes", default="100,300", help="vector sizes, comma-separated (default 100,300)")
    p.add_argument("--models", default="sg,cbow,sg-hs", help=f"comma-separated subset of {', '.join(MODELS)}")
    p.add_argument(
        "--kernels",
        default="auto",
        help="sgns kernel sets for skip-gram rows: 'auto' (this CPU's best), 'all' (every set this CPU "
        "runs), or a comma-separated list; other models use the first",
    )
    p.add_argument("--no-exact", action="store_true", help="leave out the per-pair (exact) sgns rows")
    p.add_argument(
        "--groups", default="", help="comma-separated N: add skip-gram rows with shared_negatives=N (2..16)"
    )
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--shared", help="directory with eval/ (default $SGNS_SHARED)")
    p.add_argument("--peer-python", help="python with gensim")
    p.add_argument("--word2vec-bin", help="word2vec.c's word2vec binary")
    p.add_argument("--markdown", action="store_true")
    p.add_argument("--out", help="write every run as JSON here")
    args = p.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.models = [m for m in args.models.split(",") if m]
    args.groups = [int(n) for n in args.groups.split(",") if n]
    if any(not 2 <= n <= 16 for n in args.groups):
        p.error("--groups: each N in 2..16")
    if set(args.models) - set(MODELS):
        p.error(f"--models: choose from {', '.join(MODELS)}")
    supported = list(_train.supported_kernels())
    if args.kernels == "auto":
        args.kernels = [_train.active_kernels()]
    elif args.kernels == "all":
        best = _train.active_kernels()  # first: the set the other rows use
        args.kernels = [best] + [k for k in supported if k != best]
    else:
        args.kernels = args.kernels.split(",")
        if set(args.kernels) - set(supported):
            p.error(f"--kernels: this CPU runs {', '.join(supported)}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    args.corpus_dir, args.questions, args.ws353 = None, None, None
    shared = compare.shared_dir(args)
    questions = compare.find_eval(None, shared, "questions-words.txt")
    ws353 = compare.find_eval(None, shared, "wordsim353.tsv")
    peer_python = compare.find_peer_python(args)
    word2vec = compare.find_word2vec(args, peer_python)
    corpora = [Path(c).resolve() for c in args.corpus]
    machine = compare.machine_info()
    log(f"machine {machine}; peer python {peer_python}; word2vec {word2vec}")
    with tempfile.TemporaryDirectory(prefix="sgns-table-") as tmp:
        workdir = Path(tmp)
        peaks = FmaPeaks(sorted(set(args.kernels)), workdir)
        peaks.read()
        runs = plan(args, corpora, peer_python, word2vec, workdir)
        for run in runs:
            if run.status == "ok":
                measure(run, workdir, questions, ws353, args.threads)
        peaks.read()
    add_ratios(runs)
    for run in runs:
        if run.gflops_core and run.kernels in peaks.best:
            run.of_peak = run.gflops_core / peaks.best[run.kernels]
    print(render(runs, args.markdown))
    if peaks.best:
        print(peaks.note())
    if args.out:
        keep = {"command", "env"}
        result = {
            "machine": machine,
            "command": " ".join(shlex.quote(a) for a in [sys.executable] + sys.argv),
            "epochs": args.epochs,
            "threads": args.threads,
            "fma_peak_gflops": peaks.best,
            "fma_peak_readings": peaks.readings,
            "runs": [{k: v for k, v in vars(r).items() if k not in keep} for r in runs],
        }
        Path(args.out).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
