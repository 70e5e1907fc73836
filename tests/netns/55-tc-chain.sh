#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 55-tc-chain.sh -- lbsp shares its tc hooks: a program attached after
# lbsp's (a firewall, another datapath) still sees every packet, the
# ones lbsp changed included, because lbsp's programs pass packets on
# (TC_ACT_UNSPEC: TCX_NEXT on tcx, the next filter on clsact) instead of
# ending the hook's chain (TC_ACT_OK).
#
# topo_pair, the client role on C and the server role on S, both on tc.
# On C's link, ingress and egress, a cls_bpf filter of the clsact qdisc
# at the lowest priority runs tests/netns/chain.bpf.c, which counts the
# IPv6 packets it sees and those with a Destination Options header.
# tcx programs run before the clsact filters, and lbsp's own clsact
# filter has a higher priority, so chain.bpf.c runs after lbsp either
# way:
#   1. lbsp on tcx (or on clsact where the kernel has no tcx): 5 curls,
#      captured at S; every packet of them carries the option; the
#      chain program saw at least as many packets with a Destination
#      Options header, each way, as the capture holds (C's egress: the
#      client's; C's ingress: the server's);
#   2. the same with lbsp on clsact (LBSPD_TC_ATTACH=clsact).
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
CHAIN=$top_builddir/tests/netns/chain.bpf.o
[ -f "$CHAIN" ] || fail "no $CHAIN (make check builds it)"
command -v bpftool >/dev/null || fail "bpftool not installed"
topo_pair

pair_confs tc

# The chain program on C's link, both ways, after anything of lbsp's.
nsx C tc qdisc add dev $C_IF clsact 2>/dev/null
for dir in ingress egress; do
	nsx C tc filter add dev $C_IF $dir prio 65000 bpf da obj "$CHAIN" \
	    sec tc || fail "chain program on $C_IF $dir"
done

# seen DIR SLOT - what the chain program on C's DIR hook counted in
# SLOT (0: IPv6 packets, 1: with a Destination Options header).
seen()
{
	local id map
	id=$(nsx C tc filter show dev $C_IF "$1" |
	    sed -n 's/.* id \([0-9]*\) name chain_count.*/\1/p' | head -n 1)
	[ -n "$id" ] || fail "no chain program on $C_IF $1"
	bpftool prog show id "$id" --json >"$T/prog.json" || fail "prog $id"
	map=$(json_get "$T/prog.json" "j['map_ids'][0]")
	bpftool map dump id "$map" --json >"$T/seen.json" || fail "dump of map $map"
	json_get "$T/seen.json" "[e.get('formatted', e) for e in j][$2]['value']"
}

# round WHAT - 5 curls; the chain program saw every packet with the
# option, both ways.
round()
{
	local what=$1 e0 i0 e1 i1 i out cs sc
	e0=$(seen egress 1) i0=$(seen ingress 1)
	capture S $S_IF "$T/$what.pcap"
	i=0
	while [ $i -lt 5 ]; do
		out=$(nsx C curl -gsS --max-time 10 "http://[$S_ADDR]/name" 2>&1) ||
			fail "$what: curl: $out"
		[ "$out" = S ] || fail "$what: curl: got '$out'"
		i=$((i + 1))
	done
	capture_stop
	lbsp_packets "$T/$what.pcap" "tcp.port == 80" >"$T/$what.txt"
	lbsp_verify "$T/$what.txt" $C_ADDR $C_ADDR $S_ADDR
	cs=$VERIFY_CS sc=$VERIFY_SC
	e1=$(seen egress 1) i1=$(seen ingress 1)
	info "$what: the chain program saw $((e1 - e0)) of $cs client and $((i1 - i0)) of $sc server packets with the option"
	[ $((e1 - e0)) -ge "$cs" ] ||
		fail "$what: C's egress chain saw $((e1 - e0)) packets with the option, $cs left C"
	[ $((i1 - i0)) -ge "$sc" ] ||
		fail "$what: C's ingress chain saw $((i1 - i0)) packets with the option, $sc reached C"
}

pair_start "$T/server.conf" "$T/client.conf"
stats_json C "$T/c.json"
attach=$(json_get "$T/c.json" "j['datapath']['tc_attach']")
round "$attach"
lbspd_stop C
lbspd_stop S

LBSPD_TC_ATTACH=clsact
export LBSPD_TC_ATTACH
lbspd_start S "$T/server.conf"
lbspd_start C "$T/client.conf"
unset LBSPD_TC_ATTACH
stats_json C "$T/c2.json"
[ "$(json_get "$T/c2.json" "j['datapath']['tc_attach']")" = clsact ] ||
	fail "LBSPD_TC_ATTACH=clsact: not on clsact"
round clsact

pass "a program after lbsp's on the hook sees every packet ($attach, clsact)"
