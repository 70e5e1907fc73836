# SPDX-License-Identifier: GPL-2.0-or-later
# lib.sh -- helpers for the end-to-end tests in tests/netns/ (and
# bench/).  Sourced, never run: ". "$(dirname "$0")/lib.sh"".
#
# Each test builds its own hosts as network namespaces joined by veth
# pairs, under 2001:db8::/32 only, runs real programs at both ends and
# asserts on what crossed the wire (tcpdump capture read by tshark), on
# the kernels' counters (/proc/net/snmp6) and on "lbspctl stats --json".
# Everything it starts (namespaces, daemons, servers, captures) is
# recorded and removed by cleanup(), which lib.sh installs as the EXIT,
# INT and TERM trap.
#
# Exit codes: 0 pass, 77 skip (not root, no network namespaces), 1 fail
# with a "FAIL: reason" line.  A root test that can create a namespace
# never skips.
#
# Namespaces are named by the test with short logical names (C, S, c1,
# r, lb...: shell identifiers); the real name is random
# (lbsp-PID-RANDOM-NAME) so parallel runs never collide.
#
# Environment (set by "make check"; guessed when run by hand):
#   top_srcdir    source tree (default: the running script's ../..)
#   top_builddir  build tree (default: $top_srcdir/build if it holds
#                 lbspd, else the binaries are looked up in PATH)
#   LBSPD LBSPCTL the binaries (default: from top_builddir)
#   LBSPD_ARGS    extra daemon arguments, e.g. "-d"
#   KEEP=1        keep the work directory (logs, captures) on exit;
#   KEEP_ON_FAIL=1  only when the test fails

set -u

LIB_DIR=$(cd "$(dirname "$0")" && pwd)
# The test directory is tests/netns; bench/ scripts source this file too.
: "${top_srcdir:=$(cd "$LIB_DIR/../.." 2>/dev/null && pwd)}"
if [ -z "${top_builddir:-}" ]; then
	if [ -x "$top_srcdir/build/lbspd/lbspd" ]; then
		top_builddir=$top_srcdir/build
	else
		top_builddir=
	fi
fi
if [ -n "$top_builddir" ]; then
	: "${LBSPD:=$top_builddir/lbspd/lbspd}"
	: "${LBSPCTL:=$top_builddir/lbspd/lbspctl}"
else
	: "${LBSPD:=$(command -v lbspd || echo lbspd)}"
	: "${LBSPCTL:=$(command -v lbspctl || echo lbspctl)}"
fi
# Debian's python3 (scapy, json); the python3 on PATH may be another.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

TEST_NAME=$(basename "$0")
T=				# work directory (logs, captures, configs)
LIB_NS=				# logical names of the namespaces we made
LIB_PIDS=			# background processes we started
LIB_CAPS=			# running captures: "pid:file" ...
LIB_CLEANED=0

# ------------------------------------------------------------------ output

# fail MSG - print "FAIL: MSG" and exit 1 (cleanup runs from the trap).
fail()
{
	echo "FAIL: $TEST_NAME: $*"
	exit 1
}

# skip MSG - print "SKIP: MSG" and exit 77.
skip()
{
	echo "SKIP: $TEST_NAME: $*"
	exit 77
}

# pass MSG - print "PASS: MSG" and exit 0.
pass()
{
	echo "PASS: $TEST_NAME: $*"
	exit 0
}

# info MSG - progress line.
info()
{
	echo "# $*"
}

# dump FILE... - show files (logs) after a failure, indented.
dump()
{
	for f in "$@"; do
		[ -f "$f" ] || continue
		echo "---- $f (last 40 lines)"
		tail -n 40 "$f" | sed 's/^/    /'
	done
}

# ----------------------------------------------------------------- cleanup

# pid_stop PID [SECONDS] - TERM, wait up to SECONDS (default 3), KILL.
# Returns 0 once PID is gone.
pid_stop()
{
	local pid=$1 secs=${2:-3} i=0 max
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	max=$((secs * 10))
	while kill -0 "$pid" 2>/dev/null && [ $i -lt $max ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 20 ]; do
			sleep 0.1
			i=$((i + 1))
		done
	fi
	! kill -0 "$pid" 2>/dev/null
}

cleanup()
{
	local rc=$? n real pid ino
	[ "$LIB_CLEANED" = 1 ] && return
	LIB_CLEANED=1
	trap - EXIT INT TERM
	for c in $LIB_CAPS; do
		pid_stop "${c%%:*}" 2
	done
	for pid in $LIB_PIDS; do
		pid_stop "$pid" 3
	done
	# Anything still running inside our namespaces was started by us
	# (ip netns pids lists exactly those): stop it before deleting.
	for n in $LIB_NS; do
		real=$(ns_real "$n")
		for pid in $(ip netns pids "$real" 2>/dev/null); do
			pid_stop "$pid" 2
		done
		# The tc programs' pins of a daemon that could not clean up
		# (bpffs is not per namespace: lbspd pins by namespace inode).
		ino=$(stat -L -c %i "/run/netns/$real" 2>/dev/null) &&
			rm -rf "/sys/fs/bpf/lbsp/ns$ino"
		ip netns del "$real" 2>/dev/null
	done
	if [ -n "$T" ] && [ -d "$T" ]; then
		if [ "${KEEP:-0}" = 1 ] || { [ $rc -ne 0 ] && [ $rc -ne 77 ] &&
		    [ "${KEEP_ON_FAIL:-0}" = 1 ]; }; then
			echo "# work directory kept: $T"
		else
			rm -rf "$T"
		fi
	fi
	exit $rc
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

# need_root - skip unless root and able to create a network namespace.
# Also creates the work directory $T.
need_root()
{
	local probe
	[ "$(id -u)" = 0 ] || skip "needs root"
	probe=lbsp-$$-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')-probe
	ip netns add "$probe" 2>/dev/null || skip "cannot create a network namespace"
	ip netns del "$probe"
	for tool in ip ip6tables ethtool sysctl tshark tcpdump; do
		command -v $tool >/dev/null 2>&1 ||
			fail "tool '$tool' not installed"
	done
	work_dir
}

# work_dir - create $T (mode 0755 so a daemon that dropped to an
# unprivileged user can still read its configuration).
work_dir()
{
	[ -n "$T" ] && return 0
	T=$(mktemp -d /tmp/lbsp-netns.XXXXXX) || fail "mktemp"
	chmod 0755 "$T"
}

# need_lbspd - fail unless the daemon and lbspctl are executable.
need_lbspd()
{
	[ -x "$LBSPD" ] || fail "lbspd not found at $LBSPD (set top_builddir or LBSPD)"
	[ -x "$LBSPCTL" ] || fail "lbspctl not found at $LBSPCTL (set top_builddir or LBSPCTL)"
}

# ------------------------------------------------------------- namespaces

# ns_real NAME - print the real namespace name of logical NAME.
ns_real()
{
	eval "echo \"\${LIB_NSREAL_$1:-}\""
}

# ns_new NAME - create a namespace for logical NAME (a shell identifier),
# record it for cleanup, bring lo up.
ns_new()
{
	local real
	case $1 in
	*[!A-Za-z0-9_]* | "") fail "ns_new: bad name '$1'" ;;
	esac
	real=lbsp-$$-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')-$1
	ip netns add "$real" || fail "ip netns add $real"
	eval "LIB_NSREAL_$1=\$real"
	LIB_NS="$LIB_NS $1"
	nsx "$1" ip link set lo up || fail "lo up in $1"
	nsx "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
	    net.ipv6.conf.default.accept_dad=0 >/dev/null
}

