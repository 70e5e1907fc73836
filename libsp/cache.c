/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cache.c -- the client's server cache: a thin wrapper that stores
 * struct sp_cache_entry records, keyed by their first 32 bytes (vip,
 * identity), in the generic table of table.c (one timeout class: the
 * TTL).
 */
#include <stdlib.h>
#include <string.h>

#include <sp/cache.h>

#include "table.h"

#define CACHE_KEY_LEN	32	/* bytes: vip + identity */

_Static_assert(offsetof(struct sp_cache_entry, identity) == 16 &&
    offsetof(struct sp_cache_entry, server) == CACHE_KEY_LEN,
    "the cache key is the first 32 bytes of an entry");

struct sp_cache_table {
	struct sp_table *table;	/* records: struct sp_cache_entry */
};

static void
cache_key(uint8_t key[CACHE_KEY_LEN], const uint8_t vip[16],
    const uint8_t identity[16])
{
	memcpy(key, vip, 16);
	memcpy(key + 16, identity, 16);
}

struct sp_cache_table *
sp_cache_table_new(size_t capacity, uint32_t ttl_s, const uint8_t secret[16])
{
	struct sp_cache_table *t;
	uint64_t ttl_ms = (uint64_t)ttl_s * 1000;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->table = sp_table_new(capacity, sizeof(struct sp_cache_entry), 0,
	    CACHE_KEY_LEN, &ttl_ms, 1, secret);
	if (t->table == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

void
sp_cache_table_free(struct sp_cache_table *t)
{
	if (t == NULL)
		return;
	sp_table_free(t->table);
	free(t);
}

bool
sp_cache_lookup(struct sp_cache_table *t, const uint8_t vip[16],
    const uint8_t identity[16], uint64_t now_ms, uint8_t server[16])
{
	uint8_t key[CACHE_KEY_LEN];
	struct sp_cache_entry *e;

	cache_key(key, vip, identity);
	if ((e = sp_table_lookup_live(t->table, key, now_ms)) == NULL ||
	    e->state != SP_CACHE_OK)
		return false;
	memcpy(server, e->server, sizeof(e->server));
	return true;
}

bool
sp_cache_get(struct sp_cache_table *t, const uint8_t vip[16],
    const uint8_t identity[16], uint64_t now_ms, struct sp_cache_entry *out)
{
	uint8_t key[CACHE_KEY_LEN];
	struct sp_cache_entry *e;

	cache_key(key, vip, identity);
	if ((e = sp_table_lookup_live(t->table, key, now_ms)) == NULL)
		return false;
	*out = *e;
	return true;
}

bool
sp_cache_set(struct sp_cache_table *t, const uint8_t vip[16],
    const uint8_t identity[16], const uint8_t server[16], uint64_t now_ms)
{
	uint8_t key[CACHE_KEY_LEN];
	struct sp_cache_entry *e;
	bool retired;

	cache_key(key, vip, identity);
	e = sp_table_insert(t->table, key, now_ms, 0, &retired);
	memcpy(e->server, server, sizeof(e->server));
	e->state = SP_CACHE_OK;
	e->reason = 0;
	e->suspect_ms = 0;
	sp_table_touch(t->table, e, now_ms, 0);
	e->expire_ms = sp_table_expire_ms(t->table, e);
	return retired;
}

bool
sp_cache_forget(struct sp_cache_table *t, const uint8_t vip[16],
    const uint8_t identity[16])
{
	uint8_t key[CACHE_KEY_LEN];
	struct sp_cache_entry *e;

	cache_key(key, vip, identity);
	if ((e = sp_table_lookup(t->table, key)) == NULL)
		return false;
	sp_table_kill(t->table, e);
	return true;
}

struct cache_suspect {
	const uint8_t *server;
	uint8_t reason;
	uint64_t now_ms;
	size_t marked;
};

static int
cache_suspect_one(void *rec, void *arg)
{
	struct sp_cache_entry *e = rec;
	struct cache_suspect *s = arg;

	if (e->state == SP_CACHE_OK && memcmp(e->server, s->server, 16) == 0) {
		e->state = SP_CACHE_SUSPECT;
		e->reason = s->reason;
		e->suspect_ms = s->now_ms;
		s->marked++;
	}
	return 0;
}

size_t
sp_cache_suspect_server(struct sp_cache_table *t, const uint8_t server[16],
    uint8_t reason, uint64_t now_ms)
{
	struct cache_suspect s = { .server = server, .reason = reason,
	    .now_ms = now_ms };

	sp_table_foreach(t->table, cache_suspect_one, &s);
	return s.marked;
}

size_t
sp_cache_forget_server(struct sp_cache_table *t, const uint8_t server[16])
{
	return sp_table_kill_matching(t->table,
	    offsetof(struct sp_cache_entry, server), server, 16);
}

size_t
sp_cache_expire(struct sp_cache_table *t, uint64_t now_ms, size_t max)
{
	return sp_table_expire(t->table, now_ms, max);
}

size_t
sp_cache_count(const struct sp_cache_table *t)
{
	return sp_table_count(t->table);
}

struct cache_walk {
	int (*fn)(const struct sp_cache_entry *, void *);
	void *arg;
};

static int
cache_walk_one(void *rec, void *arg)
{
	struct cache_walk *w = arg;

	return w->fn(rec, w->arg);
}

void
sp_cache_foreach(struct sp_cache_table *t,
    int (*fn)(const struct sp_cache_entry *, void *), void *arg)
{
	struct cache_walk w = { .fn = fn, .arg = arg };

	sp_table_foreach(t->table, cache_walk_one, &w);
}

size_t
sp_cache_walk(struct sp_cache_table *t, size_t *cursor, size_t max,
    int (*fn)(const struct sp_cache_entry *, void *), void *arg)
{
	struct cache_walk w = { .fn = fn, .arg = arg };

	return sp_table_walk(t->table, cursor, max, cache_walk_one, &w);
}

bool
sp_cache_walk_done(const struct sp_cache_table *t, size_t cursor)
{
	return cursor >= sp_table_capacity(t->table);
}

size_t
sp_cache_entry_bytes(void)
{
	return sp_table_entry_bytes(sizeof(struct sp_cache_entry));
}
