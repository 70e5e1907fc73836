/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * path.h -- one queued packet on its way through a role, and the role
 * entry points.  A packet's whole journey through a role reads top-down
 * in that role's file (client.c, server.c).
 */
#ifndef LBSPD_ROLES_H
#define LBSPD_ROLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sp/dopt.h>
#include <sp/exthdr.h>

#include "lbspd.h"

/* Netfilter hooks, as in the queued packet's header. */
enum lbspd_hook {
	LBSPD_HOOK_PRE_ROUTING = 0,
	LBSPD_HOOK_LOCAL_IN = 1,
	LBSPD_HOOK_FORWARD = 2,
	LBSPD_HOOK_LOCAL_OUT = 3,
	LBSPD_HOOK_POST_ROUTING = 4,
};

/* A queued packet and what the roles decided for it. */
struct lbspd_pkt {
	uint32_t id;		/* queue's packet id */
	uint8_t hook;		/* enum lbspd_hook */
	bool csum_not_ready;	/* L4 checksum holds only the pseudo-header
				   sum (F_GSO): complete it if we modify */
	bool gso;		/* a GSO super-packet (F_GSO) */
	uint32_t mark;		/* packet mark as queued */
	/* Snapshots read once for the packet (roles_process()). */
	const struct sp_conf *conf;	/* the running configuration */
	const uint8_t *identity;	/* client identity, 16 bytes */
	const uint8_t *data;	/* the packet as queued, len bytes */
	size_t len;
	/*
	 * The one walk of data (roles_process()), valid when walk_err ==
	 * SP_OK.  It describes buf too, a copy of the same bytes, until
	 * the option is inserted or merged: every writer of the roles
	 * takes it (libsp's "_at" calls, which check it against the bytes)
	 * and pkt_put_option() comes last.
	 */
	enum sp_err walk_err;
	struct sp_exthdr_info walk;
	uint16_t sport, dport;	/* TCP / UDP ports, host order, else 0 */
	uint8_t tcp_flags;	/* TCP only */
	bool has_opt;		/* an LBSP option was found (same walk) */
	struct sp_lbsp opt;	/* it, when has_opt */
	const struct sp_conf_vip *vip;	/* the vip the destination is, or
					   NULL: looked up once, here */
	uint64_t now_ms;	/* pkt_now_ms()'s reading, 0 until then */
	/* Output. */
	uint8_t *buf;		/* writable copy, once pkt_writable() ran */
	size_t buf_len;		/* its length, bytes */
	size_t buf_cap;		/* its capacity, bytes */
	bool modified;		/* send buf back with the verdict */
	bool drop;		/* verdict drop */
	bool set_mark;		/* send mark with the verdict */
	uint32_t new_mark;
};

/* The daemon's clock, read once per packet (on first use): a role's
 * steps agree on the time, and a reading costs as much as a walk. */
uint64_t pkt_now_ms(struct lbspd_pkt *p);

/* The writable copy of the packet (made on first use). */
uint8_t *pkt_writable(struct lbspd_pkt *p);

/* Client role (client.c). */
void client_egress(struct lbspd *d, struct lbspd_pkt *p,
    const struct sp_conf_vip *vip);
bool client_ingress(struct lbspd *d, struct lbspd_pkt *p);
bool client_owns_egress(struct lbspd *d, const struct lbspd_pkt *p,
    const struct sp_conf_vip **vip);
bool client_icmp_error(struct lbspd *d, struct lbspd_pkt *p);
/* The client's timers on the daemon's clock (d->admin held). */
void client_tick(struct lbspd *d, uint64_t now_ms);

/* Server role (server.c). */
void server_ingress(struct lbspd *d, struct lbspd_pkt *p);
void server_egress(struct lbspd *d, struct lbspd_pkt *p);

/* Shared steps (dispatch.c): put opt on the packet, counted -- last,
 * it moves bytes; clamp MSS. */
bool pkt_put_option(struct lbspd *d, struct lbspd_pkt *p,
    const struct sp_lbsp *opt);
void pkt_clamp_mss(struct lbspd *d, struct lbspd_pkt *p);

/*
 * The flow of key in fs, the shard of key->src the caller locked
 * (lbspd_flows_lock()), made at now_ms when new: a live flow retired
 * for it is counted (flows_retired); NULL, counted (source_limited),
 * when its source already holds max-flows-per-source flows.
 */
struct sp_flow *flow_new(struct lbspd *d, struct lbspd_flows *fs,
    const struct sp_flow_key *key, uint64_t now_ms);

/* Route one packet through the roles of the daemon (nfq.c calls it). */
void roles_process(struct lbspd *d, struct lbspd_pkt *p);

#endif /* LBSPD_ROLES_H */
