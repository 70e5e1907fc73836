/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * decide.h -- the balancer's decision for one packet to a vip, as a
 * plain function over a narrow context: the balancer's state, the flow
 * table the packet's flow lives in, and the time.  No struct lbspd, no
 * I/O, no clock of its own, no logging; counters are reported in the
 * decision for the caller to count.  The locks it takes are the
 * balancer state's own small ones (balancer.h): a vip's, around a pick
 * or a passive health update, and the stick table's, around one lookup
 * or update.  The flow table is the caller's to guard.
 *
 * The order (doc/design.md §3.3):
 *   0. a new flow from a source holding max-flows-per-source flows is
 *      refused (LB_DROP_SOURCE_LIMITED);
 *   1. seg2 inside the vip's pool and up -> that server (a SYN does not
 *      follow it to a draining server); outside -> counted, ignored;
 *   2. a known flow -> its server (a SYN is not sent back to a server
 *      known down);
 *   3. the stick table by identity: seg1; else {source, flow label};
 *      else the source (stick-prefix) -> its server, or its backup;
 *   4. the vip's scheduler; stick and flow recorded.
 * A server down or draining hands new sessions to its backup; no server
 * at all: LB_DROP_NO_SERVER.  A known flow whose flow label changed is
 * counted, dropped with flowlabel-strict.  Then LBSP packets get their
 * destination rewritten (LB_REWRITE) and legacy ones the target's mark
 * (LB_NAT).
 *
 * A SYN on a known flow is a new session on a port used again when the
 * flow is closing or the ISN differs; the same SYN again before any
 * other packet of the flow is the client's retransmission, which passive
 * health reads (passive_unanswered() in decide.c).
 */
#ifndef LBSPD_DECIDE_H
#define LBSPD_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sp/dopt.h>
#include <sp/flow.h>

#include "balancer/balancer.h"

/* What the decision reads of a packet. */
struct lb_pkt {
	const uint8_t *src;	/* source address, 16 bytes */
	uint32_t label;		/* flow label, 20 bits */
	uint8_t proto;		/* upper-layer protocol (SP_NH_*) */
	uint16_t sport, dport;	/* TCP / UDP ports, host order, else 0 */
	uint8_t tcp_flags;	/* TCP only */
	uint32_t tcp_seq;	/* TCP only: sequence number (a SYN's is
				   its ISN) */
	bool nonfirst_frag;	/* a non-first fragment: no ports */
	size_t len;		/* bytes, for the traffic figures */
	const struct sp_lbsp *opt;	/* the LBSP option, NULL: legacy */
};

/* What decided the target. */
enum lb_by {
	LB_BY_NONE = 0,		/* nothing: dropped */
	LB_BY_SEG2,
	LB_BY_FLOW,
	LB_BY_STICK,
	LB_BY_SCHEDULER,
};

enum lb_action {
	LB_REWRITE,		/* LBSP: destination -> to */
	LB_NAT,			/* legacy: verdict mark -> kernel's DNAT */
	LB_DROP_NO_SERVER,	/* no server can take it */
	LB_DROP_SOURCE_LIMITED,	/* max-flows-per-source reached */
	LB_DROP_LABEL_CHANGED,	/* flowlabel-strict and the label changed */
};

struct lb_decision {
	enum lb_action action;
	enum lb_by by;
	const uint8_t *to;	/* the target (server or standby backup),
				   16 bytes, unless dropped */
	uint32_t mark;		/* LB_NAT: the verdict's mark */
	bool new_session;	/* a flow was made for it */
	bool to_backup;		/* a down or draining server's backup */
	bool seg2_rejected;	/* seg2 named a host outside the pool */
	bool label_changed;	/* RFC 7098 §5 suspect */
	bool unanswered;	/* a SYN sent again passive-timeout or more
				   after the flow's first: its server posted
				   an unanswered session (decide.c) */
	bool stick_retired;	/* a live stick entry made room */
	bool flow_retired;	/* a live flow made room */
	bool flow_refused;	/* the flow table refused the new flow (its
				   source limit): forwarded unrecorded */
};

/* The narrow context of a decision. */
struct lb_ctx {
	struct lb_state *lb;		/* vips, servers, stick table */
	struct sp_flow_table *flows;	/* where the packet's flow lives */
	uint64_t now_ms;		/* monotonic, ms */
};

/*
 * Decide for pkt, to vip v of ctx->lb: fills *out (every field).  Moves
 * the state: flow and stick entries, per-server figures, passive health.
 */
void balancer_decide(const struct lb_ctx *ctx, struct lb_vip *v,
    const struct lb_pkt *pkt, struct lb_decision *out);

#endif /* LBSPD_DECIDE_H */
