/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rules.c -- steering rules.
 *
 * Everything lbspd adds lives in its own chains, named after the first
 * queue (LBSP-q<N>-...), reached by one jump from a built-in chain.
 * Removal deletes those jumps, flushes and deletes those chains -- it
 * never touches a rule it did not add.
 *
 *   raw PREROUTING  -> LBSP-qN-PRE   client: answers from vips carrying
 *                                    a Destination Options header, all
 *                                    answers from allowed servers (the
 *                                    source is rewritten to the vip
 *                                    before conntrack), SYN-ACKs (MSS),
 *                                    ICMPv6 errors (redirected flows)
 *   mangle OUTPUT   -> LBSP-qN-OUT   client: packets to vips (ports),
 *                                    after conntrack: a redirected
 *                                    packet is still the application's
 *                                    tuple to conntrack
 *   mangle PREROUTING -> LBSP-qN-SPRE  server: local packets carrying a
 *                                    Destination Options header, of
 *                                    connections not yet marked; their
 *                                    SYNs at most syn-rate a second
 *                                    (the rest pass unqueued: a flood
 *                                    cannot crowd out the answers of
 *                                    running sessions on the queue)
 *   mangle INPUT    -> LBSP-qN-SIN   server: save the verdict's mark in
 *                                    the connection mark
 *   mangle OUTPUT   -> LBSP-qN-SOUT  server: packets of marked
 *                                    connections
 *   raw PREROUTING  -> LBSP-qN-PRE   balancer: packets to a vip carrying
 *                                    a Destination Options header, made
 *                                    untracked (the server answers the
 *                                    client directly: conntrack would
 *                                    see one direction) and queued
 *   mangle PREROUTING -> LBSP-qN-BPRE  balancer: legacy connections to a
 *                                    vip, their first packet only
 *   nat PREROUTING  -> LBSP-qN-BNAT  balancer: DNAT by the verdict's mark
 *                                    (past 64 targets through group
 *                                    chains LBSP-qN-BNAT-<group>:
 *                                    dnat_rules())
 *   nat POSTROUTING -> LBSP-qN-BSNAT balancer: MASQUERADE those (LS-NAPT)
 *
 * The client rewrites addresses, so its ingress rules sit in raw, before
 * conntrack, and its egress rules in mangle, after it: conntrack only
 * ever sees the application's tuple.  Every
 * queue target has --queue-bypass: with no daemon listening, packets
 * pass (fail open).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "balancer/balancer.h"
#include "lbspd.h"
#include "system/log.h"
#include "system/rules.h"

#define PORTS_PER_RULE 15	/* multiport's limit */

static const struct {
	const char *table, *builtin, *suffix;
} chains[] = {
	{ "raw", "PREROUTING", "PRE" },
	{ "mangle", "OUTPUT", "OUT" },
	{ "mangle", "PREROUTING", "SPRE" },
	{ "mangle", "INPUT", "SIN" },
	{ "mangle", "OUTPUT", "SOUT" },
	{ "mangle", "PREROUTING", "BPRE" },
	{ "nat", "PREROUTING", "BNAT" },
	{ "nat", "POSTROUTING", "BSNAT" },
};

static void
chain_name(const struct sp_conf *conf, const char *suffix, char *buf,
    size_t size)
{
	snprintf(buf, size, "LBSP-q%u-%s", conf->queue_first, suffix);
}

static void
queue_target(const struct sp_conf *conf, char *buf, size_t size)
{
	if (conf->queue_count <= 1)
		snprintf(buf, size, "NFQUEUE --queue-num %u --queue-bypass",
		    conf->queue_first);
	else
		snprintf(buf, size,
		    "NFQUEUE --queue-balance %u:%u --queue-bypass",
		    conf->queue_first,
		    conf->queue_first + conf->queue_count - 1);
}

static void
addr_str(const uint8_t a[16], unsigned len, char *buf, size_t size)
{
	char s[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, a, s, sizeof(s));
	snprintf(buf, size, "%s/%u", s, len);
}

/*
 * One rule per protocol and group of at most 15 ports: "-A CHAIN HEAD
 * [-p P -m multiport --Xports LIST] TAIL".  No ports: one rule, every
 * protocol (TAIL may still name one, e.g. "-p tcp --tcp-flags ...").
 */
