/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cluster.h -- several balancers behind a router's ECMP (lbsp(7),
 * "Scaling out"): the route that tells the routing daemon this balancer
 * can serve a vip, and the warnings about settings on which balancers
 * would not agree.
 *
 * The announcement: with "announce IFNAME", lbspd creates a TUN device
 * of that name (not persistent: it lives exactly as long as lbspd's
 * file descriptor, so a crash, even SIGKILL, deletes it and every route
 * through it) and keeps one route "VIP/128 dev IFNAME proto 252" for
 * each vip that has a server taking new sessions.  The routing daemon
 * (BIRD's kernel protocol with "learn", FRR's "redistribute kernel")
 * picks the route up and announces the vip; it is never told anything
 * else.  Packets to the vip never use the route: the steering rules
 * take them before the routing decision.
 */
#ifndef LBSPD_CLUSTER_H
#define LBSPD_CLUSTER_H

#include <sp/conf.h>

#include "conf_priv.h"
#include "lbspd.h"

/* The protocol number of lbspd's routes (rtnetlink rtm_protocol). */
#define CLUSTER_RTPROT 252

/*
 * Report, through fn, each setting of conf with which balancers of one
 * group would decide differently (a balancer is one of a group when it
 * has "announce"), after balancer_conf_warnings()'s.  Returns the
 * number of warnings.
 */
unsigned cluster_check(const struct sp_conf *conf,
    void (*fn)(void *arg, const char *msg), void *arg);

/* Create the announce device (privileged; before privileges drop).
 * 0, or -1 after logging why.  Nothing to do without "announce". */
int cluster_announce_init(struct lbspd *d);

/* Add and withdraw routes so that exactly the vips with a server that
 * takes new sessions are announced.  Takes d->admin itself. */
void cluster_announce_update(struct lbspd *d);

/* Withdraw every route and delete the device. */
void cluster_announce_stop(void);

#endif /* LBSPD_CLUSTER_H */
