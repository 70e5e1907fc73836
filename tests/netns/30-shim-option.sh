#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 30-shim-option.sh -- the shims alone put the LBSP option on the wire:
# curl under liblbsp-client.so talks to python3 http.server under
# liblbsp-server.so, with no lbspd and no NFQUEUE rule on either host
# (the kernel inserts the option: IPV6_DSTOPTS, both run as root so
# they hold CAP_NET_RAW).  A socat UDP client under the client shim
# sends datagrams to the vip.
#
# Asserts, on a capture of the link at the server:
# - every TCP packet of the HTTP flows carries exactly one LBSP option,
#   client packets seg1 = the client address and seg2 = ::, server
#   packets seg1 echoed and seg2 = the server address -- except the
#   server's SYN-ACK, which the kernel sends before accept() returns
#   (the server shim cannot reach it; lbsp-shim(8)); the exempt packets
#   are counted and must be exactly one SYN-ACK per connection;
# - no packet exceeds the 1500-byte MTU (the kernel counts the option
#   in the MSS) and a 1 MB download arrives intact;
# - every UDP datagram from the client to the vip carries the option;
# - a flow to a port that is not a vip port carries no option;
# - libsp's sp_peer_identity(), called by a server application (python3
#   through ctypes, under the server shim) on its accepted socket,
#   returns the identity the client sent (LBSP_IDENTITY=HEX), where
#   getpeername() gives only the client's address.
# How it fails: take connect() out of the client shim (no option on
# the client's packets), or the accept() wrapper out of the server shim
# (server packets without seg2), or make server.c fill seg2 with zero.
. "$(dirname "$0")/lib.sh"

need_root
command -v curl >/dev/null || fail "curl not installed"
command -v socat >/dev/null || fail "socat not installed"

need_shims
# preload LIB - the LD_PRELOAD value for LIB.
preload()
{
	echo "$1"
}

topo_pair
PORT=80
cat >"$T/client.conf" <<EOF
role client
vip $S_ADDR {
	ports $PORT 5000 9000
}
EOF
cat >"$T/server.conf" <<EOF
role server
EOF

mkdir "$T/www"
echo "S" >"$T/www/name"
head -c 1000000 /dev/urandom >"$T/www/big"
bg S env LD_PRELOAD="$(preload "$SHIM_SERVER")" LBSP_CONF="$T/server.conf" \
    "$PY" -m http.server $PORT --bind $S_ADDR --directory "$T/www"
wait_listen S tcp $S_ADDR $PORT
bg S env LD_PRELOAD="$(preload "$SHIM_SERVER")" LBSP_CONF="$T/server.conf" \
    "$PY" -m http.server 8080 --bind $S_ADDR --directory "$T/www"
wait_listen S tcp $S_ADDR 8080
bg S socat -T 30 "UDP6-RECVFROM:5000,bind=[$S_ADDR],fork" PIPE
wait_listen S udp $S_ADDR 5000
# An application asking libsp for its client's identity.
: "${LIBSP:=$top_builddir/libsp/.libs/libsp.so}"
[ -f "$LIBSP" ] || fail "libsp.so not found at $LIBSP"
bg S env LD_PRELOAD="$(preload "$SHIM_SERVER")" LBSP_CONF="$T/server.conf" \
    "$PY" -c '
import ctypes, ipaddress, socket, sys
sp = ctypes.CDLL(sys.argv[1], use_errno=True)
l = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
l.bind((sys.argv[2], 9000))
l.listen(4)
c, peer = l.accept()
buf = ctypes.create_string_buffer(16)
rc = sp.sp_peer_identity(c.fileno(), 0x1e, buf)
ans = ("identity %s peer %s\n" % (ipaddress.IPv6Address(buf.raw), peer[0])
       if rc == 0 else "error %d\n" % ctypes.get_errno())
c.sendall(ans.encode())
c.close()
' "$LIBSP" $S_ADDR
PEER_LOG=$BG_LOG
wait_listen S tcp $S_ADDR 9000

capture S $S_IF "$T/wire.pcap"

ccurl()
{
	nsx C env LD_PRELOAD="$(preload "$SHIM_CLIENT")" \
	    LBSP_CONF="$T/client.conf" curl -gsS --max-time 10 "$@"
}
out=$(ccurl "http://[$S_ADDR]:$PORT/name") || fail "curl /name failed"
[ "$out" = S ] || fail "curl /name answered '$out'"
ccurl -o "$T/big.out" "http://[$S_ADDR]:$PORT/big" || fail "curl /big failed"
cmp -s "$T/big.out" "$T/www/big" || fail "/big arrived damaged"
out=$(ccurl "http://[$S_ADDR]:8080/name") || fail "curl :8080 failed"
[ "$out" = S ] || fail "curl :8080 answered '$out'"
out=$(echo hello | nsx C env LD_PRELOAD="$(preload "$SHIM_CLIENT")" \
    LBSP_CONF="$T/client.conf" timeout 10 \
    socat -T 2 - "UDP6-SENDTO:[$S_ADDR]:5000") || fail "socat UDP failed"
