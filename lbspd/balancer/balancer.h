/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * balancer.h -- the balancer role's state: per vip, its servers as the
 * scheduler, the health checks and the operator see them.
 *
 * Sized by the configuration (no cap of its own: libsp's limits, 4,096
 * vips and 4,096 servers a vip, are the only ones).  Built from a
 * configuration by balancer_state_new() at start and on reload, keeping
 * the figures and health of servers that stay; never resized after.
 *
 * Who writes what (doc/design.md, "Concurrency"):
 *   - the layout (vips, servers, targets, their addresses, the
 *     configuration it was built from) is fixed once built: a queue
 *     thread reads it without a lock;
 *   - per-server figures (packets, bytes, sessions...) and the flags a
 *     queue thread reads (up, drain) are relaxed atomics;
 *   - a vip's scheduler, its scheduler view, weights and eligibility,
 *     and its servers' health (struct sp_health) are under the vip's
 *     own mutex (lb_vip.lock), held only around one pick, one health
 *     update or one refresh;
 *   - the stick table is shared by every state built across reloads,
 *     under its own mutex (struct lb_stick), held only around one
 *     lookup or update.
 */
#ifndef LBSPD_BALANCER_H
#define LBSPD_BALANCER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sp/health.h>
#include <sp/sched.h>
#include <sp/stick.h>

#include "conf_priv.h"

/*
 * Packet mark of a legacy session's first packet: the balancer's
 * decision, 0x4bTTTTTT, TTTTTT = 1 + the target's index in the
 * configuration's target table (every distinct server and backup
 * address of the balanced vips, sorted: balancer_target_table()).
 * lbspd's own nat rules DNAT each mark to its address and MASQUERADE
 * (or SNAT) every mark of ours; conntrack does the rest in the kernel.
 * One DNAT rule per distinct address, whatever the number of vips that
 * share it.
 */
#define LBSPD_LBMARK		0x4b000000u
#define LBSPD_LBMARK_MASK	0xff000000u
#define LBSPD_LBMARK_TARGETS	0x00ffffffu	/* distinct targets, at most */
#define LBSPD_LBMARK_MAKE(i)	(LBSPD_LBMARK | ((uint32_t)(i) + 1))

/* One real server of a vip. */
struct lb_server {
	struct sp_sched_server s;	/* the configuration's view: address,
					   weight, cost (figures live below;
					   the scheduler's copy is the vip's
					   view) */
	struct sp_health health;	/* active and passive checks; under
					   the vip's lock */
	bool has_backup;		/* new sessions go to backup while
					   this one is down or draining */
	uint8_t backup[16];
	bool probing;			/* checks: a probe is out for it
					   (the checks thread only) */
	_Atomic bool up;		/* sp_health_up(&health), mirrored by
					   balancer_refresh() */
	_Atomic bool drain;		/* no new sessions (config or lbspctl
					   drain) */
	_Atomic uint64_t packets;	/* packets balanced to it */
	_Atomic uint64_t bytes;		/* bytes balanced to it */
	/* Of those bytes, the ones out of the least-traffic window: the
	 * window's traffic is bytes - traffic_base (balancer_traffic()),
	 * halved each window by raising the base, so that a packet adds
	 * to one counter, not two. */
	_Atomic uint64_t traffic_base;
	_Atomic uint64_t sessions_total;	/* sessions ever bound to it */
	_Atomic uint32_t sessions;	/* sessions bound now (new ones
					   counted at once, recounted from
					   the flows every second) */
	_Atomic uint64_t load;		/* their session weights, units */
	_Atomic uint32_t agent_load;	/* last lbsp-agent report, per
					   mille, or SP_SCHED_UNKNOWN */
	_Atomic uint64_t agent_seen_ms;	/* when it came, ms */
};

/*
 * Where a vip may send sessions: its servers, then the backups that are
 * not servers (standby hosts).  Sorted by address for a binary search.
 */
struct lb_target {
	uint8_t addr[16];
	int server;			/* index in the vip's servers, or -1
					   for a standby backup */
	uint32_t mark;			/* its legacy mark (LBSPD_LBMARK_MAKE) */
};

