#!/usr/bin/env python3
"""make check / make demo: build what is needed, boot the suites, report TAP.

Two phases keep `make check` inside the CI budget (docs/lab.md, "Budget"):
  1. builds, one after the other: each variant's kernel starts from the stock
     tree's objects (lab/kernel.sh);
  2. boots, SASSCAN_BOOTS of them at a time (default 3): every suite, the
     series check, each variant's matrix, the benchmark and the reliability
     suite are independent jobs. The jobs that use apt (the DKMS check,
     Debian's kernel as shipped and with sasscan-dkms, and their matrices)
     are one job, which on a fresh machine downloads and builds packages
     beside the boots. Under emulation a guest spends much of its
     time waiting (device timeouts, hot-plug, sleeps): measured on 2 cores,
     the vsas suite took 291 s alone, 299 s each as 2 at a time and 428 s
     each as 4 at a time.

Every boot in SUITES must pass case by case. The runner's self-tests boot
cases that are *meant* to go wrong -- a failing check, a kernel WARNING, a
hung task, a boot that never ends -- and assert that the runner reports each
one as a failure. Expected failures (the self-tests' failing case, the
baselines' known failures) print as "ok N name # XFAIL reason", kselftest's
form; one that is not seen any more is "not ok". The last line is
"N passed, M failed, X xfail"; the exit status is 0 only if M is 0.

Kernel lines (docs/lab.md): the primary line 7.3 runs everything above on
stock and fixed (check-full and demo also on the two models of upstream's
failed attempts); 6.12's backport runs as sasscan-dkms on Debian's prebuilt
6.12 kernel, which also runs as shipped, and the DKMS check; 6.12 and 6.1 get
their series checks (git am in make check). check-full adds the other lines'
fixed kernels and every line's build-configuration matrix
(lab/config-matrix.sh).
"""
import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vm  # noqa: E402

import bench  # noqa: E402
import matrix  # noqa: E402
import personalities  # noqa: E402
import reliability  # noqa: E402

OUT = vm.OUT
PRIMARY = vm.PRIMARY_LINE
# What each line runs besides its series check and config matrix: the
# variants it builds and boots (the primary line: its matrix variants).
LINE_VARIANTS = {"6.12": ["stock", "fixed"], "6.1": []}
# make check builds and boots no lab kernel of the other lines: their
# backports run there as sasscan-dkms, built from the same patches, on
# Debian's own prebuilt kernel (debian_dkms_tests), whose stock behaviour
# is asserted as shipped (debian_tests). check-full also builds and boots
# their fixed kernels: the matrix and the driver hooks' KUnit suites. (On a
# fresh machine the 6.12 fixed kernel took 732 s to build, 2026-12-02.)
CHECK_MATRIX_OTHER_LINES = {"quick": (), "full": ("fixed",)}
# The series check's steps per line in make check (every step in check-full):
# 7.3 builds and boots only its last step, which is its fixed tree; the
# backports are applied with git am and not built (a last step of theirs is
# a tree from scratch: 6.1's took 1 034 s of a chain on a fresh machine).
# Every patch still applies with git am on every line. Every step of 7.3
# took 1 298 s of a chain (docs/lab.md, "Budget").
SERIES_STEPS = {"7.3": "last", "6.12": "none", "6.1": "none"}
# Lines whose config matrix make check runs (check-full: every line, every
# configuration, every step). None: its check set (the configuration the lab
# kernels are not, transport a module, PM off, KUnit a module; the pristine
# tree and the whole series; W=1 and sparse) builds a tree from scratch,
# 1 441 s of a chain on a fresh machine of the slower kind (2026-12-02),
# which make check's fresh budget cannot hold.
CONFIG_MATRIX_LINES = []
# The series checks and config matrices build kernels while VMs boot: they
# run as a few chains, one build at a time each, so that builds never take
# more than a slot or two from the boots (a guest starved of CPU under TCG
# runs into its time limits). "series:<line>" or "config:<line>".
# In make check only the series checks run (config matrices: check-full):
# 7.3's last step is its fixed tree, already built, so one boot (164 s
# fresh); 6.12's and 6.1's are git am only.
BUILD_CHAINS = [["series:7.3", "config:7.3"],
                ["series:6.12", "series:6.1", "config:6.12", "config:6.1"]]


