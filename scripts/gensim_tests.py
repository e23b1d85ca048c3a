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
    loader = unittest.TestLoader()
    totals: dict[str, dict[str, int]] = {}
    failed: list[tuple[str, str]] = []
    for name in SUITES:
        module = importlib.import_module(name)
        tests = [t for t in iter_tests(loader.loadTestsFromModule(module)) if not args.k or args.k in t.id()]
        counts = totals.setdefault(name.rsplit(".", 1)[1], {"passed": 0, "failed": 0, "skipped": 0})
        for test in tests:
            result = unittest.TestResult()
            test.run(result)
            problems = result.failures + result.errors
            if problems:
                counts["failed"] += 1
                message = problems[0][1].strip().splitlines()[-1]
                failed.append((test.id(), message))
                print(f"FAIL {test.id()}: {message[:200]}")
            elif result.skipped:
                counts["skipped"] += 1
                print(f"SKIP {test.id()}: {result.skipped[0][1]}")
            else:
                counts["passed"] += 1
                if args.verbose:
                    print(f"ok   {test.id()}")
    passed = sum(c["passed"] for c in totals.values())
    total = sum(sum(c.values()) for c in totals.values())
    for name, c in totals.items():
        print(
            f"{name}: {c['passed']} of {sum(c.values())} passed, {c['failed']} failed, {c['skipped']} skipped"
        )
    print(f"gensim's tests with sgns swapped in: {passed} of {total} passed")
    if passed < args.min:
        print(f"gensim_tests: {passed} passed, fewer than the required {args.min}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
