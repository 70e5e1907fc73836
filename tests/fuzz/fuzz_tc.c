/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_tc.c -- differential libFuzzer target: one packet through the tc
 * programs (bpf/client.bpf.c, bpf/server.bpf.c, run by the kernel with
 * bpf_prog_test_run_opts) and through libsp's functions for the same
 * work (sp_exthdr_walk, sp_dopt_find / sp_dopt_set, sp_tcp_mss_clamp,
 * sp_pkt_set_addr: what tests/unit/check_tc.c takes as the reference).
 * The verdict and the bytes must be the same; where they differ by a
 * written policy, policy_of() below says so, and the input is counted.
 * Any other difference aborts with a hex dump of the input and of both
 * outputs.  Root only: the programs are loaded once, at the first input.
 *
 * Input: byte 0 chooses what the packet meets, the rest is the IPv6
 * packet (at most PKT_MAX bytes) behind a fixed Ethernet header.
 *   bits 0-2  the scenario (mod 5, enum scenario)
 *   bit  3    raw: the packet as given; else the harness sets version
 *             6, Payload Length and the addresses the scenario needs
 *   bit  4    server egress: the flow came through a balancer (answer
 *             from the vip); client ingress: an LBSP option found gets
 *             seg1 = us and seg2 = the server
 * Each input starts from empty flow, cache and blackhole maps: no state
 * leaks from one input into the next.
 *
 * At exit: "fuzz_tc: N executions, M compared, K by policy" on stderr
 * (tests/fuzz/run.sh prints it), then the policies one by one.
 * FUZZ_TC_ROWS set in the environment: each input's flow rows, as the
 * program left them, on stderr (replaying a crash: the row it found).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include <sp/clock.h>
#include <sp/conf.h>
#include <sp/csum.h>
#include <sp/dopt.h>
#include <sp/exthdr.h>
#include <sp/tcp.h>
#include "conf_priv.h"
#include "path/tc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ETH		14
#define PKT_MAX		2000	/* IPv6 bytes: past the MTU, in a page */
#define OUT_MAX		(PKT_MAX + ETH + 64)
#define TYPE		SP_LBSP_TYPE_DEFAULT

/* The fixed configuration (examples/client.conf's shape), both roles. */
static const char conf_text[] =
    "role client server\n"
    "vip 2001:db8:f::1 {\n"
    "\tallow-servers 2001:db8:5::/64\n"
    "}\n";
static const uint8_t vip[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xf, [15] = 1 };
static const uint8_t server[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 5, [15] = 1 };
/* The client identity the server's flows remember. */
static const uint8_t ident[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1 };
static const uint8_t zero16[16];

enum scenario {
	S_CLIENT_EGRESS,	/* to the vip, nothing cached */
	S_CLIENT_REDIRECT,	/* to the vip, the server cached: single pass */
	S_SERVER_INGRESS,	/* to the server, with the option */
	S_SERVER_EGRESS,	/* an answer of a flow the server knows */
	S_CLIENT_INGRESS,	/* an answer from the server to a redirected
				   flow */
	S__COUNT
};

static const char *const scenario_names[S__COUNT] = {
	[S_CLIENT_EGRESS] = "client egress",
	[S_CLIENT_REDIRECT] = "client egress, redirected",
	[S_SERVER_INGRESS] = "server ingress",
	[S_SERVER_EGRESS] = "server egress",
	[S_CLIENT_INGRESS] = "client ingress",
};

/* Why an input's expected output is the programs' written policy and
 * not libsp's answer (policy_of()). */
enum policy {
	P_NONE,
	P_HOP_BY_HOP,
	P_DSTOPTS,
	P_SHORT_L4,
	P_PAYLOAD_LEN,
	P_ICMP_QUOTE,
	P_MANY_TLVS,
	P_UDP_ZERO_CSUM,
	P__COUNT
};

