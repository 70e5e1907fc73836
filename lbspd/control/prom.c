/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * prom.c -- see prom.h.  The rules below are the whole mapping from
 * lbspctl's answers to Prometheus names; lbspd(8) lists the result.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "control/prom.h"

#define PROM_DEPTH	8	/* containers open at once (PR_MAX_DEPTH) */
#define PROM_PATH	128	/* bytes of a path */
#define PROM_LABELS	384	/* bytes of the labels of a sample */
#define PROM_NAME	128	/* bytes of a metric name */

/* What a rule makes of the values it matches. */
enum prom_kind {
	RULE_SKIP,		/* nothing: not a metric (or said elsewhere) */
	RULE_LABEL,		/* a label of the row's later samples */
	RULE_GAUGE,
	RULE_COUNTER,
};

/*
 * One rule.  path: the value's place, '*' standing for one run of a
 * key's characters (one '*' at most).  name: the metric, "%s" replaced
 * by what '*' matched.  label: for a string value, the label that
 * carries it (the sample's value is then 1); for a number, the label
 * that carries what '*' matched; "NAME=VALUE": a constant label.
 * div: the value is divided by it (microseconds to seconds).
 */
struct prom_rule {
	const char *path;
	enum prom_kind kind;
	const char *name;
	const char *label;
	unsigned div;
};

static const struct prom_rule prom_rules[] = {
	/* stats */
	{ "version", RULE_SKIP, NULL, NULL, 0 },	/* lbsp_build_info */
	{ "uptime_s", RULE_GAUGE, "lbsp_uptime_seconds", NULL, 0 },
	{ "roles[]", RULE_GAUGE, "lbsp_role", "role", 0 },
	{ "queues[]", RULE_SKIP, NULL, NULL, 0 },	/* queue[].queue */
	{ "identity_mode", RULE_GAUGE, "lbsp_identity_mode", "mode", 0 },
	{ "identity", RULE_SKIP, NULL, NULL, 0 },	/* a client address */
	{ "insert_paths.tested", RULE_GAUGE, "lbsp_insert_paths_tested",
	  NULL, 0 },
	{ "insert_paths.detail", RULE_SKIP, NULL, NULL, 0 },
	{ "insert_paths.*", RULE_GAUGE, "lbsp_insert_path", "path", 0 },
	{ "datapath", RULE_GAUGE, "lbsp_datapath", "datapath", 0 },
	{ "datapath.tc_hooks", RULE_GAUGE, "lbsp_tc_hooks", NULL, 0 },
	{ "datapath.tc_hooks_*", RULE_COUNTER, "lbsp_tc_hooks_%s_total", NULL,
	  0 },
	{ "datapath.*", RULE_GAUGE, "lbsp_datapath_%s", "datapath", 0 },
	/* The tc programs' counters, per role (their names may hold '-'). */
	{ "kernel.client.*", RULE_COUNTER, "lbsp_kernel_%s_total",
	  "role=client", 0 },
	{ "kernel.server.*", RULE_COUNTER, "lbsp_kernel_%s_total",
	  "role=server", 0 },
	{ "counters.by_*", RULE_COUNTER, "lbsp_balancer_decisions_total",
	  "by", 0 },
	{ "counters.*", RULE_COUNTER, "lbsp_%s_total", NULL, 0 },
	{ "passed.*", RULE_COUNTER, "lbsp_passed_total", "reason", 0 },
	{ "malformed.*", RULE_COUNTER, "lbsp_malformed_total", "error", 0 },
	{ "tables.*_max", RULE_GAUGE, "lbsp_table_entries_max", "table", 0 },
	{ "tables.*_retired", RULE_COUNTER, "lbsp_table_retired_total",
	  "table", 0 },
	{ "tables.*", RULE_GAUGE, "lbsp_table_entries", "table", 0 },
	{ "balancer.stick", RULE_GAUGE, "lbsp_table_entries", "table=stick",
	  0 },
	{ "balancer.stick_max", RULE_GAUGE, "lbsp_table_entries_max",
	  "table=stick", 0 },
	{ "balancer.servers_total", RULE_GAUGE, "lbsp_balancer_servers", NULL,
	  0 },
	{ "balancer.*", RULE_GAUGE, "lbsp_balancer_%s", NULL, 0 },
	{ "queue[].queue", RULE_LABEL, NULL, "queue", 0 },
	{ "queue[].bound", RULE_GAUGE, "lbsp_queue_bound", NULL, 0 },
	{ "queue[].queue_total", RULE_GAUGE, "lbsp_queue_waiting_packets",
	  NULL, 0 },
	{ "queue[].queue_dropped", RULE_COUNTER,
	  "lbsp_queue_dropped_packets_total", NULL, 0 },
	{ "queue[].user_dropped", RULE_COUNTER,
	  "lbsp_queue_user_dropped_packets_total", NULL, 0 },
	{ "queue[].packets", RULE_COUNTER, "lbsp_queue_packets_total", NULL,
	  0 },
	{ "control.*", RULE_COUNTER, "lbsp_control_%s_total", NULL, 0 },
	{ "metrics.*", RULE_COUNTER, "lbsp_metrics_%s_total", NULL, 0 },
	/* servers */
	{ "servers[].vip", RULE_LABEL, NULL, "vip", 0 },
	{ "servers[].scheduler", RULE_GAUGE, "lbsp_vip_scheduler",
	  "scheduler", 0 },
	{ "servers[].servers[].address", RULE_LABEL, NULL, "server", 0 },
	{ "servers[].servers[].state", RULE_GAUGE, "lbsp_server_state",
	  "state", 0 },
	{ "servers[].servers[].reason", RULE_GAUGE,
	  "lbsp_server_health_reason", "reason", 0 },
	{ "servers[].servers[].backup", RULE_SKIP, NULL, NULL, 0 },
	{ "servers[].servers[].sessions_total", RULE_COUNTER,
	  "lbsp_server_sessions_total", NULL, 0 },
	{ "servers[].servers[].packets", RULE_COUNTER,
	  "lbsp_server_packets_total", NULL, 0 },
	{ "servers[].servers[].bytes", RULE_COUNTER,
	  "lbsp_server_bytes_total", NULL, 0 },
	{ "servers[].servers[].rtt_us", RULE_GAUGE, "lbsp_server_rtt_seconds",
	  NULL, 1000000 },
	{ "servers[].servers[].*", RULE_GAUGE, "lbsp_server_%s", NULL, 0 },
};

