/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * balancer.c -- the balancer role (doc/design.md §3.3, LSNAT §3-§6).
 *
 * A packet to a vip, as queued by the steering rules:
 *   - LBSP packets (a Destination Options header) from raw PREROUTING,
 *     untracked: every one comes here while the client sends to the vip;
 *   - legacy packets only when they open a connection (conntrack NEW).
 * For each:
 *   1. seg2 inside the vip's pool and up -> that server (stateless
 *      persistence: survives a balancer restart); seg2 outside the pool
 *      is counted and never followed;
 *   2. a known flow -> its server;
 *   3. the stick table: seg1; else {source, flow label} when the label is
 *      not zero (RFC 7098 §4); else the source (stick-prefix);
 *   4. else the vip's scheduler; stick and flow are recorded.
 * A server that is down or draining hands its new sessions to its
 * backup when it has one.  Then:
 *   - LBSP: the destination is rewritten vip -> server, checksums fixed:
 *     the server sees the client's own address and can answer it
 *     directly, and the client can later talk to it directly;
 *   - legacy: the verdict marks the packet; lbspd's nat rules DNAT it to
 *     the server and MASQUERADE it (LS-NAPT, LSNAT §3.3) so replies come
 *     back through the balancer; conntrack translates the rest of the
 *     session in the kernel.
 * Non-first fragments normally never get here (the kernel reassembles
 * before the raw table); one that does follows its first fragment by
 * {source, vip, flow label}.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sp/csum.h>
#include <sp/dopt.h>
#include <sp/flow.h>
#include <sp/tcp.h>

#include "balancer/agent.h"
#include "balancer/balancer.h"
#include "system/log.h"
#include "path/path.h"

static const uint8_t zero16[16];

/* ------------------------------------------------------------ state */

unsigned
balancer_targets(const struct sp_conf_vip *cv, uint8_t out[][16])
{
	unsigned i, j, n = 0;

	for (i = 0; i < cv->nservers; i++)
		memcpy(out[n++], cv->servers[i].addr, 16);
	for (i = 0; i < cv->nservers; i++) {
		if (!cv->servers[i].has_backup)
			continue;
		for (j = 0; j < n; j++)
			if (memcmp(out[j], cv->servers[i].backup, 16) == 0)
				break;
		if (j == n)
			memcpy(out[n++], cv->servers[i].backup, 16);
	}
	return n;
}

struct lb_vip *
balancer_vip(struct lbspd *d, const uint8_t addr[16])
{
	unsigned i;

	if (d->lb == NULL)
		return NULL;
	for (i = 0; i < d->lb->nvips; i++)
		if (memcmp(d->lb->vips[i].addr, addr, 16) == 0)
			return &d->lb->vips[i];
	return NULL;
}

struct lb_server *
balancer_server(struct lb_vip *v, const uint8_t addr[16])
{
	unsigned i;

	for (i = 0; i < v->nservers; i++)
		if (memcmp(v->servers[i].s.addr, addr, 16) == 0)
			return &v->servers[i];
	return NULL;
}

/* Index of addr among the vip's targets, or -1. */
static int
target_index(const struct lb_vip *v, const uint8_t addr[16])
{
	unsigned i;

	for (i = 0; i < v->ntargets; i++)
		if (memcmp(v->targets[i], addr, 16) == 0)
			return (int)i;
	return -1;
}

/* Up and not draining: may take new sessions itself. */
static bool
server_up_open(const struct lb_server *s)
{
	return sp_health_up(&s->health) && !s->drain;
}

/*
 * The one rule for where a new (or stuck, or seg2-following) session
 * of server s goes: s itself when up and not draining; else its backup
 * when it has one that is up and not draining (a standby backup outside
 * the pool has no check: trusted up); else nowhere (NULL).
 */
static const uint8_t *
target_for_new(const struct lb_vip *v, const struct lb_server *s)
{
	const struct lb_server *b;

	if (server_up_open(s))
		return s->s.addr;
	if (!s->has_backup)
		return NULL;
	b = balancer_server((struct lb_vip *)(uintptr_t)v, s->backup);
	if (b != NULL && !server_up_open(b))
		return NULL;
	return s->backup;
}

/* May new sessions go to this server, or through it to its backup? */
static bool
server_takes_new(const struct lb_vip *v, const struct lb_server *s)
{
	return target_for_new(v, s) != NULL;
}

