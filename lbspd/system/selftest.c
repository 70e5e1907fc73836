/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * selftest.c -- see selftest.h.
 *
 * The probe runs in a forked child that unshares its network namespace,
 * so nothing it does (lo up, one ip6tables rule, queue 0) is seen by
 * the host; it reports through a pipe and is killed if it takes longer
 * than SELFTEST_MS.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <netinet/in.h>

#include <sp/dopt.h>

#include "system/log.h"
#include "path/nfq.h"
#include "system/selftest.h"
#include "path/tc.h"

#define SELFTEST_MS	5000	/* the whole probe, at most */
#define PORT_NFQ	9	/* probe ports on ::1 in the private netns */
#define PORT_SOCK	13

static const struct sp_lbsp probe_opt = {
	.seg1 = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x5e },
	.seg2 = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x5f },
};

static int
lo_up(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = -1;

	if (s == -1)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
	return rc;
}

/* A UDP socket on [::1]:port reporting Destination Options. */
static int
receiver(uint16_t port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
	    .sin6_port = htons(port), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct timeval tv = { .tv_sec = 1 };
	int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1;

	if (s == -1 || setsockopt(s, IPPROTO_IPV6, IPV6_RECVDSTOPTS, &one,
	    sizeof(one)) == -1 || setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == -1 || bind(s, (struct sockaddr *)&sa,
	    sizeof(sa)) == -1) {
		if (s != -1)
			close(s);
		return -1;
	}
	return s;
}

/* Did a datagram arrive on s carrying our probe option? */
static bool
received_option(int s, uint8_t type)
{
	char data[64], cbuf[512];
	struct iovec iov = { data, sizeof(data) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	struct sp_lbsp got;

	if (recvmsg(s, &msg, 0) < 0)
		return false;
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == IPPROTO_IPV6 &&
		    cm->cmsg_type == IPV6_DSTOPTS &&
		    sp_dopt_decode(CMSG_DATA(cm), cm->cmsg_len -
		    CMSG_LEN(0), type, &got, NULL) == SP_OK &&
		    memcmp(&got, &probe_opt, sizeof(got)) == 0)
			return true;
	return false;
}

static int
send_probe(uint16_t port, const uint8_t *dstopts, size_t len)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
	    .sin6_port = htons(port), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = -1;

	if (s == -1)
		return -1;
	if ((dstopts == NULL || setsockopt(s, IPPROTO_IPV6, IPV6_DSTOPTS,
	    dstopts, (socklen_t)len) == 0) &&
	    sendto(s, "lbsp", 4, 0, (struct sockaddr *)&sa, sizeof(sa)) == 4)
		rc = 0;
	close(s);
	return rc;
}

/* The kernel-inserted path: IPV6_DSTOPTS on the sending socket. */
static void
probe_socket(struct lbspd_paths *r, uint8_t type)
{
	uint8_t hdr[SP_LBSP_HDR_LEN];
	int s = receiver(PORT_SOCK);

	sp_dopt_encode(hdr, 0, type, &probe_opt);
	if (s == -1) {
		snprintf(r->detail, sizeof(r->detail), "socket probe: %s",
		    strerror(errno));
		return;
	}
	if (send_probe(PORT_SOCK, hdr, sizeof(hdr)) == -1)
		snprintf(r->detail, sizeof(r->detail),
		    "IPV6_DSTOPTS refused: %s", strerror(errno));
	else
		r->socket = received_option(s, type);
	close(s);
}

