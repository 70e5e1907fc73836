/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sched_wrr.c -- smooth weighted round robin (the interleaved variant
 * of nginx, ngx_http_upstream_get_peer): at each pick every eligible
 * server's credit grows by its weight, the server with the most credit
 * is chosen and pays back the total weight.  The credits sum to zero
 * after every pick, so the sequence repeats every W = sum(weights)
 * picks and any W consecutive picks hold each server exactly weight
 * times -- spread out (1:2:3 gives c b a c b c), not in bursts.
 */
#include <string.h>

#include <sp/sched.h>

#include "sched_ops.h"

struct wrr_state {
	/* Credit of each server, in weight units; |credit| <= n * 65535. */
	int64_t credit[SP_SCHED_MAX_SERVERS];
};

/* The servers or their weights changed: start a fresh cycle. */
static int
wrr_update(void *state, const struct sp_sched_server *srv, size_t n,
    const uint8_t key[16])
{
	struct wrr_state *st = state;

	(void)srv;
	(void)n;
	(void)key;
	memset(st->credit, 0, sizeof(st->credit));
	return 0;
}

static int
wrr_pick(void *state, const struct sp_sched_server *srv, size_t n,
    const struct sp_sched_req *req, const uint8_t key[16])
{
	struct wrr_state *st = state;
	int64_t total = 0;
	size_t i;
	int best = -1;

	(void)req;
	(void)key;
	for (i = 0; i < n; i++) {
		if (!srv[i].eligible) {
			/* No stale credit when it comes back. */
			st->credit[i] = 0;
			continue;
		}
		st->credit[i] += (int64_t)sp_sched_weight(&srv[i]);
		total += (int64_t)sp_sched_weight(&srv[i]);
		if (best < 0 || st->credit[i] > st->credit[best])
			best = (int)i;
	}
	if (best >= 0)
		st->credit[best] -= total;
	return best;
}

const struct sp_sched_ops sp_sched_wrr_ops = {
	.name = "wrr",
	.state_size = sizeof(struct wrr_state),
	.update = wrr_update,
	.pick = wrr_pick,
	.release = NULL,
};
