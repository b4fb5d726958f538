/* SPDX-License-Identifier: MIT */
/*
 * Internal: local objects and proxies (struct ubinder_binder behind the
 * public ubinder_binder), their driver reference counts and death
 * notifications. Objects are guarded by their context's lock (context.h).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <uthash.h>

#include "ubinder/ubinder.h"

struct flat_binder_object;
struct ubinder_thread;

struct death_link {
	ubinder_death_fn fn;
	void *userdata;
	struct death_link *next;
};

/*
 * A death notification registered with the driver (by cookie). It outlives
 * its proxy until the driver confirms the clear: the cookie is an id, never
 * a pointer, so a late BR_DEAD_BINDER finds this record or nothing.
 */
struct death_reg {
	uint64_t cookie;
	struct ubinder_binder *proxy; /* NULL once the proxy is gone */
	bool clearing;		      /* BC_CLEAR_DEATH_NOTIFICATION queued */
	UT_hash_handle hh;
};

struct ubinder_binder {
	struct ubinder_context *ctx; /* holds a context reference */
	bool local;
	int refs;      /* the caller's strong references, parcels' included */
	int weak_refs; /* the caller's weak references (ubinder_weak), parcels' included */
	bool in_table;
	UT_hash_handle hh; /* ctx->locals by id, or ctx->proxies by handle */

	/* local */
	uint64_t id; /* the node's ptr and cookie: unique, never reused */
	char *descriptor;
	ubinder_handler_fn handler;
	void *userdata;
	void (*destroy)(void *userdata);
	ubinder_dump_fn dump;		  /* DUMP_TRANSACTION, or NULL */
	struct ubinder_binder *extension; /* EXTENSION_TRANSACTION (a reference), or NULL */
	int driver_strong;		  /* BR_ACQUIRE minus BR_RELEASE */
	int driver_weak;		  /* BR_INCREFS minus BR_DECREFS */
	bool pinned;	     /* the context manager's object: the driver never lets go */
	bool requesting_sid; /* sent with FLAT_BINDER_FLAG_TXN_SECURITY_CTX */

	/* remote */
	uint32_t handle;
	bool acquired;	/* BC_ACQUIRE sent: BC_RELEASE when the last strong reference goes */
	bool weak_held; /* BC_INCREFS sent: BC_DECREFS when the last reference of any kind goes */
	bool dead;
	struct death_reg *death; /* registered notification, or NULL */
	struct death_link *links;
};

/* A new reference (strong, or weak with @weak) to the local object with
 * this id, or NULL. */
struct ubinder_binder *object_find_local(struct ubinder_context *ctx, uint64_t id, bool weak);
/* A new reference (strong, or weak with @weak) to the proxy for @handle,
 * created if needed; the driver counts it needs are queued through @ts. */
int object_get_proxy(struct ubinder_context *ctx, struct ubinder_thread *ts, uint32_t handle,
		     bool weak, struct ubinder_binder **out);
/* A new reference (strong, or weak for a weak object) to what a received
 * object names: a local object if its ptr and cookie are ours (logged and
 * NULL if not), or the proxy for its handle; NULL on failure. */
struct ubinder_binder *object_resolve(struct ubinder_context *ctx, struct ubinder_thread *ts,
				      const struct flat_binder_object *obj);
/* A new strong reference to the local object a transaction is for, or NULL. */
struct ubinder_binder *object_find_target(struct ubinder_context *ctx, uint64_t id);
/* Calls a local object's handler, or answers PING/INTERFACE. */
int object_dispatch(struct ubinder_binder *obj, const struct ubinder_call *call,
		    struct ubinder_parcel *data, struct ubinder_parcel *reply);
/*
 * A BR_* return about objects: the driver's counts of node @ptr/@cookie
 * (BR_INCREFS, BR_ACQUIRE, BR_RELEASE, BR_DECREFS), or the death
 * notification @cookie (BR_DEAD_BINDER, BR_CLEAR_DEATH_NOTIFICATION_DONE;
 * @ptr is unused).
 */
void object_return(struct ubinder_thread *ts, uint32_t cmd, uint64_t ptr, uint64_t cookie);
/* The context closed: let go of what the driver held. */
void object_context_closed(struct ubinder_context *ctx);
