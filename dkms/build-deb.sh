#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Build sasscan-dkms_<version>_all.deb from this checkout:
#
#   dkms/build-deb.sh OUTDIR
#
# Copies dkms/ into a scratch tree, puts into its series/linux-<line>.y/ the
# fix's backport patches named in dkms/series-from-fix followed by the
# package's own (dkms/patches/), and runs dpkg-buildpackage there. The build
# needs the packages of debian/control's Build-Depends (linux-source of the
# exact Debian versions in kernels.list, debhelper, dh-dkms).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
out=${1:?usage: dkms/build-deb.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

tree=$work/sasscan-dkms
mkdir -p "$tree"
(cd "$here" && cp -a Makefile Kbuild kernels.list dkms.conf.in scripts debian "$tree/")
nums=$(grep -v '^#' "$here/series-from-fix")
for d in "$here"/patches/linux-*.y; do
	line=$(basename "$d")
	mkdir -p "$tree/series/$line"
	for n in $nums; do
		set -- "$top/patches/$line/$n"-*.patch
		[ -f "$1" ] || { echo "build-deb: no patch $n in patches/$line" >&2; exit 1; }
		cp "$1" "$tree/series/$line/"
	done
	cp "$d"/*.patch "$tree/series/$line/"
done
(cd "$tree" && dpkg-buildpackage -us -uc -b) >"$out/dpkg-buildpackage.log" 2>&1 || {
	tail -n 30 "$out/dpkg-buildpackage.log" >&2
	exit 1
}
mv "$work"/sasscan-dkms_*_all.deb "$out/"
ls "$out"/sasscan-dkms_*_all.deb
