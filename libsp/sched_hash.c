/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sched_hash.c -- keyed hash of the session's {source address, flow
 * label} (RFC 7098 §4; keyed with SipHash under the daemon's secret,
 * §5, so nobody can aim a session at a chosen server), mapped onto the
 * eligible servers by weighted rendezvous hashing (highest random
 * weight; Thaler and Ravishankar 1998, weighted as in Schindelhauer and
 * Schomaker 2005):
 *
 *   every eligible server i draws h_i = SipHash(key, {flow hash, addr_i}),
 *   read as u_i in (0, 1), and scores w_i / -log2(u_i); the best wins.
 *
 * Each server wins with probability w_i / sum(w).  The score of a pair
 * depends only on the key, the session and that server's address: the
 * same key gives the same choices after a restart and on every balancer
 * whatever the order of the servers, and when a server leaves only the
 * sessions it had move (every other server's score is unchanged).
 *
 * All integer: -log2(u) is computed in 32.32 fixed point and the scores
 * compared exactly, so two builds never disagree.  Cost: one SipHash of
 * 24 bytes per eligible server per new session.
 */
#include <string.h>

#include <sp/sched.h>
#include <sp/siphash.h>

#include "sched_ops.h"

/*
 * -log2((h | 1) / 2^64) in 32.32 fixed point, 1 .. 64 << 32.  log2 of
 * the 64-bit integer v: its exponent e (the top set bit) plus log2 of
 * its mantissa m in [1, 2), taken 32 bits wide and refined one bit per
 * squaring (m^2 >= 2 means the next bit of log2 m is 1; then halve).
 * The error is a few units in the last place: the weights come out
 * right to far better than any test can see.
 */
static uint64_t
hash_neglog2(uint64_t h)
{
	uint64_t v = h | 1, m, frac = 0, lg;
	unsigned e, i;

	e = 63 - (unsigned)__builtin_clzll(v);
	/* m in [2^31, 2^32): 1.31 fixed point. */
	m = e >= 31 ? v >> (e - 31) : v << (31 - e);
	for (i = 0; i < 32; i++) {
		m = (m * m) >> 31;
		frac <<= 1;
		if (m >= (UINT64_C(1) << 32)) {
			m >>= 1;
			frac |= 1;
		}
	}
	lg = ((uint64_t)e << 32) | frac;
	/* lg < 64 << 32 since v < 2^64; at least 1 keeps scores finite. */
	return (UINT64_C(64) << 32) - lg;
}

int
sp_sched_hrw_pick(const struct sp_sched_server *srv, size_t n,
    const struct sp_sched_req *req, const uint8_t key[16])
{
	uint64_t fh, h, l, w, best_h = 0, best_l = 1, best_w = 0;
	uint8_t buf[24];
	size_t i;
	int best = -1, c;

	fh = sp_sched_flow_hash(req, key);
	for (i = 0; i < 8; i++)
		buf[i] = (uint8_t)(fh >> (8 * i));
	for (i = 0; i < n; i++) {
		if (!srv[i].eligible)
			continue;
		memcpy(buf + 8, srv[i].addr, 16);
		h = sp_siphash24(key, buf, sizeof(buf));
		l = hash_neglog2(h);
		w = sp_sched_weight(&srv[i]);
		/* Highest w / l; an exact tie (as rare as a 64-bit
		 * collision) goes to the higher hash, then the lower
		 * index: still a function of the pair alone. */
		c = best < 0 ? 1 : sp_sched_ratio_cmp(w, l, best_w, best_l);
		if (c > 0 || (c == 0 && h > best_h)) {
			best = (int)i;
			best_h = h;
			best_l = l;
			best_w = w;
		}
	}
	return best;
}

static int
hash_pick(void *state, const struct sp_sched_server *srv, size_t n,
    const struct sp_sched_req *req, const uint8_t key[16])
{
	(void)state;
	return sp_sched_hrw_pick(srv, n, req, key);
}

const struct sp_sched_ops sp_sched_hash_ops = {
	.name = "hash",
	.state_size = 0,
	.update = NULL,
	.pick = hash_pick,
	.release = NULL,
};