def build_chain(chain, full):
    """Run a chain of series checks and config matrices one after the other."""
    tests = []
    for item in chain:
        kind, line = item.split(":")
        if kind == "config" and not (full or line in CONFIG_MATRIX_LINES):
            continue    # check-full's
        t = time.monotonic()
        if kind == "series":
            tests += series_job(line, "all" if full else SERIES_STEPS.get(line, "all"))
        else:
            tests += config_matrix_job(line, "full" if full else "check",
                                       "all" if full else "last")
        say("# %s done in %.0f s" % (item, time.monotonic() - t))
    return tests


# The primary line's variants make check builds and boots (check-full: all).
# The models of upstream's failed attempts are left to check-full and demo:
# their builds and boots cost about 8 minutes of a fresh run (2026-12-02),
# and make test asserts their failures on saved boots of theirs
# (lab/tests: test_reliability.py, test_matrix_verdict.py, test_bench.py).
CHECK_PRIMARY_VARIANTS = {"quick": ("stock", "fixed"), "full": tuple(matrix.VARIANTS)}


def check_variants(line, full=False):
    """The variants make check (@full: check-full) builds and boots on @line:
    CHECK_PRIMARY_VARIANTS of the primary line's, CHECK_MATRIX_OTHER_LINES of
    the others'."""
    mode = "full" if full else "quick"
    keep = CHECK_PRIMARY_VARIANTS[mode] if line == PRIMARY else CHECK_MATRIX_OTHER_LINES[mode]
    return [v for v in line_variants(line) if vm.split_variant(v)[0] in keep]


def line_variants(line):
    """The variants of @line that check and demo build, as vm.boot() names them."""
    names = matrix.VARIANTS if line == PRIMARY else LINE_VARIANTS.get(line, ["stock", "fixed"])
    return [vm.qualified(v, line) for v in names if available(v, line)]


def available(variant, line):
    """A model variant exists only on the lines in lab/variants/<name>/lines."""
    f = os.path.join(vm.LAB, "variants", variant, "lines")
    if not os.path.exists(f):
        return True
    with open(f) as fh:
        return line in fh.read().split()

# name, variant, case selection, per-boot limit (s), hung-task timeout (s)
SUITES = [
    ("lab", "stock", "lab_*", 900, 60),
    # the per-personality data and generic-scan cases test vsas itself,
    # and what they check (each LU its own store; absent ids answered as
    # absent) the matrix and the reliability suite lean on in every cell:
    # check-full boots them (VSAS_FULL_CASES)
    ("vsas", "stock", "vsas_*,!vsas_*_data,!vsas_*_generic", 1500, 60),
    # vsas on the fixed kernel is exercised by the matrix, cell by cell;
    # hook_*: the driver hooks' KUnit suites, where the line has them
    ("fixed", "fixed", "lab_sdebug_*,fix_*" + (",hook_*" if os.path.isdir(
        os.path.join(vm.TOP, "lab", "hook-tests", PRIMARY)) else ""), 900, 60),
]
VSAS_FULL_CASES = "vsas_*"
# ... and on the other lines' fixed kernels, which check-full boots
FULL_SUITES = [("fixed-" + line, vm.qualified("fixed", line), "hook_*", 600, 60)
               for line in vm.LINES if line != PRIMARY
               and vm.qualified("fixed", line) in check_variants(line, True)
               and os.path.isdir(os.path.join(vm.TOP, "lab", "hook-tests", line))]


# The failures the matrix must keep detecting: variant, row, request, what,
# predicate on the cell.
def _missed(t):
    return t["verdict"] == "FAIL" and (t["found_devices"] or 0) < (t["expected_devices"] or 0)


KNOWN_FAILURES = [
    ("stock", "mpt3sas", "- - -", "misses tri-mode NVMe and RAID (ch 1, 2)", _missed),
    ("stock", "mpi3mr", "- - -", "misses NVMe on ch 1", _missed),
    ("stock", "hpsa", "- - -", "misses logical drives (ch 1-3)", _missed),
    ("stock", "hpsa_ctrl0", "delete ch0, - - -", "misses the controller on bus 0", _missed),
    ("multichannel", "mpi3mr", "1 - -", "finds what lies on channels <= max_channel",
     lambda t: t["found_devices"] == t["expected_devices"] and t["expected_devices"] > 0),
    ("multichannel", "smartpqi", "- - -", "unbounded id walk, hung task captured",
     lambda t: t["record"].get("unbounded") and t["record"].get("extrapolated_hours", 0) > 1
     and "hung_task" in t["splats"]),
    ("multichannel", "hisi_sas_mc1", "- - -", "allocates targets without an rphy",
     lambda t: (t["rphyless_target_allocs"] or 0) > 0),
    ("scanstart", "hisi_sas", "- - -", "scan_start resets PHYs",
     lambda t: (t["phy_resets"] or 0) > 0),
    ("scanstart", "mpt3sas", "- - - during I/O", "runtime port enable re-initialises firmware",
     lambda t: (t["phy_resets"] or 0) > 0),
    ("scanstart", "hisi_sas", "two writers - - -", "two writers run scan_start at once",
     lambda t: (t["concurrent_scan_start_max"] or 0) > 1),
    ("scanstart", "pm8001", "- - - during I/O", "re-initialisation fails in-flight I/O",
     lambda t: (t["io_errors"] or 0) > 0),
    ("scanstart", "isci", "- - -", "repeated controller start never finishes",
     lambda t: bool(t["record"].get("unbounded"))),
]
# Stock's lost volumes, one entry per volume cell of the reduced profile.
KNOWN_FAILURES += matrix.known_failures("reduced")


