/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp/csum.h -- Internet checksums: full computation over the IPv6
 * pseudo-header (RFC 8200 §8.1) and incremental update (RFC 1624, eqn. 3)
 * for address rewrites under TCP, UDP and ICMPv6.
 *
 * All checksum arithmetic of libsp lives here.  Rules kept:
 *  - UDP over IPv6 must carry a checksum: a computed 0 is sent as 0xFFFF,
 *    and a received 0 is recomputed in full rather than updated.
 *  - The pseudo-header holds no extension headers, so inserting or
 *    removing one never changes an upper-layer checksum.
 *  - An address rewrite changes only the pseudo-header: it is applied
 *    incrementally, which is right even for a first fragment whose
 *    checksum covers bytes not in hand.  A full computation needs the
 *    whole datagram, so it refuses fragments.
 *
 *  IPv6 pseudo-header (RFC 8200 §8.1), summed before the upper layer:
 *
 *  +-------------------------------------------------+
 *  |          Source Address (16 bytes)              |  0
 *  +-------------------------------------------------+
 *  |    Destination Address (16 bytes, the final     | 16
 *  |    one when a Routing header is present)        |
 *  +-------------------------------------------------+
 *  |          Upper-Layer Packet Length (32 bits)    | 32
 *  +------------------------------------+------------+
 *  |            zero (24 bits)          |Next Header | 36
 *  +------------------------------------+------------+
 *
 *  The checksum field sits at byte 16 of TCP, 6 of UDP, 2 of ICMPv6.
 */
#ifndef SP_CSUM_H
#define SP_CSUM_H

#include <sp/exthdr.h>
#include <sp/pkt.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Public API: exported from libsp.so (built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

#define SP_TCP_OFF_CSUM	  16	/* TCP checksum field, bytes into TCP */
#define SP_UDP_OFF_CSUM	  6	/* UDP checksum field */
#define SP_ICMP6_OFF_CSUM 2	/* ICMPv6 checksum field */
#define SP_UDP_HLEN	  8	/* UDP header, bytes */
#define SP_ICMP6_HLEN	  8	/* ICMPv6 error header before the quote */
#define SP_ICMP6_PACKET_TOO_BIG 2	/* its type; the MTU at bytes 4-7 */
#define SP_IP6_MIN_MTU	  1280	/* IPv6's minimum link MTU */

/* Which address of an IPv6 header. */
enum sp_addr {
	SP_ADDR_SRC,
	SP_ADDR_DST,
};

/*
 * sp_csum_partial - add len bytes at data to the 32-bit one's-complement
 * accumulator sum, as 16-bit big-endian words (an odd last byte is
 * padded with zero).  Returns the new accumulator (not folded, but with
 * carries out of bit 31 added back, so it never loses one).
 * Chain calls over even lengths; only the last piece may be odd.
 */
uint32_t sp_csum_partial(uint32_t sum, const void *data, size_t len);

/* sp_csum_fold - fold an accumulator to 16 bits and complement it. */
uint16_t sp_csum_fold(uint32_t sum);

/*
 * sp_csum_replace - RFC 1624 eqn. 3: the checksum field value after the
 * even-length data covered by it changes from old[0..len) to new[0..len).
 * The data must start at an even offset of the checksummed bytes (an
 * odd len is taken as padded with a zero byte, as sp_csum_partial()).
 * @check: the field as stored (host order).  Returns the new field.
 * Eqn. 3, HC' = ~(~HC + ~m + m'), never yields the -0 that eqn. 1 can.
 * The UDP rule (0 sent as 0xFFFF) is the caller's.
 */
uint16_t sp_csum_replace(uint16_t check, const uint8_t *old_data,
    const uint8_t *new_data, size_t len);

/*
 * sp_csum_replace16 - sp_csum_replace() for one 16-bit big-endian value
 * changed from old_val to new_val at byte offset off of the checksummed
 * bytes.  off may be odd (a TCP option after a NOP): the value then
 * straddles two words and counts byte-swapped.  Returns the new field.
 */
uint16_t sp_csum_replace16(uint16_t check, size_t off, uint16_t old_val,
    uint16_t new_val);

/*
 * sp_csum_l4 - compute the upper-layer checksum of the packet in full,
 * with the checksum field taken as zero.  Handles TCP, UDP and ICMPv6
 * after any extension headers.  For UDP a computed 0 is returned as
 * 0xFFFF.  Used by tests as the reference and for packets whose field
 * cannot be updated incrementally.  The upper-layer length is the bytes
 * after the extension headers; for UDP it is the UDP Length field
 * (RFC 8200 §8.1), which must be at least 8 and fit in the packet.
 * Returns SP_OK, SP_ERR_PROTO for other upper layers, SP_ERR_FRAGMENT
 * for any fragment but an atomic one (offset 0, M 0: the checksum covers
 * the whole datagram), SP_ERR_ESP, SP_ERR_ROUTING (Segments Left > 0:
 * the final destination is not in the header), SP_ERR_TRUNCATED when
 * the upper-layer header is shorter than its fixed part,
 * SP_ERR_PAYLOAD_LEN for a bad UDP Length, SP_ERR_INVALID, or a walker
 * error.
 */
enum sp_err sp_csum_l4(const uint8_t *pkt, size_t len, uint16_t *check);

/*
 * sp_csum_l4_at - sp_csum_l4() on a packet the caller walked: info is
 * sp_exthdr_walk(pkt, len, 0)'s, checked by sp_exthdr_matches().
 * Returns as sp_csum_l4(), SP_ERR_INVALID for a walk that does not
 * describe pkt[0..len).
 */
