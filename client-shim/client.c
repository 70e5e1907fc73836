/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * client.c -- liblbsp-client.so, the client shim (doc/design.md §3.1, §3.5,
 * §4 path 2).  LD_PRELOAD it into an unmodified program:
 *
 *   LD_PRELOAD=liblbsp-client.so LBSP_CONF=FILE LBSP_VIPS=ADDR[,ADDR]
 *       LBSP_IDENTITY=address|random|HEX program ...
 *
 * A socket's journey, top-down:
 *   1. connect() to a vip (and one of its ports), TCP or UDP:
 *      a. the identity (seg1): the source address the kernel will use
 *         (address), one random id for the whole process (random), or
 *         the configured one (HEX);
 *      b. the server known for (vip, identity) -- learned by this
 *         process from earlier responses, else from lbspd's cache --
 *         when `redirect on` and it is inside the vip's allow-servers;
 *      c. IPV6_DSTOPTS = LBSP{seg1, seg2 = that server or zero}, set
 *         directly (CAP_NET_RAW) or by lbspd (SCM_RIGHTS); the kernel
 *         then puts the option on every segment, GSO intact;
 *      d. TCP with a known server: connect straight to it (the balancer
 *         steps out of the path); if that fails within fallback-timeout
 *         the server is forgotten and the socket connects to the vip;
 *   2. sendto() / sendmsg() / sendmmsg() to a vip on an unconnected
 *      socket (UDP, or TCP fast open): the option is set as in 1c
 *      before the datagram leaves; sending to a non-vip afterwards
 *      removes it again;
 *   3. the response: the option of the latest segment is read
 *      (IPV6_2292PKTOPTIONS) when the connection completes
 *      (getsockopt(SO_ERROR) or a blocking connect()) and at close();
 *      a seg2 inside allow-servers is learned for (vip, identity);
 *   4. getpeername() of a redirected socket answers the vip.
 * Anything else -- non-IPv6, non-vip, other socket types -- goes
 * straight to libc: the application behaves as without the shim.
 *
 * Errors: the shim never makes a call fail that would have succeeded
 * without it; its own failures are logged once to stderr and the
 * socket goes on without the option.
 *
 * Threads: the per-fd table is touched only by calls on that fd (an
 * application does not connect one fd from two threads at once); the
 * server cache is guarded by a mutex.  Async-signal safety: calls that
 * do not involve a vip only read state written at load and are as safe
 * as the libc call they wrap; a connect() or send to a vip takes a
 * mutex and may talk to lbspd, so it is not async-signal-safe.
 */
#include "config.h"

#include <sys/random.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sp/peer.h>

#include "shim.h"

#define CFD_MAX		(1u << 18)	/* fds with state, at most */
#define CACHE_SIZE	64		/* (vip, identity) -> server */

/* State of one fd, valid while flags != 0. */
enum cfd_flags {
	CFD_OPT = 1u << 0,	/* we set the option on this socket */
	CFD_TCP = 1u << 1,	/* a stream socket */
	CFD_LEARN = 1u << 2,	/* read the response's option later */
	CFD_REDIRECTED = 1u << 3, /* connected straight to server */
};

struct cfd {
	uint8_t flags;		/* enum cfd_flags */
	uint8_t vip[16];	/* the vip the application asked for */
	uint8_t id[16];		/* seg1 we sent */
	uint8_t seg2[16];	/* seg2 we sent */
	uint8_t server[16];	/* where we connected, when redirected */
};

/* One cache entry: a learned server, or one that failed (bad). */
struct centry {
	uint8_t vip[16];
	uint8_t id[16];
	uint8_t server[16];
	uint64_t expire_ms;	/* monotonic ms; 0 = free slot */
	bool bad;		/* failed: do not follow it until expiry */
};

static const uint8_t zero16[16];

enum id_mode {
	ID_ADDRESS,		/* the source address of each socket */
	ID_FIXED,		/* random per process, or configured */
};

static struct {
	enum id_mode mode;
	uint8_t id[16];		/* ID_FIXED */
	struct cfd *fds;	/* nfds entries, or NULL */
	size_t nfds;
	pthread_mutex_t lock;	/* guards cache */
	struct centry cache[CACHE_SIZE];
} cl = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ------------------------------------------------------------ helpers */

static struct cfd *
cfd_get(int fd)
{
	if (fd < 0 || cl.fds == NULL || (size_t)fd >= cl.nfds) {
		if (fd >= 0 && cl.fds != NULL)
			shim_log_once(SHIM_ONCE_FDS, "fd %d beyond the shim's "
			    "table (%zu): no redirect learning on it", fd,
			    cl.nfds);
		return NULL;
	}
	return &cl.fds[fd];
}

