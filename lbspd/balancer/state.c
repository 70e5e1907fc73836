/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * state.c -- the balancer's state built from a configuration (see
 * balancer.h): vips, servers, targets and the legacy marks, sized by
 * what the configuration holds.  No I/O, no logging, no clock: time is
 * passed in, so that the unit tests build states of any size.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balancer/balancer.h"

/* ------------------------------------------------------------ targets */

static int
addr_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

size_t
balancer_target_table(const struct sp_conf *c, uint8_t (**tab)[16])
{
	uint8_t (*t)[16];
	size_t n = 0, cap = 0, i, j, k;

	*tab = NULL;
	for (i = 0; i < c->nvips; i++)
		cap += 2 * (size_t)c->vips[i].nservers;
	if (cap == 0)
		return 0;
	if ((t = malloc(cap * sizeof(*t))) == NULL)
		return SIZE_MAX;
	for (i = 0; i < c->nvips; i++) {
		const struct sp_conf_vip *v = &c->vips[i];

		for (j = 0; j < v->nservers; j++) {
			memcpy(t[n++], v->servers[j].addr, 16);
			if (v->servers[j].has_backup)
				memcpy(t[n++], v->servers[j].backup, 16);
		}
	}
	qsort(t, n, sizeof(*t), addr_cmp);
	for (i = 0, k = 0; i < n; i++)
		if (k == 0 || memcmp(t[k - 1], t[i], 16) != 0)
			memcpy(t[k++], t[i], 16);
	*tab = t;
	return k;
}

unsigned
balancer_conf_check(const struct sp_conf *c,
    void (*fn)(void *arg, const char *msg), void *arg)
{
	uint8_t (*tab)[16];
	size_t n;

	if (!(c->roles & SP_CONF_ROLE_BALANCER))
		return 0;
	n = balancer_target_table(c, &tab);
	free(tab);
	if (n == SIZE_MAX) {
		fn(arg, "out of memory for the balancer's target table");
		return 1;
	}
	if (n > LBSPD_LBMARK_TARGETS) {
		fn(arg, "more distinct server and backup addresses than a "
		    "legacy mark can name (16777215)");
		return 1;
	}
	return 0;
}

/*
 * Passive health reads the clients' retransmissions of a session's first
 * packet (decide.c): a client sends its SYN again 1 s after the first at
 * the earliest (RFC 6298 §2.1's initial RTO), and stops a few seconds
 * later: Linux with its defaults (tcp_syn_retries 6,
 * tcp_syn_linear_timeouts 4) sends the last 7 s after the first (63 s
 * on kernels without linear timeouts).
 */
#define PASSIVE_FIRST_RETRY_MS	1000u
#define PASSIVE_LAST_RETRY_MS	7000u

unsigned
balancer_conf_warnings(const struct sp_conf *c,
    void (*fn)(void *arg, const char *msg), void *arg)
{
	char msg[320], a[INET6_ADDRSTRLEN];
	unsigned i, n = 0;
	uint32_t ms;

	if (!(c->roles & SP_CONF_ROLE_BALANCER))
		return 0;
	for (i = 0; i < c->nvips; i++) {
		const struct sp_conf_vip *v = &c->vips[i];

		ms = v->passive_timeout_ms;
		if (v->nservers == 0 || ms == 0 ||
		    (ms >= PASSIVE_FIRST_RETRY_MS &&
		    ms <= PASSIVE_LAST_RETRY_MS))
			continue;
		inet_ntop(AF_INET6, v->addr, a, sizeof(a));
		if (ms < PASSIVE_FIRST_RETRY_MS)
			snprintf(msg, sizeof(msg), "vip %s: passive-timeout "
			    "%ums: passive health sees a session unanswered "
			    "when its client sends the first packet again, "
			    "1s after the first at the earliest: a silent "
			    "server is found after 1s, not %ums", a, ms, ms);
		else
			snprintf(msg, sizeof(msg), "vip %s: passive-timeout "
			    "%ums: a client sends an unanswered SYN again for "
			    "a few seconds only (Linux: the last 7s after "
			    "the first), and passive health sees a session "
			    "unanswered only while it does: sessions of "
			    "clients that stop sooner never show", a, ms);
		fn(arg, msg);
		n++;
	}
	return n;
}

