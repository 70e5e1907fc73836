/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_conf.c -- the lbsp.conf parser: the example files, every keyword,
 * every error class with its exact "file:line: message", limits, and
 * input that is not a config at all.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <sp/conf.h>

#include "conf_priv.h"
#include "suites.h"

#define EXAMPLES_DIR	CONF_DIR "/../../../examples"

/* Every error reported, as "file:line: message\n" lines. */
struct errs {
	char *buf;
	size_t len, cap;
	int n;
};

static struct sp_conf *cf;
static struct errs er;

static void
setup(void)
{
	cf = sp_conf_new();
	ck_assert_ptr_nonnull(cf);
	memset(&er, 0, sizeof(er));
}

static void
teardown(void)
{
	sp_conf_free(cf);
	free(er.buf);
}

/*
 * Two configurations hold the same: byte for byte up to the vips (the
 * parser zeroes the struct, padding included, before filling it), then
 * the vip blocks and what they own.
 */
static bool
conf_equal(const struct sp_conf *a, const struct sp_conf *b)
{
	return memcmp(a, b, offsetof(struct sp_conf, vips)) == 0 &&
	    sp_conf_vips_equal(a, b);
}

static void
collect(void *arg, const char *file, unsigned line, const char *msg)
{
	struct errs *e = arg;
	int n;

	for (;;) {
		n = snprintf(e->buf + e->len, e->cap - e->len, "%s:%u: %s\n",
		    file, line, msg);
		ck_assert_int_ge(n, 0);
		if ((size_t)n < e->cap - e->len)
			break;
		e->cap = e->cap * 2 + (size_t)n + 1;
		e->buf = realloc(e->buf, e->cap);
		ck_assert_ptr_nonnull(e->buf);
	}
	e->len += (size_t)n;
	e->n++;
}

/* Errors so far as one string ("" when none). */
static const char *
errs_text(void)
{
	return er.buf == NULL ? "" : er.buf;
}

static void
errs_reset(void)
{
	er.len = 0;
	er.n = 0;
	if (er.buf != NULL)
		er.buf[0] = '\0';
}

/*
 * Parse len bytes from an exact-size heap copy, so that ASan catches any
 * read past the end; check the return value against the errors seen.
 */
static int
parse_mem(const char *text, size_t len, const char *file)
{
	char *copy = malloc(len > 0 ? len : 1);
	int ret;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, text, len);
	errs_reset();
	ret = sp_conf_parse(copy, len, file, cf, collect, &er);
	free(copy);
	ck_assert_int_eq(ret, er.n);
	return ret;
}

static int
parse_str(const char *text)
{
	return parse_mem(text, strlen(text), "t");
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Parse a file; its errors are reported under its base name. */
static int
parse_file(const char *dir, const char *name)
{
	char path[512];
	size_t len;
	char *text;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	text = slurp(path, &len);
	ret = parse_mem(text, len, name);
	free(text);
	return ret;
}

static void
addr(const char *s, uint8_t out[16])
{
	ck_assert_int_eq(inet_pton(AF_INET6, s, out), 1);
}

#define ck_assert_addr(a, s)	do {					\
	uint8_t want_[16];						\
	addr((s), want_);						\
	ck_assert_mem_eq((a), want_, 16);				\
} while (0)

/* ------------------------------------------------------ good configs */

/* The sample of doc/design.md §6 is a user-facing contract: it must parse. */
START_TEST(design_sample)
{
	const struct sp_conf_vip *v;

	ck_assert_int_eq(parse_file(CONF_DIR, "design-sample.conf"), 0);
	ck_assert_uint_eq(cf->roles, SP_CONF_ROLE_CLIENT);
	ck_assert_uint_eq(cf->nvips, 1);
	v = &cf->vips[0];
	ck_assert_uint_eq(v->nports, 3);
	ck_assert_uint_eq(v->nservers, 2);
	ck_assert(v->servers[1].has_backup);
	ck_assert_uint_eq(v->servers[1].weight, 3);
	ck_assert_int_eq(v->scheduler, SP_CONF_SCHED_LC);
	ck_assert_int_eq(v->check.type, SP_CONF_CHECK_TCP);
	ck_assert(cf->has_server_address);
}
END_TEST

START_TEST(example_client)
{
	const struct sp_conf_vip *v;

	ck_assert_str_eq(parse_file(EXAMPLES_DIR, "client.conf") == 0 ?
	    "" : errs_text(), "");
	ck_assert_uint_eq(cf->roles, SP_CONF_ROLE_CLIENT);
	ck_assert_uint_eq(cf->queue_first, 0);
	ck_assert_uint_eq(cf->queue_count, 1);
	ck_assert_uint_eq(cf->option_type, 0x1e);
	ck_assert_int_eq(cf->rules, SP_CONF_RULES_INSTALL);
	ck_assert_int_eq(cf->identity, SP_CONF_IDENTITY_ADDRESS);
	ck_assert(cf->redirect);
	ck_assert(cf->mss_clamp);
	ck_assert(cf->gso);
	ck_assert_int_eq(cf->datapath, SP_CONF_DATAPATH_AUTO);
	ck_assert_uint_eq(cf->agent_port, 0);
	ck_assert_uint_eq(cf->metrics_port, 0);
	ck_assert_uint_eq(cf->mtu, 1500);
	ck_assert_uint_eq(cf->fallback_timeout_ms, 1000);
	ck_assert_uint_eq(cf->blackhole_min_ms, 60000);
	ck_assert_uint_eq(cf->blackhole_max_ms, 3600000);
	ck_assert_uint_eq(cf->cache_ttl_ms, 300000);
	ck_assert_uint_eq(cf->nvips, 1);
	v = &cf->vips[0];
	ck_assert_addr(v->addr, "2001:db8:f::100");
	ck_assert_uint_eq(v->nports, 3);
	ck_assert_uint_eq(v->ports[0], 80);
	ck_assert_uint_eq(v->ports[1], 443);
	ck_assert_uint_eq(v->ports[2], 21);
	ck_assert_uint_eq(v->nallow, 1);
	ck_assert_addr(v->allow[0].addr, "2001:db8:5::");
	ck_assert_uint_eq(v->allow[0].len, 64);
	ck_assert_uint_eq(v->nservers, 0);
	ck_assert_int_eq(v->check.type, SP_CONF_CHECK_NONE);
}
END_TEST

START_TEST(example_server)
{
	ck_assert_str_eq(parse_file(EXAMPLES_DIR, "server.conf") == 0 ?
	    "" : errs_text(), "");
	ck_assert_uint_eq(cf->roles, SP_CONF_ROLE_SERVER);
	ck_assert_uint_eq(cf->queue_first, 1);
	ck_assert_uint_eq(cf->queue_count, 1);
	/* Commented out: the file is the same on every server. */
	ck_assert(!cf->has_server_address);
	ck_assert_uint_eq(cf->timeout_tcp_established_ms, 7200000);
	ck_assert_uint_eq(cf->timeout_tcp_ms, 120000);
	ck_assert_uint_eq(cf->timeout_udp_ms, 60000);
	ck_assert_uint_eq(cf->max_flows, 65536);
	ck_assert_uint_eq(cf->nvips, 0);
}
END_TEST

START_TEST(example_balancer)
{
	const struct sp_conf_vip *v;
	const struct sp_conf_server *s;

	ck_assert_str_eq(parse_file(EXAMPLES_DIR, "balancer.conf") == 0 ?
	    "" : errs_text(), "");
	ck_assert_uint_eq(cf->roles, SP_CONF_ROLE_BALANCER);
	ck_assert_uint_eq(cf->queue_first, 2);
	ck_assert_uint_eq(cf->stick_ttl_ms, 30 * 60 * 1000);
	ck_assert_uint_eq(cf->stick_prefix, 128);
	ck_assert_uint_eq(cf->max_stick, 65536);
	ck_assert_uint_eq(cf->max_flows_per_source, 1024);
	ck_assert_uint_eq(cf->nvips, 1);
	v = &cf->vips[0];
	ck_assert_addr(v->addr, "2001:db8:f::100");
	ck_assert_int_eq(v->scheduler, SP_CONF_SCHED_WLC);
	ck_assert_uint_eq(v->nports, 3);
	ck_assert_uint_eq(v->nservers, 3);
	s = v->servers;
	ck_assert_addr(s[0].addr, "2001:db8:5::1");
	ck_assert_addr(s[1].addr, "2001:db8:5::2");
	ck_assert_addr(s[2].addr, "2001:db8:5::3");
	ck_assert_uint_eq(s[0].weight, 1);
	ck_assert_uint_eq(s[1].weight, 3);
	ck_assert_uint_eq(s[2].weight, 2);
	ck_assert(!s[0].has_backup);
	ck_assert(s[1].has_backup);
	ck_assert_addr(s[1].backup, "2001:db8:5::3");
	ck_assert(!s[2].has_backup);
	ck_assert(!s[0].drain && !s[1].drain && !s[2].drain);
	ck_assert_int_eq(v->check.type, SP_CONF_CHECK_TCP);
	ck_assert_uint_eq(v->check.port, 80);
	ck_assert_uint_eq(v->check.interval_ms, 2000);
	ck_assert_uint_eq(v->check.timeout_ms, 1000);
	ck_assert_uint_eq(v->check.rise, 2);
	ck_assert_uint_eq(v->check.fall, 3);
	ck_assert_uint_eq(v->nsession_weights, 2);
	ck_assert_uint_eq(v->session_weights[0].port, 21);
	ck_assert_uint_eq(v->session_weights[0].weight, 5);
	ck_assert_uint_eq(v->session_weights[1].port, 23);
	ck_assert_uint_eq(v->session_weights[1].weight, 1);
	ck_assert_uint_eq(v->passive_timeout_ms, 0);	/* commented out */
	ck_assert_uint_eq(v->dead_retry_ms, 60000);
}
END_TEST