void
balancer_refresh(struct lb_vip *v)
{
	struct sp_sched_server view[LBSPD_MAX_SERVERS];
	unsigned i;

	for (i = 0; i < v->nservers; i++) {
		struct lb_server *s = &v->servers[i];

		s->s.eligible = server_takes_new(v, s);
		s->s.reachable = sp_health_up(&s->health);
		s->s.rtt_us = s->health.rtt_us;
		view[i] = s->s;
	}
	if (v->sched != NULL && sp_sched_update(v->sched, view, v->nservers)
	    == -1)
		log_warnx("scheduler update failed (out of memory)");
}

static void
vip_clear(struct lb_vip *v)
{
	sp_sched_free(v->sched);
	v->sched = NULL;
}

int
balancer_configure(struct lbspd *d)
{
	const struct sp_conf *c = d->conf;
	struct lb_state *old = d->lb, *lb;
	uint64_t now = sp_now_ms();
	unsigned i, j, k;

	if (!(c->roles & SP_CONF_ROLE_BALANCER)) {
		balancer_free(d);
		return 0;
	}
	lb = calloc(1, sizeof(*lb));
	if (lb == NULL)
		return -1;
	if (old != NULL) {
		lb->stick = old->stick;		/* kept across reloads */
		old->stick = NULL;
	} else {
		lb->stick = sp_stick_table_new(c->max_stick,
		    c->stick_ttl_ms / 1000, d->secret);
		if (lb->stick == NULL) {
			free(lb);
			return -1;
		}
	}
	for (i = 0; i < c->nvips; i++) {
		const struct sp_conf_vip *cv = &c->vips[i];
		struct lb_vip *v, *ov;

		if (cv->nservers == 0)
			continue;	/* a client vip, not ours */
		v = &lb->vips[lb->nvips++];
		memcpy(v->addr, cv->addr, 16);
		v->index = i;
		v->kind = cv->scheduler;
		v->check = cv->check;
		v->passive_timeout_ms = cv->passive_timeout_ms;
		v->dead_retry_ms = cv->dead_retry_ms;
		v->window_ms = cv->window_ms;
		v->window_start_ms = now;
		v->ntargets = balancer_targets(cv, v->targets);
		v->sched = sp_sched_new(cv->scheduler, d->secret);
		if (v->sched == NULL)
			goto fail;
		ov = NULL;
		if (old != NULL)
			for (k = 0; k < old->nvips; k++)
				if (memcmp(old->vips[k].addr, v->addr, 16) == 0)
					ov = &old->vips[k];
		v->nservers = cv->nservers;
		for (j = 0; j < cv->nservers; j++) {
			const struct sp_conf_server *cs = &cv->servers[j];
			struct lb_server *s = &v->servers[j], *os;

			os = ov != NULL ? balancer_server(ov, cs->addr) : NULL;
			if (os != NULL) {
				/* Keep health, figures and counters. */
				*s = *os;
				sp_health_configure(&s->health, &cv->check,
				    cv->dead_retry_ms, cv->passive_timeout_ms);
			} else {
				memset(s, 0, sizeof(*s));
				memcpy(s->s.addr, cs->addr, 16);
				s->s.agent_load = SP_SCHED_UNKNOWN;
				sp_health_init(&s->health, &cv->check,
				    cv->dead_retry_ms, cv->passive_timeout_ms,
				    now);
			}
			s->s.weight = cs->weight;
			s->s.cost = cs->cost;
			s->drain = cs->drain;
			s->has_backup = cs->has_backup;
			memcpy(s->backup, cs->backup, 16);
		}
		balancer_refresh(v);
	}
	d->lb = lb;
	if (old != NULL) {
		for (i = 0; i < old->nvips; i++)
			vip_clear(&old->vips[i]);
		free(old);
	}
	return 0;
fail:
	for (i = 0; i < lb->nvips; i++)
		vip_clear(&lb->vips[i]);
	if (old == NULL)
		sp_stick_table_free(lb->stick);
	else
		old->stick = lb->stick;
	free(lb);
	return -1;
}

void
balancer_free(struct lbspd *d)
{
	unsigned i;

	if (d->lb == NULL)
		return;
	for (i = 0; i < d->lb->nvips; i++)
		vip_clear(&d->lb->vips[i]);
	sp_stick_table_free(d->lb->stick);
	free(d->lb);
	d->lb = NULL;
}

/* ------------------------------------------------------------ decision */

