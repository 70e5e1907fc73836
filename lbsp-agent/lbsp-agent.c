/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lbsp-agent -- report this server's load to a balancer (agent.h has
 * the protocol).
 *
 *   lbsp-agent -b BALANCER [-p PORT] [-s ADDRESS] [-i SECONDS] [-k HEX32]
 *              [-l LOAD] [-1]
 *
 * The load is the 1-minute load average per CPU, in per mille, capped
 * at 1000, or a fixed -l LOAD (for tests, or a load computed elsewhere).
 * The report names -s ADDRESS, by default the source address the
 * kernel picks towards the balancer: the balancer only takes reports
 * from the address of the server they are about.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "balancer/agent.h"

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: lbsp-agent -b balancer [-1] [-i seconds] "
	    "[-k hex32] [-l load] [-p port] [-s address]\n");
	exit(1);
}

static int
hex_key(const char *s, uint8_t key[16])
{
	unsigned i, v;

	if (strlen(s) != 32)
		return -1;
	for (i = 0; i < 16; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		key[i] = (uint8_t)v;
	}
	return 0;
}

/* Load average per CPU, per mille, capped at 1000. */
static unsigned
load_now(void)
{
	double avg = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	FILE *f = fopen("/proc/loadavg", "r");

	if (f != NULL) {
		if (fscanf(f, "%lf", &avg) != 1)
			avg = 0;
		fclose(f);
	}
	if (cpus < 1)
		cpus = 1;
	avg = avg / (double)cpus * 1000.0;
	return avg > 1000.0 ? 1000 : (unsigned)avg;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in6 to = { .sin6_family = AF_INET6 }, me;
	socklen_t melen = sizeof(me);
	char msg[AGENT_MSG_MAX + 1], self[INET6_ADDRSTRLEN] = "";
	uint8_t key[16];
	bool has_key = false, once = false;
	long interval = 2, fixed = -1, port = 4739;
	uint64_t seq = 0;
	int ch, fd, len;
	char *end;

	while ((ch = getopt(argc, argv, "1b:i:k:l:p:s:")) != -1) {
		switch (ch) {
		case '1':
			once = true;
			break;
		case 'b':
			if (inet_pton(AF_INET6, optarg, &to.sin6_addr) != 1) {
				fprintf(stderr, "lbsp-agent: bad balancer "
				    "address '%s'\n", optarg);
				return 1;
			}
			break;
		case 'i':
			interval = strtol(optarg, &end, 10);
			if (*end != '\0' || interval < 1 || interval > 3600)
				usage();
			break;
		case 'k':
			if (hex_key(optarg, key) == -1) {
				fprintf(stderr, "lbsp-agent: -k wants 32 hex "
				    "digits\n");
				return 1;
			}
			has_key = true;
			break;
		case 'l':
			fixed = strtol(optarg, &end, 10);
			if (*end != '\0' || fixed < 0 || fixed > 1000)
				usage();
			break;
		case 'p':
			port = strtol(optarg, &end, 10);
			if (*end != '\0' || port < 1 || port > 65535)
				usage();
			break;
		case 's':
			snprintf(self, sizeof(self), "%s", optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || IN6_IS_ADDR_UNSPECIFIED(&to.sin6_addr))
		usage();
	to.sin6_port = htons((uint16_t)port);

	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&to, sizeof(to)) == -1) {
		fprintf(stderr, "lbsp-agent: %s\n", strerror(errno));
		return 1;
	}
	if (self[0] == '\0') {
		if (getsockname(fd, (struct sockaddr *)&me, &melen) == -1)
			return 1;
		inet_ntop(AF_INET6, &me.sin6_addr, self, sizeof(self));
	} else {
		/* Reports must leave from the address they name. */
		struct sockaddr_in6 src = { .sin6_family = AF_INET6 };

		close(fd);
		fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd == -1 || inet_pton(AF_INET6, self, &src.sin6_addr) != 1 ||
		    bind(fd, (struct sockaddr *)&src, sizeof(src)) == -1 ||
		    connect(fd, (struct sockaddr *)&to, sizeof(to)) == -1) {
			fprintf(stderr, "lbsp-agent: -s %s: %s\n", self,
			    strerror(errno));
			return 1;
		}
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	while (!stop) {
		unsigned load = fixed >= 0 ? (unsigned)fixed : load_now();

		len = snprintf(msg, sizeof(msg), "lbsp-agent 1 %s %u %" PRIu64,
		    self, load, ++seq);
		if (has_key)
			len += snprintf(msg + len, sizeof(msg) - (size_t)len,
			    " %016" PRIx64 "\n",
			    agent_mac(key, msg, (size_t)len));
		else
			len += snprintf(msg + len, sizeof(msg) - (size_t)len,
			    " -\n");
		if (send(fd, msg, (size_t)len, 0) == -1 && errno != ECONNREFUSED)
			fprintf(stderr, "lbsp-agent: send: %s\n",
			    strerror(errno));
		if (once)
			break;
		sleep((unsigned)interval);
	}
	close(fd);
	return 0;
}
