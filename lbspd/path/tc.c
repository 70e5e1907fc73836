/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tc.c -- see tc.h.  The programs are bpf/client.bpf.c and
 * bpf/server.bpf.c, embedded by "bpftool gen skeleton".
 *
 * Attaching: a tcx link (BPF_LINK_CREATE with BPF_TCX_INGRESS /
 * BPF_TCX_EGRESS, kernels 6.6 and later) pinned next to the maps; on
 * kernels that refuse it, a cls_bpf filter on the clsact qdisc (Debian
 * 12's 6.1), which stays attached until removed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <sp/dopt.h>
#include <sp/tcp.h>

#include "system/log.h"
#include "control/print.h"
#include "path/links.h"
#include "path/tc.h"

/* Generated code (bpftool gen skeleton) casts its embedded object's
 * const away; that is bpftool's idiom, not ours. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"
#include "client.skel.h"
#include "server.skel.h"
#pragma GCC diagnostic pop

/* Not in the uapi headers of libbpf 1.1 / Linux 6.1. */
#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC	0xcafe4a11
#endif
#define TC_TCX_INGRESS	46	/* enum bpf_attach_type, Linux 6.6 */
#define TC_TCX_EGRESS	47

#define TC_FALLBACK_SCAN_NS 200000000u	/* tc_fast_tick(): 5 a second */
#define TC_MAX_LINKS	128	/* interfaces x roles x directions */
#define TC_CLSACT_HANDLE 0x4c53	/* our cls_bpf filters: "LS" */
#define TC_CLSACT_PRIO	0x4c	/* before other filters of the hook */
#define TC_PROBE_FLOWS	64	/* the start-up probe's flow maps */

_Static_assert(LBSP_TC_MAX_VIPS == SP_CONF_MAX_VIPS,
    "the client programs' vip map holds every vip lbsp.conf may list");

/*
 * The kernel counters' names: lbspd's own where a kernel counter is one
 * of its counters or pass reasons (bpf/lbsp_tc.h), from the lists of
 * lbspd/lbspd.h that control/names.c prints too.
 */
static const char *const lbspd_c_names[LBSPD_C__COUNT] = {
#define TC_NAME(id, name) [LBSPD_C_##id] = name,
	LBSPD_COUNTERS(TC_NAME)
#undef TC_NAME
};
static const char *const lbspd_p_names[LBSPD_P__COUNT] = {
#define TC_NAME(id, name) [LBSPD_P_##id] = name,
	LBSPD_PASSES(TC_NAME)
#undef TC_NAME
};

static const struct {
	char kind;		/* 'c' counter, 'p' pass reason, 'k' own */
	unsigned idx;		/* 'c': LBSPD_C_*, 'p': LBSPD_P_* */
	const char *own;	/* 'k' */
} tc_ctrs[LBSP_TC_C__COUNT] = {
#define TC_C(id) [LBSP_TC_C_##id] = { 'c', LBSPD_C_##id, NULL },
#define TC_P(id) [LBSP_TC_C_##id] = { 'p', LBSPD_P_##id, NULL },
#define TC_K(id, name) [LBSP_TC_C_##id] = { 'k', 0, name },
	LBSP_TC_COUNTERS(TC_C, TC_P, TC_K)
#undef TC_C
#undef TC_P
#undef TC_K
};

const char *
tc_counter_name(unsigned c)
{
	if (c >= LBSP_TC_C__COUNT)
		return "unknown";
	switch (tc_ctrs[c].kind) {
	case 'c':
		return lbspd_c_names[tc_ctrs[c].idx];
	case 'p':
		return lbspd_p_names[tc_ctrs[c].idx];
	}
	return tc_ctrs[c].own;
}

const char *const tc_role_names[TC__ROLES] = { "client", "server" };

/* One attachment of one program. */
struct tc_link {
	enum tc_role role;
	bool ingress;
	int ifindex;
	int fd;			/* tcx link, or -1 for clsact */
	char pin[160];		/* tcx: its pin */
};

struct tc_state {
	struct tc_obj obj[TC__ROLES];
	bool loaded[TC__ROLES];
	struct tc_link links[TC_MAX_LINKS];
	unsigned nlinks;
	/* The pins' directory, reached through descriptors opened while
	 * root: bpffs as systemd mounts it (mode 0700, or 1700) lets only
	 * root through /sys/fs/bpf, so the daemon, once it is its user,
	 * names pins through its own descriptors, never by that path. */
	char pindir[96];	/* "/proc/self/fd/N": the directory */
	char pinname[96];	/* its real name, for the log */
	int pindir_fd;		/* O_PATH: the directory, or -1 */
	int pinroot_fd;		/* O_PATH: TC_PIN_ROOT, or -1 */
	uint64_t fallbacks_seen;
	uint64_t redirected_seen;	/* the kernel's redirected counter */
	uint64_t redirect_ns;		/* when it last moved */
	uint64_t fallback_scan_ns;	/* the last fast fallback scan */
	bool started;		/* the first attach_all() ran */
	bool full_logged;
	const char *attach;	/* "tcx" or "clsact": how hooks attach */
	uint64_t hooks_added;	/* attached after start (new interfaces) */
	uint64_t hooks_gone;	/* forgotten with their interface */
	uint64_t retired_counted[TC__ROLES];	/* of obj[].retired */
};

/* ------------------------------------------------------------ libbpf */

/* libbpf's warnings (with the verifier's log of a program it could not
 * load) go to lbspd's log, line by line. */
static int
tc_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[1024], *line, *save = NULL;

	if (level != LIBBPF_WARN)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		log_warnx("libbpf: %s", line);
	return 0;
}

static struct bpf_map *
map_of(struct tc_obj *o, int which)
{
	struct lbsp_client *c = o->skel;
	struct lbsp_server *s = o->skel;

	if (o->role == TC_CLIENT) {
		struct bpf_map *m[] = { c->maps.tc_conf, c->maps.tc_counters,
		    c->maps.tc_flows, c->maps.tc_flows_est, c->maps.tc_sources,
		    c->maps.tc_vips, c->maps.tc_vip_ports, c->maps.tc_ports,
		    c->maps.tc_cache, c->maps.tc_blackholes };

		return which < 10 ? m[which] : NULL;
	}
	{
		struct bpf_map *m[] = { s->maps.tc_conf, s->maps.tc_counters,
		    s->maps.tc_flows, s->maps.tc_flows_est, s->maps.tc_sources };

		return which < 5 ? m[which] : NULL;
	}
}

/*
 * The size of map which of o (0: its own): for max-flows, new flows a
 * quarter, established ones the rest (the NFQUEUE path's table ranks
 * them so: bpf/lbsp_common.h), a row per flow for their sources and the
 * client's index of flows by ports; the client's cache max-cache.
 */
static uint32_t
map_size(const struct tc_obj *o, int which)
{
	uint32_t fresh = o->max_flows / 4 != 0 ? o->max_flows / 4 : 1;

	switch (which) {
	case 2:
		return fresh;
	case 3:
		return o->max_flows > fresh ? o->max_flows - fresh : 1;
	case 4:
		return o->max_flows;
	case 7:
		return o->role == TC_CLIENT ? o->max_flows : 0;
	case 8:
		return o->role == TC_CLIENT ? o->max_cache : 0;
	}
	return 0;
}

static void
unpin_maps(struct tc_obj *o)
{
	struct bpf_map *m;
	int i;

	for (i = 0; (m = map_of(o, i)) != NULL; i++)
		if (bpf_map__pin_path(m) != NULL)
			(void)bpf_map__unpin(m, NULL);
}

/* Kernel counter id of o, summed over the CPUs (0 when unreadable). */
static uint64_t
counter_sum(const struct tc_obj *o, uint32_t id)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v, sum = 0;
	int c;

	if (ncpu <= 0 || (v = calloc((size_t)ncpu, sizeof(*v))) == NULL)
		return 0;
	if (bpf_map_lookup_elem(o->counters_fd, &id, v) == 0)
		for (c = 0; c < ncpu; c++)
			sum += v[c];
	free(v);
	return sum;
}

/*
 * Every row of hash map fd (keys ksize bytes, values vsize) to fn, each
 * once, until fn returns non-zero; returns the rows given.  The
 * kernel's batch lookup, which walks the map bucket by bucket: a walk
 * by get_next_key starts again from the first bucket when its last key
 * has gone, as keys do from a map the kernel retires flows from, and
 * then meets rows twice and may never end.  At most max_calls calls
 * (each moves on by one bucket at least).
 */
