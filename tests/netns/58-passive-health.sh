#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 58-passive-health.sh -- passive health (passive-timeout) under single
# pass and for legacy sessions, whose later packets never cross lbspd:
# the balancer judges a server only by the first packets it sees again.
#
# On topo_full: s1 s2 s3 serve HTTP on 80 and 443 (lbspd role server);
# the balancer has an active check on port 443 (interval 1 s; rise 60,
# so that a server passive health takes down stays down through part 2)
# and passive-timeout 3 s.  Light steady traffic, GET /name every 0.5 s
# from five loops of their own: one LBSP client (c1, lbspd role client,
# redirect on: single pass) and four legacy addresses on c2 (no lbspd).
#   0. lbspd -n warns about a passive-timeout below 1 s or above 7 s
#      (no client retransmission can show it), not about 3 s.
#   1. Healthy servers, five passive-timeouts of traffic: no server is
#      ever down (lbspctl servers, polled; lb's log), every request is
#      answered, all three servers took sessions, and the balancer saw
#      fewer packets from c1 than c1 made requests (single pass held).
#   2. s2 stops answering on port 80 (an nft drop rule in s2; its check
#      on 443 still passes), with only the legacy loops running (their
#      SYNs sent again reach lbspd through the conntrack NEW rule; c1's
#      loop joins once s2 is down): passive health takes it down
#      (state down, reason passive, lb's log) within 1 s (a loop's pause, for a
#      session to reach s2) + 2 x 3 + 1 s (the first retransmission of
#      its SYN passive-timeout or more after the first, for a client
#      that retransmits after 1 s and doubles, RFC 6298) + 1 s (the
#      checks' 100 ms clock, this poll), times LBSP_TIME_SCALE; the
#      time taken is printed.  The other servers stay up, and every
#      request started once s2 is down is answered by s1 or s3.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
command -v curl >/dev/null || fail "curl not installed"
command -v nft >/dev/null || fail "nft not installed"
topo_full
PASSIVE=3			# passive-timeout, s
PAUSE=0.5			# between two requests of a loop, s
LEGACY=4			# legacy addresses on c2, one loop each

