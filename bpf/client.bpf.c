// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * client.bpf.c -- the client role in tc (lbspd/path/client.c is the
 * specification; its steps are numbered the same here).
 *
 * lbsp_client_egress, on packets to a vip (and one of its ports):
 *   1. the flow (5-tuple as the application sent it) found or created;
 *   2. seg1 = the source address, or the configured identity;
 *   3. seg2 = the flow's server, else the one cached for (vip, seg1)
 *      unless the flow fell back, else zero;
 *   4. single pass: with a server known, destination vip -> server
 *      (the flow indexed by its server in tc_ports, for the answers);
 *   5. the MSS of a SYN clamped, the option put on.
 * lbsp_client_ingress, on packets from the vip or an allowed server:
 *   1. the flow found, from the vip by its reverse key, from a server
 *      through the (server, ports) index, or for the first answer among
 *      the vips that allow the server (lbsp_answer_vip());
 *   2. seg2 inside allow-servers (or the vip) learned for the flow (and
 *      indexed by it) and cached for (vip, identity); anything else
 *      counted, not followed;
 *   3. from the server itself: source server -> vip;
 *   4. the MSS of a SYN-ACK clamped;
 *   5. the slides' rule: a server answering without the option is no
 *      longer followed by new connections (its cache entry goes).
 * Paths that drop the option (lbspd/path/client.c, "Paths that drop the
 * option"): a SYN that went to the vip with the option and is sent
 * again unanswered leaves without it and marks the vip in tc_blackholes;
 * new connections to a marked vip go without it, but one probe once the
 * mark ran out; a probe sent again unanswered doubles the period; an
 * answer with the option clears the mark.
 * The timing rule of fallback (a flow opened to its server,
 * LBSP_TC_CF_TIMED, unanswered for fallback-timeout) is the daemon's:
 * it reads tc_flows on its clock, marks the flow LBSP_TC_CF_FELL_BACK
 * and drops the cache entry.
 */
#include "lbsp_common.h"

/* The configuration's vips and ports, written by lbspd: room for what
 * lbsp.conf may list, memory only for what it does (no prealloc). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LBSP_TC_MAX_VIPS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lbsp_tc_vip_key);
	__type(value, struct lbsp_tc_vip);
} tc_vips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LBSP_TC_MAX_PORTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lbsp_tc_vip_port);
	__type(value, __u8);
} tc_vip_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LBSP_TC_MAX_FLOWS);
	__type(key, struct lbsp_tc_port_key);
	__type(value, struct lbsp_tc_vip_key);
} tc_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LBSP_TC_MAX_CACHE);
	__type(key, struct lbsp_tc_cache_key);
	__type(value, struct lbsp_tc_cache);
} tc_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LBSP_TC_MAX_VIPS);
	__type(key, struct lbsp_tc_vip_key);
	__type(value, struct lbsp_tc_blackhole);
} tc_blackholes SEC(".maps");

/* ---------------------------------------------------------------- fallback */

struct suspect_walk {
	__u8 server[16] __attribute__((aligned(8)));
	__u64 now;
	__u8 reason;
};

static long
suspect_row(void *map, const struct lbsp_tc_cache_key *key,
    struct lbsp_tc_cache *e, struct suspect_walk *w)
{
	(void)map;
	(void)key;
	if (e->state == LBSP_TC_CACHE_OK && addr_eq(e->server, w->server)) {
		e->suspect_ns = w->now;
		e->reason = w->reason;
		e->state = LBSP_TC_CACHE_SUSPECT;
	}
	return 0;
}

/* The counter of each reason to fall back. */
static __always_inline void
count_fallback(__u8 reason)
{
	count(LBSP_TC_C_FALLBACKS);
	switch (reason) {
	case LBSP_TC_SUSPECT_SYN_RETRANSMIT:
		count(LBSP_TC_C_FALLBACK_SYN_RETRANSMIT);
		break;
	case LBSP_TC_SUSPECT_TIMER:
		count(LBSP_TC_C_FALLBACK_TIMER);
		break;
	case LBSP_TC_SUSPECT_ICMP:
		count(LBSP_TC_C_FALLBACK_ICMP);
		break;
	case LBSP_TC_SUSPECT_NO_OPTION:
		count(LBSP_TC_C_FALLBACK_NO_OPTION);
		break;
	}
}

/*
 * Give up on server, for reason (lbspd/path/client.c, client_fallback()):
 * every OK cache row naming it becomes suspect (no new connection is
 * redirected to it until an answer names it again); flow f (may be
 * NULL) goes back to the vip for the rest of its life.  Rare: a walk of
 * the whole cache is affordable.
 */
/* A function of its own (global: the verifier checks it once, not at
 * every call). */
__attribute__((noinline)) int
cache_suspect(__u64 server_hi, __u64 server_lo, __u64 now, __u32 reason)
{
	struct suspect_walk w = { .now = now, .reason = (__u8)reason };
	__u64 *a = (__u64 *)w.server;

	a[0] = server_hi;
	a[1] = server_lo;
	return (int)bpf_for_each_map_elem(&tc_cache, suspect_row, &w, 0);
}

static __always_inline void
client_fallback(const __u8 *server, struct lbsp_tc_flow *f, __u8 reason,
    __u64 now)
{
	const __u64 *a = (const __u64 *)server;

	(void)cache_suspect(a[0], a[1], now, reason);
	if (f != NULL) {
		__builtin_memset(f->server, 0, 16);
		flags_clear(&f->flags, LBSP_TC_CF_REDIRECTED);
		flags_set(&f->flags, LBSP_TC_CF_FELL_BACK);
	}
	count_fallback(reason);
}

/* ---------------------------------------------------------------- blackholes */

/* A new connection to vk: may it carry the option?  Not while the vip
 * is marked, nor while another connection probes; once the mark ran
 * out, this one is the probe. */
static __always_inline bool
blackhole_allows(const struct lbsp_tc_vip_key *vk, struct lbsp_tc_flow *f,
    __u64 now)
{
	struct lbsp_tc_blackhole *b = bpf_map_lookup_elem(&tc_blackholes, vk);

	if (b == NULL)
		return true;
	if (now >= b->until_ns && (b->probe_ns == 0 ||
	    now - b->probe_ns >= LBSP_TC_BLACKHOLE_PROBE_NS)) {
		b->probe_ns = now;
		flags_set(&f->flags, LBSP_TC_CF_PROBE);
		count(LBSP_TC_C_BLACKHOLE_PROBES);
		return true;
	}
	count(LBSP_TC_C_BLACKHOLE_AVOIDED);
	return false;
}

/* A SYN to vk with the option, unanswered when sent again: mark the
 * vip (a probe's failure doubles the period, up to the maximum). */
static __always_inline void
blackhole_detected(const struct lbsp_tc_conf *c,
    const struct lbsp_tc_vip_key *vk, bool probe, __u64 now)
{
	struct lbsp_tc_blackhole *b = bpf_map_lookup_elem(&tc_blackholes, vk);
	__u32 period;

	if (b != NULL && !probe)
		return;	/* a connection older than the mark */
	if (b == NULL) {
		struct lbsp_tc_blackhole nb = {
			.since_ns = now,
			.until_ns = now + (__u64)c->blackhole_min_ms * 1000000,
			.period_ms = c->blackhole_min_ms,
			.detections = 1,
		};

		(void)bpf_map_update_elem(&tc_blackholes, vk, &nb, BPF_ANY);
	} else {
		period = b->period_ms > c->blackhole_max_ms / 2 ?
		    c->blackhole_max_ms : 2 * b->period_ms;
		if (period < c->blackhole_min_ms)
			period = c->blackhole_min_ms;
		b->period_ms = period;
		b->until_ns = now + (__u64)period * 1000000;
		b->probe_ns = 0;
		b->detections++;
	}
	count(LBSP_TC_C_BLACKHOLE_DETECTED);
}

/* Does vip v take proto on port k->port?  k: tc_vip_ports' key, the
 * vip's address and the port in it, wherever the caller has room. */
static __always_inline bool
vip_port_listed(const struct lbsp_tc_vip *v,
    const struct lbsp_tc_vip_port *k, __u8 proto)
{
	if (v->nports == 0)
		return true;
	if (proto != NH_TCP && proto != NH_UDP)
		return false;
	return bpf_map_lookup_elem(&tc_vip_ports, k) != NULL;
}

static __always_inline bool
vip_has_port(const struct lbsp_tc_vip *v, const __u8 *vip, __u8 proto,
    __u16 port)
{
	struct lbsp_tc_vip_port k = { .port = port };

	if (v->nports == 0)
		return true;
	__builtin_memcpy(k.addr, vip, 16);
	return vip_port_listed(v, &k, proto);
}

static __always_inline bool
prefix_has(const struct lbsp_tc_prefix *pf, const __u8 *a)
{
	__u32 i;

	for (i = 0; i < 16; i++) {
		__u32 bits = pf->len > i * 8 ? pf->len - i * 8 : 0;
		__u8 mask;

		if (bits == 0)
			break;
		mask = bits >= 8 ? 0xff : (__u8)(0xff << (8 - bits));
		if ((a[i] & mask) != pf->addr[i])
			return false;
	}
	return true;
}

/* May the client follow server for vip? Only inside allow-servers. */
static __always_inline bool
server_allowed(const struct lbsp_tc_vip *v, const __u8 *vip,
    const __u8 *server)
{
	__u32 i;

	if (addr_eq(server, vip))
		return true;
	for (i = 0; i < LBSP_TC_MAX_PREFIXES; i++) {
		if (i >= v->nallow)
			break;
		if (prefix_has(&v->allow[i], server))
			return true;
	}
	return false;
}

static __always_inline const __u8 *
identity(const struct lbsp_tc_conf *c, const __u8 *src)
{
	return c->identity_fixed ? c->identity : src;
}

/* ---------------------------------------------------------------- answers */

/*
 * Index the flow of key (ours -> the vip) by the server that answers it,
 * server_hi:server_lo (the address as two words in memory order), so
 * that its answers find their vip (tc_ports, bpf/lbsp_tc.h says why the
 * server is in the key).  A global function: its keys live on its own
 * stack, not on the egress program's, which is near the verifier's
 * limit; the flow key is copied there before use (before Linux 6.2 a
 * map helper takes no key from a global function's argument memory).
 */
__attribute__((noinline)) int
lbsp_answer_index(const struct lbsp_tc_flow_key *arg, __u64 server_hi,
    __u64 server_lo)
{
	struct lbsp_tc_flow_key key;
	struct lbsp_tc_port_key pk;
	struct lbsp_tc_vip_key vk;
	__u64 *a = (__u64 *)pk.remote;

	if (arg == NULL)
		return -1;
	__builtin_memcpy(&key, arg, sizeof(key));
	__builtin_memset(&pk, 0, sizeof(pk));
	addr_copy(pk.local, key.src);
	a[0] = server_hi;
	a[1] = server_lo;
	pk.lport = key.sport;
	pk.rport = key.dport;
	pk.proto = key.proto;
	addr_copy(vk.addr, key.dst);
	return (int)bpf_map_update_elem(&tc_ports, &pk, &vk, BPF_ANY);
}

/*
 * The search for the vip of a first answer (lbsp_answer_vip()), one per
 * CPU (nothing else runs on a CPU while a program does).  In a map, not
 * on a stack: the ingress program, lbsp_answer_vip() and its callback
 * answer_row() are one chain of frames, which the verifier holds to 512
 * bytes, each frame rounded up to 32 before Linux 6.2 (Debian 12's 6.1
 * refused 384 + 96 + 64).  The keys the walk looks up live here too: a
 * map helper takes a key from a map value on every kernel.  Scratch
 * only: never pinned, never read by lbspd.
 */
struct answer_walk {
	struct lbsp_tc_port_key pk;	/* tc_ports: the answer's flow */
	struct lbsp_tc_flow_key key;	/* ours; dst: each vip in turn */
	struct lbsp_tc_vip_port vp;	/* tc_vip_ports: (vip, port) */
	__u8 server[16] __attribute__((aligned(8)));	/* the source */
	__u8 vip[16] __attribute__((aligned(8)));	/* found */
	__u32 found;	/* 0: none; 1: a flow with another server; 2:
			   one with no server yet; 3: the flow that
			   learned this server */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct answer_walk);
} tc_answer_scratch SEC(".maps");

