# shellcheck shell=bash
# Shared settings for the lab scripts: where the cache lives, which source package
# is used, and how a variant name maps to its patch series.

set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP_DIR=$(cd "$LAB_DIR/.." && pwd)
CACHE=${SASSCAN_CACHE:-$HOME/.cache/sasscan}
# What depends on this checkout (the guest runner, out-of-tree modules,
# initramfs images) goes under WORK; kernel trees stay shared under CACHE.
# Two checkouts that boot at the same time set different SASSCAN_WORK.
WORK=${SASSCAN_WORK:-$CACHE}
# Kernel lines: a line is a Debian source package linux-source-<line>. The
# primary line (the fix series in patches/) comes first; the others carry
# backports in patches/linux-<line>.y/. Select one with SASSCAN_LINE (make LINE=).
LINES="7.3 6.12 6.1"
PRIMARY_LINE=7.3
LINE=${SASSCAN_LINE:-$PRIMARY_LINE}
case " $LINES " in
*" $LINE "*) ;;
*) echo "lab: unknown kernel line '$LINE' (SASSCAN_LINE/LINE=; known: $LINES)" >&2; exit 1 ;;
esac
SRC_PKG=linux-source-$LINE
# Where lab/deps.sh put the package when apt could not install it (its
# fallback: the .deb verified by apt's index, unpacked with dpkg-deb -x).
PKG_DIR=$CACHE/pkg/$SRC_PKG
# shellcheck disable=SC2034  # used by the scripts that source this file
# (It exists only while apt cannot install the version the lab wants.)
if [ -f "$PKG_DIR/version" ]; then
	SRC_TARBALL=$PKG_DIR/root/usr/src/$SRC_PKG.tar.xz
else
	SRC_TARBALL=/usr/src/$SRC_PKG.tar.xz
fi
JOBS=${JOBS:-$(($(nproc) + 1))}

# The Debian kernels sasscan-dkms carries: dkms/kernels.list without its
# comments, one "series ABI-name Debian-version flavour" per line.
listed_kernels() { awk '$1 !~ /^#/ && NF { print $1, $2, $3, $4 }' "$TOP_DIR/dkms/kernels.list"; }
# The release of line $1's listed kernel ("<ABI name>-<flavour>"), or nothing.
listed_kver() { listed_kernels | awk -v l="$1" '$1 == l { print $2 "-" $4; exit }'; }

die() { echo "lab: $*" >&2; exit 1; }
log() { echo "lab: $*" >&2; }

src_version() {
	cat "$PKG_DIR/version" 2>/dev/null ||
		dpkg-query -W -f '${Version}' "$SRC_PKG" 2>/dev/null ||
		die "$SRC_PKG is not installed (run: make deps)"
}

# The fix series of a line: patches/ on the primary line, else the backport
# in patches/linux-<line>.y/.
line_series_dir() {
	if [ "$LINE" = "$PRIMARY_LINE" ]; then
		echo "$TOP_DIR/patches"
	else
		echo "$TOP_DIR/patches/linux-$LINE.y"
	fi
}

# The lines a model variant exists on: lab/variants/<name>/lines (one word
# per line); a variant without that file exists on every line.
variant_lines() {
	local f=$LAB_DIR/variants/$1/lines
	if [ -f "$f" ]; then grep -o '[0-9][0-9.]*' "$f" | tr '\n' ' '; else echo "$LINES"; fi
}

# The line's fix series alone (patches/ or patches/linux-<line>.y/), in
# application order; 0000-cover-letter.patch is mail, not a change.
line_series() {
	[ -d "$(line_series_dir)" ] || die "no series for line $LINE ($(line_series_dir) missing)"
	find "$(line_series_dir)" -maxdepth 1 -name '*.patch' ! -name '0000-*' | LC_ALL=C sort
}

# The patch series of a variant, one file per line, in application order.
# stock: none; fixed: the line's series, then the lab's hook tests if the
# line has them; any other name: lab/variants/<name>/, refused on a line it
# does not exist on.
variant_series() {
	local v=$1 dir
	if [ -n "${SASSCAN_SERIES_DIR:-}" ]; then	# lab/series-check.sh steps
		find "$SASSCAN_SERIES_DIR" -maxdepth 1 -name '*.patch' ! -name '0000-*' | LC_ALL=C sort
		return 0
	fi
	case $v in
	stock) return 0 ;;
	fixed)
		line_series
		if [ -d "$(hook_tests_dir)" ]; then
			find "$(hook_tests_dir)" -maxdepth 1 -name '*.patch' | LC_ALL=C sort
		fi
		return 0
		;;
	*)
		dir=$LAB_DIR/variants/$v
		[ -d "$dir" ] || die "unknown variant '$v' (no $dir)"
		case " $(variant_lines "$v") " in
		*" $LINE "*) ;;
		*) die "variant '$v' exists only on line(s) $(variant_lines "$v")(it models an upstream state of those kernels); this is line $LINE (SASSCAN_LINE/LINE=)" ;;
		esac
		;;
	esac
	[ -d "$dir" ] || die "no series for variant '$v' on line $LINE ($dir missing)"
	find "$dir" -maxdepth 1 -name '*.patch' | LC_ALL=C sort
}

