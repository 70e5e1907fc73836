/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lbsp_common.h -- what every lbsp tc program shares: its maps, the
 * packet walk (one pass into a struct lbsp_pkt, then the program
 * decides), and the steps that change a packet: insert or update the
 * option, rewrite an address with its L4 checksum, clamp the MSS.
 *
 * The walk follows libsp's (libsp/exthdr.c): at most 8 extension
 * headers; AH, jumbograms (Payload Length 0, bytes after the header)
 * and non-first fragments refused; counted under the NFQUEUE path's
 * names (bpf/lbsp_tc.h).
 * The common packet (IPv6, at most the canonical LBSP header, TCP or
 * UDP, in the skb's linear part) is read in place through skb->data at
 * constant offsets (walk_fast()); any other is read with
 * bpf_skb_load_bytes(), which checks every access against the packet's
 * length itself.  Packets are written with bpf_skb_store_bytes() only.
 * Ethernet devices only (the tc programs are attached to ARPHRD_ETHER
 * links).
 */
#ifndef LBSP_COMMON_H
#define LBSP_COMMON_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/errno.h>
#include <linux/if_ether.h>
#include <linux/in6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "lbsp_tc.h"

/*
 * The verdict on every packet the programs let through, theirs or not:
 * the next program on the hook sees it too (tcx: TCX_NEXT; clsact: the
 * next filter), then the stack.  TC_ACT_OK would end the hook's chain
 * there, and a firewall or another datapath attached after lbsp would
 * never see the packet.
 */
#define LBSP_TC_PASS	TC_ACT_UNSPEC

#define L3_OFF		ETH_HLEN	/* IPv6 header, after Ethernet */
#define IP6_HLEN	40
#define LBSP_HLEN	40		/* canonical header (DESIGN §1) */
#define LBSP_DATA_LEN	32
#define IP6_MIN_MTU	1280		/* RFC 8200 §5 */
#define ICMP6_PACKET_TOO_BIG	2
#define MAX_EXTHDRS	8		/* as libsp's walker */
#define MAX_TLVS	16		/* options looked at in one header */

#define NH_HOPOPTS	0
#define NH_TCP		6
#define NH_UDP		17
#define NH_ROUTING	43
#define NH_FRAGMENT	44
#define NH_ESP		50
#define NH_AH		51
#define NH_ICMPV6	58
#define NH_NONE		59
#define NH_DSTOPTS	60

#define TCP_FIN		0x01
#define TCP_SYN		0x02
#define TCP_RST		0x04
#define TCP_ACK		0x10

/* ---------------------------------------------------------------- maps */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lbsp_tc_conf);
} tc_conf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LBSP_TC_C__COUNT);
	__type(key, __u32);
	__type(value, __u64);
} tc_counters SEC(".maps");

/*
 * Flows in two maps, as the NFQUEUE path's table ranks them: new ones
 * (half-open TCP, UDP before an answer) in tc_flows, established ones
 * moved to tc_flows_est.  Each is an LRU map: a full one retires its
 * least recently used row.  A flood of SYNs from spoofed sources thus
 * recycles tc_flows and leaves running sessions alone (lbspd sizes the
 * maps: a quarter of max-flows for new flows, the rest established).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LBSP_TC_MAX_FLOWS / 4);
	__type(key, struct lbsp_tc_flow_key);
	__type(value, struct lbsp_tc_flow);
} tc_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LBSP_TC_MAX_FLOWS - LBSP_TC_MAX_FLOWS / 4);
	__type(key, struct lbsp_tc_flow_key);
	__type(value, struct lbsp_tc_flow);
} tc_flows_est SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LBSP_TC_MAX_FLOWS);	/* a source per flow */
	__type(key, struct lbsp_tc_source_key);
	__type(value, __u32);
} tc_sources SEC(".maps");

/*
 * A flow row being made, one per CPU (nothing else runs on a CPU while
 * a program does): lbsp_flow_create()'s row lives here, not on a stack
 * that the programs share with it up to the verifier's 512 bytes.
 * Scratch only: never pinned, never read by lbspd.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lbsp_tc_flow);
} tc_scratch SEC(".maps");

static __always_inline void
count(enum lbsp_tc_counter c)
{
	__u32 key = c;
	__u64 *v = bpf_map_lookup_elem(&tc_counters, &key);

	if (v != NULL)
		*v += 1;	/* per-CPU: no other writer */
}

/*
 * The programs' clock: CLOCK_MONOTONIC as the daemon reads it, at the
 * kernel tick's resolution (no clock source read per packet).  Times
 * kept in shared rows (a flow's last packet, a cache row's refresh) are
 * stored only when LBSP_TC_TOUCH_NS behind: most packets of a flow read
 * its row and write nothing to it but their own direction's count.
 */
static __always_inline __u64
clock_ns(void)
{
	return bpf_ktime_get_coarse_ns();
}

