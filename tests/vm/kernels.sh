#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/vm/kernels.sh -- the kernels of the test matrix: Debian's own
# kernel packages, the ones lbsp's users run.
#
#   kernels.sh fetch     download the newest package of each series and
#                        unpack it into $LBSP_VM_DIR/<version>/ (run by
#                        scripts/deps.sh, as root; again is a no-op)
#   kernels.sh version SERIES
#                        print the unpacked version of SERIES, or fail
#
# Series (the name a matrix test carries: tests/vm/<series>.vm):
#   6.1   Debian 12's own kernel: linux-image-6.1.0-N-amd64, the version
#         bookworm's linux-image-amd64 depends on
#   6.12  bookworm-backports' (and bookworm-security's)
#         linux-image-6.12.N+deb12-amd64
set -eu

: "${LBSP_VM_DIR:=/var/cache/lbsp-vm}"

# The package name of series $1, as the archive has it now.
package_of()
{
	case $1 in
	6.1)
		apt-cache depends linux-image-amd64 2>/dev/null |
		    sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' |
		    sort -V | tail -n 1 ;;
	6.12)
		apt-cache pkgnames linux-image-6.12 2>/dev/null |
		    grep -E '^linux-image-6\.12\.[0-9]+\+deb12-amd64$' |
		    sort -V | tail -n 1 ;;
	*)
		echo "kernels.sh: unknown series '$1' (6.1, 6.12)" >&2
		return 1 ;;
	esac
}

# Unpack package $1 (linux-image-VERSION) into $LBSP_VM_DIR/VERSION.
fetch_one()
{
	local pkg=$1 ver dir tmp
	ver=${pkg#linux-image-}
	dir=$LBSP_VM_DIR/$ver
	[ -f "$dir/boot/vmlinuz-$ver" ] && [ -f "$dir/lib/modules/$ver/modules.dep" ] &&
		return 0
	tmp=$(mktemp -d "$LBSP_VM_DIR/fetch.XXXXXX")
	# apt's sandbox user cannot write a root-owned 0700 directory.
	chmod 0755 "$tmp"
	if ! (cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1); then
		rm -rf "$tmp"
		echo "kernels.sh: cannot download $pkg" >&2
		return 1
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	dpkg-deb -x "$tmp"/*.deb "$dir"
	rm -rf "$tmp"
	# The package's postinst makes modules.dep; unpacked, we do.
	depmod -b "$dir" "$ver"
	echo "kernels.sh: $pkg unpacked in $dir"
}

case ${1:-} in
fetch)
	mkdir -p "$LBSP_VM_DIR"
	for s in 6.1 6.12; do
		pkg=$(package_of $s)
		[ -n "$pkg" ] || { echo "kernels.sh: no package for $s" >&2; exit 1; }
		fetch_one "$pkg"
		echo "$pkg" >"$LBSP_VM_DIR/series-$s"
	done ;;
version)
	[ $# -eq 2 ] || { echo "usage: kernels.sh version SERIES" >&2; exit 2; }
	f=$LBSP_VM_DIR/series-$2
	[ -f "$f" ] || { echo "kernels.sh: series $2 not fetched (scripts/deps.sh)" >&2; exit 1; }
	ver=$(sed 's/^linux-image-//' "$f")
	[ -f "$LBSP_VM_DIR/$ver/boot/vmlinuz-$ver" ] ||
		{ echo "kernels.sh: $ver not unpacked in $LBSP_VM_DIR" >&2; exit 1; }
	echo "$ver" ;;
*)
	echo "usage: kernels.sh fetch | version SERIES" >&2
	exit 2 ;;
esac
