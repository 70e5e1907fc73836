/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * names.c -- the names of lbspd's answers (see names.h).
 */
#include "config.h"

#include <stdio.h>

#include <sp/stick.h>

#include "control/names.h"
#include "lbspd.h"

const char *const lbspd_counter_names[LBSPD_C__COUNT] = {
#define LBSPD_CTR_NAME(id, name) [LBSPD_C_##id] = name,
	LBSPD_COUNTERS(LBSPD_CTR_NAME)
#undef LBSPD_CTR_NAME
};

const char *const lbspd_pass_names[LBSPD_P__COUNT] = {
#define LBSPD_PASS_NAME(id, name) [LBSPD_P_##id] = name,
	LBSPD_PASSES(LBSPD_PASS_NAME)
#undef LBSPD_PASS_NAME
};

const char *
names_suspect(unsigned reason)
{
	static const char *const names[LBSPD_SUSPECT__COUNT] = {
		[LBSPD_SUSPECT_NONE] = "",
		[LBSPD_SUSPECT_SYN_RETRANSMIT] = "syn-retransmit",
		[LBSPD_SUSPECT_TIMER] = "timer",
		[LBSPD_SUSPECT_ICMP] = "icmp-unreachable",
		[LBSPD_SUSPECT_NO_OPTION] = "no-option",
	};

	return reason < LBSPD_SUSPECT__COUNT ? names[reason] : "unknown";
}

const char *
names_identity_mode(enum sp_conf_identity mode)
{
	switch (mode) {
	case SP_CONF_IDENTITY_ADDRESS:
		return "address";
	case SP_CONF_IDENTITY_RANDOM:
		return "random";
	case SP_CONF_IDENTITY_LITERAL:
		return "literal";
	default:
		return "unknown";
	}
}

const char *
names_stick_kind(uint8_t kind)
{
	switch (kind) {
	case SP_STICK_SEG1:
		return "seg1";
	case SP_STICK_SRC_LABEL:
		return "src-label";
	case SP_STICK_SRC:
		return "src";
	default:
		return "unknown";
	}
}

const char *
names_proto(char *buf, size_t size, const struct sp_flow_key *k)
{
	if (k->kind == SP_FLOW_3TUPLE)
		snprintf(buf, size, "any");
	else if (k->proto == 6)
		snprintf(buf, size, "tcp");
	else if (k->proto == 17)
		snprintf(buf, size, "udp");
	else if (k->proto == 58)
		snprintf(buf, size, "icmpv6");
	else
		snprintf(buf, size, "%u", k->proto);
	return buf;
}
