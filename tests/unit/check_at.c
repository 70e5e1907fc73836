/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_at.c -- the packet writers on the caller's walk ("_at"
 * variants) against the walking ones, and sp_exthdr_matches().
 *
 * On every crafted packet (testpkt.c's layouts and upper layers) and
 * random mutations of them, each "_at" call given the packet's own walk
 * must return what the walking call returns and leave byte-identical
 * bytes.  A walk of another packet, a stale one (taken before an
 * insertion) or a tampered one is refused with SP_ERR_INVALID and the
 * packet left alone; exact-size heap buffers let ASan see any read past
 * the packet.
 */
#include <stdlib.h>
#include <string.h>

#include <sp/csum.h>
#include <sp/dopt.h>
#include <sp/exthdr.h>
#include <sp/tcp.h>

#include "suites.h"
#include "testpkt.h"

#define TYPE 0x1e

static const struct sp_lbsp opt_cs = {
	.seg1 = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1 },
	.seg2 = { 0x20, 0x01, 0x0d, 0xb8, 0, 5, [15] = 1 },
};
static const uint8_t addr_new[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 7,
	[15] = 9 };

/* Layouts (testpkt.h letters) and upper layers of the crafted packets. */
static const char *const layouts[] = {
	"", "H", "D", "L", "HD", "HL", "LD", "DL", "R", "RF", "F", "f", "A",
	"LA", "E", "HE", "HDRF", "Lf", "HRFA", "DDDD",
};

static const struct tp_spec uppers[] = {
	{ .proto = 6, .tcp_flags = 0x02 },			/* SYN */
	{ .proto = 6, .tcp_flags = 0x12, .mss = 9000 },	/* SYN-ACK */
	{ .proto = 6, .tcp_flags = 0x02, .mss = 500 },		/* low MSS */
	{ .proto = 6, .tcp_flags = 0x18, .payload = 301 },	/* data */
	{ .proto = 17, .payload = 40 },
	{ .proto = 17, .payload = 0 },
	{ .proto = 58, .payload = 56 },				/* echo */
	{ .proto = 58, .icmp_type = 2, .payload = 80 },	/* too big */
	{ .proto = 59 },					/* none */
};

#define NLAYOUTS (sizeof(layouts) / sizeof(layouts[0]))
#define NUPPERS (sizeof(uppers) / sizeof(uppers[0]))

/* Packet i of the crafted corpus into b (TP_MAX bytes); its length. */
static size_t
crafted(uint8_t *b, unsigned i)
{
	struct tp_spec sp = uppers[i % NUPPERS];

	sp.ext = layouts[i / NUPPERS];
	sp.seed = 100 + i;
	sp.flowlabel = i;
	return tp_build(b, &sp);
}

/* An exact-size heap copy of pkt[0..len) with room more bytes after. */
static uint8_t *
dup(const uint8_t *pkt, size_t len, size_t room)
{
	uint8_t *b = malloc(len + room ? len + room : 1);

	ck_assert_ptr_nonnull(b);
	memcpy(b, pkt, len);
	return b;
}

/*
 * Every writer, walking and "_at" with walk w, on copies of pkt: same
 * result, same bytes.  Returns how many agreed on SP_OK.
 */
