/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_sched.c -- the load-sharing algorithms (LSNAT §5, RFC 7098 §4,
 * doc/design.md §3.4): the dispatch table, the exact comparisons, and each
 * algorithm's distribution over simulated picks -- the caller's side
 * (counting sessions, load, traffic) is simulated here as lbspd does
 * it.  Known answers from the seeds: the LSNAT weighted-load example
 * (§5.1 #4) and the cost rule (§5.2 #1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sp/conf.h>
#include <sp/sched.h>

#include "sched_ops.h"
#include "suites.h"
#include "testpkt.h"

#define NCLIENTS	3000	/* hash: "random" clients */
#define NMAGLEV		10000	/* maglev: clients */

static const uint8_t key1[16] = {
	0x6b, 0x65, 0x79, 0x31, 0x00, 0x11, 0x22, 0x33,
	0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
};
static const uint8_t key2[16] = {
	0x6b, 0x65, 0x79, 0x32, 0x00, 0x11, 0x22, 0x33,
	0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
};

/* Every algorithm: the configured kinds, then cost x traffic. */
static const struct sp_sched_ops *const all_ops[] = {
	&sp_sched_rr_ops, &sp_sched_wrr_ops, &sp_sched_lc_ops,
	&sp_sched_lt_ops, &sp_sched_wlc_ops, &sp_sched_rt_ops,
	&sp_sched_agent_ops, &sp_sched_cost_ops, &sp_sched_hash_ops,
	&sp_sched_maglev_ops, &sp_sched_cost_traffic_ops,
};
#define NALL	(sizeof(all_ops) / sizeof(all_ops[0]))

/* n idle, eligible, reachable servers 2001:db8:5::1.., weight 1, no
 * rtt or agent figure yet. */
static void
servers(struct sp_sched_server *srv, size_t n)
{
	size_t i;

	memset(srv, 0, n * sizeof(*srv));
	for (i = 0; i < n; i++) {
		tp_addr(srv[i].addr, 5, (uint32_t)i + 1);
		srv[i].eligible = true;
		srv[i].weight = 1;
		srv[i].reachable = true;
		srv[i].rtt_us = SP_SCHED_UNKNOWN;
		srv[i].agent_load = SP_SCHED_UNKNOWN;
	}
}

/* A request from 2001:db8:c:<n>::<n * 2654435761> (spread bits). */
static struct sp_sched_req
request(uint8_t src[16], uint32_t n, uint32_t label, uint16_t sw)
{
	struct sp_sched_req r;

	tp_addr(src, 0xc, n * 2654435761u);
	src[6] = (uint8_t)(n >> 8);
	src[7] = (uint8_t)n;
	memset(&r, 0, sizeof(r));
	r.src = src;
	r.label = label;
	r.dport = 80;
	r.session_weight = sw;
	return r;
}

static struct sp_sched *
new_sched(const struct sp_sched_ops *ops, const uint8_t *key,
    const struct sp_sched_server *srv, size_t n)
{
	struct sp_sched *s = sp_sched_new_ops(ops, key);

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sp_sched_update(s, srv, n), 0);
	return s;
}

/* The caller binds a session of weight sw to server i. */
static void
bind_session(struct sp_sched_server *srv, int i, uint16_t sw)
{
	ck_assert_int_ge(i, 0);
	srv[i].sessions++;
	srv[i].load += sw;
}

/* ------------------------------------------------------- dispatch */

START_TEST(test_ops_table)
{
	const struct sp_sched_ops *ops;
	struct sp_sched *s;
	unsigned k;

	for (k = 0; k < SP_CONF_SCHED__COUNT; k++) {
		ops = sp_sched_ops_get((enum sp_conf_scheduler)k);
		ck_assert_msg(ops != NULL, "kind %u has no ops table", k);
		ck_assert_str_eq(ops->name,
		    sp_conf_scheduler_name((enum sp_conf_scheduler)k));
		ck_assert_ptr_nonnull(ops->pick);
		s = sp_sched_new((enum sp_conf_scheduler)k, key1);
		ck_assert_ptr_nonnull(s);
		sp_sched_free(s);
	}
	ck_assert_ptr_null(sp_sched_ops_get(SP_CONF_SCHED__COUNT));
	ck_assert_ptr_null(sp_sched_ops_get((enum sp_conf_scheduler)-1));
	ck_assert_ptr_null(sp_sched_new(SP_CONF_SCHED__COUNT, key1));
	ck_assert_ptr_null(sp_sched_new_ops(NULL, key1));
	sp_sched_free(NULL);
}
END_TEST

/* Bad arguments are refused, never dereferenced. */
START_TEST(test_bad_args)
{
	struct sp_sched_server srv[SP_SCHED_MAX_SERVERS + 1];
	struct sp_sched_req req;
	struct sp_sched *s;
	uint8_t src[16];

	servers(srv, SP_SCHED_MAX_SERVERS + 1);
	req = request(src, 1, 0, 1);
	s = sp_sched_new_ops(&sp_sched_rr_ops, key1);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sp_sched_update(NULL, srv, 3), -1);
	ck_assert_int_eq(sp_sched_update(s, NULL, 3), -1);
	ck_assert_int_eq(sp_sched_update(s, srv,
	    SP_SCHED_MAX_SERVERS + 1), -1);
	ck_assert_int_eq(sp_sched_update(s, NULL, 0), 0);
	ck_assert_int_eq(sp_sched_pick(NULL, srv, 3, &req), -1);
	ck_assert_int_eq(sp_sched_pick(s, NULL, 3, &req), -1);
	ck_assert_int_eq(sp_sched_pick(s, srv, 3, NULL), -1);
	ck_assert_int_eq(sp_sched_pick(s, srv, SP_SCHED_MAX_SERVERS + 1,
	    &req), -1);
	req.src = NULL;
	ck_assert_int_eq(sp_sched_pick(s, srv, 3, &req), -1);
	req.src = src;
	ck_assert_int_eq(sp_sched_pick(s, srv, SP_SCHED_MAX_SERVERS, &req),
	    0);
	sp_sched_free(s);
}
END_TEST

/* ---------------------------------------------------- comparisons */

