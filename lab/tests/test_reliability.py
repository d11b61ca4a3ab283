"""reliability.failures()/judge() on real cell records
(lab/testdata/reliability-cells.json, reliability-faults.json)."""
import json
import os
import re
import unittest

from labtest import BootDirCase, clone, load_json

import personalities
import reliability
import vm


def table():
    return load_json("reliability-cells.json")["cells"]


def find(variant, cid):
    return next(t for t in table() if (t["variant"], t["cell"]) == (variant, cid))


def row(t):
    """The table row judge() receives: the saved row without its judgement."""
    t = clone(t)
    t.pop("failures", None)
    t.pop("verdict", None)
    return t


class SavedJudgements(unittest.TestCase):
    def test_every_saved_cell_judged_as_stored(self):
        cells = table()
        self.assertEqual(len(cells), 21)
        for t in cells:
            with self.subTest(cell="%s %s" % (t["variant"], t["cell"])):
                self.assertEqual(reliability.failures(t["record"], t["kind"]), t["failures"])
                got = reliability.judge(row(t))
                self.assertEqual((got["verdict"], got["failures"]),
                                 (t["verdict"], t["failures"]))

    def test_known_failures_detected(self):
        j = {(t["variant"], t["cell"]): reliability.judge(row(t)) for t in table()}
        # the baselines' failures the suite must keep detecting
        f = j[("scanstart", "hisi_sas/writers/k16")]["failures"]
        self.assertGreater(f.get("concurrent_scan_start", 0), 1)
        self.assertGreater(f.get("phy_resets", 0), 0)
        self.assertIn("stuck_scans", j[("multichannel", "smartpqi/writers/k4")]["failures"])
        self.assertEqual(j[("multichannel", "smartpqi/writers/k4")]["failures"]["hung_tasks"], 9)
        # out-of-range requests select nothing: accepted, no change, no failure
        self.assertEqual(j[("stock", "smartpqi/badinput")]["failures"], {})
        verdicts = {}
        for (v, _), t in j.items():
            verdicts.setdefault(v, []).append(t["verdict"])
        self.assertEqual({v: vs.count("FAIL") for v, vs in verdicts.items()},
                         {"stock": 0, "multichannel": 2, "scanstart": 2, "fixed": 0})
        # a hot-plug cell's absent probes are recorded, not judged
        self.assertEqual(find("fixed", "hisi_sas/hotplug/k4")["record"]["absent_probes"], 38)
        self.assertEqual(j[("fixed", "hisi_sas/hotplug/k4")]["verdict"], "PASS")

    def test_summarise_sums_records(self):
        ts = [reliability.judge(row(t)) for t in table()]
        summary = {(r["variant"], r["personality"]): r for r in reliability.summarise(ts)}
        r = summary[("scanstart", "hisi_sas")]
        self.assertEqual((r["cells"], r["failing_cells"], r["hung_tasks"]), (3, 2, 1))
        self.assertEqual(r["io_errors"], sum(t["record"]["io_errors"] for t in ts
                                             if (t["variant"], t["personality"]) ==
                                             ("scanstart", "hisi_sas")))
        self.assertEqual(r["pclass"], "libsas")
        self.assertEqual(summary[("fixed", "plain")]["pclass"], "transport")
        self.assertEqual(summary[("multichannel", "smartpqi")]["stuck"], 2)


