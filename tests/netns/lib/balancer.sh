# SPDX-License-Identifier: GPL-2.0-or-later
# lib/balancer.sh -- the balancer and single-pass tests' setups on
# topo_full and topo_megaproxy (lib/topo.sh).
# Sourced by tests/netns/lib.sh, never on its own.

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
