/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_prom.c -- lbspd's Prometheus renderer (lbspd/control/prom.c behind
 * lbspd/control/print.c): answers described through pr come out in the text
 * exposition format, named by the rules, and what no rule names still
 * comes out -- so a counter added to lbspctl stats is a metric with no
 * second list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/print.h"
#include "control/prom.h"
#include "suites.h"

/* Render what describe() says as root; returns the malloc'd text. */
static char *
render(const char *root, void (*describe)(struct pr *))
{
	struct prom *m = prom_new();
	struct pr p;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	ck_assert_ptr_nonnull(m);
	prom_root(m, root);
	pr_init_prom(&p, m);
	describe(&p);
	ck_assert_int_eq(pr_finish(&p), 0);
	out = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(prom_write(m, out), 0);
	fclose(out);
	prom_free(m);
	return buf;
}

static void
stats_like(struct pr *p)
{
	pr_open_object(p, NULL);
	pr_str(p, "version", "9.9");
	pr_u64(p, "uptime_s", 42);
	pr_open_object(p, "counters");
	pr_u64(p, "packets", 7);
	pr_u64(p, "brand_new_counter", 3);	/* no rule names it */
	pr_u64(p, "by_stick", 2);
	pr_close_object(p);
	pr_open_object(p, "tables");
	pr_u64(p, "flows", 5);
	pr_u64(p, "flows_max", 100);
	pr_u64(p, "flows_retired", 1);
	pr_close_object(p);
	pr_open_array(p, "queue");
	pr_open_object(p, NULL);
	pr_u64(p, "queue", 0);
	pr_u64(p, "packets", 10);
	pr_bool(p, "bound", true);
	pr_close_object(p);
	pr_open_object(p, NULL);
	pr_u64(p, "queue", 1);
	pr_u64(p, "packets", 20);
	pr_bool(p, "bound", false);
	pr_close_object(p);
	pr_close_array(p);
	pr_open_object(p, "fallback");		/* a new object: gauges */
	pr_u64(p, "retries", 4);
	pr_u64(p, "probes_total", 6);
	pr_close_object(p);
	pr_str(p, "datapath", "tc");
	pr_open_object(p, "kernel");		/* the tc programs' counters */
	pr_open_object(p, "client");
	pr_u64(p, "inserted", 9);
	pr_u64(p, "not-vip", 2);
	pr_close_object(p);
	pr_open_object(p, "server");
	pr_u64(p, "inserted", 8);
	pr_close_object(p);
	pr_close_object(p);
	pr_close_object(p);
}

START_TEST(stats_render)
{
	char *t = render("", stats_like);
	const char *want =
	    "# HELP lbsp_uptime_seconds lbspctl stats: uptime_s\n"
	    "# TYPE lbsp_uptime_seconds gauge\n"
	    "lbsp_uptime_seconds 42\n"
	    "# HELP lbsp_packets_total lbspctl stats: counters.packets\n"
	    "# TYPE lbsp_packets_total counter\n"
	    "lbsp_packets_total 7\n"
	    "# HELP lbsp_brand_new_counter_total lbspctl stats: "
	    "counters.brand_new_counter\n"
	    "# TYPE lbsp_brand_new_counter_total counter\n"
	    "lbsp_brand_new_counter_total 3\n"
	    "# HELP lbsp_balancer_decisions_total lbspctl stats: "
	    "counters.by_<by>\n"
	    "# TYPE lbsp_balancer_decisions_total counter\n"
	    "lbsp_balancer_decisions_total{by=\"stick\"} 2\n"
	    "# HELP lbsp_table_entries lbspctl stats: tables.<table>\n"
	    "# TYPE lbsp_table_entries gauge\n"
	    "lbsp_table_entries{table=\"flows\"} 5\n"
	    "# HELP lbsp_table_entries_max lbspctl stats: tables.<table>_max\n"
	    "# TYPE lbsp_table_entries_max gauge\n"
	    "lbsp_table_entries_max{table=\"flows\"} 100\n"
	    "# HELP lbsp_table_retired_total lbspctl stats: "
	    "tables.<table>_retired\n"
	    "# TYPE lbsp_table_retired_total counter\n"
	    "lbsp_table_retired_total{table=\"flows\"} 1\n"
	    /* One family, both rows: grouped although described apart. */
	    "# HELP lbsp_queue_packets_total lbspctl stats: queue[].packets\n"
	    "# TYPE lbsp_queue_packets_total counter\n"
	    "lbsp_queue_packets_total{queue=\"0\"} 10\n"
	    "lbsp_queue_packets_total{queue=\"1\"} 20\n"
	    "# HELP lbsp_queue_bound lbspctl stats: queue[].bound\n"
	    "# TYPE lbsp_queue_bound gauge\n"
	    "lbsp_queue_bound{queue=\"0\"} 1\n"
	    "lbsp_queue_bound{queue=\"1\"} 0\n"
	    "# HELP lbsp_fallback_retries lbspctl stats: fallback.retries\n"
	    "# TYPE lbsp_fallback_retries gauge\n"
	    "lbsp_fallback_retries 4\n"
	    "# HELP lbsp_fallback_probes_all lbspctl stats: "
	    "fallback.probes_total\n"
	    "# TYPE lbsp_fallback_probes_all gauge\n"
	    "lbsp_fallback_probes_all 6\n"
	    "# HELP lbsp_datapath lbspctl stats: datapath\n"
	    "# TYPE lbsp_datapath gauge\n"
	    "lbsp_datapath{datapath=\"tc\"} 1\n"
	    "# HELP lbsp_kernel_inserted_total lbspctl stats: "
	    "kernel.client.inserted\n"
	    "# TYPE lbsp_kernel_inserted_total counter\n"
	    "lbsp_kernel_inserted_total{role=\"client\"} 9\n"
	    "lbsp_kernel_inserted_total{role=\"server\"} 8\n"
	    "# HELP lbsp_kernel_not_vip_total lbspctl stats: "
	    "kernel.client.not-vip\n"
	    "# TYPE lbsp_kernel_not_vip_total counter\n"
	    "lbsp_kernel_not_vip_total{role=\"client\"} 2\n";

	ck_assert_str_eq(t, want);
	free(t);
}
END_TEST

