#!/bin/bash
# The fast tier (make test): no VM, no kernel build, a few minutes at most.
#
#   1. unit tests of the lab's judges (vm.parse, matrix.verdict,
#      reliability.failures/judge, the bench analysis) on saved real logs
#      in lab/testdata/ (lab/tests/, stdlib unittest);
#   2. shellcheck on every lab and DKMS shell script;
#   3. checkpatch.pl --strict on vsas/ (kernel code) and guest/ (userspace);
#   4. the guest built with -Werror, and its ASan/UBSan build and unit test
#      when guest/Makefile has a `sanitize` target.
#
# Prints TAP (one line per test, unit test, script or source file); exits
# non-zero if any line is "not ok". Stages: FAST_TEST_STAGES="unit shellcheck
# checkpatch guest" (default: all).
#
# checkpatch.pl comes from the Debian source tree the kernel builds unpack
# (${SASSCAN_CACHE:-~/.cache/sasscan}/src/*/linux-source-7.3, the primary line); without it,
# the three files checkpatch needs are extracted from
# /usr/src/linux-source-7.3.tar.xz into $CACHE/checkpatch/ once (~10-30 s).
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${SASSCAN_CACHE:-$HOME/.cache/sasscan}
SRC_PKG=linux-source-7.3
TARBALL=/usr/src/$SRC_PKG.tar.xz
STAGES=${FAST_TEST_STAGES:-unit shellcheck checkpatch guest}
START=$(date +%s.%N)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sasscan-fast.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
cd "$TOP" || exit 2

n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n $*"; }
not_ok() {	# NAME [WHY]
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n $1${2:+ # $2}"
}
skip() { n=$((n + 1)); echo "ok $n $1 # SKIP $2"; }
diag() { sed 's/^/#   /'; }
elapsed() { echo "$(date +%s.%N) $1" | awk '{ printf "%.1f", $1 - $2 }'; }
want() { case " $STAGES " in *" $1 "*) return 0 ;; esac; return 1; }

echo "TAP version 13"
echo "# sasscan fast tier: $STAGES"

# 1. Unit tests ------------------------------------------------------------
if want unit; then
	t0=$(date +%s.%N)
	python3 "$TOP/lab/tests/run_tap.py" --start $((n + 1)) >"$TMP/unit.tap" 2>"$TMP/unit.err"
	rc=$?
	cat "$TMP/unit.tap"
	u_ok=$(grep -c '^ok ' "$TMP/unit.tap")
	u_bad=$(grep -c '^not ok ' "$TMP/unit.tap")
	n=$((n + u_ok + u_bad))
	failed=$((failed + u_bad))
	if [ "$rc" -ne 0 ] && [ "$u_bad" -eq 0 ]; then
		# the runner itself broke (no test reported as failed)
		not_ok "unit/runner" "lab/tests/run_tap.py exit $rc"
		diag <"$TMP/unit.err"
	fi
	echo "# unit tests: $(elapsed "$t0") s"
fi

# 2. shellcheck --------------------------------------------------------------
# -x -P SCRIPTDIR: follow `. "$(dirname "$0")/common.sh"` like the scripts do.
if want shellcheck; then
	t0=$(date +%s.%N)
	if ! command -v shellcheck >/dev/null; then
		if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
			echo "# installing shellcheck"
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
				shellcheck >"$TMP/apt.log" 2>&1 || diag <"$TMP/apt.log"
		fi
	fi
	if ! command -v shellcheck >/dev/null; then
		not_ok "shellcheck" "not installed; run as root: apt-get install -y --no-install-recommends shellcheck"
	else
		echo "# $(shellcheck --version | sed -n 's/^version: /shellcheck /p')"
		while IFS= read -r f; do
			if shellcheck -x -P SCRIPTDIR -f gcc "$f" >"$TMP/sc.out" 2>&1; then
				ok "shellcheck/$f"
			else
				not_ok "shellcheck/$f" "$(grep -c . "$TMP/sc.out") finding(s)"
				diag <"$TMP/sc.out"
			fi
		done < <({ find lab -name '*.sh' -type f; find dkms -name '*.sh' -type f
			find dkms/scripts -type f; } | LC_ALL=C sort)
	fi
	echo "# shellcheck: $(elapsed "$t0") s"
fi

