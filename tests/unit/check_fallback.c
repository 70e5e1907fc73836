/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_fallback.c -- the client role's decisions (lbspd/path/fallback.c),
 * without a daemon: learning seg2, the cache's suspects and their
 * revival, every reason to fall back (SYN sent again, timer, ICMPv6
 * unreachable, an answer without the option), the ring of timed SYNs
 * (and its overflow, counted), option-blackhole marks, probes, their
 * doubling and clearing.  Time is passed in; counters are read back.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <sp/cache.h>
#include <sp/conf.h>
#include <sp/flow.h>

#include "control/names.h"
#include "path/fallback.h"
#include "testpkt.h"

static const uint8_t secret[16] = {
	0xfb, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
};

#define T0		100000ULL	/* ms: the tests' start */
#define TIMEOUT_MS	3000		/* fallback-timeout */
#define BH_MIN_MS	60000		/* blackhole-timeout minimum */
#define BH_MAX_MS	300000		/* ... maximum */

static const struct fb_conf conf = {
	.redirect = true,
	.fallback_timeout_ms = TIMEOUT_MS,
	.blackhole_min_ms = BH_MIN_MS,
	.blackhole_max_ms = BH_MAX_MS,
};

static struct lbspd_stats st;
static uint8_t vip[16], vip2[16], srv[16], srv2[16], id[16], client[16];

static uint64_t
ctr(enum lbspd_counter c)
{
	return atomic_load(&st.ctr[c]);
}

static void
setup(void)
{
	memset(&st, 0, sizeof(st));
	tp_addr(vip, 0xf, 0x10);
	tp_addr(vip2, 0xf, 0x20);
	tp_addr(srv, 5, 1);
	tp_addr(srv2, 5, 2);
	tp_addr(id, 1, 1);
	tp_addr(client, 1, 1);
}

/* A flow of the client to vip, created at created_ms, sport given. */
static void
flow_make(struct sp_flow *f, uint16_t sport, uint64_t created_ms)
{
	memset(f, 0, sizeof(*f));
	f->key = sp_flow_key_5tuple(client, vip, 6, sport, 80);
	f->created_ms = created_ms;
	f->last_ms = created_ms;
	f->packets[SP_FLOW_ORIG] = 1;
	memcpy(f->identity, id, 16);
}

static struct sp_cache_table *
cache_new(void)
{
	struct sp_cache_table *c = sp_cache_table_new(64, 600, secret);

	ck_assert_ptr_nonnull(c);
	return c;
}

/* ------------------------------------------------------------ seg2 */

START_TEST(learn_seg2)
{
	struct sp_flow f;

	flow_make(&f, 1000, T0);
	fb_learn(&f, srv, &st);
	ck_assert_mem_eq(f.server, srv, 16);
	ck_assert_uint_eq(ctr(LBSPD_C_LEARNED), 1);
	fb_learn(&f, srv, &st);		/* the same: not learned again */
	ck_assert_uint_eq(ctr(LBSPD_C_LEARNED), 1);
	fb_learn(&f, srv2, &st);	/* moved */
	ck_assert_mem_eq(f.server, srv2, 16);
	ck_assert_uint_eq(ctr(LBSPD_C_LEARNED), 2);
	fb_learn(NULL, srv, &st);	/* no flow: nothing */
	ck_assert_uint_eq(ctr(LBSPD_C_LEARNED), 2);
}
END_TEST

