#!/usr/bin/env bash
# Any x86_64 kernel >= 6.1 as a lab variant ("bring your own kernel"):
# the kernel image as given, vsas built against the given build or headers
# tree, and an initramfs with the kernel's own modules (scsi_mod, sd_mod, sg,
# scsi_transport_sas, libsas, configfs, ... and their dependencies) taken
# from the given modules directory. Nothing of the kernel is rebuilt.
#
#   lab/external-kernel.sh KERNEL KBUILD MODULES [NAME [LABEL]]
#     KERNEL   bzImage (e.g. /boot/vmlinuz-6.12.117+deb12-amd64)
#     KBUILD   a tree `make -C KBUILD M=...` builds modules against: the
#              kernel's O= build directory or its headers package
#              (/usr/src/linux-headers-<release>)
#     MODULES  the modules: /lib/modules/<release>, or a directory holding
#              lib/modules/<release>/ (an INSTALL_MOD_PATH)
#     NAME     variant name (default ext-<release>)
#     LABEL    what build-info and every report name as the source
#              (default "kernel=<KERNEL> <release>"; Debian: package and version)
#
# Writes the layout lab/vm.py and lab/matrix.py expect and prints the
# variant name on stdout:
#   $CACHE/build/NAME/obj/arch/x86/boot/bzImage   a copy of KERNEL
#   $CACHE/build/NAME/obj/usr/gen_init_cpio        for vm.py's extra files
#   $CACHE/build/NAME/build-info                   LABEL, release, modules used
#   $WORK/build/NAME/initramfs.cpio.gz
#
# Such kernels usually build SCSI, the SAS transport and configfs as modules,
# while the guest runner mounts configfs before it runs any case, so /init is
# a small script that loads them and then executes the runner (/sasscan-init).
. "$(dirname "$0")/common.sh"

usage="usage: lab/external-kernel.sh KERNEL KBUILD MODULES [NAME [LABEL]]"
kernel=${1:?$usage}
kbuild=${2:?$usage}
modules=${3:?$usage}
[ -f "$kernel" ] || die "external-kernel: KERNEL $kernel is not a file"
# the x86 boot protocol's header magic at 0x202
[ "$(dd if="$kernel" bs=1 skip=514 count=4 status=none)" = HdrS ] ||
	die "external-kernel: KERNEL $kernel is not an x86 bzImage"
{ [ -f "$kbuild/Makefile" ] && [ -f "$kbuild/include/config/kernel.release" ]; } ||
	die "external-kernel: KBUILD $kbuild is not a kernel build or headers tree"
# the release modules are built for (Debian's 6.1 headers say 6.1.192 in
# kernel.release, but 6.1.0-57-amd64 in utsrelease.h, as uname -r does)
krel=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$kbuild/include/generated/utsrelease.h" 2>/dev/null)
[ -n "$krel" ] || krel=$(cat "$kbuild/include/config/kernel.release")
grep -q '^CONFIG_X86_64=y' "$kbuild/.config" 2>/dev/null ||
	die "external-kernel: KBUILD $kbuild is not an x86_64 build"
IFS=. read -r kmaj kmin _ <<<"$krel"
[ "$kmaj" -gt 6 ] || { [ "$kmaj" -eq 6 ] && [ "${kmin%%[!0-9]*}" -ge 1 ]; } ||
	die "external-kernel: kernel $krel is older than 6.1"
if [ -f "$modules/modules.dep" ] && [ "$(basename "$modules")" = "$krel" ]; then
	M=$modules
elif [ -f "$modules/lib/modules/$krel/modules.dep" ]; then
	M=$modules/lib/modules/$krel
else
	die "external-kernel: MODULES $modules has no modules.dep for $krel (run depmod)"
