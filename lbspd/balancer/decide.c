/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * decide.c -- where a packet to a vip goes (see decide.h for the order
 * and the contract).  Reads top-down: the flow, seg2, the known flow,
 * the stick table, the scheduler, then the session's bookkeeping and
 * the forwarding action.
 */
#include "config.h"

#include <string.h>

#include <sp/pkt.h>
#include <sp/tcp.h>

#include "balancer/decide.h"

static const uint8_t zero16[16];

static bool
is_syn(const struct lb_pkt *p)
{
	return p->proto == SP_NH_TCP &&
	    (p->tcp_flags & (SP_TCP_SYN | SP_TCP_ACK)) == SP_TCP_SYN;
}

static bool
up(const struct lb_server *s)
{
	return atomic_load_explicit(&s->up, memory_order_relaxed);
}

static bool
draining(const struct lb_server *s)
{
	return atomic_load_explicit(&s->drain, memory_order_relaxed);
}

/* The stick key of a client: seg1, else {src, label}, else src/N. */
static struct sp_stick_key
stick_key(const struct lb_state *lb, const struct lb_vip *v,
    const struct lb_pkt *p)
{
	if (p->opt != NULL)
		return sp_stick_key_seg1(v->addr, p->opt->seg1);
	if (p->label != 0)
		return sp_stick_key_src_label(v->addr, p->src, p->label);
	return sp_stick_key_src(v->addr, p->src, lb->conf->stick_prefix);
}

/*
 * The scheduler's choice for a new session, in *chosen, and where its
 * session goes (itself or its backup: balancer_target_for_new());
 * NULL when no server can take it.  The vip's lock is held around the pick and that
 * rule, so that both see one state of drain and health (lbspctl drain
 * and the checks change them under that lock).
 */
static const uint8_t *
schedule(const struct lb_ctx *ctx, struct lb_vip *v, const struct lb_pkt *p,
    struct lb_server **chosen, struct lb_decision *out)
{
	const uint8_t *to = NULL;
	struct sp_sched_req req;
	struct sp_stick_key masked;
	unsigned i;
	int k;

	memset(&req, 0, sizeof(req));
	req.src = p->src;
	req.identity = p->opt != NULL ? p->opt->seg1 : NULL;
	req.label = p->label;
	/* hash and maglev hash what the client sticks by (stick_key), so
	 * that every balancer with the same hash-key agrees on it. */
	if (req.identity == NULL && req.label == 0 &&
	    ctx->lb->conf->stick_prefix < 128) {
		masked = sp_stick_key_src(v->addr, req.src,
		    ctx->lb->conf->stick_prefix);
		req.src = masked.id;
	}
	req.dport = p->dport;
	req.session_weight = balancer_session_weight(ctx->lb, v, p->dport);

	pthread_mutex_lock(&v->lock);
	if (v->view_figures)
		for (i = 0; i < v->nservers; i++) {
			const struct lb_server *s = &v->servers[i];
			struct sp_sched_server *w = &v->view[i];

			w->sessions = atomic_load_explicit(&s->sessions,
			    memory_order_relaxed);
			w->load = atomic_load_explicit(&s->load,
			    memory_order_relaxed);
			w->traffic = balancer_traffic(s);
			w->agent_load = atomic_load_explicit(&s->agent_load,
			    memory_order_relaxed);
			w->rtt_us = s->health.rtt_us;
		}
	k = sp_sched_pick(v->sched, v->view, v->nservers, &req);
	if (k >= 0 && (unsigned)k < v->nservers) {
		*chosen = &v->servers[k];
		to = balancer_target_for_new(v, *chosen, &out->to_backup);
	}
	pthread_mutex_unlock(&v->lock);
	return to;
}

/*
 * Passive health (doc/design.md §3.6).  What the balancer sees of a
 * session is its first packet: under single pass the client sends the
 * rest straight to the server it learned, and the kernel's NAT carries
 * the rest of a legacy session.  A server that does not answer shows as
 * the client sending that first packet again: a SYN with the ISN of the
 * flow's first, on a flow that has seen nothing but SYNs (conntrack
 * still calls a legacy one NEW, so it is queued here too).  Once one
 * comes passive-timeout or more after the flow's first SYN, that
 * session was left unanswered that long: it is posted to its server's
 * health dated from the first SYN, and the checks' passive clock
 * (sp_health_tick(), every 100 ms) takes the server down.  The client's
 * first ACK, where it crosses the balancer (redirect off), proves an
 * answer.  A first packet seen once proves nothing either way (the
 * answer goes around the balancer), so a server whose clients never
 * have to send a first packet twice is never taken down; UDP has no
 * retransmission to read and is not judged.  Under the vip's lock.
 */
