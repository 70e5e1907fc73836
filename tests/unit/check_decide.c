/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_decide.c -- the balancer's decision order (lbspd/balancer/
 * decide.c) on states built from configurations (state.c): each step of
 * the order, backups, no server, the legacy mark, the limits of a
 * configuration of a thousand vips, and maglev's disruption over 4,000
 * servers.  No root, no packets: struct lb_pkt is what decide reads.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sp/conf.h>
#include <sp/flow.h>
#include <sp/pkt.h>
#include <sp/tcp.h>

#include "conf_priv.h"
#include "balancer/balancer.h"
#include "balancer/decide.h"

static const uint8_t key[16] = "decide-test-key";

static void
no_message(void *arg, const char *msg)
{
	ck_abort_msg("balancer_conf_check: %s", msg);
	(void)arg;
}

/* A balancer built from a configuration text, as lbspd builds it. */
struct fix {
	struct sp_conf *conf;
	struct lb_stick *stick;
	struct lb_state *lb;
	struct sp_flow_table *flows;
	uint64_t now;
};

static void
fix_open(struct fix *f, const char *text)
{
	bool err;

	memset(f, 0, sizeof(*f));
	f->conf = sp_conf_new();
	ck_assert_ptr_nonnull(f->conf);
	ck_assert_int_eq(sp_conf_parse(text, strlen(text), "test", f->conf,
	    NULL, NULL), 0);
	ck_assert_uint_eq(balancer_conf_check(f->conf, no_message, NULL), 0);
	f->stick = balancer_stick_new(f->conf, key);
	ck_assert_ptr_nonnull(f->stick);
	f->now = 1000000;
	f->lb = balancer_state_new(f->conf, NULL, f->stick, key, f->now,
	    &err);
	ck_assert_ptr_nonnull(f->lb);
	ck_assert(!err);
	f->flows = sp_flow_table_new(f->conf->max_flows, NULL, key);
	ck_assert_ptr_nonnull(f->flows);
	ck_assert_int_eq(sp_flow_table_set_source_limit(f->flows,
	    f->conf->max_flows_per_source), 0);
}

static void
fix_close(struct fix *f)
{
	sp_flow_table_free(f->flows);
	balancer_state_free(f->lb);
	balancer_stick_free(f->stick);
	sp_conf_free(f->conf);
}

static void
addr(uint8_t a[16], const char *s)
{
	ck_assert_int_eq(inet_pton(AF_INET6, s, a), 1);
}

/* A TCP packet from src:sport to vip:80; opt NULL for legacy. */
static struct lb_pkt
tcp(const uint8_t src[16], uint16_t sport, uint8_t flags,
    const struct sp_lbsp *opt)
{
	return (struct lb_pkt){ .src = src, .proto = SP_NH_TCP,
	    .sport = sport, .dport = 80, .tcp_flags = flags, .len = 60,
	    .opt = opt };
}

static struct lb_decision
decide(struct fix *f, const char *vip, const struct lb_pkt *p)
{
	struct lb_ctx ctx = { .lb = f->lb, .flows = f->flows,
	    .now_ms = f->now };
	struct lb_decision d;
	uint8_t va[16];
	struct lb_vip *v;

	addr(va, vip);
	v = balancer_vip(f->lb, va);
	ck_assert_ptr_nonnull(v);
	balancer_decide(&ctx, v, p, &d);
	return d;
}

/* Change a server's drain flag or health as lbspctl / the checks do. */
static void
set_server(struct fix *f, const char *vip, const char *srv, bool drain,
    bool down)
{
	uint8_t va[16], sa[16];
	struct lb_server *s;
	struct lb_vip *v;
	unsigned i;

	addr(va, vip);
	addr(sa, srv);
	v = balancer_vip(f->lb, va);
	ck_assert_ptr_nonnull(v);
	s = balancer_server(v, sa);
	ck_assert_ptr_nonnull(s);
	pthread_mutex_lock(&v->lock);
	atomic_store(&s->drain, drain);
	if (down)	/* failed probes, `fall` of them */
		for (i = 0; i < v->check.fall + 1u; i++)
			(void)sp_health_probe_result(&s->health, false, 0,
			    f->now);
	balancer_refresh(v);
	pthread_mutex_unlock(&v->lock);
}

static bool
is(const uint8_t *a, const char *s)
{
	uint8_t b[16];

	addr(b, s);
	return a != NULL && memcmp(a, b, 16) == 0;
}

static const char conf_two[] =
	"role balancer\n"
	"max-flows-per-source 3\n"
	"vip 2001:db8:f::100 {\n"
	"  ports 80\n"
	"  scheduler rr\n"
	"  check tcp port 80 interval 1 timeout 1 rise 2 fall 3\n"
	"  server 2001:db8:5::1\n"
	"  server 2001:db8:5::2 backup 2001:db8:5::9\n"
	"}\n"
	"vip 2001:db8:f::200 {\n"
	"  scheduler rr\n"
	"  server 2001:db8:5::1\n"
	"}\n";

#define VIP	"2001:db8:f::100"

/* 4, then 2: the scheduler places a new session and records it; the
 * next packet of the flow follows the flow. */
