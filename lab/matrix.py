#!/usr/bin/env python3
"""The scenario matrix: every scan request on every personality and variant.

Cells are data (the rows of lab/personalities.py x scenarios() below); the
guest's `matrix` case
runs them (guest/cases_matrix.c) and prints one measurement record per cell.
Verdicts are computed here from those measurements and the kernel log, never
typed in. A cell whose scan never ends ends its boot; the next boot runs the
remaining cells.

Usage: lab/matrix.py [--variants stock,fixed,...] [--profile full|reduced] [--out DIR]
Writes DIR/matrix.json and DIR/matrix.md (DIR: out/) and prints the table.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import personalities  # noqa: E402
import vm  # noqa: E402
from records import Cell, MatrixRow, jsonable  # noqa: E402

VARIANTS = ["stock", "multichannel", "scanstart", "fixed"]
# Variants that model failed upstream attempts: the real-client rows do not
# run there (they ask what an administrator sees on a kernel one can run).
MODEL_VARIANTS = {"multichannel", "scanstart"}

# row name -> its Personality (lab/personalities.py)
PERSONALITIES = personalities.BY_ROW


# The reduced profile (make check) runs every row on stock and fixed, and on
# the baselines whose scans probe thousands of ids per request under
# emulation only these requests, on the rows whose reduced_baselines name
# the variant (the rows that show its known failures).
REDUCED_REQUESTS = {
    "multichannel": ["- - -", "1 - -", "two writers - - -"],
    "scanstart": ["- - -", "two writers - - -", "- - - during I/O"],
}


# Real clients (kind=client): sg3_utils' rescan-scsi-bus.sh the ways users
# run it, on the rows whose "clients" name the profile.
# (request options, preparation, finds everything?)
# "%d" is the id of the target the preparation removed; N the last channel.
CLIENT_MODES = [
    ("", "delete_target", False),
    ("-a", "delete_all", False),
    ("-a --channels=0-N", "delete_all", True),
    ("--channels=0-N", "delete_target", False),
    ("-a --ids=%d", "delete_target", False),
    ("-a --luns=0-1", "delete_all", False),
    ("-r", "silent_remove", False),
    ("--forcerescan", "none", False),
    # the script with patches/sg3_utils: -a finds every channel again, -r
    # removes only what the firmware lost
    ("patched -a", "delete_all", True),
    ("patched -r", "silent_remove", False),
]
# make check: the administrator's "everything, every channel" only
# (the script takes 1.5-3 min per run under emulation)
CLIENT_REDUCED = {"-a --channels=0-N"}


def client_scenarios(p, profile):
    last = p.channels[-1]
    out = []
    if profile not in p.clients:
        return out
    for opts, prep, full in CLIENT_MODES:
        if profile == "reduced" and opts not in CLIENT_REDUCED:
            continue
        o = opts.replace("N", str(last))
        name = ("rescan-scsi-bus.sh " + o.replace("%d", "<id>").replace(
            "patched ", "(patched) ")).strip()
        out.append((name, dict(kind="client", opts=o.replace(" ", "_"), prep=prep, ch=str(last),
                               full="1" if full else "0")))
    return out


# Volume cells (kind=volume): what a volume answers to REPORT LUNS is
# firmware behaviour the drivers' source does not show (docs/vsas.md), so
# every deletion runs under each vsas report_luns option.
REPORT_LUNS = ("all", "self", "none")
# (scenario name part, guest prep): delete one volume at LUN > 0, the
# volume at LUN 0 of a target that has more, every device on channels >= 1
VOLUME_PREPS = [("delete LUN>0", "del_lun_n"), ("delete LUN 0", "del_lun0"),
                ("delete all volumes", "del_volumes")]
# make check: at most a few cells (each runs on stock and fixed)
VOLUME_REDUCED = {("smartpqi", "delete LUN 0 [report_luns=self], - - -"),
                  ("hpsa", "delete all volumes [report_luns=none], - - -"),
                  ("smartpqi", "driver_state=reset, hot-add unannounced, - - -"),
                  ("smartpqi", "delete LUN 0, rescan attribute")}

# Why a user scan does not bring back what a forgets_deleted driver
# (smartpqi) no longer lists: shown in the cell, not judged a failure.
FORGOTTEN_WHY = ("%d deleted devices not listed by the driver, so no user scan can find them "
                 "(smartpqi forgets a deleted device: pqi_slave_destroy(); its rescan attribute "
                 "adds them)")


def volume_name(what, rl):
    return "%s [report_luns=%s], - - -" % (what, rl)


def drvrescan_name(what):
    return "%s, rescan attribute" % what


def state_name(state):
    return "driver_state=%s, hot-add unannounced, - - -" % state


def hotadd_spec(p, c):
    """A device the driver learns of on channel @c: on a volume channel the
    next LUN of the shared target 0, else a new target 7."""
    if c in p.volumes:
        used = [d[2] for d in personalities.topo_devices(p.topo) if d[0] == c and d[1] == 0]
        return "ch=%d,id=0,lun=%d,mode=known" % (c, max(used) + 5)
    return "ch=%d,id=7,mode=known" % c


def volume_scenarios(p, profile):
    """The volume and driver-state cells of row @p."""
    out = []
    if p.volumes:
        preps = VOLUME_PREPS
    elif p.volume_cells:
        preps = [VOLUME_PREPS[2]]       # one device per target: delete them all
    else:
        preps = []
    for rl in REPORT_LUNS:
        for what, prep in preps:
            out.append((volume_name(what, rl),
                        dict(kind="volume", prep=prep, req="-_-_-", set="report_luns=" + rl)))
    for st in p.busy_states:
        out.append((state_name(st), dict(kind="state", state=st, req="-_-_-",
                                         add=hotadd_spec(p, p.channels[-1]))))
    # the driver forgets deleted devices: its own scan (the host's rescan
    # attribute) must bring them back, on every kernel
    if p.forgets_deleted:
        for what, prep in preps:
            out.append((drvrescan_name(what), dict(kind="drvrescan", prep=prep, req="-_-_-")))
    if profile == "reduced":
        out = [o for o in out if (p.row, o[0]) in VOLUME_REDUCED]
    return out


def scenarios(p, profile):
    """(scenario name, cell fields) for one personality row."""
    chans = list(p.channels)
    extra = list(p.extra_channels)
    out = [("- - -", dict(kind="scan", req="-_-_-")),
           ("0 - -", dict(kind="scan", req="0_-_-"))]
    for c in chans[1:] + extra:
        out.append(("%d - -" % c, dict(kind="scan", req="%d_-_-" % c)))
    out.append(("max_channel+1 - -", dict(kind="scan", req="over")))
    out.append(("0 <id> -", dict(kind="scan", req="0_@id_-")))
    out.append(("- <id> <lun>", dict(kind="scan", req="-_@id_0")))
    for c in chans:
        out.append(("delete ch%d, - - -" % c, dict(kind="delete", ch=str(c), req="-_-_-")))
    # a driver that forgets deleted devices lists and adds in one scan of
    # its own (smartpqi pqi_update_device_list() under scan_mutex): it has
    # no listed, unexposed device for a user scan to find. Neither has one
    # that scans its targets whole (mpi3mr exposes a target on its device
    # added event, mpi3mr_report_tgtdev_to_host(); one it lists unexposed
    # in a reset is the state cells', and its hook reports exposed ones only)
    for c in ([] if p.forgets_deleted else chans[1:]):
        if c in p.whole_target_channels:
            continue
        out.append(("hot-add ch%d unannounced, - - -" % c,
                    dict(kind="hotadd", add=hotadd_spec(p, c), req="-_-_-")))
    out.append(("two writers - - -", dict(kind="writers", req="-_-_-")))
    out.append(("- - - during I/O", dict(kind="ioload", req="-_-_-")))
    if profile == "reduced":
        keep = {"- - -"} | {"%d - -" % c for c in extra} | set(p.reduced_extra)
        # a variant row keeps what it differs in; its base row has the rest
        if not p.override_of:
            keep |= {"%d - -" % c for c in chans[1:]}
            keep |= {"max_channel+1 - -", "two writers - - -", "- - - during I/O",
                     "delete ch%d, - - -" % chans[-1]}
        out = [o for o in out if o[0] in keep]
    return out + volume_scenarios(p, profile) + client_scenarios(p, profile)


def cells(profile, rows=None, kinds=None):
    """The cells of a profile (optionally only these rows and kinds)."""
    result = []
    for p in personalities.REGISTRY:
        if rows and p.row not in rows:
            continue
        for sname, f in scenarios(p, profile):
            if kinds and f["kind"] not in kinds:
                continue
            cid = "%s/%s" % (p.row, sname.replace(" ", "_").replace(",", ""))
            cid = (cid.replace("[", "").replace("]", "").replace(">", "gt")
                   .replace("=", "-"))
            line = "cell=%s pers=%s topo=%s" % (cid, p.pers, p.topo)
            settings = ";".join(x for x in (p.set, f.get("set", "")) if x)
            if settings:
                line += " set=" + settings
            for k, v in f.items():
                if k != "set":
                    line += " %s=%s" % (k, v)
            # boot time per cell: a client run takes minutes under TCG and KASAN
            result.append(Cell(id=cid, row=p.row, request=sname, line=line, kind=f["kind"],
                               budget=300 if f["kind"] == "client" else 30))
    return result


def verdict(rec, splats):
    """PASS, or FAIL with every problem the measurements show."""
    problems = []
    if rec.get("error"):
        problems.append(rec["error"])
    elif rec.get("prep_rc", 0) != 0:
        problems.append("scenario preparation failed (%s: rc %d)" % (rec["prep"], rec["prep_rc"]))
    elif rec.get("unbounded"):
        second = ("second writer blocked (D)" if rec.get("second_writer_state") == "D" else
                  "second writer state " + rec.get("second_writer_state", "?"))
        if rec["probe_rate"] > 0:
            problems.append("unbounded scan: %.0f probes/s of %.3g => ~%.1f h; %s" % (
                rec["probe_rate"], rec["extrapolated_probes"], rec["extrapolated_hours"],
                second))
        else:
            problems.append("scan never returns (no probes: the driver's scan never "
                            "finishes); %s" % second)
    else:
        if rec["request_kind"] == "over":
            # beyond max_channel: stock returns 0 and scans nothing, and so
            # does the fix (no range refusal, docs/design.md); what it must
            # not do is probe or add anything (judged below)
            if rec["write_rc"] != 0:
                problems.append("out-of-range request refused (rc %d)" % rec["write_rc"])
        else:
            # a state cell: the fix series scans the rphys and returns the
            # driver's -EBUSY (docs/design.md, "What sas_user_scan() does")
            busy_ok = rec.get("kind") == "state" and rec["write_rc"] == -16
            if rec["write_rc"] != 0 and not busy_ok:
                problems.append("write failed (rc %d)" % rec["write_rc"])
            if rec.get("write_rc2", 0) != 0:
                problems.append("second write failed (rc %d)" % rec["write_rc2"])
            if rec["found_devices"] < rec["expected_devices"]:
                problems.append("missed %d of %d devices" % (
                    rec["expected_devices"] - rec["found_devices"], rec["expected_devices"]))
        if rec.get("extra_devices", 0) > 0:
            if rec.get("kind") == "state":
                problems.append("%d devices the driver would not expose appeared" %
                                rec["extra_devices"])
            else:
                problems.append("%d unrequested or stale devices" % rec["extra_devices"])
    if rec.get("lsscsi_agrees") == 0:
        problems.append("lsscsi lists other devices than sysfs")
    if rec.get("absent_probes", 0) > 0:
        problems.append("%d probes of absent targets" % rec["absent_probes"])
    # volume and state cells: commands to an address the driver has no
    # device for (a volume LUN that does not exist: DID_NO_CONNECT)
    if rec.get("absent_cmds", 0) > 0:
        problems.append("%d commands to absent addresses" % rec["absent_cmds"])
    if rec.get("rphyless_target_allocs", 0) > 0:
        problems.append("%d rphy-less target allocations" % rec["rphyless_target_allocs"])
    if rec.get("phy_resets", 0) > 0:
        problems.append("%d PHY/link/firmware resets" % rec["phy_resets"])
    if rec.get("io_errors", 0) > 0 or rec.get("corrupt_blocks", 0) > 0:
        problems.append("%d failed I/O, %d corrupt blocks" % (
            rec.get("io_errors", 0), rec.get("corrupt_blocks", 0)))
    if rec.get("concurrent_scan_start_max", 0) > 1:
        problems.append("%d driver scans (scan_start..scan_finished) at once" %
                        rec["concurrent_scan_start_max"])
    if splats:
        problems.append("kernel splat: " + ", ".join(sorted({s["kind"] for s in splats})))
    return ("PASS", "") if not problems else ("FAIL", "; ".join(problems))


def forgotten_note(rec):
    """Why a passing cell did not find devices the firmware has: the driver
    no longer lists them (smartpqi forgets deleted devices); "" otherwise."""
    if rec.get("unlisted_devices", 0) > 0 and rec.get("kind") != "drvrescan":
        return FORGOTTEN_WHY % rec["unlisted_devices"]
    return ""


def _missed(t):
    return t["verdict"] == "FAIL" and (t["found_devices"] or 0) < (t["expected_devices"] or 0)


def known_failures(profile="reduced"):
    """The volume cells' expected failures, in lab/check.py's KNOWN_FAILURES
    form (variant, row, request, what, predicate): stock never rescans a
    deleted volume (channels >= 1), under every report_luns option. Not on
    rows whose driver forgets deleted devices (smartpqi): no kernel's user
    scan brings those back, and the cells pass with the reason shown."""
    out = []
    for p in personalities.REGISTRY:
        if p.forgets_deleted:
            continue
        for name, f in volume_scenarios(p, profile):
            if f["kind"] == "volume":
                out.append(("stock", p.row, name, "deleted volumes stay lost", _missed))
    return out


def key_figure(rec):
    """The cell's figure for the table; a passing cell that left devices the
    driver forgot says so (forgotten_note())."""
    key = _key_figure(rec)
    note = forgotten_note(rec)
    return "%s; expected: %s" % (key, note) if note else key


def _key_figure(rec):
    if rec.get("unbounded") and rec["probe_rate"] <= 0:
        return "never returns"
    if rec.get("unbounded"):
        return "%.0f probes/s, ~%.0f h" % (rec["probe_rate"], rec["extrapolated_hours"])
    if rec.get("error"):
        return rec["error"]
    if rec.get("kind") == "client":
        return "%d/%d firmware dev, rc %d, %.0f s" % (
            rec.get("firmware_found", 0), rec.get("firmware_devices", 0), rec.get("write_rc", 0),
            rec.get("elapsed_ms", 0) / 1000.0)
    return "%d/%d dev, rc %d, %d ms" % (rec.get("found_devices", 0), rec.get("expected_devices", 0),
                                       rec.get("write_rc", 0), rec.get("elapsed_ms", 0))


def run_variant(variant, todo, outdir, hung_task_secs=10, tag="MATRIX", case="matrix",
                path="/etc/sasscan/matrix.txt", append=""):
    """Boot until every cell has a record; returns {cell id: record}.
    The guest case @case reads the cells from @path and prints one
    "@tag {json}" line per cell; a cell's "budget" (s, default 30) sizes the
    boot's time limit; @append goes on the kernel command line. Also used by
    lab/reliability.py."""
    records = {}
    boots = 0
    while todo and boots < len(todo) + 2:
        boots += 1
        name = "%s-%s-%d" % (case, variant, boots)
        text = "".join(c["line"] + "\n" for c in todo)
        res = vm.boot(variant, case, name,
                      timeout=300 + sum(c.get("budget", 30) for c in todo),
                      hung_task_secs=hung_task_secs, results_dir=outdir, files={path: text},
                      extra_append=append)
        print(vm.header(res), flush=True)
        for d in res.get("diag", []):
            if not d.startswith(tag + " {"):
                continue
            rec = json.loads(d[len(tag) + 1:])
            cid = rec["cell"]
            rec["splats"] = res["cell_splats"].get(cid, [])
            rec["boot"] = name
            records[cid] = rec
        before = len(todo)
        todo = [c for c in todo if c["id"] not in records]
        if len(todo) == before:
            # the boot produced nothing for the next cell: record that and go on
            bad = todo.pop(0)
            records[bad["id"]] = {"cell": bad["id"], "error": "no record (boot %s: %s)" % (
                name, "timed out" if res.get("timed_out") else "ended"),
                "splats": res["cell_splats"].get(bad["id"], []), "boot": name}
    return records


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--profile", default="full", choices=["full", "reduced"])
    ap.add_argument("--rows", help="comma-separated personality rows (default all)")
    ap.add_argument("--kinds", help="comma-separated scenario kinds (scan, delete, hotadd, "
                    "writers, ioload, client, volume, state, drvrescan; default all)")
    ap.add_argument("--out", default=vm.OUT, help="output folder (default out/)")
    a = ap.parse_args()
    run(a.variants.split(","), a.profile, a.out, a.rows.split(",") if a.rows else None,
        a.kinds.split(",") if a.kinds else None)
    return 0


def variant_cells(variant, profile, all_cells):
    """The cells a variant runs: the reduced baselines only what shows their
    known failures; the failed-attempt models no real clients."""
    vcells = all_cells
    if profile == "reduced" and variant in REDUCED_REQUESTS:
        vcells = [c for c in all_cells if variant in PERSONALITIES[c.row].reduced_baselines
                  and c.request in REDUCED_REQUESTS[variant]]
    if variant in MODEL_VARIANTS:
        vcells = [c for c in vcells if c.kind != "client"]
    return vcells


def judge(variant, cell, info, rec):
    """A cell's table row from its record (or its absence)."""
    rec = rec or {"cell": cell.id, "error": "not run", "splats": []}
    rec["request_kind"] = "over" if "max_channel+1" in cell.request else "normal"
    verdict_s, why = verdict(rec, rec.get("splats", []))
    return MatrixRow.of(variant, cell, info, rec, verdict_s, why, key_figure(rec))