static bool
hexval(char c, uint8_t *v)
{
	if (c >= '0' && c <= '9')
		*v = (uint8_t)(c - '0');
	else if (c >= 'a' && c <= 'f')
		*v = (uint8_t)(c - 'a' + 10);
	else if (c >= 'A' && c <= 'F')
		*v = (uint8_t)(c - 'A' + 10);
	else
		return false;
	return true;
}

/* LBSP_IDENTITY HEX: 32 hex digits (or an IPv6 literal). */
static bool
parse_id(const char *s, uint8_t id[16])
{
	uint8_t hi, lo;
	size_t i;

	if (strlen(s) == 32) {
		for (i = 0; i < 16; i++) {
			if (!hexval(s[2 * i], &hi) ||
			    !hexval(s[2 * i + 1], &lo))
				return false;
			id[i] = (uint8_t)(hi << 4 | lo);
		}
	} else if (inet_pton(AF_INET6, s, id) != 1) {
		return false;
	}
	return memcmp(id, zero16, 16) != 0;
}

static void
random_id(uint8_t id[16])
{
	size_t got;
	ssize_t n;
	int tries;

	for (tries = 0; tries < 4; tries++) {
		for (got = 0; got < 16; got += (size_t)n) {
			n = getrandom(id + got, 16 - got, 0);
			if (n == -1 && errno == EINTR)
				n = 0;
			else if (n <= 0)
				break;
		}
		if (got == 16 && memcmp(id, zero16, 16) != 0)
			return;
	}
	/* No entropy source: weak, but never all zero. */
	memset(id, 0, 16);
	id[0] = 0xfe;
	memcpy(id + 4, &(uint64_t){ sp_now_ms() }, 8);
	memcpy(id + 12, &(pid_t){ getpid() }, sizeof(pid_t));
}

static void
identity_init(void)
{
	const char *s = getenv("LBSP_IDENTITY");

	if (s == NULL || s[0] == '\0') {
		switch (shim.conf->identity) {
		case SP_CONF_IDENTITY_LITERAL:
			cl.mode = ID_FIXED;
			memcpy(cl.id, shim.conf->identity_addr, 16);
			return;
		case SP_CONF_IDENTITY_RANDOM:
			/* lbspd's host-wide id is its own: one per process. */
			cl.mode = ID_FIXED;
			random_id(cl.id);
			return;
		case SP_CONF_IDENTITY_ADDRESS:
		default:
			cl.mode = ID_ADDRESS;
			return;
		}
	}
	if (strcmp(s, "address") == 0) {
		cl.mode = ID_ADDRESS;
	} else if (strcmp(s, "random") == 0) {
		cl.mode = ID_FIXED;
		random_id(cl.id);
	} else if (parse_id(s, cl.id)) {
		cl.mode = ID_FIXED;
	} else {
		shim_log_once(SHIM_ONCE_IDENTITY, "LBSP_IDENTITY '%.40s': "
		    "not address, random or 32 hex digits; using address", s);
		cl.mode = ID_ADDRESS;
	}
}

__attribute__((constructor)) static void
client_init(void)
{
	char buf[INET6_ADDRSTRLEN];

	shim_init("client", true);
	if (!shim.ready)
		return;
	identity_init();
	cl.nfds = shim.nfds < CFD_MAX ? shim.nfds : CFD_MAX;
	cl.fds = calloc(cl.nfds, sizeof(*cl.fds));
	if (cl.fds == NULL)
		cl.nfds = 0;
	shim_debug("identity %s", cl.mode == ID_ADDRESS ? "address" :
	    shim_ntop(cl.id, buf));
}

/*
 * seg1 for a socket about to talk to dst: the fixed id, or the source
 * address the kernel will pick (the bound one, else a route lookup by
 * connecting a throw-away UDP socket, which sends nothing).
 */
