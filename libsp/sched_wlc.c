/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sched_wlc.c -- least weighted load first (LSNAT §5.1 #4).  A
 * server's load is the sum of the session weights of its sessions
 * (the caller adds a session's weight, set per service port, when it
 * binds one: FTP 5, telnet 1 in the draft's example), and the server
 * chosen is the eligible one with the least load per unit of its own
 * weight (capacity).
 *
 * The rule, chosen among two: least (load + w) / weight, where w is the
 * new session's weight -- the load each server would carry once it has
 * the new session.  The draft's worked example ranks the loads as they
 * stand, load / weight; both rank a pool of equal-weight servers the
 * same, but only the first one sees that a heavy session weighs less on
 * a big server: an idle weight-1 and an idle weight-3 server tie under
 * load / weight, while (0 + 5)/1 > (0 + 5)/3 sends an FTP session to
 * the big one.  With session_weight 0 the rule is exactly the draft's.
 * On the draft's example both agree (see check_sched.c): S1 weight 1
 * with one FTP and one telnet session (load 6), S3 weight 3 with two
 * FTP and five telnet sessions (load 15): 15/3 = 5 < 6/1, and with the
 * new telnet session 16/3 < 7/1, so S3 takes it.
 *
 * Compared exactly (no floats, no overflow); ties round-robin.
 */
#include <sp/sched.h>

#include "sched_ops.h"

/* load + w, saturated: a counter at its limit stays the largest. */
static uint64_t
wlc_after(const struct sp_sched_server *srv, const struct sp_sched_req *req)
{
	uint64_t w = req->session_weight;

	return srv->load > UINT64_MAX - w ? UINT64_MAX : srv->load + w;
}

static int
wlc_cmp(const struct sp_sched_server *x, const struct sp_sched_server *y,
    const struct sp_sched_req *req)
{
	return sp_sched_ratio_cmp(wlc_after(x, req), sp_sched_weight(x),
	    wlc_after(y, req), sp_sched_weight(y));
}

static int
wlc_pick(void *state, const struct sp_sched_server *srv, size_t n,
    const struct sp_sched_req *req, const uint8_t key[16])
{
	(void)key;
	return sp_sched_least(state, srv, n, req, wlc_cmp, NULL);
}

const struct sp_sched_ops sp_sched_wlc_ops = {
	.name = "wlc",
	.state_size = sizeof(struct sp_sched_cursor),
	.update = NULL,
	.pick = wlc_pick,
	.release = NULL,
};
