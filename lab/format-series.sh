#!/usr/bin/env bash
# Regenerate the series in patches/ from a git branch of the kernel tree,
# under the submitter's own identity, with a cover letter.
#
#   AUTHOR='Full Name <you@domain>' lab/format-series.sh -C KTREE \
#       [-b BASE] [-o OUTDIR] [-c COVER] [-v REROLL] [BRANCH]
#   lab/format-series.sh -k -C KTREE [...] [BRANCH]
#
#   KTREE   git repository of the kernel tree the branch lives in (the 7.3
#           tree for patches/); also where scripts/get_maintainer.pl runs.
#           Default: $KTREE.
#   BRANCH  the branch holding the series on top of BASE (default: HEAD).
#   BASE    default: the newest commit of BRANCH whose subject starts with
#           "Linux <digit>" (the release commit of a tarball-made repository).
#   OUTDIR  default: patches/ of this checkout. Old NNNN-*.patch files there
#           are removed first.
#   COVER   the cover letter: first line the subject, then a blank line,
#           then the body. Default: patches/cover-letter.txt.
#
# Every commit's author and every Signed-off-by: line carrying the commit's
# author identity are rewritten to AUTHOR. -k keeps the commits' own identity
# instead (AUTHOR is then ignored): that is only for the project's committed
# copy of the series, never for sending. The sign-off certifies the
# Developer's Certificate of Origin, so AUTHOR must be the submitter's own
# name and address: placeholders and malformed values are refused.
# To: (maintainers) and Cc: (reviewers, lists) come from
# scripts/get_maintainer.pl --no-git --no-rolestats run in KTREE over the
# series, and are put on every patch and on 0000-cover-letter.patch.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ktree=${KTREE:-}
base=
outdir=$here/patches
cover=$here/patches/cover-letter.txt
reroll=
keep=

die() {
	echo "format-series: $*" >&2
	exit 1
}

usage() {
	sed -n '4,6p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2
	exit 2
}

while getopts 'C:b:o:c:v:kh' opt; do
	case $opt in
	k) keep=1 ;;
	C) ktree=$OPTARG ;;
	b) base=$OPTARG ;;
	o) outdir=$OPTARG ;;
	c) cover=$OPTARG ;;
	v) reroll=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -le 1 ] || usage
branch=${1:-HEAD}

# --- the submitter's identity ------------------------------------------------
check_author() {
	author=${AUTHOR:-}
	[ -n "$author" ] ||
		die "AUTHOR is not set: run with AUTHOR='Your Name <you@your.domain>' (your own identity: it signs the DCO)"
	re='^[^<>@[:space:]][^<>@]*[^<>@[:space:]] <[^<>@[:space:]]+@[^<>@[:space:]]+\.[^<>@[:space:].]+>$'
	[[ $author =~ $re ]] ||
		die "AUTHOR '$author' is malformed: expected 'Full Name <user@domain.tld>'"
	lc=${author,,}
	for bad in localhost 'example.com' 'example.org' 'example.net' '.example>' \
		'.invalid>' '.test>' '.local>' noreply no-reply sasscan placeholder \
		'your name' 'full name' 'john doe' 'jane doe' changeme; do
		case $lc in
		*"$bad"*) die "AUTHOR '$author' looks like a placeholder ('$bad'): sign off with your own name and address" ;;
		esac
	done
	name=${author% <*}
	email=${author##*<}
	email=${email%>}
	case ${email,,} in
	you@* | user@* | me@* | name@* | your.name@* | first.last@*)
		die "AUTHOR '$author' looks like a placeholder: sign off with your own name and address" ;;
	esac
}
[ -n "$keep" ] || check_author

# --- the tree, branch and base ----------------------------------------------
[ -n "$ktree" ] || die "no kernel tree: pass -C KTREE or set KTREE"
git -C "$ktree" rev-parse --git-dir >/dev/null 2>&1 || die "$ktree is not a git repository"
[ -f "$ktree/scripts/get_maintainer.pl" ] ||
	die "$ktree has no scripts/get_maintainer.pl"
[ -f "$cover" ] || die "no cover letter body: $cover"
git -C "$ktree" rev-parse --verify -q "$branch^{commit}" >/dev/null || die "no such branch: $branch"
if [ -z "$base" ]; then
	base=$(git -C "$ktree" log -1 --format=%H --grep='^Linux [0-9]' "$branch")
	[ -n "$base" ] || die "no 'Linux <version>' commit in $branch: pass -b BASE"
