/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * conf.c -- the lbsp.conf parser: text in, plain struct and a list of
 * "file:line: message" errors out.  No I/O.
 *
 * Reading: the text is cut into lines at LF (a CR before it is dropped),
 * each line is checked (length, bytes) and copied to a bounded buffer,
 * cut at "#", split into words at blanks, and dispatched through the
 * keyword table.  Every error is reported and parsing goes on: a bad
 * statement is skipped, a vip block whose address is bad is parsed into
 * a scratch vip so its contents are still checked.
 *
 * Memory: the vips, and each vip's ports and servers, grow by doubling
 * while they are read and are cut to their length when their block (or
 * the file) ends, so a configuration holds what it says and no more;
 * the parser's own bookkeeping (line numbers for messages, a bitmap of
 * the block's ports) is freed on return.  Nothing is sized by the
 * limits, so a small file is parsed without touching a large block of
 * memory (what once made each parse clear some 200 KB).
 *
 * Policy for input it does not accept: a line longer than
 * SP_CONF_MAX_LINE bytes, or holding a control byte, a NUL or a non-ASCII
 * byte before its comment, is one error and is skipped whole.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sp/conf.h>

#include "conf_priv.h"

#define MAX_WORDS	(SP_CONF_MAX_LINE / 2 + 1)	/* words a line */
#define MAX_MS		UINT32_MAX			/* longest duration */
#define MAX_TABLE	(1u << 24)		/* max-flows and friends */

/*
 * Every keyword; the index of its first line in parser.seen.  The
 * keywords of a vip block come after KW_VIP: vip_open() resets them.
 */
enum kw {
	KW_ROLE,
	KW_QUEUE,
	KW_OPTION_TYPE,
	KW_RULES,
	KW_USER,
	KW_CONTROL_SOCKET,
	KW_IDENTITY,
	KW_IDENTITY_ROTATE,
	KW_REDIRECT,
	KW_MSS_CLAMP,
	KW_GSO,
	KW_DATAPATH,
	KW_MTU,
	KW_AGENT_PORT,
	KW_METRICS_LISTEN,
	KW_FLOWLABEL_STRICT,
	KW_SERVER_ADDRESS,
	KW_CACHE_TTL,
	KW_STICK_TTL,
	KW_FALLBACK_TIMEOUT,
	KW_BLACKHOLE_TIMEOUT,
	KW_STICK_PREFIX,
	KW_TIMEOUT,
	KW_MAX_FLOWS,
	KW_MAX_STICK,
	KW_MAX_CACHE,
	KW_MAX_FLOWS_PER_SOURCE,
	KW_SYN_RATE,
	KW_HASH_KEY,
	KW_ANNOUNCE,
	KW_NAT_SOURCE,
	KW_VIP,
	KW_PORTS,
	KW_ALLOW_SERVERS,
	KW_SCHEDULER,
	KW_SERVER,
	KW_CHECK,
	KW_SESSION_WEIGHT,
	KW_PASSIVE_TIMEOUT,
	KW_DEAD_RETRY,
	KW_WINDOW,
	KW__COUNT
};

/* The timeout kinds, "timeout KIND DURATION". */
enum tmo {
	TMO_TCP_ESTABLISHED,
	TMO_TCP,
	TMO_UDP,
	TMO_OTHER,
	TMO_LINGER,
	TMO__COUNT
};

struct parser {
	const char *file;
	sp_conf_err_fn err;
	void *arg;
	int nerr;
	unsigned line;		/* current line, 1-based */
	struct sp_conf *conf;

	/* The vip block being read. */
	bool in_vip;
	bool brace_pending;	/* "vip A" lacked "{": swallow a lone "{" */
	unsigned vip_line;
	struct sp_conf_vip *vip;	/* into conf->vips, or &scratch */
	bool check_port_set;
	unsigned skip_depth;	/* nested vip blocks being skipped */
	unsigned *server_line;	/* line of each server of the block */
	size_t server_line_cap;	/* entries allocated in server_line */
	size_t vips_cap;	/* entries allocated in conf->vips */
	size_t servers_cap;	/* entries allocated in vip->servers */
	size_t ports_cap;	/* entries allocated in vip->ports */
	size_t allow_cap;	/* entries allocated in vip->allow */
	struct sp_conf_vip scratch;	/* a vip that is not kept */

	unsigned seen[KW__COUNT];	/* first line of a statement: global
					   ones, and the current vip's */
	unsigned seen_timeout[TMO__COUNT];
	unsigned *vip_lines;	/* line of each vip, conf->nvips entries
				   (allocated with conf->vips) */
	unsigned role_line[3];	/* where client, server, balancer named */
	uint8_t *port_seen;	/* bitmap of the open block's ports, 8 KB,
				   allocated at the first "ports" line */

	/* Last, not zeroed at start: written before they are read. */
	char buf[SP_CONF_MAX_LINE + 1];
	char *argv[MAX_WORDS + 1];
};

typedef void (*stmt_fn)(struct parser *, int, char **);

struct keyword {
	const char *name;
	bool in_vip;		/* only in a vip block, else only outside */
	bool repeat;		/* may appear more than once */
	stmt_fn fn;
};