struct prom_family {
	char *name;
	enum prom_type type;
	char *help;
};

struct prom_sample {
	size_t fam;		/* index in families */
	char *labels;		/* NAME="VALUE",... or "" */
	char *value;
};

struct prom_level {
	bool array;
	char path[PROM_PATH];		/* of the container */
	char labels[PROM_LABELS];	/* given to its samples */
};

struct prom {
	bool failed;			/* out of memory, overflow */
	char root[32];			/* "" or "servers" */
	unsigned depth;
	struct prom_level lv[PROM_DEPTH];
	struct prom_family *fams;
	size_t nfams, capfams;
	struct prom_sample *samples;
	size_t nsamples, capsamples;
};

struct prom *
prom_new(void)
{
	return calloc(1, sizeof(struct prom));
}

void
prom_free(struct prom *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nfams; i++) {
		free(m->fams[i].name);
		free(m->fams[i].help);
	}
	for (i = 0; i < m->nsamples; i++) {
		free(m->samples[i].labels);
		free(m->samples[i].value);
	}
	free(m->fams);
	free(m->samples);
	free(m);
}

void
prom_root(struct prom *m, const char *root)
{
	snprintf(m->root, sizeof(m->root), "%s", root);
	m->depth = 0;
}

void
prom_label_escape(char *dst, size_t size, const char *v)
{
	size_t n = 0;
	const char *esc;
	char one[2];

	for (; *v != '\0'; v++) {
		switch (*v) {
		case '\\':
			esc = "\\\\";
			break;
		case '"':
			esc = "\\\"";
			break;
		case '\n':
			esc = "\\n";
			break;
		default:
			one[0] = *v;
			one[1] = '\0';
			esc = one;
		}
		if (n + strlen(esc) + 1 > size)
			break;
		memcpy(dst + n, esc, strlen(esc));
		n += strlen(esc);
	}
	if (size > 0)
		dst[n] = '\0';
}