static __always_inline void
touch(__u64 *t, __u64 now)
{
	if (now - *t >= LBSP_TC_TOUCH_NS)	/* also when *t is ahead */
		*t = now;
}

/* Set or clear flag bits of a shared row: the atomic only when they
 * change. */
static __always_inline void
flags_set(__u32 *flags, __u32 bits)
{
	if ((*flags & bits) != bits)
		__sync_fetch_and_or(flags, bits);
}

static __always_inline void
flags_clear(__u32 *flags, __u32 bits)
{
	if ((*flags & bits) != 0)
		__sync_fetch_and_and(flags, ~bits);
}

static __always_inline const struct lbsp_tc_conf *
conf_get(void)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(&tc_conf, &key);
}

/* ---------------------------------------------------------------- walk */

/* One IPv6 packet, walked once. */
struct lbsp_pkt {
	__u8 src[16];		/* the four addresses first: 8-byte aligned */
	__u8 dst[16];
	__u8 seg1[16];		/* when has_opt */
	__u8 seg2[16];
	__u16 payload_len;	/* host order */
	__u8 nexthdr;		/* of the IPv6 header */
	__u8 l4_proto;		/* upper layer, or ESP / NONE */
	__u32 l4_off;		/* from the start of the frame */
	__u16 sport, dport;	/* TCP / UDP, host order, else 0 */
	__u8 tcp_flags;
	__u8 has_hbh;		/* Hop-by-Hop header present */
	__u8 dstopts_first;	/* a Destination Options header right
				   after the IPv6 header */
	__u8 has_opt;		/* an LBSP option was found */
	__u32 opt_off;		/* its type byte, from the frame start */
	__s8 refused;		/* -1, or the counter of why the packet
				   must not be touched */
	__u8 has_routing;	/* a Routing header with Segments Left > 0:
				   the destination is not the final one */
	__u8 has_frag;		/* a Fragment header was walked (kept in
				   *p, not in a register: the verifier
				   then walks lbsp_walk()'s loop once, not
				   once with and once without) */
	__u8 nhdr;		/* extension headers walked */
} __attribute__((aligned(8)));

/*
 * Addresses are compared and copied as two 64-bit words: every address
 * this file handles sits 8-byte aligned (struct lbsp_pkt, the map
 * layouts of lbsp_tc.h, the ADDR16 locals), as the verifier wants for
 * stack accesses.
 */
#define ADDR16(name) __u8 name[16] __attribute__((aligned(8)))

static __always_inline bool
addr_eq(const __u8 *a, const __u8 *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1];
}

static __always_inline bool
addr_zero(const __u8 *a)
{
	const __u64 *x = (const __u64 *)a;

	return x[0] == 0 && x[1] == 0;
}

static __always_inline void
addr_copy(__u8 *d, const __u8 *s)
{
	__u64 *x = (__u64 *)d;
	const __u64 *y = (const __u64 *)s;

	x[0] = y[0];
	x[1] = y[1];
}

/* The flow key of both roles, padding zeroed: it is hashed whole. */
static __always_inline void
flow_key(struct lbsp_tc_flow_key *k, const __u8 *src, const __u8 *dst,
    __u8 proto, __u16 sport, __u16 dport)
{
	__builtin_memset(k, 0, sizeof(*k));
	addr_copy(k->src, src);
	addr_copy(k->dst, dst);
	k->proto = proto;
	k->sport = sport;
	k->dport = dport;
}

/*
 * Look for the LBSP option in the Destination Options header at off,
 * hdr_len bytes.  Returns 0, or -1 when the header is malformed as
 * libsp's sp_opt_walk() and sp_dopt_find() say (an option whose length
 * byte or data passes the end of the header, an LBSP option of the
 * wrong length, or a second one) or holds more than MAX_TLVS options
 * (not looked at, so not passed as without the option).
 */
static __always_inline int
walk_dstopts(struct __sk_buff *skb, struct lbsp_pkt *p, __u32 off,
    __u32 hdr_len, __u8 type)
{
	__u32 o = off + 2, end = off + hdr_len;
	__u8 tl[2], h[8];
	int i;

	/* The canonical header (PadN(2), then the option at 8n + 6) in two
	 * reads: the common case on the per-packet path. */
	if (hdr_len == LBSP_HLEN && bpf_skb_load_bytes(skb, off, h, 8) == 0 &&
	    h[2] == 0x01 && h[3] == 0x02 && h[4] == 0 && h[5] == 0 &&
	    h[6] == type && h[7] == LBSP_DATA_LEN) {
		/* A second option (this header after another one that held
		 * one): libsp's SP_ERR_DUPLICATE, as in the loop below. */
		if (p->has_opt)
			return -1;
		/* seg1 and seg2 are adjacent in struct lbsp_pkt. */
		if (bpf_skb_load_bytes(skb, off + 8, p->seg1, 32) < 0 ||
		    addr_zero(p->seg1))
			return -1;
		p->has_opt = 1;
		p->opt_off = off + 6;
		return 0;
	}

	for (i = 0; i < MAX_TLVS; i++) {
		if (o >= end)
			break;
		if (bpf_skb_load_bytes(skb, o, tl, 1) < 0)
			return -1;
		if (tl[0] == 0) {	/* Pad1 */
			o++;
			continue;
		}
		if (o + 2 > end || bpf_skb_load_bytes(skb, o, tl, 2) < 0 ||
		    o + 2 + tl[1] > end)
			return -1;
		if (tl[0] == type) {
			if (tl[1] != LBSP_DATA_LEN || p->has_opt)
				return -1;
			if (bpf_skb_load_bytes(skb, o + 2, p->seg1, 16) < 0 ||
			    bpf_skb_load_bytes(skb, o + 18, p->seg2, 16) < 0)
				return -1;
			if (addr_zero(p->seg1))	/* never valid */
				return -1;
			p->has_opt = 1;
			p->opt_off = o;
		}
		o += 2 + tl[1];
	}
	return o < end ? -1 : 0;
}

