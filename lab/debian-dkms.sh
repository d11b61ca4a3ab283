#!/usr/bin/env bash
# sasscan-dkms on Debian's own prebuilt kernel of LINE, installed the way an
# administrator installs it, then made into a lab variant:
#
#   1. the package, built from this checkout (dkms/build-deb.sh);
#   2. `dpkg -i` of it, then `dkms install` for LINE's kernel in
#      dkms/kernels.list, on this machine: the modules land in
#      /lib/modules/<kver>/updates/dkms and carry "+sasscan<version>";
#   3. their copies, with the package build's header and Module.symvers;
#   4. `apt-get purge`: every file of /lib/modules/<kver> and /boot/*<kver>
#      must be as it was before (sha256);
#   5. the variant debian-<kver>-sasscan: Debian's image package, the four
#      rebuilt modules in updates/dkms, Debian's SAS drivers loaded beside
#      them, and vsas registering its hook through the package's
#      sas_set_user_scan_devices().
#
#   lab/debian-dkms.sh          (root; SASSCAN_LINE=6.12 or 6.1)
#
# Prints TAP, one test per step, then "# variant NAME". Steps 1-4 change the
# machine's package state only between the install and the purge, and are
# remembered under the hash of dkms/, the series files the package takes,
# this script and the headers version: a second run with nothing changed
# reuses the modules of the first.
. "$(dirname "$0")/common.sh"

[ "$(id -u)" = 0 ] || die "debian-dkms: run as root (dpkg -i, dkms install)"

# series, kernel ABI name, Debian version, flavour of each listed kernel
# (the package's kernel releases are "<ABI name>-<flavour>")
listed=$(listed_kernels)
read -r _ abi debver flavour < <(awk -v l="$LINE" '$1 == l { print; exit }' <<<"$listed")
[ -n "${abi:-}" ] || die "debian-dkms: dkms/kernels.list has no kernel for line $LINE"
kver=$abi-$flavour
kvers=$(awk '{ print $2 "-" $4 }' <<<"$listed")
D=$CACHE/debian/sasscan-dkms
n=0
failed=0
steps=/dev/null
# a TAP line, also kept in $steps so that a warm run can show it again
tap() {
	n=$((n + 1))
	echo "$1 $n $2${3:+ # $3}" | tee -a "$steps"
}
ok() { tap ok "$@"; }
not_ok() { failed=1; tap "not ok" "$@"; }
finish() { echo "1..$n"; exit "$failed"; }

echo "TAP version 13"
if dpkg-query -W -f '${Status}' sasscan-dkms 2>/dev/null | grep -q 'ok installed'; then
	not_ok "package_not_preinstalled" \
		"sasscan-dkms is installed here; this check installs and purges it, so it stops"
	finish
fi
# what building, installing and checking the package needs (the package's
# Build-Depends, dkms, unmkinitramfs); the linux-source packages are the lab's
need=
for p in debhelper dh-dkms dkms dpkg-dev initramfs-tools-core; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need="$need $p"
done
if [ -n "$need" ]; then
	log "installing$need"
	# shellcheck disable=SC2086 # a list of package names
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need >&2 ||
		{ not_ok "tools" "apt-get install$need failed"; finish; }
fi
# the headers of every listed kernel, so that the package's postinst builds
# for each of them, as on a machine that has them
while read -r _ a v f; do
	have=$(dpkg-query -W -f '${Version}' "linux-headers-$a-$f" 2>/dev/null || true)
	[ "$have" = "$v" ] && continue
	log "installing linux-headers-$a-$f $v"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		"linux-headers-$a-$f=$v" >&2 || true
	have=$(dpkg-query -W -f '${Version}' "linux-headers-$a-$f" 2>/dev/null || true)
	[ "$have" = "$v" ] || { not_ok "headers_$a-$f" "linux-headers-$a-$f $v not installable"; finish; }
done <<<"$listed"
hver=$debver

