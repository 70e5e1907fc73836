/* check_flow.c -- placeholder until the module lands. */
#include "suites.h"

Suite *
flow_suite(void)
{
	return suite_create("flow");
}
