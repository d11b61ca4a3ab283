"""The benchmark's reports: bench.json, bench.md and the SVG plots."""
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import personalities  # noqa: E402
from bench_run import MAXID_RUNS  # noqa: E402

OPCODE_NAMES = {"0x00": "TEST UNIT READY", "0x03": "REQUEST SENSE", "0x12": "INQUIRY",
                "0x1a": "MODE SENSE(6)", "0x25": "READ CAPACITY(10)", "0x5a": "MODE SENSE(10)",
                "0x9e": "READ CAPACITY(16)", "0xa0": "REPORT LUNS"}


def machine(accels=("tcg",)):
    """The host, and how QEMU ran (@accels: the boots' accelerators)."""
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f
                          if ln.startswith("model name")), "?")
    except OSError:
        pass
    acc = "/".join(sorted({a.upper() for a in accels})) or "TCG"
    return dict(cpu=model, nproc=os.cpu_count(), host_kernel=platform.release(),
                qemu="%s, 2 vCPU, 2 GiB, KASAN + lockdep guest kernel" % acc)


def fmt_us(us):
    return "%.1f ms" % (us / 1000) if us >= 1000 else "%.0f us" % us


def time_curves(ok):
    """fixed: median nothing-new rescan time per personality."""
    curves = []
    for pers in personalities.base_rows():
        pts = [(r["devices"], r["time_us"]["median"] / 1000) for r in ok
               if r["variant"] == "fixed" and r["personality"] == pers and r["run"] == "def"]
        if pts:
            curves.append((pers, sorted(pts)))
    return curves


def maxid_curves(ok):
    """fixed: rescan time per max_id setting, mean over personalities."""
    curves = []
    for run in ["def"] + MAXID_RUNS:
        pts = {}
        for r in ok:
            if r["variant"] == "fixed" and r["run"] == run:
                pts.setdefault(r["devices"], []).append(r["time_us"]["median"] / 1000)
        if pts:
            curves.append(("max_id " + ("default" if run == "def" else run),
                           sorted((d, statistics.mean(v)) for d, v in pts.items())))
    return curves


def command_curves(ok, variants):
    """hpsa: commands per nothing-new rescan per variant, and the minimum."""
    curves = []
    for v in variants:
        pts = [(r["devices"], r["cmds"]) for r in ok
               if r["variant"] == v and r["personality"] == "hpsa" and r["run"] == "def"]
        if pts:
            curves.append((v, sorted(pts)))
    mins = sorted({(r["devices"], r["minimum_total"]) for r in ok
                   if r["personality"] == "hpsa" and r["run"] == "def"})
    if mins:
        curves.append(("minimum", mins))
    return curves


def gnuplot(tmp, svg, title, xlabel, ylabel, curves, logy=False):
    """One SVG of @curves [(title, [(x, y)])], log2 x axis."""
    files = []
    for i, (t, pts) in enumerate(curves):
        path = os.path.join(tmp, "%s-%d.dat" % (os.path.basename(svg), i))
        with open(path, "w") as f:
            for x, y in pts:
                f.write("%s %s\n" % (x, y))
        files.append((t, path))
    script = ['set terminal svg size 800,500 dynamic noenhanced font "sans,11"',
              'set output "%s"' % svg, 'set title "%s"' % title, 'set xlabel "%s"' % xlabel,
              'set ylabel "%s"' % ylabel, "set key outside right", "set grid",
              "set logscale x 2"]
    if logy:
        script.append("set logscale y 10")
    script.append("plot " + ", ".join('"%s" using 1:2 with linespoints title "%s"' % (p, t)
                                      for t, p in files))
    subprocess.run(["gnuplot"], input="\n".join(script) + "\n", text=True, check=True)


def plots(result, outdir):
    """SVGs via gnuplot; returns the file names written (none without gnuplot)."""
    if not shutil.which("gnuplot"):
        print("bench: gnuplot not found, no plots", file=sys.stderr)
        return []
    os.makedirs(outdir, exist_ok=True)
    ok = [r for r in result["rows"] if r["status"] == "ok"]
    figures = [
        ("fixed_time.svg", "fixed: median wildcard rescan time, nothing new (guest clock)",
         "devices (LUs)", "ms", time_curves(ok), False),
        ("fixed_maxid.svg", "fixed: rescan time by max_id (mean over personalities)",
         "devices (LUs)", "ms", maxid_curves(ok), False),
        ("hpsa_commands.svg", "hpsa: commands per wildcard rescan, nothing new",
         "devices (LUs)", "commands", command_curves(ok, result["variants"]), True)]
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        for svg, title, xlabel, ylabel, curves, logy in figures:
            if curves:
                gnuplot(tmp, os.path.join(outdir, svg), title, xlabel, ylabel, curves, logy)
                written.append(svg)
    return written


