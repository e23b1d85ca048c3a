#!/usr/bin/env python
"""Saving word2vec vector files: sgns and gensim KeyedVectors.save_word2vec_format,
each in its own process, on the same synthetic vectors.

--words words ("w0_", "w1_x", ...) with --dim random float32 values each (seed
1, as bench/vector_load.py makes them) are saved as binary and as text (the
default "%f " per value, word2vec.c's layout) to --dir, and the file removed.

For each layout and library, one process builds the vectors and prints:

- **seconds**: wall time of save_word2vec_format alone. sgns writes atomically
  (a temporary file, fsync, rename), so its figure includes waiting for the
  disk; gensim's leaves the data in the page cache.
- **MB**: the file's size.
- **ratio**: gensim seconds / sgns seconds.
- **load**: the 1-minute load average before and after.

    python bench/vector_save.py --dir /path/to/scratch [--words 300000 --dim 300] [--only sgns]

Run it on a quiet machine; name the machine with the figures.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from vector_load import load_average, ratio_to_sgns

CHILD = r"""
import json, os, sys, time
import numpy as np
lib, path, binary, words, dim = sys.argv[1], sys.argv[2], sys.argv[3] == "1", int(sys.argv[4]), int(sys.argv[5])
vectors = np.random.default_rng(1).standard_normal((words, dim), dtype=np.float32)
keys = [f"w{i}_{'x' * (i % 13)}" for i in range(words)]
if lib == "sgns":
    from sgns import KeyedVectors
    kv = KeyedVectors.from_arrays(keys, vectors, list(range(words, 0, -1)))
else:
    from gensim.models import KeyedVectors
    kv = KeyedVectors(dim)
    kv.add_vectors(keys, vectors)
start = time.perf_counter()
kv.save_word2vec_format(path, binary=binary)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "bytes": os.path.getsize(path)}))
os.remove(path)
"""


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", required=True, help="where the files are written (and removed)")
    p.add_argument("--words", type=int, default=300_000)
    p.add_argument("--dim", type=int, default=300)
    p.add_argument("--only", choices=["sgns", "gensim"], help="one library only")
    args = p.parse_args(argv)
    directory = Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    libs = [args.only] if args.only else ["sgns", "gensim"]
    print(f"| layout ({args.words} x {args.dim}) | library | seconds | MB | ratio | load before/after |")
    print("|---|---|---|---|---|---|")
    for layout, binary in (("binary", True), ("text", False)):
        times = {}
        for lib in libs:
            before = load_average()
            out = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    CHILD,
                    lib,
                    str(directory / f"save_{lib}.{'bin' if binary else 'txt'}"),
                    "1" if binary else "0",
                    str(args.words),
                    str(args.dim),
                ],
                check=True,
                capture_output=True,
                text=True,
                cwd=tempfile.gettempdir(),  # not the repository: import the installed sgns
            ).stdout
            r = json.loads(out.strip().splitlines()[-1])
            times[lib] = r["seconds"]
            ratio = ratio_to_sgns(times, lib)
            print(
                f"| {layout} | {lib} | {r['seconds']:.2f} | {r['bytes'] / 1e6:.0f} | {ratio} "
                f"| {before:.2f}/{load_average():.2f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