def asserted_cells(variant):
    """The primary line's cells make check boots for @variant (None: all of
    the reduced profile's): every cell of fixed, only the cells of a
    baseline that KNOWN_FAILURES asserts. A baseline's other cells assert
    nothing; demo and check-full run them."""
    if variant == "fixed":
        return None
    return {(row, req) for v, row, req, _, _ in KNOWN_FAILURES if v == variant}

_print_lock = threading.Lock()


def say(text):
    with _print_lock:
        print(text, flush=True)


class Test:
    """One TAP line: passed, failed, or an expected failure that was seen."""

    def __init__(self, name, ok, why="", xfail=False):
        self.name, self.ok, self.why, self.xfail = name, bool(ok), why, xfail

    def tap(self, n):
        if not self.ok:
            return "not ok %d %s # %s" % (n, self.name, self.why)
        if self.xfail:
            return "ok %d %s # XFAIL %s" % (n, self.name, self.why)
        return "ok %d %s" % (n, self.name)


def detects(table, expected, prefix, variant=None):
    """One expected failure per entry: its cell exists and shows it.
    variant: look in this variant's cells instead of the entry's own."""
    for v, row, req, what, pred in expected:
        want = (variant or v, row, req)
        t = next((t for t in table if (t["variant"], t["personality"], t["request"]) == want),
                 None)
        name = "%s%s/%s/%s" % (prefix, want[0], row, req.replace(" ", "_"))
        seen = bool(t) and bool(pred(t))
        yield Test(name, seen, what if seen else "expected failure not seen: %s (%s)" % (
            what, t and t["why"] or "cell missing"), xfail=True)


def tap_tests(res, prefix):
    """A judged boot's cases as tests."""
    out = []
    for r in res["results"]:
        why = "; ".join(r.get("why", []))[:400]
        out.append(Test(prefix + r["name"], r["ok"], why, xfail=bool(r.get("xfail"))))
    return out


def script_tests(script, prefix, args=(), env=None):
    """A lab script that prints TAP; its steps as tests, plus one for its exit status."""
    return script_run(script, prefix, args, env)[0]


def script_run(script, prefix, args=(), env=None):
    """script_tests(), and the script's exit status and standard output."""
    out = subprocess.run([os.path.join(vm.LAB, script)] + list(args), cwd=vm.TOP,
                         stdout=subprocess.PIPE, text=True,
                         env=dict(os.environ, **(env or {})))
    tests = tap_steps(out.stdout, prefix)
    tests.append(Test(prefix + "all_steps", out.returncode == 0 and len(tests) > 0,
                      "%s exit %d, %d steps" % (script, out.returncode, len(tests))))
    return tests, out.returncode, out.stdout


def tap_steps(text, prefix):
    """TAP result lines of a script's output as tests; "# SKIP" counts as passed."""
    tests = []
    for l in text.splitlines():
        m = re.match(r"(not )?ok \d+ (\S+)", l)
        if m:
            tests.append(Test(prefix + m.group(2), not m.group(1), l))
    return tests


def series_job(line, steps):
    """The series check of @line (lab/series-check.sh)."""
    return script_tests("series-check.sh", "series/%s/" % line, ["--steps", steps, line])


def config_matrix_job(line, configs, steps):
    """The build-configuration matrix of @line (lab/config-matrix.sh)."""
    return script_tests("config-matrix.sh", "config-matrix/%s/" % line,
                        ["--configs", configs, "--steps", steps, line])


# --- phase 1: builds --------------------------------------------------------

def prepare(variant):
    """make prepare VARIANT=v LINE=l for a (possibly line-qualified) variant;
    returns True on success."""
    t = time.monotonic()
    name, line = vm.split_variant(variant)
    rc = subprocess.call(["make", "-s", "prepare", "VARIANT=" + name, "LINE=" + line],
                         cwd=vm.TOP)
    say("# prepared variant %s of line %s in %.0f s (rc %d)" % (
        name, line, time.monotonic() - t, rc))
    return rc == 0


