#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 28-flowlabel.sh -- RFC 7098 §5: a flow whose flow label changes is a
# suspect.  The balancer counts it (flowlabel_changed) and, with
# flowlabel-strict, drops the packet that changed it; without, forwards
# it.  c1 crafts two-packet LBSP flows (SYN, then ACK) with scapy: one
# with a steady label, one whose label changes; what left the balancer
# towards the servers is counted on its link.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
topo_full

conf() # STRICT
{
	cat >"$T/lb.conf" <<CONF
role balancer
queue 0
flowlabel-strict $1
vip $VIP {
	ports 80
	scheduler rr
	server 2001:db8:5::1
	server 2001:db8:5::2
	server 2001:db8:5::3
}
CONF
}

# send SPORT LABEL1 LABEL2: an LBSP SYN then ACK from c1 to the vip.
send()
{
	nsx c1 timeout 20 "$PY" -c '
import socket, sys, logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import IPv6, IPv6ExtHdrDestOpt, PadN, HBHOptUnknown, TCP, raw
src, dst, sport = sys.argv[1], sys.argv[2], int(sys.argv[3])
labels = [int(sys.argv[4], 16), int(sys.argv[5], 16)]
rs = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
opt = socket.inet_pton(socket.AF_INET6, src) + bytes(16)
for flags, label in zip(["S", "A"], labels):
    p = IPv6(src=src, dst=dst, fl=label) / IPv6ExtHdrDestOpt(options=[
        PadN(optdata=b"\0\0"), HBHOptUnknown(otype=0x1e, optdata=opt)]) / \
        TCP(sport=sport, dport=80, flags=flags, seq=1000, ack=0)
    rs.sendto(raw(p), (dst, 0))
' $C1_ADDR $VIP "$1" "$2" "$3" || fail "scapy: flow $1 not sent"
}

# forwarded SPORT: packets of that flow that left lb towards a server.
forwarded()
{
	tshark -r "$T/lb.pcap" -Y "ipv6.src == $C1_ADDR and ipv6.dst == 2001:db8:5::/64 and tcp.srcport == $1" \
	    -T fields -e frame.number 2>/dev/null | grep -c .
}

run() # STRICT
{
	conf $1
	lb_start "$T/lb.conf"
	capture lb eth0 "$T/lb.pcap"
	stats_json lb "$T/st0.json"
	send 41000 11111 11111
	send 41001 22222 33333
	# lb has seen the four packets; the capture holds what it forwarded.
	wait_for "lb to see the four packets" 10 counter_at_least lb packets \
	    $(($(lb_counter "$T/st0.json" packets) + 4))
	capture_quiet
	capture_stop
	stats_json lb "$T/st1.json"
	lbspd_stop lb
	changed=$(($(lb_counter "$T/st1.json" flowlabel_changed) -
	    $(lb_counter "$T/st0.json" flowlabel_changed)))
	steady=$(forwarded 41000)
	moved=$(forwarded 41001)
	info "strict $1: changed $changed, steady flow $steady packets, changing flow $moved"
	[ "$changed" -eq 1 ] || fail "strict $1: flowlabel_changed +$changed, want +1"
	[ "$steady" -eq 2 ] || fail "strict $1: steady flow: $steady packets forwarded, want 2"
}

run on
[ "$moved" -eq 1 ] || fail "strict on: the changed packet was forwarded ($moved packets)"
run off
[ "$moved" -eq 2 ] || fail "strict off: $moved packets forwarded, want 2"
pass "label change counted; dropped with flowlabel-strict, forwarded without"
