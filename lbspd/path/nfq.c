/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nfq.c -- NFQUEUE I/O on libmnl + libnetfilter_queue: one queue, one
 * thread.
 *
 * A thread receives up to NFQ_BATCH packets with one recvmmsg(), runs
 * each through the roles, and answers them all with one sendto():
 *  - runs of packets accepted unchanged become one batch verdict (which
 *    carries no payload);
 *  - a packet that is modified, marked or dropped gets its own verdict,
 *    packed in the same buffer, in order, so no flow is reordered.
 * The thread takes no global lock: see doc/design.md, "Threads and
 * locks".  Rules kept (doc/design.md §4): NETLINK_NO_ENOBUFS, large receive buffer
 * and queue maxlen, fail-open; with F_GSO a modified packet gets a
 * complete L4 checksum; an unmodified one is returned without payload.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/types.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include <sp/csum.h>

#include "system/log.h"
#include "path/nfq.h"
#include "path/path.h"

#define NFQ_BATCH	32			/* packets per receive */
#define NFQ_RXSIZE	(0xffff + 1024)		/* one message, bytes */
#define NFQ_TXSIZE	(1u << 20)		/* packed verdicts, bytes */
#define NFQ_MAXLEN	16384			/* queue length, packets */
#define NFQ_RCVBUF	(16u << 20)		/* socket receive buffer */
#define NFQ_SNDBUF	(4u << 20)		/* socket send buffer */
#define NFQ_PKT_MAX	0xffff			/* kernel's limit for a
						   returned packet, bytes */

struct queue {
	struct lbspd *d;
	unsigned idx;			/* d->readers[idx] is this thread */
	uint16_t num;			/* queue number */
	bool gso;			/* F_GSO asked for */
	struct mnl_socket *nl;
	unsigned portid;
	pthread_t thread;
	bool started;
	char *rx;			/* NFQ_BATCH * NFQ_RXSIZE */
	struct mmsghdr msgs[NFQ_BATCH];
	struct iovec iov[NFQ_BATCH];
	char *tx;			/* NFQ_TXSIZE */
	size_t txlen;			/* bytes used in tx */
	uint32_t run_id;		/* last id of a pending unchanged run */
	bool run;			/* a run is pending */
	uint8_t *scratch;		/* writable packet copy, NFQ_PKT_MAX */
	uint64_t last_err_log_ms;	/* rate limit for send errors */
};

/* ---------------------------------------------------------------- setup */

/* Send a config message and wait for the kernel's answer. */
static int
queue_config(struct queue *q, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;
	uint32_t seq = nlh->nlmsg_seq;

	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	n = mnl_socket_recvfrom(q->nl, buf, sizeof(buf));
	if (n < 0)
		return -1;
	return mnl_cb_run(buf, (size_t)n, seq, q->portid, NULL, NULL) < 0 ?
	    -1 : 0;
}

struct queue *
queue_open(struct lbspd *d, unsigned idx, uint16_t num, bool gso)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct queue *q;
	int one = 1, size;
	uint32_t flags;
	unsigned i;

	if (idx >= SP_CONF_MAX_QUEUES)
		return NULL;
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return NULL;
	q->d = d;
	q->idx = idx;
	q->num = num;
	q->gso = gso;
	q->rx = malloc((size_t)NFQ_BATCH * NFQ_RXSIZE);
	q->tx = malloc(NFQ_TXSIZE);
	q->scratch = malloc(NFQ_PKT_MAX);
	if (q->rx == NULL || q->tx == NULL || q->scratch == NULL) {
		log_warnx("queue %u: out of memory", num);
		goto fail;
	}
	for (i = 0; i < NFQ_BATCH; i++) {
		q->iov[i].iov_base = q->rx + (size_t)i * NFQ_RXSIZE;
		q->iov[i].iov_len = NFQ_RXSIZE;
		q->msgs[i].msg_hdr.msg_iov = &q->iov[i];
		q->msgs[i].msg_hdr.msg_iovlen = 1;
	}

	q->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (q->nl == NULL) {
		log_warn("queue %u: netlink socket", num);
		goto fail;
	}
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		log_warn("queue %u: netlink bind", num);
		goto fail;
	}
	q->portid = mnl_socket_get_portid(q->nl);

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET6, NFQNL_CFG_CMD_BIND);
	if (queue_config(q, nlh) < 0) {
		/* The kernel answers EPERM both to an unprivileged caller
		 * and when another socket holds the queue; we are root. */
		if (errno == EBUSY || (errno == EPERM && geteuid() == 0))
			log_warnx("queue %u is in use by another program "
			    "(another lbspd?): refusing to share it", num);
		else if (errno == EPERM)
			log_warnx("queue %u: binding needs CAP_NET_ADMIN", num);
		else
			log_warn("queue %u: bind", num);
		goto fail;
	}

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, num);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, NFQ_PKT_MAX);
	flags = NFQA_CFG_F_FAIL_OPEN | (gso ? NFQA_CFG_F_GSO : 0);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN |
	    NFQA_CFG_F_GSO));
	nfq_nlmsg_cfg_put_qmaxlen(nlh, NFQ_MAXLEN);
	if (queue_config(q, nlh) < 0) {
		log_warn("queue %u: configure", num);
		goto fail;
	}

	/* Overruns must not stop the loop; root may force big buffers. */
	mnl_socket_setsockopt(q->nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	size = NFQ_RCVBUF;
	if (setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUFFORCE,
	    &size, sizeof(size)) == -1)
		log_warn("queue %u: SO_RCVBUFFORCE", num);
	size = NFQ_SNDBUF;
	if (setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_SNDBUFFORCE,
	    &size, sizeof(size)) == -1)
		log_warn("queue %u: SO_SNDBUFFORCE", num);
	log_debug("queue %u bound%s", num, gso ? " with F_GSO" : "");
	return q;
