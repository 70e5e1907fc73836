#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Build each libFuzzer target with clang and run it for a short, bounded
# time from the seed corpus.  Part of "make check"; skips (77) when
# configure found no clang able to build libFuzzer targets.
# FUZZ_SECONDS (default 20) sets the time per target.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
: "${FUZZ_SECONDS:=20}"

if [ -z "${FUZZ_CC:-}" ]; then
	echo "fuzz: no clang with -fsanitize=fuzzer; skipped"
	exit 77
fi

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT	# the EXIT trap cleans up; stop here
trap 'exit 143' TERM

src="$top_srcdir/libsp"
libsp_sources="$src/pkt.c $src/exthdr.c $src/dopt.c $src/csum.c $src/tcp.c
	$src/siphash.c $src/table.c $src/flow.c $src/stick.c $src/cache.c
	$src/conf.c $src/sched*.c $src/health.c"

rc=0
for target in pkt conf; do
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
