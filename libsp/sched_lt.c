/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sched_lt.c -- least traffic first (LSNAT §5.1 #3): the eligible
 * server with the least traffic (packets or bytes to and from it over
 * the caller's window) per unit of weight, traffic/weight compared
 * exactly.  Ties are shared round-robin.
 */
#include <sp/sched.h>

#include "sched_ops.h"

static int
lt_cmp(const struct sp_sched_server *x, const struct sp_sched_server *y,
    const struct sp_sched_req *req)
{
	(void)req;
	return sp_sched_ratio_cmp(x->traffic, sp_sched_weight(x),
	    y->traffic, sp_sched_weight(y));
}

static int
lt_pick(void *state, const struct sp_sched_server *srv, size_t n,
    const struct sp_sched_req *req, const uint8_t key[16])
{
	(void)key;
	return sp_sched_least(state, srv, n, req, lt_cmp, NULL);
}

const struct sp_sched_ops sp_sched_lt_ops = {
	.name = "lt",
	.state_size = sizeof(struct sp_sched_cursor),
	.update = NULL,
	.pick = lt_pick,
	.release = NULL,
};
