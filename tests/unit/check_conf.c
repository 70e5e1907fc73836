/* check_conf.c -- placeholder until the module lands. */
#include "suites.h"

Suite *
conf_suite(void)
{
	return suite_create("conf");
}
