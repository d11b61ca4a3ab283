#!/usr/bin/env bash
# Install (as root) or list (otherwise) the Debian packages the lab needs,
# including the kernel lines' source packages:
#   linux-source-7.3   trixie-backports (7.3.4-1~bpo13+1 when written), the primary line
#   linux-source-6.12  bookworm-security
#   linux-source-6.1   bookworm-security
# The lines sasscan-dkms carries (dkms/kernels.list) are held at the Debian
# version listed there, the source of the Debian kernel the package is for,
# even when the archive has a newer one: the lab's backport trees and the
# package are then built from the source of the kernel that Debian ships.
# trixie-backports is added as its own apt source,
# /etc/apt/sources.list.d/sasscan-trixie-backports.sources, with the URI and
# Signed-By of the system's bookworm entry: Debian's archive keyring signs
# trixie too, and backports are NotAutomatic, so nothing else is upgraded
# from there. If apt cannot install a source package (say the keyring does
# not know the suite's key on another machine, or a dependency is missing),
# the package is fetched with `apt-get download` -- which only downloads what
# a signed index lists, with that index's checksum -- and unpacked with
# `dpkg-deb -x` into $SASSCAN_CACHE/pkg/<package>/ (lab/common.sh looks there).
. "$(dirname "$0")/common.sh"
lines_pkgs=(linux-source-7.3 linux-source-6.12 linux-source-6.1)
pkgs=("${lines_pkgs[@]}" qemu-system-x86 busybox-static sg3-utils lsscsi bash
	gcc make libc6-dev bc bison flex libelf-dev libssl-dev cpio kmod rsync
	xz-utils patch perl python3 sparse ccache git gnuplot-nox)
BACKPORTS=/etc/apt/sources.list.d/sasscan-trixie-backports.sources
# linux-source-<series> -> the version dkms/kernels.list holds it at
declare -A held
while read -r series _ debver _; do
	held[linux-source-$series]=$debver
done < <(listed_kernels)

have() {
	local want=${held[$1]:-}
	if [ -n "$want" ]; then
		[ "$(dpkg-query -W -f '${Status} ${Version}' "$1" 2>/dev/null)" = \
			"install ok installed $want" ] ||
			[ "$(cat "$CACHE/pkg/$1/version" 2>/dev/null)" = "$want" ]
		return
	fi
	dpkg-query -W -f '${Status}\n' "$1" 2>/dev/null | grep -q 'install ok installed' ||
		[ -f "$CACHE/pkg/$1/version" ]
}

missing=()
for p in "${pkgs[@]}"; do
	have "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "lab: missing Debian packages: ${missing[*]}" >&2
	echo "lab: as root run: make deps (or apt-get install --no-install-recommends" \
		"${missing[*]}; linux-source-7.3 is in trixie-backports)" >&2
	exit 1
fi

# The trixie-backports source, modelled on the bookworm entry (deb822 or
# one-line format).
backports_source() {
	local uri="" key=""
	[ -f "$BACKPORTS" ] && return 0
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		read -r uri key < <(awk '
			/^$/ { if (bw && u != "") { print u, k; found = 1; exit } u = k = ""; bw = 0 }
			/^URIs:/ { u = $2 } /^Signed-By:/ { k = $2 }
			/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") bw = 1 }
			END { if (!found && bw && u != "") print u, k }' /etc/apt/sources.list.d/debian.sources) || true
	fi
	if [ -z "$uri" ]; then
		read -r uri < <(sed -n 's/^deb \(\[[^]]*\] \)\?\(\S*\) bookworm .*/\2/p' \
			/etc/apt/sources.list 2>/dev/null) || true
	fi
	uri=${uri:-http://deb.debian.org/debian}
	key=${key:-/usr/share/keyrings/debian-archive-keyring.gpg}
	echo "lab: adding trixie-backports ($uri, Signed-By $key) as $BACKPORTS" >&2
	cat >"$BACKPORTS" <<EOF
# Added by sasscan lab/deps.sh: linux-source-7.3, the lab's primary kernel line.
Types: deb
URIs: $uri
Suites: trixie-backports
Components: main
Signed-By: $key
EOF
}

echo "lab: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
case " ${missing[*]} " in *" linux-source-7.3 "*) backports_source ;; esac
apt-get update -qq || echo "lab: apt-get update reported errors (see above)" >&2
tools=() srcs=()
for p in "${missing[@]}"; do
	case $p in linux-source-*) srcs+=("$p") ;; *) tools+=("$p") ;; esac
done
[ ${#tools[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends "${tools[@]}" >/dev/null
for p in "${srcs[@]}"; do
	d=$CACHE/pkg/$p
	pv=$p${held[$p]:+=${held[$p]}}
	if apt-get install -y -qq --no-install-recommends --allow-downgrades "$pv" >/dev/null; then
		rm -rf "$d"
		continue
	fi
	echo "lab: apt-get install $pv failed; fetching it with apt-get download instead" >&2
	rm -rf "$d"
	mkdir -p "$d/root"
	(cd "$d" && apt-get download -q "$pv") ||
		{ echo "lab: $p: no verified package (is its suite's key in the keyring?)" >&2; exit 1; }
	dpkg-deb -x "$d"/"$p"_*.deb "$d/root"
	dpkg-deb -f "$d"/"$p"_*.deb Version >"$d/version"
	rm -f "$d"/"$p"_*.deb
done
