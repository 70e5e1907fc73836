# SPDX-License-Identifier: GPL-2.0-or-later
# lib/ecmp.sh -- helpers for the tests of several balancers behind a
# router's ECMP (50-ecmp.sh, 51-ecmp-failover.sh; lbsp(7), "Scaling
# out").  Sourced by tests/netns/lib.sh, never on its own.
#
# The topology (ecmp_topo):
#
#   c1 2001:db8:1::1 -+                   lb1 eth0 2001:db8:ff:1::2 --+
#   c2 2001:db8:1::2 -+- brc  r  lb1 2001:db8:ff:1::1                 | sync0
#   c3 2001:db8:1::3 -+          lb2 2001:db8:ff:2::1                 | 2001:db8:fe::1
#                                     lb2 eth0 2001:db8:ff:2::2 ------+ 2001:db8:fe::2
#   s1 s2 s3 2001:db8:5::N -- brs r 2001:db8:5::ff
#
# r is the router: BIRD (examples/ecmp/bird-router.conf) speaks eBGP
# with BFD to both balancers and installs the vip 2001:db8:f::100 as one
# multipath route (net.ipv6.fib_multipath_hash_policy 1: the 5-tuple).
# lb1 and lb2 run lbspd (examples/ecmp/balancer.conf: maglev, one
# hash-key, "announce lbsp0", nat-source 2001:db8:e::N) and BIRD
# (examples/ecmp/bird-balancer.conf), which announces the vip while
# lbspd keeps its route, and both source NAT addresses (its own one
# preferred).  conntrackd (examples/ecmp/conntrackd.conf) copies the
# NAT sessions over sync0.  The clients: c1 lbspd client with redirect
# off (every packet crosses a balancer), c2 lbspd client with single
# pass, c3 legacy (no lbspd; flow labels off, so it sticks by address).
# The servers answer their name (/name) and a file (/big) and run
# lbspd role server.

ECMP_EX=$top_srcdir/examples/ecmp
NAT1=2001:db8:e::1
NAT2=2001:db8:e::2
R_LB1=2001:db8:ff:1::1
LB1_ADDR=2001:db8:ff:1::2
R_LB2=2001:db8:ff:2::1
LB2_ADDR=2001:db8:ff:2::2
SYNC1=2001:db8:fe::1
SYNC2=2001:db8:fe::2
C3_ADDR=2001:db8:1::3
ECMP_KEY=5ca1ab1e0ddba11c0ffee0000000a110

# need_ecmp_tools - fail unless BIRD, conntrackd, curl and nft exist
# (scripts/deps.sh installs them).
need_ecmp_tools()
{
	local t
	for t in bird birdc conntrackd curl nft; do
		command -v $t >/dev/null 2>&1 ||
			fail "tool '$t' not installed (scripts/deps.sh)"
	done
}

# ecmp_template SRC DST NAME=VALUE... - copy SRC to DST with every
# @NAME@ replaced by VALUE; fails if a @WORD@ is left.
ecmp_template()
{
	local src=$1 dst=$2 kv args=
	shift 2
	for kv in "$@"; do
		args="$args -e s|@${kv%%=*}@|${kv#*=}|g"
	done
	# shellcheck disable=SC2086
	sed $args "$src" >"$dst" || fail "template $src"
	! grep -n '@[A-Z_0-9]*@' "$dst" ||
		fail "template $(basename "$src"): a placeholder is left"
}

# ecmp_addrs NS BASE COUNT - add 2001:db8:1::BASE+i (hex) for i in
# 0..COUNT-1 to NS's eth0; prints nothing.  ecmp_addr BASE I prints one.
ecmp_addr()
{
	printf '2001:db8:1::%x\n' $((0x$1 + $2))
}
ecmp_addrs()
{
	local i=0
	while [ $i -lt "$3" ]; do
		nsx "$1" ip -6 addr add "$(ecmp_addr "$2" $i)/64" dev eth0 \
		    nodad || fail "address $(ecmp_addr "$2" $i) on $1"
		i=$((i + 1))
	done
}

