/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dispatch.c -- route a queued packet to the roles of this daemon, and the
 * steps they share: putting the option on, clamping the MSS.
 *
 * A packet is walked once, here: its extension headers (p->walk), its
 * ports and flags, its option and the vip it is sent to are found before
 * any role looks at it.  The roles' writes (address rewrite, MSS clamp,
 * seg2) hand that walk to libsp's "_at" calls, and the option goes on
 * last, as it may move bytes (pkt_put_option()).
 *
 * Egress (locally generated): to a vip -> client; else -> server (only
 * flows marked by the server role are queued on egress besides vips).
 * Ingress: carrying our option with our identity from a vip or an
 * allowed server -> client; carrying an option otherwise -> server;
 * a SYN-ACK from a vip without option -> client (MSS clamp only).
 *
 * No global lock (doc/design.md, "Threads and locks"): the
 * configuration is read once per packet into p->conf; each role locks
 * the flow shard of the packet's flow, and a shared table's own mutex
 * around its lookup or update only.
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include <sp/csum.h>
#include <sp/tcp.h>

#include "balancer/balancer.h"
#include "path/path.h"

/* Read ports and TCP flags of a walked packet. */
static void
pkt_parse_l4(struct lbspd_pkt *p)
{
	const struct sp_exthdr_info *w = &p->walk;

	if (w->nonfirst_frag)
		return;
	if ((w->l4_proto == SP_NH_TCP || w->l4_proto == SP_NH_UDP) &&
	    sp_pkt_has(p->len, w->l4_off, 4)) {
		p->sport = sp_get16(&p->data[w->l4_off]);
		p->dport = sp_get16(&p->data[w->l4_off + 2]);
	}
	if (w->l4_proto == SP_NH_TCP)
		(void)sp_tcp_flags(p->data, p->len, w->l4_off, &p->tcp_flags);
}

static bool
is_egress(const struct lbspd_pkt *p)
{
	return p->hook == LBSPD_HOOK_LOCAL_OUT ||
	    p->hook == LBSPD_HOOK_POST_ROUTING;
}

/*
 * A Packet Too Big about a packet this host sent with the option.  On
 * this datapath the stack checks its packets against the path's MTU
 * before lbspd adds 40 bytes, so the MTU it learns is left as it is:
 * the connections opened after it get an MSS that fits
 * (pkt_clamp_mss()); one whose packets grew past it stalls (the tc
 * datapath, after the stack's check, tells the stack 40 less).  An MTU
 * under 1280 + 40 fits the option only with "mtu 1280": counted.
 */
static void
pkt_ptb_seen(struct lbspd *d, struct lbspd_pkt *p)
{
	uint32_t mtu;

	if (d->tc_roles != 0 || p->walk.l4_proto != SP_NH_ICMPV6)
		return;
	if (sp_icmp6_ptb_mtu(p->data, p->len, p->conf->option_type,
	    &mtu) == SP_OK && mtu < SP_IP6_MIN_MTU + SP_LBSP_HDR_LEN)
		lbspd_count(d, LBSPD_C_PTB_UNDER_MINIMUM);
}

void
roles_process(struct lbspd *d, struct lbspd_pkt *p)
{
	const struct sp_conf_vip *vip;
	enum sp_err err;
	unsigned roles;

	lbspd_count(d, LBSPD_C_PACKETS);
	p->walk_err = sp_exthdr_walk(p->data, p->len, 0, &p->walk);
	if (p->walk_err != SP_OK) {
		/* Unwalkable: pass unchanged, counted by reason. */
		if (p->walk_err == SP_ERR_JUMBO)
			lbspd_count_pass(d, LBSPD_P_JUMBO);
		else
			lbspd_count_malformed(d, p->walk_err);
		return;
	}
	pkt_parse_l4(p);

	/* One snapshot for the whole packet. */
	p->conf = lbspd_conf(d);
	p->identity = lbspd_identity(d)->addr;
	roles = p->conf->roles;
	/* Everything the roles ask of the packet, from the one walk: the
	 * option, and the vip the destination is. */
	err = sp_dopt_find_at(p->data, p->len, &p->walk,
	    p->conf->option_type, &p->opt, NULL);
	p->has_opt = err == SP_OK;
	if (err != SP_OK && err != SP_ERR_NOT_FOUND)
		lbspd_count_malformed(d, err);
	p->vip = sp_conf_vip_find(p->conf, &p->data[SP_IP6_OFF_DST]);

	if (is_egress(p)) {
		if ((roles & SP_CONF_ROLE_CLIENT) &&
		    client_owns_egress(d, p, &vip))
			client_egress(d, p, vip);
		else if (roles & SP_CONF_ROLE_SERVER)
			server_egress(d, p);
		else
			lbspd_count_pass(d, LBSPD_P_NOT_VIP);
	} else {
		if (roles & (SP_CONF_ROLE_CLIENT | SP_CONF_ROLE_SERVER))
			pkt_ptb_seen(d, p);
		if ((roles & SP_CONF_ROLE_BALANCER) && balancer_owns(d, p)) {
			struct lbspd_flows *fs;

			/* The balancer's state is a snapshot with its own
			 * small locks (balancer/balancer.h); its flows are
			 * keyed by the packet's source. */
			fs = lbspd_flows_lock(d, &p->data[SP_IP6_OFF_SRC]);
			balancer_packet(d, p, fs);
			lbspd_flows_unlock(fs);
		} else if ((roles & SP_CONF_ROLE_CLIENT) &&
		    client_icmp_error(d, p))
			;	/* about a redirected flow: rewritten */
		else if ((roles & SP_CONF_ROLE_CLIENT) && client_ingress(d, p))
			;	/* the client took it */
		else if ((roles & SP_CONF_ROLE_SERVER) && p->has_opt)
			server_ingress(d, p);
		else
			lbspd_count_pass(d, LBSPD_P_NO_OPTION);
	}
}