static void perr(struct parser *, unsigned, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
perr(struct parser *p, unsigned line, const char *fmt, ...)
{
	char msg[SP_CONF_MAX_LINE + 256];
	va_list ap;

	if (p->nerr < INT_MAX)
		p->nerr++;
	if (p->err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->err(p->arg, p->file, line, msg);
}

/* ----------------------------------------------------------- memory */

/*
 * arr with room for entry n: itself while n < *cap, else reallocated to
 * twice the size (at least 8 entries of size bytes).  NULL when out of
 * memory, arr then left as it was.
 */
static void *
grow(void *arr, size_t n, size_t *cap, size_t size)
{
	size_t ncap;
	void *a;

	if (n < *cap)
		return arr;
	ncap = *cap > 0 ? *cap * 2 : 8;
	if (ncap > SIZE_MAX / size)
		return NULL;
	a = realloc(arr, ncap * size);
	if (a == NULL)
		return NULL;
	*cap = ncap;
	return a;
}

/* arr cut to its n entries (freed when n is 0); arr when that fails. */
static void *
fit(void *arr, size_t n, size_t size)
{
	void *a;

	if (n == 0) {
		free(arr);
		return NULL;
	}
	a = realloc(arr, n * size);
	return a != NULL ? a : arr;
}

static void vip_index(struct sp_conf *);

/* Free what a vip owns; its other fields are left as they were. */
static void
vip_release(struct sp_conf_vip *vip)
{
	free(vip->ports);
	free(vip->allow);
	free(vip->servers);
	free(vip->server_lines);
	vip->ports = NULL;
	vip->allow = NULL;
	vip->servers = NULL;
	vip->server_lines = NULL;
	vip->nports = 0;
	vip->nallow = 0;
	vip->nservers = 0;
}

/* ------------------------------------------------------------ words */

/* True when argc (words after the keyword) is within [min, max]. */
static bool
nargs(struct parser *p, int argc, char **argv, int min, int max)
{
	if (argc - 1 < min) {
		perr(p, p->line, "%s: missing argument", argv[0]);
		return false;
	}
	if (argc - 1 > max) {
		perr(p, p->line, "%s: extra argument '%s'", argv[0],
		    argv[max + 1]);
		return false;
	}
	return true;
}

/* Decimal digits only; *v saturates above UINT32_MAX. */
static bool
digits(const char *s, const char **end, uint64_t *v)
{
	const char *c = s;

	*v = 0;
	while (*c >= '0' && *c <= '9') {
		if (*v <= UINT32_MAX)
			*v = *v * 10 + (uint64_t)(*c - '0');
		c++;
	}
	*end = c;
	return c != s;
}

static bool
parse_uint(struct parser *p, const char *what, const char *s, uint32_t min,
    uint32_t max, uint32_t *out)
{
	const char *end;
	uint64_t v;

	if (!digits(s, &end, &v) || *end != '\0') {
		perr(p, p->line, "%s: '%s' is not a number", what, s);
		return false;
	}
	if (v < min || v > max) {
		perr(p, p->line, "%s: '%s' out of range (%u..%u)", what, s,
		    (unsigned)min, (unsigned)max);
		return false;
	}
	*out = (uint32_t)v;
	return true;
}

/*
 * NUMBER[ms|s|m|h], no suffix = seconds; stored in milliseconds.  NUMBER
 * is an integer or a decimal with up to three digits after the point
 * ("0.5" = 500 ms, "1.25s"); the value must come to whole milliseconds
 * ("0.5ms" is refused).
 */
static bool
parse_duration(struct parser *p, const char *what, const char *s,
    bool zero_ok, uint32_t *out)
{
	static const struct {
		const char *suffix;
		uint32_t ms;
	} units[] = {
		{ "", 1000 }, { "ms", 1 }, { "s", 1000 },
		{ "m", 60 * 1000 }, { "h", 60 * 60 * 1000 },
	};
	const char *end, *fend;
	uint64_t v, frac = 0, scale = 1, ms;
	size_t i, nfrac = 0;

	if (digits(s, &end, &v)) {
		if (*end == '.') {
			/* Up to 3 decimals: thousandths of the unit. */
			if (!digits(end + 1, &fend, &frac) ||
			    (nfrac = (size_t)(fend - end - 1)) > 3)
				goto bad;
			end = fend;
			while (nfrac++ < 3)
				scale *= 10;
			frac *= scale;	/* now in thousandths */
		}
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			if (strcmp(end, units[i].suffix) != 0)
				continue;
			if (v > MAX_MS / units[i].ms) {
				perr(p, p->line, "%s: '%s' is too long "
				    "(max %ums)", what, s, (unsigned)MAX_MS);
				return false;
			}
			if (frac * units[i].ms % 1000 != 0) {
				perr(p, p->line, "%s: '%s' is not a whole "
				    "number of milliseconds", what, s);
				return false;
			}
			ms = v * units[i].ms + frac * units[i].ms / 1000;
			if (ms > MAX_MS) {
				perr(p, p->line, "%s: '%s' is too long "
				    "(max %ums)", what, s, (unsigned)MAX_MS);
				return false;
			}
			if (ms == 0 && !zero_ok) {
				perr(p, p->line, "%s: '%s' must be more "
				    "than 0", what, s);
				return false;
			}
			*out = (uint32_t)ms;
			return true;
		}
	}
bad:
	perr(p, p->line, "%s: '%s' is not a duration (e.g. 500ms, 0.5, 3s, "
	    "5m, 1h)", what, s);
	return false;
}

static bool
parse_addr(struct parser *p, const char *what, const char *s,
    uint8_t out[16])
{
	static const uint8_t zero[16];

	if (inet_pton(AF_INET6, s, out) != 1) {
		perr(p, p->line, "%s: '%s' is not an ipv6 address", what, s);
		return false;
	}
	if (memcmp(out, zero, 16) == 0) {
		perr(p, p->line, "%s: '%s' is the unspecified address", what,
		    s);
		return false;
	}
	if (out[0] == 0xff) {
		perr(p, p->line, "%s: '%s' is a multicast address", what, s);
		return false;
	}
	return true;
}

/* One of a NULL-terminated list of words; returns its index or -1. */
static int
parse_word(struct parser *p, const char *what, const char *s,
    const char *const *words, const char *expected)
{
	int i;

	for (i = 0; words[i] != NULL; i++)
		if (strcmp(s, words[i]) == 0)
			return i;
	perr(p, p->line, "%s: unknown value '%s' (expected %s)", what, s,
	    expected);
	return -1;
}

static bool
parse_onoff(struct parser *p, const char *what, const char *s, bool *out)
{
	static const char *const words[] = { "off", "on", NULL };
	int i = parse_word(p, what, s, words, "on or off");

	if (i < 0)
		return false;
	*out = i == 1;
	return true;
}

/* Copy a checked word into a fixed field (size includes the NUL). */
static bool
copy_word(struct parser *p, const char *what, const char *s, char *dst,
    size_t size)
{
	size_t n = strlen(s);

	if (n >= size) {
		perr(p, p->line, "%s: '%s' is too long (limit %zu bytes)",
		    what, s, size - 1);
		return false;
	}
	memset(dst, 0, size);
	memcpy(dst, s, n);
	return true;
}

/* --------------------------------------------------- global statements */

static void
st_role(struct parser *p, int argc, char **argv)
{
	static const char *const words[] = {
		"client", "server", "balancer", NULL
	};
	int i, r;

	if (!nargs(p, argc, argv, 1, MAX_WORDS))
		return;
	for (i = 1; i < argc; i++) {
		r = parse_word(p, argv[0], argv[i], words,
		    "client, server or balancer");
		if (r < 0)
			continue;
		p->conf->roles |= 1u << r;
		if (p->role_line[r] == 0)
			p->role_line[r] = p->line;
	}
}

static void
st_queue(struct parser *p, int argc, char **argv)
{
	char *dash;
	uint32_t first, last;
	bool ok;

	if (!nargs(p, argc, argv, 1, 1))
		return;
	dash = strchr(argv[1], '-');
	if (dash == NULL) {
		if (parse_uint(p, argv[0], argv[1], 0, 65535, &first)) {
			p->conf->queue_first = (uint16_t)first;
			p->conf->queue_count = 1;
		}
		return;
	}
	*dash = '\0';
	ok = parse_uint(p, argv[0], argv[1], 0, 65535, &first);
	ok = parse_uint(p, argv[0], dash + 1, 0, 65535, &last) && ok;
	*dash = '-';
	if (!ok)
		return;
	if (last < first) {
		perr(p, p->line, "%s: '%s' ends before it starts", argv[0],
		    argv[1]);
		return;
	}
	if (last - first + 1 > SP_CONF_MAX_QUEUES) {
		perr(p, p->line, "%s: '%s' is too many queues (limit %d)",
		    argv[0], argv[1], SP_CONF_MAX_QUEUES);
		return;
	}
	p->conf->queue_first = (uint16_t)first;
	p->conf->queue_count = (uint16_t)(last - first + 1);
}

static void
st_option_type(struct parser *p, int argc, char **argv)
{
	const char *s, *c;
	uint64_t v = 0;
	int d;

	if (!nargs(p, argc, argv, 1, 1))
		return;
	s = argv[1];
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		for (c = s + 2; *c != '\0'; c++) {
			if (*c >= '0' && *c <= '9')
				d = *c - '0';
			else if (*c >= 'a' && *c <= 'f')
				d = *c - 'a' + 10;
			else if (*c >= 'A' && *c <= 'F')
				d = *c - 'A' + 10;
			else
				break;
			if (v <= UINT32_MAX)
				v = v * 16 + (uint64_t)d;
		}
		if (c == s + 2 || *c != '\0') {
			perr(p, p->line, "%s: '%s' is not a number", argv[0],
			    s);
			return;
		}
	} else if (!digits(s, &c, &v) || *c != '\0') {
		perr(p, p->line, "%s: '%s' is not a number", argv[0], s);
		return;
	}
	if (v == 0 || v == 1) {
		perr(p, p->line, "%s: '%s' is %s, a padding type", argv[0], s,
		    v == 0 ? "Pad1" : "PadN");
		return;
	}
	if (v > 255) {
		perr(p, p->line, "%s: '%s' out of range (2..255)", argv[0], s);
		return;
	}
	p->conf->option_type = (uint8_t)v;
}

static void
st_rules(struct parser *p, int argc, char **argv)
{
	static const char *const words[] = { "install", "none", NULL };
	int i;

	if (!nargs(p, argc, argv, 1, 1))
		return;
	i = parse_word(p, argv[0], argv[1], words, "install or none");
	if (i >= 0)
		p->conf->rules = i == 0 ? SP_CONF_RULES_INSTALL :
		    SP_CONF_RULES_NONE;
}

static void
st_user(struct parser *p, int argc, char **argv)
{
	const char *c;

	if (!nargs(p, argc, argv, 1, 1))
		return;
	for (c = argv[1]; *c != '\0'; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' ||
		    (*c == '-' && c != argv[1]))
			continue;
		perr(p, p->line, "%s: '%s' is not a valid user name", argv[0],
		    argv[1]);
		return;
	}
	copy_word(p, argv[0], argv[1], p->conf->user, sizeof(p->conf->user));
}

static void
st_control_socket(struct parser *p, int argc, char **argv)
{
	if (!nargs(p, argc, argv, 1, 1))
		return;
	if (argv[1][0] != '/') {
		perr(p, p->line, "%s: '%s' is not an absolute path", argv[0],
		    argv[1]);
		return;
	}
	copy_word(p, argv[0], argv[1], p->conf->control_socket,
	    sizeof(p->conf->control_socket));
}

static void
st_identity(struct parser *p, int argc, char **argv)
{
	if (!nargs(p, argc, argv, 1, 1))
		return;
	if (strcmp(argv[1], "address") == 0) {
		p->conf->identity = SP_CONF_IDENTITY_ADDRESS;
	} else if (strcmp(argv[1], "random") == 0) {
		p->conf->identity = SP_CONF_IDENTITY_RANDOM;
	} else if (strchr(argv[1], ':') == NULL) {
		perr(p, p->line, "%s: unknown value '%s' (expected address, "
		    "random or an ipv6 address)", argv[0], argv[1]);
	} else if (parse_addr(p, argv[0], argv[1], p->conf->identity_addr)) {
		p->conf->identity = SP_CONF_IDENTITY_LITERAL;
	}
}

static void
st_identity_rotate(struct parser *p, int argc, char **argv)
{
	if (nargs(p, argc, argv, 1, 1))
		parse_duration(p, argv[0], argv[1], true,
		    &p->conf->identity_rotate_ms);
}

static void
st_redirect(struct parser *p, int argc, char **argv)
{
	if (nargs(p, argc, argv, 1, 1))
		parse_onoff(p, argv[0], argv[1], &p->conf->redirect);
}

static void
st_mss_clamp(struct parser *p, int argc, char **argv)
{
	if (nargs(p, argc, argv, 1, 1))
		parse_onoff(p, argv[0], argv[1], &p->conf->mss_clamp);
}

