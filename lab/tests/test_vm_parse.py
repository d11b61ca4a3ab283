"""vm.parse(): TAP, kernel log and the boot's fate judged into case verdicts.

Two kinds of input: boot folders saved from real lab boots (lab/testdata/boot-*,
see its README), and small logs built here line by line in the formats the
guest runner and the kernel print (guest/runner.c: "ok N name", the
"sasscan: begin|end N name" markers in the kernel log; printk's "[ t] msg").
"""
import os
import subprocess
import sys
import unittest

from labtest import BootDirCase, by_name

import vm


def kl(t, msg):
    """A kernel log line as the serial console shows it."""
    return "[%12.6f] %s" % (t, msg)


META = {"name": "t", "cases": "x", "timeout": 60, "hung_task_secs": 5, "timed_out": False}


class DocumentedFormat(BootDirCase):
    """Logs built from the documented formats; each test flips one thing."""

    def boot(self, tap, console, **meta):
        m = dict(META)
        m.update(meta)
        return vm.parse(self.write_boot("b", m, tap, console))

    def two_cases(self, second="ok 2 two", extra=()):
        tap = ["TAP version 13", "1..2", "ok 1 one", second]
        console = [kl(1.0, "Linux version 6.12.117"),
                   kl(2.0, "sasscan: begin 1 one"), kl(2.5, "sasscan: end 1 one"),
                   kl(3.0, "sasscan: begin 2 two")] + list(extra) + [
                   kl(4.0, "sasscan: end 2 two")]
        return tap, console

    def test_clean_boot_passes(self):
        res = self.boot(*self.two_cases())
        self.assertEqual((res["plan"], res["passed"], res["failed"]), (2, 2, 0))
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "b", "result.json")))

    def test_not_ok_fails(self):
        res = self.boot(*self.two_cases(second="not ok 2 two # CHECK failed: x"))
        r = by_name(res, "two")
        self.assertFalse(r["ok"])
        self.assertEqual(r["why"], ["CHECK failed: x"])
        self.assertEqual((res["passed"], res["failed"]), (1, 1))

    def test_skip_passes(self):
        res = self.boot(*self.two_cases(second="ok 2 two # SKIP no vsas"))
        r = by_name(res, "two")
        self.assertTrue(r["ok"] and r["skip"])

    def test_splat_inside_case_fails_that_case(self):
        for line, kind in (("WARNING: CPU: 0 PID: 1 at drivers/scsi/x.c:1 f+0x1/0x2", "warning"),
                           ("INFO: task sh:77 blocked for more than 5 seconds.", "hung_task"),
                           ("BUG: KASAN: slab-use-after-free in f+0x1/0x2", "kasan"),
                           ("WARNING: possible circular locking dependency detected",
                            "lockdep"),
                           ("watchdog: BUG: soft lockup - CPU#0 stuck for 22s!", "soft_lockup"),
                           ("Oops: general protection fault", "oops")):
            with self.subTest(kind=kind):
                res = self.boot(*self.two_cases(extra=[kl(3.5, line)]))
                r = by_name(res, "two")
                self.assertFalse(r["ok"])
                self.assertEqual([s["kind"] for s in r["splats"]], [kind])
                self.assertTrue(by_name(res, "one")["ok"])
                self.assertEqual(res["failed"], 1)

    def test_splat_outside_cases(self):
        tap, console = self.two_cases()
        console.insert(1, kl(1.5, "WARNING: CPU: 1 PID: 0 at kernel/x.c:9 g"))
        res = self.boot(tap, console)
        r = by_name(res, "kernel_log_outside_cases")
        self.assertFalse(r["ok"])
        self.assertEqual(res["passed"], 2)

    def test_console_without_timestamps_ignored(self):
        tap, console = self.two_cases()
        console.append("WARNING: not a kernel log line")
        self.assertEqual(self.boot(tap, console)["failed"], 0)

    def test_missing_plan(self):
        tap, console = self.two_cases()
        tap.remove("1..2")
        res = self.boot(tap, console)
        r = by_name(res, "boot")
        self.assertFalse(r["ok"])
        self.assertIn("no TAP plan", r["why"][0])

    def test_boot_ended_early(self):
        tap, console = self.two_cases()
        res = self.boot(tap[:3], console[:4])
        r = by_name(res, "two")
        self.assertFalse(r["ok"])
        self.assertIn("ended early", " ".join(r["why"]))

    def test_timed_out(self):
        tap, console = self.two_cases()
        res = self.boot(tap[:3], console[:4], timed_out=True)
        self.assertIn("timed out", " ".join(by_name(res, "two")["why"]))
        # every case passed but the boot ran over: the boot fails
        res = self.boot(tap, console, timed_out=True)
        self.assertFalse(by_name(res, "boot_time_limit")["ok"])
        self.assertEqual(res["failed"], 1)

    def test_nested_ktap_and_diagnostics(self):
        tap = ["TAP version 13", "1..1", "# hello", "    KTAP version 1", "    1..3",
               "    ok 1 a", "    not ok 2 b", "    ok 3 c", "ok 1 kunit_x"]
        res = self.boot(tap, [kl(1, "sasscan: begin 1 kunit_x"), kl(2, "sasscan: end 1 kunit_x")])
        r = by_name(res, "kunit_x")
        self.assertEqual(r["subtests"], {"passed": 2, "failed": 1})
        self.assertEqual(r["diag"], ["hello"])
        self.assertEqual(res["diag"], ["hello"])

    def test_cell_splats(self):
        tap = ["TAP version 13", "1..1", '# MATRIX {"cell": "plain/-_-_-"}', "ok 1 matrix"]
        console = [kl(1, "sasscan: begin 1 matrix"), kl(2, "sasscan: cell begin plain/-_-_-"),
                   kl(3, "INFO: task sh:9 blocked for more than 10 seconds."),
                   kl(4, "sasscan: cell end plain/-_-_-"), kl(5, "sasscan: end 1 matrix")]
        res = self.boot(tap, console)
        self.assertEqual([s["kind"] for s in res["cell_splats"]["plain/-_-_-"]], ["hung_task"])
        self.assertEqual(res["diag"], ['MATRIX {"cell": "plain/-_-_-"}'])