START_TEST(good_full)
{
	static const uint8_t key[16] = {
		0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
		0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0xde, 0xef,
	};
	const struct sp_conf_vip *v;
	const struct sp_conf_server *s;

	ck_assert_str_eq(parse_file(CONF_DIR, "good-full.conf") == 0 ?
	    "" : errs_text(), "");
	ck_assert_uint_eq(cf->roles, SP_CONF_ROLE_CLIENT |
	    SP_CONF_ROLE_SERVER | SP_CONF_ROLE_BALANCER);
	ck_assert_uint_eq(cf->queue_first, 3);
	ck_assert_uint_eq(cf->queue_count, 3);
	ck_assert_uint_eq(cf->option_type, 0x3e);
	ck_assert_int_eq(cf->rules, SP_CONF_RULES_NONE);
	ck_assert_str_eq(cf->user, "lbsp-test");
	ck_assert_str_eq(cf->control_socket, "/tmp/lbsp.sock");
	ck_assert_int_eq(cf->identity, SP_CONF_IDENTITY_LITERAL);
	ck_assert_addr(cf->identity_addr, "2001:db8:1::42");
	ck_assert_uint_eq(cf->identity_rotate_ms, 3600000);
	ck_assert(!cf->redirect);
	ck_assert(!cf->mss_clamp);
	ck_assert(!cf->gso);
	ck_assert_int_eq(cf->datapath, SP_CONF_DATAPATH_NFQUEUE);
	ck_assert_uint_eq(cf->agent_port, 4739);
	ck_assert_addr(cf->metrics_addr, "2001:db8:b::1");
	ck_assert_uint_eq(cf->metrics_port, 9750);
	ck_assert_uint_eq(cf->mtu, 9000);
	ck_assert(cf->flowlabel_strict);
	ck_assert(cf->has_server_address);
	ck_assert_addr(cf->server_address, "2001:db8:5::7");
	ck_assert_uint_eq(cf->cache_ttl_ms, 90000);
	ck_assert_uint_eq(cf->stick_ttl_ms, 45 * 60000);
	ck_assert_uint_eq(cf->fallback_timeout_ms, 500);
	ck_assert_uint_eq(cf->blackhole_min_ms, 5000);
	ck_assert_uint_eq(cf->blackhole_max_ms, 120000);
	ck_assert_uint_eq(cf->stick_prefix, 64);
	ck_assert_uint_eq(cf->timeout_tcp_established_ms, 3600000);
	ck_assert_uint_eq(cf->timeout_tcp_ms, 30000);
	ck_assert_uint_eq(cf->timeout_udp_ms, 20000);
	ck_assert_uint_eq(cf->timeout_other_ms, 15000);
	ck_assert_uint_eq(cf->timeout_linger_ms, 250);
	ck_assert_uint_eq(cf->max_flows, 1000);
	ck_assert_uint_eq(cf->max_stick, 2000);
	ck_assert_uint_eq(cf->max_cache, 300);
	ck_assert_uint_eq(cf->max_flows_per_source, 40);
	ck_assert(cf->has_hash_key);
	ck_assert_mem_eq(cf->hash_key, key, 16);

	ck_assert_uint_eq(cf->nvips, 3);
	v = &cf->vips[0];
	ck_assert_addr(v->addr, "2001:db8:f::100");
	ck_assert_uint_eq(v->nports, 3);
	ck_assert_uint_eq(v->ports[0], 443);
	ck_assert_uint_eq(v->ports[1], 80);
	ck_assert_uint_eq(v->ports[2], 21);
	ck_assert_uint_eq(v->nallow, 3);
	ck_assert_addr(v->allow[0].addr, "2001:db8:5::");
	ck_assert_uint_eq(v->allow[0].len, 64);
	ck_assert_addr(v->allow[1].addr, "2001:db8:6::");
	ck_assert_uint_eq(v->allow[1].len, 48);
	ck_assert_addr(v->allow[2].addr, "2001:db8:7::1");
	ck_assert_uint_eq(v->allow[2].len, 128);
	ck_assert_int_eq(v->scheduler, SP_CONF_SCHED_MAGLEV);
	ck_assert_uint_eq(v->nservers, 3);
	s = v->servers;
	ck_assert_addr(s[0].addr, "2001:db8:5::1");
	ck_assert_uint_eq(s[0].weight, 1);
	ck_assert_uint_eq(s[0].cost, 0);
	ck_assert(!s[0].has_backup);
	ck_assert(!s[0].drain);
	ck_assert_uint_eq(s[1].weight, 3);
	ck_assert_uint_eq(s[1].cost, 7);
	ck_assert(s[1].has_backup);
	ck_assert_addr(s[1].backup, "2001:db8:5::3");
	ck_assert(!s[1].drain);
	ck_assert_addr(s[2].addr, "2001:db8:5::3");
	ck_assert_uint_eq(s[2].weight, 1000);
	ck_assert_uint_eq(s[2].cost, 65535);
	ck_assert(s[2].drain);
	ck_assert_int_eq(v->check.type, SP_CONF_CHECK_HTTP);
	ck_assert_uint_eq(v->check.port, 443);	/* first of the ports */
	ck_assert_uint_eq(v->check.interval_ms, 5000);
	ck_assert_uint_eq(v->check.timeout_ms, 5000);
	ck_assert_uint_eq(v->check.rise, 1);
	ck_assert_uint_eq(v->check.fall, 255);
	ck_assert_str_eq(v->check.path, "/health");
	ck_assert_uint_eq(v->check.expect, 204);
	ck_assert_uint_eq(v->nsession_weights, 2);
	ck_assert_uint_eq(v->session_weights[0].port, 21);
	ck_assert_uint_eq(v->session_weights[0].weight, 5);
	ck_assert_uint_eq(v->session_weights[1].port, 23);
	ck_assert_uint_eq(v->session_weights[1].weight, 1);
	ck_assert_uint_eq(v->passive_timeout_ms, 10000);
	ck_assert_uint_eq(v->dead_retry_ms, 120000);
	ck_assert_uint_eq(v->window_ms, 30000);

	v = &cf->vips[1];	/* an empty block: all defaults */
	ck_assert_addr(v->addr, "2001:db8:f::200");
	ck_assert_uint_eq(v->nports, 0);
	ck_assert_uint_eq(v->nservers, 0);
	ck_assert_int_eq(v->scheduler, SP_CONF_SCHED_RR);
	ck_assert_uint_eq(v->check.port, 80);	/* no ports: 80 */

	v = &cf->vips[2];
	ck_assert_int_eq(v->scheduler, SP_CONF_SCHED_WRR);
	ck_assert_int_eq(v->check.type, SP_CONF_CHECK_ICMP);
	ck_assert_uint_eq(v->check.port, 8080);
	ck_assert_uint_eq(v->check.interval_ms, 1000);
	ck_assert_uint_eq(v->check.timeout_ms, 1000);
	ck_assert_str_eq(v->check.path, "/");
	ck_assert_uint_eq(v->check.expect, 200);
}
END_TEST

/* Every default, spelled out, and the struct equal to a built one. */
START_TEST(defaults)
{
	struct sp_conf *want;
	const struct sp_conf_vip *v;
	uint8_t a[16];

	ck_assert_int_eq(parse_file(CONF_DIR, "good-defaults.conf"), 0);
	ck_assert_uint_eq(cf->roles, SP_CONF_ROLE_SERVER);
	ck_assert_uint_eq(cf->queue_first, 0);
	ck_assert_uint_eq(cf->queue_count, 1);
	ck_assert_uint_eq(cf->option_type, 0x1e);
	ck_assert_int_eq(cf->rules, SP_CONF_RULES_INSTALL);
	ck_assert_str_eq(cf->user, "");
	ck_assert_str_eq(cf->control_socket, "/run/lbsp/lbspd.sock");
	ck_assert_int_eq(cf->identity, SP_CONF_IDENTITY_ADDRESS);
	ck_assert_uint_eq(cf->identity_rotate_ms, 0);
	ck_assert(cf->redirect);
	ck_assert(cf->mss_clamp);
	ck_assert(!cf->flowlabel_strict);
	ck_assert_uint_eq(cf->mtu, 1500);
	ck_assert(!cf->has_server_address);
	ck_assert_uint_eq(cf->cache_ttl_ms, 300000);
	ck_assert_uint_eq(cf->stick_ttl_ms, 1800000);
	ck_assert_uint_eq(cf->syn_rate, 5000);
	ck_assert_uint_eq(cf->fallback_timeout_ms, 1000);
	ck_assert_uint_eq(cf->stick_prefix, 128);
	ck_assert_uint_eq(cf->timeout_tcp_established_ms, 7200000);
	ck_assert_uint_eq(cf->timeout_tcp_ms, 120000);
	ck_assert_uint_eq(cf->timeout_udp_ms, 60000);
	ck_assert_uint_eq(cf->timeout_other_ms, 60000);
	ck_assert_uint_eq(cf->timeout_linger_ms, 10000);
	ck_assert_uint_eq(cf->max_flows, 65536);
	ck_assert_uint_eq(cf->max_stick, 65536);
	ck_assert_uint_eq(cf->max_cache, 4096);
	ck_assert_uint_eq(cf->max_flows_per_source, 0);
	ck_assert(!cf->has_hash_key);
	ck_assert_uint_eq(cf->nvips, 1);
	v = &cf->vips[0];
	ck_assert_int_eq(v->scheduler, SP_CONF_SCHED_RR);
	ck_assert_uint_eq(v->nports, 0);
	ck_assert_uint_eq(v->nallow, 0);
	ck_assert_uint_eq(v->nservers, 0);
	ck_assert_uint_eq(v->nsession_weights, 0);
	ck_assert_int_eq(v->check.type, SP_CONF_CHECK_NONE);
	ck_assert_uint_eq(v->check.port, 80);
	ck_assert_uint_eq(v->check.interval_ms, 2000);
	ck_assert_uint_eq(v->check.timeout_ms, 1000);
	ck_assert_uint_eq(v->check.rise, 2);
	ck_assert_uint_eq(v->check.fall, 3);
	ck_assert_str_eq(v->check.path, "/");
	ck_assert_uint_eq(v->check.expect, 200);
	ck_assert_uint_eq(v->passive_timeout_ms, 0);
	ck_assert_uint_eq(v->dead_retry_ms, 60000);
	ck_assert_uint_eq(v->window_ms, 10000);

	/* Byte for byte what the defaults functions build. */
	want = sp_conf_new();
	ck_assert_ptr_nonnull(want);
	want->roles = SP_CONF_ROLE_SERVER;
	addr("2001:db8:f::1", a);
	ck_assert_ptr_nonnull(sp_conf_vip_add(want, a));
	ck_assert(conf_equal(want, cf));
	sp_conf_free(want);
}
END_TEST