START_TEST(scheduler_then_flow)
{
	struct fix f;
	struct lb_decision d;
	struct sp_lbsp opt = { 0 };
	struct lb_pkt p;
	uint8_t c[16];
	const uint8_t *first;

	fix_open(&f, conf_two);
	addr(c, "2001:db8:1::1");
	memcpy(opt.seg1, c, 16);
	p = tcp(c, 1000, SP_TCP_SYN, &opt);
	d = decide(&f, VIP, &p);
	ck_assert_int_eq(d.action, LB_REWRITE);
	ck_assert_int_eq(d.by, LB_BY_SCHEDULER);
	ck_assert(d.new_session);
	ck_assert(is(d.to, "2001:db8:5::1") || is(d.to, "2001:db8:5::2"));
	first = d.to;
	p.tcp_flags = SP_TCP_ACK;
	d = decide(&f, VIP, &p);
	ck_assert_int_eq(d.by, LB_BY_FLOW);
	ck_assert(!d.new_session);
	ck_assert_mem_eq(d.to, first, 16);
	fix_close(&f);
}
END_TEST

static int
count_stick(const struct sp_stick_entry *e, void *arg)
{
	size_t *n = arg;

	(void)e;
	(*n)++;
	return 0;
}

/* lbspctl stick's walk: every entry once, though a stripe holds more
 * than one batch of LB_STICK_BATCH. */
START_TEST(stick_walk_batches)
{
	struct fix f;
	struct sp_lbsp opt = { 0 };
	struct lb_decision d;
	struct lb_pkt p;
	uint8_t c[16];
	size_t n = 0;
	unsigned i;

	fix_open(&f, conf_two);
	addr(c, "2001:db8:1::1");
	for (i = 0; i < 16 * LB_STICK_BATCH * 2; i++) {
		memcpy(opt.seg1, c, 16);
		opt.seg1[12] = (uint8_t)(i >> 24);
		opt.seg1[13] = (uint8_t)(i >> 16);
		opt.seg1[14] = (uint8_t)(i >> 8);
		opt.seg1[15] = (uint8_t)i;
		p = tcp(c, (uint16_t)(1024 + i % 60000), SP_TCP_SYN, &opt);
		p.src = opt.seg1;	/* one source each: no source limit */
		d = decide(&f, VIP, &p);
		ck_assert_int_eq(d.by, LB_BY_SCHEDULER);
	}
	ck_assert_uint_eq(balancer_stick_count(f.stick),
	    16 * LB_STICK_BATCH * 2);
	ck_assert_int_eq(balancer_stick_foreach(f.stick, count_stick, &n), 0);
	ck_assert_uint_eq(n, 16 * LB_STICK_BATCH * 2);
	fix_close(&f);
}
END_TEST

/* 3: a second connection of one identity sticks to its server, where
 * round robin alone would move on. */
START_TEST(stick_by_identity)
{
	struct fix f;
	struct lb_decision d1, d2, d3;
	struct sp_lbsp opt = { 0 };
	struct lb_pkt p;
	uint8_t c[16], c2[16];

	fix_open(&f, conf_two);
	addr(c, "2001:db8:1::1");
	addr(c2, "2001:db8:1::2");
	memcpy(opt.seg1, c, 16);
	p = tcp(c, 1000, SP_TCP_SYN, &opt);
	d1 = decide(&f, VIP, &p);
	ck_assert_int_eq(d1.by, LB_BY_SCHEDULER);
	/* Same identity from another address (a proxy): the stick table. */
	p = tcp(c2, 2000, SP_TCP_SYN, &opt);
	d2 = decide(&f, VIP, &p);
	ck_assert_int_eq(d2.by, LB_BY_STICK);
	ck_assert(d2.new_session);
	ck_assert_mem_eq(d2.to, d1.to, 16);
	/* A legacy client sticks by its source. */
	p = tcp(c2, 3000, SP_TCP_SYN, NULL);
	d3 = decide(&f, VIP, &p);
	ck_assert_int_eq(d3.by, LB_BY_SCHEDULER);
	p = tcp(c2, 3001, SP_TCP_SYN, NULL);
	d2 = decide(&f, VIP, &p);
	ck_assert_int_eq(d2.by, LB_BY_STICK);
	ck_assert_mem_eq(d2.to, d3.to, 16);
	fix_close(&f);
}
END_TEST

/* 1: seg2 inside the pool is followed (before any stick or flow);
 * outside, counted and never followed; a SYN does not follow it to a
 * draining server, a packet of a running session does. */
START_TEST(seg2_inside_outside_drain)
{
	struct fix f;
	struct lb_decision d;
	struct sp_lbsp opt = { 0 };
	struct lb_pkt p;
	uint8_t c[16];

	fix_open(&f, conf_two);
	addr(c, "2001:db8:1::1");
	memcpy(opt.seg1, c, 16);
	addr(opt.seg2, "2001:db8:5::2");
	p = tcp(c, 1000, SP_TCP_ACK, &opt);
	d = decide(&f, VIP, &p);
	ck_assert_int_eq(d.by, LB_BY_SEG2);
	ck_assert(is(d.to, "2001:db8:5::2"));
	ck_assert(!d.seg2_rejected);

	addr(opt.seg2, "2001:db8:6::66");	/* not a target */
	p = tcp(c, 1001, SP_TCP_SYN, &opt);
	d = decide(&f, VIP, &p);
	ck_assert(d.seg2_rejected);
	ck_assert_int_ne(d.by, LB_BY_SEG2);
	ck_assert(!is(d.to, "2001:db8:6::66"));

	set_server(&f, VIP, "2001:db8:5::1", true, false);
	addr(opt.seg2, "2001:db8:5::1");
	addr(c, "2001:db8:1::2");	/* max-flows-per-source 3 */
	p = tcp(c, 1002, SP_TCP_SYN, &opt);
	d = decide(&f, VIP, &p);
	ck_assert_int_ne(d.by, LB_BY_SEG2);
	ck_assert(!is(d.to, "2001:db8:5::1"));
	p = tcp(c, 1003, SP_TCP_ACK, &opt);
	d = decide(&f, VIP, &p);
	ck_assert_int_eq(d.by, LB_BY_SEG2);
	ck_assert(is(d.to, "2001:db8:5::1"));
	fix_close(&f);
}
END_TEST