static uint64_t
map_walk(int fd, size_t ksize, size_t vsize, uint32_t max_calls,
    int (*fn)(const void *key, const void *val, void *arg), void *arg)
{
	uint64_t cursor = 0, next = 0, given = 0;
	uint32_t chunk = 256, n, i, calls;
	uint8_t *keys = NULL, *vals = NULL;
	bool first = true, last = false;
	int e;

	for (calls = 0; calls <= max_calls && !last; calls++) {
		if (keys == NULL) {
			keys = calloc(chunk, ksize);
			vals = calloc(chunk, vsize);
			if (keys == NULL || vals == NULL)
				break;
		}
		n = chunk;
		e = bpf_map_lookup_batch(fd, first ? NULL : &cursor, &next,
		    keys, vals, &n, NULL) == 0 ? 0 : errno;
		if (e == ENOSPC && n == 0 && chunk < 8192) {
			/* A bucket holds more than a chunk: a larger one. */
			free(keys);
			free(vals);
			keys = vals = NULL;
			chunk *= 2;
			continue;
		}
		if (e != 0 && e != ENOENT)
			break;
		last = e == ENOENT;
		for (i = 0; i < n; i++) {
			given++;
			if (fn(keys + (size_t)i * ksize, vals + (size_t)i * vsize,
			    arg) != 0) {
				last = true;
				break;
			}
		}
		cursor = next;
		first = false;
	}
	free(keys);
	free(vals);
	return given;
}

/* What flows_walk() gives: a flow, its row and the map it is in. */
typedef int (*flow_fn)(int fd, const struct lbsp_tc_flow_key *key,
    const struct lbsp_tc_flow *f, void *arg);

struct flow_walk {
	int fd;
	flow_fn fn;
	void *arg;
};

static int
flow_given(const void *k, const void *v, void *arg)
{
	struct flow_walk *w = arg;

	return w->fn(w->fd, k, v, w->arg);
}

/*
 * The flows of o, new then established, to fn (map_walk()).  A flow
 * that moves between the maps during the walk may be met twice, never
 * missed: what counts flows errs high (and is held to the maps' size),
 * so that the retirements derived from it never err high.
 */
static uint64_t
flows_walk(const struct tc_obj *o, flow_fn fn, void *arg)
{
	struct flow_walk w = { .fn = fn, .arg = arg };
	int fds[2] = { o->flows_fd, o->flows_est_fd };
	uint64_t n = 0;
	int i;

	for (i = 0; i < 2; i++) {
		w.fd = fds[i];
		n += map_walk(fds[i], sizeof(struct lbsp_tc_flow_key),
		    sizeof(struct lbsp_tc_flow), o->max_flows, flow_given, &w);
	}
	return n;
}

static int
row_counted(int fd, const struct lbsp_tc_flow_key *k,
    const struct lbsp_tc_flow *f, void *arg)
{
	(void)fd;
	(void)k;
	(void)f;
	(void)arg;
	return 0;
}

/* The rows of o's flow maps, held to their size (a walk during a
 * flood may meet a row moved from one map to the other twice). */
static uint64_t
flows_count(const struct tc_obj *o)
{
	uint64_t n = flows_walk(o, row_counted, NULL);

	return n < o->max_flows ? n : o->max_flows;
}

/* Flows that maps taken over from an earlier daemon created and no
 * longer hold went before this one: o->retired counts from here. */
static void
retired_baseline(struct tc_obj *o)
{
	uint64_t created = counter_sum(o, LBSP_TC_C_FLOWS_CREATED);

	o->flows = flows_count(o);
	o->gone_before = created > o->flows ? created - o->flows : 0;
	o->expired = 0;
	o->retired = 0;
}

int
tc_obj_open(struct tc_obj *o, enum tc_role role, const char *pindir,
    uint32_t max_flows, uint32_t max_cache, char *err, size_t errlen)
{
	struct bpf_map *m;
	char path[256];
	int i, rc, attempt;

	libbpf_set_print(tc_libbpf_print);
	memset(o, 0, sizeof(*o));
	o->role = role;
	o->max_flows = max_flows != 0 ? max_flows : LBSP_TC_MAX_FLOWS;
	o->max_cache = max_cache != 0 ? max_cache : LBSP_TC_MAX_CACHE;
	/* Twice at most: pinned maps of an older layout or of another
	 * size are removed and the load tried again with fresh ones. */
	for (attempt = 0; attempt < 2; attempt++) {
		if (role == TC_CLIENT)
			o->skel = lbsp_client__open();
		else
			o->skel = lbsp_server__open();
		if (o->skel == NULL) {
			snprintf(err, errlen, "cannot open the %s programs: %s",
			    tc_role_names[role], strerror(errno));
			return -1;
		}
		for (i = 0; (m = map_of(o, i)) != NULL; i++) {
			if (map_size(o, i) != 0 &&
			    bpf_map__set_max_entries(m, map_size(o, i)) != 0) {
				snprintf(err, errlen, "cannot size the %s "
				    "maps", tc_role_names[role]);
				tc_obj_close(o);
				return -1;
			}
			if (pindir == NULL)
				continue;
			snprintf(path, sizeof(path), "%s/%s_%s", pindir,
			    tc_role_names[role], bpf_map__name(m));
			(void)bpf_map__set_pin_path(m, path);
		}
		rc = role == TC_CLIENT ? lbsp_client__load(o->skel) :
		    lbsp_server__load(o->skel);
		if (rc == 0)
			break;
		snprintf(err, errlen, "cannot load the %s programs (verifier "
		    "log above): %s", tc_role_names[role], strerror(-rc));
		if (pindir != NULL && attempt == 0) {
			log_warnx("tc: loading the %s programs with the maps "
			    "pinned in %s failed (%s): again with fresh maps "
			    "(pins of another layout or max-flows go)",
			    tc_role_names[role], pindir, strerror(-rc));
			unpin_maps(o);
		}
		if (role == TC_CLIENT)
			lbsp_client__destroy(o->skel);
		else
			lbsp_server__destroy(o->skel);
		o->skel = NULL;
		if (pindir == NULL)
			return -1;
	}
	if (o->skel == NULL)
		return -1;
	if (role == TC_CLIENT) {
		struct lbsp_client *c = o->skel;

		o->egress_fd = bpf_program__fd(c->progs.lbsp_client_egress);
		o->ingress_fd = bpf_program__fd(c->progs.lbsp_client_ingress);
	} else {
		struct lbsp_server *s = o->skel;

		o->egress_fd = bpf_program__fd(s->progs.lbsp_server_egress);
		o->ingress_fd = bpf_program__fd(s->progs.lbsp_server_ingress);
	}
	o->conf_fd = bpf_map__fd(map_of(o, 0));
	o->counters_fd = bpf_map__fd(map_of(o, 1));
	o->flows_fd = bpf_map__fd(map_of(o, 2));
	o->flows_est_fd = bpf_map__fd(map_of(o, 3));
	o->sources_fd = bpf_map__fd(map_of(o, 4));
	o->vips_fd = o->vip_ports_fd = o->ports_fd = o->cache_fd = -1;
	o->blackholes_fd = -1;
	if (role == TC_CLIENT) {
		o->vips_fd = bpf_map__fd(map_of(o, 5));
		o->vip_ports_fd = bpf_map__fd(map_of(o, 6));
		o->ports_fd = bpf_map__fd(map_of(o, 7));
		o->cache_fd = bpf_map__fd(map_of(o, 8));
		o->blackholes_fd = bpf_map__fd(map_of(o, 9));
	}
	retired_baseline(o);
	return 0;
}

void
tc_obj_close(struct tc_obj *o)
{
	if (o->skel == NULL)
		return;
	if (o->role == TC_CLIENT)
		lbsp_client__destroy(o->skel);
	else
		lbsp_server__destroy(o->skel);
	o->skel = NULL;
}

/* The vip of conf at addr when the client programs know it (the
 * balancer's vips, with servers, are not the client's). */
static const struct sp_conf_vip *
client_vip(const struct sp_conf *conf, const uint8_t addr[16])
{
	const struct sp_conf_vip *v = sp_conf_vip_find(conf, addr);

	if (v == NULL ||
	    (v->nservers != 0 && (conf->roles & SP_CONF_ROLE_BALANCER)))
		return NULL;
	return v;
}

/* The keys of a map, copied by map_walk(). */
struct keys {
	uint8_t *k;
	size_t size, n, cap;
};

