#!/usr/bin/env bash
# The 0-day build bot's view of one kernel line's fix series: every patch of
# the series must build in every configuration of the matrix, and must add
# no W=1 or sparse warning to the objects it touches.
#
#   lab/config-matrix.sh [--configs check|quick|full] [--steps all|last] [--list] [LINE]
#   (LINE: SASSCAN_LINE, default 7.3; --list: print the configurations' names and stop)
#
# Configurations (name: SAS transport and libsas, PM, KUnit itself):
#   check (make check):      sas-m_pm-n_kunit-m, the one the lab kernels are
#                            not (they are sas-y_pm-y_kunit-y, built and
#                            booted by make check)
#   quick:                   sas-y_pm-y_kunit-y  sas-m_pm-n_kunit-m
#   full  (make check-full): all eight combinations of y/m, y/n, y/m.
# Steps: all (default) builds every patch in turn; last builds the pristine
# tree and the whole series, and compares W=1 and sparse between the two on
# the .c files any patch touches (make check).
# The series' KUnit options are switched on wherever their Kconfig allows:
# built in (sas-y, kunit-y), in the transport module (sas-m, kunit-y or -m),
# and left out where they cannot link (sas-y, kunit-m).
# quick covers every value of every option at least once; check, with the
# lab kernels make check builds, does too.
#
# The kernel is small: tinyconfig + lab/config/matrix.config (PCI, SCSI, the
# SAS transport, libsas, mpt3sas/mpi3mr/smartpqi/hpsa as modules, KUnit; no
# KASAN, no lockdep). One tree per (line, configuration) under
# $CACHE/build/<line>/cm-<config>, built by lab/kernel.sh: the base build of
# the pristine tree once, then per step only what the step's patch changes
# (kernel.sh rewrites only changed files; Kbuild recompiles those, relinks
# and runs modpost). W=1 and sparse (C=2) run on the objects built from the
# .c files a patch touches, before and after it; a warning that is new after
# the patch (compared without line numbers) fails the check. W=1 and sparse
# run on the first configuration only in check and quick mode, on every one
# in full.
#
# Each (step, configuration) result is cached under the hash of the patches
# up to it, the configuration and the scripts, like the series check.
# Prints TAP lines: one per (step, configuration) build and per W=1 / sparse
# check; exit 0 only if all pass.
configs_mode=quick
steps=all
list=0
while [ $# -gt 0 ]; do
	case $1 in
	--configs) configs_mode=${2:?--configs check|quick|full}; shift 2 ;;
	--steps) steps=${2:?--steps all|last}; shift 2 ;;
	--list) list=1; shift ;;
	-*) echo "usage: lab/config-matrix.sh [--configs check|quick|full] [--steps all|last] [--list] [LINE]" >&2
		exit 2 ;;
	*) export SASSCAN_LINE=$1; shift ;;
	esac
done
. "$(dirname "$0")/common.sh"

case $steps in all | last) ;; *) die "--steps all|last, not '$steps'" ;; esac
case $configs_mode in
check) configs=(sas-m_pm-n_kunit-m) ;;
quick) configs=(sas-y_pm-y_kunit-y sas-m_pm-n_kunit-m) ;;
full) configs=(sas-y_pm-y_kunit-y sas-y_pm-n_kunit-y sas-y_pm-y_kunit-m sas-y_pm-n_kunit-m
	sas-m_pm-y_kunit-y sas-m_pm-n_kunit-y sas-m_pm-y_kunit-m sas-m_pm-n_kunit-m) ;;
*) die "--configs check|quick|full, not '$configs_mode'" ;;
esac
if [ $list = 1 ]; then
	printf '%s\n' "${configs[@]}"
	exit 0
fi