static const char *const policy_names[P__COUNT] = {
	[P_NONE] = "none",
	[P_HOP_BY_HOP] = "hop-by-hop: no insertion",
	[P_DSTOPTS] = "destination options first: no merge",
	[P_SHORT_L4] = "upper layer shorter than its header: malformed",
	[P_PAYLOAD_LEN] = "payload length not the packet's: not compared",
	[P_ICMP_QUOTE] = "icmpv6 error quoting our flow: not compared",
	[P_MANY_TLVS] = "more than 16 options in a header: malformed",
	[P_UDP_ZERO_CSUM] = "udp checksum 0 under a rewrite: kept 0",
};

static struct tc_obj objs[TC__ROLES];
static struct sp_conf *conf;
static bool loaded;
static unsigned long long n_exec, n_compared, n_policy[P__COUNT];
static unsigned long long n_scenario[S__COUNT];

/* ------------------------------------------------------------ setup */

static void
report(void)
{
	unsigned long long by_policy = 0;
	unsigned i;

	for (i = 1; i < P__COUNT; i++)
		by_policy += n_policy[i];
	fprintf(stderr, "fuzz_tc: %llu executions, %llu compared, %llu by "
	    "policy\n", n_exec, n_compared, by_policy);
	for (i = 0; i < S__COUNT; i++)
		fprintf(stderr, "fuzz_tc:   scenario %s: %llu\n",
		    scenario_names[i], n_scenario[i]);
	for (i = 1; i < P__COUNT; i++)
		fprintf(stderr, "fuzz_tc:   policy %s: %llu\n",
		    policy_names[i], n_policy[i]);
}

static void
load(void)
{
	char err[512];
	enum tc_role r;

	if (geteuid() != 0) {
		fprintf(stderr, "fuzz_tc: needs root (bpf); skipped\n");
		exit(77);
	}
	conf = sp_conf_new();
	if (conf == NULL || sp_conf_parse(conf_text, strlen(conf_text),
	    "fuzz_tc.conf", conf, NULL, NULL) != 0) {
		fprintf(stderr, "fuzz_tc: configuration refused\n");
		exit(1);
	}
	for (r = TC_CLIENT; r < TC__ROLES; r++) {
		if (tc_obj_open(&objs[r], r, NULL, 0, 0, err,
		    sizeof(err)) != 0) {
			fprintf(stderr, "fuzz_tc: %s: %s\n", tc_role_names[r],
			    err);
			exit(77);	/* this kernel cannot load them */
		}
		if (tc_obj_configure(&objs[r], conf, ident) != 0) {
			fprintf(stderr, "fuzz_tc: %s: configure failed\n",
			    tc_role_names[r]);
			exit(1);
		}
	}
	atexit(report);
	loaded = true;
}

/* Empty map fd (its keys ksize bytes): the rows an input left. */
static void
map_clear(int fd, size_t ksize)
{
	uint8_t key[64];
	unsigned i;

	if (fd < 0 || ksize > sizeof(key))
		return;
	for (i = 0; i < 100000; i++) {
		if (bpf_map_get_next_key(fd, NULL, key) != 0)
			return;
		if (bpf_map_delete_elem(fd, key) != 0)
			abort();	/* would loop on the same key */
	}
	abort();
}

static void
maps_clear(struct tc_obj *o)
{
	map_clear(o->flows_fd, sizeof(struct lbsp_tc_flow_key));
	map_clear(o->flows_est_fd, sizeof(struct lbsp_tc_flow_key));
	map_clear(o->sources_fd, sizeof(struct lbsp_tc_source_key));
	map_clear(o->ports_fd, sizeof(struct lbsp_tc_port_key));
	map_clear(o->cache_fd, sizeof(struct lbsp_tc_cache_key));
	map_clear(o->blackholes_fd, sizeof(struct lbsp_tc_vip_key));
}

/* ------------------------------------------------------------ the packet */

/* What the harness knows of a packet from libsp's walk. */
struct view {
	enum sp_err walk_err;
	struct sp_exthdr_info w;
	enum sp_err find_err;	/* sp_dopt_find(): SP_OK, NOT_FOUND, ... */
	struct sp_lbsp opt;	/* when find_err is SP_OK */
	size_t opt_off;
	uint16_t sport, dport;	/* TCP / UDP, else 0 */
	uint8_t tcp_flags;	/* TCP, else 0 */
};

