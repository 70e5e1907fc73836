# SPDX-License-Identifier: GPL-2.0-or-later
# lib/capture.sh -- what crossed the wire: tcpdump captures, read back
# by tshark into one line per packet.
# Sourced by tests/netns/lib.sh, never on its own.

# capture NS IF FILE [FILTER...] - start tcpdump on NS/IF writing FILE
# (headers only: CAPTURE_SNAPLEN bytes a packet, default 256, in a
# kernel buffer of CAPTURE_BUFFER_KB KiB, default 32768: a test that
# must see every packet of a fast transfer sets a buffer that holds it
# all), wait until it listens.  Beware:
# the BPF primitives "tcp", "udp", "port N" look at the IPv6 header's
# Next Header only and so miss every packet with the LBSP option (a
# Destination Options header); filter afterwards with lbsp_packets.
capture()
{
	local ns=$1 dev=$2 file=$3 log
	shift 3
	log=$file.log
	ip netns exec "$(ns_real "$ns")" tcpdump -n -i "$dev" -U --immediate-mode \
	    -s "${CAPTURE_SNAPLEN:-256}" -B "${CAPTURE_BUFFER_KB:-32768}" -Z root -w "$file" \
	    "$@" >"$log" 2>&1 </dev/null &
	LIB_CAPS="$LIB_CAPS $!:$file"
	LIB_PIDS="$LIB_PIDS $!"
	if ! try_for 10 grep -q "listening on" "$log"; then
		dump "$log"
		fail "tcpdump on $ns/$dev did not start"
	fi
}