/* Against plain arithmetic on small operands, where it cannot overflow. */
START_TEST(test_ratio_cmp_small)
{
	uint64_t a, b, c, d;
	int want;

	for (a = 0; a < 13; a++)
		for (b = 1; b < 13; b++)
			for (c = 0; c < 13; c++)
				for (d = 1; d < 13; d++) {
					want = (a * d > c * b) -
					    (a * d < c * b);
					ck_assert_int_eq(
					    sp_sched_ratio_cmp(a, b, c, d),
					    want);
					want = (a * b > c * d) -
					    (a * b < c * d);
					ck_assert_int_eq(
					    sp_sched_prod_cmp(a, b, c, d),
					    want);
				}
}
END_TEST

/* Where a cross-multiplication in 64 bits would overflow. */
START_TEST(test_ratio_cmp_large)
{
	const uint64_t m = UINT64_MAX, t62 = UINT64_C(1) << 62;

	/* x/(x-1) falls as x grows. */
	ck_assert_int_lt(sp_sched_ratio_cmp(m, m - 1, m - 1, m - 2), 0);
	ck_assert_int_gt(sp_sched_ratio_cmp(m - 1, m - 2, m, m - 1), 0);
	ck_assert_int_eq(sp_sched_ratio_cmp(m - 1, m - 1, 7, 7), 0);
	ck_assert_int_eq(sp_sched_ratio_cmp(2 * t62, 6, t62, 3), 0);
	/* x/0 is infinite. */
	ck_assert_int_gt(sp_sched_ratio_cmp(1, 0, m, 1), 0);
	ck_assert_int_lt(sp_sched_ratio_cmp(m, 1, 0, 0), 0);
	/* 3 * 2^63 < 7 * 2^62, 4 * 2^63 = 8 * 2^62. */
	ck_assert_int_lt(sp_sched_prod_cmp(2 * t62, 3, t62, 7), 0);
	ck_assert_int_eq(sp_sched_prod_cmp(2 * t62, 4, t62, 8), 0);
	ck_assert_int_gt(sp_sched_prod_cmp(m, m, m, m - 1), 0);
	ck_assert_int_lt(sp_sched_prod_cmp(0, m, 1, 1), 0);
}
END_TEST

/* --------------------------------------------------- all of them */

/* No eligible server, no server, one server: for every algorithm. */
START_TEST(test_edges)
{
	const struct sp_sched_ops *ops = all_ops[_i];
	struct sp_sched_server srv[3];
	struct sp_sched_req req;
	struct sp_sched *s;
	uint8_t src[16];
	uint32_t c;

	servers(srv, 3);
	srv[0].eligible = srv[1].eligible = srv[2].eligible = false;
	s = new_sched(ops, key1, srv, 3);
	for (c = 0; c < 20; c++) {
		req = request(src, c, c, 1);
		ck_assert_int_eq(sp_sched_pick(s, srv, 3, &req), -1);
	}
	/* n == 0. */
	ck_assert_int_eq(sp_sched_update(s, srv, 0), 0);
	ck_assert_int_eq(sp_sched_pick(s, srv, 0, &req), -1);
	/* Only the last one eligible: always it. */
	srv[2].eligible = true;
	ck_assert_int_eq(sp_sched_update(s, srv, 3), 0);
	for (c = 0; c < 50; c++) {
		req = request(src, c, c, 1);
		ck_assert_int_eq(sp_sched_pick(s, srv, 3, &req), 2);
		bind_session(srv, 2, 1);
	}
	sp_sched_free(s);

	/* A single server. */
	servers(srv, 1);
	s = new_sched(ops, key1, srv, 1);
	for (c = 0; c < 50; c++) {
		req = request(src, c, c, 1);
		ck_assert_int_eq(sp_sched_pick(s, srv, 1, &req), 0);
		bind_session(srv, 0, 1);
	}
	srv[0].eligible = false;
	ck_assert_int_eq(sp_sched_update(s, srv, 1), 0);
	ck_assert_int_eq(sp_sched_pick(s, srv, 1, &req), -1);
	sp_sched_free(s);
}
END_TEST

/*
 * Servers turn ineligible WITHOUT an update (the caller's contract is
 * broken, or the picks race a health change): still never chosen.
 */
START_TEST(test_ineligible_never)
{
	const struct sp_sched_ops *ops = all_ops[_i];
	struct sp_sched_server srv[4];
	struct sp_sched_req req;
	struct sp_sched *s;
	uint8_t src[16];
	uint32_t c;
	int i;

	servers(srv, 4);
	srv[1].rtt_us = 10;		/* rt's favourite */
	srv[1].agent_load = 10;		/* agent's favourite */
	s = new_sched(ops, key1, srv, 4);
	srv[1].eligible = false;
	srv[3].eligible = false;
	for (c = 0; c < 600; c++) {
		req = request(src, c, 0, 1);
		i = sp_sched_pick(s, srv, 4, &req);
		ck_assert_msg(i == 0 || i == 2, "%s picked %d", ops->name, i);
		bind_session(srv, i, 1);
	}
	sp_sched_free(s);
}
END_TEST

/* ----------------------------------------------------------- rr */

START_TEST(test_rr_even)
{
	struct sp_sched_server srv[3];
	struct sp_sched_req req;
	struct sp_sched *s;
	unsigned count[3] = { 0, 0, 0 };
	uint8_t src[16];
	int i, prev = -1;
	uint32_t c;

	servers(srv, 3);
	srv[2].weight = 5;		/* ignored by rr */
	s = new_sched(&sp_sched_rr_ops, key1, srv, 3);
	for (c = 0; c < 600; c++) {
		req = request(src, c, 0, 1);
		i = sp_sched_pick(s, srv, 3, &req);
		ck_assert_int_eq(i, prev < 0 ? 0 : (prev + 1) % 3);
		count[i]++;
		prev = i;
	}
	ck_assert_uint_eq(count[0], 200);
	ck_assert_uint_eq(count[1], 200);
	ck_assert_uint_eq(count[2], 200);

	/* The middle one drained: the others share evenly. */
	srv[1].eligible = false;
	ck_assert_int_eq(sp_sched_update(s, srv, 3), 0);
	memset(count, 0, sizeof(count));
	for (c = 0; c < 600; c++) {
		req = request(src, c, 0, 1);
		count[sp_sched_pick(s, srv, 3, &req)]++;
	}
	ck_assert_uint_eq(count[0], 300);
	ck_assert_uint_eq(count[1], 0);
	ck_assert_uint_eq(count[2], 300);
	sp_sched_free(s);
}
END_TEST

/* ---------------------------------------------------------- wrr */