static void
st_gso(struct parser *p, int argc, char **argv)
{
	if (nargs(p, argc, argv, 1, 1))
		parse_onoff(p, argv[0], argv[1], &p->conf->gso);
}

static void
st_datapath(struct parser *p, int argc, char **argv)
{
	static const char *const words[] = { "auto", "tc", "nfqueue", NULL };
	static const enum sp_conf_datapath paths[] = { SP_CONF_DATAPATH_AUTO,
	    SP_CONF_DATAPATH_TC, SP_CONF_DATAPATH_NFQUEUE };
	int i;

	if (!nargs(p, argc, argv, 1, 1))
		return;
	i = parse_word(p, argv[0], argv[1], words, "auto, tc or nfqueue");
	if (i >= 0)
		p->conf->datapath = paths[i];
}

static void
st_flowlabel_strict(struct parser *p, int argc, char **argv)
{
	if (nargs(p, argc, argv, 1, 1))
		parse_onoff(p, argv[0], argv[1], &p->conf->flowlabel_strict);
}

static void
st_mtu(struct parser *p, int argc, char **argv)
{
	uint32_t v;

	if (nargs(p, argc, argv, 1, 1) &&
	    parse_uint(p, argv[0], argv[1], 1280, 65535, &v))
		p->conf->mtu = (uint16_t)v;
}

static void
st_agent_port(struct parser *p, int argc, char **argv)
{
	uint32_t v;

	if (nargs(p, argc, argv, 1, 1) &&
	    parse_uint(p, argv[0], argv[1], 0, 65535, &v))
		p->conf->agent_port = (uint16_t)v;
}

/*
 * metrics-listen ADDRESS PORT: where lbspd serves Prometheus metrics.
 * "::" (every address) is allowed here, unlike in addresses that name
 * a host.
 */
static void
st_metrics_listen(struct parser *p, int argc, char **argv)
{
	uint8_t a[16];
	uint32_t v;

	if (!nargs(p, argc, argv, 2, 2))
		return;
	if (inet_pton(AF_INET6, argv[1], a) != 1 || a[0] == 0xff) {
		perr(p, p->line, "%s: '%s' is not a unicast ipv6 address",
		    argv[0], argv[1]);
		return;
	}
	if (!parse_uint(p, argv[0], argv[2], 1, 65535, &v))
		return;
	memcpy(p->conf->metrics_addr, a, 16);
	p->conf->metrics_port = (uint16_t)v;
}

static void
st_server_address(struct parser *p, int argc, char **argv)
{
	if (nargs(p, argc, argv, 1, 1) &&
	    parse_addr(p, argv[0], argv[1], p->conf->server_address)) {
		p->conf->has_server_address = true;
		p->conf->server_address_line = p->line;
	}
}

static void
st_cache_ttl(struct parser *p, int argc, char **argv)
{
	if (nargs(p, argc, argv, 1, 1))
		parse_duration(p, argv[0], argv[1], false,
		    &p->conf->cache_ttl_ms);
}

static void
st_stick_ttl(struct parser *p, int argc, char **argv)
{
	if (nargs(p, argc, argv, 1, 1))
		parse_duration(p, argv[0], argv[1], false,
		    &p->conf->stick_ttl_ms);
}

static void
st_fallback_timeout(struct parser *p, int argc, char **argv)
{
	if (nargs(p, argc, argv, 1, 1))
		parse_duration(p, argv[0], argv[1], false,
		    &p->conf->fallback_timeout_ms);
}

/* blackhole-timeout MIN MAX: the option-blackhole mark of a vip lasts
 * MIN, doubled on each confirmation up to MAX. */
static void
st_blackhole_timeout(struct parser *p, int argc, char **argv)
{
	uint32_t min, max;

	if (!nargs(p, argc, argv, 2, 2) ||
	    !parse_duration(p, argv[0], argv[1], false, &min) ||
	    !parse_duration(p, argv[0], argv[2], false, &max))
		return;
	if (max < min) {
		perr(p, p->line, "%s: maximum '%s' is less than the minimum "
		    "'%s'", argv[0], argv[2], argv[1]);
		return;
	}
	p->conf->blackhole_min_ms = min;
	p->conf->blackhole_max_ms = max;
}

static void
st_stick_prefix(struct parser *p, int argc, char **argv)
{
	uint32_t v;

	if (nargs(p, argc, argv, 1, 1) &&
	    parse_uint(p, argv[0], argv[1], 0, 128, &v))
		p->conf->stick_prefix = (uint8_t)v;
}

static void
st_timeout(struct parser *p, int argc, char **argv)
{
	static const char *const words[TMO__COUNT + 1] = {
		[TMO_TCP_ESTABLISHED] = "tcp-established",
		[TMO_TCP] = "tcp",
		[TMO_UDP] = "udp",
		[TMO_OTHER] = "other",
		[TMO_LINGER] = "linger",
		[TMO__COUNT] = NULL,
	};
	char what[64];
	uint32_t *field;
	int k;

	if (argc < 2) {
		perr(p, p->line, "%s: missing argument", argv[0]);
		return;
	}
	k = parse_word(p, argv[0], argv[1], words,
	    "tcp-established, tcp, udp, other or linger");
	if (k < 0)
		return;
	snprintf(what, sizeof(what), "%s %s", argv[0], words[k]);
	if (argc < 3) {
		perr(p, p->line, "%s: missing argument", what);
		return;
	}
	if (argc > 3) {
		perr(p, p->line, "%s: extra argument '%s'", what, argv[3]);
		return;
	}
	if (p->seen_timeout[k] != 0) {
		perr(p, p->line, "duplicate '%s' (first at line %u)", what,
		    p->seen_timeout[k]);
		return;
	}
	p->seen_timeout[k] = p->line;
	switch ((enum tmo)k) {
	case TMO_TCP_ESTABLISHED:
		field = &p->conf->timeout_tcp_established_ms;
		break;
	case TMO_TCP:
		field = &p->conf->timeout_tcp_ms;
		break;
	case TMO_UDP:
		field = &p->conf->timeout_udp_ms;
		break;
	case TMO_OTHER:
		field = &p->conf->timeout_other_ms;
		break;
	case TMO_LINGER:
		field = &p->conf->timeout_linger_ms;
		break;
	case TMO__COUNT:
	default:
		perr(p, p->line, "%s: internal error: kind %d", argv[0], k);
		return;
	}
	parse_duration(p, what, argv[2], false, field);
}

static void
st_table_size(struct parser *p, int argc, char **argv, uint32_t min,
    uint32_t *field)
{
	if (nargs(p, argc, argv, 1, 1))
		parse_uint(p, argv[0], argv[1], min, MAX_TABLE, field);
}

static void
st_max_flows(struct parser *p, int argc, char **argv)
{
	st_table_size(p, argc, argv, 1, &p->conf->max_flows);
}

/* xt_limit's fastest rate is 10000 per second. */
static void
st_syn_rate(struct parser *p, int argc, char **argv)
{
	if (nargs(p, argc, argv, 1, 1))
		parse_uint(p, argv[0], argv[1], 0, 10000, &p->conf->syn_rate);
}

static void
st_max_stick(struct parser *p, int argc, char **argv)
{
	st_table_size(p, argc, argv, 1, &p->conf->max_stick);
}

static void
st_max_cache(struct parser *p, int argc, char **argv)
{
	st_table_size(p, argc, argv, 1, &p->conf->max_cache);
}