/* 2: a known flow whose server went down keeps it for its packets, but
 * a SYN on it (the client trying again) is placed anew. */
START_TEST(flow_server_down)
{
	struct fix f;
	struct lb_decision d;
	struct lb_pkt p;
	uint8_t c[16];
	char was[64];

	fix_open(&f, conf_two);
	addr(c, "2001:db8:1::1");
	p = tcp(c, 1000, SP_TCP_SYN, NULL);
	d = decide(&f, VIP, &p);
	ck_assert_int_eq(d.by, LB_BY_SCHEDULER);
	ck_assert(is(d.to, "2001:db8:5::1"));	/* rr starts at the first */
	snprintf(was, sizeof(was), "2001:db8:5::1");
	set_server(&f, VIP, was, false, true);
	p.tcp_flags = SP_TCP_ACK;
	d = decide(&f, VIP, &p);
	ck_assert_int_eq(d.by, LB_BY_FLOW);
	ck_assert(is(d.to, was));
	p.tcp_flags = SP_TCP_SYN;
	d = decide(&f, VIP, &p);
	ck_assert_int_eq(d.by, LB_BY_SCHEDULER);
	ck_assert(is(d.to, "2001:db8:5::2"));
	fix_close(&f);
}
END_TEST

/* A closed session's port used again (a client's ephemeral port comes
 * round while the flow lingers): the new SYN is a new session, placed
 * by its own stick entry, not sent after the old one. */
START_TEST(port_used_again)
{
	struct fix f;
	struct lb_decision d;
	struct lb_pkt p;
	uint8_t c[16];

	fix_open(&f, conf_two);
	addr(c, "2001:db8:1::1");
	p = tcp(c, 1000, SP_TCP_SYN, NULL);
	p.label = 0x12345;
	d = decide(&f, VIP, &p);
	ck_assert_int_eq(d.by, LB_BY_SCHEDULER);
	ck_assert(is(d.to, "2001:db8:5::1"));	/* rr starts at the first */
	/* Not closed: a SYN again follows the flow. */
	d = decide(&f, VIP, &p);
	ck_assert_int_eq(d.by, LB_BY_FLOW);
	ck_assert(!d.new_session);
	p.tcp_flags = SP_TCP_ACK | SP_TCP_RST;
	d = decide(&f, VIP, &p);
	ck_assert_int_eq(d.by, LB_BY_FLOW);

	/* Another label on the same ports: its own session. */
	p = tcp(c, 1000, SP_TCP_SYN, NULL);
	p.label = 0xabcde;
	d = decide(&f, VIP, &p);
	ck_assert_int_eq(d.by, LB_BY_SCHEDULER);
	ck_assert(d.new_session);
	ck_assert(!d.label_changed);
	ck_assert(is(d.to, "2001:db8:5::2"));
	p.tcp_flags = SP_TCP_ACK;
	d = decide(&f, VIP, &p);
	ck_assert_int_eq(d.by, LB_BY_FLOW);
	ck_assert(is(d.to, "2001:db8:5::2"));
	ck_assert_uint_eq(sp_flow_count(f.flows), 1);
	fix_close(&f);
}
END_TEST

/* A server down or draining hands new sessions to its backup (a standby
 * host outside the pool), through the stick table and the scheduler. */
START_TEST(backup_takes_over)
{
	struct fix f;
	struct lb_decision d;
	struct lb_pkt p;
	uint8_t c[16];
	unsigned i, backup = 0;

	fix_open(&f, conf_two);
	addr(c, "2001:db8:1::1");
	/* Stick c to ::2 (rr: ::1 first, then ::2). */
	p = tcp(c, 1000, SP_TCP_SYN, NULL);
	(void)decide(&f, VIP, &p);
	addr(c, "2001:db8:1::2");
	p = tcp(c, 1000, SP_TCP_SYN, NULL);
	d = decide(&f, VIP, &p);
	ck_assert(is(d.to, "2001:db8:5::2"));
	set_server(&f, VIP, "2001:db8:5::2", true, false);
	p = tcp(c, 1001, SP_TCP_SYN, NULL);
	d = decide(&f, VIP, &p);
	ck_assert_int_eq(d.by, LB_BY_STICK);
	ck_assert(d.to_backup);
	ck_assert(is(d.to, "2001:db8:5::9"));
	/* Its standby backup is a target: a legacy session gets its mark. */
	ck_assert_int_eq(d.action, LB_NAT);
	ck_assert_uint_ne(d.mark, 0);
	/* ::1 down too: every new client goes to the backup. */
	set_server(&f, VIP, "2001:db8:5::1", false, true);
	for (i = 0; i < 8; i++) {
		c[15] = (uint8_t)(0x40 + i);
		p = tcp(c, 2000, SP_TCP_SYN, NULL);
		d = decide(&f, VIP, &p);
		ck_assert_int_eq(d.by, LB_BY_SCHEDULER);
		backup += is(d.to, "2001:db8:5::9") && d.to_backup;
	}
	ck_assert_uint_eq(backup, 8);
	fix_close(&f);
}
END_TEST

/* Nobody can take it: dropped, nothing recorded. */
START_TEST(no_server)
{
	struct fix f;
	struct lb_decision d;
	struct lb_pkt p;
	uint8_t c[16];

	fix_open(&f, conf_two);
	addr(c, "2001:db8:1::1");
	set_server(&f, "2001:db8:f::200", "2001:db8:5::1", true, false);
	p = tcp(c, 1000, SP_TCP_SYN, NULL);
	d = decide(&f, "2001:db8:f::200", &p);
	ck_assert_int_eq(d.action, LB_DROP_NO_SERVER);
	ck_assert_int_eq(d.by, LB_BY_NONE);
	ck_assert(!d.new_session);
	ck_assert_uint_eq(sp_flow_count(f.flows), 0);
	/* The same server, enabled, on the other vip is still used
	 * there: its state is per vip. */
	d = decide(&f, VIP, &p);
	ck_assert_int_eq(d.action, LB_NAT);
	fix_close(&f);
}
END_TEST