static unsigned
same_as_walking(const uint8_t *pkt, size_t len,
    const struct sp_exthdr_info *w)
{
	const size_t room = SP_LBSP_HDR_LEN + 8;
	struct sp_lbsp oa, ob;
	enum sp_dopt_did da = SP_DOPT_UPDATED, db = SP_DOPT_UPDATED;
	size_t la, lb, offa = 0, offb = 0;
	uint16_t ca = 0, cb = 0;
	bool cha = false, chb = false;
	unsigned ok = 0, k;
	enum sp_err ea, eb;
	uint8_t *a, *b;

	ck_assert(sp_exthdr_matches(pkt, len, w));

	memset(&oa, 0, sizeof(oa));
	memset(&ob, 0, sizeof(ob));
	ea = sp_dopt_find(pkt, len, TYPE, &oa, &offa);
	eb = sp_dopt_find_at(pkt, len, w, TYPE, &ob, &offb);
	ck_assert_int_eq(ea, eb);
	ck_assert_mem_eq(&oa, &ob, sizeof(oa));
	ck_assert_uint_eq(offa, offb);
	ok += ea == SP_OK;

	ea = sp_csum_l4(pkt, len, &ca);
	eb = sp_csum_l4_at(pkt, len, w, &cb);
	ck_assert_int_eq(ea, eb);
	ck_assert_uint_eq(ca, cb);
	ok += ea == SP_OK;

	/* Writers that move bytes or not: each on two fresh copies. */
	for (k = 0; k < 7; k++) {
		a = dup(pkt, len, room);
		b = dup(pkt, len, room);
		la = lb = len;
		switch (k) {
		case 0:
			ea = sp_dopt_set(a, &la, len + room, TYPE, &opt_cs,
			    &da);
			eb = sp_dopt_set_at(b, &lb, len + room, w, TYPE,
			    &opt_cs, &db);
			if (ea == SP_OK)
				ck_assert_int_eq(da, db);
			break;
		case 1:
			ea = sp_dopt_set_seg2(a, la, TYPE, addr_new);
			eb = sp_dopt_set_seg2_at(b, lb, w, TYPE, addr_new);
			break;
		case 2:
			ea = sp_dopt_strip(a, &la, TYPE);
			eb = sp_dopt_strip_at(b, &lb, w, TYPE);
			break;
		case 3:
			ea = sp_csum_l4_fill(a, la);
			eb = sp_csum_l4_fill_at(b, lb, w);
			break;
		case 4:
			ea = sp_pkt_set_addr(a, la, SP_ADDR_SRC, addr_new);
			eb = sp_pkt_set_addr_at(b, lb, w, SP_ADDR_SRC,
			    addr_new);
			break;
		case 5:
			ea = sp_pkt_set_addr(a, la, SP_ADDR_DST, addr_new);
			eb = sp_pkt_set_addr_at(b, lb, w, SP_ADDR_DST,
			    addr_new);
			break;
		default:
			ea = sp_tcp_mss_clamp(a, la, 1200, &cha);
			eb = sp_tcp_mss_clamp_at(b, lb, w, 1200, &chb);
			ck_assert_int_eq(cha, chb);
			break;
		}
		ck_assert_int_eq(ea, eb);
		ck_assert_uint_eq(la, lb);
		ck_assert_mem_eq(a, b, la);
		ok += ea == SP_OK;
		free(a);
		free(b);
	}
	return ok;
}

/* Every "_at" call with walk w on pkt: refused, the packet unchanged. */
static void
all_refused(uint8_t *pkt, size_t len, size_t cap,
    const struct sp_exthdr_info *w)
{
	uint8_t *orig = dup(pkt, len, 0);
	struct sp_lbsp o;
	size_t l = len;
	uint16_t c;
	bool ch = true;

	ck_assert(!sp_exthdr_matches(pkt, len, w));
	ck_assert_int_eq(sp_dopt_find_at(pkt, len, w, TYPE, &o, NULL),
	    SP_ERR_INVALID);
	ck_assert_int_eq(sp_csum_l4_at(pkt, len, w, &c), SP_ERR_INVALID);
	ck_assert_int_eq(sp_dopt_set_at(pkt, &l, cap, w, TYPE, &opt_cs,
	    NULL), SP_ERR_INVALID);
	ck_assert_int_eq(sp_dopt_set_seg2_at(pkt, len, w, TYPE, addr_new),
	    SP_ERR_INVALID);
	ck_assert_int_eq(sp_dopt_strip_at(pkt, &l, w, TYPE), SP_ERR_INVALID);
	ck_assert_int_eq(sp_csum_l4_fill_at(pkt, len, w), SP_ERR_INVALID);
	ck_assert_int_eq(sp_pkt_set_addr_at(pkt, len, w, SP_ADDR_DST,
	    addr_new), SP_ERR_INVALID);
	ck_assert_int_eq(sp_tcp_mss_clamp_at(pkt, len, w, 1200, &ch),
	    SP_ERR_INVALID);
	ck_assert(!ch);
	ck_assert_uint_eq(l, len);
	ck_assert_mem_eq(pkt, orig, len);
	free(orig);
}

