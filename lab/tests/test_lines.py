"""Kernel lines: variant names, per-line series and variants, fragment merging,
and the TAP of the series check and the config matrix (no kernel, no VM)."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
LAB = os.path.dirname(HERE)
TOP = os.path.dirname(LAB)
sys.path.insert(0, LAB)
import check  # noqa: E402
import vm  # noqa: E402


def bash(script, env=None, cwd=TOP):
    """Run a bash snippet that sources lab/common.sh with a scratch cache."""
    return subprocess.run(["bash", "-c", script], cwd=cwd, capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})))


class VariantNames(unittest.TestCase):
    def test_bare_name_is_on_the_selected_line(self):
        self.assertEqual(vm.split_variant("stock"), ("stock", vm.LINE))

    def test_qualified_name(self):
        self.assertEqual(vm.split_variant("fixed@6.12"), ("fixed", "6.12"))
        self.assertEqual(vm.split_variant("debian-6.12.117+deb12-amd64@6.12"),
                         ("debian-6.12.117+deb12-amd64", "6.12"))

    def test_unknown_line_is_refused(self):
        with self.assertRaises(ValueError):
            vm.split_variant("stock@5.15")

    def test_qualified_round_trip(self):
        self.assertEqual(vm.qualified("fixed", vm.LINE), "fixed")
        other = next(l for l in vm.LINES if l != vm.LINE)
        q = vm.qualified("fixed", other)
        self.assertEqual(vm.split_variant(q), ("fixed", other))

    def test_variant_dir(self):
        self.assertEqual(vm.variant_dir("stock@6.1", "/c"), "/c/build/6.1/stock")


class LineVariants(unittest.TestCase):
    def test_models_only_on_the_primary_line(self):
        self.assertIn("multichannel", check.line_variants(check.PRIMARY))
        self.assertIn("scanstart", check.line_variants(check.PRIMARY))
        for line in vm.LINES:
            if line != check.PRIMARY:
                self.assertFalse([v for v in check.line_variants(line)
                                  if v.startswith(("multichannel", "scanstart"))])

    def test_612_runs_stock_and_fixed_61_nothing(self):
        self.assertEqual([vm.split_variant(v) for v in check.line_variants("6.12")],
                         [("stock", "6.12"), ("fixed", "6.12")])
        self.assertEqual(check.line_variants("6.1"), [])


class AssertedCells(unittest.TestCase):
    """make check boots a baseline's asserted cells only: each of them must
    exist, and every known failure must keep its cell."""

    def test_every_known_failure_keeps_its_cell(self):
        import matrix
        for v in matrix.VARIANTS:
            only = check.asserted_cells(v)
            if only is None:
                continue
            ran = {(c.row, c.request) for c in matrix.variant_cells(
                v, "reduced", matrix.cells("reduced")) if (c.row, c.request) in only}
            self.assertTrue(ran, v)
            for kv, row, req, _, _ in check.KNOWN_FAILURES:
                if kv == v:
                    self.assertIn((row, req), ran)

    def test_fixed_runs_every_cell(self):
        self.assertIsNone(check.asserted_cells("fixed"))


class TapSteps(unittest.TestCase):
    def test_steps_skip_and_failures(self):
        out = ("lab: noise\n"
               "ok 1 0001-a.patch builds and boots on 7.3 (lab_x)\n"
               "ok 2 0002-b.patch # SKIP applies with git am; built at the last step only\n"
               "not ok 3 0003-c.patch # build failed, see log\n"
               "# a comment\n")
        tests = check.tap_steps(out, "series/7.3/")
        self.assertEqual([t.name for t in tests],
                         ["series/7.3/0001-a.patch", "series/7.3/0002-b.patch",
                          "series/7.3/0003-c.patch"])
        self.assertEqual([t.ok for t in tests], [True, True, False])

    def test_mutation_not_ok_is_a_failure(self):
        tests = check.tap_steps("ok 1 7.3/sas-y_pm-y_kunit-y/base builds (90 s)\n", "cm/")
        self.assertTrue(tests[0].ok)
        tests = check.tap_steps("not ok 1 7.3/sas-y_pm-y_kunit-y/base # build failed\n", "cm/")
        self.assertFalse(tests[0].ok)


class CommonSh(unittest.TestCase):
    """lab/common.sh's line plumbing, against a scratch cache."""

    def setUp(self):
        self.cache = tempfile.mkdtemp(prefix="sasscan-lines-")

    def tearDown(self):
        shutil.rmtree(self.cache)

    def run_common(self, line, snippet):
        return bash('. lab/common.sh; ' + snippet,
                    env={"SASSCAN_CACHE": self.cache, "SASSCAN_WORK": self.cache,
                         "SASSCAN_LINE": line})

    def test_build_dir_per_line(self):
        r = self.run_common("6.1", 'build_dir stock; work_dir fixed')
        self.assertEqual(r.stdout.split(), [self.cache + "/build/6.1/stock",
                                            self.cache + "/build/6.1/fixed"])

    def test_fixed_series_dir_per_line(self):
        r = self.run_common("7.3", 'line_series_dir')
        self.assertEqual(r.stdout.strip(), TOP + "/patches")
        r = self.run_common("6.12", 'line_series_dir')
        self.assertEqual(r.stdout.strip(), TOP + "/patches/linux-6.12.y")

    def test_model_variant_refused_off_its_line(self):
        r = self.run_common("6.12", 'variant_series multichannel')
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("exists only on line(s) 7.3", r.stderr)
        r = self.run_common("6.12", 'series_hash scanstart; echo reached')
        self.assertNotIn("reached", r.stdout)

    def test_model_variant_on_its_line(self):
        r = self.run_common("7.3", 'variant_series multichannel')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.strip().endswith(".patch"))

    def test_unknown_line(self):
        r = self.run_common("5.4", 'echo reached')
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("unknown kernel line", r.stderr)

    def test_single_line_layout_moves_once(self):
        old = os.path.join(self.cache, "build", "stock")
        os.makedirs(os.path.join(old, "src"))
        with open(os.path.join(old, "build-info"), "w") as f:
            f.write("source=linux-source-6.12 6.12.117-1~deb12u1 variant=stock series=x config=y\n")
        r = self.run_common("7.3", 'true')
        self.assertEqual(r.returncode, 0, r.stderr)
        new = os.path.join(self.cache, "build", "6.12", "stock")
        self.assertTrue(os.path.isfile(os.path.join(new, "build-info")))
        self.assertTrue(os.path.islink(old))
        r = self.run_common("7.3", 'true')     # a second run leaves it alone
        self.assertNotIn("moving", r.stderr)