static void
port_rules(FILE *out, const char *chain, const char *head,
    const struct sp_conf_vip *vip, const char *dir, const char *proto_only,
    const char *tail)
{
	static const char *const protos[] = { "tcp", "udp" };
	unsigned p, i, j;

	if (vip->nports == 0) {
		fprintf(out, "-A %s %s%s%s %s\n", chain, head,
		    proto_only ? " -p " : "", proto_only ? proto_only : "",
		    tail);
		return;
	}
	for (p = 0; p < 2; p++) {
		if (proto_only != NULL && strcmp(proto_only, protos[p]) != 0)
			continue;
		for (i = 0; i < vip->nports; i += PORTS_PER_RULE) {
			fprintf(out, "-A %s %s -p %s -m multiport --%sports ",
			    chain, head, protos[p], dir);
			for (j = i; j < vip->nports && j < i + PORTS_PER_RULE;
			    j++)
				fprintf(out, "%s%u", j == i ? "" : ",",
				    vip->ports[j]);
			fprintf(out, " %s\n", tail);
		}
	}
}

/* Sources a client accepts answers from for vip: itself, allow-servers. */
static void
client_sources(const struct sp_conf_vip *vip, unsigned i, char *buf,
    size_t size)
{
	if (i == 0)
		addr_str(vip->addr, 128, buf, size);
	else
		addr_str(vip->allow[i - 1].addr, vip->allow[i - 1].len, buf,
		    size);
}

/*
 * DNAT by the legacy mark (balancer/balancer.h): one rule per distinct
 * target, mark LBSPD_LBMARK_MAKE(index in balancer_target_table()).
 * Up to DNAT_FLAT targets the rules sit in the BNAT chain itself; past
 * that, in groups of 2^k consecutive marks, each in its own chain
 * LBSP-qN-BNAT-<group> reached by one rule matching the group's bits,
 * so that the first packet of a connection is matched against about
 * 2 sqrt(n) rules rather than n (a thousand vips of eight servers:
 * 8,000 targets, some 190 rules).
 */
#define DNAT_FLAT	64

static void
dnat_rules(const struct sp_conf *conf, FILE *out)
{
	uint8_t (*tab)[16];
	char top[32], sub[48], a[INET6_ADDRSTRLEN];
	size_t n, i, g, ngroups;
	unsigned k = 0;

	chain_name(conf, "BNAT", top, sizeof(top));
	n = balancer_target_table(conf, &tab);
	if (n == SIZE_MAX) {
		/* Said by lbspd -n and at start (balancer_conf_check). */
		fprintf(out, "# out of memory for the target table\n");
		return;
	}
	if (n > LBSPD_LBMARK_TARGETS)
		n = LBSPD_LBMARK_TARGETS;
	if (n > DNAT_FLAT)
		while (((size_t)1 << (2 * k)) < n + 1)
			k++;
	ngroups = k == 0 ? 0 : (n >> k) + 1;
	for (g = 0; g < ngroups; g++) {
		snprintf(sub, sizeof(sub), "%s-%zx", top, g);
		fprintf(out, ":%s - [0:0]\n", sub);
		fprintf(out, "-A %s -m mark --mark 0x%x/0x%x -j %s\n", top,
		    LBSPD_LBMARK | (uint32_t)(g << k),
		    ~(((uint32_t)1 << k) - 1), sub);
	}
	for (i = 0; i < n; i++) {
		uint32_t mark = LBSPD_LBMARK_MAKE(i);

		inet_ntop(AF_INET6, tab[i], a, sizeof(a));
		if (k != 0)
			snprintf(sub, sizeof(sub), "%s-%zx", top,
			    (size_t)(mark & LBSPD_LBMARK_TARGETS) >> k);
		fprintf(out, "-A %s -m mark --mark 0x%x -j DNAT "
		    "--to-destination %s\n", k != 0 ? sub : top, mark, a);
	}
	free(tab);
}

static unsigned tc_roles;

void
rules_set_tc_roles(unsigned roles)
{
	tc_roles = roles;
}