enum sp_err sp_csum_l4_at(const uint8_t *pkt, size_t len,
    const struct sp_exthdr_info *info, uint16_t *check);

/*
 * sp_csum_l4_fill - compute the upper-layer checksum and store it.
 * Returns as sp_csum_l4().
 */
enum sp_err sp_csum_l4_fill(uint8_t *pkt, size_t len);

/* sp_csum_l4_fill_at - sp_csum_l4_fill() with the caller's walk (as
 * sp_csum_l4_at()); the walk stays valid. */
enum sp_err sp_csum_l4_fill_at(uint8_t *pkt, size_t len,
    const struct sp_exthdr_info *info);

/*
 * sp_csum_l4_ok - true when the packet's upper-layer checksum verifies
 * as a receiver checks it (all words including the field sum to -0).
 * False when sp_csum_l4() would fail, and for a UDP field of 0.
 */
bool sp_csum_l4_ok(const uint8_t *pkt, size_t len);

/*
 * sp_pkt_set_addr - rewrite the source or destination address and fix
 * the TCP, UDP or ICMPv6 checksum incrementally (a UDP field of 0 is
 * recomputed in full).  Other upper layers, non-first fragments and ESP
 * get the address rewritten only (no checksum of theirs covers it
 * here); a Routing header with Segments Left > 0 is refused
 * (SP_ERR_ROUTING: the pseudo-header uses its final address).
 * An ICMPv6 error's quoted packet is not touched: see
 * sp_icmp6_set_inner_addr().  A UDP field of 0 in a fragment of a
 * larger datagram cannot be recomputed and is left 0.
 * Returns SP_OK, SP_ERR_ROUTING, SP_ERR_AH (its ICV covers the
 * addresses), SP_ERR_TRUNCATED when the TCP / UDP / ICMPv6 header is
 * cut before its checksum field, SP_ERR_INVALID for a bad argument, an
 * sp_csum_l4() error for a UDP field of 0, or a walker error, with the
 * packet unchanged on error.
 */
enum sp_err sp_pkt_set_addr(uint8_t *pkt, size_t len, enum sp_addr which,
    const uint8_t addr[16]);

/*
 * sp_pkt_set_addr_at - sp_pkt_set_addr() with the caller's walk (as
 * sp_csum_l4_at(): SP_ERR_INVALID for a walk that does not describe
 * pkt[0..len)).  The walk stays valid: no byte moves.
 */
enum sp_err sp_pkt_set_addr_at(uint8_t *pkt, size_t len,
    const struct sp_exthdr_info *info, enum sp_addr which,
    const uint8_t addr[16]);

/*
 * sp_icmp6_is_error - true when the packet is an ICMPv6 error message
 * quoting an invoking packet, which then starts at *inner_off (8 bytes
 * after the ICMPv6 header start; inner_off may be NULL).  Error types
 * are < 128, but only types 1 to 4 (destination unreachable, packet
 * too big, time exceeded, parameter problem; RFC 4443) define that
 * body, so only they count.  A non-first fragment is never one.
 */
bool sp_icmp6_is_error(const uint8_t *pkt, size_t len, size_t *inner_off);

/*
 * sp_icmp6_set_inner_addr - in an ICMPv6 error, rewrite the source or
 * destination address of the quoted packet, fix its TCP / UDP / ICMPv6
 * checksum when the quote holds that field, and fix the outer ICMPv6
 * checksum for every byte changed.  Needed so an error about a
 * redirected flow matches the application's socket (path MTU discovery).
 * The quoted field is updated only when both of its bytes are quoted;
 * a quoted UDP field of 0 is left 0 (the quote is rarely the whole
 * datagram).  The outer ICMPv6 field is fixed for the address and the
 * inner field, so the outer checksum stays right whatever was quoted.
 * Returns SP_OK, SP_ERR_PROTO when the packet is not an ICMPv6 error,
 * SP_ERR_AH when the outer packet has AH, SP_ERR_ROUTING when the quote
 * has a Routing header with Segments Left > 0, SP_ERR_INVALID for a bad
 * argument, or a walker error (the quote is walked with SP_WALK_QUOTED),
 * with the packet unchanged on error.
 */
enum sp_err sp_icmp6_set_inner_addr(uint8_t *pkt, size_t len,
    enum sp_addr which, const uint8_t addr[16]);

/*
 * sp_icmp6_ptb_mtu - whether the packet is an ICMPv6 Packet Too Big
 * (code 0) about a packet that carried the LBSP option of type in a
 * Destination Options header right after its IPv6 header (how lbsp
 * sends it); *mtu (may be NULL) gets the MTU it says.  A path whose
 * MTU less the option's SP_LBSP_HDR_LEN bytes is under IPv6's minimum
 * (SP_IP6_MIN_MTU) cannot carry the option in full-sized segments: a
 * stack ignores a smaller MTU (RFC 8201 section 4).
 * Returns SP_OK; SP_ERR_NOT_FOUND for a Packet Too Big about a packet
 * without the option; SP_ERR_PROTO when it is no Packet Too Big;
 * SP_ERR_INVALID for a bad argument; or a walker error.
 */
enum sp_err sp_icmp6_ptb_mtu(const uint8_t *pkt, size_t len, uint8_t type,
    uint32_t *mtu);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* SP_CSUM_H */
