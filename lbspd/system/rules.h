/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rules.h -- the ip6tables rules that steer packets to lbspd's queues.
 */
#ifndef LBSPD_RULES_H
#define LBSPD_RULES_H

#include <stdio.h>

#include <sp/conf.h>


#include "conf_priv.h"	/* layout of sp_conf: see that file */

/* Write the ip6tables-restore input for conf ("--print-rules"). */
/* Roles (SP_CONF_ROLE_* bits) whose packets the tc programs handle:
 * no steering rules for them. */
void rules_set_tc_roles(unsigned roles);

void rules_print(const struct sp_conf *conf, FILE *out);

/*
 * Install them: first remove any chains of ours left by an instance
 * that died on the same queue, then "ip6tables-restore --noflush".
 * Returns 0, or -1 after logging ip6tables-restore's complaint.
 */
int rules_install(const struct sp_conf *conf);

/*
 * Replace the running rules with conf's (a reload): one
 * "ip6tables-restore --noflush" declares every chain, which flushes it,
 * and fills it in the same transaction, so no packet meets missing
 * rules.  The jumps from the built-in chains stay as they are.  Returns
 * 0, or -1 after logging the complaint (the rules then are the old ones,
 * or in the tables whose transaction went through, the new ones).
 */
int rules_replace(const struct sp_conf *conf);

/* Remove exactly our chains and the jumps to them; nothing else. */
void rules_remove(const struct sp_conf *conf);

#endif
