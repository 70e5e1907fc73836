/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_rules.c -- the steering rules' text (lbspd/system/rules.c,
 * rules_print()) for client, server and balancer configurations: the
 * chains, the queue targets, and the legacy NAT marks, followed through
 * the DNAT chains as the kernel would for every target of a thousand
 * vips.  No root: only text.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sp/conf.h>

#include "conf_priv.h"
#include "balancer/balancer.h"
#include "system/rules.h"

/* The rules of a configuration text, tc_roles on tc/eBPF. */
static char *
print(const char *text, unsigned tc_roles)
{
	struct sp_conf *c = sp_conf_new();
	char *out = NULL, *nl;
	size_t len = 0;
	FILE *f;

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(sp_conf_parse(text, strlen(text), "test", c, NULL,
	    NULL), 0);
	f = open_memstream(&out, &len);
	ck_assert_ptr_nonnull(f);
	rules_set_tc_roles(tc_roles);
	rules_print(c, f);
	fclose(f);
	rules_set_tc_roles(0);
	sp_conf_free(c);
	/* A leading newline: every line is then "\n...\n". */
	nl = malloc(len + 2);
	ck_assert_ptr_nonnull(nl);
	nl[0] = '\n';
	memcpy(nl + 1, out, len + 1);
	free(out);
	return nl;
}

static bool
has(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if (p > text && p[-1] == '\n' && p[n] == '\n')
			return true;
		p++;
	}
	return false;
}

/* Lines starting with prefix. */
static unsigned
count(const char *text, const char *prefix)
{
	unsigned n = 0;
	const char *p = text;

	while ((p = strstr(p, prefix)) != NULL) {
		if (p > text && p[-1] == '\n')
			n++;
		p++;
	}
	return n;
}

#define Q0	"-j NFQUEUE --queue-num 0 --queue-bypass"

START_TEST(client)
{
	char *t = print("role client\n"
	    "vip 2001:db8:f::100 {\n ports 80 443\n"
	    " allow-servers 2001:db8:5::/64\n}\n", 0);

	ck_assert(has(t, "*raw"));
	ck_assert(has(t, ":LBSP-q0-PRE - [0:0]"));
	ck_assert(has(t, "-I PREROUTING -j LBSP-q0-PRE"));
	/* Answers from the vip: ours only; from a server: all. */
	ck_assert(has(t, "-A LBSP-q0-PRE -s 2001:db8:f::100/128 -p tcp -m "
	    "multiport --sports 80,443 -m ipv6header --header dst --soft "
	    Q0));
	ck_assert(has(t, "-A LBSP-q0-PRE -s 2001:db8:5::/64 -p udp -m "
	    "multiport --sports 80,443 " Q0));
	/* SYN-ACKs for the MSS clamp, ICMPv6 errors (redirect on). */
	ck_assert(has(t, "-A LBSP-q0-PRE -s 2001:db8:f::100/128 -p tcp -m "
	    "multiport --sports 80,443 --tcp-flags SYN,ACK SYN,ACK " Q0));
	ck_assert_uint_eq(count(t, "-A LBSP-q0-PRE -p ipv6-icmp"), 4);
	ck_assert(has(t, "-A LBSP-q0-OUT -d 2001:db8:f::100/128 -p tcp -m "
	    "multiport --dports 80,443 " Q0));
	/* No server or balancer rules, no nat table. */
	ck_assert_uint_eq(count(t, "-A LBSP-q0-SPRE"), 0);
	ck_assert_uint_eq(count(t, "-A LBSP-q0-BPRE"), 0);
	ck_assert(!has(t, "*nat"));
	free(t);

	/* On tc/eBPF the client needs no steering rule. */
	t = print("role client\nvip 2001:db8:f::100 {\n ports 80\n}\n",
	    SP_CONF_ROLE_CLIENT);
	ck_assert_uint_eq(count(t, "-A "), 0);
	free(t);
}
END_TEST

START_TEST(many_ports)
{
	char *t = print("role client\nqueue 2-3\nvip 2001:db8:f::100 {\n"
	    " ports 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n}\n", 0);

	/* multiport takes 15: two rules a protocol. */
	ck_assert(has(t, "-A LBSP-q2-OUT -d 2001:db8:f::100/128 -p tcp -m "
	    "multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15 "
	    "-j NFQUEUE --queue-balance 2:3 --queue-bypass"));
	ck_assert(has(t, "-A LBSP-q2-OUT -d 2001:db8:f::100/128 -p udp -m "
	    "multiport --dports 16,17 "
	    "-j NFQUEUE --queue-balance 2:3 --queue-bypass"));
	free(t);
}
END_TEST

