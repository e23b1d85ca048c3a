"""sgns phrase: word2vec.c's word2phrase (same flags, byte-identical output).

sgns phrase -train text.txt -output phrases.txt -threshold 100 -debug 2
"""

from __future__ import annotations

import os
import sys
import time

from sgns import phrasecount
from sgns.flags import parse_phrase_flags

USAGE = """sgns phrase: join frequent word pairs ("new york" -> new_york), as word2vec.c's word2phrase

Usage: sgns phrase -train <file> -output <file> [options]
  -train <file>        text to learn from and to rewrite (.gz, .bz2, .xz are decompressed first)
  -output <file>       write the text with joined phrases here
  -min-count <int>     ignore words and pairs seen fewer times; default 5
  -threshold <float>   score threshold for joining a pair (higher: fewer phrases); default 100
  -debug <int>         0 quiet, 1 summary, 2 more; default 2
sgns extras:
  -threads <int>       counting threads over byte ranges; default {cpus}
  -max-vocab <int>     prune the count table (word2phrase's rule) past this many keys;
                       default {max_vocab} (word2phrase's fixed limit)
Score of pair ab: (count(ab) - min_count) / count(a) / count(b) x words in the file.
Run it again on its output (e.g. -threshold 200, then 100) for longer phrases.
"""


def phrase_command(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "-help", "help"):
        print(USAGE.format(cpus=os.cpu_count(), max_vocab=phrasecount.WORD2PHRASE_MAX_VOCAB), end="")
        return 0
    opts = parse_phrase_flags(argv)
    debug = opts["debug"]
    start = time.perf_counter()
    print(f"Starting training using file {opts['train']}")
    counts = phrasecount.learn_word2phrase(
        opts["train"], opts["min-count"], opts["threads"], opts["max-vocab"]
    )
    if debug > 0:
        print(f"\nVocab size (unigrams + bigrams): {phrasecount.word2phrase_vocab_size(counts)}")
        print(f"Words in train file: {counts.words}")
    sys.stdout.flush()
    phrasecount.rewrite_word2phrase(
        counts, opts["train"], opts["output"], opts["min-count"], opts["threshold"]
    )
    if debug > 1:
        print(f"Phrases written to {opts['output']} in {time.perf_counter() - start:.2f}s")
    return 0
