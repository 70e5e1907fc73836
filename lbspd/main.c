/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * main.c -- lbspd: command line, configuration loading, "-n" check.
 *
 *   lbspd -c FILE [-f] [-d] [-s SOCKET]     run
 *   lbspd -c FILE -n                        check the configuration
 *   lbspd -c FILE --print-rules             print the steering rules
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/random.h>
#include <time.h>

#include <sp/conf.h>

#include "conf_priv.h"
#include "balancer/agent.h"
#include "balancer/balancer.h"
#include "balancer/cluster.h"
#include "checks/checks.h"
#include "lbspd.h"
#include "system/log.h"
#include "control/metrics.h"
#include "path/nfq.h"
#include "system/priv.h"
#include "path/path.h"
#include "system/rules.h"
#include "system/selftest.h"
#include "path/tc.h"

#ifndef LBSP_CONF_DEFAULT
#error "LBSP_CONF_DEFAULT comes from configure (Makefile.am, AM_CPPFLAGS)"
#endif
/* A configuration file is at most 64 MiB: over a million server lines
 * (lbsp.conf(5)); read into a buffer of its size, grown if it grows. */
#define CONF_MAX_BYTES (64u << 20)

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: lbspd [-dfn] [-c file] [-s socket] [--print-rules]\n");
	exit(1);
}

/*
 * Where configuration errors go: stderr for -n, --print-rules and start
 * (FILE:LINE: message), the log on reload.
 */
struct conf_sink {
	bool to_log;
};

static void __attribute__((format(printf, 2, 3)))
conf_report(const struct conf_sink *sink, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sink->to_log)
		log_warnx("%s", msg);
	else
		fprintf(stderr, "%s\n", msg);
}

static void
conf_err(void *arg, const char *file, unsigned line, const char *msg)
{
	conf_report(arg, "%s:%u: %s", file ? file : "-", line, msg);
}

/* A balancer_conf_check() message as a configuration error. */
struct limit_arg {
	const char *path;
	const struct conf_sink *sink;
};

static void
balancer_limit(void *arg, const char *msg)
{
	const struct limit_arg *la = arg;

	conf_report(la->sink, "%s: %s", la->path, msg);
}

/*
 * Read and parse the configuration at path into conf, reporting every
 * error.  Returns 0, or -1 after reporting why (I/O or configuration
 * errors).
 */
