/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lbsp_tc.h -- what the tc programs (bpf/client.bpf.c, bpf/server.bpf.c) and lbspd (lbspd/path/tc.c)
 * agree on: the layout of every map key and value, and the kernel
 * counters with their names.  Plain fixed-size types only: the same
 * bytes are read by the BPF target and by the daemon.
 *
 * The daemon owns the contents of tc_conf, tc_vips and tc_vip_ports
 * (written from lbsp.conf); the programs fill the flow and cache maps
 * and the counters; the daemon reads them (lbspctl) and applies the
 * timing rules (client fallback) on its own clock.
 */
#ifndef LBSP_TC_H
#define LBSP_TC_H

#include <linux/types.h>

#define LBSP_TC_MAX_PREFIXES	16	/* allow-servers per vip, as conf */
#define LBSP_TC_MAX_VIPS	4096	/* SP_CONF_MAX_VIPS (lbspd/path/tc.c) */
#define LBSP_TC_MAX_PORTS	65536	/* (vip, port) entries */
#define LBSP_TC_MAX_FLOWS	65536	/* the flow maps' size when max-flows
					   is not given (lbspd sizes them
					   from it at load) */
#define LBSP_TC_MAX_CACHE	4096

/* tc_conf[0]: one per role object. */
struct lbsp_tc_conf {
	__u8 option_type;	/* LBSP option type */
	__u8 mss_clamp;		/* clamp SYN / SYN-ACK MSS */
	__u8 redirect;		/* client: single pass */
	__u8 identity_fixed;	/* client: seg1 = identity, not the source */
	__u8 has_server_address;	/* server: seg2 = server_address */
	__u8 pad0;
	__u16 mss;		/* MSS clamped to, host order */
	__u32 mtu;		/* mtu of lbsp.conf: +40 must not pass it */
	__u32 per_source;	/* max-flows-per-source, 0: no limit (also
				   keeps the addresses below 8-byte
				   aligned) */
	__u8 identity[16];	/* client seg1 when identity_fixed */
	__u8 server_address[16];	/* server seg2 when has_server_address */
	__u64 cache_ttl_ns;	/* client cache entries live this long */
	__u64 fallback_ns;	/* client: fallback-timeout */
	__u32 blackhole_min_ms;	/* client: blackhole-timeout MIN ... */
	__u32 blackhole_max_ms;	/* ... MAX */
};

/* tc_vips: vip address -> what the client needs of its block. */
struct lbsp_tc_vip_key {
	__u8 addr[16];
};

struct lbsp_tc_prefix {
	__u8 addr[16];
	__u8 len;		/* bits */
	__u8 pad[3];
};

struct lbsp_tc_vip {
	__u32 index;		/* position in lbsp.conf */
	__u32 nports;		/* 0: every port and protocol */
	__u32 nallow;
	__u32 pad;
	struct lbsp_tc_prefix allow[LBSP_TC_MAX_PREFIXES];
};

/* tc_vip_ports: (vip, port) present when the vip lists that port. */
struct lbsp_tc_vip_port {
	__u8 addr[16];
	__u16 port;		/* host order */
	__u16 pad;
};

/* A flow as the application sees it: addresses and ports as sent. */
struct lbsp_tc_flow_key {
	__u8 src[16];
	__u8 dst[16];
	__u16 sport;		/* host order */
	__u16 dport;
	__u8 proto;
	__u8 pad[3];
};

/* tc_sources: a source address -> the flows it holds in the two flow
 * maps, kept while max-flows-per-source is set: the programs add one for
 * every flow they create; lbspd sets each figure to what its sweep of
 * the flow maps found, every second, for the flows it removed and those
 * the kernel retired from a full map without telling anyone (a figure
 * the programs moved during the sweep waits for the next one). */
struct lbsp_tc_source_key {
	__u8 addr[16];
};

/* Client flow flags (the NFQUEUE path's CF_* of client.c). */
#define LBSP_TC_CF_REDIRECTED	0x01	/* packets go straight to server */
#define LBSP_TC_CF_ANSWERED	0x02	/* something came back */
#define LBSP_TC_CF_FELL_BACK	0x04	/* server dropped: back to the vip */
/* TCP ends seen, both roles ("orig": the client's direction); the
 * daemon expires closed flows after timeout linger. */
#define LBSP_TC_F_FIN_ORIG	0x10
#define LBSP_TC_F_FIN_REPLY	0x20
#define LBSP_TC_F_RST		0x40
#define LBSP_TC_F_CLOSING	(LBSP_TC_F_FIN_ORIG | LBSP_TC_F_FIN_REPLY | \
				 LBSP_TC_F_RST)
