/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dopt.c -- the LBSP Destination Option codec (wire format in sp/dopt.h).
 *
 * Writers work in place on a buffer with capacity: they walk the packet
 * once (or take the caller's walk: the "_at" variants, which check it
 * describes this packet), decide, and only then move bytes, so every
 * error leaves the packet as it was.  A Destination Options header is rebuilt (merge,
 * strip) by one routine that keeps every other option at its original
 * offset modulo 8, i.e. keeps whatever alignment it asked for, and
 * recomputes the padding.
 */
#include <string.h>

#include <sp/dopt.h>
#include <sp/exthdr.h>

#define DOPT_MAX_LEN 2048	/* (255 + 1) * 8: largest options header */

static const uint8_t zero16[16];

/* Types 0 (Pad1) and 1 (PadN) are padding: never an LBSP type. */
#define TYPE_OK(t) ((t) > 1)

void
sp_dopt_encode(uint8_t out[SP_LBSP_HDR_LEN], uint8_t next_header,
    uint8_t type, const struct sp_lbsp *opt)
{
	out[0] = next_header;
	out[1] = SP_LBSP_HDR_LEN / 8 - 1;
	out[2] = 0x01;			/* PadN */
	out[3] = 0x02;			/* 2 bytes of padding data */
	out[4] = 0x00;
	out[5] = 0x00;
	out[6] = type;
	out[7] = SP_LBSP_DATA_LEN;
	memcpy(&out[8], opt->seg1, 16);
	memcpy(&out[24], opt->seg2, 16);
}

/* State of a search for LBSP TLVs in one options header. */
struct lbsp_search {
	uint8_t type;		/* LBSP option type */
	unsigned found;		/* how many LBSP TLVs */
	size_t off;		/* offset of the first one's type byte */
	uint8_t dlen;		/* its Opt Data Len */
};

static int
lbsp_search_fn(const uint8_t *pkt, size_t off, uint8_t type, uint8_t dlen,
    void *arg)
{
	struct lbsp_search *s = arg;

	(void)pkt;
	if (type != s->type)
		return 0;
	if (s->found++ == 0) {
		s->off = off;
		s->dlen = dlen;
	}
	return 0;
}

/*
 * Find the LBSP TLV in every Destination Options header of a walked
 * packet.  On SP_OK, *opt_off is the type byte's offset and *idx the
 * hdr[] index of its header.
 */
static enum sp_err
lbsp_locate(const uint8_t *pkt, size_t len, const struct sp_exthdr_info *info,
    uint8_t type, size_t *opt_off, unsigned *idx)
{
	unsigned i, found = 0;
	enum sp_err err;

	for (i = 0; i < info->nhdr; i++) {
		struct lbsp_search s = { .type = type };

		if (info->hdr[i].type != SP_NH_DSTOPTS)
			continue;
		err = sp_opt_walk(pkt, len, info->hdr[i].off, lbsp_search_fn,
		    &s);
		if (err != SP_OK)
			return err;
		if (s.found == 0)
			continue;
		if (s.found > 1 || found > 0)
			return SP_ERR_DUPLICATE;
		if (s.dlen != SP_LBSP_DATA_LEN)
			return SP_ERR_BAD_LBSP;
		found = 1;
		*opt_off = s.off;
		*idx = i;
	}
	return found ? SP_OK : SP_ERR_NOT_FOUND;
}

static enum sp_err
lbsp_read(const uint8_t *p, struct sp_lbsp *opt)
{
	if (memcmp(p, zero16, 16) == 0)
		return SP_ERR_ZERO_IDENTITY;
	if (opt != NULL) {
		memcpy(opt->seg1, p, 16);
		memcpy(opt->seg2, p + 16, 16);
	}
	return SP_OK;
}

enum sp_err
sp_dopt_decode(const uint8_t *hdr, size_t len, uint8_t type,
    struct sp_lbsp *opt, size_t *opt_off)
{
	struct lbsp_search s = { .type = type };
	enum sp_err err;