START_TEST(server_from_flow_and_cache)
{
	struct sp_cache_table *c = cache_new();
	struct sp_cache_entry ce;
	struct sp_flow f;
	uint8_t seg2[16];
	bool hit;

	flow_make(&f, 1000, T0);
	ck_assert(!fb_server_of_flow(&f, seg2));
	ck_assert(!fb_server_of_flow(NULL, seg2));
	ck_assert(fb_cache_wanted(&f));
	ck_assert(fb_cache_wanted(NULL));

	/* Nothing cached: no server. */
	hit = sp_cache_get(c, vip, id, T0, &ce);
	fb_server_from_cache(&f, hit, &ce, seg2, &st);
	ck_assert(!hit);
	ck_assert(!fb_server_of_flow(&f, seg2));

	/* Cached OK: followed, and the flow remembers it. */
	(void)sp_cache_set(c, vip, id, srv, T0);
	hit = sp_cache_get(c, vip, id, T0, &ce);
	fb_server_from_cache(&f, hit, &ce, seg2, &st);
	ck_assert_mem_eq(seg2, srv, 16);
	ck_assert(fb_server_of_flow(&f, seg2));
	ck_assert_mem_eq(seg2, srv, 16);

	/* Suspect: not followed; avoided counted on a first packet only. */
	ck_assert_uint_eq(sp_cache_suspect_server(c, srv,
	    LBSPD_SUSPECT_TIMER, T0), 1);
	flow_make(&f, 1001, T0);
	hit = sp_cache_get(c, vip, id, T0, &ce);
	fb_server_from_cache(&f, hit, &ce, seg2, &st);
	ck_assert(hit);
	ck_assert(!fb_server_of_flow(&f, seg2));
	ck_assert_uint_eq(ctr(LBSPD_C_SUSPECT_AVOIDED), 1);
	f.packets[SP_FLOW_ORIG] = 2;
	fb_server_from_cache(&f, hit, &ce, seg2, &st);
	ck_assert_uint_eq(ctr(LBSPD_C_SUSPECT_AVOIDED), 1);

	/* A flow that fell back never asks the cache again. */
	f.flags |= CF_FELL_BACK;
	ck_assert(!fb_cache_wanted(&f));
	sp_cache_table_free(c);
}
END_TEST

/* ------------------------------------------------------------ route */

START_TEST(route_decisions)
{
	struct fb_conf off = conf;
	struct sp_flow f;
	static const uint8_t zero[16];

	flow_make(&f, 1000, T0);
	off.redirect = false;
	ck_assert_int_eq(fb_route(&off, &f, srv, vip, false, false, T0),
	    FB_ROUTE_VIP);
	ck_assert_int_eq(fb_route(&conf, NULL, srv, vip, false, false, T0),
	    FB_ROUTE_VIP);
	ck_assert_int_eq(fb_route(&conf, &f, zero, vip, false, false, T0),
	    FB_ROUTE_VIP);
	ck_assert_int_eq(fb_route(&conf, &f, vip, vip, false, false, T0),
	    FB_ROUTE_VIP);
	ck_assert_int_eq(fb_route(&conf, &f, srv, vip, false, false, T0),
	    FB_ROUTE_SERVER);
	/* A SYN sent again unanswered. */
	ck_assert_int_eq(fb_route(&conf, &f, srv, vip, true, true, T0 + 1),
	    FB_ROUTE_FALLBACK_SYN);
	/* Unanswered: up to fallback-timeout, then not. */
	ck_assert_int_eq(fb_route(&conf, &f, srv, vip, false, true,
	    T0 + TIMEOUT_MS - 1), FB_ROUTE_SERVER);
	ck_assert_int_eq(fb_route(&conf, &f, srv, vip, false, true,
	    T0 + TIMEOUT_MS), FB_ROUTE_FALLBACK_TIMER);
	/* Answered: no timer. */
	ck_assert_int_eq(fb_route(&conf, &f, srv, vip, false, false,
	    T0 + 10 * TIMEOUT_MS), FB_ROUTE_SERVER);
}
END_TEST

/* ------------------------------------------------------------ fallback */

/* Each reason: the server becomes suspect with it, the flow goes back
 * to the vip for good, and the reason's counter moves. */