class Mutations(unittest.TestCase):
    """A changed measurement must change the verdict."""

    def judge(self, t):
        return reliability.judge(t)

    def passing(self, cid):
        t = row(find("fixed", cid))
        self.assertEqual(self.judge(clone(t))["verdict"], "PASS")
        return t

    def test_failure_figures(self):
        for field in ("write_errors", "lost", "stale", "duplicated", "io_errors",
                      "corrupt_blocks", "leftover_hosts", "reload_errors",
                      "rphyless_target_allocs", "bad_accepted_invalid",
                      "bad_accepted_wrapped", "bad_side_effects",
                      "phy_resets"):
            with self.subTest(field=field):
                t = self.passing("hisi_sas/writers/k2")
                t["record"][field] = 2
                got = self.judge(t)
                self.assertEqual((got["verdict"], got["failures"]), ("FAIL", {field: 2}))

    def test_splats_and_hung_tasks(self):
        t = self.passing("hisi_sas/delete/k4")
        t["record"]["splats"] = [{"kind": "hung_task", "line": "INFO: task x blocked"},
                                 {"kind": "kasan", "line": "BUG: KASAN: use-after-free"},
                                 {"kind": "warning", "line": "WARNING: y"}]
        got = self.judge(t)
        self.assertEqual(got["failures"], {"hung_tasks": 1, "splats": 2})
        self.assertEqual(got["verdict"], "FAIL")

    def test_stuck_and_missing_record(self):
        t = self.passing("hisi_sas/remove/k4")
        t["record"]["stuck"] = True
        self.assertEqual(self.judge(t)["failures"], {"stuck_scans": 1})
        t = self.passing("hisi_sas/remove/k4")
        t["record"] = {"cell": t["cell"], "error": "not run", "splats": []}
        self.assertEqual(self.judge(t)["failures"], {"no_record": 1})

    def test_absent_probes_judged_by_kind(self):
        # the hot-plug cell's own absent probes fail it once it is not a hot-plug cell
        t = self.passing("hisi_sas/hotplug/k4")
        t["kind"] = "writers"
        self.assertEqual(self.judge(t)["failures"], {"absent_probes": 38})
        t = self.passing("hisi_sas/badinput")
        t["record"]["absent_probes"] = 5
        self.assertEqual(self.judge(t)["verdict"], "PASS")

    def test_runtime_pm_must_suspend(self):
        t = self.passing("plain/rpm/k4")
        t["record"]["runtime_suspends"] = t["record"]["rounds"] - 1
        self.assertEqual(self.judge(t)["failures"],
                         {"too_few_runtime_suspends": t["record"]["rounds"] - 1})

    def test_concurrent_scan_start(self):
        t = self.passing("hisi_sas/writers/k2")
        t["record"]["concurrent_scan_start_max"] = 1
        self.assertEqual(self.judge(clone(t))["verdict"], "PASS")
        t["record"]["concurrent_scan_start_max"] = 2
        self.assertEqual(self.judge(t)["failures"], {"concurrent_scan_start": 2})

    def test_note_alone_fails(self):
        t = self.passing("hisi_sas/rmmod/k4")
        t["record"]["note"] = "reload took two tries"
        self.assertEqual(self.judge(t)["failures"], {"note": 1})

    def test_failing_cell_repaired(self):
        t = row(find("multichannel", "smartpqi/badinput"))
        t["record"]["stuck"] = False
        del t["record"]["note"]
        self.assertEqual(self.judge(t)["verdict"], "PASS")


def boot_table(d, variant):
    """Judged rows of a reliability boot, read as reliability.py reads them:
    "# RELIABILITY {json}" lines with the kernel splats of their cell."""
    res = vm.parse(d)
    rows = {}
    for line in res["diag"]:
        if line.startswith("RELIABILITY {"):
            rec = json.loads(line[len("RELIABILITY "):])
            rec["splats"] = res["cell_splats"].get(rec["cell"], [])
            rows[rec["cell"]] = reliability.judge(
                {"variant": variant, "personality": rec["pers"], "kind": rec["kind"],
                 "k": rec["k"], "cell": rec["cell"], "record": rec})
    return res, rows


class SavedStockBoot(BootDirCase):
    """boot-stock-reliability: make check's reduced reliability profile on
    stock, a real boot: a deleted logical drive is lost, out-of-range and
    wrapped (>= 2^32) channel/id values are accepted."""

    def setUp(self):
        super().setUp()
        self.d = self.copy_boot("boot-stock-reliability")

    def test_known_failures(self):
        res, rows = boot_table(self.d, "stock")
        self.assertEqual((res["passed"], res["failed"]), (1, 0))
        self.assertEqual({c: r["failures"] for c, r in rows.items()},
                         {"smartpqi/delete/k2": {"lost": 1},
                          "smartpqi/badinput": {"bad_accepted_wrapped": 10}})
        self.assertEqual({r["verdict"] for r in rows.values()}, {"FAIL"})

    def test_drive_not_lost(self):
        tap = self.read_lines(self.d, "tap.log")
        i = next(i for i, l in enumerate(tap)
                 if l.startswith('# RELIABILITY {"cell": "smartpqi/delete/k2"'))
        tap[i] = tap[i].replace('"lost": 1,', '"lost": 0,', 1)
        self.write_lines(self.d, "tap.log", tap)
        _, rows = boot_table(self.d, "stock")
        # the guest's note on the missing device still fails the cell
        self.assertEqual(rows["smartpqi/delete/k2"]["failures"], {"note": 1})
        rec = json.loads(tap[i][len("# RELIABILITY "):])
        rec["note"] = ""
        tap[i] = "# RELIABILITY " + json.dumps(rec)
        self.write_lines(self.d, "tap.log", tap)
        _, rows = boot_table(self.d, "stock")
        self.assertEqual(rows["smartpqi/delete/k2"]["verdict"], "PASS")


