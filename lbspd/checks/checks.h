/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * checks.h -- the health checks of the balancer role (engine.c, and
 * one file per probe: tcp.c, http.c, icmp.c): one thread that sends the active probes (TCP
 * connect, ICMPv6 echo, HTTP GET) from this host to the real servers'
 * own addresses, never to a vip, and runs the passive clock of every
 * server (LSNAT §6).  The state machine itself is libsp's sp/health.h;
 * balancer.h holds the state it moves.
 *
 * Files: engine.c (the thread: collect the probes due, drive them,
 * post their results), tcp.c, http.c and icmp.c (one per probe),
 * probe.h (what they share).
 *
 * Order of calls in main.c:
 *   balancer_configure(d)   d->lb must exist before checks_init
 *   checks_init(d)          as root, before privileges are dropped
 *   priv_drop(...)
 *   checks_start(d)         the thread
 *   ...
 *   checks_stop()           before d->lb and d are freed
 */
#ifndef LBSPD_CHECKS_H
#define LBSPD_CHECKS_H

#include "lbspd.h"

/* Rounds start this often, ms: probes due are sent, passive clocks run. */
#define CHECKS_TICK_MS 100

/*
 * Acquire the engine's only privileged resource: a raw ICMPv6 socket
 * (filtered to echo replies), opened only when some vip has "check
 * icmp".  A vip that gains an icmp check on a later reload cannot be
 * probed until a restart (said once in the log, its servers untouched).
 * Takes d->admin to read d->lb.  Returns 0, or -1 after logging (no
 * CAP_NET_RAW, out of memory).
 */
int checks_init(struct lbspd *d);

/*
 * Start the engine's thread (after privileges were dropped; calls
 * checks_init first if it was not).  The thread reads d->lb under
 * d->admin at every round, so reloads and a NULL d->lb (no balancer
 * role) are fine.  Returns 0, or -1 after logging.
 */
int checks_start(struct lbspd *d);

/*
 * Stop the thread (within a poll wake-up: a round in progress is
 * abandoned and its results are not posted), close the sockets, free
 * the engine.  Safe to call when not started, and twice.
 */
void checks_stop(void);

#endif /* LBSPD_CHECKS_H */
