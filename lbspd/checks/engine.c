/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine.c -- the health check engine (see checks.h); the probes
 * themselves are tcp.c, http.c and icmp.c.
 *
 * One thread.  Every CHECKS_TICK_MS:
 *   1. under d->admin (and each vip's lock around its servers' health),
 *      post the results of the probes that finished, run every
 *      server's passive clock (sp_health_tick) and refresh the vips
 *      whose servers changed; then, without the lock, log;
 *   2. under d->admin, collect the probes due (sp_health_probe_due) and
 *      mark them sent, copying what a probe needs so that no lock is
 *      held while waiting on the network; start them.
 * Between ticks, one poll() loop drives every probe in flight, each
 * bounded by its check's timeout (the configuration keeps it <= the
 * interval, so a server has at most one probe out: lb_server.probing).
 * Probes are not bound to a tick: a vip with a 5 s timeout never holds
 * up the 100 ms pace of the others, nor the passive clocks.
 *
 * Probes leave from this host to the server's own address (normal
 * routing, no bind): they never go to a vip.  The round trip (µs,
 * CLOCK_MONOTONIC) runs from the probe's start to its success:
 * connected, echo reply, or status line.
 *
 * Bounds: one probe in flight per server of the configuration (the
 * arrays grow with it); at most `slots` sockets open at once (from
 * RLIMIT_NOFILE, see checks_slots), the other probes wait for a free
 * one; every socket is closed when its probe ends, at the latest at
 * its timeout.  A probe that fails for a local reason (no file
 * descriptor, no buffer) has no result posted: the server is not
 * blamed for it, and is probed again at the next interval.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <sp/conf.h>
#include <sp/health.h>
#include "conf_priv.h"
#include "balancer/balancer.h"
#include "checks/checks.h"
#include "checks/probe.h"
#include "lbspd.h"
#include "system/log.h"

#define CHECKS_FD_RESERVE	256	/* descriptors left to the rest */
#define CHECKS_MIN_SLOTS	16	/* sockets at once, even with a low
					   limit */
#define CHECKS_MAX_SLOTS	65536	/* sockets at once, at most */

static struct checks *engine;


/* Local shortage rather than a server's fault. */
static bool
errno_local(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM || err == EAGAIN || err == EADDRNOTAVAIL ||
	    err == EINTR;
}

static const char *
check_name(enum sp_conf_check_type type)
{
	switch (type) {
	case SP_CONF_CHECK_TCP:
		return "tcp";
	case SP_CONF_CHECK_ICMP:
		return "icmp";
	case SP_CONF_CHECK_HTTP:
		return "http";
	case SP_CONF_CHECK_NONE:
		return "none";
	default:
		return "unknown";
	}
}

void
probe_close(struct checks *h, struct probe *p)
{
	if (p->fd != -1) {
		close(p->fd);
		p->fd = -1;
		h->open--;
	}
}

/* Success now: the round trip is read from the clock here. */
void
probe_succeed(struct checks *h, struct probe *p)
{
	uint64_t rtt = sp_now_us() - p->start_us;

	probe_close(h, p);
	p->ok = true;
	p->rtt_us = rtt >= UINT32_MAX ? UINT32_MAX - 1 : (uint32_t)rtt;
	p->phase = PROBE_DONE;
}

void
probe_fail(struct checks *h, struct probe *p, const char *why, int err)
{
	probe_close(h, p);
	p->ok = false;
	p->local = err > 0 && errno_local(err);
	p->why = why;
	p->err = err;
	p->phase = PROBE_DONE;
}

/* ---------------------------------------------------------------- setup */

static struct checks *
checks_alloc(struct lbspd *d)
{
	struct checks *h;

	if (engine != NULL)
		return engine;
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		log_warnx("health checks: out of memory");
		return NULL;
	}
	h->d = d;
	h->icmp_fd = -1;
	h->wake_fd = -1;
	if (getrandom(&h->icmp_id, sizeof(h->icmp_id), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(h->icmp_id))
		h->icmp_id = (uint16_t)(getpid() ^ sp_now_us());
	engine = h;
	return h;
}

