#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 49-reload-under-traffic.sh -- reloads while packets flow through two
# queues: the queue threads read the configuration without a lock, and
# a reload frees the old one only after each thread has passed a
# quiescent point (doc/design.md, "Threads and locks").  An iperf3
# transfer and curl loops from eight client addresses run through a
# client and a server on two queues each, while both daemons are sent
# SIGHUP twenty times, port 8080 entering and leaving the client's vip
# ports each time.  Every transfer completes, both queues of each
# daemon work, each reload is logged, no grace period times out, and
# both daemons (built with the sanitizers in CI: a configuration freed
# under a queue thread is a use after free) stop cleanly with exit 0.
# A capture at the server (all but iperf3, which would drown it) shows
# the option right on every packet of the 96 requests to port 80, and
# on each request to port 8080 made after each reload: on every packet
# while 8080 is listed, on none while it is not (a port outside the
# vip's is not the client's to touch); all answered.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
command -v curl >/dev/null || fail "curl not installed"
command -v iperf3 >/dev/null || fail "iperf3 not installed"
topo_pair

RELOADS=20

# The client's configuration, with the vip's ports $1 (and the datapath
# lbspd_start would add: a file without it asks for another datapath).
write_client()
{
	cat >"$T/client.conf" <<CONF
role client
queue 0-1
datapath ${LBSP_DATAPATH:-nfqueue}
vip $S_ADDR {
	ports $1
}
CONF
}
write_client "80 5201"
cat >"$T/server.conf" <<CONF
role server
queue 2-3
CONF

pair_addrs
mkdir "$T/www"
echo S >"$T/www/name"
http_server S $S_ADDR 80 "$T/www"
http_server S $S_ADDR 8080 "$T/www"
bg S iperf3 -s -1 -B $S_ADDR -p 5201
wait_listen S tcp $S_ADDR 5201
lbspd_start S "$T/server.conf"
lbspd_start C "$T/client.conf"

# The capture leaves out iperf3's packets (from C_ADDR): hundreds of
# thousands, they would take tshark minutes.
capture S $S_IF "$T/link.pcap" not host $C_ADDR
# The traffic: iperf3 (two streams, 8 s) and 8 x 12 HTTP requests.
bg C iperf3 -c $S_ADDR -p 5201 -B $C_ADDR -P 2 -t 8 -J
IPERF_PID=$BG_PID
IPERF_LOG=$BG_LOG
for a in $PAIR_ADDRS; do
	(
		n=0
		while [ $n -lt 12 ]; do
			out=$(nsx C curl -gsS --max-time 10 --interface "$a" \
			    "http://[$S_ADDR]/name" 2>&1)
			[ "$out" = S ] || echo "curl from $a: $out"
			n=$((n + 1))
		done
		echo done
	) >"$T/curl-$a.out" 2>&1 &
	LIB_PIDS="$LIB_PIDS $!"
done

# The reloads, while it runs: each waited for in both logs, then one
# request to port 8080 from PROBE, local port 42000 + i; $T/probes gets
# "LPORT listed|unlisted" for each.
PROBE=2001:db8:1::11
: >"$T/probes"
i=1
while [ $i -le $RELOADS ]; do
	if [ $((i % 2)) -eq 1 ]; then
		write_client "80 5201 8080"
		listed=listed
	else
		write_client "80 5201"
		listed=unlisted
	fi
	kill -HUP "$LBSPD_PID_C" "$LBSPD_PID_S"
	wait_for "reload $i of the client" 10 sh -c \
	    "[ \$(grep -c 'configuration reloaded' '$T/lbspd-C.log') -ge $i ]"
	wait_for "reload $i of the server" 10 sh -c \
	    "[ \$(grep -c 'configuration reloaded' '$T/lbspd-S.log') -ge $i ]"
	out=$(nsx C curl -gsS --max-time 10 --interface $PROBE \
	    --local-port $((42000 + i)) "http://[$S_ADDR]:8080/name" 2>&1)
	[ "$out" = S ] ||
		fail "port 8080 $listed, after reload $i: '$out'"
	echo "$((42000 + i)) $listed" >>"$T/probes"
	i=$((i + 1))
