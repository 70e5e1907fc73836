/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine.c -- the health check engine (see checks.h).
 *
 * One thread.  Every HCE_TICK_MS:
 *   1. under d->admin, post the results of the probes that finished, run
 *      every server's passive clock (sp_health_tick) and refresh the
 *      vips whose servers changed; then, without the lock, log;
 *   2. under d->admin, collect the probes due (sp_health_probe_due) and
 *      mark them sent, copying what a probe needs so that no lock is
 *      held while waiting on the network; start them.
 * Between ticks, one poll() loop drives every probe in flight, each
 * bounded by its check's timeout (the configuration keeps it <= the
 * interval, so a server has at most one probe out).  Probes are not
 * bound to a tick: a vip with a 5 s timeout never holds up the 100 ms
 * pace of the others, nor the passive clocks.
 *
 * Probes leave from this host to the server's own address (normal
 * routing, no bind): they never go to a vip.
 *
 *   tcp   connect to [server]:port; success once connected.
 *   icmp  echo request on the raw socket, our id and a sequence number
 *         per probe; the reply must match id, sequence and source.
 *   http  connect, send "GET path HTTP/1.0", read the status line (at
 *         most HCE_STATUS_MAX bytes); success when its code is the
 *         expected one.
 * The round trip (µs, CLOCK_MONOTONIC) runs from the probe's start to
 * its success: connected, echo reply, or status line.
 *
 * Bounds: at most LBSPD_MAX_VIPS x LBSPD_MAX_SERVERS probes in
 * flight; at most `slots` sockets open at once (from RLIMIT_NOFILE, see
 * hce_slots), the other probes wait for a free one; every socket is
 * closed when its probe ends, at the latest at its timeout.  A probe
 * that fails for a local reason (no file descriptor, no buffer) has no
 * result posted: the server is not blamed for it, and is probed again
 * at the next interval.
 */
#include "config.h"

#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sp/conf.h>
#include <sp/health.h>
#include "conf_priv.h"
#include "balancer/balancer.h"
#include "checks/checks.h"
#include "lbspd.h"
#include "system/log.h"

#define HCE_MAX_PROBES	(LBSPD_MAX_VIPS * LBSPD_MAX_SERVERS)
#define HCE_STATUS_MAX	1024	/* bytes of an HTTP status line, at most */
#define HCE_LINE_KEEP	32	/* bytes of it kept to parse the code */
#define HCE_FD_RESERVE	256	/* descriptors left to the rest of lbspd */
#define HCE_MIN_SLOTS	16	/* sockets at once, even with a low limit */
#define HCE_ECHO_DATA	"lbspdchk"	/* echo request payload, 8 bytes */
#define HCE_SEQS	65536	/* echo sequence numbers */

enum hce_phase {
	HCE_WAITING,		/* tcp / http: no socket yet (no slot) */
	HCE_CONNECTING,		/* connect() in progress: POLLOUT */
	HCE_SENDING,		/* http: request partly sent: POLLOUT */
	HCE_READING,		/* http: status line expected: POLLIN */
	HCE_ECHO,		/* icmp: echo request sent, reply awaited */
	HCE_DONE,		/* result ready to post */
};

/* One probe: a copy of what it needs, and its progress. */
struct hce_probe {
	unsigned vi, si;	/* vip and server index when collected */
	uint8_t vip[16];	/* their addresses, to find them again */
	uint8_t addr[16];
	enum sp_conf_check_type type;
	uint16_t port;		/* tcp / http: host order */
	uint16_t expect;	/* http: status code wanted */
	uint32_t timeout_ms;
	enum hce_phase phase;
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
	char line[HCE_LINE_KEEP];	/* http: start of the status line */
};

/* A state change, logged once the lock is released. */
struct hce_event {
	uint8_t vip[16];
	uint8_t addr[16];
	bool up;
	const char *why;	/* reason or state name, static */
};

