/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * synflood.c -- a bounded flood of TCP SYNs carrying the LBSP option,
 * for the end-to-end tests (tests/netns/46-flood.sh).  Not installed.
 *
 *   synflood -d DST [-p PORT] [-n COUNT] [-s PREFIX] [-f] [-t TYPE]
 *            [-T SECONDS]
 *
 * Sends COUNT (default 200000) SYNs to DST:PORT (default 80) from a raw
 * IPv6 socket (the header is ours: IPPROTO_RAW), each with a
 * Destination Options header holding one LBSP option (type TYPE,
 * default 0x1e; seg1 = the source, seg2 = zero).  Sources: random
 * interface identifiers under the /64 PREFIX (default 2001:db8:dead::),
 * or with -f the single address PREFIX::1 (source ports then differ).
 * Stops after COUNT packets or SECONDS (default 30), whichever comes
 * first, and prints "sent N in MS ms".  Batches of 64 with sendmmsg().
 * Needs CAP_NET_RAW; only meant for a namespace the test made.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH	64
#define PKT_LEN	(40 + 40 + 20)	/* IPv6 + LBSP header + TCP */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The TCP checksum over the IPv6 pseudo-header and len bytes of tcp. */
static uint16_t
tcp_csum(const uint8_t *src, const uint8_t *dst, const uint8_t *tcp,
    size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i < 16; i += 2)
		sum += (uint32_t)(src[i] << 8 | src[i + 1]) +
		    (uint32_t)(dst[i] << 8 | dst[i + 1]);
	sum += (uint32_t)len + 6;
	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(tcp[i] << 8 | tcp[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
build(uint8_t *p, const uint8_t src[16], const uint8_t dst[16],
    uint16_t sport, uint16_t dport, uint8_t type, uint32_t seq)
{
	uint8_t *d = p + 40, *t = p + 80;
	uint16_t c;

	memset(p, 0, PKT_LEN);
	p[0] = 0x60;
	p[4] = 0;
	p[5] = 60;		/* payload: options 40 + TCP 20 */
	p[6] = 60;		/* next: Destination Options */
	p[7] = 64;
	memcpy(p + 8, src, 16);
	memcpy(p + 24, dst, 16);
	d[0] = 6;		/* next: TCP */
	d[1] = 4;		/* (4 + 1) x 8 = 40 bytes */
	d[2] = 1;		/* PadN(2) */
	d[3] = 0;
	d[6] = type;
	d[7] = 32;
	memcpy(d + 8, src, 16);	/* seg1; seg2 stays zero */
	t[0] = (uint8_t)(sport >> 8);
	t[1] = (uint8_t)sport;
	t[2] = (uint8_t)(dport >> 8);
	t[3] = (uint8_t)dport;
	t[4] = (uint8_t)(seq >> 24);
	t[5] = (uint8_t)(seq >> 16);
	t[6] = (uint8_t)(seq >> 8);
	t[7] = (uint8_t)seq;
	t[12] = 5 << 4;
	t[13] = 0x02;		/* SYN */
	t[14] = 0xff;
	t[15] = 0xff;
	c = tcp_csum(src, dst, t, 20);
	t[16] = (uint8_t)(c >> 8);
	t[17] = (uint8_t)c;
}

int
main(int argc, char *argv[])
{
	static uint8_t pkts[BATCH][PKT_LEN];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in6 to = { .sin6_family = AF_INET6 };
	uint8_t prefix[16], src[16];
	unsigned long count = 200000, sent = 0, maxs = 30, port = 80;
	unsigned type = 0x1e, i, n;
	int ch, fd, fixed = 0, r;
	uint64_t t0, deadline;

	inet_pton(AF_INET6, "2001:db8:dead::", prefix);
	while ((ch = getopt(argc, argv, "d:fn:p:s:t:T:")) != -1) {
		switch (ch) {
		case 'd':
			if (inet_pton(AF_INET6, optarg, &to.sin6_addr) != 1)
				goto usage;
			break;
		case 'f':
			fixed = 1;
			break;
		case 'n':
			count = strtoul(optarg, NULL, 10);
			break;
		case 'p':
			port = strtoul(optarg, NULL, 10);
			break;
		case 's':
			if (inet_pton(AF_INET6, optarg, prefix) != 1)
				goto usage;
			break;
		case 't':
			type = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'T':
			maxs = strtoul(optarg, NULL, 10);
			break;
		default:
			goto usage;
		}
	}
	if (IN6_IS_ADDR_UNSPECIFIED(&to.sin6_addr) || count == 0 ||
	    count > 10000000 || port == 0 || port > 65535 || type > 255 ||
	    maxs == 0 || maxs > 600)
		goto usage;
	fd = socket(AF_INET6, SOCK_RAW, IPPROTO_RAW);
	if (fd == -1) {
		perror("synflood: socket");
		return 1;
	}
	rng ^= (uint64_t)getpid() << 32 ^ now_ms();
	t0 = now_ms();
	deadline = t0 + maxs * 1000;
	while (sent < count && now_ms() < deadline) {
		n = count - sent < BATCH ? (unsigned)(count - sent) : BATCH;
		for (i = 0; i < n; i++) {
			uint64_t a = next_rand(), b = next_rand();

			memcpy(src, prefix, 16);
			if (fixed) {
				memset(src + 8, 0, 8);
				src[15] = 1;
			} else {
				memcpy(src + 8, &a, 8);
			}
			build(pkts[i], src, to.sin6_addr.s6_addr,
			    (uint16_t)(fixed ? 10000 + (sent + i) % 50000 :
			    1024 + b % 60000), (uint16_t)port, (uint8_t)type,
			    (uint32_t)(b >> 32));
			iov[i] = (struct iovec){ .iov_base = pkts[i],
			    .iov_len = PKT_LEN };
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_name = &to;
			msgs[i].msg_hdr.msg_namelen = sizeof(to);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		r = sendmmsg(fd, msgs, n, 0);
		if (r == -1 && (errno == ENOBUFS || errno == EAGAIN ||
		    errno == EINTR)) {
			usleep(1000);
			continue;
		}
		if (r == -1) {
			perror("synflood: sendmmsg");
			return 1;
		}
		sent += (unsigned long)r;
	}
	printf("sent %lu in %llu ms\n", sent,
	    (unsigned long long)(now_ms() - t0));
	close(fd);
	return 0;
usage:
	fprintf(stderr, "usage: synflood -d DST [-p PORT] [-n COUNT] "
	    "[-s PREFIX] [-f] [-t TYPE] [-T SECONDS]\n");
	return 2;
}