static int
conf_load(const char *path, struct sp_conf *conf, bool to_log)
{
	struct conf_sink sink = { to_log };
	struct stat st;
	char *text;
	ssize_t n;
	size_t len = 0, cap;
	char *grown;
	int fd, nerr;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		conf_report(&sink, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > CONF_MAX_BYTES) {
		conf_report(&sink, "%s: not a regular file of at most %u bytes",
		    path, CONF_MAX_BYTES);
		close(fd);
		return -1;
	}
	cap = (size_t)st.st_size + 1;	/* room to see it grew */
	text = malloc(cap);
	if (text == NULL) {
		conf_report(&sink, "%s: out of memory", path);
		close(fd);
		return -1;
	}
	/* Read to EOF: the file may change size under us; stay bounded. */
	while (len <= CONF_MAX_BYTES) {
		if (len == cap) {
			cap = cap > CONF_MAX_BYTES / 2 ? CONF_MAX_BYTES + 1 :
			    2 * cap;
			if ((grown = realloc(text, cap)) == NULL) {
				conf_report(&sink, "%s: out of memory", path);
				free(text);
				close(fd);
				return -1;
			}
			text = grown;
		}
		n = read(fd, text + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			conf_report(&sink, "%s: %s", path, strerror(errno));
			free(text);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len > CONF_MAX_BYTES) {
		conf_report(&sink, "%s: larger than %u bytes", path,
		    CONF_MAX_BYTES);
		free(text);
		return -1;
	}
	nerr = sp_conf_parse(text, len, path, conf, conf_err, &sink);
	free(text);
	if (nerr == 0) {
		struct limit_arg la = { path, &sink };

		nerr = (int)balancer_conf_check(conf, balancer_limit, &la);
	}
	return nerr == 0 ? 0 : -1;
}

/* A cluster_check() warning: to stderr for -n, else to the log. */
static void
cluster_warn_stderr(void *arg, const char *msg)
{
	fprintf(stderr, "%s: warning: %s\n", (const char *)arg, msg);
}

static void
cluster_warn_log(void *arg, const char *msg)
{
	(void)arg;
	log_warnx("%s", msg);
}

/*
 * A sp_conf_warnings() warning, FILE:LINE: warning: message: to stderr
 * for -n, else to the log.  The configuration is still used.
 */
static void
conf_warn_stderr(void *arg, const char *file, unsigned line,
    const char *msg)
{
	(void)arg;
	fprintf(stderr, "%s:%u: warning: %s\n", file ? file : "-", line, msg);
}

static void
conf_warn_log(void *arg, const char *file, unsigned line, const char *msg)
{
	(void)arg;
	log_warnx("%s:%u: warning: %s", file ? file : "-", line, msg);
}

/* One conf_noops() warning through warn, at line of file. */
static void __attribute__((format(printf, 4, 5)))
noop_warn(sp_conf_err_fn warn, const char *file, unsigned line,
    const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	warn(NULL, file, line, msg);
}

/*
 * Whether addr is an address of one of this host's interfaces (the
 * network namespace lbspd runs in).  -1 when they cannot be listed.
 */
static int
addr_is_local(const uint8_t addr[16])
{
	struct ifaddrs *ifa, *i;
	int found = 0;

	if (getifaddrs(&ifa) == -1)
		return -1;
	for (i = ifa; i != NULL && !found; i = i->ifa_next)
		if (i->ifa_addr != NULL && i->ifa_addr->sa_family == AF_INET6 &&
		    memcmp(((const struct sockaddr_in6 *)(const void *)
		    i->ifa_addr)->sin6_addr.s6_addr, addr, 16) == 0)
			found = 1;
	freeifaddrs(ifa);
	return found;
}

/* The vip blocks that would silently do nothing, by kind. */
enum vip_noop {
	NOOP_NO_ALLOW,		/* client vip, redirect on, no allow-servers */
	NOOP_ALLOW,		/* allow-servers without role client */
	NOOP_UNUSED,		/* no server and no role client */
	NOOP_SERVERS,		/* server lines without role balancer */
	NOOP__COUNT
};

static const char *const vip_noop_msg[NOOP__COUNT] = {
	[NOOP_NO_ALLOW] = "has no allow-servers: the client never follows a "
	    "server's seg2, so single pass never happens for it; add "
	    "\"allow-servers PREFIX\" with the servers' prefix, or "
	    "\"redirect off\" (lbsp.conf(5))",
	[NOOP_ALLOW] = "has allow-servers but role client is not set: only "
	    "the client uses them",
	[NOOP_UNUSED] = "has no server and role client is not set: nothing "
	    "uses it (a balancer serves the vips with servers)",
	[NOOP_SERVERS] = "lists servers but role balancer is not set: server "
	    "lines do nothing without it",
};

/* Whether vip of c is a no-op of kind k. */
static bool
vip_noop(const struct sp_conf *c, const struct sp_conf_vip *vip,
    enum vip_noop k)
{
	bool client = c->roles & SP_CONF_ROLE_CLIENT;

	switch (k) {
	case NOOP_NO_ALLOW:
		return client && c->redirect && vip->nservers == 0 &&
		    vip->nallow == 0;
	case NOOP_ALLOW:
		return !client && vip->nallow > 0;
	case NOOP_UNUSED:
		return !client && vip->nservers == 0;
	case NOOP_SERVERS:
		return !(c->roles & SP_CONF_ROLE_BALANCER) &&
		    vip->nservers > 0;
	default:
		abort();
	}
}

/*
 * The settings conf accepts that would silently do nothing, each
 * through warn at its line of file.  One line per kind of vip no-op, at
 * the first vip of that kind, counting the others: a generated file may
 * hold thousands.  The host's own addresses are read here, in the
 * daemon, not in libsp (which does no I/O): -n checks server-address
 * against the host it runs on.
 */
static void
conf_noops(const struct sp_conf *c, const char *file, sp_conf_err_fn warn)
{
	char a[INET6_ADDRSTRLEN], more[48];
	unsigned v, n, first = 0;
	enum vip_noop k;
	int local;

	for (k = 0; k < NOOP__COUNT; k++) {
		for (v = 0, n = 0; v < c->nvips; v++)
			if (vip_noop(c, &c->vips[v], k) && n++ == 0)
				first = v;
		if (n == 0)
			continue;
		inet_ntop(AF_INET6, c->vips[first].addr, a, sizeof(a));
		more[0] = '\0';
		if (n > 1)
			snprintf(more, sizeof(more), " (and %u more)", n - 1);
		noop_warn(warn, file, c->vips[first].line, "vip %s%s %s", a,
		    more, vip_noop_msg[k]);
	}
	if (!c->has_server_address)
		return;
	inet_ntop(AF_INET6, c->server_address, a, sizeof(a));
	if (!(c->roles & SP_CONF_ROLE_SERVER)) {
		noop_warn(warn, file, c->server_address_line, "server-address "
		    "%s is set but role server is not: it does nothing", a);
		return;
	}
	local = addr_is_local(c->server_address);
	if (local == -1)
		noop_warn(warn, file, c->server_address_line, "server-address "
		    "%s not checked: this host's addresses cannot be listed: "
		    "%s", a, strerror(errno));
	else if (local == 0)
		noop_warn(warn, file, c->server_address_line, "server-address "
		    "%s is not an address of this host (checked on the host "
		    "running lbspd): the server role would put another "
		    "host's address in seg2, or see no packet; remove the "
		    "line (each answer's own source address is then used) "
		    "or give one of this host's addresses", a);
}

/*
 * Every warning about conf, from one place for -n (to stderr), start
 * and reload (to the log): libsp's (sp_conf_warnings()), the ECMP
 * group's (cluster_check()) and the silent no-ops (conf_noops()).  The
 * configuration is still used.
 */
static void
conf_warnings(const struct sp_conf *conf, const char *file, bool to_log)
{
	sp_conf_err_fn warn = to_log ? conf_warn_log : conf_warn_stderr;

	(void)sp_conf_warnings(conf, file, warn, NULL);
	(void)cluster_check(conf, to_log ? cluster_warn_log :
	    cluster_warn_stderr, (void *)(uintptr_t)file);
	conf_noops(conf, file, warn);
}

/*
 * The client identity for "identity random" or a literal (d->admin
 * held, or before the threads start).  Returns -1 out of memory: the
 * old identity stays.
 */
static int
identity_draw(struct lbspd *d, const struct sp_conf *c)
{
	static const uint8_t zero[16];
	uint8_t id[16];

	if (c->identity == SP_CONF_IDENTITY_LITERAL) {
		memcpy(id, c->identity_addr, 16);
	} else if (c->identity == SP_CONF_IDENTITY_RANDOM) {
		do {
			if (getrandom(id, 16, 0) != 16)
				fatal("getrandom");
		} while (memcmp(id, zero, 16) == 0);
	} else
		memset(id, 0, 16);
	return lbspd_identity_set(d, id, sp_now_ms());
}

/*
 * Settings a reload cannot change: they own sockets, rules and the
 * tables' sizes and timeouts, fixed when the tables were made.
 */
static bool
conf_fixed_changed(const struct sp_conf *a, const struct sp_conf *b)
{
	return a->queue_first != b->queue_first ||
	    a->queue_count != b->queue_count || a->rules != b->rules ||
	    a->gso != b->gso || a->agent_port != b->agent_port ||
	    a->metrics_port != b->metrics_port ||
	    memcmp(a->metrics_addr, b->metrics_addr, 16) != 0 ||
	    strcmp(a->user, b->user) != 0 ||
	    strcmp(a->control_socket, b->control_socket) != 0 ||
	    a->max_flows != b->max_flows || a->max_cache != b->max_cache ||
	    a->max_stick != b->max_stick || a->stick_ttl_ms != b->stick_ttl_ms ||
	    a->cache_ttl_ms != b->cache_ttl_ms ||
	    a->has_hash_key != b->has_hash_key ||
	    strcmp(a->announce, b->announce) != 0 ||
	    memcmp(a->hash_key, b->hash_key, 16) != 0 ||
	    a->timeout_tcp_established_ms != b->timeout_tcp_established_ms ||
	    a->timeout_tcp_ms != b->timeout_tcp_ms ||
	    a->timeout_udp_ms != b->timeout_udp_ms ||
	    a->timeout_other_ms != b->timeout_other_ms ||
	    a->timeout_linger_ms != b->timeout_linger_ms;
}

static void
conf_free(void *conf)
{
	sp_conf_free(conf);
}

/*
 * SIGHUP: read the file again; on errors keep running the old one.
 * Flows and the cache are kept; the steering rules are replaced when
 * what they are made from changed.
 */
static void
reload(struct lbspd *d)
{
	struct sp_conf *nc = sp_conf_new(), *old;
	bool rules_changed;
	char why[128];

	if (nc == NULL) {
		log_warnx("reload: out of memory");
		return;
	}
	if (conf_load(d->conffile, nc, true) == -1) {
		log_warnx("reload: %s has errors; keeping the running "
		    "configuration", d->conffile);
		sp_conf_free(nc);
		return;
	}
	pthread_mutex_lock(&d->admin);
	old = d->conf;
	if (conf_fixed_changed(old, nc)) {
		pthread_mutex_unlock(&d->admin);
		log_warnx("reload: queue, rules, gso, user, control-socket, "
		    "agent-port, metrics-listen, hash-key, announce, table sizes, "
		    "cache-ttl and timeouts need a restart; keeping the "
		    "running configuration");
		sp_conf_free(nc);
		return;
	}
	if ((d->tc_roles & SP_CONF_ROLE_CLIENT) &&
	    !tc_conf_fits(nc, why, sizeof(why))) {
		pthread_mutex_unlock(&d->admin);
		log_warnx("reload: %s; keeping the running configuration",
		    why);
		sp_conf_free(nc);
		return;
	}
	/* Where a role runs is decided at start-up. */
	if (tc_roles_wanted(nc, &d->paths) != d->tc_roles)
		log_warnx("reload: datapath and roles take effect at the next "
		    "start; the roles stay where they run");
	rules_changed = old->roles != nc->roles ||
	    old->syn_rate != nc->syn_rate ||
	    old->nvips != nc->nvips || old->mss_clamp != nc->mss_clamp ||
	    old->has_server_address != nc->has_server_address ||
	    memcmp(old->server_address, nc->server_address, 16) != 0 ||
	    old->has_nat_source != nc->has_nat_source ||
	    memcmp(old->nat_source, nc->nat_source, 16) != 0 ||
	    !sp_conf_vips_equal(old, nc);
	/* The balancer's state made from nc first: the old one holds old,
	 * which must then stay the running configuration. */
	if (balancer_configure(d, nc) == -1) {
		pthread_mutex_unlock(&d->admin);
		log_warnx("reload: balancer state: out of memory; keeping the "
		    "running configuration");
		sp_conf_free(nc);
		return;
	}
	/* The queue threads see nc from their next packet on; old is
	 * freed once none of them can still hold it (lbspd_retire()). */
	(void)lbspd_conf_publish(d, nc);
	if (lbspd_flows_set_source_limit(d, nc->max_flows_per_source) == -1)
		log_warnx("reload: max-flows-per-source: out of memory; "
		    "not applied");
	conf_warnings(nc, d->conffile, true);
	if ((old->identity != nc->identity ||
	    memcmp(old->identity_addr, nc->identity_addr, 16) != 0) &&
	    identity_draw(d, nc) == -1)
		log_warnx("reload: identity: out of memory; not changed");
	tc_configure(d);
	lbspd_retire(d, conf_free, old);
	pthread_mutex_unlock(&d->admin);
	/* nc stays: only this thread replaces it, on the next reload. */
	if (rules_changed && nc->rules == SP_CONF_RULES_INSTALL &&
	    (nc->roles & ~d->tc_roles) != 0 &&
	    rules_replace(nc) == -1)
		log_warnx("reload: steering rules could not be replaced");
	log_info("configuration reloaded from %s", d->conffile);
}

/*
 * Periodic work of the main thread, under d->admin: the client's timers
 * every LBSPD_TICK_MS; expiry, the balancer's figures and identity
 * rotation every second; what waits for a grace period is freed.
 */
static void
tick(struct lbspd *d)
{
	static uint64_t last_slow;
	uint64_t now = sp_now_ms();
	const struct sp_conf *c;

	pthread_mutex_lock(&d->admin);
	c = d->conf;
	lbspd_reclaim(d, false);
	if (c->roles & SP_CONF_ROLE_CLIENT) {
		client_tick(d, now);
		tc_fast_tick(d);
	}
	if (now - last_slow < 1000) {
		pthread_mutex_unlock(&d->admin);
		return;
	}
	last_slow = now;
	(void)lbspd_flows_expire(d, now, 4096);
	(void)lbspd_cache_expire(d, now, 4096);
	balancer_tick(d, now);
	tc_tick(d);
	if (c->identity == SP_CONF_IDENTITY_RANDOM &&
	    c->identity_rotate_ms != 0 &&
	    now - lbspd_identity(d)->born_ms >= c->identity_rotate_ms &&
	    identity_draw(d, c) == 0) {
		tc_configure(d);
		log_info("random identity rotated");
	}
	pthread_mutex_unlock(&d->admin);
	cluster_announce_update(d);
}

/*
 * The control socket's directory: created for the daemon's user when
 * missing (e.g. /run/lbsp), so that the socket can be removed at exit
 * after root is gone.  An existing directory is left as it is.
 */
static void
sockdir_make(const char *sockpath, uid_t uid, gid_t gid)
{
	char dir[SP_CONF_PATH_SIZE];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", sockpath);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0750) == -1) {
		if (errno != EEXIST)
			log_warn("creating %s", dir);
		return;
	}
	if (chown(dir, uid, gid) == -1)
		log_warn("chown %s", dir);
}