/* A metric name from s: every byte outside [A-Za-z0-9_] becomes '_'. */
static void
name_clean(char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_'))
			*s = '_';
}

/*
 * Match path against pattern; '*' matches one or more bytes that are
 * neither '.' nor '['.  What it matched goes to cap (size bytes).
 */
static bool
rule_match(const char *pattern, const char *path, char *cap, size_t size)
{
	const char *star = strchr(pattern, '*');
	size_t pre, post, plen = strlen(path), n, i;

	cap[0] = '\0';
	if (star == NULL)
		return strcmp(pattern, path) == 0;
	pre = (size_t)(star - pattern);
	post = strlen(star + 1);
	if (plen < pre + post + 1 || strncmp(pattern, path, pre) != 0 ||
	    strcmp(star + 1, path + plen - post) != 0)
		return false;
	n = plen - pre - post;
	for (i = 0; i < n; i++)
		if (path[pre + i] == '.' || path[pre + i] == '[')
			return false;
	if (n >= size)
		return false;
	memcpy(cap, path + pre, n);
	cap[n] = '\0';
	return true;
}

static const struct prom_rule *
rule_find(const char *path, char *cap, size_t size)
{
	size_t i;

	for (i = 0; i < sizeof(prom_rules) / sizeof(prom_rules[0]); i++)
		if (rule_match(prom_rules[i].path, path, cap, size))
			return &prom_rules[i];
	return NULL;
}

/* labels += NAME="VALUE" (value escaped). */
static void
labels_add(struct prom *m, char *labels, size_t size, const char *name,
    const char *value)
{
	char esc[PROM_LABELS];
	size_t n = strlen(labels);
	int w;

	prom_label_escape(esc, sizeof(esc), value);
	w = snprintf(labels + n, size - n, "%s%s=\"%s\"", n ? "," : "", name,
	    esc);
	if (w < 0 || (size_t)w >= size - n) {
		labels[n] = '\0';
		m->failed = true;
	}
}

static size_t
family_get(struct prom *m, const char *name, enum prom_type type,
    const char *help)
{
	struct prom_family *nf;
	size_t i, cap;

	for (i = 0; i < m->nfams; i++)
		if (strcmp(m->fams[i].name, name) == 0)
			return i;
	if (m->nfams == m->capfams) {
		cap = m->capfams ? 2 * m->capfams : 64;
		nf = realloc(m->fams, cap * sizeof(*nf));
		if (nf == NULL)
			return SIZE_MAX;
		m->fams = nf;
		m->capfams = cap;
	}
	nf = &m->fams[m->nfams];
	nf->name = strdup(name);
	nf->help = strdup(help);
	nf->type = type;
	if (nf->name == NULL || nf->help == NULL) {
		free(nf->name);
		free(nf->help);
		return SIZE_MAX;
	}
	return m->nfams++;
}

/*
 * One sample, appended: this runs under the daemon's lock (the answers
 * are described with it held), so it does no search; prom_write()
 * sorts and drops duplicates afterwards.
 */
static void
sample_add(struct prom *m, const char *name, enum prom_type type,
    const char *help, const char *labels, const char *value)
{
	struct prom_sample *ns;
	size_t fam, cap;

	if ((fam = family_get(m, name, type, help)) == SIZE_MAX)
		goto fail;
	if (m->nsamples == m->capsamples) {
		cap = m->capsamples ? 2 * m->capsamples : 256;
		ns = realloc(m->samples, cap * sizeof(*ns));
		if (ns == NULL)
			goto fail;
		m->samples = ns;
		m->capsamples = cap;
	}
	ns = &m->samples[m->nsamples];
	ns->fam = fam;
	ns->labels = strdup(labels);
	ns->value = strdup(value);
	if (ns->labels == NULL || ns->value == NULL) {
		free(ns->labels);
		free(ns->value);
		goto fail;
	}
	m->nsamples++;
	return;
fail:
	m->failed = true;
}

