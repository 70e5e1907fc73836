/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * print.c -- see print.h.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "control/print.h"
#include "control/prom.h"

void
pr_init(struct pr *p, FILE *out, bool json)
{
	memset(p, 0, sizeof(*p));
	p->out = out;
	p->json = json;
}

void
pr_init_prom(struct pr *p, struct prom *m)
{
	memset(p, 0, sizeof(*p));
	p->json = true;
	p->prom = m;
}

static struct pr_level *
pr_cur(struct pr *p)
{
	return p->depth > 0 ? &p->lv[p->depth - 1] : NULL;
}

/* ------------------------------------------------------------ JSON */

static void
json_escape(FILE *out, const char *s)
{
	const unsigned char *u;

	fputc('"', out);
	for (u = (const unsigned char *)s; *u != '\0'; u++) {
		switch (*u) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			/* Control bytes and non-ASCII: never invalid JSON. */
			if (*u < 0x20 || *u >= 0x7f)
				fprintf(out, "\\u%04x", *u);
			else
				fputc(*u, out);
		}
	}
	fputc('"', out);
}

/*
 * Before a JSON value: the comma, a new line and indentation, and the
 * key inside objects.  Returns -1 (and marks the printer failed) when
 * the value has no place: a second outermost value, no key in an object.
 */
static int
json_sep(struct pr *p, const char *key)
{
	struct pr_level *cur = pr_cur(p);

	if (cur == NULL) {
		if (p->started) {
			p->failed = true;
			return -1;
		}
		p->started = true;
		return 0;
	}
	if (!cur->array && key == NULL) {
		p->failed = true;
		return -1;
	}
	if (!cur->empty)
		fputc(',', p->out);
	cur->empty = false;
	fprintf(p->out, "\n%*s", (int)(2 * p->depth), "");
	if (!cur->array) {
		json_escape(p->out, key);
		fputs(": ", p->out);
	}
	return 0;
}

/* ------------------------------------------------------------ text */

static char *
text_dup(struct pr *p, const char *s)
{
	char *d;

	d = strdup(s);
	if (d == NULL)
		p->failed = true;
	return d;
}