/* Option blackhole (bpf/client.bpf.c); 0x10-0x40 are the TCP
 * ends above. */
#define LBSP_TC_CF_VIP_SYN	0x08	/* a SYN left to the vip with the option */
#define LBSP_TC_CF_NO_OPTION	0x80	/* the flow goes without the option */
#define LBSP_TC_CF_PROBE	0x200	/* it probes a blackholed vip */
#define LBSP_TC_CF_OPT_ANSWERED	0x400	/* an answer with the option came */
/* The flow's first packet to the server opened it (a SYN; any packet
 * of other protocols): the daemon's fallback-timeout sweep times it.
 * Not a TCP flow whose first redirected packet was an RST answering a
 * server's late SYN-ACK: nothing comes back for that, and the server
 * is fine. */
#define LBSP_TC_CF_TIMED	0x1000
/* Server flow flags. */
#define LBSP_TC_SF_VIA_VIP	0x100	/* came through a balancer for vip */
/* Both roles: the originator acknowledged an answer (TCP handshake
 * done), or, other protocols, an answer came: the flow is established
 * (lbspctl flows), and its idle limit is timeout tcp-established. */
#define LBSP_TC_F_ESTABLISHED	0x800

/* tc_flows value.  Client: server learned; server: seg1 and the vip. */
struct lbsp_tc_flow {
	__u8 server[16];	/* client: learned server; server: the vip */
	__u8 identity[16];	/* seg1 */
	__u64 created_ns;	/* CLOCK_MONOTONIC, the kernel tick's
				   resolution (bpf_ktime_get_coarse_ns) */
	__u64 last_ns;
	__u64 packets_orig;
	__u64 packets_reply;
	__u32 flags;		/* LBSP_TC_CF_* / LBSP_TC_SF_* */
	__u32 cache_tick;	/* client: clock >> LBSP_TC_TICK_SHIFT when an
				   answer last refreshed the cache row */
};

/*
 * Client: tc_ports maps the answers of a server back to the vip their
 * flow was opened to.  The key is the flow as its answers carry it on
 * the wire: (local address, local port, remote address, remote port,
 * proto), the remote being the server that answers, whose address
 * stands in for the vip both ways once the flow learned it.  The
 * remote is part of the key because one local port holds flows to
 * several vips at once (Linux picks ephemeral ports per destination,
 * and a NAT66 proxy does so all the time): keyed without it, a second
 * flow's row replaced the first's and the first one's answers went to
 * the wrong vip.  A host that serves two vips does so from one address
 * per vip (lbsp.7), so (server, ports) names one flow.  A row is
 * written when a flow learns its server (an answer naming it in seg2)
 * and when it is redirected to one from the cache; the first answer of
 * a flow opened to the vip has none yet, and is matched among the vips
 * whose allow-servers hold its source (bpf/client.bpf.c,
 * lbsp_answer_vip()).
 */
struct lbsp_tc_port_key {
	__u8 local[16];
	__u8 remote[16];	/* the server */
	__u16 lport;		/* host order */
	__u16 rport;
	__u8 proto;
	__u8 pad[3];
};

/* tc_cache: (vip, identity) -> server, the client's learned cache. */
struct lbsp_tc_cache_key {
	__u8 vip[16];
	__u8 identity[16];
};

/*
 * A row is OK (followed by new connections) or suspect: its server
 * left a redirected connection unanswered, or sent an ICMPv6
 * unreachable, or answered without the option.  A suspect row is kept
 * (lbspctl cache says why) but not followed until an answer names its
 * server in seg2 again (lbspd/path/client.c, client_fallback()).
 */
#define LBSP_TC_CACHE_OK	0
#define LBSP_TC_CACHE_SUSPECT	1
/* Why, in lbspd/lbspd.h's enum lbspd_suspect numbers (lbspd/path/tc.c
 * checks they agree). */
#define LBSP_TC_SUSPECT_SYN_RETRANSMIT	1	/* redirected SYN sent again */
#define LBSP_TC_SUSPECT_TIMER		2	/* fallback-timeout ran out */
#define LBSP_TC_SUSPECT_ICMP		3	/* ICMPv6 unreachable */
#define LBSP_TC_SUSPECT_NO_OPTION	4	/* answered without the option */

struct lbsp_tc_cache {
	__u8 server[16];
	__u64 updated_ns;	/* learned or confirmed (CLOCK_MONOTONIC) */
	__u64 suspect_ns;	/* became suspect; 0 while OK */
	__u8 state;		/* LBSP_TC_CACHE_* */
	__u8 reason;		/* LBSP_TC_SUSPECT_*, while suspect */
	__u8 pad[6];
};

