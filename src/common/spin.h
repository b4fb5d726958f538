/* SPDX-License-Identifier: MIT */
/*
 * Bounded, adaptive spinning before sleeping (docs/architecture.md, "Spinning
 * before sleeping"). A wake-up that crosses to an idle CPU costs tens of
 * microseconds on a virtual machine (the CPU halted and must be woken
 * through the host); a waiter that watches its word a few microseconds
 * longer, on a CPU of its own, catches an answer that comes soon without
 * any wake-up at all.
 *
 * A spin only pays when the one who answers runs on another CPU, so:
 * - never when this thread may run on one CPU only (sched_getaffinity,
 *   counted again every SPIN_RECOUNT waits): there the answer needs this
 *   very CPU, and every spin would delay it;
 * - adaptive: each spin that catches its answer raises a score, each that
 *   does not lowers it; at zero the waiter sleeps at once and tries a spin
 *   again only once every SPIN_PROBE_EVERY waits, so a waiter whose spins
 *   keep failing (a busy machine, answers that take long) pays about
 *   nothing;
 * - bounded: never longer than the policy's max_ns, and only ever while
 *   waiting for something, so an idle program spins not at all;
 * - few: no more threads of a process spin at once than there are other
 *   CPUs (a wait that would be one more sleeps at once), so many waiting
 *   threads do not take the CPUs from the few that work;
 * - yielding: between two looks it calls sched_yield(), so a spinner that
 *   shares its CPU with the one who must answer (three parties to a call
 *   on two CPUs) hands the CPU over at once instead of holding it; when
 *   nobody else wants the CPU a yield is one cheap system call.
 *
 * One policy per waiter (a thread's ring, the daemon's loop); not shared
 * between threads.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The longest spin by default: about the cost of the wake-up it saves. */
#define SPIN_DEFAULT_NS (30u * 1000u)
/* No spin may be longer than this, whatever the configuration says. */
#define SPIN_MAX_NS	(1000u * 1000u)

struct spin_policy {
	uint32_t max_ns;	 /* 0: never spin */
	uint32_t score;		 /* 0..SPIN_SCORE_MAX (spin.c): how well recent spins did */
	uint32_t since_probe;	 /* waits slept at once since the last spin (score 0) */
	uint32_t until_recount;	 /* waits before the usable CPUs are counted again */
	uint32_t other_cpus;	 /* CPUs it may run on besides this one: 0, never spin */
	uint64_t spins, catches; /* spins made; those that saw their answer */
};

/* A policy that spins up to @max_ns (capped at SPIN_MAX_NS; 0: never). */
void spin_policy_init(struct spin_policy *p, uint32_t max_ns);

/*
 * Spins until @ready(@arg) is true or the budget this wait gets is spent:
 * true when @ready was seen true (the caller need not sleep). @ready is
 * called at least once when the policy spins at all, and may be called
 * many times: it must only look (a load), never consume.
 */
bool spin_wait(struct spin_policy *p, bool (*ready)(void *arg), void *arg);

/*
 * The longest spin the environment variable UBINDER_SPIN asks for: unset
 * or empty, SPIN_DEFAULT_NS; "0", never; a number, that many microseconds
 * (capped at SPIN_MAX_NS); anything else, the default.
 */
uint32_t spin_env_max_ns(void);
