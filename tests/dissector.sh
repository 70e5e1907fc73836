#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The Wireshark Lua dissector (contrib/lbsp.lua): tshark, loading it as a
# Lua plugin from a plugin folder (no -X), decodes the LBSP option of a
# capture made here with scapy -- the type, seg1, seg2 and seg2_set
# fields of each packet, the walk past other options and a Hop-by-Hop
# header, the option inside an ICMPv6 error, the option-type preference,
# a malformed length flagged, packets without the option left alone --
# and the display filter lbsp.seg2 == ADDR selects the right packets.
#
# LBSP_LUA=FILE tests another copy (tests/package.sh: the packaged one).
# Skips (77) without tshark or python3-scapy.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
lua=${LBSP_LUA:-$top_srcdir/contrib/lbsp.lua}
python=/usr/bin/python3

command -v tshark >/dev/null 2>&1 || { echo "SKIP: no tshark"; exit 77; }
[ -x "$python" ] && "$python" -c 'import scapy' 2>/dev/null ||
	{ echo "SKIP: no python3-scapy ($python)"; exit 77; }
[ -f "$lua" ] || { echo "FAIL: no dissector $lua"; exit 1; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

# tshark with a private HOME: its personal Lua plugin folder is ours,
# and no personal preference changes what it prints.
export HOME="$tmp/home"
mkdir -p "$HOME"
folders=$(tshark -G folders 2>/dev/null)
global=$(printf '%s\n' "$folders" |
	sed -n 's/^Global Lua Plugins:[[:space:]]*//p')
personal=$(printf '%s\n' "$folders" |
	sed -n 's/^Personal Lua Plugins:[[:space:]]*//p')
[ -n "$personal" ] || fail "tshark -G folders names no Lua plugin folder"
if [ -n "$global" ] && [ -f "$global/lbsp.lua" ]; then
	# An installed copy is loaded anyway; a second "lbsp" would clash.
	cmp -s "$global/lbsp.lua" "$lua" || {
		echo "SKIP: $global/lbsp.lua is installed and differs from $lua"
		exit 77
	}
	echo "dissector: testing the installed $global/lbsp.lua"
else
	mkdir -p "$personal"
	cp "$lua" "$personal/lbsp.lua"
fi

# The capture.  Addresses: C client, V vip, S server, R router.
"$python" - "$tmp/lbsp.pcap" <<'PY' || fail "scapy could not write the capture"
import sys
from ipaddress import IPv6Address
from scapy.all import (Ether, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop,
                       PadN, Pad1, HBHOptUnknown, TCP, UDP, ICMPv6DestUnreach,
                       wrpcap)

C, V, S, R = "2001:db8:1::10", "2001:db8:f::100", "2001:db8:5::1", "2001:db8:9::1"
C2, S2 = "2001:db8:1::20", "2001:db8:5::2"
ZERO = "::"

def lbsp(seg1, seg2, otype=0x1e, data=None):
    if data is None:
        data = IPv6Address(seg1).packed + IPv6Address(seg2).packed
    return HBHOptUnknown(otype=otype, optlen=len(data), optdata=data)

def canon(seg1, seg2, otype=0x1e):
    # The canonical 40-byte header of lbsp(7): PadN(2), then the TLV.
    return IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0\0"),
                                      lbsp(seg1, seg2, otype)])

eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
pkts = [
    # 1: first request, seg2 not yet known
    eth / IPv6(src=C, dst=V) / canon(C, ZERO) / TCP(sport=40000, dport=80, flags="S"),
    # 2: first answer, the server filled in seg2
    eth / IPv6(src=S, dst=C) / canon(C, S) / TCP(sport=80, dport=40000, flags="SA"),
    # 3: after a Hop-by-Hop header, behind Pad1 and an unknown option
    eth / IPv6(src=C2, dst=V) / IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\0" * 4)])
        / IPv6ExtHdrDestOpt(options=[Pad1(), HBHOptUnknown(otype=0x3e, optlen=3, optdata=b"abc"),
                                     lbsp(C2, S2)])
        / UDP(sport=5000, dport=443),
    # 4: another option type (option-type 0x1f): not LBSP by default
    eth / IPv6(src=C, dst=V) / canon(C, S, otype=0x1f) / TCP(sport=40001, dport=80, flags="S"),
    # 5: malformed: 16 bytes of data
    eth / IPv6(src=C, dst=V) / IPv6ExtHdrDestOpt(options=[lbsp(C, S, data=b"\x11" * 16)])
        / TCP(sport=40002, dport=80, flags="S"),
    # 6: an ICMPv6 error quoting a packet that carried the option
    eth / IPv6(src=R, dst=C) / ICMPv6DestUnreach(code=3)
        / IPv6(src=C, dst=S2) / canon(C, S2) / TCP(sport=40003, dport=80, flags="S"),
    # 7: no option at all
    eth / IPv6(src=C, dst=V) / TCP(sport=40004, dport=80, flags="S"),
    # 8: a Destination Options header with padding only
    eth / IPv6(src=C, dst=V) / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 4)])
        / TCP(sport=40005, dport=80, flags="S"),
]
wrpcap(sys.argv[1], pkts)
PY

fields() {
	tshark -n -r "$tmp/lbsp.pcap" "$@" -T fields -E separator='|' \
	    -e frame.number -e lbsp.type -e lbsp.length -e lbsp.seg1 \
	    -e lbsp.seg2 -e lbsp.seg2_set 2>"$tmp/err"
}

fields >"$tmp/out" || fail "tshark: $(cat "$tmp/err")"
grep -v "Running as user" "$tmp/err" | grep -q . &&
	fail "tshark complained: $(cat "$tmp/err")"
cat >"$tmp/want" <<'EOF'
1|0x1e|32|2001:db8:1::10|::|0
2|0x1e|32|2001:db8:1::10|2001:db8:5::1|1
3|0x1e|32|2001:db8:1::20|2001:db8:5::2|1
4|||||
5|0x1e|16|||
6|0x1e|32|2001:db8:1::10|2001:db8:5::2|1
7|||||
8|||||
EOF
diff "$tmp/want" "$tmp/out" >"$tmp/diff" ||
	fail "decoded fields differ (want, got):
$(cat "$tmp/diff")"

# The option type is a preference, as it is a statement of lbsp.conf.
fields -o lbsp.option_type:31 >"$tmp/out" || fail "tshark -o: $(cat "$tmp/err")"
line=$(sed -n 4p "$tmp/out")
[ "$line" = "4|0x1f|32|2001:db8:1::10|2001:db8:5::1|1" ] ||
	fail "option-type 0x1f: got '$line'"
[ "$(sed -n 1p "$tmp/out")" = "1|||||" ] ||
	fail "option-type 0x1f still decodes type 0x1e: $(sed -n 1p "$tmp/out")"

# Filters: by seg2, by seg1, and the malformed one flagged.
got=$(tshark -n -r "$tmp/lbsp.pcap" -Y 'lbsp.seg2 == 2001:db8:5::2' \
    -T fields -e frame.number 2>/dev/null | tr '\n' ' ')
[ "$got" = "3 6 " ] || fail "filter lbsp.seg2 == 2001:db8:5::2: got '$got'"
got=$(tshark -n -r "$tmp/lbsp.pcap" -Y 'lbsp.seg1 == 2001:db8:1::10 && lbsp.seg2_set == 0' \
    -T fields -e frame.number 2>/dev/null | tr '\n' ' ')
[ "$got" = "1 " ] || fail "filter on seg1 and seg2_set: got '$got'"
got=$(tshark -n -r "$tmp/lbsp.pcap" -Y 'lbsp.bad_length' \
    -T fields -e frame.number 2>/dev/null | tr '\n' ' ')
[ "$got" = "5 " ] || fail "filter lbsp.bad_length: got '$got'"
got=$(tshark -n -r "$tmp/lbsp.pcap" -Y 'frame.number == 2' 2>/dev/null)
case $got in
*/LBSP*) ;;
*) fail "protocol column lacks /LBSP: $got" ;;
esac

echo "dissector: ok"
