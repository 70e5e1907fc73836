/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * request.c -- a control request line read as a command (request.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/request.h"
#include "system/log.h"

const struct control_command control_commands[CONTROL__CMDS] = {
	[CONTROL_STATS] = { .name = "stats", .args = "" },
	[CONTROL_FLOWS] = { .name = "flows", .args = "" },
	[CONTROL_CACHE] = { .name = "cache", .args = "" },
	[CONTROL_STICK] = { .name = "stick", .args = "" },
	[CONTROL_SERVERS] = { .name = "servers", .args = "" },
	[CONTROL_DRAIN] = { .name = "drain", .minargs = 2, .maxargs = 2,
	    .args = " VIP SERVER" },
	[CONTROL_ENABLE] = { .name = "enable", .minargs = 2, .maxargs = 2,
	    .args = " VIP SERVER" },
	[CONTROL_WEIGHT] = { .name = "weight", .minargs = 3, .maxargs = 3,
	    .args = " VIP SERVER N" },
	[CONTROL_RELOAD] = { .name = "reload", .args = "" },
};

struct control_counters control_ctr;

int
control_request_error(struct control_request *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return -1;
}

int
control_request_parse(char *line, size_t len, struct control_request *r)
{
	const struct control_command *cmd;
	char *w, *save = NULL;
	size_t i;
	int n = 0;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < len; i++)
		if ((line[i] < 0x20 && line[i] != '\t') || line[i] >= 0x7f)
			return control_request_error(r, "malformed request");
	for (w = strtok_r(line, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save)) {
		if (n > 0 && (strcmp(w, "--json") == 0 ||
		    strcmp(w, "-j") == 0)) {
			r->json = true;
			continue;
		}
		if (n > 0 && strcmp(w, "--end") == 0) {
			r->end = true;
			continue;
		}
		if (n == CONTROL_MAX_WORDS)
			return control_request_error(r, "too many words");
		r->argv[n++] = w;
	}
	if (n == 0)
		return control_request_error(r, "empty request");
	for (i = 0; i < CONTROL__CMDS; i++)
		if (strcmp(control_commands[i].name, r->argv[0]) == 0)
			break;
	if (i == CONTROL__CMDS)
		return control_request_error(r, "unknown command '%.64s'",
		    r->argv[0]);
	cmd = &control_commands[i];
	if (n - 1 < cmd->minargs || n - 1 > cmd->maxargs)
		return control_request_error(r, "usage: %s%s [--json]",
		    cmd->name, cmd->args);
	r->cmd = (enum control_cmd)i;
	r->argc = n - 1;
	return 0;
}

void
control_error_answer(const char *msg, bool end, char **ans, size_t *anslen)
{
	FILE *f;

	atomic_fetch_add_explicit(&control_ctr.errors, 1,
	    memory_order_relaxed);
	log_debug("control: error: %s", msg);
	*ans = NULL;
	*anslen = 0;
	if ((f = open_memstream(ans, anslen)) == NULL)
		return;
	fprintf(f, "error: %s\n", msg);
	if (end)
		fputc('\0', f);
	if (fclose(f) == EOF) {
		free(*ans);
		*ans = NULL;
		*anslen = 0;
	}
}