if __name__ == "__main__":
    unittest.main()


class SavedStockVsasBoot(BootDirCase):
    """boot-stock-vsas: a real clean boot of the 57 vsas cases on stock. Its
    console has I/O errors and a guest diagnostic naming an Oops (a line
    without a kernel timestamp): neither is a splat."""

    def setUp(self):
        super().setUp()
        self.d = self.copy_boot("boot-stock-vsas")

    def test_judged_clean(self):
        res = vm.parse(self.d)
        self.assertEqual((res["plan"], res["passed"], res["failed"]), (57, 57, 0))
        self.assertEqual(len(res["results"]), 57)
        self.assertEqual(res["variant"], "stock")
        self.assertFalse(res["timed_out"])
        r = by_name(res, "vsas_hisi_sas_oldchan")
        self.assertEqual((r["number"], r["ok"], r["splats"]), (10, True, []))
        self.assertIn("vsas_hisi_sas_oldchan: hisi_sas with max_channel=1 (before 8ddc0c269165):"
                      " generic ch1 scan would Oops", r["diag"])
        self.assertTrue(all(not r["splats"] for r in res["results"]))

    def test_flipped_result_fails(self):
        tap = self.read_lines(self.d, "tap.log")
        i = tap.index("ok 10 vsas_hisi_sas_oldchan")
        tap[i] = "not " + tap[i]
        self.write_lines(self.d, "tap.log", tap)
        res = vm.parse(self.d)
        self.assertEqual((res["passed"], res["failed"]), (56, 1))
        r = by_name(res, "vsas_hisi_sas_oldchan")
        self.assertEqual((r["ok"], r["why"]), (False, ["guest check failed"]))

    def test_missing_plan_fails(self):
        tap = [l for l in self.read_lines(self.d, "tap.log") if l != "1..57"]
        self.write_lines(self.d, "tap.log", tap)
        res = vm.parse(self.d)
        self.assertIsNone(res["plan"])
        self.assertFalse(by_name(res, "boot")["ok"])
        self.assertEqual(res["failed"], 1)

    def test_cut_short_fails_the_rest(self):
        tap = self.read_lines(self.d, "tap.log")
        cut = tap.index("ok 10 vsas_hisi_sas_oldchan") + 1
        self.write_lines(self.d, "tap.log", tap[:cut])
        res = vm.parse(self.d)
        self.assertEqual((res["passed"], res["failed"]), (10, 47))
        self.assertIn("not run: boot ended early", by_name(res, "vsas_smartpqi_topology")["why"])
        self.edit_json(self.d, "boot.json", timed_out=True)
        res = vm.parse(self.d)
        self.assertIn("not run: boot timed out", by_name(res, "vsas_smartpqi_topology")["why"])

    def test_oops_in_kernel_log_fails_its_case(self):
        # the same text as a kernel log line (with printk's timestamp) is a splat
        con = self.read_lines(self.d, "console.log")
        i = next(i for i, l in enumerate(con) if l.endswith("generic ch1 scan would Oops"))
        begin = next(i for i, l in enumerate(con) if l.endswith("sasscan: begin 10 "
                                                                  "vsas_hisi_sas_oldchan"))
        con.insert(begin + 1, "[   49.190000] " + con.pop(i))
        self.write_lines(self.d, "console.log", con)
        res = vm.parse(self.d)
        r = by_name(res, "vsas_hisi_sas_oldchan")
        self.assertFalse(r["ok"])
        self.assertEqual([s["kind"] for s in r["splats"]], ["oops"])
        self.assertEqual(res["failed"], 1)


