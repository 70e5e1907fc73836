/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fdpass.c -- the daemon side of the shims' fd passing (see fdpass.h).
 *
 * lbspd keeps CAP_NET_RAW in the client and server roles for this: a
 * shim whose process lacks it sends its socket here, and lbspd sets
 * IPV6_DSTOPTS on it.  What may be set is exactly the canonical LBSP
 * header of the configured option type -- the same bytes the process
 * could get on the wire through lbspd's NFQUEUE path anyway -- so the
 * capability is not lent out for arbitrary options.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sp/dopt.h>

#include "control/fdpass.h"
#include "system/log.h"

static _Atomic uint64_t fdpass_ok;
static _Atomic uint64_t fdpass_refused;

void
fdpass_counts(uint64_t *ok, uint64_t *refused)
{
	*ok = atomic_load_explicit(&fdpass_ok, memory_order_relaxed);
	*refused = atomic_load_explicit(&fdpass_refused,
	    memory_order_relaxed);
}

/* Close every descriptor of the SCM_RIGHTS messages of msg but keep. */
static void
take_fds(struct msghdr *msg, int *fd)
{
	struct cmsghdr *c;
	size_t i, n;
	int one;

	for (c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&one, CMSG_DATA(c) + i * sizeof(int),
			    sizeof(int));
			if (*fd == -1)
				*fd = one;
			else
				close(one);
		}
	}
}

ssize_t
fdpass_read(int connfd, char *buf, size_t size, int *fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(FDPASS_MAX_FDS * sizeof(int))];
	} cm;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
	ssize_t n;

	do
		n = recvmsg(connfd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n == -1 && errno == EINTR);
	if (n >= 0)
		take_fds(&msg, fd);
	if (n > 0 && (msg.msg_flags & MSG_CTRUNC)) {
		errno = EBADMSG;
		return -1;
	}
	return n;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
refuse(int fd, char *answer, size_t size, const char *why)
{
	if (fd != -1)
		close(fd);
	snprintf(answer, size, "error: %s\n", why);
	atomic_fetch_add_explicit(&fdpass_refused, 1, memory_order_relaxed);
	log_debug("fdpass: refused: %s", why);
	return -1;
}

int
fdpass_dstopts(struct lbspd *d, int fd, const char *hex, char *answer,
    size_t size)
{
	uint8_t hdr[SP_LBSP_HDR_LEN], canon[SP_LBSP_HDR_LEN], type;
	struct sp_lbsp opt;
	socklen_t len;
	int domain = -1, stype = -1, hi, lo;
	bool none;
	size_t i;
	enum sp_err err;

	if (fd == -1)
		return refuse(fd, answer, size, "no socket sent with dstopts");
	len = sizeof(domain);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == -1)
		return refuse(fd, answer, size, "not a socket");
	len = sizeof(stype);
	if (domain != AF_INET6 ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &stype, &len) == -1 ||
	    (stype != SOCK_STREAM && stype != SOCK_DGRAM))
		return refuse(fd, answer, size,
		    "not an IPv6 stream or datagram socket");
	none = strcmp(hex, "none") == 0;
	if (!none) {
		if (strlen(hex) != 2 * SP_LBSP_HDR_LEN)
			return refuse(fd, answer, size,
			    "dstopts wants 80 hex digits or 'none'");
		for (i = 0; i < SP_LBSP_HDR_LEN; i++) {
			hi = hexval(hex[2 * i]);
			lo = hexval(hex[2 * i + 1]);
			if (hi < 0 || lo < 0)
				return refuse(fd, answer, size,
				    "dstopts: not hex");
			hdr[i] = (uint8_t)(hi << 4 | lo);
		}
		pthread_mutex_lock(&d->admin);
		type = d->conf->option_type;
		pthread_mutex_unlock(&d->admin);
		err = sp_dopt_decode(hdr, sizeof(hdr), type, &opt, NULL);
		if (err != SP_OK)
			return refuse(fd, answer, size, sp_strerror(err));
		/* Exactly our canonical header, nothing else in it. */
		sp_dopt_encode(canon, hdr[0], type, &opt);
		if (memcmp(canon, hdr, sizeof(hdr)) != 0)
			return refuse(fd, answer, size,
			    "dstopts: not the canonical LBSP header");
	}
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_DSTOPTS, none ? NULL : hdr,
	    none ? 0 : sizeof(hdr)) == -1) {
		char why[96];

		snprintf(why, sizeof(why), "IPV6_DSTOPTS: %s",
		    strerror(errno));
		return refuse(fd, answer, size, why);
	}
	close(fd);
	snprintf(answer, size, "ok\n");
	atomic_fetch_add_explicit(&fdpass_ok, 1, memory_order_relaxed);
	return 0;
}
