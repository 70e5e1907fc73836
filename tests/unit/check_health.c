/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_health.c -- one server's health: rise and fall counted exactly,
 * probe timing at the interval boundary, rtt, passive detection at its
 * timeout boundary, answers clearing suspicion, the dead-retry pause and
 * probation, active and passive together, reconfiguration.
 */
#include <string.h>

#include <sp/health.h>

#include "suites.h"

#define T0	100000ULL	/* ms: an arbitrary start time */

/* A check line as the parser would give it. */
static struct sp_conf_check
check_line(enum sp_conf_check_type type, uint32_t interval_ms, uint8_t rise,
    uint8_t fall)
{
	struct sp_conf_check c;

	memset(&c, 0, sizeof(c));
	c.type = type;
	c.port = 80;
	c.expect = 200;
	c.interval_ms = interval_ms;
	c.timeout_ms = interval_ms / 2;
	c.rise = rise;
	c.fall = fall;
	strcpy(c.path, "/");
	return c;
}

/* Post n results of the same kind, each expected to change nothing. */
static void
results_quiet(struct sp_health *h, bool ok, unsigned n, uint64_t now)
{
	unsigned i;

	for (i = 0; i < n; i++)
		ck_assert(!sp_health_probe_result(h, ok, 500, now + i));
}

START_TEST(test_init)
{
	struct sp_conf_check c = check_line(SP_CONF_CHECK_TCP, 2000, 2, 3);
	struct sp_health h;

	memset(&h, 0xa5, sizeof(h));
	sp_health_init(&h, &c, 60000, 3000, T0);
	ck_assert(sp_health_up(&h));
	ck_assert_int_eq(h.state, SP_HEALTH_UP);
	ck_assert_str_eq(sp_health_state_name(&h), "up");
	ck_assert_str_eq(sp_health_reason_name(&h), "start");
	ck_assert_uint_eq(h.rtt_us, SP_HEALTH_RTT_UNKNOWN);
	ck_assert_uint_eq(h.rise, 2);
	ck_assert_uint_eq(h.fall, 3);
	ck_assert_uint_eq(h.interval_ms, 2000);
	ck_assert_uint_eq(h.timeout_ms, 1000);
	ck_assert_uint_eq(h.dead_retry_ms, 60000);
	ck_assert_uint_eq(h.passive_timeout_ms, 3000);
	ck_assert_uint_eq(h.changed_ms, T0);
	ck_assert_uint_eq(h.successes, 0);
	ck_assert_uint_eq(h.failures, 0);
	ck_assert_uint_eq(h.unanswered, 0);
	ck_assert_uint_eq(h.probes | h.probe_failures | h.passive_downs, 0);
	/* The first probe goes out at once. */
	ck_assert(sp_health_probe_due(&h, T0));
}
END_TEST

/* No check line (NULL or type none): never a probe. */
START_TEST(test_no_active_check)
{
	struct sp_conf_check c = check_line(SP_CONF_CHECK_NONE, 2000, 2, 3);
	struct sp_health h;

	sp_health_init(&h, NULL, 60000, 0, T0);
	ck_assert(sp_health_up(&h));
	ck_assert(!sp_health_probe_due(&h, T0));
	ck_assert(!sp_health_probe_due(&h, T0 + 1000000));
	sp_health_init(&h, &c, 60000, 0, T0);
	ck_assert(!sp_health_probe_due(&h, T0 + 1000000));
	/* Without passive detection nothing ever changes. */
	sp_health_session_new(&h, T0);
	ck_assert_uint_eq(h.unanswered, 0);
	ck_assert(!sp_health_tick(&h, T0 + 1000000));
	ck_assert(sp_health_up(&h));
}
END_TEST

/* fall-1 failures keep it UP, the fall-th takes it DOWN, once. */
START_TEST(test_fall_exact)
{
	struct sp_conf_check c = check_line(SP_CONF_CHECK_TCP, 2000, 2, 3);
	struct sp_health h;

	sp_health_init(&h, &c, 60000, 0, T0);
	results_quiet(&h, false, 2, T0);
	ck_assert(sp_health_up(&h));
	ck_assert_uint_eq(h.failures, 2);
	ck_assert(sp_health_probe_result(&h, false, 0, T0 + 10));
	ck_assert(!sp_health_up(&h));
	ck_assert_int_eq(h.state, SP_HEALTH_DOWN);
	ck_assert_str_eq(sp_health_state_name(&h), "down");
	ck_assert_str_eq(sp_health_reason_name(&h), "active");
	ck_assert_uint_eq(h.changed_ms, T0 + 10);
	/* Further failures change nothing more. */
	results_quiet(&h, false, 5, T0 + 20);
	ck_assert(!sp_health_up(&h));
	ck_assert_uint_eq(h.probes, 8);
	ck_assert_uint_eq(h.probe_failures, 8);

	/* fall 1: the first failure is enough. */
	c.fall = 1;
	sp_health_init(&h, &c, 60000, 0, T0);
	ck_assert(sp_health_probe_result(&h, false, 0, T0));
	ck_assert(!sp_health_up(&h));
}
END_TEST

