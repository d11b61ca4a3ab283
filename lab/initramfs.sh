#!/usr/bin/env bash
# Assemble the guest initramfs for one kernel variant:
#   /init          the guest runner (guest/, static)
#   /bin/busybox   Debian's busybox-static, applets installed at boot
#   /usr/bin/...   lsscsi, sg3_utils, rescan-scsi-bus.sh and what it needs (install_tools)
#   /lib/modules   the variant's modules plus vsas and the self-test module
#
#   lab/initramfs.sh VARIANT  ->  $WORK/build/VARIANT/initramfs.cpio.gz
. "$(dirname "$0")/common.sh"

variant=${1:?usage: lab/initramfs.sh VARIANT}
B=$(build_dir "$variant")
W=$(work_dir "$variant")
krel=$(cat "$B/obj/include/config/kernel.release")
init=$WORK/guest/init
[ -x "$init" ] || die "guest runner not built (make guest)"

root=$W/initramfs.root
guest_root "$root" "$init" init

# Modules: the kernel's, then ours under extra/.
cp -a "$B/modinst/lib/modules/$krel" "$root/lib/modules/"
rm -f "$root/lib/modules/$krel/build" "$root/lib/modules/$krel/source"
mkdir -p "$root/lib/modules/$krel/extra"
find "$W/ext" -name '*.ko' -exec cp {} "$root/lib/modules/$krel/extra/" \; 2>/dev/null || true
depmod -b "$root" "$krel"

pack_initramfs "$B/obj/usr/gen_init_cpio" "$root" "$W/initramfs.cpio.gz"
log "initramfs $variant: $(du -h "$W/initramfs.cpio.gz" | cut -f1)"
