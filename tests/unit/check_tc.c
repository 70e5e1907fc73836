// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * check_tc.c -- the tc programs (bpf/client.bpf.c, bpf/server.bpf.c)
 * run by the kernel on crafted packets (bpf_prog_test_run_opts), no
 * namespace needed; the bytes they return are compared with what
 * libsp makes of the same packet (the NFQUEUE path's code).  Loading
 * them is the verifier check of this kernel.  Root only (exit 77).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <check.h>

#include <sp/clock.h>
#include <sp/conf.h>
#include <sp/csum.h>
#include <sp/dopt.h>
#include <sp/exthdr.h>
#include <sp/tcp.h>
#include "conf_priv.h"
#include "path/tc.h"
#include "testpkt.h"

#define ETH	14

static const uint8_t vip[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xf, [14] = 1 };
static const uint8_t other[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xe, [15] = 9 };
static const uint8_t outside[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 6, [15] = 1 };

static struct sp_conf *conf;
static struct tc_obj obj;
static uint32_t obj_flows;	/* the flow maps' size; 0: the default */
static uint32_t obj_cache;	/* the client's cache size; 0: the default */
static uint8_t in[TP_MAX + ETH], out[TP_MAX + ETH + 64], want[TP_MAX];
static size_t want_len;

static void
setup_role(enum tc_role role)
{
	char err[200];

	conf = sp_conf_new();
	ck_assert_ptr_nonnull(conf);
	conf->roles = role == TC_CLIENT ? SP_CONF_ROLE_CLIENT :
	    SP_CONF_ROLE_SERVER;
	ck_assert_ptr_nonnull(sp_conf_vip_add(conf, vip));
	conf->vips[0].allow = calloc(1, sizeof(*conf->vips[0].allow));
	ck_assert_ptr_nonnull(conf->vips[0].allow);	/* sp_conf_free()s */
	conf->vips[0].nallow = 1;
	memcpy(conf->vips[0].allow[0].addr, tp_server, 8);
	conf->vips[0].allow[0].len = 64;
	conf->max_flows = obj_flows != 0 ? obj_flows : conf->max_flows;
	ck_assert_msg(tc_obj_open(&obj, role, NULL, obj_flows, obj_cache, err,
	    sizeof(err)) == 0,
	    "%s", err);
	ck_assert_int_eq(tc_obj_configure(&obj, conf, tp_src), 0);
}

static void
setup_client(void)
{
	setup_role(TC_CLIENT);
}

static void
setup_server(void)
{
	setup_role(TC_SERVER);
}

/* The server with max-flows 16: 4 rows for new flows, 12 for
 * established ones. */
static void
setup_small_server(void)
{
	obj_flows = 16;
	setup_role(TC_SERVER);
	obj_flows = 0;
	ck_assert_uint_eq(obj.max_flows, 16);
}

/* The client with max-cache 6000, more than LBSP_TC_MAX_CACHE. */
static void
setup_big_client(void)
{
	obj_cache = 6000;
	setup_role(TC_CLIENT);
	obj_cache = 0;
	ck_assert_uint_eq(obj.max_cache, 6000);
}

static void
teardown(void)
{
	tc_obj_close(&obj);
	sp_conf_free(conf);
}

/* Run prog on the IPv6 packet pkt[0..len) behind an Ethernet header;
 * returns the IPv6 length out of it (at out + ETH). */
static size_t
run(int prog, const uint8_t *pkt, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in,
	    .data_size_in = (uint32_t)(len + ETH), .data_out = out,
	    .data_size_out = sizeof(out), .repeat = 1);

	memset(in, 0, ETH);
	in[0] = 0x02;
	in[6] = 0x02;
	in[12] = 0x86;
	in[13] = 0xdd;
	memcpy(in + ETH, pkt, len);
	ck_assert_int_eq(bpf_prog_test_run_opts(prog, &o), 0);
	/* TC_ACT_UNSPEC, always: the next program on the hook sees it. */
	ck_assert_int_eq((int)o.retval, -1);
	ck_assert_uint_ge(o.data_size_out, ETH);
	ck_assert_mem_eq(out, in, ETH);
	return o.data_size_out - ETH;
}

static uint64_t
counter(enum lbsp_tc_counter c)
{
	uint64_t v[LBSP_TC_C__COUNT];

	ck_assert_int_eq(tc_obj_counters(&obj, v), 0);
	return v[c];
}

/* The output is the expected packet (TC_DEBUG=1 lists the bytes that
 * differ, to find a checksum or an offset gone wrong). */
static void
assert_out(size_t got)
{
	if (getenv("TC_DEBUG") != NULL && got == want_len) {
		size_t i;

		for (i = 0; i < want_len; i++)
			if (out[ETH + i] != want[i])
				fprintf(stderr, "diff at %zu: got %02x want %02x\n",
				    i, out[ETH + i], want[i]);
	}
	ck_assert_uint_eq(got, want_len);
	ck_assert_mem_eq(out + ETH, want, want_len);
}

/* The client's cache row of tp_src for vip: server S, fresh (the
 * programs' clock is sp_now_ns()'s).  *ck and *ce are left as written. */
static void
cache_row_put(struct lbsp_tc_cache_key *ck, struct lbsp_tc_cache *ce)
{
	memset(ce, 0, sizeof(*ce));
	memcpy(ck->vip, vip, 16);
	memcpy(ck->identity, tp_src, 16);
	memcpy(ce->server, tp_server, 16);
	ce->updated_ns = sp_now_ns();
	ck_assert_int_eq(bpf_map_update_elem(obj.cache_fd, ck, ce, 0), 0);
}

static size_t
build(uint8_t *pkt, const char *ext, uint8_t proto, uint8_t flags,
    size_t payload)
{
	struct tp_spec sp = { .ext = ext, .proto = proto, .tcp_flags = flags,
	    .payload = payload, .seed = 11 };
	size_t len = tp_build(pkt, &sp);

	memcpy(&pkt[SP_IP6_OFF_DST], vip, 16);
	if (proto == 6 || proto == 17 || proto == 58) {
		size_t l4 = tp_l4_off(&sp), coff = proto == 6 ? 16 :
		    proto == 17 ? 6 : 2;

		sp_put16(&pkt[l4 + coff], tp_ref_csum(pkt, len, l4, proto));
	}
	return len;
}

/* The answer to a packet: addresses and ports swapped, from "from". */
static size_t
answer(uint8_t *pkt, const uint8_t *req, size_t len, const uint8_t *from,
    uint8_t flags)
{
	struct sp_exthdr_info w;
	uint8_t t[2];

	memcpy(pkt, req, len);
	memcpy(&pkt[SP_IP6_OFF_DST], &req[SP_IP6_OFF_SRC], 16);
	memcpy(&pkt[SP_IP6_OFF_SRC], from, 16);
	ck_assert_int_eq(sp_exthdr_walk(pkt, len, 0, &w), SP_OK);
	memcpy(t, &pkt[w.l4_off], 2);
	memcpy(&pkt[w.l4_off], &pkt[w.l4_off + 2], 2);
	memcpy(&pkt[w.l4_off + 2], t, 2);
	if (w.l4_proto == 6)
		pkt[w.l4_off + 13] = flags;
	sp_put16(&pkt[w.l4_off + (w.l4_proto == 6 ? 16 : 6)],
	    tp_ref_csum(pkt, len, w.l4_off, w.l4_proto));
	return len;
}

static void
with_option(uint8_t *pkt, size_t *len, const uint8_t *seg1,
    const uint8_t *seg2)
{
	struct sp_lbsp o;

	memcpy(o.seg1, seg1, 16);
	memcpy(o.seg2, seg2, 16);
	ck_assert_int_eq(sp_dopt_set(pkt, len, TP_MAX, 0x1e, &o, NULL), SP_OK);
}

/* What the NFQUEUE path makes of pkt: clamp, then the option. */
static void
expect_option(const uint8_t *pkt, size_t len, const uint8_t *seg1,
    const uint8_t *seg2)
{
	bool changed;

	memcpy(want, pkt, len);
	want_len = len;
	(void)sp_tcp_mss_clamp(want, want_len, sp_tcp_mss_for_mtu(1500),
	    &changed);
	with_option(want, &want_len, seg1, seg2);
}

static const uint8_t zero16[16];

/* ------------------------------------------------------------ client */

START_TEST(client_inserts)
{
	static const struct { uint8_t proto, flags; size_t payload; } v[] = {
		{ 6, SP_TCP_SYN, 0 }, { 6, SP_TCP_ACK, 1000 },
		{ 17, 0, 1 }, { 17, 0, 1300 }, { 58, 0, 56 },
	};
	uint8_t pkt[TP_MAX];
	unsigned i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t len = build(pkt, NULL, v[i].proto, v[i].flags,
		    v[i].payload);

		expect_option(pkt, len, tp_src, zero16);
		assert_out(run(obj.egress_fd, pkt, len));
	}
	ck_assert_uint_eq(counter(LBSP_TC_C_INSERTED), 5);
	ck_assert_uint_eq(counter(LBSP_TC_C_MSS_CLAMPED), 1);
}
END_TEST

START_TEST(client_mss_value)
{
	uint8_t pkt[TP_MAX];
	struct sp_exthdr_info w;
	size_t len = build(pkt, NULL, 6, SP_TCP_SYN, 0), got;

	got = run(obj.egress_fd, pkt, len);
	ck_assert_int_eq(sp_exthdr_walk(out + ETH, got, 0, &w), SP_OK);
	/* MSS option first in tp_build's SYN: kind 2, len 4, value. */
	ck_assert_uint_eq(out[ETH + w.l4_off + 20], 2);
	ck_assert_uint_eq(sp_get16(&out[ETH + w.l4_off + 22]), 1400);
	ck_assert_uint_eq(tp_ref_csum(out + ETH, got, w.l4_off, 6),
	    sp_get16(&out[ETH + w.l4_off + 16]));
}
END_TEST

