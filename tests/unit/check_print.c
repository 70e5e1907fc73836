/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_print.c -- the control commands' answers without a daemon and
 * without root: lbspd/control/answers.c describes fixed inputs (figures,
 * table rows, a time) through print.c, and the text and JSON must be
 * these golden strings, byte for byte.  A change of name, order,
 * alignment or escaping breaks them: change them together with the
 * description at the top of lbspd/control/commands.c and the man pages.
 *
 * Also: request lines read by request.c (every malformed one refused
 * with a clear message and counted), the names of names.c, and the
 * kernel's NFQUEUE figures read by system/proc.c.
 *
 * On a mismatch the whole output is printed as a C string, ready to be
 * reviewed and pasted.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/answers.h"
#include "control/names.h"
#include "control/print.h"
#include "control/prom.h"
#include "control/request.h"
#include "system/proc.h"

/* ------------------------------------------------------------ helpers */

static const uint8_t vip[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x0f,
	[15] = 0x01 };				/* 2001:db8:f::1 */
static const uint8_t client[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x01,
	[15] = 0x10 };				/* 2001:db8:1::10 */
static const uint8_t ident[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x01,
	[15] = 0x99 };				/* 2001:db8:1::99 */
static const uint8_t srv1[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x02,
	[15] = 0x01 };				/* 2001:db8:2::1 */
static const uint8_t srv2[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x02,
	[15] = 0x02 };				/* 2001:db8:2::2 */

typedef void (*describe_fn)(struct pr *p, const void *arg);

/* What describe says of arg, as JSON or text; malloc'd. */
static char *
answer(describe_fn describe, const void *arg, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	struct pr p;
	FILE *f;

	f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	pr_init(&p, f, json);
	describe(&p, arg);
	ck_assert_int_eq(pr_finish(&p), 0);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

/* s as a C string literal, for the message of a mismatch. */
static void
dump(const char *what, const char *s)
{
	fprintf(stderr, "%s:\n\t\"", what);
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			fprintf(stderr, "\\n\"\n\t\"");
		else if (*s == '"' || *s == '\\')
			fprintf(stderr, "\\%c", *s);
		else
			fputc(*s, stderr);
	}
	fprintf(stderr, "\"\n");
}

static void
expect(const char *got, const char *want)
{
	if (strcmp(got, want) != 0)
		dump("got", got);
	ck_assert_str_eq(got, want);
}

/* got starts with want. */
static void
expect_head(const char *got, const char *want)
{
	if (strncmp(got, want, strlen(want)) != 0)
		dump("got", got);
	ck_assert_msg(strncmp(got, want, strlen(want)) == 0,
	    "the answer does not start as it should");
}

/* got ends with want. */
static void
expect_tail(const char *got, const char *want)
{
	size_t g = strlen(got), w = strlen(want);

	if (g < w || strcmp(got + g - w, want) != 0)
		dump("got", got);
	ck_assert_msg(g >= w && strcmp(got + g - w, want) == 0,
	    "the answer does not end as it should");
}

/* ------------------------------------------------------------ stats */

static struct lbspd_stats stats_ctr;
static struct lbspd_paths stats_paths = {
	.tested = true, .nfqueue = true, .socket = false, .tc_ebpf = false,
	.detail = "nfqueue \"ok\"",
};
static struct proc_nfq stats_queue[2] = {
	{ .bound = true, .queue_total = 1, .queue_dropped = 2,
	    .user_dropped = 3, .packets = 1000 },
	{ .bound = false },
};

static void
stats_datapath(struct pr *p, void *arg)
{
	pr_open_object(p, "datapath");
	pr_str(p, "client", arg);
	pr_close_object(p);
}

static void
stats_metrics(struct pr *p)
{
	pr_open_object(p, "metrics");
	pr_u64(p, "scrapes", 4);
	pr_close_object(p);
}

static void
stats_fill(struct answer_stats *s, bool balancer)
{
	memset(&stats_ctr, 0, sizeof(stats_ctr));
	stats_ctr.ctr[LBSPD_C_PACKETS] = 123456;
	stats_ctr.ctr[LBSPD_C_BLACKHOLE_RECOVERED] = 9;
	stats_ctr.pass[LBSPD_P_NOT_VIP] = 17;
	stats_ctr.malformed[SP_ERR_TRUNCATED] = 5;
	*s = (struct answer_stats){
		.version = "1.2.3",
		.uptime_s = 3725,
		.roles = SP_CONF_ROLE_CLIENT | SP_CONF_ROLE_BALANCER,
		.queue_first = 4,
		.queue_count = 2,
		.identity_mode = SP_CONF_IDENTITY_ADDRESS,
		.paths = &stats_paths,
		.stats = &stats_ctr,
		.flows = 12, .flows_max = 65536,
		.cache = 3, .cache_max = 4096,
		.balancer = balancer,
		.vips = 1, .servers_up = 1, .servers_total = 2,
		.stick = 7, .stick_max = 1024,
		.queue = stats_queue, .nqueue = 2,
		.control_requests = 8, .control_errors = 1,
		.datapath = stats_datapath, .datapath_arg = "nfqueue",
		.metrics = stats_metrics,
	};
}

