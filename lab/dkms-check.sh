#!/usr/bin/env bash
# Does vsas install the way out-of-tree modules install? `dkms add` + `dkms
# build` of vsas/ (with vsas/dkms.conf) against Debian's
# linux-headers-<kver> of the 6.12 kernel in dkms/kernels.list, as a temporary registration that is
# removed again (`dkms remove --all`, the /usr/src copy deleted), so the
# machine's DKMS state is what it was before.
#
#   lab/dkms-check.sh [KVER]     (root; KVER e.g. 6.12.117+deb12-amd64)
#
# Prints TAP; exits 0 only if the build succeeded. A passing build is
# remembered under the hash of the vsas sources, dkms.conf, this script and
# the headers package version, so a second run with nothing changed only
# checks the packages.
#
# Installing linux-headers-<kver> also installs linux-image-<kver> (the
# headers package depends on the image), as on any Debian machine.
. "$(dirname "$0")/common.sh"

[ "$(id -u)" = 0 ] || die "dkms-check: run as root (installs dkms and linux-headers)"

# Default: the 6.12 kernel dkms/kernels.list names, the one Debian ships
# and the lab tests (lab/debian-kernel.sh). Not the archive's newest
# headers: those can be of a kernel Debian has not signed yet, and
# installing them made apt upgrade linux-source-6.12 past the version
# sasscan-dkms is built from (a fresh machine, 2026-12-02).
kver=${1:-$(listed_kver 6.12)}
[ -n "$kver" ] || die "dkms-check: dkms/kernels.list names no 6.12 kernel"
hdr=linux-headers-$kver
name=dkms_build_vsas_$kver
# The registration is temporary and under its own version, so a vsas a user
# installed with dkms (version 0.1) is never touched.
ver=0.0-sasscan-check
src=/usr/src/vsas-$ver

echo "TAP version 13"
echo "1..1"

need=
dpkg-query -W -f '${Status}' dkms 2>/dev/null | grep -q 'ok installed' || need="dkms"
dpkg-query -W -f '${Status}' "$hdr" 2>/dev/null | grep -q 'ok installed' || need="$need $hdr"
if [ -n "$need" ]; then
	echo "# installing:$need"
	# shellcheck disable=SC2086
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need \
		>"${TMPDIR:-/tmp}/dkms-check-apt.log" 2>&1; then
		sed 's/^/# /' "${TMPDIR:-/tmp}/dkms-check-apt.log" | tail -n 20
		echo "not ok 1 $name # apt-get install$need failed"
		exit 1
	fi
fi
hver=$(dpkg-query -W -f '${Version}' "$hdr")
echo "# dkms $(dpkg-query -W -f '${Version}' dkms), $hdr $hver"

files=$(cd "$TOP_DIR/vsas" && printf "%s\n" dkms.conf Kbuild Makefile *.c *.h | LC_ALL=C sort)
key=$({
	echo "$kver $hver"
	cat "$0"
	for f in $files; do
		echo "$f"
		cat "$TOP_DIR/vsas/$f"
	done
} | sha256sum | cut -c1-16)
stamp=$CACHE/debian/dkms/ok-$key
if [ -f "$stamp" ]; then
	echo "ok 1 $name # passed before with these sources ($(head -n1 "$stamp"))"
	exit 0
fi

cleanup() {
	dkms remove -m vsas -v "$ver" --all >/dev/null 2>&1 || true
	rm -rf "$src" "/var/lib/dkms/vsas/$ver"
	rmdir /var/lib/dkms/vsas 2>/dev/null || true
}
trap cleanup EXIT
cleanup

# Only the sources: a developer's in-tree build leaves objects in vsas/.
mkdir -p "$src"
for f in $files; do
	cp "$TOP_DIR/vsas/$f" "$src/$f"
done
sed -i "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$ver\"/" "$src/dkms.conf"

start=$(date +%s)
fail=
if ! dkms add -m vsas -v "$ver" >"${TMPDIR:-/tmp}/dkms-check.log" 2>&1; then
	fail="dkms add failed"
elif ! dkms build -m vsas -v "$ver" -k "$kver" >>"${TMPDIR:-/tmp}/dkms-check.log" 2>&1; then
	fail="dkms build failed"
fi
ko=$(find "/var/lib/dkms/vsas/$ver/$kver" -name 'vsas.ko*' 2>/dev/null | head -n1)
if [ -z "$fail" ] && [ -z "$ko" ]; then
	fail="dkms build left no vsas.ko"
fi
if [ -z "$fail" ]; then
	vermagic=$(modinfo -F vermagic "$ko")
	case $vermagic in
	"$kver "*) ;;
	*) fail="vermagic '$vermagic' is not for $kver" ;;
	esac
fi
secs=$(($(date +%s) - start))
if [ -n "$fail" ]; then
	sed 's/^/# /' "${TMPDIR:-/tmp}/dkms-check.log" | tail -n 30
	log=/var/lib/dkms/vsas/$ver/build/make.log
	[ -f "$log" ] && sed 's/^/# make.log: /' "$log" | tail -n 30
	echo "not ok 1 $name # $fail"
	exit 1
fi
echo "# built $(basename "$ko") in ${secs}s, vermagic: $vermagic"
mkdir -p "$(dirname "$stamp")"
echo "$hdr $hver, ${secs}s, $(date -u +%FT%TZ)" >"$stamp"
echo "ok 1 $name"