START_TEST(client_refusals)
{
	static const struct { const char *ext; enum lbsp_tc_counter c; } v[] = {
		{ "H", LBSP_TC_C_HOP_BY_HOP }, { "A", LBSP_TC_C_AH },
		{ "f", LBSP_TC_C_FRAGMENT }, { "D", LBSP_TC_C_DSTOPTS },
		{ "RRRRRRRRR", LBSP_TC_C_MALFORMED },
	};
	uint8_t pkt[TP_MAX];
	unsigned i;
	size_t len;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		len = build(pkt, v[i].ext, 17, 0, 20);
		memcpy(want, pkt, len);
		want_len = len;
		assert_out(run(obj.egress_fd, pkt, len));
		ck_assert_msg(counter(v[i].c) == 1, "%s", v[i].ext);
	}
	/* Jumbogram: Payload Length 0. */
	len = build(pkt, NULL, 17, 0, 20);
	pkt[4] = pkt[5] = 0;
	memcpy(want, pkt, len);
	want_len = len;
	assert_out(run(obj.egress_fd, pkt, len));
	ck_assert_uint_eq(counter(LBSP_TC_C_JUMBO), 1);
	/* Not to a vip. */
	len = build(pkt, NULL, 17, 0, 20);
	memcpy(&pkt[SP_IP6_OFF_DST], other, 16);
	sp_put16(&pkt[40 + 6], tp_ref_csum(pkt, len, 40, 17));
	memcpy(want, pkt, len);
	want_len = len;
	assert_out(run(obj.egress_fd, pkt, len));
	ck_assert_uint_eq(counter(LBSP_TC_C_NOT_VIP), 1);
	/* Too big for the MTU once 40 bytes longer (not GSO). */
	len = build(pkt, NULL, 17, 0, 1500 - 40 - 8 - 39);
	memcpy(want, pkt, len);
	want_len = len;
	assert_out(run(obj.egress_fd, pkt, len));
	ck_assert_uint_eq(counter(LBSP_TC_C_TOO_BIG), 1);
	ck_assert_uint_eq(counter(LBSP_TC_C_INSERTED), 0);
}
END_TEST

START_TEST(client_learns_and_redirects)
{
	uint8_t syn[TP_MAX], ack[TP_MAX], pkt[TP_MAX];
	struct lbsp_tc_cache_key ck;
	struct lbsp_tc_cache ce;
	size_t len, alen;
	bool changed;

	/* 1. SYN to the vip: seg2 zero, no redirect. */
	len = build(syn, NULL, 6, SP_TCP_SYN, 0);
	expect_option(syn, len, tp_src, zero16);
	assert_out(run(obj.egress_fd, syn, len));

	/* 2. The SYN-ACK from the server (single pass: straight from S),
	 * with seg1 = us, seg2 = S: learned, src S -> vip. */
	alen = answer(ack, syn, len, tp_server, SP_TCP_SYN | SP_TCP_ACK);
	with_option(ack, &alen, tp_src, tp_server);
	memcpy(want, ack, alen);
	want_len = alen;
	ck_assert_int_eq(sp_pkt_set_addr(want, want_len, SP_ADDR_SRC, vip),
	    SP_OK);
	(void)sp_tcp_mss_clamp(want, want_len, sp_tcp_mss_for_mtu(1500),
	    &changed);
	assert_out(run(obj.ingress_fd, ack, alen));
	ck_assert_uint_eq(counter(LBSP_TC_C_LEARNED), 1);
	ck_assert_uint_eq(counter(LBSP_TC_C_SRC_REWRITTEN), 1);
	memcpy(ck.vip, vip, 16);
	memcpy(ck.identity, tp_src, 16);
	ck_assert_int_eq(bpf_map_lookup_elem(obj.cache_fd, &ck, &ce), 0);
	ck_assert_mem_eq(ce.server, tp_server, 16);

	/* 3. The next packet of the flow goes to S, seg2 = S. */
	len = build(pkt, NULL, 6, SP_TCP_ACK, 100);
	memcpy(want, pkt, len);
	want_len = len;
	ck_assert_int_eq(sp_pkt_set_addr(want, want_len, SP_ADDR_DST,
	    tp_server), SP_OK);
	with_option(want, &want_len, tp_src, tp_server);
	assert_out(run(obj.egress_fd, pkt, len));
	ck_assert_uint_eq(counter(LBSP_TC_C_REDIRECTED), 1);
	/* A UDP flow to the vip follows the cache from its first packet. */
	len = build(pkt, NULL, 17, 0, 30);
	memcpy(want, pkt, len);
	want_len = len;
	ck_assert_int_eq(sp_pkt_set_addr(want, want_len, SP_ADDR_DST,
	    tp_server), SP_OK);
	with_option(want, &want_len, tp_src, tp_server);
	assert_out(run(obj.egress_fd, pkt, len));
	ck_assert_uint_eq(counter(LBSP_TC_C_REDIRECTED), 2);

	/* 4. Fallback on the daemon's clock: the UDP flow was never
	 * answered; far enough in the future it goes back to the vip. */
	ck_assert_uint_eq(tc_obj_fallback(&obj, 1, 1000), 0);
	ck_assert_uint_eq(tc_obj_fallback(&obj, UINT64_MAX / 2, 1000), 1);
	/* Its server is suspect (kept, with why), no longer followed. */
	ck_assert_int_eq(bpf_map_lookup_elem(obj.cache_fd, &ck, &ce), 0);
	ck_assert_uint_eq(ce.state, LBSP_TC_CACHE_SUSPECT);
	ck_assert_uint_eq(ce.reason, LBSP_TC_SUSPECT_TIMER);
	expect_option(pkt, len, tp_src, zero16);
	assert_out(run(obj.egress_fd, pkt, len));
}
END_TEST

/* A SYN to the vip of another connection (its ports from seed). */
static size_t
syn_of(uint8_t *pkt, uint32_t seed)
{
	struct tp_spec sp = { .proto = 6, .tcp_flags = SP_TCP_SYN,
	    .seed = seed };
	size_t len = tp_build(pkt, &sp), l4 = tp_l4_off(&sp);

	memcpy(&pkt[SP_IP6_OFF_DST], vip, 16);
	sp_put16(&pkt[l4 + 16], tp_ref_csum(pkt, len, l4, 6));
	return len;
}

/*
 * lbspd/path/client.c's stranded-client rule: a redirected SYN sent again
 * unanswered goes to the vip and its server becomes suspect (the row
 * kept, with why); new connections avoid it; an answer naming it in
 * seg2 revives it.
 */
START_TEST(client_suspect)
{
	uint8_t syn[TP_MAX], ack[TP_MAX];
	struct lbsp_tc_cache_key ck;
	struct lbsp_tc_cache ce;
	size_t len, alen;

	memcpy(ck.vip, vip, 16);
	memcpy(ck.identity, tp_src, 16);

	/* S learned from a first connection's SYN-ACK. */
	len = syn_of(syn, 70);
	(void)run(obj.egress_fd, syn, len);
	alen = answer(ack, syn, len, tp_server, SP_TCP_SYN | SP_TCP_ACK);
	with_option(ack, &alen, tp_src, tp_server);
	(void)run(obj.ingress_fd, ack, alen);
	ck_assert_int_eq(bpf_map_lookup_elem(obj.cache_fd, &ck, &ce), 0);
	ck_assert_uint_eq(ce.state, LBSP_TC_CACHE_OK);

	/* A second connection goes straight to S; its SYN, sent again
	 * unanswered, goes to the vip with seg2 zero. */
	len = syn_of(syn, 71);
	(void)run(obj.egress_fd, syn, len);
	ck_assert_uint_eq(counter(LBSP_TC_C_REDIRECTED), 1);
	expect_option(syn, len, tp_src, zero16);
	assert_out(run(obj.egress_fd, syn, len));
	ck_assert_uint_eq(counter(LBSP_TC_C_REDIRECTED), 1);
	ck_assert_uint_eq(counter(LBSP_TC_C_FALLBACKS), 1);
	ck_assert_uint_eq(counter(LBSP_TC_C_FALLBACK_SYN_RETRANSMIT), 1);
	ck_assert_int_eq(bpf_map_lookup_elem(obj.cache_fd, &ck, &ce), 0);
	ck_assert_uint_eq(ce.state, LBSP_TC_CACHE_SUSPECT);
	ck_assert_uint_eq(ce.reason, LBSP_TC_SUSPECT_SYN_RETRANSMIT);
	ck_assert_uint_ne(ce.suspect_ns, 0);

	/* A new connection avoids the suspect S: to the vip, seg2 zero. */
	len = syn_of(syn, 72);
	expect_option(syn, len, tp_src, zero16);
	assert_out(run(obj.egress_fd, syn, len));
	ck_assert_uint_eq(counter(LBSP_TC_C_SUSPECT_AVOIDED), 1);

	/* Its answer, through the vip, names S: S is alive again. */
	alen = answer(ack, syn, len, vip, SP_TCP_SYN | SP_TCP_ACK);
	with_option(ack, &alen, tp_src, tp_server);
	(void)run(obj.ingress_fd, ack, alen);
	ck_assert_uint_eq(counter(LBSP_TC_C_SUSPECT_REVIVED), 1);
	ck_assert_int_eq(bpf_map_lookup_elem(obj.cache_fd, &ck, &ce), 0);
	ck_assert_uint_eq(ce.state, LBSP_TC_CACHE_OK);
	ck_assert_uint_eq(ce.suspect_ns, 0);

	/* And followed again by the next connection. */
	len = syn_of(syn, 73);
	(void)run(obj.egress_fd, syn, len);
	ck_assert_uint_eq(counter(LBSP_TC_C_REDIRECTED), 2);
	ck_assert_uint_eq(counter(LBSP_TC_C_SUSPECT_AVOIDED), 1);
}
END_TEST

/* The mark of the vip, or false without one. */
static bool
blackhole(struct lbsp_tc_blackhole *b)
{
	struct lbsp_tc_vip_key k;

	memcpy(k.addr, vip, 16);
	return bpf_map_lookup_elem(obj.blackholes_fd, &k, b) == 0;
}

/* The mark runs out (the programs see its end in the past). */
static void
blackhole_run_out(void)
{
	struct lbsp_tc_vip_key k;
	struct lbsp_tc_blackhole b;

	ck_assert(blackhole(&b));
	b.until_ns = 1;
	memcpy(k.addr, vip, 16);
	ck_assert_int_eq(bpf_map_update_elem(obj.blackholes_fd, &k, &b,
	    BPF_EXIST), 0);
}

/* Run a packet that must leave unchanged. */
static void
assert_unchanged(int prog, const uint8_t *pkt, size_t len)
{
	memcpy(want, pkt, len);
	want_len = len;
	assert_out(run(prog, pkt, len));
}

