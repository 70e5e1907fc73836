/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * testpkt.h -- build IPv6 test packets for the unit suites.
 *
 * tp_build() lays out: IPv6 header, the extension headers named by a
 * string (one letter each, in order), then an upper layer, with a
 * correct upper-layer checksum computed by tp_ref_csum(), a reference
 * independent of libsp's csum module.
 *
 * Extension header letters:
 *   H  Hop-by-Hop, 8 bytes, PadN(4)
 *   D  Destination Options, 8 bytes, one unknown skippable option
 *      (type 0x1f, 4 data bytes 0xd0..0xd3) -- not LBSP
 *   L  canonical 40-byte LBSP Destination Options header (type 0x1e,
 *      seg1 = tp_seg1, seg2 = zero)
 *   R  Routing, type 4 (SRH-like), 24 bytes, Segments Left 0
 *   F  Fragment, offset 0, M=1 (a first fragment)
 *   f  Fragment, offset 185 (1480 bytes), M=0 (a non-first fragment)
 *   A  AH, 24 bytes
 *   E  ESP (the rest is opaque; no upper layer follows)
 */
#ifndef TESTPKT_H
#define TESTPKT_H

#include <stddef.h>
#include <stdint.h>

#define TP_MAX 4096

extern const uint8_t tp_src[16];	/* 2001:db8:1::1 */
extern const uint8_t tp_dst[16];	/* 2001:db8:f::100 */
extern const uint8_t tp_seg1[16];	/* 2001:db8:1::1 */
extern const uint8_t tp_server[16];	/* 2001:db8:5::1 */

struct tp_spec {
	const char *ext;	/* extension header letters, or NULL */
	uint8_t proto;		/* 6 TCP, 17 UDP, 58 ICMPv6, 59 none */
	uint8_t tcp_flags;	/* TCP only; SYN adds an MSS option */
	uint16_t mss;		/* MSS option value when SYN (0: 1440) */
	uint8_t icmp_type;	/* ICMPv6 type (128 echo request default 0) */
	size_t payload;		/* payload bytes after the L4 header */
	uint32_t seed;		/* payload bytes and ports derive from it */
	uint32_t flowlabel;	/* 20 bits */
};

/* Build a packet into buf (TP_MAX bytes); returns its length. */
size_t tp_build(uint8_t *buf, const struct tp_spec *spec);

/* Full upper-layer checksum (field taken as zero) of proto at l4_off,
 * pseudo-header from the fixed header: an independent reference. */
uint16_t tp_ref_csum(const uint8_t *pkt, size_t len, size_t l4_off,
    uint8_t proto);

/* Offset of the upper layer tp_build() produced for spec. */
size_t tp_l4_off(const struct tp_spec *spec);

/* a = 2001:db8:<net>::<n>, n in the last four bytes. */
void tp_addr(uint8_t a[16], uint16_t net, uint32_t n);

/* A small deterministic PRNG (xorshift32) for random packets. */
uint32_t tp_rand(uint32_t *state);

#endif