START_TEST(fallback_reasons)
{
	static const struct {
		enum lbspd_suspect reason;
		enum lbspd_counter counter;
		const char *name;
	} r[] = {
		{ LBSPD_SUSPECT_SYN_RETRANSMIT, LBSPD_C_FALLBACK_SYN_RETRANSMIT,
		  "syn-retransmit" },
		{ LBSPD_SUSPECT_TIMER, LBSPD_C_FALLBACK_TIMER, "timer" },
		{ LBSPD_SUSPECT_ICMP, LBSPD_C_FALLBACK_ICMP,
		  "icmp-unreachable" },
		{ LBSPD_SUSPECT_NO_OPTION, LBSPD_C_FALLBACK_NO_OPTION,
		  "no-option" },
	};
	struct sp_cache_entry ce;
	struct sp_flow f;
	unsigned i;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		struct sp_cache_table *c = cache_new();

		(void)sp_cache_set(c, vip, id, srv, T0);
		flow_make(&f, 1000, T0);
		memcpy(f.server, srv, 16);
		f.flags = CF_REDIRECTED;
		fb_fallback(c, &f, f.server, r[i].reason, T0 + 5, &st);
		ck_assert(sp_cache_get(c, vip, id, T0 + 5, &ce));
		ck_assert_int_eq(ce.state, SP_CACHE_SUSPECT);
		ck_assert_int_eq(ce.reason, r[i].reason);
		ck_assert_mem_eq(ce.server, srv, 16);
		ck_assert_str_eq(names_suspect(ce.reason), r[i].name);
		ck_assert(!(f.flags & CF_REDIRECTED));
		ck_assert(f.flags & CF_FELL_BACK);
		ck_assert(!fb_server_of_flow(&f, ce.server));
		ck_assert_uint_eq(ctr(r[i].counter), 1);
		ck_assert_uint_eq(ctr(LBSPD_C_FALLBACKS), i + 1);
		sp_cache_table_free(c);
	}
	ck_assert_str_eq(names_suspect(99), "unknown");
	/* Without a flow (the no-option rule) or a cache. */
	fb_fallback(NULL, NULL, srv, LBSPD_SUSPECT_TIMER, T0, &st);
	ck_assert_uint_eq(ctr(LBSPD_C_FALLBACK_TIMER), 2);
}
END_TEST

START_TEST(revive)
{
	struct sp_cache_table *c = cache_new();
	struct sp_cache_entry ce;
	bool hit;

	(void)sp_cache_set(c, vip, id, srv, T0);
	hit = sp_cache_get(c, vip, id, T0, &ce);
	ck_assert(!fb_revived(hit, &ce, srv, &st));	/* OK: nothing */
	(void)sp_cache_suspect_server(c, srv, LBSPD_SUSPECT_TIMER, T0);
	hit = sp_cache_get(c, vip, id, T0, &ce);
	ck_assert(!fb_revived(hit, &ce, srv2, &st));	/* another server */
	ck_assert_uint_eq(ctr(LBSPD_C_SUSPECT_REVIVED), 0);
	ck_assert(fb_revived(hit, &ce, srv, &st));	/* named again */
	ck_assert_uint_eq(ctr(LBSPD_C_SUSPECT_REVIVED), 1);
	(void)sp_cache_set(c, vip, id, srv, T0 + 1);
	ck_assert(sp_cache_get(c, vip, id, T0 + 1, &ce));
	ck_assert_int_eq(ce.state, SP_CACHE_OK);
	ck_assert(!fb_revived(false, &ce, srv, &st));	/* a miss */
	sp_cache_table_free(c);
}
END_TEST

