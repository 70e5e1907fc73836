#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 53-two-vips-one-port.sh -- two connections from ONE local port to two
# vips at once (Linux picks ephemeral ports per destination; a NAT66
# proxy has such pairs all the time) are two flows, on the client.
#
# On topo_megaproxy, the vips $VIP and $VIP2 are served by s1 s2 s3,
# each host with one address per vip: 2001:db8:5::N for $VIP,
# 2001:db8:6::N for $VIP2 (lbsp.7: one address per vip), the client's
# allow-servers saying which is which.  c3 (lbspd role client) downloads
# /big from both vips at the same time, both from local port 40053
# (SO_REUSEADDR):
#   1. both downloads complete with the right bytes (sha256);
#   2. every packet between c3 and the servers, both ways, carries the
#      option with seg1 = c3 and the right seg2 (tshark on c3's link).
# Keyed without the remote, the second connection's row took the
# first's place and one of the two downloads stalled, every time.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
topo_megaproxy
MB=8
LPORT=40053

# The second address of each server, for $VIP2.
nsx r ip -6 addr add 2001:db8:6::ff/64 dev brs nodad ||
	fail "2001:db8:6::ff on r"
for i in 1 2 3; do
	nsx s$i ip -6 addr add 2001:db8:6::$i/64 dev eth0 nodad ||
		fail "2001:db8:6::$i on s$i"
done
sp_www $MB 80
for i in 1 2 3; do
	http_server s$i 2001:db8:6::$i 80 "$T/w$i"
done

printf 'role balancer\nqueue 0\n' >"$T/lb.conf"
for v in "$VIP 5" "$VIP2 6"; do
	set -- $v
	cat >>"$T/lb.conf" <<-CONF
	vip $1 {
		ports 80
		scheduler rr
		server 2001:db8:$2::1
		server 2001:db8:$2::2
		server 2001:db8:$2::3
	}
	CONF
done
printf 'role client\nqueue 0\n' >"$T/c.conf"
for v in "$VIP 5" "$VIP2 6"; do
	set -- $v
	cat >>"$T/c.conf" <<-CONF
	vip $1 {
		ports 80
		allow-servers 2001:db8:$2::/64
	}
	CONF
done
sp_daemons "$T/lb.conf" "$T/c.conf" c3

capture c3 eth0 "$T/c3.pcap"

# fetch NAME VIP - GET /big from VIP out of local port $LPORT (bound
# with SO_REUSEADDR, as curl --local-port does not), in the background,
# the body into $T/dl-NAME; its status goes to $T/NAME.rc.
fetch()
{
	( nsx c3 "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.settimeout(60)
s.bind((sys.argv[1], int(sys.argv[2])))
s.connect((sys.argv[3], 80))
s.sendall(b"GET /big HTTP/1.0\r\nHost: vip\r\n\r\n")
data = bytearray()
while True:
    b = s.recv(1 << 16)
    if not b:
        break
    data += b
head, _, body = bytes(data).partition(b"\r\n\r\n")
if not head.startswith(b"HTTP/1.0 200"):
    sys.exit("answer: %r" % head[:80])
open(sys.argv[4], "wb").write(body)
' $C3_ADDR $LPORT "$2" "$T/dl-$1" >"$T/$1.err" 2>&1
	  echo $? >"$T/$1.rc" ) &
	LIB_PIDS="$LIB_PIDS $!"
}
fetch one "$VIP"
fetch two "$VIP2"
try_for 70 test -s "$T/one.rc" -a -s "$T/two.rc" ||
	fail "the downloads did not end in 70 s"
for n in one two; do
	rc=$(cat "$T/$n.rc")
	[ "$rc" -eq 0 ] || { dump "$T/$n.err" "$(lbspd_log c3)"
		fail "download $n from port $LPORT: status $rc ($(cat "$T/$n.err"))"; }
	[ "$(sha256sum <"$T/dl-$n" | cut -d' ' -f1)" = "$SP_BIG_SHA" ] ||
		fail "download $n: bytes differ"
done

# Both connections used the one port, at once: each to its own vip's
# address of one server.
capture_quiet
capture_stop
lbsp_packets "$T/c3.pcap" "tcp.port == $LPORT" >"$T/c3.txt"
S_ONE=$(awk -v c=$C3_ADDR '$2 == c && $1 ~ /^2001:db8:5::/ { print $1; exit }' "$T/c3.txt")
S_TWO=$(awk -v c=$C3_ADDR '$2 == c && $1 ~ /^2001:db8:6::/ { print $1; exit }' "$T/c3.txt")
[ -n "$S_ONE" ] && [ -n "$S_TWO" ] ||
	fail "no answer from a server of each vip to port $LPORT (got '$S_ONE' '$S_TWO')"
grep -v "^$S_ONE \|^$S_TWO \| $S_ONE \| $S_TWO " "$T/c3.txt" |
    awk '$1 !~ /^2001:db8:f::/ && $2 !~ /^2001:db8:f::/' | head -3 |
    grep . && fail "packets of port $LPORT with another peer"
grep " $S_ONE \|^$S_ONE " "$T/c3.txt" >"$T/one.txt"
grep " $S_TWO \|^$S_TWO " "$T/c3.txt" >"$T/two.txt"
lbsp_verify "$T/one.txt" $C3_ADDR $C3_ADDR "$S_ONE"
N_ONE="$VERIFY_CS/$VERIFY_SC"
lbsp_verify "$T/two.txt" $C3_ADDR $C3_ADDR "$S_TWO"
N_TWO="$VERIFY_CS/$VERIFY_SC"

pass "two $MB MB downloads from port $LPORT at once: $VIP by $S_ONE ($N_ONE packets c3/server, all with the option), $VIP2 by $S_TWO ($N_TWO)"