START_TEST(server)
{
	char *t = print("role server\nserver-address 2001:db8:5::1\n"
	    "syn-rate 100\n", 0);

	ck_assert(has(t, "-A LBSP-q0-SPRE -d 2001:db8:5::1/128 -p tcp --syn "
	    "-m addrtype --dst-type LOCAL -m ipv6header --header dst --soft "
	    "-m limit --limit 100/second --limit-burst 100 " Q0));
	ck_assert(has(t, "-A LBSP-q0-SPRE -d 2001:db8:5::1/128 -m addrtype "
	    "--dst-type LOCAL -m connmark ! --mark 0x4c800000/0x4c800000 -m "
	    "ipv6header --header dst --soft " Q0));
	ck_assert(has(t, "-A LBSP-q0-SIN -m mark --mark 0x4c000000/0x4c000000 "
	    "-j CONNMARK --save-mark --nfmask 0x4c800000 --ctmask 0x4c800000"));
	ck_assert(has(t, "-A LBSP-q0-SOUT -m connmark --mark "
	    "0x4c000000/0x4c000000 " Q0));
	ck_assert(!has(t, "*nat"));
	free(t);
}
END_TEST

/* Balancer: LBSP packets untracked and queued, legacy connections'
 * first packet queued, one DNAT rule per distinct target. */
START_TEST(balancer)
{
	char *t = print("role balancer\n"
	    "vip 2001:db8:f::100 {\n ports 80\n server 2001:db8:5::1\n"
	    " server 2001:db8:5::2 backup 2001:db8:5::9\n}\n"
	    "vip 2001:db8:f::200 {\n server 2001:db8:5::1\n}\n", 0);

	ck_assert(has(t, "-A LBSP-q0-PRE -d 2001:db8:f::100/128 -p tcp -m "
	    "multiport --dports 80 -m ipv6header --header dst --soft -j CT "
	    "--notrack"));
	ck_assert(has(t, "-A LBSP-q0-PRE -d 2001:db8:f::200/128 -m ipv6header "
	    "--header dst --soft " Q0));
	ck_assert(has(t, "-A LBSP-q0-BPRE -d 2001:db8:f::200/128 -m conntrack "
	    "--ctstate NEW " Q0));
	ck_assert(has(t, "*nat"));
	/* ::1 serves both vips: one rule.  Sorted: ::1, ::2, ::9. */
	ck_assert_uint_eq(count(t, "-A LBSP-q0-BNAT "), 3);
	ck_assert(has(t, "-A LBSP-q0-BNAT -m mark --mark 0x4b000001 -j DNAT "
	    "--to-destination 2001:db8:5::1"));
	ck_assert(has(t, "-A LBSP-q0-BNAT -m mark --mark 0x4b000002 -j DNAT "
	    "--to-destination 2001:db8:5::2"));
	ck_assert(has(t, "-A LBSP-q0-BNAT -m mark --mark 0x4b000003 -j DNAT "
	    "--to-destination 2001:db8:5::9"));
	ck_assert(has(t, "-A LBSP-q0-BSNAT -m mark --mark 0x4b000000/0xff000000 "
	    "-j MASQUERADE"));
	free(t);

	t = print("role balancer\nnat-source 2001:db8:b::1\n"
	    "vip 2001:db8:f::100 {\n server 2001:db8:5::1\n}\n", 0);
	ck_assert(has(t, "-A LBSP-q0-BSNAT -m mark --mark 0x4b000000/0xff000000 "
	    "-j SNAT --to-source 2001:db8:b::1"));
	free(t);
}
END_TEST

/* A "-A CHAIN -m mark --mark V[/M] -j ..." rule of the nat table. */
struct mark_rule {
	unsigned chain;		/* index in chains */
	uint32_t value, mask;
	bool dnat;		/* -j DNAT --to-destination to */
	unsigned jump;		/* else: index of the chain it jumps to */
	char to[48];
};

struct nat {
	char chains[512][48];	/* names, declared or used */
	unsigned nchains;
	bool declared[512];
	struct mark_rule *rules;
	size_t nrules;
};

static unsigned
chain_id(struct nat *nat, const char *name)
{
	unsigned i;

	for (i = 0; i < nat->nchains; i++)
		if (strcmp(nat->chains[i], name) == 0)
			return i;
	ck_assert_uint_lt(nat->nchains, 512);
	snprintf(nat->chains[nat->nchains], sizeof(nat->chains[0]), "%s",
	    name);
	return nat->nchains++;
}