START_TEST(no_option_answer)
{
	struct sp_cache_table *c = cache_new();
	struct sp_cache_entry ce;
	uint8_t other[16];

	/* Our entry follows srv2 (another identity's follows srv): srv
	 * answering without is counted only. */
	tp_addr(other, 1, 2);
	(void)sp_cache_set(c, vip, other, srv, T0);
	(void)sp_cache_set(c, vip, id, srv2, T0);
	fb_no_option_answer(c, vip, id, srv, T0, &st);
	ck_assert_uint_eq(ctr(LBSPD_C_NO_OPTION_ANSWERS), 1);
	ck_assert_uint_eq(ctr(LBSPD_C_FALLBACKS), 0);
	ck_assert(sp_cache_get(c, vip, other, T0, &ce));
	ck_assert_int_eq(ce.state, SP_CACHE_OK);
	/* It follows srv: srv becomes suspect. */
	(void)sp_cache_set(c, vip, id, srv, T0);
	fb_no_option_answer(c, vip, id, srv, T0 + 1, &st);
	ck_assert(sp_cache_get(c, vip, id, T0 + 1, &ce));
	ck_assert_int_eq(ce.state, SP_CACHE_SUSPECT);
	ck_assert_int_eq(ce.reason, LBSPD_SUSPECT_NO_OPTION);
	ck_assert_uint_eq(ctr(LBSPD_C_FALLBACKS), 1);
	ck_assert_uint_eq(ctr(LBSPD_C_FALLBACK_NO_OPTION), 1);
	/* Once: already suspect, the next answer only counts. */
	fb_no_option_answer(c, vip, id, srv, T0 + 2, &st);
	ck_assert_uint_eq(ctr(LBSPD_C_NO_OPTION_ANSWERS), 3);
	ck_assert_uint_eq(ctr(LBSPD_C_FALLBACK_NO_OPTION), 1);
	sp_cache_table_free(c);
}
END_TEST

START_TEST(icmp_unreachable)
{
	struct sp_cache_table *c = cache_new();
	struct sp_flow f;

	/* Never answered: fall back and absorb the error. */
	(void)sp_cache_set(c, vip, id, srv, T0);
	flow_make(&f, 1000, T0);
	memcpy(f.server, srv, 16);
	f.flags = CF_REDIRECTED;
	ck_assert(fb_icmp_unreachable(c, &f, T0 + 1, &st));
	ck_assert(f.flags & CF_FELL_BACK);
	ck_assert_uint_eq(ctr(LBSPD_C_FALLBACK_ICMP), 1);
	ck_assert_uint_eq(ctr(LBSPD_C_ICMP_ABSORBED), 1);
	/* Answered: fall back, the application sees the error. */
	flow_make(&f, 1001, T0);
	memcpy(f.server, srv, 16);
	f.flags = CF_REDIRECTED | CF_ANSWERED;
	ck_assert(!fb_icmp_unreachable(c, &f, T0 + 2, &st));
	ck_assert(f.flags & CF_FELL_BACK);
	ck_assert_uint_eq(ctr(LBSPD_C_FALLBACK_ICMP), 2);
	ck_assert_uint_eq(ctr(LBSPD_C_ICMP_ABSORBED), 1);
	sp_cache_table_free(c);
}
END_TEST

/* ------------------------------------------------------------ timers */

START_TEST(redirect_and_time)
{
	struct lbspd_pending ring[8], due[8];
	struct lbspd_pendings q = { .ring = ring, .cap = 8 };
	struct sp_flow f[3];
	unsigned i;

	for (i = 0; i < 3; i++) {
		flow_make(&f[i], (uint16_t)(1000 + i), T0 + 10 * i);
		memcpy(f[i].server, srv, 16);
		/* The first redirected SYN is timed, once. */
		ck_assert(fb_redirected(&f[i], true, &st));
		ck_assert(!fb_redirected(&f[i], true, &st));
		ck_assert(fb_pending_push(&q, &conf, &f[i], &st));
	}
	ck_assert_uint_eq(ctr(LBSPD_C_REDIRECTED), 6);
	ck_assert_uint_eq(q.count, 3);
	/* Not a SYN: not timed. */
	{
		struct sp_flow g;

		flow_make(&g, 2000, T0);
		ck_assert(!fb_redirected(&g, false, &st));
	}
	/* Due in order, at created + fallback-timeout. */
	ck_assert_uint_eq(fb_pending_due(&q, T0 + TIMEOUT_MS - 1, due, 8), 0);
	ck_assert_uint_eq(fb_pending_due(&q, T0 + TIMEOUT_MS + 10, due, 8),
	    2);
	ck_assert_mem_eq(&due[0].key, &f[0].key, sizeof(f[0].key));
	ck_assert_mem_eq(&due[1].key, &f[1].key, sizeof(f[1].key));
	ck_assert_uint_eq(due[1].due_ms, T0 + 10 + TIMEOUT_MS);
	/* At most max at a time. */
	ck_assert_uint_eq(fb_pending_due(&q, UINT64_MAX, &due[2], 0), 0);
	ck_assert_uint_eq(fb_pending_due(&q, UINT64_MAX, &due[2], 6), 1);
	ck_assert_mem_eq(&due[2].key, &f[2].key, sizeof(f[2].key));
	ck_assert_uint_eq(q.count, 0);

	/* Still standing: same flow, redirected, unanswered. */
	ck_assert(fb_pending_unanswered(&f[0], &due[0]));
	ck_assert(!fb_pending_unanswered(NULL, &due[0]));
	ck_assert(!fb_pending_unanswered(&f[1], &due[0]));  /* recreated */
	f[0].flags |= CF_ANSWERED;
	ck_assert(!fb_pending_unanswered(&f[0], &due[0]));
	f[0].flags = CF_REDIRECTED | CF_FELL_BACK;
	ck_assert(!fb_pending_unanswered(&f[0], &due[0]));
	f[0].flags = 0;
	ck_assert(!fb_pending_unanswered(&f[0], &due[0]));
}
END_TEST

