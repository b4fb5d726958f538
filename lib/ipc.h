/* SPDX-License-Identifier: MIT */
/*
 * Internal: the Binder command protocol on one thread: sending transactions
 * and waiting for their outcome, serving incoming ones, and every other
 * BR_* return.
 */
#pragma once

#include <stdint.h>

#include "ubinder/ubinder.h"

struct flat_binder_object;
struct ubinder_context;
struct ubinder_thread;

struct held_reply;

/*
 * What ipc hands up to the objects (object.c), wired by context.c into
 * ctx->objects: ipc calls nothing of object.c directly.
 */
struct ipc_object_upcalls {
	/* A new reference to what a received object names (a local object, if
	 * its ptr and cookie are ours, or the proxy for its handle), or NULL. */
	struct ubinder_binder *(*resolve)(struct ubinder_context *ctx, struct ubinder_thread *ts,
					  const struct flat_binder_object *obj);
	/* A new strong reference to the local object with this id, or NULL. */
	struct ubinder_binder *(*find_target)(struct ubinder_context *ctx, uint64_t id);
	/* Calls a local object's handler (or its default transactions). */
	int (*dispatch)(struct ubinder_binder *obj, const struct ubinder_call *call,
			struct ubinder_parcel *data, struct ubinder_parcel *reply);
	/* Drops a reference find_target() gave. */
	void (*unref)(struct ubinder_binder *obj);
	/* A BR_* return about objects (object_return() in object.h). */
	void (*returned)(struct ubinder_thread *ts, uint32_t cmd, uint64_t ptr, uint64_t cookie);
};

/* Processes every BR_* return in the thread's read buffer. */
int ipc_process_input(struct ubinder_thread *ts);
/* Sends @data to @handle and waits for the reply (or completion if oneway). */
int ipc_transact(struct ubinder_thread *ts, uint32_t handle, uint32_t code,
		 struct ubinder_parcel *data, uint32_t flags, struct ubinder_parcel **reply);
/* Frees a reply the thread held (queue_reply), its parcel included. */
void ipc_free_reply(struct held_reply *h);
