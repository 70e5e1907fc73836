#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 10-client-server.sh -- a client host running lbspd (client role) talks
# to a server host running lbspd (server role), with real programs:
# curl to python3 http.server and a socat UDP exchange.
#
# Asserts, on a capture of the link at the server:
# - every TCP and UDP packet of the flows to the vip ports, in both
#   directions, carries exactly one LBSP option: client packets seg1 =
#   the client address, seg2 = :: (first packet) then the server
#   (learned); server packets seg1 echoed, seg2 = the server address;
# - SYN and SYN-ACK MSS are clamped (<= 1500 - 40 - 40 - 20) and no
#   packet exceeds the 1500-byte MTU;
# - a flow to a port outside "ports" carries no option either way;
# and that the receiving kernels count no header, checksum or MTU error,
# the daemons' counters agree with the wire, and on SIGTERM both
# daemons exit 0 and remove their steering rules (traffic then flows
# without the option).
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
command -v curl >/dev/null || fail "curl not installed"
command -v socat >/dev/null || fail "socat not installed"
topo_pair

# "lbspctl stats --json" field names, in one place.
roles() { json_get "$1" "' '.join(j['roles'])"; }
counter() { lbsp_counter "$1" "$2"; }

cat >"$T/client.conf" <<EOF
role client
queue 0
rules install
identity address
mss-clamp on
mtu 1500
vip $S_ADDR {
	ports 80 5000
	allow-servers 2001:db8:1::/64
}
EOF
cat >"$T/server.conf" <<EOF
role server
queue 0
rules install
mss-clamp on
server-address $S_ADDR
EOF
for f in client server; do
	out=$("$LBSPD" -n -c "$T/$f.conf" 2>&1) || fail "$f.conf rejected: $out"
done

# The servers: one page naming the host, one 300 KB file (full-size
# segments), the same tree on 8080 (not a vip port), a UDP echo.
mkdir "$T/www"
echo "S" >"$T/www/name"
head -c 300000 /dev/urandom >"$T/www/big"
http_server S $S_ADDR 80 "$T/www"
http_server S $S_ADDR 8080 "$T/www"
udp_echo S $S_ADDR 5000

lbspd_start S "$T/server.conf"
lbspd_start C "$T/client.conf"
snmp_snap C "$T/snmp-C"
snmp_snap S "$T/snmp-S"
capture S $S_IF "$T/link.pcap"

url="http://[$S_ADDR]"
out=$(nsx C curl -gsS --max-time 10 "$url/name" 2>&1) ||
	fail "curl $url/name: $out"
[ "$out" = S ] || fail "curl $url/name: got '$out', want 'S'"
nsx C curl -gsS --max-time 20 -o "$T/big.got" "$url/big" ||
	fail "curl $url/big failed"
cmp -s "$T/www/big" "$T/big.got" || fail "curl $url/big: content differs"
out=$(echo "lbsp-udp-exchange" |
    nsx C socat -T 2 - "UDP6:[$S_ADDR]:5000" 2>&1) || fail "socat UDP: $out"
[ "$out" = lbsp-udp-exchange ] || fail "socat UDP: got '$out'"
out=$(nsx C curl -gsS --max-time 10 "http://[$S_ADDR]:8080/name" 2>&1) ||
	fail "curl port 8080 (not a vip port): $out"
[ "$out" = S ] || fail "curl port 8080: got '$out'"

capture_stop
stats_json C "$T/stats-C.json"
stats_json S "$T/stats-S.json"

# ---- the wire
lbsp_packets "$T/link.pcap" "tcp.port == 80" >"$T/p80"
lbsp_packets "$T/link.pcap" "udp.port == 5000" >"$T/p5000"
lbsp_packets "$T/link.pcap" "tcp.port == 8080" >"$T/p8080"
info "captured: $(wc -l <"$T/p80") packets on tcp/80," \
    "$(wc -l <"$T/p5000") on udp/5000, $(wc -l <"$T/p8080") on tcp/8080"

lbsp_verify "$T/p80" $C_ADDR $C_ADDR $S_ADDR
tcp_cs=$VERIFY_CS tcp_sc=$VERIFY_SC
[ $((tcp_cs + tcp_sc)) -ge 40 ] ||
	fail "tcp/80: only $((tcp_cs + tcp_sc)) packets captured"
lbsp_verify "$T/p5000" $C_ADDR $C_ADDR $S_ADDR
[ "$VERIFY_CS" -eq 1 ] && [ "$VERIFY_SC" -eq 1 ] ||
	fail "udp/5000: $VERIFY_CS client, $VERIFY_SC server datagrams (want 1, 1)"
udp_cs=$VERIFY_CS udp_sc=$VERIFY_SC