class SavedSeriesBoot(BootDirCase):
    """boot-series-step1: a real boot of the series check's first step with a
    KUnit suite's KTAP nested under its case."""

    def setUp(self):
        super().setUp()
        self.d = self.copy_boot("boot-series-step1")

    def test_judged_clean_with_ktap(self):
        res = vm.parse(self.d)
        self.assertEqual((res["plan"], res["passed"], res["failed"]), (3, 3, 0))
        self.assertEqual([r["name"] for r in res["results"]],
                         ["fix_sdebug_scan_truncated", "lab_kunit_scsi_lib",
                          "lab_sdebug_scan_wildcard"])
        self.assertEqual(by_name(res, "lab_kunit_scsi_lib")["subtests"],
                         {"passed": 2, "failed": 0})
        self.assertIn("'4294967296 1 1' -> -22 (Invalid argument)",
                      by_name(res, "fix_sdebug_scan_truncated")["diag"])

    def test_failed_kunit_subtest_counted(self):
        tap = self.read_lines(self.d, "tap.log")
        i = tap.index("        ok 1 scsi_lib_test_check_passthough")
        tap[i] = "        not ok 1 scsi_lib_test_check_passthough"
        self.write_lines(self.d, "tap.log", tap)
        r = by_name(vm.parse(self.d), "lab_kunit_scsi_lib")
        self.assertEqual(r["subtests"], {"passed": 1, "failed": 1})

    def test_guest_failure(self):
        tap = self.read_lines(self.d, "tap.log")
        i = tap.index("ok 1 fix_sdebug_scan_truncated")
        tap[i] = "not ok 1 fix_sdebug_scan_truncated # '4294967296 1 1' accepted"
        self.write_lines(self.d, "tap.log", tap)
        res = vm.parse(self.d)
        self.assertEqual(by_name(res, "fix_sdebug_scan_truncated")["why"],
                         ["'4294967296 1 1' accepted"])
        self.assertEqual(res["failed"], 1)

    def test_boot_ended_before_last_case(self):
        tap = self.read_lines(self.d, "tap.log")
        self.write_lines(self.d, "tap.log", tap[:tap.index("ok 2 lab_kunit_scsi_lib") + 1])
        con = self.read_lines(self.d, "console.log")
        end = next(i for i, l in enumerate(con) if "sasscan: begin 3 " in l)
        self.write_lines(self.d, "console.log", con[:end + 1])
        res = vm.parse(self.d)
        r = by_name(res, "lab_sdebug_scan_wildcard")
        self.assertEqual((r["ok"], r["why"]), (False, ["not run: boot ended early"]))