/*
 * The common case, read in place: the IPv6 header, at most the
 * canonical LBSP header, then TCP or UDP, all in the skb's linear
 * part.  Constant offsets only, checked against data_end once: no
 * helper call and no copy but the fields kept.  Returns false when
 * the packet is anything else (the helper-based walk below takes it).
 */
static __always_inline bool
walk_fast(struct __sk_buff *skb, struct lbsp_pkt *p, __u8 type)
{
	const __u8 *data = (const __u8 *)(long)skb->data;
	const __u8 *end = (const __u8 *)(long)skb->data_end;
	const __u8 *ip6 = data + L3_OFF, *l4, *h;
	__u8 nh;

	if (ip6 + IP6_HLEN > end || (ip6[0] >> 4) != 6 ||
	    (ip6[4] == 0 && ip6[5] == 0))
		return false;
	__builtin_memset(p, 0, sizeof(*p));
	p->refused = -1;
	p->payload_len = (__u16)(ip6[4] << 8 | ip6[5]);
	p->nexthdr = nh = ip6[6];
	__builtin_memcpy(p->src, ip6 + 8, 16);
	__builtin_memcpy(p->dst, ip6 + 24, 16);
	l4 = ip6 + IP6_HLEN;
	if (nh == NH_DSTOPTS) {
		h = l4;
		if (h + LBSP_HLEN > end || h[1] != LBSP_HLEN / 8 - 1 ||
		    h[2] != 0x01 || h[3] != 0x02 || h[4] != 0 || h[5] != 0 ||
		    h[6] != type || h[7] != LBSP_DATA_LEN)
			return false;
		/* seg1 and seg2 are adjacent in struct lbsp_pkt. */
		__builtin_memcpy(p->seg1, h + 8, 32);
		if (addr_zero(p->seg1))
			return false;	/* the slow walk calls it malformed */
		p->dstopts_first = 1;
		p->has_opt = 1;
		p->opt_off = L3_OFF + IP6_HLEN + 6;
		p->nhdr = 1;
		nh = h[0];
		l4 = h + LBSP_HLEN;
	}
	if (nh == NH_TCP) {
		if (l4 + 14 > end)
			return false;
		p->tcp_flags = l4[13];
	} else if (nh == NH_UDP) {
		if (l4 + 4 > end)
			return false;
	} else {
		return false;
	}
	p->l4_proto = nh;
	p->l4_off = (__u32)(l4 - data);
	p->sport = (__u16)(l4[0] << 8 | l4[1]);
	p->dport = (__u16)(l4[2] << 8 | l4[3]);
	return true;
}

/*
 * Walk the frame's IPv6 headers into p.  Returns false when it is not
 * IPv6 at all; p->refused says whether it may be touched.  A global
 * function: the verifier checks it once, and the programs that call it
 * do not carry its branches into their own.
 */