void
rules_print(const struct sp_conf *conf, FILE *out)
{
	char q[96], c[32], head[128], src[64], tail[160];
	bool client = conf->roles & ~tc_roles & SP_CONF_ROLE_CLIENT;
	bool server = conf->roles & ~tc_roles & SP_CONF_ROLE_SERVER;
	bool balancer = conf->roles & SP_CONF_ROLE_BALANCER;
	bool ptb_queued = false;
	unsigned v, i;

	queue_target(conf, q, sizeof(q));
	fprintf(out, "# lbspd steering rules, queue %u (ip6tables-restore "
	    "--noflush)\n", conf->queue_first);

	fprintf(out, "*raw\n");
	chain_name(conf, chains[0].suffix, c, sizeof(c));
	fprintf(out, ":%s - [0:0]\n", c);
	fprintf(out, "-I %s -j %s\n", chains[0].builtin, c);
	if (client) {
		bool redirect = false;

		for (v = 0; v < conf->nvips; v++) {
			const struct sp_conf_vip *vip = &conf->vips[v];

			if (vip->nservers > 0)
				continue;	/* a vip we balance */
			redirect |= conf->redirect && vip->nallow > 0;
			chain_name(conf, "PRE", c, sizeof(c));
			for (i = 0; i <= vip->nallow; i++) {
				client_sources(vip, i, src, sizeof(src));
				snprintf(head, sizeof(head), "-s %s", src);
				/* From a server: all of it (a missing option
				 * is news); from the vip: ours only. */
				snprintf(tail, sizeof(tail), "%s-j %s", i > 0 ?
				    "" : "-m ipv6header --header dst --soft ",
				    q);
				port_rules(out, c, head, vip, "s", NULL, tail);
				if (!conf->mss_clamp)
					continue;
				snprintf(tail, sizeof(tail), "--tcp-flags "
				    "SYN,ACK SYN,ACK -j %s", q);
				port_rules(out, c, head, vip, "s", "tcp", tail);
			}
		}
		/* ICMPv6 errors quote redirected packets: to be rewritten. */
		for (i = 1; redirect && i <= 4; i++)
			fprintf(out, "-A %s -p ipv6-icmp -m icmp6 --icmpv6-type "
			    "%u -j %s\n", c, i, q);
		ptb_queued = redirect;
	}
	/* Packet Too Big about what we sent with the option: one under
	 * 1280 + 40 is counted (dispatch.c, pkt_ptb_seen()). */
	if ((client || server) && !ptb_queued) {
		chain_name(conf, "PRE", c, sizeof(c));
		fprintf(out, "-A %s -p ipv6-icmp -m icmp6 --icmpv6-type 2 "
		    "-j %s\n", c, q);
	}
	for (v = 0; balancer && v < conf->nvips; v++) {
		const struct sp_conf_vip *vip = &conf->vips[v];

		if (vip->nservers == 0)
			continue;
		chain_name(conf, "PRE", c, sizeof(c));
		addr_str(vip->addr, 128, src, sizeof(src));
		snprintf(head, sizeof(head), "-d %s", src);
		port_rules(out, c, head, vip, "d", NULL,
		    "-m ipv6header --header dst --soft -j CT --notrack");
		snprintf(tail, sizeof(tail),
		    "-m ipv6header --header dst --soft -j %s", q);
		port_rules(out, c, head, vip, "d", NULL, tail);
	}
	fprintf(out, "COMMIT\n");

	fprintf(out, "*mangle\n");
	for (i = 1; i < 6; i++) {
		chain_name(conf, chains[i].suffix, c, sizeof(c));
		fprintf(out, ":%s - [0:0]\n", c);
		fprintf(out, "-I %s -j %s\n", chains[i].builtin, c);
	}
	for (v = 0; client && v < conf->nvips; v++) {
		const struct sp_conf_vip *vip = &conf->vips[v];

		if (vip->nservers > 0)
			continue;	/* a vip we balance */
		chain_name(conf, "OUT", c, sizeof(c));
		addr_str(vip->addr, 128, src, sizeof(src));
		snprintf(head, sizeof(head), "-d %s", src);
		snprintf(tail, sizeof(tail), "-j %s", q);
		port_rules(out, c, head, vip, "d", NULL, tail);
	}
	if (server) {
		chain_name(conf, "SPRE", c, sizeof(c));
		/* Answers to our own client role are the client's. */
		for (v = 0; client && v < conf->nvips; v++)
			for (i = 0; i <= conf->vips[v].nallow; i++) {
				client_sources(&conf->vips[v], i, src,
				    sizeof(src));
				fprintf(out, "-A %s -s %s -j RETURN\n", c, src);
			}
		head[0] = '\0';
		if (conf->has_server_address) {
			addr_str(conf->server_address, 128, src, sizeof(src));
			snprintf(head, sizeof(head), "-d %s ", src);
		}
		if (conf->syn_rate != 0) {
			fprintf(out, "-A %s %s-p tcp --syn -m addrtype "
			    "--dst-type LOCAL -m ipv6header --header dst --soft "
			    "-m limit --limit %u/second --limit-burst %u -j %s\n",
			    c, head, conf->syn_rate, conf->syn_rate, q);
			fprintf(out, "-A %s %s-p tcp --syn -m addrtype "
			    "--dst-type LOCAL -m ipv6header --header dst --soft "
			    "-j RETURN\n", c, head);
		}
		fprintf(out, "-A %s %s-m addrtype --dst-type LOCAL "
		    "-m connmark ! --mark 0x%x/0x%x -m ipv6header --header dst "
		    "--soft -j %s\n", c, head,
		    LBSPD_CTMARK | LBSPD_CTMARK_DIRECT,
		    LBSPD_CTMARK | LBSPD_CTMARK_DIRECT, q);
		chain_name(conf, "SIN", c, sizeof(c));
		fprintf(out, "-A %s -m mark --mark 0x%x/0x%x -j CONNMARK "
		    "--save-mark --nfmask 0x%x --ctmask 0x%x\n", c,
		    LBSPD_CTMARK, LBSPD_CTMARK,
		    LBSPD_CTMARK | LBSPD_CTMARK_DIRECT,
		    LBSPD_CTMARK | LBSPD_CTMARK_DIRECT);
		chain_name(conf, "SOUT", c, sizeof(c));
		fprintf(out, "-A %s -m connmark --mark 0x%x/0x%x -j %s\n", c,
		    LBSPD_CTMARK, LBSPD_CTMARK, q);
	}
	for (v = 0; balancer && v < conf->nvips; v++) {
		const struct sp_conf_vip *vip = &conf->vips[v];

		if (vip->nservers == 0)
			continue;
		chain_name(conf, "BPRE", c, sizeof(c));
		addr_str(vip->addr, 128, src, sizeof(src));
		snprintf(head, sizeof(head), "-d %s", src);
		snprintf(tail, sizeof(tail),
		    "-m conntrack --ctstate NEW -j %s", q);
		port_rules(out, c, head, vip, "d", NULL, tail);
	}
	fprintf(out, "COMMIT\n");

	if (!balancer)
		return;
	fprintf(out, "*nat\n");
	for (i = 6; i < 8; i++) {
		chain_name(conf, chains[i].suffix, c, sizeof(c));
		fprintf(out, ":%s - [0:0]\n", c);
		fprintf(out, "-I %s -j %s\n", chains[i].builtin, c);
	}
	dnat_rules(conf, out);
	chain_name(conf, "BSNAT", c, sizeof(c));
	if (conf->has_nat_source) {
		/* An address every balancer of a group can answer for
		 * (lbsp(7), "Scaling out"): conntrackd moves the sessions. */
		char a[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, conf->nat_source, a, sizeof(a));
		fprintf(out, "-A %s -m mark --mark 0x%x/0x%x -j SNAT "
		    "--to-source %s\n", c, LBSPD_LBMARK, LBSPD_LBMARK_MASK, a);
	} else
		fprintf(out, "-A %s -m mark --mark 0x%x/0x%x -j MASQUERADE\n",
		    c, LBSPD_LBMARK, LBSPD_LBMARK_MASK);
	fprintf(out, "COMMIT\n");
}