/* Whether some vip of d has an icmp check (d->admin held). */
static bool
need_icmp(const struct lbspd *d)
{
	unsigned i;

	if (d->lb == NULL)
		return false;
	for (i = 0; i < d->lb->nvips; i++)
		if (d->lb->vips[i].check.type == SP_CONF_CHECK_ICMP)
			return true;
	return false;
}

int
checks_init(struct lbspd *d)
{
	struct checks *h;
	bool icmp;

	if ((h = checks_alloc(d)) == NULL)
		return -1;
	pthread_mutex_lock(&d->admin);
	icmp = need_icmp(d);
	pthread_mutex_unlock(&d->admin);
	if (!icmp || h->icmp_fd != -1)
		return 0;
	return icmp_open(h);
}

/* Servers of the configuration: one probe each at most. */
static size_t
servers_total(const struct lb_state *lb)
{
	size_t n = 0;
	unsigned i;

	for (i = 0; lb != NULL && i < lb->nvips; i++)
		n += lb->vips[i].nservers;
	return n;
}

/*
 * How many sockets may be open at once.  Raise the soft descriptor
 * limit towards what a full set of probes needs (no privilege needed up
 * to the hard limit), and leave CHECKS_FD_RESERVE to the rest of lbspd.
 */
static unsigned
checks_slots(size_t servers)
{
	struct rlimit rl;
	rlim_t want, avail;

	if (servers > CHECKS_MAX_SLOTS)
		servers = CHECKS_MAX_SLOTS;
	want = servers + 2 * CHECKS_FD_RESERVE;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return CHECKS_MIN_SLOTS;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		struct rlimit nrl = rl;

		nrl.rlim_cur = rl.rlim_max == RLIM_INFINITY ||
		    rl.rlim_max > want ? want : rl.rlim_max;
		if (nrl.rlim_cur > rl.rlim_cur &&
		    setrlimit(RLIMIT_NOFILE, &nrl) == 0)
			rl = nrl;
	}
	if (rl.rlim_cur == RLIM_INFINITY)
		return CHECKS_MAX_SLOTS;
	avail = rl.rlim_cur > 2 * CHECKS_FD_RESERVE ?
	    rl.rlim_cur - CHECKS_FD_RESERVE : rl.rlim_cur / 2;
	if (avail > CHECKS_MAX_SLOTS)
		return CHECKS_MAX_SLOTS;
	return avail < CHECKS_MIN_SLOTS ? CHECKS_MIN_SLOTS : (unsigned)avail;
}

/* Room for n probes (and their poll entries).  0, or -1. */
static int
probes_reserve(struct checks *h, size_t n)
{
	struct probe *p;
	struct pollfd *pfd;
	long *map;
	size_t cap;

	if (n <= h->cap)
		return 0;
	cap = h->cap ? h->cap : 64;
	while (cap < n)
		cap *= 2;
	if ((p = realloc(h->probes, cap * sizeof(*p))) == NULL)
		return -1;
	h->probes = p;
	if ((pfd = realloc(h->pfd, (cap + 2) * sizeof(*pfd))) == NULL)
		return -1;
	h->pfd = pfd;
	if ((map = realloc(h->pfd_probe, (cap + 2) * sizeof(*map))) == NULL)
		return -1;
	h->pfd_probe = map;
	h->cap = cap;
	return 0;
}

/* ---------------------------------------------------------------- collect */

/*
 * Under d->admin: append the probes due to those in flight, mark them
 * sent.  A server whose last probe is still out is skipped (only with a
 * timeout longer than the interval, which the parser refuses).
 */
