#!/usr/bin/env bash
# Boot a lab variant with the real-client cases (guest/cases_clients.c) before
# lab/initramfs.sh carries what rescan-scsi-bus.sh needs: a variant
# clients-<variant> whose kernel is the variant's (obj linked, read only) and
# whose initramfs is the variant's plus an overlay with
#   /init       a guest runner built from guest/ now (with cases_clients.c)
#   /bin/bash   the script's interpreter (initramfs.sh puts bash in /usr/bin)
#   /bin/find   GNU find: the script needs -printf, which busybox lacks
#   /usr/bin/pr the script formats INQUIRY data with it
#
#   lab/clients-overlay.sh VARIANT [CASES]    (default CASES 'clients_*')
. "$(dirname "$0")/common.sh"

variant=${1:?usage: lab/clients-overlay.sh VARIANT [CASES]}
cases=${2:-clients_*}
V=$(build_dir "$variant")
[ -f "$V/initramfs.cpio.gz" ] || die "clients-overlay: $variant has no initramfs"
C=$(build_dir "clients-$variant")
R=$C/overlay
rm -rf "$R"
mkdir -p "$R/bin" "$R/usr/bin"
ln -sfn "$V/obj" "$C/obj"

make -s -C "$TOP_DIR/guest" OUT="$R"
mv "$R/init" "$R/init.bin"
install -D "$(command -v find)" "$R/bin/find"
install -D "$(command -v pr)" "$R/usr/bin/pr"
for t in find pr; do
	ldd "$(command -v "$t")" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
		install -D "$lib" "$R$lib"
	done
done

list=$C/overlay.list
{
	echo "file /init $R/init.bin 0755 0 0"
	echo "slink /bin/bash /usr/bin/bash 0777 0 0"
	(cd "$R" && find . -type f ! -name init.bin | LC_ALL=C sort) | while read -r p; do
		p=${p#./}
		echo "dir /$(dirname "$p") 0755 0 0"
		echo "file /$p $R/$p 0755 0 0"
	done | awk '!seen[$0]++'
} >"$list"
{
	gzip -dc "$V/initramfs.cpio.gz"
	"$V/obj/usr/gen_init_cpio" "$list"
} | gzip -1 >"$C/initramfs.cpio.gz"
sed "1s/variant=$variant/variant=clients-$variant/" "$V/build-info" >"$C/build-info"

python3 "$LAB_DIR/vm.py" --variant "clients-$variant" --cases "$cases" \
	--name "clients-$variant" --results "$TOP_DIR/results/clients" --timeout 1500
