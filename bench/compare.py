#!/usr/bin/env python
"""Side-by-side benchmark: sgns against gensim, word2vec.c and fastText.

Every trainer runs in its own process, one after another, on the same corpus
with the settings of the project's BENCHMARKS.md (skip-gram, negative 5,
size 100, window 5, sample 1e-4, min-count 5, alpha 0.025, 5 epochs,
2 threads), and writes word2vec binary vectors. For each:

  wall s      the whole process: start-up, vocabulary scan, training, writing
  words/s     epochs x corpus tokens / wall
  CPU s       user + system seconds of the process
  peak RSS    of that process alone (ru_maxrss from a small launcher process
              that spawns and reaps it; see LAUNCHER)
  analogy     sgns.evaluation.compute_accuracy(threshold=30000).accuracy
              (word2vec.c compute-accuracy semantics) on questions-words.txt
  WS353       Spearman rho of sgns.evaluation.evaluate_word_pairs on wordsim353.tsv
  load        the highest 1-minute load average seen before/after its runs

All vectors are evaluated by the same code, in this process. Speed ratios are
walls of gensim (same size) and word2vec.c from the same run over this row's
wall. The machine is shared and noisy: only ratios taken side by side mean
much, and --repeat N (round robin, fastest run kept, quality averaged) helps.

    python bench/compare.py --corpus corpus8.1k --markdown --out results.json
    python bench/compare.py --only sgns,gensim --epochs 1 --corpus small8

The table goes to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

try:
    import sgns
except ImportError:  # not installed: use the source tree (built in place)
    sys.path.insert(0, str(REPO))
    import sgns

import numpy as np  # noqa: E402

from sgns import evaluation  # noqa: E402
from sgns.keyedvectors import KeyedVectors  # noqa: E402

TRAINERS = ("sgns", "sgns-shared", "gensim", "word2vec", "fasttext")

GENSIM_SCRIPT = r"""
import logging, sys
from gensim.models import Word2Vec
corpus, out, size, epochs, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
logging.basicConfig(format="%(asctime)s %(levelname)s %(message)s", level=logging.INFO)
model = Word2Vec(corpus_file=corpus, sg=1, hs=0, vector_size=size, window=5, negative=5, sample=1e-4,
                 min_count=5, epochs=epochs, workers=threads, alpha=0.025)
model.wv.save_word2vec_format(out, binary=True)
"""

FASTTEXT_SCRIPT = r"""
import struct, sys
import fasttext
corpus, out, size, epochs, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
model = fasttext.train_unsupervised(corpus, model="skipgram", dim=size, ws=5, neg=5, minCount=5, t=1e-4,
                                    epoch=epochs, thread=threads, lr=0.025, minn=0, maxn=0, verbose=2)
words = model.words
with open(out, "wb") as f:
    f.write(b"%d %d\n" % (len(words), size))
    for w in words:
        f.write(w.encode("utf-8") + b" " + model.get_word_vector(w).astype("<f4").tobytes() + b"\n")
