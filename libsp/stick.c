/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * stick.c -- the balancer's stick table: a thin wrapper that stores
 * struct sp_stick_entry records in the generic table of table.c (one
 * timeout class: the TTL).
 */
#include <stdlib.h>
#include <string.h>

#include <sp/stick.h>

#include "table.h"

_Static_assert(sizeof(struct sp_stick_key) == 40,
    "struct sp_stick_key must have no implicit padding");

struct sp_stick_table {
	struct sp_table *table;	/* records: struct sp_stick_entry */
};

static struct sp_stick_key
stick_key(const uint8_t vip[16], const uint8_t id[16], uint32_t label,
    uint8_t kind)
{
	struct sp_stick_key k;

	memset(&k, 0, sizeof(k));
	memcpy(k.vip, vip, sizeof(k.vip));
	memcpy(k.id, id, sizeof(k.id));
	k.label = label;
	k.kind = kind;
	return k;
}

struct sp_stick_key
sp_stick_key_seg1(const uint8_t vip[16], const uint8_t seg1[16])
{
	return stick_key(vip, seg1, 0, SP_STICK_SEG1);
}

struct sp_stick_key
sp_stick_key_src_label(const uint8_t vip[16], const uint8_t src[16],
    uint32_t label)
{
	return stick_key(vip, src, label & 0xfffff, SP_STICK_SRC_LABEL);
}

struct sp_stick_key
sp_stick_key_src(const uint8_t vip[16], const uint8_t src[16],
    unsigned prefix_len)
{
	uint8_t id[16];
	unsigned i;

	if (prefix_len > 128)
		prefix_len = 128;
	for (i = 0; i < 16; i++) {
		if (prefix_len >= 8 * (i + 1))
			id[i] = src[i];
		else if (prefix_len > 8 * i)
			id[i] = src[i] & (uint8_t)(0xff << (8 - (prefix_len -
			    8 * i)));
		else
			id[i] = 0;
	}
	return stick_key(vip, id, prefix_len, SP_STICK_SRC);
}

struct sp_stick_table *
sp_stick_table_new(size_t capacity, uint32_t ttl_s, const uint8_t secret[16])
{
	struct sp_stick_table *t;
	uint64_t ttl_ms = (uint64_t)ttl_s * 1000;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->table = sp_table_new(capacity, sizeof(struct sp_stick_entry),
	    offsetof(struct sp_stick_entry, key), sizeof(struct sp_stick_key),
	    &ttl_ms, 1, secret);
	if (t->table == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

void
sp_stick_table_free(struct sp_stick_table *t)
{
	if (t == NULL)
		return;
	sp_table_free(t->table);
	free(t);
}

uint64_t
sp_stick_hash(const struct sp_stick_table *t, const struct sp_stick_key *key)
{
	return sp_table_hash(t->table, key);
}

bool
sp_stick_lookup(struct sp_stick_table *t, const struct sp_stick_key *key,
    uint64_t now_ms, uint8_t server[16])
{
	return sp_stick_lookup_hashed(t, key, sp_table_hash(t->table, key),
	    now_ms, server);
}

bool
sp_stick_lookup_hashed(struct sp_stick_table *t,
    const struct sp_stick_key *key, uint64_t hash, uint64_t now_ms,
    uint8_t server[16])
{
	struct sp_stick_entry *e;

	if ((e = sp_table_lookup_live_hashed(t->table, key, hash,
	    now_ms)) == NULL)
		return false;
	sp_table_touch(t->table, e, now_ms, 0);
	e->expire_ms = sp_table_expire_ms(t->table, e);
	memcpy(server, e->server, sizeof(e->server));
	return true;
}

bool
sp_stick_set(struct sp_stick_table *t, const struct sp_stick_key *key,
    const uint8_t server[16], uint64_t now_ms)
{
	return sp_stick_set_hashed(t, key, sp_table_hash(t->table, key),
	    server, now_ms);
}

bool
sp_stick_set_hashed(struct sp_stick_table *t, const struct sp_stick_key *key,
    uint64_t hash, const uint8_t server[16], uint64_t now_ms)
{
	struct sp_stick_entry *e;
	bool retired;

	e = sp_table_insert_hashed(t->table, key, hash, now_ms, 0, &retired);
	memcpy(e->server, server, sizeof(e->server));
	sp_table_touch(t->table, e, now_ms, 0);
	e->expire_ms = sp_table_expire_ms(t->table, e);
	return retired;
}

size_t
sp_stick_forget_server(struct sp_stick_table *t, const uint8_t server[16])
{
	return sp_table_kill_matching(t->table,
	    offsetof(struct sp_stick_entry, server), server, 16);
}

size_t
sp_stick_expire(struct sp_stick_table *t, uint64_t now_ms, size_t max)
{
	return sp_table_expire(t->table, now_ms, max);
}

size_t
sp_stick_count(const struct sp_stick_table *t)
{
	return sp_table_count(t->table);
}

struct stick_walk {
	int (*fn)(const struct sp_stick_entry *, void *);
	void *arg;
};

static int
stick_walk_one(void *rec, void *arg)
{
	struct stick_walk *w = arg;

	return w->fn(rec, w->arg);
}

void
sp_stick_foreach(struct sp_stick_table *t,
    int (*fn)(const struct sp_stick_entry *, void *), void *arg)
{
	struct stick_walk w = { .fn = fn, .arg = arg };

	sp_table_foreach(t->table, stick_walk_one, &w);
}

size_t
sp_stick_walk(struct sp_stick_table *t, size_t *cursor, size_t max,
    int (*fn)(const struct sp_stick_entry *, void *), void *arg)
{
	struct stick_walk w = { .fn = fn, .arg = arg };

	return sp_table_walk(t->table, cursor, max, stick_walk_one, &w);
}

bool
sp_stick_walk_done(const struct sp_stick_table *t, size_t cursor)
{
	return cursor >= sp_table_capacity(t->table);
}

size_t
sp_stick_entry_bytes(void)
{
	return sp_table_entry_bytes(sizeof(struct sp_stick_entry));
}
