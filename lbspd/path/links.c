/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * links.c -- the links that carry the tc programs (links.h): one
 * RTM_GETLINK dump through libmnl.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <net/if_arp.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>

#include "path/links.h"

/* What the dump's callbacks fill. */
struct links_dump {
	struct link_info *ls;
	size_t n, cap;
	int err;		/* errno of a failure, 0 */
};

static int
linkinfo_attr(const struct nlattr *a, void *arg)
{
	struct link_info *l = arg;

	if (mnl_attr_get_type(a) == IFLA_INFO_KIND &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		snprintf(l->kind, sizeof(l->kind), "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

static int
link_attr(const struct nlattr *a, void *arg)
{
	struct link_info *l = arg;

	switch (mnl_attr_get_type(a)) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			snprintf(l->name, sizeof(l->name), "%s",
			    mnl_attr_get_str(a));
		break;
	case IFLA_MASTER:
		if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			l->master = (int)mnl_attr_get_u32(a);
		break;
	case IFLA_LINKINFO:
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) == 0)
			(void)mnl_attr_parse_nested(a, linkinfo_attr, l);
		break;
	}
	return MNL_CB_OK;
}

static int
link_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct links_dump *d = arg;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct link_info *l;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return MNL_CB_OK;
	if (d->n == d->cap) {
		size_t cap = d->cap != 0 ? d->cap * 2 : 16;
		void *p = realloc(d->ls, cap * sizeof(*d->ls));

		if (p == NULL) {
			d->err = ENOMEM;
			return MNL_CB_ERROR;
		}
		d->ls = p;
		d->cap = cap;
	}
	l = &d->ls[d->n];
	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->type = ifi->ifi_type;
	(void)mnl_attr_parse(nlh, sizeof(*ifi), link_attr, l);
	if (l->name[0] != '\0')
		d->n++;
	return MNL_CB_OK;
}

ssize_t
links_list(struct link_info **out)
{
	/* A dump's datagrams reach 32 KiB (libmnl 1.0.5 names this size
	 * MNL_SOCKET_DUMP_SIZE; Debian 12 has 1.0.4). */
	char buf[32768];
	struct links_dump d = { 0 };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	uint32_t portid, seq = 1;
	ssize_t r;
	int rc = MNL_CB_OK;

	*out = NULL;
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (nl == NULL)
		return -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto fail;
	/* Bounded by the links there are: the dump ends with NLMSG_DONE. */
	while (rc > MNL_CB_STOP) {
		r = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (r < 0)
			goto fail;
		rc = mnl_cb_run(buf, (size_t)r, seq, portid, link_msg, &d);
	}
	if (rc == MNL_CB_ERROR) {
		if (d.err != 0)
			errno = d.err;
		goto fail;
	}
	mnl_socket_close(nl);
	*out = d.ls;
	return (ssize_t)d.n;
fail:
	r = errno;
	mnl_socket_close(nl);
	free(d.ls);
	errno = (int)r;
	return -1;
}

const struct link_info *
links_find(const struct link_info *ls, size_t n, int ifindex)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ls[i].ifindex == ifindex)
			return &ls[i];
	return NULL;
}

bool
links_hooked(const struct link_info *ls, size_t n,
    const struct link_info *l)
{
	const struct link_info *m;

	if (l->type != ARPHRD_ETHER || strcmp(l->kind, "vrf") == 0)
		return false;
	if (l->master == 0)
		return true;
	/* A port of a bridge, bond or team (its master carries the
	 * programs); a link in a VRF is hooked. */
	m = links_find(ls, n, l->master);
	return m != NULL && strcmp(m->kind, "vrf") == 0;
}