/* A success between failures starts the count again. */
START_TEST(test_fall_reset_by_success)
{
	struct sp_conf_check c = check_line(SP_CONF_CHECK_TCP, 2000, 2, 3);
	struct sp_health h;

	sp_health_init(&h, &c, 60000, 0, T0);
	results_quiet(&h, false, 2, T0);
	results_quiet(&h, true, 1, T0 + 10);
	ck_assert_uint_eq(h.failures, 0);
	results_quiet(&h, false, 2, T0 + 20);
	ck_assert(sp_health_up(&h));
	ck_assert(sp_health_probe_result(&h, false, 0, T0 + 30));
	ck_assert(!sp_health_up(&h));
}
END_TEST

/* rise-1 successes keep it DOWN, the rise-th brings it UP. */
START_TEST(test_rise_exact)
{
	struct sp_conf_check c = check_line(SP_CONF_CHECK_HTTP, 2000, 4, 2);
	struct sp_health h;

	sp_health_init(&h, &c, 60000, 0, T0);
	results_quiet(&h, false, 1, T0);
	ck_assert(sp_health_probe_result(&h, false, 0, T0 + 1));
	ck_assert(!sp_health_up(&h));

	results_quiet(&h, true, 3, T0 + 10);
	ck_assert(!sp_health_up(&h));
	ck_assert_uint_eq(h.successes, 3);
	/* A failure now starts the successes again. */
	results_quiet(&h, false, 1, T0 + 20);
	ck_assert_uint_eq(h.successes, 0);
	results_quiet(&h, true, 3, T0 + 30);
	ck_assert(!sp_health_up(&h));
	ck_assert(sp_health_probe_result(&h, true, 700, T0 + 40));
	ck_assert(sp_health_up(&h));
	ck_assert_int_eq(h.state, SP_HEALTH_UP);
	ck_assert_str_eq(sp_health_reason_name(&h), "active");
	ck_assert_uint_eq(h.changed_ms, T0 + 40);
	/* Staying up is no change. */
	results_quiet(&h, true, 3, T0 + 50);
	/* An UP server needs no successes: one failure of two is quiet. */
	results_quiet(&h, false, 1, T0 + 60);
	ck_assert(sp_health_up(&h));
}
END_TEST

/* Due at the first call, then exactly interval after each send. */
START_TEST(test_probe_due_interval)
{
	struct sp_conf_check c = check_line(SP_CONF_CHECK_ICMP, 2000, 1, 1);
	struct sp_health h;

	sp_health_init(&h, &c, 60000, 0, T0);
	ck_assert(sp_health_probe_due(&h, T0));
	sp_health_probe_sent(&h, T0 + 5);
	ck_assert(!sp_health_probe_due(&h, T0 + 5));
	ck_assert(!sp_health_probe_due(&h, T0 + 2004));
	ck_assert(sp_health_probe_due(&h, T0 + 2005));
	ck_assert(sp_health_probe_due(&h, T0 + 9999));

	/* A DOWN server keeps being probed at the same interval. */
	ck_assert(sp_health_probe_result(&h, false, 0, T0 + 500));
	ck_assert(!sp_health_up(&h));
	sp_health_probe_sent(&h, T0 + 2005);
	ck_assert(!sp_health_probe_due(&h, T0 + 4004));
	ck_assert(sp_health_probe_due(&h, T0 + 4005));
}
END_TEST

/* rtt: unknown until a success, kept on failure, replaced on success. */
START_TEST(test_rtt)
{
	struct sp_conf_check c = check_line(SP_CONF_CHECK_TCP, 2000, 1, 2);
	struct sp_health h;

	sp_health_init(&h, &c, 60000, 0, T0);
	ck_assert(!sp_health_probe_result(&h, false, 77, T0));
	ck_assert_uint_eq(h.rtt_us, SP_HEALTH_RTT_UNKNOWN);
	ck_assert(!sp_health_probe_result(&h, true, 1234, T0 + 1));
	ck_assert_uint_eq(h.rtt_us, 1234);
	ck_assert(!sp_health_probe_result(&h, false, 99999, T0 + 2));
	ck_assert_uint_eq(h.rtt_us, 1234);
	ck_assert(!sp_health_probe_result(&h, true, 56, T0 + 3));
	ck_assert_uint_eq(h.rtt_us, 56);
	ck_assert_uint_eq(h.probes, 4);
	ck_assert_uint_eq(h.probe_failures, 2);
}
END_TEST

