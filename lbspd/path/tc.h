/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tc.h -- the tc/eBPF datapath of the client and server roles
 * (bpf/client.bpf.c, bpf/server.bpf.c): load, configure, attach,
 * pin, detach; and read back what the programs learned.
 *
 * Lifetime (lbsp(7)): maps and links are pinned under
 * /sys/fs/bpf/lbsp/ns<netns inode>/ (one directory per network
 * namespace: bpffs is global).  SIGTERM detaches the programs and
 * removes the pins.  A daemon killed without a chance to clean up
 * (kill -9) leaves the programs attached through their pins: traffic
 * keeps working with the state they hold; the next start takes the
 * pinned maps over and swaps its programs into the pinned links.
 */
#ifndef LBSPD_TC_H
#define LBSPD_TC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sp/conf.h>

#include "conf_priv.h"
#include "lbsp_tc.h"
#include "lbspd.h"

struct pr;

#define TC_PIN_ROOT	"/sys/fs/bpf/lbsp"

enum tc_role {
	TC_CLIENT,
	TC_SERVER,
	TC__ROLES
};

/* One role's loaded object: its two programs and its maps. */
struct tc_obj {
	enum tc_role role;
	void *skel;		/* struct lbsp_client / lbsp_server */
	int egress_fd, ingress_fd;	/* programs */
	int conf_fd, counters_fd;
	int flows_fd, flows_est_fd;	/* new flows, established ones */
	int vips_fd, vip_ports_fd, ports_fd, cache_fd;	/* client, else -1 */
	int blackholes_fd;	/* client, else -1 */
	int sources_fd;		/* flows per source (max-flows-per-source) */
	uint32_t max_flows;	/* max-flows at load: the flow maps' sizes
				   together (lbsp_common.h) */
	uint32_t max_cache;	/* client: max-cache at load, its size */
	/* What the sweep of tc_flows (tc_obj_expire()) found: */
	uint64_t gone_before;	/* flows made and gone before the load (maps
				   taken over from an earlier daemon) */
	uint64_t flows;		/* flows in the map */
	uint64_t expired;	/* flows it removed, in all */
	uint64_t retired;	/* flows the kernel retired to make room, in
				   all (flows-created less those expired and
				   those still there, never going down) */
};

/* The name of kernel counter c (lbspctl stats' "kernel" keys). */
const char *tc_counter_name(unsigned c);
extern const char *const tc_role_names[TC__ROLES];

/*
 * tc_obj_open - open and load one role's programs (the verifier's log
 * goes to the log on failure), their flow maps max_flows entries (0:
 * LBSP_TC_MAX_FLOWS), the client's cache max_cache (0:
 * LBSP_TC_MAX_CACHE).  With pindir, the maps are pinned there (taken
 * over when already pinned by an earlier daemon with maps of the same
 * size; else made afresh).  Returns 0, or -1 with a message in err.
 */
int tc_obj_open(struct tc_obj *o, enum tc_role role, const char *pindir,
    uint32_t max_flows, uint32_t max_cache, char *err, size_t errlen);
void tc_obj_close(struct tc_obj *o);

/* Can the client programs' maps hold conf's vips and ports?  When not,
 * why says so. */
bool tc_conf_fits(const struct sp_conf *conf, char *why, size_t len);

/* Write the configuration maps from conf (identity: seg1 for "identity
 * random" or a literal).  Returns 0 or -1. */
int tc_obj_configure(struct tc_obj *o, const struct sp_conf *conf,
    const uint8_t identity[16]);

/* The per-CPU counters, summed. */
int tc_obj_counters(const struct tc_obj *o, uint64_t out[LBSP_TC_C__COUNT]);

/*
 * Client fallback on the daemon's clock: a redirected flow that has
 * had no answer for fallback_ms goes back to the vip and every cache
 * row naming its server becomes suspect (reason timer).  now_ns: CLOCK_MONOTONIC.  Returns the flows that fell
 * back.
 */
