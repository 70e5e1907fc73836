#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 20-schedulers.sh -- each scheduler of the balancer distributes the
# sessions of 60 new legacy clients (60 source addresses on c2, flow
# labels off: one address = one client) as it should:
# - rr: 20 each;
# - wrr with weights 1 2 3: 10, 20, 30;
# - lc: one server holds 40 open connections: no new session goes to it;
# - hash: every client lands on the same server after a balancer
#   restart (same hash-key; the stick table is gone, so the scheduler
#   decides again: by_scheduler counts 60 after the restart);
# - maglev: once a server is removed (restart without it), only the
#   clients it had move; every other client keeps its server.
# Each round also checks that every session went through the balancer's
# scheduler (by_scheduler, legacy_nat) and that its counts per server
# ("lbspctl servers --json" sessions_total) agree with what the clients
# were answered.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
command -v curl >/dev/null || fail "curl not installed"
topo_full
N=60
KEY=00112233445566778899aabbccddeeff

# lb.conf: scheduler, then server lines.
lb_conf() # SCHED "SERVER-LINE" ...
{
	local sched=$1 l
	shift
	{
		echo "role balancer"
		echo "queue 0"
		echo "hash-key $KEY"
		echo "vip $VIP {"
		echo "	ports 80"
		echo "	scheduler $sched"
		for l in "$@"; do
			echo "	server $l"
		done
		echo "}"
	} >"$T/lb-$sched.conf"
}
ALL="2001:db8:5::1 2001:db8:5::2 2001:db8:5::3"

lb_www 80
flowlabels c2 off
legacy_addrs 0 $((N + 1))

# round SCHED TAG - N new clients; $T/TAG gets "ADDRESS sN" lines;
# checks the balancer's own view of the round; sets COUNTS.
round()
{
	local sched=$1 tag=$2 got s i n
	stats_json lb "$T/before-$tag.json"
	lbspctl lb servers --json >"$T/srv-before-$tag.json" ||
		fail "lbspctl servers --json"
	legacy_round 0 $N "$T/$tag"
	stats_json lb "$T/after-$tag.json"
	lbspctl lb servers --json >"$T/srv-after-$tag.json" ||
		fail "lbspctl servers --json"
	COUNTS=$(tally "$T/$tag")
	info "$sched ($tag): $COUNTS"
	got=$(grep -c ' s[123]$' "$T/$tag")
	[ "$got" -eq $N ] || fail "$tag: $got of $N clients answered by a server"
	for c in by_scheduler legacy_nat sessions; do
		n=$(($(lb_counter "$T/after-$tag.json" $c) -
		    $(lb_counter "$T/before-$tag.json" $c)))
		[ $n -eq $N ] || fail "$tag: counters.$c grew by $n, want $N (one per new client)"
	done
	# The balancer's counts per server match the answers.
	for i in 1 2 3; do
		s=2001:db8:5::$i
		a=$(json_get "$T/srv-after-$tag.json" "sum(x['sessions_total'] for v in j for x in v['servers'] if x['address'] == '$s')")
		b=$(json_get "$T/srv-before-$tag.json" "sum(x['sessions_total'] for v in j for x in v['servers'] if x['address'] == '$s')")
		want=$(echo "$COUNTS" | awk -v k=s$i '{ for (f = 1; f < NF; f += 2) if ($f == k) print $(f + 1) }')
		[ $((a - b)) -eq "$want" ] ||
			fail "$tag: lbspctl servers says $((a - b)) new sessions on $s, clients saw $want"
	done
}
count() { echo "$COUNTS" | awk -v k="$1" '{ for (f = 1; f < NF; f += 2) if ($f == k) print $(f + 1) }'; }

# ---- rr: 20 each
lb_conf rr $ALL
lb_start "$T/lb-rr.conf"
round rr rr
R_RR=$COUNTS
for s in s1 s2 s3; do
	[ "$(count $s)" -eq 20 ] || fail "rr: $COUNTS, want 20 each"
done

# ---- wrr 1 2 3: 10 20 30
lb_conf wrr "2001:db8:5::1 weight 1" "2001:db8:5::2 weight 2" \
    "2001:db8:5::3 weight 3"
