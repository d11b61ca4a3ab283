"""The matrix's volume and driver-state cells (lab/matrix.py): which cells
exist in each profile, their cell lines, and verdict() on made-up records
(no saved boot has them yet: they need the per-LUN vsas)."""
import unittest

import labtest  # noqa: F401  (puts lab/ on the import path)

import matrix
import personalities


def rec(**kw):
    """A bounded volume-cell record that passes; @kw overrides."""
    r = dict(cell="smartpqi/x", kind="volume", prep="del_lun0: delete 1:0:0", prep_rc=0,
             unbounded=False, write_rc=0, write_rc2=0, elapsed_ms=100, expected_devices=7,
             found_devices=7, extra_devices=0, absent_probes=0, absent_lun_probes=0,
             absent_cmds=0, rphyless_target_allocs=0, phy_resets=0, io_errors=0,
             corrupt_blocks=0, concurrent_scan_start_max=1, request_kind="normal")
    r.update(kw)
    return r


class Cells(unittest.TestCase):
    def volume_cells(self, profile):
        return [c for c in matrix.cells(profile) if c.kind in ("volume", "state")]

    def test_reduced_is_small(self):
        # make check's budget: at most ~6 reduced cells in all (stock + fixed)
        cells = self.volume_cells("reduced")
        self.assertLessEqual(len(cells) * 2, 6)
        self.assertEqual({c.kind for c in cells}, {"volume", "state"})

    def test_full_covers_every_option(self):
        cells = self.volume_cells("full")
        for row in ("smartpqi", "hpsa"):
            for rl in matrix.REPORT_LUNS:
                for what, _ in matrix.VOLUME_PREPS:
                    name = matrix.volume_name(what, rl)
                    with self.subTest(row=row, request=name):
                        self.assertTrue(any(c.row == row and c.request == name for c in cells))
        for p in personalities.REGISTRY:
            for st in p.busy_states:
                self.assertTrue(any(c.row == p.row and c.request == matrix.state_name(st)
                                    for c in cells), (p.row, st))

    def test_cell_lines(self):
        for c in self.volume_cells("full"):
            with self.subTest(cell=c.id):
                words = c.line.split()
                keys = [w.split("=", 1)[0] for w in words]
                self.assertEqual(len(keys), len(set(keys)), "a key twice: " + c.line)
                self.assertNotIn("=", c.id)
                self.assertLess(len(c.id), 64)          # guest struct cell id[64]
                if c.kind == "volume":
                    self.assertIn("set=report_luns=", c.line)
                    self.assertRegex(c.line, r" prep=(del_lun_n|del_lun0|del_volumes)( |$)")
                else:
                    self.assertRegex(c.line, r" state=(reset|discovery) ")
                    self.assertIn("mode=known", c.line)

    def test_hotadd_on_a_volume_channel_is_a_lun_of_target_0(self):
        p = personalities.get("smartpqi")
        self.assertEqual(matrix.hotadd_spec(p, 1), "ch=1,id=0,lun=7,mode=known")
        self.assertEqual(matrix.hotadd_spec(p, 3), "ch=3,id=7,mode=known")

    def test_drvrescan_cells(self):
        # smartpqi forgets deleted volumes: its rescan attribute, every prep
        full = [c for c in matrix.cells("full") if c.kind == "drvrescan"]
        self.assertEqual({c.row for c in full}, {"smartpqi"})
        self.assertEqual(sorted(c.request for c in full),
                         sorted(matrix.drvrescan_name(w) for w, _ in matrix.VOLUME_PREPS))
        for c in full:
            self.assertRegex(c.line, r" kind=drvrescan prep=(del_lun_n|del_lun0|del_volumes) ")
        reduced = [c for c in matrix.cells("reduced") if c.kind == "drvrescan"]
        self.assertEqual([(c.row, c.request) for c in reduced],
                         [("smartpqi", "delete LUN 0, rescan attribute")])

    def test_no_hotadd_on_a_forgetting_row(self):
        # smartpqi has no listed, unexposed device; hpsa keeps its hot-add cells
        hot = {c.row for c in matrix.cells("full") if c.kind == "hotadd"}
        self.assertNotIn("smartpqi", hot)
        self.assertIn("hpsa", hot)
        # nor on mpi3mr's whole-target channel: it exposes what it lists
        self.assertNotIn("mpi3mr", hot)

    def test_reduced_extra(self):
        # a row's own reduced scenarios exist in the full profile and stay
        # in the reduced one (hpsa_ctrl0: its controller on bus 0 deleted)
        full = {(c.row, c.request) for c in matrix.cells("full")}
        reduced = {(c.row, c.request) for c in matrix.cells("reduced")}
        extra = {(p.row, s) for p in personalities.REGISTRY for s in p.reduced_extra}
        self.assertIn(("hpsa_ctrl0", "delete ch0, - - -"), extra)
        self.assertLessEqual(extra, full)
        self.assertLessEqual(extra, reduced)

    def test_known_failures_name_reduced_cells(self):
        names = {(c.row, c.request) for c in self.volume_cells("reduced")}
        kf = matrix.known_failures("reduced")
        self.assertTrue(kf)
        for v, row, req, _, pred in kf:
            self.assertEqual(v, "stock")
            self.assertIn((row, req), names)
            self.assertTrue(pred(dict(verdict="FAIL", found_devices=5, expected_devices=7)))
            self.assertFalse(pred(dict(verdict="PASS", found_devices=7, expected_devices=7)))
        # not smartpqi: its deleted volumes are forgotten on every kernel
        self.assertNotIn("smartpqi", {row for _, row, _, _, _ in matrix.known_failures("full")})
        self.assertIn("hpsa", {row for _, row, _, _, _ in matrix.known_failures("full")})