# ecmp_topo - the namespaces and links drawn above, addresses, routes,
# sysctls.
ecmp_topo()
{
	local h i
	for h in r lb1 lb2 c1 c2 c3 s1 s2 s3; do
		ns_new $h
	done
	forwarding r
	forwarding lb1
	forwarding lb2
	nsx r sysctl -qw net.ipv6.fib_multipath_hash_policy=1 \
	    net.ipv6.conf.all.ignore_routes_with_linkdown=1 >/dev/null ||
		fail "multipath sysctls in r"
	bridge r brc $R_C_ADDR/64
	bridge r brs $R_S_ADDR/64
	for i in 1 2 3; do
		link c$i eth0 2001:db8:1::$i/64 r c$i -
		bridge_port r brc c$i
		route c$i default via $R_C_ADDR
		link s$i eth0 2001:db8:5::$i/64 r s$i -
		bridge_port r brs s$i
		route s$i default via $R_S_ADDR
	done
	link r lb1 $R_LB1/64 lb1 eth0 $LB1_ADDR/64
	link r lb2 $R_LB2/64 lb2 eth0 $LB2_ADDR/64
	link lb1 sync0 $SYNC1/64 lb2 sync0 $SYNC2/64
	route lb1 default via $R_LB1
	route lb2 default via $R_LB2
	for h in lb1 lb2; do
		# Nothing for the vip or a NAT address loops back to r when
		# lbspd or conntrack has no answer.
		nsx $h ip -6 route add unreachable 2001:db8:f::/64 ||
			fail "unreachable vip route in $h"
		nsx $h ip -6 route add unreachable 2001:db8:e::/64 ||
			fail "unreachable NAT route in $h"
		nsx $h modprobe -q nf_conntrack 2>/dev/null
		# A session that moves here mid-stream: its window was
		# tracked elsewhere (conntrackd's advice).
		nsx $h sysctl -qw net.netfilter.nf_conntrack_tcp_be_liberal=1 \
		    >/dev/null || fail "nf_conntrack_tcp_be_liberal in $h"
	done
	flowlabels c3 off
}

# ecmp_link_up N - bring lbN's uplink back after "ip link set eth0
# down" (which flushed its address and its routes through it).
ecmp_link_up()
{
	local a=$LB1_ADDR up=$R_LB1
	[ "$1" = 2 ] && a=$LB2_ADDR up=$R_LB2
	nsx lb$1 ip link set eth0 up || fail "lb$1 eth0 up"
	nsx lb$1 ip -6 addr replace $a/64 dev eth0 nodad ||
		fail "address $a on lb$1"
	nsx lb$1 ip -6 route replace default via $up ||
		fail "default route of lb$1"
}

# ecmp_bird NS CONF - BIRD in NS with CONF (foreground, its own control
# socket $T/bird-NS.ctl).  Sets BIRD_PID_<NS>.
ecmp_bird()
{
	bg "$1" bird -f -c "$2" -s "$T/bird-$1.ctl" -P "$T/bird-$1.pid"
	eval "BIRD_PID_$1=\$BG_PID"
	wait_for "bird in $1" 10 test -S "$T/bird-$1.ctl"
	if ! try_for 5 ecmp_birdc "$1" show status; then
		dump "$BG_LOG"
		fail "bird in $1 does not answer"
	fi
}

# ecmp_birdc NS ARGS... - birdc against the BIRD of NS.
ecmp_birdc()
{
	local ns=$1
	shift
	nsx "$ns" birdc -s "$T/bird-$ns.ctl" "$@"
}

# ecmp_lb_conf N - $T/lbN.conf from examples/ecmp/balancer.conf.
ecmp_lb_conf()
{
	local nat=$NAT1
	[ "$1" = 2 ] && nat=$NAT2
	ecmp_template "$ECMP_EX/balancer.conf" "$T/lb$1.conf" \
	    HASH_KEY=$ECMP_KEY NAT_OWN=$nat VIP=$VIP
}

# ecmp_routing - BIRD on r, lb1 and lb2 from the example files.
ecmp_routing()
{
	local n own peer up
	ecmp_template "$ECMP_EX/bird-router.conf" "$T/bird-r.conf" \
	    ROUTER_ID=10.255.0.1 VIP_PREFIX=2001:db8:f::/64 \
	    NAT_PREFIX=2001:db8:e::/64 LB1_ADDR=$LB1_ADDR LB2_ADDR=$LB2_ADDR
	ecmp_bird r "$T/bird-r.conf"
	for n in 1 2; do
		own=$NAT1 peer=$NAT2 up=$R_LB1
		[ $n = 2 ] && own=$NAT2 peer=$NAT1 up=$R_LB2
		ecmp_template "$ECMP_EX/bird-balancer.conf" \
		    "$T/bird-lb$n.conf" ROUTER_ID=10.255.0.1$n \
		    VIP_PREFIX=2001:db8:f::/64 NAT_OWN=$own NAT_PEER=$peer \
		    ROUTER_ADDR=$up
		ecmp_bird lb$n "$T/bird-lb$n.conf"
	done
}

