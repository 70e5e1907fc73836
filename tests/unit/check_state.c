/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_state.c -- how lbspd's threads share state (lbspd/state.c):
 * grace periods (nothing retired is freed while a queue thread that
 * may hold it is inside a batch, with reader threads racing a writer),
 * the bounded wait of lbspd_synchronize(), and the flow table in
 * shards walked in batches.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include <sp/conf.h>
#include <sp/flow.h>

#include "lbspd.h"
#include "testpkt.h"

#define MAGIC	0x5eed5eedu
#define DEAD	0xdeaddeadu

/* A snapshot as the queue threads see one. */
struct obj {
	_Atomic uint32_t magic;
	struct obj *next;		/* on the graveyard */
};

static struct obj *_Atomic current;
static struct obj *graveyard;		/* "freed": poisoned, kept */
static pthread_mutex_t grave_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic bool stop;
static _Atomic uint64_t seen_dead, batches;

/* lbspd_retire()'s fn: poison and keep, so that a reader still
 * holding it sees DEAD (without a use after free). */
static void
poison(void *ptr)
{
	struct obj *o = ptr;

	atomic_store(&o->magic, DEAD);
	pthread_mutex_lock(&grave_lock);
	o->next = graveyard;
	graveyard = o;
	pthread_mutex_unlock(&grave_lock);
}

struct reader_arg {
	struct lbspd *d;
	unsigned idx;
};

/* A queue thread: batches that hold the snapshot a while. */
static void *
reader(void *arg)
{
	struct reader_arg *a = arg;
	unsigned i;

	while (!atomic_load(&stop)) {
		struct obj *o;

		lbspd_reader_enter(a->d, a->idx);
		o = atomic_load_explicit(&current, memory_order_acquire);
		for (i = 0; i < 2000; i++)
			if (atomic_load_explicit(&o->magic,
			    memory_order_relaxed) != MAGIC)
				atomic_fetch_add(&seen_dead, 1);
		lbspd_reader_leave(a->d, a->idx);
		atomic_fetch_add(&batches, 1);
	}
	return NULL;
}

static struct obj *
obj_new(void)
{
	struct obj *o = calloc(1, sizeof(*o));

	ck_assert_ptr_nonnull(o);
	atomic_store(&o->magic, MAGIC);
	return o;
}

static void
graveyard_free(void)
{
	struct obj *o;

	while ((o = graveyard) != NULL) {
		graveyard = o->next;
		free(o);
	}
}

/* Readers on three "queues" race 20000 replacements: none ever sees a
 * retired snapshot poisoned, and every one is freed in the end. */
START_TEST(grace_period_race)
{
	struct lbspd *d = calloc(1, sizeof(*d));
	struct reader_arg ra[3];
	pthread_t th[3];
	unsigned i, n = 0;
	uint64_t dead;
	struct obj *o;

	ck_assert_ptr_nonnull(d);
	atomic_store(&current, obj_new());
	for (i = 0; i < 3; i++) {
		ra[i].d = d;
		ra[i].idx = i * 5;	/* any slot */
		ck_assert_int_eq(pthread_create(&th[i], NULL, reader, &ra[i]),
		    0);
	}
	for (i = 0; i < 20000; i++) {
		o = atomic_exchange_explicit(&current, obj_new(),
		    memory_order_acq_rel);
		lbspd_retire(d, poison, o);
		if (i % 64 == 0)
			lbspd_reclaim(d, false);
	}
	atomic_store(&stop, true);
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	dead = atomic_load(&seen_dead);
	ck_assert_uint_eq(dead, 0);
	ck_assert_uint_gt(atomic_load(&batches), 0);
	lbspd_reclaim(d, false);	/* all quiescent now */
	ck_assert_ptr_null(d->retired);
	for (o = graveyard; o != NULL; o = o->next)
		n++;
	ck_assert_uint_eq(n, 20000);
	graveyard_free();
	free(atomic_load(&current));
	free(d);
}
END_TEST

/* A thread inside a batch holds everything retired after it entered;
 * lbspd_synchronize() gives up, in time, and says so. */
START_TEST(grace_period_held)
{
	struct lbspd *d = calloc(1, sizeof(*d));
	struct obj *o = obj_new(), *before = obj_new();
	uint64_t t;

	ck_assert_ptr_nonnull(d);
	/* Quiescent readers: retired and freed at once. */
	ck_assert(lbspd_synchronize(d, 100));
	lbspd_retire(d, poison, before);
	ck_assert_ptr_null(d->retired);
	ck_assert_uint_eq(atomic_load(&before->magic), DEAD);

	lbspd_reader_enter(d, 2);
	lbspd_retire(d, poison, o);
	ck_assert_ptr_nonnull(d->retired);
	lbspd_reclaim(d, false);
	ck_assert_uint_eq(atomic_load(&o->magic), MAGIC);
	t = sp_now_ms();
	ck_assert(!lbspd_synchronize(d, 50));
	ck_assert_uint_ge(sp_now_ms() - t, 50);
	ck_assert_uint_lt(sp_now_ms() - t, 5000);
	/* Leaving and entering again is passing a quiescent point. */
	lbspd_reader_leave(d, 2);
	lbspd_reader_enter(d, 2);
	lbspd_reclaim(d, false);
	ck_assert_ptr_null(d->retired);
	ck_assert_uint_eq(atomic_load(&o->magic), DEAD);
	lbspd_reader_leave(d, 2);
	ck_assert(lbspd_synchronize(d, 50));
	/* all: the queue threads are gone. */
	lbspd_reader_enter(d, 0);
	o = obj_new();
	lbspd_retire(d, poison, o);
	ck_assert_uint_eq(atomic_load(&o->magic), MAGIC);
	lbspd_reclaim(d, true);
	ck_assert_uint_eq(atomic_load(&o->magic), DEAD);
	graveyard_free();
	free(d);
}
END_TEST