START_TEST(client_blackhole)
{
	uint8_t syn[TP_MAX], ack[TP_MAX];
	struct lbsp_tc_blackhole b;
	size_t len, alen;

	/* 1. A SYN to the vip with the option, sent again unanswered:
	 * without it, and the vip is marked for the minimum. */
	len = syn_of(syn, 21);
	expect_option(syn, len, tp_src, zero16);
	assert_out(run(obj.egress_fd, syn, len));
	ck_assert(!blackhole(&b));
	assert_unchanged(obj.egress_fd, syn, len);
	ck_assert_uint_eq(counter(LBSP_TC_C_BLACKHOLE_STRIPPED), 1);
	ck_assert_uint_eq(counter(LBSP_TC_C_BLACKHOLE_DETECTED), 1);
	ck_assert(blackhole(&b));
	ck_assert_uint_eq(b.period_ms, 60000);
	ck_assert_uint_eq(b.detections, 1);
	/* The rest of that connection: without the option. */
	assert_unchanged(obj.egress_fd, syn, len);
	ck_assert_uint_eq(counter(LBSP_TC_C_BLACKHOLE_DETECTED), 1);

	/* 2. A new connection while marked: without the option. */
	len = syn_of(syn, 22);
	assert_unchanged(obj.egress_fd, syn, len);
	ck_assert_uint_eq(counter(LBSP_TC_C_BLACKHOLE_AVOIDED), 1);

	/* 3. The mark ran out: the next connection probes; a second one
	 * meanwhile does not; the probe sent again unanswered doubles the
	 * period. */
	blackhole_run_out();
	len = syn_of(syn, 23);
	expect_option(syn, len, tp_src, zero16);
	assert_out(run(obj.egress_fd, syn, len));
	ck_assert_uint_eq(counter(LBSP_TC_C_BLACKHOLE_PROBES), 1);
	len = syn_of(ack, 24);
	assert_unchanged(obj.egress_fd, ack, len);
	ck_assert_uint_eq(counter(LBSP_TC_C_BLACKHOLE_AVOIDED), 2);
	len = syn_of(syn, 23);
	assert_unchanged(obj.egress_fd, syn, len);
	ck_assert(blackhole(&b));
	ck_assert_uint_eq(b.period_ms, 120000);
	ck_assert_uint_eq(b.detections, 2);
	ck_assert_uint_eq(counter(LBSP_TC_C_BLACKHOLE_DETECTED), 2);

	/* 4. Once more, answered with the option: the mark goes, and new
	 * connections carry the option again. */
	blackhole_run_out();
	len = syn_of(syn, 25);
	expect_option(syn, len, tp_src, zero16);
	assert_out(run(obj.egress_fd, syn, len));
	alen = answer(ack, syn, len, vip, SP_TCP_SYN | SP_TCP_ACK);
	with_option(ack, &alen, tp_src, zero16);
	(void)run(obj.ingress_fd, ack, alen);
	ck_assert_uint_eq(counter(LBSP_TC_C_BLACKHOLE_RECOVERED), 1);
	ck_assert(!blackhole(&b));
	len = syn_of(syn, 26);
	expect_option(syn, len, tp_src, zero16);
	assert_out(run(obj.egress_fd, syn, len));
	ck_assert_uint_eq(counter(LBSP_TC_C_BLACKHOLE_PROBES), 2);
}
END_TEST

/*
 * An option TLV that passes the end of its Destination Options header:
 * libsp calls the header malformed (sp_opt_walk(), SP_ERR_BAD_OPTION)
 * and the NFQUEUE path passes the packet; the programs once skipped the
 * TLV and clamped the SYN's MSS (found by tests/fuzz/fuzz_tc.c).
 */
/*
 * Payload Length 0 on a packet of 40 bytes: an empty payload (No Next
 * Header), not a jumbogram, which carries bytes past the header (libsp's
 * sp_exthdr_walk()); the option goes on.  The programs once refused it
 * as a jumbogram (found by tests/fuzz/fuzz_tc.c).
 */
START_TEST(client_empty_payload)
{
	uint8_t pkt[TP_MAX];
	struct sp_exthdr_info w;
	size_t len = SP_IP6_HLEN;

	(void)build(pkt, NULL, 17, 0, 0);
	pkt[SP_IP6_OFF_NH] = 59;	/* No Next Header */
	sp_put16(&pkt[SP_IP6_OFF_PLEN], 0);
	ck_assert_int_eq(sp_exthdr_walk(pkt, len, 0, &w), SP_OK);
	expect_option(pkt, len, tp_src, zero16);
	assert_out(run(obj.egress_fd, pkt, len));
	ck_assert_uint_eq(counter(LBSP_TC_C_JUMBO), 0);
	ck_assert_uint_eq(counter(LBSP_TC_C_INSERTED), 1);
}
END_TEST

/*
 * From the unspecified address: seg1 would be all zero, which no option
 * may carry (libsp's sp_dopt_set(): SP_ERR_ZERO_IDENTITY; the NFQUEUE
 * path counts it malformed and the packet leaves without the option).
 * The programs once inserted it (found by tests/fuzz/fuzz_tc.c).
 */
START_TEST(client_zero_identity)
{
	uint8_t pkt[TP_MAX];
	struct sp_lbsp o;
	size_t len = build(pkt, NULL, 17, 0, 20);

	memset(&pkt[SP_IP6_OFF_SRC], 0, 16);
	sp_put16(&pkt[40 + 6], tp_ref_csum(pkt, len, 40, 17));
	memcpy(want, pkt, len);
	want_len = len;
	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(sp_dopt_set(want, &want_len, TP_MAX, 0x1e, &o, NULL),
	    SP_ERR_ZERO_IDENTITY);
	assert_out(run(obj.egress_fd, pkt, len));
	ck_assert_uint_eq(counter(LBSP_TC_C_MALFORMED), 1);
	ck_assert_uint_eq(counter(LBSP_TC_C_INSERTED), 0);
}
END_TEST

/*
 * A Routing header whose length runs past the end of the packet: libsp's
 * walk says SP_ERR_TRUNCATED and the NFQUEUE path passes the packet; the
 * programs once took the byte after the header's claimed end for the
 * upper layer (here ICMPv6, no bytes read) and put the option on (found
 * by tests/fuzz/fuzz_tc.c).
 */
START_TEST(client_header_past_end)
{
	uint8_t pkt[TP_MAX];
	struct sp_exthdr_info w;
	size_t len = build(pkt, "R", 58, 0, 8);

	pkt[SP_IP6_HLEN + 1] = 200;	/* 1608 bytes */
	ck_assert_int_eq(sp_exthdr_walk(pkt, len, 0, &w), SP_ERR_TRUNCATED);
	assert_unchanged(obj.egress_fd, pkt, len);
	ck_assert_uint_eq(counter(LBSP_TC_C_MALFORMED), 1);
	ck_assert_uint_eq(counter(LBSP_TC_C_INSERTED), 0);
}
END_TEST

/*
 * The MSS clamp as libsp's sp_tcp_mss_clamp(): every MSS option lowered
 * (one after a NOP, its value at an odd offset for the checksum), and
 * none when an option further on is malformed (SP_ERR_BAD_OPTION).  The
 * programs once lowered the first MSS alone, and did not look past it
 * (found by tests/fuzz/fuzz_tc.c).
 */
START_TEST(client_mss_options)
{
	static const uint8_t two_mss[12] = {
		2, 4, 0x05, 0xa0,		/* 1440 */
		1, 2, 4, 0x05, 0xb4,		/* NOP, 1460 at offset 7 */
		0, 0, 0,			/* EOL */
	};
	static const uint8_t bad_after[12] = {
		2, 4, 0x05, 0xa0,		/* 1440 */
		34, 12, 0, 0, 0, 0, 0, 0,	/* 12 bytes in 8 */
	};
	const uint8_t *v[2] = { two_mss, bad_after };
	uint8_t pkt[TP_MAX];
	bool changed;
	unsigned i;

	for (i = 0; i < 2; i++) {
		size_t len = build(pkt, NULL, 6, SP_TCP_SYN, 8);

		pkt[40 + 1] = (uint8_t)(pkt[40 + 1] + i);	/* a new flow */
		pkt[40 + 12] = 8 << 4;		/* 32 bytes: 12 of options */
		memcpy(&pkt[40 + 20], v[i], 12);
		sp_put16(&pkt[40 + 16], 0);
		sp_put16(&pkt[40 + 16], tp_ref_csum(pkt, len, 40, 6));
		memcpy(want, pkt, len);
		ck_assert_int_eq(sp_tcp_mss_clamp(want, len,
		    sp_tcp_mss_for_mtu(1500), &changed),
		    i == 0 ? SP_OK : SP_ERR_BAD_OPTION);
		expect_option(pkt, len, tp_src, zero16);
		assert_out(run(obj.egress_fd, pkt, len));
	}
	ck_assert_uint_eq(counter(LBSP_TC_C_MSS_CLAMPED), 1);
}
END_TEST

/*
 * Two Fragment headers: libsp's walk refuses them (SP_ERR_HDR_ORDER) and
 * the NFQUEUE path passes the packet; the programs once walked both and
 * put the option on (noted with tests/fuzz/fuzz_tc.c).
 */
START_TEST(client_two_fragment_headers)
{
	uint8_t pkt[TP_MAX];
	struct sp_exthdr_info w;
	size_t len = build(pkt, "FF", 17, 0, 20);

	ck_assert_int_eq(sp_exthdr_walk(pkt, len, 0, &w), SP_ERR_HDR_ORDER);
	assert_unchanged(obj.egress_fd, pkt, len);
	ck_assert_uint_eq(counter(LBSP_TC_C_MALFORMED), 1);
	ck_assert_uint_eq(counter(LBSP_TC_C_INSERTED), 0);
}
END_TEST

/*
 * An LBSP option in two Destination Options headers, each the canonical
 * one: libsp refuses the packet (SP_ERR_DUPLICATE) and the NFQUEUE path
 * passes it; the programs once took the second option for the packet's
 * and wrote seg2 over it (found by tests/fuzz/fuzz_tc.c).
 */
START_TEST(client_two_options)
{
	uint8_t pkt[TP_MAX];
	size_t len = build(pkt, "LRL", 17, 0, 20);

	/* The second option's seg2, at 40 + 40 + 24 + 8 + 16: not what
	 * the program would write there. */
	memcpy(&pkt[128], tp_server, 16);
	ck_assert_int_eq(sp_dopt_find(pkt, len, 0x1e, NULL, NULL),
	    SP_ERR_DUPLICATE);
	assert_unchanged(obj.egress_fd, pkt, len);
	ck_assert_uint_eq(counter(LBSP_TC_C_MALFORMED), 1);
}
END_TEST

