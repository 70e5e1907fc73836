/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_csum.c -- the checksum module: known-answer vectors (RFC 1071,
 * RFC 1624, an IPv4 header, a hand-computed IPv6 UDP packet), the UDP
 * zero rule, and incremental rewrites checked against tp_ref_csum(), a
 * full computation independent of libsp, for thousands of random TCP,
 * UDP, ICMPv6 and ICMPv6-error packets.  Truncated packets are copied
 * into heap buffers of exactly their length so ASan sees any overread.
 */
#include <stdlib.h>
#include <string.h>

#include <sp/csum.h>
#include <sp/exthdr.h>

#include "suites.h"
#include "testpkt.h"

/* Extension-header strings of the random packets (see testpkt.h). */
static const char *const exts[] = {
	"", "H", "D", "L", "HL", "LR", "HDR", "F", "HLF", "LDF", "HLDR",
	"A", "LA", "E", "f", "Lf",
};
#define NEXTS (sizeof(exts) / sizeof(exts[0]))

static const uint8_t protos[] = { 6, 17, 58, 59 };

static size_t
field_off(uint8_t proto)
{
	return proto == 6 ? 16 : proto == 17 ? 6 : 2;
}

static int
has_csum(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 58;
}

static void
put_ref(uint8_t *pkt, size_t len, size_t l4, uint8_t proto)
{
	sp_put16(&pkt[l4 + field_off(proto)], tp_ref_csum(pkt, len, l4,
	    proto));
}

/* The checksum a sender computes before the UDP rule (0 stays 0): the
 * same sum as tp_ref_csum(), kept apart to see the raw value. */
