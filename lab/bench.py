#!/usr/bin/env python3
"""The rescan benchmark: what a wildcard `- - -` costs against the minimum.

Cells are (variant, personality, devices); the guest's `bench` case
(guest/cases_bench.c) builds each topology once and prints one record per
timed rescan. Everything derived here (the minimum, ratios, medians, the fitted
slope, max_id sensitivity, unbounded extrapolations) is computed from those
records; docs/bench.md defines the minimum.

Usage: lab/bench.py [--profile full|reduced] [--variants ...] [--rows ...]
Writes results/bench.json, results/bench.md and results/bench/*.svg.
"""
import argparse
import glob
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import matrix  # noqa: E402
import vm  # noqa: E402

MAX_TARGETS = 16        # targets per topology: 15 direct PHYs + expander, or 4 per channel
MAX_LUNS = 64           # vsas LUs per target (VSAS_MAX_LUNS)
MAXID_RUNS = ["1024", "4294967295"]
BOOT_DEVICES = 1500     # devices created per boot, at most (one full fixed personality)
# Lockdep's fixed-size tables filling up (each request queue registers its own
# lock classes; a 1024-LU libsas cell fills the 32 768 dependency entries of
# CONFIG_LOCKDEP_BITS=15). Lockdep then switches itself off: a limit of the lab
# kernel's detector, reported with the cell, not a splat of the kernel under test.
LAB_LIMIT = re.compile(r"MAX_LOCKDEP_\w+ too low|MAX_STACK_TRACE_ENTRIES too low")
# A boot whose guest printed nothing for this long is stuck: the longest silence
# of a healthy boot is a 1024-LU create (<= 265 s) or a bounded walk waited
# for (10 s + 3 s sampling + <= 300 s).
IDLE_S = 420

# Per personality: channels used, max_lun of the real driver (docs/vsas.md),
# libsas (sas_device_configure() reads the port mode page of every new LU).
PERSONALITIES = {
    "plain":    dict(channels=[0], max_lun=8),
    "smartpqi": dict(channels=[0, 1, 2, 3], max_lun=256),
    "hpsa":     dict(channels=[0, 1, 2, 3], max_lun=1024),
    "mpt3sas":  dict(channels=[0, 1, 2], max_lun=16895),
    "mpi3mr":   dict(channels=[0, 1], max_lun=2**64 - 1),
    "hisi_sas": dict(channels=[0], max_lun=2**64 - 1, libsas=True),
    "aic94xx":  dict(channels=[0], max_lun=2**64 - 1, libsas=True),
    "isci":     dict(channels=[0], max_lun=2**64 - 1, libsas=True),
    "mvsas":    dict(channels=[0], max_lun=2**64 - 1, libsas=True),
    "pm8001":   dict(channels=[0], max_lun=8, libsas=True),
}

# The minimum, per opcode (docs/bench.md): one REPORT LUNS per target the
# transport or driver knows; per LU not yet present, the INQUIRYs of
# scsi_probe_lun() (1: vsas' standard data fits 36 bytes) and
# scsi_attach_vpd() (10 for vsas' VPD pages 0x00, 0x80, 0x83), plus libsas'
# MODE SENSE(6) of the port mode page.
REPORT_LUNS, INQUIRY, MODE_SENSE_6 = "0xa0", "0x12", "0x1a"
INQUIRIES_PER_NEW_LU = 1 + 10
OPCODE_NAMES = {"0x00": "TEST UNIT READY", "0x03": "REQUEST SENSE", "0x12": "INQUIRY",
                "0x1a": "MODE SENSE(6)", "0x25": "READ CAPACITY(10)", "0x5a": "MODE SENSE(10)",
                "0x9e": "READ CAPACITY(16)", "0xa0": "REPORT LUNS"}

ALL_RUNS = ["def"] + MAXID_RUNS + ["knew"]
# Per profile and variant: sizes (LUs), timed rescans per run, k-new
# repetitions, runs, personalities (None: all). Sized for the VM time the
# 2-CPU lab machine has: 1024-LU topologies only on fixed (a create costs
# 1-2 min of TCG time). fixed gets 30 nothing-new repetitions: its max_id
# settings are compared rescan by rescan, and TCG scatters single rescans
# by tens of percent.
PROFILES = {
    "full": {
        "fixed": dict(sizes=[8, 64, 256, 1024], reps=30, kreps=10, runs=ALL_RUNS),
        "stock": dict(sizes=[8, 64, 256], reps=10, kreps=10, runs=ALL_RUNS),
        "multichannel": dict(sizes=[8, 64, 256], reps=10, kreps=2, runs=ALL_RUNS),
        "scanstart": dict(sizes=[8, 64], reps=10, kreps=10, runs=ALL_RUNS),
    },
    "reduced": {
        "fixed": dict(sizes=[8, 32], reps=10, kreps=1, runs=["def", "4294967295", "knew"]),
        "multichannel": dict(sizes=[8], reps=1, kreps=1, runs=["def"], rows=["smartpqi"]),
    },
}
K_NEW = 8


