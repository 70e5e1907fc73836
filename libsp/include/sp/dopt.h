/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp/dopt.h -- the LBSP Destination Option codec (doc/design.md §1).
 *
 * Canonical encoding: a Destination Options header (Next Header 60) of
 * 40 bytes holding PadN(2) and one LBSP option aligned 8n+6, so both
 * addresses are 8-byte aligned:
 *
 *   byte  0     1     2     3     4     5     6      7
 *       +-----+-----+-----+-----+-----+-----+------+-----+
 *     0 | NH  |  4  | 0x01| 0x02| 0x00| 0x00| TYPE | 32  |  PadN(2), LBSP TLV
 *       +-----+-----+-----+-----+-----+-----+------+-----+
 *     8 |        seg1: client identity (16 bytes)         |
 *    16 |                                                 |
 *       +-------------------------------------------------+
 *    24 |        seg2: serving server address (16 bytes)  |
 *    32 |                                                 |
 *       +-------------------------------------------------+
 *
 * TYPE defaults to 0x1E (RFC 4727 experimental: skip if unrecognised,
 * data does not change en route); never 1, which is PadN.  Opt Data Len
 * is 32 octets.  seg1 is never all zero; seg2 is zero until the server
 * fills in its address.
 *
 * The header sits right after the IPv6 header, or after Hop-by-Hop: in
 * the unfragmentable part, before Routing, Fragment, AH and ESP.  An
 * existing Destination Options header there gets the LBSP TLV appended
 * after its own options, which keep their offsets (so their alignment);
 * an LBSP option already present is updated in place.  Upper-layer
 * checksums do not change: the pseudo-header holds no extension headers.
 */
#ifndef SP_DOPT_H
#define SP_DOPT_H

#include <sp/exthdr.h>
#include <sp/pkt.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Public API: exported from libsp.so (built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

#define SP_LBSP_TYPE_DEFAULT 0x1e /* RFC 4727 experimental option type */
#define SP_LBSP_DATA_LEN     32	  /* Opt Data Len, octets */
#define SP_LBSP_HDR_LEN	     40	  /* canonical header, bytes */
#define SP_LBSP_ALIGN	     6	  /* TLV starts at 8n + 6 */

/* The option's two segments. */
struct sp_lbsp {
	uint8_t seg1[16];	/* client identity: its address or a random id */
	uint8_t seg2[16];	/* serving server's address, or all zero */
};

/* What sp_dopt_set() did to the packet. */
enum sp_dopt_did {
	SP_DOPT_INSERTED,	/* a new 40-byte header was inserted */
	SP_DOPT_MERGED,		/* the TLV was added to an existing header */
	SP_DOPT_UPDATED,	/* an LBSP option already there was rewritten */
};

/*
 * sp_dopt_encode - write the canonical 40-byte header.
 * @out: 40 bytes.  @next_header: what follows the header.
 * @type: option type (SP_LBSP_TYPE_DEFAULT unless configured).
 */
void sp_dopt_encode(uint8_t out[SP_LBSP_HDR_LEN], uint8_t next_header,
    uint8_t type, const struct sp_lbsp *opt);

/*
 * sp_dopt_decode - find and read the LBSP option in one Destination
 * Options header at hdr[0..len) (len may exceed the header).
 * @opt_off: if not NULL, set to the offset of the option's type byte
 * within hdr.
 * Returns SP_OK, SP_ERR_NOT_FOUND, SP_ERR_DUPLICATE, SP_ERR_BAD_LBSP,
 * SP_ERR_ZERO_IDENTITY, SP_ERR_BAD_OPTION or SP_ERR_TRUNCATED.
 */
enum sp_err sp_dopt_decode(const uint8_t *hdr, size_t len, uint8_t type,
    struct sp_lbsp *opt, size_t *opt_off);

/*
 * sp_dopt_find - find and read the LBSP option of a whole IPv6 packet,
 * looking in every Destination Options header.
 * @opt_off: if not NULL, set to the packet offset of the type byte.
 * Returns as sp_dopt_decode(), SP_ERR_DUPLICATE for two options in any
 * headers, or the walker's error.
 */