def debian_prepare(line="6.12"):
    """Debian's prebuilt kernel of @line as a variant of that line
    (lab/debian-kernel.sh); its qualified name or None."""
    out = subprocess.run([os.path.join(vm.LAB, "debian-kernel.sh")], cwd=vm.TOP,
                         stdout=subprocess.PIPE, text=True,
                         env=dict(os.environ, SASSCAN_LINE=line))
    variant = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""
    return vm.qualified(variant, line) if out.returncode == 0 and variant else None


def debian_dkms_prepare(line="6.12"):
    """sasscan-dkms installed on this machine as an administrator installs it,
    and purged again; then Debian's prebuilt kernel of @line with the
    package's modules as a variant of that line (lab/debian-dkms.sh). Its
    steps as tests, and the variant's qualified name or None."""
    tests, rc, out = script_run("debian-dkms.sh", debian_name("dkms-package", line) + "/",
                                env={"SASSCAN_LINE": line})
    m = re.search(r"^# variant (\S+)$", out, re.M)
    return tests, (vm.qualified(m.group(1), line) if rc == 0 and m else None)


# --- phase 2: boot jobs -----------------------------------------------------

def find(res, name):
    return next((r for r in res["results"] if r["name"] == name), None)


def why_of(r):
    return "; ".join(r["why"])[:300] if r else "case missing"


def suite_job(name, variant, cases, timeout, hung, outdir):
    res = vm.boot(variant, cases, name, timeout=timeout, hung_task_secs=hung,
                  results_dir=outdir)
    say(vm.header(res))
    tests = tap_tests(res, name + "/")
    if any(r["name"] == "vsas_registry_report" for r in res["results"]):
        tests.append(registry_test(res, name + "/"))
    return tests


def registry_test(res, prefix):
    """The lab's personality registry agrees with what the booted vsas reports."""
    tag = "VSAS-PERSONALITIES "
    rec = next((json.loads(d[len(tag):]) for d in res.get("diag", []) if d.startswith(tag)),
               None)
    problems = personalities.check_against(rec) if rec else ["no %s record" % tag.strip()]
    return Test(prefix + "registry_matches_vsas", not problems, "; ".join(problems))


def selftests(outdir):
    """Boot deliberately broken cases; one test per runner property."""
    res = vm.boot("stock", "selftest_pass,selftest_fail,selftest_warn,selftest_hung_task,"
                  "fix_sdebug_scan_truncated", "selftest", timeout=600, hung_task_secs=5,
                  results_dir=outdir, extra_append="sasscan.xfail=selftest_fail")
    say(vm.header(res))
    tests = []
    r = find(res, "selftest_pass")
    tests.append(Test("runner_passes_clean_case", r and r["ok"] and not r.get("xfail"),
                      "selftest_pass: %s" % why_of(r)))
    r = find(res, "selftest_fail")
    # asked to expect it, the guest reports the failure as XFAIL
    tests.append(Test("runner_reports_expected_failure_as_xfail",
                      r and r.get("xfail") and r["ok"] and not r["splats"],
                      "selftest_fail: xfail=%s %s" % (r and r.get("xfail"), why_of(r))))
    r = find(res, "selftest_warn")
    tests.append(Test("runner_fails_case_with_kernel_warning",
                      r and not r["ok"] and any(s["kind"] == "warning" for s in r["splats"]),
                      "selftest_warn: %s" % why_of(r), xfail=True))
    r = find(res, "selftest_hung_task")
    tests.append(Test("runner_fails_case_with_hung_task",
                      r and not r["ok"] and any(s["kind"] == "hung_task" for s in r["splats"]),
                      "selftest_hung_task: %s" % why_of(r), xfail=True))
    # The first patch's test passes on fixed and in every series step; without
    # the patch it must fail (stock truncates channel/id values).
    r = find(res, "fix_sdebug_scan_truncated")
    tests.append(Test("detects/stock/scan_truncates_channel_id",
                      r and not r["ok"] and not r["splats"],
                      "fix_sdebug_scan_truncated on stock: %s" % why_of(r), xfail=True))
    res = vm.boot("stock", "selftest_pass,selftest_fail", "selftest_fail", timeout=600,
                  hung_task_secs=60, results_dir=outdir)
    say(vm.header(res))
    r = find(res, "selftest_fail")
    rc = subprocess.call([sys.executable, os.path.join(vm.LAB, "vm.py"), "--parse-only",
                          os.path.join(outdir, "selftest_fail")], stdout=subprocess.DEVNULL)
    tests.append(Test("runner_fails_failing_case", r and not r["ok"] and rc != 0,
                      "selftest_fail: %s, vm.py exit %d" % (why_of(r), rc), xfail=True))
    res = vm.boot("stock", "selftest_hang", "selftest_hang", timeout=60, hung_task_secs=60,
                  results_dir=outdir)
    say(vm.header(res))
    r = find(res, "selftest_hang")
    tests.append(Test("runner_fails_boot_over_time_limit",
                      res.get("timed_out") and r and not r["ok"] and res["failed"] > 0,
                      "timed_out=%s selftest_hang: %s" % (res.get("timed_out"), why_of(r)),
                      xfail=True))
    return tests


