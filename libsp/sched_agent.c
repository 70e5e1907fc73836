/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sched_agent.c -- agent-reported load (LSNAT §5.1, "the active
 * category"): a small agent on each server reports its load, per mille
 * of its capacity, and the eligible server with the least reported
 * load per unit of weight is chosen, agent_load/weight compared
 * exactly, ties round-robin.  Servers whose agent has not reported are
 * left out while any report is known; when none is known the choice
 * falls back to least sessions (lc).
 */
#include <sp/sched.h>

#include "sched_ops.h"

static bool
agent_known(const struct sp_sched_server *srv)
{
	return srv->agent_load != SP_SCHED_UNKNOWN;
}

static int
agent_cmp(const struct sp_sched_server *x, const struct sp_sched_server *y,
    const struct sp_sched_req *req)
{
	(void)req;
	return sp_sched_ratio_cmp(x->agent_load, sp_sched_weight(x),
	    y->agent_load, sp_sched_weight(y));
}

static int
agent_pick(void *state, const struct sp_sched_server *srv, size_t n,
    const struct sp_sched_req *req, const uint8_t key[16])
{
	int i;

	(void)key;
	if ((i = sp_sched_least(state, srv, n, req, agent_cmp,
	    agent_known)) >= 0)
		return i;
	return sp_sched_lc_pick(state, srv, n, req);
}

const struct sp_sched_ops sp_sched_agent_ops = {
	.name = "agent",
	.state_size = sizeof(struct sp_sched_cursor),
	.update = NULL,
	.pick = agent_pick,
	.release = NULL,
};
