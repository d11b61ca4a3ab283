#!/usr/bin/env bash
# Install (as root) or list (otherwise) the Debian packages the lab needs.
set -euo pipefail
pkgs=(linux-source-6.12 qemu-system-x86 busybox-static sg3-utils lsscsi bash
	gcc make libc6-dev bc bison flex libelf-dev libssl-dev cpio kmod rsync
	xz-utils patch perl python3 sparse ccache git gnuplot-nox)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "lab: missing Debian packages: ${missing[*]}" >&2
	echo "lab: as root run: apt-get install --no-install-recommends ${missing[*]}" >&2
	exit 1
fi
echo "lab: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
