/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shim.c -- the part of the LD_PRELOAD shims that both share (see
 * shim.h): environment and configuration at load, libc lookup, logging
 * once, and putting the LBSP option on a socket directly or via lbspd.
 *
 * lbspd protocol (one request per connection on its control socket):
 *   shim -> lbspd: ONE sendmsg(): "dstopts HEX80\n" (the canonical
 *       40-byte header as 80 hex digits) or "dstopts none\n" (remove
 *       it), with the socket in SCM_RIGHTS;
 *   lbspd -> shim: "ok\n" or "error: MESSAGE\n", then it closes.
 * lbspd (which keeps CAP_NET_RAW) sets IPV6_DSTOPTS on the socket: the
 * option belongs to the socket, not to the descriptor, so the
 * application's descriptor gets it too.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

struct shim shim = { .type = SP_LBSP_TYPE_DEFAULT };

static const char hexdig[] = "0123456789abcdef";

void
shim_resolve(void)
{
	struct shim_libc *l = &shim.libc;

#define SHIM_SYM(name) do {						\
	if (l->name == NULL)						\
		*(void **)&l->name = dlsym(RTLD_NEXT, #name);		\
} while (0)
	SHIM_SYM(socket);
	SHIM_SYM(connect);
	SHIM_SYM(close);
	SHIM_SYM(setsockopt);
	SHIM_SYM(getsockopt);
	SHIM_SYM(sendto);
	SHIM_SYM(sendmsg);
	SHIM_SYM(sendmmsg);
	SHIM_SYM(getpeername);
	SHIM_SYM(listen);
	SHIM_SYM(accept);
	SHIM_SYM(accept4);
#undef SHIM_SYM
}

const char *
shim_ntop(const uint8_t addr[16], char *buf)
{
	if (inet_ntop(AF_INET6, addr, buf, INET6_ADDRSTRLEN) == NULL)
		snprintf(buf, INET6_ADDRSTRLEN, "?");
	return buf;
}

/* ------------------------------------------------------------ logging */

static void
shim_vlog(const char *fmt, va_list ap)
{
	char buf[512];
	int n, m;
	ssize_t w;

	n = snprintf(buf, sizeof(buf), "lbsp-%s-shim: ",
	    shim.who != NULL ? shim.who : "?");
	if (n < 0 || (size_t)n >= sizeof(buf))
		return;
	m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	do
		w = write(STDERR_FILENO, buf, (size_t)n);
	while (w == -1 && errno == EINTR);
}

void
shim_log_once(unsigned bit, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	if (atomic_fetch_or(&shim.once, bit) & bit) {
		if (!shim.debug)
			return;
	}
	va_start(ap, fmt);
	shim_vlog(fmt, ap);
	va_end(ap);
	errno = saved;
}

void
shim_debug(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	if (!shim.debug)
		return;
	va_start(ap, fmt);
	shim_vlog(fmt, ap);
	va_end(ap);
	errno = saved;
}

/* ------------------------------------------------------------ config */

static void
conf_err(void *arg, const char *file, unsigned line, const char *msg)
{
	unsigned *n = arg;

	if ((*n)++ == 0)
		shim_log_once(SHIM_ONCE_CONF, "%s:%u: %s (configuration "
		    "ignored)", file != NULL ? file : "?", line, msg);
}

/*
 * Read path into a malloc'd buffer.  Returns it (len set) or NULL with
 * errno set.
 */