class SavedSelftestBoot(BootDirCase):
    """boot-stock-selftest: make check's runner self-test boot on stock, real:
    a case that fails on purpose (marked XFAIL by sasscan.xfail=), a kernel
    WARNING, a hung task past a 5 s timeout, a clean case, and the first
    patch's test, which stock fails."""
    WARN = r"^WARNING: CPU: 0 PID: 48 at \S+/sasscan_selftest\.c:22 warn_write\+0x10/0x17"

    def setUp(self):
        super().setUp()
        self.d = self.copy_boot("boot-stock-selftest")

    def verdicts(self):
        res = vm.parse(self.d)
        return res, {r["name"]: r for r in res["results"]}

    def test_runner_catches_each_failure(self):
        res, r = self.verdicts()
        self.assertEqual((res["plan"], res["passed"], res["failed"]), (5, 2, 3))
        self.assertEqual({n: x["ok"] for n, x in r.items()},
                         {"fix_sdebug_scan_truncated": False, "selftest_fail": True,
                          "selftest_hung_task": False, "selftest_pass": True,
                          "selftest_warn": False})
        self.assertEqual(r["fix_sdebug_scan_truncated"]["splats"], [])
        self.assertEqual(r["fix_sdebug_scan_truncated"]["why"], ["guest check failed"])
        self.assertTrue(r["selftest_fail"]["xfail"])
        self.assertEqual(r["selftest_fail"]["why"], ["deliberate failure"])
        self.assertEqual([s["line"] for s in r["selftest_hung_task"]["splats"]],
                         ["INFO: task init:44 blocked for more than 5 seconds.",
                          "INFO: task init:44 blocked for more than 10 seconds."])
        self.assertEqual({s["kind"] for s in r["selftest_hung_task"]["splats"]}, {"hung_task"})
        (warn,) = r["selftest_warn"]["splats"]
        self.assertEqual(warn["kind"], "warning")
        self.assertRegex(warn["line"], self.WARN)
        self.assertEqual(r["selftest_pass"]["splats"], [])

    def test_without_the_warning_line(self):
        con = self.read_lines(self.d, "console.log")
        i = next(i for i, l in enumerate(con) if " WARNING: CPU: 0 PID: 48 at " in l)
        del con[i]
        self.write_lines(self.d, "console.log", con)
        res, r = self.verdicts()
        self.assertTrue(r["selftest_warn"]["ok"])
        self.assertEqual(res["failed"], 2)

    def test_without_the_hung_task_reports(self):
        con = [l for l in self.read_lines(self.d, "console.log")
               if "INFO: task init:44 blocked" not in l]
        self.write_lines(self.d, "console.log", con)
        _, r = self.verdicts()
        self.assertTrue(r["selftest_hung_task"]["ok"])

    def test_warning_outside_cases(self):
        # the same WARNING after the case's end marker fails the boot instead
        con = self.read_lines(self.d, "console.log")
        i = next(i for i, l in enumerate(con) if " WARNING: CPU: 0 PID: 48 at " in l)
        end = next(i for i, l in enumerate(con) if l.endswith("sasscan: end 5 selftest_warn"))
        con.insert(end, con.pop(i))
        self.write_lines(self.d, "console.log", con)
        res, r = self.verdicts()
        self.assertTrue(r["selftest_warn"]["ok"])
        self.assertFalse(r["kernel_log_outside_cases"]["ok"])
        self.assertRegex(r["kernel_log_outside_cases"]["splats"][0]["line"], self.WARN)

    def test_flipped_results(self):
        tap = self.read_lines(self.d, "tap.log")
        tap[tap.index("ok 4 selftest_pass")] = "not ok 4 selftest_pass"
        i = tap.index("ok 2 selftest_fail # XFAIL deliberate failure")
        tap[i] = "not ok 2 selftest_fail # deliberate failure"
        self.write_lines(self.d, "tap.log", tap)
        res, r = self.verdicts()
        self.assertFalse(r["selftest_pass"]["ok"])
        self.assertFalse(r["selftest_fail"]["ok"])
        self.assertEqual((res["passed"], res["failed"]), (0, 5))


