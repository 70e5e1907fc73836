/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_flow.c -- the flow table: keys, lookups, the LSNAT §2.4 timeouts
 * at their exact boundaries, TCP session end, longest-idle retirement,
 * bounded memory and a many-key stress run.
 */
#include <string.h>

#include <sp/flow.h>
#include <sp/pkt.h>
#include <sp/siphash.h>
#include <sp/tcp.h>

#include "suites.h"
#include "testpkt.h"

static const uint8_t secret[16] = {
	0x5e, 0xc2, 0xe7, 0x01, 0x02, 0x03, 0x04, 0x05,
	0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
};

/* Timeouts, seconds: all different so a wrong class shows. */
static const struct sp_flow_timeouts test_to = {
	.tcp_established_s = 700,
	.tcp_s = 120,
	.udp_s = 60,
	.other_s = 50,
	.linger_s = 10,
};

#define SEC	1000ULL		/* ms per second */

static struct sp_flow_key
key_n(uint8_t proto, uint32_t n)
{
	uint8_t c[16], s[16];

	tp_addr(c, 0, n);
	tp_addr(s, 0, 0xf100);
	return sp_flow_key_5tuple(c, s, proto, (uint16_t)(1024 + n % 60000),
	    80);
}

static struct sp_flow_table *
new_table(size_t capacity)
{
	struct sp_flow_table *t;

	t = sp_flow_table_new(capacity, &test_to, secret);
	ck_assert_ptr_nonnull(t);
	return t;
}

/* Constructors zero every unused byte, so keys compare as bytes. */
START_TEST(test_key_constructors)
{
	struct sp_flow_key k, z;
	uint8_t c[16], s[16];

	ck_assert_uint_eq(sizeof(struct sp_flow_key), 44);
	tp_addr(c, 0, 1);
	tp_addr(s, 0, 2);
	memset(&k, 0xee, sizeof(k));
	k = sp_flow_key_5tuple(c, s, SP_NH_TCP, 40000, 443);
	ck_assert_mem_eq(k.src, c, 16);
	ck_assert_mem_eq(k.dst, s, 16);
	ck_assert_uint_eq(k.sport, 40000);
	ck_assert_uint_eq(k.dport, 443);
	ck_assert_uint_eq(k.proto, SP_NH_TCP);
	ck_assert_uint_eq(k.kind, SP_FLOW_5TUPLE);
	ck_assert_uint_eq(k.pad[0] | k.pad[1], 0);
	ck_assert_uint_eq(k.label, 0);

	memset(&z, 0xee, sizeof(z));
	z = sp_flow_key_3tuple(c, s, 0xfff12345);
	ck_assert_uint_eq(z.kind, SP_FLOW_3TUPLE);
	ck_assert_uint_eq(z.label, 0x12345);	/* 20 bits kept */
	ck_assert_uint_eq(z.sport | z.dport | z.proto, 0);
	ck_assert_uint_eq(z.pad[0] | z.pad[1], 0);
}
END_TEST

START_TEST(test_reverse)
{
	struct sp_flow_key k, r, rr;
	uint8_t c[16], s[16];

	tp_addr(c, 0, 1);
	tp_addr(s, 0, 2);
	k = sp_flow_key_5tuple(c, s, SP_NH_UDP, 5353, 53);
	r = sp_flow_key_reverse(&k);
	ck_assert_mem_eq(r.src, s, 16);
	ck_assert_mem_eq(r.dst, c, 16);
	ck_assert_uint_eq(r.sport, 53);
	ck_assert_uint_eq(r.dport, 5353);
	ck_assert_uint_eq(r.proto, SP_NH_UDP);
	rr = sp_flow_key_reverse(&r);
	ck_assert_mem_eq(&rr, &k, sizeof(k));

	k = sp_flow_key_3tuple(c, s, 77);
	r = sp_flow_key_reverse(&k);
	ck_assert_mem_eq(r.src, s, 16);
	ck_assert_uint_eq(r.label, 77);
	ck_assert_uint_eq(r.kind, SP_FLOW_3TUPLE);
}
END_TEST

START_TEST(test_insert_lookup)
{
	struct sp_flow_table *t = new_table(16);
	struct sp_flow_key k = key_n(SP_NH_TCP, 1), r;
	struct sp_flow *f, *g;
	bool retired = true;

	ck_assert_ptr_null(sp_flow_lookup(t, &k));
	f = sp_flow_insert(t, &k, 1234, &retired);
	ck_assert_ptr_nonnull(f);
	ck_assert(!retired);
	ck_assert_mem_eq(&f->key, &k, sizeof(k));
	ck_assert_uint_eq(f->created_ms, 1234);
	ck_assert_uint_eq(f->last_ms, 1234);
	ck_assert_uint_eq(f->state, SP_FLOW_NEW);
	ck_assert_ptr_eq(sp_flow_lookup(t, &k), f);
	ck_assert_uint_eq(sp_flow_count(t), 1);

	/* Existing key: the same flow back, unchanged. */
	f->user = 42;
	retired = true;
	g = sp_flow_insert(t, &k, 9999, &retired);
	ck_assert_ptr_eq(g, f);
	ck_assert(!retired);
	ck_assert_uint_eq(g->created_ms, 1234);
	ck_assert_uint_eq(g->user, 42);
	ck_assert_uint_eq(sp_flow_count(t), 1);

	/* The reply direction's key is another key... */
	r = sp_flow_key_reverse(&k);
	ck_assert_ptr_null(sp_flow_lookup(t, &r));
	/* ...whose reverse finds the flow. */
	r = sp_flow_key_reverse(&r);
	ck_assert_ptr_eq(sp_flow_lookup(t, &r), f);

	/* Another port is another flow. */
	r = k;
	r.sport++;
	ck_assert_ptr_null(sp_flow_lookup(t, &r));
	g = sp_flow_insert(t, &r, 1300, NULL);
	ck_assert_ptr_ne(g, f);
	ck_assert_uint_eq(sp_flow_count(t), 2);

	sp_flow_kill(t, f);
	ck_assert_ptr_null(sp_flow_lookup(t, &k));
	ck_assert_ptr_eq(sp_flow_lookup(t, &r), g);
	ck_assert_uint_eq(sp_flow_count(t), 1);
	sp_flow_table_free(t);
}
END_TEST

