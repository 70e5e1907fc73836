#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 23-forged-seg2.sh -- a forged seg2 outside the vip's pool is never
# followed, and is counted.
#
# c1 (no lbspd: it plays an attacker crafting packets with scapy) sends
# SYNs to the vip carrying an LBSP option (canonical encoding: PadN(2),
# then type 0x1e at 8n+6) with seg1 = c1 and seg2 =
#   2001:db8:66::1  not a server at all,
#   2001:db8:5::ff  inside the servers' prefix but not in the pool (r),
#   2001:db8:ff::2  the balancer's own address;
# and, as the contrast, seg2 = 2001:db8:5::2, a server of the pool, which
# the balancer follows (doc/design.md §5: a forged option can at most pick a
# legitimate server).  Asserts on lb's link that no packet ever goes to
# a forged address and that each SYN to the vip left lb towards a pool
# server (or was dropped), on counters.seg2_rejected (one per forged
# SYN) and counters.by_seg2 (the pool server's SYNs).
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
topo_full
N=5		# SYNs per seg2
FORGED="2001:db8:66::1 2001:db8:5::ff 2001:db8:ff::2"
POOL2=2001:db8:5::2

cat >"$T/lb.conf" <<CONF
role balancer
queue 0
vip $VIP {
	ports 80
	scheduler rr
	server 2001:db8:5::1
	server 2001:db8:5::2
	server 2001:db8:5::3
}
CONF
lb_www 80
lb_servers_lbspd
lb_start "$T/lb.conf"
capture lb eth0 "$T/lb.pcap"
stats_json lb "$T/st0.json"

# The crafted SYNs: for each seg2 (sport0 = 40000, 40100...), N SYNs
# from c1 to the vip port 80, source ports sport0.., with LBSP{seg1 =
# c1, seg2}; built by scapy, sent whole on a raw socket (IPPROTO_RAW:
# the header is ours).  $T/sent gets "SEG2 SPORT0" lines.
nsx c1 timeout 30 "$PY" -c '
import socket, sys, logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import IPv6, IPv6ExtHdrDestOpt, PadN, HBHOptUnknown, TCP, raw
src, dst, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rs = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
with open(out, "w") as f:
    for k, seg2 in enumerate(sys.argv[5:]):
        sport0 = 40000 + 100 * k
        opt = socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, seg2)
        for i in range(n):
            p = IPv6(src=src, dst=dst) / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0\0"),
                HBHOptUnknown(otype=0x1e, optdata=opt)]) / TCP(sport=sport0 + i, dport=80, flags="S", seq=1000 + i)
            b = raw(p)
            # canonical: a 40-byte header, the option at its byte 6
            assert b[6] == 60 and b[41] == 4 and b[46] == 0x1e and b[47] == 32, b[:48].hex()
            rs.sendto(b, (dst, 0))
        f.write("%s %d\n" % (seg2, sport0))
' $C1_ADDR $VIP $N "$T/sent" $FORGED $POOL2 || fail "scapy: crafted SYNs not sent"
# lb has decided every crafted SYN (3N refused, N by seg2); the capture
# then holds what it forwarded.  The counts are checked below.
wait_for "lb to refuse the $((3 * N)) forged SYNs" 10 counter_at_least lb \
    seg2_rejected $(($(lb_counter "$T/st0.json" seg2_rejected) + 3 * N))
wait_for "lb to follow seg2 for $N SYNs" 10 counter_at_least lb \
    by_seg2 $(($(lb_counter "$T/st0.json" by_seg2) + N))
capture_quiet
capture_stop
stats_json lb "$T/st1.json"
delta() { echo $(($(lb_counter "$T/st1.json" $1) - $(lb_counter "$T/st0.json" $1))); }

# ---- the wire at lb
lbsp_packets "$T/lb.pcap" >"$T/all"
info "lb's link: $(wc -l <"$T/all") tcp packets"
for s2 in $FORGED; do
	n=$(tshark -r "$T/lb.pcap" -Y "ipv6.dst == $s2" 2>/dev/null | grep -c .)
	[ "$n" -eq 0 ] || fail "$n packets sent to the forged seg2 $s2"
done
# Each crafted SYN arrived at lb (to the vip, seg2 as forged) and left it
# only towards a pool server, seg1 and seg2 untouched.
while read -r s2 p0; do
	in=$(awk -v v=$VIP -v s=$s2 -v p=$p0 -v n=$N '$2 == v && $8 == s &&
	    $4 >= p && $4 < p + n' "$T/all" | wc -l)
	[ "$in" -eq $N ] || fail "seg2 $s2: $in of $N crafted SYNs seen arriving at lb"
	awk -v v=$VIP -v s=$s2 -v p=$p0 -v n=$N -v c=$C1_ADDR '$1 == c &&
	    $2 != v && $4 >= p && $4 < p + n' "$T/all" >"$T/out-$s2"
	bad=$(awk '$2 !~ /^2001:db8:5::[123]$/' "$T/out-$s2")
	[ -z "$bad" ] || fail "seg2 $s2: SYN forwarded outside the pool: $bad"
	info "seg2 $s2: $N SYNs in, $(wc -l <"$T/out-$s2") out to $(awk '{ print $2 }' "$T/out-$s2" | sort | uniq -c | tr -s ' \n' ' ')"
done <"$T/sent"
# The pool server named in seg2 is followed, by every SYN.
n=$(awk -v s=$POOL2 '$2 == s' "$T/out-$POOL2" | wc -l)
[ "$n" -eq $N ] || fail "seg2 $POOL2 (a pool server): $n of $N SYNs sent to it"

# ---- the counters
n=$(delta seg2_rejected)
[ "$n" -eq $((3 * N)) ] || fail "counters.seg2_rejected grew by $n, want $((3 * N)) (one per forged SYN)"
n=$(delta by_seg2)
[ "$n" -eq $N ] || fail "counters.by_seg2 grew by $n, want $N (the pool server's SYNs)"

pass "$((3 * N)) SYNs with a forged seg2 counted (seg2_rejected) and never sent to it; $N with a pool server's seg2 followed"
