/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * flow.c -- the flow table: struct sp_flow records in the generic table
 * of table.c, one timeout class per protocol / TCP state, and the
 * session-end rules of LSNAT §2.4:
 *
 *   "The end of a TCP session is detected when FIN is acknowledged by
 *    both halves of the session or when either half sets RST bit in TCP
 *    flags field.  Within a couple seconds after this, the session can
 *    be safely assumed to have been terminated."
 *
 *   "For all other types of session, there is no deterministic way of
 *    determining the end of session. ... these idle period Session
 *    timeouts ... should optionally be made user configurable."
 *
 * FIN-from-both-sides stands for "FIN acknowledged by both halves" (no
 * sequence tracking here); the linger timeout is the "couple seconds"
 * that lets the last ACK and retransmissions through.
 */
#include <stdlib.h>
#include <string.h>

#include <sp/flow.h>
#include <sp/pkt.h>
#include <sp/tcp.h>

#include "table.h"

_Static_assert(sizeof(struct sp_flow_key) == 44,
    "struct sp_flow_key must have no implicit padding");

/* Timeout classes of the table (see table.h). */
enum flow_class {
	CLS_TCP_ESTABLISHED,
	CLS_TCP,
	CLS_UDP,
	CLS_OTHER,
	CLS_LINGER,
	CLS_COUNT,
};

/* Flows held by one source address (the per-source limit). */
struct flow_source {
	uint8_t src[16];	/* the key: a flow key's src */
	uint32_t flows;		/* flows of the table with this src, > 0 */
	uint8_t pad[4];
};

struct sp_flow_table {
	struct sp_table *table;		/* records: struct sp_flow */
	struct sp_flow_timeouts timeouts; /* s: as configured */
	struct sp_table *sources;	/* struct flow_source, or NULL
					   without a per-source limit */
	uint32_t per_source;		/* flows per source, 0 = no limit */
	uint8_t source_secret[16];	/* SipHash key of sources: the
					   table's, its first byte changed */
};

/* A flow leaves the table (any reason): its source holds one less. */
static void
flow_released(void *rec, void *arg)
{
	const struct sp_flow *f = rec;
	struct sp_flow_table *t = arg;
	struct flow_source *fs;

	if (t->sources == NULL)
		return;
	fs = sp_table_lookup(t->sources, f->key.src);
	if (fs != NULL && --fs->flows == 0)
		sp_table_kill(t->sources, fs);
}

struct sp_flow_timeouts
sp_flow_timeouts_default(void)
{
	struct sp_flow_timeouts to = {
		.tcp_established_s = 7200,
		.tcp_s = 120,
		.udp_s = 60,
		.other_s = 60,
		.linger_s = 10,
	};

	return to;
}

struct sp_flow_key
sp_flow_key_5tuple(const uint8_t src[16], const uint8_t dst[16],
    uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct sp_flow_key k;

	memset(&k, 0, sizeof(k));
	memcpy(k.src, src, sizeof(k.src));
	memcpy(k.dst, dst, sizeof(k.dst));
	k.proto = proto;
	k.sport = sport;
	k.dport = dport;
	k.kind = SP_FLOW_5TUPLE;
	return k;
}

struct sp_flow_key
sp_flow_key_3tuple(const uint8_t src[16], const uint8_t dst[16],
    uint32_t label)
{
	struct sp_flow_key k;

	memset(&k, 0, sizeof(k));
	memcpy(k.src, src, sizeof(k.src));
	memcpy(k.dst, dst, sizeof(k.dst));
	k.label = label & 0xfffff;
	k.kind = SP_FLOW_3TUPLE;
	return k;
}

struct sp_flow_key
sp_flow_key_reverse(const struct sp_flow_key *key)
{
	struct sp_flow_key k = *key;

	memcpy(k.src, key->dst, sizeof(k.src));
	memcpy(k.dst, key->src, sizeof(k.dst));
	k.sport = key->dport;
	k.dport = key->sport;
	memset(k.pad, 0, sizeof(k.pad));
	return k;
}

static bool
flow_is_tcp(const struct sp_flow *f)
{
	return f->key.kind == SP_FLOW_5TUPLE && f->key.proto == SP_NH_TCP;
}

/* The timeout class of a flow in its current state. */
static unsigned
flow_class(const struct sp_flow *f)
{
	if (f->state == SP_FLOW_CLOSING)
		return CLS_LINGER;
	if (flow_is_tcp(f))
		return f->state == SP_FLOW_ESTABLISHED ? CLS_TCP_ESTABLISHED :
		    CLS_TCP;
	if (f->key.kind == SP_FLOW_5TUPLE && f->key.proto == SP_NH_UDP)
		return CLS_UDP;
	return CLS_OTHER;
}

