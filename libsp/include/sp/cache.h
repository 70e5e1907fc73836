/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp/cache.h -- the client's server cache: (VIP, identity) -> the server
 * that answered for that VIP with seg2, with a TTL (doc/design.md §3.1).  With
 * `redirect on`, new flows to the VIP go straight to the cached server.
 *
 * The TTL runs from the last time a server response confirmed the entry
 * (sp_cache_set); a lookup is not a confirmation and does not extend it,
 * so a server that stopped answering drops out after at most ttl_s.
 *
 * Bounded like the flow table: capacity entries allocated at creation,
 * the longest-unconfirmed entry retired when full; keys hashed with
 * SipHash-2-4 under a per-table secret.
 *
 * Time is passed in as now_ms: milliseconds of the caller's monotonic
 * clock.  libsp never reads a clock.
 *
 * Threading: libsp does no locking.  One table must only be used by one
 * thread at a time; the daemon serialises access.
 */
#ifndef SP_CACHE_H
#define SP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Public API: exported from libsp.so (built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

/*
 * State of an entry.  A suspect server is one that did not answer (a
 * redirected SYN unanswered, ICMPv6 unreachable, an answer without the
 * option): the entry stays, so that the operator sees why, but lookups
 * do not follow it until an answer names the server again in seg2
 * (sp_cache_set()).
 */
enum sp_cache_state {
	SP_CACHE_OK = 0,	/* followed by lookups */
	SP_CACHE_SUSPECT = 1,	/* kept for show, never followed */
};

/* A cache entry, as the table stores it; the key is (vip, identity). */
struct sp_cache_entry {
	uint8_t vip[16];	/* the virtual service address */
	uint8_t identity[16];	/* seg1 this client sends */
	uint8_t server[16];	/* the server learned from seg2 */
	uint64_t expire_ms;	/* ms, caller's clock: gone once now >= this */
	uint64_t suspect_ms;	/* ms, caller's clock: when it became
				   suspect (0 while OK) */
	uint8_t state;		/* enum sp_cache_state */
	uint8_t reason;		/* why suspect: a caller-defined code */
	uint8_t pad[6];		/* zero */
};

struct sp_cache_table;

/*
 * sp_cache_table_new - create an empty cache.
 * @capacity: most entries held, 1 .. 2^30.
 * @ttl_s: how long a confirmation holds, seconds, > 0.
 * @secret: 16-byte SipHash key for the buckets (copied).
 * Returns the table, or NULL on bad arguments or allocation failure.
 */
struct sp_cache_table *sp_cache_table_new(size_t capacity, uint32_t ttl_s,
    const uint8_t secret[16]);

/* sp_cache_table_free - free the table and its entries (NULL is fine). */
void sp_cache_table_free(struct sp_cache_table *t);

/*
 * sp_cache_lookup - the server learned for (vip, identity), when it is
 * not suspect.  An entry whose TTL ran out (now_ms >= expire_ms) is
 * removed and not found.  The TTL is not extended.
 * @server: receives the server on a hit (untouched otherwise).
 * Returns true on a hit; false for no entry or a suspect one.
 */
bool sp_cache_lookup(struct sp_cache_table *t, const uint8_t vip[16],
    const uint8_t identity[16], uint64_t now_ms, uint8_t server[16]);

/*
 * sp_cache_get - a copy of the entry of (vip, identity), whatever its
 * state (expired entries are removed and not found).
 * Why: the caller tells "nothing learned" from "learned, suspect".
 * Returns true when there is one (*e filled).
 */
bool sp_cache_get(struct sp_cache_table *t, const uint8_t vip[16],
    const uint8_t identity[16], uint64_t now_ms, struct sp_cache_entry *e);

/*
 * sp_cache_set - learn or confirm (vip, identity) -> server at now_ms:
 * insert, or update the server and restart the TTL; the entry is OK
 * again (an answer naming a server is the proof it is alive).  When the table is
 * full an expired entry is reused if there is one, else the longest
 * unconfirmed entry is retired.
 * Returns true when a live entry was retired to make room.
 */
bool sp_cache_set(struct sp_cache_table *t, const uint8_t vip[16],
    const uint8_t identity[16], const uint8_t server[16], uint64_t now_ms);

/*
 * sp_cache_forget - remove the entry of (vip, identity).
 * Why: fallback (doc/design.md §3.1) -- the server stopped answering.
 * Returns true when there was one.
 */
bool sp_cache_forget(struct sp_cache_table *t, const uint8_t vip[16],
    const uint8_t identity[16]);

/*
 * sp_cache_suspect_server - mark every OK entry naming server suspect,
 * from now_ms, for reason (a caller-defined code, kept in the entry).
 * Entries keep their TTL.
 * Why: a server that left one redirected connection unanswered must
 * not get the next one, whoever's identity learned it.
 * Returns the number of entries marked.
 */
size_t sp_cache_suspect_server(struct sp_cache_table *t,
    const uint8_t server[16], uint8_t reason, uint64_t now_ms);

/*
 * sp_cache_forget_server - remove every entry naming server (e.g. after
 * an ICMPv6 unreachable from it).
 * Returns the number removed.
 */
size_t sp_cache_forget_server(struct sp_cache_table *t,
    const uint8_t server[16]);

/*
 * sp_cache_expire - remove entries whose TTL ran out by now_ms, at most
 * max per call; work proportional to the entries removed.
 * Returns the number removed.
 */
size_t sp_cache_expire(struct sp_cache_table *t, uint64_t now_ms,
    size_t max);

/* sp_cache_count - entries in the table (expired ones not yet removed
 * included). */
size_t sp_cache_count(const struct sp_cache_table *t);

/*
 * sp_cache_foreach - call fn(entry, arg) for every entry, soonest to
 * expire first, until fn returns non-zero.  fn must not change the
 * table.
 */
void sp_cache_foreach(struct sp_cache_table *t,
    int (*fn)(const struct sp_cache_entry *, void *), void *arg);

/*
 * sp_cache_walk - sp_cache_foreach() in bounded steps, as sp_flow_walk():
 * at most max entries from *cursor on (start at 0); fn returns non-zero
 * to stop and must not change the table.  Returns the entries visited.
 */
size_t sp_cache_walk(struct sp_cache_table *t, size_t *cursor, size_t max,
    int (*fn)(const struct sp_cache_entry *, void *), void *arg);

/* sp_cache_walk_done - whether a walk at cursor has seen every slot. */
bool sp_cache_walk_done(const struct sp_cache_table *t, size_t cursor);

/* sp_cache_entry_bytes - memory one entry costs in a table, bytes (upper
 * bound: slab slot + bucket share). */
size_t sp_cache_entry_bytes(void);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* SP_CACHE_H */
