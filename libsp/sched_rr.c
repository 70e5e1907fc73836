/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sched_rr.c -- round robin (LSNAT §5.1 #1): each new session goes to
 * the next eligible server after the last one chosen, "without regard
 * to load on the host" or to its weight.
 */
#include <sp/sched.h>

#include "sched_ops.h"

struct rr_state {
	size_t next;		/* index the next scan starts from */
};

static int
rr_pick(void *state, const struct sp_sched_server *srv, size_t n,
    const struct sp_sched_req *req, const uint8_t key[16])
{
	struct rr_state *st = state;
	size_t i, k;

	(void)req;
	(void)key;
	for (k = 0, i = st->next % n; k < n; k++, i = (i + 1) % n)
		if (srv[i].eligible) {
			st->next = i + 1;
			return (int)i;
		}
	return -1;
}

const struct sp_sched_ops sp_sched_rr_ops = {
	.name = "rr",
	.state_size = sizeof(struct rr_state),
	.update = NULL,
	.pick = rr_pick,
	.release = NULL,
};
