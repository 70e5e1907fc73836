#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 43-hijack.sh -- a response naming a server outside allow-servers is
# never followed.
#
# topo_megaproxy, client c3 (lbspd role client, redirect on,
# allow-servers 2001:db8:5::/64), genuine servers.  On the way back, r
# (the attacker on the path) overwrites seg2 of every response that
# carries the option in canonical position (an nft raw payload write
# at bytes 64-79 of the packet; the option is not covered by the TCP
# checksum) with 2001:db8:6::66: outside the client's allow-servers,
# and r has no route there (a client that followed it would lose its
# requests).  Two
# requests to the vip: no packet on r's client LAN may go to
# 2001:db8:6::/48, the client's cache must not hold it, and the capture
# must show the forged seg2 did arrive (so something was refused).
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
topo_megaproxy
EVIL=2001:db8:6::66

sp_www 0 80
sp_lb_conf "$T/lb.conf"
sp_client_conf "$T/client.conf"
sp_daemons "$T/lb.conf" "$T/client.conf" c3
# bytes 40-47: NH, 4, PadN(2), type 0x1e, 32; 48-63 seg1; 64-79 seg2
nsx r nft -f - <<NFT || fail "nft seg2 rewrite in r"
table ip6 hijack {
	chain onpath {
		type filter hook forward priority 0;
		ip6 saddr 2001:db8:5::/64 ip6 nexthdr 60 @nh,368,16 0x1e20 @nh,512,64 set 0x20010db800060000 @nh,576,64 set 0x66
	}
}
NFT
capture r brc "$T/r.pcap"

# Two requests.  Whether they succeed is reported, not asserted: the
# issue asks that the forged seg2 is never followed.
n=0 ok=0
while [ $n -lt 2 ]; do
	out=$(SP_MAXTIME=3 sp_get c3 $VIP 80 name $((43001 + n))) && ok=$((ok + 1))
	info "request $n: $out"
	n=$((n + 1))
done
capture_stop
lbsp_packets "$T/r.pcap" >"$T/r.txt"
forged=$(awk -v e=$EVIL '$8 == e' "$T/r.txt" | wc -l)
[ "$forged" -ge 2 ] || fail "only $forged responses carried seg2 $EVIL: the test did not test"
to_evil=$(awk '$2 ~ /^2001:db8:6:/' "$T/r.txt" | wc -l)
[ "$to_evil" -eq 0 ] || {
	awk '$2 ~ /^2001:db8:6:/' "$T/r.txt" | head -5 | sed 's/^/    /'
	fail "$to_evil packets went to 2001:db8:6::/48"
}
cached=$(lbspctl c3 cache | grep -c "$EVIL")
[ "$cached" -eq 0 ] || fail "the client cached $EVIL"
pass "$forged responses named $EVIL; the client never sent there nor cached it ($ok of 2 requests answered)"
