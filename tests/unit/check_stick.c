/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_stick.c -- the balancer's stick table: key constructors and
 * prefix masking, TTL expiry and refresh on hit, forget_server,
 * longest-idle retirement.
 */
#include <string.h>

#include <sp/siphash.h>
#include <sp/stick.h>

#include "suites.h"
#include "testpkt.h"

static const uint8_t secret[16] = {
	0x51, 0x1c, 0x4b, 0x00, 0x11, 0x22, 0x33, 0x44,
	0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc,
};

#define SEC	1000ULL		/* ms per second */
#define TTL_S	30		/* s: the tables' TTL */

static struct sp_stick_table *
new_table(size_t capacity)
{
	struct sp_stick_table *t = sp_stick_table_new(capacity, TTL_S, secret);

	ck_assert_ptr_nonnull(t);
	return t;
}

START_TEST(test_key_constructors)
{
	uint8_t vip[16], id[16];
	struct sp_stick_key k;

	ck_assert_uint_eq(sizeof(struct sp_stick_key), 40);
	tp_addr(vip, 0xf, 0x100);
	tp_addr(id, 1, 7);
	memset(&k, 0xee, sizeof(k));
	k = sp_stick_key_seg1(vip, id);
	ck_assert_mem_eq(k.vip, vip, 16);
	ck_assert_mem_eq(k.id, id, 16);
	ck_assert_uint_eq(k.kind, SP_STICK_SEG1);
	ck_assert_uint_eq(k.label, 0);
	ck_assert_uint_eq(k.pad[0] | k.pad[1] | k.pad[2], 0);

	k = sp_stick_key_src_label(vip, id, 0xabcdef12);
	ck_assert_uint_eq(k.kind, SP_STICK_SRC_LABEL);
	ck_assert_uint_eq(k.label, 0xdef12);
	ck_assert_uint_eq(k.pad[0] | k.pad[1] | k.pad[2], 0);
}
END_TEST

/* SRC keys keep prefix_len bits of the source and zero the rest. */
START_TEST(test_prefix_mask)
{
	uint8_t vip[16], src[16], want[16];
	struct sp_stick_key k;

	tp_addr(vip, 0xf, 0x100);
	memset(src, 0xff, sizeof(src));

	k = sp_stick_key_src(vip, src, 64);
	memset(want, 0, 16);
	memset(want, 0xff, 8);
	ck_assert_mem_eq(k.id, want, 16);
	ck_assert_uint_eq(k.kind, SP_STICK_SRC);

	k = sp_stick_key_src(vip, src, 60);
	want[7] = 0xf0;
	ck_assert_mem_eq(k.id, want, 16);

	k = sp_stick_key_src(vip, src, 1);
	memset(want, 0, 16);
	want[0] = 0x80;
	ck_assert_mem_eq(k.id, want, 16);

	k = sp_stick_key_src(vip, src, 0);
	memset(want, 0, 16);
	ck_assert_mem_eq(k.id, want, 16);

	k = sp_stick_key_src(vip, src, 128);
	ck_assert_mem_eq(k.id, src, 16);
	k = sp_stick_key_src(vip, src, 200);	/* taken as 128 */
	ck_assert_mem_eq(k.id, src, 16);
	ck_assert_uint_eq(k.label, 128);
}
END_TEST

/* Two addresses in one /64 share an entry; another /64 does not. */
START_TEST(test_prefix_shares_entry)
{
	struct sp_stick_table *t = new_table(16);
	uint8_t vip[16], a[16], b[16], c[16], s1[16], got[16];
	struct sp_stick_key ka, kb, kc;

	tp_addr(vip, 0xf, 0x100);
	tp_addr(a, 1, 0x1111);
	tp_addr(b, 1, 0x2222);
	tp_addr(c, 2, 0x1111);
	tp_addr(s1, 5, 1);
	ka = sp_stick_key_src(vip, a, 64);
	kb = sp_stick_key_src(vip, b, 64);
	kc = sp_stick_key_src(vip, c, 64);
	ck_assert(!sp_stick_set(t, &ka, s1, 0));
	ck_assert(sp_stick_lookup(t, &kb, 1, got));
	ck_assert_mem_eq(got, s1, 16);
	ck_assert(!sp_stick_lookup(t, &kc, 1, got));
	sp_stick_set(t, &kb, s1, 2);
	ck_assert_uint_eq(sp_stick_count(t), 1);

	/* Whole addresses (/128) are told apart. */
	ka = sp_stick_key_src(vip, a, 128);
	kb = sp_stick_key_src(vip, b, 128);
	sp_stick_set(t, &ka, s1, 3);
	ck_assert(!sp_stick_lookup(t, &kb, 3, got));
	ck_assert_uint_eq(sp_stick_count(t), 2);
	sp_stick_table_free(t);
}
END_TEST

