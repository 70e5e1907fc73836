/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * timed-connect.c -- a small application for tests/netns/35-shim-many.sh
 * (run under the client shim).  Not installed.
 *
 *   timed-connect SRC DST PORT FIFO OUT
 *
 * Binds a TCP socket to SRC, opens FIFO for reading (which blocks until
 * the test opens it for writing: every instance starts at once, none
 * busy-waiting), then times connect() to [DST]:PORT on the monotonic
 * clock, sends "GET /name HTTP/1.0" and writes to OUT one line
 * "SRC BODY CONNECT_MS" (BODY: the last line of the answer).  Exits 1
 * with a message on any error.
 */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

static void __attribute__((noreturn))
die(const char *what)
{
	perror(what);
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in6 src = { .sin6_family = AF_INET6 };
	struct sockaddr_in6 dst = { .sin6_family = AF_INET6 };
	static const char req[] = "GET /name HTTP/1.0\r\nHost: x\r\n\r\n";
	char buf[4096], *body, *nl;
	size_t len = 0;
	ssize_t n;
	double t0, t1;
	FILE *out;
	int s, fifo;

	if (argc != 6 || inet_pton(AF_INET6, argv[1], &src.sin6_addr) != 1 ||
	    inet_pton(AF_INET6, argv[2], &dst.sin6_addr) != 1) {
		fprintf(stderr, "usage: timed-connect SRC DST PORT FIFO OUT\n");
		return 2;
	}
	dst.sin6_port = htons((uint16_t)atoi(argv[3]));
	if ((s = socket(AF_INET6, SOCK_STREAM, 0)) == -1)
		die("socket");
	if (bind(s, (struct sockaddr *)&src, sizeof(src)) == -1)
		die("bind");
	if ((fifo = open(argv[4], O_RDONLY)) == -1)
		die("open fifo");
	close(fifo);
	t0 = now_ms();
	if (connect(s, (struct sockaddr *)&dst, sizeof(dst)) == -1)
		die("connect");
	t1 = now_ms();
	if (write(s, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1))
		die("write");
	while (len < sizeof(buf) - 1 &&
	    (n = read(s, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(s);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	body = (nl = strrchr(buf, '\n')) != NULL ? nl + 1 : buf;
	if ((out = fopen(argv[5], "w")) == NULL)
		die("open out");
	fprintf(out, "%s %s %.2f\n", argv[1], body, t1 - t0);
	return fclose(out) == 0 ? 0 : 1;
}