fail:
	queue_close(q);
	return NULL;
}

/* ---------------------------------------------------------------- verdicts */

static void
tx_flush(struct queue *q)
{
	if (q->txlen == 0)
		return;
	if (mnl_socket_sendto(q->nl, q->tx, q->txlen) < 0) {
		uint64_t now = sp_now_ms();

		lbspd_count(q->d, LBSPD_C_VERDICT_ERRORS);
		if (now - q->last_err_log_ms > 10000) {
			log_warn("queue %u: sending verdicts", q->num);
			q->last_err_log_ms = now;
		}
	}
	q->txlen = 0;
}

/* Room for one more message of payload bytes, flushing if needed. */
static struct nlmsghdr *
tx_put(struct queue *q, int type, size_t payload)
{
	size_t need = MNL_ALIGN(payload) + 256;

	if (NFQ_TXSIZE - q->txlen < need)
		tx_flush(q);
	return nfq_nlmsg_put(q->tx + q->txlen, type, q->num);
}

static void
tx_done(struct queue *q, struct nlmsghdr *nlh)
{
	q->txlen += MNL_ALIGN(nlh->nlmsg_len);
}

/* Close a pending run of unchanged packets with one batch verdict. */
static void
run_flush(struct queue *q)
{
	struct nlmsghdr *nlh;

	if (!q->run)
		return;
	nlh = tx_put(q, NFQNL_MSG_VERDICT_BATCH, 0);
	nfq_nlmsg_verdict_put(nlh, (int)q->run_id, NF_ACCEPT);
	tx_done(q, nlh);
	q->run = false;
}

static void
verdict(struct queue *q, struct lbspd_pkt *p)
{
	struct nlmsghdr *nlh;

	if (!p->modified && !p->drop && !p->set_mark) {
		q->run = true;
		q->run_id = p->id;
		return;
	}
	run_flush(q);
	nlh = tx_put(q, NFQNL_MSG_VERDICT, p->modified ? p->buf_len : 0);
	nfq_nlmsg_verdict_put(nlh, (int)p->id, p->drop ? NF_DROP : NF_ACCEPT);
	if (p->set_mark)
		nfq_nlmsg_verdict_put_mark(nlh, p->new_mark);
	if (p->modified && !p->drop) {
		/* F_GSO: the field held only the pseudo-header sum, and a
		 * mangled packet is CHECKSUM_NONE: complete it. */
		if (p->csum_not_ready)
			(void)sp_csum_l4_fill(p->buf, p->buf_len);
		nfq_nlmsg_verdict_put_pkt(nlh, p->buf, (uint32_t)p->buf_len);
		lbspd_count(q->d, LBSPD_C_MODIFIED);
	}
	if (p->drop)
		lbspd_count(q->d, LBSPD_C_DROPPED);
	tx_done(q, nlh);
}

/* ---------------------------------------------------------------- receive */

uint8_t *
pkt_writable(struct lbspd_pkt *p)
{
	if (p->buf == NULL)
		return NULL;		/* nfq sets buf to its scratch */
	if (!p->modified) {
		memcpy(p->buf, p->data, p->len);
		p->buf_len = p->len;
		p->modified = true;
	}
	return p->buf;
}