START_TEST(test_wrr_smooth)
{
	struct sp_sched_server srv[3];
	struct sp_sched_req req;
	struct sp_sched *s;
	int seq[600];
	unsigned count[3], w, k, run, maxrun = 1;
	uint8_t src[16];
	uint32_t c;

	servers(srv, 3);
	srv[0].weight = 1;
	srv[1].weight = 2;
	srv[2].weight = 3;
	w = 6;
	s = new_sched(&sp_sched_wrr_ops, key1, srv, 3);
	for (c = 0; c < 600; c++) {
		req = request(src, c, 0, 1);
		seq[c] = sp_sched_pick(s, srv, 3, &req);
		ck_assert_int_ge(seq[c], 0);
	}
	/* Every window of 6 consecutive picks: exactly 1, 2, 3. */
	for (k = 0; k + w <= 600; k++) {
		memset(count, 0, sizeof(count));
		for (c = k; c < k + w; c++)
			count[seq[c]]++;
		ck_assert_msg(count[0] == 1 && count[1] == 2 && count[2] == 3,
		    "window at %u: %u %u %u", k, count[0], count[1],
		    count[2]);
	}
	/* Interleaved, not in bursts: never 3 of the same in a row. */
	for (c = 1, run = 1; c < 600; c++) {
		run = seq[c] == seq[c - 1] ? run + 1 : 1;
		if (run > maxrun)
			maxrun = run;
	}
	ck_assert_uint_le(maxrun, 2);

	/* New weights after an update: 3:1:0 (the last one drained). */
	srv[0].weight = 3;
	srv[1].weight = 1;
	srv[2].eligible = false;
	ck_assert_int_eq(sp_sched_update(s, srv, 3), 0);
	memset(count, 0, sizeof(count));
	for (c = 0; c < 400; c++) {
		req = request(src, c, 0, 1);
		count[sp_sched_pick(s, srv, 3, &req)]++;
	}
	ck_assert_uint_eq(count[0], 300);
	ck_assert_uint_eq(count[1], 100);
	ck_assert_uint_eq(count[2], 0);
	sp_sched_free(s);
}
END_TEST

/* ----------------------------------------------------------- lc */

START_TEST(test_lc_idle_first)
{
	struct sp_sched_server srv[3];
	struct sp_sched_req req;
	struct sp_sched *s;
	unsigned count[3] = { 0, 0, 0 };
	uint8_t src[16];
	uint32_t c;
	int i;

	servers(srv, 3);
	srv[0].sessions = 60;
	srv[2].sessions = 60;
	srv[0].weight = 9;		/* ignored by lc */
	s = new_sched(&sp_sched_lc_ops, key1, srv, 3);
	for (c = 0; c < 600; c++) {
		req = request(src, c, 0, 1);
		i = sp_sched_pick(s, srv, 3, &req);
		if (c < 60)
			ck_assert_int_eq(i, 1);	/* the idle one first */
		count[i]++;
		bind_session(srv, i, 1);
	}
	/* (60 + 0 + 60 + 600) / 3 = 240 sessions each in the end. */
	ck_assert_uint_eq(count[0], 180);
	ck_assert_uint_eq(count[1], 240);
	ck_assert_uint_eq(count[2], 180);
	sp_sched_free(s);
}
END_TEST

/* Ties round-robin: counts the caller has not updated yet (a burst of
 * new sessions in one batch) do not all land on server 0. */
START_TEST(test_lc_ties)
{
	struct sp_sched_server srv[3];
	struct sp_sched_req req;
	struct sp_sched *s;
	unsigned count[3] = { 0, 0, 0 };
	uint8_t src[16];
	uint32_t c;

	servers(srv, 3);
	s = new_sched(&sp_sched_lc_ops, key1, srv, 3);
	for (c = 0; c < 600; c++) {
		req = request(src, c, 0, 1);
		count[sp_sched_pick(s, srv, 3, &req)]++;
	}
	ck_assert_uint_eq(count[0], 200);
	ck_assert_uint_eq(count[1], 200);
	ck_assert_uint_eq(count[2], 200);
	sp_sched_free(s);
}
END_TEST

/* ----------------------------------------------------------- lt */

START_TEST(test_lt_least_traffic)
{
	struct sp_sched_server srv[3];
	struct sp_sched_req req;
	struct sp_sched *s;
	unsigned count[3] = { 0, 0, 0 };
	uint8_t src[16];
	uint32_t c;
	int i;

	servers(srv, 3);
	srv[0].traffic = 10000;
	srv[2].traffic = 5000;
	srv[0].sessions = 1000;		/* ignored by lt */
	s = new_sched(&sp_sched_lt_ops, key1, srv, 3);
	for (c = 0; c < 600; c++) {
		req = request(src, c, 0, 1);
		i = sp_sched_pick(s, srv, 3, &req);
		if (c < 50)
			ck_assert_int_eq(i, 1);	/* 0 .. 5000: only it */
		count[i]++;
		srv[i].traffic += 100;	/* each session: 100 packets */
	}
	/* (10000 + 0 + 5000 + 600 * 100) / 3 = 25000 each in the end. */
	ck_assert_uint_eq(count[0], 150);
	ck_assert_uint_eq(count[1], 250);
	ck_assert_uint_eq(count[2], 200);
	ck_assert_uint_eq(srv[0].traffic, 25000);
	sp_sched_free(s);
}
END_TEST

/* traffic / weight: weights 1:2:3 take traffic 1:2:3. */
START_TEST(test_lt_weighted)
{
	struct sp_sched_server srv[3];
	struct sp_sched_req req;
	struct sp_sched *s;
	unsigned count[3] = { 0, 0, 0 };
	uint8_t src[16];
	uint32_t c;
	int i;

	servers(srv, 3);
	srv[0].weight = 1;
	srv[1].weight = 2;
	srv[2].weight = 3;
	s = new_sched(&sp_sched_lt_ops, key1, srv, 3);
	for (c = 0; c < 600; c++) {
		req = request(src, c, 0, 1);
		i = sp_sched_pick(s, srv, 3, &req);
		count[i]++;
		srv[i].traffic += 1500;
	}
	ck_assert_uint_eq(count[0], 100);
	ck_assert_uint_eq(count[1], 200);
	ck_assert_uint_eq(count[2], 300);
	sp_sched_free(s);
}
END_TEST

/* ---------------------------------------------------------- wlc */

#define FTP	5	/* LSNAT §5.1 #4: an FTP session weighs 5x ... */
#define TELNET	1	/* ... a telnet session x */

