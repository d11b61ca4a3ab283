#!/usr/bin/env bash
# Test lab/onhost/runner.c where it cannot hurt: Debian's prebuilt kernel
# (lab/debian-kernel.sh) in QEMU plays the real machine, with a scsi_debug
# host loaded first as the foreign host the guard must refuse, and vsas
# loaded the way a DKMS install would. The runner replaces the lab's /init
# runner; vm.py boots and judges it like any other boot.
#
#   lab/onhost-vmtest.sh [CASES]     (default 'vsas_plain_*'; onhost_guard always runs)
#
# Variant written: $CACHE/build/onhost-<kver>/ (obj linked to debian-<kver>).
. "$(dirname "$0")/common.sh"

cases=${1:-vsas_plain_*}
deb=$(find "$CACHE/build" -maxdepth 1 -name 'debian-6.12.*' -printf '%f\n' | sort -V | tail -n1)
[ -n "$deb" ] || die "onhost-vmtest: run lab/debian-kernel.sh first"
kver=${deb#debian-}
D=$(build_dir "$deb")
variant=onhost-$kver
B=$(build_dir "$variant")
W=$(work_dir "$variant")
mkdir -p "$B/overlay" "$W"
ln -sfn "$D/obj" "$B/obj"

G=$TOP_DIR/guest
gcc -static -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -O2 -U_FORTIFY_SOURCE -I"$G" \
	-o "$B/overlay/sasscan-onhost" "$LAB_DIR/onhost/runner.c" "$G/runner.c" "$G/lib.c" \
	"$G/vsas_util.c" "$G"/cases_vsas*.c "$G/cases_matrix.c" \
	-Wl,--wrap=open,--wrap=fopen,--wrap=execl

cat >"$B/overlay/init" <<'EOF'
#!/bin/sh
# The "real machine": file systems and modules as a booted system has them,
# a foreign SCSI host (scsi_debug), vsas, then lab/onhost/runner.c.
bb=/bin/busybox
$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
$bb mount -t devtmpfs devtmpfs /dev
$bb mount -t tmpfs tmpfs /tmp
$bb --install -s /bin
for m in configfs scsi_mod sd_mod sg scsi_transport_sas libsas; do
	modprobe "$m"
done
mount -t configfs configfs /sys/kernel/config
mount -t debugfs debugfs /sys/kernel/debug
modprobe scsi_debug num_tgts=2 || echo "onhost-vmtest: no scsi_debug"
modprobe vsas
for h in /sys/class/scsi_host/host*; do
	echo "onhost-vmtest: $(basename "$h") $(cat "$h/proc_name")"
done
cases=$(sed -n 's/.*sasscan\.cases=\([^ ]*\).*/\1/p' /proc/cmdline)
SASSCAN_ONHOST_LOG=/tmp/refused.log /sasscan-onhost --yes "$cases" | tee /dev/ttyS1
if [ -s /tmp/refused.log ]; then
	echo "onhost-vmtest: refused accesses:"
	cat /tmp/refused.log
fi
sync
reboot -f
EOF
chmod 755 "$B/overlay/init"

list=$B/overlay.list
{
	echo "file /init $B/overlay/init 0755 0 0"
	echo "file /sasscan-onhost $B/overlay/sasscan-onhost 0755 0 0"
} >"$list"
{
	gzip -dc "$(work_dir "$deb")/initramfs.cpio.gz"
	"$D/obj/usr/gen_init_cpio" "$list"
} | gzip -1 >"$W/initramfs.cpio.gz"
sed "1s/variant=$deb/variant=$variant/" "$D/build-info" >"$B/build-info"

python3 "$LAB_DIR/vm.py" --variant "$variant" --cases "$cases" --name "$variant" \
	--results "$TOP_DIR/results/onhost-vmtest" --append scsi_mod.scan=sync
