#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Every source file carries an SPDX-License-Identifier line in its first
# five lines, and the right one: LGPL-2.1-or-later for libsp, the shims
# and their man pages (the code loaded into other programs),
# GPL-2.0-or-later for everything else -- the split debian/copyright
# states.
#
# Source files are the files the project keeps, never what a build makes
# beside them: an in-tree build (./configure && make, or
# dpkg-buildpackage, which builds in the tree) leaves objects, programs
# and generated headers there.  So the list comes from where the sources
# are recorded: in a git checkout, git's index (git ls-files); in a
# release tarball, the MANIFEST "make dist" wrote into it.  A tree with
# neither (an export of another kind) is checked file by file, which is
# right only before it is built.
# Not checked: the license texts, README, test data (tests/fuzz/corpus,
# tests/unit/conf), files with no comment syntax (debian/changelog,
# control, copyright, *.install, *.triggers, source/format, .gitignore,
# m4/.keep) and, in a tarball, what autoreconf generated.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
cd "$top_srcdir" || exit 1

want() {
	case "$1" in
	libsp/* | client-shim/* | server-shim/* | man/libsp.3 | \
	    man/lbsp-shim.8) echo LGPL-2.1-or-later ;;
	*) echo GPL-2.0-or-later ;;
	esac
}

unchecked() {
	case "$1" in
	COPYING | COPYING.LESSER | README | MANIFEST | .gitignore | \
	    */.gitignore | m4/* | tests/fuzz/corpus/* | tests/unit/conf/* | \
	    debian/changelog | debian/control | debian/copyright | \
	    debian/*.install | debian/*.triggers | debian/source/format | \
	    configure | Makefile.in | aclocal.m4 | config.h.in | \
	    build-aux/*) return 0 ;;
	esac
	return 1
}

# The git checkout is this tree itself, not one it sits in (a tarball
# unpacked in a checkout).  Only a file list is read: any owner will do.
git_top() {
	prefix=$(git -c safe.directory='*' rev-parse --show-prefix 2>/dev/null) &&
	    [ -z "$prefix" ]
}
if git_top; then
	from="git ls-files"
	list() { git -c safe.directory='*' ls-files; }
elif [ -f MANIFEST ]; then
	from="MANIFEST"
	list() { cat MANIFEST; }
else
	from="every file: no git checkout, no MANIFEST"
	list() { find . -name .git -prune -o -type f -print | sed 's|^\./||'; }
fi

n=0
bad=0
for f in $(list | LC_ALL=C sort -u); do
	unchecked "$f" && continue
	n=$((n + 1))
	if [ ! -f "$f" ]; then
		echo "spdx: $f: listed ($from) but not in the tree"
		bad=$((bad + 1))
		continue
	fi
	got=$(head -n 5 "$f" | sed -n 's/.*SPDX-License-Identifier: *\([A-Za-z0-9.+-]*\).*/\1/p' | head -n 1)
	exp=$(want "$f")
	if [ -z "$got" ]; then
		echo "spdx: $f: no SPDX-License-Identifier line (want $exp)"
		bad=$((bad + 1))
	elif [ "$got" != "$exp" ]; then
		echo "spdx: $f: $got, want $exp"
		bad=$((bad + 1))
	fi
done
# A sanity floor: finding (almost) nothing means the listing is broken.
[ "$n" -ge 100 ] || { echo "spdx: only $n source files found in $top_srcdir ($from)"; exit 1; }
for f in COPYING COPYING.LESSER; do
	[ -s "$f" ] || { echo "spdx: no $f"; bad=$((bad + 1)); }
done
echo "spdx: $n source files ($from) checked, $bad wrong"
[ "$bad" -eq 0 ]
