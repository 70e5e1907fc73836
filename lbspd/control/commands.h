/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * commands.h -- what the control socket answers (commands.c).
 */
#ifndef LBSPD_COMMANDS_H
#define LBSPD_COMMANDS_H

#include <stddef.h>

struct lbspd;

/*
 * control_answer - the answer to one request line of len bytes
 * (NUL-terminated there, without its "\n" or "\r\n"; modified): a
 * command of lbspctl or a shim's request.  *passfd, a descriptor sent
 * with the line or -1, is consumed (used or closed; -1 after).  The
 * answer is malloc'd into *ans / *anslen; NULL: none (out of memory),
 * the connection is closed without one.
 */
void control_answer(struct lbspd *d, char *line, size_t len, int *passfd,
    char **ans, size_t *anslen);

#endif /* LBSPD_COMMANDS_H */
