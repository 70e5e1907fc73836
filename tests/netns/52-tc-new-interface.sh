#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 52-tc-new-interface.sh -- on the tc datapath, an interface that appears
# after lbspd started gets the programs too (lbspd(8), "datapath").
#
# A client and a server lbspd on tc over one veth pair (cl0 / sv0); then a
# second pair (cl1 / sv1, 2001:db8:2::/64) is added while they run.
# Asserts:
#   - both daemons count the new hooks (lbspctl stats: datapath
#     tc_hooks_added, two per daemon) and log them;
#   - curl to http.server over the new link carries the option on every
#     packet both ways, with the right segments (captured on sv1);
#   - once the new pair is deleted, both daemons forget its hooks
#     (tc_hooks_gone) and traffic over the first link still carries the
#     option.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
command -v curl >/dev/null || fail "curl not installed"
topo_pair

C2_ADDR=2001:db8:2::1
S2_ADDR=2001:db8:2::2

pair_confs tc
printf 'vip %s {\n\tports 80\n}\n' "$S2_ADDR" >>"$T/client.conf"

pair_start "$T/server.conf" "$T/client.conf"

dp() { json_get "$1" "j['datapath']['$2']"; }

# hooks_at_least NS NAME MIN - the daemon of NS shows NAME >= MIN.
hooks_at_least()
{
	stats_json "$1" "$T/hooks-$1.json"
	[ "$(dp "$T/hooks-$1.json" "$2")" -ge "$3" ]
}

# get ADDR PCAP IF - one curl to http.server at ADDR, captured in S on IF.
get()
{
	local out
	capture S "$3" "$2"
	out=$(nsx C curl -gsS --max-time 10 "http://[$1]/name" 2>&1) ||
		fail "curl [$1]: $out"
	[ "$out" = S ] || fail "curl [$1]: got '$out'"
	capture_stop
	lbsp_packets "$2" "tcp.port == 80" >"$2.txt"
}

for ns in C S; do
	stats_json $ns "$T/start-$ns.json"
	[ "$(dp "$T/start-$ns.json" tc_hooks_added)" -eq 0 ] ||
		fail "$ns: hooks counted as added after start at start"
done

# The second pair, while both daemons run.
link C cl1 $C2_ADDR/64 S sv1 $S2_ADDR/64
http_server S $S2_ADDR 80 "$T/www"
for ns in C S; do
	wait_for "$ns attaches to the new interface" 10 \
	    hooks_at_least $ns tc_hooks_added 2
done
grep -q "tc: client egress program on cl1" "$T/lbspd-C.log" ||
	{ dump "$T/lbspd-C.log"; fail "C: no log line for cl1"; }
grep -q "tc: server ingress program on sv1" "$T/lbspd-S.log" ||
	{ dump "$T/lbspd-S.log"; fail "S: no log line for sv1"; }

get $S2_ADDR "$T/new.pcap" sv1
lbsp_verify "$T/new.pcap.txt" $C2_ADDR $C2_ADDR $S2_ADDR
info "new link: $VERIFY_CS client and $VERIFY_SC server packets carry the option"

# The pair goes: its hooks are forgotten; the first link still works.
nsx C ip link del cl1 || fail "deleting cl1"
for ns in C S; do
	wait_for "$ns forgets the deleted interface" 10 \
	    hooks_at_least $ns tc_hooks_gone 2
done
get $S_ADDR "$T/old.pcap" $S_IF
lbsp_verify "$T/old.pcap.txt" $C_ADDR $C_ADDR $S_ADDR

pass "programs attached to an interface added after start, forgotten when it went"