__attribute__((noinline)) int
lbsp_walk(struct __sk_buff *skb, struct lbsp_pkt *p, __u8 type)
{
	__u8 ip6[IP6_HLEN], eh[8];
	__u32 off;
	__u8 nh;
	int i;

	if (p == NULL || skb->protocol != bpf_htons(ETH_P_IPV6))
		return false;
	/* Tagged, on a VLAN's parent: the VLAN link's own hook handles it
	 * (lbspd/path/links.h), once. */
	if (skb->vlan_present)
		return false;
	if (walk_fast(skb, p, type))
		return true;
	if (bpf_skb_load_bytes(skb, L3_OFF, ip6, IP6_HLEN) < 0 ||
	    (ip6[0] >> 4) != 6)
		return false;
	__builtin_memset(p, 0, sizeof(*p));
	p->refused = -1;
	p->payload_len = (__u16)(ip6[4] << 8 | ip6[5]);
	p->nexthdr = ip6[6];
	__builtin_memcpy(p->src, &ip6[8], 16);
	__builtin_memcpy(p->dst, &ip6[24], 16);
	/* A jumbogram has bytes past the IPv6 header; Payload Length 0 on
	 * 40 bytes is an empty payload (libsp's sp_exthdr_walk()). */
	if (p->payload_len == 0 && skb->len > L3_OFF + IP6_HLEN) {
		p->refused = LBSP_TC_C_JUMBO;
		return true;
	}

	nh = p->nexthdr;
	off = L3_OFF + IP6_HLEN;
	for (i = 0; i < MAX_EXTHDRS; i++) {
		__u32 hlen;

		switch (nh) {
		case NH_HOPOPTS:
			if (i != 0)
				goto malformed;
			p->has_hbh = 1;
			break;
		case NH_DSTOPTS:
			if (i == 0)
				p->dstopts_first = 1;
			break;
		case NH_ROUTING:
			break;
		case NH_FRAGMENT:
			/* A second one: libsp says SP_ERR_HDR_ORDER. */
			if (p->has_frag ||
			    bpf_skb_load_bytes(skb, off, eh, 8) < 0)
				goto malformed;
			p->has_frag = 1;
			if (((eh[2] << 8 | eh[3]) & 0xfff8) != 0) {
				p->refused = LBSP_TC_C_FRAGMENT;
				return true;
			}
			nh = eh[0];
			off += 8;
			continue;
		case NH_AH:
			p->refused = LBSP_TC_C_AH;
			return true;
		default:	/* upper layer, ESP or No Next Header */
			goto upper;
		}
		/* 4 bytes: Segments Left too; every header has 8. */
		if (bpf_skb_load_bytes(skb, off, eh, 4) < 0)
			goto malformed;
		hlen = ((__u32)eh[1] + 1) * 8;
		if (nh == NH_ROUTING && eh[3] != 0)
			p->has_routing = 1;
		/* The whole header in the packet, as libsp's walk wants. */
		if (off + hlen > skb->len)
			goto malformed;
		if (nh == NH_DSTOPTS &&
		    walk_dstopts(skb, p, off, hlen, type) < 0)
			goto malformed;
		nh = eh[0];
		off += hlen;
	}
	/* MAX_EXTHDRS headers walked: one more is too many, as libsp says
	 * (SP_ERR_TOO_MANY_HDRS); an upper layer is fine. */
	if (nh == NH_HOPOPTS || nh == NH_ROUTING || nh == NH_FRAGMENT ||
	    nh == NH_AH || nh == NH_DSTOPTS)
		goto malformed;

upper:
	p->nhdr = (__u8)i;
	p->l4_proto = nh;
	p->l4_off = off;
	if (nh == NH_TCP) {
		__u8 th[14];

		if (bpf_skb_load_bytes(skb, off, th, sizeof(th)) < 0)
			goto malformed;
		p->sport = (__u16)(th[0] << 8 | th[1]);
		p->dport = (__u16)(th[2] << 8 | th[3]);
		p->tcp_flags = th[13];
	} else if (nh == NH_UDP) {
		__u8 uh[4];

		if (bpf_skb_load_bytes(skb, off, uh, sizeof(uh)) < 0)
			goto malformed;
		p->sport = (__u16)(uh[0] << 8 | uh[1]);
		p->dport = (__u16)(uh[2] << 8 | uh[3]);
	}
	return true;

malformed:
	p->refused = LBSP_TC_C_MALFORMED;
	return true;
}

/* ---------------------------------------------------------------- flows */

/* The flow of key, established or new; NULL when there is none. */
static __always_inline struct lbsp_tc_flow *
flow_find(const struct lbsp_tc_flow_key *key)
{
	struct lbsp_tc_flow *f = bpf_map_lookup_elem(&tc_flows_est, key);

	return f != NULL ? f : bpf_map_lookup_elem(&tc_flows, key);
}

/*
 * Flow f of key has just become established: its row moves to
 * tc_flows_est.  Returns the row there (f when it could not move).
 */
static __always_inline struct lbsp_tc_flow *
flow_promote(const struct lbsp_tc_flow_key *key, struct lbsp_tc_flow *f)
{
	struct lbsp_tc_flow *e;

	/* Copied from the row itself (no room on the stack for one).
	 * Another CPU may have moved it first: its row stays. */
	(void)bpf_map_update_elem(&tc_flows_est, key, f, BPF_NOEXIST);
	e = bpf_map_lookup_elem(&tc_flows_est, key);
	if (e == NULL)
		return f;
	(void)bpf_map_delete_elem(&tc_flows, key);
	return e;
}

/*
 * Note what a packet of flow f says of its state (orig: the client's
 * direction): the TCP ends it carries; the handshake done (the
 * originator acknowledges an answer); for other protocols, an answer.
 * Returns true when the flow has just become established (the caller
 * moves it: flow_promote()).
 */
