/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * control.c -- the control socket: lbspctl's commands and the shims'
 * requests, served by one thread to up to CONTROL_MAX_CONNS (256)
 * clients at once, never waiting on any one of them (poll()).
 *
 * Protocol (unix stream socket, one request per connection):
 *
 *   client -> daemon: one request line of at most CONTROL_LINE_MAX (512)
 *       bytes, the final "\n" included:
 *           COMMAND [ARG ...]
 *       Words are separated by blanks (spaces, tabs); a "\r" before the
 *       "\n" is ignored; the client closing its side also ends the line.
 *       "--json" or "-j", anywhere after COMMAND, asks for JSON output;
 *       "--end" asks for the answer (success or error) to end with one
 *       NUL byte, so that the reader can tell a whole answer, even an
 *       empty one, from one cut short (lbspctl always asks).
 *       Only printable ASCII and tabs are allowed.  The client has
 *       CONTROL_READ_MS (2 s) from connect to send the whole line.
 *   daemon -> client: the answer, then the daemon closes the
 *       connection.  Success: the command's output, text or JSON (which
 *       may be empty, e.g. no flows in text).  Failure: one line
 *       "error: MESSAGE\n", nothing else.  Anything the client sends
 *       after the line is ignored; a client that closes without sending
 *       a byte gets no answer.
 *
 * Shims (client-shim, server-shim) send versioned requests instead:
 *   "shim1 lookup VIP IDENTITY" -> "server ADDR\n" (the client role's
 *       cache names ADDR for (vip, identity) and it is not suspect) or
 *       "none\n";
 *   "shim1 dstopts HEX80|none" with a socket (SCM_RIGHTS) -> "ok\n"
 *       (fdpass.h; plain "dstopts ..." is still understood);
 *   another version -> "error: shim protocol 'shimN' not spoken here
 *       (this lbspd speaks shim1)\n".
 *
 * JSON shapes (names are the contract; text prints the same names):
 *   stats: { version, uptime_s, roles: [str], queues: [n], identity_mode,
 *       identity, insert_paths: { tested, nfqueue, socket, tc_ebpf,
 *       detail }, counters: { <lbspd_counter_names>: n }, passed:
 *       { <lbspd_pass_names>: n }, malformed: { <sp_strerror>: n },
 *       tables: { flows, flows_max, cache, cache_max }, balancer:
 *       { vips, servers_up, servers_total, stick, stick_max } (only with
 *       the balancer role), queue: [ { queue, bound, queue_total,
 *       queue_dropped, user_dropped, packets } ], control: { requests,
 *       errors }, metrics: { connections, scrapes, not_found,
 *       bad_method, errors, unanswered } (only with metrics-listen) }
 *   flows: [ { proto, src, sport, dst, dport, label, identity, server,
 *       state, packets_orig, packets_reply, bytes_orig, bytes_reply,
 *       idle_s } ]
 *   cache: [ { vip, identity, server, ttl_s, state: "ok"|"suspect",
 *       reason (suspect only: "syn-retransmit", "timer",
 *       "icmp-unreachable", "no-option"), suspect_s (suspect only) },
 *       and per vip marked option-blackholed (client.c):
 *       { vip, ttl_s, state: "option-blackholed"|"option-probe",
 *       reason: "syn-retransmit", period_s, detections, blackholed_s } ]
 *   stick: [ { vip, kind: "seg1"|"src-label"|"src", key, prefix_len
 *       (src only), label (src-label only), server, ttl_s } ]
 *   servers: [ { vip, scheduler, servers: [ { address, state, reason,
 *       eligible, drain, weight, cost, backup (if any), sessions,
 *       sessions_total, packets, bytes, rtt_us (once measured) } ] } ]
 *   drain, enable, weight: { vip, server, drain, weight, state,
 *       eligible }, the server after the change
 *   reload: { reload: "requested" }
 * A member that does not apply or is not known is left out of the
 * JSON and printed "-" in text.  Text prints "servers" as one
 * "vip ADDR:" heading per vip (a text table row holds scalars only).
 *
 * Commands (table ctl_cmds below): stats flows cache stick servers
 * drain enable weight reload.  stick, servers, drain, enable and
 * weight answer "error: no balancer role in this daemon" without it;
 * what drain, enable and weight change lasts until the next reload,
 * which applies the configuration's values.  The output is built in
 * memory under d->lock (so the tables are read consistently and
 * quickly), then written with the lock released: a slow reader never
 * holds up the packet threads.  Requests and error answers are counted
 * and shown by "stats" under "control".
 *
 * The stats and servers answers are also the metrics server's page
 * (control_stats, control_servers; metrics.c renders them through
 * prom.c): what is added here is a Prometheus metric too.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "balancer.h"
#include "fdpass.h"
#include "lbspd.h"
#include "log.h"
#include "metrics.h"
#include "pr.h"
#include "roles.h"
#include "tc.h"

#define CONTROL_LINE_MAX	512	/* bytes of a request, "\n" included */
#define CONTROL_MAX_WORDS	16	/* words of a request */
#define CONTROL_READ_MS		2000	/* ms to send the request */
#define CONTROL_WRITE_MS	5000	/* ms to take the whole answer */
#define CONTROL_DRAIN_MS	200	/* ms spent discarding extra input */
#define CONTROL_DRAIN_BYTES	65536	/* extra input discarded at most */
#define CONTROL_BACKLOG		128
#define CONTROL_MAX_CONNS	256	/* clients served at once */
#define NFQ_PROC		"/proc/net/netfilter/nfnetlink_queue"
#define NFQ_PROC_BYTES		16384	/* of it read: 300 queues' lines */

const char *const lbspd_counter_names[LBSPD_C__COUNT] = {
#define LBSPD_CTR_NAME(id, name) [LBSPD_C_##id] = name,
	LBSPD_COUNTERS(LBSPD_CTR_NAME)
#undef LBSPD_CTR_NAME
};

const char *const lbspd_pass_names[LBSPD_P__COUNT] = {
#define LBSPD_PASS_NAME(id, name) [LBSPD_P_##id] = name,
	LBSPD_PASSES(LBSPD_PASS_NAME)
#undef LBSPD_PASS_NAME
};

