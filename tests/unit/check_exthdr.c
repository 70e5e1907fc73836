/* check_exthdr.c -- placeholder until the module lands. */
#include "suites.h"

Suite *
exthdr_suite(void)
{
	return suite_create("exthdr");
}