/* Legacy NAT: the mark names the target in the configuration's target
 * table, one entry per distinct address whatever the vips sharing it. */
START_TEST(legacy_mark)
{
	struct fix f;
	struct lb_decision d;
	struct lb_pkt p;
	uint8_t c[16], (*tab)[16];
	size_t n;

	fix_open(&f, conf_two);
	n = balancer_target_table(f.conf, &tab);
	ck_assert_uint_eq(n, 3);	/* ::1 (twice in the file), ::2, ::9 */
	addr(c, "2001:db8:1::1");
	p = tcp(c, 1000, SP_TCP_SYN, NULL);
	d = decide(&f, VIP, &p);
	ck_assert_int_eq(d.action, LB_NAT);
	ck_assert_uint_eq(d.mark & LBSPD_LBMARK_MASK, LBSPD_LBMARK);
	ck_assert_uint_ge(d.mark & LBSPD_LBMARK_TARGETS, 1);
	ck_assert_uint_le(d.mark & LBSPD_LBMARK_TARGETS, n);
	ck_assert_mem_eq(tab[(d.mark & LBSPD_LBMARK_TARGETS) - 1], d.to, 16);
	/* The other vip's session to ::1 carries the same mark. */
	p = tcp(c, 1001, SP_TCP_SYN, NULL);
	d = decide(&f, VIP, &p);	/* rr: ::2 now */
	ck_assert_mem_eq(tab[(d.mark & LBSPD_LBMARK_TARGETS) - 1], d.to, 16);
	p = tcp(c, 1002, SP_TCP_SYN, NULL);
	d = decide(&f, "2001:db8:f::200", &p);
	ck_assert(is(d.to, "2001:db8:5::1"));
	ck_assert(is(tab[(d.mark & LBSPD_LBMARK_TARGETS) - 1],
	    "2001:db8:5::1"));
	free(tab);
	fix_close(&f);
}
END_TEST

/* A vip's targets: its servers, and backups that are none of them
 * (standby hosts), each address once, sorted. */
START_TEST(vip_targets)
{
	static const char text[] =
	    "role balancer\n"
	    "vip 2001:db8:f::100 {\n"
	    "  server 2001:db8:5::4 backup 2001:db8:5::9\n"
	    "  server 2001:db8:5::1 backup 2001:db8:5::4\n"
	    "  server 2001:db8:5::3 backup 2001:db8:5::9\n"
	    "  server 2001:db8:5::2 backup 2001:db8:5::8\n"
	    "}\n";
	static const char *const want[] = { "2001:db8:5::1", "2001:db8:5::2",
	    "2001:db8:5::3", "2001:db8:5::4", "2001:db8:5::8",
	    "2001:db8:5::9" };
	static const int server[] = { 1, 3, 2, 0, -1, -1 };
	const struct lb_vip *v;
	struct fix f;
	uint8_t a[16];
	unsigned i;

	fix_open(&f, text);
	addr(a, VIP);
	v = balancer_vip(f.lb, a);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(v->ntargets, 6);
	for (i = 0; i < 6; i++) {
		ck_assert(is(v->targets[i].addr, want[i]));
		ck_assert_int_eq(v->targets[i].server, server[i]);
		ck_assert_uint_ne(v->targets[i].mark, 0);
	}
	fix_close(&f);
}
END_TEST

/* 0: max-flows-per-source refuses a new flow before deciding. */
START_TEST(source_limited)
{
	struct fix f;
	struct lb_decision d;
	struct lb_pkt p;
	uint8_t c[16];
	uint16_t port;

	fix_open(&f, conf_two);
	addr(c, "2001:db8:1::1");
	for (port = 1000; port < 1003; port++) {
		p = tcp(c, port, SP_TCP_SYN, NULL);
		d = decide(&f, VIP, &p);
		ck_assert_int_eq(d.action, LB_NAT);
	}
	p = tcp(c, 1003, SP_TCP_SYN, NULL);
	d = decide(&f, VIP, &p);
	ck_assert_int_eq(d.action, LB_DROP_SOURCE_LIMITED);
	ck_assert_uint_eq(sp_flow_count(f.flows), 3);
	/* A known flow of that source goes on. */
	p = tcp(c, 1000, SP_TCP_ACK, NULL);
	d = decide(&f, VIP, &p);
	ck_assert_int_eq(d.by, LB_BY_FLOW);
	fix_close(&f);
}
END_TEST

/* RFC 7098 §5: a flow whose label changes is counted; dropped with
 * flowlabel-strict. */
START_TEST(label_changed)
{
	static const char strict[] = "role balancer\nflowlabel-strict on\n"
	    "vip 2001:db8:f::100 {\n server 2001:db8:5::1\n}\n";
	struct fix f;
	struct lb_decision d;
	struct lb_pkt p;
	uint8_t c[16];

	fix_open(&f, conf_two);
	addr(c, "2001:db8:1::1");
	p = tcp(c, 1000, SP_TCP_SYN, NULL);
	p.label = 0x12345;
	(void)decide(&f, VIP, &p);
	p.label = 0x54321;
	p.tcp_flags = SP_TCP_ACK;
	d = decide(&f, VIP, &p);
	ck_assert(d.label_changed);
	ck_assert_int_eq(d.action, LB_NAT);
	fix_close(&f);

	fix_open(&f, strict);
	p = tcp(c, 1000, SP_TCP_SYN, NULL);
	p.label = 0x12345;
	(void)decide(&f, VIP, &p);
	p.label = 0x54321;
	d = decide(&f, VIP, &p);
	ck_assert(d.label_changed);
	ck_assert_int_eq(d.action, LB_DROP_LABEL_CHANGED);
	fix_close(&f);
}
END_TEST

