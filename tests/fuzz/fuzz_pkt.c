/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_pkt.c -- libFuzzer target for every packet parser and writer of
 * libsp: the extension-header walker, the LBSP codec (find, set, strip),
 * checksums, address rewrites (outer and ICMPv6-quoted) and the MSS
 * clamp.  Each writer gets an exact-size heap copy plus only the room it
 * may use, so ASan sees any access past the packet.
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
	return 0;
}
