#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 34-shim-passthrough.sh -- a program that talks to no vip behaves
# byte-for-byte as without the shim, and the server shim leaves
# connections that came without the option alone.
#
# Runs each program twice on C, without and with liblbsp-client.so (its
# only vip, 2001:db8:f::100, is not used), and compares their output
# byte for byte:
# - curl fetching a 200 KB file from S over IPv6;
# - socat exchanging a UDP datagram with S;
# - a python3 probe that connects TCP and UDP sockets (IPv6 to S, IPv4
#   on the loopback), sends with sendto / sendmsg / sendmmsg-free paths,
#   and prints what the sockets show: getpeername, SO_ERROR,
#   IPV6_RECVDSTOPTS, IPV6_DSTOPTS, IPV6_2292PKTOPTIONS, TCP_MAXSEG.
# The wire (captured at S) shows no Destination Options header at all.
# The probe is sensitive: run against the vip (a second configuration
# that makes S the vip) its output must differ -- that is how this test
# fails when the shim touches what it should not.
# Also: curl without the shim to python3 http.server under the server
# shim -- the server's packets carry no option.
. "$(dirname "$0")/lib.sh"

need_root
command -v curl >/dev/null || fail "curl not installed"
command -v socat >/dev/null || fail "socat not installed"

need_shims

topo_pair
cat >"$T/other.conf" <<EOF
role client
vip 2001:db8:f::100 {
	ports 80 5000 7000
	allow-servers 2001:db8:1::/64
}
EOF
cat >"$T/s-is-vip.conf" <<EOF
role client
vip $S_ADDR {
	ports 80 5000 7000
	allow-servers 2001:db8:1::/64
}
EOF
printf 'role server\n' >"$T/server.conf"

mkdir "$T/www"
head -c 200000 /dev/urandom >"$T/www/big"
http_server S $S_ADDR 80 "$T/www"
bg S env LD_PRELOAD="$SHIM_SERVER" LBSP_CONF="$T/server.conf" \
    "$PY" -m http.server 81 --bind $S_ADDR --directory "$T/www"
wait_listen S tcp $S_ADDR 81
udp_echo S $S_ADDR 5000
bg S "$PY" -c '
import socket
l = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("'$S_ADDR'", 7000))
l.listen(8)
while True:
    c, _ = l.accept()
    c.sendall(b"hello\n")
    c.close()
'
wait_listen S tcp $S_ADDR 7000

cat >"$T/probe.py" <<'EOF'
import socket, struct, sys
S = sys.argv[1]
IPV6_RECVDSTOPTS, IPV6_DSTOPTS, IPV6_2292PKTOPTIONS = 58, 59, 6
def show(tag, s, v6=True):
    out = [tag]
    try:
        p = s.getpeername()
        out.append("peer=%s" % (p[0],))
    except OSError as e:
        out.append("peer=err%d" % e.errno)
    out.append("err=%d" % s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
    if v6:
        out.append("recvdst=%d" % s.getsockopt(socket.IPPROTO_IPV6, IPV6_RECVDSTOPTS))
        for name, opt in (("dst", IPV6_DSTOPTS), ("pkt", IPV6_2292PKTOPTIONS)):
            try:
                out.append("%s=%s" % (name, s.getsockopt(socket.IPPROTO_IPV6, opt, 256).hex()))
            except OSError as e:
                out.append("%s=err%d" % (name, e.errno))
    if s.type == socket.SOCK_STREAM:
        out.append("maxseg=%d" % s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG))
    print(" ".join(out))
t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
t.connect((S, 7000))
print("tcp got", t.recv(100))
show("tcp6", t)
t.close()
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.sendto(b"one", (S, 5000))
print("udp got", u.recvfrom(100)[0])
u.sendmsg([b"two"], [], 0, (S, 5000))
print("udp got", u.recvfrom(100)[0])
show("udp6-unconnected", u)
u.connect((S, 5000))
u.send(b"three")
print("udp got", u.recv(100))
show("udp6-connected", u)
u.close()
v4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
v4.bind(("127.0.0.1", 0))
v4.connect(v4.getsockname())
v4.send(b"four")
print("udp4 got", v4.recv(100))
show("udp4", v4, v6=False)
EOF

# run TAG CONF|none CMD... - CMD on C (with the shim unless none);
# stdout to $T/TAG.out, exit code appended.
run()
{
	local tag=$1 conf=$2
	shift 2
	if [ "$conf" = none ]; then
		nsx C "$@" >"$T/$tag.out" 2>"$T/$tag.err"
	else
		nsx C env LD_PRELOAD="$SHIM_CLIENT" LBSP_CONF="$conf" "$@" \
		    >"$T/$tag.out" 2>"$T/$tag.err"
	fi
	echo "exit $?" >>"$T/$tag.out"
}
# same A B - the two runs' outputs are equal byte for byte.
same()
{
	cmp -s "$T/$1.out" "$T/$2.out" ||
		{ diff "$T/$1.out" "$T/$2.out" | head -20; fail "$1 and $2 differ"; }
}

capture S $S_IF "$T/wire.pcap"
for conf in none "$T/other.conf"; do
	tag=plain
	[ "$conf" = none ] || tag=shim
	run curl-$tag "$conf" curl -gsS --max-time 10 "http://[$S_ADDR]/big"
	run udp-$tag "$conf" sh -c "echo hello | socat -T 2 - UDP6-SENDTO:[$S_ADDR]:5000"
	run probe-$tag "$conf" "$PY" "$T/probe.py" $S_ADDR
done
# Legacy client to the server shim.
run legacy none curl -gsS --max-time 10 "http://[$S_ADDR]:81/big"
capture_quiet
capture_stop

same curl-plain curl-shim
cmp -s "$T/www/big" "$T/curl-plain.out" 2>/dev/null ||
	head -c 200000 "$T/curl-plain.out" | cmp -s - "$T/www/big" ||
	fail "curl did not fetch the file"
same udp-plain udp-shim
grep -q hello "$T/udp-plain.out" || fail "no UDP echo"
same probe-plain probe-shim
grep -q "udp4 got b'four'" "$T/probe-plain.out" || { cat "$T/probe-plain.out"; fail "probe incomplete"; }
[ -s "$T/curl-shim.err" ] && { dump "$T/curl-shim.err"; fail "the shim wrote to stderr"; }
head -c 200000 "$T/legacy.out" | cmp -s - "$T/www/big" || fail "legacy curl to the server shim failed"

lbsp_packets "$T/wire.pcap" >"$T/all.txt"
[ "$(wc -l <"$T/all.txt")" -gt 100 ] || fail "too few packets captured"
n=$(tshark -r "$T/wire.pcap" -Y ipv6.dstopts 2>/dev/null | wc -l)
[ "$n" -eq 0 ] || fail "$n packets with a Destination Options header"

# The probe notices a shim at work: S as the vip changes its output.
run probe-vip "$T/s-is-vip.conf" "$PY" "$T/probe.py" $S_ADDR
if cmp -s "$T/probe-plain.out" "$T/probe-vip.out"; then
	fail "the probe cannot see the shim even on a vip: it proves nothing"
fi
diff "$T/probe-plain.out" "$T/probe-vip.out" | sed -n 's/^[<>]/#   &/p' | head -6

pass "no vip: curl, socat and the probe are byte-for-byte the same under the shim; legacy clients untouched"
