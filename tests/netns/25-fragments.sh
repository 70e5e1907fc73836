#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 25-fragments.sh -- large UDP datagrams that fragment (4000 bytes: three
# fragments on the 1500-byte links) each reach exactly one server, whole,
# and the same server for all the datagrams of one client:
# - the LBSP client c1 (lbspd, client role; a datagram this large is
#   sent without the option, doc/design.md §1), 8 datagrams;
# - the legacy client c2 from 6 source addresses, 5 datagrams each;
# - crafted LBSP datagrams (scapy): the option in a Destination Options
#   header before the Fragment header, so in every fragment (RFC 7098),
#   from a second address of c1, 5 datagrams.
# Each server runs a UDP listener writing, for every datagram, its tag
# (the text before the first newline: "SOURCE N"), length and SHA-256.
# On the servers' links: every fragment of one datagram (source,
# identification) arrives at one server only, first and last fragments
# included, and every fragment of a crafted datagram carries the LBSP
# option.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
topo_full
PORT=5000
SIZE=4000
CRAFT_SRC=2001:db8:1::21

cat >"$T/lb.conf" <<CONF
role balancer
queue 0
vip $VIP {
	ports $PORT
	scheduler rr
	server 2001:db8:5::1
	server 2001:db8:5::2
	server 2001:db8:5::3
}
CONF
# The servers run no lbspd here: a server whose kernel reassembles
# through conntrack (as lbspd's server rules make it) drops datagrams
# carrying a Destination Options header before the Fragment header --
# kernel 6.18, reproduced with one conntrack rule and no lbspd, counted
# in Ip6InHdrErrors.  What is tested is the balancer: every fragment of
# a datagram to one server, whole.  The limitation is in lbsp(7).
for i in 1 2 3; do
	bg s$i timeout 60 "$PY" -c '
import hashlib, socket, sys
addr, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((addr, port))
with open(out, "w") as f:
    while True:
        b, peer = s.recvfrom(65535)
        tag = b.split(b"\n", 1)[0].decode(errors="replace")
        f.write("%s %d %s\n" % (tag.replace(" ", "/"), len(b), hashlib.sha256(b).hexdigest()))
        f.flush()
' 2001:db8:5::$i $PORT "$T/got-s$i"
	wait_listen s$i udp 2001:db8:5::$i $PORT
done
lb_start "$T/lb.conf"
lb_client_lbspd $PORT
flowlabels c2 off
legacy_addrs 0 6
nsx c1 ip -6 addr add $CRAFT_SRC/64 dev eth0 nodad || fail "address on c1"
for i in 1 2 3; do
	capture s$i eth0 "$T/s$i.pcap"
	snmp_snap s$i "$T/snmp-s$i"
done

# send NS SRC COUNT - COUNT datagrams of SIZE bytes from SRC to the vip:
# "SRC K\n" then random bytes; $T/sent gets "SRC/K SIZE SHA256" lines.
send()
{
	nsx "$1" timeout 20 "$PY" -c '
import hashlib, os, socket, sys, time
src, vip, port, n, size, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((src, 0))
with open(out, "a") as f:
    for k in range(n):
        tag = ("%s %d\n" % (src, k)).encode()
        b = tag + os.urandom(size - len(tag))
        s.sendto(b, (vip, port))
        f.write("%s/%d %d %s\n" % (src, k, len(b), hashlib.sha256(b).hexdigest()))
        time.sleep(0.05)
' "$2" $VIP $PORT "$3" $SIZE "$T/sent" || fail "sending from $2"
}
send c1 $C1_ADDR 8
for i in 0 1 2 3 4 5; do
	send c2 $(legacy_addr $i) 5
done

# Crafted: LBSP option in the unfragmentable part, then Fragment, UDP.
nsx c1 timeout 30 "$PY" -c '
import hashlib, os, socket, sys, logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, PadN, HBHOptUnknown, UDP, Raw, fragment6, raw
src, vip, port, n, size, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
rs = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
opt = socket.inet_pton(socket.AF_INET6, src) + bytes(16)
with open(out, "a") as f:
    for k in range(n):
        tag = ("%s %d\n" % (src, k)).encode()
        b = tag + os.urandom(size - len(tag))
        p = IPv6(src=src, dst=vip) / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0\0"),
            HBHOptUnknown(otype=0x1e, optdata=opt)]) / IPv6ExtHdrFragment(id=0x5000 + k) / \
            UDP(sport=41000, dport=port) / Raw(b)
        frags = fragment6(p, 1480)
        assert len(frags) == 3, len(frags)
        for fr in frags:
            w = raw(fr)
            assert w[6] == 60 and w[46] == 0x1e and w[40] == 44, w[:48].hex()
            rs.sendto(w, (vip, 0))
        f.write("%s/%d %d %s\n" % (src, k, len(b), hashlib.sha256(b).hexdigest()))
