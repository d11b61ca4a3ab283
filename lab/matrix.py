#!/usr/bin/env python3
"""The scenario matrix: every scan request on every personality and variant.

Cells are data (PERSONALITIES x SCENARIOS below); the guest's `matrix` case
runs them (guest/cases_matrix.c) and prints one measurement record per cell.
Verdicts are computed here from those measurements and the kernel log, never
typed in. A cell whose scan never ends ends its boot; the next boot runs the
remaining cells.

Usage: lab/matrix.py [--variants stock,fixed,...] [--profile full|reduced]
Writes results/matrix.json and results/matrix.md and prints the table.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vm  # noqa: E402

VARIANTS = ["stock", "multichannel", "scanstart", "fixed"]
# Variants that model failed upstream attempts: the real-client rows do not
# run there (they ask what an administrator sees on a kernel one can run).
MODEL_VARIANTS = {"multichannel", "scanstart"}

# row name -> vsas personality, topology (vsas syntax, commas), channels the
# driver puts devices on, per-host overrides (vsas configfs "attr=v;...").
PERSONALITIES = {
    "plain":        dict(pers="plain", topo="0,0,0e", channels=[0]),
    "smartpqi":     dict(pers="smartpqi", topo="0,0,1:0,1:1,2:0,3:0", channels=[0, 1, 2, 3]),
    "hpsa":         dict(pers="hpsa", topo="0,0,1:0,1:1,2:0,3:0", channels=[0, 1, 2, 3]),
    "mpt3sas":      dict(pers="mpt3sas", topo="0,0,0e,1:0,2:0", channels=[0, 1, 2]),
    "mpi3mr":       dict(pers="mpi3mr", topo="0,0,1:0,1:1", channels=[0, 1]),
    "hisi_sas":     dict(pers="hisi_sas", topo="0,0", channels=[0]),
    # hisi_sas before 8ddc0c269165 ("hisi_sas: Fix NULL pointer exception ...")
    "hisi_sas_mc1": dict(pers="hisi_sas", topo="0,0", channels=[0], set="max_channel=1",
                         extra_channels=[1]),
    "aic94xx":      dict(pers="aic94xx", topo="0,0", channels=[0]),
    "isci":         dict(pers="isci", topo="0,0", channels=[0]),
    "mvsas":        dict(pers="mvsas", topo="0,0", channels=[0], extra_channels=[1]),
    "pm8001":       dict(pers="pm8001", topo="0,0", channels=[0]),
}


# The reduced profile (make check) runs every row on stock and fixed, and on
# the baselines whose scans probe thousands of ids per request under
# emulation only the rows that show their known failures.
REDUCED_BASELINES = {
    "multichannel": (["smartpqi", "mpi3mr", "mpt3sas", "hisi_sas_mc1"],
                     ["- - -", "1 - -", "two writers - - -"]),
    "scanstart": (["hisi_sas", "pm8001", "mpt3sas", "smartpqi", "isci"],
                  ["- - -", "two writers - - -", "- - - during I/O"]),
}


# Real clients (kind=client): sg3_utils' rescan-scsi-bus.sh the ways users
# run it, on these rows. (request options, preparation, finds everything?)
# "%d" is the id of the target the preparation removed; N the last channel.
# The rows whose drivers use channels beyond 0 (logical drives, RAID/NVMe).
CLIENT_ROWS = ["smartpqi", "mpt3sas"]
CLIENT_MODES = [
    ("", "delete_target", False),
    ("-a", "delete_all", False),
    ("-a --channels=0-N", "delete_all", True),
    ("--channels=0-N", "delete_target", False),
    ("-a --ids=%d", "delete_target", False),
    ("-a --luns=0-1", "delete_all", False),
    ("-r", "silent_remove", False),
    ("--forcerescan", "none", False),
]
# make check: the administrator's "everything, every channel" on smartpqi only
# (the script takes 1.5-3 min per run under emulation)
CLIENT_REDUCED = ({"smartpqi"}, {"-a --channels=0-N"})


def client_scenarios(row, p, profile):
    last = p["channels"][-1]
    out = []
    for opts, prep, full in CLIENT_MODES:
        if profile == "reduced" and (row not in CLIENT_REDUCED[0] or
                                     opts not in CLIENT_REDUCED[1]):
            continue
        o = opts.replace("N", str(last))
        name = ("rescan-scsi-bus.sh " + o.replace("%d", "<id>")).strip()
        out.append((name, dict(kind="client", opts=o.replace(" ", "_"), prep=prep, ch=str(last),
                               full="1" if full else "0")))
    return out


def scenarios(row, p, profile):
    """(scenario name, cell fields) for one personality row."""
    chans = p["channels"]
    out = [("- - -", dict(kind="scan", req="-_-_-")),
           ("0 - -", dict(kind="scan", req="0_-_-"))]
    for c in chans[1:] + p.get("extra_channels", []):
        out.append(("%d - -" % c, dict(kind="scan", req="%d_-_-" % c)))
    out.append(("max_channel+1 - -", dict(kind="scan", req="over")))
    out.append(("0 <id> -", dict(kind="scan", req="0_@id_-")))
    out.append(("- <id> <lun>", dict(kind="scan", req="-_@id_0")))
    for c in chans:
        out.append(("delete ch%d, - - -" % c, dict(kind="delete", ch=str(c), req="-_-_-")))
    for c in chans[1:]:
        out.append(("hot-add ch%d unannounced, - - -" % c,
                    dict(kind="hotadd", add="ch=%d,id=7,mode=known" % c, req="-_-_-")))
    out.append(("two writers - - -", dict(kind="writers", req="-_-_-")))
    out.append(("- - - during I/O", dict(kind="ioload", req="-_-_-")))
    if profile == "reduced":
        keep = {"- - -", "max_channel+1 - -", "two writers - - -", "- - - during I/O"}
        keep |= {"%d - -" % c for c in chans[1:] + p.get("extra_channels", [])}
        keep |= {"delete ch%d, - - -" % chans[-1]}
        out = [o for o in out if o[0] in keep]
    if row in CLIENT_ROWS:
        out += client_scenarios(row, p, profile)
    return out


def cells(profile, rows=None, kinds=None):
    result = []
    for row, p in PERSONALITIES.items():
        if rows and row not in rows:
            continue
        for sname, f in scenarios(row, p, profile):
            if kinds and f["kind"] not in kinds:
                continue
            cid = "%s/%s" % (row, sname.replace(" ", "_").replace(",", ""))
            line = "cell=%s pers=%s topo=%s" % (cid, p["pers"], p["topo"])
            if p.get("set"):
                line += " set=" + p["set"]
            for k, v in f.items():
                line += " %s=%s" % (k, v)
            # boot time per cell: a client run takes minutes under TCG and KASAN
            result.append(dict(id=cid, row=row, request=sname, line=line, kind=f["kind"],
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
            if rec["write_rc"] != -22:
                problems.append("out-of-range request accepted (rc %d)" % rec["write_rc"])
        else:
            if rec["write_rc"] != 0:
                problems.append("write failed (rc %d)" % rec["write_rc"])
            if rec.get("write_rc2", 0) != 0:
                problems.append("second write failed (rc %d)" % rec["write_rc2"])
            if rec["found_devices"] < rec["expected_devices"]:
                problems.append("missed %d of %d devices" % (
                    rec["expected_devices"] - rec["found_devices"], rec["expected_devices"]))
        if rec.get("extra_devices", 0) > 0:
            problems.append("%d unrequested or stale devices" % rec["extra_devices"])
    if rec.get("lsscsi_agrees") == 0:
        problems.append("lsscsi lists other devices than sysfs")
    if rec.get("absent_probes", 0) > 0:
        problems.append("%d probes of absent targets" % rec["absent_probes"])
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


def key_figure(rec):
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
                path="/etc/sasscan/matrix.txt"):
    """Boot until every cell has a record; returns {cell id: record}.
    The guest case @case reads the cells from @path and prints one
    "@tag {json}" line per cell; a cell's "budget" (s, default 30) sizes the
    boot's time limit. Also used by lab/reliability.py."""
    records = {}
    boots = 0
    while todo and boots < len(todo) + 2:
        boots += 1
        name = "%s-%s-%d" % (case, variant, boots)
        text = "".join(c["line"] + "\n" for c in todo)
        res = vm.boot(variant, case, name,
                      timeout=300 + sum(c.get("budget", 30) for c in todo),
                      hung_task_secs=hung_task_secs, results_dir=outdir, files={path: text})
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
                    "writers, ioload, client; default all)")
    ap.add_argument("--out", default=os.path.join(vm.TOP, "results"))
    a = ap.parse_args()
    run(a.variants.split(","), a.profile, a.out, a.rows.split(",") if a.rows else None,
        a.kinds.split(",") if a.kinds else None)
    return 0


