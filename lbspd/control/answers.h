/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * answers.h -- the control commands' answers, described through struct
 * pr (print.h) from narrow inputs: figures and table rows the command
 * copied or points to, and the time, passed in.  No daemon, no lock,
 * no clock here: commands.c gathers, these describe, and the unit tests
 * (tests/unit/check_print.c) feed them fixed inputs and compare the
 * text and JSON with golden strings.
 *
 * The shapes are the contract written at the top of commands.c.
 */
#ifndef LBSPD_ANSWERS_H
#define LBSPD_ANSWERS_H

#include <stdbool.h>
#include <stdint.h>

#include <sp/cache.h>
#include <sp/conf.h>
#include <sp/flow.h>
#include <sp/stick.h>

#include "lbspd.h"

struct pr;
struct proc_nfq;

/* What the stats answer says, gathered by the command. */
struct answer_stats {
	const char *version;		/* lbspd's */
	uint64_t uptime_s;		/* seconds since start */
	unsigned roles;			/* SP_CONF_ROLE_* bits */
	unsigned queue_first;		/* configured NFQUEUE queues */
	unsigned queue_count;
	enum sp_conf_identity identity_mode;
	uint8_t identity[16];		/* random / literal modes only */
	const struct lbspd_paths *paths;
	const struct lbspd_stats *stats;	/* counters, read relaxed */
	uint64_t flows, flows_max;	/* flow table entries, maximum */
	uint64_t cache, cache_max;	/* client cache entries, maximum */
	bool balancer;			/* the balancer role runs: */
	uint64_t vips;			/* its vips, */
	uint64_t servers_up;		/* servers up (or retry), */
	uint64_t servers_total;		/* all servers, */
	uint64_t stick, stick_max;	/* stick entries, maximum */
	const struct proc_nfq *queue;	/* the kernel's figures of queues */
	unsigned nqueue;		/* queue_first.. queue_first+nqueue-1 */
	uint64_t control_requests;	/* control connections served */
	uint64_t control_errors;	/* "error:" answers sent */
	/* Objects owned elsewhere, printed in their place; NULL: none. */
	void (*datapath)(struct pr *p, void *arg);	/* after
					   insert_paths: tc.c's */
	void *datapath_arg;
	void (*metrics)(struct pr *p);	/* last: metrics.c's */
};

/* answer_stats - the whole stats object. */
void answer_stats(struct pr *p, const struct answer_stats *s);

/*
 * answer_none - a value that is unknown or does not apply: "-" in text,
 * absent in JSON (pr has no null; leaving the member out keeps every
 * member's type fixed, and jq's .key or Python's dict.get still give
 * null).
 */
void answer_none(struct pr *p, const char *key);

/* Rows of the flows, cache and stick arrays, ages against now_ms. */
void answer_flow(struct pr *p, const struct sp_flow *f, uint64_t now_ms);
void answer_cache(struct pr *p, const struct sp_cache_entry *e,
    uint64_t now_ms);
void answer_stick(struct pr *p, const struct sp_stick_entry *e,
    uint64_t now_ms);

/*
 * answer_blackhole - a vip the client role marked option-blackholed, a
 * row of the cache answer: "option-blackholed" until until_ms, then
 * "option-probe" (ttl_s rounded up: 0 only once the mark is over).
 */
void answer_blackhole(struct pr *p, const struct lbspd_blackhole *b,
    uint64_t now_ms);

/* One server of a vip as the servers, drain, enable and weight
 * answers show it: copied out of the balancer's state by the command. */
struct answer_server {
	uint8_t addr[16];
	const char *state;		/* sp_health_state_name() */
	const char *reason;		/* sp_health_reason_name() */
	bool eligible;			/* may take new sessions now */
	bool drain;			/* drained (config or lbspctl) */
	uint64_t weight;		/* 1..1000 */
	uint64_t cost;
	bool has_backup;		/* backup is its backup */
	uint8_t backup[16];
	uint64_t sessions;		/* bound now */
	uint64_t sessions_total;	/* ever bound */
	uint64_t packets;		/* balanced to it */
	uint64_t bytes;			/* balanced to it */
	bool rtt_known;			/* a probe succeeded: rtt_us */
	uint64_t rtt_us;		/* last probe's round trip, us */
};

/*
 * The servers answer: every vip with its scheduler and its servers,
 * described row by row, so that no copy of the whole state is needed:
 *   answer_servers_open(p);
 *   for each vip: answer_vip_open(p, addr, scheduler);
 *                 for each server: answer_server(p, &row);
 *                 answer_vip_close(p);
 *   answer_servers_close(p);
 * JSON: an array of { vip, scheduler, servers: [...] }; text, whose
 * table rows hold scalars only: one "vip ADDR:" heading per vip over
 * its scheduler and its servers' table.
 */
void answer_servers_open(struct pr *p);
void answer_vip_open(struct pr *p, const uint8_t vip[16],
    const char *scheduler);
void answer_server(struct pr *p, const struct answer_server *s);
void answer_vip_close(struct pr *p);
void answer_servers_close(struct pr *p);

/* answer_server_change - the answer of drain, enable and weight: the
 * server of vip as it is now. */
void answer_server_change(struct pr *p, const uint8_t vip[16],
    const struct answer_server *s);

#endif /* LBSPD_ANSWERS_H */
