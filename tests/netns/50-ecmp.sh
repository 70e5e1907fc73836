#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 50-ecmp.sh -- two balancers behind a router's ECMP, announced over BGP
# (lbsp(7), "Scaling out"), in steady state, as one leaves and as it
# comes back.  On lib/ecmp.sh's topology with the example files of
# examples/ecmp:
#   1. lbspd -n warns about a group member that would decide alone (rr,
#      no hash-key, no nat-source) and not about the example; the
#      example's legacy sessions are translated to its nat-source;
#   2. both balancers announce the vip: r has one route with both as
#      next hops;
#   3. steady state: many identities (LBSP with redirect off from c1,
#      legacy from c3), several sessions each: the sessions spread over
#      both balancers (r's nft counters and each lbspd's sessions), every
#      identity is always served by one server, and the two balancers'
#      stick tables name the same server for every identity both saw;
#   4. a balancer with no server taking new sessions (all drained)
#      withdraws the vip, and announces it again when one is back;
#   5. lb2 leaves (SIGTERM): r drops it; the identities keep their
#      servers through lb1 alone;
#   6. lb2's lbspd is killed (SIGKILL): its announce device and route
#      go with it and r drops lb2 within 3 s; lb2 freezes (its lbspd up,
#      but every packet dropped on its link): BFD takes it out of r's
#      route within 3 s (the figures are printed);
#   7. lb2 comes back with an empty stick table: r routes to both again
#      and lb2 takes new sessions, each identity still on its server.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
need_ecmp_tools
NLBSP=12	# LBSP identities on c1
NLEG=10		# legacy identities on c3

# 1. The warnings of lbspd -n.
ecmp_lb_conf 1
out=$("$LBSPD" -n -c "$T/lb1.conf" 2>&1) || fail "example rejected: $out"
case $out in
*warning*) fail "the example configuration draws warnings: $out" ;;
esac
sed -e '/hash-key/d' -e '/nat-source/d' -e 's/maglev/rr/' "$T/lb1.conf" \
    >"$T/alone.conf"
out=$("$LBSPD" -n -c "$T/alone.conf" 2>&1) || fail "alone.conf rejected: $out"
for w in "without hash-key" "scheduler rr" "without nat-source"; do
	echo "$out" | grep -q "warning:.*$w" ||
		fail "lbspd -n does not warn '$w': $out"
done
echo "$out" | grep -q '^configuration OK$' || fail "no 'configuration OK': $out"
# nat-source: legacy sessions are translated to it, not masqueraded.
"$LBSPD" --print-rules -c "$T/lb1.conf" | grep -q -- "-j SNAT --to-source $NAT1\$" ||
	fail "no SNAT to $NAT1 in the rules of lb1.conf"
"$LBSPD" --print-rules -c "$T/alone.conf" | grep -q -- "-j MASQUERADE\$" ||
	fail "no MASQUERADE in the rules without nat-source"

# 2. The topology, the servers, the balancers, BGP.
ecmp_topo
ecmp_count_setup
ecmp_www 0
ecmp_clients
ecmp_addrs c1 a00 $NLBSP
ecmp_addrs c3 c00 $NLEG
ecmp_routing
ecmp_lb_start 1
ecmp_lb_start 2
ecmp_wait_nexthops "lb1 lb2" 30; t=$WAITED
info "r routes the vip to lb1 and lb2 (${t}s after the balancers started)"
[ "$(ecmp_nat_via $NAT1)" = lb1 ] || fail "r sends $NAT1 to '$(ecmp_nat_via $NAT1)', not lb1"
[ "$(ecmp_nat_via $NAT2)" = lb2 ] || fail "r sends $NAT2 to '$(ecmp_nat_via $NAT2)', not lb2"

# 3. Steady state.
# stick_both KIND - identities of KIND in both balancers' stick tables:
# fail when the two name different servers; prints how many both had.
stick_both()
{
	lbspctl lb1 stick --json >"$T/st1.json" || fail "lbspctl stick lb1"
	lbspctl lb2 stick --json >"$T/st2.json" || fail "lbspctl stick lb2"
	"$PY" - "$T/st1.json" "$T/st2.json" "$1" <<-'EOF' || fail "stick tables disagree"
	import json, sys
	a, b, kind = (json.load(open(sys.argv[1])), json.load(open(sys.argv[2])),
	    sys.argv[3])
	m1 = {e["key"]: e["server"] for e in a if e["kind"] == kind}
	m2 = {e["key"]: e["server"] for e in b if e["kind"] == kind}
	both = set(m1) & set(m2)
	bad = [k for k in both if m1[k] != m2[k]]
	for k in bad:
	    print("    %s: lb1 %s, lb2 %s" % (k, m1[k], m2[k]), file=sys.stderr)
	print(len(both))
	sys.exit(1 if bad else 0)
	EOF
}

# c1 remembers each identity's server after its first session and names
# it in seg2 from then on (the balancer follows seg2): its daemon is
# restarted between rounds so that every round's first sessions are
# the balancers' own decisions (stick table or scheduler).
: >"$T/lbsp-1.txt"
for k in 1 2 3 4; do
	ecmp_round c1 a00 $NLBSP 2 "$T/lbsp-r.txt"
	cat "$T/lbsp-r.txt" >>"$T/lbsp-1.txt"
	lbspd_stop c1
	lbspd_start c1 "$T/c-off.conf"