static void
checks_collect(struct checks *h, uint64_t now_ms)
{
	struct lb_state *lb = h->d->lb;
	unsigned vi, si;

	if (lb == NULL)
		return;
	if (probes_reserve(h, servers_total(lb)) == -1) {
		log_warnx("health checks: out of memory; probing what fits");
		if (h->cap == 0)
			return;
	}
	for (vi = 0; vi < lb->nvips; vi++) {
		struct lb_vip *v = &lb->vips[vi];
		const struct sp_conf_check *c = &v->check;

		if (c->type == SP_CONF_CHECK_NONE)
			continue;
		if (c->type == SP_CONF_CHECK_ICMP && h->icmp_fd == -1) {
			if (!h->icmp_warned)
				log_warnx("health checks: icmp needs a "
				    "restart of lbspd (no icmp socket): "
				    "not probing");
			h->icmp_warned = true;
			continue;
		}
		pthread_mutex_lock(&v->lock);
		for (si = 0; si < v->nservers && h->nprobes < h->cap; si++) {
			struct lb_server *s = &v->servers[si];
			struct probe *p;

			if (s->probing ||
			    !sp_health_probe_due(&s->health, now_ms))
				continue;
			p = &h->probes[h->nprobes++];
			memset(p, 0, sizeof(*p));
			p->vi = vi;
			p->si = si;
			memcpy(p->vip, v->addr, 16);
			memcpy(p->addr, s->s.addr, 16);
			p->type = c->type;
			p->port = c->port;
			p->expect = c->expect;
			p->timeout_ms = c->timeout_ms;
			if (c->type == SP_CONF_CHECK_HTTP) {
				memcpy(p->path, c->path, sizeof(p->path));
				p->path[sizeof(p->path) - 1] = '\0';
			}
			p->fd = -1;
			p->phase = PROBE_WAITING;
			s->probing = true;
			sp_health_probe_sent(&s->health, now_ms);
		}
		pthread_mutex_unlock(&v->lock);
	}
}

/* ---------------------------------------------------------------- drive */

/* Start what waits: echoes at once, sockets while slots are free. */
static void
probes_start(struct checks *h)
{
	size_t i;

	for (i = 0; i < h->nprobes; i++) {
		struct probe *p = &h->probes[i];

		if (p->phase != PROBE_WAITING)
			continue;
		if (p->type == SP_CONF_CHECK_ICMP)
			icmp_send(h, p);
		else if (h->open < h->slots)
			tcp_start(h, p);
	}
}

/* Fail the probes past their deadline; returns the next deadline. */
static uint64_t
probes_expire(struct checks *h, uint64_t now_us)
{
	uint64_t first = UINT64_MAX;
	size_t i;

	for (i = 0; i < h->nprobes; i++) {
		struct probe *p = &h->probes[i];

		if (p->phase == PROBE_DONE || p->phase == PROBE_WAITING)
			continue;
		if (now_us >= p->deadline_us) {
			if (p->phase == PROBE_ECHO)
				h->echo_probe[p->seq] = 0;
			probe_fail(h, p, "timeout", 0);
		} else if (p->deadline_us < first)
			first = p->deadline_us;
	}
	return first;
}

/*
 * Wait for events until `until` (µs) at the latest and drive the probes
 * they concern.  Returns false when checks_stop woke us.
 */
static bool
probes_poll(struct checks *h, uint64_t now_us, uint64_t until)
{
	struct pollfd one[2];
	long one_map[2];
	struct pollfd *pfd = h->pfd != NULL ? h->pfd : one;
	long *map = h->pfd_probe != NULL ? h->pfd_probe : one_map;
	size_t i, npfd = 0;
	long icmp_pfd = -1;
	int r;

	pfd[npfd].fd = h->wake_fd;
	pfd[npfd].events = POLLIN;
	map[npfd++] = -1;
	if (h->icmp_fd != -1) {
		/* Always read: foreign replies must not pile up. */
		icmp_pfd = (long)npfd;
		pfd[npfd].fd = h->icmp_fd;
		pfd[npfd].events = POLLIN;
		map[npfd++] = -1;
	}
	for (i = 0; i < h->nprobes; i++) {
		struct probe *p = &h->probes[i];

		if (p->fd == -1)
			continue;
		pfd[npfd].fd = p->fd;
		pfd[npfd].events = p->phase == PROBE_READING ? POLLIN : POLLOUT;
		map[npfd++] = (long)i;
	}
	r = poll(pfd, npfd, until > now_us ?
	    (int)((until - now_us + 999) / 1000) : 0);
	if (atomic_load(&h->stop))
		return false;
	if (r == -1) {
		if (errno != EINTR) {
			log_warn("health checks: poll");
			/* Do not spin on it. */
			(void)poll(NULL, 0, CHECKS_TICK_MS);
		}
		return true;
	}
	if (icmp_pfd != -1 && pfd[icmp_pfd].revents != 0)
		icmp_receive(h);
	for (i = 0; i < npfd; i++) {
		if (map[i] < 0 || pfd[i].revents == 0)
			continue;
		tcp_ready(h, &h->probes[map[i]], pfd[i].revents);
	}
	return true;
}