/* Has vip vk (v) a flow of ours on these ports that the server may
 * answer?  (ctx: NULL; the walk is in tc_answer_scratch.) */
static long
answer_row(void *map, const struct lbsp_tc_vip_key *vk,
    const struct lbsp_tc_vip *v, void *ctx)
{
	struct lbsp_tc_flow *f;
	struct answer_walk *w;
	__u32 zero = 0;

	(void)map;
	(void)ctx;
	w = bpf_map_lookup_elem(&tc_answer_scratch, &zero);
	if (w == NULL)
		return 1;
	addr_copy(w->vp.addr, vk->addr);
	w->vp.port = w->key.dport;
	if (!server_allowed(v, vk->addr, w->server) ||
	    !vip_port_listed(v, &w->vp, w->key.proto))
		return 0;
	addr_copy(w->key.dst, vk->addr);
	f = flow_find(&w->key);
	if (f == NULL)
		return 0;
	if (addr_eq(f->server, w->server)) {
		addr_copy(w->vip, vk->addr);
		w->found = 3;
		return 1;	/* this one: stop */
	}
	if (w->found < (addr_zero(f->server) ? 2u : 1u)) {
		addr_copy(w->vip, vk->addr);
		w->found = addr_zero(f->server) ? 2 : 1;
	}
	return 0;
}