/* A binary search over the sorted targets, written out: bsearch()'s
 * comparison through a pointer costs more than the search here, made
 * several times a packet. */
const struct lb_target *
balancer_target(const struct lb_vip *v, const uint8_t addr[16])
{
	size_t lo = 0, hi = v->ntargets, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = memcmp(addr, v->targets[mid].addr, 16);
		if (c == 0)
			return &v->targets[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

struct lb_server *
balancer_server(const struct lb_vip *v, const uint8_t addr[16])
{
	const struct lb_target *t = balancer_target(v, addr);

	if (t == NULL || t->server < 0)
		return NULL;
	return &v->servers[t->server];
}

struct lb_vip *
balancer_vip(const struct lb_state *lb, const uint8_t addr[16])
{
	const struct sp_conf_vip *cv;
	int k;

	if (lb == NULL)
		return NULL;
	cv = sp_conf_vip_find(lb->conf, addr);
	if (cv == NULL)
		return NULL;
	k = lb->by_conf[cv - lb->conf->vips];
	return k < 0 ? NULL : &lb->vips[k];
}

struct lb_vip *
balancer_vip_of(const struct lb_state *lb, const struct sp_conf *c,
    const struct sp_conf_vip *cv)
{
	int k;

	if (lb == NULL || cv == NULL)
		return NULL;
	if (c != lb->conf)	/* a reload between: look it up anew */
		return balancer_vip(lb, cv->addr);
	k = lb->by_conf[cv - c->vips];
	return k < 0 ? NULL : &lb->vips[k];
}

uint16_t
balancer_session_weight(const struct lb_state *lb, const struct lb_vip *v,
    uint16_t port)
{
	const struct sp_conf_vip *cv = &lb->conf->vips[v->index];
	unsigned i;

	for (i = 0; i < cv->nsession_weights; i++)
		if (cv->session_weights[i].port == port)
			return cv->session_weights[i].weight;
	return 1;
}

/* ------------------------------------------------------------ refresh */

static bool
server_up_open(const struct lb_server *s)
{
	return atomic_load_explicit(&s->up, memory_order_relaxed) &&
	    !atomic_load_explicit(&s->drain, memory_order_relaxed);
}

const uint8_t *
balancer_target_for_new(const struct lb_vip *v, const struct lb_server *s,
    bool *to_backup)
{
	const struct lb_server *b;

	if (server_up_open(s))
		return s->s.addr;
	if (!s->has_backup)
		return NULL;
	b = balancer_server(v, s->backup);
	if (b != NULL && !server_up_open(b))
		return NULL;
	if (to_backup != NULL)
		*to_backup = true;
	return s->backup;
}

void
balancer_refresh(struct lb_vip *v)
{
	unsigned i;

	for (i = 0; i < v->nservers; i++)
		atomic_store_explicit(&v->servers[i].up,
		    sp_health_up(&v->servers[i].health),
		    memory_order_relaxed);
	for (i = 0; i < v->nservers; i++) {
		struct lb_server *s = &v->servers[i];
		struct sp_sched_server *w = &v->view[i];

		*w = s->s;
		/* The server itself, or its backup, takes new sessions. */
		w->eligible = balancer_target_for_new(v, s, NULL) != NULL;
		w->reachable = sp_health_up(&s->health);
		w->rtt_us = s->health.rtt_us;
		w->sessions = atomic_load_explicit(&s->sessions,
		    memory_order_relaxed);
		w->load = atomic_load_explicit(&s->load, memory_order_relaxed);
		w->traffic = balancer_traffic(s);
		w->agent_load = atomic_load_explicit(&s->agent_load,
		    memory_order_relaxed);
	}
	/* Out of memory: maglev falls back to rendezvous hashing, the
	 * others need nothing from update. */
	(void)sp_sched_update(v->sched, v->view, v->nservers);
}

/* ------------------------------------------------------------ build */

/* A mutex that spins a little before it sleeps: every hold here is a
 * table lookup or a pick, shorter than a sleep and a wake-up. */
void
balancer_mutex_init(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
#ifdef PTHREAD_MUTEX_ADAPTIVE_NP
	(void)pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
	pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
}

struct lb_stick *
balancer_stick_new(const struct sp_conf *c, const uint8_t secret[16])
{
	struct lb_stick *st = calloc(1, sizeof(*st));
	size_t per = (c->max_stick + LB_STICK_STRIPES - 1) / LB_STICK_STRIPES;
	unsigned i;

	if (st == NULL)
		return NULL;
	for (i = 0; i < LB_STICK_STRIPES; i++) {
		st->stripe[i].table = sp_stick_table_new(per ? per : 1,
		    c->stick_ttl_ms / 1000, secret);
		if (st->stripe[i].table == NULL) {
			while (i-- > 0)
				sp_stick_table_free(st->stripe[i].table);
			free(st);
			return NULL;
		}
		balancer_mutex_init(&st->stripe[i].lock);
	}
	return st;
}

void
balancer_stick_free(struct lb_stick *st)
{
	unsigned i;

	if (st == NULL)
		return;
	for (i = 0; i < LB_STICK_STRIPES; i++) {
		sp_stick_table_free(st->stripe[i].table);
		pthread_mutex_destroy(&st->stripe[i].lock);
	}
	free(st);
}

uint64_t
balancer_stick_hash(const struct lb_stick *st, const struct sp_stick_key *k)
{
	/* Every stripe's table has the daemon's secret: one hash for all. */
	return sp_stick_hash(st->stripe[0].table, k);
}

/* The stripe of a key's hash: its high bits (the table inside uses the
 * low ones for its bucket, so every bucket of a stripe is used). */
static struct lb_stick_stripe *
stripe_of(struct lb_stick *st, uint64_t hash)
{
	return &st->stripe[(hash >> 32) % LB_STICK_STRIPES];
}

bool
balancer_stick_lookup(struct lb_stick *st, const struct sp_stick_key *k,
    uint64_t hash, uint64_t now_ms, uint8_t server[16])
{
	struct lb_stick_stripe *s = stripe_of(st, hash);
	bool hit;

	pthread_mutex_lock(&s->lock);
	hit = sp_stick_lookup_hashed(s->table, k, hash, now_ms, server);
	pthread_mutex_unlock(&s->lock);
	return hit;
}

bool
balancer_stick_set(struct lb_stick *st, const struct sp_stick_key *k,
    uint64_t hash, const uint8_t server[16], uint64_t now_ms)
{
	struct lb_stick_stripe *s = stripe_of(st, hash);
	bool retired;

	pthread_mutex_lock(&s->lock);
	retired = sp_stick_set_hashed(s->table, k, hash, server, now_ms);
	pthread_mutex_unlock(&s->lock);
	return retired;
}

size_t
balancer_stick_count(struct lb_stick *st)
{
	size_t n = 0;
	unsigned i;

	for (i = 0; i < LB_STICK_STRIPES; i++) {
		pthread_mutex_lock(&st->stripe[i].lock);
		n += sp_stick_count(st->stripe[i].table);
		pthread_mutex_unlock(&st->stripe[i].lock);
	}
	return n;
}

size_t
balancer_stick_expire(struct lb_stick *st, uint64_t now_ms, size_t max)
{
	size_t n = 0;
	unsigned i;

	for (i = 0; i < LB_STICK_STRIPES; i++) {
		pthread_mutex_lock(&st->stripe[i].lock);
		n += sp_stick_expire(st->stripe[i].table, now_ms, max);
		pthread_mutex_unlock(&st->stripe[i].lock);
	}
	return n;
}

/* A batch of copies, filled under a stripe's lock. */
struct stick_batch {
	struct sp_stick_entry *rows;	/* LB_STICK_BATCH */
	size_t n;
};

static int
stick_copy(const struct sp_stick_entry *e, void *arg)
{
	struct stick_batch *b = arg;

	b->rows[b->n++] = *e;
	return 0;
}

int
balancer_stick_foreach(struct lb_stick *st,
    int (*fn)(const struct sp_stick_entry *, void *), void *arg)
{
	struct stick_batch b;
	size_t cursor, k;
	unsigned i;
	bool done;

	if (st == NULL)
		return 0;
	b.rows = malloc(LB_STICK_BATCH * sizeof(*b.rows));
	if (b.rows == NULL)
		return -1;
	for (i = 0; i < LB_STICK_STRIPES; i++) {
		cursor = 0;
		do {
			b.n = 0;
			pthread_mutex_lock(&st->stripe[i].lock);
			(void)sp_stick_walk(st->stripe[i].table, &cursor,
			    LB_STICK_BATCH, stick_copy, &b);
			done = sp_stick_walk_done(st->stripe[i].table, cursor);
			pthread_mutex_unlock(&st->stripe[i].lock);
			for (k = 0; k < b.n; k++)
				if (fn(&b.rows[k], arg) != 0) {
					free(b.rows);
					return 0;
				}
		} while (!done);
	}
	free(b.rows);
	return 0;
}

static void
vip_clear(struct lb_vip *v)
{
	sp_sched_free(v->sched);
	free(v->view);
	free(v->servers);
	free(v->targets);
	pthread_mutex_destroy(&v->lock);
}

void
balancer_state_free(struct lb_state *lb)
{
	unsigned i;

	if (lb == NULL)
		return;
	for (i = 0; i < lb->nvips; i++)
		vip_clear(&lb->vips[i]);
	free(lb->vips);
	free(lb->by_conf);
	free(lb);
}

/* Whether the algorithm reads the servers' figures (sessions, load,
 * traffic, rtt, agent load) rather than only eligibility and weights. */
static bool
sched_reads_figures(enum sp_conf_scheduler kind)
{
	switch (kind) {
	case SP_CONF_SCHED_RR:
	case SP_CONF_SCHED_WRR:
	case SP_CONF_SCHED_HASH:
	case SP_CONF_SCHED_MAGLEV:
		return false;
	default:
		return true;
	}
}

/* A server that stays: its health, figures and counters. */
static void
server_keep(struct lb_server *s, struct lb_server *os)
{
	s->health = os->health;
	s->probing = os->probing;
#define KEEP(f) atomic_store_explicit(&s->f, atomic_load_explicit(&os->f, \
    memory_order_relaxed), memory_order_relaxed)
	KEEP(packets);
	KEEP(bytes);
	KEEP(traffic_base);
	KEEP(sessions_total);
	KEEP(sessions);
	KEEP(load);
	KEEP(agent_load);
	KEEP(agent_seen_ms);
#undef KEEP
}

