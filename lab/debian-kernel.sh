#!/usr/bin/env bash
# Debian's prebuilt kernel as a lab variant: the newest (or the given)
# linux-image-6.12.*-amd64-unsigned package as shipped, vsas built against the
# matching linux-headers package, and an initramfs with the package's own
# modules (scsi_mod, sd_mod, sg, scsi_transport_sas, libsas, configfs, and
# scsi_debug, not loaded: lab/onhost-vmtest.sh uses it as a foreign host).
#
#   lab/debian-kernel.sh [KVER]      (root; KVER e.g. 6.12.117+deb12-amd64)
#   SASSCAN_GUEST_INIT=path/to/init  another guest runner binary
#   SASSCAN_VSAS_SRC=dir             another vsas source tree (default vsas/)
#
# Writes the layout lab/vm.py and lab/matrix.py expect:
#   $CACHE/build/debian-<kver>/obj/arch/x86/boot/bzImage     the package's vmlinuz
#   $CACHE/build/debian-<kver>/obj/usr/gen_init_cpio          for vm.py's extra files
#   $CACHE/build/debian-<kver>/initramfs.cpio.gz
#   $CACHE/build/debian-<kver>/build-info                     names the package version
# and prints the variant name on stdout. Downloads and the extracted package
# live in $CACHE/debian/. Nothing of the lab's own variants is touched.
#
# The package's kernel has SCSI, sd, sg, the SAS transport, libsas and configfs
# as modules, while the guest runner mounts configfs before it runs any case;
# so /init here is a small script that loads them and then executes the
# runner (as /sasscan-init).
. "$(dirname "$0")/common.sh"

[ "$(id -u)" = 0 ] || die "debian-kernel: run as root (apt-get)"
D=$CACHE/debian
mkdir -p "$D/debs"

kver=${1:-}
if [ -z "$kver" ]; then
	kver=$(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb[0-9]+-amd64-unsigned$' |
		awk '{print $1}' | sed 's/^linux-image-//; s/-unsigned$//' | sort -V | tail -n1)
	[ -n "$kver" ] || die "debian-kernel: no linux-image-6.12.*-amd64-unsigned package"
fi
img=linux-image-$kver-unsigned
hdr=linux-headers-$kver
pver=$(apt-cache show --no-all-versions "$img" | awk '/^Version:/ {print $2; exit}')
[ -n "$pver" ] || die "debian-kernel: $img not in the archive"
variant=debian-$kver
B=$(build_dir "$variant")
W=$(work_dir "$variant")

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

# 3. vsas against the headers (a copy: Kbuild writes objects next to sources).
mkdir -p "$W/ext/vsas"
rsync -rlp --checksum --delete --exclude='*.o' --exclude='*.ko' \
	--exclude='*.mod*' --exclude='.*.cmd' --exclude=Module.symvers \
	--exclude=modules.order "${SASSCAN_VSAS_SRC:-$TOP_DIR/vsas}/" "$W/ext/vsas/"
make -s -C "/usr/src/linux-headers-$kver" M="$W/ext/vsas" modules >&2
[ -f "$W/ext/vsas/vsas.ko" ] || die "debian-kernel: vsas did not build"

# 4. Kernel and the cpio tool at the places vm.py looks.
mkdir -p "$B/obj/arch/x86/boot" "$B/obj/usr"
cp "$X/boot/vmlinuz-$kver" "$B/obj/arch/x86/boot/bzImage"
gen=$B/obj/usr/gen_init_cpio
gsrc=$(find "$CACHE/src" -maxdepth 4 -path '*/usr/gen_init_cpio.c' 2>/dev/null | head -n1)
[ -n "$gsrc" ] || die "debian-kernel: no gen_init_cpio.c (build a lab kernel first)"
if [ ! -x "$gen" ] || [ "$gsrc" -nt "$gen" ]; then
	gcc -O2 -o "$gen" "$gsrc"
fi
echo "$kver" >"$B/obj/kernel.release"

