/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_conf.c -- libFuzzer target for the configuration parser: any
 * bytes (NULs, binary, huge lines) must give a count of errors, each
 * with a line number inside the text, and never a crash or a read past
 * the input.
 */
#include <stdlib.h>
#include <string.h>

#include <sp/conf.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_errs {
	unsigned n;		/* errors reported */
	unsigned max_line;	/* largest line number reported */
};

static void
fuzz_err(void *arg, const char *file, unsigned line, const char *msg)
{
	struct fuzz_errs *e = arg;

	if (file == NULL || msg == NULL || msg[0] == '\0')
		abort();
	e->n++;
	if (line > e->max_line)
		e->max_line = line;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_errs e = { 0, 0 };
	struct sp_conf *conf;
	char *text;
	size_t lines = 1, i;
	int n;

	text = malloc(size ? size : 1);
	memcpy(text, data, size);
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	conf = sp_conf_new();
	if (conf == NULL)
		abort();
	n = sp_conf_parse(text, size, "fuzz.conf", conf, fuzz_err, &e);
	if (n < 0 || (unsigned)n != e.n || e.max_line > lines)
		abort();
	sp_conf_free(conf);
	free(text);
	return 0;
}
