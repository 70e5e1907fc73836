/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tcp.c -- the tcp probe: connect to [server]:port, non-blocking;
 * success once connected.  An http probe starts the same way and goes
 * on in http.c once connected.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "checks/probe.h"
#include "system/log.h"

static void
tcp_connected(struct checks *h, struct probe *p)
{
	if (p->type == SP_CONF_CHECK_TCP)
		probe_succeed(h, p);
	else
		http_send(h, p);
}

void
tcp_start(struct checks *h, struct probe *p)
{
	struct sockaddr_in6 sin6;

	p->start_us = sp_now_us();
	p->deadline_us = p->start_us + (uint64_t)p->timeout_ms * 1000;
	p->fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    IPPROTO_TCP);
	if (p->fd == -1) {
		probe_fail(h, p, "socket", errno);
		return;
	}
	h->open++;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(p->port);
	memcpy(&sin6.sin6_addr, p->addr, 16);
	if (connect(p->fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0) {
		tcp_connected(h, p);
		return;
	}
	if (errno != EINPROGRESS) {
		probe_fail(h, p, "connect", errno);
		return;
	}
	p->phase = PROBE_CONNECTING;
}

void
tcp_ready(struct checks *h, struct probe *p, short revents)
{
	int err = 0;
	socklen_t len = sizeof(err);

	switch (p->phase) {
	case PROBE_CONNECTING:
		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			probe_fail(h, p, "connect", err);
			return;
		}
		if (revents & (POLLOUT | POLLERR | POLLHUP))
			tcp_connected(h, p);
		return;
	case PROBE_SENDING:
		http_send(h, p);
		return;
	case PROBE_READING:
		http_read(h, p);
		return;
	case PROBE_WAITING:
	case PROBE_ECHO:
	case PROBE_DONE:
	default:
		log_warnx("health checks: socket event in phase %d",
		    (int)p->phase);
		probe_fail(h, p, "internal", 0);
		return;
	}
}