# ecmp_conntrackd N - conntrackd on lbN from examples/ecmp/conntrackd.conf
# (its files in $T/ct-lbN); sets CT_PID_<lbN>.
ecmp_conntrackd()
{
	local d=$T/ct-lb$1 own=$SYNC1 peer=$SYNC2 up=$LB1_ADDR
	[ "$1" = 2 ] && own=$SYNC2 peer=$SYNC1 up=$LB2_ADDR
	mkdir -p "$d"
	rm -f "$d/conntrackd.lock" "$d/conntrackd.ctl"
	ecmp_template "$ECMP_EX/conntrackd.conf" "$d/conntrackd.conf" \
	    SYNC_OWN=$own SYNC_PEER=$peer SYNC_IF=sync0 DIR="$d" \
	    UPLINK_OWN=$up
	bg lb$1 conntrackd -C "$d/conntrackd.conf"
	eval "CT_PID_lb$1=\$BG_PID"
	wait_for "conntrackd in lb$1" 10 test -S "$d/conntrackd.ctl"
}

# ecmp_ctl N ARGS... - conntrackd ARGS against lbN's daemon.
ecmp_ctl()
{
	local n=$1
	shift
	nsx lb$n conntrackd -C "$T/ct-lb$n/conntrackd.conf" "$@"
}

# ecmp_www MB - the servers (sp_www, /name and /big of MB megabytes) and
# lbspd role server on each.
ecmp_www()
{
	local i
	sp_www "$1" 80
	printf 'role server\nqueue 0\n' >"$T/server.conf"
	for i in 1 2 3; do
		lbspd_start s$i "$T/server.conf"
	done
}

# ecmp_clients - lbspd role client on c1 (redirect off) and c2 (single
# pass); c3 stays legacy.
ecmp_clients()
{
	sp_client_conf "$T/c-off.conf" "redirect off"
	sp_client_conf "$T/c-on.conf"
	lbspd_start c1 "$T/c-off.conf"
	lbspd_start c2 "$T/c-on.conf"
}

# ecmp_lb_start N - lbspd on lbN ($T/lbN.conf, checked with -n first).
ecmp_lb_start()
{
	local out
	[ -f "$T/lb$1.conf" ] || ecmp_lb_conf "$1"
	out=$("$LBSPD" -n -c "$T/lb$1.conf" 2>&1) ||
		fail "lb$1.conf rejected: $out"
	[ -f "$T/lbspd-lb$1.log" ] &&
		mv "$T/lbspd-lb$1.log" "$T/lbspd-lb$1.log.$(date +%s%N)"
	lbspd_start lb$1 "$T/lb$1.conf"
}

# ecmp_nexthops - the balancers r routes the vip to now, sorted, space
# separated ("lb1 lb2", "lb2", or "" when none).
ecmp_nexthops()
{
	nsx r ip -6 route show "$VIP/128" 2>/dev/null |
	    sed -n 's/.* dev \(lb[0-9]\).*/\1/p' | sort -u | tr '\n' ' ' |
	    sed 's/ $//'
}

# ecmp_nat_via ADDR - the balancer r sends ADDR (a NAT address) to.
ecmp_nat_via()
{
	nsx r ip -6 route show "$1/128" 2>/dev/null |
	    sed -n 's/.* dev \(lb[0-9]\).*/\1/p' | head -n 1
}

# ecmp_nexthops_are WANT - true when ecmp_nexthops prints WANT.
ecmp_nexthops_are()
{
	[ "$(ecmp_nexthops)" = "$1" ]
}

# ecmp_wait_nexthops WANT SECS - wait until r routes the vip to WANT
# ("lb1 lb2", "lb1"...); sets WAITED to the seconds it took (0.1 s
# steps: a loop count, not a clock); fails after SECS.
ecmp_wait_nexthops()
{
	local want=$1 max=$(($2 * 10)) i=0
	while [ "$(ecmp_nexthops)" != "$want" ]; do
		i=$((i + 1))
		if [ $i -ge $max ]; then
			ecmp_birdc r show protocols all >"$T/birdc-r.txt" 2>&1
			nsx r ip -6 route >>"$T/birdc-r.txt" 2>&1
			dump "$T/birdc-r.txt"
			fail "r routes the vip to '$(ecmp_nexthops)', not '$want', after $2 s"
		fi
		sleep 0.1
	done
	WAITED=$((i / 10)).$((i % 10))
}