struct sp_flow_table *
sp_flow_table_new(size_t capacity, const struct sp_flow_timeouts *timeouts,
    const uint8_t secret[16])
{
	struct sp_flow_table *t;
	struct sp_flow_timeouts to;
	uint64_t ttl_ms[CLS_COUNT];

	to = timeouts != NULL ? *timeouts : sp_flow_timeouts_default();
	ttl_ms[CLS_TCP_ESTABLISHED] = (uint64_t)to.tcp_established_s * 1000;
	ttl_ms[CLS_TCP] = (uint64_t)to.tcp_s * 1000;
	ttl_ms[CLS_UDP] = (uint64_t)to.udp_s * 1000;
	ttl_ms[CLS_OTHER] = (uint64_t)to.other_s * 1000;
	ttl_ms[CLS_LINGER] = (uint64_t)to.linger_s * 1000;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->timeouts = to;
	memcpy(t->source_secret, secret, 16);
	t->source_secret[0] ^= 0x5a;
	t->table = sp_table_new(capacity, sizeof(struct sp_flow),
	    offsetof(struct sp_flow, key), sizeof(struct sp_flow_key), ttl_ms,
	    CLS_COUNT, secret);
	if (t->table == NULL) {
		free(t);
		return NULL;
	}
	/* Flows that completed a handshake are retired last. */
	sp_table_set_rank(t->table, CLS_TCP_ESTABLISHED, 1);
	sp_table_set_release(t->table, flow_released, t);
	return t;
}

static int
flow_count_source(void *rec, void *arg)
{
	const struct sp_flow *f = rec;
	struct sp_flow_table *t = arg;
	struct flow_source *fs;

	fs = sp_table_insert(t->sources, f->key.src, 0, 0, NULL);
	if (fs != NULL)
		fs->flows++;
	return 0;
}

int
sp_flow_table_set_source_limit(struct sp_flow_table *t, uint32_t max)
{
	uint64_t never = UINT64_MAX;

	if (max != 0 && t->sources == NULL) {
		t->sources = sp_table_new(sp_table_capacity(t->table),
		    sizeof(struct flow_source),
		    offsetof(struct flow_source, src), 16, &never, 1,
		    t->source_secret);
		if (t->sources == NULL)
			return -1;
		sp_table_foreach(t->table, flow_count_source, t);
	}
	t->per_source = max;
	return 0;
}

size_t
sp_flow_source_count(struct sp_flow_table *t, const uint8_t src[16])
{
	const struct flow_source *fs;

	if (t->sources == NULL)
		return 0;
	fs = sp_table_lookup(t->sources, src);
	return fs != NULL ? fs->flows : 0;
}

void
sp_flow_table_free(struct sp_flow_table *t)
{
	if (t == NULL)
		return;
	sp_table_set_release(t->table, NULL, NULL);
	sp_table_free(t->table);
	sp_table_free(t->sources);
	free(t);
}

uint64_t
sp_flow_hash(const struct sp_flow_table *t, const struct sp_flow_key *key)
{
	return sp_table_hash(t->table, key);
}

struct sp_flow *
sp_flow_lookup(struct sp_flow_table *t, const struct sp_flow_key *key)
{
	return sp_table_lookup(t->table, key);
}

struct sp_flow *
sp_flow_lookup_hashed(struct sp_flow_table *t, const struct sp_flow_key *key,
    uint64_t hash)
{
	return sp_table_lookup_hashed(t->table, key, hash);
}

struct sp_flow *
sp_flow_insert(struct sp_flow_table *t, const struct sp_flow_key *key,
    uint64_t now_ms, bool *retired)
{
	return sp_flow_insert_hashed(t, key, sp_table_hash(t->table, key),
	    now_ms, retired);
}

struct sp_flow *
sp_flow_insert_hashed(struct sp_flow_table *t, const struct sp_flow_key *key,
    uint64_t hash, uint64_t now_ms, bool *retired)
{
	struct sp_flow *f;
	bool gone = false;
	unsigned cls;

	if (retired != NULL)
		*retired = false;
	if ((f = sp_table_lookup_hashed(t->table, key, hash)) != NULL)
		return f;
	/* The per-source limit, before anything is retired for it. */
	if (t->per_source != 0 &&
	    sp_flow_source_count(t, key->src) >= t->per_source)
		return NULL;
	/* A new flow: NEW state, the class of its protocol. */
	if (key->kind == SP_FLOW_5TUPLE && key->proto == SP_NH_TCP)
		cls = CLS_TCP;
	else if (key->kind == SP_FLOW_5TUPLE && key->proto == SP_NH_UDP)
		cls = CLS_UDP;
	else
		cls = CLS_OTHER;
	f = sp_table_insert_hashed(t->table, key, hash, now_ms, cls, &gone);
	if (t->sources != NULL) {
		/* After the insert: a flow retired for it left its source. */
		struct flow_source *fs = sp_table_insert(t->sources, key->src,
		    now_ms, 0, NULL);

		if (fs != NULL)
			fs->flows++;
	}
	f->created_ms = now_ms;
	f->last_ms = now_ms;
	f->state = SP_FLOW_NEW;
	if (retired != NULL)
		*retired = gone;
	return f;
}

