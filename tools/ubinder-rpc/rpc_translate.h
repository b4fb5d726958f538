/* SPDX-License-Identifier: MIT */
/*
 * Parcels between kernel form (ubinder_parcel) and RPC form, by layout
 * (rpc_layout.h). The interface token of user-code requests is rewritten
 * (rpc_token_*); binders at the layout's binder fields become addresses or
 * local objects through the caller's object maps; what follows the last
 * field is copied as plain data. A parcel carrying an object that no
 * layout places is refused with BAD_VALUE, never guessed at; RPC-form
 * data with an object table (descriptors) is refused the same way.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ubinder/ubinder.h>

#include "rpc_layout.h"
#include "rpc_wire.h"

/* The session's object maps, as translation sees them. */
struct rpc_objects {
	void *session;
	/* A local object leaving: its address, counted as sent once more. */
	int (*to_address)(void *session, ubinder_binder *binder, uint64_t *address);
	/* An address arriving: a new reference to the object it stands for
	 * here (a stand-in of interface @descriptor, may be NULL, for the
	 * peer's objects). An error refuses the parcel. */
	int (*from_address)(void *session, uint64_t address, const char *descriptor,
			    ubinder_binder **out);
};

/* A parcel in RPC form being built. */
struct rpc_buf {
	uint8_t *data;
	size_t size, cap;
};

void rpc_buf_free(struct rpc_buf *b);

/*
 * What is being translated: a request of @code (its descriptor is read from
 * its token, for user codes, into *descriptor: malloc'd, NULL without one),
 * or the reply to one (@reply, with the request's *descriptor as input).
 */
struct rpc_parcel_kind {
	uint32_t code;
	bool reply;
	char *descriptor;
};

/* Kernel form @in to RPC form @out. 0, or a status for the caller to
 * answer with (BAD_VALUE). */
int rpc_parcel_to_rpc(const struct rpc_layouts *l, struct rpc_parcel_kind *kind, ubinder_parcel *in,
		      const struct rpc_objects *o, struct rpc_buf *out);
/* RPC form @in to kernel form @out (a new, empty parcel). */
int rpc_parcel_to_kernel(const struct rpc_layouts *l, struct rpc_parcel_kind *kind,
			 const struct rpc_parcel_view *in, const struct rpc_objects *o,
			 ubinder_parcel *out);
