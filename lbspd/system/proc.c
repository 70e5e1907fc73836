/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proc.c -- the kernel's NFQUEUE figures from /proc (see proc.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "system/proc.h"

#define NFQ_PROC		"/proc/net/netfilter/nfnetlink_queue"
#define NFQ_PROC_BYTES		16384	/* of it read: 300 queues' lines */

/*
 * The file, opened once; read again from the start each time, under
 * nfq_lock (the control and metrics threads share the descriptor and
 * its offset).
 */
static pthread_mutex_t nfq_lock = PTHREAD_MUTEX_INITIALIZER;
static int nfq_fd = -1;

void
proc_nfq_open(void)
{
	pthread_mutex_lock(&nfq_lock);
	if (nfq_fd == -1)
		nfq_fd = open(NFQ_PROC, O_RDONLY | O_CLOEXEC);
	pthread_mutex_unlock(&nfq_lock);
}

void
proc_nfq_close(void)
{
	pthread_mutex_lock(&nfq_lock);
	if (nfq_fd != -1)
		close(nfq_fd);
	nfq_fd = -1;
	pthread_mutex_unlock(&nfq_lock);
}

void
proc_nfq_parse(char *buf, struct proc_nfq *q, unsigned first, unsigned n)
{
	unsigned num, portid, total, mode, range, qdrop, udrop, seq, one;
	char *line, *save = NULL;

	memset(q, 0, n * sizeof(*q));
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

void
proc_nfq_read(struct proc_nfq *q, unsigned first, unsigned n)
{
	char buf[NFQ_PROC_BYTES + 1];
	size_t len = 0;
	ssize_t r;

	pthread_mutex_lock(&nfq_lock);
	if (nfq_fd == -1)
		nfq_fd = open(NFQ_PROC, O_RDONLY | O_CLOEXEC);
	if (nfq_fd != -1 && lseek(nfq_fd, 0, SEEK_SET) != -1) {
		while (len < NFQ_PROC_BYTES) {
			r = read(nfq_fd, buf + len, NFQ_PROC_BYTES - len);
			if (r == -1 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			len += (size_t)r;
		}
	}
	pthread_mutex_unlock(&nfq_lock);
	buf[len] = '\0';
	proc_nfq_parse(buf, q, first, n);
}
