#!/usr/bin/env python3
"""The reliability suite: races, removal, hot-plug, runtime PM, bad input
and data integrity, per variant and personality.

Cells are data (cells() below); the guest's `reliability` case runs them
(guest/cases_reliability.c) and prints one measurement record per cell.
Failure figures and verdicts are computed here from those records and the
kernel log, never typed in. A cell whose scans never return ends its boot
(recorded as stuck, with the hung-task reports it caused); the next boot
runs the remaining cells.

Usage: lab/reliability.py [--profile full|reduced] [--variants stock,fixed,...] [--out DIR]
Writes DIR/reliability.json and DIR/reliability.md (DIR: out/).
"""
import argparse
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import matrix  # noqa: E402
import personalities  # noqa: E402
import vm  # noqa: E402
from records import Cell, ReliabilityRow, jsonable  # noqa: E402

VARIANTS = matrix.VARIANTS
# the personalities as shipped (override rows are the matrix's)
PERS = personalities.base_rows()
# The hung-task detector is for deadlocks; a scan that does not return is
# judged by the patience limit (stuck). Under TCG on a busy machine a scan
# that is making progress can hold scan_mutex long enough for a waiter to
# pass 10 s: a fresh make check (2026-12-02) saw a 41.6 s write in
# hpsa/delete/k4, its waiter reported while the owner was running.
HUNG_TASK_SECS = 60


def pclass(row):
    return personalities.get(row).pclass


def requests(row):
    """The valid requests writers mix: everything, each used channel, one
    channel-0 target, LUN 0 everywhere."""
    chans = personalities.get(row).channels
    return ["-_-_-"] + ["%d_-_-" % c for c in chans] + ["0_@id_-", "-_-_0"]


# Sizes per profile. rounds: rounds per cell; each round every writer writes
# once. "remove"/"rmmod" create a host per round.
# Writers: 1900 writes per personality, so that with the other kinds every
# class (transport, libsas) gets over 10 000 scan writes.
# reset: 100 reset races per transport-direct personality; nomem: k is the
# step between the allocations made to fail (1: every one), rounds 0: until
# a scan ends before its failing allocation.
# A kind's size is (k, rounds) for every personality it applies to, or a
# dict personality -> (k, rounds) for those only.
FULL = dict(writers=[(2, 50), (4, 50), (8, 50), (16, 75)], delete=(4, 30), hotplug=(4, 30),
            rpm=(4, 30), rpmadd=(4, 30), remove=(4, 12), rmmod=(4, 3), reset=(4, 100),
            nomem=(1, 0),
            badinput={"smartpqi": 1000, "plain": 3000, "hisi_sas": 4000, "mvsas": 2000})
# Baselines in the full profile: enough to show each failure, not more
# (their stuck scans cost a boot each): writers, hot-plug and removal, and
# each fault on one personality (the first 60 allocation points of hpsa's
# scan, whose volumes stock never adds again).
FULL_BASELINE = dict(writers=[(4, 10), (16, 5)], hotplug=(4, 5), remove=(4, 3),
                     nomem={"hpsa": (1, 60)}, reset={"mpi3mr": (4, 20)},
                     rpmadd={"hisi_sas": (4, 5)},
                     badinput={"smartpqi": 2000, "hisi_sas": 1000})
