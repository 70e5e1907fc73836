# SPDX-License-Identifier: GPL-2.0-or-later
# lib/counters.sh -- counters kept by the kernel, outside lbsp: the
# namespaces' SNMP counters, nft packet counters, a process's CPU time.
# Sourced by tests/netns/lib.sh, never on its own.

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
