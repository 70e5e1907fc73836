/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * table.h -- the one bounded hash table behind the flow, stick and cache
 * tables (internal to libsp, not exported).
 *
 * A table holds at most `capacity` records of `rec_size` bytes each.  A
 * record carries its own key: `key_len` bytes at offset `key_off`, hashed
 * and compared as bytes (key types have no implicit padding).  Everything
 * is allocated once at creation:
 *
 *   slab     capacity x stride bytes; each slot is a node (links, expiry,
 *            class) followed by the record.  Free slots are chained
 *            through the node, so an insert never allocates.
 *   buckets  a power of two >= capacity of 32-bit slot indices, heads of
 *            singly linked chains.  The bucket of a key is SipHash-2-4 of
 *            the key under the table's 16-byte secret: nobody without
 *            the secret can aim keys at one chain.
 *
 * Idle order and expiry.  Every record belongs to one "class" (flows:
 * one per protocol / state timeout; stick and cache: one class).  Each
 * class has a fixed idle timeout ttl_ms[class] and a doubly linked list
 * of its records in the order they were last touched, so a touch is O(1)
 * and, because every record of a list has the same timeout, the list is
 * also in expiry order: expiry pops list heads in O(removed) without
 * scanning live records.  The longest-idle record of the table is the
 * oldest of the class heads (at most SP_TABLE_MAXCLASS of them), so
 * retiring it when the table is full is O(1) too.  A record expires at
 * expire_ms = (time of its last touch) + ttl_ms[class], and is removed
 * by sp_table_expire() once now_ms >= expire_ms.
 *
 * Time is the caller's: now_ms is a monotonic clock in milliseconds,
 * passed in.  A now_ms smaller than one seen before is taken as the
 * largest seen, so the lists stay in order.
 *
 * No locking: the caller serialises all access to one table.
 */
#ifndef SP_TABLE_H
#define SP_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SP_TABLE_MAXCLASS	8		/* timeout classes per table */
#define SP_TABLE_MAXCAP		(1u << 30)	/* records per table */

struct sp_table;

/*
 * sp_table_new - create an empty table.
 * @capacity: most records held, 1..SP_TABLE_MAXCAP.
 * @rec_size: bytes per record (the caller's struct), > 0.
 * @key_off, @key_len: where the key sits in a record, bytes; key_len > 0
 *     and key_off + key_len <= rec_size.
 * @ttl_ms: idle timeout of each class, milliseconds, each > 0.
 * @nclass: number of classes, 1..SP_TABLE_MAXCLASS.
 * @secret: SipHash key for the buckets (copied).
 * Returns the table, or NULL on bad arguments or allocation failure.
 */
struct sp_table *sp_table_new(size_t capacity, size_t rec_size,
    size_t key_off, size_t key_len, const uint64_t *ttl_ms, unsigned nclass,
    const uint8_t secret[16]);

/*
 * sp_table_set_rank - the retirement rank of class cls (default 0 for
 * every class).  When the table is full and no class head has expired,
 * the record retired is the longest-idle head among the classes of the
 * lowest rank that holds any record: a class of a higher rank is only
 * touched when every lower one is empty.
 * Why: a flow table retires half-open and idle flows before the ones
 * that completed a handshake, so a flood of new keys cannot push out
 * established sessions.  An invalid cls is ignored.
 */
void sp_table_set_rank(struct sp_table *t, unsigned cls, uint8_t rank);

/*
 * sp_table_set_release - call fn(rec, arg) for every record just
 * before it leaves the table, whatever the reason (kill, expiry,
 * retirement, kill_matching, lookup_live); NULL fn: no call.  fn must
 * not change t.
 * Why: a caller keeping figures about the records (flows per source)
 * stays exact.
 */
void sp_table_set_release(struct sp_table *t, void (*fn)(void *rec,
    void *arg), void *arg);

/* sp_table_free - free the table and every record in it (NULL is fine). */
void sp_table_free(struct sp_table *t);

/*
 * sp_table_lookup - the record whose key equals key (key_len bytes), or
 * NULL.  Expiry is not checked here: see sp_table_expire_ms().
 */
void *sp_table_lookup(const struct sp_table *t, const void *key);

/*
 * sp_table_hash - the hash of key (key_len bytes) in t: SipHash-2-4
 * under t's secret; its low bits pick the bucket.  The _hashed calls
 * below take it, so that a caller looking up and then inserting one key
 * hashes it once; hash must be sp_table_hash(t, key) (another value
 * misfiles the record).
 */
uint64_t sp_table_hash(const struct sp_table *t, const void *key);

