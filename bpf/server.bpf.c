// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * server.bpf.c -- the server role in tc (lbspd/path/server.c is the
 * specification).
 *
 * lbsp_server_ingress, on packets carrying the option:
 *   1. the flow (5-tuple as it arrived) remembers seg1, and the vip
 *      when seg2 names one (a balancer put it there); a source over
 *      max-flows-per-source gets no new flow;
 *   3. the MSS of a SYN clamped: our answers carry 40 more bytes.
 * lbsp_server_egress, on packets of such a flow:
 *   1. the flow found by the reverse key; other packets pass untouched;
 *   2. LBSP{seg1 as received, seg2 = server-address or the packet's
 *      own source} on every packet; seg1 echoed, never changed;
 *   3. the MSS of a SYN-ACK clamped;
 *   4. while the client's packets come through a balancer, answers
 *      leave with the vip as source (lbsp(7)); once they come straight
 *      here, from us.
 */
#include "lbsp_common.h"

SEC("tc")
int
lbsp_server_ingress(struct __sk_buff *skb)
{
	const struct lbsp_tc_conf *c = conf_get();
	struct lbsp_tc_flow_key key;
	struct lbsp_tc_flow *f;
	struct lbsp_pkt p;
	bool via_vip;
	__u64 now;

	if (c == NULL || !lbsp_walk(skb, &p, c->option_type))
		return LBSP_TC_PASS;
	count(LBSP_TC_C_PACKETS);
	if (p.refused >= 0) {
		count(p.refused);
		return LBSP_TC_PASS;
	}
	if (p.l4_proto == NH_ICMPV6)	/* our answers were too big? */
		(void)lbsp_ptb_lower(skb, p.l4_off, c->option_type);
	if (!p.has_opt)
		return LBSP_TC_PASS;	/* flows without it get nothing */
	now = clock_ns();

	/* 1. Remember who the client is, and the vip it addressed. */
	flow_key(&key, p.src, p.dst, p.l4_proto, p.sport, p.dport);
	f = flow_find(&key);
	if (f == NULL) {
		/* Refused (max-flows-per-source): not remembered, so its
		 * answers carry no option. */
		f = flow_create(c, &key, now);
		if (f == NULL)
			return LBSP_TC_PASS;
		count(LBSP_TC_C_SEG1_LEARNED);
	}
	flow_reopen(f, &p, now);
	if (flow_note_state(f, &p, true))
		f = flow_promote(&key, f);
	/* seg2 neither zero nor us: the vip, from a balancer. */
	via_vip = !addr_zero(p.seg2) && !addr_eq(p.seg2, p.dst);
	/* The row is written only when it changes (a flow's packets all
	 * carry the same segments, but the first ones through a balancer). */
	if (!addr_eq(f->identity, p.seg1))
		addr_copy(f->identity, p.seg1);
	if (via_vip) {
		if (!addr_eq(f->server, p.seg2))
			addr_copy(f->server, p.seg2);
		flags_set(&f->flags, LBSP_TC_SF_VIA_VIP);
	} else {
		flags_clear(&f->flags, LBSP_TC_SF_VIA_VIP);
	}
	touch(&f->last_ns, now);
	f->packets_orig++;

	/* 3. Our segments grow by 40 bytes. */
	if (!(p.tcp_flags & TCP_ACK))
		clamp_mss(skb, &p, c);
	return LBSP_TC_PASS;
}

SEC("tc")
int
lbsp_server_egress(struct __sk_buff *skb)
{
	const struct lbsp_tc_conf *c = conf_get();
	struct lbsp_tc_flow_key key;
	struct lbsp_tc_flow *f;
	struct lbsp_pkt p;
	ADDR16(seg1);
	ADDR16(seg2);

	if (c == NULL || !lbsp_walk(skb, &p, c->option_type))
		return LBSP_TC_PASS;
	count(LBSP_TC_C_PACKETS);

	/* 1. The flow as the client opened it; other packets are not
	 * ours (the NFQUEUE path never even sees them). */
	flow_key(&key, p.dst, p.src, p.l4_proto, p.dport, p.sport);
	f = flow_find(&key);
	if (f == NULL)
		return LBSP_TC_PASS;
	if (flow_note_state(f, &p, false))
		f = flow_promote(&key, f);
	touch(&f->last_ns, clock_ns());
	f->packets_reply++;

	/* 2. seg1 echoed, seg2 = us. */
	addr_copy(seg1, f->identity);
	addr_copy(seg2, c->has_server_address ? c->server_address : p.src);

	/* 3. On the wire. */
	clamp_mss(skb, &p, c);
	if (put_option(skb, &p, c, seg1, seg2) == 0)
		count(LBSP_TC_C_SEG2_FILLED);

	/* 4. Through a balancer: answer from the vip. */
	if (f->flags & LBSP_TC_SF_VIA_VIP) {
		ADDR16(vip);

		addr_copy(vip, f->server);
		if (set_addr(skb, &p, 8, vip) == 0)
			count(LBSP_TC_C_FROM_VIP);
	}
	return LBSP_TC_PASS;
}

char LICENSE[] SEC("license") = "GPL";
