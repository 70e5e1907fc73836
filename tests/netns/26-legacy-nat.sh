#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 26-legacy-nat.sh -- the legacy client's HTTP works end to end through
# the balancer's full NAT (LS-NAPT, doc/design.md §2, LSNAT §3.3).
#
# c2 runs no lbspd.  It fetches /name, then /name and /big (2 MB) twice
# on one keep-alive connection, and the results must be right and
# intact.  On the wire:
# - c2 only ever talks to the vip (its link: every port-80 packet is
#   between c2 and the vip);
# - the servers only ever see the balancer (their links: every port-80
#   packet is between lb's address and the server): the source was
#   translated too, so replies come back through lb, where they are
#   counted leaving towards c2 from the vip;
# - no LBSP option anywhere (nothing inserts one for a legacy client);
# and the balancer's daemon handled only the first packet of each
# connection (counters: packets = legacy_nat = sessions = connections),
# the kernel's NAT did the rest.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
command -v curl >/dev/null || fail "curl not installed"
topo_full

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
# HTTP/1.1 servers (python3 -m http.server speaks 1.0: one request a
# connection), answering their name and a 2 MB file.
head -c 2000000 /dev/urandom >"$T/big"
for i in 1 2 3; do
	mkdir "$T/w$i"
	echo s$i >"$T/w$i/name"
	cp "$T/big" "$T/w$i/big"
	bg s$i "$PY" -c '
import functools, http.server, socket, sys
class H(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
class S(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
S((sys.argv[1], 80), functools.partial(H, directory=sys.argv[2])).serve_forever()
' 2001:db8:5::$i "$T/w$i"
	wait_listen s$i tcp 2001:db8:5::$i 80
done
lb_servers_lbspd
lb_start "$T/lb.conf"
capture c2 eth0 "$T/c2.pcap" tcp port 80
capture lb eth0 "$T/lb.pcap" ip6
for i in 1 2 3; do
	capture s$i eth0 "$T/s$i.pcap" ip6
done
stats_json lb "$T/st0.json"

url="http://[$VIP]"
out=$(nsx c2 curl -gsS --max-time 5 "$url/name" 2>&1) || fail "curl $url/name: $out"
case $out in
s[123]) ;;
*) fail "curl $url/name: got '$out'" ;;
esac
FIRST=$out
# One connection, four requests (curl reuses it: "Re-using" in -v).
nsx c2 curl -gsSv --max-time 20 -o "$T/n1" "$url/name" -o "$T/b1" "$url/big" \
    -o "$T/n2" "$url/name" -o "$T/b2" "$url/big" 2>"$T/curl-v" ||
	fail "curl keep-alive: $(tail -n 5 "$T/curl-v")"
n=$(grep -c -i 're-using\|reusing' "$T/curl-v")
[ "$n" -ge 3 ] || fail "curl did not reuse its connection ($n reuses)"
KA=$(cat "$T/n1")
[ "$(cat "$T/n2")" = "$KA" ] || fail "one connection, two servers: $KA then $(cat "$T/n2")"
for f in b1 b2; do
	cmp -s "$T/big" "$T/$f" || fail "/big through NAT ($f): content differs"
done
capture_quiet
capture_stop
stats_json lb "$T/st1.json"
delta() { echo $(($(lb_counter "$T/st1.json" $1) - $(lb_counter "$T/st0.json" $1))); }

# ---- the daemon: the first packet of each of the 2 connections only
for c in packets legacy_nat sessions by_scheduler; do
	n=$(delta $c)
	[ "$n" -eq 2 ] || fail "counters.$c grew by $n, want 2 (one per connection)"
done

# ---- c2's link: c2 <-> vip only
lbsp_packets "$T/c2.pcap" "tcp.port == 80" >"$T/w-c2"
n=$(grep -c . "$T/w-c2")
[ "$n" -ge 100 ] || fail "c2's link: only $n packets"
bad=$(awk -v c=$C2_ADDR -v v=$VIP '!(($1 == c && $2 == v) || ($1 == v && $2 == c)) || $6 != 0' "$T/w-c2" | head -3)
[ -z "$bad" ] || fail "c2's link: a packet not between c2 and the vip, or with an option: $bad"

# ---- the servers' links: lb <-> server only, and the servers that
# answered are the ones that carried the traffic.
: >"$T/w-s"
for i in 1 2 3; do
	lbsp_packets "$T/s$i.pcap" "tcp.port == 80" | sed "s/\$/ s$i/" >>"$T/w-s"
done
bad=$(awk -v l=$LB_ADDR '{ s = "2001:db8:5::" substr($NF, 2) }
    !(($1 == l && $2 == s) || ($1 == s && $2 == l)) || $6 != 0' "$T/w-s" | head -3)
[ -z "$bad" ] || fail "servers' links: a packet not between lb and the server, or with an option: $bad"
grep -q "$C2_ADDR" "$T/w-s" && fail "a server saw the client's address $C2_ADDR"
for s in $FIRST $KA; do
	n=$(awk -v s=$s '$NF == s' "$T/w-s" | wc -l)
	[ "$n" -ge 4 ] || fail "$s answered, but only $n packets on its link"
done
big=$(awk -v l=$LB_ADDR -v s=2001:db8:5::${KA#s} '$1 == s && $2 == l' "$T/w-s" | wc -l)

# ---- lb's link: the replies came back through lb, translated
lbsp_packets "$T/lb.pcap" "tcp.port == 80" >"$T/w-lb"
in=$(awk -v l=$LB_ADDR -v s=2001:db8:5::${KA#s} '$1 == s && $2 == l' "$T/w-lb" | wc -l)
out=$(awk -v c=$C2_ADDR -v v=$VIP '$1 == v && $2 == c' "$T/w-lb" | wc -l)
info "${KA}'s replies: $big packets on its link, $in reaching lb; lb to c2 from the vip: $out"
[ "$in" -eq "$big" ] || fail "replies of $KA: $big on its link, $in at lb"
[ "$out" -ge "$in" ] || fail "lb sent c2 $out packets from the vip, fewer than the $in server replies of the keep-alive connection"
bad=$(awk -v c=$C2_ADDR '$1 ~ /^2001:db8:5::/ && $2 == c' "$T/w-lb" | head -3)
[ -z "$bad" ] || fail "lb's link: a server's packet to c2 untranslated: $bad"

pass "legacy HTTP through full NAT: /name from $FIRST, keep-alive /name /big x2 from $KA intact; servers saw only lb, c2 only the vip; the daemon handled 2 packets"
