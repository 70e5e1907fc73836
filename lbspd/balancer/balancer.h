/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * balancer.h -- the balancer role's state: per vip, its servers as the
 * scheduler, the health checks and the operator see them.
 *
 * All of it is guarded by d->lock.  Built from the configuration at
 * start and on reload (balancer_configure), keeping the figures and
 * health of servers that stay.
 */
#ifndef LBSPD_BALANCER_H
#define LBSPD_BALANCER_H

#include <stdbool.h>
#include <stdint.h>

#include <sp/health.h>
#include <sp/sched.h>
#include <sp/stick.h>

#include "lbspd.h"

/* One real server of a vip. */
struct lb_server {
	struct sp_sched_server s;	/* the scheduler's view: address,
					   eligible, weight, sessions... */
	struct sp_health health;	/* active and passive checks */
	bool drain;			/* no new sessions (config or
					   lbspctl drain) */
	bool has_backup;		/* new sessions go to backup while
					   this one is down or draining */
	uint8_t backup[16];
	uint64_t packets;		/* packets balanced to it */
	uint64_t bytes;			/* bytes balanced to it */
	uint64_t sessions_total;	/* sessions ever bound to it */
	uint64_t agent_seen_ms;		/* last lbsp-agent report, ms */
};

/* One vip. */
struct lb_vip {
	uint8_t addr[16];
	unsigned index;			/* in the configuration, for marks */
	unsigned ntargets;		/* servers, then standby backups */
	uint8_t targets[2 * LBSPD_MAX_SERVERS][16];
	enum sp_conf_scheduler kind;
	struct sp_sched *sched;
	struct sp_conf_check check;	/* active check, type NONE: none */
	uint32_t passive_timeout_ms;	/* 0: no passive detection */
	uint32_t dead_retry_ms;
	uint32_t window_ms;		/* least-traffic window, ms */
	uint64_t window_start_ms;
	unsigned nservers;
	struct lb_server servers[LBSPD_MAX_SERVERS];
};

struct lb_state {
	unsigned nvips;
	struct lb_vip vips[LBSPD_MAX_VIPS];
	struct sp_stick_table *stick;
};

/*
 * Where a vip may send sessions: its servers in order, then the backups
 * that are not servers (standby hosts), each once.  Index + 1 is the
 * target part of the legacy mark.  Returns the count.
 */
unsigned balancer_targets(const struct sp_conf_vip *cv,
    uint8_t out[][16]);

/* Balancer role of path/dispatch.c: a packet to one of our vips. */
struct lbspd_pkt;
bool balancer_owns(struct lbspd *d, const struct lbspd_pkt *p);
void balancer_packet(struct lbspd *d, struct lbspd_pkt *p);

/* Periodic work (main thread, d->lock held): sessions per server from
 * the flow table, traffic windows, stale agent loads, stick expiry; the
 * passive health clock is checks/engine.c's. */
void balancer_tick(struct lbspd *d, uint64_t now_ms);

void balancer_free(struct lbspd *d);

/* (Re)build from d->conf; keeps the state of servers that stay. */
int balancer_configure(struct lbspd *d);

/* Recompute eligibility after health, drain or weight changed. */
void balancer_refresh(struct lb_vip *v);

/* The vip / server with these addresses, or NULL. */
struct lb_vip *balancer_vip(struct lbspd *d, const uint8_t addr[16]);
struct lb_server *balancer_server(struct lb_vip *v, const uint8_t addr[16]);

#endif /* LBSPD_BALANCER_H */