/* One hash for a lookup and an insert: the _hashed calls find and file
 * flows where the plain ones do. */
START_TEST(test_hashed)
{
	struct sp_flow_table *t = new_table(64);
	struct sp_flow_key k = key_n(SP_NH_TCP, 1), k2 = key_n(SP_NH_UDP, 2);
	uint64_t h = sp_flow_hash(t, &k), h2 = sp_flow_hash(t, &k2);
	struct sp_flow *f, *g;
	bool retired = true;

	ck_assert_uint_eq(h, sp_siphash24(secret, &k, sizeof(k)));
	ck_assert_uint_ne(h, h2);
	ck_assert_ptr_null(sp_flow_lookup_hashed(t, &k, h));
	f = sp_flow_insert_hashed(t, &k, h, 500, &retired);
	ck_assert_ptr_nonnull(f);
	ck_assert(!retired);
	ck_assert_uint_eq(f->created_ms, 500);
	ck_assert_uint_eq(f->state, SP_FLOW_NEW);
	ck_assert_ptr_eq(sp_flow_lookup(t, &k), f);
	ck_assert_ptr_eq(sp_flow_lookup_hashed(t, &k, h), f);
	ck_assert_ptr_eq(sp_flow_insert_hashed(t, &k, h, 900, NULL), f);
	ck_assert_uint_eq(f->created_ms, 500);
	g = sp_flow_insert(t, &k2, 600, NULL);
	ck_assert_ptr_eq(sp_flow_lookup_hashed(t, &k2, h2), g);
	ck_assert_ptr_null(sp_flow_lookup_hashed(t, &k2, h));
	ck_assert_uint_eq(sp_flow_count(t), 2);
	/* Killed (its bucket from the key): gone for both kinds of call. */
	sp_flow_kill(t, f);
	ck_assert_ptr_null(sp_flow_lookup_hashed(t, &k, h));
	ck_assert_ptr_null(sp_flow_lookup(t, &k));
	ck_assert_uint_eq(sp_flow_count(t), 1);
	sp_flow_table_free(t);
}
END_TEST

/* A 3-tuple key never matches a 5-tuple key with zero ports / proto. */
START_TEST(test_3tuple_distinct)
{
	struct sp_flow_table *t = new_table(16);
	struct sp_flow_key k3, k5;
	struct sp_flow *f3, *f5;
	uint8_t c[16], s[16];

	tp_addr(c, 0, 1);
	tp_addr(s, 0, 2);
	k3 = sp_flow_key_3tuple(c, s, 0);
	k5 = sp_flow_key_5tuple(c, s, 0, 0, 0);
	ck_assert(memcmp(&k3, &k5, sizeof(k3)) != 0);
	f3 = sp_flow_insert(t, &k3, 0, NULL);
	ck_assert_ptr_null(sp_flow_lookup(t, &k5));
	f5 = sp_flow_insert(t, &k5, 0, NULL);
	ck_assert_ptr_ne(f3, f5);
	ck_assert_uint_eq(sp_flow_count(t), 2);
	ck_assert_ptr_eq(sp_flow_lookup(t, &k3), f3);
	ck_assert_ptr_eq(sp_flow_lookup(t, &k5), f5);

	/* Labels tell 3-tuple keys apart. */
	k3 = sp_flow_key_3tuple(c, s, 1);
	ck_assert_ptr_null(sp_flow_lookup(t, &k3));
	sp_flow_table_free(t);
}
END_TEST

/*
 * Idle expiry per protocol at the exact boundary: still there at
 * last + timeout - 1 ms, gone at last + timeout.
 */
static const struct {
	uint8_t proto;
	bool three;		/* 3-tuple key */
	uint8_t flags;		/* TCP flags of the one packet */
	uint32_t timeout_s;
} idle_cases[] = {
	{ SP_NH_TCP, false, SP_TCP_SYN, 120 },		/* SYN only: tcp_s */
	{ SP_NH_UDP, false, 0, 60 },
	{ SP_NH_ICMPV6, false, 0, 50 },
	{ 132 /* SCTP */, false, 0, 50 },
	{ 0, true, 0, 50 },
	{ SP_NH_UDP, false, SP_TCP_RST, 60 },	/* flags ignored off TCP */
};

START_TEST(test_idle_boundary)
{
	struct sp_flow_table *t = new_table(16);
	struct sp_flow_key k;
	struct sp_flow *f;
	uint64_t last = 5000, deadline;
	uint8_t c[16], s[16];

	if (idle_cases[_i].three) {
		tp_addr(c, 0, 1);
		tp_addr(s, 0, 2);
		k = sp_flow_key_3tuple(c, s, 9);
	} else
		k = key_n(idle_cases[_i].proto, 1);
	f = sp_flow_insert(t, &k, 1000, NULL);
	sp_flow_update(t, f, last, SP_FLOW_ORIG, idle_cases[_i].flags, 100);
	deadline = last + idle_cases[_i].timeout_s * SEC;

	ck_assert_uint_eq(sp_flow_expire(t, deadline - 1, 100), 0);
	ck_assert_ptr_eq(sp_flow_lookup(t, &k), f);
	ck_assert_uint_eq(sp_flow_expire(t, deadline, 100), 1);
	ck_assert_ptr_null(sp_flow_lookup(t, &k));
	ck_assert_uint_eq(sp_flow_count(t), 0);
	sp_flow_table_free(t);
}
END_TEST

