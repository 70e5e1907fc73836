/* SPDX-License-Identifier: GPL-2.0-or-later */
/* check_dopt.c -- the LBSP option codec. */
#include <stdlib.h>
#include <string.h>

#include <sp/dopt.h>
#include <sp/exthdr.h>

#include "suites.h"
#include "testpkt.h"

static uint8_t pkt[TP_MAX], orig[TP_MAX];

static const struct sp_lbsp opt_c = {
	.seg1 = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1 },
};
static const struct sp_lbsp opt_cs = {
	.seg1 = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1 },
	.seg2 = { 0x20, 0x01, 0x0d, 0xb8, 0, 5, [15] = 1 },
};

/* doc/design.md §1, byte for byte: NH 6, seg1 2001:db8:1::1, seg2 2001:db8:5::1. */
static const uint8_t canonical[40] = {
	0x06, 0x04, 0x01, 0x02, 0x00, 0x00, 0x1e, 0x20,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x05, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
};

static size_t
build(const char *ext, uint8_t proto, size_t payload)
{
	struct tp_spec sp = { .ext = ext, .proto = proto, .payload = payload,
	    .seed = 7 };
	size_t len = tp_build(pkt, &sp);

	memcpy(orig, pkt, len);
	return len;
}

/* The upper layer is byte-identical and its checksum still verifies. */
static void
assert_l4_intact(size_t len, size_t olen, uint8_t proto)
{
	struct sp_exthdr_info a, b;

	ck_assert_int_eq(sp_exthdr_walk(orig, olen, 0, &a), SP_OK);
	ck_assert_int_eq(sp_exthdr_walk(pkt, len, 0, &b), SP_OK);
	ck_assert_uint_eq(len - b.l4_off, olen - a.l4_off);
	ck_assert_mem_eq(&pkt[b.l4_off], &orig[a.l4_off], len - b.l4_off);
	ck_assert_uint_eq(a.l4_proto, b.l4_proto);
	if (proto == 6 || proto == 17 || proto == 58) {
		size_t coff = proto == 6 ? 16 : proto == 17 ? 6 : 2;

		ck_assert_uint_eq(tp_ref_csum(pkt, len, b.l4_off, proto),
		    sp_get16(&pkt[b.l4_off + coff]));
	}
}

START_TEST(encode_canonical)
{
	uint8_t out[40];
	struct sp_lbsp back;
	size_t off;

	sp_dopt_encode(out, 6, SP_LBSP_TYPE_DEFAULT, &opt_cs);
	ck_assert_mem_eq(out, canonical, 40);
	ck_assert_int_eq(sp_dopt_decode(out, 40, 0x1e, &back, &off), SP_OK);
	ck_assert_uint_eq(off, 6);
	ck_assert_mem_eq(&back, &opt_cs, sizeof(back));
	/* The addresses are 8-byte aligned within the header. */
	ck_assert_uint_eq((off + 2) % 8, 0);
	/* Another type is another option. */
	ck_assert_int_eq(sp_dopt_decode(out, 40, 0x3e, &back, NULL),
	    SP_ERR_NOT_FOUND);
	sp_dopt_encode(out, 17, 0x3e, &opt_c);
	ck_assert_uint_eq(out[0], 17);
	ck_assert_uint_eq(out[6], 0x3e);
	ck_assert_int_eq(sp_dopt_decode(out, 40, 0x3e, &back, NULL), SP_OK);
	ck_assert_mem_eq(back.seg2, opt_c.seg2, 16);
}
END_TEST

START_TEST(decode_errors)
{
	uint8_t out[48];

	sp_dopt_encode(out, 6, 0x1e, &opt_c);
	memset(&out[8], 0, 16);
	ck_assert_int_eq(sp_dopt_decode(out, 40, 0x1e, NULL, NULL),
	    SP_ERR_ZERO_IDENTITY);
	sp_dopt_encode(out, 6, 0x1e, &opt_c);
	out[7] = 30;			/* Opt Data Len 30, then PadN(0) */
	out[38] = 1;
	out[39] = 0;
	ck_assert_int_eq(sp_dopt_decode(out, 40, 0x1e, NULL, NULL),
	    SP_ERR_BAD_LBSP);
	sp_dopt_encode(out, 6, 0x1e, &opt_c);
	out[7] = 33;			/* overruns the header */
	ck_assert_int_eq(sp_dopt_decode(out, 40, 0x1e, NULL, NULL),
	    SP_ERR_BAD_OPTION);
	/* The slides' type 1 is PadN: never looked for as LBSP. */
	ck_assert_int_eq(sp_dopt_decode(out, 40, 1, NULL, NULL),
	    SP_ERR_INVALID);
	ck_assert_int_eq(sp_dopt_decode(out, 40, 0, NULL, NULL),
	    SP_ERR_INVALID);
}
END_TEST

