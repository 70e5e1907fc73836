/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * peer.c -- the client identity of a connection (API in sp/peer.h).
 *
 * sp_peer_parse() walks ancillary data with its own bounds checks (the
 * CMSG_NXTHDR macro trusts cmsg_len); the fd helpers are thin wrappers
 * over setsockopt() / getsockopt().
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <sp/peer.h>

#ifndef IPV6_2292DSTOPTS
#define IPV6_2292DSTOPTS	4
#endif
#ifndef IPV6_2292PKTOPTIONS
#define IPV6_2292PKTOPTIONS	6
#endif

enum sp_err
sp_peer_parse(const uint8_t *cmsgs, size_t len, uint8_t type,
    struct sp_lbsp *opt)
{
	const size_t hlen = CMSG_LEN(0);	/* header, data starts here */
	struct cmsghdr h;
	struct sp_lbsp one;
	size_t off = 0, step, dlen;
	unsigned n, found = 0;
	enum sp_err err, first_err = SP_ERR_NOT_FOUND;

	if (cmsgs == NULL || opt == NULL)
		return SP_ERR_INVALID;
	for (n = 0; n < SP_PEER_MAX_CMSGS && off < len && len - off >= hlen;
	    n++) {
		memcpy(&h, cmsgs + off, sizeof(h));
		if (h.cmsg_len < hlen || h.cmsg_len > len - off)
			return SP_ERR_TRUNCATED;
		dlen = h.cmsg_len - hlen;
		if (h.cmsg_level == IPPROTO_IPV6 &&
		    (h.cmsg_type == IPV6_DSTOPTS ||
		    h.cmsg_type == IPV6_2292DSTOPTS)) {
			err = sp_dopt_decode(cmsgs + off + hlen, dlen, type,
			    &one, NULL);
			if (err == SP_OK) {
				if (found++ > 0)
					return SP_ERR_DUPLICATE;
				*opt = one;
			} else if (err == SP_ERR_DUPLICATE) {
				return err;
			} else if (err != SP_ERR_NOT_FOUND &&
			    first_err == SP_ERR_NOT_FOUND) {
				first_err = err;
			}
		}
		step = CMSG_ALIGN(h.cmsg_len);
		if (step > len - off)
			break;	/* the last message needs no padding */
		off += step;
	}
	if (found == 1)
		return SP_OK;
	return first_err;
}

int
sp_peer_enable(int fd)
{
	int on = 1;

	return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVDSTOPTS, &on,
	    sizeof(on));
}

int
sp_peer_option(int fd, uint8_t type, struct sp_lbsp *opt)
{
	uint8_t buf[SP_PEER_BUF_SIZE];
	socklen_t len = sizeof(buf), olen = sizeof(int);
	int on = 0, one = 1, zero = 0, rc, saved;
	bool flip;
	enum sp_err err;

	if (opt == NULL) {
		errno = EINVAL;
		return -1;
	}
	/*
	 * The kernel formats the options it kept only while
	 * IPV6_RECVDSTOPTS is on; the server shim turns it off after
	 * accept() (so that later segments are not copied), which leaves
	 * the kept ones in place: turn it on for the read.
	 */
	flip = getsockopt(fd, IPPROTO_IPV6, IPV6_RECVDSTOPTS, &on, &olen) ==
	    0 && on == 0 && setsockopt(fd, IPPROTO_IPV6, IPV6_RECVDSTOPTS,
	    &one, sizeof(one)) == 0;
	rc = getsockopt(fd, IPPROTO_IPV6, IPV6_2292PKTOPTIONS, buf, &len);
	if (flip) {
		saved = errno;
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVDSTOPTS, &zero,
		    sizeof(zero));
		errno = saved;
	}
	if (rc == -1)
		return -1;
	err = sp_peer_parse(buf, len, type, opt);
	if (err == SP_OK)
		return 0;
	errno = err == SP_ERR_NOT_FOUND ? ENOENT :
	    err == SP_ERR_INVALID ? EINVAL : EBADMSG;
	return -1;
}

int
sp_peer_identity(int fd, uint8_t type, uint8_t identity[16])
{
	struct sp_lbsp opt;

	if (identity == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (sp_peer_option(fd, type, &opt) == -1)
		return -1;
	memcpy(identity, opt.seg1, 16);
	return 0;
}