/* The TCP state machine of sp_flow_update() (see flow.h). */
static void
flow_tcp(struct sp_flow *f, int dir, uint8_t flags)
{
	bool syn = (flags & SP_TCP_SYN) != 0, ack = (flags & SP_TCP_ACK) != 0;

	if (flags & SP_TCP_RST) {
		/* LSNAT §2.4: "either half sets RST". */
		f->state = SP_FLOW_CLOSING;
		return;
	}
	switch (f->state) {
	case SP_FLOW_CLOSING:
		/* The originator opens a new session on the same tuple. */
		if (dir == SP_FLOW_ORIG && syn && !ack) {
			f->state = SP_FLOW_SYN_SENT;
			f->fin_seen = 0;
		}
		return;
	case SP_FLOW_NEW:
		if (syn && dir == SP_FLOW_ORIG && !ack)
			f->state = SP_FLOW_SYN_SENT;
		else if (syn && dir == SP_FLOW_REPLY)
			f->state = SP_FLOW_SYN_RECV;
		else if (!syn && dir == SP_FLOW_REPLY)
			f->state = SP_FLOW_ESTABLISHED;
		/* A mid-stream packet from the originator proves nothing. */
		break;
	case SP_FLOW_SYN_SENT:
		if (syn && dir == SP_FLOW_REPLY)
			f->state = SP_FLOW_SYN_RECV;
		else if (!syn && (ack || dir == SP_FLOW_REPLY))
			f->state = SP_FLOW_ESTABLISHED;
		break;
	case SP_FLOW_SYN_RECV:
		/* The first ACK after both SYNs. */
		if (!syn && (ack || dir == SP_FLOW_REPLY))
			f->state = SP_FLOW_ESTABLISHED;
		break;
	case SP_FLOW_ESTABLISHED:
		break;
	default:
		/* Not a state of ours (caller wrote it): start over. */
		f->state = SP_FLOW_NEW;
		break;
	}
	if (flags & SP_TCP_FIN) {
		/* LSNAT §2.4: FIN from both halves ends the session. */
		f->fin_seen |= dir == SP_FLOW_ORIG ? SP_FLOW_FIN_ORIG :
		    SP_FLOW_FIN_REPLY;
		if ((f->fin_seen & (SP_FLOW_FIN_ORIG | SP_FLOW_FIN_REPLY)) ==
		    (SP_FLOW_FIN_ORIG | SP_FLOW_FIN_REPLY))
			f->state = SP_FLOW_CLOSING;
	}
}

void
sp_flow_update(struct sp_flow_table *t, struct sp_flow *f, uint64_t now_ms,
    int dir, uint8_t tcp_flags, size_t bytes)
{
	dir = dir == SP_FLOW_ORIG ? SP_FLOW_ORIG : SP_FLOW_REPLY;
	f->packets[dir]++;
	f->bytes[dir] += bytes;
	f->last_ms = now_ms;
	if (flow_is_tcp(f))
		flow_tcp(f, dir, tcp_flags);
	else if (dir == SP_FLOW_REPLY && f->state == SP_FLOW_NEW)
		f->state = SP_FLOW_ESTABLISHED;
	/* Restart the idle timer, in the class of the new state. */
	sp_table_touch(t->table, f, now_ms, flow_class(f));
}

void
sp_flow_kill(struct sp_flow_table *t, const struct sp_flow *f)
{
	sp_table_kill(t->table, f);
}

size_t
sp_flow_expire(struct sp_flow_table *t, uint64_t now_ms, size_t max)
{
	return sp_table_expire(t->table, now_ms, max);
}

size_t
sp_flow_count(const struct sp_flow_table *t)
{
	return sp_table_count(t->table);
}

struct flow_walk {
	int (*fn)(const struct sp_flow *, void *);
	void *arg;
};

static int
flow_walk_one(void *rec, void *arg)
{
	struct flow_walk *w = arg;

	return w->fn(rec, w->arg);
}

void
sp_flow_foreach(struct sp_flow_table *t,
    int (*fn)(const struct sp_flow *, void *), void *arg)
{
	struct flow_walk w = { .fn = fn, .arg = arg };

	sp_table_foreach(t->table, flow_walk_one, &w);
}

size_t
sp_flow_walk(struct sp_flow_table *t, size_t *cursor, size_t max,
    int (*fn)(const struct sp_flow *, void *), void *arg)
{
	struct flow_walk w = { .fn = fn, .arg = arg };

	return sp_table_walk(t->table, cursor, max, flow_walk_one, &w);
}

bool
sp_flow_walk_done(const struct sp_flow_table *t, size_t cursor)
{
	return cursor >= sp_table_capacity(t->table);
}

size_t
sp_flow_entry_bytes(void)
{
	return sp_table_entry_bytes(sizeof(struct sp_flow));
}

const char *
sp_flow_state_name(unsigned state)
{
	static const char *const names[] = {
		[SP_FLOW_NEW] = "new",
		[SP_FLOW_SYN_SENT] = "syn-sent",
		[SP_FLOW_SYN_RECV] = "syn-recv",
		[SP_FLOW_ESTABLISHED] = "established",
		[SP_FLOW_CLOSING] = "closing",
	};

	if (state >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[state];
}