/* Each crafted packet: the "_at" calls do what the walking ones do. */
START_TEST(crafted_identical)
{
	static uint8_t buf[TP_MAX];
	struct sp_exthdr_info w;
	size_t len = crafted(buf, (unsigned)_i);
	uint8_t *p = dup(buf, len, 0);

	ck_assert_int_eq(sp_exthdr_walk(p, len, 0, &w), SP_OK);
	(void)same_as_walking(p, len, &w);
	free(p);
}
END_TEST

/* The corpus writes something: the comparison is not of refusals. */
START_TEST(crafted_exercise_writers)
{
	static uint8_t buf[TP_MAX];
	struct sp_exthdr_info w;
	unsigned i, ok = 0;

	for (i = 0; i < NLAYOUTS * NUPPERS; i++) {
		size_t len = crafted(buf, i);

		if (sp_exthdr_walk(buf, len, 0, &w) == SP_OK)
			ok += same_as_walking(buf, len, &w);
	}
	/* 9 calls a packet; most layouts take most of them. */
	ck_assert_uint_gt(ok, NLAYOUTS * NUPPERS * 4);
}
END_TEST

/* Random mutations of the corpus: equal wherever the walk succeeds. */
START_TEST(mutations_identical)
{
	static uint8_t buf[TP_MAX];
	struct sp_exthdr_info w;
	uint32_t rs = 4242;
	unsigned n, walked = 0;

	for (n = 0; n < 6000; n++) {
		size_t len = crafted(buf, tp_rand(&rs) % (NLAYOUTS * NUPPERS));
		unsigned k, flips = 1 + tp_rand(&rs) % 3;
		uint8_t *p;

		for (k = 0; k < flips; k++)
			buf[40 + tp_rand(&rs) % (len - 40 ? len - 40 : 1)] ^=
			    (uint8_t)(1u << (tp_rand(&rs) % 8));
		p = dup(buf, len, 0);
		if (sp_exthdr_walk(p, len, 0, &w) == SP_OK) {
			walked++;
			(void)same_as_walking(p, len, &w);
		}
		free(p);
	}
	ck_assert_uint_gt(walked, 1000);
}
END_TEST

/* The walk of another packet: refused unless it describes this one. */
START_TEST(foreign_walk_refused)
{
	static uint8_t b1[TP_MAX], b2[TP_MAX];
	struct sp_exthdr_info w;
	unsigned i, j, refused = 0;

	for (i = 0; i < NLAYOUTS * NUPPERS; i += 5) {
		size_t l1 = crafted(b1, i);

		if (sp_exthdr_walk(b1, l1, 0, &w) != SP_OK)
			continue;
		for (j = 0; j < NLAYOUTS * NUPPERS; j += 3) {
			size_t l2 = crafted(b2, j);
			uint8_t *p = dup(b2, l2, SP_LBSP_HDR_LEN + 8);

			if (sp_exthdr_matches(p, l2, &w)) {
				/* Same layout and length: it is this
				 * packet's walk too. */
				struct sp_exthdr_info own;

				ck_assert_int_eq(sp_exthdr_walk(p, l2, 0,
				    &own), SP_OK);
				(void)same_as_walking(p, l2, &w);
			} else {
				all_refused(p, l2, l2 + SP_LBSP_HDR_LEN + 8,
				    &w);
				refused++;
			}
			free(p);
		}
	}
	ck_assert_uint_gt(refused, 100);
}
END_TEST

