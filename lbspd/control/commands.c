/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * commands.c -- what the control socket answers: lbspctl's commands,
 * one function each, and the shims' requests.  socket.c reads the
 * lines and sends the answers; request.c reads a line as a command;
 * each command gathers its figures and rows here and describes them
 * through answers.c, which knows neither the daemon nor its locks.
 *
 * Protocol (unix stream socket, one request per connection):
 *
 *   client -> daemon: one request line of at most CONTROL_LINE_MAX (socket.c: 512)
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
 * Commands (control_commands[] in request.c, their functions in
 * cmd_fns[] below): stats flows cache stick servers
 * drain enable weight reload.  stick, servers, drain, enable and
 * weight answer "error: no balancer role in this daemon" without it;
 * what drain, enable and weight change lasts until the next reload,
 * which applies the configuration's values.  The output is built in
 * memory, then written with every lock released: a slow reader never
 * holds anything up.  Commands hold d->admin, which queue threads do
 * not take; the flow shards and the client cache, which they do take,
 * are walked LBSPD_BATCH (256) rows per lock hold, copied out
 * (lbspd_flows_foreach(), lbspd_cache_foreach()), and formatted with
 * no shard locked.  Requests and error answers are counted
 * and shown by "stats" under "control".
 *
 * The stats and servers answers are also the metrics server's page
 * (control_stats, control_servers; metrics.c renders them through
 * prom.c): what is added here is a Prometheus metric too.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "balancer/balancer.h"
#include "control/answers.h"
#include "control/commands.h"
#include "control/fdpass.h"
#include "control/metrics.h"
#include "control/print.h"
#include "control/request.h"
#include "lbspd.h"
#include "path/path.h"
#include "path/tc.h"
#include "system/log.h"
#include "system/proc.h"

/* One request being answered. */
struct ctl_req {
	struct lbspd *d;
	struct pr *pr;			/* where the answer goes */
	struct control_request *rq;	/* the command and its words */
};

/* ------------------------------------------------------------ stats */

/* tc.c's objects of the stats answer, in their place. */
static void
stats_datapath(struct pr *p, void *arg)
{
	tc_stats_print(p, arg);
}

/*
 * The stats answer.  Also what the metrics server renders (metrics.c),
 * so that every value here is a Prometheus metric too.
 */
int
control_stats(struct lbspd *d, struct pr *p)
{
	struct proc_nfq q[SP_CONF_MAX_QUEUES];
	struct answer_stats s = {
		.version = PACKAGE_VERSION,
		.paths = &d->paths,
		.stats = &d->stats,
		.queue = q,
		.datapath = stats_datapath,
		.datapath_arg = d,
		.metrics = metrics_stats,
	};
	const struct sp_conf *conf;
	const struct lb_state *lb;
	uint64_t now = sp_now_ms();
	unsigned i, j;

	/* The kernel's queue numbers first, without holding the lock
	 * (reload frees an old configuration under it). */
	pthread_mutex_lock(&d->admin);
	conf = lbspd_conf(d);
	s.queue_first = conf->queue_first;
	s.nqueue = conf->queue_count;
	pthread_mutex_unlock(&d->admin);
	if (s.nqueue > SP_CONF_MAX_QUEUES)
		s.nqueue = SP_CONF_MAX_QUEUES;
	proc_nfq_read(q, s.queue_first, s.nqueue);

	pthread_mutex_lock(&d->admin);
	conf = lbspd_conf(d);	/* reload swaps it under d->admin */
	s.uptime_s = now > d->started_ms ? (now - d->started_ms) / 1000 : 0;
	s.roles = conf->roles;
	s.queue_count = conf->queue_count;
	s.identity_mode = conf->identity;
	memcpy(s.identity, lbspd_identity(d)->addr, sizeof(s.identity));
	/* The daemon's flow table while a role uses it, and the kernel's
	 * maps of the roles on tc. */
	s.flows = lbspd_flows_count(d);
	s.flows_max = conf->roles & ~d->tc_roles ? conf->max_flows : 0;
	tc_flows_count(d, &s.flows, &s.flows_max);
	pthread_mutex_lock(&d->cache_lock);
	s.cache = d->cache != NULL ? sp_cache_count(d->cache) : 0;
	pthread_mutex_unlock(&d->cache_lock);
	s.cache_max = conf->max_cache;
	tc_cache_count(d, &s.cache, &s.cache_max);
	if ((lb = d->lb) != NULL) {
		/* Servers up: sp_health_up, up or retry. */
		s.balancer = true;
		s.vips = lb->nvips;
		for (i = 0; i < lb->nvips; i++)
			for (j = 0; j < lb->vips[i].nservers; j++) {
				s.servers_total++;
				if (atomic_load_explicit(
				    &lb->vips[i].servers[j].up,
				    memory_order_relaxed))
					s.servers_up++;
			}
		s.stick = balancer_stick_count(lb->stick);
		s.stick_max = conf->max_stick;
	}
	s.control_requests = lbspd_read(&control_ctr.requests);
	s.control_errors = lbspd_read(&control_ctr.errors);
	answer_stats(p, &s);
	pthread_mutex_unlock(&d->admin);
	return 0;
}