/* The ring full: the SYN is not timed, and that is counted. */
START_TEST(pending_full)
{
	struct lbspd_pendings q = { .cap = LBSPD_PENDING_MAX };
	struct lbspd_pending due[4];
	struct sp_flow f;
	unsigned i;

	q.ring = calloc(LBSPD_PENDING_MAX, sizeof(*q.ring));
	ck_assert_ptr_nonnull(q.ring);
	for (i = 0; i < LBSPD_PENDING_MAX; i++) {
		flow_make(&f, (uint16_t)i, T0 + i);
		ck_assert(fb_pending_push(&q, &conf, &f, &st));
	}
	ck_assert_uint_eq(ctr(LBSPD_C_PENDING_FULL), 0);
	flow_make(&f, 60000, T0 + LBSPD_PENDING_MAX);
	ck_assert(!fb_pending_push(&q, &conf, &f, &st));
	ck_assert(!fb_pending_push(&q, &conf, &f, &st));
	ck_assert_uint_eq(ctr(LBSPD_C_PENDING_FULL), 2);
	ck_assert_uint_eq(q.count, LBSPD_PENDING_MAX);
	/* Room again once one is due: the ring wraps. */
	ck_assert_uint_eq(fb_pending_due(&q, T0 + TIMEOUT_MS, due, 4), 1);
	ck_assert(fb_pending_push(&q, &conf, &f, &st));
	ck_assert_uint_eq(ctr(LBSPD_C_PENDING_FULL), 2);
	free(q.ring);
	/* No ring at all: counted the same. */
	q.ring = NULL;
	ck_assert(!fb_pending_push(&q, &conf, &f, &st));
	ck_assert_uint_eq(ctr(LBSPD_C_PENDING_FULL), 3);
}
END_TEST

/* ------------------------------------------------------------ blackholes */

/* f's SYN left to the vip with the option; now sent again at now. */
static bool
resend(struct lbspd_blackholes *m, struct sp_flow *f, uint64_t now,
    uint32_t *marked)
{
	f->packets[SP_FLOW_ORIG]++;
	return fb_syn_without_option(m, &conf, f, vip, now, &st, marked);
}