# nsx NAME CMD... - run CMD inside namespace NAME.
nsx()
{
	local real
	real=$(ns_real "$1")
	[ -n "$real" ] || fail "nsx: no namespace '$1'"
	shift
	ip netns exec "$real" "$@"
}

# check_addr ADDR - refuse anything outside 2001:db8::/32 (the only
# addresses these tests may send to, with loopback).
check_addr()
{
	case $1 in
	2001:db8:* | 2001:DB8:*) ;;
	*) fail "address '$1' is outside 2001:db8::/32" ;;
	esac
}

# link NS1 IF1 ADDR1/LEN NS2 IF2 ADDR2/LEN - a veth pair between NS1 and
# NS2, addresses set (no DAD: usable at once), up, checksum offload off
# on both ends (so the receiver really verifies checksums).  An address
# "-" leaves that end without one (e.g. for a bridge port).
link()
{
	local ns1=$1 if1=$2 a1=$3 ns2=$4 if2=$5 a2=$6 tmp
	tmp=lv$$x$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	ip link add "${tmp}a" type veth peer name "${tmp}b" ||
		fail "veth $if1-$if2"
	ip link set "${tmp}a" netns "$(ns_real "$ns1")" name "$if1" ||
		fail "move $if1 to $ns1"
	ip link set "${tmp}b" netns "$(ns_real "$ns2")" name "$if2" ||
		fail "move $if2 to $ns2"
	if_setup "$ns1" "$if1" "$a1"
	if_setup "$ns2" "$if2" "$a2"
}

# if_setup NS IF ADDR/LEN|- - DAD off, offloads off, address, up.
if_setup()
{
	local ns=$1 dev=$2 addr=$3
	nsx "$ns" sysctl -qw "net.ipv6.conf.$dev.accept_dad=0" >/dev/null
	nsx "$ns" ethtool -K "$dev" tx off rx off >/dev/null 2>&1 ||
		fail "ethtool -K $dev tx off rx off in $ns"
	if [ "$addr" != - ]; then
		check_addr "$addr"
		nsx "$ns" ip -6 addr add "$addr" dev "$dev" nodad ||
			fail "address $addr on $ns/$dev"
	fi
	nsx "$ns" ip link set "$dev" up || fail "$ns/$dev up"
}

# bridge NS BR ADDR/LEN - a bridge in NS with an address, up.  Ports are
# added with bridge_port.
bridge()
{
	local ns=$1 br=$2 addr=$3
	check_addr "$addr"
	nsx "$ns" ip link add "$br" type bridge || fail "bridge $br in $ns"
	nsx "$ns" sysctl -qw "net.ipv6.conf.$br.accept_dad=0" >/dev/null
	nsx "$ns" ip link set "$br" type bridge mcast_snooping 0 stp_state 0
	nsx "$ns" ip -6 addr add "$addr" dev "$br" nodad ||
		fail "address $addr on $ns/$br"
	nsx "$ns" ip link set "$br" up || fail "$ns/$br up"
}

# bridge_port NS BR IF - enslave IF (made by link with address "-").
bridge_port()
{
	nsx "$1" ip link set "$3" master "$2" || fail "$1: $3 into $2"
}

# route NS PREFIX via ADDR - add an IPv6 route in NS ("default" allowed).
route()
{
	[ "$3" = via ] || fail "route: usage: route NS PREFIX via ADDR"
	check_addr "$4"
	nsx "$1" ip -6 route add "$2" via "$4" || fail "route $2 via $4 in $1"
}

# forwarding NS - make NS a router.
forwarding()
{
	nsx "$1" sysctl -qw net.ipv6.conf.all.forwarding=1 >/dev/null ||
		fail "forwarding in $1"
}

# ---------------------------------------------------------------- topology

# topo_pair - two hosts on one link:
#
#     C (cl0) 2001:db8:1::1/64 ----- 2001:db8:1::2/64 (sv0) S
#
# Sets C_ADDR S_ADDR C_IF S_IF.
C_ADDR=2001:db8:1::1
S_ADDR=2001:db8:1::2
C_IF=cl0
S_IF=sv0
topo_pair()
{
	ns_new C
	ns_new S
	link C $C_IF $C_ADDR/64 S $S_IF $S_ADDR/64
}


# topo_lb_servers - the half of doc/design.md §7 behind the router r (whose
# bridge brs must exist): lb holding the VIP route, s1..s3 on brs.
# Shared by topo_full and topo_megaproxy.
topo_lb_servers()
{
	local i h
	link r lb $R_LB_ADDR/64 lb eth0 $LB_ADDR/64
	route r 2001:db8:f::/64 via $LB_ADDR
	route lb default via $R_LB_ADDR
	nsx lb ip -6 route add unreachable 2001:db8:f::/64 ||
		fail "unreachable VIP route in lb"
	for i in 1 2 3; do
		h=s$i
		ns_new $h
		link $h eth0 2001:db8:5::$i/64 r $h -
		bridge_port r brs $h
		route $h default via $R_S_ADDR
	done
}