/*
 * The whole struct is zeroed first: two parses compare equal, also when
 * one of them reuses a configuration that held another file.
 */
START_TEST(memcmp_stable)
{
	struct sp_conf *other = sp_conf_new();
	size_t len, len2;
	char *text = slurp(CONF_DIR "/good-full.conf", &len);
	char *text2 = slurp(CONF_DIR "/design-sample.conf", &len2);

	ck_assert_ptr_nonnull(other);
	ck_assert_int_eq(sp_conf_parse(text2, len2, "a", cf, NULL, NULL), 0);
	ck_assert(!conf_equal(cf, other));
	ck_assert_int_eq(sp_conf_parse(text, len, "a", cf, NULL, NULL), 0);
	ck_assert_int_eq(sp_conf_parse(text, len, "b", other, NULL, NULL), 0);
	ck_assert(conf_equal(cf, other));
	sp_conf_free(other);
	free(text2);
	free(text);
}
END_TEST

/*
 * A server address in two vips that share a port: one warning, at the
 * later server line (lbsp(7): one address per vip); none for vips with
 * no port in common; where lines are is not what the vips hold.
 */
START_TEST(shared_server)
{
	static const char text[] =
	    "role balancer\n"
	    "vip 2001:db8:f::1 {\n ports 80 443\n server 2001:db8:5::1\n}\n"
	    "vip 2001:db8:f::2 {\n ports 22\n server 2001:db8:5::1\n}\n"
	    "vip 2001:db8:f::3 {\n server 2001:db8:5::2\n"
	    " server 2001:db8:5::1\n}\n";
	struct sp_conf *other = sp_conf_new();
	char *moved;

	ck_assert_ptr_nonnull(other);
	ck_assert_int_eq(parse_str(text), 0);
	errs_reset();
	ck_assert_uint_eq(sp_conf_warnings(cf, "t", collect, &er), 1);
	ck_assert_str_eq(errs_text(), "t:12: server 2001:db8:5::1 is in vip "
	    "2001:db8:f::1 (line 4) and vip 2001:db8:f::3, both on port 80 "
	    "(and 1 more): a client's connections to the two from one local "
	    "port would be one 4-tuple on that server; give it one address "
	    "per vip (lbsp(7))\n");
	/* A comment line more: other lines, the same vips. */
	moved = malloc(sizeof(text) + 2);
	ck_assert_ptr_nonnull(moved);
	memcpy(moved, "#\n", 2);
	memcpy(moved + 2, text, sizeof(text));
	ck_assert_int_eq(sp_conf_parse(moved, strlen(moved), "t", other,
	    NULL, NULL), 0);
	ck_assert(conf_equal(cf, other));
	free(moved);
	sp_conf_free(other);
}
END_TEST

/* CR LF line ends give exactly the struct LF ones give. */
START_TEST(crlf)
{
	struct sp_conf *lf = sp_conf_new();
	char *text, *dos;
	size_t len, i, n = 0;

	ck_assert_ptr_nonnull(lf);
	text = slurp(CONF_DIR "/good-full.conf", &len);
	dos = malloc(2 * len);
	ck_assert_ptr_nonnull(dos);
	for (i = 0; i < len; i++) {
		if (text[i] == '\n')
			dos[n++] = '\r';
		dos[n++] = text[i];
	}
	ck_assert_uint_gt(n, len);
	ck_assert_int_eq(sp_conf_parse(text, len, "t", lf, NULL, NULL), 0);
	ck_assert_str_eq(parse_mem(dos, n, "t") == 0 ? "" : errs_text(), "");
	ck_assert(conf_equal(lf, cf));

	/* A CR anywhere else is not a line end. */
	ck_assert_int_eq(parse_str("role server\r\nmtu 1500\rmtu 1400\n"), 1);
	ck_assert_str_eq(errs_text(), "t:2: invalid byte 0x0d\n");
	free(dos);
	free(text);
	sp_conf_free(lf);
}
END_TEST

static const struct {
	const char *text;
	uint32_t ms;
} durations[] = {
	{ "7", 7000 },
	{ "500ms", 500 },
	{ "3s", 3000 },
	{ "5m", 300000 },
	{ "2h", 7200000 },
	{ "0009", 9000 },
	{ "4294967295ms", 4294967295u },
	{ "4294967s", 4294967000u },
	{ "71582m", 71582u * 60000 },
	{ "1193h", 1193u * 3600000 },
	{ "0.5", 500 },
	{ "0.5s", 500 },
	{ "1.25", 1250 },
	{ "0.001", 1 },
	{ "1.5m", 90000 },
	{ "0.25h", 900000 },
	{ "2.0ms", 2 },
};

/* The keywords of a balancer group: announce and nat-source. */
START_TEST(cluster_keywords)
{
	ck_assert_str_eq(parse_str("role balancer\nannounce lbsp0\n"
	    "nat-source 2001:db8:e::1\nvip 2001:db8:f::100 {\n"
	    "server 2001:db8:5::1\n}\n") == 0 ? "" : errs_text(), "");
	ck_assert_str_eq(cf->announce, "lbsp0");
	ck_assert(cf->has_nat_source);
	ck_assert_addr(cf->nat_source, "2001:db8:e::1");
	ck_assert_str_eq(parse_str("role server\n") == 0 ? "" : errs_text(),
	    "");
	ck_assert_str_eq(cf->announce, "");
	ck_assert(!cf->has_nat_source);
}
END_TEST

START_TEST(duration)
{
	char text[128];
	size_t i;

	for (i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		snprintf(text, sizeof(text), "role server\ncache-ttl %s\n",
		    durations[i].text);
		ck_assert_str_eq(parse_str(text) == 0 ? "" : errs_text(), "");
		ck_assert_msg(cf->cache_ttl_ms == durations[i].ms,
		    "'%s': %u ms, want %u", durations[i].text,
		    (unsigned)cf->cache_ttl_ms, (unsigned)durations[i].ms);
	}
}
END_TEST

/* Values at the edges of their ranges are accepted. */
START_TEST(edges)
{
	ck_assert_str_eq(parse_str(
	    "role server\n"
	    "queue 65535\n"
	    "option-type 255\n"
	    "mtu 1280\n"
	    "stick-prefix 0\n"
	    "max-flows 16777216\n"
	    "max-stick 1\n"
	    "syn-rate 10000\n"
	    "identity-rotate 0\n"
	    "user _a.b-c\n"
	    "vip ::1 {\n"
	    "  ports 1 65535\n"
	    "  allow-servers ::/0 2001:db8::/32\n"
	    "  server 2001:db8::1 weight 1000 cost 0\n"
	    "  check tcp port 65535 interval 4294967295ms timeout 1ms\n"
	    "  session-weight 65535 1000\n"
	    "  passive-timeout 0\n"
	    "}\n") == 0 ? "" : errs_text(), "");
	ck_assert_uint_eq(cf->queue_first, 65535);
	ck_assert_uint_eq(cf->queue_count, 1);
	ck_assert_uint_eq(cf->option_type, 255);
	ck_assert_uint_eq(cf->mtu, 1280);
	ck_assert_uint_eq(cf->stick_prefix, 0);
	ck_assert_uint_eq(cf->max_flows, 16777216);
	ck_assert_uint_eq(cf->max_stick, 1);
	ck_assert_uint_eq(cf->syn_rate, 10000);
	ck_assert_str_eq(cf->user, "_a.b-c");
	ck_assert_uint_eq(cf->vips[0].allow[0].len, 0);
	ck_assert_uint_eq(cf->vips[0].check.interval_ms, 4294967295u);
	ck_assert_uint_eq(cf->vips[0].check.timeout_ms, 1);
	ck_assert_uint_eq(cf->vips[0].check.port, 65535);
	ck_assert_uint_eq(cf->vips[0].session_weights[0].port, 65535);

	ck_assert_int_eq(parse_str("role server\nqueue 0-15\noption-type "
	    "0x1E\n"), 0);
	ck_assert_uint_eq(cf->queue_first, 0);
	ck_assert_uint_eq(cf->queue_count, 16);
	ck_assert_uint_eq(cf->option_type, 0x1e);
	ck_assert_int_eq(parse_str("role server\nidentity random\n"
	    "option-type 30\n"), 0);
	ck_assert_int_eq(cf->identity, SP_CONF_IDENTITY_RANDOM);
	ck_assert_uint_eq(cf->option_type, 30);
}
END_TEST