uint64_t
pkt_now_ms(struct lbspd_pkt *p)
{
	if (p->now_ms == 0)
		p->now_ms = sp_now_ms();
	return p->now_ms;
}

struct sp_flow *
flow_new(struct lbspd *d, struct lbspd_flows *fs,
    const struct sp_flow_key *key, uint64_t now_ms)
{
	struct sp_flow *f;
	bool retired = false;

	f = sp_flow_insert(fs->table, key, now_ms, &retired);
	if (f == NULL)
		lbspd_count(d, LBSPD_C_SOURCE_LIMITED);
	if (retired)
		lbspd_count(d, LBSPD_C_FLOWS_RETIRED);
	return f;
}

bool
pkt_put_option(struct lbspd *d, struct lbspd_pkt *p, const struct sp_lbsp *opt)
{
	enum sp_dopt_did did;
	enum sp_err err;
	uint8_t *b;

	if (!d->paths.nfqueue) {
		lbspd_count_pass(d, LBSPD_P_NO_INSERT_PATH);
		return false;
	}
	/* +40 bytes must not take a packet past the MTU (GSO packets are
	 * cut to size by the kernel after us, their MSS clamped). */
	if (!p->gso && !p->has_opt && p->len + SP_LBSP_HDR_LEN > p->conf->mtu) {
		lbspd_count_pass(d, LBSPD_P_TOO_BIG);
		return false;
	}
	/* Last of the writes: inserting or merging moves bytes, after
	 * which p->walk no longer describes buf (libsp refuses it). */
	b = pkt_writable(p);
	err = sp_dopt_set_at(b, &p->buf_len, p->buf_cap, &p->walk,
	    p->conf->option_type, opt, &did);
	switch (err) {
	case SP_OK:
		break;
	case SP_ERR_AH:
		lbspd_count_pass(d, LBSPD_P_AH);
		return false;
	case SP_ERR_FRAGMENT:
		lbspd_count_pass(d, LBSPD_P_FRAGMENT);
		return false;
	case SP_ERR_NO_ROOM:
		lbspd_count_pass(d, LBSPD_P_TOO_BIG);
		return false;
	default:
		lbspd_count_malformed(d, err);
		return false;
	}
	switch (did) {
	case SP_DOPT_INSERTED:
		lbspd_count(d, LBSPD_C_INSERTED);
		break;
	case SP_DOPT_MERGED:
		lbspd_count(d, LBSPD_C_MERGED);
		break;
	case SP_DOPT_UPDATED:
		lbspd_count(d, LBSPD_C_UPDATED);
		break;
	default:
		lbspd_count_malformed(d, SP_ERR_INVALID);
		break;
	}
	return true;
}

/*
 * The MTU of the route toward peer as the stack knows it (the device's,
 * a route's mtu, what a Packet Too Big taught it): IPV6_MTU of a UDP
 * socket connected to it, which sends nothing.  0 when unknown.
 */
static unsigned
route_mtu(const uint8_t peer[16])
{
	struct sockaddr_in6 sa;
	socklen_t len = sizeof(int);
	int fd, mtu = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_port = htons(9);
	memcpy(&sa.sin6_addr, peer, 16);
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return 0;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    getsockopt(fd, IPPROTO_IPV6, IPV6_MTU, &mtu, &len) == -1)
		mtu = 0;
	close(fd);
	return mtu >= SP_IP6_MIN_MTU ? (unsigned)mtu : 0;
}

/*
 * Clamp the MSS of a SYN or SYN-ACK so that a segment with the option
 * fits the path between us and the peer (the destination of what we
 * send, the source of what we receive): its route's MTU, never more
 * than mtu of lbsp.conf.
 */
void
pkt_clamp_mss(struct lbspd *d, struct lbspd_pkt *p)
{
	bool changed = false;
	unsigned mtu, path;
	uint8_t *b;

	if (!p->conf->mss_clamp || p->walk.l4_proto != SP_NH_TCP ||
	    !(p->tcp_flags & SP_TCP_SYN))
		return;
	b = p->buf;
	if (!p->modified) {
		/* Clamp in a copy; keep it only if something changed. */
		memcpy(b, p->data, p->len);
		p->buf_len = p->len;
	}
	mtu = p->conf->mtu;
	/* The peer as on the wire: what we send goes to its (rewritten)
	 * destination, what we receive came from its original source. */
	path = route_mtu(is_egress(p) ? &b[SP_IP6_OFF_DST] :
	    &p->data[SP_IP6_OFF_SRC]);
	if (path != 0 && path < mtu)
		mtu = path;
	if (sp_tcp_mss_clamp_at(b, p->buf_len, &p->walk,
	    sp_tcp_mss_for_mtu(mtu), &changed) != SP_OK)
		return;
	if (changed) {
		p->modified = true;
		lbspd_count(d, LBSPD_C_MSS_CLAMPED);
	}
}