/*
 * Start argv[0] (an absolute path) with argv, its standard input,
 * output and error on the descriptors given (-1: /dev/null).  Returns
 * the child, or -1.
 */
static pid_t
spawn(const char *const argv[], int in, int out, int err)
{
	pid_t pid = fork();

	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		char *args[16];
		unsigned i;

		dup2(in != -1 ? in : devnull, 0);
		dup2(out != -1 ? out : devnull, 1);
		dup2(err != -1 ? err : devnull, 2);
		/* execv() wants writable strings: give it copies. */
		for (i = 0; i < 15 && argv[i] != NULL; i++)
			args[i] = strdup(argv[i]);
		args[i] = NULL;
		execv(args[0], args);
		_exit(127);
	}
	return pid;
}

/* Wait for the child pid: 0 when it exited with 0, else -1. */
static int
reaped(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Run argv, its stdin fed from in (may be NULL); stderr to errbuf. */
static int
run(const char *const argv[], const char *in, char *errbuf, size_t errsize)
{
	int inp[2] = { -1, -1 }, errp[2];
	ssize_t n;
	size_t got = 0;
	pid_t pid;

	errbuf[0] = '\0';
	if (in != NULL && pipe2(inp, O_CLOEXEC) == -1)
		return -1;
	if (pipe2(errp, O_CLOEXEC) == -1) {
		if (in != NULL) {
			close(inp[0]);
			close(inp[1]);
		}
		return -1;
	}
	pid = spawn(argv, inp[0], -1, errp[1]);
	close(errp[1]);
	if (in != NULL)
		close(inp[0]);
	if (pid != -1 && in != NULL) {
		size_t len = strlen(in), off = 0;

		while (off < len) {
			n = write(inp[1], in + off, len - off);
			if (n <= 0 && errno != EINTR)
				break;
			if (n > 0)
				off += (size_t)n;
		}
	}
	if (in != NULL)
		close(inp[1]);
	while (pid != -1 && got + 1 < errsize &&
	    (n = read(errp[0], errbuf + got, errsize - 1 - got)) > 0)
		got += (size_t)n;
	errbuf[got] = '\0';
	close(errp[0]);
	return pid != -1 ? reaped(pid) : -1;
}

/* Run argv (no stdin) and return its standard output in *out
 * (malloc'ed, NUL-terminated).  Returns 0, or -1. */
static int
run_capture(const char *const argv[], char **out)
{
	char buf[4096];
	int outp[2];
	size_t len = 0;
	ssize_t n;
	FILE *f;
	pid_t pid;

	*out = NULL;
	if (pipe2(outp, O_CLOEXEC) == -1)
		return -1;
	pid = spawn(argv, -1, outp[1], -1);
	close(outp[1]);
	if (pid == -1) {
		close(outp[0]);
		return -1;
	}
	f = open_memstream(out, &len);
	while ((n = read(outp[0], buf, sizeof(buf))) > 0 ||
	    (n == -1 && errno == EINTR))
		if (n > 0 && f != NULL)
			fwrite(buf, 1, (size_t)n, f);
	close(outp[0]);
	if (f != NULL)
		fclose(f);
	if (reaped(pid) == -1 || f == NULL) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* The ip6tables program: iptables ships it in /usr/sbin. */
static char *
tool(const char *name, char *buf, size_t size)
{
	static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin",
	    "/bin" };
	unsigned i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(buf, size, "%s/%s", dirs[i], name);
		if (access(buf, X_OK) == 0)
			return buf;
	}
	snprintf(buf, size, "/usr/sbin/%s", name);
	return buf;
}

