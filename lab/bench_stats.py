"""The benchmark's statistics: per (cell, run) rows from the guest's
records, the minimum, paired max_id ratios, fits and the headline summary."""
import math
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import personalities  # noqa: E402
from bench_run import MAX_LUNS, MAX_TARGETS, MAXID_RUNS  # noqa: E402

# The minimum, per opcode (docs/bench.md): one REPORT LUNS per target a
# complete scan reads whole (every rphy, and the targets a driver adds with
# scsi_scan_target(); not those whose LUNs it adds one by one with
# scsi_add_device(), which are probed at their own LUN); per LU not yet
# present, the INQUIRYs of
# scsi_probe_lun() (1: vsas' standard data fits 36 bytes) and
# scsi_attach_vpd() (10 for vsas' VPD pages 0x00, 0x80, 0x83), plus libsas'
# MODE SENSE(6) of the port mode page.
REPORT_LUNS, INQUIRY, MODE_SENSE_6 = "0xa0", "0x12", "0x1a"
INQUIRIES_PER_NEW_LU = 1 + 10


def spread(xs):
    xs = sorted(xs)
    return dict(median=statistics.median(xs), min=xs[0], max=xs[-1],
                stdev=statistics.stdev(xs) if len(xs) > 1 else 0.0, n=len(xs))


def rescan_us(r):
    return r["tsc_us"] if r.get("tsc_us", -1) > 0 else r["us"]


def minimum(c, new_lus):
    m = {REPORT_LUNS: personalities.whole_targets(c["pers"], c["topo"]),
         INQUIRY: INQUIRIES_PER_NEW_LU * new_lus}
    if personalities.get(c["pers"]).libsas:
        m[MODE_SENSE_6] = new_lus
    return {k: v for k, v in m.items() if v}


def analyse(c, records):
    """One result row per (cell, run)."""
    create = next((r for r in records if r.get("run") == "create"), None)
    base = dict(variant=c["variant"], personality=c["pers"], devices=c["devices"],
                targets=c.get("targets"), topology=c.get("topo"),
                create_s=round(create["us"] / 1e6, 2) if create else None)
    if c.get("capped"):
        return [dict(base, run="-", status="capped",
                     why="%d LUs per target exceed min(vsas %d, driver max_lun %d)" % (
                         c["devices"] // MAX_TARGETS, MAX_LUNS,
                         personalities.get(c["pers"]).max_lun))]
    if not records:
        return [dict(base, run="-", status="not run")]
    err = next((r for r in records if r.get("error")), None)
    if err and not create:
        return [dict(base, run="-", status="error", why=err["error"])]
    rows = [run_row(c, base, run, [r for r in records if r.get("run") == run])
            for run in c["runs"]]
    paired_maxid(rows, records)
    return rows


def run_row(c, base, run, rs):
    """The row of one run from its records @rs."""
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
        row.update(measured(c, ok))
    return row


def measured(c, ok):
    """Figures over the bounded repetitions @ok of one run."""
    # what a rescan can find: the devices the driver lists ("listed"; on
    # smartpqi a deleted volume is forgotten, docs/design.md), else all
    new = [r.get("listed", c["devices"]) - r["before"] for r in ok]
    mins = [minimum(c, n) for n in new]
    cmds = [r["cmds"] for r in ok]
    ratios = [r["cmds"] / max(1, sum(m.values())) for r, m in zip(ok, mins)]
    us = [rescan_us(r) for r in ok]
    opc = {}
    for r in ok:
        for k, v in r["opc"].items():
            opc.setdefault(k, []).append(v)
    return dict(
        status="ok", max_id=ok[0]["max_id"], reps=len(ok),
        new_devices=statistics.median(new),
        found=min(r["after"] - r["before"] for r in ok),
        complete=all(r["after"] == r.get("listed", c["devices"]) for r in ok),
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
        for pers in personalities.base_rows():
            rs = [r for r in ok if r["variant"] == v and r["personality"] == pers]
            if rs:
                summarise_cell(s, "%s/%s" % (v, pers), rs)
    goal = maxid_goal(s["maxid"])
    if goal:
        s["maxid_goal"] = goal
    s["stuck_estimates"] = stuck_estimates(rows, ok)
    pr = probe_ratio(rows, ok)
    if pr:
        s["smartpqi_probe_ratio"] = pr
    return s


def summarise_cell(s, key, rs):
    """One variant/personality's ratio, slope, max_id and k-new figures."""
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


def maxid_goal(maxid):
    """The goal: every max_id setting within 10 % of the default, cell by
    cell (fixed); None without comparisons."""
    per = {}        # max_id setting -> its deviations over the fixed cells
    for k, v in maxid.items():
        if k.startswith("fixed/"):
            for m, d in v.items():
                per.setdefault(m, []).append(d)
    fx = [d for ds in per.values() for d in ds]
    if not fx:
        return None
    return dict(within_10pct=sum(1 for d in fx if abs(d) <= 0.10),
                comparisons=len(fx), worst=max(fx, key=abs),
                median={m: statistics.median(per[m]) for m in MAXID_RUNS if m in per})


def stuck_estimates(rows, ok):
    """A stuck run printed nothing; its walk is estimated from the same cell's
    bounded run: absent probes per second, scaled by the max_id ratio."""
    out = []
    for r in rows:
        if r["status"] != "stuck" or r["run"] not in MAXID_RUNS:
            continue
        b = next((x for x in ok if x["variant"] == r["variant"]
                  and x["personality"] == r["personality"] and x["devices"] == r["devices"]
                  and x["run"] in ("def", "1024") and x["absent_probes"] > 0), None)
        if b:
            rate = b["absent_probes"] / (b["time_us"]["median"] / 1e6)
            probes = b["absent_probes"] * int(r["run"]) / int(b["max_id"])
            out.append(dict(
                cell="%s/%s/%d" % (r["variant"], r["personality"], r["devices"]),
                max_id=r["run"], rate=round(rate, 1), probes=probes,
                hours=round(probes / rate / 3600, 1), from_max_id=b["max_id"],
                from_probes=b["absent_probes"], from_us=b["time_us"]["median"]))
    return out


def probe_ratio(rows, ok):
    """smartpqi: multichannel's extrapolated id walk vs fixed's commands."""
    mc = [r for r in rows if r["variant"] == "multichannel" and r["personality"] == "smartpqi"
          and r["status"] == "unbounded" and r.get("extrapolated_probes")]
    fx = [r for r in ok if r["variant"] == "fixed" and r["personality"] == "smartpqi"
          and r["run"] == "def"]
    if not (mc and fx):
        return None
    m, f = mc[0], min(fx, key=lambda r: r["devices"])
    return dict(multichannel_probes=m["extrapolated_probes"], multichannel_rate=m["probe_rate"],
                multichannel_hours=m.get("extrapolated_h"), fixed_cmds=f["cmds"],
                devices=f["devices"], ratio=m["extrapolated_probes"] / max(1, f["cmds"]))
