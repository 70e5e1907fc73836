# SPDX-License-Identifier: GPL-2.0-or-later
# lib/daemons.sh -- the programs a test runs: background processes,
# servers (python3 http.server, socat, a TCP sink and source), lbspd
# and lbspctl with their JSON, and the shims.
# Sourced by tests/netns/lib.sh, never on its own.

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

# ------------------------------------------------------------------ lbspd

# need_lbspd - fail unless the daemon and lbspctl are executable.
need_lbspd()
{
	[ -x "$LBSPD" ] || fail "lbspd not found at $LBSPD (set top_builddir or LBSPD)"
	[ -x "$LBSPCTL" ] || fail "lbspctl not found at $LBSPCTL (set top_builddir or LBSPCTL)"
}

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
		# 30 s: the start-up self-test and the verifier's load of
		# the tc programs take seconds each on a busy machine.
		if [ $i -ge 300 ]; then
			dump "$log"
			fail "lbspd in $ns: no answer to 'lbspctl stats' in 30 s"
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

# pair_confs DATAPATH - for topo_pair: $T/client.conf (role client, vip
# $S_ADDR port 80) and $T/server.conf (role server), both with
# "datapath DATAPATH".
pair_confs()
{
	cat >"$T/client.conf" <<-CONF
	role client
	queue 0
	datapath $1
	vip $S_ADDR {
		ports 80
	}
	CONF
	printf 'role server\nqueue 0\ndatapath %s\n' "$1" >"$T/server.conf"
}

# pair_start SERVER-CONF CLIENT-CONF - on topo_pair: the page "name"
# (answering S) served on [$S_ADDR]:80, then lbspd in S and in C with
# these files.
pair_start()
{
	mkdir "$T/www"
	echo S >"$T/www/name"
	http_server S $S_ADDR 80 "$T/www"
	lbspd_start S "$1"
	lbspd_start C "$2"
}

# queues_used NAME FILE N - fail unless each of the N queues in FILE
# ("lbspctl stats --json" of the daemon called NAME) got a packet.
queues_used()
{
	local q=0 n
	while [ "$q" -lt "$3" ]; do
		n=$(json_get "$2" "j['queue'][$q]['packets']")
		info "$1 queue $q: $n packets"
		[ "$n" -gt 0 ] || fail "$1: queue $q got no packet"
		q=$((q + 1))
	done
}

# counter_at_least NS NAME MIN - true when the daemon of NS has counted
# at least MIN as NAME (lbsp_counter: its own count and its tc
# programs'), e.g. "wait_for WHAT 10 counter_at_least lb packets 40".
counter_at_least()
{
	stats_json "$1" "$T/counter-$1.json"
	[ "$(lbsp_counter "$T/counter-$1.json" "$2")" -ge "$3" ]
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

# ------------------------------------------------------------------ shims

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
