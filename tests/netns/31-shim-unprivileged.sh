#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 31-shim-unprivileged.sh -- processes without CAP_NET_RAW still get the
# option on the wire: the shims hand their sockets to lbspd over its
# control socket (SCM_RIGHTS) and lbspd sets IPV6_DSTOPTS on them.
# curl (client shim) and python3 http.server (server shim) both run as
# an unprivileged user (uid 4242, no capabilities, in the control
# socket's group); lbspd runs on each host with "rules none": no
# NFQUEUE rule, it only serves the control socket.
#
# Asserts:
# - the shims are mapped in the unprivileged processes (/proc/PID/maps),
#   read from copies in the test's directory, not from the build tree;
# - the shims really lacked the capability (their LBSP_DEBUG log says
#   they went through lbspd);
# - on the wire, every packet of the HTTP flow carries the option with
#   the right segments (the server's packets before accept() and its
#   TIME_WAIT ACK exempt and counted, as in 30-shim-option.sh);
# - lbspd refuses what is not exactly the canonical LBSP header of its
#   option type, and a descriptor that is not an IPv6 socket;
# - without lbspd, the unprivileged curl still works (the application
#   never fails because of the shim), logs exactly once for two
#   connections, and its packets go without the option.
# How it fails: make shim_dstopts() skip the lbspd path, or
# fdpass_dstopts() answer "ok" without setting the option.
. "$(dirname "$0")/lib.sh"

need_root
need_lbspd
command -v curl >/dev/null || fail "curl not installed"
command -v setpriv >/dev/null || fail "setpriv not installed"

need_shims

topo_pair
PORT=8080
cat >"$T/C.conf" <<EOF
role client
rules none
vip $S_ADDR {
	ports $PORT
}
EOF
cat >"$T/S.conf" <<EOF
role server
rules none
EOF
lbspd_start C "$T/C.conf"
lbspd_start S "$T/S.conf"

# unpriv NS CONF LIB CMD... - run CMD in NS as uid 4242 without any
# capability, in the group of NS's control socket, under the shim LIB.
unpriv()
{
	local ns=$1 conf=$2 lib=$3 gid
	shift 3
	gid=$(stat -c %g "$(lbsp_sock "$ns")")
	nsx "$ns" setpriv --reuid=4242 --regid="$gid" --clear-groups \
	    --inh-caps=-all --bounding-set=-all --no-new-privs \
	    env LD_PRELOAD="$lib" LBSP_CONF="$conf" LBSP_DEBUG="${SHIM_DEBUG-1}" \
	    LBSP_SOCKET="$(lbsp_sock "$ns")" "$@"
}

mkdir "$T/www"
chmod 0755 "$T/www"
echo S >"$T/www/name"
head -c 300000 /dev/urandom >"$T/www/big"
chmod 0644 "$T/www/name" "$T/www/big"
LIB_BGN=$((LIB_BGN + 1))
SLOG=$T/bg-$LIB_BGN.log
gid=$(stat -c %g "$(lbsp_sock S)")
ip netns exec "$(ns_real S)" setpriv --reuid=4242 --regid="$gid" \
    --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs \
    env LD_PRELOAD="$SHIM_SERVER" LBSP_CONF="$T/S.conf" LBSP_DEBUG=1 \
    LBSP_SOCKET="$(lbsp_sock S)" \
    "$PY" -m http.server $PORT --bind $S_ADDR --directory "$T/www" \
    >"$SLOG" 2>&1 </dev/null &
SPID=$!
LIB_PIDS="$LIB_PIDS $SPID"
wait_listen S tcp $S_ADDR $PORT

# The shims really are loaded into the unprivileged processes: ld.so
# only warns when it cannot read one (need_shims copied them where uid
# 4242 can, whatever the build tree's permissions).
preloaded $SPID "$SHIM_SERVER" ||
	{ dump "$SLOG"; fail "the server shim is not mapped in http.server (pid $SPID)"; }
n=$(SHIM_DEBUG= unpriv C "$T/C.conf" "$SHIM_CLIENT" grep -cF "$SHIM_CLIENT" /proc/self/maps) ||
	fail "the client shim is not mapped in a process of uid 4242"
[ "$n" -gt 0 ] || fail "the client shim is not mapped in a process of uid 4242"

capture S $S_IF "$T/wire.pcap"
unpriv C "$T/C.conf" "$SHIM_CLIENT" curl -gsS --max-time 10 \
    "http://[$S_ADDR]:$PORT/big" >"$T/big.out" 2>"$T/curl.err" ||
	{ dump "$T/curl.err" "$SLOG"; fail "unprivileged curl failed"; }
cmp -s "$T/big.out" "$T/www/big" || fail "/big arrived damaged"
capture_quiet
capture_stop

