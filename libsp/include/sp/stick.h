/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp/stick.h -- the balancer's stick table: (VIP, client identity) ->
 * server, with an idle TTL, so every session of one client lands on the
 * server its first session was given (doc/design.md §3.3 step 3, the slides'
 * shopping-cart table).
 *
 * The identity is, in order of preference: seg1 of the LBSP option;
 * else {source, flow label} when the label is non-zero (RFC 7098 §4);
 * else the source address, optionally cut to a prefix (e.g. /64, so
 * the privacy addresses of one host share an entry).
 *
 * Bounded like the flow table: capacity entries allocated at creation,
 * the longest-idle entry retired when full; keys hashed with SipHash-2-4
 * under a per-table secret.  A hit refreshes the entry's TTL.
 *
 * Time is passed in as now_ms: milliseconds of the caller's monotonic
 * clock.  libsp never reads a clock.
 *
 * Threading: libsp does no locking.  One table must only be used by one
 * thread at a time; the daemon serialises access.
 */
#ifndef SP_STICK_H
#define SP_STICK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Public API: exported from libsp.so (built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

/* Which identity a stick key holds (struct sp_stick_key.kind). */
enum sp_stick_kind {
	SP_STICK_SEG1 = 1,	/* seg1 of the LBSP option */
	SP_STICK_SRC_LABEL = 2,	/* source address + flow label */
	SP_STICK_SRC = 3,	/* source address cut to a prefix */
};

/*
 * A stick key.  Hashed and compared as bytes: no implicit padding, and
 * keys must be made with the constructors below so every unused byte is
 * zero.
 */
struct sp_stick_key {
	uint8_t vip[16];	/* the virtual service address */
	uint8_t id[16];		/* seg1, or the (masked) source address */
	uint32_t label;		/* SRC_LABEL: flow label (20 bits);
				   SRC: prefix length in bits; SEG1: 0 */
	uint8_t kind;		/* enum sp_stick_kind */
	uint8_t pad[3];		/* always zero */
};

/* A stick entry, as the table stores it. */
struct sp_stick_entry {
	struct sp_stick_key key;
	uint8_t server[16];	/* the server this identity sticks to */
	uint64_t expire_ms;	/* ms, caller's clock: gone once now >= this */
};

struct sp_stick_table;

/* sp_stick_key_seg1 - the key of an LBSP client by its seg1. */
struct sp_stick_key sp_stick_key_seg1(const uint8_t vip[16],
    const uint8_t seg1[16]);

/*
 * sp_stick_key_src_label - the key {source, flow label} of RFC 7098 §4
 * for a legacy client that sets flow labels.
 * @label: only its low 20 bits are kept.
 */
struct sp_stick_key sp_stick_key_src_label(const uint8_t vip[16],
    const uint8_t src[16], uint32_t label);

/*
 * sp_stick_key_src - the key of a legacy client by its source address
 * cut to prefix_len bits (128 keeps the whole address; larger values
 * are taken as 128).  Two addresses in one prefix give equal keys.
 */
struct sp_stick_key sp_stick_key_src(const uint8_t vip[16],
    const uint8_t src[16], unsigned prefix_len);

/*
 * sp_stick_table_new - create an empty stick table.
 * @capacity: most entries held, 1 .. 2^30.
 * @ttl_s: idle TTL of an entry, seconds, > 0.
 * @secret: 16-byte SipHash key for the buckets (copied).
 * Returns the table, or NULL on bad arguments or allocation failure.
 */
struct sp_stick_table *sp_stick_table_new(size_t capacity, uint32_t ttl_s,
    const uint8_t secret[16]);

/* sp_stick_table_free - free the table and its entries (NULL is fine). */
void sp_stick_table_free(struct sp_stick_table *t);

/*
 * sp_stick_lookup - the server key sticks to.  A hit restarts the TTL
 * (the entry expires ttl_s after its last use).  An entry whose TTL ran
 * out (now_ms >= expire_ms) is removed and not found.
 * @server: receives the server on a hit (untouched otherwise).
 * Returns true on a hit.
 */
bool sp_stick_lookup(struct sp_stick_table *t, const struct sp_stick_key *key,
    uint64_t now_ms, uint8_t server[16]);

/*
 * sp_stick_set - make key stick to server from now_ms for ttl_s: insert
 * the entry, or update and refresh it.  When the table is full an
 * expired entry is reused if there is one, else the longest-idle entry
 * is retired.
 * Returns true when a live entry was retired to make room.
 */
bool sp_stick_set(struct sp_stick_table *t, const struct sp_stick_key *key,
    const uint8_t server[16], uint64_t now_ms);

/*
 * sp_stick_hash - the hash of key in t (SipHash-2-4 under t's secret:
 * equal in two tables made with one secret), for the _hashed calls: a
 * caller that looks a key up and sets it afterwards hashes it once,
 * and may use the hash's high 32 bits (the table uses the low ones)
 * to pick one of several tables.  hash must be sp_stick_hash(t, key)
 * for the same key and secret; another value misfiles the entry.
 * sp_stick_lookup_hashed, sp_stick_set_hashed - sp_stick_lookup() and
 * sp_stick_set() with that hash.
 */
uint64_t sp_stick_hash(const struct sp_stick_table *t,
    const struct sp_stick_key *key);
bool sp_stick_lookup_hashed(struct sp_stick_table *t,
    const struct sp_stick_key *key, uint64_t hash, uint64_t now_ms,
    uint8_t server[16]);
bool sp_stick_set_hashed(struct sp_stick_table *t,
    const struct sp_stick_key *key, uint64_t hash, const uint8_t server[16],
    uint64_t now_ms);

/*
 * sp_stick_forget_server - remove every entry sticking to server.
 * Why: a server that died or was removed must not keep its clients.
 * Returns the number removed.
 */
size_t sp_stick_forget_server(struct sp_stick_table *t,
    const uint8_t server[16]);

/*
 * sp_stick_expire - remove entries whose TTL ran out by now_ms, at most
 * max per call; work proportional to the entries removed.
 * Returns the number removed.
 */
size_t sp_stick_expire(struct sp_stick_table *t, uint64_t now_ms,
    size_t max);

/* sp_stick_count - entries in the table (expired ones not yet removed
 * included). */
size_t sp_stick_count(const struct sp_stick_table *t);

/*
 * sp_stick_foreach - call fn(entry, arg) for every entry, least recently
 * used first, until fn returns non-zero.  fn must not change the table.
 */
void sp_stick_foreach(struct sp_stick_table *t,
    int (*fn)(const struct sp_stick_entry *, void *), void *arg);

/*
 * sp_stick_walk - sp_stick_foreach() in bounded steps, as sp_flow_walk():
 * at most max entries from *cursor on (start at 0), in slot order; fn
 * returns non-zero to stop and must not change the table.  Returns the
 * entries visited.
 */
size_t sp_stick_walk(struct sp_stick_table *t, size_t *cursor, size_t max,
    int (*fn)(const struct sp_stick_entry *, void *), void *arg);

/* sp_stick_walk_done - whether a walk at cursor has seen every slot. */
bool sp_stick_walk_done(const struct sp_stick_table *t, size_t cursor);

/* sp_stick_entry_bytes - memory one entry costs in a table, bytes (upper
 * bound: slab slot + bucket share). */
size_t sp_stick_entry_bytes(void);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* SP_STICK_H */
