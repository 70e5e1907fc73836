/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sched.c -- the scheduler front end (doc/design.md §3.4): one dispatch
 * table from the configuration's scheduler kind to the algorithm's ops
 * table, the checks every algorithm relies on, and the helpers they
 * share (exact ratio comparison, the least-something scan with a
 * round-robin tie-break, the keyed hash of a session's key).
 */
#include <stdlib.h>
#include <string.h>

#include <sp/sched.h>
#include <sp/siphash.h>

#include "sched_ops.h"

struct sp_sched {
	const struct sp_sched_ops *ops;
	uint8_t key[SP_SIPHASH_KEYLEN];	/* hash and maglev's secret */
	void *state;			/* ops->state_size bytes */
};

/*
 * Indexed by kind.  The array has exactly SP_CONF_SCHED__COUNT slots: a
 * kind added to the configuration without an algorithm here reads as
 * NULL, sp_sched_new() refuses it, and check_sched's "every kind has an
 * ops table named as the configuration spells it" test fails loudly.
 */
static const struct sp_sched_ops *const sched_ops[SP_CONF_SCHED__COUNT] = {
	[SP_CONF_SCHED_RR] = &sp_sched_rr_ops,
	[SP_CONF_SCHED_WRR] = &sp_sched_wrr_ops,
	[SP_CONF_SCHED_LC] = &sp_sched_lc_ops,
	[SP_CONF_SCHED_LT] = &sp_sched_lt_ops,
	[SP_CONF_SCHED_WLC] = &sp_sched_wlc_ops,
	[SP_CONF_SCHED_RT] = &sp_sched_rt_ops,
	[SP_CONF_SCHED_AGENT] = &sp_sched_agent_ops,
	[SP_CONF_SCHED_COST] = &sp_sched_cost_ops,
	[SP_CONF_SCHED_HASH] = &sp_sched_hash_ops,
	[SP_CONF_SCHED_MAGLEV] = &sp_sched_maglev_ops,
};

const struct sp_sched_ops *
sp_sched_ops_get(enum sp_conf_scheduler kind)
{
	if ((unsigned)kind >= SP_CONF_SCHED__COUNT)
		return NULL;
	return sched_ops[kind];
}

struct sp_sched *
sp_sched_new_ops(const struct sp_sched_ops *ops, const uint8_t key[16])
{
	struct sp_sched *s;

	if (ops == NULL || ops->pick == NULL)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	/* At least one byte, so that a stateless algorithm gets a
	 * non-NULL pointer like the others. */
	if ((s->state = calloc(1, ops->state_size ? ops->state_size : 1)) ==
	    NULL) {
		free(s);
		return NULL;
	}
	s->ops = ops;
	if (key != NULL)
		memcpy(s->key, key, sizeof(s->key));
	return s;
}

struct sp_sched *
sp_sched_new(enum sp_conf_scheduler kind, const uint8_t key[16])
{
	return sp_sched_new_ops(sp_sched_ops_get(kind), key);
}

int
sp_sched_update(struct sp_sched *s, const struct sp_sched_server *srv,
    size_t n)
{
	if (s == NULL || n > SP_SCHED_MAX_SERVERS || (n > 0 && srv == NULL))
		return -1;
	if (s->ops->update == NULL)
		return 0;
	return s->ops->update(s->state, srv, n, s->key);
}

int
sp_sched_pick(struct sp_sched *s, const struct sp_sched_server *srv,
    size_t n, const struct sp_sched_req *req)
{
	if (s == NULL || srv == NULL || n == 0 ||
	    n > SP_SCHED_MAX_SERVERS || req == NULL || req->src == NULL)
		return -1;
	return s->ops->pick(s->state, srv, n, req, s->key);
}

void
sp_sched_free(struct sp_sched *s)
{
	if (s == NULL)
		return;
	if (s->ops->release != NULL)
		s->ops->release(s->state);
	free(s->state);
	free(s);
}

uint64_t
sp_sched_weight(const struct sp_sched_server *srv)
{
	return srv->weight == 0 ? 1 : srv->weight;
}

int
sp_sched_ratio_cmp(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	uint64_t qa, qc, ra, rc;
	int sign = 1;

	/* x/0 is taken as infinite, larger than any finite ratio. */
	if (b == 0 || d == 0)
		return (b == 0) - (d == 0);
	/*
	 * a/b = qa + ra/b and c/d = qc + rc/d: the integer parts decide,
	 * or else the remainders, and ra/b < rc/d exactly when
	 * b/ra > d/rc, so the walk continues on the inverted remainders
	 * with the sense flipped.  The pairs shrink as in Euclid's
	 * algorithm: at most ~90 rounds for 64-bit operands.
	 */
	for (;;) {
		qa = a / b;
		qc = c / d;
		if (qa != qc)
			return qa < qc ? -sign : sign;
		ra = a % b;
		rc = c % d;
		if (ra == 0 || rc == 0) {
			if (ra == rc)
				return 0;
			return ra == 0 ? -sign : sign;
		}
		a = b;
		b = ra;
		c = d;
		d = rc;
		sign = -sign;
	}
}

int
sp_sched_prod_cmp(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	bool zx = a == 0 || b == 0, zy = c == 0 || d == 0;

	if (zx || zy)
		return zy - zx;
	/* a*b < c*d  <=>  a/d < c/b, both sides divided by b*d > 0. */
	return sp_sched_ratio_cmp(a, d, c, b);
}

int
sp_sched_least(struct sp_sched_cursor *cur,
    const struct sp_sched_server *srv, size_t n,
    const struct sp_sched_req *req, sp_sched_cmp_fn cmp,
    sp_sched_usable_fn usable)
{
	size_t i, k;
	int best = -1;

	if (n == 0)
		return -1;
	for (k = 0, i = cur->next % n; k < n; k++, i = (i + 1) % n) {
		if (!srv[i].eligible || (usable != NULL && !usable(&srv[i])))
			continue;
		/* Strictly better only: a tie keeps the first met. */
		if (best < 0 || cmp(&srv[i], &srv[best], req) < 0)
			best = (int)i;
	}
	if (best >= 0)
		cur->next = (size_t)best + 1;
	return best;
}

uint64_t
sp_sched_flow_hash(const struct sp_sched_req *req, const uint8_t key[16])
{
	uint8_t buf[20];

	/* An LBSP session is keyed by its identity alone: every session of
	 * one client then hashes alike, on every balancer, which is what
	 * the seg1 stick table records (the label is per connection). */
	if (req->identity != NULL) {
		memcpy(buf, req->identity, 16);
		memset(buf + 16, 0, 4);
		return sp_siphash24(key, buf, sizeof(buf));
	}
	memcpy(buf, req->src, 16);
	buf[16] = (uint8_t)(req->label >> 24);
	buf[17] = (uint8_t)(req->label >> 16);
	buf[18] = (uint8_t)(req->label >> 8);
	buf[19] = (uint8_t)req->label;
	return sp_siphash24(key, buf, sizeof(buf));
}
