#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 61-metrics-hostile.sh -- a slow or hostile client of the metrics
# endpoint costs lbspd bounded memory and no packets.
#
# A server host runs lbspd (server role, metrics-listen on its address)
# and an HTTP server; a client host runs lbspd (client role) and, from
# 17 addresses, the attacker (python3 raw sockets):
#   1. slowloris from one address: 200 connections sending a header
#      line every second, never ending the request, for 8 s;
#   2. slowloris from 16 addresses at once: 800 connections, 8 s
#      (more than the server's 32 connection slots);
#   3. 10,000 connections in rounds of 500 from the 16 addresses, each
#      sending junk (random bytes, a 16 KB header, unknown methods and
#      paths, nothing) and closing;
# while curl fetches a 3 MB file through both daemons (client role ->
# server role), slowed to last through the attack.
# Asserts:
# - during 1, a scrape from another address (the server's own) is
#   answered: one address gets 4 connections, not all 32;
# - after the attack lbspd's resident memory grew by less than
#   RSS_BOUND_KB (16 MiB; 10,000 connections of 8 KiB kept would be
#   80 MB, and 800 slowloris connections held with libmicrohttpd's
#   default 32 KiB each 25 MB), and it answers lbspctl and scrapes;
# - the transfer completed intact and both daemons counted its packets;
# - junk is counted: connections, unanswered (refused or timed out
#   requests); then, on a quiet endpoint, exactly 3 more 404s and 2 more
#   405s for 3 unknown paths and 2 unknown methods (plus at most one per
#   late connection of the attack counted meanwhile), and 2 more
#   unanswered for a garbage request line and a 16 KB header.
# How it fails: remove MHD_OPTION_CONNECTION_LIMIT / PER_IP / the
# memory limit in metrics.c (memory or the scrape of 1), or stop
# counting in metrics_answer / metrics_conn.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
command -v curl >/dev/null || fail "curl not installed"
topo_pair
MPORT=9750
RSS_BOUND_KB=16384

# 16 more client addresses for the attacker.
ATTACK=
for i in 1 2 3 4 5 6 7 8 9 a b c d e f 10; do
	a=2001:db8:1::1:$i
	nsx C ip -6 addr add $a/64 dev $C_IF nodad || fail "address $a"
	ATTACK="$ATTACK${ATTACK:+,}$a"
done

cat >"$T/client.conf" <<EOF
role client
rules install
vip $S_ADDR {
	ports 80
}
EOF
cat >"$T/server.conf" <<EOF
role server
rules install
metrics-listen $S_ADDR $MPORT
EOF
mkdir "$T/www"
head -c 3000000 /dev/urandom >"$T/www/big"
http_server S $S_ADDR 80 "$T/www"
# ASan keeps freed memory in a quarantine (256 MB by default), which
# would read as growth here: a small one for this daemon.
ASAN_OPTIONS_SAVED=${ASAN_OPTIONS-}
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"
lbspd_start S "$T/server.conf"
export ASAN_OPTIONS="$ASAN_OPTIONS_SAVED"
SPID=$LBSPD_PID
lbspd_start C "$T/client.conf"
wait_listen S tcp $S_ADDR $MPORT
murl="http://[$S_ADDR]:$MPORT/metrics"

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$SPID/status"; }
scrape() { nsx "$1" curl -gsS --max-time 5 -o "$T/scrape.txt" "$murl" &&
    grep -q '^lbsp_packets_total ' "$T/scrape.txt"; }
mstat() { stats_json S "$T/ms.json"; json_get "$T/ms.json" "j['metrics']['$1']"; }

# Warm up (first allocations of libmicrohttpd and of the page).
for i in 1 2 3 4 5; do scrape S || fail "warm-up scrape $i"; done
rss0=$(rss)
info "lbspd RSS before: $rss0 kB"

cat >"$T/attack.py" <<'EOF'
# attack.py MODE TARGET PORT SOURCES COUNT SECONDS
#   slow:  COUNT connections, a header line each second, SECONDS long;
#          prints how many the server still held at the end.
#   junk:  COUNT connections in rounds of 500, junk sent, closed.
import os, resource, selectors, socket, sys, time
mode, target, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
sources, count, secs = sys.argv[4].split(","), int(sys.argv[5]), float(sys.argv[6])
resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))

def connect(i):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.bind((sources[i % len(sources)], 0))
    s.setblocking(False)
    try:
        s.connect((target, port))
    except BlockingIOError:
        pass
    return s

