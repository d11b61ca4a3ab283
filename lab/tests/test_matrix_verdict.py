"""matrix.verdict() on real cell records (lab/testdata/matrix-clients.json)."""
import json
import unittest

from labtest import BootDirCase, by_name, clone, load_json

import matrix
import vm


def cells():
    return load_json("matrix-clients.json")["cells"]


def find(variant_prefix, pers, request):
    for c in cells():
        if (c["variant"].startswith(variant_prefix) and c["personality"] == pers
                and c["request"] == request):
            return c
    raise KeyError((variant_prefix, pers, request))


class SavedVerdicts(unittest.TestCase):
    def test_every_saved_cell_judged_as_stored(self):
        cs = cells()
        self.assertEqual(len(cs), 32)
        for c in cs:
            with self.subTest(cell="%s %s %s" % (c["variant"], c["personality"], c["request"])):
                got = matrix.verdict(c["record"], c["record"].get("splats", []))
                self.assertEqual(got, (c["verdict"], c["why"]))

    def test_known_answers(self):
        # The administrator's full rescan: Debian's kernel finds 2 of smartpqi's
        # 6 devices, fixed finds all of them (README, "Real users' tools").
        for variant, want in (("debian", ("FAIL", "missed 4 of 6 devices")),
                              ("fixed", ("PASS", ""))):
            c = find(variant, "smartpqi", "rescan-scsi-bus.sh -a --channels=0-3")
            self.assertEqual(matrix.verdict(c["record"], c["record"]["splats"]), want)
        c = find("debian", "mpt3sas", "rescan-scsi-bus.sh -a --channels=0-2")
        self.assertEqual(matrix.verdict(c["record"], []), ("FAIL", "missed 2 of 5 devices"))
        counts = {}
        for c in cells():
            v = matrix.verdict(c["record"], c["record"]["splats"])[0]
            key = (c["variant"].split("-")[0], v)
            counts[key] = counts.get(key, 0) + 1
        self.assertEqual(counts, {("fixed", "PASS"): 12, ("fixed", "FAIL"): 4,
                                  ("debian", "PASS"): 10, ("debian", "FAIL"): 6})


class Mutations(unittest.TestCase):
    """A changed measurement must change the verdict."""

    def setUp(self):
        self.passing = find("fixed", "smartpqi", "rescan-scsi-bus.sh -a --channels=0-3")
        self.rec = clone(self.passing["record"])
        self.assertEqual(matrix.verdict(self.rec, [])[0], "PASS")

    def judge(self, splats=()):
        return matrix.verdict(self.rec, list(splats))

    def test_fewer_devices_found(self):
        self.rec["found_devices"] -= 1
        self.assertEqual(self.judge(), ("FAIL", "missed 1 of %d devices"
                                        % self.rec["expected_devices"]))

    def test_extra_device(self):
        self.rec["extra_devices"] = 2
        self.assertEqual(self.judge(), ("FAIL", "2 unrequested or stale devices"))

    def test_write_failed(self):
        self.rec["write_rc"] = -5
        self.assertEqual(self.judge(), ("FAIL", "write failed (rc -5)"))

    def test_lsscsi_disagrees(self):
        self.rec["lsscsi_agrees"] = 0
        self.assertEqual(self.judge(), ("FAIL", "lsscsi lists other devices than sysfs"))

    def test_kernel_splat(self):
        v, why = self.judge([{"kind": "warning", "line": "WARNING: x"},
                             {"kind": "lockdep", "line": "WARNING: possible circular"}])
        self.assertEqual((v, why), ("FAIL", "kernel splat: lockdep, warning"))

    def test_counters(self):
        for field, text in (("absent_probes", "probes of absent targets"),
                            ("rphyless_target_allocs", "rphy-less target allocations"),
                            ("phy_resets", "PHY/link/firmware resets"),
                            ("io_errors", "failed I/O"),
                            ("corrupt_blocks", "corrupt blocks"),
                            ("concurrent_scan_start_max", "driver scans")):
            with self.subTest(field=field):
                rec = clone(self.passing["record"])
                rec[field] = 3
                v, why = matrix.verdict(rec, [])
                self.assertEqual(v, "FAIL")
                self.assertIn(text, why)

    def test_preparation_failed(self):
        self.rec["prep_rc"] = 1
        v, why = self.judge()
        self.assertEqual(v, "FAIL")
        self.assertIn("scenario preparation failed", why)

    def test_out_of_range_request(self):
        # stock and the fix both return 0 and scan nothing (docs/design.md)
        self.rec["request_kind"] = "over"
        self.assertEqual(self.judge()[0], "PASS")
        self.rec["write_rc"] = -22
        self.assertEqual(self.judge(), ("FAIL", "out-of-range request refused (rc -22)"))

    def test_unbounded(self):
        self.rec.update(unbounded=True, probe_rate=29.2, extrapolated_probes=1.29e10,
                        extrapolated_hours=122544.9, second_writer_state="D")
        v, why = self.judge()
        self.assertEqual(v, "FAIL")
        self.assertIn("unbounded scan", why)
        self.assertIn("second writer blocked (D)", why)
        self.rec["probe_rate"] = 0
        self.assertIn("scan never returns", self.judge()[1])

    def test_missing_record(self):
        v, why = matrix.verdict({"cell": "x", "error": "not run", "splats": []}, [])
        self.assertEqual((v, why), ("FAIL", "not run"))

    def test_failing_cell_repaired(self):
        c = find("debian", "smartpqi", "rescan-scsi-bus.sh -a --channels=0-3")
        rec = clone(c["record"])
        self.assertEqual(matrix.verdict(rec, [])[0], "FAIL")
        rec["found_devices"] = rec["expected_devices"]
        self.assertEqual(matrix.verdict(rec, []), ("PASS", ""))