/* Drop the probes whose results were posted, keeping the order. */
static void
probes_compact(struct checks *h)
{
	size_t i, j = 0;

	for (i = 0; i < h->nprobes; i++) {
		struct probe *p = &h->probes[i];

		if (p->phase == PROBE_DONE)
			continue;
		if (j != i) {
			h->probes[j] = *p;
			if (p->phase == PROBE_ECHO)
				h->echo_probe[p->seq] = (uint32_t)(j + 1);
		}
		j++;
	}
	h->nprobes = j;
}

static void
probes_abort(struct checks *h)
{
	size_t i;

	for (i = 0; i < h->nprobes; i++)
		probe_close(h, &h->probes[i]);
	h->nprobes = 0;
}

/* ---------------------------------------------------------------- post */

/* The server a probe was for, if the configuration still has it. */
static struct lb_server *
probe_server(struct lb_state *lb, const struct probe *p, struct lb_vip **vp)
{
	struct lb_vip *v;

	/* The same place as when collected, unless a reload moved it. */
	if (p->vi < lb->nvips) {
		v = &lb->vips[p->vi];
		if (memcmp(v->addr, p->vip, 16) == 0 &&
		    p->si < v->nservers &&
		    memcmp(v->servers[p->si].s.addr, p->addr, 16) == 0) {
			*vp = v;
			return &v->servers[p->si];
		}
	}
	if ((v = balancer_vip(lb, p->vip)) == NULL)
		return NULL;
	*vp = v;
	return balancer_server(v, p->addr);
}

static void
event_add(struct checks *h, const struct lb_vip *v, const struct lb_server *s)
{
	struct checks_event *e;

	if (h->nevents == h->events_cap) {
		size_t cap = h->events_cap ? 2 * h->events_cap : 64;

		e = realloc(h->events, cap * sizeof(*e));
		if (e == NULL)
			return;		/* not logged: out of memory */
		h->events = e;
		h->events_cap = cap;
	}
	e = &h->events[h->nevents++];
	memcpy(e->vip, v->addr, 16);
	memcpy(e->addr, s->s.addr, 16);
	e->up = sp_health_up(&s->health);
	e->why = s->health.state == SP_HEALTH_RETRY ? "retry" :
	    sp_health_reason_name(&s->health);
}

/*
 * Under d->admin: post the results of the probes done, run every
 * server's passive clock, refresh each vip that changed once.
 */
static void
checks_post(struct checks *h, uint64_t now_ms)
{
	struct lb_state *lb = h->d->lb;
	struct lb_server *s;
	struct lb_vip *v;
	unsigned vi, si;
	size_t i;
	bool dirty;

	h->nevents = 0;
	if (lb == NULL)
		return;
	for (i = 0; i < h->nprobes; i++) {
		struct probe *p = &h->probes[i];

		if (p->phase != PROBE_DONE ||
		    (s = probe_server(lb, p, &v)) == NULL)
			continue;
		pthread_mutex_lock(&v->lock);
		s->probing = false;
		if (!p->local) {
			if (sp_health_probe_result(&s->health, p->ok,
			    p->rtt_us, now_ms)) {
				event_add(h, v, s);
				v->probed_changed = true;
			}
		}
		pthread_mutex_unlock(&v->lock);
	}
	for (vi = 0; vi < lb->nvips; vi++) {
		v = &lb->vips[vi];
		pthread_mutex_lock(&v->lock);
		dirty = v->probed_changed;
		v->probed_changed = false;
		for (si = 0; si < v->nservers; si++) {
			s = &v->servers[si];
			if (sp_health_tick(&s->health, now_ms)) {
				dirty = true;
				event_add(h, v, s);
			}
		}
		if (dirty)
			balancer_refresh(v);
		pthread_mutex_unlock(&v->lock);
	}
}

