/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent.c -- the balancer's listener for lbsp-agent load reports (the
 * protocol is in agent.h).  One thread, one UDP socket bound before
 * privileges are dropped.  A report updates agent_load of every vip's
 * server with that address; balancer_tick() forgets loads older than
 * AGENT_STALE_MS.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "balancer/agent.h"
#include "balancer/balancer.h"
#include "lbspd.h"
#include "system/log.h"

static struct {
	int fd;			/* the UDP socket, or -1 */
	pthread_t thread;
	bool running;
	struct lbspd *d;
} ag = { .fd = -1 };

/*
 * Parse and check one report from src.  Returns the load (0..1000) and
 * fills server, or -1 with why in *why.
 */
static int
agent_parse(const struct lbspd *d, const char *buf, size_t len,
    const uint8_t src[16], uint8_t server[16], const char **why)
{
	char text[AGENT_MSG_MAX + 1], addr[INET6_ADDRSTRLEN], mac[24];
	unsigned version, load;
	uint64_t seq;
	const char *sp;
	int n;

	if (len == 0 || len > AGENT_MSG_MAX || memchr(buf, '\0', len)) {
		*why = "bad size";
		return -1;
	}
	memcpy(text, buf, len);
	text[len] = '\0';
	if (text[len - 1] == '\n')
		text[--len] = '\0';
	n = 0;
	if (sscanf(text, "lbsp-agent %u %45s %u %" SCNu64 " %23s%n", &version,
	    addr, &load, &seq, mac, &n) != 5 || (size_t)n != len ||
	    version != 1 || load > 1000 ||
	    inet_pton(AF_INET6, addr, server) != 1) {
		*why = "malformed";
		return -1;
	}
	if (memcmp(server, src, 16) != 0) {
		*why = "not from the server it is about";
		return -1;
	}
	if (d->conf->has_hash_key) {
		char want[24];

		sp = strrchr(text, ' ');
		snprintf(want, sizeof(want), "%016" PRIx64,
		    agent_mac(d->conf->hash_key, text, (size_t)(sp - text)));
		if (strcmp(mac, want) != 0) {
			*why = "bad MAC";
			return -1;
		}
	}
	return (int)load;
}

/* Set the load of every vip's server at that address; false if none. */
static bool
agent_apply(struct lbspd *d, const uint8_t server[16], int load)
{
	uint64_t now = sp_now_ms();
	bool found = false;
	unsigned i;

	for (i = 0; d->lb != NULL && i < d->lb->nvips; i++) {
		struct lb_server *s = balancer_server(&d->lb->vips[i], server);

		if (s != NULL) {
			atomic_store_explicit(&s->agent_seen_ms, now,
			    memory_order_relaxed);
			atomic_store_explicit(&s->agent_load, (uint32_t)load,
			    memory_order_relaxed);
			found = true;
		}
	}
	return found;
}

static void *
agent_thread(void *arg)
{
	struct lbspd *d = arg;
	struct pollfd pfd = { .fd = ag.fd, .events = POLLIN };
	struct sockaddr_in6 from;
	socklen_t fromlen;
	char buf[AGENT_MSG_MAX + 1];
	uint8_t server[16];
	const char *why = NULL;
	uint64_t last_log = 0;
	ssize_t n;
	int load;

	while (!d->stop) {
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		fromlen = sizeof(from);
		n = recvfrom(ag.fd, buf, sizeof(buf), MSG_DONTWAIT,
		    (struct sockaddr *)&from, &fromlen);
		if (n < 0)
			continue;
		pthread_mutex_lock(&d->admin);
		load = agent_parse(d, buf, (size_t)n, from.sin6_addr.s6_addr,
		    server, &why);
		if (load >= 0 && !agent_apply(d, server, load)) {
			why = "not a server of any vip";
			load = -1;
		}
		lbspd_count(d, load >= 0 ? LBSPD_C_AGENT_REPORTS :
		    LBSPD_C_AGENT_REJECTED);
		pthread_mutex_unlock(&d->admin);
		if (load < 0 && sp_now_ms() - last_log > 10000) {
			char a[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, &from.sin6_addr, a, sizeof(a));
			log_warnx("agent report from %s refused: %s", a, why);
			last_log = sp_now_ms();
		}
	}
	return NULL;
}

int
agent_init(struct lbspd *d)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
	    .sin6_addr = IN6ADDR_ANY_INIT };

	if (!(d->conf->roles & SP_CONF_ROLE_BALANCER) ||
	    d->conf->agent_port == 0)
		return 0;
	sa.sin6_port = htons(d->conf->agent_port);
	ag.fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (ag.fd == -1 || bind(ag.fd, (struct sockaddr *)&sa,
	    sizeof(sa)) == -1) {
		log_warn("agent-port %u", d->conf->agent_port);
		if (ag.fd != -1)
			close(ag.fd);
		ag.fd = -1;
		return -1;
	}
	ag.d = d;
	return 0;
}

int
agent_start(struct lbspd *d)
{
	sigset_t all, old;
	int rc;

	if (ag.fd == -1)
		return 0;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&ag.thread, NULL, agent_thread, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		log_warn("agent: thread");
		return -1;
	}
	ag.running = true;
	return 0;
}

void
agent_stop(void)
{
	if (ag.running) {
		ag.d->stop = 1;
		pthread_join(ag.thread, NULL);
		ag.running = false;
	}
	if (ag.fd != -1)
		close(ag.fd);
	ag.fd = -1;
}
