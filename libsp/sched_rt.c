/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sched_rt.c -- most responsive host (LSNAT §5.1 #5): the caller pings
 * (probes) each server and records the round trip; the eligible server
 * with the least rtt per unit of weight is chosen, rtt/weight compared
 * exactly, ties round-robin.  The draft uses response time "in
 * conjunction with the heuristics": servers whose rtt is not known yet
 * are left out while any rtt is known, and when none is known the
 * choice falls back to least sessions (lc).
 */
#include <sp/sched.h>

#include "sched_ops.h"

static bool
rt_known(const struct sp_sched_server *srv)
{
	return srv->rtt_us != SP_SCHED_UNKNOWN;
}

static int
rt_cmp(const struct sp_sched_server *x, const struct sp_sched_server *y,
    const struct sp_sched_req *req)
{
	(void)req;
	return sp_sched_ratio_cmp(x->rtt_us, sp_sched_weight(x), y->rtt_us,
	    sp_sched_weight(y));
}

static int
rt_pick(void *state, const struct sp_sched_server *srv, size_t n,
    const struct sp_sched_req *req, const uint8_t key[16])
{
	int i;

	(void)key;
	if ((i = sp_sched_least(state, srv, n, req, rt_cmp, rt_known)) >= 0)
		return i;
	return sp_sched_lc_pick(state, srv, n, req);
}

const struct sp_sched_ops sp_sched_rt_ops = {
	.name = "rt",
	.state_size = sizeof(struct sp_sched_cursor),
	.update = NULL,
	.pick = rt_pick,
	.release = NULL,
};
