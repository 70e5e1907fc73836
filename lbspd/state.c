/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * state.c -- how the daemon's threads share its state (doc/design.md,
 * "Threads and locks"): configuration and identity snapshots freed after
 * a grace period, the flow table in shards, walks in bounded batches.
 *
 * Grace periods: each queue thread has a sequence number, odd while it
 * handles a batch of packets (and may hold snapshot pointers), even
 * while quiescent.  A grace period begins with a copy of every
 * number; it has passed once each thread that was odd then has moved
 * on.  The writer's release store of the new pointer, a full fence and
 * the copy, against the reader's odd store, a full fence and its load
 * of the pointer: either the reader saw the new pointer, or the writer
 * saw it odd and waits for it.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sp/siphash.h>

#include "lbspd.h"
#include "system/log.h"

#define RETIRE_WARN_MS	5000	/* an entry waiting longer is logged */

/* A copy of the readers' numbers, at the start of a grace period. */
struct grace {
	uint64_t seq[SP_CONF_MAX_QUEUES];
};

/* Something to free once its grace period has passed. */
struct lbspd_retired {
	struct lbspd_retired *next;
	void (*fn)(void *);
	void *ptr;
	struct grace g;
	uint64_t since_ms;	/* retired then, ms */
	bool warned;		/* logged as late */
};

static void
grace_begin(struct lbspd *d, struct grace *g)
{
	unsigned i;

	/* The new pointer (stored before) is visible to a reader that
	 * enters after this; one that entered before is seen odd. */
	atomic_thread_fence(memory_order_seq_cst);
	for (i = 0; i < SP_CONF_MAX_QUEUES; i++)
		g->seq[i] = atomic_load_explicit(&d->readers[i].seq,
		    memory_order_acquire);
}

static bool
grace_passed(struct lbspd *d, const struct grace *g)
{
	unsigned i;

	for (i = 0; i < SP_CONF_MAX_QUEUES; i++)
		if ((g->seq[i] & 1) != 0 &&
		    atomic_load_explicit(&d->readers[i].seq,
		    memory_order_acquire) == g->seq[i])
			return false;
	return true;
}

bool
lbspd_synchronize(struct lbspd *d, unsigned timeout_ms)
{
	struct timespec pause = { .tv_nsec = 200000 };	/* 0.2 ms */
	uint64_t start = sp_now_ms();
	struct grace g;

	grace_begin(d, &g);
	while (!grace_passed(d, &g)) {
		if (sp_now_ms() - start >= timeout_ms) {
			log_warnx("a queue thread did not pass a quiescent "
			    "point in %u ms: the old state is kept", timeout_ms);
			return false;
		}
		nanosleep(&pause, NULL);
	}
	return true;
}

void
lbspd_retire(struct lbspd *d, void (*fn)(void *), void *ptr)
{
	struct lbspd_retired *r;

	if (ptr == NULL)
		return;
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		/* No room to queue it: wait here instead (bounded; on time
		 * out it is leaked rather than freed early). */
		if (lbspd_synchronize(d, 1000))
			fn(ptr);
		return;
	}
	r->fn = fn;
	r->ptr = ptr;
	r->since_ms = sp_now_ms();
	grace_begin(d, &r->g);
	r->next = d->retired;
	d->retired = r;
	lbspd_reclaim(d, false);
}

void
lbspd_reclaim(struct lbspd *d, bool all)
{
	struct lbspd_retired **rp = &d->retired, *r;
	uint64_t now = sp_now_ms();

	while ((r = *rp) != NULL) {
		if (all || grace_passed(d, &r->g)) {
			*rp = r->next;
			r->fn(r->ptr);
			free(r);
			continue;
		}
		if (!r->warned && now - r->since_ms >= RETIRE_WARN_MS) {
			log_warnx("a queue thread has not passed a quiescent "
			    "point for %u ms: old state not freed yet",
			    RETIRE_WARN_MS);
			r->warned = true;
		}
		rp = &r->next;
	}
}

static void
conf_free(void *ptr)
{
	sp_conf_free(ptr);
}

struct sp_conf *
lbspd_conf_publish(struct lbspd *d, struct sp_conf *nc)
{
	return atomic_exchange_explicit(&d->conf, nc, memory_order_acq_rel);
}

