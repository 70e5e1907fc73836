/* SPDX-License-Identifier: GPL-2.0-or-later */
/* suites.h -- one check suite per libsp module, run by runner.c. */
#ifndef SUITES_H
#define SUITES_H

#include <check.h>

Suite *exthdr_suite(void);
Suite *dopt_suite(void);
Suite *csum_suite(void);
Suite *tcp_suite(void);
Suite *siphash_suite(void);
Suite *flow_suite(void);
Suite *stick_suite(void);
Suite *cache_suite(void);
Suite *conf_suite(void);
Suite *sched_suite(void);
Suite *health_suite(void);
Suite *at_suite(void);		/* the writers on the caller's walk */
Suite *prom_suite(void);	/* lbspd's Prometheus renderer */

#endif