# 3. checkpatch --------------------------------------------------------------
# Checks of checkpatch.pl that do not apply to userspace code (guest/), each
# because it asks for a kernel-only facility:
#   PREFER_DEFINED_ATTRIBUTE_MACRO  __printf/__aligned/__noreturn: kernel macros
#   ARRAY_SIZE                      the kernel's ARRAY_SIZE(); libc has none
#   ARCH_DEFINES                    CONFIG_X86 etc.; userspace has only the
#                                   compiler's __x86_64__
#   VOLATILE                        C requires volatile sig_atomic_t for
#                                   signal-handler flags
#   PREFER_KERNEL_TYPES             u8/u32: kernel types; userspace uses stdint.h
#   SSCANF_TO_KSTRTO CONSIDER_KSTRTO  kstrto*(): kernel only
#   STRCPY STRLCPY STRNCPY          they suggest strscpy(): kernel only
#   PREFER_PR_LEVEL PRINTK_WITHOUT_KERN_LEVEL PREFER_DEV_LEVEL  printk only
#   USLEEP_RANGE MSLEEP             kernel timers
#   PREFER_FALLTHROUGH              the kernel's `fallthrough` macro
#   CAMELCASE                       seeded from the kernel's include/, which
#                                   guest code does not use (--no-tree)
USERSPACE_IGNORE=PREFER_DEFINED_ATTRIBUTE_MACRO,ARRAY_SIZE,ARCH_DEFINES,VOLATILE
USERSPACE_IGNORE+=,PREFER_KERNEL_TYPES,SSCANF_TO_KSTRTO,CONSIDER_KSTRTO,STRCPY,STRLCPY
USERSPACE_IGNORE+=,STRNCPY,PREFER_PR_LEVEL,PRINTK_WITHOUT_KERN_LEVEL,PREFER_DEV_LEVEL
USERSPACE_IGNORE+=,USLEEP_RANGE,MSLEEP,PREFER_FALLTHROUGH,CAMELCASE

# vsas is checked with the primary line's checkpatch (7.3) but must also build
# against the older lines (6.12 and Debian's 6.12 headers for DKMS), so the
# checks that ask for interfaces those lack are off for it:
#   ALLOC_WITH_SIZEOF               kzalloc_obj() and friends (not in 6.12)
KERNEL_IGNORE=ALLOC_WITH_SIZEOF

# unpacked_tree PKG: the tree of source package PKG under $CACHE/src that
# lab/kernel.sh has marked completely unpacked, if any
unpacked_tree() {
	local d t=
	for d in "$CACHE"/src/*/"$1"; do
		[ -f "$d/.sasscan-unpacked" ] && [ -f "$d/scripts/checkpatch.pl" ] && t=$d
	done
	echo "$t"
}

# run_checkpatch CHECKPATCH ARGS...: terse, typed findings, one per line
run_checkpatch() {
	local script=$1
	shift
	# checkpatch writes its CamelCase cache to the current folder
	(cd "$CP_CWD" && perl "$script" --strict --terse --show-types --no-summary --color=never "$@")
}

# checkpatch_files NAME-PREFIX FLAGS... -- FILES...: one TAP line per file
checkpatch_files() {
	local flags=() f
	while [ "$1" != -- ]; do flags+=("$1"); shift; done
	shift
	[ $# -gt 0 ] || return 0
	local rc=0
	run_checkpatch "$CHECKPATCH" "${flags[@]}" -f "$@" >"$TMP/cp.out" 2>"$TMP/cp.err" || rc=$?
	# exit 1: findings (listed below); anything else but 0: checkpatch failed
	if [ "$rc" -gt 1 ] || { [ "$rc" -eq 1 ] && ! grep -q "^$TOP/" "$TMP/cp.out"; }; then
		not_ok "checkpatch/run" "checkpatch.pl exit $rc on ${1#"$TOP"/}..."
		cat "$TMP/cp.out" "$TMP/cp.err" | diag
		return
	fi
	for f in "$@"; do
		grep -F "$f:" "$TMP/cp.out" >"$TMP/cp.file"
		if [ -s "$TMP/cp.file" ]; then
			not_ok "checkpatch/${f#"$TOP"/}" "$(grep -c . "$TMP/cp.file") finding(s)"
			sed "s|^$TOP/||" "$TMP/cp.file" | diag
		else
			ok "checkpatch/${f#"$TOP"/}"
		fi
	done
	# Perl's own warnings and anything else checkpatch printed
	cat "$TMP/cp.out" "$TMP/cp.err" | grep -v "^$TOP/" | diag
}

# The series as posted (patches/, the 7.3 line, with its cover letter) and
# its backports (patches/linux-<line>.y/), each with its own line's
# checkpatch where that tree is unpacked: no error and no check. Warnings are allowed only of the
# kinds the cover letter's "checkpatch --strict" section explains: commit ids
# unknown to a tree made from a tarball, the revert's title kept on one line,
# simple_strtoull() where the parser needs the end pointer, MAINTAINERS for
# new files under drivers/scsi/.
SERIES_WARNINGS_EXPLAINED="UNKNOWN_COMMIT_ID COMMIT_LOG_LONG_LINE CONSIDER_KSTRTO FILE_PATH_CHANGES"
checkpatch_series() {
	local dir line tree script p rc bad where stamp
	for dir in "$TOP"/patches "$TOP"/patches/linux-*.y; do
		line=${dir##*/linux-}
		line=${line%.y}
		[ "$dir" = "$TOP/patches" ] && line=7.3
		tree=$(unpacked_tree "linux-source-$line")
		if [ -n "$tree" ]; then
			script=$tree/scripts/checkpatch.pl where=(--root="$tree")
		elif [ "$line" = 7.3 ]; then
			# without the tree checkpatch cannot learn the kernel's own
			# names (Scsi_Host): CamelCase would only report those
			script=$CHECKPATCH where=(--no-tree --ignore CAMELCASE)
		else
			ok "checkpatch/${dir#"$TOP"/} # SKIP the $line tree is not unpacked (make prepare LINE=$line)"
			continue
		fi
		for p in "$dir"/[0-9][0-9][0-9][0-9]-*.patch; do
			# a clean result is kept under the hash of the patch and the checker
			stamp=$CP_CWD/series-$(cat "$p" "$script" <(echo "${where[*]}") | sha256sum | cut -c1-16)
			rc=0
			if [ -f "$stamp" ]; then
				cp "$stamp" "$TMP/cps.out"
			else
				run_checkpatch "$script" "${where[@]}" "$p" >"$TMP/cps.out" 2>&1 || rc=$?
			fi
			bad=$(grep -E ': (ERROR|CHECK|WARNING):' "$TMP/cps.out" |
				grep -vE ": WARNING:($(echo "$SERIES_WARNINGS_EXPLAINED" | tr ' ' '|')):" || true)
			if [ "$rc" -gt 1 ] || [ -n "$bad" ]; then
				not_ok "checkpatch/${p#"$TOP"/}" "$(echo "$bad" | grep -c .) finding(s) the cover letter does not explain (exit $rc)"
				sed "s|^$TOP/||" "$TMP/cps.out" | diag
			else
				ok "checkpatch/${p#"$TOP"/} # $(grep -c ': WARNING:' "$TMP/cps.out") explained warning(s)"
				cp "$TMP/cps.out" "$stamp"
			fi
		done
	done
}

