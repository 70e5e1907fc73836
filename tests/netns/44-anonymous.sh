#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 44-anonymous.sh -- anonymous identities behind one proxy.
#
# topo_megaproxy: c1 and c2 both reach the vip through px1, so the
# balancer sees one source address (px1's, after NAT66) for both.
# lbspd role client on both with "identity random": each host sends its
# own random 128-bit seg1.  Alternating requests (c1 c2 c1 c2 c1 c2):
# the balancer must tell them apart by seg1 alone -- with round robin
# on a fresh balancer the two identities get two different servers --
# and each client keeps its own server.  On r's client LAN (capture,
# after the proxy): every SYN comes from px1, c1's seg1 and c2's seg1
# are each constant, differ from each other and from both clients'
# addresses.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
topo_megaproxy

sp_www 0 80
sp_lb_conf "$T/lb.conf"
sp_client_conf "$T/client.conf" "identity random"
sp_daemons "$T/lb.conf" "$T/client.conf" c1 c2
capture r brc "$T/r.pcap"

n=0
while [ $n -lt 6 ]; do
	c=c$((n % 2 + 1))
	lport=$((44001 + n))
	out=$(sp_get $c $VIP 80 name $lport) || {
		capture_stop
		lbsp_packets "$T/r.pcap" | tail -n 6 | sed 's/^/    /'
		fail "request $n from $c: $out"
	}
	info "request $n from $c: $out"
	echo "$c $lport $out" >>"$T/answers"
	n=$((n + 1))
done
capture_stop

for c in c1 c2; do
	k=$(awk -v c=$c '$1 == c { print $3 }' "$T/answers" | sort -u | wc -l)
	[ "$k" -eq 1 ] || fail "$c was answered by $k servers: $(awk -v c=$c '$1 == c { print $3 }' "$T/answers" | tr '\n' ' ')"
done
X1=$(awk '$1 == "c1" { print $3; exit }' "$T/answers")
X2=$(awk '$1 == "c2" { print $3; exit }' "$T/answers")
[ "$X1" != "$X2" ] ||
	fail "c1 and c2 share $X1: the balancer did not tell the identities apart"

ids=
for c in c1 c2; do
	for lport in $(awk -v c=$c '$1 == c { print $2 }' "$T/answers"); do
		sp_row "$T/r.pcap" $lport ||
			fail "$c: no SYN from port $lport on r"
		[ "$ROW_SRC" = "$PX1_ADDR" ] ||
			fail "$c port $lport: source $ROW_SRC, not the proxy"
		echo "$c $ROW_SEG1" >>"$T/seg1"
	done
done
for c in c1 c2; do
	k=$(awk -v c=$c '$1 == c { print $2 }' "$T/seg1" | sort -u | wc -l)
	[ "$k" -eq 1 ] || fail "$c sent $k different identities"
done
I1=$(awk '$1 == "c1" { print $2; exit }' "$T/seg1")
I2=$(awk '$1 == "c2" { print $2; exit }' "$T/seg1")
for i in "$I1" "$I2"; do
	case $i in
	"$C1_ADDR" | "$C2_ADDR" | - | ::) fail "identity $i is not anonymous" ;;
	esac
done
[ "$I1" != "$I2" ] || fail "c1 and c2 sent the same identity $I1"
pass "behind px1: c1 ($I1) on $X1, c2 ($I2) on $X2"