/* The control thread's state: one socket per daemon. */
static struct {
	struct lbspd *d;
	int lfd;			/* listening socket */
	int stopfd[2];			/* control_stop() writes to [1] */
	int nfqfd;			/* NFQ_PROC, opened while root */
	pthread_t thread;
	bool running;
	bool opened;		/* socket made, thread maybe not yet */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;			/* the socket file we made, so */
	ino_t ino;			/* stop removes only that one */
	_Atomic uint64_t requests;	/* connections served */
	_Atomic uint64_t errors;	/* "error:" answers sent */
} ctl = { .lfd = -1, .stopfd = { -1, -1 }, .nfqfd = -1 };

/* One request being answered. */
struct ctl_req {
	struct lbspd *d;
	struct pr *pr;			/* where the answer goes */
	int argc;			/* words after the command */
	char **argv;			/* argv[0] is the command */
	char err[256];			/* the error message, if any */
};

/* Record an error message for the answer; returns -1 for "return". */
static int LOG_PRINTF(2, 3)
ctl_error(struct ctl_req *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* ------------------------------------------------------------ stats */

/* The kernel's numbers for one NFQUEUE queue. */
struct nfq_proc {
	bool bound;		/* the queue is listed: someone bound it */
	uint64_t queue_total;	/* packets waiting in the queue now */
	uint64_t queue_dropped;	/* packets: dropped, queue full */
	uint64_t user_dropped;	/* packets: netlink could not deliver */
	uint64_t packets;	/* packets queued since bound (the id
				   sequence) */
};

/*
 * Fill q[i] for queue first + i (i < n) from /proc/net/netfilter/
 * nfnetlink_queue, whose lines read: queue number, peer portid, queue
 * total, copy mode, copy range, queue dropped, user dropped, id
 * sequence, 1.  Queues not listed (not bound, module not loaded) stay
 * zero, bound false.  The file is mode 0440 root: control_start() opens
 * it before the daemon drops privileges, and it is read again from the
 * start each time, under nfq_lock (the control and metrics threads
 * share ctl.nfqfd and its offset).
 */
static pthread_mutex_t nfq_lock = PTHREAD_MUTEX_INITIALIZER;

static void
nfq_proc_read(struct nfq_proc *q, unsigned first, unsigned n)
{
	unsigned num, portid, total, mode, range, qdrop, udrop, seq, one;
	char buf[NFQ_PROC_BYTES + 1], *line, *save = NULL;
	size_t len = 0;
	ssize_t r;

	memset(q, 0, n * sizeof(*q));
	pthread_mutex_lock(&nfq_lock);
	if (ctl.nfqfd == -1)
		ctl.nfqfd = open(NFQ_PROC, O_RDONLY | O_CLOEXEC);
	if (ctl.nfqfd == -1 || lseek(ctl.nfqfd, 0, SEEK_SET) == -1) {
		pthread_mutex_unlock(&nfq_lock);
		return;
	}
	while (len < NFQ_PROC_BYTES) {
		r = read(ctl.nfqfd, buf + len, NFQ_PROC_BYTES - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	pthread_mutex_unlock(&nfq_lock);
	buf[len] = '\0';
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%u %u %u %u %u %u %u %u %u", &num, &portid,
		    &total, &mode, &range, &qdrop, &udrop, &seq, &one) != 9)
			continue;
		if (num < first || num - first >= n)
			continue;
		q[num - first].bound = true;
		q[num - first].queue_total = total;
		q[num - first].queue_dropped = qdrop;
		q[num - first].user_dropped = udrop;
		q[num - first].packets = seq;
	}
}

static const char *
identity_mode_name(enum sp_conf_identity mode)
{
	switch (mode) {
	case SP_CONF_IDENTITY_ADDRESS:
		return "address";
	case SP_CONF_IDENTITY_RANDOM:
		return "random";
	case SP_CONF_IDENTITY_LITERAL:
		return "literal";
	default:
		return "unknown";
	}
}

/*
 * The balancer in numbers: vips, servers up (sp_health_up: up or
 * retry) among all, stick entries and the configured maximum.
 */
static void
balancer_stats(struct pr *p, const struct lbspd *d)
{
	const struct lb_state *lb = d->lb;
	uint64_t up = 0, total = 0;
	unsigned i, j;

	for (i = 0; i < lb->nvips; i++)
		for (j = 0; j < lb->vips[i].nservers; j++) {
			total++;
			if (sp_health_up(&lb->vips[i].servers[j].health))
				up++;
		}
	pr_open_object(p, "balancer");
	pr_u64(p, "vips", lb->nvips);
	pr_u64(p, "servers_up", up);
	pr_u64(p, "servers_total", total);
	pr_u64(p, "stick", lb->stick != NULL ? sp_stick_count(lb->stick) : 0);
	pr_u64(p, "stick_max", d->conf->max_stick);
	pr_close_object(p);
}

/*
 * The stats answer.  Also what the metrics server renders (metrics.c),
 * so that every value here is a Prometheus metric too.
 */