struct hce {
	struct lbspd *d;
	pthread_t thread;
	bool running;		/* thread started */
	_Atomic bool stop;	/* hce_stop asked */
	int icmp_fd;		/* raw ICMPv6 socket, or -1 */
	int wake_fd;		/* eventfd: hce_stop wakes poll() */
	bool icmp_warned;	/* "no icmp socket" said once */
	uint16_t icmp_id;	/* echo identifier, random */
	uint16_t icmp_seq;	/* next echo sequence number */
	unsigned slots;		/* sockets open at once, at most */
	unsigned open;		/* sockets open now */
	unsigned nprobes;	/* entries used in probes */
	struct hce_probe probes[HCE_MAX_PROBES];
	/* A probe is out for this (vip, server) index pair. */
	bool inflight[LBSPD_MAX_VIPS][LBSPD_MAX_SERVERS];
	/* http: the GET path of each vip, copied at collection. */
	char paths[LBSPD_MAX_VIPS][SP_CONF_HTTP_PATH_SIZE];
	/* icmp: probe index + 1 by echo sequence number, 0 = none. */
	uint16_t echo_probe[HCE_SEQS];
	/* poll set: wake_fd, icmp_fd, sockets; map to probe or -1. */
	struct pollfd pfd[HCE_MAX_PROBES + 2];
	int pfd_probe[HCE_MAX_PROBES + 2];
	unsigned nevents;
	struct hce_event events[HCE_MAX_PROBES * 2];
};

static struct hce *hce;

/* Local shortage rather than a server's fault. */
static bool
errno_local(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM || err == EAGAIN || err == EADDRNOTAVAIL ||
	    err == EINTR;
}

static const char *
check_name(enum sp_conf_check_type type)
{
	switch (type) {
	case SP_CONF_CHECK_TCP:
		return "tcp";
	case SP_CONF_CHECK_ICMP:
		return "icmp";
	case SP_CONF_CHECK_HTTP:
		return "http";
	case SP_CONF_CHECK_NONE:
		return "none";
	default:
		return "unknown";
	}
}

static void
probe_close(struct hce_probe *p)
{
	if (p->fd != -1) {
		close(p->fd);
		p->fd = -1;
		hce->open--;
	}
}

/* Success now: the round trip is read from the clock here. */
static void
probe_succeed(struct hce_probe *p)
{
	uint64_t rtt = sp_now_us() - p->start_us;

	probe_close(p);
	p->ok = true;
	p->rtt_us = rtt >= UINT32_MAX ? UINT32_MAX - 1 : (uint32_t)rtt;
	p->phase = HCE_DONE;
}

static void
probe_fail(struct hce_probe *p, const char *why, int err)
{
	probe_close(p);
	p->ok = false;
	p->local = err > 0 && errno_local(err);
	p->why = why;
	p->err = err;
	p->phase = HCE_DONE;
}

/* ---------------------------------------------------------------- setup */

static struct hce *
hce_alloc(struct lbspd *d)
{
	struct hce *h;

	if (hce != NULL)
		return hce;
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		log_warnx("health checks: out of memory");
		return NULL;
	}
	h->d = d;
	h->icmp_fd = -1;
	h->wake_fd = -1;
	if (getrandom(&h->icmp_id, sizeof(h->icmp_id), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(h->icmp_id))
		h->icmp_id = (uint16_t)(getpid() ^ sp_now_us());
	hce = h;
	return h;
}

/* Whether some vip of d has an icmp check (d->admin held). */
static bool
need_icmp(const struct lbspd *d)
{
	unsigned i;

	if (d->lb == NULL)
		return false;
	for (i = 0; i < d->lb->nvips && i < LBSPD_MAX_VIPS; i++)
		if (d->lb->vips[i].check.type == SP_CONF_CHECK_ICMP)
			return true;
	return false;
}