[ "$out" = hello ] || fail "UDP echo answered '$out'"
out=$(nsx C env LD_PRELOAD="$(preload "$SHIM_CLIENT")" \
    LBSP_CONF="$T/client.conf" LBSP_IDENTITY=20010db800000000000000000000beef \
    socat -T 5 - "TCP6:[$S_ADDR]:9000" </dev/null) ||
	{ dump "$PEER_LOG"; fail "socat to the sp_peer_identity server failed"; }
info "sp_peer_identity() server: $out"
[ "$out" = "identity 2001:db8::beef peer $C_ADDR" ] ||
	{ dump "$PEER_LOG"; fail "sp_peer_identity() answered '$out'"; }
capture_quiet
capture_stop

lbsp_packets "$T/wire.pcap" >"$T/all.txt"
[ -s "$T/all.txt" ] || fail "nothing captured"

# TCP to the vip port.  Exempt, and counted, are the server packets the
# shim cannot reach (lbsp-shim(8), "Packets without the option"):
# - sent before accept() returned and the shim set the option: the
#   SYN-ACK, and pure ACKs before the connection's first server packet
#   with the option ("before-accept");
# - the ACK of the client's FIN when the server closed first: the kernel
#   sends it from the connection's TIME_WAIT socket, which has no
#   options ("time-wait").
# Anything else without the option fails.
awk -v p=$PORT '$3 == "tcp" && ($4 == p || $5 == p)' "$T/all.txt" >"$T/http.txt"
awk -v s=$S_ADDR '
    function pure_ack() { return $10 == "0x0010" && $9 <= 40 + 32 }
    $1 != s && $10 ~ /[13579bdf]$/ { fin[$4] = 1 }
    $1 == s && $6 == 0 && !seen[$5] && ($10 == "0x0012" || pure_ack()) {
	print "before-accept " $0 >"/dev/stderr"; next }
    $1 == s && $6 == 0 && fin[$5] && pure_ack() {
	print "time-wait " $0 >"/dev/stderr"; next }
    $1 == s && $6 > 0 { seen[$5] = 1 }
    { print }' "$T/http.txt" >"$T/checked.txt" 2>"$T/exempt.txt"
synacks=$(awk '$10 == "0x0012"' "$T/http.txt" | wc -l)
info "http packets: $(wc -l <"$T/http.txt"); exempt: $(wc -l <"$T/exempt.txt"):"
sed 's/^/#    /' "$T/exempt.txt"
[ "$synacks" -eq 2 ] || fail "expected 2 connections on :$PORT, saw $synacks SYN-ACKs"
n=$(grep -c '^before-accept .* 0x0010 ' "$T/exempt.txt")
[ "$n" -le 2 ] || fail "$n pure ACKs before the option: more than one a connection"
n=$(grep -c '^time-wait ' "$T/exempt.txt")
[ "$n" -le 2 ] || fail "$n time-wait ACKs: more than one a connection"
lbsp_verify "$T/checked.txt" $C_ADDR $C_ADDR $S_ADDR
info "with the option: $VERIFY_CS client packets, $VERIFY_SC server packets"
[ "$VERIFY_SC" -gt 500 ] || fail "only $VERIFY_SC server packets: /big not seen"
# Exactly the client-sent packets carry seg2 = :: (nothing learned yet).
n=$(awk -v c=$C_ADDR '$1 == c && $8 != "::"' "$T/checked.txt" | wc -l)
[ "$n" -eq 0 ] || fail "$n client packets with a non-zero seg2"

# UDP to the vip: the client's datagrams carry the option.
awk '$3 == "udp" && $5 == 5000' "$T/all.txt" >"$T/udp.txt"
[ -s "$T/udp.txt" ] || fail "no UDP datagram to the vip captured"
n=$(awk -v c=$C_ADDR '$6 != 1 || $7 != c || $8 != "::"' "$T/udp.txt" | wc -l)
[ "$n" -eq 0 ] || { cat "$T/udp.txt"; fail "$n UDP datagrams without the option"; }

# Not a vip port: nothing, either way.
n=$(awk '$3 == "tcp" && ($4 == 8080 || $5 == 8080)' "$T/all.txt" | wc -l)
[ "$n" -gt 0 ] || fail "no packet of the :8080 flow captured"
n=$(awk '($4 == 8080 || $5 == 8080) && $6 != 0' "$T/all.txt" | wc -l)
[ "$n" -eq 0 ] || fail "$n packets of a non-vip port carry the option"

pass "shims alone: option on every packet both ways (but the SYN-ACK), UDP too"