int
control_stats(struct lbspd *d, struct pr *p)
{
	struct nfq_proc q[SP_CONF_MAX_QUEUES];
	unsigned first, n, i;
	uint64_t now = lbspd_now_ms();

	/* The kernel's queue numbers first, without holding the lock. */
	pthread_mutex_lock(&d->lock);
	first = d->conf->queue_first;
	n = d->conf->queue_count;
	pthread_mutex_unlock(&d->lock);
	if (n > SP_CONF_MAX_QUEUES)
		n = SP_CONF_MAX_QUEUES;
	nfq_proc_read(q, first, n);

	pthread_mutex_lock(&d->lock);
	pr_open_object(p, NULL);
	pr_str(p, "version", PACKAGE_VERSION);
	pr_u64(p, "uptime_s", now > d->started_ms ?
	    (now - d->started_ms) / 1000 : 0);
	pr_open_array(p, "roles");
	if (d->conf->roles & SP_CONF_ROLE_CLIENT)
		pr_str(p, NULL, "client");
	if (d->conf->roles & SP_CONF_ROLE_SERVER)
		pr_str(p, NULL, "server");
	if (d->conf->roles & SP_CONF_ROLE_BALANCER)
		pr_str(p, NULL, "balancer");
	pr_close_array(p);
	pr_open_array(p, "queues");
	for (i = 0; i < d->conf->queue_count; i++)
		pr_u64(p, NULL, (uint64_t)d->conf->queue_first + i);
	pr_close_array(p);
	pr_str(p, "identity_mode", identity_mode_name(d->conf->identity));
	if (d->conf->identity == SP_CONF_IDENTITY_RANDOM ||
	    d->conf->identity == SP_CONF_IDENTITY_LITERAL)
		pr_addr(p, "identity", d->identity);
	else
		pr_str(p, "identity", "address");

	pr_open_object(p, "insert_paths");
	pr_bool(p, "tested", d->paths.tested);
	pr_bool(p, "nfqueue", d->paths.nfqueue);
	pr_bool(p, "socket", d->paths.socket);
	pr_bool(p, "tc_ebpf", d->paths.tc_ebpf);
	pr_str(p, "detail", d->paths.detail);
	pr_close_object(p);
	tc_stats_print(p, d);

	pr_open_object(p, "counters");
	for (i = 0; i < LBSPD_C__COUNT; i++)
		pr_u64(p, lbspd_counter_names[i],
		    lbspd_read(&d->stats.ctr[i]));
	pr_close_object(p);
	pr_open_object(p, "passed");
	for (i = 0; i < LBSPD_P__COUNT; i++)
		pr_u64(p, lbspd_pass_names[i], lbspd_read(&d->stats.pass[i]));
	pr_close_object(p);
	pr_open_object(p, "malformed");
	for (i = 0; i < SP_ERR__COUNT; i++)
		if (i != SP_OK)
			pr_u64(p, sp_strerror((enum sp_err)i),
			    lbspd_read(&d->stats.malformed[i]));
	pr_close_object(p);

	pr_open_object(p, "tables");
	pr_u64(p, "flows", d->flows ? sp_flow_count(d->flows) : 0);
	pr_u64(p, "flows_max", d->conf->max_flows);
	pr_u64(p, "cache", d->cache ? sp_cache_count(d->cache) : 0);
	pr_u64(p, "cache_max", d->conf->max_cache);
	pr_close_object(p);
	if (d->lb != NULL)
		balancer_stats(p, d);

	pr_open_array(p, "queue");
	for (i = 0; i < n; i++) {
		pr_open_object(p, NULL);
		pr_u64(p, "queue", (uint64_t)first + i);
		pr_bool(p, "bound", q[i].bound);
		pr_u64(p, "queue_total", q[i].queue_total);
		pr_u64(p, "queue_dropped", q[i].queue_dropped);
		pr_u64(p, "user_dropped", q[i].user_dropped);
		pr_u64(p, "packets", q[i].packets);
		pr_close_object(p);
	}
	pr_close_array(p);

	pr_open_object(p, "control");
	pr_u64(p, "requests", lbspd_read(&ctl.requests));
	pr_u64(p, "errors", lbspd_read(&ctl.errors));
	pr_close_object(p);
	metrics_stats(p);
	pr_close_object(p);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

static int
cmd_stats(struct ctl_req *r)
{
	return control_stats(r->d, r->pr);
}

/* ------------------------------------------------------------ flows */

struct flow_walk {
	struct pr *pr;
	uint64_t now_ms;
};

static void
proto_name(char *buf, size_t size, const struct sp_flow_key *k)
{
	if (k->kind == SP_FLOW_3TUPLE)
		snprintf(buf, size, "any");
	else if (k->proto == 6)
		snprintf(buf, size, "tcp");
	else if (k->proto == 17)
		snprintf(buf, size, "udp");
	else if (k->proto == 58)
		snprintf(buf, size, "icmpv6");
	else
		snprintf(buf, size, "%u", k->proto);
}

static int
flow_print(const struct sp_flow *f, void *arg)
{
	struct flow_walk *w = arg;
	struct pr *p = w->pr;
	char proto[8];

	proto_name(proto, sizeof(proto), &f->key);
	pr_open_object(p, NULL);
	pr_str(p, "proto", proto);
	pr_addr(p, "src", f->key.src);
	pr_u64(p, "sport", f->key.sport);
	pr_addr(p, "dst", f->key.dst);
	pr_u64(p, "dport", f->key.dport);
	pr_u64(p, "label", f->key.label);
	pr_addr(p, "identity", f->identity);
	pr_addr(p, "server", f->server);
	pr_str(p, "state", sp_flow_state_name(f->state));
	pr_u64(p, "packets_orig", f->packets[SP_FLOW_ORIG]);
	pr_u64(p, "packets_reply", f->packets[SP_FLOW_REPLY]);
	pr_u64(p, "bytes_orig", f->bytes[SP_FLOW_ORIG]);
	pr_u64(p, "bytes_reply", f->bytes[SP_FLOW_REPLY]);
	pr_u64(p, "idle_s", w->now_ms > f->last_ms ?
	    (w->now_ms - f->last_ms) / 1000 : 0);
	pr_close_object(p);
	return 0;
}

static int
cmd_flows(struct ctl_req *r)
{
	struct flow_walk w = { .pr = r->pr, .now_ms = lbspd_now_ms() };

	pthread_mutex_lock(&r->d->lock);
	pr_open_array(r->pr, NULL);
	if (r->d->flows != NULL)
		sp_flow_foreach(r->d->flows, flow_print, &w);
	tc_flows_print(r->pr, r->d, w.now_ms);
	pr_close_array(r->pr);
	pthread_mutex_unlock(&r->d->lock);
	return 0;
}

/* ------------------------------------------------------------ cache */

static void print_none(struct pr *p, const char *key);

static int
cache_print(const struct sp_cache_entry *e, void *arg)
{
	struct flow_walk *w = arg;
	struct pr *p = w->pr;

	pr_open_object(p, NULL);
	pr_addr(p, "vip", e->vip);
	pr_addr(p, "identity", e->identity);
	pr_addr(p, "server", e->server);
	pr_u64(p, "ttl_s", e->expire_ms > w->now_ms ?
	    (e->expire_ms - w->now_ms) / 1000 : 0);
	if (e->state == SP_CACHE_SUSPECT) {
		pr_str(p, "state", "suspect");
		pr_str(p, "reason", client_suspect_name(e->reason));
		pr_u64(p, "suspect_s", w->now_ms > e->suspect_ms ?
		    (w->now_ms - e->suspect_ms) / 1000 : 0);
	} else {
		pr_str(p, "state", "ok");
		print_none(p, "reason");
		print_none(p, "suspect_s");
	}
	pr_close_object(p);
	return 0;
}

static int
cmd_cache(struct ctl_req *r)
{
	struct flow_walk w = { .pr = r->pr, .now_ms = lbspd_now_ms() };

	pthread_mutex_lock(&r->d->lock);
	pr_open_array(r->pr, NULL);
	if (r->d->cache != NULL)
		sp_cache_foreach(r->d->cache, cache_print, &w);
	tc_cache_foreach(r->d, w.now_ms, cache_print, &w);
	client_blackholes_print(r->pr, r->d, w.now_ms);
	tc_blackholes_print(r->pr, r->d);
	pr_close_array(r->pr);
	pthread_mutex_unlock(&r->d->lock);
	return 0;
}

/* ------------------------------------------------------------ reload */

static int
cmd_reload(struct ctl_req *r)
{
	r->d->reload = 1;
	if (kill(getpid(), SIGHUP) == -1)
		return ctl_error(r, "cannot signal the daemon: %s",
		    strerror(errno));
	pr_open_object(r->pr, NULL);
	pr_str(r->pr, "reload", "requested");
	pr_close_object(r->pr);
	return 0;
}

/* ------------------------------------------------------------ balancer */

/*
 * A value that is unknown or does not apply (a server never probed, no
 * backup, the label of a key that has none): "-" in text, absent in
 * JSON.  pr has no JSON null; leaving the member out keeps every
 * member's type fixed, and readers that ask for it (jq's .rtt_us,
 * Python's dict.get) get null anyway.
 */
static void
print_none(struct pr *p, const char *key)
{
	if (!p->json)
		pr_str(p, key, "");
}

/*
 * The balancer's state, or NULL after recording the error a daemon
 * without the balancer role answers.  d->lock held.
 */
static struct lb_state *
ctl_balancer(struct ctl_req *r)
{
	if (r->d->lb == NULL)
		ctl_error(r, "no balancer role in this daemon");
	return r->d->lb;
}

/* An IPv6 address argument into a (16 bytes).  Returns 0 or -1. */
static int
parse_addr(struct ctl_req *r, const char *what, const char *s,
    uint8_t a[16])
{
	if (inet_pton(AF_INET6, s, a) != 1)
		return ctl_error(r, "bad %s address '%.64s'", what, s);
	return 0;
}

static const char *
stick_kind_name(uint8_t kind)
{
	switch (kind) {
	case SP_STICK_SEG1:
		return "seg1";
	case SP_STICK_SRC_LABEL:
		return "src-label";
	case SP_STICK_SRC:
		return "src";
	default:
		return "unknown";
	}
}

/* One stick entry: the walk of cache_print, same struct. */
static int
stick_print(const struct sp_stick_entry *e, void *arg)
{
	struct flow_walk *w = arg;
	struct pr *p = w->pr;

	pr_open_object(p, NULL);
	pr_addr(p, "vip", e->key.vip);
	pr_str(p, "kind", stick_kind_name(e->key.kind));
	pr_addr(p, "key", e->key.id);
	if (e->key.kind == SP_STICK_SRC)
		pr_u64(p, "prefix_len", e->key.label);
	else
		print_none(p, "prefix_len");
	if (e->key.kind == SP_STICK_SRC_LABEL)
		pr_u64(p, "label", e->key.label);
	else
		print_none(p, "label");
	pr_addr(p, "server", e->server);
	pr_u64(p, "ttl_s", e->expire_ms > w->now_ms ?
	    (e->expire_ms - w->now_ms) / 1000 : 0);
	pr_close_object(p);
	return 0;
}

static int
cmd_stick(struct ctl_req *r)
{
	struct flow_walk w = { .pr = r->pr, .now_ms = lbspd_now_ms() };
	struct lb_state *lb;

	pthread_mutex_lock(&r->d->lock);
	if ((lb = ctl_balancer(r)) == NULL) {
		pthread_mutex_unlock(&r->d->lock);
		return -1;
	}
	pr_open_array(r->pr, NULL);
	if (lb->stick != NULL)
		sp_stick_foreach(lb->stick, stick_print, &w);
	pr_close_array(r->pr);
	pthread_mutex_unlock(&r->d->lock);
	return 0;
}

/* One server of a vip, a row of the servers table. */
static void
server_print(struct pr *p, const struct lb_server *s)
{
	pr_open_object(p, NULL);
	pr_addr(p, "address", s->s.addr);
	pr_str(p, "state", sp_health_state_name(&s->health));
	pr_str(p, "reason", sp_health_reason_name(&s->health));
	pr_bool(p, "eligible", s->s.eligible);
	pr_bool(p, "drain", s->drain);
	pr_u64(p, "weight", s->s.weight);
	pr_u64(p, "cost", s->s.cost);
	if (s->has_backup)
		pr_addr(p, "backup", s->backup);
	else
		print_none(p, "backup");
	pr_u64(p, "sessions", s->s.sessions);
	pr_u64(p, "sessions_total", s->sessions_total);
	pr_u64(p, "packets", s->packets);
	pr_u64(p, "bytes", s->bytes);
	/* Unknown until a probe succeeds; 0 is a measured value. */
	if (s->health.rtt_us != SP_HEALTH_RTT_UNKNOWN)
		pr_u64(p, "rtt_us", s->health.rtt_us);
	else
		print_none(p, "rtt_us");
	pr_close_object(p);
}

/*
 * Every vip with its scheduler and its servers.  JSON: an array of
 * { vip, scheduler, servers: [ ... ] }.  A text table row holds
 * scalars only, so text names each vip in a heading instead,
 * "vip ADDR:", with its scheduler and its servers' table under it.
 */
int
control_servers(struct lbspd *d, struct pr *p)
{
	struct lb_state *lb;
	char head[4 + INET6_ADDRSTRLEN];
	char addr[INET6_ADDRSTRLEN];
	unsigned i, j;

	pthread_mutex_lock(&d->lock);
	if ((lb = d->lb) == NULL) {
		pthread_mutex_unlock(&d->lock);
		return -1;
	}
	if (p->json)
		pr_open_array(p, NULL);
	else
		pr_open_object(p, NULL);
	for (i = 0; i < lb->nvips; i++) {
		const struct lb_vip *v = &lb->vips[i];

		if (p->json) {
			pr_open_object(p, NULL);
			pr_addr(p, "vip", v->addr);
		} else {
			if (inet_ntop(AF_INET6, v->addr, addr,
			    sizeof(addr)) == NULL)
				snprintf(addr, sizeof(addr), "?");
			snprintf(head, sizeof(head), "vip %s", addr);
			pr_open_object(p, head);
		}
		pr_str(p, "scheduler", sp_conf_scheduler_name(v->kind));
		pr_open_array(p, "servers");
		for (j = 0; j < v->nservers; j++)
			server_print(p, &v->servers[j]);
		pr_close_array(p);
		pr_close_object(p);
	}
	if (p->json)
		pr_close_array(p);
	else
		pr_close_object(p);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

static int
cmd_servers(struct ctl_req *r)
{
	if (control_servers(r->d, r->pr) == -1)
		return ctl_error(r, "no balancer role in this daemon");
	return 0;
}

/*
 * The server named by argv[1] (vip) and argv[2] (server), or NULL
 * after recording the error.  d->lock held; *vp receives its vip.
 */
static struct lb_server *
ctl_server(struct ctl_req *r, const uint8_t vip[16],
    const uint8_t srv[16], struct lb_vip **vp)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	struct lb_server *s;

	if (ctl_balancer(r) == NULL)
		return NULL;
	if (inet_ntop(AF_INET6, vip, a, sizeof(a)) == NULL ||
	    inet_ntop(AF_INET6, srv, b, sizeof(b)) == NULL) {
		ctl_error(r, "bad address");
		return NULL;
	}
	if ((*vp = balancer_vip(r->d, vip)) == NULL) {
		ctl_error(r, "no vip %s", a);
		return NULL;
	}
	if ((s = balancer_server(*vp, srv)) == NULL)
		ctl_error(r, "no server %s in vip %s", b, a);
	return s;
}

/* The answer of drain, enable and weight: the server as it is now. */
static void
server_answer(struct pr *p, const struct lb_vip *v,
    const struct lb_server *s)
{
	pr_open_object(p, NULL);
	pr_addr(p, "vip", v->addr);
	pr_addr(p, "server", s->s.addr);
	pr_bool(p, "drain", s->drain);
	pr_u64(p, "weight", s->s.weight);
	pr_str(p, "state", sp_health_state_name(&s->health));
	pr_bool(p, "eligible", s->s.eligible);
	pr_close_object(p);
}

/*
 * drain|enable VIP SERVER: set or clear the server's drain flag.  Until
 * the next reload, which applies the configuration's drain again.
 */
static int
cmd_server_state(struct ctl_req *r)
{
	uint8_t vip[16], srv[16];
	struct lb_server *s;
	struct lb_vip *v = NULL;
	bool drain = strcmp(r->argv[0], "drain") == 0;

	if (parse_addr(r, "vip", r->argv[1], vip) == -1 ||
	    parse_addr(r, "server", r->argv[2], srv) == -1)
		return -1;
	pthread_mutex_lock(&r->d->lock);
	if ((s = ctl_server(r, vip, srv, &v)) == NULL) {
		pthread_mutex_unlock(&r->d->lock);
		return -1;
	}
	if (s->drain != drain) {
		s->drain = drain;
		balancer_refresh(v);
		log_info("control: server %s of vip %s: %s", r->argv[2],
		    r->argv[1], drain ? "draining" : "enabled");
	}
	server_answer(r->pr, v, s);
	pthread_mutex_unlock(&r->d->lock);
	return 0;
}

/* weight VIP SERVER N, N as in lbsp.conf: 1..1000.  Until a reload. */
static int
cmd_weight(struct ctl_req *r)
{
	uint8_t vip[16], srv[16];
	struct lb_server *s;
	struct lb_vip *v = NULL;
	unsigned long w;
	char *end;

	if (parse_addr(r, "vip", r->argv[1], vip) == -1 ||
	    parse_addr(r, "server", r->argv[2], srv) == -1)
		return -1;
	errno = 0;
	w = strtoul(r->argv[3], &end, 10);
	if (r->argv[3][0] < '0' || r->argv[3][0] > '9' || *end != '\0' ||
	    errno != 0 || w < 1 || w > 1000)
		return ctl_error(r, "bad weight '%.32s' (1..1000)",
		    r->argv[3]);
	pthread_mutex_lock(&r->d->lock);
	if ((s = ctl_server(r, vip, srv, &v)) == NULL) {
		pthread_mutex_unlock(&r->d->lock);
		return -1;
	}
	if (s->s.weight != w) {
		log_info("control: server %s of vip %s: weight %u -> %lu",
		    r->argv[2], r->argv[1], s->s.weight, w);
		s->s.weight = (uint16_t)w;
		balancer_refresh(v);
	}
	server_answer(r->pr, v, s);
	pthread_mutex_unlock(&r->d->lock);
	return 0;
}

/* ------------------------------------------------------------ dispatch */

static const struct ctl_cmd {
	const char *name;
	int (*fn)(struct ctl_req *);
	int minargs;		/* words after the command, --json aside */
	int maxargs;
	const char *args;	/* for the usage error */
} ctl_cmds[] = {
	{ .name = "stats", .fn = cmd_stats, .minargs = 0, .maxargs = 0,
	    .args = "" },
	{ .name = "flows", .fn = cmd_flows, .minargs = 0, .maxargs = 0,
	    .args = "" },
	{ .name = "cache", .fn = cmd_cache, .minargs = 0, .maxargs = 0,
	    .args = "" },
	{ .name = "stick", .fn = cmd_stick, .minargs = 0, .maxargs = 0,
	    .args = "" },
	{ .name = "servers", .fn = cmd_servers, .minargs = 0, .maxargs = 0,
	    .args = "" },
	{ .name = "drain", .fn = cmd_server_state, .minargs = 2,
	    .maxargs = 2, .args = " VIP SERVER" },
	{ .name = "enable", .fn = cmd_server_state, .minargs = 2,
	    .maxargs = 2, .args = " VIP SERVER" },
	{ .name = "weight", .fn = cmd_weight, .minargs = 3, .maxargs = 3,
	    .args = " VIP SERVER N" },
	{ .name = "reload", .fn = cmd_reload, .minargs = 0, .maxargs = 0,
	    .args = "" },
};

/*
 * Answer one request line of len bytes (NUL-terminated there, without
 * its "\n"; a NUL byte inside makes it malformed) into
 * *ans / *anslen (malloc'd).  Returns 0, or -1 for an error answer.
 */
static int
ctl_dispatch(struct lbspd *d, char *line, size_t len, char **ans,
    size_t *anslen)
{
	struct ctl_req r = { .d = d };
	const struct ctl_cmd *cmd = NULL;
	char *words[CONTROL_MAX_WORDS], *w, *save = NULL;
	bool json = false, end = false;
	struct pr p;
	FILE *f;
	size_t i;
	int n = 0, rc;

	*ans = NULL;
	*anslen = 0;
	for (i = 0; i < len; i++)
		if ((line[i] < 0x20 && line[i] != '\t') || line[i] >= 0x7f) {
			ctl_error(&r, "malformed request");
			goto error;
		}
	for (w = strtok_r(line, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save)) {
		if (n > 0 && (strcmp(w, "--json") == 0 ||
		    strcmp(w, "-j") == 0)) {
			json = true;
			continue;
		}
		if (n > 0 && strcmp(w, "--end") == 0) {
			end = true;
			continue;
		}
		if (n == CONTROL_MAX_WORDS) {
			ctl_error(&r, "too many words");
			goto error;
		}
		words[n++] = w;
	}
	if (n == 0) {
		ctl_error(&r, "empty request");
		goto error;
	}
	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		if (strcmp(ctl_cmds[i].name, words[0]) == 0)
			cmd = &ctl_cmds[i];
	if (cmd == NULL) {
		ctl_error(&r, "unknown command '%.64s'", words[0]);
		goto error;
	}
	if (n - 1 < cmd->minargs || n - 1 > cmd->maxargs) {
		ctl_error(&r, "usage: %s%s [--json]", cmd->name, cmd->args);
		goto error;
	}
	r.argc = n - 1;
	r.argv = words;

	if ((f = open_memstream(ans, anslen)) == NULL) {
		ctl_error(&r, "out of memory");
		goto error;
	}
	pr_init(&p, f, json);
	r.pr = &p;
	rc = cmd->fn(&r);
	if (pr_finish(&p) == -1 && rc == 0)
		rc = ctl_error(&r, "internal error printing the answer");
	if (end && rc == 0)
		fputc('\0', f);
	if (fclose(f) == EOF && rc == 0)
		rc = ctl_error(&r, "out of memory");
	if (rc == 0)
		return 0;
	free(*ans);
	*ans = NULL;
error:
	atomic_fetch_add_explicit(&ctl.errors, 1, memory_order_relaxed);
	log_debug("control: error: %s", r.err);
	if ((f = open_memstream(ans, anslen)) == NULL)
		return -1;
	fprintf(f, "error: %s\n", r.err);
	if (end)
		fputc('\0', f);
	fclose(f);
	return -1;
}

/* ------------------------------------------------------------ shims */

/*
 * The shims' versioned requests, "shim1 lookup VIP IDENTITY": the
 * server the client role learned for (vip, identity), when it is not
 * suspect.  Answer: "server ADDR\n" or "none\n" (or "error: ...\n").
 * O(1) under d->lock: a connect() waits on it.
 */
static void
shim_lookup(struct lbspd *d, const char *vip_s, const char *id_s,
    char *ans, size_t size)
{
	char a[INET6_ADDRSTRLEN];
	uint8_t vip[16], id[16], server[16];
	bool hit = false;

	if (inet_pton(AF_INET6, vip_s, vip) != 1 ||
	    inet_pton(AF_INET6, id_s, id) != 1) {
		snprintf(ans, size, "error: lookup wants VIP IDENTITY, two "
		    "IPv6 addresses\n");
		atomic_fetch_add_explicit(&ctl.errors, 1,
		    memory_order_relaxed);
		return;
	}
	pthread_mutex_lock(&d->lock);
	if (d->cache != NULL)
		hit = sp_cache_lookup(d->cache, vip, id, lbspd_now_ms(), server);
	pthread_mutex_unlock(&d->lock);
	if (hit && inet_ntop(AF_INET6, server, a, sizeof(a)) != NULL)
		snprintf(ans, size, "server %s\n", a);
	else
		snprintf(ans, size, "none\n");
}

/*
 * "shimN VERB ARGS": the shims' requests, versioned so that a shim and
 * a daemon of different releases say clearly that they do not agree.
 * Version 1: "lookup VIP IDENTITY" and "dstopts HEX80|none" (with the
 * socket, as fdpass.h says).  Fills ans; *passfd is consumed.
 */
static void
shim_request(struct lbspd *d, char *line, int *passfd, char *ans,
    size_t size)
{
	char *words[4] = { NULL }, *w, *save = NULL;
	int n = 0;

	for (w = strtok_r(line, " \t", &save); w != NULL && n < 4;
	    w = strtok_r(NULL, " \t", &save))
		words[n++] = w;
	if (n == 0 || strcmp(words[0], "shim1") != 0) {
		snprintf(ans, size, "error: shim protocol '%.16s' not "
		    "spoken here (this lbspd speaks shim1)\n",
		    n > 0 ? words[0] : "");
		atomic_fetch_add_explicit(&ctl.errors, 1,
		    memory_order_relaxed);
	} else if (n == 4 && strcmp(words[1], "lookup") == 0) {
		shim_lookup(d, words[2], words[3], ans, size);
	} else if (n == 3 && strcmp(words[1], "dstopts") == 0) {
		if (fdpass_dstopts(d, *passfd, words[2], ans, size) == -1)
			atomic_fetch_add_explicit(&ctl.errors, 1,
			    memory_order_relaxed);
		*passfd = -1;	/* closed by fdpass_dstopts() */
	} else {
		snprintf(ans, size, "error: shim1: usage: lookup VIP "
		    "IDENTITY | dstopts HEX80|none\n");
		atomic_fetch_add_explicit(&ctl.errors, 1,
		    memory_order_relaxed);
	}
	if (*passfd != -1) {
		close(*passfd);
		*passfd = -1;
	}
}

/* ------------------------------------------------------------ I/O */

/*
 * Clients are served together, by one poll() loop that never waits on
 * any of them: each connection is a small state machine (read the line,
 * write the answer, discard what follows, close), every step bounded in
 * time.  A slow or silent client holds its own slot, nobody else's.
 */
enum conn_state {
	CONN_FREE,
	CONN_READ,		/* reading the request line */
	CONN_WRITE,		/* sending the answer */
	CONN_DRAIN,		/* discarding what follows, then close */
};

struct ctl_conn {
	enum conn_state state;
	int fd;
	int passfd;			/* descriptor sent with the line */
	char line[CONTROL_LINE_MAX + 1];
	size_t len;			/* bytes of line */
	char *ans;			/* malloc'd answer */
	size_t anslen, sent;		/* bytes */
	size_t drained;			/* bytes discarded */
	uint64_t deadline;		/* ms, lbspd_now_ms() */
};

static struct ctl_conn conns[CONTROL_MAX_CONNS];

static void
conn_close(struct ctl_conn *c)
{
	if (c->passfd != -1)
		close(c->passfd);
	close(c->fd);
	free(c->ans);
	memset(c, 0, sizeof(*c));
	c->fd = c->passfd = -1;
	c->state = CONN_FREE;
}

/* The answer is ready: send it (nothing to send: close). */
static void
conn_answer(struct ctl_conn *c, char *ans, size_t anslen)
{
	c->ans = ans;
	c->anslen = anslen;
	c->sent = 0;
	if (ans == NULL) {
		conn_close(c);
		return;
	}
	c->state = CONN_WRITE;
	c->deadline = lbspd_now_ms() + CONTROL_WRITE_MS;
}

static void
conn_error(struct ctl_conn *c, const char *msg)
{
	char *ans;

	atomic_fetch_add_explicit(&ctl.errors, 1, memory_order_relaxed);
	log_debug("control: error: %s", msg);
	if (asprintf(&ans, "error: %s\n", msg) == -1)
		ans = NULL;
	conn_answer(c, ans, ans != NULL ? strlen(ans) : 0);
}

/* The whole line is in: answer it. */
static void
conn_request(struct ctl_conn *c)
{
	char *ans = NULL, small[256];
	size_t anslen = 0;

	if (c->len > 0 && c->line[c->len - 1] == '\r')
		c->len--;
	c->line[c->len] = '\0';
	if (strncmp(c->line, "shim", 4) == 0) {
		shim_request(ctl.d, c->line, &c->passfd, small, sizeof(small));
		ans = strdup(small);
		anslen = ans != NULL ? strlen(ans) : 0;
	} else if (strncmp(c->line, "dstopts ", 8) == 0) {
		/* Before the versioned requests: still understood. */
		if (fdpass_dstopts(ctl.d, c->passfd, c->line + 8, small,
		    sizeof(small)) == -1)
			atomic_fetch_add_explicit(&ctl.errors, 1,
			    memory_order_relaxed);
		c->passfd = -1;
		ans = strdup(small);
		anslen = ans != NULL ? strlen(ans) : 0;
	} else {
		if (c->passfd != -1) {
			close(c->passfd);
			c->passfd = -1;
		}
		ctl_dispatch(ctl.d, c->line, c->len, &ans, &anslen);
	}
	conn_answer(c, ans, anslen);
}

/* Readable while reading the line. */
static void
conn_read(struct ctl_conn *c)
{
	ssize_t n;
	char *nl;

	n = fdpass_read(c->fd, c->line + c->len, CONTROL_LINE_MAX - c->len,
	    &c->passfd);
	if (n == -1 && errno == EAGAIN)
		return;
	if (n == -1) {
		conn_error(c, "cannot read the request");
		return;
	}
	if (n == 0) {
		if (c->len == 0)
			conn_close(c);	/* connected and left: no answer */
		else
			conn_request(c);	/* the end ends the line */
		return;
	}
	nl = memchr(c->line + c->len, '\n', (size_t)n);
	c->len += (size_t)n;
	if (nl != NULL) {
		c->len = (size_t)(nl - c->line);
		conn_request(c);
	} else if (c->len == CONTROL_LINE_MAX) {
		conn_error(c, "request longer than 512 bytes");
	}
}

static void
conn_write(struct ctl_conn *c)
{
	ssize_t n;

	n = send(c->fd, c->ans + c->sent, c->anslen - c->sent,
	    MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n == -1) {
		log_debug("control: client went away before the answer");
		conn_close(c);
		return;
	}
	c->sent += (size_t)n;
	if (c->sent < c->anslen)
		return;
	/* All sent: discard what the client sent beyond its line
	 * (bounded), so that closing does not reset the connection
	 * before it read the answer. */
	shutdown(c->fd, SHUT_WR);
	c->state = CONN_DRAIN;
	c->deadline = lbspd_now_ms() + CONTROL_DRAIN_MS;
}

static void
conn_drain(struct ctl_conn *c)
{
	char junk[4096];
	ssize_t n;

	n = recv(c->fd, junk, sizeof(junk), MSG_DONTWAIT);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n > 0)
		c->drained += (size_t)n;
	if (n <= 0 || c->drained >= CONTROL_DRAIN_BYTES)
		conn_close(c);
}

