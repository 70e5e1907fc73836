/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * exthdr.c -- the IPv6 extension-header walker and the option TLV walker.
 *
 * Every read is preceded by sp_pkt_has(); the header walk is bounded by
 * the bytes of the packet and by SP_EXTHDR_MAX headers, the option walk
 * by the bytes of one header.  Policies are listed in sp/exthdr.h.
 */
#include <string.h>

#include <sp/exthdr.h>

/* Length in bytes of the extension header of type nh at off. */
static enum sp_err
exthdr_len(const uint8_t *pkt, size_t end, size_t off, uint8_t nh,
    size_t *hlen)
{
	switch (nh) {
	case SP_NH_HOPOPTS:
	case SP_NH_ROUTING:
	case SP_NH_DSTOPTS:
		if (!sp_pkt_has(end, off, 2))
			return SP_ERR_TRUNCATED;
		*hlen = ((size_t)pkt[off + 1] + 1) * 8;
		return SP_OK;
	case SP_NH_FRAGMENT:
		*hlen = 8;
		return SP_OK;
	case SP_NH_AH:
		if (!sp_pkt_has(end, off, 2))
			return SP_ERR_TRUNCATED;
		*hlen = ((size_t)pkt[off + 1] + 2) * 4;
		return SP_OK;
	default:
		return SP_ERR_PROTO;	/* not an extension header */
	}
}

static bool
is_exthdr(uint8_t nh)
{
	switch (nh) {
	case SP_NH_HOPOPTS:
	case SP_NH_ROUTING:
	case SP_NH_FRAGMENT:
	case SP_NH_AH:
	case SP_NH_DSTOPTS:
		return true;
	default:
		return false;
	}
}

enum sp_err
sp_exthdr_walk(const uint8_t *pkt, size_t len, unsigned flags,
    struct sp_exthdr_info *info)
{
	bool quoted = (flags & SP_WALK_QUOTED) != 0;
	size_t off = SP_IP6_HLEN, end, plen;
	uint8_t nh;

	if (pkt == NULL || info == NULL)
		return SP_ERR_INVALID;
	memset(info, 0, sizeof(*info));
	info->dopt_idx = -1;
	info->frag_idx = -1;

	if (!sp_pkt_has(len, 0, SP_IP6_HLEN))
		return SP_ERR_TRUNCATED;
	if ((pkt[0] >> 4) != 6)
		return SP_ERR_VERSION;
	plen = sp_get16(&pkt[SP_IP6_OFF_PLEN]);
	if (quoted) {
		/* An ICMPv6 error quotes as much as fits: trust the buffer. */
		end = len;
	} else {
		if (plen == 0 && len > SP_IP6_HLEN)
			return SP_ERR_JUMBO;
		if (len - SP_IP6_HLEN < plen)
			return SP_ERR_TRUNCATED;
		if (len - SP_IP6_HLEN > plen)
			return SP_ERR_PAYLOAD_LEN;
		end = len;
	}
	info->ip_len = end;
	info->insert_off = SP_IP6_HLEN;
	info->insert_nh_off = SP_IP6_OFF_NH;
	nh = pkt[SP_IP6_OFF_NH];

