/* check_siphash.c -- placeholder until the module lands. */
#include "suites.h"

Suite *
siphash_suite(void)
{
	return suite_create("siphash");
}
