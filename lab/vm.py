#!/usr/bin/env python3
"""Boot one lab kernel variant in QEMU, run guest cases, judge the results.

A boot's verdicts come from three sources:
  * the guest's TAP, read from the second serial port (a clean copy);
  * the kernel log on the console, where the guest's "sasscan: begin/end"
    markers tie every kernel splat to the case during which it appeared;
  * the boot's fate: a boot that exceeds its time limit, or that ends before
    the guest reports every planned case, fails the cases it did not finish.

Runs under KVM when /dev/kvm opens read-write and the CPU has vmx or svm,
else TCG; SASSCAN_ACCEL=kvm|tcg forces one.

Usage: lab/vm.py --variant stock --cases 'lab_*' [--timeout S] [--name N]
       (the kernel line is SASSCAN_LINE, default 7.3; a variant may name its
       own: --variant fixed@6.12)
       lab/vm.py --parse-only out/<run>/<name>   (re-judge stored logs)
Exit status: 0 if every case passed, 1 otherwise.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from records import CaseResult  # noqa: E402

LAB = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(LAB)
# Local runs write here (not committed); results/ holds the committed
# showcase runs and is written only when a caller names it.
OUT = os.path.join(TOP, "out")
CACHE = os.environ.get("SASSCAN_CACHE", os.path.expanduser("~/.cache/sasscan"))
# per-checkout outputs (initramfs images); see lab/common.sh
WORK = os.environ.get("SASSCAN_WORK", CACHE)
# Kernel lines (lab/common.sh): trees live in build/<line>/<variant>.
LINES = ["7.3", "6.12", "6.1"]
PRIMARY_LINE = LINES[0]
LINE = os.environ.get("SASSCAN_LINE") or PRIMARY_LINE


def split_variant(variant):
    """"fixed@6.12" -> ("fixed", "6.12"); a bare name is on SASSCAN_LINE."""
    name, _, line = variant.partition("@")
    line = line or LINE
    if line not in LINES:
        raise ValueError("unknown kernel line %r in variant %r (known: %s)" % (
            line, variant, ", ".join(LINES)))
    return name, line


def qualified(variant, line):
    """The variant name vm.boot() takes for @variant on @line."""
    return variant if line == LINE and "@" not in variant else "%s@%s" % (variant, line)


def variant_dir(variant, root=None):
    """The build folder of a (possibly line-qualified) variant under root
    (CACHE: the kernel tree; WORK: the initramfs)."""
    name, line = split_variant(variant)
    return os.path.join(root or CACHE, "build", line, name)

# Kernel log lines that make the case they appear in fail.
SPLATS = [
    ("lockdep", re.compile(r"WARNING: (possible|inconsistent|suspicious|bad unlock|held lock)|"
                           r"INFO: trying to register non-static key|BUG: lock held|"
                           r"WARNING: .*locking")),
    ("kasan", re.compile(r"BUG: KASAN|KASAN: ")),
    ("hung_task", re.compile(r"INFO: task .* blocked for more than")),
    ("soft_lockup", re.compile(r"BUG: soft lockup|watchdog: BUG:")),
    ("rcu_stall", re.compile(r"rcu: INFO: .*stall|self-detected stall")),
    ("atomic_sleep", re.compile(r"BUG: sleeping function called|BUG: scheduling while atomic")),
    ("oops", re.compile(r"Oops|general protection fault|BUG: unable to handle|"
                        r"Kernel panic|kernel BUG at")),
    ("ubsan", re.compile(r"UBSAN: ")),
    ("warning", re.compile(r"WARNING: ")),
    ("bug", re.compile(r"BUG: ")),
]
KLINE = re.compile(r"^\[\s*\d+\.\d+\]\s?(.*)$")
MARK = re.compile(r"sasscan: (begin|end) (\d+) (\S+)")
CELL = re.compile(r"sasscan: cell (begin|end) (\S+)")
RESULT = re.compile(r"^(not )?ok (\d+) (\S+)(?:\s+#\s*(.*))?$")


def classify(msg):
    for kind, rx in SPLATS:
        if rx.search(msg):
            return kind
    return None


def build_info(variant):
    path = os.path.join(variant_dir(variant), "build-info")
    info = {"variant": variant, "line": split_variant(variant)[1]}
    try:
        with open(path) as f:
            first = f.readline().strip()
            for tok in first.split(" "):
                if "=" in tok:
                    k, v = tok.split("=", 1)
                    info[k] = v
            # "source=linux-source-6.12 6.12.117-1~deb12u1": the version is the bare token
            bare = [t for t in first.split(" ") if "=" not in t]
            if bare:
                info["source_version"] = bare[0]
            for line in f:
                if "=" in line and " " not in line.strip():
                    k, v = line.strip().split("=", 1)
                    info[k] = v
    except OSError:
        pass
    return info


def read_tap(tap):
    """The guest's TAP: (plan, {number: CaseResult})."""
    plan = None
    cases = {}
    pending = []    # nested KTAP / diagnostics before the next result line
    for line in tap:
        line = line.rstrip("\r")
        if re.match(r"^1\.\.\d+$", line):
            plan = int(line[3:])
            continue
        m = RESULT.match(line)
        if m:
            n = int(m.group(2))
            directive = m.group(4) or ""
            ok = m.group(1) is None
            xfail = ok and directive.upper().startswith("XFAIL")
            nested = [l.strip() for l in pending if l.startswith("    ")]
            if xfail:
                why = [directive[5:].strip()]
            else:
                why = [] if ok else [directive or "guest check failed"]
            cases[n] = CaseResult(
                number=n, name=m.group(3), guest_ok=ok,
                skip=directive.upper().startswith("SKIP"), xfail=xfail, why=why,
                diag=[l[2:] for l in pending if l.startswith("# ")],
                subtests={"passed": sum(1 for l in nested if RESULT.match(l) and l.startswith("ok ")),
                          "failed": sum(1 for l in nested if l.startswith("not ok "))})
            pending = []
        elif line.startswith("# ") or line.startswith("    "):
            pending.append(line)
    return plan, cases