enum sp_err sp_dopt_find(const uint8_t *pkt, size_t len, uint8_t type,
    struct sp_lbsp *opt, size_t *opt_off);

/*
 * sp_dopt_find_at - sp_dopt_find() on a packet the caller walked: info
 * is sp_exthdr_walk(pkt, len, 0)'s, checked by sp_exthdr_matches().
 * Returns as sp_dopt_find(), SP_ERR_INVALID for a walk that does not
 * describe pkt[0..len).
 */
enum sp_err sp_dopt_find_at(const uint8_t *pkt, size_t len,
    const struct sp_exthdr_info *info, uint8_t type, struct sp_lbsp *opt,
    size_t *opt_off);

/*
 * sp_dopt_set - put LBSP{opt} on the packet: update it in place when
 * present, else merge it into the Destination Options header at the
 * insertion point, else insert the canonical header there.  Payload
 * Length and the Next Header chain are fixed.
 * @pkt:  the packet; it may grow by up to 40 + 7 bytes, up to cap.
 * @len:  in: packet length; out: new length.
 * @did:  if not NULL, what was done.
 * Returns SP_OK; or, with the packet unchanged: SP_ERR_AH, SP_ERR_JUMBO,
 * SP_ERR_FRAGMENT (non-first fragment), SP_ERR_NO_ROOM (cap, or Payload
 * Length would pass 65535), SP_ERR_ZERO_IDENTITY, or a walker / option
 * error.
 */
enum sp_err sp_dopt_set(uint8_t *pkt, size_t *len, size_t cap, uint8_t type,
    const struct sp_lbsp *opt, enum sp_dopt_did *did);

/*
 * sp_dopt_set_at - sp_dopt_set() with the caller's walk of pkt[0..*len)
 * (checked by sp_exthdr_matches(); SP_ERR_INVALID when it does not
 * describe the packet).  Inserting or merging moves bytes: the walk no
 * longer describes the packet after SP_DOPT_INSERTED or SP_DOPT_MERGED
 * (walk again, or do this last); after SP_DOPT_UPDATED it still does.
 */
enum sp_err sp_dopt_set_at(uint8_t *pkt, size_t *len, size_t cap,
    const struct sp_exthdr_info *info, uint8_t type,
    const struct sp_lbsp *opt, enum sp_dopt_did *did);

/*
 * sp_dopt_set_seg2 - rewrite seg2 of the LBSP option already in the
 * packet (the server role's fill-in), leaving seg1 alone.
 * Returns SP_OK, or as sp_dopt_find(); the packet is unchanged on error.
 */
enum sp_err sp_dopt_set_seg2(uint8_t *pkt, size_t len, uint8_t type,
    const uint8_t seg2[16]);

/* sp_dopt_set_seg2_at - sp_dopt_set_seg2() with the caller's walk (as
 * sp_dopt_find_at()); the walk stays valid. */
enum sp_err sp_dopt_set_seg2_at(uint8_t *pkt, size_t len,
    const struct sp_exthdr_info *info, uint8_t type, const uint8_t seg2[16]);

/*
 * sp_dopt_strip - remove the LBSP option.  The whole header goes when it
 * held nothing else; otherwise the header is rebuilt without it, other
 * options keeping their alignment.  Payload Length and the Next Header
 * chain are fixed.
 * @len: in: packet length; out: new length.
 * Returns SP_OK, SP_ERR_NOT_FOUND, SP_ERR_AH, or a walker / option error.
 */
enum sp_err sp_dopt_strip(uint8_t *pkt, size_t *len, uint8_t type);

/* sp_dopt_strip_at - sp_dopt_strip() with the caller's walk (as
 * sp_dopt_find_at()); the walk no longer describes the packet after. */
enum sp_err sp_dopt_strip_at(uint8_t *pkt, size_t *len,
    const struct sp_exthdr_info *info, uint8_t type);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* SP_DOPT_H */
