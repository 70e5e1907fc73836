/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * request.h -- a control request line read as a command, and the
 * control socket's own counters (lbspctl stats, "control").
 *
 * The line's grammar is in commands.c's description.  Every refusal is
 * a clear "error: MESSAGE" answer and is counted in control_ctr.errors.
 */
#ifndef LBSPD_REQUEST_H
#define LBSPD_REQUEST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "system/log.h"

#define CONTROL_MAX_WORDS	16	/* words of a request */

/* The commands, in the order of control_commands[]. */
enum control_cmd {
	CONTROL_STATS,
	CONTROL_FLOWS,
	CONTROL_CACHE,
	CONTROL_STICK,
	CONTROL_SERVERS,
	CONTROL_DRAIN,
	CONTROL_ENABLE,
	CONTROL_WEIGHT,
	CONTROL_RELOAD,
	CONTROL__CMDS
};

/* A command's name and the words it takes. */
struct control_command {
	const char *name;
	int minargs;		/* words after the command, --json aside */
	int maxargs;
	const char *args;	/* for the usage error */
};

extern const struct control_command control_commands[CONTROL__CMDS];

/* One request, read. */
struct control_request {
	enum control_cmd cmd;
	bool json;		/* "--json" / "-j": JSON output */
	bool end;		/* "--end": the answer ends with a NUL */
	int argc;		/* words after the command */
	char *argv[CONTROL_MAX_WORDS];	/* argv[0] is the command; they
					   point into the line */
	char err[256];		/* the error message, if any */
};

/* The control socket's counters (lbspctl stats, "control"). */
struct control_counters {
	_Atomic uint64_t requests;	/* connections served */
	_Atomic uint64_t errors;	/* "error:" answers sent */
};

extern struct control_counters control_ctr;

/*
 * control_request_parse - read line (len bytes, NUL-terminated there,
 * without its "\n"; split in place) into *r.  Returns 0, or -1 with
 * r->err saying why: a byte that is not printable ASCII or a tab (a
 * NUL inside included), no word, more than CONTROL_MAX_WORDS words, an
 * unknown command, or the wrong number of words for it.  r->end is set
 * as soon as it is read, so that an error answer also ends with the
 * mark the client asked for.
 */
int control_request_parse(char *line, size_t len, struct control_request *r);

/* control_request_error - format r->err; returns -1 (for "return"). */
int control_request_error(struct control_request *r, const char *fmt, ...)
    LOG_PRINTF(2, 3);

/*
 * control_error_answer - the answer "error: MSG\n" (then a NUL when
 * end), malloc'd into *ans / *anslen (NULL, 0 without memory), counted
 * in control_ctr.errors and logged at debug level.
 */
void control_error_answer(const char *msg, bool end, char **ans,
    size_t *anslen);

#endif /* LBSPD_REQUEST_H */
