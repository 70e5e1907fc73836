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

# A client that connects and says nothing: the daemon answers it
# "error: no request within 2 seconds" after about 2 s and closes, and
# meanwhile serves another client.  One python3 in C holds the silent
# connection, runs "lbspctl stats" while it waits, then reads it to
# the end; it prints: lbspctl's status (0, "bad:..." when its answer
# has no "uptime", "timeout" after 8 s) and time (ms), what the silent
# socket held when lbspctl was done ("nothing" or "answered"), the
# silent socket's wait until EOF (ms), and its answer (newlines
# written <LF>).
silent=$(nsx C timeout 20 "$PY" -c '
import socket, subprocess, sys, time
sock, ctl = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
t0 = time.monotonic()
s.connect(sock)
t1 = time.monotonic()
try:
    r = subprocess.run([ctl, "-s", sock, "stats"], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, timeout=8)
    rc = r.returncode if b"uptime" in r.stdout else "bad:%d:%r" % (
        r.returncode, r.stdout[:80])
except subprocess.TimeoutExpired:
    rc = "timeout"
t2 = time.monotonic()
try:
    s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    held = "answered"	# bytes or EOF already
except BlockingIOError:
    held = "nothing"
s.settimeout(6)
ans = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    ans += b
t3 = time.monotonic()
print(rc, int((t2 - t1) * 1000), held, int((t3 - t0) * 1000),
      ans.decode(errors="replace").replace("\n", "<LF>"))
' "$SOCK" "$LBSPCTL" 2>&1) || fail "silent client: $silent"
info "silent client: $silent"
set -- $silent
[ "$1" = 0 ] || fail "lbspctl stats while a client was silent: $1"
# Answered while the silent socket still held nothing: within the 2 s
# the daemon gives the silent client, whatever the machine's load.
[ "$3" = nothing ] ||
	fail "lbspctl stats was answered only after the silent client ($silent)"
silent_ms=$4
[ "$silent_ms" -ge 1800 ] && [ "$silent_ms" -le 3500 ] ||
	fail "silent client closed after $silent_ms ms, want about 2000"
shift 4
[ "$*" = "error: no request within 2 seconds<LF>" ] ||
	fail "silent client got '$*', want 'error: no request within 2 seconds<LF>'"

out=$(lbspctl C frobnicate 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "lbspctl on an error answer: exit $rc, want 1"
nsx C "$LBSPCTL" -s "$T/nothing.sock" stats >/dev/null 2>&1
rc=$?
[ $rc -eq 2 ] || fail "lbspctl with no daemon: exit $rc, want 2"

alive "$LBSPD_PID" || fail "lbspd died"
stats_json C "$T/stats.json"
n=$(errors "$T/stats.json")
# frobnicate twice, the long line, the binary one, servers, the
# silent client: 6 errors.
[ "$n" -eq 6 ] || fail "control errors counted: $n, want 6"
lbspctl C stats --json | "$PY" -m json.tool >/dev/null || fail "stats JSON broken"
pass "5 kinds of bad request answered and counted ($n errors), a silent client answered in $silent_ms ms while another was served, daemon fine"