static uint16_t
raw_csum(const uint8_t *pkt, size_t len, size_t l4, uint8_t proto)
{
	size_t f = l4 + field_off(proto), i;
	uint64_t sum = 0;

	for (i = 8; i < 40; i += 2)
		sum += (uint32_t)(pkt[i] << 8 | pkt[i + 1]);
	sum += len - l4;
	sum += proto;
	for (i = l4; i < len; i++) {
		uint8_t b = (i == f || i == f + 1) ? 0 : pkt[i];

		sum += ((i - l4) & 1) ? b : (uint32_t)b << 8;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
rand_addr(uint32_t *rs, uint8_t a[16])
{
	size_t i;

	for (i = 0; i < 16; i++)
		a[i] = (uint8_t)tp_rand(rs);
	switch (tp_rand(rs) % 5) {
	case 0:
		memset(a, 0xff, 16);	/* words that are -0 */
		break;
	case 1:
		memset(a, 0, 15);	/* ::N */
		break;
	default:
		a[0] = 0x20; a[1] = 0x01; a[2] = 0x0d; a[3] = 0xb8;
		break;
	}
}

/* A copy of the len bytes at pkt in a heap buffer of exactly len. */
static uint8_t *
heap_copy(const uint8_t *pkt, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	ck_assert_ptr_nonnull(p);
	memcpy(p, pkt, len);
	return p;
}

/* ------------------------------------------------------------ vectors */

START_TEST(test_partial_rfc1071)
{
	/* RFC 1071 §3: 0001 f203 f4f5 f6f7 sums to 2ddf0, folds to ddf2. */
	static const uint8_t d[] = {
		0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7,
	};
	uint32_t s;

	s = sp_csum_partial(0, d, sizeof(d));
	ck_assert_uint_eq(s, 0x2ddf0);
	ck_assert_uint_eq(sp_csum_fold(s), 0x220d);
	/* Chained over even pieces, the same. */
	s = sp_csum_partial(sp_csum_partial(0, d, 2), d + 2, 6);
	ck_assert_uint_eq(sp_csum_fold(s), 0x220d);
	ck_assert_uint_eq(sp_csum_fold(0), 0xffff);
	ck_assert_uint_eq(sp_csum_fold(0xffff), 0x0000);
	ck_assert_uint_eq(sp_csum_fold(0x1fffe), 0x0000);
}
END_TEST

START_TEST(test_partial_odd)
{
	static const uint8_t d[] = { 0x01, 0x02, 0x03 };

	/* 0102 + 0300 = 0402. */
	ck_assert_uint_eq(sp_csum_partial(0, d, 3), 0x0402);
	ck_assert_uint_eq(sp_csum_fold(sp_csum_partial(0, d, 3)), 0xfbfd);
	ck_assert_uint_eq(sp_csum_partial(sp_csum_partial(0, d, 2), d + 2, 1),
	    0x0402);
	ck_assert_uint_eq(sp_csum_partial(7, d, 0), 7);
}
END_TEST

START_TEST(test_partial_carry)
{
	static const uint8_t ff[2] = { 0xff, 0xff };
	uint8_t *big;
	uint32_t s;

	/* 0xffffffff + 0xffff must keep the carry out of bit 31. */
	s = sp_csum_partial(0xffffffffu, ff, 2);
	ck_assert_uint_eq(sp_csum_fold(s), 0x0000);

	/* 150000 words of 0xffff: more than 32 bits of sum. */
	big = malloc(300000);
	ck_assert_ptr_nonnull(big);
	memset(big, 0xff, 300000);
	ck_assert_uint_eq(sp_csum_fold(sp_csum_partial(0, big, 300000)), 0);
	big[299999] = 0xfe;	/* minus one: checksum 1 */
	ck_assert_uint_eq(sp_csum_fold(sp_csum_partial(0, big, 300000)), 1);
	free(big);
}
END_TEST

START_TEST(test_ipv4_header)
{
	/* The classic IPv4 header example: checksum field b861. */
	static const uint8_t h[20] = {
		0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00,
		0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01,
		0xc0, 0xa8, 0x00, 0xc7,
	};
	uint8_t v[20];

	ck_assert_uint_eq(sp_csum_fold(sp_csum_partial(0, h, 20)), 0xb861);
	memcpy(v, h, 20);
	sp_put16(&v[10], 0xb861);
	ck_assert_uint_eq(sp_csum_fold(sp_csum_partial(0, v, 20)), 0);
}
END_TEST

START_TEST(test_replace_rfc1624)
{
	/* RFC 1624 §4: HC = dd2f, m = 5555 -> m' = 3285 gives 0000
	 * (eqn. 1 would give ffff). */
	static const uint8_t m[2] = { 0x55, 0x55 }, m2[2] = { 0x32, 0x85 };

	ck_assert_uint_eq(sp_csum_replace(0xdd2f, m, m2, 2), 0x0000);
	ck_assert_uint_eq(sp_csum_replace16(0xdd2f, 0, 0x5555, 0x3285),
	    0x0000);
	/* Back again. */
	ck_assert_uint_eq(sp_csum_replace(0x0000, m2, m, 2), 0xdd2f);
	/* Odd offset: the same change counts byte-swapped. */
	ck_assert_uint_eq(sp_csum_replace16(0xdd2f, 1, 0x5555, 0x8532),
	    0x0000);
}
END_TEST

START_TEST(test_replace_random)
{
	uint32_t rs = 0x1624;
	uint8_t d[64], n[64];
	unsigned iter;

	for (iter = 0; iter < 4000; iter++) {
		size_t i, off, cnt;
		uint16_t c, c2;

		for (i = 0; i < sizeof(d); i++)
			d[i] = (uint8_t)tp_rand(&rs);
		c = sp_csum_fold(sp_csum_partial(0, d, sizeof(d)));
		memcpy(n, d, sizeof(d));
		if (iter & 1) {
			/* A 16-bit value at any offset, odd ones too. */
			uint16_t v = (uint16_t)tp_rand(&rs);

			off = tp_rand(&rs) % (sizeof(d) - 1);
			sp_put16(&n[off], v);
			c2 = sp_csum_replace16(c, off, sp_get16(&d[off]), v);
		} else {
			off = 2 * (tp_rand(&rs) % 32);
			cnt = 2 * (tp_rand(&rs) % ((sizeof(d) - off) / 2 + 1));
			for (i = off; i < off + cnt; i++)
				n[i] = (uint8_t)tp_rand(&rs);
			c2 = sp_csum_replace(c, &d[off], &n[off], cnt);
		}
		ck_assert_uint_eq(c2,
		    sp_csum_fold(sp_csum_partial(0, n, sizeof(n))));
	}
}
END_TEST

START_TEST(test_udp_known)
{
	/* ::1 -> ::1, UDP 1 -> 2, no payload.  By hand: 1 + 1 (addresses)
	 * + 8 (length) + 17 (next header) + 1 + 2 + 8 (UDP header) = 0x26,
	 * checksum ~0x0026 = 0xffd9. */
	uint8_t p[48] = { 0x60, [5] = 8, [6] = 17, [7] = 64, [23] = 1,
	    [39] = 1, [41] = 1, [43] = 2, [45] = 8 };
	uint16_t c = 0;

	ck_assert_int_eq(sp_csum_l4(p, sizeof(p), &c), SP_OK);
	ck_assert_uint_eq(c, 0xffd9);
	ck_assert(!sp_csum_l4_ok(p, sizeof(p)));	/* field 0 */
	ck_assert_int_eq(sp_csum_l4_fill(p, sizeof(p)), SP_OK);
	ck_assert_uint_eq(sp_get16(&p[46]), 0xffd9);
	ck_assert(sp_csum_l4_ok(p, sizeof(p)));
	p[47] ^= 1;
	ck_assert(!sp_csum_l4_ok(p, sizeof(p)));
}
END_TEST

/* ------------------------------------------------------- full sums */

START_TEST(test_l4_matches_reference)
{
	uint32_t rs = 0xc0ffee;
	unsigned iter;

	for (iter = 0; iter < 2000; iter++) {
		static const char *const ok_exts[] = {
			"", "H", "D", "L", "HL", "LR", "HDR", "A", "LA",
		};
		uint8_t p[TP_MAX];
		struct tp_spec s = {
			.ext = ok_exts[tp_rand(&rs) % 9],
			.proto = protos[tp_rand(&rs) % 3],
			.tcp_flags = (uint8_t)tp_rand(&rs),
			.payload = tp_rand(&rs) % 1401,
			.seed = tp_rand(&rs),
		};
		size_t len = tp_build(p, &s), l4 = tp_l4_off(&s);
		uint16_t c = 0, want = tp_ref_csum(p, len, l4, s.proto);

		ck_assert_int_eq(sp_csum_l4(p, len, &c), SP_OK);
		ck_assert_uint_eq(c, want);
		ck_assert(sp_csum_l4_ok(p, len));
		sp_put16(&p[l4 + field_off(s.proto)], (uint16_t)~want);
		ck_assert(!sp_csum_l4_ok(p, len));
		ck_assert_int_eq(sp_csum_l4_fill(p, len), SP_OK);
		ck_assert_uint_eq(sp_get16(&p[l4 + field_off(s.proto)]), want);
		/* Any flipped bit in the upper layer is seen. */
		p[l4 + tp_rand(&rs) % (len - l4)] ^=
		    (uint8_t)(1u << (tp_rand(&rs) % 8));
		ck_assert(!sp_csum_l4_ok(p, len));
	}
}
END_TEST

START_TEST(test_l4_errors)
{
	uint8_t p[TP_MAX];
	struct tp_spec s = { .ext = "", .proto = 59, .payload = 20 };
	size_t len;
	uint16_t c;

	len = tp_build(p, &s);
	ck_assert_int_eq(sp_csum_l4(p, len, &c), SP_ERR_PROTO);
	ck_assert(!sp_csum_l4_ok(p, len));
	ck_assert_int_eq(sp_csum_l4_fill(p, len), SP_ERR_PROTO);

	s = (struct tp_spec){ .ext = "HE", .proto = 6, .payload = 20 };
	len = tp_build(p, &s);
	ck_assert_int_eq(sp_csum_l4(p, len, &c), SP_ERR_ESP);

	s = (struct tp_spec){ .ext = "Lf", .proto = 6, .payload = 20 };
	len = tp_build(p, &s);
	ck_assert_int_eq(sp_csum_l4(p, len, &c), SP_ERR_FRAGMENT);

	/* A first fragment: the checksum covers the whole datagram. */
	s = (struct tp_spec){ .ext = "LF", .proto = 17, .payload = 20 };
	len = tp_build(p, &s);
	ck_assert_int_eq(sp_csum_l4(p, len, &c), SP_ERR_FRAGMENT);
	ck_assert(!sp_csum_l4_ok(p, len));
	/* ... but an atomic fragment (M = 0) is the whole datagram. */
	p[40 + 40 + 3] = 0;
	ck_assert_int_eq(sp_csum_l4(p, len, &c), SP_OK);
	ck_assert_uint_eq(c, tp_ref_csum(p, len, 88, 17));

	/* Routing with Segments Left 1. */
	s = (struct tp_spec){ .ext = "R", .proto = 6, .payload = 20 };
	len = tp_build(p, &s);
	ck_assert_int_eq(sp_csum_l4(p, len, &c), SP_OK);
	p[40 + 3] = 1;
	ck_assert_int_eq(sp_csum_l4(p, len, &c), SP_ERR_ROUTING);

	/* TCP cut to 17 bytes, Payload Length consistent. */
	s = (struct tp_spec){ .ext = "H", .proto = 6, .payload = 0 };
	len = tp_build(p, &s) - 3;
	sp_put16(&p[4], (uint16_t)(len - 40));
	ck_assert_int_eq(sp_csum_l4(p, len, &c), SP_ERR_TRUNCATED);
	ck_assert(!sp_csum_l4_ok(p, len));

	/* ICMPv6 of 3 bytes. */
	s = (struct tp_spec){ .ext = "", .proto = 58, .payload = 0 };
	len = 43;
	tp_build(p, &s);
	sp_put16(&p[4], 3);
	ck_assert_int_eq(sp_csum_l4(p, len, &c), SP_ERR_TRUNCATED);

	/* Walker errors pass through. */
	s = (struct tp_spec){ .ext = "", .proto = 6, .payload = 10 };
	len = tp_build(p, &s);
	ck_assert_int_eq(sp_csum_l4(p, len - 1, &c), SP_ERR_TRUNCATED);
	p[0] = 0x40;
	ck_assert_int_eq(sp_csum_l4(p, len, &c), SP_ERR_VERSION);
	ck_assert_int_eq(sp_csum_l4(NULL, len, &c), SP_ERR_INVALID);
	ck_assert_int_eq(sp_csum_l4(p, len, NULL), SP_ERR_INVALID);
}
END_TEST

START_TEST(test_udp_length_field)
{
	uint8_t p[TP_MAX];
	struct tp_spec s = { .ext = "D", .proto = 17, .payload = 31,
	    .seed = 99 };
	size_t len = tp_build(p, &s), l4 = tp_l4_off(&s);
	uint16_t c = 0, want = tp_ref_csum(p, len, l4, 17);

	/* Five bytes of link padding after the datagram: not covered. */
	memset(&p[len], 0xee, 5);
	sp_put16(&p[4], (uint16_t)(len + 5 - 40));
	ck_assert_int_eq(sp_csum_l4(p, len + 5, &c), SP_OK);
	ck_assert_uint_eq(c, want);
	ck_assert(sp_csum_l4_ok(p, len + 5));

	/* A UDP Length past the packet, or below 8. */
	sp_put16(&p[l4 + 4], (uint16_t)(len + 6 - l4));
	ck_assert_int_eq(sp_csum_l4(p, len + 5, &c), SP_ERR_PAYLOAD_LEN);
	sp_put16(&p[l4 + 4], 7);
	ck_assert_int_eq(sp_csum_l4(p, len + 5, &c), SP_ERR_PAYLOAD_LEN);
	ck_assert(!sp_csum_l4_ok(p, len + 5));
}
END_TEST

/* Make the UDP datagram at l4 of p sum to -0 by changing its first
 * payload word, so that its computed checksum is 0. */
static void
udp_make_zero(uint8_t *p, size_t len, size_t l4)
{
	uint16_t c = raw_csum(p, len, l4, 17), old = sp_get16(&p[l4 + 8]);
	uint32_t w = (uint32_t)old + c;

	/* -sum = ~sum = c modulo 0xffff: adding c makes the sum -0. */
	w = (w & 0xffff) + (w >> 16);
	sp_put16(&p[l4 + 8], (uint16_t)w);
	ck_assert_uint_eq(raw_csum(p, len, l4, 17), 0);
}

START_TEST(test_udp_zero_computed)
{
	uint8_t p[TP_MAX], q[TP_MAX];
	struct tp_spec s = { .ext = "L", .proto = 17, .payload = 40,
	    .seed = 5 };
	size_t len = tp_build(p, &s), l4 = tp_l4_off(&s);
	uint16_t c = 0;

	udp_make_zero(p, len, l4);
	ck_assert_int_eq(sp_csum_l4(p, len, &c), SP_OK);
	ck_assert_uint_eq(c, 0xffff);
	ck_assert_int_eq(sp_csum_l4_fill(p, len), SP_OK);
	ck_assert_uint_eq(sp_get16(&p[l4 + 6]), 0xffff);
	ck_assert(sp_csum_l4_ok(p, len));
	sp_put16(&p[l4 + 6], 0);	/* 0 would sum right, but means none */
	ck_assert(!sp_csum_l4_ok(p, len));
	sp_put16(&p[l4 + 6], 0xffff);

	/* Rewriting from a stored 0xffff (~HC = 0) still lands right. */
	memcpy(q, p, len);
	memcpy(&q[24], tp_server, 16);
	put_ref(q, len, l4, 17);
	ck_assert_int_eq(sp_pkt_set_addr(p, len, SP_ADDR_DST, tp_server),
	    SP_OK);
	ck_assert_mem_eq(p, q, len);
}
END_TEST

START_TEST(test_udp_zero_after_rewrite)
{
	uint8_t p[TP_MAX], want[TP_MAX];
	struct tp_spec s = { .ext = "HL", .proto = 17, .payload = 101,
	    .seed = 77 };
	size_t len = tp_build(p, &s), l4 = tp_l4_off(&s);

	/* The rewritten datagram sums to -0; the original does not. */
	memcpy(want, p, len);
	memcpy(&want[8], tp_server, 16);
	udp_make_zero(want, len, l4);
	sp_put16(&want[l4 + 6], 0xffff);
	memcpy(&p[l4 + 8], &want[l4 + 8], 2);
	put_ref(p, len, l4, 17);
	ck_assert_uint_ne(sp_get16(&p[l4 + 6]), 0xffff);

	ck_assert_int_eq(sp_pkt_set_addr(p, len, SP_ADDR_SRC, tp_server),
	    SP_OK);
	ck_assert_mem_eq(p, want, len);
	ck_assert(sp_csum_l4_ok(p, len));
}
END_TEST

START_TEST(test_udp_zero_received)
{
	uint8_t p[TP_MAX], want[TP_MAX];
	uint32_t rs = 3;
	unsigned iter;

	for (iter = 0; iter < 200; iter++) {
		struct tp_spec s = { .ext = exts[tp_rand(&rs) % 7],
		    .proto = 17, .payload = tp_rand(&rs) % 600,
		    .seed = tp_rand(&rs) };
		size_t len = tp_build(p, &s), l4 = tp_l4_off(&s);
		enum sp_addr w = (iter & 1) ? SP_ADDR_SRC : SP_ADDR_DST;
		uint8_t a[16];

		rand_addr(&rs, a);
		sp_put16(&p[l4 + 6], 0);	/* "no checksum" */
		ck_assert(!sp_csum_l4_ok(p, len));
		memcpy(want, p, len);
		memcpy(&want[w == SP_ADDR_SRC ? 8 : 24], a, 16);
		put_ref(want, len, l4, 17);
		ck_assert_int_eq(sp_pkt_set_addr(p, len, w, a), SP_OK);
		ck_assert_mem_eq(p, want, len);
		ck_assert(sp_csum_l4_ok(p, len));
	}
}
END_TEST

START_TEST(test_udp_zero_fragment)
{
	uint8_t p[TP_MAX], want[TP_MAX];
	struct tp_spec s = { .ext = "LF", .proto = 17, .payload = 64 };
	size_t len = tp_build(p, &s), l4 = tp_l4_off(&s);

	/* Only part of the datagram: cannot be computed, stays 0. */
	sp_put16(&p[l4 + 6], 0);
	memcpy(want, p, len);
	memcpy(&want[24], tp_server, 16);
	ck_assert_int_eq(sp_pkt_set_addr(p, len, SP_ADDR_DST, tp_server),
	    SP_OK);
	ck_assert_mem_eq(p, want, len);

	/* A bad UDP Length makes the full computation, so the call, fail. */
	s.ext = "L";
	len = tp_build(p, &s);
	l4 = tp_l4_off(&s);
	sp_put16(&p[l4 + 6], 0);
	sp_put16(&p[l4 + 4], 4);
	memcpy(want, p, len);
	ck_assert_int_eq(sp_pkt_set_addr(p, len, SP_ADDR_DST, tp_server),
	    SP_ERR_PAYLOAD_LEN);
	ck_assert_mem_eq(p, want, len);
}
END_TEST

/* ------------------------------------------------------ set_addr */

START_TEST(test_set_addr_random)
{
	uint32_t rs = 0x5eed;
	unsigned iter, ncsum = 0;

	for (iter = 0; iter < 6000; iter++) {
		uint8_t p[TP_MAX], want[TP_MAX], a[16];
		struct tp_spec s = {
			.ext = exts[tp_rand(&rs) % NEXTS],
			.proto = protos[tp_rand(&rs) % 4],
			.tcp_flags = (uint8_t)tp_rand(&rs),
			.icmp_type = (uint8_t)(128 + tp_rand(&rs) % 2),
			.payload = tp_rand(&rs) % 1401,
			.seed = tp_rand(&rs),
			.flowlabel = tp_rand(&rs),
		};
		size_t len = tp_build(p, &s), l4 = tp_l4_off(&s);
		enum sp_addr w = (tp_rand(&rs) & 1) ? SP_ADDR_SRC :
		    SP_ADDR_DST;
		bool ah = strchr(s.ext, 'A') != NULL;
		bool opaque = strchr(s.ext, 'E') || strchr(s.ext, 'f');
		bool frag = strchr(s.ext, 'F') != NULL;
		uint16_t c;

		rand_addr(&rs, a);
		memcpy(want, p, len);
		if (!ah) {
			memcpy(&want[w == SP_ADDR_SRC ? 8 : 24], a, 16);
			if (has_csum(s.proto) && !opaque) {
				put_ref(want, len, l4, s.proto);
				ncsum++;
			}
		}
		ck_assert_int_eq(sp_pkt_set_addr(p, len, w, a),
		    ah ? SP_ERR_AH : SP_OK);
		ck_assert_mem_eq(p, want, len);
		if (!has_csum(s.proto) || opaque)
			continue;
		if (frag)
			ck_assert_int_eq(sp_csum_l4(p, len, &c),
			    SP_ERR_FRAGMENT);
		else
			ck_assert(sp_csum_l4_ok(p, len));
	}
	ck_assert_uint_gt(ncsum, 3000);
}
END_TEST

START_TEST(test_set_addr_refused)
{
	uint8_t p[TP_MAX], want[TP_MAX];
	struct tp_spec s = { .ext = "LR", .proto = 6, .payload = 30 };
	size_t len = tp_build(p, &s);

	p[80 + 3] = 2;		/* Segments Left 2 */
	memcpy(want, p, len);
	ck_assert_int_eq(sp_pkt_set_addr(p, len, SP_ADDR_DST, tp_server),
	    SP_ERR_ROUTING);
	ck_assert_int_eq(sp_pkt_set_addr(p, len, SP_ADDR_SRC, tp_server),
	    SP_ERR_ROUTING);
	ck_assert_mem_eq(p, want, len);

	ck_assert_int_eq(sp_pkt_set_addr(p, len, (enum sp_addr)7, tp_server),
	    SP_ERR_INVALID);
	ck_assert_int_eq(sp_pkt_set_addr(p, len, SP_ADDR_SRC, NULL),
	    SP_ERR_INVALID);
	ck_assert_int_eq(sp_pkt_set_addr(NULL, len, SP_ADDR_SRC, tp_server),
	    SP_ERR_INVALID);
	ck_assert_mem_eq(p, want, len);

	/* TCP cut before the end of its fixed header (Payload Length
	 * consistent): its field cannot be trusted to be there. */
	s = (struct tp_spec){ .ext = "H", .proto = 6, .payload = 0 };
	len = tp_build(p, &s) - 3;
	sp_put16(&p[4], (uint16_t)(len - 40));
	memcpy(want, p, len);
	ck_assert_int_eq(sp_pkt_set_addr(p, len, SP_ADDR_DST, tp_server),
	    SP_ERR_TRUNCATED);
	ck_assert_mem_eq(p, want, len);
}
END_TEST

START_TEST(test_set_addr_alias)
{
	uint8_t p[TP_MAX], want[TP_MAX];
	struct tp_spec s = { .ext = "HL", .proto = 6, .payload = 9 };
	size_t len = tp_build(p, &s), l4 = tp_l4_off(&s);

	/* The new source is the packet's own destination. */
	memcpy(want, p, len);
	memcpy(&want[8], &p[24], 16);
	put_ref(want, len, l4, 6);
	ck_assert_int_eq(sp_pkt_set_addr(p, len, SP_ADDR_SRC, &p[24]), SP_OK);
	ck_assert_mem_eq(p, want, len);
}
END_TEST

/* --------------------------------------------------- ICMPv6 errors */

/*
 * Build an ICMPv6 error (outer extension headers oext, type) quoting
 * the first qlen bytes of inner[0..ilen); returns its length.
 */
static size_t
build_error(uint8_t *o, const char *oext, uint8_t type,
    const uint8_t *inner, size_t qlen, uint32_t seed)
{
	struct tp_spec s = { .ext = oext, .proto = 58, .icmp_type = type,
	    .payload = qlen, .seed = seed };
	size_t len = tp_build(o, &s), l4 = tp_l4_off(&s);

	/* The error goes back to the sender of the invoking packet. */
	memcpy(&o[8], tp_server, 16);
	memcpy(&o[24], tp_src, 16);
	memcpy(&o[l4 + 8], inner, qlen);
	put_ref(o, len, l4, 58);
	return len;
}

/*
 * Quote the first qlen bytes of the packet built from ispec in an error,
 * rewrite the quoted address, and check every byte of the result against
 * an expectation built with the reference checksum.
 */
static void
check_inner(const struct tp_spec *ispec, size_t qlen, const char *oext,
    uint8_t type, enum sp_addr w, const uint8_t a[16], uint32_t seed)
{
	uint8_t in[TP_MAX], inw[TP_MAX], o[TP_MAX], want[TP_MAX], *h;
	struct tp_spec os = { .ext = oext };
	size_t ilen = tp_build(in, ispec), il4 = tp_l4_off(ispec);
	size_t ol4 = tp_l4_off(&os), len, f = il4 + field_off(ispec->proto);
	size_t aoff = w == SP_ADDR_SRC ? 8 : 24, ioff;
	bool opaque = strchr(ispec->ext, 'E') || strchr(ispec->ext, 'f');
	bool quoted_ok;
	enum sp_err err;

	if (qlen > ilen)
		qlen = ilen;
	quoted_ok = qlen >= il4;
	len = build_error(o, oext, type, in, qlen, seed);
	ck_assert(sp_icmp6_is_error(o, len, &ioff));
	ck_assert_uint_eq(ioff, ol4 + 8);

	/* The whole inner packet rewritten, checksum from the reference. */
	memcpy(inw, in, ilen);
	memcpy(&inw[aoff], a, 16);
	if (has_csum(ispec->proto) && !opaque &&
	    !(ispec->proto == 17 && sp_get16(&in[f]) == 0))
		put_ref(inw, ilen, il4, ispec->proto);

	memcpy(want, o, len);
	if (quoted_ok) {
		memcpy(&want[ioff + aoff], a, 16);
		if (has_csum(ispec->proto) && !opaque && qlen >= f + 2)
			memcpy(&want[ioff + f], &inw[f], 2);
		put_ref(want, len, ol4, 58);
	}

	h = heap_copy(o, len);
	err = sp_icmp6_set_inner_addr(h, len, w, a);
	ck_assert_msg(err == (quoted_ok ? SP_OK : SP_ERR_TRUNCATED),
	    "ext %s proto %u qlen %zu: %s", ispec->ext, ispec->proto, qlen,
	    sp_strerror(err));
	ck_assert_mem_eq(h, want, len);
	ck_assert(sp_csum_l4_ok(h, len));
	free(h);
}

START_TEST(test_icmp6_inner_random)
{
	static const char *const oexts[] = { "", "H", "L", "HL", "D" };
	static const uint8_t types[] = { 1, 2, 1, 2, 3, 4 };
	uint32_t rs = 0x1c3b6;
	unsigned iter;

	for (iter = 0; iter < 4000; iter++) {
		struct tp_spec s = {
			.ext = exts[tp_rand(&rs) % NEXTS],
			.proto = protos[tp_rand(&rs) % 4],
			.tcp_flags = (uint8_t)tp_rand(&rs),
			.icmp_type = 128,
			.payload = tp_rand(&rs) % 1201,
			.seed = tp_rand(&rs),
		};
		size_t ilen = tp_l4_off(&s) + 24 + s.payload, qlen;
		uint8_t a[16];

		/* Mostly cut near the headers, sometimes anywhere. */
		if (tp_rand(&rs) % 3 == 0)
			qlen = tp_rand(&rs) % (ilen + 1);
		else
			qlen = tp_l4_off(&s) + tp_rand(&rs) % 30;
		rand_addr(&rs, a);
		check_inner(&s, qlen, oexts[tp_rand(&rs) % 5],
		    types[tp_rand(&rs) % 6],
		    (tp_rand(&rs) & 1) ? SP_ADDR_SRC : SP_ADDR_DST, a,
		    tp_rand(&rs));
	}
}
END_TEST

START_TEST(test_icmp6_inner_every_cut)
{
	/* The redirected flow's packets, with and without the LBSP header,
	 * cut at every byte: inside the headers, inside the field, after. */
	static const struct tp_spec specs[] = {
		{ .ext = "L", .proto = 6, .tcp_flags = 0x02, .payload = 12 },
		{ .ext = "HL", .proto = 6, .tcp_flags = 0x10, .payload = 5 },
		{ .ext = "L", .proto = 17, .payload = 13 },
		{ .ext = "", .proto = 17, .payload = 0 },
		{ .ext = "HDR", .proto = 58, .icmp_type = 128, .payload = 7 },
		{ .ext = "LF", .proto = 6, .payload = 3 },
		{ .ext = "LA", .proto = 17, .payload = 3 },
		{ .ext = "Lf", .proto = 6, .payload = 9 },
		{ .ext = "LE", .proto = 6, .payload = 9 },
	};
	size_t i, q;

	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		size_t ilen = tp_l4_off(&specs[i]) + 24 + specs[i].payload;

		for (q = 0; q <= ilen; q++) {
			check_inner(&specs[i], q, "H", 2, SP_ADDR_SRC,
			    tp_server, (uint32_t)q);
			check_inner(&specs[i], q, "", 1, SP_ADDR_DST,
			    tp_dst, (uint32_t)q);
		}
	}
}
END_TEST

START_TEST(test_icmp6_inner_udp_zero)
{
	uint8_t in[TP_MAX], o[TP_MAX], want[TP_MAX];
	struct tp_spec s = { .ext = "L", .proto = 17, .payload = 20 };
	size_t ilen = tp_build(in, &s), l4 = tp_l4_off(&s), len, ioff;

	sp_put16(&in[l4 + 6], 0);
	len = build_error(o, "", 1, in, ilen, 1);
	ck_assert(sp_icmp6_is_error(o, len, &ioff));
	memcpy(want, o, len);
	memcpy(&want[ioff + 8], tp_server, 16);
	put_ref(want, len, 40, 58);
	ck_assert_int_eq(sp_icmp6_set_inner_addr(o, len, SP_ADDR_SRC,
	    tp_server), SP_OK);
	ck_assert_mem_eq(o, want, len);
	ck_assert_uint_eq(sp_get16(&o[ioff + l4 + 6]), 0);
}
END_TEST

/*
 * A Packet Too Big saying mtu about the packet built from ispec, quoted
 * in qlen bytes: sp_icmp6_ptb_mtu() must answer want, say mtu on SP_OK
 * and change no byte.
 */
static void
check_ptb(const char *iext, size_t qlen, uint8_t type, uint32_t mtu,
    enum sp_err want)
{
	struct tp_spec s = { .ext = iext, .proto = 6, .tcp_flags = 0x10,
	    .payload = 1200 };
	uint8_t in[TP_MAX], o[TP_MAX], w[TP_MAX];
	size_t ilen = tp_build(in, &s), len;
	uint32_t said = 0;

	if (qlen > ilen)
		qlen = ilen;
	len = build_error(o, "", type, in, qlen, 7);
	sp_put32(&o[44], mtu);
	put_ref(o, len, 40, 58);
	memcpy(w, o, len);
	ck_assert_msg(sp_icmp6_ptb_mtu(o, len, 0x1e, &said) == want,
	    "ext '%s' qlen %zu type %u mtu %u", iext, qlen, type, mtu);
	ck_assert_mem_eq(o, w, len);
	ck_assert_uint_eq(said, want == SP_OK ? mtu : 0);
}

START_TEST(test_icmp6_ptb_mtu)
{
	size_t q;

	/* The option quoted, whole or cut anywhere after its header. */
	for (q = 80; q <= 1232; q += 97)
		check_ptb("L", q, 2, 1400, SP_OK);
	check_ptb("L", 1232, 2, 1280, SP_OK);
	/* Not about a packet with the option, or the option cut. */
	check_ptb("", 1232, 2, 1400, SP_ERR_NOT_FOUND);
	check_ptb("D", 1232, 2, 1400, SP_ERR_NOT_FOUND);
	check_ptb("HL", 1232, 2, 1400, SP_ERR_NOT_FOUND);
	check_ptb("L", 60, 2, 1400, SP_ERR_NOT_FOUND);
	/* Other errors. */
	check_ptb("L", 1232, 1, 1400, SP_ERR_PROTO);
	check_ptb("L", 1232, 3, 1400, SP_ERR_PROTO);
	ck_assert_int_eq(sp_icmp6_ptb_mtu(NULL, 100, 0x1e, NULL),
	    SP_ERR_INVALID);
}
END_TEST

START_TEST(test_icmp6_is_error)
{
	uint8_t in[TP_MAX], o[TP_MAX];
	struct tp_spec s = { .ext = "L", .proto = 6, .payload = 8 };
	size_t ilen = tp_build(in, &s), len, off = 0;
	unsigned t;

	for (t = 0; t < 256; t++) {
		len = build_error(o, "H", (uint8_t)t, in, ilen, t);
		off = 0;
		ck_assert_int_eq(sp_icmp6_is_error(o, len, &off),
		    t >= 1 && t <= 4);
		ck_assert_uint_eq(off, (t >= 1 && t <= 4) ? 56 : 0);
	}
	len = build_error(o, "", 2, in, ilen, 0);
	ck_assert(sp_icmp6_is_error(o, len, NULL));
	ck_assert(!sp_icmp6_is_error(o, len - 1, NULL));	/* walker */
	ck_assert(!sp_icmp6_is_error(NULL, len, NULL));
	/* A 7-byte ICMPv6 header is no error message. */
	sp_put16(&o[4], 7);
	ck_assert(!sp_icmp6_is_error(o, 47, NULL));
	/* Not ICMPv6. */
	ck_assert(!sp_icmp6_is_error(in, ilen, NULL));
	/* A non-first fragment whose Next Header says ICMPv6. */
	s = (struct tp_spec){ .ext = "f", .proto = 58, .icmp_type = 1,
	    .payload = 50 };
	len = tp_build(o, &s);
	ck_assert(!sp_icmp6_is_error(o, len, NULL));
}
END_TEST

START_TEST(test_icmp6_inner_refused)
{
	uint8_t in[TP_MAX], o[TP_MAX], want[TP_MAX];
	struct tp_spec s = { .ext = "LR", .proto = 6, .payload = 8 };
	size_t ilen = tp_build(in, &s), len, ioff;

	/* Not an error: an echo request. */
	s = (struct tp_spec){ .ext = "", .proto = 58, .icmp_type = 128,
	    .payload = 60 };
	len = tp_build(o, &s);
	memcpy(want, o, len);
	ck_assert_int_eq(sp_icmp6_set_inner_addr(o, len, SP_ADDR_SRC,
	    tp_server), SP_ERR_PROTO);
	ck_assert_mem_eq(o, want, len);

	/* Quote with a Routing header, Segments Left 1. */
	in[80 + 3] = 1;
	len = build_error(o, "", 1, in, ilen, 2);
	memcpy(want, o, len);
	ck_assert_int_eq(sp_icmp6_set_inner_addr(o, len, SP_ADDR_SRC,
	    tp_server), SP_ERR_ROUTING);
	ck_assert_mem_eq(o, want, len);
	in[80 + 3] = 0;

	/* Outer AH. */
	len = build_error(o, "A", 1, in, ilen, 2);
	memcpy(want, o, len);
	ck_assert_int_eq(sp_icmp6_set_inner_addr(o, len, SP_ADDR_SRC,
	    tp_server), SP_ERR_AH);
	ck_assert_mem_eq(o, want, len);

	/* Quote that is no IPv6 packet. */
	in[0] = 0x45;
	len = build_error(o, "", 1, in, ilen, 2);
	memcpy(want, o, len);
	ck_assert_int_eq(sp_icmp6_set_inner_addr(o, len, SP_ADDR_SRC,
	    tp_server), SP_ERR_VERSION);
	ck_assert_int_eq(sp_icmp6_set_inner_addr(o, len, (enum sp_addr)9,
	    tp_server), SP_ERR_INVALID);
	ck_assert_int_eq(sp_icmp6_set_inner_addr(o, len, SP_ADDR_DST, NULL),
	    SP_ERR_INVALID);
	ck_assert_mem_eq(o, want, len);

	/* The outer rewrite leaves the quote alone. */
	in[0] = 0x60;
	len = build_error(o, "L", 2, in, ilen, 2);
	ck_assert(sp_icmp6_is_error(o, len, &ioff));
	memcpy(want, o, len);
	memcpy(&want[24], tp_dst, 16);
	put_ref(want, len, ioff - 8, 58);
	ck_assert_int_eq(sp_pkt_set_addr(o, len, SP_ADDR_DST, tp_dst), SP_OK);
	ck_assert_mem_eq(o, want, len);
}
END_TEST

/* ---------------------------------------------------- truncation */

START_TEST(test_truncate_every_byte)
{
	uint32_t rs = 0x7;
	size_t i, cut;

	for (i = 0; i < NEXTS * 4; i++) {
		uint8_t p[TP_MAX], in[TP_MAX], *h;
		struct tp_spec s = {
			.ext = exts[i / 4], .proto = protos[i % 4],
			.tcp_flags = 0x02, .icmp_type = 128,
			.payload = i % 3, .seed = (uint32_t)i,
		};
		size_t len = tp_build(p, &s);

		if (i % 5 == 0) {
			/* An ICMPv6 error quoting it, truncated. */
			memcpy(in, p, len);
			len = build_error(p, exts[i % 7], 2, in, len,
			    (uint32_t)i);
		}
		for (cut = 0; cut < len; cut++) {
			uint16_t c;
			uint8_t a[16];

			rand_addr(&rs, a);
			h = heap_copy(p, cut);
			ck_assert_int_ne(sp_pkt_set_addr(h, cut, SP_ADDR_SRC,
			    a), SP_OK);
			ck_assert_int_ne(sp_csum_l4(h, cut, &c), SP_OK);
			ck_assert(!sp_csum_l4_ok(h, cut));
			ck_assert_int_ne(sp_csum_l4_fill(h, cut), SP_OK);
			ck_assert(!sp_icmp6_is_error(h, cut, NULL));
			ck_assert_int_ne(sp_icmp6_set_inner_addr(h, cut,
			    SP_ADDR_DST, a), SP_OK);
			ck_assert(cut == 0 || memcmp(h, p, cut) == 0);
			free(h);
		}
	}
}
END_TEST

Suite *
csum_suite(void)
{
	Suite *s = suite_create("csum");
	TCase *tc;

	tc = tcase_create("vectors");
	tcase_add_test(tc, test_partial_rfc1071);
	tcase_add_test(tc, test_partial_odd);
	tcase_add_test(tc, test_partial_carry);
	tcase_add_test(tc, test_ipv4_header);
	tcase_add_test(tc, test_replace_rfc1624);
	tcase_add_test(tc, test_replace_random);
	tcase_add_test(tc, test_udp_known);
	suite_add_tcase(s, tc);

	tc = tcase_create("l4");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_l4_matches_reference);
	tcase_add_test(tc, test_l4_errors);
	tcase_add_test(tc, test_udp_length_field);
	tcase_add_test(tc, test_udp_zero_computed);
	tcase_add_test(tc, test_udp_zero_after_rewrite);
	tcase_add_test(tc, test_udp_zero_received);
	tcase_add_test(tc, test_udp_zero_fragment);
	suite_add_tcase(s, tc);

	tc = tcase_create("set_addr");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_set_addr_random);
	tcase_add_test(tc, test_set_addr_refused);
	tcase_add_test(tc, test_set_addr_alias);
	suite_add_tcase(s, tc);

	tc = tcase_create("icmp6");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_icmp6_is_error);
	tcase_add_test(tc, test_icmp6_ptb_mtu);
	tcase_add_test(tc, test_icmp6_inner_random);
	tcase_add_test(tc, test_icmp6_inner_every_cut);
	tcase_add_test(tc, test_icmp6_inner_udp_zero);
	tcase_add_test(tc, test_icmp6_inner_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("truncation");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_truncate_every_byte);
	suite_add_tcase(s, tc);
	return s;
}
