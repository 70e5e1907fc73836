/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pktpath.c -- what lbspd's userspace spends on one packet, per role:
 * the client role inserting the option, the server role filling seg2,
 * the balancer deciding and rewriting.  No NFQUEUE: each packet goes
 * through roles_process() as nfq.c hands it over (a struct lbspd_pkt
 * over the queued bytes, a 64 KiB scratch buffer for the writable copy).
 *
 * The packet mix is generated here, deterministically, one mix per role
 * (what that role's steering rules queue), from SESSIONS sessions:
 *   client   egress SYN / ACK / data to the vip (option inserted, the
 *            later ones redirected to the learned server), ingress
 *            SYN-ACK / data from the vip and from the server (seg2
 *            learned, source rewritten to the vip), UDP both ways, an
 *            ICMPv6 packet-too-big about a redirected flow, and traffic
 *            that is not ours (another host, echo requests);
 *   server   ingress SYN (through the balancer, or straight) and the
 *            first direct ACK carrying the option (connection marked),
 *            egress SYN-ACK / data / FIN (seg2 filled, answered from the
 *            vip while the client comes through the balancer), packets
 *            without the option and of unknown flows;
 *   balancer SYNs of new identities (scheduler), of known ones (stick
 *            table), with seg2 outside the pool (rejected, scheduled),
 *            whole sessions of clients with "redirect off" (seg2
 *            followed), UDP, legacy SYNs without the option (marked for
 *            the kernel's NAT), packets to other hosts and ports.
 * Every pass starts from empty tables (a fresh daemon state, not timed)
 * and plays the whole mix in order, so every pass does the same work:
 * flows created, caches and stick entries learned, as on a live host.
 *
 * Pass 0 checks every packet's outcome against what the generator
 * expects (modified or not, mark, drop, addresses, the option's seg1
 * and seg2, a valid upper-layer checksum); the next PASSES passes are
 * timed.  Prints, per role, the packets of the mix and ns per packet
 * (median and minimum over the passes).  Exit 1 when an outcome is not
 * the expected one, 2 on bad usage.
 *
 *   bench/pktpath [-v] [-n PASSES] [-s SESSIONS] [-r ROLE] [-w PREFIX]
 *
 * -v prints what each role counted on pass 0 (lbspctl stats' names);
 * -w writes each mix as PREFIX-ROLE.pcap (raw IPv6) for a look with
 * tshark.  A benchmark, not a test: tests/bench-pktpath.sh runs a few
 * passes only for the checks of pass 0.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sp/cache.h>
#include <sp/clock.h>
#include <sp/conf.h>
#include <sp/csum.h>
#include <sp/dopt.h>
#include <sp/flow.h>
#include <sp/pkt.h>
#include <sp/tcp.h>

#include "balancer/balancer.h"
#include "lbspd.h"
#include "path/path.h"

#define OPT_TYPE	0x1e		/* option-type of the configurations */
#define NIDS		8		/* client identities of a mix */
#define NSERVERS	8		/* servers of the balancer's vip */
#define PKT_CAP		0xffff		/* as nfq.c's scratch */
#define MSS		1440		/* MSS option of generated SYNs */

/* ------------------------------------------------------------ addresses */

static const uint8_t vip[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x0f,
	[14] = 0x01 };			/* 2001:db8:f::100 */
static const uint8_t other[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x09,
	[15] = 1 };			/* 2001:db8:9::1, not a vip */
static const uint8_t outside[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x06,
	[15] = 1 };			/* 2001:db8:6::1, not a server */
static const uint8_t zero16[16];

/* Client identity i: 2001:db8:1::(i + 1). */
static void
client_addr(uint8_t a[16], unsigned i)
{
	static const uint8_t base[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x01 };

	memcpy(a, base, 16);
	a[14] = (uint8_t)((i + 1) >> 8);
	a[15] = (uint8_t)(i + 1);
}

/* Server j (0-based): 2001:db8:5::(j + 1). */
static void
server_addr(uint8_t a[16], unsigned j)
{
	static const uint8_t base[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x05 };

	memcpy(a, base, 16);
	a[15] = (uint8_t)(j + 1);
}

/* ------------------------------------------------------------ the mix */

/* What a packet must come out as (checked on pass 0). */
enum want_dst {
	DST_EXACT,		/* dst */
	DST_POOL,		/* one of the balancer's servers */
};

struct mpkt {
	size_t off, len;	/* bytes in the mix's arena */
	uint8_t hook;		/* enum lbspd_hook */
	/* Expected outcome. */
	bool modified;		/* sent back with the verdict */
	bool drop;
	bool set_mark;
	uint32_t mark, mark_mask;	/* (new_mark & mask) == mark */
	bool has_opt;		/* the option, with opt, on the way out */
	struct sp_lbsp opt;
	uint8_t src[16];	/* source on the way out */
	enum want_dst dst_kind;
	uint8_t dst[16];	/* DST_EXACT: destination on the way out */
};

struct mix {
	const char *role;
	uint8_t *arena;
	size_t used, cap;	/* bytes */
	struct mpkt *pkts;
	unsigned n, max;	/* packets */
};

/* One packet to build. */
struct spec {
	const uint8_t *src, *dst;
	uint8_t proto;		/* SP_NH_TCP, SP_NH_UDP, SP_NH_ICMPV6 */
	uint16_t sport, dport;	/* TCP / UDP */
	uint8_t flags;		/* TCP flags; SYN adds an MSS option */
	uint8_t icmp_type;
	size_t payload;		/* bytes after the L4 header */
	const uint8_t *inner;	/* ICMPv6 error: the quoted packet */
	size_t inner_len;
	const struct sp_lbsp *opt;	/* the option, or NULL */
	uint32_t label;		/* flow label */
};

static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (p == NULL) {
		fprintf(stderr, "pktpath: out of memory\n");
		exit(1);
	}
	return p;
}

/* Build spec into b (PKT_CAP bytes): IPv6, [LBSP header], L4; valid
 * upper-layer checksum.  Returns the length. */
static size_t
build(uint8_t *b, const struct spec *s)
{
	size_t l4 = 40, len, hl;
	uint32_t vtf = 6u << 28 | (s->label & 0xfffff);

	memset(b, 0, 40);
	sp_put32(b, vtf);
	b[SP_IP6_OFF_NH] = s->proto;
	b[7] = 64;
	memcpy(&b[SP_IP6_OFF_SRC], s->src, 16);
	memcpy(&b[SP_IP6_OFF_DST], s->dst, 16);
	switch (s->proto) {
	case SP_NH_TCP:
		hl = (s->flags & SP_TCP_SYN) ? 24 : 20;
		memset(&b[l4], 0, hl);
		sp_put16(&b[l4], s->sport);
		sp_put16(&b[l4 + 2], s->dport);
		sp_put32(&b[l4 + 4], 1000u + s->sport);	/* seq */
		sp_put32(&b[l4 + 8], (s->flags & SP_TCP_ACK) ? 5000u : 0);
		b[l4 + 12] = (uint8_t)((hl / 4) << 4);
		b[l4 + 13] = s->flags;
		sp_put16(&b[l4 + 14], 64240);		/* window */
		if (hl == 24) {
			b[l4 + 20] = 2;			/* MSS */
			b[l4 + 21] = 4;
			sp_put16(&b[l4 + 22], MSS);
		}
		break;
	case SP_NH_UDP:
		hl = 8;
		memset(&b[l4], 0, hl);
		sp_put16(&b[l4], s->sport);
		sp_put16(&b[l4 + 2], s->dport);
		sp_put16(&b[l4 + 4], (uint16_t)(hl + s->payload));
		break;
	case SP_NH_ICMPV6:
		hl = 8;
		memset(&b[l4], 0, hl);
		b[l4] = s->icmp_type;
		if (s->icmp_type == 2)
			sp_put32(&b[l4 + 4], 1280);	/* packet too big */
		else
			sp_put32(&b[l4 + 4], 0x12340001);	/* id, seq */
		break;
	default:
		fprintf(stderr, "pktpath: protocol %u\n", s->proto);
		exit(1);
	}
	len = l4 + hl;
	if (s->inner != NULL) {
		memcpy(&b[len], s->inner, s->inner_len);
		len += s->inner_len;
	} else {
		memset(&b[len], 0xa5, s->payload);
		len += s->payload;
	}
	sp_put16(&b[SP_IP6_OFF_PLEN], (uint16_t)(len - 40));
	if (sp_csum_l4_fill(b, len) != SP_OK) {
		fprintf(stderr, "pktpath: checksum of a generated packet\n");
		exit(1);
	}
	if (s->opt != NULL && sp_dopt_set(b, &len, PKT_CAP, OPT_TYPE, s->opt,
	    NULL) != SP_OK) {
		fprintf(stderr, "pktpath: option on a generated packet\n");
		exit(1);
	}
	return len;
}

/*
 * Append spec to the mix at hook; the expected outcome starts as
 * "passed unchanged" and the caller states what differs.
 */
static struct mpkt *
add(struct mix *m, const struct spec *s, uint8_t hook)
{
	static uint8_t tmp[PKT_CAP];
	struct mpkt *p;
	size_t len = build(tmp, s);

	if (m->n == m->max) {
		m->max = m->max ? 2 * m->max : 256;
		m->pkts = xrealloc(m->pkts, m->max * sizeof(*m->pkts));
	}
	while (m->cap - m->used < len) {
		m->cap = m->cap ? 2 * m->cap : 1u << 16;
		m->arena = xrealloc(m->arena, m->cap);
	}
	p = &m->pkts[m->n++];
	memset(p, 0, sizeof(*p));
	p->off = m->used;
	p->len = len;
	p->hook = hook;
	memcpy(&m->arena[m->used], tmp, len);
	m->used += len;
	memcpy(p->src, s->src, 16);
	memcpy(p->dst, s->dst, 16);
	p->dst_kind = DST_EXACT;
	if (s->opt != NULL) {
		p->has_opt = true;
		p->opt = *s->opt;
	}
	return p;
}

/* The option {seg1, seg2}. */
static struct sp_lbsp
lbsp(const uint8_t seg1[16], const uint8_t seg2[16])
{
	struct sp_lbsp o;

	memcpy(o.seg1, seg1, 16);
	memcpy(o.seg2, seg2, 16);
	return o;
}

/* Expect the option o on the way out, and the packet modified. */
static void
want_opt(struct mpkt *p, const struct sp_lbsp *o)
{
	p->modified = true;
	p->has_opt = true;
	p->opt = *o;
}

/*
 * Client role: identity C (its address), the vip's server S learned
 * from the first session of C; redirect on.
 */
static void
mix_client(struct mix *m, unsigned sessions)
{
	uint8_t c[16], s[16], quoted[PKT_CAP];
	struct sp_lbsp known, none;
	struct spec sp;
	struct mpkt *p;
	unsigned k;

	for (k = 0; k < sessions; k++) {
		bool first = k < NIDS;
		uint16_t sport = (uint16_t)(20000 + k);
		uint32_t label = 0x10000 + k;

		client_addr(c, k % NIDS);
		server_addr(s, k % NIDS);
		known = lbsp(c, s);
		none = lbsp(c, zero16);

		/* Our SYN: the option; to the cached server once known. */
		sp = (struct spec){ .src = c, .dst = vip, .proto = SP_NH_TCP,
		    .sport = sport, .dport = 80, .flags = SP_TCP_SYN,
		    .label = label };
		p = add(m, &sp, LBSPD_HOOK_LOCAL_OUT);
		want_opt(p, first ? &none : &known);
		if (!first)
			memcpy(p->dst, s, 16);

		/* The SYN-ACK: from the vip (through the balancer) the first
		 * time, then from the server: source back to the vip. */
		sp = (struct spec){ .src = first ? vip : s, .dst = c,
		    .proto = SP_NH_TCP, .sport = 80, .dport = sport,
		    .flags = SP_TCP_SYN | SP_TCP_ACK, .opt = &known,
		    .label = label };
		p = add(m, &sp, LBSPD_HOOK_LOCAL_IN);
		p->modified = true;		/* MSS clamped */
		memcpy(p->src, vip, 16);

		/* ACK, request, ACK: redirected to the server. */
		sp = (struct spec){ .src = c, .dst = vip, .proto = SP_NH_TCP,
		    .sport = sport, .dport = 80, .flags = SP_TCP_ACK,
		    .label = label };
		p = add(m, &sp, LBSPD_HOOK_LOCAL_OUT);
		want_opt(p, &known);
		memcpy(p->dst, s, 16);
		sp.flags = SP_TCP_ACK | SP_TCP_PSH;
		sp.payload = 400;
		p = add(m, &sp, LBSPD_HOOK_LOCAL_OUT);
		want_opt(p, &known);
		memcpy(p->dst, s, 16);

		/* The answer, straight from the server. */
		sp = (struct spec){ .src = s, .dst = c, .proto = SP_NH_TCP,
		    .sport = 80, .dport = sport,
		    .flags = SP_TCP_ACK | SP_TCP_PSH, .payload = 1000,
		    .opt = &known, .label = label };
		p = add(m, &sp, LBSPD_HOOK_LOCAL_IN);
		p->modified = true;
		memcpy(p->src, vip, 16);

		sp = (struct spec){ .src = c, .dst = vip, .proto = SP_NH_TCP,
		    .sport = sport, .dport = 80, .flags = SP_TCP_ACK,
		    .label = label };
		p = add(m, &sp, LBSPD_HOOK_LOCAL_OUT);
		want_opt(p, &known);
		memcpy(p->dst, s, 16);

		/* A UDP exchange now and then, redirected too. */
		if (k % 4 == 0) {
			sp = (struct spec){ .src = c, .dst = vip,
			    .proto = SP_NH_UDP, .sport = (uint16_t)(30000 + k),
			    .dport = 53, .payload = 40, .label = label + 1 };
			p = add(m, &sp, LBSPD_HOOK_LOCAL_OUT);
			want_opt(p, &known);
			memcpy(p->dst, s, 16);
			sp = (struct spec){ .src = s, .dst = c,
			    .proto = SP_NH_UDP, .sport = 53,
			    .dport = (uint16_t)(30000 + k), .payload = 120,
			    .opt = &known, .label = label + 1 };
			p = add(m, &sp, LBSPD_HOOK_LOCAL_IN);
			p->modified = true;
			memcpy(p->src, vip, 16);
		}

		/* Packet too big about our redirected request: the quoted
		 * destination goes back to the vip. */
		if (k % 8 == 0) {
			sp = (struct spec){ .src = c, .dst = s,
			    .proto = SP_NH_TCP, .sport = sport, .dport = 80,
			    .flags = SP_TCP_ACK | SP_TCP_PSH, .payload = 600,
			    .opt = &known, .label = label };
			sp.inner_len = build(quoted, &sp);
			sp = (struct spec){ .src = s, .dst = c,
			    .proto = SP_NH_ICMPV6, .icmp_type = 2,
			    .inner = quoted, .inner_len = sp.inner_len };
			p = add(m, &sp, LBSPD_HOOK_LOCAL_IN);
			p->modified = true;
		}

		/* Not ours: another host, both ways, and an echo request. */
		sp = (struct spec){ .src = c, .dst = other, .proto = SP_NH_TCP,
		    .sport = sport, .dport = 443, .flags = SP_TCP_ACK,
		    .payload = 200, .label = label };
		(void)add(m, &sp, LBSPD_HOOK_LOCAL_OUT);
		sp = (struct spec){ .src = other, .dst = c, .proto = SP_NH_TCP,
		    .sport = 443, .dport = sport, .flags = SP_TCP_ACK,
		    .payload = 600, .label = label };
		(void)add(m, &sp, LBSPD_HOOK_LOCAL_IN);
		sp = (struct spec){ .src = other, .dst = c,
		    .proto = SP_NH_ICMPV6, .icmp_type = 128, .payload = 56 };
		(void)add(m, &sp, LBSPD_HOOK_LOCAL_IN);
	}
}

/*
 * Server role, server S = 2001:db8:5::1: the first session of each
 * client comes through the balancer (seg2 = vip), later ones straight
 * (seg2 = S); the first direct ACK marks the connection direct (its
 * ingress is no longer queued), the answers carry the option.
 */
static void
mix_server(struct mix *m, unsigned sessions)
{
	uint8_t c[16], s[16];
	struct sp_lbsp in, out;
	struct spec sp;
	struct mpkt *p;
	unsigned k, j;

	server_addr(s, 0);
	for (k = 0; k < sessions; k++) {
		bool first = k < NIDS;
		uint16_t sport = (uint16_t)(20000 + k);
		uint32_t label = 0x20000 + k;

		client_addr(c, k % NIDS);
		in = lbsp(c, first ? vip : s);
		out = lbsp(c, s);

		sp = (struct spec){ .src = c, .dst = s, .proto = SP_NH_TCP,
		    .sport = sport, .dport = 80, .flags = SP_TCP_SYN,
		    .opt = &in, .label = label };
		p = add(m, &sp, LBSPD_HOOK_PRE_ROUTING);
		p->modified = true;		/* MSS clamped */
		p->set_mark = true;
		p->mark = LBSPD_CTMARK | (first ? 0 : LBSPD_CTMARK_DIRECT);
		p->mark_mask = ~0u;

		/* SYN-ACK: from the vip while through the balancer. */
		sp = (struct spec){ .src = s, .dst = c, .proto = SP_NH_TCP,
		    .sport = 80, .dport = sport,
		    .flags = SP_TCP_SYN | SP_TCP_ACK, .label = label };
		p = add(m, &sp, LBSPD_HOOK_LOCAL_OUT);
		want_opt(p, &out);
		if (first)
			memcpy(p->src, vip, 16);

		/* The client's first direct packet: marked direct. */
		sp = (struct spec){ .src = c, .dst = s, .proto = SP_NH_TCP,
		    .sport = sport, .dport = 80,
		    .flags = SP_TCP_ACK | SP_TCP_PSH, .payload = 300,
		    .opt = &out, .label = label };
		p = add(m, &sp, LBSPD_HOOK_PRE_ROUTING);
		p->set_mark = true;
		p->mark = LBSPD_CTMARK | LBSPD_CTMARK_DIRECT;
		p->mark_mask = ~0u;

		/* The answer and the close: seg2 filled, from us. */
		for (j = 0; j < 3; j++) {
			sp = (struct spec){ .src = s, .dst = c,
			    .proto = SP_NH_TCP, .sport = 80, .dport = sport,
			    .flags = j < 2 ? SP_TCP_ACK | SP_TCP_PSH :
			    SP_TCP_ACK | SP_TCP_FIN,
			    .payload = j < 2 ? 1000 : 0, .label = label };
			p = add(m, &sp, LBSPD_HOOK_LOCAL_OUT);
			want_opt(p, &out);
		}

		/* Not ours: no option in, a flow never seen out. */
		if (k % 4 == 0) {
			sp = (struct spec){ .src = other, .dst = s,
			    .proto = SP_NH_TCP, .sport = sport, .dport = 22,
			    .flags = SP_TCP_ACK, .payload = 100,
			    .label = label };
			(void)add(m, &sp, LBSPD_HOOK_PRE_ROUTING);
			sp = (struct spec){ .src = s, .dst = other,
			    .proto = SP_NH_TCP, .sport = 22, .dport = sport,
			    .flags = SP_TCP_ACK, .payload = 100,
			    .label = label };
			(void)add(m, &sp, LBSPD_HOOK_LOCAL_OUT);
		}
	}
}

/*
 * Balancer role, vip with NSERVERS servers (rr), everything at
 * PRE_ROUTING, 32 identities: half the sessions are single pass (only
 * the SYN comes here: the scheduler for an identity's first, the stick
 * table after; one in four with seg2 outside the pool), a quarter
 * clients with redirect off (the whole session, seg2 followed), a
 * quarter legacy SYNs; and packets that are not the balancer's.
 */
static void
mix_balancer(struct mix *m, unsigned sessions)
{
	uint8_t c[16], s[16];
	struct sp_lbsp o, fwd;
	struct spec sp;
	struct mpkt *p;
	unsigned k, ids = 4 * NIDS;

	for (k = 0; k < sessions; k++) {
		uint16_t sport = (uint16_t)(20000 + k);
		uint32_t label = 0x30000 + k;

		client_addr(c, k % ids);
		server_addr(s, k % NSERVERS);
		fwd = lbsp(c, vip);	/* what leaves: seg2 = the vip */
		switch (k % 4) {
		case 0:
		case 1:
			/* Single pass: the SYN only; scheduler or stick. */
			o = lbsp(c, k % 8 == 1 ? outside : zero16);
			sp = (struct spec){ .src = c, .dst = vip,
			    .proto = SP_NH_TCP, .sport = sport, .dport = 80,
			    .flags = SP_TCP_SYN, .opt = &o, .label = label };
			p = add(m, &sp, LBSPD_HOOK_PRE_ROUTING);
			want_opt(p, &fwd);
			p->dst_kind = DST_POOL;
			break;
		case 2:
			/* Redirect off: seg2 followed, every packet. */
			o = lbsp(c, s);
			sp = (struct spec){ .src = c, .dst = vip,
			    .proto = SP_NH_TCP, .sport = sport, .dport = 80,
			    .flags = SP_TCP_SYN, .opt = &o, .label = label };
			p = add(m, &sp, LBSPD_HOOK_PRE_ROUTING);
			want_opt(p, &fwd);
			memcpy(p->dst, s, 16);
			sp.flags = SP_TCP_ACK;
			p = add(m, &sp, LBSPD_HOOK_PRE_ROUTING);
			want_opt(p, &fwd);
			memcpy(p->dst, s, 16);
			sp.flags = SP_TCP_ACK | SP_TCP_PSH;
			sp.payload = 400;
			p = add(m, &sp, LBSPD_HOOK_PRE_ROUTING);
			want_opt(p, &fwd);
			memcpy(p->dst, s, 16);
			sp.flags = SP_TCP_ACK;
			sp.payload = 0;
			p = add(m, &sp, LBSPD_HOOK_PRE_ROUTING);
			want_opt(p, &fwd);
			memcpy(p->dst, s, 16);
			sp = (struct spec){ .src = c, .dst = vip,
			    .proto = SP_NH_UDP, .sport = (uint16_t)(30000 + k),
			    .dport = 53, .payload = 40, .opt = &o,
			    .label = label + 1 };
			p = add(m, &sp, LBSPD_HOOK_PRE_ROUTING);
			want_opt(p, &fwd);
			memcpy(p->dst, s, 16);
			break;
		case 3:
			/* Legacy: no option; marked for lbspd's NAT rules
			 * (any target). */
			sp = (struct spec){ .src = c, .dst = vip,
			    .proto = SP_NH_TCP, .sport = sport, .dport = 80,
			    .flags = SP_TCP_SYN, .label = label };
			p = add(m, &sp, LBSPD_HOOK_PRE_ROUTING);
			p->set_mark = true;
			p->mark = LBSPD_LBMARK;
			p->mark_mask = LBSPD_LBMARK_MASK;
			break;
		default:
			abort();
		}
		/* Not ours: another host, another port of the vip. */
		sp = (struct spec){ .src = c, .dst = other, .proto = SP_NH_TCP,
		    .sport = sport, .dport = 80, .flags = SP_TCP_ACK,
		    .payload = 200, .label = label };
		(void)add(m, &sp, LBSPD_HOOK_PRE_ROUTING);
		if (k % 4 == 0) {
			sp = (struct spec){ .src = c, .dst = vip,
			    .proto = SP_NH_TCP, .sport = sport, .dport = 22,
			    .flags = SP_TCP_SYN, .label = label };
			(void)add(m, &sp, LBSPD_HOOK_PRE_ROUTING);
		}
	}
}

/* ------------------------------------------------------------ daemon */

static const char conf_client[] =
	"role client\n"
	"rules none\n"
	"max-flows 65536\n"
	"vip 2001:db8:f::100 {\n"
	"\tports 80 53\n"
	"\tallow-servers 2001:db8:5::/64\n"
	"}\n";

static const char conf_server[] =
	"role server\n"
	"rules none\n"
	"max-flows 65536\n";

static const char conf_balancer[] =
	"role balancer\n"
	"rules none\n"
	"max-flows 65536\n"
	"vip 2001:db8:f::100 {\n"
	"\tports 80 53\n"
	"\tserver 2001:db8:5::1\n"
	"\tserver 2001:db8:5::2\n"
	"\tserver 2001:db8:5::3\n"
	"\tserver 2001:db8:5::4\n"
	"\tserver 2001:db8:5::5\n"
	"\tserver 2001:db8:5::6\n"
	"\tserver 2001:db8:5::7\n"
	"\tserver 2001:db8:5::8\n"
	"}\n";

static void
conf_err(void *arg, const char *file, unsigned line, const char *msg)
{
	(void)arg;
	fprintf(stderr, "%s:%u: %s\n", file, line, msg);
}

/* A daemon's state as main.c sets it up, on a fresh configuration. */
static struct lbspd *
daemon_new(const char *name, const char *text)
{
	struct sp_conf *c;
	struct lbspd *d;
	unsigned i;

	d = calloc(1, sizeof(*d));
	c = sp_conf_new();
	if (d == NULL || c == NULL) {
		fprintf(stderr, "pktpath: out of memory\n");
		exit(1);
	}
	if (sp_conf_parse(text, strlen(text), name, c, conf_err, NULL) != 0)
		exit(1);
	for (i = 0; i < sizeof(d->secret); i++)
		d->secret[i] = (uint8_t)(0x5a + i);
	d->paths.tested = true;
	d->paths.nfqueue = true;
	if (lbspd_state_init(d, c) == -1 ||
	    lbspd_flows_set_source_limit(d, c->max_flows_per_source) == -1 ||
	    balancer_configure(d, c) == -1) {
		fprintf(stderr, "pktpath: cannot set up the tables\n");
		exit(1);
	}
	return d;
}

static void
daemon_free(struct lbspd *d)
{
	balancer_free(d);
	lbspd_state_free(d);
	free(d);
}

/* ------------------------------------------------------------ checks */

static int
fail_pkt(const struct mix *m, unsigned i, const char *what)
{
	fprintf(stderr, "pktpath: %s: packet %u: %s\n", m->role, i, what);
	return 1;
}

static bool
in_pool(const uint8_t a[16])
{
	uint8_t s[16];
	unsigned j;

	for (j = 0; j < NSERVERS; j++) {
		server_addr(s, j);
		if (memcmp(a, s, 16) == 0)
			return true;
	}
	return false;
}

/* Does the outcome of packet i match the expected one?  0 or 1. */
static int
check_pkt(const struct mix *m, unsigned i, const struct lbspd_pkt *p)
{
	const struct mpkt *w = &m->pkts[i];
	const uint8_t *out = p->modified ? p->buf : p->data;
	size_t len = p->modified ? p->buf_len : p->len;
	struct sp_lbsp o;

	if (p->modified != w->modified)
		return fail_pkt(m, i, w->modified ? "not modified" :
		    "modified");
	if (p->drop != w->drop)
		return fail_pkt(m, i, w->drop ? "not dropped" : "dropped");
	if (p->set_mark != w->set_mark)
		return fail_pkt(m, i, w->set_mark ? "not marked" : "marked");
	if (w->set_mark && (p->new_mark & w->mark_mask) != w->mark)
		return fail_pkt(m, i, "wrong mark");
	if (memcmp(&out[SP_IP6_OFF_SRC], w->src, 16) != 0)
		return fail_pkt(m, i, "wrong source");
	if (w->dst_kind == DST_POOL ? !in_pool(&out[SP_IP6_OFF_DST]) :
	    memcmp(&out[SP_IP6_OFF_DST], w->dst, 16) != 0)
		return fail_pkt(m, i, "wrong destination");
	if (w->has_opt) {
		if (sp_dopt_find(out, len, OPT_TYPE, &o, NULL) != SP_OK)
			return fail_pkt(m, i, "no option");
		if (memcmp(o.seg1, w->opt.seg1, 16) != 0)
			return fail_pkt(m, i, "wrong seg1");
		if (memcmp(o.seg2, w->opt.seg2, 16) != 0)
			return fail_pkt(m, i, "wrong seg2");
	}
	if (!sp_csum_l4_ok(out, len))
		return fail_pkt(m, i, "bad upper-layer checksum");
	return 0;
}

/* ------------------------------------------------------------ runs */

/* What the daemon counted, for -v: the names lbspctl stats prints. */
static void
print_counters(const struct mix *m, struct lbspd *d)
{
#define NAME(id, name) name,
	static const char *const ctr[] = { LBSPD_COUNTERS(NAME) };
	static const char *const pas[] = { LBSPD_PASSES(NAME) };
#undef NAME
	uint64_t v;
	unsigned i, n;

	printf("%s counters:", m->role);
	for (i = n = 0; i < LBSPD_C__COUNT; i++)
		if ((v = lbspd_read(&d->stats.ctr[i])) != 0 && ++n)
			printf(" %s %llu", ctr[i], (unsigned long long)v);
	printf("%s\n%s passed:", n ? "" : " none", m->role);
	for (i = n = 0; i < LBSPD_P__COUNT; i++)
		if ((v = lbspd_read(&d->stats.pass[i])) != 0 && ++n)
			printf(" %s %llu", pas[i], (unsigned long long)v);
	printf("%s\n%s malformed:", n ? "" : " none", m->role);
	for (i = n = 0; i < SP_ERR__COUNT; i++)
		if ((v = lbspd_read(&d->stats.malformed[i])) != 0 && ++n)
			printf(" %s %llu", sp_strerror((enum sp_err)i),
			    (unsigned long long)v);
	printf("%s\n", n ? "" : " none");
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * One pass of mix m through a fresh daemon state: checked (returns the
 * mismatches; with verbose, prints the counters) or timed (*ns, the
 * processing only).  *modified counts the packets sent back changed.
 */
static unsigned
pass(const struct mix *m, const char *conftext, bool check, bool verbose,
    uint64_t *ns, unsigned *modified)
{
	static uint8_t scratch[PKT_CAP];
	struct lbspd *d = daemon_new(m->role, conftext);
	struct lbspd_pkt p;
	unsigned i, bad = 0, mod = 0;
	uint64_t t0;

	t0 = sp_now_ns();
	for (i = 0; i < m->n; i++) {
		memset(&p, 0, sizeof(p));
		p.id = i;
		p.hook = m->pkts[i].hook;
		p.data = &m->arena[m->pkts[i].off];
		p.len = m->pkts[i].len;
		p.buf = scratch;
		p.buf_cap = PKT_CAP;
		roles_process(d, &p);
		mod += p.modified;
		if (check)
			bad += (unsigned)check_pkt(m, i, &p);
	}
	*ns = sp_now_ns() - t0;
	*modified = mod;
	if (verbose)
		print_counters(m, d);
	daemon_free(d);
	return bad;
}

/* Write the mix as a pcap of raw IPv6 packets (LINKTYPE_RAW). */
static int
write_pcap(const struct mix *m, const char *prefix)
{
	char path[4096];
	uint32_t gh[6] = { 0xa1b2c3d4, 2 | 4u << 16, 0, 0, PKT_CAP, 101 };
	FILE *f;
	unsigned i;

	snprintf(path, sizeof(path), "%s-%s.pcap", prefix, m->role);
	if ((f = fopen(path, "wb")) == NULL) {
		fprintf(stderr, "pktpath: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fwrite(gh, sizeof(gh), 1, f);
	for (i = 0; i < m->n; i++) {
		uint32_t rh[4] = { 0, i, (uint32_t)m->pkts[i].len,
		    (uint32_t)m->pkts[i].len };

		fwrite(rh, sizeof(rh), 1, f);
		fwrite(&m->arena[m->pkts[i].off], m->pkts[i].len, 1, f);
	}
	if (fclose(f) != 0) {
		fprintf(stderr, "pktpath: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: pktpath [-v] [-n passes] [-s sessions] "
	    "[-r client|server|balancer] [-w prefix]\n");
	exit(2);
}

static unsigned
number(const char *s, unsigned lo, unsigned hi)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		usage();
	return (unsigned)v;
}

int
main(int argc, char *argv[])
{
	static const struct {
		const char *role;
		const char *conf;
		void (*gen)(struct mix *, unsigned);
	} roles[] = {
		{ "client", conf_client, mix_client },
		{ "server", conf_server, mix_server },
		{ "balancer", conf_balancer, mix_balancer },
	};
	const char *only = NULL, *prefix = NULL;
	unsigned passes = 200, sessions = 256, r, i, mod = 0, bad = 0;
	bool verbose = false;
	uint64_t *ns;
	int ch;

	while ((ch = getopt(argc, argv, "n:r:s:vw:")) != -1) {
		switch (ch) {
		case 'n':
			passes = number(optarg, 1, 100000);
			break;
		case 'r':
			if (strcmp(optarg, "client") != 0 &&
			    strcmp(optarg, "server") != 0 &&
			    strcmp(optarg, "balancer") != 0)
				usage();
			only = optarg;
			break;
		case 's':
			sessions = number(optarg, NIDS, 8192);
			break;
		case 'v':
			verbose = true;
			break;
		case 'w':
			prefix = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	ns = calloc(passes, sizeof(*ns));
	if (ns == NULL) {
		fprintf(stderr, "pktpath: out of memory\n");
		return 1;
	}
	printf("%-9s %8s %9s %9s %12s %12s\n", "role", "packets", "modified",
	    "passes", "ns/pkt med", "ns/pkt min");
	for (r = 0; r < sizeof(roles) / sizeof(roles[0]); r++) {
		struct mix m = { .role = roles[r].role };
		uint64_t t;

		if (only != NULL && strcmp(only, m.role) != 0)
			continue;
		roles[r].gen(&m, sessions);
		if (prefix != NULL && write_pcap(&m, prefix) == -1)
			return 1;
		/* Pass 0: every outcome checked (and warms the caches). */
		bad += pass(&m, roles[r].conf, true, verbose, &t, &mod);
		for (i = 0; i < passes; i++) {
			unsigned mi;

			(void)pass(&m, roles[r].conf, false, false, &ns[i],
			    &mi);
		}
		qsort(ns, passes, sizeof(*ns), cmp_u64);
		printf("%-9s %8u %9u %9u %12.1f %12.1f\n", m.role, m.n, mod,
		    passes, (double)ns[passes / 2] / m.n, (double)ns[0] / m.n);
		free(m.arena);
		free(m.pkts);
	}
	free(ns);
	if (bad != 0) {
		fprintf(stderr, "pktpath: %u packets not as expected\n", bad);
		return 1;
	}
	printf("all outcomes as expected\n");
	return 0;
}
