/* check_tcp.c -- placeholder until the module lands. */
#include "suites.h"

Suite *
tcp_suite(void)
{
	return suite_create("tcp");
}
