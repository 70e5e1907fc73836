/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * metrics.c -- the Prometheus endpoint: "GET /metrics" on the address
 * of metrics-listen answers, in the text exposition format, everything
 * "lbspctl stats" says and, with the balancer role, every vip and
 * server of "lbspctl servers" (prom.h names them), and lbsp_build_info.
 *
 * Served by libmicrohttpd in one thread of its own (epoll): the packet
 * threads never wait for it.  It takes d->admin only while describing
 * the tables into memory, as lbspctl's commands do, and writes with the
 * lock released.
 *
 * A slow or hostile client costs bounded memory and no packets:
 *   - METRICS_CONNECTIONS connections at once, METRICS_PER_IP from one
 *     address; libmicrohttpd closes any more at once;
 *   - METRICS_MEMORY bytes of buffer per connection (request line and
 *     headers must fit: a longer request is refused);
 *   - METRICS_TIMEOUT_S seconds without progress closes a connection
 *     (slowloris);
 *   - only GET and HEAD of /metrics are answered; another path is 404,
 *     another method 405, each counted.
 * Counted, in "lbspctl stats" under "metrics" and so also as
 * lbsp_metrics_*_total: connections accepted, scrapes answered,
 * not_found, bad_method, errors (an answer that could not be built),
 * and unanswered: connections closed before lbspd answered anything
 * (junk that libmicrohttpd refused, requests never finished, timeouts,
 * clients that gave up).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lbspd.h"
#include "system/log.h"
#include "control/metrics.h"
#include "control/print.h"
#include "control/prom.h"

#define METRICS_CONNECTIONS	32	/* connections at once */
#define METRICS_PER_IP		4	/* from one address */
#define METRICS_TIMEOUT_S	5	/* seconds without progress */
#define METRICS_MEMORY		8192	/* bytes of buffer per connection */
#define METRICS_BACKLOG		64	/* listen() backlog */
#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* What a connection has been given, for the unanswered count. */
struct metrics_conn {
	bool answered;		/* lbspd queued an answer on it */
};

static struct {
	struct lbspd *d;
	int fd;				/* listening socket, or -1 */
	struct MHD_Daemon *mhd;		/* running server, or NULL */
	char where[INET6_ADDRSTRLEN + 8];	/* "[addr]:port" for logs */
	_Atomic uint64_t connections;	/* accepted */
	_Atomic uint64_t scrapes;	/* 200 answers */
	_Atomic uint64_t not_found;	/* 404 answers */
	_Atomic uint64_t bad_method;	/* 405 answers */
	_Atomic uint64_t errors;	/* 500 answers */
	_Atomic uint64_t unanswered;	/* closed without an answer */
} met = { .fd = -1 };

static void
count(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

void
metrics_stats(struct pr *p)
{
	if (met.mhd == NULL)
		return;
	pr_open_object(p, "metrics");
	pr_u64(p, "connections", lbspd_read(&met.connections));
	pr_u64(p, "scrapes", lbspd_read(&met.scrapes));
	pr_u64(p, "not_found", lbspd_read(&met.not_found));
	pr_u64(p, "bad_method", lbspd_read(&met.bad_method));
	pr_u64(p, "errors", lbspd_read(&met.errors));
	pr_u64(p, "unanswered", lbspd_read(&met.unanswered));
	pr_close_object(p);
}

/*
 * The page: stats, servers (balancer role), build info, rendered into a
 * malloc'd buffer.  Returns it (*len bytes) or NULL.
 */
static char *
metrics_page(struct lbspd *d, size_t *len)
{
	struct prom *m;
	struct pr p;
	char *buf = NULL, ver[64], labels[96];
	FILE *out;
	int rc;

	if ((m = prom_new()) == NULL)
		return NULL;
	prom_root(m, "");
	pr_init_prom(&p, m);
	control_stats(d, &p);
	rc = pr_finish(&p);
	prom_root(m, "servers");
	pr_init_prom(&p, m);
	if (control_servers(d, &p) == 0 && pr_finish(&p) == -1)
		rc = -1;
	prom_label_escape(ver, sizeof(ver), PACKAGE_VERSION);
	snprintf(labels, sizeof(labels), "version=\"%s\"", ver);
	prom_add(m, "lbsp_build_info", PROM_GAUGE,
	    "lbspd's version, as lbspctl stats says it", labels, 1);
	out = open_memstream(&buf, len);
	if (out == NULL) {
		prom_free(m);
		return NULL;
	}
	if (prom_write(m, out) == -1)
		rc = -1;
	if (fclose(out) == EOF)
		rc = -1;
	prom_free(m);
	if (rc == -1) {
		free(buf);
		return NULL;
	}
	return buf;
}

static enum MHD_Result
metrics_reply(struct MHD_Connection *c, unsigned status, const char *text)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(text), (void *)(uintptr_t)text,
	    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* libmicrohttpd's request handler: one call per request that parsed. */
static enum MHD_Result
metrics_answer(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	const union MHD_ConnectionInfo *ci;
	struct MHD_Response *r;
	struct metrics_conn *mc;
	enum MHD_Result ret;
	char *page;
	size_t len = 0;

	(void)cls;
	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req_cls;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci != NULL && (mc = ci->socket_context) != NULL)
		mc->answered = true;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		count(&met.bad_method);
		return metrics_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "only GET and HEAD\n");
	}
	if (strcmp(url, "/metrics") != 0) {
		count(&met.not_found);
		return metrics_reply(c, MHD_HTTP_NOT_FOUND,
		    "not found: metrics are at /metrics\n");
	}
	if ((page = metrics_page(met.d, &len)) == NULL) {
		count(&met.errors);
		return metrics_reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "cannot build the metrics\n");
	}
	r = MHD_create_response_from_buffer(len, page, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(page);
		count(&met.errors);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    METRICS_CONTENT_TYPE);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	count(&met.scrapes);
	return ret;
}