/* By address, a server before a standby host of the same address. */
static int
target_cmp(const void *a, const void *b)
{
	const struct lb_target *x = a, *y = b;
	int c = memcmp(x->addr, y->addr, 16);

	return c != 0 ? c : (x->server < 0) - (y->server < 0);
}

/* The vip's targets: servers, and backups that are none of them
 * (standby hosts), each address once; sorted; marked. */
static int
vip_targets(struct lb_vip *v, const struct sp_conf_vip *cv,
    uint8_t (*tab)[16], size_t ntab)
{
	unsigned i, n = 0;

	v->targets = calloc(2 * (size_t)cv->nservers, sizeof(*v->targets));
	if (v->targets == NULL)
		return -1;
	for (i = 0; i < cv->nservers; i++) {
		memcpy(v->targets[n].addr, cv->servers[i].addr, 16);
		v->targets[n++].server = (int)i;
		if (cv->servers[i].has_backup) {
			memcpy(v->targets[n].addr, cv->servers[i].backup, 16);
			v->targets[n++].server = -1;
		}
	}
	qsort(v->targets, n, sizeof(*v->targets), target_cmp);
	v->ntargets = 0;
	for (i = 0; i < n; i++)
		if (v->ntargets == 0 || memcmp(v->targets[v->ntargets - 1].addr,
		    v->targets[i].addr, 16) != 0)
			v->targets[v->ntargets++] = v->targets[i];
	for (i = 0; i < v->ntargets; i++) {
		const uint8_t (*at)[16] = bsearch(v->targets[i].addr, tab, ntab,
		    sizeof(*tab), addr_cmp);

		/* The table holds every target of the configuration. */
		v->targets[i].mark = at == NULL ? 0 :
		    LBSPD_LBMARK_MAKE((size_t)(at - tab));
	}
	return 0;
}