# The lab's KUnit suites of the real driver hooks for this line (applied
# after the series in the fixed variant only; not part of the series).
hook_tests_dir() { echo "$LAB_DIR/hook-tests/$LINE"; }

# Hash of a variant's series: names and contents, so renames count too.
series_hash() {
	local f list
	list=$(variant_series "$1") || exit 1
	{
		for f in $list; do
			basename "$f"
			cat "$f"
		done
	} | sha256sum | cut -c1-16
}

# Build trees: $CACHE/build/<line>/<variant>; outputs that depend on the
# checkout: $WORK/build/<line>/<variant>.
build_dir() { echo "$CACHE/build/$LINE/$1"; }
work_dir() { echo "$WORK/build/$LINE/$1"; }

# Trees of the single-line layout ($CACHE/build/<variant>, all 6.12) move
# once to build/6.12/<variant>, with mv, so they stay warm.
migrate_layout() {
	local d v
	[ -d "$CACHE/build" ] || return 0
	for d in "$CACHE/build"/*/build-info; do
		if [ ! -f "$d" ] || [ -L "$(dirname "$d")" ]; then continue; fi
		d=$(dirname "$d")
		v=$(basename "$d")
		grep -q "6\.12" "$d/build-info" || continue
		[ -e "$CACHE/build/6.12/$v" ] && continue
		mkdir -p "$CACHE/build/6.12"
		log "moving $d to build/6.12/$v (per-line layout)"
		mv "$d" "$CACHE/build/6.12/$v" || continue
		# a checkout from before the lines still finds its trees
		ln -sfn "6.12/$v" "$CACHE/build/$v"
	done
}
migrate_layout

# Pack folder ROOT into a gzipped initramfs OUT with the kernel tree's
# gen_init_cpio GEN, adding the console and serial device nodes (which a
# plain cpio of ROOT could only hold if made as root with mknod).
pack_initramfs() {
	local gen=$1 root=$2 out=$3 p
	{
		echo "nod /dev/console 0600 0 0 c 5 1"
		echo "nod /dev/ttyS0 0600 0 0 c 4 64"
		echo "nod /dev/ttyS1 0600 0 0 c 4 65"
		(cd "$root" && find . -mindepth 1 | LC_ALL=C sort) | while read -r p; do
			p=${p#./}
			if [ -L "$root/$p" ]; then
				echo "slink /$p $(readlink "$root/$p") 0777 0 0"
			elif [ -d "$root/$p" ]; then
				echo "dir /$p 0755 0 0"
			else
				echo "file /$p $root/$p $(stat -c %a "$root/$p") 0 0"
			fi
		done
	} >"$out.list"
	"$gen" "$out.list" | gzip -1 >"$out.tmp"
	mv "$out.tmp" "$out"
}

# A fresh guest root in ROOT: the folders, busybox (its applets are
# installed at boot), the guest runner INIT as /DEST, and install_tools.
guest_root() {
	local root=$1 init=$2 dest=$3
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc,lib/modules}
	cp "$init" "$root/$dest"
	cp /bin/busybox "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	install_tools "$root"
}

# The real clients and their needs into initramfs folder ROOT: lsscsi,
# sg3_utils (with rescan-scsi-bus.sh) and bash with their shared libraries,
# plus what rescan-scsi-bus.sh needs beyond busybox: /bin/bash (its
# interpreter line), GNU find (it lists targets with -printf, which busybox
# lacks; at /bin/find the runner's `busybox --install -s` leaves it alone)
# and pr (it formats INQUIRY data with it). rescan-scsi-bus-patched.sh is
# the script with patches/sg3_utils applied.
install_tools() {
	local root=$1 t p
	local tools="/usr/bin/lsscsi /bin/bash /usr/bin/pr"
	for t in sg_inq sg_luns sg_readcap sg_turs sg_rdac sg_vpd rescan-scsi-bus.sh; do
		p=$(command -v "$t" 2>/dev/null) && tools="$tools $p"
	done
	for t in $tools "$(command -v find)"; do
		case $t in
		*/find) install -D "$t" "$root/bin/find" ;;
		*) install -D "$t" "$root/usr/bin/$(basename "$t")" ;;
		esac
		if [ "$(head -c4 "$t" | tail -c3)" = ELF ]; then
			ldd "$t" 2>/dev/null | grep -o '/[^ ]*' | while read -r p; do
				install -D "$p" "$root$p"
			done
		fi
	done
	ln -sf /usr/bin/bash "$root/bin/bash"
	# the script with this project's fixes (patches/sg3_utils), beside it
	p=$root/usr/bin/rescan-scsi-bus-patched.sh
	if [ -f "$root/usr/bin/rescan-scsi-bus.sh" ]; then
		cp "$root/usr/bin/rescan-scsi-bus.sh" "$p"
		for t in "$TOP_DIR"/patches/sg3_utils/*.patch; do
			patch -s --no-backup-if-mismatch "$p" <"$t" >/dev/null ||
				{ log "sg3_utils: $(basename "$t") does not apply"; rm -f "$p"; break; }
		done
	fi
}