/* ---------------------------------------------------- bad configs */

START_TEST(bad_many)
{
	size_t len;
	char *want = slurp(CONF_DIR "/bad-many.err", &len);
	const char *c;
	int lines = 0;

	for (c = want; *c != '\0'; c++)
		lines += *c == '\n';
	ck_assert_int_gt(lines, 30);
	ck_assert_int_eq(parse_file(CONF_DIR, "bad-many.conf"), lines);
	ck_assert_str_eq(errs_text(), want);
	free(want);
}
END_TEST

/* One mistake each: the exact list of errors it gives. */
static const struct {
	const char *text;
	const char *errs;
} bad[] = {
	/* Roles and the whole-file checks. */
	{ "", "t:0: no role given\n" },
	{ "# nothing\n", "t:1: no role given\n" },
	{ "\n\nmtu 1500\n", "t:1: no role given\n" },
	{ "role\n", "t:1: role: missing argument\nt:1: no role given\n" },
	{ "role balancer\n",
	  "t:1: role 'balancer' needs a vip with a server\n" },
	{ "role server\nrole balancer\nvip 2001:db8:f::1 {\n}\n",
	  "t:2: role 'balancer' needs a vip with a server\n" },
	{ "role client\n", "t:1: role 'client' needs a vip\n" },
	{ "role server clients\n",
	  "t:1: role: unknown value 'clients' (expected client, server or "
	  "balancer)\n" },
	/* Words. */
	{ "role server\nfoo bar\n", "t:2: unknown keyword 'foo'\n" },
	{ "role server\nMTU 1500\n", "t:2: unknown keyword 'MTU'\n" },
	{ "role server\nmtu\n", "t:2: mtu: missing argument\n" },
	{ "role server\nmtu # 1500\n", "t:2: mtu: missing argument\n" },
	{ "role server\nmtu 1500 1600\n",
	  "t:2: mtu: extra argument '1600'\n" },
	{ "role server\nmtu 1500\nmtu 1500\n",
	  "t:3: duplicate 'mtu' (first at line 2)\n" },
	{ "role server\nmtu 1279\n",
	  "t:2: mtu: '1279' out of range (1280..65535)\n" },
	{ "role server\nmtu 99999999999999999999\n",
	  "t:2: mtu: '99999999999999999999' out of range (1280..65535)\n" },
	{ "role server\nmtu +1500\n", "t:2: mtu: '+1500' is not a number\n" },
	{ "role server\nmtu 1500b\n", "t:2: mtu: '1500b' is not a number\n" },
	/* option-type. */
	{ "role server\noption-type 0\n",
	  "t:2: option-type: '0' is Pad1, a padding type\n" },
	{ "role server\noption-type 1\n",
	  "t:2: option-type: '1' is PadN, a padding type\n" },
	{ "role server\noption-type 0x01\n",
	  "t:2: option-type: '0x01' is PadN, a padding type\n" },
	{ "role server\noption-type 256\n",
	  "t:2: option-type: '256' out of range (2..255)\n" },
	{ "role server\noption-type 0x100\n",
	  "t:2: option-type: '0x100' out of range (2..255)\n" },
	{ "role server\noption-type 0x\n",
	  "t:2: option-type: '0x' is not a number\n" },
	{ "role server\noption-type 0x1g\n",
	  "t:2: option-type: '0x1g' is not a number\n" },
	/* queue. */
	{ "role server\nqueue 0-16\n",
	  "t:2: queue: '0-16' is too many queues (limit 16)\n" },
	{ "role server\nqueue 5-4\n",
	  "t:2: queue: '5-4' ends before it starts\n" },
	{ "role server\nqueue 65536\n",
	  "t:2: queue: '65536' out of range (0..65535)\n" },
	{ "role server\nqueue 1-\n", "t:2: queue: '' is not a number\n" },
	{ "role server\nqueue a-b\n",
	  "t:2: queue: 'a' is not a number\nt:2: queue: 'b' is not a "
	  "number\n" },
	/* Enumerations. */
	{ "role server\nrules yes\n",
	  "t:2: rules: unknown value 'yes' (expected install or none)\n" },
	{ "role server\ndatapath ebpf\n",
	  "t:2: datapath: unknown value 'ebpf' (expected auto, tc or "
	  "nfqueue)\n" },
	{ "role server\nredirect yes\n",
	  "t:2: redirect: unknown value 'yes' (expected on or off)\n" },
	{ "role server\nmss-clamp ON\n",
	  "t:2: mss-clamp: unknown value 'ON' (expected on or off)\n" },
	{ "role server\nflowlabel-strict 1\n",
	  "t:2: flowlabel-strict: unknown value '1' (expected on or off)\n" },
	/* user, control-socket. */
	{ "role server\nuser a/b\n",
	  "t:2: user: 'a/b' is not a valid user name\n" },
	{ "role server\nuser -x\n",
	  "t:2: user: '-x' is not a valid user name\n" },
	{ "role server\nuser abcdefghijabcdefghijabcdefghijab\n",
	  "t:2: user: 'abcdefghijabcdefghijabcdefghijab' is too long "
	  "(limit 31 bytes)\n" },
	{ "role server\ncontrol-socket run/lbsp.sock\n",
	  "t:2: control-socket: 'run/lbsp.sock' is not an absolute path\n" },
	{ "role server\ncontrol-socket /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaa\n",
	  "t:2: control-socket: '/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "a' is too long (limit 107 bytes)\n" },
	/* identity, addresses. */
	{ "role client\nidentity ::\nvip 2001:db8:f::1 {\n}\n",
	  "t:2: identity: '::' is the unspecified address\n" },
	{ "role server\nidentity 0::0\n",
	  "t:2: identity: '0::0' is the unspecified address\n" },
	{ "role server\nidentity ff02::1\n",
	  "t:2: identity: 'ff02::1' is a multicast address\n" },
	{ "role server\nidentity anonymous\n",
	  "t:2: identity: unknown value 'anonymous' (expected address, "
	  "random or an ipv6 address)\n" },
	{ "role server\nidentity 2001:db8::g\n",
	  "t:2: identity: '2001:db8::g' is not an ipv6 address\n" },
	{ "role server\nserver-address 192.0.2.1\n",
	  "t:2: server-address: '192.0.2.1' is not an ipv6 address\n" },
	{ "role server\nserver-address fe80::1%eth0\n",
	  "t:2: server-address: 'fe80::1%eth0' is not an ipv6 address\n" },
	/* Durations. */
	{ "role server\ncache-ttl 0\n",
	  "t:2: cache-ttl: '0' must be more than 0\n" },
	{ "role server\nstick-ttl 0ms\n",
	  "t:2: stick-ttl: '0ms' must be more than 0\n" },
	{ "role server\ncache-ttl 5d\n",
	  "t:2: cache-ttl: '5d' is not a duration (e.g. 500ms, 0.5, 3s, 5m, 1h)\n" },
	{ "role server\nfallback-timeout -1s\n",
	  "t:2: fallback-timeout: '-1s' is not a duration (e.g. 500ms, 0.5, 3s, "
	  "5m, 1h)\n" },
	{ "role server\nfallback-timeout ms\n",
	  "t:2: fallback-timeout: 'ms' is not a duration (e.g. 500ms, 0.5, 3s, "
	  "5m, 1h)\n" },
	{ "role server\nsyn-rate 10001\n",
	  "t:2: syn-rate: '10001' out of range (0..10000)\n" },
	{ "role server\nfallback-timeout 0.5ms\n",
	  "t:2: fallback-timeout: '0.5ms' is not a whole number of "
	  "milliseconds\n" },
	{ "role server\nfallback-timeout 1.2345\n",
	  "t:2: fallback-timeout: '1.2345' is not a duration (e.g. 500ms, 0.5, "
	  "3s, 5m, 1h)\n" },
	{ "role server\nfallback-timeout 1.\n",
	  "t:2: fallback-timeout: '1.' is not a duration (e.g. 500ms, 0.5, "
	  "3s, 5m, 1h)\n" },
	{ "role server\nfallback-timeout 0.000\n",
	  "t:2: fallback-timeout: '0.000' must be more than 0\n" },
	{ "role server\nblackhole-timeout 60s\n",
	  "t:2: blackhole-timeout: missing argument\n" },
	{ "role server\nblackhole-timeout 60s 1h 2h\n",
	  "t:2: blackhole-timeout: extra argument '2h'\n" },
	{ "role server\nblackhole-timeout 0 1h\n",
	  "t:2: blackhole-timeout: '0' must be more than 0\n" },
	{ "role server\nblackhole-timeout 60s forever\n",
	  "t:2: blackhole-timeout: 'forever' is not a duration (e.g. 500ms, "
	  "0.5, 3s, 5m, 1h)\n" },
	{ "role server\nblackhole-timeout 1h 60s\n",
	  "t:2: blackhole-timeout: maximum '60s' is less than the minimum "
	  "'1h'\n" },
	{ "role server\ncache-ttl 5 ms\n",
	  "t:2: cache-ttl: extra argument 'ms'\n" },
	{ "role server\ncache-ttl 4294968s\n",
	  "t:2: cache-ttl: '4294968s' is too long (max 4294967295ms)\n" },
	{ "role server\ncache-ttl 4294967296ms\n",
	  "t:2: cache-ttl: '4294967296ms' is too long (max 4294967295ms)\n" },
	{ "role server\nidentity-rotate 1194h\n",
	  "t:2: identity-rotate: '1194h' is too long (max 4294967295ms)\n" },
	{ "role server\nstick-prefix 129\n",
	  "t:2: stick-prefix: '129' out of range (0..128)\n" },
	/* timeout. */
	{ "role server\ntimeout\n", "t:2: timeout: missing argument\n" },
	{ "role server\ntimeout tcp\n",
	  "t:2: timeout tcp: missing argument\n" },
	{ "role server\ntimeout tcp 5 6\n",
	  "t:2: timeout tcp: extra argument '6'\n" },
	{ "role server\ntimeout tcp-syn 5\n",
	  "t:2: timeout: unknown value 'tcp-syn' (expected tcp-established, "
	  "tcp, udp, other or linger)\n" },
	{ "role server\ntimeout linger 0\n",
	  "t:2: timeout linger: '0' must be more than 0\n" },
	{ "role server\ntimeout other 5\ntimeout udp 5\ntimeout other 6\n",
	  "t:4: duplicate 'timeout other' (first at line 2)\n" },
	/* Table sizes, hash key. */
	{ "role server\nmax-flows 0\n",
	  "t:2: max-flows: '0' out of range (1..16777216)\n" },
	{ "role server\nmax-cache 16777217\n",
	  "t:2: max-cache: '16777217' out of range (1..16777216)\n" },
	{ "role server\nmax-flows-per-source x\n",
	  "t:2: max-flows-per-source: 'x' is not a number\n" },
	{ "role server\nhash-key 000102030405060708090a0b0c0d0e0\n",
	  "t:2: hash-key: '000102030405060708090a0b0c0d0e0' is not 32 hex "
	  "digits\n" },
	{ "role server\nhash-key 000102030405060708090a0b0c0d0e0f0\n",
	  "t:2: hash-key: '000102030405060708090a0b0c0d0e0f0' is not 32 hex "
	  "digits\n" },
	{ "role server\nhash-key 000102030405060708090a0b0c0d0e0g\n",
	  "t:2: hash-key: '000102030405060708090a0b0c0d0e0g' is not 32 hex "
	  "digits\n" },
	/* Several balancers (lbsp(7), "Scaling out"). */
	{ "role server\nannounce lbsp/0\n",
	  "t:2: announce: 'lbsp/0' is not a valid interface name\n" },
	{ "role server\nannounce lbsp0123456789ab\n",
	  "t:2: announce: 'lbsp0123456789ab' is too long (limit 15 bytes)\n" },
	{ "role server\nannounce\n", "t:2: announce: missing argument\n" },
	{ "role server\nnat-source lb1\n",
	  "t:2: nat-source: 'lb1' is not an ipv6 address\n" },
	{ "role server\nnat-source ::\n",
	  "t:2: nat-source: '::' is the unspecified address\n" },
	/* Blocks. */
	{ "role server\n}\n", "t:2: '}' without a block\n" },
	{ "role server\nvip 2001:db8:f::1 {\n} x\n}\n",
	  "t:3: '}': extra argument 'x'\nt:4: '}' without a block\n" },
	{ "role server\n\nvip 2001:db8:f::1 {\nports 80\n",
	  "t:3: vip: missing '}' before end of file\n" },
	{ "role server\nvip 2001:db8:f::1\nports 80\n}\n",
	  "t:2: vip: missing '{' at end of line\n" },
	{ "role server\nvip 2001:db8:f::1\n{\nports 80\n}\n",
	  "t:2: vip: missing '{' at end of line\n" },
	{ "role server\nvip 2001:db8:f::1 { ports 80 }\n",
	  "t:2: vip: '{' must end the line\n" },
	{ "role server\nvip {\n}\n", "t:2: vip: missing argument\n" },
	{ "role server\nvip 2001:db8:f::1 2001:db8:f::2 {\n}\n",
	  "t:2: vip: extra argument '2001:db8:f::2'\n" },
	{ "role server\nvip 2001:db8:f::/64 {\n}\n",
	  "t:2: vip: '2001:db8:f::/64' is not an ipv6 address\n" },
	{ "role server\nvip ff05::1 {\n}\n",
	  "t:2: vip: 'ff05::1' is a multicast address\n" },
	{ "role server\nvip 2001:db8:f::1 {\n}\nvip 2001:DB8:F:0::1 {\n}\n",
	  "t:4: vip: duplicate '2001:DB8:F:0::1' (first at line 2)\n" },
	{ "role server\nvip 2001:db8:f::1 {\nvip 2001:db8:f::2 {\n"
	  "ports 0\nvip 2001:db8:f::3 {\n}\n}\nports 80\n}\n",
	  "t:3: 'vip' inside a vip block: blocks do not nest\n" },
	{ "role server\nports 80\n",
	  "t:2: 'ports' is only allowed inside a vip block\n" },
	{ "role server\nvip 2001:db8:f::1 {\nrole client\n}\n",
	  "t:3: 'role' is not allowed inside a vip block\n" },
	{ "role server\n{\n", "t:2: unknown keyword '{'\n" },
	/* Errors inside a block that is not kept are still reported. */
	{ "role server\nvip nowhere {\nports 0\n}\n",
	  "t:2: vip: 'nowhere' is not an ipv6 address\n"
	  "t:3: ports: '0' out of range (1..65535)\n" },
	/* ports. */
	{ "role server\nvip ::1 {\nports 80 21\nports 80\n}\n",
	  "t:4: ports: duplicate '80'\n" },
	{ "role server\nvip ::1 {\nports 0 65536 http\n}\n",
	  "t:3: ports: '0' out of range (1..65535)\n"
	  "t:3: ports: '65536' out of range (1..65535)\n"
	  "t:3: ports: 'http' is not a number\n" },
	{ "role server\nvip ::1 {\nports\n}\n",
	  "t:3: ports: missing argument\n" },
	/* allow-servers. */
	{ "role server\nvip ::1 {\nallow-servers 2001:db8:5::\n}\n",
	  "t:3: allow-servers: '2001:db8:5::' is not a prefix "
	  "(address/length)\n" },
	{ "role server\nvip ::1 {\nallow-servers 2001:db8:5::1/64\n}\n",
	  "t:3: allow-servers: '2001:db8:5::1/64' has host bits set\n" },
	{ "role server\nvip ::1 {\nallow-servers 2001:db8:8000::/16\n}\n",
	  "t:3: allow-servers: '2001:db8:8000::/16' has host bits set\n" },
	{ "role server\nvip ::1 {\nallow-servers 2001:db8:8000::/32\n}\n",
	  "t:3: allow-servers: '2001:db8:8000::/32' has host bits set\n" },
	{ "role server\nvip ::1 {\nallow-servers 2001:db8::/129\n}\n",
	  "t:3: allow-servers: '129' out of range (0..128)\n" },
	{ "role server\nvip ::1 {\nallow-servers 2001:db8::/\n}\n",
	  "t:3: allow-servers: '' is not a number\n" },
	{ "role server\nvip ::1 {\nallow-servers x/64\n}\n",
	  "t:3: allow-servers: 'x/64' is not an ipv6 prefix\n" },
	{ "role server\nvip ::1 {\nallow-servers 2001:db8::/32 "
	  "2001:db8:0::/32\n}\n",
	  "t:3: allow-servers: duplicate '2001:db8:0::/32'\n" },
	/* metrics-listen. */
	{ "role server\nmetrics-listen 2001:db8::1\n",
	  "t:2: metrics-listen: missing argument\n" },
	{ "role server\nmetrics-listen ff02::1 9750\n",
	  "t:2: metrics-listen: 'ff02::1' is not a unicast ipv6 address\n" },
	{ "role server\nmetrics-listen 192.0.2.1 9750\n",
	  "t:2: metrics-listen: '192.0.2.1' is not a unicast ipv6 address\n" },
	{ "role server\nmetrics-listen ::1 0\n",
	  "t:2: metrics-listen: '0' out of range (1..65535)\n" },
	{ "role server\nmetrics-listen ::1 9750 9751\n",
	  "t:2: metrics-listen: extra argument '9751'\n" },
	/* scheduler. */
	{ "role server\nvip ::1 {\nscheduler wrr lc\n}\n",
	  "t:3: scheduler: extra argument 'lc'\n" },
	{ "role server\nvip ::1 {\nscheduler random\n}\n",
	  "t:3: scheduler: unknown value 'random' (expected rr, wrr, lc, lt, "
	  "wlc, rt, agent, cost, hash or maglev)\n" },
	{ "role server\nvip ::1 {\nscheduler rr\nscheduler lc\n}\n"
	  "vip ::2 {\nscheduler lc\n}\n",
	  "t:4: duplicate 'scheduler' (first at line 3)\n" },
	/* server. */
	{ "role balancer\nvip ::1 {\nserver ::1\n}\n",
	  "t:3: server: '::1' is the vip itself\n"
	  "t:1: role 'balancer' needs a vip with a server\n" },
	{ "role balancer\nvip ::1 {\nserver ::2\nserver 0:0::2 weight 2\n}\n",
	  "t:4: server: duplicate '0:0::2' (first at line 3)\n" },
	{ "role balancer\nvip ::1 {\nserver ::2 weight 0\nserver ::3\n}\n",
	  "t:3: server weight: '0' out of range (1..1000)\n" },
	{ "role balancer\nvip ::1 {\nserver ::2 weight 1001\nserver ::3\n}\n",
	  "t:3: server weight: '1001' out of range (1..1000)\n" },
	{ "role balancer\nvip ::1 {\nserver ::2 cost 65536\nserver ::3\n}\n",
	  "t:3: server cost: '65536' out of range (0..65535)\n" },
	{ "role balancer\nvip ::1 {\nserver ::2 weight\nserver ::3\n}\n",
	  "t:3: server weight: missing argument\n" },
	{ "role balancer\nvip ::1 {\nserver ::2 weight 1 weight 2\n"
	  "server ::3\n}\n",
	  "t:3: server: duplicate 'weight'\n" },
	{ "role balancer\nvip ::1 {\nserver ::2 heavy 2 drain\nserver ::3\n"
	  "}\n",
	  "t:3: server: unknown option 'heavy'\n" },
	{ "role balancer\nvip ::1 {\nserver ::2 backup ::2\nserver ::3\n}\n",
	  "t:3: server backup: '::2' is the server itself\n" },
	{ "role balancer\nvip ::1 {\nserver ::2 backup ::1\nserver ::3\n}\n",
	  "t:3: server: backup '::1' is the vip itself\n" },
	{ "role balancer\nvip ::1 {\nserver ::3\n}\nvip ::5 {\n"
	  "server ::2 backup ::5\n}\n",
	  "t:6: server: backup '::5' is the vip itself\n" },
	{ "role balancer\nvip ::1 {\nserver ::2 backup 2001:db8::zz\n"
	  "server ::3\n}\n",
	  "t:3: server backup: '2001:db8::zz' is not an ipv6 address\n" },
	{ "role balancer\nvip ::1 {\nserver\n}\n",
	  "t:3: server: missing argument\n"
	  "t:1: role 'balancer' needs a vip with a server\n" },
	{ "role balancer\nvip ::1 {\nserver ff02::2\n}\n",
	  "t:3: server: 'ff02::2' is a multicast address\n"
	  "t:1: role 'balancer' needs a vip with a server\n" },
	/* check. */
	{ "role server\nvip ::1 {\ncheck\n}\n",
	  "t:3: check: missing argument\n" },
	{ "role server\nvip ::1 {\ncheck udp\n}\n",
	  "t:3: check: unknown value 'udp' (expected tcp, icmp or http)\n" },
	{ "role server\nvip ::1 {\ncheck tcp timeout 3\n}\n",
	  "t:3: check: timeout (3000ms) is longer than interval (2000ms)\n" },
	{ "role server\nvip ::1 {\ncheck tcp interval 500ms\n}\n",
	  "t:3: check: timeout (1000ms) is longer than interval (500ms)\n" },
	{ "role server\nvip ::1 {\ncheck tcp path /\n}\n",
	  "t:3: check: 'path' only with http\n" },
	{ "role server\nvip ::1 {\ncheck icmp expect 200\n}\n",
	  "t:3: check: 'expect' only with http\n" },
	{ "role server\nvip ::1 {\ncheck http path health\n}\n",
	  "t:3: check path: 'health' must start with '/'\n" },
	{ "role server\nvip ::1 {\ncheck http expect 600\n}\n",
	  "t:3: check expect: '600' out of range (100..599)\n" },
	{ "role server\nvip ::1 {\ncheck tcp rise 0 fall 256\n}\n",
	  "t:3: check rise: '0' out of range (1..255)\n"
	  "t:3: check fall: '256' out of range (1..255)\n" },
	{ "role server\nvip ::1 {\ncheck tcp port 0\n}\n",
	  "t:3: check port: '0' out of range (1..65535)\n" },
	{ "role server\nvip ::1 {\ncheck tcp interval 0\n}\n",
	  "t:3: check interval: '0' must be more than 0\n" },
	{ "role server\nvip ::1 {\ncheck tcp retries 3\n}\n",
	  "t:3: check: unknown option 'retries'\n" },
	{ "role server\nvip ::1 {\ncheck tcp port\n}\n",
	  "t:3: check port: missing argument\n" },
	{ "role server\nvip ::1 {\ncheck tcp\ncheck icmp\n}\n",
	  "t:4: duplicate 'check' (first at line 3)\n" },
	/* session-weight and the other block durations. */
	{ "role server\nvip ::1 {\nsession-weight 21\n}\n",
	  "t:3: session-weight: missing argument\n" },
	{ "role server\nvip ::1 {\nsession-weight 21 5 6\n}\n",
	  "t:3: session-weight: extra argument '6'\n" },
	{ "role server\nvip ::1 {\nsession-weight 0 5\n}\n",
	  "t:3: session-weight: '0' out of range (1..65535)\n" },
	{ "role server\nvip ::1 {\nsession-weight 21 0\n}\n",
	  "t:3: session-weight: '0' out of range (1..1000)\n" },
	{ "role server\nvip ::1 {\nsession-weight 21 5\n"
	  "session-weight 21 1\n}\n",
	  "t:4: session-weight: duplicate port '21'\n" },
	{ "role server\nvip ::1 {\npassive-timeout soon\n}\n",
	  "t:3: passive-timeout: 'soon' is not a duration (e.g. 500ms, 0.5, 3s, "
	  "5m, 1h)\n" },
	{ "role server\nvip ::1 {\ndead-retry 0\n}\n",
	  "t:3: dead-retry: '0' must be more than 0\n" },
	{ "role server\nvip ::1 {\nwindow 0s\n}\n",
	  "t:3: window: '0s' must be more than 0\n" },
	{ "role server\nvip ::1 {\nwindow 1s\nwindow 2s\n}\n",
	  "t:4: duplicate 'window' (first at line 3)\n" },
	/* Bytes. */
	{ "role server\nuser j\xc3\xa9r\xc3\xb4me\n",
	  "t:2: invalid byte 0xc3\n" },
	{ "role server\nmtu\x01 1500\n", "t:2: invalid byte 0x01\n" },
	{ "role server\nmtu 1500 # caf\xc3\xa9 \x01 is fine here\n", "" },
};

/* One test for the whole table: a forked test each would cost seconds. */
START_TEST(bad_each)
{
	const char *c;
	size_t i;
	int n, lines;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = parse_str(bad[i].text);
		lines = 0;
		for (c = bad[i].errs; *c != '\0'; c++)
			lines += *c == '\n';
		ck_assert_msg(strcmp(errs_text(), bad[i].errs) == 0,
		    "bad[%zu] \"%s\"\ngot:\n%swant:\n%s", i, bad[i].text,
		    errs_text(), bad[i].errs);
		ck_assert_msg(n == lines, "bad[%zu]: returned %d, want %d", i,
		    n, lines);
	}
}
END_TEST