/* Log the state changes, and the failed probes (debug). */
static void
checks_log(struct checks *h)
{
	char va[INET6_ADDRSTRLEN], sa[INET6_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < h->nevents; i++) {
		const struct checks_event *e = &h->events[i];

		inet_ntop(AF_INET6, e->vip, va, sizeof(va));
		inet_ntop(AF_INET6, e->addr, sa, sizeof(sa));
		log_info("vip %s server %s is %s (%s)", va, sa,
		    e->up ? "up" : "down", e->why);
	}
	for (i = 0; i < h->nprobes; i++) {
		const struct probe *p = &h->probes[i];

		if (p->phase != PROBE_DONE || p->ok)
			continue;
		inet_ntop(AF_INET6, p->vip, va, sizeof(va));
		inet_ntop(AF_INET6, p->addr, sa, sizeof(sa));
		if (p->err > 0)
			log_debug("vip %s server %s: %s check failed: %s: "
			    "%s%s", va, sa, check_name(p->type), p->why,
			    strerror(p->err), p->local ? " (local, not "
			    "counted)" : "");
		else if (p->err < 0)
			log_debug("vip %s server %s: %s check failed: %s %d",
			    va, sa, check_name(p->type), p->why, -p->err);
		else
			log_debug("vip %s server %s: %s check failed: %s",
			    va, sa, check_name(p->type), p->why);
	}
}

/* ---------------------------------------------------------------- thread */

/* One tick: post, log, compact, collect, start. */
static void
checks_tick(struct checks *h)
{
	struct lbspd *d = h->d;

	pthread_mutex_lock(&d->admin);
	checks_post(h, sp_now_ms());
	pthread_mutex_unlock(&d->admin);
	checks_log(h);
	probes_compact(h);

	pthread_mutex_lock(&d->admin);
	checks_collect(h, sp_now_ms());
	pthread_mutex_unlock(&d->admin);
	probes_start(h);
}

static void *
checks_main(void *arg)
{
	struct checks *h = arg;
	struct lbspd *d = h->d;
	uint64_t tick = sp_now_us(), now, until;

	while (!atomic_load(&h->stop) && !d->stop) {
		now = sp_now_us();
		if (now >= tick) {
			probes_expire(h, now);
			checks_tick(h);
			tick += CHECKS_TICK_MS * 1000;
			if (tick <= now)	/* late: no catching up */
				tick = now + CHECKS_TICK_MS * 1000;
		}
		probes_start(h);	/* slots freed since */
		until = probes_expire(h, sp_now_us());
		if (until > tick)
			until = tick;
		if (!probes_poll(h, sp_now_us(), until))
			break;
	}
	probes_abort(h);
	return NULL;
}

int
checks_start(struct lbspd *d)
{
	struct checks *h;
	size_t servers;
	int err;

	if (engine == NULL && checks_init(d) == -1)
		return -1;
	h = engine;
	if (h->running)
		return 0;
	h->d = d;
	h->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (h->wake_fd == -1) {
		log_warn("health checks: eventfd");
		return -1;
	}
	pthread_mutex_lock(&d->admin);
	servers = servers_total(d->lb);
	pthread_mutex_unlock(&d->admin);
	h->slots = checks_slots(servers);
	atomic_store(&h->stop, false);
	err = pthread_create(&h->thread, NULL, checks_main, h);
	if (err != 0) {
		errno = err;
		log_warn("health checks: thread");
		close(h->wake_fd);
		h->wake_fd = -1;
		return -1;
	}
	h->running = true;
	log_debug("health checks: started, %u sockets at once", h->slots);
	return 0;
}

void
checks_stop(void)
{
	struct checks *h = engine;
	uint64_t one = 1;

	if (h == NULL)
		return;
	if (h->running) {
		atomic_store(&h->stop, true);
		if (write(h->wake_fd, &one, sizeof(one)) == -1)
			log_warn("health checks: wake");
		pthread_join(h->thread, NULL);
		h->running = false;
	}
	probes_abort(h);
	if (h->wake_fd != -1)
		close(h->wake_fd);
	if (h->icmp_fd != -1)
		close(h->icmp_fd);
	free(h->probes);
	free(h->pfd);
	free(h->pfd_probe);
	free(h->events);
	engine = NULL;
	free(h);
}
