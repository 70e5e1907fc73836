/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp/clock.h -- the one clock of lbsp: CLOCK_MONOTONIC, read in the
 * unit the caller counts in.
 *
 * libsp's modules take the time as an argument (now_ms) and never read
 * a clock themselves; these are for their callers (lbspd, the shims,
 * tests and benchmarks), so that every timestamp compared with another
 * comes from the same clock.  Monotonic: it does not jump with the
 * wall clock, and it is the clock of the kernel's bpf_ktime_get_ns(),
 * so times from lbsp's tc programs compare with sp_now_ns().
 *
 * The only system call of libsp besides peer.c's socket option.
 */
#ifndef SP_CLOCK_H
#define SP_CLOCK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Public API: exported from libsp.so (built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

/* sp_now_ms - the monotonic clock, milliseconds. */
uint64_t sp_now_ms(void);

/* sp_now_us - the same clock, microseconds (probe round trips). */
uint64_t sp_now_us(void);

/* sp_now_ns - the same clock, nanoseconds (as bpf_ktime_get_ns()). */
uint64_t sp_now_ns(void);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* SP_CLOCK_H */