/* Does restore text declare chain name[0..len) (a line ":name ...")? */
static bool
declared(const char *text, const char *name, size_t len)
{
	char want[64];
	const char *p;

	if (len + 3 > sizeof(want))
		return false;
	want[0] = ':';
	memcpy(want + 1, name, len);
	want[len + 1] = ' ';
	want[len + 2] = '\0';
	for (p = text; (p = strstr(p, want)) != NULL; p++)
		if (p == text || p[-1] == '\n')
			return true;
	return false;
}

/*
 * The DNAT group chains (dnat_rules()) of queue conf->queue_first, as
 * ip6tables-save lists them (a dead instance may have left more than
 * this configuration makes), flushed and deleted in one
 * ip6tables-restore: the BNAT chain that jumps to them is flushed
 * already.
 */
static void
dnat_groups_remove(const struct sp_conf *conf, const char *keep)
{
	char save[64], restore[64], prefix[40], err[512];
	char *text = NULL, *cmd = NULL, *line, *end;
	size_t clen = 0;
	unsigned n = 0;
	FILE *f;

	{
		const char *argv[] = { tool("ip6tables-save", save,
		    sizeof(save)), "-t", "nat", NULL };

		if (run_capture(argv, &text) == -1 || text == NULL)
			return;
	}
	snprintf(prefix, sizeof(prefix), ":LBSP-q%u-BNAT-", conf->queue_first);
	if ((f = open_memstream(&cmd, &clen)) == NULL) {
		free(text);
		return;
	}
	fprintf(f, "*nat\n");
	for (line = text; *line != '\0'; line = end + (*end != '\0')) {
		end = strchr(line, '\n');
		if (end == NULL)
			end = line + strlen(line);
		if ((size_t)(end - line) > strlen(prefix) &&
		    strncmp(line, prefix, strlen(prefix)) == 0) {
			const char *sp = memchr(line, ' ', (size_t)(end - line));
			int len = (int)((sp != NULL ? sp : end) - line - 1);

			if (keep != NULL && declared(keep, line + 1,
			    (size_t)len))
				continue;
			fprintf(f, "-F %.*s\n", len, line + 1);
			fprintf(f, "-X %.*s\n", len, line + 1);
			n++;
		}
	}
	fprintf(f, "COMMIT\n");
	fclose(f);
	if (n > 0) {
		const char *argv[] = { tool("ip6tables-restore", restore,
		    sizeof(restore)), "-w", "--noflush", NULL };

		if (run(argv, cmd, err, sizeof(err)) == -1)
			log_warnx("removing the DNAT group chains: %s", err);
	}
	free(cmd);
	free(text);
}

