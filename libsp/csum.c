/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * csum.c -- Internet checksums over the IPv6 pseudo-header: full
 * computation, verification, and incremental fix-ups (RFC 1624 eqn. 3)
 * for address rewrites, including the packet quoted in an ICMPv6 error.
 *
 * Every read is preceded by the walker's bounds or by sp_pkt_has().
 * Every rewrite computes all its new values first and writes last, so a
 * packet is unchanged on error.
 */
#include <string.h>

#include <sp/csum.h>
#include <sp/dopt.h>
#include <sp/exthdr.h>
#include <sp/tcp.h>

/* The checksum field and the fixed header of an upper layer. */
struct l4_layout {
	size_t csum_off;	/* checksum field, bytes into the header */
	size_t min_len;		/* fixed header, bytes */
};

/* False for upper layers without a checksum over the pseudo-header. */
static bool
l4_layout_get(uint8_t proto, struct l4_layout *lay)
{
	switch (proto) {
	case SP_NH_TCP:
		lay->csum_off = SP_TCP_OFF_CSUM;
		lay->min_len = SP_TCP_HLEN;
		return true;
	case SP_NH_UDP:
		lay->csum_off = SP_UDP_OFF_CSUM;
		lay->min_len = SP_UDP_HLEN;
		return true;
	case SP_NH_ICMPV6:
		lay->csum_off = SP_ICMP6_OFF_CSUM;
		lay->min_len = 4;	/* type, code, checksum */
		return true;
	default:
		return false;		/* no pseudo-header checksum */
	}
}