fi
variant=${4:-ext-$krel}
label=${5:-kernel=$kernel $krel}
case $variant in
stock | fixed | multichannel | scanstart | series | */*) die "external-kernel: bad NAME $variant" ;;
esac
B=$(build_dir "$variant")
W=$(work_dir "$variant")

# 1. vsas against KBUILD (a copy: Kbuild writes objects next to sources).
mkdir -p "$W/ext/vsas"
rsync -rlp --checksum --delete --exclude='*.o' --exclude='*.ko' \
	--exclude='*.mod*' --exclude='.*.cmd' --exclude=Module.symvers \
	--exclude=modules.order "${SASSCAN_VSAS_SRC:-$TOP_DIR/vsas}/" "$W/ext/vsas/"
# SASSCAN_VSAS_MAKEFLAGS: more make variables, e.g. a transport built out of
# tree (lab/debian-dkms.sh); split into words on purpose
# shellcheck disable=SC2086
make -s -C "$kbuild" M="$W/ext/vsas" ${SASSCAN_VSAS_MAKEFLAGS:-} modules >&2
[ -f "$W/ext/vsas/vsas.ko" ] || die "external-kernel: vsas did not build against $kbuild"
[ "$(modinfo -F vermagic "$W/ext/vsas/vsas.ko" | cut -d' ' -f1)" = "$krel" ] ||
	die "external-kernel: vsas was built for another release than $krel"

# 2. The kernel, and the cpio tool, where vm.py looks.
mkdir -p "$B/obj/arch/x86/boot" "$B/obj/usr"
cp "$kernel" "$B/obj/arch/x86/boot/bzImage"
gen=$B/obj/usr/gen_init_cpio
if [ ! -x "$gen" ]; then
	tar -xOf "$SRC_TARBALL" "$SRC_PKG/usr/gen_init_cpio.c" >"$gen.c" ||
		die "external-kernel: no gen_init_cpio.c in $SRC_TARBALL"
	gcc -O2 -o "$gen" "$gen.c"
fi
echo "$krel" >"$B/obj/kernel.release"

# 3. Initramfs.
init=${SASSCAN_GUEST_INIT:-$WORK/guest/init}
[ -x "$init" ] || die "guest runner $init not built (make guest)"
root=$W/initramfs.root
guest_root "$root" "$init" sasscan-init
# SASSCAN_LOAD_MODULES: more modules /init loads, e.g. every SAS driver
# beside a replaced transport; a failure is logged as "init: modprobe X failed"
load="configfs scsi_mod sd_mod sg scsi_transport_sas libsas ${SASSCAN_LOAD_MODULES:-}"
cat >"$root/init" <<EOF
#!/bin/sh
# Load what the runner needs before it starts (built-in ones just succeed).
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
for m in $load; do
	/bin/busybox modprobe "\$m" || echo "init: modprobe \$m failed"
done
/bin/busybox umount /sys
/bin/busybox umount /proc
exec /sasscan-init
EOF
chmod 755 "$root/init"

# The modules the cases need, with their dependencies from modules.dep,
# decompressed (busybox modprobe reads only plain .ko files).
want="$load scsi_debug"
want="$want $(modinfo -F depends "$W/ext/vsas/vsas.ko" | tr ',' ' ')"
declare -A seen=()
queue=()
for m in $want; do
	rx="/${m//_/[-_]}\\.ko(\\.(xz|gz|zst))?\$"
	grep -Eq "$rx" "$M/modules.builtin" 2>/dev/null && continue
	rel=$(awk -F: -v rx="$rx" '$1 ~ rx { print $1; exit }' "$M/modules.dep")
	if [ -z "$rel" ]; then
		[ "$m" = scsi_debug ] && continue	# optional: onhost-vmtest's foreign host
		die "external-kernel: no module $m for $krel in $M"
	fi
	queue+=("$rel")
done
while [ ${#queue[@]} -gt 0 ]; do
	rel=${queue[0]}
	queue=("${queue[@]:1}")
	[ -n "${seen[$rel]:-}" ] && continue
	seen[$rel]=1
	# modules.dep lists a module's dependencies on one line: split by words
	# shellcheck disable=SC2013
	for dep in $(awk -F': *' -v m="$rel" '$1 == m { print $2 }' "$M/modules.dep"); do
		queue+=("$dep")
	done
done
for rel in "${!seen[@]}"; do
	out=${rel%.xz}
	out=${out%.gz}
	out=$root/lib/modules/$krel/${out%.zst}
	mkdir -p "$(dirname "$out")"
	case $rel in
	*.xz) xz -dc "$M/$rel" >"$out" ;;
	*.gz) gzip -dc "$M/$rel" >"$out" ;;
	*.zst) zstd -qdc "$M/$rel" >"$out" ;;
	*) cp "$M/$rel" "$out" ;;
	esac
done
for f in modules.builtin modules.builtin.modinfo modules.order; do
	[ -f "$M/$f" ] && cp "$M/$f" "$root/lib/modules/$krel/"
done
mkdir -p "$root/lib/modules/$krel/extra"
cp "$W/ext/vsas/vsas.ko" "$root/lib/modules/$krel/extra/"
depmod -b "$root" "$krel"
pack_initramfs "$gen" "$root" "$W/initramfs.cpio.gz"

# build-info: its first line is what vm.py puts into every report.
{
	echo "source=$label variant=$variant series=none config=external"
	echo "kernel_release=$krel"
	echo "config_sha=$(sha256sum "$kbuild/.config" | cut -c1-16)"
	echo "modules=${!seen[*]} extra/vsas.ko"
	echo "built=$(date -u +%FT%TZ)"
} >"$B/build-info"
log "variant $variant: $label, initramfs $(du -h "$W/initramfs.cpio.gz" | cut -f1), ${#seen[@]} modules"
echo "$variant"