"""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Row:
    key: str  # trainer id, e.g. "sgns" or "gensim@300"
    trainer: str  # label for the table
    how: str = ""
    size: int = 100
    threads: int = 2
    status: str = "ok"  # ok | not available: ... | failed: ...
    command: list[str] = field(default_factory=list)
    # Aggregates over the repeats (see aggregate()).
    wall_s: float | None = None  # fastest run
    words_per_s: float | None = None  # from the fastest run
    cpu_s: float | None = None  # least CPU (user + system) seconds
    peak_rss_mb: float | None = None  # largest
    vocab: int | None = None
    analogy: float | None = None  # mean over runs
    analogy_counts: str | None = None  # of the first run
    ws353: float | None = None  # mean over runs
    load: float | None = None  # highest 1-minute load average seen around its runs
    vs_gensim: float | None = None
    vs_word2vec: float | None = None
    log: str | None = None
    samples: list[Sample] = field(default_factory=list)


# ---- finding things ----------------------------------------------------------------


def shared_dir(args) -> Path | None:
    for candidate in (args.shared, os.environ.get("SGNS_SHARED"), REPO.parent / "shared"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def find_corpus(args, shared: Path | None) -> Path:
    for candidate in (args.corpus, os.environ.get("SGNS_CORPUS")):
        if candidate:
            path = Path(candidate)
            if not path.is_file():
                sys.exit(f"compare.py: corpus {path} not found")
            return path
    if shared is None or not (shared / "corpus" / "make-corpus.sh").is_file():
        sys.exit(
            "compare.py: no corpus: pass --corpus PATH (or set SGNS_CORPUS), or --shared DIR "
            "(or SGNS_SHARED) holding corpus/make-corpus.sh"
        )
    out_dir = Path(args.corpus_dir)
    log(f"building the corpus with {shared / 'corpus' / 'make-corpus.sh'} in {out_dir}")
    subprocess.run(
        ["bash", str(shared / "corpus" / "make-corpus.sh"), str(out_dir)], check=True, stdout=sys.stderr
    )
    return out_dir / "corpus8.1k"


def find_eval(explicit: str | None, shared: Path | None, name: str) -> Path | None:
    if explicit:
        return Path(explicit) if Path(explicit).is_file() else None
    if shared is not None and (shared / "eval" / name).is_file():
        return shared / "eval" / name
    return None


def python_imports(python: str, module: str) -> bool:
    try:
        return (
            subprocess.run([python, "-c", f"import {module}"], capture_output=True, timeout=120).returncode
            == 0
        )
    except (OSError, subprocess.SubprocessError):
        return False


def find_peer_python(args) -> str | None:
    if args.peer_python:
        return args.peer_python
    candidates = [sys.executable, os.environ.get("SGNS_PEER_PYTHON"), "/work/peers/bin/python"]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK) and python_imports(candidate, "gensim"):
            return candidate
    return None


def find_word2vec(args, peer_python: str | None) -> str | None:
    if args.word2vec_bin:
        return args.word2vec_bin if os.access(args.word2vec_bin, os.X_OK) else None
    found = shutil.which("word2vec")
    if found:
        return found
    for python in (peer_python, sys.executable):
        if python:
            beside = os.path.join(os.path.dirname(python), "word2vec")  # the venv's bin/, not resolved
            if os.access(beside, os.X_OK):
                return beside
    return None


def count_tokens(path: Path, chunk: int = 1 << 26) -> int:
    """Whitespace-separated tokens (word2vec.c's separators), counted with numpy."""
    space = np.zeros(256, dtype=bool)
    space[[ord(c) for c in " \t\n\r\v\f"]] = True
    tokens, prev_space = 0, True
    with open(path, "rb") as f:
        while block := f.read(chunk):
            is_space = space[np.frombuffer(block, dtype=np.uint8)]
            starts = ~is_space
            starts[1:] &= is_space[:-1]
            starts[0] &= prev_space
            tokens += int(starts.sum())
            prev_space = bool(is_space[-1])
    return tokens


def sgns_build() -> str:
    """The commit and the extension modules' modification times: sgns may be
    rebuilt while the benchmark runs (rows would then measure different code)."""
    package = Path(sgns.__file__).resolve().parent
    stamps = sorted(
        f"{p.name.split('.')[0]}@{time.strftime('%H:%M:%S', time.localtime(p.stat().st_mtime))}"
        for p in package.glob("*.so")
    )
    return " ".join(stamps)


def machine_info() -> dict:
    info = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "sgns": sgns.__version__,
        "cpus": os.cpu_count(),
    }
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                info["cpu"] = line.split(":", 1)[1].strip()
            if line.startswith("Flags:"):
                flags = line.split()
                info["simd"] = " ".join(f for f in ("avx2", "fma", "avx512f") if f in flags)
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            info["mem_gb"] = round(int(f.readline().split()[1]) / 1024**2, 1)
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        info["sgns_commit"] = commit + ("+dirty" if dirty else "")
    except OSError:
        pass
    return info


# ---- running -------------------------------------------------------------------------

