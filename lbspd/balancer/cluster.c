/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cluster.c -- several balancers behind ECMP (see cluster.h).
 *
 * The announce device is a TUN device held open by the main thread:
 * the kernel deletes a non-persistent TUN device, and the routes through
 * it, when its last file descriptor closes, so a balancer whose lbspd
 * dies stops announcing its vips without anyone's help.  Routes are
 * added and removed with rtnetlink (libmnl), one request at a time,
 * each acknowledged.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "balancer/balancer.h"
#include "balancer/cluster.h"
#include "system/log.h"

/* ------------------------------------------------------------ checks */

unsigned
cluster_check(const struct sp_conf *c, void (*fn)(void *, const char *),
    void *arg)
{
	char msg[256], a[INET6_ADDRSTRLEN];
	unsigned i, n;

	/* The balancer's own warnings first: main.c reports this
	 * function's at lbspd -n, at start and at a reload. */
	n = balancer_conf_warnings(c, fn, arg);
	if (c->announce[0] == '\0' || !(c->roles & SP_CONF_ROLE_BALANCER))
		return n;
	if (!c->has_hash_key) {
		fn(arg, "announce without hash-key: each balancer draws its "
		    "own key, so hash and maglev choose differently on each");
		n++;
	}
	for (i = 0; i < c->nvips; i++) {
		const struct sp_conf_vip *v = &c->vips[i];

		if (v->nservers == 0 || v->scheduler == SP_CONF_SCHED_HASH ||
		    v->scheduler == SP_CONF_SCHED_MAGLEV)
			continue;
		inet_ntop(AF_INET6, v->addr, a, sizeof(a));
		snprintf(msg, sizeof(msg), "vip %s: scheduler %s decides from "
		    "this balancer's own counts: balancers will place new "
		    "sessions differently (use hash or maglev)", a,
		    sp_conf_scheduler_name(v->scheduler));
		fn(arg, msg);
		n++;
	}
	if (!c->has_nat_source) {
		fn(arg, "announce without nat-source: legacy sessions are "
		    "masqueraded to this balancer's own address and die "
		    "with it");
		n++;
	}
	return n;
}

/* ------------------------------------------------------- announcing */

static struct {
	int tun;			/* the device's fd, -1: none */
	char name[IF_NAMESIZE];		/* the device's name */
	unsigned ifindex;
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	unsigned n;			/* routes in place */
	uint8_t (*routes)[16];		/* n of them, room for cap */
	unsigned cap;
} an = { .tun = -1 };

/* Add (RTM_NEWROUTE) or delete (RTM_DELROUTE) "addr/128 dev tun". */
static int
route_change(int type, const uint8_t addr[16])
{
	char buf[MNL_SOCKET_BUFFER_SIZE], a[INET6_ADDRSTRLEN];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	ssize_t n;
	int rc;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (uint16_t)type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (type == RTM_NEWROUTE)
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_REPLACE;
	nlh->nlmsg_seq = ++an.seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET6;
	rtm->rtm_dst_len = 128;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = CLUSTER_RTPROT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_DST, 16, addr);
	mnl_attr_put_u32(nlh, RTA_OIF, an.ifindex);
	inet_ntop(AF_INET6, addr, a, sizeof(a));
	if (mnl_socket_sendto(an.nl, nlh, nlh->nlmsg_len) < 0) {
		log_warn("announce: route %s", a);
		return -1;
	}
	n = mnl_socket_recvfrom(an.nl, buf, sizeof(buf));
	rc = n < 0 ? -1 : mnl_cb_run(buf, (size_t)n, an.seq, an.portid,
	    NULL, NULL);
	if (rc < 0 && !(type == RTM_DELROUTE && errno == ESRCH)) {
		log_warn("announce: %s %s/128 dev %s",
		    type == RTM_NEWROUTE ? "adding" : "removing", a, an.name);
		return -1;
	}
	log_info("announce: vip %s %s", a,
	    type == RTM_NEWROUTE ? "announced" : "withdrawn");
	return 0;
}

