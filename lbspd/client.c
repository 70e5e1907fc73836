/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * client.c -- the client role (DESIGN.md §3.1).
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
 *      unless the flow fell back: a redirected flow whose server has not
 *      answered for fallback-timeout goes back to the vip, and the cache
 *      entry is dropped so that new connections do too;
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
 * ICMPv6 errors about a redirected flow quote the packet with the
 * server's address: it is rewritten back to the vip so the socket gets
 * the error (path MTU discovery); "unreachable" about a server makes the
 * client fall back from it.
 */
#include "config.h"

#include <string.h>

#include <sp/csum.h>
#include <sp/exthdr.h>
#include <sp/tcp.h>

#include "roles.h"

static const uint8_t zero16[16];

/* Client bits of sp_flow.flags. */
#define CF_REDIRECTED	0x01	/* packets go straight to f->server */
#define CF_ANSWERED	0x02	/* something came back for this flow */
#define CF_FELL_BACK	0x04	/* its server was dropped: the cache is
				   not consulted again for it */

/*
 * Give up on server for (vip, identity): new connections go to the vip;
 * flow f (may be NULL) goes back to the vip for the rest of its life.
 */
static void
client_fallback(struct lbspd *d, const struct sp_conf_vip *vip,
    const uint8_t identity[16], struct sp_flow *f)
{
	(void)sp_cache_forget(d->cache, vip->addr, identity);
	if (f != NULL) {
		memset(f->server, 0, 16);
	f->flags = (f->flags & ~(uint32_t)CF_REDIRECTED) |
		    CF_FELL_BACK;
	}
	lbspd_count(d, LBSPD_C_FALLBACKS);
}

static bool
vip_has_port(const struct sp_conf_vip *vip, uint8_t proto, uint16_t port)
{
	unsigned i;

	if (vip->nports == 0)
		return true;
	if (proto != SP_NH_TCP && proto != SP_NH_UDP)
		return false;
	for (i = 0; i < vip->nports; i++)
		if (vip->ports[i] == port)
			return true;
	return false;
}

/* May the client follow server for vip? Only inside allow-servers. */
static bool
server_allowed(const struct sp_conf_vip *vip, const uint8_t server[16])
{
	return memcmp(server, vip->addr, 16) == 0 ||
	    sp_conf_vip_allows(vip, server);
}

/* seg1 for a packet from src. */
static const uint8_t *
client_identity(const struct lbspd *d, const uint8_t src[16])
{
	return d->conf->identity == SP_CONF_IDENTITY_ADDRESS ? src :
	    d->identity;
}

bool
client_owns_egress(struct lbspd *d, const struct lbspd_pkt *p,
    const struct sp_conf_vip **vipp)
{
	const struct sp_conf_vip *vip;

	vip = sp_conf_vip_find(d->conf, &p->data[SP_IP6_OFF_DST]);
	if (vip == NULL || !vip_has_port(vip, p->walk.l4_proto, p->dport))
		return false;
	*vipp = vip;
	return true;
}

void
client_egress(struct lbspd *d, struct lbspd_pkt *p,
    const struct sp_conf_vip *vip)
{
	const uint8_t *src = &p->data[SP_IP6_OFF_SRC];
	struct sp_flow_key key;
	struct sp_flow *f;
	struct sp_lbsp opt;
	uint64_t now = lbspd_now_ms();
	bool retired;

	/* 1. The flow, as the application sees it. */
	key = sp_flow_key_5tuple(src, vip->addr, p->walk.l4_proto, p->sport,
	    p->dport);
	f = sp_flow_lookup(d->flows, &key);
	if (f == NULL)
		f = sp_flow_insert(d->flows, &key, now, &retired);
	if (f != NULL)
		sp_flow_update(d->flows, f, now, SP_FLOW_ORIG, p->tcp_flags,
		    p->len);

	/* 2. Who we are. */
	memcpy(opt.seg1, client_identity(d, src), 16);
	if (f != NULL)
		memcpy(f->identity, opt.seg1, 16);

	/* 3. Who serves us, if known. */
	memset(opt.seg2, 0, 16);
	if (f != NULL && memcmp(f->server, zero16, 16) != 0)
		memcpy(opt.seg2, f->server, 16);
	else if ((f == NULL || !(f->flags & CF_FELL_BACK)) &&
	    sp_cache_lookup(d->cache, vip->addr, opt.seg1, now, opt.seg2) &&
	    f != NULL)
		memcpy(f->server, opt.seg2, 16);

	/* 4. Single pass, unless the server has not answered in time. */
	if (d->conf->redirect && f != NULL &&
	    memcmp(opt.seg2, zero16, 16) != 0 &&
	    memcmp(opt.seg2, vip->addr, 16) != 0) {
		if ((f->flags & CF_REDIRECTED) && !(f->flags & CF_ANSWERED) &&
		    now - f->created_ms >= d->conf->fallback_timeout_ms) {
			client_fallback(d, vip, opt.seg1, f);
			memset(opt.seg2, 0, 16);
		} else {
			uint8_t *b = pkt_writable(p);	/* before buf_len */

			if (sp_pkt_set_addr(b, p->buf_len, SP_ADDR_DST,
			    opt.seg2) == SP_OK) {
				f->flags |= CF_REDIRECTED;
				lbspd_count(d, LBSPD_C_REDIRECTED);
			}
		}
	}

	/* 5. On the wire. */
	pkt_clamp_mss(d, p);
	(void)pkt_put_option(d, p, &opt);
}

