#!/usr/bin/env bash
# Build one kernel variant of one kernel line (Debian's linux-source-<line>),
# incrementally.
#
#   [SASSCAN_LINE=7.3|6.12|6.1] lab/kernel.sh VARIANT
#
# Layout under $CACHE (default ~/.cache/sasscan):
#   src/<debver>/linux-source-<line>  pristine unpacked tarball (shared)
#   build/<line>/<variant>/src        patched copy; only files whose content changed are rewritten
#   build/<line>/<variant>/src/obj    O= build directory, inside the source so that Kbuild
#                                     names sources relatively (srctree "..")
#   build/<line>/<variant>/obj        link to src/obj (the tree vsas builds against)
#   build/<line>/<variant>/modinst    modules_install output
#   build/<line>/<variant>/build-info source version, variant, series and config hashes
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
# Config fragments: the common ones, line-<line>.config for a line whose
# kernel lacks or renames an option (later fragments override earlier ones),
# fault.config on the primary line,
# plus variant-<name>.config for options that only exist with that variant's
# patches. SASSCAN_CONFIG_FRAGS replaces the whole list (lab/config-matrix.sh).
if [ -n "${SASSCAN_CONFIG_FRAGS:-}" ]; then
	read -ra frags <<<"$SASSCAN_CONFIG_FRAGS"
else
	frags=("$LAB_DIR/config/lab.config" "$LAB_DIR/config/drivers.config")
	[ -f "$LAB_DIR/config/line-$LINE.config" ] && frags+=("$LAB_DIR/config/line-$LINE.config")
	# the fault lab option: fault injection and kmemleak (primary line)
	[ "$LINE" = "$PRIMARY_LINE" ] && frags+=("$LAB_DIR/config/fault.config")
	cvariant=${SASSCAN_CONFIG_VARIANT-$variant}
	[ -f "$LAB_DIR/config/variant-$cvariant.config" ] &&
		frags+=("$LAB_DIR/config/variant-$cvariant.config")
	# the hook tests' options wherever their patches are applied
	if variant_series "$variant" | grep -q "^$(hook_tests_dir)/"; then
		frags+=("$LAB_DIR/hook-tests/hook-tests.config")
	fi
fi
# The config hash covers the fragments and the recipe (the part of this
# script between the "recipe" markers that turns them into a kernel).
recipe() { sed -n '/^# --- recipe begin/,/^# --- recipe end/p' "$LAB_DIR/kernel.sh"; }
chash=$(cat "${frags[@]}" <(recipe) | sha256sum | cut -c1-16)
key="source=$SRC_PKG $debver variant=$variant series=$shash config=$chash"

# Trees built before there were lines (build/<variant>, moved by common.sh's
# migrate_layout) carry a config hash over the fragments and that day's
# whole kernel.sh (commit 6d566d8). The recipe is unchanged since, so such
# a tree is re-keyed once instead of rebuilt -- only if that hash matches.
if [ -f "$B/build-info" ] && [ -z "${SASSCAN_CONFIG_FRAGS:-}" ] &&
	[ "$(head -n1 "$B/build-info")" = "${key% config=*} config=$(
		cat "${frags[@]}" <(git -C "$TOP_DIR" show 6d566d8:lab/kernel.sh 2>/dev/null) |
			sha256sum | cut -c1-16)" ]; then
	log "kernel $variant: re-keying a tree of the single-line layout"
	sed -i "1s/.*/$key/" "$B/build-info"
fi

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
base=$(build_dir "${SASSCAN_SEED:-stock}")
if [ ! -d "$B/src/obj" ] && [ "$variant" != stock ] && [ -f "$base/build-info" ] &&
	grep -q "^source=$SRC_PKG $debver " "$base/build-info"; then
	log "seeding $variant from the $(basename "$base") tree (shared objects)"
	rm -rf "$B/src"
	cp -al "$base/src" "$B/src"
	rm -rf "$B/src/obj"
	cp -a "$base/src/obj" "$B/src/obj"
fi
# A new tree starts as hard links to the pristine source: rsync below then
# writes only what the series changes (as new files, so the links break
# there and the pristine tree stays as it is) instead of copying all of it.
[ -d "$B/src" ] || cp -al "$pristine" "$B/src"
mkdir -p "$B/src/obj"
[ -L "$B/obj" ] || rm -rf "$B/obj"	# an older layout's separate build directory
ln -sfn src/obj "$B/obj"
rsync -rlp --checksum --delete --exclude=/.sasscan-unpacked --exclude=/obj \
	"$stage/" "$B/src/"
rm -rf "$stage"

# --- recipe begin (hashed into the config key)
# The fragments' settings, the last one of each symbol only.
merged_fragments() {
	awk '/^CONFIG_[A-Za-z0-9_]+=/ { s = substr($0, 1, index($0, "=") - 1) }
	/^# CONFIG_[A-Za-z0-9_]+ is not set/ { s = $2 }
	s != "" { if (!(s in v)) o[++n] = s; v[s] = $0; s = "" }
	END { for (i = 1; i <= n; i++) print v[o[i]] }' "$@"
}
# 3. Configuration: tinyconfig + the lab fragment(s); every fragment option
#    must survive olddefconfig (the last fragment to set a symbol wins).
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
while IFS= read -r opt; do
	case $opt in
	CONFIG_*=*) grep -qxF "$opt" "$new" || { log "config: $opt did not stick"; missing=1; } ;;
	"# CONFIG_"*" is not set") sym=${opt#\# } && grep -q "^${sym%% *}=" "$new" &&
		{ log "config: $opt did not stick"; missing=1; } ;;
	esac
done < <(merged_fragments "${frags[@]}")
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
# --- recipe end
log "kernel $variant built in $(($(date +%s) - start)) s"