# ecmp_count_setup - nft counters on r of the packets to the vip that
# leave towards lb1 and towards lb2 (table ip6 lbsp_ecmp_count).
ecmp_count_setup()
{
	nsx r nft -f - <<-EOF || fail "nft counters in r"
	table ip6 lbsp_ecmp_count {
		counter to_lb1 { }
		counter to_lb2 { }
		chain count {
			type filter hook forward priority 0;
			ip6 daddr $VIP oifname "lb1" counter name to_lb1
			ip6 daddr $VIP oifname "lb2" counter name to_lb2
		}
	}
	EOF
}

# ecmp_count lbN - packets to the vip r sent to lbN so far.
ecmp_count()
{
	nsx r nft list counter ip6 lbsp_ecmp_count "to_$1" 2>/dev/null |
	    sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

# ecmp_round NS BASE COUNT TIMES OUT - TIMES new sessions (curl /name)
# from each of the COUNT identities BASE.. of NS (see ecmp_addr): OUT
# gets a line "ADDRESS sN" per session.
ecmp_round()
{
	local ns=$1 base=$2 count=$3 times=$4 out=$5 i k a r
	: >"$out"
	k=0
	while [ $k -lt "$times" ]; do
		i=0
		while [ $i -lt "$count" ]; do
			a=$(ecmp_addr "$base" $i)
			r=$(nsx "$ns" curl -gsS --max-time 5 --interface "$a" \
			    "http://[$VIP]/name" 2>&1) ||
				fail "curl from $ns $a to [$VIP]/name: $r"
			echo "$a $r" >>"$out"
			i=$((i + 1))
		done
		k=$((k + 1))
	done
}

# ecmp_one_server_each FILE - fail unless every address of FILE (lines
# "ADDRESS sN") was always served by one server; prints "ADDRESS sN"
# once per address, sorted (the mapping).
ecmp_one_server_each()
{
	local bad
	bad=$(sort -u "$1" | awk '{ n[$1]++ } END { for (a in n) if (n[a] > 1) print a }')
	[ -z "$bad" ] || {
		sort "$1" | sed 's/^/    /'
		fail "identities served by more than one server: $bad"
	}
	sort -u "$1"
}

# ecmp_fetch_bg NS SRC URL-HOST OUT RATE - download http://[URL-HOST]/big
# from address SRC of NS in the background, reading at most RATE bytes a
# second through a 16 kB receive buffer (so TCP's window, not a burst,
# paces the server: curl 7.88's --limit-rate lets bursts through).
# Writes the body to OUT and, when done, OUT.rc: 0 when the whole
# body (Content-Length bytes) came, else 1 (the reason in OUT.err).
ecmp_fetch_bg()
{
	check_addr "$2"
	check_addr "$3"
	bg "$1" "$PY" -c '
import socket, sys, time
src, host, out, rate = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rc, why = 1, ""
try:
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    s.bind((src, 0))
    s.settimeout(30)
    s.connect((host, 80))
    s.sendall(b"GET /big HTTP/1.0\r\nHost: vip\r\n\r\n")
    head, body, t0, got = b"", None, time.monotonic(), 0
    with open(out, "wb") as f:
        while True:
            b = s.recv(4096)
            if not b:
                break
            got += len(b)
            if body is None:
                head += b
                if b"\r\n\r\n" in head:
                    h, _, rest = head.partition(b"\r\n\r\n")
                    body = 0
                    length = [int(l.split(b":")[1]) for l in h.split(b"\r\n")
                              if l.lower().startswith(b"content-length:")][0]
                    f.write(rest)
                    body += len(rest)
            else:
                f.write(b)
                body += len(b)
            ahead = got / rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
    if body is not None and body == length:
        rc = 0
    else:
        why = "short body: %r of %r" % (body, locals().get("length"))
except Exception as e:
    why = repr(e)
open(out + ".err", "w").write(why)
open(out + ".rc", "w").write("%d\n" % rc)
' "$2" "$3" "$4" "$5"
}
