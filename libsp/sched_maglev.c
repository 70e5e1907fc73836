/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sched_maglev.c -- Maglev consistent hashing (D. E. Eisenbud et al.,
 * "Maglev: A Fast and Reliable Software Network Load Balancer", NSDI
 * 2016, §3.4): a lookup table of M slots, each naming a server, filled
 * so that every server holds about its share of the slots and a change
 * in the set of servers moves few slots.  A session goes to the slot of
 * its keyed {source, flow label} hash (sp_sched_flow_hash).  Balancers
 * with the same key and the same servers build the same table, so they
 * agree without sharing any state.
 *
 * Building (update): each eligible server i has a permutation of the
 * slots, permutation_i[j] = (offset_i + j * skip_i) mod M, with offset
 * and skip from two keyed SipHashes of its address (M prime, skip in
 * 1..M-1, so every permutation visits every slot).  Servers take turns
 * claiming their next preferred free slot until the table is full.
 * Weighted turns (as in Envoy's weighted Maglev): in round r a server
 * of weight w takes a turn when r * w >= its target, and each turn
 * adds the largest weight to the target, so it claims about w / max(w)
 * turns per round and slots in proportion to its weight.  Ineligible
 * servers are left out of the table.
 *
 * Memory: M = 65537 (prime) two-byte slots, 128 KiB per scheduler,
 * allocated by update and freed by release.  M >= 1000 x 64 servers
 * keeps each server's share within about 1% (the paper asks M >> 100 N);
 * with thousands of servers each still holds some 16 slots or more
 * (4,096 servers), so shares vary more but a change of servers still
 * moves only the slots it must.
 * Building costs O(M log M) at worst, on each update only.
 *
 * A table that is missing (allocation failed) or stale (the caller
 * changed the servers without calling update) is not trusted: the
 * session is then hashed by rendezvous over the eligible servers, so
 * only eligible servers are ever chosen.
 */
#include <stdlib.h>
#include <string.h>

#include <sp/sched.h>
#include <sp/siphash.h>

#include "sched_ops.h"

#define MAGLEV_SIZE	65537u		/* slots in the table, prime */
#define MAGLEV_EMPTY	0xffffu		/* slot not yet claimed */

_Static_assert(SP_SCHED_MAX_SERVERS < MAGLEV_EMPTY,
    "a server index must fit a slot");

struct maglev_state {
	uint16_t *table;	/* MAGLEV_SIZE slots: server index */
	size_t n;		/* servers when it was built */
};

/* One server while the table is built. */
struct maglev_build {
	uint16_t idx;		/* index in srv[] */
	uint64_t offset;	/* first preferred slot */
	uint64_t skip;		/* stride of its permutation, 1..M-1 */
	uint64_t next;		/* permutation entries used */
	uint64_t weight;
	uint64_t target;	/* turns are taken when round*weight
				   reaches it */
};

/* SipHash of {addr, tag}: tag 'o' for the offset, 's' for the skip. */
static uint64_t
maglev_addr_hash(const uint8_t key[16], const uint8_t addr[16], uint8_t tag)
{
	uint8_t buf[17];

	memcpy(buf, addr, 16);
	buf[16] = tag;
	return sp_siphash24(key, buf, sizeof(buf));
}

static void
maglev_release(void *state)
{
	struct maglev_state *st = state;

	free(st->table);
	st->table = NULL;
	st->n = 0;
}

static int
maglev_update(void *state, const struct sp_sched_server *srv, size_t n,
    const uint8_t key[16])
{
	struct maglev_state *st = state;
	struct maglev_build *b, *e;
	uint64_t wmax = 0, round, slot;
	size_t i, nb = 0, filled;

	maglev_release(st);
	if (n == 0)
		return 0;
	if ((b = malloc(n * sizeof(*b))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (!srv[i].eligible)
			continue;
		e = &b[nb++];
		e->idx = (uint16_t)i;
		e->offset = maglev_addr_hash(key, srv[i].addr, 'o') %
		    MAGLEV_SIZE;
		e->skip = maglev_addr_hash(key, srv[i].addr, 's') %
		    (MAGLEV_SIZE - 1) + 1;
		e->next = 0;
		e->weight = sp_sched_weight(&srv[i]);
		e->target = 0;
		if (e->weight > wmax)
			wmax = e->weight;
	}
	st->n = n;
	if (nb == 0) {
		free(b);
		return 0;	/* nothing to build: pick says -1 */
	}
	if ((st->table = malloc(MAGLEV_SIZE * sizeof(*st->table))) == NULL) {
		free(b);
		return -1;
	}
	for (slot = 0; slot < MAGLEV_SIZE; slot++)
		st->table[slot] = MAGLEV_EMPTY;
	filled = 0;
	for (round = 1; filled < MAGLEV_SIZE; round++) {
		for (i = 0; i < nb && filled < MAGLEV_SIZE; i++) {
			e = &b[i];
			if (round * e->weight < e->target)
				continue;
			e->target += wmax;
			/* Its next preferred slot still free; the table is
			 * not full and the permutation visits every slot,
			 * so this ends. */
			do {
				slot = (e->offset + e->next * e->skip) %
				    MAGLEV_SIZE;
				e->next++;
			} while (st->table[slot] != MAGLEV_EMPTY);
			st->table[slot] = e->idx;
			filled++;
		}
	}
	free(b);
	return 0;
}

static int
maglev_pick(void *state, const struct sp_sched_server *srv, size_t n,
    const struct sp_sched_req *req, const uint8_t key[16])
{
	struct maglev_state *st = state;
	uint16_t idx;

	if (st->table != NULL && st->n == n) {
		idx = st->table[sp_sched_flow_hash(req, key) % MAGLEV_SIZE];
		if (idx < n && srv[idx].eligible)
			return idx;
	}
	/* Missing or stale table. */
	return sp_sched_hrw_pick(srv, n, req, key);
}

const struct sp_sched_ops sp_sched_maglev_ops = {
	.name = "maglev",
	.state_size = sizeof(struct maglev_state),
	.update = maglev_update,
	.pick = maglev_pick,
	.release = maglev_release,
};