# Runs one command and reports its wall time and peak RSS. It must be a small
# process: a child's ru_maxrss starts at the RSS of the process that forked it
# (Linux carries the old image's high-water mark across exec), so children of
# this benchmark process, which holds numpy and loaded vectors, would all
# report at least its size. A bare `python -S` is about 8 MB.
LAUNCHER = r"""
import os, sys, time
result, argv = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
try:
    pid = os.posix_spawnp(argv[0], argv, os.environ)
except OSError as e:
    open(result, "w").write('{"error": %r}' % str(e))
    sys.exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - t0
kb = usage.ru_maxrss / 1024.0 if sys.platform == "darwin" else usage.ru_maxrss
cpu = usage.ru_utime + usage.ru_stime
open(result, "w").write('{"code": %d, "wall": %r, "cpu": %r, "maxrss_kb": %r}'
                        % (os.waitstatus_to_exitcode(status), wall, cpu, kb))
"""


@dataclass
class Sample:
    """One run of one trainer."""

    code: int
    wall_s: float = float("nan")
    cpu_s: float = float("nan")  # user + system seconds of the trainer
    peak_rss_mb: float = float("nan")
    load_before: float | None = None  # 1-minute load average
    load_after: float | None = None
    sgns_build: str | None = None  # sgns's extension modules when the run started
    analogy: float | None = None
    analogy_counts: str | None = None
    ws353: float | None = None
    vocab: int | None = None
    eval_s: float | None = None


def loadavg() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def run_measured(command: list[str], log_path: Path, env: dict | None = None) -> Sample:
    """Run command to completion; wall seconds, CPU seconds and peak RSS of
    that process alone, measured by LAUNCHER around the command."""
    result_path = log_path.with_suffix(".rusage.json")
    result_path.unlink(missing_ok=True)
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-S", "-c", LAUNCHER, str(result_path)] + command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            proc.wait()
        except KeyboardInterrupt:
            proc.kill()
            proc.wait()
            raise
    try:
        result = json.loads(result_path.read_text())
    except (OSError, ValueError):
        return Sample(proc.returncode or 1)
    if "error" in result:
        with open(log_path, "a") as out:
            out.write(f"cannot start {command[0]}: {result['error']}\n")
        return Sample(127)
    return Sample(result["code"], result["wall"], result["cpu"], result["maxrss_kb"] / 1024.0)


def sgns_command(flags: dict) -> list[str]:
    return [sys.executable, "-m", "sgns"] + [str(x) for k, v in flags.items() for x in (f"-{k}", v)]


