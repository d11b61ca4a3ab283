#!/usr/bin/env bash
# Check one kernel line's fix series the way a maintainer would take it:
# every patch must apply with `git am` to a git repository made from the
# line's Debian tree (linux-source-<line>), and the kernel must build
# (bzImage + modules, including the touched HBA drivers) and boot after
# every single patch.
#
#   lab/series-check.sh [--steps all|last|none] [LINE]     (LINE: SASSCAN_LINE, default 7.3)
#
# The series is the line's `fixed` series (lab/common.sh: patches/ on 7.3,
# patches/linux-<line>.y/ on the others). Steps 1..N-1 build incrementally in
# the line's "series" tree (the first one seeded from stock's objects); the
# last step is the line's `fixed` tree itself, so the fixed kernel is built
# once for both. --steps last (SASSCAN_SERIES_STEPS=last) still applies every
# patch with git am but builds and boots only the last step; steps checked
# before are reported from their cache, the others as SKIP. --steps none
# applies every patch with git am and builds nothing (cached steps are still
# reported).
#
# Boots: 7.3 and 6.12 run the scsi_debug scan case, the first patch's
# fix_sdebug_scan_truncated, the scsi_lib KUnit suite and, once the series has
# added it, the sas_user_scan suite; 6.1 (no scsi_lib suite, no vsas) the
# scsi_debug cases and the series' KUnit suite.
#
# Prints "ok N <patch> ..." per step (TAP lines); exit 0 only if all pass.
steps_mode=${SASSCAN_SERIES_STEPS:-all}
while [ $# -gt 0 ]; do
	case $1 in
	--steps) steps_mode=${2:?--steps all|last|none}; shift 2 ;;
	-*) echo "usage: lab/series-check.sh [--steps all|last|none] [LINE]" >&2; exit 2 ;;
	*) export SASSCAN_LINE=$1; shift ;;
	esac
done
. "$(dirname "$0")/common.sh"
case $steps_mode in all | last | none) ;; *) die "--steps all|last|none, not '$steps_mode'" ;; esac

