/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_cache.c -- the client's server cache: TTL from the last
 * confirmation (lookups do not extend it), refresh, forget,
 * forget_server, retirement when full.
 */
#include <string.h>

#include <sp/cache.h>

#include "suites.h"
#include "testpkt.h"

static const uint8_t secret[16] = {
	0xca, 0xc4, 0xe0, 0x01, 0x10, 0x20, 0x30, 0x40,
	0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0,
};

#define SEC	1000ULL		/* ms per second */
#define TTL_S	10		/* s: the tables' TTL */

static struct sp_cache_table *
new_table(size_t capacity)
{
	struct sp_cache_table *t = sp_cache_table_new(capacity, TTL_S, secret);

	ck_assert_ptr_nonnull(t);
	return t;
}

/* Found until set + TTL - 1 ms; lookups do not extend the TTL. */
START_TEST(test_ttl)
{
	struct sp_cache_table *t = new_table(16);
	uint8_t vip[16], me[16], s1[16], got[16];
	uint64_t set = 500;

	tp_addr(vip, 0xf, 0x100);
	tp_addr(me, 1, 1);
	tp_addr(s1, 5, 1);
	ck_assert(!sp_cache_lookup(t, vip, me, set, got));
	ck_assert(!sp_cache_set(t, vip, me, s1, set));
	ck_assert_uint_eq(sp_cache_count(t), 1);
	memset(got, 0, sizeof(got));
	ck_assert(sp_cache_lookup(t, vip, me, set + 5 * SEC, got));
	ck_assert_mem_eq(got, s1, 16);
	ck_assert(sp_cache_lookup(t, vip, me, set + TTL_S * SEC - 1, got));
	ck_assert(!sp_cache_lookup(t, vip, me, set + TTL_S * SEC, got));
	ck_assert_uint_eq(sp_cache_count(t), 0);

	/* The sweep: exactly at set + TTL. */
	sp_cache_set(t, vip, me, s1, set);
	ck_assert_uint_eq(sp_cache_expire(t, set + TTL_S * SEC - 1, 10), 0);
	ck_assert_uint_eq(sp_cache_expire(t, set + TTL_S * SEC, 10), 1);
	ck_assert_uint_eq(sp_cache_count(t), 0);
	sp_cache_table_free(t);
}
END_TEST

/* A new confirmation restarts the TTL and may change the server. */
START_TEST(test_refresh)
{
	struct sp_cache_table *t = new_table(16);
	uint8_t vip[16], me[16], s1[16], s2[16], got[16];

	tp_addr(vip, 0xf, 0x100);
	tp_addr(me, 1, 1);
	tp_addr(s1, 5, 1);
	tp_addr(s2, 5, 2);
	sp_cache_set(t, vip, me, s1, 0);
	sp_cache_set(t, vip, me, s1, 6 * SEC);
	ck_assert_uint_eq(sp_cache_count(t), 1);
	ck_assert_uint_eq(sp_cache_expire(t, 16 * SEC - 1, 10), 0);
	ck_assert(sp_cache_lookup(t, vip, me, 16 * SEC - 1, got));
	sp_cache_set(t, vip, me, s2, 16 * SEC - 1);
	ck_assert(sp_cache_lookup(t, vip, me, 20 * SEC, got));
	ck_assert_mem_eq(got, s2, 16);
	ck_assert_uint_eq(sp_cache_expire(t, 26 * SEC - 1, 10), 1);
	sp_cache_table_free(t);
}
END_TEST