/* The NFQUEUE path: insert the option in a verdict. */
static void
probe_nfqueue(struct lbspd_paths *r, uint8_t type)
{
	char port[8];
	struct lbspd dummy;
	struct queue *q;
	pid_t pid;
	int s, status, e;

	memset(&dummy, 0, sizeof(dummy));
	snprintf(port, sizeof(port), "%u", PORT_NFQ);
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		dup2(devnull, 1);
		dup2(devnull, 2);
		execl("/usr/sbin/ip6tables", "ip6tables", "-w", "-t", "raw",
		    "-A", "OUTPUT", "-d", "::1", "-p", "udp", "--dport", port,
		    "-j", "NFQUEUE", "--queue-num", "0", (char *)NULL);
		execlp("ip6tables", "ip6tables", "-w", "-t", "raw", "-A",
		    "OUTPUT", "-d", "::1", "-p", "udp", "--dport", port, "-j",
		    "NFQUEUE", "--queue-num", "0", (char *)NULL);
		_exit(127);
	}
	if (pid == -1 || waitpid(pid, &status, 0) == -1 ||
	    !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(r->detail, sizeof(r->detail),
		    "nfqueue probe: could not add the probe rule");
		return;
	}
	q = queue_open(&dummy, 0, 0, false);
	s = receiver(PORT_NFQ);
	if (q == NULL || s == -1) {
		snprintf(r->detail, sizeof(r->detail),
		    "nfqueue probe: could not open the queue");
		goto out;
	}
	if (send_probe(PORT_NFQ, NULL, 0) == -1) {
		snprintf(r->detail, sizeof(r->detail),
		    "nfqueue probe: send: %s", strerror(errno));
		goto out;
	}
	if (queue_probe(q, 1000, type, &probe_opt) == -1) {
		e = errno;
		if (e == ETIMEDOUT)
			snprintf(r->detail, sizeof(r->detail),
			    "nfqueue probe: no packet queued");
		else
			snprintf(r->detail, sizeof(r->detail), "the kernel "
			    "refuses NFQUEUE verdicts that insert a header "
			    "(%s)", strerror(e));
		goto out;
	}
	r->nfqueue = received_option(s, type);
	if (!r->nfqueue)
		snprintf(r->detail, sizeof(r->detail),
		    "nfqueue probe: the inserted option did not arrive");
out:
	if (s != -1)
		close(s);
	queue_close(q);
}

static void __attribute__((noreturn))
child(int fd, uint8_t type)
{
	struct lbspd_paths r;

	memset(&r, 0, sizeof(r));
	r.tested = true;
	if (unshare(CLONE_NEWNET) == -1 || lo_up() == -1) {
		snprintf(r.detail, sizeof(r.detail),
		    "no private network namespace: %s", strerror(errno));
	} else {
		probe_socket(&r, type);
		probe_nfqueue(&r, type);
	}
	if (write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(1);
	_exit(0);
}

/*
 * The tc/eBPF path, in this process (nothing touches a network: the
 * programs run on a crafted packet, see tc_probe()).
 */
static void
probe_tc(struct lbspd_paths *paths)
{
	char why[128];
	size_t n;

	paths->tc_ebpf = tc_probe(why, sizeof(why));
	if (paths->tc_ebpf)
		return;
	n = strlen(paths->detail);
	snprintf(paths->detail + n, sizeof(paths->detail) - n, "%s%s",
	    n > 0 ? "; " : "", why);
}

void
selftest_run(struct lbspd_paths *paths, uint8_t type)
{
	struct pollfd pfd;
	const char *env;
	int fds[2], status;
	pid_t pid;

	memset(paths, 0, sizeof(*paths));
	/*
	 * LBSPD_SELFTEST=deny-nfqueue: behave as on a kernel that refuses
	 * NFQUEUE verdicts inserting a header (upstream netfilter, 2026),
	 * so that the degraded mode can be tested on any kernel.
	 */
	if ((env = getenv("LBSPD_SELFTEST")) != NULL &&
	    strcmp(env, "deny-nfqueue") == 0) {
		paths->tested = true;
		paths->socket = true;
		snprintf(paths->detail, sizeof(paths->detail), "nfqueue "
		    "insertion refused (LBSPD_SELFTEST=deny-nfqueue)");
		probe_tc(paths);
		return;
	}
	if (pipe2(fds, O_CLOEXEC) == -1) {
		snprintf(paths->detail, sizeof(paths->detail), "pipe: %s",
		    strerror(errno));
		return;
	}
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		child(fds[1], type);
	}
	close(fds[1]);
	if (pid == -1) {
		close(fds[0]);
		snprintf(paths->detail, sizeof(paths->detail), "fork: %s",
		    strerror(errno));
		return;
	}
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	if (poll(&pfd, 1, SELFTEST_MS) != 1 ||
	    read(fds[0], paths, sizeof(*paths)) != (ssize_t)sizeof(*paths)) {
		memset(paths, 0, sizeof(*paths));
		snprintf(paths->detail, sizeof(paths->detail),
		    "self-test did not finish");
		kill(pid, SIGKILL);
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	paths->tested = true;
	paths->detail[sizeof(paths->detail) - 1] = '\0';
	probe_tc(paths);
}
