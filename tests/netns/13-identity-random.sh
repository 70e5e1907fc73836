#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 13-identity-random.sh -- "identity random": seg1 is the daemon's
# random id (as "lbspctl stats --json" reports it), not the client's
# address, and stays the same across connections (two TCP connections
# and a UDP exchange); the server echoes it.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
command -v curl >/dev/null || fail "curl not installed"
command -v socat >/dev/null || fail "socat not installed"
topo_pair

# "lbspctl stats --json" field names, in one place: the identity as
# an IPv6 address (text) or 32 hex digits; printed in compressed form.
identity()
{
	json_get "$1" "__import__('ipaddress').IPv6Address(
	    bytes.fromhex(j['identity']) if ':' not in j['identity']
	    else j['identity']).compressed"
}
identity_mode() { json_get "$1" "j['identity_mode']"; }

cat >"$T/client.conf" <<EOF
role client
queue 0
identity random
vip $S_ADDR {
	ports 80 5000
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
udp_echo S $S_ADDR 5000
lbspd_start S "$T/server.conf"
lbspd_start C "$T/client.conf"
stats_json C "$T/stats-1.json"
id=$(identity "$T/stats-1.json")
info "random identity: $id"
mode=$(identity_mode "$T/stats-1.json")
[ "$mode" = random ] || fail "identity mode '$mode', want 'random'"
[ "$id" != "::" ] || fail "identity is all-zero"
[ "$id" != $C_ADDR ] || fail "identity random: identity is the client address"
case $id in
2001:db8:1:*) fail "identity random: $id is inside the client's own prefix" ;;
esac

capture S $S_IF "$T/link.pcap"
for n in 1 2; do
	out=$(nsx C curl -gsS --max-time 10 "http://[$S_ADDR]/name" 2>&1) ||
		fail "curl $n: $out"
	[ "$out" = S ] || fail "curl $n: got '$out'"
done
out=$(echo udp | nsx C socat -T 2 - "UDP6:[$S_ADDR]:5000" 2>&1) ||
	fail "socat UDP: $out"
[ "$out" = udp ] || fail "socat UDP: got '$out'"
capture_stop
stats_json C "$T/stats-2.json"

# Every packet of both connections and of the UDP exchange carries
# seg1 = the random id (server packets: echoed).
lbsp_packets "$T/link.pcap" "tcp.port == 80 or udp.port == 5000" >"$T/packets"
lbsp_verify "$T/packets" "$id" $C_ADDR $S_ADDR
conns=$(awk -v c=$C_ADDR '$1 == c && $3 == "tcp" { print $4 }' "$T/packets" |
    sort -u | wc -l)
[ "$conns" -eq 2 ] || fail "captured $conns TCP connections, want 2"
[ "$(identity "$T/stats-2.json")" = "$id" ] ||
	fail "identity changed during the test: $id -> $(identity "$T/stats-2.json")"
# The client address never appears as seg1.
awk -v c=$C_ADDR '$7 == c { print; bad = 1 } END { exit bad }' \
    "$T/packets" || fail "client address used as seg1"

pass "seg1 = $id on all $((VERIFY_CS + VERIFY_SC)) packets of 2 TCP connections and 1 UDP exchange"
