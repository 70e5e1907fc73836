/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fdpass.h -- the daemon side of the shims' fd passing (DESIGN.md §4
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
 * The control code calls fdpass_recv() instead of recv() to read a
 * request line (so that a descriptor sent with it is received, and any
 * extra ones closed), and fdpass_dstopts() when the line starts with
 * "dstopts".
 */
#ifndef LBSPD_FDPASS_H
#define LBSPD_FDPASS_H

#include <stddef.h>
#include <stdint.h>

#include "lbspd.h"

#define FDPASS_READ_MS	2000	/* ms to receive the request line */
#define FDPASS_MAX_FDS	8	/* descriptors taken from one message */

/*
 * fdpass_recv - read one request line from the connected unix socket
 * connfd (blocking or not) within FDPASS_READ_MS, with the first
 * descriptor sent along (SCM_RIGHTS), received close-on-exec.
 * @line, @size: the line without its "\n" (a "\r" before it dropped),
 *     NUL-terminated; a line that does not fit is an error.
 * @fd: set to the descriptor, or -1 when none came; every further
 *     descriptor (and, on error, this one) is closed.
 * Returns the line length, or -1: nothing (peer closed without a byte:
 * errno 0), too long (EMSGSIZE), timeout (ETIMEDOUT), truncated
 * ancillary data (EBADMSG), or recvmsg()'s errno.
 */
int fdpass_recv(int connfd, char *line, size_t size, int *fd);

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
