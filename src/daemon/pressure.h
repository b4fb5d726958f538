/* SPDX-License-Identifier: MIT */
/*
 * The shrinker's trigger: memory pressure (PSI). When the system (or the
 * daemon's cgroup) stalls on memory, unused installed pages on the LRU are
 * given back. A PSI trigger on memory.pressure wakes the loop; where a
 * trigger is refused (unprivileged, before Linux 6.4), the daemon polls the
 * pressure averages every few seconds instead.
 *
 * Idle decay: lru pages unused for the driver's lru_decay_ms are released by
 * a timer that runs only while the LRU holds pages (every quarter of the
 * decay time, at least 250 ms), so a page goes back between T and 1.25 T
 * after its last use, and an idle daemon with an empty LRU has no timer.
 *
 * Owns: the PSI trigger or polling timer, and the decay timer.
 * May call: loop, driver (shrink), common/log.
 */
#pragma once

#include "daemon/loop.h"
#include "driver/driver.h"

struct pressure {
	struct loop_source src; /* PSI trigger (EPOLLPRI) or polling timer */
	struct loop *loop;
	struct driver *drv;
	char path[128];
	struct loop_timer decay;
	unsigned int decay_period_ms; /* 0: decay off */
};

/* Arms the trigger or the polling fallback. Never fatal: without PSI, no trigger. */
void pressure_init(struct pressure *p, struct loop *loop, struct driver *drv,
		   unsigned int decay_ms);
/* After each event: arms the decay timer while the LRU holds pages. */
void pressure_update(struct pressure *p);
void pressure_deinit(struct pressure *p);
