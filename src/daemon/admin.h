/* SPDX-License-Identifier: MIT */
/*
 * The administration channel behind ubinderctl: state and statistics dumps,
 * reclaim on demand, and fault injection for tests. Only root and the
 * daemon's own uid may use it.
 *
 * Owns: the admin role of connections.
 * May call: conn, copier (its statistics), driver (dumps, shrink), region
 * (fault injection).
 */
#pragma once

#include <sys/types.h>

#include "daemon/conn.h"
#include "daemon/copier.h"
#include "driver/driver.h"

struct admin {
	struct driver *drv;
	struct copier *copier;
	uid_t uid;	       /* the daemon's: it and root may administer */
	struct conn_role role; /* opened by UBW_ADMIN */
};

void admin_init(struct admin *a, struct driver *drv, struct copier *copier, uid_t uid);
