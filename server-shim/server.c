/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * server.c -- liblbsp-server.so, the server shim (doc/design.md §3.2, §4
 * path 2).  LD_PRELOAD it into an unmodified server:
 *
 *   LD_PRELOAD=liblbsp-server.so LBSP_CONF=FILE program ...
 *
 * A connection's journey, top-down:
 *   1. listen() on an IPv6 stream socket: IPV6_RECVDSTOPTS is set, so
 *      the kernel keeps the Destination Options of the SYN for the
 *      connection (a listener inherited without listen() -- socket
 *      activation -- gets it at its first accept()); with mss-clamp
 *      on (the default) its TCP_MAXSEG is lowered to mtu - 100, so
 *      segments with the option still fit (see listener_clamp());
 *   2. accept() / accept4(): the client's option is read from the new
 *      socket (getsockopt IPV6_2292PKTOPTIONS, sp_peer_parse());
 *   3. with the option: IPV6_DSTOPTS = LBSP{seg1 as received, seg2 =
 *      server-address of lbsp.conf, else the accepted socket's own
 *      address}, set directly (CAP_NET_RAW) or by lbspd (SCM_RIGHTS):
 *      every segment the kernel sends on it from then on carries it;
 *   4. IPV6_RECVDSTOPTS is turned off again on the accepted socket:
 *      the kernel keeps the options it has (sp_peer_identity() still
 *      answers) and stops copying every later segment.
 * Connections that came without the option are left as they were.
 *
 * Known limit: the SYN-ACK leaves before accept() returns, with the
 * listener's options: it carries no option (lbspd's server role, which
 * works per packet, can add it); nor does a pure ACK the kernel sends
 * for data that arrives before the option is set.  Neither do packets
 * the kernel sends without the socket: ACKs from TIME_WAIT and RSTs
 * (lbsp-shim(8)).
 *
 * Threads and signals: the per-fd table is written by listen() and
 * read by accept() on the same fd; an accept() of a connection with
 * the option may talk to lbspd and is not async-signal-safe (accept()
 * is not in the POSIX list anyway).
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sp/peer.h>

#include "../client-shim/shim.h"

#define SFD_MAX		(1u << 20)	/* fds with state, at most */

/* Listener state bits, one byte per fd. */
enum sfd_flags {
	SFD_CHECKED = 1u << 0,	/* looked at: the bits below are valid */
	SFD_OURS = 1u << 1,	/* IPv6 stream listener, RECVDSTOPTS on */
};

static struct {
	uint8_t *fds;		/* nfds bytes of enum sfd_flags, or NULL */
	size_t nfds;
} sv;

__attribute__((constructor)) static void
server_init(void)
{
	shim_init("server", false);
	if (!shim.ready)
		return;
	sv.nfds = shim.nfds < SFD_MAX ? shim.nfds : SFD_MAX;
	sv.fds = calloc(sv.nfds, 1);
	if (sv.fds == NULL)
		sv.nfds = 0;
}

/*
 * The MSS of the listener's connections: lowered by the 40 bytes of the
 * option (mss-clamp, on by default).  Needed because Linux does not
 * count options set on an established IPv6 TCP socket in its MSS
 * (ipv6_update_options() skips native IPv6 sockets): without the clamp
 * every full-size segment would leave 40 bytes over the MTU and be
 * dropped (measured: the transfer stalls, Icmp6OutPktTooBigs).  The
 * clamp also goes in the SYN-ACK, as lbspd's MSS clamp does.  A
 * smaller MSS the application set is kept (536, the kernel's default
 * for an unconnected socket, reads as "not set").
 */
static void
listener_clamp(int fd)
{
	int cur = 0, want;
	socklen_t len = sizeof(cur);

	if (!shim.conf->mss_clamp)
		return;
	want = (int)shim.conf->mtu - 40 - SP_LBSP_HDR_LEN - 20;
	if (shim.libc.getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &cur, &len) ==
	    0 && cur != 536 && cur > 0 && cur <= want)
		return;
	if (shim.libc.setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &want,
	    sizeof(want)) == -1)
		shim_debug("fd %d: TCP_MAXSEG %d: %s", fd, want,
		    strerror(errno));
}

