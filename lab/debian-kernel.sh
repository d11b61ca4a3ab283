#!/usr/bin/env bash
# Debian's prebuilt kernel as a lab variant: the linux-image-<kver>-unsigned
# package of SASSCAN_LINE (6.12 or 6.1) as shipped, of the kernel
# dkms/kernels.list names for the line (the one sasscan-dkms is built for;
# else the newest, or the given KVER), vsas built against the matching linux-headers package, and an
# initramfs with the package's own modules (scsi_mod, sd_mod, sg,
# scsi_transport_sas, libsas, configfs, and scsi_debug, not loaded:
# lab/onhost-vmtest.sh uses it as a foreign host).
#
#   lab/debian-kernel.sh [KVER]      (root; KVER e.g. 6.12.117+deb12-amd64)
#   SASSCAN_GUEST_INIT=path/to/init  another guest runner binary
#   SASSCAN_VSAS_SRC=dir             another vsas source tree (default vsas/)
#
# Downloads and the extracted package live in $CACHE/debian/; the variant is
# then made by lab/external-kernel.sh (layout and /init described there), with
# the package name and version as the source every report names. Prints the
# variant name on stdout.
. "$(dirname "$0")/common.sh"

[ "$(id -u)" = 0 ] || die "debian-kernel: run as root (apt-get)"
D=$CACHE/debian
mkdir -p "$D/debs"

kver=${1:-}
if [ -z "$kver" ]; then
	kver=$(listed_kver "$LINE")
fi
if [ -z "$kver" ]; then
	# the generic flavour: 6.12.117+deb12-amd64, 6.1.0-57-amd64
	kver=$(apt-cache search --names-only "^linux-image-${LINE//./\\.}\\.[0-9]+(\\+deb[0-9]+|-[0-9]+)-amd64-unsigned\$" |
		awk '{print $1}' | sed 's/^linux-image-//; s/-unsigned$//' | sort -V | tail -n1)
	[ -n "$kver" ] || die "debian-kernel: no linux-image-$LINE.*-amd64-unsigned package"
fi
img=linux-image-$kver-unsigned
hdr=linux-headers-$kver
pver=$(apt-cache show --no-all-versions "$img" | awk '/^Version:/ {print $2; exit}')
[ -n "$pver" ] || die "debian-kernel: $img not in the archive"
variant=debian-$kver

# 1. The image package, downloaded (not installed) and extracted.
deb=$D/debs/${img}_${pver//:/%3a}_amd64.deb
if [ ! -f "$deb" ]; then
	log "downloading $img $pver"
	(cd "$D/debs" && apt-get download "$img=$pver" >/dev/null 2>&1) ||
		die "debian-kernel: apt-get download $img=$pver failed"
fi
X=$D/image-$kver
if [ ! -f "$X/.extracted-$pver" ]; then
	rm -rf "$X"
	mkdir -p "$X"
	dpkg-deb -x "$deb" "$X"
	depmod -b "$X" "$kver"
	touch "$X/.extracted-$pver"
fi

# 2. Headers: the package build trees need /usr/src (their Makefile includes
# the -common tree by absolute path), so they are installed.
if ! dpkg-query -W -f '${Status}' "$hdr" 2>/dev/null | grep -q 'ok installed'; then
	log "installing $hdr"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$hdr" >/dev/null ||
		die "debian-kernel: apt-get install $hdr failed"
fi
hver=$(dpkg-query -W -f '${Version}' "$hdr")
[ "$hver" = "$pver" ] || die "debian-kernel: $hdr is $hver, image is $pver"

# 3. The rest is what any kernel needs (vsas, initramfs, build-info).
exec "$LAB_DIR/external-kernel.sh" "$X/boot/vmlinuz-$kver" "/usr/src/linux-headers-$kver" \
	"$X/lib/modules/$kver" "$variant" "$img $pver"
