/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * conf_priv.h -- the layout of struct sp_conf, for libsp and the
 * programs built in this tree only; never installed.
 *
 * The installed <sp/conf.h> keeps struct sp_conf opaque and offers
 * accessors, so that the layout can change without a new soname.
 * lbspd, lbspctl, lbsp-agent and the shims read the fields directly:
 * they link libsp statically (libsp-core.la, libsp-plain.la) from the
 * same tree, so the layout they compile against is always the one the
 * code they link was built with, and the packet path reads some sixty
 * fields that would each cost a call through an accessor.
 *
 * Arrays are sized by what they hold: the vips, and each vip's ports
 * and servers, are heap arrays owned by the configuration and released
 * by sp_conf_free().  A configuration is therefore not copied with
 * memcpy() nor compared with memcmp(); sp_conf_vips_equal() compares
 * the vip blocks.
 */
#ifndef SP_CONF_PRIV_H
#define SP_CONF_PRIV_H

#include <sp/conf.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One "server" line of a vip. */
struct sp_conf_server {
	uint8_t addr[16];	/* the real server's address */
	uint8_t backup[16];	/* its backup server, when has_backup */
	bool has_backup;	/* new sessions go to backup (upgrades) */
	bool drain;		/* no new sessions, existing ones kept */
	uint16_t weight;	/* relative weight, 1..1000, default 1 */
	uint16_t cost;		/* cost scheduler, 0..65535, default 0 */
};

/* An "allow-servers" prefix: ADDR/LEN with no host bits set. */
struct sp_conf_prefix {
	uint8_t addr[16];	/* the prefix, host bits zero */
	uint8_t len;		/* prefix length in bits, 0..128 */
};

/* A "session-weight PORT N" line: load of a session on a service port. */
struct sp_conf_session_weight {
	uint16_t port;		/* service (destination) port, 1..65535 */
	uint16_t weight;	/* load units per session, 1..1000 */
};

/* A "vip ADDR { ... }" block. */
struct sp_conf_vip {
	uint8_t addr[16];	/* the virtual service address */
	enum sp_conf_scheduler scheduler;	/* default SP_CONF_SCHED_RR */
	unsigned nports;	/* entries used in ports; 0 = every port */
	uint16_t *ports;	/* nports entries, in file order (owned) */
	unsigned nallow;	/* entries used in allow */
	struct sp_conf_prefix *allow;	/* nallow prefixes a client lets
				   seg2 name (client role) (owned) */
	unsigned nservers;	/* entries used in servers */
	struct sp_conf_server *servers;	/* nservers entries (owned) */
	struct sp_conf_check check;
	unsigned nsession_weights;	/* entries used; other ports: 1 */
	struct sp_conf_session_weight
	    session_weights[SP_CONF_MAX_SESSION_WEIGHTS];
	uint32_t passive_timeout_ms;	/* unanswered new sessions mark a
					   server suspect after this, ms;
					   0 = off (default) */
	uint32_t dead_retry_ms;	/* pause before a dead server is retried,
				   ms, default 60000 */
	uint32_t window_ms;	/* least-traffic sliding window, ms,
				   default 10000 */
	unsigned line;		/* of its "vip" line; 0: not parsed */
	unsigned *server_lines;	/* line of each server, nservers
				   entries, NULL when not parsed (owned);
				   for warnings, not compared */
};

/* A vip's address and its index in sp_conf.vips, kept sorted. */
struct sp_conf_vip_key {
	uint8_t addr[16];
	unsigned index;
};

