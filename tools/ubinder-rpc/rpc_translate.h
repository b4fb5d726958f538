/* SPDX-License-Identifier: MIT */
/*
 * Parcels between kernel form (ubinder_parcel) and RPC form, by layout
 * (rpc_layout.h). The interface token of user-code requests is rewritten
 * (rpc_token_*); binders at the layout's binder fields become addresses or
 * local objects through the caller's object maps; what follows the last
 * field is copied as plain data. A parcel carrying a binder that no layout
 * places is refused with BAD_VALUE, never guessed at. Descriptors are
 * listed in both forms (the offsets array, the object table), so they
 * cross wherever they are, when the session carries them (RPC fd mode
 * Unix): a kernel BINDER_TYPE_FD object becomes the RPC form's i32 2
 * (TYPE_NATIVE_FILE_DESCRIPTOR) and i32 index into the frame's descriptors,
 * listed in its object table; without descriptor transport they are
 * refused with BAD_VALUE.
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
	bool fds; /* descriptors may cross */
};

/* A parcel in RPC form being built: its data, its object table and the
 * descriptors to send with it (the kernel parcel's: valid while it is). */
struct rpc_buf {
	uint8_t *data;
	size_t size, cap;
	uint32_t objects[RPC_MAX_OBJECTS];
	int fds[RPC_MAX_OBJECTS];
	unsigned nobjects;
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
/* RPC form @in, with the @nfds descriptors @fds that came with it, to
 * kernel form @out (a new, empty parcel, which keeps duplicates). */
int rpc_parcel_to_kernel(const struct rpc_layouts *l, struct rpc_parcel_kind *kind,
			 const struct rpc_parcel_view *in, const int *fds, unsigned nfds,
			 const struct rpc_objects *o, ubinder_parcel *out);