int
lbspd_identity_set(struct lbspd *d, const uint8_t addr[16], uint64_t now_ms)
{
	struct lbspd_identity *id = malloc(sizeof(*id));
	const struct lbspd_identity *old;

	if (id == NULL)
		return -1;
	memcpy(id->addr, addr, 16);
	id->born_ms = now_ms;
	old = atomic_exchange_explicit(&d->ident, id, memory_order_acq_rel);
	lbspd_retire(d, free, (void *)(uintptr_t)old);
	return 0;
}

/* ---------------------------------------------------------------- flows */

struct lbspd_flows *
lbspd_flows_of(struct lbspd *d, const uint8_t src[16])
{
	if (d->nflows == 1)
		return &d->flows[0];
	return &d->flows[sp_siphash24(d->secret, src, 16) % d->nflows];
}

struct lbspd_flows *
lbspd_flows_lock(struct lbspd *d, const uint8_t src[16])
{
	struct lbspd_flows *s = lbspd_flows_of(d, src);

	pthread_mutex_lock(&s->lock);
	return s;
}

/* A batch of copies, filled under a shard's lock. */
struct flow_batch {
	struct sp_flow *rows;	/* LBSPD_BATCH */
	size_t n;
};

static int
flow_copy(const struct sp_flow *f, void *arg)
{
	struct flow_batch *b = arg;

	b->rows[b->n++] = *f;
	return 0;
}

int
lbspd_flows_foreach(struct lbspd *d,
    int (*fn)(const struct sp_flow *, void *), void *arg)
{
	struct flow_batch b;
	unsigned i;
	size_t cursor, k;
	bool done;

	b.rows = malloc(LBSPD_BATCH * sizeof(*b.rows));
	if (b.rows == NULL)
		return -1;
	for (i = 0; i < d->nflows; i++) {
		struct lbspd_flows *s = &d->flows[i];

		cursor = 0;
		do {
			b.n = 0;
			pthread_mutex_lock(&s->lock);
			(void)sp_flow_walk(s->table, &cursor, LBSPD_BATCH,
			    flow_copy, &b);
			done = sp_flow_walk_done(s->table, cursor);
			pthread_mutex_unlock(&s->lock);
			for (k = 0; k < b.n; k++)
				if (fn(&b.rows[k], arg) != 0)
					goto out;
		} while (!done);
	}
out:
	free(b.rows);
	return 0;
}

size_t
lbspd_flows_count(struct lbspd *d)
{
	size_t n = 0;
	unsigned i;

	for (i = 0; i < d->nflows; i++) {
		pthread_mutex_lock(&d->flows[i].lock);
		n += sp_flow_count(d->flows[i].table);
		pthread_mutex_unlock(&d->flows[i].lock);
	}
	return n;
}

size_t
lbspd_flows_expire(struct lbspd *d, uint64_t now_ms, size_t max)
{
	size_t n = 0, got;
	unsigned i;

	for (i = 0; i < d->nflows; i++) {
		do {
			pthread_mutex_lock(&d->flows[i].lock);
			got = sp_flow_expire(d->flows[i].table, now_ms,
			    LBSPD_BATCH);
			pthread_mutex_unlock(&d->flows[i].lock);
			n += got;
		} while (got == LBSPD_BATCH && n < max);
	}
	return n;
}

int
lbspd_flows_set_source_limit(struct lbspd *d, uint32_t max)
{
	unsigned i;
	int rc = 0;

	for (i = 0; i < d->nflows; i++) {
		pthread_mutex_lock(&d->flows[i].lock);
		if (sp_flow_table_set_source_limit(d->flows[i].table, max) ==
		    -1)
			rc = -1;
		pthread_mutex_unlock(&d->flows[i].lock);
	}
	return rc;
}

size_t
lbspd_flows_source_count(struct lbspd *d, const uint8_t src[16])
{
	struct lbspd_flows *s = lbspd_flows_lock(d, src);
	size_t n = sp_flow_source_count(s->table, src);

	lbspd_flows_unlock(s);
	return n;
}

/* ---------------------------------------------------------------- cache */

struct cache_batch {
	struct sp_cache_entry *rows;	/* LBSPD_BATCH */
	size_t n;
};

static int
cache_copy(const struct sp_cache_entry *e, void *arg)
{
	struct cache_batch *b = arg;

	b->rows[b->n++] = *e;
	return 0;
}

