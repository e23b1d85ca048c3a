#!/usr/bin/env python
"""Where one centre word's time goes in the default update: its arithmetic, its rows' traffic, the rest.

Builds a copy of the extension with -DSG_SKELETON (a switch for bench builds in csrc/kernels.c; no wheel has
it) in a temporary directory, then trains skip-gram with one worker in three ways per kernel set and vector
size, each in its own process:

  full     the default update (shared negatives), as shipped
  rows     the update reduced to prefetching the rows of the centres ahead: what remains is the rows' traffic
           and everything around the update
  rest     the update skipped: window, subsampling, noise draws, row pointers

and prints nanoseconds per kept centre word (the best epoch after the first: later epochs train from the cached
ids, so no text is read), what the update's FLOP (6·D·(1 + negative) per example, as bench/table.py counts
them) would take at this core's FMA peak (bench/fma_peak.c, the best of readings before and after the runs), and
the fraction of the peak the full update reaches. Settings of the shared BENCHMARKS.md: window 5, sample 1e-4,
min-count 5, seed 1; negative 5 unless --negatives asks for others (the block then has 1 + negative outputs).

    python bench/skeleton.py --corpus /path/to/corpus8.1k --sizes 100,300 --kernels avx512,avx2
    python bench/skeleton.py --corpus /path/to/corpus8.1k --kernels avx2 --negatives 5,10,15,20

Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import log
from table import FmaPeaks

ROOT = Path(__file__).resolve().parents[1]
MODES = {"full": "0", "rows": "1", "rest": "2"}

CHILD = r"""
import json, sys
import sgns
from sgns import _train
corpus, size, epochs, negative = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
m = sgns.Word2Vec(vector_size=size, workers=1, epochs=epochs, window=5, negative=negative, sample=1e-4,
                  min_count=5, seed=1)
m.build_vocab(corpus_file=corpus)
m.train(corpus_file=corpus, total_words=m.corpus_total_words, epochs=epochs)
best = min(m.epoch_reports[1:], key=lambda r: r.seconds)
print(json.dumps({"module": sgns.__file__, "kernels": _train.active_kernels(), "seconds": best.seconds,
                  "centres": best.effective_words, "examples": best.examples}))
"""


def build(workdir: Path) -> Path:
    """A copy of the sources with the extension built in place, -DSG_SKELETON."""
    src = workdir / "src"
    src.mkdir()
    for name in ("setup.py", "pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "csrc", src / "csrc")
    # Sources only: the built modules and Cython's C output are made afresh.
    shutil.copytree(
        ROOT / "sgns", src / "sgns", ignore=shutil.ignore_patterns("*.so", "*.pyd", "*.c", "__pycache__")
    )
    env = dict(os.environ, CFLAGS=(os.environ.get("CFLAGS", "") + " -DSG_SKELETON").strip())
    print("building the skeleton copy ...", file=sys.stderr, flush=True)
    subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext", "--inplace"],
        cwd=src,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return src


def measure(src: Path, corpus: str, size: int, negative: int, kernels: str, mode: str, epochs: int) -> dict:
    env = dict(
        os.environ, PYTHONPATH=str(src), SGNS_KERNELS=kernels, SGNS_SKELETON=MODES[mode], PYTHONSAFEPATH="1"
    )
    out = subprocess.run(
        [sys.executable, "-c", CHILD, corpus, str(size), str(epochs), str(negative)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=src.parent,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    if not result["module"].startswith(str(src)):
        raise RuntimeError(f"the child imported {result['module']}, not the skeleton build")
    if result["kernels"] != kernels:
        raise RuntimeError(f"asked for {kernels}, ran {result['kernels']}")
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", required=True, help="a text file (the benchmark's corpus8.1k)")
    p.add_argument("--sizes", default="100,300")
    p.add_argument("--kernels", default="avx512,avx2", help="kernel sets, comma-separated")
    p.add_argument("--epochs", type=int, default=4, help="epochs per run (the first is not counted)")
    p.add_argument(
        "--negatives",
        default="5",
        help="negative values, comma-separated (the block has 1 + negative outputs)",
    )
    args = p.parse_args(argv)
    if args.epochs < 2:
        p.error("--epochs must be at least 2")
    # The children run in the build's directory: a relative path must not change meaning there.
    corpus = str(Path(args.corpus).resolve())
    if not Path(corpus).is_file():
        p.error(f"no such corpus file: {args.corpus}")
    sizes = [int(x) for x in args.sizes.split(",")]
    negatives = [int(x) for x in args.negatives.split(",")]
    if any(not 1 <= n <= 64 for n in negatives):
        p.error("--negatives: each between 1 and 64")
    sets = args.kernels.split(",")
    with tempfile.TemporaryDirectory(prefix="sgns-skeleton-") as tmp:
        workdir = Path(tmp)
        peaks = FmaPeaks(sets, workdir)
        peaks.read()
        src = build(workdir)
        rows = []  # (kernels, size, negative, ns per mode, FLOP per centre): printed once the peak's last reading is in
        for kernels in sets:
            for size in sizes:
                for negative in negatives:
                    ns = {}
                    for mode in MODES:
                        r = measure(src, corpus, size, negative, kernels, mode, args.epochs)
                        ns[mode] = r["seconds"] / r["centres"] * 1e9
                        if mode == "full":
                            flop_per_centre = 6.0 * size * (1 + negative) * r["examples"] / r["centres"]
                    log(
                        f"{kernels} D={size} negative={negative}: "
                        + ", ".join(f"{m} {v:.0f} ns" for m, v in ns.items())
                    )
                    rows.append((kernels, size, negative, ns, flop_per_centre))
        peaks.read()
        print(
            "| kernels | D | negative | full ns/centre | rows ns | rest ns | FLOP at peak, ns | full, of FMA peak |\n"
            "|---|---|---|---|---|---|---|---|"
        )
        for kernels, size, negative, ns, flop_per_centre in rows:
            peak = peaks.best.get(kernels)
            at_peak = flop_per_centre / peak if peak else None
            print(
                f"| {kernels} | {size} | {negative} | {ns['full']:.0f} | {ns['rows']:.0f} | {ns['rest']:.0f} | "
                + (f"{at_peak:.0f} | {100 * at_peak / ns['full']:.0f}% |" if at_peak else "– | – |")
            )
        if peaks.best:
            print(peaks.note())
    return 0


if __name__ == "__main__":
    sys.exit(main())
