/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_pkt.c -- libFuzzer target for every packet parser and writer of
 * libsp: the extension-header walker, the LBSP codec (find, set, strip),
 * checksums, address rewrites (outer and ICMPv6-quoted) and the MSS
 * clamp.  Each writer gets an exact-size heap copy plus only the room it
 * may use, so ASan sees any access past the packet.  The writers on the
 * caller's walk ("_at") must do byte for byte what the walking ones do
 * with the packet's own walk, and refuse (SP_ERR_INVALID) the walk of
 * another view of the bytes: one byte shorter, or after an insertion.
 *
 * The first input byte selects the option type and the address to
 * rewrite; the rest is the packet.
 */
#include <stdlib.h>
#include <string.h>

#include <sp/csum.h>
#include <sp/dopt.h>
#include <sp/exthdr.h>
#include <sp/tcp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct sp_lbsp fuzz_opt = {
	.seg1 = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1 },
	.seg2 = { 0x20, 0x01, 0x0d, 0xb8, 0, 5, [15] = 1 },
};

static void
check_written(const uint8_t *pkt, size_t len)
{
	struct sp_exthdr_info info;

	/* A packet a writer accepted must still walk. */
	if (sp_exthdr_walk(pkt, len, 0, &info) != SP_OK)
		abort();
}

/* Run writer k walking (on a) and on walk w (on b): same result, bytes. */
static void
same_as_walking(uint8_t *a, uint8_t *b, size_t size, size_t cap,
    const struct sp_exthdr_info *w, unsigned k, uint8_t type,
    enum sp_addr which)
{
	size_t la = size, lb = size;
	bool cha = false, chb = false;
	struct sp_lbsp oa, ob;
	uint16_t ca = 0, cb = 0;
	enum sp_err ea, eb;

	memset(&oa, 0, sizeof(oa));
	memset(&ob, 0, sizeof(ob));
	switch (k) {
	case 0:
		ea = sp_dopt_set(a, &la, cap, type, &fuzz_opt, NULL);
		eb = sp_dopt_set_at(b, &lb, cap, w, type, &fuzz_opt, NULL);
		break;
	case 1:
		ea = sp_dopt_strip(a, &la, type);
		eb = sp_dopt_strip_at(b, &lb, w, type);
		break;
	case 2:
		ea = sp_dopt_set_seg2(a, la, type, fuzz_opt.seg1);
		eb = sp_dopt_set_seg2_at(b, lb, w, type, fuzz_opt.seg1);
		break;
	case 3:
		ea = sp_pkt_set_addr(a, la, which, fuzz_opt.seg2);
		eb = sp_pkt_set_addr_at(b, lb, w, which, fuzz_opt.seg2);
		break;
	case 4:
		ea = sp_tcp_mss_clamp(a, la, 1400, &cha);
		eb = sp_tcp_mss_clamp_at(b, lb, w, 1400, &chb);
		break;
	case 5:
		ea = sp_csum_l4_fill(a, la);
		eb = sp_csum_l4_fill_at(b, lb, w);
		break;
	case 6:
		ea = sp_csum_l4(a, la, &ca);
		eb = sp_csum_l4_at(b, lb, w, &cb);
		break;
	default:
		ea = sp_dopt_find(a, la, type, &oa, NULL);
		eb = sp_dopt_find_at(b, lb, w, type, &ob, NULL);
		break;
	}
	if (ea != eb || la != lb || cha != chb || ca != cb ||
	    memcmp(&oa, &ob, sizeof(oa)) != 0 || memcmp(a, b, la) != 0)
		abort();
}

/* The "_at" writers on pkt[0..len) with the walk of something else. */
static void
refused(uint8_t *pkt, size_t len, const struct sp_exthdr_info *w,
    uint8_t type)
{
	size_t l = len;

	if (sp_exthdr_matches(pkt, len, w))
		return;		/* it describes these bytes too */
	if (sp_dopt_set_at(pkt, &l, len, w, type, &fuzz_opt, NULL) !=
	    SP_ERR_INVALID || l != len ||
	    sp_pkt_set_addr_at(pkt, len, w, SP_ADDR_DST, fuzz_opt.seg2) !=
	    SP_ERR_INVALID ||
	    sp_tcp_mss_clamp_at(pkt, len, w, 1400, NULL) != SP_ERR_INVALID ||
	    sp_csum_l4_fill_at(pkt, len, w) != SP_ERR_INVALID ||
	    sp_dopt_find_at(pkt, len, w, type, NULL, NULL) != SP_ERR_INVALID)
		abort();
}