/*
 * The vip of packet p, from a server (not a vip) to us: the one its flow
 * was opened to, put in *vk.  The flow is found by the whole of it as
 * the answer carries it, (local, local port, server, remote port,
 * proto), in tc_ports.  The first answer of a flow that went to the vip
 * (with the option: only a server that took the option can teach us
 * anything) is not there yet: it is matched among the vips whose
 * allow-servers hold its source and which have a flow of ours on these
 * ports -- one, when every vip is served from addresses of its own
 * (lbsp.7); else the first; last, a flow that has another server (the
 * checks of the ingress program count it).  A walk of tc_vips, once per
 * flow: the answer teaches the flow its server, which indexes it.  A
 * global function (the ingress program's stack is near the verifier's
 * limit), its state in tc_answer_scratch.
 * Returns 0 with *vk set, or -1: not an answer of ours.
 */
__attribute__((noinline)) int
lbsp_answer_vip(const struct lbsp_pkt *p, struct lbsp_tc_vip_key *vk)
{
	struct lbsp_tc_vip_key *pv;
	struct answer_walk *w;
	__u32 zero = 0;

	if (p == NULL || vk == NULL)
		return -1;
	w = bpf_map_lookup_elem(&tc_answer_scratch, &zero);
	if (w == NULL)
		return -1;
	__builtin_memset(w, 0, sizeof(*w));
	addr_copy(w->pk.local, p->dst);
	addr_copy(w->pk.remote, p->src);
	w->pk.lport = p->dport;
	w->pk.rport = p->sport;
	w->pk.proto = p->l4_proto;
	pv = bpf_map_lookup_elem(&tc_ports, &w->pk);
	if (pv != NULL) {
		addr_copy(vk->addr, pv->addr);
		return 0;
	}
	if (!p->has_opt)
		return -1;
	flow_key(&w->key, p->dst, p->src, p->l4_proto, p->dport, p->sport);
	addr_copy(w->server, p->src);
	(void)bpf_for_each_map_elem(&tc_vips, answer_row, NULL, 0);
	if (w->found == 0)
		return -1;
	addr_copy(vk->addr, w->vip);
	return 0;
}