/*
 * The draft's worked example, evaluated as the draft does (load per
 * weight without the new session), then by the scheduler's rule (with
 * it): S3 either way.
 */
START_TEST(test_wlc_seed_example)
{
	struct sp_sched_server srv[2];
	struct sp_sched_req req;
	struct sp_sched *s;
	uint8_t src[16];
	uint64_t l1, l3;

	servers(srv, 2);
	/* srv[0] = S1, weight 1: one FTP and one telnet session. */
	srv[0].weight = 1;
	srv[0].sessions = 2;
	srv[0].load = l1 = 1 * FTP + 1 * TELNET;
	/* srv[1] = S3, 3 times as resourceful: 2 FTP, 5 telnet. */
	srv[1].weight = 3;
	srv[1].sessions = 7;
	srv[1].load = l3 = 2 * FTP + 5 * TELNET;
	ck_assert_uint_eq(l1, 6);
	ck_assert_uint_eq(l3, 15);
	/* The draft: S3 (2*5x + 5*x)/3 = 5x, S1 (1*5x + 1*x) = 6x. */
	ck_assert_int_eq(sp_sched_ratio_cmp(l3, 3, 5, 1), 0);
	ck_assert_int_eq(sp_sched_ratio_cmp(l1, 1, 6, 1), 0);
	ck_assert_int_lt(sp_sched_ratio_cmp(l3, 3, l1, 1), 0);
	/* The scheduler with session weight 0 is exactly that rule. */
	s = new_sched(&sp_sched_wlc_ops, key1, srv, 2);
	req = request(src, 1, 0, 0);
	ck_assert_int_eq(sp_sched_pick(s, srv, 2, &req), 1);
	/* Its rule, with the new telnet session: 16/3 < 7/1: still S3. */
	ck_assert_int_lt(sp_sched_ratio_cmp(l3 + TELNET, 3, l1 + TELNET, 1),
	    0);
	req = request(src, 2, 0, TELNET);
	ck_assert_int_eq(sp_sched_pick(s, srv, 2, &req), 1);
	/* S1 on the right of S3 in the array: the choice is not the
	 * scan order's. */
	memcpy(&srv[1], &srv[0], sizeof(srv[0]));
	srv[0].weight = 3;
	srv[0].sessions = 7;
	srv[0].load = l3;
	req = request(src, 3, 0, TELNET);
	ck_assert_int_eq(sp_sched_pick(s, srv, 2, &req), 0);
	req = request(src, 4, 0, TELNET);
	ck_assert_int_eq(sp_sched_pick(s, srv, 2, &req), 0);
	sp_sched_free(s);
}
END_TEST

/* Where the two rules differ: idle servers of weight 1 and 3 tie on
 * load/weight; with the new FTP session 5/1 > 5/3 sends it to the big
 * one, whatever the tie-break cursor says. */
START_TEST(test_wlc_new_session_counts)
{
	struct sp_sched_server srv[2];
	struct sp_sched_req req;
	struct sp_sched *s;
	uint8_t src[16];
	uint32_t c;

	servers(srv, 2);
	srv[1].weight = 3;
	s = new_sched(&sp_sched_wlc_ops, key1, srv, 2);
	for (c = 0; c < 4; c++) {
		req = request(src, c, 0, FTP);
		ck_assert_int_eq(sp_sched_pick(s, srv, 2, &req), 1);
	}
	sp_sched_free(s);
}
END_TEST

/*
 * A mixed workload on weights 1:2:3: one FTP session in four.  Each
 * server ends with load about proportional to its weight: no server's
 * load per weight is more than one FTP session's worth above another's.
 */
START_TEST(test_wlc_simulation)
{
	struct sp_sched_server srv[3];
	struct sp_sched_req req;
	struct sp_sched *s;
	uint8_t src[16];
	uint64_t total = 0;
	uint16_t sw;
	uint32_t c;
	int i, j;

	servers(srv, 3);
	srv[0].weight = 1;
	srv[1].weight = 2;
	srv[2].weight = 3;
	s = new_sched(&sp_sched_wlc_ops, key1, srv, 3);
	for (c = 0; c < 600; c++) {
		sw = c % 4 == 0 ? FTP : TELNET;
		req = request(src, c, 0, sw);
		i = sp_sched_pick(s, srv, 3, &req);
		bind_session(srv, i, sw);
		total += sw;
	}
	ck_assert_uint_eq(total, 150 * FTP + 450 * TELNET);
	/* load_i / w_i <= load_j / w_j + FTP, i.e. exactly:
	 * load_i * w_j <= (load_j + FTP * w_j) * w_i. */
	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++)
			ck_assert_msg(srv[i].load * srv[j].weight <=
			    (srv[j].load + FTP * srv[j].weight) *
			    srv[i].weight, "loads %lu %lu %lu",
			    (unsigned long)srv[0].load,
			    (unsigned long)srv[1].load,
			    (unsigned long)srv[2].load);
	/* 1200 units over weight 6: 200, 400, 600, give or take. */
	ck_assert_uint_ge(srv[0].load, 195);
	ck_assert_uint_le(srv[0].load, 205);
	ck_assert_uint_ge(srv[2].load, 595);
	ck_assert_uint_le(srv[2].load, 605);
	sp_sched_free(s);
}
END_TEST

/* ----------------------------------------------------------- rt */

START_TEST(test_rt_fastest)
{
	struct sp_sched_server srv[3];
	struct sp_sched_req req;
	struct sp_sched *s;
	uint8_t src[16];
	uint32_t c;
	int i;

	servers(srv, 3);
	srv[0].rtt_us = 3000;
	srv[1].rtt_us = 800;
	srv[2].rtt_us = 1500;
	s = new_sched(&sp_sched_rt_ops, key1, srv, 3);
	for (c = 0; c < 600; c++) {
		req = request(src, c, 0, 1);
		i = sp_sched_pick(s, srv, 3, &req);
		ck_assert_int_eq(i, 1);
		bind_session(srv, i, 1);
	}
	/* rtt per weight: 1500 / 2 = 750 < 800. */
	srv[2].weight = 2;
	req = request(src, 1, 0, 1);
	ck_assert_int_eq(sp_sched_pick(s, srv, 3, &req), 2);
	/* The fastest drained: the next one. */
	srv[2].weight = 1;
	srv[1].eligible = false;
	ck_assert_int_eq(sp_sched_update(s, srv, 3), 0);
	ck_assert_int_eq(sp_sched_pick(s, srv, 3, &req), 2);
	sp_sched_free(s);
}
END_TEST