/* A new flow expires by its protocol's timeout even before any update. */
START_TEST(test_insert_timeout)
{
	struct sp_flow_table *t = new_table(16);
	struct sp_flow_key kt = key_n(SP_NH_TCP, 1), ku = key_n(SP_NH_UDP, 2);

	sp_flow_insert(t, &kt, 0, NULL);
	sp_flow_insert(t, &ku, 0, NULL);
	ck_assert_uint_eq(sp_flow_expire(t, 60 * SEC - 1, 10), 0);
	ck_assert_uint_eq(sp_flow_expire(t, 60 * SEC, 10), 1);
	ck_assert_ptr_null(sp_flow_lookup(t, &ku));
	ck_assert_uint_eq(sp_flow_expire(t, 120 * SEC - 1, 10), 0);
	ck_assert_uint_eq(sp_flow_expire(t, 120 * SEC, 10), 1);
	ck_assert_ptr_null(sp_flow_lookup(t, &kt));
	sp_flow_table_free(t);
}
END_TEST

/* Handshake: both directions seen. */
START_TEST(test_tcp_established)
{
	struct sp_flow_table *t = new_table(16);
	struct sp_flow_key k = key_n(SP_NH_TCP, 1);
	struct sp_flow *f = sp_flow_insert(t, &k, 0, NULL);
	uint64_t last = 3 * SEC;

	sp_flow_update(t, f, 1 * SEC, SP_FLOW_ORIG, SP_TCP_SYN, 80);
	ck_assert_uint_eq(f->state, SP_FLOW_SYN_SENT);
	sp_flow_update(t, f, 2 * SEC, SP_FLOW_REPLY, SP_TCP_SYN | SP_TCP_ACK,
	    80);
	ck_assert_uint_eq(f->state, SP_FLOW_SYN_RECV);
	sp_flow_update(t, f, last, SP_FLOW_ORIG, SP_TCP_ACK, 60);
	ck_assert_uint_eq(f->state, SP_FLOW_ESTABLISHED);
	ck_assert_str_eq(sp_flow_state_name(f->state), "established");

	/* tcp_s and linger are not its timeout any more. */
	ck_assert_uint_eq(sp_flow_expire(t, last + 120 * SEC, 10), 0);
	ck_assert_uint_eq(sp_flow_expire(t, last + 700 * SEC - 1, 10), 0);
	ck_assert_uint_eq(sp_flow_expire(t, last + 700 * SEC, 10), 1);
	ck_assert_uint_eq(sp_flow_count(t), 0);
	sp_flow_table_free(t);
}
END_TEST

/*
 * One direction only (the balancer is not on the return path): the
 * originator's bare ACK after its SYN means the handshake completed.
 */
START_TEST(test_tcp_one_way)
{
	struct sp_flow_table *t = new_table(16);
	struct sp_flow_key k = key_n(SP_NH_TCP, 1);
	struct sp_flow *f = sp_flow_insert(t, &k, 0, NULL);

	sp_flow_update(t, f, 0, SP_FLOW_ORIG, SP_TCP_SYN, 80);
	sp_flow_update(t, f, 0, SP_FLOW_ORIG, SP_TCP_SYN, 80); /* rexmit */
	ck_assert_uint_eq(f->state, SP_FLOW_SYN_SENT);
	sp_flow_update(t, f, 10, SP_FLOW_ORIG, SP_TCP_ACK, 60);
	ck_assert_uint_eq(f->state, SP_FLOW_ESTABLISHED);
	sp_flow_table_free(t);
}
END_TEST

/* Any non-SYN packet in the reply direction establishes the flow. */
START_TEST(test_tcp_reply_establishes)
{
	struct sp_flow_table *t = new_table(16);
	struct sp_flow_key k = key_n(SP_NH_TCP, 1);
	struct sp_flow *f = sp_flow_insert(t, &k, 0, NULL);

	/* Mid-stream from the originator: no proof of a session yet. */
	sp_flow_update(t, f, 0, SP_FLOW_ORIG, SP_TCP_ACK, 60);
	ck_assert_uint_eq(f->state, SP_FLOW_NEW);
	sp_flow_update(t, f, 0, SP_FLOW_REPLY, SP_TCP_ACK | SP_TCP_PSH, 600);
	ck_assert_uint_eq(f->state, SP_FLOW_ESTABLISHED);
	sp_flow_table_free(t);
}
END_TEST

static struct sp_flow *
established(struct sp_flow_table *t, const struct sp_flow_key *k,
    uint64_t now_ms)
{
	struct sp_flow *f = sp_flow_insert(t, k, now_ms, NULL);

	sp_flow_update(t, f, now_ms, SP_FLOW_ORIG, SP_TCP_SYN, 80);
	sp_flow_update(t, f, now_ms, SP_FLOW_REPLY, SP_TCP_SYN | SP_TCP_ACK,
	    80);
	sp_flow_update(t, f, now_ms, SP_FLOW_ORIG, SP_TCP_ACK, 60);
	ck_assert_uint_eq(f->state, SP_FLOW_ESTABLISHED);
	return f;
}

