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
#include "path/fallback.h"
#include "path/path.h"

static const uint8_t zero16[16];

/* The settings of the client's decisions, from configuration c. */
static struct fb_conf
client_fb_conf(const struct sp_conf *c)
{
	struct fb_conf fc = {
		.redirect = c->redirect,
		.fallback_timeout_ms = c->fallback_timeout_ms,
		.blackhole_min_ms = c->blackhole_min_ms,
		.blackhole_max_ms = c->blackhole_max_ms,
	};

	return fc;
}

/* Give up on server for reason (fallback.c), under the cache's lock;
 * f's shard is held. */
static void
client_fallback(struct lbspd *d, const uint8_t server[16],
    struct sp_flow *f, enum lbspd_suspect reason, uint64_t now)
{
	pthread_mutex_lock(&d->cache_lock);
	fb_fallback(d->cache, f, server, reason, now, &d->stats);
	pthread_mutex_unlock(&d->cache_lock);
}

void
client_tick(struct lbspd *d, uint64_t now)
{
	struct lbspd_pending due[LBSPD_BATCH];
	struct lbspd_flows *fs;
	struct sp_flow *f;
	unsigned i, n;

	/* Marks of vips a reload removed go. */
	pthread_mutex_lock(&d->blackhole_lock);
	fb_marks_prune(&d->blackholes, d->conf);
	pthread_mutex_unlock(&d->blackhole_lock);

	/* The SYNs due, a batch at a time: taken off the ring under its
	 * lock, then each flow under its shard's (never both). */
	do {
		pthread_mutex_lock(&d->pending_lock);
		n = fb_pending_due(&d->pending, now, due, LBSPD_BATCH);
		pthread_mutex_unlock(&d->pending_lock);
		for (i = 0; i < n; i++) {
			fs = lbspd_flows_lock(d, due[i].key.src);
			f = sp_flow_lookup(fs->table, &due[i].key);
			if (fb_pending_unanswered(f, &due[i]))
				client_fallback(d, f->server, f,
				    LBSPD_SUSPECT_TIMER, now);
			lbspd_flows_unlock(fs);
		}
	} while (n == LBSPD_BATCH);
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
	const struct sp_conf_vip *vip = p->vip;	/* found by roles_process() */

	(void)d;
	if (vip == NULL || !vip_has_port(vip, p->walk.l4_proto, p->dport))
		return false;
	*vipp = vip;
	return true;
}