int
hce_init(struct lbspd *d)
{
	struct icmp6_filter filt;
	struct hce *h;
	bool icmp;
	int fd;

	if ((h = hce_alloc(d)) == NULL)
		return -1;
	pthread_mutex_lock(&d->admin);
	icmp = need_icmp(d);
	pthread_mutex_unlock(&d->admin);
	if (!icmp || h->icmp_fd != -1)
		return 0;

	fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    IPPROTO_ICMPV6);
	if (fd == -1) {
		log_warn("health checks: icmp socket");
		return -1;
	}
	/* Only echo replies reach us; the kernel fills the checksum. */
	ICMP6_FILTER_SETBLOCKALL(&filt);
	ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filt);
	if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filt,
	    sizeof(filt)) == -1) {
		log_warn("health checks: ICMP6_FILTER");
		close(fd);
		return -1;
	}
	h->icmp_fd = fd;
	log_debug("health checks: icmp socket open, echo id %u",
	    (unsigned)h->icmp_id);
	return 0;
}

/*
 * How many sockets may be open at once.  Raise the soft descriptor
 * limit towards what a full set of probes needs (no privilege needed up
 * to the hard limit), and leave HCE_FD_RESERVE to the rest of lbspd.
 */
static unsigned
hce_slots(void)
{
	struct rlimit rl;
	rlim_t want = HCE_MAX_PROBES + 2 * HCE_FD_RESERVE;
	rlim_t avail;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return HCE_MIN_SLOTS;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		struct rlimit nrl = rl;

		nrl.rlim_cur = rl.rlim_max == RLIM_INFINITY ||
		    rl.rlim_max > want ? want : rl.rlim_max;
		if (nrl.rlim_cur > rl.rlim_cur &&
		    setrlimit(RLIMIT_NOFILE, &nrl) == 0)
			rl = nrl;
	}
	if (rl.rlim_cur == RLIM_INFINITY)
		return HCE_MAX_PROBES;
	avail = rl.rlim_cur > 2 * HCE_FD_RESERVE ?
	    rl.rlim_cur - HCE_FD_RESERVE : rl.rlim_cur / 2;
	if (avail > HCE_MAX_PROBES)
		return HCE_MAX_PROBES;
	return avail < HCE_MIN_SLOTS ? HCE_MIN_SLOTS : (unsigned)avail;
}

/* ---------------------------------------------------------------- collect */

/*
 * Under d->admin: append the probes due to those in flight, mark them
 * sent.  A server whose last probe is still out is skipped (only with a
 * timeout longer than the interval, which the parser refuses).
 */
static void
hce_collect(struct hce *h, uint64_t now_ms)
{
	struct lb_state *lb = h->d->lb;
	unsigned vi, si;

	if (lb == NULL)
		return;
	for (vi = 0; vi < lb->nvips && vi < LBSPD_MAX_VIPS; vi++) {
		struct lb_vip *v = &lb->vips[vi];
		const struct sp_conf_check *c = &v->check;

		if (c->type == SP_CONF_CHECK_NONE)
			continue;
		if (c->type == SP_CONF_CHECK_ICMP && h->icmp_fd == -1) {
			if (!h->icmp_warned)
				log_warnx("health checks: icmp needs a "
				    "restart of lbspd (no icmp socket): "
				    "not probing");
			h->icmp_warned = true;
			continue;
		}
		/* After a reload, probes already out use the new path too
		 * (they build the request when connected). */
		if (c->type == SP_CONF_CHECK_HTTP) {
			memcpy(h->paths[vi], c->path, sizeof(h->paths[vi]));
			h->paths[vi][sizeof(h->paths[vi]) - 1] = '\0';
		}
		for (si = 0; si < v->nservers && si < LBSPD_MAX_SERVERS;
		    si++) {
			struct lb_server *s = &v->servers[si];
			struct hce_probe *p;

			if (h->inflight[vi][si] ||
			    !sp_health_probe_due(&s->health, now_ms) ||
			    h->nprobes >= HCE_MAX_PROBES)
				continue;
			p = &h->probes[h->nprobes++];
			memset(p, 0, sizeof(*p));
			p->vi = vi;
			p->si = si;
			memcpy(p->vip, v->addr, 16);
			memcpy(p->addr, s->s.addr, 16);
			p->type = c->type;
			p->port = c->port;
			p->expect = c->expect;
			p->timeout_ms = c->timeout_ms;
			p->fd = -1;
			p->phase = HCE_WAITING;
			h->inflight[vi][si] = true;
			sp_health_probe_sent(&s->health, now_ms);
		}
	}
}

