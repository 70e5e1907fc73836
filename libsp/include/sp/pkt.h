/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp/pkt.h -- error codes and the one bounds-checked read primitive
 * every libsp parser uses.
 *
 * libsp's packet functions do no I/O: every one takes a packet as
 * (bytes, length) and returns a typed result.  The library's only I/O
 * is sp/peer.h's: sp_peer_enable(), sp_peer_option() and
 * sp_peer_identity() set and read IPv6 socket options (setsockopt(),
 * getsockopt()) on a socket the caller passes; nothing in libsp sends,
 * receives, opens or reads a file.  All packet reads go through
 * sp_pkt_has(), which checks "off <= len && len - off >= n" without ever
 * forming a pointer past the buffer.
 *
 *  IPv6 header (RFC 8200 §3), offsets in bytes:
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |Version| Traffic Class |           Flow Label                  |  0
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |         Payload Length        |  Next Header  |   Hop Limit   |  4
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                   Source Address (16 bytes)                   |  8
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                Destination Address (16 bytes)                 | 24
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
#ifndef SP_PKT_H
#define SP_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Public API: exported from libsp.so (built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

#define SP_IP6_HLEN	 40	/* bytes in the fixed IPv6 header */
#define SP_IP6_OFF_PLEN	 4	/* Payload Length */
#define SP_IP6_OFF_NH	 6	/* Next Header */
#define SP_IP6_OFF_SRC	 8	/* Source Address */
#define SP_IP6_OFF_DST	 24	/* Destination Address */
#define SP_IP6_MAXPLEN	 65535	/* largest non-jumbo payload, bytes */

/* Next Header values libsp knows (IANA protocol numbers). */
enum sp_nh {
	SP_NH_HOPOPTS = 0,
	SP_NH_TCP = 6,
	SP_NH_UDP = 17,
	SP_NH_ROUTING = 43,
	SP_NH_FRAGMENT = 44,
	SP_NH_ESP = 50,
	SP_NH_AH = 51,
	SP_NH_ICMPV6 = 58,
	SP_NH_NONE = 59,
	SP_NH_DSTOPTS = 60,
};

/*
 * Every libsp outcome.  sp_strerror() names each one; the daemon counts
 * them per value, so a new member needs a new string and nothing else.
 */
enum sp_err {
	SP_OK = 0,
	SP_ERR_TRUNCATED,	/* the buffer ends inside a header */
	SP_ERR_VERSION,		/* IP version is not 6 */
	SP_ERR_PAYLOAD_LEN,	/* Payload Length disagrees with the buffer */
	SP_ERR_JUMBO,		/* jumbogram: not supported, passed unchanged */
	SP_ERR_TOO_MANY_HDRS,	/* more than SP_EXTHDR_MAX extension headers */
	SP_ERR_HDR_ORDER,	/* Hop-by-Hop not first, or a second one */
	SP_ERR_BAD_OPTION,	/* malformed TLV in an options header */
	SP_ERR_BAD_LBSP,	/* LBSP option with Opt Data Len != 32 */
	SP_ERR_DUPLICATE,	/* two LBSP options in one packet */
	SP_ERR_AH,		/* AH present: its ICV covers the option */
	SP_ERR_ESP,		/* ESP hides the upper layer */
	SP_ERR_FRAGMENT,	/* non-first fragment: no upper layer here */
	SP_ERR_ROUTING,		/* Routing header with segments left */
	SP_ERR_NOT_FOUND,	/* no LBSP option / no such header */
	SP_ERR_NO_ROOM,		/* output buffer or Payload Length too small */
	SP_ERR_PROTO,		/* upper layer not handled by this call */
	SP_ERR_ZERO_IDENTITY,	/* seg1 is all zero */
	SP_ERR_INVALID,		/* caller passed an invalid argument */
	SP_ERR__COUNT		/* number of codes, not a code */
};

/*
 * sp_strerror - a short, stable, lowercase name for an error code
 * ("truncated", "jumbogram", ...), suitable for logs and counter names.
 * Never returns NULL: an unknown value gives "unknown".
 */
const char *sp_strerror(enum sp_err err);

/*
 * sp_pkt_has - true when n bytes can be read at off in a buffer of len.
 * The only bounds check parsers use: it never overflows and never forms
 * a pointer past the buffer.
 */
static inline bool
sp_pkt_has(size_t len, size_t off, size_t n)
{
	return off <= len && len - off >= n;
}

/* Big-endian loads and stores; the caller has checked the bounds. */
static inline uint16_t
sp_get16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t
sp_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static inline void
sp_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
sp_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The 20-bit flow label of an IPv6 header at pkt (len >= 4 checked). */
static inline uint32_t
sp_ip6_flowlabel(const uint8_t *pkt)
{
	return sp_get32(pkt) & 0xfffffu;
}

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* SP_PKT_H */