def plan(
    args, corpus: Path, outdir: Path, peer_python: str | None, word2vec: str | None
) -> list[tuple[Row, list | None, dict | None]]:
    """(row, command or None if unavailable, environment) for every run."""
    only = (
        set(args.only.split(","))
        if args.only
        else set(TRAINERS) - ({"fasttext"} if not args.with_fasttext else set())
    )
    unknown = only - set(TRAINERS)
    if unknown:
        sys.exit(f"compare.py: unknown trainer(s) {sorted(unknown)}; choose from {', '.join(TRAINERS)}")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(sgns.__file__).resolve().parent.parent)]
        + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    runs = []

    def w2v_flags(size, threads, out):
        return {
            "train": corpus,
            "output": out,
            "cbow": 0,
            "hs": 0,
            "size": size,
            "window": 5,
            "negative": 5,
            "sample": "1e-4",
            "min-count": 5,
            "iter": args.epochs,
            "threads": threads,
            "alpha": 0.025,
            "binary": 1,
        }

    def add_sgns(mode: str, size: int, threads: int):
        shared = mode == "sgns-shared"
        key = (
            mode
            + (f"@{size}" if size != args.size else "")
            + (f"/{threads}t" if threads != args.threads else "")
        )
        label = f"sgns {sgns.__version__} ({'shared negatives' if shared else 'exact'})"
        if size != args.size:
            label += f", size {size}"
        if threads != args.threads:
            label += f", {threads} thread{'s' if threads > 1 else ''}"
        flags = w2v_flags(size, threads, outdir / f"{key.replace('/', '-')}.bin")
        flags["shared-negatives"] = int(shared)
        cmd = sgns_command(flags)
        how = "sgns " + " ".join(shlex.quote(str(x)) for x in cmd[3:])
        runs.append((Row(key, label, how, size, threads), cmd, env))

    def add_gensim(size: int):
        key = "gensim" + (f"@{size}" if size != args.size else "")
        label = "gensim `Word2Vec(corpus_file=…)`" + (f", size {size}" if size != args.size else "")
        how = (
            f"sg=1, hs=0, vector_size={size}, window=5, negative=5, sample=1e-4, min_count=5, "
            f"epochs={args.epochs}, workers={args.threads}, alpha=0.025; save_word2vec_format(binary=True)"
        )
        row = Row(key, label, how, size, args.threads)
        if peer_python is None:
            row.status = "not available: no python with gensim (--peer-python)"
            runs.append((row, None, None))
            return
        version = subprocess.run(
            [peer_python, "-c", "import gensim; print(gensim.__version__)"], capture_output=True, text=True
        ).stdout.strip()
        if version:
            row.trainer = label.replace("gensim", f"gensim {version}", 1)
        cmd = [
            peer_python,
            "-c",
            GENSIM_SCRIPT,
            str(corpus),
            str(outdir / f"{key}.bin"),
            str(size),
            str(args.epochs),
            str(args.threads),
        ]
        runs.append((row, cmd, None))

    for mode in ("sgns", "sgns-shared"):
        if mode in only:
            add_sgns(mode, args.size, args.threads)
    if "gensim" in only:
        add_gensim(args.size)
    if "word2vec" in only:
        row = Row("word2vec", "word2vec.c", "", args.size, args.threads)
        if word2vec is None:
            row.status = "not available: no word2vec binary (--word2vec-bin)"
            runs.append((row, None, None))
        else:
            flags = w2v_flags(args.size, args.threads, outdir / "word2vec.bin")
            cmd = [word2vec] + [str(x) for k, v in flags.items() for x in (f"-{k}", v)]
            row.how = "word2vec " + " ".join(shlex.quote(str(x)) for x in cmd[1:])
            runs.append((row, cmd, None))
    if "fasttext" in only:
        row = Row(
            "fasttext",
            "fastText skipgram",
            f"dim={args.size}, ws=5, neg=5, minCount=5, t=1e-4, "
            f"epoch={args.epochs}, thread={args.threads}, lr=0.025, minn=0, maxn=0",
            args.size,
            args.threads,
        )
        python = peer_python or sys.executable
        if not python_imports(python, "fasttext"):
            row.status = "not available: no python with fasttext (--peer-python)"
            runs.append((row, None, None))
        else:
            cmd = [
                python,
                "-c",
                FASTTEXT_SCRIPT,
                str(corpus),
                str(outdir / "fasttext.bin"),
                str(args.size),
                str(args.epochs),
                str(args.threads),
            ]
            runs.append((row, cmd, None))
    if args.scaling:
        for mode in ("sgns", "sgns-shared"):
            if mode in only:
                add_sgns(mode, args.size, 1)
    if args.size300:
        if "sgns" in only or "sgns-shared" in only:
            add_sgns("sgns" if "sgns" in only else "sgns-shared", 300, args.threads)
        if "gensim" in only:
            add_gensim(300)
    return runs


def output_path(command: list[str]) -> Path:
    if "-output" in command:
        return Path(command[command.index("-output") + 1])
    return Path(command[4])  # the peer scripts: python -c SCRIPT corpus OUT ...


def evaluate(sample: Sample, vectors: Path, questions: Path | None, ws353: Path | None) -> None:
    t0 = time.perf_counter()
    kv = KeyedVectors.load_word2vec_format(vectors, binary=True)
    sample.vocab = len(kv)
    # A corpus without the evaluation sets' words (a synthetic one, another
    # language) gets no score ("–"), not a failed table.
    if questions is not None:
        result = evaluation.compute_accuracy(kv, questions, threshold=30000)
        if result.seen:
            sample.analogy = result.accuracy
            sample.analogy_counts = f"{result.correct}/{result.seen}"
    if ws353 is not None:
        try:
            sample.ws353 = evaluation.evaluate_word_pairs(kv, ws353)[1][0]
        except ValueError as e:  # no pair in the vocabulary
            log(f"no WS353 score: {e}")
    sample.eval_s = time.perf_counter() - t0


