/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lbspd.h -- state shared by the parts of the daemon: the running
 * configuration, the tables, the counters and how threads share them.
 *
 * Threads (doc/design.md, "Threads and locks"):
 *  - one per NFQUEUE queue (path/nfq.c): the packet path;
 *  - the main thread (main.c): signals, reload, the timers (tick);
 *  - the control socket's (control/socket.c) and the fd-passing
 *    server's (control/fdpass.c);
 *  - the health checker's (checks/engine.c) and the agent listener's
 *    (balancer/agent.c), with the balancer role;
 *  - the metrics server's (control/metrics.c, libmicrohttpd's).
 * Queue threads take no global lock: they read the configuration
 * snapshot once per packet (lbspd_conf()), lock the flow shard of the
 * packet's flow, and the small mutex of a shared table only around its
 * lookup or update.  Every other thread serialises on d->admin.
 * Counters are relaxed atomics, read without any lock.
 */
#ifndef LBSPD_H
#define LBSPD_H

#include <pthread.h>
#include <sys/types.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <sp/cache.h>
#include <sp/clock.h>
#include <sp/conf.h>
#include <sp/flow.h>
#include <sp/pkt.h>

#include "conf_priv.h"	/* layout of sp_conf: see that file */

#define LBSPD_SOCKET_DEFAULT "/run/lbsp/lbspd.sock"

/*
 * Connection mark bit the server role sets on flows that arrived with
 * the option, so that only their outgoing packets are queued.
 */
#define LBSPD_CTMARK 0x4c000000u

/*
 * With LBSPD_CTMARK: the client now talks to this server directly (or
 * always did); its packets need not be queued on the way in any more.
 */
#define LBSPD_CTMARK_DIRECT 0x00800000u

/* The legacy sessions' mark, LBSPD_LBMARK: balancer/balancer.h. */

