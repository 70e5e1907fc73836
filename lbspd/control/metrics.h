/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * metrics.h -- Prometheus metrics over HTTP (libmicrohttpd), on the
 * address of "metrics-listen ADDRESS PORT"; off when it is absent.
 */
#ifndef LBSPD_METRICS_H
#define LBSPD_METRICS_H

struct lbspd;
struct pr;

/*
 * metrics_open - bind and listen on the configured address, as root
 * (before the privilege drop: any port works).  Returns 0 (also when
 * no metrics-listen is configured) or -1 after logging why.
 */
int metrics_open(struct lbspd *d);

/*
 * metrics_start - serve the socket in libmicrohttpd's own thread, once
 * the daemon has dropped its privileges (capabilities are per thread:
 * a thread started before would keep them).  Returns 0 or -1.
 */
int metrics_start(struct lbspd *d);

/* metrics_stop - stop serving and close the socket; safe when off. */
void metrics_stop(void);

/*
 * metrics_stats - the metrics server's own counters as the "metrics"
 * object of lbspctl stats; nothing when it does not run.
 */
void metrics_stats(struct pr *p);

#endif /* LBSPD_METRICS_H */
