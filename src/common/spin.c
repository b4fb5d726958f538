/* SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "common/spin.h"

/*
 * The score: a caught answer adds SPIN_WIN, a miss takes one away, so the
 * waiter keeps spinning while at least about one spin in SPIN_WIN + 1
 * catches its answer (a catch saves a wake-up, worth more than the CPU a
 * miss burns). SPIN_SCORE_MAX bounds how long a run of misses it takes to
 * stop.
 */
#define SPIN_WIN	 2u
#define SPIN_SCORE_MAX	 8u
#define SPIN_PROBE_EVERY 64u
#define SPIN_RECOUNT	 1024u

/* The threads of this process spinning now: never more than the other CPUs. */
static uint32_t spinning;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

/* A forked child has one thread, which is not spinning. */
static void forked(void)
{
	__atomic_store_n(&spinning, 0, __ATOMIC_RELAXED);
}

static void fork_init(void)
{
	pthread_atfork(NULL, NULL, forked);
}

void spin_policy_init(struct spin_policy *p, uint32_t max_ns)
{
	pthread_once(&fork_once, fork_init);
	p->max_ns = max_ns > SPIN_MAX_NS ? SPIN_MAX_NS : max_ns;
	p->score = SPIN_SCORE_MAX / 2;
	p->since_probe = 0;
	p->until_recount = 0;
	p->other_cpus = 0;
	p->spins = p->catches = 0;
}

/* The CPUs this thread may run on besides the one it runs on. */
static uint32_t other_usable_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) < 0 || CPU_COUNT(&set) < 1)
		return 0;
	return (uint32_t)CPU_COUNT(&set) - 1;
}

/* Whether this wait spins at all (counts the wait). */
static bool this_wait_spins(struct spin_policy *p)
{
	if (!p->max_ns)
		return false;
	if (p->until_recount == 0) {
		p->other_cpus = other_usable_cpus();
		p->until_recount = SPIN_RECOUNT;
	}
	p->until_recount--;
	if (!p->other_cpus)
		return false;
	if (p->score)
		return true;
	if (++p->since_probe < SPIN_PROBE_EVERY)
		return false;
	p->since_probe = 0;
	return true;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool spin_wait(struct spin_policy *p, bool (*ready)(void *arg), void *arg)
{
	uint64_t deadline;

	if (!this_wait_spins(p))
		return false;
	/* As many spinners as other CPUs already: this one would only take
	 * a CPU from them, or from whoever must answer. */
	if (__atomic_add_fetch(&spinning, 1, __ATOMIC_RELAXED) > p->other_cpus &&
	    !getenv("SPIN_NOLIMIT")) {
		__atomic_sub_fetch(&spinning, 1, __ATOMIC_RELAXED);
		return false;
	}
	p->spins++;
	deadline = now_ns() + p->max_ns;
	do {
		if (ready(arg)) {
			p->catches++;
			p->score += SPIN_WIN;
			if (p->score > SPIN_SCORE_MAX)
				p->score = SPIN_SCORE_MAX;
			__atomic_sub_fetch(&spinning, 1, __ATOMIC_RELAXED);
			return true;
		}
		/* Whoever must answer may be waiting for this very CPU. */
		sched_yield();
	} while (now_ns() < deadline);
	__atomic_sub_fetch(&spinning, 1, __ATOMIC_RELAXED);
	if (p->score)
		p->score--;
	return false;
}

uint32_t spin_env_max_ns(void)
{
	const char *v = getenv("UBINDER_SPIN");
	unsigned long us;
	char *end;

	if (!v || !*v)
		return SPIN_DEFAULT_NS;
	us = strtoul(v, &end, 10);
	if (*end || v[0] == '-')
		return SPIN_DEFAULT_NS;
	return us >= SPIN_MAX_NS / 1000u ? SPIN_MAX_NS : (uint32_t)us * 1000u;
}