/* Deadline passed. */
static void
conn_expire(struct ctl_conn *c)
{
	if (c->state == CONN_READ)
		conn_error(c, "no request within 2 seconds");
	else
		conn_close(c);
}

/* Take every connection waiting, while there are free slots. */
static void
ctl_accept(void)
{
	unsigned i;
	int fd;

	for (;;) {
		for (i = 0; i < CONTROL_MAX_CONNS; i++)
			if (conns[i].state == CONN_FREE)
				break;
		if (i == CONTROL_MAX_CONNS)
			return;		/* full: the backlog waits */
		fd = accept4(ctl.lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				log_warn("control: accept");
			return;
		}
		atomic_fetch_add_explicit(&ctl.requests, 1,
		    memory_order_relaxed);
		memset(&conns[i], 0, sizeof(conns[i]));
		conns[i].fd = fd;
		conns[i].passfd = -1;
		conns[i].state = CONN_READ;
		conns[i].deadline = lbspd_now_ms() + CONTROL_READ_MS;
	}
}

static void *
ctl_thread(void *arg)
{
	struct pollfd pfd[CONTROL_MAX_CONNS + 2];
	unsigned slot[CONTROL_MAX_CONNS + 2];
	uint64_t now, next;
	unsigned i, n, nconn;
	int rc, timeout;

	(void)arg;
	for (i = 0; i < CONTROL_MAX_CONNS; i++) {
		conns[i].fd = conns[i].passfd = -1;
		conns[i].state = CONN_FREE;
	}
	for (;;) {
		now = lbspd_now_ms();
		next = UINT64_MAX;
		pfd[0] = (struct pollfd){ .fd = ctl.stopfd[0],
		    .events = POLLIN };
		n = 1;
		nconn = 0;
		for (i = 0; i < CONTROL_MAX_CONNS; i++) {
			struct ctl_conn *c = &conns[i];

			if (c->state == CONN_FREE)
				continue;
			nconn++;
			if (c->deadline <= now) {
				conn_expire(c);
				if (c->state == CONN_FREE)
					continue;
			}
			if (c->deadline < next)
				next = c->deadline;
			pfd[n] = (struct pollfd){ .fd = c->fd,
			    .events = c->state == CONN_WRITE ? POLLOUT :
			    POLLIN };
			slot[n++] = i;
		}
		/* The listener only while a slot is free. */
		if (nconn < CONTROL_MAX_CONNS) {
			pfd[n] = (struct pollfd){ .fd = ctl.lfd,
			    .events = POLLIN };
			slot[n++] = CONTROL_MAX_CONNS;
		}
		timeout = next == UINT64_MAX ? -1 :
		    next <= now ? 0 : (int)(next - now);
		rc = poll(pfd, n, timeout);
		if (rc == -1) {
			if (errno == EINTR)
				continue;
			log_warn("control: poll");
			break;
		}
		if (pfd[0].revents != 0)
			break;
		for (i = 1; i < n; i++) {
			struct ctl_conn *c;

			if (pfd[i].revents == 0)
				continue;
			if (slot[i] == CONTROL_MAX_CONNS) {
				ctl_accept();
				continue;
			}
			c = &conns[slot[i]];
			if (c->state == CONN_READ)
				conn_read(c);
			else if (c->state == CONN_WRITE)
				conn_write(c);
			else if (c->state == CONN_DRAIN)
				conn_drain(c);
		}
	}
	for (i = 0; i < CONTROL_MAX_CONNS; i++)
		if (conns[i].state != CONN_FREE)
			conn_close(&conns[i]);
	return NULL;
}