/*
 * Eight extension headers, then TCP: libsp walks them (eight is its
 * limit), clamps the SYN's MSS, and refuses a ninth header for the
 * option (SP_ERR_TOO_MANY_HDRS; the NFQUEUE path counts it malformed).
 * The programs once called the packet malformed and did not clamp
 * (noted with tests/fuzz/fuzz_tc.c).
 */
START_TEST(client_eight_headers)
{
	uint8_t pkt[TP_MAX];
	struct sp_lbsp o;
	bool changed;
	size_t len = build(pkt, "RRRRRRRR", 6, SP_TCP_SYN, 0);

	memcpy(want, pkt, len);
	want_len = len;
	ck_assert_int_eq(sp_tcp_mss_clamp(want, want_len,
	    sp_tcp_mss_for_mtu(1500), &changed), SP_OK);
	ck_assert(changed);
	memcpy(o.seg1, tp_src, 16);
	memset(o.seg2, 0, 16);
	ck_assert_int_eq(sp_dopt_set(want, &want_len, TP_MAX, 0x1e, &o, NULL),
	    SP_ERR_TOO_MANY_HDRS);
	assert_out(run(obj.egress_fd, pkt, len));
	ck_assert_uint_eq(counter(LBSP_TC_C_MSS_CLAMPED), 1);
	ck_assert_uint_eq(counter(LBSP_TC_C_MALFORMED), 1);
	ck_assert_uint_eq(counter(LBSP_TC_C_INSERTED), 0);
}
END_TEST

START_TEST(client_bad_option_tlv)
{
	uint8_t pkt[TP_MAX];
	size_t len = build(pkt, "D", 6, SP_TCP_SYN, 0);

	pkt[43] = 5;		/* option 0x1f: 2 + 5 bytes in 6 */
	ck_assert_int_eq(sp_dopt_find(pkt, len, 0x1e, NULL, NULL),
	    SP_ERR_BAD_OPTION);
	assert_unchanged(obj.egress_fd, pkt, len);
	ck_assert_uint_eq(counter(LBSP_TC_C_MALFORMED), 1);
	ck_assert_uint_eq(counter(LBSP_TC_C_MSS_CLAMPED), 0);
}
END_TEST

/*
 * A redirected UDP datagram cut inside its 8-byte header: libsp's
 * sp_pkt_set_addr() refuses (SP_ERR_TRUNCATED) and the packet leaves to
 * the vip; the programs once wrote the server's address and then failed
 * to fix a checksum that is not there (found by tests/fuzz/fuzz_tc.c).
 */
START_TEST(client_redirect_short_udp)
{
	uint8_t pkt[TP_MAX];
	struct lbsp_tc_cache_key ck;
	struct lbsp_tc_cache ce;
	size_t len = build(pkt, NULL, 17, 0, 0) - 2;

	cache_row_put(&ck, &ce);
	sp_put16(&pkt[4], (uint16_t)(len - 40));
	memcpy(want, pkt, len);
	want_len = len;
	ck_assert_int_eq(sp_pkt_set_addr(want, want_len, SP_ADDR_DST,
	    tp_server), SP_ERR_TRUNCATED);
	with_option(want, &want_len, tp_src, tp_server);
	assert_out(run(obj.egress_fd, pkt, len));
	ck_assert_uint_eq(counter(LBSP_TC_C_REDIRECTED), 0);
}
END_TEST

/*
 * A redirect of a packet whose Routing header has segments left: the
 * destination is the next segment's and the checksum covers the final
 * one, so libsp's sp_pkt_set_addr() refuses (SP_ERR_ROUTING) and the
 * packet leaves to the vip with the option; the programs once rewrote
 * it (found by tests/fuzz/fuzz_tc.c).
 */
START_TEST(client_redirect_routing)
{
	uint8_t pkt[TP_MAX];
	struct lbsp_tc_cache_key ck;
	struct lbsp_tc_cache ce;
	size_t len = build(pkt, "R", 17, 0, 20);

	pkt[SP_IP6_HLEN + 3] = 1;	/* Segments Left */
	cache_row_put(&ck, &ce);
	memcpy(want, pkt, len);
	want_len = len;
	ck_assert_int_eq(sp_pkt_set_addr(want, want_len, SP_ADDR_DST,
	    tp_server), SP_ERR_ROUTING);
	with_option(want, &want_len, tp_src, tp_server);
	assert_out(run(obj.egress_fd, pkt, len));
	ck_assert_uint_eq(counter(LBSP_TC_C_REDIRECTED), 0);
}
END_TEST

START_TEST(client_ingress_checks)
{
	uint8_t syn[TP_MAX], ack[TP_MAX];
	size_t len, alen;

	len = build(syn, NULL, 6, SP_TCP_ACK, 10);
	(void)run(obj.egress_fd, syn, len);
	/* From the vip, seg2 outside allow-servers: not learned. */
	alen = answer(ack, syn, len, vip, SP_TCP_ACK);
	with_option(ack, &alen, tp_src, outside);
	memcpy(want, ack, alen);
	want_len = alen;
	assert_out(run(obj.ingress_fd, ack, alen));
	ck_assert_uint_eq(counter(LBSP_TC_C_SEG2_REJECTED), 1);
	ck_assert_uint_eq(counter(LBSP_TC_C_LEARNED), 0);
	/* seg1 not ours. */
	alen = answer(ack, syn, len, vip, SP_TCP_ACK);
	with_option(ack, &alen, other, tp_server);
	memcpy(want, ack, alen);
	want_len = alen;
	assert_out(run(obj.ingress_fd, ack, alen));
	ck_assert_uint_eq(counter(LBSP_TC_C_IDENTITY_MISMATCH), 1);
	ck_assert_uint_eq(counter(LBSP_TC_C_LEARNED), 0);
	/* From a server outside allow-servers: not ours, untouched. */
	alen = answer(ack, syn, len, outside, SP_TCP_ACK);
	memcpy(want, ack, alen);
	want_len = alen;
	assert_out(run(obj.ingress_fd, ack, alen));
	ck_assert_uint_eq(counter(LBSP_TC_C_SRC_REWRITTEN), 0);
}
END_TEST

/* Rows of a hash map of keys ksize bytes. */
static unsigned
rows_in(int fd, size_t ksize)
{
	uint8_t key[64], next[64];
	unsigned n = 0;

	ck_assert_uint_le(ksize, sizeof(key));
	while (n < 100000 && bpf_map_get_next_key(fd, n == 0 ? NULL : key,
	    next) == 0) {
		memcpy(key, next, ksize);
		n++;
	}
	return n;
}

static bool
has_port(const char *vip_s, uint16_t port)
{
	struct lbsp_tc_vip_port vp;
	uint8_t one;

	memset(&vp, 0, sizeof(vp));
	ck_assert_int_eq(inet_pton(AF_INET6, vip_s, vp.addr), 1);
	vp.port = port;
	return bpf_map_lookup_elem(obj.vip_ports_fd, &vp, &one) == 0;
}

static struct sp_conf *
conf_of(const char *text)
{
	struct sp_conf *c = sp_conf_new();

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(sp_conf_parse(text, strlen(text), "test", c, NULL,
	    NULL), 0);
	return c;
}

/* A reload changes the vip maps in place: what stays is never taken
 * out, what goes is; a configuration the map cannot hold changes
 * nothing. */
START_TEST(client_reconfigure)
{
	struct sp_conf *a, *b, *big;
	struct lbsp_tc_vip_key vk;
	struct lbsp_tc_vip v;
	char *text;
	size_t len, cap = 1 << 20;
	unsigned i;

	a = conf_of("role client\nvip 2001:db8:f::1 {\n ports 80 443\n}\n"
	    "vip 2001:db8:f::2 {\n ports 22\n}\n");
	b = conf_of("role client\nvip 2001:db8:f::1 {\n ports 443 8080\n}\n"
	    "vip 2001:db8:f::3 {\n}\n");
	ck_assert_int_eq(tc_obj_configure(&obj, a, tp_src), 0);
	ck_assert_uint_eq(rows_in(obj.vips_fd, sizeof(vk)), 2);
	ck_assert_uint_eq(rows_in(obj.vip_ports_fd,
	    sizeof(struct lbsp_tc_vip_port)), 3);
	ck_assert_int_eq(tc_obj_configure(&obj, b, tp_src), 0);
	ck_assert_uint_eq(rows_in(obj.vips_fd, sizeof(vk)), 2);
	ck_assert(!has_port("2001:db8:f::1", 80));
	ck_assert(has_port("2001:db8:f::1", 443));
	ck_assert(has_port("2001:db8:f::1", 8080));
	ck_assert(!has_port("2001:db8:f::2", 22));
	ck_assert_uint_eq(rows_in(obj.vip_ports_fd,
	    sizeof(struct lbsp_tc_vip_port)), 2);
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8:f::3", vk.addr), 1);
	ck_assert_int_eq(bpf_map_lookup_elem(obj.vips_fd, &vk, &v), 0);
	ck_assert_uint_eq(v.nports, 0);		/* every port */

	/* 2 vips of 40,000 ports: more than the map's 65,536. */
	text = malloc(cap);
	ck_assert_ptr_nonnull(text);
	len = (size_t)snprintf(text, cap, "role client\n");
	for (i = 0; i < 2; i++) {
		unsigned p;

		len += (size_t)snprintf(text + len, cap - len,
		    "vip 2001:db8:f::%u {\n", i + 5);
		for (p = 1; p <= 40000; p += 10) {
			unsigned q;

			len += (size_t)snprintf(text + len, cap - len, " ports");
			for (q = p; q < p + 10; q++)
				len += (size_t)snprintf(text + len, cap - len,
				    " %u", q);
			len += (size_t)snprintf(text + len, cap - len, "\n");
		}
		len += (size_t)snprintf(text + len, cap - len, "}\n");
	}
	ck_assert_uint_lt(len, cap);
	big = conf_of(text);
	free(text);
	ck_assert_int_eq(tc_obj_configure(&obj, big, tp_src), -1);
	ck_assert(has_port("2001:db8:f::1", 8080));
	ck_assert_uint_eq(rows_in(obj.vips_fd, sizeof(vk)), 2);
	sp_conf_free(big);
	sp_conf_free(a);
	sp_conf_free(b);
}
END_TEST

/* The tc_ports row of flow key with server (as the programs write it
 * when the flow learns it). */