static void
passive_unanswered(struct lb_vip *v, struct lb_server *s, uint64_t since)
{
	pthread_mutex_lock(&v->lock);
	sp_health_session_new(&s->health, since);
	pthread_mutex_unlock(&v->lock);
}

static void
passive_answered(struct lb_vip *v, struct lb_server *s, uint64_t now)
{
	if (v->passive_timeout_ms == 0)
		return;
	pthread_mutex_lock(&v->lock);
	sp_health_session_answered(&s->health, now);
	pthread_mutex_unlock(&v->lock);
}

/* The server of a target, or NULL (a standby backup, or no target). */
static struct lb_server *
target_server(const struct lb_vip *v, const struct lb_target *t)
{
	return t == NULL || t->server < 0 ? NULL : &v->servers[t->server];
}

/* Steps 1-4: the target, or NULL; out->by says which step.  again: p
 * is the client's retransmission of f's SYN. */
static const uint8_t *
choose(const struct lb_ctx *ctx, struct lb_vip *v, const struct lb_pkt *p,
    const struct sp_flow *f, bool again, struct lb_decision *out)
{
	const struct lb_target *t;
	struct sp_stick_key sk;
	struct lb_server *s;
	const uint8_t *to;
	uint8_t stuck[16];
	uint64_t sh;

	/* 1. seg2, inside the pool only.  A new connection (a SYN) does not
	 * follow it to a draining server: drain keeps sessions, takes no
	 * new ones; the stick table or the scheduler place it. */
	if (p->opt != NULL && memcmp(p->opt->seg2, zero16, 16) != 0) {
		if ((t = balancer_target(v, p->opt->seg2)) == NULL) {
			out->seg2_rejected = true;
		} else {
			s = target_server(v, t);
			if (s == NULL || (up(s) && !(is_syn(p) &&
			    draining(s)))) {
				out->by = LB_BY_SEG2;
				return p->opt->seg2;
			}
		}
	}
	/* 2. A known flow -- but a SYN (a client trying again, e.g. its
	 * retransmission after a fallback) is not sent back to a server
	 * known down: it is placed anew.  Not a legacy client's SYN sent
	 * again: the kernel's NAT bound its connection at the first one
	 * and sends it to the flow's server whatever the mark says. */
	if (f != NULL && memcmp(f->server, zero16, 16) != 0) {
		s = balancer_server(v, f->server);
		if (!is_syn(p) || s == NULL || up(s) ||
		    (again && p->opt == NULL)) {
			out->by = LB_BY_FLOW;
			return f->server;
		}
	}
	/* 3. The stick table; entries name the scheduled server, never a
	 * backup, which takes over while that one is down or draining. */
	sk = stick_key(ctx->lb, v, p);
	sh = balancer_stick_hash(ctx->lb->stick, &sk);
	if (balancer_stick_lookup(ctx->lb->stick, &sk, sh, ctx->now_ms,
	    stuck) &&
	    (s = balancer_server(v, stuck)) != NULL &&
	    (to = balancer_target_for_new(v, s, &out->to_backup)) != NULL) {
		out->by = LB_BY_STICK;
		return to;
	}
	out->to_backup = false;
	/* 4. The scheduler. */
	s = NULL;
	if ((to = schedule(ctx, v, p, &s, out)) == NULL)
		return NULL;
	out->stick_retired = balancer_stick_set(ctx->lb->stick, &sk, sh,
	    s->s.addr, ctx->now_ms);
	out->by = LB_BY_SCHEDULER;
	return to;
}

