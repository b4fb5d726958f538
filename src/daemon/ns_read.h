/* SPDX-License-Identifier: MIT */
/* Reads a peer's pid and user namespace view (driver.h: struct ns_view) from /proc. */
#pragma once

#include <sys/types.h>

#include "driver/driver.h"

/* Never fails: without information, the view is the daemon's own (no translation). */
void ns_view_read(pid_t pid, struct ns_view *v);