bool
balancer_owns(struct lbspd *d, const struct lbspd_pkt *p)
{
	const struct sp_conf_vip *cv;

	if (p->hook != LBSPD_HOOK_PRE_ROUTING || d->lb == NULL)
		return false;
	cv = sp_conf_vip_find(d->conf, &p->data[SP_IP6_OFF_DST]);
	if (cv == NULL || cv->nservers == 0)
		return false;
	if (p->walk.nonfirst_frag)
		return true;
	return sp_conf_vip_has_port(cv, p->dport);
}

enum lb_by {
	LB_BY_SEG2,
	LB_BY_FLOW,
	LB_BY_STICK,
	LB_BY_SCHEDULER,
};

/* The stick key of a client: seg1, else {src, label}, else src/N. */
static struct sp_stick_key
stick_key(const struct lbspd *d, const struct lb_vip *v,
    const struct lbspd_pkt *p)
{
	const uint8_t *src = &p->data[SP_IP6_OFF_SRC];
	uint32_t label = sp_ip6_flowlabel(p->data);

	if (p->has_opt)
		return sp_stick_key_seg1(v->addr, p->opt.seg1);
	if (label != 0)
		return sp_stick_key_src_label(v->addr, src, label);
	return sp_stick_key_src(v->addr, src, d->conf->stick_prefix);
}

/* A server down or draining hands new sessions to its backup, when
 * that one takes them (target_for_new()). */
static const uint8_t *
with_backup(struct lbspd *d, struct lb_vip *v, struct lb_server *s)
{
	const uint8_t *to = target_for_new(v, s);

	if (to != NULL && to != s->s.addr)
		lbspd_count(d, LBSPD_C_TO_BACKUP);
	return to;
}

static uint16_t
session_weight(const struct sp_conf *c, const struct lb_vip *v, uint16_t port)
{
	const struct sp_conf_vip *cv = &c->vips[v->index];
	unsigned i;

	for (i = 0; i < cv->nsession_weights; i++)
		if (cv->session_weights[i].port == port)
			return cv->session_weights[i].weight;
	return 1;
}

/* Choose the server of a new session; NULL when none can take it. */
static const uint8_t *
schedule(struct lbspd *d, struct lb_vip *v, const struct lbspd_pkt *p,
    struct lb_server **chosen)
{
	struct sp_sched_server view[LBSPD_MAX_SERVERS];
	struct sp_sched_req req;
	struct sp_stick_key masked;
	unsigned i;
	int k;

	for (i = 0; i < v->nservers; i++)
		view[i] = v->servers[i].s;
	memset(&req, 0, sizeof(req));
	req.src = &p->data[SP_IP6_OFF_SRC];
	req.identity = p->has_opt ? p->opt.seg1 : NULL;
	req.label = sp_ip6_flowlabel(p->data);
	/* hash and maglev hash what the client sticks by (stick_key), so
	 * that every balancer with the same hash-key agrees on it. */
	if (req.identity == NULL && req.label == 0 &&
	    d->conf->stick_prefix < 128) {
		masked = sp_stick_key_src(v->addr, req.src,
		    d->conf->stick_prefix);
		req.src = masked.id;
	}
	req.dport = p->dport;
	req.session_weight = session_weight(d->conf, v, p->dport);
	k = sp_sched_pick(v->sched, view, v->nservers, &req);
	if (k < 0 || (unsigned)k >= v->nservers)
		return NULL;
	*chosen = &v->servers[k];
	return with_backup(d, v, *chosen);
}

/*
 * Decide where a packet to vip v goes.  Returns the target address (a
 * server or a standby backup), NULL when no server can take it.
 */
static const uint8_t *
decide(struct lbspd *d, struct lb_vip *v, struct lbspd_pkt *p,
    struct sp_flow **flowp, bool *is_new, bool *limited)
{
	const uint8_t *src = &p->data[SP_IP6_OFF_SRC];
	struct lb_server *s = NULL;
	struct sp_stick_key sk;
	struct sp_flow_key fk;
	struct sp_flow *f;
	const uint8_t *to = NULL;
	uint8_t stuck[16];
	uint64_t now = sp_now_ms();
	enum lb_by by = LB_BY_SCHEDULER;

	*is_new = false;
	*limited = false;
	if (p->walk.nonfirst_frag)
		fk = sp_flow_key_3tuple(src, v->addr,
		    sp_ip6_flowlabel(p->data));
	else
		fk = sp_flow_key_5tuple(src, v->addr, p->walk.l4_proto,
		    p->sport, p->dport);
	/* The shard of src is locked by the caller (path/dispatch.c). */
	f = sp_flow_lookup(lbspd_flows_of(d, src)->table, &fk);
	/* 0. A new flow from a source holding max-flows-per-source flows
	 * is refused before anything is decided or recorded for it. */
	if (f == NULL && d->conf->max_flows_per_source != 0 &&
	    sp_flow_source_count(lbspd_flows_of(d, src)->table, src) >=
	    d->conf->max_flows_per_source) {
		*limited = true;
		return NULL;
	}

