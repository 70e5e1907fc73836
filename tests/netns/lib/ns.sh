# SPDX-License-Identifier: GPL-2.0-or-later
# lib/ns.sh -- network namespaces, veth pairs, bridges, addresses,
# routes, sysctls, and cleanup() of everything a test started.
# Sourced by tests/netns/lib.sh, never on its own.

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
