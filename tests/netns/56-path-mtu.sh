#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 56-path-mtu.sh -- LBSP sessions across links smaller than the
# clients' and servers' own: the 40 bytes of the option never push a
# packet past the path's MTU, and nothing stalls.
#
# On topo_full (c1 with lbspd role client, lb, s1..s3 with lbspd role
# server), single pass: c1 downloads 8 MB from the vip (the servers send)
# and uploads 4 MB to it (c1 sends), in each of:
#   1. the servers' own link at MTU 1280 (their eth0 and r's ports): the
#      SYN and SYN-ACK offer an MSS that fits the 1280 bytes with the
#      option (the route's MTU toward the peer, per flow, on both ends);
#   2. a 1400-byte hop in the middle (r's routes to both LANs, mtu
#      1400): r's Packet Too Big reaches the sender with the MTU 40
#      lower (counted ptb_lowered, on both sides), the stack sizes its
#      segments to it;
#   3. a 1280-byte hop in the middle: the MTU less 40 would be under
#      IPv6's minimum, which the stack ignores -- counted
#      ptb_under_minimum; with "mtu 1280" in lbsp.conf (lbsp.conf(5))
#      both transfers complete.
# Each time: the bytes arrive whole (sha256), every TCP packet c1 sends
# or receives carries the option (tshark on c1's link), and in 1 no
# packet on the servers' link is over 1280 bytes.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
topo_full
MB=8
UP=4000000

sp_www $MB 80
sp_lb_conf "$T/lb.conf"
sp_client_conf "$T/c.conf"
printf 'role server\nqueue 0\n' >"$T/server.conf"
sp_daemons "$T/lb.conf" "$T/c.conf" c1

# mtus ROUTE-MTU LINK-MTU - r's routes to the two LANs with mtu
# ROUTE-MTU ("-": none) and the servers' link at LINK-MTU; every host
# forgets the path MTUs it learnt.
mtus()
{
	local i h m=
	[ "$1" = - ] || m="mtu $1"
	for i in 1 2 3; do
		nsx s$i ip link set eth0 mtu "$2" || fail "mtu $2 on s$i"
		nsx r ip link set s$i mtu "$2" || fail "mtu $2 on r/s$i"
	done
	for h in brc:2001:db8:1::/64 brs:2001:db8:5::/64; do
		nsx r ip -6 route replace "${h#*:}" dev "${h%%:*}" \
		    proto kernel metric 256 $m ||
			fail "route ${h#*:} in r"
	done
	forget
}

# forget - every host forgets the path MTUs it learnt (else one
# transfer's Packet Too Big spares the next its own).
forget()
{
	local h
	for h in c1 s1 s2 s3 r lb; do
		nsx $h ip -6 route flush cache >/dev/null 2>&1
	done
}

# counter NS NAME - counter NAME of NS's daemon, kernel rows included.
counter()
{
	stats_json "$1" "$T/stats-$1.json"
	lbsp_counter "$T/stats-$1.json" "$2"
}
# servers_counter NAME - the sum of NAME over s1 s2 s3.
servers_counter()
{
	local i n=0
	for i in 1 2 3; do
		n=$((n + $(counter s$i "$1")))
	done
	echo $n
}

# transfers NAME - the download and the upload, one after the other,
# under a capture of c1's link ($T/NAME.pcap); fails on any byte short.
transfers()
{
	local name=$1 out i f sums
	capture c1 eth0 "$T/$name.pcap"
	out=$(nsx c1 curl -gsS --max-time 40 -o "$T/dl-$name" \
	    -w '%{size_download} %{speed_download}' "http://[$VIP]/big" 2>&1) ||
		fail "$name: download: $out"
	[ "$(sha256sum <"$T/dl-$name" | cut -d' ' -f1)" = "$SP_BIG_SHA" ] ||
		fail "$name: download: $(stat -c %s "$T/dl-$name") bytes, not the file"
	info "$name: download $out (bytes, bytes/s)"
	[ "${PRIME:-0}" = 1 ] || forget
	for i in 1 2 3; do
		tcp_sink s$i 2001:db8:5::$i 443 "$T/up-$name-s$i"
		eval "SINK$i=\$SINK_PID"
	done
	sums=$(tcp_source c1 $VIP 443 $UP) ||
		fail "$name: upload: the source could not send ($sums)"
	f=
	i=0
	while [ -z "$f" ] && [ $i -lt 100 ]; do
		f=$(ls "$T"/up-"$name"-s? 2>/dev/null | head -n 1)
		[ -n "$f" ] || sleep 0.1
		i=$((i + 1))
	done
	[ -n "$f" ] || fail "$name: upload: no server received it"
	for i in 1 2 3; do
		eval "pid_stop \$SINK$i 1"
	done
	set -- $sums
	read -r n sha gap <"$f"
	[ "$n $sha" = "$1 $2" ] ||
		fail "$name: upload: $(basename "$f") got $n bytes ($sha), sent $1 ($2)"
	info "$name: upload $n bytes to ${f##*-}, longest wait between reads $gap ms"
	capture_quiet
	capture_stop
	# Every TCP packet of c1 carries the option.
	lbsp_packets "$T/$name.pcap" "ipv6.addr == $C1_ADDR" >"$T/$name.pkts"
	out=$(awk '$6 != 1' "$T/$name.pkts")
	[ -z "$out" ] ||
		fail "$name: $(echo "$out" | wc -l) of $(wc -l <"$T/$name.pkts") packets of c1 without the option: $(echo "$out" | head -n 3)"
	[ "$(wc -l <"$T/$name.pkts")" -gt 1000 ] ||
		fail "$name: only $(wc -l <"$T/$name.pkts") packets of c1 captured"
}