static bool
identity_for(int fd, const struct sockaddr_in6 *dst, uint8_t id[16])
{
	struct sockaddr_in6 me;
	socklen_t len = sizeof(me);
	int s, saved = errno;
	bool ok = false;

	if (cl.mode == ID_FIXED) {
		memcpy(id, cl.id, 16);
		return true;
	}
	if (getsockname(fd, (struct sockaddr *)&me, &len) == 0 &&
	    me.sin6_family == AF_INET6 &&
	    !IN6_IS_ADDR_UNSPECIFIED(&me.sin6_addr)) {
		memcpy(id, &me.sin6_addr, 16);
		return true;
	}
	s = shim.libc.socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s != -1) {
		len = sizeof(me);
		if (shim.libc.connect(s, (const struct sockaddr *)dst,
		    sizeof(*dst)) == 0 &&
		    getsockname(s, (struct sockaddr *)&me, &len) == 0 &&
		    !IN6_IS_ADDR_UNSPECIFIED(&me.sin6_addr)) {
			memcpy(id, &me.sin6_addr, 16);
			ok = true;
		}
		shim.libc.close(s);
	}
	errno = saved;
	return ok;
}

static int
sock_type(int fd)
{
	int type = -1, saved = errno;
	socklen_t len = sizeof(type);

	if (shim.libc.getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1)
		type = -1;
	errno = saved;
	return type;
}

/* ------------------------------------------------------------ cache */

static struct centry *
cache_find(const uint8_t vip[16], const uint8_t id[16], uint64_t now)
{
	unsigned i;

	for (i = 0; i < CACHE_SIZE; i++)
		if (cl.cache[i].expire_ms > now &&
		    memcmp(cl.cache[i].vip, vip, 16) == 0 &&
		    memcmp(cl.cache[i].id, id, 16) == 0)
			return &cl.cache[i];
	return NULL;
}

/* Record (vip, id) -> server, good or bad; evicts the oldest entry. */
static void
cache_set(const uint8_t vip[16], const uint8_t id[16],
    const uint8_t server[16], bool bad)
{
	uint64_t now = sp_now_ms();
	struct centry *e;
	unsigned i;

	pthread_mutex_lock(&cl.lock);
	e = cache_find(vip, id, now);
	if (e == NULL) {
		e = &cl.cache[0];
		for (i = 1; i < CACHE_SIZE; i++)
			if (cl.cache[i].expire_ms < e->expire_ms)
				e = &cl.cache[i];
	}
	memcpy(e->vip, vip, 16);
	memcpy(e->id, id, 16);
	memcpy(e->server, server, 16);
	e->bad = bad;
	e->expire_ms = now + (shim.conf->cache_ttl_ms > 0 ?
	    shim.conf->cache_ttl_ms : 1);
	pthread_mutex_unlock(&cl.lock);
}

/*
 * lbspd's cache: the server it learned for (vip, id), if any and not
 * suspect -- one small versioned request ("shim1 lookup VIP ID"), within
 * SHIM_LOOKUP_MS; no answer in time is a miss (the connection goes to
 * the vip).
 */
static bool
lbspd_cache(const uint8_t vip[16], const uint8_t id[16], uint8_t server[16])
{
	char line[32 + 2 * INET6_ADDRSTRLEN], ans[64], a[INET6_ADDRSTRLEN],
	    b[INET6_ADDRSTRLEN];
	size_t n;

	snprintf(line, sizeof(line), SHIM_PROTO " lookup %s %s\n",
	    shim_ntop(vip, a), shim_ntop(id, b));
	if (shim_lbspd(line, -1, ans, sizeof(ans), SHIM_LOOKUP_MS) <= 0 ||
	    strncmp(ans, "server ", 7) != 0)
		return false;
	n = strcspn(ans + 7, "\n");
	ans[7 + n] = '\0';
	return inet_pton(AF_INET6, ans + 7, server) == 1 &&
	    memcmp(server, zero16, 16) != 0;
}

/*
 * The server to use for (vip, id): ours, else lbspd's -- unless we saw
 * it fail, and only inside allow-servers (a forged or stale seg2 can at
 * most pick a legitimate server).  ask_lbspd: worth a round trip.
 */
static bool
server_for(const struct sp_conf_vip *vip, const uint8_t id[16],
    uint8_t server[16], bool ask_lbspd)
{
	struct centry *e;
	uint8_t bad[16];
	bool have_bad = false, found = false;

	if (!shim.conf->redirect)
		return false;
	pthread_mutex_lock(&cl.lock);
	e = cache_find(vip->addr, id, sp_now_ms());
	if (e != NULL && e->bad) {
		memcpy(bad, e->server, 16);
		have_bad = true;
	} else if (e != NULL) {
		memcpy(server, e->server, 16);
		found = true;
	}
	pthread_mutex_unlock(&cl.lock);
	if (!found && ask_lbspd && lbspd_cache(vip->addr, id, server))
		found = !(have_bad && memcmp(bad, server, 16) == 0);
	if (found && (memcmp(server, vip->addr, 16) == 0 ||
	    !shim_server_allowed(vip, server)))
		found = false;
	return found;
}

