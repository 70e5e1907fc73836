/* SPDX-License-Identifier: GPL-2.0-or-later */
/* testpkt.c -- see testpkt.h. */
#include <stdlib.h>
#include <string.h>

#include "testpkt.h"

const uint8_t tp_src[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1 };
const uint8_t tp_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xf, [14] = 1 };
const uint8_t tp_seg1[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1 };
const uint8_t tp_server[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 5, [15] = 1 };

void
tp_addr(uint8_t a[16], uint16_t net, uint32_t n)
{
	memset(a, 0, 16);
	a[0] = 0x20;
	a[1] = 0x01;
	a[2] = 0x0d;
	a[3] = 0xb8;
	a[4] = (uint8_t)(net >> 8);
	a[5] = (uint8_t)net;
	a[12] = (uint8_t)(n >> 24);
	a[13] = (uint8_t)(n >> 16);
	a[14] = (uint8_t)(n >> 8);
	a[15] = (uint8_t)n;
}

uint32_t
tp_rand(uint32_t *s)
{
	uint32_t x = *s ? *s : 0x9e3779b9u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static size_t
ext_len(char c)
{
	switch (c) {
	case 'H': case 'D': case 'F': case 'f': return 8;
	case 'L': return 40;
	case 'R': case 'A': return 24;
	case 'E': return 0;
	default: return 0;
	}
}

static uint8_t
ext_nh(char c)
{
	switch (c) {
	case 'H': return 0;
	case 'D': case 'L': return 60;
	case 'R': return 43;
	case 'F': case 'f': return 44;
	case 'A': return 51;
	case 'E': return 50;
	default: return 255;
	}
}

size_t
tp_l4_off(const struct tp_spec *spec)
{
	size_t off = 40;
	const char *e;

	for (e = spec->ext ? spec->ext : ""; *e; e++)
		off += ext_len(*e);
	return off;
}

uint16_t
tp_ref_csum(const uint8_t *pkt, size_t len, size_t l4_off, uint8_t proto)
{
	uint64_t sum = 0;
	size_t i, l4len = len - l4_off;
	size_t coff = proto == 6 ? 16 : proto == 17 ? 6 : 2;

	for (i = 8; i < 40; i += 2)
		sum += (uint32_t)(pkt[i] << 8 | pkt[i + 1]);
	sum += (uint32_t)l4len;
	sum += proto;
	for (i = 0; i < l4len; i++) {
		uint8_t b = (i == coff || i == coff + 1) ? 0 : pkt[l4_off + i];
		sum += (i & 1) ? b : (uint32_t)b << 8;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	if (proto == 17 && sum == 0)
		sum = 0xffff;
	return (uint16_t)sum;
}

size_t
tp_build(uint8_t *b, const struct tp_spec *spec)
{
	const char *e = spec->ext ? spec->ext : "";
	uint32_t rs = spec->seed ? spec->seed : 1;
	size_t off = 40, l4 = tp_l4_off(spec), hl = 0, len, i;
	uint8_t *nhp = &b[6];

	memset(b, 0, TP_MAX);
	b[0] = 0x60 | (uint8_t)((spec->flowlabel >> 16) & 0x0f);
	b[1] = (uint8_t)(spec->flowlabel >> 8);
	b[2] = (uint8_t)spec->flowlabel;
	b[7] = 64;
	memcpy(&b[8], tp_src, 16);
	memcpy(&b[24], tp_dst, 16);

	for (; *e; e++) {
		size_t l = ext_len(*e);

		*nhp = ext_nh(*e);
		if (*e == 'E') {
			/* ESP: SPI, sequence, opaque data to the end. */
			nhp = NULL;
			break;
		}
		nhp = &b[off];
		switch (*e) {
		case 'H':
			b[off + 1] = 0;
			b[off + 2] = 1; b[off + 3] = 4;	/* PadN(4) */
			break;
		case 'D':
			b[off + 1] = 0;
			b[off + 2] = 0x1f; b[off + 3] = 4;
			b[off + 4] = 0xd0; b[off + 5] = 0xd1;
			b[off + 6] = 0xd2; b[off + 7] = 0xd3;
			break;
		case 'L':
			b[off + 1] = 4;
			b[off + 2] = 1; b[off + 3] = 2;
			b[off + 6] = 0x1e; b[off + 7] = 32;
			memcpy(&b[off + 8], tp_seg1, 16);
			break;
		case 'R':
			b[off + 1] = 2;		/* 24 bytes */
			b[off + 2] = 4;		/* routing type 4 */
			b[off + 3] = 0;		/* segments left */
			memcpy(&b[off + 8], tp_dst, 16);
			break;
		case 'F':
			b[off + 3] = 1;		/* offset 0, M = 1 */
			b[off + 4] = 0x12; b[off + 7] = 0x34;
			break;
		case 'f':
			b[off + 2] = (uint8_t)((185 << 3) >> 8);
			b[off + 3] = (uint8_t)(185 << 3);	/* M = 0 */
			b[off + 4] = 0x12; b[off + 7] = 0x34;
			break;
		case 'A':
			b[off + 1] = 4;		/* (4 + 2) * 4 = 24 bytes */
			b[off + 4] = 0xaa;	/* SPI */
			break;
		default:
			abort();		/* a test named a letter not above */
		}
		off += l;
	}

	if (nhp == NULL) {		/* ESP: opaque to the end */
		len = off + 8 + spec->payload;
		for (i = off; i < len; i++)
			b[i] = (uint8_t)tp_rand(&rs);
		b[4] = (uint8_t)((len - 40) >> 8);
		b[5] = (uint8_t)(len - 40);
		return len;
	}
	*nhp = spec->proto;
	switch (spec->proto) {
	case 6:
		hl = (spec->tcp_flags & 0x02) ? 24 : 20;
		b[l4 + 0] = (uint8_t)tp_rand(&rs) | 0x80;
		b[l4 + 1] = (uint8_t)tp_rand(&rs);
		b[l4 + 2] = 0; b[l4 + 3] = 80;
		for (i = 4; i < 12; i++)
			b[l4 + i] = (uint8_t)tp_rand(&rs);
		b[l4 + 12] = (uint8_t)((hl / 4) << 4);
		b[l4 + 13] = spec->tcp_flags;
		b[l4 + 14] = 0xff; b[l4 + 15] = 0xff;
		if (hl == 24) {
			uint16_t mss = spec->mss ? spec->mss : 1440;
			b[l4 + 20] = 2; b[l4 + 21] = 4;
			b[l4 + 22] = (uint8_t)(mss >> 8);
			b[l4 + 23] = (uint8_t)mss;
		}
		break;
	case 17:
		hl = 8;
		b[l4 + 0] = (uint8_t)tp_rand(&rs) | 0x80;
		b[l4 + 1] = (uint8_t)tp_rand(&rs);
		b[l4 + 2] = 0x13; b[l4 + 3] = 0x88;	/* 5000 */
		b[l4 + 4] = (uint8_t)((8 + spec->payload) >> 8);
		b[l4 + 5] = (uint8_t)(8 + spec->payload);
		break;
	case 58:
		hl = 8;
		b[l4 + 0] = spec->icmp_type ? spec->icmp_type : 128;
		b[l4 + 4] = (uint8_t)tp_rand(&rs);
		b[l4 + 6] = (uint8_t)tp_rand(&rs);
		break;
	default:
		hl = 0;
		break;
	}
	len = l4 + hl + spec->payload;
	for (i = l4 + hl; i < len; i++)
		b[i] = (uint8_t)tp_rand(&rs);
	b[4] = (uint8_t)((len - 40) >> 8);
	b[5] = (uint8_t)(len - 40);
	if (spec->proto == 6 || spec->proto == 17 || spec->proto == 58) {
		uint16_t c = tp_ref_csum(b, len, l4, spec->proto);
		size_t coff = spec->proto == 6 ? 16 : spec->proto == 17 ? 6 : 2;

		b[l4 + coff] = (uint8_t)(c >> 8);
		b[l4 + coff + 1] = (uint8_t)c;
	}
	return len;
}