void
prom_add(struct prom *m, const char *name, enum prom_type type,
    const char *help, const char *labels, uint64_t v)
{
	char value[24];

	snprintf(value, sizeof(value), "%" PRIu64, v);
	sample_add(m, name, type, help, labels, value);
}

/* The path of a member key of the current container (or its element). */
static void
path_of(struct prom *m, const char *key, char *out, size_t size)
{
	const struct prom_level *cur;
	const char *base;
	int w;

	cur = m->depth > 0 ? &m->lv[m->depth - 1] : NULL;
	base = cur != NULL ? cur->path : m->root;
	if (cur == NULL && key == NULL)
		w = snprintf(out, size, "%s", base);
	else if (cur != NULL && cur->array)
		w = snprintf(out, size, "%s[]", base);
	else
		w = snprintf(out, size, "%s%s%s", base, *base ? "." : "",
		    key != NULL ? key : "");
	if (w < 0 || (size_t)w >= size)
		m->failed = true;
}

void
prom_open(struct prom *m, const char *key, bool array)
{
	struct prom_level *nl;

	if (m->depth == PROM_DEPTH) {
		m->failed = true;
		return;
	}
	nl = &m->lv[m->depth];
	path_of(m, key, nl->path, sizeof(nl->path));
	nl->array = array;
	if (m->depth > 0)
		memcpy(nl->labels, m->lv[m->depth - 1].labels,
		    sizeof(nl->labels));
	else
		nl->labels[0] = '\0';
	m->depth++;
}

void
prom_close(struct prom *m)
{
	if (m->depth == 0) {
		m->failed = true;
		return;
	}
	m->depth--;
}

/*
 * One value at key: a number (str NULL, v) or a string (str).  Found
 * in the rules, or named from its path.
 */
static void
prom_value(struct prom *m, const char *key, const char *str, uint64_t v)
{
	char path[PROM_PATH], cap[PROM_PATH], name[PROM_NAME];
	char labels[PROM_LABELS], help[2 * PROM_PATH], value[32];
	const struct prom_rule *r;
	const char *eq, *cmd;
	struct prom_level *cur;
	enum prom_type type;
	size_t i, j;

	if (m->depth == 0) {
		m->failed = true;
		return;
	}
	cur = &m->lv[m->depth - 1];
	path_of(m, key, path, sizeof(path));
	memcpy(labels, cur->labels, sizeof(labels));
	cmd = m->root[0] ? m->root : "stats";
	r = rule_find(path, cap, sizeof(cap));
	if (r != NULL && r->kind == RULE_SKIP)
		return;
	if (r != NULL && r->kind == RULE_LABEL) {
		if (str == NULL) {
			snprintf(value, sizeof(value), "%" PRIu64, v);
			str = value;
		}
		labels_add(m, cur->labels, sizeof(cur->labels), r->label, str);
		return;
	}
	if (r == NULL) {
		/* lbsp_PATH, "[]" left out; a string as {KEY="value"}. */
		for (i = 0, j = 0; path[i] != '\0' && j + 1 < sizeof(cap);
		    i++)
			if (path[i] != '[' && path[i] != ']')
				cap[j++] = path[i];
		cap[j] = '\0';
		snprintf(name, sizeof(name), "lbsp_%s", cap);
		name_clean(name);
		type = PROM_GAUGE;
		snprintf(help, sizeof(help), "lbspctl %s: %s", cmd, path);
		if (str != NULL)
			labels_add(m, labels, sizeof(labels),
			    key != NULL ? key : "value", str);
	} else {
		if (strstr(r->name, "%s") != NULL) {
			snprintf(name, sizeof(name), "%.*s%s%s",
			    (int)(strstr(r->name, "%s") - r->name), r->name,
			    cap, strstr(r->name, "%s") + 2);
			name_clean(name);
			snprintf(help, sizeof(help), "lbspctl %s: %s", cmd,
			    path);
		} else {
			snprintf(name, sizeof(name), "%s", r->name);
			/* The family's help: the rule's path, '*' named. */
			eq = strchr(r->path, '*');
			if (eq != NULL && r->label != NULL)
				snprintf(help, sizeof(help),
				    "lbspctl %s: %.*s<%s>%s", cmd,
				    (int)(eq - r->path), r->path, r->label,
				    eq + 1);
			else
				snprintf(help, sizeof(help), "lbspctl %s: %s",
				    cmd, r->path);
		}
		type = r->kind == RULE_COUNTER ? PROM_COUNTER : PROM_GAUGE;
		if (r->label != NULL && (eq = strchr(r->label, '=')) != NULL) {
			snprintf(value, sizeof(value), "%.*s",
			    (int)(eq - r->label), r->label);
			labels_add(m, labels, sizeof(labels), value, eq + 1);
		} else if (r->label != NULL && str != NULL) {
			labels_add(m, labels, sizeof(labels), r->label, str);
		} else if (r->label != NULL) {
			labels_add(m, labels, sizeof(labels), r->label, cap);
		}
	}
	/* "_total" is for counters: a gauge found so named loses it. */
	i = strlen(name);
	if (type == PROM_GAUGE && i > 6 && strcmp(name + i - 6, "_total") == 0)
		snprintf(name + i - 6, sizeof(name) - (i - 6), "_all");
	if (str != NULL)
		snprintf(value, sizeof(value), "1");
	else if (r != NULL && r->div > 1)
		snprintf(value, sizeof(value), "%.6f", (double)v / r->div);
	else
		snprintf(value, sizeof(value), "%" PRIu64, v);
	sample_add(m, name, type, help, labels, value);
}