# ---- 1. the servers' link at 1280
mtus - 1280
capture r brs "$T/brs.pcap"
transfers link1280
# What the servers' link carried: nothing over 1280 bytes (IPv6 length);
# the servers' SYN-ACKs to c1 offered at most 1280 - 100.
lbsp_packets "$T/brs.pcap" >"$T/brs.pkts"
big=$(awk '$9 > 1280' "$T/brs.pkts" | wc -l)
[ "$big" -eq 0 ] ||
	fail "link1280: $big of $(wc -l <"$T/brs.pkts") packets over 1280 bytes on the servers' link"
mss=$(awk -v c=$C1_ADDR '$2 == c && $11 != "-" { print $11 }' \
    "$T/link1280.pkts" | sort -n | tail -n 1)
[ -n "$mss" ] && [ "$mss" -le 1180 ] ||
	fail "link1280: the servers' SYN-ACKs offered c1 an MSS up to '$mss', want <= 1180"
info "link1280: largest MSS the servers offered $mss; $(wc -l <"$T/brs.pkts") packets on their link, none over 1280 bytes"

# ---- 2. a 1400-byte hop between c1 and the servers
mtus 1400 1500
# On nfqueue the stack checks its packets against the path's MTU before
# lbspd adds the option, so a connection whose MTU drops under way
# stalls (lbspd.8, CAVEATS); connections opened once the stack knows the
# MTU fit.  There the stacks learn it first, from a datagram too big for
# the hop: c1 toward each server, each server toward c1.
if [ "${LBSP_DATAPATH:-nfqueue}" = nfqueue ]; then
	# learnt NS PEER - NS sends PEER a datagram too big for the hop
	# and knows the hop's MTU toward it.
	learnt() {
		nsx $1 "$PY" -c 'import socket, sys
socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).sendto(b"x" * 1440, (sys.argv[1], 9))' "$2"
		nsx $1 ip -6 route get "$2" | grep -q 'mtu 1400'
	}
	for i in 1 2 3; do
		wait_for "c1 to learn the hop's MTU toward s$i" 5 \
		    learnt c1 2001:db8:5::$i
		wait_for "s$i to learn the hop's MTU toward c1" 5 \
		    learnt s$i $C1_ADDR
	done
	PRIME=1		# and keep it between the download and the upload
fi
c0=$(counter c1 ptb_lowered)
s0=$(servers_counter ptb_lowered)
transfers hop1400
PRIME=0
c1n=$(($(counter c1 ptb_lowered) - c0))
s1n=$(($(servers_counter ptb_lowered) - s0))
info "hop1400: Packet Too Big lowered by 40: c1 $c1n, servers $s1n"
if [ "${LBSP_DATAPATH:-nfqueue}" = tc ]; then
	[ "$c1n" -gt 0 ] && [ "$s1n" -gt 0 ] ||
		fail "hop1400: ptb_lowered c1 $c1n, servers $s1n: want both > 0"
fi

# ---- 3. a 1280-byte hop: counted, then "mtu 1280"
mtus 1280 1500
u0=$(servers_counter ptb_under_minimum)
nsx c1 curl -gsS --max-time 4 -o /dev/null "http://[$VIP]/big" >/dev/null 2>&1
u=$(($(servers_counter ptb_under_minimum) - u0))
info "hop1280: ptb_under_minimum on the servers: $u"
[ "$u" -gt 0 ] || fail "hop1280: no ptb_under_minimum counted on the servers"
echo "mtu 1280" >>"$T/server.conf"
echo "mtu 1280" >>"$T/c.conf"
for h in s1 s2 s3 c1; do
	lbspd_stop $h
done
for i in 1 2 3; do
	lbspd_start s$i "$T/server.conf"
done
lbspd_start c1 "$T/c.conf"
mtus 1280 1500
transfers hop1280
pass "transfers whole with the option on every packet: servers' link at 1280, a 1400-byte hop (Packet Too Big lowered: c1 $c1n, servers $s1n), a 1280-byte hop with mtu 1280 ($u Packet Too Big under the minimum counted first)"