def aggregate(row: Row, tokens: int, epochs: int) -> None:
    good = [s for s in row.samples if s.code == 0 and s.wall_s == s.wall_s]
    if not good:
        return
    fastest = min(good, key=lambda s: s.wall_s)
    row.wall_s = fastest.wall_s
    row.words_per_s = epochs * tokens / fastest.wall_s
    row.cpu_s = min(s.cpu_s for s in good)
    row.peak_rss_mb = max(s.peak_rss_mb for s in good)
    row.vocab = good[0].vocab
    row.analogy_counts = good[0].analogy_counts
    for name in ("analogy", "ws353"):
        values = [getattr(s, name) for s in good if getattr(s, name) is not None]
        setattr(row, name, sum(values) / len(values) if values else None)
    loads = [x for s in good for x in (s.load_before, s.load_after) if x is not None]
    row.load = max(loads) if loads else None


def add_ratios(rows: list[Row], default_size: int) -> None:
    """Speed ratios (their wall / this wall) to the gensim row of the same
    size and to word2vec.c (same size only)."""
    walls = {r.key: r.wall_s for r in rows if r.status == "ok" and r.wall_s}
    for r in rows:
        if r.status != "ok" or not r.wall_s:
            continue
        gensim_key = "gensim" + (f"@{r.size}" if r.size != default_size else "")
        if gensim_key in walls:
            r.vs_gensim = walls[gensim_key] / r.wall_s
        if r.size == default_size and "word2vec" in walls:
            r.vs_word2vec = walls["word2vec"] / r.wall_s


# ---- output ----------------------------------------------------------------------------


def fmt(value, spec: str, missing: str = "n/a") -> str:
    return missing if value is None else format(value, spec)


