/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * client.c -- the client role (doc/design.md §3.1).
 *
 * Egress, a packet to a vip (and one of its ports):
 *   1. the flow is looked up or created (5-tuple as the application
 *      sent it);
 *   2. seg1 = our identity: the packet's source address, or the random
 *      or literal identity of the configuration;
 *   3. seg2 = the server learned for this flow, else the one cached for
 *      (vip, identity), else zero;
 *   4. single pass (redirect on): with a server known, the packet goes
 *      straight to it (destination vip -> server, checksums fixed) --
 *      unless the flow fell back: a redirected SYN sent again without
 *      an answer (the kernel's first retransmission), or any packet of
 *      a redirected flow unanswered for fallback-timeout, goes to the
 *      vip instead, and the server becomes suspect: cache entries
 *      naming it stay (lbspctl cache says why) but are not followed
 *      until an answer names it in seg2 again;
 *   5. the MSS of a SYN is clamped, the option put on.
 * Ingress, a packet from the vip or an allowed server:
 *   1. the flow is found by (proto, ports, identity) among the vips the
 *      source may serve;
 *   2. seg2, when inside the vip's allow-servers (or the vip itself),
 *      is learned for the flow and cached for (vip, identity); anything
 *      else is counted and never followed;
 *   3. a packet from the server itself (not the vip) gets its source
 *      rewritten server -> vip, so the application's socket matches;
 *   4. the MSS of a SYN-ACK is clamped;
 *   5. the slides' rule: a server answering without the option is no
 *      longer followed by new connections.
 * Timers (client_tick(), on the daemon's clock): a redirected SYN still
 * unanswered fallback-timeout after it left makes its server suspect
 * even when the application gave up and sends nothing more.
 * Paths that drop the option (the kernel's discipline for ECN and TCP
 * Fast Open): a SYN that went to the vip with the option and is sent
 * again unanswered (the kernel's first retransmission) leaves without
 * it, as a legacy client's, and the vip is marked option-blackholed
 * for blackhole-timeout's minimum; new connections to it go without the
 * option (and are not redirected) until the mark runs out; then one
 * connection probes with the option: sent again unanswered, it confirms
 * the mark, whose period doubles up to blackhole-timeout's maximum; an
 * answer with the option (to the probe or any connection) clears it.
 * A redirected SYN unanswered is its server's problem (fallback above),
 * not the path's: a flow that fell back never marks the vip.  UDP is
 * left alone: it keeps the option.
 * ICMPv6 errors about a redirected flow quote the packet with the
 * server's address: it is rewritten back to the vip so the socket gets
 * the error (path MTU discovery); "unreachable" about a server makes the
 * client fall back from it.
 */
#include "config.h"

#include <string.h>
#include <arpa/inet.h>

#include <sp/csum.h>
#include <sp/exthdr.h>
#include <sp/tcp.h>

#include "system/log.h"
#include "path/path.h"

static const uint8_t zero16[16];

/* Client bits of sp_flow.flags. */
#define CF_REDIRECTED	0x01	/* packets go straight to f->server */
#define CF_ANSWERED	0x02	/* something came back for this flow */
#define CF_FELL_BACK	0x04	/* its server was dropped: the cache is
				   not consulted again for it */
#define CF_VIP_SYN	0x08	/* a SYN left to the vip with the option */
#define CF_NO_OPTION	0x10	/* the flow goes without the option */
#define CF_PROBE	0x20	/* it probes a blackholed vip */
#define CF_OPT_ANSWERED	0x40	/* an answer with the option came */

/* The counter of each reason to fall back. */
static const enum lbspd_counter suspect_counter[LBSPD_SUSPECT__COUNT] = {
	[LBSPD_SUSPECT_NONE] = LBSPD_C_FALLBACKS,
	[LBSPD_SUSPECT_SYN_RETRANSMIT] = LBSPD_C_FALLBACK_SYN_RETRANSMIT,
	[LBSPD_SUSPECT_TIMER] = LBSPD_C_FALLBACK_TIMER,
	[LBSPD_SUSPECT_ICMP] = LBSPD_C_FALLBACK_ICMP,
	[LBSPD_SUSPECT_NO_OPTION] = LBSPD_C_FALLBACK_NO_OPTION,
};

/*
 * Give up on server, for reason: it becomes suspect in the cache (no new
 * connection is redirected to it until an answer names it again); flow
 * f (may be NULL) goes back to the vip for the rest of its life.
 */
static void
client_fallback(struct lbspd *d, const uint8_t server[16],
    struct sp_flow *f, enum lbspd_suspect reason)
{
	uint8_t srv[16];

	memcpy(srv, server, 16);	/* server may be f->server */
	pthread_mutex_lock(&d->cache_lock);
	(void)sp_cache_suspect_server(d->cache, srv, (uint8_t)reason,
	    sp_now_ms());
	pthread_mutex_unlock(&d->cache_lock);
	if (f != NULL) {
		memset(f->server, 0, 16);
		f->flags = (f->flags & ~(uint32_t)CF_REDIRECTED) |
		    CF_FELL_BACK;
	}
	lbspd_count(d, LBSPD_C_FALLBACKS);
	if ((unsigned)reason < LBSPD_SUSPECT__COUNT &&
	    reason != LBSPD_SUSPECT_NONE)
		lbspd_count(d, suspect_counter[reason]);
}

/* Time the redirected SYN of f: client_tick() looks at it when due. */
static void
pending_push(struct lbspd *d, const struct sp_conf *c, const struct sp_flow *f)
{
	struct lbspd_pending *pe;

	pthread_mutex_lock(&d->pending_lock);
	if (d->pending != NULL && d->pending_count < LBSPD_PENDING_MAX) {
		pe = &d->pending[(d->pending_head + d->pending_count) %
		    LBSPD_PENDING_MAX];
		pe->key = f->key;
		pe->created_ms = f->created_ms;
		pe->due_ms = f->created_ms + c->fallback_timeout_ms;
		d->pending_count++;
	}
	pthread_mutex_unlock(&d->pending_lock);
}

static void blackhole_remove(struct lbspd *, struct lbspd_blackhole *);

void
client_tick(struct lbspd *d, uint64_t now)
{
	struct lbspd_pending due[LBSPD_BATCH];
	struct lbspd_flows *fs;
	struct sp_flow *f;
	unsigned i, n;

	/* Marks of vips a reload removed go. */
	pthread_mutex_lock(&d->blackhole_lock);
	for (i = 0; i < d->nblackholes;)
		if (sp_conf_vip_find(d->conf, d->blackholes[i].vip) == NULL)
			blackhole_remove(d, &d->blackholes[i]);
		else
			i++;
	pthread_mutex_unlock(&d->blackhole_lock);

	/* The SYNs due, a batch at a time: taken off the ring under its
	 * lock, then each flow under its shard's (never both). */
	do {
		pthread_mutex_lock(&d->pending_lock);
		for (n = 0; n < LBSPD_BATCH && d->pending_count > 0; n++) {
			if (d->pending[d->pending_head].due_ms > now)
				break;
			due[n] = d->pending[d->pending_head];
			d->pending_head = (d->pending_head + 1) %
			    LBSPD_PENDING_MAX;
			d->pending_count--;
		}
		pthread_mutex_unlock(&d->pending_lock);
		for (i = 0; i < n; i++) {
			fs = lbspd_flows_lock(d, due[i].key.src);
			f = sp_flow_lookup(fs->table, &due[i].key);
			if (f != NULL && f->created_ms == due[i].created_ms &&
			    (f->flags & CF_REDIRECTED) &&
			    !(f->flags & (CF_ANSWERED | CF_FELL_BACK)))
				client_fallback(d, f->server, f,
				    LBSPD_SUSPECT_TIMER);
			lbspd_flows_unlock(fs);
		}
	} while (n == LBSPD_BATCH);
}

/* ------------------------------------------------------------ blackholes */

static struct lbspd_blackhole *
blackhole_find(struct lbspd *d, const uint8_t vip[16])
{
	unsigned i;

	/* Only the marks in use: a new connection to a vip asks. */
	for (i = 0; i < d->nblackholes; i++)
		if (memcmp(d->blackholes[i].vip, vip, 16) == 0)
			return &d->blackholes[i];
	return NULL;
}

/* Unmark b, keeping the marks in use first. */
static void
blackhole_remove(struct lbspd *d, struct lbspd_blackhole *b)
{
	*b = d->blackholes[--d->nblackholes];
}

/*
 * A new connection to vip: may it carry the option?  Not while the vip
 * is marked, nor while another connection probes it; once the mark ran
 * out, this connection is the probe (f gets CF_PROBE).
 */
static bool
blackhole_allows(struct lbspd *d, const uint8_t vip[16], struct sp_flow *f,
    uint64_t now)
{
	struct lbspd_blackhole *b;
	bool allow = true;

	pthread_mutex_lock(&d->blackhole_lock);
	b = blackhole_find(d, vip);
	if (b == NULL) {
		;
	} else if (now >= b->until_ms && (b->probe_ms == 0 ||
	    now - b->probe_ms >= LBSPD_BLACKHOLE_PROBE_MS)) {
		b->probe_ms = now;
		f->flags |= CF_PROBE;
		lbspd_count(d, LBSPD_C_BLACKHOLE_PROBES);
	} else {
		lbspd_count(d, LBSPD_C_BLACKHOLE_AVOIDED);
		allow = false;
	}
	pthread_mutex_unlock(&d->blackhole_lock);
	return allow;
}

/*
 * A SYN to vip with the option was not answered by the time the kernel
 * sent it again: mark the vip (a probe's failure doubles the period).
 */
static void
blackhole_detected(struct lbspd *d, const struct sp_conf *c,
    const uint8_t vip[16], bool probe, uint64_t now)
{
	struct lbspd_blackhole *b;
	char a[INET6_ADDRSTRLEN];
	uint32_t period;

	pthread_mutex_lock(&d->blackhole_lock);
	b = blackhole_find(d, vip);
	if ((b != NULL && !probe) ||	/* a connection older than the mark */
	    (b == NULL && d->nblackholes == SP_CONF_MAX_VIPS)) {
		/* (the second not reached: one per vip at most) */
		pthread_mutex_unlock(&d->blackhole_lock);
		return;
	}
	if (b == NULL) {
		b = &d->blackholes[d->nblackholes++];
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
	period = b->period_ms;
	pthread_mutex_unlock(&d->blackhole_lock);
	lbspd_count(d, LBSPD_C_BLACKHOLE_DETECTED);
	log_info("client: the path to %s drops the option: without it for "
	    "%u ms", inet_ntop(AF_INET6, vip, a, sizeof(a)), period);
}

/* An answer with the option on a connection to vip: the path works. */
static void
blackhole_cleared(struct lbspd *d, const uint8_t vip[16])
{
	struct lbspd_blackhole *b;
	char a[INET6_ADDRSTRLEN];

	pthread_mutex_lock(&d->blackhole_lock);
	b = blackhole_find(d, vip);
	if (b != NULL)
		blackhole_remove(d, b);
	pthread_mutex_unlock(&d->blackhole_lock);
	if (b == NULL)
		return;
	lbspd_count(d, LBSPD_C_BLACKHOLE_RECOVERED);
	log_info("client: the path to %s carries the option again",
	    inet_ntop(AF_INET6, vip, a, sizeof(a)));
}

/* ------------------------------------------------------------ packets */

static bool
vip_has_port(const struct sp_conf_vip *vip, uint8_t proto, uint16_t port)
{
	/* A vip without ports takes every protocol; with ports, only the
	 * protocols that have them. */
	if (vip->nports == 0)
		return true;
	if (proto != SP_NH_TCP && proto != SP_NH_UDP)
		return false;
	return sp_conf_vip_has_port(vip, port);
}

/* May the client follow server for vip? Only inside allow-servers. */
static bool
server_allowed(const struct sp_conf_vip *vip, const uint8_t server[16])
{
	return memcmp(server, vip->addr, 16) == 0 ||
	    sp_conf_vip_allows(vip, server);
}

/* seg1 for packet p from src. */
static const uint8_t *
client_identity(const struct lbspd_pkt *p, const uint8_t src[16])
{
	return p->conf->identity == SP_CONF_IDENTITY_ADDRESS ? src :
	    p->identity;
}

bool
client_owns_egress(struct lbspd *d, const struct lbspd_pkt *p,
    const struct sp_conf_vip **vipp)
{
	const struct sp_conf_vip *vip;

	(void)d;
	vip = sp_conf_vip_find(p->conf, &p->data[SP_IP6_OFF_DST]);
	if (vip == NULL || !vip_has_port(vip, p->walk.l4_proto, p->dport))
		return false;
	*vipp = vip;
	return true;
}

void
client_egress(struct lbspd *d, struct lbspd_pkt *p,
    const struct sp_conf_vip *vip)
{
	const struct sp_conf *c = p->conf;
	const uint8_t *src = &p->data[SP_IP6_OFF_SRC];
	struct sp_flow_key key;
	struct sp_cache_entry ce;
	struct lbspd_flows *fs;
	struct sp_flow *f;
	struct sp_lbsp opt;
	uint64_t now = sp_now_ms();
	bool syn, resyn = false, unanswered = false, to_vip;
	bool hit;

	/* 1. The flow, as the application sees it.  A SYN on a flow
	 * already redirected and not answered is a retransmission.  Its
	 * shard stays locked until the packet's fate is decided. */
	syn = p->walk.l4_proto == SP_NH_TCP &&
	    (p->tcp_flags & (SP_TCP_SYN | SP_TCP_ACK)) == SP_TCP_SYN;
	key = sp_flow_key_5tuple(src, vip->addr, p->walk.l4_proto, p->sport,
	    p->dport);
	fs = lbspd_flows_lock(d, key.src);
	f = sp_flow_lookup(fs->table, &key);
	if (f == NULL)
		f = flow_new(d, &key, now);
	if (f != NULL) {
		unanswered = (f->flags & CF_REDIRECTED) &&
		    !(f->flags & CF_ANSWERED);
		resyn = syn && unanswered;
		sp_flow_update(fs->table, f, now, SP_FLOW_ORIG, p->tcp_flags,
		    p->len);
	}

	/* 0. A path that drops the option: a SYN to the vip sent again
	 * unanswered leaves without it and marks the vip; new connections
	 * to a marked vip go without it (and to the vip) but the probe.
	 * A flow that fell back from its server is not the path's case:
	 * the balancer may still send it to the dead server. */
	if (f != NULL && syn && !(f->flags & CF_NO_OPTION)) {
		if (f->packets[SP_FLOW_ORIG] == 1) {
			if (!blackhole_allows(d, vip->addr, f, now))
				f->flags |= CF_NO_OPTION;
		} else if ((f->flags & (CF_VIP_SYN | CF_ANSWERED |
		    CF_FELL_BACK)) == CF_VIP_SYN) {
			blackhole_detected(d, c, vip->addr,
			    (f->flags & CF_PROBE) != 0, now);
			f->flags |= CF_NO_OPTION;
			lbspd_count(d, LBSPD_C_BLACKHOLE_STRIPPED);
		}
	}
	if (f != NULL && (f->flags & CF_NO_OPTION)) {
		lbspd_flows_unlock(fs);
		return;	/* as a legacy client's */
	}

	/* 2. Who we are. */
	memcpy(opt.seg1, client_identity(p, src), 16);
	if (f != NULL)
		memcpy(f->identity, opt.seg1, 16);

	/* 3. Who serves us, if known (a suspect server is not). */
	memset(opt.seg2, 0, 16);
	if (f != NULL && memcmp(f->server, zero16, 16) != 0) {
		memcpy(opt.seg2, f->server, 16);
	} else if (f == NULL || !(f->flags & CF_FELL_BACK)) {
		pthread_mutex_lock(&d->cache_lock);
		hit = sp_cache_get(d->cache, vip->addr, opt.seg1, now, &ce);
		pthread_mutex_unlock(&d->cache_lock);
		if (hit) {
			if (ce.state == SP_CACHE_OK)
				memcpy(opt.seg2, ce.server, 16);
			else if (f != NULL && f->packets[SP_FLOW_ORIG] == 1)
				lbspd_count(d, LBSPD_C_SUSPECT_AVOIDED);
		}
		if (f != NULL)
			memcpy(f->server, opt.seg2, 16);
	}

	/* 4. Single pass, unless the server has not answered in time: a
	 * SYN sent again (the kernel's first retransmission) or a packet
	 * after fallback-timeout goes to the vip. */
	if (c->redirect && f != NULL &&
	    memcmp(opt.seg2, zero16, 16) != 0 &&
	    memcmp(opt.seg2, vip->addr, 16) != 0) {
		if (resyn) {
			client_fallback(d, opt.seg2, f,
			    LBSPD_SUSPECT_SYN_RETRANSMIT);
			memset(opt.seg2, 0, 16);
		} else if (unanswered &&
		    now - f->created_ms >= c->fallback_timeout_ms) {
			client_fallback(d, opt.seg2, f, LBSPD_SUSPECT_TIMER);
			memset(opt.seg2, 0, 16);
		} else {
			uint8_t *b = pkt_writable(p);	/* before buf_len */

			if (sp_pkt_set_addr(b, p->buf_len, SP_ADDR_DST,
			    opt.seg2) == SP_OK) {
				if (!(f->flags & CF_REDIRECTED) && syn)
					pending_push(d, c, f);
				f->flags |= CF_REDIRECTED;
				lbspd_count(d, LBSPD_C_REDIRECTED);
			}
		}
	}
	to_vip = f != NULL && !(f->flags & CF_REDIRECTED);
	lbspd_flows_unlock(fs);

	/* 5. On the wire.  A SYN that left to the vip with the option is
	 * remembered (the flow looked up again: the shard was let go
	 * during the insertion). */
	pkt_clamp_mss(d, p);
	if (pkt_put_option(d, p, &opt) && syn && to_vip) {
		fs = lbspd_flows_lock(d, key.src);
		f = sp_flow_lookup(fs->table, &key);
		if (f != NULL && !(f->flags & CF_REDIRECTED))
			f->flags |= CF_VIP_SYN;
		lbspd_flows_unlock(fs);
	}
}

/* State of the search for a flow of ours by (proto, ports). */
struct client_match {
	const struct lbspd_pkt *p;
	const struct sp_conf_vip *vip;	/* out */
	struct sp_flow *flow;		/* out */
};

/*
 * Find the flow an ingress packet belongs to, and its vip.  Every key
 * tried has the packet's destination as source: fs, its shard, is
 * locked by the caller.
 */
static bool
client_find_flow(struct lbspd_flows *fs, const struct lbspd_pkt *p,
    struct client_match *m)
{
	const struct sp_conf *c = p->conf;
	const uint8_t *src = &p->data[SP_IP6_OFF_SRC];
	const uint8_t *dst = &p->data[SP_IP6_OFF_DST];
	struct sp_flow_key key;
	unsigned i;

	m->vip = NULL;
	m->flow = NULL;
	/* From the vip itself: the reverse of the flow's key. */
	m->vip = sp_conf_vip_find(c, src);
	if (m->vip != NULL) {
		key = sp_flow_key_5tuple(dst, src, p->walk.l4_proto, p->dport,
		    p->sport);
		m->flow = sp_flow_lookup(fs->table, &key);
		return true;
	}
	/* From a server: one of the vips it may serve (at most 64). */
	for (i = 0; i < c->nvips; i++) {
		const struct sp_conf_vip *vip = &c->vips[i];

		if (!server_allowed(vip, src) ||
		    !vip_has_port(vip, p->walk.l4_proto, p->sport))
			continue;
		key = sp_flow_key_5tuple(dst, vip->addr, p->walk.l4_proto,
		    p->dport, p->sport);
		m->flow = sp_flow_lookup(fs->table, &key);
		if (m->flow != NULL) {
			m->vip = vip;
			return true;
		}
	}
	return false;
}

bool
client_ingress(struct lbspd *d, struct lbspd_pkt *p)
{
	const uint8_t *src = &p->data[SP_IP6_OFF_SRC];
	const uint8_t *dst = &p->data[SP_IP6_OFF_DST];
	struct client_match m;
	struct lbspd_flows *fs;
	uint64_t now = sp_now_ms();
	bool from_server_known;
	uint8_t *b;

	fs = lbspd_flows_lock(d, dst);
	if (!client_find_flow(fs, p, &m)) {
		lbspd_flows_unlock(fs);
		return false;	/* not from a vip or an allowed server */
	}

	if (p->has_opt) {
		/* 1. Ours? (seg1 is the identity we sent) */
		if (memcmp(p->opt.seg1, client_identity(p, dst), 16) != 0) {
			lbspd_flows_unlock(fs);
			lbspd_count(d, LBSPD_C_IDENTITY_MISMATCH);
			return true;
		}
		/* 2. Learn seg2 inside allow-servers only. */
		if (memcmp(p->opt.seg2, zero16, 16) != 0) {
			if (!server_allowed(m.vip, p->opt.seg2)) {
				lbspd_count(d, LBSPD_C_SEG2_REJECTED);
			} else {
				struct sp_cache_entry ce;
				bool revived, retired;

				if (m.flow != NULL &&
				    memcmp(m.flow->server, p->opt.seg2, 16) != 0) {
					memcpy(m.flow->server, p->opt.seg2, 16);
					lbspd_count(d, LBSPD_C_LEARNED);
				}
				/* Named in seg2: alive, no longer suspect. */
				pthread_mutex_lock(&d->cache_lock);
				revived = sp_cache_get(d->cache, m.vip->addr,
				    p->opt.seg1, now, &ce) &&
				    ce.state == SP_CACHE_SUSPECT &&
				    memcmp(ce.server, p->opt.seg2, 16) == 0;
				retired = sp_cache_set(d->cache, m.vip->addr,
				    p->opt.seg1, p->opt.seg2, now);
				pthread_mutex_unlock(&d->cache_lock);
				if (revived)
					lbspd_count(d, LBSPD_C_SUSPECT_REVIVED);
				if (retired)
					lbspd_count(d, LBSPD_C_CACHE_RETIRED);
			}
		}
	}
	/* The path carries the option: a blackhole mark goes (looked up
	 * once per flow). */
	if (p->has_opt && m.flow != NULL &&
	    !(m.flow->flags & CF_OPT_ANSWERED)) {
		m.flow->flags |= CF_OPT_ANSWERED;
		blackhole_cleared(d, m.vip->addr);
	}
	if (m.flow != NULL) {
		m.flow->flags |= CF_ANSWERED;
		sp_flow_update(fs->table, m.flow, now, SP_FLOW_REPLY,
		    p->tcp_flags, p->len);
	}
	from_server_known = m.flow != NULL &&
	    memcmp(m.flow->server, src, 16) == 0;
	lbspd_flows_unlock(fs);

	/* 5. The slides' rule: a server that answers without the option is
	 * not followed any more (this flow cannot move; new ones will). */
	if (!p->has_opt && memcmp(src, m.vip->addr, 16) != 0) {
		struct sp_cache_entry ce;
		bool fell = false;

		lbspd_count(d, LBSPD_C_NO_OPTION_ANSWERS);
		/* Once (the walk of the cache is not per packet): when our
		 * own entry still follows this server. */
		pthread_mutex_lock(&d->cache_lock);
		if (sp_cache_get(d->cache, m.vip->addr,
		    client_identity(p, dst), now, &ce) &&
		    ce.state == SP_CACHE_OK && memcmp(ce.server, src, 16) == 0 &&
		    sp_cache_suspect_server(d->cache, src,
		    LBSPD_SUSPECT_NO_OPTION, now) > 0)
			fell = true;
		pthread_mutex_unlock(&d->cache_lock);
		if (fell) {
			lbspd_count(d, LBSPD_C_FALLBACKS);
			lbspd_count(d, LBSPD_C_FALLBACK_NO_OPTION);
		}
	}

	/* 3. From the server itself: make it look like the vip. */
	if (memcmp(src, m.vip->addr, 16) != 0) {
		if (!from_server_known) {
			lbspd_count(d, LBSPD_C_SEG2_REJECTED);
			return true;
		}
		b = pkt_writable(p);	/* before reading buf_len */
		if (sp_pkt_set_addr(b, p->buf_len, SP_ADDR_SRC, m.vip->addr) ==
		    SP_OK)
			lbspd_count(d, LBSPD_C_SRC_REWRITTEN);
	}

	/* 4. Our own segments carry 40 more bytes: clamp what we are told. */
	if (p->tcp_flags & SP_TCP_ACK)
		pkt_clamp_mss(d, p);
	return true;
}

/*
 * An ICMPv6 error about one of our redirected flows quotes our packet
 * as it left: to the server.  Rewrite the quoted destination back to
 * the vip (the socket only knows the vip: path MTU discovery and
 * connection errors reach it), and on "destination unreachable" fall
 * back from that server.  Returns true when the packet was ours.
 */
bool
client_icmp_error(struct lbspd *d, struct lbspd_pkt *p)
{
	const struct sp_conf *c = p->conf;
	struct sp_exthdr_info w;
	struct sp_flow_key key;
	struct lbspd_flows *fs;
	struct sp_flow *f;
	const uint8_t *in, *isrc, *idst;
	uint16_t sport = 0, dport = 0;
	size_t off, ilen;
	unsigned i;
	uint8_t *b;

	if (p->walk.l4_proto != SP_NH_ICMPV6 ||
	    !sp_icmp6_is_error(p->data, p->len, &off))
		return false;
	in = p->data + off;
	ilen = p->len - off;
	if (sp_exthdr_walk(in, ilen, SP_WALK_QUOTED, &w) != SP_OK)
		return false;
	isrc = in + SP_IP6_OFF_SRC;
	idst = in + SP_IP6_OFF_DST;
	if ((w.l4_proto == SP_NH_TCP || w.l4_proto == SP_NH_UDP) &&
	    sp_pkt_has(ilen, w.l4_off, 4)) {
		sport = sp_get16(in + w.l4_off);
		dport = sp_get16(in + w.l4_off + 2);
	}
	/* Every key tried has the quoted source as source: one shard,
	 * held for this (rare) packet. */
	fs = lbspd_flows_lock(d, isrc);
	for (i = 0; i < c->nvips; i++) {
		const struct sp_conf_vip *vip = &c->vips[i];

		if (vip->nservers != 0 || !server_allowed(vip, idst) ||
		    memcmp(idst, vip->addr, 16) == 0)
			continue;
		key = sp_flow_key_5tuple(isrc, vip->addr, w.l4_proto, sport,
		    dport);
		f = sp_flow_lookup(fs->table, &key);
		if (f == NULL || memcmp(f->server, idst, 16) != 0)
			continue;
		b = pkt_writable(p);	/* before reading buf_len */
		if (sp_icmp6_set_inner_addr(b, p->buf_len, SP_ADDR_DST,
		    vip->addr) == SP_OK)
			lbspd_count(d, LBSPD_C_ICMP_REWRITTEN);
		/* Type 1, destination unreachable (sp_icmp6_is_error()
		 * checked the header is there): fall back.  If the server
		 * never answered this flow, the error is ours alone: the
		 * next retransmission goes to the vip, and the application,
		 * still connecting, must not see it. */
		if (p->data[p->walk.l4_off] == 1) {
			bool answered = (f->flags & CF_ANSWERED) != 0;

			client_fallback(d, f->server, f, LBSPD_SUSPECT_ICMP);
			if (!answered) {
				p->drop = true;
				lbspd_count(d, LBSPD_C_ICMP_ABSORBED);
			}
		}
		lbspd_flows_unlock(fs);
		return true;
	}
	lbspd_flows_unlock(fs);
	return false;
}