# The first packet ever (the first SYN) has seg2 = :: (nothing learned
# yet); the last client packet of each TCP flow has learned the server.
first=$(head -n 1 "$T/p80")
set -- $first
[ "$1" = $C_ADDR ] && [ "${10}" = 0x0002 ] ||
	fail "first tcp/80 packet is not the client's SYN: $first"
[ "$8" = "::" ] || fail "first SYN: seg2 = $8, want :: ($first)"
for port in $(awk -v c=$C_ADDR '$1 == c { print $4 }' "$T/p80" | sort -u); do
	last=$(awk -v c=$C_ADDR -v p="$port" '$1 == c && $4 == p' "$T/p80" |
	    tail -n 1)
	set -- $last
	[ "$8" = $S_ADDR ] ||
		fail "client port $port: seg2 not learned by the end of the flow: $last"
done

# MSS clamp: SYN and SYN-ACK announce at most 1500-40-40-20 = 1400.
awk '$11 != "-" && $11 > 1400 { print; bad = 1 } END { exit bad }' \
    "$T/p80" || fail "tcp/80: MSS above 1400 in SYN or SYN-ACK"
awk '$11 != "-" { n++ } END { exit n < 2 }' "$T/p80" ||
	fail "tcp/80: no MSS option seen in the captured SYNs"

# Not a vip port: no option, either way.
[ "$(wc -l <"$T/p8080")" -ge 6 ] || fail "tcp/8080: too few packets captured"
awk '$6 != 0 { print; bad = 1 } END { exit bad }' "$T/p8080" ||
	fail "tcp/8080 (not in 'ports') carries the LBSP option"

# ---- the kernels
snmp_unchanged C "$T/snmp-C"
snmp_unchanged S "$T/snmp-S"

# ---- the daemons' own view
info "client counters: $(json_get "$T/stats-C.json" "j['counters']")"
info "server counters: $(json_get "$T/stats-S.json" "j['counters']")"
info "client datapath: $(json_get "$T/stats-C.json" "j['datapath']") $(json_get "$T/stats-C.json" "j['kernel']")"
info "server datapath: $(json_get "$T/stats-S.json" "j['datapath']") $(json_get "$T/stats-S.json" "j['kernel']")"
case " $(roles "$T/stats-C.json") " in
*" client "*) ;;
*) fail "client daemon: roles lack 'client'" ;;
esac
case " $(roles "$T/stats-S.json") " in
*" server "*) ;;
*) fail "server daemon: roles lack 'server'" ;;
esac
# Each option on the wire was inserted by one daemon (one inserted
# packet may leave as several segments, never the reverse).
ci=$(counter "$T/stats-C.json" inserted)
si=$(counter "$T/stats-S.json" inserted)
[ "$ci" -ge 1 ] && [ "$ci" -le $((tcp_cs + udp_cs)) ] ||
	fail "client counters.inserted = $ci, wire has $((tcp_cs + udp_cs)) client packets on vip ports"
[ "$si" -ge 1 ] && [ "$si" -le $((tcp_sc + udp_sc)) ] ||
	fail "server counters.inserted = $si, wire has $((tcp_sc + udp_sc)) server packets on vip ports"
[ "$(counter "$T/stats-C.json" learned)" -ge 1 ] ||
	fail "client counters.learned = 0"
[ "$(counter "$T/stats-C.json" mss_clamped)" -ge 1 ] ||
	fail "client counters.mss_clamped = 0"
[ "$(counter "$T/stats-S.json" mss_clamped)" -ge 1 ] ||
	fail "server counters.mss_clamped = 0"

# ---- shutdown: exit 0, rules gone, traffic flows plain
lbspd_stop C
lbspd_stop S
for ns in C S; do
	n=$(rules_left $ns)
	[ "$n" -eq 0 ] || fail "$ns: $n steering rules left after lbspd exit: $(nsx $ns ip6tables-save)"
	n=$(tc_left $ns)
	[ "$n" -eq 0 ] || fail "$ns: $n tc programs or pins left after lbspd exit"
done
capture S $S_IF "$T/after.pcap"
out=$(nsx C curl -gsS --max-time 10 "$url/name" 2>&1) ||
	fail "curl after lbspd exit: $out"
[ "$out" = S ] || fail "curl after lbspd exit: got '$out'"
capture_stop
lbsp_packets "$T/after.pcap" "tcp.port == 80" >"$T/p80-after"
[ -s "$T/p80-after" ] || fail "nothing captured after lbspd exit"
awk '$6 != 0 { print; bad = 1 } END { exit bad }' "$T/p80-after" ||
	fail "LBSP option still inserted after both daemons exited"

pass "$tcp_cs+$tcp_sc tcp and $udp_cs+$udp_sc udp packets all carried a correct LBSP option"
