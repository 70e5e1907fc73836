#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 24-health.sh -- health checks, drain and backup mapping.
#
# 1. TCP check every 500 ms, fall 3: s2's web server is stopped; s2 must
#    be marked down (lbspctl servers: state "down", not eligible) within
#    2 s after the fall count (3 x 500 ms), after which 12 new legacy
#    clients all land on s1 and s3; once s2's server is back it rises
#    (rise 2) and takes new sessions again.
# 2. Drain: two slow downloads (an LBSP client with redirect off, so
#    its packets keep crossing the balancer, and a legacy client) on
#    two servers, held in progress (some bytes in, not all; lb's flows
#    on those servers) while both servers are drained (lbspctl drain);
#    then the downloads complete intact on them (lb goes on forwarding
#    their clients' packets there; they send 1 MB and more after the
#    drain), 12 new clients all go to the third server; "enable" brings
#    them back.
# 3. Backup: s2 has backup s3, a standby outside the rotation (rr over
#    s1 and s2): s3 gets nothing while s2 takes sessions; once s2 is
#    drained (an upgrade), its share of 12 new clients goes to s3
#    (counters.to_backup), s1 keeps its own.
# 4. A dead backup: s1 has backup s3, all three in the rotation, and
#    s3's web server is stopped (checked down).  Six clients stuck to s1
#    (stick table) come back after s1 is drained: the backup rule is the
#    scheduler's -- a backup that is down takes nothing -- so they all
#    land on s2, none is handed to the dead s3 (no request fails), and
#    counters.to_backup does not move.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
command -v curl >/dev/null || fail "curl not installed"
topo_full
INTERVAL_MS=500
FALL=3

# The servers, s2's pid kept to stop it.
head -c 2000000 /dev/urandom >"$T/big"
for i in 1 2 3; do
	mkdir -p "$T/w$i"
	echo s$i >"$T/w$i/name"
	cp "$T/big" "$T/w$i/big"
	http_server s$i 2001:db8:5::$i 80 "$T/w$i"
	eval "WWW_PID_$i=\$BG_PID"
done
lb_servers_lbspd
flowlabels c2 off
legacy_addrs 0 72
cat >"$T/lb.conf" <<CONF
role balancer
queue 0
vip $VIP {
	ports 80
	scheduler rr
	server 2001:db8:5::1
	server 2001:db8:5::2
	server 2001:db8:5::3
	check tcp port 80 interval ${INTERVAL_MS}ms timeout 300ms rise 2 fall $FALL
}
CONF
lb_start "$T/lb.conf"
cat >"$T/client.conf" <<CONF
role client
queue 0
redirect off
vip $VIP {
	ports 80
	allow-servers 2001:db8:5::/64
}
CONF
lbspd_start c1 "$T/client.conf"

state() { lb_server_field 2001:db8:5::$1 state; }
all_up() { [ "$(state 1)$(state 2)$(state 3)" = upupup ]; }
NEXT=0
# clients COUNT TAG - COUNT new legacy clients; $T/TAG gets their
# "ADDRESS sN" lines; sets COUNTS.
clients()
{
	legacy_round $NEXT $1 "$T/$2"
	NEXT=$((NEXT + $1))
	COUNTS=$(tally "$T/$2")
	info "$2: $COUNTS"
}
count() { echo "$COUNTS" | awk -v k="$1" '{ for (f = 1; f < NF; f += 2) if ($f == k) print $(f + 1) }'; }
wait_for "all three servers up" 10 all_up

