#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 16-no-insert-path.sh -- on a kernel that refuses NFQUEUE verdicts
# which insert a header (simulated with LBSPD_SELFTEST=deny-nfqueue),
# lbspd says so in its log and in "lbspctl stats", keeps running, and
# traffic to the vip still works -- without the option, every packet
# passed unchanged and counted as no-insert-path.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
command -v curl >/dev/null || fail "curl not installed"
topo_pair

# "lbspctl stats --json" field names, in one place.
nfqueue_path() { json_get "$1" "j['insert_paths']['nfqueue']"; }
socket_path() { json_get "$1" "j['insert_paths']['socket']"; }
no_insert() { json_get "$1" "j['passed']['no-insert-path']"; }
inserted() { json_get "$1" "j['counters']['inserted']"; }

cat >"$T/client.conf" <<CONF
role client
queue 0
vip $S_ADDR {
	ports 80
}
CONF

mkdir "$T/www"
echo S >"$T/www/name"
http_server S $S_ADDR 80 "$T/www"
LBSPD_SELFTEST=deny-nfqueue
export LBSPD_SELFTEST
lbspd_start C "$T/client.conf"
unset LBSPD_SELFTEST

grep -q "does not let lbspd insert the option through NFQUEUE" \
    "$T/lbspd-C.log" || { dump "$T/lbspd-C.log"; fail "no warning in the log"; }
stats_json C "$T/stats-1.json"
[ "$(nfqueue_path "$T/stats-1.json")" = false ] ||
	fail "stats: nfqueue path reported as working"
[ "$(socket_path "$T/stats-1.json")" = true ] ||
	fail "stats: socket path not reported"

capture S $S_IF "$T/link.pcap"
for n in 1 2 3; do
	out=$(nsx C curl -gsS --max-time 10 "http://[$S_ADDR]/name" 2>&1) ||
		fail "curl $n: $out"
	[ "$out" = S ] || fail "curl $n: got '$out'"
done
capture_stop
stats_json C "$T/stats-2.json"

lbsp_packets "$T/link.pcap" "tcp.port == 80" >"$T/packets"
total=$(wc -l <"$T/packets")
[ "$total" -gt 0 ] || fail "no packets captured"
awk '$6 != 0 { print; bad = 1 } END { exit bad }' "$T/packets" ||
	fail "a packet carries the option although insertion is refused"
skipped=$(no_insert "$T/stats-2.json")
[ "$skipped" -gt 0 ] || fail "no-insert-path not counted"
[ "$(inserted "$T/stats-2.json")" -eq 0 ] || fail "inserted counted"
alive "$LBSPD_PID" || fail "lbspd died"

pass "3 requests served without the option; $skipped packets counted as no-insert-path"