/* Counters: one list, one name each (the names are the JSON keys). */
#define LBSPD_COUNTERS(X)						\
	X(PACKETS, "packets")		/* packets seen */		\
	X(INSERTED, "inserted")		/* new LBSP header inserted */	\
	X(MERGED, "merged")		/* TLV added to a header */	\
	X(UPDATED, "updated")		/* option rewritten in place */	\
	X(LEARNED, "learned")		/* client: seg2 learned */	\
	X(SEG1_LEARNED, "seg1_learned")	/* server: flow's seg1 kept */	\
	X(SEG2_FILLED, "seg2_filled")	/* server: option sent back */	\
	X(SRC_REWRITTEN, "src_rewritten") /* client: src S -> VIP */	\
	X(SEG2_REJECTED, "seg2_rejected") /* seg2 outside allow-servers */\
	X(IDENTITY_MISMATCH, "identity_mismatch") /* seg1 not ours */	\
	X(MSS_CLAMPED, "mss_clamped")	/* SYN / SYN-ACK MSS lowered */	\
	X(MODIFIED, "modified")		/* verdicts carrying a packet */\
	X(DROPPED, "dropped")		/* dropped by policy */		\
	X(VERDICT_ERRORS, "verdict_errors") /* verdicts not sent */	\
	X(ENOBUFS, "enobufs")		/* netlink overruns seen */	\
	X(BALANCED, "balanced")		/* balancer: packets sent on */	\
	X(SESSIONS, "sessions")		/* balancer: new sessions */	\
	X(BY_SEG2, "by_seg2")		/* decided by seg2 */		\
	X(BY_FLOW, "by_flow")		/* decided by a known flow */	\
	X(BY_STICK, "by_stick")		/* decided by the stick table */\
	X(BY_SCHEDULER, "by_scheduler")	/* decided by the scheduler */	\
	X(TO_BACKUP, "to_backup")	/* sent to a server's backup */	\
	X(LEGACY_NAT, "legacy_nat")	/* legacy sessions handed to NAT */\
	X(NO_SERVER, "no_server")	/* dropped: no server eligible */\
	X(LABEL_CHANGED, "flowlabel_changed") /* RFC 7098 §5 suspects */\
	X(AGENT_REPORTS, "agent_reports") /* load reports taken */	\
	X(AGENT_REJECTED, "agent_rejected") /* load reports refused */	\
	X(REDIRECTED, "redirected")	/* client: packets sent straight	\
					   to the server (single pass) */	\
	X(FALLBACKS, "fallbacks")	/* client: server dropped, back	\
					   to the vip */			\
	X(NO_OPTION_ANSWERS, "no_option_answers") /* client: a server	\
					   answered without the option */	\
	X(ICMP_REWRITTEN, "icmp_rewritten") /* client: ICMPv6 errors	\
					   about redirected flows */		\
	X(FROM_VIP, "from_vip")		/* server: answers sent with the	\
					   vip as source */			\
	X(ICMP_ABSORBED, "icmp_absorbed") /* client: unreachable about a	\
					   server never heard: fallen back */\
	X(FALLBACK_SYN_RETRANSMIT, "fallback_syn_retransmit") /* client:	\
					   a redirected SYN sent again	\
					   unanswered: it goes to the vip */\
	X(FALLBACK_TIMER, "fallback_timer") /* client: fallback-timeout	\
					   ran out on the daemon's clock */	\
	X(FALLBACK_ICMP, "fallback_icmp_unreachable") /* client: ICMPv6	\
					   unreachable about a server */	\
	X(FALLBACK_NO_OPTION, "fallback_no_option") /* client: a server	\
					   answered without the option */	\
	X(SUSPECT_AVOIDED, "suspect_avoided") /* client: a new flow sent	\
					   to the vip, its cached server	\
					   being suspect */			\
	X(SUSPECT_REVIVED, "suspect_revived") /* client: a suspect server	\
					   named again in seg2 */		\
	X(SOURCE_LIMITED, "source_limited") /* packets refused a new flow:	\
					   source held max-flows-per-source */\
	X(FLOWS_RETIRED, "flows_retired") /* live flows retired from a	\
					   full flow table */			\
	X(STICK_RETIRED, "stick_retired") /* balancer: live entries	\
					   retired from a full stick table */	\
	X(CACHE_RETIRED, "cache_retired") /* client: live entries retired	\
					   from a full cache */			\
	X(BLACKHOLE_DETECTED, "blackhole_detected") /* client: a vip	\
					   marked option-blackholed, or its	\
					   probe confirmed the mark */		\
	X(BLACKHOLE_STRIPPED, "blackhole_stripped") /* client: SYNs to a	\
					   vip sent again without the option */\
	X(BLACKHOLE_AVOIDED, "blackhole_avoided") /* client: connections	\
					   opened without the option, the	\
					   vip being marked */			\
	X(BLACKHOLE_PROBES, "blackhole_probes") /* client: connections	\
					   that tried the option again */	\
	X(BLACKHOLE_RECOVERED, "blackhole_recovered") /* client: marks	\
					   cleared by an answer with the	\
					   option */				\
	X(PENDING_FULL, "pending_full")	/* client: redirected SYNs not	\
					   timed, LBSPD_PENDING_MAX being	\
					   timed already */			\
	X(PTB_LOWERED, "ptb_lowered")	/* tc: Packet Too Big about a	\
					   packet with the option: MTU told	\
					   the stack 40 lower */		\
	X(PTB_UNDER_MINIMUM, "ptb_under_minimum") /* Packet Too Big	\
					   under 1320 about such a packet:	\
					   the stack cannot go 40 lower */

enum lbspd_counter {
#define LBSPD_CTR_ENUM(id, name) LBSPD_C_##id,
	LBSPD_COUNTERS(LBSPD_CTR_ENUM)
#undef LBSPD_CTR_ENUM
	LBSPD_C__COUNT
};

