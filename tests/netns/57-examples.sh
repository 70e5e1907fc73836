#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 57-examples.sh -- the shipped examples (examples/client.conf,
# server.conf, balancer.conf, prometheus.yml) run as a user would copy
# them, on topo_full, whose addresses are the examples' own (the vip
# 2001:db8:f::100, the servers 2001:db8:5::1-3 and their prefix): no
# address is substituted, and the copies differ from the examples only
# by the "datapath" line lbspd_start appends (nfqueue here, tc for
# 57-examples.tc).  examples/ecmp is run by 50-ecmp.sh and
# 51-ecmp-failover.sh (lib/ecmp.sh fills in its @WORDS@).
#   1. promtool check config accepts prometheus.yml;
#   2. lbspd -n in each host, on the file it runs: "configuration OK"
#      and nothing else; server.conf is one file for all three servers;
#      with its server-address line uncommented, s1 (whose address it
#      is) draws no warning and s2 draws "not an address of this host";
#   3. lbspd: client.conf on c1, balancer.conf on lb, server.conf on s1,
#      s2 and s3, none logging a configuration warning at start; the
#      balancer's TCP check marks them all up;
#   4. sessions of many client identities (addresses of c1) land on every
#      server, and the client learned, for each identity, the server that
#      answered (seg2 = that server's own address);
#   5. single pass: a download by a new identity goes through the
#      balancer for at most 3 of its packets, and a new connection of an
#      identity already learned for none (nft counters on lb, ahead of
#      lbspd);
#   6. no flap: for 12 s of new sessions (the examples' passive
#      detection would mark servers suspect in 5 s), lbspctl servers on
#      lb says every server is up at every look.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
command -v curl >/dev/null || fail "curl not installed"
PROMTOOL=$(command -v promtool) ||
	fail "promtool not installed (Debian package prometheus)"
topo_full
EX=$top_srcdir/examples
MB=4

# The copies, and the addresses they must share with the topology.
mkdir "$T/ex" || fail "mkdir $T/ex"
for f in client.conf server.conf balancer.conf prometheus.yml; do
	cp "$EX/$f" "$T/ex/$f" || fail "copy $EX/$f"
done
grep -q "^vip $VIP {" "$T/ex/client.conf" &&
    grep -q "allow-servers 2001:db8:5::/64" "$T/ex/client.conf" &&
    grep -q "^vip $VIP {" "$T/ex/balancer.conf" &&
    grep -q "server $S1_ADDR " "$T/ex/balancer.conf" &&
    grep -q "server $S2_ADDR " "$T/ex/balancer.conf" &&
    grep -q "server $S3_ADDR " "$T/ex/balancer.conf" ||
	fail "the examples' addresses are no longer topo_full's: substitute them here (sed)"

# 1. The scrape configuration.
out=$("$PROMTOOL" check config "$T/ex/prometheus.yml" 2>&1) ||
	fail "promtool check config prometheus.yml: $out"
info "promtool: $(echo "$out" | tr '\n' ' ')"

# 2. lbspd -n in the host that runs the file: no error, no warning.
check_n()	# check_n NS FILE
{
	local out
	out=$(nsx "$1" "$LBSPD" -n -c "$2" 2>&1) ||
		fail "lbspd -n in $1 refused $(basename "$2"): $out"
	[ "$out" = "configuration OK" ] ||
		fail "lbspd -n in $1, $(basename "$2"): $out"
}
check_n c1 "$T/ex/client.conf"
check_n lb "$T/ex/balancer.conf"
for h in s1 s2 s3; do
	check_n $h "$T/ex/server.conf"