' $CRAFT_SRC $VIP $PORT 5 $SIZE "$T/sent" || fail "crafted fragmented datagrams not sent"
# Every datagram sent has reached a server (the check below lists any
# that did not), and the captures are through.
received() { [ "$(cat "$T"/got-s1 "$T"/got-s2 "$T"/got-s3 2>/dev/null | grep -c .)" -ge "$(grep -c . "$T/sent")" ]; }
try_for 10 received
capture_quiet
capture_stop
stats_json lb "$T/stats.json"
cat "$T"/got-s1 "$T"/got-s2 "$T"/got-s3 2>/dev/null >"$T/got"
for i in 1 2 3; do
	sed "s/\$/ s$i/" "$T/got-s$i"
done >"$T/got-where"

# ---- the servers' links: fragments of one datagram at one server,
# complete (offset 0 and a last one), LBSP option in each crafted one.
for i in 1 2 3; do
	tshark -r "$T/s$i.pcap" -Y "ipv6.fraghdr" -T fields -E separator=' ' \
	    -e ipv6.src -e ipv6.fraghdr.ident -e ipv6.fraghdr.offset \
	    -e ipv6.fraghdr.more -e ipv6.opt.experimental -e ipv6.dstopts.nxt \
	    2>/dev/null | awk -v s=s$i '{ print s, $0 }'
done >"$T/frags"
nf=$(grep -c . "$T/frags")
info "fragments on the servers' links: $nf"
[ "$nf" -ge $((3 * 43)) ] || fail "only $nf fragments on the servers' links for 43 datagrams of $SIZE bytes"
bad=$(awk '{ k = $2 " " $3; if (k in where && where[k] != $1) print k; where[k] = $1 }' "$T/frags")
[ -z "$bad" ] || fail "fragments of one datagram at several servers: $(echo "$bad" | head -3)"
bad=$(awk '{ k = $2 " " $3; n[k]++; if ($4 == 0) first[k] = 1; if ($5 == 0 || $5 == "False") last[k] = 1 }
    END { for (k in n) if (!first[k] || !last[k] || n[k] < 3) print k, n[k] }' "$T/frags")
[ -z "$bad" ] || fail "incomplete fragment sets at the servers: $(echo "$bad" | head -3)"
nl=$(awk -v c=$CRAFT_SRC '$2 == c' "$T/frags" | wc -l)
[ "$nl" -eq 15 ] || fail "crafted LBSP datagrams: $nl fragments at the servers, want 15"
nopt=$(awk -v c=$CRAFT_SRC '$2 == c && length($6) == 64' "$T/frags" | wc -l)
[ "$nopt" -eq 15 ] || fail "crafted LBSP datagrams: only $nopt of 15 fragments carry the LBSP option at the server"


# ---- each datagram once, whole, and one server per client
total=$(grep -c . "$T/sent")
[ "$total" -eq 43 ] || fail "sent $total datagrams, want 43"
hdrerr=
for i in 1 2 3; do
	hdrerr="$hdrerr s$i $(($(snmp s$i Ip6InHdrErrors) - $(awk '$1 == "Ip6InHdrErrors" { print $2 }' "$T/snmp-s$i")))"
done
info "servers' kernels, Ip6InHdrErrors since the start:$hdrerr"
missing=$(sort "$T/sent" | comm -23 - "$(sort "$T/got" >"$T/got.sorted"; echo "$T/got.sorted")")
[ -z "$missing" ] || fail "datagrams not received whole: $(echo "$missing" | head -5 | tr '\n' ';') ($(echo "$missing" | grep -c .) of $total; got $(grep -c . "$T/got"))"
dup=$(awk '{ print $1 }' "$T/got" | sort | uniq -d)
[ -z "$dup" ] || fail "datagrams received more than once: $dup"
extra=$(sort "$T/sent" | comm -13 - "$T/got.sorted")
[ -z "$extra" ] || fail "datagrams received damaged or unknown: $(echo "$extra" | head -3)"
awk '{ split($1, a, "/"); print a[1], $NF }' "$T/got-where" | sort -u >"$T/client-server"
split=$(awk '{ print $1 }' "$T/client-server" | uniq -d)
[ -z "$split" ] || fail "datagrams of one client on several servers: $(grep -F "$split" "$T/client-server" | tr '\n' ';')"
info "clients -> servers: $(awk '{ print $1 "->" $2 }' "$T/client-server" | tr '\n' ' ')"

pass "$total datagrams of $SIZE bytes ($nf fragments) each whole at exactly one server, one server per client; LBSP option in all 15 crafted fragments; lb counters: legacy_nat $(lb_counter "$T/stats.json" legacy_nat), by_scheduler $(lb_counter "$T/stats.json" by_scheduler)"