static void
index_row(const struct lbsp_tc_flow_key *key, const uint8_t *server)
{
	struct lbsp_tc_port_key pk;
	struct lbsp_tc_vip_key vk;

	memset(&pk, 0, sizeof(pk));
	memcpy(pk.local, key->src, 16);
	memcpy(pk.remote, server, 16);
	pk.lport = key->sport;
	pk.rport = key->dport;
	pk.proto = key->proto;
	memcpy(vk.addr, key->dst, 16);
	ck_assert_int_eq(bpf_map_update_elem(obj.ports_fd, &pk, &vk, 0), 0);
}

START_TEST(client_flows_expire)
{
	uint8_t pkt[TP_MAX];
	struct lbsp_tc_flow_key key, next;
	struct lbsp_tc_port_key pk, pnext;
	struct lbsp_tc_flow f;
	uint64_t now;
	size_t len;

	/* A TCP flow closed (FIN both ways) and a UDP flow, each with a
	 * server learned, so indexed by it. */
	len = build(pkt, NULL, 6, SP_TCP_ACK | SP_TCP_FIN, 10);
	(void)run(obj.egress_fd, pkt, len);
	ck_assert_int_eq(bpf_map_get_next_key(obj.flows_fd, NULL, &key), 0);
	ck_assert_int_eq(bpf_map_lookup_elem(obj.flows_fd, &key, &f), 0);
	ck_assert_uint_eq(f.flags & LBSP_TC_F_CLOSING, LBSP_TC_F_FIN_ORIG);
	f.flags |= LBSP_TC_F_FIN_REPLY;
	memcpy(f.server, tp_server, 16);
	ck_assert_int_eq(bpf_map_update_elem(obj.flows_fd, &key, &f, 0), 0);
	index_row(&key, tp_server);
	now = f.last_ns;
	len = build(pkt, NULL, 17, 0, 10);
	(void)run(obj.egress_fd, pkt, len);
	ck_assert_int_eq(bpf_map_get_next_key(obj.flows_fd, NULL, &next), 0);
	if (next.proto != 17)
		ck_assert_int_eq(bpf_map_get_next_key(obj.flows_fd, &next,
		    &next), 0);
	ck_assert_int_eq(bpf_map_lookup_elem(obj.flows_fd, &next, &f), 0);
	memcpy(f.server, tp_server, 16);
	ck_assert_int_eq(bpf_map_update_elem(obj.flows_fd, &next, &f, 0), 0);
	index_row(&next, tp_server);

	/* Within every timeout: nothing goes.  After linger (10 s by
	 * default) the closed TCP flow goes, with its port index entry;
	 * after the UDP timeout (60 s) the UDP flow. */
	ck_assert_uint_eq(tc_obj_expire(&obj, now + 1000000000ull, conf, 100),
	    0);
	ck_assert_uint_eq(tc_obj_expire(&obj, now + 11000000000ull, conf,
	    100), 1);
	ck_assert_int_ne(bpf_map_lookup_elem(obj.flows_fd, &key, &f), 0);
	ck_assert_int_eq(bpf_map_get_next_key(obj.flows_fd, NULL, &next), 0);
	ck_assert_uint_eq(next.proto, 17);
	ck_assert_int_eq(bpf_map_get_next_key(obj.ports_fd, NULL, &pk), 0);
	ck_assert_uint_eq(pk.proto, 17);
	ck_assert_mem_eq(pk.remote, tp_server, 16);
	ck_assert_int_ne(bpf_map_get_next_key(obj.ports_fd, &pk, &pnext), 0);
	ck_assert_uint_eq(tc_obj_expire(&obj, now + 61000000000ull, conf,
	    100), 1);
	ck_assert_int_ne(bpf_map_get_next_key(obj.flows_fd, NULL, &next), 0);
}
END_TEST

START_TEST(client_port_reused)
{
	uint8_t pkt[TP_MAX];
	struct lbsp_tc_flow_key key;
	struct lbsp_tc_flow f;
	size_t len;

	/* A closed flow whose server was learned: a new SYN on the same
	 * ports starts afresh (to the vip: the cache is empty). */
	len = build(pkt, NULL, 6, SP_TCP_ACK | SP_TCP_RST, 0);
	(void)run(obj.egress_fd, pkt, len);
	ck_assert_int_eq(bpf_map_get_next_key(obj.flows_fd, NULL, &key), 0);
	ck_assert_int_eq(bpf_map_lookup_elem(obj.flows_fd, &key, &f), 0);
	ck_assert_uint_eq(f.flags & LBSP_TC_F_RST, LBSP_TC_F_RST);
	memcpy(f.server, tp_server, 16);
	ck_assert_int_eq(bpf_map_update_elem(obj.flows_fd, &key, &f, 0), 0);
	len = build(pkt, NULL, 6, SP_TCP_SYN, 0);
	expect_option(pkt, len, tp_src, zero16);
	assert_out(run(obj.egress_fd, pkt, len));
	ck_assert_int_eq(bpf_map_lookup_elem(obj.flows_fd, &key, &f), 0);
	/* Nothing of the closed flow is left; the new SYN left to the vip
	 * with the option, which the option blackhole watches. */
	ck_assert_uint_eq(f.flags, LBSP_TC_CF_VIP_SYN);
	ck_assert_mem_eq(f.server, zero16, 16);
}
END_TEST

/* pkt[0..len), TCP without extension headers, sent to addr instead. */
static void
send_to(uint8_t *pkt, size_t len, const uint8_t *addr)
{
	memcpy(&pkt[SP_IP6_OFF_DST], addr, 16);
	sp_put16(&pkt[40 + 16], 0);
	sp_put16(&pkt[40 + 16], tp_ref_csum(pkt, len, 40, 6));
}

/* The answer of server to req (seg2 = server): what the client makes of
 * it is the answer from the vip, MSS clamped. */
static void
answer_checked(const uint8_t *req, size_t len, const uint8_t *server,
    const uint8_t *to_vip, uint8_t flags)
{
	uint8_t ans[TP_MAX];
	size_t alen;
	bool changed;

	alen = answer(ans, req, len, server, flags);
	with_option(ans, &alen, tp_src, server);
	memcpy(want, ans, alen);
	want_len = alen;
	ck_assert_int_eq(sp_pkt_set_addr(want, want_len, SP_ADDR_SRC, to_vip),
	    SP_OK);
	(void)sp_tcp_mss_clamp(want, want_len, sp_tcp_mss_for_mtu(1500),
	    &changed);
	assert_out(run(obj.ingress_fd, ans, alen));
}

/*
 * Two connections from one local port to two vips at once (Linux picks
 * ephemeral ports per destination), the vips served by one host from an
 * address each: every answer goes back to its own vip's connection, and
 * each connection is then redirected to its own server.  Keyed without
 * the remote, the second connection's index row took the first's place.
 */
START_TEST(client_two_vips_one_port)
{
	static const uint8_t vip2[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xf,
	    [14] = 2 };
	static const uint8_t server2[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 6,
	    [15] = 1 };
	uint8_t syn1[TP_MAX], syn2[TP_MAX], pkt[TP_MAX];
	struct lbsp_tc_cache_key ck;
	struct lbsp_tc_cache ce;
	struct sp_conf *two;
	size_t len;

	two = conf_of("role client\n"
	    "vip 2001:db8:f::100 {\n allow-servers 2001:db8:5::/64\n}\n"
	    "vip 2001:db8:f::200 {\n allow-servers 2001:db8:6::/64\n}\n");
	ck_assert_int_eq(tc_obj_configure(&obj, two, tp_src), 0);

	/* The SYNs, to vip then vip2, from one port. */
	len = build(syn1, NULL, 6, SP_TCP_SYN, 0);
	memcpy(syn2, syn1, len);
	send_to(syn2, len, vip2);
	expect_option(syn1, len, tp_src, zero16);
	assert_out(run(obj.egress_fd, syn1, len));
	expect_option(syn2, len, tp_src, zero16);
	assert_out(run(obj.egress_fd, syn2, len));

	/* The SYN-ACKs, vip2's server first: each to its own vip. */
	answer_checked(syn2, len, server2, vip2, SP_TCP_SYN | SP_TCP_ACK);
	answer_checked(syn1, len, tp_server, vip, SP_TCP_SYN | SP_TCP_ACK);
	ck_assert_uint_eq(counter(LBSP_TC_C_LEARNED), 2);
	ck_assert_uint_eq(counter(LBSP_TC_C_SRC_REWRITTEN), 2);
	ck_assert_uint_eq(counter(LBSP_TC_C_SEG2_REJECTED), 0);
	memcpy(ck.identity, tp_src, 16);
	memcpy(ck.vip, vip, 16);
	ck_assert_int_eq(bpf_map_lookup_elem(obj.cache_fd, &ck, &ce), 0);
	ck_assert_mem_eq(ce.server, tp_server, 16);
	memcpy(ck.vip, vip2, 16);
	ck_assert_int_eq(bpf_map_lookup_elem(obj.cache_fd, &ck, &ce), 0);
	ck_assert_mem_eq(ce.server, server2, 16);

	/* Each connection goes on to its own server ... */
	len = build(pkt, NULL, 6, SP_TCP_ACK, 100);
	memcpy(want, pkt, len);
	want_len = len;
	ck_assert_int_eq(sp_pkt_set_addr(want, want_len, SP_ADDR_DST,
	    tp_server), SP_OK);
	with_option(want, &want_len, tp_src, tp_server);
	assert_out(run(obj.egress_fd, pkt, len));
	send_to(pkt, len, vip2);
	memcpy(want, pkt, len);
	want_len = len;
	ck_assert_int_eq(sp_pkt_set_addr(want, want_len, SP_ADDR_DST,
	    server2), SP_OK);
	with_option(want, &want_len, tp_src, server2);
	assert_out(run(obj.egress_fd, pkt, len));
	ck_assert_uint_eq(counter(LBSP_TC_C_REDIRECTED), 2);
	/* ... and its servers' answers to it, through the index. */
	ck_assert_uint_eq(rows_in(obj.ports_fd,
	    sizeof(struct lbsp_tc_port_key)), 2);
	len = build(pkt, NULL, 6, SP_TCP_ACK, 100);
	answer_checked(pkt, len, tp_server, vip, SP_TCP_ACK);
	send_to(pkt, len, vip2);
	answer_checked(pkt, len, server2, vip2, SP_TCP_ACK);
	ck_assert_uint_eq(counter(LBSP_TC_C_SRC_REWRITTEN), 4);
	sp_conf_free(two);
}
END_TEST

