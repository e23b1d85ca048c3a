#!/usr/bin/env python
"""Loading word2vec vector files: sgns and gensim KeyedVectors.load_word2vec_format,
each in its own process, on the same files.

The files are synthetic: --words words ("w0_", "w1_x", ...) with --dim random
float32 values each (seed 1), written once by sgns in the binary and the text
layout (word2vec.c's: "%f " per value) to --dir (kept there, so a second run
reuses them). A million 300-dimensional
vectors is 1.2 GB binary and about 3.3 GB of text, the size class of the public
GoogleNews (3M x 300) and fastText crawl files (files written by gensim hold
up to 9 significant digits per value: both the fast path and strtod take them).
--forms adds gzip-compressed copies (binary.gz, text.gz: the GoogleNews file is
a .bin.gz) and the text rows without their header line (headerless, read with
no_header=True, as GloVe files are).

For each file and library, one process loads it and prints:

- **seconds**: wall time of load_word2vec_format alone (after imports).
- **peak RSS MB**: the process's high-water mark (VmHWM).
- **ratio**: gensim seconds / sgns seconds.
- **load**: the 1-minute load average before and after; above about 0.5 on a
  2-vCPU machine something else competed for the CPU.

    python bench/vector_load.py --dir /path/to/scratch [--words 1000000 --dim 300] [--only sgns] [--skip-text]
    python bench/vector_load.py --dir /path/to/scratch --words 300000 --forms binary.gz,text.gz,headerless

Run it on a quiet machine; name the machine with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
lib, path, binary, no_header = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4] == "1"
if lib == "sgns":
    from sgns import KeyedVectors
else:
    from gensim.models import KeyedVectors
start = time.perf_counter()
kv = KeyedVectors.load_word2vec_format(path, binary=binary, no_header=no_header)
seconds = time.perf_counter() - start
hwm = None
try:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            hwm = int(line.split()[1]) / 1024
except OSError:
    pass
if hwm is None:
    hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "rss": hwm, "words": len(kv.index_to_key)}))
"""


def make_files(directory: Path, words: int, dim: int) -> tuple[Path, Path]:
    """The binary and text files of the benchmark, written by sgns if missing."""
    stem = directory / f"vectors_{words}x{dim}"
    bin_path, txt_path = stem.with_suffix(".bin"), stem.with_suffix(".txt")
    if not (bin_path.exists() and txt_path.exists()):
        import numpy as np

        from sgns import KeyedVectors

        print(f"writing {bin_path} and {txt_path} ...", file=sys.stderr, flush=True)
        vectors = np.random.default_rng(1).standard_normal((words, dim), dtype=np.float32)
        keys = [f"w{i}_{'x' * (i % 13)}" for i in range(words)]
        kv = KeyedVectors.from_arrays(keys, vectors, list(range(words, 0, -1)))
        kv.save_word2vec_format(bin_path, binary=True)
        kv.save_word2vec_format(txt_path, binary=False)
    return bin_path, txt_path


def derived_file(path: Path, form: str) -> Path:
    """The file of a derived form (a gzip copy, the rows without their header),
    written from path if missing."""
    import gzip
    import shutil

    out = (
        path.with_name(path.name + ".gz")
        if form.endswith(".gz")
        else path.with_name("headerless_" + path.name)
    )
    if not out.exists():
        print(f"writing {out} ...", file=sys.stderr, flush=True)
        partial = out.with_name(out.name + ".partial")  # renamed when whole: an interrupted run is not reused
        with open(path, "rb") as src:
            if form.endswith(".gz"):
                with gzip.open(partial, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 24)
            else:
                src.readline()
                with open(partial, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 24)
        os.replace(partial, out)
    return out


def load_average() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def ratio_to_sgns(times: dict, lib: str) -> str:
    """gensim's seconds over sgns's, for gensim's row of a table."""
    return f"{times['gensim'] / times['sgns']:.1f}x" if lib == "gensim" and "sgns" in times else ""


def run(lib: str, path: Path, binary: bool, no_header: bool) -> dict:
    before = load_average()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, lib, str(path), "1" if binary else "0", "1" if no_header else "0"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),  # not the repository: import the installed sgns
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["load"] = (before, load_average())
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", required=True, help="where the vector files are (written if missing)")
    p.add_argument("--words", type=int, default=1_000_000)
    p.add_argument("--dim", type=int, default=300)
    p.add_argument("--only", choices=["sgns", "gensim"], help="one library only")
    p.add_argument(
        "--skip-text", action="store_true", help="the binary file only (text takes minutes in gensim)"
    )
    p.add_argument(
        "--forms",
        default="binary,text",
        help="comma-separated, of binary, text, binary.gz, text.gz, headerless (default: binary,text)",
    )
    args = p.parse_args(argv)
    directory = Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    bin_path, txt_path = make_files(directory, args.words, args.dim)
    libs = [args.only] if args.only else ["sgns", "gensim"]
    forms = [f for f in args.forms.split(",") if not (args.skip_text and f != "binary")]
    files = []
    for form in forms:
        if form not in ("binary", "text", "binary.gz", "text.gz", "headerless"):
            p.error(f"unknown form {form!r}")
        binary = form.startswith("binary")
        path = bin_path if binary else txt_path
        if form not in ("binary", "text"):
            path = derived_file(path, form)
        files.append((form, path, binary, form == "headerless"))
    print(
        f"| file ({args.words} x {args.dim}) | library | seconds | peak RSS MB | ratio | load before/after |"
    )
    print("|---|---|---|---|---|---|")
    for name, path, binary, no_header in files:
        times = {}
        for lib in libs:
            r = run(lib, path, binary, no_header)
            if r["words"] != args.words:
                raise RuntimeError(f"{lib} loaded {r['words']} words from {path}, not {args.words}")
            times[lib] = r["seconds"]
            ratio = ratio_to_sgns(times, lib)
            load = "/".join(f"{x:.2f}" for x in r["load"])
            print(
                f"| {name} {path.stat().st_size / 1e6:.0f} MB | {lib} | {r['seconds']:.1f} | {r['rss']:.0f} "
                f"| {ratio} | {load} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