/* A reload keeps the figures and health of servers that stay. */
START_TEST(reload_keeps_state)
{
	static const char three[] = "role balancer\n"
	    "vip 2001:db8:f::100 {\n server 2001:db8:5::1\n"
	    " server 2001:db8:5::3\n}\n";
	struct fix f;
	struct sp_conf *nc;
	struct lb_state *nlb;
	struct lb_pkt p;
	struct lb_vip *v;
	struct lb_decision d;
	uint8_t c[16], va[16], sa[16];
	bool err;

	fix_open(&f, conf_two);
	addr(c, "2001:db8:1::1");
	p = tcp(c, 1000, SP_TCP_SYN, NULL);
	d = decide(&f, VIP, &p);
	ck_assert(is(d.to, "2001:db8:5::1"));
	set_server(&f, VIP, "2001:db8:5::1", false, true);
	nc = sp_conf_new();
	ck_assert_int_eq(sp_conf_parse(three, strlen(three), "t", nc, NULL,
	    NULL), 0);
	nlb = balancer_state_new(nc, f.lb, f.stick, key, f.now, &err);
	ck_assert_ptr_nonnull(nlb);
	addr(va, VIP);
	addr(sa, "2001:db8:5::1");
	v = balancer_vip(nlb, va);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(v->nservers, 2);
	ck_assert_uint_eq(atomic_load(&balancer_server(v, sa)->sessions_total),
	    1);
	ck_assert(!atomic_load(&balancer_server(v, sa)->up));
	addr(sa, "2001:db8:5::3");
	ck_assert(atomic_load(&balancer_server(v, sa)->up));
	ck_assert_uint_eq(atomic_load(&balancer_server(v, sa)->sessions_total),
	    0);
	balancer_state_free(nlb);
	sp_conf_free(nc);
	fix_close(&f);
}
END_TEST

/* A configuration: nvips vips of nservers each (rr), or one of maglev. */
static char *
conf_gen(unsigned nvips, unsigned nservers, const char *sched,
    unsigned skip)
{
	size_t cap = 256 + (size_t)nvips * (96 + (size_t)nservers * 40);
	size_t len = 0;
	char *t = malloc(cap);
	unsigned i, j;

	ck_assert_ptr_nonnull(t);
	len += (size_t)snprintf(t + len, cap - len,
	    "role balancer\nmax-flows 262144\n");
	for (i = 0; i < nvips; i++) {
		len += (size_t)snprintf(t + len, cap - len,
		    "vip 2001:db8:f::%x:%x {\n scheduler %s\n ports 80\n",
		    i / 256 + 1, i % 256 + 1, sched);
		for (j = 0; j < nservers; j++)
			if (j != skip)
				len += (size_t)snprintf(t + len, cap - len,
				    " server 2001:db8:%x::%x:%x\n", i + 0x100,
				    j / 256 + 1, j % 256 + 1);
		len += (size_t)snprintf(t + len, cap - len, "}\n");
	}
	ck_assert_uint_lt(len, cap);
	return t;
}

/* A thousand vips of eight servers: all held, the last vip's sessions
 * decided and marked within the 24 bits. */
START_TEST(thousand_vips)
{
	struct fix f;
	struct lb_decision d;
	struct lb_pkt p;
	uint8_t c[16], (*tab)[16], want[16];
	char *text = conf_gen(1000, 8, "rr", ~0u);
	size_t n;

	fix_open(&f, text);
	ck_assert_uint_eq(f.lb->nvips, 1000);
	n = balancer_target_table(f.conf, &tab);
	ck_assert_uint_eq(n, 8000);
	addr(c, "2001:db8:1::1");
	p = tcp(c, 1000, SP_TCP_SYN, NULL);
	d = decide(&f, "2001:db8:f::4:e8", &p);	/* vip 999 */
	ck_assert_int_eq(d.action, LB_NAT);
	addr(want, "2001:db8:4e7::1:1");	/* its first server */
	ck_assert_mem_eq(d.to, want, 16);
	ck_assert_mem_eq(tab[(d.mark & LBSPD_LBMARK_TARGETS) - 1], want, 16);
	free(tab);
	free(text);
	fix_close(&f);
}
END_TEST

/*
 * One vip of 4,000 servers under maglev, through the balancer: a second
 * balancer (own stick and flow tables) without server 3000 sends that
 * server's clients elsewhere and at least 95% of the others where the
 * first does -- the disruption of a removal is about 1/N of the keys.
 */
#define NBIG		4000
#define NCLIENTS	100000