void
balancer_decide(const struct lb_ctx *ctx, struct lb_vip *v,
    const struct lb_pkt *p, struct lb_decision *out)
{
	const struct sp_conf *c = ctx->lb->conf;
	const struct lb_target *t;
	struct sp_flow_key fk;
	struct lb_server *s;
	struct sp_flow *f;
	const uint8_t *to;
	uint64_t fh;
	bool syn = is_syn(p), reopened, again, first_ack;

	memset(out, 0, sizeof(*out));
	if (p->nonfirst_frag)
		fk = sp_flow_key_3tuple(p->src, v->addr, p->label);
	else
		fk = sp_flow_key_5tuple(p->src, v->addr, p->proto, p->sport,
		    p->dport);
	fh = sp_flow_hash(ctx->flows, &fk);
	f = sp_flow_lookup_hashed(ctx->flows, &fk, fh);
	/* 0. A new flow from a source holding max-flows-per-source flows
	 * is refused before anything is decided or recorded for it. */
	if (f == NULL && c->max_flows_per_source != 0 &&
	    sp_flow_source_count(ctx->flows, p->src) >=
	    c->max_flows_per_source) {
		out->action = LB_DROP_SOURCE_LIMITED;
		return;
	}
	/* A SYN on the tuple of a closed session (FIN both ways or RST,
	 * lingering), or with another ISN than the flow's (a session that
	 * ended unseen, as single pass ends them), opens a new session on a
	 * port used again: it is placed anew (seg2, stick table,
	 * scheduler), never sent after the old one's server.  The same SYN
	 * again, before anything else of the flow, is the client's
	 * retransmission: passive health, before the flow moves. */
	reopened = f != NULL && syn && (f->state == SP_FLOW_CLOSING ||
	    f->flags != p->tcp_seq);
	again = f != NULL && syn && !reopened &&
	    f->state == SP_FLOW_SYN_SENT;
	if (again && v->passive_timeout_ms != 0 &&
	    ctx->now_ms >= f->created_ms + v->passive_timeout_ms &&
	    (s = balancer_server(v, f->server)) != NULL && up(s)) {
		passive_unanswered(v, s, f->created_ms);
		out->unanswered = true;
	}
	/* The client's first ACK after its SYN: the server answered. */
	first_ack = f != NULL && !reopened && p->proto == SP_NH_TCP &&
	    (p->tcp_flags & (SP_TCP_SYN | SP_TCP_ACK)) == SP_TCP_ACK &&
	    (f->state == SP_FLOW_SYN_SENT || f->state == SP_FLOW_SYN_RECV);
	if ((to = choose(ctx, v, p, reopened ? NULL : f, again, out)) ==
	    NULL) {
		out->by = LB_BY_NONE;
		out->action = LB_DROP_NO_SERVER;
		return;
	}
	out->to = to;
	/* A SYN placed elsewhere than its flow's server (that one is
	 * down) starts its session anew there: a new flow, whose age
	 * passive health reads from now on. */
	if (f != NULL && syn && !reopened && memcmp(f->server, to, 16) != 0)
		reopened = true;

	/* The session's bookkeeping: its flow, its server's figures.  One
	 * search of the target serves them and the legacy mark. */
	t = balancer_target(v, to);
	s = target_server(v, t);
	if (f == NULL || reopened) {
		out->new_session = true;
		if (reopened) {
			/* A flow of its own: created_ms is this session's
			 * start, which passive health reads. */
			sp_flow_kill(ctx->flows, f);
			f = NULL;
		}
		if (f == NULL) {
			f = sp_flow_insert_hashed(ctx->flows, &fk, fh,
			    ctx->now_ms, &out->flow_retired);
			out->flow_refused = f == NULL;
		}
		if (f != NULL) {
			memcpy(f->server, to, 16);
			if (p->opt != NULL)
				memcpy(f->identity, p->opt->seg1, 16);
			else
				memset(f->identity, 0, 16);
			f->user = p->label;
			f->flags = syn ? p->tcp_seq : 0;	/* the ISN */
		}
		if (s != NULL) {
			atomic_fetch_add_explicit(&s->sessions, 1,
			    memory_order_relaxed);
			atomic_fetch_add_explicit(&s->load,
			    balancer_session_weight(ctx->lb, v, p->dport),
			    memory_order_relaxed);
			atomic_fetch_add_explicit(&s->sessions_total, 1,
			    memory_order_relaxed);
		}
	} else {
		if (memcmp(f->server, to, 16) != 0) {
			memcpy(f->server, to, 16);
			/* f->server is where out->to points: keep it
			 * valid once the flow moves. */
		}
		/* RFC 7098 §5: a flow whose label changes is a suspect. */
		if (f->user != p->label) {
			out->label_changed = true;
			if (c->flowlabel_strict) {
				out->action = LB_DROP_LABEL_CHANGED;
				return;
			}
		}
	}
	if (f != NULL)
		sp_flow_update(ctx->flows, f, ctx->now_ms, SP_FLOW_ORIG,
		    p->tcp_flags, p->len);
	if (s != NULL) {
		atomic_fetch_add_explicit(&s->packets, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&s->bytes, p->len,
		    memory_order_relaxed);	/* and its traffic */
		if (first_ack)
			passive_answered(v, s, ctx->now_ms);
	}

	if (p->opt != NULL) {
		/* LBSP: destination only, so the server sees the client. */
		out->action = LB_REWRITE;
		return;
	}
	/* Legacy: the kernel's NAT, chosen by the target's mark. */
	if (t == NULL || t->mark == 0) {
		out->action = LB_DROP_NO_SERVER;	/* cannot happen: every
							   target has a mark */
		return;
	}
	out->mark = t->mark;
	out->action = LB_NAT;
}