/* Down exactly when the oldest unanswered session is timeout old. */
START_TEST(test_passive_boundary)
{
	struct sp_health h;

	sp_health_init(&h, NULL, 60000, 3000, T0);
	ck_assert(!sp_health_tick(&h, T0 + 50000));	/* nothing pending */
	sp_health_session_new(&h, T0 + 10000);
	sp_health_session_new(&h, T0 + 12000);	/* younger: not timed */
	ck_assert_uint_eq(h.unanswered, 2);
	ck_assert_uint_eq(h.unanswered_since_ms, T0 + 10000);
	ck_assert(!sp_health_tick(&h, T0 + 12999));
	ck_assert(sp_health_up(&h));
	ck_assert(sp_health_tick(&h, T0 + 13000));
	ck_assert(!sp_health_up(&h));
	ck_assert_int_eq(h.state, SP_HEALTH_DOWN);
	ck_assert_str_eq(sp_health_reason_name(&h), "passive");
	ck_assert_uint_eq(h.passive_downs, 1);
	ck_assert_uint_eq(h.changed_ms, T0 + 13000);
	ck_assert_uint_eq(h.unanswered, 0);
	/* Down is reported once. */
	ck_assert(!sp_health_tick(&h, T0 + 13001));
}
END_TEST

/* An answer clears every pending session; the clock restarts. */
START_TEST(test_passive_answer_clears)
{
	struct sp_health h;

	sp_health_init(&h, NULL, 60000, 3000, T0);
	sp_health_session_new(&h, T0 + 10000);
	sp_health_session_new(&h, T0 + 10500);
	sp_health_session_answered(&h, T0 + 11000);
	ck_assert_uint_eq(h.unanswered, 0);
	ck_assert(!sp_health_tick(&h, T0 + 13000));
	ck_assert(!sp_health_tick(&h, T0 + 20000));
	ck_assert(sp_health_up(&h));
	ck_assert_int_eq(h.state, SP_HEALTH_UP);
	ck_assert_str_eq(sp_health_reason_name(&h), "start");

	sp_health_session_new(&h, T0 + 21000);
	ck_assert(!sp_health_tick(&h, T0 + 23999));
	ck_assert(sp_health_tick(&h, T0 + 24000));
	ck_assert(!sp_health_up(&h));
}
END_TEST

/* After the pause: probation; unanswered again -> another pause. */
START_TEST(test_dead_retry)
{
	struct sp_health h;

	sp_health_init(&h, NULL, 60000, 3000, T0);
	sp_health_session_new(&h, T0);
	ck_assert(sp_health_tick(&h, T0 + 3000));
	ck_assert(!sp_health_up(&h));
	ck_assert_uint_eq(h.changed_ms, T0 + 3000);
	ck_assert(!sp_health_tick(&h, T0 + 62999));
	ck_assert(!sp_health_up(&h));
	ck_assert(sp_health_tick(&h, T0 + 63000));
	ck_assert(sp_health_up(&h));
	ck_assert_int_eq(h.state, SP_HEALTH_RETRY);
	ck_assert_str_eq(sp_health_state_name(&h), "retry");
	ck_assert_str_eq(sp_health_reason_name(&h), "passive");
	/* Probation lasts while no session comes. */
	ck_assert(!sp_health_tick(&h, T0 + 90000));
	ck_assert(sp_health_up(&h));

	/* The retry session is not answered either: down again. */
	sp_health_session_new(&h, T0 + 90000);
	ck_assert(!sp_health_tick(&h, T0 + 92999));
	ck_assert(sp_health_tick(&h, T0 + 93000));
	ck_assert_int_eq(h.state, SP_HEALTH_DOWN);
	ck_assert_uint_eq(h.passive_downs, 2);
	ck_assert(!sp_health_tick(&h, T0 + 152999));
	ck_assert(sp_health_tick(&h, T0 + 153000));
	ck_assert_int_eq(h.state, SP_HEALTH_RETRY);

	/* This time it answers: UP for good, quietly (already eligible). */
	sp_health_session_new(&h, T0 + 160000);
	sp_health_session_answered(&h, T0 + 160100);
	ck_assert_int_eq(h.state, SP_HEALTH_UP);
	ck_assert(sp_health_up(&h));
	ck_assert(!sp_health_tick(&h, T0 + 999999));
	ck_assert_int_eq(h.state, SP_HEALTH_UP);
}
END_TEST