unsigned tc_obj_fallback(struct tc_obj *o, uint64_t now_ns,
    uint64_t fallback_ns);

/*
 * The sweep of tc_flows, once a second.  Expire idle flows as the
 * NFQUEUE path's table does (lbsp.conf timeouts): TCP closed (FIN both
 * ways, or RST) after linger, established TCP after tcp-established,
 * other TCP after tcp, UDP and other protocols after their timeouts; at
 * most max flows a call.  Then: o->flows, o->expired and o->retired;
 * and, with max-flows-per-source, tc_sources set right for every source
 * the programs did not touch during the sweep.  Returns the flows
 * removed.
 */
unsigned tc_obj_expire(struct tc_obj *o, uint64_t now_ns,
    const struct sp_conf *conf, unsigned max);

/*
 * The start-up probe (selftest.c): load both roles (the verifier on
 * this kernel), run the client egress program on a crafted packet to
 * a vip and check the option it puts on.  Returns true when it works;
 * detail says what failed.
 */
bool tc_probe(char *detail, size_t len);

/* Which roles of conf run on tc, given the self-test's findings. */
unsigned tc_roles_wanted(const struct sp_conf *conf,
    const struct lbspd_paths *paths);

/*
 * tc_start - load the roles in d->tc_roles, fill their maps, pin them
 * and attach the programs to every Ethernet interface that is up.
 * uid/gid: the daemon's user after the privilege drop (it owns the pin
 * directory, to remove it at exit).  Returns 0 or -1 (logged).
 */
int tc_start(struct lbspd *d, uid_t uid, gid_t gid);

/* Detach, unpin, unload. */
void tc_stop(struct lbspd *d);

/* After a reload or an identity rotation: rewrite the maps.  d->admin
 * held. */
void tc_configure(struct lbspd *d);

/* Periodic work (main thread): the client fallback, expiry, new
 * interfaces. d->admin held. */
void tc_tick(struct lbspd *d);
/* Every tick: the client fallback of redirected flows left unanswered
 * (a connect given up before the kernel sends its SYN again), scanned
 * 5 times a second while redirected packets were recently seen.
 * d->admin held. */
void tc_fast_tick(struct lbspd *d);

/* lbspctl stats: add the flows of the kernel's maps, counted now, to
 * *flows and their size to *max.  d->admin held. */
void tc_flows_count(struct lbspd *d, uint64_t *flows, uint64_t *max);
/* The same for the client programs' cache rows. */
void tc_cache_count(struct lbspd *d, uint64_t *rows, uint64_t *max);

/* lbspctl: the datapath of each role and the kernel counters; the
 * flows and cache entries of the maps.  d->admin held. */
void tc_stats_print(struct pr *p, struct lbspd *d);
/* lbspctl flows: the flows of the maps, as sp_flow rows on the
 * sp_now_ms() clock, to fn until it returns non-zero. */
void tc_flows_foreach(struct lbspd *d,
    int (*fn)(const struct sp_flow *, void *), void *arg);
/* A flow's state as the NFQUEUE path names it: closing after an RST or
 * a FIN both ways, established after the handshake, else new. */
enum sp_flow_state tc_flow_state(const struct lbsp_tc_flow *f);
/* lbspctl cache: the client's cache rows of the maps, as sp_cache
 * entries on the sp_now_ms() clock (now_ms), to fn until it
 * returns non-zero. */
void tc_cache_foreach(struct lbspd *d, uint64_t now_ms,
    int (*fn)(const struct sp_cache_entry *, void *), void *arg);
/* lbspctl cache: the vips the programs marked option-blackholed, on
 * the sp_now_ms() clock, to fn until it returns non-zero. */
void tc_blackholes_foreach(struct lbspd *d,
    int (*fn)(const struct lbspd_blackhole *, void *), void *arg);

#endif /* LBSPD_TC_H */
