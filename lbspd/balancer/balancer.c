/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * balancer.c -- the balancer role (doc/design.md §3.3, LSNAT §3-§6).
 *
 * A packet to a vip, as queued by the steering rules:
 *   - LBSP packets (a Destination Options header) from raw PREROUTING,
 *     untracked: every one comes here while the client sends to the vip;
 *   - legacy packets only when they open a connection (conntrack NEW).
 For each, balancer_decide() (decide.c) chooses the target: seg2
 * inside the pool, a known flow, the stick table, the scheduler; a
 * server down or draining hands new sessions to its backup.  Then:
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

#include <sp/dopt.h>
#include <sp/flow.h>
#include <sp/csum.h>
#include <sp/pkt.h>

#include "balancer/agent.h"
#include "balancer/balancer.h"
#include "balancer/decide.h"
#include "lbspd.h"
#include "system/log.h"
#include "path/path.h"

/* ------------------------------------------------------------ state */

struct lb_state *
balancer_state(struct lbspd *d)
{
	return atomic_load_explicit(&d->lb, memory_order_acquire);
}

static void
state_free(void *lb)
{
	balancer_state_free(lb);
}

int
balancer_configure(struct lbspd *d, const struct sp_conf *c)
{
	struct lb_state *old = atomic_load_explicit(&d->lb,
	    memory_order_relaxed), *lb = NULL;
	bool err;

	if (c->roles & SP_CONF_ROLE_BALANCER) {
		if (d->stick == NULL &&
		    (d->stick = balancer_stick_new(c, d->secret)) == NULL)
			return -1;
		lb = balancer_state_new(c, old, d->stick, d->secret,
		    sp_now_ms(), &err);
		if (lb == NULL)
			return -1;
	}
	/* Queue threads may still read the old state (and its
	 * configuration, retired with it by the caller): freed after a
	 * grace period. */
	atomic_store_explicit(&d->lb, lb, memory_order_release);
	if (old != NULL)
		lbspd_retire(d, state_free, old);
	return 0;
}

void
balancer_free(struct lbspd *d)
{
	balancer_state_free(atomic_load(&d->lb));
	atomic_store(&d->lb, NULL);
	balancer_stick_free(d->stick);
	d->stick = NULL;
}

/* ------------------------------------------------------------ packets */

bool
balancer_owns(struct lbspd *d, const struct lbspd_pkt *p)
{
	const struct sp_conf_vip *cv = p->vip;	/* found by roles_process() */

	if (p->hook != LBSPD_HOOK_PRE_ROUTING || balancer_state(d) == NULL)
		return false;
	if (cv == NULL || cv->nservers == 0)
		return false;
	if (p->walk.nonfirst_frag)
		return true;
	return sp_conf_vip_has_port(cv, p->dport);
}

/* The TCP sequence number of a walked packet, 0 when there is none. */
static uint32_t
tcp_seq(const struct lbspd_pkt *p)
{
	const struct sp_exthdr_info *w = &p->walk;

	if (w->nonfirst_frag || w->l4_proto != SP_NH_TCP ||
	    !sp_pkt_has(p->len, w->l4_off, 8))
		return 0;
	return sp_get32(&p->data[w->l4_off + 4]);
}

/* The decision's counters. */
static void
count_decision(struct lbspd *d, const struct lb_decision *dc)
{
	static const enum lbspd_counter by[] = {
		[LB_BY_SEG2] = LBSPD_C_BY_SEG2,
		[LB_BY_FLOW] = LBSPD_C_BY_FLOW,
		[LB_BY_STICK] = LBSPD_C_BY_STICK,
		[LB_BY_SCHEDULER] = LBSPD_C_BY_SCHEDULER,
	};

	if (dc->seg2_rejected)
		lbspd_count(d, LBSPD_C_SEG2_REJECTED);
	if (dc->stick_retired)
		lbspd_count(d, LBSPD_C_STICK_RETIRED);
	if (dc->flow_retired)
		lbspd_count(d, LBSPD_C_FLOWS_RETIRED);
	if (dc->flow_refused)
		lbspd_count(d, LBSPD_C_SOURCE_LIMITED);
	if (dc->to_backup)
		lbspd_count(d, LBSPD_C_TO_BACKUP);
	if (dc->new_session)
		lbspd_count(d, LBSPD_C_SESSIONS);
	if (dc->label_changed)
		lbspd_count(d, LBSPD_C_LABEL_CHANGED);
	switch (dc->by) {
	case LB_BY_SEG2:
	case LB_BY_FLOW:
	case LB_BY_STICK:
	case LB_BY_SCHEDULER:
		lbspd_count(d, by[dc->by]);
		break;
	case LB_BY_NONE:
		break;
	default:
		log_warnx("balancer: decision without a reason");
		break;
	}
	switch (dc->action) {
	case LB_REWRITE:
		lbspd_count(d, LBSPD_C_BALANCED);
		break;
	case LB_NAT:
		lbspd_count(d, LBSPD_C_BALANCED);
		lbspd_count(d, LBSPD_C_LEGACY_NAT);
		break;
	case LB_DROP_NO_SERVER:
		lbspd_count(d, LBSPD_C_NO_SERVER);
		break;
	case LB_DROP_SOURCE_LIMITED:
		lbspd_count(d, LBSPD_C_SOURCE_LIMITED);
		break;
	case LB_DROP_LABEL_CHANGED:
		break;	/* counted as label_changed */
	default:
		log_warnx("balancer: unknown action %d", (int)dc->action);
		break;
	}
}

