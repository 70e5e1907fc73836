/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * http.c -- the http probe, once tcp.c has connected: send "GET path
 * HTTP/1.0", read the status line (at most CHECKS_STATUS_MAX bytes);
 * success when its code is the expected one.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "checks/probe.h"

/* The request of p; returns its length (< size). */
static size_t
http_request(const struct probe *p, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN], port[8] = "";
	int n;

	inet_ntop(AF_INET6, p->addr, a, sizeof(a));
	if (p->port != 80)
		snprintf(port, sizeof(port), ":%u", (unsigned)p->port);
	n = snprintf(buf, size, "GET %s HTTP/1.0\r\nHost: [%s]%s\r\n"
	    "User-Agent: lbspd-check\r\n\r\n", p->path, a, port);
	if (n < 0)
		return 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}

/*
 * Parse a status line "HTTP/x.y NNN reason": the code, or -1 when it is
 * not one.  line holds n bytes (not NUL-terminated).
 */
static int
http_status(const char *line, size_t n)
{
	size_t i = 5;
	int code;

	if (n < 5 || memcmp(line, "HTTP/", 5) != 0)
		return -1;
	while (i < n && line[i] != ' ' && i < 16)
		i++;
	if (i >= n || line[i] != ' ')
		return -1;
	i++;
	if (n - i < 3)
		return -1;
	if (line[i] < '0' || line[i] > '9' || line[i + 1] < '0' ||
	    line[i + 1] > '9' || line[i + 2] < '0' || line[i + 2] > '9')
		return -1;
	code = (line[i] - '0') * 100 + (line[i + 1] - '0') * 10 +
	    (line[i + 2] - '0');
	i += 3;
	if (i < n && line[i] != ' ' && line[i] != '\r' && line[i] != '\n')
		return -1;
	return code;
}

static void
http_judge(struct checks *h, struct probe *p)
{
	size_t n = p->got < sizeof(p->line) ? p->got : sizeof(p->line);
	int code = http_status(p->line, n);

	if (code == -1)
		probe_fail(h, p, "no status line", 0);
	else if (code != p->expect)
		probe_fail(h, p, "unexpected status", 0);
	else
		probe_succeed(h, p);
	if (code != -1 && !p->ok)
		p->err = -code;	/* shown in the debug log */
}

void
http_send(struct checks *h, struct probe *p)
{
	char req[SP_CONF_HTTP_PATH_SIZE + 128];
	size_t len = http_request(p, req, sizeof(req));
	ssize_t r;

	while (p->sent < len) {
		r = send(p->fd, req + p->sent, len - p->sent,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r == -1 && (errno == EAGAIN || errno == EINTR)) {
			p->phase = PROBE_SENDING;
			return;
		}
		if (r <= 0) {
			probe_fail(h, p, "send", errno);
			return;
		}
		p->sent += (size_t)r;
	}
	p->phase = PROBE_READING;
}

void
http_read(struct checks *h, struct probe *p)
{
	char buf[CHECKS_STATUS_MAX];
	size_t i, keep;
	ssize_t r;

	for (;;) {
		r = recv(p->fd, buf, CHECKS_STATUS_MAX - p->got, MSG_DONTWAIT);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && errno == EAGAIN)
			return;
		if (r == -1) {
			probe_fail(h, p, "recv", errno);
			return;
		}
		if (r == 0) {	/* closed: judge what came */
			http_judge(h, p);
			return;
		}
		for (i = 0; i < (size_t)r && buf[i] != '\n'; i++)
			continue;
		if (p->got < sizeof(p->line)) {
			keep = sizeof(p->line) - p->got;
			if (keep > i)
				keep = i;
			memcpy(p->line + p->got, buf, keep);
		}
		if (i < (size_t)r) {	/* end of the status line */
			p->got += i;
			http_judge(h, p);
			return;
		}
		p->got += (size_t)r;
		if (p->got >= CHECKS_STATUS_MAX) {
			probe_fail(h, p, "status line too long", 0);
			return;
		}
	}
}
