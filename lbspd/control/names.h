/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * names.h -- the names lbspd's answers print, in one place: counters
 * and pass reasons (their lists are LBSPD_COUNTERS and LBSPD_PASSES in
 * lbspd.h; the arrays, declared there, are defined in names.c), suspect
 * reasons, identity modes, stick key kinds and flow protocols.  Each
 * name is a JSON key or value of lbspctl and part of a Prometheus
 * metric: renaming one breaks readers.
 */
#ifndef LBSPD_NAMES_H
#define LBSPD_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include <sp/conf.h>
#include <sp/flow.h>

/* Why a client cache entry is suspect (enum lbspd_suspect): "" for
 * none, "unknown" beyond the list. */
const char *names_suspect(unsigned reason);

/* "address", "random", "literal". */
const char *names_identity_mode(enum sp_conf_identity mode);

/* A stick key's kind (SP_STICK_*): "seg1", "src-label", "src". */
const char *names_stick_kind(uint8_t kind);

/* A flow's protocol: "any" (3-tuple flows), "tcp", "udp", "icmpv6" or
 * the number, into buf. */
const char *names_proto(char *buf, size_t size,
    const struct sp_flow_key *k);

#endif /* LBSPD_NAMES_H */