/*
 * Learn from the latest segment received on a connection of ours:
 * seg1 must be ours, seg2 inside allow-servers.
 */
static void
learn(int fd, struct cfd *c)
{
	const struct sp_conf_vip *vip;
	uint8_t buf[SP_PEER_BUF_SIZE];
	socklen_t len = sizeof(buf);
	struct sp_lbsp opt;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	int saved = errno;

	if (shim.libc.getsockopt(fd, IPPROTO_IPV6, IPV6_2292PKTOPTIONS, buf,
	    &len) == -1 || sp_peer_parse(buf, len, shim.type, &opt) != SP_OK)
		goto out;
	if (memcmp(opt.seg1, c->id, 16) != 0 ||
	    memcmp(opt.seg2, zero16, 16) == 0 ||
	    memcmp(opt.seg2, c->vip, 16) == 0)
		goto out;
	vip = shim_vip(c->vip, 0);
	if (vip == NULL || !shim_server_allowed(vip, opt.seg2)) {
		shim_debug("fd %d: seg2 %s outside allow-servers of %s", fd,
		    shim_ntop(opt.seg2, a), shim_ntop(c->vip, b));
		goto out;
	}
	cache_set(c->vip, c->id, opt.seg2, false);
	shim_debug("fd %d: learned %s -> %s", fd, shim_ntop(c->vip, a),
	    shim_ntop(opt.seg2, b));
out:
	errno = saved;
}

/* Our option off a socket that no longer talks to a vip. */
static void
cfd_drop_option(int fd, struct cfd *c)
{
	if (c != NULL && (c->flags & CFD_OPT))
		(void)shim_dstopts(fd, NULL);
	if (c != NULL)
		c->flags = 0;
}

/* ------------------------------------------------------------ connect */

/*
 * Connect fd to server instead of dst, waiting at most
 * fallback-timeout.  Returns 0 when connected, -1 otherwise.
 */
static int
redirect_connect(int fd, const struct sockaddr_in6 *dst,
    const uint8_t server[16])
{
	struct sockaddr_in6 to = *dst;
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	uint64_t deadline, now;
	socklen_t len;
	int flags, rc, err;

	memcpy(&to.sin6_addr, server, 16);
	if (!IN6_IS_ADDR_LINKLOCAL(&to.sin6_addr))
		to.sin6_scope_id = 0;
	flags = fcntl(fd, F_GETFL);
	if (flags == -1)
		return -1;
	if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK)
	    == -1)
		return -1;
	rc = shim.libc.connect(fd, (const struct sockaddr *)&to, sizeof(to));
	if (rc == -1 && errno == EINPROGRESS) {
		deadline = sp_now_ms() + shim.conf->fallback_timeout_ms;
		rc = -1;
		while ((now = sp_now_ms()) < deadline) {
			pfd.revents = 0;
			err = poll(&pfd, 1, (int)(deadline - now));
			if (err == -1 && errno == EINTR)
				continue;
			if (err == 1) {
				len = sizeof(err);
				if (shim.libc.getsockopt(fd, SOL_SOCKET,
				    SO_ERROR, &err, &len) == 0 && err == 0)
					rc = 0;
			}
			break;
		}
	}
	if (!(flags & O_NONBLOCK))
		(void)fcntl(fd, F_SETFL, flags);
	return rc;
}