/* Kinds and VIPs separate keys that share identity bytes. */
START_TEST(test_kinds_distinct)
{
	struct sp_stick_table *t = new_table(16);
	uint8_t vip[16], vip2[16], id[16], s1[16], got[16];
	struct sp_stick_key k1, k2, k3, k4;

	tp_addr(vip, 0xf, 0x100);
	tp_addr(vip2, 0xf, 0x200);
	tp_addr(id, 1, 9);
	tp_addr(s1, 5, 1);
	k1 = sp_stick_key_seg1(vip, id);
	k2 = sp_stick_key_src(vip, id, 128);
	k3 = sp_stick_key_src_label(vip, id, 0);
	k4 = sp_stick_key_seg1(vip2, id);
	sp_stick_set(t, &k1, s1, 0);
	ck_assert(!sp_stick_lookup(t, &k2, 0, got));
	ck_assert(!sp_stick_lookup(t, &k3, 0, got));
	ck_assert(!sp_stick_lookup(t, &k4, 0, got));
	ck_assert(sp_stick_lookup(t, &k1, 0, got));
	sp_stick_table_free(t);
}
END_TEST

/* An unused entry is found until set + TTL - 1 ms, not at set + TTL. */
START_TEST(test_ttl)
{
	struct sp_stick_table *t = new_table(16);
	uint8_t vip[16], id[16], s1[16], got[16];
	struct sp_stick_key k;
	uint64_t set = 1000;

	tp_addr(vip, 0xf, 0x100);
	tp_addr(id, 1, 9);
	tp_addr(s1, 5, 1);
	k = sp_stick_key_seg1(vip, id);
	sp_stick_set(t, &k, s1, set);

	/* Swept by expire at exactly set + TTL. */
	ck_assert_uint_eq(sp_stick_expire(t, set + TTL_S * SEC - 1, 10), 0);
	ck_assert_uint_eq(sp_stick_count(t), 1);
	ck_assert_uint_eq(sp_stick_expire(t, set + TTL_S * SEC, 10), 1);
	ck_assert_uint_eq(sp_stick_count(t), 0);

	/* Not found at set + TTL even when no sweep ran. */
	sp_stick_set(t, &k, s1, set);
	memset(got, 0, sizeof(got));
	ck_assert(!sp_stick_lookup(t, &k, set + TTL_S * SEC, got));
	ck_assert_uint_eq(got[0], 0);
	ck_assert_uint_eq(sp_stick_count(t), 0);
	sp_stick_table_free(t);
}
END_TEST

/* A hit restarts the TTL. */
START_TEST(test_touch_on_hit)
{
	struct sp_stick_table *t = new_table(16);
	uint8_t vip[16], id[16], s1[16], got[16];
	struct sp_stick_key k;

	tp_addr(vip, 0xf, 0x100);
	tp_addr(id, 1, 9);
	tp_addr(s1, 5, 1);
	k = sp_stick_key_seg1(vip, id);
	sp_stick_set(t, &k, s1, 0);
	ck_assert(sp_stick_lookup(t, &k, 20 * SEC, got));
	/* Would have expired at 30 s without the hit. */
	ck_assert_uint_eq(sp_stick_expire(t, 49 * SEC, 10), 0);
	ck_assert(sp_stick_lookup(t, &k, 49 * SEC, got));
	ck_assert_uint_eq(sp_stick_expire(t, 79 * SEC - 1, 10), 0);
	ck_assert_uint_eq(sp_stick_expire(t, 79 * SEC, 10), 1);
	sp_stick_table_free(t);
}
END_TEST

