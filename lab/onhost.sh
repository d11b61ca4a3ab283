#!/usr/bin/env bash
# Run sasscan's vsas cases (and optionally matrix cells) on a real test
# machine, without QEMU, against its running kernel and an installed vsas
# (vsas/dkms.conf) -- and never touch a SCSI host that is not a vsas host.
#
#   lab/onhost.sh --yes [--cases 'vsas_plain_*,vsas_smartpqi_*'] \
#                 [--matrix ROWS [--profile reduced|full]] [--module PATH/vsas.ko] [--out DIR]
#
# Safety:
#  - refuses to run without --yes and without root;
#  - refuses if vsas is loaded and already has configfs hosts (someone's
#    setup: the cases create, remove and unload their own);
#  - lists every SCSI host with its proc_name before it starts; hosts whose
#    proc_name does not start with "vsas_" are never written to: the runner
#    (lab/onhost/runner.c) checks every file the cases open and every shell
#    command they run, refuses anything that resolves to another host
#    (EPERM / exit 126) and fails that case; its first case, onhost_guard,
#    proves the refusal against this machine's real hosts;
#  - lab_* cases (scsi_debug, KUnit) are not built in.
# What the cases do besides: load/unload vsas, write /proc/sys/vm/drop_caches,
# create sd disks of vsas hosts (udev will see them come and go).
#
# Results go to DIR (default results/onhost/<date>): tap.log, console.log
# (the kernel log while the cases ran, `dmesg -W`), and the verdicts of
# lab/vm.py's judge (kernel splats between a case's markers fail it).
# Matrix cells on a stock kernel can leave a scan stuck forever (unbounded
# generic scans, isci's wedge): run --matrix only on a machine you can reboot.
. "$(dirname "$0")/common.sh"

yes=0 cases='vsas_*' rows='' profile=reduced module='' out=''
while [ $# -gt 0 ]; do
	case $1 in
	--yes) yes=1 ;;
	--cases) cases=$2; shift ;;
	--matrix) rows=$2; shift ;;
	--profile) profile=$2; shift ;;
	--module) module=$2; shift ;;
	--out) out=$2; shift ;;
	*) die "onhost: unknown argument $1 (see the comment at the top of $0)" ;;
	esac
	shift
done
[ "$yes" = 1 ] || die "onhost: this loads vsas and runs SCSI scans on THIS machine; pass --yes to agree"
[ "$(id -u)" = 0 ] || die "onhost: must run as root"
case $cases in
*lab_*) die "onhost: lab_* cases are not for a real machine" ;;
esac
[ "$(uname -m)" = x86_64 ] || log "onhost: not x86_64; untested"

out=${out:-$TOP_DIR/results/onhost/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"

# 1. The runner: the guest's cases with lab/onhost/runner.c instead of main.c.
bin=$CACHE/onhost/sasscan-onhost
mkdir -p "$(dirname "$bin")"
G=$TOP_DIR/guest
gcc -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -O2 -U_FORTIFY_SOURCE -I"$G" \
	-o "$bin" "$LAB_DIR/onhost/runner.c" "$G/runner.c" "$G/lib.c" "$G/vsas_util.c" \
	"$G"/cases_vsas*.c "$G/cases_matrix.c" \
	-Wl,--wrap=open,--wrap=fopen,--wrap=execl ||
	die "onhost: runner did not build"

# 2. The file systems the cases use.
mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug

# 3. vsas: refuse someone else's live setup, then load ours.
if [ -d /sys/module/vsas ]; then
	busy=$(find /sys/kernel/config/vsas -mindepth 1 -maxdepth 1 -type d 2>/dev/null | head -n1)
	[ -z "$busy" ] || die "onhost: vsas is loaded and has hosts ($busy); remove them first"
	modprobe -r vsas 2>/dev/null || rmmod vsas || die "onhost: cannot unload the loaded vsas"
fi
if [ -n "$module" ]; then
	modprobe -a scsi_transport_sas libsas configfs 2>/dev/null || true
	insmod "$module" || die "onhost: insmod $module failed"
	# the cases reload it by name; let modprobe find this one
	mkdir -p "/lib/modules/$(uname -r)/updates"
	ln -sf "$(realpath "$module")" "/lib/modules/$(uname -r)/updates/vsas.ko"
	depmod -a
else
	modprobe vsas || die "onhost: modprobe vsas failed (dkms install vsas, or --module)"
fi
echo "# kernel $(uname -r), vsas $(modinfo -F version vsas 2>/dev/null || echo '?') $(modinfo -n vsas)"
for h in /sys/class/scsi_host/host*; do
	[ -e "$h" ] || continue
	p=$(cat "$h/proc_name")
	case $p in
	vsas_*) echo "# $(basename "$h") $p: vsas, may be used" ;;
	*) echo "# $(basename "$h") $p: not vsas, will not be touched" ;;
	esac
