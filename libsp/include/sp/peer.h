/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp/peer.h -- the client identity of a connection, for applications:
 * the L3 answer to X-Forwarded-For (doc/design.md §3.5, §4 path 2).
 *
 * A server that wants to know which client identity (seg1) the balancer
 * used for a connection asks the kernel: with IPV6_RECVDSTOPTS set on
 * the listening socket (sp_peer_enable()), getsockopt(IPV6_2292PKTOPTIONS)
 * on an accepted TCP socket returns, as ancillary data, the Destination
 * Options header of the latest in-order segment received from the client
 * (right after accept(): the SYN's).  sp_peer_parse() reads the LBSP
 * option out of such ancillary data; sp_peer_option() and
 * sp_peer_identity() do the getsockopt() too.
 *
 * Ancillary data walked (struct cmsghdr, CMSG_ALIGN'd, as the kernel
 * writes it):
 *
 *   +----------+--------------+------------------+-----------------+
 *   | cmsg_len | cmsg_level   | cmsg_type        | data: one whole |
 *   |          | IPPROTO_IPV6 | IPV6_DSTOPTS or  | Destination     |
 *   |          |              | IPV6_2292DSTOPTS | Options header  |
 *   +----------+--------------+------------------+-----------------+
 *   (cmsg_len covers header and data; the next message starts at
 *   CMSG_ALIGN(cmsg_len)) ... more messages (IPV6_PKTINFO, hop
 *   limit...), skipped.
 *
 * Policy: at most SP_PEER_MAX_CMSGS messages are looked at; a message
 * whose length runs past the buffer ends the walk (SP_ERR_TRUNCATED);
 * two LBSP options (in one header or in two) are SP_ERR_DUPLICATE.
 *
 * Why a syscall in libsp: the whole point of sp_peer_identity() is to be
 * the one call an application makes on its socket; everything that can
 * be tested without a socket is in sp_peer_parse(), which does no I/O.
 */
#ifndef SP_PEER_H
#define SP_PEER_H

#include <sp/dopt.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Public API: exported from libsp.so (built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

#define SP_PEER_MAX_CMSGS	16	/* ancillary messages walked, max */
#define SP_PEER_BUF_SIZE	512	/* bytes of ancillary data read by
					   sp_peer_option(): a 40-byte
					   header plus what else the kernel
					   adds */

/*
 * sp_peer_parse - find the LBSP option in ancillary data.
 * @cmsgs, @len: the buffer as filled by getsockopt(IPV6_2292PKTOPTIONS)
 *     or by recvmsg() (msg_control, msg_controllen bytes).
 * @type: the LBSP option type (SP_LBSP_TYPE_DEFAULT unless configured).
 * @opt: set on SP_OK.
 * Returns SP_OK, SP_ERR_NOT_FOUND (no Destination Options message, or
 * none holds the option), SP_ERR_DUPLICATE, SP_ERR_TRUNCATED (a message
 * runs past len), SP_ERR_INVALID (NULL arguments), or an
 * sp_dopt_decode() error for a malformed header.
 * Why: the server shim and applications read the same bytes; this is
 * the part that can be unit-tested.
 */
enum sp_err sp_peer_parse(const uint8_t *cmsgs, size_t len, uint8_t type,
    struct sp_lbsp *opt);

/*
 * sp_peer_enable - ask the kernel to keep the Destination Options of
 * received segments on fd (setsockopt IPV6_RECVDSTOPTS); set it on a
 * listening socket before connections arrive, accepted sockets inherit
 * it.  Needs no privilege.
 * Returns 0, or -1 with errno set by setsockopt().
 */
int sp_peer_enable(int fd);

/*
 * sp_peer_option - the LBSP option of the latest in-order segment
 * received on the TCP socket fd (right after accept(): the SYN's) while
 * IPV6_RECVDSTOPTS was on.  When it is off now (the server shim turns it
 * off after accept(): the kernel keeps what it had, copies nothing
 * new), it is turned on for the read and off again.
 * @type: the LBSP option type.  @opt: set on success.
 * Returns 0, or -1 with errno: ENOENT when that segment carried no
 * LBSP option (or IPV6_RECVDSTOPTS was not set), EBADMSG when it was
 * malformed, else getsockopt()'s errno.
 */
int sp_peer_option(int fd, uint8_t type, struct sp_lbsp *opt);

/*
 * sp_peer_identity - the client identity (seg1) of the connection fd:
 * the address or random id the balancer balanced on, where
 * getpeername() gives only the packet's source.
 * Returns 0 and fills identity, or -1 with errno as sp_peer_option().
 */
int sp_peer_identity(int fd, uint8_t type, uint8_t identity[16]);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* SP_PEER_H */