static int
client_connect(int fd, const struct sockaddr_in6 *dst,
    const struct sp_conf_vip *vip)
{
	static const struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	struct cfd *c = cfd_get(fd), local;
	struct sp_lbsp opt;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	bool tcp, have_server;
	int type, rc, on = 1, saved = errno;

	type = sock_type(fd);
	if (type != SOCK_STREAM && type != SOCK_DGRAM)
		return shim.libc.connect(fd, (const struct sockaddr *)dst,
		    sizeof(*dst));
	tcp = type == SOCK_STREAM;
	if (c == NULL)
		c = &local;
	memset(c, 0, sizeof(*c));
	if (!identity_for(fd, dst, opt.seg1)) {
		shim_debug("fd %d: no source address toward %s", fd,
		    shim_ntop(vip->addr, a));
		return shim.libc.connect(fd, (const struct sockaddr *)dst,
		    sizeof(*dst));
	}
	have_server = server_for(vip, opt.seg1, opt.seg2, true);
	if (!have_server)
		memset(opt.seg2, 0, 16);
	memcpy(c->vip, vip->addr, 16);
	memcpy(c->id, opt.seg1, 16);
	memcpy(c->seg2, opt.seg2, 16);
	c->flags = tcp ? CFD_TCP : 0;
	if (tcp && shim.conf->redirect &&
	    shim.libc.setsockopt(fd, IPPROTO_IPV6, IPV6_RECVDSTOPTS, &on,
	    sizeof(on)) == 0)
		c->flags |= CFD_LEARN;
	if (shim_dstopts(fd, &opt) == 0)
		c->flags |= CFD_OPT;
	errno = saved;

	if (have_server && tcp) {
		shim_debug("fd %d: %s -> %s (redirect)", fd,
		    shim_ntop(vip->addr, a), shim_ntop(opt.seg2, b));
		if (redirect_connect(fd, dst, opt.seg2) == 0) {
			memcpy(c->server, opt.seg2, 16);
			c->flags |= CFD_REDIRECTED;
			errno = saved;
			return 0;
		}
		/* Gone: forget it, back to the vip on a fresh start. */
		shim_debug("fd %d: %s did not answer: back to %s", fd,
		    shim_ntop(opt.seg2, b), shim_ntop(vip->addr, a));
		cache_set(vip->addr, opt.seg1, opt.seg2, true);
		(void)shim.libc.connect(fd, &unspec, sizeof(unspec));
		memset(opt.seg2, 0, 16);
		memset(c->seg2, 0, 16);
		if (c->flags & CFD_OPT)
			(void)shim_dstopts(fd, &opt);
		errno = saved;
	}
	rc = shim.libc.connect(fd, (const struct sockaddr *)dst,
	    sizeof(*dst));
	if (rc == 0 && (c->flags & CFD_LEARN) && c != &local)
		learn(fd, c);
	return rc;
}

SHIM_EXPORT int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	const struct sp_conf_vip *vip;
	struct sockaddr_in6 dst;

	if (shim.libc.connect == NULL)
		shim_resolve();
	if (!shim.ready || sa == NULL)
		return shim.libc.connect(fd, sa, len);
	if (sa->sa_family != AF_INET6 || len < (socklen_t)sizeof(dst)) {
		/* A datagram socket re-connected elsewhere. */
		cfd_drop_option(fd, cfd_get(fd));
		return shim.libc.connect(fd, sa, len);
	}
	memcpy(&dst, sa, sizeof(dst));
	vip = shim_vip(dst.sin6_addr.s6_addr, ntohs(dst.sin6_port));
	if (vip == NULL) {
		cfd_drop_option(fd, cfd_get(fd));
		return shim.libc.connect(fd, sa, len);
	}
	return client_connect(fd, &dst, vip);
}

/* ------------------------------------------------------------ send */

/*
 * Before a datagram (or a fast-open SYN) leaves an unconnected socket
 * for to: our option on for a vip, off for anything else.
 */
static void
send_prepare(int fd, const struct sockaddr *to, socklen_t tolen)
{
	const struct sp_conf_vip *vip;
	struct sockaddr_in6 dst;
	struct cfd *c, local;
	struct sp_lbsp opt;
	int type;

	if (!shim.ready || to == NULL || tolen < (socklen_t)sizeof(dst) ||
	    to->sa_family != AF_INET6)
		return;
	memcpy(&dst, to, sizeof(dst));
	c = cfd_get(fd);
	vip = shim_vip(dst.sin6_addr.s6_addr, ntohs(dst.sin6_port));
	if (vip == NULL) {
		cfd_drop_option(fd, c);
		return;
	}
	if (c != NULL && (c->flags & CFD_OPT) &&
	    memcmp(c->vip, vip->addr, 16) == 0)
		return;		/* already on, for this vip */
	type = sock_type(fd);
	if (type != SOCK_STREAM && type != SOCK_DGRAM)
		return;
	if (c == NULL)
		c = &local;
	memset(c, 0, sizeof(*c));
	if (!identity_for(fd, &dst, opt.seg1))
		return;
	if (!server_for(vip, opt.seg1, opt.seg2, true))
		memset(opt.seg2, 0, 16);
	memcpy(c->vip, vip->addr, 16);
	memcpy(c->id, opt.seg1, 16);
	memcpy(c->seg2, opt.seg2, 16);
	if (shim_dstopts(fd, &opt) == 0)
		c->flags = CFD_OPT | (type == SOCK_STREAM ? CFD_TCP : 0);
}

