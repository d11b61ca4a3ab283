#!/usr/bin/env bash
# Build one kernel variant from Debian's linux-source-6.12, incrementally.
#
#   lab/kernel.sh VARIANT
#
# Layout under $CACHE (default ~/.cache/sasscan):
#   src/<debver>/linux-source-6.12   pristine unpacked tarball (shared)
#   build/<variant>/src              patched copy; only files whose content changed are rewritten
#   build/<variant>/src/obj          O= build directory, inside the source so that Kbuild
#                                    names sources relatively (srctree "..")
#   build/<variant>/obj              link to src/obj (the tree vsas builds against)
#   build/<variant>/modinst          modules_install output
#   build/<variant>/build-info       source version, variant, series and config hashes
# A build whose inputs match build-info does nothing at all.
#
# Variants share objects: a variant's first build starts from a copy of the
# stock tree of the same source version (sources hard-linked, objects copied
# with their times), so make recompiles only what its patches and config
# fragments change. Because the build directory sits inside the source, the
# copy's commands are the same as the original's.
. "$(dirname "$0")/common.sh"

variant=${1:?usage: lab/kernel.sh VARIANT}
debver=$(src_version)
pristine=$CACHE/src/$debver/$SRC_PKG
B=$(build_dir "$variant")
shash=$(series_hash "$variant")
# Config fragments: the common ones, plus variant-<name>.config for options
# that only exist with that variant's patches.
frags=("$LAB_DIR/config/lab.config" "$LAB_DIR/config/drivers.config")
cvariant=${SASSCAN_CONFIG_VARIANT-$variant}
[ -f "$LAB_DIR/config/variant-$cvariant.config" ] &&
	frags+=("$LAB_DIR/config/variant-$cvariant.config")
chash=$(cat "${frags[@]}" "$LAB_DIR/kernel.sh" | sha256sum | cut -c1-16)
key="source=$SRC_PKG $debver variant=$variant series=$shash config=$chash"

if [ -f "$B/build-info" ] && [ "$(head -n1 "$B/build-info")" = "$key" ] &&
	[ -f "$B/obj/arch/x86/boot/bzImage" ]; then
	log "kernel $variant up to date ($key)"
	exit 0
fi

# 1. Pristine source, unpacked once per package version.
if [ ! -f "$pristine/.sasscan-unpacked" ]; then
	log "unpacking $SRC_TARBALL ($debver)"
	rm -rf "$CACHE/src/$debver"
	mkdir -p "$CACHE/src/$debver"
	tar -C "$CACHE/src/$debver" -xf "$SRC_TARBALL"
	touch "$pristine/.sasscan-unpacked"
fi

# 2. Patched source. Stage a hard-linked copy (patch(1) breaks the links of
#    the files it edits), then copy into the variant's tree by content, without
#    preserving times: changed files get a new mtime, unchanged ones keep theirs.
mkdir -p "$B"
stage=$B/stage
rm -rf "$stage"
cp -al "$pristine" "$stage"
for p in $(variant_series "$variant"); do
	log "applying $(basename "$p")"
	patch -s -p1 -d "$stage" --no-backup-if-mismatch -i "$p" ||
		die "$(basename "$p") does not apply to $debver"
done
base=$(build_dir stock)
if [ ! -d "$B/src/obj" ] && [ "$variant" != stock ] && [ -f "$base/build-info" ] &&
	grep -q "^source=$SRC_PKG $debver " "$base/build-info"; then
	log "seeding $variant from the stock tree (shared objects)"
	rm -rf "$B/src"
	cp -al "$base/src" "$B/src"
	rm -rf "$B/src/obj"
	cp -a "$base/src/obj" "$B/src/obj"
fi
mkdir -p "$B/src/obj"
[ -L "$B/obj" ] || rm -rf "$B/obj"	# an older layout's separate build directory
ln -sfn src/obj "$B/obj"
rsync -rlp --checksum --delete --exclude=/.sasscan-unpacked --exclude=/obj \
	"$stage/" "$B/src/"
rm -rf "$stage"

# 3. Configuration: tinyconfig + the lab fragment(s); every fragment option
#    must survive olddefconfig.
mk=(make -s -C "$B/src" O="$B/src/obj" ARCH=x86_64 CC="ccache gcc"
	KBUILD_BUILD_USER=sasscan KBUILD_BUILD_HOST=lab
	KBUILD_BUILD_TIMESTAMP="2026-01-01 00:00 UTC")
export CCACHE_DIR=$CACHE/ccache CCACHE_BASEDIR=$B CCACHE_NOHASHDIR=1
mkdir -p "$B/obj"
new=$B/obj/.config.new
"${mk[@]}" KCONFIG_CONFIG=.config.new tinyconfig >/dev/null
KCONFIG_CONFIG=$new "$B/src/scripts/kconfig/merge_config.sh" -m -O "$B/obj" "$new" \
	"${frags[@]}" >/dev/null
"${mk[@]}" KCONFIG_CONFIG=.config.new olddefconfig >/dev/null
missing=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=*) grep -qxF "$line" "$new" || { log "config: $line did not stick"; missing=1; } ;;
	"# CONFIG_"*" is not set") grep -q "^${line#\# }" "$new" 2>/dev/null &&
		{ log "config: $line did not stick"; missing=1; } ;;
	esac
done < <(cat "${frags[@]}")
[ $missing = 0 ] || die "kernel config fragment not satisfied"
if cmp -s "$new" "$B/obj/.config"; then rm -f "$new"; else mv "$new" "$B/obj/.config"; fi

# 4. Build and install modules.
log "building kernel $variant ($key), -j$JOBS"
start=$(date +%s)
"${mk[@]}" -j"$JOBS" bzImage modules
rm -rf "$B/modinst"
"${mk[@]}" INSTALL_MOD_PATH="$B/modinst" modules_install >/dev/null
krel=$(cat "$B/obj/include/config/kernel.release")
{
	echo "$key"
	echo "kernel_release=$krel"
	echo "built=$(date -u +%FT%TZ) seconds=$(($(date +%s) - start))"
} >"$B/build-info"
log "kernel $variant built in $(($(date +%s) - start)) s"