static void
servers_like(struct pr *p)
{
	pr_open_array(p, NULL);
	pr_open_object(p, NULL);
	pr_str(p, "vip", "2001:db8:f::100");
	pr_str(p, "scheduler", "rr");
	pr_open_array(p, "servers");
	pr_open_object(p, NULL);
	pr_str(p, "address", "2001:db8:5::1");
	pr_str(p, "state", "up");
	pr_u64(p, "weight", 3);
	pr_u64(p, "rtt_us", 1500);
	pr_u64(p, "bytes", 99);
	pr_close_object(p);
	pr_close_array(p);
	pr_close_object(p);
	pr_close_array(p);
}

START_TEST(servers_render)
{
	char *t = render("servers", servers_like);

	ck_assert_ptr_nonnull(strstr(t, "lbsp_vip_scheduler{vip=\"2001:db8:f"
	    "::100\",scheduler=\"rr\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(t, "lbsp_server_state{vip=\"2001:db8:f::"
	    "100\",server=\"2001:db8:5::1\",state=\"up\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(t, "lbsp_server_weight{vip=\"2001:db8:f::"
	    "100\",server=\"2001:db8:5::1\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(t, "lbsp_server_rtt_seconds{vip=\"2001:"
	    "db8:f::100\",server=\"2001:db8:5::1\"} 0.001500\n"));
	ck_assert_ptr_nonnull(strstr(t, "# TYPE lbsp_server_bytes_total "
	    "counter\n"));
	free(t);
}
END_TEST

static void
escapes(struct pr *p)
{
	pr_open_object(p, NULL);
	pr_open_object(p, "passed");
	pr_u64(p, "a\"b\\c\nd", 1);
	pr_close_object(p);
	pr_close_object(p);
}

START_TEST(label_escape)
{
	char *t = render("", escapes);

	ck_assert_ptr_nonnull(strstr(t,
	    "lbsp_passed_total{reason=\"a\\\"b\\\\c\\nd\"} 1\n"));
	free(t);
}
END_TEST

/* Two places that name one series: the first stands, once. */
static void
twice(struct pr *p)
{
	pr_open_object(p, NULL);
	pr_open_object(p, "tables");
	pr_u64(p, "stick", 8);
	pr_close_object(p);
	pr_open_object(p, "balancer");
	pr_u64(p, "stick", 9);
	pr_close_object(p);
	pr_close_object(p);
}

START_TEST(duplicate_dropped)
{
	char *t = render("", twice);

	ck_assert_ptr_nonnull(strstr(t,
	    "lbsp_table_entries{table=\"stick\"} 8\n"));
	ck_assert_ptr_null(strstr(t, "} 9\n"));
	free(t);
}
END_TEST

static void
misuse(struct pr *p)
{
	pr_open_object(p, NULL);
	pr_open_object(p, "x");
	pr_close_array(p);		/* closes what is not open */
}

START_TEST(misuse_reported)
{
	struct prom *m = prom_new();
	struct pr p;

	pr_init_prom(&p, m);
	misuse(&p);
	ck_assert_int_eq(pr_finish(&p), -1);
	prom_free(m);
}
END_TEST

Suite *
prom_suite(void)
{
	Suite *s = suite_create("prom");
	TCase *tc = tcase_create("render");

	tcase_add_test(tc, stats_render);
	tcase_add_test(tc, servers_render);
	tcase_add_test(tc, label_escape);
	tcase_add_test(tc, duplicate_dropped);
	tcase_add_test(tc, misuse_reported);
	suite_add_tcase(s, tc);
	return s;
}
