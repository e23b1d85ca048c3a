#!/usr/bin/env python
"""Phrase detection: sgns against gensim's Phrases and word2vec.c's word2phrase.

    python bench/phrases.py [--corpus FILE] [--threads 2] [--word2phrase PATH]

Every measurement runs in a fresh process (wall time and that process's peak
RSS, from wait4). Rows:
  learn      sgns.Phrases(corpus_file=...) | gensim Phrases(LineSentence) -> save
  freeze     load that model, freeze() (keep the phrases that pass), save
  transform  load the frozen model, rewrite the corpus to a file
             (sgns: transform_file in C; gensim: phrases[LineSentence] joined)
  word2phrase sgns phrase | word2phrase (-threshold 100): learning ends when the
             "Vocab size" line appears on stdout; the whole run includes rewriting
Both Phrases use gensim's defaults (min_count 5, threshold 10). The default
corpus is $SGNS_CORPUS8_1K (the shared corpus8.1k); nothing is assumed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

LEARN = {
    "sgns": (
        "import sys, sgns\n"
        "p = sgns.Phrases(corpus_file=sys.argv[1], workers=int(sys.argv[3]))\n"
        "p.save(sys.argv[2])\n"
    ),
    "gensim": (
        "import sys\n"
        "from gensim.models.phrases import Phrases\n"
        "from gensim.models.word2vec import LineSentence\n"
        "Phrases(LineSentence(sys.argv[1])).save(sys.argv[2])\n"
    ),
}
FREEZE = {
    "sgns": "import sys, sgns\nsgns.Phrases.load(sys.argv[2]).freeze().save(sys.argv[2] + '.frozen')\n",
    "gensim": (
        "import sys\n"
        "from gensim.models.phrases import Phrases\n"
        "Phrases.load(sys.argv[2]).freeze().save(sys.argv[2] + '.frozen')\n"
    ),
}
TRANSFORM = {
    "sgns": (
        "import sys, sgns\n"
        "sgns.FrozenPhrases.load(sys.argv[2] + '.frozen').transform_file(sys.argv[1], sys.argv[2] + '.out')\n"
    ),
    "gensim": (
        "import sys\n"
        "from gensim.models.phrases import FrozenPhrases\n"
        "from gensim.models.word2vec import LineSentence\n"
        "f = FrozenPhrases.load(sys.argv[2] + '.frozen')\n"
        "with open(sys.argv[2] + '.out', 'w') as out:\n"
        "    for s in f[LineSentence(sys.argv[1])]:\n"
        "        out.write(' '.join(s) + '\\n')\n"
    ),
}
LABELS = {
    ("learn", "sgns"): "Phrases(corpus_file=...), {threads} threads; save",
    ("learn", "gensim"): "Phrases(LineSentence(...)); save",
    ("freeze", "sgns"): "load the model, freeze(), save",
    ("freeze", "gensim"): "load the model, freeze(), save",
    ("transform", "sgns"): "load the frozen model, transform_file",
    ("transform", "gensim"): "load the frozen model, phrases[LineSentence] to a file",
}


def measure(argv: list[str], marker: bytes | None = None, env=None) -> tuple[float, float, float | None]:
    """(wall s, peak RSS MiB, seconds until `marker` first showed on stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    seen, text = None, b""
    while chunk := proc.stdout.read1(1 << 16):  # word2phrase ends progress lines with CR
        text = text[-64:] + chunk
        if marker and seen is None and marker in text:
            seen = time.perf_counter() - start
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(argv)}")
    return wall, usage.ru_maxrss / 1024, seen


def python_env() -> dict:
    return dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def row(name: str, wall: float, rss: float, base: float | None = None, base_rss: float | None = None) -> None:
    ratio = f"{wall / base:6.1f}x sgns's time" if base else ""
    mem = f", {rss / base_rss:4.1f}x its RSS" if base_rss else ""
    print(f"  {name:<64} {wall:8.2f} s {rss:9.1f} MiB   {ratio}{mem}")


def bench_phrases(corpus: str, threads: int, tmp: str, env: dict) -> None:
    results = {}
    for step, scripts in (("learn", LEARN), ("freeze", FREEZE), ("transform", TRANSFORM)):
        print(f"{step}:")
        for lib in ("sgns", "gensim"):
            model = os.path.join(tmp, f"{lib}.model")
            argv = [sys.executable, "-c", scripts[lib], corpus, model, str(threads)]
            wall, rss, _ = measure(argv, env=env)
            results[step, lib] = (wall, rss)
            base = results[step, "sgns"] if lib == "gensim" else (None, None)
            row(f"{lib}: {LABELS[step, lib].format(threads=threads)}", wall, rss, *base)


def bench_word2phrase(corpus: str, threads: int, word2phrase: str, tmp: str, env: dict) -> None:
    print("word2phrase -threshold 100 (learning ends at the vocabulary summary line):")
    ours = measure(
        [
            sys.executable,
            "-m",
            "sgns",
            "phrase",
            "-train",
            corpus,
            "-output",
            os.path.join(tmp, "s.txt"),
            "-threads",
            str(threads),
        ],
        b"Vocab size",
        env,
    )
    theirs = measure(
        [word2phrase, "-train", corpus, "-output", os.path.join(tmp, "w.txt")], b"Words written", env
    )
    for name, (wall, rss, learned) in (("sgns phrase", ours), ("word2phrase", theirs)):
        line = f"  {name:<12} learn {learned:6.2f} s | rewrite {wall - learned:6.2f} s | total {wall:6.2f} s {rss:9.1f} MiB"
        if name == "word2phrase":
            line += (
                f"   {learned / ours[2]:4.1f}x | {(wall - learned) / (ours[0] - ours[2]):4.1f}x | "
                f"{wall / ours[0]:4.1f}x sgns's time, {rss / ours[1]:5.1f}x its RSS"
            )
        print(line)
    same = Path(tmp, "s.txt").read_bytes() == Path(tmp, "w.txt").read_bytes()
    print(f"  outputs byte-identical: {same}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=os.environ.get("SGNS_CORPUS8_1K"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--word2phrase", default=os.path.join(os.path.dirname(sys.executable), "word2phrase"))
    args = parser.parse_args()
    if not args.corpus or not os.path.isfile(args.corpus):
        parser.error("give --corpus FILE (or set SGNS_CORPUS8_1K)")
    size = os.path.getsize(args.corpus)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"corpus {args.corpus}: {size / 1e6:.1f} MB; {os.cpu_count()} CPUs, load average {load:.2f}")
    env = python_env()
    with tempfile.TemporaryDirectory(prefix="sgns-bench-phrases-") as tmp:
        bench_phrases(args.corpus, args.threads, tmp, env)
        if os.path.isfile(args.word2phrase):
            bench_word2phrase(args.corpus, args.threads, args.word2phrase, tmp, env)
        else:
            print(f"word2phrase not found at {args.word2phrase}: skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