/* The walk-once paths: the writers on the input's own walk. */
static void
fuzz_at(const uint8_t *data, size_t size, uint8_t type, enum sp_addr which)
{
	struct sp_exthdr_info w;
	size_t cap = size + SP_LBSP_HDR_LEN + 8, len = size;
	enum sp_dopt_did did;
	uint8_t *a, *b;
	unsigned k;

	a = malloc(cap);
	memcpy(a, data, size);
	if (sp_exthdr_walk(a, size, 0, &w) != SP_OK) {
		free(a);
		return;
	}
	if (!sp_exthdr_matches(a, size, &w))
		abort();
	b = malloc(cap);
	for (k = 0; k < 8; k++) {
		memcpy(a, data, size);
		memcpy(b, data, size);
		same_as_walking(a, b, size, cap, &w, k, type, which);
	}
	free(a);
	free(b);

	/* One byte shorter, exact size: refused, never read past. */
	if (size > 0) {
		a = malloc(size - 1 ? size - 1 : 1);
		memcpy(a, data, size - 1);
		refused(a, size - 1, &w, type);
		free(a);
	}
	/* After an insertion or a merge the walk is stale. */
	a = malloc(cap);
	memcpy(a, data, size);
	if (sp_dopt_set_at(a, &len, cap, &w, type, &fuzz_opt, &did) ==
	    SP_OK && did != SP_DOPT_UPDATED)
		refused(a, len, &w, type);
	free(a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sp_exthdr_info info;
	struct sp_lbsp got;
	uint8_t type, *p;
	enum sp_addr which;
	size_t len, cap;
	uint16_t check;
	bool changed;

	if (size < 1)
		return 0;
	type = (uint8_t)(data[0] & 0x3f) | 0x02;	/* never 0 or 1 */
	which = (data[0] & 0x80) ? SP_ADDR_SRC : SP_ADDR_DST;
	data++;
	size--;

	p = malloc(size ? size : 1);
	memcpy(p, data, size);
	(void)sp_exthdr_walk(p, size, 0, &info);
	(void)sp_exthdr_walk(p, size, SP_WALK_QUOTED, &info);
	(void)sp_dopt_find(p, size, type, &got, NULL);
	(void)sp_dopt_decode(p, size, type, &got, NULL);
	(void)sp_csum_l4(p, size, &check);
	(void)sp_csum_l4_ok(p, size);
	free(p);

	/* Writers: set then strip, in a buffer with just the room needed. */
	cap = size + SP_LBSP_HDR_LEN + 8;
	p = malloc(cap);
	memcpy(p, data, size);
	len = size;
	if (sp_dopt_set(p, &len, cap, type, &fuzz_opt, NULL) == SP_OK) {
		check_written(p, len);
		if (sp_dopt_find(p, len, type, &got, NULL) != SP_OK ||
		    memcmp(&got, &fuzz_opt, sizeof(got)) != 0)
			abort();
		if (sp_dopt_strip(p, &len, type) != SP_OK)
			abort();
		check_written(p, len);
	}
	free(p);

	p = malloc(size ? size : 1);
	memcpy(p, data, size);
	if (sp_pkt_set_addr(p, size, which, fuzz_opt.seg2) == SP_OK)
		check_written(p, size);
	(void)sp_icmp6_set_inner_addr(p, size, which, fuzz_opt.seg1);
	(void)sp_tcp_mss_clamp(p, size, 1400, &changed);
	len = size;
	(void)sp_dopt_set_seg2(p, len, type, fuzz_opt.seg2);
	(void)sp_dopt_strip(p, &len, type);
	free(p);

	fuzz_at(data, size, type, which);
	return 0;
}