/* LSNAT §2.4: FIN from both halves -> gone after linger_s. */
START_TEST(test_fin_both_linger)
{
	struct sp_flow_table *t = new_table(16);
	struct sp_flow_key k = key_n(SP_NH_TCP, 1);
	struct sp_flow *f = established(t, &k, 0);
	uint64_t last = 50 * SEC;

	sp_flow_update(t, f, 40 * SEC, SP_FLOW_ORIG, SP_TCP_FIN | SP_TCP_ACK,
	    60);
	ck_assert_uint_eq(f->state, SP_FLOW_ESTABLISHED);
	ck_assert_uint_eq(f->fin_seen, SP_FLOW_FIN_ORIG);
	sp_flow_update(t, f, last, SP_FLOW_REPLY, SP_TCP_FIN | SP_TCP_ACK, 60);
	ck_assert_uint_eq(f->state, SP_FLOW_CLOSING);
	ck_assert_uint_eq(f->fin_seen, SP_FLOW_FIN_ORIG | SP_FLOW_FIN_REPLY);

	ck_assert_uint_eq(sp_flow_expire(t, last + 10 * SEC - 1, 10), 0);
	ck_assert_uint_eq(sp_flow_expire(t, last + 10 * SEC, 10), 1);
	ck_assert_ptr_null(sp_flow_lookup(t, &k));
	sp_flow_table_free(t);
}
END_TEST

/* RST from either side -> linger. */
START_TEST(test_rst_linger)
{
	struct sp_flow_table *t = new_table(16);
	struct sp_flow_key k = key_n(SP_NH_TCP, 1);
	struct sp_flow *f = established(t, &k, 0);
	uint64_t last = 30 * SEC;

	sp_flow_update(t, f, last, _i == 0 ? SP_FLOW_ORIG : SP_FLOW_REPLY,
	    SP_TCP_RST, 60);
	ck_assert_uint_eq(f->state, SP_FLOW_CLOSING);
	ck_assert_uint_eq(sp_flow_expire(t, last + 10 * SEC - 1, 10), 0);
	ck_assert_uint_eq(sp_flow_expire(t, last + 10 * SEC, 10), 1);
	ck_assert_uint_eq(sp_flow_count(t), 0);
	sp_flow_table_free(t);
}
END_TEST

/* A FIN from one side only: the half-closed flow stays. */
START_TEST(test_one_fin_stays)
{
	struct sp_flow_table *t = new_table(16);
	struct sp_flow_key k = key_n(SP_NH_TCP, 1);
	struct sp_flow *f = established(t, &k, 0);
	uint64_t last = 20 * SEC;

	sp_flow_update(t, f, last, SP_FLOW_REPLY, SP_TCP_FIN | SP_TCP_ACK, 60);
	sp_flow_update(t, f, last, SP_FLOW_REPLY, SP_TCP_FIN | SP_TCP_ACK, 60);
	ck_assert_uint_eq(f->state, SP_FLOW_ESTABLISHED);
	ck_assert_uint_eq(f->fin_seen, SP_FLOW_FIN_REPLY);
	ck_assert_uint_eq(sp_flow_expire(t, last + 10 * SEC, 10), 0);
	ck_assert_uint_eq(sp_flow_expire(t, last + 120 * SEC, 10), 0);
	ck_assert_ptr_eq(sp_flow_lookup(t, &k), f);
	ck_assert_uint_eq(sp_flow_expire(t, last + 700 * SEC, 10), 1);
	sp_flow_table_free(t);
}
END_TEST

/* A new SYN on a closing tuple starts the session again. */
START_TEST(test_syn_after_close)
{
	struct sp_flow_table *t = new_table(16);
	struct sp_flow_key k = key_n(SP_NH_TCP, 1);
	struct sp_flow *f = established(t, &k, 0);

	sp_flow_update(t, f, 1, SP_FLOW_ORIG, SP_TCP_FIN, 60);
	sp_flow_update(t, f, 2, SP_FLOW_REPLY, SP_TCP_FIN, 60);
	ck_assert_uint_eq(f->state, SP_FLOW_CLOSING);
	sp_flow_update(t, f, 3, SP_FLOW_ORIG, SP_TCP_ACK, 60);
	ck_assert_uint_eq(f->state, SP_FLOW_CLOSING);
	sp_flow_update(t, f, 4, SP_FLOW_ORIG, SP_TCP_SYN, 80);
	ck_assert_uint_eq(f->state, SP_FLOW_SYN_SENT);
	ck_assert_uint_eq(f->fin_seen, 0);
	/* Back on tcp_s, no longer linger_s. */
	ck_assert_uint_eq(sp_flow_expire(t, 4 + 10 * SEC, 10), 0);
	ck_assert_uint_eq(sp_flow_expire(t, 4 + 120 * SEC, 10), 1);
	sp_flow_table_free(t);
}
END_TEST

/* UDP: a reply marks it established; its timeout stays udp_s. */
START_TEST(test_udp_reply)
{
	struct sp_flow_table *t = new_table(16);
	struct sp_flow_key k = key_n(SP_NH_UDP, 1);
	struct sp_flow *f = sp_flow_insert(t, &k, 0, NULL);

	sp_flow_update(t, f, 0, SP_FLOW_ORIG, 0, 100);
	ck_assert_uint_eq(f->state, SP_FLOW_NEW);
	sp_flow_update(t, f, 1000, SP_FLOW_REPLY, SP_TCP_FIN | SP_TCP_RST, 200);
	ck_assert_uint_eq(f->state, SP_FLOW_ESTABLISHED);
	ck_assert_uint_eq(sp_flow_expire(t, 1000 + 60 * SEC - 1, 10), 0);
	ck_assert_uint_eq(sp_flow_expire(t, 1000 + 60 * SEC, 10), 1);
	sp_flow_table_free(t);
}
END_TEST

