#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 33-shim-redirect.sh -- connect-time redirect by the client shim, and
# its fallback (topo_full: lb runs lbspd as the balancer of the vip over
# s1 and s2 with a TCP health check; s1 and s2 run lbspd, role server,
# in front of python3 http.server; c1 runs lbspd, role client, which
# learns the serving server and puts the vip back as the source of the
# answers -- with "redirect off": every redirect seen is the shim's --
# and curl under the client shim).
#
# Asserts:
# 1. the first connection goes to the vip (through lb) and lbspd on c1
#    learns its server X;
# 2. a new curl process connects straight to X -- its SYN leaves c1 for
#    X, not the vip, and nothing of it crosses lb -- because the shim
#    found X in lbspd's cache; curl is answered by X;
# 3. without lbspd's cache (LBSP_SOCKET pointing nowhere), one curl
#    process's second connection goes straight to X: the shim learned
#    X itself from the first one's answer;
# 4. X's web server gone (its port refuses): a new process tries X,
#    falls back to the vip on the same socket, is answered by the other
#    server Y; the next process goes straight to Y.
# How it fails: drop the redirect in client_connect() (2-4 see SYNs to
# the vip), drop learn() (3), or the fallback (4: curl fails).
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
command -v curl >/dev/null || fail "curl not installed"

need_shims

topo_full
cat >"$T/lb.conf" <<EOF
role balancer
queue 0
vip $VIP {
	ports 80
	scheduler rr
	server $S1_ADDR
	server $S2_ADDR
	check tcp port 80 interval 1 timeout 1 rise 1 fall 1
}
EOF
# lbspd on c1 learns and rewrites answers but does not redirect itself
# (so every redirect seen here is the shim's); the shim's own
# configuration has redirect on.
cat >"$T/c1.conf" <<EOF
role client
queue 0
redirect off
vip $VIP {
	ports 80
	allow-servers 2001:db8:5::/64
}
EOF
cat >"$T/shim.conf" <<EOF
role client
redirect on
fallback-timeout 2
vip $VIP {
	ports 80
	allow-servers 2001:db8:5::/64
}
EOF
printf 'role server\nqueue 0\n' >"$T/s.conf"
for i in 1 2; do
	mkdir -p "$T/w$i"
	echo s$i >"$T/w$i/name"
	http_server s$i 2001:db8:5::$i 80 "$T/w$i"
	eval "HTTP_PID_s$i=\$BG_PID"
	lbspd_start s$i "$T/s.conf"
done
lbspd_start lb "$T/lb.conf"
lbspd_start c1 "$T/c1.conf"

# get TAG [ENV...] [-- URL...] - one curl process on c1 under the shim
# (LBSP_DEBUG on); answers in $T/TAG.out, shim log in $T/TAG.err.
get()
{
	local tag=$1
	shift
	nsx c1 env LD_PRELOAD="$SHIM_CLIENT" LBSP_CONF="$T/shim.conf" \
	    LBSP_SOCKET="$(lbsp_sock c1)" LBSP_DEBUG=1 "$@" \
	    >"$T/$tag.out" 2>"$T/$tag.err" ||
		{ dump "$T/$tag.err"; fail "$tag: curl failed"; }
	info "$tag: $(tr '\n' ' ' <"$T/$tag.out")"
}
URL="http://[$VIP]/name"
CURL="curl -gsS --max-time 10"
# syns PCAP - "DST" of every SYN c1 sent, in order.
syns()
{
	lbsp_packets "$1" | awk -v c=$C1_ADDR '$1 == c && $10 == "0x0002" { print $2 }'
}

# 1. Through the balancer; lbspd on c1 learns the server.
get first $CURL "$URL"
X=$(cat "$T/first.out")
case $X in s1 | s2) ;; *) fail "first answer '$X'" ;; esac
XA=$(echo $X | sed 's/^s/2001:db8:5::/')
if [ $X = s1 ]; then Y=s2; else Y=s1; fi
YA=$(echo $Y | sed 's/^s/2001:db8:5::/')
cached() { lbspctl c1 cache --json | grep -q "\"server\": \"$XA\""; }
wait_for "lbspd on c1 to cache $XA" 5 cached

# 2. A new process: straight to X, found in lbspd's cache.
capture r c1 "$T/c1-2.pcap"
capture lb eth0 "$T/lb-2.pcap"
get second $CURL "$URL"
capture_stop
[ "$(cat "$T/second.out")" = $X ] || fail "second process answered by $(cat "$T/second.out"), not $X"
[ "$(syns "$T/c1-2.pcap")" = "$XA" ] ||
	fail "second process: SYNs to '$(syns "$T/c1-2.pcap" | tr '\n' ' ')', want $XA only"
n=$(lbsp_packets "$T/lb-2.pcap" | awk -v c=$C1_ADDR '$1 == c || $2 == c' | wc -l)
[ "$n" -eq 0 ] || fail "second process: $n packets crossed the balancer"
grep -q "(redirect)" "$T/second.err" || fail "second process: the shim did not log the redirect"

# 3. The shim's own cache: no lbspd to ask, two connections in one
# process: the vip, then X directly.
capture r c1 "$T/c1-3.pcap"
get third LBSP_SOCKET=/nonexistent/lbspd.sock $CURL "$URL" "$URL"
capture_stop
[ "$(cat "$T/third.out" | tr '\n' ' ')" = "$X $X " ] ||
	fail "third process answered '$(cat "$T/third.out" | tr '\n' ' ')'"
got=$(syns "$T/c1-3.pcap" | tr '\n' ' ')
[ "$got" = "$VIP $XA " ] || fail "third process: SYNs to '$got', want '$VIP $XA'"
grep -q "learned $VIP -> $XA" "$T/third.err" || fail "third process: nothing learned"

# 4. X gone: fall back to the vip, answered by Y; then straight to Y.
pid=$(eval "echo \$HTTP_PID_$X")
kill "$pid"
down() { grep -q "server $XA is down" "$(lbspd_log lb)"; }
wait_for "the balancer to mark $XA down" 10 down
capture r c1 "$T/c1-4.pcap"
get fourth $CURL "$URL"
[ "$(cat "$T/fourth.out")" = $Y ] || fail "fourth process answered by $(cat "$T/fourth.out"), not $Y"
grep -q "did not answer: back to $VIP" "$T/fourth.err" ||
	{ dump "$T/fourth.err"; fail "fourth process: no fallback logged"; }
cachedy() { lbspctl c1 cache --json | grep -q "\"server\": \"$YA\""; }
wait_for "lbspd on c1 to cache $YA" 5 cachedy
get fifth $CURL "$URL"
capture_stop
[ "$(cat "$T/fifth.out")" = $Y ] || fail "fifth process answered by $(cat "$T/fifth.out"), not $Y"
got=$(syns "$T/c1-4.pcap" | tr '\n' ' ')
[ "$got" = "$XA $VIP $YA " ] || fail "fourth+fifth: SYNs to '$got', want '$XA $VIP $YA'"

pass "redirect to $X from lbspd's cache and from the shim's own; fallback to the vip, then $Y"