/* NUL bytes: an error on their line, the other lines still read. */
START_TEST(nul_bytes)
{
	static const char text[] = "role server\nmtu 1500\0\nmtu 1400\n";
	char *zeros;

	ck_assert_int_eq(parse_mem(text, sizeof(text) - 1, "t"), 1);
	ck_assert_str_eq(errs_text(), "t:2: invalid byte 0x00\n");
	ck_assert_uint_eq(cf->mtu, 1400);

	zeros = calloc(1, 4096);
	ck_assert_ptr_nonnull(zeros);
	ck_assert_int_eq(parse_mem(zeros, 1000, "t"), 2);
	ck_assert_str_eq(errs_text(),
	    "t:1: invalid byte 0x00\nt:1: no role given\n");
	ck_assert_int_eq(parse_mem(zeros, 4096, "t"), 2);
	ck_assert_str_eq(errs_text(), "t:1: line too long (more than 1024 "
	    "bytes)\nt:1: no role given\n");
	free(zeros);
}
END_TEST

/* Lines: 1024 bytes are fine, one more is an error; no final LF. */
START_TEST(long_lines)
{
	size_t n = 100 * 1024, i;
	char *text = malloc(n + 64);

	ck_assert_ptr_nonnull(text);
	/* "role server" padded with blanks to exactly 1024 bytes. */
	memset(text, ' ', SP_CONF_MAX_LINE);
	memcpy(text, "role server", 11);
	ck_assert_int_eq(parse_mem(text, SP_CONF_MAX_LINE, "t"), 0);
	ck_assert_uint_eq(cf->roles, SP_CONF_ROLE_SERVER);
	/* The same with CR LF: the CR is not counted. */
	memcpy(text + SP_CONF_MAX_LINE, "\r\n", 2);
	ck_assert_int_eq(parse_mem(text, SP_CONF_MAX_LINE + 2, "t"), 0);
	text[SP_CONF_MAX_LINE] = ' ';
	ck_assert_int_eq(parse_mem(text, SP_CONF_MAX_LINE + 1, "t"), 2);
	ck_assert_str_eq(errs_text(), "t:1: line too long (more than 1024 "
	    "bytes)\nt:1: no role given\n");

	/* A 100 KB line between good ones, with and without an LF. */
	memcpy(text, "role server\n", 12);
	for (i = 12; i < n; i++)
		text[i] = (char)('a' + i % 26);
	ck_assert_int_eq(parse_mem(text, n, "t"), 1);
	ck_assert_str_eq(errs_text(), "t:2: line too long (more than 1024 "
	    "bytes)\n");
	memcpy(text + n, "\nmtu 1400", 9);
	ck_assert_int_eq(parse_mem(text, n + 9, "t"), 1);
	ck_assert_str_eq(errs_text(), "t:2: line too long (more than 1024 "
	    "bytes)\n");
	ck_assert_uint_eq(cf->mtu, 1400);
	free(text);
}
END_TEST