def writable(socks, timeout):
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_WRITE)
    ready, end = set(), time.monotonic() + timeout
    while len(ready) < len(socks) and time.monotonic() < end:
        for k, _ in sel.select(0.2):
            ready.add(k.fileobj)
            sel.unregister(k.fileobj)
    sel.close()
    return [s for s in socks if s in ready and s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0]

def send(s, data):
    try:
        s.send(data)
        return True
    except OSError:
        return False

if mode == "slow":
    socks = writable([connect(i) for i in range(count)], 5)
    alive = [s for s in socks if send(s, b"GET /metrics HTTP/1.1\r\nHost: lbsp\r\n")]
    end = time.monotonic() + secs
    n = 0
    while time.monotonic() < end:
        time.sleep(1)
        n += 1
        alive = [s for s in alive if send(s, b"X-Slow-%d: x\r\n" % n)]
    # Held: the server has not closed them (a read would see EOF).
    held = 0
    for s in alive:
        try:
            held += s.recv(1, socket.MSG_PEEK) != b""
        except BlockingIOError:
            held += 1
        except OSError:
            pass
    print("connected %d held %d" % (len(socks), held))
else:
    junk = [os.urandom(300), b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 16384 + b"\r\n\r\n",
            b"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n", b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n",
            b"\x00\x01\x02\r\n\r\n", b"GET /metrics HTTP/9.9\r\n\r\n", b""]
    done = connected = 0
    while done < count:
        n = min(500, count - done)
        socks = [connect(done + i) for i in range(n)]
        ok = writable(socks, 3)
        for i, s in enumerate(ok):
            send(s, junk[(done + i) % len(junk)])
        connected += len(ok)
        for s in socks:
            s.close()
        done += n
    print("attempted %d connected %d" % (done, connected))
EOF

# The transfer, slowed to last through the attack (3 MB at 150 KB/s).
nsx C curl -gsS --max-time 120 --limit-rate 150k -o "$T/big.got" \
    "http://[$S_ADDR]/big" >"$T/curl.log" 2>&1 &
CURL_PID=$!
LIB_PIDS="$LIB_PIDS $CURL_PID"

# held [ADDR] - connections to the metrics port that lbspd holds (has
# accepted: they have a descriptor), from ADDR or from anyone.  Those
# still in the listen backlog cost the kernel, not lbspd.
held()
{
	nsx S ss -tnpH state established "( sport = :$MPORT )" 2>/dev/null |
	    grep "users:((\"lbspd\"" | grep -c "${1:-.}"
}

# 1. slowloris from one address; a scrape from another still works.
nsx C "$PY" "$T/attack.py" slow $S_ADDR $MPORT $C_ADDR 200 8 >"$T/slow1.out" 2>&1 &
A1=$!
LIB_PIDS="$LIB_PIDS $A1"
# A sample in the middle of the attack (it holds its connections 8 s):
# time for all of them to be offered to lbspd, which could show taking
# more than its limit.  No condition tells "lbspd is done accepting".
sleep 3
h1=$(held "\[$C_ADDR\]:")
scrape S || { dump "$T/slow1.out"; fail "scrape from another address during a one-address slowloris"; }
wait $A1 || { dump "$T/slow1.out"; fail "attack 1 failed"; }
info "slowloris 1 (one address): $(cat "$T/slow1.out"); lbspd held $h1"
[ "$h1" -ge 1 ] && [ "$h1" -le 4 ] ||
	fail "lbspd held $h1 connections of one address (limit 4)"

# 2. slowloris from 16 addresses, more than all the slots.
nsx C "$PY" "$T/attack.py" slow $S_ADDR $MPORT "$ATTACK" 800 8 >"$T/slow2.out" 2>&1 &
A2=$!
LIB_PIDS="$LIB_PIDS $A2"
sleep 4		# mid-attack sample, as above
h2=$(held)
rss1=$(rss)
lbspctl S stats >/dev/null || fail "lbspctl during the attack"
wait $A2 || { dump "$T/slow2.out"; fail "attack 2 failed"; }
info "slowloris 2 (16 addresses): $(cat "$T/slow2.out"); lbspd held $h2"
[ "$h2" -ge 5 ] && [ "$h2" -le 32 ] ||
	fail "lbspd held $h2 connections (limit 32)"

# 3. 10,000 junk connections.
nsx C "$PY" "$T/attack.py" junk $S_ADDR $MPORT "$ATTACK" 10000 0 >"$T/junk.out" 2>&1 ||
	{ dump "$T/junk.out"; fail "attack 3 failed"; }
