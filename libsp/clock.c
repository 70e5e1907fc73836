/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * clock.c -- the one clock of lbsp (sp/clock.h).
 */
#include <time.h>

#include <sp/clock.h>

uint64_t
sp_now_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer (clock_gettime(2):
	 * EINVAL and EFAULT only), so there is no error to return. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
sp_now_us(void)
{
	return sp_now_ns() / 1000;
}

uint64_t
sp_now_ms(void)
{
	return sp_now_ns() / 1000000;
}
