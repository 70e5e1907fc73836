/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lbspd.h -- state shared by the parts of the daemon: the running
 * configuration, the tables, the counters and the insertion paths.
 *
 * Threads: one per NFQUEUE queue, one for the control socket, one for
 * the metrics server (metrics.c, libmicrohttpd's), and the main thread
 * (signals).  Tables and the configuration are guarded by
 * d->lock; counters are relaxed atomics, read without the lock.
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
 * What the balancer role holds at most: its vips (counted by their
 * place in the file: the legacy mark below names a vip in 8 bits) and
 * the servers of each.  Its state (balancer/balancer.h, checks/engine.c) is still sized
 * by these; conf_load() refuses a balancer configuration beyond them
 * with a message, where the client and server roles take any
 * configuration libsp accepts.
 */
#define LBSPD_MAX_VIPS		64
#define LBSPD_MAX_SERVERS	64

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

/*
 * Packet mark of a legacy session's first packet: the balancer's
 * decision, 0x4b00VVTT (vip index VV, target TT = 1 + index among the
 * vip's servers and then its standby backups), acted on by lbspd's own
 * DNAT and MASQUERADE rules; conntrack does the rest in the kernel.
 */
#define LBSPD_LBMARK		0x4b000000u
#define LBSPD_LBMARK_MASK	0xff000000u
#define LBSPD_LBMARK_MAKE(v, t)	(LBSPD_LBMARK | (uint32_t)(v) << 8 | (uint32_t)(t))

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
					   option */

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
					   (a retransmitted SYN) falls back */
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

#define LBSPD_TICK_MS		100	/* ms between client timer runs */

struct lbspd {
	pthread_mutex_t lock;		/* guards everything below but
					   stats and stop */
	struct sp_conf *conf;		/* running configuration */
	const char *conffile;		/* its path, for reload */
	const char *sockpath;		/* control socket path */
	uint8_t identity[16];		/* client seg1 for identity random
					   or literal */
	uint64_t identity_born_ms;	/* when identity was drawn, ms */
	uint8_t secret[16];		/* SipHash key of the tables */
	struct sp_flow_table *flows;	/* client and server flows */
	struct sp_cache_table *cache;		/* client (vip, identity) -> server */
	struct lbspd_pending *pending;	/* ring of LBSPD_PENDING_MAX, in
					   due order */
	unsigned pending_head;		/* oldest */
	unsigned pending_count;
	struct lbspd_blackhole blackholes[SP_CONF_MAX_VIPS];	/* client:
					   vips marked option-blackholed,
					   the first nblackholes in use */
	unsigned nblackholes;
	struct lb_state *lb;		/* balancer role, or NULL */
	struct lbspd_paths paths;
	unsigned tc_roles;		/* SP_CONF_ROLE_* bits on tc/eBPF */
	struct tc_state *tc;		/* tc.c, NULL when unused */
	struct lbspd_stats stats;
	uint64_t started_ms;		/* monotonic, ms */
	volatile sig_atomic_t stop;	/* set by SIGTERM / SIGINT */
	volatile sig_atomic_t reload;	/* set by SIGHUP */
};

static inline void
lbspd_count(struct lbspd *d, enum lbspd_counter c)
{
	atomic_fetch_add_explicit(&d->stats.ctr[c], 1, memory_order_relaxed);
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
 * d->lock.  control_servers() returns -1 without the balancer role.
 */
struct pr;
int control_stats(struct lbspd *d, struct pr *p);
int control_servers(struct lbspd *d, struct pr *p);

#endif /* LBSPD_H */