info "junk: $(cat "$T/junk.out")"
rss2=$(rss)
info "lbspd RSS: before $rss0 kB, after slowloris $rss1 kB, after junk $rss2 kB"
for r in $rss1 $rss2; do
	[ $((r - rss0)) -lt $RSS_BOUND_KB ] ||
		fail "lbspd RSS grew by $((r - rss0)) kB (bound $RSS_BOUND_KB kB)"
done

# The daemon is whole: lbspctl, the transfer, scrapes again.
lbspctl S stats >/dev/null || fail "lbspctl after the attack"
wait $CURL_PID || { dump "$T/curl.log"; fail "the transfer through lbspd failed"; }
cmp -s "$T/www/big" "$T/big.got" || fail "the transfer arrived damaged"
# The client role sees every packet of the flow; the server role queues
# its answers whole (GSO), so it counts far fewer, however many.
for nsmin in C:500 S:10; do
	ns=${nsmin%:*}
	stats_json $ns "$T/$ns.json"
	n=$(json_get "$T/$ns.json" "j['counters']['packets']")
	[ "$n" -ge "${nsmin#*:}" ] ||
		fail "lbspd in $ns counted only $n packets (want ${nsmin#*:})"
done
wait_for "a scrape after the attack (slots freed by the 5 s timeout)" 20 scrape C

conns=$(mstat connections)
unans=$(mstat unanswered)
info "counted: $conns connections, $unans unanswered"
[ "$conns" -gt 100 ] || fail "only $conns connections counted"
[ "$unans" -gt 50 ] || fail "only $unans unanswered connections counted"

# Exact counts on a quiet endpoint.  Junk connections the kernel
# accepted during the attack may still wait in the listen backlog; the
# daemon answers them (some with a 404) after the attack ended, so wait
# until the backlog is empty, lbspd holds nothing and the connection
# count stands still.
quiet()
{
	local q a b
	q=$(nsx S ss -ltnH "( sport = :$MPORT )" | awk 'NR == 1 {print $2}')
	[ "${q:-1}" -eq 0 ] && [ "$(held)" -eq 0 ] || return 1
	a=$(mstat connections)
	sleep 0.5
	b=$(mstat connections)
	[ "$a" = "$b" ]
}
wait_for "the metrics endpoint quiet (backlog drained)" 60 quiet
nf0=$(mstat not_found)
bm0=$(mstat bad_method)
un0=$(mstat unanswered)
cn0=$(mstat connections)
for p in nope metrics/ favicon.ico; do
	code=$(nsx C curl -gs -o /dev/null -w '%{http_code}' "http://[$S_ADDR]:$MPORT/$p")
	[ "$code" = 404 ] || fail "GET /$p: HTTP $code, want 404"
done
for m in DELETE PUT; do
	code=$(nsx C curl -gs -o /dev/null -w '%{http_code}' -X $m "$murl")
	[ "$code" = 405 ] || fail "$m /metrics: HTTP $code, want 405"
done
nsx C "$PY" - $S_ADDR $MPORT <<'EOF' || fail "garbage requests"
import socket, sys
for req in (b"\x01\x02\x03 garbage\r\n\r\n",
            b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 16384 + b"\r\n\r\n"):
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
    # The server may answer and close (even reset) before all is sent.
    try:
        s.sendall(req)
        s.shutdown(socket.SHUT_WR)
        while s.recv(4096):
            pass
    except OSError:
        pass
    s.close()
EOF
unanswered_ge() { [ "$(mstat unanswered)" -ge "$1" ]; }
wait_for "the 2 garbage connections counted" 10 unanswered_ge $((un0 + 2))
nf1=$(mstat not_found)
bm1=$(mstat bad_method)
# Ours are 7 connections (3 + 2 + 2).  A junk connection of the attack
# that the kernel still held may land in this window (seen once in CI:
# one 404 more); each such connection can add one answer, no more.
extra=$(($(mstat connections) - cn0 - 7))
[ "$extra" -ge 0 ] || extra=0
[ "$extra" -eq 0 ] || info "$extra late connection(s) of the attack during the exact counts"
[ $((nf1 - nf0)) -ge 3 ] && [ $((nf1 - nf0)) -le $((3 + extra)) ] ||
	fail "404s counted: $((nf1 - nf0)), want 3 (+ at most $extra late ones)"
[ $((bm1 - bm0)) -ge 2 ] && [ $((bm1 - bm0)) -le $((2 + extra)) ] ||
	fail "405s counted: $((bm1 - bm0)), want 2 (+ at most $extra late ones)"

pass "metrics under attack: RSS +$((rss2 - rss0)) kB, scrape from elsewhere served, transfer intact, junk counted"