static __always_inline bool
flow_note_state(struct lbsp_tc_flow *f, const struct lbsp_pkt *p, bool orig)
{
	__u32 add = 0;

	if (p->l4_proto != NH_TCP) {
		if (orig || (f->flags & LBSP_TC_F_ESTABLISHED))
			return false;
		flags_set(&f->flags, LBSP_TC_F_ESTABLISHED);
		return true;
	}
	if (p->tcp_flags & TCP_FIN)
		add |= orig ? LBSP_TC_F_FIN_ORIG : LBSP_TC_F_FIN_REPLY;
	if (p->tcp_flags & TCP_RST)
		add |= LBSP_TC_F_RST;
	if (orig && (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_ACK &&
	    f->packets_reply != 0 && !(f->flags & LBSP_TC_F_ESTABLISHED))
		add |= LBSP_TC_F_ESTABLISHED;
	if (add != 0)
		flags_set(&f->flags, add);
	return (add & LBSP_TC_F_ESTABLISHED) != 0;
}

/*
 * Create the flow of key, unless its source holds max-flows-per-source
 * flows already (counted: source_limited, per packet, as the NFQUEUE
 * path does).  A full map retires its least recently used flow to make
 * room (the kernel's LRU); lbspd counts those from flows-created.
 * Returns 0 when the flow is there (also made by another CPU at the same
 * time), else -1.  A global function, verified once; the row it makes
 * is built in tc_scratch (the callers' stack is near the limit).  The
 * key is copied to this function's stack first: before Linux 6.2 a map
 * helper takes no key from a global function's argument memory (Debian
 * 12's 6.1 verifier: "R2 type=mem expected=fp, pkt, pkt_meta, map_key,
 * map_value").
 */
__attribute__((noinline)) int
lbsp_flow_create(const struct lbsp_tc_conf *c,
    const struct lbsp_tc_flow_key *arg, __u64 now)
{
	struct lbsp_tc_flow_key key;
	struct lbsp_tc_source_key sk;
	struct lbsp_tc_flow *nf;
	__u32 *held = NULL, zero = 0;
	long rc;

	if (c == NULL || arg == NULL)
		return -1;
	nf = bpf_map_lookup_elem(&tc_scratch, &zero);
	if (nf == NULL)
		return -1;
	__builtin_memset(nf, 0, sizeof(*nf));
	nf->created_ns = now;
	__builtin_memcpy(&key, arg, sizeof(key));
	if (c->per_source != 0) {
		addr_copy(sk.addr, key.src);
		held = bpf_map_lookup_elem(&tc_sources, &sk);
		if (held == NULL) {
			(void)bpf_map_update_elem(&tc_sources, &sk, &zero,
			    BPF_NOEXIST);
			held = bpf_map_lookup_elem(&tc_sources, &sk);
		}
		/* One add that reads: two CPUs never both take the last
		 * place. */
		if (held != NULL &&
		    __sync_fetch_and_add(held, 1) >= c->per_source) {
			__sync_fetch_and_sub(held, 1);
			count(LBSP_TC_C_SOURCE_LIMITED);
			return -1;
		}
	}
	rc = bpf_map_update_elem(&tc_flows, &key, nf, BPF_NOEXIST);
	if (rc == 0) {
		count(LBSP_TC_C_FLOWS_CREATED);
		return 0;
	}
	if (held != NULL)
		__sync_fetch_and_sub(held, 1);
	if (rc == -EEXIST)	/* another CPU made it */
		return 0;
	count(LBSP_TC_C_FLOWS_FULL);
	return -1;
}

/* The flow of key, made when there is none (lbsp_flow_create()). */
static __always_inline struct lbsp_tc_flow *
flow_create(const struct lbsp_tc_conf *c, struct lbsp_tc_flow_key *key,
    __u64 now)
{
	return lbsp_flow_create(c, key, now) == 0 ? flow_find(key) : NULL;
}

/* A new SYN on the 5-tuple of a closed flow (the port is used again):
 * the flow starts afresh. */
static __always_inline void
flow_reopen(struct lbsp_tc_flow *f, const struct lbsp_pkt *p, __u64 now)
{
	if (p->l4_proto == NH_TCP && (p->tcp_flags & TCP_SYN) &&
	    !(p->tcp_flags & TCP_ACK) && (f->flags & LBSP_TC_F_CLOSING)) {
		__builtin_memset(f, 0, sizeof(*f));
		f->created_ns = now;
	}
}

/* ---------------------------------------------------------------- steps */

/* Fold a 32-bit one's complement sum to 16 bits. */
static __always_inline __u16
csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* Offset of the L4 checksum field, or 0 when there is none we fix. */
static __always_inline __u32
l4_csum_off(const struct lbsp_pkt *p)
{
	switch (p->l4_proto) {
	case NH_TCP:
		return p->l4_off + 16;
	case NH_UDP:
		return p->l4_off + 6;
	case NH_ICMPV6:
		return p->l4_off + 2;
	}
	return 0;
}

/* Bytes of the upper layer's fixed header whose checksum covers the
 * addresses, as libsp's l4_layout_get(); 0: no such checksum. */
static __always_inline __u32
l4_min_len(const struct lbsp_pkt *p)
{
	switch (p->l4_proto) {
	case NH_TCP:
		return 20;
	case NH_UDP:
		return 8;
	case NH_ICMPV6:
		return 4;	/* type, code, checksum */
	}
	return 0;
}

/*
 * Rewrite the source (addr_off 8) or destination (24) address to to[],
 * fixing the L4 checksum, which covers both through the pseudo-header
 * (UDP: a computed 0 is sent as 0xffff).  p keeps the new address.
 * An upper layer cut inside its fixed header is not touched (libsp's
 * sp_pkt_set_addr(): SP_ERR_TRUNCATED): counted malformed.  Nor is a
 * packet with a Routing header still to follow (SP_ERR_ROUTING: the
 * checksum covers the final destination, not ours), uncounted as on
 * the NFQUEUE path.
 */
static __always_inline int
set_addr(struct __sk_buff *skb, struct lbsp_pkt *p, __u32 addr_off,
    const __u8 *to)
{
	__u8 *from = addr_off == 8 ? p->src : p->dst;
	__u32 csum_off = l4_csum_off(p);
	__s64 diff;
	__u64 flags = BPF_F_PSEUDO_HDR;

	if (p->has_routing)
		return -1;
	if (csum_off != 0 && p->l4_off + l4_min_len(p) > skb->len) {
		count(LBSP_TC_C_MALFORMED);
		return -1;
	}
	diff = bpf_csum_diff((__be32 *)from, 16, (__be32 *)to, 16, 0);
	if (diff < 0)
		goto failed;
	if (bpf_skb_store_bytes(skb, L3_OFF + addr_off, to, 16, 0) < 0)
		goto failed;
	if (csum_off != 0) {
		if (p->l4_proto == NH_UDP)
			flags |= BPF_F_MARK_MANGLED_0;
		if (bpf_l4_csum_replace(skb, csum_off, 0, (__u32)diff,
		    flags) < 0)
			goto failed;
	}
	addr_copy(from, to);
	return 0;
failed:
	count(LBSP_TC_C_HELPER_FAILED);
	return -1;
}

/*
 * The MSS a SYN or SYN-ACK may offer between this host and its peer:
 * the MTU of the packet's device (the one it leaves by, or came in by:
 * answers leave the way requests came) less the IPv6 and TCP headers
 * and our 40 bytes, never more than cap (the MSS of lbsp.conf's mtu).
 * A smaller MTU further on is learnt from Packet Too Big
 * (lbsp_ptb_lower()).
 * bpf_check_mtu() says the device's MTU whatever it answers; the
 * route's, which bpf_fib_lookup() could say, it says only on a host
 * that forwards.
 */
static __always_inline __u32
path_mss(struct __sk_buff *skb, __u32 cap)
{
	__u32 mtu = 0, mss;

	if (bpf_check_mtu(skb, 0, &mtu, 0, 0) < 0 || mtu < IP6_MIN_MTU)
		return cap;
	mss = mtu - IP6_HLEN - 20 - LBSP_HLEN;
	return mss < cap ? mss : cap;
}

/*
 * Clamp the MSS options of the TCP SYN (or SYN-ACK) whose header is at
 * l4_off to path_mss() (cap at most), as sp_tcp_mss_clamp() does: the
 * whole option list is
 * checked first (an option without its length byte, shorter than 2 or
 * past the header's end, an MSS option not 4 bytes long: nothing
 * changes), then every MSS above mss is lowered.  The options are
 * lowered in a copy, written back at once, and the checksum follows by
 * the difference of the copy's sums (an MSS after a NOP sits at an odd
 * offset: bpf_csum_diff() sums it where it is).  A global function: the
 * verifier walks its option loop once, not once for every path of the
 * program that reaches it (on Debian 12's 6.1 the client's egress
 * program then passed the verifier's limit of a million instructions).
 * Returns 1 when it clamped, else 0.
 */
__attribute__((noinline)) int
lbsp_mss_clamp(struct __sk_buff *skb, __u32 l4_off, __u32 cap)
{
	__u8 opts[40], doff;
	__u32 olen, i, mss;
	__s64 diff;
	bool lowered = false;

	if (skb == NULL)
		return 0;
	mss = path_mss(skb, cap);
	if (bpf_skb_load_bytes(skb, l4_off + 12, &doff, 1) < 0)
		return 0;
	olen = (__u32)(doff >> 4) * 4;
	if (olen <= 20)
		return 0;
	olen -= 20;
	if (olen > sizeof(opts))	/* a constant bound for the verifier */
		return 0;
	if (bpf_skb_load_bytes(skb, l4_off + 20, opts, olen) < 0)
		return 0;
	/* The sum of the options as they are: the difference starts there
	 * (olen is a multiple of 4, as bpf_csum_diff() wants). */
	diff = bpf_csum_diff((__be32 *)opts, olen, NULL, 0, 0);
	if (diff < 0)
		goto failed;
	for (i = 0; i < sizeof(opts); i++) {
		__u16 have;
		__u8 kind, len;

		if (i >= olen)
			break;
		kind = opts[i];
		if (kind == 0)		/* end of options */
			break;
		if (kind == 1)		/* NOP */
			continue;
		/* i + 1 < sizeof(opts): for the verifier, as below. */
		if (i + 1 >= olen || i + 1 >= sizeof(opts))
			return 0;	/* no length byte */
		len = opts[i + 1];
		if (len < 2 || i + len > olen)
			return 0;	/* malformed: nothing changes */
		if (kind == 2) {
			if (len != 4 || i + 3 >= sizeof(opts))
				return 0;
			have = (__u16)(opts[i + 2] << 8 | opts[i + 3]);
			if (have > mss) {
				opts[i + 2] = (__u8)(mss >> 8);
				opts[i + 3] = (__u8)mss;
				lowered = true;
			}
		}
		i += len - 1;	/* the loop adds the last one */
	}
	if (!lowered)
		return 0;
	diff = bpf_csum_diff(NULL, 0, (__be32 *)opts, olen, (__wsum)diff);
	if (diff < 0 ||
	    bpf_skb_store_bytes(skb, l4_off + 20, opts, olen, 0) < 0 ||
	    bpf_l4_csum_replace(skb, l4_off + 16, 0, (__u32)diff, 0) < 0)
		goto failed;
	count(LBSP_TC_C_MSS_CLAMPED);
	return 1;
failed:
	count(LBSP_TC_C_HELPER_FAILED);
	return 0;
}

/* Clamp the MSS of a TCP SYN or SYN-ACK when mss-clamp is on. */
static __always_inline void
clamp_mss(struct __sk_buff *skb, const struct lbsp_pkt *p,
    const struct lbsp_tc_conf *c)
{
	if (!c->mss_clamp || p->l4_proto != NH_TCP ||
	    !(p->tcp_flags & TCP_SYN))
		return;
	(void)lbsp_mss_clamp(skb, p->l4_off, c->mss);
}

/*
 * A Packet Too Big about a packet of ours that carried the option (the
 * quote: an IPv6 header, then the option's header as lbsp puts it on).
 * The stack is to size its packets 40 bytes under the path's MTU, so
 * the MTU it reads is lowered by 40.  Under 1280 + 40 it is left alone
 * and counted: the stack ignores an MTU under 1280 (RFC 8201 §4), and
 * such a path carries the option only within the MSS of "mtu 1280"
 * (lbsp.conf(5)).  A global function: checked once.  Returns 1 when it
 * lowered the MTU.
 */
__attribute__((noinline)) int
lbsp_ptb_lower(struct __sk_buff *skb, __u32 l4_off, __u32 type)
{
	__u8 h[8], q[8];
	__u32 mtu, old, new;

	if (skb == NULL)
		return 0;
	if (bpf_skb_load_bytes(skb, l4_off, h, 8) < 0 ||
	    h[0] != ICMP6_PACKET_TOO_BIG || h[1] != 0 ||
	    bpf_skb_load_bytes(skb, l4_off + 8 + 6, q, 1) < 0 ||
	    q[0] != NH_DSTOPTS ||
	    bpf_skb_load_bytes(skb, l4_off + 8 + IP6_HLEN, q, 8) < 0 ||
	    q[1] != LBSP_HLEN / 8 - 1 || q[2] != 0x01 || q[3] != 0x02 ||
	    q[6] != type || q[7] != LBSP_DATA_LEN)
		return 0;
	mtu = (__u32)h[4] << 24 | (__u32)h[5] << 16 | (__u32)h[6] << 8 | h[7];
	if (mtu < IP6_MIN_MTU + LBSP_HLEN) {
		count(LBSP_TC_C_PTB_UNDER_MINIMUM);
		return 0;
	}
	old = bpf_htonl(mtu);
	new = bpf_htonl(mtu - LBSP_HLEN);
	if (bpf_skb_store_bytes(skb, l4_off + 4, &new, 4, 0) < 0 ||
	    bpf_l4_csum_replace(skb, l4_off + 2, old, new, 4) < 0) {
		count(LBSP_TC_C_HELPER_FAILED);
		return 0;
	}
	count(LBSP_TC_C_PTB_LOWERED);
	return 1;
}

/*
 * Whether 40 more bytes take the packet past the MTU: cap (mtu of
 * lbsp.conf) or its device's (bpf_check_mtu()).  A GSO packet is
 * judged by its segments, the size it leaves in: gso_size of payload
 * behind the headers up to the upper layer's own.  A global function.
 */
__attribute__((noinline)) int
lbsp_too_big(struct __sk_buff *skb, __u32 l4_off, __u32 l4_proto, __u32 cap)
{
	__u32 mtu = 0, seg;
	__u8 doff;

	if (skb == NULL)
		return 1;
	if (skb->gso_size == 0) {
		if (skb->len - L3_OFF + LBSP_HLEN > cap)
			return 1;
		return bpf_check_mtu(skb, 0, &mtu, LBSP_HLEN, 0) !=
		    BPF_MTU_CHK_RET_SUCCESS;
	}
	/* Only for the device's MTU: a GSO packet passes here. */
	if (bpf_check_mtu(skb, 0, &mtu, 0, 0) < 0)
		return 1;
	seg = l4_off - L3_OFF + skb->gso_size + LBSP_HLEN;
	if (l4_proto == NH_TCP) {
		if (bpf_skb_load_bytes(skb, l4_off + 12, &doff, 1) < 0)
			return 1;
		seg += (__u32)(doff >> 4) * 4;
	} else if (l4_proto == NH_UDP) {
		seg += 8;
	}
	return seg > mtu || seg > cap;
}

/*
 * Put LBSP{seg1, seg2} on the packet: rewrite an option already there,
 * else insert the canonical 40-byte header right after the IPv6 header
 * (bpf_skb_adjust_room with FIXED_GSO: segments keep their size, the
 * MSS clamp made room for the 40 bytes).  Returns 0 when the packet
 * carries the option, else -1 with the reason counted.
 */
static __always_inline int
put_option(struct __sk_buff *skb, struct lbsp_pkt *p,
    const struct lbsp_tc_conf *c, const __u8 *seg1, const __u8 *seg2)
{
	__u8 hdr[LBSP_HLEN] __attribute__((aligned(8)));
	__u8 ip6[4];

	if (p->refused >= 0) {
		count(p->refused);
		return -1;
	}
	if (p->has_opt) {
		__builtin_memcpy(hdr, seg1, 16);
		__builtin_memcpy(hdr + 16, seg2, 16);
		if (bpf_skb_store_bytes(skb, p->opt_off + 2, hdr, 32, 0) < 0)
			goto failed;
		count(LBSP_TC_C_UPDATED);
		return 0;
	}
	/* The header goes right after the IPv6 header only: a packet with
	 * Hop-by-Hop, or with a Destination Options header already there
	 * (libsp would merge into it), passes unchanged. */
	if (p->has_hbh) {
		count(LBSP_TC_C_HOP_BY_HOP);
		return -1;
	}
	if (p->dstopts_first) {
		count(LBSP_TC_C_DSTOPTS);
		return -1;
	}
	/* A ninth header: libsp's sp_dopt_set() refuses it
	 * (SP_ERR_TOO_MANY_HDRS), the NFQUEUE path counts it malformed. */
	if (p->nhdr >= MAX_EXTHDRS) {
		count(LBSP_TC_C_MALFORMED);
		return -1;
	}
	if ((__u32)p->payload_len + LBSP_HLEN > 0xffff ||
	    lbsp_too_big(skb, p->l4_off, p->l4_proto, c->mtu)) {
		count(LBSP_TC_C_TOO_BIG);
		return -1;
	}
	if (bpf_skb_adjust_room(skb, LBSP_HLEN, BPF_ADJ_ROOM_NET,
	    BPF_F_ADJ_ROOM_FIXED_GSO) < 0)
		goto failed;
	hdr[0] = p->nexthdr;
	hdr[1] = (LBSP_HLEN / 8) - 1;
	hdr[2] = 0x01;		/* PadN, 2 bytes: the TLV at 8n + 6 */
	hdr[3] = 0x02;
	hdr[4] = 0;
	hdr[5] = 0;
	hdr[6] = c->option_type;
	hdr[7] = LBSP_DATA_LEN;
	__builtin_memcpy(hdr + 8, seg1, 16);
	__builtin_memcpy(hdr + 24, seg2, 16);
	if (bpf_skb_store_bytes(skb, L3_OFF + IP6_HLEN, hdr, LBSP_HLEN, 0) < 0)
		goto failed;
	p->payload_len += LBSP_HLEN;
	ip6[0] = (__u8)(p->payload_len >> 8);
	ip6[1] = (__u8)p->payload_len;
	ip6[2] = NH_DSTOPTS;
	if (bpf_skb_store_bytes(skb, L3_OFF + 4, ip6, 3, 0) < 0)
		goto failed;
	p->nexthdr = NH_DSTOPTS;
	p->l4_off += LBSP_HLEN;
	p->has_opt = 1;
	p->opt_off = L3_OFF + IP6_HLEN + 6;
	count(LBSP_TC_C_INSERTED);
	return 0;
failed:
	count(LBSP_TC_C_HELPER_FAILED);
	return -1;
}

#endif /* LBSP_COMMON_H */