static int
key_kept(const void *k, const void *v, void *arg)
{
	struct keys *ks = arg;

	(void)v;
	if (ks->n == ks->cap)
		return 1;	/* never more than the map holds */
	memcpy(ks->k + ks->n * ks->size, k, ks->size);
	ks->n++;
	return 0;
}

/* Every key of map fd (at most max of them); false out of memory. */
static bool
keys_read(int fd, size_t ksize, size_t vsize, size_t max, struct keys *ks)
{
	memset(ks, 0, sizeof(*ks));
	ks->size = ksize;
	ks->cap = max;
	if ((ks->k = calloc(max != 0 ? max : 1, ksize)) == NULL)
		return false;
	(void)map_walk(fd, ksize, vsize, (uint32_t)max, key_kept, ks);
	return true;
}

static int
vip_port_cmp(const void *a, const void *b)
{
	const struct lbsp_tc_vip_port *x = a, *y = b;
	int c = memcmp(x->addr, y->addr, 16);

	return c != 0 ? c : (int)x->port - (int)y->port;
}

/* Remove the rows of vip-keyed map fd (values vsize bytes) whose vip
 * keep() does not find in conf. */
static void
vips_prune(int fd, size_t vsize, const struct sp_conf *conf,
    const struct sp_conf_vip *(*keep)(const struct sp_conf *,
    const uint8_t *))
{
	struct keys ks;
	size_t i;

	if (!keys_read(fd, sizeof(struct lbsp_tc_vip_key), vsize,
	    LBSP_TC_MAX_VIPS, &ks))
		return;
	for (i = 0; i < ks.n; i++)
		if (keep(conf, ks.k + i * ks.size) == NULL)
			(void)bpf_map_delete_elem(fd, ks.k + i * ks.size);
	free(ks.k);
}

/*
 * After tc_obj_configure() wrote conf's vips and ports (want[0..nwant),
 * sorted), remove those it no longer lists (and the blackhole marks of
 * vips it dropped): the maps are changed in place, so that a reload
 * never leaves a packet without its vip.
 */
static void
stale_remove(struct tc_obj *o, const struct sp_conf *conf,
    const struct lbsp_tc_vip_port *want, size_t nwant)
{
	const struct lbsp_tc_vip_port *vp;
	struct keys ks;
	size_t i;

	vips_prune(o->vips_fd, sizeof(struct lbsp_tc_vip), conf, client_vip);
	vips_prune(o->blackholes_fd, sizeof(struct lbsp_tc_blackhole), conf,
	    sp_conf_vip_find);
	if (!keys_read(o->vip_ports_fd, sizeof(*vp), sizeof(uint8_t),
	    LBSP_TC_MAX_PORTS, &ks))
		return;
	vp = (const struct lbsp_tc_vip_port *)(void *)ks.k;
	for (i = 0; i < ks.n; i++)
		if (bsearch(&vp[i], want, nwant, sizeof(*want),
		    vip_port_cmp) == NULL)
			(void)bpf_map_delete_elem(o->vip_ports_fd, &vp[i]);
	free(ks.k);
}

/* The (vip, port) rows conf gives the client programs. */
static size_t
client_ports(const struct sp_conf *conf)
{
	size_t ports = 0;
	unsigned i;

	for (i = 0; i < conf->nvips; i++)
		if (client_vip(conf, conf->vips[i].addr) != NULL)
			ports += conf->vips[i].nports;
	return ports;
}

bool
tc_conf_fits(const struct sp_conf *conf, char *why, size_t len)
{
	size_t ports = client_ports(conf);

	if (ports <= LBSP_TC_MAX_PORTS)
		return true;
	snprintf(why, len, "the client's vips list %zu ports; the tc "
	    "programs' map holds %u", ports, (unsigned)LBSP_TC_MAX_PORTS);
	return false;
}

/* tc_sources' rows, each removed (no limit any more: the programs
 * keep none). */
static int
source_removed(const void *k, const void *v, void *arg)
{
	(void)v;
	(void)bpf_map_delete_elem(*(const int *)arg, k);
	return 0;
}

static void
sources_clear(struct tc_obj *o)
{
	(void)map_walk(o->sources_fd, sizeof(struct lbsp_tc_source_key),
	    sizeof(uint32_t), o->max_flows, source_removed, &o->sources_fd);
}

int
tc_obj_configure(struct tc_obj *o, const struct sp_conf *conf,
    const uint8_t identity[16])
{
	struct lbsp_tc_vip_port *want;
	struct lbsp_tc_conf c;
	uint32_t zero = 0;
	unsigned i, k;
	size_t nwant = 0;
	char why[128];
	int rc = -1;

	/* Nothing is changed for a configuration the maps cannot hold. */
	if (o->role == TC_CLIENT && !tc_conf_fits(conf, why, sizeof(why))) {
		log_warnx("tc: %s", why);
		errno = E2BIG;
		return -1;
	}
	memset(&c, 0, sizeof(c));
	c.option_type = conf->option_type;
	c.mss_clamp = conf->mss_clamp;
	c.redirect = conf->redirect;
	c.identity_fixed = conf->identity != SP_CONF_IDENTITY_ADDRESS;
	if (c.identity_fixed)
		memcpy(c.identity, identity, 16);
	c.has_server_address = conf->has_server_address;
	memcpy(c.server_address, conf->server_address, 16);
	c.mss = sp_tcp_mss_for_mtu(conf->mtu);
	c.mtu = conf->mtu;
	c.cache_ttl_ns = (uint64_t)conf->cache_ttl_ms * 1000000;
	c.fallback_ns = (uint64_t)conf->fallback_timeout_ms * 1000000;
	c.blackhole_min_ms = conf->blackhole_min_ms;
	c.blackhole_max_ms = conf->blackhole_max_ms;
	c.per_source = conf->max_flows_per_source;
	if (bpf_map_update_elem(o->conf_fd, &zero, &c, BPF_ANY) != 0)
		return -1;
	if (c.per_source == 0)
		sources_clear(o);
	if (o->role != TC_CLIENT)
		return 0;

	/* The (vip, port) rows written: what stale_remove() keeps. */
	want = calloc(client_ports(conf) + 1, sizeof(*want));
	if (want == NULL)
		return -1;
	for (i = 0; i < conf->nvips; i++) {
		const struct sp_conf_vip *v = &conf->vips[i];
		struct lbsp_tc_vip_key vk;
		struct lbsp_tc_vip vv;
		uint8_t one = 1;

		if (client_vip(conf, v->addr) == NULL)
			continue;
		memcpy(vk.addr, v->addr, 16);
		memset(&vv, 0, sizeof(vv));
		vv.index = i;
		vv.nports = v->nports;
		vv.nallow = v->nallow < LBSP_TC_MAX_PREFIXES ? v->nallow :
		    LBSP_TC_MAX_PREFIXES;
		for (k = 0; k < vv.nallow; k++) {
			memcpy(vv.allow[k].addr, v->allow[k].addr, 16);
			vv.allow[k].len = v->allow[k].len;
		}
		if (bpf_map_update_elem(o->vips_fd, &vk, &vv, BPF_ANY) != 0)
			goto out;
		for (k = 0; k < v->nports; k++) {
			struct lbsp_tc_vip_port *vp = &want[nwant];

			memcpy(vp->addr, v->addr, 16);
			vp->port = v->ports[k];
			if (bpf_map_update_elem(o->vip_ports_fd, vp, &one,
			    BPF_ANY) != 0)
				goto out;
			nwant++;
		}
	}
	qsort(want, nwant, sizeof(*want), vip_port_cmp);
	stale_remove(o, conf, want, nwant);
	rc = 0;
out:
	free(want);
	return rc;
}

int
tc_obj_counters(const struct tc_obj *o, uint64_t out[LBSP_TC_C__COUNT])
{
	uint32_t i;

	memset(out, 0, sizeof(uint64_t) * LBSP_TC_C__COUNT);
	if (libbpf_num_possible_cpus() <= 0)
		return -1;
	for (i = 0; i < LBSP_TC_C__COUNT; i++)
		out[i] = counter_sum(o, i);
	return 0;
}

