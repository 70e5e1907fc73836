/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * server.c -- the server role (doc/design.md §3.2).
 *
 * Ingress, a packet carrying the option (steering rules queue only
 * connections not yet marked direct):
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
 *   3. the MSS of a SYN-ACK is clamped;
 *   4. while the client's packets come through a balancer (their seg2
 *      names the vip: the balancer puts it there) the answers leave
 *      with the vip as source: a NAT66 proxy between client and
 *      balancer expects them from the vip, and the client's socket
 *      matches.  Once its packets come straight here (seg2 = us, after
 *      the client learned us), answers leave from us: the proxy now
 *      tracks the client's direct packets, and the client rewrites our
 *      address back to the vip itself.  The connection is then marked
 *      direct and its packets are no longer queued on the way in.
 * Flows that arrived without the option are never marked, never queued
 * on egress: they get nothing.
 */
#include "config.h"

#include <string.h>

#include <sp/csum.h>
#include <sp/tcp.h>

#include "path/path.h"

/* Server bits of sp_flow.flags; f->server holds the vip then. */
#define SF_VIA_VIP	0x100	/* came through a balancer for f->server */

static const uint8_t zero16[16];

void
server_ingress(struct lbspd *d, struct lbspd_pkt *p)
{
	const uint8_t *src = &p->data[SP_IP6_OFF_SRC];
	const uint8_t *dst = &p->data[SP_IP6_OFF_DST];
	struct sp_flow_key key;
	struct lbspd_flows *fs;
	struct sp_flow *f;
	uint64_t now = pkt_now_ms(p);
	bool via_vip;

	/* 1. Remember who the client is, and the vip it addressed. */
	key = sp_flow_key_5tuple(src, dst, p->walk.l4_proto, p->sport,
	    p->dport);
	fs = lbspd_flows_lock(d, key.src);
	f = sp_flow_lookup(fs->table, &key);
	if (f == NULL) {
		/* Refused (max-flows-per-source): not remembered, not
		 * marked -- the session goes on without the option. */
		if ((f = flow_new(d, fs, &key, now)) == NULL) {
			lbspd_flows_unlock(fs);
			return;
		}
		lbspd_count(d, LBSPD_C_SEG1_LEARNED);
	}
	/* seg2 neither zero nor us: the vip, from a balancer. */
	via_vip = memcmp(p->opt.seg2, zero16, 16) != 0 &&
	    memcmp(p->opt.seg2, dst, 16) != 0;
	memcpy(f->identity, p->opt.seg1, 16);
	if (via_vip) {
		memcpy(f->server, p->opt.seg2, 16);
		f->flags |= SF_VIA_VIP;
	} else
		f->flags &= ~(uint32_t)SF_VIA_VIP;
	sp_flow_update(fs->table, f, now, SP_FLOW_ORIG, p->tcp_flags, p->len);
	lbspd_flows_unlock(fs);

	/* 2. Mark the connection: its answers will be queued; direct once
	 * the client talks to us straight. */
	p->set_mark = true;
	p->new_mark = p->mark | LBSPD_CTMARK |
	    (via_vip ? 0 : LBSPD_CTMARK_DIRECT);

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
	struct lbspd_flows *fs;
	struct sp_flow *f;
	struct sp_lbsp opt;
	uint8_t vip[16];
	bool via_vip;

	/* 1. The flow as the client opened it. */
	key = sp_flow_key_5tuple(dst, src, p->walk.l4_proto, p->dport,
	    p->sport);
	fs = lbspd_flows_lock(d, key.src);
	f = sp_flow_lookup(fs->table, &key);
	if (f == NULL) {
		lbspd_flows_unlock(fs);
		lbspd_count_pass(d, LBSPD_P_UNKNOWN_FLOW);
		return;
	}
	sp_flow_update(fs->table, f, pkt_now_ms(p), SP_FLOW_REPLY,
	    p->tcp_flags, p->len);
	memcpy(opt.seg1, f->identity, 16);
	via_vip = (f->flags & SF_VIA_VIP) != 0;
	memcpy(vip, f->server, 16);
	lbspd_flows_unlock(fs);

	/* 2. seg1 echoed, seg2 = us. */
	memcpy(opt.seg2, p->conf->has_server_address ?
	    p->conf->server_address : src, 16);

	/* 3. Through a balancer: answer from the vip (before the option,
	 * which moves bytes). */
	if (via_vip) {
		uint8_t *b = pkt_writable(p);	/* before reading buf_len */

		if (sp_pkt_set_addr_at(b, p->buf_len, &p->walk, SP_ADDR_SRC,
		    vip) == SP_OK)
			lbspd_count(d, LBSPD_C_FROM_VIP);
	}

	/* 4. On the wire, the option last. */
	pkt_clamp_mss(d, p);
	if (pkt_put_option(d, p, &opt))
		lbspd_count(d, LBSPD_C_SEG2_FILLED);
}