/* An ICMPv6 error of type from router 2001:db8:9::1 to the client,
 * quoting the first qlen bytes of quoted[0..len). */
static size_t
icmp_error_of(uint8_t *pkt, uint8_t type, const uint8_t *quoted,
    size_t len, size_t qlen)
{
	static const uint8_t router[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 9,
	    [15] = 1 };

	if (qlen > len)
		qlen = len;
	memset(pkt, 0, 48);
	pkt[0] = 0x60;
	sp_put16(&pkt[4], (uint16_t)(8 + qlen));
	pkt[6] = 58;
	pkt[7] = 64;
	memcpy(&pkt[SP_IP6_OFF_SRC], router, 16);
	memcpy(&pkt[SP_IP6_OFF_DST], tp_src, 16);
	pkt[40] = type;
	if (type == 2)
		sp_put16(&pkt[46], 1280);
	memcpy(&pkt[48], quoted, qlen);
	sp_put16(&pkt[42], tp_ref_csum(pkt, 48 + qlen, 40, 58));
	return 48 + qlen;
}

START_TEST(client_icmp_errors)
{
	uint8_t pkt[TP_MAX], sent[TP_MAX], err[TP_MAX];
	struct lbsp_tc_cache_key ck;
	struct lbsp_tc_cache ce;
	size_t len, slen, elen;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in,
	    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	/* A redirected TCP flow (its server cached) and its packet as
	 * it left, to the server. */
	cache_row_put(&ck, &ce);
	len = build(pkt, NULL, 6, SP_TCP_ACK, 1200);
	slen = run(obj.egress_fd, pkt, len);
	memcpy(sent, out + ETH, slen);
	ck_assert_mem_eq(&sent[SP_IP6_OFF_DST], tp_server, 16);

	/* Packet Too Big quoting all of it, then only 88 bytes of it
	 * (no L4 checksum quoted): the quote goes back to the vip. */
	elen = icmp_error_of(err, 2, sent, slen, 1232 - 48);
	memcpy(want, err, elen);
	want_len = elen;
	ck_assert_int_eq(sp_icmp6_set_inner_addr(want, want_len, SP_ADDR_DST,
	    vip), SP_OK);
	assert_out(run(obj.ingress_fd, err, elen));
	elen = icmp_error_of(err, 2, sent, slen, 88);
	memcpy(want, err, elen);
	want_len = elen;
	ck_assert_int_eq(sp_icmp6_set_inner_addr(want, want_len, SP_ADDR_DST,
	    vip), SP_OK);
	assert_out(run(obj.ingress_fd, err, elen));
	ck_assert_uint_eq(counter(LBSP_TC_C_ICMP_REWRITTEN), 2);
	ck_assert_uint_eq(counter(LBSP_TC_C_FALLBACKS), 0);

	/* Unreachable, the server never answered: dropped, fallen back. */
	elen = icmp_error_of(err, 1, sent, slen, 200);
	memset(in, 0, ETH);
	in[12] = 0x86;
	in[13] = 0xdd;
	memcpy(in + ETH, err, elen);
	o.data_size_in = (uint32_t)(elen + ETH);
	ck_assert_int_eq(bpf_prog_test_run_opts(obj.ingress_fd, &o), 0);
	ck_assert_uint_eq(o.retval, 2);	/* TC_ACT_SHOT */
	ck_assert_uint_eq(counter(LBSP_TC_C_ICMP_ABSORBED), 1);
	ck_assert_uint_eq(counter(LBSP_TC_C_FALLBACKS), 1);
	ck_assert_uint_eq(counter(LBSP_TC_C_FALLBACK_ICMP), 1);
	ck_assert_uint_eq(counter(LBSP_TC_C_ICMP_REWRITTEN), 3);
	ck_assert_int_eq(bpf_map_lookup_elem(obj.cache_fd, &ck, &ce), 0);
	ck_assert_uint_eq(ce.state, LBSP_TC_CACHE_SUSPECT);
	ck_assert_uint_eq(ce.reason, LBSP_TC_SUSPECT_ICMP);
	/* The flow's next packet goes to the vip, seg2 zero. */
	expect_option(pkt, len, tp_src, zero16);
	assert_out(run(obj.egress_fd, pkt, len));
	/* An error about a flow we do not know passes untouched. */
	memcpy(&sent[SP_IP6_OFF_DST], other, 16);
	elen = icmp_error_of(err, 2, sent, slen, 100);
	memcpy(want, err, elen);
	want_len = elen;
	assert_out(run(obj.ingress_fd, err, elen));
	ck_assert_uint_eq(counter(LBSP_TC_C_ICMP_REWRITTEN), 3);
}
END_TEST

/* err[0..len) saying mtu, its checksum made right again. */
static void
ptb_mtu_set(uint8_t *err, size_t len, uint32_t mtu)
{
	sp_put32(&err[44], mtu);
	sp_put16(&err[42], 0);
	sp_put16(&err[42], tp_ref_csum(err, len, 40, 58));
}

/*
 * Packet Too Big about a packet that left with the option: the stack
 * reads the MTU 40 lower, so that its segments and the option fit; an
 * MTU under 1280 + 40 is left alone and counted; about a packet
 * without the option, nothing changes.
 */
START_TEST(client_ptb_lowered)
{
	uint8_t pkt[TP_MAX], sent[TP_MAX], err[TP_MAX];
	struct lbsp_tc_cache_key ck;
	struct lbsp_tc_cache ce;
	size_t len, slen, elen;

	cache_row_put(&ck, &ce);
	len = build(pkt, NULL, 6, SP_TCP_ACK, 1200);
	slen = run(obj.egress_fd, pkt, len);
	memcpy(sent, out + ETH, slen);

	elen = icmp_error_of(err, 2, sent, slen, 1232 - 48);
	ptb_mtu_set(err, elen, 1400);
	memcpy(want, err, elen);
	want_len = elen;
	ck_assert_int_eq(sp_icmp6_set_inner_addr(want, want_len, SP_ADDR_DST,
	    vip), SP_OK);
	ptb_mtu_set(want, want_len, 1360);
	assert_out(run(obj.ingress_fd, err, elen));
	ck_assert_uint_eq(counter(LBSP_TC_C_PTB_LOWERED), 1);
	ck_assert_uint_eq(counter(LBSP_TC_C_PTB_UNDER_MINIMUM), 0);

	ptb_mtu_set(err, elen, 1319);
	memcpy(want, err, elen);
	ck_assert_int_eq(sp_icmp6_set_inner_addr(want, want_len, SP_ADDR_DST,
	    vip), SP_OK);
	assert_out(run(obj.ingress_fd, err, elen));
	ck_assert_uint_eq(counter(LBSP_TC_C_PTB_LOWERED), 1);
	ck_assert_uint_eq(counter(LBSP_TC_C_PTB_UNDER_MINIMUM), 1);

	/* About a packet without the option: as it came. */
	elen = icmp_error_of(err, 2, pkt, len, 1232 - 48);
	ptb_mtu_set(err, elen, 1400);
	memcpy(want, err, elen);
	want_len = elen;
	assert_out(run(obj.ingress_fd, err, elen));
	ck_assert_uint_eq(counter(LBSP_TC_C_PTB_LOWERED), 1);
}
END_TEST

/* ------------------------------------------------------------ server */

/* A packet from tp_src to the server (dst tp_server), no option yet. */
static size_t
to_server(uint8_t *pkt, uint8_t flags, size_t payload)
{
	size_t len = build(pkt, NULL, 6, flags, payload);

	memcpy(&pkt[SP_IP6_OFF_DST], tp_server, 16);
	sp_put16(&pkt[40 + 16], tp_ref_csum(pkt, len, 40, 6));
	return len;
}

/* pkt[0..len) with LBSP{tp_src, seg2} through the server's ingress. */
static void
server_in(const uint8_t *pkt, size_t len, const uint8_t *seg2)
{
	uint8_t b[TP_MAX];

	memcpy(b, pkt, len);
	with_option(b, &len, tp_src, seg2);
	(void)run(obj.ingress_fd, b, len);
}

/*
 * A cache larger than the default: the fallback timer makes every row
 * naming the flow's server suspect, not only the first 4096 the daemon
 * met (lbspd/path/tc.c's cache_suspect_server()).
 */
START_TEST(client_big_cache_fallback)
{
	uint8_t pkt[TP_MAX];
	struct lbsp_tc_cache_key ck;
	struct lbsp_tc_cache ce;
	unsigned i, rows = 0, suspect = 0;
	size_t len;

	/* A UDP flow redirected by its identity's row, never answered. */
	cache_row_put(&ck, &ce);
	len = build(pkt, NULL, 17, 0, 30);
	(void)run(obj.egress_fd, pkt, len);
	ck_assert_uint_eq(counter(LBSP_TC_C_REDIRECTED), 1);
	/* 5000 other identities learned the same server. */
	for (i = 1; i <= 5000; i++) {
		tp_addr(ck.identity, 1, 0x10000 + i);
		ck_assert_int_eq(bpf_map_update_elem(obj.cache_fd, &ck, &ce,
		    0), 0);
	}

	ck_assert_uint_eq(tc_obj_fallback(&obj, UINT64_MAX / 2, 1000), 1);
	for (i = 0; i <= 5000; i++) {
		if (i == 0)
			memcpy(ck.identity, tp_src, 16);
		else
			tp_addr(ck.identity, 1, 0x10000 + i);
		if (bpf_map_lookup_elem(obj.cache_fd, &ck, &ce) != 0)
			continue;	/* retired by the LRU map */
		rows++;
		if (ce.state == LBSP_TC_CACHE_SUSPECT &&
		    ce.reason == LBSP_TC_SUSPECT_TIMER)
			suspect++;
	}
	ck_assert_uint_gt(rows, 4096);
	ck_assert_uint_eq(suspect, rows);
}
END_TEST

/*
 * The fallback sweep times a TCP flow only from the SYN that went to
 * the server: an RST answering a server's late SYN-ACK (a connection
 * the client gave up on) is redirected to that server and never
 * answered, and the server is fine -- it must not become suspect.
 */
