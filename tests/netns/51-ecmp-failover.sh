#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 51-ecmp-failover.sh -- a balancer of two behind ECMP dies in the middle
# of downloads, then comes back (lbsp(7), "Scaling out").  On
# lib/ecmp.sh's topology with the example files of examples/ecmp, and
# conntrackd copying the legacy (NAT) sessions between the balancers:
#   1. 20 LBSP downloads with redirect off (c1: every packet crosses a
#      balancer), 20 with single pass (c2) and 10 legacy ones (c3), each
#      from its own identity and rate-limited so that all are under way;
#      lb2's kernel already holds lb1's NAT sessions (conntrackd);
#   2. lb1 is lost: lbspd, conntrackd and BIRD killed (SIGKILL) and its
#      link taken down.  New LBSP and legacy sessions are tried at once
#      and the time to the first success of each is measured (at most
#      3 s); every LBSP download completes intact; the legacy downloads
#      that complete intact are counted (all must);
#   3. during 10 new redirect-off downloads and 6 legacy ones through
#      lb2 alone, lb1 comes back (conntrackd asks lb2 for its table,
#      then BIRD and lbspd start): r routes to both again, lb1 takes new
#      sessions, and the downloads under way all complete intact.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
need_ecmp_tools
command -v conntrack >/dev/null || fail "conntrack not installed"
RATE=100000	# bytes a second per download: 2 MB in about 20 s
NOFF=20 NON=20 NLEG=10

ecmp_topo
ecmp_www 2
ecmp_clients
ecmp_addrs c1 a00 $((NOFF + 20))
ecmp_addrs c2 b00 $NON
ecmp_addrs c3 c00 $((NLEG + 20))
ecmp_routing
ecmp_conntrackd 1
ecmp_conntrackd 2
ecmp_lb_start 1
ecmp_lb_start 2
ecmp_wait_nexthops "lb1 lb2" 30
mkdir -p "$T/dl"

# dl NS SRC NAME - download /big from the vip in the background from
# address SRC of NS at $RATE bytes a second (ecmp_fetch_bg): $T/dl/NAME
# (the body), NAME.rc (0: whole; written when it ended), NAME.err.
dl()
{
	check_addr "$2"
	ecmp_fetch_bg "$1" "$2" "$VIP" "$T/dl/$3" $RATE
}

# batch PREFIX NS BASE COUNT - COUNT downloads from the identities
# BASE.. of NS, named PREFIX-I.
batch()
{
	local i=0
	while [ $i -lt "$4" ]; do
		dl "$2" "$(ecmp_addr "$3" $i)" "$1-$i"
		i=$((i + 1))
	done
	eval "DL_N_$1=\$4"
}

# Every download is named PREFIX-I (I from 0); DL_N_<PREFIX> is how
# many batch started.

# under_way PREFIX... - true when every download PREFIX-* has more than
# 100 kB and has not ended.
under_way()
{
	local f p i n
	for p in "$@"; do
		eval "n=\$DL_N_$p"
		i=0
		while [ $i -lt "$n" ]; do
			f=$T/dl/$p-$i
			i=$((i + 1))
			[ -f "$f.rc" ] && return 1
			[ "$(stat -c %s "$f" 2>/dev/null || echo 0)" -gt 100000 ] ||
				return 1
		done
	done
}

# ended PREFIX... - true when every download PREFIX-* has ended.
ended()
{
	local p i n
	for p in "$@"; do
		eval "n=\$DL_N_$p"
		i=0
		while [ $i -lt "$n" ]; do
			[ -f "$T/dl/$p-$i.rc" ] || return 1
			i=$((i + 1))
		done
	done
}

