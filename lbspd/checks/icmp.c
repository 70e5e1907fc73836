/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * icmp.c -- the icmp probe: an echo request on the engine's raw ICMPv6
 * socket, our identifier and a sequence number per probe; the reply
 * must match identifier, sequence and source.
 */
#include "config.h"

#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "checks/probe.h"
#include "system/log.h"

int
icmp_open(struct checks *h)
{
	struct icmp6_filter filt;
	int fd;

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

void
icmp_send(struct checks *h, struct probe *p)
{
	struct sockaddr_in6 sin6;
	struct icmp6_hdr echo;
	uint8_t pkt[sizeof(echo) + 8];
	ssize_t r;

	p->start_us = sp_now_us();
	p->deadline_us = p->start_us + (uint64_t)p->timeout_ms * 1000;
	p->seq = h->icmp_seq++;
	if (h->echo_probe[p->seq] != 0) {
		/* 65,536 echoes out at once: none left for this one. */
		probe_fail(h, p, "no echo sequence number free", EAGAIN);
		return;
	}
	memset(&echo, 0, sizeof(echo));
	echo.icmp6_type = ICMP6_ECHO_REQUEST;
	echo.icmp6_code = 0;
	echo.icmp6_id = htons(h->icmp_id);
	echo.icmp6_seq = htons(p->seq);
	memcpy(pkt, &echo, sizeof(echo));
	memcpy(pkt + sizeof(echo), CHECKS_ECHO_DATA, 8);
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	memcpy(&sin6.sin6_addr, p->addr, 16);
	r = sendto(h->icmp_fd, pkt, sizeof(pkt), MSG_DONTWAIT,
	    (struct sockaddr *)&sin6, sizeof(sin6));
	if (r != (ssize_t)sizeof(pkt)) {
		probe_fail(h, p, "echo send", r == -1 ? errno : EMSGSIZE);
		return;
	}
	h->echo_probe[p->seq] = (uint32_t)(p - h->probes + 1);
	p->phase = PROBE_ECHO;
}

/*
 * Read every reply waiting (bounded); complete the probes they answer.
 * Replies to others' pings (other id), late ones (no probe out with
 * that sequence) and spoofed ones (other source) are skipped.
 */
void
icmp_receive(struct checks *h)
{
	struct sockaddr_in6 from;
	struct icmp6_hdr echo;
	struct probe *p;
	socklen_t flen;
	uint8_t buf[64];
	uint32_t idx;
	ssize_t r;
	size_t n;

	for (n = 0; n < 2 * h->nprobes + 64; n++) {
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
		if (p->phase != PROBE_ECHO || p->seq != ntohs(echo.icmp6_seq) ||
		    memcmp(&from.sin6_addr, p->addr, 16) != 0)
			continue;
		h->echo_probe[p->seq] = 0;
		probe_succeed(h, p);
	}
}
