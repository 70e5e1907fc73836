#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 45-retry-stranded.sh -- an application with a short connect timeout is
# not stranded on a dead server: fallback does not wait for a packet the
# application never sends.
#
# The README demo's layout (topo_megaproxy, client c3 without a proxy),
# lbspd's default settings everywhere (fallback-timeout included); the
# balancer checks its servers with "check tcp port 80 interval 0.5
# timeout 0.5 rise 2 fall 2".  c3 learns its server X over two requests
# (the second goes straight to X), then r's link to X goes down and the
# application retries "curl -m 1" every 0.2 s.  curl gives up after 1 s:
# the kernel's SYN retransmission may never happen, so only lbspd's own
# timer can notice.  Asserts:
#   - an answer from another server within 3 s of the link going down,
#     and every later request succeeds, none from X;
#   - while failing, "lbspctl cache" on c3 showed X suspect, with a reason
#     (timer or syn-retransmit), and the matching counters moved;
#   - after the first success nothing more goes straight to X (an nft
#     counter on c3's postrouting, after lbspd's rewrite);
#   - the balancer's stick entry for c3 no longer names X (it was not
#     followed once X was down).
# Prints the seconds from link down to the first success.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
topo_megaproxy

sp_www 0 80
sp_lb_conf "$T/lb.conf" "check tcp port 80 interval 0.5 timeout 0.5 rise 2 fall 2"
sp_client_conf "$T/client.conf"
sp_daemons "$T/lb.conf" "$T/client.conf" c3

# ms - wall-clock milliseconds.
ms()
{
	date +%s%3N
}

# get [MAXTIME] - one curl from c3 to the vip; NAME = the body, or empty
# on an error (returns curl's status).
get()
{
	NAME=$(SP_MAXTIME=${1:-5} sp_get c3 $VIP 80 name) || {
		NAME=
		return 1
	}
}

# cache_json - c3's cache entries for the vip, as JSON.
cache_json()
{
	lbspctl c3 cache --json || fail "lbspctl cache on c3"
}

get || fail "first request: $NAME"
X=$NAME
get || fail "second request"
[ "$NAME" = "$X" ] || fail "second request on $NAME, first on $X"
XA=2001:db8:5::${X#s}
cache_json >"$T/cache0.json"
[ "$(json_get "$T/cache0.json" "[e['state'] for e in j if e['server'] == '$XA']")" = '["ok"]' ] ||
	fail "c3 did not learn $X: $(cat "$T/cache0.json")"
info "c3 learned $X"

stats_json c3 "$T/c3-before.json"
# Packets c3's lbspd sent straight to X (after its rewrite: postrouting).
nsx c3 nft -f - <<-EOF || fail "nft counter on c3"
table ip6 lbsp_t45 {
	counter tox { }
	chain post {
		type filter hook postrouting priority 100;
		ip6 daddr $XA tcp dport 80 counter name tox
	}
}
EOF

t0=$(ms)
nsx r ip link set "$X" down || fail "link to $X down in r"
first=
suspect_seen=
n=0
while [ $n -lt "$(scaled 60)" ]; do
	n=$((n + 1))
	if get 1; then
		[ "$NAME" != "$X" ] || fail "answer from $X, whose link is down"
		if [ -z "$first" ]; then
			first=$(($(ms) - t0))
			tox_at_first=$(nsx c3 nft list counter ip6 lbsp_t45 tox |
			    sed -n 's/.*packets \([0-9]*\).*/\1/p')
			info "first success from $NAME ${first} ms after the link went down (request $n)"
			break
		fi
	else
		# What the cache says now: X suspect, and why (the timer may
		# still be a tick away: a few looks, 50 ms apart).
		j=0
		r=
		while [ -z "$suspect_seen" ] && [ $j -lt 6 ]; do
			cache_json >"$T/cache-$n.json"
			r=$(json_get "$T/cache-$n.json" \
			    "[e.get('reason', '') for e in j if e['server'] == '$XA' and e['state'] == 'suspect']")
			case $r in
			*timer*|*syn-retransmit*) suspect_seen=$r ;;
			*) sleep 0.05 ;;
			esac
			j=$((j + 1))
		done
		info "request $n failed at $(($(ms) - t0)) ms; cache for $X: ${r:-$suspect_seen}"
	fi
	[ $(($(ms) - t0)) -lt "$(scaled 10000)" ] || break
	sleep 0.2	# pacing: one request every 0.2 s, timed from the loss
done
[ -n "$first" ] || {
	dump "$(lbspd_log c3)"
	fail "no answer within 10 s of the link going down (stranded)"
}
[ "$first" -le "$(scaled 3000)" ] ||
	fail "first success ${first} ms after the link went down (want <= $(scaled 3000))"
[ -n "$suspect_seen" ] ||
	fail "lbspctl cache never showed $X suspect (timer or syn-retransmit) while failing"

# Every later request succeeds, none on X, none sent to X.
i=0
while [ $i -lt 10 ]; do
	get 1 || fail "request $i after the first success failed"
	[ "$NAME" != "$X" ] || fail "request $i after recovery answered by $X"
	i=$((i + 1))
	sleep 0.2	# pacing: ten requests spread over 2 s after recovery
done
tox=$(nsx c3 nft list counter ip6 lbsp_t45 tox | sed -n 's/.*packets \([0-9]*\).*/\1/p')
[ "$tox" -eq "$tox_at_first" ] ||
	fail "c3 still sent $((tox - tox_at_first)) packets straight to $X after recovering"

stats_json c3 "$T/c3-after.json"
for c in fallback_timer fallback_syn_retransmit suspect_avoided; do
	b=$(lbsp_counter "$T/c3-before.json" $c)
	a=$(lbsp_counter "$T/c3-after.json" $c)
	info "c3 $c: $b -> $a"
	eval "d_$c=$((a - b))"
done
[ $((d_fallback_timer + d_fallback_syn_retransmit)) -ge 1 ] ||
	fail "neither fallback_timer nor fallback_syn_retransmit counted"
[ "$d_suspect_avoided" -ge 1 ] ||
	fail "suspect_avoided not counted: new connections went to the suspect $X"

# The balancer: c3's stick entry names a live server now.
lbspctl lb stick --json >"$T/stick.json" || fail "lbspctl stick on lb"
[ "$(json_get "$T/stick.json" "[e['server'] for e in j if e['key'] == '$C3_ADDR' and e['vip'] == '$VIP']")" != "[\"$XA\"]" ] ||
	fail "the balancer still sticks c3 to $X: $(cat "$T/stick.json")"

pass "no stranding: first success ${first} ms after $X's link went down; every later request succeeded"
