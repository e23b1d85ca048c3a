#!/usr/bin/env python
"""Vocabulary building at scale: sgns and gensim build_vocab(corpus_file=...)
on a corpus of millions of word types, each in its own process.

The corpus is synthetic: --tokens words drawn from a Zipf (s = 1) law over
--types types ("w0", "w1", ...), 1000 words a line, seed 1 (the generator of
the shared corpus/make-zipf.py; the default 50M tokens over 20M types gives
about 300 MB with about 7.0M distinct words, of which min_count 5 keeps
719,638). It is written to --corpus if that file does not exist yet (then
kept), else to a temporary file.

For each trainer and each --sizes vector size, one process runs
Word2Vec(vector_size=size, min_count=..., workers=...).build_vocab(corpus_file=...)
and reports:

- **seconds**: wall time of build_vocab alone (after imports): counting,
  sorting and filtering the vocabulary, and allocating the weights.
- **MB/s**: corpus bytes / seconds. sgns also logs its counting pass alone
  ("scan MB/s").
- **peak RSS MB**: the process's high-water mark (VmHWM of /proc/self/status,
  which starts afresh at exec; ru_maxrss where /proc is missing). Size 1 is
  the vocabulary alone; size 100 adds the input vectors (720k x 100 float32 =
  288 MB, which both libraries fill with random values).
- **ratio**: gensim seconds / sgns seconds, sgns RSS / gensim RSS.
- **load**: the 1-minute load average before and after the run. Above about
  0.5 on a 2-vCPU machine something else competed for the CPU.

With --train-epochs N the same process then trains N epochs of skip-gram
over the corpus file (negative 5, window 5, sample 1e-4, alpha 0.025 to
0.0001, seed 1; the same for both libraries) and reports **train s**, the
wall time of train() alone; the peak RSS then includes training.

    python bench/vocab_scale.py --corpus /tmp/zipf50m            # both sizes, both trainers
    python bench/vocab_scale.py --tokens 5000000 --types 2000000  # a quick small case
    python bench/vocab_scale.py --corpus /tmp/zipf50m --sizes 100,300 --train-epochs 1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Runs in the child: build the vocabulary, print one JSON line.
CHILD = r"""
import json, logging, os, re, resource, sys, time
trainer, path, size, workers, min_count, epochs = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:7])
scan = {}
class Scan(logging.Handler):
    def emit(self, record):
        m = re.search(r"in ([0-9.]+)s \(", record.getMessage())
        if m and "scanned" in record.getMessage():
            scan["seconds"] = float(m.group(1))
if trainer == "sgns":
    from sgns import Word2Vec
    logging.getLogger("sgns").addHandler(Scan())
    logging.getLogger("sgns").setLevel(logging.INFO)
else:
    from gensim.models import Word2Vec
t = time.perf_counter()
m = Word2Vec(vector_size=size, min_count=min_count, workers=workers, sg=1, hs=0, negative=5, window=5,
             sample=1e-4, alpha=0.025, min_alpha=0.0001, seed=1)
m.build_vocab(corpus_file=path)
seconds = time.perf_counter() - t
train_seconds = None
if epochs:
    t = time.perf_counter()
    m.train(corpus_file=path, total_words=m.corpus_total_words, total_examples=m.corpus_count, epochs=epochs)
    train_seconds = time.perf_counter() - t
kernels = None
if trainer == "sgns":
    from sgns import _train
    kernels = _train.active_kernels()
try:
    with open("/proc/self/status") as f:
        hwm = next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) / 1024
except OSError:
    hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1 << 20 if sys.platform == "darwin" else 1024)
print(json.dumps({"seconds": seconds, "words": len(m.wv), "peak_mb": hwm, "scan_seconds": scan.get("seconds"),
                  "train_seconds": train_seconds, "kernels": kernels}))
