"""Run gensim's own phrase tests (gensim/test/test_phrases.py, shipped in
gensim's wheel) against sgns: gensim.models.phrases' public names and its
base class are replaced by sgns's before the test module imports them.

    python scripts/gensim_phrases_tests.py [--min-pass N] [-v]

Prints one line per test and a summary "gensim phrases tests: P of T passed";
exits 1 when fewer than --min-pass (default: the figure recorded below) pass.
Needs gensim and testfixtures installed; sgns importable.
"""

from __future__ import annotations

import argparse
import sys

from gensim_tests import gate, run_module

# Tests of gensim 4.4.0's test_phrases.py that pass with sgns's classes; CI
# fails when the count drops below it. README ("Phrases") explains the rest.
EXPECTED_PASSES = 56


def swap_in_sgns() -> None:
    import gensim.models.phrases as gp

    import sgns.phrases as sp

    gp.Phrases = sp.Phrases
    gp.FrozenPhrases = sp.FrozenPhrases
    gp.Phraser = sp.Phraser
    gp._PhrasesTransformation = sp.PhrasesTransformation
    gp.original_scorer = sp.original_scorer
    gp.npmi_scorer = sp.npmi_scorer
    gp.ENGLISH_CONNECTOR_WORDS = sp.ENGLISH_CONNECTOR_WORDS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-pass", type=int, default=EXPECTED_PASSES)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    swap_in_sgns()
    import gensim.test.test_phrases as tests

    import sgns.phrases as sp

    if tests.Phrases is not sp.Phrases or tests.FrozenPhrases is not sp.FrozenPhrases:
        raise RuntimeError("gensim's test module was imported before the swap: it would test gensim")

    counts = run_module(tests, args.verbose)  # the runner of gensim_tests.py, beside this script
    passed = counts["passed"]
    print(
        f"gensim phrases tests: {passed} of {passed + counts['failed']} passed ({counts['skipped']} skipped)"
    )
    return gate("gensim_phrases_tests", passed, args.min_pass)


if __name__ == "__main__":
    sys.exit(main())
