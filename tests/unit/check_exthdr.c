/* SPDX-License-Identifier: GPL-2.0-or-later */
/* check_exthdr.c -- the extension-header and option walkers. */
#include <stdlib.h>
#include <string.h>

#include <sp/exthdr.h>

#include "suites.h"
#include "testpkt.h"

static uint8_t pkt[TP_MAX];

static size_t
build(const char *ext, uint8_t proto, size_t payload)
{
	struct tp_spec sp = { .ext = ext, .proto = proto, .payload = payload };

	return tp_build(pkt, &sp);
}

START_TEST(plain_tcp)
{
	struct sp_exthdr_info in;
	size_t len = build("", 6, 10);

	ck_assert_int_eq(sp_exthdr_walk(pkt, len, 0, &in), SP_OK);
	ck_assert_uint_eq(in.nhdr, 0);
	ck_assert_uint_eq(in.l4_proto, 6);
	ck_assert_uint_eq(in.l4_off, 40);
	ck_assert_uint_eq(in.insert_off, 40);
	ck_assert_uint_eq(in.insert_nh_off, 6);
	ck_assert_int_eq(in.dopt_idx, -1);
	ck_assert_int_eq(in.frag_idx, -1);
	ck_assert_uint_eq(in.ip_len, len);
}
END_TEST

/* Every header kind: where the upper layer and the insert point are. */
static const struct {
	const char *ext;
	size_t l4_off, insert_off, insert_nh_off;
	int dopt_idx;
	uint8_t l4_proto;
} layouts[] = {
	{ "H", 48, 48, 40, -1, 17 },
	{ "D", 48, 40, 6, 0, 17 },
	{ "L", 80, 40, 6, 0, 17 },
	{ "HD", 56, 48, 40, 1, 17 },
	{ "HL", 88, 48, 40, 1, 17 },
	{ "R", 64, 40, 6, -1, 17 },
	{ "RD", 72, 40, 6, -1, 17 },	/* final-destination options */
	{ "DRD", 80, 40, 6, 0, 17 },
	{ "HRF", 80, 48, 40, -1, 17 },
	{ "F", 48, 40, 6, -1, 17 },
	{ "A", 64, 40, 6, -1, 17 },
	{ "DA", 72, 40, 6, 0, 17 },
	{ "E", 40, 40, 6, -1, 50 },
	{ "HE", 48, 48, 40, -1, 50 },
};

START_TEST(layout)
{
	struct sp_exthdr_info in;
	size_t len = build(layouts[_i].ext, 17, 3);

	ck_assert_int_eq(sp_exthdr_walk(pkt, len, 0, &in), SP_OK);
	ck_assert_uint_eq(in.nhdr, strcspn(layouts[_i].ext, "E"));
	ck_assert_uint_eq(in.l4_off, layouts[_i].l4_off);
	ck_assert_uint_eq(in.l4_proto, layouts[_i].l4_proto);
	ck_assert_uint_eq(in.insert_off, layouts[_i].insert_off);
	ck_assert_uint_eq(in.insert_nh_off, layouts[_i].insert_nh_off);
	ck_assert_int_eq(in.dopt_idx, layouts[_i].dopt_idx);
	ck_assert(in.has_ah == (strchr(layouts[_i].ext, 'A') != NULL));
	ck_assert(in.has_esp == (strchr(layouts[_i].ext, 'E') != NULL));
	ck_assert(!in.nonfirst_frag);
	ck_assert(!in.has_routing);	/* Segments Left 0 */
}
END_TEST

START_TEST(fragments)
{
	struct sp_exthdr_info in;
	size_t len = build("F", 6, 100);

	ck_assert_int_eq(sp_exthdr_walk(pkt, len, 0, &in), SP_OK);
	ck_assert_int_eq(in.frag_idx, 0);
	ck_assert_uint_eq(in.frag_offset, 0);
	ck_assert(in.frag_more);
	ck_assert_uint_eq(in.frag_id, 0x12000034);
	ck_assert(!in.nonfirst_frag);
	ck_assert_uint_eq(in.l4_proto, 6);

	len = build("Hf", 6, 100);
	ck_assert_int_eq(sp_exthdr_walk(pkt, len, 0, &in), SP_OK);
	ck_assert_int_eq(in.frag_idx, 1);
	ck_assert_uint_eq(in.frag_offset, 185);
	ck_assert(!in.frag_more);
	ck_assert(in.nonfirst_frag);
	ck_assert_uint_eq(in.l4_off, 56);

	len = build("FF", 6, 10);
	ck_assert_int_eq(sp_exthdr_walk(pkt, len, 0, &in), SP_ERR_HDR_ORDER);
}
END_TEST

