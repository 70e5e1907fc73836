/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siphash.c -- SipHash-2-4, written from the description in section 2
 * of the paper (J.-P. Aumasson, D. J. Bernstein, "SipHash: a fast
 * short-input PRF", 2012): four 64-bit words of state, c = 2 SipRounds
 * per message word, d = 4 SipRounds of finalisation.
 */
#include <sp/siphash.h>

/* Read 8 bytes as a little-endian 64-bit word, whatever the host (a
 * compiler turns this into one load on a little-endian one). */
static inline uint64_t
sip_get64le(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	    (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	    (uint64_t)p[7] << 56;
}

#define SIP_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

/*
 * One SipRound: the ARX network of the paper's figure 2.1, on four
 * local words (kept in registers: the tables hash once or twice per
 * packet, and an out-of-line round over an array cost a third of
 * lbspd's per-packet time).
 */
#define SIP_ROUND(v0, v1, v2, v3) do {					\
	v0 += v1;							\
	v1 = SIP_ROTL(v1, 13);						\
	v1 ^= v0;							\
	v0 = SIP_ROTL(v0, 32);						\
	v2 += v3;							\
	v3 = SIP_ROTL(v3, 16);						\
	v3 ^= v2;							\
	v0 += v3;							\
	v3 = SIP_ROTL(v3, 21);						\
	v3 ^= v0;							\
	v2 += v1;							\
	v1 = SIP_ROTL(v1, 17);						\
	v1 ^= v2;							\
	v2 = SIP_ROTL(v2, 32);						\
} while (0)

/* Compression of one message word: c = 2 rounds. */
#define SIP_COMPRESS(v0, v1, v2, v3, m) do {				\
	v3 ^= (m);							\
	SIP_ROUND(v0, v1, v2, v3);					\
	SIP_ROUND(v0, v1, v2, v3);					\
	v0 ^= (m);							\
} while (0)

uint64_t
sp_siphash24(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t k0, k1, v0, v1, v2, v3, m, last;
	size_t left;
	int i;

	k0 = sip_get64le(key);
	k1 = sip_get64le(key + 8);
	/* Initialisation: key XOR "somepseudorandomlygeneratedbytes". */
	v0 = k0 ^ 0x736f6d6570736575ULL;
	v1 = k1 ^ 0x646f72616e646f6dULL;
	v2 = k0 ^ 0x6c7967656e657261ULL;
	v3 = k1 ^ 0x7465646279746573ULL;

	for (left = len; left >= 8; left -= 8, p += 8) {
		m = sip_get64le(p);
		SIP_COMPRESS(v0, v1, v2, v3, m);
	}

	/*
	 * Last word: the 0..7 remaining bytes little-endian, and the
	 * message length modulo 256 in the top byte.
	 */
	last = (uint64_t)(len & 0xff) << 56;
	for (i = (int)left - 1; i >= 0; i--)
		last |= (uint64_t)p[i] << (8 * i);
	SIP_COMPRESS(v0, v1, v2, v3, last);

	/* Finalisation: d = 4 rounds. */
	v2 ^= 0xff;
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}