done
ecmp_round c3 c00 $NLEG 4 "$T/leg-1.txt"
ecmp_one_server_each "$T/lbsp-1.txt" >"$T/map-lbsp"
ecmp_one_server_each "$T/leg-1.txt" >"$T/map-leg"
n1=$(ecmp_count lb1) n2=$(ecmp_count lb2)
s1=$(stats_json lb1 "$T/s1.json"; lb_counter "$T/s1.json" sessions)
s2=$(stats_json lb2 "$T/s2.json"; lb_counter "$T/s2.json" sessions)
info "r sent $n1 packets to lb1, $n2 to lb2; sessions: lb1 $s1, lb2 $s2"
[ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] || fail "ECMP used one balancer only ($n1, $n2)"
[ "$s1" -gt 0 ] && [ "$s2" -gt 0 ] || fail "one balancer took no session ($s1, $s2)"
[ "$(awk '{ print $2 }' "$T/map-lbsp" "$T/map-leg" | sort -u | wc -l)" -ge 2 ] ||
	fail "every identity on one server: the check would prove nothing"
both=$(stick_both seg1)
info "LBSP identities: $NLBSP x 8 sessions, one server each; both balancers stuck $both of them, to the same servers"
[ "$both" -ge $((NLBSP / 3)) ] || fail "only $both identities crossed both balancers"
both=$(stick_both src)
info "legacy identities: $NLEG x 4 sessions, one server each; both balancers stuck $both of them, to the same servers"
[ "$both" -ge $((NLEG / 2)) ] || fail "only $both legacy identities crossed both balancers"

# 4. No server taking new sessions: the vip is withdrawn.
for i in 1 2 3; do
	lbspctl lb2 drain "$VIP" 2001:db8:5::$i >/dev/null || fail "drain s$i on lb2"
done
ecmp_wait_nexthops "lb1" 5; t=$WAITED
info "lb2 with every server drained: withdrawn in ${t}s"
lbspctl lb2 enable "$VIP" 2001:db8:5::2 >/dev/null || fail "enable s2 on lb2"
ecmp_wait_nexthops "lb1 lb2" 10; t=$WAITED
info "lb2 with s2 back: announced again in ${t}s"
for i in 1 3; do
	lbspctl lb2 enable "$VIP" 2001:db8:5::$i >/dev/null || fail "enable s$i on lb2"
done

# 5. lb2 leaves.
lbspd_stop lb2
ecmp_wait_nexthops "lb1" 5; t=$WAITED
info "lb2 stopped: r routes the vip to lb1 alone ${t}s later"
ecmp_round c1 a00 $NLBSP 2 "$T/lbsp-2.txt"
ecmp_round c3 c00 $NLEG 2 "$T/leg-2.txt"
cat "$T/lbsp-1.txt" "$T/lbsp-2.txt" >"$T/lbsp-12.txt"
cat "$T/leg-1.txt" "$T/leg-2.txt" >"$T/leg-12.txt"
ecmp_one_server_each "$T/lbsp-12.txt" >/dev/null
ecmp_one_server_each "$T/leg-12.txt" >/dev/null

# 6. lb2 back; its lbspd killed (SIGKILL: no chance to withdraw
# anything): the kernel deletes its announce device and the route with
# it, and BIRD withdraws the vip.  Back again, then frozen: BFD notices.
ecmp_lb_start 2
ecmp_wait_nexthops "lb1 lb2" 30
kill -KILL "$LBSPD_PID_lb2"
ecmp_wait_nexthops "lb1" 3; t=$WAITED
info "lbspd of lb2 killed: out of r's route in ${t}s (its announce device went with it)"
! nsx lb2 ip link show lbsp0 >/dev/null 2>&1 || fail "lbsp0 outlived lb2's lbspd"
ecmp_lb_start 2
ecmp_wait_nexthops "lb1 lb2" 30
nsx lb2 nft -f - <<EOF || fail "freezing lb2"
table inet lbsp_freeze {
	chain in { type filter hook ingress device "eth0" priority -500; drop; }
}
EOF
ecmp_wait_nexthops "lb1" 3; t=$WAITED
bfd_t=$t
info "lb2 frozen (every packet on its link dropped): out of r's route in ${t}s (BFD)"
nsx lb2 nft delete table inet lbsp_freeze || fail "thawing lb2"

# 7. lb2 back with an empty stick table.
lbspd_stop lb2
ecmp_lb_start 2
ecmp_wait_nexthops "lb1 lb2" 30; t=$WAITED
info "lb2 back: r routes the vip to both ${t}s after its lbspd started"
before=$(stats_json lb2 "$T/s2.json"; lb_counter "$T/s2.json" sessions)
: >"$T/lbsp-3.txt"
for k in 1 2; do
	lbspd_stop c1
	lbspd_start c1 "$T/c-off.conf"
	ecmp_round c1 a00 $NLBSP 2 "$T/lbsp-r.txt"
	cat "$T/lbsp-r.txt" >>"$T/lbsp-3.txt"
done
ecmp_round c3 c00 $NLEG 3 "$T/leg-3.txt"
after=$(stats_json lb2 "$T/s2.json"; lb_counter "$T/s2.json" sessions)
[ "$after" -gt "$before" ] || fail "lb2 back took no new session"
cat "$T/lbsp-12.txt" "$T/lbsp-3.txt" >"$T/lbsp-all.txt"
cat "$T/leg-12.txt" "$T/leg-3.txt" >"$T/leg-all.txt"
ecmp_one_server_each "$T/lbsp-all.txt" >/dev/null
ecmp_one_server_each "$T/leg-all.txt" >/dev/null
both=$(stick_both seg1)
info "after lb2 came back: it took $((after - before)) new sessions; $both LBSP identities stuck on both (lb1's entries from before), to the same servers"
[ "$both" -ge $((NLBSP / 4)) ] || fail "only $both identities reached the returned lb2"

pass "ECMP over two balancers: spread ($n1/$n2 packets), one server per identity through join, leave and return, BFD withdrawal in ${bfd_t}s"