START_TEST(test_counters)
{
	struct sp_flow_table *t = new_table(16);
	struct sp_flow_key k = key_n(SP_NH_UDP, 1);
	struct sp_flow *f = sp_flow_insert(t, &k, 100, NULL);

	sp_flow_update(t, f, 200, SP_FLOW_ORIG, 0, 100);
	sp_flow_update(t, f, 300, SP_FLOW_ORIG, 0, 50);
	sp_flow_update(t, f, 400, SP_FLOW_REPLY, 0, 1000);
	sp_flow_update(t, f, 500, 7, 0, 1);	/* non-zero: reply */
	ck_assert_uint_eq(f->packets[SP_FLOW_ORIG], 2);
	ck_assert_uint_eq(f->bytes[SP_FLOW_ORIG], 150);
	ck_assert_uint_eq(f->packets[SP_FLOW_REPLY], 2);
	ck_assert_uint_eq(f->bytes[SP_FLOW_REPLY], 1001);
	ck_assert_uint_eq(f->created_ms, 100);
	ck_assert_uint_eq(f->last_ms, 500);
	sp_flow_table_free(t);
}
END_TEST

/*
 * Full table: fill, touch some, insert one more -- the oldest untouched
 * flow is the one retired, and the caller is told.
 */
START_TEST(test_retire_longest_idle)
{
	struct sp_flow_table *t = new_table(8);
	struct sp_flow_key k;
	struct sp_flow *f;
	bool retired;
	uint32_t i;

	for (i = 0; i < 8; i++) {
		k = key_n(SP_NH_TCP, i);
		f = sp_flow_insert(t, &k, i * SEC, &retired);
		ck_assert(!retired);
	}
	/* Touch 0, 1 and 2: flow 3 becomes the longest idle. */
	for (i = 0; i < 3; i++) {
		k = key_n(SP_NH_TCP, i);
		f = sp_flow_lookup(t, &k);
		sp_flow_update(t, f, 10 * SEC, SP_FLOW_ORIG, SP_TCP_SYN, 80);
	}
	k = key_n(SP_NH_TCP, 100);
	f = sp_flow_insert(t, &k, 11 * SEC, &retired);
	ck_assert_ptr_nonnull(f);
	ck_assert(retired);
	ck_assert_uint_eq(sp_flow_count(t), 8);
	k = key_n(SP_NH_TCP, 3);
	ck_assert_ptr_null(sp_flow_lookup(t, &k));
	for (i = 0; i < 8; i++) {
		if (i == 3)
			continue;
		k = key_n(SP_NH_TCP, i);
		ck_assert_msg(sp_flow_lookup(t, &k) != NULL, "flow %u", i);
	}
	/* Next one out: flow 4. */
	k = key_n(SP_NH_TCP, 101);
	sp_flow_insert(t, &k, 12 * SEC, &retired);
	ck_assert(retired);
	k = key_n(SP_NH_TCP, 4);
	ck_assert_ptr_null(sp_flow_lookup(t, &k));
	sp_flow_table_free(t);
}
END_TEST

/*
 * Longest idle across timeout classes, established flows last: a UDP
 * flow newer than an idle established flow is the one retired; among
 * the unprotected classes the longest idle goes.
 */
START_TEST(test_retire_across_classes)
{
	struct sp_flow_table *t = new_table(3);
	struct sp_flow_key ka = key_n(SP_NH_TCP, 1), kb = key_n(SP_NH_UDP, 2);
	struct sp_flow_key kc = key_n(SP_NH_TCP, 3), kd = key_n(SP_NH_UDP, 4);
	bool retired;

	established(t, &ka, 0);
	sp_flow_insert(t, &kb, 5 * SEC, NULL);	/* UDP, idle since 5 s */
	sp_flow_insert(t, &kc, 4 * SEC, NULL);	/* half-open, since 4 s */
	sp_flow_insert(t, &kd, 6 * SEC, &retired);
	ck_assert(retired);
	ck_assert_ptr_nonnull(sp_flow_lookup(t, &ka));
	ck_assert_ptr_nonnull(sp_flow_lookup(t, &kb));
	ck_assert_ptr_null(sp_flow_lookup(t, &kc));
	ck_assert_ptr_nonnull(sp_flow_lookup(t, &kd));
	sp_flow_table_free(t);
}
END_TEST

/* Established flows go only when the table holds nothing else. */
START_TEST(test_retire_established_last)
{
	struct sp_flow_table *t = new_table(2);
	struct sp_flow_key ka = key_n(SP_NH_TCP, 1), kb = key_n(SP_NH_TCP, 2);
	struct sp_flow_key kc = key_n(SP_NH_UDP, 3);
	bool retired;

	established(t, &ka, 0);
	established(t, &kb, 1 * SEC);
	sp_flow_insert(t, &kc, 2 * SEC, &retired);
	ck_assert(retired);
	ck_assert_ptr_null(sp_flow_lookup(t, &ka));	/* the longest idle */
	ck_assert_ptr_nonnull(sp_flow_lookup(t, &kb));
	ck_assert_ptr_nonnull(sp_flow_lookup(t, &kc));
	sp_flow_table_free(t);
}
END_TEST

/*
 * A flood of SYNs from 10000 spoofed sources into a table of 64 that
 * holds 8 established sessions: the table never grows past 64, the
 * sessions all stay, every flood flow beyond the free room retires one
 * of the flood's own.
 */
START_TEST(test_flood_keeps_established)
{
	struct sp_flow_table *t = new_table(64);
	struct sp_flow_key k;
	struct sp_flow *f;
	unsigned i, nretired = 0;
	bool retired;

	for (i = 0; i < 8; i++) {
		k = key_n(SP_NH_TCP, i);
		established(t, &k, i);
	}
	for (i = 0; i < 10000; i++) {
		k = key_n(SP_NH_TCP, 100000 + i);
		f = sp_flow_insert(t, &k, 10 * SEC + i, &retired);
		ck_assert_ptr_nonnull(f);
		sp_flow_update(t, f, 10 * SEC + i, SP_FLOW_ORIG, SP_TCP_SYN,
		    80);
		nretired += retired;
		ck_assert_uint_le(sp_flow_count(t), 64);
	}
	ck_assert_uint_eq(nretired, 10000 - (64 - 8));
	for (i = 0; i < 8; i++) {
		k = key_n(SP_NH_TCP, i);
		f = sp_flow_lookup(t, &k);
		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(f->state, SP_FLOW_ESTABLISHED);
	}
	sp_flow_table_free(t);
}
END_TEST

