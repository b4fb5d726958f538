/* SPDX-License-Identifier: MIT */
/*
 * Reply promises: the driver's half of the local completion (docs/protocol.md,
 * "The local completion"; the public calls are in driver.h).
 *
 * A thread that must answer a synchronous transaction is promised that a
 * plain reply of at most N bytes (BC_FREE_BUFFERs, then one BC_REPLY without
 * objects) followed by a read returns exactly [BR_NOOP,
 * BR_TRANSACTION_COMPLETE]. The promise is true of the driver's state when
 * it is made, and holds as long as that state does not change: the daemon
 * closes it before any other driver operation. So the caller's region keeps
 * a reserved room for the reply (the only part of the state a reply's own
 * success depends on that other operations would not change), and the
 * promise is refused whenever the replier's own frees could change its
 * read: a buffer of its process holds fd-array descriptors (freeing it
 * closes them in the replier) or a BR_SPAWN_LOOPER could become due.
 *
 * Owns: thread->promised_room and txn_buffer.promised_to.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "driver/entities.h"

/*
 * For the BC_REPLY of a promised write (bwr.promised) to @target: the
 * promised room, trimmed to these sizes, now the reply's buffer; NULL when
 * there is none (the reply allocates as usual).
 */
struct txn_buffer *reply_promise_take(struct thread *thread, const struct proc *target,
				      uint64_t data_size, uint64_t offsets_size,
				      uint64_t extra_size);
