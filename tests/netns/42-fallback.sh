#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 42-fallback.sh -- the learned server goes away: the client falls back
# to the vip and new requests succeed on another server within 3 s,
# with no error visible to the application.
#
# topo_megaproxy, client c3 (lbspd role client, redirect on,
# fallback-timeout 1s), the balancer checks its servers (tcp port 80
# every 300 ms, fall 1).  c3 learns its server X over two requests,
# then X is stopped, two ways:
#   a. r's link to X goes down (the host is gone: a redirected SYN is never
#      answered -- the fallback-timeout path);
#   b. (after X is back and learned again) r has no route to X any
#      more and answers with ICMPv6 unreachable (the ICMP path).
# Each time, right after: one curl (3 s at most, so a 1 s SYN
# retransmission to the vip is allowed, an error is not) must answer
# from another server within 3 s of the stop, having gone through the
# vip (an nft counter on lb for its local port, ahead of lbspd); then 5
# new requests: all succeed, none on X.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
topo_megaproxy

sp_www 0 80
sp_lb_conf "$T/lb.conf" "check tcp port 80 interval 300ms timeout 300ms rise 1 fall 1"
sp_client_conf "$T/client.conf" "fallback-timeout 1s"
sp_daemons "$T/lb.conf" "$T/client.conf" c3

LPORT=42000
# get - one request from c3 on a new local port; NAME = the answer,
# VIA_LB = packets of it the balancer handled.  Fails on any error.
get()
{
	local out
	LPORT=$((LPORT + 1))
	sp_count_add lb "p$LPORT" pre ip6 saddr $C3_ADDR tcp sport $LPORT
	out=$(SP_MAXTIME=${1:-5} sp_get c3 $VIP 80 name $LPORT) || {
		lbspctl c3 cache
		dump "$(lbspd_log c3)"
		fail "request from port $LPORT: application-visible error: $out"
	}
	NAME=$out
	VIA_LB=$(sp_count lb "p$LPORT")
}

# ms - monotonic milliseconds.
ms()
{
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

# learn - two requests; the second must go straight to the server.
learn()
{
	get
	X=$NAME
	get
	[ "$NAME" = "$X" ] || fail "second request on $NAME, first on $X"
	[ "$VIA_LB" -eq 0 ] ||
		fail "the learned server is not used directly ($VIA_LB packets through the balancer)"
	info "c3 learned $X ($(lbspctl c3 cache | tr '\n' ' '))"
}

# after_stop HOW T0 - the requests after X was stopped at T0.
after_stop()
{
	local how=$1 t0=$2 dt n
	get "$(scaled 3)"
	dt=$(($(ms) - t0))
	[ "$NAME" != "$X" ] || fail "$how: answer from the stopped server $X"
	[ "$VIA_LB" -ge 1 ] || fail "$how: the request after the stop did not go through the vip"
	[ "$dt" -le "$(scaled 3000)" ] ||
		fail "$how: first success ${dt} ms after the stop (want <= $(scaled 3000))"
	info "$how: first request answered by $NAME via the vip, ${dt} ms after the stop"
	n=0
	while [ $n -lt 5 ]; do
		get
		[ "$NAME" != "$X" ] || fail "$how: request $n answered by the stopped server $X"
		n=$((n + 1))
	done
}

learn
XA=2001:db8:5::${X#s}
t0=$(ms)
nsx r ip link set "$X" down || fail "link to $X down in r"
after_stop "link down" "$t0"

nsx r ip link set "$X" up || fail "link to $X up in r"
wait_for "the balancer to see $X up" 10 sh -c \
    "$LBSPCTL -s $(lbsp_sock lb) servers --json >/dev/null 2>&1; [ \"\$(ip netns exec $(ns_real lb) $LBSPCTL -s $(lbsp_sock lb) servers --json | $PY -c 'import json,sys; print(sum(1 for v in json.load(sys.stdin) for s in v[\"servers\"] if s[\"address\"] == \"$XA\" and s[\"state\"] == \"up\"))')\" -ge 1 ]"
# Stop the others' answers from being learned: restart the client so
# that its cache is empty, then learn anew (rr may give another server).
lbspd_stop c3
lbspd_start c3 "$T/client.conf"
learn
XA=2001:db8:5::${X#s}
t0=$(ms)
nsx r ip -6 route add unreachable $XA/128 || fail "unreachable route to $XA in r"
after_stop "ICMPv6 unreachable" "$t0"
pass "fallback from the stopped server (link down and ICMPv6 unreachable) within 3 s, no request failed"