	if (hdr == NULL || !TYPE_OK(type))
		return SP_ERR_INVALID;
	err = sp_opt_walk(hdr, len, 0, lbsp_search_fn, &s);
	if (err != SP_OK)
		return err;
	if (s.found == 0)
		return SP_ERR_NOT_FOUND;
	if (s.found > 1)
		return SP_ERR_DUPLICATE;
	if (s.dlen != SP_LBSP_DATA_LEN)
		return SP_ERR_BAD_LBSP;
	err = lbsp_read(&hdr[s.off + 2], opt);
	if (err == SP_OK && opt_off != NULL)
		*opt_off = s.off;
	return err;
}

/* Find and read the LBSP option of a walked packet. */
static enum sp_err
dopt_find(const uint8_t *pkt, size_t len, const struct sp_exthdr_info *info,
    uint8_t type, struct sp_lbsp *opt, size_t *opt_off)
{
	size_t off;
	unsigned idx;
	enum sp_err err;

	err = lbsp_locate(pkt, len, info, type, &off, &idx);
	if (err != SP_OK)
		return err;
	err = lbsp_read(&pkt[off + 2], opt);
	if (err == SP_OK && opt_off != NULL)
		*opt_off = off;
	return err;
}

enum sp_err
sp_dopt_find(const uint8_t *pkt, size_t len, uint8_t type,
    struct sp_lbsp *opt, size_t *opt_off)
{
	struct sp_exthdr_info info;
	enum sp_err err;

	if (!TYPE_OK(type))
		return SP_ERR_INVALID;
	err = sp_exthdr_walk(pkt, len, 0, &info);
	if (err != SP_OK)
		return err;
	return sp_dopt_find_at(pkt, len, &info, type, opt, opt_off);
}

enum sp_err
sp_dopt_find_at(const uint8_t *pkt, size_t len,
    const struct sp_exthdr_info *info, uint8_t type, struct sp_lbsp *opt,
    size_t *opt_off)
{
	if (!TYPE_OK(type) || !sp_exthdr_matches(pkt, len, info))
		return SP_ERR_INVALID;
	return dopt_find(pkt, len, info, type, opt, opt_off);
}

/* Emit gap bytes of padding at out[0..gap): Pad1 or one PadN. */
static void
pad(uint8_t *out, size_t gap)
{
	if (gap == 0)
		return;
	if (gap == 1) {
		out[0] = 0x00;
		return;
	}
	out[0] = 0x01;
	out[1] = (uint8_t)(gap - 2);
	memset(&out[2], 0, gap - 2);
}

/* State of a header rebuild: the options kept so far, in out[]. */
struct rebuild {
	const uint8_t *hdr;	/* the original header */
	size_t skip;		/* offset in hdr of a TLV to drop, or 0 */
	uint8_t out[DOPT_MAX_LEN];
	size_t cur;		/* bytes used in out */
	unsigned kept;		/* options (not padding) kept */
	bool overflow;		/* out would pass DOPT_MAX_LEN */
};

/* Append an option of sz bytes at its wanted offset modulo 8. */
static void
rebuild_put(struct rebuild *r, const uint8_t *tlv, size_t sz, size_t align)
{
	size_t gap = (align - r->cur) & 7;

	if (r->cur + gap + sz > DOPT_MAX_LEN) {
		r->overflow = true;
		return;
	}
	pad(&r->out[r->cur], gap);
	memcpy(&r->out[r->cur + gap], tlv, sz);
	r->cur += gap + sz;
	r->kept++;
}

static int
rebuild_fn(const uint8_t *hdr, size_t off, uint8_t type, uint8_t dlen,
    void *arg)
{
	struct rebuild *r = arg;

	if (type == 0 || type == 1 || (r->skip != 0 && off == r->skip))
		return 0;	/* padding is recomputed; the dropped TLV */
	rebuild_put(r, &hdr[off], 2 + (size_t)dlen, off & 7);
	return 0;
}

/*
 * Rebuild the options header at hdr: keep its options but the one at
 * skip (0: none), then append LBSP{add} at 8n+6 when add is not NULL.
 * Leaves the header in r->out[0..r->cur), r->cur a multiple of 8.
 */