# topo_full [proxy] - the reference layout of doc/design.md §7:
#
#   c1 2001:db8:1::1 -+                           (clients' LAN, bridge
#   c2 2001:db8:1::2 -+- r 2001:db8:1::ff          "brc" in r)
#          with "proxy": c1 2001:db8:a::1, c2 2001:db8:a::2 on px's
#          LAN (px 2001:db8:a::ff, bridge "brc" in px); px uplink
#          2001:db8:1::10 to r, NAT66 (masquerade) towards r
#   r 2001:db8:ff::1 ---- 2001:db8:ff::2 lb       the VIP 2001:db8:f::100
#                                                 (2001:db8:f::/64) is
#                                                 routed to lb
#   s1 2001:db8:5::1 -+
#   s2 2001:db8:5::2 -+- r 2001:db8:5::ff          (servers' LAN, bridge
#   s3 2001:db8:5::3 -+                            "brs" in r)
#
# r and lb forward.  Clients and servers route everything via r, so the
# servers' answers go through r and never through lb ("LB not in the
# direct path").  lb routes the rest via r; with no balancer running,
# the VIP is unreachable at lb (an "unreachable" route: no loop).  The
# VIP is not a local address anywhere; a test that wants it local adds
# it (ip -6 addr add $VIP/128 dev lo) itself.
# Interfaces: each host's uplink is "eth0"; r: "c1" "c2" (or "px"),
# "s1" "s2" "s3" (bridge ports), "lb"; lb: "eth0".
VIP=2001:db8:f::100
C1_ADDR=2001:db8:1::1
C2_ADDR=2001:db8:1::2
R_C_ADDR=2001:db8:1::ff
PX_ADDR=2001:db8:1::10
PX_LAN_ADDR=2001:db8:a::ff
R_LB_ADDR=2001:db8:ff::1
LB_ADDR=2001:db8:ff::2
R_S_ADDR=2001:db8:5::ff
S1_ADDR=2001:db8:5::1
S2_ADDR=2001:db8:5::2
S3_ADDR=2001:db8:5::3
topo_full()
{
	local proxy=${1:-} h i
	ns_new r
	ns_new lb
	forwarding r
	forwarding lb
	bridge r brc $R_C_ADDR/64
	bridge r brs $R_S_ADDR/64
	if [ "$proxy" = proxy ]; then
		C1_ADDR=2001:db8:a::1
		C2_ADDR=2001:db8:a::2
		ns_new px
		forwarding px
		bridge px brc $PX_LAN_ADDR/64
		link px eth0 $PX_ADDR/64 r px -
		bridge_port r brc px
		route px default via $R_C_ADDR
		nsx px nft -f - <<-EOF || fail "NAT66 in px"
		table ip6 lbsp_px {
			chain post {
				type nat hook postrouting priority srcnat;
				oifname "eth0" masquerade
			}
		}
		EOF
		for h in c1 c2; do
			ns_new $h
		done
		link c1 eth0 $C1_ADDR/64 px c1 -
		link c2 eth0 $C2_ADDR/64 px c2 -
		bridge_port px brc c1
		bridge_port px brc c2
		route c1 default via $PX_LAN_ADDR
		route c2 default via $PX_LAN_ADDR
	else
		ns_new c1
		ns_new c2
		link c1 eth0 $C1_ADDR/64 r c1 -
		link c2 eth0 $C2_ADDR/64 r c2 -
		bridge_port r brc c1
		bridge_port r brc c2
		route c1 default via $R_C_ADDR
		route c2 default via $R_C_ADDR
	fi
	topo_lb_servers
}

# ---------------------------------------------------------------- polling

# wait_for DESC TIMEOUT CMD... - run CMD every 0.1 s until it succeeds;
# fail with DESC after TIMEOUT seconds.
wait_for()
{
	local desc=$1 secs=$2 i=0 max
	shift 2
	max=$((secs * 10))
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -ge $max ] && fail "timeout (${secs}s) waiting for $desc"
		sleep 0.1
	done
}

# try_for TIMEOUT CMD... - like wait_for but returns 1 instead of failing.
try_for()
{
	local secs=$1 i=0 max
	shift
	max=$((secs * 10))
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -ge $max ] && return 1
		sleep 0.1
	done
	return 0
}

# listening NS tcp|udp ADDR PORT - true when a socket listens there.
listening()
{
	local opt=-ltnH
	[ "$2" = udp ] && opt=-lunH
	nsx "$1" ss $opt "src [$3]:$4" 2>/dev/null | grep -q .
}

# wait_listen NS tcp|udp ADDR PORT - wait (10 s) for a listener.
wait_listen()
{
	wait_for "$2 listener [$3]:$4 in $1" 10 listening "$@"
}

# ------------------------------------------------------------- processes

# bg NS CMD... - start CMD in NS in the background, stdout+stderr to
# $T/bg-N.log; records the pid for cleanup.  Sets BG_PID and BG_LOG.
LIB_BGN=0
bg()
{
	local ns=$1
	shift
	LIB_BGN=$((LIB_BGN + 1))
	BG_LOG=$T/bg-$LIB_BGN.log
	# A simple command, not a function: $! is then the program itself
	# (ip netns exec execs it), which kill and /proc/PID can use.
	ip netns exec "$(ns_real "$ns")" "$@" >"$BG_LOG" 2>&1 </dev/null &
	BG_PID=$!
	LIB_PIDS="$LIB_PIDS $BG_PID"
}

