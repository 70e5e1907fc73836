#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 18-reload.sh -- SIGHUP (and "lbspctl reload") re-read the
# configuration without losing flows: a port added to the vip is
# steered at once (its packets carry the option), the flows learned
# before are still listed; a broken file is refused with FILE:LINE
# errors in the log and the running configuration is kept.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
command -v curl >/dev/null || fail "curl not installed"
topo_pair

# "lbspctl flows --json": an array of flows.
nflows() { json_get "$1" "len(j)"; }

write_conf()
{
	cat >"$T/client.conf" <<CONF
role client
queue 0
vip $S_ADDR {
	ports $1
}
CONF
}

get()
{
	out=$(nsx C curl -gsS --max-time 10 "http://[$S_ADDR]:$1/name" 2>&1) ||
		fail "curl port $1: $out"
	[ "$out" = S ] || fail "curl port $1: got '$out'"
}

mkdir "$T/www"
echo S >"$T/www/name"
http_server S $S_ADDR 80 "$T/www"
http_server S $S_ADDR 8080 "$T/www"
write_conf 80
lbspd_start C "$T/client.conf"

get 80
lbspctl C flows --json >"$T/flows-1.json" || fail "lbspctl flows"
before=$(nflows "$T/flows-1.json")
[ "$before" -ge 1 ] || fail "no flow after the first request"

# 1. Add port 8080 and reload with SIGHUP.
write_conf "80 8080"
kill -HUP "$LBSPD_PID"
wait_for "reload logged" 5 grep -q "configuration reloaded" "$T/lbspd-C.log"
lbspctl C flows --json >"$T/flows-2.json" || fail "lbspctl flows"
after=$(nflows "$T/flows-2.json")
[ "$after" -ge "$before" ] || fail "flows lost by the reload: $before -> $after"

capture S $S_IF "$T/link.pcap"
get 8080
capture_stop
lbsp_packets "$T/link.pcap" "tcp.port == 8080" >"$T/packets"
[ "$(wc -l <"$T/packets")" -gt 0 ] || fail "nothing captured on port 8080"
awk -v s=$S_ADDR '$2 == s && $6 != 1 { print; bad = 1 } END { exit bad }' \
    "$T/packets" || fail "port 8080 not steered after the reload"

# 2. A broken file: refused, the running configuration kept.
printf 'role client\nvip %s {\n\tports 80 nonsense\n}\n' $S_ADDR \
    >"$T/client.conf"
lbspctl C reload >/dev/null || fail "lbspctl reload"
wait_for "refusal logged" 5 grep -q "keeping the running configuration" \
    "$T/lbspd-C.log"
grep -q "client.conf:3: " "$T/lbspd-C.log" ||
	{ dump "$T/lbspd-C.log"; fail "no FILE:LINE error in the log"; }
alive "$LBSPD_PID" || fail "lbspd died on a broken reload"
capture S $S_IF "$T/link2.pcap"
get 8080
capture_stop
lbsp_packets "$T/link2.pcap" "tcp.port == 8080" >"$T/packets2"
awk -v s=$S_ADDR '$2 == s && $6 != 1 { print; bad = 1 } END { exit bad }' \
    "$T/packets2" || fail "the running configuration was not kept"

pass "reload added port 8080 keeping $after flows; a broken file was refused"
