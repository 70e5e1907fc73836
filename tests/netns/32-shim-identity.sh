#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 32-shim-identity.sh -- LBSP_IDENTITY per process, through a balancer
# that sticks sessions by seg1 (topo_full; lb runs lbspd, role balancer,
# scheduler rr over s1 and s2; the servers run python3 http.server on
# ports 80 and 443 under the server shim, each answering its name).
#
# The client c1 runs no lbspd: its only help is one stateless nftables
# rule putting the vip back as the source of the servers' answers (what
# lbspd's client role does in software; the shim itself cannot), so
# the shim runs with "redirect off" here.
#
# Asserts:
# - LBSP_IDENTITY=random: two curl processes on c1 send two different
#   seg1 ids, neither the client's address; within each process the
#   connections to port 80 and to port 443 carry the same id and land on
#   the same server (the slides' shopping cart), and the two processes
#   land on different servers (rr: each new id is a new session);
# - LBSP_IDENTITY=HEX: that id is on the wire, and two processes with
#   that one id land on one server;
# - the server shim's answers echo each process's id.
# How it fails: make LBSP_IDENTITY=random use the address (both
# processes then stick to one server), or draw a new id per connection
# (80 and 443 then differ).
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
command -v curl >/dev/null || fail "curl not installed"
command -v nft >/dev/null || fail "nft not installed"

need_shims

topo_full
cat >"$T/lb.conf" <<EOF
role balancer
queue 0
vip $VIP {
	ports 80 443
	scheduler rr
	server $S1_ADDR
	server $S2_ADDR
}
EOF
cat >"$T/client.conf" <<EOF
role client
redirect off
vip $VIP {
	ports 80 443
	allow-servers 2001:db8:5::/64
}
EOF
printf 'role server\n' >"$T/server.conf"

for i in 1 2; do
	mkdir -p "$T/w$i"
	echo s$i >"$T/w$i/name"
	for port in 80 443; do
		bg s$i env LD_PRELOAD="$SHIM_SERVER" LBSP_CONF="$T/server.conf" \
		    "$PY" -m http.server $port --bind 2001:db8:5::$i \
		    --directory "$T/w$i"
		wait_listen s$i tcp 2001:db8:5::$i $port
	done
done
lbspd_start lb "$T/lb.conf"
# The servers' answers, seen by c1 as coming from the vip.
nsx c1 nft -f - <<EOF || fail "nft in c1"
table ip6 lbsp_test {
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		ip6 saddr 2001:db8:5::/64 tcp sport { 80, 443 } ip6 saddr set $VIP
	}
}
EOF

capture r c1 "$T/c1.pcap"
# fetch ID-ENV OUT - one curl process: port 80 then port 443.
fetch()
{
	nsx c1 env LD_PRELOAD="$SHIM_CLIENT" LBSP_CONF="$T/client.conf" \
	    LBSP_IDENTITY="$1" curl -gsS --max-time 10 \
	    "http://[$VIP]:80/name" "http://[$VIP]:443/name" >"$T/$2" 2>&1 ||
		{ dump "$T/$2"; fail "curl ($1) failed"; }
	info "LBSP_IDENTITY=$1: $(tr '\n' ' ' <"$T/$2")"
}
fetch random a.out
fetch random b.out
ID=20010db800ff00000000000000c0ffee
fetch $ID c.out
fetch $ID d.out
capture_quiet
capture_stop

lbsp_packets "$T/c1.pcap" >"$T/all.txt"
# SYNs from c1, in order: seg1 of each connection.
awk -v c=$C1_ADDR '$1 == c && $10 == "0x0002" { print $5, $6, $7 }' \
    "$T/all.txt" >"$T/syns.txt"
sed 's/^/# SYN /' "$T/syns.txt"
[ "$(wc -l <"$T/syns.txt")" -eq 8 ] || fail "expected 8 connections, saw $(wc -l <"$T/syns.txt")"
n=$(awk '$2 != 1' "$T/syns.txt" | wc -l)
[ "$n" -eq 0 ] || fail "$n SYNs without the option"
set -- $(awk '{ print $3 }' "$T/syns.txt")
ida1=$1 ida2=$2 idb1=$3 idb2=$4 idc1=$5 idc2=$6 idd1=$7 idd2=$8
[ "$ida1" = "$ida2" ] || fail "process a: ports 80 and 443 sent ids $ida1 and $ida2"
[ "$idb1" = "$idb2" ] || fail "process b: ports 80 and 443 sent ids $idb1 and $idb2"
[ "$ida1" != "$idb1" ] || fail "two processes sent one random id $ida1"
for id in $ida1 $idb1; do
	[ "$id" != $C1_ADDR ] || fail "identity random sent the address"
done
want=$("$PY" -c "import ipaddress; print(ipaddress.IPv6Address(bytes.fromhex('$ID')))")
for id in $idc1 $idc2 $idd1 $idd2; do
	[ "$id" = "$want" ] || fail "LBSP_IDENTITY=$ID sent $id, want $want"
done

# Servers: each process's two connections on one server; a != b.
for f in a b c d; do
	set -- $(cat "$T/$f.out")
	[ $# -eq 2 ] || fail "process $f: answers '$*'"
	[ "$1" = "$2" ] || fail "process $f: port 80 on $1, port 443 on $2 (no persistence)"
	eval "srv_$f=\$1"
done
[ "$srv_a" != "$srv_b" ] || fail "both random ids landed on $srv_a"
[ "$srv_c" = "$srv_d" ] || fail "one fixed id landed on $srv_c then $srv_d"

# The answers (from the servers: captured before c1's rewrite) echo
# each id.
n=$(awk -v c=$C1_ADDR -v a=$ida1 -v b=$idb1 -v w=$want '
    $2 == c && $1 ~ /^2001:db8:5::/ && $6 == 1 && $7 != a && $7 != b &&
    $7 != w' "$T/all.txt" | wc -l)
[ "$n" -eq 0 ] || fail "$n server answers with a seg1 no process sent"
n=$(awk -v c=$C1_ADDR -v a=$ida1 '$2 == c && $1 ~ /^2001:db8:5::/ &&
    $7 == a' "$T/all.txt" | wc -l)
[ "$n" -gt 0 ] || fail "no server answer echoes process a's id"

pass "per-process ids: a $ida1 -> $srv_a, b $idb1 -> $srv_b, fixed $want -> $srv_c"
