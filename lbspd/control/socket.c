/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * socket.c -- the control socket: its file, its thread, and the framing
 * of requests and answers (described at the top of commands.c).  Up to
 * CONTROL_MAX_CONNS (256) clients are served at once by one poll()
 * loop that never waits on any one of them; each line read is answered
 * by control_answer() (commands.c).  The connections served are
 * counted in control_ctr.requests, the refusals of this file (a line
 * too long, late or unreadable) in control_ctr.errors.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/commands.h"
#include "control/fdpass.h"
#include "control/request.h"
#include "lbspd.h"
#include "system/log.h"
#include "system/proc.h"

#define CONTROL_LINE_MAX	512	/* bytes of a request, "\n" included */
#define CONTROL_READ_MS		2000	/* ms to send the request */
#define CONTROL_WRITE_MS	5000	/* ms to take the whole answer */
#define CONTROL_DRAIN_MS	200	/* ms spent discarding extra input */
#define CONTROL_DRAIN_BYTES	65536	/* extra input discarded at most */
#define CONTROL_BACKLOG		128
#define CONTROL_MAX_CONNS	256	/* clients served at once */

/* The control thread's state: one socket per daemon. */
static struct {
	struct lbspd *d;
	int lfd;			/* listening socket */
	int stopfd[2];			/* control_stop() writes to [1] */
	pthread_t thread;
	bool running;
	bool opened;		/* socket made, thread maybe not yet */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;			/* the socket file we made, so */
	ino_t ino;			/* stop removes only that one */
} ctl = { .lfd = -1, .stopfd = { -1, -1 } };

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
	uint64_t deadline;		/* ms, sp_now_ms() */
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
	c->deadline = sp_now_ms() + CONTROL_WRITE_MS;
}

/* An error of the framing: no end mark (the line was not read). */
static void
conn_error(struct ctl_conn *c, const char *msg)
{
	char *ans;
	size_t anslen;

	control_error_answer(msg, false, &ans, &anslen);
	conn_answer(c, ans, anslen);
}

/* The whole line is in: answer it. */
static void
conn_request(struct ctl_conn *c)
{
	char *ans = NULL;
	size_t anslen = 0;

	if (c->len > 0 && c->line[c->len - 1] == '\r')
		c->len--;
	c->line[c->len] = '\0';
	control_answer(ctl.d, c->line, c->len, &c->passfd, &ans, &anslen);
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
	c->deadline = sp_now_ms() + CONTROL_DRAIN_MS;
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
		atomic_fetch_add_explicit(&control_ctr.requests, 1,
		    memory_order_relaxed);
		memset(&conns[i], 0, sizeof(conns[i]));
		conns[i].fd = fd;
		conns[i].passfd = -1;
		conns[i].state = CONN_READ;
		conns[i].deadline = sp_now_ms() + CONTROL_READ_MS;
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
		now = sp_now_ms();
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
	proc_nfq_open();	/* mode 0440 root: opened while root */
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
	proc_nfq_close();
	ctl.lfd = ctl.stopfd[0] = ctl.stopfd[1] = -1;
	/* Remove our socket, not one another daemon put there since. */
	if (lstat(ctl.path, &st) == 0 && st.st_dev == ctl.dev &&
	    st.st_ino == ctl.ino && unlink(ctl.path) == -1)
		log_debug("control socket %s: unlink: %s", ctl.path,
		    strerror(errno));
	ctl.running = false;
	ctl.opened = false;
}