START_TEST(routing_segments_left)
{
	struct sp_exthdr_info in;
	size_t len = build("R", 6, 0);

	pkt[40 + 3] = 1;
	ck_assert_int_eq(sp_exthdr_walk(pkt, len, 0, &in), SP_OK);
	ck_assert(in.has_routing);
}
END_TEST

START_TEST(refusals)
{
	struct sp_exthdr_info in;
	size_t len;

	len = build("DH", 6, 0);
	ck_assert_int_eq(sp_exthdr_walk(pkt, len, 0, &in), SP_ERR_HDR_ORDER);
	len = build("HH", 6, 0);
	ck_assert_int_eq(sp_exthdr_walk(pkt, len, 0, &in), SP_ERR_HDR_ORDER);
	len = build("DDDDDDDD", 6, 0);
	ck_assert_int_eq(sp_exthdr_walk(pkt, len, 0, &in), SP_OK);
	len = build("DDDDDDDDD", 6, 0);
	ck_assert_int_eq(sp_exthdr_walk(pkt, len, 0, &in),
	    SP_ERR_TOO_MANY_HDRS);

	len = build("", 6, 0);
	pkt[0] = 0x45;
	ck_assert_int_eq(sp_exthdr_walk(pkt, len, 0, &in), SP_ERR_VERSION);

	len = build("H", 6, 0);
	pkt[4] = pkt[5] = 0;		/* jumbogram */
	ck_assert_int_eq(sp_exthdr_walk(pkt, len, 0, &in), SP_ERR_JUMBO);

	len = build("", 6, 8);
	ck_assert_int_eq(sp_exthdr_walk(pkt, len + 1, 0, &in),
	    SP_ERR_PAYLOAD_LEN);
	ck_assert_int_eq(sp_exthdr_walk(pkt, len - 1, 0, &in),
	    SP_ERR_TRUNCATED);

	/* No payload at all is a valid, if empty, packet. */
	len = build("", 59, 0);
	ck_assert_uint_eq(len, 40);
	ck_assert_int_eq(sp_exthdr_walk(pkt, len, 0, &in), SP_OK);
	ck_assert_uint_eq(in.l4_proto, 59);

	ck_assert_int_eq(sp_exthdr_walk(NULL, 40, 0, &in), SP_ERR_INVALID);
}
END_TEST

/*
 * Cut every packet at every byte, with Payload Length made to agree, in
 * a heap buffer of exactly that size (ASan sees any over-read): the walk
 * succeeds exactly when all extension headers fit.
 */
static const char *const cut_exts[] = {
	"", "H", "D", "L", "HL", "HDR", "RF", "Hf", "A", "DA", "HE", "LRD",
};

START_TEST(truncate_every_byte)
{
	struct sp_exthdr_info in, full;
	size_t len = build(cut_exts[_i], 6, 12), cut;

	ck_assert_int_eq(sp_exthdr_walk(pkt, len, 0, &full), SP_OK);
	for (cut = 0; cut < len; cut++) {
		uint8_t *b = malloc(cut ? cut : 1);
		enum sp_err err, qerr;

		memcpy(b, pkt, cut);
		if (cut >= 6)
			sp_put16(&b[4], (uint16_t)(cut >= 40 ? cut - 40 : 0));
		err = sp_exthdr_walk(b, cut, 0, &in);
		qerr = sp_exthdr_walk(b, cut, SP_WALK_QUOTED, &in);
		if (cut < 40) {
			ck_assert_int_eq(err, SP_ERR_TRUNCATED);
			ck_assert_int_eq(qerr, SP_ERR_TRUNCATED);
		} else if (cut < full.l4_off) {
			ck_assert_msg(err == SP_ERR_TRUNCATED ||
			    err == SP_ERR_JUMBO, "cut %zu: %s", cut,
			    sp_strerror(err));
			ck_assert_int_eq(qerr, SP_ERR_TRUNCATED);
		} else {
			ck_assert_int_eq(err, SP_OK);
			ck_assert_int_eq(qerr, SP_OK);
			ck_assert_uint_eq(in.l4_off, full.l4_off);
		}
		free(b);
	}
}
END_TEST

