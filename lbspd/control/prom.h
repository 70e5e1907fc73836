/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * prom.h -- the Prometheus text exposition format (version 0.0.4) of
 * what lbspctl prints: a third renderer behind print.h.
 *
 * The metrics are not listed a second time.  The control commands
 * describe their answers once, through pr; a pr made by pr_init_prom()
 * hands every value to a struct prom, which names it from its path in
 * the answer ("counters.packets", "queue[].packets",
 * "servers[].servers[].weight") by the first rule of prom.c's table
 * that matches, and keeps the samples until prom_write() prints them
 * grouped by metric family, each with its HELP and TYPE lines.  A
 * counter added to lbspctl's "counters" object is a Prometheus counter
 * lbsp_NAME_total with no change here; a value no rule names is a gauge
 * lbsp_PATH (the path with "_" for "." and "[]" left out; a trailing
 * "_total", reserved to counters, becomes "_all"), and a string no rule
 * names is lbsp_PATH{KEY="value"} 1.
 *
 * Rows of arrays (queue[], servers[]) give their samples labels: the
 * rule of a row's identity member (queue, vip, address) makes it a
 * label of every later value of that row and of the rows inside it;
 * identity members therefore come first in a row.
 */
#ifndef LBSPD_PROM_H
#define LBSPD_PROM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct prom;

/* The two metric types lbspd exposes. */
enum prom_type {
	PROM_GAUGE,
	PROM_COUNTER,
};

/* prom_new - an empty set of samples, or NULL without memory. */
struct prom *prom_new(void);
void prom_free(struct prom *m);

/*
 * prom_root - the name of the answer described next ("" for stats,
 * "servers" for the servers command): the first component of the
 * paths the rules see.
 */
void prom_root(struct prom *m, const char *root);

/* The pr callbacks: the structure and the values of an answer. */
void prom_open(struct prom *m, const char *key, bool array);
void prom_close(struct prom *m);
void prom_u64(struct prom *m, const char *key, uint64_t v);
void prom_bool(struct prom *m, const char *key, bool v);
void prom_str(struct prom *m, const char *key, const char *s);

/*
 * prom_add - one sample given directly (build info, the scraper's own
 * figures): name, type, help, labels already formatted (NAME="VALUE",
 * comma separated, escaped by the caller; "" for none), value.
 */
void prom_add(struct prom *m, const char *name, enum prom_type type,
    const char *help, const char *labels, uint64_t v);

/*
 * prom_label_escape - v as a label value: \ " and newline escaped, at
 * most size - 1 bytes (truncated on a whole escape).
 */
void prom_label_escape(char *dst, size_t size, const char *v);

/*
 * prom_write - print every family, in the order first seen, with its
 * HELP and TYPE lines and its samples.  Returns 0, or -1 when memory
 * ran out while collecting (the output is then incomplete) or out
 * failed.
 */
int prom_write(struct prom *m, FILE *out);

#endif /* LBSPD_PROM_H */
