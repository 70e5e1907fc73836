# SPDX-License-Identifier: GPL-2.0-or-later
# lib.sh -- helpers for the end-to-end tests in tests/netns/ (and
# bench/).  Sourced, never run: ". "$(dirname "$0")/lib.sh"".
#
# Each test builds its own hosts as network namespaces joined by veth
# pairs, under 2001:db8::/32 only, runs real programs at both ends and
# asserts on what crossed the wire (tcpdump capture read by tshark), on
# the kernels' counters (/proc/net/snmp6) and on "lbspctl stats --json".
# Everything it starts (namespaces, daemons, servers, captures) is
# recorded and removed by cleanup(), which lib.sh installs as the EXIT,
# INT and TERM trap.  Waits poll their condition (wait_for, try_for),
# bounded in count and time; a fixed sleep is left only where time
# itself is the point (pacing traffic, outliving a timeout under test).
#
# This file is the one entry point: it sets the environment and the
# output helpers, then sources its parts, one concern each, from lib/:
#   lib/wait.sh      wait_for, try_for, alive, pid_stop, listeners
#   lib/ns.sh        namespaces, veth, bridges, addresses, routes, cleanup
#   lib/daemons.sh   background programs, servers, lbspd and lbspctl, shims
#   lib/capture.sh   tcpdump captures and tshark's reading of them
#   lib/counters.sh  kernel counters: SNMP, nft counters, CPU time
#   lib/topo.sh      the topologies (topo_pair, topo_full, topo_megaproxy)
#   lib/balancer.sh  the balancer and single-pass tests' setups
#   lib/ecmp.sh      several balancers behind a router's ECMP (50, 51)
#
# Exit codes: 0 pass, 77 skip (not root, no network namespaces, or
# skip_kernel: the kernel lacks a feature), 1 fail with a "FAIL: reason"
# line.  A root test skips only through skip_kernel: scripts/test fails
# any other skip of a root run.
#
# Namespaces are named by the test with short logical names (C, S, c1,
# r, lb...: shell identifiers); the real name is random
# (lbsp-PID-RANDOM-NAME) so parallel runs never collide.
#
# Environment (set by "make check"; guessed when run by hand):
#   top_srcdir    source tree (default: the running script's ../..)
#   top_builddir  build tree (default: $top_srcdir/build if it holds
#                 lbspd, else the binaries are looked up in PATH)
#   LBSPD LBSPCTL the binaries (default: from top_builddir)
#   LBSPD_ARGS    extra daemon arguments, e.g. "-d"
#   KEEP=1        keep the work directory (logs, captures) on exit;
#   KEEP_ON_FAIL=1  only when the test fails

set -u

LIB_DIR=$(cd "$(dirname "$0")" && pwd)
# The test directory is tests/netns; bench/ scripts source this file too.
: "${top_srcdir:=$(cd "$LIB_DIR/../.." 2>/dev/null && pwd)}"
if [ -z "${top_builddir:-}" ]; then
	if [ -x "$top_srcdir/build/lbspd/lbspd" ]; then
		top_builddir=$top_srcdir/build
	else
		top_builddir=
	fi
fi
if [ -n "$top_builddir" ]; then
	: "${LBSPD:=$top_builddir/lbspd/lbspd}"
	: "${LBSPCTL:=$top_builddir/lbspctl/lbspctl}"
else
	: "${LBSPD:=$(command -v lbspd || echo lbspd)}"
	: "${LBSPCTL:=$(command -v lbspctl || echo lbspctl)}"
fi
# Debian's python3 (scapy, json); the python3 on PATH may be another.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

TEST_NAME=$(basename "$0")
T=				# work directory (logs, captures, configs)
LIB_NS=				# logical names of the namespaces we made
LIB_PIDS=			# background processes we started
LIB_CAPS=			# running captures: "pid:file" ...
LIB_CLEANED=0

# The parts: next to this file for a test of tests/netns (what "$0"
# names), else in the source tree (bench/ and scripts/ set top_srcdir).
LIB_PARTS=$LIB_DIR/lib
[ -f "$LIB_PARTS/wait.sh" ] || LIB_PARTS=$top_srcdir/tests/netns/lib
for lib_part in wait ns daemons capture counters topo balancer ecmp; do
	[ -r "$LIB_PARTS/$lib_part.sh" ] || {
		echo "FAIL: $TEST_NAME: cannot read $LIB_PARTS/$lib_part.sh"
		exit 1
	}
	. "$LIB_PARTS/$lib_part.sh"
done
unset lib_part

# ------------------------------------------------------------------ output

# fail MSG - print "FAIL: MSG" and exit 1 (cleanup runs from the trap).
fail()
{
	echo "FAIL: $TEST_NAME: $*"
	exit 1
}

# skip MSG - print "SKIP: MSG" and exit 77.  As root, scripts/test
# counts it as a failure: use skip_kernel for what the kernel lacks.
skip()
{
	echo "SKIP: $TEST_NAME: $*"
	exit 77
}

# scaled N - N (a bound in wall-clock time) times LBSP_TIME_SCALE (default
# 1).  The kernel matrix's guests run under emulation, several times
# slower than a host (tests/vm/guest.sh sets it): a test's bounds on how
# fast something happens are scaled, what must happen is not.
scaled()
{
	echo $(($1 * ${LBSP_TIME_SCALE:-1}))
}

# skip_kernel FEATURE MSG - the running kernel lacks FEATURE (a module,
# a BPF feature): "SKIP: kernel lacks FEATURE: MSG", exit 77, the one
# skip that scripts/test accepts from a root test.
skip_kernel()
{
	local feature=$1
	shift
	echo "SKIP: kernel lacks $feature: $TEST_NAME: $*"
	exit 77
}

# pass MSG - print "PASS: MSG" and exit 0.
pass()
{
	echo "PASS: $TEST_NAME: $*"
	exit 0
}

# info MSG - progress line.
info()
{
	echo "# $*"
}

# dump FILE... - show files (logs) after a failure, indented.
dump()
{
	for f in "$@"; do
		[ -f "$f" ] || continue
		echo "---- $f (last 40 lines)"
		tail -n 40 "$f" | sed 's/^/    /'
	done
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE
