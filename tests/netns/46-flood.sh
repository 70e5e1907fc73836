#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 46-flood.sh -- table limits under a SYN flood, and max-flows-per-source.
#
# topo_full: c1 is a real client (lbspd role client), c2 the attacker
# (tests/netns/synflood: raw SYNs carrying the LBSP option from random
# sources under 2001:db8:dead::/64, blackholed at r so that nothing
# answers them).  The balancer and the servers run with max-flows 2048,
# max-stick 2048, max-flows-per-source 8.
#   1. c1 starts a rate-limited download of 30 MB from the vip (it goes
#      straight to its server X once learned);
#   2. 200,000 SYNs at X, then 200,000 at the vip (the balancer, which
#      sends them on to the servers);
#   3. throughout, "lbspctl stats" answers on X and on lb (polled every
#      0.2 s; every answer must be complete JSON);
#   4. afterwards: X's and lb's flow tables never passed max-flows (the
#      largest figure seen while polling) and flows_retired counted the
#      rest; lb's stick table within max-stick, stick_retired counted;
#      their RSS grew by less than 16 MiB (measured before and after);
#   5. the download completes intact, X still holds c1's flow (state
#      established, identity c1), c1 saw no answer without the option
#      and fell back from nothing, its cache still names X;
#   6. max-flows-per-source: 50 SYNs from one source at s1 and 50 (from
#      another) at the vip: exactly 42 refused each time (source_limited),
#      the balancer holding 8 flows of that source; and the client role:
#      c2 runs lbspd (role client, max-flows-per-source 2) and makes 5
#      requests in a row (closed flows linger 10 s in its table): all 5
#      succeed, c2 holds 2 flows, the packets of the other 3 were
#      refused a flow (source_limited counts packets: a refused flow is
#      not remembered) and sent on unredirected.
# Prints RSS before / after and the answers counted while flooding.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
FLOOD=${top_builddir:+$top_builddir/tests/netns/synflood}
[ -n "$FLOOD" ] && [ -x "$FLOOD" ] ||
	fail "tests/netns/synflood not built (make check builds it)"
topo_full
nsx r ip -6 route add blackhole 2001:db8:dead::/48 ||
	fail "blackhole route for the flood's sources in r"
nsx r ip -6 route add blackhole 2001:db8:beef::/48 ||
	fail "blackhole route for the limit's sources in r"

sp_www 30 80
sp_lb_conf "$T/lb.conf"
printf 'max-flows 2048\nmax-stick 2048\nmax-flows-per-source 8\n' >>"$T/lb.conf"
SP_SERVER_CONF=$T/server.conf
printf 'role server\nqueue 0\nmax-flows 2048\nmax-flows-per-source 8\n' \
    >"$SP_SERVER_CONF"
sp_client_conf "$T/client.conf"
sp_daemons "$T/lb.conf" "$T/client.conf" c1