	/* 1. seg2, inside the pool only.  A new connection (a SYN) does not
	 * follow it to a draining server: drain keeps sessions, takes no
	 * new ones; the stick table or the scheduler place it. */
	if (p->has_opt && memcmp(p->opt.seg2, zero16, 16) != 0) {
		bool syn = p->walk.l4_proto == SP_NH_TCP &&
		    (p->tcp_flags & (SP_TCP_SYN | SP_TCP_ACK)) == SP_TCP_SYN;

		if (target_index(v, p->opt.seg2) < 0) {
			lbspd_count(d, LBSPD_C_SEG2_REJECTED);
		} else {
			s = balancer_server(v, p->opt.seg2);
			if (s == NULL || (sp_health_up(&s->health) &&
			    !(syn && s->drain))) {
				to = p->opt.seg2;
				by = LB_BY_SEG2;
			}
		}
	}
	/* 2. A known flow -- but a SYN (a client trying again, e.g. its
	 * retransmission after a fallback) is not sent back to a server
	 * known down: it is placed anew. */
	if (to == NULL && f != NULL && memcmp(f->server, zero16, 16) != 0) {
		bool syn = p->walk.l4_proto == SP_NH_TCP &&
		    (p->tcp_flags & (SP_TCP_SYN | SP_TCP_ACK)) == SP_TCP_SYN;

		s = balancer_server(v, f->server);
		if (!syn || s == NULL || sp_health_up(&s->health)) {
			to = f->server;
			by = LB_BY_FLOW;
		}
	}
	/* 3. The stick table (a server that takes new sessions). */
	sk = stick_key(d, v, p);
	if (to == NULL && sp_stick_lookup(d->lb->stick, &sk, now, stuck)) {
		/* Entries name the scheduled server, never a backup. */
		s = balancer_server(v, stuck);
		if (s != NULL && (to = with_backup(d, v, s)) != NULL)
			by = LB_BY_STICK;
	}
	/* 4. The scheduler. */
	if (to == NULL) {
		s = NULL;
		to = schedule(d, v, p, &s);
		if (to == NULL)
			return NULL;
		by = LB_BY_SCHEDULER;
		if (sp_stick_set(d->lb->stick, &sk, s->s.addr, now))
			lbspd_count(d, LBSPD_C_STICK_RETIRED);
	}

	switch (by) {
	case LB_BY_SEG2:
		lbspd_count(d, LBSPD_C_BY_SEG2);
		break;
	case LB_BY_FLOW:
		lbspd_count(d, LBSPD_C_BY_FLOW);
		break;
	case LB_BY_STICK:
		lbspd_count(d, LBSPD_C_BY_STICK);
		break;
	case LB_BY_SCHEDULER:
		lbspd_count(d, LBSPD_C_BY_SCHEDULER);
		break;
	default:
		log_warnx("balancer: decision without a reason");
		break;
	}

	if (f == NULL) {
		f = flow_new(d, &fk, now);
		*is_new = true;
		if (f != NULL) {
			memcpy(f->server, to, 16);
			if (p->has_opt)
				memcpy(f->identity, p->opt.seg1, 16);
			f->user = sp_ip6_flowlabel(p->data);
		}
		s = balancer_server(v, to);
		if (s != NULL) {
			s->s.sessions++;
			s->s.load += session_weight(d->conf, v, p->dport);
			s->sessions_total++;
			sp_health_session_new(&s->health, now);
		}
		lbspd_count(d, LBSPD_C_SESSIONS);
	} else if (memcmp(f->server, to, 16) != 0) {
		memcpy(f->server, to, 16);
	}
	*flowp = f;
	return to;
}