def matrix_job(variant, profile, out, only=None):
    """One variant's matrix cells (rows of the table); only: see matrix.run_one()."""
    t = time.monotonic()
    rows = matrix.run_one(variant, profile, out, only=only)
    say("# matrix %s (%s): %d cells in %.0f s" % (variant, profile, len(rows),
                                                  time.monotonic() - t))
    return rows


def cell_tests(rows, prefix):
    """One test per matrix row: it passes if the cell did."""
    return [Test(prefix + "%s/%s" % (t["personality"], t["request"].replace(" ", "_")),
                 t["verdict"] == "PASS", t["why"]) for t in rows]


def report_source(table):
    """The source (package and version) a matrix table's report names."""
    return "%s %s" % (table[0]["source"], table[0]["source_version"]) if table else ""


def matrix_tests(table, line=PRIMARY, variants=None):
    """Every fixed cell must pass; the baselines must show their known
    failures (on the primary line those of @variants, default all; on
    another line stock's)."""
    fixed = vm.qualified("fixed", line)
    tests = cell_tests([t for t in table if t["variant"] == fixed], "matrix/%s/" % fixed)
    if line == PRIMARY:
        known = [k for k in KNOWN_FAILURES if variants is None or k[0] in variants]
        return tests + list(detects(table, known, "matrix/detects/"))
    if not any(t["variant"] == vm.qualified("stock", line) for t in table):
        return tests
    stock = [k for k in KNOWN_FAILURES if k[0] == "stock"]
    return tests + list(detects(table, stock, "matrix/detects/",
                                vm.qualified("stock", line)))


def debian_tests(variant, table, p="debian/"):
    """Debian's prebuilt kernel as shipped: the reduced matrix runs on it, its
    report names the package, and it shows the lab stock kernel's known
    failures (both are Debian's source, unpatched). @p: the tests' prefix."""
    if not variant:
        return [Test(p + "prepare", False, "debian-kernel.sh failed")]
    broken = [t["personality"] + " " + t["request"] for t in table if t["record"].get("error")]
    tests = [Test(p + "matrix_runs", table and not broken,
                  "%d cells, no record for: %s" % (len(table), ", ".join(broken)))]
    src = report_source(table)
    tests.append(Test(p + "report_names_package",
                      re.match(r"linux-image-6\.\d+\S+ \S+$", src) is not None,
                      "report names '%s'" % src))
    stock = [k for k in KNOWN_FAILURES if k[0] == "stock"]
    return tests + list(detects(table, stock, p + "detects/", variant))


# what the kernel and the lab's /init log when a module does not fit the kernel
MODULE_LOAD_ERROR = re.compile(r"disagrees about version of symbol|Unknown symbol"
                               r"|init: modprobe \S+ failed")


def module_load_errors(outdir):
    """The consoles under @outdir, and every module load error they log."""
    consoles, errors = 0, []
    for d, _, files in os.walk(outdir):
        if "console.log" in files:
            consoles += 1
            with open(os.path.join(d, "console.log"), errors="replace") as f:
                errors += [l.strip() for l in f if MODULE_LOAD_ERROR.search(l)]
    return consoles, errors


def debian_dkms_tests(variant, table, outdir, p="debian-sasscan/"):
    """Debian's prebuilt kernel with sasscan-dkms: every reduced-matrix cell of
    every personality passes, as on the lab's fixed kernel, and Debian's SAS
    drivers load beside the package's modules. @p: the tests' prefix."""
    if not variant:
        return [Test(p + "prepare", False, "debian-dkms.sh failed")]
    tests = cell_tests(table, p)
    missing = sorted(set(personalities.base_rows()) - {t["personality"] for t in table})
    tests.append(Test(p + "every_personality", table and not missing,
                      "%d cells; no cell for: %s" % (len(table), ", ".join(missing))))
    src = report_source(table)
    tests.append(Test(p + "report_names_package", "sasscan-dkms" in src,
                      "report names '%s'" % src))
    consoles, errors = module_load_errors(outdir)
    tests.append(Test(p + "modules_load", consoles > 0 and not errors,
                      "%d consoles; %s" % (consoles, "; ".join(sorted(set(errors)))[:300])))
    return tests