/*
 * max-flows-per-source: the limit refuses (NULL, nothing retired) and
 * every way a flow leaves (kill, expiry, retirement) gives its source
 * room again; other sources are not affected.
 */
START_TEST(test_source_limit)
{
	struct sp_flow_table *t = new_table(4);
	struct sp_flow_key k1, k2, k3, other;
	struct sp_flow *f;
	uint8_t c[16], s[16], o[16];
	bool retired = true;

	tp_addr(c, 0, 1);
	tp_addr(o, 0, 2);
	tp_addr(s, 0, 0xf100);
	k1 = sp_flow_key_5tuple(c, s, SP_NH_TCP, 1001, 80);
	k2 = sp_flow_key_5tuple(c, s, SP_NH_TCP, 1002, 80);
	k3 = sp_flow_key_5tuple(c, s, SP_NH_UDP, 1003, 53);
	other = sp_flow_key_5tuple(o, s, SP_NH_TCP, 1001, 80);
	ck_assert_int_eq(sp_flow_table_set_source_limit(t, 2), 0);
	ck_assert_ptr_nonnull(sp_flow_insert(t, &k1, 0, NULL));
	ck_assert_ptr_nonnull(sp_flow_insert(t, &k2, 0, NULL));
	ck_assert_uint_eq(sp_flow_source_count(t, c), 2);
	ck_assert_ptr_null(sp_flow_insert(t, &k3, 0, &retired));
	ck_assert(!retired);
	ck_assert_uint_eq(sp_flow_count(t), 2);
	/* An existing flow is still found by insert. */
	ck_assert_ptr_nonnull(sp_flow_insert(t, &k1, 0, NULL));
	ck_assert_ptr_nonnull(sp_flow_insert(t, &other, 0, NULL));
	ck_assert_uint_eq(sp_flow_source_count(t, o), 1);

	/* Kill. */
	f = sp_flow_lookup(t, &k2);
	sp_flow_kill(t, f);
	ck_assert_uint_eq(sp_flow_source_count(t, c), 1);
	ck_assert_ptr_nonnull(sp_flow_insert(t, &k3, 1 * SEC, NULL));
	ck_assert_ptr_null(sp_flow_insert(t, &k2, 1 * SEC, NULL));
	/* Expiry: k1 (TCP, 120 s) goes, k3 (UDP, 60 s from 1 s) too. */
	ck_assert_uint_eq(sp_flow_expire(t, 200 * SEC, 10), 3);
	ck_assert_uint_eq(sp_flow_source_count(t, c), 0);
	ck_assert_uint_eq(sp_flow_source_count(t, o), 0);

	/* Retirement: a full table of 4, c holding 2; a new source's flow
	 * retires c's longest idle one. */
	ck_assert_ptr_nonnull(sp_flow_insert(t, &k1, 300 * SEC, NULL));
	ck_assert_ptr_nonnull(sp_flow_insert(t, &k2, 301 * SEC, NULL));
	ck_assert_ptr_nonnull(sp_flow_insert(t, &other, 302 * SEC, NULL));
	k3 = key_n(SP_NH_TCP, 7);
	ck_assert_ptr_nonnull(sp_flow_insert(t, &k3, 303 * SEC, NULL));
	k3 = key_n(SP_NH_TCP, 8);
	ck_assert_ptr_nonnull(sp_flow_insert(t, &k3, 304 * SEC, &retired));
	ck_assert(retired);
	ck_assert_ptr_null(sp_flow_lookup(t, &k1));
	ck_assert_uint_eq(sp_flow_source_count(t, c), 1);

	/* No limit: anything goes. */
	ck_assert_int_eq(sp_flow_table_set_source_limit(t, 0), 0);
	k3 = sp_flow_key_5tuple(c, s, SP_NH_UDP, 1003, 53);
	ck_assert_ptr_nonnull(sp_flow_insert(t, &k3, 305 * SEC, NULL));
	ck_assert_ptr_nonnull(sp_flow_insert(t, &k1, 305 * SEC, NULL));
	sp_flow_table_free(t);
}
END_TEST

/* A limit set on a table that holds flows counts them. */
START_TEST(test_source_limit_late)
{
	struct sp_flow_table *t = new_table(8);
	struct sp_flow_key k;
	uint8_t c[16], s[16];
	unsigned i;

	tp_addr(c, 0, 1);
	tp_addr(s, 0, 0xf100);
	for (i = 0; i < 3; i++) {
		k = sp_flow_key_5tuple(c, s, SP_NH_TCP, (uint16_t)(1000 + i),
		    80);
		ck_assert_ptr_nonnull(sp_flow_insert(t, &k, 0, NULL));
	}
	ck_assert_int_eq(sp_flow_table_set_source_limit(t, 3), 0);
	ck_assert_uint_eq(sp_flow_source_count(t, c), 3);
	k = sp_flow_key_5tuple(c, s, SP_NH_TCP, 2000, 80);
	ck_assert_ptr_null(sp_flow_insert(t, &k, 0, NULL));
	sp_flow_table_free(t);
}
END_TEST

/* Full table holding an expired flow: that one goes, no live retirement. */
START_TEST(test_full_reuses_expired)
{
	struct sp_flow_table *t = new_table(2);
	struct sp_flow_key ka = key_n(SP_NH_TCP, 1), kb = key_n(SP_NH_UDP, 2);
	struct sp_flow_key kc = key_n(SP_NH_UDP, 3);
	bool retired = true;

	established(t, &ka, 0);			/* expires at 700 s */
	sp_flow_insert(t, &kb, 100 * SEC, NULL); /* expires at 160 s */
	sp_flow_insert(t, &kc, 200 * SEC, &retired);
	ck_assert(!retired);
	ck_assert_ptr_nonnull(sp_flow_lookup(t, &ka));
	ck_assert_ptr_null(sp_flow_lookup(t, &kb));
	ck_assert_ptr_nonnull(sp_flow_lookup(t, &kc));
	sp_flow_table_free(t);
}
END_TEST