void
balancer_packet(struct lbspd *d, struct lbspd_pkt *p)
{
	struct lb_vip *v = balancer_vip(d, &p->data[SP_IP6_OFF_DST]);
	struct lb_server *s;
	struct sp_flow *f = NULL;
	const uint8_t *to;
	uint64_t now = sp_now_ms();
	enum sp_err err;
	uint8_t *b;
	bool is_new, limited;
	int t;

	if (v == NULL)
		return;
	to = decide(d, v, p, &f, &is_new, &limited);
	if (to == NULL && limited) {
		lbspd_count(d, LBSPD_C_SOURCE_LIMITED);
		p->drop = true;
		return;
	}
	if (to == NULL) {
		lbspd_count(d, LBSPD_C_NO_SERVER);
		p->drop = true;
		return;
	}
	if (f != NULL) {
		/* RFC 7098 §5: a flow whose label changes is a suspect. */
		if (!is_new && f->user != sp_ip6_flowlabel(p->data)) {
			lbspd_count(d, LBSPD_C_LABEL_CHANGED);
			if (d->conf->flowlabel_strict) {
				p->drop = true;
				return;
			}
		}
		sp_flow_update(lbspd_flows_of(d,
		    &p->data[SP_IP6_OFF_SRC])->table, f, now, SP_FLOW_ORIG,
		    p->tcp_flags, p->len);
	}
	s = balancer_server(v, to);
	if (s != NULL) {
		s->packets++;
		s->bytes += p->len;
		s->s.traffic += p->len;
		/* The client's second packet of a session (its ACK of the
		 * SYN-ACK) proves the server answered: passive health. */
		if (!is_new)
			sp_health_session_answered(&s->health, now);
	}
	lbspd_count(d, LBSPD_C_BALANCED);

	if (!p->has_opt) {
		/* Legacy: the kernel's NAT, chosen by the mark. */
		t = target_index(v, to);
		if (t < 0 || t >= 255) {
			p->drop = true;
			return;
		}
		p->set_mark = true;
		p->new_mark = LBSPD_LBMARK_MAKE(v->index, t + 1);
		lbspd_count(d, LBSPD_C_LEGACY_NAT);
		return;
	}
	/* LBSP: destination only, so the server sees the client.  seg2 (read
	 * above) now names the vip: every packet forwarded here was sent to
	 * the vip, and the server answers such sessions from the vip --
	 * what a NAT66 proxy on the way, and the client's socket, expect. */
	b = pkt_writable(p);	/* before reading buf_len */
	(void)sp_dopt_set_seg2(b, p->buf_len, d->conf->option_type, v->addr);
	err = sp_pkt_set_addr(b, p->buf_len, SP_ADDR_DST, to);
	if (err != SP_OK) {
		lbspd_count_malformed(d, err);
		p->drop = true;
	}
}

/* ------------------------------------------------------------ periodic */

struct tally {
	struct lbspd *d;
	uint32_t sessions[LBSPD_MAX_VIPS][LBSPD_MAX_SERVERS];
	uint64_t load[LBSPD_MAX_VIPS][LBSPD_MAX_SERVERS];
};

static int
tally_fn(const struct sp_flow *f, void *arg)
{
	struct tally *t = arg;
	struct lb_state *lb = t->d->lb;
	unsigned i, j;

	for (i = 0; i < lb->nvips; i++) {
		struct lb_vip *v = &lb->vips[i];

		if (memcmp(f->key.dst, v->addr, 16) != 0)
			continue;
		for (j = 0; j < v->nservers; j++)
			if (memcmp(v->servers[j].s.addr, f->server, 16) == 0) {
				t->sessions[i][j]++;
				t->load[i][j] += session_weight(t->d->conf, v,
				    f->key.dport);
			}
	}
	return 0;
}

void
balancer_tick(struct lbspd *d, uint64_t now)
{
	struct tally *t;
	unsigned i, j;

	if (d->lb == NULL)
		return;
	(void)sp_stick_expire(d->lb->stick, now, 4096);
	/* Sessions and load from the flows alive now: ended and expired
	 * flows leave the figures here. */
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return;
	t->d = d;
	(void)lbspd_flows_foreach(d, tally_fn, t);
	for (i = 0; i < d->lb->nvips; i++) {
		struct lb_vip *v = &d->lb->vips[i];

		for (j = 0; j < v->nservers; j++) {
			struct lb_server *s = &v->servers[j];

			s->s.sessions = t->sessions[i][j];
			if (s->s.agent_load != SP_SCHED_UNKNOWN &&
			    now - s->agent_seen_ms > AGENT_STALE_MS)
				s->s.agent_load = SP_SCHED_UNKNOWN;
			s->s.load = t->load[i][j];
		}
		/* Least traffic: halve the figures every window. */
		if (now - v->window_start_ms >= v->window_ms) {
			for (j = 0; j < v->nservers; j++)
				v->servers[j].s.traffic /= 2;
			v->window_start_ms = now;
		}
	}
	free(t);
}
