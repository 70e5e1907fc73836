/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log.h -- lbspd's logging vocabulary (after relayd): warnings with and
 * without errno, information, debug, and the two fatal exits.  To
 * stderr when running in the foreground, else to syslog.
 */
#ifndef LBSPD_LOG_H
#define LBSPD_LOG_H

#include <stdarg.h>

#define LOG_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Set where messages go and whether debug messages are shown. */
void log_init(const char *ident, int foreground, int debug);

void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);	/* + strerror(errno) */
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void fatal(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));

#endif