/* The cache rows' reasons are lbspd's (lbspctl cache names them). */
_Static_assert(LBSP_TC_SUSPECT_SYN_RETRANSMIT == LBSPD_SUSPECT_SYN_RETRANSMIT &&
    LBSP_TC_SUSPECT_TIMER == LBSPD_SUSPECT_TIMER &&
    LBSP_TC_SUSPECT_ICMP == LBSPD_SUSPECT_ICMP &&
    LBSP_TC_SUSPECT_NO_OPTION == LBSPD_SUSPECT_NO_OPTION,
    "bpf/lbsp_tc.h's suspect reasons are enum lbspd_suspect's");

/* How long ago row e was learned or confirmed, at ns. */
static uint64_t
cache_age_ns(const struct lbsp_tc_cache *e, uint64_t ns)
{
	return ns > e->updated_ns ? ns - e->updated_ns : 0;
}

/* What cache_suspect_servers() marks, and with what. */
struct cache_suspect {
	int fd;
	uint8_t (*servers)[16];
	size_t nservers;
	uint8_t reason;
	uint64_t now_ns;
	unsigned marked;
};

/* Whether server is one of servers[0..n). */
static bool
server_in(uint8_t (*servers)[16], size_t n, const uint8_t server[16])
{
	size_t i;

	for (i = 0; i < n; i++)
		if (memcmp(servers[i], server, 16) == 0)
			return true;
	return false;
}

static int
cache_row_suspect(const void *k, const void *v, void *arg)
{
	const struct lbsp_tc_cache *seen = v;
	struct cache_suspect *cs = arg;
	struct lbsp_tc_cache e;

	if (seen->state != LBSP_TC_CACHE_OK ||
	    !server_in(cs->servers, cs->nservers, seen->server))
		return 0;
	/* The walk's copy may be old: the row as it is now, written back
	 * whole, so that nothing the programs wrote since is undone. */
	if (bpf_map_lookup_elem(cs->fd, k, &e) != 0 ||
	    e.state != LBSP_TC_CACHE_OK ||
	    !server_in(cs->servers, cs->nservers, e.server))
		return 0;
	e.state = LBSP_TC_CACHE_SUSPECT;
	e.reason = cs->reason;
	e.suspect_ns = cs->now_ns;
	if (bpf_map_update_elem(cs->fd, k, &e, BPF_EXIST) == 0)
		cs->marked++;
	return 0;
}

/*
 * Every OK cache row of o naming one of servers[0..n) becomes suspect,
 * for reason (what the programs' client_fallback() does), in one walk
 * of the cache.  Returns the rows.
 */
static unsigned
cache_suspect_servers(struct tc_obj *o, uint8_t (*servers)[16], size_t n,
    uint8_t reason, uint64_t now_ns)
{
	struct cache_suspect cs = { .fd = o->cache_fd, .servers = servers,
	    .nservers = n, .reason = reason, .now_ns = now_ns };

	if (n != 0)
		(void)map_walk(o->cache_fd, sizeof(struct lbsp_tc_cache_key),
		    sizeof(struct lbsp_tc_cache), o->max_cache,
		    cache_row_suspect, &cs);
	return cs.marked;
}

/* One sweep of the client's flows for fallback (tc_obj_fallback()). */
struct fallback_scan {
	struct tc_obj *o;
	uint64_t now_ns, fallback_ns;
	unsigned fell;
	uint8_t (*servers)[16];	/* of the flows that fell back, once each */
	size_t nservers, cap;
};

/* Redirected by its SYN and unanswered for fallback-timeout. */
static bool
falls_back(const struct lbsp_tc_flow *f, const struct fallback_scan *sc)
{
	return (f->flags & (LBSP_TC_CF_REDIRECTED | LBSP_TC_CF_ANSWERED |
	    LBSP_TC_CF_FELL_BACK | LBSP_TC_CF_TIMED)) ==
	    (LBSP_TC_CF_REDIRECTED | LBSP_TC_CF_TIMED) &&
	    sc->now_ns >= f->created_ns &&
	    sc->now_ns - f->created_ns >= sc->fallback_ns;
}

static int
fallback_flow(int fd, const struct lbsp_tc_flow_key *k,
    const struct lbsp_tc_flow *v, void *arg)
{
	struct fallback_scan *sc = arg;
	struct lbsp_tc_flow f;

	/* The walk's copy may be old (an answer came since): the row as
	 * it is now, written back whole. */
	if (!falls_back(v, sc) || bpf_map_lookup_elem(fd, k, &f) != 0 ||
	    !falls_back(&f, sc))
		return 0;
	/* Its server becomes suspect in the cache after the walk, with
	 * the others' (one walk of the cache), or now when out of memory. */
	if (!server_in(sc->servers, sc->nservers, f.server)) {
		if (sc->nservers == sc->cap) {
			size_t cap = sc->cap != 0 ? sc->cap * 2 : 8;
			void *p = realloc(sc->servers, cap * 16);

			if (p != NULL) {
				sc->servers = p;
				sc->cap = cap;
			}
		}
		if (sc->nservers < sc->cap)
			memcpy(sc->servers[sc->nservers++], f.server, 16);
		else
			(void)cache_suspect_servers(sc->o, &f.server, 1,
			    LBSP_TC_SUSPECT_TIMER, sc->now_ns);
	}
	memset(f.server, 0, 16);
	f.flags = (f.flags & ~(uint32_t)LBSP_TC_CF_REDIRECTED) |
	    LBSP_TC_CF_FELL_BACK;
	if (bpf_map_update_elem(fd, k, &f, BPF_EXIST) == 0)
		sc->fell++;
	return 0;
}

unsigned
tc_obj_fallback(struct tc_obj *o, uint64_t now_ns, uint64_t fallback_ns)
{
	struct fallback_scan sc = { .o = o, .now_ns = now_ns,
	    .fallback_ns = fallback_ns };

	if (o->role != TC_CLIENT)
		return 0;
	(void)flows_walk(o, fallback_flow, &sc);
	(void)cache_suspect_servers(o, sc.servers, sc.nservers,
	    LBSP_TC_SUSPECT_TIMER, now_ns);
	free(sc.servers);
	return sc.fell;
}

enum sp_flow_state
tc_flow_state(const struct lbsp_tc_flow *f)
{
	if ((f->flags & LBSP_TC_F_RST) ||
	    (f->flags & (LBSP_TC_F_FIN_ORIG | LBSP_TC_F_FIN_REPLY)) ==
	    (LBSP_TC_F_FIN_ORIG | LBSP_TC_F_FIN_REPLY))
		return SP_FLOW_CLOSING;
	if (f->flags & LBSP_TC_F_ESTABLISHED)
		return SP_FLOW_ESTABLISHED;
	return SP_FLOW_NEW;
}

/* Idle limit of flow f, ns. */
static uint64_t
flow_timeout_ns(const struct lbsp_tc_flow_key *k, const struct lbsp_tc_flow *f,
    const struct sp_conf *conf)
{
	uint32_t ms;

	if (k->proto == 6) {
		switch (tc_flow_state(f)) {
		case SP_FLOW_CLOSING:
			ms = conf->timeout_linger_ms;
			break;
		case SP_FLOW_ESTABLISHED:
			ms = conf->timeout_tcp_established_ms;
			break;
		default:
			ms = conf->timeout_tcp_ms;
			break;
		}
	} else if (k->proto == 17) {
		ms = conf->timeout_udp_ms;
	} else {
		ms = conf->timeout_other_ms;
	}
	return (uint64_t)ms * 1000000;
}

/* A source address and the flows it holds. */
struct src_count {
	uint8_t addr[16];
	uint32_t n;
};

static const uint8_t zero16[16];

/* One sweep of tc_flows. */
struct sweep {
	struct tc_obj *o;
	const struct sp_conf *conf;
	uint64_t now_ns;
	struct {
		struct lbsp_tc_flow_key key;
		uint8_t server[16];	/* its server: its tc_ports row */
		int fd;		/* its map */
	} *dead;		/* to remove */
	unsigned ndead, max;
	uint64_t live;
	uint8_t (*src)[16];	/* sources of the flows that stay, or NULL */
	size_t nsrc;
};

static int
sweep_flow(int fd, const struct lbsp_tc_flow_key *k,
    const struct lbsp_tc_flow *f, void *arg)
{
	struct sweep *w = arg;

	w->live++;
	if (w->ndead < w->max && w->now_ns >= f->last_ns &&
	    w->now_ns - f->last_ns >= flow_timeout_ns(k, f, w->conf)) {
		w->dead[w->ndead].key = *k;
		memcpy(w->dead[w->ndead].server, f->server, 16);
		w->dead[w->ndead++].fd = fd;
		return 0;
	}
	if (w->src != NULL && w->nsrc < w->o->max_flows)
		memcpy(w->src[w->nsrc++], k->src, 16);
	return 0;
}

