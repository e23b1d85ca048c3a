#!/usr/bin/env bash
# Skip-gram + hierarchical softmax (-hs 1 -negative 0): sgns against
# word2vec.c, several runs each, one evaluator (sgns.evaluation: analogy
# top-1 over the 30,000 most frequent words, WS353 Spearman).
#
#   bench/hs_runs.sh CORPUS SHARED_DIR WORD2VEC_BIN [RUNS] [EXTRA SGNS FLAGS...]
#
# e.g. bench/hs_runs.sh corpus8.1k ../shared /venv/bin/word2vec 3
# Prints one line per run; the vectors go to a temporary directory.
set -euo pipefail
corpus=$1 shared=$2 w2v=$3 runs=${4:-3}
shift $(( $# < 4 ? $# : 4 ))
python=${PYTHON:-python}
sgns=(${SGNS:-$python -m sgns})
flags=(-size 100 -window 5 -sample 1e-4 -min-count 5 -iter 5 -threads 2 -binary 1 -cbow 0 -hs 1 -negative 0)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

evaluate() {  # vectors label seconds
    "$python" - "$@" "$shared" <<'PY'
import sys
from sgns import KeyedVectors
path, label, seconds, shared = sys.argv[1:5]
kv = KeyedVectors.load_word2vec_format(path, binary=True)
analogy = kv.evaluate_word_analogies(f"{shared}/eval/questions-words.txt", restrict_vocab=30000)[0]
ws353 = kv.evaluate_word_pairs(f"{shared}/eval/wordsim353.tsv")[1][0]
print(f"{label:28s} {float(seconds):7.1f} s  analogy {analogy:.3f}  WS353 {ws353:.3f}", flush=True)
PY
}

for run in $(seq 1 "$runs"); do
    for who in word2vec.c sgns; do
        out=$work/$who.$run.bin
        start=$(date +%s.%N)
        if [ "$who" = word2vec.c ]; then
            "$w2v" -train "$corpus" -output "$out" "${flags[@]}" >"$work/log" 2>&1
        else
            "${sgns[@]}" -train "$corpus" -output "$out" "${flags[@]}" -seed "$run" "$@" >"$work/log" 2>&1
        fi
        end=$(date +%s.%N)
        evaluate "$out" "$who run $run ${*:-}" "$(python3 -c "print($end - $start)")"
    done
done
