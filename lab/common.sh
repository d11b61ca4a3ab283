# shellcheck shell=bash
# Shared settings for the lab scripts: where the cache lives, which source package
# is used, and how a variant name maps to its patch series.

set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP_DIR=$(cd "$LAB_DIR/.." && pwd)
CACHE=${SASSCAN_CACHE:-$HOME/.cache/sasscan}
SRC_PKG=linux-source-6.12
SRC_TARBALL=/usr/src/linux-source-6.12.tar.xz
JOBS=${JOBS:-$(($(nproc) + 1))}

die() { echo "lab: $*" >&2; exit 1; }
log() { echo "lab: $*" >&2; }

src_version() {
	dpkg-query -W -f '${Version}' "$SRC_PKG" 2>/dev/null ||
		die "$SRC_PKG is not installed (run: make deps)"
}

# The patch series of a variant, one file per line, in application order.
# stock: none; fixed: patches/; any other name: lab/variants/<name>/.
variant_series() {
	local v=$1 dir
	if [ -n "${SASSCAN_SERIES_DIR:-}" ]; then	# lab/series-check.sh steps
		find "$SASSCAN_SERIES_DIR" -maxdepth 1 -name '*.patch' | LC_ALL=C sort
		return 0
	fi
	case $v in
	stock) return 0 ;;
	fixed) dir=$TOP_DIR/patches ;;
	*) dir=$LAB_DIR/variants/$v ;;
	esac
	[ -d "$dir" ] || die "unknown variant '$v' (no $dir)"
	find "$dir" -maxdepth 1 -name '*.patch' | LC_ALL=C sort
}

# Hash of a variant's series: names and contents, so renames count too.
series_hash() {
	local f
	{
		for f in $(variant_series "$1"); do
			basename "$f"
			cat "$f"
		done
	} | sha256sum | cut -c1-16
}

build_dir() { echo "$CACHE/build/$1"; }