static int
addr_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

/* How many of the sorted sources src[0..n) are addr. */
static uint32_t
src_held(uint8_t (*src)[16], size_t n, const uint8_t addr[16])
{
	size_t lo = 0, hi = n, mid, first;
	uint32_t c = 0;

	while (lo < hi) {	/* the first not below addr */
		mid = lo + (hi - lo) / 2;
		if (memcmp(src[mid], addr, 16) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (first = lo; first < n && memcmp(src[first], addr, 16) == 0;
	    first++)
		c++;
	return c;
}

/* tc_sources as it is, into an array of at most max rows. */
struct sources_copy {
	struct src_count *out;
	size_t n, max;
};

static int
source_copied(const void *k, const void *v, void *arg)
{
	struct sources_copy *c = arg;

	if (c->n == c->max)
		return 1;
	memcpy(c->out[c->n].addr, k, 16);
	memcpy(&c->out[c->n].n, v, sizeof(uint32_t));
	c->n++;
	return 0;
}

static size_t
sources_read(const struct tc_obj *o, struct src_count *out, size_t max)
{
	struct sources_copy c = { .out = out, .max = max };

	(void)map_walk(o->sources_fd, sizeof(struct lbsp_tc_source_key),
	    sizeof(uint32_t), o->max_flows, source_copied, &c);
	return c.n;
}

/*
 * Set tc_sources right from the sweep: each source holds the flows of
 * it that stay (src, sorted).  The programs add to a source's row as
 * they create its flows; before[] is the map as it was when the sweep
 * began: a row that changed since is left for the next sweep (a flow
 * made during the sweep may be missing from src).  A source that holds
 * nothing loses its row.
 */
static void
sources_set(struct tc_obj *o, const struct src_count *before, size_t nb,
    uint8_t (*src)[16], size_t nsrc)
{
	struct lbsp_tc_source_key key;
	size_t i;
	uint32_t now, want;

	for (i = 0; i < nb; i++) {
		memcpy(key.addr, before[i].addr, 16);
		if (bpf_map_lookup_elem(o->sources_fd, &key, &now) != 0 ||
		    now != before[i].n)
			continue;
		want = src_held(src, nsrc, key.addr);
		if (want == now)
			continue;
		if (want == 0)
			(void)bpf_map_delete_elem(o->sources_fd, &key);
		else
			(void)bpf_map_update_elem(o->sources_fd, &key, &want,
			    BPF_EXIST);
	}
	/* Sources with flows and no row (the kernel retired it from a full
	 * map): the row, unless the programs made one since. */
	for (i = 0; i < nsrc; i += want) {
		want = src_held(src, nsrc, src[i]);
		memcpy(key.addr, src[i], 16);
		(void)bpf_map_update_elem(o->sources_fd, &key, &want,
		    BPF_NOEXIST);
	}
}

unsigned
tc_obj_expire(struct tc_obj *o, uint64_t now_ns, const struct sp_conf *conf,
    unsigned max)
{
	struct sweep w = { .o = o, .conf = conf, .now_ns = now_ns,
	    .max = max };
	struct src_count *before = NULL;
	size_t nb = 0;
	uint64_t created, gone;
	unsigned i, removed = 0;
	bool limit = conf->max_flows_per_source != 0;

	/* Read before the walk: a flow made during it, and seen by it, makes
	 * the retirements below look fewer, never more (the next sweep
	 * counts them). */
	created = counter_sum(o, LBSP_TC_C_FLOWS_CREATED);
	w.dead = calloc(max != 0 ? max : 1, sizeof(*w.dead));
	if (w.dead == NULL)
		return 0;
	if (limit) {
		before = calloc(o->max_flows, sizeof(*before));
		w.src = calloc(o->max_flows, sizeof(*w.src));
		if (before == NULL || w.src == NULL) {
			free(before);
			free(w.src);
			before = NULL;
			w.src = NULL;
			limit = false;
		} else {
			nb = sources_read(o, before, o->max_flows);
		}
	}
	/* Collect first, delete after the walk. */
	(void)flows_walk(o, sweep_flow, &w);
	for (i = 0; i < w.ndead; i++) {
		const struct lbsp_tc_flow_key *k = &w.dead[i].key;

		if (bpf_map_delete_elem(w.dead[i].fd, k) == 0)
			removed++;
		/* The row of its server (a server it fell back from keeps
		 * one, until the map needs its place). */
		if (o->role == TC_CLIENT &&
		    memcmp(w.dead[i].server, zero16, 16) != 0) {
			struct lbsp_tc_port_key pk;

			memset(&pk, 0, sizeof(pk));
			memcpy(pk.local, k->src, 16);
			memcpy(pk.remote, w.dead[i].server, 16);
			pk.lport = k->sport;
			pk.rport = k->dport;
			pk.proto = k->proto;
			(void)bpf_map_delete_elem(o->ports_fd, &pk);
		}
	}
	o->expired += removed;
	/* Rows retired from buckets the walk had passed while new ones
	 * went into buckets still ahead of it are met too: never more
	 * than the map holds. */
	o->flows = w.live > removed ? w.live - removed : 0;
	if (o->flows > o->max_flows)
		o->flows = o->max_flows;
	if (limit) {
		qsort(w.src, w.nsrc, sizeof(*w.src), addr_cmp);
		sources_set(o, before, nb, w.src, w.nsrc);
	}
	/* Made, less gone before us, less removed here, less still there:
	 * retired by the kernel. */
	gone = o->gone_before + o->expired + o->flows;
	if (created > gone && created - gone > o->retired)
		o->retired = created - gone;
	free(before);
	free(w.src);
	free(w.dead);
	return removed;
}

/* ------------------------------------------------------------ probe */

bool
tc_probe(char *detail, size_t len)
{
	static const uint8_t vip[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xf,
	    [14] = 1 };
	static const uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1,
	    [15] = 1 };
	struct sp_conf *conf;
	struct tc_obj c, s;
	uint8_t pkt[14 + 40 + 8 + 4], out[sizeof(pkt) + 64];
	struct sp_lbsp got;
	char err[160];
	bool ok = false;
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = pkt,
	    .data_size_in = sizeof(pkt), .data_out = out,
	    .data_size_out = sizeof(out), .repeat = 1);

	conf = sp_conf_new();
	if (conf == NULL || sp_conf_vip_add(conf, vip) == NULL) {
		snprintf(detail, len, "tc probe: out of memory");
		sp_conf_free(conf);
		return false;
	}
	conf->roles = SP_CONF_ROLE_CLIENT;
	if (tc_obj_open(&s, TC_SERVER, NULL, TC_PROBE_FLOWS, TC_PROBE_FLOWS,
	    err, sizeof(err)) == -1) {
		snprintf(detail, len, "tc probe: %s", err);
		sp_conf_free(conf);
		return false;
	}
	tc_obj_close(&s);
	if (tc_obj_open(&c, TC_CLIENT, NULL, TC_PROBE_FLOWS, TC_PROBE_FLOWS,
	    err, sizeof(err)) == -1) {
		snprintf(detail, len, "tc probe: %s", err);
		sp_conf_free(conf);
		return false;
	}
	if (tc_obj_configure(&c, conf, src) == -1) {
		snprintf(detail, len, "tc probe: maps: %s", strerror(errno));
		goto out;
	}
	/* Ethernet, IPv6 src -> vip, UDP 9 -> 9 with 4 bytes. */
	memset(pkt, 0, sizeof(pkt));
	pkt[12] = 0x86;
	pkt[13] = 0xdd;
	pkt[14] = 0x60;
	pkt[14 + 5] = 12;
	pkt[14 + 6] = 17;
	pkt[14 + 7] = 64;
	memcpy(&pkt[14 + 8], src, 16);
	memcpy(&pkt[14 + 24], vip, 16);
	pkt[54 + 1] = 9;
	pkt[54 + 3] = 9;
	pkt[54 + 5] = 12;
	memcpy(&pkt[62], "lbsp", 4);
	if (bpf_prog_test_run_opts(c.egress_fd, &run) != 0) {
		snprintf(detail, len, "tc probe: test run: %s",
		    strerror(errno));
		goto out;
	}
	ok = run.data_size_out == sizeof(pkt) + SP_LBSP_HDR_LEN &&
	    sp_dopt_find(out + 14, run.data_size_out - 14, conf->option_type,
	    &got, NULL) == SP_OK && memcmp(got.seg1, src, 16) == 0;
	if (!ok)
		snprintf(detail, len, "tc probe: the option was not inserted");
out:
	tc_obj_close(&c);
	sp_conf_free(conf);
	return ok;
}