/*
 * Random bytes: errors, never a crash or a read past len (ASan).  Odd
 * seeds draw from printable words and blanks, to get past the byte check
 * into the statement parser.  The alphabets cannot spell "role", so the
 * result always holds at least "no role given".
 */
START_TEST(garbage)
{
	static const char words[] = "ab {}\n/:0123456789xs-#\t";
	uint64_t x;
	size_t n, i;
	char *text;
	int seed;

	for (seed = 0; seed < 64; seed++) {
		x = 0x9e3779b97f4a7c15ull * (uint64_t)(seed + 1);
		n = 1 + (size_t)seed * 997 % 20000;
		text = malloc(n);
		ck_assert_ptr_nonnull(text);
		for (i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			if (seed % 2 == 0)
				text[i] = (char)(x >> 24);
			else
				text[i] = words[(x >> 24) % (sizeof(words) -
				    1)];
		}
		ck_assert_int_ge(parse_mem(text, n, "t"), 1);
		free(text);
	}
}
END_TEST

/* Every prefix of every example: no crash, no read past the end. */
START_TEST(truncated)
{
	static const char *const files[] = {
		"client.conf", "server.conf", "balancer.conf",
	};
	char path[512];
	size_t len, cut;
	char *text;

	snprintf(path, sizeof(path), "%s/%s", EXAMPLES_DIR, files[_i]);
	text = slurp(path, &len);
	for (cut = 0; cut < len; cut++)
		parse_mem(text, cut, "t");
	ck_assert_int_eq(parse_mem(text, len, "t"), 0);
	free(text);
}
END_TEST