def run_one(variant, profile, out, rows=None, kinds=None, only=None):
    """Boot one variant's cells; returns its table rows (MatrixRow, also
    t["key"]). Writes the boot logs under out/matrix, no report.
    only: a set of (row, request); the variant runs only those cells."""
    outdir = os.path.join(out, "matrix")
    os.makedirs(outdir, exist_ok=True)
    info = vm.build_info(variant)
    vcells = variant_cells(variant, profile, cells(profile, rows, kinds))
    if only is not None:
        vcells = [c for c in vcells if (c.row, c.request) in only]
    recs = run_variant(variant, list(vcells), outdir)
    return [judge(variant, c, info, recs.get(c.id)) for c in vcells]


def run(variants, profile, out, rows=None, kinds=None):
    """Run the matrix; returns the table of judged cells (also written out)."""
    start = time.monotonic()
    table = []
    for v in variants:
        table += run_one(v, profile, out, rows, kinds)
    write_reports(table, variants, out, profile, time.monotonic() - start)
    return table


def write_reports(table, variants, out, profile, secs):
    """out/matrix.json and out/matrix.md from a table (MatrixRows or dicts,
    e.g. run_one()'s of several variants); prints the table."""
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "matrix.json"), "w") as f:
        json.dump({"profile": profile, "variants": variants, "cells": table,
                   "elapsed_s": round(secs)}, f, indent=1, default=jsonable)
    rows = []
    seen = set()
    for t in table:
        k = (t["personality"], t["request"])
        if k not in seen:
            seen.add(k)
            rows.append(k)
    cell = {(t["variant"], t["personality"], t["request"]): t for t in table}
    info = {v: next((t for t in table if t["variant"] == v), {}) for v in variants}
    lines = ["# Scenario matrix (%s profile)" % profile, ""]
    for v in variants:
        lines.append("- `%s`: %s %s, series %s" % (
            v, info[v].get("source"), info[v].get("source_version"), info[v].get("series")))
    lines += ["", "| personality | request | " + " | ".join(variants) + " |",
              "|---|---|" + "---|" * len(variants)]
    for pers, req in rows:
        cols = []
        for v in variants:
            t = cell.get((v, pers, req))
            if not t:
                cols.append("")
            elif t["verdict"] == "PASS":
                cols.append("PASS " + t["key"])
            else:
                cols.append("**FAIL** " + t["why"])
        lines.append("| %s | `%s` | %s |" % (pers, req, " | ".join(cols)))
    fails = {v: sum(1 for t in table if t["variant"] == v and t["verdict"] != "PASS")
             for v in variants}
    lines += ["", "Failing cells: " + ", ".join("%s %d" % (v, fails[v]) for v in variants),
              "", "Elapsed: %d s" % secs]
    md = "\n".join(lines) + "\n"
    with open(os.path.join(out, "matrix.md"), "w") as f:
        f.write(md)
    print(md)


if __name__ == "__main__":
    sys.exit(main())