static int
cmd_stats(struct ctl_req *r)
{
	return control_stats(r->d, r->pr);
}

/* ------------------------------------------------------------ flows */

/* The walks of the flow, cache and stick tables. */
struct walk {
	struct pr *pr;
	uint64_t now_ms;
};

static int
flow_row(const struct sp_flow *f, void *arg)
{
	struct walk *w = arg;

	answer_flow(w->pr, f, w->now_ms);
	return 0;
}

static int
cmd_flows(struct ctl_req *r)
{
	struct walk w = { .pr = r->pr, .now_ms = sp_now_ms() };
	int rc;

	pthread_mutex_lock(&r->d->admin);
	pr_open_array(r->pr, NULL);
	rc = lbspd_flows_foreach(r->d, flow_row, &w);
	tc_flows_foreach(r->d, flow_row, &w);
	pr_close_array(r->pr);
	pthread_mutex_unlock(&r->d->admin);
	if (rc == -1)
		return control_request_error(r->rq, "out of memory");
	return 0;
}

/* ------------------------------------------------------------ cache */

static int
cache_row(const struct sp_cache_entry *e, void *arg)
{
	struct walk *w = arg;

	answer_cache(w->pr, e, w->now_ms);
	return 0;
}

static int
blackhole_row(const struct lbspd_blackhole *b, void *arg)
{
	struct walk *w = arg;

	answer_blackhole(w->pr, b, w->now_ms);
	return 0;
}

/* The vips marked option-blackholed (client.c), copied: printed without
 * d->blackhole_lock, which queue threads take. */
static void
blackhole_rows(struct pr *p, struct lbspd *d, uint64_t now_ms)
{
	struct lbspd_blackholes marks;
	unsigned i;

	pthread_mutex_lock(&d->blackhole_lock);
	marks.n = d->blackholes.n;	/* the marks in use only */
	memcpy(marks.mark, d->blackholes.mark, marks.n * sizeof(marks.mark[0]));
	pthread_mutex_unlock(&d->blackhole_lock);
	for (i = 0; i < marks.n; i++)
		answer_blackhole(p, &marks.mark[i], now_ms);
}

static int
cmd_cache(struct ctl_req *r)
{
	struct walk w = { .pr = r->pr, .now_ms = sp_now_ms() };
	int rc;

	pthread_mutex_lock(&r->d->admin);
	pr_open_array(r->pr, NULL);
	rc = lbspd_cache_foreach(r->d, cache_row, &w);
	tc_cache_foreach(r->d, w.now_ms, cache_row, &w);
	blackhole_rows(r->pr, r->d, w.now_ms);
	tc_blackholes_foreach(r->d, blackhole_row, &w);
	pr_close_array(r->pr);
	pthread_mutex_unlock(&r->d->admin);
	if (rc == -1)
		return control_request_error(r->rq, "out of memory");
	return 0;
}

/* ------------------------------------------------------------ reload */

static int
cmd_reload(struct ctl_req *r)
{
	/* The main thread reloads on SIGHUP (sigtimedwait). */
	if (kill(getpid(), SIGHUP) == -1)
		return control_request_error(r->rq,
		    "cannot signal the daemon: %s", strerror(errno));
	pr_open_object(r->pr, NULL);
	pr_str(r->pr, "reload", "requested");
	pr_close_object(r->pr);
	return 0;
}

