# SPDX-License-Identifier: GPL-2.0-or-later
# lib/topo.sh -- the topologies the tests build (topo_pair, topo_full,
# topo_megaproxy) and their addresses.
# Sourced by tests/netns/lib.sh, never on its own.

# topo_pair - two hosts on one link:
#
#     C (cl0) 2001:db8:1::1/64 ----- 2001:db8:1::2/64 (sv0) S
#
# Sets C_ADDR S_ADDR C_IF S_IF.
C_ADDR=2001:db8:1::1
S_ADDR=2001:db8:1::2
C_IF=cl0
S_IF=sv0
topo_pair()
{
	ns_new C
	ns_new S
	link C $C_IF $C_ADDR/64 S $S_IF $S_ADDR/64
}


# topo_lb_servers - the half of doc/design.md §7 behind the router r (whose
# bridge brs must exist): lb holding the VIP route, s1..s3 on brs.
# Shared by topo_full and topo_megaproxy.
topo_lb_servers()
{
	local i h
	link r lb $R_LB_ADDR/64 lb eth0 $LB_ADDR/64
	route r 2001:db8:f::/64 via $LB_ADDR
	route lb default via $R_LB_ADDR
	nsx lb ip -6 route add unreachable 2001:db8:f::/64 ||
		fail "unreachable VIP route in lb"
	for i in 1 2 3; do
		h=s$i
		ns_new $h
		link $h eth0 2001:db8:5::$i/64 r $h -
		bridge_port r brs $h
		route $h default via $R_S_ADDR
	done
}

# topo_full [proxy] - the reference layout of doc/design.md §7:
#
#   c1 2001:db8:1::1 -+                           (clients' LAN, bridge
#   c2 2001:db8:1::2 -+- r 2001:db8:1::ff          "brc" in r)
#          with "proxy": c1 2001:db8:a::1, c2 2001:db8:a::2 on px's
#          LAN (px 2001:db8:a::ff, bridge "brc" in px); px uplink
#          2001:db8:1::10 to r, NAT66 (masquerade) towards r
#   r 2001:db8:ff::1 ---- 2001:db8:ff::2 lb       the VIP 2001:db8:f::100
#                                                 (2001:db8:f::/64) is
#                                                 routed to lb
#   s1 2001:db8:5::1 -+
#   s2 2001:db8:5::2 -+- r 2001:db8:5::ff          (servers' LAN, bridge
#   s3 2001:db8:5::3 -+                            "brs" in r)
#
# r and lb forward.  Clients and servers route everything via r, so the
# servers' answers go through r and never through lb ("LB not in the
# direct path").  lb routes the rest via r; with no balancer running,
# the VIP is unreachable at lb (an "unreachable" route: no loop).  The
# VIP is not a local address anywhere; a test that wants it local adds
# it (ip -6 addr add $VIP/128 dev lo) itself.
# Interfaces: each host's uplink is "eth0"; r: "c1" "c2" (or "px"),
# "s1" "s2" "s3" (bridge ports), "lb"; lb: "eth0".
VIP=2001:db8:f::100
C1_ADDR=2001:db8:1::1
C2_ADDR=2001:db8:1::2
R_C_ADDR=2001:db8:1::ff
PX_ADDR=2001:db8:1::10
PX_LAN_ADDR=2001:db8:a::ff
R_LB_ADDR=2001:db8:ff::1
LB_ADDR=2001:db8:ff::2
R_S_ADDR=2001:db8:5::ff
S1_ADDR=2001:db8:5::1
S2_ADDR=2001:db8:5::2
S3_ADDR=2001:db8:5::3
topo_full()
{
	local proxy=${1:-} h i
	ns_new r
	ns_new lb
	forwarding r
	forwarding lb
	bridge r brc $R_C_ADDR/64
	bridge r brs $R_S_ADDR/64
	if [ "$proxy" = proxy ]; then
		C1_ADDR=2001:db8:a::1
		C2_ADDR=2001:db8:a::2
		ns_new px
		forwarding px
		bridge px brc $PX_LAN_ADDR/64
		link px eth0 $PX_ADDR/64 r px -
		bridge_port r brc px
		route px default via $R_C_ADDR
		nsx px nft -f - <<-EOF || fail "NAT66 in px"
		table ip6 lbsp_px {
			chain post {
				type nat hook postrouting priority srcnat;
				oifname "eth0" masquerade
			}
		}
		EOF
		for h in c1 c2; do
			ns_new $h
		done
		link c1 eth0 $C1_ADDR/64 px c1 -
		link c2 eth0 $C2_ADDR/64 px c2 -
		bridge_port px brc c1
		bridge_port px brc c2
		route c1 default via $PX_LAN_ADDR
		route c2 default via $PX_LAN_ADDR
	else
		ns_new c1
		ns_new c2
		link c1 eth0 $C1_ADDR/64 r c1 -
		link c2 eth0 $C2_ADDR/64 r c2 -
		bridge_port r brc c1
		bridge_port r brc c2
		route c1 default via $R_C_ADDR
		route c2 default via $R_C_ADDR
	fi
	topo_lb_servers
}