START_TEST(maglev_4000_servers)
{
	char *all = conf_gen(1, NBIG, "maglev", ~0u);
	char *less = conf_gen(1, NBIG, "maglev", 3000);
	struct fix a, b;
	struct lb_decision da, db;
	struct sp_lbsp opt = { 0 };
	struct lb_pkt p;
	uint8_t c[16], gone[16];
	unsigned i, moved = 0, others = 0, kept = 0, on_gone = 0;
	unsigned *hits = calloc(NBIG, sizeof(*hits));
	struct lb_vip *v;

	ck_assert_ptr_nonnull(hits);
	fix_open(&a, all);
	fix_open(&b, less);
	addr(gone, "2001:db8:100::c:b9");	/* server 3000 */
	v = &a.lb->vips[0];
	ck_assert_uint_eq(v->nservers, NBIG);
	ck_assert_ptr_nonnull(balancer_server(v, gone));
	addr(c, "2001:db8:1::");
	for (i = 0; i < NCLIENTS; i++) {
		c[12] = (uint8_t)(i >> 24);
		c[13] = (uint8_t)(i >> 16);
		c[14] = (uint8_t)(i >> 8);
		c[15] = (uint8_t)i;
		memcpy(opt.seg1, c, 16);
		p = tcp(c, 1000, SP_TCP_SYN, &opt);
		da = decide(&a, "2001:db8:f::1:1", &p);
		db = decide(&b, "2001:db8:f::1:1", &p);
		ck_assert_int_eq(da.by, LB_BY_SCHEDULER);
		ck_assert_int_eq(db.by, LB_BY_SCHEDULER);
		ck_assert(!is(db.to, "2001:db8:100::c:b9"));
		hits[balancer_server(v, da.to) - v->servers]++;
		if (memcmp(da.to, gone, 16) == 0) {
			on_gone++;
			moved++;
			continue;
		}
		others++;
		kept += memcmp(da.to, db.to, 16) == 0;
		moved += memcmp(da.to, db.to, 16) != 0;
	}
	/* Every server holds clients; the removed one about 1/N. */
	for (i = 0; i < NBIG; i++)
		ck_assert_uint_gt(hits[i], 0);
	ck_assert_uint_gt(on_gone, 0);
	ck_assert_uint_lt(on_gone, 4 * NCLIENTS / NBIG);
	ck_assert_uint_ge(kept * 100, others * 95);
	free(hits);
	free(all);
	free(less);
	fix_close(&a);
	fix_close(&b);
}
END_TEST

/*
 * Two threads deciding at once on one vip (each its own flow table, as
 * queue threads own their shards) while a third drains and enables a
 * server over and over: every session lands on a server of the pool,
 * and the per-server figures (atomics) add up to exactly the sessions
 * decided.
 */
#define NTHREAD_DECISIONS	20000

struct racer {
	struct fix *f;
	struct sp_flow_table *flows;
	unsigned id;
	unsigned long forwarded, bad;
};

static _Atomic bool race_stop;

static void *
race_decide(void *arg)
{
	struct racer *r = arg;
	struct lb_ctx ctx = { .lb = r->f->lb, .flows = r->flows,
	    .now_ms = r->f->now };
	struct lb_vip *v = &r->f->lb->vips[0];
	struct lb_decision d;
	struct sp_lbsp opt = { 0 };
	uint8_t c[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1 };
	struct lb_pkt p;
	unsigned i;

	c[6] = (uint8_t)r->id;
	for (i = 0; i < NTHREAD_DECISIONS; i++) {
		c[12] = (uint8_t)(i >> 24);
		c[13] = (uint8_t)(i >> 16);
		c[14] = (uint8_t)(i >> 8);
		c[15] = (uint8_t)i;
		memcpy(opt.seg1, c, 16);
		p = tcp(c, 1000, SP_TCP_SYN, &opt);
		balancer_decide(&ctx, v, &p, &d);
		if (d.action != LB_REWRITE || !d.new_session ||
		    balancer_server(v, d.to) == NULL)
			r->bad++;
		else
			r->forwarded++;
	}
	return NULL;
}

static void *
race_drain(void *arg)
{
	struct fix *f = arg;
	struct lb_vip *v = &f->lb->vips[0];
	struct lb_server *s = &v->servers[0];
	bool drain = false;

	while (!atomic_load(&race_stop)) {
		drain = !drain;
		pthread_mutex_lock(&v->lock);
		atomic_store(&s->drain, drain);
		balancer_refresh(v);
		pthread_mutex_unlock(&v->lock);
	}
	return NULL;
}

START_TEST(threads_at_once)
{
	struct fix f;
	struct racer r[2];
	pthread_t t[3];
	struct lb_vip *v;
	uint64_t total = 0;
	unsigned i;

	fix_open(&f, "role balancer\nmax-flows 262144\n"
	    "vip 2001:db8:f::100 {\n scheduler lc\n"
	    " server 2001:db8:5::1\n server 2001:db8:5::2\n"
	    " server 2001:db8:5::3\n}\n");
	v = &f.lb->vips[0];
	atomic_store(&race_stop, false);
	ck_assert_int_eq(pthread_create(&t[2], NULL, race_drain, &f), 0);
	for (i = 0; i < 2; i++) {
		r[i] = (struct racer){ .f = &f, .id = i + 1 };
		r[i].flows = sp_flow_table_new(f.conf->max_flows, NULL, key);
		ck_assert_ptr_nonnull(r[i].flows);
		ck_assert_int_eq(pthread_create(&t[i], NULL, race_decide,
		    &r[i]), 0);
	}
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	atomic_store(&race_stop, true);
	pthread_join(t[2], NULL);
	for (i = 0; i < 2; i++) {
		ck_assert_uint_eq(r[i].bad, 0);
		ck_assert_uint_eq(r[i].forwarded, NTHREAD_DECISIONS);
		sp_flow_table_free(r[i].flows);
	}
	for (i = 0; i < v->nservers; i++)
		total += atomic_load(&v->servers[i].sessions_total);
	ck_assert_uint_eq(total, 2 * NTHREAD_DECISIONS);
	/* Least sessions saw the others' counts: the load is spread over
	 * the two servers never drained (the first may have been drained
	 * all along, when its thread was off the CPU). */
	for (i = 1; i < v->nservers; i++)
		ck_assert_uint_gt(atomic_load(&v->servers[i].sessions), 0);
	fix_close(&f);
}
END_TEST