# make check boots fixed (CHECK_VARIANTS): one cell of every kind, each as
# small as still shows its kind. check-full boots the baselines too, with
# the cells that show their known failures (KNOWN_FAILURES); make check
# asserts the same failures elsewhere: stock's lost volume and truncated
# numbers in the matrix and the self-tests, the models' on saved boots in
# make test.
REDUCED = {
    # the fault cells: hpsa's first 24 allocation points (its report list
    # is the second), an mpi3mr reset race (a target arriving in a reset
    # stays unexposed until the refresh), a disk added again while the
    # hisi_sas controller is suspended; bad input: the hand-picked table
    # (BAD_TABLE_STRINGS) and 4 random ones
    "fixed": [("smartpqi", "writers", 8, 2, 0), ("hisi_sas", "writers", 8, 2, 0),
              ("hpsa", "delete", 4, 2, 0), ("mpt3sas", "hotplug", 4, 2, 0),
              ("pm8001", "hotplug", 4, 2, 0), ("smartpqi", "rpm", 4, 3, 0),
              ("mpi3mr", "remove", 4, 1, 0), ("isci", "remove", 4, 2, 0),
              ("plain", "rmmod", 4, 1, 0), ("smartpqi", "badinput", 0, 1, 4),
              ("hpsa", "nomem", 1, 24, 0), ("mpi3mr", "reset", 4, 4, 0),
              ("hisi_sas", "rpmadd", 4, 2, 0)],
    # hpsa: a deleted volume stays in the driver's list and stock never
    # re-adds it (smartpqi forgets it instead: no user scan can find it);
    # bad input: the hand-picked table alone, which holds channel and id
    # values >= 2^32 - 1
    "stock": [("hpsa", "delete", 2, 1, 0), ("smartpqi", "badinput", 0, 1, 0)],
    "multichannel": [("smartpqi", "writers", 2, 1, 0)],
    # 16 writers: several pick "- - -" in the same round (the mix is seeded)
    "scanstart": [("hisi_sas", "writers", 16, 2, 0)],
}
CHECK_VARIANTS = ["fixed"]
# generous VM seconds per round (TCG + KASAN on a busy 2-CPU machine), for
# boot time limits only; a bad input takes up to ~0.5 s
BUDGET = dict(writers=6, delete=12, hotplug=12, rpm=12, rpmadd=12, remove=25, rmmod=50, badinput=0,
              reset=12, nomem=8)
# the hand-picked strings every badinput cell writes before its n random
# ones (bad_table in guest/cases_reliability.c; a unit test compares)
BAD_TABLE_STRINGS = 66
# seconds a cell waits for kmemleak's minimum object age before its scan
LEAK_SCAN_SECS = 15
# nomem rounds budgeted when the profile says "until the scan ends"
NOMEM_ROUNDS = 400