static void
st_max_flows_per_source(struct parser *p, int argc, char **argv)
{
	st_table_size(p, argc, argv, 0, &p->conf->max_flows_per_source);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
st_hash_key(struct parser *p, int argc, char **argv)
{
	uint8_t key[16];
	size_t i;
	int hi, lo;

	if (!nargs(p, argc, argv, 1, 1))
		return;
	if (strlen(argv[1]) != 32)
		goto bad;
	for (i = 0; i < 16; i++) {
		hi = hexval(argv[1][2 * i]);
		lo = hexval(argv[1][2 * i + 1]);
		if (hi < 0 || lo < 0)
			goto bad;
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(p->conf->hash_key, key, sizeof(key));
	p->conf->has_hash_key = true;
	return;
bad:
	perr(p, p->line, "%s: '%s' is not 32 hex digits", argv[0], argv[1]);
}

/*
 * "announce IFNAME": the device lbspd makes to carry the routes of the
 * vips it can serve, for the routing daemon to redistribute (several
 * balancers behind ECMP).  A kernel interface name: 1..15 bytes of
 * letters, digits, '_', '-', '.'.
 */
static void
st_announce(struct parser *p, int argc, char **argv)
{
	const char *c;

	if (!nargs(p, argc, argv, 1, 1))
		return;
	for (c = argv[1]; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' ||
		    *c == '.')) {
			perr(p, p->line, "%s: '%s' is not a valid interface "
			    "name", argv[0], argv[1]);
			return;
		}
	copy_word(p, argv[0], argv[1], p->conf->announce,
	    sizeof(p->conf->announce));
}

/* "nat-source ADDR": legacy sessions' source NAT address. */
static void
st_nat_source(struct parser *p, int argc, char **argv)
{
	if (!nargs(p, argc, argv, 1, 1))
		return;
	if (parse_addr(p, argv[0], argv[1], p->conf->nat_source))
		p->conf->has_nat_source = true;
}

/* ------------------------------------------------------- vip blocks */

/* Room for one more vip in conf->vips and p->vip_lines. */
static bool
vip_room(struct parser *p)
{
	struct sp_conf *c = p->conf;
	struct sp_conf_vip *v;
	unsigned *l;
	size_t cap = p->vips_cap;

	if (c->nvips < p->vips_cap)
		return true;
	l = grow(p->vip_lines, c->nvips, &cap, sizeof(*l));
	if (l == NULL)
		return false;
	p->vip_lines = l;
	cap = p->vips_cap;
	v = grow(c->vips, c->nvips, &cap, sizeof(*v));
	if (v == NULL)
		return false;
	c->vips = v;
	p->vips_cap = cap;
	return true;
}

static void
vip_open(struct parser *p, int argc, char **argv)
{
	struct sp_conf *c = p->conf;
	uint8_t addr[16];
	bool ok = false;
	int i, naddr, brace = -1;
	unsigned v;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "{") == 0) {
			brace = i;
			break;
		}
	if (brace < 0) {
		perr(p, p->line, "%s: missing '{' at end of line", argv[0]);
		p->brace_pending = true;
		naddr = argc - 1;
	} else {
		if (brace != argc - 1) {
			perr(p, p->line, "%s: '{' must end the line",
			    argv[0]);
			if (strcmp(argv[argc - 1], "}") == 0)
				return;	/* a one-line block: nothing open */
		}
		naddr = brace - 1;
	}
	if (naddr < 1)
		perr(p, p->line, "%s: missing argument", argv[0]);
	else if (naddr > 1)
		perr(p, p->line, "%s: extra argument '%s'", argv[0], argv[2]);
	else
		ok = parse_addr(p, argv[0], argv[1], addr);

	for (v = 0; ok && v < c->nvips; v++)
		if (memcmp(c->vips[v].addr, addr, 16) == 0) {
			perr(p, p->line, "%s: duplicate '%s' (first at line "
			    "%u)", argv[0], argv[1], p->vip_lines[v]);
			ok = false;
		}
	if (ok && c->nvips >= SP_CONF_MAX_VIPS) {
		perr(p, p->line, "%s: too many vips (limit %d)", argv[0],
		    SP_CONF_MAX_VIPS);
		ok = false;
	}
	if (ok && !vip_room(p)) {
		perr(p, p->line, "%s: out of memory", argv[0]);
		ok = false;
	}
	if (ok) {
		p->vip_lines[c->nvips] = p->line;
		p->vip = &c->vips[c->nvips++];
	} else {
		vip_release(&p->scratch);
		p->vip = &p->scratch;
	}
	sp_conf_vip_defaults(p->vip);
	p->servers_cap = 0;
	p->ports_cap = 0;
	p->allow_cap = 0;
	if (ok) {
		memcpy(p->vip->addr, addr, 16);
		p->vip->line = p->line;
	}
	p->in_vip = true;
	p->vip_line = p->line;
	p->check_port_set = false;
	for (i = KW_VIP + 1; i < KW__COUNT; i++)
		p->seen[i] = 0;
}

/* The checks that need the whole block, reported at their own lines. */
static void
vip_close(struct parser *p)
{
	struct sp_conf_vip *vip = p->vip;
	char a[INET6_ADDRSTRLEN];
	unsigned i;

	if (!p->check_port_set)
		vip->check.port = vip->nports > 0 ? vip->ports[0] : 80;
	/* A backup is a standby host, not necessarily in the rotation
	 * (doc/design.md §6's sample names one that is not): any unicast
	 * address but the server itself (checked on its line) and the
	 * vip, which would send the sessions back to the balancer. */
	for (i = 0; i < vip->nservers; i++) {
		if (!vip->servers[i].has_backup ||
		    memcmp(vip->servers[i].backup, vip->addr, 16) != 0)
			continue;
		if (inet_ntop(AF_INET6, vip->servers[i].backup, a,
		    sizeof(a)) == NULL)
			strcpy(a, "?");
		perr(p, p->server_line[i], "server: backup '%s' is the vip "
		    "itself", a);
	}
	for (i = 0; p->port_seen != NULL && i < vip->nports; i++)
		p->port_seen[vip->ports[i] / 8] = 0;
	vip->ports = fit(vip->ports, vip->nports, sizeof(*vip->ports));
	vip->allow = fit(vip->allow, vip->nallow, sizeof(*vip->allow));
	vip->servers = fit(vip->servers, vip->nservers,
	    sizeof(*vip->servers));
	/* The servers' lines go with a vip that is kept (for
	 * sp_conf_warnings()); the next block starts a new array. */
	if (vip != &p->scratch && vip->nservers > 0) {
		vip->server_lines = fit(p->server_line, vip->nservers,
		    sizeof(*vip->server_lines));
		p->server_line = NULL;
		p->server_line_cap = 0;
	}
	p->in_vip = false;
	p->vip = NULL;
}

static void
st_ports(struct parser *p, int argc, char **argv)
{
	struct sp_conf_vip *vip = p->vip;
	uint16_t *ports;
	uint32_t port;
	uint8_t bit;
	int i;

	if (!nargs(p, argc, argv, 1, MAX_WORDS))
		return;
	if (p->port_seen == NULL &&
	    (p->port_seen = calloc(65536 / 8, 1)) == NULL) {
		perr(p, p->line, "%s: out of memory", argv[0]);
		return;
	}
	for (i = 1; i < argc; i++) {
		if (!parse_uint(p, argv[0], argv[i], 1, 65535, &port))
			continue;
		bit = (uint8_t)(1u << (port % 8));
		if (p->port_seen[port / 8] & bit) {
			perr(p, p->line, "%s: duplicate '%s'", argv[0],
			    argv[i]);
			continue;
		}
		if (vip->nports >= SP_CONF_MAX_PORTS) {
			perr(p, p->line, "%s: too many ports (limit %d)",
			    argv[0], SP_CONF_MAX_PORTS);
			return;
		}
		ports = grow(vip->ports, vip->nports, &p->ports_cap,
		    sizeof(*ports));
		if (ports == NULL) {
			perr(p, p->line, "%s: out of memory", argv[0]);
			return;
		}
		vip->ports = ports;
		p->port_seen[port / 8] |= bit;
		vip->ports[vip->nports++] = (uint16_t)port;
	}
}

static bool
parse_prefix(struct parser *p, const char *what, char *s,
    struct sp_conf_prefix *out)
{
	char *slash = strchr(s, '/');
	uint32_t len;
	unsigned i;
	bool ok;

	if (slash == NULL) {
		perr(p, p->line, "%s: '%s' is not a prefix "
		    "(address/length)", what, s);
		return false;
	}
	*slash = '\0';
	ok = inet_pton(AF_INET6, s, out->addr) == 1;
	*slash = '/';
	if (!ok) {
		perr(p, p->line, "%s: '%s' is not an ipv6 prefix", what, s);
		return false;
	}
	if (!parse_uint(p, what, slash + 1, 0, 128, &len))
		return false;
	out->len = (uint8_t)len;
	for (i = len; i < 128; i++)
		if (out->addr[i / 8] & (0x80 >> (i % 8))) {
			perr(p, p->line, "%s: '%s' has host bits set", what,
			    s);
			return false;
		}
	return true;
}

static void
st_allow_servers(struct parser *p, int argc, char **argv)
{
	struct sp_conf_vip *vip = p->vip;
	struct sp_conf_prefix px, *allow;
	unsigned j;
	int i;

	if (!nargs(p, argc, argv, 1, MAX_WORDS))
		return;
	for (i = 1; i < argc; i++) {
		memset(&px, 0, sizeof(px));
		if (!parse_prefix(p, argv[0], argv[i], &px))
			continue;
		for (j = 0; j < vip->nallow; j++)
			if (memcmp(&vip->allow[j], &px, sizeof(px)) == 0)
				break;
		if (j < vip->nallow) {
			perr(p, p->line, "%s: duplicate '%s'", argv[0],
			    argv[i]);
			continue;
		}
		if (vip->nallow >= SP_CONF_MAX_PREFIXES) {
			perr(p, p->line, "%s: too many prefixes (limit %d)",
			    argv[0], SP_CONF_MAX_PREFIXES);
			return;
		}
		allow = grow(vip->allow, vip->nallow, &p->allow_cap,
		    sizeof(*allow));
		if (allow == NULL) {
			perr(p, p->line, "%s: out of memory", argv[0]);
			return;
		}
		vip->allow = allow;
		vip->allow[vip->nallow++] = px;
	}
}

static void
st_scheduler(struct parser *p, int argc, char **argv)
{
	if (!nargs(p, argc, argv, 1, 1))
		return;
	if (!sp_conf_scheduler_parse(argv[1], &p->vip->scheduler))
		perr(p, p->line, "%s: unknown value '%s' (expected rr, wrr, "
		    "lc, lt, wlc, rt, agent, cost, hash or maglev)", argv[0],
		    argv[1]);
}

