#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 47-tc-datapath.sh -- the tc datapath and its lifetime (lbsp(7)).
#
# 1. On a kernel refusing NFQUEUE verdicts that insert a header
#    (LBSPD_SELFTEST=deny-nfqueue) with "datapath auto", a client and a
#    server lbspd run their roles on tc: every packet of curl to
#    http.server carries the option both ways with the right segments,
#    "lbspctl stats" says datapath tc and shows the kernel counters,
#    and no steering rule is installed.
# 2. kill -9 of the client daemon: its programs stay attached through
#    their pins -- traffic keeps carrying the option.
# 3. A new client daemon takes the pins over (traffic still right; the
#    kernel's counters go on from where they were).  Killed again and
#    started with another max-flows, it makes its maps afresh, of the
#    new size (the pinned ones cannot be resized).
# 4. SIGTERM: both daemons detach their programs and remove their pins;
#    traffic flows without the option.
# 5. The same on the clsact path of kernels before 6.6
#    (LBSPD_TC_ATTACH=clsact): right on the wire, detached on SIGTERM.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
command -v curl >/dev/null || fail "curl not installed"
topo_pair

datapath() { json_get "$1" "j['datapath']['$2']"; }
kernel() { json_get "$1" "j['kernel']['$2']['$3']"; }

pair_confs auto

mkdir "$T/www"
echo S >"$T/www/name"
http_server S $S_ADDR 80 "$T/www"
LBSPD_SELFTEST=deny-nfqueue
export LBSPD_SELFTEST
lbspd_start S "$T/server.conf"
lbspd_start C "$T/client.conf"
unset LBSPD_SELFTEST

# requests N PCAP - N curls, captured at the server, all right.
requests()
{
	local n=$1 pcap=$2 i out
	capture S $S_IF "$pcap"
	i=0
	while [ $i -lt "$n" ]; do
		out=$(nsx C curl -gsS --max-time 10 "http://[$S_ADDR]/name" 2>&1) ||
			fail "curl: $out"
		[ "$out" = S ] || fail "curl: got '$out'"
		i=$((i + 1))
	done
	capture_stop
	lbsp_packets "$pcap" "tcp.port == 80" >"$pcap.txt"
}

# ---- 1. auto under deny-nfqueue: tc, the option on every packet
requests 3 "$T/auto.pcap"
lbsp_verify "$T/auto.pcap.txt" $C_ADDR $C_ADDR $S_ADDR
stats_json C "$T/stats-C.json"
stats_json S "$T/stats-S.json"
[ "$(json_get "$T/stats-C.json" "j['insert_paths']['nfqueue']")" = false ] ||
	fail "stats: nfqueue path reported as working"
[ "$(json_get "$T/stats-C.json" "j['insert_paths']['tc_ebpf']")" = true ] ||
	fail "stats: tc path not reported as working"
[ "$(datapath "$T/stats-C.json" client)" = tc ] || fail "client not on tc"
[ "$(datapath "$T/stats-S.json" server)" = tc ] || fail "server not on tc"
# Attached by tcx links from Linux 6.6 on, by clsact filters before
# (Debian 12's 6.1: the kernel matrix runs this test there), said once
# in the log and in lbspctl stats.
kv=$(uname -r)
major=${kv%%.*} minor=${kv#*.}
minor=${minor%%[!0-9]*}
attach=tcx
[ "$major" -gt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -ge 6 ]; } ||
	attach=clsact
for ns in C S; do
	got=$(datapath "$T/stats-$ns.json" tc_attach)
	[ "$got" = $attach ] || fail "$ns: tc_attach '$got' on Linux $kv, want $attach"
	n=$(grep -c "tc: no tcx links here" "$T/lbspd-$ns.log")
	if [ $attach = clsact ]; then
		[ "$n" -eq 1 ] || fail "$ns: clsact said $n times in the log, want once"
	else
		[ "$n" -eq 0 ] || fail "$ns: clsact said in the log on a kernel with tcx"
	fi
done
info "attached as $attach on Linux $kv"
[ "$(kernel "$T/stats-C.json" client inserted)" -ge "$VERIFY_CS" ] ||
	fail "client kernel counter inserted < $VERIFY_CS packets on the wire"
[ "$(kernel "$T/stats-S.json" server seg2_filled)" -ge 1 ] ||
	fail "server kernel counter seg2_filled = 0"
for ns in C S; do
	n=$(rules_left $ns)
	[ "$n" -eq 0 ] || fail "$ns: $n steering rules although on tc"
	[ "$(tc_left $ns)" -gt 0 ] || fail "$ns: no tc program or pin"
done
info "auto: $VERIFY_CS client and $VERIFY_SC server packets right, on tc"

