/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp/exthdr.h -- the IPv6 extension-header walker.
 *
 * One walk gives everything the codecs and roles need: where the upper
 * layer starts, where an LBSP Destination Options header belongs, and
 * which headers (Fragment, AH, ESP, Routing) make a packet untouchable.
 *
 * Policy for input it does not support, one line each:
 *  - jumbograms (Payload Length 0 with a payload): SP_ERR_JUMBO;
 *  - Payload Length other than the bytes after the fixed header:
 *    SP_ERR_TRUNCATED when short, SP_ERR_PAYLOAD_LEN when long;
 *  - Hop-by-Hop anywhere but first: SP_ERR_HDR_ORDER;
 *  - more than SP_EXTHDR_MAX extension headers: SP_ERR_TOO_MANY_HDRS;
 *  - ESP: the walk stops there (upper layer = ESP);
 *  - a non-first fragment: the walk stops after the Fragment header.
 *
 * Generic headers (Hop-by-Hop, Routing, Destination Options) are
 * (Hdr Ext Len + 1) * 8 bytes; AH is (Payload Len + 2) * 4; Fragment 8.
 */
#ifndef SP_EXTHDR_H
#define SP_EXTHDR_H

#include <sp/pkt.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Public API: exported from libsp.so (built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

/* RFC 8200 allows at most 8 in its recommended order; more is abuse. */
#define SP_EXTHDR_MAX 8

/* Flags for sp_exthdr_walk(). */
#define SP_WALK_QUOTED 0x1u	/* packet quoted in an ICMPv6 error: use the
				 * buffer length, tolerate a cut upper layer */

/* One extension header met by the walk. */
struct sp_exthdr {
	uint8_t type;	/* its Next Header value (enum sp_nh) */
	uint16_t off;	/* offset from the IPv6 header, bytes */
	uint16_t len;	/* its length, bytes */
};

/* What a walk found.  Offsets are bytes from the start of the packet. */
struct sp_exthdr_info {
	struct sp_exthdr hdr[SP_EXTHDR_MAX]; /* in wire order */
	unsigned nhdr;		/* entries used in hdr[] */
	uint8_t l4_proto;	/* Next Header after the last header walked */
	size_t l4_off;		/* where that upper layer starts */
	size_t ip_len;		/* 40 + Payload Length (or buffer length
				 * for SP_WALK_QUOTED), bytes */
	size_t insert_off;	/* where the LBSP Destination Options header
				 * belongs: 40, or right after Hop-by-Hop */
	size_t insert_nh_off;	/* the Next Header byte that points there */
	int dopt_idx;		/* hdr[] index of a Destination Options header
				 * at insert_off, or -1 */
	int frag_idx;		/* hdr[] index of the Fragment header, or -1 */
	uint16_t frag_offset;	/* fragment offset, 8-octet units */
	bool frag_more;		/* M flag */
	uint32_t frag_id;	/* fragment identification */
	bool has_ah;		/* an AH header was walked */
	bool has_esp;		/* the walk stopped at ESP */
	bool has_routing;	/* a Routing header with Segments Left > 0 */
	bool nonfirst_frag;	/* walk stopped at a non-first fragment */
};

/*
 * sp_exthdr_walk - walk the extension headers of the IPv6 packet in
 * pkt[0..len).
 * @flags: 0, or SP_WALK_QUOTED for the packet inside an ICMPv6 error.
 * @info:  filled on SP_OK; undefined otherwise.
 * Returns SP_OK or the first reason the packet cannot be walked.
 * Bounded by bytes left and by SP_EXTHDR_MAX headers.  Option TLVs
 * inside options headers are not validated here (see sp_opt_walk()).
 */
enum sp_err sp_exthdr_walk(const uint8_t *pkt, size_t len, unsigned flags,
    struct sp_exthdr_info *info);

/*
 * sp_exthdr_matches - true when info is what sp_exthdr_walk(pkt, len, 0)
 * gives for pkt[0..len) now: the buffer length and Payload Length, and
 * the header chain entry by entry (type, offset, length as the bytes
 * say), the upper layer, the insertion point and the flags the writers
 * act on.  O(number of headers), no option TLV read.
 *
 * The writers' "_at" variants (sp_dopt_find_at(), sp_dopt_set_at(),
 * sp_dopt_set_seg2_at(), sp_dopt_strip_at(), sp_csum_l4_at(),
 * sp_csum_l4_fill_at(), sp_pkt_set_addr_at(), sp_tcp_mss_clamp_at())
 * take the caller's walk instead of walking again, and call this
 * first: a walk of another packet, a stale one (taken before a writer
 * moved bytes: sp_dopt_set_at() inserting or merging, a strip) or a
 * quoted one is refused with SP_ERR_INVALID, never followed past the
 * buffer.  A walk stays valid across writers that move no byte
 * (address rewrite, MSS clamp, checksum fill, seg2 or an LBSP option
 * updated in place), so a packet is walked once and its insertion done
 * last.
 */
bool sp_exthdr_matches(const uint8_t *pkt, size_t len,
    const struct sp_exthdr_info *info);

/* Callback of sp_opt_walk(): one option TLV at off (type byte), whose
 * data is dlen bytes at off + 2 (Pad1: dlen 0, one byte).  Return
 * non-zero to stop the walk. */
typedef int (*sp_opt_fn)(const uint8_t *pkt, size_t off, uint8_t type,
    uint8_t dlen, void *arg);

/*
 * sp_opt_walk - walk the option TLVs of the Hop-by-Hop or Destination
 * Options header at hoff in pkt[0..len), calling fn for every option
 * (padding included).
 * Returns SP_OK, or SP_ERR_BAD_OPTION when a TLV overruns the header,
 * or SP_ERR_TRUNCATED when the header overruns the buffer.  Bounded by
 * the header's bytes (at most 2048) and so by at most 2046 options.
 */
enum sp_err sp_opt_walk(const uint8_t *pkt, size_t len, size_t hoff,
    sp_opt_fn fn, void *arg);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* SP_EXTHDR_H */