/* Options after a server's or a check's first word. */
struct opt {
	const char *name;
	bool value;		/* takes a value */
};

/*
 * Index of the option at argv[*i] in opts, *i moved to its value.  -1
 * after an error that leaves the words that follow readable (duplicate,
 * missing value), -2 after an unknown option: what follows cannot be
 * told apart from a value, so the caller stops there.
 */
static int
next_opt(struct parser *p, int argc, char **argv, int *i,
    const struct opt *opts, unsigned *seen)
{
	int k;

	for (k = 0; opts[k].name != NULL; k++)
		if (strcmp(argv[*i], opts[k].name) == 0)
			break;
	if (opts[k].name == NULL) {
		perr(p, p->line, "%s: unknown option '%s'", argv[0],
		    argv[*i]);
		return -2;
	}
	if (opts[k].value && *i + 1 >= argc) {
		perr(p, p->line, "%s %s: missing argument", argv[0],
		    opts[k].name);
		return -1;
	}
	if (opts[k].value)
		(*i)++;
	if (*seen & (1u << k)) {
		perr(p, p->line, "%s: duplicate '%s'", argv[0], opts[k].name);
		return -1;
	}
	*seen |= 1u << k;
	return k;
}

enum { SRV_WEIGHT, SRV_BACKUP, SRV_COST, SRV_DRAIN };

static void
st_server(struct parser *p, int argc, char **argv)
{
	static const struct opt opts[] = {
		[SRV_WEIGHT] = { "weight", true },
		[SRV_BACKUP] = { "backup", true },
		[SRV_COST] = { "cost", true },
		[SRV_DRAIN] = { "drain", false },
		{ NULL, false },
	};
	struct sp_conf_vip *vip = p->vip;
	struct sp_conf_server s, *servers;
	size_t cap;
	unsigned *lines;
	char what[32];
	unsigned j, seen = 0;
	uint32_t v;
	bool ok;
	int i, k;

	if (!nargs(p, argc, argv, 1, MAX_WORDS))
		return;
	memset(&s, 0, sizeof(s));
	s.weight = 1;
	ok = parse_addr(p, argv[0], argv[1], s.addr);
	if (ok && memcmp(s.addr, vip->addr, 16) == 0) {
		perr(p, p->line, "%s: '%s' is the vip itself", argv[0],
		    argv[1]);
		ok = false;
	}
	for (j = 0; ok && j < vip->nservers; j++)
		if (memcmp(vip->servers[j].addr, s.addr, 16) == 0) {
			perr(p, p->line, "%s: duplicate '%s' (first at line "
			    "%u)", argv[0], argv[1], p->server_line[j]);
			ok = false;
		}
	if (ok && vip->nservers >= SP_CONF_MAX_SERVERS) {
		perr(p, p->line, "%s: too many servers (limit %d)", argv[0],
		    SP_CONF_MAX_SERVERS);
		ok = false;
	}
	for (i = 2; i < argc; i++) {
		k = next_opt(p, argc, argv, &i, opts, &seen);
		if (k == -2)
			return;
		if (k < 0) {
			ok = false;
			continue;
		}
		snprintf(what, sizeof(what), "%s %s", argv[0], opts[k].name);
		switch (k) {
		case SRV_WEIGHT:
			if (parse_uint(p, what, argv[i], 1, 1000, &v))
				s.weight = (uint16_t)v;
			else
				ok = false;
			break;
		case SRV_BACKUP:
			if (!parse_addr(p, what, argv[i], s.backup))
				ok = false;
			else if (memcmp(s.backup, s.addr, 16) == 0) {
				perr(p, p->line, "%s: '%s' is the server "
				    "itself", what, argv[i]);
				ok = false;
			} else
				s.has_backup = true;
			break;
		case SRV_COST:
			if (parse_uint(p, what, argv[i], 0, 65535, &v))
				s.cost = (uint16_t)v;
			else
				ok = false;
			break;
		case SRV_DRAIN:
			s.drain = true;
			break;
		default:
			perr(p, p->line, "%s: internal error: option %d",
			    argv[0], k);
			return;
		}
	}
	if (!ok)
		return;
	cap = p->server_line_cap;
	lines = grow(p->server_line, vip->nservers, &cap, sizeof(*lines));
	if (lines != NULL) {
		p->server_line = lines;
		p->server_line_cap = cap;
	}
	servers = lines == NULL ? NULL : grow(vip->servers, vip->nservers,
	    &p->servers_cap, sizeof(*servers));
	if (servers == NULL) {
		perr(p, p->line, "%s: out of memory", argv[0]);
		return;
	}
	vip->servers = servers;
	p->server_line[vip->nservers] = p->line;
	vip->servers[vip->nservers++] = s;
}

enum {
	CHK_PORT, CHK_INTERVAL, CHK_TIMEOUT, CHK_RISE, CHK_FALL, CHK_PATH,
	CHK_EXPECT
};

static void
st_check(struct parser *p, int argc, char **argv)
{
	static const char *const types[] = { "tcp", "icmp", "http", NULL };
	static const struct opt opts[] = {
		[CHK_PORT] = { "port", true },
		[CHK_INTERVAL] = { "interval", true },
		[CHK_TIMEOUT] = { "timeout", true },
		[CHK_RISE] = { "rise", true },
		[CHK_FALL] = { "fall", true },
		[CHK_PATH] = { "path", true },
		[CHK_EXPECT] = { "expect", true },
		{ NULL, false },
	};
	struct sp_conf_check c = p->vip->check;
	char what[32];
	unsigned seen = 0;
	uint32_t v;
	bool ok = true;
	int i, k, t;

	if (!nargs(p, argc, argv, 1, MAX_WORDS))
		return;
	t = parse_word(p, argv[0], argv[1], types, "tcp, icmp or http");
	if (t < 0)
		return;
	c.type = t == 0 ? SP_CONF_CHECK_TCP : t == 1 ? SP_CONF_CHECK_ICMP :
	    SP_CONF_CHECK_HTTP;
	for (i = 2; i < argc; i++) {
		k = next_opt(p, argc, argv, &i, opts, &seen);
		if (k == -2)
			return;
		if (k < 0) {
			ok = false;
			continue;
		}
		snprintf(what, sizeof(what), "%s %s", argv[0], opts[k].name);
		if ((k == CHK_PATH || k == CHK_EXPECT) &&
		    c.type != SP_CONF_CHECK_HTTP) {
			perr(p, p->line, "%s: '%s' only with http", argv[0],
			    opts[k].name);
			ok = false;
			continue;
		}
		switch (k) {
		case CHK_PORT:
			if (parse_uint(p, what, argv[i], 1, 65535, &v))
				c.port = (uint16_t)v;
			else
				ok = false;
			break;
		case CHK_INTERVAL:
			ok = parse_duration(p, what, argv[i], false,
			    &c.interval_ms) && ok;
			break;
		case CHK_TIMEOUT:
			ok = parse_duration(p, what, argv[i], false,
			    &c.timeout_ms) && ok;
			break;
		case CHK_RISE:
		case CHK_FALL:
			if (!parse_uint(p, what, argv[i], 1, 255, &v))
				ok = false;
			else if (k == CHK_RISE)
				c.rise = (uint8_t)v;
			else
				c.fall = (uint8_t)v;
			break;
		case CHK_PATH:
			if (argv[i][0] != '/') {
				perr(p, p->line, "%s: '%s' must start with "
				    "'/'", what, argv[i]);
				ok = false;
			} else if (!copy_word(p, what, argv[i], c.path,
			    sizeof(c.path)))
				ok = false;
			break;
		case CHK_EXPECT:
			if (parse_uint(p, what, argv[i], 100, 599, &v))
				c.expect = (uint16_t)v;
			else
				ok = false;
			break;
		default:
			perr(p, p->line, "%s: internal error: option %d",
			    argv[0], k);
			return;
		}
	}
	if (!ok)
		return;
	if (c.timeout_ms > c.interval_ms) {
		perr(p, p->line, "%s: timeout (%ums) is longer than interval "
		    "(%ums)", argv[0], (unsigned)c.timeout_ms,
		    (unsigned)c.interval_ms);
		return;
	}
	if (seen & (1u << CHK_PORT))
		p->check_port_set = true;
	p->vip->check = c;
}

static void
st_session_weight(struct parser *p, int argc, char **argv)
{
	struct sp_conf_vip *vip = p->vip;
	uint32_t port, w;
	unsigned j;
	bool ok;

	if (!nargs(p, argc, argv, 2, 2))
		return;
	ok = parse_uint(p, argv[0], argv[1], 1, 65535, &port);
	ok = parse_uint(p, argv[0], argv[2], 1, 1000, &w) && ok;
	if (!ok)
		return;
	for (j = 0; j < vip->nsession_weights; j++)
		if (vip->session_weights[j].port == port) {
			perr(p, p->line, "%s: duplicate port '%s'", argv[0],
			    argv[1]);
			return;
		}
	if (vip->nsession_weights >= SP_CONF_MAX_SESSION_WEIGHTS) {
		perr(p, p->line, "%s: too many ports (limit %d)", argv[0],
		    SP_CONF_MAX_SESSION_WEIGHTS);
		return;
	}
	vip->session_weights[vip->nsession_weights].port = (uint16_t)port;
	vip->session_weights[vip->nsession_weights].weight = (uint16_t)w;
	vip->nsession_weights++;
}