class SavedScanstartBoot(BootDirCase):
    """boot-scanstart-reliability: 16 writers on hisi_sas under the scan_start
    model: two driver scans at once, PHY resets, failed I/O."""

    def setUp(self):
        super().setUp()
        self.d = self.copy_boot("boot-scanstart-reliability")

    def test_known_failures(self):
        res, rows = boot_table(self.d, "scanstart")
        self.assertEqual((res["passed"], res["failed"]), (1, 0))
        self.assertEqual(rows["hisi_sas/writers/k16"]["failures"],
                         {"io_errors": 668, "phy_resets": 4, "concurrent_scan_start": 2})

    def test_one_scan_at_a_time(self):
        tap = self.read_lines(self.d, "tap.log")
        i = next(i for i, l in enumerate(tap) if l.startswith("# RELIABILITY {"))
        rec = json.loads(tap[i][len("# RELIABILITY "):])
        rec.update(concurrent_scan_start_max=1, phy_resets=0, io_errors=0)
        tap[i] = "# RELIABILITY " + json.dumps(rec)
        self.write_lines(self.d, "tap.log", tap)
        _, rows = boot_table(self.d, "scanstart")
        self.assertEqual(rows["hisi_sas/writers/k16"]["verdict"], "PASS")


class SavedMultichannelBoot(BootDirCase):
    """boot-multichannel-reliability: a real failing boot. Two writers' '- - -'
    on smartpqi never return (the unbounded id walk); the guest reports the
    cell as stuck and ends the VM before its case finishes."""

    def setUp(self):
        super().setUp()
        self.d = self.copy_boot("boot-multichannel-reliability")

    def test_stuck_cell_and_unfinished_case(self):
        res, rows = boot_table(self.d, "multichannel")
        r = res["results"]
        self.assertEqual([(x["name"], x["ok"], x["why"]) for x in r],
                         [("reliability", False, ["not run: boot ended early"])])
        self.assertEqual((res["plan"], res["passed"], res["failed"]), (1, 0, 1))
        self.assertEqual(res["cell_splats"], {"smartpqi/writers/k2": []})
        self.assertEqual(rows["smartpqi/writers/k2"]["failures"],
                         {"stuck_scans": 1, "absent_probes": 166})

    def test_boot_fate(self):
        self.edit_json(self.d, "boot.json", timed_out=True)
        res, _ = boot_table(self.d, "multichannel")
        self.assertEqual(res["results"][0]["why"], ["not run: boot timed out"])

    def test_scan_returned(self):
        tap = self.read_lines(self.d, "tap.log")
        i = next(i for i, l in enumerate(tap) if l.startswith("# RELIABILITY {"))
        tap[i] = tap[i].replace('"stuck": true', '"stuck": false', 1)
        self.write_lines(self.d, "tap.log", tap)
        _, rows = boot_table(self.d, "multichannel")
        self.assertEqual(rows["smartpqi/writers/k2"]["failures"], {"absent_probes": 166})




def fault_record(tag, cid):
    return clone(load_json("reliability-faults.json")["records"][tag][cid])