/* ------------------------------------------------------------ start/stop */

/*
 * Is a daemon answering on path?  1 yes, 0 no (nothing there, or a
 * stale socket nobody listens on), 2 path is not a socket, -1 error.
 */
static int
ctl_in_use(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode))
		return 2;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	if (rc == 0 || errno == EAGAIN || errno == EINPROGRESS) {
		close(fd);
		return 1;
	}
	rc = errno == ECONNREFUSED ? 0 : -1;
	close(fd);
	return rc;
}

int
control_start(struct lbspd *d, const char *path, uid_t uid, gid_t gid)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;

	if (ctl.opened) {
		log_warnx("control: already started");
		return -1;
	}
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("control socket %s: path too long", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	switch (ctl_in_use(path, &sun)) {
	case 1:
		log_warnx("control socket %s: another lbspd answers on it",
		    path);
		return -1;
	case 2:
		log_warnx("control socket %s: exists and is not a socket",
		    path);
		return -1;
	case 0:
		if (unlink(path) == -1 && errno != ENOENT) {
			log_warn("control socket %s: unlink", path);
			return -1;
		}
		break;
	default:
		log_warn("control socket %s", path);
		return -1;
	}

	ctl.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (ctl.lfd == -1) {
		log_warn("control socket");
		return -1;
	}
	if (bind(ctl.lfd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("control socket %s: bind", path);
		goto fail_close;
	}
	/* Before listen(): nobody can connect until the modes are right. */
	if (chmod(path, 0660) == -1) {
		log_warn("control socket %s: chmod", path);
		goto fail_unlink;
	}
	if (chown(path, uid, gid) == -1) {
		log_warn("control socket %s: chown", path);
		goto fail_unlink;
	}
	if (lstat(path, &st) == -1) {
		log_warn("control socket %s", path);
		goto fail_unlink;
	}
	if (listen(ctl.lfd, CONTROL_BACKLOG) == -1) {
		log_warn("control socket %s: listen", path);
		goto fail_unlink;
	}
	if (pipe2(ctl.stopfd, O_CLOEXEC) == -1) {
		log_warn("control: pipe");
		goto fail_unlink;
	}
	ctl.d = d;
	if (ctl.nfqfd == -1)
		ctl.nfqfd = open(NFQ_PROC, O_RDONLY | O_CLOEXEC);
	ctl.dev = st.st_dev;
	ctl.ino = st.st_ino;
	memcpy(ctl.path, path, strlen(path) + 1);
	ctl.opened = true;
	log_debug("control socket %s", path);
	return 0;

fail_unlink:
	unlink(path);
fail_close:
	close(ctl.lfd);
	ctl.lfd = -1;
	return -1;
}

/*
 * Start serving, in a thread of its own.  Called after privileges were
 * dropped: capabilities are per thread, and a thread started before
 * the drop would keep root's.
 */
int
control_run(void)
{
	sigset_t all, old;
	int rc;

	if (!ctl.opened)
		return -1;
	/* Signals belong to the main thread, not to this one. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&ctl.thread, NULL, ctl_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		log_warn("control: pthread_create");
		return -1;
	}
	ctl.running = true;
	return 0;
}

void
control_stop(void)
{
	struct stat st;
	ssize_t n;

	if (!ctl.opened)
		return;
	if (ctl.running) {
		do
			n = write(ctl.stopfd[1], "x", 1);
		while (n == -1 && errno == EINTR);
		pthread_join(ctl.thread, NULL);
	}
	close(ctl.lfd);
	close(ctl.stopfd[0]);
	close(ctl.stopfd[1]);
	if (ctl.nfqfd != -1)
		close(ctl.nfqfd);
	ctl.lfd = ctl.stopfd[0] = ctl.stopfd[1] = ctl.nfqfd = -1;
	/* Remove our socket, not one another daemon put there since. */
	if (lstat(ctl.path, &st) == 0 && st.st_dev == ctl.dev &&
	    st.st_ino == ctl.ino && unlink(ctl.path) == -1)
		log_debug("control socket %s: unlink: %s", ctl.path,
		    strerror(errno));
	ctl.running = false;
	ctl.opened = false;
}