static void
st_passive_timeout(struct parser *p, int argc, char **argv)
{
	if (nargs(p, argc, argv, 1, 1))
		parse_duration(p, argv[0], argv[1], true,
		    &p->vip->passive_timeout_ms);
}

static void
st_dead_retry(struct parser *p, int argc, char **argv)
{
	if (nargs(p, argc, argv, 1, 1))
		parse_duration(p, argv[0], argv[1], false,
		    &p->vip->dead_retry_ms);
}

static void
st_window(struct parser *p, int argc, char **argv)
{
	if (nargs(p, argc, argv, 1, 1))
		parse_duration(p, argv[0], argv[1], false,
		    &p->vip->window_ms);
}

static const struct keyword keywords[KW__COUNT] = {
	[KW_ROLE] = { "role", false, true, st_role },
	[KW_QUEUE] = { "queue", false, false, st_queue },
	[KW_OPTION_TYPE] = { "option-type", false, false, st_option_type },
	[KW_RULES] = { "rules", false, false, st_rules },
	[KW_USER] = { "user", false, false, st_user },
	[KW_CONTROL_SOCKET] = { "control-socket", false, false,
	    st_control_socket },
	[KW_IDENTITY] = { "identity", false, false, st_identity },
	[KW_IDENTITY_ROTATE] = { "identity-rotate", false, false,
	    st_identity_rotate },
	[KW_REDIRECT] = { "redirect", false, false, st_redirect },
	[KW_MSS_CLAMP] = { "mss-clamp", false, false, st_mss_clamp },
	[KW_GSO] = { "gso", false, false, st_gso },
	[KW_DATAPATH] = { "datapath", false, false, st_datapath },
	[KW_MTU] = { "mtu", false, false, st_mtu },
	[KW_AGENT_PORT] = { "agent-port", false, false, st_agent_port },
	[KW_METRICS_LISTEN] = { "metrics-listen", false, false,
	    st_metrics_listen },
	[KW_FLOWLABEL_STRICT] = { "flowlabel-strict", false, false,
	    st_flowlabel_strict },
	[KW_SERVER_ADDRESS] = { "server-address", false, false,
	    st_server_address },
	[KW_CACHE_TTL] = { "cache-ttl", false, false, st_cache_ttl },
	[KW_STICK_TTL] = { "stick-ttl", false, false, st_stick_ttl },
	[KW_FALLBACK_TIMEOUT] = { "fallback-timeout", false, false,
	    st_fallback_timeout },
	[KW_BLACKHOLE_TIMEOUT] = { "blackhole-timeout", false, false,
	    st_blackhole_timeout },
	[KW_STICK_PREFIX] = { "stick-prefix", false, false,
	    st_stick_prefix },
	[KW_TIMEOUT] = { "timeout", false, true, st_timeout },
	[KW_MAX_FLOWS] = { "max-flows", false, false, st_max_flows },
	[KW_MAX_STICK] = { "max-stick", false, false, st_max_stick },
	[KW_MAX_CACHE] = { "max-cache", false, false, st_max_cache },
	[KW_MAX_FLOWS_PER_SOURCE] = { "max-flows-per-source", false, false,
	    st_max_flows_per_source },
	[KW_SYN_RATE] = { "syn-rate", false, false, st_syn_rate },
	[KW_HASH_KEY] = { "hash-key", false, false, st_hash_key },
	[KW_ANNOUNCE] = { "announce", false, false, st_announce },
	[KW_NAT_SOURCE] = { "nat-source", false, false, st_nat_source },
	[KW_VIP] = { "vip", false, true, vip_open },
	[KW_PORTS] = { "ports", true, true, st_ports },
	[KW_ALLOW_SERVERS] = { "allow-servers", true, true,
	    st_allow_servers },
	[KW_SCHEDULER] = { "scheduler", true, false, st_scheduler },
	[KW_SERVER] = { "server", true, true, st_server },
	[KW_CHECK] = { "check", true, false, st_check },
	[KW_SESSION_WEIGHT] = { "session-weight", true, true,
	    st_session_weight },
	[KW_PASSIVE_TIMEOUT] = { "passive-timeout", true, false,
	    st_passive_timeout },
	[KW_DEAD_RETRY] = { "dead-retry", true, false, st_dead_retry },
	[KW_WINDOW] = { "window", true, false, st_window },
};

/* ------------------------------------------------------------ lines */

/* One line's words, already checked and split; argc >= 1. */
static void
statement(struct parser *p, int argc, char **argv)
{
	const struct keyword *kw;
	bool brace_last = strcmp(argv[argc - 1], "{") == 0;
	int k;

	if (strcmp(argv[0], "}") == 0) {
		if (argc > 1)
			perr(p, p->line, "'}': extra argument '%s'", argv[1]);
		if (p->skip_depth > 0)
			p->skip_depth--;
		else if (!p->in_vip)
			perr(p, p->line, "'}' without a block");
		else
			vip_close(p);
		p->brace_pending = false;
		return;
	}
	if (p->skip_depth > 0) {
		/* Inside a nested block, already reported: skip it. */
		if (strcmp(argv[0], "vip") == 0 && brace_last)
			p->skip_depth++;
		return;
	}
	if (p->brace_pending && argc == 1 && strcmp(argv[0], "{") == 0) {
		p->brace_pending = false;	/* reported on the vip line */
		return;
	}
	p->brace_pending = false;

	/* The first byte before strcmp(): a statement costs one or two
	 * string compares, not forty. */
	for (k = 0; k < KW__COUNT; k++)
		if (keywords[k].name[0] == argv[0][0] &&
		    strcmp(argv[0], keywords[k].name) == 0)
			break;
	if (k == KW__COUNT) {
		perr(p, p->line, "unknown keyword '%s'", argv[0]);
		return;
	}
	kw = &keywords[k];
	if (k == KW_VIP && p->in_vip) {
		perr(p, p->line, "'vip' inside a vip block: blocks do not "
		    "nest");
		if (brace_last)
			p->skip_depth = 1;
		return;
	}
	if (kw->in_vip && !p->in_vip) {
		perr(p, p->line, "'%s' is only allowed inside a vip block",
		    argv[0]);
		return;
	}
	if (!kw->in_vip && p->in_vip) {
		perr(p, p->line, "'%s' is not allowed inside a vip block",
		    argv[0]);
		return;
	}
	if (!kw->repeat) {
		if (p->seen[k] != 0) {
			perr(p, p->line, "duplicate '%s' (first at line %u)",
			    argv[0], p->seen[k]);
			return;
		}
		p->seen[k] = p->line;
	}
	kw->fn(p, argc, argv);
}

/*
 * Check and copy one line (without its EOL) into p->buf, cut at '#',
 * split into words and run it.
 */
static void
read_line(struct parser *p, const char *s, size_t n)
{
	size_t i, end = n;
	int argc = 0;
	char *c;

	if (n > SP_CONF_MAX_LINE) {
		perr(p, p->line, "line too long (more than %d bytes)",
		    SP_CONF_MAX_LINE);
		return;
	}
	for (i = 0; i < n; i++) {
		unsigned char b = (unsigned char)s[i];

		/* Printable (one compare for the usual byte), else a tab. */
		if ((unsigned char)(b - 0x20) < 0x5f) {
			if (b != '#')
				continue;
			end = i;
			break;
		}
		if (b != '\t') {
			perr(p, p->line, "invalid byte 0x%02x", b);
			return;
		}
	}
	memcpy(p->buf, s, end);
	p->buf[end] = '\0';

	c = p->buf;
	for (;;) {
		while (*c == ' ' || *c == '\t')
			*c++ = '\0';
		if (*c == '\0')
			break;
		if (argc >= MAX_WORDS)
			break;	/* cannot happen: a line's words fit */
		p->argv[argc++] = c;
		while (*c != '\0' && *c != ' ' && *c != '\t')
			c++;
	}
	p->argv[argc] = NULL;
	if (argc > 0)
		statement(p, argc, p->argv);
}

int
sp_conf_parse(const char *text, size_t len, const char *file,
    struct sp_conf *out, sp_conf_err_fn err, void *arg)
{
	struct parser p;
	struct sp_conf *c = out;
	const char *nl;
	size_t pos = 0, n;

	memset(&p, 0, offsetof(struct parser, buf));	/* not the 5 KB of
							   line buffers */
	p.file = file;
	p.err = err;
	p.arg = arg;
	p.conf = out;
	sp_conf_defaults(out);
	if (text == NULL)
		len = 0;

