/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp/tcp.h -- TCP header helpers: flags and the MSS clamp.
 *
 * An endpoint that adds the 40-byte LBSP header must keep full-size
 * segments inside the MTU: it clamps the MSS option of SYN and SYN-ACK
 * to MTU - 40 (IPv6) - 40 (option) - 20 (TCP).  A locally generated
 * segment grown past the MTU is dropped and the stack ignores its own
 * Packet Too Big, so without the clamp the flow stalls.
 *
 *  TCP header (RFC 9293 §3.1), offsets in bytes:
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |          Source Port          |       Destination Port        |  0
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                        Sequence Number                        |  4
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Acknowledgment Number                      |  8
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  Data |       |C|E|U|A|P|R|S|F|                               |
 *  | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             | 12
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |           Checksum            |         Urgent Pointer        | 16
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |      Options (Data Offset * 4 - 20 bytes, at most 40)         | 20
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *  Options: EOL (kind 0) ends the list, NOP (kind 1) is one byte, every
 *  other option is kind, length (>= 2, counting both), data.  MSS is
 *  kind 2, length 4, a 16-bit value in bytes.
 */
#ifndef SP_TCP_H
#define SP_TCP_H

#include <sp/exthdr.h>
#include <sp/pkt.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Public API: exported from libsp.so (built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

#define SP_TCP_FIN 0x01
#define SP_TCP_SYN 0x02
#define SP_TCP_RST 0x04
#define SP_TCP_PSH 0x08
#define SP_TCP_ACK 0x10

#define SP_TCP_HLEN	    20	/* TCP header without options, bytes */
#define SP_TCP_OFF_DOFF	    12	/* Data Offset (high 4 bits, 32-bit words) */
#define SP_TCP_OFF_FLAGS    13	/* flags byte */
#define SP_TCP_OPT_SPACE    40	/* most option bytes a header holds */
#define SP_TCP_OPT_EOL	    0	/* End of Option List */
#define SP_TCP_OPT_NOP	    1	/* No-Operation */
#define SP_TCP_OPT_MSS	    2	/* Maximum Segment Size */
#define SP_TCP_OPT_MSS_LEN  4	/* its length byte, bytes */

/* MSS that keeps a segment carrying the LBSP header inside mtu bytes. */
static inline uint16_t
sp_tcp_mss_for_mtu(unsigned mtu)
{
	return mtu > 100 + 536 ? (uint16_t)(mtu - 100) : 536;
}

/*
 * sp_tcp_flags - the flags byte of the TCP segment at l4_off in
 * pkt[0..len) (SP_TCP_* bits).
 * Returns SP_OK, SP_ERR_TRUNCATED when the 20-byte fixed header does
 * not fit (a shorter segment is no TCP segment), or SP_ERR_INVALID.
 */
enum sp_err sp_tcp_flags(const uint8_t *pkt, size_t len, size_t l4_off,
    uint8_t *flags);

/*
 * sp_tcp_mss_clamp - lower the MSS option of a SYN (or SYN-ACK) to at
 * most mss, fixing the TCP checksum incrementally.
 * @changed: set to whether the option was lowered.
 * Packets that are not TCP SYN, or carry no MSS option, are left alone
 * with SP_OK and *changed false.  The option walk is bounded by the
 * TCP header's Data Offset and by 40 options.  An MSS is only ever
 * lowered; every MSS option before EOL is clamped (a stack reading
 * the last one must not see the old value).  @changed may be NULL.
 * Returns SP_OK, SP_ERR_BAD_OPTION for a malformed option list (an
 * option length below 2 or past the header, an MSS length other than
 * 4, a Data Offset below 5), SP_ERR_TRUNCATED when the header passes
 * the packet, SP_ERR_AH for a SYN under AH (its ICV covers the
 * segment), SP_ERR_INVALID for mss 0, or a walker error; the packet
 * is unchanged on error.
 */
enum sp_err sp_tcp_mss_clamp(uint8_t *pkt, size_t len, uint16_t mss,
    bool *changed);

/*
 * sp_tcp_mss_clamp_at - sp_tcp_mss_clamp() on a packet the caller
 * walked: info is sp_exthdr_walk(pkt, len, 0)'s, checked by
 * sp_exthdr_matches() (SP_ERR_INVALID when it does not describe
 * pkt[0..len)).  The walk stays valid: no byte moves.
 */
enum sp_err sp_tcp_mss_clamp_at(uint8_t *pkt, size_t len,
    const struct sp_exthdr_info *info, uint16_t mss, bool *changed);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* SP_TCP_H */