class FaultCells(unittest.TestCase):
    """The fault cells as measured: fixed passes, each mutant fails on what
    its mutation breaks, and each fault figure alone fails a passing cell."""

    CELLS = {"hpsa/nomem/k1": "nomem", "mpi3mr/reset/k4": "reset", "plain/rmmod/k4": "rmmod"}

    def failures(self, rec, cid):
        return reliability.failures(rec, self.CELLS[cid])

    def test_fixed_passes_with_faults_injected(self):
        for cid in self.CELLS:
            with self.subTest(cell=cid):
                self.assertEqual(self.failures(fault_record("fixed", cid), cid), {})
        rec = fault_record("fixed", "hpsa/nomem/k1")
        # the report list's own allocation was among the points, and failed the scan
        self.assertGreater(rec["faults_injected"], 0)
        self.assertGreater(rec["report_enomem"], 0)
        self.assertGreaterEqual(rec["enomem_results"], rec["report_enomem"])

    def test_mutants_fail(self):
        got = self.failures(fault_record("mut1", "hpsa/nomem/k1"), "hpsa/nomem/k1")
        self.assertIn("splats", got)            # KASAN null-ptr-deref, Oops
        self.assertIn("no_record", got)
        self.assertEqual(self.failures(fault_record("mut2", "hpsa/nomem/k1"), "hpsa/nomem/k1"),
                         {"bad_results": 1})
        got = self.failures(fault_record("vsas-mut", "mpi3mr/reset/k4"), "mpi3mr/reset/k4")
        self.assertGreater(got.get("unexposed_probes", 0), 0)

    def test_each_figure_fails(self):
        for cid, field, value, want in (
                ("hpsa/nomem/k1", "leaks", 1, {"leaks": 1}),
                ("hpsa/nomem/k1", "half_added", 1, {"half_added": 1}),
                ("hpsa/nomem/k1", "bad_results", 2, {"bad_results": 2}),
                ("hpsa/nomem/k1", "kmemleak", False, {"no_kmemleak": 1}),
                ("hpsa/nomem/k1", "faults_injected", 0, {"no_faults_injected": 1}),
                ("hpsa/nomem/k1", "lost", 1, {"lost": 1}),
                ("mpi3mr/reset/k4", "unexposed_probes", 3, {"unexposed_probes": 3}),
                ("mpi3mr/reset/k4", "resets_entered", 1, {"too_few_resets": 1}),
                ("mpi3mr/reset/k4", "kmemleak", False, {"no_kmemleak": 1}),
                ("plain/rmmod/k4", "rmmod_while_open", 1, {"rmmod_while_open": 1}),
                ("plain/rmmod/k4", "rmmod_refused", 0, {"rmmod_not_tried_under_load": 0})):
            with self.subTest(cell=cid, field=field):
                rec = fault_record("fixed", cid)
                rec[field] = value
                self.assertEqual(self.failures(rec, cid), want)

    def test_defined_results_do_not_fail(self):
        # -EBUSY while the driver resets, absent probes under reset and nomem
        rec = fault_record("fixed", "mpi3mr/reset/k4")
        rec["busy_results"] = 5
        rec["absent_probes"] = 2
        self.assertEqual(self.failures(rec, "mpi3mr/reset/k4"), {})
        rec = fault_record("fixed", "hpsa/nomem/k1")
        rec["absent_probes"] = 1
        self.assertEqual(self.failures(rec, "hpsa/nomem/k1"), {})

    def test_full_nomem_cells_walk_every_allocation(self):
        # rounds=0 means "until a scan ends before its failing allocation";
        # a scaled profile must not turn it into one round
        for scale in (1.0, 0.05):
            for c in reliability.cells("full", "fixed", scale):
                if c.kind == "nomem":
                    with self.subTest(cell=c.id, scale=scale):
                        self.assertIn(" rounds=0 ", c.line)

    def test_per_personality_sizes(self):
        # a kind sized per personality runs on those only; rpmadd needs a
        # controller that ignores its children (rpm_links)
        def kinds(variant):
            out = {}
            for c in reliability.cells("full", variant):
                out.setdefault(c.kind, set()).add(c.row)
            return out
        fixed, stock = kinds("fixed"), kinds("stock")
        self.assertEqual(stock["nomem"], {"hpsa"})
        self.assertEqual(stock["reset"], {"mpi3mr"})
        self.assertEqual(stock["rpmadd"], {"hisi_sas"})
        self.assertEqual(fixed["rpmadd"], {r for r in reliability.PERS
                                           if personalities.get(r).rpm_links})
        self.assertEqual(fixed["nomem"], set(reliability.PERS))
        self.assertNotIn("rpm", stock)


class Merge(unittest.TestCase):
    def report(self, cells, variants, secs):
        return dict(profile="full", variants=variants, elapsed_s=secs, cells=cells,
                    vm_seconds={v: "%d s" % secs for v in variants})

    def test_later_cell_replaces_earlier(self):
        cells = [t for t in table() if t["variant"] in ("stock", "fixed")]
        first = self.report(cells, ["stock", "fixed"], 10)
        # a re-run of one fixed cell, now failing, and one new cell
        rerun = row(next(t for t in cells if t["variant"] == "fixed"))
        rerun["record"]["lost"] = 1
        extra = row(rerun)
        extra["cell"] = "plain/new/k1"
        merged, secs, vm_secs, variants, profile = reliability.merge(
            [first, self.report([rerun, extra], ["fixed"], 20)], ["", ""])
        self.assertEqual(len(merged), len(cells) + 1)
        got = [t for t in merged if (t["variant"], t["cell"]) == ("fixed", rerun["cell"])]
        self.assertEqual([t["verdict"] for t in got], ["FAIL"])
        self.assertEqual((secs, vm_secs["fixed"], vm_secs["stock"], variants, profile),
                         (20, "10 s + 20 s", "10 s", ["stock", "fixed"], "full"))

    def test_only_listed_variants(self):
        merged = reliability.merge([self.report(table(), ["stock", "fixed"], 5)], ["fixed"])[0]
        self.assertEqual({t["variant"] for t in merged}, {"fixed"})


class BadTable(unittest.TestCase):
    def test_table_size_matches_the_guest(self):
        """reliability.BAD_TABLE_STRINGS (boot time limits) is the guest's table."""
        src = open(os.path.join(os.path.dirname(__file__), "..", "..", "guest",
                                "cases_reliability.c")).read()
        body = src[src.index("bad_table[] = {"):]
        body = body[:body.index("};")]
        strings = re.findall(r'"((?:[^"\\]|\\.)*)"', body)
        self.assertEqual(len(strings), reliability.BAD_TABLE_STRINGS)


if __name__ == "__main__":
    unittest.main()