key=$({
	echo "$kver $hver"
	cat "$0"
	cd "$TOP_DIR" || exit 1
	git ls-files -z dkms "patches/linux-$LINE.y" | xargs -0 sha256sum
} | sha256sum | cut -c1-16)
R=$D/$kver-$key
if [ -f "$R/done" ]; then
	sed 's/$/ # passed before with these sources/' "$R/done"
	n=$(wc -l <"$R/done")
else
	rm -rf "$R"
	mkdir -p "$R/updates"
	steps=$R/steps

	# 1. the package. Its Build-Depends name linux-source-<line> at
	# kernels.list's version; lab/deps.sh holds it there again if apt
	# moved it since (installing a newer headers package once upgraded it)
	t=$(date +%s)
	if ! "$LAB_DIR/deps.sh" >&2 || ! "$TOP_DIR/dkms/build-deb.sh" "$R/deb" >&2; then
		not_ok "deb_builds" "dkms/build-deb.sh failed"
		finish
	fi
	deb=$(ls "$R"/deb/sasscan-dkms_*_all.deb)
	pkgver=$(dpkg-deb -f "$deb" Version)
	ok "deb_builds" "$(basename "$deb") in $(($(date +%s) - t)) s"

	# every file (sha256) and symlink (target) of the listed kernels'
	# modules and boot files (the postinst installs for each of them); an
	# initramfs by its contents, since update-initramfs stamps each archive
	# it writes with the time
	snapshot() {
		local k i x where skip
		for k in $kvers; do
			where=("/lib/modules/$k" /boot -xdev \( -path "/lib/modules/$k/*" -o -name "*$k" \))
			# a kernel with headers and no image: dkms' depmod writes
			# its (empty) module indices on install and removal alike
			skip=()
			[ -f "/boot/vmlinuz-$k" ] || skip=(! -path "/lib/modules/$k/modules.*")
			find "${where[@]}" -type f ! -name "initrd.img-*" "${skip[@]}" -print0 |
				LC_ALL=C sort -z | xargs -0 -r sha256sum
			find "${where[@]}" -type l -printf '%p -> %l\n' | LC_ALL=C sort
			i=/boot/initrd.img-$k
			[ -f "$i" ] || continue
			x=$(mktemp -d)
			unmkinitramfs "$i" "$x"
			echo "$(cd "$x" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum |
				sha256sum | cut -c1-64)  $i (contents)"
			rm -rf "$x"
		done
	}
	snapshot >"$R/before"

	# 2. installed as an administrator would; purged on every way out
	trap 'apt-get purge -y sasscan-dkms >/dev/null 2>&1 || true' EXIT
	t=$(date +%s)
	if ! DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" >"$R/dpkg-i.log" 2>&1; then
		tail -n 30 "$R/dpkg-i.log" | sed 's/^/# /'
		not_ok "dpkg_i" "dpkg -i $(basename "$deb") failed"
		finish
	fi
	ok "dpkg_i" "$(($(date +%s) - t)) s, $(grep -c '^sasscan-dkms' "$R/dpkg-i.log") lines from its hooks"
	t=$(date +%s)
	if dkms install -m sasscan -v "${pkgver%%-*}" -k "$kver" >"$R/dkms-install.log" 2>&1; then
		ok "dkms_install_$kver" "$(($(date +%s) - t)) s"
	else
		tail -n 30 "$R/dkms-install.log" | sed 's/^/# /'
		not_ok "dkms_install_$kver" "dkms install failed"
	fi

	# 3. what it installed, and what vsas builds against
	ver=${pkgver%%-*}
	# the postinst builds for every listed kernel (their headers are installed above)
	for k in $kvers; do
		got=
		for m in scsi_transport_sas hpsa mpt3sas mpi3mr; do
			mod=$(find "/lib/modules/$k/updates/dkms" -name "$m.ko*" 2>/dev/null | head -n1)
			[ -n "$mod" ] || continue
			case $(modinfo -F version "$mod") in
			*sasscan"$ver") got="$got $m" ;;
			*) continue ;;
			esac
			if [ "$k" = "$kver" ]; then cp "$mod" "$R/updates/"; fi
		done
		if [ "$got" = " scsi_transport_sas hpsa mpt3sas mpi3mr" ]; then
			ok "modules_installed_$k" "updates/dkms:$got, each version ending in sasscan$ver"
		else
			not_ok "modules_installed_$k" "found only:$got"
		fi
	done

	# vsas needs the package's header and the versions of its two new
	# exports; dkms deletes its build tree, so take the versions as the
	# package's own drivers import them
	mkdir -p "$R/include/scsi"
	cp "/usr/src/sasscan-$ver/src/$abi/include/scsi/scsi_transport_sas.h" "$R/include/scsi/" || true
	for sym in sas_set_user_scan_devices sas_scan_report_device; do
		modprobe --dump-modversions "$R"/updates/mpt3sas.ko* 2>/dev/null |
			awk -v s="$sym" '$2 == s { printf "%s\t%s\tdrivers/scsi/scsi_transport_sas\tEXPORT_SYMBOL_GPL\t\n", $1, s }'
	done >"$R/Module.symvers"
	if grep -q sas_set_user_scan_devices "$R/include/scsi/scsi_transport_sas.h" 2>/dev/null &&
		[ "$(wc -l <"$R/Module.symvers")" = 2 ]; then
		ok "package_api_taken" "its header, and the 2 new exports' versions as mpt3sas imports them"
	else
		not_ok "package_api_taken" "no header in /usr/src/sasscan-$ver or no versions in mpt3sas"
	fi

	# 4. removed again
	t=$(date +%s)
	apt-get purge -y sasscan-dkms >"$R/purge.log" 2>&1 || true
	trap - EXIT
	snapshot >"$R/after"
	if dpkg-query -W -f '${Status}' sasscan-dkms 2>/dev/null | grep -q 'installed'; then
		not_ok "purge_restores" "sasscan-dkms still installed"
	elif ! diff -q "$R/before" "$R/after" >/dev/null; then
		diff "$R/before" "$R/after" | head -n 20 | sed 's/^/# /'
		not_ok "purge_restores" "files differ after apt-get purge"
	elif dkms status sasscan 2>/dev/null | grep -q .; then
		not_ok "purge_restores" "dkms status still lists sasscan"
	else
		ok "purge_restores" "$(wc -l <"$R/before") files of ${kvers//$'\n'/ } as before, $(($(date +%s) - t)) s"
	fi
	[ "$failed" = 0 ] || finish
	cp "$R/steps" "$R/done"
