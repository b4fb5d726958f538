/* SPDX-License-Identifier: MIT */
/*
 * Why a transaction got BR_DEAD_REPLY (dead_reply.c; causes in stats.h).
 * Every place the driver answers a transaction with BR_DEAD_REPLY names its
 * cause here, so that a caller's DEAD_OBJECT can be traced to the path that
 * sent it: counted per cause for the driver and for the sending process,
 * and logged at debug level.
 */
#pragma once

#include "driver/entities.h"

/*
 * Transaction @debug_id, to or from process @peer_pid (0 if unknown), fails
 * with BR_DEAD_REPLY for @cause; @reader is the process whose thread reads
 * it (the caller of a failed reply), NULL when nobody will.
 */
void dead_reply_note(struct driver *drv, struct proc *reader, pid_t peer_pid, uint64_t debug_id,
		     enum dead_reply_cause cause);