fi
git -C "$ktree" rev-parse --verify -q "$base^{commit}" >/dev/null || die "no such base: $base"
[ -z "$(git -C "$ktree" rev-list --merges "$base..$branch")" ] || die "$base..$branch contains merges"
mapfile -t commits < <(git -C "$ktree" rev-list --reverse "$base..$branch")
[ ${#commits[@]} -gt 0 ] || die "$base..$branch is empty"

# --- rewrite the identity on a detached copy of the commits ------------------
if [ -n "$keep" ]; then
	author=$(git -C "$ktree" log -1 --format='%an <%ae>' "${commits[0]}")
	name=${author% <*}
	email=${author##*<}
	email=${email%>}
fi
parent=$(git -C "$ktree" rev-parse "$base^{commit}")
[ -n "$keep" ] && parent=$(git -C "$ktree" rev-parse "$branch^{commit}")
[ -n "$keep" ] || for c in "${commits[@]}"; do
	orig=$(git -C "$ktree" log -1 --format='%an <%ae>' "$c")
	msg=$(git -C "$ktree" log -1 --format=%B "$c" |
		awk -v o="Signed-off-by: $orig" -v n="Signed-off-by: $author" \
			'$0 == o { $0 = n } { print }')
	grep -qxF "Signed-off-by: $author" <<<"$msg" ||
		die "commit $(git -C "$ktree" log -1 --format='%h ("%s")' "$c") has no Signed-off-by: of its author $orig"
	date=$(git -C "$ktree" log -1 --format=%aD "$c")
	parent=$(GIT_AUTHOR_NAME=$name GIT_AUTHOR_EMAIL=$email GIT_AUTHOR_DATE=$date \
		GIT_COMMITTER_NAME=$name GIT_COMMITTER_EMAIL=$email GIT_COMMITTER_DATE=$date \
		git -C "$ktree" commit-tree "$(git -C "$ktree" rev-parse "$c^{tree}")" \
		-p "$parent" <<<"$msg")
done
tip=$parent

# --- To/Cc from get_maintainer.pl over the series ----------------------------
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$ktree" format-patch -q -o "$tmp/series" "$base..$tip"
getmaint() {
	# It asks git about the commits that Fixes: tags name; a tarball-made
	# repository lacks the oldest ones, which is harmless here.
	(cd "$ktree" && perl scripts/get_maintainer.pl --no-git --no-rolestats "$@" \
		"$tmp"/series/*.patch 2>"$tmp/gm.err") ||
		{ cat "$tmp/gm.err" >&2; die "get_maintainer.pl failed"; }
}
mapfile -t to < <(getmaint --no-l --no-r)
mapfile -t cc < <(getmaint --no-m)
[ ${#to[@]} -gt 0 ] || die "get_maintainer.pl found no maintainer"
args=()
for a in "${to[@]}"; do args+=("--to=$a"); done
for a in "${cc[@]}"; do args+=("--cc=$a"); done
[ -z "$reroll" ] || args+=("-v" "$reroll")

# --- write the series --------------------------------------------------------
mkdir -p "$outdir"
find "$outdir" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' -delete
# the cover letter's From: is the committer identity of the format-patch run
git -C "$ktree" -c user.name="$name" -c user.email="$email" \
	format-patch -q --cover-letter "${args[@]}" -o "$outdir" "$base..$tip"

coverpatch=$(find "$outdir" -maxdepth 1 -name '*0000-cover-letter.patch' | head -n 1)
[ -n "$coverpatch" ] || die "git format-patch wrote no cover letter"
subject=$(head -n 1 "$cover")
[ -n "$subject" ] || die "$cover: the first line (the subject) is empty"
tail -n +3 "$cover" >"$tmp/body"
awk -v subject="$subject" -v bodyfile="$tmp/body" '
	/\*\*\* SUBJECT HERE \*\*\*/ { sub(/\*\*\* SUBJECT HERE \*\*\*/, subject) }
	/^\*\*\* BLURB HERE \*\*\*$/ {
		while ((getline line < bodyfile) > 0)
			print line
		next
	}
	{ print }' "$coverpatch" >"$tmp/cover" && mv "$tmp/cover" "$coverpatch"

# --- check what was written --------------------------------------------------
for c in "${commits[@]}"; do
	orig=$(git -C "$ktree" log -1 --format='%ae' "$c")
	[ "$orig" = "$email" ] && continue
	if grep -lF "$orig" "$outdir"/[0-9][0-9][0-9][0-9]-*.patch >&2; then
		die "the address '$orig' is still in the files above"
	fi
done
if grep -l '\*\*\* \(SUBJECT\|BLURB\) HERE \*\*\*' "$coverpatch" >&2; then
	die "the cover letter still has git's placeholders"
fi
echo "format-series: wrote $((${#commits[@]} + 1)) files to $outdir as $author"
