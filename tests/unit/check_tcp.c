/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_tcp.c -- TCP flags and the MSS clamp: lowers, never raises,
 * touches SYN only, walks options bounded by Data Offset, refuses
 * malformed option lists with the packet unchanged, and keeps the TCP
 * checksum equal to tp_ref_csum() (a reference independent of libsp),
 * behind LBSP, Hop-by-Hop and other extension headers.
 */
#include <stdlib.h>
#include <string.h>

#include <sp/tcp.h>

#include "suites.h"
#include "testpkt.h"

static void
put_ref(uint8_t *p, size_t len, size_t l4)
{
	sp_put16(&p[l4 + 16], tp_ref_csum(p, len, l4, 6));
}

/*
 * A TCP segment behind the extension headers ext, whose options are
 * opts[0..optlen) (a multiple of 4, at most 40), with flags and payload
 * bytes after the header, and a correct checksum.  Returns its length;
 * *l4 is where TCP starts.
 */
static size_t
build_tcp(uint8_t *p, const char *ext, uint8_t flags, const uint8_t *opts,
    size_t optlen, size_t payload, uint32_t seed, size_t *l4)
{
	struct tp_spec s = { .ext = ext, .proto = 6,
	    .tcp_flags = flags & ~SP_TCP_SYN, .payload = optlen + payload,
	    .seed = seed };
	size_t len = tp_build(p, &s);

	ck_assert_uint_eq(optlen % 4, 0);
	ck_assert_uint_le(optlen, 40);
	*l4 = tp_l4_off(&s);
	p[*l4 + 12] = (uint8_t)(((20 + optlen) / 4) << 4);
	p[*l4 + 13] = flags;
	memcpy(&p[*l4 + 20], opts, optlen);
	put_ref(p, len, *l4);
	return len;
}

/* Clamp and expect err with the packet unchanged and *changed false. */
static void
expect_untouched(uint8_t *p, size_t len, uint16_t mss, enum sp_err want)
{
	uint8_t *copy = malloc(len);
	bool changed = true;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, p, len);
	ck_assert_int_eq(sp_tcp_mss_clamp(p, len, mss, &changed), want);
	ck_assert(!changed);
	ck_assert_mem_eq(p, copy, len);
	free(copy);
}

START_TEST(test_flags)
{
	static const uint8_t fl[] = { 0x02, 0x12, 0x10, 0x11, 0x04, 0x18 };
	uint8_t p[TP_MAX], f = 0;
	size_t i;

	for (i = 0; i < sizeof(fl); i++) {
		struct tp_spec s = { .ext = "HL", .proto = 6,
		    .tcp_flags = fl[i], .payload = i };
		size_t len = tp_build(p, &s), l4 = tp_l4_off(&s);

		ck_assert_int_eq(sp_tcp_flags(p, len, l4, &f), SP_OK);
		ck_assert_uint_eq(f, fl[i]);
		/* 20 bytes of header or nothing. */
		ck_assert_int_eq(sp_tcp_flags(p, l4 + 20, l4, &f), SP_OK);
		ck_assert_int_eq(sp_tcp_flags(p, l4 + 19, l4, &f),
		    SP_ERR_TRUNCATED);
		ck_assert_int_eq(sp_tcp_flags(p, len, len + 1, &f),
		    SP_ERR_TRUNCATED);
		ck_assert_int_eq(sp_tcp_flags(p, len, (size_t)-1, &f),
		    SP_ERR_TRUNCATED);
	}
	ck_assert_int_eq(sp_tcp_flags(NULL, 60, 40, &f), SP_ERR_INVALID);
	ck_assert_int_eq(sp_tcp_flags(p, 60, 40, NULL), SP_ERR_INVALID);
}
END_TEST