# alive PID - true while PID runs (and is not a zombie).
alive()
{
	kill -0 "$1" 2>/dev/null || return 1
	! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

# http_server NS ADDR PORT DIR - python3 http.server on [ADDR]:PORT
# serving DIR; waits until it listens.
http_server()
{
	check_addr "$2"
	bg "$1" "$PY" -m http.server "$3" --bind "$2" --directory "$4"
	wait_listen "$1" tcp "$2" "$3"
}

# udp_echo NS ADDR PORT - a socat UDP echo server on [ADDR]:PORT (one
# datagram in, the same back, for any number of datagrams and peers).
udp_echo()
{
	check_addr "$2"
	command -v socat >/dev/null || fail "socat not installed"
	bg "$1" socat -T 30 "UDP6-RECVFROM:$3,bind=[$2],fork" PIPE
	wait_listen "$1" udp "$2" "$3"
}

# tcp_sink NS ADDR PORT OUT - a TCP receiver on [ADDR]:PORT for one
# connection (120 s at most): reads to EOF, then writes to OUT one line
# "BYTES SHA256 MAXGAP_MS" (MAXGAP_MS: the longest wait between two
# reads once data flowed, for stall detection).  Waits until it
# listens; SINK_PID is its pid.
tcp_sink()
{
	check_addr "$2"
	bg "$1" "$PY" -c '
import hashlib, socket, sys, time
addr, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
l = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((addr, port))
l.listen(1)
l.settimeout(120)
c, _ = l.accept()
deadline = time.monotonic() + 120
c.settimeout(30)
h, n, gap, last = hashlib.sha256(), 0, 0.0, None
while time.monotonic() < deadline:
    b = c.recv(1 << 20)
    now = time.monotonic()
    if last is not None:
        gap = max(gap, now - last)
    last = now
    if not b:
        break
    n += len(b)
    h.update(b)
with open(out + ".tmp", "w") as f:
    f.write("%d %s %d\n" % (n, h.hexdigest(), gap * 1000))
import os
os.rename(out + ".tmp", out)
' "$2" "$3" "$4"
	SINK_PID=$BG_PID
	wait_listen "$1" tcp "$2" "$3"
}

# tcp_source NS ADDR PORT BYTES [MBITPS] - send BYTES of pseudo-random
# data to [ADDR]:PORT (paced at MBITPS Mbit/s when given), then close;
# runs in the foreground (150 s at most) and prints "BYTES SHA256" of
# what it sent.  Returns non-zero if it could not send everything.
tcp_source()
{
	check_addr "$2"
	nsx "$1" timeout 150 "$PY" -c '
import hashlib, os, socket, sys, time
addr, port, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rate = float(sys.argv[4]) * 1e6 / 8 if len(sys.argv) > 4 else 0
block = os.urandom(1 << 16)
s = socket.create_connection((addr, port), timeout=30)
h, sent, t0 = hashlib.sha256(), 0, time.monotonic()
while sent < total:
    b = block[: min(len(block), total - sent)]
    s.sendall(b)
    h.update(b)
    sent += len(b)
    if rate:
        ahead = sent / rate - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
s.shutdown(socket.SHUT_WR)
s.settimeout(30)
s.recv(1)
s.close()
print(sent, h.hexdigest())
' "$2" "$3" "$4" ${5:+"$5"}
}

# ---------------------------------------------------------------- capture

# capture NS IF FILE [FILTER...] - start tcpdump on NS/IF writing FILE
# (headers only: 256 bytes a packet), wait until it listens.  Beware:
# the BPF primitives "tcp", "udp", "port N" look at the IPv6 header's
# Next Header only and so miss every packet with the LBSP option (a
# Destination Options header); filter afterwards with lbsp_packets.
capture()
{
	local ns=$1 dev=$2 file=$3 log
	shift 3
	log=$file.log
	ip netns exec "$(ns_real "$ns")" tcpdump -n -i "$dev" -U --immediate-mode -s 256 -B 32768 -Z root -w "$file" \
	    "$@" >"$log" 2>&1 </dev/null &
	LIB_CAPS="$LIB_CAPS $!:$file"
	LIB_PIDS="$LIB_PIDS $!"
	if ! try_for 10 grep -q "listening on" "$log"; then
		dump "$log"
		fail "tcpdump on $ns/$dev did not start"
	fi
}

# capture_stop - stop every running capture (they flush on SIGINT) and
# report kernel drops as "# capture FILE: N packets dropped".
capture_stop()
{
	local c pid file i
	for c in $LIB_CAPS; do
		pid=${c%%:*}
		file=${c#*:}
		kill -INT "$pid" 2>/dev/null
		i=0
		while alive "$pid" && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		pid_stop "$pid" 1
		wait "$pid" 2>/dev/null
		sed -n 's/^\([0-9]*\) packets dropped by kernel/# capture '"$(basename "$file")"': \1 packets dropped by kernel/p' \
		    "$file.log"
	done
	LIB_CAPS=
}

# lbsp_packets PCAP [DISPLAY-FILTER] - one line per TCP or UDP packet of
# PCAP (matching the optional tshark display filter):
#   SRC DST PROTO SPORT DPORT NOPT SEG1 SEG2 IPLEN TCPFLAGS MSS
# NOPT is the number of LBSP options (type 0x1e, tshark field
# ipv6.opt.experimental, 32 data bytes) in the packet; SEG1 and SEG2 are
# the first option's addresses in compressed form ("-" without one);
# IPLEN is the IPv6 packet length in bytes (40 + payload length);
# TCPFLAGS the TCP flags in hex ("-" for UDP); MSS the TCP MSS option
# value ("-" when absent).
#
# Wireshark does not know type 0x1e: it is shown as an RFC 4727
# experimental option, "ipv6.opt.experimental" holds its data (seg1
# then seg2, 64 hex digits).  The same fields also carry hop-by-hop
# options, so only packets with a Destination Options header count.
lbsp_packets()
{
	local pcap=$1 filter="tcp or udp"
	[ $# -ge 2 ] && filter="($filter) and ($2)"
	tshark -r "$pcap" -Y "$filter" -T fields -E separator=/t \
	    -E occurrence=a -E aggregator=, \
	    -e ipv6.src -e ipv6.dst -e ipv6.nxt -e ipv6.dstopts.nxt \
	    -e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport \
	    -e ipv6.opt.experimental -e ipv6.plen -e tcp.flags \
	    -e tcp.options.mss_val \
	    2>/dev/null | "$PY" -c '
import sys, ipaddress
for line in sys.stdin:
    f = line.rstrip("\n").split("\t")
    f += [""] * (12 - len(f))
    src, dst, nxt, dnxt, tsp, tdp, usp, udp, exp, plen, flags, mss = f[:12]
    proto = "tcp" if tsp else "udp"
    sp, dp = (tsp, tdp) if tsp else (usp, udp)
    opts = [x for x in exp.split(",") if len(x) == 64] if dnxt else []
    s1 = s2 = "-"
    if opts:
        b = bytes.fromhex(opts[0])
        s1 = str(ipaddress.IPv6Address(b[:16]))
        s2 = str(ipaddress.IPv6Address(b[16:]))
    iplen = 40 + int(plen.split(",")[0] or 0)
    print(src, dst, proto, sp, dp, len(opts), s1, s2, iplen, flags or "-",
          mss.split(",")[0] or "-")
'
}

# lbsp_verify FILE SEG1 CLIENT SERVER - check lines of lbsp_packets
# (already filtered to the flows under test) between CLIENT and SERVER:
# every client packet carries exactly one LBSP option with seg1 = SEG1
# and seg2 = :: or SERVER; every server packet one with seg1 = SEG1 and
# seg2 = SERVER; no packet is longer than 1500 bytes.  Fails listing
# the first offending packets; otherwise sets VERIFY_CS and VERIFY_SC
# to the numbers of client and server packets (each must be > 0).
lbsp_verify()
{
	local file=$1 seg1=$2 c=$3 s=$4 out
	out=$(awk -v id="$seg1" -v c="$c" -v s="$s" '
	    function bad(why) { if (nbad++ < 5) print why ": " $0 }
	    $1 == c && $2 == s { cs++
		if ($6 != 1) bad("client packet with " $6 " options")
		else if ($7 != id) bad("client packet seg1 != " id)
		else if ($8 != "::" && $8 != s) bad("client packet seg2 not :: or " s)
	    }
	    $1 == s && $2 == c { sc++
		if ($6 != 1) bad("server packet with " $6 " options")
		else if ($7 != id) bad("server packet seg1 != " id)
		else if ($8 != s) bad("server packet seg2 != " s)
	    }
	    $9 > 1500 { bad("packet longer than 1500 bytes") }
	    END { print "counts", cs + 0, sc + 0, nbad + 0 }' "$file")
	set -- $(echo "$out" | sed -n 's/^counts //p')
	VERIFY_CS=$1
	VERIFY_SC=$2
	if [ "$3" -ne 0 ]; then
		echo "$out" | grep -v '^counts ' | sed 's/^/    /'
		fail "$3 packets of $(basename "$file") without a correct LBSP option (of $VERIFY_CS client, $VERIFY_SC server packets)"
	fi
	[ "$VERIFY_CS" -gt 0 ] || fail "$(basename "$file"): no client packet captured"
	[ "$VERIFY_SC" -gt 0 ] || fail "$(basename "$file"): no server packet captured"
}

# --------------------------------------------------------------- counters

# snmp_all NS - print every kernel counter of NS as "NAME VALUE" lines:
# the /proc/net/snmp6 names (Ip6InHdrErrors, Ip6FragFails,
# Icmp6OutPktTooBigs, Udp6InCsumErrors...) and the /proc/net/snmp ones
# written GROUPField (TcpInCsumErrors, TcpRetransSegs...).
snmp_all()
{
	nsx "$1" cat /proc/net/snmp6 /proc/net/snmp | awk '
	    /^[A-Za-z]+:/ && h[$1] == "" { h[$1] = $0; next }
	    /^[A-Za-z]+:/ { n = split(h[$1], k); split($0, v);
		g = substr($1, 1, length($1) - 1);
		for (i = 2; i <= n; i++) print g k[i], v[i]; next }
	    NF == 2 { print }'
}

# snmp NS FIELD - print one kernel counter of NS ("?" if unknown).
snmp()
{
	snmp_all "$1" | awk -v f="$2" '$1 == f { print $2; found = 1; exit }
		END { if (!found) print "?" }'
}

# snmp_snap NS FILE - save the kernel counters of NS in FILE.
snmp_snap()
{
	snmp_all "$1" >"$2"
}

# The counters that must not move while lbsp runs (default of
# snmp_unchanged).
SNMP_WATCH="Ip6InHdrErrors Ip6InDiscards Ip6FragFails Ip6InTooBigErrors
Icmp6OutPktTooBigs Icmp6InPktTooBigs Udp6InCsumErrors TcpInCsumErrors"

# snmp_unchanged NS FILE [FIELD...] - fail if one of FIELDs (default:
# all of SNMP_WATCH) moved since snmp_snap NS FILE.
snmp_unchanged()
{
	local ns=$1 file=$2 f old new
	shift 2
	[ $# -eq 0 ] && set -- $SNMP_WATCH
	snmp_all "$ns" >"$file.now"
	for f in "$@"; do
		old=$(awk -v f="$f" '$1 == f { print $2 }' "$file")
		new=$(awk -v f="$f" '$1 == f { print $2 }' "$file.now")
		[ -n "$old" ] || fail "$ns: no kernel counter '$f'"
		[ "$old" = "$new" ] ||
			fail "$ns: kernel counter $f moved: $old -> $new"
	done
}

# ------------------------------------------------------------------ lbspd

# lbsp_sock NS - the control socket path of the daemon of NS.
lbsp_sock()
{
	echo "$T/lbspd-$1.sock"
}

# lbspd_start NS CONF - run "$LBSPD -c CONF -f -s SOCK" in NS in the
# background (log in $T/lbspd-NS.log) and wait until "lbspctl stats"
# answers (10 s).  Prints the log and fails when it does not.  Sets
# LBSPD_PID and records LBSPD_PID_<NS>.
lbspd_start()
{
	local ns=$1 conf=$2 sock log i=0
	need_lbspd
	sock=$(lbsp_sock "$ns")
	log=$T/lbspd-$ns.log
	rm -f "$sock"
	# Every test runs on the datapath of LBSP_DATAPATH (nfqueue unless
	# set; the Makefile runs the client / server tests again with tc),
	# unless its configuration chooses one itself.
	grep -q '^[[:space:]]*datapath[[:space:]]' "$conf" ||
		printf 'datapath %s\n' "${LBSP_DATAPATH:-nfqueue}" >>"$conf"
	# nsenter, not "ip netns exec": the daemon keeps the host's mounts,
	# so its tc pins land in the host's /sys/fs/bpf (where they outlive
	# a kill -9, as on a real host) rather than in a private bpffs.
	nsenter --net="/run/netns/$(ns_real "$ns")" "$LBSPD" -c "$conf" -f ${LBSPD_ARGS:-} -s "$sock" \
	    >"$log" 2>&1 </dev/null &
	LBSPD_PID=$!
	LIB_PIDS="$LIB_PIDS $LBSPD_PID"
	eval "LBSPD_PID_$ns=\$LBSPD_PID"
	while ! nsx "$ns" "$LBSPCTL" -s "$sock" stats >/dev/null 2>&1; do
		i=$((i + 1))
		if ! alive "$LBSPD_PID"; then
			wait "$LBSPD_PID"
			echo "# lbspd in $ns exited with $?"
			dump "$log"
			fail "lbspd did not start in $ns"
		fi
		if [ $i -ge 100 ]; then
			dump "$log"
			fail "lbspd in $ns: no answer to 'lbspctl stats' in 10 s"
		fi
		sleep 0.1
	done
}

# lbspd_stop NS - SIGTERM the daemon of NS, wait (5 s) for it to exit.
# Fails if it does not exit, or exits non-zero.
lbspd_stop()
{
	local ns=$1 pid rc i=0
	pid=$(eval "echo \${LBSPD_PID_$ns:-}")
	[ -n "$pid" ] || fail "lbspd_stop: no daemon in $ns"
	kill -TERM "$pid" 2>/dev/null
	while alive "$pid" && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if alive "$pid"; then
		dump "$T/lbspd-$ns.log"
		fail "lbspd in $ns still running 5 s after SIGTERM"
	fi
	wait "$pid"
	rc=$?
	if [ $rc -ne 0 ]; then
		dump "$T/lbspd-$ns.log"
		fail "lbspd in $ns exited with $rc after SIGTERM"
	fi
}

# lbspd_log NS - the daemon log file of NS.
lbspd_log()
{
	echo "$T/lbspd-$1.log"
}

# lbspctl NS ARGS... - run lbspctl against the daemon of NS.
lbspctl()
{
	local ns=$1
	shift
	nsx "$ns" "$LBSPCTL" -s "$(lbsp_sock "$ns")" "$@"
}

# stats_json NS FILE - save "lbspctl stats --json" of NS in FILE.  An
# empty or truncated answer is lbspctl's own error (exit 2).
stats_json()
{
	lbspctl "$1" stats --json >"$2" 2>"$2.err" || {
		cat "$2.err"
		fail "lbspctl stats --json in $1"
	}
}

# json_get FILE-or-STRING EXPR - evaluate the python expression EXPR
# with "j" bound to the parsed JSON (a file path or the JSON text);
# prints the result (lists/dicts as JSON).  Fails on a missing key.
json_get()
{
	"$PY" -c '
import json, os, sys
src, expr = sys.argv[1], sys.argv[2]
j = json.load(open(src)) if os.path.isfile(src) else json.loads(src)
try:
    v = eval(expr, {"j": j})
except (KeyError, IndexError, TypeError) as e:
    sys.stderr.write("json_get: %s: %r\n" % (expr, e))
    sys.exit(1)
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)
' "$1" "$2" || fail "json: no '$2' in $(cat "$1" 2>/dev/null || echo "$1")"
}

# rules_left NS - print the number of lbsp steering rules and chains
# left in NS (NFQUEUE rules or LBSP-* chains in ip6tables, queue rules
# in nft).
rules_left()
{
	local a b
	a=$(nsx "$1" ip6tables-save 2>/dev/null | grep -c -i -e nfqueue -e 'LBSP-')
	b=$(nsx "$1" nft list ruleset 2>/dev/null | grep -c -w 'queue')
	echo $((a + b))
}

# tc_left NS - what the daemon of NS left of its tc datapath: its pins
# (bpffs is shared: lbspd pins under /sys/fs/bpf/lbsp/ns<netns inode>)
# and the tc programs attached to its interfaces.  0 after a clean exit.
tc_left()
{
	local ino n=0 pins=0 dev
	ino=$(stat -L -c %i "/run/netns/$(ns_real "$1")") ||
		fail "tc_left: no namespace $1"
	[ -d "/sys/fs/bpf/lbsp/ns$ino" ] &&
		pins=$(($(ls -A "/sys/fs/bpf/lbsp/ns$ino" | wc -l) + 1))
	for dev in $(nsx "$1" ls /sys/class/net); do
		n=$((n + $(nsx "$1" tc filter show dev "$dev" ingress 2>/dev/null |
		    grep -c lbsp_) + $(nsx "$1" tc filter show dev "$dev" egress \
		    2>/dev/null | grep -c lbsp_)))
	done
	n=$((n + $(nsx "$1" bpftool net show 2>/dev/null | grep -c lbsp_)))
	echo $((pins + n))
}

# lbsp_counter FILE NAME - what the daemon of a saved "lbspctl stats
# --json" counted as NAME: its own counter (NFQUEUE path) plus the tc
# programs' counter of that name, summed over the roles on tc.
lbsp_counter()
{
	json_get "$1" "j['counters'].get('$2', 0) + sum(r.get('$2', 0) for r in j.get('kernel', {}).values())"
}

# ---------------------------------------------------------------- balancer
#
# Helpers for the balancer tests (20-26) on topo_full: servers that
# answer their own name, the daemons of each role, many legacy clients
# on c2, and the balancer's JSON in one place.

# lb_www [PORT...] - on each server sN (N = 1..3): a directory $T/wN
# holding "name" (the line "sN") and "big" (2 MB of random bytes, the
# same for all servers), and a python3 http.server on [2001:db8:5::N]
# for each PORT (default 80).  Waits until they all listen.
lb_www()
{
	local i p
	[ $# -eq 0 ] && set -- 80
	[ -f "$T/big" ] || head -c 2000000 /dev/urandom >"$T/big"
	for i in 1 2 3; do
		mkdir -p "$T/w$i"
		echo "s$i" >"$T/w$i/name"
		ln -f "$T/big" "$T/w$i/big" 2>/dev/null ||
			cp "$T/big" "$T/w$i/big"
		for p in "$@"; do
			http_server s$i 2001:db8:5::$i "$p" "$T/w$i"
		done
	done
}

# lb_servers_lbspd - lbspd with "role server" on s1, s2 and s3 (their
# answers to LBSP clients carry seg2 = their own address).
lb_servers_lbspd()
{
	local i
	printf 'role server\nqueue 0\n' >"$T/server.conf"
	for i in 1 2 3; do
		lbspd_start s$i "$T/server.conf"
	done
}

# lb_client_lbspd PORTS... - lbspd with "role client" on c1 for $VIP,
# the given ports, trusting the servers' prefix 2001:db8:5::/64.
lb_client_lbspd()
{
	cat >"$T/client.conf" <<-CONF
	role client
	queue 0
	vip $VIP {
		ports $*
		allow-servers 2001:db8:5::/64
	}
	CONF
	lbspd_start c1 "$T/client.conf"
}

# lb_start CONF - lbspd (balancer) on lb with CONF, after "lbspd -n".
lb_start()
{
	local out
	out=$("$LBSPD" -n -c "$1" 2>&1) || fail "$(basename "$1") rejected: $out"
	lbspd_start lb "$1"
}

# lb_restart CONF - stop lb's daemon (it must exit 0) and start it again
# with CONF: flows and stick table are lost.
lb_restart()
{
	lbspd_stop lb
	mv "$T/lbspd-lb.log" "$T/lbspd-lb.log.$(date +%s%N)"
	lb_start "$1"
}

# legacy_addr N - the N-th extra legacy client address on c2:
# 2001:db8:1::100 + N, N from 0 (hexadecimal: ::100 ... ::13b for 60).
legacy_addr()
{
	printf '2001:db8:1::%x\n' $((0x100 + $1))
}

# legacy_addrs FIRST COUNT - add the addresses legacy_addr FIRST ...
# FIRST+COUNT-1 to c2's eth0 (nodad: usable at once).
legacy_addrs()
{
	local i=$1 end=$(($1 + $2))
	while [ $i -lt $end ]; do
		nsx c2 ip -6 addr add "$(legacy_addr $i)/64" dev eth0 nodad ||
			fail "address $(legacy_addr $i) on c2"
		i=$((i + 1))
	done
}

# flowlabels NS on|off - the kernel's automatic flow labels in NS
# (net.ipv6.auto_flowlabels 1 or 0).  Off: every socket sends label 0,
# so a legacy client sticks by its source address alone.
flowlabels()
{
	local v=0
	[ "$2" = on ] && v=1
	nsx "$1" sysctl -qw net.ipv6.auto_flowlabels=$v >/dev/null ||
		fail "auto_flowlabels in $1"
}

# vip_get NS [SRC] PATH [PORT] - curl http://[$VIP]:PORT/PATH from NS (from
# SRC when not "-"), 5 s at most; prints the body, fails on error.
vip_get()
{
	local ns=$1 src=$2 path=$3 port=${4:-80} out
	if [ "$src" = - ]; then
		out=$(nsx "$ns" curl -gsS --max-time 5 \
		    "http://[$VIP]:$port/$path" 2>&1)
	else
		out=$(nsx "$ns" curl -gsS --max-time 5 --interface "$src" \
		    "http://[$VIP]:$port/$path" 2>&1)
	fi || fail "curl from $ns ${src#-} to [$VIP]:$port/$path: $out"
	echo "$out"
}

# legacy_round FIRST COUNT OUT - one new session from each legacy
# address FIRST ... FIRST+COUNT-1 (curl /name from c2): OUT gets one line
# "ADDRESS sN" per client.
legacy_round()
{
	local i=$1 end=$(($1 + $2)) a out
	: >"$3"
	while [ $i -lt $end ]; do
		a=$(legacy_addr $i)
		out=$(nsx c2 curl -gsS --max-time 5 --interface "$a" \
		    "http://[$VIP]/name" 2>&1) ||
			fail "curl from c2 $a to [$VIP]/name: $out"
		echo "$a $out" >>"$3"
		i=$((i + 1))
	done
}

# tally FILE - count the server names (last word of each line) of FILE:
# prints "s1 N1 s2 N2 s3 N3" (0 for a server never named).
tally()
{
	awk '{ n[$NF]++ } END { printf "s1 %d s2 %d s3 %d\n",
	    n["s1"], n["s2"], n["s3"] }' "$1"
}

# lb_counter FILE NAME - counters.NAME of a saved "lbspctl stats --json".
lb_counter()
{
	json_get "$1" "j['counters']['$2']"
}

# lb_stats_now NAME - counters.NAME of lb's daemon now.
lb_stats_now()
{
	stats_json lb "$T/stats-now.json"
	lb_counter "$T/stats-now.json" "$1"
}

# lb_server_field ADDR FIELD - FIELD of server ADDR of $VIP in lb's
# "lbspctl servers --json" (state, eligible, drain, sessions...).
lb_server_field()
{
	lbspctl lb servers --json >"$T/servers.json" 2>&1 ||
		fail "lbspctl servers --json: $(cat "$T/servers.json")"
	json_get "$T/servers.json" "[s['$2'] for v in j if v['vip'] == '$VIP' for s in v['servers'] if s['address'] == '$1'][0]"
}

# lb_stick_server KIND KEY [LABEL] - the server of lb's stick entry of
# kind KIND ("seg1", "src-label", "src") and key KEY (and label LABEL
# for src-label), "none" when there is none.
lb_stick_server()
{
	lbspctl lb stick --json >"$T/stick.json" 2>&1 ||
		fail "lbspctl stick --json: $(cat "$T/stick.json")"
	json_get "$T/stick.json" "([e['server'] for e in j if e['kind'] == '$1' and e['key'] == '$2' and ('${3:-}' == '' or str(e.get('label')) == '${3:-}')] + ['none'])[0]"
}

# ------------------------------------------------------------- single pass
#
# Helpers for the single-pass tests (40-44), scripts/demo and
# bench/balancer: the slides' megaproxy topology, the servers, the
# daemons of every role, and packet counters kept by the kernel (nft)
# so that what the balancer handled is counted from outside lbsp.

# topo_megaproxy - topo_full's servers, router and balancer, with the
# clients behind two NAT66 proxies (ip6tables MASQUERADE), as in the
# slides' megaproxy table:
#
#   c1 eth0 2001:db8:a::1 -+- px1 brc 2001:db8:a::ff   px1 eth0 2001:db8:1::10 -+
#   c2 eth0 2001:db8:a::2 -+                                                  |
#   c1 eth1 2001:db8:b::1 --- px2 lan 2001:db8:b::ff   px2 eth0 2001:db8:1::20 -+- r brc
#   c3 eth0 2001:db8:1::3 (no proxy) ---------------------------------------+  2001:db8:1::ff
#   r ---- lb (VIP 2001:db8:f::100 and VIP2 2001:db8:f::200), s1 s2 s3: as topo_full
#
# c1 has one identity, 2001:db8:a::1: it goes through px1 by default
# and through px2 for TCP port 443 (an ip -6 rule on the destination
# port selects table 443, whose default route leaves by eth1 with
# source 2001:db8:a::1).  px1 and px2 masquerade what leaves their
# eth0, so r, lb and the servers see 2001:db8:1::10 or ::20 as the
# source.  Interfaces on r: bridge ports "px1" "px2" "c3" (brc), "s1"
# "s2" "s3" (brs), "lb".
VIP2=2001:db8:f::200
C3_ADDR=2001:db8:1::3
PX1_ADDR=2001:db8:1::10
PX2_ADDR=2001:db8:1::20
PX1_LAN=2001:db8:a::ff
PX2_LAN=2001:db8:b::ff
C1_PX2_ADDR=2001:db8:b::1
topo_megaproxy()
{
	local h i
	C1_ADDR=2001:db8:a::1
	C2_ADDR=2001:db8:a::2
	ns_new r
	ns_new lb
	forwarding r
	forwarding lb
	bridge r brc $R_C_ADDR/64
	bridge r brs $R_S_ADDR/64
	for h in px1 px2 c1 c2 c3; do
		ns_new $h
	done
	forwarding px1
	forwarding px2
	# px1: a LAN bridge for c1 and c2, uplink to r.
	bridge px1 brc $PX1_LAN/64
	link px1 eth0 $PX1_ADDR/64 r px1 -
	bridge_port r brc px1
	route px1 default via $R_C_ADDR
	link c1 eth0 $C1_ADDR/64 px1 c1 -
	link c2 eth0 $C2_ADDR/64 px1 c2 -
	bridge_port px1 brc c1
	bridge_port px1 brc c2
	# px2: a point-to-point LAN to c1's second interface.
	link px2 eth0 $PX2_ADDR/64 r px2 -
	bridge_port r brc px2
	route px2 default via $R_C_ADDR
	link c1 eth1 $C1_PX2_ADDR/64 px2 lan $PX2_LAN/64
	route px2 $C1_ADDR/128 via $C1_PX2_ADDR
	for h in px1 px2; do
		nsx $h ip6tables -t nat -A POSTROUTING -o eth0 -j MASQUERADE ||
			fail "NAT66 in $h"
	done
	# c1: px1 by default, px2 for port 443, one source address.
	route c1 default via $PX1_LAN
	nsx c1 ip -6 route add default via $PX2_LAN dev eth1 \
	    src $C1_ADDR table 443 || fail "table 443 in c1"
	nsx c1 ip -6 rule add ipproto tcp dport 443 lookup 443 pref 100 ||
		fail "ip -6 rule dport 443 in c1"
	route c2 default via $PX1_LAN
	# c3: a client without a proxy.
	link c3 eth0 $C3_ADDR/64 r c3 -
	bridge_port r brc c3
	route c3 default via $R_C_ADDR
	topo_lb_servers
}

# sp_www MB PORT... - on each server sN: $T/wN holding "name" (the line
# "sN") and, when MB > 0, "big" (MB megabytes of random bytes, the same
# file on every server); a python3 http.server on [2001:db8:5::N]:PORT
# for each PORT (so 21 and 443 answer plain HTTP too: a stand-in for
# the FTP and HTTPS of the slides).  Sets SP_BIG_SHA (sha256 of big).
sp_www()
{
	local mb=$1 i p
	shift
	if [ "$mb" -gt 0 ] && [ ! -f "$T/big" ]; then
		head -c $((mb * 1000000)) /dev/urandom >"$T/big"
	fi
	SP_BIG_SHA=
	[ -f "$T/big" ] && SP_BIG_SHA=$(sha256sum <"$T/big" | cut -d' ' -f1)
	for i in 1 2 3; do
		mkdir -p "$T/w$i"
		echo "s$i" >"$T/w$i/name"
		[ -f "$T/big" ] && { ln -f "$T/big" "$T/w$i/big" 2>/dev/null ||
		    cp "$T/big" "$T/w$i/big"; }
		for p in "$@"; do
			http_server s$i 2001:db8:5::$i "$p" "$T/w$i"
		done
	done
}

# sp_lb_conf FILE [CHECK] - a balancer configuration in FILE: $VIP and
# $VIP2, ports 80 443 21, round robin over s1 s2 s3; CHECK (optional) is
# a "check ..." line for both vips.
sp_lb_conf()
{
	local v
	printf 'role balancer\nqueue 0\n' >"$1"
	for v in $VIP $VIP2; do
		cat >>"$1" <<-CONF
		vip $v {
			ports 80 443 21
			scheduler rr
			server $S1_ADDR
			server $S2_ADDR
			server $S3_ADDR
			${2:-}
		}
		CONF
	done
}

# sp_client_conf FILE [LINE...] - a client configuration in FILE: $VIP
# and $VIP2, ports 80 443 21, allow-servers 2001:db8:5::/64, with each
# LINE ("redirect off", "identity random", "fallback-timeout 1"...) as
# a global statement.  SP_ALLOW overrides the allow-servers prefix.
sp_client_conf()
{
	local f=$1 l v
	shift
	printf 'role client\nqueue 0\n' >"$f"
	for l in "$@"; do
		echo "$l" >>"$f"
	done
	for v in $VIP $VIP2; do
		cat >>"$f" <<-CONF
		vip $v {
			ports 80 443 21
			allow-servers ${SP_ALLOW:-2001:db8:5::/64}
		}
		CONF
	done
}

# sp_daemons LBCONF CLIENTCONF CLIENT... - lbspd everywhere: role server
# on s1 s2 s3 (config $T/server.conf, or SP_SERVER_CONF), the balancer
# on lb with LBCONF (checked with -n first), role client on each CLIENT
# with CLIENTCONF.
sp_daemons()
{
	local lbc=$1 cc=$2 i out h
	shift 2
	if [ -z "${SP_SERVER_CONF:-}" ]; then
		SP_SERVER_CONF=$T/server.conf
		printf 'role server\nqueue 0\n' >"$SP_SERVER_CONF"
	fi
	for i in 1 2 3; do
		lbspd_start s$i "$SP_SERVER_CONF"
	done
	out=$("$LBSPD" -n -c "$lbc" 2>&1) ||
		fail "$(basename "$lbc") rejected: $out"
	lbspd_start lb "$lbc"
	for h in "$@"; do
		lbspd_start "$h" "$cc"
	done
}

# sp_get NS URL-VIP PORT PATH [LPORT] - curl http://[URL-VIP]:PORT/PATH
# from NS (from local port LPORT when given), 5 s at most (SP_MAXTIME
# overrides); prints the body.  Returns curl's status; the error text
# goes to stdout instead of the body.
sp_get()
{
	nsx "$1" curl -gsS --max-time "${SP_MAXTIME:-5}" ${5:+--local-port "$5"} \
	    "http://[$2]:$3/$4" 2>&1
}

# sp_count_add NS NAME pre|out MATCH... - a named nft counter NAME in
# NS counting the packets that match MATCH (nft expression words, e.g.
# "ip6 saddr 2001:db8:1::3 tcp sport 40000") in prerouting ("pre") or
# output ("out"), at priority -350: before lbspd's raw-table rules
# (-300), so it counts what arrives or what the application sent, not
# what lbspd made of it.  nft's "tcp" and "th" skip extension headers,
# so packets with the LBSP option match.  The table (ip6
# lbsp_sp_count) is lbsp's in name only: it holds no queue rule.
sp_count_add()
{
	local ns=$1 name=$2 hook=$3
	shift 3
	if ! nsx "$ns" nft list table ip6 lbsp_sp_count >/dev/null 2>&1; then
		nsx "$ns" nft -f - <<-EOF || fail "nft counter table in $ns"
		table ip6 lbsp_sp_count {
			chain pre { type filter hook prerouting priority -350; }
			chain out { type filter hook output priority -350; }
		}
		EOF
	fi
	nsx "$ns" nft add counter ip6 lbsp_sp_count "$name" ||
		fail "nft counter $name in $ns"
	nsx "$ns" nft add rule ip6 lbsp_sp_count "$hook" "$@" \
	    counter name "$name" || fail "nft rule for counter $name in $ns"
}

# sp_count NS NAME - packets counted so far by counter NAME of NS.
sp_count()
{
	nsx "$1" nft list counter ip6 lbsp_sp_count "$2" 2>/dev/null |
	    sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

# sp_cpu_ticks PID - utime + stime of PID (and its threads) in clock
# ticks (/proc/PID/stat fields 14 and 15); 0 when PID is gone.  Time
# the kernel spends in softirq for its packets is not included.
sp_cpu_ticks()
{
	awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" \
	    2>/dev/null || echo 0
}

# sp_first_packets PCAP - the first packet of each TCP connection in
# PCAP (by client address and port, SYN without ACK) as lbsp_packets
# lines, in capture order.
sp_first_packets()
{
	lbsp_packets "$1" "tcp.flags.syn == 1 && tcp.flags.ack == 0" |
	    awk '!seen[$1 " " $4]++'
}

# sp_row PCAP LPORT - the slides' table row of the connection a client
# opened from local port LPORT, read from the first packet (SYN) of
# that connection in PCAP (a capture on the client side of the
# balancer, e.g. r's brc): sets ROW_SRC ROW_DST ROW_PORT ROW_SEG1
# ROW_SEG2 (as sent; "-" without an LBSP option) and ROW_SEL ("LB" when
# seg2 is zero, "LBSPOD-2" when the client named its server, "src" with
# no option).  Returns 1 when PCAP holds no SYN from that port (a NAT
# that changed the port, or no connection).
sp_row()
{
	local line
	line=$(sp_first_packets "$1" | awk -v p="$2" '$4 == p' | head -n 1)
	[ -n "$line" ] || return 1
	set -- $line
	ROW_SRC=$1 ROW_DST=$2 ROW_PORT=$5 ROW_SEG1=$7 ROW_SEG2=$8
	case $ROW_SEG2 in
	::) ROW_SEL=LB ;;
	-) ROW_SEL=src ;;
	*) ROW_SEL=LBSPOD-2 ;;
	esac
	return 0
}

# sp_name ADDR - "sN" for server address 2001:db8:5::N, "vip" for
# $VIP, "vip2" for $VIP2, else ADDR itself (for printing tables).
sp_name()
{
	case $1 in
	2001:db8:5::[123]) echo "s${1##*:}" ;;
	"$VIP") echo vip ;;
	"$VIP2") echo vip2 ;;
	*) echo "$1" ;;
	esac
}