static int
queue_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct queue *q = arg;
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	struct nfqnl_msg_packet_hdr *ph;
	struct lbspd_pkt p;
	uint32_t skbinfo = 0;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL ||
	    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(*ph)) {
		lbspd_count_malformed(q->d, SP_ERR_TRUNCATED);
		return MNL_CB_OK;	/* nothing to give a verdict on */
	}
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);

	memset(&p, 0, sizeof(p));
	p.id = ntohl(ph->packet_id);
	p.hook = ph->hook;
	if (attr[NFQA_SKB_INFO] != NULL)
		skbinfo = ntohl(mnl_attr_get_u32(attr[NFQA_SKB_INFO]));
	p.csum_not_ready = (skbinfo & NFQA_SKB_CSUMNOTREADY) != 0;
	p.gso = (skbinfo & NFQA_SKB_GSO) != 0;
	if (attr[NFQA_MARK] != NULL)
		p.mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
	if (attr[NFQA_PAYLOAD] != NULL) {
		p.data = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		p.len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	p.buf = q->scratch;
	p.buf_cap = NFQ_PKT_MAX;

	if (p.data != NULL)
		roles_process(q->d, &p);
	verdict(q, &p);
	return MNL_CB_OK;
}

static void *
queue_thread(void *arg)
{
	struct queue *q = arg;
	struct pollfd pfd = { .fd = mnl_socket_get_fd(q->nl), .events = POLLIN };
	int n, i;

	while (!q->d->stop) {
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		n = recvmmsg(pfd.fd, q->msgs, NFQ_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == ENOBUFS)
				lbspd_count(q->d, LBSPD_C_ENOBUFS);
			else if (errno != EAGAIN && errno != EINTR)
				log_warn("queue %u: receive", q->num);
			continue;
		}
		/* A batch: snapshots (the configuration, the balancer's)
		 * read in it are held until it is answered; between
		 * batches, and blocked in poll, the thread is quiescent
		 * (doc/design.md, "Threads and locks"). */
		lbspd_reader_enter(q->d, q->idx);
		for (i = 0; i < n; i++)
			(void)mnl_cb_run(q->iov[i].iov_base, q->msgs[i].msg_len,
			    0, q->portid, queue_cb, q);
		run_flush(q);
		tx_flush(q);
		lbspd_reader_leave(q->d, q->idx);
	}
	return NULL;
}

int
queue_probe(struct queue *q, int timeout_ms, uint8_t type,
    const struct sp_lbsp *opt)
{
	struct pollfd pfd = { .fd = mnl_socket_get_fd(q->nl), .events = POLLIN };
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	struct nfqnl_msg_packet_hdr *ph;
	struct nlmsghdr *nlh;
	char *buf = q->rx;
	size_t len;
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) <= 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	n = mnl_socket_recvfrom(q->nl, buf, NFQ_RXSIZE);
	if (n < 0)
		return -1;
	nlh = (struct nlmsghdr *)buf;
	if (!mnl_nlmsg_ok(nlh, (int)n) || nfq_nlmsg_parse(nlh, attr) < 0 ||
	    attr[NFQA_PACKET_HDR] == NULL || attr[NFQA_PAYLOAD] == NULL) {
		errno = EPROTO;
		return -1;
	}
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	if (len > NFQ_PKT_MAX - SP_LBSP_HDR_LEN) {
		errno = EMSGSIZE;
		return -1;
	}
	memcpy(q->scratch, mnl_attr_get_payload(attr[NFQA_PAYLOAD]), len);
	if (sp_dopt_set(q->scratch, &len, NFQ_PKT_MAX, type, opt, NULL) !=
	    SP_OK) {
		errno = EINVAL;
		return -1;
	}
	nlh = nfq_nlmsg_put(q->tx, NFQNL_MSG_VERDICT, q->num);
	nlh->nlmsg_seq = 1;
	nfq_nlmsg_verdict_put(nlh, (int)ntohl(ph->packet_id), NF_ACCEPT);
	nfq_nlmsg_verdict_put_pkt(nlh, q->scratch, (uint32_t)len);
	return queue_config(q, nlh);
}

int
queue_start(struct queue *q)
{
	int err = pthread_create(&q->thread, NULL, queue_thread, q);

	if (err != 0) {
		errno = err;
		log_warn("queue %u: thread", q->num);
		return -1;
	}
	q->started = true;
	return 0;
}

void
queue_close(struct queue *q)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	if (q == NULL)
		return;
	if (q->started)
		pthread_join(q->thread, NULL);
	if (q->nl != NULL) {
		/* Unbinding is best effort: closing the socket unbinds too. */
		nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
		nfq_nlmsg_cfg_put_cmd(nlh, AF_INET6, NFQNL_CFG_CMD_UNBIND);
		(void)mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len);
		mnl_socket_close(q->nl);
	}
	free(q->rx);
	free(q->tx);
	free(q->scratch);
	free(q);
}
