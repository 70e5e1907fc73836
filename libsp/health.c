/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * health.c -- one server's health state machine: active checks with
 * rise / fall, passive detection of unanswered new sessions and the
 * dead-retry pause (LSNAT §6).  See sp/health.h for the states.
 */
#include <string.h>

#include <sp/health.h>

static const char *const state_names[] = {
	[SP_HEALTH_UP] = "up",
	[SP_HEALTH_DOWN] = "down",
	[SP_HEALTH_RETRY] = "retry",
};

static const char *const reason_names[] = {
	[SP_HEALTH_REASON_START] = "start",
	[SP_HEALTH_REASON_ACTIVE] = "active",
	[SP_HEALTH_REASON_PASSIVE] = "passive",
};

static uint32_t
inc_sat(uint32_t n)
{
	return n == UINT32_MAX ? n : n + 1;
}

/*
 * Enter state s for reason r.  Suspicion is cleared on every change:
 * sessions bound before it say nothing about the server after it.  A
 */
static void
health_set(struct sp_health *h, enum sp_health_state s,
    enum sp_health_reason r, uint64_t now_ms)
{
	h->state = s;
	h->reason = r;
	h->changed_ms = now_ms;
	h->unanswered = 0;
	h->unanswered_since_ms = 0;
}

void
sp_health_configure(struct sp_health *h, const struct sp_conf_check *check,
    uint32_t dead_retry_ms, uint32_t passive_timeout_ms)
{
	if (check != NULL && check->type != SP_CONF_CHECK_NONE) {
		h->type = check->type;
		h->interval_ms = check->interval_ms;
		h->timeout_ms = check->timeout_ms;
		/* The parser keeps them >= 1; 0 would never move. */
		h->rise = check->rise > 0 ? check->rise : 1;
		h->fall = check->fall > 0 ? check->fall : 1;
	} else {
		h->type = SP_CONF_CHECK_NONE;
		h->interval_ms = 0;
		h->timeout_ms = 0;
		h->rise = 1;
		h->fall = 1;
	}
	h->dead_retry_ms = dead_retry_ms;
	h->passive_timeout_ms = passive_timeout_ms;
	if (passive_timeout_ms == 0) {
		h->unanswered = 0;
		h->unanswered_since_ms = 0;
	}
}

void
sp_health_init(struct sp_health *h, const struct sp_conf_check *check,
    uint32_t dead_retry_ms, uint32_t passive_timeout_ms, uint64_t now_ms)
{
	memset(h, 0, sizeof(*h));
	sp_health_configure(h, check, dead_retry_ms, passive_timeout_ms);
	h->state = SP_HEALTH_UP;
	h->reason = SP_HEALTH_REASON_START;
	h->changed_ms = now_ms;
	h->next_probe_ms = now_ms;
	h->rtt_us = SP_HEALTH_RTT_UNKNOWN;
}

bool
sp_health_probe_due(const struct sp_health *h, uint64_t now_ms)
{
	return h->type != SP_CONF_CHECK_NONE && now_ms >= h->next_probe_ms;
}

void
sp_health_probe_sent(struct sp_health *h, uint64_t now_ms)
{
	h->next_probe_ms = now_ms + h->interval_ms;
}

bool
sp_health_probe_result(struct sp_health *h, bool ok, uint32_t rtt_us,
    uint64_t now_ms)
{
	bool was_up = sp_health_up(h);

	h->probes++;
	if (ok) {
		h->rtt_us = rtt_us;
		h->failures = 0;
		h->successes = inc_sat(h->successes);
		if (h->state != SP_HEALTH_UP && h->successes >= h->rise)
			health_set(h, SP_HEALTH_UP, SP_HEALTH_REASON_ACTIVE,
			    now_ms);
	} else {
		h->probe_failures++;
		h->successes = 0;
		h->failures = inc_sat(h->failures);
		if (h->state != SP_HEALTH_DOWN && h->failures >= h->fall)
			health_set(h, SP_HEALTH_DOWN, SP_HEALTH_REASON_ACTIVE,
			    now_ms);
	}
	return was_up != sp_health_up(h);
}

void
sp_health_session_new(struct sp_health *h, uint64_t now_ms)
{
	if (h->passive_timeout_ms == 0)
		return;
	if (h->unanswered == 0)
		h->unanswered_since_ms = now_ms;
	h->unanswered = inc_sat(h->unanswered);
}

void
sp_health_session_answered(struct sp_health *h, uint64_t now_ms)
{
	h->unanswered = 0;
	h->unanswered_since_ms = 0;
	if (h->state == SP_HEALTH_RETRY)
		health_set(h, SP_HEALTH_UP, SP_HEALTH_REASON_PASSIVE, now_ms);
}

bool
sp_health_tick(struct sp_health *h, uint64_t now_ms)
{
	switch (h->state) {
	case SP_HEALTH_UP:
	case SP_HEALTH_RETRY:
		if (h->passive_timeout_ms == 0 || h->unanswered == 0 ||
		    now_ms < h->unanswered_since_ms + h->passive_timeout_ms)
			return false;
		h->passive_downs++;
		/* A fresh run of successes is needed to come back. */
		h->successes = 0;
		health_set(h, SP_HEALTH_DOWN, SP_HEALTH_REASON_PASSIVE,
		    now_ms);
		return true;
	case SP_HEALTH_DOWN:
		/* No probe can bring it back: the pause does. */
		if (h->type != SP_CONF_CHECK_NONE ||
		    now_ms < h->changed_ms + h->dead_retry_ms)
			return false;
		health_set(h, SP_HEALTH_RETRY, SP_HEALTH_REASON_PASSIVE,
		    now_ms);
		return true;
	default:
		/* Corrupt: leave it alone, the name says "unknown". */
		return false;
	}
}

bool
sp_health_up(const struct sp_health *h)
{
	return h->state == SP_HEALTH_UP || h->state == SP_HEALTH_RETRY;
}

const char *
sp_health_state_name(const struct sp_health *h)
{
	if ((unsigned)h->state >= sizeof(state_names) / sizeof(state_names[0]))
		return "unknown";
	return state_names[h->state];
}

const char *
sp_health_reason_name(const struct sp_health *h)
{
	if ((unsigned)h->reason >=
	    sizeof(reason_names) / sizeof(reason_names[0]))
		return "unknown";
	return reason_names[h->reason];
}
