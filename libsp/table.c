/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * table.c -- the bounded hash table behind flow.c, stick.c and cache.c:
 * one preallocated slab, chained buckets by index under a keyed SipHash,
 * one idle (LRU) list per timeout class.  See table.h for the model.
 *
 * LSNAT §2.4 asks for idle timeouts per kind of session and suggests to
 * "timestamp sessions and keep them as long as possible and retire the
 * longest idle session when it becomes necessary": both are here.
 */
#include <stdlib.h>
#include <string.h>

#include <sp/siphash.h>

#include "table.h"

#define NIL		UINT32_MAX	/* no slot */
#define CLS_FREE	0xff		/* class of a slot on the free list */
#define REC_MAX		(1u << 20)	/* bytes: a sanity bound on rec_size */

/* The head of every slab slot; the record follows it. */
struct sp_table_node {
	uint32_t next;		/* bucket chain, or free list: slot index */
	uint32_t prev;		/* class list, toward least recently touched */
	uint32_t lnext;		/* class list, toward most recently touched */
	uint8_t cls;		/* timeout class, CLS_FREE when free */
	uint8_t pad[3];
	uint64_t expire_ms;	/* ms, caller's clock: gone once now >= this */
};

#define NODE_SIZE	sizeof(struct sp_table_node)

struct sp_table {
	uint8_t *slab;		/* capacity slots of stride bytes */
	uint32_t *buckets;	/* mask + 1 chain heads (slot indices) */
	size_t stride;		/* bytes per slot: node + record, 8-aligned */
	size_t rec_size;	/* bytes per record */
	size_t key_off;		/* bytes: where the key starts in a record */
	size_t key_len;		/* bytes of key */
	uint32_t capacity;	/* slots */
	uint32_t count;		/* slots in use */
	uint32_t mask;		/* bucket count - 1 */
	uint32_t free_head;	/* first free slot, or NIL */
	unsigned nclass;	/* timeout classes in use */
	uint64_t ttl_ms[SP_TABLE_MAXCLASS];	/* idle timeout per class, ms */
	uint32_t head[SP_TABLE_MAXCLASS];	/* least recently touched */
	uint32_t tail[SP_TABLE_MAXCLASS];	/* most recently touched */
	uint8_t rank[SP_TABLE_MAXCLASS];	/* retirement rank per class:
						   lowest retired first */
	void (*release)(void *rec, void *arg);	/* before a record goes */
	void *release_arg;
	uint64_t now_ms;	/* largest now_ms seen, ms */
	uint8_t secret[16];	/* SipHash key for the buckets */
};

static size_t
table_stride(size_t rec_size)
{
	return (NODE_SIZE + rec_size + 7) & ~(size_t)7;
}

static struct sp_table_node *
node_of(const struct sp_table *t, uint32_t i)
{
	return (struct sp_table_node *)(void *)(t->slab + (size_t)i *
	    t->stride);
}

static uint8_t *
rec_of(const struct sp_table *t, uint32_t i)
{
	return t->slab + (size_t)i * t->stride + NODE_SIZE;
}

/* Slot index of a record pointer, or NIL when it is not one of t's. */
static uint32_t
index_of(const struct sp_table *t, const void *rec)
{
	uintptr_t p = (uintptr_t)rec, base = (uintptr_t)t->slab + NODE_SIZE;
	size_t off;

	if (p < base)
		return NIL;
	off = (size_t)(p - base);
	if (off % t->stride != 0 || off / t->stride >= t->capacity)
		return NIL;
	return (uint32_t)(off / t->stride);
}

uint64_t
sp_table_hash(const struct sp_table *t, const void *key)
{
	return sp_siphash24(t->secret, key, t->key_len);
}

/* The bucket of a hash: its low bits (the mask is below 2^30). */
static uint32_t
bucket_of_hash(const struct sp_table *t, uint64_t hash)
{
	return (uint32_t)hash & t->mask;
}

static uint32_t
bucket_of(const struct sp_table *t, const void *key)
{
	return bucket_of_hash(t, sp_table_hash(t, key));
}