/* Active and passive together. */
START_TEST(test_combined)
{
	struct sp_conf_check c = check_line(SP_CONF_CHECK_TCP, 2000, 2, 3);
	struct sp_health h;

	sp_health_init(&h, &c, 60000, 3000, T0);
	/* Probes pass, yet sessions get no answer: passive wins. */
	results_quiet(&h, true, 5, T0);
	sp_health_session_new(&h, T0 + 1000);
	ck_assert(sp_health_tick(&h, T0 + 4000));
	ck_assert(!sp_health_up(&h));
	ck_assert_str_eq(sp_health_reason_name(&h), "passive");
	ck_assert_uint_eq(h.successes, 0);
	/* With an active check the pause does not bring it back... */
	ck_assert(!sp_health_tick(&h, T0 + 4000 + 60000));
	ck_assert(!sp_health_tick(&h, T0 + 4000 + 600000));
	ck_assert(!sp_health_up(&h));
	/* ... rise fresh successes do. */
	ck_assert(!sp_health_probe_result(&h, true, 300, T0 + 5000));
	ck_assert(sp_health_probe_result(&h, true, 300, T0 + 7000));
	ck_assert(sp_health_up(&h));
	ck_assert_str_eq(sp_health_reason_name(&h), "active");

	/* Failures short of fall, then a session times out: passive. */
	results_quiet(&h, false, 2, T0 + 8000);
	sp_health_session_new(&h, T0 + 9000);
	ck_assert(sp_health_tick(&h, T0 + 12000));
	ck_assert(!sp_health_up(&h));
	/* A third failure while down changes nothing. */
	results_quiet(&h, false, 1, T0 + 12500);

	/* Actively downed: suspicion is dropped, the pause is no way back. */
	sp_health_init(&h, &c, 60000, 3000, T0);
	sp_health_session_new(&h, T0 + 100);
	results_quiet(&h, false, 2, T0 + 200);
	ck_assert(sp_health_probe_result(&h, false, 0, T0 + 300));
	ck_assert_uint_eq(h.unanswered, 0);
	ck_assert(!sp_health_tick(&h, T0 + 10000000));
	ck_assert(!sp_health_up(&h));
	ck_assert_uint_eq(h.passive_downs, 0);
}
END_TEST

/* A reload keeps the state; removing the check lets the pause act. */
START_TEST(test_configure)
{
	struct sp_conf_check c = check_line(SP_CONF_CHECK_TCP, 2000, 2, 1);
	struct sp_health h;

	sp_health_init(&h, &c, 60000, 0, T0);
	ck_assert(!sp_health_probe_result(&h, true, 42, T0));
	ck_assert_uint_eq(h.rtt_us, 42);
	ck_assert(sp_health_probe_result(&h, false, 0, T0 + 100));
	ck_assert(!sp_health_up(&h));

	c.interval_ms = 5000;
	c.rise = 3;
	sp_health_configure(&h, &c, 30000, 0);
	ck_assert(!sp_health_up(&h));
	ck_assert_uint_eq(h.interval_ms, 5000);
	ck_assert_uint_eq(h.rise, 3);
	ck_assert_uint_eq(h.rtt_us, 42);
	ck_assert_uint_eq(h.probes, 2);
	sp_health_probe_sent(&h, T0 + 200);
	ck_assert(!sp_health_probe_due(&h, T0 + 5199));
	ck_assert(sp_health_probe_due(&h, T0 + 5200));

	/* Check removed: no probe will bring it back, the (new) pause
	 * counted from the fall will. */
	sp_health_configure(&h, NULL, 30000, 0);
	ck_assert(!sp_health_probe_due(&h, T0 + 99999));
	ck_assert(!sp_health_tick(&h, T0 + 30099));
	ck_assert(sp_health_tick(&h, T0 + 30100));
	ck_assert_int_eq(h.state, SP_HEALTH_RETRY);
}
END_TEST

START_TEST(test_names)
{
	struct sp_health h;

	sp_health_init(&h, NULL, 0, 0, T0);
	h.state = (enum sp_health_state)7;
	h.reason = (enum sp_health_reason)9;
	ck_assert_str_eq(sp_health_state_name(&h), "unknown");
	ck_assert_str_eq(sp_health_reason_name(&h), "unknown");
	ck_assert(!sp_health_up(&h));
	ck_assert(!sp_health_tick(&h, T0 + 1000000));
}
END_TEST

Suite *
health_suite(void)
{
	Suite *s = suite_create("health");
	TCase *tc = tcase_create("health");

	tcase_add_test(tc, test_init);
	tcase_add_test(tc, test_no_active_check);
	tcase_add_test(tc, test_fall_exact);
	tcase_add_test(tc, test_fall_reset_by_success);
	tcase_add_test(tc, test_rise_exact);
	tcase_add_test(tc, test_probe_due_interval);
	tcase_add_test(tc, test_rtt);
	tcase_add_test(tc, test_passive_boundary);
	tcase_add_test(tc, test_passive_answer_clears);
	tcase_add_test(tc, test_dead_retry);
	tcase_add_test(tc, test_combined);
	tcase_add_test(tc, test_configure);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}