START_TEST(client_rst_not_timed)
{
	uint8_t pkt[TP_MAX];
	struct lbsp_tc_cache_key ck;
	struct lbsp_tc_cache ce;
	size_t len;

	cache_row_put(&ck, &ce);
	len = build(pkt, NULL, 6, SP_TCP_RST, 0);
	(void)run(obj.egress_fd, pkt, len);
	ck_assert_uint_eq(counter(LBSP_TC_C_REDIRECTED), 1);
	ck_assert_uint_eq(tc_obj_fallback(&obj, UINT64_MAX / 2, 1000), 0);
	ck_assert_int_eq(bpf_map_lookup_elem(obj.cache_fd, &ck, &ce), 0);
	ck_assert_uint_eq(ce.state, LBSP_TC_CACHE_OK);
	/* The port used again: a SYN to the server, never answered, is. */
	len = build(pkt, NULL, 6, SP_TCP_SYN, 0);
	(void)run(obj.egress_fd, pkt, len);
	ck_assert_uint_eq(counter(LBSP_TC_C_REDIRECTED), 2);
	ck_assert_uint_eq(tc_obj_fallback(&obj, UINT64_MAX / 2, 1000), 1);
	ck_assert_int_eq(bpf_map_lookup_elem(obj.cache_fd, &ck, &ce), 0);
	ck_assert_uint_eq(ce.state, LBSP_TC_CACHE_SUSPECT);
	ck_assert_uint_eq(ce.reason, LBSP_TC_SUSPECT_TIMER);
}
END_TEST

START_TEST(server_echoes)
{
	uint8_t syn[TP_MAX], ack[TP_MAX], pkt[TP_MAX];
	size_t len, alen, slen;

	/* A SYN arriving straight (seg2 zero) at the server, dst = S. */
	len = to_server(syn, SP_TCP_SYN, 0);
	slen = len;
	memcpy(pkt, syn, len);
	with_option(pkt, &len, tp_src, zero16);
	memcpy(want, pkt, len);
	want_len = len;
	{
		bool changed;

		(void)sp_tcp_mss_clamp(want, want_len,
		    sp_tcp_mss_for_mtu(1500), &changed);
	}
	assert_out(run(obj.ingress_fd, pkt, len));
	ck_assert_uint_eq(counter(LBSP_TC_C_SEG1_LEARNED), 1);

	/* Its SYN-ACK: seg1 echoed, seg2 = S, source unchanged. */
	alen = answer(ack, syn, slen, tp_server, SP_TCP_SYN | SP_TCP_ACK);
	expect_option(ack, alen, tp_src, tp_server);
	assert_out(run(obj.egress_fd, ack, alen));
	ck_assert_uint_eq(counter(LBSP_TC_C_SEG2_FILLED), 1);
	ck_assert_uint_eq(counter(LBSP_TC_C_FROM_VIP), 0);

	/* An answer already carrying an option: updated in place. */
	memcpy(pkt, ack, alen);
	len = alen;
	with_option(pkt, &len, other, zero16);
	memcpy(want, pkt, len);
	want_len = len;
	{
		bool changed;
		struct sp_lbsp o;

		memcpy(o.seg1, tp_src, 16);
		memcpy(o.seg2, tp_server, 16);
		(void)sp_tcp_mss_clamp(want, want_len,
		    sp_tcp_mss_for_mtu(1500), &changed);
		ck_assert_int_eq(sp_dopt_set(want, &want_len, TP_MAX, 0x1e,
		    &o, NULL), SP_OK);
	}
	assert_out(run(obj.egress_fd, pkt, len));
	ck_assert_uint_eq(counter(LBSP_TC_C_UPDATED), 1);

	/* Packets of other flows pass untouched. */
	len = build(pkt, NULL, 17, 0, 10);
	memcpy(want, pkt, len);
	want_len = len;
	assert_out(run(obj.egress_fd, pkt, len));
}
END_TEST

START_TEST(server_answers_from_vip)
{
	uint8_t syn[TP_MAX], ack[TP_MAX], pkt[TP_MAX];
	size_t len, alen, slen;

	/* Through a balancer: dst rewritten to S, seg2 = the vip. */
	slen = to_server(syn, SP_TCP_ACK, 10);
	server_in(syn, slen, vip);

	alen = answer(ack, syn, slen, tp_server, SP_TCP_ACK);
	expect_option(ack, alen, tp_src, tp_server);
	ck_assert_int_eq(sp_pkt_set_addr(want, want_len, SP_ADDR_SRC, vip),
	    SP_OK);
	assert_out(run(obj.egress_fd, ack, alen));
	ck_assert_uint_eq(counter(LBSP_TC_C_FROM_VIP), 1);

	/* The client learned S and talks to it straight: answers from S. */
	memcpy(pkt, syn, slen);
	len = slen;
	with_option(pkt, &len, tp_src, tp_server);
	(void)run(obj.ingress_fd, pkt, len);
	expect_option(ack, alen, tp_src, tp_server);
	assert_out(run(obj.egress_fd, ack, alen));
	ck_assert_uint_eq(counter(LBSP_TC_C_FROM_VIP), 1);
}
END_TEST

/* Every kernel counter has a name, none twice: lbspd's where it is one
 * of lbspd's counters or pass reasons. */
/* The server's answers carry the option too: its Packet Too Big. */
START_TEST(server_ptb_lowered)
{
	uint8_t pkt[TP_MAX], err[TP_MAX];
	size_t len, elen;

	len = to_server(pkt, SP_TCP_ACK, 1200);
	with_option(pkt, &len, tp_src, tp_server);
	elen = icmp_error_of(err, 2, pkt, len, 1232 - 48);
	ptb_mtu_set(err, elen, 1500);
	memcpy(want, err, elen);
	want_len = elen;
	ptb_mtu_set(want, want_len, 1460);
	assert_out(run(obj.ingress_fd, err, elen));
	ck_assert_uint_eq(counter(LBSP_TC_C_PTB_LOWERED), 1);
}
END_TEST

START_TEST(counter_names)
{
	unsigned i, k;

	for (i = 0; i < LBSP_TC_C__COUNT; i++) {
		ck_assert_ptr_nonnull(tc_counter_name(i));
		ck_assert_uint_gt(strlen(tc_counter_name(i)), 0);
		for (k = 0; k < i; k++)
			ck_assert_str_ne(tc_counter_name(i),
			    tc_counter_name(k));
	}
	ck_assert_str_eq(tc_counter_name(LBSP_TC_C_PACKETS), "packets");
	ck_assert_str_eq(tc_counter_name(LBSP_TC_C_FALLBACK_ICMP),
	    "fallback_icmp_unreachable");
	ck_assert_str_eq(tc_counter_name(LBSP_TC_C_NOT_VIP), "not-vip");
	ck_assert_str_eq(tc_counter_name(LBSP_TC_C_HOP_BY_HOP),
	    "hop-by-hop");
	ck_assert_str_eq(tc_counter_name(LBSP_TC_C__COUNT), "unknown");
}
END_TEST

/* A SYN with the option from src:sport to the server, through its
 * ingress program. */
static void
syn_from(const uint8_t *src, uint16_t sport)
{
	uint8_t pkt[TP_MAX];
	size_t len = to_server(pkt, SP_TCP_SYN, 0);

	memcpy(&pkt[SP_IP6_OFF_SRC], src, 16);
	sp_put16(&pkt[40], sport);
	sp_put16(&pkt[40 + 16], tp_ref_csum(pkt, len, 40, 6));
	with_option(pkt, &len, src, zero16);
	(void)run(obj.ingress_fd, pkt, len);
}

/* Flows of src (NULL: all) in the map fd. */
static unsigned
flows_in(int fd, const uint8_t *src)
{
	struct lbsp_tc_flow_key key, next;
	unsigned n = 0, i;
	bool first = true;

	for (i = 0; i < 1000; i++) {
		if (bpf_map_get_next_key(fd, first ? NULL : &key, &next) != 0)
			break;
		first = false;
		key = next;
		if (src == NULL || memcmp(key.src, src, 16) == 0)
			n++;
	}
	return n;
}

/* Flows of src (NULL: all), new and established. */
static unsigned
flows_of(const uint8_t *src)
{
	return flows_in(obj.flows_fd, src) + flows_in(obj.flows_est_fd, src);
}

/* tc_sources' row of src (0: none). */
static uint32_t
source_row(const uint8_t *src)
{
	struct lbsp_tc_source_key k;
	uint32_t v = 0;

	memcpy(k.addr, src, 16);
	if (bpf_map_lookup_elem(obj.sources_fd, &k, &v) != 0)
		return 0;
	return v;
}

START_TEST(server_source_limit)
{
	struct lbsp_tc_flow_key key, next;
	bool first = true;
	uint64_t now;
	unsigned i;

	conf->max_flows_per_source = 2;
	ck_assert_int_eq(tc_obj_configure(&obj, conf, tp_src), 0);

	/* Three flows of one source: the third refused, counted; packets
	 * of the flows it holds go on. */
	syn_from(tp_src, 1000);
	syn_from(tp_src, 1001);
	syn_from(tp_src, 1002);
	syn_from(tp_src, 1000);
	ck_assert_uint_eq(flows_of(tp_src), 2);
	ck_assert_uint_eq(source_row(tp_src), 2);
	ck_assert_uint_eq(counter(LBSP_TC_C_SOURCE_LIMITED), 1);
	ck_assert_uint_eq(counter(LBSP_TC_C_FLOWS_CREATED), 2);
	ck_assert_uint_eq(counter(LBSP_TC_C_SEG1_LEARNED), 2);
	/* Another source has its own two. */
	syn_from(other, 1000);
	syn_from(other, 1001);
	ck_assert_uint_eq(flows_of(other), 2);
	ck_assert_uint_eq(counter(LBSP_TC_C_SOURCE_LIMITED), 1);

	/* A flow that goes without the programs knowing (the kernel
	 * retiring it from a full map): the row still says 2 until the
	 * sweep, which sets it right. */
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(bpf_map_get_next_key(obj.flows_fd,
		    first ? NULL : &key, &next), 0);
		first = false;
		key = next;
		if (memcmp(key.src, tp_src, 16) == 0)
			break;
	}
	ck_assert_int_eq(bpf_map_delete_elem(obj.flows_fd, &key), 0);
	syn_from(tp_src, 1003);
	ck_assert_uint_eq(counter(LBSP_TC_C_SOURCE_LIMITED), 2);
	now = sp_now_ns();
	ck_assert_uint_eq(tc_obj_expire(&obj, now, conf, 100), 0);
	ck_assert_uint_eq(source_row(tp_src), 1);
	ck_assert_uint_eq(source_row(other), 2);
	syn_from(tp_src, 1003);
	ck_assert_uint_eq(flows_of(tp_src), 2);
	ck_assert_uint_eq(counter(LBSP_TC_C_SOURCE_LIMITED), 2);

	/* Half-open flows go after timeout tcp (120 s), and the rows of
	 * their sources with them. */
	ck_assert_uint_eq(tc_obj_expire(&obj, now + 119000000000ull, conf,
	    100), 0);
	ck_assert_uint_eq(tc_obj_expire(&obj, now + 121000000000ull, conf,
	    100), 4);
	ck_assert_uint_eq(flows_of(NULL), 0);
	ck_assert_uint_eq(source_row(tp_src), 0);
	ck_assert_uint_eq(source_row(other), 0);

	/* No limit: the rows go with it (at once, not at a sweep), and
	 * none is kept. */
	syn_from(tp_src, 1999);
	ck_assert_uint_eq(source_row(tp_src), 1);
	conf->max_flows_per_source = 0;
	ck_assert_int_eq(tc_obj_configure(&obj, conf, tp_src), 0);
	ck_assert_uint_eq(source_row(tp_src), 0);
	for (i = 0; i < 3; i++)
		syn_from(tp_src, (uint16_t)(2000 + i));
	ck_assert_uint_eq(flows_of(tp_src), 4);
	ck_assert_uint_eq(source_row(tp_src), 0);
}
END_TEST

