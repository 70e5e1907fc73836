#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# lbspd -n: the shipped example configurations pass with
# "configuration OK"; a broken one prints every error as FILE:LINE:
# message and exits 1; a missing file is a clear error.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=.}"
lbspd="$top_builddir/lbspd/lbspd"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

for conf in "$top_srcdir"/examples/*.conf; do
	out=$("$lbspd" -n -c "$conf" 2>&1) || fail "$conf: $out"
	[ "$out" = "configuration OK" ] || fail "$conf: unexpected: $out"
done

cat >"$tmp/bad.conf" <<'CONF'
role balancer
queue 7-3
option-type 1
vip 2001:db8:f::100 {
    server 2001:db8:5::1 weight 0
    bogus-keyword 1
}
CONF
"$lbspd" -n -c "$tmp/bad.conf" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "bad config: exit $rc, want 1"
for line in 2 3 5 6; do
	grep -q "^$tmp/bad.conf:$line: " "$tmp/out" ||
		fail "bad config: no error for line $line in: $(cat "$tmp/out")"
done
[ "$(wc -l <"$tmp/out")" -ge 4 ] || fail "bad config: errors missing"

"$lbspd" -n -c "$tmp/missing.conf" >"$tmp/out" 2>&1 && fail "missing file accepted"
grep -q "missing.conf" "$tmp/out" || fail "missing file: $(cat "$tmp/out")"

echo "lbspd-check: ok"
