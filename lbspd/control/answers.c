/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * answers.c -- the control commands' answers from narrow inputs (see
 * answers.h).  The order of the members is the order of the text and of
 * the JSON, and the names are the contract: change them only with
 * commands.c's description, the man pages and the golden strings of
 * tests/unit/check_print.c.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>

#include "control/answers.h"
#include "control/names.h"
#include "control/print.h"
#include "system/proc.h"

void
answer_none(struct pr *p, const char *key)
{
	if (!p->json)
		pr_str(p, key, "");
}

/* now - then in whole seconds, 0 when then is not in the past. */
static uint64_t
age_s(uint64_t now_ms, uint64_t then_ms)
{
	return now_ms > then_ms ? (now_ms - then_ms) / 1000 : 0;
}

void
answer_stats(struct pr *p, const struct answer_stats *s)
{
	unsigned i;

	pr_open_object(p, NULL);
	pr_str(p, "version", s->version);
	pr_u64(p, "uptime_s", s->uptime_s);
	pr_open_array(p, "roles");
	if (s->roles & SP_CONF_ROLE_CLIENT)
		pr_str(p, NULL, "client");
	if (s->roles & SP_CONF_ROLE_SERVER)
		pr_str(p, NULL, "server");
	if (s->roles & SP_CONF_ROLE_BALANCER)
		pr_str(p, NULL, "balancer");
	pr_close_array(p);
	pr_open_array(p, "queues");
	for (i = 0; i < s->queue_count; i++)
		pr_u64(p, NULL, (uint64_t)s->queue_first + i);
	pr_close_array(p);
	pr_str(p, "identity_mode", names_identity_mode(s->identity_mode));
	if (s->identity_mode == SP_CONF_IDENTITY_RANDOM ||
	    s->identity_mode == SP_CONF_IDENTITY_LITERAL)
		pr_addr(p, "identity", s->identity);
	else
		pr_str(p, "identity", "address");

	pr_open_object(p, "insert_paths");
	pr_bool(p, "tested", s->paths->tested);
	pr_bool(p, "nfqueue", s->paths->nfqueue);
	pr_bool(p, "socket", s->paths->socket);
	pr_bool(p, "tc_ebpf", s->paths->tc_ebpf);
	pr_str(p, "detail", s->paths->detail);
	pr_close_object(p);
	if (s->datapath != NULL)
		s->datapath(p, s->datapath_arg);

	pr_open_object(p, "counters");
	for (i = 0; i < LBSPD_C__COUNT; i++)
		pr_u64(p, lbspd_counter_names[i],
		    lbspd_read(&s->stats->ctr[i]));
	pr_close_object(p);
	pr_open_object(p, "passed");
	for (i = 0; i < LBSPD_P__COUNT; i++)
		pr_u64(p, lbspd_pass_names[i], lbspd_read(&s->stats->pass[i]));
	pr_close_object(p);
	pr_open_object(p, "malformed");
	for (i = 0; i < SP_ERR__COUNT; i++)
		if (i != SP_OK)
			pr_u64(p, sp_strerror((enum sp_err)i),
			    lbspd_read(&s->stats->malformed[i]));
	pr_close_object(p);

	pr_open_object(p, "tables");
	pr_u64(p, "flows", s->flows);
	pr_u64(p, "flows_max", s->flows_max);
	pr_u64(p, "cache", s->cache);
	pr_u64(p, "cache_max", s->cache_max);
	pr_close_object(p);
	if (s->balancer) {
		pr_open_object(p, "balancer");
		pr_u64(p, "vips", s->vips);
		pr_u64(p, "servers_up", s->servers_up);
		pr_u64(p, "servers_total", s->servers_total);
		pr_u64(p, "stick", s->stick);
		pr_u64(p, "stick_max", s->stick_max);
		pr_close_object(p);
	}

	pr_open_array(p, "queue");
	for (i = 0; i < s->nqueue; i++) {
		pr_open_object(p, NULL);
		pr_u64(p, "queue", (uint64_t)s->queue_first + i);
		pr_bool(p, "bound", s->queue[i].bound);
		pr_u64(p, "queue_total", s->queue[i].queue_total);
		pr_u64(p, "queue_dropped", s->queue[i].queue_dropped);
		pr_u64(p, "user_dropped", s->queue[i].user_dropped);
		pr_u64(p, "packets", s->queue[i].packets);
		pr_close_object(p);
	}
	pr_close_array(p);

	pr_open_object(p, "control");
	pr_u64(p, "requests", s->control_requests);
	pr_u64(p, "errors", s->control_errors);
	pr_close_object(p);
	if (s->metrics != NULL)
		s->metrics(p);
	pr_close_object(p);
}

void
answer_flow(struct pr *p, const struct sp_flow *f, uint64_t now_ms)
{
	char proto[8];

	pr_open_object(p, NULL);
	pr_str(p, "proto", names_proto(proto, sizeof(proto), &f->key));
	pr_addr(p, "src", f->key.src);
	pr_u64(p, "sport", f->key.sport);
	pr_addr(p, "dst", f->key.dst);
	pr_u64(p, "dport", f->key.dport);
	pr_u64(p, "label", f->key.label);
	pr_addr(p, "identity", f->identity);
	pr_addr(p, "server", f->server);
	pr_str(p, "state", sp_flow_state_name(f->state));
	pr_u64(p, "packets_orig", f->packets[SP_FLOW_ORIG]);
	pr_u64(p, "packets_reply", f->packets[SP_FLOW_REPLY]);
	pr_u64(p, "bytes_orig", f->bytes[SP_FLOW_ORIG]);
	pr_u64(p, "bytes_reply", f->bytes[SP_FLOW_REPLY]);
	pr_u64(p, "idle_s", age_s(now_ms, f->last_ms));
	pr_close_object(p);
}

