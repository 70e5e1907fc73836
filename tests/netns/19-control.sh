#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 19-control.sh -- bad control requests get a clear answer, are
# counted, and never hurt the daemon: an unknown command, a line over
# 512 bytes, binary bytes, a client that says nothing, a balancer
# command without the role; lbspctl exits 1 on an error answer and 2
# when nothing listens.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
command -v socat >/dev/null || fail "socat not installed"
topo_pair

errors() { json_get "$1" "j['control']['errors']"; }

cat >"$T/client.conf" <<CONF
role client
queue 0
vip $S_ADDR {
	ports 80
}
CONF
lbspd_start C "$T/client.conf"
SOCK=$(lbsp_sock C)

ask() # what to send (printf format), then prints the answer
{
	printf "$1" | nsx C timeout 5 socat -t 3 - UNIX-CONNECT:"$SOCK" 2>&1
}

a=$(ask 'frobnicate\n')
case $a in "error: unknown command 'frobnicate'"*) ;; *) fail "unknown: '$a'" ;; esac
a=$(ask "$(head -c 600 /dev/zero | tr '\0' a)\n")
case $a in "error: request longer than 512 bytes"*) ;; *) fail "long: '$a'" ;; esac
a=$(ask 'stats\001\377\n')
case $a in "error: malformed request"*) ;; *) fail "binary: '$a'" ;; esac
a=$(ask 'servers\n')
case $a in "error: no balancer role in this daemon"*) ;; *) fail "servers: '$a'" ;; esac

# A client that connects and says nothing: answered in about 2 s, and
# the daemon keeps serving meanwhile-queued requests.
start=$(date +%s)
a=$(nsx C timeout 6 socat -t 5 UNIX-CONNECT:"$SOCK" - </dev/null 2>&1 ||
    true)
[ $(($(date +%s) - start)) -le 4 ] || fail "silent client held the daemon"

out=$(lbspctl C frobnicate 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "lbspctl on an error answer: exit $rc, want 1"
nsx C "$LBSPCTL" -s "$T/nothing.sock" stats >/dev/null 2>&1
rc=$?
[ $rc -eq 2 ] || fail "lbspctl with no daemon: exit $rc, want 2"

alive "$LBSPD_PID" || fail "lbspd died"
stats_json C "$T/stats.json"
n=$(errors "$T/stats.json")
[ "$n" -ge 5 ] || fail "control errors counted: $n, want at least 5"
lbspctl C stats --json | "$PY" -m json.tool >/dev/null || fail "stats JSON broken"
pass "5 kinds of bad request answered and counted ($n errors), daemon fine"
