"""Run gensim's own Word2Vec and KeyedVectors tests against sgns.

The tests are the ones the installed gensim wheel ships
(gensim/test/test_word2vec.py and test_keyedvectors.py, data in
gensim/test/test_data/). Before they are imported, gensim's classes are
replaced by sgns.gensim's, so every `word2vec.Word2Vec(...)` and
`KeyedVectors.load_word2vec_format(...)` in them runs sgns.

    python scripts/gensim_tests.py [--min N] [-v] [-k SUBSTRING]

Prints one line per test that did not pass, then the counts. Exit status 1
when fewer than --min tests pass (CI keeps the committed figure there), 2
when gensim (or testfixtures, which the tests import) is not installed.
Needs no network; POT (`pip install POT`) enables the three wmdistance tests,
which skip without it.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import unittest

SUITES = ("gensim.test.test_word2vec", "gensim.test.test_keyedvectors")


def swap_in_sgns() -> None:
    """Bind sgns.gensim's classes to gensim's public names (gensim.models.Word2Vec,
    gensim.models.word2vec.{Word2Vec, LineSentence, Text8Corpus, PathLineSentences,
    BrownCorpus}, gensim.models[.keyedvectors].KeyedVectors)."""
    import sgns.gensim

    sgns.gensim.use_in_gensim()


def iter_tests(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from iter_tests(item)
        else:
            yield item


def run_module(module, verbose: bool = False, only: str | None = None) -> dict[str, int]:
    """Run every test of an imported test module, one at a time, printing a
    line per test that does not pass (every test with verbose). Returns the
    counts {"passed", "failed", "skipped"}. Also used by gensim_phrases_tests.py."""
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for test in iter_tests(unittest.TestLoader().loadTestsFromModule(module)):
        if only and only not in test.id():
            continue
        result = unittest.TestResult()
        test.run(result)
        problems = result.failures + result.errors
        if problems:
            counts["failed"] += 1
            print(f"FAIL {test.id()}: {problems[0][1].strip().splitlines()[-1][:200]}")
        elif result.skipped:
            counts["skipped"] += 1
            print(f"SKIP {test.id()}: {result.skipped[0][1]}")
        else:
            counts["passed"] += 1
            if verbose:
                print(f"ok   {test.id()}")
    return counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=int, default=0, help="fail (exit 1) when fewer tests pass")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every test's outcome")
    parser.add_argument("-k", default=None, help="run only tests whose id contains this")
    args = parser.parse_args(argv)
    try:
        import gensim  # noqa: F401
        import testfixtures  # noqa: F401
    except ImportError as e:
        print(f"gensim_tests: {e} (pip install gensim testfixtures)", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.ERROR)
    swap_in_sgns()
    totals = {
        name.rsplit(".", 1)[1]: run_module(importlib.import_module(name), args.verbose, args.k)
        for name in SUITES
    }
    passed = sum(c["passed"] for c in totals.values())
    total = sum(sum(c.values()) for c in totals.values())
    for name, c in totals.items():
        print(
            f"{name}: {c['passed']} of {sum(c.values())} passed, {c['failed']} failed, {c['skipped']} skipped"
        )
    print(f"gensim's tests with sgns swapped in: {passed} of {total} passed")
    return gate("gensim_tests", passed, args.min)


def gate(name: str, passed: int, minimum: int) -> int:
    """Exit status: 1 (and why, on stderr) when fewer than minimum tests
    passed, else 0. Also used by gensim_phrases_tests.py."""
    if passed < minimum:
        print(f"{name}: {passed} passed, fewer than the required {minimum}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