def boot_records(res):
    """The cell records of a judged matrix boot, as matrix.py reads them:
    "# MATRIX {json}" lines, each with the kernel splats of its cell."""
    recs = {}
    for d in res["diag"]:
        if d.startswith("MATRIX {"):
            rec = json.loads(d[len("MATRIX "):])
            rec["splats"] = res["cell_splats"].get(rec["cell"], [])
            rec["request_kind"] = "over" if "max_channel+1" in rec["cell"] else "normal"
            recs[rec["cell"]] = rec
    return recs


class MatrixBootCase(BootDirCase):
    boot = None

    def setUp(self):
        super().setUp()
        self.d = self.copy_boot(self.boot)

    def verdicts(self):
        res = vm.parse(self.d)
        return {cid: matrix.verdict(rec, rec["splats"])
                for cid, rec in boot_records(res).items()}


class SavedStockMatrixBoot(MatrixBootCase):
    """boot-stock-matrix: a real boot of the reduced matrix on stock (67 cells);
    vm.parse() gives the records, matrix.verdict() judges them."""
    boot = "boot-stock-matrix"

    def test_known_stock_failures(self):
        v = self.verdicts()
        self.assertEqual(len(v), 67)
        self.assertEqual(sum(1 for x in v.values() if x[0] == "FAIL"), 22)
        # channel 0 only: the drivers' other channels are never rescanned
        self.assertEqual(v["smartpqi/-_-_-"], ("FAIL", "missed 4 of 6 devices"))
        self.assertEqual(v["hpsa/-_-_-"], ("FAIL", "missed 4 of 6 devices"))
        self.assertEqual(v["mpt3sas/-_-_-"], ("FAIL", "missed 2 of 5 devices"))
        self.assertEqual(v["mpi3mr/-_-_-"], ("FAIL", "missed 2 of 4 devices"))
        self.assertEqual(v["smartpqi/1_-_-"], ("FAIL", "missed 2 of 2 devices"))
        self.assertEqual(v["smartpqi/rescan-scsi-bus.sh_-a_--channels=0-3"],
                         ("FAIL", "missed 4 of 6 devices"))
        # out-of-range requests return 0 and scan nothing on every row, as
        # they do with the fix (no range refusal)
        over = {c: x for c, x in v.items() if "max_channel+1" in c}
        self.assertEqual(len(over), 11)
        self.assertEqual(set(over.values()), {("PASS", "")})
        for cid in ("plain/-_-_-", "hisi_sas/-_-_-", "pm8001/two_writers_-_-_-",
                    "smartpqi/-_-_-_during_I/O"):
            self.assertEqual(v[cid], ("PASS", ""), cid)

    def test_changed_record_changes_verdict(self):
        tap = self.read_lines(self.d, "tap.log")
        i = next(i for i, l in enumerate(tap) if l.startswith('# MATRIX {"cell": "plain/-_-_-"'))
        rec = json.loads(tap[i][len("# MATRIX "):])
        rec["found_devices"] -= 1
        tap[i] = "# MATRIX " + json.dumps(rec)
        self.write_lines(self.d, "tap.log", tap)
        self.assertEqual(self.verdicts()["plain/-_-_-"], ("FAIL", "missed 1 of 3 devices"))

    def test_hung_task_in_cell_fails_it(self):
        con = self.read_lines(self.d, "console.log")
        i = next(i for i, l in enumerate(con) if l.endswith("sasscan: cell begin plain/-_-_-"))
        con.insert(i + 1, "[  100.000000] INFO: task init:223 blocked for more than 10 seconds.")
        self.write_lines(self.d, "console.log", con)
        self.assertEqual(self.verdicts()["plain/-_-_-"], ("FAIL", "kernel splat: hung_task"))