# topo_megaproxy - topo_full's servers, router and balancer, with the
# clients behind two NAT66 proxies (ip6tables MASQUERADE), as in the
# slides' megaproxy table:
#
#   c1 eth0 2001:db8:a::1 -+- px1 brc 2001:db8:a::ff   px1 eth0 2001:db8:1::10 -+
#   c2 eth0 2001:db8:a::2 -+                                                  |
#   c1 eth1 2001:db8:b::1 --- px2 lan 2001:db8:b::ff   px2 eth0 2001:db8:1::20 -+- r brc
#   c3 eth0 2001:db8:1::3 (no proxy) ---------------------------------------+  2001:db8:1::ff
#   r ---- lb (VIP 2001:db8:f::100 and VIP2 2001:db8:f::200), s1 s2 s3: as topo_full
#
# c1 has one identity, 2001:db8:a::1: it goes through px1 by default
# and through px2 for TCP port 443 (an ip -6 rule on the destination
# port selects table 443, whose default route leaves by eth1 with
# source 2001:db8:a::1).  px1 and px2 masquerade what leaves their
# eth0, so r, lb and the servers see 2001:db8:1::10 or ::20 as the
# source.  Interfaces on r: bridge ports "px1" "px2" "c3" (brc), "s1"
# "s2" "s3" (brs), "lb".
VIP2=2001:db8:f::200
C3_ADDR=2001:db8:1::3
PX1_ADDR=2001:db8:1::10
PX2_ADDR=2001:db8:1::20
PX1_LAN=2001:db8:a::ff
PX2_LAN=2001:db8:b::ff
C1_PX2_ADDR=2001:db8:b::1
topo_megaproxy()
{
	local h i
	C1_ADDR=2001:db8:a::1
	C2_ADDR=2001:db8:a::2
	ns_new r
	ns_new lb
	forwarding r
	forwarding lb
	bridge r brc $R_C_ADDR/64
	bridge r brs $R_S_ADDR/64
	for h in px1 px2 c1 c2 c3; do
		ns_new $h
	done
	forwarding px1
	forwarding px2
	# px1: a LAN bridge for c1 and c2, uplink to r.
	bridge px1 brc $PX1_LAN/64
	link px1 eth0 $PX1_ADDR/64 r px1 -
	bridge_port r brc px1
	route px1 default via $R_C_ADDR
	link c1 eth0 $C1_ADDR/64 px1 c1 -
	link c2 eth0 $C2_ADDR/64 px1 c2 -
	bridge_port px1 brc c1
	bridge_port px1 brc c2
	# px2: a point-to-point LAN to c1's second interface.
	link px2 eth0 $PX2_ADDR/64 r px2 -
	bridge_port r brc px2
	route px2 default via $R_C_ADDR
	link c1 eth1 $C1_PX2_ADDR/64 px2 lan $PX2_LAN/64
	route px2 $C1_ADDR/128 via $C1_PX2_ADDR
	for h in px1 px2; do
		nsx $h ip6tables -t nat -A POSTROUTING -o eth0 -j MASQUERADE ||
			fail "NAT66 in $h"
	done
	# c1: px1 by default, px2 for port 443, one source address.
	route c1 default via $PX1_LAN
	nsx c1 ip -6 route add default via $PX2_LAN dev eth1 \
	    src $C1_ADDR table 443 || fail "table 443 in c1"
	nsx c1 ip -6 rule add ipproto tcp dport 443 lookup 443 pref 100 ||
		fail "ip -6 rule dport 443 in c1"
	route c2 default via $PX1_LAN
	# c3: a client without a proxy.
	link c3 eth0 $C3_ADDR/64 r c3 -
	bridge_port r brc c3
	route c3 default via $R_C_ADDR
	topo_lb_servers
}

# pair_addrs - eight more addresses on topo_pair's client C,
# 2001:db8:1::11 to ::18 (nodad: usable at once), listed in PAIR_ADDRS:
# flows from several sources, which the kernel spreads over queues.
pair_addrs()
{
	local i
	PAIR_ADDRS=
	for i in 11 12 13 14 15 16 17 18; do
		nsx C ip -6 addr add 2001:db8:1::$i/64 dev $C_IF nodad ||
			fail "cannot add 2001:db8:1::$i"
		PAIR_ADDRS="$PAIR_ADDRS 2001:db8:1::$i"
	done
}

# legacy_addr N - the N-th extra legacy client address on c2:
# 2001:db8:1::100 + N, N from 0 (hexadecimal: ::100 ... ::13b for 60).
legacy_addr()
{
	printf '2001:db8:1::%x\n' $((0x100 + $1))
}

# legacy_addrs FIRST COUNT - add the addresses legacy_addr FIRST ...
# FIRST+COUNT-1 to c2's eth0 (nodad: usable at once).
legacy_addrs()
{
	local i=$1 end=$(($1 + $2))
	while [ $i -lt $end ]; do
		nsx c2 ip -6 addr add "$(legacy_addr $i)/64" dev eth0 nodad ||
			fail "address $(legacy_addr $i) on c2"
		i=$((i + 1))
	done
}
