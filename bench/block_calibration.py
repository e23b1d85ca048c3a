#!/usr/bin/env python
"""The default update's block, rows in L1: sgns's kernels against Intel MKL's JIT sgemm kernels.

Builds bench/block_calibration.c (with MKL when this Python environment has it: `pip install mkl mkl-include`)
and prints, per vector size, instruction set and number of inputs N (a window's context words: 2 x the drawn
radius; `--inputs 2,4,6,8,10` gives window 5's five block shapes, equally often in training, and their mean),
nanoseconds for the block's N x 6 dot products, for its update of both sides, and for both, with GFLOP/s and the
fraction of this core's FMA peak (bench/fma_peak.c). Rows are laid out as the trainer lays them out and sgns's
kernels take D rounded up to their vector width within the zero padding, as in training. MKL's JIT makes kernels
only on Intel CPUs; elsewhere its rows say so. MKL runs the
same FLOP as three small GEMMs (its update reads the new inputs for the outputs' step, which is not training's
order but costs the same); neither side computes sigmoids. A reference for what a vendor BLAS reaches on these
shapes, not a training figure: training adds the window, the noise draws, the rows' misses and the sigmoids
(bench/skeleton.py).

    python bench/block_calibration.py --sizes 100,300 [--inputs 2,4,6,8,10]

Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from table import FmaPeaks

ROOT = Path(__file__).resolve().parents[1]
MKL_ISA = {"avx512": "AVX512", "avx2": "AVX2"}


def find_mkl() -> tuple[Path, Path] | None:
    """(include dir, libmkl_rt) from this environment's prefix, where the mkl wheels put them."""
    prefix = Path(sys.prefix)
    header = prefix / "include" / "mkl.h"
    libs = sorted((prefix / "lib").glob("libmkl_rt.so*"))
    return (header.parent, libs[-1]) if header.is_file() and libs else None


def build(workdir: Path, mkl: tuple[Path, Path] | None) -> Path:
    exe = workdir / "block_cal"
    cmd = [os.environ.get("CC", "cc"), "-O3", "-std=c99", f"-I{ROOT / 'csrc'}", "-o", str(exe)]
    cmd += [str(ROOT / "bench" / "block_calibration.c"), str(ROOT / "csrc" / "kernels.c")]
    if mkl:
        include, lib = mkl
        cmd += ["-DWITH_MKL", f"-I{include}", str(lib), f"-Wl,-rpath,{lib.parent}"]
    subprocess.run(cmd + ["-lm"], check=True)
    return exe


def parse(line: str) -> dict:
    """'<who> <set> D=<d> dots <ns> ns update <ns> ns block <ns> ns <g> GFLOP/s' as a dict."""
    f = line.split()
    return {
        "who": f[0],
        "set": f[1],
        "dots": float(f[5]),
        "update": float(f[8]),
        "block": float(f[11]),
        "gflops": float(f[13]),
    }


def row(d: int, kset: str, n: str, who: str, r: dict, peaks: dict[str, float]) -> str:
    peak = peaks.get(kset)
    frac = f"{100 * r['gflops'] / peak:.0f}%" if peak else "–"
    return (
        f"| {d} | {kset} | {n} | {who} | {r['dots']:.1f} | {r['update']:.1f} | {r['block']:.1f} | "
        f"{r['gflops']:.1f} | {frac} |"
    )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="100,300")
    p.add_argument("--kernels", default="avx512,avx2", help="sgns kernel sets, comma-separated")
    p.add_argument("--inputs", default="6", help="inputs per block (1..10), comma-separated")
    args = p.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",")]
    inputs = [int(x) for x in args.inputs.split(",")]
    sets = args.kernels.split(",")
    mkl = find_mkl()
    if not mkl:
        print(
            "MKL not found in this environment (pip install mkl mkl-include): sgns rows only", file=sys.stderr
        )
    with tempfile.TemporaryDirectory(prefix="sgns-blockcal-") as tmp:
        workdir = Path(tmp)
        meter = FmaPeaks(sets, workdir)
        meter.read()
        peaks = meter.best
        exe = build(workdir, mkl)
        print(
            "| D | set | inputs | kernels | dots ns | update ns | block ns | GFLOP/s | of FMA peak |\n"
            "|---|---|---|---|---|---|---|---|---|"
        )
        for d in sizes:
            for kset in sets:
                env = dict(os.environ, MKL_ENABLE_INSTRUCTIONS=MKL_ISA.get(kset, ""))
                runs: dict[str, list[dict]] = {}
                said: set[str] = set()  # a set or MKL that cannot run is said once, not per N
                for n in inputs:
                    out = subprocess.run(
                        [str(exe), str(d), str(n), kset], env=env, check=True, capture_output=True, text=True
                    )
                    lines = out.stdout.splitlines()
                    if any("unsupported" in line for line in lines):
                        print(f"| {d} | {kset} | – | sgns {kset}: this CPU cannot run it | | | | | |")
                        break  # nor is MKL timed for it
                    for line in lines:
                        if "no JIT" in line:
                            if line not in said:
                                said.add(line)
                                print(f"| {d} | {kset} | – | {line} | | | | | |")
                            continue
                        r = parse(line)
                        who = "sgns" if r["who"] == "sgns" else f"MKL JIT ({r['set']})"
                        runs.setdefault(who, []).append(dict(r, n=n))
                        print(row(d, kset, str(n), who, r, peaks), flush=True)
                if len(inputs) > 1:
                    for who, rs in runs.items():
                        mean = {k: sum(r[k] for r in rs) / len(rs) for k in ("dots", "update", "block")}
                        # The FLOP of the mean block over its mean time.
                        flop = sum(r["gflops"] * r["block"] for r in rs) / len(rs)
                        mean["gflops"] = flop / mean["block"]
                        label = "mean of " + ",".join(str(r["n"]) for r in rs)
                        print(row(d, kset, label, who, mean, peaks), flush=True)
        if peaks:
            print(meter.note())
    return 0


if __name__ == "__main__":
    sys.exit(main())