/* ------------------------------------------------------ passive health */

static const char conf_passive[] =
	"role balancer\n"
	"vip 2001:db8:f::100 {\n"
	"  ports 80\n"
	"  scheduler rr\n"
	"  passive-timeout 3s\n"
	"  server 2001:db8:5::1\n"
	"  server 2001:db8:5::2\n"
	"}\n";

static struct lb_server *
server_of(struct fix *f, const char *srv)
{
	uint8_t va[16], sa[16];
	struct lb_vip *v;

	addr(va, VIP);
	addr(sa, srv);
	v = balancer_vip(f->lb, va);
	ck_assert_ptr_nonnull(v);
	return balancer_server(v, sa);
}

/* The checks thread's passive clock (lbspd/checks/engine.c) at f->now:
 * true when a server changed. */
static bool
passive_tick(struct fix *f)
{
	uint8_t va[16];
	struct lb_vip *v;
	bool changed = false;
	unsigned i;

	addr(va, VIP);
	v = balancer_vip(f->lb, va);
	pthread_mutex_lock(&v->lock);
	for (i = 0; i < v->nservers; i++)
		changed |= sp_health_tick(&v->servers[i].health, f->now);
	if (changed)
		balancer_refresh(v);
	pthread_mutex_unlock(&v->lock);
	return changed;
}

/* A SYN with sequence number isn. */
static struct lb_pkt
syn_isn(const uint8_t src[16], uint16_t sport, uint32_t isn,
    const struct sp_lbsp *opt)
{
	struct lb_pkt p = tcp(src, sport, SP_TCP_SYN, opt);

	p.tcp_seq = isn;
	return p;
}

/* The client's SYN sent again passive-timeout after the first: the
 * session went unanswered that long, its server goes down (passive);
 * sent again sooner, nothing yet.  Legacy and LBSP alike. */
START_TEST(passive_retransmission)
{
	struct sp_lbsp opt = { 0 };
	struct lb_decision d;
	struct lb_server *s1;
	struct lb_pkt p;
	struct fix f;
	uint8_t c[16], c2[16];
	int lbsp;

	for (lbsp = 0; lbsp < 2; lbsp++) {
		fix_open(&f, conf_passive);
		s1 = server_of(&f, "2001:db8:5::1");
		addr(c, "2001:db8:1::1");
		addr(c2, "2001:db8:1::77");
		memcpy(opt.seg1, c, 16);
		p = syn_isn(c, 1000, 0x11223344, lbsp ? &opt : NULL);
		d = decide(&f, VIP, &p);
		ck_assert(is(d.to, "2001:db8:5::1"));	/* rr: the first */
		ck_assert(d.new_session);
		f.now += 1000;		/* the client's first retransmission */
		d = decide(&f, VIP, &p);
		ck_assert(!d.new_session);
		ck_assert(!d.unanswered);
		ck_assert(is(d.to, "2001:db8:5::1"));
		ck_assert(!passive_tick(&f));
		f.now += 2000;		/* 3 s after the first */
		d = decide(&f, VIP, &p);
		ck_assert(d.unanswered);
		ck_assert(passive_tick(&f));
		ck_assert_str_eq(sp_health_state_name(&s1->health), "down");
		ck_assert_str_eq(sp_health_reason_name(&s1->health),
		    "passive");
		ck_assert_uint_eq(s1->health.passive_downs, 1);
		/* New sessions go to the other server. */
		p = syn_isn(c2, 1001, 7, lbsp ? &opt : NULL);
		d = decide(&f, VIP, &p);
		ck_assert(is(d.to, "2001:db8:5::2"));
		fix_close(&f);
	}
}
END_TEST

/* First packets seen once prove nothing either way: a server whose
 * sessions are answered around the balancer (single pass, NAT) and
 * never sent again is never taken down, however many and however long. */
START_TEST(passive_first_packets)
{
	struct sp_lbsp opt = { 0 };
	struct lb_decision d;
	struct lb_pkt p;
	struct fix f;
	uint8_t c[16];
	unsigned i;

	fix_open(&f, conf_passive);
	addr(c, "2001:db8:1::1");
	memcpy(opt.seg1, c, 16);
	for (i = 0; i < 200; i++) {
		p = syn_isn(c, (uint16_t)(2000 + i), i * 7919u,
		    i % 2 ? &opt : NULL);
		d = decide(&f, VIP, &p);
		ck_assert(d.new_session);
		ck_assert(!d.unanswered);
		f.now += 100;
		ck_assert(!passive_tick(&f));
	}
	f.now += 60000;
	ck_assert(!passive_tick(&f));
	ck_assert_str_eq(sp_health_state_name(&server_of(&f,
	    "2001:db8:5::1")->health), "up");
	ck_assert_str_eq(sp_health_state_name(&server_of(&f,
	    "2001:db8:5::2")->health), "up");
	fix_close(&f);
}
END_TEST

/* A SYN with another ISN on a known tuple is a new session on a port
 * used again, not a retransmission: its age starts with it. */
START_TEST(passive_new_isn)
{
	struct lb_decision d;
	struct lb_pkt p;
	struct fix f;
	uint8_t c[16];

	fix_open(&f, conf_passive);
	addr(c, "2001:db8:1::1");
	p = syn_isn(c, 1000, 100, NULL);
	d = decide(&f, VIP, &p);
	ck_assert(d.new_session);
	f.now += 5000;
	p = syn_isn(c, 1000, 900000, NULL);	/* the port used again */
	d = decide(&f, VIP, &p);
	ck_assert(d.new_session);
	ck_assert(!d.unanswered);
	f.now += 2000;				/* its own retransmission */
	d = decide(&f, VIP, &p);
	ck_assert(!d.new_session);
	ck_assert(!d.unanswered);
	ck_assert(!passive_tick(&f));
	f.now += 1000;				/* 3 s after it */
	d = decide(&f, VIP, &p);
	ck_assert(d.unanswered);
	ck_assert(passive_tick(&f));
	ck_assert_uint_eq(sp_flow_count(f.flows), 1);
	fix_close(&f);
}
END_TEST