/* Take now_ms as the largest time seen, so class lists stay in order. */
static uint64_t
table_clock(struct sp_table *t, uint64_t now_ms)
{
	if (now_ms > t->now_ms)
		t->now_ms = now_ms;
	return t->now_ms;
}

static uint64_t
deadline(const struct sp_table *t, uint64_t now_ms, unsigned cls)
{
	uint64_t ttl = t->ttl_ms[cls];

	return now_ms > UINT64_MAX - ttl ? UINT64_MAX : now_ms + ttl;
}

static void
list_remove(struct sp_table *t, uint32_t i)
{
	struct sp_table_node *n = node_of(t, i);
	unsigned c = n->cls;

	if (n->prev != NIL)
		node_of(t, n->prev)->lnext = n->lnext;
	else
		t->head[c] = n->lnext;
	if (n->lnext != NIL)
		node_of(t, n->lnext)->prev = n->prev;
	else
		t->tail[c] = n->prev;
	n->prev = n->lnext = NIL;
}

static void
list_append(struct sp_table *t, uint32_t i, unsigned cls)
{
	struct sp_table_node *n = node_of(t, i);

	n->cls = (uint8_t)cls;
	n->prev = t->tail[cls];
	n->lnext = NIL;
	if (t->tail[cls] != NIL)
		node_of(t, t->tail[cls])->lnext = i;
	else
		t->head[cls] = i;
	t->tail[cls] = i;
}

/* Chain walk from bucket b, bounded by the number of records. */
static uint32_t
find(const struct sp_table *t, uint32_t b, const void *key)
{
	uint32_t i, steps;

	for (i = t->buckets[b], steps = 0; i != NIL && steps < t->count;
	    i = node_of(t, i)->next, steps++)
		if (memcmp(rec_of(t, i) + t->key_off, key, t->key_len) == 0)
			return i;
	return NIL;
}

/* Take slot i out of its chain and its list and put it on the free list. */
static void
slot_release(struct sp_table *t, uint32_t i)
{
	struct sp_table_node *n = node_of(t, i);
	uint32_t *pp, steps;

	if (t->release != NULL)
		t->release(rec_of(t, i), t->release_arg);
	pp = &t->buckets[bucket_of(t, rec_of(t, i) + t->key_off)];
	for (steps = 0; *pp != NIL && *pp != i && steps < t->count; steps++)
		pp = &node_of(t, *pp)->next;
	if (*pp == i)
		*pp = n->next;
	list_remove(t, i);
	n->cls = CLS_FREE;
	n->next = t->free_head;
	t->free_head = i;
	t->count--;
}

/*
 * The slot to give up when the table is full: an expired class head if
 * any (it would go at the next sweep anyway), else the longest-idle
 * record among the classes of the lowest rank holding any (the class
 * head touched longest ago).  A head's touch time is its expiry minus
 * its class timeout.
 */
static uint32_t
victim(const struct sp_table *t, uint64_t now_ms, bool *retired)
{
	uint32_t best = NIL, h;
	uint64_t touched, best_touched = 0;
	unsigned c, low = 256;

	for (c = 0; c < t->nclass; c++) {
		h = t->head[c];
		if (h != NIL && node_of(t, h)->expire_ms <= now_ms) {
			*retired = false;
			return h;
		}
	}
	for (c = 0; c < t->nclass; c++)
		if (t->head[c] != NIL && t->rank[c] < low)
			low = t->rank[c];
	for (c = 0; c < t->nclass; c++) {
		h = t->head[c];
		if (h == NIL || t->rank[c] != low)
			continue;
		touched = node_of(t, h)->expire_ms - t->ttl_ms[c];
		if (best == NIL || touched < best_touched) {
			best = h;
			best_touched = touched;
		}
	}
	*retired = true;
	return best;
}

