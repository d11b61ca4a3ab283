"""The benchmark's plan and boots: cells (personality x size per variant),
their topologies, and the boots that run them until every (cell, run) has
records (docs/bench.md)."""
import glob
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import personalities  # noqa: E402
import vm  # noqa: E402
from records import BenchCell  # noqa: E402

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


ALL_RUNS = ["def"] + MAXID_RUNS + ["knew"]
# Per profile and variant: sizes (LUs), timed rescans per run, k-new
# repetitions, runs, personalities (None: all). Sized for the VM time the
# 2-CPU lab machine has: 1024-LU topologies only on fixed (a create costs
# 1-2 min of TCG time). fixed gets 30 nothing-new repetitions: its max_id
# settings are compared rescan by rescan, and TCG scatters single rescans
# by tens of percent. make check's reduced profile asserts command counts,
# which do not scatter, so 4 repetitions do.
PROFILES = {
    "full": {
        "fixed": dict(sizes=[8, 64, 256, 1024], reps=30, kreps=10, runs=ALL_RUNS),
        "stock": dict(sizes=[8, 64, 256], reps=10, kreps=10, runs=ALL_RUNS),
        "multichannel": dict(sizes=[8, 64, 256], reps=10, kreps=2, runs=ALL_RUNS),
        "scanstart": dict(sizes=[8, 64], reps=10, kreps=10, runs=ALL_RUNS),
    },
    "reduced": {
        "fixed": dict(sizes=[8, 32], reps=4, kreps=1, runs=["def", "4294967295", "knew"]),
        "multichannel": dict(sizes=[8], reps=1, kreps=1, runs=["def"], rows=["smartpqi"]),
    },
}
K_NEW = 8