static char *
read_file(const char *path, size_t *len)
{
	char *buf;
	size_t n = 0;
	ssize_t r;
	int fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return NULL;
	if ((buf = malloc(SHIM_CONF_MAX_BYTES)) == NULL) {
		saved = errno;
		shim.libc.close(fd);
		errno = saved;
		return NULL;
	}
	while (n < SHIM_CONF_MAX_BYTES) {
		r = read(fd, buf + n, SHIM_CONF_MAX_BYTES - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			saved = errno;
			free(buf);
			shim.libc.close(fd);
			errno = saved;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	shim.libc.close(fd);
	*len = n;
	return buf;
}

/*
 * Load LBSP_CONF (or the default file, silently absent).  Returns true
 * when a configuration was read and is valid.
 */
static bool
conf_load(struct sp_conf *conf)
{
	const char *path = getenv("LBSP_CONF");
	bool explicit = path != NULL && path[0] != '\0';
	unsigned nerr = 0;
	size_t len = 0;
	char *text;

	if (!explicit)
		path = SHIM_CONF_DEFAULT;
	text = read_file(path, &len);
	if (text == NULL) {
		if (explicit || errno != ENOENT)
			shim_log_once(SHIM_ONCE_CONF, "%s: %s", path,
			    strerror(errno));
		return false;
	}
	sp_conf_parse(text, len, path, conf, conf_err, &nerr);
	free(text);
	return nerr == 0;
}

/* Add the vips of LBSP_VIPS (commas or blanks between addresses). */
static void
vips_add(struct sp_conf *conf, const char *list)
{
	char word[INET6_ADDRSTRLEN + 1];
	uint8_t a[16];
	size_t n;

	while (*list != '\0') {
		n = strcspn(list, ", \t");
		if (n == 0) {
			list++;
			continue;
		}
		if (n >= sizeof(word) ||
		    (memcpy(word, list, n), word[n] = '\0',
		    inet_pton(AF_INET6, word, a) != 1)) {
			shim_log_once(SHIM_ONCE_VIPS, "LBSP_VIPS: bad address "
			    "'%.*s' ignored", (int)(n > 64 ? 64 : n), list);
		} else if (sp_conf_vip_find(conf, a) == NULL) {
			if (sp_conf_vip_add(conf, a) == NULL) {
				shim_log_once(SHIM_ONCE_VIPS, "LBSP_VIPS: more "
				    "than %d vips, or out of memory",
				    SP_CONF_MAX_VIPS);
				return;
			}
		}
		list += n;
	}
}

void
shim_init(const char *who, bool client)
{
	struct sp_conf *conf;
	const char *vips, *sock;
	struct rlimit rl;

	shim_resolve();
	shim.who = who;
	shim.debug = getenv("LBSP_DEBUG") != NULL &&
	    getenv("LBSP_DEBUG")[0] != '\0';
	if (shim.libc.connect == NULL || shim.libc.setsockopt == NULL ||
	    shim.libc.getsockopt == NULL || shim.libc.close == NULL ||
	    shim.libc.socket == NULL)
		return;		/* cannot even pass calls on: stay out */
	if ((conf = sp_conf_new()) == NULL)
		return;
	if (!conf_load(conf))
		sp_conf_defaults(conf);
	if (client && (vips = getenv("LBSP_VIPS")) != NULL)
		vips_add(conf, vips);
	shim.conf = conf;
	shim.type = conf->option_type;
	sock = getenv("LBSP_SOCKET");
	if (sock == NULL || sock[0] == '\0')
		sock = conf->control_socket[0] != '\0' ?
		    conf->control_socket : SHIM_SOCKET_DEFAULT;
	snprintf(shim.sockpath, sizeof(shim.sockpath), "%s", sock);
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur < 1024)
		shim.nfds = 1024;
	else if (rl.rlim_cur > (1u << 20))
		shim.nfds = 1u << 20;
	else
		shim.nfds = rl.rlim_cur;
	shim.ready = true;
	shim_debug("loaded: %u vips, option type 0x%02x, lbspd at %s",
	    conf->nvips, shim.type, shim.sockpath);
}

/* ------------------------------------------------------------ vips */

const struct sp_conf_vip *
shim_vip(const uint8_t addr[16], uint16_t port)
{
	const struct sp_conf_vip *vip;

	if (!shim.ready)
		return NULL;
	vip = sp_conf_vip_find(shim.conf, addr);
	if (vip == NULL || port == 0)
		return vip;
	return sp_conf_vip_has_port(vip, port) ? vip : NULL;
}

bool
shim_server_allowed(const struct sp_conf_vip *vip, const uint8_t server[16])
{
	return sp_conf_vip_allows(vip, server);
}

/* ------------------------------------------------------------ lbspd */

/* Wait for fd to be ready until deadline (sp_now_ms()): 1, 0, -1. */
static int
wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	uint64_t now;
	int rc;

	for (;;) {
		now = sp_now_ms();
		if (now >= deadline)
			return 0;
		rc = poll(&pfd, 1, (int)(deadline - now));
		if (rc == -1 && errno == EINTR)
			continue;
		return rc > 0 ? 1 : rc;
	}
}

