/* check_csum.c -- placeholder until the module lands. */
#include "suites.h"

Suite *
csum_suite(void)
{
	return suite_create("csum");
}
