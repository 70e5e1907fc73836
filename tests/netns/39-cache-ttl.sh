#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 39-cache-ttl.sh -- the client's learned (vip, identity) -> server rows
# live cache-ttl after their last use, on either datapath.  Asserts:
# - after a request the row is listed by "lbspctl cache" and counted in
#   tables.cache;
# - with cache-ttl 2s and nothing sent, within 10 s neither lists nor
#   counts it (on tc the kernel's map keeps expired rows until its LRU
#   retires them: they are not listed, and not counted either);
# - the next request starts afresh: its SYN carries seg2 = :: on the
#   wire, as the first one did, and the row is learned again.
# How it fails: count the tc cache's expired rows, or follow a row past
# its cache-ttl.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
command -v curl >/dev/null || fail "curl not installed"
topo_pair

cat >"$T/client.conf" <<CONF
role client
rules install
cache-ttl 2s
vip $S_ADDR {
	ports 80
	allow-servers 2001:db8:1::/64
}
CONF
cat >"$T/server.conf" <<CONF
role server
rules install
server-address $S_ADDR
CONF
pair_start "$T/server.conf" "$T/client.conf"
capture S $S_IF "$T/link.pcap"

get()
{
	local out
	out=$(nsx C curl -gsS --max-time 10 "http://[$S_ADDR]/name" 2>&1) ||
		fail "curl: $out"
	[ "$out" = S ] || fail "curl: got '$out', want 'S'"
}

# The client's cache as "ROWS-LISTED TABLES-CACHE".
cache_rows()
{
	lbspctl C cache --json >"$T/cache.json" || fail "lbspctl cache in C"
	stats_json C "$T/cache-stats.json"
	echo "$(json_get "$T/cache.json" "len(j)")" \
	    "$(json_get "$T/cache-stats.json" "j['tables']['cache']")"
}

cache_empty() { [ "$(cache_rows)" = "0 0" ]; }

get
rows=$(cache_rows)
[ "$rows" = "1 1" ] ||
	fail "after a request: rows listed and tables.cache are $rows, want 1 1"
srv=$(json_get "$T/cache.json" "j[0]['server']")
[ "$srv" = "$S_ADDR" ] || fail "the row names $srv, not $S_ADDR"
wait_for "the row to expire (cache-ttl 2s)" 10 cache_empty
info "cache-ttl 2s: the row gone from lbspctl cache and tables.cache"
get
capture_stop
rows=$(cache_rows)
[ "$rows" = "1 1" ] ||
	fail "after the next request: rows listed and tables.cache are $rows, want 1 1"

# The client's SYNs: both start with seg2 = :: (nothing to follow) ...
lbsp_packets "$T/link.pcap" "tcp.port == 80" >"$T/p80"
awk -v c=$C_ADDR '$1 == c && $10 == "0x0002" { print $8 }' "$T/p80" \
    >"$T/syn-seg2"
n=$(wc -l <"$T/syn-seg2")
[ "$n" -eq 2 ] || { dump "$T/p80"; fail "$n client SYNs captured, want 2"; }
[ "$(sort -u "$T/syn-seg2")" = "::" ] ||
	fail "a SYN after the row expired followed it: seg2 $(tr '\n' ' ' <"$T/syn-seg2")"
# ... and every later client packet of the flows carries the learned
# server.
awk -v c=$C_ADDR -v s=$S_ADDR '$1 == c && $10 != "0x0002" && $8 != s' \
    "$T/p80" >"$T/unlearned"
[ ! -s "$T/unlearned" ] ||
	{ dump "$T/unlearned"; fail "client packets after the SYN without seg2 = $S_ADDR"; }

pass "cache-ttl 2s: the row listed and counted, gone from both within 10 s, then learned afresh (seg2 :: in both SYNs)"