START_TEST(decode_truncated)
{
	uint8_t out[40];
	size_t cut;

	sp_dopt_encode(out, 6, 0x1e, &opt_cs);
	for (cut = 0; cut < 40; cut++) {
		uint8_t *b = malloc(cut ? cut : 1);

		memcpy(b, out, cut);
		ck_assert_int_eq(sp_dopt_decode(b, cut, 0x1e, NULL, NULL),
		    SP_ERR_TRUNCATED);
		free(b);
	}
}
END_TEST

/* Insert: new 40-byte header right after IPv6 / Hop-by-Hop, before the rest. */
static const struct {
	const char *ext, *after;	/* headers before and after the set */
	size_t at;			/* where the LBSP header lands */
} inserts[] = {
	{ "", "L", 40 },
	{ "H", "HL", 48 },
	{ "E", "LE", 40 },		/* before ESP */
	{ "F", "LF", 40 },		/* before Fragment (first fragment) */
	{ "R", "LR", 40 },		/* before Routing */
	{ "HRF", "HLRF", 48 },
	{ "RD", "LRD", 40 },		/* final-destination options kept */
};

START_TEST(insert_positions)
{
	uint8_t proto = (uint8_t)(_i % 2 ? 17 : 6);
	size_t olen = build(inserts[_i].ext, proto, 33), len = olen;
	struct sp_exthdr_info in;
	struct tp_spec sp = { .ext = inserts[_i].after, .proto = proto,
	    .payload = 33, .seed = 7 };
	uint8_t want[TP_MAX];
	enum sp_dopt_did did;
	unsigned i;

	ck_assert_int_eq(sp_dopt_set(pkt, &len, TP_MAX, 0x1e, &opt_c, &did),
	    SP_OK);
	ck_assert_int_eq(did, SP_DOPT_INSERTED);
	ck_assert_uint_eq(len, olen + 40);
	ck_assert_uint_eq(sp_get16(&pkt[4]), len - 40);
	/* Byte-identical to a packet built with the header in place. */
	ck_assert_uint_eq(tp_build(want, &sp), len);
	ck_assert_mem_eq(pkt, want, len);
	ck_assert_int_eq(sp_exthdr_walk(pkt, len, 0, &in), SP_OK);
	for (i = 0; i < in.nhdr; i++)
		if (in.hdr[i].off == inserts[_i].at)
			break;
	ck_assert_uint_lt(i, in.nhdr);
	ck_assert_uint_eq(in.hdr[i].type, SP_NH_DSTOPTS);
	if (strchr(inserts[_i].ext, 'E') == NULL)
		assert_l4_intact(len, olen, proto);
}
END_TEST

START_TEST(insert_then_strip_round_trip)
{
	static const char *const exts[] = { "", "H", "R", "F", "E", "HRF" };
	unsigned i;

	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		size_t olen = build(exts[i], 6, 100), len = olen;
		struct sp_lbsp got;

		ck_assert_int_eq(sp_dopt_set(pkt, &len, TP_MAX, 0x1e, &opt_cs,
		    NULL), SP_OK);
		ck_assert_int_eq(sp_dopt_find(pkt, len, 0x1e, &got, NULL),
		    SP_OK);
		ck_assert_mem_eq(&got, &opt_cs, sizeof(got));
		ck_assert_int_eq(sp_dopt_strip(pkt, &len, 0x1e), SP_OK);
		ck_assert_uint_eq(len, olen);
		ck_assert_mem_eq(pkt, orig, olen);
		ck_assert_int_eq(sp_dopt_strip(pkt, &len, 0x1e),
		    SP_ERR_NOT_FOUND);
	}
}
END_TEST

