#!/usr/bin/env bash
# Memory-safety checks for sgns's C and Cython code.
#
#   scripts/memcheck.sh [--quick] [--no-asan] [--no-valgrind] [--keep]
#
# Works on a temporary copy of the working tree (the checkout is not
# touched, its in-place build neither):
#
#   1. bounds    SGNS_DEBUG=1 build (Cython boundscheck + initializedcheck,
#                -O0 -g), then the whole test suite.
#   2. asan      the same build plus -fsanitize=address in a second copy,
#                run with the runtime preloaded (LD_PRELOAD=libasan.so,
#                PYTHONMALLOC=malloc so every Python allocation has redzones):
#                the whole suite except tests/test_plot.py (matplotlib's C++
#                extension aborts under a preloaded ASan runtime), then the
#                training driver below.
#   3. valgrind  memcheck (--error-exitcode=1, PYTHONMALLOC=malloc) of the
#                training driver on the bounds-checked build. The CPython /
#                NumPy "uninitialised value" noise of an interpreter built
#                without valgrind support is suppressed by a generated
#                suppressions file (top frame in libpython, CPython's
#                lib-dynload modules or numpy); invalid reads/writes are never
#                suppressed (except the dynamic loader's known strncmp
#                over-read). Errors with an sgns frame are counted apart.
#
# --quick (what .ci/run runs, ~3-4 minutes on 2 cores): step 1 is folded
# into step 2 (the ASan build has the bounds checks too; without libasan the
# bounds-only build runs instead), on the tests that drive the C code:
# robustness, fuzz (at SGNS_FUZZ_SCALE=0.3), corpus, kernel and phrase tests
# ("not slow"); valgrind runs a smaller driver (each configuration once).
#
# The driver trains with workers=2 on a corpus file (cached and streamed)
# and on sentences, for skip-gram with shared_negatives True and False,
# hs=1, CBOW (sg=0) with negatives and with hs only, then exercises the
# vector/vocab/model loaders on good, truncated and corrupted files and the
# tokenizer on awkward bytes (NUL, CR, invalid UTF-8, words over the 1 MiB
# read buffer).
#
# Environment: PYTHON (default python3) needs numpy, Cython>=3, setuptools,
# pytest and hypothesis; CC (default cc) builds. valgrind and libasan are
# optional: a missing tool is reported and its step skipped (exit status 0
# only if every step that ran passed). Exit status: 0 pass, 1 a check failed,
# 2 usage or build error. pytest runs with SGNS_MEMCHECK=1 (tests stretch
# their time limits for the -O0 builds).
set -euo pipefail
# The whole script is one block, read before it runs: editing this file
# while it runs cannot change what it does.
{

QUICK=0 ASAN=1 VALGRIND=1 KEEP=0
for arg in "$@"; do
    case $arg in
        --quick) QUICK=1 ;;
        --no-asan) ASAN=0 ;;
        --no-valgrind) VALGRIND=0 ;;
        --keep) KEEP=1 ;;
        -h|--help) sed -n '2,40p' "$0"; exit 0 ;;
        *) echo "unknown option: $arg (see --help)" >&2; exit 2 ;;
    esac
done