/* The client's first ACK, where it crosses the balancer (redirect off),
 * proves the server answered: it clears an unanswered session posted
 * before the passive clock ran. */
START_TEST(passive_answered_clears)
{
	struct sp_lbsp opt = { 0 };
	struct lb_decision d;
	struct lb_pkt a, b;
	struct fix f;
	uint8_t c[16];

	fix_open(&f, "role balancer\n"
	    "vip 2001:db8:f::100 {\n ports 80\n scheduler rr\n"
	    " passive-timeout 3s\n server 2001:db8:5::1\n}\n");
	addr(c, "2001:db8:1::1");
	memcpy(opt.seg1, c, 16);
	a = syn_isn(c, 1000, 1, &opt);
	b = syn_isn(c, 1001, 2, &opt);
	(void)decide(&f, VIP, &a);
	(void)decide(&f, VIP, &b);
	f.now += 3000;
	d = decide(&f, VIP, &a);		/* a: still unanswered */
	ck_assert(d.unanswered);
	b.tcp_flags = SP_TCP_ACK;		/* b: answered */
	b.tcp_seq = 3;
	d = decide(&f, VIP, &b);
	ck_assert_int_eq(d.by, LB_BY_FLOW);
	ck_assert(!passive_tick(&f));
	ck_assert_str_eq(sp_health_state_name(&server_of(&f,
	    "2001:db8:5::1")->health), "up");
	/* Later packets of b prove nothing more, and a's next
	 * retransmission takes the server down. */
	f.now += 1000;
	d = decide(&f, VIP, &b);
	d = decide(&f, VIP, &a);
	ck_assert(d.unanswered);
	ck_assert(passive_tick(&f));
	fix_close(&f);
}
END_TEST

/* Once its server is down, a legacy client's SYN sent again follows its
 * flow (the kernel's NAT bound it at the first SYN), and blames no other
 * server; an LBSP client's is placed anew, a new session whose age
 * starts there. */
START_TEST(passive_after_down)
{
	struct sp_lbsp opt = { 0 };
	struct lb_decision d;
	struct lb_pkt p;
	struct fix f;
	uint8_t c[16];
	int lbsp;

	for (lbsp = 0; lbsp < 2; lbsp++) {
		fix_open(&f, conf_passive);
		addr(c, "2001:db8:1::1");
		memcpy(opt.seg1, c, 16);
		p = syn_isn(c, 1000, 5, lbsp ? &opt : NULL);
		d = decide(&f, VIP, &p);
		ck_assert(is(d.to, "2001:db8:5::1"));
		f.now += 3000;
		d = decide(&f, VIP, &p);
		ck_assert(d.unanswered);
		ck_assert(passive_tick(&f));
		f.now += 4000;
		d = decide(&f, VIP, &p);
		ck_assert(!d.unanswered);
		if (lbsp) {
			ck_assert(is(d.to, "2001:db8:5::2"));
			ck_assert(d.new_session);
		} else {
			ck_assert(is(d.to, "2001:db8:5::1"));
			ck_assert_int_eq(d.by, LB_BY_FLOW);
			ck_assert(!d.new_session);
		}
		f.now += 8000;
		d = decide(&f, VIP, &p);
		/* LBSP: 8 s after it reached s2, s2 is blamed; legacy:
		 * s1 is down already, nothing more. */
		ck_assert(d.unanswered == (lbsp != 0));
		ck_assert(passive_tick(&f) == (lbsp != 0));
		ck_assert_str_eq(sp_health_state_name(&server_of(&f,
		    "2001:db8:5::2")->health), lbsp ? "down" : "up");
		fix_close(&f);
	}
}
END_TEST

static Suite *
decide_suite(void)
{
	Suite *s = suite_create("decide");
	TCase *o = tcase_create("order"), *l = tcase_create("limits");

	tcase_set_timeout(o, 60);	/* threads_at_once, sanitizers */
	tcase_add_test(o, scheduler_then_flow);
	tcase_add_test(o, stick_by_identity);
	tcase_add_test(o, stick_walk_batches);
	tcase_add_test(o, seg2_inside_outside_drain);
	tcase_add_test(o, flow_server_down);
	tcase_add_test(o, port_used_again);
	tcase_add_test(o, backup_takes_over);
	tcase_add_test(o, no_server);
	tcase_add_test(o, legacy_mark);
	tcase_add_test(o, vip_targets);
	tcase_add_test(o, source_limited);
	tcase_add_test(o, label_changed);
	tcase_add_test(o, reload_keeps_state);
	tcase_add_test(o, threads_at_once);
	tcase_add_test(o, passive_retransmission);
	tcase_add_test(o, passive_first_packets);
	tcase_add_test(o, passive_new_isn);
	tcase_add_test(o, passive_answered_clears);
	tcase_add_test(o, passive_after_down);
	suite_add_tcase(s, o);
	/* Big states under the sanitizers: generous, nothing is timed. */
	tcase_set_timeout(l, 300);
	tcase_add_test(l, thousand_vips);
	tcase_add_test(l, maglev_4000_servers);
	suite_add_tcase(s, l);
	return s;
}

int
main(void)
{
	SRunner *r = srunner_create(decide_suite());
	int failed;

	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? 0 : 1;
}