ssize_t
shim_lbspd(const char *line, int fd, char *ans, size_t size, unsigned ms)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)line,
	    .iov_len = strlen(line) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	uint64_t deadline = sp_now_ms() + ms;
	size_t len = 0;
	ssize_t n;
	int s, saved = errno;

	if (size == 0 || strlen(shim.sockpath) >= sizeof(sun.sun_path))
		return -1;
	memcpy(sun.sun_path, shim.sockpath, strlen(shim.sockpath) + 1);
	s = shim.libc.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0);
	if (s == -1)
		goto fail;
	if (shim.libc.connect(s, (struct sockaddr *)&sun, sizeof(sun)) ==
	    -1 && errno != EINPROGRESS && errno != EAGAIN)
		goto fail_close;
	if (fd >= 0) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	/* One message: the line and the descriptor arrive together. */
	for (;;) {
		if (wait_fd(s, POLLOUT, deadline) != 1)
			goto fail_close;
		n = shim.libc.sendmsg(s, &msg, MSG_NOSIGNAL);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n != (ssize_t)iov.iov_len)
			goto fail_close;
		break;
	}
	while (len < size - 1) {
		if (wait_fd(s, POLLIN, deadline) != 1)
			break;
		n = read(s, ans + len, size - 1 - len);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	ans[len] = '\0';
	shim.libc.close(s);
	errno = saved;
	return len > 0 ? (ssize_t)len : -1;

fail_close:
	shim.libc.close(s);
fail:
	errno = saved;
	return -1;
}

/* ------------------------------------------------------------ option */

int
shim_dstopts(int fd, const struct sp_lbsp *opt)
{
	uint8_t hdr[SP_LBSP_HDR_LEN];
	char line[32 + 2 * SP_LBSP_HDR_LEN], ans[256];
	int saved = errno, path, rc;
	size_t i;
	ssize_t n;

	if (opt != NULL)
		sp_dopt_encode(hdr, IPPROTO_NONE, shim.type, opt);
	path = atomic_load(&shim.path);
	if (path != SHIM_PATH_LBSPD) {
		rc = shim.libc.setsockopt(fd, IPPROTO_IPV6, IPV6_DSTOPTS,
		    opt != NULL ? hdr : NULL, opt != NULL ? sizeof(hdr) : 0);
		if (rc == 0) {
			if (path == SHIM_PATH_UNKNOWN)
				atomic_store(&shim.path, SHIM_PATH_DIRECT);
			errno = saved;
			return 0;
		}
		if (errno != EPERM) {
			shim_debug("fd %d: IPV6_DSTOPTS: %s", fd,
			    strerror(errno));
			errno = saved;
			return -1;
		}
		shim_debug("no CAP_NET_RAW: using lbspd at %s",
		    shim.sockpath);
		atomic_store(&shim.path, SHIM_PATH_LBSPD);
	}
	if (opt == NULL) {
		snprintf(line, sizeof(line), SHIM_PROTO " dstopts none\n");
	} else {
		size_t k = strlen(SHIM_PROTO " dstopts ");

		memcpy(line, SHIM_PROTO " dstopts ", k);
		for (i = 0; i < sizeof(hdr); i++) {
			line[k + 2 * i] = hexdig[hdr[i] >> 4];
			line[k + 2 * i + 1] = hexdig[hdr[i] & 0xf];
		}
		line[k + 2 * sizeof(hdr)] = '\n';
		line[k + 2 * sizeof(hdr) + 1] = '\0';
	}
	n = shim_lbspd(line, fd, ans, sizeof(ans), SHIM_LBSPD_MS);
	errno = saved;
	if (n > 0 && strncmp(ans, "ok", 2) == 0)
		return 0;
	if (n <= 0)
		shim_log_once(SHIM_ONCE_NOPATH, "no CAP_NET_RAW and no lbspd "
		    "answering at %s: sockets left without the LBSP option",
		    shim.sockpath);
	else
		shim_log_once(SHIM_ONCE_LBSPD, "lbspd at %s: %.*s",
		    shim.sockpath, (int)strcspn(ans, "\n"), ans);
	return -1;
}
