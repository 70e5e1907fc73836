/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pkt.c -- names of libsp's error codes.
 */
#include <sp/pkt.h>

static const char *const sp_err_names[SP_ERR__COUNT] = {
	[SP_OK] = "ok",
	[SP_ERR_TRUNCATED] = "truncated",
	[SP_ERR_VERSION] = "not-ipv6",
	[SP_ERR_PAYLOAD_LEN] = "payload-length",
	[SP_ERR_JUMBO] = "jumbogram",
	[SP_ERR_TOO_MANY_HDRS] = "too-many-headers",
	[SP_ERR_HDR_ORDER] = "header-order",
	[SP_ERR_BAD_OPTION] = "bad-option",
	[SP_ERR_BAD_LBSP] = "bad-lbsp-length",
	[SP_ERR_DUPLICATE] = "duplicate-lbsp",
	[SP_ERR_AH] = "ah",
	[SP_ERR_ESP] = "esp",
	[SP_ERR_FRAGMENT] = "non-first-fragment",
	[SP_ERR_ROUTING] = "routing-header",
	[SP_ERR_NOT_FOUND] = "not-found",
	[SP_ERR_NO_ROOM] = "no-room",
	[SP_ERR_PROTO] = "protocol",
	[SP_ERR_ZERO_IDENTITY] = "zero-identity",
	[SP_ERR_INVALID] = "invalid-argument",
};

const char *
sp_strerror(enum sp_err err)
{
	if ((unsigned)err >= SP_ERR__COUNT || sp_err_names[err] == NULL)
		return "unknown";
	return sp_err_names[err];
}