/* A whole configuration. */
struct sp_conf {
	unsigned roles;		/* SP_CONF_ROLE_* bits; never 0 when valid */
	uint16_t queue_first;	/* first NFQUEUE number, default 0 */
	uint16_t queue_count;	/* queues queue_first.., 1..16, default 1 */
	uint8_t option_type;	/* LBSP option type, 2..255, default 0x1e */
	enum sp_conf_rules rules;	/* default SP_CONF_RULES_INSTALL */
	char user[SP_CONF_USER_SIZE];	/* "" = daemon decides (lbsp if it
					   exists, else nobody) */
	char control_socket[SP_CONF_PATH_SIZE];	/* absolute path, default
						   /run/lbsp/lbspd.sock */
	enum sp_conf_identity identity;	/* default ADDRESS */
	uint8_t identity_addr[16];	/* when identity == LITERAL */
	uint32_t identity_rotate_ms;	/* random identity lifetime, ms;
					   0 = never (default) */
	bool redirect;		/* client: single pass, default on */
	bool mss_clamp;		/* clamp TCP MSS by 40, default on */
	bool gso;		/* queue GSO packets whole (F_GSO), on */
	enum sp_conf_datapath datapath;	/* default SP_CONF_DATAPATH_AUTO */
	bool flowlabel_strict;	/* drop flows whose label changes, off */
	bool has_server_address;	/* server_address is set */
	uint8_t server_address[16];	/* server role: own seg2 address;
					   unset = the packet's source */
	unsigned server_address_line;	/* of "server-address", for
					   lbspd's warnings; 0 = unset */
	uint16_t agent_port;	/* UDP port the balancer hears lbsp-agent
				   load reports on; 0 = off (default) */
	uint8_t metrics_addr[16];	/* metrics-listen address */
	uint16_t metrics_port;	/* metrics-listen TCP port; 0 = no metrics
				   server (default) */
	uint16_t mtu;		/* link MTU for the MSS clamp, bytes,
				   1280..65535, default 1500 */
	uint8_t stick_prefix;	/* legacy clients stick by source /N,
				   bits, 0..128, default 128 */
	uint32_t cache_ttl_ms;	/* client (vip, id) -> server, ms, 300000 */
	uint32_t stick_ttl_ms;	/* balancer stick entries, ms, 1800000 */
	uint32_t fallback_timeout_ms;	/* redirected flow unanswered ->
					   back to the vip, ms, 1000 */
	uint32_t blackhole_min_ms;	/* client: a vip's option-blackhole
					   mark lasts this long first, ms,
					   60000 ... */
	uint32_t blackhole_max_ms;	/* ... doubled on each confirmation
					   up to this, ms, 3600000 */
	uint32_t timeout_tcp_established_ms;	/* idle, ms, 7200000 */
	uint32_t timeout_tcp_ms;	/* other TCP states idle, ms, 120000 */
	uint32_t timeout_udp_ms;	/* idle, ms, 60000 */
	uint32_t timeout_other_ms;	/* other protocols idle, ms, 60000 */
	uint32_t timeout_linger_ms;	/* after FIN+FIN or RST, ms, 10000 */
	uint32_t max_flows;	/* flow table entries, default 65536 */
	uint32_t max_stick;	/* stick table entries, default 65536 */
	uint32_t max_cache;	/* client cache entries, default 4096 */
	uint32_t max_flows_per_source;	/* flows per source address;
					   0 = unlimited (default) */
	uint32_t syn_rate;	/* server: SYNs with the option queued to
				   lbspd per second, 0..10000, 0 = no
				   limit; default 5000 */
	bool has_hash_key;	/* hash_key set; else random at start */
	uint8_t hash_key[16];	/* SipHash key (RFC 7098 §5) */
	char announce[SP_CONF_IFNAME_SIZE];	/* balancer: device whose
						   routes announce the vips
						   it serves; "" = none */
	bool has_nat_source;	/* nat_source set */
	uint8_t nat_source[16];	/* balancer: legacy sessions' source NAT
				   address; unset = MASQUERADE */
	unsigned nvips;		/* entries used in vips */
	struct sp_conf_vip *vips;	/* nvips entries, in file order
					   (owned) */
	struct sp_conf_vip_key *vip_sorted;	/* nsorted entries by
				   address, for sp_conf_vip_find() (owned) */
	unsigned nsorted;	/* entries in vip_sorted; != nvips: search
				   the vips in order instead */
};

/*
 * sp_conf_vip_defaults - zero *vip and set the vip block defaults:
 * scheduler rr, no ports (= all), no servers, check defaults (type none,
 * port 80, interval 2 s, timeout 1 s, rise 2, fall 3, path "/", expect
 * 200), dead-retry 60 s, window 10 s.  *vip must own no arrays.
 */
void sp_conf_vip_defaults(struct sp_conf_vip *vip);

/*
 * sp_conf_vip_add - append a vip of address addr, with the block
 * defaults, to conf.  Lets the client shim build a vip from LBSP_VIPS
 * exactly as the parser would, and lbspd's self-test build a
 * configuration.  Returns the vip, or NULL when out of memory or when
 * conf already holds SP_CONF_MAX_VIPS vips.  Pointers to conf's vips
 * taken before the call are no longer valid after it.
 */
struct sp_conf_vip *sp_conf_vip_add(struct sp_conf *conf,
    const uint8_t addr[16]);

/*
 * sp_conf_vips_equal - whether a and b hold the same vip blocks (same
 * order, same contents), as reload decides whether rules need to be
 * made again.
 */
bool sp_conf_vips_equal(const struct sp_conf *a, const struct sp_conf *b);

/*
 * sp_conf_warnings - report, through warn, what conf allows but will
 * not work as meant, each at its line of file (the name given to
 * sp_conf_parse()), and return how many.  Today: a server address
 * listed in two vips that share a port (a vip with no "ports" line has
 * them all).  The balancer's rewrite changes only the destination, so
 * one client's connections to the two vips from one local port reach
 * that server on one 4-tuple, which its TCP stack holds for one
 * connection only; lbsp(7) says to give each server one address per
 * vip.  One warning per server line at most (against the first vip it
 * collides with).  Why not an error: a site may know that no client
 * uses both vips.  Returns 0 too when out of memory (nothing checked).
 */
unsigned sp_conf_warnings(const struct sp_conf *conf, const char *file,
    sp_conf_err_fn warn, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* SP_CONF_PRIV_H */