struct sp_table *
sp_table_new(size_t capacity, size_t rec_size, size_t key_off,
    size_t key_len, const uint64_t *ttl_ms, unsigned nclass,
    const uint8_t secret[16])
{
	struct sp_table *t;
	size_t nbuckets;
	uint32_t i;
	unsigned c;

	if (capacity == 0 || capacity > SP_TABLE_MAXCAP)
		return NULL;
	if (rec_size == 0 || rec_size > REC_MAX || key_len == 0 ||
	    key_off > rec_size || key_len > rec_size - key_off)
		return NULL;
	if (ttl_ms == NULL || nclass == 0 || nclass > SP_TABLE_MAXCLASS ||
	    secret == NULL)
		return NULL;
	for (c = 0; c < nclass; c++)
		if (ttl_ms[c] == 0)
			return NULL;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->stride = table_stride(rec_size);
	t->rec_size = rec_size;
	t->key_off = key_off;
	t->key_len = key_len;
	t->capacity = (uint32_t)capacity;
	t->nclass = nclass;
	memcpy(t->secret, secret, sizeof(t->secret));
	for (c = 0; c < SP_TABLE_MAXCLASS; c++) {
		t->ttl_ms[c] = c < nclass ? ttl_ms[c] : 1;
		t->head[c] = t->tail[c] = NIL;
	}
	for (nbuckets = 1; nbuckets < capacity; nbuckets <<= 1)
		;
	t->mask = (uint32_t)(nbuckets - 1);
	t->slab = calloc(capacity, t->stride);
	t->buckets = calloc(nbuckets, sizeof(*t->buckets));
	if (t->slab == NULL || t->buckets == NULL) {
		sp_table_free(t);
		return NULL;
	}
	memset(t->buckets, 0xff, nbuckets * sizeof(*t->buckets)); /* NIL */
	for (i = 0; i < t->capacity; i++) {
		node_of(t, i)->cls = CLS_FREE;
		node_of(t, i)->next = i + 1 < t->capacity ? i + 1 : NIL;
		node_of(t, i)->prev = node_of(t, i)->lnext = NIL;
	}
	t->free_head = 0;
	return t;
}

void
sp_table_set_rank(struct sp_table *t, unsigned cls, uint8_t rank)
{
	if (cls < t->nclass)
		t->rank[cls] = rank;
}

void
sp_table_set_release(struct sp_table *t, void (*fn)(void *rec, void *arg),
    void *arg)
{
	t->release = fn;
	t->release_arg = arg;
}

void
sp_table_free(struct sp_table *t)
{
	if (t == NULL)
		return;
	free(t->slab);
	free(t->buckets);
	free(t);
}

void *
sp_table_lookup(const struct sp_table *t, const void *key)
{
	return sp_table_lookup_hashed(t, key, sp_table_hash(t, key));
}

void *
sp_table_lookup_hashed(const struct sp_table *t, const void *key,
    uint64_t hash)
{
	uint32_t i = find(t, bucket_of_hash(t, hash), key);

	return i == NIL ? NULL : rec_of(t, i);
}

void *
sp_table_lookup_live(struct sp_table *t, const void *key, uint64_t now_ms)
{
	return sp_table_lookup_live_hashed(t, key, sp_table_hash(t, key),
	    now_ms);
}

void *
sp_table_lookup_live_hashed(struct sp_table *t, const void *key,
    uint64_t hash, uint64_t now_ms)
{
	uint32_t i = find(t, bucket_of_hash(t, hash), key);

	if (i == NIL)
		return NULL;
	if (node_of(t, i)->expire_ms <= now_ms) {
		slot_release(t, i);
		return NULL;
	}
	return rec_of(t, i);
}

void *
sp_table_insert(struct sp_table *t, const void *key, uint64_t now_ms,
    unsigned cls, bool *retired)
{
	return sp_table_insert_hashed(t, key, sp_table_hash(t, key), now_ms,
	    cls, retired);
}