def table(rows: list[Row], markdown: bool) -> str:
    header = [
        "trainer",
        "wall s",
        "words/s",
        "CPU s",
        "peak RSS MB",
        "analogy",
        "WS353",
        "vs gensim",
        "vs word2vec.c",
        "load",
    ]
    lines = []
    for r in rows:
        if r.status != "ok" or r.wall_s is None:
            lines.append([r.trainer, r.status] + [""] * (len(header) - 2))
            continue
        lines.append(
            [
                r.trainer,
                fmt(r.wall_s, ".1f"),
                fmt(r.words_per_s, ",.0f"),
                fmt(r.cpu_s, ".1f"),
                fmt(r.peak_rss_mb, ".0f"),
                fmt(r.analogy, ".3f"),
                fmt(r.ws353, ".3f"),
                fmt(r.vs_gensim, ".2f", "–") + ("×" if r.vs_gensim else ""),
                fmt(r.vs_word2vec, ".2f", "–") + ("×" if r.vs_word2vec else ""),
                fmt(r.load, ".1f"),
            ]
        )
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(cells) + " |" for cells in lines]
        return "\n".join(out)
    widths = [max([len(h)] + [len(c[i]) for c in lines]) for i, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    out += ["  ".join(c.ljust(w) for c, w in zip(cells, widths)) for cells in lines]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--corpus",
        help="training corpus (default: $SGNS_CORPUS, else built with SHARED/corpus/make-corpus.sh)",
    )
    parser.add_argument(
        "--shared",
        help="shared directory with corpus/ and eval/ (default: $SGNS_SHARED, "
        "else ../shared beside the repository)",
    )
    parser.add_argument(
        "--corpus-dir",
        default=str(REPO / "bench" / "out" / "corpus"),
        help="where make-corpus.sh builds the corpus (default: bench/out/corpus)",
    )
    parser.add_argument("--questions", help="analogy questions (default: SHARED/eval/questions-words.txt)")
    parser.add_argument("--ws353", help="word pairs (default: SHARED/eval/wordsim353.tsv)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(TRAINERS)}")
    parser.add_argument("--with-fasttext", action="store_true", help="add fastText (needs fasttext-wheel)")
    parser.add_argument("--scaling", action="store_true", help="add 1-thread sgns rows")
    parser.add_argument("--size300", action="store_true", help="add size-300 rows for sgns and gensim")
    parser.add_argument("--peer-python", help="python with gensim (and fasttext) installed")
    parser.add_argument("--word2vec-bin", help="word2vec.c's word2vec binary")
    parser.add_argument(
        "--workdir", help="where vectors and logs go (default: a temporary directory, removed)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run the whole sequence N times (round robin); report the fastest run",
    )
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    parser.add_argument("--out", help="write all results as JSON here")
    args = parser.parse_args(argv)

    shared = shared_dir(args)
    corpus = find_corpus(args, shared).resolve()
    questions = find_eval(args.questions, shared, "questions-words.txt")
    ws353 = find_eval(args.ws353, shared, "wordsim353.tsv")
    if questions is None:
        log("no analogy questions found (--questions): the analogy column stays empty")
    if ws353 is None:
        log("no word pairs found (--ws353): the WS353 column stays empty")
    peer_python = find_peer_python(args)
    word2vec = find_word2vec(args, peer_python)
    log(f"corpus {corpus}; peer python {peer_python}; word2vec {word2vec}")
    tokens = count_tokens(corpus)
    log(f"{tokens:,} tokens; {args.epochs} epochs, {args.threads} threads, size {args.size}")

    machine = machine_info()  # before the runs: the commit measured
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="sgns-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    runs = plan(args, corpus, workdir, peer_python, word2vec)
    rows = [row for row, _, _ in runs]
    try:
        for repeat in range(args.repeat):
            for row, command, env in runs:
                if command is None:
                    if repeat == 0:
                        log(f"{row.trainer}: {row.status}")
                    continue
                if row.status != "ok":  # failed in an earlier repeat
                    continue
                row.command = [
                    c if not (i == 2 and command[1] == "-c") else "<script>" for i, c in enumerate(command)
                ]
                name = row.key.replace("/", "-") + (f".{repeat + 1}" if args.repeat > 1 else "")
                row.log = str(workdir / f"{name}.log")
                log(
                    f"{row.trainer}: running{f' ({repeat + 1}/{args.repeat})' if args.repeat > 1 else ''}"
                    f" ({row.log})"
                )
                output_path(command).unlink(missing_ok=True)  # no stale vectors from an earlier run
                load_before, build_before = loadavg(), sgns_build()
                sample = run_measured(command, Path(row.log), env)
                sample.load_before, sample.load_after = load_before, loadavg()
                if row.key.startswith("sgns"):
                    sample.sgns_build = build_before
                row.samples.append(sample)
                vectors = output_path(command)
                if sample.code != 0 or not vectors.is_file():
                    row.status = f"failed (exit {sample.code}), see {row.log}"
                    log(f"{row.trainer}: {row.status}")
                    continue
                try:
                    evaluate(sample, vectors, questions, ws353)
                except Exception as e:  # a broken output file is a result, not a crash
                    log(f"{row.trainer}: evaluation failed: {e}")
                log(
                    f"{row.trainer}: {sample.wall_s:.1f}s wall, {sample.cpu_s:.1f}s CPU, "
                    f"{args.epochs * tokens / sample.wall_s:,.0f} words/s, {sample.peak_rss_mb:.0f} MB, "
                    f"analogy {fmt(sample.analogy, '.3f')} ({sample.analogy_counts}), "
                    f"WS353 {fmt(sample.ws353, '.3f')}, load {fmt(sample.load_before, '.1f')}"
                    f"->{fmt(sample.load_after, '.1f')}, eval {fmt(sample.eval_s, '.1f')}s"
                )
    finally:
        failed = any(r.status.startswith("failed") for r in rows)
        if not args.workdir and not args.keep and not failed:
            shutil.rmtree(workdir, ignore_errors=True)
        elif not args.workdir:
            log(f"kept {workdir} (logs{' of the failed runs' if failed else ''})")

    for row in rows:
        aggregate(row, tokens, args.epochs)
    builds = {s.sgns_build for r in rows for s in r.samples if s.sgns_build}
    if len(builds) > 1:
        log(
            f"WARNING: sgns was rebuilt during the benchmark ({' / '.join(sorted(builds))}): "
            "its rows measured different builds; rerun"
        )
    add_ratios(rows, args.size)
    print(table(rows, args.markdown))
    if args.out:
        result = {
            "machine": machine,
            "sgns_builds": sorted(builds),
            "command": " ".join(shlex.quote(a) for a in [sys.executable] + sys.argv),
            "corpus": str(corpus),
            "tokens": tokens,
            "epochs": args.epochs,
            "threads": args.threads,
            "size": args.size,
            "repeat": args.repeat,
            "questions": str(questions) if questions else None,
            "ws353": str(ws353) if ws353 else None,
            "rows": [asdict(r) for r in rows],
        }
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
        log(f"wrote {args.out}")
    return 0 if all(r.status == "ok" or r.status.startswith("not available") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