unsigned
tc_roles_wanted(const struct sp_conf *conf, const struct lbspd_paths *paths)
{
	unsigned roles = conf->roles &
	    (SP_CONF_ROLE_CLIENT | SP_CONF_ROLE_SERVER);

	switch (conf->datapath) {
	case SP_CONF_DATAPATH_TC:
		return roles;
	case SP_CONF_DATAPATH_NFQUEUE:
		return 0;
	case SP_CONF_DATAPATH_AUTO:
		break;
	}
	return paths->tc_ebpf ? roles : 0;
}

/* ------------------------------------------------------------ attach */

/*
 * Mount bpffs on /sys/fs/bpf when nothing is there, make
 * /sys/fs/bpf/lbsp/ns<netns inode>, and open both directories.
 *
 * The root directory root's, group the daemon's, 0770; ours the daemon
 * user's, group root, 0770: root (maybe without CAP_DAC_OVERRIDE, as
 * under systemd) pins there through the group.  Once the daemon is its
 * user it cannot walk /sys/fs/bpf (mode 0700 as systemd mounts it, and
 * as this function does), so every later pin, look-up and removal goes
 * through the descriptors opened here: "/proc/self/fd/N/name" is
 * resolved from the directory itself, and removing our directory is an
 * unlinkat() in TC_PIN_ROOT, which the daemon's group may write.
 */
static int
pindir_make(struct tc_state *t, uid_t uid, gid_t gid)
{
	struct statfs sf;
	struct stat st;

	if (statfs("/sys/fs/bpf", &sf) == -1 ||
	    (unsigned long)sf.f_type != BPF_FS_MAGIC) {
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") == -1) {
			log_warn("mounting bpffs on /sys/fs/bpf");
			return -1;
		}
	}
	if (stat("/proc/self/ns/net", &st) == -1) {
		log_warn("/proc/self/ns/net");
		return -1;
	}
	snprintf(t->pinname, sizeof(t->pinname), "%s/ns%llu", TC_PIN_ROOT,
	    (unsigned long long)st.st_ino);
	if ((mkdir(TC_PIN_ROOT, 0770) == -1 && errno != EEXIST) ||
	    chown(TC_PIN_ROOT, 0, gid) == -1 || chmod(TC_PIN_ROOT, 0770) == -1 ||
	    (mkdir(t->pinname, 0770) == -1 && errno != EEXIST) ||
	    chown(t->pinname, uid, 0) == -1 || chmod(t->pinname, 0770) == -1) {
		log_warn("preparing %s", t->pinname);
		return -1;
	}
	t->pinroot_fd = open(TC_PIN_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	t->pindir_fd = open(t->pinname, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (t->pinroot_fd == -1 || t->pindir_fd == -1) {
		log_warn("opening %s", t->pinname);
		return -1;
	}
	snprintf(t->pindir, sizeof(t->pindir), "/proc/self/fd/%d",
	    t->pindir_fd);
	return 0;
}

/* Remove our pin directory (empty by now) and close both descriptors. */
static void
pindir_remove(struct tc_state *t)
{
	const char *name = strrchr(t->pinname, '/');

	if (t->pinroot_fd >= 0 && name != NULL &&
	    unlinkat(t->pinroot_fd, name + 1, AT_REMOVEDIR) == -1 &&
	    errno != ENOENT)
		log_warn("removing %s", t->pinname);
	if (t->pindir_fd >= 0)
		close(t->pindir_fd);
	if (t->pinroot_fd >= 0)
		close(t->pinroot_fd);
	t->pindir_fd = t->pinroot_fd = -1;
	t->pindir[0] = '\0';
}

static int
attach_clsact(struct tc_link *l, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = l->ifindex,
	    .attach_point = l->ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_CLSACT_HANDLE,
	    .priority = TC_CLSACT_PRIO, .prog_fd = prog_fd,
	    .flags = BPF_TC_F_REPLACE);
	int rc;

	rc = bpf_tc_hook_create(&hook);
	if (rc != 0 && rc != -EEXIST)
		return rc;
	return bpf_tc_attach(&hook, &opts);
}

static void
detach_clsact(const struct tc_link *l)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = l->ifindex,
	    .attach_point = l->ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_CLSACT_HANDLE,
	    .priority = TC_CLSACT_PRIO);

	(void)bpf_tc_detach(&hook, &opts);
}

/*
 * Attach prog_fd to one hook: into the pinned tcx link of an earlier
 * daemon when there is one (the programs are swapped in place, no
 * packet goes untreated), else a new tcx link, pinned; else clsact.
 */
static int
attach_one(struct tc_state *t, struct tc_link *l, int prog_fd)
{
	int fd, e;

	snprintf(l->pin, sizeof(l->pin), "%s/%s_link_%d_%s", t->pindir,
	    tc_role_names[l->role], l->ifindex,
	    l->ingress ? "ingress" : "egress");
	/* LBSPD_TC_ATTACH=clsact: the path of kernels before 6.6, on any
	 * kernel, so that it can be tested. */
	if (getenv("LBSPD_TC_ATTACH") != NULL &&
	    strcmp(getenv("LBSPD_TC_ATTACH"), "clsact") == 0) {
		e = EOPNOTSUPP;
		goto clsact;
	}
	fd = bpf_obj_get(l->pin);
	if (fd >= 0) {
		if (bpf_link_update(fd, prog_fd, NULL) == 0) {
			l->fd = fd;
			t->attach = "tcx";
			return 0;
		}
		close(fd);
		(void)unlink(l->pin);
	}
	fd = bpf_link_create(prog_fd, l->ifindex, (enum bpf_attach_type)
	    (l->ingress ? TC_TCX_INGRESS : TC_TCX_EGRESS), NULL);
	if (fd >= 0) {
		if (bpf_obj_pin(fd, l->pin) != 0)
			log_warn("pinning %s", l->pin);
		l->fd = fd;
		t->attach = "tcx";
		return 0;
	}
	e = errno;
clsact:
	/* No tcx on this kernel (before 6.6): the clsact qdisc. */
	l->fd = -1;
	l->pin[0] = '\0';
	if (attach_clsact(l, prog_fd) == 0) {
		if (t->attach == NULL || strcmp(t->attach, "clsact") != 0)
			log_info("tc: no tcx links here (%s; Linux 6.6 has "
			    "them): the programs go on clsact filters, which "
			    "a kill -9 leaves running and the next lbspd "
			    "replaces", strerror(e));
		t->attach = "clsact";
		return 0;
	}
	errno = e;
	return -1;
}

/*
 * Forget link i.  Its interface is gone (its hooks went with it), or
 * became a port of a bridge, bond or team (detach: true), whose master
 * carries the programs now.
 */
static void
link_forget(struct tc_state *t, unsigned i, bool detach)
{
	struct tc_link *l = &t->links[i];

	if (l->fd >= 0) {
		/* A tcx link outlives its device while pinned: unpin it;
		 * closed and unpinned, it is detached. */
		if (l->pin[0] != '\0' && unlink(l->pin) == -1 &&
		    errno != ENOENT)
			log_warn("unpinning %s", l->pin);
		close(l->fd);
	} else if (detach) {
		detach_clsact(l);
	}
	t->links[i] = t->links[--t->nlinks];
}

/*
 * At start: hooks an earlier daemon (killed without cleaning up) left
 * on link ifindex, which no longer carries the programs -- its pinned
 * tcx links and its clsact filters.
 */
static void
link_leftovers_remove(struct tc_state *t, int ifindex)
{
	struct tc_link l = { .ifindex = ifindex };
	int r, dir, fd;

	for (r = 0; r < TC__ROLES; r++)
		for (dir = 0; dir < 2; dir++) {
			l.role = (enum tc_role)r;
			l.ingress = dir == 1;
			snprintf(l.pin, sizeof(l.pin), "%s/%s_link_%d_%s",
			    t->pindir, tc_role_names[r], ifindex,
			    l.ingress ? "ingress" : "egress");
			fd = bpf_obj_get(l.pin);
			if (fd >= 0) {
				(void)unlink(l.pin);
				close(fd);
			}
			detach_clsact(&l);
		}
}

