#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 17-queues.sh -- several queues, one thread each ("queue 0-1"): with
# eight client addresses the kernel spreads the flows over both queues
# of each daemon, and every flow still gets the option both ways and
# its server learned, whichever queue each of its directions took
# (the flow state is shared between the queue threads).  Then twenty
# connections from the one address C_ADDR: with max-flows 32 the client
# holds them all (its flows all have its own source: they must not be
# held to max-flows shared out between the queues), none retired.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
command -v curl >/dev/null || fail "curl not installed"
topo_pair

# "lbspctl stats --json" field names, in one place.
learned() { json_get "$1" "j['counters']['learned']"; }

cat >"$T/client.conf" <<CONF
role client
queue 0-1
max-flows 32
vip $S_ADDR {
	ports 80
}
CONF
cat >"$T/server.conf" <<CONF
role server
queue 2-3
CONF

pair_addrs
pair_start "$T/server.conf" "$T/client.conf"

capture S $S_IF "$T/link.pcap"
for a in $PAIR_ADDRS; do
	out=$(nsx C curl -gsS --max-time 10 --interface "$a" \
	    "http://[$S_ADDR]/name" 2>&1) || fail "curl from $a: $out"
	[ "$out" = S ] || fail "curl from $a: got '$out'"
done
capture_stop
stats_json C "$T/client.json"
stats_json S "$T/server.json"

queues_used client "$T/client.json" 2
queues_used server "$T/server.json" 2
[ "$(learned "$T/client.json")" -ge 8 ] ||
	fail "client learned seg2 for $(learned "$T/client.json") flows, want 8"

# Every packet carries one option; seg1 is the client address of its
# flow, seg2 the server on every server packet.
lbsp_packets "$T/link.pcap" "tcp.port == 80" >"$T/packets"
[ "$(wc -l <"$T/packets")" -ge 40 ] || fail "too few packets captured"
awk -v s=$S_ADDR '
	$6 != 1 { print "no option: " $0; bad = 1; next }
	$1 == s && ($7 != $2 || $8 != s) { print "server: " $0; bad = 1 }
	$2 == s && $7 != $1 { print "client: " $0; bad = 1 }
	END { exit bad }' "$T/packets" || fail "a packet without the right option"

# One source: every flow held (they linger 10 s after their end).
for i in $(seq 20); do
	out=$(nsx C curl -gsS --max-time 10 "http://[$S_ADDR]/name" 2>&1) ||
		fail "curl $i from $C_ADDR: $out"
done
stats_json C "$T/client2.json"
flows=$(json_get "$T/client2.json" "j['tables']['flows']")
retired=$(lbsp_counter "$T/client2.json" flows_retired)
info "client after 20 connections from $C_ADDR: $flows flows, $retired retired"
[ "$retired" -eq 0 ] && [ "$flows" -ge 20 ] ||
	fail "client with max-flows 32: $flows flows held, $retired retired after 20 connections from one source"

pass "8 clients over 2+2 queues: option on all $(wc -l <"$T/packets") packets, 8 servers learned; 20 flows of one source held"