/* Printable copy of s: control bytes become '?', "" becomes "-". */
static void
text_clean(char *dst, size_t size, const char *s)
{
	size_t i;

	if (*s == '\0')
		s = "-";
	for (i = 0; s[i] != '\0' && i + 1 < size; i++)
		dst[i] = (s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	dst[i] = '\0';
}

static int
text_add_line(struct pr *p, const char *key, const char *val, size_t *idx)
{
	struct pr_line *nl;
	size_t cap;

	if (p->nlines == p->caplines) {
		cap = p->caplines ? 2 * p->caplines : 16;
		nl = realloc(p->lines, cap * sizeof(*nl));
		if (nl == NULL) {
			p->failed = true;
			return -1;
		}
		p->lines = nl;
		p->caplines = cap;
	}
	nl = &p->lines[p->nlines];
	nl->key = text_dup(p, key);
	nl->val = text_dup(p, val);
	nl->indent = p->indent;
	if (nl->key == NULL || nl->val == NULL) {
		free(nl->key);
		free(nl->val);
		return -1;
	}
	if (idx != NULL)
		*idx = p->nlines;
	p->nlines++;
	return 0;
}

/* Print the pending "key value" lines, values aligned, and drop them. */
static void
text_flush_lines(struct pr *p)
{
	size_t i, w = 0, n;

	for (i = 0; i < p->nlines; i++) {
		n = strlen(p->lines[i].key);
		if (n > w)
			w = n;
	}
	for (i = 0; i < p->nlines; i++) {
		if (p->lines[i].val[0] == '\0')
			fprintf(p->out, "%*s%s\n", (int)p->lines[i].indent, "",
			    p->lines[i].key);
		else
			fprintf(p->out, "%*s%-*s %s\n",
			    (int)p->lines[i].indent, "", (int)w,
			    p->lines[i].key, p->lines[i].val);
		free(p->lines[i].key);
		free(p->lines[i].val);
	}
	p->nlines = 0;
}

static void
text_table_free(struct pr_table *t)
{
	size_t i;

	for (i = 0; i < t->ncols; i++)
		free(t->head[i]);
	for (i = 0; i < t->ncells; i++)
		free(t->cells[i].s);
	free(t->head);
	free(t->num);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

static void
text_table_cell(struct pr *p, const char *key, const char *s, bool num)
{
	struct pr_table *t = &p->table;
	struct pr_cell *nc;
	size_t col, cap;
	char **nh;
	bool *nn;

	for (col = 0; col < t->ncols; col++)
		if (strcmp(t->head[col], key) == 0)
			break;
	if (col == t->ncols) {
		if (t->ncols == t->capcols) {
			cap = t->capcols ? 2 * t->capcols : 16;
			nh = realloc(t->head, cap * sizeof(*nh));
			if (nh == NULL)
				goto fail;
			t->head = nh;
			nn = realloc(t->num, cap * sizeof(*nn));
			if (nn == NULL)
				goto fail;
			t->num = nn;
			t->capcols = cap;
		}
		if ((t->head[col] = strdup(key)) == NULL)
			goto fail;
		t->num[col] = true;
		t->ncols++;
	}
	if (t->ncells == t->capcells) {
		cap = t->capcells ? 2 * t->capcells : 64;
		nc = realloc(t->cells, cap * sizeof(*nc));
		if (nc == NULL)
			goto fail;
		t->cells = nc;
		t->capcells = cap;
	}
	nc = &t->cells[t->ncells];
	nc->row = t->nrows - 1;
	nc->col = col;
	if ((nc->s = strdup(s)) == NULL)
		goto fail;
	t->ncells++;
	if (!num)
		t->num[col] = false;
	return;
fail:
	p->failed = true;
}

/* Print the collected table, columns aligned, and free it. */
static void
text_table_print(struct pr *p)
{
	struct pr_table *t = &p->table;
	const char **grid = NULL;
	size_t *w = NULL, r, c, n;
	const char *s;

	if (t->nrows == 0 || t->ncols == 0)
		goto out;
	grid = calloc(t->nrows * t->ncols, sizeof(*grid));
	w = calloc(t->ncols, sizeof(*w));
	if (grid == NULL || w == NULL) {
		p->failed = true;
		goto out;
	}
	for (c = 0; c < t->ncols; c++)
		w[c] = strlen(t->head[c]);
	for (n = 0; n < t->ncells; n++) {
		grid[t->cells[n].row * t->ncols + t->cells[n].col] =
		    t->cells[n].s;
		if (strlen(t->cells[n].s) > w[t->cells[n].col])
			w[t->cells[n].col] = strlen(t->cells[n].s);
	}
	for (r = 0; r <= t->nrows; r++) {
		fprintf(p->out, "%*s", (int)t->indent, "");
		for (c = 0; c < t->ncols; c++) {
			if (r == 0)
				s = t->head[c];
			else if ((s = grid[(r - 1) * t->ncols + c]) == NULL)
				s = "-";
			if (c > 0)
				fputs("  ", p->out);
			if (t->num[c])
				fprintf(p->out, "%*s", (int)w[c], s);
			else if (c + 1 < t->ncols)
				fprintf(p->out, "%-*s", (int)w[c], s);
			else
				fputs(s, p->out);
		}
		fputc('\n', p->out);
	}
out:
	free(grid);
	free(w);
	text_table_free(t);
}

/* One text scalar, already formatted; num: right-align it in tables. */
static void
text_scalar(struct pr *p, const char *key, const char *raw, bool num)
{
	struct pr_level *cur = pr_cur(p), *parent;
	struct pr_line *l;
	char s[256], *nv;
	size_t n;

	text_clean(s, sizeof(s), raw);
	if (cur == NULL) {
		p->failed = true;
		return;
	}
	if (!cur->array) {
		if (key == NULL) {
			p->failed = true;
			return;
		}
		if (cur->row)
			text_table_cell(p, key, s, num);
		else
			text_add_line(p, key, s, NULL);
		return;
	}
	switch (cur->text_mode) {
	case PR_TEXT_UNDECIDED:
		cur->text_mode = PR_TEXT_INLINE;
		cur->line = SIZE_MAX;
		parent = p->depth >= 2 ? &p->lv[p->depth - 2] : NULL;
		if (parent != NULL && !parent->array && !parent->row &&
		    cur->key != NULL) {
			text_add_line(p, cur->key, s, &cur->line);
			return;
		}
		if (parent != NULL) {
			p->failed = true;	/* arrays in arrays or rows */
			return;
		}
		break;
	case PR_TEXT_INLINE:
		if (cur->line == SIZE_MAX)
			break;
		l = &p->lines[cur->line];
		n = strlen(l->val);
		nv = realloc(l->val, n + 1 + strlen(s) + 1);
		if (nv == NULL) {
			p->failed = true;
			return;
		}
		nv[n] = ' ';
		memcpy(nv + n + 1, s, strlen(s) + 1);
		l->val = nv;
		return;
	default:
		p->failed = true;	/* scalars mixed with table rows */
		return;
	}
	fprintf(p->out, "%s\n", s);	/* outermost array: one a line */
}

static void
text_open(struct pr *p, const char *key, bool array)
{
	struct pr_level *cur = pr_cur(p), *nl;

	if (p->depth == PR_MAX_DEPTH) {
		p->failed = true;
		return;
	}
	nl = &p->lv[p->depth];
	memset(nl, 0, sizeof(*nl));
	nl->array = array;
	nl->key = key;
	nl->indent = p->indent;
	if (cur == NULL) {
		if (p->started)
			goto fail;
		p->started = true;
	} else if (cur->row) {
		goto fail;		/* a table cell holds a scalar */
	} else if (cur->array) {
		if (array || cur->text_mode == PR_TEXT_INLINE)
			goto fail;
		if (cur->text_mode == PR_TEXT_UNDECIDED) {
			if (p->table.active)
				goto fail;	/* no table in a table */
			text_flush_lines(p);
			cur->text_mode = PR_TEXT_TABLE;
			p->table.active = true;
			p->table.indent = p->indent;
			if (cur->key != NULL) {
				fprintf(p->out, "%*s%s:\n", (int)p->indent,
				    "", cur->key);
				p->table.indent += 2;
			}
		}
		p->table.nrows++;
		nl->row = true;
	} else {
		if (key == NULL)
			goto fail;
		if (!array) {
			text_flush_lines(p);
			fprintf(p->out, "%*s%s:\n", (int)p->indent, "", key);
			p->indent += 2;
		}
	}
	p->depth++;
	return;
fail:
	p->failed = true;
}

static void
text_close(struct pr *p, bool array)
{
	struct pr_level *cur = pr_cur(p), *parent;

	if (cur == NULL || cur->array != array) {
		p->failed = true;
		return;
	}
	parent = p->depth >= 2 ? &p->lv[p->depth - 2] : NULL;
	if (!array && !cur->row)
		text_flush_lines(p);
	if (array && cur->text_mode == PR_TEXT_TABLE)
		text_table_print(p);
	if (array && cur->text_mode == PR_TEXT_UNDECIDED &&
	    parent != NULL && !parent->array && cur->key != NULL)
		text_add_line(p, cur->key, "", NULL);	/* empty list */
	p->indent = cur->indent;
	p->depth--;
}

/* ------------------------------------------------------------ API */

static void
pr_open(struct pr *p, const char *key, bool array)
{
	if (p->prom != NULL) {
		if (p->depth == PR_MAX_DEPTH) {
			p->failed = true;
			return;
		}
		p->lv[p->depth].array = array;
		p->depth++;
		prom_open(p->prom, key, array);
		return;
	}
	if (!p->json) {
		text_open(p, key, array);
		return;
	}
	if (p->depth == PR_MAX_DEPTH) {
		p->failed = true;
		return;
	}
	if (json_sep(p, key) == -1)
		return;
	fputc(array ? '[' : '{', p->out);
	memset(&p->lv[p->depth], 0, sizeof(p->lv[p->depth]));
	p->lv[p->depth].array = array;
	p->lv[p->depth].empty = true;
	p->lv[p->depth].key = key;
	p->depth++;
}

static void
pr_close(struct pr *p, bool array)
{
	struct pr_level *cur = pr_cur(p);

	if (p->prom != NULL) {
		if (cur == NULL || cur->array != array) {
			p->failed = true;
			return;
		}
		p->depth--;
		prom_close(p->prom);
		return;
	}
	if (!p->json) {
		text_close(p, array);
		return;
	}
	if (cur == NULL || cur->array != array) {
		p->failed = true;
		return;
	}
	p->depth--;
	if (!cur->empty)
		fprintf(p->out, "\n%*s", (int)(2 * p->depth), "");
	fputc(array ? ']' : '}', p->out);
}

void
pr_open_object(struct pr *p, const char *key)
{
	pr_open(p, key, false);
}

void
pr_close_object(struct pr *p)
{
	pr_close(p, false);
}

void
pr_open_array(struct pr *p, const char *key)
{
	pr_open(p, key, true);
}

void
pr_close_array(struct pr *p)
{
	pr_close(p, true);
}

void
pr_u64(struct pr *p, const char *key, uint64_t v)
{
	char buf[24];

	if (p->prom != NULL) {
		prom_u64(p->prom, key, v);
		return;
	}
	if (p->json) {
		if (json_sep(p, key) == 0)
			fprintf(p->out, "%" PRIu64, v);
		return;
	}
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	text_scalar(p, key, buf, true);
}

void
pr_str(struct pr *p, const char *key, const char *s)
{
	if (s == NULL)
		s = "";
	if (p->prom != NULL) {
		prom_str(p->prom, key, s);
		return;
	}
	if (p->json) {
		if (json_sep(p, key) == 0)
			json_escape(p->out, s);
		return;
	}
	text_scalar(p, key, s, false);
}

void
pr_bool(struct pr *p, const char *key, bool v)
{
	if (p->prom != NULL) {
		prom_bool(p->prom, key, v);
		return;
	}
	if (p->json) {
		if (json_sep(p, key) == 0)
			fputs(v ? "true" : "false", p->out);
		return;
	}
	text_scalar(p, key, v ? "yes" : "no", false);
}

void
pr_addr(struct pr *p, const char *key, const uint8_t a[16])
{
	char buf[INET6_ADDRSTRLEN];

	if (inet_ntop(AF_INET6, a, buf, sizeof(buf)) == NULL) {
		p->failed = true;
		return;
	}
	pr_str(p, key, buf);
}

int
pr_finish(struct pr *p)
{
	size_t i;

	if (p->depth != 0)
		p->failed = true;
	if (p->prom != NULL)
		return p->failed ? -1 : 0;
	if (p->json) {
		if (p->started)
			fputc('\n', p->out);
	} else {
		if (!p->failed)
			text_flush_lines(p);
		for (i = 0; i < p->nlines; i++) {
			free(p->lines[i].key);
			free(p->lines[i].val);
		}
		text_table_free(&p->table);
	}
	free(p->lines);
	p->lines = NULL;
	p->nlines = p->caplines = 0;
	if (fflush(p->out) == EOF || ferror(p->out))
		p->failed = true;
	return p->failed ? -1 : 0;
}