SEC("tc")
int
lbsp_client_egress(struct __sk_buff *skb)
{
	static const ADDR16(zero);
	const struct lbsp_tc_conf *c = conf_get();
	const struct lbsp_tc_vip *v;
	struct lbsp_tc_flow_key key;
	struct lbsp_tc_cache_key ck;
	struct lbsp_tc_vip_key vk;
	struct lbsp_tc_flow *f;
	struct lbsp_tc_cache *ce;
	struct lbsp_pkt p;
	ADDR16(seg2);
	ADDR16(vip);
	bool syn, resyn = false, unanswered = false;
	__u64 now;

	if (c == NULL || !lbsp_walk(skb, &p, c->option_type))
		return LBSP_TC_PASS;
	count(LBSP_TC_C_PACKETS);
	addr_copy(vk.addr, p.dst);
	v = bpf_map_lookup_elem(&tc_vips, &vk);
	if (v == NULL || !vip_has_port(v, p.dst, p.l4_proto, p.dport)) {
		count(LBSP_TC_C_NOT_VIP);
		return LBSP_TC_PASS;
	}
	if (p.refused >= 0) {
		count(p.refused);
		return LBSP_TC_PASS;
	}
	addr_copy(vip, p.dst);
	now = clock_ns();

	/* 1. The flow, as the application sees it. */
	flow_key(&key, p.src, vip, p.l4_proto, p.sport, p.dport);
	f = flow_find(&key);
	/* Refused (max-flows-per-source): the packet still leaves with
	 * the option, to the vip. */
	if (f == NULL)
		f = flow_create(c, &key, now);
	/* A SYN on a flow already redirected and not answered is a
	 * retransmission. */
	syn = p.l4_proto == NH_TCP &&
	    (p.tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
	if (f != NULL) {
		flow_reopen(f, &p, now);
		unanswered = (f->flags & (LBSP_TC_CF_REDIRECTED |
		    LBSP_TC_CF_ANSWERED)) == LBSP_TC_CF_REDIRECTED;
		resyn = syn && unanswered;
		if (flow_note_state(f, &p, true))
			f = flow_promote(&key, f);
		touch(&f->last_ns, now);
		f->packets_orig++;
	}

	/* 0. A path that drops the option: a SYN to the vip sent again
	 * unanswered leaves without it and marks the vip; new connections
	 * to a marked vip go without it (and to the vip) but the probe.
	 * A flow that fell back from its server is not the path's case. */
	if (f != NULL && syn && !(f->flags & LBSP_TC_CF_NO_OPTION)) {
		if (f->packets_orig == 1) {
			if (!blackhole_allows(&vk, f, now))
				flags_set(&f->flags, LBSP_TC_CF_NO_OPTION);
		} else if ((f->flags & (LBSP_TC_CF_VIP_SYN |
		    LBSP_TC_CF_ANSWERED | LBSP_TC_CF_FELL_BACK)) ==
		    LBSP_TC_CF_VIP_SYN) {
			blackhole_detected(c, &vk,
			    (f->flags & LBSP_TC_CF_PROBE) != 0, now);
			flags_set(&f->flags, LBSP_TC_CF_NO_OPTION);
			count(LBSP_TC_C_BLACKHOLE_STRIPPED);
		}
	}
	if (f != NULL && (f->flags & LBSP_TC_CF_NO_OPTION))
		return LBSP_TC_PASS;	/* as a legacy client's */

	/* 2. Who we are.  Never all zero (a packet from ::): libsp's
	 * sp_dopt_set() refuses such a seg1 and the NFQUEUE path counts it
	 * malformed; the packet is still redirected and clamped, and
	 * put_option() counts and passes it. */
	const __u8 *seg1 = identity(c, p.src);

	if (addr_zero(seg1))
		p.refused = LBSP_TC_C_MALFORMED;

	if (f != NULL && !addr_eq(f->identity, seg1))
		addr_copy(f->identity, seg1);

	/* 3. Who serves us, if known (a suspect server is not). */
	addr_copy(seg2, zero);
	if (f != NULL && !addr_zero(f->server)) {
		addr_copy(seg2, f->server);
	} else if (f == NULL || !(f->flags & LBSP_TC_CF_FELL_BACK)) {
		addr_copy(ck.vip, vip);
		addr_copy(ck.identity, seg1);
		ce = bpf_map_lookup_elem(&tc_cache, &ck);
		if (ce != NULL && ce->updated_ns + c->cache_ttl_ns > now) {
			if (ce->state == LBSP_TC_CACHE_OK) {
				addr_copy(seg2, ce->server);
				if (f != NULL)
					addr_copy(f->server, seg2);
			} else if (f != NULL && f->packets_orig == 1) {
				count(LBSP_TC_C_SUSPECT_AVOIDED);
			}
		}
	}

	/* 4. Single pass, unless the server has not answered in time: a
	 * SYN sent again (the kernel's first retransmission) or a packet
	 * after fallback-timeout goes to the vip (the daemon's timer
	 * catches the flows that send nothing more). */
	if (c->redirect && f != NULL && !addr_zero(seg2) &&
	    !addr_eq(seg2, vip) && !(f->flags & LBSP_TC_CF_FELL_BACK)) {
		if (resyn) {
			client_fallback(seg2, f,
			    LBSP_TC_SUSPECT_SYN_RETRANSMIT, now);
			addr_copy(seg2, zero);
		} else if (unanswered && now - f->created_ns >= c->fallback_ns) {
			client_fallback(seg2, f, LBSP_TC_SUSPECT_TIMER, now);
			addr_copy(seg2, zero);
		} else if (set_addr(skb, &p, 24, seg2) == 0) {
			/* Its answers will come from the server. */
			if (!(f->flags & LBSP_TC_CF_REDIRECTED)) {
				const __u64 *s = (const __u64 *)seg2;

				(void)lbsp_answer_index(&key, s[0], s[1]);
				if (syn || p.l4_proto != NH_TCP)
					flags_set(&f->flags, LBSP_TC_CF_TIMED);
			}
			flags_set(&f->flags, LBSP_TC_CF_REDIRECTED);
			count(LBSP_TC_C_REDIRECTED);
		}
	}

	/* 5. On the wire. */
	clamp_mss(skb, &p, c);
	if (put_option(skb, &p, c, seg1, seg2) == 0 && syn && f != NULL &&
	    !(f->flags & LBSP_TC_CF_REDIRECTED))
		flags_set(&f->flags, LBSP_TC_CF_VIP_SYN);
	return LBSP_TC_PASS;
}

/*
 * An ICMPv6 error (types 1 to 4) about one of our redirected flows
 * quotes our packet as it left, to the server: the quoted destination
 * goes back to the vip (with the quoted L4 checksum and the ICMPv6
 * checksum), so the socket gets the error (path MTU discovery); on
 * "destination unreachable" the flow falls back from that server, and
 * the error is dropped when the server never answered (the next
 * retransmission goes to the vip; the application must not see it).
 * Returns NOT_ICMP_ERROR when the packet is not such an error, else
 * a TC_ACT_* verdict.
 */
#define NOT_ICMP_ERROR (-2)	/* TC_ACT_UNSPEC (-1) is a verdict */
static __always_inline int
icmp_error(struct __sk_buff *skb, const struct lbsp_pkt *p)
{
	__u8 ih[IP6_HLEN] __attribute__((aligned(8)));
	__u8 icmp[4], eh[2], ports[4];
	/* One after the other: the index row's key, then the flow's. */
	union {
		struct lbsp_tc_port_key pk;
		struct lbsp_tc_flow_key key;
	} u;
	struct lbsp_tc_vip_key *pv;
	const struct lbsp_tc_vip *v;
	struct lbsp_tc_flow *f;
	/* The quoted addresses, read in place (8-byte aligned in ih):
	 * copies of them cost the ingress program 32 bytes of a stack
	 * held to 512 with its global functions' (Linux 6.1). */
	const __u8 *isrc = &ih[8], *idst = &ih[24];
	__u32 in = p->l4_off + 8, off, field = 0, ocsum = p->l4_off + 2;
	__u16 old = 0, new = 0, lport = 0, rport = 0;
	__u8 nh;
	__s64 diff;

	if (bpf_skb_load_bytes(skb, p->l4_off, icmp, 1) < 0 ||
	    icmp[0] < 1 || icmp[0] > 4 ||
	    bpf_skb_load_bytes(skb, in, ih, IP6_HLEN) < 0)
		return NOT_ICMP_ERROR;
	/* The quote: our IPv6 header, our option, the upper layer. */
	nh = ih[6];
	off = in + IP6_HLEN;
	if (nh == NH_DSTOPTS) {
		if (bpf_skb_load_bytes(skb, off, eh, 2) < 0)
			return NOT_ICMP_ERROR;
		nh = eh[0];
		off += ((__u32)eh[1] + 1) * 8;
	}
	if ((nh == NH_TCP || nh == NH_UDP) &&
	    bpf_skb_load_bytes(skb, off, ports, 4) == 0) {
		lport = (__u16)(ports[0] << 8 | ports[1]);
		rport = (__u16)(ports[2] << 8 | ports[3]);
	}
	__builtin_memset(&u.pk, 0, sizeof(u.pk));
	addr_copy(u.pk.local, isrc);
	addr_copy(u.pk.remote, idst);	/* only a flow that has a server */
	u.pk.lport = lport;
	u.pk.rport = rport;
	u.pk.proto = nh;
	pv = bpf_map_lookup_elem(&tc_ports, &u.pk);
	if (pv == NULL)
		return NOT_ICMP_ERROR;
	v = bpf_map_lookup_elem(&tc_vips, pv);
	if (v == NULL || addr_eq(idst, pv->addr) ||
	    !server_allowed(v, pv->addr, idst))
		return NOT_ICMP_ERROR;
	flow_key(&u.key, isrc, pv->addr, nh, lport, rport);
	f = flow_find(&u.key);
	if (f == NULL || !addr_eq(f->server, idst))
		return NOT_ICMP_ERROR;

	/* The quoted L4 checksum, when quoted (UDP's 0 stays 0). */
	diff = bpf_csum_diff((__be32 *)idst, 16, (__be32 *)pv->addr, 16, 0);
	if (diff < 0)
		return LBSP_TC_PASS;
	if (nh == NH_TCP || nh == NH_UDP) {
		field = off + (nh == NH_TCP ? 16 : 6);
		/* old and new as the bytes lie in the packet: bpf_csum_diff
		 * sums 16-bit words in memory order too. */
		if (bpf_skb_load_bytes(skb, field, &old, 2) < 0) {
			field = 0;
		} else {
			new = old;
			if (!(nh == NH_UDP && old == 0)) {
				/* RFC 1624: ~(~old + ~from + to) */
				new = (__u16)~csum_fold32(
				    (__u32)(__u16)~old + csum_fold32(
				    (__u32)diff));
				if (nh == NH_UDP && new == 0)
					new = 0xffff;
			}
		}
	}
	if (bpf_skb_store_bytes(skb, in + 24, pv->addr, 16, 0) < 0 ||
	    bpf_l4_csum_replace(skb, ocsum, 0, (__u32)diff, 0) < 0)
		goto failed;
	if (field != 0 &&
	    (bpf_skb_store_bytes(skb, field, &new, 2, 0) < 0 ||
	     bpf_l4_csum_replace(skb, ocsum, old, new, 2) < 0))
		goto failed;
	count(LBSP_TC_C_ICMP_REWRITTEN);

	/* Destination unreachable: fall back from that server. */
	if (icmp[0] == 1) {
		bool answered = (f->flags & LBSP_TC_CF_ANSWERED) != 0;

		client_fallback(idst, f, LBSP_TC_SUSPECT_ICMP, clock_ns());
		if (!answered) {
			count(LBSP_TC_C_ICMP_ABSORBED);
			return TC_ACT_SHOT;
		}
	}
	return LBSP_TC_PASS;
failed:
	count(LBSP_TC_C_HELPER_FAILED);
	return LBSP_TC_PASS;
}

SEC("tc")
int
lbsp_client_ingress(struct __sk_buff *skb)
{
	const struct lbsp_tc_conf *c = conf_get();
	const struct lbsp_tc_vip *v;
	struct lbsp_tc_flow_key key;
	struct lbsp_tc_cache_key ck;
	struct lbsp_tc_vip_key vk;
	struct lbsp_tc_flow *f = NULL;
	struct lbsp_pkt p;
	bool from_vip;
	__u64 now;

	if (c == NULL || !lbsp_walk(skb, &p, c->option_type))
		return LBSP_TC_PASS;
	count(LBSP_TC_C_PACKETS);
	if (p.refused >= 0)
		return LBSP_TC_PASS;	/* nothing to learn from it */
	if (p.l4_proto == NH_ICMPV6) {
		int act;

		(void)lbsp_ptb_lower(skb, p.l4_off, c->option_type);
		act = icmp_error(skb, &p);

		if (act != NOT_ICMP_ERROR)
			return act;
	}

	/* 1. Our flow, and its vip. */
	addr_copy(vk.addr, p.src);
	v = bpf_map_lookup_elem(&tc_vips, &vk);
	from_vip = v != NULL;
	if (from_vip) {
		flow_key(&key, p.dst, p.src, p.l4_proto, p.dport, p.sport);
		f = flow_find(&key);
	} else {
		if (lbsp_answer_vip(&p, &vk) != 0)
			return LBSP_TC_PASS;
		v = bpf_map_lookup_elem(&tc_vips, &vk);
		if (v == NULL || !server_allowed(v, vk.addr, p.src) ||
		    !vip_has_port(v, vk.addr, p.l4_proto, p.sport))
			return LBSP_TC_PASS;
		flow_key(&key, p.dst, vk.addr, p.l4_proto, p.dport, p.sport);
		f = flow_find(&key);
		if (f == NULL)
			return LBSP_TC_PASS;
	}
	now = clock_ns();

	if (p.has_opt) {
		/* 1. Ours? (seg1 is the identity we sent) */
		if (!addr_eq(p.seg1, identity(c, p.dst))) {
			count(LBSP_TC_C_IDENTITY_MISMATCH);
			return LBSP_TC_PASS;
		}
		/* 2. Learn seg2 inside allow-servers only. */
		if (!addr_zero(p.seg2)) {
			if (!server_allowed(v, vk.addr, p.seg2)) {
				count(LBSP_TC_C_SEG2_REJECTED);
			} else {
				struct lbsp_tc_cache ce = { .updated_ns = now };
				struct lbsp_tc_cache *old;
				__u32 tick = (__u32)(now >>
				    LBSP_TC_TICK_SHIFT);
				bool learn = f == NULL ||
				    !addr_eq(f->server, p.seg2);

				if (f != NULL && learn) {
					const __u64 *s =
					    (const __u64 *)p.seg2;

					addr_copy(f->server, p.seg2);
					(void)lbsp_answer_index(&key, s[0],
					    s[1]);
					count(LBSP_TC_C_LEARNED);
				}
				/* Answers refresh the cache row: looked up
				 * when the flow learns, else once per tick
				 * of the flow, written in place when it
				 * names the same server. */
				if (learn || f->cache_tick != tick) {
					if (f != NULL)
						f->cache_tick = tick;
					addr_copy(ck.vip, vk.addr);
					addr_copy(ck.identity, p.seg1);
					old = bpf_map_lookup_elem(&tc_cache,
					    &ck);
					if (old != NULL &&
					    addr_eq(old->server, p.seg2)) {
						/* Named in seg2: alive, no
						 * longer suspect. */
						if (old->state !=
						    LBSP_TC_CACHE_OK &&
						    old->updated_ns +
						    c->cache_ttl_ns > now)
							count(LBSP_TC_C_SUSPECT_REVIVED);
						old->state = LBSP_TC_CACHE_OK;
						old->reason = 0;
						old->suspect_ns = 0;
						old->updated_ns = now;
					} else {
						addr_copy(ce.server, p.seg2);
						(void)bpf_map_update_elem(
						    &tc_cache, &ck, &ce,
						    BPF_ANY);
					}
				}
			}
		}
	}
	/* The path carries the option: a blackhole mark goes (looked up
	 * once per flow). */
	if (p.has_opt && f != NULL && !(f->flags & LBSP_TC_CF_OPT_ANSWERED)) {
		flags_set(&f->flags, LBSP_TC_CF_OPT_ANSWERED);
		if (bpf_map_delete_elem(&tc_blackholes, &vk) == 0)
			count(LBSP_TC_C_BLACKHOLE_RECOVERED);
	}
	if (f != NULL) {
		flags_set(&f->flags, LBSP_TC_CF_ANSWERED);
		if (flow_note_state(f, &p, false))
			f = flow_promote(&key, f);
		touch(&f->last_ns, now);
		f->packets_reply++;
	}

	/* 5. The slides' rule: a server answering without the option is
	 * not followed any more (this flow cannot move; new ones will). */
	if (!p.has_opt && !from_vip) {
		struct lbsp_tc_cache *own;

		count(LBSP_TC_C_NO_OPTION_ANSWERS);
		/* Once (the walk of the cache is not per packet): when our
		 * own row still follows this server. */
		addr_copy(ck.vip, vk.addr);
		addr_copy(ck.identity, identity(c, p.dst));
		own = bpf_map_lookup_elem(&tc_cache, &ck);
		if (own != NULL && own->state == LBSP_TC_CACHE_OK &&
		    own->updated_ns + c->cache_ttl_ns > now &&
		    addr_eq(own->server, p.src))
			client_fallback(p.src, NULL,
			    LBSP_TC_SUSPECT_NO_OPTION, now);
	}

	if (!from_vip && (f == NULL || !addr_eq(f->server, p.src))) {
		count(LBSP_TC_C_SEG2_REJECTED);
		return LBSP_TC_PASS;
	}

	/* 3. Our own segments carry 40 more bytes: clamp what we are told,
	 * to the path from where the answer came. */
	if (p.tcp_flags & TCP_ACK)
		clamp_mss(skb, &p, c);

	/* 4. From the server itself: make it look like the vip. */
	if (!from_vip && set_addr(skb, &p, 8, vk.addr) == 0)
		count(LBSP_TC_C_SRC_REWRITTEN);
	return LBSP_TC_PASS;
}

char LICENSE[] SEC("license") = "GPL";