# capture_stop - stop every running capture (they flush on SIGINT) and
# report kernel drops as "# capture FILE: N packets dropped".
capture_stop()
{
	local c pid file i
	for c in $LIB_CAPS; do
		pid=${c%%:*}
		file=${c#*:}
		kill -INT "$pid" 2>/dev/null
		i=0
		while alive "$pid" && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		pid_stop "$pid" 1
		wait "$pid" 2>/dev/null
		sed -n 's/^\([0-9]*\) packets dropped by kernel/# capture '"$(basename "$file")"': \1 packets dropped by kernel/p' \
		    "$file.log"
	done
	LIB_CAPS=
}

# capture_quiet [SECS] - wait until the traffic under test is over for
# the running captures: no capture file grew for 0.5 s (five looks 0.1 s
# apart), SECS (default 10) at most -- then it returns all the same, as
# a link that never falls silent (health checks) is no error here.  Used
# before capture_stop once the programs that sent are done, so that the
# packets that follow them (FINs, last ACKs, forwarded copies) are in.
capture_quiet()
{
	local max=$((${1:-10} * 10)) i=0 still=0 now last=- c
	while [ $i -lt $max ] && [ $still -lt 5 ]; do
		now=
		for c in $LIB_CAPS; do
			now="$now $(stat -c %s "${c#*:}" 2>/dev/null)"
		done
		if [ "$now" = "$last" ]; then
			still=$((still + 1))
		else
			still=0
		fi
		last=$now
		sleep 0.1
		i=$((i + 1))
	done
}

# lbsp_packets PCAP [DISPLAY-FILTER] - one line per TCP or UDP packet of
# PCAP (matching the optional tshark display filter):
#   SRC DST PROTO SPORT DPORT NOPT SEG1 SEG2 IPLEN TCPFLAGS MSS
# NOPT is the number of LBSP options (type 0x1e, tshark field
# ipv6.opt.experimental, 32 data bytes) in the packet; SEG1 and SEG2 are
# the first option's addresses in compressed form ("-" without one);
# IPLEN is the IPv6 packet length in bytes (40 + payload length);
# TCPFLAGS the TCP flags in hex ("-" for UDP); MSS the TCP MSS option
# value ("-" when absent).
#
# Wireshark does not know type 0x1e: it is shown as an RFC 4727
# experimental option, "ipv6.opt.experimental" holds its data (seg1
# then seg2, 64 hex digits).  The same fields also carry hop-by-hop
# options, so only packets with a Destination Options header count.
lbsp_packets()
{
	local pcap=$1 filter="tcp or udp"
	[ $# -ge 2 ] && filter="($filter) and ($2)"
	tshark -r "$pcap" -Y "$filter" -T fields -E separator=/t \
	    -E occurrence=a -E aggregator=, \
	    -e ipv6.src -e ipv6.dst -e ipv6.nxt -e ipv6.dstopts.nxt \
	    -e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport \
	    -e ipv6.opt.experimental -e ipv6.plen -e tcp.flags \
	    -e tcp.options.mss_val \
	    2>/dev/null | "$PY" -c '
import sys, ipaddress
for line in sys.stdin:
    f = line.rstrip("\n").split("\t")
    f += [""] * (12 - len(f))
    src, dst, nxt, dnxt, tsp, tdp, usp, udp, exp, plen, flags, mss = f[:12]
    proto = "tcp" if tsp else "udp"
    sp, dp = (tsp, tdp) if tsp else (usp, udp)
    opts = [x for x in exp.split(",") if len(x) == 64] if dnxt else []
    s1 = s2 = "-"
    if opts:
        b = bytes.fromhex(opts[0])
        s1 = str(ipaddress.IPv6Address(b[:16]))
        s2 = str(ipaddress.IPv6Address(b[16:]))
    iplen = 40 + int(plen.split(",")[0] or 0)
    print(src, dst, proto, sp, dp, len(opts), s1, s2, iplen, flags or "-",
          mss.split(",")[0] or "-")
'
}

# lbsp_verify FILE SEG1 CLIENT SERVER - check lines of lbsp_packets
# (already filtered to the flows under test) between CLIENT and SERVER:
# every client packet carries exactly one LBSP option with seg1 = SEG1
# and seg2 = :: or SERVER; every server packet one with seg1 = SEG1 and
# seg2 = SERVER; no packet is longer than 1500 bytes.  Fails listing
# the first offending packets; otherwise sets VERIFY_CS and VERIFY_SC
# to the numbers of client and server packets (each must be > 0).
lbsp_verify()
{
	local file=$1 seg1=$2 c=$3 s=$4 out
	out=$(awk -v id="$seg1" -v c="$c" -v s="$s" '
	    function bad(why) { if (nbad++ < 5) print why ": " $0 }
	    $1 == c && $2 == s { cs++
		if ($6 != 1) bad("client packet with " $6 " options")
		else if ($7 != id) bad("client packet seg1 != " id)
		else if ($8 != "::" && $8 != s) bad("client packet seg2 not :: or " s)
	    }
	    $1 == s && $2 == c { sc++
		if ($6 != 1) bad("server packet with " $6 " options")
		else if ($7 != id) bad("server packet seg1 != " id)
		else if ($8 != s) bad("server packet seg2 != " s)
	    }
	    $9 > 1500 { bad("packet longer than 1500 bytes") }
	    END { print "counts", cs + 0, sc + 0, nbad + 0 }' "$file")
	set -- $(echo "$out" | sed -n 's/^counts //p')
	VERIFY_CS=$1
	VERIFY_SC=$2
	if [ "$3" -ne 0 ]; then
		echo "$out" | grep -v '^counts ' | sed 's/^/    /'
		fail "$3 packets of $(basename "$file") without a correct LBSP option (of $VERIFY_CS client, $VERIFY_SC server packets)"
	fi
	[ "$VERIFY_CS" -gt 0 ] || fail "$(basename "$file"): no client packet captured"
	[ "$VERIFY_SC" -gt 0 ] || fail "$(basename "$file"): no server packet captured"
}

# sp_first_packets PCAP - the first packet of each TCP connection in
# PCAP (by client address and port, SYN without ACK) as lbsp_packets
# lines, in capture order.
sp_first_packets()
{
	lbsp_packets "$1" "tcp.flags.syn == 1 && tcp.flags.ack == 0" |
	    awk '!seen[$1 " " $4]++'
}

# sp_row PCAP LPORT - the slides' table row of the connection a client
# opened from local port LPORT, read from the first packet (SYN) of
# that connection in PCAP (a capture on the client side of the
# balancer, e.g. r's brc): sets ROW_SRC ROW_DST ROW_PORT ROW_SEG1
# ROW_SEG2 (as sent; "-" without an LBSP option) and ROW_SEL ("LB" when
# seg2 is zero, "LBSPOD-2" when the client named its server, "src" with
# no option).  Returns 1 when PCAP holds no SYN from that port (a NAT
# that changed the port, or no connection).
sp_row()
{
	local line
	line=$(sp_first_packets "$1" | awk -v p="$2" '$4 == p' | head -n 1)
	[ -n "$line" ] || return 1
	set -- $line
	ROW_SRC=$1 ROW_DST=$2 ROW_PORT=$5 ROW_SEG1=$7 ROW_SEG2=$8
	case $ROW_SEG2 in
	::) ROW_SEL=LB ;;
	-) ROW_SEL=src ;;
	*) ROW_SEL=LBSPOD-2 ;;
	esac
	return 0
}

# sp_name ADDR - "sN" for server address 2001:db8:5::N, "vip" for
# $VIP, "vip2" for $VIP2, else ADDR itself (for printing tables).
sp_name()
{
	case $1 in
	2001:db8:5::[123]) echo "s${1##*:}" ;;
	"$VIP") echo vip ;;
	"$VIP2") echo vip2 ;;
	*) echo "$1" ;;
	esac
}