/* ---------------------------------------------------------- limits */

/* A growing string, for configs too long to spell out. */
struct sb {
	char *buf;
	size_t len, cap;
};

static void sb_add(struct sb *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_add(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		ck_assert_int_ge(n, 0);
		if (b->buf != NULL && (size_t)n < b->cap - b->len)
			break;
		b->cap = b->cap * 2 + (size_t)n + 1;
		b->buf = realloc(b->buf, b->cap);
		ck_assert_ptr_nonnull(b->buf);
	}
	b->len += (size_t)n;
}

static void
sb_free(struct sb *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

START_TEST(limit_vips)
{
	struct sb b = { NULL, 0, 0 };
	unsigned i;

	sb_add(&b, "role client\n");
	for (i = 1; i <= SP_CONF_MAX_VIPS; i++)
		sb_add(&b, "vip 2001:db8:f::%x {\n}\n", i);
	ck_assert_int_eq(parse_str(b.buf), 0);
	ck_assert_uint_eq(cf->nvips, SP_CONF_MAX_VIPS);
	ck_assert_uint_eq(SP_CONF_MAX_VIPS, 4096);

	/* The 4097th vip (line 2 + 4096 * 2) is refused, and so is the
	 * next; the content of a refused block is still checked. */
	sb_add(&b, "vip 2001:db8:f::1001 {\n}\n");
	sb_add(&b, "vip 2001:db8:e::ff {\nports 0\n}\n");
	ck_assert_int_eq(parse_str(b.buf), 3);
	ck_assert_str_eq(errs_text(),
	    "t:8194: vip: too many vips (limit 4096)\n"
	    "t:8196: vip: too many vips (limit 4096)\n"
	    "t:8197: ports: '0' out of range (1..65535)\n");
	ck_assert_uint_eq(cf->nvips, SP_CONF_MAX_VIPS);
	ck_assert_addr(cf->vips[4095].addr, "2001:db8:f::1000");
	ck_assert_ptr_eq(sp_conf_vip_find(cf, cf->vips[4095].addr),
	    &cf->vips[4095]);
	sb_free(&b);
}
END_TEST

START_TEST(limit_servers)
{
	struct sb b = { NULL, 0, 0 };
	unsigned i;

	sb_add(&b, "role balancer\nvip 2001:db8:f::1 {\n");
	for (i = 1; i <= SP_CONF_MAX_SERVERS + 1; i++)
		sb_add(&b, "server 2001:db8:5::%x weight %u\n", i,
		    i % 1000 + 1);
	sb_add(&b, "}\n");
	ck_assert_int_eq(parse_str(b.buf), 1);
	ck_assert_str_eq(errs_text(),
	    "t:4099: server: too many servers (limit 4096)\n");
	ck_assert_uint_eq(cf->vips[0].nservers, SP_CONF_MAX_SERVERS);
	ck_assert_uint_eq(cf->vips[0].servers[4095].weight, 97);
	ck_assert_addr(cf->vips[0].servers[4095].addr, "2001:db8:5::1000");
	sb_free(&b);
}
END_TEST

START_TEST(limit_ports)
{
	struct sb b = { NULL, 0, 0 };
	unsigned i;

	/* Every port, 100 a line: all taken, in file order. */
	sb_add(&b, "role server\nvip ::1 {\n");
	for (i = 1; i <= 65535; i++)
		sb_add(&b, "%s%u%s", i % 100 == 1 ? "ports " : "", i,
		    i % 100 == 0 || i == 65535 ? "\n" : " ");
	sb_add(&b, "}\n");
	ck_assert_int_eq(parse_str(b.buf), 0);
	ck_assert_uint_eq(cf->vips[0].nports, SP_CONF_MAX_PORTS);
	ck_assert_uint_eq(cf->vips[0].ports[63], 64);
	ck_assert_uint_eq(cf->vips[0].ports[65534], 65535);

	/* One more is a duplicate, whatever the line. */
	sb_add(&b, "vip ::2 {\nports 7 8 7\n}\n");
	ck_assert_int_eq(parse_str(b.buf), 1);
	ck_assert_str_eq(errs_text(), "t:661: ports: duplicate '7'\n");
	ck_assert_uint_eq(cf->vips[1].nports, 2);
	sb_free(&b);
}
END_TEST

/*
 * A generated site: 1,000 vips of 8 servers each, read through the
 * public accessors.  Its memory is what it holds: the vips, 8,000
 * servers, the address index and one struct, nothing sized by the
 * limits (which would be 4096 x 4096 servers).
 */
START_TEST(scale_1000x8)
{
	struct sb b = { NULL, 0, 0 };
	const struct sp_conf_vip *v;
	const struct sp_conf_server *srv;
	uint8_t a[16];
	char want[64];
	size_t size, held;
	unsigned i, j;

	sb_add(&b, "role balancer\n");
	for (i = 0; i < 1000; i++) {
		sb_add(&b, "vip 2001:db8:%x::1 {\nscheduler maglev\n"
		    "ports 80 443\n", i + 1);
		for (j = 0; j < 8; j++)
			sb_add(&b, "server 2001:db8:%x::%x weight %u\n",
			    0x8000 + i, j + 0x10, j + 1);
		sb_add(&b, "}\n");
	}
	ck_assert_int_eq(parse_str(b.buf), 0);
	ck_assert_uint_eq(sp_conf_vip_count(cf), 1000);
	ck_assert_ptr_null(sp_conf_vip_at(cf, 1000));
	for (i = 0; i < 1000; i++) {
		v = sp_conf_vip_at(cf, i);
		snprintf(want, sizeof(want), "2001:db8:%x::1", i + 1);
		ck_assert_addr(sp_conf_vip_addr(v), want);
		/* The per-packet lookup finds every one of them. */
		ck_assert_ptr_eq(sp_conf_vip_find(cf, sp_conf_vip_addr(v)), v);
		ck_assert_int_eq(sp_conf_vip_scheduler(v),
		    SP_CONF_SCHED_MAGLEV);
		ck_assert_uint_eq(sp_conf_vip_port_count(v), 2);
		ck_assert_uint_eq(sp_conf_vip_port_at(v, 1), 443);
		ck_assert(sp_conf_vip_has_port(v, 80));
		ck_assert(!sp_conf_vip_has_port(v, 81));
		ck_assert_uint_eq(sp_conf_vip_server_count(v), 8);
		ck_assert_ptr_null(sp_conf_vip_server_at(v, 8));
		for (j = 0; j < 8; j++) {
			srv = sp_conf_vip_server_at(v, j);
			snprintf(want, sizeof(want), "2001:db8:%x::%x",
			    0x8000 + i, j + 0x10);
			ck_assert_addr(sp_conf_server_addr(srv), want);
			ck_assert_uint_eq(sp_conf_server_weight(srv), j + 1);
			ck_assert_ptr_null(sp_conf_server_backup(srv));
			ck_assert(!sp_conf_server_drain(srv));
		}
	}
	addr("2001:db8:3e9::1", a);	/* vip 1001: not there */
	ck_assert_ptr_null(sp_conf_vip_find(cf, a));
	addr("2001:db8:8000::10", a);	/* a server, not a vip */
	ck_assert_ptr_null(sp_conf_vip_find(cf, a));

	held = sizeof(*cf) + 1000 * (sizeof(struct sp_conf_vip) +
	    2 * sizeof(uint16_t) + sizeof(struct sp_conf_vip_key)) +
	    8000 * (sizeof(struct sp_conf_server) + sizeof(unsigned));
	size = sp_conf_size(cf);	/* servers: their lines too */
	printf("conf: 1000 vips x 8 servers hold %zu bytes\n", size);
	ck_assert_uint_eq(size, held);
	ck_assert_uint_lt(size, 800 * 1000);
	sb_free(&b);
}
END_TEST

START_TEST(limit_prefixes)
{
	struct sb b = { NULL, 0, 0 };
	unsigned i;

	sb_add(&b, "role client\nvip ::1 {\nallow-servers");
	for (i = 1; i <= 16; i++)
		sb_add(&b, " 2001:db8:%x::/48", i);
	ck_assert_int_eq(parse_str(b.buf), 1);	/* block not closed */
	ck_assert_uint_eq(cf->vips[0].nallow, SP_CONF_MAX_PREFIXES);
	sb_add(&b, " 2001:db8:11::/48\n}\n");
	ck_assert_int_eq(parse_str(b.buf), 1);
	ck_assert_str_eq(errs_text(),
	    "t:3: allow-servers: too many prefixes (limit 16)\n");
	sb_free(&b);
}
END_TEST

START_TEST(limit_session_weights)
{
	struct sb b = { NULL, 0, 0 };
	unsigned i;

	sb_add(&b, "role server\nvip ::1 {\n");
	for (i = 1; i <= 16; i++)
		sb_add(&b, "session-weight %u %u\n", i, i);
	ck_assert_int_eq(parse_str(b.buf), 1);	/* block not closed */
	ck_assert_uint_eq(cf->vips[0].nsession_weights,
	    SP_CONF_MAX_SESSION_WEIGHTS);
	ck_assert_uint_eq(cf->vips[0].session_weights[15].weight, 16);
	sb_add(&b, "session-weight 17 17\n}\n");
	ck_assert_int_eq(parse_str(b.buf), 1);
	ck_assert_str_eq(errs_text(),
	    "t:19: session-weight: too many ports (limit 16)\n");
	sb_free(&b);
}
END_TEST

START_TEST(limit_queues)
{
	ck_assert_int_eq(parse_str("role server\nqueue 100-115\n"), 0);
	ck_assert_uint_eq(cf->queue_first, 100);
	ck_assert_uint_eq(cf->queue_count, SP_CONF_MAX_QUEUES);
	ck_assert_int_eq(parse_str("role server\nqueue 100-116\n"), 1);
	ck_assert_str_eq(errs_text(),
	    "t:2: queue: '100-116' is too many queues (limit 16)\n");
}
END_TEST

/* ----------------------------------------------------- the helpers */

START_TEST(scheduler_names)
{
	static const char *const names[SP_CONF_SCHED__COUNT] = {
		"rr", "wrr", "lc", "lt", "wlc", "rt", "agent", "cost", "hash",
		"maglev",
	};
	enum sp_conf_scheduler s;
	char text[128];
	int i;

	for (i = 0; i < SP_CONF_SCHED__COUNT; i++) {
		ck_assert_str_eq(sp_conf_scheduler_name(
		    (enum sp_conf_scheduler)i), names[i]);
		s = SP_CONF_SCHED__COUNT;
		ck_assert(sp_conf_scheduler_parse(names[i], &s));
		ck_assert_int_eq(s, i);
		snprintf(text, sizeof(text), "role server\nvip ::1 {\n"
		    "scheduler %s\n}\n", names[i]);
		ck_assert_int_eq(parse_str(text), 0);
		ck_assert_int_eq(cf->vips[0].scheduler, i);
	}
	ck_assert_str_eq(sp_conf_scheduler_name(SP_CONF_SCHED__COUNT),
	    "unknown");
	ck_assert_str_eq(sp_conf_scheduler_name((enum sp_conf_scheduler)-1),
	    "unknown");
	s = SP_CONF_SCHED_LC;
	ck_assert(!sp_conf_scheduler_parse("RR", &s));
	ck_assert(!sp_conf_scheduler_parse("", &s));
	ck_assert(!sp_conf_scheduler_parse("rrr", &s));
	ck_assert(!sp_conf_scheduler_parse(NULL, &s));
	ck_assert_int_eq(s, SP_CONF_SCHED_LC);
}
END_TEST

/* allow-servers membership: the client's trust rule for seg2. */
START_TEST(vip_allows)
{
	const struct sp_conf_vip *v;
	uint8_t a[16];

	ck_assert_int_eq(parse_str("role client\nvip 2001:db8:f::100 {\n"
	    "  allow-servers 2001:db8:5::/64 2001:db8:8::/61 2001:db8:9::7/128\n"
	    "}\n"), 0);
	v = &cf->vips[0];
	addr("2001:db8:5::1", a);
	ck_assert(sp_conf_vip_allows(v, a));
	addr("2001:db8:5:0:ffff:ffff:ffff:ffff", a);
	ck_assert(sp_conf_vip_allows(v, a));
	addr("2001:db8:5:1::1", a);
	ck_assert(!sp_conf_vip_allows(v, a));
	addr("2001:db8:f::100", a);	/* the vip is not a server */
	ck_assert(!sp_conf_vip_allows(v, a));
	addr("2001:db8:f::1", a);
	ck_assert(!sp_conf_vip_allows(v, a));
	addr("2001:db8:f::", a);
	ck_assert(!sp_conf_vip_allows(v, a));
	addr("2001:db8:f:7::1", a);	/* /61: 2001:db8:8:0:: - 2001:db8:8:7:... */
	ck_assert(!sp_conf_vip_allows(v, a));
	addr("2001:db8:8:7::1", a);
	ck_assert(sp_conf_vip_allows(v, a));
	addr("2001:db8:8:8::1", a);	/* differs in the partial byte only */
	ck_assert(!sp_conf_vip_allows(v, a));
	addr("2001:db8:10::1", a);
	ck_assert(!sp_conf_vip_allows(v, a));
	addr("2001:db8:9::7", a);
	ck_assert(sp_conf_vip_allows(v, a));
	addr("2001:db8:9::6", a);
	ck_assert(!sp_conf_vip_allows(v, a));
}
END_TEST

START_TEST(find)
{
	uint8_t a[16];
	const struct sp_conf_vip *v;

	ck_assert_int_eq(parse_file(CONF_DIR, "good-full.conf"), 0);
	addr("2001:db8:f::200", a);
	v = sp_conf_vip_find(cf, a);
	ck_assert_ptr_eq(v, &cf->vips[1]);
	addr("2001:db8:f::100", a);
	v = sp_conf_vip_find(cf, a);
	ck_assert_ptr_eq(v, &cf->vips[0]);
	addr("2001:db8:5::2", a);
	ck_assert_ptr_eq(sp_conf_server_find(v, a), &v->servers[1]);
	ck_assert_ptr_null(sp_conf_vip_find(cf, a));
	addr("2001:db8:5::4", a);
	ck_assert_ptr_null(sp_conf_server_find(v, a));
	addr("2001:db8:f::300", a);
	ck_assert_ptr_eq(sp_conf_vip_find(cf, a), &cf->vips[2]);
	cf->nvips = 2;	/* entries past nvips are not searched */
	ck_assert_ptr_null(sp_conf_vip_find(cf, a));
	cf->nvips = 3;	/* for sp_conf_free() */
}
END_TEST

/* No callback: the errors are only counted. */
START_TEST(no_callback)
{
	static const char text[] = "mtu 1\nfoo\n}\n";

	ck_assert_int_eq(sp_conf_parse(text, sizeof(text) - 1, NULL, cf,
	    NULL, NULL), 4);
	ck_assert_int_eq(sp_conf_parse(NULL, 0, "t", cf, NULL, NULL), 1);
}
END_TEST

Suite *
conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc;

	tc = tcase_create("good");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, design_sample);
	tcase_add_test(tc, example_client);
	tcase_add_test(tc, example_server);
	tcase_add_test(tc, example_balancer);
	tcase_add_test(tc, good_full);
	tcase_add_test(tc, cluster_keywords);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, memcmp_stable);
	tcase_add_test(tc, shared_server);
	tcase_add_test(tc, crlf);
	tcase_add_test(tc, duration);
	tcase_add_test(tc, edges);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, bad_many);
	tcase_add_test(tc, bad_each);
	tcase_add_test(tc, nul_bytes);
	tcase_add_test(tc, long_lines);
	tcase_add_test(tc, garbage);
	tcase_add_loop_test(tc, truncated, 0, 3);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, limit_vips);
	tcase_add_test(tc, scale_1000x8);
	tcase_add_test(tc, limit_servers);
	tcase_add_test(tc, limit_ports);
	tcase_add_test(tc, limit_prefixes);
	tcase_add_test(tc, limit_session_weights);
	tcase_add_test(tc, limit_queues);
	suite_add_tcase(s, tc);

	tc = tcase_create("api");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, scheduler_names);
	tcase_add_test(tc, vip_allows);
	tcase_add_test(tc, find);
	tcase_add_test(tc, no_callback);
	suite_add_tcase(s, tc);

	return s;
}