/* State of the search for a flow of ours by (proto, ports). */
struct client_match {
	const struct lbspd_pkt *p;
	const struct sp_conf_vip *vip;	/* out */
	struct sp_flow *flow;		/* out */
};

/* Find the flow an ingress packet belongs to, and its vip. */
static bool
client_find_flow(struct lbspd *d, const struct lbspd_pkt *p,
    struct client_match *m)
{
	const uint8_t *src = &p->data[SP_IP6_OFF_SRC];
	const uint8_t *dst = &p->data[SP_IP6_OFF_DST];
	struct sp_flow_key key;
	unsigned i;

	m->vip = NULL;
	m->flow = NULL;
	/* From the vip itself: the reverse of the flow's key. */
	m->vip = sp_conf_vip_find(d->conf, src);
	if (m->vip != NULL) {
		key = sp_flow_key_5tuple(dst, src, p->walk.l4_proto, p->dport,
		    p->sport);
		m->flow = sp_flow_lookup(d->flows, &key);
		return true;
	}
	/* From a server: one of the vips it may serve (at most 64). */
	for (i = 0; i < d->conf->nvips; i++) {
		const struct sp_conf_vip *vip = &d->conf->vips[i];

		if (!server_allowed(vip, src) ||
		    !vip_has_port(vip, p->walk.l4_proto, p->sport))
			continue;
		key = sp_flow_key_5tuple(dst, vip->addr, p->walk.l4_proto,
		    p->dport, p->sport);
		m->flow = sp_flow_lookup(d->flows, &key);
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
	uint64_t now = lbspd_now_ms();
	uint8_t *b;

	if (!client_find_flow(d, p, &m))
		return false;	/* not from a vip or an allowed server */

	if (p->has_opt) {
		/* 1. Ours? (seg1 is the identity we sent) */
		if (memcmp(p->opt.seg1, client_identity(d, dst), 16) != 0) {
			lbspd_count(d, LBSPD_C_IDENTITY_MISMATCH);
			return true;
		}
		/* 2. Learn seg2 inside allow-servers only. */
		if (memcmp(p->opt.seg2, zero16, 16) != 0) {
			if (!server_allowed(m.vip, p->opt.seg2)) {
				lbspd_count(d, LBSPD_C_SEG2_REJECTED);
			} else {
				if (m.flow != NULL &&
				    memcmp(m.flow->server, p->opt.seg2, 16) != 0) {
					memcpy(m.flow->server, p->opt.seg2, 16);
					lbspd_count(d, LBSPD_C_LEARNED);
				}
				(void)sp_cache_set(d->cache, m.vip->addr,
				    p->opt.seg1, p->opt.seg2, now);
			}
		}
	}
	if (m.flow != NULL) {
		m.flow->flags |= CF_ANSWERED;
		sp_flow_update(d->flows, m.flow, now, SP_FLOW_REPLY,
		    p->tcp_flags, p->len);
	}

	/* 5. The slides' rule: a server that answers without the option is
	 * not followed any more (this flow cannot move; new ones will). */
	if (!p->has_opt && memcmp(src, m.vip->addr, 16) != 0) {
		lbspd_count(d, LBSPD_C_NO_OPTION_ANSWERS);
		if (sp_cache_forget(d->cache, m.vip->addr,
		    client_identity(d, dst)))
			lbspd_count(d, LBSPD_C_FALLBACKS);
	}

	/* 3. From the server itself: make it look like the vip. */
	if (memcmp(src, m.vip->addr, 16) != 0) {
		if (m.flow == NULL || memcmp(m.flow->server, src, 16) != 0) {
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
	struct sp_exthdr_info w;
	struct sp_flow_key key;
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
	for (i = 0; i < d->conf->nvips; i++) {
		const struct sp_conf_vip *vip = &d->conf->vips[i];

		if (vip->nservers != 0 || !server_allowed(vip, idst) ||
		    memcmp(idst, vip->addr, 16) == 0)
			continue;
		key = sp_flow_key_5tuple(isrc, vip->addr, w.l4_proto, sport,
		    dport);
		f = sp_flow_lookup(d->flows, &key);
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

			client_fallback(d, vip, f->identity, f);
			if (!answered) {
				p->drop = true;
				lbspd_count(d, LBSPD_C_ICMP_ABSORBED);
			}
		}
		return true;
	}
	return false;
}