done
# The one per-host line, uncommented as a user would: right on s1 only.
sed 's/^#server-address /server-address /' "$T/ex/server.conf" >"$T/srvaddr.conf"
line=$(grep -n "^server-address $S1_ADDR\$" "$T/srvaddr.conf" | cut -d: -f1)
[ -n "$line" ] || fail "server.conf has no '#server-address $S1_ADDR' line"
check_n s1 "$T/srvaddr.conf"
out=$(nsx s2 "$LBSPD" -n -c "$T/srvaddr.conf" 2>&1) ||
	fail "lbspd -n in s2 refused srvaddr.conf: $out"
echo "$out" | grep -q "^$T/srvaddr.conf:$line: warning: server-address $S1_ADDR is not an address of this host (checked on the host running lbspd)" ||
	fail "lbspd -n in s2: no warning about server-address $S1_ADDR: $out"
[ "$(echo "$out" | tail -n 1)" = "configuration OK" ] ||
	fail "lbspd -n in s2: $out"
info "server-address $S1_ADDR: no warning in s1, a warning in s2"

# 3. The daemons, each on its own copy.  same_as_example COPY EXAMPLE:
# the copy lbspd runs is the example and one appended datapath line.
same_as_example()
{
	local extra
	extra=$(diff "$2" "$1" | grep -v '^[0-9]' | grep -v '^> datapath [a-z]*$')
	[ -z "$extra" ] || fail "$(basename "$1") is not $(basename "$2"): $extra"
}
sp_www $MB 80
for h in s1 s2 s3; do
	cp "$T/ex/server.conf" "$T/$h.conf"
	lbspd_start $h "$T/$h.conf"
	same_as_example "$T/$h.conf" "$EX/server.conf"
done
cp "$T/ex/balancer.conf" "$T/lb.conf"
lbspd_start lb "$T/lb.conf"
same_as_example "$T/lb.conf" "$EX/balancer.conf"
cp "$T/ex/client.conf" "$T/c1.conf"
lbspd_start c1 "$T/c1.conf"
same_as_example "$T/c1.conf" "$EX/client.conf"
# Nor a warning at start-up, where they go to the log.
for h in s1 s2 s3 lb c1; do
	! grep -n "$T/$h.conf:[0-9]*: warning:" "$(lbspd_log $h)" ||
		fail "lbspd in $h logged a configuration warning"
done

# servers_states FILE - lb's servers of $VIP as "ADDRESS STATE" lines.
servers_states()
{
	lbspctl lb servers --json >"$T/servers.json" 2>&1 ||
		fail "lbspctl servers --json: $(cat "$T/servers.json")"
	"$PY" -c '
import json, sys
for v in json.load(open(sys.argv[1])):
    if v["vip"] == sys.argv[2]:
        for s in v["servers"]:
            print(s["address"], s["state"])
' "$T/servers.json" "$VIP" >"$1" || fail "servers.json: $(cat "$T/servers.json")"
}
all_up()
{
	servers_states "$T/states"
	[ "$(grep -c ' up$' "$T/states")" -eq 3 ]
}
wait_for "every server up on lb" "$(scaled 30)" all_up
info "lb: $(tr '\n' ' ' <"$T/states")"

# 4. Identities: addresses of c1 (identity address), one session each.
ident()		# ident N - the N-th identity of c1
{
	printf '2001:db8:1::%x\n' $((0x100 + $1))
}
NID=40
i=0
while [ $i -lt $NID ]; do
	nsx c1 ip -6 addr add "$(ident $i)/64" dev eth0 nodad ||
		fail "address $(ident $i) on c1"
	i=$((i + 1))
done
# session N - GET /name from identity N: the line "IDENTITY sK" added
# to $T/sessions.
session()
{
	local a out
	a=$(ident "$1")
	out=$(nsx c1 curl -gsS --max-time 5 --interface "$a" \
	    "http://[$VIP]:80/name" 2>&1) ||
		{ dump "$(lbspd_log c1)" "$(lbspd_log lb)"; fail "curl from $a: $out"; }
	echo "$a $out" >>"$T/sessions"
}
: >"$T/sessions"
i=0
while [ $i -lt 12 ]; do
	session $i
	i=$((i + 1))
