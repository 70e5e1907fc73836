/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proc.h -- what lbspd reads from /proc: the kernel's figures of its
 * NFQUEUE queues (/proc/net/netfilter/nfnetlink_queue), shown by
 * lbspctl stats under "queue".
 */
#ifndef LBSPD_PROC_H
#define LBSPD_PROC_H

#include <stdbool.h>
#include <stdint.h>

/* The kernel's numbers for one NFQUEUE queue. */
struct proc_nfq {
	bool bound;		/* the queue is listed: someone bound it */
	uint64_t queue_total;	/* packets waiting in the queue now */
	uint64_t queue_dropped;	/* packets: dropped, queue full */
	uint64_t user_dropped;	/* packets: netlink could not deliver */
	uint64_t packets;	/* packets queued since bound (the id
				   sequence) */
};

/*
 * proc_nfq_open - open the file while root: it is mode 0440 root, and
 * the daemon reads it after dropping privileges.  Safe to call again.
 */
void proc_nfq_open(void);

/* proc_nfq_close - close it (the daemon stops). */
void proc_nfq_close(void);

/*
 * proc_nfq_read - q[i] for queue first + i (i < n), read again from
 * the start of the file (opened now if proc_nfq_open() was not called
 * or failed).  Queues not listed (not bound, module not loaded, file
 * unreadable) stay zero, bound false.  Safe from any thread.
 */
void proc_nfq_read(struct proc_nfq *q, unsigned first, unsigned n);

/*
 * proc_nfq_parse - the same from the file's text, buf (NUL-terminated,
 * modified: split into lines).  Lines that do not read as the kernel's
 * nine numbers (queue number, peer portid, queue total, copy mode, copy
 * range, queue dropped, user dropped, id sequence, 1) are skipped.
 */
void proc_nfq_parse(char *buf, struct proc_nfq *q, unsigned first,
    unsigned n);

#endif /* LBSPD_PROC_H */
