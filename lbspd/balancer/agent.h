/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent.h -- load reports from lbsp-agent to the balancer (doc/design.md
 * §3.4 "agent-reported load", LSNAT §5.1: "an agent software on each
 * node would notify ... on resource availability").
 *
 * One UDP datagram of text, at most AGENT_MSG_MAX bytes:
 *
 *   lbsp-agent 1 SERVER LOAD SEQ MAC\n
 *
 *   SERVER  the server's IPv6 address the report is about
 *   LOAD    its load, per mille of capacity, 0..1000
 *   SEQ     the agent's counter (decimal), for logs
 *   MAC     16 hex digits: SipHash-2-4 under the balancer's hash-key of
 *           everything before " MAC", or "-" when no key is shared
 *
 * The balancer takes a report only from the server's own address and,
 * when it has a hash-key, only with a valid MAC.
 */
#ifndef LBSPD_AGENT_H
#define LBSPD_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGENT_MSG_MAX	160	/* bytes in a report, at most */
#define AGENT_STALE_MS	10000	/* a load older than this is unknown */

struct lbspd;

/* Shared by both ends: the MAC of text[0..len) under key. */
uint64_t agent_mac(const uint8_t key[16], const char *text, size_t len);

/* Daemon side (agent.c). */
int agent_init(struct lbspd *d);	/* as root: bind the UDP port */
int agent_start(struct lbspd *d);	/* after the drop: the thread */
void agent_stop(void);

#endif
