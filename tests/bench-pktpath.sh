#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/pktpath must keep running: a few passes of its three packet
# mixes through lbspd's roles, every outcome checked by its pass 0
# (modified or not, mark, addresses, the option's seg1 and seg2, the
# upper-layer checksum), the mixes of the expected size, and the mix
# it writes readable by tshark.  No time is looked at.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=.}"
pktpath="$top_builddir/bench/pktpath"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

# 16 sessions: per session the client mix has 9 packets, 2 more for
# every 4th (UDP) and 1 for every 8th (packet too big); the server 6,
# 2 more for every 4th; the balancer 13 for every 4 sessions.
s=16
"$pktpath" -n 2 -s $s -w "$tmp/mix" >"$tmp/out" 2>&1 ||
	fail "pktpath: $(cat "$tmp/out")"
grep -qx "all outcomes as expected" "$tmp/out" ||
	fail "no verdict in: $(cat "$tmp/out")"
for want in "client $((9 * s + 2 * s / 4 + s / 8)) 106" \
    "server $((6 * s + 2 * s / 4)) 80" "balancer $((13 * s / 4)) 28"; do
	set -- $want
	awk -v r="$1" -v n="$2" -v m="$3" '$1 == r && $2 == n && $3 == m &&
	    $4 == 2 { ok = 1 } END { exit !ok }' "$tmp/out" ||
		fail "want $1 with $2 packets, $3 modified, in: $(cat "$tmp/out")"
	if command -v tshark >/dev/null; then
		got=$(tshark -r "$tmp/mix-$1.pcap" -Y ipv6 2>/dev/null | wc -l)
		[ "$got" -eq "$2" ] ||
			fail "$1: tshark reads $got IPv6 packets, want $2"
	fi
done

# A role the bench does not know is bad usage.
"$pktpath" -n 1 -s 8 -r nosuchrole >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "unknown role: exit $rc, want 2"

echo "bench-pktpath: ok"