/* Unknown rtt: left out while any is known; none known: lc. */
START_TEST(test_rt_unknown)
{
	struct sp_sched_server srv[3];
	struct sp_sched_req req;
	struct sp_sched *s;
	unsigned count[3] = { 0, 0, 0 };
	uint8_t src[16];
	uint32_t c;
	int i;

	servers(srv, 3);
	srv[1].rtt_us = 2000000;	/* slow, but the only known */
	s = new_sched(&sp_sched_rt_ops, key1, srv, 3);
	for (c = 0; c < 30; c++) {
		req = request(src, c, 0, 1);
		i = sp_sched_pick(s, srv, 3, &req);
		ck_assert_int_eq(i, 1);
		bind_session(srv, i, 1);
	}
	/* None known: least sessions, here toward the two idle ones. */
	srv[1].rtt_us = SP_SCHED_UNKNOWN;
	for (c = 0; c < 60; c++) {
		req = request(src, c, 0, 1);
		i = sp_sched_pick(s, srv, 3, &req);
		count[i]++;
		bind_session(srv, i, 1);
	}
	ck_assert_uint_eq(count[0], 30);
	ck_assert_uint_eq(count[1], 0);
	ck_assert_uint_eq(count[2], 30);
	sp_sched_free(s);
}
END_TEST

/* -------------------------------------------------------- agent */

START_TEST(test_agent_least_loaded)
{
	struct sp_sched_server srv[3];
	struct sp_sched_req req;
	struct sp_sched *s;
	unsigned count[3] = { 0, 0, 0 };
	uint8_t src[16];
	uint32_t c;
	int i;

	servers(srv, 3);
	srv[0].agent_load = 750;
	srv[1].agent_load = 900;
	srv[2].agent_load = 200;
	srv[2].sessions = 5000;		/* ignored while reports exist */
	s = new_sched(&sp_sched_agent_ops, key1, srv, 3);
	for (c = 0; c < 600; c++) {
		req = request(src, c, 0, 1);
		i = sp_sched_pick(s, srv, 3, &req);
		ck_assert_int_eq(i, 2);
		bind_session(srv, i, 1);
		/* The agent reports more load every 100 sessions. */
		if (c % 100 == 99)
			srv[i].agent_load += 100;
	}
	/* Now 750 vs 900 vs 800: server 0; per weight 900/2 < 750. */
	req = request(src, 1, 0, 1);
	ck_assert_int_eq(sp_sched_pick(s, srv, 3, &req), 0);
	srv[1].weight = 2;
	ck_assert_int_eq(sp_sched_pick(s, srv, 3, &req), 1);
	/* Agents silent: least sessions. */
	srv[0].agent_load = srv[1].agent_load = srv[2].agent_load =
	    SP_SCHED_UNKNOWN;
	srv[0].sessions = 10;
	srv[1].sessions = 0;
	for (c = 0; c < 30; c++) {
		req = request(src, c, 0, 1);
		i = sp_sched_pick(s, srv, 3, &req);
		count[i]++;
		bind_session(srv, i, 1);
	}
	ck_assert_uint_eq(count[0], 10);
	ck_assert_uint_eq(count[1], 20);
	ck_assert_uint_eq(count[2], 0);
	sp_sched_free(s);
}
END_TEST

/* --------------------------------------------------------- cost */

/*
 * LSNAT §5.2 #1, product rule: S1 twice as costly as S2 gets HALF the
 * sessions of S2 (the draft's prose says twice as many; see
 * sched_cost.c).  An unreachable server (infinite cost) gets none.
 */
START_TEST(test_cost_split)
{
	struct sp_sched_server srv[3];
	struct sp_sched_req req;
	struct sp_sched *s;
	unsigned count[3] = { 0, 0, 0 };
	uint8_t src[16];
	uint32_t c;
	int i;

	servers(srv, 3);
	srv[0].cost = 2;		/* S1 */
	srv[1].cost = 1;		/* S2 */
	srv[2].cost = 1;
	srv[2].reachable = false;
	s = new_sched(&sp_sched_cost_ops, key1, srv, 3);
	for (c = 0; c < 600; c++) {
		req = request(src, c, 0, 1);
		i = sp_sched_pick(s, srv, 3, &req);
		count[i]++;
		bind_session(srv, i, 1);
	}
	ck_assert_uint_eq(count[0], 200);
	ck_assert_uint_eq(count[1], 400);
	ck_assert_uint_eq(count[2], 0);
	sp_sched_free(s);
}
END_TEST

/* Cost 0 counts as 1; equal products go to fewer sessions. */
START_TEST(test_cost_rules)
{
	struct sp_sched_server srv[2];
	struct sp_sched_req req;
	struct sp_sched *s;
	unsigned count[2] = { 0, 0 };
	uint8_t src[16];
	uint32_t c;
	int i;

	servers(srv, 2);
	srv[0].cost = 0;
	srv[1].cost = 1;
	s = new_sched(&sp_sched_cost_ops, key1, srv, 2);
	for (c = 0; c < 600; c++) {
		req = request(src, c, 0, 1);
		i = sp_sched_pick(s, srv, 2, &req);
		count[i]++;
		bind_session(srv, i, 1);
	}
	ck_assert_uint_eq(count[0], 300);
	ck_assert_uint_eq(count[1], 300);
	/* 1 x 4 = 4 x 1: the one with 1 session, though the cursor
	 * points at the other. */
	srv[0].cost = 1;
	srv[0].sessions = 4;
	srv[1].cost = 4;
	srv[1].sessions = 1;
	for (c = 0; c < 2; c++) {
		req = request(src, c, 0, 1);
		ck_assert_int_eq(sp_sched_pick(s, srv, 2, &req), 1);
	}
	sp_sched_free(s);
}
END_TEST

/* LSNAT §5.2 #2: cost x traffic, the same 1:2 split by traffic. */
START_TEST(test_cost_traffic_split)
{
	struct sp_sched_server srv[3];
	struct sp_sched_req req;
	struct sp_sched *s;
	unsigned count[3] = { 0, 0, 0 };
	uint8_t src[16];
	uint32_t c;
	int i;

	servers(srv, 3);
	srv[0].cost = 2;
	srv[1].cost = 1;
	srv[2].reachable = false;
	srv[1].sessions = 100000;	/* ranks by traffic, not sessions */
	s = new_sched(&sp_sched_cost_traffic_ops, key1, srv, 3);
	for (c = 0; c < 600; c++) {
		req = request(src, c, 0, 1);
		i = sp_sched_pick(s, srv, 3, &req);
		count[i]++;
		srv[i].traffic += 1000;
	}
	ck_assert_uint_eq(count[0], 200);
	ck_assert_uint_eq(count[1], 400);
	ck_assert_uint_eq(count[2], 0);
	sp_sched_free(s);
}
END_TEST