	while (pos < len) {
		if (p.line < UINT_MAX)
			p.line++;
		nl = memchr(text + pos, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
		if (n > 0 && text[pos + n - 1] == '\r')
			read_line(&p, text + pos, n - 1);
		else
			read_line(&p, text + pos, n);
		pos += n;
		if (nl != NULL)
			pos++;
	}

	if (p.in_vip) {
		perr(&p, p.vip_line, "vip: missing '}' before end of file");
		vip_close(&p);
	}
	vip_release(&p.scratch);
	free(p.port_seen);
	free(p.server_line);
	free(p.vip_lines);
	c->vips = fit(c->vips, c->nvips, sizeof(*c->vips));
	vip_index(c);
	if (c->roles == 0)
		perr(&p, p.line > 0 ? 1 : 0, "no role given");
	if (c->roles & SP_CONF_ROLE_BALANCER) {
		unsigned v;

		for (v = 0; v < c->nvips; v++)
			if (c->vips[v].nservers > 0)
				break;
		if (v == c->nvips)
			perr(&p, p.role_line[2], "role 'balancer' needs a vip "
			    "with a server");
	}
	if ((c->roles & SP_CONF_ROLE_CLIENT) && c->nvips == 0)
		perr(&p, p.role_line[0], "role 'client' needs a vip");
	return p.nerr;
}

/* Address order of two vip keys. */
static int
vip_key_cmp(const void *a, const void *b)
{
	return memcmp(((const struct sp_conf_vip_key *)a)->addr,
	    ((const struct sp_conf_vip_key *)b)->addr, 16);
}

/*
 * Index the vips by address, so that the per-packet lookup is a binary
 * search whatever their number.  Without memory the lookup stays a
 * walk in file order: slower, not wrong.
 */
static void
vip_index(struct sp_conf *c)
{
	unsigned i;

	free(c->vip_sorted);
	c->vip_sorted = NULL;
	c->nsorted = 0;
	if (c->nvips < 2 || (c->vip_sorted = malloc(c->nvips *
	    sizeof(*c->vip_sorted))) == NULL)
		return;
	c->nsorted = c->nvips;
	for (i = 0; i < c->nvips; i++) {
		memcpy(c->vip_sorted[i].addr, c->vips[i].addr, 16);
		c->vip_sorted[i].index = i;
	}
	qsort(c->vip_sorted, c->nvips, sizeof(*c->vip_sorted), vip_key_cmp);
}

/* ------------------------------------------------------- public API */

struct sp_conf *
sp_conf_new(void)
{
	struct sp_conf *c = calloc(1, sizeof(*c));

	if (c != NULL)
		sp_conf_defaults(c);
	return c;
}

void
sp_conf_free(struct sp_conf *c)
{
	if (c == NULL)
		return;
	sp_conf_defaults(c);	/* releases what it holds */
	free(c);
}

void
sp_conf_defaults(struct sp_conf *c)
{
	unsigned i;

	for (i = 0; i < c->nvips; i++)
		vip_release(&c->vips[i]);
	free(c->vips);
	free(c->vip_sorted);
	memset(c, 0, sizeof(*c));
	c->roles = 0;
	c->queue_first = 0;
	c->queue_count = 1;
	c->option_type = 0x1e;
	c->rules = SP_CONF_RULES_INSTALL;
	strcpy(c->control_socket, "/run/lbsp/lbspd.sock");
	c->identity = SP_CONF_IDENTITY_ADDRESS;
	c->identity_rotate_ms = 0;
	c->redirect = true;
	c->mss_clamp = true;
	c->gso = true;
	c->flowlabel_strict = false;
	c->mtu = 1500;
	c->stick_prefix = 128;
	c->cache_ttl_ms = 300 * 1000;
	c->stick_ttl_ms = 1800 * 1000;
	c->fallback_timeout_ms = 1 * 1000;
	c->blackhole_min_ms = 60 * 1000;
	c->blackhole_max_ms = 60 * 60 * 1000;
	c->timeout_tcp_established_ms = 7200 * 1000;
	c->timeout_tcp_ms = 120 * 1000;
	c->timeout_udp_ms = 60 * 1000;
	c->timeout_other_ms = 60 * 1000;
	c->timeout_linger_ms = 10 * 1000;
	c->max_flows = 65536;
	c->max_stick = 65536;
	c->max_cache = 4096;
	c->max_flows_per_source = 0;
	c->syn_rate = 5000;
	c->has_hash_key = false;
	c->nvips = 0;
	c->vips = NULL;
	c->vip_sorted = NULL;
	c->nsorted = 0;
}

void
sp_conf_vip_defaults(struct sp_conf_vip *vip)
{
	memset(vip, 0, sizeof(*vip));
	vip->scheduler = SP_CONF_SCHED_RR;
	vip->check.type = SP_CONF_CHECK_NONE;
	vip->check.port = 80;
	vip->check.interval_ms = 2000;
	vip->check.timeout_ms = 1000;
	vip->check.rise = 2;
	vip->check.fall = 3;
	strcpy(vip->check.path, "/");
	vip->check.expect = 200;
	vip->passive_timeout_ms = 0;
	vip->dead_retry_ms = 60 * 1000;
	vip->window_ms = 10 * 1000;
}

static const char *const sched_names[SP_CONF_SCHED__COUNT] = {
	[SP_CONF_SCHED_RR] = "rr",
	[SP_CONF_SCHED_WRR] = "wrr",
	[SP_CONF_SCHED_LC] = "lc",
	[SP_CONF_SCHED_LT] = "lt",
	[SP_CONF_SCHED_WLC] = "wlc",
	[SP_CONF_SCHED_RT] = "rt",
	[SP_CONF_SCHED_AGENT] = "agent",
	[SP_CONF_SCHED_COST] = "cost",
	[SP_CONF_SCHED_HASH] = "hash",
	[SP_CONF_SCHED_MAGLEV] = "maglev",
};

const char *
sp_conf_scheduler_name(enum sp_conf_scheduler sched)
{
	if ((unsigned)sched >= SP_CONF_SCHED__COUNT ||
	    sched_names[sched] == NULL)
		return "unknown";
	return sched_names[sched];
}

bool
sp_conf_scheduler_parse(const char *name, enum sp_conf_scheduler *sched)
{
	unsigned i;

	if (name == NULL)
		return false;
	for (i = 0; i < SP_CONF_SCHED__COUNT; i++)
		if (sched_names[i] != NULL &&
		    strcmp(name, sched_names[i]) == 0) {
			*sched = (enum sp_conf_scheduler)i;
			return true;
		}
	return false;
}

const struct sp_conf_vip *
sp_conf_vip_find(const struct sp_conf *conf, const uint8_t addr[16])
{
	size_t lo, hi, mid;
	unsigned i;
	int c;

	if (conf->vip_sorted != NULL && conf->nsorted == conf->nvips) {
		/* Written out: bsearch()'s comparison through a pointer
		 * costs more than the search (once per packet in lbspd). */
		lo = 0;
		hi = conf->nsorted;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			c = memcmp(addr, conf->vip_sorted[mid].addr, 16);
			if (c == 0)
				return &conf->vips[conf->vip_sorted[mid].index];
			if (c < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
		return NULL;
	}
	for (i = 0; i < conf->nvips; i++)
		if (memcmp(conf->vips[i].addr, addr, 16) == 0)
			return &conf->vips[i];
	return NULL;
}

const struct sp_conf_server *
sp_conf_server_find(const struct sp_conf_vip *vip, const uint8_t addr[16])
{
	unsigned i;

	for (i = 0; i < vip->nservers; i++)
		if (memcmp(vip->servers[i].addr, addr, 16) == 0)
			return &vip->servers[i];
	return NULL;
}

static bool
prefix_has(const struct sp_conf_prefix *pf, const uint8_t addr[16])
{
	unsigned full = pf->len / 8, rest = pf->len % 8;

	if (memcmp(pf->addr, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((pf->addr[full] ^ addr[full]) & (0xff << (8 - rest))) == 0;
}

bool
sp_conf_vip_allows(const struct sp_conf_vip *vip, const uint8_t addr[16])
{
	unsigned i;

	for (i = 0; i < vip->nallow && i < SP_CONF_MAX_PREFIXES; i++)
		if (prefix_has(&vip->allow[i], addr))
			return true;
	return false;
}

/* ------------------------------------------------ in-tree helpers */

struct sp_conf_vip *
sp_conf_vip_add(struct sp_conf *c, const uint8_t addr[16])
{
	struct sp_conf_vip *v;

	if (c->nvips >= SP_CONF_MAX_VIPS)
		return NULL;
	v = realloc(c->vips, (c->nvips + 1) * sizeof(*v));
	if (v == NULL)
		return NULL;
	c->vips = v;
	v = &c->vips[c->nvips++];
	sp_conf_vip_defaults(v);
	memcpy(v->addr, addr, 16);
	vip_index(c);
	return v;
}

/*
 * The arrays' contents, then every other byte (the vips were zeroed,
 * padding included, by sp_conf_vip_defaults(); memcpy() copies padding
 * as it is, so the copies differ only where the pointers were).
 */
static bool
vip_equal(const struct sp_conf_vip *a, const struct sp_conf_vip *b)
{
	struct sp_conf_vip x, y;

	if (a->nports != b->nports || a->nallow != b->nallow ||
	    a->nservers != b->nservers ||
	    (a->nports > 0 && memcmp(a->ports, b->ports,
	    a->nports * sizeof(*a->ports)) != 0) ||
	    (a->nallow > 0 && memcmp(a->allow, b->allow,
	    a->nallow * sizeof(*a->allow)) != 0) ||
	    (a->nservers > 0 && memcmp(a->servers, b->servers,
	    a->nservers * sizeof(*a->servers)) != 0))
		return false;
	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	x.ports = y.ports = NULL;
	x.allow = y.allow = NULL;
	x.servers = y.servers = NULL;
	/* Where it is written is not what it says. */
	x.line = y.line = 0;
	x.server_lines = y.server_lines = NULL;
	return memcmp(&x, &y, sizeof(x)) == 0;
}

bool
sp_conf_vips_equal(const struct sp_conf *a, const struct sp_conf *b)
{
	unsigned i;

	if (a->nvips != b->nvips)
		return false;
	for (i = 0; i < a->nvips; i++)
		if (!vip_equal(&a->vips[i], &b->vips[i]))
			return false;
	return true;
}

/*
 * One server line, for sp_conf_warnings(): its address, its vip and
 * its place there.
 */
struct server_ref {
	uint8_t addr[16];
	unsigned vip;		/* index in conf->vips */
	unsigned server;	/* index in that vip's servers */
};

/* By address, then in file order. */
static int
server_ref_cmp(const void *a, const void *b)
{
	const struct server_ref *x = a, *y = b;
	int d = memcmp(x->addr, y->addr, 16);

	if (d != 0)
		return d;
	if (x->vip != y->vip)
		return x->vip < y->vip ? -1 : 1;
	return x->server < y->server ? -1 : x->server > y->server;
}

/*
 * The ports vips a and b both serve: how many (UINT_MAX: every port,
 * neither has a "ports" line), the first of them in *port.
 */
static unsigned
ports_shared(const struct sp_conf_vip *a, const struct sp_conf_vip *b,
    uint16_t *port)
{
	const struct sp_conf_vip *listed = a->nports > 0 ? a : b;
	const struct sp_conf_vip *other = listed == a ? b : a;
	unsigned i, n = 0;

	if (a->nports == 0 && b->nports == 0)
		return UINT_MAX;
	for (i = 0; i < listed->nports; i++)
		if (sp_conf_vip_has_port(other, listed->ports[i]) &&
		    n++ == 0)
			*port = listed->ports[i];
	return n;
}

unsigned
sp_conf_warnings(const struct sp_conf *c, const char *file,
    sp_conf_err_fn warn, void *arg)
{
	char msg[512], a[INET6_ADDRSTRLEN], v1[INET6_ADDRSTRLEN],
	    v2[INET6_ADDRSTRLEN], on[48];
	struct server_ref *r;
	size_t n = 0, i, j, run;
	unsigned v, s, shared, nwarn = 0;
	uint16_t port = 0;

	for (v = 0; v < c->nvips; v++)
		n += c->vips[v].nservers;
	if (n < 2 || (r = malloc(n * sizeof(*r))) == NULL)
		return 0;
	n = 0;
	for (v = 0; v < c->nvips; v++)
		for (s = 0; s < c->vips[v].nservers; s++) {
			memcpy(r[n].addr, c->vips[v].servers[s].addr, 16);
			r[n].vip = v;
			r[n++].server = s;
		}
	qsort(r, n, sizeof(*r), server_ref_cmp);
	/* In each run of one address, each line against the earlier
	 * ones (a vip lists an address once: other vips). */
	for (run = 0; run < n; run = i) {
		for (i = run + 1; i < n &&
		    memcmp(r[i].addr, r[run].addr, 16) == 0; i++) {
			const struct sp_conf_vip *later = &c->vips[r[i].vip];

			for (j = run; j < i; j++) {
				const struct sp_conf_vip *first =
				    &c->vips[r[j].vip];

				shared = ports_shared(first, later, &port);
				if (shared == 0)
					continue;
				if (shared == UINT_MAX)
					snprintf(on, sizeof(on), "every port");
				else if (shared == 1)
					snprintf(on, sizeof(on), "port %u",
					    port);
				else
					snprintf(on, sizeof(on), "port %u "
					    "(and %u more)", port,
					    shared - 1);
				inet_ntop(AF_INET6, r[i].addr, a, sizeof(a));
				inet_ntop(AF_INET6, first->addr, v1,
				    sizeof(v1));
				inet_ntop(AF_INET6, later->addr, v2,
				    sizeof(v2));
				snprintf(msg, sizeof(msg), "server %s is in "
				    "vip %s (line %u) and vip %s, both on %s: "
				    "a client's connections to the two from "
				    "one local port would be one 4-tuple on "
				    "that server; give it one address per vip "
				    "(lbsp(7))", a, v1, first->server_lines ?
				    first->server_lines[r[j].server] :
				    first->line, v2, on);
				if (warn != NULL)
					warn(arg, file, later->server_lines ?
					    later->server_lines[r[i].server] :
					    later->line, msg);
				nwarn++;
				break;	/* once per server line */
			}
		}
	}
	free(r);
	return nwarn;
}

/* ------------------------------------------------------- accessors */

size_t
sp_conf_size(const struct sp_conf *c)
{
	size_t n = sizeof(*c) + c->nvips * sizeof(*c->vips);
	unsigned i;

	n += c->nsorted * sizeof(*c->vip_sorted);
	for (i = 0; i < c->nvips; i++)
		n += c->vips[i].nports * sizeof(*c->vips[i].ports) +
		    c->vips[i].nallow * sizeof(*c->vips[i].allow) +
		    c->vips[i].nservers * sizeof(*c->vips[i].servers) +
		    (c->vips[i].server_lines != NULL ?
		    c->vips[i].nservers * sizeof(unsigned) : 0);
	return n;
}

unsigned
sp_conf_roles(const struct sp_conf *c)
{
	return c->roles;
}

uint16_t
sp_conf_queue_first(const struct sp_conf *c)
{
	return c->queue_first;
}

uint16_t
sp_conf_queue_count(const struct sp_conf *c)
{
	return c->queue_count;
}

uint8_t
sp_conf_option_type(const struct sp_conf *c)
{
	return c->option_type;
}

enum sp_conf_identity
sp_conf_identity(const struct sp_conf *c)
{
	return c->identity;
}

const uint8_t *
sp_conf_identity_addr(const struct sp_conf *c)
{
	return c->identity == SP_CONF_IDENTITY_LITERAL ? c->identity_addr :
	    NULL;
}

const uint8_t *
sp_conf_server_address(const struct sp_conf *c)
{
	return c->has_server_address ? c->server_address : NULL;
}

const uint8_t *
sp_conf_hash_key(const struct sp_conf *c)
{
	return c->has_hash_key ? c->hash_key : NULL;
}

unsigned
sp_conf_vip_count(const struct sp_conf *c)
{
	return c->nvips;
}

const struct sp_conf_vip *
sp_conf_vip_at(const struct sp_conf *c, unsigned i)
{
	return i < c->nvips ? &c->vips[i] : NULL;
}

const uint8_t *
sp_conf_vip_addr(const struct sp_conf_vip *vip)
{
	return vip->addr;
}

enum sp_conf_scheduler
sp_conf_vip_scheduler(const struct sp_conf_vip *vip)
{
	return vip->scheduler;
}

const struct sp_conf_check *
sp_conf_vip_check(const struct sp_conf_vip *vip)
{
	return &vip->check;
}

unsigned
sp_conf_vip_port_count(const struct sp_conf_vip *vip)
{
	return vip->nports;
}

uint16_t
sp_conf_vip_port_at(const struct sp_conf_vip *vip, unsigned i)
{
	return i < vip->nports ? vip->ports[i] : 0;
}

bool
sp_conf_vip_has_port(const struct sp_conf_vip *vip, uint16_t port)
{
	unsigned i;

	if (vip->nports == 0)
		return true;
	for (i = 0; i < vip->nports; i++)
		if (vip->ports[i] == port)
			return true;
	return false;
}

unsigned
sp_conf_vip_server_count(const struct sp_conf_vip *vip)
{
	return vip->nservers;
}

const struct sp_conf_server *
sp_conf_vip_server_at(const struct sp_conf_vip *vip, unsigned i)
{
	return i < vip->nservers ? &vip->servers[i] : NULL;
}

const uint8_t *
sp_conf_server_addr(const struct sp_conf_server *srv)
{
	return srv->addr;
}

const uint8_t *
sp_conf_server_backup(const struct sp_conf_server *srv)
{
	return srv->has_backup ? srv->backup : NULL;
}

uint16_t
sp_conf_server_weight(const struct sp_conf_server *srv)
{
	return srv->weight;
}

uint16_t
sp_conf_server_cost(const struct sp_conf_server *srv)
{
	return srv->cost;
}

bool
sp_conf_server_drain(const struct sp_conf_server *srv)
{
	return srv->drain;
}
