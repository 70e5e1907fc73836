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
#include <stdlib.h>
#include <string.h>

#include <sp/sched.h>

#include "sched_ops.h"

struct wrr_state {
	/* Credit of each server, in weight units; |credit| <= n * 65535.
	 * Sized by the servers there are (up to SP_SCHED_MAX_SERVERS). */
	int64_t *credit;
	size_t cap;		/* entries allocated in credit */
};

/* Room for n credits, the new ones zero.  -1 when out of memory. */
static int
wrr_room(struct wrr_state *st, size_t n)
{
	int64_t *c;

	if (n <= st->cap)
		return 0;
	if ((c = realloc(st->credit, n * sizeof(*c))) == NULL)
		return -1;
	memset(c + st->cap, 0, (n - st->cap) * sizeof(*c));
	st->credit = c;
	st->cap = n;
	return 0;
}

/* The servers or their weights changed: start a fresh cycle. */
static int
wrr_update(void *state, const struct sp_sched_server *srv, size_t n,
    const uint8_t key[16])
{
	struct wrr_state *st = state;

	(void)srv;
	(void)key;
	if (st->cap > 0)
		memset(st->credit, 0, st->cap * sizeof(*st->credit));
	return wrr_room(st, n);
}

static void
wrr_release(void *state)
{
	struct wrr_state *st = state;

	free(st->credit);
	st->credit = NULL;
	st->cap = 0;
}

static int
wrr_pick(void *state, const struct sp_sched_server *srv, size_t n,
    const struct sp_sched_req *req, const uint8_t key[16])
{
	struct wrr_state *st = state;
	int64_t total = 0;
	size_t i;
	int best = -1;

	/* Servers added without an update: credits for them, or (out of
	 * memory) the stateless pick rather than none. */
	if (wrr_room(st, n) == -1)
		return sp_sched_hrw_pick(srv, n, req, key);
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
	.release = wrr_release,
};
