/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sched_cost.c -- the distributed algorithms of LSNAT §5.2, for servers
 * at different network costs (from the routing protocol: RIP, OSPF).
 *
 * sp_sched_cost_ops ("cost", §5.2 #1, weighted least load first): the
 * eligible, reachable server with the least cost x sessions.
 * sp_sched_cost_traffic_ops (§5.2 #2, weighted least traffic first):
 * the least cost x traffic.  The configuration names only the first
 * ("scheduler cost"); the second is an ops table of its own, reachable
 * through sp_sched_new_ops(), until a kind is added for it.
 *
 * A cost of 0 counts as 1 (a product would otherwise be 0 forever); an
 * unreachable server has an infinite cost and is never chosen.  Equal
 * products go to the server with fewer sessions, then round-robin.
 * Products are compared exactly (no overflow).
 *
 * Note: the draft's prose says "cost of accessing server S1 is twice as
 * much as that of server S2.  In that case, S1 will be assigned twice
 * as much load as that of S2" -- which contradicts its own rule: the
 * least product cost x sessions keeps 2 * s1 ~ 1 * s2, so S1, twice as
 * costly, gets HALF the sessions of S2 (a 1:2 split, check_sched.c).
 * The product rule is implemented, as the only reading where a higher
 * cost means less load, and infinite cost no load.
 */
#include <sp/sched.h>

#include "sched_ops.h"

static bool
cost_reachable(const struct sp_sched_server *srv)
{
	return srv->reachable;
}

static uint64_t
cost_of(const struct sp_sched_server *srv)
{
	return srv->cost == 0 ? 1 : srv->cost;
}

static int
cost_sessions_cmp(const struct sp_sched_server *x,
    const struct sp_sched_server *y, const struct sp_sched_req *req)
{
	int c;

	(void)req;
	if ((c = sp_sched_prod_cmp(cost_of(x), x->sessions, cost_of(y),
	    y->sessions)) != 0)
		return c;
	return (x->sessions > y->sessions) - (x->sessions < y->sessions);
}

static int
cost_traffic_cmp(const struct sp_sched_server *x,
    const struct sp_sched_server *y, const struct sp_sched_req *req)
{
	int c;

	(void)req;
	if ((c = sp_sched_prod_cmp(cost_of(x), x->traffic, cost_of(y),
	    y->traffic)) != 0)
		return c;
	return (x->sessions > y->sessions) - (x->sessions < y->sessions);
}

static int
cost_pick(void *state, const struct sp_sched_server *srv, size_t n,
    const struct sp_sched_req *req, const uint8_t key[16])
{
	(void)key;
	return sp_sched_least(state, srv, n, req, cost_sessions_cmp,
	    cost_reachable);
}

static int
cost_traffic_pick(void *state, const struct sp_sched_server *srv, size_t n,
    const struct sp_sched_req *req, const uint8_t key[16])
{
	(void)key;
	return sp_sched_least(state, srv, n, req, cost_traffic_cmp,
	    cost_reachable);
}

const struct sp_sched_ops sp_sched_cost_ops = {
	.name = "cost",
	.state_size = sizeof(struct sp_sched_cursor),
	.update = NULL,
	.pick = cost_pick,
	.release = NULL,
};

const struct sp_sched_ops sp_sched_cost_traffic_ops = {
	.name = "cost-traffic",
	.state_size = sizeof(struct sp_sched_cursor),
	.update = NULL,
	.pick = cost_traffic_pick,
	.release = NULL,
};