debver=$(src_version)
pristine=$CACHE/src/$debver/$SRC_PKG
repo=$CACHE/git/$debver
mapfile -t series < <(line_series)
[ ${#series[@]} -gt 0 ] || die "$(line_series_dir) holds no patches"

# A step is checked once: its result is kept under the hash of the patches up
# to it, the configuration and the lab scripts that build and boot it, so a
# change to patch N checks steps N.. again and reuses the ones before. The
# guest's runner and the cases a step boots (lab_*, fix_*) count too; the
# matrix, vsas and reliability cases do not run here.
tools=$(cat "$LAB_DIR"/config/*.config "$LAB_DIR/kernel.sh" "$LAB_DIR/modules.sh" \
	"$LAB_DIR/initramfs.sh" "$LAB_DIR/vm.py" "$0" "$TOP_DIR"/guest/{guest.h,lib.c,main.c,runner.c,cases_lab.c,Makefile} |
	sha256sum | cut -c1-16)
stamps=$CACHE/series-check/$debver
step_key() {	# step_key N: the hash of the first N patches and the tools
	{
		echo "$tools"
		for q in "${series[@]:0:$1}"; do
			basename "$q"
			cat "$q"
		done
	} | sha256sum | cut -c1-16
}

# 1. A git repository of the pristine tree, made once per package version.
if [ ! -f "$repo/.sasscan-base" ]; then
	if [ ! -f "$pristine/.sasscan-unpacked" ]; then	# as lab/kernel.sh does
		log "unpacking $SRC_TARBALL ($debver)"
		rm -rf "$CACHE/src/$debver"
		mkdir -p "$CACHE/src/$debver"
		tar -C "$CACHE/src/$debver" -xf "$SRC_TARBALL"
		touch "$pristine/.sasscan-unpacked"
	fi
	log "making a git repository of $SRC_PKG $debver (once)"
	rm -rf "$repo"
	mkdir -p "$repo"
	rsync -a --exclude=/.sasscan-unpacked "$pristine/" "$repo/"
	git -C "$repo" init -q
	git -C "$repo" config core.compression 0
	git -C "$repo" config user.name "sasscan lab"
	git -C "$repo" config user.email "sasscan@localhost"
	git -C "$repo" add -A -f	# Debian's .gitignore ignores the top level
	git -C "$repo" commit -q -m "$SRC_PKG $debver"
	git -C "$repo" rev-parse HEAD >"$repo/.sasscan-base"
fi
base=$(cat "$repo/.sasscan-base")

# 2. git am the whole series onto a fresh branch.
git -C "$repo" am --abort >/dev/null 2>&1 || true
git -C "$repo" checkout -q -f -B series-check "$base"
n=0
for p in "${series[@]}"; do
	n=$((n + 1))
	if ! git -C "$repo" am -q "$p"; then
		git -C "$repo" am --abort >/dev/null 2>&1 || true
		echo "not ok $n $(basename "$p") # git am failed on $SRC_PKG $debver"
		exit 1
	fi
done
log "all ${#series[@]} patches apply with git am to $SRC_PKG $debver"

# 3. Build and boot after each patch. A step gets the fixed variant's config
#    fragment once the series has added every option the fragment sets.
steps=$CACHE/series-steps/$LINE
logs=$stamps/logs
mkdir -p "$logs"
cases_of() {	# cases_of CFG
	local c=lab_sdebug_scan_wildcard,fix_sdebug_scan_truncated
	[ "$LINE" = 6.1 ] || c=$c,lab_kunit_scsi_lib
	[ "$1" = fixed ] && c=$c,fix_kunit_sas_user_scan,fix_kunit_scsi_sysfs_scan,fix_kunit_scsi_proc_hctl
	echo "$c"
}
n=0
fail=0
total=${#series[@]}
for p in "${series[@]}"; do
	n=$((n + 1))
	name=$(basename "$p")
	stamp=$stamps/step-$(step_key $n).tap
	if [ -f "$stamp" ]; then
		log "step $n/$total: $name checked on $(date -r "$stamp" -u +%FT%TZ)"
		cat "$stamp"
		continue
	fi
	if [ "$steps_mode" = last ] && [ $n -lt "$total" ]; then
		echo "ok $n $name # SKIP applies with git am; built and booted at the last step only (--steps last)"
		continue
	fi
	if [ "$steps_mode" = none ]; then
		echo "ok $n $name # SKIP applies with git am; not built (--steps none)"
		continue
	fi
	rm -rf "$steps"
	mkdir -p "$steps"
	for q in "${series[@]:0:$n}"; do
		ln -s "$q" "$steps/$(basename "$q")"
	done
	cfg=fixed
	while read -r sym; do
		grep -qx "+config $sym" "$steps"/*.patch || cfg=none
	done < <(sed -n 's/^CONFIG_\([A-Z0-9_]*\)=.*/\1/p' "$LAB_DIR/config/variant-fixed.config")
	# The last step is the fixed variant (same patches, same fragments).
	tree=series
	[ $n = "$total" ] && [ $cfg = fixed ] && tree=fixed
	steplog=$logs/step-$n.log
	log "step $n/$total: $name (tree: $tree, config: $cfg)"
	if [ $tree = fixed ]; then
		# a fixed tree not built yet starts from the previous step's objects
		built() {
			if [ -f "$(build_dir series)/build-info" ]; then
				SASSCAN_SEED=series "$LAB_DIR/kernel.sh" fixed
			else
				"$LAB_DIR/kernel.sh" fixed
			fi
		}
	else
		built() {
			SASSCAN_SERIES_DIR=$steps SASSCAN_CONFIG_VARIANT=$cfg "$LAB_DIR/kernel.sh" series
		}
	fi
	if ! built >"$steplog" 2>&1; then
		echo "not ok $n $name # build failed on $SRC_PKG $debver, see $steplog"
		fail=1
		continue
	fi
	# ...and boots. vsas is not part of a step's boot (6.1 cannot build it).
	cases=$(cases_of $cfg)
	if { [ "$LINE" = 6.1 ] || "$LAB_DIR/modules.sh" $tree >>"$steplog" 2>&1; } &&
		"$LAB_DIR/initramfs.sh" $tree >>"$steplog" 2>&1 &&
		python3 "$LAB_DIR/vm.py" --variant $tree --cases "$cases" --timeout 300 \
			--name "$LINE-step-$n" --results "$TOP_DIR/out/series" \
			>>"$steplog" 2>&1; then
		mkdir -p "$stamps"
		echo "ok $n $name builds and boots on $LINE ($cases)" | tee "$stamp"
	else
		echo "not ok $n $name # boot failed on $SRC_PKG $debver, see $steplog"
		fail=1
	fi
done
rm -rf "$steps"
exit $fail