done

# 4. Matrix cells, written where the runner's matrix case reads them.
sel=$cases
if [ -n "$rows" ]; then
	python3 - "$rows" "$profile" >"$out/matrix.txt" <<EOF
import sys
sys.path.insert(0, "$LAB_DIR")
import matrix
for c in matrix.cells(sys.argv[2], sys.argv[1].split(",")):
    print(c["line"])
EOF
	sel="$sel,matrix"
	export SASSCAN_MATRIX_FILE=$out/matrix.txt
fi

# 5. Run, with the kernel log of the run beside the TAP.
export SASSCAN_ONHOST_LOG=$out/refused.log
rm -f "$SASSCAN_ONHOST_LOG"
dmesg -W >"$out/console.log" 2>/dev/null &
dmesg_pid=$!
sleep 0.5
start=$(date +%s.%N)
set +e
"$bin" --yes "$sel" | tee "$out/tap.log"
set -e
sleep 1
kill "$dmesg_pid" 2>/dev/null || true
wait "$dmesg_pid" 2>/dev/null || true
elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')

# 6. Judge like a boot (vm.py --parse-only reads boot.json, tap.log, console.log).
python3 - "$out" "$elapsed" <<'EOF'
import json, os, platform, sys
out, elapsed = sys.argv[1], float(sys.argv[2])
json.dump({"name": "onhost", "cases": "", "timeout": 0, "timed_out": False,
           "elapsed_s": round(elapsed, 1), "variant": "onhost-" + platform.release(),
           "source": "running-kernel", "source_version": platform.release(),
           "series": "?", "config": "?"}, open(os.path.join(out, "boot.json"), "w"), indent=1)
EOF
set +e
python3 "$LAB_DIR/vm.py" --parse-only "$out" | tee "$out/verdicts.tap"
rc=${PIPESTATUS[0]}
set -e
if [ -n "$rows" ]; then
	python3 - "$out" <<EOF
import json, os, sys
sys.path.insert(0, "$LAB_DIR")
import matrix
out = sys.argv[1]
res = json.load(open(os.path.join(out, "result.json")))
rows = []
for d in res.get("diag", []):
    if d.startswith("MATRIX {"):
        rec = json.loads(d[len("MATRIX "):])
        rec["splats"] = res["cell_splats"].get(rec["cell"], [])
        rec["request_kind"] = "over" if "max_channel+1" in rec["cell"] else "normal"
        v, why = matrix.verdict(rec, rec["splats"])
        rows.append((rec["cell"], v, why or matrix.key_figure(rec)))
with open(os.path.join(out, "matrix.md"), "w") as f:
    f.write("| cell | verdict | |\n|---|---|---|\n")
    for r in rows:
        f.write("| %s | %s | %s |\n" % r)
print(open(os.path.join(out, "matrix.md")).read())
EOF
fi
if [ -s "$SASSCAN_ONHOST_LOG" ]; then
	echo "# REFUSED accesses (see $SASSCAN_ONHOST_LOG):"
	sed 's/^/#   /' "$SASSCAN_ONHOST_LOG"
	rc=1
fi
echo "# results: $out"
exit "$rc"