# intact PREFIX - the number of downloads PREFIX-* that ended with
# status 0 and the right bytes; lists the others on stderr.
intact()
{
	local f i=0 n=0 cnt
	eval "cnt=\$DL_N_$1"
	while [ $i -lt "$cnt" ]; do
		f=$T/dl/$1-$i
		i=$((i + 1))
		if [ "$(cat "$f.rc")" = 0 ] &&
		    [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$SP_BIG_SHA" ]; then
			n=$((n + 1))
		else
			echo "#   $(basename "$f"): status $(cat "$f.rc"), $(stat -c %s "$f" 2>/dev/null || echo 0) bytes: $(cat "$f.err")" >&2
		fi
	done
	echo $n
}

# first_success NS SRC - try a new session (curl /name, 1 s at most)
# from SRC of NS until one succeeds (30 tries); prints the milliseconds
# from $T0 to that success, or fails.
first_success()
{
	local k=0 now
	while [ $k -lt 30 ]; do
		if nsx "$1" curl -gsS --max-time 1 --interface "$2" \
		    "http://[$VIP]/name" >/dev/null 2>&1; then
			now=$(date +%s%N)
			echo $(((now - T0) / 1000000))
			return 0
		fi
		k=$((k + 1))
	done
	fail "no new session from $1 $2 succeeded in 30 tries"
}

# ---------------------------------------------------------------- 1
batch off c1 a00 $NOFF
batch on c2 b00 $NON
batch leg c3 c00 $NLEG
wait_for "50 downloads under way" 30 under_way off on leg
s1=$(stats_json lb1 "$T/s.json"; lb_counter "$T/s.json" sessions)
nat1=$(nsx lb1 conntrack -L -f ipv6 --reply-dst $NAT1 2>/dev/null | grep -c ESTABLISHED)
try_for 5 sh -c "[ \$(ip netns exec $(ns_real lb2) conntrack -L -f ipv6 \
    --reply-dst $NAT1 2>/dev/null | grep -c ESTABLISHED) -ge $nat1 ]"
nat1b=$(nsx lb2 conntrack -L -f ipv6 --reply-dst $NAT1 2>/dev/null | grep -c ESTABLISHED)
info "before the loss: lb1 took $s1 sessions, $nat1 legacy ones NATed to $NAT1; lb2's kernel holds $nat1b of those (conntrackd)"
[ "$s1" -gt 0 ] || fail "lb1 carries no session: its loss would prove nothing"
[ "$nat1" -gt 0 ] || fail "lb1 carries no legacy session: its loss would prove nothing"
[ "$nat1b" -ge "$nat1" ] || fail "conntrackd copied $nat1b of lb1's $nat1 NAT sessions to lb2"

# ---------------------------------------------------------------- 2
kill -KILL "$LBSPD_PID_lb1" "$CT_PID_lb1" "$BIRD_PID_lb1"
nsx lb1 ip link set eth0 down || fail "lb1 link down"
T0=$(date +%s%N)
ms_lbsp=$(first_success c1 "$(ecmp_addr a00 $((NOFF + 10)))")
ms_leg=$(first_success c3 "$(ecmp_addr c00 $((NLEG + 10)))")
ecmp_wait_nexthops "lb2" 3
info "lb1 lost: first new LBSP session ${ms_lbsp} ms later, first new legacy one ${ms_leg} ms later; r routes to lb2 alone; $NAT1 now via $(ecmp_nat_via $NAT1)"
[ "$ms_lbsp" -le 3000 ] && [ "$ms_leg" -le 3000 ] ||
	fail "new sessions took more than 3 s to succeed (${ms_lbsp}, ${ms_leg} ms)"
[ "$(ecmp_nat_via $NAT1)" = lb2 ] || fail "r does not send $NAT1 to lb2"
wait_for "the downloads to end" 90 ended off on leg
n_off=$(intact off) n_on=$(intact on) n_leg=$(intact leg)
info "downloads intact through the loss: redirect off $n_off/$NOFF, single pass $n_on/$NON, legacy $n_leg/$NLEG"
[ "$n_off" = $NOFF ] || fail "redirect off: $n_off of $NOFF downloads intact"
[ "$n_on" = $NON ] || fail "single pass: $n_on of $NON downloads intact"
[ "$n_leg" = $NLEG ] || fail "legacy: $n_leg of $NLEG downloads intact"

# ---------------------------------------------------------------- 3
batch back c1 a00 10
batch legback c3 c00 6
wait_for "16 downloads under way" 30 under_way back legback
ecmp_link_up 1
ecmp_conntrackd 1
ecmp_ctl 1 -n || fail "conntrackd on lb1: resync request"
ecmp_bird lb1 "$T/bird-lb1.conf"
before=0
ecmp_lb_start 1
ecmp_wait_nexthops "lb1 lb2" 30
info "lb1 back: r routes to both ${WAITED}s after its lbspd started"
ecmp_round c1 a00 $NOFF 1 "$T/new.txt"
ecmp_round c3 c00 $NLEG 1 "$T/newleg.txt"
s1=$(stats_json lb1 "$T/s.json"; lb_counter "$T/s.json" sessions)
[ "$s1" -gt "$before" ] || fail "lb1 back took no new session"
wait_for "the downloads to end" 90 ended back legback
n_back=$(intact back) n_legback=$(intact legback)
info "lb1 back: it took $s1 new sessions; downloads under way intact: LBSP $n_back/10, legacy $n_legback/6"
[ "$n_back" = 10 ] || fail "$n_back of 10 LBSP downloads intact through lb1's return"
[ "$n_legback" = 6 ] || fail "$n_legback of 6 legacy downloads intact through lb1's return"

pass "balancer lost: LBSP $n_off/$NOFF (redirect off) and $n_on/$NON (single pass), legacy $n_leg/$NLEG intact; first new session after ${ms_lbsp} ms (LBSP), ${ms_leg} ms (legacy); return: $n_back/10 and $n_legback/6 intact"
