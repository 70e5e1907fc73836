/*
 * sp/tcp.h -- TCP header helpers: flags and the MSS clamp.
 *
 * An endpoint that adds the 40-byte LBSP header must keep full-size
 * segments inside the MTU: it clamps the MSS option of SYN and SYN-ACK
 * to MTU - 40 (IPv6) - 40 (option) - 20 (TCP).  A locally generated
 * segment grown past the MTU is dropped and the stack ignores its own
 * Packet Too Big, so without the clamp the flow stalls.
 */
#ifndef SP_TCP_H
#define SP_TCP_H

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

/* MSS that keeps a segment carrying the LBSP header inside mtu bytes. */
static inline uint16_t
sp_tcp_mss_for_mtu(unsigned mtu)
{
	return mtu > 100 + 536 ? (uint16_t)(mtu - 100) : 536;
}

/*
 * sp_tcp_flags - the flags byte of the TCP segment at l4_off.
 * Returns SP_OK or SP_ERR_TRUNCATED.
 */
enum sp_err sp_tcp_flags(const uint8_t *pkt, size_t len, size_t l4_off,
    uint8_t *flags);

/*
 * sp_tcp_mss_clamp - lower the MSS option of a SYN (or SYN-ACK) to at
 * most mss, fixing the TCP checksum incrementally.
 * @changed: set to whether the option was lowered.
 * Packets that are not TCP SYN, or carry no MSS option, are left alone
 * with SP_OK and *changed false.  The option walk is bounded by the
 * TCP header's Data Offset and by 40 options.
 * Returns SP_OK, SP_ERR_BAD_OPTION for a malformed option list, or a
 * walker error; the packet is unchanged on error.
 */
enum sp_err sp_tcp_mss_clamp(uint8_t *pkt, size_t len, uint16_t mss,
    bool *changed);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* SP_TCP_H */