# ---- 1. a server stops
pid_stop $WWW_PID_2 2
t0=$(date +%s%N)
i=0
while [ "$(state 2)" = up ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
[ "$(state 2)" = down ] || fail "s2 stopped: state '$(state 2)' after ${ms} ms"
info "s2 marked down ${ms} ms after its server stopped (fall $FALL x ${INTERVAL_MS} ms)"
[ $ms -le $((FALL * INTERVAL_MS + 2000)) ] ||
	fail "s2 marked down after ${ms} ms, more than 2 s after its fall count ($((FALL * INTERVAL_MS)) ms)"
[ "$(lb_server_field 2001:db8:5::2 eligible)" = false ] ||
	fail "s2 down but still eligible"
clients 12 down
R_DOWN=$COUNTS
[ "$(count s2)" -eq 0 ] && [ "$(count s1)" -eq 6 ] && [ "$(count s3)" -eq 6 ] ||
	fail "s2 down: new sessions $COUNTS, want s1 6 s3 6"
http_server s2 2001:db8:5::2 80 "$T/w2"
wait_for "s2 back up" 5 all_up
clients 12 back
[ "$(count s2)" -ge 3 ] || fail "s2 up again but took $(count s2) of 12 new sessions"

# ---- 2. drain keeps existing sessions, takes no new ones
restart_lb() { lb_restart "$T/lb.conf"; wait_for "all three servers up" 10 all_up; }
restart_lb		# rr from the first server again, stick table empty
# waiting NS - the bytes of web replies that wait in NS's TCP receive
# buffer, unread (0 without an established connection to port 80).
waiting() {
	nsx $1 ss -Htn state established '( dport = :80 )' |
		awk '{ n += $1 } END { print n + 0 }'
}
# under_way PID NS - curl PID runs, has not taken its reply, and bytes of
# it wait in NS's receive buffer.
under_way() { alive $1 && [ "$(waiting $2)" -gt 0 ]; }
# stuck KIND KEY - lb holds a stick entry KIND KEY on a server.
stuck() {
	case $(lb_stick_server "$1" "$2") in
	2001:db8:5::[123]) return 0 ;;
	esac
	return 1
}
# Each download writes to a FIFO that nobody reads until after the
# drain: curl blocks opening it at the reply's first bytes, so the
# download is in progress when the servers are drained, however slow the
# machine, and no timing decides it. The clients' TCP receive buffers are
# at most 256 KB (their namespaces' own sysctl): the rest of big crosses
# after the drain.
for h in c1 c2; do
	nsx $h sysctl -qw net.ipv4.tcp_rmem="4096 131072 262144" ||
		fail "tcp_rmem in $h"
	mkfifo "$T/fifo-$h" || fail "mkfifo $T/fifo-$h"
done
bg c1 curl -gsS --max-time 60 -o "$T/fifo-c1" "http://[$VIP]/big"
DL1=$BG_PID DL1_LOG=$BG_LOG
wait_for "the lbsp client's download under way" 10 under_way $DL1 c1
wait_for "the lbsp client's download to stick" 5 stuck seg1 $C1_ADDR
bg c2 curl -gsS --max-time 60 --interface $C2_ADDR \
    -o "$T/fifo-c2" "http://[$VIP]/big"
DL2=$BG_PID DL2_LOG=$BG_LOG
wait_for "the legacy client's download under way" 10 under_way $DL2 c2
wait_for "the legacy client's download to stick" 5 stuck src $C2_ADDR
A=$(lb_stick_server seg1 $C1_ADDR)
B=$(lb_stick_server src $C2_ADDR)
info "downloads on $A (lbsp client) and $B (legacy client)"
case "$A $B" in
2001:db8:5::[123]\ 2001:db8:5::[123]) ;;
*) fail "no stick entries for the two downloads: '$A' '$B'" ;;
esac
[ "$A" != "$B" ] || fail "rr put both first sessions on $A"
# lb's flows of the downloads go to A and B.
lbspctl lb flows --json >"$T/flows-drain.json" 2>&1 ||
	fail "lbspctl flows --json: $(cat "$T/flows-drain.json")"
flow_server() {
	json_get "$T/flows-drain.json" "[f['server'] for f in j if f['src'] == '$1' and f['dst'] == '$VIP' and f['dport'] == 80] + ['none']"
}
[ "$(flow_server $C1_ADDR)" = "[\"$A\", \"none\"]" ] ||
	fail "lb's flows of the lbsp client's download: $(flow_server $C1_ADDR), want $A"
[ "$(flow_server $C2_ADDR)" = "[\"$B\", \"none\"]" ] ||
	fail "lb's flows of the legacy client's download: $(flow_server $C2_ADDR), want $B"
