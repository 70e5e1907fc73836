#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/vm/matrix.sh -- the kernel matrix: the tc datapath's tests in a
# guest booted on one of Debian's kernels.  "make check" runs it once a
# series, as tests/vm/<series>.vm (a wrapper that sets LBSP_VM_SERIES).
#
# Root only (exit 77 otherwise).  It needs qemu, busybox-static and the
# kernel packages that scripts/deps.sh installs; without them it skips,
# unless LBSP_VM_REQUIRED=1 (scripts/test, so CI), when it fails.
# LBSP_VM=0 skips it on purpose.  The guest's logs stay in
# $top_builddir/tests/vm/<series>/.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir/build}"
: "${LBSP_VM_SERIES:?which kernel series (6.1, 6.12)}"
: "${LBSP_VM_REQUIRED:=0}"
series=$LBSP_VM_SERIES
vm=$top_srcdir/tests/vm

# What each guest runs on tc, besides check_tc (and fuzz_tc, when it is
# built): the client and server roles end to end, bulk, persistence
# across restarts, single pass, fallback, stranded retries, the
# program's lifetime (kill -9 takeover, SIGTERM, clsact), the option
# blackhole, stacked links (bridge, VLAN, bond) and a program sharing
# the hooks.
: "${LBSP_VM_TESTS:=10-client-server 11-bulk 21-persistence 40-single-pass 42-fallback 45-retry-stranded 47-tc-datapath 48-option-blackhole 54-stacked-links 55-tc-chain}"

unusable()
{
	if [ "$LBSP_VM_REQUIRED" = 1 ]; then
		echo "FAIL: $1"
		exit 1
	fi
	echo "SKIP: $1"
	exit 77
}

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
[ "${LBSP_VM:-1}" != 0 ] || { echo "SKIP: LBSP_VM=0"; exit 77; }
command -v qemu-system-x86_64 >/dev/null 2>&1 ||
	unusable "no qemu-system-x86_64 (scripts/deps.sh installs it)"
ver=$(sh "$vm/kernels.sh" version "$series" 2>&1) ||
	unusable "$ver"

out=$top_builddir/tests/vm/$series
rm -rf "$out"
mkdir -p "$out"
# The guest starts here: the host's environment does not reach it.
cat >"$out/run.sh" <<EOF
top_srcdir='$top_srcdir' top_builddir='$top_builddir'
LBSP_VM_TESTS='$LBSP_VM_TESTS' LBSP_VM_FUZZ_SECONDS='${LBSP_VM_FUZZ_SECONDS:-20}'
OUT=/run/lbsp-vm/out
export top_srcdir top_builddir LBSP_VM_TESTS LBSP_VM_FUZZ_SECONDS OUT
exec sh '$vm/guest.sh'
EOF
echo "matrix: Debian's linux-image-$ver in qemu ($series)"
start=$(date +%s)
sh "$vm/vm.sh" "$series" "$out" "$out/run.sh"
rc=$?
cat "$out/log" 2>/dev/null
echo "matrix: $ver: guest exit $rc in $(($(date +%s) - start)) s"
exit $rc