def slots(pers):
    """The MAX_TARGETS target slots of a personality, interleaved by channel."""
    p = PERSONALITIES[pers]
    per = {}
    if p["channels"] == [0]:
        # half on host PHYs, half behind the expander (libsas: 8 expander PHYs)
        per[0] = ["0", "0e"] * (MAX_TARGETS // 2)
    else:
        n = len(p["channels"])
        for i, c in enumerate(p["channels"]):
            count = MAX_TARGETS // n + (1 if i < MAX_TARGETS % n else 0)
            per[c] = ["0"] * count if c == 0 else ["%d:%d" % (c, j) for j in range(count)]
    out = []
    while any(per.values()):
        for c in p["channels"]:
            if per[c]:
                out.append(per[c].pop(0))
    return out


def topology(pers, devices):
    """(topology string, targets) for @devices LUs, or None if vsas/the driver caps it."""
    targets = min(devices, MAX_TARGETS)
    luns = devices // targets
    if targets * luns != devices or luns > min(MAX_LUNS, PERSONALITIES[pers]["max_lun"]):
        return None
    return ",".join("%s/%d" % (s, luns) for s in slots(pers)[:targets]), targets


def cells(profile, variants, rows=None, sizes=None):
    out = []
    for v in variants:
        prof = PROFILES[profile].get(v)
        if not prof:
            continue
        for pers in rows or PERSONALITIES:
            if prof.get("rows") and pers not in prof["rows"]:
                continue
            want = sizes or prof["sizes"]
            cap = MAX_TARGETS * min(MAX_LUNS, PERSONALITIES[pers]["max_lun"])
            if any(n > cap for n in want) and cap not in want:
                # the largest topology the driver allows stands in
                want = sorted(set(want) | {cap})
            for n in want:
                cid = "%s/%s/%d" % (v, pers, n)
                t = topology(pers, n)
                if not t:
                    out.append(dict(id=cid, variant=v, pers=pers, devices=n, capped=True))
                    continue
                out.append(dict(id=cid, variant=v, pers=pers, devices=n, topo=t[0],
                                targets=t[1], runs=list(prof["runs"]), reps=prof["reps"],
                                kreps=prof["kreps"], k=min(K_NEW, max(1, n // 2))))
    return out


def line(c, runs):
    return "cell=%s pers=%s topo=%s devs=%d runs=%s reps=%d kreps=%d k=%d\n" % (
        c["id"], c["pers"], c["topo"], c["devices"], ",".join(runs), c["reps"], c["kreps"],
        c["k"])


def boot_timeout(todo):
    """Generous: ~0.1 s per device added, 2 s per rescan, and the boot."""
    return int(180 + sum(0.15 * (c["devices"] + c["kreps"] * c["k"]) +
                         2 * (c["reps"] + c["kreps"]) * len(runs) for c, runs in todo))


def boot_records(res, name):
    """The BENCH records of one judged boot, each with its boot, the guest's
    TSC rate and the kernel splats of its cell."""
    out, clock = [], {}
    for d in res.get("diag", []):
        if d.startswith("BENCH-CLOCK "):
            clock = json.loads(d[len("BENCH-CLOCK "):])
        elif d.startswith("BENCH {"):
            r = json.loads(d[len("BENCH "):])
            r["boot"] = name
            r["tsc_hz"] = clock.get("tsc_hz")
            r["splats"], limits = [], set()
            for s in res["cell_splats"].get(r["cell"], []):
                m = LAB_LIMIT.search(s["line"])
                if m:
                    limits.add(m.group(0))
                else:
                    r["splats"].append(s["kind"])
            r["lab_limits"] = sorted(limits)
            out.append(r)
    return out


def console_kinds(res, cid):
    """The kinds of kernel splat the console showed during cell @cid."""
    return ", ".join(sorted({s["kind"] for s in res["cell_splats"].get(cid, [])})) or "no splat"


def skip_later(unbounded, cid, run, why):
    """A run that is unbounded or stuck at one size is so at every larger one
    (the walk does not depend on the devices present)."""
    pers = cid.split("/")[1]
    unbounded[(pers, run)] = why
    if run == "def":
        # the default max_id is the huge one: same walk
        unbounded.setdefault((pers, "4294967295"), why)


def in_flight(left, def_maxid):
    """The run the guest was in when a boot stopped: nothing-new runs go
    largest max_id first, k-new last (guest/cases_bench.c, bench_runs())."""
    turn = [r for r in left if r != "knew"]
    if not turn:
        return "knew"
    return max(turn, key=lambda r: int(def_maxid if r == "def" else r))


def run_variant(variant, vcells, outdir):
    """Boot until every (cell, run) has records; returns {cell id: [records]}."""
    recs = {c["id"]: [] for c in vcells}
    done = {c["id"]: set() for c in vcells}
    unbounded = {}        # (pers, run) -> "unbounded|stuck at <cell id>"
    boots = []
    while True:
        todo = []
        for c in vcells:
            if c.get("capped") or "create-failed" in done[c["id"]]:
                continue
            runs = []
            for r in c["runs"]:
                if r in done[c["id"]]:
                    continue
                if (c["pers"], r) in unbounded:
                    recs[c["id"]].append({"cell": c["id"], "run": r,
                                          "skipped": unbounded[(c["pers"], r)]})
                    done[c["id"]].add(r)
                    continue
                runs.append(r)
            if runs:
                todo.append((c, runs))
        if not todo or len(boots) > len(vcells) * 3:
            break
        # A boot creates at most BOOT_DEVICES devices, so a cell that fills
        # lockdep's table leaves it on for the others; the rest get the next boot.
        todo = [t for i, t in enumerate(todo)
                if sum(c["devices"] for c, _ in todo[:i + 1]) <= BOOT_DEVICES or not i]
        name = "bench-%s-%d" % (variant, len(boots) + 1)
        # creating a 1024-LU host keeps the configfs writer waiting for minutes
        # under TCG: no hung-task report for that set-up
        res = vm.boot(variant, "bench", name, timeout=boot_timeout(todo), results_dir=outdir,
                      hung_task_secs=600, idle_timeout=IDLE_S,
                      files={"/etc/sasscan/bench.txt": "".join(line(c, r) for c, r in todo)})
        print(vm.header(res), flush=True)
        boots.append(dict(name=name, elapsed_s=res.get("elapsed_s", 0),
                          timed_out=res.get("timed_out", False)))
        progress, last = False, None
        for r in boot_records(res, name):
            cid = r["cell"]
            if cid not in recs:
                continue
            recs[cid].append(r)
            progress, last = True, r
            if r.get("error"):
                done[cid].add("create-failed")
            elif r.get("run") != "create":
                done[cid].add(r["run"])
                if r.get("unbounded"):
                    skip_later(unbounded, cid, r["run"], "unbounded at %s" % cid)
        if progress and res.get("timed_out"):
            # A rescan never returned and the guest could not even report it
            # (a soft lockup starves its sampler): the run in flight is the
            # first one the guest had left in its order (bench_runs()).
            c = next(c for c, _ in todo if c["id"] == last["cell"])
            left = [r for r in c["runs"] if r not in done[c["id"]]]
            why = "stuck at %s: no record, boot %s timed out after %d s (console: %s)" % (
                c["id"], name, res.get("elapsed_s", 0), console_kinds(res, c["id"]))
            if last.get("run") == "create" and left:
                run = in_flight(left, last["max_id"])
                recs[c["id"]].append({"cell": c["id"], "run": run, "stuck": why})
                done[c["id"]].add(run)
                skip_later(unbounded, c["id"], run, why)
            else:
                # after some repetitions: which run hung is not known
                for run in left:
                    recs[c["id"]].append({"cell": c["id"], "run": run, "stuck": why +
                                          ", after %s rep %s" % (last.get("run"),
                                                                 last.get("rep"))})
                    done[c["id"]].add(run)
        if not progress:
            # Not even the first cell's create was reported: every cell of
            # this boot is marked, so the loop ends instead of booting again.
            first = todo[0][0]["id"]
            why = "no record: boot %s %s after %d s in %s (console: %s)" % (
                name, "timed out" if res.get("timed_out") else "ended",
                res.get("elapsed_s", 0), first, console_kinds(res, first))
            for c, _ in todo:
                recs[c["id"]].append({"cell": c["id"], "error": why})
                done[c["id"]].add("create-failed")
    return dict(records=recs, boots=boots)


def load_records(raw, outdir, variant):
    """A saved run; boot times from the boot logs if the file has none. An
    interrupted run saved no file: its records are read again from the boot
    logs that have a boot.json (a boot killed mid-way has none)."""
    if not os.path.exists(raw):
        recs, boots = {}, []
        paths = glob.glob(os.path.join(outdir, "bench-%s-*" % variant, "boot.json"))
        for path in sorted(paths, key=lambda p: int(p.split("-")[-1].split("/")[0])):
            res = vm.parse(os.path.dirname(path))
            name = os.path.basename(os.path.dirname(path))
            for r in boot_records(res, name):
                recs.setdefault(r["cell"], []).append(r)
            boots.append(dict(name=name, elapsed_s=res.get("elapsed_s", 0),
                              timed_out=res.get("timed_out", False)))
        return dict(records=recs, boots=boots)
    with open(raw) as f:
        saved = json.load(f)
    if "records" in saved:
        return saved
    boots = []
    for path in glob.glob(os.path.join(outdir, "bench-%s-*" % variant, "boot.json")):
        with open(path) as f:
            b = json.load(f)
        boots.append(dict(name=b["name"], elapsed_s=b.get("elapsed_s", 0),
                          timed_out=b.get("timed_out", False)))
    return dict(records=saved, boots=boots)


def spread(xs):
    xs = sorted(xs)
    return dict(median=statistics.median(xs), min=xs[0], max=xs[-1],
                stdev=statistics.stdev(xs) if len(xs) > 1 else 0.0, n=len(xs))


def rescan_us(r):
    return r["tsc_us"] if r.get("tsc_us", -1) > 0 else r["us"]


def minimum(c, new_lus):
    m = {REPORT_LUNS: c["targets"], INQUIRY: INQUIRIES_PER_NEW_LU * new_lus}
    if PERSONALITIES[c["pers"]].get("libsas"):
        m[MODE_SENSE_6] = new_lus
    return {k: v for k, v in m.items() if v}


def analyse(c, records):
    """One result row per (cell, run)."""
    rows = []
    create = next((r for r in records if r.get("run") == "create"), None)
    base = dict(variant=c["variant"], personality=c["pers"], devices=c["devices"],
                targets=c.get("targets"), topology=c.get("topo"),
                create_s=round(create["us"] / 1e6, 2) if create else None)
    if c.get("capped"):
        return [dict(base, run="-", status="capped",
                     why="%d LUs per target exceed min(vsas %d, driver max_lun %d)" % (
                         c["devices"] // MAX_TARGETS, MAX_LUNS,
                         PERSONALITIES[c["pers"]]["max_lun"]))]
    if not records:
        return [dict(base, run="-", status="not run")]
    err = next((r for r in records if r.get("error")), None)
    if err and not create:
        return [dict(base, run="-", status="error", why=err["error"])]
    for run in c["runs"]:
        rs = [r for r in records if r.get("run") == run]
        row = dict(base, run=run)
        skipped = next((r for r in rs if r.get("skipped")), None)
        stuck = next((r for r in rs if r.get("stuck")), None)
        unb = next((r for r in rs if r.get("unbounded")), None)
        ok = [r for r in rs if r.get("unbounded") is False]
        if stuck:
            row.update(status="stuck", why=stuck["stuck"])
        elif skipped:
            row.update(status=skipped["skipped"].split()[0]
                       if skipped["skipped"].startswith(("unbounded", "stuck")) else "skipped",
                       why=skipped["skipped"])
        elif unb:
            row.update(status="unbounded", max_id=unb["max_id"],
                       probe_rate=unb["probe_rate"], cmd_rate=unb["cmd_rate"],
                       extrapolated_probes=unb["extrapolated_probes"],
                       extrapolated_s=unb["extrapolated_s"],
                       extrapolated_h=round(unb["extrapolated_s"] / 3600, 1)
                       if unb["extrapolated_s"] > 0 else None,
                       splats=unb.get("splats", []))
        elif not ok:
            row.update(status="error", why="no measurement")
        else:
            new = [c["devices"] - r["before"] for r in ok]
            mins = [minimum(c, n) for n in new]
            cmds = [r["cmds"] for r in ok]
            ratios = [r["cmds"] / max(1, sum(m.values())) for r, m in zip(ok, mins)]
            us = [rescan_us(r) for r in ok]
            opc = {}
            for r in ok:
                for k, v in r["opc"].items():
                    opc.setdefault(k, []).append(v)
            row.update(
                status="ok", max_id=ok[0]["max_id"], reps=len(ok),
                new_devices=statistics.median(new),
                found=min(r["after"] - r["before"] for r in ok),
                complete=all(r["after"] == c["devices"] for r in ok),
                cmds=statistics.median(cmds), cmds_min=min(cmds), cmds_max=max(cmds),
                opcodes={k: statistics.median(v + [0] * (len(ok) - len(v)))
                         for k, v in sorted(opc.items())},
                minimum=mins[0], minimum_total=sum(mins[0].values()),
                ratio=round(max(ratios), 4),
                absent_probes=max(r["absent_probes"] for r in ok),
                resets=max(r["resets"] for r in ok),
                write_rc=sorted({r["rc"] for r in ok}),
                time_us=spread(us), samples_us=[round(x, 1) for x in us],
                # per LU present, or per LU found when there are new ones
                us_per_device=statistics.median(us) / (statistics.median(new) or c["devices"]),
                splats=sorted({s for r in ok for s in r.get("splats", [])}),
                lab_limits=sorted({s for r in ok for s in r.get("lab_limits", [])}))
        rows.append(row)
    paired_maxid(rows, records)
    return rows


def quartiles(xs):
    xs = sorted(xs)
    q = statistics.quantiles(xs, n=4) if len(xs) > 1 else [xs[0]] * 3
    return dict(median=statistics.median(xs), q1=q[0], q3=q[2], n=len(xs))


def paired_maxid(rows, records):
    """Per max_id run: its rescan time over the default max_id's in the same
    repetition (they run back to back, so a slow phase of the machine cancels
    out); the median of these ratios is the max_id sensitivity."""
    def times(run):
        return {r["rep"]: rescan_us(r) for r in records
                if r.get("run") == run and r.get("unbounded") is False}
    base = times("def")
    for row in rows:
        if row["run"] in MAXID_RUNS and row["status"] == "ok":
            t = times(row["run"])
            ratios = [t[i] / base[i] for i in sorted(t) if base.get(i)]
            if ratios:
                row["vs_default"] = {k: round(v, 4) for k, v in quartiles(ratios).items()}


def fit(points):
    """Least squares y = a + b x; (a, b, r2)."""
    n = len(points)
    if n < 2:
        return None
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    if not sxx:
        return None
    b = sum((p[0] - mx) * (p[1] - my) for p in points) / sxx
    a = my - b * mx
    ss = sum((p[1] - my) ** 2 for p in points)
    sse = sum((p[1] - a - b * p[0]) ** 2 for p in points)
    r2 = 1 - sse / ss if ss else 1.0
    # standard error of the slope (for its 95 % interval, ~2 se with many points)
    se = (sse / (n - 2) / sxx) ** 0.5 if n > 2 else 0.0
    return a, b, r2, se


def linearity(d):
    """Time vs LUs present for one personality's nothing-new rows: the
    least-squares line through every repetition (slope, its 95 % interval),
    R² of the medians, and the growth exponent (log-log slope of the
    medians: 1 = proportional, 0 = constant; above 1 would be superlinear)."""
    pts = [(r["devices"], x) for r in d for x in r.get("samples_us") or [r["time_us"]["median"]]]
    f, fm = fit(pts), fit([(r["devices"], r["time_us"]["median"]) for r in d])
    lg = fit([(math.log(r["devices"]), math.log(r["time_us"]["median"])) for r in d
              if r["time_us"]["median"] > 0])
    if not f or not fm or not lg:
        return None
    return dict(intercept_us=round(f[0], 1), us_per_device=round(f[1], 3),
                ci95_us=round(1.96 * f[3], 3), r2_medians=round(fm[2], 4),
                r2=round(f[2], 4), exponent=round(lg[1], 3), points=len(pts),
                sizes=[r["devices"] for r in d])


def summarise(rows, variants):
    """Headline figures: ratios, slopes, max_id sensitivity, probe ratio."""
    ok = [r for r in rows if r["status"] == "ok"]
    s = {"ratio": {}, "slope": {}, "maxid": {}, "knew": {}}
    for v in variants:
        for pers in PERSONALITIES:
            rs = [r for r in ok if r["variant"] == v and r["personality"] == pers]
            if not rs:
                continue
            key = "%s/%s" % (v, pers)
            s["ratio"][key] = dict(max=max(r["ratio"] for r in rs),
                                   min=min(r["ratio"] for r in rs),
                                   complete=all(r["complete"] for r in rs))
            d = [r for r in rs if r["run"] == "def"]
            f = linearity(d)
            if f:
                s["slope"][key] = f
            for r in d:
                alt = {m: next((x for x in rs if x["run"] == m and x["devices"] == r["devices"]),
                               None) for m in MAXID_RUNS}
                dev = {m: round(a["vs_default"]["median"] - 1, 3)
                       for m, a in alt.items() if a and a.get("vs_default")}
                if dev:
                    s["maxid"]["%s/%d" % (key, r["devices"])] = dev
            for r in rs:
                if r["run"] == "knew":
                    s["knew"]["%s/%d" % (key, r["devices"])] = dict(
                        k=r["new_devices"], found=r["found"], cmds=r["cmds"],
                        minimum=r["minimum_total"], ratio=r["ratio"],
                        median_us=r["time_us"]["median"],
                        nothing_new_us=next((x["time_us"]["median"] for x in d
                                             if x["devices"] == r["devices"]), None))
    # the goal: every max_id setting within 10 % of the default, cell by cell
    per = {}        # max_id setting -> its deviations over the fixed cells
    for k, v in s["maxid"].items():
        if k.startswith("fixed/"):
            for m, d in v.items():
                per.setdefault(m, []).append(d)
    fx = [d for ds in per.values() for d in ds]
    if fx:
        s["maxid_goal"] = dict(within_10pct=sum(1 for d in fx if abs(d) <= 0.10),
                               comparisons=len(fx), worst=max(fx, key=abs),
                               median={m: statistics.median(per[m]) for m in MAXID_RUNS
                                       if m in per})
    # A stuck run printed nothing; its walk is estimated from the same cell's
    # bounded run: absent probes per second, scaled by the max_id ratio.
    s["stuck_estimates"] = []
    for r in rows:
        if r["status"] != "stuck" or r["run"] not in MAXID_RUNS:
            continue
        b = next((x for x in ok if x["variant"] == r["variant"]
                  and x["personality"] == r["personality"] and x["devices"] == r["devices"]
                  and x["run"] in ("def", "1024") and x["absent_probes"] > 0), None)
        if b:
            rate = b["absent_probes"] / (b["time_us"]["median"] / 1e6)
            probes = b["absent_probes"] * int(r["run"]) / int(b["max_id"])
            s["stuck_estimates"].append(dict(
                cell="%s/%s/%d" % (r["variant"], r["personality"], r["devices"]),
                max_id=r["run"], rate=round(rate, 1), probes=probes,
                hours=round(probes / rate / 3600, 1), from_max_id=b["max_id"],
                from_probes=b["absent_probes"], from_us=b["time_us"]["median"]))
    # smartpqi: multichannel's extrapolated id walk vs fixed's commands
    mc = [r for r in rows if r["variant"] == "multichannel" and r["personality"] == "smartpqi"
          and r["status"] == "unbounded" and r.get("extrapolated_probes")]
    fx = [r for r in ok if r["variant"] == "fixed" and r["personality"] == "smartpqi"
          and r["run"] == "def"]
    if mc and fx:
        m, f = mc[0], min(fx, key=lambda r: r["devices"])
        s["smartpqi_probe_ratio"] = dict(
            multichannel_probes=m["extrapolated_probes"], multichannel_rate=m["probe_rate"],
            multichannel_hours=m.get("extrapolated_h"), fixed_cmds=f["cmds"],
            devices=f["devices"], ratio=m["extrapolated_probes"] / max(1, f["cmds"]))
    return s


def analysis_tests():
    """[(test name, ok, why)]: the analysis on made-up records whose answers
    are known (check.py runs these before the boots)."""
    out = []
    cell = dict(id="fixed/plain/64", variant="fixed", pers="plain", devices=64, targets=16,
                topo="t", runs=["def", "1024", "4294967295"], reps=4, kreps=0, k=8)

    def rec(run, rep, us):
        return {"cell": cell["id"], "run": run, "rep": rep, "max_id": 16, "unbounded": False,
                "rc": 0, "us": us, "tsc_us": us, "devices": 64, "before": 64, "after": 64,
                "cmds": 16, "opc": {REPORT_LUNS: 16}, "absent_probes": 0, "resets": 0}
    # a slow phase over repetitions 2 and 3 slows every setting alike: paired
    # ratios see 1024 at +0 % and 2^32-1 at +5 %; medians of medians would not
    slow = [1, 1, 3, 3]
    recs = [rec("def", i, 100 * slow[i]) for i in range(4)]
    recs += [rec("1024", i, 100 * slow[i if i != 1 else 2]) for i in range(4)]
    recs += [rec("4294967295", i, 105 * slow[i]) for i in range(4)]
    rows = {r["run"]: r for r in analyse(cell, recs)}
    got = {m: rows[m]["vs_default"]["median"] for m in MAXID_RUNS}
    out.append(("bench/analysis/max_id_paired_by_repetition",
                abs(got["4294967295"] - 1.05) < 1e-9 and got["1024"] == 1.0 and
                rows["def"]["ratio"] == 1.0, "paired medians %s" % got))
    # growth exponent: proportional time gives 1, constant time 0
    prop = [dict(devices=n, time_us=dict(median=50.0 * n), samples_us=[50.0 * n])
            for n in (8, 64, 256, 1024)]
    flat = [dict(devices=n, time_us=dict(median=7000.0), samples_us=[7000.0])
            for n in (8, 64, 256, 1024)]
    lp, lf = linearity(prop), linearity(flat)
    out.append(("bench/analysis/linearity_exponent",
                abs(lp["exponent"] - 1) < 1e-9 and abs(lp["us_per_device"] - 50) < 1e-9 and
                abs(lf["exponent"]) < 1e-9 and lf["us_per_device"] == 0,
                "exponents %s, %s; slopes %s, %s" % (lp["exponent"], lf["exponent"],
                                                     lp["us_per_device"], lf["us_per_device"])))
    # a boot that stopped right after a cell's create was in its largest max_id
    order = [in_flight(["def", "1024", "4294967295", "knew"], "16"),
             in_flight(["def", "1024", "knew"], "4294967295"), in_flight(["knew"], "16")]
    out.append(("bench/analysis/stuck_run_is_guest_order",
                order == ["4294967295", "def", "knew"], "in flight: %s" % order))
    return out


def assertions(result):
    """[(test name, ok, why)]: count-based goals for `fixed` (check.py)."""
    out = []
    rows = [r for r in result["rows"] if r["variant"] == "fixed" and r["status"] != "capped"]
    for pers in PERSONALITIES:
        rs = [r for r in rows if r["personality"] == pers]
        if not rs:
            continue
        bad = [r for r in rs if r["status"] != "ok" or r["ratio"] > 1.05 or not r["complete"]
               or r["absent_probes"] or r["resets"] or r["splats"] or r["write_rc"] != [0]]
        why = "; ".join("%d devs %s: %s" % (
            r["devices"], r["run"], r.get("why") or r["status"] if r["status"] != "ok" else
            "%s cmds vs minimum %d (x%.3f), %d found of %s new, %d absent probes, %d resets, "
            "rc %s, splats %s" % (r["cmds"], r["minimum_total"], r["ratio"], r["found"],
                                  r["new_devices"], r["absent_probes"], r["resets"],
                                  r["write_rc"], r["splats"])) for r in bad)
        out.append(("bench/fixed/%s/commands_le_1.05x_minimum" % pers, not bad, why))
    pr = result["summary"].get("smartpqi_probe_ratio")
    if pr:
        out.append(("bench/fixed/smartpqi/probes_1e6x_fewer_than_multichannel",
                    pr["ratio"] >= 1e6, "ratio %.3g" % pr["ratio"]))
    return out


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f
                          if ln.startswith("model name")), "?")
    except OSError:
        pass
    return dict(cpu=model, nproc=os.cpu_count(), host_kernel=platform.release(),
                qemu="TCG, 2 vCPU, 2 GiB, KASAN + lockdep guest kernel")


def fmt_us(us):
    return "%.1f ms" % (us / 1000) if us >= 1000 else "%.0f us" % us


def plots(result, outdir):
    """SVGs via gnuplot; returns the file names written (none without gnuplot)."""
    if not shutil.which("gnuplot"):
        print("bench: gnuplot not found, no plots", file=sys.stderr)
        return []
    os.makedirs(outdir, exist_ok=True)
    ok = [r for r in result["rows"] if r["status"] == "ok"]
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        def series(name, pts):
            path = os.path.join(tmp, name.replace("/", "_") + ".dat")
            with open(path, "w") as f:
                for x, y in pts:
                    f.write("%s %s\n" % (x, y))
            return path

        def gp(svg, title, xlabel, ylabel, curves, logx=True, logy=False):
            if not curves:
                return
            script = ['set terminal svg size 800,500 dynamic noenhanced font "sans,11"',
                      'set output "%s"' % os.path.join(outdir, svg),
                      'set title "%s"' % title, 'set xlabel "%s"' % xlabel,
                      'set ylabel "%s"' % ylabel, "set key outside right", "set grid"]
            if logx:
                script.append("set logscale x 2")
            if logy:
                script.append("set logscale y 10")
            script.append("plot " + ", ".join('"%s" using 1:2 with linespoints title "%s"' % (p, t)
                                              for t, p in curves))
            subprocess.run(["gnuplot"], input="\n".join(script) + "\n", text=True, check=True)
            written.append(svg)

        curves = []
        for pers in PERSONALITIES:
            pts = [(r["devices"], r["time_us"]["median"] / 1000) for r in ok
                   if r["variant"] == "fixed" and r["personality"] == pers and r["run"] == "def"]
            if pts:
                curves.append((pers, series("t-" + pers, sorted(pts))))
        gp("fixed_time.svg", "fixed: median wildcard rescan time, nothing new (guest clock)",
           "devices (LUs)", "ms", curves)
        curves = []
        for run in ["def"] + MAXID_RUNS:
            pts = {}
            for r in ok:
                if r["variant"] == "fixed" and r["run"] == run:
                    pts.setdefault(r["devices"], []).append(r["time_us"]["median"] / 1000)
            if pts:
                curves.append(("max_id " + ("default" if run == "def" else run),
                               series("m-" + run, sorted((d, statistics.mean(v))
                                                         for d, v in pts.items()))))
        gp("fixed_maxid.svg", "fixed: rescan time by max_id (mean over personalities)",
           "devices (LUs)", "ms", curves)
        curves = []
        for v in result["variants"]:
            pts = [(r["devices"], r["cmds"]) for r in ok
                   if r["variant"] == v and r["personality"] == "hpsa" and r["run"] == "def"]
            if pts:
                curves.append((v, series("c-" + v, sorted(pts))))
        mins = sorted({(r["devices"], r["minimum_total"]) for r in ok
                       if r["personality"] == "hpsa" and r["run"] == "def"})
        if mins:
            curves.append(("minimum", series("c-min", mins)))
        gp("hpsa_commands.svg", "hpsa: commands per wildcard rescan, nothing new",
           "devices (LUs)", "commands", curves, logy=True)
    return written


def write_reports(result, out):
    with open(os.path.join(out, "bench.json"), "w") as f:
        json.dump(result, f, indent=1)
    m = result["machine"]
    s = result["summary"]
    L = ["# Rescan benchmark (%s profile)" % result["profile"], "",
         "Machine: %s, %d CPUs, host kernel %s; %s. Absolute times compare within this run "
         "only. Guest clock: %s." % (m["cpu"], m["nproc"], m["host_kernel"], m["qemu"],
                                     result.get("clock", "?")), ""]
    for v, info in result["builds"].items():
        L.append("- `%s`: %s %s, kernel %s, series %s" % (
            v, info.get("source"), info.get("source_version"), info.get("kernel_release"),
            info.get("series")))
    L += ["", "Minimum per rescan = REPORT LUNS per known target + 11 INQUIRY per new LU "
          "(+1 MODE SENSE(6) per new LU on libsas); see docs/bench.md.", "",
          "## Commands / minimum (worst over sizes and runs; `incomplete` = devices missed)", "",
          "| personality | " + " | ".join(result["variants"]) + " |",
          "|---|" + "---|" * len(result["variants"])]
    for pers in PERSONALITIES:
        cols = []
        for v in result["variants"]:
            x = s["ratio"].get("%s/%s" % (v, pers))
            col = ("%.3f%s" % (x["max"], "" if x["complete"] else " incomplete")) if x else ""
            for status in ("unbounded", "stuck", "error"):
                bad = [r for r in result["rows"] if r["variant"] == v
                       and r["personality"] == pers and r["status"] == status]
                if bad:
                    col += (", " if col else "") + status + ": " + ", ".join(sorted({
                        {"def": "max_id default", "knew": "k new", "-": "create"}.get(
                            r["run"], "max_id " + r["run"]) for r in bad}))
            cols.append(col)
        L.append("| %s | %s |" % (pers, " | ".join(cols)))
    limits = sorted({"%s/%s/%d: %s" % (r["variant"], r["personality"], r["devices"], x)
                     for r in result["rows"] for x in r.get("lab_limits", [])})
    if limits:
        L += ["", "Lab limits (lockdep's tables filled and it switched itself off for the rest of "
              "the boot; not a splat of the kernel under test, see docs/bench.md): " +
              "; ".join(limits) + "."]
    L += ["", "## Time vs devices present (fixed, nothing new)", "",
          "Least-squares line through every repetition (slope with its 95 % interval), R² of "
          "the per-size medians, and the growth exponent (log-log slope of the medians: 1 = "
          "proportional to LUs, 0 = constant, above 1 = superlinear).", "",
          "| personality | slope per LU | intercept | R² (medians) | exponent | sizes |",
          "|---|---|---|---|---|---|"]
    for k, f in sorted(s["slope"].items()):
        if k.startswith("fixed/") and "exponent" in f:
            L.append("| %s | %.1f ± %.1f us | %s | %.3f | %.2f | %s |" % (
                k.split("/")[1], f["us_per_device"], f["ci95_us"], fmt_us(f["intercept_us"]),
                f["r2_medians"], f["exponent"], ",".join(map(str, f["sizes"]))))
    L += ["", "## max_id sensitivity (fixed)", "",
          "Median over repetitions of (rescan time with that max_id / time with the default "
          "max_id in the same repetition), minus 1. Goal: within ±10 %."]
    g = s.get("maxid_goal")
    if g:
        L += ["", "Within 10 %%: **%d of %d** comparisons; the largest deviation %+.1f%%; "
              "median over cells %s." % (
                  g["within_10pct"], g["comparisons"], 100 * g["worst"], ", ".join(
                      "%+.1f%% (%s)" % (100 * d, m) for m, d in g["median"].items()))]
    L += ["", "| personality/devices | max_id 1024 | max_id 2^32-1 |", "|---|---|---|"]
    for k, d in sorted(s["maxid"].items()):
        if k.startswith("fixed/"):
            L.append("| %s | %s | %s |" % (k[6:], *("%+.1f%%" % (100 * d[m]) if m in d else ""
                                                   for m in MAXID_RUNS)))
    L += ["", "## Nothing new vs k new (median time)", "",
          "| variant/personality/devices | k | found | cmds | minimum | nothing new | k new |",
          "|---|---|---|---|---|---|---|"]
    for k, d in sorted(s["knew"].items()):
        L.append("| %s | %d | %d | %d | %d | %s | %s |" % (
            k, d["k"], d["found"], d["cmds"], d["minimum"],
            fmt_us(d["nothing_new_us"]) if d["nothing_new_us"] else "", fmt_us(d["median_us"])))
    L += ["", "## Unbounded baselines (probe rate sampled over 3 s, extrapolated walk)", "",
          "| variant/personality/devices | max_id | probes/s | walk (probes) | extrapolated |",
          "|---|---|---|---|---|"]
    for r in result["rows"]:
        if r["status"] == "unbounded" and r.get("probe_rate") is not None:
            L.append("| %s/%s/%d | %s | %.0f | %.3g | %s |" % (
                r["variant"], r["personality"], r["devices"], r["max_id"], r["probe_rate"],
                r["extrapolated_probes"], "%.1f h" % r["extrapolated_h"]
                if r.get("extrapolated_h") else "never (no probes: stuck)"))
    for e in s.get("stuck_estimates", []):
        L.append("| %s | %s | %.0f (est.) | %.3g | %.0f h (est. from the max_id %s run: %d "
                 "refused ids in %s) |" % (e["cell"], e["max_id"], e["rate"], e["probes"],
                                          e["hours"], e["from_max_id"], e["from_probes"],
                                          fmt_us(e["from_us"])))
    pr = s.get("smartpqi_probe_ratio")
    if pr:
        L += ["", "smartpqi: multichannel would issue %.3g probes (%.0f/s, ~%s h); fixed issues "
              "%d commands per rescan (%d devices): **%.3g x fewer**." % (
                  pr["multichannel_probes"], pr["multichannel_rate"], pr["multichannel_hours"],
                  pr["fixed_cmds"], pr["devices"], pr["ratio"])]
    L += ["", "## All measurements", "",
          "| variant | personality | devices | run | cmds (by opcode) | minimum | ratio | "
          "found/new | median | min-max | per device (new) |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        if r["status"] != "ok":
            L.append("| %s | %s | %d | %s | %s | | | | | | |" % (
                r["variant"], r["personality"], r["devices"], r["run"],
                r["status"] + (": " + r["why"] if r.get("why") else "")))
            continue
        t = r["time_us"]
        L.append("| %s | %s | %d | %s | %g (%s) | %d | %.3f | %d/%g | %s | %s-%s | %.1f us |" % (
            r["variant"], r["personality"], r["devices"], r["run"], r["cmds"],
            ", ".join("%s %g" % (OPCODE_NAMES.get(k, k), v) for k, v in r["opcodes"].items()),
            r["minimum_total"], r["ratio"], r["found"], r["new_devices"], fmt_us(t["median"]),
            fmt_us(t["min"]), fmt_us(t["max"]), r["us_per_device"]))
    if result.get("plots"):
        L += ["", "Plots: " + ", ".join("[%s](bench/%s)" % (p, p) for p in result["plots"])]
    L += ["", "VM time: " + ", ".join("%s %d s (%d boots%s)" % (
        v, t["seconds"], t["boots"], ", %d timed out" % t["timed_out"] if t["timed_out"] else "")
        for v, t in result["vm_s"].items()) + "; total %d s." % sum(
            t["seconds"] for t in result["vm_s"].values())]
    md = "\n".join(L) + "\n"
    with open(os.path.join(out, "bench.md"), "w") as f:
        f.write(md)
    return md


def merge_records(saved):
    """Several runs of one variant (each on other personalities) as one."""
    out = dict(records={}, boots=[])
    for s in saved:
        for cid, recs in s["records"].items():
            if recs:
                out["records"][cid] = recs
        out["boots"] += s["boots"]
    return out


def run(variants, profile, out, rows=None, reuse=False, sizes=None, merge=None):
    """Run the benchmark; returns the result dict (also written out). The raw
    records of each variant are kept in <out>/bench/records-<variant>.json;
    @reuse analyses those again instead of booting; @merge (out folders of
    earlier runs) analyses their records together, later folders winning."""
    start = time.monotonic()
    outdir = os.path.join(out, "bench")
    os.makedirs(outdir, exist_ok=True)
    all_cells = cells(profile, variants, rows, sizes)
    variants = [v for v in variants if any(c["variant"] == v for c in all_cells)]
    rows_out, builds, clock = [], {}, None
    vm_s = {}
    result = dict(profile=profile, variants=variants, machine=machine(), builds=builds,
                  rows=rows_out, vm_s=vm_s)
    for v in variants:
        builds[v] = vm.build_info(v)
        vcells = [c for c in all_cells if c["variant"] == v]
        raw = os.path.join(outdir, "records-%s.json" % v)
        if merge:
            saved = merge_records([load_records(os.path.join(d, "bench", "records-%s.json" % v),
                                                os.path.join(d, "bench"), v) for d in merge])
            with open(raw, "w") as f:
                json.dump(saved, f)
        elif reuse:
            saved = load_records(raw, outdir, v)
        else:
            saved = run_variant(v, vcells, outdir)
            with open(raw, "w") as f:
                json.dump(saved, f)
        recs = saved["records"]
        vm_s[v] = dict(seconds=round(sum(b["elapsed_s"] for b in saved["boots"])),
                       boots=len(saved["boots"]),
                       timed_out=sum(1 for b in saved["boots"] if b["timed_out"]))
        for c in vcells:
            for r in analyse(c, recs.get(c["id"], [])):
                r.update(kernel=builds[v].get("kernel_release"),
                         source_version=builds[v].get("source_version"),
                         series=builds[v].get("series"))
                rows_out.append(r)
            hz = next((x.get("tsc_hz") for x in recs.get(c["id"], []) if x.get("tsc_hz")), None)
            clock = clock or hz
        # written after every variant, so an interrupted run leaves results
        result.update(clock=("TSC calibrated against CLOCK_MONOTONIC, %.0f MHz" % (clock / 1e6)
                             if clock else "CLOCK_MONOTONIC"),
                      elapsed_s=round(time.monotonic() - start), done=list(builds))
        result["summary"] = summarise(rows_out, list(builds))
        result["plots"] = plots(result, outdir)
        md = write_reports(result, out)
    print(md)
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default=",".join(matrix.VARIANTS))
    ap.add_argument("--profile", default="full", choices=sorted(PROFILES))
    ap.add_argument("--rows", help="comma-separated personalities (default all)")
    ap.add_argument("--out", default=os.path.join(vm.TOP, "results"))
    ap.add_argument("--sizes", help="comma-separated LU counts (default: the profile's)")
    ap.add_argument("--reuse", action="store_true",
                    help="analyse the records of the last run again, no boots")
    ap.add_argument("--merge", help="comma-separated --out folders of earlier runs: analyse "
                    "their records together (later folders win a cell), no boots")
    a = ap.parse_args()
    result = run(a.variants.split(","), a.profile, a.out, a.rows.split(",") if a.rows else None,
                 a.reuse, [int(n) for n in a.sizes.split(",")] if a.sizes else None,
                 a.merge.split(",") if a.merge else None)
    bad = [t for t in assertions(result) if not t[1]]
    for name, _, why in bad:
        print("bench: goal not met: %s: %s" % (name, why))
    return 0


if __name__ == "__main__":
    sys.exit(main())