static void
describe_stats(struct pr *p, const void *arg)
{
	answer_stats(p, arg);
}

START_TEST(stats_json)
{
	struct answer_stats s;
	char *out, want[64];
	unsigned i;

	stats_fill(&s, true);
	out = answer(describe_stats, &s, true);
	expect_head(out,
	    "{\n"
	    "  \"version\": \"1.2.3\",\n"
	    "  \"uptime_s\": 3725,\n"
	    "  \"roles\": [\n"
	    "    \"client\",\n"
	    "    \"balancer\"\n"
	    "  ],\n"
	    "  \"queues\": [\n"
	    "    4,\n"
	    "    5\n"
	    "  ],\n"
	    "  \"identity_mode\": \"address\",\n"
	    "  \"identity\": \"address\",\n"
	    "  \"insert_paths\": {\n"
	    "    \"tested\": true,\n"
	    "    \"nfqueue\": true,\n"
	    "    \"socket\": false,\n"
	    "    \"tc_ebpf\": false,\n"
	    "    \"detail\": \"nfqueue \\\"ok\\\"\"\n"
	    "  },\n"
	    "  \"datapath\": {\n"
	    "    \"client\": \"nfqueue\"\n"
	    "  },\n"
	    "  \"counters\": {\n"
	    "    \"packets\": 123456,\n");
	expect_tail(out,
	    "  \"tables\": {\n"
	    "    \"flows\": 12,\n"
	    "    \"flows_max\": 65536,\n"
	    "    \"cache\": 3,\n"
	    "    \"cache_max\": 4096\n"
	    "  },\n"
	    "  \"balancer\": {\n"
	    "    \"vips\": 1,\n"
	    "    \"servers_up\": 1,\n"
	    "    \"servers_total\": 2,\n"
	    "    \"stick\": 7,\n"
	    "    \"stick_max\": 1024\n"
	    "  },\n"
	    "  \"queue\": [\n"
	    "    {\n"
	    "      \"queue\": 4,\n"
	    "      \"bound\": true,\n"
	    "      \"queue_total\": 1,\n"
	    "      \"queue_dropped\": 2,\n"
	    "      \"user_dropped\": 3,\n"
	    "      \"packets\": 1000\n"
	    "    },\n"
	    "    {\n"
	    "      \"queue\": 5,\n"
	    "      \"bound\": false,\n"
	    "      \"queue_total\": 0,\n"
	    "      \"queue_dropped\": 0,\n"
	    "      \"user_dropped\": 0,\n"
	    "      \"packets\": 0\n"
	    "    }\n"
	    "  ],\n"
	    "  \"control\": {\n"
	    "    \"requests\": 8,\n"
	    "    \"errors\": 1\n"
	    "  },\n"
	    "  \"metrics\": {\n"
	    "    \"scrapes\": 4\n"
	    "  }\n"
	    "}\n");
	/* Every counter, pass reason and libsp error, by its name. */
	for (i = 0; i < LBSPD_C__COUNT; i++) {
		snprintf(want, sizeof(want), "\n    \"%s\": ",
		    lbspd_counter_names[i]);
		ck_assert_msg(strstr(out, want) != NULL, "no counter %s",
		    lbspd_counter_names[i]);
	}
	ck_assert_ptr_nonnull(strstr(out, "\n    \"blackhole_recovered\": 9"));
	ck_assert_ptr_nonnull(strstr(out,
	    "  \"passed\": {\n    \"not-vip\": 17,\n"));
	for (i = 0; i < LBSPD_P__COUNT; i++) {
		snprintf(want, sizeof(want), "\n    \"%s\": ",
		    lbspd_pass_names[i]);
		ck_assert_msg(strstr(out, want) != NULL, "no pass %s",
		    lbspd_pass_names[i]);
	}
	snprintf(want, sizeof(want), "\n    \"%s\": 5",
	    sp_strerror(SP_ERR_TRUNCATED));
	ck_assert_ptr_nonnull(strstr(out, want));
	snprintf(want, sizeof(want), "\"%s\"", sp_strerror(SP_OK));
	ck_assert_ptr_null(strstr(out, want));
	free(out);
}
END_TEST

