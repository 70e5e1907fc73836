#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 15-capabilities.sh -- the running daemon keeps only what it needs.
#
# For a client-role and a server-role lbspd, in every thread
# (/proc/PID/task/TID/status: capabilities and no-new-privs are per
# thread, a thread started before the drop keeps the old ones):
# - CapEff and CapPrm hold at most CAP_NET_ADMIN (bit 12) and
#   CAP_NET_RAW (bit 13) (on tc also CAP_BPF, bit 39), and some thread
#   holds CAP_NET_ADMIN; CapBnd,
#   CapInh and CapAmb hold nothing else (the last two may hold those:
#   the daemon runs ip6tables-restore to remove its rules at exit);
# - NoNewPrivs is 1;
# - no uid or gid (real, effective, saved, filesystem) is 0, no
#   supplementary group is 0: the user is "lbsp" if it exists, else
#   "nobody";
# - the control socket is mode 0660 (doc/design.md §5);
# and the daemons still do their work after dropping privileges (a curl
# from the client to the server gets the option both ways).
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
command -v curl >/dev/null || fail "curl not installed"
topo_pair

# "lbspctl stats --json" field names, in one place.
counter() { lbsp_counter "$1" "$2"; }

if getent passwd lbsp >/dev/null; then
	user=lbsp
else
	user=nobody
fi
uid=$(id -u $user) || fail "no user $user"

cat >"$T/client.conf" <<EOF
role client
queue 0
vip $S_ADDR {
	ports 80
	allow-servers 2001:db8:1::/64
}
EOF
cat >"$T/server.conf" <<EOF
role server
queue 0
server-address $S_ADDR
EOF

mkdir "$T/www"
echo S >"$T/www/name"
http_server S $S_ADDR 80 "$T/www"
lbspd_start S "$T/server.conf"
lbspd_start C "$T/client.conf"

# check_task NS STATUS-FILE - the rules above for one thread.
ALLOWED=$((1 << 12 | 1 << 13))
# On the tc datapath also CAP_BPF (bit 39): the maps, on kernels that
# keep bpf(2) for it.
[ "${LBSP_DATAPATH:-nfqueue}" = tc ] && ALLOWED=$((ALLOWED | 1 << 39))
ALLOWED_HEX=$(printf '%#x' $ALLOWED)
check_task()
{
	local ns=$1 st=$2 what f v
	[ -r "$st" ] || return 0	# the thread ended meanwhile
	what="lbspd ($ns) $(basename "$(dirname "$st")")"
	for f in CapEff CapPrm CapBnd; do
		v=$(awk -v f="$f:" '$1 == f { print $2 }' "$st")
		[ -n "$v" ] || fail "$what: no $f"
		[ $((0x$v & ~ALLOWED)) -eq 0 ] ||
			fail "$what: $f = $v, more than allowed ($ALLOWED_HEX)"
	done
	for f in CapInh CapAmb; do
		v=$(awk -v f="$f:" '$1 == f { print $2 }' "$st")
		[ -n "$v" ] || fail "$what: no $f"
		[ $((0x$v & ~ALLOWED)) -eq 0 ] ||
			fail "$what: $f = $v, more than allowed ($ALLOWED_HEX)"
	done
	v=$(awk '$1 == "NoNewPrivs:" { print $2 }' "$st")
	[ "$v" = 1 ] || fail "$what: NoNewPrivs = '$v', want 1"
	set -- $(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "$st")
	[ $# -eq 4 ] || fail "$what: no Uid line"
	for v in "$@"; do
		[ "$v" != 0 ] || fail "$what: runs as root (Uid: $*)"
		[ "$v" = "$uid" ] || fail "$what: Uid: $*, want $user ($uid)"
	done
	set -- $(awk '$1 == "Gid:" { print $2, $3, $4, $5 }' "$st")
	for v in "$@"; do
		[ "$v" != 0 ] || fail "$what: group root (Gid: $*)"
	done
	for v in $(awk '$1 == "Groups:" { $1 = ""; print }' "$st"); do
		[ "$v" != 0 ] || fail "$what: supplementary group root"
	done
}

for ns in C S; do
	pid=$(eval "echo \$LBSPD_PID_$ns")
	alive "$pid" || fail "lbspd in $ns is not running"
	n=0
	for st in /proc/$pid/task/*/status; do
		check_task $ns "$st"
		n=$((n + 1))
	done
	[ $n -ge 1 ] || fail "lbspd in $ns: no thread to inspect"
	# Some thread must still hold CAP_NET_ADMIN to do the work.
	admin=0
	for st in /proc/$pid/task/*/status; do
		v=$(awk '$1 == "CapEff:" { print $2 }' "$st" 2>/dev/null)
		[ -n "$v" ] && [ $((0x$v & (1 << 12))) -ne 0 ] && admin=1
	done
	[ $admin = 1 ] || fail "lbspd in $ns: no thread holds CAP_NET_ADMIN"
	info "lbspd ($ns, pid $pid): $n threads, $(awk '/^(CapEff|CapBnd|NoNewPrivs|Uid):/ { printf "%s ", $0 }' /proc/$pid/status)"
	mode=$(stat -c %a "$(lbsp_sock $ns)") ||
		fail "lbspd in $ns: no control socket"
	[ "$mode" = 660 ] || fail "lbspd in $ns: control socket mode $mode, want 660"
done

# Still working with only those privileges.
capture S $S_IF "$T/link.pcap"
out=$(nsx C curl -gsS --max-time 10 "http://[$S_ADDR]/name" 2>&1) ||
	fail "curl: $out"
[ "$out" = S ] || fail "curl: got '$out'"
capture_stop
lbsp_packets "$T/link.pcap" "tcp.port == 80" >"$T/packets"
lbsp_verify "$T/packets" $C_ADDR $C_ADDR $S_ADDR
stats_json C "$T/stats-C.json"
[ "$(counter "$T/stats-C.json" inserted)" -ge 1 ] ||
	fail "client inserted nothing after dropping privileges"
for ns in C S; do
	lbspd_stop $ns
	[ "$(rules_left $ns)" -eq 0 ] ||
		fail "$ns: rules left after an unprivileged lbspd exited"
done

pass "both daemons run as $user with CAP_NET_ADMIN (+CAP_NET_RAW) only, no-new-privs"