/* Fold a 64-bit accumulator to 32 bits, end-around carry kept. */
static uint32_t
csum_fold32(uint64_t acc)
{
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

uint32_t
sp_csum_partial(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t acc = sum;
	size_t i;

	/* 2^32 words of 0xffff would be needed to overflow 64 bits. */
	for (i = 0; i + 1 < len; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		acc += (uint32_t)p[len - 1] << 8;
	return csum_fold32(acc);
}

uint16_t
sp_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t
sp_csum_replace(uint16_t check, const uint8_t *old_data,
    const uint8_t *new_data, size_t len)
{
	uint64_t acc = (uint16_t)~check;
	size_t i;

	/* HC' = ~(~HC + ~m + m'), word by word. */
	for (i = 0; i + 1 < len; i += 2) {
		acc += (uint16_t)~((uint32_t)old_data[i] << 8 |
		    old_data[i + 1]);
		acc += (uint32_t)new_data[i] << 8 | new_data[i + 1];
	}
	if (len & 1) {
		acc += (uint16_t)~((uint32_t)old_data[len - 1] << 8);
		acc += (uint32_t)new_data[len - 1] << 8;
	}
	return sp_csum_fold(csum_fold32(acc));
}

uint16_t
sp_csum_replace16(uint16_t check, size_t off, uint16_t old_val,
    uint16_t new_val)
{
	uint8_t o[2], n[2];

	/*
	 * At an odd offset the high byte is the low half of one word and
	 * the low byte the high half of the next: since 2^16 = 1 modulo
	 * 0xffff, that counts as the byte-swapped value.
	 */
	if (off & 1) {
		old_val = (uint16_t)(old_val << 8 | old_val >> 8);
		new_val = (uint16_t)(new_val << 8 | new_val >> 8);
	}
	sp_put16(o, old_val);
	sp_put16(n, new_val);
	return sp_csum_replace(check, o, n, 2);
}

/* The pseudo-header sum for addresses src, dst (16 bytes each). */
static uint32_t
csum_pseudo(const uint8_t *src, const uint8_t *dst, size_t l4_len,
    uint8_t proto)
{
	uint32_t sum;

	sum = sp_csum_partial(0, src, 16);
	sum = sp_csum_partial(sum, dst, 16);
	/* l4_len < 2^16 here; as two words it would hold any 32 bits. */
	sum = csum_fold32((uint64_t)sum + (l4_len >> 16) + (l4_len & 0xffff));
	return csum_fold32((uint64_t)sum + proto);
}

/* Where the upper layer is and how many bytes its checksum covers. */
struct l4_span {
	uint8_t proto;		/* SP_NH_TCP, SP_NH_UDP or SP_NH_ICMPV6 */
	size_t off;		/* upper-layer start, bytes into the packet */
	size_t len;		/* bytes the checksum covers */
	size_t field;		/* checksum field, bytes into the packet */
};

/*
 * Find the upper layer of a walked packet for a full computation:
 * every case sp_csum_l4() documents as an error is refused here.
 */
static enum sp_err
l4_span_get(const uint8_t *pkt, const struct sp_exthdr_info *in,
    struct l4_span *sp)
{
	struct l4_layout lay;

	if (in->nonfirst_frag)
		return SP_ERR_FRAGMENT;
	if (in->has_esp)
		return SP_ERR_ESP;
	if (in->frag_idx >= 0 && in->frag_more)
		return SP_ERR_FRAGMENT;	/* only part of the datagram */
	if (in->has_routing)
		return SP_ERR_ROUTING;
	if (!l4_layout_get(in->l4_proto, &lay))
		return SP_ERR_PROTO;
	if (!sp_pkt_has(in->ip_len, in->l4_off, lay.min_len))
		return SP_ERR_TRUNCATED;
	sp->proto = in->l4_proto;
	sp->off = in->l4_off;
	sp->len = in->ip_len - in->l4_off;
	sp->field = in->l4_off + lay.csum_off;
	if (sp->proto == SP_NH_UDP) {
		/* RFC 8200 §8.1: UDP's own length goes in the pseudo-header;
		 * bytes after it (link padding) are not covered. */
		size_t ulen = sp_get16(&pkt[in->l4_off + 4]);

		if (ulen < SP_UDP_HLEN || ulen > sp->len)
			return SP_ERR_PAYLOAD_LEN;
		sp->len = ulen;
	}
	return SP_OK;
}

/* The field value for the span with these addresses (UDP: 0 -> 0xffff). */
static uint16_t
l4_compute(const uint8_t *pkt, const uint8_t *src, const uint8_t *dst,
    const struct l4_span *sp)
{
	size_t coff = sp->field - sp->off;	/* even: 16, 6 or 2 */
	uint32_t sum;
	uint16_t check;

	sum = csum_pseudo(src, dst, sp->len, sp->proto);
	sum = sp_csum_partial(sum, &pkt[sp->off], coff);
	sum = sp_csum_partial(sum, &pkt[sp->field + 2], sp->len - coff - 2);
	check = sp_csum_fold(sum);
	if (sp->proto == SP_NH_UDP && check == 0)
		check = 0xffff;	/* 0 means "no checksum", invalid in IPv6 */
	return check;
}

/* Walk the packet and find its span; the walker's errors pass through. */
static enum sp_err
l4_locate(const uint8_t *pkt, size_t len, struct l4_span *sp)
{
	struct sp_exthdr_info in;
	enum sp_err err;

	if (pkt == NULL)
		return SP_ERR_INVALID;
	err = sp_exthdr_walk(pkt, len, 0, &in);
	if (err != SP_OK)
		return err;
	return l4_span_get(pkt, &in, sp);
}

/* The checksum of the walk info's upper layer, and the offset of its
 * field, for a walk of pkt as it is (sp_exthdr_walk() just now, or
 * checked by sp_exthdr_matches()). */
static enum sp_err
l4_check(const uint8_t *pkt, const struct sp_exthdr_info *info,
    uint16_t *check, size_t *field)
{
	struct l4_span sp;
	enum sp_err err;

	err = l4_span_get(pkt, info, &sp);
	if (err != SP_OK)
		return err;
	*check = l4_compute(pkt, &pkt[SP_IP6_OFF_SRC], &pkt[SP_IP6_OFF_DST],
	    &sp);
	*field = sp.field;
	return SP_OK;
}

/* l4_check()'s checksum written into its field. */
static enum sp_err
l4_fill(uint8_t *pkt, const struct sp_exthdr_info *info)
{
	uint16_t check;
	size_t field;
	enum sp_err err;

	err = l4_check(pkt, info, &check, &field);
	if (err == SP_OK)
		sp_put16(&pkt[field], check);
	return err;
}

enum sp_err
sp_csum_l4(const uint8_t *pkt, size_t len, uint16_t *check)
{
	struct sp_exthdr_info in;
	size_t field;
	enum sp_err err;

	if (pkt == NULL || check == NULL)
		return SP_ERR_INVALID;
	err = sp_exthdr_walk(pkt, len, 0, &in);
	if (err != SP_OK)
		return err;
	return l4_check(pkt, &in, check, &field);
}

enum sp_err
sp_csum_l4_at(const uint8_t *pkt, size_t len,
    const struct sp_exthdr_info *info, uint16_t *check)
{
	size_t field;

	if (check == NULL || !sp_exthdr_matches(pkt, len, info))
		return SP_ERR_INVALID;
	return l4_check(pkt, info, check, &field);
}

enum sp_err
sp_csum_l4_fill(uint8_t *pkt, size_t len)
{
	struct sp_exthdr_info in;
	enum sp_err err;

	if (pkt == NULL)
		return SP_ERR_INVALID;
	err = sp_exthdr_walk(pkt, len, 0, &in);
	if (err != SP_OK)
		return err;
	return l4_fill(pkt, &in);
}

enum sp_err
sp_csum_l4_fill_at(uint8_t *pkt, size_t len,
    const struct sp_exthdr_info *info)
{
	if (!sp_exthdr_matches(pkt, len, info))
		return SP_ERR_INVALID;
	return l4_fill(pkt, info);
}

bool
sp_csum_l4_ok(const uint8_t *pkt, size_t len)
{
	struct l4_span sp;
	uint32_t sum;

	if (l4_locate(pkt, len, &sp) != SP_OK)
		return false;
	if (sp.proto == SP_NH_UDP && sp_get16(&pkt[sp.field]) == 0)
		return false;	/* RFC 8200 §8.1: a zero UDP checksum */
	sum = csum_pseudo(&pkt[SP_IP6_OFF_SRC], &pkt[SP_IP6_OFF_DST], sp.len,
	    sp.proto);
	sum = sp_csum_partial(sum, &pkt[sp.off], sp.len);
	return sp_csum_fold(sum) == 0;
}

/* Offset of the chosen address in an IPv6 header, or 0 when invalid. */
static size_t
addr_off(enum sp_addr which)
{
	switch (which) {
	case SP_ADDR_SRC:
		return SP_IP6_OFF_SRC;
	case SP_ADDR_DST:
		return SP_IP6_OFF_DST;
	default:
		return 0;	/* not an address: the caller refuses it */
	}
}

/* sp_pkt_set_addr() on a walked packet; aoff is the address's offset. */
static enum sp_err
set_addr(uint8_t *pkt, const struct sp_exthdr_info *in, enum sp_addr which,
    size_t aoff, const uint8_t addr[16])
{
	struct l4_layout lay;
	size_t field;
	uint16_t check;
	enum sp_err err;

	if (in->has_routing)
		return SP_ERR_ROUTING;
	if (in->has_ah)
		return SP_ERR_AH;
	if (in->nonfirst_frag || in->has_esp ||
	    !l4_layout_get(in->l4_proto, &lay)) {
		/* No checksum of this packet covers the address. */
		memmove(&pkt[aoff], addr, 16);
		return SP_OK;
	}
	if (!sp_pkt_has(in->ip_len, in->l4_off, lay.min_len))
		return SP_ERR_TRUNCATED;
	field = in->l4_off + lay.csum_off;
	check = sp_get16(&pkt[field]);

	if (in->l4_proto == SP_NH_UDP && check == 0) {
		/* Invalid in IPv6: replace it by the real checksum, when the
		 * whole datagram is here to compute it over. */
		if (!(in->frag_idx >= 0 && in->frag_more)) {
			struct l4_span sp;

			err = l4_span_get(pkt, in, &sp);
			if (err != SP_OK)
				return err;
			check = l4_compute(pkt,
			    which == SP_ADDR_SRC ? addr : &pkt[SP_IP6_OFF_SRC],
			    which == SP_ADDR_DST ? addr : &pkt[SP_IP6_OFF_DST],
			    &sp);
		}
	} else {
		/* RFC 1624: only the pseudo-header's address changed. */
		check = sp_csum_replace(check, &pkt[aoff], addr, 16);
		if (in->l4_proto == SP_NH_UDP && check == 0)
			check = 0xffff;
	}
	memmove(&pkt[aoff], addr, 16);	/* addr may point into pkt */
	sp_put16(&pkt[field], check);
	return SP_OK;
}

enum sp_err
sp_pkt_set_addr(uint8_t *pkt, size_t len, enum sp_addr which,
    const uint8_t addr[16])
{
	struct sp_exthdr_info in;
	size_t aoff = addr_off(which);
	enum sp_err err;

	if (pkt == NULL || addr == NULL || aoff == 0)
		return SP_ERR_INVALID;
	err = sp_exthdr_walk(pkt, len, 0, &in);
	if (err != SP_OK)
		return err;
	return sp_pkt_set_addr_at(pkt, len, &in, which, addr);
}

enum sp_err
sp_pkt_set_addr_at(uint8_t *pkt, size_t len,
    const struct sp_exthdr_info *info, enum sp_addr which,
    const uint8_t addr[16])
{
	size_t aoff = addr_off(which);

	if (pkt == NULL || addr == NULL || aoff == 0 ||
	    !sp_exthdr_matches(pkt, len, info))
		return SP_ERR_INVALID;
	return set_addr(pkt, info, which, aoff, addr);
}

/*
 * Check that pkt is an ICMPv6 error of a type that quotes the invoking
 * packet; fill the outer walk and the quote's offset.
 * Returns SP_OK, SP_ERR_PROTO, or a walker error.
 */
static enum sp_err
icmp6_error_find(const uint8_t *pkt, size_t len, struct sp_exthdr_info *in,
    size_t *inner_off)
{
	enum sp_err err;
	uint8_t type;

	if (pkt == NULL)
		return SP_ERR_INVALID;
	err = sp_exthdr_walk(pkt, len, 0, in);
	if (err != SP_OK)
		return err;
	if (in->nonfirst_frag || in->has_esp || in->l4_proto != SP_NH_ICMPV6)
		return SP_ERR_PROTO;
	if (!sp_pkt_has(in->ip_len, in->l4_off, SP_ICMP6_HLEN))
		return SP_ERR_PROTO;
	type = pkt[in->l4_off];
	if (type < 1 || type > 4)
		return SP_ERR_PROTO;	/* not an error quoting a packet */
	*inner_off = in->l4_off + SP_ICMP6_HLEN;
	return SP_OK;
}

bool
sp_icmp6_is_error(const uint8_t *pkt, size_t len, size_t *inner_off)
{
	struct sp_exthdr_info in;
	size_t off;

	if (icmp6_error_find(pkt, len, &in, &off) != SP_OK)
		return false;
	if (inner_off != NULL)
		*inner_off = off;
	return true;
}

enum sp_err
sp_icmp6_set_inner_addr(uint8_t *pkt, size_t len, enum sp_addr which,
    const uint8_t addr[16])
{
	struct sp_exthdr_info out, q;
	struct l4_layout lay;
	size_t ioff, qlen, aoff = addr_off(which), field = 0;
	uint16_t ocheck, icheck_old = 0, icheck = 0;
	bool has_field = false;
	enum sp_err err;

	if (pkt == NULL || addr == NULL || aoff == 0)
		return SP_ERR_INVALID;
	err = icmp6_error_find(pkt, len, &out, &ioff);
	if (err != SP_OK)
		return err;
	if (out.has_ah)
		return SP_ERR_AH;
	qlen = out.ip_len - ioff;
	err = sp_exthdr_walk(&pkt[ioff], qlen, SP_WALK_QUOTED, &q);
	if (err != SP_OK)
		return err;
	if (q.has_routing)
		return SP_ERR_ROUTING;
	aoff += ioff;

	if (!q.nonfirst_frag && !q.has_esp &&
	    l4_layout_get(q.l4_proto, &lay) &&
	    sp_pkt_has(qlen, q.l4_off + lay.csum_off, 2)) {
		/* The quote holds the inner field: keep it right. */
		has_field = true;
		field = ioff + q.l4_off + lay.csum_off;
		icheck = icheck_old = sp_get16(&pkt[field]);
		if (!(q.l4_proto == SP_NH_UDP && icheck == 0)) {
			icheck = sp_csum_replace(icheck, &pkt[aoff], addr, 16);
			if (q.l4_proto == SP_NH_UDP && icheck == 0)
				icheck = 0xffff;
		}
	}

	/* The outer checksum covers the quote: fix it for every byte. */
	ocheck = sp_get16(&pkt[out.l4_off + SP_ICMP6_OFF_CSUM]);
	/* aoff - out.l4_off is 16 or 32: word-aligned in the message. */
	ocheck = sp_csum_replace(ocheck, &pkt[aoff], addr, 16);
	if (has_field)
		ocheck = sp_csum_replace16(ocheck, field - out.l4_off,
		    icheck_old, icheck);

	memmove(&pkt[aoff], addr, 16);
	if (has_field)
		sp_put16(&pkt[field], icheck);
	sp_put16(&pkt[out.l4_off + SP_ICMP6_OFF_CSUM], ocheck);
	return SP_OK;
}

enum sp_err
sp_icmp6_ptb_mtu(const uint8_t *pkt, size_t len, uint8_t type,
    uint32_t *mtu)
{
	struct sp_exthdr_info out;
	struct sp_lbsp opt;
	size_t ioff, qlen;
	enum sp_err err;

	if (pkt == NULL)
		return SP_ERR_INVALID;
	err = icmp6_error_find(pkt, len, &out, &ioff);
	if (err != SP_OK)
		return err;
	if (pkt[out.l4_off] != SP_ICMP6_PACKET_TOO_BIG ||
	    pkt[out.l4_off + 1] != 0)
		return SP_ERR_PROTO;
	/* The quote: an IPv6 header, then the option's header. */
	qlen = out.ip_len - ioff;
	if (!sp_pkt_has(qlen, 0, SP_IP6_HLEN + 2) ||
	    pkt[ioff + 6] != SP_NH_DSTOPTS)
		return SP_ERR_NOT_FOUND;
	err = sp_dopt_decode(&pkt[ioff + SP_IP6_HLEN], qlen - SP_IP6_HLEN,
	    type, &opt, NULL);
	if (err != SP_OK)
		return err == SP_ERR_TRUNCATED ? SP_ERR_NOT_FOUND : err;
	if (mtu != NULL)
		*mtu = sp_get32(&pkt[out.l4_off + 4]);
	return SP_OK;
}