/* ---------------------------------------------------------------- tcp, http */

static void
sin6_fill(struct sockaddr_in6 *sin6, const uint8_t addr[16], uint16_t port)
{
	memset(sin6, 0, sizeof(*sin6));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, addr, 16);
}

/* The http request of p; returns its length (< size). */
static size_t
http_request(const struct hce *h, const struct hce_probe *p, char *buf,
    size_t size)
{
	char a[INET6_ADDRSTRLEN], port[8] = "";
	int n;

	inet_ntop(AF_INET6, p->addr, a, sizeof(a));
	if (p->port != 80)
		snprintf(port, sizeof(port), ":%u", (unsigned)p->port);
	n = snprintf(buf, size, "GET %s HTTP/1.0\r\nHost: [%s]%s\r\n"
	    "User-Agent: lbspd-check\r\n\r\n", h->paths[p->vi], a, port);
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
http_judge(struct hce_probe *p)
{
	size_t n = p->got < sizeof(p->line) ? p->got : sizeof(p->line);
	int code = http_status(p->line, n);

	if (code == -1)
		probe_fail(p, "no status line", 0);
	else if (code != p->expect)
		probe_fail(p, "unexpected status", 0);
	else
		probe_succeed(p);
	if (code != -1 && !p->ok)
		p->err = -code;	/* shown in the debug log */
}

static void
http_send(struct hce *h, struct hce_probe *p)
{
	char req[SP_CONF_HTTP_PATH_SIZE + 128];
	size_t len = http_request(h, p, req, sizeof(req));
	ssize_t r;

	while (p->sent < len) {
		r = send(p->fd, req + p->sent, len - p->sent,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r == -1 && (errno == EAGAIN || errno == EINTR)) {
			p->phase = HCE_SENDING;
			return;
		}
		if (r <= 0) {
			probe_fail(p, "send", errno);
			return;
		}
		p->sent += (size_t)r;
	}
	p->phase = HCE_READING;
}

static void
http_read(struct hce_probe *p)
{
	char buf[HCE_STATUS_MAX];
	size_t i, keep;
	ssize_t r;

	for (;;) {
		r = recv(p->fd, buf, HCE_STATUS_MAX - p->got, MSG_DONTWAIT);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && errno == EAGAIN)
			return;
		if (r == -1) {
			probe_fail(p, "recv", errno);
			return;
		}
		if (r == 0) {	/* closed: judge what came */
			http_judge(p);
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
			http_judge(p);
			return;
		}
		p->got += (size_t)r;
		if (p->got >= HCE_STATUS_MAX) {
			probe_fail(p, "status line too long", 0);
			return;
		}
	}
}

static void
tcp_connected(struct hce *h, struct hce_probe *p)
{
	if (p->type == SP_CONF_CHECK_TCP)
		probe_succeed(p);
	else
		http_send(h, p);
}

static void
tcp_start(struct hce *h, struct hce_probe *p)
{
	struct sockaddr_in6 sin6;

	p->start_us = sp_now_us();
	p->deadline_us = p->start_us + (uint64_t)p->timeout_ms * 1000;
	p->fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    IPPROTO_TCP);
	if (p->fd == -1) {
		probe_fail(p, "socket", errno);
		return;
	}
	h->open++;
	sin6_fill(&sin6, p->addr, p->port);
	if (connect(p->fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0) {
		tcp_connected(h, p);
		return;
	}
	if (errno != EINPROGRESS) {
		probe_fail(p, "connect", errno);
		return;
	}
	p->phase = HCE_CONNECTING;
}