/* set on an existing key changes the server and refreshes the TTL. */
START_TEST(test_set_updates)
{
	struct sp_stick_table *t = new_table(16);
	uint8_t vip[16], id[16], s1[16], s2[16], got[16];
	struct sp_stick_key k;

	tp_addr(vip, 0xf, 0x100);
	tp_addr(id, 1, 9);
	tp_addr(s1, 5, 1);
	tp_addr(s2, 5, 2);
	k = sp_stick_key_seg1(vip, id);
	sp_stick_set(t, &k, s1, 0);
	ck_assert(!sp_stick_set(t, &k, s2, 10 * SEC));
	ck_assert_uint_eq(sp_stick_count(t), 1);
	ck_assert_uint_eq(sp_stick_expire(t, 39 * SEC, 10), 0);
	ck_assert(sp_stick_lookup(t, &k, 39 * SEC, got));
	ck_assert_mem_eq(got, s2, 16);
	sp_stick_table_free(t);
}
END_TEST

START_TEST(test_forget_server)
{
	struct sp_stick_table *t = new_table(64);
	uint8_t vip[16], id[16], s1[16], s2[16], got[16];
	struct sp_stick_key k;
	uint32_t i;

	tp_addr(vip, 0xf, 0x100);
	tp_addr(s1, 5, 1);
	tp_addr(s2, 5, 2);
	for (i = 0; i < 8; i++) {
		tp_addr(id, 1, i);
		k = sp_stick_key_seg1(vip, id);
		sp_stick_set(t, &k, i < 5 ? s1 : s2, i);
	}
	ck_assert_uint_eq(sp_stick_forget_server(t, s1), 5);
	ck_assert_uint_eq(sp_stick_count(t), 3);
	for (i = 0; i < 8; i++) {
		tp_addr(id, 1, i);
		k = sp_stick_key_seg1(vip, id);
		ck_assert(sp_stick_lookup(t, &k, 10, got) == (i >= 5));
		if (i >= 5)
			ck_assert_mem_eq(got, s2, 16);
	}
	ck_assert_uint_eq(sp_stick_forget_server(t, s1), 0);
	ck_assert_uint_eq(sp_stick_forget_server(t, s2), 3);
	ck_assert_uint_eq(sp_stick_count(t), 0);
	sp_stick_table_free(t);
}
END_TEST

/* Full: the entry used longest ago is retired. */
START_TEST(test_retire)
{
	struct sp_stick_table *t = new_table(4);
	uint8_t vip[16], id[16], s1[16], got[16];
	struct sp_stick_key k;
	uint32_t i;

	tp_addr(vip, 0xf, 0x100);
	tp_addr(s1, 5, 1);
	for (i = 0; i < 4; i++) {
		tp_addr(id, 1, i);
		k = sp_stick_key_seg1(vip, id);
		ck_assert(!sp_stick_set(t, &k, s1, i));
	}
	tp_addr(id, 1, 0);
	k = sp_stick_key_seg1(vip, id);
	ck_assert(sp_stick_lookup(t, &k, 10, got));	/* 0 used again */
	tp_addr(id, 1, 4);
	k = sp_stick_key_seg1(vip, id);
	ck_assert(sp_stick_set(t, &k, s1, 11));
	ck_assert_uint_eq(sp_stick_count(t), 4);
	for (i = 0; i < 5; i++) {
		tp_addr(id, 1, i);
		k = sp_stick_key_seg1(vip, id);
		ck_assert(sp_stick_lookup(t, &k, 12, got) == (i != 1));
	}
	sp_stick_table_free(t);
}
END_TEST

struct walk {
	size_t seen;
	uint64_t max_expire;
};

static int
count_entries(const struct sp_stick_entry *e, void *arg)
{
	struct walk *w = arg;

	w->seen++;
	if (e->expire_ms > w->max_expire)
		w->max_expire = e->expire_ms;
	return 0;
}

