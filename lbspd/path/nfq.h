/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nfq.h -- NFQUEUE I/O: one queue, one thread.
 */
#ifndef LBSPD_NFQ_H
#define LBSPD_NFQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <sp/dopt.h>

#include "lbspd.h"

struct queue;

/*
 * queue_open - bind queue num (as root, before privileges are dropped):
 * large receive buffer, NETLINK_NO_ENOBUFS, queue maxlen, fail-open,
 * F_GSO when gso.  idx (< SP_CONF_MAX_QUEUES, one per queue) names the
 * thread's d->readers slot for grace periods.  Returns NULL after logging
 * why; a queue bound by another program is reported as such.
 */
struct queue *queue_open(struct lbspd *d, unsigned idx, uint16_t num,
    bool gso);

/* Start the queue's thread; it runs until d->stop. */
int queue_start(struct queue *q);

/*
 * queue_probe - for the start-up self-test: wait up to timeout_ms for one
 * packet, put LBSP{opt} on it and return it with an acknowledged
 * verdict.  Returns 0 when the kernel took the modified packet, or -1
 * with errno set (ETIMEDOUT: no packet came; else the kernel's refusal).
 */
int queue_probe(struct queue *q, int timeout_ms, uint8_t type,
    const struct sp_lbsp *opt);

/* Join the thread (if started), unbind and free. */
void queue_close(struct queue *q);

#endif
