/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fallback.h -- the client role's decisions about whom a flow goes to
 * and whether it carries the option: learning seg2, falling back from
 * a server that does not answer (suspect, revived), timing redirected
 * SYNs, marking vips whose path drops the option and probing them.
 *
 * Plain functions over a narrow context: a flow, one shared table (the
 * cache, the ring of timed SYNs or the blackhole marks), the settings
 * they need and the time, passed in.  No daemon state, no locks, no
 * clock, no I/O: client.c holds the flow's shard and the table's mutex
 * around each call, and logs.  Outcomes are counted in the lbspd_stats
 * given (NULL: not counted).  tests/unit/check_fallback.c covers every
 * transition.
 */
#ifndef LBSPD_FALLBACK_H
#define LBSPD_FALLBACK_H

#include <stdbool.h>
#include <stdint.h>

#include <sp/cache.h>
#include <sp/flow.h>

#include "lbspd.h"

/* Client bits of sp_flow.flags. */
#define CF_REDIRECTED	0x01	/* packets go straight to f->server */
#define CF_ANSWERED	0x02	/* something came back for this flow */
#define CF_FELL_BACK	0x04	/* its server was dropped: the cache is
				   not consulted again for it */
#define CF_VIP_SYN	0x08	/* a SYN left to the vip with the option */
#define CF_NO_OPTION	0x10	/* the flow goes without the option */
#define CF_PROBE	0x20	/* it probes a blackholed vip */
#define CF_OPT_ANSWERED	0x40	/* an answer with the option came */

/* The settings the decisions read (from sp_conf). */
struct fb_conf {
	bool redirect;			/* single pass */
	uint32_t fallback_timeout_ms;	/* ms a redirected flow may stay
					   unanswered */
	uint32_t blackhole_min_ms;	/* ms: first mark's length */
	uint32_t blackhole_max_ms;	/* ms: longest mark */
};

/* ------------------------------------------------------------ egress */

/*
 * Step 0, a SYN of flow f to vip not yet without the option: does the
 * flow go without it?  A first SYN asks the marks (marked: no; the mark
 * ran out and no probe is out: it probes, CF_PROBE); a SYN sent again
 * after one that left to the vip with the option, unanswered and not
 * fallen back, marks the vip (a probe's failure doubles the mark) and
 * goes without.  Sets CF_NO_OPTION when without.  *marked_ms (may be
 * NULL) gets the new mark's length when a mark was made or confirmed,
 * else 0.  Table: marks.
 */
bool fb_syn_without_option(struct lbspd_blackholes *marks,
    const struct fb_conf *c, struct sp_flow *f, const uint8_t vip[16],
    uint64_t now_ms, struct lbspd_stats *st, uint32_t *marked_ms);

/*
 * Step 3: seg2 of f's packet from the flow itself: true with seg2 set
 * when f names a server.  Else, when fb_cache_wanted(f), the cache is
 * asked and fb_server_from_cache() says what it gives.
 */
bool fb_server_of_flow(const struct sp_flow *f, uint8_t seg2[16]);

/* Whether the cache may give flow f (NULL: no flow) a server: not
 * once it fell back. */
bool fb_cache_wanted(const struct sp_flow *f);

/*
 * seg2 from the cache's answer (hit, *ce): an OK entry's server; a
 * suspect one gives none, counted (suspect_avoided) on the flow's first
 * packet.  f (may be NULL) remembers the choice.
 */
void fb_server_from_cache(struct sp_flow *f, bool hit,
    const struct sp_cache_entry *ce, uint8_t seg2[16],
    struct lbspd_stats *st);

/* Step 4: where a packet of flow f with seg2 goes. */
enum fb_route {
	FB_ROUTE_VIP,			/* no server to go to, or no redirect */
	FB_ROUTE_SERVER,		/* straight to seg2 (single pass) */
	FB_ROUTE_FALLBACK_SYN,		/* its SYN sent again unanswered */
	FB_ROUTE_FALLBACK_TIMER,	/* unanswered fallback-timeout */
};

/*
 * resyn: a SYN on a flow redirected and unanswered; unanswered: the
 * flow was redirected and nothing came back (both as before this
 * packet).  f NULL: the vip.
 */
