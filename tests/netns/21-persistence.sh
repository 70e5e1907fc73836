#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 21-persistence.sh -- persistence by identity, with the round-robin
# scheduler (which would otherwise send each new session elsewhere):
# - the LBSP client c1 (lbspd, client role) reaches one server on ports
#   80, 443 and 21; again after its daemon restarts between the three
#   connections (its server cache lost: each SYN carries seg2 = ::, so
#   only the balancer's stick table by seg1 keeps them together:
#   counters.by_stick, a "seg1" stick entry); again after the
#   balancer reloads a changed file (its stick table kept);
# - the legacy client c2 (no lbspd), flow labels off, sticks by its
#   source address on 80, 443 and 21 ("src" stick entry), while a second
#   source address is scheduled elsewhere;
# - the legacy client with a fixed non-zero flow label (flow label
#   manager, checked on the wire) sticks by {source, label}: two labels
#   from one address land on two servers, each keeps its own on 80, 443
#   and 21 ("src-label" stick entries).
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
command -v curl >/dev/null || fail "curl not installed"
topo_full
PORTS="80 443 21"

cat >"$T/lb.conf" <<CONF
role balancer
queue 0
vip $VIP {
	ports $PORTS
	scheduler rr
	server 2001:db8:5::1
	server 2001:db8:5::2
	server 2001:db8:5::3
}
CONF
lb_www $PORTS
lb_servers_lbspd
lb_start "$T/lb.conf"
lb_client_lbspd $PORTS
capture lb eth0 "$T/lb.pcap"

# labelled_get SRC LABEL PORT - GET /name from c2's SRC to the vip with
# flow label LABEL (hex, via the flow label manager); prints the body.
labelled_get()
{
	local out
	out=$(nsx c2 timeout 10 "$PY" -c '
import socket, struct, sys
src, vip, label, port = sys.argv[1], sys.argv[2], int(sys.argv[3], 16), int(sys.argv[4])
IPV6_FLOWLABEL_MGR, IPV6_FLOWINFO_SEND = 32, 33
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.settimeout(5)
s.bind((src, 0))
# struct in6_flowlabel_req: dst, label (be32), action GET, share ANY(255),
# flags CREATE, expires, linger, pad.
req = socket.inet_pton(socket.AF_INET6, vip) + struct.pack("!I", label) + \
    struct.pack("=BBHHHI", 0, 255, 1, 0, 0, 0)
s.setsockopt(socket.IPPROTO_IPV6, IPV6_FLOWLABEL_MGR, req)
s.setsockopt(socket.IPPROTO_IPV6, IPV6_FLOWINFO_SEND, 1)
s.connect((vip, port, label, 0))
s.sendall(b"GET /name HTTP/1.0\r\nHost: vip\r\n\r\n")
data = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    data += b
print(data.split(b"\r\n\r\n", 1)[1].decode().strip())
' "$1" "$VIP" "$2" "$3" 2>&1) || fail "labelled GET from $1 label $2 port $3: $out"
	echo "$out"
}

# same_server WHAT FILE - every line of FILE names one server; sets SAME
# to it (not printed: fail must run in this shell, not a subshell).
same_server()
{
	local n
	n=$(sort -u "$2" | wc -l)
	[ "$n" -eq 1 ] || fail "$1: reached $(sort "$2" | uniq -c | tr '\n' ' ')"
	case $(cat "$2" | head -n 1) in
	s[123]) ;;
	*) fail "$1: answered '$(head -n 1 "$2")'" ;;
	esac
	SAME=$(head -n 1 "$2")
}

# ---- the LBSP client: one server for 80, 443, 21
: >"$T/c1-a"
for p in $PORTS $PORTS; do
	vip_get c1 - name $p >>"$T/c1-a"
done
same_server "lbsp client, ports $PORTS" "$T/c1-a"
S_C1=$SAME

# Again, its cache lost before each connection: the balancer's stick
# table by seg1 alone keeps it.
stats_json lb "$T/st0.json"
: >"$T/c1-b"
for p in $PORTS; do
	lbspd_stop c1
	mv "$T/lbspd-c1.log" "$T/lbspd-c1.log.$p"
	lbspd_start c1 "$T/client.conf"
	vip_get c1 - name $p >>"$T/c1-b"
done
same_server "lbsp client restarted before each port" "$T/c1-b"
S_C1B=$SAME
[ "$S_C1B" = "$S_C1" ] ||
	fail "lbsp client: $S_C1 first, $S_C1B once its cache was lost"
stats_json lb "$T/st1.json"
n=$(($(lb_counter "$T/st1.json" by_stick) - $(lb_counter "$T/st0.json" by_stick)))
[ $n -ge 3 ] || fail "lbsp client without cache: counters.by_stick grew by $n, want >= 3 (one per new connection)"
n=$(($(lb_counter "$T/st1.json" by_scheduler) - $(lb_counter "$T/st0.json" by_scheduler)))
[ $n -eq 0 ] || fail "lbsp client without cache: $n sessions scheduled anew"
st=$(lb_stick_server seg1 $C1_ADDR)
[ "$st" = "2001:db8:5::${S_C1#s}" ] ||
	fail "stick table: seg1 $C1_ADDR -> $st, the client reached $S_C1"

