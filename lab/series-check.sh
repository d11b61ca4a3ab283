#!/usr/bin/env bash
# Check the fix series the way a maintainer would take it: every patch must
# apply with `git am` to a git repository made from Debian's linux-source-6.12
# tree, and the kernel must build (bzImage + modules, including the touched
# HBA drivers) after every single patch. Step N's tree is kept as variant
# "series-N" so the lab can boot it (lab/check.py does).
#
#   lab/series-check.sh            -> prints "ok N <patch>" per step
. "$(dirname "$0")/common.sh"

debver=$(src_version)
pristine=$CACHE/src/$debver/$SRC_PKG
repo=$CACHE/git/$debver
mapfile -t series < <(variant_series fixed)
[ ${#series[@]} -gt 0 ] || die "patches/ is empty"

# A step is checked once: its result is kept under the hash of the patches up
# to it, the configuration and the lab scripts that build and boot it, so a
# change to patch N checks steps N.. again and reuses the ones before. The
# guest's sources count too: they are what the step's boot runs.
tools=$(cat "$LAB_DIR"/config/*.config "$LAB_DIR/kernel.sh" "$LAB_DIR/modules.sh" \
	"$LAB_DIR/initramfs.sh" "$LAB_DIR/vm.py" "$0" "$TOP_DIR"/guest/*.[ch] |
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
	[ -f "$pristine/.sasscan-unpacked" ] || "$LAB_DIR/kernel.sh" stock
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
fail=0
for p in "${series[@]}"; do
	n=$((n + 1))
	if ! git -C "$repo" am -q "$p"; then
		git -C "$repo" am --abort >/dev/null 2>&1 || true
		echo "not ok $n $(basename "$p") # git am failed"
		exit 1
	fi
done
log "all ${#series[@]} patches apply with git am"

# 3. Build after each patch, incrementally in one build tree ("series"):
#    kernel.sh rewrites only the files the next patch changes. A step gets
#    the fixed variant's config fragment once the series has added every
#    option the fragment sets.
steps=$CACHE/series-steps
n=0
for p in "${series[@]}"; do
	n=$((n + 1))
	stamp=$stamps/step-$(step_key $n).tap
	if [ -f "$stamp" ]; then
		log "step $n/${#series[@]}: $(basename "$p") checked on $(date -r "$stamp" -u +%FT%TZ)"
		cat "$stamp"
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
	log "step $n/${#series[@]}: $(basename "$p") (config: $cfg)"
	if ! SASSCAN_SERIES_DIR=$steps SASSCAN_CONFIG_VARIANT=$cfg \
		"$LAB_DIR/kernel.sh" series >"$CACHE/series-$n.log" 2>&1; then
		echo "not ok $n $(basename "$p") # build failed, see $CACHE/series-$n.log"
		fail=1
		continue
	fi
	# ...and boots: scsi_debug rescans (and the first patch's rejection of
	# truncated channel/id values), the core KUnit suites, and the series'
	# own suite once it is configured.
	cases=lab_sdebug_scan_wildcard,lab_kunit_scsi_lib,fix_sdebug_scan_truncated
	[ $cfg = fixed ] && cases=$cases,fix_kunit_sas_user_scan
	if "$LAB_DIR/modules.sh" series >>"$CACHE/series-$n.log" 2>&1 &&
		"$LAB_DIR/initramfs.sh" series >>"$CACHE/series-$n.log" 2>&1 &&
		python3 "$LAB_DIR/vm.py" --variant series --cases "$cases" --timeout 300 \
			--name "series-$n" --results "$TOP_DIR/out/series" \
			>>"$CACHE/series-$n.log" 2>&1; then
		mkdir -p "$stamps"
		echo "ok $n $(basename "$p") builds and boots ($cases)" | tee "$stamp"
	else
		echo "not ok $n $(basename "$p") # boot failed, see $CACHE/series-$n.log"
		fail=1
	fi
done
rm -rf "$steps"
exit $fail