def slots(pers):
    """The MAX_TARGETS target slots of a personality, interleaved by channel."""
    chans = list(personalities.get(pers).channels)
    per = {}
    if chans == [0]:
        # half on host PHYs, half behind the expander (libsas: 8 expander PHYs)
        per[0] = ["0", "0e"] * (MAX_TARGETS // 2)
    else:
        n = len(chans)
        for i, c in enumerate(chans):
            count = MAX_TARGETS // n + (1 if i < MAX_TARGETS % n else 0)
            per[c] = ["0"] * count if c == 0 else ["%d:%d" % (c, j) for j in range(count)]
    out = []
    while any(per.values()):
        for c in chans:
            if per[c]:
                out.append(per[c].pop(0))
    return out


def topology(pers, devices):
    """(topology string, targets) for @devices LUs, or None if vsas/the driver caps it."""
    targets = min(devices, MAX_TARGETS)
    luns = devices // targets
    p = personalities.get(pers)
    if targets * luns != devices or luns > min(MAX_LUNS, p.max_lun):
        return None
    if p.lun0_only and luns > 1:	# its volumes and NVMe devices are LUN 0 only
        return None
    return ",".join("%s/%d" % (s, luns) for s in slots(pers)[:targets]), targets


def cells(profile, variants, rows=None, sizes=None):
    """The BenchCells of a profile (optionally only these rows and sizes)."""
    out = []
    for v in variants:
        prof = PROFILES[profile].get(v)
        if not prof:
            continue
        for pers in rows or personalities.base_rows():
            if prof.get("rows") and pers not in prof["rows"]:
                continue
            want = sizes or prof["sizes"]
            cap = MAX_TARGETS * min(MAX_LUNS, personalities.get(pers).max_lun)
            if any(n > cap for n in want) and cap not in want:
                # the largest topology the driver allows stands in
                want = sorted(set(want) | {cap})
            for n in want:
                cid = "%s/%s/%d" % (v, pers, n)
                t = topology(pers, n)
                if not t:
                    out.append(BenchCell(id=cid, variant=v, pers=pers, devices=n, capped=True))
                    continue
                out.append(BenchCell(id=cid, variant=v, pers=pers, devices=n, topo=t[0],
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


def pending(vcells, recs, done, unbounded):
    """[(cell, runs left)]; a run known to be unbounded or stuck at a smaller
    size of the personality is recorded as skipped instead."""
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
    return todo


def take_records(res, name, recs, done, unbounded):
    """File a boot's records; returns the last one (None: no progress)."""
    last = None
    for r in boot_records(res, name):
        cid = r["cell"]
        if cid not in recs:
            continue
        recs[cid].append(r)
        last = r
        if r.get("error"):
            done[cid].add("create-failed")
        elif r.get("run") != "create":
            done[cid].add(r["run"])
            if r.get("unbounded"):
                skip_later(unbounded, cid, r["run"], "unbounded at %s" % cid)
    return last


def mark_stuck(res, name, todo, last, recs, done, unbounded):
    """A rescan never returned and the guest could not even report it (a
    soft lockup starves its sampler): the run in flight is the first one the
    guest had left in its order (bench_runs())."""
    c = next(c for c, _ in todo if c["id"] == last["cell"])
    left = [r for r in c["runs"] if r not in done[c["id"]]]
    why = "stuck at %s: no record, boot %s timed out after %d s (console: %s)" % (
        c["id"], name, res.get("elapsed_s", 0), console_kinds(res, c["id"]))
    if last.get("run") == "create" and left:
        run = in_flight(left, last["max_id"])
        recs[c["id"]].append({"cell": c["id"], "run": run, "stuck": why})
        done[c["id"]].add(run)
        skip_later(unbounded, c["id"], run, why)
        return
    # after some repetitions: which run hung is not known
    for run in left:
        recs[c["id"]].append({"cell": c["id"], "run": run, "stuck": why +
                              ", after %s rep %s" % (last.get("run"), last.get("rep"))})
        done[c["id"]].add(run)


def mark_no_record(res, name, todo, recs, done):
    """Not even the first cell's create was reported: every cell of this
    boot is marked, so the loop ends instead of booting again."""
    first = todo[0][0]["id"]
    why = "no record: boot %s %s after %d s in %s (console: %s)" % (
        name, "timed out" if res.get("timed_out") else "ended",
        res.get("elapsed_s", 0), first, console_kinds(res, first))
    for c, _ in todo:
        recs[c["id"]].append({"cell": c["id"], "error": why})
        done[c["id"]].add("create-failed")


def run_variant(variant, vcells, outdir):
    """Boot until every (cell, run) has records; returns {cell id: [records]}."""
    recs = {c["id"]: [] for c in vcells}
    done = {c["id"]: set() for c in vcells}
    unbounded = {}        # (pers, run) -> "unbounded|stuck at <cell id>"
    boots = []
    while True:
        todo = pending(vcells, recs, done, unbounded)
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
        boots.append(boot_entry(name, res))
        last = take_records(res, name, recs, done, unbounded)
        if last and res.get("timed_out"):
            mark_stuck(res, name, todo, last, recs, done, unbounded)
        if not last:
            mark_no_record(res, name, todo, recs, done)
    return dict(records=recs, boots=boots)


def boot_entry(name, res):
    """What the reports keep of a boot."""
    return dict(name=name, elapsed_s=res.get("elapsed_s", 0),
                timed_out=res.get("timed_out", False), accel=res.get("accel", "tcg"))


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
            boots.append(boot_entry(name, res))
        return dict(records=recs, boots=boots)
    with open(raw) as f:
        saved = json.load(f)
    if "records" in saved:
        return saved
    boots = []
    for path in glob.glob(os.path.join(outdir, "bench-%s-*" % variant, "boot.json")):
        with open(path) as f:
            b = json.load(f)
        boots.append(boot_entry(b["name"], b))
    return dict(records=saved, boots=boots)


def merge_records(saved):
    """Several runs of one variant (each on other personalities) as one."""
    out = dict(records={}, boots=[])
    for s in saved:
        for cid, recs in s["records"].items():
            if recs:
                out["records"][cid] = recs
        out["boots"] += s["boots"]
    return out
