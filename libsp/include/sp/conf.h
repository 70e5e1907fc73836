/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp/conf.h -- the lbsp.conf parser.
 *
 * The daemon reads the file; the parser gets the text and fills an
 * opaque configuration sized by what it holds: the vips, and each vip's
 * ports and servers, are arrays of their own length, so a configuration
 * of a thousand vips costs what they need and one of a single vip a few
 * hundred bytes.  Accessors in the libmnl style (sp_conf_<object>_<field>)
 * read it; the layout is not part of the ABI.
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

/*
 * Limits of one configuration.  Memory grows with what the file holds,
 * not with these; they only bound what a file may ask for (and keep
 * the parser's duplicate checks, which compare each new vip or server
 * with those before it, within a fraction of a second).
 */
#define SP_CONF_MAX_VIPS		4096	/* vip blocks */
#define SP_CONF_MAX_SERVERS		4096	/* server lines per vip */
#define SP_CONF_MAX_PORTS		65535	/* ports per vip: any */
#define SP_CONF_MAX_PREFIXES		16	/* allow-servers per vip */
#define SP_CONF_MAX_SESSION_WEIGHTS	16	/* session-weight per vip */
#define SP_CONF_MAX_QUEUES		16	/* NFQUEUE numbers */
#define SP_CONF_MAX_LINE		1024	/* bytes a line, without EOL */
#define SP_CONF_USER_SIZE		32	/* user name, with its NUL */
#define SP_CONF_PATH_SIZE		108	/* socket path, with NUL */
#define SP_CONF_IFNAME_SIZE		16	/* interface name, with NUL */
#define SP_CONF_HTTP_PATH_SIZE		256	/* check path, with its NUL */

/* Roles, as bits of sp_conf_roles(): one daemon may play several. */
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
	SP_CONF_IDENTITY_LITERAL,	/* an address given in the file */
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

/*
 * The "check" line of a vip; every field holds its default when absent.
 * A plain value, public because sp_health_init() (sp/health.h) takes
 * one: a health checker is configured from it.
 */
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

/*
 * The configuration and its parts are opaque: allocate one with
 * sp_conf_new(), fill it with sp_conf_parse(), read it through the
 * sp_conf_*() accessors below, release it with sp_conf_free().  A vip or
 * server pointer stays valid until the configuration is parsed again
 * or freed.
 */
struct sp_conf;
struct sp_conf_vip;
struct sp_conf_server;

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
 * sp_conf_new - a configuration holding every default (as
 * sp_conf_defaults() sets them).  Returns NULL when out of memory.
 * Why allocate: the layout is private, so only libsp knows its size.
 */
struct sp_conf *sp_conf_new(void);

/*
 * sp_conf_free - release conf and everything it holds; NULL is
 * allowed.  Vip and server pointers taken from it become invalid.
 */
void sp_conf_free(struct sp_conf *conf);

/*
 * sp_conf_defaults - release what *conf holds and set every global
 * default: no role, no vip, queue 0, option-type 0x1e, rules install,
 * identity address, redirect and mss-clamp on, mtu 1500, the default
 * TTLs, timeouts and table sizes of lbsp.conf(5).  sp_conf_parse()
 * starts from this.
 */
void sp_conf_defaults(struct sp_conf *conf);

/*
 * sp_conf_parse - parse a whole configuration text into *out.
 * @text, @len: the file's bytes; need not be NUL-terminated, may hold
 *     NUL bytes or garbage; nothing at or past text[len] is read.
 * @file: name used in error reports only (no I/O here).
 * @out: from sp_conf_new(); what it held before is released, then it
 *     is filled from sp_conf_defaults().  On error it holds what could
 *     be parsed and must not be used (but must still be freed).
 * @err: called once per error, in the order described above; may be
 *     NULL to only count them.
 * @arg: passed to err.
 * Returns the number of errors, 0 when the configuration is valid.
 * Why all errors: "lbspd -n" must show every mistake in one run.
 * Running out of memory is reported as an error on the line that
 * needed it.
 */
int sp_conf_parse(const char *text, size_t len, const char *file,
    struct sp_conf *out, sp_conf_err_fn err, void *arg);

/*
 * sp_conf_size - bytes of memory conf holds, itself included: what a
 * configuration costs, which grows with its vips, ports and servers.
 */
size_t sp_conf_size(const struct sp_conf *conf);

/* sp_conf_roles - the SP_CONF_ROLE_* bits; never 0 when valid. */
unsigned sp_conf_roles(const struct sp_conf *conf);

