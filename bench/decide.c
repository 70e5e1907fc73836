/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * decide.c -- balancer decisions per second from 1 and 2 threads, the
 * way queue threads make them (bench/README): each thread owns a flow
 * shard and decides new sessions (SYNs with the option, random
 * sources, like tests/netns/synflood) to one vip of 8 servers through
 * balancer_decide() on one shared state.  Two ways, in one invocation:
 *
 *   own     the state's own small locks only (a vip's around the pick,
 *           the stick table's around a lookup or update): lbspd now;
 *   global  one mutex around each whole decision as well: what the
 *           daemon's global lock (d->lock) did before.
 *
 * Prints decisions per second for each and the ratios 2 threads / 1.
 * No NFQUEUE, no root: the decision alone, where the locks are.  A
 * benchmark, not a test: it never fails on a number.
 *
 *     bench/decide [-n DECISIONS] [-r ROUNDS] [-s SCHEDULER]
 */
#include "config.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <sp/conf.h>
#include <sp/flow.h>
#include <sp/pkt.h>
#include <sp/siphash.h>
#include <sp/tcp.h>

#include "conf_priv.h"
#include "balancer/balancer.h"
#include "balancer/decide.h"

static const uint8_t key[16] = "bench-decide-key";

struct run {
	struct lb_state *lb;
	struct lb_vip *vip;
	pthread_mutex_t *global;	/* NULL: own locks only */
	unsigned long n;		/* decisions per thread */
	pthread_barrier_t *start;
};

struct worker {
	struct run *run;
	unsigned id;
	struct sp_flow_table *flows;	/* its shard */
	pthread_mutex_t shard;		/* taken per decision, uncontended */
	unsigned long ok;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of the process, ns (every thread's, user and system). */
static uint64_t
cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
	    1000000000u + (uint64_t)(ru.ru_utime.tv_usec +
	    ru.ru_stime.tv_usec) * 1000u;
}

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->run;
	struct sp_lbsp opt;
	struct lb_decision d;
	struct lb_ctx ctx = { .lb = r->lb, .flows = w->flows };
	uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xde, 0xad };
	struct lb_pkt p = { .src = src, .proto = SP_NH_TCP, .dport = 80,
	    .tcp_flags = SP_TCP_SYN, .len = 80, .opt = &opt };
	uint64_t x = 0x9e3779b97f4a7c15ull * (w->id + 1);
	unsigned long i;

	memset(&opt, 0, sizeof(opt));
	pthread_barrier_wait(r->start);
	for (i = 0; i < r->n; i++) {
		/* A new source each time (xorshift), as a SYN flood. */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(src + 8, &x, 8);
		memcpy(opt.seg1, src, 16);
		p.sport = (uint16_t)(x >> 48) | 1024;
		ctx.now_ms = i / 1000;
		pthread_mutex_lock(&w->shard);
		if (r->global != NULL)
			pthread_mutex_lock(r->global);
		balancer_decide(&ctx, r->vip, &p, &d);
		if (r->global != NULL)
			pthread_mutex_unlock(r->global);
		pthread_mutex_unlock(&w->shard);
		w->ok += d.action == LB_REWRITE;
	}
	return NULL;
}

/* Decisions per second of nthreads threads, n decisions each; *cpu
 * gets the decisions per CPU second. */