START_TEST(stats_text)
{
	struct answer_stats s;
	char *out;

	stats_fill(&s, false);
	s.identity_mode = SP_CONF_IDENTITY_RANDOM;
	memcpy(s.identity, ident, 16);
	s.datapath = NULL;
	s.metrics = NULL;
	s.nqueue = 1;
	out = answer(describe_stats, &s, false);
	expect_head(out,
	    "version       1.2.3\n"
	    "uptime_s      3725\n"
	    "roles         client balancer\n"
	    "queues        4 5\n"
	    "identity_mode random\n"
	    "identity      2001:db8:1::99\n"
	    "insert_paths:\n"
	    "  tested  yes\n"
	    "  nfqueue yes\n"
	    "  socket  no\n"
	    "  tc_ebpf no\n"
	    "  detail  nfqueue \"ok\"\n"
	    "counters:\n"
	    "  packets ");
	ck_assert_ptr_nonnull(strstr(out,
	    "\n  blackhole_recovered       9\n"
	    "  pending_full              0\n"
	    "  ptb_lowered               0\n"
	    "  ptb_under_minimum         0\n"
	    "passed:\n"
	    "  not-vip            17\n"));
	expect_tail(out,
	    "tables:\n"
	    "  flows     12\n"
	    "  flows_max 65536\n"
	    "  cache     3\n"
	    "  cache_max 4096\n"
	    "queue:\n"
	    "  queue  bound  queue_total  queue_dropped  user_dropped  packets\n"
	    "      4  yes              1              2             3     1000\n"
	    "control:\n"
	    "  requests 8\n"
	    "  errors   1\n");
	ck_assert_ptr_null(strstr(out, "balancer:"));
	ck_assert_ptr_null(strstr(out, "datapath"));
	free(out);
}
END_TEST

/* The stats answer is also the metrics page: every counter is a
 * Prometheus counter, the queues' figures carry their queue. */