/* After an insertion the walk no longer describes the packet. */
START_TEST(stale_walk_refused)
{
	static uint8_t buf[TP_MAX];
	struct tp_spec sp = { .ext = "H", .proto = 6, .tcp_flags = 0x02,
	    .seed = 9 };
	struct sp_exthdr_info w;
	enum sp_dopt_did did;
	size_t len = tp_build(buf, &sp), cap = len + SP_LBSP_HDR_LEN;
	uint8_t *p = dup(buf, len, SP_LBSP_HDR_LEN);

	ck_assert_int_eq(sp_exthdr_walk(p, len, 0, &w), SP_OK);
	/* Writes that move no byte keep it valid... */
	ck_assert_int_eq(sp_pkt_set_addr_at(p, len, &w, SP_ADDR_DST,
	    addr_new), SP_OK);
	ck_assert_int_eq(sp_tcp_mss_clamp_at(p, len, &w, 1200, NULL), SP_OK);
	ck_assert(sp_exthdr_matches(p, len, &w));
	/* ...the insertion does not. */
	ck_assert_int_eq(sp_dopt_set_at(p, &len, cap, &w, TYPE, &opt_cs,
	    &did), SP_OK);
	ck_assert_int_eq(did, SP_DOPT_INSERTED);
	all_refused(p, len, cap, &w);
	ck_assert(sp_csum_l4_ok(p, len));
	free(p);
}
END_TEST

/*
 * A tampered walk (offsets, lengths, counts or flags not the packet's)
 * is refused, never followed past the exact-size buffer.
 */
START_TEST(tampered_walk_refused)
{
	static uint8_t buf[TP_MAX];
	struct tp_spec sp = { .ext = "HDF", .proto = 6, .tcp_flags = 0x02,
	    .seed = 3 };
	struct sp_exthdr_info w, t;
	size_t len = tp_build(buf, &sp);
	uint8_t *p = dup(buf, len, 0);
	unsigned k;

	ck_assert_int_eq(sp_exthdr_walk(p, len, 0, &w), SP_OK);
	for (k = 0; k < 16; k++) {
		t = w;
		switch (k) {
		case 0: t.hdr[1].off = 4000; break;
		case 1: t.hdr[1].len = 4000; break;
		case 2: t.l4_off = len + 100; break;
		case 3: t.nhdr = SP_EXTHDR_MAX + 1; break;
		case 4: t.nhdr = 1; break;
		case 5: t.ip_len = len + 40; break;
		case 6: t.insert_off = len + 8; break;
		case 7: t.insert_nh_off = len; break;
		case 8: t.dopt_idx = 7; break;
		case 9: t.frag_idx = -1; break;
		case 10: t.has_ah = true; break;
		case 11: t.nonfirst_frag = true; break;
		case 12: t.l4_proto = 17; break;
		case 13: t.hdr[0].type = SP_NH_DSTOPTS; break;
		case 14: t.has_routing = true; break;
		default: t.frag_more = false; break;
		}
		all_refused(p, len, len, &t);
	}
	ck_assert(!sp_exthdr_matches(NULL, len, &w));
	ck_assert(!sp_exthdr_matches(p, len, NULL));
	/* The same walk on a shorter view of the buffer. */
	all_refused(p, len - 1, len - 1, &w);
	free(p);
}
END_TEST

/* A quoted walk (an ICMPv6 error's cut packet) is not a packet's walk. */
START_TEST(quoted_walk_refused)
{
	static uint8_t buf[TP_MAX];
	struct tp_spec sp = { .ext = "L", .proto = 6, .tcp_flags = 0x18,
	    .payload = 200, .seed = 5 };
	struct sp_exthdr_info w;
	size_t len = tp_build(buf, &sp), cut = len - 100;
	uint8_t *p = dup(buf, cut, 0);

	ck_assert_int_eq(sp_exthdr_walk(p, cut, SP_WALK_QUOTED, &w), SP_OK);
	all_refused(p, cut, cut, &w);
	free(p);
}
END_TEST

Suite *
at_suite(void)
{
	Suite *s = suite_create("at");
	TCase *tc = tcase_create("walk-once");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, crafted_identical, 0,
	    (int)(NLAYOUTS * NUPPERS));
	tcase_add_test(tc, crafted_exercise_writers);
	tcase_add_test(tc, mutations_identical);
	tcase_add_test(tc, foreign_walk_refused);
	tcase_add_test(tc, stale_walk_refused);
	tcase_add_test(tc, tampered_walk_refused);
	tcase_add_test(tc, quoted_walk_refused);
	suite_add_tcase(s, tc);
	return s;
}