START_TEST(server_flows_retired)
{
	uint8_t src[16];
	uint64_t now, held;
	unsigned i;

	/* 40 new flows into a map of 4: the kernel retires the oldest; the
	 * sweep finds what is left and counts the rest retired. */
	memcpy(src, tp_src, 16);
	for (i = 0; i < 40; i++) {
		src[15] = (uint8_t)(i + 1);
		syn_from(src, 1000);
	}
	held = flows_of(NULL);
	ck_assert_uint_le(held, 4);
	ck_assert_uint_ge(held, 1);
	ck_assert_uint_eq(counter(LBSP_TC_C_FLOWS_CREATED), 40);
	ck_assert_uint_eq(counter(LBSP_TC_C_FLOWS_FULL), 0);
	now = sp_now_ns();
	ck_assert_uint_eq(tc_obj_expire(&obj, now, conf, 100), 0);
	ck_assert_uint_eq(obj.flows, held);
	ck_assert_uint_eq(obj.retired, 40 - held);
	/* The most recent flow is there. */
	ck_assert_uint_eq(flows_of(src), 1);

	/* Flows the sweep removes are expired, not retired. */
	ck_assert_uint_eq(tc_obj_expire(&obj, now + 121000000000ull, conf,
	    100), held);
	ck_assert_uint_eq(obj.flows, 0);
	ck_assert_uint_eq(obj.expired, held);
	ck_assert_uint_eq(obj.retired, 40 - held);
}
END_TEST

START_TEST(server_flow_states)
{
	uint8_t syn[TP_MAX], ack[TP_MAX], pkt[TP_MAX];
	struct lbsp_tc_flow_key key;
	struct lbsp_tc_flow f;
	size_t len, alen, slen;

	/* SYN, SYN-ACK, ACK: established only once the client
	 * acknowledged an answer. */
	slen = to_server(syn, SP_TCP_SYN, 0);
	server_in(syn, slen, zero16);
	ck_assert_int_eq(bpf_map_get_next_key(obj.flows_fd, NULL, &key), 0);
	ck_assert_int_eq(bpf_map_lookup_elem(obj.flows_fd, &key, &f), 0);
	ck_assert_uint_eq(f.flags & LBSP_TC_F_ESTABLISHED, 0);
	alen = answer(ack, syn, slen, tp_server, SP_TCP_SYN | SP_TCP_ACK);
	(void)run(obj.egress_fd, ack, alen);
	ck_assert_int_eq(bpf_map_lookup_elem(obj.flows_fd, &key, &f), 0);
	ck_assert_uint_eq(f.flags & LBSP_TC_F_ESTABLISHED, 0);
	len = to_server(pkt, SP_TCP_ACK, 0);
	server_in(pkt, len, zero16);
	/* Moved to the established flows, its row with it. */
	ck_assert_int_ne(bpf_map_lookup_elem(obj.flows_fd, &key, &f), 0);
	ck_assert_int_eq(bpf_map_lookup_elem(obj.flows_est_fd, &key, &f), 0);
	ck_assert_uint_eq(f.flags & LBSP_TC_F_ESTABLISHED,
	    LBSP_TC_F_ESTABLISHED);
	ck_assert_uint_eq(f.packets_orig, 2);
	ck_assert_uint_eq(f.packets_reply, 1);
	ck_assert_mem_eq(f.identity, tp_src, 16);
	ck_assert_int_eq(tc_flow_state(&f), SP_FLOW_ESTABLISHED);
	/* Its answers still carry the option. */
	alen = answer(ack, syn, slen, tp_server, SP_TCP_ACK);
	expect_option(ack, alen, tp_src, tp_server);
	assert_out(run(obj.egress_fd, ack, alen));
	/* Established: idle up to tcp-established (2 h), not tcp. */
	ck_assert_uint_eq(tc_obj_expire(&obj, f.last_ns + 121000000000ull,
	    conf, 100), 0);
	ck_assert_uint_eq(tc_obj_expire(&obj, f.last_ns + 7201000000000ull,
	    conf, 100), 1);
}
END_TEST

/* A flow's state as lbspctl flows names it and the sweep times it:
 * closing only after a FIN both ways (or an RST), as on NFQUEUE. */
START_TEST(server_flow_closing)
{
	uint8_t syn[TP_MAX], pkt[TP_MAX];
	struct lbsp_tc_flow_key key;
	struct lbsp_tc_flow f;
	size_t len, slen;

	ck_assert_int_eq(tc_flow_state(&(struct lbsp_tc_flow){ 0 }),
	    SP_FLOW_NEW);
	slen = to_server(syn, SP_TCP_SYN, 0);
	server_in(syn, slen, zero16);
	ck_assert_int_eq(bpf_map_get_next_key(obj.flows_fd, NULL, &key), 0);
	len = answer(pkt, syn, slen, tp_server, SP_TCP_SYN | SP_TCP_ACK);
	(void)run(obj.egress_fd, pkt, len);
	len = to_server(pkt, SP_TCP_ACK, 0);
	server_in(pkt, len, zero16);
	/* The client's FIN: half closed, still established. */
	len = to_server(pkt, SP_TCP_FIN | SP_TCP_ACK, 0);
	server_in(pkt, len, zero16);
	ck_assert_int_eq(bpf_map_lookup_elem(obj.flows_est_fd, &key, &f), 0);
	ck_assert_uint_ne(f.flags & LBSP_TC_F_FIN_ORIG, 0);
	ck_assert_int_eq(tc_flow_state(&f), SP_FLOW_ESTABLISHED);
	/* The server's FIN too: closing, timed by linger (10 s). */
	len = answer(pkt, syn, slen, tp_server, SP_TCP_FIN | SP_TCP_ACK);
	(void)run(obj.egress_fd, pkt, len);
	ck_assert_int_eq(bpf_map_lookup_elem(obj.flows_est_fd, &key, &f), 0);
	ck_assert_int_eq(tc_flow_state(&f), SP_FLOW_CLOSING);
	ck_assert_uint_eq(tc_obj_expire(&obj, f.last_ns + 11000000000ull,
	    conf, 100), 1);
	/* An RST alone closes. */
	f.flags = LBSP_TC_F_ESTABLISHED | LBSP_TC_F_RST;
	ck_assert_int_eq(tc_flow_state(&f), SP_FLOW_CLOSING);
}
END_TEST

static Suite *
tc_suite(void)
{
	Suite *s = suite_create("tc");
	TCase *c = tcase_create("client"), *v = tcase_create("server");
	TCase *l = tcase_create("limits"), *b = tcase_create("big cache");

	/*
	 * Each test loads the programs afresh, and the verifier takes
	 * seconds on a busy machine (3 s per load seen under a parallel
	 * build): check's 4 s default would call that a hang.  The limit
	 * only stops a real hang; nothing here is timed.
	 */
	tcase_set_timeout(c, 120);
	tcase_set_timeout(v, 120);
	tcase_add_checked_fixture(c, setup_client, teardown);
	tcase_add_test(c, client_inserts);
	tcase_add_test(c, client_mss_value);
	tcase_add_test(c, client_mss_options);
	tcase_add_test(c, client_refusals);
	tcase_add_test(c, client_bad_option_tlv);
	tcase_add_test(c, client_empty_payload);
	tcase_add_test(c, client_zero_identity);
	tcase_add_test(c, client_header_past_end);
	tcase_add_test(c, client_two_fragment_headers);
	tcase_add_test(c, client_two_options);
	tcase_add_test(c, client_eight_headers);
	tcase_add_test(c, client_redirect_short_udp);
	tcase_add_test(c, client_rst_not_timed);
	tcase_add_test(c, client_redirect_routing);
	tcase_add_test(c, client_learns_and_redirects);
	tcase_add_test(c, client_suspect);
	tcase_add_test(c, client_ingress_checks);
	tcase_add_test(c, client_blackhole);
	tcase_add_test(c, client_icmp_errors);
	tcase_add_test(c, client_ptb_lowered);
	tcase_add_test(c, client_flows_expire);
	tcase_add_test(c, client_reconfigure);
	tcase_add_test(c, client_port_reused);
	tcase_add_test(c, client_two_vips_one_port);
	tcase_add_test(c, counter_names);
	suite_add_tcase(s, c);
	tcase_add_checked_fixture(v, setup_server, teardown);
	tcase_add_test(v, server_echoes);
	tcase_add_test(v, server_answers_from_vip);
	tcase_add_test(v, server_ptb_lowered);
	tcase_add_test(v, server_flow_states);
	tcase_add_test(v, server_flow_closing);
	suite_add_tcase(s, v);
	tcase_set_timeout(b, 120);
	tcase_add_checked_fixture(b, setup_big_client, teardown);
	tcase_add_test(b, client_big_cache_fallback);
	suite_add_tcase(s, b);
	tcase_set_timeout(l, 120);
	tcase_add_checked_fixture(l, setup_small_server, teardown);
	tcase_add_test(l, server_source_limit);
	tcase_add_test(l, server_flows_retired);
	suite_add_tcase(s, l);
	return s;
}

int
main(void)
{
	SRunner *r;
	int failed;

	if (geteuid() != 0) {
		fprintf(stderr, "check_tc: needs root (bpf); skipped\n");
		return 77;
	}
	r = srunner_create(tc_suite());
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? 0 : 1;
}