def debian_name(kind, line):
    """A Debian job's name, its tests' prefix and its output folder:
    "debian" or "debian-sasscan", with "@<line>" unless 6.12."""
    return kind + ("" if line == "6.12" else "@" + line)


def bench_tests(outdir, full=False):
    """The rescan benchmark (reduced): count goals for fixed, and with
    multichannel (check-full) smartpqi's probe ratio; times are reported in
    <out>/bench.md, not asserted."""
    variants = [v for v in ("fixed", "multichannel") if v in check_variants(PRIMARY, full)]
    return [Test(n, ok, why) for n, ok, why in
            bench.assertions(bench.run(variants, "reduced", outdir))]


def reliability_tests(outdir, full=False):
    tests = []
    for n, ok, why in reliability.check_tests(outdir, full):
        tests.append(Test(n, ok, why, xfail="/detects/" in n))
    return tests


def run_jobs(jobs, workers):
    """jobs: [(name, fn)], longest first; returns {name: result or exception}."""
    done = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futs = {pool.submit(fn): name for name, fn in jobs}
        for f in concurrent.futures.as_completed(futs):
            name = futs[f]
            try:
                done[name] = f.result()
            except Exception as e:  # a crashed job is a failed test, not a crashed run
                done[name] = e
            say("# job %s done" % name)
    return done


def results_of(done, name):
    r = done.get(name)
    if isinstance(r, Exception) or r is None:
        return [Test("job/" + name, False, "job raised %r" % r)]
    return r


def finish(tests, outdir, start, timings):
    """Print the TAP and the last line; returns the exit status."""
    print("TAP version 13")
    print("1..%d" % len(tests))
    lines = [t.tap(i) for i, t in enumerate(tests, 1)]
    for line in lines:
        print(line)
    failed = sum(1 for t in tests if not t.ok)
    xfail = sum(1 for t in tests if t.ok and t.xfail)
    elapsed = round(time.monotonic() - start)
    with open(os.path.join(outdir, "summary.json"), "w") as f:
        json.dump({"tap": lines, "phases_s": timings, "elapsed_s": elapsed,
                   "accel": vm.accel()}, f, indent=1)
    print("# phases: " + ", ".join("%s %d s" % kv for kv in timings.items()))
    print("# results in %s, %d s" % (outdir, elapsed))
    print("%d passed, %d failed, %d xfail" % (len(tests) - failed - xfail, failed, xfail))
    return 0 if failed == 0 else 1


def fast_tier():
    """make test: the host-side judges on saved logs, lint, the guest under sanitizers."""
    t = time.monotonic()
    rc = subprocess.call([os.path.join(vm.LAB, "fast-test.sh")], cwd=vm.TOP)
    return Test("fast_tier", rc == 0, "lab/fast-test.sh exit %d (%.0f s)" % (
        rc, time.monotonic() - t))


def debian_job(outdir, lines, full=False):
    """The jobs that use apt and dpkg, one after the other in one slot of
    phase 2, beside the boots (on a fresh machine mostly downloads and
    package builds): vsas' DKMS check, then per line Debian's prebuilt
    kernel as shipped and with sasscan-dkms, each prepared and its reduced
    matrix booted (as shipped, make check boots only the cells of stock's
    known failures, like the lab's stock). Their tests."""
    tests = script_tests("dkms-check.sh", "dkms/")
    for line in lines:
        n = debian_name("debian", line)
        v = debian_prepare(line)
        table = matrix_job(v, "reduced", os.path.join(outdir, n),
                           None if full else asserted_cells("stock")) if v else []
        tests += debian_tests(v, table, n + "/")
        pre, v = debian_dkms_prepare(line)
        n = debian_name("debian-sasscan", line)
        table = matrix_job(v, "reduced", os.path.join(outdir, n)) if v else []
        tests += pre + debian_dkms_tests(v, table, os.path.join(outdir, n), n + "/")
    return tests