static void
view_of(const uint8_t *pkt, size_t len, struct view *v)
{
	const struct sp_exthdr_info *w = &v->w;

	memset(v, 0, sizeof(*v));
	v->walk_err = sp_exthdr_walk(pkt, len, 0, &v->w);
	if (v->walk_err != SP_OK) {
		v->find_err = v->walk_err;
		return;
	}
	v->find_err = sp_dopt_find_at(pkt, len, w, TYPE, &v->opt,
	    &v->opt_off);
	if (w->nonfirst_frag)
		return;
	if ((w->l4_proto == SP_NH_TCP || w->l4_proto == SP_NH_UDP) &&
	    sp_pkt_has(len, w->l4_off, 4)) {
		v->sport = sp_get16(&pkt[w->l4_off]);
		v->dport = sp_get16(&pkt[w->l4_off + 2]);
	}
	if (w->l4_proto == SP_NH_TCP && sp_pkt_has(len, w->l4_off, 14))
		v->tcp_flags = pkt[w->l4_off + 13];
}

/* libsp refuses to touch it: unwalkable, AH, a non-first fragment, or
 * an LBSP option it cannot read (the NFQUEUE path passes these). */
static bool
refused(const struct view *v)
{
	return v->walk_err != SP_OK ||
	    (v->find_err != SP_OK && v->find_err != SP_ERR_NOT_FOUND) ||
	    v->w.has_ah || v->w.nonfirst_frag;
}

static bool
syn(const struct view *v)
{
	return v->walk_err == SP_OK && v->w.l4_proto == SP_NH_TCP &&
	    (v->tcp_flags & SP_TCP_SYN);
}

/* Inside the vip's allow-servers (2001:db8:5::/64), or the vip. */
static bool
allowed(const uint8_t *a)
{
	return memcmp(a, vip, 16) == 0 || memcmp(a, server, 8) == 0;
}

static int
tlv_count(const uint8_t *pkt, size_t off, uint8_t type, uint8_t dlen,
    void *arg)
{
	(void)pkt;
	(void)off;
	(void)type;
	(void)dlen;
	++*(unsigned *)arg;
	return 0;
}

/* More option TLVs (padding too) in a Destination Options header than
 * the programs look at (MAX_TLVS in bpf/lbsp_common.h). */
static bool
many_tlvs(const uint8_t *pkt, size_t len, const struct sp_exthdr_info *w)
{
	unsigned i, n;

	for (i = 0; i < w->nhdr; i++) {
		n = 0;
		if (w->hdr[i].type == SP_NH_DSTOPTS &&
		    sp_opt_walk(pkt, len, w->hdr[i].off, tlv_count, &n) ==
		    SP_OK && n > 16)
			return true;
	}
	return false;
}

/*
 * The written policies, in one place: where the programs do by design
 * something else than libsp would, what they do.  Returns the policy
 * (P_NONE: libsp's answer is the expected one).
 *
 *  - P_PAYLOAD_LEN: libsp refuses a packet whose Payload Length is not
 *    its length; the programs trust the field (on egress the stack
 *    wrote it; on ingress ip6_rcv checks it after tc).  Only raw inputs
 *    get there; not compared.
 *  - P_SHORT_L4: TCP shorter than the 14 bytes up to its flags, UDP
 *    shorter than its ports: the programs call the packet malformed and
 *    pass it (bpf/lbsp_common.h, lbsp_walk()); libsp's codec does not
 *    read the upper layer and would carry on.  Expected: as refused.
 *  - P_MANY_TLVS: a Destination Options header of more than 16 options
 *    (padding counted): the programs look at 16 and call the rest
 *    malformed; libsp reads them all.  Expected: as refused.
 *  - P_ICMP_QUOTE (client ingress): an ICMPv6 error quoting a packet of
 *    ours is rewritten by the programs' icmp_error(), which check_tc's
 *    client_icmp_errors compares; not modeled here, not compared.
 *  - P_UDP_ZERO_CSUM (set by set_addr() below): an address rewrite of a
 *    UDP datagram whose checksum is 0 (invalid in IPv6): libsp puts the
 *    real checksum in (or refuses when the UDP length is wrong); the
 *    programs keep the 0 (bpf_l4_csum_replace(), BPF_F_MARK_MANGLED_0:
 *    tc does not sum a whole datagram).  Expected: the address alone.
 *  - P_HOP_BY_HOP, P_DSTOPTS (set by put_option() below): the programs
 *    insert the header right after the IPv6 header only; a packet with
 *    Hop-by-Hop, or with a Destination Options header there already
 *    (libsp would insert after Hop-by-Hop, or merge), leaves without
 *    the option (counted hop-by-hop, dstopts-present).
 */