def run(variants, profile, out, rows=None, kinds=None):
    """Run the matrix; returns the table of judged cells (also written out)."""
    all_cells = cells(profile, rows, kinds)
    outdir = os.path.join(out, "matrix")
    os.makedirs(outdir, exist_ok=True)
    start = time.monotonic()
    table = []
    for v in variants:
        info = vm.build_info(v)
        vcells = all_cells
        if profile == "reduced" and v in REDUCED_BASELINES:
            rows_v, reqs_v = REDUCED_BASELINES[v]
            vcells = [c for c in all_cells if c["row"] in rows_v and c["request"] in reqs_v]
        if v in MODEL_VARIANTS:
            vcells = [c for c in vcells if c["kind"] != "client"]
        recs = run_variant(v, list(vcells), outdir)
        for c in vcells:
            rec = recs.get(c["id"], {"cell": c["id"], "error": "not run", "splats": []})
            rec["request_kind"] = "over" if "max_channel+1" in c["request"] else "normal"
            verdict_s, why = verdict(rec, rec.get("splats", []))
            table.append({
                "variant": v, "personality": c["row"], "request": c["request"],
                "source": info.get("source"), "source_version": info.get("source_version"),
                "series": info.get("series"),
                "expected_devices": rec.get("expected_devices"),
                "found_devices": rec.get("found_devices"),
                "absent_probes": rec.get("absent_probes"),
                "rphyless_target_allocs": rec.get("rphyless_target_allocs"),
                "phy_resets": rec.get("phy_resets"), "io_errors": rec.get("io_errors"),
                "corrupt_blocks": rec.get("corrupt_blocks"),
                "concurrent_scan_start_max": rec.get("concurrent_scan_start_max"),
                "write_rc": rec.get("write_rc"), "elapsed_ms": rec.get("elapsed_ms"),
                "splats": [s["kind"] for s in rec.get("splats", [])],
                "verdict": verdict_s, "why": why, "key": key_figure(rec), "record": rec,
            })
    write_reports(table, variants, out, profile, time.monotonic() - start)
    return table


def write_reports(table, variants, out, profile, secs):
    with open(os.path.join(out, "matrix.json"), "w") as f:
        json.dump({"profile": profile, "variants": variants, "cells": table,
                   "elapsed_s": round(secs)}, f, indent=1)
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
