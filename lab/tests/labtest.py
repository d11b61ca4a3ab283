"""Shared helpers for the fast tier's unit tests (no VM, no kernel build).

The judges under test are lab/vm.py, lab/matrix.py, lab/reliability.py and
lab/bench.py; they are imported as modules and only their public functions
are called. Saved logs live in lab/testdata/ (see its README).
"""
import copy
import json
import os
import shutil
import sys
import tempfile
import unittest

TESTS = os.path.dirname(os.path.abspath(__file__))
LAB = os.path.dirname(TESTS)
TESTDATA = os.path.join(LAB, "testdata")
if LAB not in sys.path:
    sys.path.insert(0, LAB)


def data(name):
    return os.path.join(TESTDATA, name)


def load_json(name):
    with open(data(name)) as f:
        return json.load(f)


def clone(x):
    return copy.deepcopy(x)


class BootDirCase(unittest.TestCase):
    """A test case that judges boot folders in a scratch directory: vm.parse()
    writes result.json next to the logs, so saved logs are copied first."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sasscan-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def copy_boot(self, name, dest=None):
        """Copy lab/testdata/<name>/ to the scratch directory; returns the copy."""
        out = os.path.join(self.tmp, dest or os.path.basename(name))
        shutil.copytree(data(name), out)
        return out

    def write_boot(self, name, meta, tap, console):
        """A boot folder from lines given here (boot.json, tap.log, console.log)."""
        out = os.path.join(self.tmp, name)
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "boot.json"), "w") as f:
            json.dump(meta, f)
        for fname, lines in (("tap.log", tap), ("console.log", console)):
            with open(os.path.join(out, fname), "w") as f:
                f.write("".join(line + "\n" for line in lines))
        return out

    @staticmethod
    def read_lines(d, fname):
        with open(os.path.join(d, fname), errors="replace") as f:
            return f.read().splitlines()

    @staticmethod
    def write_lines(d, fname, lines):
        with open(os.path.join(d, fname), "w") as f:
            f.write("".join(line + "\n" for line in lines))

    @staticmethod
    def edit_json(d, fname, **changes):
        path = os.path.join(d, fname)
        with open(path) as f:
            meta = json.load(f)
        meta.update(changes)
        with open(path, "w") as f:
            json.dump(meta, f)


def by_name(res, name):
    """The judged result called @name in vm.parse()'s output, or None."""
    return next((r for r in res["results"] if r["name"] == name), None)