static enum policy
policy_of(enum scenario s, const uint8_t *pkt, size_t len,
    const struct view *v, bool raw)
{
	const struct sp_exthdr_info *w = &v->w;

	if (raw && len >= SP_IP6_HLEN &&
	    sp_get16(&pkt[SP_IP6_OFF_PLEN]) != 0 &&
	    sp_get16(&pkt[SP_IP6_OFF_PLEN]) != len - SP_IP6_HLEN)
		return P_PAYLOAD_LEN;
	if (refused(v))
		return P_NONE;
	if ((w->l4_proto == SP_NH_TCP && !sp_pkt_has(len, w->l4_off, 14)) ||
	    (w->l4_proto == SP_NH_UDP && !sp_pkt_has(len, w->l4_off, 4)))
		return P_SHORT_L4;
	if (many_tlvs(pkt, len, w))
		return P_MANY_TLVS;
	if (s == S_CLIENT_INGRESS && w->l4_proto == SP_NH_ICMPV6 &&
	    sp_pkt_has(len, w->l4_off, 8 + SP_IP6_HLEN) &&
	    pkt[w->l4_off] >= 1 && pkt[w->l4_off] <= 4 &&
	    memcmp(&pkt[w->l4_off + 8 + SP_IP6_OFF_SRC],
	    &pkt[SP_IP6_OFF_DST], 16) == 0)
		return P_ICMP_QUOTE;
	return P_NONE;
}

/* ------------------------------------------------------------ libsp */

/* What libsp makes of the packet. */
struct expect {
	uint8_t pkt[PKT_MAX + 64];
	size_t len;
	uint32_t verdict;	/* TC_ACT_UNSPEC (-1): passed on */
	enum policy policy;
};

/* The MSS clamp of a SYN (mss-clamp on, mtu 1500). */
static void
clamp(struct expect *e, const struct view *v)
{
	bool changed;

	if (syn(v))
		(void)sp_tcp_mss_clamp(e->pkt, e->len,
		    sp_tcp_mss_for_mtu(1500), &changed);
}

/*
 * A Packet Too Big about a packet that left with the option, as the
 * programs' lbsp_ptb_lower() knows one (the quote's first header is
 * the canonical LBSP header, bpf/lbsp_common.h): its MTU 40 lower,
 * from 1320 up, the ICMPv6 checksum following (sp_csum_replace(), RFC
 * 1624, as bpf_l4_csum_replace()).
 */
static void
ptb_lower(struct expect *e, const struct view *v)
{
	const uint8_t *q;
	uint8_t was[4];
	size_t l4 = v->w.l4_off;
	uint32_t mtu;

	if (refused(v) || v->w.l4_proto != SP_NH_ICMPV6 ||
	    !sp_pkt_has(e->len, l4, 8 + SP_IP6_HLEN + 8))
		return;
	q = &e->pkt[l4 + 8 + SP_IP6_HLEN];
	if (e->pkt[l4] != 2 || e->pkt[l4 + 1] != 0 ||
	    e->pkt[l4 + 8 + 6] != SP_NH_DSTOPTS || q[1] != 4 ||
	    q[2] != 1 || q[3] != 2 || q[6] != TYPE || q[7] != 32)
		return;
	mtu = sp_get32(&e->pkt[l4 + 4]);
	if (mtu < 1280 + 40)
		return;
	memcpy(was, &e->pkt[l4 + 4], 4);
	sp_put32(&e->pkt[l4 + 4], mtu - 40);
	sp_put16(&e->pkt[l4 + 2], sp_csum_replace(sp_get16(&e->pkt[l4 + 2]),
	    was, &e->pkt[l4 + 4], 4));
}