/* Read the nat table's mark rules (in order) and chain declarations. */
static void
nat_parse(struct nat *nat, const char *text)
{
	const char *p = strstr(text, "\n*nat\n");
	char name[48], rest[96];
	size_t cap = 0;

	memset(nat, 0, sizeof(*nat));
	ck_assert_ptr_nonnull(p);
	for (p++; p != NULL && *p != '\0'; p = strchr(p, '\n'),
	    p = p != NULL ? p + 1 : NULL) {
		struct mark_rule r = { 0 };
		char *end;

		if (sscanf(p, ":%47s - [0:0]", name) == 1) {
			nat->declared[chain_id(nat, name)] = true;
			continue;
		}
		if (sscanf(p, "-A %47s -m mark --mark %95s", name, rest) != 2)
			continue;
		r.chain = chain_id(nat, name);
		r.value = (uint32_t)strtoul(rest, &end, 16);
		r.mask = *end == '/' ? (uint32_t)strtoul(end + 1, NULL, 16) :
		    UINT32_MAX;
		p = strstr(p, rest) + strlen(rest);
		if (sscanf(p, " -j DNAT --to-destination %47s", r.to) == 1)
			r.dnat = true;
		else if (sscanf(p, " -j %47s", name) == 1 &&
		    strncmp(name, "LBSP-", 5) == 0)
			r.jump = chain_id(nat, name);
		else
			continue;	/* MASQUERADE, SNAT */
		if (nat->nrules == cap) {
			cap = cap ? 2 * cap : 1024;
			nat->rules = realloc(nat->rules, cap * sizeof(r));
			ck_assert_ptr_nonnull(nat->rules);
		}
		nat->rules[nat->nrules++] = r;
	}
}

/*
 * Follow a mark through the nat chains from LBSP-q0-BNAT, first match
 * wins, as the kernel would: the address it is DNATed to, or NULL.
 * *rules counts the rules matched against on the way.
 */
static const char *
follow(struct nat *nat, uint32_t mark, unsigned *rules)
{
	unsigned chain = chain_id(nat, "LBSP-q0-BNAT"), hops;
	size_t i;

	for (hops = 0; hops < 4; hops++) {
		bool jumped = false;

		ck_assert_msg(nat->declared[chain], "chain %s undeclared",
		    nat->chains[chain]);
		for (i = 0; i < nat->nrules && !jumped; i++) {
			const struct mark_rule *r = &nat->rules[i];

			if (r->chain != chain)
				continue;
			(*rules)++;
			if ((mark & r->mask) != r->value)
				continue;
			if (r->dnat)
				return r->to;
			chain = r->jump;
			jumped = true;
		}
		if (!jumped)
			return NULL;
	}
	return NULL;
}

/* A thousand vips of eight servers: every target's mark leads to its
 * address through the group chains, in far fewer rules than targets. */
START_TEST(thousand_vips_marks)
{
	size_t cap = 1u << 20, len = 0, n, i;
	char *text = malloc(cap), *t, a[INET6_ADDRSTRLEN];
	struct nat *nat = malloc(sizeof(*nat));
	const char *to;
	uint8_t (*tab)[16];
	struct sp_conf *c = sp_conf_new();
	unsigned v, j, rules, worst = 0;

	ck_assert(text != NULL && c != NULL && nat != NULL);
	len += (size_t)snprintf(text, cap, "role balancer\n");
	for (v = 0; v < 1000; v++) {
		len += (size_t)snprintf(text + len, cap - len,
		    "vip 2001:db8:f::%x {\n ports 80\n", v + 1);
		for (j = 0; j < 8; j++)
			len += (size_t)snprintf(text + len, cap - len,
			    " server 2001:db8:%x::%x\n", v + 0x100, j + 1);
		len += (size_t)snprintf(text + len, cap - len, "}\n");
	}
	ck_assert_uint_lt(len, cap);
	ck_assert_int_eq(sp_conf_parse(text, len, "t", c, NULL, NULL), 0);
	n = balancer_target_table(c, &tab);
	ck_assert_uint_eq(n, 8000);
	t = print(text, 0);
	ck_assert_uint_eq(count(t, "-A LBSP-q0-BPRE -d "), 2000);
	ck_assert_uint_eq(count(t, "-A LBSP-q0-BNAT"), 8000 + 63);
	nat_parse(nat, t);
	ck_assert_uint_eq(nat->nrules, 8000 + 63);
	for (i = 0; i < n; i++) {
		rules = 0;
		to = follow(nat, LBSPD_LBMARK_MAKE(i), &rules);
		ck_assert_ptr_nonnull(to);
		inet_ntop(AF_INET6, tab[i], a, sizeof(a));
		ck_assert_str_eq(to, a);
		if (rules > worst)
			worst = rules;
	}
	/* Two levels of at most 128 rules each. */
	ck_assert_uint_le(worst, 2 * 128);
	/* A mark of no target leads nowhere. */
	rules = 0;
	ck_assert_ptr_null(follow(nat, LBSPD_LBMARK_MAKE(n), &rules));
	free(nat->rules);
	free(nat);
	free(tab);
	free(t);
	free(text);
	sp_conf_free(c);
}
END_TEST

static Suite *
rules_suite(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("print");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, client);
	tcase_add_test(tc, many_ports);
	tcase_add_test(tc, server);
	tcase_add_test(tc, balancer);
	tcase_add_test(tc, thousand_vips_marks);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *r = srunner_create(rules_suite());
	int failed;

	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? 0 : 1;
}
