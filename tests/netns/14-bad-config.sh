#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 14-bad-config.sh -- configuration errors.
#
# - "lbspd -n" on a file with six mistakes prints exactly six lines,
#   each "FILE:LINE: message", for exactly the broken lines, and exits 1;
# - a missing "}" at the end of file, an empty file and a missing file
#   are errors too (exit 1, named); a good file prints exactly
#   "configuration OK" and exits 0;
# As root, in a namespace of its own:
# - "lbspd -f" refuses to run with the broken file: exits 1 quickly with
#   the same messages, installs no steering rule, leaves no socket;
# - "lbspd --print-rules" prints rules that ip6tables-restore accepts,
#   steering to the configured queue, with --queue-bypass (fail open).
. "$(dirname "$0")/lib.sh"

work_dir
[ -x "$LBSPD" ] || fail "lbspd not found at $LBSPD (set top_builddir or LBSPD)"

# check_errors FILE OUT RC LINES... - OUT is lbspd's output for FILE,
# RC its exit status: exit 1, every output line "FILE:N: message" (with
# STRICT=0: other lines allowed), and the N are exactly LINES (in any
# order, each once or more).
STRICT=1
check_errors()
{
	local file=$1 out=$2 rc=$3 want got
	shift 3
	[ "$rc" -eq 1 ] || { cat "$out"; fail "$(basename "$file"): exit $rc, want 1"; }
	grep -q 'configuration OK' "$out" &&
		fail "$(basename "$file"): 'configuration OK' printed for a broken file"
	if [ $STRICT = 1 ] && grep -v -E "^$file:[0-9]+: [^ ]" "$out" | grep -q .; then
		cat "$out"
		fail "$(basename "$file"): output lines not of the form FILE:LINE: message"
	fi
	want=$(echo "$@" | tr ' ' '\n' | sort -n -u | tr '\n' ' ')
	got=$(sed -n "s|^$file:\([0-9]*\): .*|\1|p" "$out" | sort -n -u |
	    tr '\n' ' ')
	[ "$got" = "$want" ] || {
		cat "$out"
		fail "$(basename "$file"): errors reported on lines '$got', want '$want'"
	}
}

cat >"$T/bad.conf" <<'EOF'
# broken on purpose: errors on lines 3, 5, 7, 8, 11 and 14
role client
queue 9-2
identity address
option-type 1
mtu 1500
frobnicate yes
mss-clamp on off

vip 2001:db8:1::2 {
	allow-servers 2001:db8:1::1/64
	ports 80
}
cache-ttl 5x
EOF
"$LBSPD" -n -c "$T/bad.conf" >"$T/bad.out" 2>&1
check_errors "$T/bad.conf" "$T/bad.out" $? 3 5 7 8 11 14
[ "$(wc -l <"$T/bad.out")" -eq 6 ] ||
	{ cat "$T/bad.out"; fail "bad.conf: want exactly 6 error lines"; }

printf 'role client\nvip 2001:db8:1::2 {\n\tports 80\n' >"$T/open.conf"
"$LBSPD" -n -c "$T/open.conf" >"$T/open.out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "unclosed vip block: exit $rc, want 1"
grep -q -E "^$T/open.conf:[0-9]+: .*}" "$T/open.out" ||
	{ cat "$T/open.out"; fail "unclosed vip block: no FILE:LINE: message naming '}'"; }

: >"$T/empty.conf"
"$LBSPD" -n -c "$T/empty.conf" >"$T/empty.out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "empty file (no role): exit $rc, want 1"
grep -q -E "^$T/empty.conf:[0-9]+: " "$T/empty.out" ||
	{ cat "$T/empty.out"; fail "empty file: no FILE:LINE: message"; }

"$LBSPD" -n -c "$T/missing.conf" >"$T/missing.out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "missing file: exit $rc, want 1"
grep -q "$T/missing.conf" "$T/missing.out" ||
	{ cat "$T/missing.out"; fail "missing file: its name is not in the message"; }

cat >"$T/good.conf" <<'EOF'
role client
queue 3
rules install
identity address
vip 2001:db8:1::2 {
	ports 80 5000
	allow-servers 2001:db8:1::/64
}
EOF
out=$("$LBSPD" -n -c "$T/good.conf" 2>&1)
rc=$?
[ $rc -eq 0 ] && [ "$out" = "configuration OK" ] ||
	fail "good.conf: exit $rc, output '$out'"

if [ "$(id -u)" != 0 ] || ! ip netns add "lbsp-$$-probe" 2>/dev/null; then
	pass "lbspd -n reports every error (not root: run mode not tested)"
fi
ip netns del "lbsp-$$-probe"
ns_new H

# Run mode with the broken file: refuses at once, touches nothing.
ip netns exec "$(ns_real H)" "$LBSPD" -c "$T/bad.conf" -f -s "$T/bad.sock" \
    >"$T/run.out" 2>&1 </dev/null &
pid=$!
LIB_PIDS="$LIB_PIDS $pid"
wait_for "lbspd -f with a broken file to exit" 5 eval '! alive $pid'
wait $pid
rc=$?
# The daemon may add a closing log line of its own.
STRICT=0 check_errors "$T/bad.conf" "$T/run.out" $rc 3 5 7 8 11 14
[ "$(rules_left H)" -eq 0 ] || fail "rules installed from a broken file"
[ -e "$T/bad.sock" ] && fail "control socket created from a broken file"

# --print-rules: valid ip6tables-restore input for queue 3, fail open.
nsx H "$LBSPD" -c "$T/good.conf" --print-rules >"$T/rules" 2>"$T/rules.err" ||
	{ cat "$T/rules.err"; fail "--print-rules failed"; }
grep -q -- '--queue-num 3\b\|--queue-balance 3:' "$T/rules" ||
	{ cat "$T/rules"; fail "--print-rules: no rule to queue 3"; }
grep -q -- '--queue-bypass' "$T/rules" ||
	{ cat "$T/rules"; fail "--print-rules: NFQUEUE without --queue-bypass (not fail-open)"; }
nsx H ip6tables-restore --test <"$T/rules" 2>"$T/restore.err" ||
	{ cat "$T/rules" "$T/restore.err"; fail "ip6tables-restore rejects --print-rules output"; }
[ "$(rules_left H)" -eq 0 ] || fail "--print-rules installed rules"

pass "every configuration error reported as FILE:LINE: message"
