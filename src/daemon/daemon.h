/* SPDX-License-Identifier: MIT */
/*
 * ubinderd's process, the top of the daemon: it builds the modules below
 * and wires them together, opens the context sockets, and runs the loop.
 *
 *   daemon ─▶ admin, glue ─▶ session ─▶ conn, copier ─▶ loop
 *   daemon ─▶ seccomp_supervisor ─▶ seccomp_calls ─▶ seccomp_target ─▶ loop
 *   daemon ─▶ src/fuse (fuse_server ─▶ fuse_files ─▶ copier, loop)
 *   (pressure ─▶ loop; everything that speaks to the core ─▶ driver)
 *
 * One thread runs the loop and owns everything here and in the driver; copy
 * workers (copier.h) only run tasks handed to them.
 *
 * Owns: the listeners, signals, the driver's timer, and the order of init
 * and deinit.
 * May call: every daemon module, driver, common.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "daemon/admin.h"
#include "daemon/assembly.h"
#include "daemon/config.h"
#include "daemon/conn.h"
#include "daemon/copier.h"
#include "daemon/glue.h"
#include "daemon/loop.h"
#include "daemon/quota.h"
#include "daemon/seccomp_supervisor.h"
#include "daemon/session.h"
#include "fuse/fuse_server.h"

struct pressure;

struct daemon {
	struct daemon_config cfg;
	struct loop loop;
	struct conn_hub hub;
	const struct conn_role *roles[4];
	struct uid_quotas quotas;
	struct sessions sessions;
	struct assemblies assemblies;
	struct glue glue;
	struct supervisors supervisors;
	struct fuse_server *fuse; /* --fuse-dev */
	struct admin admin;
	struct pressure *pressure;
	struct driver *drv;
	struct copier copier;
	struct loop_source signal_src;
	struct loop_timer driver_timer; /* BINDER_FREEZE timeouts */
	struct conn_listener listeners[DAEMON_MAX_CONTEXTS];
	size_t nlisteners;
	uid_t uid;
};

int daemon_init(struct daemon *d, const struct daemon_config *cfg);
int daemon_run(struct daemon *d);
void daemon_deinit(struct daemon *d);
