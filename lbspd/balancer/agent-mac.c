/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent-mac.c -- the MAC of lbsp-agent reports, shared by lbsp-agent and
 * lbspd (see agent.h).
 */
#include "config.h"

#include <sp/siphash.h>

#include "balancer/agent.h"

uint64_t
agent_mac(const uint8_t key[16], const char *text, size_t len)
{
	return sp_siphash24(key, text, len);
}