/* One vip. */
struct lb_vip {
	uint8_t addr[16];
	unsigned index;			/* in the configuration's vips */
	enum sp_conf_scheduler kind;
	struct sp_conf_check check;	/* active check, type NONE: none */
	uint32_t passive_timeout_ms;	/* 0: no passive detection */
	uint32_t dead_retry_ms;
	uint32_t window_ms;		/* least-traffic window, ms */
	uint64_t window_start_ms;	/* main thread's tick only */
	pthread_mutex_t lock;		/* sched, view, health (see above) */
	struct sp_sched *sched;
	struct sp_sched_server *view;	/* nservers: what sched reads */
	bool view_figures;		/* sched reads the figures: copied
					   into view before each pick */
	bool probed_changed;		/* checks thread: a probe changed a
					   server's health, sched not yet
					   refreshed (checks_post()) */
	unsigned nservers;
	struct lb_server *servers;	/* nservers, in file order */
	unsigned ntargets;
	struct lb_target *targets;	/* ntargets, by address */
};

/*
 * The stick table, kept across reloads: LB_STICK_STRIPES tables, each
 * under its own mutex, an entry's stripe chosen by a keyed hash of its
 * key, so that queue threads placing sessions at once seldom wait for
 * each other.  One SipHash of the key (balancer_stick_hash()) serves
 * the lookup and the update: its high bits choose the stripe, its low
 * bits the bucket inside the stripe's table (all made with one
 * secret).  Each holds max-stick / LB_STICK_STRIPES entries (rounded
 * up).
 */
#define LB_STICK_STRIPES	16

struct lb_stick_stripe {
	pthread_mutex_t lock;
	struct sp_stick_table *table;
	char pad[64];			/* no two locks on one cache line */
};

struct lb_stick {
	struct lb_stick_stripe stripe[LB_STICK_STRIPES];
};

struct lb_state {
	const struct sp_conf *conf;	/* what it was built from (the
					   daemon's running configuration) */
	unsigned nvips;
	struct lb_vip *vips;		/* the vips with servers, in order */
	int *by_conf;			/* conf vip index -> index in vips,
					   or -1 (a client vip) */
	struct lb_stick *stick;		/* shared, not owned */
};

/* ------------------------------------------------------------ state.c */

/*
 * The configuration's target table: every server and backup address of
 * the vips with servers, sorted, each once.  *tab receives a malloc'ed
 * array (NULL when empty).  Returns the count, or SIZE_MAX when out of
 * memory.  rules.c prints one DNAT rule per entry; the balancer marks
 * legacy sessions with LBSPD_LBMARK_MAKE(index).
 */
size_t balancer_target_table(const struct sp_conf *c, uint8_t (**tab)[16]);

/*
 * What the balancer cannot take of a configuration libsp accepted:
 * reported through fn (one message each).  Returns their number.
 */
unsigned balancer_conf_check(const struct sp_conf *c,
    void (*fn)(void *arg, const char *msg), void *arg);

/*
 * Settings of conf that the balancer takes but that cannot work as
 * written (a passive-timeout no client retransmission can show):
 * reported through fn, one message each.  Returns their number.
 */
unsigned balancer_conf_warnings(const struct sp_conf *c,
    void (*fn)(void *arg, const char *msg), void *arg);

/* A mutex for the balancer's short holds (adaptive where glibc has it). */
void balancer_mutex_init(pthread_mutex_t *m);

/* A stick table of the configuration's size; NULL when out of memory. */
struct lb_stick *balancer_stick_new(const struct sp_conf *c,
    const uint8_t secret[16]);
void balancer_stick_free(struct lb_stick *st);

/* The hash of stick key k (sp_stick_hash()), for the two calls below. */
uint64_t balancer_stick_hash(const struct lb_stick *st,
    const struct sp_stick_key *k);

/* sp_stick_lookup() and sp_stick_set() in the key's stripe, its lock
 * held around the call only; hash is balancer_stick_hash(st, k). */
bool balancer_stick_lookup(struct lb_stick *st, const struct sp_stick_key *k,
    uint64_t hash, uint64_t now_ms, uint8_t server[16]);
bool balancer_stick_set(struct lb_stick *st, const struct sp_stick_key *k,
    uint64_t hash, const uint8_t server[16], uint64_t now_ms);

/* Entries in every stripe. */
size_t balancer_stick_count(struct lb_stick *st);

/* Expire at most max entries in each stripe. */
size_t balancer_stick_expire(struct lb_stick *st, uint64_t now_ms,
    size_t max);