def check_jobs(outdir, full=False):
    """Phase 2's boot jobs, longest first so that the pool ends together."""
    matrix_of = {v: (lambda v=v: matrix_job(v, "reduced", outdir,
                                             None if full else asserted_cells(v)))
                 for v in matrix.VARIANTS}
    suites = [(n, v, VSAS_FULL_CASES if full and n == "vsas" else c, t, h)
              for n, v, c, t, h in SUITES + FULL_SUITES]
    suite = {s[0]: (lambda s=s: suite_job(*s, outdir)) for s in suites}
    other = [v for line in vm.LINES if line != PRIMARY for v in check_variants(line, full)]
    jobs = [("reliability", lambda: reliability_tests(outdir, full)),
            ("matrix-fixed", matrix_of["fixed"]),
            # Debian's 6.12 kernel in make check, its 6.1 one too in check-full
            ("debian", lambda: debian_job(outdir, ["6.12", "6.1"] if full else ["6.12"],
                                          full))]
    jobs += [("builds-" + "+".join(chain), (lambda chain=chain: build_chain(chain, full)))
             for chain in BUILD_CHAINS]
    jobs += [("vsas", suite["vsas"]), ("bench", lambda: bench_tests(outdir, full))]
    jobs += [("matrix-" + v, (lambda v=v: matrix_job(v, "reduced", outdir))) for v in other]
    models = [v for v in ("multichannel", "scanstart") if v in check_variants(PRIMARY, full)]
    jobs += [("matrix-" + v, matrix_of[v]) for v in models]
    jobs += [("matrix-stock", matrix_of["stock"]),
             ("lab", suite["lab"]), ("fixed", suite["fixed"])]
    jobs += [(s[0], suite[s[0]]) for s in FULL_SUITES if full]
    return jobs + [("selftests", lambda: selftests(outdir))]


def matrix_table(done, variants):
    """The variants' matrix rows merged, plus a failed test per job that raised."""
    table, tests = [], []
    for v in variants:
        rows = done.get("matrix-" + v)
        if isinstance(rows, list):
            table += rows
        else:
            tests.append(Test("matrix/%s/run" % v, False, "job raised %r" % rows))
    return table, tests


def check_tests_of(done, outdir, secs, full=False):
    """Every test of the boots, in the report's order."""
    tests = []
    for name in [s[0] for s in SUITES + (FULL_SUITES if full else [])] + ["selftests"]:
        tests += results_of(done, name)
    for name in sorted(n for n in done if n.startswith("builds-")):
        tests += results_of(done, name)
    primary = check_variants(PRIMARY, full)
    table, tests_raised = matrix_table(done, primary)
    matrix.write_reports(table, primary, outdir, "reduced", secs)
    tests += tests_raised + matrix_tests(table, PRIMARY, primary)
    for line in vm.LINES:
        variants = check_variants(line, full) if line != PRIMARY else []
        if not variants:
            continue
        ltable, raised = matrix_table(done, variants)
        matrix.write_reports(ltable, variants, os.path.join(outdir, line), "reduced", secs)
        tests += raised + matrix_tests(ltable, line)
    return (tests + results_of(done, "debian") + results_of(done, "bench")
            + results_of(done, "reliability"))


def check(a):
    start = time.monotonic()
    outdir = os.path.join(OUT, "check")
    os.makedirs(outdir, exist_ok=True)
    tests = [fast_tier()]
    timings = {"fast tier": round(time.monotonic() - start)}

    t = time.monotonic()
    for line in vm.LINES:
        # the other lines' stock would only seed their fixed (fresh: 394 s
        # for a 157 s saving)
        for variant in check_variants(line, a.configs == "full"):
            if not prepare(variant):
                tests.append(Test("prepare_%s" % variant, False, "build failed"))
                return finish(tests, outdir, start, timings)
    timings["builds"] = round(time.monotonic() - t)

    t = time.monotonic()
    done = run_jobs(check_jobs(outdir, a.configs == "full"), a.boots)
    timings["boots"] = round(time.monotonic() - t)
    tests += check_tests_of(done, outdir, timings["boots"], a.configs == "full")
    return finish(tests, outdir, start, timings)