SHIM_EXPORT ssize_t
sendto(int fd, const void *buf, size_t len, int flags,
    const struct sockaddr *to, socklen_t tolen)
{
	if (shim.libc.sendto == NULL)
		shim_resolve();
	if (to != NULL)
		send_prepare(fd, to, tolen);
	return shim.libc.sendto(fd, buf, len, flags, to, tolen);
}

SHIM_EXPORT ssize_t
sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (shim.libc.sendmsg == NULL)
		shim_resolve();
	if (msg != NULL && msg->msg_name != NULL)
		send_prepare(fd, msg->msg_name, msg->msg_namelen);
	return shim.libc.sendmsg(fd, msg, flags);
}

/* Same destination class: both the same vip, or both not a vip. */
static bool
same_class(const struct msghdr *a, const struct msghdr *b)
{
	const struct sockaddr_in6 *x = a->msg_name, *y = b->msg_name;
	const struct sp_conf_vip *vx = NULL, *vy = NULL;

	if (x != NULL && a->msg_namelen >= sizeof(*x) &&
	    x->sin6_family == AF_INET6)
		vx = shim_vip(x->sin6_addr.s6_addr, ntohs(x->sin6_port));
	if (y != NULL && b->msg_namelen >= sizeof(*y) &&
	    y->sin6_family == AF_INET6)
		vy = shim_vip(y->sin6_addr.s6_addr, ntohs(y->sin6_port));
	if (x == NULL || y == NULL)
		return x == y;
	return vx == vy;
}

SHIM_EXPORT int
sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
	unsigned int i, j, sent = 0;
	int n;

	if (shim.libc.sendmmsg == NULL)
		shim_resolve();
	if (!shim.ready || vec == NULL || vlen == 0)
		return shim.libc.sendmmsg(fd, vec, vlen, flags);
	/* Runs of messages that need the same option state. */
	for (i = 0; i < vlen; i = j) {
		if (vec[i].msg_hdr.msg_name != NULL)
			send_prepare(fd, vec[i].msg_hdr.msg_name,
			    vec[i].msg_hdr.msg_namelen);
		for (j = i + 1; j < vlen &&
		    same_class(&vec[i].msg_hdr, &vec[j].msg_hdr); j++)
			;
		n = shim.libc.sendmmsg(fd, vec + i, j - i, flags);
		if (n == -1)
			return sent > 0 ? (int)sent : -1;
		sent += (unsigned)n;
		if ((unsigned)n < j - i)
			break;
	}
	return (int)sent;
}

/* ------------------------------------------------------------ after */

SHIM_EXPORT int
getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct cfd *c;
	int rc, saved;

	if (shim.libc.getsockopt == NULL)
		shim_resolve();
	rc = shim.libc.getsockopt(fd, level, name, val, len);
	/* A non-blocking connect() completing: the SYN-ACK is in. */
	if (rc == 0 && level == SOL_SOCKET && name == SO_ERROR &&
	    shim.ready && (c = cfd_get(fd)) != NULL &&
	    (c->flags & CFD_LEARN) && val != NULL && len != NULL &&
	    *len >= sizeof(int) && *(int *)val == 0) {
		saved = errno;
		learn(fd, c);
		errno = saved;
	}
	return rc;
}

SHIM_EXPORT int
getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct sockaddr_in6 *p;
	struct cfd *c;
	int rc;

	if (shim.libc.getpeername == NULL)
		shim_resolve();
	rc = shim.libc.getpeername(fd, sa, len);
	if (rc == 0 && shim.ready && (c = cfd_get(fd)) != NULL &&
	    (c->flags & CFD_REDIRECTED) && sa != NULL &&
	    *len >= sizeof(*p) && sa->sa_family == AF_INET6) {
		p = (struct sockaddr_in6 *)(void *)sa;
		if (memcmp(&p->sin6_addr, c->server, 16) == 0)
			memcpy(&p->sin6_addr, c->vip, 16);
	}
	return rc;
}

SHIM_EXPORT int
close(int fd)
{
	struct cfd *c;

	if (shim.libc.close == NULL)
		shim_resolve();
	if (shim.ready && fd >= 0 && cl.fds != NULL &&
	    (size_t)fd < cl.nfds && (c = &cl.fds[fd])->flags != 0) {
		if (c->flags & CFD_LEARN)
			learn(fd, c);
		c->flags = 0;
	}
	return shim.libc.close(fd);
}
