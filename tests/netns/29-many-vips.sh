#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 29-many-vips.sh -- a balancer of a thousand vips of eight servers
# each, the first of 200 (a generated configuration, 8,192 distinct
# servers): "lbspd -n"
# accepts it, lbspd installs its rules and loads it, and sessions to the
# last vip reach its servers, both an LBSP client's (destination
# rewritten by the daemon) and a legacy client's (the kernel's DNAT,
# chosen by the 24-bit mark of a target past the first 8,000 rules'
# worth of an 8-bit scheme).  "lbspctl servers" lists every vip and
# server, the first vip's 200 in file order (copied a few at a time
# under the vip's lock), and counts the sessions on the servers that
# answered.
#
# Vip i (0..999) is 2001:db8:f::1:<i+1> (routed to lb), its servers
# 2001:db8:5::<i+1>:1..8 (..c8 for vip 0).  Only the last vip's servers exist: extra
# addresses on s1, s2, s3, each answering HTTP with the address it was
# reached at (so the test sees which server took the session).
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
command -v curl >/dev/null || fail "curl not installed"
topo_full

NV=1000
LAST=2001:db8:f::1:3e8			# vip 999
LAST_SRV=2001:db8:5::3e8		# its servers: $LAST_SRV:1..8
NFIRST=200				# vip 0's servers
NSRV=$((NV * 8 - 8 + NFIRST))

"$PY" - "$T/lb.conf" "$NV" "$NFIRST" <<'PYEOF'
import sys
path, nv, nfirst = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "w") as f:
    f.write("role balancer\nqueue 0\n")
    for i in range(nv):
        f.write("vip 2001:db8:f::1:%x {\n\tports 80\n\tscheduler rr\n" % (i + 1))
        for j in range(nfirst if i == 0 else 8):
            f.write("\tserver 2001:db8:5::%x:%x\n" % (i + 1, j + 1))
        f.write("}\n")
PYEOF
out=$("$LBSPD" -n -c "$T/lb.conf" 2>&1) || fail "lbspd -n refused $NV vips x 8: $out"
case $out in
*"configuration OK"*) ;;
*) fail "lbspd -n: $out" ;;
esac

# The last vip's eight servers: on s1, s2, s3 in turn.
for j in 1 2 3 4 5 6 7 8; do
	h=s$(((j - 1) % 3 + 1))
	nsx $h ip -6 addr add $LAST_SRV:$j/64 dev eth0 nodad ||
		fail "address $LAST_SRV:$j on $h"
done
for i in 1 2 3; do
	bg s$i "$PY" -c '
import http.server, socket
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        b = (self.connection.getsockname()[0] + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
class S(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
S(("::", 80), H).serve_forever()
'
	wait_listen s$i tcp :: 80
done
lb_servers_lbspd
cat >"$T/client.conf" <<CONF
role client
queue 0
vip $LAST {
	ports 80
	allow-servers 2001:db8:5::/64
}
CONF
lbspd_start c1 "$T/client.conf"
t0=$(date +%s%N)
lbspd_start lb "$T/lb.conf"
info "lbspd with $NV vips answered in $((($(date +%s%N) - t0) / 1000000)) ms (rules included)"
stats_json lb "$T/st0.json"

# The last vip from c1 (LBSP: its later connections would go straight
# to the server it learned) and twice from c2 (legacy: rr moves on).
stats_json c1 "$T/c1-0.json"
: >"$T/answers"
for ns in c1 c2 c2; do
	out=$(nsx $ns curl -gsS --max-time 5 "http://[$LAST]/" 2>&1) ||
		fail "curl from $ns to [$LAST]: $out"
	case $out in
	$LAST_SRV:[1-8]) ;;
	*) fail "$ns: [$LAST] answered from '$out', not one of its servers" ;;
	esac
	echo "$ns $out" >>"$T/answers"