lb_restart "$T/lb-wrr.conf"
round wrr wrr
R_WRR=$COUNTS
[ "$(count s1)" -eq 10 ] && [ "$(count s2)" -eq 20 ] &&
    [ "$(count s3)" -eq 30 ] || fail "wrr 1:2:3: $COUNTS, want 10 20 30"

# ---- lc: 40 connections held open on one server (all from one source,
# so they stick together), then no new session may go there.
lb_conf lc $ALL
lb_restart "$T/lb-lc.conf"
HOLD=$(legacy_addr $N)
bg c2 "$PY" -c '
import socket, sys, time
src, vip, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
socks = []
for i in range(n):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.settimeout(5)
    s.bind((src, 0))
    s.connect((vip, 80))
    socks.append(s)
print("held", len(socks), flush=True)
time.sleep(90)
' "$HOLD" "$VIP" 40
HOLD_PID=$BG_PID HOLD_LOG=$BG_LOG
wait_for "40 connections held open" 15 grep -q "^held 40" "$HOLD_LOG"
BUSY=$(lb_stick_server src "$HOLD")
case $BUSY in
2001:db8:5::[123]) ;;
*) fail "lc: no stick entry for the holding source $HOLD ($BUSY)" ;;
esac
BUSY_NAME=s${BUSY##*:}
n=$(nsx $BUSY_NAME ss -tnH state established "sport = :80" | grep -c "$LB_ADDR")
[ "$n" -ge 40 ] || fail "lc: only $n held connections reached $BUSY"
n=$(lb_server_field "$BUSY" sessions)
[ "$n" -ge 40 ] || fail "lc: lbspctl servers shows $n sessions on $BUSY, 40 are open"
round lc lc
R_LC="$COUNTS (busy: $BUSY_NAME, 40 held)"
[ "$(count $BUSY_NAME)" -eq 0 ] ||
	fail "lc: $(count $BUSY_NAME) new sessions went to $BUSY_NAME, which holds 40 open connections ($COUNTS)"
for s in s1 s2 s3; do
	[ $s = $BUSY_NAME ] && continue
	[ "$(count $s)" -ge 25 ] ||
		fail "lc: idle servers not shared evenly: $COUNTS"
done
pid_stop $HOLD_PID 2

# ---- hash: the same servers after a restart with the same key
lb_conf hash $ALL
lb_restart "$T/lb-hash.conf"
round hash hash1
R_HASH=$COUNTS
for s in s1 s2 s3; do
	[ "$(count $s)" -ge 8 ] || fail "hash: $COUNTS, a server got under 8 of 60"
done
lb_restart "$T/lb-hash.conf"
round hash hash2
moved=$(join "$T/hash1" "$T/hash2" | awk '$2 != $3' | wc -l)
[ "$moved" -eq 0 ] || {
	join "$T/hash1" "$T/hash2" | awk '$2 != $3' | head -5 | sed 's/^/    /'
	fail "hash: $moved of $N clients changed server across a restart"
}

# ---- maglev: removing s3 moves only s3's clients
lb_conf maglev $ALL
lb_restart "$T/lb-maglev.conf"
round maglev mag1
R_MAG=$COUNTS
for s in s1 s2 s3; do
	[ "$(count $s)" -ge 8 ] || fail "maglev: $COUNTS, a server got under 8 of 60"
done
lb_conf maglev 2001:db8:5::1 2001:db8:5::2
lb_restart "$T/lb-maglev.conf"
round maglev mag2
R_MAG2=$COUNTS
[ "$(count s3)" -eq 0 ] || fail "maglev: s3 removed, yet $(count s3) sessions reached it"
moved=$(join "$T/mag1" "$T/mag2" | awk '$2 != "s3" && $2 != $3' | wc -l)
[ "$moved" -eq 0 ] || {
	join "$T/mag1" "$T/mag2" | awk '$2 != "s3" && $2 != $3' | head -5 |
	    sed 's/^/    /'
	fail "maglev: removing s3 moved $moved clients of s1/s2 ($R_MAG -> $R_MAG2)"
}

pass "rr $R_RR; wrr(1:2:3) $R_WRR; lc $R_LC; hash $R_HASH, stable across a restart; maglev $R_MAG, without s3 $R_MAG2, no s1/s2 client moved"
