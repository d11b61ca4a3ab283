#!/usr/bin/env python3
"""The rescan benchmark: what a wildcard `- - -` costs against the minimum.

Cells are (variant, personality, devices); the guest's `bench` case
(guest/cases_bench.c) builds each topology once and prints one record per
timed rescan. Everything derived here (the minimum, ratios, medians, the fitted
slope, max_id sensitivity, unbounded extrapolations) is computed from those
records; docs/bench.md defines the minimum.

Usage: lab/bench.py [--profile full|reduced] [--variants ...] [--rows ...] [--out DIR]
Writes DIR/bench.json, DIR/bench.md and DIR/bench/*.svg (DIR: out/).
The code: bench_run.py (cells, boots), bench_stats.py (analysis),
bench_report.py (reports, plots); this file runs them.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import matrix  # noqa: E402
import personalities  # noqa: E402
import vm  # noqa: E402
from bench_run import (MAXID_RUNS, PROFILES, cells, in_flight, load_records,  # noqa: E402,F401
                       merge_records, run_variant, topology)
from bench_stats import (INQUIRY, REPORT_LUNS, analyse, linearity, minimum,  # noqa: E402,F401
                         summarise)
from bench_report import machine, plots, write_reports  # noqa: E402,F401


def analysis_tests():
    """[(test name, ok, why)]: the analysis on made-up records whose answers
    are known (check.py runs these before the boots)."""
    out = []
    cell = dict(id="fixed/plain/64", variant="fixed", pers="plain", devices=64, targets=16,
                topo=topology("plain", 64)[0], runs=["def", "1024", "4294967295"], reps=4,
                kreps=0, k=8)

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
    # the minimum reads whole only the rphys and mpi3mr's targets: 8 LUs of
    # hpsa are 2 rphys and 6 volumes added by LUN, 8 of mpi3mr 8 targets
    mins = {p: minimum(dict(pers=p, topo=topology(p, 8)[0]), 4) for p in ("hpsa", "mpi3mr")}
    out.append(("bench/analysis/minimum_reads_whole_targets_only",
                mins == {"hpsa": {REPORT_LUNS: 2, INQUIRY: 44},
                         "mpi3mr": {REPORT_LUNS: 8, INQUIRY: 44}}, "minimum %s" % mins))
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
    for pers in personalities.base_rows():
        # where the driver has no hook (smartpqi), new devices are its own
        # scan's to find (its rescan attribute), not a user scan's
        no_hook = personalities.get(pers).forgets_deleted
        rs = [r for r in rows if r["personality"] == pers
              and not (no_hook and r["run"] == "knew")]
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


def variant_records(v, vcells, outdir, reuse, merge):
    """A variant's raw records: booted (and saved), or read back from this
    or earlier runs' records-<variant>.json."""
    raw = os.path.join(outdir, "records-%s.json" % v)
    if reuse and not merge:
        return load_records(raw, outdir, v)
    if merge:
        saved = merge_records([load_records(os.path.join(d, "bench", "records-%s.json" % v),
                                            os.path.join(d, "bench"), v) for d in merge])
    else:
        saved = run_variant(v, vcells, outdir)
    with open(raw, "w") as f:
        json.dump(saved, f)
    return saved


def vm_time(boots):
    return dict(seconds=round(sum(b["elapsed_s"] for b in boots)), boots=len(boots),
                timed_out=sum(1 for b in boots if b["timed_out"]))


def analyse_variant(vcells, recs, build):
    """The rows of a variant's cells, and the guest's TSC rate if reported."""
    rows, clock = [], None
    for c in vcells:
        for r in analyse(c, recs.get(c["id"], [])):
            r.update(kernel=build.get("kernel_release"),
                     source_version=build.get("source_version"), series=build.get("series"))
            rows.append(r)
        hz = next((x.get("tsc_hz") for x in recs.get(c["id"], []) if x.get("tsc_hz")), None)
        clock = clock or hz
    return rows, clock


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
    rows_out, builds, clock, accels, md = [], {}, None, set(), ""
    result = dict(profile=profile, variants=variants, machine=machine(), builds=builds,
                  rows=rows_out, vm_s={})
    for v in variants:
        builds[v] = vm.build_info(v)
        vcells = [c for c in all_cells if c["variant"] == v]
        saved = variant_records(v, vcells, outdir, reuse, merge)
        result["vm_s"][v] = vm_time(saved["boots"])
        accels |= {b.get("accel", "tcg") for b in saved["boots"]}
        vrows, hz = analyse_variant(vcells, saved["records"], builds[v])
        rows_out += vrows
        clock = clock or hz
        # written after every variant, so an interrupted run leaves results
        result.update(clock=("TSC calibrated against CLOCK_MONOTONIC, %.0f MHz" % (clock / 1e6)
                             if clock else "CLOCK_MONOTONIC"),
                      elapsed_s=round(time.monotonic() - start), done=list(builds),
                      machine=machine(accels or ("tcg",)))
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
    ap.add_argument("--out", default=vm.OUT, help="output folder (default out/)")
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