/* Why a packet went through unchanged (besides "nothing to do"). */
#define LBSPD_PASSES(X)							\
	X(NOT_VIP, "not-vip")		/* not to a vip / port */	\
	X(NO_OPTION, "no-option")	/* nothing of ours in it */	\
	X(UNKNOWN_FLOW, "unknown-flow")	/* server: flow not learned */	\
	X(AH, "ah")			/* AH covers the header */	\
	X(FRAGMENT, "non-first-fragment")				\
	X(JUMBO, "jumbogram")						\
	X(TOO_BIG, "too-big")		/* +40 bytes would pass the MTU */\
	X(NO_INSERT_PATH, "no-insert-path") /* kernel refuses NFQUEUE	\
					       insertion */

enum lbspd_pass {
#define LBSPD_PASS_ENUM(id, name) LBSPD_P_##id,
	LBSPD_PASSES(LBSPD_PASS_ENUM)
#undef LBSPD_PASS_ENUM
	LBSPD_P__COUNT
};

struct lbspd_stats {
	_Atomic uint64_t ctr[LBSPD_C__COUNT];
	_Atomic uint64_t pass[LBSPD_P__COUNT];
	_Atomic uint64_t malformed[SP_ERR__COUNT];	/* by libsp error */
};

/* The names as arrays (control/names.c). */
extern const char *const lbspd_counter_names[LBSPD_C__COUNT];
extern const char *const lbspd_pass_names[LBSPD_P__COUNT];

/* Which ways of putting the option on a packet work on this kernel. */
struct lbspd_paths {
	bool tested;		/* the start-up self-test ran */
	bool nfqueue;		/* NFQUEUE verdict with the header inserted */
	bool socket;		/* IPV6_DSTOPTS on a socket (kernel inserts) */
	bool tc_ebpf;		/* tc/eBPF programs load and insert */
	char detail[160];	/* what the self-test saw, for the log */
};

/*
 * Why a client cache entry is suspect (sp_cache_entry.reason), as
 * lbspctl cache prints it.
 */
enum lbspd_suspect {
	LBSPD_SUSPECT_NONE = 0,
	LBSPD_SUSPECT_SYN_RETRANSMIT,	/* a redirected SYN sent again */
	LBSPD_SUSPECT_TIMER,		/* fallback-timeout ran out */
	LBSPD_SUSPECT_ICMP,		/* ICMPv6 unreachable about it */
	LBSPD_SUSPECT_NO_OPTION,	/* it answered without the option */
	LBSPD_SUSPECT__COUNT
};

/*
 * A redirected SYN waiting for its answer: the client role's timer
 * (client_tick()) falls back from the server when due_ms passes and
 * the flow is still unanswered -- even if the application gave up and
 * sends nothing more.
 */
struct lbspd_pending {
	struct sp_flow_key key;	/* the flow, as the application sees it */
	uint64_t created_ms;	/* ms: the flow's created_ms (a flow
				   recreated on the same key is another) */
	uint64_t due_ms;	/* ms: created_ms + fallback-timeout */
};

#define LBSPD_PENDING_MAX	4096	/* redirected SYNs timed at once;
					   beyond, the packet path alone
					   (a retransmitted SYN) falls back,
					   counted as pending_full */

/* The ring of timed SYNs, in due order (path/fallback.c). */
struct lbspd_pendings {
	struct lbspd_pending *ring;	/* cap entries */
	unsigned cap;			/* LBSPD_PENDING_MAX in the daemon */
	unsigned head;			/* oldest */
	unsigned count;
};

/*
 * A vip whose path drops the option (client.c): until until_ms new
 * connections to it go without; then one probes with it.  period_ms
 * doubles on each confirmation, from blackhole-timeout's minimum to its
 * maximum.
 */
struct lbspd_blackhole {
	uint8_t vip[16];
	uint64_t since_ms;	/* first detected */
	uint64_t until_ms;	/* the mark holds until then */
	uint32_t period_ms;	/* the mark's current length */
	uint32_t detections;	/* marked + confirmed, since since_ms */
	uint64_t probe_ms;	/* a probe left then; 0: none out */
};