debver=$(src_version)
mapfile -t series < <(line_series)
[ ${#series[@]} -gt 0 ] || die "$(line_series_dir) holds no patches"
total=${#series[@]}
tools=$(cat "$LAB_DIR/config/matrix.config" "$LAB_DIR/config/variant-fixed.config" \
	"$LAB_DIR/kernel.sh" "$0" | sha256sum | cut -c1-16)
stamps=$CACHE/config-matrix/$debver
logs=$stamps/logs
frags=$stamps/frags
mkdir -p "$logs" "$frags"

# The series' KUnit options (lab/config/variant-fixed.config); each exists
# only from the patch that adds it.
mapfile -t kunit_syms < <(sed -n 's/^CONFIG_\([A-Z0-9_]*\)=.*/\1/p' "$LAB_DIR/config/variant-fixed.config")

# fragment CONFIG N: the fragment file of CONFIG at step N (0: pristine).
# "kunit-y"/"kunit-m" is CONFIG_KUNIT. A test option is asked for wherever
# its Kconfig allows it: always with KUnit built in, and with KUnit a module
# only when the code it is built into is a module too.
fragment() {
	local c=$1 n=$2 sas pm kunit f sym host base on=()
	sas=${c#sas-}; sas=${sas%%_*}
	pm=${c#*_pm-}; pm=${pm%%_*}
	kunit=${c##*_kunit-}
	base=$(
		cat "$LAB_DIR/config/matrix.config"
		echo "CONFIG_KUNIT=$kunit"
		echo "CONFIG_SCSI_SAS_ATTRS=$sas"
		echo "CONFIG_SCSI_SAS_LIBSAS=$sas"
		if [ "$pm" = y ]; then echo "CONFIG_PM=y"; else echo "# CONFIG_PM is not set"; fi
	)
	for sym in "${kunit_syms[@]}"; do
		host=$(kunit_host "$sym" "$n") || continue
		# the host's value in this configuration: the last line that sets it
		[ "$kunit" = y ] || [ "$(grep "^CONFIG_$host=" <<<"$base" | tail -n1)" = "CONFIG_$host=m" ] &&
			on+=("$sym")
	done
	f=$frags/$c-$(echo "${on[*]:-none}" | sha256sum | cut -c1-8).config
	{
		echo "$base"
		for sym in "${on[@]}"; do echo "CONFIG_$sym=y"; done
	} >"$f"
	echo "$f"
}

# kunit_host SYM N: the option whose module SYM's tests are built into (its
# Kconfig's "depends on KUNIT=y || <HOST>=m"), if patches 1..N add SYM.
kunit_host() {
	local q
	for q in "${series[@]:0:$2}"; do
		grep -qx "+config $1" "$q" || continue
		sed -n "/^+config $1\$/,/^+\$/s/^+[[:space:]]*depends on KUNIT=y || \([A-Z0-9_]*\)=m\$/\1/p" "$q" |
			grep . && return 0
	done
	return 1
}

key_of() {	# key_of CONFIG N
	{
		echo "$tools $1"
		for q in "${series[@]:0:$2}"; do
			basename "$q"
			cat "$q"
		done
	} | sha256sum | cut -c1-16
}

# build CONFIG N: the configuration's tree at step N (patches 1..N).
build() {
	local c=$1 n=$2 d=$stamps/steps-$1
	rm -rf "$d"
	mkdir -p "$d"
	for q in "${series[@]:0:$n}"; do
		ln -s "$q" "$d/$(basename "$q")"
	done
	SASSCAN_SERIES_DIR=$d SASSCAN_SEED=none SASSCAN_CONFIG_FRAGS=$(fragment "$c" "$n") \
		"$LAB_DIR/kernel.sh" "cm-$c"
	rm -rf "$d"
}

# touched A B: the .c files patches A+1..B change.
touched() {
	sed -n 's|^+++ b/\(.*\.c\)$|\1|p' "${series[@]:$1:$(($2 - $1))}" | LC_ALL=C sort -u
}

# checker SRC: sparse, or lab/sparse-compat where SRC's checker-valid.sh
# refuses the installed sparse (7.3 with Debian 12's 0.6.4).
checker() {
	if [ ! -f "$1/scripts/checker-valid.sh" ] ||
		[ "$(sh "$1/scripts/checker-valid.sh" sparse 2>/dev/null)" = 1 ]; then
		echo sparse
	else
		echo "$LAB_DIR/sparse-compat"
	fi
}

# warnings CONFIG A B OUT: W=1 + sparse on the objects of the files patches
# A+1..B touch that the tree (as it is now) builds; gcc's (they name a -W
# option) to OUT.w1, sparse's to OUT.sparse, without line and column numbers.
warnings() {
	local c=$1 a=$2 n=$3 out=$4 B f objs=()
	B=$(build_dir "cm-$c")
	for f in $(touched "$a" "$n"); do
		[ -f "$B/obj/${f%.c}.o" ] && objs+=("${f%.c}.o")
	done
	: >"$out.all"
	if [ ${#objs[@]} -gt 0 ]; then
		make -s -C "$B/src" O="$B/src/obj" ARCH=x86_64 CC="ccache gcc" W=1 C=2 \
			CHECK="$(checker "$B/src")" -j"$JOBS" "${objs[@]}" >/dev/null 2>"$out.all" || true
	fi
	# compiler and sparse: "file:line:col: warning: ..."; W=1's kernel-doc
	# pass: "Warning: file:line ..."
	grep -E '(warning|error):|^Warning:' "$out.all" |
		sed -E 's/:[0-9]+:[0-9]+:/:/; s/:[0-9]+([: ])/\1/; s|\.\./||g' >"$out.norm" || true
	grep -E '\[-W[^]]*\]$|^Warning:' "$out.norm" | LC_ALL=C sort -u >"$out.w1" || true
	grep -vE '\[-W[^]]*\]$|^Warning:' "$out.norm" | LC_ALL=C sort -u >"$out.sparse" || true
	echo "${objs[*]}"
}

# emit < LINES: print "ok - ..." / "not ok - ..." lines numbered.
k=0
emit() {
	local l
	while IFS= read -r l; do
		k=$((k + 1))
		case $l in
		"not ok - "*) echo "not ok $k ${l#not ok - }" ;;
		*) echo "ok $k ${l#ok - }" ;;
		esac
	done
}

export CCACHE_DIR=$CACHE/ccache
fail=0
for c in "${configs[@]}"; do
	lint=0
	[ "$configs_mode" = full ] || [ "$c" = "${configs[0]}" ] && lint=1
	if [ "$steps" = last ]; then todo="0 $total"; else todo=$(seq 0 "$total"); fi
	for n in $todo; do
		if [ "$n" = 0 ]; then step=base; else step=$(basename "${series[$((n - 1))]}" .patch); fi
		# the tree the warnings are compared with: the step before, or
		# the pristine tree when only the last step is built
		prev=$((n - 1))
		[ "$steps" = all ] || prev=0
		name="$LINE/$c/$step"
		stamp=$stamps/$c-$(key_of "$c" "$n")-$lint-$prev.tap
		if [ -f "$stamp" ]; then
			emit <"$stamp"
			continue
		fi
		steplog=$logs/$c-$n.log
		res=()
		if [ "$n" -gt 0 ] && [ $lint = 1 ]; then
			# the tree before the patch(es), for the warnings it already has
			if ! build "$c" "$prev" >"$steplog" 2>&1; then
				emit <<<"not ok - $name # the tree before this step does not build, see $steplog"
				fail=1
				continue
			fi
			warnings "$c" "$prev" "$n" "$logs/$c-$n.before" >/dev/null
		fi
		t0=$(date +%s)
		if ! build "$c" "$n" >>"$steplog" 2>&1; then
			emit <<<"not ok - $name # build failed, see $steplog"
			fail=1
			continue
		fi
		res+=("ok - $name builds ($(($(date +%s) - t0)) s)")
		if [ "$n" -gt 0 ] && [ $lint = 1 ]; then
			tobjs=$(warnings "$c" "$prev" "$n" "$logs/$c-$n.after")
			for kind in w1 sparse; do
				new=$(LC_ALL=C comm -13 "$logs/$c-$n.before.$kind" "$logs/$c-$n.after.$kind")
				label=W=1
				[ $kind = w1 ] || label="sparse ($(basename "$(checker "$(build_dir "cm-$c")/src")"))"
				if [ -z "$tobjs" ]; then
					res+=("ok - $name/$kind # SKIP no touched object in this configuration")
				elif [ $kind = sparse ] && grep -q 'specified, but .* is not available or not up to date' \
					"$logs/$c-$n.after.all"; then
					res+=("not ok - $name/$kind # $label is not accepted by this kernel's scripts/checker-valid.sh")
				elif [ -z "$new" ]; then
					res+=("ok - $name/$kind no new $label warnings ($tobjs)")
				else
					echo "$new" >"$logs/$c-$n.new.$kind"
					res+=("not ok - $name/$kind # $(echo "$new" | wc -l) new $label warnings: $(echo "$new" | head -n3 | tr '\n' ' ')")
				fi
			done
		fi
		emit < <(printf '%s\n' "${res[@]}")
		if printf '%s\n' "${res[@]}" | grep -q '^not ok'; then
			fail=1
		else
			printf '%s\n' "${res[@]}" >"$stamp"
		fi
	done
done
exit $fail
