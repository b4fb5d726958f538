/* SPDX-License-Identifier: MIT */
/*
 * The administration channel behind ubinderctl: state and statistics dumps,
 * reclaim on demand, and fault injection for tests. Only root and the
 * daemon's own uid may use it.
 *
 * Owns: the admin role of connections.
 * May call: conn, driver (dumps, shrink), region (fault injection); the
 * daemon's own statistics come through a callback.
 */
#pragma once

#include <sys/types.h>

#include <stdio.h>

#include "daemon/conn.h"
#include "driver/driver.h"

struct admin {
	struct driver *drv;
	uid_t uid; /* the daemon's: it and root may administer */
	/* The daemon's statistics, written before the driver's. */
	void (*dump_stats)(void *ctx, FILE *out);
	/* The daemon's lines about process @pid, written after the driver's. */
	void (*dump_proc)(void *ctx, pid_t pid, FILE *out);
	void *stats_ctx;
	struct conn_role role; /* opened by UBW_ADMIN */
};

void admin_init(struct admin *a, struct driver *drv, uid_t uid,
		void (*dump_stats)(void *ctx, FILE *out),
		void (*dump_proc)(void *ctx, pid_t pid, FILE *out), void *stats_ctx);
