/* SPDX-License-Identifier: MIT */
/*
 * The shrinker's trigger: memory pressure (PSI). When the system (or the
 * daemon's cgroup) stalls on memory, unused installed pages on the LRU are
 * given back. A PSI trigger on memory.pressure wakes the loop; where a
 * trigger is refused (unprivileged, before Linux 6.4), the daemon polls the
 * pressure averages every few seconds instead.
 */
#pragma once

#include "daemon/daemon.h"

struct pressure {
	struct source src; /* PSI trigger (EPOLLPRI) or polling timer */
	struct daemon *daemon;
	char path[128];
};

/* Arms the trigger or the polling fallback. Never fatal: without PSI, no trigger. */
void pressure_init(struct pressure *p, struct daemon *d);
void pressure_deinit(struct pressure *p);
