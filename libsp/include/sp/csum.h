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
 */
#ifndef SP_CSUM_H
#define SP_CSUM_H

#include <sp/pkt.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Public API: exported from libsp.so (built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

/* Which address of an IPv6 header. */
enum sp_addr {
	SP_ADDR_SRC,
	SP_ADDR_DST,
};

/*
 * sp_csum_partial - add len bytes at data to the 32-bit one's-complement
 * accumulator sum, as 16-bit big-endian words (an odd last byte is
 * padded with zero).  Returns the new accumulator (not folded).
 */
uint32_t sp_csum_partial(uint32_t sum, const void *data, size_t len);

/* sp_csum_fold - fold an accumulator to 16 bits and complement it. */
uint16_t sp_csum_fold(uint32_t sum);

/*
 * sp_csum_replace - RFC 1624 eqn. 3: the checksum field value after the
 * even-length data covered by it changes from old[0..len) to new[0..len).
 * @check: the field as stored (host order).  Returns the new field.
 */
uint16_t sp_csum_replace(uint16_t check, const uint8_t *old_data,
    const uint8_t *new_data, size_t len);

/*
 * sp_csum_l4 - compute the upper-layer checksum of the packet in full,
 * with the checksum field taken as zero.  Handles TCP, UDP and ICMPv6
 * after any extension headers.  For UDP a computed 0 is returned as
 * 0xFFFF.  Used by tests as the reference and for packets whose field
 * cannot be updated incrementally.
 * Returns SP_OK, SP_ERR_PROTO for other upper layers, SP_ERR_FRAGMENT,
 * SP_ERR_ESP, or a walker error.
 */
enum sp_err sp_csum_l4(const uint8_t *pkt, size_t len, uint16_t *check);

/*
 * sp_csum_l4_fill - compute the upper-layer checksum and store it.
 * Returns as sp_csum_l4().
 */
enum sp_err sp_csum_l4_fill(uint8_t *pkt, size_t len);

/*
 * sp_csum_l4_ok - true when the packet's upper-layer checksum verifies.
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
 * sp_icmp6_set_inner_addr().
 * Returns SP_OK or a walker error, with the packet unchanged on error.
 */
enum sp_err sp_pkt_set_addr(uint8_t *pkt, size_t len, enum sp_addr which,
    const uint8_t addr[16]);

/*
 * sp_icmp6_is_error - true when the packet is an ICMPv6 error message
 * (type < 128) quoting an invoking packet, which then starts at
 * *inner_off (8 bytes after the ICMPv6 header start).
 */
bool sp_icmp6_is_error(const uint8_t *pkt, size_t len, size_t *inner_off);

/*
 * sp_icmp6_set_inner_addr - in an ICMPv6 error, rewrite the source or
 * destination address of the quoted packet, fix its TCP / UDP / ICMPv6
 * checksum when the quote holds that field, and fix the outer ICMPv6
 * checksum for every byte changed.  Needed so an error about a
 * redirected flow matches the application's socket (path MTU discovery).
 * Returns SP_OK, SP_ERR_PROTO when the packet is not an ICMPv6 error, or
 * a walker error (the quote is walked with SP_WALK_QUOTED).
 */
enum sp_err sp_icmp6_set_inner_addr(uint8_t *pkt, size_t len,
    enum sp_addr which, const uint8_t addr[16]);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* SP_CSUM_H */