enum fb_route fb_route(const struct fb_conf *c, const struct sp_flow *f,
    const uint8_t seg2[16], const uint8_t vip[16], bool resyn,
    bool unanswered, uint64_t now_ms);

/*
 * Give up on server for reason: cache entries naming it become suspect
 * (cache may be NULL); flow f (may be NULL) goes back to the vip for
 * good (CF_FELL_BACK, no server).  Counted: fallbacks and the reason's.
 * Table: cache.
 */
void fb_fallback(struct sp_cache_table *cache, struct sp_flow *f,
    const uint8_t server[16], enum lbspd_suspect reason, uint64_t now_ms,
    struct lbspd_stats *st);

/*
 * The packet of f left straight to its server.  Returns true when it is
 * the flow's first redirected SYN: time it (fb_pending_push()).
 */
bool fb_redirected(struct sp_flow *f, bool syn, struct lbspd_stats *st);

/*
 * Step 5: f's SYN left to the vip with the option (the case a path
 * dropping the option shows in).
 */
void fb_vip_syn_sent(struct sp_flow *f);

/*
 * Time the redirected SYN of f: due fallback-timeout after the flow
 * began.  Returns false, counted (pending_full), when the ring is full:
 * only the packet path (a SYN sent again) falls back for that flow.
 * Table: pending.
 */
bool fb_pending_push(struct lbspd_pendings *q, const struct fb_conf *c,
    const struct sp_flow *f, struct lbspd_stats *st);

/* ------------------------------------------------------------ timers */

/*
 * Take off the ring the SYNs due at now_ms, at most max, into out, in
 * due order.  Returns how many.  Table: pending.
 */
unsigned fb_pending_due(struct lbspd_pendings *q, uint64_t now_ms,
    struct lbspd_pending *out, unsigned max);

/*
 * Whether the timed SYN pe, due, still stands for flow f (NULL: gone):
 * the same flow, redirected, neither answered nor fallen back.  Then
 * the caller falls back (fb_fallback(), timer).
 */
bool fb_pending_unanswered(const struct sp_flow *f,
    const struct lbspd_pending *pe);

/* Drop the marks of vips c no longer has.  Table: marks. */
void fb_marks_prune(struct lbspd_blackholes *marks, const struct sp_conf *c);

/* ------------------------------------------------------------ ingress */

/*
 * seg2, inside allow-servers, of an answer on flow f (may be NULL): the
 * flow follows it (counted: learned, when it changes).
 */
void fb_learn(struct sp_flow *f, const uint8_t seg2[16],
    struct lbspd_stats *st);

/*
 * The cache's entry before seg2 is stored (hit, *ce): was it a suspect
 * entry for the server seg2 names?  Then it is revived (counted); the
 * caller's sp_cache_set() makes it OK again.
 */
bool fb_revived(bool hit, const struct sp_cache_entry *ce,
    const uint8_t seg2[16], struct lbspd_stats *st);

/*
 * An answer on flow f, with the option or not.  Returns true on the
 * flow's first answer with the option: the path carries it, and the
 * vip's mark goes (fb_mark_clear()).
 */
bool fb_answered(struct sp_flow *f, bool has_opt);

/*
 * An answer with the option on a connection to vip: its mark goes.
 * Returns true when there was one (counted: blackhole_recovered).
 * Table: marks.
 */
bool fb_mark_clear(struct lbspd_blackholes *marks, const uint8_t vip[16],
    struct lbspd_stats *st);

/*
 * The slides' rule: server answered without the option on a connection
 * to vip.  When our own entry (vip, identity) still follows it, every
 * entry naming it becomes suspect (counted: fallbacks,
 * fallback_no_option).  Counts no_option_answers.  Table: cache.
 */
void fb_no_option_answer(struct sp_cache_table *cache, const uint8_t vip[16],
    const uint8_t identity[16], const uint8_t server[16], uint64_t now_ms,
    struct lbspd_stats *st);

/*
 * ICMPv6 destination unreachable about redirected flow f: fall back
 * from its server.  Returns true when the error must be dropped
 * (counted: icmp_absorbed): the server never answered the flow, so the
 * application, still connecting, must not see it.  Table: cache.
 */
bool fb_icmp_unreachable(struct sp_cache_table *cache, struct sp_flow *f,
    uint64_t now_ms, struct lbspd_stats *st);

#endif /* LBSPD_FALLBACK_H */
