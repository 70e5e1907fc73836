/*
 * server.c -- the server role (DESIGN.md §3.2).
 *
 * Ingress, a packet carrying the option (steering rules queue only
 * flows not yet marked):
 *   1. the flow (5-tuple as it arrived) remembers seg1;
 *   2. the packet's mark gets LBSPD_CTMARK, which a rule saves in the
 *      connection mark, so that this flow's outgoing packets -- and only
 *      they -- are queued;
 *   3. the MSS of a SYN is clamped: our answers carry 40 more bytes.
 * Egress, a packet of a marked flow:
 *   1. the flow is found by the reverse key; a flow we never saw (e.g.
 *      after a restart) is passed unchanged and counted;
 *   2. LBSP{seg1 as received, seg2 = server-address or the packet's own
 *      source} goes on every packet; seg1 is echoed, never changed;
 *   3. the MSS of a SYN-ACK is clamped.
 * Flows that arrived without the option are never marked, never queued
 * on egress: they get nothing.
 */
#include "config.h"

#include <string.h>

#include <sp/tcp.h>

#include "roles.h"

void
server_ingress(struct lbspd *d, struct lbspd_pkt *p)
{
	const uint8_t *src = &p->data[SP_IP6_OFF_SRC];
	const uint8_t *dst = &p->data[SP_IP6_OFF_DST];
	struct sp_flow_key key;
	struct sp_flow *f;
	uint64_t now = lbspd_now_ms();
	bool retired;

	/* 1. Remember who the client is. */
	key = sp_flow_key_5tuple(src, dst, p->walk.l4_proto, p->sport,
	    p->dport);
	f = sp_flow_lookup(d->flows, &key);
	if (f == NULL) {
		f = sp_flow_insert(d->flows, &key, now, &retired);
		if (f != NULL)
			lbspd_count(d, LBSPD_C_SEG1_LEARNED);
	}
	if (f != NULL) {
		memcpy(f->identity, p->opt.seg1, 16);
		sp_flow_update(d->flows, f, now, SP_FLOW_ORIG, p->tcp_flags,
		    p->len);
	}

	/* 2. Mark the connection: its answers will be queued. */
	p->set_mark = true;
	p->new_mark = p->mark | LBSPD_CTMARK;

	/* 3. Our segments grow by 40 bytes. */
	if (!(p->tcp_flags & SP_TCP_ACK))
		pkt_clamp_mss(d, p);
}

void
server_egress(struct lbspd *d, struct lbspd_pkt *p)
{
	const uint8_t *src = &p->data[SP_IP6_OFF_SRC];
	const uint8_t *dst = &p->data[SP_IP6_OFF_DST];
	struct sp_flow_key key;
	struct sp_flow *f;
	struct sp_lbsp opt;

	/* 1. The flow as the client opened it. */
	key = sp_flow_key_5tuple(dst, src, p->walk.l4_proto, p->dport,
	    p->sport);
	f = sp_flow_lookup(d->flows, &key);
	if (f == NULL) {
		lbspd_count_pass(d, LBSPD_P_UNKNOWN_FLOW);
		return;
	}
	sp_flow_update(d->flows, f, lbspd_now_ms(), SP_FLOW_REPLY,
	    p->tcp_flags, p->len);

	/* 2. seg1 echoed, seg2 = us. */
	memcpy(opt.seg1, f->identity, 16);
	memcpy(opt.seg2, d->conf->has_server_address ?
	    d->conf->server_address : src, 16);
	memcpy(f->server, opt.seg2, 16);

	/* 3. On the wire. */
	pkt_clamp_mss(d, p);
	if (pkt_put_option(d, p, &opt))
		lbspd_count(d, LBSPD_C_SEG2_FILLED);
}