# 5. Initramfs.
init=${SASSCAN_GUEST_INIT:-$WORK/guest/init}
[ -x "$init" ] || die "guest runner $init not built (make guest)"
root=$W/initramfs.root
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc,lib/modules}
cp "$init" "$root/sasscan-init"
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cat >"$root/init" <<'EOF'
#!/bin/sh
# Debian's kernel builds SCSI and configfs as modules; the runner mounts
# configfs first thing, so load them before it starts.
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
for m in configfs scsi_mod sd_mod sg scsi_transport_sas libsas; do
	/bin/busybox modprobe "$m" || echo "init: modprobe $m failed"
done
/bin/busybox umount /sys
/bin/busybox umount /proc
exec /sasscan-init
EOF
chmod 755 "$root/init"

tools="/usr/bin/lsscsi /bin/bash /usr/bin/pr"	# pr: rescan-scsi-bus.sh formats INQUIRY data with it
for t in sg_inq sg_luns sg_readcap sg_turs sg_rdac sg_vpd rescan-scsi-bus.sh; do
	p=$(command -v "$t" 2>/dev/null) && tools="$tools $p"
done
for t in $tools; do
	install -D "$t" "$root/usr/bin/$(basename "$t")"
	if [ "$(head -c4 "$t" | tail -c3)" = ELF ]; then
		ldd "$t" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
			install -D "$lib" "$root$lib"
		done
	fi
done
# rescan-scsi-bus.sh starts with #!/bin/bash
ln -sf /usr/bin/bash "$root/bin/bash"
# rescan-scsi-bus.sh lists targets with find -printf, which busybox lacks;
# at /bin/find the runner's `busybox --install -s` leaves it in place.
install -D "$(command -v find)" "$root/bin/find"
ldd "$(command -v find)" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
	install -D "$lib" "$root$lib"
done

# The modules the cases need, with their dependencies from the package's
# modules.dep, decompressed (busybox modprobe does not read .ko.xz).
M=$X/lib/modules/$kver
want="configfs scsi_mod sd_mod sg scsi_transport_sas libsas scsi_debug"
want="$want $(modinfo -F depends "$W/ext/vsas/vsas.ko" | tr ',' ' ')"
declare -A seen=()
queue=()
for m in $want; do
	f=$(modinfo -b "$X" -k "$kver" -n "$m" 2>/dev/null) || die "debian-kernel: no module $m"
	case $f in (builtin) continue ;; esac
	queue+=("${f#"$M"/}")
done
while [ ${#queue[@]} -gt 0 ]; do
	rel=${queue[0]}
	queue=("${queue[@]:1}")
	[ -n "${seen[$rel]:-}" ] && continue
	seen[$rel]=1
	deps=$(awk -F': *' -v m="$rel" '$1 == m { print $2 }' "$M/modules.dep")
	for dep in $deps; do
		queue+=("$dep")
	done
done
for rel in "${!seen[@]}"; do
	out=$root/lib/modules/$kver/${rel%.xz}
	mkdir -p "$(dirname "$out")"
	case $rel in
	*.xz) xz -dc "$M/$rel" >"$out" ;;
	*) cp "$M/$rel" "$out" ;;
	esac
done
cp "$M/modules.builtin" "$M/modules.builtin.modinfo" "$M/modules.order" "$root/lib/modules/$kver/"
mkdir -p "$root/lib/modules/$kver/extra"
cp "$W/ext/vsas/vsas.ko" "$root/lib/modules/$kver/extra/"
depmod -b "$root" "$kver"

pack_initramfs "$gen" "$root" "$W/initramfs.cpio.gz"

# build-info: the first line is what vm.py puts into every report.
cfg=$(sha256sum "$X/boot/config-$kver" | cut -c1-16)
{
	echo "source=$img $pver variant=$variant series=none config=debian"
	echo "kernel_release=$kver"
	echo "config_sha=$cfg"
	echo "modules=${!seen[*]} extra/vsas.ko"
	echo "built=$(date -u +%FT%TZ)"
} >"$B/build-info"
log "variant $variant: $img $pver, initramfs $(du -h "$W/initramfs.cpio.gz" | cut -f1), ${#seen[@]} package modules"
echo "$variant"
