/* SPDX-License-Identifier: MIT */
/*
 * The shrinker's trigger: memory pressure (PSI). When the system (or the
 * daemon's cgroup) stalls on memory, unused installed pages on the LRU are
 * given back. A PSI trigger on memory.pressure wakes the loop; where a
 * trigger is refused (unprivileged, before Linux 6.4), the daemon polls the
 * pressure averages every few seconds instead.
 *
 * Owns: the PSI trigger or polling timer.
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
};

/* Arms the trigger or the polling fallback. Never fatal: without PSI, no trigger. */
void pressure_init(struct pressure *p, struct loop *loop, struct driver *drv);
void pressure_deinit(struct pressure *p);
