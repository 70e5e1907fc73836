/* check_stick.c -- placeholder until the module lands. */
#include "suites.h"

Suite *
stick_suite(void)
{
	return suite_create("stick");
}
