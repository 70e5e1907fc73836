/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp/flow.h -- the flow table: one entry per session, keyed by its
 * 5-tuple (or by {src, dst, flow label} where there is no upper layer to
 * read), holding the session's identity (seg1), its server, counters and
 * TCP state, with the idle timeouts of LSNAT §2.4.
 *
 * Bounded: a table holds at most `capacity` flows, all allocated at
 * creation (no allocation per packet).  When it is full, inserting
 * retires the longest-idle flow (LSNAT §2.4: "retire the longest idle
 * session when it becomes necessary") and says so, for the counters.
 *
 * Eviction policy: a flow past its timeout goes first; else the
 * longest-idle flow that has not completed a TCP handshake (new,
 * half-open, closing, UDP and other protocols); a TCP flow in state
 * ESTABLISHED is retired only when the table holds nothing else.  So a
 * flood of SYNs from spoofed sources recycles its own half-open flows
 * and leaves running sessions alone.  Optionally, each source address
 * may hold at most a given number of flows
 * (sp_flow_table_set_source_limit()).
 *
 * Memory: sp_flow_entry_bytes() is the real cost of one entry, slab slot
 * plus bucket share.  On x86-64 / LP64 it is 176 bytes (a 24-byte node
 * of links and expiry + the 144-byte struct sp_flow, + 8 bytes of bucket
 * array at most; 4 when the capacity is a power of two).
 *
 * Keys are hashed with SipHash-2-4 under a per-table 16-byte secret, so
 * nobody can aim packets at one hash chain.
 *
 * Time is passed in as now_ms: milliseconds of the caller's monotonic
 * clock.  libsp never reads a clock.
 *
 * Threading: libsp does no locking.  One table must only be used by one
 * thread at a time; the daemon serialises access.
 */
#ifndef SP_FLOW_H
#define SP_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Public API: exported from libsp.so (built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

/* What a key holds (struct sp_flow_key.kind). */
enum sp_flow_kind {
	SP_FLOW_5TUPLE = 5,	/* src, dst, proto, sport, dport */
	SP_FLOW_3TUPLE = 3,	/* src, dst, flow label (RFC 7098 §3) */
};

/*
 * A flow key.  Keys are hashed and compared as bytes: the struct has no
 * implicit padding (pad is explicit and zero), and keys must be made
 * with the constructors below so that every unused byte is zero.
 * Direction: the key of the first packet of a session (the originator
 * is src); sp_flow_key_reverse() gives the reply direction's key.
 */
struct sp_flow_key {
	uint8_t src[16];	/* IPv6 source address */
	uint8_t dst[16];	/* IPv6 destination address */
	uint16_t sport;		/* source port, host order; 0 without ports */
	uint16_t dport;		/* destination port, host order; 0 without */
	uint8_t proto;		/* upper-layer protocol; 0 in 3-tuple keys */
	uint8_t kind;		/* enum sp_flow_kind */
	uint8_t pad[2];		/* always zero */
	uint32_t label;		/* flow label (20 bits), 3-tuple keys only */
};

/*
 * TCP session state, after LSNAT §2.3 (a session starts with SYN
 * without ACK) and §2.4 (it ends when both halves have sent FIN, or
 * either sent RST, and is gone "within a couple seconds after this").
 * Non-TCP flows are NEW until a packet is seen in the reply direction,
 * then ESTABLISHED (informational: their timeout does not depend on it).
 */
enum sp_flow_state {
	SP_FLOW_NEW = 0,	/* created; no handshake seen yet */
	SP_FLOW_SYN_SENT,	/* SYN from the originator */
	SP_FLOW_SYN_RECV,	/* SYNs from both sides */
	SP_FLOW_ESTABLISHED,	/* handshake done, or a reply seen */
	SP_FLOW_CLOSING,	/* FIN both ways or RST: lingering */
};

/* Directions, for sp_flow_update() and the per-direction counters. */
#define SP_FLOW_ORIG	0	/* originator -> responder (key as inserted) */
#define SP_FLOW_REPLY	1	/* responder -> originator (reversed key) */

/* fin_seen bits: a FIN was seen from that direction. */
#define SP_FLOW_FIN_ORIG	0x01
#define SP_FLOW_FIN_REPLY	0x02

/*
 * A flow, as the table stores it.  libsp sets key, created_ms,
 * last_ms, packets, bytes, state and fin_seen; identity, server, flags
 * and user are the caller's (zero at insert).
 */
struct sp_flow {
	struct sp_flow_key key;	/* the originator's key */
	uint8_t identity[16];	/* seg1: the client identity, caller-set */
	uint8_t server[16];	/* chosen or learned server, caller-set */
	uint64_t created_ms;	/* ms, caller's clock: insert time */
	uint64_t last_ms;	/* ms, caller's clock: last update */
	uint64_t packets[2];	/* packets, per direction (SP_FLOW_ORIG..) */
	uint64_t bytes[2];	/* bytes, per direction, as given to update */
	uint8_t state;		/* enum sp_flow_state */
	uint8_t fin_seen;	/* SP_FLOW_FIN_* bits */
	uint32_t flags;		/* caller-defined bits */
	uint32_t user;		/* caller-defined value */
};

/* Idle timeouts, seconds.  Each must be > 0. */
struct sp_flow_timeouts {
	uint32_t tcp_established_s; /* s: TCP ESTABLISHED, default 7200 */
	uint32_t tcp_s;		/* s: other TCP states, default 120 */
	uint32_t udp_s;		/* s: UDP, default 60 */
	uint32_t other_s;	/* s: other protocols and 3-tuple keys, 60 */
	uint32_t linger_s;	/* s: after FIN both ways or RST, default 10 */
};

struct sp_flow_table;

/*
 * sp_flow_timeouts_default - the defaults of doc/design.md §3.7: TCP established
 * 7200 s, other TCP 120 s, UDP 60 s, other 60 s, linger 10 s.
 */
struct sp_flow_timeouts sp_flow_timeouts_default(void);

/*
 * sp_flow_key_5tuple - the key of a packet with an upper layer.
 * @src, @dst: IPv6 addresses; @proto: upper-layer protocol number;
 * @sport, @dport: ports in host order, 0 for a protocol without ports.
 * Returns the key, every unused byte zero.
 */
struct sp_flow_key sp_flow_key_5tuple(const uint8_t src[16],
    const uint8_t dst[16], uint8_t proto, uint16_t sport, uint16_t dport);

/*
 * sp_flow_key_3tuple - the key {src, dst, flow label} of RFC 7098 §3, for
 * packets whose upper layer cannot be read (non-first fragments, ESP).
 * @label: the flow label; only its low 20 bits are kept.
 * Returns the key, every unused byte zero; it never equals a 5-tuple key.
 */
struct sp_flow_key sp_flow_key_3tuple(const uint8_t src[16],
    const uint8_t dst[16], uint32_t label);

/*
 * sp_flow_key_reverse - the key of the other direction: addresses and
 * ports swapped, everything else kept.
 * Why: a reply packet's own key, reversed, finds the originator's flow.
 */
struct sp_flow_key sp_flow_key_reverse(const struct sp_flow_key *key);

/*
 * sp_flow_table_new - create an empty flow table.
 * @capacity: most flows held, 1 .. 2^30.
 * @timeouts: idle timeouts (copied), each > 0; NULL for the defaults.
 * @secret: 16-byte SipHash key for the buckets (copied), random per
 *     daemon.
 * Returns the table, or NULL on bad arguments or allocation failure.
 */
struct sp_flow_table *sp_flow_table_new(size_t capacity,
    const struct sp_flow_timeouts *timeouts, const uint8_t secret[16]);

/*
 * sp_flow_table_set_source_limit - at most max flows per source address
 * (the src of their keys); 0 removes the limit.  Flows already in the
 * table are counted.
 * Why: max-flows-per-source (lbsp.conf(5)): one source cannot take the
 * whole table.
 * Returns 0, or -1 when the per-source figures cannot be allocated
 * (the limit is then not set).
 */
int sp_flow_table_set_source_limit(struct sp_flow_table *t, uint32_t max);

/*
 * sp_flow_source_count - flows held now by source address src (0
 * without a per-source limit).
 */
size_t sp_flow_source_count(struct sp_flow_table *t, const uint8_t src[16]);

/* sp_flow_table_free - free the table and its flows (NULL is fine). */
void sp_flow_table_free(struct sp_flow_table *t);

/*
 * sp_flow_lookup - the flow whose key equals key, or NULL.  Only the
 * exact key is matched: look up the reversed key for the other
 * direction.  An idle flow not yet removed by sp_flow_expire() is found.
 */
struct sp_flow *sp_flow_lookup(struct sp_flow_table *t,
    const struct sp_flow_key *key);

/*
 * sp_flow_insert - add a flow for key at now_ms, or return the existing
 * one unchanged.  A new flow is zeroed, state NEW, created_ms = last_ms
 * = now_ms, with the idle timeout of its protocol (TCP: tcp_s).  When the
 * table is full, a flow already past its timeout is reused if there is
 * one, else a flow is retired as the eviction policy above says and
 * *retired set true; pointers to the flow that went become invalid.
 * @retired: set to whether a live flow was retired; may be NULL.
 * Returns the flow; NULL only when a per-source limit is set and
 * key->src already holds that many flows (nothing is retired then).
 */
struct sp_flow *sp_flow_insert(struct sp_flow_table *t,
    const struct sp_flow_key *key, uint64_t now_ms, bool *retired);

/*
 * sp_flow_hash - the hash of key in t (SipHash-2-4 under t's secret),
 * for the _hashed calls: a caller that looks a key up and may insert
 * it afterwards hashes it once.  hash must be sp_flow_hash(t, key) for
 * the same t and key; another value misfiles the flow.
 * sp_flow_lookup_hashed, sp_flow_insert_hashed - sp_flow_lookup() and
 * sp_flow_insert() with that hash.
 */
uint64_t sp_flow_hash(const struct sp_flow_table *t,
    const struct sp_flow_key *key);
struct sp_flow *sp_flow_lookup_hashed(struct sp_flow_table *t,
    const struct sp_flow_key *key, uint64_t hash);
struct sp_flow *sp_flow_insert_hashed(struct sp_flow_table *t,
    const struct sp_flow_key *key, uint64_t hash, uint64_t now_ms,
    bool *retired);

/*
 * sp_flow_update - account one packet of flow f and run the session
 * state machine of LSNAT §2.4.
 * @now_ms: the packet's time; becomes last_ms and restarts the idle
 *     timer.
 * @dir: SP_FLOW_ORIG or SP_FLOW_REPLY (any non-zero value is REPLY).
 * @tcp_flags: the TCP flags byte (SP_TCP_*), ignored unless proto is TCP.
 * @bytes: bytes to count for this packet (the caller picks the measure,
 *     e.g. the IPv6 packet length).
 * TCP: SYN from the originator -> SYN_SENT; SYN from the responder ->
 * SYN_RECV; the first non-SYN ACK from the originator after its SYN, or
 * any non-SYN packet in the reply direction -> ESTABLISHED (seeing one
 * direction only -- the balancer is not on the return path -- the
 * originator's bare ACK proves it received the SYN-ACK).  FIN from both
 * sides, or RST from either -> CLOSING, timeout linger_s.  A FIN from
 * one side only leaves the state as it is: a half-closed connection may
 * carry data the other way for a long time.  A SYN without ACK from the
 * originator on a CLOSING flow starts the session again (SYN_SENT).
 * Timeouts: CLOSING linger_s; TCP ESTABLISHED tcp_established_s; other
 * TCP states tcp_s; UDP udp_s; everything else other_s.
 */
void sp_flow_update(struct sp_flow_table *t, struct sp_flow *f,
    uint64_t now_ms, int dir, uint8_t tcp_flags, size_t bytes);

/* sp_flow_kill - remove flow f now; f becomes invalid. */
void sp_flow_kill(struct sp_flow_table *t, const struct sp_flow *f);

/*
 * sp_flow_expire - remove the flows idle past their timeout: a flow
 * goes once now_ms >= last_ms + timeout of its state (not before).  At
 * most max are removed per call, so one call's time is bounded; the
 * work is proportional to the flows removed, not to the table size.
 * Returns the number removed.
 */
size_t sp_flow_expire(struct sp_flow_table *t, uint64_t now_ms, size_t max);

/* sp_flow_count - flows in the table. */
size_t sp_flow_count(const struct sp_flow_table *t);

/*
 * sp_flow_foreach - call fn(flow, arg) for every flow (order unspecified)
 * until fn returns non-zero.  fn may call sp_flow_kill() on the flow it
 * is given, and nothing else that changes the table.
 * Why: dumps for lbspctl, and bulk removal (e.g. a server taken out).
 */
void sp_flow_foreach(struct sp_flow_table *t,
    int (*fn)(const struct sp_flow *, void *), void *arg);

/*
 * sp_flow_walk - sp_flow_foreach() in bounded steps: call fn(flow, arg)
 * for at most max flows from *cursor on (start at 0), until fn returns
 * non-zero; *cursor becomes where to go on from.  The walk is over once
 * sp_flow_walk_done() says so.  A flow added or removed between two
 * calls may be seen or not; a flow that stays is seen exactly once.
 * fn must not change the table.
 * Why: a table shared between threads is walked in batches, its lock
 * dropped between them (lbspctl flows, the balancer's tallies).
 * Returns the number of flows visited.
 */
size_t sp_flow_walk(struct sp_flow_table *t, size_t *cursor, size_t max,
    int (*fn)(const struct sp_flow *, void *), void *arg);

/* sp_flow_walk_done - whether a walk at cursor has seen every slot. */
bool sp_flow_walk_done(const struct sp_flow_table *t, size_t cursor);

/*
 * sp_flow_entry_bytes - memory one flow costs in a table, bytes: slab
 * slot (node + struct sp_flow) plus bucket share, an upper bound (4
 * bytes less when the capacity is a power of two).  176 on LP64.
 * Why: table sizes are set by configuration and memory per entry is a
 * benchmark figure (doc/design.md §3.7).
 */
size_t sp_flow_entry_bytes(void);

/* sp_flow_state_name - "new", "syn-sent", ... for enum sp_flow_state. */
const char *sp_flow_state_name(unsigned state);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* SP_FLOW_H */