/* Rewrite an address with its checksum (sp_pkt_set_addr()).  The
 * packet is walked as it is now: an option put on before has moved
 * its upper layer (struct view is the walk of the packet as it came). */
static void
set_addr(struct expect *e, enum sp_addr which, const uint8_t *to)
{
	struct sp_exthdr_info w;

	if (sp_exthdr_walk(e->pkt, e->len, 0, &w) == SP_OK &&
	    w.l4_proto == SP_NH_UDP && !w.nonfirst_frag && !w.has_routing &&
	    sp_pkt_has(e->len, w.l4_off, 8) &&
	    sp_get16(&e->pkt[w.l4_off + 6]) == 0) {
		e->policy = P_UDP_ZERO_CSUM;
		memcpy(&e->pkt[which == SP_ADDR_SRC ? SP_IP6_OFF_SRC :
		    SP_IP6_OFF_DST], to, 16);
		return;
	}
	(void)sp_pkt_set_addr(e->pkt, e->len, which, to);
}

/* Put LBSP{seg1, seg2} on: in place when there, else the canonical
 * header after the IPv6 header, as bpf/lbsp_common.h's put_option(). */
static void
put_option(struct expect *e, const struct view *v, const uint8_t *seg1,
    const uint8_t *seg2)
{
	struct sp_lbsp o;

	if (v->find_err != SP_OK) {
		if (v->w.insert_off != SP_IP6_HLEN) {
			e->policy = P_HOP_BY_HOP;
			return;
		}
		if (v->w.dopt_idx >= 0) {
			e->policy = P_DSTOPTS;
			return;
		}
		if (e->len + SP_LBSP_HDR_LEN > 1500)
			return;		/* too big */
	}
	memcpy(o.seg1, seg1, 16);
	memcpy(o.seg2, seg2, 16);
	(void)sp_dopt_set(e->pkt, &e->len, sizeof(e->pkt), TYPE, &o, NULL);
}

static void
expect_client_egress(struct expect *e, const struct view *v, bool redirect)
{
	uint8_t seg1[16];

	if (memcmp(&e->pkt[SP_IP6_OFF_DST], vip, 16) != 0 || refused(v) ||
	    e->policy != P_NONE)
		return;		/* not to the vip, or passed */
	memcpy(seg1, &e->pkt[SP_IP6_OFF_SRC], 16);
	if (redirect)
		set_addr(e, SP_ADDR_DST, server);
	clamp(e, v);
	put_option(e, v, seg1, redirect ? server : zero16);
}

static void
expect_server_ingress(struct expect *e, const struct view *v)
{
	if (e->policy != P_NONE)
		return;
	ptb_lower(e, v);
	if (refused(v) || v->find_err != SP_OK)
		return;
	if (!(v->tcp_flags & SP_TCP_ACK))
		clamp(e, v);
}

static void
expect_server_egress(struct expect *e, const struct view *v, bool via_vip)
{
	uint8_t seg2[16];

	if (refused(v) || e->policy != P_NONE)
		return;
	memcpy(seg2, &e->pkt[SP_IP6_OFF_SRC], 16);
	clamp(e, v);
	put_option(e, v, ident, seg2);
	if (via_vip)
		set_addr(e, SP_ADDR_SRC, vip);
}