START_TEST(test_forget)
{
	struct sp_cache_table *t = new_table(16);
	uint8_t vip[16], vip2[16], a[16], b[16], s1[16], got[16];

	tp_addr(vip, 0xf, 0x100);
	tp_addr(vip2, 0xf, 0x200);
	tp_addr(a, 1, 1);
	tp_addr(b, 1, 2);
	tp_addr(s1, 5, 1);
	sp_cache_set(t, vip, a, s1, 0);
	sp_cache_set(t, vip, b, s1, 0);
	sp_cache_set(t, vip2, a, s1, 0);
	ck_assert(sp_cache_forget(t, vip, a));
	ck_assert(!sp_cache_forget(t, vip, a));
	ck_assert_uint_eq(sp_cache_count(t), 2);
	ck_assert(!sp_cache_lookup(t, vip, a, 1, got));
	ck_assert(sp_cache_lookup(t, vip, b, 1, got));
	ck_assert(sp_cache_lookup(t, vip2, a, 1, got));
	sp_cache_table_free(t);
}
END_TEST

START_TEST(test_forget_server)
{
	struct sp_cache_table *t = new_table(64);
	uint8_t vip[16], me[16], s1[16], s2[16], got[16];
	uint32_t i;

	tp_addr(me, 1, 1);
	tp_addr(s1, 5, 1);
	tp_addr(s2, 5, 2);
	for (i = 0; i < 10; i++) {
		tp_addr(vip, 0xf, 0x100 + i);
		sp_cache_set(t, vip, me, i % 3 == 0 ? s1 : s2, i);
	}
	ck_assert_uint_eq(sp_cache_forget_server(t, s1), 4);	/* 0 3 6 9 */
	ck_assert_uint_eq(sp_cache_count(t), 6);
	for (i = 0; i < 10; i++) {
		tp_addr(vip, 0xf, 0x100 + i);
		ck_assert(sp_cache_lookup(t, vip, me, 20, got) ==
		    (i % 3 != 0));
	}
	ck_assert_uint_eq(sp_cache_forget_server(t, s1), 0);
	sp_cache_table_free(t);
}
END_TEST

/* Full: the entry confirmed longest ago goes. */
START_TEST(test_retire)
{
	struct sp_cache_table *t = new_table(3);
	uint8_t vip[16], me[16], s1[16], got[16];
	uint32_t i;

	tp_addr(vip, 0xf, 0x100);
	tp_addr(s1, 5, 1);
	for (i = 0; i < 3; i++) {
		tp_addr(me, 1, i);
		ck_assert(!sp_cache_set(t, vip, me, s1, i));
	}
	tp_addr(me, 1, 0);
	sp_cache_set(t, vip, me, s1, 5);	/* 0 confirmed again */
	tp_addr(me, 1, 3);
	ck_assert(sp_cache_set(t, vip, me, s1, 6));
	ck_assert_uint_eq(sp_cache_count(t), 3);
	for (i = 0; i < 4; i++) {
		tp_addr(me, 1, i);
		ck_assert(sp_cache_lookup(t, vip, me, 7, got) == (i != 1));
	}
	sp_cache_table_free(t);
}
END_TEST

static int
collect(const struct sp_cache_entry *e, void *arg)
{
	uint64_t *sum = arg;

	*sum += e->identity[15] + e->expire_ms;
	return 0;
}

START_TEST(test_foreach)
{
	struct sp_cache_table *t = new_table(16);
	uint8_t vip[16], me[16], s1[16];
	uint64_t sum = 0;
	uint32_t i;

	tp_addr(vip, 0xf, 0x100);
	tp_addr(s1, 5, 1);
	for (i = 1; i <= 4; i++) {
		tp_addr(me, 1, i);
		sp_cache_set(t, vip, me, s1, i);
	}
	sp_cache_foreach(t, collect, &sum);
	/* identities 1..4, expiries (1..4) + TTL */
	ck_assert_uint_eq(sum, 10 + 10 + 4 * TTL_S * SEC);
	/* The same in steps of one entry. */
	{
		size_t cursor = 0, calls = 0;
		uint64_t sum2 = 0;

		while (!sp_cache_walk_done(t, cursor)) {
			ck_assert_uint_le(sp_cache_walk(t, &cursor, 1, collect,
			    &sum2), 1);
			ck_assert_uint_lt(++calls, 100);
		}
		ck_assert_uint_eq(sum2, sum);
		ck_assert_uint_ge(calls, 4);
	}
	sp_cache_table_free(t);
}
END_TEST