/* A probe neither answered nor sent again within this is stale (the
 * application gave up): the next connection probes. */
#define LBSPD_BLACKHOLE_PROBE_MS	3000

/* The vips marked option-blackholed, the first n in use. */
struct lbspd_blackholes {
	struct lbspd_blackhole mark[SP_CONF_MAX_VIPS];
	unsigned n;
};

#define LBSPD_TICK_MS		100	/* ms between client timer runs */

/*
 * One shard of the flow table (client, server and balancer flows).  A
 * flow's shard is chosen from its key's source address
 * (lbspd_flows_of()), so every lookup a packet makes falls in one shard
 * and max-flows-per-source counts exactly.  There are as many shards as
 * queues; the queue threads lock a shard per packet, other threads for
 * at most LBSPD_BATCH rows at a time.
 */
struct lbspd_flows {
	pthread_mutex_t lock;		/* guards table */
	struct sp_flow_table *table;
	char pad[64];			/* no two locks on one cache line */
};

/* Rows a thread other than a queue's handles per lock hold. */
#define LBSPD_BATCH		256

/*
 * Where a queue thread is (lbspd_reader_enter() / _leave()): an odd seq
 * while it handles a batch of packets and may hold pointers into the
 * configuration snapshot (or the balancer's); even while quiescent
 * (between batches, blocked in poll/recv).  A grace period has passed
 * for a snapshot once every reader was seen even or moved on.
 */
struct lbspd_reader {
	_Atomic uint64_t seq;
	char pad[56];			/* one per cache line (64 bytes) */
};

/* The client identity (seg1) of "identity random" or literal: a
 * snapshot like the configuration, replaced whole on rotation. */
struct lbspd_identity {
	uint8_t addr[16];
	uint64_t born_ms;		/* when drawn, ms (sp_now_ms) */
};

struct lbspd_retired;			/* lbspd_retire()'s queue (state.c) */

struct lbspd {
	/*
	 * Serialises every thread but the queue threads: control
	 * commands, health checks, agent reports, fd passing, metrics,
	 * the main thread's tick and reload.  Never taken by a queue
	 * thread.  It serialises the changes those threads make
	 * (configuration, identity, lb's and tc's state) and guards the
	 * retired list.
	 */
	pthread_mutex_t admin;
	/* Running configuration: replaced whole on reload (release
	 * store), read with lbspd_conf(); freed after a grace period. */
	struct sp_conf *_Atomic conf;
	const struct lbspd_identity *_Atomic ident;	/* as conf */
	const char *conffile;		/* its path, for reload */
	const char *sockpath;		/* control socket path */
	uint8_t secret[16];		/* SipHash key of the tables */
	struct lbspd_flows *flows;	/* nflows shards */
	unsigned nflows;		/* = queue count, >= 1 */
	/* Client tables shared by the queues, each under its own mutex
	 * held only around a lookup or update. */
	pthread_mutex_t cache_lock;
	struct sp_cache_table *cache;	/* client (vip, identity) -> server */
	pthread_mutex_t pending_lock;	/* guards pending */
	struct lbspd_pendings pending;	/* client: redirected SYNs timed */
	pthread_mutex_t blackhole_lock;	/* guards blackholes */
	struct lbspd_blackholes blackholes;	/* client: vips marked
					   option-blackholed */
	/* Balancer role, or NULL: a snapshot like conf, built from it
	 * (balancer_configure()), read with balancer_state(). */
	struct lb_state *_Atomic lb;
	struct lb_stick *stick;		/* its stick table, kept across
					   reloads */
	struct lbspd_paths paths;	/* set at start, then read only */
	unsigned tc_roles;		/* SP_CONF_ROLE_* bits on tc/eBPF */
	struct tc_state *tc;		/* tc.c, NULL when unused */
	struct lbspd_reader readers[SP_CONF_MAX_QUEUES];	/* one per
					   queue thread, by index */
	struct lbspd_retired *retired;	/* waiting for a grace period;
					   d->admin held */
	struct lbspd_stats stats;
	uint64_t started_ms;		/* monotonic, ms */
	volatile sig_atomic_t stop;	/* set by SIGTERM / SIGINT */
};