static int
vip_build(struct lb_vip *v, const struct sp_conf_vip *cv, unsigned index,
    struct lb_state *old, const uint8_t secret[16], uint64_t now,
    uint8_t (*tab)[16], size_t ntab)
{
	struct lb_vip *ov = old != NULL ? balancer_vip(old, cv->addr) : NULL;
	unsigned j;

	memcpy(v->addr, cv->addr, 16);
	v->index = index;
	v->kind = cv->scheduler;
	v->check = cv->check;
	v->passive_timeout_ms = cv->passive_timeout_ms;
	v->dead_retry_ms = cv->dead_retry_ms;
	v->window_ms = cv->window_ms;
	v->window_start_ms = ov != NULL ? ov->window_start_ms : now;
	v->view_figures = sched_reads_figures(cv->scheduler);
	balancer_mutex_init(&v->lock);
	v->nservers = cv->nservers;
	v->servers = calloc(cv->nservers, sizeof(*v->servers));
	v->view = calloc(cv->nservers, sizeof(*v->view));
	v->sched = sp_sched_new(cv->scheduler, secret);
	if (v->servers == NULL || v->view == NULL || v->sched == NULL ||
	    vip_targets(v, cv, tab, ntab) == -1)
		return -1;
	if (ov != NULL)
		pthread_mutex_lock(&ov->lock);
	for (j = 0; j < cv->nservers; j++) {
		const struct sp_conf_server *cs = &cv->servers[j];
		struct lb_server *s = &v->servers[j], *os;

		memcpy(s->s.addr, cs->addr, 16);
		s->s.weight = cs->weight;
		s->s.cost = cs->cost;
		atomic_init(&s->agent_load, SP_SCHED_UNKNOWN);
		os = ov != NULL ? balancer_server(ov, cs->addr) : NULL;
		if (os != NULL) {
			server_keep(s, os);
			sp_health_configure(&s->health, &cv->check,
			    cv->dead_retry_ms, cv->passive_timeout_ms);
		} else {
			sp_health_init(&s->health, &cv->check,
			    cv->dead_retry_ms, cv->passive_timeout_ms, now);
		}
		atomic_store(&s->drain, cs->drain);
		s->has_backup = cs->has_backup;
		memcpy(s->backup, cs->backup, 16);
	}
	if (ov != NULL)
		pthread_mutex_unlock(&ov->lock);
	balancer_refresh(v);
	return 0;
}

