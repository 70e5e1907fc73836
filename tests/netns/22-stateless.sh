#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 22-stateless.sh -- stateless persistence: the balancer restarts (its
# flows and stick table lost) in the middle of three LBSP sessions, one
# on each server; every session keeps its server and its transfer
# completes intact.
#
# The LBSP client c1 runs with "redirect off", so every packet of its
# sessions goes through the balancer (with redirect on they would go
# straight to the server and never meet the restarted balancer).  Three
# source addresses of c1 (three identities) each upload 2 MB, paced, to
# the vip; rr gives each its own server, where a sink checks the bytes.
# After the restart the balancer must decide by seg2 alone:
# counters.by_seg2 grows, counters.by_scheduler stays 0; on lb's link
# no packet of a session goes to another server than its own.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
topo_full
PORT=80
BYTES=6000000
RATE=3		# Mbit/s: 16 s per upload, longer than a restart
		# (self-test, rules) on a loaded machine

cat >"$T/lb.conf" <<CONF
role balancer
queue 0
vip $VIP {
	ports $PORT
	scheduler rr
	server 2001:db8:5::1
	server 2001:db8:5::2
	server 2001:db8:5::3
}
CONF
cat >"$T/client.conf" <<CONF
role client
queue 0
redirect off
vip $VIP {
	ports $PORT
	allow-servers 2001:db8:5::/64
}
CONF
lb_servers_lbspd
for i in 1 2 3; do
	tcp_sink s$i 2001:db8:5::$i $PORT "$T/sink-s$i"
done
lb_start "$T/lb.conf"
lbspd_start c1 "$T/client.conf"
SRCS="2001:db8:1::11 2001:db8:1::12 2001:db8:1::13"
for a in $SRCS; do
	nsx c1 ip -6 addr add $a/64 dev eth0 nodad || fail "address $a on c1"
done
capture lb eth0 "$T/lb.pcap"

# Three paced uploads from three sources (identities), in the
# background; each prints "SRC BYTES SHA256" when done.
for a in $SRCS; do
	bg c1 timeout 60 "$PY" -c '
import hashlib, os, socket, sys, time
src, vip, port, total, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]) * 1e6 / 8
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.settimeout(30)
s.bind((src, 0))
s.connect((vip, port))
block = os.urandom(1 << 14)
h, sent, t0 = hashlib.sha256(), 0, time.monotonic()
while sent < total:
    b = block[: min(len(block), total - sent)]
    s.sendall(b)
    h.update(b)
    sent += len(b)
    ahead = sent / rate - (time.monotonic() - t0)
    if ahead > 0:
        time.sleep(ahead)
s.shutdown(socket.SHUT_WR)
s.recv(1)
print(src, sent, h.hexdigest(), flush=True)
' $a $VIP $PORT $BYTES $RATE
	echo "$BG_PID $BG_LOG" >>"$T/uploads"
done

# Wait until all three sessions are established on their servers, then
# restart the balancer while they are sending.
est() {
	n=0
	for i in 1 2 3; do
		n=$((n + $(nsx s$i ss -tnH state established "sport = :$PORT" | grep -c .)))
	done
	[ $n -ge 3 ]
}
wait_for "three sessions established" 10 est
# ... and are past their start: 256 kB of each upload at its server.
flowing() {
	for i in 1 2 3; do
		nsx s$i ss -tnHi state established "sport = :$PORT" | awk '
		    { for (f = 1; f <= NF; f++) if ($f ~ /^bytes_received:/ &&
			substr($f, 16) + 0 >= 262144) ok = 1 }
		    END { exit !ok }' || return 1
	done
}
wait_for "256 kB of each upload at its server" 10 flowing
stats_json lb "$T/stats-old.json"
lb_restart "$T/lb.conf"
while read -r pid log; do
	alive $pid || fail "upload $(basename $log) over before the balancer restarted: $(cat $log)"
done <"$T/uploads"
info "balancer restarted, the three uploads still running"

while read -r pid log; do
	i=0
	while alive $pid && [ $i -lt 400 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	alive $pid && fail "upload $(basename $log) still running after 40 s"
done <"$T/uploads"
stats_json lb "$T/stats-new.json"
capture_stop

# Each upload ended and each server's sink got one of them, whole.
cat $(awk '{ print $2 }' "$T/uploads") >"$T/sent"
[ "$(grep -c . "$T/sent")" -eq 3 ] || {
	cat "$T/sent" $(awk '{ print $2 }' "$T/uploads")
	fail "not all three uploads completed"
}
for i in 1 2 3; do
	wait_for "sink of s$i" 10 test -s "$T/sink-s$i"
	set -- $(cat "$T/sink-s$i")
	grep -q " $1 $2\$" "$T/sent" || fail "s$i received $1 bytes, sha256 $2: not one of the uploads ($(tr '\n' ';' <"$T/sent"))"
	src=$(grep " $1 $2\$" "$T/sent" | cut -d' ' -f1)
	info "s$i: $1 bytes from $src, intact"
	echo "$src 2001:db8:5::$i" >>"$T/owner"
done

# The balancer after the restart: by seg2 only, nothing scheduled anew.
n=$(lb_counter "$T/stats-new.json" by_seg2)
[ "$n" -gt 0 ] || fail "after the restart: counters.by_seg2 = 0"
n=$(lb_counter "$T/stats-new.json" by_scheduler)
[ "$n" -eq 0 ] || fail "after the restart: $n sessions scheduled anew (by_scheduler)"
n=$(lb_counter "$T/stats-new.json" seg2_rejected)
[ "$n" -eq 0 ] || fail "after the restart: counters.seg2_rejected = $n"

# The wire at lb: every packet of a source went to its own server only
# (lb rewrites the destination: the forwarded copies are the ones to
# 2001:db8:5::/64).
lbsp_packets "$T/lb.pcap" "tcp.port == $PORT && ipv6.dst == 2001:db8:5::/64" |
    awk '{ print $1, $2 }' | sort | uniq -c >"$T/wire"
info "lb's link: $(tr -s ' \n' ' ' <"$T/wire")"
bad=$(awk 'NR == FNR { own[$1] = $2; next } own[$2] != $3' "$T/owner" "$T/wire")
[ -z "$bad" ] || fail "packets sent to another server than the session's: $bad"
n=$(awk '{ s += $1 } END { print s + 0 }' "$T/wire")
[ "$n" -gt 300 ] || fail "only $n session packets forwarded by lb"

pass "3 sessions of $BYTES bytes each kept their server across a balancer restart ($(lb_counter "$T/stats-new.json" by_seg2) packets by seg2 after it)"