	while (is_exthdr(nh)) {
		struct sp_exthdr *h;
		size_t hlen;
		enum sp_err err;

		if (info->nhdr == SP_EXTHDR_MAX)
			return SP_ERR_TOO_MANY_HDRS;
		if (nh == SP_NH_HOPOPTS && info->nhdr != 0)
			return SP_ERR_HDR_ORDER;
		err = exthdr_len(pkt, end, off, nh, &hlen);
		if (err != SP_OK)
			return err;
		if (!sp_pkt_has(end, off, hlen))
			return SP_ERR_TRUNCATED;

		h = &info->hdr[info->nhdr];
		h->type = nh;
		h->off = (uint16_t)off;
		h->len = (uint16_t)hlen;

		switch (nh) {
		case SP_NH_HOPOPTS:
			/* The LBSP header goes right after Hop-by-Hop. */
			info->insert_off = off + hlen;
			info->insert_nh_off = off;
			break;
		case SP_NH_DSTOPTS:
			if (off == info->insert_off)
				info->dopt_idx = (int)info->nhdr;
			break;
		case SP_NH_ROUTING:
			if (pkt[off + 3] != 0)
				info->has_routing = true;
			break;
		case SP_NH_FRAGMENT: {
			uint16_t fo = sp_get16(&pkt[off + 2]);

			if (info->frag_idx >= 0)
				return SP_ERR_HDR_ORDER;	/* two of them */
			info->frag_idx = (int)info->nhdr;
			info->frag_offset = (uint16_t)(fo >> 3);
			info->frag_more = (fo & 1) != 0;
			info->frag_id = sp_get32(&pkt[off + 4]);
			break;
		}
		case SP_NH_AH:
			info->has_ah = true;
			break;
		default:
			return SP_ERR_INVALID;	/* is_exthdr() let it in */
		}
		info->nhdr++;
		nh = pkt[off];
		off += hlen;

		if (h->type == SP_NH_FRAGMENT && info->frag_offset != 0) {
			/* The rest of a non-first fragment is data. */
			info->nonfirst_frag = true;
			break;
		}
	}
	if (nh == SP_NH_ESP)
		info->has_esp = true;
	info->l4_proto = nh;
	info->l4_off = off;
	return SP_OK;
}

/* The fields of two walks that the writers act on; frag_id is not
 * one of them. */
static bool
walks_same(const struct sp_exthdr_info *a, const struct sp_exthdr_info *b)
{
	unsigned i;

	if (a->nhdr != b->nhdr || a->ip_len != b->ip_len ||
	    a->l4_proto != b->l4_proto || a->l4_off != b->l4_off ||
	    a->insert_off != b->insert_off ||
	    a->insert_nh_off != b->insert_nh_off ||
	    a->dopt_idx != b->dopt_idx || a->frag_idx != b->frag_idx ||
	    a->has_ah != b->has_ah || a->has_esp != b->has_esp ||
	    a->has_routing != b->has_routing ||
	    a->nonfirst_frag != b->nonfirst_frag)
		return false;
	if (a->frag_idx >= 0 && (a->frag_offset != b->frag_offset ||
	    a->frag_more != b->frag_more))
		return false;
	for (i = 0; i < a->nhdr; i++)
		if (a->hdr[i].type != b->hdr[i].type ||
		    a->hdr[i].off != b->hdr[i].off ||
		    a->hdr[i].len != b->hdr[i].len)
			return false;
	return true;
}

bool
sp_exthdr_matches(const uint8_t *pkt, size_t len,
    const struct sp_exthdr_info *info)
{
	struct sp_exthdr_info now;

	/* A walk of this very buffer (not a quote), as it is now. */
	return info != NULL && info->nhdr <= SP_EXTHDR_MAX &&
	    sp_exthdr_walk(pkt, len, 0, &now) == SP_OK &&
	    walks_same(&now, info);
}

enum sp_err
sp_opt_walk(const uint8_t *pkt, size_t len, size_t hoff, sp_opt_fn fn,
    void *arg)
{
	size_t off, end;

	if (pkt == NULL)
		return SP_ERR_INVALID;
	if (!sp_pkt_has(len, hoff, 2))
		return SP_ERR_TRUNCATED;
	end = hoff + ((size_t)pkt[hoff + 1] + 1) * 8;
	if (!sp_pkt_has(len, hoff, end - hoff))
		return SP_ERR_TRUNCATED;

	/* Each step consumes at least one byte: at most 2046 steps. */
	for (off = hoff + 2; off < end;) {
		uint8_t type = pkt[off], dlen;

		if (type == 0) {			/* Pad1 */
			if (fn != NULL && fn(pkt, off, 0, 0, arg))
				return SP_OK;
			off++;
			continue;
		}
		if (!sp_pkt_has(end, off, 2))
			return SP_ERR_BAD_OPTION;
		dlen = pkt[off + 1];
		if (!sp_pkt_has(end, off + 2, dlen))
			return SP_ERR_BAD_OPTION;
		if (fn != NULL && fn(pkt, off, type, dlen, arg))
			return SP_OK;
		off += 2 + (size_t)dlen;
	}
	return SP_OK;
}