# 0. lbspd -n accepts passive-timeouts no retransmission can show, with
# a warning for each: below 1 s, above 7 s; none for 3 s.
printf 'role balancer\n' >"$T/warn.conf"
for t in 500ms 10s 3s; do
	printf 'vip 2001:db8:f::%x {\n\tports 80\n\tpassive-timeout %s\n\tserver 2001:db8:5::1\n}\n' \
	    $((0x100 + ${#t})) $t >>"$T/warn.conf"
done
out=$("$LBSPD" -n -c "$T/warn.conf" 2>&1) || fail "lbspd -n: $out"
echo "$out" | grep -q 'configuration OK' || fail "lbspd -n: $out"
[ "$(echo "$out" | grep -c 'warning: vip .*passive-timeout')" -eq 2 ] &&
echo "$out" | grep -q 'warning: vip 2001:db8:f::105: passive-timeout 500ms' &&
echo "$out" | grep -q 'warning: vip 2001:db8:f::103: passive-timeout 10000ms' ||
	fail "lbspd -n: want a passive-timeout warning for 500ms and 10s: $out"

sp_www 0 80 443
legacy_addrs 0 $LEGACY
sp_lb_conf "$T/lb.conf" "check tcp port 443 interval 1s timeout 500ms rise 60 fall 2
	passive-timeout ${PASSIVE}s"
sp_client_conf "$T/c.conf"
sp_daemons "$T/lb.conf" "$T/c.conf" c1
# What reaches lb from c1 on port 80, counted ahead of lbspd's rules.
sp_count_add lb c1 pre ip6 saddr $C1_ADDR tcp dport 80

# load.sh OUT ROUNDS STOP URL [SRC] - at most ROUNDS GETs of URL (from
# SRC when given), $PAUSE s apart, until the file STOP exists; one line
# "START_MS END_MS CURL_STATUS BODY" per GET in OUT.  A GET gives up
# connecting after 6 s: twice passive-timeout, time for the SYN to be
# sent again passive-timeout after the first.
cat >"$T/load.sh" <<EOF
out=\$1 rounds=\$2 stop=\$3 url=\$4 src=\${5:-} i=0
while [ \$i -lt "\$rounds" ] && [ ! -e "\$stop" ]; do
	t0=\$(date +%s%3N)
	body=\$(curl -gsS --connect-timeout 6 --max-time 10 \${src:+--interface "\$src"} "\$url" 2>/dev/null)
	rc=\$?
	echo "\$t0 \$(date +%s%3N) \$rc \${body:-none}" >>"\$out"
	i=\$((i + 1))
	sleep $PAUSE
done
EOF

# loads NAME ROUNDS [legacy] - the five loops (only the legacy ones
# with "legacy"), logs $T/NAME-*.out; LOAD_PIDS.
loads()
{
	local i
	rm -f "$T/$1.stop"
	LOAD_PIDS=
	[ "${3:-}" = legacy ] || lbsp_load "$1" "$2"
	i=0
	while [ $i -lt $LEGACY ]; do
		bg c2 sh "$T/load.sh" "$T/$1-l$i.out" "$2" "$T/$1.stop" \
		    "http://[$VIP]:80/name" "$(legacy_addr $i)"
		LOAD_PIDS="$LOAD_PIDS $BG_PID"
		i=$((i + 1))
	done
}

# lbsp_load NAME ROUNDS - c1's loop, added to LOAD_PIDS.
lbsp_load()
{
	bg c1 sh "$T/load.sh" "$T/$1-c1.out" "$2" "$T/$1.stop" \
	    "http://[$VIP]:80/name"
	LOAD_PIDS="$LOAD_PIDS $BG_PID"
}

# loads_wait NAME - stop the loops, wait for them (their last GET ends
# within curl's 10 s).
loads_wait()
{
	local p
	touch "$T/$1.stop"
	for p in $LOAD_PIDS; do
		wait "$p" || fail "load loop $p exited with $?"
	done
}

# states - "ADDR:STATE:REASON" for each server of $VIP on lb.
states()
{
	lbspctl lb servers --json >"$T/servers.json" 2>&1 ||
		fail "lbspctl servers --json: $(cat "$T/servers.json")"
	json_get "$T/servers.json" "' '.join(s['address'] + ':' + s['state'] + ':' + s['reason'] for v in j if v['vip'] == '$VIP' for s in v['servers'])"
}

now_ms()
{
	date +%s%3N
}

# ------------------------------------------------------------ 1. healthy
RUN=$(scaled $((5 * PASSIVE)))
info "1. healthy servers, passive-timeout ${PASSIVE}s: ${RUN}s of traffic"
loads a $(($(scaled 10) * RUN))
end=$(($(now_ms) + RUN * 1000))
polls=0
while [ "$(now_ms)" -lt $end ]; do
	st=$(states)
	polls=$((polls + 1))
	case " $st" in
	*:down:*|*:retry:*)
		loads_wait a
		dump "$(lbspd_log lb)"
		fail "healthy server taken down after $polls polls: $st"
		;;
	esac
	sleep 0.2
done
loads_wait a
cat "$T"/a-*.out >"$T/a.all"
n=$(wc -l <"$T/a.all")
bad=$(awk '$3 != 0 || $4 !~ /^s[123]$/' "$T/a.all" | wc -l)
info "$n requests ($(tally "$T/a.all")), $bad unanswered, $polls polls: $(states)"
[ "$n" -ge $((RUN * 5)) ] || fail "only $n requests in ${RUN}s"
[ "$bad" -eq 0 ] || fail "$bad requests unanswered: $(awk '$3 != 0 || $4 !~ /^s[123]$/' "$T/a.all" | head -3)"
if grep -q ' is down' "$(lbspd_log lb)"; then
	dump "$(lbspd_log lb)"
	fail "the balancer logged a server down"
fi
for a in $S1_ADDR $S2_ADDR $S3_ADDR; do
	t=$(lb_server_field $a sessions_total)
	[ "$t" -gt 0 ] || fail "server $a took no session: nothing judged"
done
c1n=$(wc -l <"$T/a-c1.out")
lbn=$(sp_count lb c1)
info "c1: $c1n requests, $lbn packets of them reached lb"
[ "$lbn" -lt "$c1n" ] ||
	fail "c1's requests crossed the balancer ($lbn packets for $c1n requests): no single pass"

# ------------------------------------------------------------ 2. s2 dies
BOUND=$(scaled $((1 + 2 * PASSIVE + 1 + 1)))
info "2. s2 stops answering on port 80; bound ${BOUND}s"
# Legacy traffic only until s2 is down: their SYNs sent again reach
# lbspd through the conntrack NEW rule, or nothing takes s2 down.
loads b $(($(scaled 10) * (BOUND + 10))) legacy
sleep 1
nsx s2 nft -f - <<EOF || fail "nft drop rule in s2"
table ip6 lbsp_test_drop {
	chain input {
		type filter hook input priority 0;
		tcp dport 80 drop
	}
}
EOF
t0=$(now_ms)
while :; do
	st=$(states)
	case " $st" in
	*" $S2_ADDR:down:"*) break ;;
	esac
	if [ $(($(now_ms) - t0)) -gt $((BOUND * 1000)) ]; then
		loads_wait b
		dump "$(lbspd_log lb)"
		fail "s2 not down ${BOUND}s after it stopped answering: $st"
	fi
	sleep 0.1
done
t1=$(now_ms)
info "s2 down $((t1 - t0)) ms after it stopped answering (bound ${BOUND}s): $st"
case " $st" in
*" $S2_ADDR:down:passive"*) ;;
*) fail "s2 is down but not by passive health: $st" ;;
esac
case " $st" in
*" $S1_ADDR:up:"*" $S3_ADDR:up:"*) ;;
*) fail "s1 or s3 not up: $st" ;;
esac
lbsp_load b $(($(scaled 10) * 10))
# Sessions started from now on: 10 s of them (a loop whose GET went to
# s2 before the down waits out curl's 6 s connect timeout first).
sleep $(scaled 10)
loads_wait b
st=$(states)
case " $st" in
*" $S1_ADDR:up:"*" $S2_ADDR:down:passive"*" $S3_ADDR:up:"*) ;;
*) fail "after the traffic: $st" ;;
esac
grep -q "server $S2_ADDR is down (passive)" "$(lbspd_log lb)" ||
	fail "lb did not log s2 down (passive)"
[ "$(grep -c ' is down' "$(lbspd_log lb)")" -eq 1 ] || {
	dump "$(lbspd_log lb)"
	fail "lb logged another server down"
}
cat "$T"/b-*.out >"$T/b.all"
awk -v t=$t1 '$1 >= t' "$T/b.all" >"$T/b.after"
n=$(wc -l <"$T/b.after")
bad=$(awk '$3 != 0 || $4 !~ /^s[13]$/' "$T/b.after" | wc -l)
info "$n requests started once s2 was down ($(tally "$T/b.after")), $bad not answered by s1 or s3"
[ "$n" -ge 10 ] || fail "only $n requests started once s2 was down"
[ "$bad" -eq 0 ] ||
	fail "$bad requests after the down not answered by s1 or s3: $(awk '$3 != 0 || $4 !~ /^s[13]$/' "$T/b.after" | head -3)"

pass "no healthy server down over ${RUN}s ($(wc -l <"$T/a.all") requests, single pass and legacy); a silent s2 down by passive health in $((t1 - t0)) ms (bound ${BOUND}s), $n new sessions after it all on s1/s3"