class MergedFragments(unittest.TestCase):
    """kernel.sh verifies the last setting of each symbol across fragments."""

    def merged(self, *texts):
        d = tempfile.mkdtemp()
        try:
            files = []
            for i, t in enumerate(texts):
                files.append(os.path.join(d, "%d.config" % i))
                with open(files[-1], "w") as f:
                    f.write(t)
            r = subprocess.run(
                ["bash", "-c", 'eval "$(sed -n "/^merged_fragments()/,/^}/p" lab/kernel.sh)"; '
                 'merged_fragments "$@"', "x"] + files, cwd=TOP, capture_output=True,
                text=True)
            return r.stdout.splitlines()
        finally:
            shutil.rmtree(d)

    def test_later_fragment_overrides(self):
        self.assertEqual(self.merged("CONFIG_A=y\n# note\nCONFIG_B=m\n",
                                     "# CONFIG_B is not set\nCONFIG_C=y\n"),
                         ["CONFIG_A=y", "# CONFIG_B is not set", "CONFIG_C=y"])

    def test_line_61_fragment_drops_suites_61_lacks(self):
        with open(os.path.join(LAB, "config", "lab.config")) as f:
            lab = f.read()
        with open(os.path.join(LAB, "config", "line-6.1.config")) as f:
            l61 = f.read()
        out = self.merged(lab, l61)
        self.assertIn("# CONFIG_SCSI_LIB_KUNIT_TEST is not set", out)
        self.assertNotIn("CONFIG_SCSI_LIB_KUNIT_TEST=y", out)


if __name__ == "__main__":
    unittest.main()


class ConfigMatrixSets(unittest.TestCase):
    """lab/config-matrix.sh's configuration sets: quick covers every value of
    every option; full is every combination, once (the KUnit test options
    follow their Kconfig in each)."""

    def configs(self, mode):
        r = subprocess.run([os.path.join(LAB, "config-matrix.sh"), "--list", "--configs", mode],
                           capture_output=True, text=True, cwd=TOP,
                           env=dict(os.environ, SASSCAN_CACHE=tempfile.gettempdir() +
                                    "/sasscan-cm-list", SASSCAN_WORK="/nonexistent"))
        self.assertEqual(r.returncode, 0, r.stderr)
        return [dict(kv.split("-") for kv in c.split("_")) for c in r.stdout.split()]

    def test_quick_covers_every_value(self):
        quick = self.configs("quick")
        for opt, values in (("sas", "ym"), ("pm", "yn"), ("kunit", "ym")):
            self.assertEqual({c[opt] for c in quick}, set(values), opt)

    def test_full_is_every_valid_combination(self):
        full = self.configs("full")
        combos = {(c["sas"], c["pm"], c["kunit"]) for c in full}
        self.assertEqual(len(combos), len(full))
        want = {(s, p, k) for s in "ym" for p in "yn" for k in "ym"}
        self.assertEqual(combos, want)
        self.assertTrue(all(c in full for c in self.configs("quick")))