/* ------------------------------------------------------------ flows */

static struct lbspd *
daemon_new(const char *text)
{
	struct lbspd *d = calloc(1, sizeof(*d));
	struct sp_conf *c = sp_conf_new();
	unsigned i;

	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(sp_conf_parse(text, strlen(text), "t", c, NULL,
	    NULL), 0);
	for (i = 0; i < 16; i++)
		d->secret[i] = (uint8_t)i;
	ck_assert_int_eq(lbspd_state_init(d, c), 0);
	return d;
}

static int
count_flow(const struct sp_flow *f, void *arg)
{
	unsigned *seen = arg;

	seen[f->key.sport]++;
	return 0;
}

static int
stop_at_ten(const struct sp_flow *f, void *arg)
{
	unsigned *n = arg;

	(void)f;
	return ++*n == 10;
}

/* Two queues, two shards; a source's flows in one; the walk sees every
 * flow once, in batches; expiry and counts span the shards. */
START_TEST(flow_shards)
{
	struct lbspd *d = daemon_new("role server\nqueue 0-1\n"
	    "max-flows 4000\nmax-flows-per-source 1000\n");
	static unsigned seen[1000];
	uint8_t src[16], dst[16];
	struct lbspd_flows *fs;
	unsigned i, used[2] = { 0, 0 }, n = 0;

	ck_assert_uint_eq(d->nflows, 2);
	ck_assert_int_eq(lbspd_flows_set_source_limit(d, 1000), 0);
	tp_addr(dst, 0, 0xffff);
	for (i = 0; i < 1000; i++) {
		struct sp_flow_key k;

		tp_addr(src, 0, i % 50);
		k = sp_flow_key_5tuple(src, dst, 6, (uint16_t)i, 80);
		fs = lbspd_flows_lock(d, src);
		ck_assert_ptr_eq(fs, lbspd_flows_of(d, src));
		used[fs - d->flows]++;
		ck_assert_ptr_nonnull(sp_flow_insert(fs->table, &k, 1000,
		    NULL));
		lbspd_flows_unlock(fs);
	}
	/* 50 sources over 2 shards: both used (by the keyed hash). */
	ck_assert_uint_gt(used[0], 0);
	ck_assert_uint_gt(used[1], 0);
	ck_assert_uint_eq(lbspd_flows_count(d), 1000);
	tp_addr(src, 0, 7);
	ck_assert_uint_eq(lbspd_flows_source_count(d, src), 20);

	memset(seen, 0, sizeof(seen));
	ck_assert_int_eq(lbspd_flows_foreach(d, count_flow, seen), 0);
	for (i = 0; i < 1000; i++)
		ck_assert_uint_eq(seen[i], 1);
	ck_assert_int_eq(lbspd_flows_foreach(d, stop_at_ten, &n), 0);
	ck_assert_uint_eq(n, 10);

	/* The per-source limit, on every shard. */
	ck_assert_int_eq(lbspd_flows_set_source_limit(d, 20), 0);
	{
		struct sp_flow_key k = sp_flow_key_5tuple(src, dst, 6, 5000,
		    80);

		fs = lbspd_flows_lock(d, src);
		ck_assert_ptr_null(sp_flow_insert(fs->table, &k, 1000, NULL));
		lbspd_flows_unlock(fs);
	}
	/* Idle past the TCP timeout: all go, in batches. */
	ck_assert_uint_eq(lbspd_flows_expire(d, 1000 + 3600 * 1000, 100000),
	    1000);
	ck_assert_uint_eq(lbspd_flows_count(d), 0);
	lbspd_state_free(d);
	free(d);
}
END_TEST

START_TEST(flow_one_shard)
{
	struct lbspd *d = daemon_new("role server\n");
	uint8_t a[16], b[16];

	ck_assert_uint_eq(d->nflows, 1);
	tp_addr(a, 0, 1);
	tp_addr(b, 0, 2);
	ck_assert_ptr_eq(lbspd_flows_of(d, a), lbspd_flows_of(d, b));
	ck_assert_ptr_nonnull(lbspd_identity(d));
	ck_assert_ptr_nonnull(lbspd_conf(d));
	lbspd_state_free(d);
	free(d);
	/* The client role's flows all come from this host's address: one
	 * shard, whatever the queues (max-flows not shared out). */
	d = daemon_new("role client\nrole server\nqueue 0-3\n"
	    "vip 2001:db8:f::1 {\n}\n");
	ck_assert_uint_eq(d->nflows, 1);
	lbspd_state_free(d);
	free(d);
}
END_TEST

static Suite *
state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("threads");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, grace_period_race);
	tcase_add_test(tc, grace_period_held);
	tcase_add_test(tc, flow_shards);
	tcase_add_test(tc, flow_one_shard);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(state_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