/* ---------------------------------------------------------------- snapshots */

/*
 * The running configuration.  A queue thread reads it once per packet
 * (between lbspd_reader_enter() and _leave()) and uses that pointer
 * for the whole packet; it stays valid until the thread leaves.
 * Threads holding d->admin may read it at will: reload swaps it under
 * d->admin.
 */
static inline const struct sp_conf *
lbspd_conf(struct lbspd *d)
{
	return atomic_load_explicit(&d->conf, memory_order_acquire);
}

/* The client identity, as lbspd_conf(). */
static inline const struct lbspd_identity *
lbspd_identity(struct lbspd *d)
{
	return atomic_load_explicit(&d->ident, memory_order_acquire);
}

/*
 * Queue thread idx (0 .. SP_CONF_MAX_QUEUES-1) starts a batch of
 * packets: from now until _leave() it may hold snapshot pointers.
 */
static inline void
lbspd_reader_enter(struct lbspd *d, unsigned idx)
{
	struct lbspd_reader *r = &d->readers[idx];

	atomic_store_explicit(&r->seq,
	    atomic_load_explicit(&r->seq, memory_order_relaxed) + 1,
	    memory_order_relaxed);
	/* The odd seq is visible before any snapshot pointer is read
	 * (pairs with the fence in lbspd_grace_begin()). */
	atomic_thread_fence(memory_order_seq_cst);
}

/* Queue thread idx is quiescent: it holds no snapshot pointer. */
static inline void
lbspd_reader_leave(struct lbspd *d, unsigned idx)
{
	struct lbspd_reader *r = &d->readers[idx];

	atomic_store_explicit(&r->seq,
	    atomic_load_explicit(&r->seq, memory_order_relaxed) + 1,
	    memory_order_release);
}

/*
 * Publish a new configuration (d->admin held); returns the old one, to
 * be freed after a grace period: lbspd_retire(d, conf_free, old).
 */
struct sp_conf *lbspd_conf_publish(struct lbspd *d, struct sp_conf *nc);

/*
 * Replace the client identity (d->admin held): a new one of addr,
 * born now_ms; the old one is retired.  Returns -1 out of memory (the
 * old one stays).
 */
int lbspd_identity_set(struct lbspd *d, const uint8_t addr[16],
    uint64_t now_ms);

/*
 * Wait until every queue thread has passed a quiescent point since the
 * call: then no thread holds a pointer read before it (an old snapshot
 * can be freed).  Waits at most timeout_ms; returns false, logged, when
 * some thread did not pass in time (free nothing then).  Must not be
 * called by a queue thread; lbspd_retire() does not wait.
 */
bool lbspd_synchronize(struct lbspd *d, unsigned timeout_ms);

/*
 * Free ptr with fn(ptr) once a grace period has passed (d->admin held,
 * or before the threads start): at once if every queue thread is
 * quiescent, else from the main thread's tick (lbspd_reclaim()).  Never
 * blocks, never frees early.  For what the queue threads may still
 * read: an old configuration, identity, or balancer state.
 */
void lbspd_retire(struct lbspd *d, void (*fn)(void *), void *ptr);

/*
 * Free what lbspd_retire() queued whose grace period has passed
 * (d->admin held); all of it when all is set (the queue threads have
 * stopped).  Logs an entry still waiting after 5 s, once.
 */
void lbspd_reclaim(struct lbspd *d, bool all);

/* ---------------------------------------------------------------- flows */

/*
 * The shard of flows whose key has source address src (the key's src:
 * for a client's or server's ingress packet, the packet's
 * destination).  Lock it around the lookup and every use of the flow.
 */
struct lbspd_flows *lbspd_flows_of(struct lbspd *d, const uint8_t src[16]);

