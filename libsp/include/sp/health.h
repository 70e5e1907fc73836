/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp/health.h -- health state of one real server (doc/design.md §3.6, LSNAT
 * §6 "Dead host detection"): active checks with rise and fall, and
 * passive detection of new sessions that get no answer.
 *
 * A plain struct the caller embeds, one per server, and functions that
 * move it along.  No I/O and no clock: the caller sends the probes,
 * watches its sessions and passes the time in (now_ms, any monotonic
 * millisecond clock, the same one for every call on a struct).
 *
 * States:
 *
 *   UP     may take new sessions.
 *   DOWN   takes none.  Left by `rise` consecutive successful probes
 *          (active check), or, when there is no active check and it
 *          went down passively, by the end of the dead-retry pause.
 *   RETRY  passively downed, pause over, no active check: takes new
 *          sessions again on probation (LSNAT §6: "monitored later
 *          again after a long pause ... by periodically reassigning
 *          new sessions").  The first answer makes it UP; a session
 *          left unanswered for passive_timeout makes it DOWN again for
 *          another pause.
 *
 * sp_health_up() is true in UP and RETRY.  The functions that can
 * change it return true when they did, so that the caller recomputes
 * which servers are eligible only then.
 *
 * Active check protocol: when sp_health_probe_due() says so, call
 * sp_health_probe_sent(), send one probe, and post its outcome with
 * sp_health_probe_result() before sending the next one (the caller
 * waits at most the check's timeout, which the configuration keeps
 * <= interval, so probes never overlap).  A DOWN server keeps being
 * probed at the interval: that is how it comes back.
 *
 * Passive detection: sp_health_session_new() when a new session is
 * bound to the server, sp_health_session_answered() on any evidence the
 * server answered (the client's ACK of the handshake, a reply through
 * NAT), and sp_health_tick() regularly (every 100 ms in lbspd).  O(1)
 * memory: only the time of the oldest unanswered session and a count
 * are kept; any answer clears both (the server is alive, so the older
 * sessions were not left unanswered for its sake).
 */
#ifndef SP_HEALTH_H
#define SP_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include <sp/conf.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Public API: exported from libsp.so (built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

/* rtt_us before any successful probe (same value as SP_SCHED_UNKNOWN). */
#define SP_HEALTH_RTT_UNKNOWN UINT32_MAX

enum sp_health_state {
	SP_HEALTH_UP,		/* takes new sessions */
	SP_HEALTH_DOWN,		/* takes none */
	SP_HEALTH_RETRY,	/* takes them on probation (see above) */
};

/* What caused the last state change. */
enum sp_health_reason {
	SP_HEALTH_REASON_START,		/* none yet: UP since init */
	SP_HEALTH_REASON_ACTIVE,	/* rise / fall of the active check */
	SP_HEALTH_REASON_PASSIVE,	/* unanswered session, or the
					   dead-retry pause ended */
};

/* One server's health.  Every time is a now_ms value, ms. */
struct sp_health {
	/* Parameters (sp_health_init / sp_health_configure). */
	enum sp_conf_check_type type;	/* NONE: no active check */
	uint32_t interval_ms;	/* between probe starts, ms */
	uint32_t timeout_ms;	/* per probe, ms (the caller waits this) */
	uint8_t rise;		/* consecutive successes to go UP, >= 1 */
	uint8_t fall;		/* consecutive failures to go DOWN, >= 1 */
	uint32_t dead_retry_ms;	/* pause before a passively downed
				   server is retried, ms */
	uint32_t passive_timeout_ms;	/* a new session unanswered this
					   long downs the server, ms;
					   0 = passive detection off */

	/* State. */
	enum sp_health_state state;
	enum sp_health_reason reason;	/* of the last state change */
	uint64_t changed_ms;	/* time of the last state change (or of
				   init), ms; DOWN with no active check:
				   RETRY at changed_ms + dead_retry_ms */
	uint32_t successes;	/* consecutive successful probes, count
				   (saturates) */
	uint32_t failures;	/* consecutive failed probes, count
				   (saturates) */
	uint64_t next_probe_ms;	/* the next probe is due at this time, ms */
	uint32_t rtt_us;	/* round trip of the last successful probe,
				   µs, or SP_HEALTH_RTT_UNKNOWN; kept on a
				   failure (the response-time scheduler
				   only sees UP servers) */
	uint32_t unanswered;	/* new sessions since the last answer,
				   count (saturates); 0 = no suspicion */
	uint64_t unanswered_since_ms;	/* when the oldest of them was
					   bound, ms; valid if unanswered */

	/* Counters, for lbspctl. */
	uint64_t probes;	/* probe results posted, count */
	uint64_t probe_failures;	/* failed ones among them, count */
	uint64_t passive_downs;	/* times passive detection downed it */
};

/*
 * sp_health_init - start a server's health: UP, no probe yet (the first
 * one is due at once), rtt unknown, no suspicion, counters zero.
 * @h: the struct to fill (all of it is written).
 * @check: the vip's check line; NULL or type NONE = no active check.
 * @dead_retry_ms: pause before retrying a passively downed server, ms.
 * @passive_timeout_ms: unanswered-session limit, ms; 0 = off.
 * @now_ms: current time, ms.
 * Why UP: a balancer that has just started (or reloaded with a new
 * server) must serve at once; waiting `rise` intervals with every server
 * down would refuse all sessions for seconds.  A dead server is found by
 * its first `fall` probes, or by its first unanswered sessions.
 */
void sp_health_init(struct sp_health *h, const struct sp_conf_check *check,
    uint32_t dead_retry_ms, uint32_t passive_timeout_ms, uint64_t now_ms);

/*
 * sp_health_configure - change the parameters of a running server (a
 * reload) and keep its state, counters and rtt.  Same parameters as
 * sp_health_init() but now_ms is not needed: a probe already scheduled
 * keeps its time.  Consecutive counts already at rise / fall act at the
 * next result.  Why: a reload must not bring a dead server back up.
 */
void sp_health_configure(struct sp_health *h,
    const struct sp_conf_check *check, uint32_t dead_retry_ms,
    uint32_t passive_timeout_ms);

/*
 * sp_health_probe_due - whether an active probe should be sent now:
 * there is an active check and now_ms has reached the time set by the
 * last sp_health_probe_sent() plus the interval (at init: at once).
 * Whatever the state: DOWN servers are probed too.
 */
bool sp_health_probe_due(const struct sp_health *h, uint64_t now_ms);

/*
 * sp_health_probe_sent - the caller sends a probe now: the next one is
 * due interval_ms later.
 */
void sp_health_probe_sent(struct sp_health *h, uint64_t now_ms);

/*
 * sp_health_probe_result - post the outcome of the probe sent last.
 * @ok: it succeeded within the timeout.
 * @rtt_us: its round trip, µs; kept as h->rtt_us when ok.
 * @now_ms: current time, ms.
 * A success resets the failure count and, once `rise` in a row, brings
 * a DOWN (or RETRY) server UP; a failure resets the success count and,
 * once `fall` in a row, takes an UP (or RETRY) server DOWN.
 * Returns true when sp_health_up() changed.
 */
bool sp_health_probe_result(struct sp_health *h, bool ok, uint32_t rtt_us,
    uint64_t now_ms);

/*
 * sp_health_session_new - a new session was bound to this server: it is
 * expected to answer within passive_timeout_ms.  Only the oldest
 * unanswered one is timed.  Nothing is recorded when passive detection
 * is off.
 */
void sp_health_session_new(struct sp_health *h, uint64_t now_ms);

/*
 * sp_health_session_answered - evidence the server answered a session:
 * clears all suspicion; a server on probation (RETRY) is UP again.
 * Never changes sp_health_up(), so there is nothing to return.
 */
void sp_health_session_answered(struct sp_health *h, uint64_t now_ms);

/*
 * sp_health_tick - the passive clock, to be called regularly for every
 * server.  An UP or RETRY server whose oldest unanswered new session was
 * bound passive_timeout_ms ago or more goes DOWN (reason passive) until
 * now_ms + dead_retry_ms.  A DOWN server with no active check (downed
 * that way, or whose check a reload removed) goes to RETRY once
 * dead_retry_ms have passed since it went down; with an active check,
 * `rise` successful probes bring it back instead.
 * Returns true when sp_health_up() changed.
 */
bool sp_health_tick(struct sp_health *h, uint64_t now_ms);

/*
 * sp_health_up - whether the server may take new sessions (UP or
 * RETRY).
 */
bool sp_health_up(const struct sp_health *h);

/*
 * sp_health_state_name - "up", "down" or "retry", for logs and lbspctl;
 * "unknown" for a corrupt state.
 */
const char *sp_health_state_name(const struct sp_health *h);

/*
 * sp_health_reason_name - what caused the last state change: "start",
 * "active" or "passive"; "unknown" for a corrupt value.
 */
const char *sp_health_reason_name(const struct sp_health *h);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* SP_HEALTH_H */