class SavedSelftestFailBoot(BootDirCase):
    """boot-stock-selftest_fail: the failing case without XFAIL, real; vm.py
    --parse-only must exit non-zero on it."""

    def setUp(self):
        super().setUp()
        self.d = self.copy_boot("boot-stock-selftest_fail")

    def parse_only(self):
        return subprocess.run([sys.executable, os.path.join(vm.LAB, "vm.py"), "--parse-only",
                               self.d], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=60)

    def test_failing_case(self):
        res = vm.parse(self.d)
        self.assertEqual((res["plan"], res["passed"], res["failed"]), (2, 1, 1))
        r = by_name(res, "selftest_fail")
        self.assertEqual((r["ok"], r["why"], r["splats"]), (False, ["guest check failed"], []))
        self.assertIn("FAIL cases_lab.c:218: 1 + 1 == 3", r["diag"])
        out = self.parse_only()
        self.assertEqual(out.returncode, 1, out.stdout)
        self.assertIn("not ok 1 selftest_fail # guest check failed", out.stdout)

    def test_exit_zero_once_it_passes(self):
        tap = self.read_lines(self.d, "tap.log")
        tap[tap.index("not ok 1 selftest_fail")] = "ok 1 selftest_fail"
        self.write_lines(self.d, "tap.log", tap)
        self.assertEqual(vm.parse(self.d)["failed"], 0)
        out = self.parse_only()
        self.assertEqual(out.returncode, 0, out.stdout)


class SavedSelftestHangBoot(BootDirCase):
    """boot-stock-selftest_hang: a case that never ends; the boot hit its 60 s
    limit (real)."""

    def setUp(self):
        super().setUp()
        self.d = self.copy_boot("boot-stock-selftest_hang")

    def test_timed_out(self):
        res = vm.parse(self.d)
        self.assertTrue(res["timed_out"])
        self.assertEqual((res["plan"], res["passed"], res["failed"]), (1, 0, 1))
        self.assertEqual([(r["name"], r["ok"], r["why"]) for r in res["results"]],
                         [("selftest_hang", False, ["not run: boot timed out"])])

    def test_ended_without_time_out(self):
        self.edit_json(self.d, "boot.json", timed_out=False)
        r = by_name(vm.parse(self.d), "selftest_hang")
        self.assertEqual(r["why"], ["not run: boot ended early"])

    def test_all_reported_but_over_time(self):
        tap = self.read_lines(self.d, "tap.log") + ["ok 1 selftest_hang"]
        self.write_lines(self.d, "tap.log", tap)
        res = vm.parse(self.d)
        self.assertTrue(by_name(res, "selftest_hang")["ok"])
        self.assertEqual(by_name(res, "boot_time_limit")["why"], ["boot exceeded its 60 s limit"])
        self.assertEqual(res["failed"], 1)