# ---- a reload of the balancer (another weight: a new state made from
# the new file) keeps its stick table: the client, its cache lost once
# more, is still taken to its server by seg1.
sed 's/server 2001:db8:5::3$/server 2001:db8:5::3 weight 2/' "$T/lb.conf" \
    >"$T/lb2.conf"
! cmp -s "$T/lb.conf" "$T/lb2.conf" || fail "lb2.conf: no weight changed"
lbspctl lb reload >/dev/null || fail "lbspctl reload in lb"
wait_for "lb reload logged" 10 grep -q "configuration reloaded" "$T/lbspd-lb.log"
lbspd_stop c1
mv "$T/lbspd-c1.log" "$T/lbspd-c1.log.reload"
lbspd_start c1 "$T/client.conf"
vip_get c1 - name 80 >"$T/c1-c"
same_server "lbsp client after the balancer's reload" "$T/c1-c"
[ "$SAME" = "$S_C1" ] ||
	fail "lbsp client: $S_C1 before the balancer's reload, $SAME after"
stats_json lb "$T/st2.json"
n=$(($(lb_counter "$T/st2.json" by_stick) - $(lb_counter "$T/st1.json" by_stick)))
[ $n -ge 1 ] || fail "after the balancer's reload: counters.by_stick grew by $n"
[ "$(json_get "$T/st2.json" "j['balancer']['servers_total']")" -eq 3 ] ||
	fail "after the balancer's reload: not 3 servers"

# ---- the legacy client by source (labels off)
flowlabels c2 off
legacy_addrs 0 1
: >"$T/c2-a"
for p in $PORTS $PORTS; do
	vip_get c2 $C2_ADDR name $p >>"$T/c2-a"
done
same_server "legacy client $C2_ADDR, ports $PORTS" "$T/c2-a"
S_C2=$SAME
st=$(lb_stick_server src $C2_ADDR)
[ "$st" = "2001:db8:5::${S_C2#s}" ] ||
	fail "stick table: src $C2_ADDR -> $st, the client reached $S_C2"
OTHER=$(legacy_addr 0)
: >"$T/c2-b"
for p in $PORTS; do
	vip_get c2 $OTHER name $p >>"$T/c2-b"
done
same_server "legacy client $OTHER" "$T/c2-b"
S_OTHER=$SAME
[ "$S_OTHER" != "$S_C2" ] ||
	fail "rr: the next new source $OTHER went to $S_C2 as well"

# ---- the legacy client by {source, flow label}
L1=12345
L2=abcde
: >"$T/l1"
: >"$T/l2"
for p in $PORTS $PORTS; do
	labelled_get $C2_ADDR $L1 $p >>"$T/l1"
	labelled_get $C2_ADDR $L2 $p >>"$T/l2"
done
same_server "legacy client label 0x$L1" "$T/l1"
S_L1=$SAME
same_server "legacy client label 0x$L2" "$T/l2"
S_L2=$SAME
[ "$S_L1" != "$S_L2" ] ||
	fail "labels 0x$L1 and 0x$L2 of $C2_ADDR both on $S_L1: not balanced by {source, label}"
for l in $L1 $L2; do
	st=$(lb_stick_server src-label $C2_ADDR $((0x$l)))
	want=$S_L1
	[ $l = $L2 ] && want=$S_L2
	[ "$st" = "2001:db8:5::${want#s}" ] ||
		fail "stick table: src-label $C2_ADDR/0x$l -> $st, the client reached $want"
done
capture_stop

# ---- the wire: c2's SYNs to the vip carried exactly the labels asked.
tshark -r "$T/lb.pcap" -Y "ipv6.src == $C2_ADDR && ipv6.dst == $VIP && tcp.flags.syn == 1 && tcp.flags.ack == 0" \
    -T fields -e ipv6.flow 2>/dev/null | sort | uniq -c |
    while read -r n l; do echo "$((l)) $n"; done >"$T/labels"
info "c2's SYNs at lb, label (decimal) and count: $(tr '\n' ' ' <"$T/labels")"
for l in 0 $((0x$L1)) $((0x$L2)); do
	n=$(awk -v l=$l '$1 == l { print $2 }' "$T/labels")
	[ "${n:-0}" -eq 6 ] ||
		fail "wire: ${n:-0} SYNs from $C2_ADDR with label $l at lb, want 6"
done
[ "$(wc -l <"$T/labels")" -eq 3 ] ||
	fail "wire: SYNs from $C2_ADDR with other labels: $(cat "$T/labels")"

pass "lbsp client on $S_C1 for $PORTS (also with its cache lost); legacy $C2_ADDR on $S_C2, $OTHER on $S_OTHER; labels 0x$L1 on $S_L1, 0x$L2 on $S_L2"