/*
 * tc_blackholes: vip (struct lbsp_tc_vip_key) -> its option-blackhole
 * mark (lbspd/lbspd.h's struct lbspd_blackhole): the client programs
 * set, double and clear it; the daemon only reads it (lbspctl cache).
 */
struct lbsp_tc_blackhole {
	__u64 since_ns;		/* first detected (CLOCK_MONOTONIC) */
	__u64 until_ns;		/* the mark holds until then */
	__u64 probe_ns;		/* a probe left then; 0: none out */
	__u32 period_ms;	/* the mark's current length */
	__u32 detections;	/* marked + confirmed */
};

/* A flow's last_ns and a cache row's updated_ns lag the last packet
 * by less than this (bpf/lbsp_common.h, touch()); every timeout the
 * daemon applies to them is counted in seconds. */
#define LBSP_TC_TOUCH_NS	100000000ull
#define LBSP_TC_TICK_SHIFT	27	/* 134 ms */

/* A probe neither answered nor sent again within this is stale. */
#define LBSP_TC_BLACKHOLE_PROBE_NS	3000000000ull

/*
 * Kernel counters (a per-CPU array).  Where one means what a counter or
 * a pass reason of the NFQUEUE path means, it is that one, by its id in
 * lbspd/lbspd.h's lists (LBSPD_COUNTERS, LBSPD_PASSES), whose names
 * lbspd/path/tc.c prints: one list of names, a compile error if an id goes.
 * What the kernel counts on its own:
 *   hop-by-hop       passed: a Hop-by-Hop header is there
 *   dstopts-present  passed: another Destination Options header is there
 *   malformed        headers not walkable
 *   helper-failed    a kernel helper refused a change
 *   flows-full       flow map update refused
 *   flows-created    flows put in tc_flows (lbspd derives the flows the
 *                    kernel retired to make room from it)
 * C(id): LBSPD_C_id; P(id): LBSPD_P_id; K(id, name): the kernel's own.
 */
#define LBSP_TC_COUNTERS(C, P, K)					\
	C(PACKETS)							\
	C(INSERTED)							\
	C(UPDATED)							\
	C(LEARNED)							\
	C(SEG1_LEARNED)							\
	C(SEG2_FILLED)							\
	C(SRC_REWRITTEN)						\
	C(SEG2_REJECTED)						\
	C(IDENTITY_MISMATCH)						\
	C(MSS_CLAMPED)							\
	C(REDIRECTED)							\
	C(FALLBACKS)							\
	C(FALLBACK_SYN_RETRANSMIT)					\
	C(FALLBACK_TIMER)						\
	C(FALLBACK_ICMP)						\
	C(FALLBACK_NO_OPTION)						\
	C(SUSPECT_AVOIDED)						\
	C(SUSPECT_REVIVED)						\
	C(NO_OPTION_ANSWERS)						\
	C(FROM_VIP)							\
	C(ICMP_REWRITTEN)						\
	C(ICMP_ABSORBED)						\
	P(NOT_VIP)							\
	P(UNKNOWN_FLOW)							\
	P(AH)								\
	P(FRAGMENT)							\
	P(JUMBO)							\
	P(TOO_BIG)							\
	K(HOP_BY_HOP, "hop-by-hop")					\
	K(DSTOPTS, "dstopts-present")					\
	K(MALFORMED, "malformed")					\
	K(HELPER_FAILED, "helper-failed")				\
	K(FLOWS_FULL, "flows-full")					\
	C(BLACKHOLE_DETECTED)						\
	C(BLACKHOLE_STRIPPED)						\
	C(BLACKHOLE_AVOIDED)						\
	C(BLACKHOLE_PROBES)						\
	C(BLACKHOLE_RECOVERED)						\
	C(SOURCE_LIMITED)						\
	K(FLOWS_CREATED, "flows-created")				\
	C(PTB_LOWERED)							\
	C(PTB_UNDER_MINIMUM)

enum lbsp_tc_counter {
#define LBSP_TC_CTR_ENUM(id) LBSP_TC_C_##id,
#define LBSP_TC_CTR_ENUM_K(id, name) LBSP_TC_C_##id,
	LBSP_TC_COUNTERS(LBSP_TC_CTR_ENUM, LBSP_TC_CTR_ENUM,
	    LBSP_TC_CTR_ENUM_K)
#undef LBSP_TC_CTR_ENUM
#undef LBSP_TC_CTR_ENUM_K
	LBSP_TC_C__COUNT
};

#endif /* LBSP_TC_H */