/* An IPv6 stream socket?  Then ask for the SYN's options.  errno kept. */
static uint8_t
listener_setup(int fd)
{
	int domain = -1, type = -1, on = 1, saved = errno;
	socklen_t len = sizeof(domain);
	uint8_t flags = SFD_CHECKED;

	if (shim.libc.getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) ==
	    0 && domain == AF_INET6 &&
	    (len = sizeof(type), shim.libc.getsockopt(fd, SOL_SOCKET, SO_TYPE,
	    &type, &len)) == 0 && type == SOCK_STREAM &&
	    shim.libc.setsockopt(fd, IPPROTO_IPV6, IPV6_RECVDSTOPTS, &on,
	    sizeof(on)) == 0) {
		flags |= SFD_OURS;
		listener_clamp(fd);
	}
	if (fd >= 0 && (size_t)fd < sv.nfds)
		sv.fds[fd] = flags;
	errno = saved;
	return flags;
}

SHIM_EXPORT int
listen(int fd, int backlog)
{
	if (shim.libc.listen == NULL)
		shim_resolve();
	if (shim.ready)
		(void)listener_setup(fd);
	return shim.libc.listen(fd, backlog);
}

/* A connection accepted on one of our listeners: answer in kind. */
static void
accepted(int nfd)
{
	uint8_t buf[SP_PEER_BUF_SIZE];
	socklen_t len = sizeof(buf);
	struct sockaddr_in6 me;
	struct sp_lbsp opt;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	enum sp_err err;
	int off = 0;

	if (shim.libc.getsockopt(nfd, IPPROTO_IPV6, IPV6_2292PKTOPTIONS, buf,
	    &len) == -1)
		return;
	err = sp_peer_parse(buf, len, shim.type, &opt);
	(void)shim.libc.setsockopt(nfd, IPPROTO_IPV6, IPV6_RECVDSTOPTS, &off,
	    sizeof(off));
	if (err != SP_OK) {
		if (err != SP_ERR_NOT_FOUND)
			shim_debug("fd %d: client option malformed: %s", nfd,
			    sp_strerror(err));
		return;		/* a legacy client: nothing to answer */
	}
	if (shim.conf->has_server_address) {
		memcpy(opt.seg2, shim.conf->server_address, 16);
	} else {
		len = sizeof(me);
		if (getsockname(nfd, (struct sockaddr *)&me, &len) == -1 ||
		    me.sin6_family != AF_INET6)
			return;
		memcpy(opt.seg2, &me.sin6_addr, 16);
	}
	if (shim_dstopts(nfd, &opt) == 0)
		shim_debug("fd %d: answering seg1 %s seg2 %s", nfd,
		    shim_ntop(opt.seg1, a), shim_ntop(opt.seg2, b));
}

static void
after_accept(int lfd, int nfd)
{
	uint8_t flags = 0;
	int saved = errno;

	if (!shim.ready || nfd < 0)
		return;
	if (lfd >= 0 && (size_t)lfd < sv.nfds)
		flags = sv.fds[lfd];
	if (!(flags & SFD_CHECKED))
		flags = listener_setup(lfd);
	if (flags & SFD_OURS)
		accepted(nfd);
	errno = saved;
}

SHIM_EXPORT int
accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	int nfd;

	if (shim.libc.accept == NULL)
		shim_resolve();
	nfd = shim.libc.accept(fd, sa, len);
	after_accept(fd, nfd);
	return nfd;
}

SHIM_EXPORT int
accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	int nfd;

	if (shim.libc.accept4 == NULL)
		shim_resolve();
	nfd = shim.libc.accept4(fd, sa, len, flags);
	after_accept(fd, nfd);
	return nfd;
}
