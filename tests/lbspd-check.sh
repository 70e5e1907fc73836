#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# lbspd -n: the shipped example configurations pass with
# "configuration OK" and no warning; a broken one prints every error as
# FILE:LINE: message and exits 1; a server address in two vips on one
# port is a FILE:LINE: warning; so is each setting that would silently
# do nothing (a client vip without allow-servers, a server-address
# that is not this host's or without role server, server lines without
# role balancer, a vip nothing uses), and -n still exits 0; a missing
# file is a clear error; generated
# configurations of 1,000 vips x 8 servers and of one 4,000-server vip
# pass, for the balancer too; one server more than the limit is one
# error; a file of over a million server lines is read, one over 64 MiB
# refused.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=.}"
lbspd="$top_builddir/lbspd/lbspd"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

for conf in "$top_srcdir"/examples/*.conf; do
	out=$("$lbspd" -n -c "$conf" 2>&1) || fail "$conf: $out"
	[ "$out" = "configuration OK" ] || fail "$conf: unexpected: $out"
done

# warned NAME WANT - run lbspd -n on $tmp/NAME.conf: exit 0, "configuration
# OK" on stdout, and on stderr exactly the lines of WANT (one
# "LINE: TEXT" a line, TEXT the start of the message after
# "FILE:LINE: warning: "), nothing when WANT is empty.
warned()
{
	local f="$tmp/$1.conf"
	"$lbspd" -n -c "$f" >"$tmp/stdout" 2>"$tmp/stderr" ||
		fail "$1: exit $?: $(cat "$tmp/stdout" "$tmp/stderr")"
	[ "$(cat "$tmp/stdout")" = "configuration OK" ] ||
		fail "$1: stdout: $(cat "$tmp/stdout")"
	printf '%s\n' "$2" | sed '/^$/d' >"$tmp/want"
	[ "$(wc -l <"$tmp/stderr")" -eq "$(wc -l <"$tmp/want")" ] ||
		fail "$1: want $(wc -l <"$tmp/want") warnings, got: $(cat "$tmp/stderr")"
	while IFS= read -r w; do
		grep -qF "$f:${w%%: *}: warning: ${w#*: }" "$tmp/stderr" ||
			fail "$1: no '$w' in: $(cat "$tmp/stderr")"
	done <"$tmp/want"
}

# The silent no-ops.  A client vip with no allow-servers: the client
# never follows seg2, single pass never happens (with redirect on, the
# default); "redirect off" says so, allow-servers fixes it.
cat >"$tmp/noallow.conf" <<'CONF'
role client
vip 2001:db8:f::100 {
    ports 80
}
vip 2001:db8:f::200 {
    allow-servers 2001:db8:5::/64
}
CONF
warned noallow '2: vip 2001:db8:f::100 has no allow-servers: the client never follows a server'"'"'s seg2, so single pass never happens for it; add "allow-servers PREFIX"'
printf 'redirect off\n' >>"$tmp/noallow.conf"
warned noallow ''

# Settings of a role that is not set, and a vip nothing uses.
cat >"$tmp/roles.conf" <<'CONF'
role balancer
server-address 2001:db8:5::1
vip 2001:db8:f::100 {
    allow-servers 2001:db8:5::/64
    server 2001:db8:5::1
}
vip 2001:db8:f::200 {
    ports 80
}
CONF
warned roles '2: server-address 2001:db8:5::1 is set but role server is not: it does nothing
3: vip 2001:db8:f::100 has allow-servers but role client is not set
7: vip 2001:db8:f::200 has no server and role client is not set: nothing uses it'
cat >"$tmp/servers.conf" <<'CONF'
role client
vip 2001:db8:f::100 {
    allow-servers 2001:db8:5::/64
    server 2001:db8:5::1
}
vip 2001:db8:f::200 {
    allow-servers 2001:db8:5::/64
    server 2001:db8:5::2
}
CONF
warned servers '2: vip 2001:db8:f::100 (and 1 more) lists servers but role balancer is not set: server lines do nothing without it'

# server-address is checked against the addresses of the host -n runs
# on: one that is not there is named, one that is (any of this host's
# IPv6 addresses, when it has one) is not.
absent=2001:db8:dead:beef::5
ip -6 -o addr show 2>/dev/null | grep -qi " $absent/" &&
	fail "this host holds $absent: cannot test a foreign server-address"
printf 'role server\n\nserver-address %s\n' "$absent" >"$tmp/srvaddr.conf"
warned srvaddr "3: server-address $absent is not an address of this host (checked on the host running lbspd): "
own=$(ip -6 -o addr show 2>/dev/null | awk '{ sub("/.*", "", $4); print $4; exit }')
if [ -n "$own" ]; then
	printf 'role server\nserver-address %s\n' "$own" >"$tmp/srvaddr.conf"
	warned srvaddr ''
else
	echo "# this host has no IPv6 address: a local server-address not tried"
fi

cat >"$tmp/bad.conf" <<'CONF'
role balancer
queue 7-3
option-type 1
vip 2001:db8:f::100 {
    server 2001:db8:5::1 weight 0
    bogus-keyword 1
}
CONF
"$lbspd" -n -c "$tmp/bad.conf" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "bad config: exit $rc, want 1"
for line in 2 3 5 6; do
	grep -q "^$tmp/bad.conf:$line: " "$tmp/out" ||
		fail "bad config: no error for line $line in: $(cat "$tmp/out")"
done
[ "$(wc -l <"$tmp/out")" -ge 4 ] || fail "bad config: errors missing"

# A server address in two vips that share a port (lbsp(7): one address
# per vip): valid, but warned about at the later server line, naming
# the address, both vips and a shared port; a vip with no "ports" line
# shares every port.  2001:db8:5::2 in f::300 shares no port.
cat >"$tmp/shared.conf" <<'CONF'
role balancer
vip 2001:db8:f::100 {
    ports 80 443
    server 2001:db8:5::1
    server 2001:db8:5::2
}
vip 2001:db8:f::200 {
    ports 443 8443
    server 2001:db8:5::2
}
vip 2001:db8:f::300 {
    ports 25
    server 2001:db8:5::2
}
vip 2001:db8:f::400 {
    server 2001:db8:6::1
}
vip 2001:db8:f::500 {
    server 2001:db8:6::1
}
CONF
"$lbspd" -n -c "$tmp/shared.conf" >"$tmp/out" 2>&1 ||
	fail "shared server: refused: $(cat "$tmp/out")"
grep -q "^$tmp/shared.conf:9: warning: server 2001:db8:5::2 is in vip 2001:db8:f::100 (line 5) and vip 2001:db8:f::200, both on port 443: " "$tmp/out" ||
	fail "shared server: no warning for line 9 in: $(cat "$tmp/out")"
grep -q "^$tmp/shared.conf:19: warning: server 2001:db8:6::1 is in vip 2001:db8:f::400 (line 16) and vip 2001:db8:f::500, both on every port: " "$tmp/out" ||
	fail "shared server: no warning for line 19 in: $(cat "$tmp/out")"
[ "$(wc -l <"$tmp/out")" -eq 3 ] && [ "$(tail -n 1 "$tmp/out")" = "configuration OK" ] ||
	fail "shared server: want 2 warnings and OK: $(cat "$tmp/out")"

"$lbspd" -n -c "$tmp/missing.conf" >"$tmp/out" 2>&1 && fail "missing file accepted"
grep -q "missing.conf" "$tmp/out" || fail "missing file: $(cat "$tmp/out")"

# Generated sites: 1,000 vips x 8 servers (client and server roles take
# any configuration libsp accepts), and one maglev vip of 4,000 servers.
awk 'BEGIN {
	print "role client server"
	for (v = 1; v <= 1000; v++) {
		printf "vip 2001:db8:%x::1 {\n\tallow-servers 2001:db8:%x::/64\n", v, 32768 + v
		for (s = 1; s <= 8; s++)
			printf "\tserver 2001:db8:%x::%x weight %d\n", 32768 + v, s, s
		print "}"
	}
}' >"$tmp/1000x8.conf"
# Their server lines do nothing without role balancer: one warning
# for all the vips, not 1,000.
warned 1000x8 '2: vip 2001:db8:1::1 (and 999 more) lists servers but role balancer is not set'

big() {	# big ROLE NSERVERS: one maglev vip
	awk -v role="$1" -v n="$2" 'BEGIN {
		print "role " role
		print "vip 2001:db8:f::1 {\n\tscheduler maglev"
		for (s = 0; s < n; s++)
			printf "\tserver 2001:db8:5::%x:%x\n", int(s / 256) + 1, s % 256 + 1
		print "}"
	}'
}
big server 4000 >"$tmp/4000.conf"
warned 4000 '2: vip 2001:db8:f::1 lists servers but role balancer is not set'
# Past the limit: one error, at the line of the 4097th server (line 4 is
# the first server, after the vip and scheduler lines).
big server 4097 >"$tmp/4097.conf"
"$lbspd" -n -c "$tmp/4097.conf" >"$tmp/out" 2>&1 && fail "4097 servers accepted"
[ "$(cat "$tmp/out")" = "$tmp/4097.conf:4100: server: too many servers (limit 4096)" ] ||
	fail "4097 servers: $(cat "$tmp/out")"
# The balancer role has no bound of its own below libsp's: one vip of
# 4,000 servers, and 1,000 vips of 8 (tests/netns/29-many-vips.sh runs
# one).
big balancer 4000 >"$tmp/4000b.conf"
out=$("$lbspd" -n -c "$tmp/4000b.conf" 2>&1) || fail "balancer of 4000 servers: $out"
[ "$out" = "configuration OK" ] || fail "balancer of 4000 servers: unexpected: $out"
sed 's/^role client server$/role balancer/' "$tmp/1000x8.conf" >"$tmp/1000x8b.conf"
warned 1000x8b '2: vip 2001:db8:1::1 (and 999 more) has allow-servers but role client is not set'

# The file's size: 4,096 vips of 256 servers (over a million server
# lines, ~27 MB) is read whole; past 64 MiB the file is refused.
awk 'BEGIN {
	print "role balancer"
	for (v = 1; v <= 4096; v++) {
		printf "vip 2001:db8:%x::1 {\n", v
		for (s = 1; s <= 256; s++)
			printf "\tserver 2001:db8:%x:%x::1\n", 32768 + v % 16384, s
		print "}"
	}
}' >"$tmp/4096x256.conf"
[ "$(wc -c <"$tmp/4096x256.conf")" -gt $((16 << 20)) ] ||
	fail "4096x256: generated file too small to test the size"
out=$("$lbspd" -n -c "$tmp/4096x256.conf" 2>&1) || fail "4096x256: $out"
[ "$out" = "configuration OK" ] || fail "4096x256: unexpected: $out"
rm -f "$tmp/4096x256.conf"
{ cat "$tmp/1000x8b.conf"; head -c $((64 << 20)) /dev/zero | tr '\0' '#'; } >"$tmp/huge.conf"
"$lbspd" -n -c "$tmp/huge.conf" >"$tmp/out" 2>&1 && fail "a file over 64 MiB accepted"
grep -q "at most 67108864 bytes" "$tmp/out" || fail "huge file: $(cat "$tmp/out")"

echo "lbspd-check: ok"