void *
sp_table_insert_hashed(struct sp_table *t, const void *key, uint64_t hash,
    uint64_t now_ms, unsigned cls, bool *retired)
{
	struct sp_table_node *n;
	uint32_t b, i;
	bool gone = false;

	if (retired != NULL)
		*retired = false;
	if (cls >= t->nclass)
		return NULL;
	b = bucket_of_hash(t, hash);
	if ((i = find(t, b, key)) != NIL)
		return rec_of(t, i);
	now_ms = table_clock(t, now_ms);
	if (t->free_head == NIL)
		slot_release(t, victim(t, now_ms, &gone));

	i = t->free_head;
	n = node_of(t, i);
	t->free_head = n->next;
	memset(rec_of(t, i), 0, t->rec_size);
	memcpy(rec_of(t, i) + t->key_off, key, t->key_len);
	n->next = t->buckets[b];
	t->buckets[b] = i;
	list_append(t, i, cls);
	n->expire_ms = deadline(t, now_ms, cls);
	t->count++;
	if (retired != NULL)
		*retired = gone;
	return rec_of(t, i);
}

void
sp_table_touch(struct sp_table *t, const void *rec, uint64_t now_ms,
    unsigned cls)
{
	uint32_t i = index_of(t, rec);
	struct sp_table_node *n;

	if (i == NIL || (n = node_of(t, i))->cls == CLS_FREE)
		return;
	if (cls >= t->nclass)
		cls = n->cls;
	now_ms = table_clock(t, now_ms);
	list_remove(t, i);
	list_append(t, i, cls);
	n->expire_ms = deadline(t, now_ms, cls);
}

void
sp_table_kill(struct sp_table *t, const void *rec)
{
	uint32_t i = index_of(t, rec);

	if (i != NIL && node_of(t, i)->cls != CLS_FREE)
		slot_release(t, i);
}

uint64_t
sp_table_expire_ms(const struct sp_table *t, const void *rec)
{
	uint32_t i = index_of(t, rec);

	return i == NIL ? 0 : node_of(t, i)->expire_ms;
}

size_t
sp_table_kill_matching(struct sp_table *t, size_t off, const void *val,
    size_t len)
{
	uint32_t i, next, left = t->count;
	size_t removed = 0;
	unsigned c;

	if (off > t->rec_size || len > t->rec_size - off)
		return 0;
	for (c = 0; c < t->nclass; c++) {
		for (i = t->head[c]; i != NIL && left > 0; i = next) {
			next = node_of(t, i)->lnext;
			left--;
			if (memcmp(rec_of(t, i) + off, val, len) == 0) {
				slot_release(t, i);
				removed++;
			}
		}
	}
	return removed;
}

size_t
sp_table_expire(struct sp_table *t, uint64_t now_ms, size_t max)
{
	size_t removed = 0;
	uint32_t h;
	unsigned c;

	for (c = 0; c < t->nclass; c++) {
		while (removed < max && (h = t->head[c]) != NIL &&
		    node_of(t, h)->expire_ms <= now_ms) {
			slot_release(t, h);
			removed++;
		}
	}
	return removed;
}

size_t
sp_table_count(const struct sp_table *t)
{
	return t->count;
}

size_t
sp_table_capacity(const struct sp_table *t)
{
	return t->capacity;
}

void
sp_table_foreach(struct sp_table *t, int (*fn)(void *rec, void *arg),
    void *arg)
{
	uint32_t i, next, left = t->count;
	unsigned c;

	for (c = 0; c < t->nclass; c++) {
		for (i = t->head[c]; i != NIL && left > 0; i = next) {
			next = node_of(t, i)->lnext;	/* fn may kill i */
			left--;
			if (fn(rec_of(t, i), arg) != 0)
				return;
		}
	}
}

size_t
sp_table_walk(struct sp_table *t, size_t *cursor, size_t max,
    int (*fn)(void *rec, void *arg), void *arg)
{
	size_t i, seen = 0;

	for (i = *cursor; i < t->capacity && seen < max; i++) {
		if (node_of(t, (uint32_t)i)->cls == CLS_FREE)
			continue;
		seen++;
		if (fn(rec_of(t, (uint32_t)i), arg) != 0) {
			i = t->capacity;	/* stopped: the walk is over */
			break;
		}
	}
	*cursor = i;
	return seen;
}

size_t
sp_table_entry_bytes(size_t rec_size)
{
	return table_stride(rec_size) + 2 * sizeof(uint32_t);
}
