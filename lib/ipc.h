/* SPDX-License-Identifier: MIT */
/*
 * Internal: the Binder command protocol on one thread: sending transactions
 * and waiting for their outcome, serving incoming ones, and every other
 * BR_* return.
 */
#pragma once

#include <stdint.h>

#include "ubinder/ubinder.h"

struct ubinder_thread;

struct held_reply;

/* Processes every BR_* return in the thread's read buffer. */
int ipc_process_input(struct ubinder_thread *ts);
/* Sends @data to @handle and waits for the reply (or completion if oneway). */
int ipc_transact(struct ubinder_thread *ts, uint32_t handle, uint32_t code,
		 struct ubinder_parcel *data, uint32_t flags, struct ubinder_parcel **reply);
/* Frees a reply the thread held (queue_reply), its parcel included. */
void ipc_free_reply(struct held_reply *h);
