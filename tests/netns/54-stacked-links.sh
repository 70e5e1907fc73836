#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 54-stacked-links.sh -- clients and servers whose address sits on a
# stacked link: a bridge whose port is the veth, a VLAN on the veth, a
# bond of two veths.  Each packet meets each role once: the option is
# inserted once, the redirect done once, and no first SYN is taken for
# one sent again (a false option blackhole).  Runs on nfqueue, and on
# tc as 54-stacked-links.tc (lbspd/path/links.h: which links carry the
# programs).
#
# topo_full with a third client c3; round robin, so the three clients'
# first requests stick to s1, s2, s3 in turn:
#   c1, s1: the address on br0, eth0 its port;
#   c2, s2: the address on eth0.7 (VLAN 7); r tags on its side too;
#   c3, s3: the address on bond0 (active-backup), eth0 and eth1 its
#           slaves, both bridge ports on r.
# A kernel without 8021q or bonding (this machine's) leaves those hosts
# on plain links and says so; the Debian kernels of tests/vm have both,
# and there (LBSP_STACKS_REQUIRED=1) a missing one fails.
#   1. 8 requests from each client (curl), all answered, from s1 s2 s3;
#   2. on r's two bridges: every packet between a client and its server
#      carries exactly one LBSP option with the right segments
#      (lbsp_verify);
#   3. blackhole_detected and updated (an option found already there)
#      stay 0 on every host; the receiving kernels count no header or
#      checksum error.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
topo_full
C3_ADDR=2001:db8:1::3
ns_new c3
link c3 eth0 $C3_ADDR/64 r c3 -
bridge_port r brc c3
route c3 default via $R_C_ADDR
N=8
STACKED=
LACKING=

# mk NS WHAT ARGS... - ip link add in NS; returns 1 when the kernel has
# no such link type (reported, or a failure with LBSP_STACKS_REQUIRED).
mk()
{
	local ns=$1 what=$2 out
	shift 2
	out=$(nsx "$ns" ip link add "$@" 2>&1) && return 0
	case $out in
	*"Unknown device type"* | *"not supported"*)
		[ "${LBSP_STACKS_REQUIRED:-0}" = 1 ] &&
			fail "$ns: ip link add $*: $out (LBSP_STACKS_REQUIRED)"
		info "kernel lacks $what: $ns stays on a plain link"
		LACKING="$LACKING $what"
		return 1 ;;
	esac
	fail "$ns: ip link add $*: $out"
}

# stacked_up NS DEV - a stacked link up: no DAD; checksum offloads off
# where the link type lets them be set (its lower veths have them off).
stacked_up()
{
	# The slash form: a VLAN link's name has a dot.
	nsx "$1" sysctl -qw "net/ipv6/conf/$2/accept_dad=0" >/dev/null ||
		fail "$1: accept_dad on $2"
	nsx "$1" ethtool -K "$2" tx off rx off >/dev/null 2>&1
	nsx "$1" ip link set "$2" up || fail "$1: $2 up"
}

# up_on NS DEV ADDR GW - ADDR/64 moves from eth0 to DEV, the default
# route with it.
up_on()
{
	local ns=$1 dev=$2 addr=$3 gw=$4
	stacked_up "$ns" "$dev"
	# A bond's slave has lost its addresses already.
	nsx "$ns" ip -6 addr del "$addr/64" dev eth0 2>/dev/null
	! nsx "$ns" ip -6 addr show dev eth0 scope global | grep -q inet6 ||
		fail "$ns: eth0 keeps a global address"
	nsx "$ns" ip -6 addr add "$addr/64" dev "$dev" nodad || fail "$ns: $addr on $dev"
	nsx "$ns" ip -6 route replace default via "$gw" dev "$dev" ||
		fail "$ns: default route on $dev"
	STACKED="$STACKED $ns:$dev"
}

# bridge_stack NS ADDR GW - ADDR on br0, eth0 its port.
bridge_stack()
{
	mk "$1" bridge br0 type bridge mcast_snooping 0 stp_state 0 || return 0
	nsx "$1" ip link set eth0 master br0 || fail "$1: eth0 into br0"
	up_on "$1" br0 "$2" "$3"
}

# vlan_stack NS ADDR GW RBR - ADDR on eth0.7; r's end (named NS) tags
# too, its VLAN link the port of r's bridge RBR instead.
vlan_stack()
{
	mk "$1" 8021q link eth0 name eth0.7 type vlan id 7 || return 0
	mk r 8021q link "$1" name "$1.7" type vlan id 7 ||
		fail "r: no VLAN where $1 has one"
	nsx r ip link set "$1" nomaster || fail "r: $1 out of $4"
	stacked_up r "$1.7"
	bridge_port r "$4" "$1.7"
	up_on "$1" eth0.7 "$2" "$3"
}