class SavedFixedMatrixBoot(MatrixBootCase):
    """boot-fixed-matrix: the reduced matrix on the 7.3 fixed kernel, 71 cells
    (per-LUN volumes, REPORT LUNS options, driver states): all pass."""
    boot = "boot-fixed-matrix"

    def test_every_cell_passes(self):
        res = vm.parse(self.d)
        self.assertEqual((res["variant"], res["passed"], res["failed"]), ("fixed", 1, 0))
        recs = boot_records(res)
        self.assertEqual(len(recs), 71)
        # smartpqi's cells pass with a note: it forgets deleted devices
        self.assertEqual({c: matrix.verdict(r, r["splats"])[0] for c, r in recs.items()},
                         {c: "PASS" for c in recs})
        self.assertEqual(recs["hpsa/-_-_-"]["found_devices"], 7)
        self.assertEqual({r["write_rc"] for c, r in recs.items() if "max_channel+1" in c}, {0})

    def test_refused_out_of_range_request_fails(self):
        tap = self.read_lines(self.d, "tap.log")
        i = next(i for i, l in enumerate(tap)
                 if l.startswith('# MATRIX {"cell": "smartpqi/max_channel+1_-_-"'))
        tap[i] = tap[i].replace('"write_rc": 0', '"write_rc": -22', 1)
        self.write_lines(self.d, "tap.log", tap)
        self.assertEqual(self.verdicts()["smartpqi/max_channel+1_-_-"],
                         ("FAIL", "out-of-range request refused (rc -22)"))


class SavedMultichannelMatrixBoot(MatrixBootCase):
    """boot-multichannel-matrix: a real failing boot. smartpqi's '- - -' walks
    every id up to 2^32-1: the guest extrapolates the walk, the second writer
    hangs in D state and the kernel reports the hung task (during the cell and
    again after it); the guest ends the VM before its case reports."""
    boot = "boot-multichannel-matrix"
    HUNG10 = "INFO: task init:43 blocked for more than 10 seconds."
    HUNG20 = "INFO: task init:43 blocked for more than 20 seconds."

    def test_hung_task_and_unbounded_walk(self):
        res = vm.parse(self.d)
        self.assertEqual((res["variant"], res["plan"], res["passed"], res["failed"]),
                         ("multichannel", 1, 0, 1))
        r = by_name(res, "matrix")
        self.assertEqual(r["why"], ["no result from the guest",
                                    "kernel splat (hung_task): " + self.HUNG10,
                                    "kernel splat (hung_task): " + self.HUNG20])
        self.assertEqual(res["cell_splats"],
                         {"smartpqi/-_-_-": [{"kind": "hung_task", "line": self.HUNG10}]})
        rec = boot_records(res)["smartpqi/-_-_-"]
        self.assertTrue(rec["unbounded"])
        self.assertGreater(rec["extrapolated_hours"], 1)
        self.assertEqual(matrix.verdict(rec, rec["splats"]), (
            "FAIL", "unbounded scan: 36 probes/s of 1.29e+10 => ~100383.1 h; second writer "
            "blocked (D); 1188 probes of absent targets; kernel splat: hung_task"))

    def test_without_the_hung_task_report(self):
        con = [l for l in self.read_lines(self.d, "console.log")
               if not l.endswith(self.HUNG10)]
        self.write_lines(self.d, "console.log", con)
        res = vm.parse(self.d)
        self.assertEqual(by_name(res, "matrix")["why"],
                         ["no result from the guest", "kernel splat (hung_task): " + self.HUNG20])
        self.assertEqual(res["cell_splats"], {"smartpqi/-_-_-": []})
        self.assertNotIn("kernel splat", self.verdicts()["smartpqi/-_-_-"][1])

    def test_guest_result_alone_does_not_pass_the_case(self):
        tap = self.read_lines(self.d, "tap.log")
        tap.insert(tap.index("# MATRIX-STOP after smartpqi/-_-_-") + 1, "ok 1 matrix")
        self.write_lines(self.d, "tap.log", tap)
        r = by_name(vm.parse(self.d), "matrix")
        self.assertFalse(r["ok"])
        self.assertEqual([s["kind"] for s in r["splats"]], ["hung_task", "hung_task"])
        con = [l for l in self.read_lines(self.d, "console.log") if "INFO: task init:43" not in l]
        self.write_lines(self.d, "console.log", con)
        self.assertTrue(by_name(vm.parse(self.d), "matrix")["ok"])


if __name__ == "__main__":
    unittest.main()