/* ------------------------------------------------------------ balancer */

/*
 * The balancer's state, or NULL after recording the error a daemon
 * without the balancer role answers.  d->admin held.
 */
static struct lb_state *
ctl_balancer(struct ctl_req *r)
{
	if (r->d->lb == NULL)
		control_request_error(r->rq,
		    "no balancer role in this daemon");
	return r->d->lb;
}

/* An IPv6 address argument into a (16 bytes).  Returns 0 or -1. */
static int
parse_addr(struct ctl_req *r, const char *what, const char *s,
    uint8_t a[16])
{
	if (inet_pton(AF_INET6, s, a) != 1)
		return control_request_error(r->rq, "bad %s address '%.64s'",
		    what, s);
	return 0;
}

static int
stick_row(const struct sp_stick_entry *e, void *arg)
{
	struct walk *w = arg;

	answer_stick(w->pr, e, w->now_ms);
	return 0;
}

static int
cmd_stick(struct ctl_req *r)
{
	struct walk w = { .pr = r->pr, .now_ms = sp_now_ms() };
	struct lb_state *lb;
	int rc;

	pthread_mutex_lock(&r->d->admin);
	if ((lb = ctl_balancer(r)) == NULL) {
		pthread_mutex_unlock(&r->d->admin);
		return -1;
	}
	pr_open_array(r->pr, NULL);
	rc = balancer_stick_foreach(lb->stick, stick_row, &w);
	pr_close_array(r->pr);
	pthread_mutex_unlock(&r->d->admin);
	if (rc == -1)
		return control_request_error(r->rq, "out of memory");
	return 0;
}

#define RELAXED(x) atomic_load_explicit(&(x), memory_order_relaxed)

/* Server i of vip v, a row for the answers.  d->admin and the vip's
 * lock held (health, eligibility); the figures are atomics. */
static void
server_row(struct answer_server *row, const struct lb_vip *v, unsigned i)
{
	const struct lb_server *s = &v->servers[i];

	memcpy(row->addr, s->s.addr, 16);
	row->state = sp_health_state_name(&s->health);
	row->reason = sp_health_reason_name(&s->health);
	row->eligible = v->view[i].eligible;
	row->drain = RELAXED(s->drain);
	row->weight = v->view[i].weight;
	row->cost = s->s.cost;
	row->has_backup = s->has_backup;
	memcpy(row->backup, s->backup, 16);
	row->sessions = RELAXED(s->sessions);
	row->sessions_total = RELAXED(s->sessions_total);
	row->packets = RELAXED(s->packets);
	row->bytes = RELAXED(s->bytes);
	row->rtt_known = s->health.rtt_us != SP_HEALTH_RTT_UNKNOWN;
	row->rtt_us = row->rtt_known ? s->health.rtt_us : 0;
}

/*
 * Every vip with its scheduler and its servers (answers.h).  Returns -1
 * without the balancer role.
 */
int
control_servers(struct lbspd *d, struct pr *p)
{
	struct answer_server rows[64];
	struct lb_vip *v;
	unsigned i, j, k, n;

	pthread_mutex_lock(&d->admin);
	if (d->lb == NULL) {
		pthread_mutex_unlock(&d->admin);
		return -1;
	}
	answer_servers_open(p);
	for (i = 0; i < d->lb->nvips; i++) {
		v = &d->lb->vips[i];
		answer_vip_open(p, v->addr, sp_conf_scheduler_name(v->kind));
		/* Copied under the vip's lock, which new sessions take,
		 * a few rows at a time; formatted without it. */
		for (j = 0; j < v->nservers; j += n) {
			pthread_mutex_lock(&v->lock);
			for (n = 0; n < 64 && j + n < v->nservers; n++)
				server_row(&rows[n], v, j + n);
			pthread_mutex_unlock(&v->lock);
			for (k = 0; k < n; k++)
				answer_server(p, &rows[k]);
		}
		answer_vip_close(p);
	}
	answer_servers_close(p);
	pthread_mutex_unlock(&d->admin);
	return 0;
}

static int
cmd_servers(struct ctl_req *r)
{
	if (control_servers(r->d, r->pr) == -1)
		return control_request_error(r->rq,
		    "no balancer role in this daemon");
	return 0;
}