def read_console(console, cases):
    """The kernel log: each splat goes to the case (by the guest's markers)
    and the matrix cell it appeared in. Adds cases that began but have no
    TAP result; returns (cell splats, {number: name begun}, splats outside
    any case)."""
    current = cell = None
    cell_splats, begun, boot_splats = {}, {}, []
    for raw in console:
        m = KLINE.match(raw.rstrip("\r"))
        if not m:
            continue
        msg = m.group(1)
        mc = CELL.search(msg)
        if mc:
            cell = mc.group(2) if mc.group(1) == "begin" else None
            if cell:
                cell_splats.setdefault(cell, [])
            continue
        kind = classify(msg)
        if cell is not None and kind:
            cell_splats[cell].append({"kind": kind, "line": msg.strip()[:200]})
        mk = MARK.search(msg)
        if mk:
            current = int(mk.group(2)) if mk.group(1) == "begin" else None
            if current is not None:
                begun[current] = mk.group(3)
            continue
        if not kind:
            continue
        entry = {"kind": kind, "line": msg.strip()[:200]}
        if current is not None:
            cases.setdefault(current, CaseResult(current, begun.get(current, "?")))
            cases[current].splats.append(entry)
        else:
            boot_splats.append(entry)
    return cell_splats, begun, boot_splats


def splat_why(splats):
    return ["kernel splat (%s): %s" % (s["kind"], s["line"]) for s in splats]


def judge_cases(cases, plan, begun, boot_splats, meta):
    """Verdicts: a case passes if the guest passed it and the kernel log
    shows nothing during it; the boot's fate fails what did not finish."""
    timed_out = meta.get("timed_out", False)
    results = []
    for n in sorted(cases):
        c = cases[n]
        c.ok = c.guest_ok and not c.splats
        if not c.guest_ok and not c.why:
            c.why.append("no result from the guest" + (
                " (boot timed out during this case)" if timed_out else ""))
        c.why += splat_why(c.splats)
        results.append(c)
    if plan is None:
        results.append(CaseResult(len(results) + 1, "boot", splats=boot_splats, why=[
            "no TAP plan from the guest" + (" (boot timed out)" if timed_out else "")]))
    else:
        results += [CaseResult(n, begun.get(n, "case_%d" % n), why=[
            "not run: boot " + ("timed out" if timed_out else "ended early")])
            for n in range(1, plan + 1) if n not in cases]
    if boot_splats:
        results.append(CaseResult(len(results) + 1, "kernel_log_outside_cases",
                                  splats=boot_splats, why=splat_why(boot_splats)))
    if timed_out and all(r.ok for r in results):
        results.append(CaseResult(len(results) + 1, "boot_time_limit", why=[
            "boot exceeded its %d s limit" % meta["timeout"]]))
    return results


def read_lines(path):
    with open(path, errors="replace") as f:
        return f.read().splitlines()