/* Entries copied per hold of a stripe's lock by a walk (as lbspd.h's
 * LBSPD_BATCH for the flow shards). */
#define LB_STICK_BATCH	256

/* Every entry, stripe after stripe: at most LB_STICK_BATCH copied per
 * hold of a stripe's lock, fn called without it; stops when fn returns
 * non-zero.  -1 when out of memory. */
int balancer_stick_foreach(struct lb_stick *st,
    int (*fn)(const struct sp_stick_entry *, void *), void *arg);

/*
 * The state of configuration c (NULL when c has no balancer role: not
 * an error, check c->roles), keeping the health and figures of servers
 * of old (may be NULL) that stay, sharing stick.  secret keys the
 * schedulers.  NULL with *err set when out of memory.
 */
struct lb_state *balancer_state_new(const struct sp_conf *c,
    struct lb_state *old, struct lb_stick *stick, const uint8_t secret[16],
    uint64_t now_ms, bool *err);

/* Free a state (not its stick table).  NULL is fine. */
void balancer_state_free(struct lb_state *lb);

/* A server's bytes in the least-traffic window. */
static inline uint64_t
balancer_traffic(const struct lb_server *s)
{
	return atomic_load_explicit(&s->bytes, memory_order_relaxed) -
	    atomic_load_explicit(&s->traffic_base, memory_order_relaxed);
}

/*
 * The one rule for where a new (or stuck, or seg2-following) session
 * of server s goes: s itself when up and not draining; else its backup
 * when it has one that is up and not draining (a standby backup outside
 * the pool has no check: trusted up), *to_backup then set when not
 * NULL; else nowhere (NULL).  The scheduler's view calls a server
 * eligible when this is not NULL.
 */
const uint8_t *balancer_target_for_new(const struct lb_vip *v,
    const struct lb_server *s, bool *to_backup);

/* The vip / server / target with these addresses, or NULL. */
struct lb_vip *balancer_vip(const struct lb_state *lb,
    const uint8_t addr[16]);
struct lb_server *balancer_server(const struct lb_vip *v,
    const uint8_t addr[16]);
/* The vip of configuration vip cv, found in configuration c (a packet's
 * vip, found once: path/dispatch.c), or NULL; by address when lb was
 * built from another configuration. */
struct lb_vip *balancer_vip_of(const struct lb_state *lb,
    const struct sp_conf *c, const struct sp_conf_vip *cv);
const struct lb_target *balancer_target(const struct lb_vip *v,
    const uint8_t addr[16]);

/*
 * Recompute eligibility after health, drain or weight changed, and
 * rebuild the scheduler.  The vip's lock held.
 */
void balancer_refresh(struct lb_vip *v);

/* Load of a session on port: the vip's session-weight, else 1. */
uint16_t balancer_session_weight(const struct lb_state *lb,
    const struct lb_vip *v, uint16_t port);

/* ------------------------------------------------------------ balancer.c */

struct lbspd;
struct lbspd_pkt;
struct lbspd_flows;

/*
 * The running balancer state, NULL without the role: a snapshot like
 * the configuration (lbspd_conf()), replaced whole on reload.  A queue
 * thread reads it once per packet; other threads hold d->admin.
 */
struct lb_state *balancer_state(struct lbspd *d);

/* Balancer role of path/dispatch.c: a packet to one of our vips;
 * fs is its source's flow shard (lbspd_flows_of()), locked. */
bool balancer_owns(struct lbspd *d, const struct lbspd_pkt *p);
void balancer_packet(struct lbspd *d, struct lbspd_pkt *p,
    struct lbspd_flows *fs);

/* Periodic work (main thread): sessions per server from the flow
 * table, traffic windows, stale agent loads, stick expiry; the passive
 * health clock is checks/engine.c's. */
void balancer_tick(struct lbspd *d, uint64_t now_ms);

void balancer_free(struct lbspd *d);

/* (Re)build d->lb from configuration c (d->admin held), keeping the
 * state of servers that stay; publish it and retire the old one (freed
 * after a grace period).  0, or -1 when out of memory: the old state
 * stays, and with it the configuration it was made from, which the
 * caller must then keep running.  A reload calls it before publishing
 * c. */
int balancer_configure(struct lbspd *d, const struct sp_conf *c);

#endif /* LBSPD_BALANCER_H */