static void
expect_client_ingress(struct expect *e, const struct view *v)
{
	const uint8_t *src = &e->pkt[SP_IP6_OFF_SRC];
	const uint8_t *follow = server;	/* the flow's server */
	bool from_vip = memcmp(src, vip, 16) == 0;

	if (refused(v) || e->policy != P_NONE)
		return;
	ptb_lower(e, v);
	if (!from_vip && !allowed(src))
		return;		/* not from our vip's servers */
	if (v->find_err == SP_OK) {
		if (memcmp(v->opt.seg1, &e->pkt[SP_IP6_OFF_DST], 16) != 0)
			return;	/* not our identity */
		if (memcmp(v->opt.seg2, zero16, 16) != 0 &&
		    allowed(v->opt.seg2))
			follow = v->opt.seg2;	/* learned */
	}
	if (!from_vip) {
		if (memcmp(follow, src, 16) != 0)
			return;	/* not the server we follow */
		set_addr(e, SP_ADDR_SRC, vip);
	}
	if (v->tcp_flags & SP_TCP_ACK)
		clamp(e, v);
}

/* ------------------------------------------------------------ programs */

/* The rows the scenario needs, made by hand (maps empty). */
static void
prepare(enum scenario s, const uint8_t *pkt, const struct view *v,
    bool via_vip)
{
	struct lbsp_tc_flow_key fk;
	struct lbsp_tc_flow f;
	uint8_t proto = v->walk_err == SP_OK ? v->w.l4_proto : 0;

	/* Unwalkable, or refused (AH, a non-first fragment, an option
	 * unread): the programs key such a packet by protocol 0 and ports
	 * 0, and no flow they make has that key (protocol 0 is Hop-by-Hop,
	 * never an upper layer).  A row made from libsp's walk (a non-first
	 * fragment's next header, ports 0) would be found by a packet the
	 * programs then rewrite: a state they never reach. */
	if (v->walk_err != SP_OK || refused(v))
		return;
	memset(&fk, 0, sizeof(fk));
	memset(&f, 0, sizeof(f));
	f.created_ns = f.last_ns = sp_now_ns();
	switch (s) {
	case S_CLIENT_EGRESS:
	case S_SERVER_INGRESS:
		break;
	case S_CLIENT_REDIRECT: {
		struct lbsp_tc_cache_key ck;
		struct lbsp_tc_cache ce;

		memset(&ce, 0, sizeof(ce));
		memcpy(ck.vip, vip, 16);
		memcpy(ck.identity, &pkt[SP_IP6_OFF_SRC], 16);
		memcpy(ce.server, server, 16);
		ce.updated_ns = sp_now_ns();
		if (bpf_map_update_elem(objs[TC_CLIENT].cache_fd, &ck, &ce,
		    0) != 0)
			abort();
		break;
	}
	case S_SERVER_EGRESS:
		/* The flow as the server's ingress made it. */
		memcpy(fk.src, &pkt[SP_IP6_OFF_DST], 16);
		memcpy(fk.dst, &pkt[SP_IP6_OFF_SRC], 16);
		fk.proto = proto;
		fk.sport = v->dport;
		fk.dport = v->sport;
		memcpy(f.identity, ident, 16);
		if (via_vip) {
			memcpy(f.server, vip, 16);
			f.flags = LBSP_TC_SF_VIA_VIP;
		}
		f.packets_orig = 1;
		if (bpf_map_update_elem(objs[TC_SERVER].flows_fd, &fk, &f,
		    0) != 0)
			abort();
		break;
	case S_CLIENT_INGRESS: {
		struct lbsp_tc_port_key pk;
		struct lbsp_tc_vip_key vk;

		/* A flow to the vip, redirected to the server: its answers
		 * are indexed by the whole flow, the server included. */
		memset(&pk, 0, sizeof(pk));
		memcpy(pk.local, &pkt[SP_IP6_OFF_DST], 16);
		memcpy(pk.remote, server, 16);
		pk.lport = v->dport;
		pk.rport = v->sport;
		pk.proto = proto;
		memcpy(vk.addr, vip, 16);
		if (bpf_map_update_elem(objs[TC_CLIENT].ports_fd, &pk, &vk,
		    0) != 0)
			abort();
		memcpy(fk.src, &pkt[SP_IP6_OFF_DST], 16);
		memcpy(fk.dst, vip, 16);
		fk.proto = proto;
		fk.sport = v->dport;
		fk.dport = v->sport;
		memcpy(f.server, server, 16);
		memcpy(f.identity, &pkt[SP_IP6_OFF_DST], 16);
		f.flags = LBSP_TC_CF_REDIRECTED;
		f.packets_orig = 1;
		if (bpf_map_update_elem(objs[TC_CLIENT].flows_fd, &fk, &f,
		    0) != 0)
			abort();
		break;
	}
	default:
		abort();
	}
}