START_TEST(blackhole_cycle)
{
	struct lbspd_blackholes m = { .n = 0 };
	struct sp_flow a, b, p1, p2, late;
	uint64_t t = T0;
	uint32_t marked;

	/* A first SYN, no mark: with the option, to the vip. */
	flow_make(&a, 1000, t);
	ck_assert(!fb_syn_without_option(&m, &conf, &a, vip, t, &st,
	    &marked));
	ck_assert_uint_eq(marked, 0);
	fb_vip_syn_sent(&a);
	ck_assert(a.flags & CF_VIP_SYN);
	/* Sent again unanswered: marked, and this SYN goes without. */
	ck_assert(resend(&m, &a, t + 1000, &marked));
	ck_assert_uint_eq(marked, BH_MIN_MS);
	ck_assert(a.flags & CF_NO_OPTION);
	ck_assert_uint_eq(m.n, 1);
	ck_assert_uint_eq(ctr(LBSPD_C_BLACKHOLE_DETECTED), 1);
	ck_assert_uint_eq(ctr(LBSPD_C_BLACKHOLE_STRIPPED), 1);
	/* Without the option for good, asked again or not. */
	ck_assert(fb_syn_without_option(&m, &conf, &a, vip, t + 2000, &st,
	    NULL));
	ck_assert_uint_eq(ctr(LBSPD_C_BLACKHOLE_DETECTED), 1);

	/* While marked: new connections go without. */
	t += 1000;
	flow_make(&b, 1001, t + 10);
	ck_assert(fb_syn_without_option(&m, &conf, &b, vip, t + 10, &st,
	    NULL));
	ck_assert_uint_eq(ctr(LBSPD_C_BLACKHOLE_AVOIDED), 1);
	/* Another vip is not marked. */
	flow_make(&late, 1002, t + 10);
	ck_assert(!fb_syn_without_option(&m, &conf, &late, vip2, t + 10, &st,
	    NULL));

	/* The mark ran out: one connection probes, the others wait. */
	t += BH_MIN_MS;
	flow_make(&p1, 1003, t);
	ck_assert(!fb_syn_without_option(&m, &conf, &p1, vip, t, &st, NULL));
	ck_assert(p1.flags & CF_PROBE);
	ck_assert_uint_eq(ctr(LBSPD_C_BLACKHOLE_PROBES), 1);
	flow_make(&p2, 1004, t + 1);
	ck_assert(fb_syn_without_option(&m, &conf, &p2, vip, t + 1, &st,
	    NULL));
	ck_assert_uint_eq(ctr(LBSPD_C_BLACKHOLE_AVOIDED), 2);
	/* The probe sent again unanswered: confirmed, doubled. */
	fb_vip_syn_sent(&p1);
	ck_assert(resend(&m, &p1, t + 1000, &marked));
	ck_assert_uint_eq(marked, 2 * BH_MIN_MS);
	ck_assert_uint_eq(m.mark[0].detections, 2);
	ck_assert_uint_eq(m.mark[0].until_ms, t + 1000 + 2 * BH_MIN_MS);
	ck_assert_uint_eq(ctr(LBSPD_C_BLACKHOLE_DETECTED), 2);

	/* A connection older than the mark, sent again: goes without,
	 * the mark unchanged. */
	flow_make(&late, 1005, t);
	fb_vip_syn_sent(&late);
	ck_assert(resend(&m, &late, t + 1500, &marked));
	ck_assert_uint_eq(marked, 0);
	ck_assert_uint_eq(m.mark[0].detections, 2);

	/* Probes failing again: the length doubles up to the maximum. */
	t += 1000;
	for (int i = 0; i < 4; i++) {
		struct sp_flow p;

		t = m.mark[0].until_ms;
		flow_make(&p, (uint16_t)(1100 + i), t);
		ck_assert(!fb_syn_without_option(&m, &conf, &p, vip, t, &st,
		    NULL));
		fb_vip_syn_sent(&p);
		ck_assert(resend(&m, &p, t + 1000, &marked));
		t += 1000;
	}
	ck_assert_uint_eq(marked, BH_MAX_MS);
	ck_assert_uint_eq(m.mark[0].period_ms, BH_MAX_MS);

	/* A probe left and neither answered nor sent again: stale after
	 * LBSPD_BLACKHOLE_PROBE_MS; the next connection probes. */
	t = m.mark[0].until_ms;
	flow_make(&p1, 1200, t);
	ck_assert(!fb_syn_without_option(&m, &conf, &p1, vip, t, &st, NULL));
	flow_make(&p2, 1201, t + LBSPD_BLACKHOLE_PROBE_MS - 1);
	ck_assert(fb_syn_without_option(&m, &conf, &p2, vip,
	    t + LBSPD_BLACKHOLE_PROBE_MS - 1, &st, NULL));
	flow_make(&p2, 1202, t + LBSPD_BLACKHOLE_PROBE_MS);
	ck_assert(!fb_syn_without_option(&m, &conf, &p2, vip,
	    t + LBSPD_BLACKHOLE_PROBE_MS, &st, NULL));
	ck_assert(p2.flags & CF_PROBE);

	/* An answer with the option: the mark goes, once per flow. */
	ck_assert(fb_answered(&p2, true));
	ck_assert(!fb_answered(&p2, true));
	ck_assert(p2.flags & CF_ANSWERED);
	ck_assert(fb_mark_clear(&m, vip, &st));
	ck_assert(!fb_mark_clear(&m, vip, &st));
	ck_assert_uint_eq(m.n, 0);
	ck_assert_uint_eq(ctr(LBSPD_C_BLACKHOLE_RECOVERED), 1);
	/* An answer without the option clears nothing. */
	flow_make(&a, 1300, t);
	ck_assert(!fb_answered(&a, false));
	ck_assert(a.flags & CF_ANSWERED);
	ck_assert(!(a.flags & CF_OPT_ANSWERED));
}
END_TEST

