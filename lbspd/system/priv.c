/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * priv.c -- see priv.h.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "system/log.h"
#include "system/priv.h"

int
priv_user(const char *name, uid_t *uid, gid_t *gid, char *chosen, size_t size)
{
	const struct passwd *pw = NULL;

	if (name != NULL && name[0] != '\0') {
		pw = getpwnam(name);
		if (pw == NULL) {
			log_warnx("user \"%s\" does not exist", name);
			return -1;
		}
	} else if ((pw = getpwnam("lbsp")) == NULL &&
	    (pw = getpwnam("nobody")) == NULL) {
		log_warnx("neither user \"lbsp\" nor \"nobody\" exists");
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	snprintf(chosen, size, "%s", pw->pw_name);
	return 0;
}

#ifndef CAP_BPF
#define CAP_BPF 39	/* Linux 5.8; libcap may predate it */
#endif

int
priv_drop(uid_t uid, gid_t gid, bool net_raw, bool bpf)
{
	cap_value_t keep[3] = { CAP_NET_ADMIN };
	int nkeep = 1, i;
	cap_value_t c;
	cap_t caps;

	if (net_raw)
		keep[nkeep++] = CAP_NET_RAW;
	/* CAP_BPF only when we have it to keep (a service manager's
	 * bounding set may lack it; CAP_SYS_ADMIN loaded the programs). */
	if (bpf && prctl(PR_CAPBSET_READ, CAP_BPF, 0, 0, 0) == 1)
		keep[nkeep++] = CAP_BPF;

	/* The bounding set first, while CAP_SETPCAP is still ours. */
	for (c = 0; c <= CAP_LAST_CAP; c++) {
		bool kept = false;

		for (i = 0; i < nkeep; i++)
			kept |= keep[i] == c;
		if (!kept && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == -1 &&
		    errno != EINVAL) {
			log_warn("dropping capability %d from the bounding set",
			    (int)c);
			return -1;
		}
	}
	if (getuid() == 0 || geteuid() == 0) {
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1 ||
		    setgroups(1, &gid) == -1 ||
		    setresgid(gid, gid, gid) == -1 ||
		    setresuid(uid, uid, uid) == -1) {
			log_warn("becoming uid %u gid %u", (unsigned)uid,
			    (unsigned)gid);
			return -1;
		}
	}
	caps = cap_init();
	if (caps == NULL ||
	    cap_set_flag(caps, CAP_PERMITTED, nkeep, keep, CAP_SET) == -1 ||
	    cap_set_flag(caps, CAP_EFFECTIVE, nkeep, keep, CAP_SET) == -1 ||
	    cap_set_flag(caps, CAP_INHERITABLE, nkeep, keep, CAP_SET) == -1 ||
	    cap_set_proc(caps) == -1) {
		log_warn("setting capabilities");
		if (caps != NULL)
			cap_free(caps);
		return -1;
	}
	cap_free(caps);
	/* Ambient: ip6tables, run at exit to remove our rules, needs them. */
	for (i = 0; i < nkeep; i++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, keep[i], 0,
		    0) == -1) {
			log_warn("raising ambient capability %d", (int)keep[i]);
			return -1;
		}
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		log_warn("no-new-privs");
		return -1;
	}
	if (uid != 0 && setuid(0) != -1) {
		log_warnx("could regain root after dropping it");
		return -1;
	}
	return 0;
}
