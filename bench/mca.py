"""Predicted throughput of the kernels' inner loops, from llvm-mca.

No ARM machine is needed: clang compiles csrc/kernels.c for x86-64 and for
aarch64 (assembly only), this script cuts out the innermost loop of each
kernel function, and llvm-mca predicts its cycles per iteration on a given
CPU model. FLOP per iteration is counted from the FMA instructions in the
loop (2 FLOP per lane), so the table shows predicted FLOP per cycle.

    python bench/mca.py [--clang clang] [--mca llvm-mca]

Needs clang, llvm-mca and, for aarch64, the cross C headers
(libc6-dev-arm64-cross). Predictions are a model's, not measurements: they
assume every load hits L1 and nothing else runs (see bench/README.md).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# (label, clang target, extra clang flags, kernel set, lanes, llvm-mca CPUs)
TARGETS = [
    ("x86-64 AVX2", "x86_64-linux-gnu", [], "avx2", 8, ["znver3", "skylake"]),
    ("x86-64 AVX-512", "x86_64-linux-gnu", [], "avx512", 16, ["icelake-server"]),
    ("x86-64 generic (SSE2)", "x86_64-linux-gnu", [], "generic", 4, ["znver3"]),
    (
        "aarch64 NEON",
        "aarch64-linux-gnu",
        ["-isystem", "/usr/aarch64-linux-gnu/include"],
        "neon",
        4,
        ["apple-m1", "neoverse-v1", "neoverse-n1"],
    ),
]
# kernel function -> what its innermost loop does
LOOPS = {
    "dot": "dot product, 4 accumulators",
    "axpy": "y += a x",
    "update_group": "block update slice, per input row (the hot loop of shared negatives)",
}
FMA = re.compile(r"^\s*(vfmadd\w*|vfnmadd\w*|fmla|fmadd)\s+(.*)$")


def functions(asm: str) -> dict[str, list[str]]:
    """Assembly lines of each function, by name."""
    out: dict[str, list[str]] = {}
    name = None
    for line in asm.splitlines():
        m = re.match(r"^([A-Za-z_][\w.]*):", line)
        if m and not m.group(1).startswith("."):
            name = m.group(1)
            out[name] = []
        elif name:
            out[name].append(line)
    return out


def straight_loop(lines: list[str], i: int, label: str) -> list[str]:
    """The lines from a loop header (line i) to the branch back to its label."""
    body = []
    for later in lines[i + 1 :]:
        if later.strip() and not later.strip().startswith(("//", "#", ".p2align")):
            body.append(later)
        if re.search(rf"(?<![\w.]){re.escape(label)}(?!\w)", later):
            return body
    return []


def member_blocks(lines: list[str], header: str) -> list[str]:
    """The blocks clang marks as in the loop of header ("in Loop: Header=BB..."), wherever they stand: a
    rotated loop's body may come before its header, which then holds only the test."""
    name = header.removeprefix(".L")  # the members write .LBB41_180 as BB41_180
    body, inside = [], False
    for line in lines:
        m = re.match(r"^(\.LBB\w+):(.*)$", line) or re.match(r"^#\s*(%bb\.\d+):(.*)$", line)
        if m:
            inside = (
                m.group(1) == header or re.search(rf"Header={re.escape(name)}(?!\w)", m.group(2)) is not None
            )
        elif inside and line.strip() and not line.strip().startswith(("//", "#", ".p2align")):
            body.append(line)
    return body


def inner_loops(lines: list[str]) -> list[list[str]]:
    """Every innermost loop: from its header's label to the branch back to it, or, where that stretch has no
    arithmetic (a rotated loop), the blocks clang marks as in the loop."""
    loops = []
    for i, line in enumerate(lines):
        if "Inner Loop Header" not in line:
            continue
        # The header comment stands on the label's line or, in nested loops, below it.
        m = re.match(r"^(\.LBB\w+):", line) or re.match(r"^(\.LBB\w+):", lines[i - 1])
        if not m:
            continue
        body = straight_loop(lines, i, m.group(1))
        if not any(FMA.match(x) or re.match(r"^\s*mulps\s", x) for x in body):
            body = member_blocks(lines, m.group(1))
        loops.append(body)
    return loops


def vector_fmas(loop: list[str], lanes: int) -> int:
    """FMA instructions on full vectors of the set's width."""
    register = {4: ".4s", 8: "%ymm", 16: "%zmm"}[lanes]
    return sum(1 for line in loop if (m := FMA.match(line)) and register in m.group(2))


def mul_adds(loop: list[str]) -> int:
    """SSE2 has no FMA: count mulps (each paired with an addps) instead."""
    return sum(1 for line in loop if re.match(r"^\s*mulps\s", line))


def masked(loop: list[str]) -> bool:
    """A loop of masked loads or stores (AVX2 vmaskmov, AVX-512 {k} masks)."""
    return any("vmaskmov" in line or "{%k" in line for line in loop)


def mca_cycles(mca: str, triple: str, cpu: str, loop: list[str]) -> float:
    text = "\n".join(loop) + "\n"
    with tempfile.NamedTemporaryFile("w", suffix=".s") as f:
        f.write(text)
        f.flush()
        res = subprocess.run(
            [mca, f"-mtriple={triple}", f"-mcpu={cpu}", "-iterations=1000", f.name],
            capture_output=True,
            text=True,
            check=True,
        )
    total = int(re.search(r"Total Cycles:\s+(\d+)", res.stdout).group(1))
    return total / 1000.0


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clang", default="clang")
    ap.add_argument("--mca", default="llvm-mca")
    args = ap.parse_args(argv)
    version = subprocess.run([args.mca, "--version"], capture_output=True, text=True, check=True).stdout
    print("llvm-mca:", re.search(r"LLVM version \S+", version).group(0))
    print(f"{'target':24s} {'cpu':15s} {'loop':13s} {'cyc/iter':>8s} {'FLOP/iter':>9s} {'FLOP/cycle':>10s}")
    for label, triple, flags, kset, lanes, cpus in TARGETS:
        asm = subprocess.run(
            [args.clang, "-O3", "-S", f"--target={triple}", *flags, f"-I{ROOT / 'csrc'}"]
            + [str(ROOT / "csrc" / "kernels.c"), "-o", "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        funcs = functions(asm)
        for fn in LOOPS:
            loops = inner_loops(funcs.get(f"{fn}_{kset}", []))
            if kset == "generic" and triple.startswith("x86"):
                scored = [(mul_adds(lp), lp) for lp in loops]
            else:
                scored = [(vector_fmas(lp, lanes), lp) for lp in loops]
            if not scored or max(s for s, _ in scored) == 0:
                print(f"{label:24s} {'-':15s} {fn:13s} no vector loop found")
                continue
            # The full-width slices are the hot loop; a masked tail loop
            # (one per row) may have as many FMAs.
            fmas, loop = max(scored, key=lambda t: (t[0], not masked(t[1])))
            flop = 2 * lanes * fmas
            for cpu in cpus:
                cyc = mca_cycles(args.mca, triple, cpu, loop)
                print(f"{label:24s} {cpu:15s} {fn:13s} {cyc:8.2f} {flop:9d} {flop / cyc:10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