START=$SECONDS
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
PYTHON=${PYTHON:-python3}
CC=${CC:-cc}
export CC
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sgns-memcheck.XXXXXX")
cleanup() { if [ "$KEEP" = 1 ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

declare -a SUMMARY=()
FAILED=0
note() { SUMMARY+=("$1"); printf '%s\n' "$1"; }
step() { printf '\n==== [%4ds] memcheck: %s\n' "$((SECONDS - START))" "$*"; }
passed() { grep -Eo '[0-9]+ passed.*in [0-9.]+s' "$1" | tail -n 1; }

# ---- the copy --------------------------------------------------------------------------------
copy_tree() {  # copy_tree DEST: the sources the build and the tests need
    local dest=$1
    mkdir -p "$dest"
    if git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1; then
        (cd "$REPO" && git ls-files -z --cached --others --exclude-standard -- \
            csrc sgns tests setup.py pyproject.toml README.md MANIFEST.in LICENSE) |
        while IFS= read -r -d '' f; do
            [ -f "$REPO/$f" ] || continue                   # deleted but still tracked
            mkdir -p "$dest/$(dirname "$f")"
            cp -p "$REPO/$f" "$dest/$f"
        done
    else
        (cd "$REPO" && cp -rp csrc sgns tests setup.py pyproject.toml README.md "$dest/")
        find "$dest" \( -name '*.so' -o -name '*.pyd' -o -name '__pycache__' \) -prune -exec rm -rf {} +
        rm -f "$dest/sgns/_train.c" "$dest/sgns/_tokenize.c"
    fi
}

build() {  # build DIR LOG [extra CFLAGS]: SGNS_DEBUG=1 in-place build
    local dir=$1 log=$2 cflags=${3:-}
    if ! (cd "$dir" && SGNS_DEBUG=1 CFLAGS="$cflags" LDFLAGS="$cflags" \
            "$PYTHON" setup.py build_ext --inplace >"$log" 2>&1); then
        tail -n 40 "$log"
        echo "memcheck: build failed in $dir (log: $log)" >&2
        return 1
    fi
}

check_import() {  # check_import DIR [env...]: the copy, not an installed sgns, is imported
    local dir=$1 where; shift
    where=$(cd "$dir" && env PYTHONPATH="$dir" "$@" "$PYTHON" -c \
        'import sgns._train, sgns._tokenize, sgns; print(sgns.__file__)' 2>&1 | tail -n 1)
    case $where in
        "$dir"/*) printf 'sgns imported from %s\n' "$where" ;;
        *) echo "memcheck: $dir imports sgns from $where" >&2; return 1 ;;
    esac
}

if [ "$QUICK" = 1 ]; then
    # The tests that drive the C reader, tokenizer, encoder, kernels and phrase table.
    TESTS=(tests/test_robustness.py tests/test_fuzz.py tests/test_corpus.py tests/test_kernels.py
           tests/test_phrases.py tests/test_phrases_word2phrase.py -k "not slow")
    ASAN_TESTS=("${TESTS[@]}")
    export SGNS_FUZZ_SCALE=${SGNS_FUZZ_SCALE:-0.3}
    DRIVE_MODE=quick
else
    TESTS=(tests)
    ASAN_TESTS=(tests --ignore=tests/test_plot.py)
    DRIVE_MODE=full
fi
LIBASAN=
if [ "$ASAN" = 1 ]; then
    LIBASAN=$("$CC" -print-file-name=libasan.so 2>/dev/null || true)
    if [ -z "$LIBASAN" ] || [ ! -e "$LIBASAN" ]; then
        note "asan: SKIPPED ($CC has no libasan.so)"
        LIBASAN=
    fi
fi
BOUNDS_RUN=1
if [ "$QUICK" = 1 ] && [ -n "$LIBASAN" ]; then BOUNDS_RUN=0; fi

run_pytest() {  # run_pytest DIR LABEL [env...] -- [pytest args...]
    local dir=$1 label=$2; shift 2
    local -a envs=()
    while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift || true
    local rc=0
    (cd "$dir" && env PYTHONPATH="$dir" SGNS_MEMCHECK=1 "${envs[@]}" "$PYTHON" -m pytest -q -p no:cacheprovider \
        -W ignore::DeprecationWarning "$@" </dev/null) >"$WORK/$label.log" 2>&1 || rc=$?
    tail -n 1 "$WORK/$label.log"
    if grep -q 'ERROR: AddressSanitizer' "$WORK/$label.log"; then
        grep -A 12 'ERROR: AddressSanitizer' "$WORK/$label.log" | head -n 40
        if [ "$rc" = 0 ]; then rc=1; fi
    fi
    return "$rc"
}

# ---- the driver (asan and valgrind) ------------------------------------------------------------
cat >"$WORK/drive.py" <<'EOF'
"""Training and loading under a memory checker (scripts/memcheck.sh)."""
import os
import sys
import tempfile

import numpy as np

import sgns
from sgns import FormatError, KeyedVectors, Word2Vec, _tokenize, formats

QUICK = len(sys.argv) > 1 and sys.argv[1] == "quick"
d = tempfile.mkdtemp(prefix="sgns-drive-")
rng = np.random.default_rng(0)
vocab = [f"w{i}" for i in range(80)] + ["naïve", "caf\udce9"]
lines = [" ".join(vocab[i] for i in rng.integers(0, len(vocab), int(rng.integers(1, 30))))
         for _ in range(400)]
lines[7] = " ".join(vocab[i % len(vocab)] for i in range(3000))  # a line longer than a chunk window
corpus = os.path.join(d, "c.txt")
with open(corpus, "wb") as f:
    f.write("\n".join(lines).encode("utf-8", "surrogateescape") + b"\n")
sentences = [l.split() for l in lines]
configs = [dict(shared_negatives=True), dict(shared_negatives=False), dict(hs=1),
           dict(hs=1, negative=0, shared_negatives=False), dict(sg=0), dict(sg=0, hs=1, negative=0),
           dict(sg=0, cbow_mean=0, hs=1)]
SOURCES = ("file-cached", "file-streamed", "sentences")
runs = [(kw, source) for kw in configs for source in SOURCES]
if QUICK:  # every configuration once, every source at least twice
    runs = [(kw, SOURCES[i % 3]) for i, kw in enumerate(configs)]
for kw, source in runs:
    if True:
        args = dict(vector_size=12, window=3, min_count=1, workers=2, epochs=2, seed=1, sample=1e-3,
                    compute_loss=True, max_sentence_length=50, **kw)
        if source == "sentences":
            m = Word2Vec(sentences, **args)
        else:
            m = Word2Vec(corpus_file=corpus, corpus_cache_mb=2048 if source == "file-cached" else 0, **args)
        assert np.isfinite(m.wv.vectors).all(), (kw, source)
        print(kw, source, m.words_done, flush=True)
m.wv.most_similar("w1", topn=3)
m.wv.most_similar(positive=["w1", "w2"], negative=["w3"], topn=3)

# vector files: good, truncated at every offset, corrupted
for binary in (True, False):
    path = os.path.join(d, "v.bin" if binary else "v.txt")
    m.wv.save_word2vec_format(path, binary=binary)
    data = open(path, "rb").read()
    KeyedVectors.load_word2vec_format(path, binary=binary, unicode_errors="surrogateescape")
    cut = os.path.join(d, "cut")
    for k in range(0, len(data), max(1, len(data) // (60 if QUICK else 300))):
        with open(cut, "wb") as f:
            f.write(data[:k])
        try:
            KeyedVectors.load_word2vec_format(cut, binary=binary, unicode_errors="replace")
        except FormatError:
            pass
    for k in range(0, len(data), max(1, len(data) // (40 if QUICK else 200))):
        with open(cut, "wb") as f:
            f.write(data[:k] + bytes([data[k] ^ 0x5A]) + data[k + 1:])
        try:
            KeyedVectors.load_word2vec_format(cut, binary=binary, unicode_errors="replace")
        except FormatError:
            pass

# vocabulary and model files
formats.write_vocab(os.path.join(d, "vocab.txt"), m.vocab.words, m.vocab.counts.tolist(), 400)
formats.read_vocab(os.path.join(d, "vocab.txt"))
m.save(os.path.join(d, "m.sgns"))
data = open(os.path.join(d, "m.sgns"), "rb").read()
for mmap in (None, "r", "c"):
    Word2Vec.load(os.path.join(d, "m.sgns"), mmap=mmap).wv.most_similar("w1", topn=2)
for k in range(0, len(data), max(1, len(data) // (30 if QUICK else 150))):
    for corrupt in (data[:k], data[:k] + bytes([data[k] ^ 0xFF]) + data[k + 1:]):
        with open(os.path.join(d, "bad.sgns"), "wb") as f:
            f.write(corrupt)
        try:
            Word2Vec.load(os.path.join(d, "bad.sgns"))
        except FormatError:
            pass
m2 = Word2Vec.load(os.path.join(d, "m.sgns"))
m2.build_vocab(corpus_file=corpus, update=True)
m2.train(corpus_file=corpus, epochs=1)

# the tokenizer on awkward bytes
awkward = (b"a\x00b\r\nc\td\v\fe caf\xe9 \xff\xfe\n" + "é".encode() * 700 + b" "
           + b"x" * ((1 << 20) + 5000) + b" " + "日".encode() * 400 + b" end")
with open(os.path.join(d, "awk.txt"), "wb") as f:
    f.write(awkward)
size = len(awkward)
for bounds in ([0, size], [0, size // 3, size // 2, size]):
    for a, b in zip(bounds, bounds[1:]):
        _tokenize.count_file(os.path.join(d, "awk.txt"), a, b)
m3 = Word2Vec(corpus_file=os.path.join(d, "awk.txt"), vector_size=4, min_count=1, workers=2, epochs=2)
print("driver done", len(m3.wv), flush=True)
EOF

# ---- 1. bounds-checked build -----------------------------------------------------------------
step "copy the working tree and build with SGNS_DEBUG=1 (bounds checks, -O0 -g)"
"$PYTHON" -c 'import Cython, numpy, pytest, hypothesis, setuptools' 2>/dev/null || {
    echo "memcheck: $PYTHON lacks one of Cython, numpy, pytest, hypothesis, setuptools" >&2; exit 2; }
BOUNDS=$WORK/bounds
copy_tree "$BOUNDS"
build "$BOUNDS" "$WORK/build-bounds.log" || exit 2
check_import "$BOUNDS" || exit 2
grep -q '__Pyx_RaiseBufferIndexError' "$BOUNDS/sgns/_train.c" \
    || { echo "memcheck: the debug build has no bounds checks" >&2; exit 2; }

if [ "$BOUNDS_RUN" = 1 ]; then
    step "bounds: pytest ${TESTS[*]}"
    if run_pytest "$BOUNDS" bounds -- "${TESTS[@]}"; then
        note "bounds-checked build (SGNS_DEBUG=1): pytest passed ($(passed "$WORK/bounds.log"))"
    else
        note "bounds-checked build (SGNS_DEBUG=1): pytest FAILED (log: $WORK/bounds.log)"; FAILED=1; KEEP=1
    fi
fi

# ---- 2. AddressSanitizer ---------------------------------------------------------------------
if [ -n "$LIBASAN" ]; then
    {
        step "asan: build with SGNS_DEBUG=1 and -fsanitize=address (runtime $LIBASAN)"
        AS=$WORK/asan
        copy_tree "$AS"
        build "$AS" "$WORK/build-asan.log" "-fsanitize=address -fno-omit-frame-pointer" || exit 2
        ASAN_ENV=(LD_PRELOAD="$LIBASAN" PYTHONMALLOC=malloc
                  ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:detect_stack_use_after_return=0)
        check_import "$AS" "${ASAN_ENV[@]}" || exit 2
        step "asan: pytest ${ASAN_TESTS[*]}"
        if run_pytest "$AS" asan "${ASAN_ENV[@]}" -- "${ASAN_TESTS[@]}"; then
            note "asan + bounds checks: pytest passed ($(passed "$WORK/asan.log")), no AddressSanitizer report"
        else
            note "asan: pytest FAILED (log: $WORK/asan.log)"; FAILED=1; KEEP=1
        fi
        step "asan: training driver"
        rc=0
        (cd "$WORK" && env PYTHONPATH="$AS" "${ASAN_ENV[@]}" "$PYTHON" drive.py full) >"$WORK/asan-drive.log" 2>&1 || rc=$?
        tail -n 2 "$WORK/asan-drive.log"
        if [ "$rc" = 0 ] && ! grep -q 'ERROR: AddressSanitizer' "$WORK/asan-drive.log"; then
            note "asan: training driver passed, no AddressSanitizer report"
        else
            grep -A 20 'ERROR: AddressSanitizer' "$WORK/asan-drive.log" | head -n 40 || true
            note "asan: training driver FAILED (exit $rc, log: $WORK/asan-drive.log)"; FAILED=1; KEEP=1
        fi
    }
fi

# ---- 3. valgrind -----------------------------------------------------------------------------
if [ "$VALGRIND" = 1 ]; then
    if ! command -v valgrind >/dev/null 2>&1; then
        note "valgrind: SKIPPED (not installed)"
    else
        REAL_PY=$("$PYTHON" -c 'import sys; print(sys.executable)')
        cat >"$WORK/python.supp" <<'EOF'
# Uninitialised-value reports inside CPython and NumPy themselves (an
# interpreter built without --with-valgrind): the top frame is theirs.
# Invalid reads and writes are not suppressed.
{
   cpython-cond
   Memcheck:Cond
   obj:*libpython3*
}
{
   cpython-value8
   Memcheck:Value8
   obj:*libpython3*
}
{
   cpython-static-cond
   Memcheck:Cond
   obj:*/bin/python3*
}
{
   cpython-static-value8
   Memcheck:Value8
   obj:*/bin/python3*
}
{
   cpython-malloc-cond
   Memcheck:Cond
   fun:malloc
   obj:*python3*
}
{
   cpython-dynload-cond
   Memcheck:Cond
   obj:*/lib-dynload/*
}
{
   cpython-dynload-value8
   Memcheck:Value8
   obj:*/lib-dynload/*
}
{
   numpy-cond
   Memcheck:Cond
   obj:*numpy*
}
{
   numpy-value8
   Memcheck:Value8
   obj:*numpy*
}
{
   ldso-rpath-strncmp
   Memcheck:Addr8
   fun:strncmp
   fun:is_dst
}
EOF
        step "valgrind: memcheck of the training driver ($("$REAL_PY" -V), bounds-checked build)"
        rc=0
        (cd "$WORK" && PYTHONPATH="$BOUNDS" PYTHONMALLOC=malloc valgrind --tool=memcheck --error-exitcode=1 \
            --leak-check=no --errors-for-leak-kinds=none --track-origins=no --suppressions="$WORK/python.supp" --num-callers=30 \
            --xml=yes --xml-file="$WORK/valgrind.xml" "$REAL_PY" drive.py "$DRIVE_MODE") >"$WORK/valgrind.log" 2>&1 || rc=$?
        tail -n 2 "$WORK/valgrind.log"
        summary=$("$PYTHON" - "$WORK/valgrind.xml" <<'EOF'
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
errors = [e for e in root.findall("error") if not e.findtext("kind", "").startswith("Leak")]
in_sgns = [e for e in errors if any("/sgns/" in (f.findtext("obj") or "") for f in e.iter("frame"))]
suppressed = sum(int(s.findtext("count")) for s in root.iter("pair"))
print(f"{len(errors)} errors ({len(in_sgns)} with an sgns frame), {suppressed} suppressed CPython/NumPy reports")
for e in errors[:5]:
    what = e.findtext("what") or e.findtext("xwhat/text")
    frames = [f.findtext("fn") or f.findtext("obj") for f in e.iter("frame")][:6]
    print("  ", e.findtext("kind"), what, "|", " <- ".join(map(str, frames)), file=sys.stderr)
EOF
)
        if [ "$rc" = 0 ]; then
            note "valgrind memcheck: training driver passed: $summary"
        else
            note "valgrind memcheck: FAILED (exit $rc): $summary (log: $WORK/valgrind.log, $WORK/valgrind.xml)"
            FAILED=1; KEEP=1
        fi
    fi
fi

printf '\n==== [%4ds] memcheck summary\n' "$((SECONDS - START))"
printf '  %s\n' "${SUMMARY[@]}"
exit "$FAILED"
}