/*
 * The server named vip / srv, or NULL after recording the error.
 * d->admin held; *vp receives its vip.
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
		control_request_error(r->rq, "bad address");
		return NULL;
	}
	if ((*vp = balancer_vip(r->d->lb, vip)) == NULL) {
		control_request_error(r->rq, "no vip %s", a);
		return NULL;
	}
	if ((s = balancer_server(*vp, srv)) == NULL)
		control_request_error(r->rq, "no server %s in vip %s", b, a);
	return s;
}

/*
 * drain|enable VIP SERVER: set or clear the server's drain flag.  Until
 * the next reload, which applies the configuration's drain again.
 */
static int
cmd_server_state(struct ctl_req *r)
{
	char **argv = r->rq->argv;
	struct answer_server row;
	uint8_t vip[16], srv[16];
	struct lb_server *s;
	struct lb_vip *v = NULL;
	bool drain = r->rq->cmd == CONTROL_DRAIN;

	if (parse_addr(r, "vip", argv[1], vip) == -1 ||
	    parse_addr(r, "server", argv[2], srv) == -1)
		return -1;
	pthread_mutex_lock(&r->d->admin);
	if ((s = ctl_server(r, vip, srv, &v)) == NULL) {
		pthread_mutex_unlock(&r->d->admin);
		return -1;
	}
	pthread_mutex_lock(&v->lock);
	if (RELAXED(s->drain) != drain) {
		atomic_store_explicit(&s->drain, drain, memory_order_relaxed);
		balancer_refresh(v);
		log_info("control: server %s of vip %s: %s", argv[2],
		    argv[1], drain ? "draining" : "enabled");
	}
	server_row(&row, v, (unsigned)(s - v->servers));
	pthread_mutex_unlock(&v->lock);
	answer_server_change(r->pr, v->addr, &row);
	pthread_mutex_unlock(&r->d->admin);
	return 0;
}

/* weight VIP SERVER N, N as in lbsp.conf: 1..1000.  Until a reload. */
static int
cmd_weight(struct ctl_req *r)
{
	char **argv = r->rq->argv;
	struct answer_server row;
	uint8_t vip[16], srv[16];
	struct lb_server *s;
	struct lb_vip *v = NULL;
	unsigned long w;
	char *end;

	if (parse_addr(r, "vip", argv[1], vip) == -1 ||
	    parse_addr(r, "server", argv[2], srv) == -1)
		return -1;
	errno = 0;
	w = strtoul(argv[3], &end, 10);
	if (argv[3][0] < '0' || argv[3][0] > '9' || *end != '\0' ||
	    errno != 0 || w < 1 || w > 1000)
		return control_request_error(r->rq,
		    "bad weight '%.32s' (1..1000)", argv[3]);
	pthread_mutex_lock(&r->d->admin);
	if ((s = ctl_server(r, vip, srv, &v)) == NULL) {
		pthread_mutex_unlock(&r->d->admin);
		return -1;
	}
	pthread_mutex_lock(&v->lock);
	if (s->s.weight != w) {
		log_info("control: server %s of vip %s: weight %u -> %lu",
		    argv[2], argv[1], s->s.weight, w);
		s->s.weight = (uint16_t)w;
		balancer_refresh(v);
	}
	server_row(&row, v, (unsigned)(s - v->servers));
	pthread_mutex_unlock(&v->lock);
	answer_server_change(r->pr, v->addr, &row);
	pthread_mutex_unlock(&r->d->admin);
	return 0;
}

/* ------------------------------------------------------------ dispatch */

static int (*const cmd_fns[CONTROL__CMDS])(struct ctl_req *) = {
	[CONTROL_STATS] = cmd_stats,
	[CONTROL_FLOWS] = cmd_flows,
	[CONTROL_CACHE] = cmd_cache,
	[CONTROL_STICK] = cmd_stick,
	[CONTROL_SERVERS] = cmd_servers,
	[CONTROL_DRAIN] = cmd_server_state,
	[CONTROL_ENABLE] = cmd_server_state,
	[CONTROL_WEIGHT] = cmd_weight,
	[CONTROL_RELOAD] = cmd_reload,
};

/*
 * Answer one command line of len bytes (NUL-terminated there, without
 * its "\n") into *ans / *anslen (malloc'd).
 */