START_TEST(merge_keeps_other_options)
{
	/* "D": NH, 0, opt 0x1f len 4 d0..d3 -> that option stays at offset
	 * 2, PadN(4) brings the LBSP TLV to 8n+6, 48 bytes in all. */
	static const uint8_t want[48] = {
		0x06, 0x05, 0x1f, 0x04, 0xd0, 0xd1, 0xd2, 0xd3,
		0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x1e, 0x20,
		0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
		0x20, 0x01, 0x0d, 0xb8, 0x00, 0x05, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	};
	size_t olen = build("D", 6, 20), len = olen;
	enum sp_dopt_did did;

	ck_assert_int_eq(sp_dopt_set(pkt, &len, TP_MAX, 0x1e, &opt_cs, &did),
	    SP_OK);
	ck_assert_int_eq(did, SP_DOPT_MERGED);
	ck_assert_uint_eq(len, olen + 40);
	ck_assert_uint_eq(pkt[6], SP_NH_DSTOPTS);
	ck_assert_mem_eq(&pkt[40], want, sizeof(want));
	assert_l4_intact(len, olen, 6);

	/* Strip gives the original header back, byte for byte. */
	ck_assert_int_eq(sp_dopt_strip(pkt, &len, 0x1e), SP_OK);
	ck_assert_uint_eq(len, olen);
	ck_assert_mem_eq(pkt, orig, olen);
}
END_TEST

/* No run of padding longer than 7 bytes (Linux drops those), PadN data
 * zero, every kept option at its old offset modulo 8. */
static void
assert_linux_padding(const uint8_t *h, size_t hlen)
{
	size_t off = 2, run = 0;

	while (off < hlen) {
		if (h[off] == 0) {
			run++;
			off++;
		} else if (h[off] == 1) {
			size_t k;

			for (k = 0; k < h[off + 1]; k++)
				ck_assert_uint_eq(h[off + 2 + k], 0);
			run += 2 + (size_t)h[off + 1];
			off += 2 + (size_t)h[off + 1];
		} else {
			run = 0;
			off += 2 + (size_t)h[off + 1];
		}
		ck_assert_uint_le(run, 7);
	}
	ck_assert_uint_eq(off, hlen);
}

START_TEST(merge_alignment)
{
	/* A header with one unknown option of dlen bytes at offset 2 + lead. */
	size_t dlen = (size_t)_i % 24, lead = (size_t)_i / 24;
	size_t hlen = (2 + lead + 2 + dlen + 7) & ~(size_t)7, len, olen, k;
	struct sp_lbsp got;
	size_t opt_off;

	memset(pkt, 0, TP_MAX);
	pkt[0] = 0x60;
	pkt[6] = 60;
	pkt[7] = 64;
	memcpy(&pkt[8], tp_src, 16);
	memcpy(&pkt[24], tp_dst, 16);
	pkt[40] = 59;
	pkt[41] = (uint8_t)(hlen / 8 - 1);
	for (k = 0; k < lead; k++)
		pkt[42 + k] = 0;	/* Pad1s */
	pkt[42 + lead] = 0x3f;
	pkt[43 + lead] = (uint8_t)dlen;
	for (k = 0; k < dlen; k++)
		pkt[44 + lead + k] = (uint8_t)(0xa0 + k);
	if (hlen - (4 + lead + dlen) == 1)
		pkt[40 + hlen - 1] = 0;
	else if (hlen > 4 + lead + dlen) {
		pkt[40 + 4 + lead + dlen] = 1;
		pkt[40 + 5 + lead + dlen] = (uint8_t)(hlen - (6 + lead + dlen));
	}
	olen = len = 40 + hlen;
	sp_put16(&pkt[4], (uint16_t)hlen);
	memcpy(orig, pkt, olen);

	ck_assert_int_eq(sp_dopt_set(pkt, &len, TP_MAX, 0x1e, &opt_cs, NULL),
	    SP_OK);
	ck_assert_uint_eq((len - 40) % 8, 0);
	ck_assert_uint_eq(pkt[41], (len - 40) / 8 - 1);
	ck_assert_uint_eq(pkt[40], 59);
	/* The other option is where it was. */
	ck_assert_mem_eq(&pkt[42 + lead], &orig[42 + lead], 2 + dlen);
	ck_assert_int_eq(sp_dopt_find(pkt, len, 0x1e, &got, &opt_off), SP_OK);
	ck_assert_uint_eq((opt_off - 40) % 8, SP_LBSP_ALIGN);
	assert_linux_padding(&pkt[40], len - 40);
	ck_assert_int_eq(sp_dopt_strip(pkt, &len, 0x1e), SP_OK);
	ck_assert_uint_eq((len - 40) % 8, 0);
	ck_assert_mem_eq(&pkt[42 + lead], &orig[42 + lead], 2 + dlen);
	assert_linux_padding(&pkt[40], len - 40);
}
END_TEST