/* --------------------------------------------------------- hash */

/* The choice for each of nc clients (client c: request(c, label c)). */
static void
map_clients(struct sp_sched *s, const struct sp_sched_server *srv,
    size_t n, int *out, uint32_t nc)
{
	struct sp_sched_req req;
	uint8_t src[16];
	uint32_t c;

	for (c = 0; c < nc; c++) {
		req = request(src, c, c & 0xfffff, 1);
		out[c] = sp_sched_pick(s, srv, n, &req);
		ck_assert_int_ge(out[c], 0);
	}
}

static int hmap_a[NMAGLEV], hmap_b[NMAGLEV];

/* Same key, new instances ("restarts"), even another server order:
 * the same server for every client.  Another key: another mapping. */
START_TEST(test_hash_stable)
{
	struct sp_sched_server srv[3], rev[3];
	struct sp_sched *s;
	unsigned count[3] = { 0, 0, 0 }, differ = 0;
	uint32_t c;
	int k;

	servers(srv, 3);
	s = new_sched(&sp_sched_hash_ops, key1, srv, 3);
	map_clients(s, srv, 3, hmap_a, NCLIENTS);
	sp_sched_free(s);
	s = new_sched(&sp_sched_hash_ops, key1, srv, 3);
	map_clients(s, srv, 3, hmap_b, NCLIENTS);
	sp_sched_free(s);
	for (c = 0; c < NCLIENTS; c++) {
		ck_assert_int_eq(hmap_a[c], hmap_b[c]);
		count[hmap_a[c]]++;
	}
	/* Even: 1000 each within 10%. */
	for (k = 0; k < 3; k++) {
		ck_assert_uint_ge(count[k], 900);
		ck_assert_uint_le(count[k], 1100);
	}
	/* The servers listed backwards: same addresses chosen. */
	for (k = 0; k < 3; k++)
		rev[k] = srv[2 - k];
	s = new_sched(&sp_sched_hash_ops, key1, rev, 3);
	map_clients(s, rev, 3, hmap_b, NCLIENTS);
	sp_sched_free(s);
	for (c = 0; c < NCLIENTS; c++)
		ck_assert_int_eq(hmap_b[c], 2 - hmap_a[c]);
	/* Another key: about 2 clients in 3 elsewhere. */
	s = new_sched(&sp_sched_hash_ops, key2, srv, 3);
	map_clients(s, srv, 3, hmap_b, NCLIENTS);
	sp_sched_free(s);
	for (c = 0; c < NCLIENTS; c++)
		differ += hmap_a[c] != hmap_b[c];
	ck_assert_uint_ge(differ, NCLIENTS / 2);
}
END_TEST

/* One of 3 servers leaves: its clients move, nobody else's. */
START_TEST(test_hash_removal)
{
	struct sp_sched_server srv[3];
	struct sp_sched *s;
	unsigned moved_in[3] = { 0, 0, 0 };
	uint32_t c;

	servers(srv, 3);
	s = new_sched(&sp_sched_hash_ops, key1, srv, 3);
	map_clients(s, srv, 3, hmap_a, NCLIENTS);
	srv[1].eligible = false;
	ck_assert_int_eq(sp_sched_update(s, srv, 3), 0);
	map_clients(s, srv, 3, hmap_b, NCLIENTS);
	for (c = 0; c < NCLIENTS; c++) {
		if (hmap_a[c] != 1)
			ck_assert_int_eq(hmap_b[c], hmap_a[c]);
		else
			moved_in[hmap_b[c]]++;
	}
	/* Server 1's clients spread over both others. */
	ck_assert_uint_eq(moved_in[1], 0);
	ck_assert_uint_gt(moved_in[0], 300);
	ck_assert_uint_gt(moved_in[2], 300);
	/* Back again: everyone back where they were. */
	srv[1].eligible = true;
	ck_assert_int_eq(sp_sched_update(s, srv, 3), 0);
	map_clients(s, srv, 3, hmap_b, NCLIENTS);
	for (c = 0; c < NCLIENTS; c++)
		ck_assert_int_eq(hmap_b[c], hmap_a[c]);
	sp_sched_free(s);
}
END_TEST

/* Weights 1:2:3 over 6000 clients: 1000, 2000, 3000 within 10%. */
START_TEST(test_hash_weighted)
{
	struct sp_sched_server srv[3];
	struct sp_sched *s;
	unsigned count[3] = { 0, 0, 0 };
	uint32_t c;
	int k;

	servers(srv, 3);
	for (k = 0; k < 3; k++)
		srv[k].weight = (uint16_t)(k + 1);
	s = new_sched(&sp_sched_hash_ops, key1, srv, 3);
	map_clients(s, srv, 3, hmap_a, 6000);
	sp_sched_free(s);
	for (c = 0; c < 6000; c++)
		count[hmap_a[c]]++;
	for (k = 0; k < 3; k++) {
		ck_assert_uint_ge(count[k], 900 * (unsigned)(k + 1));
		ck_assert_uint_le(count[k], 1100 * (unsigned)(k + 1));
	}
}
END_TEST

/* The key is {src, label}: one source with many labels spreads. */
START_TEST(test_hash_label)
{
	const struct sp_sched_ops *ops = all_ops[_i];
	struct sp_sched_server srv[3];
	struct sp_sched_req req;
	struct sp_sched *s;
	unsigned count[3] = { 0, 0, 0 };
	uint8_t src[16];
	uint32_t label;
	int first;

	servers(srv, 3);
	s = new_sched(ops, key1, srv, 3);
	for (label = 1; label <= 300; label++) {
		req = request(src, 7, label, 1);
		count[sp_sched_pick(s, srv, 3, &req)]++;
	}
	ck_assert_uint_gt(count[0], 50);
	ck_assert_uint_gt(count[1], 50);
	ck_assert_uint_gt(count[2], 50);
	/* The same {src, label}: always the same server. */
	req = request(src, 7, 42, 1);
	first = sp_sched_pick(s, srv, 3, &req);
	for (label = 0; label < 50; label++)
		ck_assert_int_eq(sp_sched_pick(s, srv, 3, &req), first);
	sp_sched_free(s);
}
END_TEST

