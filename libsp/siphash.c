/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siphash.c -- SipHash-2-4, written from the description in section 2
 * of the paper (J.-P. Aumasson, D. J. Bernstein, "SipHash: a fast
 * short-input PRF", 2012): four 64-bit words of state, c = 2 SipRounds
 * per message word, d = 4 SipRounds of finalisation.
 */
#include <sp/siphash.h>

/* Read 8 bytes as a little-endian 64-bit word, whatever the host. */
static uint64_t
sip_get64le(const uint8_t *p)
{
	uint64_t w = 0;
	int i;

	for (i = 7; i >= 0; i--)
		w = (w << 8) | p[i];
	return w;
}

static uint64_t
sip_rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

/* One SipRound: the ARX network of the paper's figure 2.1. */
static void
sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = sip_rotl(v[1], 13);
	v[1] ^= v[0];
	v[0] = sip_rotl(v[0], 32);
	v[2] += v[3];
	v[3] = sip_rotl(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = sip_rotl(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = sip_rotl(v[1], 17);
	v[1] ^= v[2];
	v[2] = sip_rotl(v[2], 32);
}

/* Compression of one message word: c = 2 rounds. */
static void
sip_compress(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sip_round(v);
	sip_round(v);
	v[0] ^= m;
}

uint64_t
sp_siphash24(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t k0, k1, v[4], last;
	size_t left;
	int i;

	k0 = sip_get64le(key);
	k1 = sip_get64le(key + 8);
	/* Initialisation: key XOR "somepseudorandomlygeneratedbytes". */
	v[0] = k0 ^ 0x736f6d6570736575ULL;
	v[1] = k1 ^ 0x646f72616e646f6dULL;
	v[2] = k0 ^ 0x6c7967656e657261ULL;
	v[3] = k1 ^ 0x7465646279746573ULL;

	for (left = len; left >= 8; left -= 8, p += 8)
		sip_compress(v, sip_get64le(p));

	/*
	 * Last word: the 0..7 remaining bytes little-endian, and the
	 * message length modulo 256 in the top byte.
	 */
	last = (uint64_t)(len & 0xff) << 56;
	for (i = (int)left - 1; i >= 0; i--)
		last |= (uint64_t)p[i] << (8 * i);
	sip_compress(v, last);

	/* Finalisation: d = 4 rounds. */
	v[2] ^= 0xff;
	for (i = 0; i < 4; i++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}