START_TEST(update_in_place)
{
	size_t olen = build("L", 17, 50), len = olen;
	enum sp_dopt_did did;
	struct sp_lbsp got;

	ck_assert_int_eq(sp_dopt_set_seg2(pkt, len, 0x1e, tp_server), SP_OK);
	ck_assert_int_eq(sp_dopt_find(pkt, len, 0x1e, &got, NULL), SP_OK);
	ck_assert_mem_eq(got.seg1, tp_seg1, 16);
	ck_assert_mem_eq(got.seg2, tp_server, 16);
	ck_assert_mem_eq(&pkt[40 + 40], &orig[40 + 40], olen - 80);

	ck_assert_int_eq(sp_dopt_set(pkt, &len, TP_MAX, 0x1e, &opt_c, &did),
	    SP_OK);
	ck_assert_int_eq(did, SP_DOPT_UPDATED);
	ck_assert_uint_eq(len, olen);
	ck_assert_mem_eq(pkt, orig, olen);	/* seg2 back to zero */

	/* Setting twice is the same as once. */
	len = build("", 6, 10);
	ck_assert_int_eq(sp_dopt_set(pkt, &len, TP_MAX, 0x1e, &opt_cs, NULL),
	    SP_OK);
	memcpy(orig, pkt, len);
	olen = len;
	ck_assert_int_eq(sp_dopt_set(pkt, &len, TP_MAX, 0x1e, &opt_cs, &did),
	    SP_OK);
	ck_assert_int_eq(did, SP_DOPT_UPDATED);
	ck_assert_uint_eq(len, olen);
	ck_assert_mem_eq(pkt, orig, len);
}
END_TEST

START_TEST(refusals_leave_packet_alone)
{
	static const struct {
		const char *ext;
		enum sp_err err;
	} cases[] = {
		{ "A", SP_ERR_AH },
		{ "HA", SP_ERR_AH },
		{ "f", SP_ERR_FRAGMENT },
		{ "LL", SP_ERR_DUPLICATE },
		{ "DDDDDDDDD", SP_ERR_TOO_MANY_HDRS },
		{ "RRRRRRRR", SP_ERR_TOO_MANY_HDRS },	/* 8 + ours */
		{ "DH", SP_ERR_HDR_ORDER },
	};
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t olen = build(cases[i].ext, 6, 10), len = olen;

		ck_assert_int_eq(sp_dopt_set(pkt, &len, TP_MAX, 0x1e, &opt_c,
		    NULL), cases[i].err);
		ck_assert_uint_eq(len, olen);
		ck_assert_mem_eq(pkt, orig, olen);
		ck_assert_int_ne(sp_dopt_strip(pkt, &len, 0x1e), SP_OK);
		ck_assert_uint_eq(len, olen);
		ck_assert_mem_eq(pkt, orig, olen);
	}
}
END_TEST

START_TEST(no_room)
{
	struct sp_lbsp zero;
	size_t olen = build("", 6, 10), len = olen;

	ck_assert_int_eq(sp_dopt_set(pkt, &len, olen + 39, 0x1e, &opt_c, NULL),
	    SP_ERR_NO_ROOM);
	ck_assert_uint_eq(len, olen);
	ck_assert_mem_eq(pkt, orig, olen);

	/* Payload Length would pass 65535. */
	{
		size_t big = 40 + 65535 - 10;
		uint8_t *b = calloc(1, big + 100);

		memcpy(b, pkt, 40);
		b[6] = 59;
		sp_put16(&b[4], (uint16_t)(big - 40));
		len = big;
		ck_assert_int_eq(sp_dopt_set(b, &len, big + 100, 0x1e, &opt_c,
		    NULL), SP_ERR_NO_ROOM);
		ck_assert_uint_eq(len, big);
		ck_assert_uint_eq(b[6], 59);
		free(b);
	}

	memset(&zero, 0, sizeof(zero));
	len = olen;
	ck_assert_int_eq(sp_dopt_set(pkt, &len, TP_MAX, 0x1e, &zero, NULL),
	    SP_ERR_ZERO_IDENTITY);
	ck_assert_int_eq(sp_dopt_set(pkt, &len, TP_MAX, 1, &opt_c, NULL),
	    SP_ERR_INVALID);
	ck_assert_mem_eq(pkt, orig, olen);
}
END_TEST

