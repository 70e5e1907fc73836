/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * synflood.c -- a bounded flood of TCP segments carrying the LBSP
 * option, for the end-to-end tests (tests/netns/46-flood.sh, and
 * 35-shim-many.sh, which fills a client's cache with it).  Not
 * installed.
 *
 *   synflood -d DST | -D PREFIX [-p PORT] [-P SPORT] [-n COUNT]
 *            [-s PREFIX | -S SRC] [-f] [-t TYPE] [-T SECONDS]
 *            [-F FLAGS] [-2 SEG2]...
 *
 * Sends COUNT (default 200000) SYNs to DST:PORT (default 80) from a raw
 * IPv6 socket (the header is ours: IPPROTO_RAW), each with a
 * Destination Options header holding one LBSP option (type TYPE,
 * default 0x1e; seg1 = the source, seg2 = zero).  Sources: random
 * interface identifiers under the /64 PREFIX (default 2001:db8:dead::),
 * or with -f the single address PREFIX::1 (source ports then differ).
 * Stops after COUNT packets or SECONDS (default 30), whichever comes
 * first, and prints "sent N in MS ms".  Batches of 64 with sendmmsg().
 * Answers instead of SYNs: -S SRC sends from SRC exactly, -D PREFIX to
 * PREFIX + i for the i-th packet (1, 2, ...), -F FLAGS sets the TCP
 * flags (default 0x02, SYN), -P SPORT the source port, and with -D
 * seg1 is the destination (the client's identity, as a server's answer
 * carries it) and seg2 cycles through the -2 addresses (up to 8).
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
    const uint8_t seg1[16], const uint8_t seg2[16], uint16_t sport,
    uint16_t dport, uint8_t type, uint8_t flags, uint32_t seq)
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
	memcpy(d + 8, seg1, 16);
	memcpy(d + 24, seg2, 16);
	t[0] = (uint8_t)(sport >> 8);
	t[1] = (uint8_t)sport;
	t[2] = (uint8_t)(dport >> 8);
	t[3] = (uint8_t)dport;
	t[4] = (uint8_t)(seq >> 24);
	t[5] = (uint8_t)(seq >> 16);
	t[6] = (uint8_t)(seq >> 8);
	t[7] = (uint8_t)seq;
	t[12] = 5 << 4;
	t[13] = flags;
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
	struct sockaddr_in6 to = { .sin6_family = AF_INET6 }, dests[BATCH];
	uint8_t prefix[16], src[16], dst[16], dprefix[16], fsrc[16];
	uint8_t seg2s[8][16], zero[16] = { 0 };
	unsigned long count = 200000, sent = 0, maxs = 30, port = 80, sport = 0;
	unsigned type = 0x1e, flags = 0x02, nseg2 = 0, i, n;
	int ch, fd, fixed = 0, r, have_d = 0, have_dp = 0, have_s = 0;
	uint64_t t0, deadline;

	inet_pton(AF_INET6, "2001:db8:dead::", prefix);
	while ((ch = getopt(argc, argv, "2:d:D:fF:n:p:P:s:S:t:T:")) != -1) {
		switch (ch) {
		case '2':
			if (nseg2 == 8 ||
			    inet_pton(AF_INET6, optarg, seg2s[nseg2++]) != 1)
				goto usage;
			break;
		case 'd':
			if (inet_pton(AF_INET6, optarg, &to.sin6_addr) != 1)
				goto usage;
			have_d = 1;
			break;
		case 'D':
			if (inet_pton(AF_INET6, optarg, dprefix) != 1)
				goto usage;
			have_dp = 1;
			break;
		case 'F':
			flags = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'P':
			sport = strtoul(optarg, NULL, 10);
			break;
		case 'S':
			if (inet_pton(AF_INET6, optarg, fsrc) != 1)
				goto usage;
			have_s = 1;
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
	if (have_d == have_dp || count == 0 || count > 10000000 ||
	    port == 0 || port > 65535 || sport > 65535 || type > 255 ||
	    flags > 255 || maxs == 0 || maxs > 600)
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

			unsigned long k = sent + i + 1;	/* 1, 2, ... */

			memcpy(src, prefix, 16);
			if (have_s) {
				memcpy(src, fsrc, 16);
			} else if (fixed) {
				memset(src + 8, 0, 8);
				src[15] = 1;
			} else {
				memcpy(src + 8, &a, 8);
			}
			if (have_dp) {
				memcpy(dst, dprefix, 16);
				dst[12] = (uint8_t)(k >> 24);
				dst[13] = (uint8_t)(k >> 16);
				dst[14] = (uint8_t)(k >> 8);
				dst[15] = (uint8_t)k;
			} else {
				memcpy(dst, &to.sin6_addr, 16);
			}
			build(pkts[i], src, dst, have_dp ? dst : src,
			    nseg2 > 0 ? seg2s[k % nseg2] : zero,
			    (uint16_t)(sport != 0 ? sport : fixed ?
			    10000 + (sent + i) % 50000 : 1024 + b % 60000),
			    (uint16_t)port, (uint8_t)type, (uint8_t)flags,
			    (uint32_t)(b >> 32));
			dests[i] = to;
			memcpy(&dests[i].sin6_addr, dst, 16);
			iov[i] = (struct iovec){ .iov_base = pkts[i],
			    .iov_len = PKT_LEN };
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_name = &dests[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(dests[i]);
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
	fprintf(stderr, "usage: synflood -d DST | -D PREFIX [-p PORT] "
	    "[-P SPORT] [-n COUNT] [-s PREFIX | -S SRC] [-f] [-t TYPE] "
	    "[-T SECONDS] [-F FLAGS] [-2 SEG2]...\n");
	return 2;
}
