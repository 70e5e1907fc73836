/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * links.h -- which links of this network namespace carry the tc
 * programs (lbspd/path/tc.c attaches them), asked of rtnetlink.
 *
 * A packet must meet each program once: a second pass reads the
 * client's first SYN as sent again (a false option blackhole) and finds
 * the option already there.  Stacked links hand one packet to two
 * hooks: a bridge and its port, a bond and its slave, a VLAN and its
 * parent.  So the programs go on the Ethernet links that stand alone or
 * that are a stack's top (a bridge, a bond, a team, a VLAN), never on a
 * port (a link with a master: IFLA_MASTER), and they leave a packet that
 * carries a VLAN tag on its parent to the VLAN link's own hook
 * (bpf/lbsp_common.h).  A link in a VRF is an L3 link still: it keeps
 * them, and the VRF device itself gets none.
 */
#ifndef LBSPD_LINKS_H
#define LBSPD_LINKS_H

#include <stdbool.h>
#include <net/if.h>
#include <sys/types.h>

/* One link, as RTM_GETLINK tells it. */
struct link_info {
	int ifindex;
	int master;		/* IFLA_MASTER, 0: none */
	unsigned short type;	/* ARPHRD_* */
	char name[IF_NAMESIZE];
	char kind[16];		/* IFLA_INFO_KIND ("bridge", "vrf"), or "" */
};

/* Every link of this namespace: *out is malloc'd (the caller frees
 * it).  Returns how many, or -1 (errno set, *out NULL). */
ssize_t links_list(struct link_info **out);

/* The link of ifindex among the n in ls, or NULL. */
const struct link_info *links_find(const struct link_info *ls, size_t n,
    int ifindex);

/* Does link l of the n in ls carry the programs (see above)? */
bool links_hooked(const struct link_info *ls, size_t n,
    const struct link_info *l);

#endif