/*
 * Attach every loaded program to every link that carries them
 * (lbspd/path/links.h: Ethernet, not a port of a bridge, bond or team)
 * and has not got them yet, and forget the links of interfaces that
 * are gone or became such a port: at start, then on every tick (an
 * interface an operator adds later, a VLAN, a veth, gets the programs
 * within a second).  Returns the hooks attached, or -1 when the links
 * cannot be listed.
 */
static int
attach_all(struct tc_state *t)
{
	struct link_info *ls;
	const struct link_info *li;
	ssize_t nls;
	size_t i;
	unsigned k;
	int r, added = 0;

	nls = links_list(&ls);
	if (nls < 0) {
		log_warn("tc: listing links");
		return -1;
	}
	for (k = 0; k < t->nlinks;) {
		li = links_find(ls, (size_t)nls, t->links[k].ifindex);
		if (li != NULL && links_hooked(ls, (size_t)nls, li)) {
			k++;
			continue;
		}
		if (li == NULL)
			log_info("tc: interface %d gone: its %s %s hook "
			    "forgotten", t->links[k].ifindex,
			    tc_role_names[t->links[k].role],
			    t->links[k].ingress ? "ingress" : "egress");
		else
			log_info("tc: %s is now a port of interface %d: its "
			    "%s %s program removed (the master carries it)",
			    li->name, li->master,
			    tc_role_names[t->links[k].role],
			    t->links[k].ingress ? "ingress" : "egress");
		t->hooks_gone++;
		link_forget(t, k, li != NULL);
	}
	for (i = 0; i < (size_t)nls; i++) {
		li = &ls[i];
		if (!links_hooked(ls, (size_t)nls, li)) {
			if (!t->started && li->type == ARPHRD_ETHER)
				link_leftovers_remove(t, li->ifindex);
			continue;
		}
		for (r = 0; r < TC__ROLES; r++) {
			int dir;

			if (!t->loaded[r])
				continue;
			for (dir = 0; dir < 2; dir++) {
				struct tc_link *l;

				for (k = 0; k < t->nlinks; k++)
					if (t->links[k].ifindex ==
					    li->ifindex &&
					    t->links[k].role ==
					    (enum tc_role)r &&
					    t->links[k].ingress == (dir == 1))
						break;
				if (k < t->nlinks)
					continue;	/* attached */
				if (t->nlinks == TC_MAX_LINKS) {
					if (!t->full_logged)
						log_warnx("tc: more than %d "
						    "hooks; %s left out",
						    TC_MAX_LINKS, li->name);
					t->full_logged = true;
					continue;
				}
				l = &t->links[t->nlinks];
				l->role = (enum tc_role)r;
				l->ingress = dir == 1;
				l->ifindex = li->ifindex;
				if (attach_one(t, l, l->ingress ?
				    t->obj[r].ingress_fd :
				    t->obj[r].egress_fd) == -1) {
					log_warn("tc: attaching the %s %s "
					    "program to %s",
					    tc_role_names[r], l->ingress ?
					    "ingress" : "egress", li->name);
					continue;
				}
				t->nlinks++;
				added++;
				if (t->started)
					t->hooks_added++;
				log_info("tc: %s %s program on %s (%s)",
				    tc_role_names[r], l->ingress ?
				    "ingress" : "egress", li->name,
				    l->fd >= 0 ? "tcx" : "clsact");
			}
		}
	}
	free(ls);
	t->started = true;
	return added;
}

int
tc_start(struct lbspd *d, uid_t uid, gid_t gid)
{
	struct tc_state *t;
	char err[200];
	int r;

	if (d->tc_roles == 0)
		return 0;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -1;
	d->tc = t;
	t->pindir_fd = t->pinroot_fd = -1;
	if (pindir_make(t, uid, gid) == -1)
		return -1;
	for (r = 0; r < TC__ROLES; r++) {
		unsigned bit = r == TC_CLIENT ? SP_CONF_ROLE_CLIENT :
		    SP_CONF_ROLE_SERVER;

		if (!(d->tc_roles & bit))
			continue;
		if (tc_obj_open(&t->obj[r], (enum tc_role)r, t->pindir,
		    d->conf->max_flows, d->conf->max_cache, err,
		    sizeof(err)) == -1) {
			log_warnx("tc: %s", err);
			return -1;
		}
		t->loaded[r] = true;
		if (tc_obj_configure(&t->obj[r], d->conf,
		    lbspd_identity(d)->addr) == -1) {
			log_warn("tc: writing the %s maps", tc_role_names[r]);
			return -1;
		}
	}
	if (attach_all(t) == -1)
		return -1;
	return 0;
}

void
tc_stop(struct lbspd *d)
{
	struct tc_state *t = d->tc;
	unsigned i;
	int r;

	if (t == NULL)
		return;
	for (i = 0; i < t->nlinks; i++) {
		struct tc_link *l = &t->links[i];

		if (l->fd >= 0) {
			/* The link goes with its last reference. */
			if (l->pin[0] != '\0' && unlink(l->pin) == -1)
				log_warn("unpinning %s", l->pin);
			close(l->fd);
		} else {
			detach_clsact(l);
		}
	}
	for (r = 0; r < TC__ROLES; r++) {
		if (!t->loaded[r])
			continue;
		unpin_maps(&t->obj[r]);
		tc_obj_close(&t->obj[r]);
	}
	pindir_remove(t);
	/* TC_PIN_ROOT stays, as /run/lbsp would: it is shared by the
	 * daemons of every namespace, and removing it would race another
	 * daemon making its directory in it. */
	free(t);
	d->tc = NULL;
}

void
tc_configure(struct lbspd *d)
{
	int r;

	if (d->tc == NULL)
		return;
	for (r = 0; r < TC__ROLES; r++)
		if (d->tc->loaded[r] && tc_obj_configure(&d->tc->obj[r],
		    d->conf, lbspd_identity(d)->addr) == -1)
			log_warn("tc: rewriting the %s maps", tc_role_names[r]);
}

/* n flows fell back on the fallback timer: counted as the NFQUEUE
 * path's timer counts them. */
static void
fallback_count(struct lbspd *d, unsigned n)
{
	lbspd_count_n(d, LBSPD_C_FALLBACKS, n);
	lbspd_count_n(d, LBSPD_C_FALLBACK_TIMER, n);
}

void
tc_fast_tick(struct lbspd *d)
{
	struct tc_state *t = d->tc;
	uint64_t now = sp_now_ns(), fb, r;

	if (t == NULL || !t->loaded[TC_CLIENT])
		return;
	fb = (uint64_t)d->conf->fallback_timeout_ms * 1000000;
	r = counter_sum(&t->obj[TC_CLIENT], LBSP_TC_C_REDIRECTED);
	if (r != t->redirected_seen) {
		t->redirected_seen = r;
		t->redirect_ns = now;
	}
	/* Only while a redirected flow may be waiting for its answer (the
	 * counter moved within fallback-timeout and a second), every
	 * TC_FALLBACK_SCAN_NS; else the slow tick's scan suffices. */
	if (now - t->redirect_ns > fb + 1000000000u ||
	    now - t->fallback_scan_ns < TC_FALLBACK_SCAN_NS)
		return;
	t->fallback_scan_ns = now;
	fallback_count(d, tc_obj_fallback(&t->obj[TC_CLIENT], now, fb));
}

void
tc_tick(struct lbspd *d)
{
	uint64_t now = sp_now_ns();
	int r;

	if (d->tc == NULL)
		return;
	(void)attach_all(d->tc);
	for (r = 0; r < TC__ROLES; r++) {
		struct tc_obj *o = &d->tc->obj[r];

		if (!d->tc->loaded[r])
			continue;
		(void)tc_obj_expire(o, now, d->conf, 4096);
		/* Flows the kernel retired to make room: flows_retired, as
		 * the NFQUEUE path's table counts them. */
		lbspd_count_n(d, LBSPD_C_FLOWS_RETIRED,
		    o->retired - d->tc->retired_counted[r]);
		d->tc->retired_counted[r] = o->retired;
	}
	if (!d->tc->loaded[TC_CLIENT])
		return;
	fallback_count(d, tc_obj_fallback(&d->tc->obj[TC_CLIENT], now,
	    (uint64_t)d->conf->fallback_timeout_ms * 1000000));
}

/* ------------------------------------------------------------ lbspctl */

/* The cache rows not expired, counted by cache_row_live(). */
struct cache_live {
	uint64_t ns, ttl_ns, n;
};