/* Option walker: counts options, refuses a TLV that overruns. */
struct count {
	unsigned n, pad1, padn;
};

static int
count_fn(const uint8_t *p, size_t off, uint8_t type, uint8_t dlen, void *arg)
{
	struct count *c = arg;

	(void)p;
	(void)off;
	(void)dlen;
	c->n++;
	c->pad1 += type == 0;
	c->padn += type == 1;
	return 0;
}

START_TEST(options)
{
	/* NH, len 1 (16 bytes): Pad1, Pad1, opt 0x1f len 3, PadN(7) */
	uint8_t h[16] = { 6, 1, 0, 0, 0x1f, 3, 1, 2, 3, 1, 5, 0, 0, 0, 0, 0 };
	struct count c = { 0, 0, 0 };

	ck_assert_int_eq(sp_opt_walk(h, sizeof(h), 0, count_fn, &c), SP_OK);
	ck_assert_uint_eq(c.n, 4);
	ck_assert_uint_eq(c.pad1, 2);
	ck_assert_uint_eq(c.padn, 1);

	h[10] = 6;			/* PadN now overruns by one byte */
	ck_assert_int_eq(sp_opt_walk(h, sizeof(h), 0, count_fn, &c),
	    SP_ERR_BAD_OPTION);
	h[10] = 5;
	h[15] = 0x1f;			/* last byte: a type with no length */
	h[10] = 4;
	ck_assert_int_eq(sp_opt_walk(h, sizeof(h), 0, count_fn, &c),
	    SP_ERR_BAD_OPTION);
	ck_assert_int_eq(sp_opt_walk(h, 15, 0, count_fn, &c),
	    SP_ERR_TRUNCATED);
}
END_TEST

/* A header of 2048 bytes of Pad1: the longest walk, bounded. */
START_TEST(options_longest)
{
	uint8_t *h = calloc(1, 2048);
	struct count c = { 0, 0, 0 };

	h[1] = 255;
	ck_assert_int_eq(sp_opt_walk(h, 2048, 0, count_fn, &c), SP_OK);
	ck_assert_uint_eq(c.pad1, 2046);
	free(h);
}
END_TEST

START_TEST(error_names)
{
	int i, j;

	for (i = 0; i < SP_ERR__COUNT; i++) {
		ck_assert_str_ne(sp_strerror((enum sp_err)i), "unknown");
		for (j = 0; j < i; j++)
			ck_assert_str_ne(sp_strerror((enum sp_err)i),
			    sp_strerror((enum sp_err)j));
	}
	ck_assert_str_eq(sp_strerror(SP_ERR__COUNT), "unknown");
	ck_assert_str_eq(sp_strerror((enum sp_err)-1), "unknown");
}
END_TEST

Suite *
exthdr_suite(void)
{
	Suite *s = suite_create("exthdr");
	TCase *tc = tcase_create("walk");

	tcase_add_test(tc, plain_tcp);
	tcase_add_loop_test(tc, layout, 0,
	    (int)(sizeof(layouts) / sizeof(layouts[0])));
	tcase_add_test(tc, fragments);
	tcase_add_test(tc, routing_segments_left);
	tcase_add_test(tc, refusals);
	tcase_add_loop_test(tc, truncate_every_byte, 0,
	    (int)(sizeof(cut_exts) / sizeof(cut_exts[0])));
	tcase_add_test(tc, options);
	tcase_add_test(tc, options_longest);
	tcase_add_test(tc, error_names);
	suite_add_tcase(s, tc);
	return s;
}