static void
tcp_ready(struct hce *h, struct hce_probe *p, short revents)
{
	int err = 0;
	socklen_t len = sizeof(err);

	switch (p->phase) {
	case HCE_CONNECTING:
		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			probe_fail(p, "connect", err);
			return;
		}
		if (revents & (POLLOUT | POLLERR | POLLHUP))
			tcp_connected(h, p);
		return;
	case HCE_SENDING:
		http_send(h, p);
		return;
	case HCE_READING:
		http_read(p);
		return;
	case HCE_WAITING:
	case HCE_ECHO:
	case HCE_DONE:
	default:
		log_warnx("health checks: socket event in phase %d",
		    (int)p->phase);
		probe_fail(p, "internal", 0);
		return;
	}
}

/* ---------------------------------------------------------------- icmp */

static void
icmp_send(struct hce *h, struct hce_probe *p)
{
	struct sockaddr_in6 sin6;
	struct icmp6_hdr echo;
	uint8_t pkt[sizeof(echo) + 8];
	ssize_t r;

	p->start_us = sp_now_us();
	p->deadline_us = p->start_us + (uint64_t)p->timeout_ms * 1000;
	p->seq = h->icmp_seq++;
	memset(&echo, 0, sizeof(echo));
	echo.icmp6_type = ICMP6_ECHO_REQUEST;
	echo.icmp6_code = 0;
	echo.icmp6_id = htons(h->icmp_id);
	echo.icmp6_seq = htons(p->seq);
	memcpy(pkt, &echo, sizeof(echo));
	memcpy(pkt + sizeof(echo), HCE_ECHO_DATA, 8);
	sin6_fill(&sin6, p->addr, 0);
	r = sendto(h->icmp_fd, pkt, sizeof(pkt), MSG_DONTWAIT,
	    (struct sockaddr *)&sin6, sizeof(sin6));
	if (r != (ssize_t)sizeof(pkt)) {
		probe_fail(p, "echo send", r == -1 ? errno : EMSGSIZE);
		return;
	}
	h->echo_probe[p->seq] = (uint16_t)(p - h->probes + 1);
	p->phase = HCE_ECHO;
}

/*
 * Read every reply waiting (bounded); complete the probes they answer.
 * Replies to others' pings (other id), late ones (no probe out with
 * that sequence) and spoofed ones (other source) are skipped.
 */
static void
icmp_receive(struct hce *h)
{
	struct sockaddr_in6 from;
	struct icmp6_hdr echo;
	struct hce_probe *p;
	socklen_t flen;
	uint8_t buf[64];
	uint16_t idx;
	ssize_t r;
	unsigned n;

	for (n = 0; n < 2 * HCE_MAX_PROBES; n++) {
		flen = sizeof(from);
		r = recvfrom(h->icmp_fd, buf, sizeof(buf), MSG_DONTWAIT,
		    (struct sockaddr *)&from, &flen);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return;
		if ((size_t)r < sizeof(echo) || flen < sizeof(from) ||
		    from.sin6_family != AF_INET6)
			continue;
		memcpy(&echo, buf, sizeof(echo));
		if (echo.icmp6_type != ICMP6_ECHO_REPLY ||
		    echo.icmp6_code != 0 || ntohs(echo.icmp6_id) != h->icmp_id)
			continue;
		idx = h->echo_probe[ntohs(echo.icmp6_seq)];
		if (idx == 0 || idx > h->nprobes)
			continue;
		p = &h->probes[idx - 1];
		if (p->phase != HCE_ECHO || p->seq != ntohs(echo.icmp6_seq) ||
		    memcmp(&from.sin6_addr, p->addr, 16) != 0)
			continue;
		h->echo_probe[p->seq] = 0;
		probe_succeed(p);
	}
}

