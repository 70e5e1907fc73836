/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lbspctl.c -- the control CLI of lbspd:
 *
 *   lbspctl [-j] [-s socket] stats|flows|stick|servers|cache [--json]
 *   lbspctl [-s socket] drain|enable VIP SERVER
 *   lbspctl [-s socket] weight VIP SERVER N
 *   lbspctl [-s socket] reload
 *
 * It sends the command as one request line on the daemon's control
 * socket and copies the answer to stdout; an answer starting with
 * "error: " goes to stderr instead (the protocol is described at the
 * top of lbspd/control/commands.c).  The daemon knows the commands:
 * lbspctl only checks that the words fit in one request line.
 *
 * Every request carries "--end": the daemon then ends its answer with
 * one NUL byte, so that an answer cut short (or none at all) is told
 * from a complete one, even an empty one.
 * Exit: 0 done; 1 usage error or the daemon answered an error; 2 the
 * daemon could not be reached (connect, send or receive failed, or no
 * answer within LBSPCTL_TIMEOUT_MS), or its answer was empty or
 * truncated (no end mark).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lbspd.h"

#define LBSPCTL_LINE_MAX	512	/* request bytes, "\n" included: the
					   daemon's CONTROL_LINE_MAX */
#define LBSPCTL_TIMEOUT_MS	30000	/* ms without a byte from lbspd */
#define ERROR_PREFIX		"error: "

static const char *sockpath = LBSPD_SOCKET_DEFAULT;

static void __attribute__((noreturn))
usage(int rc)
{
	fprintf(rc == 0 ? stdout : stderr,
	    "usage: lbspctl [-j] [-s socket] command [--json]\n"
	    "commands:\n"
	    "  stats | flows | stick | servers | cache\n"
	    "  drain VIP SERVER | enable VIP SERVER\n"
	    "  weight VIP SERVER N\n"
	    "  reload\n");
	exit(rc);
}

static void __attribute__((noreturn))
unreachable(const char *what)
{
	fprintf(stderr, "lbspctl: %s %s: %s\n", what, sockpath,
	    strerror(errno));
	exit(2);
}

/* Write all of buf to fd.  Returns 0 or -1 (errno set). */
static int
write_all(int fd, const char *buf, size_t len, int flags)
{
	ssize_t n;

	while (len > 0) {
		if (flags >= 0)
			n = send(fd, buf, len, flags);
		else
			n = write(fd, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Build the request line from the command words into line (size
 * LBSPCTL_LINE_MAX + 1).  Returns its length, or exits 1 on a word the
 * protocol cannot carry.
 */
static size_t
build_request(char *line, int argc, char **argv, bool json)
{
	size_t len = 0, n;
	int i;
	const char *w;

	for (i = 0; i <= argc + 1; i++) {
		if (i < argc)
			w = argv[i];
		else if (i == argc)
			w = "--end";
		else if (json)
			w = "--json";
		else
			break;
		n = strlen(w);
		if (n == 0 || strcspn(w, " \t") != n) {
			fprintf(stderr, "lbspctl: bad argument '%s'\n", w);
			exit(1);
		}
		for (const char *c = w; *c != '\0'; c++)
			if (*c < 0x20 || *c >= 0x7f) {
				fprintf(stderr, "lbspctl: bad argument '%s'\n",
				    w);
				exit(1);
			}
		/* The word, a blank or the final "\n" must fit. */
		if (len + n + 1 > LBSPCTL_LINE_MAX) {
			fprintf(stderr, "lbspctl: request longer than %d "
			    "bytes\n", LBSPCTL_LINE_MAX);
			exit(1);
		}
		if (len > 0)
			line[len - 1] = ' ';
		memcpy(line + len, w, n);
		len += n;
		line[len++] = '\n';
	}
	line[len] = '\0';
	return len;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char line[LBSPCTL_LINE_MAX + 1], buf[8192];
	size_t len, have = 0, total = 0;
	bool json = false, decided = false, error = false;
	struct pollfd pfd;
	ssize_t n;
	int ch, fd, i, nw;

	/* "+": options end at the command; its own words follow. */
	while ((ch = getopt_long(argc, argv, "+hjs:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(0);
		case 'j':
			json = true;
			break;
		case 's':
			sockpath = optarg;
			break;
		default:
			usage(1);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage(1);
	/* --json / -j anywhere after the command. */
	for (i = 1, nw = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 ||
		    strcmp(argv[i], "-j") == 0)
			json = true;
		else
			argv[nw++] = argv[i];
	}
	argc = nw;
	len = build_request(line, argc, argv, json);

	if (strlen(sockpath) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "lbspctl: cannot connect to %s: path too "
		    "long\n", sockpath);
		return 2;
	}
	memcpy(sun.sun_path, sockpath, strlen(sockpath) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		unreachable("cannot connect to");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		unreachable("cannot connect to");
	if (write_all(fd, line, len, MSG_NOSIGNAL) == -1)
		unreachable("cannot send to");
	shutdown(fd, SHUT_WR);

	/*
	 * Copy the answer out.  Its first bytes say where it goes: keep
	 * them until there are enough to compare with "error: ".  The
	 * last byte read so far is held back: it may be the end mark.
	 */
	for (;;) {
		pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
		n = poll(&pfd, 1, LBSPCTL_TIMEOUT_MS);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0)
			errno = ETIMEDOUT;
		if (n <= 0)
			unreachable("no answer from");
		n = read(fd, buf + have, sizeof(buf) - have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			unreachable("cannot read from");
		have += (size_t)n;
		total += (size_t)n;
		if (!decided && (have >= strlen(ERROR_PREFIX) || n == 0)) {
			error = have >= strlen(ERROR_PREFIX) &&
			    memcmp(buf, ERROR_PREFIX,
			    strlen(ERROR_PREFIX)) == 0;
			decided = true;
		}
		if (n == 0)
			break;
		if (decided && have > 1) {
			if (write_all(error ? STDERR_FILENO : STDOUT_FILENO,
			    buf, have - 1, -1) == -1) {
				fprintf(stderr, "lbspctl: write: %s\n",
				    strerror(errno));
				return 1;
			}
			buf[0] = buf[have - 1];
			have = 1;
		}
	}
	close(fd);
	/* The end: the held-back byte must be the mark (an error answer
	 * from a daemon that could not read the request has none). */
	if (have > 0 && buf[have - 1] == '\0')
		have--;
	else if (!error) {
		fprintf(stderr, "lbspctl: %s answer from %s\n",
		    total == 0 ? "empty" : "truncated", sockpath);
		if (have > 0)
			(void)write_all(STDOUT_FILENO, buf, have, -1);
		return 2;
	}
	if (have > 0 && write_all(error ? STDERR_FILENO : STDOUT_FILENO, buf,
	    have, -1) == -1) {
		fprintf(stderr, "lbspctl: write: %s\n", strerror(errno));
		return 1;
	}
	return error ? 1 : 0;
}
