/* check_dopt.c -- placeholder until the module lands. */
#include "suites.h"

Suite *
dopt_suite(void)
{
	return suite_create("dopt");
}