/* Bounded memory: 10x capacity inserts never exceed capacity. */
START_TEST(test_bounded)
{
	struct sp_flow_table *t = new_table(64);
	struct sp_flow_key k;
	bool retired;
	uint32_t i;

	for (i = 0; i < 640; i++) {
		k = key_n(SP_NH_UDP, i);
		sp_flow_insert(t, &k, i, &retired);
		ck_assert_uint_le(sp_flow_count(t), 64);
		ck_assert(retired == (i >= 64));
	}
	ck_assert_uint_eq(sp_flow_count(t), 64);
	for (i = 0; i < 640; i++) {
		k = key_n(SP_NH_UDP, i);
		ck_assert((sp_flow_lookup(t, &k) != NULL) == (i >= 576));
	}
	sp_flow_table_free(t);
}
END_TEST

/* expire(max) removes at most max per call. */
START_TEST(test_expire_max)
{
	struct sp_flow_table *t = new_table(32);
	struct sp_flow_key k;
	uint32_t i;

	for (i = 0; i < 10; i++) {
		k = key_n(SP_NH_UDP, i);
		sp_flow_insert(t, &k, 0, NULL);
	}
	k = key_n(SP_NH_TCP, 99);
	sp_flow_insert(t, &k, 0, NULL);
	ck_assert_uint_eq(sp_flow_expire(t, 60 * SEC, 3), 3);
	ck_assert_uint_eq(sp_flow_count(t), 8);
	ck_assert_uint_eq(sp_flow_expire(t, 60 * SEC, 0), 0);
	ck_assert_uint_eq(sp_flow_expire(t, 60 * SEC, 100), 7);
	ck_assert_uint_eq(sp_flow_count(t), 1);		/* the TCP one */
	ck_assert_ptr_nonnull(sp_flow_lookup(t, &k));
	sp_flow_table_free(t);
}
END_TEST

struct walk {
	struct sp_flow_table *t;
	size_t seen;
	uint64_t sum;
};

/* Kills every flow with an odd user value, as it is visited. */
static int
kill_odd(const struct sp_flow *f, void *arg)
{
	struct walk *w = arg;

	w->seen++;
	w->sum += f->user;
	if (f->user & 1)
		sp_flow_kill(w->t, f);
	return 0;
}

static int
stop_at_three(const struct sp_flow *f, void *arg)
{
	struct walk *w = arg;

	(void)f;
	return ++w->seen == 3;
}

START_TEST(test_foreach_kill)
{
	struct sp_flow_table *t = new_table(64);
	struct walk w = { .t = t };
	struct sp_flow_key k;
	struct sp_flow *f;
	uint32_t i;

	for (i = 0; i < 40; i++) {
		k = key_n(i % 2 ? SP_NH_TCP : SP_NH_UDP, i);
		f = sp_flow_insert(t, &k, i, NULL);
		f->user = i;
	}
	sp_flow_foreach(t, kill_odd, &w);
	ck_assert_uint_eq(w.seen, 40);
	ck_assert_uint_eq(w.sum, 40 * 39 / 2);
	ck_assert_uint_eq(sp_flow_count(t), 20);
	for (i = 0; i < 40; i++) {
		k = key_n(i % 2 ? SP_NH_TCP : SP_NH_UDP, i);
		ck_assert((sp_flow_lookup(t, &k) != NULL) == (i % 2 == 0));
	}
	w.seen = 0;
	sp_flow_foreach(t, stop_at_three, &w);
	ck_assert_uint_eq(w.seen, 3);
	sp_flow_table_free(t);
}
END_TEST

static int
sum_user(const struct sp_flow *f, void *arg)
{
	struct walk *w = arg;

	w->seen++;
	w->sum += f->user;
	return 0;
}

/* A walk in steps of 3: each flow once, over as many calls as needed;
 * a flow removed between two steps is not seen, one that stays is. */
START_TEST(test_walk_batches)
{
	struct sp_flow_table *t = new_table(64);
	struct walk w = { .t = t };
	struct sp_flow_key k;
	struct sp_flow *f;
	size_t cursor = 0, got, calls = 0;
	uint32_t i;

	for (i = 1; i <= 10; i++) {
		k = key_n(SP_NH_TCP, i);
		f = sp_flow_insert(t, &k, i, NULL);
		f->user = i;
	}
	while (!sp_flow_walk_done(t, cursor)) {
		got = sp_flow_walk(t, &cursor, 3, sum_user, &w);
		ck_assert_uint_le(got, 3);
		calls++;
		ck_assert_uint_lt(calls, 100);
	}
	ck_assert_uint_eq(w.seen, 10);
	ck_assert_uint_eq(w.sum, 55);
	ck_assert_uint_ge(calls, 4);
	/* A step of 0 visits nothing; fn stopping ends the walk. */
	cursor = 0;
	ck_assert_uint_eq(sp_flow_walk(t, &cursor, 0, sum_user, &w), 0);
	w.seen = 0;
	ck_assert_uint_eq(sp_flow_walk(t, &cursor, 64, stop_at_three, &w), 3);
	ck_assert(sp_flow_walk_done(t, cursor));
	/* Changes between steps. */
	cursor = 0;
	w.seen = 0;
	w.sum = 0;
	(void)sp_flow_walk(t, &cursor, 5, sum_user, &w);
	for (i = 1; i <= 10; i++) {
		k = key_n(SP_NH_TCP, i);
		f = sp_flow_lookup(t, &k);
		if (f != NULL && f->user == 10)
			sp_flow_kill(t, f);
	}
	while (!sp_flow_walk_done(t, cursor))
		(void)sp_flow_walk(t, &cursor, 5, sum_user, &w);
	ck_assert((w.seen == 10 && w.sum == 55) ||
	    (w.seen == 9 && w.sum == 45));
	sp_flow_table_free(t);
}
END_TEST