"""


def make_zipf(path: Path, tokens: int, types: int) -> None:
    """The shared make-zipf.py corpus: same draws, same layout."""
    import numpy as np

    rng = np.random.default_rng(1)
    cdf = np.cumsum(1.0 / np.arange(1, types + 1))
    cdf /= cdf[-1]
    tmp = path.with_name(path.name + ".partial")
    with open(tmp, "w") as f:
        for start in range(0, tokens, 1_000_000):
            m = min(1_000_000, tokens - start)
            words = np.char.add("w", np.searchsorted(cdf, rng.random(m)).astype(str))
            f.write("\n".join(" ".join(words[i : i + 1000]) for i in range(0, m, 1000)) + "\n")
    os.replace(tmp, path)


def run(python: str, trainer: str, corpus: Path, size: int, args) -> dict:
    env = dict(os.environ)
    if trainer == "sgns":
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    load0 = os.getloadavg()[0]
    cmd = [python, "-c", CHILD, trainer, str(corpus), str(size), str(args.workers), str(args.min_count)]
    cmd.append(str(args.train_epochs))
    p = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env, cwd=tempfile.gettempdir())
    load = max(load0, os.getloadavg()[0])
    if p.returncode != 0:
        return {"failed": p.stderr.strip().splitlines()[-1:] or ["?"], "load": load}
    return {**json.loads(p.stdout.strip().splitlines()[-1]), "load": load}


def has_gensim(python: str) -> bool:
    return subprocess.run([python, "-c", "import gensim"], check=False, capture_output=True).returncode == 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, help="the Zipf corpus (made there if missing)")
    ap.add_argument("--tokens", type=int, default=50_000_000)
    ap.add_argument("--types", type=int, default=20_000_000)
    ap.add_argument("--sizes", default="1,100", help="vector sizes, comma-separated")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--only", default="sgns,gensim")
    ap.add_argument("--train-epochs", type=int, default=0, help="then train this many skip-gram epochs")
    ap.add_argument("--peer-python", default=sys.executable, help="interpreter that imports gensim")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="sgns-vocab-") as tmp:
        # Absolute: the runs' processes start in another directory.
        corpus = args.corpus.resolve() if args.corpus else Path(tmp) / "zipf.txt"
        if not corpus.exists():
            print(f"writing {corpus}: {args.tokens:,} Zipf tokens over {args.types:,} types", flush=True)
            make_zipf(corpus, args.tokens, args.types)
        nbytes = corpus.stat().st_size
        print(f"corpus {corpus}: {nbytes / 1e6:.1f} MB; min_count {args.min_count}, workers {args.workers}")
        print(f"machine: {os.cpu_count()} CPUs; python {sys.version.split()[0]}\n")
        print("| vector size | trainer | seconds | MB/s | scan MB/s | peak RSS MB | words | train s | load |")
        print("|---|---|---|---|---|---|---|---|---|")
        for size in [int(s) for s in args.sizes.split(",")]:
            rows = {}
            for trainer in args.only.split(","):
                python = sys.executable if trainer == "sgns" else args.peer_python
                if trainer == "gensim" and not has_gensim(python):
                    print(f"| {size} | gensim | not available | | | | | | |")
                    continue
                r = rows[trainer] = run(python, trainer, corpus, size, args)
                if "failed" in r:
                    print(f"| {size} | {trainer} | failed: {r['failed'][0]} | | | | | | {r['load']:.1f} |")
                    continue
                scan = f"{nbytes / 1e6 / r['scan_seconds']:.0f}" if r.get("scan_seconds") else ""
                train = f"{r['train_seconds']:.1f}" if r.get("train_seconds") else ""
                name = f"{trainer} ({r['kernels']})" if r.get("kernels") else trainer
                print(
                    f"| {size} | {name} | {r['seconds']:.2f} | {nbytes / 1e6 / r['seconds']:.0f} | {scan} "
                    f"| {r['peak_mb']:.0f} | {r['words']:,} | {train} | {r['load']:.1f} |",
                    flush=True,
                )
            s, g = rows.get("sgns", {}), rows.get("gensim", {})
            if "seconds" in s and "seconds" in g:
                train = (
                    f"{g['train_seconds'] / s['train_seconds']:.1f}x faster"
                    if s.get("train_seconds") and g.get("train_seconds")
                    else ""
                )
                print(
                    f"| {size} | **sgns vs gensim** | {g['seconds'] / s['seconds']:.1f}x faster | | "
                    f"| {s['peak_mb'] / g['peak_mb']:.2f} of the RSS | {'same' if s['words'] == g['words'] else 'DIFFER'} "
                    f"| {train} | |"
                )


if __name__ == "__main__":
    main()