done

# Everything went through.
wait_for "iperf3 to finish" 60 sh -c "! kill -0 $IPERF_PID 2>/dev/null"
wait "$IPERF_PID" || { dump "$IPERF_LOG"; fail "iperf3 failed"; }
sent=$(json_get "$IPERF_LOG" "j['end']['sum_received']['bytes']")
[ "$sent" -gt 0 ] || fail "iperf3 moved nothing"
for a in $PAIR_ADDRS; do
	wait_for "curl loop from $a" 120 grep -q '^done$' "$T/curl-$a.out"
	if grep -v '^done$' "$T/curl-$a.out" | grep -q .; then
		dump "$T/curl-$a.out"
		fail "requests from $a failed during the reloads"
	fi
done

capture_quiet 3
capture_stop

# The wire.  Port 80: every packet of the 96 requests, from each
# client address, with the option right (seg1 the client's address).
lbsp_packets "$T/link.pcap" "tcp.port == 80" >"$T/p80"
syns=$(awk '$5 == 80 && $10 == "0x0002"' "$T/p80" | awk '!seen[$1 " " $4]++' | wc -l)
[ "$syns" -eq 96 ] || fail "capture: $syns connections to port 80, want 96"
n80=0
for a in $PAIR_ADDRS; do
	lbsp_verify "$T/p80" $a $a $S_ADDR
	n80=$((n80 + VERIFY_CS + VERIFY_SC))
done
# Port 8080: each request, by its local port, with the option right on
# every packet while listed, on none while not.
lbsp_packets "$T/link.pcap" "tcp.port == 8080" >"$T/p8080"
while read -r lport listed; do
	awk -v p=$lport '$4 == p || $5 == p' "$T/p8080" >"$T/p8080-$lport"
	if [ $listed = listed ]; then
		lbsp_verify "$T/p8080-$lport" $PROBE $PROBE $S_ADDR
	else
		set -- $(awk -v c=$PROBE -v s=$S_ADDR '
		    $1 == c && $2 == s { cs++ } $1 == s && $2 == c { sc++ }
		    $6 != 0 { bad++ } END { print cs + 0, sc + 0, bad + 0 }' \
		    "$T/p8080-$lport")
		[ "$1" -gt 0 ] && [ "$2" -gt 0 ] ||
			fail "port 8080 unlisted, local port $lport: $1 client, $2 server packets captured"
		[ "$3" -eq 0 ] || {
			sed 's/^/    /' "$T/p8080-$lport"
			fail "port 8080 unlisted, local port $lport: $3 packets with the option"
		}
	fi
done <"$T/probes"
info "captured: $n80 packets of port 80 with the option, $(wc -l <"$T/p8080") of port 8080 over $RELOADS reloads"

stats_json C "$T/client.json"
stats_json S "$T/server.json"
queues_used client "$T/client.json" 2
queues_used server "$T/server.json" 2
ins=$(lbsp_counter "$T/client.json" inserted)
filled=$(lbsp_counter "$T/server.json" seg2_filled)
info "client inserted $ins, server filled seg2 $filled, iperf3 $sent bytes"
[ "$ins" -ge 1000 ] || fail "client put the option on only $ins packets"
[ "$filled" -ge 1000 ] || fail "server answered with the option $filled times"

for ns in C S; do
	if grep -q "quiescent point" "$T/lbspd-$ns.log"; then
		dump "$T/lbspd-$ns.log"
		fail "$ns: a grace period waited too long"
	fi
	[ "$(grep -c 'configuration reloaded' "$T/lbspd-$ns.log")" -eq \
	    $RELOADS ] || fail "$ns: not $RELOADS reloads logged"
	lbspd_stop $ns
	if grep -qE 'Sanitizer|runtime error' "$T/lbspd-$ns.log"; then
		dump "$T/lbspd-$ns.log"
		fail "$ns: the sanitizers reported an error"
	fi
done

pass "$RELOADS reloads of both daemons under iperf3 ($sent bytes) and 96 requests over 2+2 queues, option right on $n80 packets, port 8080 with it when listed, without when not"