static void
command_answer(struct lbspd *d, char *line, size_t len, char **ans,
    size_t *anslen)
{
	struct control_request rq;
	struct ctl_req r = { .d = d, .rq = &rq };
	struct pr p;
	FILE *f;
	int rc;

	*ans = NULL;
	*anslen = 0;
	if (control_request_parse(line, len, &rq) == -1)
		goto error;
	if ((f = open_memstream(ans, anslen)) == NULL) {
		control_request_error(&rq, "out of memory");
		goto error;
	}
	pr_init(&p, f, rq.json);
	r.pr = &p;
	rc = cmd_fns[rq.cmd](&r);
	if (pr_finish(&p) == -1 && rc == 0)
		rc = control_request_error(&rq,
		    "internal error printing the answer");
	if (rq.end && rc == 0)
		fputc('\0', f);
	if (fclose(f) == EOF && rc == 0)
		rc = control_request_error(&rq, "out of memory");
	if (rc == 0)
		return;
	free(*ans);
error:
	control_error_answer(rq.err, rq.end, ans, anslen);
}

/* ------------------------------------------------------------ shims */

/* An error answer to a shim (no end mark: shims read to the close). */
static void
shim_error(char *ans, size_t size, const char *msg)
{
	snprintf(ans, size, "error: %s\n", msg);
	atomic_fetch_add_explicit(&control_ctr.errors, 1,
	    memory_order_relaxed);
}

/*
 * The shims' versioned requests, "shim1 lookup VIP IDENTITY": the
 * server the client role learned for (vip, identity), when it is not
 * suspect.  Answer: "server ADDR\n" or "none\n" (or "error: ...\n").
 * O(1) under d->cache_lock: a connect() waits on it.
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
		shim_error(ans, size, "lookup wants VIP IDENTITY, two IPv6 "
		    "addresses");
		return;
	}
	pthread_mutex_lock(&d->cache_lock);
	if (d->cache != NULL)
		hit = sp_cache_lookup(d->cache, vip, id, sp_now_ms(), server);
	pthread_mutex_unlock(&d->cache_lock);
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
	char *words[4] = { NULL }, *w, *save = NULL, msg[96];
	int n = 0;

	for (w = strtok_r(line, " \t", &save); w != NULL && n < 4;
	    w = strtok_r(NULL, " \t", &save))
		words[n++] = w;
	if (n == 0 || strcmp(words[0], "shim1") != 0) {
		snprintf(msg, sizeof(msg), "shim protocol '%.16s' not "
		    "spoken here (this lbspd speaks shim1)",
		    n > 0 ? words[0] : "");
		shim_error(ans, size, msg);
	} else if (n == 4 && strcmp(words[1], "lookup") == 0) {
		shim_lookup(d, words[2], words[3], ans, size);
	} else if (n == 3 && strcmp(words[1], "dstopts") == 0) {
		if (fdpass_dstopts(d, *passfd, words[2], ans, size) == -1)
			atomic_fetch_add_explicit(&control_ctr.errors, 1,
			    memory_order_relaxed);
		*passfd = -1;	/* closed by fdpass_dstopts() */
	} else {
		shim_error(ans, size, "shim1: usage: lookup VIP IDENTITY | "
		    "dstopts HEX80|none");
	}
	if (*passfd != -1) {
		close(*passfd);
		*passfd = -1;
	}
}

void
control_answer(struct lbspd *d, char *line, size_t len, int *passfd,
    char **ans, size_t *anslen)
{
	char small[256];

	if (strncmp(line, "shim", 4) == 0) {
		shim_request(d, line, passfd, small, sizeof(small));
	} else if (strncmp(line, "dstopts ", 8) == 0) {
		/* Before the versioned requests: still understood. */
		if (fdpass_dstopts(d, *passfd, line + 8, small,
		    sizeof(small)) == -1)
			atomic_fetch_add_explicit(&control_ctr.errors, 1,
			    memory_order_relaxed);
		*passfd = -1;
	} else {
		if (*passfd != -1) {
			close(*passfd);
			*passfd = -1;
		}
		command_answer(d, line, len, ans, anslen);
		return;
	}
	*ans = strdup(small);
	*anslen = *ans != NULL ? strlen(*ans) : 0;
}
