#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 40-single-pass.sh -- single pass: once the client has learned its
# server, the balancer is out of the path.
#
# On topo_megaproxy, the client c3 (no proxy, lbspd role client,
# identity = its address) downloads 50 MB over HTTP from the vip:
#   1. redirect on: the download completes intact and the balancer
#      handled at most 3 packets of it -- counted on lb by an nft
#      counter on the session's address and port, ahead of lbspd's
#      rules, not by lbspd's own statistics;
#   2. still redirect on, a new connection while the cache entry lives:
#      the balancer sees none of its packets (straight to the server
#      from the SYN on);
#   3. redirect off (c3's daemon restarted): the same download, and the
#      balancer handled every packet the client sent (same count as an
#      nft counter on c3's output, ahead of lbspd).
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
topo_megaproxy
MB=50

sp_www $MB 80
sp_lb_conf "$T/lb.conf"
sp_client_conf "$T/c-on.conf"
sp_client_conf "$T/c-off.conf" "redirect off"
sp_daemons "$T/lb.conf" "$T/c-on.conf" c3

# download LPORT NAME - fetch /big from the vip out of local port LPORT,
# with counters NAME on lb (arrivals from that port) and NAME-c on c3
# (what the application sent from it); checks the bytes.
download()
{
	local lport=$1 name=$2 out
	sp_count_add lb "$name" pre ip6 saddr $C3_ADDR tcp sport "$lport"
	sp_count_add c3 "$name-c" out tcp sport "$lport"
	out=$(nsx c3 curl -gsS --max-time 90 --local-port "$lport" \
	    -o "$T/dl-$name" -w '%{size_download} %{speed_download}' \
	    "http://[$VIP]:80/big" 2>&1) ||
		{ dump "$(lbspd_log c3)" "$(lbspd_log lb)"; fail "download $name: $out"; }
	[ "$(sha256sum <"$T/dl-$name" | cut -d' ' -f1)" = "$SP_BIG_SHA" ] ||
		fail "download $name: bytes differ ($out)"
	rm -f "$T/dl-$name"
	LB_N=$(sp_count lb "$name")
	C_N=$(sp_count c3 "$name-c")
	info "$name: $MB MB ok ($out), client sent $C_N packets, balancer handled $LB_N"
	[ -n "$LB_N" ] && [ -n "$C_N" ] || fail "$name: no counter"
	# A 50 MB download makes hundreds of ACKs at least (fewer when GRO
	# merges 64 KB at a time, as on the fast tc path): the counters must
	# see them.
	[ "$C_N" -ge 200 ] || fail "$name: client counter saw only $C_N packets"
}

download 40001 sp
[ "$LB_N" -ge 1 ] || fail "single pass: the balancer saw no packet at all (the SYN must go to the vip)"
[ "$LB_N" -le 3 ] || fail "single pass: the balancer handled $LB_N packets of the session (at most 3 allowed), of $C_N"
SP_LB=$LB_N SP_C=$C_N

download 40002 sp2
[ "$LB_N" -eq 0 ] || fail "a new connection with the cache warm: the balancer handled $LB_N packets (want 0)"

lbspd_stop c3
lbspd_start c3 "$T/c-off.conf"
download 40003 off
[ "$LB_N" -eq "$C_N" ] ||
	fail "redirect off: the balancer handled $LB_N packets, the client sent $C_N (want all of them)"

pass "balancer packets: $SP_LB of $SP_C with single pass, 0 for a cached new connection, $LB_N of $C_N with redirect off"