/* A SYN sent again after its server was given up is the server's
 * problem, not the path's; nor is one that was answered. */
START_TEST(blackhole_not_for_fallback)
{
	struct lbspd_blackholes m = { .n = 0 };
	struct sp_flow f;

	flow_make(&f, 1000, T0);
	f.flags = CF_VIP_SYN | CF_FELL_BACK;
	ck_assert(!resend(&m, &f, T0 + 1000, NULL));
	flow_make(&f, 1001, T0);
	f.flags = CF_VIP_SYN | CF_ANSWERED;
	ck_assert(!resend(&m, &f, T0 + 1000, NULL));
	/* Redirected: it never left to the vip. */
	flow_make(&f, 1002, T0);
	f.flags = CF_REDIRECTED;
	fb_vip_syn_sent(&f);
	ck_assert(!(f.flags & CF_VIP_SYN));
	ck_assert(!resend(&m, &f, T0 + 1000, NULL));
	ck_assert_uint_eq(m.n, 0);
	ck_assert_uint_eq(ctr(LBSPD_C_BLACKHOLE_DETECTED), 0);
}
END_TEST

START_TEST(blackhole_prune)
{
	static const char text[] =
	    "role client\n"
	    "vip 2001:db8:f::10 {\n"
	    "    ports 80\n"
	    "}\n";
	struct lbspd_blackholes m = { .n = 0 };
	struct sp_conf *c = sp_conf_new();
	struct sp_flow f;

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(sp_conf_parse(text, strlen(text), "t", c, NULL,
	    NULL), 0);
	flow_make(&f, 1000, T0);
	f.flags = CF_VIP_SYN;
	ck_assert(resend(&m, &f, T0, NULL));
	flow_make(&f, 1001, T0);
	f.flags = CF_VIP_SYN;
	f.packets[SP_FLOW_ORIG]++;
	ck_assert(fb_syn_without_option(&m, &conf, &f, vip2, T0, &st, NULL));
	ck_assert_uint_eq(m.n, 2);
	/* vip2 (2001:db8:f::20) is not in the configuration: it goes. */
	fb_marks_prune(&m, c);
	ck_assert_uint_eq(m.n, 1);
	ck_assert_mem_eq(m.mark[0].vip, vip, 16);
	sp_conf_free(c);
}
END_TEST

static Suite *
fallback_suite(void)
{
	Suite *s = suite_create("fallback");
	TCase *tc = tcase_create("decisions");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, learn_seg2);
	tcase_add_test(tc, server_from_flow_and_cache);
	tcase_add_test(tc, route_decisions);
	tcase_add_test(tc, fallback_reasons);
	tcase_add_test(tc, revive);
	tcase_add_test(tc, no_option_answer);
	tcase_add_test(tc, icmp_unreachable);
	tcase_add_test(tc, redirect_and_time);
	tcase_add_test(tc, pending_full);
	tcase_add_test(tc, blackhole_cycle);
	tcase_add_test(tc, blackhole_not_for_fallback);
	tcase_add_test(tc, blackhole_prune);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(fallback_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
