/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sched_ops.h -- internal to libsp: the ops table of every scheduling
 * algorithm (one file each, sched_<name>.c, ending in its table) and
 * the helpers they share (defined in sched.c, except sp_sched_lc_pick
 * in sched_lc.c and sp_sched_hrw_pick in sched_hash.c).
 *
 * Not called sched.h: libsp/ is on the include path of the daemon, and
 * a libsp/sched.h would hide the system's <sched.h>.
 *
 * Every ops function may assume what sp_sched_update() and
 * sp_sched_pick() check first: n <= SP_SCHED_MAX_SERVERS, key is 16
 * bytes; update() may see n == 0 (and then srv may be NULL); pick()
 * always has srv non-NULL, n >= 1, req and req->src non-NULL.
 */
#ifndef SP_SCHED_OPS_H
#define SP_SCHED_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sp/sched.h>

extern const struct sp_sched_ops sp_sched_rr_ops;
extern const struct sp_sched_ops sp_sched_wrr_ops;
extern const struct sp_sched_ops sp_sched_lc_ops;
extern const struct sp_sched_ops sp_sched_lt_ops;
extern const struct sp_sched_ops sp_sched_wlc_ops;
extern const struct sp_sched_ops sp_sched_rt_ops;
extern const struct sp_sched_ops sp_sched_agent_ops;
extern const struct sp_sched_ops sp_sched_cost_ops;
/* LSNAT §5.2 #2, cost x traffic: no scheduler kind of its own yet (the
 * configuration has one "cost"), reachable through sp_sched_new_ops(). */
extern const struct sp_sched_ops sp_sched_cost_traffic_ops;
extern const struct sp_sched_ops sp_sched_hash_ops;
extern const struct sp_sched_ops sp_sched_maglev_ops;

/*
 * sp_sched_new_ops - like sp_sched_new(), with an ops table instead of a
 * kind: for algorithms the configuration cannot name yet
 * (sp_sched_cost_traffic_ops) and for tests.  NULL when ops is NULL or
 * out of memory.
 */
struct sp_sched *sp_sched_new_ops(const struct sp_sched_ops *ops,
    const uint8_t key[16]);

/*
 * sp_sched_weight - a server's weight as a divisor: 0 (outside the
 * documented 1..1000) counts as 1, so nothing ever divides by zero.
 */
uint64_t sp_sched_weight(const struct sp_sched_server *srv);

/*
 * sp_sched_ratio_cmp - compare a/b with c/d exactly, for b, d > 0, in
 * 64-bit integers (a continued-fraction walk, no overflow, no floats).
 * Returns <0, 0 or >0 as a/b is smaller, equal or larger.
 * Why: the "least load per weight" algorithms must rank servers the
 * same way on every balancer and every build; a cross-multiplication
 * could overflow 64 bits with byte counters, a double rounds.
 */
int sp_sched_ratio_cmp(uint64_t a, uint64_t b, uint64_t c, uint64_t d);

/*
 * sp_sched_prod_cmp - compare a*b with c*d exactly (no overflow).
 * Returns <0, 0 or >0 as a*b is smaller, equal or larger.
 */
int sp_sched_prod_cmp(uint64_t a, uint64_t b, uint64_t c, uint64_t d);

/* State of every "least something" algorithm: the tie-break cursor. */
struct sp_sched_cursor {
	size_t next;		/* index the next scan starts from */
};

/*
 * Ranks two servers for a least-something algorithm: <0 when x is the
 * better choice (less loaded), 0 when they tie, >0 when y is better.
 */
typedef int (*sp_sched_cmp_fn)(const struct sp_sched_server *x,
    const struct sp_sched_server *y, const struct sp_sched_req *req);

/* Whether a server may be ranked at all (besides being eligible). */
typedef bool (*sp_sched_usable_fn)(const struct sp_sched_server *srv);

/*
 * sp_sched_least - the eligible (and usable, when usable is non-NULL)
 * server that cmp ranks best; among servers that tie, the first met
 * scanning from cur->next round the array, and cur->next moves past the
 * chosen one, so ties are shared round-robin rather than always won by
 * index 0.  Returns the index, or -1 when no server qualifies.
 */
int sp_sched_least(struct sp_sched_cursor *cur,
    const struct sp_sched_server *srv, size_t n,
    const struct sp_sched_req *req, sp_sched_cmp_fn cmp,
    sp_sched_usable_fn usable);

/* Least sessions, ties round-robin: lc, and the fallback of rt and
 * agent when no server has a known figure. */
int sp_sched_lc_pick(struct sp_sched_cursor *cur,
    const struct sp_sched_server *srv, size_t n,
    const struct sp_sched_req *req);

/*
 * sp_sched_flow_hash - the keyed hash of a new session's key: SipHash-
 * 2-4 under key of {src (16 bytes), flow label (4 bytes, big-endian)}
 * (RFC 7098 §4: the 2-tuple; §5: keyed, so that nobody can aim a
 * session at a chosen server), or of {identity, 0} when the session
 * carries one (seg1): the key the balancer sticks it by, so that
 * balancers sharing the key agree on every session of a client.
 * Shared by hash and maglev.
 */
uint64_t sp_sched_flow_hash(const struct sp_sched_req *req,
    const uint8_t key[16]);

/*
 * sp_sched_hrw_pick - weighted rendezvous (highest random weight)
 * hashing of the session over the eligible servers; the hash
 * algorithm, and maglev's fallback when its table is missing or stale.
 * Returns the index, or -1 when no server is eligible.
 */
int sp_sched_hrw_pick(const struct sp_sched_server *srv, size_t n,
    const struct sp_sched_req *req, const uint8_t key[16]);

#endif /* SP_SCHED_OPS_H */