START_TEST(test_clamp_lowers)
{
	static const char *const exts[] = {
		"", "L", "H", "HL", "HLDR", "LF", "D",
	};
	size_t i;

	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		uint8_t p[TP_MAX], want[TP_MAX];
		struct tp_spec s = { .ext = exts[i], .proto = 6,
		    .tcp_flags = SP_TCP_SYN | (i & 1 ? SP_TCP_ACK : 0),
		    .mss = 1440, .payload = i * 3, .seed = 40 + (uint32_t)i };
		size_t len = tp_build(p, &s), l4 = tp_l4_off(&s);
		bool changed = false;

		/* The same segment built with MSS 1400 is the expectation:
		 * every byte, the checksum from the reference. */
		s.mss = 1400;
		ck_assert_uint_eq(tp_build(want, &s), len);
		ck_assert_uint_eq(sp_get16(&p[l4 + 22]), 1440);
		ck_assert_int_eq(sp_tcp_mss_clamp(p, len, 1400, &changed),
		    SP_OK);
		ck_assert(changed);
		ck_assert_mem_eq(p, want, len);
		ck_assert_uint_eq(sp_get16(&p[l4 + 16]),
		    tp_ref_csum(p, len, l4, 6));
		/* Again: nothing left to lower. */
		expect_untouched(p, len, 1400, SP_OK);
	}
}
END_TEST

START_TEST(test_clamp_never_raises)
{
	uint8_t p[TP_MAX];
	struct tp_spec s = { .ext = "L", .proto = 6, .tcp_flags = SP_TCP_SYN,
	    .mss = 1300, .payload = 0 };
	size_t len = tp_build(p, &s);
	bool changed = true;

	expect_untouched(p, len, 1400, SP_OK);
	expect_untouched(p, len, 1300, SP_OK);
	ck_assert_int_eq(sp_tcp_mss_clamp(p, len, 1299, &changed), SP_OK);
	ck_assert(changed);
	ck_assert_uint_eq(sp_get16(&p[80 + 22]), 1299);
	ck_assert_uint_eq(sp_get16(&p[80 + 16]), tp_ref_csum(p, len, 80, 6));
	/* changed may be NULL. */
	ck_assert_int_eq(sp_tcp_mss_clamp(p, len, 536, NULL), SP_OK);
	ck_assert_uint_eq(sp_get16(&p[80 + 22]), 536);
	ck_assert_uint_eq(sp_get16(&p[80 + 16]), tp_ref_csum(p, len, 80, 6));
	expect_untouched(p, len, 0, SP_ERR_INVALID);
	ck_assert_int_eq(sp_tcp_mss_clamp(NULL, len, 536, NULL),
	    SP_ERR_INVALID);
}
END_TEST

START_TEST(test_clamp_not_syn)
{
	static const uint8_t mss[4] = { 2, 4, 0x05, 0xa0 };
	static const uint8_t fl[] = { SP_TCP_ACK, SP_TCP_RST,
	    SP_TCP_FIN | SP_TCP_ACK, SP_TCP_PSH | SP_TCP_ACK, 0 };
	uint8_t p[TP_MAX];
	size_t i, len, l4;

	/* An MSS option on a segment that is not a SYN is ignored. */
	for (i = 0; i < sizeof(fl); i++) {
		len = build_tcp(p, "L", fl[i], mss, 4, 10, 9, &l4);
		expect_untouched(p, len, 1400, SP_OK);
	}
	/* Even with a malformed option list. */
	len = build_tcp(p, "", SP_TCP_ACK, (const uint8_t *)"\x08\x00\0\0",
	    4, 0, 9, &l4);
	expect_untouched(p, len, 1400, SP_OK);
}
END_TEST

