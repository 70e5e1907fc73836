#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/vm/guest.sh -- what a matrix guest runs (tests/vm/vm.sh boots it
# on one of Debian's kernels): the tc programs' checks and the listed
# end-to-end tests on the tc datapath, each in turn, each bounded in
# time.  Prints "vm <kernel>: PASS|FAIL|SKIP: <test> (<seconds> s)" per
# test, the tail of a failed test's log, and a closing count; exits 1
# when anything failed.
#
# Environment: top_srcdir, top_builddir (the host's trees, read-only
# here); OUT, where the logs go; LBSP_VM_TESTS, the netns tests (names
# without .sh) to run on tc; LBSP_VM_FUZZ_SECONDS, how long fuzz_tc
# runs when it was built (0: not at all).
set -u

: "${OUT:=/run/lbsp-vm/out}"
: "${LBSP_VM_FUZZ_SECONDS:=20}"
kernel=$(uname -r)
pass=0 fail=0 skip=0

# run NAME LIMIT CMD... -- one test: its output in $OUT/NAME.log.
run()
{
	local name=$1 limit=$2 start rc verdict
	shift 2
	start=$(date +%s)
	timeout -k 10 "$limit" "$@" >"$OUT/$name.log" 2>&1
	rc=$?
	case $rc in
	0) verdict=PASS; pass=$((pass + 1)) ;;
	77) verdict=SKIP; skip=$((skip + 1)) ;;
	*) verdict=FAIL; fail=$((fail + 1)) ;;
	esac
	echo "vm $kernel: $verdict: $name ($(($(date +%s) - start)) s)"
	if [ $verdict = FAIL ]; then
		[ $rc -eq 124 ] && echo "    (stopped after $limit s)"
		tail -n 40 "$OUT/$name.log" | sed 's/^/    /'
	fi
	# A skip is a failure unless the kernel lacks what the test needs.
	if [ $verdict = SKIP ] && ! grep -q '^SKIP: kernel lacks ' "$OUT/$name.log"; then
		echo "    a skip without a missing kernel feature: counted as a failure"
		grep '^SKIP' "$OUT/$name.log" | sed 's/^/    /'
		fail=$((fail + 1))
	fi
}

echo "vm $kernel: bpffs mode $(stat -c %a /sys/fs/bpf), $(nproc) CPUs"
# The programs the tests start, and their libraries, read once into the
# guest's cache: the first start of each over 9p takes seconds under
# emulation, which a test's bound on a fallback would count.
for p in curl tshark dumpcap tcpdump python3 socat iperf3 nginx ip nft \
    ip6tables ip6tables-restore ethtool tc conntrack "$top_builddir/lbspd/lbspd" \
    "$top_builddir/lbspctl/lbspctl"; do
	f=$(command -v "$p") || continue
	for l in "$f" $(ldd "$f" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p'); do
		cat "$l" >/dev/null 2>&1
	done
done
run check_tc 600 "$top_builddir/tests/unit/check_tc"
if [ "$LBSP_VM_FUZZ_SECONDS" -gt 0 ] && [ ! -x "$top_builddir/tests/fuzz/fuzz_tc" ]; then
	echo "vm $kernel: FAIL: fuzz_tc (not built: the host's tests/fuzz/run.sh builds it)"
	fail=$((fail + 1))
elif [ "$LBSP_VM_FUZZ_SECONDS" -gt 0 ]; then
	mkdir -p /tmp/fuzz_tc
	run fuzz_tc $((LBSP_VM_FUZZ_SECONDS + 120)) env LBSP_FUZZ_WORKDIR=/tmp/fuzz_tc \
	    FUZZ_TARGETS=tc FUZZ_TC_SECONDS="$LBSP_VM_FUZZ_SECONDS" \
	    sh "$top_srcdir/tests/fuzz/run.sh"
	sed -n 's/^fuzz_tc: /    fuzz_tc: /p' "$OUT/fuzz_tc.log"
fi
# Emulated, the guest is several times slower than the host: the
# tests' bounds on how soon something happens are scaled by this
# (tests/netns/lib.sh, scaled), what must happen is not.  Debian's
# kernels have the VLAN and bonding modules this host may lack:
# 54-stacked-links fails without them here (LBSP_STACKS_REQUIRED).
for t in ${LBSP_VM_TESTS}; do
	run "$t.tc" 900 env LBSP_DATAPATH=tc LBSP_TIME_SCALE="${LBSP_TIME_SCALE:-3}" \
	    LBSP_STACKS_REQUIRED=1 \
	    sh "$top_srcdir/tests/netns/$t.sh"
done
echo "vm $kernel: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