done
info "answers: $(tr '\n' ' ' <"$T/answers")"
stats_json lb "$T/st1.json"
delta() { echo $(($(lb_counter "$T/st1.json" $1) - $(lb_counter "$T/st0.json" $1))); }
n=$(delta sessions)
[ "$n" -eq 3 ] || fail "counters.sessions grew by $n, want 3"
n=$(delta legacy_nat)
[ "$n" -eq 2 ] || fail "counters.legacy_nat grew by $n, want 2 (c2's connections)"
n=$(delta no_server)
[ "$n" -eq 0 ] || fail "counters.no_server grew by $n"
# c1's session was LBSP end to end: its server's seg2 came back.
stats_json c1 "$T/c1-1.json"
n=$(($(lbsp_counter "$T/c1-1.json" learned) - $(lbsp_counter "$T/c1-0.json" learned)))
[ "$n" -ge 1 ] || fail "c1 learned no server from [$LAST] (learned +$n)"

# lbspctl servers: every vip and server; the answering ones counted.
lbspctl lb servers --json >"$T/servers.json" 2>&1 ||
	fail "lbspctl servers --json: $(head -c 300 "$T/servers.json")"
n=$(json_get "$T/servers.json" "len(j)")
[ "$n" -eq $NV ] || fail "lbspctl servers: $n vips, want $NV"
n=$(json_get "$T/servers.json" "sum(len(v['servers']) for v in j)")
[ "$n" -eq $NSRV ] || fail "lbspctl servers: $n servers, want $NSRV"
want=$("$PY" -c "print(' '.join('2001:db8:5::1:%x' % k for k in range(1, $NFIRST + 1)))")
got=$(json_get "$T/servers.json" "' '.join(s['address'] for s in j[0]['servers'])")
[ "$got" = "$want" ] ||
	fail "lbspctl servers: vip 0's servers not all listed in file order"
for a in $(awk '{ print $2 }' "$T/answers" | sort -u); do
	n=$(json_get "$T/servers.json" "[s['sessions_total'] for v in j if v['vip'] == '$LAST' for s in v['servers'] if s['address'] == '$a'][0]")
	[ "$n" -ge 1 ] || fail "lbspctl servers: $a of $LAST answered, sessions_total $n"
done
lbspctl lb servers >"$T/servers.txt" 2>&1 || fail "lbspctl servers (text)"
grep -q "vip $LAST" "$T/servers.txt" || fail "lbspctl servers (text): no heading for $LAST"

# The rules: one DNAT per distinct server, reached by the mark.
nsx lb ip6tables-save -t nat >"$T/nat.rules"
n=$(grep -c -- '-j DNAT --to-destination' "$T/nat.rules")
[ "$n" -eq $NSRV ] || fail "$n DNAT rules, want $NSRV"

# Removal: a killed daemon leaves its chains (DNAT groups included); the
# next start removes them before installing, and a clean stop leaves
# nothing.
kill -KILL "$LBSPD_PID_lb"
wait "$LBSPD_PID_lb" 2>/dev/null
left=$(nsx lb ip6tables-save -t nat | grep -c '^:LBSP-q0-BNAT-')
[ "$left" -gt 0 ] || fail "no DNAT group chains after a kill -9 (want some left)"
lbspd_start lb "$T/lb.conf"
n=$(nsx lb ip6tables-save -t nat | grep -c -- '-j DNAT --to-destination')
[ "$n" -eq $NSRV ] || fail "after a restart over leftovers: $n DNAT rules, want $NSRV"
lbspd_stop lb
n=$(rules_left lb)
[ "$n" -eq 0 ] || fail "$n rules or chains left after lbspd stopped"

pass "$NV vips x 8 servers (the first 200): lbspd -n OK, rules installed ($n DNAT), [$LAST] answered by its servers for LBSP and legacy clients; lbspctl servers lists $NSRV servers; $left DNAT group chains removed after a kill -9"
