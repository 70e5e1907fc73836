/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp/siphash.h -- SipHash-2-4, the keyed 64-bit pseudo-random function of
 * Aumasson and Bernstein ("SipHash: a fast short-input PRF", 2012).
 *
 * libsp hashes every table key and every scheduling key with a secret
 * 16-byte key chosen by the daemon, so nobody outside can predict which
 * bucket a key falls in (no hash-flooding of the flow table) or aim a
 * session at a chosen server (RFC 7098 §5).
 *
 * Threading: no shared state; safe from any thread.
 */
#ifndef SP_SIPHASH_H
#define SP_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Public API: exported from libsp.so (built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

#define SP_SIPHASH_KEYLEN 16	/* bytes in a SipHash key */

/*
 * sp_siphash24 - SipHash-2-4 of len bytes at data under the 16-byte key.
 * @key: k0 = key[0..8) and k1 = key[8..16), each read little-endian,
 *       as in the paper.
 * @data: the message; may be NULL when len is 0.
 * Returns the 64-bit tag.  The paper prints a tag as its eight
 * little-endian bytes: store it with the low byte first to compare.
 * Why: one keyed hash for every table and for the "hash" scheduler, so
 * hash outputs are unpredictable without the daemon's secret.
 */
uint64_t sp_siphash24(const uint8_t key[16], const void *data, size_t len);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* SP_SIPHASH_H */