START_TEST(test_clamp_no_mss)
{
	static const uint8_t nops[4] = { 1, 1, 1, 1 };
	/* EOL ends the list: the MSS after it is not an option. */
	static const uint8_t after_eol[8] = { 1, 0, 0, 0, 2, 4, 0x05, 0xb4 };
	static const uint8_t eol_junk[8] = { 0, 8, 0, 0xff, 2, 3, 0, 0 };
	uint8_t p[TP_MAX], forty[40];
	size_t len, l4;

	len = build_tcp(p, "H", SP_TCP_SYN, nops, 0, 0, 1, &l4);
	expect_untouched(p, len, 1400, SP_OK);
	len = build_tcp(p, "H", SP_TCP_SYN, nops, 4, 7, 1, &l4);
	expect_untouched(p, len, 1400, SP_OK);
	len = build_tcp(p, "L", SP_TCP_SYN, after_eol, 8, 7, 1, &l4);
	expect_untouched(p, len, 1400, SP_OK);
	len = build_tcp(p, "L", SP_TCP_SYN, eol_junk, 8, 7, 1, &l4);
	expect_untouched(p, len, 1400, SP_OK);
	/* Forty NOPs: the longest list there is. */
	memset(forty, 1, sizeof(forty));
	len = build_tcp(p, "L", SP_TCP_SYN, forty, 40, 0, 1, &l4);
	expect_untouched(p, len, 1400, SP_OK);
}
END_TEST

START_TEST(test_clamp_layouts)
{
	/* A Linux SYN: MSS, SACK-permitted, timestamps, NOP, window scale. */
	static const uint8_t linux_syn[20] = {
		2, 4, 0xff, 0xd7, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0,
		1, 3, 3, 7,
	};
	/* MSS value at an odd offset, after a 3-byte window scale. */
	static const uint8_t odd[8] = { 3, 3, 7, 2, 4, 0x23, 0x28, 0 };
	/* After one NOP; and two MSS options, both lowered. */
	static const uint8_t nop_mss[8] = { 1, 2, 4, 0x05, 0xb4, 1, 1, 1 };
	static const uint8_t two[8] = { 2, 4, 0x05, 0xb4, 2, 4, 0x21, 0x00 };
	static const struct {
		const uint8_t *opts;
		size_t optlen;
		size_t at[2];		/* option offsets of MSS values */
	} cases[] = {
		{ linux_syn, 20, { 2, 0 } },
		{ odd, 8, { 5, 0 } },
		{ nop_mss, 8, { 3, 0 } },
		{ two, 8, { 2, 6 } },
	};
	uint8_t p[TP_MAX], want[TP_MAX], forty[40];
	size_t i, j, len, l4;
	bool changed;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = build_tcp(p, "HL", SP_TCP_SYN | SP_TCP_ACK,
		    cases[i].opts, cases[i].optlen, 100 + i, 3, &l4);
		memcpy(want, p, len);
		for (j = 0; j < 2 && cases[i].at[j] != 0; j++)
			sp_put16(&want[l4 + 20 + cases[i].at[j]], 1220);
		put_ref(want, len, l4);
		changed = false;
		ck_assert_int_eq(sp_tcp_mss_clamp(p, len, 1220, &changed),
		    SP_OK);
		ck_assert(changed);
		ck_assert_mem_eq(p, want, len);
	}

	/* 36 NOPs then the MSS in the last four bytes. */
	memset(forty, 1, sizeof(forty));
	memcpy(&forty[36], "\x02\x04\x05\xb4", 4);
	len = build_tcp(p, "", SP_TCP_SYN, forty, 40, 0, 3, &l4);
	memcpy(want, p, len);
	sp_put16(&want[l4 + 58], 1400);
	put_ref(want, len, l4);
	ck_assert_int_eq(sp_tcp_mss_clamp(p, len, 1400, NULL), SP_OK);
	ck_assert_mem_eq(p, want, len);
}
END_TEST