/* ---------------------------------------------------------------- drive */

/* Start what waits: echoes at once, sockets while slots are free. */
static void
probes_start(struct hce *h)
{
	unsigned i;

	for (i = 0; i < h->nprobes; i++) {
		struct hce_probe *p = &h->probes[i];

		if (p->phase != HCE_WAITING)
			continue;
		if (p->type == SP_CONF_CHECK_ICMP)
			icmp_send(h, p);
		else if (h->open < h->slots)
			tcp_start(h, p);
	}
}

/* Fail the probes past their deadline; returns the next deadline. */
static uint64_t
probes_expire(struct hce *h, uint64_t now_us)
{
	uint64_t first = UINT64_MAX;
	unsigned i;

	for (i = 0; i < h->nprobes; i++) {
		struct hce_probe *p = &h->probes[i];

		if (p->phase == HCE_DONE || p->phase == HCE_WAITING)
			continue;
		if (now_us >= p->deadline_us) {
			if (p->phase == HCE_ECHO)
				h->echo_probe[p->seq] = 0;
			probe_fail(p, "timeout", 0);
		} else if (p->deadline_us < first)
			first = p->deadline_us;
	}
	return first;
}

/*
 * Wait for events until `until` (µs) at the latest and drive the probes
 * they concern.  Returns false when hce_stop woke us.
 */
static bool
probes_poll(struct hce *h, uint64_t now_us, uint64_t until)
{
	unsigned i, npfd = 0;
	int icmp_pfd = -1, r;

	h->pfd[npfd].fd = h->wake_fd;
	h->pfd[npfd].events = POLLIN;
	h->pfd_probe[npfd++] = -1;
	if (h->icmp_fd != -1) {
		/* Always read: foreign replies must not pile up. */
		icmp_pfd = (int)npfd;
		h->pfd[npfd].fd = h->icmp_fd;
		h->pfd[npfd].events = POLLIN;
		h->pfd_probe[npfd++] = -1;
	}
	for (i = 0; i < h->nprobes; i++) {
		struct hce_probe *p = &h->probes[i];

		if (p->fd == -1)
			continue;
		h->pfd[npfd].fd = p->fd;
		h->pfd[npfd].events = p->phase == HCE_READING ? POLLIN :
		    POLLOUT;
		h->pfd_probe[npfd++] = (int)i;
	}
	r = poll(h->pfd, npfd, until > now_us ?
	    (int)((until - now_us + 999) / 1000) : 0);
	if (atomic_load(&h->stop))
		return false;
	if (r == -1) {
		if (errno != EINTR) {
			log_warn("health checks: poll");
			/* Do not spin on it. */
			(void)poll(NULL, 0, HCE_TICK_MS);
		}
		return true;
	}
	if (icmp_pfd != -1 && h->pfd[icmp_pfd].revents != 0)
		icmp_receive(h);
	for (i = 0; i < npfd; i++) {
		int pi = h->pfd_probe[i];

		if (pi < 0 || h->pfd[i].revents == 0)
			continue;
		tcp_ready(h, &h->probes[pi], h->pfd[i].revents);
	}
	return true;
}

/* Drop the probes whose results were posted, keeping the order. */
static void
probes_compact(struct hce *h)
{
	unsigned i, j = 0;

	for (i = 0; i < h->nprobes; i++) {
		struct hce_probe *p = &h->probes[i];

		if (p->phase == HCE_DONE) {
			if (p->vi < LBSPD_MAX_VIPS &&
			    p->si < LBSPD_MAX_SERVERS)
				h->inflight[p->vi][p->si] = false;
			continue;
		}
		if (j != i) {
			h->probes[j] = *p;
			if (p->phase == HCE_ECHO)
				h->echo_probe[p->seq] = (uint16_t)(j + 1);
		}
		j++;
	}
	h->nprobes = j;
}