START_TEST(find_truncated_every_byte)
{
	size_t len = build("HLR", 6, 20), cut;

	for (cut = 0; cut < len; cut++) {
		uint8_t *b = malloc(cut ? cut : 1);

		memcpy(b, pkt, cut);
		ck_assert_int_ne(sp_dopt_find(b, cut, 0x1e, NULL, NULL), SP_OK);
		/* With a consistent length it is found once the headers
		 * (40 + 8 + 40 + 24 bytes) are whole, the upper layer not
		 * being needed. */
		if (cut >= 6)
			sp_put16(&b[4], (uint16_t)(cut >= 40 ? cut - 40 : 0));
		if (cut >= 112)
			ck_assert_int_eq(sp_dopt_find(b, cut, 0x1e, NULL, NULL),
			    SP_OK);
		else
			ck_assert_int_ne(sp_dopt_find(b, cut, 0x1e, NULL, NULL),
			    SP_OK);
		free(b);
	}
}
END_TEST

/*
 * Random mutations of valid packets: whatever the bytes, the writers
 * either refuse (packet unchanged) or leave a packet that walks and
 * carries exactly the option they wrote.  Exact-size heap buffers let
 * ASan see any access past the packet.
 */
START_TEST(mutations)
{
	static const char *const exts[] = { "", "H", "D", "L", "HD", "RF" };
	uint32_t rs = 12345;
	unsigned n;

	for (n = 0; n < 20000; n++) {
		size_t olen = build(exts[n % 6], 6, tp_rand(&rs) % 64);
		size_t cap = olen + 48, len = olen;
		uint8_t *b = malloc(cap);
		unsigned k, flips = 1 + tp_rand(&rs) % 4;
		struct sp_lbsp got;
		enum sp_err err;

		memcpy(b, pkt, olen);
		for (k = 0; k < flips; k++)
			b[40 + tp_rand(&rs) % (olen - 40 ? olen - 40 : 1)] ^=
			    (uint8_t)(1u << (tp_rand(&rs) % 8));
		memcpy(orig, b, olen);
		err = sp_dopt_set(b, &len, cap, 0x1e, &opt_cs, NULL);
		if (err != SP_OK) {
			ck_assert_uint_eq(len, olen);
			ck_assert_mem_eq(b, orig, olen);
		} else {
			ck_assert_int_eq(sp_dopt_find(b, len, 0x1e, &got,
			    NULL), SP_OK);
			ck_assert_mem_eq(&got, &opt_cs, sizeof(got));
			ck_assert_int_eq(sp_dopt_strip(b, &len, 0x1e), SP_OK);
			ck_assert_int_eq(sp_dopt_find(b, len, 0x1e, NULL,
			    NULL), SP_ERR_NOT_FOUND);
		}
		free(b);
	}
}
END_TEST

Suite *
dopt_suite(void)
{
	Suite *s = suite_create("dopt");
	TCase *tc = tcase_create("codec");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, encode_canonical);
	tcase_add_test(tc, decode_errors);
	tcase_add_test(tc, decode_truncated);
	tcase_add_loop_test(tc, insert_positions, 0,
	    (int)(sizeof(inserts) / sizeof(inserts[0])));
	tcase_add_test(tc, insert_then_strip_round_trip);
	tcase_add_test(tc, merge_keeps_other_options);
	tcase_add_loop_test(tc, merge_alignment, 0, 24 * 6);
	tcase_add_test(tc, update_in_place);
	tcase_add_test(tc, refusals_leave_packet_alone);
	tcase_add_test(tc, no_room);
	tcase_add_test(tc, find_truncated_every_byte);
	tcase_add_test(tc, mutations);
	suite_add_tcase(s, tc);
	return s;
}