if want checkpatch; then
	t0=$(date +%s.%N)
	CHECKPATCH=""
	TREE=$(unpacked_tree "$SRC_PKG")
	[ -z "$TREE" ] || CHECKPATCH=$TREE/scripts/checkpatch.pl
	if [ -z "$CHECKPATCH" ] && [ -f "$TARBALL" ]; then
		cpdir=$CACHE/checkpatch/$(stat -c %Y "$TARBALL")
		if [ ! -f "$cpdir/scripts/checkpatch.pl" ]; then
			echo "# extracting checkpatch.pl from $TARBALL"
			mkdir -p "$cpdir.tmp"
			tar -xJf "$TARBALL" -C "$cpdir.tmp" --strip-components=1 \
				"$SRC_PKG"/scripts/checkpatch.pl \
				"$SRC_PKG"/scripts/spelling.txt \
				"$SRC_PKG"/scripts/const_structs.checkpatch &&
				rm -rf "$cpdir" && mv "$cpdir.tmp" "$cpdir"
		fi
		[ -f "$cpdir/scripts/checkpatch.pl" ] && CHECKPATCH=$cpdir/scripts/checkpatch.pl
	fi
	if [ -z "$CHECKPATCH" ]; then
		not_ok "checkpatch" "no checkpatch.pl: no unpacked tree under $CACHE/src and no $TARBALL (make deps)"
	else
		CP_CWD=$CACHE/checkpatch
		mkdir -p "$CP_CWD"
		echo "# checkpatch: ${TREE:+kernel tree }${TREE:-$CHECKPATCH}"
		mapfile -t kfiles < <(ls "$TOP"/vsas/*.c "$TOP"/vsas/*.h 2>/dev/null)
		mapfile -t ufiles < <(ls "$TOP"/guest/*.c "$TOP"/guest/*.h 2>/dev/null)
		if [ -n "$TREE" ]; then
			checkpatch_files --root="$TREE" --ignore "$KERNEL_IGNORE" -- "${kfiles[@]}"
		else
			# Without the tree checkpatch cannot learn the kernel's own names
			# (Scsi_Host): CamelCase would only report those.
			echo "# no kernel tree: vsas checked with --no-tree, CamelCase check off"
			checkpatch_files --no-tree --ignore "CAMELCASE,$KERNEL_IGNORE" -- "${kfiles[@]}"
		fi
		checkpatch_files --no-tree --ignore "$USERSPACE_IGNORE" -- "${ufiles[@]}"
		checkpatch_series
	fi
	echo "# checkpatch: $(elapsed "$t0") s"
fi

# 4. The guest ---------------------------------------------------------------
if want guest; then
	t0=$(date +%s.%N)
	mkdir -p "$TMP/guest"
	if make -s -C guest OUT="$TMP/guest" "$TMP/guest/init" >"$TMP/guest.log" 2>&1; then
		ok "guest/build_werror"
	else
		not_ok "guest/build_werror" "make -C guest OUT=dir dir/init failed"
		tail -n 40 "$TMP/guest.log" | diag
	fi
	if make -n -C guest sanitize OUT="$TMP/guest" >/dev/null 2>&1; then
		if make -s -C guest sanitize OUT="$TMP/guest" >"$TMP/san.log" 2>&1; then
			ok "guest/sanitize"
			grep '^# Totals' "$TMP/san.log" | diag
		else
			not_ok "guest/sanitize" "make -C guest sanitize failed"
			tail -n 40 "$TMP/san.log" | diag
		fi
	else
		skip "guest/sanitize" "no sanitize target"
	fi
	echo "# guest: $(elapsed "$t0") s"
fi

echo "1..$n"
echo "# fast tier took $(elapsed "$START") s"
echo "$((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