static void
probes_abort(struct hce *h)
{
	unsigned i;

	for (i = 0; i < h->nprobes; i++)
		probe_close(&h->probes[i]);
	h->nprobes = 0;
}

/* ---------------------------------------------------------------- post */

/* The server a probe was for, if the configuration still has it. */
static struct lb_server *
probe_server(struct lb_state *lb, const struct hce_probe *p,
    struct lb_vip **vp)
{
	struct lb_vip *v;
	unsigned vi, si;

	/* The same place as when collected, unless a reload moved it. */
	if (p->vi < lb->nvips && p->vi < LBSPD_MAX_VIPS) {
		v = &lb->vips[p->vi];
		if (memcmp(v->addr, p->vip, 16) == 0 &&
		    p->si < v->nservers && p->si < LBSPD_MAX_SERVERS &&
		    memcmp(v->servers[p->si].s.addr, p->addr, 16) == 0) {
			*vp = v;
			return &v->servers[p->si];
		}
	}
	for (vi = 0; vi < lb->nvips && vi < LBSPD_MAX_VIPS; vi++) {
		v = &lb->vips[vi];
		if (memcmp(v->addr, p->vip, 16) != 0)
			continue;
		for (si = 0; si < v->nservers && si < LBSPD_MAX_SERVERS;
		    si++)
			if (memcmp(v->servers[si].s.addr, p->addr, 16) == 0) {
				*vp = v;
				return &v->servers[si];
			}
	}
	return NULL;
}

static void
event_add(struct hce *h, const struct lb_vip *v, const struct lb_server *s)
{
	struct hce_event *e;

	if (h->nevents >= sizeof(h->events) / sizeof(h->events[0]))
		return;
	e = &h->events[h->nevents++];
	memcpy(e->vip, v->addr, 16);
	memcpy(e->addr, s->s.addr, 16);
	e->up = sp_health_up(&s->health);
	e->why = s->health.state == SP_HEALTH_RETRY ? "retry" :
	    sp_health_reason_name(&s->health);
}

/*
 * Under d->admin: post the results of the probes done, run every
 * server's passive clock, refresh the vips that changed.
 */
static void
hce_post(struct hce *h, uint64_t now_ms)
{
	struct lb_state *lb = h->d->lb;
	bool dirty[LBSPD_MAX_VIPS];
	struct lb_server *s;
	struct lb_vip *v;
	unsigned i, vi, si;

	h->nevents = 0;
	if (lb == NULL)
		return;
	memset(dirty, 0, sizeof(dirty));
	for (i = 0; i < h->nprobes; i++) {
		struct hce_probe *p = &h->probes[i];

		if (p->phase != HCE_DONE || p->local)
			continue;
		if ((s = probe_server(lb, p, &v)) == NULL)
			continue;
		if (sp_health_probe_result(&s->health, p->ok, p->rtt_us,
		    now_ms)) {
			dirty[v - lb->vips] = true;
			event_add(h, v, s);
		}
		/* The response-time scheduler reads it there. */
		s->s.rtt_us = s->health.rtt_us;
	}
	for (vi = 0; vi < lb->nvips && vi < LBSPD_MAX_VIPS; vi++) {
		v = &lb->vips[vi];
		for (si = 0; si < v->nservers && si < LBSPD_MAX_SERVERS;
		    si++) {
			s = &v->servers[si];
			if (sp_health_tick(&s->health, now_ms)) {
				dirty[vi] = true;
				event_add(h, v, s);
			}
		}
		if (dirty[vi])
			balancer_refresh(v);
	}
}