void
client_egress(struct lbspd *d, struct lbspd_pkt *p,
    const struct sp_conf_vip *vip)
{
	const struct fb_conf fc = client_fb_conf(p->conf);
	const uint8_t *src = &p->data[SP_IP6_OFF_SRC];
	struct sp_flow_key key;
	struct sp_cache_entry ce;
	struct lbspd_flows *fs;
	struct sp_flow *f;
	struct sp_lbsp opt;
	uint64_t now = pkt_now_ms(p);
	bool syn, resyn = false, unanswered = false, to_vip, hit;
	uint32_t marked_ms = 0;
	char a[INET6_ADDRSTRLEN];

	/* 1. The flow, as the application sees it.  A SYN on a flow
	 * already redirected and not answered is a retransmission.  Its
	 * shard stays locked until the packet's fate is decided. */
	syn = p->walk.l4_proto == SP_NH_TCP &&
	    (p->tcp_flags & (SP_TCP_SYN | SP_TCP_ACK)) == SP_TCP_SYN;
	key = sp_flow_key_5tuple(src, vip->addr, p->walk.l4_proto, p->sport,
	    p->dport);
	fs = lbspd_flows_lock(d, key.src);
	f = flow_new(d, fs, &key, now);	/* found, or made */
	if (f != NULL) {
		unanswered = (f->flags & CF_REDIRECTED) &&
		    !(f->flags & CF_ANSWERED);
		resyn = syn && unanswered;
		sp_flow_update(fs->table, f, now, SP_FLOW_ORIG, p->tcp_flags,
		    p->len);
	}

	/* 0. A path that drops the option: a SYN to the vip sent again
	 * unanswered leaves without it and marks the vip; new connections
	 * to a marked vip go without it (and to the vip) but the probe. */
	if (f != NULL && syn && !(f->flags & CF_NO_OPTION)) {
		pthread_mutex_lock(&d->blackhole_lock);
		(void)fb_syn_without_option(&d->blackholes, &fc, f, vip->addr,
		    now, &d->stats, &marked_ms);
		pthread_mutex_unlock(&d->blackhole_lock);
	}
	if (f != NULL && (f->flags & CF_NO_OPTION)) {
		lbspd_flows_unlock(fs);
		if (marked_ms != 0)
			log_info("client: the path to %s drops the option: "
			    "without it for %u ms", inet_ntop(AF_INET6,
			    vip->addr, a, sizeof(a)), marked_ms);
		return;	/* as a legacy client's */
	}

	/* 2. Who we are. */
	memcpy(opt.seg1, client_identity(p, src), 16);
	if (f != NULL)
		memcpy(f->identity, opt.seg1, 16);

	/* 3. Who serves us, if known (a suspect server is not). */
	memset(opt.seg2, 0, 16);
	if (!fb_server_of_flow(f, opt.seg2) && fb_cache_wanted(f)) {
		pthread_mutex_lock(&d->cache_lock);
		hit = sp_cache_get(d->cache, vip->addr, opt.seg1, now, &ce);
		pthread_mutex_unlock(&d->cache_lock);
		fb_server_from_cache(f, hit, &ce, opt.seg2, &d->stats);
	}

	/* 4. Single pass, unless the server has not answered in time: a
	 * SYN sent again (the kernel's first retransmission) or a packet
	 * after fallback-timeout goes to the vip. */
	switch (fb_route(&fc, f, opt.seg2, vip->addr, resyn, unanswered,
	    now)) {
	case FB_ROUTE_VIP:
		break;
	case FB_ROUTE_FALLBACK_SYN:
		client_fallback(d, opt.seg2, f, LBSPD_SUSPECT_SYN_RETRANSMIT,
		    now);
		memset(opt.seg2, 0, 16);
		break;
	case FB_ROUTE_FALLBACK_TIMER:
		client_fallback(d, opt.seg2, f, LBSPD_SUSPECT_TIMER, now);
		memset(opt.seg2, 0, 16);
		break;
	case FB_ROUTE_SERVER: {
		uint8_t *b = pkt_writable(p);	/* before buf_len */

		if (sp_pkt_set_addr_at(b, p->buf_len, &p->walk, SP_ADDR_DST,
		    opt.seg2) == SP_OK && fb_redirected(f, syn, &d->stats)) {
			/* Not timed when the ring is full: the packet path
			 * alone then sees its SYN sent again. */
			pthread_mutex_lock(&d->pending_lock);
			(void)fb_pending_push(&d->pending, &fc, f, &d->stats);
			pthread_mutex_unlock(&d->pending_lock);
		}
		break;
	}
	default:
		log_warnx("client: unknown route");
		break;
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
		if (f != NULL)
			fb_vip_syn_sent(f);
		lbspd_flows_unlock(fs);
	}
}

/* State of the search for a flow of ours by (proto, ports). */
struct client_match {
	const struct sp_conf_vip *vip;	/* out */
	struct sp_flow *flow;		/* out */
};

/*
 * Find the flow an ingress packet belongs to, and its vip.  Every key
 * tried has the packet's destination as source: fs, its shard, is
 * locked by the caller.
 *
 * A flow is the whole 5-tuple (ours, the vip, ports, proto), and one
 * local port may hold flows to several vips at once (Linux picks
 * ephemeral ports per destination; a NAT66 proxy does it all the
 * time).  An answer from a server carries the server's address, not
 * the vip's: it belongs to the flow that learned that server, looked
 * for first among every vip that allows it; only else, being the first
 * answer of a flow opened to the vip, to a flow that has no server yet
 * -- one, when each vip is served from addresses of its own (lbsp.7);
 * last, to any flow on these ports (whose checks then count it).
 * Taking the first vip with a flow on these ports, as this did, gave
 * the answers of one vip's server to the other vip's flow.
 */