/* xorshift64: deterministic pseudo-random keys. */
static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static struct sp_flow_key
random_key(uint64_t *s)
{
	uint8_t a[16], b[16];
	uint64_t r;
	int i;

	for (i = 0; i < 16; i += 8) {
		r = next_rand(s);
		memcpy(a + i, &r, 8);
		r = next_rand(s);
		memcpy(b + i, &r, 8);
	}
	r = next_rand(s);
	return sp_flow_key_5tuple(a, b, r & 1 ? SP_NH_TCP : SP_NH_UDP,
	    (uint16_t)(r >> 8), (uint16_t)(r >> 24));
}

/*
 * 100000 random keys through a 4096-entry table, one per millisecond:
 * the table stays full, and exactly the last 4096 keys are found.
 */
START_TEST(test_stress)
{
	enum { CAP = 4096, N = 100000 };
	struct sp_flow_table *t = new_table(CAP);
	struct sp_flow_key k;
	struct sp_flow *f;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	size_t retired_n = 0;
	bool retired;
	uint32_t i;

	for (i = 0; i < N; i++) {
		k = random_key(&seed);
		f = sp_flow_insert(t, &k, i, &retired);
		ck_assert_ptr_nonnull(f);
		f->user = i;
		retired_n += retired;
		if (i % 1000 == 0)
			ck_assert_uint_le(sp_flow_count(t), CAP);
	}
	ck_assert_uint_eq(sp_flow_count(t), CAP);
	ck_assert_uint_eq(retired_n, N - CAP);

	seed = 0x9e3779b97f4a7c15ULL;
	for (i = 0; i < N; i++) {
		k = random_key(&seed);
		f = sp_flow_lookup(t, &k);
		if (i < N - CAP) {
			ck_assert_ptr_null(f);
		} else {
			ck_assert_ptr_nonnull(f);
			ck_assert_uint_eq(f->user, i);
			ck_assert_mem_eq(&f->key, &k, sizeof(k));
		}
	}
	/* Everything expires in the end, bounded per call. */
	while (sp_flow_expire(t, UINT64_MAX, 1000) == 1000)
		;
	ck_assert_uint_eq(sp_flow_count(t), 0);
	sp_flow_table_free(t);
}
END_TEST

START_TEST(test_new_args)
{
	struct sp_flow_timeouts to = sp_flow_timeouts_default();
	struct sp_flow_table *t;

	ck_assert_uint_eq(to.tcp_established_s, 7200);
	ck_assert_uint_eq(to.tcp_s, 120);
	ck_assert_uint_eq(to.udp_s, 60);
	ck_assert_uint_eq(to.other_s, 60);
	ck_assert_uint_eq(to.linger_s, 10);

	ck_assert_ptr_null(sp_flow_table_new(0, &to, secret));
	to.linger_s = 0;
	ck_assert_ptr_null(sp_flow_table_new(16, &to, secret));
	t = sp_flow_table_new(1, NULL, secret);	/* defaults */
	ck_assert_ptr_nonnull(t);
	sp_flow_table_free(t);
	sp_flow_table_free(NULL);

	/* Memory per entry: the record plus node and bucket share. */
	ck_assert_uint_ge(sp_flow_entry_bytes(), sizeof(struct sp_flow) + 8);
	ck_assert_uint_le(sp_flow_entry_bytes(), sizeof(struct sp_flow) + 48);
}
END_TEST

Suite *
flow_suite(void)
{
	Suite *s = suite_create("flow");
	TCase *tc;

	tc = tcase_create("keys");
	tcase_add_test(tc, test_key_constructors);
	tcase_add_test(tc, test_reverse);
	tcase_add_test(tc, test_insert_lookup);
	tcase_add_test(tc, test_hashed);
	tcase_add_test(tc, test_3tuple_distinct);
	tcase_add_test(tc, test_new_args);
	suite_add_tcase(s, tc);

	tc = tcase_create("timeouts");
	tcase_add_loop_test(tc, test_idle_boundary, 0,
	    sizeof(idle_cases) / sizeof(idle_cases[0]));
	tcase_add_test(tc, test_insert_timeout);
	tcase_add_test(tc, test_tcp_established);
	tcase_add_test(tc, test_tcp_one_way);
	tcase_add_test(tc, test_tcp_reply_establishes);
	tcase_add_test(tc, test_fin_both_linger);
	tcase_add_loop_test(tc, test_rst_linger, 0, 2);
	tcase_add_test(tc, test_one_fin_stays);
	tcase_add_test(tc, test_syn_after_close);
	tcase_add_test(tc, test_udp_reply);
	tcase_add_test(tc, test_counters);
	tcase_add_test(tc, test_expire_max);
	suite_add_tcase(s, tc);

	tc = tcase_create("bounds");
	tcase_add_test(tc, test_retire_longest_idle);
	tcase_add_test(tc, test_retire_across_classes);
	tcase_add_test(tc, test_retire_established_last);
	tcase_add_test(tc, test_flood_keeps_established);
	tcase_add_test(tc, test_source_limit);
	tcase_add_test(tc, test_source_limit_late);
	tcase_add_test(tc, test_full_reuses_expired);
	tcase_add_test(tc, test_bounded);
	tcase_add_test(tc, test_foreach_kill);
	tcase_add_test(tc, test_walk_batches);
	tcase_add_test(tc, test_stress);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
