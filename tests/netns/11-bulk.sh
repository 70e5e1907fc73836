#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 11-bulk.sh -- a 100 MB TCP transfer from a client host running lbspd
# (client role) to a server host running lbspd (server role) completes
# with every byte, without a stall, and with the LBSP option on every
# packet.
#
# Asserts:
# - the receiver got all 104857600 bytes, same SHA-256, within 150 s,
#   never waiting 2 s or more between two reads (a stall);
# - a capture of the whole transfer at the server (headers only) holds
#   every packet the links sent (their tx_packets, but for 10 at most
#   that are not TCP) and shows the option, with the right seg1/seg2,
#   on every packet in both directions; SYN MSS <= 1400; no packet over
#   1500 bytes;
# - the kernels count no fragmentation failure, Packet Too Big, header
#   or checksum error;
# - the daemons' counters agree with the links' (inserted > 0, never
#   more than the packets the link sent or the daemon saw; the MSS was
#   clamped).
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
topo_pair

# "lbspctl stats --json" field names, in one place.
counter() { lbsp_counter "$1" "$2"; }

BYTES=104857600
PORT=5201
cat >"$T/client.conf" <<EOF
role client
queue 0
identity address
vip $S_ADDR {
	ports $PORT
	allow-servers 2001:db8:1::/64
}
EOF
cat >"$T/server.conf" <<EOF
role server
queue 0
server-address $S_ADDR
EOF

tcp_sink S $S_ADDR $PORT "$T/sink.out"
lbspd_start S "$T/server.conf"
lbspd_start C "$T/client.conf"
snmp_snap C "$T/snmp-C"
snmp_snap S "$T/snmp-S"
# Every packet of the transfer is to be seen: about 77,000 (75,000 client
# segments, ACKs) of at most 160 bytes kept (headers: 14 + 40 + 40 of
# Destination Options + 20 + 20 of TCP options in a SYN), each taking
# about 250 bytes of the kernel's buffer: 64 MiB holds the whole
# transfer three times over, so the capture loses nothing even if
# tcpdump does not run while it lasts.
CAPTURE_SNAPLEN=160 CAPTURE_BUFFER_KB=65536 capture S $S_IF "$T/bulk.pcap"
ctx0=$(nsx C cat /sys/class/net/$C_IF/statistics/tx_packets)
stx0=$(nsx S cat /sys/class/net/$S_IF/statistics/tx_packets)

start=$(date +%s)
src=$(tcp_source C $S_ADDR $PORT $BYTES 2>"$T/source.err")
rc=$?
end=$(date +%s)
try_for 10 test -s "$T/sink.out"
# The links' counts once the last packets (FIN, last ACK) are through.
capture_quiet 3
ctx=$(($(nsx C cat /sys/class/net/$C_IF/statistics/tx_packets) - ctx0))
stx=$(($(nsx S cat /sys/class/net/$S_IF/statistics/tx_packets) - stx0))
capture_stop
if [ $rc -ne 0 ]; then
	dump "$T/source.err" "$(lbspd_log C)" "$(lbspd_log S)"
	[ $rc -eq 124 ] && fail "transfer stalled: not done after 150 s"
	fail "sender exited with $rc"
fi
[ -s "$T/sink.out" ] || fail "receiver reported nothing"
set -- $src
sent=$1 sum=$2
set -- $(cat "$T/sink.out")
got=$1 gotsum=$2 gap=$3
secs=$((end - start))
info "sent $sent, received $got bytes in ${secs} s, longest wait ${gap} ms"
[ "$got" -eq $BYTES ] || fail "received $got bytes of $BYTES"
[ "$gotsum" = "$sum" ] || fail "received data differs from sent data"
[ "$gap" -lt 2000 ] || fail "transfer stalled: ${gap} ms without data"

stats_json C "$T/stats-C.json"
stats_json S "$T/stats-S.json"

# ---- the wire: every packet of both iperf3 connections
lbsp_packets "$T/bulk.pcap" "tcp.port == $PORT" >"$T/packets"
lbsp_verify "$T/packets" $C_ADDR $C_ADDR $S_ADDR
info "captured $VERIFY_CS client and $VERIFY_SC server packets (links sent $ctx and $stx), all with the option"
# The capture must hold every packet each link sent (the kernel's
# count, ctx and stx), but for a few that are not TCP (neighbour
# discovery): 100 MB in segments of at most 1400 bytes is at least
# 74900 client packets, and a check of half of them proves little.
[ "$VERIFY_CS" -ge 74900 ] ||
	fail "only $VERIFY_CS client packets captured (>= 74900 sent)"
[ "$VERIFY_CS" -le "$ctx" ] && [ $((ctx - VERIFY_CS)) -le 10 ] ||
	fail "captured $VERIFY_CS client packets, link C sent $ctx: the check missed $((ctx - VERIFY_CS))"
[ "$VERIFY_SC" -le "$stx" ] && [ $((stx - VERIFY_SC)) -le 10 ] ||
	fail "captured $VERIFY_SC server packets, link S sent $stx: the check missed $((stx - VERIFY_SC))"
awk '$11 != "-" && $11 > 1400 { print; bad = 1 } END { exit bad }' \
    "$T/packets" || fail "MSS above 1400 in a SYN or SYN-ACK"
data=$(awk -v c=$C_ADDR '$1 == c && $9 > 1000 { n++ } END { print n + 0 }' \
    "$T/packets")
[ "$data" -ge 1000 ] || fail "only $data full-size data packets captured"

# ---- the kernels
snmp_unchanged C "$T/snmp-C"
snmp_unchanged S "$T/snmp-S"

# ---- the daemons' counters against the wire
ci=$(counter "$T/stats-C.json" inserted)
cp=$(counter "$T/stats-C.json" packets)
si=$(counter "$T/stats-S.json" inserted)
sp=$(counter "$T/stats-S.json" packets)
info "client: packets $cp inserted $ci, link sent $ctx; server: packets $sp inserted $si, link sent $stx"
# One inserted (possibly GSO) packet leaves as one or more segments:
# never more insertions than packets the link sent.
[ "$ci" -ge 1 ] && [ "$ci" -le "$ctx" ] ||
	fail "client inserted $ci, its link sent $ctx packets"
[ "$si" -ge 1 ] && [ "$si" -le "$stx" ] ||
	fail "server inserted $si, its link sent $stx packets"
[ "$ci" -le "$cp" ] || fail "client inserted $ci > packets $cp"
[ "$si" -le "$sp" ] || fail "server inserted $si > packets $sp"
[ "$(counter "$T/stats-C.json" mss_clamped)" -ge 1 ] ||
	fail "client counters.mss_clamped = 0"

pass "$got bytes in $secs s, option on all $((VERIFY_CS + VERIFY_SC)) packets"
