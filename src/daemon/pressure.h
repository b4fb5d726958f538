/* SPDX-License-Identifier: MIT */
/*
 * The shrinker's trigger: memory pressure. When the system or the daemon's
 * cgroup is short of memory, every unused installed page on the LRU is given
 * back. Two signals, each where the kernel offers it:
 *   - PSI: a trigger on the memory.pressure of the daemon's v2 cgroup, else
 *     of the system; where a trigger is refused (unprivileged, before Linux
 *     6.4), the daemon polls the pressure averages every few seconds instead;
 *   - cgroup v1: the memory cgroup's reclaim notification (an eventfd on
 *     memory.pressure_level), which fires on reclaim inside the cgroup, where
 *     PSI would only see the system as a whole.
 * It also gives the driver the cgroup's headroom (src/daemon/memcg.h), so
 * that installs take lru pages back before they would push the cgroup over
 * its limit, and fail the call rather than wake the OOM killer.
 *
 * Idle decay: lru pages unused for the driver's lru_decay_ms are released by
 * a timer that runs only while the LRU holds pages (every quarter of the
 * decay time, at least 250 ms), so a page goes back between T and 1.25 T
 * after its last use. A tick that finds the LRU empty disarms it: an idle
 * daemon with an empty LRU has no timer after one more period.
 *
 * Owns: the PSI trigger or polling timer, the v1 eventfd, the memcg, and
 * the decay timer.
 * May call: loop, memcg, driver (shrink, headroom hook), common/log.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "daemon/loop.h"
#include "daemon/memcg.h"
#include "driver/driver.h"

enum pressure_source {
	PRESSURE_PSI,	/* the PSI trigger fired */
	PRESSURE_MEMCG, /* the v1 memory cgroup's reclaim notification */
	PRESSURE_POLL,	/* the polled PSI average crossed the threshold */
	PRESSURE_SOURCES
};

/* "psi", "memcg", "poll". */
extern const char *const pressure_source_names[PRESSURE_SOURCES];

struct pressure_stats {
	uint64_t events[PRESSURE_SOURCES];
	uint64_t pages_released;
	uint64_t last_drain_us, max_drain_us; /* event handled to LRU empty */
};

struct pressure {
	struct loop_source src;	      /* PSI trigger (EPOLLPRI) or polling timer */
	struct loop_source memcg_src; /* v1 memory.pressure_level eventfd */
	struct loop *loop;
	struct driver *drv;
	struct memcg memcg;
	char path[300];
	bool polling;
	struct loop_timer decay;
	unsigned int decay_period_ms; /* 0: decay off */
	struct pressure_stats stats;
};

/* Arms the trigger or the polling fallback, the v1 cgroup's notification, and the
 * driver's headroom check against the cgroup's limit. Never fatal. */
void pressure_init(struct pressure *p, struct loop *loop, struct driver *drv,
		   unsigned int decay_ms);
/* After each turn of the loop: arms the decay timer if the LRU holds pages
 * (the timer's own tick disarms it). */
void pressure_update(struct pressure *p);
void pressure_deinit(struct pressure *p);
/* The `pressure ...:` lines of the stats. */
void pressure_dump_stats(const struct pressure *p, FILE *out);