# ---- 2. kill -9: the programs keep working through their pins
kill -KILL "$LBSPD_PID_C"
wait "$LBSPD_PID_C" 2>/dev/null
requests 2 "$T/killed.pcap"
lbsp_verify "$T/killed.pcap.txt" $C_ADDR $C_ADDR $S_ADDR
[ "$(tc_left C)" -gt 0 ] || fail "C: pins gone after kill -9"
info "after kill -9: $VERIFY_CS client packets still carry the option"

# ---- 3. a new daemon takes over
lbspd_start C "$T/client.conf"
requests 2 "$T/again.pcap"
lbsp_verify "$T/again.pcap.txt" $C_ADDR $C_ADDR $S_ADDR
stats_json C "$T/stats-C2.json"
[ "$(kernel "$T/stats-C2.json" client inserted)" -gt 0 ] ||
	fail "restarted client: no insertion counted"
grep -q "tc: client egress program on $C_IF ($attach)" "$T/lbspd-C.log" ||
	{ dump "$T/lbspd-C.log"; fail "restarted client: no $attach hook on $C_IF"; }
# On clsact the new daemon's filter replaced the killed one's: one each way.
if [ $attach = clsact ]; then
	for dir in ingress egress; do
		n=$(nsx C tc filter show dev $C_IF $dir | grep -c "lbsp_client_")
		[ "$n" -eq 1 ] || fail "restarted client: $n $dir filters on $C_IF, want 1"
	done
fi
# 3 + 2 curls before, 2 now: the maps were taken over.
created=$(kernel "$T/stats-C2.json" client flows-created)
[ "$created" -ge 7 ] ||
	fail "restarted client: flows-created $created, want the 7 flows of both daemons"
[ "$(json_get "$T/stats-C2.json" "j['tables']['flows_max']")" -eq 65536 ] ||
	fail "restarted client: flows_max is not the kernel map's 65536"

kill -KILL "$LBSPD_PID_C"
wait "$LBSPD_PID_C" 2>/dev/null
sed 's/^queue 0$/queue 0\nmax-flows 4096/' "$T/client.conf" >"$T/client-4096.conf"
lbspd_start C "$T/client-4096.conf"
requests 2 "$T/resized.pcap"
lbsp_verify "$T/resized.pcap.txt" $C_ADDR $C_ADDR $S_ADDR
stats_json C "$T/stats-C3.json"
[ "$(json_get "$T/stats-C3.json" "j['tables']['flows_max']")" -eq 4096 ] ||
	fail "client with max-flows 4096: flows_max is not 4096"
[ "$(kernel "$T/stats-C3.json" client flows-created)" -eq 2 ] ||
	fail "client with max-flows 4096: the maps of 65536 were kept"
grep -q "again with fresh maps" "$T/lbspd-C.log" ||
	{ dump "$T/lbspd-C.log"; fail "client with max-flows 4096: fresh maps not logged"; }
lbspd_stop C
lbspd_start C "$T/client.conf"

# ---- 4. SIGTERM: detached, unpinned
lbspd_stop C
lbspd_stop S
for ns in C S; do
	n=$(tc_left $ns)
	[ "$n" -eq 0 ] || fail "$ns: $n tc programs or pins left after SIGTERM"
done
requests 1 "$T/after.pcap"
[ -s "$T/after.pcap.txt" ] || fail "nothing captured after SIGTERM"
awk '$6 != 0 { print; bad = 1 } END { exit bad }' "$T/after.pcap.txt" ||
	fail "the option is still inserted after SIGTERM"

# ---- 5. clsact + cls_bpf instead of tcx links
LBSPD_TC_ATTACH=clsact
export LBSPD_TC_ATTACH
lbspd_start S "$T/server.conf"
lbspd_start C "$T/client.conf"
unset LBSPD_TC_ATTACH
grep -q "tc: client egress program on $C_IF (clsact)" "$T/lbspd-C.log" ||
	{ dump "$T/lbspd-C.log"; fail "no clsact filter on $C_IF"; }
# (the kernel keeps 15 characters of a program's name)
nsx C tc filter show dev $C_IF egress | grep -q lbsp_client_egr ||
	fail "no lbsp_client_egress filter on $C_IF"
stats_json C "$T/stats-C4.json"
[ "$(datapath "$T/stats-C4.json" tc_attach)" = clsact ] ||
	fail "tc_attach is not clsact under LBSPD_TC_ATTACH=clsact"
requests 2 "$T/clsact.pcap"
lbsp_verify "$T/clsact.pcap.txt" $C_ADDR $C_ADDR $S_ADDR
lbspd_stop C
lbspd_stop S
for ns in C S; do
	n=$(tc_left $ns)
	[ "$n" -eq 0 ] || fail "$ns: $n tc filters or pins left after SIGTERM (clsact)"
done
info "clsact: $VERIFY_CS client and $VERIFY_SC server packets right, detached on SIGTERM"

pass "tc under auto + deny-nfqueue; kept working after kill -9; taken over; detached and unpinned on SIGTERM; clsact too"