void
answer_cache(struct pr *p, const struct sp_cache_entry *e, uint64_t now_ms)
{
	pr_open_object(p, NULL);
	pr_addr(p, "vip", e->vip);
	pr_addr(p, "identity", e->identity);
	pr_addr(p, "server", e->server);
	pr_u64(p, "ttl_s", age_s(e->expire_ms, now_ms));
	if (e->state == SP_CACHE_SUSPECT) {
		pr_str(p, "state", "suspect");
		pr_str(p, "reason", names_suspect(e->reason));
		pr_u64(p, "suspect_s", age_s(now_ms, e->suspect_ms));
	} else {
		pr_str(p, "state", "ok");
		answer_none(p, "reason");
		answer_none(p, "suspect_s");
	}
	pr_close_object(p);
}

void
answer_blackhole(struct pr *p, const struct lbspd_blackhole *b,
    uint64_t now_ms)
{
	pr_open_object(p, NULL);
	pr_addr(p, "vip", b->vip);
	pr_u64(p, "ttl_s", b->until_ms > now_ms ?
	    (b->until_ms - now_ms + 999) / 1000 : 0);
	pr_str(p, "state", b->until_ms > now_ms ? "option-blackholed" :
	    "option-probe");
	pr_str(p, "reason", "syn-retransmit");
	pr_u64(p, "period_s", b->period_ms / 1000);
	pr_u64(p, "detections", b->detections);
	pr_u64(p, "blackholed_s", age_s(now_ms, b->since_ms));
	pr_close_object(p);
}

void
answer_stick(struct pr *p, const struct sp_stick_entry *e, uint64_t now_ms)
{
	pr_open_object(p, NULL);
	pr_addr(p, "vip", e->key.vip);
	pr_str(p, "kind", names_stick_kind(e->key.kind));
	pr_addr(p, "key", e->key.id);
	if (e->key.kind == SP_STICK_SRC)
		pr_u64(p, "prefix_len", e->key.label);
	else
		answer_none(p, "prefix_len");
	if (e->key.kind == SP_STICK_SRC_LABEL)
		pr_u64(p, "label", e->key.label);
	else
		answer_none(p, "label");
	pr_addr(p, "server", e->server);
	pr_u64(p, "ttl_s", age_s(e->expire_ms, now_ms));
	pr_close_object(p);
}

void
answer_server(struct pr *p, const struct answer_server *s)
{
	pr_open_object(p, NULL);
	pr_addr(p, "address", s->addr);
	pr_str(p, "state", s->state);
	pr_str(p, "reason", s->reason);
	pr_bool(p, "eligible", s->eligible);
	pr_bool(p, "drain", s->drain);
	pr_u64(p, "weight", s->weight);
	pr_u64(p, "cost", s->cost);
	if (s->has_backup)
		pr_addr(p, "backup", s->backup);
	else
		answer_none(p, "backup");
	pr_u64(p, "sessions", s->sessions);
	pr_u64(p, "sessions_total", s->sessions_total);
	pr_u64(p, "packets", s->packets);
	pr_u64(p, "bytes", s->bytes);
	/* Unknown until a probe succeeds; 0 is a measured value. */
	if (s->rtt_known)
		pr_u64(p, "rtt_us", s->rtt_us);
	else
		answer_none(p, "rtt_us");
	pr_close_object(p);
}

void
answer_servers_open(struct pr *p)
{
	if (p->json)
		pr_open_array(p, NULL);
	else
		pr_open_object(p, NULL);
}

void
answer_vip_open(struct pr *p, const uint8_t vip[16], const char *scheduler)
{
	char head[4 + INET6_ADDRSTRLEN];
	char addr[INET6_ADDRSTRLEN];

	if (p->json) {
		pr_open_object(p, NULL);
		pr_addr(p, "vip", vip);
	} else {
		if (inet_ntop(AF_INET6, vip, addr, sizeof(addr)) == NULL)
			snprintf(addr, sizeof(addr), "?");
		snprintf(head, sizeof(head), "vip %s", addr);
		pr_open_object(p, head);
	}
	pr_str(p, "scheduler", scheduler);
	pr_open_array(p, "servers");
}

void
answer_vip_close(struct pr *p)
{
	pr_close_array(p);
	pr_close_object(p);
}

void
answer_servers_close(struct pr *p)
{
	if (p->json)
		pr_close_array(p);
	else
		pr_close_object(p);
}

void
answer_server_change(struct pr *p, const uint8_t vip[16],
    const struct answer_server *s)
{
	pr_open_object(p, NULL);
	pr_addr(p, "vip", vip);
	pr_addr(p, "server", s->addr);
	pr_bool(p, "drain", s->drain);
	pr_u64(p, "weight", s->weight);
	pr_str(p, "state", s->state);
	pr_bool(p, "eligible", s->eligible);
	pr_close_object(p);
}
