#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Build each libFuzzer target with clang and run it for a short, bounded
# time from the seed corpus.  Part of "make check"; skips (77) when
# configure found no clang able to build libFuzzer targets.
# FUZZ_SECONDS (default 20) sets the time per target.
#
# fuzz_tc (tests/fuzz/fuzz_tc.c) is differential: each input goes
# through the tc programs (bpf_prog_test_run_opts) and through libsp,
# and the two must agree.  It needs root and a kernel that loads the
# programs; otherwise it is skipped (the others still run).  It is
# built from the skeletons of the build tree (bpf/*.skel.h) into
# $top_builddir/tests/fuzz/fuzz_tc, and runs FUZZ_TC_SECONDS (default
# 20); the log line "fuzz_tc: N executions, M compared, K by policy"
# says how many inputs it ran.
#
# In a guest that mounts the host's root read-only, run the binary the
# host built, writing only below a directory of the guest's
# (LBSP_FUZZ_WORKDIR: corpus, log and any crash go there; nothing is
# built, nothing written in the tree):
#   LBSP_FUZZ_WORKDIR=/tmp/fuzz FUZZ_TARGETS=tc FUZZ_TC_SECONDS=60 \
#     top_srcdir=/work/lbsp top_builddir=/work/lbsp/build \
#     sh /work/lbsp/tests/fuzz/run.sh
# or the binary alone (libFuzzer's own flags; exit 77: not root, or the
# kernel refused the programs):
#   mkdir -p /tmp/fuzz/corpus && /work/lbsp/build/tests/fuzz/fuzz_tc \
#     -max_total_time=60 -error_exitcode=1 -max_len=2048 \
#     -artifact_prefix=/tmp/fuzz/ /tmp/fuzz/corpus \
#     /work/lbsp/tests/fuzz/corpus/tc
# FUZZ_TARGETS (default "pkt conf tc") chooses the targets.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
: "${FUZZ_SECONDS:=20}"
: "${FUZZ_TC_SECONDS:=20}"
: "${FUZZ_TARGETS:=pkt conf tc}"
: "${FUZZ_TC_BIN:=$top_builddir/tests/fuzz/fuzz_tc}"

if [ -n "${LBSP_FUZZ_WORKDIR:-}" ]; then
	work=$LBSP_FUZZ_WORKDIR
	mkdir -p "$work" || exit 1
	guest=1
else
	if [ -z "${FUZZ_CC:-}" ]; then
		echo "fuzz: no clang with -fsanitize=fuzzer; skipped"
		exit 77
	fi
	work=$(mktemp -d) || exit 1
	trap 'rm -rf "$work"' EXIT
	guest=
fi
trap 'exit 130' INT	# the EXIT trap cleans up; stop here
trap 'exit 143' TERM

src="$top_srcdir/libsp"
libsp_sources="$src/pkt.c $src/exthdr.c $src/dopt.c $src/csum.c $src/tcp.c
	$src/siphash.c $src/table.c $src/flow.c $src/stick.c $src/cache.c
	$src/conf.c $src/sched*.c $src/health.c"

# fuzz_tc: build (not in a guest), run when root; 77 from the binary
# is a skip (the kernel cannot load the programs).
fuzz_tc() {
	if [ "$(id -u)" != 0 ]; then
		echo "fuzz_tc: needs root (bpf); skipped"
		return 0
	fi
	if [ -z "$guest" ]; then
		# shellcheck disable=SC2086
		if ! $FUZZ_CC -g -O1 -fsanitize=fuzzer,address,undefined \
		    -fno-sanitize-recover=all -I"$top_builddir" \
		    -I"$src/include" -I"$src" -I"$top_srcdir/lbspd" \
		    -I"$top_builddir/bpf" -I"$top_srcdir/bpf" \
		    -o "$FUZZ_TC_BIN" "$top_srcdir/tests/fuzz/fuzz_tc.c" \
		    $lbspd_sources $libsp_sources -lbpf -lmnl -lpthread
		then
			echo "fuzz_tc: build failed"
			return 1
		fi
	fi
	if [ ! -x "$FUZZ_TC_BIN" ]; then
		echo "fuzz_tc: no $FUZZ_TC_BIN (built on the host); skipped"
		return 0
	fi
	mkdir -p "$work/corpus-tc"
	"$FUZZ_TC_BIN" -max_total_time="$FUZZ_TC_SECONDS" -timeout=10 \
	    -error_exitcode=1 -rss_limit_mb=2048 -max_len=2048 \
	    -print_final_stats=1 -artifact_prefix="$work/" \
	    "$work/corpus-tc" "$top_srcdir/tests/fuzz/corpus/tc" \
	    >"$work/log-tc" 2>&1
	case $? in
	0)
		sed -n 's/^\(fuzz_tc: [0-9]* executions.*\)/\1/p' \
		    "$work/log-tc"
		echo "fuzz_tc: ok in ${FUZZ_TC_SECONDS}s"
		;;
	77)
		tail -n 1 "$work/log-tc"
		echo "fuzz_tc: skipped"
		;;
	*)
		echo "fuzz_tc: FAILED"
		tail -n 60 "$work/log-tc"
		[ -z "$guest" ] && cp "$work"/crash-* "$work"/leak-* \
		    "$work"/timeout-* "$top_builddir/" 2>/dev/null
		return 1
		;;
	esac
}

lbspd_sources="$top_srcdir/lbspd/path/tc.c $top_srcdir/lbspd/path/links.c
	$top_srcdir/lbspd/system/log.c
	$top_srcdir/lbspd/control/print.c $top_srcdir/lbspd/control/prom.c"
libsp_sources="$libsp_sources $src/clock.c $src/peer.c"

rc=0
for target in $FUZZ_TARGETS; do
	if [ "$target" = tc ]; then
		fuzz_tc || rc=1
		continue
	fi
	if [ -n "$guest" ]; then
		echo "fuzz_$target: not in a guest (LBSP_FUZZ_WORKDIR); skipped"
		continue
	fi
	bin="$work/fuzz_$target"
	# shellcheck disable=SC2086
	if ! $FUZZ_CC -g -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all -I"$src/include" -I"$src" \
	    -o "$bin" "$top_srcdir/tests/fuzz/fuzz_$target.c" $libsp_sources
	then
		echo "fuzz_$target: build failed"
		rc=1
		continue
	fi
	seeds="$top_srcdir/tests/fuzz/corpus/$target"
	extra=
	[ "$target" = conf ] && extra="$top_srcdir/examples"
	mkdir -p "$work/corpus-$target"
	# shellcheck disable=SC2086
	if "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
	    -max_len=4096 -print_final_stats=1 \
	    "$work/corpus-$target" "$seeds" $extra >"$work/log-$target" 2>&1
	then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
		    "$work/log-$target")
		echo "fuzz_$target: ok, $runs runs in ${FUZZ_SECONDS}s"
	else
		echo "fuzz_$target: FAILED"
		tail -n 40 "$work/log-$target"
		cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* \
		    "$top_builddir/" 2>/dev/null
		rc=1
	fi
done
exit $rc