done
info "12 identities: $(awk '{ n[$2]++ } END { for (s in n) printf "%s %d ", s, n[s] }' "$T/sessions")"
for h in s1 s2 s3; do
	grep -q " $h\$" "$T/sessions" || fail "no session landed on $h: $(cat "$T/sessions")"
done
# What the client learned: for each identity, the server that answered.
lbspctl c1 cache --json >"$T/cache.json" 2>&1 ||
	fail "lbspctl cache --json: $(cat "$T/cache.json")"
while read -r a name; do
	want=2001:db8:5::${name#s}
	got=$(json_get "$T/cache.json" "([e['server'] for e in j if e['vip'] == '$VIP' and e['identity'] == '$a'] + ['none'])[0]")
	[ "$got" = "$want" ] ||
		fail "identity $a was served by $name but the client learned $got"
done <"$T/sessions"
info "the client learned each identity's own server"

# 5. Single pass, counted on lb ahead of lbspd (and on c1: what the
# application sent).  download N LPORT NAME: identity N fetches /big.
download()
{
	local a out
	a=$(ident "$1")
	sp_count_add lb "$3" pre ip6 saddr "$a" tcp sport "$2"
	sp_count_add c1 "$3-c" out ip6 saddr "$a" tcp sport "$2"
	out=$(nsx c1 curl -gsS --max-time 60 --interface "$a" \
	    --local-port "$2" -o "$T/dl" -w '%{size_download}' \
	    "http://[$VIP]:80/big" 2>&1) ||
		{ dump "$(lbspd_log c1)" "$(lbspd_log lb)"; fail "download $3: $out"; }
	[ "$(sha256sum <"$T/dl" | cut -d' ' -f1)" = "$SP_BIG_SHA" ] ||
		fail "download $3: bytes differ ($out)"
	LB_N=$(sp_count lb "$3")
	C_N=$(sp_count c1 "$3-c")
	[ -n "$LB_N" ] && [ -n "$C_N" ] || fail "$3: no counter"
	info "$3: $MB MB from $a, client sent $C_N packets, balancer handled $LB_N"
	# Hundreds of ACKs, fewer when GRO merges 64 KB at a time.
	[ "$C_N" -ge 30 ] || fail "$3: the client counter saw only $C_N packets"
}
download 12 41001 new
[ "$LB_N" -ge 1 ] || fail "new identity: the balancer saw no packet (the SYN goes to the vip)"
[ "$LB_N" -le 3 ] ||
	fail "new identity: the balancer handled $LB_N of $C_N packets (at most 3): no single pass"
SP_NEW="$LB_N of $C_N"
download 0 41002 learned
[ "$LB_N" -eq 0 ] ||
	fail "learned identity: the balancer handled $LB_N of $C_N packets (want 0)"

# 6. No flap: a new identity about every 0.5 s, and a look at lb's
# servers after each, for 12 s (x LBSP_TIME_SCALE, bounded by the
# identities left).
i=13
looks=0
end=$(($(date +%s) + $(scaled 12)))
while [ "$(date +%s)" -lt $end ] && [ $i -lt $NID ]; do
	session $i
	i=$((i + 1))
	servers_states "$T/states"
	looks=$((looks + 1))
	grep -v ' up$' "$T/states" >"$T/notup" &&
		fail "a server flapped after $looks looks: $(tr '\n' ' ' <"$T/notup")"
	sleep 0.5
done
[ $looks -ge 10 ] || fail "only $looks looks at lb's servers"
all_up || fail "a server is not up at the end: $(tr '\n' ' ' <"$T/states")"
info "$looks looks over $((i - 13)) new identities: every server up"

pass "examples run as shipped: promtool and lbspd -n clean, $((i)) identities on s1 s2 s3, balancer handled $SP_NEW packets of a new identity and 0 of a learned one, no flap in $looks looks"
