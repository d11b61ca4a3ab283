"""The benchmark's analysis: bench.analysis_tests() (made-up records with known
answers), and bench.summarise()/assertions() on real analysed rows
(lab/testdata/bench-rows.json: smartpqi, hpsa and mpi3mr on all variants)."""
import json
import unittest

from labtest import BootDirCase, clone, load_json

import bench
import vm

PERS = ("smartpqi", "hpsa", "mpi3mr")


def saved():
    return load_json("bench-rows.json")


def mine(key):
    """Summary keys ("variant/personality[/devices]") of the saved personalities."""
    return key.split("/")[1] in PERS


class AnalysisTests(unittest.TestCase):
    def test_analysis_tests_pass(self):
        tests = bench.analysis_tests()
        self.assertGreaterEqual(len(tests), 3)
        for name, ok, why in tests:
            with self.subTest(name=name):
                self.assertTrue(ok, why)


class SavedSummary(unittest.TestCase):
    def setUp(self):
        self.d = saved()
        self.s = bench.summarise(self.d["rows"], self.d["variants"])
        self.want = self.d["summary"]

    def test_summary_reproduced(self):
        for part in ("ratio", "slope", "maxid", "knew"):
            want = {k: v for k, v in self.want[part].items() if mine(k)}
            with self.subTest(part=part):
                self.assertTrue(want)
                self.assertEqual(self.s[part], want)
        self.assertEqual(self.s["smartpqi_probe_ratio"], self.want["smartpqi_probe_ratio"])
        self.assertEqual(self.s["stuck_estimates"],
                         [e for e in self.want["stuck_estimates"] if mine(e["cell"])])

    def test_known_answers(self):
        # fixed issues exactly the minimum; stock misses the devices beyond channel 0
        for p in PERS:
            self.assertEqual(self.s["ratio"]["fixed/" + p],
                             {"max": 1.0, "min": 1.0, "complete": True})
            self.assertFalse(self.s["ratio"]["stock/" + p]["complete"])
        self.assertGreater(self.s["smartpqi_probe_ratio"]["ratio"], 1e9)
        goal = self.s["maxid_goal"]
        self.assertEqual(goal["within_10pct"], goal["comparisons"])
        self.assertEqual(sorted(e["cell"] for e in self.s["stuck_estimates"]),
                         ["multichannel/mpi3mr/256", "multichannel/mpi3mr/64",
                          "multichannel/mpi3mr/8"])

    def test_assertions_hold(self):
        res = dict(rows=self.d["rows"], summary=self.s)
        tests = bench.assertions(res)
        names = [t[0] for t in tests]
        self.assertIn("bench/fixed/smartpqi/commands_le_1.05x_minimum", names)
        self.assertIn("bench/fixed/smartpqi/probes_1e6x_fewer_than_multichannel", names)
        for name, ok, why in tests:
            with self.subTest(name=name):
                self.assertTrue(ok, why)


class Mutations(unittest.TestCase):
    """A changed row must change the summary and the count goals."""

    def setUp(self):
        self.d = saved()

    def result(self):
        return dict(rows=self.d["rows"], summary=bench.summarise(self.d["rows"],
                                                                   self.d["variants"]))

    def failing(self):
        return {n: why for n, ok, why in bench.assertions(self.result()) if not ok}

    def fixed_row(self, pers="hpsa", run="def", devices=64):
        return next(r for r in self.d["rows"] if r["variant"] == "fixed" and
                    r["personality"] == pers and r["run"] == run and r["devices"] == devices)

    def test_more_commands_than_minimum(self):
        r = self.fixed_row()
        r["ratio"] = 1.2
        self.assertEqual(list(self.failing()), ["bench/fixed/hpsa/commands_le_1.05x_minimum"])
        self.assertEqual(self.result()["summary"]["ratio"]["fixed/hpsa"]["max"], 1.2)

    def test_incomplete_rescan(self):
        self.fixed_row(pers="mpi3mr", run="knew")["complete"] = False
        self.assertIn("bench/fixed/mpi3mr/commands_le_1.05x_minimum", self.failing())
        self.assertFalse(self.result()["summary"]["ratio"]["fixed/mpi3mr"]["complete"])

    def test_fixed_problems(self):
        for field, value in (("absent_probes", 3), ("resets", 1), ("splats", ["warning"]),
                             ("write_rc", [0, -5]), ("status", "stuck")):
            with self.subTest(field=field):
                self.d = saved()
                self.fixed_row(pers="smartpqi")[field] = value
                self.assertIn("bench/fixed/smartpqi/commands_le_1.05x_minimum",
                              self.failing())

    def test_probe_ratio_goal(self):
        for r in self.d["rows"]:
            if r["variant"] == "multichannel" and r.get("extrapolated_probes"):
                r["extrapolated_probes"] = 1000
        self.assertIn("bench/fixed/smartpqi/probes_1e6x_fewer_than_multichannel",
                      self.failing())

    def test_max_id_deviation(self):
        r = self.fixed_row(pers="smartpqi", run="4294967295", devices=8)
        r["vs_default"]["median"] = 1.25
        s = self.result()["summary"]
        self.assertEqual(s["maxid"]["fixed/smartpqi/8"]["4294967295"], 0.25)
        self.assertEqual(s["maxid_goal"]["within_10pct"], s["maxid_goal"]["comparisons"] - 1)
        self.assertEqual(s["maxid_goal"]["worst"], 0.25)

    def test_slower_rescans_change_the_slope(self):
        want = clone(bench.summarise(self.d["rows"], self.d["variants"])["slope"]["fixed/hpsa"])
        for r in self.d["rows"]:
            if r["variant"] == "fixed" and r["personality"] == "hpsa" and r["run"] == "def":
                r["samples_us"] = [x * r["devices"] for x in r["samples_us"]]
                r["time_us"]["median"] *= r["devices"]
        got = self.result()["summary"]["slope"]["fixed/hpsa"]
        self.assertGreater(got["exponent"], want["exponent"] + 0.9)