# need_shims - SHIM_CLIENT and SHIM_SERVER: the shims of this build.
# They are built without the sanitizers (an ASan library cannot be
# preloaded into ordinary programs); one that is not is a build bug.
# Both are copied into $T/shims (0755, files 0644) and SHIM_CLIENT and
# SHIM_SERVER name the copies: a program run as another user must be
# able to read the library whatever the permissions of the build tree
# (a tree under /root, 0700, is unreadable to it, and ld.so then only
# warns and runs the program without the shim).
need_shims()
{
	local lib
	: "${SHIM_CLIENT:=$top_builddir/client-shim/.libs/liblbsp-client.so}"
	: "${SHIM_SERVER:=$top_builddir/server-shim/.libs/liblbsp-server.so}"
	[ -f "$SHIM_CLIENT" ] || fail "client shim not found at $SHIM_CLIENT"
	[ -f "$SHIM_SERVER" ] || fail "server shim not found at $SHIM_SERVER"
	for lib in "$SHIM_CLIENT" "$SHIM_SERVER"; do
		ldd "$lib" 2>/dev/null | grep -q libasan &&
			fail "$lib links the sanitizers: it cannot be preloaded"
	done
	work_dir
	mkdir -p "$T/shims" && chmod 0755 "$T/shims" || fail "mkdir $T/shims"
	cp "$SHIM_CLIENT" "$T/shims/liblbsp-client.so" &&
	    cp "$SHIM_SERVER" "$T/shims/liblbsp-server.so" &&
	    chmod 0644 "$T/shims/liblbsp-client.so" "$T/shims/liblbsp-server.so" ||
		fail "copying the shims to $T/shims"
	SHIM_CLIENT=$T/shims/liblbsp-client.so
	SHIM_SERVER=$T/shims/liblbsp-server.so
}

# preloaded PID LIB - true when the process PID has LIB mapped: the
# proof that LD_PRELOAD took (ld.so only warns when it cannot load it).
preloaded()
{
	grep -qF "$2" "/proc/$1/maps" 2>/dev/null
}