/*
 * An LBSP session is keyed by its identity (seg1) alone: whatever its
 * source address and flow label, two schedulers with one key (two
 * balancers) give every session of one identity the same server; and
 * the identities still spread.
 */
START_TEST(test_hash_identity)
{
	const struct sp_sched_ops *ops = all_ops[_i];
	struct sp_sched_server srv[3];
	struct sp_sched_req req;
	struct sp_sched *a, *b;
	unsigned count[3] = { 0, 0, 0 };
	uint8_t src[16], id[16];
	uint32_t n, label;
	int first;

	servers(srv, 3);
	a = new_sched(ops, key1, srv, 3);
	b = new_sched(ops, key1, srv, 3);
	for (n = 0; n < 300; n++) {
		tp_addr(id, 0xd, n * 40503u + 7);
		req = request(src, n, 1, 1);
		req.identity = id;
		first = sp_sched_pick(a, srv, 3, &req);
		ck_assert_int_ge(first, 0);
		count[first]++;
		for (label = 0; label < 8; label++) {
			req = request(src, n * 8 + label + 1000, label * 977, 1);
			req.identity = id;
			ck_assert_int_eq(sp_sched_pick(a, srv, 3, &req), first);
			ck_assert_int_eq(sp_sched_pick(b, srv, 3, &req), first);
		}
	}
	ck_assert_uint_gt(count[0], 50);
	ck_assert_uint_gt(count[1], 50);
	ck_assert_uint_gt(count[2], 50);
	sp_sched_free(a);
	sp_sched_free(b);
}
END_TEST

/* ------------------------------------------------------- maglev */

/* Two balancers with one key agree; 5 equal servers share evenly. */
START_TEST(test_maglev_agree_even)
{
	struct sp_sched_server srv[5];
	struct sp_sched *a, *b;
	unsigned count[5] = { 0, 0, 0, 0, 0 }, differ = 0;
	uint32_t c;
	int k;

	servers(srv, 5);
	a = new_sched(&sp_sched_maglev_ops, key1, srv, 5);
	b = new_sched(&sp_sched_maglev_ops, key1, srv, 5);
	map_clients(a, srv, 5, hmap_a, NMAGLEV);
	map_clients(b, srv, 5, hmap_b, NMAGLEV);
	for (c = 0; c < NMAGLEV; c++) {
		ck_assert_int_eq(hmap_a[c], hmap_b[c]);
		count[hmap_a[c]]++;
	}
	for (k = 0; k < 5; k++) {
		ck_assert_uint_ge(count[k], 1800);
		ck_assert_uint_le(count[k], 2200);
	}
	/* Rebuilding with nothing changed changes nothing. */
	ck_assert_int_eq(sp_sched_update(b, srv, 5), 0);
	map_clients(b, srv, 5, hmap_b, NMAGLEV);
	for (c = 0; c < NMAGLEV; c++)
		ck_assert_int_eq(hmap_a[c], hmap_b[c]);
	sp_sched_free(b);
	/* Another key: another table. */
	b = new_sched(&sp_sched_maglev_ops, key2, srv, 5);
	map_clients(b, srv, 5, hmap_b, NMAGLEV);
	for (c = 0; c < NMAGLEV; c++)
		differ += hmap_a[c] != hmap_b[c];
	ck_assert_uint_ge(differ, NMAGLEV / 2);
	sp_sched_free(a);
	sp_sched_free(b);
}
END_TEST

/* One of 5 leaves: its clients move; of the others' at least 95% stay
 * (Maglev's near-minimal disruption). */
START_TEST(test_maglev_removal)
{
	struct sp_sched_server srv[5];
	struct sp_sched *s;
	unsigned others = 0, kept = 0;
	uint32_t c;

	servers(srv, 5);
	s = new_sched(&sp_sched_maglev_ops, key1, srv, 5);
	map_clients(s, srv, 5, hmap_a, NMAGLEV);
	srv[2].eligible = false;
	ck_assert_int_eq(sp_sched_update(s, srv, 5), 0);
	map_clients(s, srv, 5, hmap_b, NMAGLEV);
	for (c = 0; c < NMAGLEV; c++) {
		ck_assert_int_ne(hmap_b[c], 2);
		if (hmap_a[c] == 2)
			continue;
		others++;
		kept += hmap_a[c] == hmap_b[c];
	}
	ck_assert_uint_ge(kept * 100, others * 95);
	sp_sched_free(s);
}
END_TEST

/*
 * One vip of 4,000 servers under maglev, from a generated configuration:
 * every server holds slots (an index past 255 is kept whole), and when
 * one leaves only its clients move -- of the others' at least 95% stay,
 * as with 5 servers.
 */
#define NBIG		4000	/* servers of the large vip */
#define NBIGCLIENTS	200000	/* its clients: some 50 a server */

