/* check_cache.c -- placeholder until the module lands. */
#include "suites.h"

Suite *
cache_suite(void)
{
	return suite_create("cache");
}