/* lbspd_flows_of() locked; unlock with lbspd_flows_unlock(). */
struct lbspd_flows *lbspd_flows_lock(struct lbspd *d, const uint8_t src[16]);

static inline void
lbspd_flows_unlock(struct lbspd_flows *s)
{
	pthread_mutex_unlock(&s->lock);
}

/*
 * Call fn(flow, arg) on a copy of every flow, made LBSPD_BATCH at a
 * time under its shard's lock; fn runs without any shard locked (it
 * may format, allocate, take the balancer's locks).  fn returns
 * non-zero to stop.  A flow that changes during the walk is seen as it
 * was when its batch was copied.  Not from a queue thread.
 * Returns 0, or -1 out of memory.
 */
int lbspd_flows_foreach(struct lbspd *d,
    int (*fn)(const struct sp_flow *, void *), void *arg);

/* Flows held, all shards. */
size_t lbspd_flows_count(struct lbspd *d);

/* Expire idle flows, LBSPD_BATCH per lock hold, at most max. */
size_t lbspd_flows_expire(struct lbspd *d, uint64_t now_ms, size_t max);

/* max-flows-per-source on every shard; -1 when one could not take it. */
int lbspd_flows_set_source_limit(struct lbspd *d, uint32_t max);

/* Flows of source src now (max-flows-per-source), its shard locked. */
size_t lbspd_flows_source_count(struct lbspd *d, const uint8_t src[16]);

/* ---------------------------------------------------------------- cache */

/* As lbspd_flows_foreach(), for the client cache (d->cache_lock). */
int lbspd_cache_foreach(struct lbspd *d,
    int (*fn)(const struct sp_cache_entry *, void *), void *arg);

/* As lbspd_flows_expire(), for the client cache. */
size_t lbspd_cache_expire(struct lbspd *d, uint64_t now_ms, size_t max);

/* ---------------------------------------------------------------- life */

/*
 * Set up d's tables and locks for configuration conf (taken): shards,
 * cache, pending ring, identity.  Returns 0, or -1 out of memory (d
 * then holds what was made: lbspd_state_free() frees it).
 */
int lbspd_state_init(struct lbspd *d, struct sp_conf *conf);

/* Free what lbspd_state_init() made, and the configuration, once the
 * queue threads have stopped. */
void lbspd_state_free(struct lbspd *d);

static inline void
lbspd_count(struct lbspd *d, enum lbspd_counter c)
{
	atomic_fetch_add_explicit(&d->stats.ctr[c], 1, memory_order_relaxed);
}

static inline void
lbspd_count_n(struct lbspd *d, enum lbspd_counter c, uint64_t n)
{
	if (n != 0)
		atomic_fetch_add_explicit(&d->stats.ctr[c], n,
		    memory_order_relaxed);
}

static inline void
lbspd_count_pass(struct lbspd *d, enum lbspd_pass p)
{
	atomic_fetch_add_explicit(&d->stats.pass[p], 1, memory_order_relaxed);
}

static inline void
lbspd_count_malformed(struct lbspd *d, enum sp_err e)
{
	if ((unsigned)e < SP_ERR__COUNT)
		atomic_fetch_add_explicit(&d->stats.malformed[e], 1,
		    memory_order_relaxed);
}

static inline uint64_t
lbspd_read(const _Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

struct lb_state;
struct tc_state;

/* Control socket (control/socket.c): listen, serve commands in a thread. */
int control_start(struct lbspd *d, const char *path, uid_t uid, gid_t gid);
int control_run(void);		/* after the privilege drop */
void control_stop(void);

/*
 * The stats and servers answers, described to p (control/commands.c): what
 * lbspctl prints and what the metrics server renders.  They take
 * d->admin.  control_servers() returns -1 without the balancer role.
 */
struct pr;
int control_stats(struct lbspd *d, struct pr *p);
int control_servers(struct lbspd *d, struct pr *p);

#endif /* LBSPD_H */
