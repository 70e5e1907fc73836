/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp/conf.h -- the lbsp.conf parser.
 *
 * The daemon reads the file; the parser gets the text and fills a plain
 * struct: fixed-size arrays, no pointers, nothing to free.  The daemon
 * can copy it with memcpy() and compare the old and new configuration
 * on reload with memcmp(): sp_conf_defaults() and sp_conf_parse() zero
 * the whole struct (padding and unused array slots included) before
 * filling it.
 *
 * Syntax: one statement a line, "#" starts a comment anywhere, words are
 * separated by blanks (space, tab), a "vip ADDR {" line opens a block
 * that a line holding only "}" closes; blocks do not nest.  Lines may
 * end in LF or CR LF and are at most SP_CONF_MAX_LINE bytes long.  Only
 * printable ASCII and tabs are accepted.  The full grammar, with every
 * default, is in lbsp.conf(5).
 *
 * Errors are reported as (file, line, message) through a callback, all
 * of them: the parser goes on after an error so that "lbspd -n" can list
 * every mistake at once.  Message order: errors found on a line as it
 * is read; checks that need a whole vip block (a backup that is not a
 * server of the vip) when its "}" is read; checks that need the whole
 * file (roles) at the end.
 *
 * The struct is large (about 200 KB): allocate it, do not put it on a
 * thread's stack.
 */
#ifndef SP_CONF_H
#define SP_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Public API: exported from libsp.so (built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

#define SP_CONF_MAX_VIPS		64	/* vip blocks */
#define SP_CONF_MAX_SERVERS		64	/* server lines per vip */
#define SP_CONF_MAX_PORTS		64	/* ports per vip */
#define SP_CONF_MAX_PREFIXES		16	/* allow-servers per vip */
#define SP_CONF_MAX_SESSION_WEIGHTS	16	/* session-weight per vip */
#define SP_CONF_MAX_QUEUES		16	/* NFQUEUE numbers */
#define SP_CONF_MAX_LINE		1024	/* bytes a line, without EOL */
#define SP_CONF_USER_SIZE		32	/* user name, with its NUL */
#define SP_CONF_PATH_SIZE		108	/* socket path, with NUL */
#define SP_CONF_IFNAME_SIZE		16	/* interface name, with NUL */
#define SP_CONF_HTTP_PATH_SIZE		256	/* check path, with its NUL */

/* Roles, as bits of sp_conf.roles: one daemon may play several. */
enum sp_conf_role {
	SP_CONF_ROLE_CLIENT = 1u << 0,
	SP_CONF_ROLE_SERVER = 1u << 1,
	SP_CONF_ROLE_BALANCER = 1u << 2,
};

/* Balancing algorithms (doc/design.md §3.4), "scheduler" in a vip block. */
enum sp_conf_scheduler {
	SP_CONF_SCHED_RR,	/* round robin */
	SP_CONF_SCHED_WRR,	/* weighted round robin */
	SP_CONF_SCHED_LC,	/* least sessions (connections) */
	SP_CONF_SCHED_LT,	/* least traffic over a window */
	SP_CONF_SCHED_WLC,	/* least weighted load */
	SP_CONF_SCHED_RT,	/* response time (probe RTT) */
	SP_CONF_SCHED_AGENT,	/* load reported by an agent */
	SP_CONF_SCHED_COST,	/* cost-weighted least load */
	SP_CONF_SCHED_HASH,	/* SipHash of {source, flow label} */
	SP_CONF_SCHED_MAGLEV,	/* Maglev consistent hashing */
	SP_CONF_SCHED__COUNT
};

/* Active health check kind; NONE when the vip has no "check" line. */
enum sp_conf_check_type {
	SP_CONF_CHECK_NONE,
	SP_CONF_CHECK_TCP,	/* TCP connect */
	SP_CONF_CHECK_ICMP,	/* ICMPv6 echo */
	SP_CONF_CHECK_HTTP,	/* HTTP GET path, expect a status code */
};

/* Where the client identity (seg1) comes from. */
enum sp_conf_identity {
	SP_CONF_IDENTITY_ADDRESS,	/* the packet's own source address */
	SP_CONF_IDENTITY_RANDOM,	/* host-wide random id */
	SP_CONF_IDENTITY_LITERAL,	/* sp_conf.identity_addr */
};

/* "rules": whether lbspd installs and removes its steering rules. */
enum sp_conf_rules {
	SP_CONF_RULES_INSTALL,
	SP_CONF_RULES_NONE,
};

/* "datapath": where the client and server roles do per-packet work. */
enum sp_conf_datapath {
	SP_CONF_DATAPATH_AUTO,		/* tc where the self-test says it
					   works, else nfqueue (default) */
	SP_CONF_DATAPATH_TC,		/* tc/eBPF programs */
	SP_CONF_DATAPATH_NFQUEUE,	/* NFQUEUE and steering rules */
};

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

