/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shim.h -- what the client and the server shims share (shim.c is built
 * into both liblbsp-client.so and liblbsp-server.so): the environment
 * and configuration read once at load, the libc functions found with
 * dlsym(RTLD_NEXT), logging once, and putting the LBSP option on a
 * socket -- with IPV6_DSTOPTS directly when the process may (it needs
 * CAP_NET_RAW), else through lbspd's control socket (SCM_RIGHTS).
 *
 * Nothing here is exported: the libraries are built with
 * -fvisibility=hidden and only the wrapped libc functions carry
 * SHIM_EXPORT.
 *
 * Threads: the state below is written once, by the constructor, before
 * the application runs; afterwards it is read only, except the atomics.
 */
#ifndef LBSP_SHIM_H
#define LBSP_SHIM_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sp/clock.h>
#include <sp/conf.h>
#include <sp/dopt.h>

#include "conf_priv.h"	/* layout of sp_conf: see that file */

#define SHIM_EXPORT	__attribute__((visibility("default")))
#define SHIM_PRINTF(f, a) __attribute__((format(printf, f, a)))

#ifndef LBSP_CONF_DEFAULT
#error "LBSP_CONF_DEFAULT comes from configure (Makefile.am, AM_CPPFLAGS)"
#endif
#define SHIM_CONF_DEFAULT	LBSP_CONF_DEFAULT
#define SHIM_SOCKET_DEFAULT	"/run/lbsp/lbspd.sock"
#define SHIM_CONF_MAX_BYTES	(1 << 20)	/* lbsp.conf read at most */
#define SHIM_LBSPD_MS		1000	/* ms for one dstopts request */
#define SHIM_LOOKUP_MS		100	/* ms for one lookup: connect() waits
					   on it; later, it goes to the vip */
#define SHIM_PROTO		"shim1"	/* request version lbspd must speak
					   (lbspd/control/commands.c) */

/* Messages logged at most once per process: one bit each. */
enum shim_once {
	SHIM_ONCE_CONF = 1u << 0,	/* configuration unreadable */
	SHIM_ONCE_NOPATH = 1u << 1,	/* option could not be set at all */
	SHIM_ONCE_LBSPD = 1u << 2,	/* lbspd refused the socket */
	SHIM_ONCE_VIPS = 1u << 3,	/* bad LBSP_VIPS entry */
	SHIM_ONCE_IDENTITY = 1u << 4,	/* bad LBSP_IDENTITY */
	SHIM_ONCE_FDS = 1u << 5,	/* fd beyond the state table */
};

/* How the option gets on a socket; the first EPERM switches to lbspd. */
enum shim_path {
	SHIM_PATH_UNKNOWN,	/* not tried yet */
	SHIM_PATH_DIRECT,	/* setsockopt works: CAP_NET_RAW */
	SHIM_PATH_LBSPD,	/* no capability: ask lbspd */
};

/* The libc functions the shims call through (never through themselves). */
struct shim_libc {
	int (*socket)(int, int, int);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	int (*close)(int);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	ssize_t (*sendto)(int, const void *, size_t, int,
	    const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	int (*sendmmsg)(int, struct mmsghdr *, unsigned int, int);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	int (*listen)(int, int);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
};

struct shim {
	bool ready;		/* constructor done, configuration usable */
	const char *who;	/* "client" or "server", for messages */
	struct sp_conf *conf;	/* lbsp.conf + LBSP_VIPS (calloc'd, never
				   freed: the process may call us until
				   its very end) */
	uint8_t type;		/* LBSP option type, from the conf */
	bool debug;		/* LBSP_DEBUG set: log every decision */
	char sockpath[SP_CONF_PATH_SIZE];	/* lbspd control socket */
	struct shim_libc libc;
	_Atomic int path;	/* enum shim_path */
	_Atomic unsigned once;	/* enum shim_once bits already logged */
	size_t nfds;		/* entries of the per-fd tables */
};

extern struct shim shim;

/*
 * Read the environment and the configuration, resolve libc (called by
 * each shim's constructor).  who: "client" or "server"; client: also
 * apply LBSP_VIPS.  Never fails: on any error the shim stays
 * transparent (shim.ready false).
 */
void shim_init(const char *who, bool client);

/* Resolve the libc functions now (also usable before shim_init()). */
void shim_resolve(void);

/* Log "lbsp-<who>-shim: ..." to stderr, once per process per bit. */
void shim_log_once(unsigned bit, const char *fmt, ...) SHIM_PRINTF(2, 3);

/* Log when LBSP_DEBUG is set. */
void shim_debug(const char *fmt, ...) SHIM_PRINTF(1, 2);

/*
 * Put LBSP{opt} on the socket fd (IPV6_DSTOPTS), or remove ours when opt
 * is NULL: directly, or through lbspd when the process lacks
 * CAP_NET_RAW.  Returns 0 when set, -1 when it could not be (logged
 * once); errno is left as it was either way: the application never
 * sees the shim's errors.
 */
int shim_dstopts(int fd, const struct sp_lbsp *opt);

/*
 * One request to lbspd: send line (ending in "\n") with fd attached
 * (SCM_RIGHTS) when fd >= 0, read the answer (at most size - 1 bytes,
 * NUL-terminated) within ms milliseconds.  Returns the answer length or
 * -1.  errno is preserved.
 */
ssize_t shim_lbspd(const char *line, int fd, char *ans, size_t size,
    unsigned ms);

/* The vip at addr serving port (0: any), or NULL.  Never NULL conf. */
const struct sp_conf_vip *shim_vip(const uint8_t addr[16], uint16_t port);

/* May a client follow server for vip (inside allow-servers)? */
bool shim_server_allowed(const struct sp_conf_vip *vip,
    const uint8_t server[16]);

/* Format an address for messages (buf of INET6_ADDRSTRLEN). */
const char *shim_ntop(const uint8_t addr[16], char *buf);

#endif /* LBSP_SHIM_H */
