#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Every source file carries an SPDX-License-Identifier line in its first
# five lines, and the right one: LGPL-2.1-or-later for libsp, the shims
# and their man pages (the code loaded into other programs),
# GPL-2.0-or-later for everything else -- the split debian/copyright
# states.  Source files are found by name in the tree (not by git, so the
# check also runs on a release tarball and inside a package build, where
# build outputs sit next to the sources).  Not checked: test data
# (tests/unit/conf, tests/fuzz/corpus) and files with no comment syntax
# (debian/changelog, control, copyright, *.install, source/format).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
cd "$top_srcdir" || exit 1

want() {
	case "$1" in
	./libsp/* | ./client-shim/* | ./server-shim/* | ./man/libsp.3 | \
	    ./man/lbsp-shim.8) echo LGPL-2.1-or-later ;;
	*) echo GPL-2.0-or-later ;;
	esac
}

list() {
	# Top-level sources.
	for f in ./configure.ac ./Makefile.am; do echo "$f"; done
	# By name, in the source folders; build outputs (.o, .la, binaries,
	# logs, generated units) do not match these names.  debian/: only
	# what is not a package staging folder.
	find ./libsp ./client-shim ./server-shim ./lbspd ./bpf ./tests ./man \
	    ./contrib ./examples ./debian \
	    \( -path ./tests/fuzz/corpus -o -path ./tests/unit/conf \
	    -o -path './debian/*' -type d ! -path ./debian/source \
	    ! -path ./debian/tests -o -name '.*' -type d \) -prune -o \
	    -type f \( -name '*.c' -o -name '*.h' -o -name '*.sh' \
	    -o -name '*.py' -o -name '*.lua' -o -name '*.map' -o -name '*.in' \
	    -o -name '*.conf' -o -name '*.[1-9]' -o -path ./debian/rules \
	    -o -path './debian/*.postinst' -o -path './debian/*.lintian-overrides' \
	    -o -path './debian/tests/*' \) \
	    -print 2>/dev/null
	# Scripts without a suffix.
	find ./scripts ./bench ./.ci -type f ! -name '*.log' ! -name '*~' \
	    -print 2>/dev/null
}

n=0
bad=0
for f in $(list | sort -u); do
	n=$((n + 1))
	got=$(head -n 5 "$f" | sed -n 's/.*SPDX-License-Identifier: *\([A-Za-z0-9.+-]*\).*/\1/p' | head -n 1)
	exp=$(want "$f")
	if [ -z "$got" ]; then
		echo "spdx: ${f#./}: no SPDX-License-Identifier line (want $exp)"
		bad=$((bad + 1))
	elif [ "$got" != "$exp" ]; then
		echo "spdx: ${f#./}: $got, want $exp"
		bad=$((bad + 1))
	fi
done
# A sanity floor: finding (almost) nothing means the search is broken.
[ "$n" -ge 100 ] || { echo "spdx: only $n source files found in $top_srcdir"; exit 1; }
for f in COPYING COPYING.LESSER; do
	[ -s "$f" ] || { echo "spdx: no $f"; bad=$((bad + 1)); }
done
echo "spdx: $n source files checked, $bad wrong"
[ "$bad" -eq 0 ]