static enum sp_err
rebuild(struct rebuild *r, const uint8_t *hdr, size_t hlen, size_t skip,
    uint8_t type, const struct sp_lbsp *add)
{
	enum sp_err err;

	memset(r, 0, sizeof(*r));
	r->hdr = hdr;
	r->skip = skip;
	r->out[0] = hdr[0];
	r->cur = 2;
	err = sp_opt_walk(hdr, hlen, 0, rebuild_fn, r);
	if (err != SP_OK)
		return err;
	if (add != NULL) {
		uint8_t tlv[2 + SP_LBSP_DATA_LEN];

		tlv[0] = type;
		tlv[1] = SP_LBSP_DATA_LEN;
		memcpy(&tlv[2], add->seg1, 16);
		memcpy(&tlv[18], add->seg2, 16);
		rebuild_put(r, tlv, sizeof(tlv), SP_LBSP_ALIGN);
	}
	if (r->overflow || ((r->cur + 7) & ~(size_t)7) > DOPT_MAX_LEN)
		return SP_ERR_NO_ROOM;
	{
		size_t gap = (8 - (r->cur & 7)) & 7;

		pad(&r->out[r->cur], gap);
		r->cur += gap;
	}
	r->out[1] = (uint8_t)(r->cur / 8 - 1);
	return SP_OK;
}

/*
 * Replace the oldlen bytes at off with newlen bytes from repl, moving
 * the rest of the packet and fixing Payload Length.  The caller has
 * fixed the Next Header chain.
 */
static enum sp_err
splice(uint8_t *pkt, size_t *len, size_t cap, size_t off, size_t oldlen,
    const uint8_t *repl, size_t newlen)
{
	size_t tail = *len - off - oldlen;
	size_t nlen = *len - oldlen + newlen;

	if (nlen > cap || nlen - SP_IP6_HLEN > SP_IP6_MAXPLEN)
		return SP_ERR_NO_ROOM;
	memmove(&pkt[off + newlen], &pkt[off + oldlen], tail);
	if (newlen != 0)
		memcpy(&pkt[off], repl, newlen);
	sp_put16(&pkt[SP_IP6_OFF_PLEN], (uint16_t)(nlen - SP_IP6_HLEN));
	*len = nlen;
	return SP_OK;
}

/* Refuse, from its walk, a packet that must not be touched. */
static enum sp_err
writable(const struct sp_exthdr_info *info)
{
	if (info->has_ah)
		return SP_ERR_AH;
	if (info->nonfirst_frag)
		return SP_ERR_FRAGMENT;
	return SP_OK;
}

/* sp_dopt_set() on a walked packet, arguments checked. */
static enum sp_err
dopt_set(uint8_t *pkt, size_t *len, size_t cap,
    const struct sp_exthdr_info *info, uint8_t type,
    const struct sp_lbsp *opt, enum sp_dopt_did *did)
{
	struct rebuild r;
	size_t off;
	unsigned idx;
	enum sp_err err;

	err = writable(info);
	if (err != SP_OK)
		return err;
	err = lbsp_locate(pkt, *len, info, type, &off, &idx);
	if (err == SP_OK) {
		memcpy(&pkt[off + 2], opt->seg1, 16);
		memcpy(&pkt[off + 18], opt->seg2, 16);
		if (did != NULL)
			*did = SP_DOPT_UPDATED;
		return SP_OK;
	}
	if (err != SP_ERR_NOT_FOUND)
		return err;

	if (info->dopt_idx >= 0) {
		const struct sp_exthdr *h = &info->hdr[info->dopt_idx];

		err = rebuild(&r, &pkt[h->off], h->len, 0, type, opt);
		if (err == SP_OK)
			err = splice(pkt, len, cap, h->off, h->len, r.out,
			    r.cur);
		if (err == SP_OK && did != NULL)
			*did = SP_DOPT_MERGED;
		return err;
	}

	/* A new header must leave a packet the walker accepts (found by
	 * fuzzing: eight headers plus ours). */
	if (info->nhdr >= SP_EXTHDR_MAX)
		return SP_ERR_TOO_MANY_HDRS;
	{
		uint8_t hdr[SP_LBSP_HDR_LEN];

		sp_dopt_encode(hdr, pkt[info->insert_nh_off], type, opt);
		err = splice(pkt, len, cap, info->insert_off, 0, hdr,
		    sizeof(hdr));
		if (err != SP_OK)
			return err;
		pkt[info->insert_nh_off] = SP_NH_DSTOPTS;
		if (did != NULL)
			*did = SP_DOPT_INSERTED;
		return SP_OK;
	}
}

