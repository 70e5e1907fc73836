/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sched_lc.c -- least sessions first (LSNAT §5.1 #2): the eligible
 * server with the fewest sessions bound to it.  As in the draft, every
 * session counts the same and every host is taken as equally
 * resourceful: weights are ignored here (wlc uses them).  Servers with
 * equally few sessions share new sessions round-robin, so a cold start
 * with all counts at zero does not pile everything on the first one
 * before the caller's counts catch up.
 */
#include <sp/sched.h>

#include "sched_ops.h"

static int
lc_cmp(const struct sp_sched_server *x, const struct sp_sched_server *y,
    const struct sp_sched_req *req)
{
	(void)req;
	return (x->sessions > y->sessions) - (x->sessions < y->sessions);
}

int
sp_sched_lc_pick(struct sp_sched_cursor *cur,
    const struct sp_sched_server *srv, size_t n,
    const struct sp_sched_req *req)
{
	return sp_sched_least(cur, srv, n, req, lc_cmp, NULL);
}

static int
lc_pick(void *state, const struct sp_sched_server *srv, size_t n,
    const struct sp_sched_req *req, const uint8_t key[16])
{
	(void)key;
	return sp_sched_lc_pick(state, srv, n, req);
}

const struct sp_sched_ops sp_sched_lc_ops = {
	.name = "lc",
	.state_size = sizeof(struct sp_sched_cursor),
	.update = NULL,
	.pick = lc_pick,
	.release = NULL,
};