START_TEST(test_clamp_malformed)
{
	static const struct {
		uint8_t opts[8];
		size_t optlen;
	} bad[] = {
		{ { 8, 0, 0, 0 }, 4 },			/* length 0 */
		{ { 8, 1, 0, 0 }, 4 },			/* length 1 */
		{ { 8, 10, 0, 0, 0, 0, 0, 0 }, 8 },	/* past the header */
		{ { 1, 1, 8, 3 }, 4 },			/* past by one */
		{ { 2, 3, 0x05, 0xb4 }, 4 },		/* MSS length 3 */
		{ { 2, 6, 0x05, 0xb4, 0, 0, 0, 0 }, 8 }, /* MSS length 6 */
		{ { 2, 2, 1, 1 }, 4 },			/* MSS length 2 */
		{ { 1, 1, 1, 8 }, 4 },			/* no length byte */
		{ { 1, 1, 1, 2 }, 4 },			/* MSS cut */
		/* A good MSS first: still nothing written. */
		{ { 2, 4, 0x05, 0xa0, 8, 0, 0, 0 }, 8 },
	};
	uint8_t p[TP_MAX];
	size_t i, len, l4;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		len = build_tcp(p, i & 1 ? "L" : "H", SP_TCP_SYN, bad[i].opts,
		    bad[i].optlen, i, 4, &l4);
		expect_untouched(p, len, 1400, SP_ERR_BAD_OPTION);
	}

	/* Data Offset 4: less than a header. */
	len = build_tcp(p, "", SP_TCP_SYN, bad[0].opts, 4, 0, 4, &l4);
	p[l4 + 12] = 4 << 4;
	expect_untouched(p, len, 1400, SP_ERR_BAD_OPTION);
	/* Data Offset 15 with a 24-byte segment: the header overruns. */
	p[l4 + 12] = 15 << 4;
	expect_untouched(p, len, 1400, SP_ERR_TRUNCATED);
	/* TCP cut inside its fixed header (Payload Length consistent). */
	len = l4 + 15;
	sp_put16(&p[4], (uint16_t)(len - 40));
	expect_untouched(p, len, 1400, SP_ERR_TRUNCATED);
}
END_TEST

START_TEST(test_clamp_other_packets)
{
	uint8_t p[TP_MAX];
	struct tp_spec s = { .ext = "L", .proto = 17, .payload = 30 };
	size_t len = tp_build(p, &s);

	expect_untouched(p, len, 1400, SP_OK);		/* UDP */
	s = (struct tp_spec){ .ext = "Lf", .proto = 6,
	    .tcp_flags = SP_TCP_SYN, .payload = 30 };
	len = tp_build(p, &s);
	expect_untouched(p, len, 1400, SP_OK);		/* non-first frag */
	s.ext = "LE";
	len = tp_build(p, &s);
	expect_untouched(p, len, 1400, SP_OK);		/* ESP */
	s.ext = "LA";
	len = tp_build(p, &s);
	expect_untouched(p, len, 1400, SP_ERR_AH);	/* AH covers it */
	s.tcp_flags = SP_TCP_ACK;
	len = tp_build(p, &s);
	expect_untouched(p, len, 1400, SP_OK);
	/* Walker errors pass through. */
	s = (struct tp_spec){ .ext = "", .proto = 6,
	    .tcp_flags = SP_TCP_SYN, .payload = 3 };
	len = tp_build(p, &s);
	p[0] = 0x45;
	expect_untouched(p, len, 1400, SP_ERR_VERSION);
}
END_TEST

START_TEST(test_clamp_truncated)
{
	static const char *const exts[] = { "", "L", "HL", "LR", "HDF" };
	size_t i, cut;

	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		uint8_t p[TP_MAX], *h;
		struct tp_spec s = { .ext = exts[i], .proto = 6,
		    .tcp_flags = SP_TCP_SYN, .payload = i };
		size_t len = tp_build(p, &s);

		for (cut = 0; cut < len; cut++) {
			bool changed = true;

			/* cut bytes on the heap: ASan sees any read past */
			h = malloc(cut ? cut : 1);
			ck_assert_ptr_nonnull(h);
			memcpy(h, p, cut);
			ck_assert_int_ne(sp_tcp_mss_clamp(h, cut, 1000,
			    &changed), SP_OK);
			ck_assert(!changed);
			ck_assert(cut == 0 || memcmp(h, p, cut) == 0);
			free(h);
		}
	}
}
END_TEST

