/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fdpass.h -- the daemon side of the shims' fd passing (doc/design.md §4
 * path 2): a process without CAP_NET_RAW hands its socket to lbspd over
 * the control socket, lbspd puts the LBSP option on it (IPV6_DSTOPTS,
 * which needs CAP_NET_RAW in the caller) and closes its copy.
 *
 * Request (ONE sendmsg() of the shim, on a fresh control connection):
 *     "dstopts HEX80\n"   the canonical 40-byte header (sp_dopt_encode())
 *                         as 80 hex digits, the socket in SCM_RIGHTS
 *     "dstopts none\n"    remove the option from the socket
 * Answer: "ok\n" or "error: MESSAGE\n".
 *
 * Also as "shim1 dstopts ..." (the shims' versioned requests, see
 * commands.c).  The control code reads requests with fdpass_read() (so
 * that a descriptor sent with a line is received, and any extra ones
 * closed), and calls fdpass_dstopts() for a dstopts line.
 */
#ifndef LBSPD_FDPASS_H
#define LBSPD_FDPASS_H

#include <stddef.h>
#include <stdint.h>

#include "lbspd.h"

#define FDPASS_MAX_FDS	8	/* descriptors taken from one message */

/*
 * fdpass_read - one non-blocking read of request bytes from the
 * connected unix socket connfd, with the descriptors sent along
 * (SCM_RIGHTS, received close-on-exec): the first one ever is kept in
 * *fd when *fd is -1, every other is closed.
 * @buf, @size: where the bytes go (not NUL-terminated).
 * Returns the bytes read (0: the peer closed), or -1 with errno
 * (EAGAIN: nothing yet; EBADMSG: ancillary data truncated).
 * Why non-blocking: the control thread serves many clients at once and
 * must never wait on one of them.
 */
ssize_t fdpass_read(int connfd, char *buf, size_t size, int *fd);

/*
 * fdpass_dstopts - serve "dstopts HEX80" / "dstopts none" for the
 * socket fd (always closed before returning, -1 allowed: answered with
 * an error).
 * @hex: the argument: 80 hex digits holding exactly the canonical
 *     header with one LBSP option of the configured option type and a
 *     non-zero seg1 (nothing else can be smuggled onto a socket), or
 *     "none".
 * @answer, @size: "ok\n" or "error: MESSAGE\n", NUL-terminated.
 * Checks that fd is an AF_INET6 stream or datagram socket (SO_DOMAIN,
 * SO_TYPE), then setsockopt(IPV6_DSTOPTS).  Counted (fdpass_counts()).
 * Returns 0 for "ok", -1 for an error answer.
 */
int fdpass_dstopts(struct lbspd *d, int fd, const char *hex, char *answer,
    size_t size);

/* How many requests were served ok and refused, since start. */
void fdpass_counts(uint64_t *ok, uint64_t *refused);

#endif /* LBSPD_FDPASS_H */