static double
measure(const char *conftext, unsigned nthreads, bool global,
    unsigned long n, unsigned long *ok, double *cpu)
{
	struct sp_conf *c = sp_conf_new();
	struct lb_stick *stick;
	struct lb_state *lb;
	struct worker w[2];
	pthread_t t[2];
	pthread_barrier_t start;
	pthread_mutex_t gl = PTHREAD_MUTEX_INITIALIZER;
	struct run r;
	uint64_t t0, t1, c0, c1;
	unsigned i;
	bool err;

	if (c == NULL || sp_conf_parse(conftext, strlen(conftext), "bench", c,
	    NULL, NULL) != 0) {
		fprintf(stderr, "decide: bad configuration\n");
		exit(1);
	}
	stick = balancer_stick_new(c, key);
	lb = balancer_state_new(c, NULL, stick, key, 0, &err);
	if (stick == NULL || lb == NULL) {
		fprintf(stderr, "decide: out of memory\n");
		exit(1);
	}
	r = (struct run){ .lb = lb, .vip = &lb->vips[0],
	    .global = global ? &gl : NULL, .n = n, .start = &start };
	pthread_barrier_init(&start, NULL, nthreads + 1);
	for (i = 0; i < nthreads; i++) {
		w[i] = (struct worker){ .run = &r, .id = i };
		/* Each shard half of max-flows, as lbspd shares it out. */
		w[i].flows = sp_flow_table_new(c->max_flows / nthreads, NULL,
		    key);
		pthread_mutex_init(&w[i].shard, NULL);
		if (w[i].flows == NULL ||
		    pthread_create(&t[i], NULL, work, &w[i]) != 0) {
			fprintf(stderr, "decide: thread %u\n", i);
			exit(1);
		}
	}
	pthread_barrier_wait(&start);
	t0 = now_ns();
	c0 = cpu_ns();
	for (i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	t1 = now_ns();
	c1 = cpu_ns();
	*cpu = (double)n * nthreads / ((double)(c1 - c0) / 1e9);
	*ok = 0;
	for (i = 0; i < nthreads; i++) {
		*ok += w[i].ok;
		sp_flow_table_free(w[i].flows);
		pthread_mutex_destroy(&w[i].shard);
	}
	pthread_barrier_destroy(&start);
	balancer_state_free(lb);
	balancer_stick_free(stick);
	sp_conf_free(c);
	return (double)n * nthreads / ((double)(t1 - t0) / 1e9);
}

int
main(int argc, char **argv)
{
	const char *sched = "rr";
	unsigned long n = 200000, ok;
	unsigned rounds = 3, k, mode, th;
	double sum[2][3] = { { 0 } };	/* [global][threads] */
	double csum[2][3] = { { 0 } };	/* per CPU second */
	double cpu;
	char conf[1024];
	int ch;

	while ((ch = getopt(argc, argv, "n:r:s:")) != -1)
		switch (ch) {
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rounds = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			sched = optarg;
			break;
		default:
			fprintf(stderr, "usage: decide [-n DECISIONS] "
			    "[-r ROUNDS] [-s SCHEDULER]\n");
			return 2;
		}
	if (n == 0 || rounds == 0 || rounds > 100)
		return 2;
	snprintf(conf, sizeof(conf), "role balancer\nmax-flows 4194304\n"
	    "max-stick 4194304\nvip 2001:db8:f::100 {\n"
	    " ports 80\n scheduler %s\n server 2001:db8:5::1\n"
	    " server 2001:db8:5::2\n server 2001:db8:5::3\n"
	    " server 2001:db8:5::4\n server 2001:db8:5::5\n"
	    " server 2001:db8:5::6\n server 2001:db8:5::7\n"
	    " server 2001:db8:5::8\n}\n", sched);
	/* Rounds alternate the four runs, so that a neighbour's load
	 * falls on all of them alike. */
	for (k = 0; k < rounds; k++)
		for (mode = 0; mode < 2; mode++)
			for (th = 1; th <= 2; th++) {
				double r = measure(conf, th, mode == 1, n, &ok,
				    &cpu);

				if (ok != n * th) {
					fprintf(stderr, "decide: %lu of %lu "
					    "decisions forwarded\n", ok, n * th);
					return 1;
				}
				sum[mode][th] += r;
				csum[mode][th] += cpu;
			}
	printf("balancer_decide(), scheduler %s, 8 servers, new sessions "
	    "from random sources; %u rounds of %lu decisions a thread\n",
	    sched, rounds, n);
	for (mode = 0; mode < 2; mode++) {
		printf("%-7s 1 thread: %9.0f decisions/s   2 threads: %9.0f "
		    "decisions/s   ratio %.2f\n", mode ? "global" : "own",
		    sum[mode][1] / rounds, sum[mode][2] / rounds,
		    sum[mode][2] / sum[mode][1]);
		printf("%-7s per CPU second: 1 thread %9.0f, 2 threads %9.0f "
		    "(ratio %.2f: 1.00 = no CPU lost to the locks)\n", "",
		    csum[mode][1] / rounds, csum[mode][2] / rounds,
		    csum[mode][2] / csum[mode][1]);
	}
	if (sysconf(_SC_NPROCESSORS_ONLN) < 3)
		printf("note: %ld CPUs: two threads share them with the rest "
		    "of the host; the per-CPU-second figures describe the "
		    "decision\n", sysconf(_SC_NPROCESSORS_ONLN));
	return 0;
}