START_TEST(test_maglev_4000_servers)
{
	struct sp_sched_server *srv;
	const struct sp_conf_vip *v;
	struct sp_conf *conf;
	struct sp_sched *s;
	unsigned others = 0, kept = 0, moved = 0, *hits;
	int *before, *after;
	size_t len = 0, cap = 64 + NBIG * 48;
	char *text;
	uint32_t c;
	unsigned i;

	text = malloc(cap);
	ck_assert_ptr_nonnull(text);
	len += (size_t)snprintf(text + len, cap - len, "role balancer\n"
	    "vip 2001:db8:f::1 {\nscheduler maglev\n");
	for (i = 0; i < NBIG; i++)
		len += (size_t)snprintf(text + len, cap - len,
		    "server 2001:db8:5::%x:%x\n", i / 256 + 1, i % 256 + 1);
	len += (size_t)snprintf(text + len, cap - len, "}\n");
	ck_assert_uint_lt(len, cap);
	conf = sp_conf_new();
	ck_assert_ptr_nonnull(conf);
	ck_assert_int_eq(sp_conf_parse(text, len, "big", conf, NULL, NULL),
	    0);
	v = sp_conf_vip_at(conf, 0);
	ck_assert_int_eq(sp_conf_vip_scheduler(v), SP_CONF_SCHED_MAGLEV);
	ck_assert_uint_eq(sp_conf_vip_server_count(v), NBIG);

	srv = calloc(NBIG, sizeof(*srv));
	hits = calloc(NBIG, sizeof(*hits));
	before = malloc(NBIGCLIENTS * sizeof(*before));
	after = malloc(NBIGCLIENTS * sizeof(*after));
	ck_assert(srv != NULL && hits != NULL && before != NULL &&
	    after != NULL);
	servers(srv, NBIG);
	for (i = 0; i < NBIG; i++)
		memcpy(srv[i].addr, sp_conf_server_addr(
		    sp_conf_vip_server_at(v, i)), 16);
	s = new_sched(sp_sched_ops_get(sp_conf_vip_scheduler(v)), key1,
	    srv, NBIG);
	map_clients(s, srv, NBIG, before, NBIGCLIENTS);
	for (c = 0; c < NBIGCLIENTS; c++)
		hits[before[c]]++;
	for (i = 0; i < NBIG; i++)
		ck_assert_uint_gt(hits[i], 0);

	srv[3000].eligible = false;
	ck_assert_int_eq(sp_sched_update(s, srv, NBIG), 0);
	map_clients(s, srv, NBIG, after, NBIGCLIENTS);
	for (c = 0; c < NBIGCLIENTS; c++) {
		ck_assert_int_ne(after[c], 3000);
		if (before[c] == 3000) {
			moved++;
			continue;
		}
		others++;
		kept += before[c] == after[c];
	}
	ck_assert_uint_eq(moved, hits[3000]);
	ck_assert_uint_ge(kept * 100, others * 95);
	sp_sched_free(s);
	free(after);
	free(before);
	free(hits);
	free(srv);
	sp_conf_free(conf);
	free(text);
}
END_TEST

/* A drained server is left out of the table: a balancer that sees it
 * drained agrees with one that never had it. */
START_TEST(test_maglev_drained_is_absent)
{
	struct sp_sched_server srv[5], four[4];
	struct sp_sched *a, *b;
	uint32_t c;
	int k;

	servers(srv, 5);
	srv[2].eligible = false;
	for (k = 0; k < 4; k++)
		four[k] = srv[k < 2 ? k : k + 1];
	a = new_sched(&sp_sched_maglev_ops, key1, srv, 5);
	b = new_sched(&sp_sched_maglev_ops, key1, four, 4);
	map_clients(a, srv, 5, hmap_a, NMAGLEV);
	map_clients(b, four, 4, hmap_b, NMAGLEV);
	for (c = 0; c < NMAGLEV; c++)
		ck_assert_mem_eq(srv[hmap_a[c]].addr, four[hmap_b[c]].addr,
		    16);
	sp_sched_free(a);
	sp_sched_free(b);
}
END_TEST

/* Weights 1:1:2: slots and clients 1:1:2, within 10%. */
START_TEST(test_maglev_weighted)
{
	struct sp_sched_server srv[3];
	struct sp_sched *s;
	unsigned count[3] = { 0, 0, 0 };
	uint32_t c;

	servers(srv, 3);
	srv[2].weight = 2;
	s = new_sched(&sp_sched_maglev_ops, key1, srv, 3);
	map_clients(s, srv, 3, hmap_a, NMAGLEV);
	sp_sched_free(s);
	for (c = 0; c < NMAGLEV; c++)
		count[hmap_a[c]]++;
	ck_assert_uint_ge(count[0], 2250);
	ck_assert_uint_le(count[0], 2750);
	ck_assert_uint_ge(count[1], 2250);
	ck_assert_uint_le(count[1], 2750);
	ck_assert_uint_ge(count[2], 4500);
	ck_assert_uint_le(count[2], 5500);
}
END_TEST

/* Picks before any update (no table yet) still land on eligible
 * servers, by the rendezvous fallback. */
START_TEST(test_maglev_no_table)
{
	struct sp_sched_server srv[3];
	struct sp_sched *s;
	uint32_t c;

	servers(srv, 3);
	srv[0].eligible = false;
	s = sp_sched_new_ops(&sp_sched_maglev_ops, key1);
	ck_assert_ptr_nonnull(s);
	map_clients(s, srv, 3, hmap_a, 300);
	for (c = 0; c < 300; c++)
		ck_assert_int_ne(hmap_a[c], 0);
	sp_sched_free(s);
}
END_TEST

Suite *
sched_suite(void)
{
	Suite *s = suite_create("sched");
	TCase *tc;

	tc = tcase_create("dispatch");
	tcase_add_test(tc, test_ops_table);
	tcase_add_test(tc, test_bad_args);
	tcase_add_test(tc, test_ratio_cmp_small);
	tcase_add_test(tc, test_ratio_cmp_large);
	tcase_add_loop_test(tc, test_edges, 0, NALL);
	tcase_add_loop_test(tc, test_ineligible_never, 0, NALL);
	suite_add_tcase(s, tc);

	tc = tcase_create("counting");
	tcase_add_test(tc, test_rr_even);
	tcase_add_test(tc, test_wrr_smooth);
	tcase_add_test(tc, test_lc_idle_first);
	tcase_add_test(tc, test_lc_ties);
	tcase_add_test(tc, test_lt_least_traffic);
	tcase_add_test(tc, test_lt_weighted);
	tcase_add_test(tc, test_wlc_seed_example);
	tcase_add_test(tc, test_wlc_new_session_counts);
	tcase_add_test(tc, test_wlc_simulation);
	tcase_add_test(tc, test_rt_fastest);
	tcase_add_test(tc, test_rt_unknown);
	tcase_add_test(tc, test_agent_least_loaded);
	tcase_add_test(tc, test_cost_split);
	tcase_add_test(tc, test_cost_rules);
	tcase_add_test(tc, test_cost_traffic_split);
	suite_add_tcase(s, tc);

	tc = tcase_create("hashing");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_hash_stable);
	tcase_add_test(tc, test_hash_removal);
	tcase_add_test(tc, test_hash_weighted);
	/* hash and maglev: all_ops[8] and [9]. */
	tcase_add_loop_test(tc, test_hash_label, 8, 10);
	tcase_add_loop_test(tc, test_hash_identity, 8, 10);
	tcase_add_test(tc, test_maglev_agree_even);
	tcase_add_test(tc, test_maglev_removal);
	tcase_add_test(tc, test_maglev_drained_is_absent);
	tcase_add_test(tc, test_maglev_weighted);
	tcase_add_test(tc, test_maglev_no_table);
	tcase_add_test(tc, test_maglev_4000_servers);
	suite_add_tcase(s, tc);
	return s;
}