void
prom_u64(struct prom *m, const char *key, uint64_t v)
{
	prom_value(m, key, NULL, v);
}

void
prom_bool(struct prom *m, const char *key, bool v)
{
	prom_value(m, key, NULL, v ? 1 : 0);
}

void
prom_str(struct prom *m, const char *key, const char *s)
{
	prom_value(m, key, s != NULL ? s : "", 0);
}

/* Samples by family (first seen first), then labels, then arrival. */
static int
sample_cmp(const void *a, const void *b)
{
	const struct prom_sample *x = *(const struct prom_sample *const *)a;
	const struct prom_sample *y = *(const struct prom_sample *const *)b;
	int c;

	if (x->fam != y->fam)
		return x->fam < y->fam ? -1 : 1;
	if ((c = strcmp(x->labels, y->labels)) != 0)
		return c;
	return x < y ? -1 : x > y;
}

int
prom_write(struct prom *m, FILE *out)
{
	const struct prom_sample **order, *sp;
	const char *c;
	size_t f, i, k = 0;

	order = calloc(m->nsamples ? m->nsamples : 1, sizeof(*order));
	if (order == NULL)
		return -1;
	for (i = 0; i < m->nsamples; i++)
		order[i] = &m->samples[i];
	qsort(order, m->nsamples, sizeof(*order), sample_cmp);
	for (f = 0; f < m->nfams; f++) {
		fprintf(out, "# HELP %s ", m->fams[f].name);
		for (c = m->fams[f].help; *c != '\0'; c++) {
			if (*c == '\\')
				fputs("\\\\", out);
			else if (*c == '\n')
				fputs("\\n", out);
			else
				fputc(*c, out);
		}
		fprintf(out, "\n# TYPE %s %s\n", m->fams[f].name,
		    m->fams[f].type == PROM_COUNTER ? "counter" : "gauge");
		for (; k < m->nsamples && order[k]->fam == f; k++) {
			sp = order[k];
			/* A second sample of one series: the first stands. */
			if (k > 0 && order[k - 1]->fam == f &&
			    strcmp(order[k - 1]->labels, sp->labels) == 0)
				continue;
			if (sp->labels[0] != '\0')
				fprintf(out, "%s{%s} %s\n", m->fams[f].name,
				    sp->labels, sp->value);
			else
				fprintf(out, "%s %s\n", m->fams[f].name,
				    sp->value);
		}
	}
	free(order);
	if (fflush(out) == EOF || ferror(out))
		return -1;
	return m->failed ? -1 : 0;
}