static void
hexdump(const char *what, const uint8_t *p, size_t len)
{
	size_t i;

	fprintf(stderr, "%s (%zu bytes):", what, len);
	for (i = 0; i < len; i++)
		fprintf(stderr, "%s%02x", i % 16 == 0 ? "\n  " : " ", p[i]);
	fprintf(stderr, "\n");
}

/* FUZZ_TC_ROWS set: the flow rows after the program ran (a row it
 * found shows a packet count the harness did not set). */
static void
rows_dump(const struct tc_obj *o)
{
	const int fds[2] = { o->flows_fd, o->flows_est_fd };
	struct lbsp_tc_flow_key k;
	struct lbsp_tc_flow f;
	unsigned m;

	for (m = 0; m < 2; m++) {
		if (fds[m] < 0 || bpf_map_get_next_key(fds[m], NULL, &k) != 0)
			continue;
		do {
			if (bpf_map_lookup_elem(fds[m], &k, &f) != 0)
				continue;
			fprintf(stderr, "fuzz_tc: %s row: proto %u sport %u "
			    "dport %u flags %#x orig %llu reply %llu\n",
			    m == 0 ? "new" : "est", k.proto, k.sport, k.dport,
			    f.flags, (unsigned long long)f.packets_orig,
			    (unsigned long long)f.packets_reply);
			hexdump("  key src", k.src, 16);
			hexdump("  key dst", k.dst, 16);
			hexdump("  server", f.server, 16);
		} while (bpf_map_get_next_key(fds[m], &k, &k) == 0);
	}
}

static uint8_t frame[PKT_MAX + ETH], out[OUT_MAX];

/* Run program fd on pkt[0..len) behind an Ethernet header: its IPv6
 * bytes in out + ETH, their length in *olen; returns the verdict. */
static uint32_t
run(int fd, const uint8_t *pkt, size_t len, size_t *olen)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
	    .data_size_in = (uint32_t)(len + ETH), .data_out = out,
	    .data_size_out = sizeof(out), .repeat = 1);

	memset(frame, 0, ETH);
	frame[0] = 0x02;
	frame[6] = 0x02;
	frame[12] = 0x86;
	frame[13] = 0xdd;
	memcpy(frame + ETH, pkt, len);
	if (bpf_prog_test_run_opts(fd, &o) != 0) {
		perror("fuzz_tc: bpf_prog_test_run_opts");
		abort();
	}
	if (o.data_size_out < ETH || memcmp(out, frame, ETH) != 0) {
		fprintf(stderr, "fuzz_tc: the Ethernet header changed\n");
		abort();
	}
	*olen = o.data_size_out - ETH;
	return o.retval;
}