/* Connections opened and closed: counts, and the unanswered ones. */
static void
metrics_conn(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct metrics_conn *mc;

	(void)cls;
	(void)c;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		count(&met.connections);
		*socket_context = calloc(1, sizeof(struct metrics_conn));
		return;
	}
	mc = *socket_context;
	if (mc == NULL || !mc->answered)
		count(&met.unanswered);
	free(mc);
	*socket_context = NULL;
}

/* libmicrohttpd's messages, at debug level: every client can cause them. */
static void
metrics_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_debug("metrics: %s", msg);
}

int
metrics_open(struct lbspd *d)
{
	const struct sp_conf *conf = d->conf;
	struct sockaddr_in6 sa;
	char addr[INET6_ADDRSTRLEN];
	int one = 1;

	met.d = d;
	if (conf->metrics_port == 0)
		return 0;
	if (inet_ntop(AF_INET6, conf->metrics_addr, addr, sizeof(addr)) == NULL)
		snprintf(addr, sizeof(addr), "?");
	snprintf(met.where, sizeof(met.where), "[%s]:%u", addr,
	    conf->metrics_port);
	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_port = htons(conf->metrics_port);
	memcpy(&sa.sin6_addr, conf->metrics_addr, 16);
	met.fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (met.fd == -1) {
		log_warn("metrics-listen %s: socket", met.where);
		return -1;
	}
	if (setsockopt(met.fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
	    sizeof(one)) == -1 ||
	    setsockopt(met.fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1 ||
	    bind(met.fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(met.fd, METRICS_BACKLOG) == -1) {
		log_warn("metrics-listen %s", met.where);
		close(met.fd);
		met.fd = -1;
		return -1;
	}
	return 0;
}

int
metrics_start(struct lbspd *d)
{
	met.d = d;
	if (met.fd == -1)
		return 0;
	met.mhd = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD |
	    MHD_USE_IPv6 | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	    metrics_answer, NULL,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)met.fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_CONNECTIONS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)METRICS_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICS_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_MEMORY,
	    MHD_OPTION_NOTIFY_CONNECTION, metrics_conn, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, metrics_log, NULL,
	    MHD_OPTION_END);
	if (met.mhd == NULL) {
		log_warnx("metrics-listen %s: cannot start the HTTP server",
		    met.where);
		return -1;
	}
	log_info("metrics on http://%s/metrics", met.where);
	return 0;
}

void
metrics_stop(void)
{
	if (met.mhd != NULL) {
		/* libmicrohttpd closes the listening socket it was given. */
		MHD_stop_daemon(met.mhd);
		met.mhd = NULL;
		met.fd = -1;
	}
	if (met.fd != -1) {
		close(met.fd);
		met.fd = -1;
	}
}