/* Option pieces for the random lists: NOP, window scale, SACK
 * permitted, timestamps, MSS (value filled in by the test). */
static size_t
rand_opts(uint32_t *rs, uint8_t *o, size_t at[10], size_t *nat,
    uint16_t *mss_max)
{
	size_t n = 0;

	*nat = 0;
	*mss_max = 0;
	for (;;) {
		unsigned k = tp_rand(rs) % 6;
		size_t need = k == 0 ? 1 : k == 1 ? 3 : k == 2 ? 2 :
		    k == 3 ? 10 : 4;

		if (n + need > 40 || tp_rand(rs) % 8 == 0)
			break;
		switch (k) {
		case 0:
			o[n] = 1;
			break;
		case 1:
			o[n] = 3; o[n + 1] = 3; o[n + 2] = 7;
			break;
		case 2:
			o[n] = 4; o[n + 1] = 2;
			break;
		case 3:
			memset(&o[n], 0x5a, 10);
			o[n] = 8; o[n + 1] = 10;
			break;
		default: {
			uint16_t v = (uint16_t)(500 + tp_rand(rs) % 9000);

			o[n] = 2; o[n + 1] = 4;
			sp_put16(&o[n + 2], v);
			at[(*nat)++] = n + 2;
			if (v > *mss_max)
				*mss_max = v;
			break;
		}
		}
		n += need;
	}
	while (n % 4)
		o[n++] = 0;	/* EOL, then zero padding */
	return n;
}

START_TEST(test_clamp_random)
{
	static const char *const exts[] = {
		"", "H", "L", "HL", "D", "LR", "HLDR", "F", "LF",
	};
	uint32_t rs = 0x4d55;
	unsigned iter, nchanged = 0;

	for (iter = 0; iter < 4000; iter++) {
		uint8_t p[TP_MAX], want[TP_MAX], o[40];
		size_t at[10], nat, optlen, len, l4, j;
		uint16_t mss_max, clamp;
		bool changed = true, lower = false;

		clamp = (uint16_t)(536 + tp_rand(&rs) % 9000);
		optlen = rand_opts(&rs, o, at, &nat, &mss_max);
		len = build_tcp(p, exts[tp_rand(&rs) % 9],
		    (uint8_t)(SP_TCP_SYN | (tp_rand(&rs) & SP_TCP_ACK)), o,
		    optlen, tp_rand(&rs) % 1400, tp_rand(&rs), &l4);
		memcpy(want, p, len);
		for (j = 0; j < nat; j++) {
			if (sp_get16(&want[l4 + 20 + at[j]]) > clamp) {
				sp_put16(&want[l4 + 20 + at[j]], clamp);
				lower = true;
			}
		}
		put_ref(want, len, l4);
		ck_assert_int_eq(sp_tcp_mss_clamp(p, len, clamp, &changed),
		    SP_OK);
		ck_assert_int_eq(changed, lower);
		ck_assert_int_eq(lower, mss_max > clamp);
		ck_assert_mem_eq(p, want, len);
		nchanged += changed;
	}
	ck_assert_uint_gt(nchanged, 1000);
}
END_TEST

Suite *
tcp_suite(void)
{
	Suite *s = suite_create("tcp");
	TCase *tc;

	tc = tcase_create("flags");
	tcase_add_test(tc, test_flags);
	suite_add_tcase(s, tc);

	tc = tcase_create("mss_clamp");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_clamp_lowers);
	tcase_add_test(tc, test_clamp_never_raises);
	tcase_add_test(tc, test_clamp_not_syn);
	tcase_add_test(tc, test_clamp_no_mss);
	tcase_add_test(tc, test_clamp_layouts);
	tcase_add_test(tc, test_clamp_malformed);
	tcase_add_test(tc, test_clamp_other_packets);
	tcase_add_test(tc, test_clamp_truncated);
	tcase_add_test(tc, test_clamp_random);
	suite_add_tcase(s, tc);
	return s;
}
