/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * runner.c -- runs every libsp check suite; exits non-zero when any test
 * fails.  "check_libsp SUITE..." runs only the named suites.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"

static const struct {
	const char *name;
	Suite *(*make)(void);
} suites[] = {
	{ "exthdr", exthdr_suite },
	{ "dopt", dopt_suite },
	{ "csum", csum_suite },
	{ "tcp", tcp_suite },
	{ "at", at_suite },
	{ "siphash", siphash_suite },
	{ "flow", flow_suite },
	{ "stick", stick_suite },
	{ "cache", cache_suite },
	{ "conf", conf_suite },
	{ "sched", sched_suite },
	{ "health", health_suite },
	{ "prom", prom_suite },
};

static int
wanted(const char *name, int argc, char **argv)
{
	int i;

	if (argc < 2)
		return 1;
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	SRunner *sr = NULL;
	size_t i;
	int failed;

	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		if (!wanted(suites[i].name, argc, argv))
			continue;
		if (sr == NULL)
			sr = srunner_create(suites[i].make());
		else
			srunner_add_suite(sr, suites[i].make());
	}
	if (sr == NULL) {
		fprintf(stderr, "check_libsp: no such suite\n");
		return 2;
	}
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
