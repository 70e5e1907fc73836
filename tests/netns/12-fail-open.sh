#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 12-fail-open.sh -- fail open: kill -9 the client's lbspd in the middle
# of a TCP transfer; the transfer still completes with every byte, and
# new connections still work (the steering rules left behind by a dead
# daemon must not black-hole traffic).
#
# The transfer (100 MB, paced at 200 Mbit/s: about 4 s) runs from the
# client host to the server host; the daemon is killed once the server
# link has received 30 MB and while the sender still runs.  A capture at
# the server shows the option on every client packet of the transfer
# up to the kill and on none after it (at least one packet per 1440
# bytes still to send passes without it), and a new connection to a
# vip port after the kill passes without it too.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
command -v curl >/dev/null || fail "curl not installed"
topo_pair

# "lbspctl stats --json" field names, in one place.
counter() { json_get "$1" "j['counters']['$2']"; }

BYTES=104857600
PORT=5000
cat >"$T/client.conf" <<EOF
role client
queue 0
identity address
vip $S_ADDR {
	ports 80 $PORT
	allow-servers 2001:db8:1::/64
}
EOF
cat >"$T/server.conf" <<EOF
role server
queue 0
server-address $S_ADDR
EOF

mkdir "$T/www"
echo S >"$T/www/name"
http_server S $S_ADDR 80 "$T/www"
tcp_sink S $S_ADDR $PORT "$T/sink.out"
lbspd_start S "$T/server.conf"
lbspd_start C "$T/client.conf"
client_pid=$LBSPD_PID
capture S $S_IF "$T/link.pcap"

rx_bytes() { nsx S cat /sys/class/net/$S_IF/statistics/rx_bytes; }
rx0=$(rx_bytes)
# The sender runs in the background (its output in source.out).
(tcp_source C $S_ADDR $PORT $BYTES 200 >"$T/source.out" 2>"$T/source.err";
    echo $? >"$T/source.rc") &
source_pid=$!
LIB_PIDS="$LIB_PIDS $source_pid"

past_30mb() { [ $(($(rx_bytes) - rx0)) -gt 31457280 ]; }
wait_for "30 MB at the server" 60 past_30mb
alive "$source_pid" || fail "transfer ended before the kill: cannot test fail-open"
# Proof that the option was in use before the kill.
stats_json C "$T/stats-before.json"
kill -KILL "$client_pid"
killed=$(($(rx_bytes) - rx0))
info "lbspd (client) killed after $killed bytes"
wait_for "lbspd (client) to die" 5 eval '! alive $client_pid'
wait "$client_pid" 2>/dev/null
# Fail open: with nobody on the queue the rules let packets through
# (--queue-bypass), so the transfer goes on at once.  Without it every
# packet would be dropped: the link would stay still.
past_kill_5mb() { [ $(($(rx_bytes) - rx0 - killed)) -gt 5242880 ]; }
try_for 10 past_kill_5mb ||
	fail "less than 5 MB in 10 s after the kill: no fail-open ($(($(rx_bytes) - rx0 - killed)) bytes)"

i=0
while alive "$source_pid" && [ $i -lt 1200 ]; do
	sleep 0.1
	i=$((i + 1))
done
alive "$source_pid" && fail "transfer not done 120 s after the kill"
wait "$source_pid" 2>/dev/null
try_for 10 test -s "$T/sink.out"
rc=$(cat "$T/source.rc" 2>/dev/null)
[ "$rc" = 0 ] || { dump "$T/source.err"; fail "sender exited with '$rc'"; }
set -- $(cat "$T/source.out")
sent=$1 sum=$2
[ -s "$T/sink.out" ] || fail "receiver reported nothing"
set -- $(cat "$T/sink.out")
got=$1 gotsum=$2 gap=$3
info "sent $sent, received $got bytes, longest wait ${gap} ms"
[ "$got" -eq $BYTES ] || fail "received $got bytes of $BYTES"
[ "$gotsum" = "$sum" ] || fail "received data differs from sent data"

# A new connection after the kill works, to a port of the vip (80).
out=$(nsx C curl -gsS --max-time 10 "http://[$S_ADDR]/name" 2>&1) ||
	fail "new connection after the kill: $out"
[ "$out" = S ] || fail "new connection after the kill: got '$out'"
capture_quiet 3
capture_stop

# The option was on the wire before the kill (else this proves nothing).
inserted=$(counter "$T/stats-before.json" inserted)
[ "$inserted" -ge 1 ] || fail "client inserted nothing before the kill"
# The transfer's client packets, in the order the server got them: the
# option on every one up to the kill, on none after (a run of 1s then
# a run of 0s in column 6), and after the kill at least one packet per
# 1440 bytes (the largest payload a 1500-byte packet carries) of what
# was still to send (BYTES less what the link had taken, headers
# included: fewer than were really left).
lbsp_packets "$T/link.pcap" "tcp.port == $PORT" >"$T/packets"
set -- $(awk -v c=$C_ADDR '$1 == c {
	if ($6 == 1) { with++; if (without) back++ }
	else if ($6 == 0) without++
	else other++ }
    END { print with + 0, without + 0, back + 0, other + 0 }' "$T/packets")
with=$1 without=$2 back=$3 other=$4
least=$(((BYTES - killed) / 1440))
info "client packets: $with with the option (before the kill), $without without (after, want >= $least)"
[ "$with" -ge 100 ] || fail "only $with client packets carried the option"
[ "$other" -eq 0 ] || fail "$other client packets with more than one option"
[ "$back" -eq 0 ] ||
	fail "$back client packets with the option after one without: the option came back"
[ "$without" -ge "$least" ] ||
	fail "only $without client packets without the option after the kill, want >= $least"
# The new connection: its client packets pass, none with the option.
lbsp_packets "$T/link.pcap" "tcp.port == 80" >"$T/packets80"
set -- $(awk -v c=$C_ADDR '$1 == c { n++; if ($6 != 0) bad++ }
    END { print n + 0, bad + 0 }' "$T/packets80")
[ "$1" -ge 4 ] || fail "new connection: only $1 client packets captured"
[ "$2" -eq 0 ] || fail "new connection after the kill: $2 of $1 client packets with the option"

# The server's daemon is unaffected.
alive "$LBSPD_PID_S" || fail "server lbspd died"
lbspd_stop S

pass "transfer of $got bytes survived kill -9 of the client lbspd: option on $with packets, then on none of $without"