def boot_records(res):
    """{cell id: [records]} of a judged bench boot: its "# BENCH {json}" lines
    (the guest's TSC rate from "# BENCH-CLOCK", the kernel splats of the cell)."""
    out, clock = {}, {}
    for d in res["diag"]:
        if d.startswith("BENCH-CLOCK "):
            clock = json.loads(d[len("BENCH-CLOCK "):])
        elif d.startswith("BENCH {"):
            r = json.loads(d[len("BENCH "):])
            r["tsc_hz"] = clock.get("tsc_hz")
            r["splats"] = [s["kind"] for s in res["cell_splats"].get(r["cell"], [])]
            r["lab_limits"] = []
            out.setdefault(r["cell"], []).append(r)
    return out


class SavedFixedBenchBoot(BootDirCase):
    """boot-fixed-bench: make check's reduced bench on fixed, a real boot (20
    cells: 10 personalities x 8 and 32 LUs, of which mpt3sas at 32 is capped;
    nothing new, max_id 2^32-1 and k new; 190 records): every rescan issues
    exactly the minimum."""

    def setUp(self):
        super().setUp()
        self.d = self.copy_boot("boot-fixed-bench")

    def analysed(self):
        recs = boot_records(vm.parse(self.d))
        # mpt3sas at 32 LUs is capped (LUN 0 only): analysed, never booted
        cells = [c for c in bench.cells("reduced", ["fixed"])
                 if c["id"] in recs or c.get("capped")]
        self.assertEqual(len(cells), 20)
        self.assertEqual(len(recs), 19)
        rows = [r for c in cells for r in bench.analyse(c, recs.get(c["id"], []))]
        return rows, dict(rows=rows, summary=bench.summarise(rows, ["fixed"]))

    def edit_records(self, cell, run, **changes):
        tap = self.read_lines(self.d, "tap.log")
        for i, line in enumerate(tap):
            if line.startswith('# BENCH {"cell": "%s", "run": "%s"' % (cell, run)):
                rec = json.loads(line[len("# BENCH "):])
                rec.update({k: v(rec) if callable(v) else v for k, v in changes.items()})
                tap[i] = "# BENCH " + json.dumps(rec)
        self.write_lines(self.d, "tap.log", tap)

    def failing(self):
        return {n: why for n, ok, why in bench.assertions(self.analysed()[1]) if not ok}

    def test_exactly_the_minimum(self):
        rows, result = self.analysed()
        # 60 cells, less mpt3sas at 32 LUs: its volumes are LUN 0 only
        # (personalities lun0_only), so that size is capped now
        self.assertEqual(len(rows), 58)
        capped = [r for r in rows if r["status"] == "capped"]
        self.assertEqual({(r["personality"], r["devices"]) for r in capped}, {("mpt3sas", 32)})
        rows = [r for r in rows if r["status"] != "capped"]
        self.assertEqual({r["status"] for r in rows}, {"ok"})
        # smartpqi has no hook: the volumes it lists again are its own
        # scan's (rescan attribute), a user scan finds the new rphys only
        # (complete at 8 LUs; at 32, 2 of the 8 new are found)
        own = [r for r in rows if r["personality"] == "smartpqi" and r["run"] == "knew"]
        self.assertEqual([(r["devices"], r["complete"]) for r in own], [(8, True), (32, False)])
        rows = [r for r in rows if r not in own]
        self.assertEqual({r["ratio"] for r in rows}, {1.0})
        self.assertTrue(all(r["complete"] for r in rows))
        knew = {(r["personality"], r["devices"]): (r["found"], r["cmds"], r["minimum_total"])
                for r in rows if r["run"] == "knew"}
        # k new LUs: REPORT LUNS per target read whole + 11 INQUIRY per new
        # LU (+1 MODE SENSE on libsas); hpsa's 6 volumes and mpt3sas' 5
        # RAID/PCIe devices are probed at their own LUN, no REPORT LUNS
        self.assertEqual(knew[("plain", 8)], (4, 52, 52))
        self.assertEqual(knew[("hisi_sas", 8)], (4, 56, 56))
        self.assertEqual(knew[("hpsa", 8)], (4, 46, 46))
        self.assertEqual(knew[("mpt3sas", 8)], (4, 47, 47))
        tests = bench.assertions(result)
        self.assertEqual(len(tests), 10)
        self.assertEqual([t for t in tests if not t[1]], [])

    def test_extra_commands_fail_the_goal(self):
        self.edit_records("fixed/hpsa/32", "def", cmds=lambda r: r["cmds"] + 8)
        self.assertEqual(list(self.failing()), ["bench/fixed/hpsa/commands_le_1.05x_minimum"])

    def test_missed_new_device_fails_the_goal(self):
        self.edit_records("fixed/mpi3mr/8", "knew", after=lambda r: r["after"] - 1)
        self.assertEqual(list(self.failing()), ["bench/fixed/mpi3mr/commands_le_1.05x_minimum"])

    def test_absent_probes_fail_the_goal(self):
        self.edit_records("fixed/isci/32", "4294967295", absent_probes=5)
        self.assertEqual(list(self.failing()), ["bench/fixed/isci/commands_le_1.05x_minimum"])


if __name__ == "__main__":
    unittest.main()
