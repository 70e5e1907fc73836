/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * priv.h -- dropping root: an unprivileged user keeping only the
 * capabilities lbspd still needs, with no-new-privs.
 */
#ifndef LBSPD_PRIV_H
#define LBSPD_PRIV_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * The user lbspd runs as: name (the "user" keyword) if not empty, else
 * "lbsp" if it exists, else "nobody".  Returns 0 and fills uid, gid and
 * the chosen name, or -1 after logging.
 */
int priv_user(const char *name, uid_t *uid, gid_t *gid, char *chosen,
    size_t size);

/*
 * Become uid:gid keeping only CAP_NET_ADMIN (verdicts, rule removal at
 * exit through ip6tables, hence also ambient) and CAP_NET_RAW when
 * net_raw, CAP_BPF when bpf (the tc datapath's maps, on kernels that
 * keep bpf() for it); reduce the bounding set to them; set no-new-privs.  Must run
 * before any thread is started: capabilities are per thread.
 * Returns 0, or -1 after logging.
 */
int priv_drop(uid_t uid, gid_t gid, bool net_raw, bool bpf);

#endif
