#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# lbspctl and the end of an answer: against stand-in daemons (socat on a
# unix socket in a private directory), lbspctl
#   - asks for the end mark ("--end" in its request line);
#   - exits 0 and prints the answer without its mark when the answer
#     ends with the mark, an empty answer included;
#   - exits 2, saying "empty answer", when the daemon closes without a
#     byte, and "truncated answer" when the mark is missing (the bytes
#     it got are still printed);
#   - exits 1 on an error answer, mark or not.
set -u
: "${top_builddir:=.}"
lbspctl="$top_builddir/lbspctl/lbspctl"
command -v socat >/dev/null || { echo "FAIL: socat not installed"; exit 1; }
tmp=$(mktemp -d) || exit 1
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

# serve SCRIPT - a stand-in daemon on $tmp/s.sock: each connection's
# request line is saved in $tmp/req, then SCRIPT's output is the answer.
serve()
{
	[ -n "$pid" ] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
	rm -f "$tmp/s.sock"
	printf '#!/bin/sh\nhead -n 1 >"%s/req"\n%s\n' "$tmp" "$1" >"$tmp/answer.sh"
	socat UNIX-LISTEN:"$tmp/s.sock",fork EXEC:"sh $tmp/answer.sh" &
	pid=$!
	i=0
	while [ ! -S "$tmp/s.sock" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -S "$tmp/s.sock" ] || fail "socat did not listen"
}

# run WANT_RC ARGS... - lbspctl ARGS against the stand-in; OUT, ERR.
run()
{
	want=$1
	shift
	"$lbspctl" -s "$tmp/s.sock" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	OUT=$(cat "$tmp/out")
	ERR=$(cat "$tmp/err")
	[ $rc -eq "$want" ] || fail "lbspctl $*: exit $rc, want $want (out '$OUT', err '$ERR')"
}

serve "printf '{\"a\": 1}\\n\\000'"
run 0 stats --json
[ "$OUT" = '{"a": 1}' ] || fail "whole answer: printed '$OUT'"
grep -q -- '--end' "$tmp/req" || fail "the request asks for no end mark: $(cat "$tmp/req")"
od -c "$tmp/out" | grep -q '\\0' && fail "the end mark was printed"

serve "printf '\\000'"
run 0 flows
[ -z "$OUT" ] || fail "empty answer with its mark: printed '$OUT'"

serve "true"
run 2 stats
echo "$ERR" | grep -q "empty answer" || fail "no answer: said '$ERR'"

serve "printf '{\"counters\": {\"packets\": 12'"
run 2 stats --json
echo "$ERR" | grep -q "truncated answer" || fail "cut answer: said '$ERR'"
[ "$OUT" = '{"counters": {"packets": 12' ] || fail "cut answer: printed '$OUT'"

serve "printf 'error: no balancer role in this daemon\\n\\000'"
run 1 stick
echo "$ERR" | grep -q "^error: no balancer role" || fail "error answer: '$ERR'"
serve "printf 'error: malformed request\\n'"
run 1 stats
echo "$ERR" | grep -q "^error: malformed request" || fail "error answer without mark: '$ERR'"

echo "PASS: lbspctl: whole answers (even empty) exit 0, empty and truncated ones exit 2, errors 1"