/* sp_table_lookup, _lookup_live, _insert with key's sp_table_hash(). */
void *sp_table_lookup_hashed(const struct sp_table *t, const void *key,
    uint64_t hash);
void *sp_table_lookup_live_hashed(struct sp_table *t, const void *key,
    uint64_t hash, uint64_t now_ms);
void *sp_table_insert_hashed(struct sp_table *t, const void *key,
    uint64_t hash, uint64_t now_ms, unsigned cls, bool *retired);

/*
 * sp_table_lookup_live - as sp_table_lookup(), but a record expired at
 * now_ms (expire_ms <= now_ms) is removed on the spot and not returned.
 * Why: stick and cache entries must not outlive their TTL between two
 * expiry sweeps.
 */
void *sp_table_lookup_live(struct sp_table *t, const void *key,
    uint64_t now_ms);

/*
 * sp_table_insert - add a record for key, or return the one already
 * there (untouched).  A new record is zeroed, gets the key, is put in
 * class cls and touched at now_ms.  When the table is full a record
 * must go first: an already expired class head if there is one (that
 * is an early expiry, *retired stays false), else the longest-idle
 * record of the table (*retired set true).  Pointers to the record
 * that went become invalid.
 * @retired: may be NULL.
 * Returns the record; never NULL for a valid cls (< nclass).
 */
void *sp_table_insert(struct sp_table *t, const void *key, uint64_t now_ms,
    unsigned cls, bool *retired);

/*
 * sp_table_touch - mark rec used at now_ms: move it to the tail of the
 * list of class cls (it may change class) and set its expiry to
 * now_ms + ttl_ms[cls].  An invalid cls keeps the record's class.
 * A pointer that is not a live record of t is ignored.
 */
void sp_table_touch(struct sp_table *t, const void *rec, uint64_t now_ms,
    unsigned cls);

/*
 * sp_table_kill - remove rec from the table now; rec becomes invalid.
 * Killing a free slot, or a pointer that is not a record of t, does
 * nothing.  (rec is const so
 * a walker handed a const record can remove it.)
 */
void sp_table_kill(struct sp_table *t, const void *rec);

/*
 * sp_table_expire_ms - when rec expires: milliseconds, caller's clock
 * (0 for a pointer that is not a record of t).
 */
uint64_t sp_table_expire_ms(const struct sp_table *t, const void *rec);

/*
 * sp_table_kill_matching - remove every record whose len bytes at offset
 * off equal val (e.g. all entries pointing to one server).
 * Returns the number removed; 0 when off + len exceeds the record.
 */
size_t sp_table_kill_matching(struct sp_table *t, size_t off,
    const void *val, size_t len);

/*
 * sp_table_expire - remove records with expire_ms <= now_ms, at most max
 * of them (to bound the time of one call).
 * Returns the number removed.
 */
size_t sp_table_expire(struct sp_table *t, uint64_t now_ms, size_t max);

/* sp_table_count - records in the table. */
size_t sp_table_count(const struct sp_table *t);

/* sp_table_capacity - most records the table holds. */
size_t sp_table_capacity(const struct sp_table *t);

/*
 * sp_table_foreach - call fn(rec, arg) for every record, class by class,
 * least recently touched first within a class; fn returns non-zero to
 * stop the walk.  fn may sp_table_kill() the record it is given; it must
 * not insert or touch.  The walk visits at most sp_table_count() records
 * as counted when it starts.
 */
void sp_table_foreach(struct sp_table *t, int (*fn)(void *rec, void *arg),
    void *arg);

/*
 * sp_table_walk - call fn(rec, arg) for the records in slots *cursor
 * onward, in slot order, at most max of them; fn returns non-zero to
 * stop.  *cursor becomes the slot to go on from (start at 0); the walk
 * is over once *cursor >= sp_table_capacity() (also when fn stopped it).
 * Why: a table shared between threads is walked in bounded batches, its
 * lock dropped in between.  A record added or removed between two calls
 * may be seen or not; one that stays is seen exactly once.
 * Returns the number of records visited.
 */
size_t sp_table_walk(struct sp_table *t, size_t *cursor, size_t max,
    int (*fn)(void *rec, void *arg), void *arg);

/*
 * sp_table_entry_bytes - memory one record costs in a table: the slab
 * slot (node + record, rounded to 8) plus its share of the bucket
 * array, which is 4 bytes when the capacity is a power of two and at
 * most 8 otherwise; the upper bound is returned.
 */
size_t sp_table_entry_bytes(size_t rec_size);

#endif /* SP_TABLE_H */