# bond_stack NS ADDR GW RBR - ADDR on bond0 (active-backup) over eth0
# and a second veth eth1, whose r end is a port of RBR too.
bond_stack()
{
	mk "$1" bonding bond0 type bond mode active-backup miimon 100 ||
		return 0
	link "$1" eth1 - r "${1}b" -
	bridge_port r "$4" "${1}b"
	for i in eth0 eth1; do
		nsx "$1" ip link set "$i" down || fail "$1: $i down"
		nsx "$1" ip link set "$i" master bond0 || fail "$1: $i into bond0"
	done
	up_on "$1" bond0 "$2" "$3"
	nsx "$1" ip link set eth0 up
	nsx "$1" ip link set eth1 up
}

bridge_stack c1 $C1_ADDR $R_C_ADDR
vlan_stack c2 $C2_ADDR $R_C_ADDR brc
bond_stack c3 $C3_ADDR $R_C_ADDR brc
bridge_stack s1 $S1_ADDR $R_S_ADDR
vlan_stack s2 $S2_ADDR $R_S_ADDR brs
bond_stack s3 $S3_ADDR $R_S_ADDR brs
info "stacked:$STACKED${LACKING:+; kernel lacks:$LACKING}"
# Every host reaches r before the daemons start (a bond's slave takes
# up to miimon to be active): r's kernel refusing a TCP connection (no
# ping on a fresh machine) says the path works both ways.
for e in c1:$R_C_ADDR c2:$R_C_ADDR c3:$R_C_ADDR s1:$R_S_ADDR s2:$R_S_ADDR \
    s3:$R_S_ADDR; do
	i=0
	until nsx ${e%%:*} socat -u /dev/null \
	    "TCP6:[${e#*:}]:9,connect-timeout=1" 2>&1 | grep -q refused; do
		i=$((i + 1))
		[ $i -lt 10 ] || fail "${e%%:*} cannot reach r over its link"
		sleep 0.2
	done
done

sp_www 0 80
sp_lb_conf "$T/lb.conf"
sp_client_conf "$T/client.conf"
sp_daemons "$T/lb.conf" "$T/client.conf" c1 c2 c3

# The programs (tc) went on the stack's top, never on a port.
if [ "${LBSP_DATAPATH:-nfqueue}" = tc ]; then
	for e in $STACKED; do
		h=${e%%:*} dev=${e#*:}
		log=$(lbspd_log "$h")
		grep -q "program on $dev (" "$log" ||
			fail "$h: no program on $dev: $(grep 'tc:' "$log")"
		case $dev in
		br0 | bond0)
			! grep -q "program on eth[01] (" "$log" ||
				fail "$h: a program on a port of $dev: $(grep 'tc:' "$log")" ;;
		esac
	done
fi

for h in c1 c2 c3 s1 s2 s3; do
	snmp_snap $h "$T/snmp-$h"
done
capture r brc "$T/c.pcap"
capture r brs "$T/s.pcap"
served=
for h in c1 c2 c3; do
	i=0
	while [ $i -lt $N ]; do
		name=$(sp_get $h $VIP 80 name) || fail "$h: request $i failed: $name"
		case $name in
		s[123]) ;;
		*) fail "$h: request $i answered '$name'" ;;
		esac
		[ $i -eq 0 ] && eval "SRV_$h=\$name" && served="$served $name"
		i=$((i + 1))
	done
done
capture_stop
info "first answers:$served"
for s in s1 s2 s3; do
	case " $served " in
	*" $s "*) ;;
	*) fail "$s served none of the clients' first requests:$served" ;;
	esac
done

# 2. One option on every packet between each client and its server.
lbsp_packets "$T/c.pcap" "tcp.port == 80" >"$T/c.txt"
# At the servers, a first packet the balancer forwarded carries seg2 =
# the vip (its own lines, checked apart).
lbsp_packets "$T/s.pcap" "tcp.port == 80" >"$T/s.all"
awk -v v=$VIP '$8 != v' "$T/s.all" >"$T/s.txt"
awk -v v=$VIP '$8 == v && $6 != 1 { bad++ } END { exit bad > 0 }' "$T/s.all" ||
	fail "a packet through the balancer without exactly one option"
for h in c1 c2 c3; do
	eval "s=\$SRV_$h"
	eval "ca=\$$(echo "$h" | tr c C)_ADDR"
	sa=2001:db8:5::${s#s}
	lbsp_verify "$T/c.txt" "$ca" "$ca" "$sa"
	cs=$VERIFY_CS sc=$VERIFY_SC
	lbsp_verify "$T/s.txt" "$ca" "$ca" "$sa"
	info "$h <-> $s: $cs + $sc packets at the clients' router, $VERIFY_CS + $VERIFY_SC at the servers', one option each"
done

# 3. Each packet met each role once.
for h in c1 c2 c3 s1 s2 s3; do
	stats_json $h "$T/$h.json"
	for c in blackhole_detected updated; do
		v=$(lbsp_counter "$T/$h.json" $c)
		[ "$v" -eq 0 ] || fail "$h: $c is $v: a packet met a role twice"
	done
	snmp_unchanged $h "$T/snmp-$h"
done

pass "stacked links ($STACKED ) on ${LBSP_DATAPATH:-nfqueue}: $((3 * N)) requests answered, one option per packet, no false blackhole${LACKING:+ (kernel lacks:$LACKING)}"