struct lb_state *
balancer_state_new(const struct sp_conf *c, struct lb_state *old,
    struct lb_stick *stick, const uint8_t secret[16], uint64_t now_ms,
    bool *err)
{
	struct lb_state *lb;
	uint8_t (*tab)[16] = NULL;
	size_t ntab;
	unsigned i, n = 0;

	*err = false;
	if (!(c->roles & SP_CONF_ROLE_BALANCER))
		return NULL;
	*err = true;
	if ((lb = calloc(1, sizeof(*lb))) == NULL)
		return NULL;
	lb->conf = c;
	lb->stick = stick;
	for (i = 0; i < c->nvips; i++)
		n += c->vips[i].nservers > 0;
	lb->vips = calloc(n ? n : 1, sizeof(*lb->vips));
	lb->by_conf = calloc(c->nvips ? c->nvips : 1, sizeof(*lb->by_conf));
	ntab = balancer_target_table(c, &tab);
	if (lb->vips == NULL || lb->by_conf == NULL || ntab == SIZE_MAX)
		goto fail;
	for (i = 0; i < c->nvips; i++) {
		const struct sp_conf_vip *cv = &c->vips[i];

		lb->by_conf[i] = -1;
		if (cv->nservers == 0)
			continue;	/* a client vip, not ours */
		lb->by_conf[i] = (int)lb->nvips;
		if (vip_build(&lb->vips[lb->nvips++], cv, i, old, secret,
		    now_ms, tab, ntab) == -1)
			goto fail;
	}
	free(tab);
	*err = false;
	return lb;
fail:
	free(tab);
	balancer_state_free(lb);
	return NULL;
}