class Verdicts(unittest.TestCase):
    def test_pass(self):
        self.assertEqual(matrix.verdict(rec(), []), ("PASS", ""))

    def test_lost_volume(self):
        self.assertEqual(matrix.verdict(rec(found_devices=6), []),
                         ("FAIL", "missed 1 of 7 devices"))

    def test_absent_commands_fail(self):
        self.assertEqual(matrix.verdict(rec(absent_cmds=2), []),
                         ("FAIL", "2 commands to absent addresses"))

    def test_absent_lun_probes_recorded_not_judged(self):
        # a wildcard-LUN target scan's sequential probe past the last LUN
        self.assertEqual(matrix.verdict(rec(absent_lun_probes=1), []), ("PASS", ""))

    def test_state_cell_busy_is_accepted(self):
        r = rec(kind="state", write_rc=-16, expected_devices=2, found_devices=2)
        self.assertEqual(matrix.verdict(r, []), ("PASS", ""))
        self.assertEqual(matrix.verdict(dict(r, kind="volume"), []),
                         ("FAIL", "write failed (rc -16)"))

    def test_forgotten_devices_pass_with_the_reason(self):
        # smartpqi: '- - -' finds everything the driver lists; what it forgot
        # is not a failure, and the cell's key figure says why
        r = rec(expected_devices=6, found_devices=6, unlisted_devices=1)
        self.assertEqual(matrix.verdict(r, []), ("PASS", ""))
        key = matrix.key_figure(r)
        self.assertTrue(key.startswith("6/6 dev, rc 0"), key)
        self.assertIn("1 deleted devices not listed by the driver", key)
        self.assertIn("pqi_slave_destroy", key)
        self.assertEqual(matrix.key_figure(rec()), "7/7 dev, rc 0, 100 ms")
        # a real failure still fails, and says only that
        v, why = matrix.verdict(rec(expected_devices=6, found_devices=5, unlisted_devices=1), [])
        self.assertEqual((v, why), ("FAIL", "missed 1 of 6 devices"))

    def test_drvrescan_must_bring_back_the_firmware_devices(self):
        r = rec(kind="drvrescan", expected_devices=7, found_devices=6, unlisted_devices=1)
        self.assertEqual(matrix.verdict(r, []), ("FAIL", "missed 1 of 7 devices"))
        self.assertEqual(matrix.verdict(dict(r, found_devices=7, unlisted_devices=0), []),
                         ("PASS", ""))
        # the driver's own scan must leave nothing forgotten: no note there
        self.assertNotIn("expected:", matrix.key_figure(dict(r, found_devices=7)))

    def test_state_cell_unexposable_device(self):
        r = rec(kind="state", expected_devices=2, found_devices=2, extra_devices=1)
        self.assertEqual(matrix.verdict(r, []),
                         ("FAIL", "1 devices the driver would not expose appeared"))


if __name__ == "__main__":
    unittest.main()