fi

# 5. the variant: Debian's image with the package's modules in updates/dkms
pkgver=$(dpkg-deb -f "$(ls "$R"/deb/sasscan-dkms_*_all.deb)" Version)
"$LAB_DIR/debian-kernel.sh" "$kver" >/dev/null || { not_ok "variant" "debian-kernel.sh $kver failed"; finish; }
X=$CACHE/debian/image-$kver
M=$D/root-$kver
rm -rf "$M"
mkdir -p "$M/lib/modules"
cp -al "$X/lib/modules/$kver" "$M/lib/modules/$kver"
mkdir -p "$M/lib/modules/$kver/updates/dkms"
cp "$R"/updates/*.ko* "$M/lib/modules/$kver/updates/dkms/"
depmod -b "$M" "$kver"
variant=debian-$kver-sasscan
if SASSCAN_VSAS_MAKEFLAGS="VSAS_SAS_INCLUDE=$R/include KBUILD_EXTRA_SYMBOLS=$R/Module.symvers" \
	SASSCAN_LOAD_MODULES="scsi_transport_sas libsas mpt3sas mpi3mr hpsa smartpqi mptsas isci pm80xx aic94xx mvsas" \
	"$LAB_DIR/external-kernel.sh" "$X/boot/vmlinuz-$kver" "/usr/src/linux-headers-$kver" \
	"$M" "$variant" "linux-image-$kver-unsigned+sasscan-dkms_$pkgver $debver" >/dev/null; then
	ok "variant" "$variant"
else
	not_ok "variant" "external-kernel.sh failed"
fi
echo "1..$n"
echo "# variant $variant"
exit "$failed"
