#!/usr/bin/env python3
"""Run the unit tests in lab/tests and print one TAP line per test.

Usage: python3 lab/tests/run_tap.py [--start N] [-k PATTERN ...]
Lines are numbered from N (default 1); the last line is a "# unit: ..."
summary. Exit status 0 only if every test passed. The same tests also run
with plain `python3 -m unittest discover -s lab/tests`.
"""
import argparse
import os
import sys
import time
import unittest
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))


class TapResult(unittest.TestResult):
    def __init__(self, start):
        super().__init__()
        self.n = start - 1
        self.bad = {}       # test id -> [diagnostic text]
        self.passed = self.failed = self.nskipped = 0

    def emit(self, test, ok, directive="", diag=()):
        self.n += 1
        name = "unit/" + test.id()
        if ok:
            self.passed += 1
            print("ok %d %s%s" % (self.n, name, directive))
        else:
            self.failed += 1
            print("not ok %d %s" % (self.n, name))
            for text in diag:
                for line in text.rstrip().splitlines():
                    print("#   " + line)
        sys.stdout.flush()

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self.bad.setdefault(test.id(), []).append(
                "%s: %s" % (subtest._subDescription(), self._exc_info_to_string(err, test)))

    def addSuccess(self, test):
        super().addSuccess(test)
        diag = self.bad.pop(test.id(), None)
        self.emit(test, diag is None, diag=diag or ())

    def stopTest(self, test):
        # a test whose only failures were subtests gets no addFailure()
        if test.id() in self.bad:
            self.emit(test, False, diag=self.bad.pop(test.id()))
        super().stopTest(test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.emit(test, False, diag=self.bad.pop(test.id(), []) +
                  [self._exc_info_to_string(err, test)])

    addError = addFailure

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.nskipped += 1
        self.emit(test, True, " # SKIP %s" % reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.emit(test, True, " # TODO expected failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.emit(test, False, diag=["unexpected success"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--start", type=int, default=1)
    ap.add_argument("-k", action="append", help="only tests whose id contains this")
    a = ap.parse_args()
    # vm.parse() leaves files to the garbage collector; not what these tests judge
    warnings.simplefilter("ignore", ResourceWarning)
    sys.path.insert(0, HERE)
    suite = unittest.defaultTestLoader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    if a.k:
        def flat(s):
            for t in s:
                if isinstance(t, unittest.TestSuite):
                    yield from flat(t)
                else:
                    yield t
        suite = unittest.TestSuite(t for t in flat(suite) if any(k in t.id() for k in a.k))
    start = time.monotonic()
    result = TapResult(a.start)
    suite.run(result)
    print("# unit: %d passed, %d failed, %d skipped in %.1f s" % (
        result.passed, result.failed, result.nskipped, time.monotonic() - start))
    return 0 if result.failed == 0 and result.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