def parse(outdir):
    """Judge a boot from the logs in outdir; returns the result dict (also
    written to outdir/result.json)."""
    with open(os.path.join(outdir, "boot.json")) as f:
        meta = json.load(f)
    tap, console = (read_lines(os.path.join(outdir, n)) for n in ("tap.log", "console.log"))
    plan, cases = read_tap(tap)
    cell_splats, begun, boot_splats = read_console(console, cases)
    results = [r.to_dict() for r in judge_cases(cases, plan, begun, boot_splats, meta)]
    res = dict(meta)
    res["plan"] = plan
    res["results"] = results
    res["cell_splats"] = cell_splats
    res["diag"] = [l[2:] for l in tap if l.startswith("# ")]
    res["passed"] = sum(1 for r in results if r["ok"])
    res["failed"] = sum(1 for r in results if not r["ok"])
    with open(os.path.join(outdir, "result.json"), "w") as f:
        json.dump(res, f, indent=1)
    return res


def add_files(bdir, initrd, files, outdir):
    """initrd plus a second cpio with files {guest path: text}; the kernel
    unpacks concatenated archives in order."""
    gen = os.path.join(bdir, "obj", "usr", "gen_init_cpio")
    lines, dirs = [], set()
    for i, (gpath, text) in enumerate(sorted(files.items())):
        parts = gpath.strip("/").split("/")[:-1]
        for k in range(1, len(parts) + 1):
            d = "/" + "/".join(parts[:k])
            if d not in dirs:
                dirs.add(d)
                lines.append("dir %s 0755 0 0" % d)
        local = os.path.join(outdir, "extra-%d" % i)
        with open(local, "w") as f:
            f.write(text)
        lines.append("file %s %s 0644 0 0" % (gpath, local))
    listf = os.path.join(outdir, "extra.list")
    with open(listf, "w") as f:
        f.write("\n".join(lines) + "\n")
    extra = subprocess.run([gen, listf], check=True, stdout=subprocess.PIPE).stdout
    out = os.path.join(outdir, "initrd.cpio")
    with open(out, "wb") as f:
        f.write(subprocess.run(["gzip", "-dc", initrd], check=True,
                               stdout=subprocess.PIPE).stdout)
        f.write(extra)
    return out


def accel():
    """"kvm" if KVM can run guests here, else "tcg"; SASSCAN_ACCEL forces one.

    KVM needs /dev/kvm open read-write and the CPU's virtualisation
    extensions (vmx or svm in /proc/cpuinfo): a /dev/kvm without them, as
    some sandboxes have, creates VMs that never print a line."""
    forced = os.environ.get("SASSCAN_ACCEL", "")
    if forced in ("kvm", "tcg"):
        return forced
    if forced:
        sys.exit("vm: SASSCAN_ACCEL=%s: use kvm or tcg" % forced)
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
        with open("/proc/cpuinfo") as f:
            flags = set(f.read().split())
    except OSError:
        return "tcg"
    return "kvm" if flags & {"vmx", "svm"} else "tcg"


def qemu_cmd(kernel, initrd, append, memory, outdir, acc):
    return (["qemu-system-x86_64", "-machine", "pc", "-accel", acc] +
            (["-cpu", "host"] if acc == "kvm" else []) +
            ["-smp", "2", "-m", str(memory), "-nodefaults", "-display", "none", "-no-reboot",
             "-kernel", kernel, "-initrd", initrd, "-append", append,
             "-serial", "file:" + os.path.join(outdir, "console.log"),
             "-serial", "file:" + os.path.join(outdir, "tap.log")])


def wait(proc, tap, timeout, idle_timeout, meta):
    """Wait for QEMU to end, at most @timeout s, or until the guest's TAP
    has not grown for @idle_timeout s; a boot cut short is timed out."""
    start = time.monotonic()
    size, grew = -1, start
    meta["timed_out"] = True
    while time.monotonic() - start < timeout:
        try:
            proc.wait(timeout=min(5, max(0.1, timeout - (time.monotonic() - start))))
            meta["timed_out"] = False
            break
        except subprocess.TimeoutExpired:
            pass
        now_size = os.path.getsize(tap) if os.path.exists(tap) else 0
        if now_size != size:
            size, grew = now_size, time.monotonic()
        elif idle_timeout and time.monotonic() - grew > idle_timeout:
            meta["idle_timeout"] = idle_timeout
            break
    if meta["timed_out"]:
        proc.kill()
        proc.wait()
    meta["elapsed_s"] = round(time.monotonic() - start, 1)
    meta["qemu_rc"] = proc.returncode


