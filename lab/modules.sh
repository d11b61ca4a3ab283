#!/usr/bin/env bash
# Build the out-of-tree modules the guest loads (vsas, the lab's self-test
# module) against one kernel variant. Sources are copied per variant because
# Kbuild writes objects next to them; rsync -c keeps unchanged files' times,
# so a rebuild with nothing changed compiles nothing.
#
#   lab/modules.sh VARIANT [EXTRA_KBUILD_ARGS...]
. "$(dirname "$0")/common.sh"

variant=${1:?usage: lab/modules.sh VARIANT}
shift
B=$(build_dir "$variant")
[ -f "$B/obj/Module.symvers" ] || die "kernel $variant not built (make kernel VARIANT=$variant)"
W=$(work_dir "$variant")
export CCACHE_DIR=$CACHE/ccache
mkdir -p "$W/ext"
for m in "$TOP_DIR/vsas" "$LAB_DIR/selftest"; do
	[ -f "$m/Kbuild" ] || continue
	name=$(basename "$m")
	rsync -rlp --checksum --delete --exclude='*.o' --exclude='*.ko' \
		--exclude='*.mod*' --exclude='.*.cmd' --exclude=Module.symvers \
		--exclude=modules.order "$m/" "$W/ext/$name/"
	make -s -C "$B/obj" M="$W/ext/$name" CC="ccache gcc" "$@" modules
done