START_TEST(stats_prom)
{
	struct answer_stats s;
	struct prom *m = prom_new();
	struct pr p;
	char *out = NULL, want[96];
	size_t len = 0;
	unsigned i;
	FILE *f;

	ck_assert_ptr_nonnull(m);
	stats_fill(&s, true);
	for (i = 0; i < LBSPD_C__COUNT; i++)
		stats_ctr.ctr[i] = 7000 + i;
	prom_root(m, "");
	pr_init_prom(&p, m);
	answer_stats(&p, &s);
	ck_assert_int_eq(pr_finish(&p), 0);
	f = open_memstream(&out, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(prom_write(m, f), 0);
	fclose(f);
	prom_free(m);
	/* Each counter's value (7000 + its index) is a sample. */
	for (i = 0; i < LBSPD_C__COUNT; i++) {
		snprintf(want, sizeof(want), " %u\n", 7000 + i);
		if (strstr(out, want) == NULL)
			dump("got", out);
		ck_assert_msg(strstr(out, want) != NULL, "no sample of %s",
		    lbspd_counter_names[i]);
	}
	ck_assert_ptr_nonnull(strstr(out, "\n# TYPE lbsp_packets_total "
	    "counter\nlbsp_packets_total 7000\n"));
	snprintf(want, sizeof(want), "\nlbsp_balancer_decisions_total"
	    "{by=\"seg2\"} %u\n", 7000 + LBSPD_C_BY_SEG2);
	ck_assert_ptr_nonnull(strstr(out, want));
	ck_assert_ptr_nonnull(strstr(out,
	    "\nlbsp_queue_packets_total{queue=\"4\"} 1000\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nlbsp_control_errors_total 1\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nlbsp_metrics_scrapes_total 4\n"));
	free(out);
}
END_TEST

/* ------------------------------------------------------------ rows */

/* A TCP flow and a 3-tuple one, seen at now = 100 s. */
static struct sp_flow flows[2];

static void
flows_fill(void)
{
	memset(flows, 0, sizeof(flows));
	memcpy(flows[0].key.src, client, 16);
	memcpy(flows[0].key.dst, vip, 16);
	flows[0].key.sport = 40000;
	flows[0].key.dport = 80;
	flows[0].key.proto = 6;
	flows[0].key.kind = SP_FLOW_5TUPLE;
	memcpy(flows[0].identity, ident, 16);
	memcpy(flows[0].server, srv1, 16);
	flows[0].last_ms = 97500;	/* idle 2.5 s: 2 */
	flows[0].packets[SP_FLOW_ORIG] = 10;
	flows[0].packets[SP_FLOW_REPLY] = 8;
	flows[0].bytes[SP_FLOW_ORIG] = 1500;
	flows[0].bytes[SP_FLOW_REPLY] = 123456789;
	flows[0].state = SP_FLOW_ESTABLISHED;
	memcpy(flows[1].key.src, client, 16);
	memcpy(flows[1].key.dst, vip, 16);
	flows[1].key.kind = SP_FLOW_3TUPLE;
	flows[1].key.label = 0xabcde;
	flows[1].last_ms = 200000;	/* in the future: idle 0 */
	flows[1].state = SP_FLOW_NEW;
}

static void
describe_flows(struct pr *p, const void *arg)
{
	unsigned i;

	(void)arg;
	pr_open_array(p, NULL);
	for (i = 0; i < 2; i++)
		answer_flow(p, &flows[i], 100000);
	pr_close_array(p);
}

START_TEST(flows_text)
{
	char *out;

	flows_fill();
	out = answer(describe_flows, NULL, false);
	expect(out,
	    "proto  src             sport  dst            dport   label  identity        server         state        packets_orig  packets_reply  bytes_orig  bytes_reply  idle_s\n"
	    "tcp    2001:db8:1::10  40000  2001:db8:f::1     80       0  2001:db8:1::99  2001:db8:2::1  established            10              8        1500    123456789       2\n"
	    "any    2001:db8:1::10      0  2001:db8:f::1      0  703710  ::              ::             new                     0              0           0            0       0\n");
	free(out);
}
END_TEST

START_TEST(flows_json)
{
	char *out;

	flows_fill();
	out = answer(describe_flows, NULL, true);
	expect(out,
	    "[\n"
	    "  {\n"
	    "    \"proto\": \"tcp\",\n"
	    "    \"src\": \"2001:db8:1::10\",\n"
	    "    \"sport\": 40000,\n"
	    "    \"dst\": \"2001:db8:f::1\",\n"
	    "    \"dport\": 80,\n"
	    "    \"label\": 0,\n"
	    "    \"identity\": \"2001:db8:1::99\",\n"
	    "    \"server\": \"2001:db8:2::1\",\n"
	    "    \"state\": \"established\",\n"
	    "    \"packets_orig\": 10,\n"
	    "    \"packets_reply\": 8,\n"
	    "    \"bytes_orig\": 1500,\n"
	    "    \"bytes_reply\": 123456789,\n"
	    "    \"idle_s\": 2\n"
	    "  },\n"
	    "  {\n"
	    "    \"proto\": \"any\",\n"
	    "    \"src\": \"2001:db8:1::10\",\n"
	    "    \"sport\": 0,\n"
	    "    \"dst\": \"2001:db8:f::1\",\n"
	    "    \"dport\": 0,\n"
	    "    \"label\": 703710,\n"
	    "    \"identity\": \"::\",\n"
	    "    \"server\": \"::\",\n"
	    "    \"state\": \"new\",\n"
	    "    \"packets_orig\": 0,\n"
	    "    \"packets_reply\": 0,\n"
	    "    \"bytes_orig\": 0,\n"
	    "    \"bytes_reply\": 0,\n"
	    "    \"idle_s\": 0\n"
	    "  }\n"
	    "]\n");
	free(out);
}
END_TEST

/* An OK entry, one suspect for 30 s, a vip marked option-blackholed
 * and one whose mark is over (a probe may go), at now = 100 s. */
static struct sp_cache_entry cache[2];
static struct lbspd_blackhole marks[2];

static void
describe_cache(struct pr *p, const void *arg)
{
	unsigned i;

	(void)arg;
	memset(cache, 0, sizeof(cache));
	for (i = 0; i < 2; i++) {
		memcpy(cache[i].vip, vip, 16);
		memcpy(cache[i].identity, ident, 16);
	}
	memcpy(cache[0].server, srv1, 16);
	cache[0].expire_ms = 160999;	/* 60.999 s left: 60 */
	cache[0].state = SP_CACHE_OK;
	memcpy(cache[1].server, srv2, 16);
	cache[1].expire_ms = 50000;	/* past: 0 */
	cache[1].suspect_ms = 70000;
	cache[1].state = SP_CACHE_SUSPECT;
	cache[1].reason = LBSPD_SUSPECT_ICMP;
	memset(marks, 0, sizeof(marks));
	memcpy(marks[0].vip, vip, 16);
	marks[0].since_ms = 40000;
	marks[0].until_ms = 100001;	/* 1 ms left: 1 */
	marks[0].period_ms = 60000;
	marks[0].detections = 2;
	marks[1].vip[0] = 0xfd;		/* fd00:: */
	marks[1].since_ms = 99999;
	marks[1].until_ms = 100000;	/* over: a probe may go */
	marks[1].period_ms = 999;
	marks[1].detections = 1;
	pr_open_array(p, NULL);
	for (i = 0; i < 2; i++)
		answer_cache(p, &cache[i], 100000);
	for (i = 0; i < 2; i++)
		answer_blackhole(p, &marks[i], 100000);
	pr_close_array(p);
}

START_TEST(cache_text)
{
	char *out = answer(describe_cache, NULL, false);

	expect(out,
	    "vip            identity        server         ttl_s  state              reason            suspect_s  period_s  detections  blackholed_s\n"
	    "2001:db8:f::1  2001:db8:1::99  2001:db8:2::1     60  ok                 -                 -                 -           -             -\n"
	    "2001:db8:f::1  2001:db8:1::99  2001:db8:2::2      0  suspect            icmp-unreachable  30                -           -             -\n"
	    "2001:db8:f::1  -               -                  1  option-blackholed  syn-retransmit    -                60           2            60\n"
	    "fd00::         -               -                  0  option-probe       syn-retransmit    -                 0           1             0\n");
	free(out);
}
END_TEST

START_TEST(cache_json)
{
	char *out = answer(describe_cache, NULL, true);

	expect(out,
	    "[\n"
	    "  {\n"
	    "    \"vip\": \"2001:db8:f::1\",\n"
	    "    \"identity\": \"2001:db8:1::99\",\n"
	    "    \"server\": \"2001:db8:2::1\",\n"
	    "    \"ttl_s\": 60,\n"
	    "    \"state\": \"ok\"\n"
	    "  },\n"
	    "  {\n"
	    "    \"vip\": \"2001:db8:f::1\",\n"
	    "    \"identity\": \"2001:db8:1::99\",\n"
	    "    \"server\": \"2001:db8:2::2\",\n"
	    "    \"ttl_s\": 0,\n"
	    "    \"state\": \"suspect\",\n"
	    "    \"reason\": \"icmp-unreachable\",\n"
	    "    \"suspect_s\": 30\n"
	    "  },\n"
	    "  {\n"
	    "    \"vip\": \"2001:db8:f::1\",\n"
	    "    \"ttl_s\": 1,\n"
	    "    \"state\": \"option-blackholed\",\n"
	    "    \"reason\": \"syn-retransmit\",\n"
	    "    \"period_s\": 60,\n"
	    "    \"detections\": 2,\n"
	    "    \"blackholed_s\": 60\n"
	    "  },\n"
	    "  {\n"
	    "    \"vip\": \"fd00::\",\n"
	    "    \"ttl_s\": 0,\n"
	    "    \"state\": \"option-probe\",\n"
	    "    \"reason\": \"syn-retransmit\",\n"
	    "    \"period_s\": 0,\n"
	    "    \"detections\": 1,\n"
	    "    \"blackholed_s\": 0\n"
	    "  }\n"
	    "]\n");
	free(out);
}
END_TEST

static void
describe_stick(struct pr *p, const void *arg)
{
	struct sp_stick_entry e[3];
	unsigned i;

	(void)arg;
	memset(e, 0, sizeof(e));
	for (i = 0; i < 3; i++) {
		memcpy(e[i].key.vip, vip, 16);
		memcpy(e[i].server, srv1, 16);
		e[i].expire_ms = 100000 + 1000 * i;
	}
	e[0].key.kind = SP_STICK_SEG1;
	memcpy(e[0].key.id, ident, 16);
	e[1].key.kind = SP_STICK_SRC_LABEL;
	memcpy(e[1].key.id, client, 16);
	e[1].key.label = 0x12345;
	e[2].key.kind = SP_STICK_SRC;
	memcpy(e[2].key.id, client, 8);
	e[2].key.label = 64;
	pr_open_array(p, NULL);
	for (i = 0; i < 3; i++)
		answer_stick(p, &e[i], 100000);
	pr_close_array(p);
}

START_TEST(stick_text)
{
	char *out = answer(describe_stick, NULL, false);

	expect(out,
	    "vip            kind       key             prefix_len  label  server         ttl_s\n"
	    "2001:db8:f::1  seg1       2001:db8:1::99  -           -      2001:db8:2::1      0\n"
	    "2001:db8:f::1  src-label  2001:db8:1::10  -           74565  2001:db8:2::1      1\n"
	    "2001:db8:f::1  src        2001:db8:1::    64          -      2001:db8:2::1      2\n");
	free(out);
}
END_TEST

START_TEST(stick_json)
{
	char *out = answer(describe_stick, NULL, true);

	expect(out,
	    "[\n"
	    "  {\n"
	    "    \"vip\": \"2001:db8:f::1\",\n"
	    "    \"kind\": \"seg1\",\n"
	    "    \"key\": \"2001:db8:1::99\",\n"
	    "    \"server\": \"2001:db8:2::1\",\n"
	    "    \"ttl_s\": 0\n"
	    "  },\n"
	    "  {\n"
	    "    \"vip\": \"2001:db8:f::1\",\n"
	    "    \"kind\": \"src-label\",\n"
	    "    \"key\": \"2001:db8:1::10\",\n"
	    "    \"label\": 74565,\n"
	    "    \"server\": \"2001:db8:2::1\",\n"
	    "    \"ttl_s\": 1\n"
	    "  },\n"
	    "  {\n"
	    "    \"vip\": \"2001:db8:f::1\",\n"
	    "    \"kind\": \"src\",\n"
	    "    \"key\": \"2001:db8:1::\",\n"
	    "    \"prefix_len\": 64,\n"
	    "    \"server\": \"2001:db8:2::1\",\n"
	    "    \"ttl_s\": 2\n"
	    "  }\n"
	    "]\n");
	free(out);
}
END_TEST

/* Two vips: one with a server probed (backup, rtt) and one drained
 * never probed; one with no servers. */
static void
servers_fill(struct answer_server s[2])
{
	memset(s, 0, 2 * sizeof(*s));
	memcpy(s[0].addr, srv1, 16);
	s[0].state = "up";
	s[0].reason = "check-ok";
	s[0].eligible = true;
	s[0].weight = 100;
	s[0].cost = 1;
	s[0].has_backup = true;
	memcpy(s[0].backup, srv2, 16);
	s[0].sessions = 3;
	s[0].sessions_total = 42;
	s[0].packets = 1000;
	s[0].bytes = 1234567;
	s[0].rtt_known = true;
	s[0].rtt_us = 0;		/* measured, not unknown */
	memcpy(s[1].addr, srv2, 16);
	s[1].state = "down";
	s[1].reason = "";		/* the empty string: "-" */
	s[1].drain = true;
	s[1].weight = 1;
}

static void
describe_servers(struct pr *p, const void *arg)
{
	static const uint8_t vip2[16] = { 0x20, 0x01, 0x0d, 0xb8,
		0, 0x0f, [15] = 0x02 };
	struct answer_server s[2];

	(void)arg;
	servers_fill(s);
	answer_servers_open(p);
	answer_vip_open(p, vip, "maglev");
	answer_server(p, &s[0]);
	answer_server(p, &s[1]);
	answer_vip_close(p);
	answer_vip_open(p, vip2, "rr");
	answer_vip_close(p);
	answer_servers_close(p);
}

START_TEST(servers_text)
{
	char *out = answer(describe_servers, NULL, false);

	expect(out,
	    "vip 2001:db8:f::1:\n"
	    "  scheduler maglev\n"
	    "  servers:\n"
	    "    address        state  reason    eligible  drain  weight  cost  backup         sessions  sessions_total  packets    bytes  rtt_us\n"
	    "    2001:db8:2::1  up     check-ok  yes       no        100     1  2001:db8:2::2         3              42     1000  1234567  0\n"
	    "    2001:db8:2::2  down   -         no        yes         1     0  -                     0               0        0        0  -\n"
	    "vip 2001:db8:f::2:\n"
	    "  scheduler rr\n"
	    "  servers\n");
	free(out);
}
END_TEST

START_TEST(servers_json)
{
	char *out = answer(describe_servers, NULL, true);

	expect(out,
	    "[\n"
	    "  {\n"
	    "    \"vip\": \"2001:db8:f::1\",\n"
	    "    \"scheduler\": \"maglev\",\n"
	    "    \"servers\": [\n"
	    "      {\n"
	    "        \"address\": \"2001:db8:2::1\",\n"
	    "        \"state\": \"up\",\n"
	    "        \"reason\": \"check-ok\",\n"
	    "        \"eligible\": true,\n"
	    "        \"drain\": false,\n"
	    "        \"weight\": 100,\n"
	    "        \"cost\": 1,\n"
	    "        \"backup\": \"2001:db8:2::2\",\n"
	    "        \"sessions\": 3,\n"
	    "        \"sessions_total\": 42,\n"
	    "        \"packets\": 1000,\n"
	    "        \"bytes\": 1234567,\n"
	    "        \"rtt_us\": 0\n"
	    "      },\n"
	    "      {\n"
	    "        \"address\": \"2001:db8:2::2\",\n"
	    "        \"state\": \"down\",\n"
	    "        \"reason\": \"\",\n"
	    "        \"eligible\": false,\n"
	    "        \"drain\": true,\n"
	    "        \"weight\": 1,\n"
	    "        \"cost\": 0,\n"
	    "        \"sessions\": 0,\n"
	    "        \"sessions_total\": 0,\n"
	    "        \"packets\": 0,\n"
	    "        \"bytes\": 0\n"
	    "      }\n"
	    "    ]\n"
	    "  },\n"
	    "  {\n"
	    "    \"vip\": \"2001:db8:f::2\",\n"
	    "    \"scheduler\": \"rr\",\n"
	    "    \"servers\": []\n"
	    "  }\n"
	    "]\n");
	free(out);
}
END_TEST

static void
describe_change(struct pr *p, const void *arg)
{
	struct answer_server s[2];

	(void)arg;
	servers_fill(s);
	answer_server_change(p, vip, &s[1]);
}

START_TEST(server_change)
{
	char *out = answer(describe_change, NULL, false);

	expect(out,
	    "vip      2001:db8:f::1\n"
	    "server   2001:db8:2::2\n"
	    "drain    yes\n"
	    "weight   1\n"
	    "state    down\n"
	    "eligible no\n");
	free(out);
	out = answer(describe_change, NULL, true);
	expect(out,
	    "{\n"
	    "  \"vip\": \"2001:db8:f::1\",\n"
	    "  \"server\": \"2001:db8:2::2\",\n"
	    "  \"drain\": true,\n"
	    "  \"weight\": 1,\n"
	    "  \"state\": \"down\",\n"
	    "  \"eligible\": false\n"
	    "}\n");
	free(out);
}
END_TEST

/* ------------------------------------------------------------ requests */

/* Parse s (a copy), expecting the error want; the error is counted. */
static void
refused(const char *s, size_t len, const char *want)
{
	struct control_request r;
	uint64_t before = atomic_load(&control_ctr.errors);
	char line[600], *ans;
	size_t anslen;

	ck_assert_uint_lt(len, sizeof(line));
	memcpy(line, s, len);
	line[len] = '\0';
	ck_assert_int_eq(control_request_parse(line, len, &r), -1);
	ck_assert_str_eq(r.err, want);
	control_error_answer(r.err, r.end, &ans, &anslen);
	ck_assert_ptr_nonnull(ans);
	ck_assert_uint_eq(atomic_load(&control_ctr.errors), before + 1);
	ck_assert_uint_eq(anslen, strlen("error: \n") + strlen(want) +
	    (r.end ? 1 : 0));
	ck_assert_int_eq(memcmp(ans, "error: ", 7), 0);
	ck_assert_int_eq(memcmp(ans + 7, want, strlen(want)), 0);
	ck_assert_int_eq(ans[7 + strlen(want)], '\n');
	if (r.end)
		ck_assert_int_eq(ans[anslen - 1], '\0');
	free(ans);
}

#define REFUSED(s, want) refused(s, sizeof(s) - 1, want)

START_TEST(request_malformed)
{
	char many[200] = "stats";
	unsigned i;

	REFUSED("", "empty request");
	REFUSED(" \t  ", "empty request");
	REFUSED("stats\x01", "malformed request");
	REFUSED("stats\0 --json", "malformed request");
	REFUSED("st\x7f" "ats", "malformed request");
	REFUSED("stats \xc3\xa9", "malformed request");
	REFUSED("stats\r", "malformed request");	/* socket.c strips one */
	REFUSED("statistics", "unknown command 'statistics'");
	REFUSED("--json", "unknown command '--json'");
	REFUSED("STATS", "unknown command 'STATS'");
	REFUSED("stats now", "usage: stats [--json]");
	REFUSED("drain 2001:db8::1", "usage: drain VIP SERVER [--json]");
	REFUSED("weight a b c d --end", "usage: weight VIP SERVER N [--json]");
	REFUSED("enable", "usage: enable VIP SERVER [--json]");
	for (i = 0; i < 16; i++)
		strcat(many, " x");
	refused(many, strlen(many), "too many words");
	/* A long word is cut in the message, not in the request. */
	memset(many, 'z', 100);
	many[100] = '\0';
	refused(many, 100, "unknown command 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
	    "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'");
}
END_TEST

START_TEST(request_ok)
{
	struct control_request r;
	char line[] = "\tweight  2001:db8:f::1 -j 2001:db8:2::1\t7 --end";

	ck_assert_int_eq(control_request_parse(line, strlen(line), &r), 0);
	ck_assert_int_eq(r.cmd, CONTROL_WEIGHT);
	ck_assert(r.json);
	ck_assert(r.end);
	ck_assert_int_eq(r.argc, 3);
	ck_assert_str_eq(r.argv[0], "weight");
	ck_assert_str_eq(r.argv[1], "2001:db8:f::1");
	ck_assert_str_eq(r.argv[2], "2001:db8:2::1");
	ck_assert_str_eq(r.argv[3], "7");

	strcpy(line, "flows");
	ck_assert_int_eq(control_request_parse(line, 5, &r), 0);
	ck_assert_int_eq(r.cmd, CONTROL_FLOWS);
	ck_assert(!r.json);
	ck_assert(!r.end);
	ck_assert_int_eq(r.argc, 0);
}
END_TEST

/* Every command of the table is found by its name. */
START_TEST(request_every_command)
{
	struct control_request r;
	char line[128];
	unsigned i;

	for (i = 0; i < CONTROL__CMDS; i++) {
		snprintf(line, sizeof(line), "%s%s", control_commands[i].name,
		    control_commands[i].minargs == 3 ? " a b c" :
		    control_commands[i].minargs == 2 ? " a b" : "");
		ck_assert_int_eq(control_request_parse(line, strlen(line),
		    &r), 0);
		ck_assert_uint_eq(r.cmd, i);
	}
}
END_TEST

/* ------------------------------------------------------------ names */

/* Counter names are JSON keys and Prometheus metric names: lower case,
 * digits and "_", each once. */
START_TEST(names_counters)
{
	unsigned i, j;
	const char *c;

	for (i = 0; i < LBSPD_C__COUNT; i++) {
		ck_assert_ptr_nonnull(lbspd_counter_names[i]);
		ck_assert_uint_gt(strlen(lbspd_counter_names[i]), 0);
		for (c = lbspd_counter_names[i]; *c != '\0'; c++)
			ck_assert_msg((*c >= 'a' && *c <= 'z') || *c == '_' ||
			    (*c >= '0' && *c <= '9'), "counter '%s'",
			    lbspd_counter_names[i]);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(lbspd_counter_names[i],
			    lbspd_counter_names[j]);
	}
	for (i = 0; i < LBSPD_P__COUNT; i++)
		for (j = 0; j < i; j++)
			ck_assert_str_ne(lbspd_pass_names[i],
			    lbspd_pass_names[j]);
	ck_assert_str_eq(names_suspect(LBSPD_SUSPECT_NONE), "");
	ck_assert_str_eq(names_suspect(LBSPD_SUSPECT_NO_OPTION), "no-option");
	ck_assert_str_eq(names_suspect(LBSPD_SUSPECT__COUNT), "unknown");
	ck_assert_str_eq(names_identity_mode(SP_CONF_IDENTITY_LITERAL),
	    "literal");
	ck_assert_str_eq(names_stick_kind(200), "unknown");
}
END_TEST

/* ------------------------------------------------------------ /proc */

START_TEST(proc_nfq)
{
	char text[] =
	    "    4  12345     3 2 65531     7     8    100  1\n"
	    "garbage line\n"
	    "    2    999     0 2 65531     0     0      5  1\n"
	    "    6    777     9 2 65531     9     9      9  1\n"
	    "    5   4242     0 2 65531     0     1     42  1\n"
	    "    5   4242     0 2 65531\n";
	struct proc_nfq q[3];

	memset(q, 0xff, sizeof(q));
	proc_nfq_parse(text, q, 4, 2);
	ck_assert(q[0].bound);
	ck_assert_uint_eq(q[0].queue_total, 3);
	ck_assert_uint_eq(q[0].queue_dropped, 7);
	ck_assert_uint_eq(q[0].user_dropped, 8);
	ck_assert_uint_eq(q[0].packets, 100);
	ck_assert(q[1].bound);
	ck_assert_uint_eq(q[1].user_dropped, 1);
	ck_assert_uint_eq(q[1].packets, 42);
	/* Beyond n: untouched. */
	ck_assert_uint_eq(q[2].packets, UINT64_MAX);

	/* Not listed: zero, unbound. */
	strcpy(text, "    1  1  1 2 65531 1 1 1 1\n");
	proc_nfq_parse(text, q, 4, 2);
	ck_assert(!q[0].bound);
	ck_assert_uint_eq(q[0].packets, 0);
	ck_assert(!q[1].bound);
}
END_TEST

static Suite *
print_suite(void)
{
	Suite *s = suite_create("print");
	TCase *tc = tcase_create("answers");

	tcase_add_test(tc, stats_json);
	tcase_add_test(tc, stats_text);
	tcase_add_test(tc, stats_prom);
	tcase_add_test(tc, flows_text);
	tcase_add_test(tc, flows_json);
	tcase_add_test(tc, cache_text);
	tcase_add_test(tc, cache_json);
	tcase_add_test(tc, stick_text);
	tcase_add_test(tc, stick_json);
	tcase_add_test(tc, servers_text);
	tcase_add_test(tc, servers_json);
	tcase_add_test(tc, server_change);
	suite_add_tcase(s, tc);
	tc = tcase_create("requests");
	tcase_add_test(tc, request_malformed);
	tcase_add_test(tc, request_ok);
	tcase_add_test(tc, request_every_command);
	suite_add_tcase(s, tc);
	tc = tcase_create("names");
	tcase_add_test(tc, names_counters);
	tcase_add_test(tc, proc_nfq);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(print_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