static int
cache_row_live(const void *k, const void *v, void *arg)
{
	struct cache_live *cl = arg;

	(void)k;
	if (cache_age_ns(v, cl->ns) < cl->ttl_ns)
		cl->n++;
	return 0;
}

/* The maps' rows as they are now: a figure read between two sweeps
 * must not lag what the kernel holds.  The cache's expired rows, which
 * the programs ignore and lbspctl cache does not list, are not
 * counted: nothing removes them but the LRU. */
void
tc_cache_count(struct lbspd *d, uint64_t *rows, uint64_t *max)
{
	const struct tc_obj *o;
	struct cache_live cl = { .ns = sp_now_ns() };

	if (d->tc == NULL || !d->tc->loaded[TC_CLIENT])
		return;
	o = &d->tc->obj[TC_CLIENT];
	cl.ttl_ns = (uint64_t)d->conf->cache_ttl_ms * 1000000;
	(void)map_walk(o->cache_fd, sizeof(struct lbsp_tc_cache_key),
	    sizeof(struct lbsp_tc_cache), o->max_cache, cache_row_live, &cl);
	*rows += cl.n < o->max_cache ? cl.n : o->max_cache;
	*max += o->max_cache;
}

void
tc_flows_count(struct lbspd *d, uint64_t *flows, uint64_t *max)
{
	int r;

	for (r = 0; d->tc != NULL && r < TC__ROLES; r++) {
		if (!d->tc->loaded[r])
			continue;
		*flows += flows_count(&d->tc->obj[r]);
		*max += d->tc->obj[r].max_flows;
	}
}

void
tc_stats_print(struct pr *p, struct lbspd *d)
{
	uint64_t v[LBSP_TC_C__COUNT];
	unsigned i;
	int r;

	pr_open_object(p, "datapath");
	if (d->conf->roles & SP_CONF_ROLE_CLIENT)
		pr_str(p, "client", d->tc_roles & SP_CONF_ROLE_CLIENT ?
		    "tc" : "nfqueue");
	if (d->conf->roles & SP_CONF_ROLE_SERVER)
		pr_str(p, "server", d->tc_roles & SP_CONF_ROLE_SERVER ?
		    "tc" : "nfqueue");
	if (d->conf->roles & SP_CONF_ROLE_BALANCER)
		pr_str(p, "balancer", "nfqueue");
	if (d->tc != NULL) {
		if (d->tc->attach != NULL)
			pr_str(p, "tc_attach", d->tc->attach);
		pr_u64(p, "tc_hooks", d->tc->nlinks);
		pr_u64(p, "tc_hooks_added", d->tc->hooks_added);
		pr_u64(p, "tc_hooks_gone", d->tc->hooks_gone);
	}
	pr_close_object(p);
	pr_open_object(p, "kernel");
	for (r = 0; d->tc != NULL && r < TC__ROLES; r++) {
		if (!d->tc->loaded[r])
			continue;
		(void)tc_obj_counters(&d->tc->obj[r], v);
		pr_open_object(p, tc_role_names[r]);
		for (i = 0; i < LBSP_TC_C__COUNT; i++)
			pr_u64(p, tc_counter_name(i), v[i]);
		pr_close_object(p);
	}
	pr_close_object(p);
}

/* What tc_flows_foreach() gives its caller's function. */
struct flows_given {
	int (*fn)(const struct sp_flow *, void *);
	void *arg;
};

static int
flow_given_as_sp(int fd, const struct lbsp_tc_flow_key *k,
    const struct lbsp_tc_flow *f, void *arg)
{
	struct flows_given *fg = arg;
	struct sp_flow sf;

	(void)fd;
	memset(&sf, 0, sizeof(sf));
	memcpy(sf.key.src, k->src, 16);
	memcpy(sf.key.dst, k->dst, 16);
	sf.key.sport = k->sport;
	sf.key.dport = k->dport;
	sf.key.proto = k->proto;
	sf.key.kind = SP_FLOW_5TUPLE;
	memcpy(sf.identity, f->identity, 16);
	memcpy(sf.server, f->server, 16);
	/* The programs' clock is CLOCK_MONOTONIC(_COARSE), sp_now_ms()'s. */
	sf.last_ms = f->last_ns / 1000000;
	sf.packets[SP_FLOW_ORIG] = f->packets_orig;
	sf.packets[SP_FLOW_REPLY] = f->packets_reply;
	sf.state = (uint8_t)tc_flow_state(f);
	return fg->fn(&sf, fg->arg);
}

void
tc_flows_foreach(struct lbspd *d,
    int (*fn)(const struct sp_flow *, void *), void *arg)
{
	struct flows_given fg = { .fn = fn, .arg = arg };
	int r;

	for (r = 0; d->tc != NULL && r < TC__ROLES; r++)
		if (d->tc->loaded[r])
			(void)flows_walk(&d->tc->obj[r], flow_given_as_sp, &fg);
}

/* What tc_cache_foreach() gives its caller's function. */
struct cache_given {
	uint64_t ns, ttl_ns, now_ms;
	int (*fn)(const struct sp_cache_entry *, void *);
	void *arg;
};

static int
cache_row_given(const void *k, const void *v, void *arg)
{
	const struct lbsp_tc_cache_key *key = k;
	const struct lbsp_tc_cache *e = v;
	struct cache_given *cg = arg;
	struct sp_cache_entry ce;
	uint64_t age = cache_age_ns(e, cg->ns);

	if (age >= cg->ttl_ns)
		return 0;	/* expired: the programs ignore it */
	/* The row on the caller's clock (lbspd_now_ms(), the same
	 * CLOCK_MONOTONIC in ms). */
	memset(&ce, 0, sizeof(ce));
	memcpy(ce.vip, key->vip, 16);
	memcpy(ce.identity, key->identity, 16);
	memcpy(ce.server, e->server, 16);
	ce.expire_ms = cg->now_ms + (cg->ttl_ns - age) / 1000000;
	if (e->state == LBSP_TC_CACHE_SUSPECT) {
		ce.state = SP_CACHE_SUSPECT;
		ce.reason = e->reason;
		ce.suspect_ms = e->suspect_ns / 1000000;
	}
	return cg->fn(&ce, cg->arg);
}

void
tc_cache_foreach(struct lbspd *d, uint64_t now_ms,
    int (*fn)(const struct sp_cache_entry *, void *), void *arg)
{
	struct cache_given cg = { .ns = sp_now_ns(), .now_ms = now_ms,
	    .fn = fn, .arg = arg };
	const struct tc_obj *o;

	if (d->tc == NULL || !d->tc->loaded[TC_CLIENT])
		return;
	o = &d->tc->obj[TC_CLIENT];
	cg.ttl_ns = (uint64_t)d->conf->cache_ttl_ms * 1000000;
	(void)map_walk(o->cache_fd, sizeof(struct lbsp_tc_cache_key),
	    sizeof(struct lbsp_tc_cache), o->max_cache, cache_row_given, &cg);
}

/* What tc_blackholes_foreach() gives its caller's function. */
struct blackholes_given {
	int (*fn)(const struct lbspd_blackhole *, void *);
	void *arg;
};

static int
blackhole_given(const void *k, const void *v, void *arg)
{
	const struct lbsp_tc_vip_key *key = k;
	const struct lbsp_tc_blackhole *b = v;
	struct blackholes_given *bg = arg;
	struct lbspd_blackhole mark;

	memset(&mark, 0, sizeof(mark));
	memcpy(mark.vip, key->addr, 16);
	/* The programs' clock is CLOCK_MONOTONIC(_COARSE), sp_now_ms()'s. */
	mark.since_ms = b->since_ns / 1000000;
	mark.until_ms = b->until_ns / 1000000;
	mark.period_ms = b->period_ms;
	mark.detections = b->detections;
	return bg->fn(&mark, bg->arg);
}

void
tc_blackholes_foreach(struct lbspd *d,
    int (*fn)(const struct lbspd_blackhole *, void *), void *arg)
{
	struct blackholes_given bg = { .fn = fn, .arg = arg };

	if (d->tc == NULL || !d->tc->loaded[TC_CLIENT])
		return;
	(void)map_walk(d->tc->obj[TC_CLIENT].blackholes_fd,
	    sizeof(struct lbsp_tc_vip_key), sizeof(struct lbsp_tc_blackhole),
	    LBSP_TC_MAX_VIPS, blackhole_given, &bg);
}