START_TEST(test_foreach)
{
	struct sp_stick_table *t = new_table(64);
	uint8_t vip[16], id[16], s1[16];
	struct sp_stick_key k;
	struct walk w = { 0, 0 };
	uint32_t i;

	tp_addr(vip, 0xf, 0x100);
	tp_addr(s1, 5, 1);
	for (i = 0; i < 20; i++) {
		tp_addr(id, 1, i);
		k = sp_stick_key_src_label(vip, id, i);
		sp_stick_set(t, &k, s1, i * SEC);
	}
	sp_stick_foreach(t, count_entries, &w);
	ck_assert_uint_eq(w.seen, 20);
	ck_assert_uint_eq(w.max_expire, (19 + TTL_S) * SEC);
	/* The same in steps of at most 3 entries: each entry once. */
	{
		struct walk w2 = { 0, 0 };
		size_t cursor = 0, calls = 0;

		while (!sp_stick_walk_done(t, cursor)) {
			ck_assert_uint_le(sp_stick_walk(t, &cursor, 3,
			    count_entries, &w2), 3);
			ck_assert_uint_lt(++calls, 100);
		}
		ck_assert_uint_eq(w2.seen, 20);
		ck_assert_uint_eq(w2.max_expire, w.max_expire);
		ck_assert_uint_ge(calls, 7);
	}
	sp_stick_table_free(t);
}
END_TEST

START_TEST(test_new_args)
{
	struct sp_stick_table *t;

	ck_assert_ptr_null(sp_stick_table_new(0, 30, secret));
	ck_assert_ptr_null(sp_stick_table_new(16, 0, secret));
	t = sp_stick_table_new(1, 1, secret);
	ck_assert_ptr_nonnull(t);
	sp_stick_table_free(t);
	sp_stick_table_free(NULL);
	ck_assert_uint_ge(sp_stick_entry_bytes(),
	    sizeof(struct sp_stick_entry) + 8);
}
END_TEST

/* One hash for a lookup and a set, equal in two tables of one secret. */
START_TEST(test_hashed)
{
	struct sp_stick_table *t = new_table(64), *u = new_table(8);
	uint8_t vip[16], id[16], s1[16], s2[16], got[16];
	struct sp_stick_key k;
	uint64_t h;

	tp_addr(vip, 0xf, 0x100);
	tp_addr(id, 1, 7);
	tp_addr(s1, 5, 1);
	tp_addr(s2, 5, 2);
	k = sp_stick_key_seg1(vip, id);
	h = sp_stick_hash(t, &k);
	ck_assert_uint_eq(h, sp_stick_hash(u, &k));
	ck_assert_uint_eq(h, sp_siphash24(secret, &k, sizeof(k)));
	ck_assert(!sp_stick_lookup_hashed(t, &k, h, 0, got));
	ck_assert(!sp_stick_set_hashed(t, &k, h, s1, 0));
	ck_assert(sp_stick_lookup(t, &k, SEC, got));
	ck_assert_mem_eq(got, s1, 16);
	ck_assert(!sp_stick_set(t, &k, s2, 2 * SEC));
	ck_assert(sp_stick_lookup_hashed(t, &k, h, 3 * SEC, got));
	ck_assert_mem_eq(got, s2, 16);
	ck_assert_uint_eq(sp_stick_count(t), 1);
	/* The TTL still runs out for the hashed lookup. */
	ck_assert(!sp_stick_lookup_hashed(t, &k, h, 3 * SEC + TTL_S * SEC,
	    got));
	ck_assert_uint_eq(sp_stick_count(t), 0);
	sp_stick_table_free(t);
	sp_stick_table_free(u);
}
END_TEST

Suite *
stick_suite(void)
{
	Suite *s = suite_create("stick");
	TCase *tc = tcase_create("stick");

	tcase_add_test(tc, test_key_constructors);
	tcase_add_test(tc, test_prefix_mask);
	tcase_add_test(tc, test_prefix_shares_entry);
	tcase_add_test(tc, test_kinds_distinct);
	tcase_add_test(tc, test_ttl);
	tcase_add_test(tc, test_touch_on_hit);
	tcase_add_test(tc, test_set_updates);
	tcase_add_test(tc, test_hashed);
	tcase_add_test(tc, test_forget_server);
	tcase_add_test(tc, test_retire);
	tcase_add_test(tc, test_foreach);
	tcase_add_test(tc, test_new_args);
	suite_add_tcase(s, tc);
	return s;
}