void
rules_remove(const struct sp_conf *conf)
{
	char prog[64], c[32], err[512];
	unsigned i, k;

	tool("ip6tables", prog, sizeof(prog));
	for (i = 0; i < sizeof(chains) / sizeof(chains[0]); i++) {
		const char *del[] = { prog, "-w", "-t", chains[i].table, "-D",
		    chains[i].builtin, "-j", c, NULL };
		const char *flush[] = { prog, "-w", "-t", chains[i].table, "-F",
		    c, NULL };
		const char *rm[] = { prog, "-w", "-t", chains[i].table, "-X", c,
		    NULL };

		chain_name(conf, chains[i].suffix, c, sizeof(c));
		/* A dead instance may have left a jump twice; bounded. */
		for (k = 0; k < 8 && run(del, NULL, err, sizeof(err)) == 0; k++)
			;
		(void)run(flush, NULL, err, sizeof(err));
		(void)run(rm, NULL, err, sizeof(err));
	}
	dnat_groups_remove(conf, NULL);
}

int
rules_replace(const struct sp_conf *conf)
{
	char prog[64], err[1024], c[32], jump[96], *text = NULL, *at;
	bool balancer = conf->roles & SP_CONF_ROLE_BALANCER;
	size_t len = 0;
	unsigned i;
	FILE *f;
	int rc;

	f = open_memstream(&text, &len);
	if (f == NULL)
		return -1;
	rules_print(conf, f);
	fclose(f);
	tool("ip6tables", prog, sizeof(prog));
	/* The jumps the running rules have already: not again. */
	for (i = 0; i < sizeof(chains) / sizeof(chains[0]); i++) {
		const char *check[] = { prog, "-w", "-t", chains[i].table,
		    "-C", chains[i].builtin, "-j", c, NULL };

		if (strcmp(chains[i].table, "nat") == 0 && !balancer)
			continue;
		chain_name(conf, chains[i].suffix, c, sizeof(c));
		if (run(check, NULL, err, sizeof(err)) != 0)
			continue;
		snprintf(jump, sizeof(jump), "-I %s -j %s\n",
		    chains[i].builtin, c);
		if ((at = strstr(text, jump)) != NULL)
			memmove(at, at + strlen(jump),
			    strlen(at + strlen(jump)) + 1);
	}
	{
		const char *argv[] = { tool("ip6tables-restore", prog,
		    sizeof(prog)), "-w", "--noflush", NULL };

		rc = run(argv, text, err, sizeof(err));
	}
	if (rc != 0)
		log_warnx("replacing steering rules failed: %s",
		    err[0] ? err : "ip6tables-restore failed");
	else if (balancer)
		dnat_groups_remove(conf, text);	/* the groups now unused */
	free(text);
	return rc != 0 ? -1 : 0;
}

int
rules_install(const struct sp_conf *conf)
{
	char prog[64], err[1024], *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	rules_remove(conf);
	f = open_memstream(&text, &len);
	if (f == NULL)
		return -1;
	rules_print(conf, f);
	fclose(f);
	{
		const char *argv[] = { tool("ip6tables-restore", prog,
		    sizeof(prog)), "-w", "--noflush", NULL };

		rc = run(argv, text, err, sizeof(err));
	}
	free(text);
	if (rc != 0) {
		log_warnx("installing steering rules failed: %s",
		    err[0] ? err : "ip6tables-restore failed");
		rules_remove(conf);
		return -1;
	}
	return 0;
}