/* sp_conf_queue_first - first NFQUEUE number ("queue"), default 0. */
uint16_t sp_conf_queue_first(const struct sp_conf *conf);

/* sp_conf_queue_count - NFQUEUE numbers from the first, 1..16. */
uint16_t sp_conf_queue_count(const struct sp_conf *conf);

/* sp_conf_option_type - the LBSP option type, 2..255, default 0x1e. */
uint8_t sp_conf_option_type(const struct sp_conf *conf);

/* sp_conf_identity - where a client's identity (seg1) comes from. */
enum sp_conf_identity sp_conf_identity(const struct sp_conf *conf);

/*
 * sp_conf_identity_addr - the literal identity address (16 bytes) when
 * sp_conf_identity() is SP_CONF_IDENTITY_LITERAL, else NULL.
 */
const uint8_t *sp_conf_identity_addr(const struct sp_conf *conf);

/*
 * sp_conf_server_address - the server role's own seg2 address (16
 * bytes) when "server-address" is set, else NULL (the packet's source).
 */
const uint8_t *sp_conf_server_address(const struct sp_conf *conf);

/*
 * sp_conf_hash_key - the SipHash key of "hash-key" (16 bytes), or NULL
 * when the file sets none and the daemon draws one at start.
 */
const uint8_t *sp_conf_hash_key(const struct sp_conf *conf);

/* sp_conf_vip_count - vip blocks held, 0..SP_CONF_MAX_VIPS. */
unsigned sp_conf_vip_count(const struct sp_conf *conf);

/*
 * sp_conf_vip_at - the i-th vip block in file order, or NULL when i is
 * not below sp_conf_vip_count().
 */
const struct sp_conf_vip *sp_conf_vip_at(const struct sp_conf *conf,
    unsigned i);

/* sp_conf_vip_addr - the vip's address, 16 bytes. */
const uint8_t *sp_conf_vip_addr(const struct sp_conf_vip *vip);

/* sp_conf_vip_scheduler - the vip's "scheduler", default rr. */
enum sp_conf_scheduler sp_conf_vip_scheduler(const struct sp_conf_vip *vip);

/* sp_conf_vip_check - the vip's active check; type NONE when none. */
const struct sp_conf_check *sp_conf_vip_check(const struct sp_conf_vip *vip);

/* sp_conf_vip_port_count - ports of "ports" lines; 0 = every port. */
unsigned sp_conf_vip_port_count(const struct sp_conf_vip *vip);

/* sp_conf_vip_port_at - the i-th port in file order, 0 when out of range. */
uint16_t sp_conf_vip_port_at(const struct sp_conf_vip *vip, unsigned i);

/*
 * sp_conf_vip_has_port - whether the vip serves port: one of its ports,
 * or any port when it has no "ports" line.
 */
bool sp_conf_vip_has_port(const struct sp_conf_vip *vip, uint16_t port);

/* sp_conf_vip_server_count - "server" lines, 0..SP_CONF_MAX_SERVERS. */
unsigned sp_conf_vip_server_count(const struct sp_conf_vip *vip);

/*
 * sp_conf_vip_server_at - the vip's i-th server in file order, or NULL
 * when i is not below sp_conf_vip_server_count().
 */
const struct sp_conf_server *sp_conf_vip_server_at(
    const struct sp_conf_vip *vip, unsigned i);

/* sp_conf_server_addr - the real server's address, 16 bytes. */
const uint8_t *sp_conf_server_addr(const struct sp_conf_server *srv);

/*
 * sp_conf_server_backup - the server's backup (16 bytes), where its new
 * sessions go while it is down or draining, or NULL when it has none.
 */
const uint8_t *sp_conf_server_backup(const struct sp_conf_server *srv);

/* sp_conf_server_weight - relative weight, 1..1000, default 1. */
uint16_t sp_conf_server_weight(const struct sp_conf_server *srv);

/* sp_conf_server_cost - cost scheduler's cost, 0..65535, default 0. */
uint16_t sp_conf_server_cost(const struct sp_conf_server *srv);

/* sp_conf_server_drain - whether it was given "drain" (no new sessions). */
bool sp_conf_server_drain(const struct sp_conf_server *srv);

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
 * sp_conf_vip_find - the vip whose address is addr, or NULL.  Linear
 * in the number of vips.  Used per packet by the client role to tell
 * whether a destination is a vip.
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