static bool
client_find_flow(struct lbspd_flows *fs, const struct lbspd_pkt *p,
    struct client_match *m)
{
	const struct sp_conf *c = p->conf;
	const uint8_t *src = &p->data[SP_IP6_OFF_SRC];
	const uint8_t *dst = &p->data[SP_IP6_OFF_DST];
	struct sp_flow_key key;
	struct sp_flow *f;
	bool fresh = false;
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
	/* From a server: the flow of one of the vips it may serve. */
	for (i = 0; i < c->nvips; i++) {
		const struct sp_conf_vip *vip = &c->vips[i];

		if (!server_allowed(vip, src) ||
		    !vip_has_port(vip, p->walk.l4_proto, p->sport))
			continue;
		key = sp_flow_key_5tuple(dst, vip->addr, p->walk.l4_proto,
		    p->dport, p->sport);
		f = sp_flow_lookup(fs->table, &key);
		if (f == NULL)
			continue;
		if (memcmp(f->server, src, 16) == 0) {
			m->vip = vip;
			m->flow = f;
			return true;
		}
		if (m->flow == NULL ||
		    (!fresh && memcmp(f->server, zero16, 16) == 0)) {
			m->vip = vip;
			m->flow = f;
			fresh = memcmp(f->server, zero16, 16) == 0;
		}
	}
	return m->flow != NULL;
}

bool
client_ingress(struct lbspd *d, struct lbspd_pkt *p)
{
	const uint8_t *src = &p->data[SP_IP6_OFF_SRC];
	const uint8_t *dst = &p->data[SP_IP6_OFF_DST];
	struct client_match m;
	struct lbspd_flows *fs;
	uint64_t now = pkt_now_ms(p);
	bool from_server_known, cleared = false;
	char a[INET6_ADDRSTRLEN];
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
		/* 2. Learn seg2 inside allow-servers only; named in seg2,
		 * a suspect server is alive again. */
		if (memcmp(p->opt.seg2, zero16, 16) != 0) {
			if (!server_allowed(m.vip, p->opt.seg2)) {
				lbspd_count(d, LBSPD_C_SEG2_REJECTED);
			} else {
				struct sp_cache_entry ce;
				bool hit;

				fb_learn(m.flow, p->opt.seg2, &d->stats);
				pthread_mutex_lock(&d->cache_lock);
				hit = sp_cache_get(d->cache, m.vip->addr,
				    p->opt.seg1, now, &ce);
				(void)fb_revived(hit, &ce, p->opt.seg2,
				    &d->stats);
				if (sp_cache_set(d->cache, m.vip->addr,
				    p->opt.seg1, p->opt.seg2, now))
					lbspd_count(d, LBSPD_C_CACHE_RETIRED);
				pthread_mutex_unlock(&d->cache_lock);
			}
		}
	}
	/* The path carries the option: a blackhole mark goes (looked up
	 * once per flow). */
	if (m.flow != NULL) {
		if (fb_answered(m.flow, p->has_opt)) {
			pthread_mutex_lock(&d->blackhole_lock);
			cleared = fb_mark_clear(&d->blackholes, m.vip->addr,
			    &d->stats);
			pthread_mutex_unlock(&d->blackhole_lock);
		}
		sp_flow_update(fs->table, m.flow, now, SP_FLOW_REPLY,
		    p->tcp_flags, p->len);
	}
	from_server_known = m.flow != NULL &&
	    memcmp(m.flow->server, src, 16) == 0;
	lbspd_flows_unlock(fs);
	if (cleared)
		log_info("client: the path to %s carries the option again",
		    inet_ntop(AF_INET6, m.vip->addr, a, sizeof(a)));

	/* 5. The slides' rule: a server that answers without the option is
	 * not followed any more (this flow cannot move; new ones will). */
	if (!p->has_opt && memcmp(src, m.vip->addr, 16) != 0) {
		pthread_mutex_lock(&d->cache_lock);
		fb_no_option_answer(d->cache, m.vip->addr,
		    client_identity(p, dst), src, now, &d->stats);
		pthread_mutex_unlock(&d->cache_lock);
	}

	/* 3. From the server itself: make it look like the vip. */
	if (memcmp(src, m.vip->addr, 16) != 0) {
		if (!from_server_known) {
			lbspd_count(d, LBSPD_C_SEG2_REJECTED);
			return true;
		}
		b = pkt_writable(p);	/* before reading buf_len */
		if (sp_pkt_set_addr_at(b, p->buf_len, &p->walk, SP_ADDR_SRC,
		    m.vip->addr) == SP_OK)
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
		 * checked the header is there): fall back; an error about
		 * a flow its server never answered is dropped. */
		if (p->data[p->walk.l4_off] == 1) {
			pthread_mutex_lock(&d->cache_lock);
			if (fb_icmp_unreachable(d->cache, f, pkt_now_ms(p),
			    &d->stats))
				p->drop = true;
			pthread_mutex_unlock(&d->cache_lock);
		}
		lbspd_flows_unlock(fs);
		return true;
	}
	lbspd_flows_unlock(fs);
	return false;
}