lbsp_packets "$T/wire.pcap" >"$T/all.txt"
awk -v p=$PORT '$3 == "tcp" && ($4 == p || $5 == p)' "$T/all.txt" >"$T/http.txt"
awk -v s=$S_ADDR '
    function pure_ack() { return $10 == "0x0010" && $9 <= 40 + 32 }
    $1 != s && $10 ~ /[13579bdf]$/ { fin[$4] = 1 }
    $1 == s && $6 == 0 && !seen[$5] && ($10 == "0x0012" || pure_ack()) {
	print "before-accept " $0 >"/dev/stderr"; next }
    $1 == s && $6 == 0 && fin[$5] && pure_ack() {
	print "time-wait " $0 >"/dev/stderr"; next }
    $1 == s && $6 > 0 { seen[$5] = 1 }
    { print }' "$T/http.txt" >"$T/checked.txt" 2>"$T/exempt.txt"
info "exempt: $(wc -l <"$T/exempt.txt") packets"
sed 's/^/#    /' "$T/exempt.txt"
[ "$(wc -l <"$T/exempt.txt")" -le 3 ] || fail "more packets without the option than the known ones"
lbsp_verify "$T/checked.txt" $C_ADDR $C_ADDR $S_ADDR
info "with the option: $VERIFY_CS client packets, $VERIFY_SC server packets"
[ "$VERIFY_SC" -gt 150 ] || fail "only $VERIFY_SC server packets"

grep -q "no CAP_NET_RAW: using lbspd" "$T/curl.err" ||
	{ dump "$T/curl.err"; fail "the client shim did not go through lbspd"; }
grep -q "no CAP_NET_RAW: using lbspd" "$SLOG" ||
	{ dump "$SLOG"; fail "the server shim did not go through lbspd"; }
if grep -q -e "left without the LBSP option" -e "sock: error:" "$T/curl.err" "$SLOG"; then
	dump "$T/curl.err" "$SLOG"
	fail "a shim reports that lbspd did not set the option"
fi

# lbspd's checks: exactly the canonical header, on an IPv6 socket.
cat >"$T/fdpass.py" <<'EOF'
import array, socket, sys
path, hexhdr, kind = sys.argv[1], sys.argv[2], sys.argv[3]
if kind == "file":
    f = open("/dev/null")
    fd = f.fileno()
else:
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    fd = s.fileno()
u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
u.connect(path)
u.sendmsg([("dstopts %s\n" % hexhdr).encode()],
          [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
print(u.recv(256).decode().strip())
EOF
# Headers as 80 hex digits: canonical (seg1 2001:db8:1::1), seg1 zero,
# another option type, one PadN filling the header, and the LBSP option
# behind four Pad1 instead of one PadN (valid, but not canonical).
good=3b04010200001e2020010db8000100000000000000000001$(printf '%032d' 0)
zero=3b04010200001e20$(printf '%064d' 0)
other=3b04010200001f2020010db8000100000000000000000001$(printf '%032d' 0)
padn=3b040126$(printf '%072d' 0)
pad1=3b04000000001e2020010db8000100000000000000000001$(printf '%032d' 0)
fdp() { nsx C "$PY" "$T/fdpass.py" "$(lbsp_sock C)" "$@"; }
a=$(fdp $good sock) || fail "fdpass request failed"
[ "$a" = ok ] || fail "lbspd refused a canonical header: $a"
for bad in $zero $other $padn $pad1; do
	a=$(fdp $bad sock) || fail "fdpass request failed"
	case $a in
	error:*) ;;
	*) fail "lbspd accepted the header $bad: $a" ;;
	esac
done
a=$(fdp $good file)
case $a in
error:*) ;;
*) fail "lbspd set an option on a file: $a" ;;
esac

# No lbspd: the application still works, one log line, no option.
lbspd_stop C
capture S $S_IF "$T/wire2.pcap"
SHIM_DEBUG= unpriv C "$T/C.conf" "$SHIM_CLIENT" curl -gsS --max-time 10 \
    -o /dev/null "http://[$S_ADDR]:$PORT/name" \
    -o /dev/null "http://[$S_ADDR]:$PORT/name" 2>"$T/curl2.err" ||
	{ dump "$T/curl2.err"; fail "curl failed without lbspd"; }
capture_quiet
capture_stop
n=$(grep -c "no lbspd answering" "$T/curl2.err")
[ "$n" -eq 1 ] || { dump "$T/curl2.err"; fail "expected one log line without lbspd, got $n"; }
lbsp_packets "$T/wire2.pcap" >"$T/all2.txt"
n=$(awk -v c=$C_ADDR '$1 == c && $6 != 0' "$T/all2.txt" | wc -l)
[ "$n" -eq 0 ] || fail "$n client packets carry the option without lbspd"
n=$(awk -v c=$C_ADDR '$1 == c' "$T/all2.txt" | wc -l)
[ "$n" -gt 0 ] || fail "no client packet captured without lbspd"

pass "unprivileged shims: option via lbspd both ways; lbspd checks; no lbspd: works, logs once"