def boot(variant, cases, name, timeout=600, hung_task_secs=60, results_dir=None,
         extra_append="", memory=2048, files=None, idle_timeout=None):
    """Boot variant with the selected cases; returns parse()'s result.
    results_dir: default OUT/latest.
    files: {guest path: text} added to the initramfs for this boot.
    idle_timeout: also end the boot (as timed out) once the guest's TAP
    output has not grown for that many seconds."""
    bdir = variant_dir(variant)
    kernel = os.path.join(bdir, "obj", "arch", "x86", "boot", "bzImage")
    initrd = os.path.join(variant_dir(variant, WORK), "initramfs.cpio.gz")
    for p in (kernel, initrd):
        if not os.path.exists(p):
            sys.exit("vm: %s missing (make prepare VARIANT=%s LINE=%s)" % (
                p, *split_variant(variant)))
    outdir = os.path.join(results_dir or os.path.join(OUT, "latest"), name)
    os.makedirs(outdir, exist_ok=True)
    for stale in ("console.log", "tap.log"):
        if os.path.exists(os.path.join(outdir, stale)):
            os.unlink(os.path.join(outdir, stale))
    if files:
        initrd = add_files(bdir, initrd, files, outdir)
    # no_timer_check: under TCG on a loaded host the kernel's check of the
    # IO-APIC timer can miss its ticks and panic ("IO-APIC + timer doesn't
    # work"); the emulated timer is known good
    append = ("console=ttyS0 loglevel=7 panic=-1 printk.devkmsg=on no_timer_check "
              "sysctl.kernel.hung_task_timeout_secs=%d sasscan.cases=%s %s"
              % (hung_task_secs, cases, extra_append)).strip()
    acc = accel()
    cmd = qemu_cmd(kernel, initrd, append, memory, outdir, acc)
    meta = {"name": name, "cases": cases, "timeout": timeout, "hung_task_secs": hung_task_secs,
            "append": append, "accel": acc, "qemu": " ".join(cmd)}
    meta.update(build_info(variant))
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    wait(proc, os.path.join(outdir, "tap.log"), timeout, idle_timeout, meta)
    with open(os.path.join(outdir, "boot.json"), "w") as f:
        json.dump(meta, f, indent=1)
    return parse(outdir)


def tap_lines(res, prefix="", start=1):
    """TAP lines for a judged boot (test names prefixed by the boot name)."""
    out = []
    for i, r in enumerate(res["results"], start):
        name = prefix + r["name"]
        if r["ok"] and r.get("xfail"):
            out.append("ok %d %s # XFAIL %s" % (i, name, "; ".join(r["why"])[:400]))
        elif r["ok"]:
            out.append("ok %d %s%s" % (i, name, " # SKIP" if r.get("skip") else ""))
        else:
            out.append("not ok %d %s # %s" % (i, name, "; ".join(r["why"])[:400]))
    return out


def header(res):
    # boots recorded before the accelerator was all TCG
    return ("# boot %s: source %s %s, variant %s, series %s, config %s, %s, %.1f s%s" % (
        res["name"], res.get("source", "?"), res.get("source_version", "?"),
        split_variant(res.get("variant", "?"))[0] if res.get("variant") else None,
        res.get("series", "?"), res.get("config", "?"), res.get("accel", "tcg"),
        res.get("elapsed_s", 0), ", TIMED OUT" if res.get("timed_out") else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", default="stock")
    ap.add_argument("--cases", default="lab_*")
    ap.add_argument("--name")
    ap.add_argument("--timeout", type=int, default=600, help="per-boot limit, seconds")
    ap.add_argument("--hung-task-secs", type=int, default=60)
    ap.add_argument("--results", help="results folder (default out/latest)")
    ap.add_argument("--append", default="", help="extra kernel command line")
    ap.add_argument("--parse-only", metavar="DIR", help="re-judge a stored boot")
    a = ap.parse_args()
    if a.parse_only:
        res = parse(a.parse_only)
    else:
        res = boot(a.variant, a.cases, a.name or a.variant, a.timeout, a.hung_task_secs,
                   a.results, a.append)
    print("TAP version 13")
    print("1..%d" % len(res["results"]))
    print(header(res))
    for line in tap_lines(res):
        print(line)
    print("%d passed, %d failed" % (res["passed"], res["failed"]))
    return 0 if res["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