int
cluster_announce_init(struct lbspd *d)
{
	const char *name = d->conf->announce;
	struct ifreq ifr;
	int s;

	if (name[0] == '\0' || d->lb == NULL)
		return 0;
	an.tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (an.tun == -1) {
		log_warn("announce: /dev/net/tun");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	snprintf(an.name, sizeof(an.name), "%s", name);
	if (ioctl(an.tun, TUNSETIFF, &ifr) == -1) {
		log_warn("announce: creating device %s", name);
		goto fail;
	}
	/* Up, so that its routes are usable (and exported). */
	s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s == -1 || ioctl(s, SIOCGIFFLAGS, &ifr) == -1) {
		log_warn("announce: device %s flags", name);
		if (s != -1)
			close(s);
		goto fail;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) == -1) {
		log_warn("announce: device %s up", name);
		close(s);
		goto fail;
	}
	close(s);
	an.ifindex = if_nametoindex(name);
	an.nl = mnl_socket_open(NETLINK_ROUTE);
	if (an.ifindex == 0 || an.nl == NULL ||
	    mnl_socket_bind(an.nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		log_warn("announce: rtnetlink");
		goto fail;
	}
	an.portid = mnl_socket_get_portid(an.nl);
	an.seq = (uint32_t)time(NULL);
	an.n = 0;
	log_info("announce: device %s: the vips with a server up are "
	    "routed to it", name);
	return 0;
fail:
	cluster_announce_stop();
	return -1;
}

void
cluster_announce_update(struct lbspd *d)
{
	uint8_t (*want)[16] = NULL;
	unsigned nwant = 0, i, j, k;
	bool balancer;

	if (an.tun == -1)
		return;
	pthread_mutex_lock(&d->admin);
	balancer = d->lb != NULL && d->lb->nvips > 0;
	if (d->lb != NULL && d->lb->nvips > an.cap) {
		/* Room for every vip, in want and in routes. */
		uint8_t (*r)[16] = realloc(an.routes, d->lb->nvips *
		    sizeof(*an.routes));

		if (r != NULL) {
			an.routes = r;
			an.cap = d->lb->nvips;
		}
	}
	if (d->lb != NULL && an.cap > 0)
		want = calloc(an.cap, sizeof(*want));
	for (i = 0; want != NULL && i < d->lb->nvips && i < an.cap; i++) {
		struct lb_vip *v = &d->lb->vips[i];

		pthread_mutex_lock(&v->lock);
		for (j = 0; j < v->nservers; j++)
			if (v->view[j].eligible)
				break;
		pthread_mutex_unlock(&v->lock);
		if (j < v->nservers)
			memcpy(want[nwant++], v->addr, 16);
	}
	pthread_mutex_unlock(&d->admin);
	if (balancer && want == NULL)
		return;		/* out of memory: try again next tick */

	/* Withdraw what is no longer wanted. */
	for (i = 0; i < an.n;) {
		for (k = 0; k < nwant; k++)
			if (memcmp(an.routes[i], want[k], 16) == 0)
				break;
		if (k < nwant) {
			i++;
			continue;
		}
		(void)route_change(RTM_DELROUTE, an.routes[i]);
		memmove(an.routes[i], an.routes[i + 1],
		    (an.n - i - 1) * sizeof(an.routes[0]));
		an.n--;
	}
	/* Announce what is new; a failure is retried on the next tick. */
	for (k = 0; k < nwant; k++) {
		for (i = 0; i < an.n; i++)
			if (memcmp(an.routes[i], want[k], 16) == 0)
				break;
		if (i == an.n && an.n < an.cap &&
		    route_change(RTM_NEWROUTE, want[k]) == 0)
			memcpy(an.routes[an.n++], want[k], 16);
	}
	free(want);
}

void
cluster_announce_stop(void)
{
	unsigned i;

	if (an.nl != NULL) {
		for (i = 0; i < an.n; i++)
			(void)route_change(RTM_DELROUTE, an.routes[i]);
		mnl_socket_close(an.nl);
		an.nl = NULL;
	}
	an.n = 0;
	free(an.routes);
	an.routes = NULL;
	an.cap = 0;
	if (an.tun != -1) {
		close(an.tun);		/* the device and its routes go */
		an.tun = -1;
	}
}