enum sp_err
sp_dopt_set(uint8_t *pkt, size_t *len, size_t cap, uint8_t type,
    const struct sp_lbsp *opt, enum sp_dopt_did *did)
{
	struct sp_exthdr_info info;
	enum sp_err err;

	if (pkt == NULL || len == NULL || opt == NULL || !TYPE_OK(type))
		return SP_ERR_INVALID;
	if (memcmp(opt->seg1, zero16, 16) == 0)
		return SP_ERR_ZERO_IDENTITY;
	err = sp_exthdr_walk(pkt, *len, 0, &info);
	if (err != SP_OK)
		return err;
	return sp_dopt_set_at(pkt, len, cap, &info, type, opt, did);
}

enum sp_err
sp_dopt_set_at(uint8_t *pkt, size_t *len, size_t cap,
    const struct sp_exthdr_info *info, uint8_t type,
    const struct sp_lbsp *opt, enum sp_dopt_did *did)
{
	if (pkt == NULL || len == NULL || opt == NULL || !TYPE_OK(type))
		return SP_ERR_INVALID;
	if (memcmp(opt->seg1, zero16, 16) == 0)
		return SP_ERR_ZERO_IDENTITY;
	if (!sp_exthdr_matches(pkt, *len, info))
		return SP_ERR_INVALID;
	return dopt_set(pkt, len, cap, info, type, opt, did);
}

enum sp_err
sp_dopt_set_seg2(uint8_t *pkt, size_t len, uint8_t type,
    const uint8_t seg2[16])
{
	struct sp_exthdr_info info;
	enum sp_err err;

	if (seg2 == NULL || !TYPE_OK(type))
		return SP_ERR_INVALID;
	err = sp_exthdr_walk(pkt, len, 0, &info);
	if (err != SP_OK)
		return err;
	return sp_dopt_set_seg2_at(pkt, len, &info, type, seg2);
}

enum sp_err
sp_dopt_set_seg2_at(uint8_t *pkt, size_t len,
    const struct sp_exthdr_info *info, uint8_t type, const uint8_t seg2[16])
{
	size_t off;
	enum sp_err err;

	if (seg2 == NULL)
		return SP_ERR_INVALID;
	err = sp_dopt_find_at(pkt, len, info, type, NULL, &off);
	if (err != SP_OK)
		return err;
	memcpy(&pkt[off + 18], seg2, 16);
	return SP_OK;
}

/* sp_dopt_strip() on a walked packet, arguments checked. */
static enum sp_err
dopt_strip(uint8_t *pkt, size_t *len, const struct sp_exthdr_info *info,
    uint8_t type)
{
	const struct sp_exthdr *h;
	struct rebuild r;
	size_t off, nh_off;
	unsigned idx;
	enum sp_err err;

	err = writable(info);
	if (err != SP_OK)
		return err;
	err = lbsp_locate(pkt, *len, info, type, &off, &idx);
	if (err != SP_OK)
		return err;
	h = &info->hdr[idx];
	err = rebuild(&r, &pkt[h->off], h->len, off - h->off, type, NULL);
	if (err != SP_OK)
		return err;
	if (r.kept != 0)
		return splice(pkt, len, *len, h->off, h->len, r.out, r.cur);

	/* Nothing else in it: unlink the whole header. */
	nh_off = idx == 0 ? SP_IP6_OFF_NH : info->hdr[idx - 1].off;
	pkt[nh_off] = pkt[h->off];
	return splice(pkt, len, *len, h->off, h->len, NULL, 0);
}

enum sp_err
sp_dopt_strip(uint8_t *pkt, size_t *len, uint8_t type)
{
	struct sp_exthdr_info info;
	enum sp_err err;

	if (pkt == NULL || len == NULL || !TYPE_OK(type))
		return SP_ERR_INVALID;
	err = sp_exthdr_walk(pkt, *len, 0, &info);
	if (err != SP_OK)
		return err;
	return sp_dopt_strip_at(pkt, len, &info, type);
}

enum sp_err
sp_dopt_strip_at(uint8_t *pkt, size_t *len,
    const struct sp_exthdr_info *info, uint8_t type)
{
	if (pkt == NULL || len == NULL || !TYPE_OK(type) ||
	    !sp_exthdr_matches(pkt, *len, info))
		return SP_ERR_INVALID;
	return dopt_strip(pkt, len, info, type);
}
