/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * selftest.h -- which ways of putting the option on a packet work on
 * the running kernel (doc/design.md §4), tested at start-up.
 */
#ifndef LBSPD_SELFTEST_H
#define LBSPD_SELFTEST_H

#include "lbspd.h"

/*
 * In a child process, in a private network namespace with only
 * loopback: send a UDP probe through an NFQUEUE rule and insert the
 * option in the verdict; send another with IPV6_DSTOPTS set on the
 * socket; see which arrive carrying the option.  Fills paths (never
 * claims a path works that it did not see work).  Needs root; bounded
 * to a few seconds.
 */
void selftest_run(struct lbspd_paths *paths, uint8_t type);

#endif