def md_header(result):
    """The title, the machine and the builds."""
    m = result["machine"]
    L = ["# Rescan benchmark (%s profile)" % result["profile"], "",
         "Machine: %s, %d CPUs, host kernel %s; %s. Absolute times compare within this run "
         "only. Guest clock: %s." % (m["cpu"], m["nproc"], m["host_kernel"], m["qemu"],
                                     result.get("clock", "?")), ""]
    for v, info in result["builds"].items():
        L.append("- `%s`: %s %s, kernel %s, series %s" % (
            v, info.get("source"), info.get("source_version"), info.get("kernel_release"),
            info.get("series")))
    return L


def md_ratios(result):
    """Commands over the minimum per variant and personality."""
    s = result["summary"]
    L = ["", "Minimum per rescan = REPORT LUNS per known target + 11 INQUIRY per new LU "
         "(+1 MODE SENSE(6) per new LU on libsas); see docs/bench.md.", "",
         "## Commands / minimum (worst over sizes and runs; `incomplete` = devices missed)", "",
         "| personality | " + " | ".join(result["variants"]) + " |",
         "|---|" + "---|" * len(result["variants"])]
    for pers in personalities.base_rows():
        cols = []
        for v in result["variants"]:
            x = s["ratio"].get("%s/%s" % (v, pers))
            # a driver that forgets deleted devices (smartpqi) leaves its k new
            # devices to its own scan; assertions() does not count them
            missed = "" if not x or x["complete"] else " incomplete" + (
                " (k new: the driver's own scan's)"
                if personalities.get(pers).forgets_deleted else "")
            col = ("%.3f%s" % (x["max"], missed)) if x else ""
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
    return L


def md_slopes(result):
    """Time vs devices present: the fits."""
    s = result["summary"]
    L = ["", "## Time vs devices present (fixed, nothing new)", "",
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
    return L


def md_maxid(result):
    """max_id sensitivity, paired by repetition."""
    s = result["summary"]
    L = ["", "## max_id sensitivity (fixed)", "",
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
    return L


def md_knew(result):
    """Nothing new vs k new."""
    s = result["summary"]
    L = ["", "## Nothing new vs k new (median time)", "",
         "| variant/personality/devices | k | found | cmds | minimum | nothing new | k new |",
         "|---|---|---|---|---|---|---|"]
    for k, d in sorted(s["knew"].items()):
        L.append("| %s | %d | %d | %d | %d | %s | %s |" % (
            k, d["k"], d["found"], d["cmds"], d["minimum"],
            fmt_us(d["nothing_new_us"]) if d["nothing_new_us"] else "", fmt_us(d["median_us"])))
    return L


def md_unbounded(result):
    """The unbounded and stuck baselines."""
    s = result["summary"]
    L = ["", "## Unbounded baselines (probe rate sampled over 3 s, extrapolated walk)", "",
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
    return L


def md_measurements(result):
    """Every (cell, run) row."""
    L = ["", "## All measurements", "",
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
    return L


def md_footer(result):
    """Plots and VM time."""
    L = []
    if result.get("plots"):
        L += ["", "Plots: " + ", ".join("[%s](bench/%s)" % (p, p) for p in result["plots"])]
    L += ["", "VM time: " + ", ".join("%s %d s (%d boots%s)" % (
        v, t["seconds"], t["boots"], ", %d timed out" % t["timed_out"] if t["timed_out"] else "")
        for v, t in result["vm_s"].items()) + "; total %d s." % sum(
            t["seconds"] for t in result["vm_s"].values())]
    return L


def write_reports(result, out):
    """out/bench.json and out/bench.md; returns the markdown."""
    with open(os.path.join(out, "bench.json"), "w") as f:
        json.dump(result, f, indent=1)
    L = []
    for section in (md_header, md_ratios, md_slopes, md_maxid, md_knew, md_unbounded,
                    md_measurements, md_footer):
        L += section(result)
    md = "\n".join(L) + "\n"
    with open(os.path.join(out, "bench.md"), "w") as f:
        f.write(md)
    return md