# nft counters from now on (the downloads are stopped): in lb's
# forward hook, the downloads' client packets lb forwards to A and B
# (after its rewrite or DNAT, before the masquerade that hides the
# legacy client) and the bytes B sends back through lb (before they
# leave as the vip's); in A's output hook, the bytes A's web server
# sends to c1 (they go straight back, from the vip, not through lb).
nsx lb nft -f - <<EOF || fail "nft counters in lb"
table ip6 lbsp_t24 {
	counter up1 { }
	counter up2 { }
	counter down2 { }
	chain through {
		type filter hook forward priority 0;
		ip6 saddr $C1_ADDR ip6 daddr $A tcp dport 80 counter name up1
		ip6 saddr $C2_ADDR ip6 daddr $B tcp dport 80 counter name up2
		ip6 saddr $B ip6 daddr $C2_ADDR tcp sport 80 counter name down2
	}
}
EOF
nsx s${A##*:} nft -f - <<EOF || fail "nft counter in $A"
table ip6 lbsp_t24 {
	counter down1 { }
	chain out {
		type filter hook output priority -350;
		ip6 daddr $C1_ADDR tcp sport 80 counter name down1
	}
}
EOF
# t24_count NS NAME packets|bytes - what counter NAME of NS counted.
t24_count() {
	nsx $1 nft list counter ip6 lbsp_t24 $2 | sed -n "s/.*$3 \\([0-9]*\\).*/\\1/p"
}
for s in $A $B; do
	out=$(lbspctl lb drain $VIP $s --json 2>&1) || fail "lbspctl drain $s: $out"
	[ "$(json_get "$out" "j['drain']")" = true ] ||
		fail "lbspctl drain $s answered $out"
	[ "$(lb_server_field $s eligible)" = false ] ||
		fail "$s drained but still eligible"
done
# Both downloads were under way when the drains took effect.
for d in "$DL1 c1" "$DL2 c2"; do
	set -- $d
	under_way $1 $2 ||
		fail "$2's download not under way once $A and $B were drained: $(waiting $2) bytes wait"
	info "$2's download: $(waiting $2) bytes wait in its buffer once $A and $B were drained"
done
# Now read them: the downloads go on.
bg c1 cp "$T/fifo-c1" "$T/dl-c1"
CP1=$BG_PID
bg c2 cp "$T/fifo-c2" "$T/dl-c2"
CP2=$BG_PID
FREE=$(printf '%s\n' 2001:db8:5::1 2001:db8:5::2 2001:db8:5::3 | grep -v -x -e $A -e $B)
clients 12 drain
R_DRAIN=$COUNTS
[ "$(count s${FREE##*:})" -eq 12 ] ||
	fail "$A and $B drained: new sessions $COUNTS, want all 12 on $FREE"
for p in $DL1 $DL2 $CP1 $CP2; do
	i=0
	while alive $p && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	alive $p && fail "download still running after 30 s"
	wait $p || fail "a download through a drained server failed: $(cat "$DL1_LOG" "$DL2_LOG")"
done
# They went on on the drained servers: lb kept forwarding the clients'
# packets to A and B, which sent the rest of the downloads (all but the
# bytes the client's 256 KB buffer took while nobody read the FIFO: 1 MB
# at least).
set -- $(t24_count lb up1 packets) $(t24_count s${A##*:} down1 bytes) \
    $(t24_count lb up2 packets) $(t24_count lb down2 bytes)
info "after the drain: c1 -> $A $1 packets, $A -> c1 $2 bytes; c2 -> $B $3 packets, $B -> c2 $4 bytes"
[ "$1" -gt 0 ] && [ "$3" -gt 0 ] ||
	fail "after the drain lb forwarded $1 and $3 packets of the downloads to drained $A and $B"
[ "$2" -ge 1000000 ] && [ "$4" -ge 1000000 ] ||
	fail "after the drain drained $A and $B sent $2 and $4 bytes of the downloads, want >= 1000000 each"
cmp -s "$T/big" "$T/dl-c1" || fail "lbsp client's download through drained $A: content differs"
cmp -s "$T/big" "$T/dl-c2" || fail "legacy client's download through drained $B: content differs"
for s in $A $B; do
	lbspctl lb enable $VIP $s >/dev/null || fail "lbspctl enable $s"
	[ "$(lb_server_field $s drain)" = false ] || fail "$s still draining after enable"
done
clients 12 enabled
for s in $A $B; do
	[ "$(count s${s##*:})" -ge 3 ] ||
		fail "$s enabled again but took $(count s${s##*:}) of 12 new sessions ($COUNTS)"
done

# ---- 3. backup mapping
cat >"$T/lb-backup.conf" <<CONF
role balancer
queue 0
vip $VIP {
	ports 80
	scheduler rr
	server 2001:db8:5::1
	server 2001:db8:5::2 backup 2001:db8:5::3
}
CONF
lb_restart "$T/lb-backup.conf"
clients 12 primary
R_PRIMARY=$COUNTS
[ "$(count s1)" -eq 6 ] && [ "$(count s2)" -eq 6 ] && [ "$(count s3)" -eq 0 ] ||
	fail "backup s3 idle: new sessions $COUNTS, want s1 6 s2 6"
lbspctl lb drain $VIP 2001:db8:5::2 >/dev/null || fail "lbspctl drain s2"
stats_json lb "$T/b0.json"
clients 12 backup
R_BACKUP=$COUNTS
stats_json lb "$T/b1.json"
[ "$(count s1)" -eq 6 ] && [ "$(count s2)" -eq 0 ] && [ "$(count s3)" -eq 6 ] ||
	fail "s2 drained, backup s3: new sessions $COUNTS, want s1 6 s3 6"
n=$(($(lb_counter "$T/b1.json" to_backup) - $(lb_counter "$T/b0.json" to_backup)))
[ $n -eq 6 ] || fail "counters.to_backup grew by $n, want 6"

# ---- 4. a dead backup
cat >"$T/lb-deadbackup.conf" <<CONF
role balancer
queue 0
vip $VIP {
	ports 80
	scheduler rr
	server 2001:db8:5::1 backup 2001:db8:5::3
	server 2001:db8:5::2
	server 2001:db8:5::3
	check tcp port 80 interval ${INTERVAL_MS}ms timeout 300ms rise 2 fall $FALL
}
CONF
lb_restart "$T/lb-deadbackup.conf"
wait_for "all three servers up" 10 all_up
pid_stop $WWW_PID_3 2
wait_for "s3 down" 10 sh -c "[ \"\$(ip netns exec $(ns_real lb) $LBSPCTL -s $(lbsp_sock lb) servers --json | $PY -c 'import json,sys; print([s[\"state\"] for v in json.load(sys.stdin) for s in v[\"servers\"] if s[\"address\"] == \"2001:db8:5::3\"][0])')\" = down ]"
legacy_addrs $NEXT 12
clients 12 stuck
[ "$(count s3)" -eq 0 ] || fail "s3 down but took new sessions: $COUNTS"
# The clients of s1, by address, to ask again.
grep ' s1$' "$T/stuck" | cut -d' ' -f1 >"$T/stuck-s1"
[ "$(wc -l <"$T/stuck-s1")" -ge 3 ] || fail "too few clients on s1: $COUNTS"
lbspctl lb drain $VIP 2001:db8:5::1 >/dev/null || fail "lbspctl drain s1"
stats_json lb "$T/d0.json"
: >"$T/again"
while read -r a; do
	out=$(nsx c2 curl -gsS --max-time 5 --interface "$a" \
	    "http://[$VIP]/name" 2>&1) ||
		fail "client $a of drained s1 (dead backup s3): $out"
	echo "$a $out" >>"$T/again"
done <"$T/stuck-s1"
stats_json lb "$T/d1.json"
COUNTS=$(tally "$T/again")
R_DEAD=$COUNTS
[ "$(count s1)" -eq 0 ] && [ "$(count s3)" -eq 0 ] ||
	fail "s1 drained, its backup s3 down: its clients went to $COUNTS, want all on s2"
n=$(($(lb_counter "$T/d1.json" to_backup) - $(lb_counter "$T/d0.json" to_backup)))
[ $n -eq 0 ] || fail "counters.to_backup grew by $n with the backup down, want 0"

pass "s2 down in ${ms} ms, then $R_DOWN; drained $A $B: $R_DRAIN, downloads intact; backup: $R_PRIMARY, s2 drained: $R_BACKUP; s1 drained, backup s3 dead: $R_DEAD"
