#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 27-agent.sh -- the agent scheduler: lbsp-agent on each server reports
# a load (fixed here: s1 900, s2 100, s3 500 per mille); every new
# session goes to the least loaded server, s2.  A report forged from
# another host, or with a wrong MAC, is refused and counted; once s2
# reports a high load, new sessions move to s3.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
command -v curl >/dev/null || fail "curl not installed"
topo_full
if [ -n "$top_builddir" ]; then
	AGENT=${LBSP_AGENT:-$top_builddir/lbsp-agent/lbsp-agent}
else
	AGENT=${LBSP_AGENT:-$(command -v lbsp-agent || echo lbsp-agent)}
fi
[ -x "$AGENT" ] || fail "no lbsp-agent at $AGENT"
KEY=000102030405060708090a0b0c0d0e0f

# lbspctl stats --json fields, in one place.
reports() { json_get "$1" "j['counters']['agent_reports']"; }
rejected() { json_get "$1" "j['counters']['agent_rejected']"; }

cat >"$T/lb.conf" <<CONF
role balancer
queue 0
agent-port 4739
hash-key $KEY
vip $VIP {
	ports 80
	scheduler agent
	server 2001:db8:5::1
	server 2001:db8:5::2
	server 2001:db8:5::3
}
CONF
for i in 1 2 3; do
	mkdir "$T/w$i"
	echo s$i >"$T/w$i/name"
	http_server s$i 2001:db8:5::$i 80 "$T/w$i"
done
lbspd_start lb "$T/lb.conf"

report() # HOST LOAD [ARGS...]
{
	local h=$1 l=$2
	shift 2
	nsx $h "$AGENT" -b $LB_ADDR -k $KEY -l $l -1 "$@" ||
		fail "lbsp-agent on $h"
}
report s1 900
report s2 100
report s3 500
wait_for "three agent reports" 5 sh -c \
    "[ \"\$(\"$LBSPCTL\" -s \"$(lbsp_sock lb)\" stats --json |
      \"$PY\" -c 'import json,sys; print(json.load(sys.stdin)[\"counters\"][\"agent_reports\"])')\" -ge 3 ]"

# Twelve new legacy clients (one source address each).
n=0
for i in $(seq 100 111); do
	nsx c2 ip -6 addr add 2001:db8:1::$i/64 dev eth0 nodad
	out=$(nsx c2 curl -gsS --max-time 5 --interface 2001:db8:1::$i \
	    "http://[$VIP]/name" 2>&1) || fail "curl from ::$i: $out"
	echo "$out" >>"$T/got-1"
done
sort "$T/got-1" | uniq -c >"$T/dist-1"
info "least loaded s2: $(tr '\n' ' ' <"$T/dist-1")"
[ "$(grep -c . "$T/got-1")" -eq 12 ] || fail "not 12 answers"
[ "$(sort -u "$T/got-1")" = s2 ] || fail "sessions not all on s2: $(cat "$T/dist-1")"

# Forged: c1 claims to be s1 with load 0; s1 with a wrong key.
nsx c1 "$AGENT" -b $LB_ADDR -k $KEY -l 0 -s 2001:db8:1::1 -1 >/dev/null 2>&1
printf 'lbsp-agent 1 2001:db8:5::1 0 7 -\n' >"$T/forged"
nsx c1 socat -u FILE:"$T/forged" UDP6-SENDTO:[$LB_ADDR]:4739 ||
	fail "socat forged report"
report s1 0 -k ffffffffffffffffffffffffffffffff
wait_for "three refused reports" 5 sh -c \
    "[ \"\$(\"$LBSPCTL\" -s \"$(lbsp_sock lb)\" stats --json |
      \"$PY\" -c 'import json,sys; print(json.load(sys.stdin)[\"counters\"][\"agent_rejected\"])')\" -ge 3 ]"

# s2 now reports 950: new sessions go to s3 (500), never to s1 (900).
n=$(reports "$(lbspctl lb stats --json)")
report s2 950
wait_for "s2's report of 950" 5 counter_at_least lb agent_reports $((n + 1))
for i in $(seq 120 125); do
	nsx c2 ip -6 addr add 2001:db8:1::$i/64 dev eth0 nodad
	out=$(nsx c2 curl -gsS --max-time 5 --interface 2001:db8:1::$i \
	    "http://[$VIP]/name" 2>&1) || fail "curl from ::$i: $out"
	echo "$out" >>"$T/got-2"
done
[ "$(sort -u "$T/got-2")" = s3 ] ||
	fail "after s2's new load, sessions went to: $(sort "$T/got-2" | uniq -c)"
stats_json lb "$T/stats.json"
pass "12 sessions to s2 (load 100), 6 to s3 after s2 reported 950; $(rejected "$T/stats.json") forged or bad reports refused"