int
lbspd_cache_foreach(struct lbspd *d,
    int (*fn)(const struct sp_cache_entry *, void *), void *arg)
{
	struct cache_batch b;
	size_t cursor = 0, k;
	bool done;

	if (d->cache == NULL)
		return 0;
	b.rows = malloc(LBSPD_BATCH * sizeof(*b.rows));
	if (b.rows == NULL)
		return -1;
	do {
		b.n = 0;
		pthread_mutex_lock(&d->cache_lock);
		(void)sp_cache_walk(d->cache, &cursor, LBSPD_BATCH, cache_copy,
		    &b);
		done = sp_cache_walk_done(d->cache, cursor);
		pthread_mutex_unlock(&d->cache_lock);
		for (k = 0; k < b.n; k++)
			if (fn(&b.rows[k], arg) != 0)
				goto out;
	} while (!done);
out:
	free(b.rows);
	return 0;
}

size_t
lbspd_cache_expire(struct lbspd *d, uint64_t now_ms, size_t max)
{
	size_t n = 0, got;

	if (d->cache == NULL)
		return 0;
	do {
		pthread_mutex_lock(&d->cache_lock);
		got = sp_cache_expire(d->cache, now_ms, LBSPD_BATCH);
		pthread_mutex_unlock(&d->cache_lock);
		n += got;
	} while (got == LBSPD_BATCH && n < max);
	return n;
}

/* ---------------------------------------------------------------- life */

static struct sp_flow_timeouts
flow_timeouts(const struct sp_conf *c)
{
	struct sp_flow_timeouts t;

	t.tcp_established_s = c->timeout_tcp_established_ms / 1000;
	t.tcp_s = c->timeout_tcp_ms / 1000;
	t.udp_s = c->timeout_udp_ms / 1000;
	t.other_s = c->timeout_other_ms / 1000;
	t.linger_s = c->timeout_linger_ms / 1000;
	return t;
}

int
lbspd_state_init(struct lbspd *d, struct sp_conf *conf)
{
	struct sp_flow_timeouts to = flow_timeouts(conf);
	static const uint8_t zero[16];
	size_t per;
	unsigned i;

	pthread_mutex_init(&d->admin, NULL);
	pthread_mutex_init(&d->cache_lock, NULL);
	pthread_mutex_init(&d->pending_lock, NULL);
	pthread_mutex_init(&d->blackhole_lock, NULL);
	atomic_store_explicit(&d->conf, conf, memory_order_release);
	if (lbspd_identity_set(d, zero, sp_now_ms()) == -1)
		return -1;
	/* One shard per queue; max-flows is shared out between them.
	 * The client role's flows are all keyed from this host's own
	 * address, so all in one shard: with that role one shard holds
	 * them all, or they would get max-flows / queues. */
	d->nflows = conf->queue_count > 1 &&
	    !(conf->roles & SP_CONF_ROLE_CLIENT) ? conf->queue_count : 1;
	d->flows = calloc(d->nflows, sizeof(*d->flows));
	if (d->flows == NULL) {
		d->nflows = 0;
		return -1;
	}
	per = (conf->max_flows + d->nflows - 1) / d->nflows;
	for (i = 0; i < d->nflows; i++) {
		pthread_mutex_init(&d->flows[i].lock, NULL);
		d->flows[i].table = sp_flow_table_new(per, &to, d->secret);
		if (d->flows[i].table == NULL)
			return -1;
	}
	d->cache = sp_cache_table_new(conf->max_cache,
	    conf->cache_ttl_ms / 1000, d->secret);
	d->pending.ring = calloc(LBSPD_PENDING_MAX, sizeof(*d->pending.ring));
	d->pending.cap = LBSPD_PENDING_MAX;
	if (d->cache == NULL || d->pending.ring == NULL)
		return -1;
	return 0;
}

void
lbspd_state_free(struct lbspd *d)
{
	unsigned i;

	lbspd_reclaim(d, true);
	for (i = 0; i < d->nflows; i++) {
		sp_flow_table_free(d->flows[i].table);
		pthread_mutex_destroy(&d->flows[i].lock);
	}
	free(d->flows);
	sp_cache_table_free(d->cache);
	free(d->pending.ring);
	free((void *)(uintptr_t)lbspd_identity(d));
	conf_free(lbspd_conf_publish(d, NULL));
	pthread_mutex_destroy(&d->blackhole_lock);
	pthread_mutex_destroy(&d->pending_lock);
	pthread_mutex_destroy(&d->cache_lock);
	pthread_mutex_destroy(&d->admin);
}