/* The "check" line of a vip; every field holds its default when absent. */
struct sp_conf_check {
	enum sp_conf_check_type type;	/* NONE: no active check */
	uint16_t port;		/* default: first of the vip's ports, or 80 */
	uint16_t expect;	/* http: expected status, 100..599, def. 200 */
	uint32_t interval_ms;	/* between probes, ms, default 2000 */
	uint32_t timeout_ms;	/* per probe, ms, <= interval, default 1000 */
	uint8_t rise;		/* successes to mark up, 1..255, default 2 */
	uint8_t fall;		/* failures to mark down, 1..255, default 3 */
	char path[SP_CONF_HTTP_PATH_SIZE];	/* http: GET path, "/" */
};

/* A "vip ADDR { ... }" block. */
struct sp_conf_vip {
	uint8_t addr[16];	/* the virtual service address */
	enum sp_conf_scheduler scheduler;	/* default SP_CONF_SCHED_RR */
	unsigned nports;	/* entries used in ports; 0 = every port */
	uint16_t ports[SP_CONF_MAX_PORTS];	/* in file order */
	unsigned nallow;	/* entries used in allow */
	struct sp_conf_prefix allow[SP_CONF_MAX_PREFIXES];	/* seg2 a
				   client may follow (client role) */
	unsigned nservers;	/* entries used in servers */
	struct sp_conf_server servers[SP_CONF_MAX_SERVERS];
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
	struct sp_conf_vip vips[SP_CONF_MAX_VIPS];	/* in file order */
};

/*
 * sp_conf_err_fn - receives one configuration error.
 * @arg: the caller's pointer given to sp_conf_parse().
 * @file: the file name given to sp_conf_parse() (may be NULL).
 * @line: 1-based line number; 0 only for an empty text.
 * @msg: lowercase, short, offending token quoted; valid during the call.
 * The daemon prints "file:line: message".
 */
typedef void (*sp_conf_err_fn)(void *arg, const char *file, unsigned line,
    const char *msg);

/*
 * sp_conf_defaults - zero *conf and set every global default: no role,
 * no vip, queue 0, option-type 0x1e, rules install, identity address,
 * redirect and mss-clamp on, mtu 1500, the default TTLs, timeouts and
 * table sizes of lbsp.conf(5).  sp_conf_parse() starts from this.
 */
void sp_conf_defaults(struct sp_conf *conf);

/*
 * sp_conf_vip_defaults - zero *vip and set the vip block defaults:
 * scheduler rr, no ports (= all), no servers, check defaults (type none,
 * port 80, interval 2 s, timeout 1 s, rise 2, fall 3, path "/", expect
 * 200), dead-retry 60 s, window 10 s.  Lets the client shim build a vip
 * from LBSP_VIPS exactly as the parser would.
 */
void sp_conf_vip_defaults(struct sp_conf_vip *vip);

/*
 * sp_conf_parse - parse a whole configuration text into *out.
 * @text, @len: the file's bytes; need not be NUL-terminated, may hold
 *     NUL bytes or garbage; nothing at or past text[len] is read.
 * @file: name used in error reports only (no I/O here).
 * @out: filled from sp_conf_defaults(); on error it holds what could be
 *     parsed and must not be used.
 * @err: called once per error, in the order described above; may be
 *     NULL to only count them.
 * @arg: passed to err.
 * Returns the number of errors, 0 when the configuration is valid.
 * Why all errors: "lbspd -n" must show every mistake in one run.
 */
int sp_conf_parse(const char *text, size_t len, const char *file,
    struct sp_conf *out, sp_conf_err_fn err, void *arg);

/*
 * sp_conf_scheduler_name - the config spelling of a scheduler ("rr",
 * "maglev"...), or "unknown" for a value out of range.
 */
const char *sp_conf_scheduler_name(enum sp_conf_scheduler sched);

/*
 * sp_conf_scheduler_parse - the scheduler spelled name (exactly as in
 * the config, lowercase).  Returns true and sets *sched when known,
 * false (leaving *sched alone) otherwise.  Used by the parser and by
 * lbspctl.
 */
bool sp_conf_scheduler_parse(const char *name,
    enum sp_conf_scheduler *sched);

/*
 * sp_conf_vip_find - the vip whose address is addr, or NULL.  Linear:
 * at most SP_CONF_MAX_VIPS entries.  Used per packet by the client and
 * balancer roles to tell whether a destination is a vip.
 */
const struct sp_conf_vip *sp_conf_vip_find(const struct sp_conf *conf,
    const uint8_t addr[16]);

/*
 * sp_conf_server_find - the server of vip whose address is addr, or
 * NULL.  Used by "lbspctl drain|enable|weight VIP SERVER".
 */
const struct sp_conf_server *sp_conf_server_find(
    const struct sp_conf_vip *vip, const uint8_t addr[16]);

/*
 * sp_conf_vip_allows - whether addr lies inside one of the vip's
 * allow-servers prefixes.  The client's one rule for trusting a seg2
 * (doc/design.md §5): a forged option can at most name a legitimate server.
 * Shared by lbspd's client role and the client shim.
 */
bool sp_conf_vip_allows(const struct sp_conf_vip *vip,
    const uint8_t addr[16]);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* SP_CONF_H */