def demo(a):
    """The main job: every variant's matrix side by side (reduced profile by
    default, the whole matrix with --profile full)."""
    start = time.monotonic()
    out = os.path.join(OUT, "demo")
    os.makedirs(out, exist_ok=True)
    timings = {}
    variants = line_variants(vm.LINE)
    for variant in variants:
        if not prepare(variant):
            print("demo: building %s failed" % variant)
            return 1
    timings["builds"] = round(time.monotonic() - start)
    t = time.monotonic()
    # stock and fixed run every cell in one long boot each; the baselines'
    # stuck cells end many short boots, one after the other in the third slot
    order = ["stock", "fixed"] + [v for v in variants if v not in ("stock", "fixed")]
    order = [v for v in order if v in variants]
    done = run_jobs([("matrix-" + v, (lambda v=v: matrix_job(v, a.profile, out)))
                     for v in order], a.boots)
    timings["matrix"] = round(time.monotonic() - t)
    table, raised = matrix_table(done, variants)
    for t in raised:
        print("demo: %s" % t.tap(0))
    matrix.write_reports(table, variants, out, a.profile, timings["matrix"])
    if a.profile == "full" and vm.LINE == PRIMARY:     # the committed showcase result
        matrix.write_reports(table, variants, os.path.join(vm.TOP, "results"), a.profile,
                             timings["matrix"])
    print("# phases: " + ", ".join("%s %d s" % kv for kv in timings.items()))
    print("# demo: %s/matrix.md, %d cells, %d s" % (out, len(table), time.monotonic() - start))
    return 0 if table else 1


def external(a):
    """Another kernel, as it is: vsas's cases and the matrix on it.

    --kernel/--kbuild/--modules: any x86_64 kernel >= 6.1
    (lab/external-kernel.sh); --debian: Debian's newest prebuilt package of
    --debian-line with its headers (lab/debian-kernel.sh), with --dkms the
    same kernel with sasscan-dkms installed (lab/debian-dkms.sh). Failing
    matrix cells are the kernel's results and are reported as such ("not ok").
    """
    start = time.monotonic()
    if subprocess.call(["make", "-s", "guest"], cwd=vm.TOP) != 0:
        print("not ok 1 build_guest\n0 passed, 1 failed")
        return 1
    pre = []
    if a.debian and a.dkms:
        pre, variant = debian_dkms_prepare(a.debian_line)
    elif a.debian:
        variant = debian_prepare(a.debian_line)
    else:
        out = subprocess.run([os.path.join(vm.LAB, "external-kernel.sh"), a.kernel, a.kbuild,
                              a.modules], cwd=vm.TOP, stdout=subprocess.PIPE, text=True)
        lines = out.stdout.strip().splitlines()
        variant = lines[-1] if out.returncode == 0 and lines else None
    if not variant:
        print("not ok 1 prepare_kernel\n0 passed, 1 failed")
        return 1
    outdir = os.path.join(OUT, variant)
    os.makedirs(outdir, exist_ok=True)
    tests = suite_job("vsas", variant, "vsas_*", 1500, 60, outdir)
    tests = pre + [Test(variant + "/" + t.name, t.ok, t.why, t.xfail) for t in tests]
    table = matrix.run_one(variant, a.profile, outdir)
    matrix.write_reports(table, [variant], outdir, a.profile, time.monotonic() - start)
    tests += cell_tests(table, "%s/matrix/" % variant)
    return finish(tests, outdir, start, {})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--demo", action="store_true", help="run the demo instead of the tests")
    ap.add_argument("--kernel", help="another kernel's bzImage (with --kbuild, --modules)")
    ap.add_argument("--kbuild", help="its build or headers tree")
    ap.add_argument("--modules", help="its modules (/lib/modules/<release> or INSTALL_MOD_PATH)")
    ap.add_argument("--debian", action="store_true", help="Debian's prebuilt kernel")
    ap.add_argument("--debian-line", choices=["6.12", "6.1"], default="6.12",
                    help="its line (default 6.12)")
    ap.add_argument("--dkms", action="store_true",
                    help="with --debian: with sasscan-dkms installed (lab/debian-dkms.sh)")
    ap.add_argument("--profile", choices=["full", "reduced"], default="reduced",
                    help="matrix profile for --demo, --kernel and --debian")
    ap.add_argument("--configs", choices=["quick", "full"], default="quick",
                    help="make check: the series checks' steps and config matrices "
                    "(full: every step and configuration of every line, check-full)")
    ap.add_argument("--boots", type=int, default=int(os.environ.get("SASSCAN_BOOTS", "3")),
                    help="VMs at a time (default 3, SASSCAN_BOOTS)")
    a = ap.parse_args()
    if a.kernel or a.kbuild or a.modules:
        if not (a.kernel and a.kbuild and a.modules):
            ap.error("KERNEL, KBUILD and MODULES go together")
        return external(a)
    if a.debian:
        return external(a)
    if not a.demo:
        # make check runs every line; its bare variant names are the primary line's
        os.environ["SASSCAN_LINE"] = vm.LINE = PRIMARY
    return demo(a) if a.demo else check(a)


if __name__ == "__main__":
    sys.exit(main())