/*
 * A suspect server: every entry naming it is kept (for show) but not
 * followed, the others are untouched; an answer naming it again (set)
 * makes the entry OK; the TTL is not changed by suspicion.
 */
START_TEST(test_suspect)
{
	struct sp_cache_table *t = new_table(16);
	uint8_t vip[16], a[16], b[16], c[16], s1[16], s2[16], got[16];
	struct sp_cache_entry e;

	tp_addr(vip, 0xf, 0x100);
	tp_addr(a, 1, 1);
	tp_addr(b, 1, 2);
	tp_addr(c, 1, 3);
	tp_addr(s1, 5, 1);
	tp_addr(s2, 5, 2);
	sp_cache_set(t, vip, a, s1, 0);
	sp_cache_set(t, vip, b, s1, 0);
	sp_cache_set(t, vip, c, s2, 0);
	ck_assert(!sp_cache_get(t, vip, s2, 1, &e));
	ck_assert(sp_cache_get(t, vip, a, 1, &e));
	ck_assert_uint_eq(e.state, SP_CACHE_OK);

	ck_assert_uint_eq(sp_cache_suspect_server(t, s1, 7, 2 * SEC), 2);
	/* Already suspect: not marked twice, reason and time kept. */
	ck_assert_uint_eq(sp_cache_suspect_server(t, s1, 9, 3 * SEC), 0);
	ck_assert_uint_eq(sp_cache_count(t), 3);
	ck_assert(!sp_cache_lookup(t, vip, a, 4 * SEC, got));
	ck_assert(!sp_cache_lookup(t, vip, b, 4 * SEC, got));
	ck_assert(sp_cache_lookup(t, vip, c, 4 * SEC, got));
	ck_assert_mem_eq(got, s2, 16);
	ck_assert(sp_cache_get(t, vip, a, 4 * SEC, &e));
	ck_assert_uint_eq(e.state, SP_CACHE_SUSPECT);
	ck_assert_uint_eq(e.reason, 7);
	ck_assert_uint_eq(e.suspect_ms, 2 * SEC);
	ck_assert_mem_eq(e.server, s1, 16);
	ck_assert_uint_eq(e.expire_ms, TTL_S * SEC);

	/* Seen alive again (for a): a is followed, b stays suspect. */
	sp_cache_set(t, vip, a, s1, 5 * SEC);
	ck_assert(sp_cache_lookup(t, vip, a, 6 * SEC, got));
	ck_assert_mem_eq(got, s1, 16);
	ck_assert(!sp_cache_lookup(t, vip, b, 6 * SEC, got));
	/* A suspect entry still expires with its TTL. */
	ck_assert(!sp_cache_get(t, vip, b, TTL_S * SEC, &e));
	sp_cache_table_free(t);
}
END_TEST

START_TEST(test_new_args)
{
	struct sp_cache_table *t;

	ck_assert_ptr_null(sp_cache_table_new(0, 30, secret));
	ck_assert_ptr_null(sp_cache_table_new(16, 0, secret));
	t = sp_cache_table_new(1, 1, secret);
	ck_assert_ptr_nonnull(t);
	sp_cache_table_free(t);
	sp_cache_table_free(NULL);
	ck_assert_uint_ge(sp_cache_entry_bytes(),
	    sizeof(struct sp_cache_entry) + 8);
}
END_TEST

Suite *
cache_suite(void)
{
	Suite *s = suite_create("cache");
	TCase *tc = tcase_create("cache");

	tcase_add_test(tc, test_ttl);
	tcase_add_test(tc, test_refresh);
	tcase_add_test(tc, test_forget);
	tcase_add_test(tc, test_forget_server);
	tcase_add_test(tc, test_retire);
	tcase_add_test(tc, test_foreach);
	tcase_add_test(tc, test_suspect);
	tcase_add_test(tc, test_new_args);
	suite_add_tcase(s, tc);
	return s;
}