def cell(variant, row, kind, k, rounds, n=0):
    p = personalities.get(row)
    cid = "%s/%s/k%d" % (row, kind, k) if kind != "badinput" else "%s/badinput" % row
    seed = (hash_str("%s/%s" % (variant, cid)) & 0xffffffff) | 1
    line = "cell=%s pers=%s topo=%s kind=%s k=%d rounds=%d seed=%d reqs=%s n=%d" % (
        cid, p.pers, p.topo, kind, k, rounds, seed, ",".join(requests(row)), n)
    if p.set:
        line += " set=" + p.set
    runs = rounds or NOMEM_ROUNDS
    budget = 30 + LEAK_SCAN_SECS + BUDGET[kind] * runs * max(1, k // 4 if kind != "nomem" else 1) \
        + (n + BAD_TABLE_STRINGS if kind == "badinput" else n) // 2
    return Cell(id=cid, row=row, kind=kind, k=k, line=line, budget=budget)


def hash_str(s):
    """A stable seed (Python's hash() is salted per process)."""
    h = 2166136261
    for ch in s.encode():
        h = ((h ^ ch) * 16777619) & 0xffffffff
    return h


def cells(profile, variant, scale=1.0):
    """The cells of a profile; @scale multiplies the full profile's rounds
    and bad inputs (a smaller run on a busy machine; reports say so)."""
    if profile == "reduced":
        return [cell(variant, *c) for c in REDUCED.get(variant, [])]
    size = FULL if variant == "fixed" else FULL_BASELINE

    def sc(n):
        return max(1, int(round(n * scale)))
    # bad input first: one long cell that must not be cut by a stuck scan
    out = [cell(variant, row, "badinput", 0, 1, sc(n)) for row, n in size["badinput"].items()]
    for row in PERS:
        for k, r in size["writers"]:
            out.append(cell(variant, row, "writers", k, sc(r)))
        p = personalities.get(row)
        for kind in ("delete", "hotplug", "rpm", "rpmadd", "remove", "rmmod", "reset", "nomem"):
            spec = size.get(kind)
            if isinstance(spec, dict):
                spec = spec.get(row)
            if not spec or (kind == "reset" and p.libsas):
                continue    # vsas models driver resets for transport-direct hosts
            if kind == "rpm" and p.libsas and not p.rpm_links:
                continue    # libsas drivers without runtime PM (PCI forbids it)
            # a disk added while the controller is suspended: only a
            # controller that ignores its children can be suspended then
            if kind == "rpmadd" and not p.rpm_links:
                continue
            if kind == "rmmod" and not p.rmmod:
                continue
            k, r = spec
            # rounds 0 (nomem): until a scan ends before its failing allocation
            out.append(cell(variant, row, kind, k, sc(r) if r else 0))
    return out


# kinds whose cells must run with kmemleak on (the boots say kmemleak=on)
FAULT_KINDS = ("nomem", "reset")


def failures(rec, kind):
    """The failure figures of one cell record (name -> count > 0)."""
    f = {}
    splats = rec.get("splats", [])
    for s in splats:
        key = "hung_tasks" if s["kind"] == "hung_task" else "splats"
        f[key] = f.get(key, 0) + 1
    if rec.get("error"):
        f["no_record"] = 1
    if rec.get("stuck"):
        f["stuck_scans"] = 1
    for name in ("write_errors", "lost", "stale", "duplicated", "io_errors", "corrupt_blocks",
                 "leftover_hosts", "reload_errors", "rphyless_target_allocs",
                 "bad_accepted_invalid", "bad_accepted_wrapped", "bad_side_effects"):
        if rec.get(name, 0):
            f[name] = rec[name]
    # A scan racing a hot-unplug may probe a target the driver reported a
    # moment before it went: recorded, not a failure, in hot-plug cells.
    # A bad input may validly ask for a LUN no device has: its probe is the
    # requested scan, so bad-input cells do not judge absent probes either.
    # Under nomem a REPORT LUNS that could not be sent makes the midlayer
    # fall back to a sequential LUN scan, which probes the first absent LUN.
    if rec.get("absent_probes", 0) and kind not in ("hotplug", "badinput", "reset", "nomem"):
        f["absent_probes"] = rec["absent_probes"]
    if rec.get("phy_resets", 0):
        f["phy_resets"] = rec["phy_resets"]
    # a runtime-PM cell must have suspended the host at least once a round
    if kind in ("rpm", "rpmadd") and rec.get("runtime_suspends", 0) < rec.get("rounds", 1):
        f["too_few_runtime_suspends"] = rec.get("runtime_suspends", 0)
    if rec.get("concurrent_scan_start_max", 0) > 1:
        f["concurrent_scan_start"] = rec["concurrent_scan_start_max"]
    # faults: the scans' results, exposure and leaks
    for name in ("bad_results", "half_added", "unexposed_probes", "leaks", "rmmod_while_open"):
        if rec.get(name, 0):
            f[name] = rec[name]
    if kind in FAULT_KINDS and not rec.get("kmemleak"):
        f["no_kmemleak"] = 1
    if kind == "nomem" and rec.get("faults_injected", 0) == 0:
        f["no_faults_injected"] = 1
    # every rmmod round first tries the unload with the disks open (records
    # of guests older than that try, as results/ holds, lack the figure)
    if kind == "rmmod" and "rmmod_refused" in rec and rec["rmmod_refused"] < rec.get("rounds", 1):
        f["rmmod_not_tried_under_load"] = rec.get("rmmod_refused", 0)
    if kind == "reset" and rec.get("resets_entered", 0) < rec.get("rounds", 1):
        f["too_few_resets"] = rec.get("resets_entered", 0)
    if rec.get("note") and not f:
        f["note"] = 1
    return f


def judge(t):
    """Set a table row's failure figures and verdict from its record (a
    ReliabilityRow, or its dict as read back from reliability.json)."""
    t["failures"] = failures(t["record"], t["kind"])
    t["verdict"] = "FAIL" if t["failures"] else "PASS"
    return t


# figures summed per variant x personality
SUMS = ["ops", "rounds", "io_ops", "io_errors", "corrupt_blocks", "lost", "stale", "duplicated",
        "write_errors", "removals", "hotplug_events", "runtime_suspends", "bad_tried",
        "bad_accepted", "bad_rejected", "bad_accepted_invalid", "bad_accepted_out_of_range",
        "bad_wrapped_tried", "bad_accepted_wrapped",
        "bad_side_effects", "phy_resets", "absent_probes", "faults_injected", "enomem_results",
        "report_enomem", "half_added", "resets_entered", "unexposed_probes", "leaks"]


def summarise(table):
    rows = {}
    for t in table:
        key = (t["variant"], t["personality"])
        r = rows.setdefault(key, dict(variant=t["variant"], personality=t["personality"],
                                      pclass=pclass(t["personality"]), cells=0,
                                      failing_cells=0, splats={}, hung_tasks=0, stuck=0,
                                      **{s: 0 for s in SUMS}))
        rec = t["record"]
        r["cells"] += 1
        r["failing_cells"] += t["verdict"] != "PASS"
        for s in SUMS:
            r[s] += rec.get(s, 0) or 0
        for s in rec.get("splats", []):
            if s["kind"] == "hung_task":
                r["hung_tasks"] += 1
            else:
                r["splats"][s["kind"]] = r["splats"].get(s["kind"], 0) + 1
        r["stuck"] += bool(rec.get("stuck") or rec.get("error"))
    return list(rows.values())


def stored_records(variant, outdir):
    """Records of the boots stored for @variant (an interrupted run: a boot
    that was killed has no boot.json; its logs are judged as they are)."""
    recs = {}
    for name in sorted(os.listdir(outdir)):
        d = os.path.join(outdir, name)
        if not name.startswith("reliability-%s-" % variant):
            continue
        if not os.path.exists(os.path.join(d, "boot.json")):
            with open(os.path.join(d, "boot.json"), "w") as f:
                json.dump({"name": name, "timeout": 0, "timed_out": True}, f)
        res = vm.parse(d)
        for line in res.get("diag", []):
            if line.startswith("RELIABILITY {"):
                rec = json.loads(line[len("RELIABILITY "):])
                rec["splats"] = res["cell_splats"].get(rec["cell"], [])
                rec["boot"] = name
                recs[rec["cell"]] = rec
    return recs


def run(variants, profile, out, scale=1.0, only=None, from_logs=False):
    outdir = os.path.join(out, "reliability")
    os.makedirs(outdir, exist_ok=True)
    start = time.monotonic()
    table = []
    vm_secs = {}
    for v in variants:
        info = vm.build_info(v)
        vcells = [c for c in cells(profile, v, scale)
                  if not only or any(o in c.id for o in only.split(","))]
        t0 = time.monotonic()
        if from_logs:
            recs = stored_records(v, outdir)
            vm_secs[v] = "from stored logs: %d of %d cells" % (
                sum(1 for c in vcells if c.id in recs), len(vcells))
            vcells = [c for c in vcells if c.id in recs]
        else:
            recs = matrix.run_variant(v, list(vcells), outdir, hung_task_secs=HUNG_TASK_SECS,
                                      tag="RELIABILITY", case="reliability",
                                      path="/etc/sasscan/reliability.txt",
                                      append="kmemleak=on")
        if not from_logs:
            vm_secs[v] = "%d s" % round(time.monotonic() - t0)
        for c in vcells:
            rec = recs.get(c.id, {"cell": c.id, "error": "not run", "splats": []})
            table.append(judge(ReliabilityRow.of(v, c, info, rec)))
    summary = summarise(table)
    secs = time.monotonic() - start
    write_reports(table, summary, variants, out, profile, secs, vm_secs, scale)
    return table, summary


def write_reports(table, summary, variants, out, profile, secs, vm_secs, scale=1.0):
    with open(os.path.join(out, "reliability.json"), "w") as f:
        json.dump({"profile": profile, "scale": scale, "variants": variants,
                   "elapsed_s": round(secs), "vm_seconds": vm_secs, "summary": summary,
                   "cells": table}, f, indent=1, default=jsonable)
    lines = ["# Reliability suite (%s profile%s)" % (
        profile, "" if scale == 1.0 else ", scaled x%g" % scale), ""]
    for v in variants:
        # a merged report may hold runs of several kernels: each is named
        kernels = {}
        for t in table:
            if t["variant"] == v:
                k = (t.get("source"), t.get("source_version"), t.get("series"))
                kernels[k] = kernels.get(k, 0) + 1
        lines.append("- `%s`: %s; %s" % (v, "; ".join(
            "%s %s, series %s%s" % (src, ver, ser, "" if len(kernels) == 1 else
                                    " (%d cells)" % n)
            for (src, ver, ser), n in kernels.items()), vm_secs.get(v)))
    lines += ["", "## Per variant and personality", "",
              "| variant | personality | cells (failing) | scan writes | splats | hung tasks | "
              "stuck | lost / stale / dup | I/O ops | I/O errors | corrupt | removals | "
              "hot-plug | runtime suspends | bad inputs tried / accepted / rejected | "
              "bad accepted wrongly | truncated by the midlayer | PHY resets |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in summary:
        lines.append("| %s | %s | %d (%d) | %d | %s | %d | %d | %d / %d / %d | %d | %d | %d | %d | "
                     "%d | %d | %d / %d / %d | %d | %d | %d |" % (
                         r["variant"], r["personality"], r["cells"], r["failing_cells"], r["ops"]
                         if r["bad_tried"] == 0 else r["ops"] - r["bad_tried"],
                         ", ".join("%s %d" % kv for kv in sorted(r["splats"].items())) or "0",
                         r["hung_tasks"], r["stuck"], r["lost"], r["stale"], r["duplicated"],
                         r["io_ops"], r["io_errors"], r["corrupt_blocks"], r["removals"],
                         r["hotplug_events"], r["runtime_suspends"], r["bad_tried"],
                         r["bad_accepted"], r["bad_rejected"],
                         r["bad_accepted_invalid"] + r["bad_side_effects"],
                         r["bad_accepted_wrapped"], r["phy_resets"]))
    lines += ["", "## Faults", "", "| variant | personality | allocation failures injected | "
              "scans under fault | -ENOMEM results (report list) | half added | resets entered "
              "| unexposed probes | leaks (kmemleak) |", "|---|---|---|---|---|---|---|---|---|"]
    for r in summary:
        fault_cells = [t for t in table if (t["variant"], t["personality"]) == (
            r["variant"], r["personality"]) and t["kind"] in FAULT_KINDS]
        if fault_cells:
            lines.append("| %s | %s | %d | %d | %d (%d) | %d | %d | %d | %d |" % (
                r["variant"], r["personality"], r["faults_injected"],
                sum(t["record"].get("ops", 0) for t in fault_cells if t["kind"] == "nomem"),
                r["enomem_results"], r["report_enomem"], r["half_added"], r["resets_entered"],
                r["unexposed_probes"], r["leaks"]))
    lines += ["", "## Per class", "", "| variant | class | scan writes | removals | hot-plug events "
              "| runtime suspends | bad inputs | failing cells |", "|---|---|---|---|---|---|---|---|"]
    for v in variants:
        for cl in ("transport", "libsas"):
            rs = [r for r in summary if r["variant"] == v and r["pclass"] == cl]
            if not rs:
                continue
            lines.append("| %s | %s | %d | %d | %d | %d | %d | %d |" % (
                v, cl, sum(r["ops"] - r["bad_tried"] for r in rs),
                sum(r["removals"] for r in rs), sum(r["hotplug_events"] for r in rs),
                sum(r["runtime_suspends"] for r in rs), sum(r["bad_tried"] for r in rs),
                sum(r["failing_cells"] for r in rs)))
    lines += ["", "## Failing cells", "", "| variant | cell | failures |", "|---|---|---|"]
    for t in table:
        if t["verdict"] != "PASS":
            lines.append("| %s | %s | %s |" % (t["variant"], t["cell"], ", ".join(
                "%s %s" % kv for kv in sorted(t["failures"].items()))))
    lines += ["", "Elapsed: %d s" % secs]
    md = "\n".join(lines) + "\n"
    with open(os.path.join(out, "reliability.md"), "w") as f:
        f.write(md)
    print(md)


# The baselines' failures the suite must keep detecting: variant, cell, what,
# predicate on the cell's row of the table.
KNOWN_FAILURES = [
    ("scanstart", "hisi_sas/writers/k16", "concurrent scan_start and PHY resets under K writers",
     lambda t: t["failures"].get("concurrent_scan_start", 0) > 1
     and t["failures"].get("phy_resets", 0) > 0),
    # The stuck scan is the failure; whether the hung-task report lands
    # before the boot ends varies (the matrix asserts that report).
    ("multichannel", "smartpqi/writers/k2", "unbounded '- - -': the scan never returns",
     lambda t: "stuck_scans" in t["failures"]),
    ("stock", "hpsa/delete/k2", "a deleted logical drive is lost for good",
     lambda t: t["failures"].get("lost", 0) > 0),
    # Not sas_user_scan's: scsi_scan() (scsi_sysfs.c) hands channel and id on
    # as unsigned int, so no transport sees 2^32 or 4294967295 as written.
    # The series' first patch rejects them (reliability/fixed/.../badinput).
    ("stock", "smartpqi/badinput", "channel/id >= 2^32 truncated by the midlayer",
     lambda t: t["record"].get("bad_accepted_wrapped", 0) > 0),
]


def check_tests(out, full=False):
    """make check (@full: check-full): the reduced profile on CHECK_VARIANTS
    (every variant); [(name, ok, why)]."""
    variants = VARIANTS if full else CHECK_VARIANTS
    table, summary = run(variants, "reduced", out)
    tests = []
    for t in table:
        if t["variant"] == "fixed":
            tests.append(("reliability/fixed/" + t["cell"], t["verdict"] == "PASS",
                          ", ".join("%s %s" % kv for kv in sorted(t["failures"].items()))))
            if t["kind"] == "badinput":
                # the pass above would also hold if no such input was tried
                r = t["record"]
                tests.append(("reliability/fixed/%s/rejects_truncated" % t["cell"],
                              r.get("bad_wrapped_tried", 0) > 0
                              and r.get("bad_accepted_wrapped", 1) == 0,
                              "%s channel/id >= 2^32 - 1 tried, %s accepted" % (
                                  r.get("bad_wrapped_tried"), r.get("bad_accepted_wrapped"))))
    for v, cid, what, pred in [k for k in KNOWN_FAILURES if k[0] in variants]:
        t = next((t for t in table if (t["variant"], t["cell"]) == (v, cid)), None)
        slug = "_".join(re.findall(r"[a-z0-9]+", what.lower())[:4])
        seen = bool(t) and bool(pred(t))
        tests.append(("reliability/detects/%s/%s/%s" % (v, cid, slug), seen,
                      what if seen else "%s: not detected (%s)" % (
                          what, t["failures"] if t else "cell missing")))
    return tests


def merge(reports, onlys):
    """Join reliability.json @reports (dicts; @onlys: per report "v1,v2" to
    take only those variants, or "") into (table, elapsed s, VM seconds per
    variant, variants, profile). Cells are judged again (the rules may be
    newer than the run); a later report's cell replaces the same variant's
    cell of an earlier one (a re-run)."""
    table, secs, vm_secs, variants = [], 0, {}, []
    for d, only in zip(reports, onlys):
        keep = only.split(",") if only else d["variants"]
        scale = d.get("scale", 1.0)
        new = {(t["variant"], t["cell"]): judge(t) for t in d["cells"] if t["variant"] in keep}
        table = [t for t in table if (t["variant"], t["cell"]) not in new] + list(new.values())
        secs = max(secs, d["elapsed_s"])
        for v, took in d["vm_seconds"].items():
            if v not in keep:
                continue
            if scale != 1.0:
                took += ", scaled x%g" % scale
            # runs of one variant side by side (e.g. one per class)
            vm_secs[v] = vm_secs[v] + " + " + took if v in vm_secs else took
        variants += [v for v in d["variants"] if v in keep and v not in variants]
    return table, secs, vm_secs, variants, reports[-1]["profile"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--profile", default="full", choices=["full", "reduced"])
    ap.add_argument("--out", default=vm.OUT, help="output folder (default out/)")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiply the full profile's rounds and bad inputs")
    ap.add_argument("--cells", help="only cells whose id contains one of these "
                    "comma-separated strings (e.g. smartpqi/,hpsa/)")
    ap.add_argument("--from-logs", action="store_true",
                    help="judge the boots already stored under OUT/reliability (an "
                         "interrupted run) instead of booting")
    ap.add_argument("--merge", nargs="+", metavar="JSON[:VARIANTS]",
                    help="merge earlier reliability.json files (e.g. variants or classes "
                         "run apart) into one report; :v1,v2 takes only those variants; "
                         "a later file's cell replaces an earlier file's same cell")
    a = ap.parse_args()
    if a.merge:
        table, secs, vm_secs, variants, profile = merge([json.load(open(arg.partition(":")[0]))
                                                        for arg in a.merge],
                                                       [arg.partition(":")[2] for arg in a.merge])
        os.makedirs(a.out, exist_ok=True)
        write_reports(table, summarise(table), variants, a.out, profile, secs, vm_secs)
    else:
        table, _ = run(a.variants.split(","), a.profile, a.out, a.scale, a.cells,
                       a.from_logs)
    return 0 if all(t["verdict"] == "PASS" for t in table if t["variant"] == "fixed") else 1


if __name__ == "__main__":
    sys.exit(main())
