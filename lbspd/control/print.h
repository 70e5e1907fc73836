/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * print.h -- one print path for text and JSON (after iproute2's json_print):
 * a command describes its answer once, as nested objects and arrays of
 * keyed values, and struct pr renders it either as JSON or as text for
 * people.
 *
 * JSON: indented, valid (strings escaped), ended by a newline.
 *
 * Text:
 *   - the scalars of an object are "key value" lines, values aligned;
 *   - a keyed object is a "key:" line, its contents indented by 2;
 *   - an array of scalars is one "key v1 v2 ..." line;
 *   - an array of objects is a table: one header line of the keys, one
 *     line per object, columns aligned (numbers to the right), headed
 *     by "key:" when the array has a key.  A row holds scalars only.
 *   Booleans read "yes" / "no", an empty string "-".  Text is buffered
 *   until the enclosing container closes, to align it.
 *
 * Keys: required inside objects, ignored (pass NULL) inside arrays and
 * for the outermost container.  Misuse (a key missing, a container
 * inside a text table row, nesting deeper than PR_MAX_DEPTH, closing
 * what is not open) and allocation failures are remembered and reported
 * by pr_finish(), so commands need not check every call.
 *
 * Prometheus (pr_init_prom): the same calls feed prom.h's renderer.
 */
#ifndef LBSPD_PR_H
#define LBSPD_PR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PR_MAX_DEPTH	8	/* containers open at once */

/* One open container. */
struct pr_level {
	bool array;		/* an array, else an object */
	bool empty;		/* nothing printed in it yet (JSON commas) */
	const char *key;	/* its key, NULL for none (text headings) */
	bool row;		/* text: an object that is a table row */
	int text_mode;		/* text arrays: PR_TEXT_* below */
	size_t line;		/* text inline arrays: their pending line,
				   SIZE_MAX when printed one per line */
	unsigned indent;	/* text: p->indent to restore on close */
};

/* What a text array turned out to hold (decided by its first element). */
#define PR_TEXT_UNDECIDED	0
#define PR_TEXT_INLINE		1	/* scalars: one "key v1 v2" line */
#define PR_TEXT_TABLE		2	/* objects: an aligned table */

/* A text "key value" line waiting for its object to be aligned. */
struct pr_line {
	char *key;		/* malloc'd */
	char *val;		/* malloc'd; grows for inline arrays */
	unsigned indent;	/* columns */
};

/* A text table cell. */
struct pr_cell {
	size_t row;		/* 0-based row */
	size_t col;		/* index in pr_table.head */
	char *s;		/* malloc'd text */
};

/* The text table being collected (one at a time). */
struct pr_table {
	bool active;
	unsigned indent;	/* columns */
	char **head;		/* column keys, malloc'd, first-seen order */
	bool *num;		/* column holds numbers only */
	size_t ncols, capcols;
	struct pr_cell *cells;
	size_t ncells, capcells;
	size_t nrows;		/* rows started */
};

struct pr {
	FILE *out;		/* where it goes */
	bool json;		/* JSON, else text */
	bool failed;		/* misuse or out of memory, see pr_finish */
	bool started;		/* the outermost container was opened */
	unsigned depth;		/* containers open */
	struct pr_level lv[PR_MAX_DEPTH];
	unsigned indent;	/* text: columns of the current object */
	struct pr_line *lines;	/* text: pending "key value" lines */
	size_t nlines, caplines;
	struct pr_table table;	/* text: the table being collected */
	struct prom *prom;	/* Prometheus: the values go there (the
				   JSON shape, nothing printed); or NULL */
};

/*
 * pr_init - start printing to out, as JSON when json, else as text.
 * Nothing is written until the first call; out stays the caller's.
 */
void pr_init(struct pr *p, FILE *out, bool json);

struct prom;

/*
 * pr_init_prom - describe an answer to the Prometheus renderer m
 * (prom.h) instead of printing it.  p->json is true: commands that
 * shape their answer for JSON and text differently take the JSON shape,
 * which is what the renderer's rules name.
 */
void pr_init_prom(struct pr *p, struct prom *m);

/*
 * pr_finish - flush what text is still buffered, end the JSON with a
 * newline, and free the buffers.  Call it once, even after an error.
 * Returns 0, or -1 when the calls were misused (see above), memory ran
 * out, or containers were left open; the output is then incomplete.
 */
int pr_finish(struct pr *p);

/* pr_open_object - open an object named key (NULL in arrays / at top). */
void pr_open_object(struct pr *p, const char *key);
void pr_close_object(struct pr *p);

/* pr_open_array - open an array named key (NULL in arrays / at top). */
void pr_open_array(struct pr *p, const char *key);
void pr_close_array(struct pr *p);

/* Scalars.  key as above. */
void pr_u64(struct pr *p, const char *key, uint64_t v);
void pr_str(struct pr *p, const char *key, const char *s); /* JSON-escaped */
void pr_bool(struct pr *p, const char *key, bool v);
/* pr_addr - an IPv6 address (16 bytes, network order) as inet_ntop(). */
void pr_addr(struct pr *p, const char *key, const uint8_t a[16]);

#endif /* LBSPD_PR_H */
