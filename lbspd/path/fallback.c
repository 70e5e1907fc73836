/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fallback.c -- the client role's decisions (fallback.h): plain
 * functions over a flow, one shared table and the time given.
 *
 * Single pass sends a flow straight to the server its cache names.  A
 * server that does not answer is given up: a redirected SYN sent again
 * (the kernel's first retransmission), fallback-timeout without an
 * answer, an ICMPv6 unreachable about it, or an answer without the
 * option make it suspect -- its cache entries stay, not followed, until
 * an answer names it in seg2 again.
 * Paths that drop the option (the kernel's discipline for ECN and TCP
 * Fast Open): a SYN that left to the vip with the option and is sent
 * again unanswered leaves without it and marks the vip for
 * blackhole-timeout's minimum; new connections go without the option
 * until the mark runs out; then one connection probes with it: sent
 * again unanswered, it confirms the mark, whose length doubles up to
 * blackhole-timeout's maximum; an answer with the option clears it.
 */
#include "config.h"

#include <string.h>

#include "path/fallback.h"

static const uint8_t zero16[16];

static void
count(struct lbspd_stats *st, enum lbspd_counter c)
{
	if (st != NULL)
		atomic_fetch_add_explicit(&st->ctr[c], 1, memory_order_relaxed);
}

/* The counter of each reason to fall back. */
static const enum lbspd_counter suspect_counter[LBSPD_SUSPECT__COUNT] = {
	[LBSPD_SUSPECT_SYN_RETRANSMIT] = LBSPD_C_FALLBACK_SYN_RETRANSMIT,
	[LBSPD_SUSPECT_TIMER] = LBSPD_C_FALLBACK_TIMER,
	[LBSPD_SUSPECT_ICMP] = LBSPD_C_FALLBACK_ICMP,
	[LBSPD_SUSPECT_NO_OPTION] = LBSPD_C_FALLBACK_NO_OPTION,
};

/* ------------------------------------------------------------ marks */

static struct lbspd_blackhole *
mark_find(struct lbspd_blackholes *m, const uint8_t vip[16])
{
	unsigned i;

	/* Only the marks in use: a new connection to a vip asks. */
	for (i = 0; i < m->n; i++)
		if (memcmp(m->mark[i].vip, vip, 16) == 0)
			return &m->mark[i];
	return NULL;
}

/* Unmark b, keeping the marks in use first. */
static void
mark_remove(struct lbspd_blackholes *m, struct lbspd_blackhole *b)
{
	*b = m->mark[--m->n];
}

/*
 * A new connection to vip: may it carry the option?  Not while the vip
 * is marked, nor while another connection probes it; once the mark ran
 * out, this connection is the probe (f gets CF_PROBE).
 */
static bool
mark_allows(struct lbspd_blackholes *m, const uint8_t vip[16],
    struct sp_flow *f, uint64_t now, struct lbspd_stats *st)
{
	struct lbspd_blackhole *b = mark_find(m, vip);

	if (b == NULL)
		return true;
	if (now >= b->until_ms && (b->probe_ms == 0 ||
	    now - b->probe_ms >= LBSPD_BLACKHOLE_PROBE_MS)) {
		b->probe_ms = now;
		f->flags |= CF_PROBE;
		count(st, LBSPD_C_BLACKHOLE_PROBES);
		return true;
	}
	count(st, LBSPD_C_BLACKHOLE_AVOIDED);
	return false;
}

/*
 * A SYN to vip with the option was not answered by the time the kernel
 * sent it again: mark the vip (a probe's failure doubles the period).
 * Returns the mark's length, ms, or 0 when nothing was marked.
 */
static uint32_t
mark_detected(struct lbspd_blackholes *m, const struct fb_conf *c,
    const uint8_t vip[16], bool probe, uint64_t now, struct lbspd_stats *st)
{
	struct lbspd_blackhole *b = mark_find(m, vip);

	if (b != NULL && !probe)
		return 0;	/* a connection older than the mark */
	if (b == NULL) {
		if (m->n == SP_CONF_MAX_VIPS)
			return 0;	/* not reached: one per vip at most */
		b = &m->mark[m->n++];
		memset(b, 0, sizeof(*b));
		memcpy(b->vip, vip, 16);
		b->since_ms = now;
		b->period_ms = c->blackhole_min_ms;
	} else {
		b->period_ms = b->period_ms > c->blackhole_max_ms / 2 ?
		    c->blackhole_max_ms : 2 * b->period_ms;
	}
	if (b->period_ms < c->blackhole_min_ms)
		b->period_ms = c->blackhole_min_ms;
	b->until_ms = now + b->period_ms;
	b->probe_ms = 0;
	b->detections++;
	count(st, LBSPD_C_BLACKHOLE_DETECTED);
	return b->period_ms;
}

bool
fb_mark_clear(struct lbspd_blackholes *marks, const uint8_t vip[16],
    struct lbspd_stats *st)
{
	struct lbspd_blackhole *b = mark_find(marks, vip);

	if (b == NULL)
		return false;
	mark_remove(marks, b);
	count(st, LBSPD_C_BLACKHOLE_RECOVERED);
	return true;
}

void
fb_marks_prune(struct lbspd_blackholes *marks, const struct sp_conf *c)
{
	unsigned i;

	for (i = 0; i < marks->n;)
		if (sp_conf_vip_find(c, marks->mark[i].vip) == NULL)
			mark_remove(marks, &marks->mark[i]);
		else
			i++;
}

/* ------------------------------------------------------------ egress */

bool
fb_syn_without_option(struct lbspd_blackholes *marks, const struct fb_conf *c,
    struct sp_flow *f, const uint8_t vip[16], uint64_t now_ms,
    struct lbspd_stats *st, uint32_t *marked_ms)
{
	uint32_t period = 0;

	if (marked_ms != NULL)
		*marked_ms = 0;
	if (f->flags & CF_NO_OPTION)
		return true;
	if (f->packets[SP_FLOW_ORIG] == 1) {
		if (!mark_allows(marks, vip, f, now_ms, st))
			f->flags |= CF_NO_OPTION;
	} else if ((f->flags & (CF_VIP_SYN | CF_ANSWERED | CF_FELL_BACK)) ==
	    CF_VIP_SYN) {
		/* A flow that fell back from its server is not the path's
		 * case: the balancer may still send it to the dead one. */
		period = mark_detected(marks, c, vip,
		    (f->flags & CF_PROBE) != 0, now_ms, st);
		f->flags |= CF_NO_OPTION;
		count(st, LBSPD_C_BLACKHOLE_STRIPPED);
	}
	if (marked_ms != NULL)
		*marked_ms = period;
	return (f->flags & CF_NO_OPTION) != 0;
}

bool
fb_server_of_flow(const struct sp_flow *f, uint8_t seg2[16])
{
	if (f == NULL || memcmp(f->server, zero16, 16) == 0)
		return false;
	memcpy(seg2, f->server, 16);
	return true;
}

bool
fb_cache_wanted(const struct sp_flow *f)
{
	return f == NULL || !(f->flags & CF_FELL_BACK);
}

void
fb_server_from_cache(struct sp_flow *f, bool hit,
    const struct sp_cache_entry *ce, uint8_t seg2[16],
    struct lbspd_stats *st)
{
	memset(seg2, 0, 16);
	if (hit) {
		if (ce->state == SP_CACHE_OK)
			memcpy(seg2, ce->server, 16);
		else if (f != NULL && f->packets[SP_FLOW_ORIG] == 1)
			count(st, LBSPD_C_SUSPECT_AVOIDED);
	}
	if (f != NULL)
		memcpy(f->server, seg2, 16);
}

enum fb_route
fb_route(const struct fb_conf *c, const struct sp_flow *f,
    const uint8_t seg2[16], const uint8_t vip[16], bool resyn,
    bool unanswered, uint64_t now_ms)
{
	if (!c->redirect || f == NULL || memcmp(seg2, zero16, 16) == 0 ||
	    memcmp(seg2, vip, 16) == 0)
		return FB_ROUTE_VIP;
	if (resyn)
		return FB_ROUTE_FALLBACK_SYN;
	if (unanswered && now_ms - f->created_ms >= c->fallback_timeout_ms)
		return FB_ROUTE_FALLBACK_TIMER;
	return FB_ROUTE_SERVER;
}

/* One fallback, for reason. */
static void
count_fallback(struct lbspd_stats *st, enum lbspd_suspect reason)
{
	count(st, LBSPD_C_FALLBACKS);
	if ((unsigned)reason < LBSPD_SUSPECT__COUNT &&
	    reason != LBSPD_SUSPECT_NONE)
		count(st, suspect_counter[reason]);
}

void
fb_fallback(struct sp_cache_table *cache, struct sp_flow *f,
    const uint8_t server[16], enum lbspd_suspect reason, uint64_t now_ms,
    struct lbspd_stats *st)
{
	uint8_t srv[16];

	memcpy(srv, server, 16);	/* server may be f->server */
	if (cache != NULL)
		(void)sp_cache_suspect_server(cache, srv, (uint8_t)reason,
		    now_ms);
	if (f != NULL) {
		memset(f->server, 0, 16);
		f->flags = (f->flags & ~(uint32_t)CF_REDIRECTED) |
		    CF_FELL_BACK;
	}
	count_fallback(st, reason);
}

bool
fb_redirected(struct sp_flow *f, bool syn, struct lbspd_stats *st)
{
	bool first = !(f->flags & CF_REDIRECTED) && syn;

	f->flags |= CF_REDIRECTED;
	count(st, LBSPD_C_REDIRECTED);
	return first;
}

void
fb_vip_syn_sent(struct sp_flow *f)
{
	if (!(f->flags & CF_REDIRECTED))
		f->flags |= CF_VIP_SYN;
}

bool
fb_pending_push(struct lbspd_pendings *q, const struct fb_conf *c,
    const struct sp_flow *f, struct lbspd_stats *st)
{
	struct lbspd_pending *pe;

	if (q->ring == NULL || q->count >= q->cap) {
		count(st, LBSPD_C_PENDING_FULL);
		return false;
	}
	pe = &q->ring[(q->head + q->count) % q->cap];
	pe->key = f->key;
	pe->created_ms = f->created_ms;
	pe->due_ms = f->created_ms + c->fallback_timeout_ms;
	q->count++;
	return true;
}

/* ------------------------------------------------------------ timers */

unsigned
fb_pending_due(struct lbspd_pendings *q, uint64_t now_ms,
    struct lbspd_pending *out, unsigned max)
{
	unsigned n = 0;

	while (n < max && q->count > 0 && q->ring[q->head].due_ms <= now_ms) {
		out[n++] = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
		q->count--;
	}
	return n;
}

bool
fb_pending_unanswered(const struct sp_flow *f, const struct lbspd_pending *pe)
{
	return f != NULL && f->created_ms == pe->created_ms &&
	    (f->flags & CF_REDIRECTED) &&
	    !(f->flags & (CF_ANSWERED | CF_FELL_BACK));
}

/* ------------------------------------------------------------ ingress */

void
fb_learn(struct sp_flow *f, const uint8_t seg2[16], struct lbspd_stats *st)
{
	if (f != NULL && memcmp(f->server, seg2, 16) != 0) {
		memcpy(f->server, seg2, 16);
		count(st, LBSPD_C_LEARNED);
	}
}

bool
fb_revived(bool hit, const struct sp_cache_entry *ce, const uint8_t seg2[16],
    struct lbspd_stats *st)
{
	if (!hit || ce->state != SP_CACHE_SUSPECT ||
	    memcmp(ce->server, seg2, 16) != 0)
		return false;
	count(st, LBSPD_C_SUSPECT_REVIVED);
	return true;
}

bool
fb_answered(struct sp_flow *f, bool has_opt)
{
	bool first_opt = has_opt && !(f->flags & CF_OPT_ANSWERED);

	if (has_opt)
		f->flags |= CF_OPT_ANSWERED;
	f->flags |= CF_ANSWERED;
	return first_opt;
}

void
fb_no_option_answer(struct sp_cache_table *cache, const uint8_t vip[16],
    const uint8_t identity[16], const uint8_t server[16], uint64_t now_ms,
    struct lbspd_stats *st)
{
	struct sp_cache_entry ce;

	count(st, LBSPD_C_NO_OPTION_ANSWERS);
	/* Once (the walk of the cache is not per packet): when our own
	 * entry still follows this server. */
	if (cache != NULL && sp_cache_get(cache, vip, identity, now_ms, &ce) &&
	    ce.state == SP_CACHE_OK && memcmp(ce.server, server, 16) == 0 &&
	    sp_cache_suspect_server(cache, server, LBSPD_SUSPECT_NO_OPTION,
	    now_ms) > 0)
		count_fallback(st, LBSPD_SUSPECT_NO_OPTION);
}

bool
fb_icmp_unreachable(struct sp_cache_table *cache, struct sp_flow *f,
    uint64_t now_ms, struct lbspd_stats *st)
{
	bool answered = (f->flags & CF_ANSWERED) != 0;

	fb_fallback(cache, f, f->server, LBSPD_SUSPECT_ICMP, now_ms, st);
	if (answered)
		return false;
	count(st, LBSPD_C_ICMP_ABSORBED);
	return true;
}
