/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * probe.h -- what the check engine (engine.c) and its probes (tcp.c,
 * http.c, icmp.c) share: one probe in flight and the engine's state.
 * Private to lbspd/checks/.
 */
#ifndef LBSPD_CHECKS_PROBE_H
#define LBSPD_CHECKS_PROBE_H

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf_priv.h"
#include "lbspd.h"

#define CHECKS_STATUS_MAX	1024	/* bytes of an HTTP status line */
#define CHECKS_LINE_KEEP	32	/* bytes of it kept to parse the code */
#define CHECKS_ECHO_DATA	"lbspdchk"	/* echo payload, 8 bytes */
#define CHECKS_SEQS		65536	/* echo sequence numbers */

enum probe_phase {
	PROBE_WAITING,		/* tcp / http: no socket yet (no slot) */
	PROBE_CONNECTING,	/* connect() in progress: POLLOUT */
	PROBE_SENDING,		/* http: request partly sent: POLLOUT */
	PROBE_READING,		/* http: status line expected: POLLIN */
	PROBE_ECHO,		/* icmp: echo request sent, reply awaited */
	PROBE_DONE,		/* result ready to post */
};

/* One probe: a copy of what it needs, and its progress. */
struct probe {
	unsigned vi, si;	/* vip and server index when collected */
	uint8_t vip[16];	/* their addresses, to find them again */
	uint8_t addr[16];
	enum sp_conf_check_type type;
	uint16_t port;		/* tcp / http: host order */
	uint16_t expect;	/* http: status code wanted */
	uint32_t timeout_ms;
	enum probe_phase phase;
	int fd;			/* tcp / http socket, or -1 */
	uint16_t seq;		/* icmp: echo sequence number */
	bool ok;		/* succeeded (when DONE) */
	bool local;		/* failed for a local reason: not posted */
	const char *why;	/* failure, for the debug log */
	int err;		/* errno of the failure, -status, or 0 */
	uint64_t start_us;	/* monotonic, µs */
	uint64_t deadline_us;	/* start + timeout, µs */
	uint32_t rtt_us;	/* start to success, µs */
	size_t sent;		/* http: request bytes sent */
	size_t got;		/* http: status line bytes read */
	char line[CHECKS_LINE_KEEP];	/* http: start of the status line */
	char path[SP_CONF_HTTP_PATH_SIZE];	/* http: GET path */
};

/* A state change, logged once the lock is released. */
struct checks_event {
	uint8_t vip[16];
	uint8_t addr[16];
	bool up;
	const char *why;	/* reason or state name, static */
};

/* The engine.  Arrays grow with the configuration (no fixed cap). */
struct checks {
	struct lbspd *d;
	pthread_t thread;
	bool running;		/* thread started */
	_Atomic bool stop;	/* checks_stop asked */
	int icmp_fd;		/* raw ICMPv6 socket, or -1 */
	int wake_fd;		/* eventfd: checks_stop wakes poll() */
	bool icmp_warned;	/* "no icmp socket" said once */
	uint16_t icmp_id;	/* echo identifier, random */
	uint16_t icmp_seq;	/* next echo sequence number */
	unsigned slots;		/* sockets open at once, at most */
	unsigned open;		/* sockets open now */
	size_t nprobes;		/* entries used in probes */
	size_t cap;		/* room in probes, pfd, pfd_probe */
	struct probe *probes;
	/* icmp: probe index + 1 by echo sequence number, 0 = none. */
	uint32_t echo_probe[CHECKS_SEQS];
	/* poll set: wake_fd, icmp_fd, sockets; map to probe or -1. */
	struct pollfd *pfd;	/* cap + 2 */
	long *pfd_probe;	/* cap + 2 */
	size_t nevents, events_cap;
	struct checks_event *events;
};

/* engine.c */
void probe_close(struct checks *h, struct probe *p);
void probe_succeed(struct checks *h, struct probe *p);
void probe_fail(struct checks *h, struct probe *p, const char *why, int err);

/* tcp.c: connect, and the socket's events (an http probe's too). */
void tcp_start(struct checks *h, struct probe *p);
void tcp_ready(struct checks *h, struct probe *p, short revents);

/* http.c: once connected, send the GET and judge the status line. */
void http_send(struct checks *h, struct probe *p);
void http_read(struct checks *h, struct probe *p);

/* icmp.c: the raw socket, echo requests and their replies. */
int icmp_open(struct checks *h);
void icmp_send(struct checks *h, struct probe *p);
void icmp_receive(struct checks *h);

#endif /* LBSPD_CHECKS_PROBE_H */