void
balancer_packet(struct lbspd *d, struct lbspd_pkt *p, struct lbspd_flows *fs)
{
	/* One balancer state for the whole packet (a snapshot: valid
	 * until this queue thread's next quiescent point). */
	struct lb_state *lb = balancer_state(d);
	/* The vip found by roles_process(), no second search. */
	struct lb_vip *v = balancer_vip_of(lb, p->conf, p->vip);
	/* The flow's shard, locked by the caller (path/dispatch.c). */
	struct lb_ctx ctx = { .lb = lb, .flows = fs->table,
	    .now_ms = pkt_now_ms(p) };
	struct lb_pkt in = {
		.src = &p->data[SP_IP6_OFF_SRC],
		.label = sp_ip6_flowlabel(p->data),
		.proto = p->walk.l4_proto,
		.sport = p->sport,
		.dport = p->dport,
		.tcp_flags = p->tcp_flags,
		.tcp_seq = tcp_seq(p),
		.nonfirst_frag = p->walk.nonfirst_frag,
		.len = p->len,
		.opt = p->has_opt ? &p->opt : NULL,
	};
	struct lb_decision dc;
	enum sp_err err;
	uint8_t *b;

	if (v == NULL)
		return;
	balancer_decide(&ctx, v, &in, &dc);
	count_decision(d, &dc);
	switch (dc.action) {
	case LB_NAT:
		p->set_mark = true;
		p->new_mark = dc.mark;
		return;
	case LB_REWRITE:
		break;
	case LB_DROP_NO_SERVER:
	case LB_DROP_SOURCE_LIMITED:
	case LB_DROP_LABEL_CHANGED:
	default:
		p->drop = true;
		return;
	}
	/* LBSP: destination only, so the server sees the client.  seg2 (read
	 * above) now names the vip: every packet forwarded here was sent to
	 * the vip, and the server answers such sessions from the vip --
	 * what a NAT66 proxy on the way, and the client's socket, expect. */
	b = pkt_writable(p);	/* before reading buf_len */
	(void)sp_dopt_set_seg2_at(b, p->buf_len, &p->walk,
	    lb->conf->option_type, v->addr);
	err = sp_pkt_set_addr_at(b, p->buf_len, &p->walk, SP_ADDR_DST, dc.to);
	if (err != SP_OK) {
		lbspd_count_malformed(d, err);
		p->drop = true;
	}
}

/* ------------------------------------------------------------ periodic */

/* Sessions and load per server from the live flows: a flow to a vip
 * is found by address (balancer_vip), its server by binary search. */
struct tally {
	struct lb_state *lb;
	uint32_t *sessions;	/* per server, all vips in a row */
	uint64_t *load;
	size_t *first;		/* per vip: its first server's slot */
};

static int
tally_fn(const struct sp_flow *f, void *arg)
{
	struct tally *t = arg;
	struct lb_vip *v = balancer_vip(t->lb, f->key.dst);
	const struct lb_target *tg;
	size_t k;

	if (v == NULL || (tg = balancer_target(v, f->server)) == NULL ||
	    tg->server < 0)
		return 0;
	k = t->first[v - t->lb->vips] + (size_t)tg->server;
	t->sessions[k]++;
	t->load[k] += balancer_session_weight(t->lb, v, f->key.dport);
	return 0;
}

void
balancer_tick(struct lbspd *d, uint64_t now)
{
	struct lb_state *lb = d->lb;
	struct tally t = { .lb = lb };
	size_t total = 0, k;
	unsigned i, j;

	if (lb == NULL)
		return;
	(void)balancer_stick_expire(lb->stick, now, 4096 / LB_STICK_STRIPES);
	for (i = 0; i < lb->nvips; i++)
		total += lb->vips[i].nservers;
	t.first = calloc(lb->nvips ? lb->nvips : 1, sizeof(*t.first));
	t.sessions = calloc(total ? total : 1, sizeof(*t.sessions));
	t.load = calloc(total ? total : 1, sizeof(*t.load));
	if (t.first == NULL || t.sessions == NULL || t.load == NULL)
		goto out;
	for (i = 0, k = 0; i < lb->nvips; i++) {
		t.first[i] = k;
		k += lb->vips[i].nservers;
	}
	/* Sessions and load from the flows alive now: ended and expired
	 * flows leave the figures here. */
	(void)lbspd_flows_foreach(d, tally_fn, &t);
	for (i = 0; i < lb->nvips; i++) {
		struct lb_vip *v = &lb->vips[i];
		bool halve = now - v->window_start_ms >= v->window_ms;

		for (j = 0; j < v->nservers; j++) {
			struct lb_server *s = &v->servers[j];

			k = t.first[i] + j;
			atomic_store_explicit(&s->sessions, t.sessions[k],
			    memory_order_relaxed);
			atomic_store_explicit(&s->load, t.load[k],
			    memory_order_relaxed);
			if (atomic_load_explicit(&s->agent_load,
			    memory_order_relaxed) != SP_SCHED_UNKNOWN &&
			    now - atomic_load_explicit(&s->agent_seen_ms,
			    memory_order_relaxed) > AGENT_STALE_MS)
				atomic_store_explicit(&s->agent_load,
				    SP_SCHED_UNKNOWN, memory_order_relaxed);
			/* Least traffic: halve the figures every window. */
			if (halve) {
				uint64_t b = atomic_load_explicit(&s->bytes,
				    memory_order_relaxed), tr = b -
				    atomic_load_explicit(&s->traffic_base,
				    memory_order_relaxed);

				/* traffic / 2 left: bytes counted meanwhile
				 * stay in the window. */
				atomic_store_explicit(&s->traffic_base,
				    b - tr / 2, memory_order_relaxed);
			}
		}
		if (halve)
			v->window_start_ms = now;
	}
out:
	free(t.first);
	free(t.sessions);
	free(t.load);
}