/* Log the state changes, and the failed probes (debug). */
static void
hce_log(struct hce *h)
{
	char va[INET6_ADDRSTRLEN], sa[INET6_ADDRSTRLEN];
	unsigned i;

	for (i = 0; i < h->nevents; i++) {
		const struct hce_event *e = &h->events[i];

		inet_ntop(AF_INET6, e->vip, va, sizeof(va));
		inet_ntop(AF_INET6, e->addr, sa, sizeof(sa));
		log_info("vip %s server %s is %s (%s)", va, sa,
		    e->up ? "up" : "down", e->why);
	}
	for (i = 0; i < h->nprobes; i++) {
		const struct hce_probe *p = &h->probes[i];

		if (p->phase != HCE_DONE || p->ok)
			continue;
		inet_ntop(AF_INET6, p->vip, va, sizeof(va));
		inet_ntop(AF_INET6, p->addr, sa, sizeof(sa));
		if (p->err > 0)
			log_debug("vip %s server %s: %s check failed: %s: "
			    "%s%s", va, sa, check_name(p->type), p->why,
			    strerror(p->err), p->local ? " (local, not "
			    "counted)" : "");
		else if (p->err < 0)
			log_debug("vip %s server %s: %s check failed: %s %d",
			    va, sa, check_name(p->type), p->why, -p->err);
		else
			log_debug("vip %s server %s: %s check failed: %s",
			    va, sa, check_name(p->type), p->why);
	}
}

/* ---------------------------------------------------------------- thread */

/* One tick: post, log, compact, collect, start. */
static void
hce_tick(struct hce *h)
{
	struct lbspd *d = h->d;

	pthread_mutex_lock(&d->admin);
	hce_post(h, sp_now_ms());
	pthread_mutex_unlock(&d->admin);
	hce_log(h);
	probes_compact(h);

	pthread_mutex_lock(&d->admin);
	hce_collect(h, sp_now_ms());
	pthread_mutex_unlock(&d->admin);
	probes_start(h);
}

static void *
hce_main(void *arg)
{
	struct hce *h = arg;
	struct lbspd *d = h->d;
	uint64_t tick = sp_now_us(), now, until;

	while (!atomic_load(&h->stop) && !d->stop) {
		now = sp_now_us();
		if (now >= tick) {
			probes_expire(h, now);
			hce_tick(h);
			tick += HCE_TICK_MS * 1000;
			if (tick <= now)	/* late: no catching up */
				tick = now + HCE_TICK_MS * 1000;
		}
		probes_start(h);	/* slots freed since */
		until = probes_expire(h, sp_now_us());
		if (until > tick)
			until = tick;
		if (!probes_poll(h, sp_now_us(), until))
			break;
	}
	probes_abort(h);
	return NULL;
}

int
hce_start(struct lbspd *d)
{
	struct hce *h;
	int err;

	if (hce == NULL && hce_init(d) == -1)
		return -1;
	h = hce;
	if (h->running)
		return 0;
	h->d = d;
	h->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (h->wake_fd == -1) {
		log_warn("health checks: eventfd");
		return -1;
	}
	h->slots = hce_slots();
	atomic_store(&h->stop, false);
	err = pthread_create(&h->thread, NULL, hce_main, h);
	if (err != 0) {
		errno = err;
		log_warn("health checks: thread");
		close(h->wake_fd);
		h->wake_fd = -1;
		return -1;
	}
	h->running = true;
	log_debug("health checks: started, %u sockets at once", h->slots);
	return 0;
}

void
hce_stop(void)
{
	struct hce *h = hce;
	uint64_t one = 1;

	if (h == NULL)
		return;
	if (h->running) {
		atomic_store(&h->stop, true);
		if (write(h->wake_fd, &one, sizeof(one)) == -1)
			log_warn("health checks: wake");
		pthread_join(h->thread, NULL);
		h->running = false;
	}
	probes_abort(h);
	if (h->wake_fd != -1)
		close(h->wake_fd);
	if (h->icmp_fd != -1)
		close(h->icmp_fd);
	hce = NULL;
	free(h);
}
