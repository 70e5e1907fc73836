#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 41-persistence-table.sh -- the slides' persistence table ("Session
# Persistence at a Load Balancer"), replayed through two NAT66 proxies.
#
# topo_megaproxy: c1 reaches the vips through px1, and through px2 for
# port 443; c2 through px1.  lbspd runs in every role (client on c1 and
# c2, identity = their own address).  The slides' exchange:
#   row  client  via  vip   port
#   1    c1      px1  VIP   80     first packet of c1: seg2 0, the LB picks X
#   2    c1      px1  VIP   80     seg2 = X                     -> X
#   3    c1      px1  VIP   21     seg2 = X                     -> X
#   4    c1      px2  VIP   443    seg2 = X                     -> X
#   5    c2      px1  VIP2  80     first packet of c2: seg2 0, the LB picks Y
#   6    c2      px1  VIP2  80     seg2 = Y                     -> Y
# Each row is one HTTP request (servers answer their own name; 21 and
# 443 are plain HTTP stand-ins).  Read from the capture on r's client
# LAN (after the proxies): the source is the proxy (px1 or px2), seg1
# the client, seg2 zero only on the first packet of an identity; the
# same identity gets the same server on every port and through either
# proxy.  The slides' row 3 (FTP: seg2 0, "LB", SERV2) contradicts
# their own rows 2 and 4; doc/design.md §3.5 and the issue want one
# server per identity on every port, which is what is checked.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
topo_megaproxy

sp_www 0 80 443 21
sp_lb_conf "$T/lb.conf"
sp_client_conf "$T/client.conf"
sp_daemons "$T/lb.conf" "$T/client.conf" c1 c2
capture r brc "$T/r.pcap"

# row N CLIENT VIPADDR PORT LPORT - one request; NAME_N = the answer.
row()
{
	local out
	out=$(sp_get "$2" "$3" "$4" name "$5") || {
		capture_stop
		lbsp_packets "$T/r.pcap" | tail -n 12 | sed 's/^/    /'
		fail "row $1: $2 -> [$3]:$4: $out"
	}
	eval "NAME_$1=\$out"
}
row 1 c1 $VIP 80 41001
row 2 c1 $VIP 80 41002
row 3 c1 $VIP 21 41003
row 4 c1 $VIP 443 41004
row 5 c2 $VIP2 80 41005
row 6 c2 $VIP2 80 41006
capture_stop

printf '# %-3s %-15s %-15s %-4s %-15s %-15s %-9s %s\n' row source \
    destination port LBSPOD-1 LBSPOD-2 selection server
errs=0
bad()
{
	echo "#     row $1: $2"
	errs=$((errs + 1))
}
for n in 1 2 3 4 5 6; do
	sp_row "$T/r.pcap" $((41000 + n)) ||
		fail "row $n: no SYN from port $((41000 + n)) on r (NAT changed the port?)"
	eval "name=\$NAME_$n"
	printf '# %-3s %-15s %-15s %-4s %-15s %-15s %-9s %s\n' $n \
	    "$ROW_SRC" "$ROW_DST" "$ROW_PORT" "$ROW_SEG1" "$ROW_SEG2" \
	    "$ROW_SEL" "$name"
	case $n in
	1 | 2 | 3 | 4) id=$C1_ADDR first=1 ref=$NAME_1 vip=$VIP ;;
	*) id=$C2_ADDR first=5 ref=$NAME_5 vip=$VIP2 ;;
	esac
	src=$PX1_ADDR
	[ $n = 4 ] && src=$PX2_ADDR
	[ "$ROW_SRC" = "$src" ] || bad $n "source $ROW_SRC, want the proxy $src"
	[ "$ROW_SEG1" = "$id" ] || bad $n "LBSPOD-1 $ROW_SEG1, want $id"
	[ "$name" = "$ref" ] || bad $n "server $name, row $first had $ref"
	if [ $n = $first ]; then
		[ "$ROW_SEL" = LB ] || bad $n "first packet of $id: LBSPOD-2 $ROW_SEG2, want ::"
		[ "$ROW_DST" = "$vip" ] || bad $n "first packet to $ROW_DST, want the vip $vip"
	else
		[ "$ROW_SEL" = LBSPOD-2 ] || bad $n "selection $ROW_SEL (LBSPOD-2 $ROW_SEG2), want LBSPOD-2"
		[ "$(sp_name "$ROW_SEG2")" = "$ref" ] ||
			bad $n "LBSPOD-2 $ROW_SEG2 is not the server $ref"
		# single pass: a new connection goes to the learned server
		[ "$ROW_DST" = "$ROW_SEG2" ] ||
			bad $n "destination $ROW_DST, want the learned server $ROW_SEG2"
	fi
done
[ $errs -eq 0 ] || fail "$errs cells differ from the slides' pattern"
[ "$NAME_1" != "$NAME_5" ] || info "(c1 and c2 happen to share $NAME_1)"
pass "c1 on $NAME_1 on ports 80 21 443 through px1 and px2, c2 on $NAME_5"