/* ------------------------------------------------------------ one input */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pkt[PKT_MAX];
	static struct expect e;
	struct view v;
	enum scenario s;
	struct tc_obj *o;
	bool raw, bit4;
	size_t len, olen, i;
	uint32_t verdict;
	int fd;

	if (!loaded)
		load();
	if (size < 1)
		return 0;
	s = (enum scenario)((data[0] & 7) % S__COUNT);
	raw = (data[0] & 0x08) != 0;
	bit4 = (data[0] & 0x10) != 0;
	len = size - 1 < PKT_MAX ? size - 1 : PKT_MAX;
	memcpy(pkt, data + 1, len);
	n_exec++;
	/* The kernel's test run wants an IPv6 header behind 0x86dd
	 * (-EINVAL); libsp passes shorter packets untouched. */
	if (len < SP_IP6_HLEN)
		return 0;
	n_scenario[s]++;

	/* The packet the scenario is about. */
	if (!raw) {
		pkt[0] = (uint8_t)(0x60 | (pkt[0] & 0x0f));
		sp_put16(&pkt[SP_IP6_OFF_PLEN], (uint16_t)(len - SP_IP6_HLEN));
		switch (s) {
		case S_CLIENT_EGRESS:
		case S_CLIENT_REDIRECT:
			memcpy(&pkt[SP_IP6_OFF_DST], vip, 16);
			break;
		case S_SERVER_INGRESS:
			memcpy(&pkt[SP_IP6_OFF_DST], server, 16);
			break;
		case S_SERVER_EGRESS:
			memcpy(&pkt[SP_IP6_OFF_SRC], server, 16);
			break;
		case S_CLIENT_INGRESS:
			memcpy(&pkt[SP_IP6_OFF_SRC], server, 16);
			break;
		default:
			abort();
		}
	}
	view_of(pkt, len, &v);
	if (s == S_CLIENT_INGRESS && bit4 && !raw && v.find_err == SP_OK) {
		memcpy(&pkt[v.opt_off + 2], &pkt[SP_IP6_OFF_DST], 16);
		memcpy(&pkt[v.opt_off + 18], server, 16);
		view_of(pkt, len, &v);
	}

	/* libsp's answer. */
	memcpy(e.pkt, pkt, len);
	e.len = len;
	e.verdict = (uint32_t)-1;	/* TC_ACT_UNSPEC */
	e.policy = policy_of(s, pkt, len, &v, raw);
	switch (s) {
	case S_CLIENT_EGRESS:
	case S_CLIENT_REDIRECT:
		expect_client_egress(&e, &v, s == S_CLIENT_REDIRECT);
		break;
	case S_SERVER_INGRESS:
		expect_server_ingress(&e, &v);
		break;
	case S_SERVER_EGRESS:
		expect_server_egress(&e, &v, bit4);
		break;
	case S_CLIENT_INGRESS:
		expect_client_ingress(&e, &v);
		break;
	default:
		abort();
	}

	/* The programs' answer, from empty maps but the scenario's rows. */
	o = &objs[s == S_SERVER_INGRESS || s == S_SERVER_EGRESS ? TC_SERVER :
	    TC_CLIENT];
	maps_clear(o);
	prepare(s, pkt, &v, bit4);
	fd = s == S_CLIENT_EGRESS || s == S_CLIENT_REDIRECT ||
	    s == S_SERVER_EGRESS ? o->egress_fd : o->ingress_fd;
	verdict = run(fd, pkt, len, &olen);
	if (getenv("FUZZ_TC_ROWS") != NULL)
		rows_dump(o);
	maps_clear(o);

	n_policy[e.policy]++;
	if (e.policy == P_PAYLOAD_LEN || e.policy == P_ICMP_QUOTE)
		return 0;	/* not compared */
	n_compared++;
	if (verdict == e.verdict && olen == e.len &&
	    memcmp(out + ETH, e.pkt, olen) == 0)
		return 0;

	fprintf(stderr, "fuzz_tc: %s: the program and libsp differ "
	    "(verdict %u, libsp %u; policy %s)\n", scenario_names[s],
	    verdict, e.verdict, policy_names[e.policy]);
	hexdump("input", data, size);
	hexdump("packet", pkt, len);
	hexdump("program", out + ETH, olen);
	hexdump("libsp", e.pkt, e.len);
	if (olen == e.len)
		for (i = 0; i < olen; i++)
			if (out[ETH + i] != e.pkt[i])
				fprintf(stderr, "  differs at %zu: program "
				    "%02x libsp %02x\n", i, out[ETH + i],
				    e.pkt[i]);
	abort();
}