# rss PID - resident set, KiB.
rss()
{
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# 1. The download; learn its server from c1's cache.
bg c1 curl -gsS --max-time 120 --limit-rate 1500k -o "$T/dl" "http://[$VIP]:80/big"
DL_PID=$BG_PID
wait_for "c1 to learn the server of its download" 10 sh -c \
    "ip netns exec $(ns_real c1) $LBSPCTL -s $(lbsp_sock c1) cache | grep -q 2001:db8:5::"
XA=$(lbspctl c1 cache --json | $PY -c 'import json,sys; print(json.load(sys.stdin)[0]["server"])')
X=s${XA##*:}
info "c1 downloads from $X"
eval "XPID=\$LBSPD_PID_$X"
stats_json c1 "$T/c1-0.json"
stats_json "$X" "$T/x-0.json"
stats_json lb "$T/lb-0.json"
rss_x0=$(rss "$XPID")
rss_lb0=$(rss "$LBSPD_PID_lb")

# 3. The poller: one line per answer, "NS ok FLOWS STICK" or "NS FAIL".
RX=$(ns_real "$X")
RL=$(ns_real lb)
cat >"$T/poll.sh" <<EOF
while [ ! -e "$T/poll.stop" ]; do
	for pair in "$X $RX" "lb $RL"; do
		set -- \$pair
		if ip netns exec \$2 "$LBSPCTL" -s "$T/lbspd-\$1.sock" stats --json >"$T/poll-\$1.json" 2>/dev/null &&
		    line=\$("$PY" -c 'import json, sys; j = json.load(open(sys.argv[1])); print(j["tables"]["flows"], j.get("balancer", {}).get("stick", 0))' "$T/poll-\$1.json"); then
			echo "\$1 ok \$line"
		else
			echo "\$1 FAIL"
		fi
	done
	sleep 0.2
done
EOF
sh "$T/poll.sh" >"$T/poll.log" 2>&1 &
POLL_PID=$!
LIB_PIDS="$LIB_PIDS $POLL_PID"

# 2. The floods.
out=$(nsx c2 "$FLOOD" -d "$XA" -p 80 -n 200000 -T 60) || fail "flood at $X: $out"
info "at $X: $out"
out=$(nsx c2 "$FLOOD" -d "$VIP" -p 80 -n 200000 -T 60) || fail "flood at the vip: $out"
info "at the vip: $out"
# The poller goes on until it has asked both daemons once more after the
# floods and has three answers from each (checked below).
n=$(grep -c . "$T/poll.log")
polled() {
	[ "$(grep -c . "$T/poll.log")" -ge $((n + 2)) ] &&
	    [ "$(grep -c "^$X ok" "$T/poll.log")" -ge 3 ] &&
	    [ "$(grep -c "^lb ok" "$T/poll.log")" -ge 3 ]
}
try_for 10 polled
touch "$T/poll.stop"
wait "$POLL_PID"

# 4. Tables, counters, memory.
stats_json "$X" "$T/x-1.json"
stats_json lb "$T/lb-1.json"
rss_x1=$(rss "$XPID")
rss_lb1=$(rss "$LBSPD_PID_lb")
ok_x=$(grep -c "^$X ok" "$T/poll.log")
ok_lb=$(grep -c "^lb ok" "$T/poll.log")
bad=$(grep -c FAIL "$T/poll.log")
info "lbspctl stats answered $ok_x times on $X and $ok_lb times on lb while flooding, $bad failures"
[ "$bad" -eq 0 ] || { dump "$T/poll.log"; fail "$bad lbspctl stats requests failed during the flood"; }
[ "$ok_x" -ge 3 ] && [ "$ok_lb" -ge 3 ] || fail "too few answers during the flood ($ok_x, $ok_lb)"
maxflows_x=$(awk -v n="$X" '$1 == n && $2 == "ok" { if ($3 > m) m = $3 } END { print m + 0 }' "$T/poll.log")
maxflows_lb=$(awk '$1 == "lb" && $2 == "ok" { if ($3 > m) m = $3 } END { print m + 0 }' "$T/poll.log")
maxstick=$(awk '$1 == "lb" && $2 == "ok" { if ($4 > m) m = $4 } END { print m + 0 }' "$T/poll.log")
info "largest tables seen: $X flows $maxflows_x, lb flows $maxflows_lb, stick $maxstick (max 2048)"
[ "$maxflows_x" -le 2048 ] && [ "$maxflows_lb" -le 2048 ] && [ "$maxstick" -le 2048 ] ||
	fail "a table passed its configured size"
for f in "$T/x-1.json" "$T/lb-1.json"; do
	[ "$(json_get "$f" "j['tables']['flows'] <= j['tables']['flows_max']")" = true ] ||
		fail "flows above flows_max in $f"
done
# d OLD NEW NAME - how far counter NAME moved (the daemon's and its tc
# programs', lbsp_counter).
d() { echo $(($(lbsp_counter "$2" "$3") - $(lbsp_counter "$1" "$3"))); }
rx=$(d "$T/x-0.json" "$T/x-1.json" flows_retired)
rl=$(d "$T/lb-0.json" "$T/lb-1.json" flows_retired)
rs=$(d "$T/lb-0.json" "$T/lb-1.json" stick_retired)
px=$(d "$T/x-0.json" "$T/x-1.json" packets)
pl=$(d "$T/lb-0.json" "$T/lb-1.json" packets)
info "$X: $px packets seen, $rx flows retired; lb: $pl packets, $rl flows and $rs stick entries retired"
[ "$rx" -ge 1000 ] && [ "$rl" -ge 1000 ] && [ "$rs" -ge 1000 ] ||
	fail "retirements not counted ($rx, $rl, $rs)"
info "RSS of lbspd on $X: $rss_x0 -> $rss_x1 KiB; on lb: $rss_lb0 -> $rss_lb1 KiB"
[ $((rss_x1 - rss_x0)) -lt 16384 ] && [ $((rss_lb1 - rss_lb0)) -lt 16384 ] ||
	fail "lbspd grew by 16 MiB or more under the flood"

# 5. The download.
wait "$DL_PID" || { dump "$BG_LOG"; fail "the download failed"; }
[ "$(sha256sum <"$T/dl" | cut -d' ' -f1)" = "$SP_BIG_SHA" ] ||
	fail "the download is not intact"
stats_json c1 "$T/c1-1.json"
for c in no_option_answers fallbacks; do
	[ "$(d "$T/c1-0.json" "$T/c1-1.json" $c)" -eq 0 ] ||
		fail "c1's $c moved during the flood: the download lost its option or server"
done
[ "$(d "$T/c1-0.json" "$T/c1-1.json" src_rewritten)" -ge 1000 ] ||
	fail "c1's download did not keep coming from $X (src_rewritten)"
lbspctl c1 cache --json | grep -q "\"server\": \"$XA\"" ||
	fail "c1's cache lost $X"
lbspctl "$X" flows --json >"$T/x-flows.json" || fail "lbspctl flows on $X"
[ "$(json_get "$T/x-flows.json" "len([f for f in j if f['src'] == '$C1_ADDR' and f['identity'] == '$C1_ADDR' and f['state'] in ('established', 'closing')])")" -ge 1 ] ||
	fail "$X lost c1's flow during the flood"

# 6. max-flows-per-source.
stats_json s1 "$T/s1-0.json"
stats_json lb "$T/lb-2.json"
nsx c2 "$FLOOD" -f -s 2001:db8:beef:1:: -d 2001:db8:5::1 -p 80 -n 50 >/dev/null ||
	fail "50 SYNs at s1"
nsx c2 "$FLOOD" -f -s 2001:db8:beef:2:: -d "$VIP" -p 80 -n 50 >/dev/null ||
	fail "50 SYNs at the vip"
wait_for "s1 to see the 50 SYNs" 10 sh -c \
    "ip netns exec $(ns_real s1) $LBSPCTL -s $(lbsp_sock s1) flows | grep -c 2001:db8:beef:1::1 | grep -qx 8"
# Both have counted what they refused (the numbers are checked below).
wait_for "s1 to refuse 42 SYNs" 10 counter_at_least s1 source_limited \
    $(($(lbsp_counter "$T/s1-0.json" source_limited) + 42))
wait_for "the balancer to refuse 42 SYNs" 10 counter_at_least lb \
    source_limited $(($(lbsp_counter "$T/lb-2.json" source_limited) + 42))
stats_json s1 "$T/s1-1.json"
stats_json lb "$T/lb-3.json"
n1=$(d "$T/s1-0.json" "$T/s1-1.json" source_limited)
nl=$(d "$T/lb-2.json" "$T/lb-3.json" source_limited)
info "max-flows-per-source 8: s1 refused $n1 of 50, the balancer $nl of 50"
[ "$n1" -eq 42 ] || fail "s1 refused $n1 new flows of one source, want 42"
[ "$nl" -eq 42 ] || fail "the balancer refused $nl new flows of one source, want 42"
lbspctl lb flows --json >"$T/lb-flows.json" || fail "lbspctl flows on lb"
[ "$(json_get "$T/lb-flows.json" "len([f for f in j if f['src'] == '2001:db8:beef:2::1'])")" -eq 8 ] ||
	fail "the balancer holds other than 8 flows of the limited source"

sp_client_conf "$T/c2.conf" "max-flows-per-source 2"
lbspd_start c2 "$T/c2.conf"
stats_json c2 "$T/c2-0.json"
i=0
while [ $i -lt 5 ]; do
	out=$(sp_get c2 $VIP 80 name) || fail "request $i from c2 (per-source limit 2): $out"
	i=$((i + 1))
done
stats_json c2 "$T/c2-1.json"
nc=$(d "$T/c2-0.json" "$T/c2-1.json" source_limited)
lbspctl c2 flows --json >"$T/c2-flows.json" || fail "lbspctl flows on c2"
nf=$(json_get "$T/c2-flows.json" "len([f for f in j if f['src'] == '$C2_ADDR'])")
info "client role, max-flows-per-source 2: 5 requests all answered, $nf flows held, $nc packets refused a flow"
[ "$nf" -eq 2 ] || fail "c2 holds $nf flows of its own source, want 2"
[ "$nc" -ge 3 ] || fail "c2 counted $nc packets refused a flow, want 3 requests' worth"

pass "flood: tables within 2048, lbspctl answered $ok_x + $ok_lb times, RSS $X $rss_x0->$rss_x1 KiB lb $rss_lb0->$rss_lb1 KiB, download intact on $X; per-source limit 42/50 refused at s1 and lb"