/* The balancer sends packets on: it is useless without forwarding. */
static void
forwarding_check(const struct sp_conf *c)
{
	char v = '0';
	int fd;

	if (!(c->roles & SP_CONF_ROLE_BALANCER))
		return;
	fd = open("/proc/sys/net/ipv6/conf/all/forwarding", O_RDONLY);
	if (fd == -1)
		return;
	if (read(fd, &v, 1) != 1)
		v = '?';
	close(fd);
	if (v == '0')
		log_warnx("IPv6 forwarding is off: the balancer cannot send "
		    "sessions on (sysctl net.ipv6.conf.all.forwarding=1)");
}

static void
paths_log(const struct lbspd_paths *p)
{
	log_info("insertion paths: nfqueue %s, socket %s, tc-ebpf %s%s%s",
	    p->nfqueue ? "yes" : "no", p->socket ? "yes" : "no",
	    p->tc_ebpf ? "yes" : "no",
	    p->detail[0] ? "; " : "", p->detail);
	if (!p->nfqueue)
		log_warnx("this kernel does not let lbspd insert the option "
		    "through NFQUEUE: packets pass without it (counted as "
		    "no-insert-path); use the shims (lbsp-shim(8)), which "
		    "have the kernel insert it");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "print-rules", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conffile = LBSP_CONF_DEFAULT;
	const char *sockpath = NULL;
	int ch, check_only = 0, print_rules = 0, foreground = 0, debug = 0;
	struct queue *queues[SP_CONF_MAX_QUEUES] = { NULL };
	struct lbspd *d;
	struct sp_conf *conf;
	sigset_t sigs;
	uid_t uid;
	gid_t gid;
	char user[64];
	unsigned i;
	int sig, rc = 1;

	while ((ch = getopt_long(argc, argv, "c:dfhns:", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			conffile = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'n':
			check_only = 1;
			break;
		case 's':
			sockpath = optarg;
			break;
		case 'P':
			print_rules = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	conf = sp_conf_new();
	if (conf == NULL) {
		fprintf(stderr, "lbspd: out of memory\n");
		return 1;
	}
	if (conf_load(conffile, conf, false) == -1) {
		sp_conf_free(conf);
		return 1;
	}
	if (check_only) {
		conf_warnings(conf, conffile, false);
		puts("configuration OK");
		sp_conf_free(conf);
		return 0;
	}
	if (print_rules) {
		rules_print(conf, stdout);
		sp_conf_free(conf);
		return 0;
	}

	log_init("lbspd", foreground, debug);
	if (geteuid() != 0)
		fatalx("must be started as root (it drops privileges itself)");

	d = calloc(1, sizeof(*d));
	if (d == NULL)
		fatalx("out of memory");
	d->conffile = conffile;
	d->sockpath = sockpath != NULL ? sockpath :
	    conf->control_socket[0] ? conf->control_socket :
	    LBSPD_SOCKET_DEFAULT;
	d->started_ms = sp_now_ms();
	if (conf->has_hash_key)
		memcpy(d->secret, conf->hash_key, 16);
	else if (getrandom(d->secret, sizeof(d->secret), 0) !=
	    (ssize_t)sizeof(d->secret))
		fatal("getrandom");
	if (lbspd_state_init(d, conf) == -1 || identity_draw(d, conf) == -1)
		fatalx("cannot allocate tables (max-flows %u, max-cache %u)",
		    conf->max_flows, conf->max_cache);
	if (lbspd_flows_set_source_limit(d, conf->max_flows_per_source) == -1)
		fatalx("cannot allocate the per-source figures "
		    "(max-flows-per-source %u)", conf->max_flows_per_source);
	if (balancer_configure(d, conf) == -1)
		fatalx("cannot set up the balancer (max-stick %u)",
		    conf->max_stick);

	/* Signals are taken by the main thread only, with sigtimedwait. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Privileged work first: self-test, queues, rules, socket. */
	selftest_run(&d->paths, conf->option_type);
	paths_log(&d->paths);
	forwarding_check(conf);
	if (priv_user(conf->user, &uid, &gid, user, sizeof(user)) == -1)
		goto out;
	for (i = 0; i < conf->queue_count; i++) {
		queues[i] = queue_open(d, i, (uint16_t)(conf->queue_first + i),
		    conf->gso);
		if (queues[i] == NULL)
			goto out;
	}
	/* The client and server roles on tc where chosen (datapath): their
	 * packets are then never steered to the queues. */
	d->tc_roles = tc_roles_wanted(conf, &d->paths);
	if (d->tc_roles != 0 && tc_start(d, uid, gid) == -1) {
		tc_stop(d);
		if (conf->datapath == SP_CONF_DATAPATH_TC) {
			log_warnx("datapath tc: the tc programs could not be "
			    "set up");
			goto out;
		}
		log_warnx("tc programs not set up: the NFQUEUE path takes "
		    "over");
		d->tc_roles = 0;
		d->paths.tc_ebpf = false;	/* not on this host */
	}
	rules_set_tc_roles(d->tc_roles);
	log_info("datapath: client %s, server %s", d->tc_roles &
	    SP_CONF_ROLE_CLIENT ? "tc" : "nfqueue", d->tc_roles &
	    SP_CONF_ROLE_SERVER ? "tc" : "nfqueue");
	/* Nothing to steer when every role runs on tc. */
	if (conf->rules == SP_CONF_RULES_INSTALL &&
	    (conf->roles & ~d->tc_roles) != 0 && rules_install(conf) == -1)
		goto out;
	if ((d->lb != NULL && checks_init(d) == -1) || agent_init(d) == -1)
		goto out_rules;
	conf_warnings(conf, conffile, true);
	if (cluster_announce_init(d) == -1)
		goto out_rules;
	sockdir_make(d->sockpath, uid, gid);
	if (control_start(d, d->sockpath, uid, gid) == -1)
		goto out_rules;
	if (metrics_open(d) == -1)
		goto out_control;
	/* CAP_NET_RAW: setting IPV6_DSTOPTS on sockets the shims pass us
	 * (client and server roles); the balancer needs none. */
	if (priv_drop(uid, gid, (conf->roles & (SP_CONF_ROLE_CLIENT |
	    SP_CONF_ROLE_SERVER)) != 0, d->tc != NULL) == -1)
		goto out_control;
	/* Threads only now: capabilities are per thread. */
	if (control_run() == -1 || (d->lb != NULL && checks_start(d) == -1) ||
	    agent_start(d) == -1 || metrics_start(d) == -1)
		goto out_control;
	for (i = 0; i < conf->queue_count; i++)
		if (queue_start(queues[i]) == -1)
			goto out_threads;
	log_info("running as %s on queue %u%s%s, control socket %s", user,
	    conf->queue_first, conf->queue_count > 1 ? "+" : "",
	    conf->rules == SP_CONF_RULES_INSTALL &&
	    (conf->roles & ~d->tc_roles) != 0 ? ", rules installed" : "",
	    d->sockpath);

	cluster_announce_update(d);
	while (!d->stop) {
		struct timespec ts = { .tv_nsec = LBSPD_TICK_MS * 1000000L };

		sig = sigtimedwait(&sigs, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT)
			d->stop = 1;
		else if (sig == SIGHUP)
			reload(d);
		tick(d);
	}
	log_info("stopping");
	/* Withdraw the vips first: the router moves the traffic away
	 * while the queues still serve it. */
	cluster_announce_stop();
	rc = 0;
out_threads:
	d->stop = 1;
	for (i = 0; i < SP_CONF_MAX_QUEUES; i++)
		queue_close(queues[i]);
	memset(queues, 0, sizeof(queues));
out_control:
	metrics_stop();
	cluster_announce_stop();
	agent_stop();
	checks_stop();
	control_stop();
out_rules:
	cluster_announce_stop();
	if (d->conf->rules == SP_CONF_RULES_INSTALL)
		rules_remove(d->conf);
out:
	d->stop = 1;
	tc_stop(d);
	for (i = 0; i < SP_CONF_MAX_QUEUES; i++)
		queue_close(queues[i]);
	balancer_free(d);
	lbspd_state_free(d);
	free(d);
	return rc;
}
