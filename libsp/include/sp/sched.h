/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp/sched.h -- load-sharing algorithms (LSNAT §5, RFC 7098 §4,
 * doc/design.md §3.4): one file per algorithm, each exporting an ops table.
 *
 * The caller owns the server array and keeps its figures current
 * (sessions, load, traffic, rtt, agent load, eligibility); a scheduler
 * only reads them and keeps its own small state (a round-robin cursor,
 * a Maglev lookup table).  sp_sched_update() is called whenever the
 * set of servers, their weights or their eligibility change;
 * sp_sched_pick() once per new session.  No I/O, no locking, no clock.
 */
#ifndef SP_SCHED_H
#define SP_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sp/conf.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Public API: exported from libsp.so (built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

#define SP_SCHED_MAX_SERVERS SP_CONF_MAX_SERVERS

/* Unknown figure (rtt, agent load): the algorithm falls back. */
#define SP_SCHED_UNKNOWN UINT32_MAX

/* The scheduler's view of one server; owned and updated by the caller. */
struct sp_sched_server {
	uint8_t addr[16];	/* the server's address */
	bool eligible;		/* may take new sessions: healthy, not
				   draining, not replaced by a backup */
	uint16_t weight;	/* relative capacity, 1..1000 */
	uint16_t cost;		/* cost of reaching it (LSNAT §5.2);
				   0 counts as 1 */
	bool reachable;		/* false: cost is infinite (LSNAT §5.2) */
	uint32_t sessions;	/* sessions bound to it now */
	uint64_t load;		/* sum of the session weights of those
				   sessions (session-weight), units */
	uint64_t traffic;	/* packets or bytes to and from it in the
				   current window */
	uint32_t rtt_us;	/* last probe round trip, µs, or UNKNOWN */
	uint32_t agent_load;	/* load its agent reported, 0..1000 (per
				   mille of capacity), or UNKNOWN */
};

/* What is known of the new session. */
struct sp_sched_req {
	const uint8_t *src;	/* client source address (16 bytes) */
	const uint8_t *identity; /* seg1, or NULL for a legacy client */
	uint32_t label;		/* flow label, 0 if none */
	uint16_t dport;		/* service port, host order */
	uint16_t session_weight; /* weight of a session on dport, >= 1 */
};

struct sp_sched;

/* One algorithm. */
struct sp_sched_ops {
	const char *name;	/* the config's spelling: "rr", "maglev" */
	size_t state_size;	/* bytes of private state, zeroed at new */
	/* Rebuild after the servers changed; 0 or -1 (out of memory). */
	int (*update)(void *state, const struct sp_sched_server *srv,
	    size_t n, const uint8_t key[16]);
	/* Index of the chosen server among srv[0..n), or -1 when no
	 * server is eligible. */
	int (*pick)(void *state, const struct sp_sched_server *srv, size_t n,
	    const struct sp_sched_req *req, const uint8_t key[16]);
	/* Free what update allocated (may be NULL). */
	void (*release)(void *state);
};

/* The ops table of an algorithm, NULL when out of range. */
const struct sp_sched_ops *sp_sched_ops_get(enum sp_conf_scheduler kind);

/*
 * sp_sched_new - a scheduler of the given kind keyed with key (16
 * bytes: the SipHash key of hash and maglev, so that several balancers
 * with one key agree).  NULL on a bad kind or out of memory.
 */
struct sp_sched *sp_sched_new(enum sp_conf_scheduler kind,
    const uint8_t key[16]);

/* Rebuild after the servers changed.  Returns 0 or -1. */
int sp_sched_update(struct sp_sched *s, const struct sp_sched_server *srv,
    size_t n);

/* Choose a server for a new session: its index, or -1 if none. */
int sp_sched_pick(struct sp_sched *s, const struct sp_sched_server *srv,
    size_t n, const struct sp_sched_req *req);

void sp_sched_free(struct sp_sched *s);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* SP_SCHED_H */
