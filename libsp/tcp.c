/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcp.c -- TCP flags and the MSS clamp of SYN segments.
 *
 * The option walk is bounded by the header's Data Offset (at most 40
 * option bytes) and by SP_TCP_OPT_SPACE options; every read is checked
 * against the end of the header.  The whole list is validated before
 * any byte is written, so the packet is unchanged on error.
 */
#include <sp/csum.h>
#include <sp/exthdr.h>
#include <sp/tcp.h>

/* Most MSS options a 40-byte option space can hold. */
#define TCP_MSS_MAX (SP_TCP_OPT_SPACE / SP_TCP_OPT_MSS_LEN)

enum sp_err
sp_tcp_flags(const uint8_t *pkt, size_t len, size_t l4_off, uint8_t *flags)
{
	if (pkt == NULL || flags == NULL)
		return SP_ERR_INVALID;
	if (!sp_pkt_has(len, l4_off, SP_TCP_HLEN))
		return SP_ERR_TRUNCATED;
	*flags = pkt[l4_off + SP_TCP_OFF_FLAGS];
	return SP_OK;
}

/*
 * Walk the options of the TCP header at pkt[th..end) and note where the
 * value of every MSS option is.  Returns SP_OK or SP_ERR_BAD_OPTION.
 */
static enum sp_err
tcp_opt_find_mss(const uint8_t *pkt, size_t th, size_t end,
    size_t mss_off[TCP_MSS_MAX], unsigned *nmss)
{
	size_t off = th + SP_TCP_HLEN;
	unsigned nopt;

	*nmss = 0;
	for (nopt = 0; off < end; nopt++) {
		uint8_t kind = pkt[off], olen;

		/* Each option takes a byte: the data offset stops us first. */
		if (nopt == SP_TCP_OPT_SPACE)
			return SP_ERR_BAD_OPTION;
		if (kind == SP_TCP_OPT_EOL)
			break;
		if (kind == SP_TCP_OPT_NOP) {
			off++;
			continue;
		}
		if (!sp_pkt_has(end, off, 2))
			return SP_ERR_BAD_OPTION;	/* no length byte */
		olen = pkt[off + 1];
		if (olen < 2 || !sp_pkt_has(end, off, olen))
			return SP_ERR_BAD_OPTION;
		if (kind == SP_TCP_OPT_MSS) {
			if (olen != SP_TCP_OPT_MSS_LEN)
				return SP_ERR_BAD_OPTION;
			/* 4 bytes each: at most 10 fit in 40. */
			if (*nmss == TCP_MSS_MAX)
				return SP_ERR_BAD_OPTION;
			mss_off[(*nmss)++] = off + 2;
		}
		off += olen;
	}
	return SP_OK;
}

/* sp_tcp_mss_clamp() on a walked packet, arguments checked. */
static enum sp_err
mss_clamp(uint8_t *pkt, const struct sp_exthdr_info *in, uint16_t mss,
    bool *changed)
{
	size_t th, hlen, mss_off[TCP_MSS_MAX];
	unsigned nmss, i;
	uint16_t check;
	uint8_t flags;
	bool lowered = false;
	enum sp_err err;

	if (in->nonfirst_frag || in->has_esp || in->l4_proto != SP_NH_TCP)
		return SP_OK;			/* not a TCP header here */
	th = in->l4_off;
	err = sp_tcp_flags(pkt, in->ip_len, th, &flags);
	if (err != SP_OK)
		return err;
	if (!(flags & SP_TCP_SYN))
		return SP_OK;			/* MSS is only sent on SYN */
	if (in->has_ah)
		return SP_ERR_AH;
	hlen = (size_t)(pkt[th + SP_TCP_OFF_DOFF] >> 4) * 4;
	if (hlen < SP_TCP_HLEN)
		return SP_ERR_BAD_OPTION;	/* option space below zero */
	if (!sp_pkt_has(in->ip_len, th, hlen))
		return SP_ERR_TRUNCATED;
	err = tcp_opt_find_mss(pkt, th, th + hlen, mss_off, &nmss);
	if (err != SP_OK)
		return err;

	check = sp_get16(&pkt[th + SP_TCP_OFF_CSUM]);
	for (i = 0; i < nmss; i++) {
		uint16_t old = sp_get16(&pkt[mss_off[i]]);

		if (old <= mss)
			continue;		/* never raise an MSS */
		/* After a NOP the value sits at an odd offset. */
		check = sp_csum_replace16(check, mss_off[i] - th, old, mss);
		sp_put16(&pkt[mss_off[i]], mss);
		lowered = true;
	}
	if (lowered)
		sp_put16(&pkt[th + SP_TCP_OFF_CSUM], check);
	if (changed != NULL)
		*changed = lowered;
	return SP_OK;
}

enum sp_err
sp_tcp_mss_clamp(uint8_t *pkt, size_t len, uint16_t mss, bool *changed)
{
	struct sp_exthdr_info in;
	enum sp_err err;

	if (changed != NULL)
		*changed = false;
	if (pkt == NULL || mss == 0)
		return SP_ERR_INVALID;
	err = sp_exthdr_walk(pkt, len, 0, &in);
	if (err != SP_OK)
		return err;
	return sp_tcp_mss_clamp_at(pkt, len, &in, mss, changed);
}

enum sp_err
sp_tcp_mss_clamp_at(uint8_t *pkt, size_t len,
    const struct sp_exthdr_info *info, uint16_t mss, bool *changed)
{
	if (changed != NULL)
		*changed = false;
	if (pkt == NULL || mss == 0 || !sp_exthdr_matches(pkt, len, info))
		return SP_ERR_INVALID;
	return mss_clamp(pkt, info, mss, changed);
}
